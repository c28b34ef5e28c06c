//! Encryption and decryption of pass entries.
//!
//! Both run `gpg` directly, without a shell, bounded in time. gpgme was measured against it and
//! is slower by construction: before any operation it runs `gpgconf --list-dirs`,
//! `gpgconf --list-components` and `--version` of gpg, gpgsm and gpgconf (about 14 ms per get
//! here, against 5.5 ms for `gpg -d`); its global flag `disable-gpgconf` removes all but
//! `gpg --version` (about 10 ms), which gpgme always runs to learn the engine's version. Being a
//! C library, it also kept the helpers from being linked statically, which saves a quarter of a
//! millisecond on every call (see the README).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use credhelper::{Error, Secret};

use credhelper::os::child::{self, RunError};
use credhelper::os::env::{self, Prompter};

/// Environment: the gpg program to run (default `gpg`).
pub const GPG_ENV: &str = "DOCKER_CREDENTIAL_PASS_GPG";
/// Environment: `never` forbids passphrase prompts even with a terminal; `auto` (default) allows
/// them only when a terminal or a display is there to show them.
pub const PINENTRY_ENV: &str = "DOCKER_CREDENTIAL_PASS_PINENTRY";
/// Environment: seconds to wait for gpg (default 10, or 120 when a prompt is possible).
pub const TIMEOUT_ENV: &str = "DOCKER_CREDENTIAL_PASS_TIMEOUT";

/// Whether gpg-agent may show a passphrase prompt. Without a terminal or a display a pinentry
/// would wait for nobody, so the agent is told to fail at once instead.
fn may_prompt() -> bool {
    match std::env::var(PINENTRY_ENV).as_deref() {
        Ok("never") => false,
        Ok("always") => true,
        _ => env::may_prompt(Prompter::DisplayOrTerminal),
    }
}

fn time_limit(prompt: bool) -> Duration {
    let default = Duration::from_secs(if prompt { 120 } else { 10 });
    env::seconds(TIMEOUT_ENV, default)
}

/// Decrypts one `.gpg` file of the store.
pub fn decrypt(path: &Path) -> Result<Secret, Error> {
    let out = run_gpg_decrypt(path, true)?;
    if !out.success() {
        // `--quiet` saves a millisecond on every get but hides why gpg failed (a locked key and
        // a missing one look alike), so a failure is run once more, verbosely, to tell them apart.
        let verbose = run_gpg_decrypt(path, false)?;
        return Err(decrypt_error(path, &verbose.stderr));
    }
    let bytes = out.stdout;
    std::str::from_utf8(&bytes)
        .map(|s| Secret::new(s.to_string()))
        .map_err(|_| Error::backend(format!("{} does not hold UTF-8 text", path.display())))
}

fn run_gpg_decrypt(path: &Path, quiet: bool) -> Result<child::Output, Error> {
    let prompt = may_prompt();
    let gpg = std::env::var_os(GPG_ENV).unwrap_or_else(|| "gpg".into());
    let mut cmd = Command::new(&gpg);
    cmd.arg("--batch");
    if quiet {
        cmd.arg("--quiet");
    } else {
        cmd.args(["--status-fd", "2"]);
    }
    if !prompt {
        cmd.args(["--no-tty", "--pinentry-mode", "error"]);
    }
    cmd.arg("--decrypt").arg("--").arg(path);
    let limit = time_limit(prompt);
    child::run(cmd, &[], limit).map_err(|e| match e {
        RunError::Spawn(e) => Error::backend(format!(
            "cannot run {}: {e} (install gnupg, or set {GPG_ENV})",
            gpg.to_string_lossy()
        )),
        RunError::Timeout(d) => Error::backend(format!(
            "gpg did not finish decrypting {} within {} s: is gpg-agent waiting for a passphrase? Unlock the key in a terminal (`pass show` any entry) or raise {TIMEOUT_ENV}",
            path.display(),
            d.as_secs()
        )),
    })
}

/// Turns gpg's status lines into the one message that tells the user what to do.
fn decrypt_error(path: &Path, stderr: &str) -> Error {
    let status = |word: &str| {
        stderr
            .lines()
            .filter_map(|l| l.strip_prefix("[GNUPG:] "))
            .any(|l| l.split(' ').next() == Some(word))
    };
    // gpg-agent's error codes: 85 no pinentry, 86 pinentry failed, 99 cancelled, 11 bad passphrase.
    let locked = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("[GNUPG:] ERROR pkdecrypt_failed "))
        .filter_map(|code| code.trim().parse::<u32>().ok())
        .any(|code| matches!(code & 0xffff, 85 | 86 | 99 | 11));
    let file = path.display();
    if locked {
        Error::backend(format!(
            "cannot decrypt {file}: the gpg key is locked and no passphrase prompt is possible here; unlock it first (run `pass show` on any entry in a terminal, or use gpg-preset-passphrase)"
        ))
    } else if status("NODATA") {
        Error::backend(format!("cannot decrypt {file}: it is not gpg data"))
    } else if status("NO_SECKEY") || status("DECRYPTION_FAILED") {
        Error::backend(format!(
            "cannot decrypt {file}: no secret key for it in this GNUPGHOME"
        ))
    } else {
        let msg: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("gpg: "))
            .map(|l| l.trim_start_matches("gpg: "))
            .collect();
        Error::backend(format!("cannot decrypt {file}: gpg: {}", msg.join("; ")))
    }
}

/// Encrypts `plain` to every recipient (key ids, fingerprints or user ids as in `.gpg-id`), as
/// `pass insert` does: binary output, no compression, no default recipients. The plaintext goes
/// through stdin, never argv.
pub fn encrypt(recipients: &[String], plain: &Secret) -> Result<Vec<u8>, Error> {
    let gpg = std::env::var_os(GPG_ENV).unwrap_or_else(|| "gpg".into());
    let mut cmd = Command::new(&gpg);
    cmd.args([
        "--batch",
        "--quiet",
        "--yes",
        "--no-tty",
        "--compress-algo=none",
        "--no-encrypt-to",
        // Recipients are looked up in the local keyring only: never a network call (WKD).
        "--auto-key-locate",
        "local",
        // The recipients are the user's explicit choice in .gpg-id, as with pass; the web of
        // trust is not consulted (pass users often list keys they never certified).
        "--trust-model",
        "always",
        "--encrypt",
    ]);
    for r in recipients {
        cmd.arg("--recipient").arg(r);
    }
    cmd.args(["--output", "-"]);
    let out =
        child::run(cmd, plain.expose().as_bytes(), time_limit(false)).map_err(|e| match e {
            RunError::Spawn(e) => Error::backend(format!(
                "cannot run {}: {e} (install gnupg, or set {GPG_ENV})",
                gpg.to_string_lossy()
            )),
            RunError::Timeout(d) => Error::backend(format!(
                "gpg did not finish encrypting within {} s",
                d.as_secs()
            )),
        })?;
    if !out.success() || out.stdout.is_empty() {
        let msg: Vec<&str> = out
            .stderr
            .lines()
            .map(|l| l.trim_start_matches("gpg: "))
            .collect();
        return Err(Error::backend(format!(
            "gpg cannot encrypt to {} (from .gpg-id or PASSWORD_STORE_KEY): {}; import the public key or run `pass init` again",
            recipients.join(", "),
            msg.join("; ")
        )));
    }
    Ok(out.stdout.to_vec())
}

//! Encryption and decryption of pass entries.
//!
//! Both run `gpg` directly, without a shell, bounded in time. gpgme was measured against it and
//! is slower by construction: before any operation it runs `gpgconf --list-dirs`,
//! `gpgconf --list-components` and `--version` of gpg, gpgsm and gpgconf (about 14 ms per get
//! here, against 5.5 ms for `gpg -d`); its global flag `disable-gpgconf` removes all but
//! `gpg --version` (about 10 ms), which gpgme always runs to learn the engine's version.
//!
//! A decryption succeeds only when gpg's status lines say it did (`DECRYPTION_OKAY`, no
//! `DECRYPTION_FAILED`, no `BADMDC`, and as many bytes as `PLAINTEXT_LENGTH` announced), never
//! from the exit code alone: gpg exits 0 with no output for a file cut short. Why it failed is
//! read from the same run's status lines: one run, so at most one passphrase prompt.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use credhelper::Secret;
use credhelper::os::child::{self, Ending, RunError};
use credhelper::os::env::{self, Prompter};

use crate::turn::{Busy, Turn};

/// Environment: the gpg program to run (default `gpg`).
pub const GPG_ENV: &str = "DOCKER_CREDENTIAL_PASS_GPG";
/// Environment: `never` forbids passphrase prompts even with a terminal; `auto` (default) allows
/// them only when a terminal or a display is there to show them.
pub const PINENTRY_ENV: &str = "DOCKER_CREDENTIAL_PASS_PINENTRY";
/// Environment: seconds to wait for gpg (default 10, or 120 when a prompt is possible).
pub const TIMEOUT_ENV: &str = "DOCKER_CREDENTIAL_PASS_TIMEOUT";

/// What to do about a locked key, in every message that reports one.
const UNLOCK_HINT: &str =
    "unlock it first (run `pass show` on any entry in a terminal, or use gpg-preset-passphrase)";

/// Why gpg did not encrypt or decrypt. Each message names the entry and what to do; none holds
/// a secret (gpg's stderr never holds the plaintext, and the plaintext goes through stdin).
#[derive(Debug, thiserror::Error)]
pub enum GpgError {
    /// gpg could not be started.
    #[error("cannot run {program}: {source} (install gnupg, or set {GPG_ENV})")]
    Spawn {
        /// The program we tried.
        program: String,
        /// Why it did not start.
        source: std::io::Error,
    },
    /// gpg did not finish decrypting in time (a prompt nobody answers, a hung agent).
    #[error(
        "gpg did not finish decrypting {} within {secs} s: is gpg-agent waiting for a passphrase? Unlock the key in a terminal (`pass show` any entry) or raise {TIMEOUT_ENV}",
        file.display()
    )]
    DecryptTimeout {
        /// The entry.
        file: PathBuf,
        /// The bound.
        secs: f64,
    },
    /// gpg did not finish checking a signature in time.
    #[error("gpg did not finish checking a signature within {secs} s (raise {TIMEOUT_ENV})")]
    VerifyTimeout {
        /// The bound.
        secs: f64,
    },
    /// gpg did not finish encrypting in time.
    #[error("gpg did not finish encrypting within {secs} s (raise {TIMEOUT_ENV})")]
    EncryptTimeout {
        /// The bound.
        secs: f64,
    },
    /// Our other gpg runs kept the gpg home for the whole bound.
    #[error(transparent)]
    Busy(#[from] Busy),
    /// gpg crashed or was killed.
    #[error("gpg crashed while {doing}: it was {ending}")]
    Crashed {
        /// What it was doing, e.g. `decrypting /…/u.gpg`.
        doing: String,
        /// How it ended.
        ending: Ending,
    },
    /// The key is locked and no prompt could be shown (no terminal, no display, or
    /// `DOCKER_CREDENTIAL_PASS_PINENTRY=never`).
    #[error(
        "cannot decrypt {}: the gpg key is locked and no passphrase prompt is possible here; {UNLOCK_HINT}",
        file.display()
    )]
    Locked {
        /// The entry.
        file: PathBuf,
    },
    /// The prompt was shown, but pinentry failed (e.g. `Inappropriate ioctl for device` when it
    /// has no terminal to draw on).
    #[error(
        "cannot decrypt {}: the gpg key is locked and gpg-agent's passphrase prompt failed (gpg error {code}{}); {UNLOCK_HINT}",
        file.display(),
        pinentry_reason(*code)
    )]
    PinentryFailed {
        /// The entry.
        file: PathBuf,
        /// gpg-agent's error code.
        code: u32,
    },
    /// Somebody cancelled the passphrase prompt.
    #[error("cannot decrypt {}: the passphrase prompt was cancelled", file.display())]
    Cancelled {
        /// The entry.
        file: PathBuf,
    },
    /// The passphrase was wrong.
    #[error("cannot decrypt {}: wrong passphrase for the gpg key", file.display())]
    BadPassphrase {
        /// The entry.
        file: PathBuf,
    },
    /// The file is not OpenPGP data at all.
    #[error("cannot decrypt {}: it is not gpg data", file.display())]
    NotGpgData {
        /// The entry.
        file: PathBuf,
    },
    /// The file starts like an encrypted entry but holds no complete message (cut short).
    #[error(
        "cannot decrypt {}: it is truncated or damaged (gpg decrypted nothing); store the credentials again",
        file.display()
    )]
    Incomplete {
        /// The entry.
        file: PathBuf,
    },
    /// The integrity check failed: the file was changed or damaged.
    #[error(
        "cannot decrypt {}: its integrity check failed (the file was modified or damaged)",
        file.display()
    )]
    BadIntegrity {
        /// The entry.
        file: PathBuf,
    },
    /// gpg could not reach gpg-agent (which holds every secret key): a read-only GNUPGHOME, a
    /// socket directory it cannot make. gpg then says "No secret key", which would send the user
    /// looking for a key that is there.
    #[error(
        "cannot decrypt {}: gpg cannot connect to gpg-agent ({reason}); check that GNUPGHOME is writable and gpg-agent can start",
        file.display()
    )]
    NoAgent {
        /// The entry.
        file: PathBuf,
        /// gpg's reason, e.g. `Read-only file system`.
        reason: String,
    },
    /// None of the keys it is encrypted to has a secret key here.
    #[error("cannot decrypt {}: no secret key for it in this GNUPGHOME", file.display())]
    NoSecretKey {
        /// The entry.
        file: PathBuf,
    },
    /// Anything else gpg reported.
    #[error("cannot decrypt {}: gpg: {reason}", file.display())]
    DecryptFailed {
        /// The entry.
        file: PathBuf,
        /// gpg's own messages.
        reason: String,
    },
    /// The plaintext is not UTF-8 (the protocol carries text).
    #[error("{} does not hold UTF-8 text", file.display())]
    NotUtf8 {
        /// The entry.
        file: PathBuf,
    },
    /// gpg could not encrypt to the store's recipients.
    #[error(
        "gpg cannot encrypt to {recipients} (from .gpg-id or PASSWORD_STORE_KEY): {reason}; import the public key or run `pass init` again"
    )]
    Encrypt {
        /// The recipients, comma-separated.
        recipients: String,
        /// gpg's own messages.
        reason: String,
    },
}

/// What gpg-agent's error code says about the prompt, when we know.
fn pinentry_reason(code: u32) -> &'static str {
    match code & 0xffff {
        32870 => ": pinentry has no terminal to prompt on (Inappropriate ioctl for device)",
        86 => ": the pinentry program failed",
        _ => "",
    }
}

/// Whether gpg-agent may show a passphrase prompt. Without a terminal or a display a pinentry
/// would wait for nobody, so the agent is told to fail at once instead.
pub(crate) fn may_prompt() -> bool {
    match std::env::var(PINENTRY_ENV).as_deref() {
        Ok("never") => false,
        Ok("always") => true,
        _ => env::may_prompt(Prompter::DisplayOrTerminal),
    }
}

pub(crate) fn time_limit(prompt: bool) -> Duration {
    let default = Duration::from_secs(if prompt { 120 } else { 10 });
    env::seconds(TIMEOUT_ENV, default)
}

pub(crate) fn program() -> std::ffi::OsString {
    std::env::var_os(GPG_ENV).unwrap_or_else(|| "gpg".into())
}

/// gpg's status lines (`[GNUPG:] KEYWORD args…`) from one run.
struct Status<'a>(Vec<(&'a str, &'a str)>);

impl<'a> Status<'a> {
    fn parse(stderr: &'a str) -> Status<'a> {
        Status(
            stderr
                .lines()
                .filter_map(|l| l.strip_prefix("[GNUPG:] "))
                .map(|l| l.split_once(' ').unwrap_or((l, "")))
                .collect(),
        )
    }

    fn has(&self, keyword: &str) -> bool {
        self.0.iter().any(|(k, _)| *k == keyword)
    }

    fn args(&self, keyword: &str) -> Option<&'a str> {
        self.0.iter().find(|(k, _)| *k == keyword).map(|(_, a)| *a)
    }

    /// The codes of every `NODATA <code>` line.
    fn nodata(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.0
            .iter()
            .filter(|(k, _)| *k == "NODATA")
            .map(|(_, a)| a.trim())
    }

    /// The code of `ERROR pkdecrypt_failed <code>`: why the session key was not decrypted.
    fn pkdecrypt_error(&self) -> Option<u32> {
        self.0
            .iter()
            .filter(|(k, _)| *k == "ERROR")
            .filter_map(|(_, a)| a.strip_prefix("pkdecrypt_failed "))
            .find_map(|code| code.trim().parse().ok())
    }
}

/// Decrypts one `.gpg` file of the store.
pub fn decrypt(path: &Path) -> Result<Secret, GpgError> {
    let prompt = may_prompt();
    let gpg = program();
    let mut cmd = Command::new(&gpg);
    // Not --quiet: it also silences the `ERROR pkdecrypt_failed` status line that tells a locked
    // key from a missing one. What made a verbose run slow (≈ 4.5 ms more CPU, measured with
    // `perf stat -r 100`) was the automatic trustdb check, which decrypting never needs.
    cmd.args(["--batch", "--no-auto-check-trustdb", "--status-fd", "2"]);
    if !prompt {
        cmd.args(["--no-tty", "--pinentry-mode", "error"]);
    }
    cmd.arg("--decrypt").arg("--").arg(path);
    let limit = time_limit(prompt);
    let turn = if prompt {
        Turn::none(limit)
    } else {
        Turn::take(limit)?
    };
    let out = child::run(cmd, &[], turn.remaining()).map_err(|e| match e {
        RunError::Spawn(source) => GpgError::Spawn {
            program: gpg.to_string_lossy().into_owned(),
            source,
        },
        RunError::Timeout(_) => match turn.busy_for(limit) {
            Some(busy) => busy.into(),
            None => GpgError::DecryptTimeout {
                file: path.to_path_buf(),
                secs: limit.as_secs_f64(),
            },
        },
    })?;
    drop(turn);
    if out.ending().signal().is_some() {
        return Err(GpgError::Crashed {
            doing: format!("decrypting {}", path.display()),
            ending: out.ending(),
        });
    }
    let status = Status::parse(&out.stderr);
    let file = || path.to_path_buf();
    let complete = out.success()
        && status.has("DECRYPTION_OKAY")
        && !status.has("DECRYPTION_FAILED")
        && !status.has("BADMDC")
        && status
            .args("PLAINTEXT_LENGTH")
            .and_then(|n| n.trim().parse::<usize>().ok())
            .is_none_or(|n| n == out.stdout.len());
    if complete {
        return std::str::from_utf8(&out.stdout)
            .map(|s| Secret::new(s.to_string()))
            .map_err(|_| GpgError::NotUtf8 { file: file() });
    }
    // gpg-agent's codes (libgpg-error): 85 no pinentry, 86 pinentry failed, 99 and 198
    // cancelled, 11 bad passphrase, 32870 ENOTTY (pinentry-curses with no terminal).
    Err(match status.pkdecrypt_error() {
        Some(code) if code & 0xffff == 85 => GpgError::Locked { file: file() },
        Some(code) if matches!(code & 0xffff, 86 | 32870) => {
            GpgError::PinentryFailed { file: file(), code }
        }
        Some(code) if matches!(code & 0xffff, 99 | 198) => GpgError::Cancelled { file: file() },
        Some(code) if code & 0xffff == 11 => GpgError::BadPassphrase { file: file() },
        _ if status.has("BADMDC") => GpgError::BadIntegrity { file: file() },
        _ if let Some(reason) = agent_unreachable(&out.stderr) => GpgError::NoAgent {
            file: file(),
            reason: reason.to_string(),
        },
        _ if status.has("NO_SECKEY") && !status.has("DECRYPTION_OKAY") => {
            GpgError::NoSecretKey { file: file() }
        }
        // NODATA 1 (no armored data) or 2 (no packet where one was expected) with no ENC_TO:
        // not OpenPGP at all. NODATA 3 (an invalid packet), or a "success" that decrypted
        // nothing: a message cut short.
        _ if !status.has("ENC_TO") && status.nodata().any(|code| code == "1" || code == "2") => {
            GpgError::NotGpgData { file: file() }
        }
        _ if out.success() || status.has("NODATA") => GpgError::Incomplete { file: file() },
        _ => GpgError::DecryptFailed {
            file: file(),
            reason: gpg_messages(&out.stderr),
        },
    })
}

/// gpg's reason when it could not connect to gpg-agent (it prints no status line for it). gpg
/// runs here in the user's locale; in another language this finds nothing and gpg's "No secret
/// key" is reported as before.
fn agent_unreachable(stderr: &str) -> Option<&str> {
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("gpg: can't connect to the agent: "))
        .map(str::trim)
}

/// gpg's own messages (not its status lines), joined on one line.
fn gpg_messages(stderr: &str) -> String {
    let msg: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.starts_with("[GNUPG:] "))
        .map(|l| l.trim_start_matches("gpg: ").trim())
        .filter(|l| !l.is_empty())
        .collect();
    msg.join("; ")
}

/// The fingerprints of the keys that made a good signature `sig` over `file`: for each
/// `VALIDSIG`, the signing key's and its primary key's, as pass's `verify_file` reads them.
pub fn good_signers(file: &Path, sig: &Path) -> Result<Vec<String>, GpgError> {
    let gpg = program();
    let mut cmd = Command::new(&gpg);
    cmd.args(["--batch", "--no-tty", "--status-fd", "2", "--verify", "--"])
        .arg(sig)
        .arg(file);
    let limit = time_limit(false);
    let turn = Turn::take(limit)?;
    let out = child::run(cmd, &[], turn.remaining()).map_err(|e| match e {
        RunError::Spawn(source) => GpgError::Spawn {
            program: gpg.to_string_lossy().into_owned(),
            source,
        },
        RunError::Timeout(_) => match turn.busy_for(limit) {
            Some(busy) => busy.into(),
            None => GpgError::VerifyTimeout {
                secs: limit.as_secs_f64(),
            },
        },
    })?;
    drop(turn);
    if out.ending().signal().is_some() {
        return Err(GpgError::Crashed {
            doing: format!("verifying {}", sig.display()),
            ending: out.ending(),
        });
    }
    let status = Status::parse(&out.stderr);
    Ok(status
        .0
        .iter()
        .filter(|(k, _)| *k == "VALIDSIG")
        .flat_map(|(_, args)| {
            let fields: Vec<&str> = args.split(' ').collect();
            [fields.first().copied(), fields.last().copied()]
        })
        .flatten()
        .map(str::to_string)
        .collect())
}

/// Encrypts `plain` to every recipient (key ids, fingerprints or user ids as in `.gpg-id`), as
/// `pass insert` does: binary output, no compression, no default recipients. The plaintext goes
/// through stdin, never argv.
pub fn encrypt(recipients: &[String], plain: &Secret) -> Result<Vec<u8>, GpgError> {
    let gpg = program();
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
    let limit = time_limit(false);
    let turn = Turn::take(limit)?;
    let out =
        child::run(cmd, plain.expose().as_bytes(), turn.remaining()).map_err(|e| match e {
            RunError::Spawn(source) => GpgError::Spawn {
                program: gpg.to_string_lossy().into_owned(),
                source,
            },
            RunError::Timeout(_) => match turn.busy_for(limit) {
                Some(busy) => busy.into(),
                None => GpgError::EncryptTimeout {
                    secs: limit.as_secs_f64(),
                },
            },
        })?;
    drop(turn);
    if out.ending().signal().is_some() {
        return Err(GpgError::Crashed {
            doing: "encrypting".to_string(),
            ending: out.ending(),
        });
    }
    if !out.success() || out.stdout.is_empty() {
        return Err(GpgError::Encrypt {
            recipients: recipients.join(", "),
            reason: gpg_messages(&out.stderr),
        });
    }
    Ok(out.stdout.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_agent_is_told_from_a_missing_key() {
        // What gpg 2.2.40 printed with GNUPGHOME mounted read-only.
        let stderr = "[GNUPG:] ENC_TO B480558939DE0C66 1 0\n\
            gpg: failed to create temporary file '/g/.#lk0x1.vm.2': Read-only file system\n\
            gpg: can't connect to the agent: Read-only file system\n\
            [GNUPG:] NO_SECKEY B480558939DE0C66\n\
            gpg: decryption failed: No secret key\n";
        assert_eq!(agent_unreachable(stderr), Some("Read-only file system"));
        assert_eq!(
            agent_unreachable("[GNUPG:] NO_SECKEY 1\ngpg: decryption failed: No secret key\n"),
            None
        );
    }

    #[test]
    fn status_lines_are_read_from_stderr() {
        let stderr = "gpg: encrypted with 255-bit ECDH key\n[GNUPG:] ENC_TO 1A 18 0\n\
                      [GNUPG:] ERROR pkdecrypt_failed 83918950\n[GNUPG:] DECRYPTION_FAILED\n";
        let s = Status::parse(stderr);
        assert!(s.has("ENC_TO") && s.has("DECRYPTION_FAILED") && !s.has("NODATA"));
        assert_eq!(s.pkdecrypt_error(), Some(83918950));
        assert_eq!(83918950 & 0xffff, 32870, "ENOTTY, from pinentry");
        assert_eq!(gpg_messages(stderr), "encrypted with 255-bit ECDH key");
    }
}

//! gpg keys and a pass store in a sandbox.

use std::time::Duration;

use crate::proc::run_timed;
use crate::sandbox::Sandbox;

/// The passphrase of [`locked_key`].
pub const LOCKED_PASSPHRASE: &str = "correct horse battery staple";

fn generate(sb: &Sandbox, name: &str, email: &str, passphrase: Option<&str>) -> String {
    let protection = match passphrase {
        Some(p) => format!("Passphrase: {p}\n"),
        None => "%no-protection\n".to_string(),
    };
    let params = format!(
        "Key-Type: eddsa\nKey-Curve: ed25519\nKey-Usage: sign\nSubkey-Type: ecdh\n\
         Subkey-Curve: cv25519\nSubkey-Usage: encrypt\nName-Real: {name}\nName-Email: {email}\n\
         Expire-Date: 0\n{protection}%commit\n"
    );
    let out = sb.run(
        "gpg",
        &[
            "--batch",
            "--quiet",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            passphrase.unwrap_or(""),
            "--generate-key",
        ],
        params,
    );
    assert!(out.ok(), "gpg --generate-key: {out:?}");
    let out = sb.run(
        "gpg",
        &["--batch", "--with-colons", "--list-keys", email],
        "",
    );
    assert!(out.ok(), "gpg --list-keys: {out:?}");
    out.stdout
        .lines()
        .find_map(|l| {
            l.strip_prefix("fpr:")
                .map(|r| r.trim_matches(':').to_string())
        })
        .expect("fingerprint")
}

/// Generates the sandbox's passphrase-less key and returns its fingerprint.
pub fn key(sb: &Sandbox) -> String {
    generate(sb, "Test", "test@test.invalid", None)
}

/// Generates a key protected by [`LOCKED_PASSPHRASE`]. The agent forgets the passphrase when it
/// is stopped, so after [`stop_agent`] using it needs a prompt.
pub fn locked_key(sb: &Sandbox) -> String {
    generate(sb, "Locked", "locked@test.invalid", Some(LOCKED_PASSPHRASE))
}

/// Generates a key and runs `pass init` with it: the store is ready. Returns the fingerprint.
pub fn init_pass(sb: &Sandbox) -> String {
    let fpr = key(sb);
    let out = sb.run("pass", &["init", &fpr], "");
    assert!(out.ok(), "pass init: {out:?}");
    fpr
}

/// Stops the sandbox's gpg-agent by its PID, if one runs.
pub fn stop_agent(sb: &Sandbox) {
    if !sb.gnupg.join("pubring.kbx").exists() {
        return;
    }
    let mut cmd = sb.cmd("gpg-connect-agent");
    cmd.args(["--no-autostart", "getinfo pid", "/bye"]);
    let Ok(out) = run_timed(cmd, b"", Duration::from_secs(10)) else {
        return;
    };
    if let Some(pid) = out.stdout.lines().find_map(|l| l.strip_prefix("D ")) {
        let pid = pid.trim();
        let _ = std::process::Command::new("kill").arg(pid).status();
        // Wait for it to go, so the next command does not talk to a dying agent.
        for _ in 0..100 {
            if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

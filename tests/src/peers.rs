//! Which peers this machine has. A peer missing on a developer machine skips its tests loudly;
//! under `CI=true` a missing peer fails them, so CI can never pass by testing nothing.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// Whether we run in CI, where every peer must be present.
pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// The full path of `program` on PATH.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// True if every program is installed. Otherwise: a failure in CI, a loud skip elsewhere.
pub fn have(test: &str, programs: &[&str]) -> bool {
    let missing: Vec<&str> = programs
        .iter()
        .copied()
        .filter(|p| which(p).is_none())
        .collect();
    if missing.is_empty() {
        return true;
    }
    let msg = format!("{test}: missing peer(s) {missing:?}; run tests/run.sh, which installs them");
    assert!(!ci(), "{msg}");
    eprintln!("SKIPPED {msg}");
    false
}

/// True if moto is installed in the peers venv. Otherwise: a failure in CI, a loud skip.
pub fn have_moto(test: &str) -> bool {
    if crate::aws_peers::moto_server_bin().is_some() {
        return true;
    }
    let msg = format!(
        "{test}: moto_server is not in the peers venv; run tests/run.sh, which installs it"
    );
    assert!(!ci(), "{msg}");
    eprintln!("SKIPPED {msg}");
    false
}

/// True if a Docker daemon answers. Without one, the daemon tests skip loudly (the client-side
/// tests still prove the helpers); the project's machines and CI start one.
pub fn docker_daemon(test: &str) -> bool {
    static UP: OnceLock<bool> = OnceLock::new();
    let up = *UP.get_or_init(|| {
        let mut cmd = Command::new("docker");
        cmd.args(["info", "--format", "{{.ServerVersion}}"]);
        crate::proc::run_timed(cmd, b"", Duration::from_secs(20)).is_ok_and(|o| o.ok())
    });
    if !up {
        eprintln!(
            "SKIPPED {test}: no Docker daemon answers `docker info`; the client-side tests carry the proof"
        );
    }
    up
}

/// Skips (returns from) the test unless all programs are installed; fails under CI.
#[macro_export]
macro_rules! need {
    ($($program:expr),+ $(,)?) => {
        if !$crate::peers::have(module_path!(), &[$($program),+]) {
            return;
        }
    };
}

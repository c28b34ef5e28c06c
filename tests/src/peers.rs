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

/// The full path of `program` on PATH. Only for peers that are not oracles: an oracle is found
/// by [`oracle`], because PATH may find ours first.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// Fails under CI, skips loudly elsewhere: the one place that decides what a missing peer does.
fn missing(test: &str, what: &str) -> bool {
    let msg = format!("{test}: {what}");
    assert!(!ci(), "{msg}");
    eprintln!("SKIPPED {msg}");
    false
}

/// True if every program is installed. Otherwise: a failure in CI, a loud skip elsewhere.
pub fn have(test: &str, programs: &[&str]) -> bool {
    let absent: Vec<&str> = programs
        .iter()
        .copied()
        .filter(|p| which(p).is_none())
        .collect();
    if absent.is_empty() {
        return true;
    }
    missing(
        test,
        &format!("missing peer(s) {absent:?}; run tests/run.sh, which installs them"),
    )
}

/// The Debian package that installs each Go helper the tests compare against.
const ORACLE_PACKAGES: &[(&str, &str)] = &[
    ("pass", "golang-docker-credential-helpers"),
    ("secretservice", "golang-docker-credential-helpers"),
    ("ecr-login", "amazon-ecr-credential-helper"),
];

/// Debian's Go `docker-credential-<name>`, by the absolute path its package installs — never
/// through PATH, where `packaging/install.sh` (as root: `/usr/local/bin`) puts ours first. Err
/// says why it cannot serve: not installed, or replaced by our own Debian package.
pub fn oracle(name: &str) -> Result<PathBuf, String> {
    let package = ORACLE_PACKAGES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, p)| *p)
        .unwrap_or_else(|| panic!("BUG: no Debian package known for the oracle {name}"));
    let path = PathBuf::from(format!("/usr/bin/docker-credential-{name}"));
    if !path.is_file() {
        return Err(format!(
            "the Go oracle {} is missing: install {package} (tests/run.sh does)",
            path.display()
        ));
    }
    let mut cmd = Command::new(&path);
    cmd.arg("version");
    let version = crate::proc::run_timed(cmd, b"", Duration::from_secs(20))?;
    if version.stdout.contains("rust-credential-helpers") {
        return Err(format!(
            "{} is ours (our Debian package replaced it), not Debian's Go helper: reinstall {package} (tests/run.sh does)",
            path.display()
        ));
    }
    Ok(path)
}

/// True if every Go oracle (`pass`, `secretservice`, `ecr-login`) is installed at its package's
/// path. Otherwise: a failure in CI, a loud skip elsewhere.
pub fn have_oracles(test: &str, names: &[&str]) -> bool {
    let why: Vec<String> = names.iter().filter_map(|n| oracle(n).err()).collect();
    if why.is_empty() {
        return true;
    }
    missing(test, &why.join("; "))
}

/// True if moto is installed in the peers venv. Otherwise: a failure in CI, a loud skip.
pub fn have_moto(test: &str) -> bool {
    if crate::aws_peers::moto_server_bin().is_some() {
        return true;
    }
    missing(
        test,
        "moto_server is not in the peers venv; run tests/run.sh, which installs it",
    )
}

/// True if a Docker daemon answers `docker info`. Without one, the daemon tests skip loudly on
/// a developer machine (the client-side tests still prove the helpers) and fail under CI, whose
/// `.ci/run` starts a daemon when the machine has none.
pub fn docker_daemon(test: &str) -> bool {
    static UP: OnceLock<Result<(), String>> = OnceLock::new();
    let up = UP.get_or_init(|| {
        let mut cmd = Command::new("docker");
        cmd.args(["info", "--format", "{{.ServerVersion}}"]);
        match crate::proc::run_timed(cmd, b"", Duration::from_secs(20)) {
            Ok(o) if o.ok() => Ok(()),
            Ok(o) => Err(o.stderr.trim().to_string()),
            Err(e) => Err(e),
        }
    });
    match up {
        Ok(()) => true,
        Err(why) => missing(
            test,
            &format!("no Docker daemon answers `docker info` ({why}); .ci/run starts one"),
        ),
    }
}

/// A pass store: gpg and pass.
pub const PASS: &[&str] = &["gpg", "pass"];
/// A registry with TLS and htpasswd, and skopeo to log in to it.
pub const REGISTRY: &[&str] = &["docker-registry", "skopeo", "openssl", "htpasswd"];

/// Skips (returns from) the test unless all programs are installed; fails under CI. Sets of
/// programs ([`PASS`], [`REGISTRY`]) may come first, before a `;`.
#[macro_export]
macro_rules! need {
    ($($set:ident),+ ; $($program:expr),* $(,)?) => {
        let programs: Vec<&str> = [$($crate::peers::$set),+]
            .concat()
            .into_iter()
            .chain([$($program),*])
            .collect();
        if !$crate::peers::have(module_path!(), &programs) {
            return;
        }
    };
    ($($program:expr),+ $(,)?) => {
        if !$crate::peers::have(module_path!(), &[$($program),+]) {
            return;
        }
    };
}

/// Skips (returns from) the test unless each named Go oracle (`"pass"`, `"secretservice"`,
/// `"ecr-login"`) is installed at the absolute path of its Debian package; fails under CI.
#[macro_export]
macro_rules! need_oracle {
    ($($name:expr),+ $(,)?) => {
        if !$crate::peers::have_oracles(module_path!(), &[$($name),+]) {
            return;
        }
    };
}

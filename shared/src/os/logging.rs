//! File logging shared by every helper. Nothing here ever receives a secret: callers log server
//! URLs, usernames and outcomes, and `Secret`'s `Debug` prints `<redacted>` should one slip in.
//!
//! The writer is a plain file behind a mutex, not tracing-appender's: a helper lives a few
//! milliseconds and logs a line or two, so a background writer thread would cost more than the
//! writes, and tracing-appender's rolling files cannot be created 0600. Rotation is by size,
//! done here when the log is opened.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tracing_subscriber::filter::{LevelFilter, Targets};

use super::fs::{create_private_dir_all, open_private_append};

/// The variable that turns logging on and sets its level: `off`, `error`, `warn`, `info`,
/// `debug` or `trace`.
pub const LOG_ENV: &str = "DOCKER_CREDENTIAL_LOG";
/// The variable that names the log file.
pub const LOG_FILE_ENV: &str = "DOCKER_CREDENTIAL_LOG_FILE";

/// Where and how much a helper logs when the user has said nothing.
#[derive(Debug, Clone, Copy)]
pub struct LogDefaults {
    /// The level when [`LOG_ENV`] is unset; `None` keeps logging off (pass, keyring).
    pub level: Option<&'static str>,
    /// The file when [`LOG_FILE_ENV`] is unset; `None` (or a function answering `None`) means
    /// `<state dir>/rust-credential-helpers/<helper>.log`.
    pub file: Option<fn() -> Option<PathBuf>>,
}

impl LogDefaults {
    /// No log unless the user asks for one, in the usual place.
    pub const OFF: LogDefaults = LogDefaults {
        level: None,
        file: None,
    };
}

/// A log file is rotated when it grows past this...
pub const ROTATE_BYTES: u64 = 1 << 20;
/// ...keeping this many old files (`NAME.1` is the newest).
pub const KEEP_FILES: u32 = 3;

/// Starts logging if the user or the helper asked for it. Logging can never make a request fail:
/// if no log file can be opened, the helper runs without a log.
pub fn init(helper: &str, defaults: &LogDefaults) -> Option<()> {
    let level = std::env::var(LOG_ENV)
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| defaults.level.map(str::to_string))?;
    if level == "off" {
        return None;
    }
    let path = std::env::var_os(LOG_FILE_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| defaults.file.and_then(|f| f()))
        .or_else(|| {
            dirs::state_dir().or_else(dirs::cache_dir).map(|d| {
                d.join("rust-credential-helpers")
                    .join(format!("{helper}.log"))
            })
        })?;
    if let Some(parent) = path.parent() {
        create_private_dir_all(parent).ok()?;
    }
    rotate(&path);
    let file = open_private_append(&path).ok()?;
    let filter = filter(&level);
    use tracing_subscriber::layer::SubscriberExt;
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(Mutex::new(file))
        .with_ansi(false)
        .with_target(false);
    let subscriber = tracing_subscriber::registry().with(layer).with(filter);
    tracing::subscriber::set_global_default(subscriber).ok()
}

/// The crates of this workspace: they log at the level asked for.
const OWN_CRATES: &[&str] = &[
    "credhelper",
    "ecr_login",
    "docker_credential_pass",
    "docker_credential_ecr_login",
    "docker_credential_ecr_login_fetch",
    "docker_credential_keyring",
];

/// Our crates at `level`; every other crate (the AWS SDK, hyper, rustls) at `warn` at most,
/// because at debug and trace they log raw HTTP traffic, tokens included. `Targets` rather than
/// `EnvFilter`: it needs no regex, which keeps start-up (on every pull) a little shorter.
fn filter(level: &str) -> Targets {
    let level: LevelFilter = level.trim().parse().unwrap_or(LevelFilter::INFO);
    OWN_CRATES.iter().fold(
        Targets::new().with_default(level.min(LevelFilter::WARN)),
        |t, krate| t.with_target(*krate, level),
    )
}

/// Moves `NAME` to `NAME.1` (and so on, up to [`KEEP_FILES`]) once it is over [`ROTATE_BYTES`].
/// Concurrent helpers may both rotate; the worst case is one rotation too many, never a lost
/// line of the current file, since renames keep open files writable.
fn rotate(path: &Path) {
    if std::fs::metadata(path)
        .map(|m| m.len() < ROTATE_BYTES)
        .unwrap_or(true)
    {
        return;
    }
    let numbered = |n: u32| {
        let mut p = path.as_os_str().to_owned();
        p.push(format!(".{n}"));
        PathBuf::from(p)
    };
    for n in (1..KEEP_FILES).rev() {
        let _ = std::fs::rename(numbered(n), numbered(n + 1));
    }
    let _ = std::fs::rename(path, numbered(1));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_keeps_a_bounded_number_of_files() {
        let dir = std::env::temp_dir().join(format!("credhelper-log-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("mkdir");
        let log = dir.join("x.log");
        for round in 0..5u8 {
            std::fs::write(&log, vec![b'a' + round; ROTATE_BYTES as usize]).expect("write");
            rotate(&log);
        }
        std::fs::write(&log, "small").expect("write");
        rotate(&log);
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .expect("ls")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["x.log", "x.log.1", "x.log.2", "x.log.3"]);
        assert_eq!(
            std::fs::read(dir.join("x.log.1")).expect("read")[0],
            b'e',
            "newest first"
        );
        assert_eq!(
            std::fs::read_to_string(&log).expect("read"),
            "small",
            "a small log is not rotated"
        );
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn third_party_crates_never_log_below_warn() {
        use tracing::Level;
        let f = filter("trace");
        assert!(f.would_enable("ecr_login::cache", &Level::TRACE));
        assert!(f.would_enable("credhelper::driver", &Level::DEBUG));
        assert!(!f.would_enable("aws_smithy_runtime::client", &Level::DEBUG));
        assert!(!f.would_enable("hyper_util::client", &Level::INFO));
        assert!(f.would_enable("aws_config::imds", &Level::WARN));
        let f = filter("error");
        assert!(!f.would_enable("aws_config::imds", &Level::WARN));
        assert!(!f.would_enable("credhelper::driver", &Level::INFO));
    }
}

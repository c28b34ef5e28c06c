//! Where the helper keeps its cache, log and configuration.

use std::path::PathBuf;

use credhelper::os::dir::Dir;
use credhelper::os::logging::LogFile;

/// Environment: the cache directory (default `~/.ecr`), as the Go helper reads it.
pub const CACHE_DIR_ENV: &str = "AWS_ECR_CACHE_DIR";
/// Environment: any non-empty value turns the token cache off, as the Go helper reads it.
pub const DISABLE_CACHE_ENV: &str = "AWS_ECR_DISABLE_CACHE";
/// Environment: the per-registry configuration file (default `~/.ecr/config.json`).
pub const CONFIG_ENV: &str = "AWS_ECR_CONFIG_FILE";

/// `~/.ecr`, with `HOME` unset falling back to the passwd entry (systemd units, Nomad tasks).
fn dot_ecr() -> Option<PathBuf> {
    dirs::home_dir().map(|h| h.join(".ecr"))
}

/// Whether the cache is off: `AWS_ECR_DISABLE_CACHE` set to anything (`false` and `0`
/// included), as in the Go helper.
pub fn cache_disabled() -> bool {
    std::env::var_os(DISABLE_CACHE_ENV).is_some_and(|v| !v.is_empty())
}

/// The cache directory: `$AWS_ECR_CACHE_DIR` (a leading `~` or `~/` is the home directory, as
/// the Go helper expands it), else `~/.ecr`. `None` if there is no home at all, or for
/// `~user/…`, which Go cannot expand either.
pub fn cache_dir() -> Option<PathBuf> {
    match std::env::var(CACHE_DIR_ENV).ok().filter(|d| !d.is_empty()) {
        Some(dir) => expand_home(&dir),
        None => dot_ecr(),
    }
}

/// `~` and `~/rest` → the home directory (and rest); anything else unchanged, except `~user`.
fn expand_home(dir: &str) -> Option<PathBuf> {
    match dir.strip_prefix('~') {
        None => Some(PathBuf::from(dir)),
        Some("") => dirs::home_dir(),
        Some(rest) => match rest.strip_prefix('/') {
            Some(rest) => dirs::home_dir().map(|h| h.join(rest)),
            None => {
                tracing::warn!(
                    "{CACHE_DIR_ENV}={dir}: another user's home is not expanded; no cache"
                );
                None
            }
        },
    }
}

/// The log file's name.
pub const LOG_NAME: &str = "ecr-login.log";

/// The log file: `log/ecr-login.log` in the cache directory, where the Go helper's users look
/// for it; in a cache directory others can write, in ours within it (`<dir>/uid-<euid>/log`,
/// see [`Dir::private`]). `None` if neither can be had: the log then goes to the usual state
/// directory (`~/.local/state/rust-credential-helpers/`), where the cache's one warning says why.
pub fn log_file() -> Option<LogFile> {
    let dir = Dir::private(&cache_dir()?).ok()?.private_sub("log").ok()?;
    Some(LogFile {
        dir,
        name: LOG_NAME.to_string(),
    })
}

/// The per-registry configuration file.
pub fn config_file() -> Option<PathBuf> {
    std::env::var_os(CONFIG_ENV)
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| dot_ecr().map(|d| d.join("config.json")))
}

/// Whether a boolean environment variable is set to a true value, as Go's strconv.ParseBool.
pub fn env_true(name: &str) -> bool {
    std::env::var(name)
        .is_ok_and(|v| matches!(v.trim(), "1" | "t" | "T" | "true" | "TRUE" | "True"))
}

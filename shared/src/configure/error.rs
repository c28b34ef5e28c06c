//! Why `configure` changed nothing. Each message names the file and what to do.

use std::path::PathBuf;

use serde_json::Value;

use crate::os::dir::Refused;
use crate::protocol::error::Error;

/// A failed `configure`; printed as one line (or, for a usage mistake, with the usage).
#[derive(Debug, thiserror::Error)]
pub enum ConfigureError {
    /// A mistake in the arguments; holds the message and the usage text.
    #[error("{0}")]
    Usage(String),
    /// No `--file`, no `DOCKER_CONFIG`, no home.
    #[error("cannot find the docker config: set DOCKER_CONFIG or HOME, or pass --file")]
    NoConfigFile,
    /// The file cannot be read (or is no regular file of a size a config has).
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: Refused,
    },
    /// Not UTF-8.
    #[error("{} is not UTF-8; nothing changed", path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
    },
    /// Not JSON.
    #[error("{} is not valid JSON ({source}); nothing changed", path.display())]
    NotJson {
        /// The file.
        path: PathBuf,
        /// What and where.
        source: serde_json::Error,
    },
    /// JSON, but not an object.
    #[error("{} is not a JSON object; nothing changed", path.display())]
    NotAnObject {
        /// The file.
        path: PathBuf,
    },
    /// `credHelpers` is there and not an object.
    #[error("{}: \"credHelpers\" is not an object", path.display())]
    CredHelpersNotAnObject {
        /// The file.
        path: PathBuf,
    },
    /// Another helper is configured and `--force` was not given.
    #[error("{key} is already set to {current}; --force replaces it")]
    AlreadySet {
        /// `credsStore` or a registry.
        key: String,
        /// What is there.
        current: Value,
    },
    /// An `auths` entry whose `auth` is not base64 of `user:password`.
    #[error("{}: auths.{host}: {why}", path.display())]
    BadAuth {
        /// The file.
        path: PathBuf,
        /// The registry.
        host: String,
        /// What is wrong (never the value).
        why: &'static str,
    },
    /// The helper's store refused a credential.
    #[error("cannot store the credentials for {server}: {source}")]
    Store {
        /// The registry.
        server: String,
        /// The store's error.
        source: Error,
    },
    /// The backup could not be written (and the name is not another user's).
    #[error("cannot back up {} to {}: {source}", path.display(), backup.display())]
    Backup {
        /// The file.
        path: PathBuf,
        /// The backup's path.
        backup: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file's directory could not be created.
    #[error("cannot create {}: {source}", dir.display())]
    CreateDir {
        /// The directory.
        dir: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The new file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

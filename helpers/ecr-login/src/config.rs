//! The per-registry configuration file: which profile or role fetches the token for a registry,
//! and aliases that map a custom domain to the ECR registry behind it.
//!
//! ```json
//! {
//!   "registries": {
//!     "123456789012.dkr.ecr.us-east-1.amazonaws.com": { "profile": "prod" },
//!     "*.dkr.ecr.eu-west-1.amazonaws.com": { "role_arn": "arn:aws:iam::123456789012:role/pull" },
//!     "images.example.com": { "alias": "123456789012.dkr.ecr.us-east-1.amazonaws.com" }
//!   }
//! }
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Why the configuration cannot be used; the message names the file (and the line).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// It exists but cannot be read, or is not a file to read (a FIFO, a device, too large, a
    /// link or another user's file in a directory others may write).
    #[error("invalid configuration: cannot read {source}")]
    Read {
        /// Why.
        source: credhelper::os::dir::Refused,
    },
    /// Not JSON, or an unknown key (serde names the line and column).
    #[error("invalid configuration: {}: {source}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// What and where.
        source: serde_json::Error,
    },
    /// An alias that names no ECR registry.
    #[error("invalid configuration: the alias of {host}, {alias}, is not an ECR registry")]
    BadAlias {
        /// The host with the alias.
        host: String,
        /// What it names.
        alias: String,
    },
}

/// A configuration is a few lines; this bounds what a file in its place can make us read.
const MAX_FILE: u64 = 1 << 20;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Host or `*.suffix` pattern → settings.
    #[serde(default)]
    pub registries: BTreeMap<String, RegistryConfig>,
}

/// The settings for one host or pattern.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryConfig {
    /// The AWS profile whose credentials fetch the token (instead of `AWS_PROFILE`/the default).
    pub profile: Option<String>,
    /// A role to assume, with the profile's (or the default chain's) credentials, first.
    pub role_arn: Option<String>,
    /// The ECR registry this host stands for (a custom domain, a pull-through cache name).
    pub alias: Option<String>,
}

impl Config {
    /// Reads the file; a missing file is an empty configuration. Errors name the file and line.
    /// A FIFO, a device, a file over 1 MiB or (in a directory others can write) a link or another
    /// user's file is refused without blocking: see [`credhelper::os::dir::read_user_file`].
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let bytes = match credhelper::os::dir::read_user_file(path, MAX_FILE) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Ok(Config::default()),
            Err(source) => return Err(ConfigError::Read { source }),
        };
        serde_json::from_slice(&bytes).map_err(|source| ConfigError::Syntax {
            path: path.to_path_buf(),
            source,
        })
    }

    /// The settings for `host`: an exact entry, else the longest matching `*.suffix` pattern.
    pub fn for_host(&self, host: &str) -> Option<&RegistryConfig> {
        if let Some(c) = self.registries.get(host) {
            return Some(c);
        }
        self.registries
            .iter()
            .filter_map(|(pattern, c)| {
                let suffix = pattern.strip_prefix('*')?;
                (suffix.starts_with('.') && host.ends_with(suffix) && host.len() > suffix.len())
                    .then_some((suffix.len(), c))
            })
            .max_by_key(|(len, _)| *len)
            .map(|(_, c)| c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Config, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn matches_exact_then_longest_pattern() {
        let c = parse(
            r#"{"registries":{
            "a.dkr.ecr.r.amazonaws.com": {"profile":"exact"},
            "*.amazonaws.com": {"profile":"wide"},
            "*.r.amazonaws.com": {"profile":"narrow"}}}"#,
        )
        .expect("valid");
        let p = |h: &str| c.for_host(h).and_then(|c| c.profile.clone());
        assert_eq!(p("a.dkr.ecr.r.amazonaws.com").as_deref(), Some("exact"));
        assert_eq!(p("b.dkr.ecr.r.amazonaws.com").as_deref(), Some("narrow"));
        assert_eq!(p("b.dkr.ecr.s.amazonaws.com").as_deref(), Some("wide"));
        assert_eq!(p("amazonaws.com"), None);
        assert_eq!(p("example.com"), None);
    }

    #[test]
    fn unknown_keys_and_syntax_errors_name_the_line() {
        let e = parse("{\n \"registries\": {\n  \"h\": {\"profil\": \"x\"}}}").unwrap_err();
        assert!(
            e.contains("unknown field `profil`") && e.contains("line 3"),
            "{e}"
        );
        let e = parse("{\n\"registries\": {,}}").unwrap_err();
        assert!(e.contains("line 2"), "{e}");
    }
}

//! Reading the AWS shared config and credentials files, as far as deciding *who* a profile is:
//! enough to key the token cache on the identity without a network call and without linking the
//! SDK into the front binary. The SDK (in the fetcher) still reads these files to sign.
//!
//! The format follows the SDK's parser: `[profile name]` and `[default]` sections in the config
//! file, `[name]` in the credentials file, `key = value` lines, `#`/`;` comment lines, indented
//! continuation lines (nested settings, ignored here), and for one profile the credentials
//! file's values win over the config file's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The largest file read: real ones are a few KiB; anything larger is not one.
const MAX_FILE: u64 = 1 << 20;

/// Where the two files are: `AWS_CONFIG_FILE` and `AWS_SHARED_CREDENTIALS_FILE`, else
/// `~/.aws/config` and `~/.aws/credentials`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Files {
    /// The config file.
    pub config: PathBuf,
    /// The credentials file.
    pub credentials: PathBuf,
}

impl Files {
    /// The files the SDK would read in this environment.
    pub fn from_env() -> Files {
        let home = || {
            std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(PathBuf::from)
                .or_else(dirs::home_dir)
                .unwrap_or_default()
                .join(".aws")
        };
        let var = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        Files {
            config: var("AWS_CONFIG_FILE").unwrap_or_else(|| home().join("config")),
            credentials: var("AWS_SHARED_CREDENTIALS_FILE")
                .unwrap_or_else(|| home().join("credentials")),
        }
    }
}

/// Every profile's settings, both files merged.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Profiles {
    profiles: BTreeMap<String, BTreeMap<String, String>>,
}

/// Which file a text comes from: their section names differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Config,
    Credentials,
}

impl Profiles {
    /// Reads both files; a missing or unreadable file counts as empty, as the SDK treats it.
    pub fn load(files: &Files) -> Profiles {
        let mut p = Profiles::default();
        // The credentials file is merged last: its values win.
        for (path, kind) in [
            (&files.config, Kind::Config),
            (&files.credentials, Kind::Credentials),
        ] {
            if let Some(text) = read(path) {
                p.merge(&text, kind);
            }
        }
        p
    }

    /// One setting of a profile.
    pub fn get(&self, profile: &str, key: &str) -> Option<&str> {
        self.profiles
            .get(profile)?
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// Whether the files define the profile at all.
    pub fn has(&self, profile: &str) -> bool {
        self.profiles.contains_key(profile)
    }

    fn merge(&mut self, text: &str, kind: Kind) {
        let mut section: Option<String> = None;
        for line in text.lines() {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with(['#', ';']) {
                continue;
            }
            if let Some(header) = trimmed.strip_prefix('[') {
                let header = header.split([']', '#', ';']).next().unwrap_or("").trim();
                section = profile_name(header, kind);
                continue;
            }
            // Indented lines continue a nested setting (`s3 =` then `  key = value`).
            if line.starts_with([' ', '\t']) {
                continue;
            }
            let (Some(name), Some((key, value))) = (&section, trimmed.split_once('=')) else {
                continue;
            };
            self.profiles
                .entry(name.clone())
                .or_default()
                .insert(key.trim().to_ascii_lowercase(), value.trim().to_string());
        }
    }
}

/// The profile a section header names, if it names one: `default` and `profile NAME` in the
/// config file, `NAME` in the credentials file. Other sections (`sso-session`, `services`) are
/// not profiles.
fn profile_name(header: &str, kind: Kind) -> Option<String> {
    let mut words = header.split_whitespace();
    let (first, second) = (words.next()?, words.next());
    match (kind, first, second) {
        (Kind::Config, "default", None) => Some("default".into()),
        (Kind::Config, "profile", Some(name)) => Some(name.into()),
        (Kind::Credentials, name, None) => Some(name.into()),
        _ => None,
    }
}

fn read(path: &Path) -> Option<String> {
    use std::io::Read;
    let file = std::fs::File::open(path).ok()?;
    let mut text = String::new();
    file.take(MAX_FILE).read_to_string(&mut text).ok()?;
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_files_merged_as_the_sdk_reads_them() {
        let mut p = Profiles::default();
        p.merge(
            "# comment\n[default]\nregion = us-east-1\n[profile team]\nrole_arn = arn:aws:iam::1:role/r\n\
             source_profile = base\ns3 =\n  max_concurrent_requests = 10\n[sso-session corp]\nsso_region = eu-west-1\n\
             [team]\nignored = yes\n",
            Kind::Config,
        );
        p.merge(
            "[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = s\n; c\n[profile nope]\nx = y\n\
             [default]\naws_access_key_id=AKIADEFAULT\n",
            Kind::Credentials,
        );
        assert_eq!(p.get("default", "region"), Some("us-east-1"));
        assert_eq!(p.get("default", "aws_access_key_id"), Some("AKIADEFAULT"));
        assert_eq!(p.get("team", "role_arn"), Some("arn:aws:iam::1:role/r"));
        assert_eq!(p.get("team", "max_concurrent_requests"), None);
        assert_eq!(
            p.get("team", "ignored"),
            None,
            "[team] is not a config-file profile"
        );
        assert_eq!(p.get("base", "aws_access_key_id"), Some("AKIABASE"));
        assert!(!p.has("corp") && !p.has("nope"));
    }
}

//! What a helper tells about itself (`version`, `--help`, its man page), and how it logs.

use crate::os::logging::LogDefaults;

/// What a helper tells about itself in `version` and `--help`, and how it logs.
#[derive(Debug, Clone, Copy)]
pub struct HelperInfo {
    /// The binary's name, e.g. `docker-credential-pass`.
    pub name: &'static str,
    /// The version printed by `version`.
    pub version: &'static str,
    /// One paragraph: what the helper stores where.
    pub about: &'static str,
    /// The helper's environment variables and files, printed under the actions by `--help`.
    pub details: &'static str,
    /// Where and how much it logs when the user has said nothing.
    pub log: LogDefaults,
}

impl HelperInfo {
    /// The name without `docker-credential-`, as config.json names helpers (`pass`).
    pub fn short_name(&self) -> &'static str {
        self.name
            .strip_prefix("docker-credential-")
            .unwrap_or(self.name)
    }
}

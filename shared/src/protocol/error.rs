//! The one error type every `Store` returns. Each variant says what the caller will do with it.

/// An error from a credential store. Its `Display` is the exact line the helper prints on stdout,
/// so it must never contain a secret.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No credential for that server. The docker CLI matches this exact text to mean "not logged
    /// in", so it must not change.
    #[error("credentials not found in native keychain")]
    NotFound,
    /// The helper does not support this action (for example `store` on ecr-login).
    #[error("not implemented")]
    NotImplemented,
    /// `get`/`erase`/`store` without a server URL; text as in docker-credential-helpers.
    #[error("no credentials server URL")]
    MissingServerUrl,
    /// `store` without a username; text as in docker-credential-helpers.
    #[error("no credentials username")]
    MissingUsername,
    /// The caller sent something we cannot use; the message says what and never echoes a secret.
    #[error("{0}")]
    BadInput(String),
    /// The backend failed (gpg, the keyring, the AWS API...). The message should say what to do.
    #[error("{0}")]
    Backend(String),
}

impl Error {
    /// A backend error from anything printable, flattened to one line.
    pub fn backend(msg: impl std::fmt::Display) -> Self {
        Error::Backend(one_line(&msg.to_string()))
    }

    /// A bad-input error, flattened to one line.
    pub fn bad_input(msg: impl std::fmt::Display) -> Self {
        Error::BadInput(one_line(&msg.to_string()))
    }
}

/// Folds any run of line breaks and surrounding blanks into "; " so an error stays on one line:
/// the docker CLI shows only what the helper printed, and several lines would garble it.
pub fn one_line(msg: &str) -> String {
    let parts: Vec<&str> = msg
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_texts_are_exact() {
        assert_eq!(
            Error::NotFound.to_string(),
            "credentials not found in native keychain"
        );
        assert_eq!(
            Error::MissingServerUrl.to_string(),
            "no credentials server URL"
        );
        assert_eq!(
            Error::MissingUsername.to_string(),
            "no credentials username"
        );
        assert_eq!(Error::NotImplemented.to_string(), "not implemented");
    }

    #[test]
    fn errors_fold_to_one_line() {
        assert_eq!(
            one_line("gpg: failed\n  \r\nsecond\n"),
            "gpg: failed; second"
        );
        assert_eq!(Error::backend("a\nb").to_string(), "a; b");
    }
}

//! The one error type every `Store` returns. Each variant says what the caller will do with it.

/// What a module's typed error becomes when it crosses the [`Store`](super::store::Store)
/// boundary: kept whole, so its source chain survives, and shown by its own `Display`.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

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
    /// The caller sent something we cannot use: retrying the same request cannot succeed. The
    /// message says what and never echoes a secret.
    #[error(transparent)]
    BadInput(Cause),
    /// The backend failed (gpg, the keyring, the AWS API...): the message says what failed and
    /// what to do about it.
    #[error(transparent)]
    Backend(Cause),
}

impl Error {
    /// A backend failure, from a module's typed error.
    pub fn backend(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error::Backend(Box::new(err))
    }

    /// A request the helper cannot serve, from a module's typed error.
    pub fn bad_input(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error::BadInput(Box::new(err))
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
    }

    #[test]
    fn a_cause_keeps_its_text_and_its_source() {
        #[derive(Debug, thiserror::Error)]
        #[error("cannot read the store: {0}")]
        struct Inner(#[source] std::io::Error);
        let err = Error::backend(Inner(std::io::Error::other("disk on fire")));
        assert_eq!(err.to_string(), "cannot read the store: disk on fire");
        let source = std::error::Error::source(&err).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("disk on fire"));
    }
}

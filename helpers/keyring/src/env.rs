//! The environment variables that choose the keyring and bound its calls.

/// Environment: `secret-service` or `keyutils` (Linux); the platform default otherwise.
pub const BACKEND_ENV: &str = "DOCKER_CREDENTIAL_KEYRING_BACKEND";
/// Environment: seconds to wait for the keyring.
pub const TIMEOUT_ENV: &str = "DOCKER_CREDENTIAL_KEYRING_TIMEOUT";
/// Environment: `1` keeps kernel keyring credentials in the user's persistent keyring, where
/// every process of the user reads them for days, instead of the session keyring.
pub const PERSIST_ENV: &str = "DOCKER_CREDENTIAL_KEYRING_PERSIST";

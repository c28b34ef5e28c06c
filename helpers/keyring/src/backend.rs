//! The `Store`: picks the platform's keyring (or the one asked for) and bounds every call.

use std::collections::BTreeMap;
use std::time::Duration;

use credhelper::os::env::{self, Prompter};
use credhelper::{Credentials, Error, Store};

use crate::bounded;
use crate::errors::{KeyringError, Which};

/// Environment: `secret-service` or `keyutils` (Linux); the platform default otherwise.
pub const BACKEND_ENV: &str = "DOCKER_CREDENTIAL_KEYRING_BACKEND";
/// Environment: seconds to wait for the keyring.
pub const TIMEOUT_ENV: &str = "DOCKER_CREDENTIAL_KEYRING_TIMEOUT";

/// Which keyring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    /// The Secret Service over D-Bus, items as docker-credential-secretservice writes them.
    #[cfg(all(unix, not(target_os = "macos")))]
    SecretService,
    /// A keyring-core store with one item per server (keyutils, Keychain, Credential Manager).
    Simple,
}

impl Backend {
    fn which(self) -> Which {
        match self {
            #[cfg(all(unix, not(target_os = "macos")))]
            Backend::SecretService => Which::SecretService,
            Backend::Simple if cfg!(target_os = "macos") => Which::Keychain,
            Backend::Simple if cfg!(windows) => Which::CredentialManager,
            Backend::Simple => Which::KernelKeyring,
        }
    }
}

/// docker credentials in the OS keyring.
pub struct KeyringStore {
    /// The keyring asked for, or what was wrong with the request (reported by every action).
    backend: Result<Backend, (String, &'static str)>,
    limit: Duration,
}

impl KeyringStore {
    /// The keyring the environment asks for, with its time bound.
    pub fn from_env() -> KeyringStore {
        let backend = match std::env::var(BACKEND_ENV).as_deref().map(str::trim) {
            Err(_) | Ok("") => Ok(default_backend()),
            #[cfg(all(unix, not(target_os = "macos")))]
            Ok("secret-service") => Ok(Backend::SecretService),
            #[cfg(target_os = "linux")]
            Ok("keyutils") => Ok(Backend::Simple),
            Ok(other) => Err((
                other.to_string(),
                if cfg!(target_os = "linux") {
                    "secret-service or keyutils"
                } else {
                    "nothing (this platform has one keyring)"
                },
            )),
        };
        // Only a display can show the keyring's unlock prompt; without one nobody can answer,
        // and the short bound holds.
        let default = Duration::from_secs(if env::may_prompt(Prompter::Display) {
            60
        } else {
            2
        });
        KeyringStore {
            backend,
            limit: env::seconds(TIMEOUT_ENV, default),
        }
    }

    fn call<T: Send + 'static>(
        &self,
        op: impl FnOnce(Backend) -> Result<T, KeyringError> + Send + 'static,
    ) -> Result<T, Error> {
        let backend = self
            .backend
            .clone()
            .map_err(|(value, expected)| KeyringError::UnknownBackend { value, expected })?;
        #[cfg(all(unix, not(target_os = "macos")))]
        if backend == Backend::SecretService {
            crate::secret_service::check_bus()?;
        }
        let secs = self.limit.as_secs_f64();
        let result = bounded::run(self.limit, move || op(backend)).unwrap_or_else(|| {
            Err(KeyringError::Timeout {
                which: backend.which(),
                secs,
            })
        });
        Ok(result?)
    }
}

fn default_backend() -> Backend {
    #[cfg(all(unix, not(target_os = "macos")))]
    return Backend::SecretService;
    #[cfg(not(all(unix, not(target_os = "macos"))))]
    return Backend::Simple;
}

impl Store for KeyringStore {
    fn get(&self, server_url: &str) -> Result<Credentials, Error> {
        let url = server_url.to_string();
        self.call(move |b| match b {
            #[cfg(all(unix, not(target_os = "macos")))]
            Backend::SecretService => crate::secret_service::get(&url),
            Backend::Simple => crate::simple::get(&url),
        })
    }

    fn store(&self, creds: &Credentials) -> Result<(), Error> {
        let creds = creds.clone();
        self.call(move |b| match b {
            #[cfg(all(unix, not(target_os = "macos")))]
            Backend::SecretService => crate::secret_service::store(&creds),
            Backend::Simple => crate::simple::store(&creds),
        })
    }

    fn erase(&self, server_url: &str) -> Result<(), Error> {
        let url = server_url.to_string();
        self.call(move |b| match b {
            #[cfg(all(unix, not(target_os = "macos")))]
            Backend::SecretService => crate::secret_service::erase(&url),
            Backend::Simple => crate::simple::erase(&url),
        })
    }

    fn list(&self) -> Result<BTreeMap<String, String>, Error> {
        let listed = self.call(move |b| match b {
            #[cfg(all(unix, not(target_os = "macos")))]
            Backend::SecretService => crate::secret_service::list().map(Some),
            Backend::Simple => Ok(None),
        })?;
        listed.ok_or(Error::NotImplemented)
    }
}

//! The `Store`: picks the platform's keyring (or the one asked for) and bounds every call.

use std::collections::BTreeMap;
use std::time::Duration;

use credhelper::os::env::{self, Prompter};
use credhelper::{Credentials, Error, Store};

use crate::bounded;

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

/// docker credentials in the OS keyring.
pub struct KeyringStore {
    backend: Result<Backend, String>,
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
            Ok(other) => Err(format!(
                "unknown {BACKEND_ENV}={other}: expected {}",
                if cfg!(target_os = "linux") {
                    "secret-service or keyutils"
                } else {
                    "nothing (this platform has one keyring)"
                }
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
        op: impl FnOnce(Backend) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let backend = self.backend.clone().map_err(Error::bad_input)?;
        #[cfg(all(unix, not(target_os = "macos")))]
        if backend == Backend::SecretService {
            crate::secret_service::check_bus()?;
        }
        let secs = self.limit.as_secs_f64();
        bounded::run(
            self.limit,
            move || timeout_error(backend, secs),
            move || op(backend),
        )
    }
}

fn default_backend() -> Backend {
    #[cfg(all(unix, not(target_os = "macos")))]
    return Backend::SecretService;
    #[cfg(not(all(unix, not(target_os = "macos"))))]
    return Backend::Simple;
}

fn timeout_error(backend: Backend, secs: f64) -> Error {
    match backend {
        #[cfg(all(unix, not(target_os = "macos")))]
        Backend::SecretService => Error::backend(format!(
            "the Secret Service did not answer within {secs} s: either none runs on the session bus (start gnome-keyring-daemon --components=secrets, or KeePassXC's Secret Service) or the keyring is locked and waits for a prompt nobody can answer (unlock it first); {TIMEOUT_ENV} raises the bound"
        )),
        Backend::Simple => Error::backend(format!(
            "the keyring did not answer within {secs} s ({TIMEOUT_ENV} raises the bound)"
        )),
    }
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
        self.call(move |b| match b {
            #[cfg(all(unix, not(target_os = "macos")))]
            Backend::SecretService => crate::secret_service::list(),
            Backend::Simple => Err(Error::NotImplemented),
        })
    }
}

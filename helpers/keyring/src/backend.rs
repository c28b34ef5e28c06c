//! The `Store`: picks the platform's keyring (or the one asked for) and bounds every call.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

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
    /// Refuses a value the keyring cannot hold: a NUL ends a D-Bus string early (Go's helper
    /// stores the value cut at the NUL). The one-item stores keep the username inside their
    /// JSON, where a NUL is fine.
    fn refuse_nul(self, field: &'static str, value: &str) -> Result<(), KeyringError> {
        #[cfg(all(unix, not(target_os = "macos")))]
        let searched = self == Backend::SecretService;
        #[cfg(not(all(unix, not(target_os = "macos"))))]
        let searched = false;
        if value.contains('\0') && (field != "username" || searched) {
            return Err(KeyringError::Nul {
                which: self.which(),
                field,
            });
        }
        Ok(())
    }

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

    fn backend(&self) -> Result<Backend, KeyringError> {
        self.backend
            .clone()
            .map_err(|(value, expected)| KeyringError::UnknownBackend { value, expected })
    }

    /// Runs `op` on a worker thread within the bound; `op` gets the deadline, for the steps
    /// that divide it (several bus addresses).
    fn call<T: Send + 'static>(
        &self,
        backend: Backend,
        op: impl FnOnce(Backend, Instant) -> Result<T, KeyringError> + Send + 'static,
    ) -> Result<T, Error> {
        #[cfg(all(unix, not(target_os = "macos")))]
        if backend == Backend::SecretService {
            crate::secret_service::check_bus()?;
        }
        let secs = self.limit.as_secs_f64();
        let deadline = Instant::now() + self.limit;
        let result = bounded::run(self.limit, move || op(backend, deadline)).unwrap_or_else(|| {
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
        let backend = self.backend()?;
        backend.refuse_nul("server URL", server_url)?;
        let url = server_url.to_string();
        self.call(backend, move |b, deadline| match b {
            #[cfg(all(unix, not(target_os = "macos")))]
            Backend::SecretService => crate::secret_service::get(&url, deadline),
            Backend::Simple => crate::simple::get(&url),
        })
    }

    fn store(&self, creds: &Credentials) -> Result<(), Error> {
        let backend = self.backend()?;
        backend.refuse_nul("server URL", &creds.server_url)?;
        backend.refuse_nul("username", &creds.username)?;
        let creds = creds.clone();
        self.call(backend, move |b, deadline| match b {
            #[cfg(all(unix, not(target_os = "macos")))]
            Backend::SecretService => crate::secret_service::store(&creds, deadline),
            Backend::Simple => crate::simple::store(&creds),
        })
    }

    fn erase(&self, server_url: &str) -> Result<(), Error> {
        let backend = self.backend()?;
        backend.refuse_nul("server URL", server_url)?;
        let url = server_url.to_string();
        self.call(backend, move |b, deadline| match b {
            #[cfg(all(unix, not(target_os = "macos")))]
            Backend::SecretService => crate::secret_service::erase(&url, deadline),
            Backend::Simple => crate::simple::erase(&url),
        })
    }

    fn list(&self) -> Result<BTreeMap<String, String>, Error> {
        let backend = self.backend()?;
        let listed = self.call(backend, move |b, deadline| match b {
            #[cfg(all(unix, not(target_os = "macos")))]
            Backend::SecretService => crate::secret_service::list(deadline).map(Some),
            Backend::Simple => Ok(None),
        })?;
        listed.ok_or(Error::NotImplemented)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn a_nul_is_refused_where_the_keyring_cannot_hold_it() {
        let refused = |b: Backend, field, value| match b.refuse_nul(field, value) {
            Err(e @ KeyringError::Nul { .. }) => Some(e.to_string()),
            _ => None,
        };
        assert_eq!(
            refused(Backend::SecretService, "username", "a\0b").as_deref(),
            Some("the username contains a NUL character, which the Secret Service cannot store")
        );
        assert_eq!(
            refused(Backend::Simple, "server URL", "h\0").as_deref(),
            Some("the server URL contains a NUL character, which the kernel keyring cannot store")
        );
        assert_eq!(
            refused(Backend::Simple, "username", "a\0b"),
            None,
            "inside JSON"
        );
        assert_eq!(refused(Backend::SecretService, "username", "ab"), None);
    }
}

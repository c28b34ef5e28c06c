//! The `Store`: picks the platform's keyring (or the one asked for) and bounds every call.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use credhelper::os::env::{self, Prompter};
use credhelper::{Credentials, Error, Store};

use crate::bounded;
use crate::errors::{KeyringError, Which};

use crate::env::{BACKEND_ENV, PERSIST_ENV, TIMEOUT_ENV};

/// Which keyring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    /// The Secret Service over D-Bus, items as docker-credential-secretservice writes them.
    #[cfg(all(unix, not(target_os = "macos")))]
    SecretService,
    /// The Linux kernel keyring: the session's keyring, or the user's persistent one.
    #[cfg(target_os = "linux")]
    KernelKeyring(crate::keyutils::Scope),
    /// A keyring-core store with one item per server (Keychain, Credential Manager).
    #[cfg(not(target_os = "linux"))]
    Simple,
}

impl Backend {
    fn which(self) -> Which {
        match self {
            #[cfg(all(unix, not(target_os = "macos")))]
            Backend::SecretService => Which::SecretService,
            #[cfg(target_os = "linux")]
            Backend::KernelKeyring(_) => Which::KernelKeyring,
            #[cfg(not(target_os = "linux"))]
            Backend::Simple => crate::simple::WHICH,
        }
    }

    /// Refuses a value the keyring cannot hold: a NUL ends a D-Bus string and a kernel key's
    /// description early (Go's helpers store the value cut at the NUL). The kernel keyring and
    /// the one-item stores keep the username inside their JSON, where a NUL is fine.
    fn refuse_nul(self, field: &'static str, value: &str) -> Result<(), KeyringError> {
        let in_json = field == "username" && !self.searches_by_attribute();
        if value.contains('\0') && !in_json {
            return Err(KeyringError::Nul {
                which: self.which(),
                field,
            });
        }
        Ok(())
    }

    fn searches_by_attribute(self) -> bool {
        #[cfg(all(unix, not(target_os = "macos")))]
        if self == Backend::SecretService {
            return true;
        }
        false
    }
}

/// The kernel keyring's scope from [`PERSIST_ENV`]: the session unless it says otherwise; the
/// value itself when it is neither on nor off.
#[cfg(target_os = "linux")]
fn scope_from_env() -> Result<crate::keyutils::Scope, String> {
    use crate::keyutils::Scope;
    match std::env::var(PERSIST_ENV).as_deref().map(str::trim) {
        Err(_) | Ok("" | "0" | "false" | "no") => Ok(Scope::Session),
        Ok("1" | "true" | "yes") => Ok(Scope::Persistent),
        Ok(other) => Err(other.to_string()),
    }
}

/// What was wrong with the environment's request (reported by every action).
#[derive(Clone)]
enum BadRequest {
    Backend(String, &'static str),
    #[cfg(target_os = "linux")]
    Persist(String),
}

/// docker credentials in the OS keyring.
pub struct KeyringStore {
    /// The keyring asked for, or what was wrong with the request.
    backend: Result<Backend, BadRequest>,
    limit: Duration,
}

impl KeyringStore {
    /// The keyring the environment asks for, with its time bound.
    pub fn from_env() -> KeyringStore {
        let backend = match std::env::var(BACKEND_ENV).as_deref().map(str::trim) {
            Err(_) | Ok("") => default_backend(),
            #[cfg(all(unix, not(target_os = "macos")))]
            Ok("secret-service") => Ok(Backend::SecretService),
            #[cfg(target_os = "linux")]
            Ok("keyutils") => scope_from_env()
                .map(Backend::KernelKeyring)
                .map_err(BadRequest::Persist),
            Ok(other) => Err(BadRequest::Backend(
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
        self.backend.clone().map_err(|bad| match bad {
            BadRequest::Backend(value, expected) => {
                KeyringError::UnknownBackend { value, expected }
            }
            #[cfg(target_os = "linux")]
            BadRequest::Persist(value) => KeyringError::UnknownPersist { value },
        })
    }

    /// Runs `op` on a worker thread within the bound; `op` gets the deadline, for the steps
    /// that divide it (several bus addresses).
    fn call<T: Send + 'static>(
        &self,
        backend: Backend,
        op: impl FnOnce(Backend, Instant) -> Result<T, KeyringError> + Send + 'static,
    ) -> Result<T, Error> {
        self.call_here(backend, move |b, deadline| {
            bounded::run(
                deadline.saturating_duration_since(Instant::now()),
                move || op(b, deadline),
            )
        })
    }

    /// Runs `op` on this thread; `op` keeps the bound itself and answers `None` when it passed
    /// (the Secret Service's reads: futures that never block, see `bounded::block_on`).
    fn call_here<T>(
        &self,
        backend: Backend,
        op: impl FnOnce(Backend, Instant) -> Option<Result<T, KeyringError>>,
    ) -> Result<T, Error> {
        #[cfg(all(unix, not(target_os = "macos")))]
        if backend == Backend::SecretService {
            crate::secret_service::check_bus()?;
        }
        let secs = self.limit.as_secs_f64();
        let deadline = Instant::now() + self.limit;
        let result = op(backend, deadline).unwrap_or_else(|| {
            Err(KeyringError::Timeout {
                which: backend.which(),
                secs,
            })
        });
        Ok(result?)
    }
}

fn default_backend() -> Result<Backend, BadRequest> {
    #[cfg(all(unix, not(target_os = "macos")))]
    return Ok(Backend::SecretService);
    #[cfg(not(all(unix, not(target_os = "macos"))))]
    return Ok(Backend::Simple);
}

impl Store for KeyringStore {
    fn get(&self, server_url: &str) -> Result<Credentials, Error> {
        let backend = self.backend()?;
        backend.refuse_nul("server URL", server_url)?;
        let url = server_url.to_string();
        match backend {
            // On this thread: see `call_here`.
            #[cfg(all(unix, not(target_os = "macos")))]
            Backend::SecretService => self.call_here(backend, |_, deadline| {
                crate::secret_service::get(&url, deadline)
            }),
            #[cfg(target_os = "linux")]
            Backend::KernelKeyring(scope) => {
                self.call(backend, move |_, _| crate::keyutils::get(&url, scope))
            }
            #[cfg(not(target_os = "linux"))]
            Backend::Simple => self.call(backend, move |_, _| crate::simple::get(&url)),
        }
    }

    fn store(&self, creds: &Credentials) -> Result<(), Error> {
        let backend = self.backend()?;
        backend.refuse_nul("server URL", &creds.server_url)?;
        backend.refuse_nul("username", &creds.username)?;
        let creds = creds.clone();
        self.call(backend, move |b, deadline| match b {
            #[cfg(all(unix, not(target_os = "macos")))]
            Backend::SecretService => crate::secret_service::store(&creds, deadline),
            #[cfg(target_os = "linux")]
            Backend::KernelKeyring(scope) => crate::keyutils::store(&creds, scope),
            #[cfg(not(target_os = "linux"))]
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
            #[cfg(target_os = "linux")]
            Backend::KernelKeyring(scope) => crate::keyutils::erase(&url, scope),
            #[cfg(not(target_os = "linux"))]
            Backend::Simple => crate::simple::erase(&url),
        })
    }

    fn list(&self) -> Result<BTreeMap<String, String>, Error> {
        let backend = self.backend()?;
        #[cfg(all(unix, not(target_os = "macos")))]
        if backend == Backend::SecretService {
            return self.call_here(backend, |_, deadline| crate::secret_service::list(deadline));
        }
        let _ = backend;
        Err(Error::NotImplemented)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn a_nul_is_refused_where_the_keyring_cannot_hold_it() {
        let ss = Backend::SecretService;
        let kernel = Backend::KernelKeyring(crate::keyutils::Scope::Session);
        let refused = |b: Backend, field, value| match b.refuse_nul(field, value) {
            Err(e @ KeyringError::Nul { .. }) => Some(e.to_string()),
            _ => None,
        };
        assert_eq!(
            refused(ss, "username", "a\0b").as_deref(),
            Some("the username contains a NUL character, which the Secret Service cannot store")
        );
        assert_eq!(
            refused(kernel, "server URL", "h\0").as_deref(),
            Some("the server URL contains a NUL character, which the kernel keyring cannot store")
        );
        assert_eq!(refused(kernel, "username", "a\0b"), None, "inside JSON");
        assert_eq!(refused(ss, "username", "ab"), None);
    }
}

//! The keyring's failures as values, mapped to the protocol's errors at the `Store` boundary
//! (`backend.rs`). Nothing here reads an error's text back: a case that matters has a variant.

use credhelper::Error;

/// Which keyring a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// The Secret Service over D-Bus (gnome-keyring, KeePassXC).
    SecretService,
    /// The Linux kernel keyring.
    KernelKeyring,
    /// The macOS Keychain.
    Keychain,
    /// The Windows Credential Manager.
    CredentialManager,
}

impl std::fmt::Display for Which {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Which::SecretService => "Secret Service",
            Which::KernelKeyring => "kernel keyring",
            Which::Keychain => "Keychain",
            Which::CredentialManager => "Windows Credential Manager",
        })
    }
}

/// Why a keyring call failed. Every message says what to do; none holds a secret.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    /// No credential for the server.
    #[error("credentials not found in native keychain")]
    NotFound,
    /// `DOCKER_CREDENTIAL_KEYRING_BACKEND` names no keyring of this platform.
    #[error("unknown {}={value}: expected {expected}", crate::env::BACKEND_ENV)]
    UnknownBackend {
        /// What it says.
        value: String,
        /// What it may say here.
        expected: &'static str,
    },
    /// No session bus at all.
    #[error(
        "no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is not set and $XDG_RUNTIME_DIR/bus does not exist; run inside a desktop session or `dbus-run-session -- …`, or set DOCKER_CREDENTIAL_KEYRING_BACKEND=keyutils"
    )]
    NoBus,
    /// A session bus on which nothing provides the Secret Service.
    #[error(
        "no Secret Service on the D-Bus session bus: start one (gnome-keyring-daemon --start --components=secrets, or KeePassXC with its Secret Service integration), or set DOCKER_CREDENTIAL_KEYRING_BACKEND=keyutils"
    )]
    NoProvider,
    /// The item is in a locked collection and no unlock prompt can be shown.
    #[error(
        "the Secret Service keyring holding {url} is locked and no unlock prompt can be shown here: unlock it first (log in to the desktop session, or `gnome-keyring-daemon --unlock`)"
    )]
    LockedNoPrompt {
        /// The server.
        url: String,
    },
    /// The keyring refused access (the Keychain or the Credential Manager: locked, or no login
    /// session to unlock it).
    #[error(
        "the {which} refused access ({source}): unlock it first, or run in a desktop login session"
    )]
    NoAccess {
        /// Which keyring.
        which: Which,
        /// The platform's reason.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A value holds a NUL character: D-Bus strings and the kernel's key descriptions are C
    /// strings, so the keyring cannot hold it (Go's helpers cut the value at the NUL instead).
    #[error("the {field} contains a NUL character, which the {which} cannot store")]
    Nul {
        /// Which keyring.
        which: Which,
        /// Which value: "server URL" or "username".
        field: &'static str,
    },
    /// No address of the session bus could be connected to.
    #[error("{}", bus_unreachable_message(*count, last))]
    BusUnreachable {
        /// How many addresses were tried.
        count: usize,
        /// What went wrong with the last one.
        last: String,
    },
    /// An item or keyring was locked (or became locked) while the call used it.
    #[error(
        "the Secret Service keyring is locked: unlock it first (log in to the desktop session, or `gnome-keyring-daemon --unlock`)"
    )]
    Locked,
    /// Nothing usable without a prompt, and the prompt was dismissed (or could not be shown).
    #[error(
        "the Secret Service's unlock prompt was dismissed (or could not be shown): unlock the keyring and try again"
    )]
    PromptDismissed,
    /// The Secret Service has no default collection to create an item in.
    #[error(
        "the Secret Service has no default keyring to store {url} in (none was created, or unlocked at login) and no prompt to create one can be shown here: log in to the desktop session, or create one (Seahorse, or a KeePassXC database with Secret Service integration)"
    )]
    NoDefaultCollection {
        /// The server.
        url: String,
    },
    /// The kernel keyring: the credentials are larger than a key can hold.
    #[error(
        "the credentials for {url} are too big for the kernel keyring: stored as JSON they take {bytes} bytes, and a key holds at most {limit} bytes (the kernel's limit for user keys); use the Secret Service for secrets this long"
    )]
    TooBig {
        /// The server.
        url: String,
        /// The stored form's size.
        bytes: usize,
        /// The kernel's limit.
        limit: usize,
    },
    /// The kernel keyring: this user's key quota is used up.
    #[error(
        "the kernel keyring quota of this user is full (/proc/sys/kernel/keys/maxbytes and maxkeys): erase credentials no longer needed (`keyctl show @s`), or raise the quota"
    )]
    KeyQuota,
    /// The kernel keyring: this process has no session keyring of its own, only the user-session
    /// keyring that every process of the user without a session shares.
    #[error("{}", no_session_keyring_message())]
    NoSessionKeyring,
    /// The kernel keyring refused an operation.
    #[error(
        "the kernel keyring refused to {op} ({why}): keyctl is not permitted here (a container's seccomp profile blocks it) or the keyring is not this user's"
    )]
    KernelDenied {
        /// What was tried.
        op: &'static str,
        /// The kernel's reason, in words.
        why: &'static str,
    },
    /// The kernel keyring failed otherwise.
    #[error("the kernel keyring failed to {op}: {why}")]
    Kernel {
        /// What was tried.
        op: &'static str,
        /// The kernel's reason, in words.
        why: String,
    },
    /// `DOCKER_CREDENTIAL_KEYRING_PERSIST` is neither on nor off.
    #[error(
        "unknown {}={value}: expected 1 (keep kernel keyring credentials in the persistent keyring) or 0",
        crate::env::PERSIST_ENV
    )]
    UnknownPersist {
        /// What it says.
        value: String,
    },
    /// The call did not finish within the bound.
    #[error("{}", timeout_message(*which, *secs))]
    Timeout {
        /// Which keyring.
        which: Which,
        /// The bound, in seconds.
        secs: f64,
    },
    /// The stored secret is not UTF-8 text (the protocol carries text).
    #[error("the secret in the {which} is not UTF-8 text")]
    NotUtf8 {
        /// Which keyring.
        which: Which,
    },
    /// A one-item store's item that is not docker credentials JSON.
    #[error("the {which} item for {url} is not ours (not docker credentials JSON)")]
    NotOurs {
        /// Which keyring.
        which: Which,
        /// The server.
        url: String,
    },
    /// A value the keyring cannot hold.
    #[error("the {field} is too long for the {which}: at most {limit} characters fit")]
    TooLong {
        /// Which keyring.
        which: Which,
        /// Which value.
        field: String,
        /// Its limit.
        limit: u32,
    },
    /// A value the keyring refuses.
    #[error("invalid {field} for the {which}: {why}")]
    Invalid {
        /// Which keyring.
        which: Which,
        /// Which value.
        field: String,
        /// Why.
        why: String,
    },
    /// More than one item matched where one was expected.
    #[error(
        "{count} items in the {which} match one credential; remove the extra ones (secret-tool search --all …)"
    )]
    Ambiguous {
        /// Which keyring.
        which: Which,
        /// How many.
        count: usize,
    },
    /// The Secret Service answered with something it should not have.
    #[cfg(all(unix, not(target_os = "macos")))]
    #[error("the Secret Service sent odd attributes: {0}")]
    OddReply(#[source] zbus::zvariant::Error),
    /// A D-Bus call failed.
    #[cfg(all(unix, not(target_os = "macos")))]
    #[error("the Secret Service failed: {0}")]
    Dbus(#[source] zbus::Error),
    /// The platform store failed otherwise.
    #[error("the {which} failed: {source}")]
    Platform {
        /// Which keyring.
        which: Which,
        /// The platform's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// This platform has no keyring we support.
    #[error("the {which} is not supported here: {why}")]
    Unsupported {
        /// Which keyring.
        which: Which,
        /// Why.
        why: String,
    },
    /// The worker thread could not start, or died.
    #[error("the keyring call could not run: {0}")]
    Worker(String),
}

fn bus_unreachable_message(count: usize, last: &str) -> String {
    if count > 1 {
        format!(
            "cannot connect to the D-Bus session bus at any of the {count} addresses in DBUS_SESSION_BUS_ADDRESS (the last: {last}); is the desktop session (or dbus-daemon) running?"
        )
    } else {
        format!(
            "cannot connect to the D-Bus session bus ({last}); is the desktop session (or dbus-daemon) running?"
        )
    }
}

fn no_session_keyring_message() -> String {
    format!(
        "this process has no session keyring of its own, only the user-session keyring that every process of this user without a session shares: run the client under `keyctl session - …` or in a PAM login session (pam_keyinit), or set {}=1 to keep credentials in the user's persistent keyring (readable by every process of this user for days)",
        crate::env::PERSIST_ENV
    )
}

fn timeout_message(which: Which, secs: f64) -> String {
    let env = crate::env::TIMEOUT_ENV;
    match which {
        Which::SecretService => format!(
            "the Secret Service did not answer within {secs} s: either none runs on the session bus (start gnome-keyring-daemon --components=secrets, or KeePassXC's Secret Service) or the keyring is locked and waits for a prompt nobody can answer (unlock it first); {env} raises the bound"
        ),
        _ => format!("the {which} did not answer within {secs} s ({env} raises the bound)"),
    }
}

#[cfg(all(unix, not(target_os = "macos")))]
fn is_service_unknown(e: &zbus::Error) -> bool {
    match e {
        zbus::Error::MethodError(name, _, _) => {
            name.as_str() == "org.freedesktop.DBus.Error.ServiceUnknown"
        }
        zbus::Error::FDO(e) => matches!(**e, zbus::fdo::Error::ServiceUnknown(_)),
        _ => false,
    }
}

#[cfg(all(unix, not(target_os = "macos")))]
impl KeyringError {
    /// A failed D-Bus call: "nothing provides the Secret Service" has a variant of its own.
    pub fn from_dbus(e: zbus::Error) -> KeyringError {
        if is_service_unknown(&e) {
            KeyringError::NoProvider
        } else {
            KeyringError::Dbus(e)
        }
    }

    /// Maps an error of the `secret-service` crate (the write path and unlock prompts). Its own
    /// `Display` ("SS error: …", "zbus error: …") is never shown: each case gets a variant.
    pub fn from_secret_service(err: secret_service::Error) -> KeyringError {
        use secret_service::Error as S;
        match err {
            S::Zbus(e) => KeyringError::from_dbus(e),
            S::ZbusFdo(zbus::fdo::Error::ServiceUnknown(_)) | S::Unavailable => {
                KeyringError::NoProvider
            }
            S::ZbusFdo(e) => KeyringError::Dbus(e.into()),
            S::Zvariant(e) => KeyringError::OddReply(e),
            S::Locked => KeyringError::Locked,
            S::Prompt | S::PromptDisconnected => KeyringError::PromptDismissed,
            S::NoResult => KeyringError::NotFound,
            other => KeyringError::Platform {
                which: Which::SecretService,
                source: Box::new(CoreError(ss_summary(&other))),
            },
        }
    }
}

/// secret-service variants this code does not expect (a session cipher error: the sessions
/// here are plain), summarised in words.
#[cfg(all(unix, not(target_os = "macos")))]
fn ss_summary(err: &secret_service::Error) -> &'static str {
    match err {
        secret_service::Error::Crypto(_) => "a session encryption error",
        _ => "an unexpected Secret Service error",
    }
}

#[cfg(not(target_os = "linux"))]
impl KeyringError {
    /// Maps a keyring-core error, from the keyring `which`. The platform errors inside stay
    /// whole as the source; keyring-core's own `Display` is never used, since some of its
    /// variants print `Debug` dumps of entries.
    pub fn from_core(err: keyring_core::Error, which: Which) -> KeyringError {
        use keyring_core::Error as K;
        match err {
            K::NoEntry => KeyringError::NotFound,
            K::NoStorageAccess(source) => KeyringError::NoAccess { which, source },
            K::BadEncoding(_) | K::BadDataFormat(..) => KeyringError::NotUtf8 { which },
            K::TooLong(field, limit) => KeyringError::TooLong {
                which,
                field,
                limit,
            },
            K::Invalid(field, why) => KeyringError::Invalid { which, field, why },
            K::Ambiguous(entries) => KeyringError::Ambiguous {
                which,
                count: entries.len(),
            },
            K::PlatformFailure(source) => KeyringError::Platform { which, source },
            K::NotSupportedByStore(why) => KeyringError::Unsupported { which, why },
            other => KeyringError::Platform {
                which,
                source: Box::new(CoreError(core_summary(&other))),
            },
        }
    }
}

/// Library error variants this code does not expect (keyring-core: no default store, a
/// malformed store; secret-service: a cipher error), summarised in words.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct CoreError(&'static str);

#[cfg(not(target_os = "linux"))]
fn core_summary(err: &keyring_core::Error) -> &'static str {
    use keyring_core::Error as K;
    match err {
        K::BadStoreFormat(_) => "the store's data is malformed",
        K::NoDefaultStore => "no keyring store was set up",
        _ => "an unexpected keyring error",
    }
}

/// The protocol's error for a keyring failure: a value the keyring cannot hold is the caller's
/// to fix; every other failure is the backend's.
impl From<KeyringError> for Error {
    fn from(e: KeyringError) -> Error {
        match e {
            KeyringError::NotFound => Error::NotFound,
            KeyringError::UnknownBackend { .. }
            | KeyringError::UnknownPersist { .. }
            | KeyringError::Nul { .. }
            | KeyringError::TooBig { .. }
            | KeyringError::TooLong { .. }
            | KeyringError::Invalid { .. } => Error::bad_input(e),
            e => Error::backend(e),
        }
    }
}

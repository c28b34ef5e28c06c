//! The Linux kernel keyring (keyutils), for headless machines: one `user` key per server holding
//! `{"ServerURL","Username","Secret"}` JSON, since keys have no attributes to search by.
//!
//! **Scope.** By default a key lives in this process's session keyring (the one `keyctl session`
//! or a PAM login with `pam_keyinit` creates), so it lasts as long as that session and is seen by
//! nothing outside it. A process with no session keyring of its own falls back to the
//! user-session keyring, which every such process of the user shares (session-keyring(7)): that
//! is refused. `DOCKER_CREDENTIAL_KEYRING_PERSIST=1` keeps keys in the user's persistent keyring
//! instead (persistent-keyring(7)), where every later process of the same uid, in any session,
//! reads them until the keyring expires (`/proc/sys/kernel/keys/persistent_keyring_expiry`, 3
//! days by default, renewed at each use) or the machine reboots.
//!
//! **Why not linux-keyutils-keyring-store**, keyring-core's store for this, which kept the keys
//! until issue 12: it links every key it stores into the persistent keyring, and links that
//! keyring into the session keyring of every process that opens an entry, so a later, separate
//! session of the same uid read any credential for up to three days (on a shared CI runner, one
//! job read another job's registry password). It has no setting for that. This module makes the
//! same few calls with linux-keyutils, the crate under that store, and chooses the keyring itself.

use credhelper::{Credentials, Secret};
use linux_keyutils::{KeyError, KeyRing, KeyRingIdentifier};

use crate::errors::{KeyringError, Which};

/// The key's description, as keyring-core's store built it (`keyring:<user>@<service>`), so keys
/// stored by earlier versions still read.
fn description(url: &str) -> String {
    format!("{PREFIX}{url}")
}
const PREFIX: &str = "keyring:docker-credential-keyring@";

/// The kernel's limit on a `user` key's payload (`user_preparse` in
/// security/keys/user_defined.c): 32,767 bytes.
pub const MAX_PAYLOAD: usize = 32_767;
/// The kernel's limit on a key's description: 4,095 bytes (`KEY_MAX_DESC_SIZE`, with the NUL).
const MAX_DESCRIPTION: usize = 4_095;

/// Where keys live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// This process's own session keyring: for the session, and no longer.
    Session,
    /// The user's persistent keyring: for every process of the user, for days.
    Persistent,
}

/// The kernel's reason, in words (linux-keyutils' own `Display` is its `Debug` text).
fn reason(e: KeyError) -> String {
    match e {
        KeyError::AccessDenied => "access denied".into(),
        KeyError::PermissionDenied => "operation not permitted".into(),
        KeyError::QuotaExceeded => "the key quota is used up".into(),
        KeyError::InvalidArguments => "invalid argument".into(),
        KeyError::InvalidDescription => "invalid key description".into(),
        KeyError::OperationNotSupported => "not supported by this kernel".into(),
        KeyError::OutOfMemory => "out of memory".into(),
        KeyError::KeyExpired => "the key has expired".into(),
        KeyError::KeyRevoked => "the key was revoked".into(),
        KeyError::KeyRejected => "the key was rejected".into(),
        KeyError::KeyDoesNotExist => "no such key".into(),
        KeyError::KeyringDoesNotExist => "no such keyring".into(),
        KeyError::Unknown(errno) => std::io::Error::from_raw_os_error(errno).to_string(),
        _ => "an unexpected keyctl error".into(),
    }
}

/// Maps a keyctl failure during `op`.
fn kernel(op: &'static str, e: KeyError) -> KeyringError {
    match e {
        KeyError::KeyDoesNotExist | KeyError::KeyExpired | KeyError::KeyRevoked => {
            KeyringError::NotFound
        }
        KeyError::QuotaExceeded => KeyringError::KeyQuota,
        KeyError::AccessDenied => KeyringError::KernelDenied {
            op,
            why: "access denied",
        },
        KeyError::PermissionDenied => KeyringError::KernelDenied {
            op,
            why: "operation not permitted",
        },
        other => KeyringError::Kernel {
            op,
            why: reason(other),
        },
    }
}

/// This process's own session keyring. Asking the kernel for the session keyring of a process
/// that has none attaches the user-session keyring and answers with it, so the two ids are
/// compared.
fn own_session() -> Result<KeyRing, KeyringError> {
    let op = "find the session keyring";
    let session =
        KeyRing::from_special_id(KeyRingIdentifier::Session, false).map_err(|e| kernel(op, e))?;
    let user_session = KeyRing::from_special_id(KeyRingIdentifier::UserSession, false)
        .map_err(|e| kernel(op, e))?;
    if session == user_session {
        return Err(KeyringError::NoSessionKeyring);
    }
    Ok(session)
}

/// The user's persistent keyring, linked into this process's keyring (which ends with the
/// process), never into a session keyring that would then show it to the whole session.
fn persistent() -> Result<KeyRing, KeyringError> {
    KeyRing::get_persistent(KeyRingIdentifier::Process)
        .map_err(|e| kernel("open the persistent keyring", e))
}

/// The keyrings `scope` reads, in order: the persistent keyring (with `Persistent`), then the
/// session's own. At least one, or the reason there is none.
fn readable(scope: Scope) -> Result<Vec<KeyRing>, KeyringError> {
    match scope {
        Scope::Session => Ok(vec![own_session()?]),
        Scope::Persistent => {
            let mut rings = vec![persistent()?];
            match own_session() {
                Ok(session) => rings.push(session),
                Err(KeyringError::NoSessionKeyring) => {}
                Err(e) => return Err(e),
            }
            Ok(rings)
        }
    }
}

fn checked_description(url: &str) -> Result<String, KeyringError> {
    let desc = description(url);
    if desc.len() > MAX_DESCRIPTION {
        return Err(KeyringError::TooLong {
            which: Which::KernelKeyring,
            field: "server URL".into(),
            limit: u32::try_from(MAX_DESCRIPTION - PREFIX.len()).unwrap_or(u32::MAX),
        });
    }
    Ok(desc)
}

pub fn get(url: &str, scope: Scope) -> Result<Credentials, KeyringError> {
    let desc = checked_description(url)?;
    for ring in readable(scope)? {
        let key = match ring.search(&desc) {
            Ok(key) => key,
            Err(e) => match kernel("search the keyring", e) {
                KeyringError::NotFound => continue,
                other => return Err(other),
            },
        };
        let bytes =
            zeroize::Zeroizing::new(key.read_to_vec().map_err(|e| kernel("read the key", e))?);
        let text = std::str::from_utf8(&bytes).map_err(|_| KeyringError::NotUtf8 {
            which: Which::KernelKeyring,
        })?;
        let creds = Credentials::from_get_json(text).map_err(|_| KeyringError::NotOurs {
            which: Which::KernelKeyring,
            url: url.to_string(),
        })?;
        return Ok(Credentials {
            server_url: url.to_string(),
            ..creds
        });
    }
    Err(KeyringError::NotFound)
}

pub fn store(c: &Credentials, scope: Scope) -> Result<(), KeyringError> {
    let desc = checked_description(&c.server_url)?;
    let json = Secret::new(c.to_json());
    let bytes = json.expose().len();
    if bytes > MAX_PAYLOAD {
        return Err(KeyringError::TooBig {
            url: c.server_url.clone(),
            bytes,
            limit: MAX_PAYLOAD,
        });
    }
    let ring = match scope {
        Scope::Session => own_session()?,
        Scope::Persistent => persistent()?,
    };
    ring.add_key(&desc, json.expose().as_bytes())
        .map(drop)
        .map_err(|e| kernel("add the key", e))
}

/// Invalidates the server's key in every keyring `scope` reads.
pub fn erase(url: &str, scope: Scope) -> Result<(), KeyringError> {
    let desc = checked_description(url)?;
    let mut erased = false;
    for ring in readable(scope)? {
        match ring.search(&desc) {
            Ok(key) => {
                key.invalidate()
                    .map_err(|e| kernel("invalidate the key", e))?;
                erased = true;
            }
            Err(e) => match kernel("search the keyring", e) {
                KeyringError::NotFound => {}
                other => return Err(other),
            },
        }
    }
    if erased {
        Ok(())
    } else {
        Err(KeyringError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_match_the_keys_stored_before() {
        assert_eq!(description("h:1"), "keyring:docker-credential-keyring@h:1");
    }

    #[test]
    fn too_big_is_refused_before_the_kernel_and_names_the_limit() {
        // Go's escaping (`<` is `\u003c`) makes 6,000 `<` take 36,000 bytes.
        let c = Credentials {
            server_url: "h:1".into(),
            username: "u".into(),
            secret: Secret::new("<".repeat(6_000)),
        };
        let err = store(&c, Scope::Session).expect_err("too big");
        assert!(
            matches!(err, KeyringError::TooBig { bytes, limit: 32_767, .. } if bytes > 36_000),
            "{err:?}"
        );
        assert!(err.to_string().contains("at most 32767 bytes"), "{err}");
    }

    #[test]
    fn kernel_reasons_are_words_not_debug_text() {
        for e in [
            KeyError::AccessDenied,
            KeyError::QuotaExceeded,
            KeyError::InvalidArguments,
            KeyError::OperationNotSupported,
            KeyError::KeyringDoesNotExist,
            KeyError::Unknown(38), // ENOSYS
        ] {
            let text = kernel("add the key", e).to_string();
            assert!(
                !text.contains(&format!("{e:?}")),
                "{text:?} shows the Debug text {e:?}"
            );
        }
        assert!(matches!(
            kernel("search the keyring", KeyError::KeyDoesNotExist),
            KeyringError::NotFound
        ));
    }
}

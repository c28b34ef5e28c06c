//! A keyring-core store with one item per server: the macOS Keychain, the Windows Credential
//! Manager. The item's service is the ServerURL; its secret is `{"Username":…,"Secret":…}`,
//! since these stores cannot search by attribute.
//!
//! Untested: these are compiled on those platforms only, and the project's machines are Linux.
//! (The Linux kernel keyring has a module of its own, `keyutils.rs`.)

use credhelper::{Credentials, Secret};
use keyring_core::Entry;

use crate::errors::{KeyringError, Which};

/// The item's user name: fixed, the docker username lives inside the secret.
const USER: &str = "docker-credential-keyring";

/// This platform's one-item store.
pub const WHICH: Which = if cfg!(target_os = "macos") {
    Which::Keychain
} else {
    Which::CredentialManager
};

fn map(e: keyring_core::Error) -> KeyringError {
    KeyringError::from_core(e, WHICH)
}

/// Connects keyring-core's default store to this platform's store. A process makes one call,
/// so this runs once per process.
fn connect() -> Result<(), KeyringError> {
    #[cfg(target_os = "macos")]
    let store = apple_native_keyring_store::keychain::Store::new();
    #[cfg(windows)]
    let store = windows_native_keyring_store::Store::new();
    #[cfg(not(any(target_os = "macos", windows)))]
    let store: keyring_core::Result<std::sync::Arc<keyring_core::CredentialStore>> = Err(
        keyring_core::Error::NotSupportedByStore("this platform".into()),
    );
    keyring_core::set_default_store(store.map_err(map)?);
    Ok(())
}

fn entry(url: &str) -> Result<Entry, KeyringError> {
    connect()?;
    Entry::new(url, USER).map_err(map)
}

pub fn get(url: &str) -> Result<Credentials, KeyringError> {
    let text = Secret::new(entry(url)?.get_password().map_err(map)?);
    let creds = Credentials::from_get_json(text.expose()).map_err(|_| KeyringError::NotOurs {
        which: WHICH,
        url: url.to_string(),
    })?;
    Ok(Credentials {
        server_url: url.to_string(),
        ..creds
    })
}

pub fn store(c: &Credentials) -> Result<(), KeyringError> {
    let json = Secret::new(c.to_json());
    entry(&c.server_url)?
        .set_password(json.expose())
        .map_err(map)
}

pub fn erase(url: &str) -> Result<(), KeyringError> {
    entry(url)?.delete_credential().map_err(map)
}

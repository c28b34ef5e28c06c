//! A keyring-core store with one item per server: the Linux kernel keyring (keyutils), the macOS
//! Keychain, the Windows Credential Manager. The item's service is the ServerURL; its secret is
//! `{"Username":…,"Secret":…}`, since these stores cannot search by attribute.
//!
//! Only the keyutils path is tested (on Linux); the Keychain and Credential Manager paths are
//! this same code over their keyring stores, compiled on those platforms only.

use credhelper::{Credentials, Error, Secret};
use keyring_core::Entry;

use crate::errors::map;

/// The item's user name: fixed, the docker username lives inside the secret.
const USER: &str = "docker-credential-keyring";

fn what() -> &'static str {
    if cfg!(target_os = "macos") {
        "Keychain"
    } else if cfg!(windows) {
        "Windows Credential Manager"
    } else {
        crate::errors::KERNEL_KEYRING
    }
}

fn connect() -> Result<(), Error> {
    use std::sync::OnceLock;
    static CONNECTED: OnceLock<Result<(), String>> = OnceLock::new();
    CONNECTED
        .get_or_init(|| {
            #[cfg(target_os = "linux")]
            let store = linux_keyutils_keyring_store::Store::new();
            #[cfg(target_os = "macos")]
            let store = apple_native_keyring_store::keychain::Store::new();
            #[cfg(windows)]
            let store = windows_native_keyring_store::Store::new();
            #[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
            let store: keyring_core::Result<
                std::sync::Arc<keyring_core::CredentialStore>,
            > = Err(keyring_core::Error::NotSupportedByStore(
                "this platform".into(),
            ));
            match store {
                Ok(s) => {
                    keyring_core::set_default_store(s);
                    Ok(())
                }
                Err(e) => Err(map(e, what()).to_string()),
            }
        })
        .clone()
        .map_err(Error::Backend)
}

fn entry(url: &str) -> Result<Entry, Error> {
    connect()?;
    Entry::new(url, USER).map_err(|e| map(e, what()))
}

pub fn get(url: &str) -> Result<Credentials, Error> {
    let text = zeroize_string(entry(url)?.get_password().map_err(|e| map(e, what()))?);
    let creds = Credentials::from_get_json(text.expose()).map_err(|_| {
        Error::backend(format!(
            "the {} item for {url} is not ours (not docker credentials JSON)",
            what()
        ))
    })?;
    Ok(Credentials {
        server_url: url.to_string(),
        ..creds
    })
}

pub fn store(c: &Credentials) -> Result<(), Error> {
    let json = Secret::new(c.to_json());
    entry(&c.server_url)?
        .set_password(json.expose())
        .map_err(|e| map(e, what()))
}

pub fn erase(url: &str) -> Result<(), Error> {
    entry(url)?.delete_credential().map_err(|e| map(e, what()))
}

fn zeroize_string(s: String) -> Secret {
    Secret::new(s)
}

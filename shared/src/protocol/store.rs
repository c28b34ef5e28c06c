//! The one trait a helper implements.

use std::collections::BTreeMap;

use super::error::Error;
use super::wire::Credentials;

/// A credential backend. Each method maps the backend's failures onto [`Error`] at this
/// boundary: a missing entry is [`Error::NotFound`], whatever the backend calls it.
pub trait Store {
    /// The credentials saved for exactly this server URL.
    fn get(&self, server_url: &str) -> Result<Credentials, Error>;
    /// Saves the credentials, replacing any for the same server URL and username.
    fn store(&self, creds: &Credentials) -> Result<(), Error>;
    /// Deletes every credential for this server URL; [`Error::NotFound`] if there was none (the
    /// driver answers that as a success, as `docker logout` needs).
    fn erase(&self, server_url: &str) -> Result<(), Error>;
    /// ServerURL → Username for every saved credential, without reading any secret.
    fn list(&self) -> Result<BTreeMap<String, String>, Error>;
}

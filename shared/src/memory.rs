//! A [`Store`] in memory, one username per server URL: enough to drive the protocol without
//! processes, in this crate's tests and in the `protocol` fuzz target.

use std::cell::RefCell;
use std::collections::BTreeMap;

use crate::protocol::error::Error;
use crate::protocol::secret::Secret;
use crate::protocol::store::Store;
use crate::protocol::wire::Credentials;

/// The failure of `fail_on`: two lines, to test that errors reach the wire as one.
#[derive(Debug, thiserror::Error)]
#[error("backend broke\nbadly")]
struct Broke;

/// The store; `fail_on` names a server URL whose `store` fails with a two-line backend error.
#[derive(Default)]
pub struct MemoryStore {
    entries: RefCell<BTreeMap<String, (String, Secret)>>,
    /// A server URL whose `store` fails (to test error paths).
    pub fail_on: Option<String>,
}

impl MemoryStore {
    /// Every entry: server URL → (username, secret).
    pub fn entries(&self) -> BTreeMap<String, (String, String)> {
        self.entries
            .borrow()
            .iter()
            .map(|(k, (u, s))| (k.clone(), (u.clone(), s.expose().to_string())))
            .collect()
    }
}

impl Store for MemoryStore {
    fn get(&self, url: &str) -> Result<Credentials, Error> {
        let map = self.entries.borrow();
        let (user, secret) = map.get(url).ok_or(Error::NotFound)?;
        Ok(Credentials {
            server_url: url.into(),
            username: user.clone(),
            secret: Secret::new(secret.expose().to_string()),
        })
    }
    fn store(&self, c: &Credentials) -> Result<(), Error> {
        if self.fail_on.as_deref() == Some(c.server_url.as_str()) {
            return Err(Error::backend(Broke));
        }
        self.entries.borrow_mut().insert(
            c.server_url.clone(),
            (
                c.username.clone(),
                Secret::new(c.secret.expose().to_string()),
            ),
        );
        Ok(())
    }
    fn erase(&self, url: &str) -> Result<(), Error> {
        self.entries
            .borrow_mut()
            .remove(url)
            .map(|_| ())
            .ok_or(Error::NotFound)
    }
    fn list(&self) -> Result<BTreeMap<String, String>, Error> {
        Ok(self
            .entries
            .borrow()
            .iter()
            .map(|(k, (u, _))| (k.clone(), u.clone()))
            .collect())
    }
}

//! The session bus and the Secret Service calls on it.
//!
//! Reads are plain D-Bus calls on zbus: a get is Hello, SearchItems, one property read,
//! OpenSession and GetSecret — nothing else. The `secret-service` crate adds two more round trips
//! (it reads every proxy's properties when it makes one), and D-Bus round trips are where a get's
//! time goes. Writes and unlock prompts go through that crate on the same connection
//! ([`Bus::service`]): it handles the Secret Service's prompts, and a write is rare.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::{Duration, Instant};

use secret_service::EncryptionType;
use secret_service::blocking::SecretService;
use zbus::blocking::Connection;
use zbus::zvariant::{OwnedObjectPath, OwnedValue, Value};

use crate::errors::KeyringError;

const DEST: &str = "org.freedesktop.secrets";
const SERVICE_PATH: &str = "/org/freedesktop/secrets";
const SERVICE: &str = "org.freedesktop.Secret.Service";
const ITEM: &str = "org.freedesktop.Secret.Item";

/// The environment variable naming the session bus.
const ADDRESS_ENV: &str = "DBUS_SESSION_BUS_ADDRESS";

/// A connection to the session bus.
pub struct Bus {
    conn: Connection,
}

/// Items that match a search: the unlocked ones and the locked ones.
pub struct Found {
    /// Readable now.
    pub unlocked: Vec<OwnedObjectPath>,
    /// Their attributes are readable; their secrets need an unlock.
    pub locked: Vec<OwnedObjectPath>,
}

/// The session bus addresses to try, in order. `DBUS_SESSION_BUS_ADDRESS` may list several,
/// separated by `;` (the D-Bus specification's address list), and libdbus and GDBus try them
/// in turn. zbus 5 does not: it reads the whole value as one address (a `unix:path=` then runs
/// to the end of the string), so the list is split here. Unset or empty: zbus's own default,
/// `$XDG_RUNTIME_DIR/bus`.
fn session_addresses(value: Option<&str>) -> Vec<String> {
    value
        .map(|v| {
            v.split(';')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Connects to one address, within `limit`.
fn connect_one(address: &str, limit: Duration) -> Result<Connection, String> {
    let address = zbus::Address::from_str(address)
        .map_err(|_| format!("{address} is not a D-Bus address"))?;
    let shown = address.to_string();
    let build = move || {
        zbus::blocking::connection::Builder::address(address)
            .and_then(|b| b.method_timeout(limit).build())
            .map_err(KeyringError::Dbus)
    };
    match crate::bounded::run(limit, build) {
        Some(Ok(conn)) => Ok(conn),
        Some(Err(KeyringError::Dbus(e))) => Err(format!("{shown}: {e}")),
        Some(Err(e)) => Err(format!("{shown}: {e}")),
        None => Err(format!(
            "{shown}: no answer within {:.1} s",
            limit.as_secs_f64()
        )),
    }
}

impl Bus {
    /// Connects (and says Hello) to the session bus, trying each address in
    /// `DBUS_SESSION_BUS_ADDRESS` in turn, each within its share of the time left before
    /// `deadline` (one share more is kept for the calls after connecting), so that an address
    /// that hangs cannot use up the bound of the ones after it, and a bus that cannot be reached
    /// is reported as such rather than as a keyring that did not answer.
    pub fn connect(deadline: Instant) -> Result<Bus, KeyringError> {
        let value = std::env::var(ADDRESS_ENV).ok();
        let addresses = session_addresses(value.as_deref());
        if addresses.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            let conn = zbus::blocking::connection::Builder::session()
                .and_then(|b| b.method_timeout(left).build())
                .map_err(KeyringError::from_dbus)?;
            return Ok(Bus { conn });
        }
        let count = addresses.len();
        let mut last = String::new();
        for (i, address) in addresses.iter().enumerate() {
            let left = deadline.saturating_duration_since(Instant::now());
            let share = left / u32::try_from(count - i + 1).unwrap_or(u32::MAX);
            match connect_one(address, share) {
                Ok(conn) => {
                    if i > 0 {
                        tracing::info!(
                            skipped = i,
                            "connected to the session bus at its address #{}",
                            i + 1
                        );
                    }
                    return Ok(Bus { conn });
                }
                Err(why) => {
                    tracing::info!("session bus address #{} unusable: {why}", i + 1);
                    last = why;
                }
            }
        }
        Err(KeyringError::BusUnreachable { count, last })
    }

    fn call<B, R>(&self, path: &str, iface: &str, method: &str, body: &B) -> Result<R, KeyringError>
    where
        B: serde::Serialize + zbus::zvariant::DynamicType,
        R: for<'d> serde::Deserialize<'d> + zbus::zvariant::Type,
    {
        let reply = self
            .conn
            .call_method(Some(DEST), path, Some(iface), method, body)
            .map_err(KeyringError::from_dbus)?;
        reply.body().deserialize::<R>().map_err(KeyringError::Dbus)
    }

    /// `SearchItems` with these attributes.
    pub fn search(&self, attrs: &HashMap<&str, &str>) -> Result<Found, KeyringError> {
        let (unlocked, locked): (Vec<OwnedObjectPath>, Vec<OwnedObjectPath>) =
            self.call(SERVICE_PATH, SERVICE, "SearchItems", &(attrs,))?;
        tracing::debug!(
            unlocked = unlocked.len(),
            locked = locked.len(),
            "SearchItems"
        );
        Ok(Found { unlocked, locked })
    }

    /// An item's attributes; readable on locked items too.
    pub fn attributes(
        &self,
        item: &OwnedObjectPath,
    ) -> Result<HashMap<String, String>, KeyringError> {
        let value: OwnedValue = self.call(
            item.as_str(),
            "org.freedesktop.DBus.Properties",
            "Get",
            &(ITEM, "Attributes"),
        )?;
        HashMap::<String, String>::try_from(value).map_err(KeyringError::OddReply)
    }

    /// One unlocked item's secret, through a plain session (see `secret_service::get`).
    pub fn secret(
        &self,
        item: &OwnedObjectPath,
    ) -> Result<zeroize::Zeroizing<Vec<u8>>, KeyringError> {
        let (_, session): (OwnedValue, OwnedObjectPath) = self.call(
            SERVICE_PATH,
            SERVICE,
            "OpenSession",
            &("plain", Value::from("")),
        )?;
        let (_, _, value, _): (OwnedObjectPath, Vec<u8>, Vec<u8>, String) =
            self.call(item.as_str(), ITEM, "GetSecret", &(&session,))?;
        Ok(zeroize::Zeroizing::new(value))
    }

    /// The `secret-service` crate on this connection, with a plain session (see
    /// `secret_service::get` for why plain): for writes and unlock prompts.
    pub fn service(&self) -> Result<SecretService<'static>, KeyringError> {
        SecretService::connect_with_existing(EncryptionType::Plain, self.conn.clone())
            .map_err(KeyringError::from_secret_service)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_list_is_split_in_order() {
        assert_eq!(
            session_addresses(Some(
                "unix:path=/a;unix:abstract=b,guid=0123; ;tcp:host=h,port=1;"
            )),
            [
                "unix:path=/a",
                "unix:abstract=b,guid=0123",
                "tcp:host=h,port=1"
            ]
        );
        assert_eq!(session_addresses(Some("unix:path=/a")), ["unix:path=/a"]);
        assert!(session_addresses(Some("")).is_empty());
        assert!(session_addresses(Some(" ; ")).is_empty());
        assert!(session_addresses(None).is_empty());
    }

    #[test]
    fn an_unusable_address_says_why_in_words() {
        let why = connect_one("nonsense", Duration::from_secs(1)).err();
        assert_eq!(why.as_deref(), Some("nonsense is not a D-Bus address"));
        let missing = "unix:path=/nonexistent/dch-test/bus";
        let why = connect_one(missing, Duration::from_secs(1)).err();
        assert!(
            why.as_deref()
                .is_some_and(|w| w.starts_with(missing) && w.contains("No such file")),
            "{why:?}"
        );
    }
}

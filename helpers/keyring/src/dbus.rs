//! The read path as plain D-Bus calls on zbus: a get is Hello, SearchItems, one property read,
//! OpenSession and GetSecret — nothing else. The `secret-service` crate adds two more round trips
//! (it reads every proxy's properties when it makes one), and D-Bus round trips are where a get's
//! time goes.

use std::collections::HashMap;

use zbus::blocking::Connection;
use zbus::zvariant::{OwnedObjectPath, OwnedValue, Value};

const DEST: &str = "org.freedesktop.secrets";
const SERVICE_PATH: &str = "/org/freedesktop/secrets";
const SERVICE: &str = "org.freedesktop.Secret.Service";
const ITEM: &str = "org.freedesktop.Secret.Item";

/// A connection to the session bus, for reads.
pub struct Reader {
    conn: Connection,
}

/// Items that match a search: the unlocked ones and the locked ones.
pub struct Found {
    /// Readable now.
    pub unlocked: Vec<OwnedObjectPath>,
    /// Their attributes are readable; their secrets need an unlock.
    pub locked: Vec<OwnedObjectPath>,
}

use crate::errors::KeyringError;

/// Whether a D-Bus failure means that nothing provides the Secret Service on the bus: the bus
/// says the name is unknown (nothing owns it, nothing can be activated), or the secret-service
/// crate concluded as much. Looked for anywhere in the error's source chain, by type.
pub fn no_provider(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(e) = e.downcast_ref::<zbus::Error>()
            && is_service_unknown(e)
        {
            return true;
        }
        if let Some(zbus::fdo::Error::ServiceUnknown(_)) = e.downcast_ref::<zbus::fdo::Error>() {
            return true;
        }
        if let Some(secret_service::Error::Unavailable) = e.downcast_ref::<secret_service::Error>()
        {
            return true;
        }
        next = e.source();
    }
    false
}

fn is_service_unknown(e: &zbus::Error) -> bool {
    match e {
        zbus::Error::MethodError(name, _, _) => {
            name.as_str() == "org.freedesktop.DBus.Error.ServiceUnknown"
        }
        zbus::Error::FDO(e) => matches!(**e, zbus::fdo::Error::ServiceUnknown(_)),
        _ => false,
    }
}

fn dbus_error(e: zbus::Error) -> KeyringError {
    if is_service_unknown(&e) {
        KeyringError::NoProvider
    } else {
        KeyringError::Dbus(e)
    }
}

impl Reader {
    /// Connects (and says Hello) to the session bus.
    pub fn connect() -> Result<Reader, KeyringError> {
        Ok(Reader {
            conn: Connection::session().map_err(dbus_error)?,
        })
    }

    fn call<B, R>(&self, path: &str, iface: &str, method: &str, body: &B) -> Result<R, KeyringError>
    where
        B: serde::Serialize + zbus::zvariant::DynamicType,
        R: for<'d> serde::Deserialize<'d> + zbus::zvariant::Type,
    {
        let reply = self
            .conn
            .call_method(Some(DEST), path, Some(iface), method, body)
            .map_err(dbus_error)?;
        reply.body().deserialize::<R>().map_err(KeyringError::Dbus)
    }

    /// `SearchItems` with these attributes.
    pub fn search(&self, attrs: &HashMap<&str, &str>) -> Result<Found, KeyringError> {
        let (unlocked, locked): (Vec<OwnedObjectPath>, Vec<OwnedObjectPath>) =
            self.call(SERVICE_PATH, SERVICE, "SearchItems", &(attrs,))?;
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
}

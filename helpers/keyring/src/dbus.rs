//! The read path as plain D-Bus calls on zbus: a get is Hello, SearchItems, one property read,
//! OpenSession and GetSecret — nothing else. The `secret-service` crate adds two more round trips
//! (it reads every proxy's properties when it makes one), and D-Bus round trips are where a get's
//! time goes.

use std::collections::HashMap;

use credhelper::Error;
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

fn dbus_error(e: zbus::Error) -> Error {
    let text = e.to_string();
    if text.contains("ServiceUnknown") || text.contains("org.freedesktop.secrets") {
        crate::errors::no_provider()
    } else {
        Error::backend(format!("the Secret Service failed: {text}"))
    }
}

impl Reader {
    /// Connects (and says Hello) to the session bus.
    pub fn connect() -> Result<Reader, Error> {
        Ok(Reader {
            conn: Connection::session().map_err(dbus_error)?,
        })
    }

    fn call<B, R>(&self, path: &str, iface: &str, method: &str, body: &B) -> Result<R, Error>
    where
        B: serde::Serialize + zbus::zvariant::DynamicType,
        R: for<'d> serde::Deserialize<'d> + zbus::zvariant::Type,
    {
        let reply = self
            .conn
            .call_method(Some(DEST), path, Some(iface), method, body)
            .map_err(dbus_error)?;
        reply.body().deserialize::<R>().map_err(dbus_error)
    }

    /// `SearchItems` with these attributes.
    pub fn search(&self, attrs: &HashMap<&str, &str>) -> Result<Found, Error> {
        let (unlocked, locked): (Vec<OwnedObjectPath>, Vec<OwnedObjectPath>) =
            self.call(SERVICE_PATH, SERVICE, "SearchItems", &(attrs,))?;
        Ok(Found { unlocked, locked })
    }

    /// An item's attributes; readable on locked items too.
    pub fn attributes(&self, item: &OwnedObjectPath) -> Result<HashMap<String, String>, Error> {
        let value: OwnedValue = self.call(
            item.as_str(),
            "org.freedesktop.DBus.Properties",
            "Get",
            &(ITEM, "Attributes"),
        )?;
        HashMap::<String, String>::try_from(value)
            .map_err(|e| Error::backend(format!("the Secret Service sent odd attributes: {e}")))
    }

    /// One unlocked item's secret, through a plain session (see `secret_service::get`).
    pub fn secret(&self, item: &OwnedObjectPath) -> Result<zeroize::Zeroizing<Vec<u8>>, Error> {
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

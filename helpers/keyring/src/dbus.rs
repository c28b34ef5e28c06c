//! The session bus and the Secret Service calls on it.
//!
//! Reads are plain D-Bus calls on zbus's async API, and calls that do not depend on each other's
//! answers are sent together, without waiting for each other's replies (D-Bus allows any number
//! in flight; each reply names the call it answers). A `get` is then two round trips to the
//! Secret Service after connecting: `SearchItems` beside `OpenSession`, then the found items'
//! attributes beside `GetSecrets` (see `secret_service::get`). D-Bus round trips are where a
//! get's time goes: one to gnome-keyring costs ≈ 0.35–0.45 ms here, more than all the helper's
//! own work.
//!
//! The connection's tasks (zbus's socket reader) run on the calling thread, ticked by
//! [`Bus::drive`] next to the caller's future, so a reply wakes the thread that waits for it:
//! zbus's own executor thread would cost a thread start and a hand-over per reply. The
//! `secret-service` crate, which writes items and shows unlock prompts on the same connection,
//! blocks instead; [`Bus::service`] starts a thread that ticks the tasks for it, as zbus would.
//!
//! Nothing here waits without a bound: callers run these futures under
//! `bounded::block_on`, which gives up at the deadline, and no call blocks the thread (the socket
//! is connected without blocking, by async-io).

use std::collections::HashMap;
use std::future::Future;
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::{Arc, Once};
use std::task::Poll;
use std::time::{Duration, Instant};

use async_io::{Async, Timer};
use futures_lite::future;
use secret_service::EncryptionType;
use secret_service::blocking::SecretService;
use zbus::Connection;
use zbus::address::transport::{Transport, UnixSocket};
use zbus::zvariant::{OwnedObjectPath, OwnedValue, Value};
use zeroize::Zeroizing;

use crate::errors::KeyringError;

const DEST: &str = "org.freedesktop.secrets";
const SERVICE_PATH: &str = "/org/freedesktop/secrets";
const SERVICE: &str = "org.freedesktop.Secret.Service";
const ITEM: &str = "org.freedesktop.Secret.Item";

/// The environment variable naming the session bus.
const ADDRESS_ENV: &str = "DBUS_SESSION_BUS_ADDRESS";

/// At most this many calls in flight at once. dbus-daemon answers a connection's calls beyond
/// its `max_replies_per_connection` with an error (128 when its configuration does not say: the
/// system bus's and the test bus's; the usual session bus allows 50000), so a `list` of many
/// items sends its reads in windows of this size.
const IN_FLIGHT: usize = 32;

/// A connection to the session bus.
pub struct Bus {
    conn: Connection,
    /// Set once a thread ticks the connection's tasks (see [`Bus::service`]).
    driven: Once,
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

/// Connects to `address` and says Hello. A `unix:path=` socket (what a desktop session and
/// `dbus-run-session` give) is connected here without blocking; any other transport by zbus,
/// which connects a Unix socket on a thread of its blocking pool. The connection's tasks are
/// left to [`Bus::drive`].
async fn open(address: zbus::Address, method_timeout: Duration) -> zbus::Result<Connection> {
    let builder = match address.transport() {
        Transport::Unix(unix) => match unix.path() {
            UnixSocket::File(path) => {
                let stream = Async::<UnixStream>::connect(path)
                    .await
                    .map_err(|e| zbus::Error::Connection(Arc::new(e), address.clone()))?;
                zbus::connection::Builder::socket(stream)
            }
            _ => zbus::connection::Builder::address(address.clone())?,
        },
        _ => zbus::connection::Builder::address(address.clone())?,
    };
    let conn = builder
        .internal_executor(false)
        .method_timeout(method_timeout)
        .build()
        .await?;
    // zbus checks an address's guid against the server's when it connects itself; a socket
    // handed to it carries no address, so the check is made here, in zbus's words.
    if let Some(expected) = address.guid()
        && expected.as_str() != conn.server_guid().as_str()
    {
        return Err(zbus::Error::Handshake(format!(
            "Server GUID mismatch: expected {expected}, got {}",
            conn.server_guid()
        )));
    }
    Ok(conn)
}

/// `fut`, or `None` once `limit` has passed.
async fn within<T>(limit: Duration, fut: impl Future<Output = T>) -> Option<T> {
    future::or(async { Some(fut.await) }, async {
        Timer::after(limit).await;
        None
    })
    .await
}

/// Connects to one address, within `limit`.
async fn connect_one(address: &str, limit: Duration) -> Result<Connection, String> {
    let address = zbus::Address::from_str(address)
        .map_err(|_| format!("{address} is not a D-Bus address"))?;
    let shown = address.to_string();
    match within(limit, open(address, limit)).await {
        Some(Ok(conn)) => Ok(conn),
        Some(Err(e)) => Err(format!("{shown}: {e}")),
        None => Err(format!(
            "{shown}: no answer within {:.1} s",
            limit.as_secs_f64()
        )),
    }
}

/// Awaits every future of `futs`, all of them polled together (so every call among them is on
/// the wire before any reply is awaited); their outputs in the same order.
async fn all<F: Future>(futs: Vec<F>) -> Vec<F::Output> {
    let mut futs: Vec<Pin<Box<F>>> = futs.into_iter().map(Box::pin).collect();
    let mut outs: Vec<Option<F::Output>> = futs.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (fut, out) in futs.iter_mut().zip(outs.iter_mut()) {
            if out.is_none() {
                match fut.as_mut().poll(cx) {
                    Poll::Ready(o) => *out = Some(o),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outs.into_iter().flatten().collect()
}

impl Bus {
    /// Connects (and says Hello) to the session bus, trying each address in
    /// `DBUS_SESSION_BUS_ADDRESS` in turn, each within its share of the time left before
    /// `deadline` (one share more is kept for the calls after connecting), so that an address
    /// that hangs cannot use up the bound of the ones after it, and a bus that cannot be reached
    /// is reported as such rather than as a keyring that did not answer.
    pub async fn connect(deadline: Instant) -> Result<Bus, KeyringError> {
        let value = std::env::var(ADDRESS_ENV).ok();
        let addresses = session_addresses(value.as_deref());
        if addresses.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            let address = zbus::Address::session().map_err(KeyringError::from_dbus)?;
            let conn = open(address, left).await.map_err(KeyringError::from_dbus)?;
            return Ok(Bus::new(conn));
        }
        let count = addresses.len();
        let mut last = String::new();
        for (i, address) in addresses.iter().enumerate() {
            let left = deadline.saturating_duration_since(Instant::now());
            let share = left / u32::try_from(count - i + 1).unwrap_or(u32::MAX);
            match connect_one(address, share).await {
                Ok(conn) => {
                    if i > 0 {
                        tracing::info!(
                            skipped = i,
                            "connected to the session bus at its address #{}",
                            i + 1
                        );
                    }
                    return Ok(Bus::new(conn));
                }
                Err(why) => {
                    tracing::info!("session bus address #{} unusable: {why}", i + 1);
                    last = why;
                }
            }
        }
        Err(KeyringError::BusUnreachable { count, last })
    }

    fn new(conn: Connection) -> Bus {
        Bus {
            conn,
            driven: Once::new(),
        }
    }

    /// Runs `fut` while ticking the connection's tasks (the socket reader that hands each reply
    /// to the call it answers): every future that waits for a reply must run inside this.
    pub async fn drive<T>(&self, fut: impl Future<Output = T>) -> T {
        let executor = self.conn.executor();
        future::or(fut, async {
            loop {
                executor.tick().await;
            }
        })
        .await
    }

    async fn call<B, R>(
        &self,
        path: &str,
        iface: &str,
        method: &str,
        body: &B,
    ) -> Result<R, KeyringError>
    where
        B: serde::Serialize + zbus::zvariant::DynamicType,
        R: for<'d> serde::Deserialize<'d> + zbus::zvariant::Type,
    {
        let reply = self
            .conn
            .call_method(Some(DEST), path, Some(iface), method, body)
            .await
            .map_err(KeyringError::from_dbus)?;
        reply.body().deserialize::<R>().map_err(KeyringError::Dbus)
    }

    /// `SearchItems` with these attributes.
    pub async fn search(&self, attrs: &HashMap<&str, &str>) -> Result<Found, KeyringError> {
        let (unlocked, locked): (Vec<OwnedObjectPath>, Vec<OwnedObjectPath>) = self
            .call(SERVICE_PATH, SERVICE, "SearchItems", &(attrs,))
            .await?;
        tracing::debug!(
            unlocked = unlocked.len(),
            locked = locked.len(),
            "SearchItems"
        );
        Ok(Found { unlocked, locked })
    }

    /// A plain session for reading secrets (see `secret_service::get` for why plain).
    pub async fn open_session(&self) -> Result<OwnedObjectPath, KeyringError> {
        let (_, session): (OwnedValue, OwnedObjectPath) = self
            .call(
                SERVICE_PATH,
                SERVICE,
                "OpenSession",
                &("plain", Value::from("")),
            )
            .await?;
        Ok(session)
    }

    /// An item's attributes; readable on locked items too.
    pub async fn attributes(
        &self,
        item: &OwnedObjectPath,
    ) -> Result<HashMap<String, String>, KeyringError> {
        let value: OwnedValue = self
            .call(
                item.as_str(),
                "org.freedesktop.DBus.Properties",
                "Get",
                &(ITEM, "Attributes"),
            )
            .await?;
        HashMap::<String, String>::try_from(value).map_err(KeyringError::OddReply)
    }

    /// The attributes of each of `items`, in order, the reads in flight together (in windows of
    /// [`IN_FLIGHT`]). The first failure in `items`' order is the answer, as if read one by one.
    pub async fn attributes_of(
        &self,
        items: &[OwnedObjectPath],
    ) -> Result<Vec<HashMap<String, String>>, KeyringError> {
        let mut out = Vec::with_capacity(items.len());
        for window in items.chunks(IN_FLIGHT) {
            for attrs in all(window.iter().map(|i| self.attributes(i)).collect()).await {
                out.push(attrs?);
            }
        }
        Ok(out)
    }

    /// The secrets of `items` in `session`, in one `GetSecrets` call. An item that is locked (or
    /// gone) by now is left out of the answer by gnome-keyring; KeePassXC fails the whole call
    /// instead. Each secret is wiped from memory when dropped.
    pub async fn secrets(
        &self,
        items: &[OwnedObjectPath],
        session: &OwnedObjectPath,
    ) -> Result<Vec<(OwnedObjectPath, Zeroizing<Vec<u8>>)>, KeyringError> {
        // Each value is a Secret struct: (session, parameters, value, content type).
        type Secrets = HashMap<OwnedObjectPath, (OwnedObjectPath, Vec<u8>, Vec<u8>, String)>;
        let secrets: Secrets = self
            .call(SERVICE_PATH, SERVICE, "GetSecrets", &(items, session))
            .await?;
        Ok(secrets
            .into_iter()
            .map(|(path, (_, _, value, _))| (path, Zeroizing::new(value)))
            .collect())
    }

    /// One unlocked item's secret, with the item's own `GetSecret`.
    pub async fn secret(
        &self,
        item: &OwnedObjectPath,
        session: &OwnedObjectPath,
    ) -> Result<Zeroizing<Vec<u8>>, KeyringError> {
        let (_, _, value, _): (OwnedObjectPath, Vec<u8>, Vec<u8>, String) = self
            .call(item.as_str(), ITEM, "GetSecret", &(session,))
            .await?;
        Ok(Zeroizing::new(value))
    }

    /// The `secret-service` crate on this connection, with a plain session (see
    /// `secret_service::get` for why plain): for writes and unlock prompts. Its calls block
    /// their thread, so from here on a thread of its own ticks the connection's tasks (as zbus's
    /// executor thread would); it ends when the connection has no tasks left, or with the
    /// process.
    pub fn service(&self) -> Result<SecretService<'static>, KeyringError> {
        let mut started = Ok(());
        self.driven.call_once(|| {
            let executor = self.conn.executor().clone();
            started = std::thread::Builder::new()
                .name("zbus executor".into())
                .spawn(move || {
                    async_io::block_on(async {
                        while !executor.is_empty() {
                            executor.tick().await;
                        }
                    })
                })
                .map(drop);
        });
        started.map_err(|e| KeyringError::Worker(e.to_string()))?;
        SecretService::connect_with_existing(
            EncryptionType::Plain,
            zbus::blocking::Connection::from(self.conn.clone()),
        )
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
        let connect = |a| async_io::block_on(connect_one(a, Duration::from_secs(1))).err();
        assert_eq!(
            connect("nonsense").as_deref(),
            Some("nonsense is not a D-Bus address")
        );
        let missing = "unix:path=/nonexistent/dch-test/bus";
        let why = connect(missing);
        assert!(
            why.as_deref()
                .is_some_and(|w| w.starts_with(missing) && w.contains("No such file")),
            "{why:?}"
        );
    }

    #[test]
    fn a_socket_that_never_answers_is_given_up_on_in_time() {
        let dir = std::env::temp_dir().join(format!("dch-dbus-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("hang");
        let _listener = std::os::unix::net::UnixListener::bind(&path).expect("bind");
        let start = Instant::now();
        let why = async_io::block_on(connect_one(
            &format!("unix:path={}", path.display()),
            Duration::from_millis(300),
        ))
        .err();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            why.as_deref()
                .is_some_and(|w| w.ends_with("no answer within 0.3 s")),
            "{why:?}"
        );
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn all_polls_every_future_before_any_finishes_and_keeps_their_order() {
        use std::cell::Cell;
        let started = Cell::new(0);
        let fut = |i: u32, ms: u64| {
            let started = &started;
            async move {
                started.set(started.get() + 1);
                Timer::after(Duration::from_millis(ms)).await;
                (i, started.get())
            }
        };
        let out = async_io::block_on(all(vec![fut(0, 60), fut(1, 10), fut(2, 30)]));
        // Each saw all three started when it finished: none waited for another to begin.
        assert_eq!(out, [(0, 3), (1, 3), (2, 3)]);
    }
}

//! The session bus and the Secret Service calls on it.
//!
//! Reads are plain D-Bus calls on zbus's async API, and calls that do not depend on each other's
//! answers are sent together, without waiting for each other's replies (D-Bus allows any number
//! in flight; each reply names the call it answers). A `get` is then two round trips to the
//! Secret Service after connecting: `SearchItems` beside `OpenSession`, then the found items'
//! attributes beside `GetSecrets` (see `secret_service::get`), three in all. D-Bus round trips are where a
//! get's time goes: one to gnome-keyring costs ≈ 0.35–0.45 ms here, more than all the helper's
//! own work.
//!
//! Connecting is one round trip for reads ([`Bus::connect_for_reads`]): SASL's `AUTH` waits for
//! the bus's `OK` (zbus has no setting to send `BEGIN` before it), and the bus's `Hello` goes out
//! with the first calls instead of on its own. zbus sends `Hello` itself and waits for its answer
//! before it hands the connection over, and on a socket that can pass file descriptors it also
//! waits for the answer to `NEGOTIATE_UNIX_FD`. So the reads' connection is built as zbus's
//! peer-to-peer kind (no `Hello` of its own) on a socket that says it passes no descriptors
//! ([`NoFds`]; no Secret Service call passes one); [`Bus::greeted`] sends `Hello` first in the
//! first batch (the bus requires it first, and serves what follows it in order). Measured on the
//! test bus, a process that connects and sends one batch, 400 interleaved runs on 2 loaded cores:
//! 3.55 ms with zbus's own greeting, 3.13 ms with this one (medians).
//! Writes and unlock prompts keep zbus's ordinary bus connection ([`Bus::connect`]): the
//! `secret-service` crate waits for signals there, which a bus delivers only to connections
//! that ask it to.
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
use std::io;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Once};
use std::task::Poll;
use std::time::{Duration, Instant};

use async_io::{Async, Timer};
use futures_lite::future;
use secret_service::EncryptionType;
use secret_service::blocking::SecretService;
use zbus::address::transport::{Transport, UnixSocket};
use zbus::connection::socket::{BoxedSplit, ReadHalf, Split, WriteHalf};
use zbus::fdo::ConnectionCredentials;
use zbus::zvariant::{OwnedObjectPath, OwnedValue, Value};
use zbus::{AuthMechanism, Connection};
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
    /// `Hello` is still to be sent, with the first calls (see [`Bus::greeted`]).
    hello_owed: AtomicBool,
}

/// What a connection is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Use {
    /// Reads: `Hello` goes out with the first calls (see the module's doc).
    Reads,
    /// Anything: zbus's ordinary bus connection.
    Any,
}

/// One half of a Unix socket that tells zbus it passes no file descriptors, so that zbus's SASL
/// client sends `BEGIN` without `NEGOTIATE_UNIX_FD` and does not wait for an answer to it. Every
/// byte goes through the half zbus made for the socket.
#[derive(Debug)]
struct NoFds<H>(H);

#[async_trait::async_trait]
impl ReadHalf for NoFds<Box<dyn ReadHalf>> {
    async fn recvmsg(&mut self, buf: &mut [u8]) -> io::Result<(usize, Vec<OwnedFd>)> {
        self.0.recvmsg(buf).await
    }

    fn can_pass_unix_fd(&self) -> bool {
        false
    }

    async fn peer_credentials(&mut self) -> io::Result<ConnectionCredentials> {
        self.0.peer_credentials().await
    }

    fn auth_mechanism(&self) -> AuthMechanism {
        self.0.auth_mechanism()
    }
}

#[async_trait::async_trait]
impl WriteHalf for NoFds<Box<dyn WriteHalf>> {
    async fn sendmsg(&mut self, buffer: &[u8], fds: &[BorrowedFd<'_>]) -> io::Result<usize> {
        self.0.sendmsg(buffer, fds).await
    }

    async fn close(&mut self) -> io::Result<()> {
        self.0.close().await
    }

    fn can_pass_unix_fd(&self) -> bool {
        false
    }

    async fn peer_credentials(&mut self) -> io::Result<ConnectionCredentials> {
        self.0.peer_credentials().await
    }
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

/// Connects to `address`; the answer says whether `Hello` is still owed. A `unix:path=` socket
/// (what a desktop session and `dbus-run-session` give) is connected here without blocking, and
/// for reads greets the bus later (see the module's doc); any other transport is connected by
/// zbus (a Unix socket on a thread of its blocking pool) and says `Hello` at once. The
/// connection's tasks are left to [`Bus::drive`].
async fn open(
    address: zbus::Address,
    method_timeout: Duration,
    usage: Use,
) -> zbus::Result<(Connection, bool)> {
    let (builder, hello_owed) = match address.transport() {
        Transport::Unix(unix) => match unix.path() {
            UnixSocket::File(path) => {
                let stream = Async::<UnixStream>::connect(path)
                    .await
                    .map_err(|e| zbus::Error::Connection(Arc::new(e), address.clone()))?;
                if usage == Use::Reads {
                    let (read, write) = BoxedSplit::from(stream).take();
                    let split: BoxedSplit = Split::new(
                        Box::new(NoFds(read)) as Box<dyn ReadHalf>,
                        Box::new(NoFds(write)) as Box<dyn WriteHalf>,
                    );
                    (zbus::connection::Builder::socket(split).p2p(), true)
                } else {
                    (zbus::connection::Builder::socket(stream), false)
                }
            }
            _ => (zbus::connection::Builder::address(address.clone())?, false),
        },
        _ => (zbus::connection::Builder::address(address.clone())?, false),
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
    Ok((conn, hello_owed))
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
async fn connect_one(
    address: &str,
    limit: Duration,
    usage: Use,
) -> Result<(Connection, bool), String> {
    let address = zbus::Address::from_str(address)
        .map_err(|_| format!("{address} is not a D-Bus address"))?;
    let shown = address.to_string();
    match within(limit, open(address, limit, usage)).await {
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
        Bus::connect_for(deadline, Use::Any).await
    }

    /// [`Bus::connect`] for reads only: one round trip less (see the module's doc). The first
    /// calls must go through [`Bus::greeted`]; [`Bus::service`] is not for this connection.
    pub async fn connect_for_reads(deadline: Instant) -> Result<Bus, KeyringError> {
        Bus::connect_for(deadline, Use::Reads).await
    }

    async fn connect_for(deadline: Instant, usage: Use) -> Result<Bus, KeyringError> {
        let value = std::env::var(ADDRESS_ENV).ok();
        let addresses = session_addresses(value.as_deref());
        if addresses.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            let address = zbus::Address::session().map_err(KeyringError::from_dbus)?;
            let opened = open(address, left, usage)
                .await
                .map_err(KeyringError::from_dbus)?;
            return Ok(Bus::new(opened));
        }
        let count = addresses.len();
        let mut last = String::new();
        for (i, address) in addresses.iter().enumerate() {
            let left = deadline.saturating_duration_since(Instant::now());
            let share = left / u32::try_from(count - i + 1).unwrap_or(u32::MAX);
            match connect_one(address, share, usage).await {
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

    fn new((conn, hello_owed): (Connection, bool)) -> Bus {
        Bus {
            conn,
            driven: Once::new(),
            hello_owed: AtomicBool::new(hello_owed),
        }
    }

    /// Runs the first calls on a connection for reads: `Hello` goes out first, in the same batch
    /// (polled first, so it is on the wire before them), and its failure is the answer.
    pub async fn greeted<T>(
        &self,
        first: impl Future<Output = Result<T, KeyringError>>,
    ) -> Result<T, KeyringError> {
        if !self.hello_owed.swap(false, Ordering::SeqCst) {
            return first.await;
        }
        let hello = async {
            self.conn
                .call_method(
                    Some("org.freedesktop.DBus"),
                    "/org/freedesktop/DBus",
                    Some("org.freedesktop.DBus"),
                    "Hello",
                    &(),
                )
                .await
                .map_err(KeyringError::from_dbus)
        };
        let (hello, answer) = future::zip(hello, first).await;
        hello?;
        answer
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
        if !self.conn.is_bus() {
            // A connection for reads (zbus's peer-to-peer kind): the crate's prompts would wait
            // for signals the bus never sends it.
            return Err(KeyringError::Worker(
                "BUG: the Secret Service crate on a connection for reads".into(),
            ));
        }
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
        let connect =
            |a| async_io::block_on(connect_one(a, Duration::from_secs(1), Use::Reads)).err();
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
            Use::Reads,
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

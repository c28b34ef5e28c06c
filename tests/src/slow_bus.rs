//! A slow road to the test bus: a Unix-socket proxy in front of [`SessionBus`] that holds back
//! every byte the bus sends by a fixed latency, and notes when each client sends. It counts a
//! client's round trips without reading a byte of D-Bus: a client that waits for an answer
//! before it sends again sends at least one latency after its previous send, while requests sent
//! together (pipelined, without waiting) leave within microseconds of each other. So the number
//! of round trips is one more than the number of gaps longer than half the latency between a
//! connection's sends; the SASL exchange counts too (`AUTH`, then `BEGIN` and `Hello`).
//!
//! The proxy passes bytes only, not file descriptors: the Secret Service calls pass none.

use std::io::{Read, Write};
use std::net::Shutdown;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use crate::sandbox::Sandbox;
use crate::secret_service::SessionBus;

/// When each connection's client sent, one list per connection, in the order they connected.
type Sends = Arc<Mutex<Vec<Arc<Mutex<Vec<Instant>>>>>>;

/// The proxy; dropping it stops taking connections (those open run until they close).
pub struct SlowBus {
    /// `unix:path=…` of the proxy, for `DBUS_SESSION_BUS_ADDRESS`.
    pub address: String,
    latency: Duration,
    path: PathBuf,
    sends: Sends,
    stop: Arc<AtomicBool>,
}

impl SlowBus {
    /// A proxy at `<sandbox>/slow-bus` in front of `bus`, delaying what the bus sends by
    /// `latency`.
    pub fn start(sb: &Sandbox, bus: &SessionBus, latency: Duration) -> SlowBus {
        let target = PathBuf::from(
            bus.address
                .strip_prefix("unix:path=")
                .expect("the test bus listens on a unix:path= address"),
        );
        let path = sb.root.join("slow-bus");
        let listener = UnixListener::bind(&path).expect("bind the slow bus");
        let sends: Sends = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (accepted, stopping) = (sends.clone(), stop.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let (Ok(client), Ok(server)) = (client, UnixStream::connect(&target)) else {
                    continue;
                };
                let times = Arc::new(Mutex::new(Vec::new()));
                accepted.lock().expect("sends").push(times.clone());
                relay(client, server, latency, times);
            }
        });
        SlowBus {
            address: format!("unix:path={}", path.display()),
            latency,
            path,
            sends,
            stop,
        }
    }

    /// The round trips of each connection made since the last call, in the order they
    /// connected (see the module's doc for how they are counted).
    pub fn round_trips(&self) -> Vec<usize> {
        let taken: Vec<_> = std::mem::take(&mut *self.sends.lock().expect("sends"));
        taken
            .iter()
            .map(|times| {
                let times = times.lock().expect("send times");
                let gaps = times
                    .windows(2)
                    .filter(|w| w[1].duration_since(w[0]) > self.latency / 2)
                    .count();
                if times.is_empty() { 0 } else { gaps + 1 }
            })
            .collect()
    }
}

impl Drop for SlowBus {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accepting thread so that it sees the flag.
        let _ = UnixStream::connect(&self.path);
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Client to bus at once, noting when; bus to client each chunk `latency` after it came.
fn relay(
    client: UnixStream,
    server: UnixStream,
    latency: Duration,
    times: Arc<Mutex<Vec<Instant>>>,
) {
    let (Ok(mut client_in), Ok(mut server_out)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        while let Ok(n @ 1..) = client_in.read(&mut buf) {
            times.lock().expect("send times").push(Instant::now());
            if server_out.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = server_out.shutdown(Shutdown::Write);
    });
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
    let mut server_in = server;
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        while let Ok(n @ 1..) = server_in.read(&mut buf) {
            if tx
                .send((Instant::now() + latency, buf[..n].to_vec()))
                .is_err()
            {
                break;
            }
        }
    });
    let mut client_out = client;
    std::thread::spawn(move || {
        for (due, bytes) in rx {
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
            if client_out.write_all(&bytes).is_err() {
                break;
            }
        }
        let _ = client_out.shutdown(Shutdown::Write);
    });
}

//! The accept loop of the project's in-process fakes: a thread per connection on 127.0.0.1, until
//! the fake is dropped.

use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A listening fake: its address, and the flag that stops it (and any handler that waits on it).
pub struct Listening {
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// Set to stop accepting; handlers that stall (injected hangs) watch it too.
    pub stop: Arc<AtomicBool>,
}

/// Listens on a free 127.0.0.1 port and hands each connection to `handle` on its own thread.
pub fn serve(handle: impl Fn(TcpStream, &AtomicBool) + Send + Sync + 'static) -> Listening {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    listener.set_nonblocking(true).expect("nonblocking");
    let stop = Arc::new(AtomicBool::new(false));
    let (st, handle) = (stop.clone(), Arc::new(handle));
    std::thread::spawn(move || {
        while !st.load(Ordering::Relaxed) {
            match listener.accept() {
                Ok((conn, _)) => {
                    let (st, handle) = (st.clone(), handle.clone());
                    std::thread::spawn(move || {
                        let _ = conn.set_nonblocking(false);
                        handle(conn, &st);
                    });
                }
                Err(_) => std::thread::sleep(Duration::from_millis(2)),
            }
        }
    });
    Listening { addr, stop }
}

//! Every keyring call has a deadline: D-Bus activation of a missing Secret Service, or an unlock
//! prompt nobody can answer, must end in an error, not a hung pull. Blocking calls run on a
//! worker thread ([`run`]); the Secret Service's reads are futures that never block their
//! thread, and run on the caller's until the deadline ([`block_on`]), which spares a thread
//! start and a hand-over between threads per get.

use std::sync::mpsc;
use std::time::Duration;

use crate::errors::KeyringError;

/// Runs `f` on a worker thread and waits at most `limit` for it: `None` if it did not finish.
/// On time-out the worker is left behind; the helper answers and exits, which ends it.
pub fn run<T: Send + 'static>(
    limit: Duration,
    f: impl FnOnce() -> Result<T, KeyringError> + Send + 'static,
) -> Option<Result<T, KeyringError>> {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("keyring".into())
        .spawn(move || {
            let _ = tx.send(f());
        });
    if let Err(e) = spawned {
        return Some(Err(KeyringError::Worker(e.to_string())));
    }
    match rx.recv_timeout(limit) {
        Ok(result) => Some(result),
        Err(mpsc::RecvTimeoutError::Timeout) => None,
        Err(mpsc::RecvTimeoutError::Disconnected) => Some(Err(KeyringError::Worker(
            "the worker thread stopped without an answer".into(),
        ))),
    }
}

/// Runs `fut` on this thread until it finishes or `deadline` passes: `None` if it did not finish.
/// `fut` must not block its thread (every wait in it a future), or the deadline cannot cut in.
#[cfg(all(unix, not(target_os = "macos")))]
pub fn block_on<T>(
    deadline: std::time::Instant,
    fut: impl std::future::Future<Output = T>,
) -> Option<T> {
    async_io::block_on(futures_lite::future::or(async { Some(fut.await) }, async {
        async_io::Timer::at(deadline).await;
        None
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(all(unix, not(target_os = "macos")))]
    #[test]
    fn a_future_finishes_or_the_deadline_ends_it() {
        use std::time::Instant;
        let soon = Instant::now() + Duration::from_secs(5);
        assert_eq!(block_on(soon, async { 7 }), Some(7));
        let start = Instant::now();
        let never = block_on(
            start + Duration::from_millis(100),
            std::future::pending::<()>(),
        );
        assert!(never.is_none());
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn returns_in_time_or_times_out() {
        let quick = run(Duration::from_secs(5), || Ok(7));
        assert!(matches!(quick, Some(Ok(7))));
        let start = std::time::Instant::now();
        let slow = run(Duration::from_millis(100), || {
            std::thread::sleep(Duration::from_secs(5));
            Ok(())
        });
        assert!(slow.is_none(), "timed out");
        assert!(start.elapsed() < Duration::from_secs(2));
    }
}

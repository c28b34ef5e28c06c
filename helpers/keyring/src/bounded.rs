//! Every keyring call runs on a worker thread with a deadline: D-Bus activation of a missing
//! Secret Service, or an unlock prompt nobody can answer, must end in an error, not a hung pull.

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

#[cfg(test)]
mod tests {
    use super::*;

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

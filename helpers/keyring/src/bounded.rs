//! Every keyring call runs on a worker thread with a deadline: D-Bus activation of a missing
//! Secret Service, or an unlock prompt nobody can answer, must end in an error, not a hung pull.

use std::sync::mpsc;
use std::time::Duration;

use credhelper::Error;

/// Runs `f` on a worker thread and waits at most `limit` for it. On time-out the worker is left
/// behind; the helper answers and exits, which ends it.
pub fn run<T: Send + 'static>(
    limit: Duration,
    on_timeout: impl FnOnce() -> Error,
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("keyring".into())
        .spawn(move || {
            let _ = tx.send(f());
        })
        .map_err(|e| Error::backend(format!("cannot start a thread: {e}")))?;
    match rx.recv_timeout(limit) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Timeout) => Err(on_timeout()),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Err(Error::backend("the keyring call panicked"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_in_time_or_times_out() {
        let quick = run(Duration::from_secs(5), || Error::NotImplemented, || Ok(7));
        assert_eq!(quick.ok(), Some(7));
        let start = std::time::Instant::now();
        let slow = run(
            Duration::from_millis(100),
            || Error::backend("too slow"),
            || {
                std::thread::sleep(Duration::from_secs(5));
                Ok(())
            },
        );
        assert_eq!(slow.unwrap_err().to_string(), "too slow");
        assert!(start.elapsed() < Duration::from_secs(2));
    }
}

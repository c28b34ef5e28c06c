//! One gpg at a time per gpg home, among our processes.
//!
//! Every gpg run, even `--encrypt` or `--list-keys`, takes gpg's dotlock on `pubring.kbx` (a
//! `pubring.kbx.lock` made with link(2)), and a gpg that finds it taken sleeps with a growing
//! back-off: the waiters sleep on while the lock is free. A CI run of the 64-process test hit our
//! 10 s bound that way. Measured here (gpg 2.2.40, 2 cores), the slowest of 32 `gpg --encrypt`
//! started at once:
//!
//! | | idle | 4 busy loops beside |
//! |---|---|---|
//! | gpg's dotlock alone | 3.8 s | 11.4 s |
//! | queued on a flock of GNUPGHOME first | 0.23 s | 0.65 s |
//!
//! So our gpg runs first queue on an `flock(2)` of the gpg home directory itself: no file of ours
//! in the user's gpg home, and the kernel releases it when a helper dies. The waiters sleep in the
//! kernel, never poll: polling every 5 ms, 64 `get`s through gpg with 4 busy loops beside had
//! 60 of 64 fail at the bound (the gpg-agent that the holder waited for got no CPU); blocking,
//! all 64 answer in 2.2–2.3 s (the Go helper: 2.15 s). The wait counts against the same bound as
//! the gpg run, and a run that timed out after waiting most of it reports the queue, not gpg.
//! Runs that may show a passphrase prompt take no turn: a prompt would hold every other store
//! behind it for as long as nobody answers.

use std::fs::{File, OpenOptions};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use credhelper::os::fs::lock_within;

use crate::keys::gnupg_home;

/// Our turn at the gpg home, until dropped; and what is left of the time bound.
#[derive(Debug)]
pub struct Turn {
    /// The gpg home, locked (`None`: there was nothing to lock, or the run may prompt).
    locked: Option<(PathBuf, File)>,
    /// How long taking the turn took.
    waited: Duration,
    deadline: Instant,
}

/// Another process (most often another helper's gpg run) held the gpg home for the bound.
#[derive(Debug, thiserror::Error)]
#[error(
    "gpg's home {} stayed locked by another process for {secs} s (our helpers queue there to run gpg one at a time); raise DOCKER_CREDENTIAL_PASS_TIMEOUT",
    home.display()
)]
pub struct Busy {
    /// The gpg home.
    pub home: PathBuf,
    /// The bound.
    pub secs: f64,
}

impl Turn {
    /// Waits at most `limit` for the gpg home. Where there is no gpg home to lock (unset HOME, a
    /// home not made yet, not a directory), there is no turn to take: gpg says what is wrong.
    pub fn take(limit: Duration) -> Result<Turn, Busy> {
        let start = Instant::now();
        let Some(home) = gnupg_home() else {
            return Ok(Turn::none(limit));
        };
        let Ok(dir) = open_dir(&home) else {
            return Ok(Turn::none(limit));
        };
        match lock_within(&dir, limit) {
            Ok(true) => Ok(Turn {
                locked: Some((home, dir)),
                waited: start.elapsed(),
                deadline: start + limit,
            }),
            Ok(false) => Err(Busy {
                home,
                secs: limit.as_secs_f64(),
            }),
            // A file system without flock: gpg's own lock still holds.
            Err(_) => Ok(Turn::none(limit)),
        }
    }

    /// No turn, for a run that may prompt: the whole `limit` is the run's.
    pub fn none(limit: Duration) -> Turn {
        Turn {
            locked: None,
            waited: Duration::ZERO,
            deadline: Instant::now() + limit,
        }
    }

    /// Why a gpg run that did not end within `limit` did not: if waiting for the turn took most
    /// of the bound, the queue is the cause, not gpg (which may have had a millisecond).
    pub fn busy_for(&self, limit: Duration) -> Option<Busy> {
        let (home, _) = self.locked.as_ref()?;
        (self.waited * 2 >= limit).then(|| Busy {
            home: home.clone(),
            secs: limit.as_secs_f64(),
        })
    }

    /// What is left of the bound for the gpg run (at least a millisecond, so the run is tried).
    pub fn remaining(&self) -> Duration {
        self.deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1))
    }
}

/// The directory, opened for reading only: `O_DIRECTORY` refuses a FIFO in its place at lookup,
/// so this open cannot block.
fn open_dir(home: &std::path::Path) -> std::io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC);
    }
    opts.open(home)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_second_turn_waits_for_the_first_and_gives_up_at_the_bound() {
        let home = std::env::temp_dir().join(format!("pass-turn-{}", std::process::id()));
        std::fs::create_dir_all(&home).expect("mkdir");
        // Two opens of the directory are two flock owners, as two processes would be.
        let first = open_dir(&home).expect("open");
        assert!(lock_within(&first, Duration::ZERO).expect("lock"));
        let second = open_dir(&home).expect("open");
        let start = Instant::now();
        assert!(!lock_within(&second, Duration::from_millis(100)).expect("lock"));
        assert!(start.elapsed() >= Duration::from_millis(100));
        drop(first);
        assert!(lock_within(&second, Duration::from_millis(100)).expect("lock"));
        std::fs::remove_dir_all(&home).expect("cleanup");
    }
}

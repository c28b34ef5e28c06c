//! Running a child process (gpg, git, the ecr-login fetcher) without a shell and within a time
//! bound: a credential helper must never hang a pull, and a child that does not answer in time is
//! killed.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

/// What a finished child left behind. `stdout` may hold a secret and is zeroed on drop.
pub struct Output {
    /// Whether it exited with status 0.
    pub success: bool,
    /// Everything it wrote to stdout.
    pub stdout: Zeroizing<Vec<u8>>,
    /// Everything it wrote to stderr, lossily decoded.
    pub stderr: String,
}

/// Why a child gave no output.
#[derive(Debug)]
pub enum RunError {
    /// It could not be started (not installed, not executable).
    Spawn(std::io::Error),
    /// It did not finish within the bound and was killed.
    Timeout(Duration),
}

/// Runs `cmd` with `stdin` as its standard input, collecting stdout and stderr, and kills it if it
/// has not finished after `limit`. Secrets go through stdin, never argv or the environment.
pub fn run(mut cmd: Command, stdin: &[u8], limit: Duration) -> Result<Output, RunError> {
    let start = Instant::now();
    let mut child = cmd
        .stdin(if stdin.is_empty() {
            Stdio::null()
        } else {
            Stdio::piped()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(RunError::Spawn)?;
    // Readers on their own threads so that a child blocked on a full pipe, or one that never
    // exits, cannot block us past the deadline.
    let (tx, rx) = mpsc::channel::<(bool, Zeroizing<Vec<u8>>)>();
    for (is_out, pipe) in [
        (
            true,
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        ),
        (
            false,
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        ),
    ] {
        let tx = tx.clone();
        if let Some(mut pipe) = pipe {
            thread::spawn(move || {
                let mut buf = Zeroizing::new(Vec::new());
                let _ = pipe.read_to_end(&mut buf);
                let _ = tx.send((is_out, buf));
            });
        }
    }
    drop(tx);
    if let Some(mut pipe) = child.stdin.take() {
        // A child that exits without reading gives EPIPE here; its exit status tells the story.
        let _ = pipe.write_all(stdin);
    }
    let mut stdout = Zeroizing::new(Vec::new());
    let mut stderr = Vec::new();
    for _ in 0..2 {
        let left = limit.saturating_sub(start.elapsed());
        match rx.recv_timeout(left) {
            Ok((true, buf)) => stdout = buf,
            Ok((false, buf)) => stderr = buf.to_vec(),
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(RunError::Timeout(limit));
            }
        }
    }
    let status = child.wait().map_err(RunError::Spawn)?;
    Ok(Output {
        success: status.success(),
        stdout,
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    })
}

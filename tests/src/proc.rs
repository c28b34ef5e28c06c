//! Running a process with stdin, a time bound and its whole output.

use std::fmt;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A finished process.
#[derive(Clone)]
pub struct Out {
    /// Exit code (-1 if killed by a signal).
    pub code: i32,
    /// stdout, lossily decoded.
    pub stdout: String,
    /// stderr, lossily decoded.
    pub stderr: String,
    /// Wall time.
    pub elapsed: Duration,
}

impl Out {
    /// Exit code 0.
    pub fn ok(&self) -> bool {
        self.code == 0
    }
}

impl fmt::Debug for Out {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "exit {} after {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.elapsed, self.stdout, self.stderr
        )
    }
}

/// Runs `cmd` with `stdin`; kills it after `limit`.
pub fn run_timed(mut cmd: Command, stdin: &[u8], limit: Duration) -> Result<Out, String> {
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    let pid = child.id();
    let mut pipe_in = child.stdin.take();
    let input = stdin.to_vec();
    std::thread::spawn(move || {
        if let Some(p) = pipe_in.as_mut() {
            let _ = p.write_all(&input);
        }
    });
    let (tx, rx) = mpsc::channel();
    let mut out = child.stdout.take();
    let mut err = child.stderr.take();
    std::thread::spawn(move || {
        let mut o = Vec::new();
        let mut e = Vec::new();
        let t = std::thread::spawn(move || {
            if let Some(p) = err.as_mut() {
                let _ = p.read_to_end(&mut e);
            }
            e
        });
        if let Some(p) = out.as_mut() {
            let _ = p.read_to_end(&mut o);
        }
        let e = t.join().unwrap_or_default();
        let status = child.wait();
        let _ = tx.send((status, o, e));
    });
    match rx.recv_timeout(limit) {
        Ok((status, o, e)) => {
            let status = status.map_err(|e| e.to_string())?;
            Ok(Out {
                code: status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&o).into_owned(),
                stderr: String::from_utf8_lossy(&e).into_owned(),
                elapsed: start.elapsed(),
            })
        }
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            Err(format!(
                "{cmd:?} did not finish within {limit:?}; killed pid {pid}"
            ))
        }
    }
}

/// Runs `cmd` with `stdin` and a 120 s bound; a test fails if it hangs.
pub fn run(cmd: Command, stdin: impl AsRef<[u8]>) -> Out {
    match run_timed(cmd, stdin.as_ref(), Duration::from_secs(120)) {
        Ok(out) => out,
        Err(e) => panic!("{e}"),
    }
}

/// Reads a file or panics with its path.
pub fn read(path: impl AsRef<std::path::Path>) -> String {
    let path = path.as_ref();
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

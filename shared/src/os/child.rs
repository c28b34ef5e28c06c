//! Running a child process (gpg, git, the ecr-login fetcher) without a shell and within a time
//! bound: a credential helper must never hang a pull. The bound covers everything: writing the
//! child's stdin, reading its output, and waiting for it to exit. A child that does not finish in
//! time is killed.

use std::io::{Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

/// What a finished child left behind. `stdout` may hold a secret and is zeroed on drop.
pub struct Output {
    /// How it ended.
    pub status: ExitStatus,
    /// Everything it wrote to stdout.
    pub stdout: Zeroizing<Vec<u8>>,
    /// Everything it wrote to stderr, lossily decoded.
    pub stderr: String,
}

impl Output {
    /// Whether it exited with status 0.
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// How it ended, for a message: `exit status 2`, `killed by signal 11 (SIGSEGV)`.
    pub fn ending(&self) -> Ending {
        Ending(self.status)
    }
}

/// How a child ended, as a person reads it. A crash names its signal: "failed" alone hides
/// whether the child refused, crashed or was killed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ending(pub ExitStatus);

impl Ending {
    /// The signal that ended it, if one did.
    pub fn signal(&self) -> Option<i32> {
        #[cfg(unix)]
        {
            std::os::unix::process::ExitStatusExt::signal(&self.0)
        }
        #[cfg(not(unix))]
        None
    }
}

impl std::fmt::Display for Ending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.0.code(), self.signal()) {
            (Some(code), _) => write!(f, "exit status {code}"),
            (None, Some(sig)) => match signal_name(sig) {
                Some(name) => write!(f, "killed by signal {sig} ({name})"),
                None => write!(f, "killed by signal {sig}"),
            },
            (None, None) => f.write_str("ended abnormally"),
        }
    }
}

fn signal_name(sig: i32) -> Option<&'static str> {
    Some(match sig {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        24 => "SIGXCPU",
        25 => "SIGXFSZ",
        31 => "SIGSYS",
        _ => return None,
    })
}

/// Why a child gave no output.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// It could not be started (not installed, not executable).
    #[error("{0}")]
    Spawn(#[source] std::io::Error),
    /// It did not finish within the bound and was killed.
    #[error("it did not finish within {} s and was killed", .0.as_secs_f64())]
    Timeout(Duration),
}

/// How long the pipes may stay open once the child has exited: a grandchild that inherited them
/// (gpg starting gpg-agent, say) must not hold us until the deadline. What the child wrote is
/// already in the pipe; this only lets the readers drain it.
const PIPE_GRACE: Duration = Duration::from_millis(100);

/// A pipe read to its end on a thread of its own, so that a child blocked on a full pipe, or one
/// that never exits, cannot block us past the deadline.
struct Collector {
    buf: Arc<Mutex<Zeroizing<Vec<u8>>>>,
}

impl Collector {
    fn start(pipe: Option<impl Read + Send + 'static>, done: mpsc::Sender<()>) -> Collector {
        let buf = Arc::new(Mutex::new(Zeroizing::new(Vec::new())));
        if let Some(mut pipe) = pipe {
            let shared = buf.clone();
            thread::spawn(move || {
                let mut chunk = Zeroizing::new([0u8; 8192]);
                loop {
                    match pipe.read(&mut chunk[..]) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => match shared.lock() {
                            Ok(mut b) => b.extend_from_slice(&chunk[..n]),
                            Err(_) => break,
                        },
                    }
                }
                let _ = done.send(());
            });
        } else {
            let _ = done.send(());
        }
        Collector { buf }
    }

    fn take(&self) -> Zeroizing<Vec<u8>> {
        match self.buf.lock() {
            Ok(mut b) => std::mem::take(&mut *b),
            Err(_) => Zeroizing::new(Vec::new()),
        }
    }
}

/// Runs `cmd` with `stdin` as its standard input, collecting stdout and stderr, and kills it if it
/// has not finished after `limit`. Secrets go through stdin, never argv or the environment.
pub fn run(mut cmd: Command, stdin: &[u8], limit: Duration) -> Result<Output, RunError> {
    let deadline = Instant::now() + limit;
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
    // Written from a thread of its own: a child that never reads its stdin must not block us on
    // a full pipe. A child that exits without reading gives EPIPE there; its status tells.
    if let Some(mut pipe) = child.stdin.take() {
        let input = Zeroizing::new(stdin.to_vec());
        thread::spawn(move || {
            let _ = pipe.write_all(&input);
        });
    }
    let (tx, done) = mpsc::channel();
    let out = Collector::start(child.stdout.take(), tx.clone());
    let err = Collector::start(child.stderr.take(), tx);
    let status = wait(&mut child, &done, deadline).ok_or(RunError::Timeout(limit))?;
    Ok(Output {
        status,
        stdout: out.take(),
        stderr: String::from_utf8_lossy(&err.take()).into_owned(),
    })
}

/// Waits for both pipes to close and the child to exit, at most until `deadline`; then kills it
/// and answers `None`.
fn wait(child: &mut Child, done: &mpsc::Receiver<()>, deadline: Instant) -> Option<ExitStatus> {
    let mut open = 2;
    let mut exited: Option<(ExitStatus, Instant)> = None;
    // The pipes usually close when the child exits: wait on them, looking at the child now and
    // then in case it exited while something else holds them open.
    while open > 0 {
        let now = Instant::now();
        let until = match exited {
            Some((_, at)) => (at + PIPE_GRACE).min(deadline),
            None => deadline,
        };
        if now >= until {
            break;
        }
        match done.recv_timeout((until - now).min(Duration::from_millis(10))) {
            Ok(()) => open -= 1,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if exited.is_none()
                    && let Ok(Some(status)) = child.try_wait()
                {
                    exited = Some((status, Instant::now()));
                }
            }
        }
    }
    if let Some((status, _)) = exited {
        return Some(status);
    }
    // Both pipes closed (or the deadline came): the child is exiting, or it closed them and goes
    // on running, which the deadline bounds too.
    let mut pause = Duration::from_micros(20);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => {
                thread::sleep(pause.min(deadline.saturating_duration_since(Instant::now())));
                pause = (pause * 2).min(Duration::from_millis(5));
            }
            _ => {
                let _ = child.kill();
                // Reaped if it is gone already; a zombie otherwise, until we exit in a moment.
                let _ = child.try_wait();
                return None;
            }
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut c = Command::new("sh");
        c.args(["-c", script]);
        c
    }

    #[test]
    fn collects_output_and_status() {
        let out = run(
            sh("cat; echo err >&2; exit 3"),
            b"in",
            Duration::from_secs(5),
        )
        .expect("runs");
        assert_eq!(&out.stdout[..], b"in");
        assert_eq!(out.stderr, "err\n");
        assert!(!out.success());
        assert_eq!(out.ending().to_string(), "exit status 3");
    }

    #[test]
    fn a_crash_names_its_signal() {
        let out = run(sh("kill -SEGV $$"), b"", Duration::from_secs(5)).expect("runs");
        assert_eq!(out.ending().to_string(), "killed by signal 11 (SIGSEGV)");
        assert_eq!(out.ending().signal(), Some(11));
    }

    #[test]
    fn a_child_that_never_reads_its_stdin_is_bounded() {
        // 1 MiB is far more than a pipe holds: a blocking write would never return.
        let start = Instant::now();
        let r = run(
            sh("sleep 30"),
            &vec![b'x'; 1 << 20],
            Duration::from_millis(300),
        );
        assert!(matches!(r, Err(RunError::Timeout(_))), "timed out");
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn a_child_that_closes_its_pipes_and_keeps_running_is_bounded() {
        let start = Instant::now();
        let r = run(
            sh("exec >/dev/null 2>&1; sleep 30"),
            b"",
            Duration::from_millis(300),
        );
        assert!(matches!(r, Err(RunError::Timeout(_))), "timed out");
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn a_grandchild_holding_the_pipes_does_not_hold_us() {
        let start = Instant::now();
        let out = run(sh("(sleep 30 &) ; echo done"), b"", Duration::from_secs(10))
            .expect("the child exited");
        assert_eq!(&out.stdout[..], b"done\n");
        assert!(out.success());
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "{:?}",
            start.elapsed()
        );
    }
}

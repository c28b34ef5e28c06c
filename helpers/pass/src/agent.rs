//! A small Assuan client for gpg-agent: just enough to have the agent decrypt a session key
//! (`OPTION pinentry-mode=error`, `SETKEY`, `SETKEYDESC`, `PKDECRYPT` with its `INQUIRE
//! CIPHERTEXT`), as gpg itself does in `agent_pkdecrypt` (g10/call-agent.c).
//!
//! Hand-written because the one Assuan crate on crates.io (`sequoia-ipc`) is LGPL, async (tokio)
//! and brings all of Sequoia with it; the exchange below is a handful of text lines.
//!
//! Every connect, read and write is bounded by one deadline for the whole exchange: a hung or
//! stopped agent costs at most that long, then the caller falls back to gpg (which has its own
//! bound). The connection always sets `pinentry-mode=error`, so the agent never starts a
//! pinentry for us: a key whose passphrase it has not cached is answered at once with
//! `GPG_ERR_NO_PIN_ENTRY`.

use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

/// The longest line Assuan allows, the line feed included (`ASSUAN_LINELENGTH`).
const LINE_MAX: usize = 1000;
/// The most a reply may hold: a session key or a shared point is far below it.
const REPLY_MAX: usize = 64 * 1024;

/// libgpg-error's codes that the caller tells apart (the low 16 bits of an `ERR` line's number).
pub mod code {
    /// `GPG_ERR_NO_SECKEY`: the agent has no secret key for that keygrip.
    pub const NO_SECKEY: u32 = 17;
    /// `GPG_ERR_NO_PIN_ENTRY`: the key is locked, and no pinentry may be started.
    pub const NO_PIN_ENTRY: u32 = 85;
}

/// Why the agent did not decrypt. No variant holds anything secret.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The socket is not there, or nobody listens on it.
    #[error("cannot connect to gpg-agent: {0}")]
    Connect(#[source] std::io::Error),
    /// The agent did not answer within the deadline.
    #[error("gpg-agent did not answer in time")]
    Timeout,
    /// Reading or writing the socket failed.
    #[error("talking to gpg-agent failed: {0}")]
    Io(#[source] std::io::Error),
    /// The agent said something this client does not expect (not an Assuan server, a line too
    /// long, an inquiry it cannot answer).
    #[error("unexpected answer from gpg-agent: {0}")]
    Protocol(&'static str),
    /// The agent refused the command (`ERR <code> <text>`).
    #[error("gpg-agent refused {command}: error {code}")]
    Refused {
        /// The command, without arguments.
        command: &'static str,
        /// The whole error number (source in the high bits, code in the low 16).
        code: u32,
    },
}

impl AgentError {
    /// libgpg-error's code, if the agent refused the command.
    pub fn code(&self) -> Option<u32> {
        match self {
            AgentError::Refused { code, .. } => Some(code & 0xffff),
            _ => None,
        }
    }
}

/// One connection to gpg-agent.
pub struct Agent {
    stream: UnixStream,
    deadline: Instant,
    /// Bytes read but not yet consumed as lines. Zeroed on drop: decrypted data passes here.
    buf: Zeroizing<Vec<u8>>,
}

/// Shows nothing of what passed through the connection.
impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent").finish_non_exhaustive()
    }
}

impl Agent {
    /// Connects to the agent's socket, sends `options` (`OPTION` arguments) at once, and reads
    /// the greeting and their answers; every step until the connection is dropped must finish
    /// within `limit` of now.
    ///
    /// Commands are pipelined where that cannot change what the agent does: Assuan answers in
    /// order, so the options ride with the connection, and `SETKEYDESC`, `SETKEY`, `PKDECRYPT`
    /// and the ciphertext it will inquire go out together once the options were accepted. A
    /// `get` then waits for the agent twice instead of six times: each wait is a wake-up of one
    /// of its threads, which on a busy machine costs far more than the bytes.
    pub fn connect(socket: &Path, limit: Duration, options: &[&str]) -> Result<Agent, AgentError> {
        let deadline = Instant::now() + limit;
        let sock = socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None)
            .map_err(AgentError::Connect)?;
        // A Unix stream connect waits for room in the listener's backlog for at most the send
        // timeout (unix_stream_connect), so a stopped agent cannot hold it forever.
        sock.set_write_timeout(Some(limit.max(Duration::from_millis(1))))
            .map_err(AgentError::Connect)?;
        let addr = socket2::SockAddr::unix(socket).map_err(AgentError::Connect)?;
        sock.connect(&addr).map_err(|e| match e.kind() {
            ErrorKind::WouldBlock | ErrorKind::TimedOut => AgentError::Timeout,
            _ => AgentError::Connect(e),
        })?;
        let mut agent = Agent {
            stream: UnixStream::from(std::os::fd::OwnedFd::from(sock)),
            deadline,
            buf: Zeroizing::new(Vec::with_capacity(2048)),
        };
        let lines: Vec<String> = options.iter().map(|o| format!("OPTION {o}")).collect();
        agent.send(&lines)?;
        let greeting = agent.read_line()?;
        if !(greeting.as_slice() == b"OK" || greeting.starts_with(b"OK ")) {
            return Err(AgentError::Protocol("no Assuan greeting"));
        }
        for _ in options {
            agent.response("OPTION", Inquiry::None)?;
        }
        Ok(agent)
    }

    /// Sends one command and waits for its `OK`.
    pub fn command(&mut self, line: &str, name: &'static str) -> Result<(), AgentError> {
        self.send(&[line])?;
        self.response(name, Inquiry::None).map(drop)
    }

    /// `SETKEYDESC` (if `desc`), `SETKEY`, then `PKDECRYPT` with `ciphertext` (a canonical
    /// S-expression) as the answer to the agent's `INQUIRE CIPHERTEXT`. All of it goes out in one
    /// write and the answers are read in order: gpg-agent's `PKDECRYPT` inquires the ciphertext
    /// before anything else (agent/command.c), reading it from the same stream, so data sent
    /// ahead is simply there when it asks. Should it ever end the command without asking, the
    /// data would be read as commands: the connection is then reported broken, never reused.
    /// Returns the data the agent sent: a canonical S-expression `(5:value…)`.
    pub fn pkdecrypt(
        &mut self,
        keygrip: &str,
        desc: Option<&str>,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, AgentError> {
        let mut out = Zeroizing::new(Vec::with_capacity(ciphertext.len() * 2 + 200));
        for line in desc
            .map(|d| format!("SETKEYDESC {}", escape_arg(d)))
            .into_iter()
            .chain([format!("SETKEY {keygrip}"), "PKDECRYPT".to_string()])
        {
            if line.len() + 1 > LINE_MAX {
                return Err(AgentError::Protocol("command line too long"));
            }
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
        data_lines(ciphertext, &mut out);
        self.write_all(&out)?;
        // Every answer is read, whatever came before, so the connection stays in step.
        let desc = desc.map(|_| self.response("SETKEYDESC", Inquiry::None));
        let key = self.response("SETKEY", Inquiry::None);
        let value = self.response("PKDECRYPT", Inquiry::Sent);
        desc.transpose()?;
        key?;
        value
    }

    /// Writes command lines in one write.
    fn send<S: AsRef<str>>(&mut self, lines: &[S]) -> Result<(), AgentError> {
        let mut out = String::new();
        for line in lines {
            let line = line.as_ref();
            if line.len() + 1 > LINE_MAX || line.contains(['\n', '\r']) {
                return Err(AgentError::Protocol("command line too long"));
            }
            out.push_str(line);
            out.push('\n');
        }
        if out.is_empty() {
            return Ok(());
        }
        self.write_all(out.as_bytes())
    }

    /// The answer to the next command sent, its `D` lines collected until `OK` (success) or
    /// `ERR` (refusal). With [`Inquiry::Sent`], the command must inquire the ciphertext (already
    /// sent) before it ends.
    fn response(
        &mut self,
        name: &'static str,
        inquiry: Inquiry,
    ) -> Result<Zeroizing<Vec<u8>>, AgentError> {
        let mut data = Zeroizing::new(Vec::new());
        let mut inquired = false;
        loop {
            let reply = self.read_line()?;
            let ended = reply.as_slice() == b"OK"
                || reply.starts_with(b"OK ")
                || reply.starts_with(b"ERR ");
            if ended && inquiry == Inquiry::Sent && !inquired {
                return Err(AgentError::Protocol(
                    "the command ended before asking for the data sent ahead",
                ));
            }
            if reply.as_slice() == b"OK" || reply.starts_with(b"OK ") {
                return Ok(data);
            } else if let Some(rest) = reply.strip_prefix(b"ERR ") {
                let code = rest
                    .split(|&b| b == b' ')
                    .next()
                    .and_then(|n| std::str::from_utf8(n).ok())
                    .and_then(|n| n.parse().ok())
                    .ok_or(AgentError::Protocol("ERR without a number"))?;
                return Err(AgentError::Refused {
                    command: name,
                    code,
                });
            } else if let Some(escaped) = reply.strip_prefix(b"D ") {
                percent_decode_into(escaped, &mut data)?;
                if data.len() > REPLY_MAX {
                    return Err(AgentError::Protocol("reply too long"));
                }
            } else if reply.starts_with(b"S ") || reply.starts_with(b"#") {
                // Status lines (INQUIRE_MAXLEN, PADDING) and comments change nothing here.
            } else if reply.as_slice() == b"INQUIRE CIPHERTEXT"
                || reply.starts_with(b"INQUIRE CIPHERTEXT ")
            {
                if inquiry != Inquiry::Sent || inquired {
                    return Err(AgentError::Protocol("unexpected inquiry"));
                }
                inquired = true;
            } else if reply.starts_with(b"INQUIRE ") {
                // Nothing else is asked when no pinentry may run (no allow-pinentry-notify):
                // with data sent ahead for another inquiry, the connection cannot be trusted.
                return Err(AgentError::Protocol("unexpected inquiry"));
            } else {
                return Err(AgentError::Protocol("unknown reply line"));
            }
        }
    }

    fn remaining(&self) -> Result<Duration, AgentError> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(AgentError::Timeout)
        } else {
            Ok(left)
        }
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<(), AgentError> {
        let left = self.remaining()?;
        self.stream
            .set_write_timeout(Some(left))
            .map_err(AgentError::Io)?;
        self.stream.write_all(bytes).map_err(io_error)
    }

    /// The next line, without its line feed.
    fn read_line(&mut self) -> Result<Zeroizing<Vec<u8>>, AgentError> {
        loop {
            if let Some(end) = self.buf.iter().position(|&b| b == b'\n') {
                let line = Zeroizing::new(self.buf[..end].to_vec());
                self.buf.drain(..=end);
                return Ok(line);
            }
            if self.buf.len() >= LINE_MAX {
                return Err(AgentError::Protocol("line too long"));
            }
            let left = self.remaining()?;
            self.stream
                .set_read_timeout(Some(left))
                .map_err(AgentError::Io)?;
            let mut chunk = Zeroizing::new([0u8; LINE_MAX]);
            let n = match self.stream.read(&mut chunk[..]) {
                Ok(0) => return Err(AgentError::Protocol("connection closed")),
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_error(e)),
            };
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// What a command's answer may hold besides data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Inquiry {
    /// No inquiry: the command asks for nothing.
    None,
    /// The answer to `INQUIRE CIPHERTEXT` was sent with the command.
    Sent,
}

/// Appends `data` as `D` lines, percent-escaped as Assuan requires, then `END`.
fn data_lines(data: &[u8], out: &mut Vec<u8>) {
    let mut line_len = 0;
    for &b in data {
        if line_len == 0 {
            out.extend_from_slice(b"D ");
            line_len = 2;
        }
        if matches!(b, b'%' | b'\n' | b'\r') {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
            line_len += 3;
        } else {
            out.push(b);
            line_len += 1;
        }
        // Room for one more escaped byte and the line feed.
        if line_len + 4 >= LINE_MAX {
            out.push(b'\n');
            line_len = 0;
        }
    }
    if line_len > 0 {
        out.push(b'\n');
    }
    out.extend_from_slice(b"END\n");
}

fn io_error(e: std::io::Error) -> AgentError {
    match e.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => AgentError::Timeout,
        _ => AgentError::Io(e),
    }
}

/// Appends the bytes of a `D` line, undoing Assuan's `%XX` escapes.
fn percent_decode_into(escaped: &[u8], out: &mut Vec<u8>) -> Result<(), AgentError> {
    let mut i = 0;
    while i < escaped.len() {
        if escaped[i] == b'%' {
            let hex = escaped
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or(AgentError::Protocol("bad escape in a D line"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(escaped[i]);
            i += 1;
        }
    }
    Ok(())
}

/// Percent-escapes `text` for a command argument (`SETKEYDESC`): `%`, control characters and
/// spaces as `%XX`, as gpg's `percent_plus_escape` does (with `+` for space spelled out).
pub fn escape_arg(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' | '+' | ' ' => out.push_str(&format!("%{:02X}", c as u32)),
            c if c.is_control() && (c as u32) < 0x80 => {
                out.push_str(&format!("%{:02X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

/// A canonical S-expression list: `(` items `)`.
pub enum Sexp<'a> {
    /// A byte string, written `<len>:<bytes>`.
    Atom(&'a [u8]),
    /// A list.
    List(Vec<Sexp<'a>>),
}

impl Sexp<'_> {
    /// The canonical encoding, in memory that is zeroed on drop.
    pub fn canonical(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::new());
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Sexp::Atom(bytes) => {
                out.extend_from_slice(bytes.len().to_string().as_bytes());
                out.push(b':');
                out.extend_from_slice(bytes);
            }
            Sexp::List(items) => {
                out.push(b'(');
                for item in items {
                    item.write(out);
                }
                out.push(b')');
            }
        }
    }
}

/// The data of the agent's `(5:value<len>:<data>)` answer to `PKDECRYPT`.
pub fn value_of(reply: &[u8]) -> Result<&[u8], AgentError> {
    let bad = AgentError::Protocol("PKDECRYPT did not answer (value …)");
    let rest = reply.strip_prefix(b"(5:value").ok_or(bad)?;
    let colon = rest
        .iter()
        .position(|&b| b == b':')
        .ok_or(AgentError::Protocol("no length in the value"))?;
    let len: usize = std::str::from_utf8(&rest[..colon])
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|&n| n > 0)
        .ok_or(AgentError::Protocol("bad length in the value"))?;
    let data = rest
        .get(colon + 1..colon + 1 + len)
        .ok_or(AgentError::Protocol("value shorter than its length"))?;
    // Newer agents end the answer with the closing parenthesis and a NUL; nothing else may
    // follow.
    match &rest[colon + 1 + len..] {
        b")" | b")\0" => Ok(data),
        _ => Err(AgentError::Protocol("trailing bytes after the value")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_sexp_is_gcrypt_s() {
        let s = Sexp::List(vec![
            Sexp::Atom(b"enc-val"),
            Sexp::List(vec![
                Sexp::Atom(b"rsa"),
                Sexp::List(vec![Sexp::Atom(b"a"), Sexp::Atom(&[0, 0x80])]),
            ]),
        ]);
        assert_eq!(
            s.canonical().as_slice(),
            b"(7:enc-val(3:rsa(1:a2:\x00\x80)))"
        );
    }

    #[test]
    fn values_are_read_exactly() {
        assert_eq!(value_of(b"(5:value3:abc)").ok(), Some(&b"abc"[..]));
        assert_eq!(value_of(b"(5:value3:abc)\0").ok(), Some(&b"abc"[..]));
        for bad in [
            &b"(5:value4:abc)"[..],
            b"(5:value3:abcd)",
            b"(5:value0:)",
            b"(5:valuex:abc)",
            b"(4:vals3:abc)",
            b"",
        ] {
            assert!(value_of(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn d_lines_unescape() {
        let mut out = Vec::new();
        assert!(percent_decode_into(b"a%25b%0A%0d", &mut out).is_ok());
        assert_eq!(out, b"a%b\n\r");
        assert!(percent_decode_into(b"%4", &mut Vec::new()).is_err());
        assert!(percent_decode_into(b"%zz", &mut Vec::new()).is_err());
    }

    #[test]
    fn arguments_are_escaped() {
        assert_eq!(escape_arg("a b%c+d\n"), "a%20b%25c%2Bd%0A");
        assert_eq!(escape_arg("név"), "név");
    }

    /// A scripted agent: reads our lines and answers as gpg-agent does. Returns what it read.
    fn fake_agent(
        path: &Path,
        script: Vec<(&'static str, &'static str)>,
    ) -> std::thread::JoinHandle<Vec<String>> {
        let listener = std::os::unix::net::UnixListener::bind(path).expect("bind");
        std::thread::spawn(move || {
            use std::io::BufRead;
            let (stream, _) = listener.accept().expect("accept");
            let mut out = stream.try_clone().expect("clone");
            out.write_all(b"OK Pleased to meet you\n").expect("greet");
            let mut lines = std::io::BufReader::new(stream).lines();
            let mut seen = Vec::new();
            for (expect, answer) in script {
                let line = lines.next().and_then(Result::ok).unwrap_or_default();
                assert!(line.starts_with(expect), "{line:?} is not {expect:?}");
                seen.push(line);
                out.write_all(answer.as_bytes()).expect("answer");
            }
            seen
        })
    }

    #[test]
    fn the_exchange_is_pipelined_and_stays_in_step_after_an_error() {
        let dir = std::env::temp_dir().join(format!("dch-agent-fake-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("S.fake");
        let _ = std::fs::remove_file(&path);
        let agent = fake_agent(
            &path,
            vec![
                ("OPTION pinentry-mode=error", "OK\n"),
                // The first key: SETKEY refused, PKDECRYPT asks and fails; all answers read.
                ("SETKEYDESC a%20b", "OK\n"),
                ("SETKEY AAAA", "ERR 67108881 No secret key <GPG Agent>\n"),
                ("PKDECRYPT", "S INQUIRE_MAXLEN 4096\nINQUIRE CIPHERTEXT\n"),
                ("D (1:x)", ""),
                ("END", "ERR 67108881 No secret key <GPG Agent>\n"),
                // The second: decrypted, the value split over two D lines with an escape.
                ("SETKEY BBBB", "OK\n"),
                ("PKDECRYPT", "INQUIRE CIPHERTEXT\n"),
                ("D %25%0A", ""),
                ("END", "D (5:value3:a%0A\nD b)\nOK\n"),
            ],
        );
        let mut conn = Agent::connect(&path, Duration::from_secs(5), &["pinentry-mode=error"])
            .expect("connect");
        let err = conn
            .pkdecrypt("AAAA", Some("a b"), b"(1:x)")
            .expect_err("refused");
        assert_eq!(err.code(), Some(code::NO_SECKEY), "{err:?}");
        assert!(matches!(
            err,
            AgentError::Refused {
                command: "SETKEY",
                ..
            }
        ));
        let value = conn.pkdecrypt("BBBB", None, b"%\n").expect("decrypted");
        assert_eq!(value.as_slice(), b"(5:value3:a\nb)");
        assert_eq!(value_of(&value).ok(), Some(&b"a\nb"[..]));
        assert_eq!(agent.join().expect("fake agent").len(), 10);
        let _ = std::fs::remove_file(&path);
        // An agent that would end PKDECRYPT without asking: the data sent ahead would be read as
        // commands, so the connection is reported broken.
        let agent = fake_agent(
            &path,
            vec![
                ("SETKEY CCCC", "OK\n"),
                ("PKDECRYPT", "ERR 67108881 No secret key <GPG Agent>\n"),
            ],
        );
        let mut conn = Agent::connect(&path, Duration::from_secs(5), &[]).expect("connect");
        let err = conn.pkdecrypt("CCCC", None, b"(1:x)").expect_err("broken");
        assert!(matches!(err, AgentError::Protocol(_)), "{err:?}");
        assert_eq!(agent.join().expect("fake agent").len(), 2);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A fake agent on a socket pair: every read of ours is bounded, even when it never answers.
    #[test]
    fn a_silent_agent_times_out() {
        let dir = std::env::temp_dir().join(format!("dch-agent-test-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("S.silent");
        let _ = std::fs::remove_file(&path);
        let listener = std::os::unix::net::UnixListener::bind(&path).expect("bind");
        let start = Instant::now();
        let err = Agent::connect(&path, Duration::from_millis(200), &["pinentry-mode=error"])
            .expect_err("no greeting");
        assert!(matches!(err, AgentError::Timeout), "{err:?}");
        assert!(start.elapsed() < Duration::from_secs(2));
        drop(listener);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

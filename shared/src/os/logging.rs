//! File logging shared by every helper. Nothing here ever receives a secret: callers log server
//! URLs, usernames and outcomes, and `Secret`'s `Debug` prints `<redacted>` should one slip in.
//!
//! The writer is a plain file behind a mutex, not tracing-appender's: a helper lives a few
//! milliseconds and logs a line or two, so a background writer thread would cost more than the
//! writes, and tracing-appender's rolling files cannot be created 0600. Rotation is by size,
//! done here when the log is opened.
//!
//! The log may sit in a directory another user can write (ecr-login's default is under the cache
//! directory, which may be a shared `/tmp/ecr`), so it is opened as [`Dir::append`] opens files:
//! no link followed, never blocking, only a regular file of ours. And what is logged may hold text
//! another user chose (a serde error quoting a planted cache file): every control character is
//! escaped, so a log line can never be split in two or carry a terminal escape (issue #11).

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;

use super::dir::Dir;

/// The variable that turns logging on and sets its level: `off`, `error`, `warn`, `info`,
/// `debug` or `trace`.
pub const LOG_ENV: &str = "DOCKER_CREDENTIAL_LOG";
/// The variable that names the log file.
pub const LOG_FILE_ENV: &str = "DOCKER_CREDENTIAL_LOG_FILE";

/// Where and how much a helper logs when the user has said nothing.
#[derive(Debug, Clone, Copy)]
pub struct LogDefaults {
    /// The level when [`LOG_ENV`] is unset; `None` keeps logging off (pass, keyring).
    pub level: Option<&'static str>,
    /// The file when [`LOG_FILE_ENV`] is unset; `None` (or a function answering `None`) means
    /// `<state dir>/rust-credential-helpers/<helper>.log`.
    pub file: Option<fn() -> Option<LogFile>>,
}

/// A helper's own default log file: a name in a directory it has opened and checked (see
/// [`Dir::private`]).
#[derive(Debug)]
pub struct LogFile {
    /// The directory.
    pub dir: Dir,
    /// The file's name in it.
    pub name: String,
}

impl LogFile {
    /// The log `path` names, its directory created 0700 if missing.
    pub fn at(path: &Path) -> Option<LogFile> {
        let name = path.file_name()?.to_str()?.to_string();
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        Some(LogFile {
            dir: Dir::create(parent).ok()?,
            name,
        })
    }
}

impl LogDefaults {
    /// No log unless the user asks for one, in the usual place.
    pub const OFF: LogDefaults = LogDefaults {
        level: None,
        file: None,
    };
}

/// A log file is rotated when it grows past this...
pub const ROTATE_BYTES: u64 = 1 << 20;
/// ...keeping this many old files (`NAME.1` is the newest).
pub const KEEP_FILES: u32 = 3;

/// Starts logging if the user or the helper asked for it. Logging can never make a request fail:
/// if no log file can be opened, the helper runs without a log.
pub fn init(helper: &str, defaults: &LogDefaults) -> Option<()> {
    let level = std::env::var(LOG_ENV)
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| defaults.level.map(str::to_string))?;
    if level == "off" {
        return None;
    }
    let file = match std::env::var_os(LOG_FILE_ENV).filter(|v| !v.is_empty()) {
        Some(path) => open_named(Path::new(&path))?,
        None => {
            let log = defaults.file.and_then(|f| f()).or_else(|| {
                let dir = dirs::state_dir().or_else(dirs::cache_dir)?;
                LogFile::at(
                    &dir.join("rust-credential-helpers")
                        .join(format!("{helper}.log")),
                )
            })?;
            rotate(&log.dir, &log.name);
            log.dir.append(&log.name).ok()?
        }
    };
    let filter = filter(&level);
    use tracing_subscriber::layer::SubscriberExt;
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(Escaping(Mutex::new(file)))
        .with_ansi(false)
        .with_target(false);
    let subscriber = tracing_subscriber::registry().with(layer).with(filter);
    tracing::subscriber::set_global_default(subscriber).ok()
}

/// The log file the user named with [`LOG_FILE_ENV`]. In a directory another user could write
/// (`/tmp/x.log`) it is opened as [`Dir::append`] opens files: a regular file of ours, no link
/// followed. Elsewhere the user's choice stands, links and all (`/dev/stderr` to watch a call), still
/// without blocking (a FIFO with no reader gives no log, never a hang), and only a regular file of
/// ours gets its mode set to 0600 (never a terminal or a pipe).
fn open_named(path: &Path) -> Option<File> {
    let log = LogFile::at(path)?;
    rotate(&log.dir, &log.name);
    if log.dir.others_may_write().unwrap_or(true) {
        return log.dir.append(&log.name).ok();
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC);
    }
    let file = opts.open(path).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let meta = file.metadata().ok()?;
        if meta.is_file() && meta.uid() == super::dir::euid() && meta.mode() & 0o7777 != 0o600 {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))
                .ok()?;
        }
    }
    Some(file)
}

/// A writer that escapes every control character of what it is given, except the newline that
/// ends it: the fmt layer writes each event whole, in one `write_all`, so each event stays one
/// line whatever its fields hold.
struct Escaping<W>(Mutex<W>);

impl<'a, W: Write + 'a> MakeWriter<'a> for Escaping<W> {
    type Writer = EscapingGuard<'a, W>;

    fn make_writer(&'a self) -> Self::Writer {
        // A panic while logging leaves the file as usable as before.
        EscapingGuard(self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

struct EscapingGuard<'a, W>(MutexGuard<'a, W>);

impl<W: Write> Write for EscapingGuard<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write_all(&escape(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// Whether `c` could split a line or drive a terminal: C0 and C1 controls (ESC, CR, and U+009B,
/// which some terminals take for ESC `[`), DEL, and the Unicode line and paragraph separators.
fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

/// `buf` with its control characters written as `\n`, `\r`, `\t` or `\u{1b}`, except one final
/// newline. Bytes that are not UTF-8 become U+FFFD.
fn escape(buf: &[u8]) -> Cow<'_, [u8]> {
    let (body, end) = match buf.strip_suffix(b"\n") {
        Some(body) => (body, "\n"),
        None => (buf, ""),
    };
    let text = String::from_utf8_lossy(body);
    if matches!(text, Cow::Borrowed(_)) && !text.chars().any(needs_escape) {
        return Cow::Borrowed(buf);
    }
    let mut out = String::with_capacity(buf.len() + 16);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push_str(end);
    Cow::Owned(out.into_bytes())
}

/// The crates of this workspace: they log at the level asked for.
const OWN_CRATES: &[&str] = &[
    "credhelper",
    "ecr_login",
    "docker_credential_pass",
    "docker_credential_ecr_login",
    "docker_credential_ecr_login_fetch",
    "docker_credential_keyring",
];

/// Our crates at `level`; every other crate (the AWS SDK, hyper, rustls) at `warn` at most,
/// because at debug and trace they log raw HTTP traffic, tokens included. `Targets` rather than
/// `EnvFilter`: it needs no regex, which keeps start-up (on every pull) a little shorter.
fn filter(level: &str) -> Targets {
    let level: LevelFilter = level.trim().parse().unwrap_or(LevelFilter::INFO);
    OWN_CRATES.iter().fold(
        Targets::new().with_default(level.min(LevelFilter::WARN)),
        |t, krate| t.with_target(*krate, level),
    )
}

/// Moves `NAME` to `NAME.1` (and so on, up to [`KEEP_FILES`]) once it is over [`ROTATE_BYTES`].
/// Concurrent helpers may both rotate; the worst case is one rotation too many, never a lost
/// line of the current file, since renames keep open files writable.
/// Only a regular file of ours is rotated; renames happen in the directory held open, and a
/// rename never follows a link.
fn rotate(dir: &Dir, name: &str) {
    if dir.file_len(name).is_none_or(|len| len < ROTATE_BYTES) {
        return;
    }
    let numbered = |n: u32| format!("{name}.{n}");
    for n in (1..KEEP_FILES).rev() {
        let _ = dir.rename(&numbered(n), &numbered(n + 1));
    }
    let _ = dir.rename(name, &numbered(1));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_keeps_a_bounded_number_of_files() {
        let dir = std::env::temp_dir().join(format!("credhelper-log-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("mkdir");
        let log = dir.join("x.log");
        let held = Dir::open(&dir).expect("open dir");
        for round in 0..5u8 {
            std::fs::write(&log, vec![b'a' + round; ROTATE_BYTES as usize]).expect("write");
            rotate(&held, "x.log");
        }
        std::fs::write(&log, "small").expect("write");
        rotate(&held, "x.log");
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .expect("ls")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["x.log", "x.log.1", "x.log.2", "x.log.3"]);
        assert_eq!(
            std::fs::read(dir.join("x.log.1")).expect("read")[0],
            b'e',
            "newest first"
        );
        assert_eq!(
            std::fs::read_to_string(&log).expect("read"),
            "small",
            "a small log is not rotated"
        );
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[cfg(unix)]
    #[test]
    fn a_named_log_follows_links_only_where_nobody_else_could_have_planted_them() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("credhelper-named-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("shared")).expect("mkdir");
        let target = dir.join("target.log");
        std::fs::write(&target, "").expect("write");
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        // Our own directory: the user's link is followed (as `/dev/stderr` would be).
        std::os::unix::fs::symlink(&target, dir.join("mine.log")).expect("ln");
        let mut file = open_named(&dir.join("mine.log")).expect("opened through the link");
        file.write_all(b"line\n").expect("write");
        assert_eq!(std::fs::read_to_string(&target).expect("read"), "line\n");
        // A directory others may write: the same link is refused, the target untouched.
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let shared = dir.join("shared");
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).expect("chmod");
        std::os::unix::fs::symlink(&target, shared.join("x.log")).expect("ln");
        assert!(open_named(&shared.join("x.log")).is_none());
        assert_eq!(std::fs::read_to_string(&target).expect("read"), "line\n");
        let mode = std::fs::metadata(&target)
            .expect("stat")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o644, "no chmod through the refused link");
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn control_characters_are_escaped_and_one_final_newline_kept() {
        let cases: [(&[u8], &str); 6] = [
            (b"plain line\n", "plain line\n"),
            (b"no newline", "no newline"),
            (b"a\nid > /tmp/x # \n\n", "a\\nid > /tmp/x # \\n\n"),
            (b"\x1b[31mred\r\t\x7f\n", "\\u{1b}[31mred\\r\\t\\u{7f}\n"),
            (
                "csi \u{9b}2J sep \u{2028}\n".as_bytes(),
                "csi \\u{9b}2J sep \\u{2028}\n",
            ),
            (b"bad \xff utf8\n", "bad \u{fffd} utf8\n"),
        ];
        for (input, want) in cases {
            assert_eq!(String::from_utf8_lossy(&escape(input)), want, "{input:?}");
        }
    }

    #[test]
    fn an_event_with_newlines_in_its_fields_is_one_line() {
        #[derive(Clone, Default)]
        struct Shared(std::sync::Arc<Mutex<Vec<u8>>>);
        impl Write for Shared {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                self.0.lock().expect("lock").extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let buf = Shared::default();
        use tracing_subscriber::layer::SubscriberExt;
        let layer = tracing_subscriber::fmt::layer()
            .with_writer(Escaping(Mutex::new(buf.clone())))
            .with_ansi(false);
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            let why = "unknown field `\nid > /tmp/x # \n`";
            tracing::warn!(file = %"a\rb", "{why}; ignoring it");
            tracing::warn!("second");
        });
        let text = String::from_utf8(buf.0.lock().expect("lock").clone()).expect("utf8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(
            lines[0].ends_with("unknown field `\\nid > /tmp/x # \\n`; ignoring it file=a\\rb"),
            "{text}"
        );
        assert!(lines[1].ends_with("second"), "{text}");
    }

    #[test]
    fn third_party_crates_never_log_below_warn() {
        use tracing::Level;
        let f = filter("trace");
        assert!(f.would_enable("ecr_login::cache", &Level::TRACE));
        assert!(f.would_enable("credhelper::driver", &Level::DEBUG));
        assert!(!f.would_enable("aws_smithy_runtime::client", &Level::DEBUG));
        assert!(!f.would_enable("hyper_util::client", &Level::INFO));
        assert!(f.would_enable("aws_config::imds", &Level::WARN));
        let f = filter("error");
        assert!(!f.would_enable("aws_config::imds", &Level::WARN));
        assert!(!f.would_enable("credhelper::driver", &Level::INFO));
    }
}

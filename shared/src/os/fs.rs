//! Private files and directories, written atomically: what every helper needs to never tear an
//! entry or leave a secret readable by others. Files in a directory another user may write are
//! [`super::dir`]'s.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};

/// This process's effective uid: the owner of what it creates.
#[cfg(unix)]
pub fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// This process's effective uid (0 where there are no uids).
#[cfg(not(unix))]
pub fn euid() -> u32 {
    0
}

/// Creates `dir` and its missing parents with mode 0700, whatever the umask. Existing
/// directories keep their mode: they are the user's.
pub fn create_private_dir_all(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(0o700);
    builder.create(dir)?;
    // The umask may have taken bits off. The mode is set on a descriptor opened without following
    // a link, and only on a directory of ours: a chmod through the path could be sent, by a
    // rename in a directory others can write, to whatever a link names.
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let opened = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(dir)?;
        let meta = opened.metadata()?;
        if meta.uid() == euid() && meta.mode() & 0o7777 != 0o700 {
            opened.set_permissions(fs::Permissions::from_mode(0o700))?;
        }
    }
    Ok(())
}

/// Replaces `path` with `bytes` atomically: a private temp file in the same directory, written,
/// synced, then renamed over the target. A reader sees the old content or the new, never a mix,
/// and a process killed half-way leaves at most a temp file (named `.NAME.tmp-*`), never a torn
/// entry.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = temp_path(path)?;
    let result = (|| {
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        opts.mode(0o600);
        let mut file = opts.open(&tmp)?;
        #[cfg(unix)]
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)?;
        sync_dir(path.parent().unwrap_or(Path::new(".")));
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Takes an exclusive `flock(2)` on `file`, waiting at most `wait`: `Ok(false)` if it stayed
/// locked that long. The kernel releases the lock when the file is dropped or its process dies,
/// so a killed helper never leaves a stale one.
///
/// The wait blocks in the kernel (on a thread of its own, for the bound), never polls: 63
/// helpers polling every 5 ms, on a 2-core machine with 4 busy loops beside, starved the
/// gpg-agent that the lock's holder was waiting for. 64 `get`s through gpg then failed at
/// their 10 s bound (60 of 64), where a blocking wait serves all 64 in about 1.5 s.
pub fn lock_within(file: &File, wait: std::time::Duration) -> io::Result<bool> {
    match file.try_lock() {
        Ok(()) => return Ok(true),
        Err(fs::TryLockError::WouldBlock) if wait.is_zero() => return Ok(false),
        Err(fs::TryLockError::WouldBlock) => {}
        Err(fs::TryLockError::Error(e)) => return Err(e),
    }
    // The waiter locks a duplicate descriptor: an flock belongs to the open file, which both
    // share, so the lock it takes is `file`'s. Which of "locked" and "gave up" came first is
    // decided under one mutex, so a lock taken just after the bound is either ours or given back.
    let waiter = file.try_clone()?;
    let shared = Arc::new((Mutex::new(Wait::Waiting), Condvar::new()));
    let theirs = shared.clone();
    std::thread::Builder::new().spawn(move || {
        let locked = waiter.lock();
        let (state, cv) = &*theirs;
        let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
        if matches!(*state, Wait::GaveUp) {
            // Nobody waits any more: give the lock back rather than hold it for a caller that
            // has gone on without it.
            let _ = waiter.unlock();
            return;
        }
        *state = Wait::Done(locked);
        cv.notify_one();
    })?;
    let (state, cv) = &*shared;
    let state = state.lock().unwrap_or_else(PoisonError::into_inner);
    let (mut state, _) = cv
        .wait_timeout_while(state, wait, |s| matches!(s, Wait::Waiting))
        .unwrap_or_else(PoisonError::into_inner);
    match std::mem::replace(&mut *state, Wait::GaveUp) {
        Wait::Done(locked) => locked.map(|()| true),
        Wait::Waiting | Wait::GaveUp => Ok(false),
    }
}

/// Where [`lock_within`]'s waiter is.
enum Wait {
    Waiting,
    Done(io::Result<()>),
    GaveUp,
}

/// Whether a directory entry is one of [`write_atomic`]'s temp files (left by a killed writer).
pub fn is_temp_name(name: &str) -> bool {
    name.starts_with('.') && name.contains(".tmp-")
}

/// The longest file name Linux file systems accept.
const NAME_MAX: usize = 255;

fn temp_path(path: &Path) -> io::Result<PathBuf> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    Ok(path.with_file_name(temp_name(&name.to_string_lossy())))
}

/// A fresh temp file name for `name` in the same directory: `.NAME.tmp-PID-NANOS-N`.
pub(crate) fn temp_name(name: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let suffix = format!(".tmp-{}-{nanos}-{n}", std::process::id());
    // A name that fits the file system must not fail for its temp file's longer name: the
    // name's part is cut short (at a character boundary) so the whole stays within NAME_MAX.
    let mut keep = name.len().min(NAME_MAX - 1 - suffix.len());
    while !name.is_char_boundary(keep) {
        keep -= 1;
    }
    format!(".{}{suffix}", &name[..keep])
}

/// Makes a rename durable. Best effort: some file systems refuse to sync a directory.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn tempdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("credhelper-fs-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn a_lock_is_taken_as_soon_as_it_is_free_and_a_waiter_that_gave_up_holds_nothing() {
        use std::time::{Duration, Instant};
        let d = tempdir("lock");
        fs::create_dir_all(&d).expect("mkdir");
        let path = d.join("l");
        File::create(&path).expect("create");
        // Two opens are two flock owners, as two processes are.
        let holder = File::open(&path).expect("open");
        assert!(lock_within(&holder, Duration::ZERO).expect("lock"));
        let gave_up = File::open(&path).expect("open");
        let start = Instant::now();
        assert!(!lock_within(&gave_up, Duration::from_millis(100)).expect("wait"));
        assert!(start.elapsed() >= Duration::from_millis(100));
        // Released while another waits: taken at once, not at the end of the bound.
        let waiting = File::open(&path).expect("open");
        let release = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            drop(holder);
        });
        let start = Instant::now();
        assert!(lock_within(&waiting, Duration::from_secs(10)).expect("wait"));
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
        release.join().expect("release");
        drop(waiting);
        // The waiter that gave up (its file still open) took the lock later and gave it back.
        let last = File::open(&path).expect("open");
        assert!(lock_within(&last, Duration::from_secs(5)).expect("wait"));
        drop(gave_up);
        fs::remove_dir_all(&d).expect("cleanup");
    }

    #[test]
    fn atomic_write_is_private_and_leaves_no_temp() {
        let d = tempdir("atomic");
        create_private_dir_all(&d.join("a/b")).expect("mkdir");
        assert_eq!(
            fs::metadata(d.join("a/b"))
                .expect("stat")
                .permissions()
                .mode()
                & 0o777,
            0o700
        );
        let f = d.join("a/b/entry.gpg");
        write_atomic(&f, b"one").expect("write");
        write_atomic(&f, b"two").expect("overwrite");
        assert_eq!(fs::read(&f).expect("read"), b"two");
        assert_eq!(
            fs::metadata(&f).expect("stat").permissions().mode() & 0o777,
            0o600
        );
        let names: Vec<_> = fs::read_dir(d.join("a/b"))
            .expect("ls")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("entry.gpg")]);
        assert!(is_temp_name(".entry.gpg.tmp-1-2-3"));
        // The longest name a file may have still gets a temp file of a legal length.
        let long = d.join(format!("{}.gpg", "é".repeat(125)));
        assert_eq!(long.file_name().map(|n| n.len()), Some(254));
        write_atomic(&long, b"long").expect("a long name is written");
        assert_eq!(fs::read(&long).expect("read"), b"long");
        assert!(!is_temp_name("entry.gpg"));
        fs::remove_dir_all(&d).expect("cleanup");
    }
}

//! A directory held open, and the files in it opened as if another user could have put anything
//! there (issue #11, "hostile directories").
//!
//! A shared cache directory (`/tmp/ecr`, mode 1777, on a CI host) is a documented setup, and what
//! a path names can change between two system calls. So a [`Dir`] is a descriptor, checked once,
//! and every file in it is opened relative to that descriptor (`openat`), never through a path
//! that a rename could redirect:
//! - without following a link (`O_NOFOLLOW`): a planted link to `~/.bashrc` is refused, whatever
//!   `fs.protected_symlinks` says;
//! - without blocking (`O_NONBLOCK`): a FIFO or a device in its place cannot hang the helper;
//! - only if `fstat` on the open descriptor says it is a regular file owned by us (and, to be
//!   written, with no other hard link);
//! - read with a cap as it is read, not after a `len()` that a device reports as 0;
//! - with modes set on the descriptor (`fchmod`), never through a path.
//!
//! On other systems than Unix the same calls work on paths, without these guarantees.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

/// Why a directory, or a file in one, is not used.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// A symbolic link where a file or a directory of ours was expected: never followed.
    #[error("{} is a symbolic link", .0.display())]
    Symlink(PathBuf),
    /// A FIFO, a device, a socket or a directory where a regular file was expected.
    #[error("{} is not a regular file", .0.display())]
    NotRegular(PathBuf),
    /// Something else where a directory was expected.
    #[error("{} is not a directory", .0.display())]
    NotDir(PathBuf),
    /// Another user's: it may say anything, and what we write there they can read or replace.
    #[error("{} belongs to uid {owner}, not to uid {me}", .path.display())]
    NotOwned {
        /// The file or directory.
        path: PathBuf,
        /// Its owner.
        owner: u32,
        /// This process's effective uid.
        me: u32,
    },
    /// A file of ours with another name elsewhere: writing it would change that file too.
    #[error("{} has {links} hard links", .path.display())]
    HardLinked {
        /// The file.
        path: PathBuf,
        /// Its link count.
        links: u64,
    },
    /// Larger than what the caller will read.
    #[error("{} is larger than {max} bytes", .path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The cap.
        max: u64,
    },
    /// The system call failed.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
}

impl Refused {
    fn io(path: impl Into<PathBuf>, source: impl Into<io::Error>) -> Refused {
        Refused::Io {
            path: path.into(),
            source: source.into(),
        }
    }
}

impl From<Refused> for io::Error {
    fn from(r: Refused) -> io::Error {
        match r {
            Refused::Io { path, source } => {
                io::Error::new(source.kind(), format!("{}: {source}", path.display()))
            }
            other => io::Error::new(io::ErrorKind::PermissionDenied, other.to_string()),
        }
    }
}

/// The name of the private directory a user gets inside a directory others can write:
/// `uid-1000`.
pub fn private_sub_name() -> String {
    format!("uid-{}", euid())
}

pub use super::fs::euid;

/// A directory held open by descriptor (see the module's documentation).
#[derive(Debug)]
pub struct Dir {
    path: PathBuf,
    #[cfg(unix)]
    fd: std::os::fd::OwnedFd,
}

#[cfg(unix)]
mod unix {
    use std::io::Write;

    use rustix::fs::{AtFlags, FileType, Mode, OFlags, Stat};
    use rustix::io::Errno;

    use super::*;

    const MODE_0600: Mode = Mode::from_raw_mode(0o600);
    const MODE_0700: Mode = Mode::from_raw_mode(0o700);
    /// Every open here: no link followed, never blocking, never becoming our controlling terminal,
    /// not inherited by children.
    const SAFE: OFlags = OFlags::NOFOLLOW
        .union(OFlags::NONBLOCK)
        .union(OFlags::NOCTTY)
        .union(OFlags::CLOEXEC);

    fn owner_is_us(path: &Path, st: &Stat) -> Result<(), Refused> {
        let me = euid();
        if st.st_uid == me {
            Ok(())
        } else {
            Err(Refused::NotOwned {
                path: path.to_path_buf(),
                owner: st.st_uid,
                me,
            })
        }
    }

    fn regular(path: &Path, st: &Stat) -> Result<(), Refused> {
        match FileType::from_raw_mode(st.st_mode) {
            FileType::RegularFile => Ok(()),
            FileType::Symlink => Err(Refused::Symlink(path.to_path_buf())),
            _ => Err(Refused::NotRegular(path.to_path_buf())),
        }
    }

    impl Dir {
        /// The existing directory `path`. A link as its last component is followed only if it is
        /// ours or root's (as `fs.protected_symlinks` would): the user may point `~/.ecr`
        /// elsewhere, another user may not.
        pub fn open(path: &Path) -> Result<Dir, Refused> {
            use std::os::unix::fs::MetadataExt;
            let meta = std::fs::symlink_metadata(path).map_err(|e| Refused::io(path, e))?;
            let mut flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
            if meta.file_type().is_symlink() {
                let me = euid();
                if meta.uid() != me && meta.uid() != 0 {
                    return Err(Refused::NotOwned {
                        path: path.to_path_buf(),
                        owner: meta.uid(),
                        me,
                    });
                }
            } else {
                flags |= OFlags::NOFOLLOW;
            }
            let fd = rustix::fs::open(path, flags, Mode::empty()).map_err(|e| match e {
                Errno::NOTDIR | Errno::LOOP => Refused::NotDir(path.to_path_buf()),
                e => Refused::io(path, e),
            })?;
            Ok(Dir {
                path: path.to_path_buf(),
                fd,
            })
        }

        fn stat(&self) -> Result<Stat, Refused> {
            rustix::fs::fstat(&self.fd).map_err(|e| Refused::io(&self.path, e))
        }

        /// Whether another user could put something here: the directory is someone else's, or
        /// its group or others may write it.
        pub fn others_may_write(&self) -> Result<bool, Refused> {
            let st = self.stat()?;
            Ok(st.st_uid != euid() || st.st_mode & 0o022 != 0)
        }

        /// Our directory `name` in this one, created 0700 if missing. It must be a directory (not
        /// a link) that we own; its mode is tightened to 0700 if others could read it.
        pub fn private_sub(&self, name: &str) -> Result<Dir, Refused> {
            let path = self.path.join(name);
            // Its failure (EACCES in another user's directory, EROFS) only matters if the
            // directory is not there after all.
            let made = rustix::fs::mkdirat(&self.fd, name, MODE_0700);
            let fd = rustix::fs::openat(
                &self.fd,
                name,
                OFlags::RDONLY | OFlags::DIRECTORY | SAFE,
                Mode::empty(),
            )
            .map_err(|e| match e {
                Errno::NOENT => Refused::io(&path, made.err().unwrap_or(e)),
                e => self.why_not(name, e),
            })?;
            let dir = Dir { path, fd };
            let st = dir.stat()?;
            owner_is_us(&dir.path, &st)?;
            if st.st_mode & 0o077 != 0 {
                rustix::fs::fchmod(&dir.fd, MODE_0700).map_err(|e| Refused::io(&dir.path, e))?;
            }
            Ok(dir)
        }

        /// Names what is at `name` when opening it failed with `e`: a link, not a directory, or
        /// the error itself.
        fn why_not(&self, name: &str, e: Errno) -> Refused {
            let path = self.path.join(name);
            match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Symlink => {
                    Refused::Symlink(path)
                }
                Ok(_) if e == Errno::NOTDIR => Refused::NotDir(path),
                _ => Refused::io(path, e),
            }
        }

        /// The regular file `name` of ours, read whole if it holds at most `max` bytes; `None` if
        /// there is no such name. The buffer is wiped when dropped: the file may hold tokens.
        pub fn read(&self, name: &str, max: u64) -> Result<Option<Zeroizing<Vec<u8>>>, Refused> {
            let path = self.path.join(name);
            let fd = match rustix::fs::openat(&self.fd, name, OFlags::RDONLY | SAFE, Mode::empty())
            {
                Ok(fd) => fd,
                Err(Errno::NOENT) => return Ok(None),
                Err(e) => return Err(self.why_not(name, e)),
            };
            let st = rustix::fs::fstat(&fd).map_err(|e| Refused::io(&path, e))?;
            regular(&path, &st)?;
            owner_is_us(&path, &st)?;
            read_capped(File::from(fd), &path, st.st_size as u64, max).map(Some)
        }

        /// The regular file `name` of ours, opened to append, created 0600 if missing (its mode
        /// set to 0600 on the descriptor if it was not). A file with another hard link is refused:
        /// appending would change the other name's file too.
        pub fn append(&self, name: &str) -> Result<File, Refused> {
            let path = self.path.join(name);
            let fd = rustix::fs::openat(
                &self.fd,
                name,
                OFlags::WRONLY | OFlags::APPEND | OFlags::CREATE | SAFE,
                MODE_0600,
            )
            .map_err(|e| self.why_not(name, e))?;
            let st = rustix::fs::fstat(&fd).map_err(|e| Refused::io(&path, e))?;
            regular(&path, &st)?;
            owner_is_us(&path, &st)?;
            if st.st_nlink != 1 {
                return Err(Refused::HardLinked {
                    path,
                    links: st.st_nlink,
                });
            }
            if st.st_mode & 0o7777 != 0o600 {
                rustix::fs::fchmod(&fd, MODE_0600).map_err(|e| Refused::io(&path, e))?;
            }
            Ok(File::from(fd))
        }

        /// Replaces `name` with `bytes` atomically, as [`crate::os::fs::write_atomic`] does: a new
        /// 0600 temp file (`O_EXCL`, so never a planted one), written, synced, renamed over
        /// `name` (a rename replaces a link, never its target).
        pub fn write_atomic(&self, name: &str, bytes: &[u8]) -> Result<(), Refused> {
            let tmp = crate::os::fs::temp_name(name);
            let fd = rustix::fs::openat(
                &self.fd,
                &tmp,
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | SAFE,
                MODE_0600,
            )
            .map_err(|e| Refused::io(self.path.join(&tmp), e))?;
            let result = (|| {
                // The umask may have taken bits off; never added any.
                rustix::fs::fchmod(&fd, MODE_0600)?;
                let mut file = File::from(fd);
                file.write_all(bytes)?;
                file.sync_all()?;
                drop(file);
                rustix::fs::renameat(&self.fd, &tmp, &self.fd, name)?;
                // Makes the rename durable. Best effort: some file systems refuse it.
                let _ = rustix::fs::fsync(&self.fd);
                Ok::<(), io::Error>(())
            })();
            result.map_err(|e| {
                let _ = rustix::fs::unlinkat(&self.fd, &tmp, AtFlags::empty());
                Refused::io(self.path.join(name), e)
            })
        }

        /// Removes the temp files [`Dir::write_atomic`] leaves for `name` when it is killed
        /// (`.NAME.tmp-*`). Only call it while holding the lock every writer of `name` takes:
        /// then no temp file is a live one. Returns how many were removed.
        pub fn remove_temps(&self, name: &str) -> usize {
            let prefix = format!(".{name}.tmp-");
            let Ok(entries) = rustix::fs::Dir::read_from(&self.fd) else {
                return 0;
            };
            entries
                .filter_map(Result::ok)
                .filter(|e| e.file_name().to_bytes().starts_with(prefix.as_bytes()))
                .filter(|e| rustix::fs::unlinkat(&self.fd, e.file_name(), AtFlags::empty()).is_ok())
                .count()
        }

        /// Renames `from` to `to`, both in this directory. A rename never follows a link.
        pub fn rename(&self, from: &str, to: &str) -> io::Result<()> {
            Ok(rustix::fs::renameat(&self.fd, from, &self.fd, to)?)
        }

        /// The size of `name` if it is a regular file of ours (no link followed).
        pub fn file_len(&self, name: &str) -> Option<u64> {
            let st = rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW).ok()?;
            let path = self.path.join(name);
            (regular(&path, &st).is_ok() && owner_is_us(&path, &st).is_ok())
                .then_some(st.st_size as u64)
        }
    }
}

#[cfg(not(unix))]
mod other {
    use super::*;

    impl Dir {
        /// The existing directory `path`.
        pub fn open(path: &Path) -> Result<Dir, Refused> {
            if path.is_dir() {
                Ok(Dir {
                    path: path.to_path_buf(),
                })
            } else {
                Err(Refused::NotDir(path.to_path_buf()))
            }
        }

        /// Whether another user could put something here: not known without uids.
        pub fn others_may_write(&self) -> Result<bool, Refused> {
            Ok(false)
        }

        /// The directory `name` in this one, created if missing.
        pub fn private_sub(&self, name: &str) -> Result<Dir, Refused> {
            Dir::create(&self.path.join(name))
        }

        /// The regular file `name`, read whole if it holds at most `max` bytes.
        pub fn read(&self, name: &str, max: u64) -> Result<Option<Zeroizing<Vec<u8>>>, Refused> {
            let path = self.path.join(name);
            let file = match File::open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(Refused::io(path, e)),
            };
            let meta = file.metadata().map_err(|e| Refused::io(&path, e))?;
            if !meta.is_file() {
                return Err(Refused::NotRegular(path));
            }
            read_capped(file, &path, meta.len(), max).map(Some)
        }

        /// The file `name`, opened to append, created if missing.
        pub fn append(&self, name: &str) -> Result<File, Refused> {
            let path = self.path.join(name);
            std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(&path)
                .map_err(|e| Refused::io(path, e))
        }

        /// Replaces `name` with `bytes` atomically.
        pub fn write_atomic(&self, name: &str, bytes: &[u8]) -> Result<(), Refused> {
            let path = self.path.join(name);
            crate::os::fs::write_atomic(&path, bytes).map_err(|e| Refused::io(path, e))
        }

        /// Removes the temp files a killed writer left for `name`.
        pub fn remove_temps(&self, name: &str) -> usize {
            let prefix = format!(".{name}.tmp-");
            std::fs::read_dir(&self.path)
                .map(|entries| {
                    entries
                        .filter_map(Result::ok)
                        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                        .filter(|e| std::fs::remove_file(e.path()).is_ok())
                        .count()
                })
                .unwrap_or(0)
        }

        /// Renames `from` to `to`, both in this directory.
        pub fn rename(&self, from: &str, to: &str) -> io::Result<()> {
            std::fs::rename(self.path.join(from), self.path.join(to))
        }

        /// The size of `name` if it is a regular file.
        pub fn file_len(&self, name: &str) -> Option<u64> {
            let meta = std::fs::symlink_metadata(self.path.join(name)).ok()?;
            meta.is_file().then_some(meta.len())
        }
    }
}

impl Dir {
    /// Where this directory was when it was opened (for messages: a rename may have moved it
    /// since, and nothing here uses this path to reach a file).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `path`, created with its missing parents (mode 0700) first.
    pub fn create(path: &Path) -> Result<Dir, Refused> {
        crate::os::fs::create_private_dir_all(path).map_err(|e| Refused::io(path, e))?;
        Dir::open(path)
    }

    /// A directory for private files at `path` (created 0700 if missing): `path` itself when it
    /// is ours and nobody else may write it; otherwise our own `path/uid-<euid>` (see
    /// [`Dir::private_sub`]), which nobody else can enter, whoever owns `path`. In a directory
    /// of someone else's that we cannot write, or where another user took that name first, there
    /// is none.
    pub fn private(path: &Path) -> Result<Dir, Refused> {
        let dir = Dir::create(path)?;
        if dir.others_may_write()? {
            dir.private_sub(&private_sub_name())
        } else {
            Ok(dir)
        }
    }
}

/// Reads `file` to its end, refusing more than `max` bytes as they are read: a file's length
/// can lie (a device says 0, a file can grow while it is read). `len` only sizes the buffer.
fn read_capped(file: File, path: &Path, len: u64, max: u64) -> Result<Zeroizing<Vec<u8>>, Refused> {
    let too_large = || Refused::TooLarge {
        path: path.to_path_buf(),
        max,
    };
    if len > max {
        return Err(too_large());
    }
    // One allocation for a file that does not grow: no copy of its bytes left behind in freed
    // memory by a reallocation.
    let mut bytes = Zeroizing::new(Vec::with_capacity(len as usize + 1));
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| Refused::io(path, e))?;
    if bytes.len() as u64 > max {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Reads `path`, a file the user named (a docker `config.json`), if it is a regular file of at
/// most `max` bytes, without blocking on a FIFO or a device (the cap holds as it is read). In a
/// directory another user could write, it is read as [`Dir::read`] reads: no link followed, and
/// only a file of ours. Elsewhere a link is followed (dotfile managers link `config.json`) and
/// any owner's file is read (root configuring a user's file). `None` if there is no such file.
pub fn read_user_file(path: &Path, max: u64) -> Result<Option<Zeroizing<Vec<u8>>>, Refused> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Refused::NotRegular(path.to_path_buf()))?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let dir = match Dir::open(parent) {
        Ok(d) => d,
        Err(Refused::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    if dir.others_may_write()? {
        return dir.read(name, max);
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut opts, libc::O_NONBLOCK | libc::O_NOCTTY);
    let file = match opts.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Refused::Io {
                path: path.to_path_buf(),
                source: e,
            });
        }
    };
    let meta = file.metadata().map_err(|e| Refused::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    if !meta.is_file() {
        return Err(Refused::NotRegular(path.to_path_buf()));
    }
    let mut bytes = Zeroizing::new(Vec::new());
    io::Read::read_to_end(&mut io::Read::take(file, max + 1), &mut bytes).map_err(|e| {
        Refused::Io {
            path: path.to_path_buf(),
            source: e,
        }
    })?;
    if bytes.len() as u64 > max {
        return Err(Refused::TooLarge {
            path: path.to_path_buf(),
            max,
        });
    }
    Ok(Some(bytes))
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    use super::*;

    fn tempdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("credhelper-dir-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("mkdir");
        d
    }

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p).expect("stat").mode() & 0o7777
    }

    #[test]
    fn links_fifos_and_devices_are_refused_without_blocking() {
        let d = tempdir("refuse");
        let victim = d.join("victim");
        std::fs::write(&victim, "keep").expect("write");
        std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        std::os::unix::fs::symlink(&victim, d.join("link")).expect("ln");
        std::os::unix::fs::symlink("/dev/zero", d.join("zero")).expect("ln");
        let fifo = d.join("fifo");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .expect("mkfifo")
                .success()
        );
        let dir = Dir::open(&d).expect("open");
        for name in ["link", "zero"] {
            assert!(
                matches!(dir.read(name, 10), Err(Refused::Symlink(_))),
                "{name}"
            );
            assert!(
                matches!(dir.append(name), Err(Refused::Symlink(_))),
                "{name}"
            );
            assert!(dir.file_len(name).is_none(), "{name}");
        }
        // Both return at once: a FIFO with no writer (or no reader) never blocks an open.
        assert!(matches!(dir.read("fifo", 10), Err(Refused::NotRegular(_))));
        assert!(dir.append("fifo").is_err());
        assert_eq!(std::fs::read_to_string(&victim).expect("read"), "keep");
        assert_eq!(mode(&victim), 0o644, "no chmod through a link");
        std::fs::remove_dir_all(&d).expect("cleanup");
    }

    #[test]
    fn reads_are_capped_as_they_are_read() {
        let d = tempdir("cap");
        let dir = Dir::open(&d).expect("open");
        assert!(dir.read("missing", 10).expect("read").is_none());
        std::fs::write(d.join("ten"), "0123456789").expect("write");
        assert_eq!(
            &dir.read("ten", 10).expect("read").expect("some")[..],
            b"0123456789"
        );
        assert!(matches!(
            dir.read("ten", 9),
            Err(Refused::TooLarge { max: 9, .. })
        ));
        // A length that lies: read_capped is handed 0 for a file of 10 bytes.
        let file = File::open(d.join("ten")).expect("open");
        assert!(matches!(
            read_capped(file, &d.join("ten"), 0, 4),
            Err(Refused::TooLarge { max: 4, .. })
        ));
        std::fs::remove_dir_all(&d).expect("cleanup");
    }

    #[test]
    fn writes_are_private_atomic_and_refuse_hard_links() {
        let d = tempdir("write");
        let dir = Dir::open(&d).expect("open");
        // A link planted where the file goes is replaced, its target untouched.
        let victim = d.join("victim");
        std::fs::write(&victim, "keep").expect("write");
        std::os::unix::fs::symlink(&victim, d.join("cache")).expect("ln");
        dir.write_atomic("cache", b"new").expect("write");
        assert_eq!(std::fs::read(d.join("cache")).expect("read"), b"new");
        assert_eq!(mode(&d.join("cache")), 0o600);
        assert_eq!(std::fs::read_to_string(&victim).expect("read"), "keep");
        // Appending to a name that is a second hard link of another file is refused.
        std::fs::hard_link(&victim, d.join("log")).expect("ln");
        assert!(matches!(
            dir.append("log"),
            Err(Refused::HardLinked { links: 2, .. })
        ));
        std::fs::remove_file(d.join("log")).expect("rm");
        let log = dir.append("log").expect("append");
        drop(log);
        assert_eq!(mode(&d.join("log")), 0o600);
        // Temp files a killed writer left are found and removed; nothing else is.
        std::fs::write(d.join(".cache.tmp-1-2-3"), "token").expect("write");
        std::fs::write(d.join(".other.tmp-1-2-3"), "x").expect("write");
        assert_eq!(dir.remove_temps("cache"), 1);
        assert!(!d.join(".cache.tmp-1-2-3").exists());
        assert!(d.join(".other.tmp-1-2-3").exists());
        std::fs::remove_dir_all(&d).expect("cleanup");
    }

    #[test]
    fn private_sub_is_a_directory_of_ours_never_a_link() {
        let d = tempdir("sub");
        let dir = Dir::open(&d).expect("open");
        let sub = dir.private_sub("log").expect("sub");
        assert_eq!(mode(sub.path()), 0o700);
        std::fs::set_permissions(sub.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        dir.private_sub("log").expect("again");
        assert_eq!(mode(&d.join("log")), 0o700, "tightened");
        std::fs::create_dir(d.join("elsewhere")).expect("mkdir");
        std::os::unix::fs::symlink(d.join("elsewhere"), d.join("linked")).expect("ln");
        assert!(matches!(
            dir.private_sub("linked"),
            Err(Refused::Symlink(_))
        ));
        std::fs::write(d.join("file"), "").expect("write");
        assert!(matches!(dir.private_sub("file"), Err(Refused::NotDir(_))));
        // Ours and private: used as it is.
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        assert_eq!(Dir::private(&d).expect("private").path(), d);
        // Writable by others: our own subdirectory instead.
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o1777)).expect("chmod");
        assert_eq!(
            Dir::private(&d).expect("private").path(),
            d.join(private_sub_name())
        );
        assert_eq!(mode(&d.join(private_sub_name())), 0o700);
        std::fs::remove_dir_all(&d).expect("cleanup");
    }
}

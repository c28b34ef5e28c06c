//! Two local users and the kernel's link protections, for the hostile-directory tests (issue
//! #11, section 8): a victim and an attacker, each a uid with no passwd entry (a container's
//! arbitrary uid) run through `setpriv`, and `fs.protected_symlinks` / `fs.protected_regular` set
//! per round. Needs root, as CI runs; elsewhere these tests skip loudly.

use std::ffi::OsStr;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::sandbox::{Sandbox, bin_dir, chmod};

/// The user whose files and tokens the attacks are after.
pub const VICTIM: u32 = 47_001;
/// The other local user, who can write the shared directory.
pub const ATTACKER: u32 = 47_002;

/// One setting of the kernel's protections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Protections {
    /// `fs.protected_symlinks`: 1 refuses to follow another user's link in a sticky
    /// world-writable directory.
    pub symlinks: u8,
    /// `fs.protected_regular`: 1 refuses `O_CREAT` opens of another user's file there.
    pub regular: u8,
}

/// Every attack is played twice: with the protections off (many container hosts, older
/// kernels), then on as systemd and Debian set them. Nothing of ours may depend on them.
pub const ROUNDS: [Protections; 2] = [
    Protections {
        symlinks: 0,
        regular: 0,
    },
    Protections {
        symlinks: 1,
        regular: 1,
    },
];

const KNOBS: [&str; 2] = [
    "/proc/sys/fs/protected_symlinks",
    "/proc/sys/fs/protected_regular",
];

/// The kernel's protections, held by one test at a time (they are global to the machine); the
/// values found are put back when it is dropped.
pub struct Kernel {
    old: Vec<String>,
    _serial: MutexGuard<'static, ()>,
}

impl Kernel {
    /// Takes the protections for `test`, or says why it cannot: a failure under `CI=true`, a
    /// loud skip elsewhere.
    pub fn take(test: &str) -> Option<Kernel> {
        static SERIAL: Mutex<()> = Mutex::new(());
        let serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
        if !crate::peers::have(test, &["setpriv", "mkfifo"]) {
            return None;
        }
        let why = match std::fs::metadata("/proc/self").map(|m| m.uid()) {
            Ok(0) => None,
            Ok(uid) => Some(format!("runs as uid {uid}; playing two users needs root")),
            Err(e) => Some(format!("cannot stat /proc/self: {e}")),
        };
        let old: Vec<String> = KNOBS
            .iter()
            .filter_map(|k| std::fs::read_to_string(k).ok())
            .map(|v| v.trim().to_string())
            .collect();
        // Writing the value back proves that /proc/sys can be written, changing nothing.
        let why = why.or_else(|| {
            (old.len() != KNOBS.len())
                .then(|| "cannot read /proc/sys/fs/protected_*".to_string())
                .or_else(|| {
                    KNOBS
                        .iter()
                        .zip(&old)
                        .find_map(|(k, v)| std::fs::write(k, v).err().map(|e| (k, e)))
                        .map(|(k, e)| format!("cannot write {k}: {e}"))
                })
        });
        if let Some(why) = why {
            let msg = format!("{test}: {why}");
            assert!(!crate::peers::ci(), "{msg}");
            eprintln!("SKIPPED {msg}");
            return None;
        }
        Some(Kernel {
            old,
            _serial: serial,
        })
    }

    /// Sets the protections, and checks that the kernel took them.
    pub fn set(&self, p: Protections) {
        for (knob, value) in KNOBS.iter().zip([p.symlinks, p.regular]) {
            std::fs::write(knob, value.to_string()).unwrap_or_else(|e| panic!("{knob}: {e}"));
            let now = std::fs::read_to_string(knob).expect("read back");
            assert_eq!(now.trim(), value.to_string(), "{knob}");
        }
    }
}

impl Drop for Kernel {
    fn drop(&mut self) {
        for (knob, value) in KNOBS.iter().zip(&self.old) {
            let _ = std::fs::write(knob, value);
        }
    }
}

/// `setpriv`'s arguments that run what follows as `uid` (group `uid`, no other groups).
pub fn as_uid(uid: u32) -> [String; 4] {
    [
        format!("--reuid={uid}"),
        format!("--regid={uid}"),
        "--clear-groups".to_string(),
        "--".to_string(),
    ]
}

/// A sandbox laid out for two users: the sandbox root made traversable, a home for each, and
/// the helpers where both can run them.
pub struct TwoUsers {
    /// The victim's `$HOME` (0755), with `.bashrc` (0644) and `.ssh/` (0700).
    pub victim_home: PathBuf,
    /// The attacker's `$HOME`.
    pub attacker_home: PathBuf,
    root: PathBuf,
    bin: PathBuf,
}

impl TwoUsers {
    /// Lays out `sb` for two users.
    pub fn new(sb: &Sandbox) -> TwoUsers {
        // tempfile makes the sandbox 0700 and root's: the other uids must get through it.
        chmod(&sb.root, 0o755);
        let victim_home = sb.root.join("victim");
        let attacker_home = sb.root.join("attacker");
        for (home, uid) in [(&victim_home, VICTIM), (&attacker_home, ATTACKER)] {
            std::fs::create_dir_all(home).expect("mkdir home");
            chmod(home, 0o755);
            std::os::unix::fs::chown(home, Some(uid), Some(uid)).expect("chown home");
        }
        let users = TwoUsers {
            bin: reachable_bin_dir(&sb.root),
            root: sb.root.clone(),
            victim_home,
            attacker_home,
        };
        users.reset_victim_files();
        users
    }

    /// The victim's `.bashrc`, `.profile` (both 0644) and `.ssh/` (0700, no authorized_keys),
    /// as they are before each attack.
    pub fn reset_victim_files(&self) {
        let ssh = self.victim_home.join(".ssh");
        let _ = std::fs::remove_dir_all(&ssh);
        std::fs::create_dir_all(&ssh).expect("mkdir .ssh");
        chmod(&ssh, 0o700);
        std::os::unix::fs::chown(&ssh, Some(VICTIM), Some(VICTIM)).expect("chown");
        for f in [".bashrc", ".profile"] {
            let path = self.victim_home.join(f);
            std::fs::write(&path, victim_file_text(f)).expect("write");
            chmod(&path, 0o644);
            std::os::unix::fs::chown(&path, Some(VICTIM), Some(VICTIM)).expect("chown");
        }
    }

    /// Asserts that the victim's files are as [`TwoUsers::reset_victim_files`] left them.
    pub fn assert_victim_files_untouched(&self, round: &str) {
        for f in [".bashrc", ".profile"] {
            let path = self.victim_home.join(f);
            assert_eq!(
                crate::proc::read(&path),
                victim_file_text(f),
                "{round}: {f} changed"
            );
            let meta = std::fs::symlink_metadata(&path).expect("stat");
            assert_eq!(meta.mode() & 0o7777, 0o644, "{round}: {f} chmodded");
            assert_eq!(meta.uid(), VICTIM, "{round}: {f} chowned");
        }
        let keys = self.victim_home.join(".ssh/authorized_keys");
        assert!(
            std::fs::symlink_metadata(&keys).is_err(),
            "{round}: {} was created",
            keys.display()
        );
    }

    /// A new directory `name` in the sandbox, mode 1777 and root's, as `/tmp` is: the shared
    /// directory of a CI host.
    pub fn sticky_dir(&self, name: &str) -> PathBuf {
        let dir = self.root.join(name);
        std::fs::create_dir(&dir).expect("mkdir shared");
        chmod(&dir, 0o1777);
        dir
    }

    /// One of our helpers, where both users can run it.
    pub fn helper(&self, name: &str) -> PathBuf {
        self.bin.join(format!("docker-credential-{name}"))
    }

    /// `sh -c script` as `uid`, with `env` and `$V` (the victim's home) and `$A` (the
    /// attacker's) set; asserts that it succeeded.
    pub fn sh(&self, sb: &Sandbox, uid: u32, script: &str, env: &[(&str, &OsStr)]) -> crate::Out {
        let out = self.try_sh(sb, uid, script, env);
        assert!(out.ok(), "as uid {uid}: {script}: {out:?}");
        out
    }

    /// [`TwoUsers::sh`], whatever the outcome.
    pub fn try_sh(
        &self,
        sb: &Sandbox,
        uid: u32,
        script: &str,
        env: &[(&str, &OsStr)],
    ) -> crate::Out {
        let mut cmd = sb.cmd("setpriv");
        cmd.args(as_uid(uid))
            .args(["sh", "-c", script])
            .env("V", &self.victim_home)
            .env("A", &self.attacker_home)
            .current_dir("/");
        for (k, v) in env {
            cmd.env(k, v);
        }
        crate::run(cmd, "")
    }
}

fn victim_file_text(name: &str) -> String {
    format!("# the victim's {name}\n")
}

/// The helpers' directory if every uid can reach it; else a copy of the helpers in `root/bin`
/// (the front runs the fetcher next to its own path, so both are copied, side by side).
fn reachable_bin_dir(root: &Path) -> PathBuf {
    let dir = bin_dir();
    let reachable = dir
        .ancestors()
        .all(|d| std::fs::metadata(d).is_ok_and(|m| m.mode() & 0o001 != 0));
    if reachable {
        return dir;
    }
    let copy = root.join("bin");
    std::fs::create_dir_all(&copy).expect("mkdir bin");
    chmod(&copy, 0o755);
    for name in [
        "docker-credential-ecr-login",
        "docker-credential-ecr-login-fetch",
        "docker-credential-keyring",
    ] {
        std::fs::copy(dir.join(name), copy.join(name)).expect("copy helper");
        chmod(&copy.join(name), 0o755);
    }
    copy
}

/// Who owns `path` (not following a link), and its mode bits.
pub fn owner_and_mode(path: &Path) -> (u32, u32) {
    let meta =
        std::fs::symlink_metadata(path).unwrap_or_else(|e| panic!("stat {}: {e}", path.display()));
    (meta.uid(), meta.mode() & 0o7777)
}

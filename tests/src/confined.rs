//! Helpers run the way containers, systemd's `DynamicUser` and Nomad tasks run them: as a uid
//! with no passwd entry, `HOME` unset, a bare environment, and with an `/etc/nsswitch.conf` the
//! test chooses, bind-mounted in a private mount namespace (the machine's own stays untouched).
//! That is where a helper loads NSS modules (`getpwuid_r` for a home, `getaddrinfo` for a host);
//! a statically linked glibc crashed in them (issue 11). Needs root: elsewhere these tests skip
//! loudly, and under `CI=true` they fail.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::proc::run;
use crate::sandbox::{Sandbox, bin_dir, chmod};

/// A uid and gid that no passwd or group entry names (checked by [`Confined::stranger_uid`]).
pub const STRANGER: u32 = 12345;

/// Debian 12's `/etc/nsswitch.conf` on a machine with libnss-systemd (every systemd install):
/// passwd and group lookups load `libnss_systemd.so.2`, the module a static glibc crashed in.
pub const DEBIAN_NSSWITCH: &str = "\
passwd:         files systemd
group:          files systemd
shadow:         files systemd
gshadow:        files systemd

hosts:          files dns
networks:       files

protocols:      db files
services:       db files
ethers:         db files
rpc:            db files

netgroup:       nis
";

/// [`DEBIAN_NSSWITCH`] once libnss-myhostname is installed (its postinst writes this `hosts`
/// line): `*.localhost` resolves to loopback through `libnss_myhostname.so.2`.
pub fn debian_nsswitch_with_myhostname() -> String {
    DEBIAN_NSSWITCH.replace(
        "hosts:          files dns",
        "hosts:          files myhostname dns",
    )
}

/// One private mount namespace recipe: an nsswitch.conf and a world-readable copy of our
/// helpers that any uid can run.
pub struct Confined {
    conf: PathBuf,
    bin: tempfile::TempDir,
}

impl Confined {
    /// Writes `nsswitch` into the sandbox and copies our helpers (the ecr fetcher beside the
    /// ecr front) into a dir of mode 0755: a sandbox is 0700, closed to other uids. `None` when
    /// this process cannot make mount namespaces or switch uids (not root): a failure under CI,
    /// a loud skip elsewhere.
    pub fn new(test: &str, sb: &Sandbox, nsswitch: &str) -> Option<Confined> {
        // SAFETY: geteuid has no preconditions and cannot fail.
        #[expect(unsafe_code, reason = "geteuid(2): whether we may unshare and setuid")]
        let euid = unsafe { libc::geteuid() };
        if euid != 0 || !crate::peers::have(test, &["unshare", "setpriv", "mount", "getent"]) {
            if euid != 0 {
                let msg = format!("{test}: needs root (mount namespaces, setpriv)");
                assert!(!crate::peers::ci(), "{msg}");
                eprintln!("SKIPPED {msg}");
            }
            return None;
        }
        let conf = sb.root.join("nsswitch.conf");
        std::fs::write(&conf, nsswitch).expect("write nsswitch.conf");
        chmod(&conf, 0o644);
        let bin = tempfile::Builder::new()
            .prefix("dch-bin-")
            .tempdir()
            .expect("temp dir for the helpers");
        chmod(bin.path(), 0o755);
        for name in [
            "docker-credential-pass",
            "docker-credential-ecr-login",
            "docker-credential-ecr-login-fetch",
            "docker-credential-keyring",
        ] {
            let (from, to) = (bin_dir().join(name), bin.path().join(name));
            // A hard link when on one file system (debug binaries are large), else a copy.
            if std::fs::hard_link(&from, &to).is_err() {
                std::fs::copy(&from, &to)
                    .unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
            }
            chmod(&to, 0o755);
        }
        Some(Confined { conf, bin })
    }

    /// Our helper `docker-credential-<name>`, in the dir every uid can read.
    pub fn helper(&self, name: &str) -> PathBuf {
        self.bin.path().join(format!("docker-credential-{name}"))
    }

    /// `program args…` in a private mount namespace with this nsswitch.conf over
    /// `/etc/nsswitch.conf`, as root, with the command's environment as the caller sets it.
    pub fn as_root(&self, sb: &Sandbox, program: impl AsRef<OsStr>, args: &[&str]) -> Command {
        let mut cmd = sb.cmd("unshare");
        cmd.args(["--mount", "--", "sh", "-c", BIND_THEN_EXEC])
            .arg(&self.conf)
            .arg(program)
            .args(args);
        cmd
    }

    /// `program args…` as [`STRANGER`] (no passwd entry, no groups) in that namespace, with
    /// nothing in its environment but `PATH=/usr/bin:/bin` and `env`: no HOME, no XDG dirs.
    pub fn as_stranger(
        &self,
        sb: &Sandbox,
        env: &[(&str, &str)],
        program: impl AsRef<Path>,
        args: &[&str],
    ) -> Command {
        let id = STRANGER.to_string();
        let mut cmd = self.as_root(sb, "setpriv", &[]);
        cmd.arg(format!("--reuid={id}"))
            .arg(format!("--regid={id}"))
            .args(["--clear-groups", "env", "-i", "PATH=/usr/bin:/bin"])
            .args(env.iter().map(|(k, v)| format!("{k}={v}")))
            .arg(program.as_ref())
            .args(args)
            .current_dir("/");
        cmd
    }

    /// Asserts that [`STRANGER`] has no passwd entry under this nsswitch.conf: the case the
    /// tests are about (a home must come from `getpwuid_r`, which finds nothing).
    pub fn stranger_uid(&self, sb: &Sandbox) -> u32 {
        let out = run(
            self.as_root(sb, "getent", &["passwd", &STRANGER.to_string()]),
            "",
        );
        assert_eq!(
            (out.code, out.stdout.as_str()),
            (2, ""),
            "uid {STRANGER} must have no passwd entry: {out:?}"
        );
        STRANGER
    }

    /// Whether `getent args…` succeeds in the namespace and prints `want`: that an NSS module
    /// the conf names is installed and answers. Otherwise: a failure under CI, a loud skip.
    pub fn module_answers(
        &self,
        test: &str,
        sb: &Sandbox,
        args: &[&str],
        want: &str,
        package: &str,
    ) -> bool {
        let out = run(self.as_root(sb, "getent", args), "");
        if out.ok() && out.stdout.contains(want) {
            return true;
        }
        let msg = format!(
            "{test}: `getent {}` does not answer {want:?} (is {package} installed? tests/run.sh installs it): {out:?}",
            args.join(" ")
        );
        assert!(!crate::peers::ci(), "{msg}");
        eprintln!("SKIPPED {msg}");
        false
    }
}

/// `sh -c` script: bind-mount `$0` (the conf) over /etc/nsswitch.conf, then run the rest. The
/// namespace is private (unshare's default propagation), so the machine never sees the mount.
const BIND_THEN_EXEC: &str = "mount --bind \"$0\" /etc/nsswitch.conf && exec \"$@\"";

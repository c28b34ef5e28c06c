//! A fake Secret Service on the test bus (`fake_secrets.py`, on Python's jeepney): one docker
//! item, and a `GetSecrets` that answers as gnome-keyring does, fails as KeePassXC does, or
//! leaves the item out as gnome-keyring does for an item locked since the search. It logs every
//! call it gets, so a test sees exactly which calls a helper made, in order.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::keyring_apps::PYTHON;
use crate::sandbox::Sandbox;
use crate::secret_service::SessionBus;

const SCRIPT: &str = include_str!("fake_secrets.py");

/// How the fake answers `GetSecrets`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetSecrets {
    /// With the item's secret (gnome-keyring).
    Answers,
    /// With `IsLocked` (KeePassXC, when an item asked for is locked for this client).
    Fails,
    /// Without the item (gnome-keyring, for an item locked since the search).
    LeavesOut,
}

/// The running fake; dropping it stops it by PID.
pub struct FakeSecrets {
    child: Child,
    log: PathBuf,
}

impl FakeSecrets {
    /// Starts the fake on `bus` (started with `Keyring::Absent`) with one docker item.
    pub fn start(
        sb: &Sandbox,
        bus: &SessionBus,
        mode: GetSecrets,
        server: &str,
        username: &str,
        secret: &str,
    ) -> FakeSecrets {
        let log = sb.root.join("fake-secrets.log");
        let mode = match mode {
            GetSecrets::Answers => "answer",
            GetSecrets::Fails => "fail",
            GetSecrets::LeavesOut => "omit",
        };
        let mut cmd = sb.cmd(PYTHON);
        cmd.args(["-c", SCRIPT])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        bus.env(&mut cmd);
        let mut child = cmd.spawn().expect("start fake_secrets.py");
        let setting = json!({"mode": mode, "server": server, "username": username,
            "secret": secret, "log": log});
        let mut stdin = child.stdin.take().expect("piped stdin");
        stdin
            .write_all(setting.to_string().as_bytes())
            .expect("write the fake's setting");
        drop(stdin);
        let fake = FakeSecrets { child, log };
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            let mut q = sb.cmd("dbus-send");
            q.args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                "string:org.freedesktop.secrets",
            ]);
            bus.env(&mut q);
            if crate::proc::run(q, "").stdout.contains("boolean true") {
                return fake;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("fake_secrets.py did not take org.freedesktop.secrets on the test bus");
    }

    /// The member name of every call the fake got so far, in order.
    pub fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

impl Drop for FakeSecrets {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

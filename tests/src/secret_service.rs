//! A private D-Bus session bus and gnome-keyring's Secret Service in a sandbox, stopped by PID.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::sandbox::Sandbox;

/// The password of the test keyring.
const KEYRING_PASSWORD: &str = "test-keyring-password";

/// How the Secret Service should come up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyring {
    /// Unlocked, as after a desktop login.
    Unlocked,
    /// Running but never unlocked: any write needs a prompt nobody can answer.
    Locked,
    /// No provider at all: a bus on which nothing owns org.freedesktop.secrets, and no
    /// activation files to start one.
    Absent,
}

/// The bus (and keyring); dropping it stops both by PID.
pub struct SessionBus {
    /// `unix:path=…`, for `DBUS_SESSION_BUS_ADDRESS`.
    pub address: String,
    bus_pid: u32,
    keyring: Option<Child>,
}

impl SessionBus {
    /// Starts a bus at `<sandbox>/bus` (which is `$XDG_RUNTIME_DIR/bus` for the sandbox's
    /// commands) and, unless `Absent`, gnome-keyring's Secret Service on it.
    pub fn start(sb: &Sandbox, keyring: Keyring) -> SessionBus {
        let socket = sb.root.join("bus");
        let address = format!("unix:path={}", socket.display());
        let config = sb.root.join("bus.conf");
        // Like the session bus, but with no service directories: nothing is ever activated,
        // so `Absent` really is absent, whatever the machine has installed.
        std::fs::write(
            &config,
            format!(
                "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\" \
                 \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n<busconfig><type>session</type>\
                 <listen>{address}</listen><policy context=\"default\"><allow send_destination=\"*\" eavesdrop=\"true\"/>\
                 <allow eavesdrop=\"true\"/><allow own=\"*\"/></policy></busconfig>\n"
            ),
        )
        .expect("write bus config");
        let out = sb.run(
            "dbus-daemon",
            &[
                "--config-file",
                &config.to_string_lossy(),
                "--fork",
                "--print-pid=1",
            ],
            "",
        );
        assert!(out.ok(), "dbus-daemon: {out:?}");
        let bus_pid: u32 = out.stdout.trim().parse().expect("dbus-daemon pid");
        let mut bus = SessionBus {
            address,
            bus_pid,
            keyring: None,
        };
        if keyring == Keyring::Absent {
            return bus;
        }
        let mut cmd = sb.cmd("gnome-keyring-daemon");
        cmd.args(["--foreground", "--components=secrets"])
            .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
            .env("XDG_DATA_HOME", sb.home.join(".local/share"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if keyring == Keyring::Unlocked {
            cmd.arg("--unlock");
        }
        let mut child = cmd.spawn().expect("start gnome-keyring-daemon");
        if let Some(mut stdin) = child.stdin.take()
            && keyring == Keyring::Unlocked
        {
            use std::io::Write;
            let _ = stdin.write_all(KEYRING_PASSWORD.as_bytes());
        }
        bus.keyring = Some(child);
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
            ])
            .env("DBUS_SESSION_BUS_ADDRESS", &bus.address);
            if crate::proc::run(q, "").stdout.contains("boolean true") {
                return bus;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("gnome-keyring-daemon did not take org.freedesktop.secrets on the test bus");
    }

    /// Adds this bus to a command's environment.
    pub fn env<'c>(&self, cmd: &'c mut Command) -> &'c mut Command {
        cmd.env("DBUS_SESSION_BUS_ADDRESS", &self.address)
    }
}

impl Drop for SessionBus {
    fn drop(&mut self) {
        if let Some(mut k) = self.keyring.take() {
            let _ = k.kill();
            let _ = k.wait();
        }
        let _ = Command::new("kill").arg(self.bus_pid.to_string()).status();
    }
}

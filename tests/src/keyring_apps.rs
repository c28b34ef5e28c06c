//! Other applications on a test Secret Service ([`SessionBus`]): Python's keyring library, items
//! in the shapes the Rust keyring crates write, and gnome-keyring collections of their own, all
//! made with real D-Bus calls by `keyring_apps.py` (Debian's python3-keyring and its
//! python3-secretstorage).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::sandbox::Sandbox;
use crate::secret_service::SessionBus;

/// Debian's interpreter, by absolute path: a Python of the developer's own (pyenv, a venv) may
/// lack Debian's keyring modules.
pub const PYTHON: &str = "/usr/bin/python3";
const SCRIPT: &str = include_str!("keyring_apps.py");

/// The default collection's alias path.
pub const DEFAULT: &str = "/org/freedesktop/secrets/aliases/default";

/// True if Debian's python3-keyring (with python3-secretstorage) is installed. Otherwise: a
/// failure in CI, a loud skip elsewhere (as [`crate::need!`]).
pub fn have_python_keyring(test: &str) -> bool {
    let mut cmd = std::process::Command::new(PYTHON);
    cmd.args(["-c", "import keyring.backends.SecretService, secretstorage"]);
    if std::path::Path::new(PYTHON).is_file() && crate::proc::run(cmd, "").ok() {
        return true;
    }
    let msg = format!(
        "{test}: {PYTHON} cannot import keyring and secretstorage; install python3-keyring (tests/run.sh does)"
    );
    assert!(!crate::peers::ci(), "{msg}");
    eprintln!("SKIPPED {msg}");
    false
}

/// One item of the keyring, as `items` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Its object path.
    pub path: String,
    /// Its collection's object path.
    pub collection: String,
    /// Its label.
    pub label: String,
    /// Its attributes.
    pub attributes: BTreeMap<String, String>,
    /// Its secret; `None` while its collection is locked.
    pub secret: Option<String>,
}

/// The other applications, on one sandbox's bus.
pub struct Apps<'a> {
    sb: &'a Sandbox,
    bus: &'a SessionBus,
}

impl<'a> Apps<'a> {
    /// The applications of `sb`, on `bus`.
    pub fn new(sb: &'a Sandbox, bus: &'a SessionBus) -> Apps<'a> {
        Apps { sb, bus }
    }

    fn call(&self, request: Value) -> Value {
        let mut cmd = self.sb.cmd(PYTHON);
        cmd.args(["-c", SCRIPT]);
        self.bus.env(&mut cmd);
        let out = crate::proc::run(cmd, request.to_string());
        assert!(out.ok(), "keyring_apps.py {}: {out:?}", request["op"]);
        serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("keyring_apps.py answered {:?}: {e}", out.stdout))
    }

    /// Python keyring's `set_password` (its Secret Service backend).
    pub fn python_keyring_set(&self, service: &str, username: &str, secret: &str) {
        self.call(json!({"op": "python-keyring-set", "service": service, "username": username, "secret": secret}));
    }

    /// Python keyring's `get_password`.
    pub fn python_keyring_get(&self, service: &str, username: &str) -> Option<String> {
        let v = self
            .call(json!({"op": "python-keyring-get", "service": service, "username": username}));
        v.as_str().map(str::to_string)
    }

    /// Creates an item with exactly these label and attributes in `collection` (a path, or
    /// [`DEFAULT`]); returns its path.
    pub fn create_item(
        &self,
        collection: &str,
        label: &str,
        attributes: &[(&str, &str)],
        secret: &str,
    ) -> String {
        let attributes: BTreeMap<&str, &str> = attributes.iter().copied().collect();
        let v = self.call(
            json!({"op": "create-item", "collection": collection, "label": label,
            "attributes": attributes, "secret": secret}),
        );
        v.as_str().expect("an item path").to_string()
    }

    /// A new collection with its own password, made through gnome-keyring's interface for that
    /// (the Secret Service's CreateCollection would need a prompt); returns its path.
    pub fn create_collection(&self, label: &str, password: &str) -> String {
        let v = self.call(json!({"op": "create-collection", "label": label, "password": password}));
        v.as_str().expect("a collection path").to_string()
    }

    /// Locks a collection (the Secret Service's Lock).
    pub fn lock(&self, collection: &str) {
        self.call(json!({"op": "lock", "path": collection}));
    }

    /// Unlocks a collection with its password, without a prompt.
    pub fn unlock(&self, collection: &str, password: &str) {
        self.call(json!({"op": "unlock", "path": collection, "password": password}));
    }

    /// Every item of every collection.
    pub fn items(&self) -> Vec<Item> {
        let v = self.call(json!({"op": "items"}));
        v.as_array()
            .expect("a list of items")
            .iter()
            .map(|i| Item {
                path: i["path"].as_str().unwrap_or_default().to_string(),
                collection: i["collection"].as_str().unwrap_or_default().to_string(),
                label: i["label"].as_str().unwrap_or_default().to_string(),
                attributes: serde_json::from_value(i["attributes"].clone())
                    .expect("attributes are strings"),
                secret: i["secret"].as_str().map(str::to_string),
            })
            .collect()
    }

    /// The items whose attributes include all of `attrs`.
    pub fn items_with(&self, attrs: &[(&str, &str)]) -> Vec<Item> {
        self.items()
            .into_iter()
            .filter(|i| {
                attrs
                    .iter()
                    .all(|(k, v)| i.attributes.get(*k).is_some_and(|x| x == v))
            })
            .collect()
    }
}

/// gnome-keyring's Secret Service started by the test itself on a bus without one
/// ([`crate::secret_service::Keyring::Absent`]), so that it can be restarted: a restarted daemon
/// loads the other collections from their files, locked, and then shows their items' attributes
/// only as hashes. Dropping it stops the daemons it started, by PID.
pub struct OwnKeyring {
    daemons: Vec<std::process::Child>,
    owner: String,
}

/// The login keyring's password of an [`OwnKeyring`].
const OWN_PASSWORD: &str = "own-keyring-password";

impl OwnKeyring {
    /// Starts gnome-keyring, its login keyring unlocked, and waits until it owns the Secret
    /// Service's name.
    pub fn start(sb: &Sandbox, bus: &SessionBus) -> OwnKeyring {
        let mut own = OwnKeyring {
            daemons: Vec::new(),
            owner: String::new(),
        };
        own.spawn(sb, bus, false);
        own
    }

    /// Starts a new daemon that replaces the running one (`--replace`), and waits until it owns
    /// the name.
    pub fn restart(&mut self, sb: &Sandbox, bus: &SessionBus) {
        self.spawn(sb, bus, true);
    }

    fn spawn(&mut self, sb: &Sandbox, bus: &SessionBus, replace: bool) {
        use std::io::Write;
        use std::process::Stdio;
        let mut cmd = sb.cmd("gnome-keyring-daemon");
        cmd.args(["--foreground", "--unlock", "--components=secrets"])
            .env("XDG_DATA_HOME", sb.home.join(".local/share"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if replace {
            cmd.arg("--replace");
        }
        bus.env(&mut cmd);
        let mut child = cmd.spawn().expect("start gnome-keyring-daemon");
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(OWN_PASSWORD.as_bytes())
                .expect("the login password");
        }
        self.daemons.push(child);
        let start = std::time::Instant::now();
        while start.elapsed() < std::time::Duration::from_secs(20) {
            let owner = name_owner(sb, bus);
            if !owner.is_empty() && owner != self.owner {
                self.owner = owner;
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("the new gnome-keyring-daemon did not take org.freedesktop.secrets");
    }
}

/// The unique name owning org.freedesktop.secrets, or "" when nothing does.
fn name_owner(sb: &Sandbox, bus: &SessionBus) -> String {
    let mut q = sb.cmd("dbus-send");
    q.args([
        "--session",
        "--print-reply=literal",
        "--dest=org.freedesktop.DBus",
        "/org/freedesktop/DBus",
        "org.freedesktop.DBus.GetNameOwner",
        "string:org.freedesktop.secrets",
    ]);
    bus.env(&mut q);
    let out = crate::proc::run(q, "");
    if out.ok() {
        out.stdout.trim().to_string()
    } else {
        String::new()
    }
}

impl Drop for OwnKeyring {
    fn drop(&mut self) {
        for mut d in self.daemons.drain(..) {
            let _ = d.kill();
            let _ = d.wait();
        }
    }
}

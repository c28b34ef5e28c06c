//! docker-credential-keyring on keyrings it shares: a Secret Service holding other applications'
//! items (Python's keyring, the Rust keyring crates, secret-tool), a second collection that is
//! locked (KeePassXC shows each database as one), items of newer Go releases, unusual bus
//! addresses; and a kernel keyring shared by every session of a user (issue 12, items 7, 8, 10
//! and 11). Each test drives the real peer: gnome-keyring on a private bus, Debian's
//! python3-keyring, the kernel keyring through `keyctl session`.

use std::time::{Duration, Instant};

use integration_tests::keyring_apps::{Apps, DEFAULT, Item, OwnKeyring, have_python_keyring};
use integration_tests::sandbox::helper;
use integration_tests::secret_service::{Keyring, SessionBus};
use integration_tests::wire::{NOT_FOUND, get_json, store_json};
use integration_tests::{Out, Sandbox, need, run};

/// Debian's Go helper, the oracle, always by this path (PATH may hold ours under its name).
const GO_SECRETSERVICE: &str = "/usr/bin/docker-credential-secretservice";

fn unlocked() -> (Sandbox, SessionBus) {
    let sb = Sandbox::new();
    let bus = SessionBus::start(&sb, Keyring::Unlocked);
    (sb, bus)
}

fn go(sb: &Sandbox, action: &str, stdin: &str) -> Out {
    sb.run(GO_SECRETSERVICE, &[action], stdin)
}

/// The items that are not docker's (no `docker_cli` attribute), in a stable order. gnome-keyring
/// shows an item stored without a schema with `xdg:schema=org.freedesktop.Secret.Generic` once
/// it has reloaded the keyring file (any write makes it), so that default is left out.
fn foreign(apps: &Apps) -> Vec<Item> {
    let mut items: Vec<Item> = apps
        .items()
        .into_iter()
        .filter(|i| !i.attributes.contains_key("docker_cli"))
        .map(|mut i| {
            if i.attributes.get("xdg:schema").map(String::as_str)
                == Some("org.freedesktop.Secret.Generic")
            {
                i.attributes.remove("xdg:schema");
            }
            i
        })
        .collect();
    items.sort_by(|a, b| a.path.cmp(&b.path));
    items
}

/// Python keyring's item and the Rust keyring crates' for the same service and username as a
/// docker login (the registry and the login name): `store`, `get`, `list` and `erase` leave
/// every one of them as it was, and Python keyring still reads its own secret.
#[test]
fn other_applications_items_are_never_touched() {
    need!(
        "dbus-daemon",
        "gnome-keyring-daemon",
        "secret-tool",
        GO_SECRETSERVICE
    );
    if !have_python_keyring(module_path!()) {
        return;
    }
    let (sb, bus) = unlocked();
    let apps = Apps::new(&sb, &bus);
    let url = "registry.example:5000";
    // A shell script's secret-tool item. First: libsecret stores with `replace`, and
    // gnome-keyring then replaces any item whose attributes include these (keyring 3's below).
    let out = sb.run(
        "secret-tool",
        &[
            "store",
            "--label=script",
            "service",
            url,
            "username",
            "alice",
        ],
        "script-secret",
    );
    assert!(out.ok(), "{out:?}");
    // Python's keyring: attributes service, username, application; its own label.
    apps.python_keyring_set(url, "alice", "python-secret");
    // keyring-core's Secret Service store (keyring 4): service, username; label keyring:u@s.
    apps.create_item(
        DEFAULT,
        &format!("keyring:alice@{url}"),
        &[("service", url), ("username", "alice")],
        "rust-keyring-4-secret",
    );
    // keyring 3: service, username, target.
    apps.create_item(
        DEFAULT,
        &format!("keyring-rs v3 for target 'default', service '{url}', user 'alice'"),
        &[
            ("service", url),
            ("username", "alice"),
            ("target", "default"),
        ],
        "rust-keyring-3-secret",
    );
    let before = foreign(&apps);
    assert_eq!(before.len(), 4, "{before:#?}");
    let python = &before
        .iter()
        .find(|i| {
            i.attributes.get("application").map(String::as_str) == Some("Python keyring library")
        })
        .expect("Python keyring's item");
    assert_eq!(python.label, format!("Password for 'alice' on '{url}'"));
    // Python keyring answers with the first item that has its service and username (here one of
    // the three other applications' items): what it answers must not change.
    let python_answer = apps.python_keyring_get(url, "alice");
    assert!(
        python_answer
            .as_deref()
            .is_some_and(|a| a.ends_with("-secret") && a != "docker-secret"),
        "{python_answer:?}"
    );

    let out = sb.ours(
        "keyring",
        "store",
        store_json(url, "alice", "docker-secret"),
    );
    assert!(out.ok() && out.stdout.is_empty(), "{out:?}");
    assert_eq!(
        sb.ours("keyring", "get", url).stdout,
        get_json(url, "alice", "docker-secret")
    );
    assert_eq!(
        go(&sb, "get", url).stdout,
        get_json(url, "alice", "docker-secret"),
        "the Go helper reads the item ours wrote"
    );
    assert_eq!(
        sb.ours("keyring", "list", "").stdout,
        format!("{{\"{url}\":\"alice\"}}\n")
    );
    // Ours carries Go's attributes and nothing that makes it look like Python keyring's.
    let ours = apps.items_with(&[("docker_cli", "1")]);
    assert_eq!(ours.len(), 1, "{ours:#?}");
    assert_eq!(
        ours[0].attributes.keys().collect::<Vec<_>>(),
        ["docker_cli", "label", "server", "username", "xdg:schema"]
    );
    assert_eq!(apps.python_keyring_get(url, "alice"), python_answer);
    assert_eq!(foreign(&apps), before, "store touched no other item");

    assert!(sb.ours("keyring", "erase", url).ok());
    assert_eq!(sb.ours("keyring", "get", url).stdout, NOT_FOUND);
    assert_eq!(sb.ours("keyring", "list", "").stdout, "{}\n");
    assert_eq!(foreign(&apps), before, "erase deleted no other item");
    assert_eq!(apps.python_keyring_get(url, "alice"), python_answer);
}

/// Items an earlier version wrote through keyring-core carry `service=<server>` too, which made
/// Python keyring take them for its own: an update drops that attribute and keeps the rest.
#[test]
fn an_update_drops_the_service_attribute_earlier_versions_added() {
    need!("dbus-daemon", "gnome-keyring-daemon");
    if !have_python_keyring(module_path!()) {
        return;
    }
    let (sb, bus) = unlocked();
    let apps = Apps::new(&sb, &bus);
    let url = "h.example";
    apps.create_item(
        DEFAULT,
        url,
        &[
            ("xdg:schema", "io.docker.Credentials"),
            ("label", "Docker Credentials"),
            ("server", url),
            ("username", "u"),
            ("docker_cli", "1"),
            ("service", url),
        ],
        "old",
    );
    assert_eq!(
        apps.python_keyring_get(url, "u").as_deref(),
        Some("old"),
        "Python keyring reads the old item as its own"
    );
    assert!(
        sb.ours("keyring", "store", store_json(url, "u", "new"))
            .ok()
    );
    let items = apps.items_with(&[("docker_cli", "1")]);
    assert_eq!(items.len(), 1, "updated in place: {items:#?}");
    assert_eq!(items[0].secret.as_deref(), Some("new"));
    assert_eq!(items[0].label, url);
    assert!(!items[0].attributes.contains_key("service"), "{items:#?}");
    assert_eq!(apps.python_keyring_get(url, "u"), None);
}

/// A second collection (KeePassXC: a second database) that is locked and holds a stale item for
/// the same login. `store`, `get` and `erase` use the default collection without a prompt, say
/// in the log what they left alone, and never change the locked item. (gnome-keyring may reload
/// the locked keyring from its file at any time, see the next test: the answers are the same.)
#[test]
fn a_locked_second_collection_does_not_block_the_default_one() {
    need!("dbus-daemon", "gnome-keyring-daemon", GO_SECRETSERVICE);
    if have_python_keyring(module_path!()) {
        locked_second_collection(false);
    }
}

/// The same once gnome-keyring has loaded the locked keyring from its file (here: after a
/// restart): it then shows the locked item's attributes only as hashes
/// (`gkr:compat:hashed:server` = MD5 of the value), so nothing can be read from them but their
/// names.
#[test]
fn a_locked_second_collection_with_hashed_attributes_does_not_block_either() {
    need!("dbus-daemon", "gnome-keyring-daemon", GO_SECRETSERVICE);
    if have_python_keyring(module_path!()) {
        locked_second_collection(true);
    }
}

fn locked_second_collection(restart: bool) {
    let sb = Sandbox::new();
    let bus = SessionBus::start(&sb, Keyring::Absent);
    let mut daemon = OwnKeyring::start(&sb, &bus);
    let apps = Apps::new(&sb, &bus);
    let url = "registry.example";
    let second = apps.create_collection("second", "second-password");
    let stale = apps.create_item(
        &second,
        url,
        &[
            ("xdg:schema", "io.docker.Credentials"),
            ("label", "Docker Credentials"),
            ("server", url),
            ("username", "u"),
            ("docker_cli", "1"),
        ],
        "stale",
    );
    apps.lock(&second);
    if restart {
        daemon.restart(&sb, &bus);
        let shown = apps.items().into_iter().find(|i| i.path == stale);
        assert!(
            shown.is_some_and(|i| i.attributes.contains_key("gkr:compat:hashed:server")),
            "a restarted gnome-keyring shows the locked item's attributes hashed"
        );
    }
    assert!(go(&sb, "store", &store_json(url, "u", "current")).ok());
    let log = sb.root.join("keyring.log");
    let with_log = |action: &str, stdin: &str| {
        let mut cmd = sb.cmd(helper("keyring"));
        cmd.arg(action)
            .env("DOCKER_CREDENTIAL_LOG", "warn")
            .env("DOCKER_CREDENTIAL_LOG_FILE", &log);
        run(cmd, stdin)
    };

    let start = Instant::now();
    let out = with_log("store", &store_json(url, "u", "new"));
    assert!(out.ok() && out.stdout.is_empty(), "{out:?}");
    assert_eq!(
        sb.ours("keyring", "get", url).stdout,
        get_json(url, "u", "new")
    );
    assert_eq!(
        sb.ours("keyring", "list", "").stdout,
        format!("{{\"{url}\":\"u\"}}\n")
    );
    let out = with_log("erase", url);
    assert!(out.ok() && out.stdout.is_empty(), "{out:?}");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "no prompt was waited for: {:?}",
        start.elapsed()
    );
    let logged = std::fs::read_to_string(&log).expect("the log");
    for action in ["store", "erase"] {
        let line = format!(
            "{action}: left 1 docker item(s) in locked collections alone (unlocking needs a prompt): {stale}"
        );
        assert!(logged.contains(&line), "{line:?} not in the log:\n{logged}");
    }
    // The default collection's item is gone; the locked one remains, and says so.
    assert!(
        apps.items_with(&[("docker_cli", "1")])
            .iter()
            .all(|i| i.collection == second)
    );
    let out = sb.ours("keyring", "get", url);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (1, format!("the Secret Service keyring holding {url} is locked and no unlock prompt can be shown here: unlock it first (log in to the desktop session, or `gnome-keyring-daemon --unlock`)\n").as_str())
    );
    // With only the locked item left, store makes a new one in the default collection.
    assert!(
        sb.ours("keyring", "store", store_json(url, "u", "newer"))
            .ok()
    );
    assert_eq!(
        sb.ours("keyring", "get", url).stdout,
        get_json(url, "u", "newer")
    );
    apps.unlock(&second, "second-password");
    let docker = apps.items_with(&[("docker_cli", "1")]);
    let secrets: Vec<(bool, Option<&str>)> = docker
        .iter()
        .map(|i| (i.collection == second, i.secret.as_deref()))
        .collect();
    assert_eq!(secrets.len(), 2, "{docker:#?}");
    assert!(secrets.contains(&(true, Some("stale"))), "{docker:#?}");
    assert!(secrets.contains(&(false, Some("newer"))), "{docker:#?}");
}

/// docker-credential-secretservice 0.9 and later label items `Registry credentials for <URL>`
/// (same attributes): read, listed by their server (Go ≥ 0.9 lists the label), updated in place
/// keeping that label, and erased.
#[test]
fn items_of_newer_go_releases_are_read_listed_updated_and_erased() {
    need!("dbus-daemon", "gnome-keyring-daemon", GO_SECRETSERVICE);
    if !have_python_keyring(module_path!()) {
        return;
    }
    let (sb, bus) = unlocked();
    let apps = Apps::new(&sb, &bus);
    let url = "https://index.docker.io/v1/";
    let label = format!("Registry credentials for {url}");
    apps.create_item(
        DEFAULT,
        &label,
        &[
            ("xdg:schema", "io.docker.Credentials"),
            ("label", "Docker Credentials"),
            ("server", url),
            ("username", "gouser"),
            ("docker_cli", "1"),
        ],
        "go-0.9-secret",
    );
    assert_eq!(
        sb.ours("keyring", "get", url).stdout,
        get_json(url, "gouser", "go-0.9-secret")
    );
    assert_eq!(
        sb.ours("keyring", "list", "").stdout,
        format!("{{\"{url}\":\"gouser\"}}\n")
    );
    assert!(
        sb.ours("keyring", "store", store_json(url, "gouser", "renewed"))
            .ok()
    );
    let items = apps.items_with(&[("docker_cli", "1")]);
    assert_eq!(items.len(), 1, "{items:#?}");
    assert_eq!(
        (items[0].label.as_str(), items[0].secret.as_deref()),
        (label.as_str(), Some("renewed"))
    );
    assert!(sb.ours("keyring", "erase", url).ok());
    assert!(apps.items_with(&[("docker_cli", "1")]).is_empty());
    assert_eq!(go(&sb, "get", url).stdout, NOT_FOUND);
}

/// A NUL cannot travel in a D-Bus string: a one-line error naming the field, not a socket error,
/// and nothing stored. (The Go helper stores the username cut at the NUL. A NUL in a server URL
/// is the driver's to refuse, for every helper.)
#[test]
fn a_nul_in_the_username_is_a_clear_error() {
    need!(
        "dbus-daemon",
        "gnome-keyring-daemon",
        "secret-tool",
        GO_SECRETSERVICE
    );
    let (sb, _bus) = unlocked();
    let nul_user = r#"{"ServerURL":"h.example","Username":"a\u0000b","Secret":"s3cret"}"#;
    let out = sb.ours("keyring", "store", nul_user);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (
            1,
            "the username contains a NUL character, which the Secret Service cannot store\n"
        ),
        "{out:?}"
    );
    let found = sb.run("secret-tool", &["search", "--all", "docker_cli", "1"], "");
    assert_eq!(
        format!("{}{}", found.stdout, found.stderr)
            .matches("[/")
            .count(),
        0,
        "nothing stored: {found:?}"
    );
    // What Go does instead: it stores the username cut at the NUL.
    assert!(go(&sb, "store", nul_user).ok());
    assert_eq!(
        go(&sb, "get", "h.example").stdout,
        get_json("h.example", "a", "s3cret")
    );
}

/// `DBUS_SESSION_BUS_ADDRESS` may list several addresses: each is tried in turn, as libdbus does,
/// within its share of the time bound, so one that hangs does not use it all up.
#[test]
fn several_bus_addresses_are_tried_in_order() {
    need!("dbus-daemon", "gnome-keyring-daemon");
    let (sb, bus) = unlocked();
    let missing = format!("unix:path={}", sb.root.join("no-such-bus").display());
    // A socket that accepts connections and never answers the handshake.
    let hang_path = sb.root.join("hang");
    let _hang = std::os::unix::net::UnixListener::bind(&hang_path).expect("bind");
    let hanging = format!("unix:path={}", hang_path.display());
    let with = |address: &str, action: &str, stdin: &str| {
        let mut cmd = sb.cmd(helper("keyring"));
        cmd.arg(action).env("DBUS_SESSION_BUS_ADDRESS", address);
        run(cmd, stdin)
    };
    let good = format!("{missing};{}", bus.address);
    assert!(with(&good, "store", &store_json("h:1", "u", "p")).ok());
    assert_eq!(with(&good, "get", "h:1").stdout, get_json("h:1", "u", "p"));
    assert_eq!(with(&good, "list", "").stdout, "{\"h:1\":\"u\"}\n");
    let slow = format!("{hanging};{}", bus.address);
    let out = with(&slow, "get", "h:1");
    assert_eq!(out.stdout, get_json("h:1", "u", "p"), "{out:?}");
    assert!(out.elapsed < Duration::from_secs(2), "{out:?}");
    assert!(with(&slow, "erase", "h:1").ok());
    assert_eq!(with(&good, "get", "h:1").stdout, NOT_FOUND);
    // None usable: one line that says so, within the bound.
    let out = with(&format!("{missing};{hanging}"), "get", "h:1");
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.starts_with(
            "cannot connect to the D-Bus session bus at any of the 2 addresses in DBUS_SESSION_BUS_ADDRESS (the last: "
        ) && out.stdout.contains("no answer within"),
        "{out:?}"
    );
    assert_eq!(out.stdout.lines().count(), 1, "{out:?}");
    assert!(out.elapsed < Duration::from_secs(4), "{out:?}");
}

// ---- The kernel keyring --------------------------------------------------------------------

/// Runs `script` with `sh -c` in a new session keyring of its own (`keyctl session -`), with the
/// helper as `$B` and the kernel keyring backend.
fn in_session(sb: &Sandbox, script: &str) -> Out {
    let mut cmd = sb.cmd("keyctl");
    cmd.args(["session", "-", "sh", "-c", script])
        .env("B", helper("keyring"))
        .env("DOCKER_CREDENTIAL_KEYRING_BACKEND", "keyutils")
        .env_remove("DOCKER_CREDENTIAL_KEYRING_PERSIST");
    run(cmd, "")
}

/// A server URL no other test or run uses: the persistent keyring is the whole uid's.
fn unique_url(what: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{what}-{}-{nanos}.example", std::process::id())
}

/// Erases `url` from the persistent keyring when dropped, so that a failed test (or a run against
/// an older helper, which kept every key there) leaves nothing for days.
struct PersistentCleanup<'a>(&'a Sandbox, String);

impl Drop for PersistentCleanup<'_> {
    fn drop(&mut self) {
        in_session(
            self.0,
            &format!(
                "printf '%s' '{}' | DOCKER_CREDENTIAL_KEYRING_PERSIST=1 $B erase",
                self.1
            ),
        );
    }
}

/// The default: a later, separate session of the same user cannot read the credential, not
/// even with persistence on (nothing went to the persistent keyring).
#[test]
fn kernel_keyring_credentials_end_with_their_session() {
    need!("keyctl");
    let sb = Sandbox::new();
    let url = unique_url("session");
    let _cleanup = PersistentCleanup(&sb, url.clone());
    let json = store_json(&url, "u", "job-a-password");
    let out = in_session(
        &sb,
        &format!("printf '%s' '{json}' | $B store && printf '%s' '{url}' | $B get"),
    );
    assert_eq!(out.stdout, get_json(&url, "u", "job-a-password"), "{out:?}");
    let later = in_session(&sb, &format!("printf '%s' '{url}' | $B get"));
    assert_eq!(
        (later.code, later.stdout.as_str()),
        (1, NOT_FOUND),
        "{later:?}"
    );
    let later = in_session(
        &sb,
        &format!("printf '%s' '{url}' | DOCKER_CREDENTIAL_KEYRING_PERSIST=1 $B get"),
    );
    assert_eq!(
        (later.code, later.stdout.as_str()),
        (1, NOT_FOUND),
        "{later:?}"
    );
}

/// `DOCKER_CREDENTIAL_KEYRING_PERSIST=1` keeps the credential in the user's persistent keyring:
/// a later session reads and erases it with the same setting; without it, it stays unseen.
#[test]
fn kernel_keyring_persistence_is_an_explicit_opt_in() {
    need!("keyctl");
    let sb = Sandbox::new();
    let url = unique_url("persist");
    let _cleanup = PersistentCleanup(&sb, url.clone());
    let json = store_json(&url, "u", "kept-password");
    let out = in_session(
        &sb,
        &format!("printf '%s' '{json}' | DOCKER_CREDENTIAL_KEYRING_PERSIST=1 $B store"),
    );
    assert!(out.ok() && out.stdout.is_empty(), "{out:?}");
    let default = in_session(&sb, &format!("printf '%s' '{url}' | $B get"));
    assert_eq!(
        (default.code, default.stdout.as_str()),
        (1, NOT_FOUND),
        "{default:?}"
    );
    let persist = |action: &str| {
        in_session(
            &sb,
            &format!("printf '%s' '{url}' | DOCKER_CREDENTIAL_KEYRING_PERSIST=1 $B {action}"),
        )
    };
    assert_eq!(persist("get").stdout, get_json(&url, "u", "kept-password"));
    let erased = persist("erase");
    assert!(erased.ok() && erased.stdout.is_empty(), "{erased:?}");
    assert_eq!(persist("get").stdout, NOT_FOUND);
    let out = in_session(
        &sb,
        &format!("printf '%s' '{url}' | DOCKER_CREDENTIAL_KEYRING_PERSIST=maybe $B get"),
    );
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (
            1,
            "unknown DOCKER_CREDENTIAL_KEYRING_PERSIST=maybe: expected 1 (keep kernel keyring credentials in the persistent keyring) or 0\n"
        )
    );
}

/// A process whose session keyring is the user-session keyring (which every process of the user
/// without a session of its own shares) is refused, with the fixes named.
#[test]
fn kernel_keyring_refuses_the_shared_user_session_keyring() {
    need!("keyctl");
    let sb = Sandbox::new();
    let url = unique_url("shared");
    let mut cmd = sb.cmd("keyctl");
    // Joining the keyring named `_uid_ses.<uid>` makes it this process's session keyring: the
    // state of a process started outside any login session.
    cmd.args([
        "session",
        &format!("_uid_ses.{}", uid()),
        "sh",
        "-c",
        "printf '%s' \"$JSON\" | $B store",
    ])
    .env("B", helper("keyring"))
    .env("JSON", store_json(&url, "u", "p"))
    .env("DOCKER_CREDENTIAL_KEYRING_BACKEND", "keyutils")
    .env_remove("DOCKER_CREDENTIAL_KEYRING_PERSIST");
    let out = run(cmd, "");
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout
            .starts_with("this process has no session keyring of its own")
            && out.stdout.contains("keyctl session - …")
            && out.stdout.contains("DOCKER_CREDENTIAL_KEYRING_PERSIST=1"),
        "{out:?}"
    );
    assert_eq!(out.stdout.lines().count(), 1);
}

/// This user's uid, from `id -u`.
fn uid() -> String {
    let mut cmd = std::process::Command::new("id");
    cmd.arg("-u");
    let out = run(cmd, "");
    assert!(out.ok(), "{out:?}");
    out.stdout.trim().to_string()
}

/// The kernel's limit for a key is 32,767 bytes. With Go's escaping (`<` is `\u003c`, six bytes)
/// 6,000 `<` take 36,000: the error names the limit, and nothing is stored. Just under the limit
/// round-trips.
#[test]
fn kernel_keyring_secret_over_the_kernel_limit_names_it() {
    need!("keyctl");
    let sb = Sandbox::new();
    let url = unique_url("big");
    let _cleanup = PersistentCleanup(&sb, url.clone());
    let big = store_json(&url, "u", &"<".repeat(6_000));
    // As stored: `{"ServerURL":…,"Username":"u","Secret":"\u003c…"}` and a newline.
    let stored = get_json(&url, "u", "").len() + 6 * 6_000;
    let out = in_session(
        &sb,
        &format!("printf '%s' '{big}' | $B store; printf '%s' '{url}' | $B get"),
    );
    assert_eq!(
        out.stdout,
        format!(
            "the credentials for {url} are too big for the kernel keyring: stored as JSON they take {stored} bytes, and a key holds at most 32767 bytes (the kernel's limit for user keys); use the Secret Service for secrets this long\n{NOT_FOUND}"
        ),
        "{out:?}"
    );
    // 32,767 bytes exactly: the JSON around the secret, and `a`s for the rest.
    let fits = "a".repeat(32_767 - (stored - 6 * 6_000));
    let out = in_session(
        &sb,
        &format!(
            "printf '%s' '{}' | $B store && printf '%s' '{url}' | $B get",
            store_json(&url, "u", &fits)
        ),
    );
    assert_eq!(out.stdout, get_json(&url, "u", &fits), "{out:?}");
}

/// The kernel keyring keeps the username inside its JSON, where a NUL is an escape like any
/// other: it round-trips (the Secret Service refuses it, see above).
#[test]
fn kernel_keyring_keeps_a_nul_in_the_username() {
    need!("keyctl");
    let sb = Sandbox::new();
    let url = unique_url("nul");
    let _cleanup = PersistentCleanup(&sb, url.clone());
    let nul_user = format!(r#"{{"ServerURL":"{url}","Username":"a\u0000b","Secret":"p"}}"#);
    let out = in_session(
        &sb,
        &format!("printf '%s' '{nul_user}' | $B store && printf '%s' '{url}' | $B get"),
    );
    assert_eq!(out.stdout, format!("{nul_user}\n"), "{out:?}");
}

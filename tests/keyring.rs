//! docker-credential-keyring against gnome-keyring's Secret Service on a private D-Bus, next to
//! Debian's Go docker-credential-secretservice, and as the docker CLI and skopeo use it.

use std::time::{Duration, Instant};

use integration_tests::flows;
use integration_tests::peers::docker_daemon;
use integration_tests::registry::Registry;
use integration_tests::sandbox::helper;
use integration_tests::secret_service::{Keyring, SessionBus};
use integration_tests::wire::{NOT_FOUND, get_json, store_json};
use integration_tests::{Sandbox, need, need_oracle, run};

fn unlocked() -> (Sandbox, SessionBus) {
    let sb = Sandbox::new();
    let bus = SessionBus::start(&sb, Keyring::Unlocked);
    (sb, bus)
}

/// `secret-tool search --all server URL`: every matching item's label, attributes and secret
/// (secret-tool prints the attributes on stderr).
fn items(sb: &Sandbox, url: &str) -> String {
    let out = sb.run("secret-tool", &["search", "--all", "server", url], "");
    assert!(out.ok(), "secret-tool: {out:?}");
    format!("{}{}", out.stdout, out.stderr)
}

#[test]
fn store_get_list_erase_round_trip() {
    need!("dbus-daemon", "gnome-keyring-daemon");
    let (sb, _bus) = unlocked();
    let out = sb.ours(
        "keyring",
        "store",
        store_json("127.0.0.1:5000", "testuser", "s3cret"),
    );
    assert!(out.ok() && out.stdout.is_empty(), "{out:?}");
    assert_eq!(
        sb.ours("keyring", "get", "127.0.0.1:5000\n").stdout,
        get_json("127.0.0.1:5000", "testuser", "s3cret")
    );
    assert_eq!(
        sb.ours("keyring", "list", "").stdout,
        "{\"127.0.0.1:5000\":\"testuser\"}\n"
    );
    assert!(
        sb.ours(
            "keyring",
            "store",
            store_json("127.0.0.1:5000", "testuser", "changed")
        )
        .ok()
    );
    assert_eq!(
        sb.ours("keyring", "get", "127.0.0.1:5000").stdout,
        get_json("127.0.0.1:5000", "testuser", "changed")
    );
    assert!(sb.ours("keyring", "erase", "127.0.0.1:5000").ok());
    let out = sb.ours("keyring", "get", "127.0.0.1:5000");
    assert_eq!((out.code, out.stdout.as_str()), (1, NOT_FOUND), "{out:?}");
    // Erasing nothing succeeds: docker logout drops its marker only when erase succeeds.
    let out = sb.ours("keyring", "erase", "127.0.0.1:5000");
    assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{out:?}");
    assert_eq!(sb.ours("keyring", "list", "").stdout, "{}\n");
}

#[test]
fn items_are_interchangeable_with_the_go_helper() {
    need!("dbus-daemon", "gnome-keyring-daemon", "secret-tool");
    need_oracle!("secretservice");
    let (sb, _bus) = unlocked();
    // Ours writes, Go and secret-tool read.
    assert!(
        sb.ours(
            "keyring",
            "store",
            store_json("https://index.docker.io/v1/", "<token>", "refresh&token")
        )
        .ok()
    );
    let go = sb.go("secretservice", "get", "https://index.docker.io/v1/");
    assert_eq!(
        go.stdout,
        sb.ours("keyring", "get", "https://index.docker.io/v1/")
            .stdout,
        "{go:?}"
    );
    let shown = items(&sb, "https://index.docker.io/v1/");
    for line in [
        "label = https://index.docker.io/v1/",
        "schema = io.docker.Credentials",
        "attribute.label = Docker Credentials",
        "attribute.server = https://index.docker.io/v1/",
        "attribute.username = <token>",
        "attribute.docker_cli = 1",
        "secret = refresh&token",
    ] {
        assert!(shown.contains(line), "{line:?} missing in:\n{shown}");
    }
    // Go writes, ours reads and lists.
    assert!(
        sb.go(
            "secretservice",
            "store",
            store_json("registry.example", "gouser", "gopass")
        )
        .ok()
    );
    assert_eq!(
        sb.ours("keyring", "get", "registry.example").stdout,
        get_json("registry.example", "gouser", "gopass")
    );
    let (ours, go) = (
        sb.ours("keyring", "list", "").stdout,
        sb.go("secretservice", "list", "").stdout,
    );
    let (ours, go): (serde_json::Value, serde_json::Value) = (
        serde_json::from_str(&ours).expect("ours"),
        serde_json::from_str(&go).expect("go"),
    );
    assert_eq!(ours, go);
    // Ours updates Go's item in place: still one item, and Go reads the new secret.
    assert!(
        sb.ours(
            "keyring",
            "store",
            store_json("registry.example", "gouser", "newpass")
        )
        .ok()
    );
    assert_eq!(
        items(&sb, "registry.example").matches("[/").count(),
        1,
        "{}",
        items(&sb, "registry.example")
    );
    assert_eq!(
        sb.go("secretservice", "get", "registry.example").stdout,
        get_json("registry.example", "gouser", "newpass")
    );
    // Each erases what the other wrote.
    assert!(sb.ours("keyring", "erase", "registry.example").ok());
    assert_eq!(
        sb.go("secretservice", "get", "registry.example").stdout,
        NOT_FOUND
    );
    assert!(
        sb.go("secretservice", "erase", "https://index.docker.io/v1/")
            .ok()
    );
    assert_eq!(
        sb.ours("keyring", "get", "https://index.docker.io/v1/")
            .stdout,
        NOT_FOUND
    );
}

#[test]
fn several_usernames_first_alphabetically_and_erase_takes_all() {
    need!("dbus-daemon", "gnome-keyring-daemon");
    let (sb, _bus) = unlocked();
    for user in ["zoe", "adam", "mia"] {
        assert!(
            sb.ours(
                "keyring",
                "store",
                store_json("h:1", user, &format!("{user}-pw"))
            )
            .ok()
        );
    }
    assert_eq!(
        sb.ours("keyring", "get", "h:1").stdout,
        get_json("h:1", "adam", "adam-pw")
    );
    assert_eq!(
        sb.ours("keyring", "list", "").stdout,
        "{\"h:1\":\"adam\"}\n"
    );
    assert!(sb.ours("keyring", "erase", "h:1").ok());
    assert_eq!(sb.ours("keyring", "get", "h:1").stdout, NOT_FOUND);
}

#[test]
fn list_reads_attributes_without_unlocking() {
    need!("dbus-daemon", "gnome-keyring-daemon", "dbus-send");
    let (sb, _bus) = unlocked();
    assert!(
        sb.ours("keyring", "store", store_json("h:1", "u", "p"))
            .ok()
    );
    // Lock every collection: list still answers, get cannot (and says so, fast).
    // (`secret-tool lock` crashes in libsecret 0.20; the Secret Service's own Lock call does it.)
    let out = sb.run(
        "dbus-send",
        &[
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.Lock",
            "array:objpath:/org/freedesktop/secrets/collection/login",
        ],
        "",
    );
    assert!(out.ok(), "{out:?}");
    let out = patient(&sb, "list", "");
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "{\"h:1\":\"u\"}\n"),
        "{out:?}"
    );
    assert_fast(&out, "list");
    let out = patient(&sb, "get", "h:1");
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (1, LOCKED_GET),
        "the immediate answer, not the timeout's: {out:?}"
    );
    assert_fast(&out, "get");
}

/// A get of an item in a locked collection, with no display for an unlock prompt.
const LOCKED_GET: &str = "the Secret Service keyring holding h:1 is locked and no unlock prompt can be shown here: unlock it first (log in to the desktop session, or `gnome-keyring-daemon --unlock`)\n";
/// A store into a keyring that was never unlocked, with no display for an unlock prompt.
const LOCKED_STORE: &str = "the Secret Service has no default keyring to store h:1 in (none was created, or unlocked at login) and no prompt to create one can be shown here: log in to the desktop session, or create one (Seahorse, or a KeePassXC database with Secret Service integration)\n";

/// A bound far above any honest answer's time: a helper that hangs on a locked keyring until
/// the bound takes 30 s and says "did not answer", so it cannot pass [`assert_fast`].
const PATIENT_BOUND_S: &str = "30";

/// Runs our keyring helper with [`PATIENT_BOUND_S`] as its bound.
fn patient(sb: &Sandbox, action: &str, stdin: &str) -> integration_tests::Out {
    let mut cmd = sb.cmd(helper("keyring"));
    cmd.arg(action)
        .env("DOCKER_CREDENTIAL_KEYRING_TIMEOUT", PATIENT_BOUND_S);
    run(cmd, stdin)
}

/// Within a second, and so well under the default 2 s bound: the answer came from the keyring,
/// not from the helper giving up.
fn assert_fast(out: &integration_tests::Out, what: &str) {
    assert!(
        out.elapsed < Duration::from_secs(1),
        "{what} took {:?}: {out:?}",
        out.elapsed
    );
}

#[test]
fn no_bus_no_provider_and_locked_keyring_fail_fast_and_clearly() {
    need!("dbus-daemon", "gnome-keyring-daemon");
    let json = store_json("h:1", "u", "p");
    // No bus at all.
    let sb = Sandbox::new();
    let start = Instant::now();
    let out = sb.ours("keyring", "get", "h:1");
    assert!(
        out.code == 1 && out.stdout.starts_with("no D-Bus session bus"),
        "{out:?}"
    );
    assert!(start.elapsed() < Duration::from_secs(5));
    // A bus with no Secret Service (the Go helper waits 25 s on D-Bus activation here).
    let sb = Sandbox::new();
    let _bus = SessionBus::start(&sb, Keyring::Absent);
    for (action, stdin) in [("get", "h:1"), ("store", json.as_str()), ("list", "")] {
        let start = Instant::now();
        let out = sb.ours("keyring", action, stdin);
        assert!(
            out.code == 1
                && out
                    .stdout
                    .starts_with("no Secret Service on the D-Bus session bus"),
            "{action}: {out:?}"
        );
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{action}: {:?}",
            start.elapsed()
        );
    }
    // A keyring that was never unlocked, with no way to prompt.
    let sb = Sandbox::new();
    let _bus = SessionBus::start(&sb, Keyring::Locked);
    let out = patient(&sb, "store", &json);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (1, LOCKED_STORE),
        "the immediate answer, not the timeout's: {out:?}"
    );
    assert_fast(&out, "store");
}

#[test]
fn kernel_keyring_backend_for_headless_machines() {
    need!("keyctl");
    let sb = Sandbox::new();
    // keyutils keys live in the session keyring: one `keyctl session` is one login session.
    let script = format!(
        "set -e; B={b}; export DOCKER_CREDENTIAL_KEYRING_BACKEND=keyutils; \
         printf '%s' '{json}' | $B store; printf h:1 | $B get; printf h:1 | $B erase; printf h:1 | $B get || echo \"exit $?\"",
        b = helper("keyring").display(),
        json = store_json("h:1", "u", "kernel-pw"),
    );
    let mut cmd = sb.cmd("keyctl");
    cmd.args(["session", "-", "sh", "-c", &script]);
    let out = run(cmd, "");
    assert_eq!(
        out.stdout,
        format!("{}{NOT_FOUND}exit 1\n", get_json("h:1", "u", "kernel-pw")),
        "{out:?}"
    );
}

#[test]
fn docker_cli_and_skopeo_through_the_keyring() {
    need!(REGISTRY; "dbus-daemon", "gnome-keyring-daemon", "docker");
    let (sb, _bus) = unlocked();
    let reg = Registry::start(&sb);
    flows::docker_cli(
        &sb,
        &reg,
        "keyring",
        r#"{"auths":{},"credsStore":"keyring"}"#,
    );
    flows::docker_cli(
        &sb,
        &reg,
        "keyring",
        &format!(
            r#"{{"auths":{{}},"credHelpers":{{"{}":"keyring"}}}}"#,
            reg.host
        ),
    );
    flows::skopeo(&sb, &reg, "keyring");
    if docker_daemon(module_path!()) {
        flows::docker_pull(&sb, &reg, "keyring");
    }
}

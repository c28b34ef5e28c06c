//! docker-credential-keyring's speed, asserted as counts, not timings (issue 15): how many round
//! trips to the bus each action waits for, counted through a proxy that delays everything the
//! bus says ([`SlowBus`]). A get sends its independent requests together; a regression to one
//! call after another adds round trips and fails here. What the pipelined get fetches ahead of
//! knowing an item is docker's is never used: a look-alike item's secret never comes out. And
//! the calls themselves, as a Secret Service sees them ([`FakeSecrets`]), with the way back to
//! the item's own `GetSecret` when `GetSecrets` cannot answer.

use std::time::Duration;

use integration_tests::fake_secrets::{FakeSecrets, GetSecrets};
use integration_tests::keyring_apps::{Apps, DEFAULT, have_python_keyring};
use integration_tests::sandbox::helper;
use integration_tests::secret_service::{Keyring, SessionBus};
use integration_tests::slow_bus::SlowBus;
use integration_tests::wire::{NOT_FOUND, get_json, store_json};
use integration_tests::{Out, Sandbox, need, run};

/// What the proxy adds to every answer of the bus: far above the helper's own time for a step
/// (a debug build on a loaded machine), so that a round trip cannot hide.
const LATENCY: Duration = Duration::from_millis(250);

/// Debian's Go helper, for comparison only (it is not asserted on).
const GO_SECRETSERVICE: &str = "/usr/bin/docker-credential-secretservice";

fn unlocked() -> (Sandbox, SessionBus) {
    let sb = Sandbox::new();
    let bus = SessionBus::start(&sb, Keyring::Unlocked);
    (sb, bus)
}

/// Runs `program` against the slow bus, with a bound far above what its round trips take.
fn through(sb: &Sandbox, slow: &SlowBus, program: &str, action: &str, stdin: &str) -> Out {
    let mut cmd = sb.cmd(program);
    cmd.arg(action)
        .env("DBUS_SESSION_BUS_ADDRESS", &slow.address)
        .env("DOCKER_CREDENTIAL_KEYRING_TIMEOUT", "60");
    run(cmd, stdin)
}

/// Connecting takes one round trip (SASL's `AUTH`); a get two more: `BEGIN`, `Hello`,
/// `SearchItems` and `OpenSession` together, then the item's attributes beside `GetSecrets`,
/// however many items the search finds. A miss ends after the search; `list` reads all the
/// items' attributes in one round trip after its search.
#[test]
#[expect(
    clippy::print_stderr,
    reason = "the Go helper's count goes in the README"
)]
fn a_get_waits_for_three_round_trips_a_miss_for_two() {
    need!("dbus-daemon", "gnome-keyring-daemon");
    let (sb, bus) = unlocked();
    for (url, user) in [
        ("h:1", "u"),
        ("h:2", "zoe"),
        ("h:2", "adam"),
        ("h:2", "mia"),
    ] {
        let json = store_json(url, user, &format!("{user}-pw"));
        assert!(sb.ours("keyring", "store", json).ok());
    }
    let slow = SlowBus::start(&sb, &bus, LATENCY);
    let keyring = helper("keyring");
    let keyring = keyring.to_str().expect("UTF-8 path");
    let cases = [
        ("get", "h:1", get_json("h:1", "u", "u-pw"), 3),
        ("get", "h:2", get_json("h:2", "adam", "adam-pw"), 3),
        ("get", "missing.example", NOT_FOUND.to_string(), 2),
        (
            "list",
            "",
            "{\"h:1\":\"u\",\"h:2\":\"adam\"}\n".to_string(),
            3,
        ),
    ];
    for (action, stdin, want, round_trips) in cases {
        let out = through(&sb, &slow, keyring, action, stdin);
        assert_eq!(out.stdout, want, "{action} {stdin}: {out:?}");
        assert_eq!(
            slow.round_trips(),
            [round_trips],
            "{action} {stdin}: round trips to the bus (one connection), took {:?}",
            out.elapsed
        );
    }
    // For the record (run with --nocapture): the Go helper, through libsecret, on the same bus.
    if std::path::Path::new(GO_SECRETSERVICE).is_file() {
        let out = through(&sb, &slow, GO_SECRETSERVICE, "get", "h:1");
        eprintln!(
            "docker-credential-secretservice get: {:?} round trips per connection ({:?})",
            slow.round_trips(),
            out.stdout.trim()
        );
    }
}

/// An item that matches a get's search (`server` and `docker_cli=1`) but is not docker's (no
/// docker schema, no Go `label` attribute): the pipelined get fetches its secret before its
/// attributes are known, and must never use it, even when its username sorts first. With only
/// such an item there, the answer is "not found"; nothing is changed.
#[test]
fn a_look_alike_items_secret_is_never_used() {
    need!("dbus-daemon", "gnome-keyring-daemon");
    if !have_python_keyring(module_path!()) {
        return;
    }
    let (sb, bus) = unlocked();
    let apps = Apps::new(&sb, &bus);
    let url = "registry.example";
    let look_alike = apps.create_item(
        DEFAULT,
        url,
        &[("server", url), ("username", "aaa"), ("docker_cli", "1")],
        "look-alike-secret",
    );
    let before = apps.items();
    let out = sb.ours("keyring", "get", url);
    assert_eq!((out.code, out.stdout.as_str()), (1, NOT_FOUND), "{out:?}");
    assert_eq!(sb.ours("keyring", "list", "").stdout, "{}\n");
    assert_eq!(apps.items(), before, "nothing was changed");
    assert!(
        sb.ours("keyring", "store", store_json(url, "zed", "docker-secret"))
            .ok()
    );
    let slow = SlowBus::start(&sb, &bus, LATENCY);
    let keyring = helper("keyring");
    let out = through(&sb, &slow, keyring.to_str().expect("UTF-8"), "get", url);
    assert_eq!(out.stdout, get_json(url, "zed", "docker-secret"), "{out:?}");
    assert_eq!(
        slow.round_trips(),
        [3],
        "both secrets came in one GetSecrets"
    );
    let still = apps.items().into_iter().find(|i| i.path == look_alike);
    assert_eq!(
        still.and_then(|i| i.secret).as_deref(),
        Some("look-alike-secret"),
        "the look-alike item is as it was"
    );
}

/// The calls a get makes, as a Secret Service sees them: the search and a session, then the
/// item's attributes and one `GetSecrets`; nothing else. When `GetSecrets` cannot answer for the
/// chosen item (KeePassXC fails the whole call when an item is locked for this client;
/// gnome-keyring leaves out an item locked since the search), the item's own `GetSecret`
/// answers, as it did before the calls were sent together.
#[test]
fn get_secrets_answers_or_the_items_own_get_secret_does() {
    need!("dbus-daemon", "dbus-send");
    if !have_python_keyring(module_path!()) {
        return;
    }
    let url = "registry.example";
    let sent_together = ["SearchItems", "OpenSession", "Get", "GetSecrets"];
    for (mode, also) in [
        (GetSecrets::Answers, None),
        (GetSecrets::Fails, Some("GetSecret")),
        (GetSecrets::LeavesOut, Some("GetSecret")),
    ] {
        let sb = Sandbox::new();
        let bus = SessionBus::start(&sb, Keyring::Absent);
        let fake = FakeSecrets::start(&sb, &bus, mode, url, "u", "the-secret");
        let out = sb.ours("keyring", "get", url);
        assert_eq!(
            out.stdout,
            get_json(url, "u", "the-secret"),
            "{mode:?}: {out:?}"
        );
        let want: Vec<&str> = sent_together.iter().copied().chain(also).collect();
        assert_eq!(fake.calls(), want, "{mode:?}");
    }
}

/// Only a locked docker item, and a display that could show an unlock prompt (but no prompter
/// runs): the get hands over to the prompt, on an ordinary bus connection of its own (the reads'
/// one greets the bus differently), and answers with the prompt's failure at once, as before.
#[test]
fn a_locked_item_with_a_display_goes_to_the_prompt() {
    need!("dbus-daemon", "gnome-keyring-daemon", "dbus-send");
    let (sb, _bus) = unlocked();
    assert!(
        sb.ours("keyring", "store", store_json("h:1", "u", "p"))
            .ok()
    );
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
    let mut cmd = sb.cmd(helper("keyring"));
    cmd.arg("get")
        .env("DISPLAY", ":99")
        .env("DOCKER_CREDENTIAL_KEYRING_TIMEOUT", "30");
    let out = run(cmd, "h:1");
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (
            1,
            "the Secret Service's unlock prompt was dismissed (or could not be shown): unlock the keyring and try again\n"
        ),
        "{out:?}"
    );
    assert!(out.elapsed < Duration::from_secs(5), "{out:?}");
}

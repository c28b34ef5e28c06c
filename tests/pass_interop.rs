//! docker-credential-pass against Debian's Go docker-credential-pass and pass itself: one store,
//! either helper, byte-identical answers.

use integration_tests::gpg::init_pass;
use integration_tests::wire::store_json;
use integration_tests::{Sandbox, need, need_oracle};

/// Servers and secrets whose JSON exercises Go's escaping (`&`, `<`, `>`, quotes, unicode).
const CASES: &[(&str, &str, &str)] = &[
    ("127.0.0.1:5000", "testuser", "testpass"),
    (
        "https://index.docker.io/v1/",
        "<token>",
        "eyJhbGciOi.refresh&token",
    ),
    ("registry.example.com", "ünïcode", "p\"w\\d <&> \u{2028}"),
];

#[test]
fn go_writes_ours_reads_byte_for_byte() {
    need!("gpg", "pass");
    need_oracle!("pass");
    let sb = Sandbox::new();
    init_pass(&sb);
    for (url, user, secret) in CASES {
        let out = sb.go("pass", "store", store_json(url, user, secret));
        assert!(out.ok(), "Go store: {out:?}");
        let go = sb.go("pass", "get", url);
        let ours = sb.ours("pass", "get", url);
        assert!(go.ok() && ours.ok(), "{go:?} {ours:?}");
        assert_eq!(ours.stdout, go.stdout, "get {url}");
    }
    let (go, ours) = (sb.go("pass", "list", ""), sb.ours("pass", "list", ""));
    assert_eq!(ours.stdout, go.stdout);
    assert_eq!(
        ours.stdout.matches("\":\"").count(),
        CASES.len(),
        "{ours:?}"
    );
    // Ours erases what Go wrote.
    assert!(sb.ours("pass", "erase", CASES[0].0).ok());
    let go = sb.go("pass", "get", CASES[0].0);
    assert_eq!(
        go.stdout, "{\"ServerURL\":\"127.0.0.1:5000\",\"Username\":\"\",\"Secret\":\"\"}\n",
        "Go's miss"
    );
}

#[test]
fn ours_writes_go_and_pass_read() {
    need!("gpg", "pass");
    need_oracle!("pass");
    let sb = Sandbox::new();
    init_pass(&sb);
    for (url, user, secret) in CASES {
        assert!(sb.ours("pass", "store", store_json(url, user, secret)).ok());
        let go = sb.go("pass", "get", url);
        assert!(go.ok(), "{go:?}");
        assert_eq!(go.stdout, sb.ours("pass", "get", url).stdout, "get {url}");
        let got: serde_json::Value = serde_json::from_str(&go.stdout).expect("JSON");
        assert_eq!(got["Secret"], *secret);
    }
    assert_eq!(
        sb.go("pass", "list", "").stdout,
        sb.ours("pass", "list", "").stdout
    );
    // pass itself shows the entry: plaintext is the secret with no newline.
    let show = sb.run(
        "pass",
        &[
            "show",
            "docker-credential-helpers/MTI3LjAuMC4xOjUwMDA=/testuser",
        ],
        "",
    );
    assert_eq!(show.stdout, "testpass", "{show:?}");
    // Go erases what ours wrote.
    assert!(sb.go("pass", "erase", CASES[1].0).ok());
    let out = sb.ours("pass", "get", CASES[1].0);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (1, "credentials not found in native keychain\n")
    );
}

#[test]
fn misses_differ_from_go_on_purpose() {
    need!("gpg", "pass");
    need_oracle!("pass");
    let sb = Sandbox::new();
    init_pass(&sb);
    // Go 0.6.4 answers a miss with empty credentials and exit 0, which makes the docker CLI send
    // an empty login; we answer the protocol's not-found error, as every other helper does.
    let go = sb.go("pass", "get", "missing.example");
    assert_eq!(
        (go.code, go.stdout.as_str()),
        (
            0,
            "{\"ServerURL\":\"missing.example\",\"Username\":\"\",\"Secret\":\"\"}\n"
        )
    );
    let ours = sb.ours("pass", "get", "missing.example");
    assert_eq!(
        (ours.code, ours.stdout.as_str()),
        (1, "credentials not found in native keychain\n")
    );
    // Same protocol errors as Go where Go is right.
    for (action, stdin) in [("get", ""), ("erase", "")] {
        assert_eq!(
            sb.ours("pass", action, stdin).stdout,
            sb.go("pass", action, stdin).stdout
        );
    }
    let json = r#"{"ServerURL":"h","Username":"","Secret":"p"}"#;
    assert_eq!(
        sb.ours("pass", "store", json).stdout,
        sb.go("pass", "store", json).stdout
    );
}

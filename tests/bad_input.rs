//! Every helper answers bad input with one clear line on stdout and exit 1: no panic, nothing
//! on stderr, no echo of the secret, within 5 s, and nothing written. One table over all three
//! binaries, each run with no pass store; pass runs it again on an initialised store, where a
//! bad input that slipped through validation could really be written.

use std::path::Path;
use std::time::Duration;

use integration_tests::gpg::init_pass;
use integration_tests::sandbox::helper;
use integration_tests::{Sandbox, need, run};

const SECRET: &str = "S3cr3t-in-the-input";

struct Case {
    what: &'static str,
    args: Vec<&'static str>,
    stdin: Vec<u8>,
    /// The start of the one line expected on stdout.
    want: &'static str,
    /// The case is about the pass store being absent: not run on an initialised store.
    only_uninitialised: bool,
}

fn case(
    what: &'static str,
    args: &[&'static str],
    stdin: impl Into<Vec<u8>>,
    want: &'static str,
) -> Case {
    Case {
        what,
        args: args.to_vec(),
        stdin: stdin.into(),
        want,
        only_uninitialised: false,
    }
}

/// The protocol-level cases every helper must answer the same way.
fn common(usage: &'static str) -> Vec<Case> {
    let huge = format!(
        r#"{{"ServerURL":"h","Username":"u","Secret":"{SECRET}{}"}}"#,
        "x".repeat(1 << 20)
    );
    vec![
        case("no action", &[], "", usage),
        case(
            "unknown action",
            &["bogus"],
            "",
            "Unknown credential action `bogus`: expected one of store, get, erase, list, version",
        ),
        case("extra arguments", &["get", "extra"], "h", usage),
        case("empty stdin", &["get"], "", "no credentials server URL"),
        case(
            "whitespace only",
            &["erase"],
            " \t\r\n ",
            "no credentials server URL",
        ),
        case(
            "two lines",
            &["get"],
            "a.example\nb.example",
            "invalid server URL",
        ),
        case(
            "invalid JSON",
            &["store"],
            format!("{{ServerURL: {SECRET}"),
            "invalid credentials JSON",
        ),
        case(
            "trailing garbage",
            &["store"],
            format!(r#"{{"ServerURL":"h","Username":"u","Secret":"{SECRET}"}} tail"#),
            "invalid credentials JSON: trailing characters",
        ),
        case(
            "truncated JSON",
            &["store"],
            format!(r#"{{"ServerURL":"h","Username":"u","Secret":"{SECRET}"#),
            "invalid credentials JSON",
        ),
        case(
            "wrong JSON type",
            &["store"],
            r#"{"ServerURL":"h","Username":"u","Secret":7}"#,
            "invalid credentials JSON: Secret must be a string",
        ),
        case(
            "not an object",
            &["store"],
            r#"["h","u"]"#,
            "invalid credentials JSON: expected an object",
        ),
        case(
            "ServerURL with a space (get could never name it)",
            &["store"],
            format!(r#"{{"ServerURL":"a b.example","Username":"u","Secret":"{SECRET}"}}"#),
            "invalid server URL: it contains white space",
        ),
        case(
            "empty ServerURL",
            &["store"],
            format!(r#"{{"ServerURL":"","Username":"u","Secret":"{SECRET}"}}"#),
            "no credentials server URL",
        ),
        case(
            "missing ServerURL",
            &["store"],
            format!(r#"{{"Username":"u","Secret":"{SECRET}"}}"#),
            "no credentials server URL",
        ),
        case(
            "empty Username",
            &["store"],
            format!(r#"{{"ServerURL":"h","Username":"","Secret":"{SECRET}"}}"#),
            "no credentials username",
        ),
        case(
            "stdin over 1 MiB",
            &["store"],
            huge,
            "input is larger than 1 MiB",
        ),
        case(
            "NUL byte",
            &["get"],
            b"host\0name".to_vec(),
            "input contains a NUL byte",
        ),
        case(
            "invalid UTF-8",
            &["store"],
            b"{\"ServerURL\":\"\xff\xfe\"}".to_vec(),
            "input is not valid UTF-8",
        ),
    ]
}

/// The whole table: (helper, case).
fn table() -> Vec<(&'static str, Case)> {
    let mut cases: Vec<(&str, Case)> = Vec::new();
    for name in ["pass", "ecr-login", "keyring"] {
        let usage: &'static str = match name {
            "pass" => "Usage: docker-credential-pass <store|get|erase|list|version>",
            "ecr-login" => "Usage: docker-credential-ecr-login <store|get|erase|list|version>",
            _ => "Usage: docker-credential-keyring <store|get|erase|list|version>",
        };
        cases.extend(common(usage).into_iter().map(|c| (name, c)));
    }
    // Helper-specific answers.
    cases.push((
        "pass",
        case(
            "server URL too long for a file name",
            &["get"],
            "r".repeat(300),
            "server URL is too long for the pass store",
        ),
    ));
    cases.push((
        "pass",
        Case {
            only_uninitialised: true,
            ..case(
                "uninitialised store",
                &["store"],
                format!(r#"{{"ServerURL":"h","Username":"u","Secret":"{SECRET}"}}"#),
                "pass store is not initialized",
            )
        },
    ));
    cases.push((
        "pass",
        case(
            "username too long for a file name",
            &["store"],
            format!(
                r#"{{"ServerURL":"h","Username":"{}","Secret":"{SECRET}"}}"#,
                "u".repeat(300)
            ),
            "username is too long",
        ),
    ));
    cases.push((
        "ecr-login",
        case(
            "store without ignore flag",
            &["store"],
            format!(r#"{{"ServerURL":"h","Username":"u","Secret":"{SECRET}"}}"#),
            "not implemented",
        ),
    ));
    cases.push((
        "ecr-login",
        case(
            "IPv6 literal",
            &["get"],
            "[::1]:5000",
            "credentials not found in native keychain",
        ),
    ));
    cases.push((
        "ecr-login",
        case(
            "look-alike host",
            &["get"],
            "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example",
            "credentials not found in native keychain",
        ),
    ));
    cases.push((
        "keyring",
        case(
            "no session bus",
            &["get"],
            "h.example",
            "no D-Bus session bus",
        ),
    ));
    cases.push((
        "keyring",
        case(
            "unknown backend",
            &["list"],
            "",
            "unknown DOCKER_CREDENTIAL_KEYRING_BACKEND=nope",
        ),
    ));
    cases
}

/// Runs one case with `store` as the pass store and checks the answer's shape and words.
fn check(sb: &Sandbox, name: &str, c: &Case, store: &Path) {
    let mut cmd = sb.cmd(helper(name));
    cmd.args(&c.args)
        .env("AWS_ECR_CACHE_DIR", sb.root.join("ecr"))
        .env("PASSWORD_STORE_DIR", store);
    if c.what == "unknown backend" {
        cmd.env("DOCKER_CREDENTIAL_KEYRING_BACKEND", "nope");
    }
    let out = run(cmd, &c.stdin);
    let label = format!("{name} / {} (store {})", c.what, store.display());
    assert_eq!(out.code, 1, "{label}: {out:?}");
    assert!(
        out.stdout.starts_with(c.want),
        "{label}: want {:?}: {out:?}",
        c.want
    );
    assert_eq!(out.stdout.lines().count(), 1, "{label}: one line: {out:?}");
    assert_eq!(out.stderr, "", "{label}: nothing on stderr: {out:?}");
    assert!(
        !out.stdout.contains(SECRET),
        "{label}: the secret was echoed: {out:?}"
    );
    assert!(!out.stdout.contains("panicked"), "{label}: {out:?}");
    assert!(
        out.elapsed < Duration::from_secs(5),
        "{label}: took {:?}",
        out.elapsed
    );
}

#[test]
fn bad_input_table_over_every_helper() {
    let sb = Sandbox::new();
    let cases = table();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let no_store = sb.root.join("no-store");
    for (name, c) in &cases {
        check(&sb, name, c, &no_store);
    }
    assert!(!no_store.exists(), "nothing was written");
}

#[test]
fn bad_input_table_on_an_initialised_pass_store() {
    need!("gpg", "pass");
    let sb = Sandbox::new();
    init_pass(&sb);
    let cases: Vec<_> = table()
        .into_iter()
        .filter(|(name, c)| *name == "pass" && !c.only_uninitialised)
        .collect();
    assert!(cases.len() >= 20, "{} cases", cases.len());
    for (name, c) in &cases {
        check(&sb, name, c, &sb.store);
    }
    assert!(
        !sb.store.join("docker-credential-helpers").exists(),
        "nothing was written"
    );
}

//! How orchestrators and newer clients call helpers, in their exact shapes.
//!
//! The Nomad podman driver (`registry/credshelper.go`) runs `docker-credential-<name>` with
//! `cmd.Args = []string{"get"}`: argv[0] is `get` and no argument follows. Its stdin is the
//! image's repository without the tag (`host/path/name`), and it reads stdout and stderr
//! together (`CombinedOutput`), so anything on stderr breaks the JSON.

use std::os::unix::process::CommandExt;
use std::process::Command;

use integration_tests::fake_aws::FakeAws;
use integration_tests::gpg::init_pass;
use integration_tests::registry::{PASSWORD, Registry, USER};
use integration_tests::sandbox::helper;
use integration_tests::secret_service::{Keyring, SessionBus};
use integration_tests::wire::{get_json, store_json};
use integration_tests::{Out, Sandbox, need, run};

/// The podman driver's exec: the helper's path, argv = ["get"], the repository on stdin.
fn podman_driver_get(mut cmd: Command, repository: &str) -> Out {
    cmd.arg0("get");
    run(cmd, repository)
}

/// Asserts the driver's combined output is exactly the credentials JSON.
fn assert_driver_reads(out: &Out, want: &str) {
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stderr, "", "CombinedOutput would see this: {out:?}");
    assert_eq!(out.stdout, want, "{out:?}");
}

#[test]
fn nomad_podman_driver_reads_pass_credentials_stored_by_docker_login() {
    need!(PASS, REGISTRY; "docker");
    let sb = Sandbox::new();
    init_pass(&sb);
    let reg = Registry::start(&sb);
    sb.docker_config_json(r#"{"auths":{},"credsStore":"pass"}"#);
    let out = sb.run(
        "docker",
        &["login", "-u", USER, "--password-stdin", &reg.host],
        PASSWORD,
    );
    assert!(out.ok(), "docker login: {out:?}");
    let repository = format!("{}/test/hello", reg.host);
    let out = podman_driver_get(sb.cmd(helper("pass")), &repository);
    assert_driver_reads(&out, &get_json(&reg.host, USER, PASSWORD));
    // An image of another registry: the protocol's miss, still nothing on stderr.
    let out = podman_driver_get(sb.cmd(helper("pass")), "other.example:5000/test/hello");
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (1, "credentials not found in native keychain\n", ""),
        "{out:?}"
    );
}

#[test]
fn nomad_podman_driver_reads_keyring_credentials() {
    need!("dbus-daemon", "gnome-keyring-daemon");
    let sb = Sandbox::new();
    let _bus = SessionBus::start(&sb, Keyring::Unlocked);
    let out = sb.ours(
        "keyring",
        "store",
        store_json("registry.example:5000", "nomad", "nomad-pw"),
    );
    assert!(out.ok(), "{out:?}");
    let out = podman_driver_get(sb.cmd(helper("keyring")), "registry.example:5000/team/app");
    assert_driver_reads(
        &out,
        &get_json("registry.example:5000", "nomad", "nomad-pw"),
    );
}

#[test]
fn nomad_podman_driver_gets_an_ecr_token() {
    let sb = Sandbox::new();
    let fake = FakeAws::start("podman-driver-token");
    let host = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
    let mut cmd = sb.ecr_cmd(&fake, helper("ecr-login"));
    cmd.env("AWS_ACCESS_KEY_ID", "AKIAPODMANDRIVER0001")
        .env("AWS_SECRET_ACCESS_KEY", "podman-driver-secret");
    let repository = format!("{host}/team/app");
    let out = podman_driver_get(cmd, &repository);
    assert_driver_reads(&out, &get_json(&repository, "AWS", "podman-driver-token"));
    assert_eq!(fake.token_calls(), 1);
}

#[test]
fn conventions_of_docker_credential_helpers_0_7_to_0_9() {
    let sb = Sandbox::new();
    for name in ["pass", "ecr-login", "keyring"] {
        let program = format!("docker-credential-{name}");
        for flag in ["--version", "-v"] {
            let out = sb.run(helper(name), &[flag], "");
            assert_eq!(
                (out.code, out.stdout.as_str()),
                (
                    0,
                    format!(
                        "{program} (rust-credential-helpers) {}\n",
                        env!("CARGO_PKG_VERSION")
                    )
                    .as_str()
                ),
                "{name} {flag}: {out:?}"
            );
        }
        for flag in ["--help", "-h"] {
            let out = sb.run(helper(name), &[flag], "");
            assert_eq!(out.code, 0, "{name} {flag}: {out:?}");
            assert!(
                out.stdout
                    .contains(&format!("Usage: {program} <store|get|erase|list|version>")),
                "{name} {flag}: {out:?}"
            );
        }
        let out = sb.run(helper(name), &[], "");
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (
                1,
                format!("Usage: {program} <store|get|erase|list|version>\n").as_str(),
                ""
            ),
            "{name} with no argument"
        );
        let out = sb.run(helper(name), &["configure", "--help"], "");
        assert_eq!(out.code, 0, "{out:?}");
        assert!(
            out.stdout
                .starts_with(&format!("usage: {program} configure [--registry HOST]")),
            "the configure usage names the real program: {out:?}"
        );
    }
}

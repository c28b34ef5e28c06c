//! docker-credential-pass as the docker CLI, the Docker daemon and skopeo use it against a real
//! registry with TLS and htpasswd.

use integration_tests::flows;
use integration_tests::gpg::init_pass;
use integration_tests::peers::docker_daemon;
use integration_tests::registry::{Registry, USER};
use integration_tests::{Sandbox, need};

fn world() -> (Sandbox, Registry) {
    let sb = Sandbox::new();
    init_pass(&sb);
    let reg = Registry::start(&sb);
    (sb, reg)
}

#[test]
fn docker_cli_with_creds_store() {
    need!(PASS, REGISTRY; "docker");
    let (sb, reg) = world();
    flows::docker_cli(&sb, &reg, "pass", r#"{"auths":{},"credsStore":"pass"}"#);
}

#[test]
fn docker_cli_with_cred_helpers() {
    need!(PASS, REGISTRY; "docker");
    let (sb, reg) = world();
    flows::docker_cli(
        &sb,
        &reg,
        "pass",
        &format!(
            r#"{{"auths":{{}},"credHelpers":{{"{}":"pass"}}}}"#,
            reg.host
        ),
    );
}

#[test]
fn docker_login_with_a_wrong_password_stores_nothing() {
    need!(PASS, REGISTRY; "docker");
    let (sb, reg) = world();
    sb.docker_config_json(r#"{"auths":{},"credsStore":"pass"}"#);
    let out = sb.run(
        "docker",
        &["login", "-u", USER, "--password-stdin", &reg.host],
        "wrong",
    );
    assert!(!out.ok(), "{out:?}");
    assert_eq!(sb.ours("pass", "list", "").stdout, "{}\n");
}

#[test]
fn docker_pull_through_the_daemon() {
    need!(PASS, REGISTRY; "docker");
    if !docker_daemon(module_path!()) {
        return;
    }
    let (sb, reg) = world();
    flows::docker_pull(&sb, &reg, "pass");
}

#[test]
fn skopeo_login_inspect_logout_with_cred_helpers() {
    need!(PASS, REGISTRY;);
    let (sb, reg) = world();
    flows::skopeo(&sb, &reg, "pass");
}

//! What users do with a credential helper, as the real clients do it: `docker login`,
//! `manifest inspect`, `logout`; `skopeo login`, `inspect`, `logout`; `docker pull`. Shared by
//! every helper that stores credentials (pass, keyring).

use crate::proc::read;
use crate::registry::{PASSWORD, Registry, USER};
use crate::sandbox::Sandbox;

/// What the helper lists, via our own binary.
fn listed(sb: &Sandbox, name: &str) -> String {
    sb.ours(name, "list", "").stdout
}

/// docker login → manifest inspect → logout with `config` as config.json, asserting what the
/// helper `name` holds after each step and that config.json never holds the password.
pub fn docker_cli(sb: &Sandbox, reg: &Registry, name: &str, config: &str) {
    let config_file = sb.docker_config_json(config);
    let out = sb.run(
        "docker",
        &["login", "-u", USER, "--password-stdin", &reg.host],
        PASSWORD,
    );
    assert!(out.ok(), "docker login: {out:?}");
    assert_eq!(
        listed(sb, name),
        format!("{{\"{}\":\"{USER}\"}}\n", reg.host)
    );
    let config_text = read(&config_file);
    assert!(
        !config_text.contains(PASSWORD) && !config_text.contains("\"auth\""),
        "{config_text}"
    );
    let out = sb.run("docker", &["manifest", "inspect", &reg.image()], "");
    assert!(
        out.ok() && out.stdout.contains("schemaVersion"),
        "docker manifest inspect: {out:?}"
    );
    let out = sb.run("docker", &["logout", &reg.host], "");
    assert!(out.ok(), "docker logout: {out:?}");
    assert_eq!(listed(sb, name), "{}\n");
    let out = sb.run("docker", &["manifest", "inspect", &reg.image()], "");
    assert!(!out.ok(), "logged out: the registry refuses us: {out:?}");
}

/// skopeo login → inspect → logout with `credHelpers` naming helper `name` (skopeo ignores
/// `credsStore`).
pub fn skopeo(sb: &Sandbox, reg: &Registry, name: &str) {
    let authfile = sb.root.join("auth.json");
    std::fs::write(
        &authfile,
        format!(
            r#"{{"auths":{{}},"credHelpers":{{"{}":"{name}"}}}}"#,
            reg.host
        ),
    )
    .expect("write");
    let (auth, certs) = (
        authfile.to_string_lossy().into_owned(),
        reg.cert_dir.to_string_lossy().into_owned(),
    );
    let out = sb.run(
        "skopeo",
        &[
            "login",
            "--authfile",
            &auth,
            "--cert-dir",
            &certs,
            "-u",
            USER,
            "--password-stdin",
            &reg.host,
        ],
        PASSWORD,
    );
    assert!(out.ok(), "skopeo login: {out:?}");
    assert_eq!(
        listed(sb, name),
        format!("{{\"{}\":\"{USER}\"}}\n", reg.host)
    );
    assert!(!read(&authfile).contains(PASSWORD));
    let image = format!("docker://{}", reg.image());
    let out = sb.run(
        "skopeo",
        &["inspect", "--authfile", &auth, "--cert-dir", &certs, &image],
        "",
    );
    assert!(
        out.ok() && out.stdout.contains("\"Architecture\": \"amd64\""),
        "skopeo inspect: {out:?}"
    );
    let out = sb.run("skopeo", &["logout", "--authfile", &auth, &reg.host], "");
    assert!(out.ok(), "skopeo logout: {out:?}");
    assert_eq!(listed(sb, name), "{}\n");
    let out = sb.run(
        "skopeo",
        &["inspect", "--authfile", &auth, "--cert-dir", &certs, &image],
        "",
    );
    assert!(!out.ok(), "logged out: {out:?}");
}

/// docker login and pull through the daemon with `credsStore: name`. The caller checks that a
/// daemon answers.
pub fn docker_pull(sb: &Sandbox, reg: &Registry, name: &str) {
    sb.docker_config_json(&format!(r#"{{"auths":{{}},"credsStore":"{name}"}}"#));
    let out = sb.run("docker", &["pull", &reg.image()], "");
    assert!(!out.ok(), "not logged in yet: the pull must fail: {out:?}");
    let out = sb.run(
        "docker",
        &["login", "-u", USER, "--password-stdin", &reg.host],
        PASSWORD,
    );
    assert!(out.ok(), "{out:?}");
    let out = sb.run("docker", &["pull", &reg.image()], "");
    let _ = sb.run("docker", &["rmi", "-f", &reg.image()], "");
    assert!(
        out.ok() && out.stdout.contains("Downloaded newer image"),
        "docker pull: {out:?}"
    );
}

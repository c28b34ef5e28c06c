//! `docker-credential-NAME configure`: the helper into config.json, the base64 passwords out of it.

use integration_tests::gpg::init_pass;
use integration_tests::proc::read;
use integration_tests::registry::{PASSWORD, Registry, USER};
use integration_tests::sandbox::helper;
use integration_tests::small_fs::SmallFs;
use integration_tests::{Sandbox, need};

fn configure(sb: &Sandbox, name: &str, args: &[&str]) -> integration_tests::Out {
    let mut all = vec!["configure"];
    all.extend_from_slice(args);
    sb.run(helper(name), &all, "")
}

#[test]
fn imports_base64_passwords_into_pass_and_keeps_everything_else() {
    need!(PASS, REGISTRY; "docker");
    let sb = Sandbox::new();
    init_pass(&sb);
    let reg = Registry::start(&sb);
    use base64::Engine;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    let original = format!(
        "{{\n  \"auths\": {{\"{}\": {{\"auth\": \"{auth}\"}}}},\n  \"psFormat\": \"table {{{{.ID}}}}\",\n  \"credHelpers\": {{\"gcr.io\": \"gcloud\"}}\n}}\n",
        reg.host
    );
    let file = sb.docker_config_json(&original);
    // Dry run: the diff, never the password, nothing written.
    let out = configure(&sb, "pass", &["--import"]);
    assert!(out.ok(), "{out:?}");
    assert!(
        out.stdout.contains("+\t\"credsStore\": \"pass\"") && out.stdout.contains("<redacted>"),
        "{out:?}"
    );
    assert!(
        out.stdout.contains("would move credentials for") && out.stdout.contains("dry run"),
        "{out:?}"
    );
    assert!(
        !out.stdout.contains(&auth) && !out.stdout.contains(PASSWORD),
        "{out:?}"
    );
    assert_eq!(read(&file), original);
    assert_eq!(sb.ours("pass", "list", "").stdout, "{}\n");
    // Applied: the password moves into pass, everything else stays, a backup is kept.
    let out = configure(&sb, "pass", &["--import", "--apply"]);
    assert!(out.ok(), "{out:?}");
    let now: serde_json::Value = serde_json::from_str(&read(&file)).expect("valid JSON");
    assert_eq!(now["credsStore"], "pass");
    assert_eq!(now["psFormat"], "table {{.ID}}");
    assert_eq!(now["credHelpers"]["gcr.io"], "gcloud");
    assert_eq!(now["auths"][&reg.host], serde_json::json!({}));
    assert!(!read(&file).contains(&auth));
    // The backup is the file as it was less the passwords now in pass (issue #11), and private.
    let backup = file.with_extension("json.bak");
    let mut was: serde_json::Value = serde_json::from_str(&original).expect("valid JSON");
    was["auths"][&reg.host] = serde_json::json!({});
    let kept: serde_json::Value = serde_json::from_str(&read(&backup)).expect("valid JSON");
    assert_eq!(kept, was);
    assert!(!read(&backup).contains(&auth), "no password in the backup");
    assert_eq!(integration_tests::sandbox::mode(&backup), 0o600);
    assert_eq!(
        sb.ours("pass", "list", "").stdout,
        format!("{{\"{}\":\"{USER}\"}}\n", reg.host)
    );
    // The docker CLI now logs in through pass.
    let out = sb.run("docker", &["manifest", "inspect", &reg.image()], "");
    assert!(out.ok(), "{out:?}");
    // Again: nothing to do.
    let out = configure(&sb, "pass", &["--import", "--apply"]);
    assert!(
        out.ok() && out.stdout.contains("already configured"),
        "{out:?}"
    );
}

#[test]
fn cred_helpers_refuse_to_clobber_without_force() {
    let sb = Sandbox::new();
    let file = sb.docker_config_json(r#"{"credHelpers": {"h.example": "osxkeychain"}}"#);
    let out = configure(&sb, "keyring", &["--registry", "h.example", "--apply"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.contains("already set") && out.stdout.contains("--force"),
        "{out:?}"
    );
    assert_eq!(
        read(&file),
        r#"{"credHelpers": {"h.example": "osxkeychain"}}"#
    );
    let out = configure(
        &sb,
        "keyring",
        &[
            "--registry",
            "h.example",
            "--registry",
            "other.example",
            "--force",
            "--apply",
        ],
    );
    assert!(out.ok(), "{out:?}");
    let now: serde_json::Value = serde_json::from_str(&read(&file)).expect("JSON");
    assert_eq!(
        now["credHelpers"],
        serde_json::json!({"h.example": "keyring", "other.example": "keyring"})
    );
    // A containers auth.json takes the same edit.
    let auth_json = sb.root.join("containers/auth.json");
    let out = configure(
        &sb,
        "ecr-login",
        &[
            "--file",
            &auth_json.to_string_lossy(),
            "--registry",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com",
            "--apply",
        ],
    );
    assert!(out.ok(), "{out:?}");
    assert!(
        read(&auth_json)
            .contains("\"123456789012.dkr.ecr.us-east-1.amazonaws.com\": \"ecr-login\"")
    );
}

#[test]
fn bad_config_files_are_left_untouched() {
    let sb = Sandbox::new();
    for (content, want) in [
        ("{not json", "is not valid JSON"),
        ("[1, 2]", "is not a JSON object"),
        (r#"{"credHelpers": 5}"#, "\"credHelpers\" is not an object"),
    ] {
        let file = sb.docker_config_json(content);
        let out = configure(&sb, "pass", &["--registry", "h", "--apply"]);
        assert_eq!(out.code, 1, "{content}: {out:?}");
        assert!(out.stdout.contains(want), "{content}: {out:?}");
        assert_eq!(read(&file), content, "untouched");
        assert!(!file.with_extension("json.bak").exists());
    }
    // Unreadable (a directory where the file should be).
    let dir = sb.root.join("as-dir.json");
    std::fs::create_dir(&dir).expect("mkdir");
    let out = configure(&sb, "pass", &["--file", &dir.to_string_lossy(), "--apply"]);
    assert!(
        out.code == 1 && out.stdout.starts_with("cannot read"),
        "{out:?}"
    );
    let out = configure(&sb, "pass", &["--bogus"]);
    assert!(
        out.code == 1
            && out.stdout.contains("unknown option --bogus")
            && out.stdout.contains("usage:"),
        "{out:?}"
    );
}

#[test]
fn read_only_config_is_left_untouched() {
    let sb = Sandbox::new();
    let dir = sb.root.join("ro-config");
    let Some(fs) = SmallFs::mount(module_path!(), &dir, 64) else {
        return;
    };
    let file = dir.join("config.json");
    let content = "{\n  \"auths\": {}\n}\n";
    std::fs::write(&file, content).expect("write");
    fs.read_only(true);
    let out = configure(
        &sb,
        "pass",
        &[
            "--file",
            &file.to_string_lossy(),
            "--registry",
            "h",
            "--apply",
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");
    // The diff of what it would have done, then why it could not.
    let last = out.stdout.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("cannot ") && last.contains("Read-only file system"),
        "{out:?}"
    );
    assert_eq!(read(&file), content, "untouched");
    fs.read_only(false);
    assert!(!file.with_extension("json.bak").exists(), "no backup left");
}

#[test]
fn identity_tokens_are_imported_as_the_docker_cli_stores_them() {
    need!("gpg", "pass", "docker");
    use integration_tests::token_registry::{REFRESH_TOKEN, TokenRegistry, TokenRequest};
    let sb = Sandbox::new();
    init_pass(&sb);
    let reg = TokenRegistry::start();
    // What `docker login` leaves for an OAuth registry without a helper: the username with an
    // empty password in "auth", and the refresh token in "identitytoken".
    use base64::Engine;
    let auth = base64::engine::general_purpose::STANDARD.encode("someone:");
    let file = sb.docker_config_json(&format!(
        r#"{{"auths": {{"{}": {{"auth": "{auth}", "identitytoken": "{REFRESH_TOKEN}"}}}}}}"#,
        reg.host
    ));
    let out = configure(&sb, "pass", &["--import"]);
    assert!(
        out.ok() && out.stdout.contains("\"identitytoken\": <redacted>"),
        "{out:?}"
    );
    assert!(!out.stdout.contains(REFRESH_TOKEN), "{out:?}");
    let out = configure(&sb, "pass", &["--import", "--apply"]);
    assert!(out.ok(), "{out:?}");
    for path in [file.clone(), file.with_extension("json.bak")] {
        let text = read(&path);
        assert!(
            !text.contains(REFRESH_TOKEN) && !text.contains(&auth),
            "{}: {text}",
            path.display()
        );
    }
    // Stored as the docker CLI's native store does: Username <token>, Secret the token.
    assert_eq!(
        sb.ours("pass", "get", &reg.host).stdout,
        format!(
            "{{\"ServerURL\":\"{}\",\"Username\":\"\\u003ctoken\\u003e\",\"Secret\":\"{REFRESH_TOKEN}\"}}\n",
            reg.host
        )
    );
    // And the docker CLI authenticates with it: the token endpoint sees the refresh token.
    let out = sb.run(
        "docker",
        &["manifest", "inspect", "--insecure", &reg.image()],
        "",
    );
    assert!(out.ok() && out.stdout.contains("schemaVersion"), "{out:?}");
    assert_eq!(
        reg.token_requests(),
        [TokenRequest::Refresh(REFRESH_TOKEN.to_string())],
        "the identity token, sent as an OAuth2 refresh token"
    );
}

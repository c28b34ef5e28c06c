//! docker-credential-pass on stores as people really have them: entries made with `pass` itself,
//! usernames of every shape Go can store, names at the file system's limits, a store that
//! signs its `.gpg-id` and its commits, files cut short. The Go helper (by its Debian package
//! path) is the oracle wherever it can read the same store.

use std::path::PathBuf;

use base64::Engine;
use integration_tests::gpg::{self, init_pass};
use integration_tests::peers::docker_daemon;
use integration_tests::proc::read;
use integration_tests::registry::{PASSWORD, Registry, USER};
use integration_tests::sandbox::{chmod, helper};
use integration_tests::wire::{NOT_FOUND, store_json};
use integration_tests::{Out, Sandbox, need, run};

/// `docker-credential-helpers/<base64url(url)>/<user>`, the pass path of an entry.
fn entry_path(url: &str, user: &str) -> String {
    format!(
        "docker-credential-helpers/{}/{user}",
        base64::engine::general_purpose::URL_SAFE.encode(url)
    )
}

fn entry_dir(sb: &Sandbox, url: &str) -> PathBuf {
    sb.store.join(
        PathBuf::from(entry_path(url, "x"))
            .parent()
            .expect("a server dir"),
    )
}

fn pass(sb: &Sandbox, args: &[&str], stdin: &str) -> Out {
    let out = sb.run("pass", args, stdin);
    assert!(out.ok(), "pass {args:?}: {out:?}");
    out
}

/// The registry's image, pulled through the daemon and inspected with skopeo, with the helper
/// `pass` as the only source of credentials.
fn pull_and_inspect(sb: &Sandbox, reg: &Registry, how: &str) {
    let auth = sb.docker_config_json(&format!(
        r#"{{"auths":{{}},"credsStore":"pass","credHelpers":{{"{}":"pass"}}}}"#,
        reg.host
    ));
    let out = sb.run(
        "skopeo",
        &[
            "inspect",
            "--authfile",
            &auth.to_string_lossy(),
            "--cert-dir",
            &reg.cert_dir.to_string_lossy(),
            &format!("docker://{}", reg.image()),
        ],
        "",
    );
    assert!(out.ok(), "{how}: skopeo inspect: {out:?}");
    if docker_daemon(module_path!()) {
        let out = sb.run("docker", &["pull", &reg.image()], "");
        let _ = sb.run("docker", &["rmi", "-f", &reg.image()], "");
        assert!(
            out.ok() && out.stdout.contains("Downloaded newer image"),
            "{how}: docker pull: {out:?}"
        );
    }
}

/// Ours and Go's `get` of `url`: equal, and the credentials `user`/`secret`.
fn assert_both_read(sb: &Sandbox, url: &str, user: &str, secret: &str, how: &str) {
    let ours = sb.ours("pass", "get", url);
    let go = sb.go("pass", "get", url);
    let got: serde_json::Value = serde_json::from_str(&ours.stdout)
        .unwrap_or_else(|e| panic!("{how}: ours is not JSON ({e}): {ours:?}"));
    assert_eq!(
        got,
        serde_json::json!({"ServerURL": url, "Username": user, "Secret": secret}),
        "{how}: ours: {ours:?}"
    );
    assert_eq!(ours.stdout, go.stdout, "{how}: byte for byte as Go: {go:?}");
}

#[test]
fn entries_made_by_pass_insert_and_edit_log_in() {
    need!(PASS, REGISTRY; "docker");
    let sb = Sandbox::new();
    init_pass(&sb);
    let reg = Registry::start(&sb);
    let entry = entry_path(&reg.host, USER);
    let editor = sb.root.join("editor.sh");
    std::fs::write(
        &editor,
        format!("#!/bin/sh\nprintf '%s\\n' '{PASSWORD}' > \"$1\"\n"),
    )
    .expect("write editor");
    chmod(&editor, 0o755);
    let ways: [(&str, &[&str], String); 3] = [
        (
            "pass insert",
            &["insert", "-f"],
            format!("{PASSWORD}\n{PASSWORD}\n"),
        ),
        (
            "pass insert -m",
            &["insert", "-f", "-m"],
            format!("{PASSWORD}\n"),
        ),
        ("pass edit", &["edit"], String::new()),
    ];
    for (how, args, stdin) in ways {
        let _ = sb.run("pass", &["rm", "-rf", &entry], "");
        let mut cmd = sb.cmd("pass");
        cmd.args(args).arg(&entry).env("EDITOR", &editor);
        let out = run(cmd, stdin);
        assert!(out.ok(), "{how}: {out:?}");
        let shown = pass(&sb, &["show", &entry], "");
        assert_eq!(
            shown.stdout,
            format!("{PASSWORD}\n"),
            "{how} ends with a newline"
        );
        assert_both_read(&sb, &reg.host, USER, PASSWORD, how);
        pull_and_inspect(&sb, &reg, how);
    }
    // A multi-line entry: everything but the trailing newlines, as Go returns it.
    let _ = sb.run("pass", &["rm", "-rf", &entry], "");
    pass(
        &sb,
        &["insert", "-f", "-m", &entry],
        "first line\nsecond line\r\n\n",
    );
    let ours = sb.ours("pass", "get", &reg.host);
    assert_eq!(
        ours.stdout,
        format!(
            "{{\"ServerURL\":\"{}\",\"Username\":\"{USER}\",\"Secret\":\"first line\\nsecond line\"}}\n",
            reg.host
        ),
        "{ours:?}"
    );
    assert_eq!(ours.stdout, sb.go("pass", "get", &reg.host).stdout);
}

#[test]
fn an_entry_made_by_pass_generate_logs_in() {
    need!(PASS, REGISTRY; "docker");
    let sb = Sandbox::new();
    init_pass(&sb);
    // The registry must admit the generated password: generate it first, then start the
    // registry with it, then move the entry (the file pass generate wrote) into place.
    pass(&sb, &["generate", "-n", "scratch/generated", "24"], "");
    let generated = pass(&sb, &["show", "scratch/generated"], "").stdout;
    let password = generated
        .strip_suffix('\n')
        .unwrap_or_else(|| panic!("pass generate ends the entry with a newline: {generated:?}"));
    let reg = Registry::start_for(&sb, USER, password);
    pass(
        &sb,
        &["mv", "scratch/generated", &entry_path(&reg.host, USER)],
        "",
    );
    assert_both_read(&sb, &reg.host, USER, password, "pass generate");
    pull_and_inspect(&sb, &reg, "pass generate");
}

#[test]
fn an_entry_cut_short_is_an_error_not_an_empty_password() {
    need!("gpg", "pass");
    let sb = Sandbox::new();
    init_pass(&sb);
    assert!(sb.ours("pass", "store", store_json("h:1", "u", "p")).ok());
    let file = entry_dir(&sb, "h:1").join("u.gpg");
    let bytes = std::fs::read(&file).expect("read entry");
    // gpg exits 0 and prints nothing for this file: its status lines are the only witness.
    std::fs::write(&file, &bytes[..30]).expect("truncate");
    let mut cmd = sb.cmd("gpg");
    cmd.args(["--batch", "--quiet", "--decrypt"]).arg(&file);
    let gpg_alone = run(cmd, "");
    assert_eq!(
        (gpg_alone.code, gpg_alone.stdout.as_str()),
        (0, ""),
        "{gpg_alone:?}"
    );
    let out = sb.ours("pass", "get", "h:1");
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (
            1,
            format!(
                "cannot decrypt {}: it is truncated or damaged (gpg decrypted nothing); store the credentials again\n",
                file.display()
            )
            .as_str()
        ),
        "{out:?}"
    );
    // Cut inside the encrypted data: gpg notices, and so do we.
    std::fs::write(&file, &bytes[..bytes.len() - 8]).expect("truncate");
    let out = sb.ours("pass", "get", "h:1");
    assert_eq!(out.code, 1, "{out:?}");
    assert!(!out.stdout.contains("\"Secret\""), "{out:?}");
}

/// A `gpg` first on PATH that counts its runs in `log`, then runs the real one.
fn counting_gpg(sb: &Sandbox) -> (PathBuf, PathBuf) {
    let real = "/usr/bin/gpg";
    let dir = sb.root.join("count");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let log = sb.root.join("gpg-runs.log");
    std::fs::write(
        dir.join("gpg"),
        format!(
            "#!/bin/sh\necho run >>'{}'\nexec {real} \"$@\"\n",
            log.display()
        ),
    )
    .expect("write spy");
    chmod(&dir.join("gpg"), 0o755);
    (dir, log)
}

#[test]
fn a_failed_decryption_runs_gpg_once_and_says_why() {
    need!("gpg", "pass");
    let sb = Sandbox::new();
    let fpr = gpg::locked_key(&sb);
    pass(&sb, &["init", &fpr], "");
    assert!(sb.ours("pass", "store", store_json("h:1", "u", "p")).ok());
    let (spy, runs) = counting_gpg(&sb);
    let get = |display: Option<&str>| {
        gpg::stop_agent(&sb);
        let _ = std::fs::remove_file(&runs);
        // In a session of its own: no controlling terminal a pinentry could take over.
        let mut cmd = sb.cmd("setsid");
        cmd.arg("-w").arg(helper("pass")).arg("get").env(
            "PATH",
            format!(
                "{}:{}",
                spy.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        );
        if let Some(d) = display {
            cmd.env("DISPLAY", d);
        }
        let out = run(cmd, "h:1");
        (out, read(&runs).lines().count())
    };
    let file = entry_dir(&sb, "h:1").join("u.gpg");
    // No terminal, no display: no prompt, and the message says so.
    let (out, runs_made) = get(None);
    assert_eq!(
        out.stdout,
        format!(
            "cannot decrypt {}: the gpg key is locked and no passphrase prompt is possible here; unlock it first (run `pass show` on any entry in a terminal, or use gpg-preset-passphrase)\n",
            file.display()
        ),
        "{out:?}"
    );
    assert_eq!(runs_made, 1, "one gpg run");
    // A display that no pinentry can use (no X server, no terminal): the agent launches
    // pinentry once, it fails, and the message blames the prompt, not a missing key.
    let (out, runs_made) = get(Some(":987"));
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.starts_with(&format!(
            "cannot decrypt {}: the gpg key is locked and gpg-agent's passphrase prompt failed",
            file.display()
        )) && !out.stdout.contains("no secret key"),
        "{out:?}"
    );
    assert_eq!(runs_made, 1, "one gpg run, so at most one prompt");
}

/// Usernames of every shape Go (through `pass insert`) can store.
const NAMES: &[&str] = &[
    "first last",
    "név@example.com",
    "CORP\\jdoe",
    "<token>",
    "100%",
    "%41",
    ".leading-dot",
    "..double",
];

#[test]
fn usernames_go_can_store_are_shared_with_go_both_ways() {
    need!("gpg", "pass");
    let sb = Sandbox::new();
    init_pass(&sb);
    for (i, user) in NAMES.iter().enumerate() {
        // Go writes, ours reads; then ours overwrites Go's entry in place.
        let go_url = format!("go-{i}.example");
        let out = sb.go("pass", "store", store_json(&go_url, user, "go-secret"));
        assert!(out.ok(), "{user:?}: {out:?}");
        assert_both_read(&sb, &go_url, user, "go-secret", user);
        assert!(
            sb.ours("pass", "store", store_json(&go_url, user, "ours-now"))
                .ok()
        );
        let files: Vec<_> = std::fs::read_dir(entry_dir(&sb, &go_url))
            .expect("entry dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(
            files,
            [std::ffi::OsString::from(format!("{user}.gpg"))],
            "{user:?}: one file, Go's name"
        );
        assert_both_read(&sb, &go_url, user, "ours-now", user);
        // Ours writes, Go reads.
        let our_url = format!("ours-{i}.example");
        assert!(
            sb.ours("pass", "store", store_json(&our_url, user, "our-secret"))
                .ok()
        );
        assert_both_read(&sb, &our_url, user, "our-secret", user);
    }
    assert_eq!(
        sb.ours("pass", "list", "").stdout,
        sb.go("pass", "list", "").stdout
    );
}

#[test]
fn long_usernames_fit_or_fail_cleanly_leaving_nothing() {
    need!("gpg", "pass");
    let sb = Sandbox::new();
    init_pass(&sb);
    // 251 bytes is the longest file name with `.gpg`; its temp file's name must fit too.
    for len in [230, 240, 251] {
        let user = "u".repeat(len);
        let url = format!("long-{len}.example");
        let out = sb.ours("pass", "store", store_json(&url, &user, "pw"));
        assert!(out.ok(), "{len}: {out:?}");
        assert_both_read(&sb, &url, &user, "pw", &format!("{len} bytes"));
    }
    let out = sb.ours(
        "pass",
        "store",
        store_json("too-long.example", &"u".repeat(252), "pw"),
    );
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (
            1,
            "username is too long for the pass store: at most 251 bytes fit in a file name\n"
        ),
        "{out:?}"
    );
    assert!(
        !entry_dir(&sb, "too-long.example").exists(),
        "nothing created for a refused name"
    );
    let go = sb.go("pass", "list", "");
    assert!(go.ok(), "Go's list still works: {go:?}");
    assert_eq!(go.stdout, sb.ours("pass", "list", "").stdout);
}

#[test]
fn a_signed_gpg_id_is_verified_as_pass_does() {
    need!("gpg", "pass");
    let sb = Sandbox::new();
    let fpr = gpg::key(&sb);
    let signed = |cmd: &mut std::process::Command| {
        cmd.env("PASSWORD_STORE_SIGNING_KEY", &fpr);
    };
    let mut cmd = sb.cmd("pass");
    cmd.args(["init", &fpr]);
    signed(&mut cmd);
    assert!(run(cmd, "").ok());
    assert!(sb.store.join(".gpg-id.sig").exists(), "pass init signed it");
    let store = |stdin: String| {
        let mut cmd = sb.cmd(helper("pass"));
        cmd.arg("store");
        signed(&mut cmd);
        run(cmd, stdin)
    };
    assert!(store(store_json("h:1", "u", "p")).ok(), "a good signature");
    // Somebody swaps in their own key without the signing key: pass refuses, and so do we.
    let other = sb.run(
        "gpg",
        &[
            "--batch",
            "--quiet",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
            "--quick-gen-key",
            "Intruder <intruder@test.invalid>",
            "default",
            "default",
            "never",
        ],
        "",
    );
    assert!(other.ok(), "{other:?}");
    std::fs::write(sb.store.join(".gpg-id"), "intruder@test.invalid\n").expect("swap .gpg-id");
    let gpg_id = sb.store.join(".gpg-id");
    let out = store(store_json("h:2", "u", "secret-for-the-intruder"));
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (
            1,
            format!(
                "Signature for {} is invalid: it is not a good signature by a key in PASSWORD_STORE_SIGNING_KEY; nothing was stored\n",
                gpg_id.display()
            )
            .as_str()
        ),
        "{out:?}"
    );
    let mut cmd = sb.cmd("pass");
    cmd.args(["insert", "-m", "probe"]);
    signed(&mut cmd);
    let oracle = run(cmd, "x\n");
    assert!(
        !oracle.ok()
            && oracle.stderr.contains("Signature for")
            && oracle.stderr.contains("is invalid"),
        "pass itself refuses: {oracle:?}"
    );
    assert!(
        !entry_dir(&sb, "h:2").exists(),
        "nothing written for the intruder"
    );
    std::fs::remove_file(sb.store.join(".gpg-id.sig")).expect("rm sig");
    let out = store(store_json("h:2", "u", "p"));
    assert!(
        out.code == 1
            && out.stdout.starts_with(&format!(
                "Signature for {} does not exist",
                gpg_id.display()
            )),
        "{out:?}"
    );
    // Without the variable, nothing is checked (pass checks nothing either).
    assert!(sb.ours("pass", "store", store_json("h:3", "u", "p")).ok());
}

#[test]
fn commits_are_signed_when_the_store_says_so() {
    need!("gpg", "pass", "git");
    let sb = Sandbox::new();
    let fpr = init_pass(&sb);
    let git_env = |cmd: &mut std::process::Command| {
        for (k, v) in [
            ("GIT_AUTHOR_NAME", "T"),
            ("GIT_AUTHOR_EMAIL", "test@test.invalid"),
            ("GIT_COMMITTER_NAME", "T"),
            ("GIT_COMMITTER_EMAIL", "test@test.invalid"),
        ] {
            cmd.env(k, v);
        }
    };
    for args in [
        vec!["git", "init"],
        vec!["git", "config", "pass.signcommits", "true"],
        vec!["git", "config", "user.signingkey", &fpr],
    ] {
        let mut cmd = sb.cmd("pass");
        cmd.args(&args);
        git_env(&mut cmd);
        assert!(run(cmd, "").ok(), "pass {args:?}");
    }
    let mut cmd = sb.cmd(helper("pass"));
    cmd.arg("store");
    git_env(&mut cmd);
    assert!(run(cmd, store_json("h:1", "u", "p")).ok());
    let store_dir = sb.store.to_string_lossy().into_owned();
    let log = sb.run(
        "git",
        &["-C", &store_dir, "log", "-1", "--format=%s %G?"],
        "",
    );
    assert_eq!(
        log.stdout,
        format!(
            "Add given password for {} to store. G\n",
            entry_path("h:1", "u")
        ),
        "a good signature on our commit: {log:?}"
    );
}

#[test]
fn docker_logout_with_nothing_stored_drops_its_marker() {
    need!("gpg", "pass", "docker");
    let sb = Sandbox::new();
    init_pass(&sb);
    let config =
        sb.docker_config_json(r#"{"auths":{"registry.example:5000":{}},"credsStore":"pass"}"#);
    assert_eq!(sb.ours("pass", "erase", "registry.example:5000").stdout, "");
    let out = sb.run("docker", &["logout", "registry.example:5000"], "");
    assert!(out.ok(), "{out:?}");
    let now: serde_json::Value = serde_json::from_str(&read(&config)).expect("JSON");
    assert_eq!(
        now["auths"],
        serde_json::json!({}),
        "the marker is gone: {now}"
    );
    assert_eq!(
        sb.ours("pass", "get", "registry.example:5000").stdout,
        NOT_FOUND
    );
}

//! No secret reaches a child's argv or environment, the log, or stderr; `list` never runs gpg.

use integration_tests::gpg::init_pass;
use integration_tests::proc::read;
use integration_tests::sandbox::{helper, mode};
use integration_tests::{Sandbox, need, run};

const SECRET: &str = "S3cret-Marker-7f1d";

/// A `gpg` first on PATH that records its argv, environment and core-file limit, then runs the
/// real one.
fn spy_gpg(sb: &Sandbox) -> (std::path::PathBuf, std::path::PathBuf) {
    let real = integration_tests::peers::which("gpg").expect("gpg installed");
    let dir = sb.root.join("spy");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let log = sb.root.join("spy.log");
    let script = format!(
        "#!/bin/sh\n{{ echo \"argv: $*\"; echo \"core: $(ulimit -c)\"; env | sed 's/^/env: /'; }} >>'{log}'\nexec '{real}' \"$@\"\n",
        log = log.display(),
        real = real.display()
    );
    let path = dir.join("gpg");
    std::fs::write(&path, script).expect("write spy");
    integration_tests::sandbox::chmod(&path, 0o755);
    (dir, log)
}

#[test]
fn secrets_stay_out_of_children_logs_and_stderr() {
    need!("gpg", "pass");
    let sb = Sandbox::new();
    init_pass(&sb);
    let (spy_dir, spy_log) = spy_gpg(&sb);
    let log_file = sb.root.join("logs/pass.log");
    // No temp file outside the store: whatever the helper or gpg might put in TMPDIR shows here.
    let tmp = sb.root.join("tmp");
    std::fs::create_dir_all(&tmp).expect("mkdir tmp");
    let with_spy = |action: &str| {
        let mut cmd = sb.cmd(helper("pass"));
        let path = format!(
            "{}:{}",
            spy_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        cmd.arg(action)
            .env("PATH", path)
            .env("DOCKER_CREDENTIAL_LOG", "trace")
            .env("DOCKER_CREDENTIAL_LOG_FILE", &log_file)
            .env("TMPDIR", &tmp);
        cmd
    };
    let json = format!(r#"{{"ServerURL":"h:1","Username":"u","Secret":"{SECRET}"}}"#);
    let stored = run(with_spy("store"), &json);
    assert!(stored.ok(), "{stored:?}");
    let got = run(with_spy("get"), "h:1");
    assert!(got.ok() && got.stdout.contains(SECRET), "{got:?}");
    let calls_before_list = read(&spy_log).matches("argv: ").count();
    assert!(calls_before_list >= 2, "the spy saw store and get run gpg");
    let listed = run(with_spy("list"), "");
    assert!(listed.ok(), "{listed:?}");
    assert_eq!(
        read(&spy_log).matches("argv: ").count(),
        calls_before_list,
        "list never runs gpg"
    );

    let spied = read(&spy_log);
    assert!(
        !spied.contains(SECRET),
        "a secret reached gpg's argv or environment:\n{spied}"
    );
    let log = read(&log_file);
    assert!(
        log.contains("h:1") && log.contains("get"),
        "the log records the call:\n{log}"
    );
    assert!(!log.contains(SECRET), "the secret reached the log:\n{log}");
    assert_eq!(mode(&log_file), 0o600);
    for out in [&stored, &got, &listed] {
        assert!(!out.stderr.contains(SECRET), "{out:?}");
    }
    let left: Vec<_> = std::fs::read_dir(&tmp).expect("ls tmp").collect();
    assert!(left.is_empty(), "temp files outside the store: {left:?}");
}

#[test]
fn no_core_dump_can_hold_a_secret() {
    need!("gpg", "pass", "sh");
    let sb = Sandbox::new();
    init_pass(&sb);
    let (spy_dir, spy_log) = spy_gpg(&sb);
    // Started with core dumps allowed, the helper turns them off for itself and its gpg.
    let mut cmd = sb.cmd("sh");
    cmd.args(["-c", "ulimit -c unlimited && exec \"$0\" store"])
        .arg(helper("pass"))
        .env(
            "PATH",
            format!(
                "{}:{}",
                spy_dir.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        );
    let out = run(
        cmd,
        format!(r#"{{"ServerURL":"h:1","Username":"u","Secret":"{SECRET}"}}"#),
    );
    assert!(out.ok(), "{out:?}");
    let spied = read(&spy_log);
    assert!(spied.contains("core: 0\n"), "{spied}");
    assert!(!spied.contains("core: unlimited"), "{spied}");
}

#[test]
fn logging_is_off_by_default() {
    need!("gpg", "pass");
    let sb = Sandbox::new();
    init_pass(&sb);
    let json = format!(r#"{{"ServerURL":"h:1","Username":"u","Secret":"{SECRET}"}}"#);
    assert!(sb.ours("pass", "store", json).ok());
    assert!(sb.ours("pass", "get", "h:1").ok());
    assert!(
        !sb.home
            .join(".local/state/rust-credential-helpers")
            .exists(),
        "no log without DOCKER_CREDENTIAL_LOG"
    );
}

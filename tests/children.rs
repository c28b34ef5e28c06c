//! What a helper says when a child it runs (gpg, the ecr-login fetcher) crashes: the signal, so
//! that a crash is told apart from a refusal.

use integration_tests::fake_aws::FakeAws;
use integration_tests::gpg::init_pass;
use integration_tests::sandbox::{chmod, helper};
use integration_tests::wire::store_json;
use integration_tests::{Sandbox, need, run};

/// A program that kills itself with SIGSEGV, as a crashing child does.
fn crasher(sb: &Sandbox, name: &str) -> std::path::PathBuf {
    let dir = sb.root.join("crashers");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let path = dir.join(name);
    std::fs::write(&path, "#!/bin/sh\nkill -SEGV $$\n").expect("write");
    chmod(&path, 0o755);
    path
}

#[test]
fn a_crashing_gpg_is_reported_with_its_signal() {
    need!("gpg", "pass");
    let sb = Sandbox::new();
    init_pass(&sb);
    assert!(sb.ours("pass", "store", store_json("h:1", "u", "p")).ok());
    let gpg = crasher(&sb, "gpg");
    for (action, stdin, doing) in [
        ("get", "h:1".to_string(), "decrypting "),
        ("store", store_json("h:2", "u", "p"), "encrypting"),
    ] {
        let mut cmd = sb.cmd(helper("pass"));
        cmd.arg(action).env("DOCKER_CREDENTIAL_PASS_GPG", &gpg);
        let out = run(cmd, stdin);
        assert_eq!(out.code, 1, "{action}: {out:?}");
        assert!(
            out.stdout
                .starts_with(&format!("gpg crashed while {doing}"))
                && out
                    .stdout
                    .ends_with(": it was killed by signal 11 (SIGSEGV)\n"),
            "{action}: {out:?}"
        );
    }
}

#[test]
fn a_crashing_fetcher_is_reported_with_its_signal() {
    let sb = Sandbox::new();
    let fake = FakeAws::start("unused");
    // The front runs the fetcher installed beside it: install it beside a crashing one.
    let dir = sb.root.join("bin");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let front = dir.join("docker-credential-ecr-login");
    std::fs::copy(helper("ecr-login"), &front).expect("copy the front");
    std::fs::rename(
        crasher(&sb, "docker-credential-ecr-login-fetch"),
        dir.join("docker-credential-ecr-login-fetch"),
    )
    .expect("install the crasher");
    let mut cmd = sb.ecr_cmd(&fake, &front);
    cmd.arg("get")
        .env("AWS_ACCESS_KEY_ID", "AKIACRASHINGFETCHER1")
        .env("AWS_SECRET_ACCESS_KEY", "crash-secret");
    let out = run(cmd, "123456789012.dkr.ecr.us-east-1.amazonaws.com");
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (
            1,
            "docker-credential-ecr-login-fetch crashed: it was killed by signal 11 (SIGSEGV)\n"
        ),
        "{out:?}"
    );
    assert_eq!(fake.token_calls(), 0);
}

//! docker-credential-pass on its own, against real gpg and pass.

use std::time::{Duration, Instant};

use integration_tests::gpg::{self, init_pass};
use integration_tests::sandbox::{Sandbox, helper, mode};
use integration_tests::wire::{NOT_FOUND, get_json, store_json};
use integration_tests::{need, run};

fn entry_dir(sb: &Sandbox, url: &str) -> std::path::PathBuf {
    let out = sb.run("base64", &["-w0"], url);
    let b64 = out.stdout.replace('+', "-").replace('/', "_");
    sb.store.join("docker-credential-helpers").join(b64)
}

#[test]
fn store_get_list_erase_round_trip() {
    need!("gpg", "pass");
    let sb = Sandbox::new();
    init_pass(&sb);
    let out = sb.ours(
        "pass",
        "store",
        store_json("127.0.0.1:5000", "testuser", "s3cret"),
    );
    assert!(
        out.ok() && out.stdout.is_empty() && out.stderr.is_empty(),
        "{out:?}"
    );
    let out = sb.ours("pass", "get", "127.0.0.1:5000\n");
    assert_eq!(
        out.stdout,
        get_json("127.0.0.1:5000", "testuser", "s3cret"),
        "{out:?}"
    );
    assert!(out.ok());
    let out = sb.ours("pass", "list", "");
    assert_eq!(out.stdout, "{\"127.0.0.1:5000\":\"testuser\"}\n", "{out:?}");
    let out = sb.ours("pass", "erase", "127.0.0.1:5000");
    assert!(out.ok() && out.stdout.is_empty(), "{out:?}");
    assert!(!entry_dir(&sb, "127.0.0.1:5000").exists());
    let out = sb.ours("pass", "get", "127.0.0.1:5000");
    assert_eq!((out.code, out.stdout.as_str()), (1, NOT_FOUND), "{out:?}");
    // Erasing nothing succeeds: docker logout drops its marker only when erase succeeds.
    let out = sb.ours("pass", "erase", "127.0.0.1:5000");
    assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{out:?}");
    assert_eq!(sb.ours("pass", "list", "").stdout, "{}\n");
}

#[test]
fn entries_are_private_whatever_the_umask() {
    need!("gpg", "pass", "sh");
    let sb = Sandbox::new();
    init_pass(&sb);
    let mut cmd = sb.cmd("sh");
    cmd.args(["-c", "umask 000; exec \"$0\" store"])
        .arg(helper("pass"));
    let out = run(cmd, store_json("h:1", "u", "p"));
    assert!(out.ok(), "{out:?}");
    let dir = entry_dir(&sb, "h:1");
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(dir.parent().expect("namespace")), 0o700);
    assert_eq!(mode(&dir.join("u.gpg")), 0o600);
}

#[test]
fn uninitialised_store_says_how_to_fix_it() {
    need!("gpg", "pass");
    let sb = Sandbox::new();
    let out = sb.ours("pass", "store", store_json("h:1", "u", "p"));
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.starts_with("pass store is not initialized") && out.stdout.contains("pass init"),
        "{out:?}"
    );
    assert_eq!(out.stdout.lines().count(), 1);
    assert_eq!(sb.ours("pass", "get", "h:1").stdout, NOT_FOUND);
    assert_eq!(sb.ours("pass", "list", "").stdout, "{}\n");
}

#[test]
fn newest_username_wins_and_list_agrees() {
    need!("gpg", "pass");
    let sb = Sandbox::new();
    init_pass(&sb);
    for (user, secret) in [("alice", "a1"), ("bob", "b1"), ("alice", "a2")] {
        // File times have at least 1 ms resolution on every file system we run on.
        std::thread::sleep(Duration::from_millis(20));
        assert!(
            sb.ours("pass", "store", store_json("h:1", user, secret))
                .ok()
        );
        assert_eq!(
            sb.ours("pass", "get", "h:1").stdout,
            get_json("h:1", user, secret)
        );
        assert_eq!(
            sb.ours("pass", "list", "").stdout,
            format!("{{\"h:1\":\"{user}\"}}\n")
        );
    }
    assert!(
        sb.ours("pass", "erase", "h:1").ok(),
        "erase removes every username"
    );
    assert!(!entry_dir(&sb, "h:1").exists());
}

#[test]
fn usernames_with_path_characters_round_trip_inside_the_store() {
    need!("gpg", "pass");
    let sb = Sandbox::new();
    init_pass(&sb);
    let users = [
        "a/b",
        "../../escaped",
        ".hidden",
        "100%",
        "<token>",
        "név@example.com",
    ];
    for (i, user) in users.iter().enumerate() {
        let url = format!("registry-{i}.example:5000");
        assert!(sb.ours("pass", "store", store_json(&url, user, "pw")).ok());
        let out = sb.ours("pass", "get", &url);
        let got: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
        assert_eq!(got["Username"], *user, "{out:?}");
        let dir = entry_dir(&sb, &url);
        let files: Vec<_> = std::fs::read_dir(&dir).expect("entry dir").collect();
        assert_eq!(files.len(), 1, "{user}: exactly one file, inside its dir");
    }
    assert!(!sb.root.join("home/escaped.gpg").exists() && !sb.store.join("escaped.gpg").exists());
    let list: serde_json::Value =
        serde_json::from_str(&sb.ours("pass", "list", "").stdout).expect("JSON");
    assert_eq!(list.as_object().map(|m| m.len()), Some(users.len()));
}

#[test]
fn version_and_help() {
    let sb = Sandbox::new();
    let out = sb.ours("pass", "version", "");
    assert!(
        out.ok()
            && out
                .stdout
                .starts_with("docker-credential-pass (rust-credential-helpers) "),
        "{out:?}"
    );
    let out = sb.ours("pass", "--help", "");
    assert!(
        out.ok() && out.stdout.contains("PASSWORD_STORE_DIR") && out.stdout.contains("Usage:"),
        "{out:?}"
    );
}

#[test]
fn locked_key_without_a_terminal_fails_fast_with_a_hint() {
    need!("gpg", "pass");
    let sb = Sandbox::new();
    let fpr = gpg::locked_key(&sb);
    assert!(sb.run("pass", &["init", &fpr], "").ok());
    assert!(
        sb.ours("pass", "store", store_json("h:1", "u", "p")).ok(),
        "encrypting needs no passphrase"
    );
    // Generating the key may have cached its passphrase; a fresh agent has nothing cached.
    gpg::stop_agent(&sb);
    let start = Instant::now();
    let out = sb.ours("pass", "get", "h:1");
    let took = start.elapsed();
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.contains("locked") && out.stdout.contains("unlock"),
        "{out:?}"
    );
    assert!(took < Duration::from_secs(2), "took {took:?}");
}

#[test]
fn entry_that_is_not_gpg_data_or_has_no_key() {
    need!("gpg", "pass");
    let sb = Sandbox::new();
    init_pass(&sb);
    assert!(sb.ours("pass", "store", store_json("h:1", "u", "p")).ok());
    assert!(sb.ours("pass", "store", store_json("h:2", "u", "p")).ok());
    std::fs::write(entry_dir(&sb, "h:1").join("u.gpg"), "garbage").expect("corrupt");
    let out = sb.ours("pass", "get", "h:1");
    assert!(
        out.code == 1 && out.stdout.contains("not gpg data"),
        "{out:?}"
    );
    let empty = sb.root.join("other-gnupg");
    std::fs::create_dir(&empty).expect("mkdir");
    integration_tests::sandbox::chmod(&empty, 0o700);
    let mut cmd = sb.cmd(helper("pass"));
    cmd.arg("get").env("GNUPGHOME", &empty);
    let out = run(cmd, "h:2");
    assert!(
        out.code == 1 && out.stdout.contains("no secret key"),
        "{out:?}"
    );
    assert_eq!(
        sb.ours("pass", "get", "h:2").stdout,
        get_json("h:2", "u", "p"),
        "the entry is intact"
    );
}

/// A committer for git in the sandbox.
fn git_env(cmd: &mut std::process::Command) {
    for (k, v) in [
        ("GIT_AUTHOR_NAME", "T"),
        ("GIT_AUTHOR_EMAIL", "t@test.invalid"),
        ("GIT_COMMITTER_NAME", "T"),
        ("GIT_COMMITTER_EMAIL", "t@test.invalid"),
    ] {
        cmd.env(k, v);
    }
}

/// A pass store under git, as `pass git init` makes it.
fn git_store(sb: &Sandbox) {
    init_pass(sb);
    let mut cmd = sb.cmd("pass");
    cmd.args(["git", "init"]);
    git_env(&mut cmd);
    assert!(run(cmd, "").ok());
}

#[test]
fn git_store_commits_like_pass() {
    need!("gpg", "pass", "git");
    let sb = Sandbox::new();
    git_store(&sb);
    for (action, stdin) in [
        ("store", store_json("h:1", "u", "p")),
        ("erase", "h:1".to_string()),
    ] {
        let mut cmd = sb.cmd(helper("pass"));
        cmd.arg(action);
        git_env(&mut cmd);
        assert!(run(cmd, stdin).ok());
    }
    let log = sb.run(
        "git",
        &["-C", &sb.store.to_string_lossy(), "log", "--format=%s"],
        "",
    );
    let subjects: Vec<&str> = log.stdout.lines().take(2).collect();
    assert_eq!(
        subjects,
        [
            "Remove docker-credential-helpers/aDox from store.",
            "Add given password for docker-credential-helpers/aDox/u to store.",
        ],
        "{log:?}"
    );
    let status = sb.run(
        "git",
        &["-C", &sb.store.to_string_lossy(), "status", "--porcelain"],
        "",
    );
    assert_eq!(status.stdout, "", "everything committed");
}

/// Sixteen stores at once each get their commit: ours queue on `.git` (git's own index.lock
/// made concurrent `git add`s fail, and 10 of 16 entries stayed uncommitted).
#[test]
fn concurrent_stores_in_a_git_store_each_commit() {
    need!("gpg", "pass", "git");
    let sb = Sandbox::new();
    git_store(&sb);
    let threads: Vec<_> = (0..16)
        .map(|i| {
            let mut cmd = sb.cmd(helper("pass"));
            cmd.arg("store");
            git_env(&mut cmd);
            std::thread::spawn(move || run(cmd, store_json(&format!("g:{i}"), "u", "p")))
        })
        .collect();
    for t in threads {
        let out = t.join().expect("thread");
        assert!(out.ok(), "{out:?}");
    }
    let store = sb.store.to_string_lossy();
    let log = sb.run("git", &["-C", &store, "log", "--format=%s"], "");
    let adds = log
        .stdout
        .lines()
        .filter(|l| l.starts_with("Add given password for "))
        .count();
    assert_eq!(adds, 16, "{log:?}");
    let status = sb.run("git", &["-C", &store, "status", "--porcelain"], "");
    assert_eq!(status.stdout, "", "everything committed");
}

#[test]
fn killed_store_leaves_the_old_or_the_new_secret() {
    need!("gpg", "pass");
    let sb = Sandbox::new();
    init_pass(&sb);
    assert!(sb.ours("pass", "store", store_json("h:1", "u", "v0")).ok());
    let mut current = "v0".to_string();
    for i in 1..=25u64 {
        let new = format!("v{i}");
        let mut cmd = sb.cmd(helper("pass"));
        cmd.arg("store")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null());
        let mut child = cmd.spawn().expect("spawn");
        if let Some(mut stdin) = child.stdin.take() {
            use std::io::Write;
            let _ = stdin.write_all(store_json("h:1", "u", &new).as_bytes());
        }
        // Spread the kills over the whole store (gpg start-up, encryption, write, rename).
        std::thread::sleep(Duration::from_micros(i * 1_500 % 30_000));
        let _ = child.kill();
        let _ = child.wait();
        let out = sb.ours("pass", "get", "h:1");
        let got: serde_json::Value =
            serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"));
        let secret = got["Secret"].as_str().unwrap_or_default().to_string();
        assert!(
            secret == current || secret == new,
            "after kill {i}: {secret:?}, want {current:?} or {new:?}"
        );
        current = secret;
    }
    assert_eq!(sb.ours("pass", "list", "").stdout, "{\"h:1\":\"u\"}\n");
}

#[test]
fn concurrent_stores_lose_nothing() {
    need!("gpg", "pass");
    let sb = Sandbox::new();
    init_pass(&sb);
    let children: Vec<_> = (0..16)
        .map(|i| {
            let mut cmd = sb.cmd(helper("pass"));
            cmd.arg("store");
            let json = store_json(
                &format!("h:{}", i % 4),
                &format!("user{i}"),
                &format!("secret{i}"),
            );
            std::thread::spawn(move || run(cmd, json))
        })
        .collect();
    for c in children {
        let out = c.join().expect("thread");
        assert!(out.ok(), "{out:?}");
    }
    for i in 0..4 {
        let dir = entry_dir(&sb, &format!("h:{i}"));
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let mut want: Vec<String> = (0..16)
            .filter(|j| j % 4 == i)
            .map(|j| format!("user{j}.gpg"))
            .collect();
        want.sort();
        assert_eq!(names, want, "every entry, no temp files");
        for j in (0..16).filter(|j| j % 4 == i) {
            let mut cmd = sb.cmd("gpg");
            cmd.args(["--batch", "--quiet", "--decrypt"])
                .arg(dir.join(format!("user{j}.gpg")));
            assert_eq!(run(cmd, "").stdout, format!("secret{j}"));
        }
    }
}

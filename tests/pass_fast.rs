//! The gpg-agent fast path of `get` (issue 15): entries made by `pass insert`, by the Go helper
//! (Debian's, by its package path) and by ours, for every key type, read in-process through
//! gpg-agent and through gpg (`DOCKER_CREDENTIAL_PASS_FAST_PATH=off`) with identical answers; a
//! spy `gpg` (first on PATH and as `DOCKER_CREDENTIAL_PASS_GPG`) proves that a hit runs none;
//! and everything the fast path does not handle gives gpg's own message.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine;
use integration_tests::keys::{self, key_with_subkeys};
use integration_tests::proc::read;
use integration_tests::sandbox::{chmod, helper, mode};
use integration_tests::wire::{get_json, store_json};
use integration_tests::{Out, Sandbox, need, run};

/// Debian's Go helper, by its package path: never whatever is first on PATH.
const GO: &str = "/usr/bin/docker-credential-pass";
const FAST_PATH_ENV: &str = "DOCKER_CREDENTIAL_PASS_FAST_PATH";

/// A `gpg` that logs each run, then runs the real one.
struct Spy {
    dir: PathBuf,
    log: PathBuf,
}

impl Spy {
    fn new(sb: &Sandbox) -> Spy {
        let dir = sb.root.join("spy");
        std::fs::create_dir_all(&dir).expect("mkdir spy");
        let log = sb.root.join("gpg-runs.log");
        let script = format!(
            "#!/bin/sh\necho \"$*\" >>'{}'\nexec /usr/bin/gpg \"$@\"\n",
            log.display()
        );
        std::fs::write(dir.join("gpg"), script).expect("write spy");
        chmod(&dir.join("gpg"), 0o755);
        Spy { dir, log }
    }

    /// The gpg runs since the last reset, one argv per line.
    fn runs(&self) -> Vec<String> {
        if !self.log.exists() {
            return Vec::new();
        }
        read(&self.log).lines().map(str::to_string).collect()
    }

    fn reset(&self) {
        let _ = std::fs::remove_file(&self.log);
    }
}

/// Our helper with the spy first on PATH and as the gpg program, the keygrip cache in the
/// sandbox, and the fast path on or off.
fn ours_cmd(sb: &Sandbox, spy: &Spy, action: &str, fast: bool) -> std::process::Command {
    let mut cmd = sb.cmd(helper("pass"));
    cmd.arg(action)
        .env(
            "PATH",
            format!(
                "{}:{}",
                spy.dir.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("DOCKER_CREDENTIAL_PASS_GPG", spy.dir.join("gpg"))
        .env("XDG_CACHE_HOME", sb.root.join("cache"));
    if !fast {
        cmd.env(FAST_PATH_ENV, "off");
    }
    cmd
}

fn ours(sb: &Sandbox, spy: &Spy, action: &str, stdin: &str, fast: bool) -> Out {
    run(ours_cmd(sb, spy, action, fast), stdin)
}

fn go(sb: &Sandbox, action: &str, stdin: &str) -> Out {
    sb.run(GO, &[action], stdin)
}

fn entry_name(url: &str, user: &str) -> String {
    format!(
        "docker-credential-helpers/{}/{user}",
        base64::engine::general_purpose::URL_SAFE.encode(url)
    )
}

fn entry_file(sb: &Sandbox, url: &str, user: &str) -> PathBuf {
    sb.store.join(format!("{}.gpg", entry_name(url, user)))
}

fn pass_ok(sb: &Sandbox, args: &[&str], stdin: &str) {
    let out = sb.run("pass", args, stdin);
    assert!(out.ok(), "pass {args:?}: {out:?}");
}

/// The key ids the entry's session key is encrypted to, in packet order.
fn recipients(sb: &Sandbox, file: &Path) -> Vec<String> {
    let mut cmd = sb.cmd("gpg");
    cmd.args(["--batch", "--list-packets", "--list-only"])
        .arg(file);
    let out = run(cmd, "");
    out.stdout
        .lines()
        .filter_map(|l| l.strip_prefix(":pubkey enc packet:"))
        .filter_map(|l| l.split("keyid ").nth(1))
        .map(|k| k.trim().to_string())
        .collect()
}

/// Three entries for `url` made three ways: `pass insert` (`pass.<url>`, with pass's newline),
/// the Go helper (`go.<url>`) and ours (`ours.<url>`); returns the URLs and their secrets.
fn make_entries(sb: &Sandbox, spy: &Spy, tag: &str) -> Vec<(String, String)> {
    let mut made = Vec::new();
    let url = format!("pass.{tag}.example");
    let secret = format!("pass-secret-{tag}");
    pass_ok(
        sb,
        &["insert", "-m", "-f", &entry_name(&url, "u")],
        &format!("{secret}\n"),
    );
    made.push((url, secret));
    let url = format!("go.{tag}.example");
    let secret = format!("go-secret-{tag} <&>");
    let out = go(sb, "store", &store_json(&url, "u", &secret));
    assert!(out.ok(), "Go store: {out:?}");
    made.push((url, secret));
    let url = format!("ours.{tag}.example");
    let secret = format!("ours-secret-{tag}");
    let out = ours(sb, spy, "store", &store_json(&url, "u", &secret), true);
    assert!(out.ok(), "store: {out:?}");
    made.push((url, secret));
    made
}

/// Each entry reads the same through gpg, through the fast path once the cache is warm (with no
/// gpg run at all), and through the Go helper.
fn assert_reads_alike(sb: &Sandbox, spy: &Spy, entries: &[(String, String)], how: &str) {
    for (url, secret) in entries {
        let slow = ours(sb, spy, "get", url, false);
        let want = serde_json::json!({"ServerURL": url, "Username": "u", "Secret": secret});
        let got: serde_json::Value = serde_json::from_str(&slow.stdout)
            .unwrap_or_else(|e| panic!("{how} {url}: not JSON ({e}): {slow:?}"));
        assert_eq!(got, want, "{how} {url}: through gpg");
        // The first fast get may learn the keygrips; the next one must run no gpg at all.
        let warm = ours(sb, spy, "get", url, true);
        spy.reset();
        let fast = ours(sb, spy, "get", url, true);
        assert_eq!(
            spy.runs(),
            Vec::<String>::new(),
            "{how} {url}: a hit runs no gpg"
        );
        assert_eq!(
            fast.stdout, slow.stdout,
            "{how} {url}: fast as gpg: {fast:?}"
        );
        assert_eq!(
            warm.stdout, slow.stdout,
            "{how} {url}: first fast get: {warm:?}"
        );
        assert!(fast.ok() && fast.stderr.is_empty(), "{how} {url}: {fast:?}");
        let theirs = go(sb, "get", url);
        assert_eq!(fast.stdout, theirs.stdout, "{how} {url}: as Go: {theirs:?}");
    }
}

/// One key of each type: every way of making an entry reads alike both ways, and the entries
/// really are encrypted to that type's subkey.
fn key_type_reads_alike(algo: &str) {
    // `need!` finds an absolute path as itself.
    need!("gpg", "pass", GO);
    let sb = Sandbox::new();
    let email = format!("{algo}@test.invalid");
    let fpr = key_with_subkeys(&sb, &email, &[(algo, "never")], "");
    pass_ok(&sb, &["init", &fpr], "");
    let spy = Spy::new(&sb);
    let entries = make_entries(&sb, &spy, algo);
    let subkey = keys::encryption_key_ids(&sb, &email);
    assert_eq!(subkey.len(), 1, "{subkey:?}");
    for (url, _) in &entries {
        assert_eq!(
            recipients(&sb, &entry_file(&sb, url, "u")),
            subkey,
            "{url} is encrypted to the {algo} subkey"
        );
    }
    assert_reads_alike(&sb, &spy, &entries, algo);
}

#[test]
fn curve25519_entries_read_alike_fast_and_through_gpg() {
    key_type_reads_alike("cv25519");
}

#[test]
fn rsa2048_entries_read_alike_fast_and_through_gpg() {
    key_type_reads_alike("rsa2048");
}

#[test]
fn rsa3072_entries_read_alike_fast_and_through_gpg() {
    key_type_reads_alike("rsa3072");
}

#[test]
fn rsa4096_entries_read_alike_fast_and_through_gpg() {
    key_type_reads_alike("rsa4096");
}

#[test]
fn nist_p256_entries_read_alike_fast_and_through_gpg() {
    key_type_reads_alike("nistp256");
}

#[test]
fn every_subkey_and_an_encrypting_primary_key_read_alike() {
    // `need!` finds an absolute path as itself.
    need!("gpg", "pass", GO);
    let sb = Sandbox::new();
    let email = "subkeys@test.invalid";
    key_with_subkeys(
        &sb,
        email,
        &[
            ("cv25519", "never"),
            ("rsa3072", "never"),
            ("nistp256", "never"),
        ],
        "",
    );
    let primary = keys::primary_only_rsa(&sb, "primary@test.invalid");
    let spy = Spy::new(&sb);
    let ids = keys::encryption_key_ids(&sb, email);
    assert_eq!(ids.len(), 3, "{ids:?}");
    // One store per subkey (pass's `KEYID!` names exactly that subkey), and one for the key
    // whose primary key encrypts.
    let mut all = Vec::new();
    for id in ids.iter().chain([&primary]) {
        let dir = format!("sub-{id}");
        pass_ok(&sb, &["init", "-p", &dir, &format!("{id}!")], "");
        let url = format!("{id}.example");
        let name = format!("{dir}/{}", entry_name(&url, "u"));
        pass_ok(&sb, &["insert", "-m", "-f", &name], "s3cret\n");
        // Moved under the helpers' namespace, as if the store were initialised to that key.
        let from = sb.store.join(format!("{name}.gpg"));
        let to = entry_file(&sb, &url, "u");
        std::fs::create_dir_all(to.parent().expect("dir")).expect("mkdir");
        std::fs::rename(&from, &to).expect("move entry");
        let want = if id == &primary {
            keys::encryption_key_ids(&sb, "primary@test.invalid")
        } else {
            vec![id.clone()]
        };
        assert_eq!(recipients(&sb, &to), want, "{id}");
        all.push((url, "s3cret".to_string()));
    }
    assert_reads_alike(&sb, &spy, &all, "subkeys");
}

#[test]
fn two_recipients_read_alike_and_a_missing_first_key_is_skipped() {
    // `need!` finds an absolute path as itself.
    need!("gpg", "pass", GO);
    let sb = Sandbox::new();
    let a = key_with_subkeys(&sb, "a@test.invalid", &[("cv25519", "never")], "");
    let b = key_with_subkeys(&sb, "b@test.invalid", &[("rsa2048", "never")], "");
    pass_ok(&sb, &["init", &a, &b], "");
    let spy = Spy::new(&sb);
    let entries = make_entries(&sb, &spy, "two");
    let file = entry_file(&sb, &entries[2].0, "u");
    let order = recipients(&sb, &file);
    assert_eq!(order.len(), 2, "two recipients: {order:?}");
    assert_reads_alike(&sb, &spy, &entries, "two recipients");
    // The first recipient's secret key goes: the fast path must use the second.
    let ka = keys::encryption_key_ids(&sb, "a@test.invalid");
    let first = if ka.contains(&order[0]) { &a } else { &b };
    let out = sb.run(
        "gpg",
        &["--batch", "--yes", "--delete-secret-keys", first],
        "",
    );
    assert!(out.ok(), "{out:?}");
    assert_reads_alike(&sb, &spy, &entries, "first recipient's key absent");
}

#[test]
fn an_expired_subkey_still_decrypts_alike() {
    // `need!` finds an absolute path as itself.
    need!("gpg", "pass", GO);
    let sb = Sandbox::new();
    let fpr = key_with_subkeys(
        &sb,
        "expiring@test.invalid",
        &[("cv25519", "seconds=6")],
        "",
    );
    let made = Instant::now();
    pass_ok(&sb, &["init", &fpr], "");
    let spy = Spy::new(&sb);
    let entries = make_entries(&sb, &spy, "expired");
    std::thread::sleep(Duration::from_secs(7).saturating_sub(made.elapsed()));
    let listed = sb.run(
        "gpg",
        &["--batch", "--with-colons", "--list-keys", &fpr],
        "",
    );
    assert!(
        listed.stdout.lines().any(|l| l.starts_with("sub:e:")),
        "the subkey has expired: {listed:?}"
    );
    assert_reads_alike(&sb, &spy, &entries, "expired subkey");
}

#[test]
fn a_missing_secret_key_gives_gpgs_error_either_way() {
    need!("gpg", "pass");
    let sb = Sandbox::new();
    let gone = key_with_subkeys(&sb, "gone@test.invalid", &[("cv25519", "never")], "");
    let kept = key_with_subkeys(&sb, "kept@test.invalid", &[("rsa2048", "never")], "");
    let spy = Spy::new(&sb);
    pass_ok(&sb, &["init", &kept], "");
    let kept_entry = store_json("kept.example", "u", "y");
    assert!(ours(&sb, &spy, "store", &kept_entry, true).ok());
    // Encrypted to the other key only (`pass init` would re-encrypt the whole store).
    let mut cmd = ours_cmd(&sb, &spy, "store", true);
    cmd.env("PASSWORD_STORE_KEY", &gone);
    assert!(run(cmd, store_json("gone.example", "u", "x")).ok());
    let out = sb.run(
        "gpg",
        &["--batch", "--yes", "--delete-secret-keys", &gone],
        "",
    );
    assert!(out.ok(), "{out:?}");
    let file = entry_file(&sb, "gone.example", "u");
    let want = format!(
        "cannot decrypt {}: no secret key for it in this GNUPGHOME\n",
        file.display()
    );
    // Cold cache, then warm (a hit on the other entry learns the keys).
    for round in ["cold", "warm"] {
        let slow = ours(&sb, &spy, "get", "gone.example", false);
        let fast = ours(&sb, &spy, "get", "gone.example", true);
        assert_eq!(
            (slow.code, slow.stdout.as_str()),
            (1, want.as_str()),
            "{round}"
        );
        assert_eq!(
            (fast.code, fast.stdout.as_str()),
            (1, want.as_str()),
            "{round}"
        );
        let hit = ours(&sb, &spy, "get", "kept.example", true);
        assert_eq!(hit.stdout, get_json("kept.example", "u", "y"), "{round}");
    }
}

/// A key with a passphrase, its store, and one entry read once so the cache is warm.
fn locked_store(sb: &Sandbox, spy: &Spy) -> PathBuf {
    let fpr = key_with_subkeys(
        sb,
        "locked@test.invalid",
        &[("cv25519", "never")],
        integration_tests::gpg::LOCKED_PASSPHRASE,
    );
    pass_ok(sb, &["init", &fpr], "");
    assert!(ours(sb, spy, "store", &store_json("h:1", "u", "p"), true).ok());
    // Unlocked once (the agent caches the passphrase), so a get succeeds and learns the keys.
    let file = entry_file(sb, "h:1", "u");
    let mut cmd = sb.cmd("gpg");
    cmd.args([
        "--batch",
        "--pinentry-mode",
        "loopback",
        "--passphrase",
        integration_tests::gpg::LOCKED_PASSPHRASE,
        "--decrypt",
    ])
    .arg(&file);
    assert!(run(cmd, "").ok());
    for _ in 0..2 {
        let out = ours(sb, spy, "get", "h:1", true);
        assert_eq!(out.stdout, get_json("h:1", "u", "p"), "{out:?}");
    }
    file
}

/// Makes the running agent forget every cached passphrase.
fn forget_passphrases(sb: &Sandbox) {
    let out = sb.run("gpg-connect-agent", &["reloadagent", "/bye"], "");
    assert!(out.ok(), "{out:?}");
}

/// A `get` in a session of its own: no controlling terminal, no display.
fn get_without_terminal(sb: &Sandbox, spy: &Spy) -> std::process::Command {
    let mut cmd = sb.cmd("setsid");
    cmd.arg("-w");
    let inner = ours_cmd(sb, spy, "get", true);
    cmd.arg(inner.get_program()).args(inner.get_args());
    for (k, v) in inner.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd
}

/// The line a locked key gives when no prompt is possible, as gpg.rs words it.
fn locked_line(file: &Path) -> String {
    format!(
        "cannot decrypt {}: the gpg key is locked and no passphrase prompt is possible here; unlock it first (run `pass show` on any entry in a terminal, or use gpg-preset-passphrase)\n",
        file.display()
    )
}

#[test]
fn a_locked_key_beside_a_recipient_only_gpg_can_try_goes_to_gpg() {
    need!("gpg", "pass", "gpg-connect-agent", "setsid");
    let sb = Sandbox::new();
    let spy = Spy::new(&sb);
    // A second recipient whose secret key is not here (as on a card): only gpg can tell whether
    // it decrypts, so a locked first key is not the fast path's answer to give.
    let elsewhere = key_with_subkeys(&sb, "elsewhere@test.invalid", &[("rsa2048", "never")], "");
    let out = sb.run(
        "gpg",
        &["--batch", "--yes", "--delete-secret-keys", &elsewhere],
        "",
    );
    assert!(out.ok(), "{out:?}");
    locked_store(&sb, &spy);
    let locked = keys::fingerprint(&sb, "locked@test.invalid");
    let mut cmd = ours_cmd(&sb, &spy, "store", true);
    cmd.env("PASSWORD_STORE_KEY", format!("{elsewhere} {locked}"));
    assert!(run(cmd, store_json("h:2", "u", "p2")).ok());
    let file = entry_file(&sb, "h:2", "u");
    assert_eq!(recipients(&sb, &file).len(), 2);
    spy.reset();
    let out = ours(&sb, &spy, "get", "h:2", true);
    assert_eq!(out.stdout, get_json("h:2", "u", "p2"), "{out:?}");
    assert_eq!(spy.runs(), Vec::<String>::new(), "unlocked: a hit");
    forget_passphrases(&sb);
    spy.reset();
    let out = run(get_without_terminal(&sb, &spy), "h:2");
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (1, locked_line(&file).as_str()),
        "gpg's answer: {out:?}"
    );
    assert_eq!(spy.runs().len(), 1, "gpg tried: {:?}", spy.runs());
}

#[test]
fn a_locked_key_fails_at_once_without_a_prompt_or_gpg() {
    need!("gpg", "pass", "gpg-connect-agent", "setsid");
    let sb = Sandbox::new();
    let spy = Spy::new(&sb);
    let file = locked_store(&sb, &spy);
    forget_passphrases(&sb);
    spy.reset();
    let start = Instant::now();
    let out = run(get_without_terminal(&sb, &spy), "h:1");
    let took = start.elapsed();
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (1, locked_line(&file).as_str()),
        "{out:?}"
    );
    assert_eq!(
        spy.runs(),
        Vec::<String>::new(),
        "gpg-agent said so; no gpg ran"
    );
    assert!(took < Duration::from_secs(1), "took {took:?}");
}

#[test]
fn a_locked_key_with_a_display_goes_to_gpgs_pinentry() {
    need!("gpg", "pass", "gpg-connect-agent", "setsid");
    let sb = Sandbox::new();
    let spy = Spy::new(&sb);
    let file = locked_store(&sb, &spy);
    forget_passphrases(&sb);
    spy.reset();
    // A display no pinentry can use: gpg runs (once), its pinentry fails, and the message is
    // the one gpg's run gives today.
    let mut cmd = sb.cmd("setsid");
    cmd.arg("-w");
    let inner = ours_cmd(&sb, &spy, "get", true);
    cmd.arg(inner.get_program()).args(inner.get_args());
    for (k, v) in inner.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    cmd.env("DISPLAY", ":987");
    let out = run(cmd, "h:1");
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.starts_with(&format!(
            "cannot decrypt {}: the gpg key is locked and gpg-agent's passphrase prompt failed",
            file.display()
        )),
        "{out:?}"
    );
    let runs = spy.runs();
    assert_eq!(runs.len(), 1, "exactly one gpg, for its pinentry: {runs:?}");
    assert!(runs[0].contains("--decrypt"), "{runs:?}");
}

#[test]
fn corrupted_and_truncated_entries_fail_as_gpg_says() {
    need!("gpg", "pass");
    for algo in ["cv25519", "rsa2048"] {
        let sb = Sandbox::new();
        let fpr = key_with_subkeys(&sb, "c@test.invalid", &[(algo, "never")], "");
        pass_ok(&sb, &["init", &fpr], "");
        let spy = Spy::new(&sb);
        assert!(ours(&sb, &spy, "store", &store_json("h:1", "u", "secret"), true).ok());
        for _ in 0..2 {
            assert!(ours(&sb, &spy, "get", "h:1", true).ok(), "warm the cache");
        }
        let file = entry_file(&sb, "h:1", "u");
        let good = std::fs::read(&file).expect("read entry");
        let mut damaged: Vec<(String, Vec<u8>)> = Vec::new();
        for cut in (0..good.len()).step_by(3) {
            damaged.push((format!("cut to {cut}"), good[..cut].to_vec()));
        }
        for at in (0..good.len()).step_by(5) {
            let mut bytes = good.clone();
            bytes[at] ^= 0x41;
            damaged.push((format!("byte {at} changed"), bytes));
        }
        let mut extended = good.clone();
        extended.extend_from_slice(b"trailing garbage");
        damaged.push(("trailing garbage".into(), extended));
        for (how, bytes) in &damaged {
            std::fs::write(&file, bytes).expect("write damaged entry");
            let slow = ours(&sb, &spy, "get", "h:1", false);
            let fast = ours(&sb, &spy, "get", "h:1", true);
            assert_eq!(fast.stdout, slow.stdout, "{algo}, {how}: {fast:?}");
            assert_eq!(fast.code, slow.code, "{algo}, {how}: {fast:?}");
            if fast.ok() {
                // gpg too accepts a few changes (e.g. in a packet's unused bits): then both
                // return the whole secret, never a part of it.
                assert_eq!(fast.stdout, get_json("h:1", "u", "secret"), "{algo}, {how}");
            } else {
                assert!(
                    fast.stdout
                        .starts_with(&format!("cannot decrypt {}", file.display())),
                    "{algo}, {how}: {fast:?}"
                );
            }
        }
        std::fs::write(&file, &good).expect("restore");
        assert_eq!(
            ours(&sb, &spy, "get", "h:1", true).stdout,
            get_json("h:1", "u", "secret")
        );
    }
}

/// The PID of the sandbox's running gpg-agent.
fn agent_pid(sb: &Sandbox) -> String {
    let out = sb.run("gpg-connect-agent", &["getinfo pid", "/bye"], "");
    out.stdout
        .lines()
        .find_map(|l| l.strip_prefix("D "))
        .unwrap_or_else(|| panic!("agent pid: {out:?}"))
        .trim()
        .to_string()
}

#[test]
fn a_stopped_agent_is_restarted_by_gpg_and_a_hung_one_is_bounded() {
    need!("gpg", "pass", "gpg-connect-agent", "kill");
    let sb = Sandbox::new();
    integration_tests::gpg::init_pass(&sb);
    let spy = Spy::new(&sb);
    assert!(ours(&sb, &spy, "store", &store_json("h:1", "u", "p"), true).ok());
    for _ in 0..2 {
        assert!(ours(&sb, &spy, "get", "h:1", true).ok());
    }
    // No agent: gpg runs once (and starts one); then the fast path again. The old agent must be
    // gone first: a dying one still answering would make the next steps about two agents.
    let old = agent_pid(&sb);
    integration_tests::gpg::stop_agent(&sb);
    let gone = Instant::now();
    while Path::new(&format!("/proc/{old}")).exists() {
        assert!(
            gone.elapsed() < Duration::from_secs(30),
            "agent {old} lives on"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    spy.reset();
    let out = ours(&sb, &spy, "get", "h:1", true);
    assert_eq!(out.stdout, get_json("h:1", "u", "p"), "{out:?}");
    assert_eq!(spy.runs().len(), 1, "{:?}", spy.runs());
    spy.reset();
    let out = ours(&sb, &spy, "get", "h:1", true);
    assert_eq!(out.stdout, get_json("h:1", "u", "p"), "{out:?}");
    assert_eq!(spy.runs(), Vec::<String>::new());
    // A stopped (SIGSTOP) agent: the fast path gives up within its bound, gpg within its own.
    let pid = agent_pid(&sb);
    assert!(sb.run("kill", &["-STOP", &pid], "").ok());
    // The signal is taken when the agent next runs: wait until it has stopped.
    let sent = Instant::now();
    while !read(format!("/proc/{pid}/stat")).contains(") T ") {
        assert!(
            sent.elapsed() < Duration::from_secs(10),
            "agent {pid} did not stop"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut cmd = ours_cmd(&sb, &spy, "get", true);
    cmd.env("DOCKER_CREDENTIAL_PASS_TIMEOUT", "2");
    let start = Instant::now();
    let out = run(cmd, "h:1");
    let took = start.elapsed();
    assert!(sb.run("kill", &["-CONT", &pid], "").ok());
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.starts_with("gpg did not finish decrypting"),
        "{out:?}"
    );
    assert!(took < Duration::from_secs(8), "took {took:?}");
}

#[test]
fn the_cache_is_private_and_follows_the_keyring() {
    need!("gpg", "pass");
    let sb = Sandbox::new();
    let first = key_with_subkeys(&sb, "first@test.invalid", &[("cv25519", "never")], "");
    pass_ok(&sb, &["init", &first], "");
    let spy = Spy::new(&sb);
    // Under a umask that would leave it readable by all, were it not made private.
    let mut cmd = sb.cmd("sh");
    let inner = ours_cmd(&sb, &spy, "get", true);
    cmd.args(["-c", "umask 000; exec \"$0\" get"])
        .arg(inner.get_program());
    for (k, v) in inner.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    assert!(ours(&sb, &spy, "store", &store_json("h:1", "u", "p1"), true).ok());
    assert!(run(cmd, "h:1").ok());
    let dir = sb.root.join("cache/rust-credential-helpers");
    let files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("cache dir")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&files[0]), 0o600);
    let cached = read(&files[0]);
    assert!(!cached.contains("p1"), "no secret in the cache: {cached}");
    // A new key and a store re-initialised to it: the next get learns it, then hits.
    let second = key_with_subkeys(&sb, "second@test.invalid", &[("rsa2048", "never")], "");
    pass_ok(&sb, &["init", &second], "");
    assert!(ours(&sb, &spy, "store", &store_json("h:2", "u", "p2"), true).ok());
    for _ in 0..2 {
        assert_eq!(
            ours(&sb, &spy, "get", "h:2", true).stdout,
            get_json("h:2", "u", "p2")
        );
    }
    spy.reset();
    for (url, secret) in [("h:1", "p1"), ("h:2", "p2")] {
        assert_eq!(
            ours(&sb, &spy, "get", url, true).stdout,
            get_json(url, "u", secret)
        );
    }
    assert_eq!(spy.runs(), Vec::<String>::new(), "both keys are hits");
    // A cache file that is not JSON is ignored and rewritten.
    std::fs::write(&files[0], "not json").expect("corrupt the cache");
    assert_eq!(
        ours(&sb, &spy, "get", "h:1", true).stdout,
        get_json("h:1", "u", "p1")
    );
    assert!(read(&files[0]).starts_with('{'), "rewritten");
}

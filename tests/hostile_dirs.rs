//! Issue #11, section 8: a shared cache or log directory must not become a weapon. Each attack a
//! second local user could play through a world-writable `AWS_ECR_CACHE_DIR` (or
//! `DOCKER_CONFIG`), played with two uids, with the kernel's link protections off and then on;
//! none succeeds, and the victim is still served within the bound.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use integration_tests::fake_aws::FakeAws;
use integration_tests::proc::{read, run_timed};
use integration_tests::two_users::{
    ATTACKER, Kernel, ROUNDS, TwoUsers, VICTIM, as_uid, owner_and_mode,
};
use integration_tests::wire::get_json;
use integration_tests::{Out, Sandbox, need};

const HOST: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
const OTHER_HOST: &str = "210987654321.dkr.ecr.us-east-1.amazonaws.com";
const PASSWORD: &str = "ecr-token-Hv27";
const PLANTED: &str = "attacker-token-Zq81";
const ENV_KEY: &str = "AKIAENVKEYFORTESTS01";
const ENV_SECRET: &str = "env-secret-key-do-not-log";
/// A call still running after this is killed, and the test fails: a hang is a failure.
const BOUND: Duration = Duration::from_secs(20);
/// What every call must stay under (a cold get here takes well under a second).
const QUICK: Duration = Duration::from_secs(5);
/// What the attacker hopes the victim's shell will run.
const INJECTED: &str = "\nid > /tmp/x # \n";

fn want(url: &str) -> String {
    format!("{{\"ServerURL\":\"{url}\",\"Username\":\"AWS\",\"Secret\":\"{PASSWORD}\"}}\n")
}

/// Runs the victim's `docker-credential-ecr-login ACTION` with its cache in `cache_dir`, and
/// asserts that it ended within [`QUICK`].
fn victim_ecr(
    sb: &Sandbox,
    fake: &FakeAws,
    users: &TwoUsers,
    cache_dir: &Path,
    action: &str,
    stdin: &str,
) -> Out {
    victim_ecr_env(sb, fake, users, cache_dir, action, stdin, &[])
}

/// [`victim_ecr`] with more environment.
fn victim_ecr_env(
    sb: &Sandbox,
    fake: &FakeAws,
    users: &TwoUsers,
    cache_dir: &Path,
    action: &str,
    stdin: &str,
    env: &[(&str, &OsStr)],
) -> Out {
    let mut cmd = sb.ecr_cmd(fake, "setpriv");
    cmd.envs(env.iter().copied());
    cmd.args(as_uid(VICTIM))
        .arg(users.helper("ecr-login"))
        .arg(action)
        .env("AWS_ECR_CACHE_DIR", cache_dir)
        .env("HOME", &users.victim_home)
        .env("XDG_STATE_HOME", users.victim_home.join(".local/state"))
        .env("AWS_ACCESS_KEY_ID", ENV_KEY)
        .env("AWS_SECRET_ACCESS_KEY", ENV_SECRET)
        .current_dir(&users.victim_home);
    let out = run_timed(cmd, stdin.as_bytes(), BOUND).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.elapsed < QUICK,
        "{action} in {}: {out:?}",
        cache_dir.display()
    );
    out
}

/// The cache key of [`HOST`] for the victim's calls.
fn key(fake: &FakeAws) -> String {
    format!(
        "ecr 123456789012 us-east-1 endpoint:{} env:{ENV_KEY}",
        fake.url
    )
}

/// A cache file whose entry for [`HOST`] holds the attacker's token, valid until 9999, and
/// optionally a key serde will quote in its error, control characters and all.
fn planted_cache(fake: &FakeAws, injected_key: bool) -> String {
    use base64::Engine;
    let token = base64::engine::general_purpose::STANDARD.encode(format!("AWS:{PLANTED}"));
    let mut entry = serde_json::json!({
        "token": token, "proxy_endpoint": format!("https://{HOST}"),
        "requested_at": 1_700_000_000, "expires_at": 253_402_300_799_i64, "service": "ecr"});
    if injected_key {
        entry[INJECTED] = serde_json::json!(1);
    }
    serde_json::json!({"version": 1, "entries": {key(fake): entry}}).to_string()
}

/// The victim's own directory inside a shared one.
fn own_dir(shared: &Path) -> PathBuf {
    shared.join(format!("uid-{VICTIM}"))
}

/// The log the victim falls back to when no cache directory can be had.
fn fallback_log(users: &TwoUsers) -> PathBuf {
    users
        .victim_home
        .join(".local/state/rust-credential-helpers/docker-credential-ecr-login.log")
}

/// Every line of a log starts with its timestamp: nothing a planted file held split one.
fn assert_whole_lines(log: &str) {
    assert!(!log.is_empty(), "the log has lines");
    for line in log.lines() {
        let b = line.as_bytes();
        assert!(
            b.len() > 20 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-',
            "a line that is not a log line: {line:?} in\n{log}"
        );
    }
}

/// The fetch-lock file name of `key` (`Cache::fetch_lock`'s hash of it).
fn lock_name(key: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut h);
    format!("{:016x}.lock", h.finish())
}

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

#[test]
fn a_planted_log_link_and_cache_never_run_code_as_the_victim() {
    let Some(kernel) = Kernel::take(module_path!()) else {
        return;
    };
    let sb = Sandbox::new();
    let users = TwoUsers::new(&sb);
    let fake = FakeAws::start(PASSWORD);
    let payload = planted_cache(&fake, true);
    for (i, protections) in ROUNDS.into_iter().enumerate() {
        kernel.set(protections);
        for (j, target) in [".bashrc", ".ssh/authorized_keys"].into_iter().enumerate() {
            let round = format!("{protections:?}, log linked to ~/{target}");
            users.reset_victim_files();
            let shared = users.sticky_dir(&format!("shared-{i}-{j}"));
            users.sh(
                &sb,
                ATTACKER,
                "mkdir \"$S/log\" && ln -s \"$V/$T\" \"$S/log/ecr-login.log\" && printf '%s' \"$P\" > \"$S/token-cache.json\"",
                &[("S", shared.as_os_str()), ("T", os(target)), ("P", os(&payload))],
            );
            let out = victim_ecr(&sb, &fake, &users, &shared, "get", HOST);
            assert_eq!(out.stdout, want(HOST), "{round}: {out:?}");
            users.assert_victim_files_untouched(&round);
            // The victim's cache and log went to a directory of its own, which nobody else can
            // enter.
            let own = own_dir(&shared);
            assert_eq!(owner_and_mode(&own), (VICTIM, 0o700), "{round}");
            let log = own.join("log/ecr-login.log");
            assert_eq!(owner_and_mode(&log), (VICTIM, 0o600), "{round}");
            assert_whole_lines(&read(&log));
        }
        // A log file the victim names in the shared directory (`/tmp/x.log`), linked there first.
        users.reset_victim_files();
        let shared = users.sticky_dir(&format!("named-{i}"));
        users.sh(
            &sb,
            ATTACKER,
            "ln -s \"$V/.bashrc\" \"$S/x.log\" && printf '%s' \"$P\" > \"$S/token-cache.json\"",
            &[("S", shared.as_os_str()), ("P", os(&payload))],
        );
        let named = shared.join("x.log");
        let out = victim_ecr_env(
            &sb,
            &fake,
            &users,
            &shared,
            "get",
            HOST,
            &[("DOCKER_CREDENTIAL_LOG_FILE", named.as_os_str())],
        );
        assert_eq!(
            out.stdout,
            want(HOST),
            "{protections:?}, named log: {out:?}"
        );
        users.assert_victim_files_untouched(&format!("{protections:?}, named log"));
    }
    // In the victim's own cache directory, the same file: the warning that quotes it stays one
    // line, its control characters escaped.
    let own = users.victim_home.join(".ecr");
    users.sh(
        &sb,
        VICTIM,
        "mkdir \"$D\" && printf '%s' \"$P\" > \"$D/token-cache.json\"",
        &[("D", own.as_os_str()), ("P", os(&payload))],
    );
    let out = victim_ecr(&sb, &fake, &users, &own, "get", HOST);
    assert_eq!(out.stdout, want(HOST), "{out:?}");
    let log = read(own.join("log/ecr-login.log"));
    assert!(
        log.contains(r"unknown field `\nid > /tmp/x # \n`"),
        "the warning names the key, escaped: {log}"
    );
    assert_whole_lines(&log);
}

#[test]
fn a_planted_token_is_never_served() {
    let Some(kernel) = Kernel::take(module_path!()) else {
        return;
    };
    let sb = Sandbox::new();
    let users = TwoUsers::new(&sb);
    let fake = FakeAws::start(PASSWORD);
    let payload = planted_cache(&fake, false);
    for (i, protections) in ROUNDS.into_iter().enumerate() {
        kernel.set(protections);
        let round = format!("{protections:?}");
        // The attacker writes the cache file first, under the key the victim's get will use.
        let shared = users.sticky_dir(&format!("shared-{i}"));
        users.sh(
            &sb,
            ATTACKER,
            "printf '%s' \"$P\" > \"$S/token-cache.json\"",
            &[("S", shared.as_os_str()), ("P", os(&payload))],
        );
        let calls = fake.token_calls();
        for n in 0..2 {
            let out = victim_ecr(&sb, &fake, &users, &shared, "get", HOST);
            assert_eq!(out.stdout, want(HOST), "{round}, get {n}: {out:?}");
        }
        assert_eq!(
            fake.token_calls(),
            calls + 1,
            "{round}: one fetch, then the victim's own cache in the shared directory serves"
        );

        // The attacker takes the victim's private name first: a directory of theirs, then a
        // link to one. No cache for the victim then, never the planted token.
        let taken = users.sticky_dir(&format!("taken-{i}"));
        let linked = users.sticky_dir(&format!("linked-{i}"));
        let theirs = users.attacker_home.join(format!("theirs-{i}"));
        users.sh(
            &sb,
            ATTACKER,
            "mkdir -m 777 \"$S/uid-$U\" && printf '%s' \"$P\" > \"$S/uid-$U/token-cache.json\" && \
             mkdir \"$T\" && printf '%s' \"$P\" > \"$T/token-cache.json\" && ln -s \"$T\" \"$L/uid-$U\"",
            &[
                ("S", taken.as_os_str()),
                ("L", linked.as_os_str()),
                ("T", theirs.as_os_str()),
                ("U", os(&VICTIM.to_string())),
                ("P", os(&payload)),
            ],
        );
        for dir in [&taken, &linked] {
            let calls = fake.token_calls();
            for n in 0..2 {
                let out = victim_ecr(&sb, &fake, &users, dir, "get", HOST);
                assert_eq!(out.stdout, want(HOST), "{round}, get {n}: {out:?}");
            }
            assert_eq!(fake.token_calls(), calls + 2, "{round}: no cache at all");
            // One warning per call, in the log the victim falls back to.
            let before = read(fallback_log(&users))
                .matches("no token cache for this call")
                .count();
            let out = victim_ecr(&sb, &fake, &users, dir, "list", "");
            assert_eq!(out.stdout, "{}\n", "{round}: {out:?}");
            let log = read(fallback_log(&users));
            assert_eq!(
                log.matches("no token cache for this call").count(),
                before + 1,
                "{round}: {log}"
            );
        }
        let log = read(fallback_log(&users));
        assert!(
            log.contains(&format!(
                "{}/uid-{VICTIM} belongs to uid {ATTACKER}",
                taken.display()
            )),
            "{log}"
        );
        assert!(
            log.contains(&format!(
                "{}/uid-{VICTIM} is a symbolic link",
                linked.display()
            )),
            "{log}"
        );
        let left: Vec<_> = std::fs::read_dir(&theirs)
            .expect("ls")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(
            left,
            ["token-cache.json"],
            "nothing of the victim's in {theirs:?}"
        );
    }
}

#[test]
fn fifos_and_device_links_never_hang() {
    let Some(kernel) = Kernel::take(module_path!()) else {
        return;
    };
    let sb = Sandbox::new();
    let users = TwoUsers::new(&sb);
    let fake = FakeAws::start(PASSWORD);
    const FIFOS: &str =
        "mkdir -p \"$D/log\" && mkfifo \"$D/token-cache.json\" \"$D/log/ecr-login.log\"";
    const ZERO: &str = "mkdir -p \"$D\" && ln -s /dev/zero \"$D/token-cache.json\"";
    for (i, protections) in ROUNDS.into_iter().enumerate() {
        kernel.set(protections);
        // Planted by the attacker in the shared directory, and (as if anything could get there)
        // by the victim in its own: every open is non-blocking and only of regular files.
        let cases = [
            (ATTACKER, users.sticky_dir(&format!("fifo-{i}")), FIFOS),
            (ATTACKER, users.sticky_dir(&format!("zero-{i}")), ZERO),
            (VICTIM, users.victim_home.join(format!("fifo-{i}")), FIFOS),
            (VICTIM, users.victim_home.join(format!("zero-{i}")), ZERO),
        ];
        for (uid, dir, script) in cases {
            let round = format!(
                "{protections:?}, {script} in {} by uid {uid}",
                dir.display()
            );
            users.sh(&sb, uid, script, &[("D", dir.as_os_str())]);
            // Each within QUICK (victim_ecr asserts it).
            let out = victim_ecr(&sb, &fake, &users, &dir, "version", "");
            assert!(out.ok(), "{round}: {out:?}");
            let out = victim_ecr(&sb, &fake, &users, &dir, "list", "");
            assert_eq!(out.stdout, "{}\n", "{round}: {out:?}");
            let out = victim_ecr(&sb, &fake, &users, &dir, "get", HOST);
            assert_eq!(out.stdout, want(HOST), "{round}: {out:?}");
        }
    }
}

#[test]
fn planted_lock_links_never_chmod_the_victims_files() {
    let Some(kernel) = Kernel::take(module_path!()) else {
        return;
    };
    let sb = Sandbox::new();
    let users = TwoUsers::new(&sb);
    let fake = FakeAws::start(PASSWORD);
    let lock = lock_name(&key(&fake));
    const LINKS: &str = "mkdir -p \"$D/locks\" && ln -s \"$V/.bashrc\" \"$D/token-cache.lock\" && \
                         ln -s \"$V/.profile\" \"$D/locks/$H\"";
    for (i, protections) in ROUNDS.into_iter().enumerate() {
        kernel.set(protections);
        // A directory the victim made world-writable (0777, not sticky): anything may be planted
        // there, and what the victim makes there may be renamed.
        let open = users.victim_home.join(format!("open-{i}"));
        users.sh(
            &sb,
            VICTIM,
            "mkdir \"$D\" && chmod 777 \"$D\"",
            &[("D", open.as_os_str())],
        );
        let cases = [
            (ATTACKER, users.sticky_dir(&format!("shared-{i}"))),
            (ATTACKER, open),
            // The victim's own directory, links and all: the lock opens themselves follow none.
            (VICTIM, users.victim_home.join(format!("own-{i}"))),
        ];
        for (uid, dir) in cases {
            let round = format!("{protections:?}, links in {} by uid {uid}", dir.display());
            users.reset_victim_files();
            users.sh(&sb, uid, LINKS, &[("D", dir.as_os_str()), ("H", os(&lock))]);
            assert!(
                std::fs::symlink_metadata(dir.join("locks").join(&lock)).is_ok(),
                "{round}: the link is where the fetch lock goes"
            );
            let out = victim_ecr(&sb, &fake, &users, &dir, "get", HOST);
            assert_eq!(out.stdout, want(HOST), "{round}: {out:?}");
            users.assert_victim_files_untouched(&round);
        }
    }
}

#[test]
fn temp_files_a_killed_fetcher_left_are_removed_by_the_next_write() {
    let Some(kernel) = Kernel::take(module_path!()) else {
        return;
    };
    let sb = Sandbox::new();
    let users = TwoUsers::new(&sb);
    let fake = FakeAws::start(PASSWORD);
    for (i, protections) in ROUNDS.into_iter().enumerate() {
        kernel.set(protections);
        let round = format!("{protections:?}");
        let shared = users.sticky_dir(&format!("shared-{i}"));
        let out = victim_ecr(&sb, &fake, &users, &shared, "get", HOST);
        assert_eq!(out.stdout, want(HOST), "{round}: {out:?}");
        // What a fetcher killed between writing its temp file and renaming it leaves: a token.
        let own = own_dir(&shared);
        users.sh(
            &sb,
            VICTIM,
            "umask 077 && printf 'leftover %s' \"$T\" > \"$D/.token-cache.json.tmp-99999-1-0\"",
            &[("D", own.as_os_str()), ("T", os(PASSWORD))],
        );
        let peek = users.try_sh(
            &sb,
            ATTACKER,
            "cat \"$D\"/.token-cache.json.tmp-*",
            &[("D", own.as_os_str())],
        );
        assert!(
            !peek.ok() && !peek.stdout.contains(PASSWORD),
            "{round}: the other user cannot read it: {peek:?}"
        );
        // The next cache write, under the cache's lock, removes it.
        let out = victim_ecr(&sb, &fake, &users, &shared, "get", OTHER_HOST);
        assert_eq!(out.stdout, want(OTHER_HOST), "{round}: {out:?}");
        let temps: Vec<_> = std::fs::read_dir(&own)
            .expect("ls")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp-"))
            .collect();
        assert!(temps.is_empty(), "{round}: left: {temps:?}");
        let cache = read(own.join("token-cache.json"));
        assert!(
            cache.contains(OTHER_HOST),
            "{round}: the write happened: {cache}"
        );
    }
}

#[test]
fn configure_backup_follows_no_link_and_keeps_no_password() {
    let Some(kernel) = Kernel::take(module_path!()) else {
        return;
    };
    need!("keyctl");
    use base64::Engine;
    const REGISTRY: &str = "registry.example";
    const SECRET: &str = "pw-Hostile-9d";
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("u:{SECRET}"));
    let original = format!(
        "{{\n  \"auths\": {{\"{REGISTRY}\": {{\"auth\": \"{auth}\"}}}},\n  \"psFormat\": \"x\"\n}}\n"
    );
    let sb = Sandbox::new();
    let users = TwoUsers::new(&sb);
    // The import stores into the kernel keyring of a fresh session, and reads it back there.
    let configure = |dir: &Path| {
        let mut cmd = sb.cmd("setpriv");
        cmd.args(as_uid(VICTIM))
            .args(["keyctl", "session", "-", "sh", "-c"])
            .arg("\"$B\" configure --import --apply && printf %s \"$R\" | \"$B\" get")
            .env("B", users.helper("keyring"))
            .env("R", REGISTRY)
            .env("DOCKER_CREDENTIAL_KEYRING_BACKEND", "keyutils")
            .env("DOCKER_CONFIG", dir)
            .env("HOME", &users.victim_home)
            .current_dir(&users.victim_home);
        run_timed(cmd, b"", BOUND).unwrap_or_else(|e| panic!("{e}"))
    };
    let write_config = "printf '%s' \"$C\" > \"$D/config.json\" && chmod 644 \"$D/config.json\"";
    for (i, protections) in ROUNDS.into_iter().enumerate() {
        kernel.set(protections);
        users.reset_victim_files();
        // A shared DOCKER_CONFIG: the attacker's link holds the backup's name, and the victim
        // cannot replace it (sticky). The change is made all the same, without a backup.
        let shared = users.sticky_dir(&format!("docker-{i}"));
        users.sh(
            &sb,
            VICTIM,
            write_config,
            &[("D", shared.as_os_str()), ("C", os(&original))],
        );
        users.sh(
            &sb,
            ATTACKER,
            "ln -s \"$V/.bashrc\" \"$D/config.json.bak\"",
            &[("D", shared.as_os_str())],
        );
        let round = format!("{protections:?}, shared");
        let out = configure(&shared);
        assert!(out.ok(), "{round}: {out:?}");
        assert!(
            out.stdout.contains(&format!(
                "(no backup: {}/config.json.bak belongs to uid {ATTACKER}, another user)",
                shared.display()
            )),
            "{round}: {out:?}"
        );
        assert!(
            out.stdout.ends_with(&get_json(REGISTRY, "u", SECRET)),
            "{round}: the password moved into the store: {out:?}"
        );
        users.assert_victim_files_untouched(&round);
        let now = read(shared.join("config.json"));
        assert!(!now.contains(&auth), "{round}: {now}");
        assert_eq!(owner_and_mode(&shared.join("config.json")).0, VICTIM);

        // The victim's own directory with a link as the backup's name: replaced, not followed;
        // the backup is 0600 and holds everything but the password.
        let own = users.victim_home.join(format!("docker-{i}"));
        users.sh(
            &sb,
            VICTIM,
            &format!(
                "mkdir \"$D\" && {write_config} && ln -s \"$V/.bashrc\" \"$D/config.json.bak\""
            ),
            &[("D", own.as_os_str()), ("C", os(&original))],
        );
        let round = format!("{protections:?}, own");
        let out = configure(&own);
        assert!(out.ok(), "{round}: {out:?}");
        let backup = own.join("config.json.bak");
        assert!(
            out.stdout
                .contains(&format!("(backup: {})", backup.display())),
            "{round}: {out:?}"
        );
        users.assert_victim_files_untouched(&round);
        assert_eq!(owner_and_mode(&backup), (VICTIM, 0o600), "{round}");
        let kept = read(&backup);
        assert!(
            !kept.contains(&auth) && !kept.contains(SECRET),
            "{round}: {kept}"
        );
        let mut was: serde_json::Value = serde_json::from_str(&original).expect("JSON");
        was["auths"][REGISTRY] = serde_json::json!({});
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&kept).expect("JSON"),
            was,
            "{round}"
        );
    }
}

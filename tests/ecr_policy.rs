//! ecr-login's token policy against the project's fake of ECR, IMDS, STS and SSO: the identity in
//! the cache key is the identity that signs (the fake records which access key signed every
//! request), outages and throttling end without a queue or a retry storm, and the CI systems
//! that call the helper get what they need.

use std::process::Command;
use std::time::{Duration, Instant};

use integration_tests::fake_aws::{self, FakeAws, Fault};
use integration_tests::proc::read;
use integration_tests::sandbox::helper;
use integration_tests::wire::NOT_FOUND;
use integration_tests::{Out, Sandbox, run};

const HOST: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
const PASSWORD: &str = "policy-token-pw";
const KEY_A: &str = "AKIAIDENTITYAAAAAAA1";
const KEY_B: &str = "AKIAIDENTITYBBBBBBB2";

fn want(url: &str, password: &str) -> String {
    format!("{{\"ServerURL\":\"{url}\",\"Username\":\"AWS\",\"Secret\":\"{password}\"}}\n")
}

fn get(sb: &Sandbox, fake: &FakeAws, url: &str, setup: impl FnOnce(&mut Command)) -> Out {
    let mut cmd = sb.ecr_cmd(fake, helper("ecr-login"));
    cmd.arg("get");
    setup(&mut cmd);
    run(cmd, url)
}

fn env_keys<'c>(cmd: &'c mut Command, key: &str) -> &'c mut Command {
    cmd.env("AWS_ACCESS_KEY_ID", key)
        .env("AWS_SECRET_ACCESS_KEY", format!("secret-of-{key}"))
}

/// The access key that signed the last ECR API call.
fn last_api_key(fake: &FakeAws) -> Option<String> {
    fake.seen()
        .into_iter()
        .rev()
        .find(|s| {
            s.target
                .as_deref()
                .is_some_and(|t| t.ends_with("GetAuthorizationToken"))
        })
        .and_then(|s| s.access_key)
}

/// A get that must fetch (one more API call) and be signed by `key`.
#[track_caller]
fn assert_fetched_as(fake: &FakeAws, before: usize, out: &Out, key: &str, what: &str) {
    assert_eq!(out.stdout, want(HOST, PASSWORD), "{what}: {out:?}");
    assert_eq!(fake.token_calls(), before + 1, "{what}: one new API call");
    assert_eq!(
        last_api_key(fake).as_deref(),
        Some(key),
        "{what}: signed by"
    );
}

fn write_file(sb: &Sandbox, name: &str, text: &str) -> std::path::PathBuf {
    let path = sb.root.join(name);
    std::fs::write(&path, text).expect("write");
    path
}

fn static_keys(key: &str) -> String {
    format!("[default]\naws_access_key_id = {key}\naws_secret_access_key = secret-of-{key}\n")
}

#[test]
fn a_registry_profile_signs_even_with_env_keys_present() {
    let sb = Sandbox::new();
    let fake = FakeAws::start(PASSWORD);
    std::fs::create_dir_all(sb.root.join("aws")).expect("mkdir");
    std::fs::write(
        sb.root.join("aws/credentials"),
        format!("[p]\naws_access_key_id = {KEY_B}\naws_secret_access_key = b\n"),
    )
    .expect("write credentials");
    let config = write_file(
        &sb,
        "ecr.json",
        &format!(r#"{{"registries": {{"{HOST}": {{"profile": "p"}}}}}}"#),
    );
    let out = get(&sb, &fake, HOST, |c| {
        env_keys(c, KEY_A).env("AWS_ECR_CONFIG_FILE", &config);
    });
    assert_fetched_as(
        &fake,
        0,
        &out,
        KEY_B,
        "the registry's profile, not the env keys",
    );
    // Another identity (the env keys, no registry profile) gets its own token, never B's.
    let out = get(&sb, &fake, HOST, |c| {
        env_keys(c, KEY_A);
    });
    assert_fetched_as(&fake, 1, &out, KEY_A, "the env identity");
    // Each is a hit for itself now.
    let out = get(&sb, &fake, HOST, |c| {
        env_keys(c, KEY_A).env("AWS_ECR_CONFIG_FILE", &config);
    });
    assert_eq!(out.stdout, want(HOST, PASSWORD));
    assert_eq!(fake.token_calls(), 2, "hit");
}

#[test]
fn switching_or_rewriting_credentials_files_changes_the_identity() {
    let sb = Sandbox::new();
    let fake = FakeAws::start(PASSWORD);
    let file_a = write_file(&sb, "creds-a", &static_keys(KEY_A));
    let file_b = write_file(&sb, "creds-b", &static_keys(KEY_B));
    let with_creds = |file: &std::path::Path| {
        let file = file.to_path_buf();
        move |c: &mut Command| {
            c.env("AWS_SHARED_CREDENTIALS_FILE", &file);
        }
    };
    let out = get(&sb, &fake, HOST, with_creds(&file_a));
    assert_fetched_as(&fake, 0, &out, KEY_A, "file A");
    let out = get(&sb, &fake, HOST, with_creds(&file_b));
    assert_fetched_as(&fake, 1, &out, KEY_B, "switched to file B");
    // The same path rewritten with a new key.
    std::fs::write(&file_a, static_keys("AKIAREWRITTENKEY0003")).expect("rewrite");
    let out = get(&sb, &fake, HOST, with_creds(&file_a));
    assert_fetched_as(&fake, 2, &out, "AKIAREWRITTENKEY0003", "file A rewritten");
    // AWS_CONFIG_FILE likewise (keys may live in the config file too).
    let config_b = write_file(&sb, "config-b", &static_keys(KEY_B));
    let out = get(&sb, &fake, HOST, |c| {
        c.env("AWS_CONFIG_FILE", &config_b);
    });
    assert_fetched_as(&fake, 3, &out, KEY_B, "keys from AWS_CONFIG_FILE");
    // Nothing changed: hits, no call.
    for setup in [with_creds(&file_b), with_creds(&file_a)] {
        assert_eq!(get(&sb, &fake, HOST, setup).stdout, want(HOST, PASSWORD));
    }
    assert_eq!(fake.token_calls(), 4, "unchanged identities are hits");
}

#[test]
fn a_key_id_without_its_secret_is_not_an_identity() {
    let sb = Sandbox::new();
    let fake = FakeAws::start(PASSWORD);
    // The SDK ignores a key id alone and goes on to the instance role.
    let out = get(&sb, &fake, HOST, |c| {
        c.env("AWS_ACCESS_KEY_ID", KEY_A);
    });
    assert_fetched_as(
        &fake,
        0,
        &out,
        fake_aws::IMDS_ACCESS_KEY,
        "the instance role",
    );
    // The full key pair is another identity: never served the role's token.
    let out = get(&sb, &fake, HOST, |c| {
        env_keys(c, KEY_A);
    });
    assert_fetched_as(&fake, 1, &out, KEY_A, "the env keys");
}

#[test]
fn every_credential_source_signs_its_own_requests() {
    let sb = Sandbox::new();
    let fake = FakeAws::start(PASSWORD);
    let aws = sb.root.join("aws");
    std::fs::create_dir_all(&aws).expect("mkdir");
    let script = write_file(
        &sb,
        "creds.sh",
        "#!/bin/sh\necho '{\"Version\":1,\"AccessKeyId\":\"AKIAPROCESSKEY000009\",\"SecretAccessKey\":\"s\"}'\n",
    );
    integration_tests::sandbox::chmod(&script, 0o755);
    let token_file = write_file(&sb, "web-identity-token", "fake-oidc-token");
    // The SSO token cache: a legacy SSO profile reads <home>/.aws/sso/cache/sha1(start url).json.
    let start_url = "https://fake.awsapps.example/start";
    let sso_cache = sb.home.join(".aws/sso/cache");
    std::fs::create_dir_all(&sso_cache).expect("mkdir");
    let sha1 = sb.run("sha1sum", &[], start_url).stdout;
    let sha1 = sha1.split_whitespace().next().expect("sha1").to_string();
    std::fs::write(
        sso_cache.join(format!("{sha1}.json")),
        serde_json::json!({
            "accessToken": fake_aws::SSO_ACCESS_TOKEN, "region": "us-east-1",
            "startUrl": start_url, "expiresAt": "2099-01-01T00:00:00Z"})
        .to_string(),
    )
    .expect("write sso cache");
    std::fs::write(
        aws.join("config"),
        format!(
            "[profile static]\naws_access_key_id = {KEY_A}\naws_secret_access_key = a\n\
             [profile base]\naws_access_key_id = {KEY_B}\naws_secret_access_key = b\n\
             [profile role]\nrole_arn = arn:aws:iam::123456789012:role/pull\nsource_profile = base\n\
             [profile proc]\ncredential_process = {}\n\
             [profile sso]\nsso_start_url = {start_url}\nsso_region = us-east-1\nsso_account_id = 123456789012\nsso_role_name = Pull\n",
            script.display()
        ),
    )
    .expect("write config");
    type Setup = Box<dyn Fn(&mut Command)>;
    let profile = |p: &'static str| -> Setup {
        Box::new(move |c: &mut Command| {
            c.env("AWS_PROFILE", p);
        })
    };
    let irsa_key = fake_aws::web_identity_key("arn:aws:iam::123456789012:role/irsa");
    let cases: Vec<(&str, Setup, &str)> = vec![
        (
            "environment",
            Box::new(|c: &mut Command| {
                env_keys(c, KEY_A);
            }),
            KEY_A,
        ),
        ("profile with static keys", profile("static"), KEY_A),
        (
            "profile assuming a role (STS signed by the source profile)",
            profile("role"),
            fake_aws::STS_ACCESS_KEY,
        ),
        (
            "credential_process",
            profile("proc"),
            "AKIAPROCESSKEY000009",
        ),
        ("SSO", profile("sso"), fake_aws::SSO_ACCESS_KEY),
        (
            "web identity",
            Box::new({
                let token_file = token_file.clone();
                move |c: &mut Command| {
                    c.env("AWS_WEB_IDENTITY_TOKEN_FILE", &token_file)
                        .env("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/irsa");
                }
            }),
            // The fake's STS gives each web identity role a key of its own.
            &irsa_key,
        ),
        (
            "container credentials",
            Box::new({
                let uri = format!("{}/container-creds", fake.url);
                move |c: &mut Command| {
                    c.env("AWS_CONTAINER_CREDENTIALS_FULL_URI", &uri);
                }
            }),
            fake_aws::CONTAINER_ACCESS_KEY,
        ),
        (
            "instance role",
            Box::new(|_: &mut Command| {}),
            fake_aws::IMDS_ACCESS_KEY,
        ),
    ];
    for (i, (what, setup, key)) in cases.iter().enumerate() {
        let out = get(&sb, &fake, HOST, |c| setup(c));
        assert_fetched_as(&fake, i, &out, key, what);
    }
    if let Some(sts) = fake
        .seen()
        .into_iter()
        .find(|s| s.body.starts_with("Action=AssumeRole&"))
    {
        assert_eq!(
            sts.access_key.as_deref(),
            Some(KEY_B),
            "the source profile signs STS"
        );
    } else {
        panic!("no AssumeRole call: {:?}", fake.seen());
    }
    // Each identity is a hit for itself now: no more calls.
    let calls = fake.token_calls();
    for (_, setup, _) in &cases {
        assert_eq!(
            get(&sb, &fake, HOST, |c| setup(c)).stdout,
            want(HOST, PASSWORD)
        );
    }
    assert_eq!(
        fake.token_calls(),
        calls,
        "every identity hits its own entry"
    );
}

/// Writes a cache entry for the env identity `KEY_A` at `fake`.
fn write_entry(sb: &Sandbox, fake: &FakeAws, requested_ago: i64, expires_in: i64, pw: &str) {
    use base64::Engine;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs() as i64;
    let key = format!(
        "ecr 123456789012 us-east-1 endpoint:{} env:{KEY_A}",
        fake.url
    );
    let token = base64::engine::general_purpose::STANDARD.encode(format!("AWS:{pw}"));
    let doc = serde_json::json!({"version": 1, "entries": {key: {
        "token": token, "proxy_endpoint": format!("https://{HOST}"),
        "requested_at": now - requested_ago, "expires_at": now + expires_in, "service": "ecr"}}});
    std::fs::create_dir_all(sb.ecr_dir()).expect("mkdir");
    std::fs::write(sb.ecr_dir().join("token-cache.json"), doc.to_string()).expect("write");
}

/// `n` gets at once; each answer with its wall time.
fn concurrent_gets(sb: &Sandbox, fake: &FakeAws, n: usize, timeout: &str) -> Vec<Out> {
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(n));
    let threads: Vec<_> = (0..n)
        .map(|_| {
            let mut cmd = sb.ecr_cmd(fake, helper("ecr-login"));
            env_keys(cmd.arg("get"), KEY_A).env("AWS_ECR_TIMEOUT", timeout);
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                run(cmd, HOST)
            })
        })
        .collect();
    threads
        .into_iter()
        .map(|t| t.join().expect("thread"))
        .collect()
}

#[test]
#[expect(clippy::print_stderr, reason = "the figures go in RELIABILITY.md")]
fn a_stale_token_is_served_at_once_through_an_outage() {
    for (fault, what) in [
        (Fault::ServerError, "500"),
        (Fault::Throttle, "throttling"),
        (Fault::Hang, "hang"),
    ] {
        let sb = Sandbox::new();
        let fake = FakeAws::start(PASSWORD);
        write_entry(&sb, &fake, 3000, 1000, "stale-but-valid");
        fake.set_fault(fault);
        let outs = concurrent_gets(&sb, &fake, 10, "3");
        for out in &outs {
            assert_eq!(out.stdout, want(HOST, "stale-but-valid"), "{what}: {out:?}");
        }
        let mut times: Vec<Duration> = outs.iter().map(|o| o.elapsed).collect();
        times.sort();
        let calls = fake.token_calls();
        eprintln!(
            "{what}: 10 concurrent gets with a stale token: {calls} API calls, fastest {:?}, 9th {:?}, slowest {:?}",
            times[0], times[8], times[9]
        );
        // One process refreshes (its own bounded try); nine serve the valid token at once.
        assert!(
            times[8] < Duration::from_millis(1500),
            "{what}: nine never wait: {times:?}"
        );
        assert!(
            times[9] < Duration::from_secs(3) + Duration::from_millis(2500),
            "{what}: the refresher within its bound: {times:?}"
        );
        assert!(
            (1..=3).contains(&calls),
            "{what}: one fetch (the SDK retries at most 3 times): {calls}"
        );
        // Then the back-off: served with no call, quickly.
        for _ in 0..3 {
            let mut cmd = sb.ecr_cmd(&fake, helper("ecr-login"));
            env_keys(cmd.arg("get"), KEY_A).env("AWS_ECR_TIMEOUT", "3");
            let out = run(cmd, HOST);
            assert_eq!(out.stdout, want(HOST, "stale-but-valid"));
            assert!(out.elapsed < Duration::from_secs(1), "{what}: {out:?}");
        }
        assert_eq!(
            fake.token_calls(),
            calls,
            "{what}: no call within the back-off"
        );
        let log = read(sb.ecr_dir().join("log/ecr-login.log"));
        assert!(
            log.contains("cache=\"stale-served\"") && log.contains("cache=\"stale-backoff\""),
            "{what}: the log tells the true outcome:\n{log}"
        );
    }
}

#[test]
#[expect(clippy::print_stderr, reason = "the figures go in RELIABILITY.md")]
fn cold_gets_against_a_failing_api_share_one_outcome() {
    for (fault, what, words) in [
        (
            Fault::Hang,
            "hang",
            format!("no token for {HOST} within 3 s (AWS_ECR_TIMEOUT)"),
        ),
        (
            Fault::ServerError,
            "500",
            format!("ecr GetAuthorizationToken for {HOST}: ServerException: fake: injected 500"),
        ),
    ] {
        let sb = Sandbox::new();
        let fake = FakeAws::start(PASSWORD);
        fake.set_fault(fault);
        let outs = concurrent_gets(&sb, &fake, 6, "3");
        let calls = fake.token_calls();
        let slowest = outs.iter().map(|o| o.elapsed).max().unwrap_or_default();
        eprintln!("{what}: 6 concurrent cold gets: {calls} API calls, slowest {slowest:?}");
        for out in &outs {
            assert_eq!(out.code, 1, "{what}: {out:?}");
            assert!(out.stdout.starts_with(&words), "{what}: {out:?}");
            assert_eq!(out.stdout, outs[0].stdout, "{what}: one outcome for all");
        }
        assert!(
            slowest < Duration::from_secs(3) + Duration::from_millis(2500),
            "{what}: nobody queues behind the others: {slowest:?}"
        );
        assert!(
            (1..=3).contains(&calls),
            "{what}: one fetch for all six: {calls}"
        );
    }
}

#[test]
fn small_differences_from_the_go_helper_that_users_hit() {
    let sb = Sandbox::new();
    let fake = FakeAws::start(PASSWORD);
    // AWS_ECR_DISABLE_CACHE: any non-empty value turns the cache off, as in Go.
    for value in ["true", "yes", "false", "0"] {
        let out = get(&sb, &fake, HOST, |c| {
            env_keys(c, KEY_A).env("AWS_ECR_DISABLE_CACHE", value);
        });
        assert_eq!(out.stdout, want(HOST, PASSWORD), "{value}");
        assert!(
            !sb.ecr_dir().join("token-cache.json").exists(),
            "{value}: no cache written"
        );
    }
    assert_eq!(fake.token_calls(), 4);
    // AWS_ECR_CACHE_DIR=~/…: the home directory, not ./~ under the current directory.
    let out = get(&sb, &fake, HOST, |c| {
        env_keys(c, KEY_A).env("AWS_ECR_CACHE_DIR", "~/ecr-cache");
    });
    assert_eq!(out.stdout, want(HOST, PASSWORD));
    assert!(
        sb.home.join("ecr-cache/token-cache.json").exists(),
        "in $HOME"
    );
    assert!(
        !sb.root.join("~").exists(),
        "not under the current directory"
    );
    // A fresh entry whose token does not decode is a miss, not a failure.
    write_entry(&sb, &fake, 10, 36000, "unused");
    let path = sb.ecr_dir().join("token-cache.json");
    let text = read(&path);
    let doc: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let bad = doc["entries"]
        .as_object()
        .and_then(|m| m.values().next())
        .and_then(|e| e["token"].as_str())
        .expect("a token")
        .to_string();
    std::fs::write(&path, text.replace(&bad, "!!not base64!!")).expect("write");
    let calls = fake.token_calls();
    let out = get(&sb, &fake, HOST, |c| {
        env_keys(c, KEY_A);
    });
    assert_eq!(out.stdout, want(HOST, PASSWORD), "{out:?}");
    assert_eq!(fake.token_calls(), calls + 1, "fetched again");
}

#[test]
fn a_fips_host_never_reaches_an_endpoint_nobody_chose() {
    let sb = Sandbox::new();
    let fake = FakeAws::start(PASSWORD);
    let fips = "123456789012.dkr.ecr-fips.us-east-1.amazonaws.com";
    // An endpoint in the profile (not the environment) is the user's choice, like an env one:
    // used, and no "FIPS and custom endpoint are not supported".
    std::fs::create_dir_all(sb.root.join("aws")).expect("mkdir");
    std::fs::write(
        sb.root.join("aws/config"),
        format!(
            "[default]\nendpoint_url = {}\naws_access_key_id = {KEY_A}\naws_secret_access_key = a\n",
            fake.url
        ),
    )
    .expect("write");
    let out = get(&sb, &fake, fips, |c| {
        c.env_remove("AWS_ENDPOINT_URL");
    });
    assert_eq!(out.stdout, want(fips, PASSWORD), "{out:?}");
    assert_eq!(fake.token_calls(), 1);
    // Configured endpoints ignored: the ECR-specific override must not be used either, so the
    // call goes to the FIPS endpoint (unreachable here), never to the override.
    let out = get(&sb, &fake, fips, |c| {
        env_keys(c, KEY_B)
            .env_remove("AWS_ENDPOINT_URL")
            .env("AWS_ENDPOINT_URL_ECR", &fake.url)
            .env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
            .env("AWS_ECR_TIMEOUT", "2");
    });
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(fake.token_calls(), 1, "the override was not used: {out:?}");
}

/// docker/cli's `GetAll` for a `credsStore`, as GitLab Runner calls it: `get` for each `auths`
/// key (a "not found" skips it; any other error aborts), then `list`, then `get` for each
/// listed server. Returns server → (user, secret), or the error that aborts the job.
fn gitlab_get_all(
    sb: &Sandbox,
    fake: &FakeAws,
    setup: &dyn Fn(&mut Command),
) -> Result<std::collections::BTreeMap<String, (String, String)>, String> {
    let config: serde_json::Value =
        serde_json::from_str(&read(sb.docker_config.join("config.json"))).expect("config");
    let call = |action: &str, stdin: &str| {
        let mut cmd = sb.ecr_cmd(fake, helper("ecr-login"));
        cmd.arg(action);
        setup(&mut cmd);
        run(cmd, stdin)
    };
    let mut all = std::collections::BTreeMap::new();
    let mut get_one = |server: &str| -> Result<(), String> {
        let out = call("get", server);
        if out.ok() {
            let v: serde_json::Value =
                serde_json::from_str(&out.stdout).map_err(|e| e.to_string())?;
            all.insert(
                server.to_string(),
                (
                    v["Username"].as_str().unwrap_or_default().to_string(),
                    v["Secret"].as_str().unwrap_or_default().to_string(),
                ),
            );
            Ok(())
        } else if out.stdout == NOT_FOUND {
            Ok(())
        } else {
            Err(out.stdout)
        }
    };
    if let Some(auths) = config["auths"].as_object() {
        for server in auths.keys() {
            get_one(server)?;
        }
    }
    let listed = call("list", "");
    if !listed.ok() {
        return Err(listed.stdout);
    }
    let listed: serde_json::Value = serde_json::from_str(&listed.stdout).expect("list JSON");
    for server in listed.as_object().expect("an object").keys() {
        get_one(server)?;
    }
    Ok(all)
}

#[test]
fn gitlab_runner_finds_the_token_through_list_with_one_call() {
    let sb = Sandbox::new();
    let fake = FakeAws::start(PASSWORD);
    sb.docker_config_json(r#"{"auths":{},"credsStore":"ecr-login"}"#);
    let setup = |c: &mut Command| {
        env_keys(c, KEY_A).env("AWS_REGION", "us-east-1");
    };
    let all = gitlab_get_all(&sb, &fake, &setup).expect("no error aborts the job");
    let server = format!(
        "https://{}.dkr.ecr.us-east-1.amazonaws.com",
        fake_aws::DEFAULT_ACCOUNT
    );
    assert_eq!(
        all,
        [(server.clone(), ("AWS".to_string(), PASSWORD.to_string()))]
            .into_iter()
            .collect(),
        "the cold cache still yields the token"
    );
    assert_eq!(fake.token_calls(), 1, "one call: list's, then get hits");
    let request = fake
        .seen()
        .into_iter()
        .find(|s| s.target.is_some())
        .expect("a call");
    assert_eq!(
        request.body, "{}",
        "no registryIds: the caller's own registry"
    );
    // The next job: no call at all.
    assert!(gitlab_get_all(&sb, &fake, &setup).is_ok());
    assert_eq!(fake.token_calls(), 1);
}

#[test]
fn ci_systems_can_keep_failures_from_failing_jobs_that_do_not_use_ecr() {
    let sb = Sandbox::new();
    let fake = FakeAws::start(PASSWORD);
    sb.docker_config_json(&format!(
        r#"{{"auths":{{}},"credHelpers":{{"{HOST}":"ecr-login"}}}}"#
    ));
    // A runner with no AWS credentials at all (IMDS off): the descriptive error for people...
    let no_creds = |c: &mut Command| {
        c.env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ECR_TIMEOUT", "3");
    };
    let out = get(&sb, &fake, HOST, no_creds);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout
            .starts_with(&format!("ecr GetAuthorizationToken for {HOST}: ")),
        "{out:?}"
    );
    // ...and, documented for CI systems that abort on anything but "not found", Go's answer.
    let out = get(&sb, &fake, HOST, |c| {
        no_creds(c);
        c.env("AWS_ECR_FAILURES_AS_NOT_FOUND", "true");
    });
    assert_eq!((out.code, out.stdout.as_str()), (1, NOT_FOUND), "{out:?}");
    let log = read(sb.ecr_dir().join("log/ecr-login.log"));
    assert!(
        log.contains("AWS_ECR_FAILURES_AS_NOT_FOUND: answering not found")
            && log.contains("GetAuthorizationToken"),
        "the reason is in the log:\n{log}"
    );
    assert_eq!(fake.token_calls(), 0);
}

#[test]
fn an_imds_hop_limit_gives_a_clear_error_within_the_bound() {
    let sb = Sandbox::new();
    let fake = FakeAws::start(PASSWORD);
    // Inside a container on EC2 with the default hop limit of 1, IMDSv2's token answer never
    // arrives.
    fake.set_imds_token_fault(Fault::Hang);
    let start = Instant::now();
    let mut cmd = Command::new(helper("ecr-login"));
    cmd.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &fake.url)
        .env("AWS_ENDPOINT_URL", &fake.url)
        .env("AWS_ECR_CACHE_DIR", sb.ecr_dir())
        .env("AWS_ECR_TIMEOUT", "3")
        .arg("get");
    let out = run(cmd, HOST);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        start.elapsed() < Duration::from_secs(3) + Duration::from_millis(2500),
        "{:?}",
        start.elapsed()
    );
    assert!(
        out.stdout.contains("hop limit must be 2 or more"),
        "says what to do: {out:?}"
    );
    assert_eq!(fake.token_calls(), 0);
}

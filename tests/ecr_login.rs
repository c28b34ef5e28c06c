//! docker-credential-ecr-login against the project's fake of ECR, ECR Public and IMDSv2.

use std::process::Command;
use std::time::{Duration, Instant};

use integration_tests::fake_aws::{self, FakeAws, Fault};
use integration_tests::proc::read;
use integration_tests::sandbox::{helper, mode};
use integration_tests::{Out, Sandbox, need, run};

const HOST: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
const PASSWORD: &str = "ecr-token-Kq93";
const ENV_KEY: &str = "AKIAENVKEYFORTESTS01";
const ENV_SECRET: &str = "env-secret-key-do-not-log";
use integration_tests::wire::NOT_FOUND;

fn with_env_creds(cmd: &mut Command) -> &mut Command {
    cmd.env("AWS_ACCESS_KEY_ID", ENV_KEY)
        .env("AWS_SECRET_ACCESS_KEY", ENV_SECRET)
}

fn ecr(
    sb: &Sandbox,
    fake: &FakeAws,
    action: &str,
    stdin: &str,
    setup: impl FnOnce(&mut Command),
) -> Out {
    let mut cmd = sb.ecr_cmd(fake, helper("ecr-login"));
    cmd.arg(action);
    setup(&mut cmd);
    run(cmd, stdin)
}

fn get_env(sb: &Sandbox, fake: &FakeAws, url: &str) -> Out {
    ecr(sb, fake, "get", url, |c| {
        with_env_creds(c);
    })
}

fn want(url: &str) -> String {
    format!("{{\"ServerURL\":\"{url}\",\"Username\":\"AWS\",\"Secret\":\"{PASSWORD}\"}}\n")
}

fn log_text(sb: &Sandbox) -> String {
    read(sb.ecr_dir().join("log/ecr-login.log"))
}

fn write_cache_entry(sb: &Sandbox, requested_ago: i64, expires_in: i64, password: &str) {
    use base64::Engine;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs() as i64;
    let key = format!("ecr 123456789012 us-east-1 endpoint:{{url}} env:{ENV_KEY}");
    let token = base64::engine::general_purpose::STANDARD.encode(format!("AWS:{password}"));
    let doc = serde_json::json!({"version": 1, "entries": {key: {
        "token": token, "proxy_endpoint": format!("https://{HOST}"),
        "requested_at": now.saturating_sub(requested_ago), "expires_at": now.saturating_add(expires_in), "service": "ecr"}}});
    std::fs::create_dir_all(sb.ecr_dir()).expect("mkdir");
    std::fs::write(sb.ecr_dir().join("token-cache.json"), doc.to_string()).expect("write cache");
}

/// The cache key names the endpoint; tests that write the cache by hand fill it in.
fn fix_key(sb: &Sandbox, fake: &FakeAws) {
    let path = sb.ecr_dir().join("token-cache.json");
    std::fs::write(&path, read(&path).replace("{url}", &fake.url)).expect("write");
}

#[test]
fn env_credentials_fetch_once_then_hit_the_cache_with_zero_requests() {
    let sb = Sandbox::new();
    let fake = FakeAws::start(PASSWORD);
    let out = get_env(&sb, &fake, HOST);
    assert_eq!(out.stdout, want(HOST), "{out:?}");
    assert!(out.ok());
    let calls = fake.seen();
    assert_eq!(fake.token_calls(), 1);
    assert_eq!(
        calls[0].access_key.as_deref(),
        Some(ENV_KEY),
        "signed with the env keys"
    );
    assert_eq!(
        calls[0].body, r#"{"registryIds":["123456789012"]}"#,
        "exactly one registry id, as Go sends"
    );
    for url in [
        HOST,
        &format!("https://{HOST}"),
        &format!("https://{HOST}/v2/app/manifests/latest"),
    ] {
        let out = get_env(&sb, &fake, url);
        assert_eq!(out.stdout, want(url), "{out:?}");
    }
    assert_eq!(
        fake.seen().len(),
        calls.len(),
        "cache hits make no request at all"
    );
    let cache = sb.ecr_dir().join("token-cache.json");
    assert_eq!(mode(&cache), 0o600);
    assert_eq!(mode(&sb.ecr_dir()), 0o700);
    assert_eq!(mode(&sb.ecr_dir().join("log/ecr-login.log")), 0o600);
    let list = ecr(&sb, &fake, "list", "", |_| {});
    assert_eq!(
        list.stdout,
        format!("{{\"https://{HOST}\":\"AWS\"}}\n"),
        "{list:?}"
    );
    assert_eq!(fake.seen().len(), calls.len(), "list makes no request");
}

#[test]
fn not_ecr_hosts_are_not_found_without_any_request() {
    let sb = Sandbox::new();
    let fake = FakeAws::start(PASSWORD);
    for url in [
        "index.docker.io",
        "https://index.docker.io/v1/",
        "127.0.0.1:5000",
        &format!("{HOST}.evil.example"),
        "evil.example/123456789012.dkr.ecr.us-east-1.amazonaws.com",
    ] {
        let out = get_env(&sb, &fake, url);
        assert_eq!(
            (out.code, out.stdout.as_str()),
            (1, NOT_FOUND),
            "{url}: {out:?}"
        );
    }
    assert!(fake.seen().is_empty());
    assert!(log_text(&sb).contains(
        "docker-credential-ecr-login can only be used with Amazon Elastic Container Registry."
    ));
}

#[test]
fn ecr_public_token() {
    let sb = Sandbox::new();
    let fake = FakeAws::start(PASSWORD);
    let out = get_env(&sb, &fake, "public.ecr.aws");
    assert_eq!(out.stdout, want("public.ecr.aws"), "{out:?}");
    let seen = fake.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].target.as_deref(),
        Some("SpencerFrontendService.GetAuthorizationToken")
    );
    assert_eq!(
        get_env(&sb, &fake, "ecr-public.aws.com").stdout,
        want("ecr-public.aws.com")
    );
    assert_eq!(fake.token_calls(), 1, "both public hosts share one token");
}

#[test]
fn instance_role_via_imdsv2_and_no_imds_call_on_a_hit() {
    let sb = Sandbox::new();
    let fake = FakeAws::start(PASSWORD);
    let out = ecr(&sb, &fake, "get", HOST, |_| {});
    assert_eq!(out.stdout, want(HOST), "{out:?}");
    assert!(
        fake.imds_calls() >= 2,
        "token + role credentials: {:?}",
        fake.seen()
    );
    assert!(
        fake.seen()
            .iter()
            .any(|s| s.method == "PUT" && s.path == "/latest/api/token"),
        "IMDSv2"
    );
    let api: Vec<_> = fake
        .seen()
        .into_iter()
        .filter(|s| s.target.is_some())
        .collect();
    assert_eq!(
        api[0].access_key.as_deref(),
        Some(fake_aws::IMDS_ACCESS_KEY)
    );
    let before = fake.seen().len();
    let out = ecr(&sb, &fake, "get", HOST, |_| {});
    assert_eq!(out.stdout, want(HOST));
    assert_eq!(
        fake.seen().len(),
        before,
        "a hit makes zero IMDS calls (Go makes 4)"
    );
    let log = log_text(&sb);
    for secret in [
        fake_aws::IMDS_SECRET_KEY,
        fake_aws::IMDS_SESSION_TOKEN,
        PASSWORD,
    ] {
        assert!(
            !log.contains(secret),
            "{secret} leaked into the log:\n{log}"
        );
    }
}

#[test]
fn profiles_and_per_registry_configuration() {
    let sb = Sandbox::new();
    let fake = FakeAws::start(PASSWORD);
    std::fs::create_dir_all(sb.root.join("aws")).expect("mkdir");
    std::fs::write(
        sb.root.join("aws/credentials"),
        "[team]\naws_access_key_id = AKIATEAMPROFILEKEY01\naws_secret_access_key = team-secret\n\
         [other]\naws_access_key_id = AKIAOTHERPROFILEKEY1\naws_secret_access_key = other-secret\n",
    )
    .expect("write credentials");
    let out = ecr(&sb, &fake, "get", HOST, |c| {
        c.env("AWS_PROFILE", "team");
    });
    assert_eq!(out.stdout, want(HOST), "{out:?}");
    assert_eq!(
        fake.seen()
            .last()
            .and_then(|s| s.access_key.clone())
            .as_deref(),
        Some("AKIATEAMPROFILEKEY01")
    );
    // A registry-specific profile wins over AWS_PROFILE, and is a different cache identity.
    let config = sb.root.join("ecr-config.json");
    std::fs::write(
        &config,
        r#"{"registries": {"*.dkr.ecr.us-east-1.amazonaws.com": {"profile": "other"}}}"#,
    )
    .expect("write");
    let out = ecr(&sb, &fake, "get", HOST, |c| {
        c.env("AWS_PROFILE", "team")
            .env("AWS_ECR_CONFIG_FILE", &config);
    });
    assert_eq!(out.stdout, want(HOST), "{out:?}");
    assert_eq!(
        fake.token_calls(),
        2,
        "another identity: not served from the team profile's entry"
    );
    assert_eq!(
        fake.seen()
            .last()
            .and_then(|s| s.access_key.clone())
            .as_deref(),
        Some("AKIAOTHERPROFILEKEY1")
    );
    // An alias: a custom name served with the real registry's token.
    std::fs::write(&config, format!(r#"{{"registries": {{"images.example.com": {{"alias": "{HOST}", "profile": "team"}}}}}}"#)).expect("write");
    let out = ecr(&sb, &fake, "get", "images.example.com", |c| {
        c.env("AWS_ECR_CONFIG_FILE", &config);
    });
    assert_eq!(out.stdout, want("images.example.com"), "{out:?}");
    assert_eq!(
        fake.token_calls(),
        2,
        "the alias shares the team profile's cached token"
    );
    // Mistakes in the file name the file and the line.
    std::fs::write(
        &config,
        "{\n  \"registries\": {\n    \"h\": {\"profil\": \"x\"}\n  }\n}\n",
    )
    .expect("write");
    let out = ecr(&sb, &fake, "get", HOST, |c| {
        c.env("AWS_ECR_CONFIG_FILE", &config);
    });
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains("ecr-config.json")
            && out.stdout.contains("unknown field `profil`")
            && out.stdout.contains("line 3"),
        "{out:?}"
    );
}

#[test]
fn half_life_refresh_and_expired_tokens() {
    let sb = Sandbox::new();
    let fake = FakeAws::start(PASSWORD);
    // Past half of its life: refreshed, and the new token served.
    write_cache_entry(&sb, 3000, 1000, "old-token");
    fix_key(&sb, &fake);
    assert_eq!(get_env(&sb, &fake, HOST).stdout, want(HOST));
    assert_eq!(fake.token_calls(), 1);
    // Before half-life: served without a request.
    write_cache_entry(&sb, 100, 3000, "young-token");
    fix_key(&sb, &fake);
    let out = get_env(&sb, &fake, HOST);
    assert!(out.stdout.contains("young-token"), "{out:?}");
    assert_eq!(fake.token_calls(), 1);
    // Past half-life and the API fails: the still-valid token is served, with a warning.
    write_cache_entry(&sb, 3000, 1000, "stale-but-valid");
    fix_key(&sb, &fake);
    fake.set_fault(Fault::ServerError);
    let out = get_env(&sb, &fake, HOST);
    assert!(
        out.ok() && out.stdout.contains("stale-but-valid"),
        "{out:?}"
    );
    assert!(log_text(&sb).contains("serving the cached token"));
    // Expired and the API fails: a clear error, never the expired token.
    write_cache_entry(&sb, 4000, -10, "expired-token");
    fix_key(&sb, &fake);
    let out = get_env(&sb, &fake, HOST);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        !out.stdout.contains("expired-token") && out.stdout.contains("GetAuthorizationToken"),
        "{out:?}"
    );
    assert_eq!(out.stdout.lines().count(), 1);
}

#[test]
fn clock_far_off_the_token_times_is_never_trusted() {
    let sb = Sandbox::new();
    let fake = FakeAws::start(PASSWORD);
    const TEN_YEARS: i64 = 10 * 365 * 86400;
    for (requested_ago, expires_in, what) in [
        // Fetched "in ten years": the clock went back; the token's age is unknown.
        (-TEN_YEARS, TEN_YEARS + 3600, "from-the-future"),
        // Expired ten years ago.
        (TEN_YEARS + 3600, -TEN_YEARS, "from-the-past"),
        // Both at the ends of time: still no overflow, still refreshed.
        (i64::MAX, i64::MAX, "extremes"),
    ] {
        write_cache_entry(&sb, requested_ago, expires_in, what);
        fix_key(&sb, &fake);
        let calls = fake.token_calls();
        let out = get_env(&sb, &fake, HOST);
        assert_eq!(out.stdout, want(HOST), "{what}: refreshed: {out:?}");
        assert_eq!(fake.token_calls(), calls + 1, "{what}");
    }
}

#[test]
fn unusable_cache_and_log_paths_still_serve() {
    let sb = Sandbox::new();
    let fake = FakeAws::start(PASSWORD);
    // A cache file over the size limit (4 MiB) is ignored, and replaced by a good one.
    std::fs::create_dir_all(sb.ecr_dir()).expect("mkdir");
    let huge = format!("{{\"version\":1,\"entries\":{{}}}}{}", " ".repeat(5 << 20));
    std::fs::write(sb.ecr_dir().join("token-cache.json"), huge).expect("write");
    assert_eq!(get_env(&sb, &fake, HOST).stdout, want(HOST));
    assert!(read(sb.ecr_dir().join("token-cache.json")).len() < 4096);
    // The log dir is a file: nothing can be logged, the token is still served.
    std::fs::remove_dir_all(sb.ecr_dir().join("log")).expect("rm log");
    std::fs::write(sb.ecr_dir().join("log"), "in the way").expect("write");
    std::fs::remove_file(sb.ecr_dir().join("token-cache.json")).expect("rm cache");
    let out = get_env(&sb, &fake, HOST);
    assert_eq!(out.stdout, want(HOST), "{out:?}");
    // The cache dir itself is a file: no cache, no log, still served, and nothing touched.
    let not_a_dir = sb.root.join("not-a-dir");
    std::fs::write(&not_a_dir, "a file").expect("write");
    let out = ecr(&sb, &fake, "get", HOST, |c| {
        with_env_creds(c).env("AWS_ECR_CACHE_DIR", &not_a_dir);
    });
    assert_eq!(out.stdout, want(HOST), "{out:?}");
    assert_eq!(read(&not_a_dir), "a file");
}

#[test]
fn corrupt_cache_is_ignored_and_rewritten() {
    let sb = Sandbox::new();
    let fake = FakeAws::start(PASSWORD);
    std::fs::create_dir_all(sb.ecr_dir()).expect("mkdir");
    for junk in [
        "",
        "{\"version\":1,",
        "{\"version\":2,\"entries\":{}}",
        "[]",
    ] {
        std::fs::write(sb.ecr_dir().join("token-cache.json"), junk).expect("write");
        let out = get_env(&sb, &fake, HOST);
        assert_eq!(out.stdout, want(HOST), "{junk:?}: {out:?}");
        let text = read(sb.ecr_dir().join("token-cache.json"));
        let parsed: serde_json::Value =
            serde_json::from_str(&text).expect("rewritten as valid JSON");
        assert_eq!(parsed["version"], 1);
    }
}

#[test]
fn concurrent_cold_gets_make_one_request_per_registry() {
    let sb = Sandbox::new();
    let fake = FakeAws::start(PASSWORD);
    fake.set_fault(Fault::Delay(Duration::from_millis(300)));
    let hosts = [
        HOST,
        "210987654321.dkr.ecr.us-east-1.amazonaws.com",
        "public.ecr.aws",
    ];
    let threads: Vec<_> = (0..32)
        .map(|i| {
            let mut cmd = sb.ecr_cmd(&fake, helper("ecr-login"));
            with_env_creds(cmd.arg("get"));
            let host = hosts[i % hosts.len()];
            std::thread::spawn(move || (host, run(cmd, host)))
        })
        .collect();
    for t in threads {
        let (host, out) = t.join().expect("thread");
        assert_eq!(out.stdout, want(host), "{out:?}");
    }
    assert_eq!(
        fake.token_calls(),
        hosts.len(),
        "one API call per registry: {:?}",
        fake.seen()
    );
    let text = read(sb.ecr_dir().join("token-cache.json"));
    let parsed: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(
        parsed["entries"].as_object().map(|m| m.len()),
        Some(hosts.len()),
        "every registry kept"
    );
}

#[test]
fn a_hanging_api_gives_up_within_the_bound() {
    let sb = Sandbox::new();
    let fake = FakeAws::start(PASSWORD);
    for (fault, what) in [
        (Fault::Hang, "hang"),
        (Fault::Throttle, "throttling"),
        (Fault::ServerError, "500"),
    ] {
        fake.set_fault(fault);
        let start = Instant::now();
        let out = ecr(&sb, &fake, "get", HOST, |c| {
            with_env_creds(c).env("AWS_ECR_TIMEOUT", "2");
        });
        let took = start.elapsed();
        assert_eq!(out.code, 1, "{what}: {out:?}");
        assert_eq!(out.stdout.lines().count(), 1, "{what}: {out:?}");
        assert!(took < Duration::from_secs(5), "{what}: took {took:?}");
    }
}

#[test]
fn imds_down_gives_up_within_the_bound() {
    let sb = Sandbox::new();
    let fake = FakeAws::start(PASSWORD);
    let start = Instant::now();
    let out = ecr(&sb, &fake, "get", HOST, |c| {
        // A port nobody listens on.
        c.env("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9")
            .env("AWS_ECR_TIMEOUT", "3");
    });
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        start.elapsed() < Duration::from_secs(6),
        "took {:?}",
        start.elapsed()
    );
    assert_eq!(fake.token_calls(), 0);
}

#[test]
fn store_erase_and_home_unset() {
    let sb = Sandbox::new();
    let fake = FakeAws::start(PASSWORD);
    let json = format!(r#"{{"ServerURL":"{HOST}","Username":"AWS","Secret":"x"}}"#);
    for (action, stdin) in [("store", json.as_str()), ("erase", HOST)] {
        let out = ecr(&sb, &fake, action, stdin, |_| {});
        assert_eq!(
            (out.code, out.stdout.as_str()),
            (1, "not implemented\n"),
            "{out:?}"
        );
        let out = ecr(&sb, &fake, action, stdin, |c| {
            c.env("AWS_ECR_IGNORE_CREDS_STORAGE", "true");
        });
        assert!(out.ok() && out.stdout.is_empty(), "{out:?}");
    }
    // systemd units and Nomad tasks run without HOME.
    let out = ecr(&sb, &fake, "get", HOST, |c| {
        with_env_creds(c).env_remove("HOME");
    });
    assert_eq!(out.stdout, want(HOST), "{out:?}");
    // No writable log location: run without a log rather than fail.
    let ro = sb.root.join("ro");
    std::fs::create_dir_all(&ro).expect("mkdir");
    integration_tests::sandbox::chmod(&ro, 0o500);
    let out = ecr(&sb, &fake, "get", HOST, |c| {
        with_env_creds(c).env("DOCKER_CREDENTIAL_LOG_FILE", ro.join("sub/x.log"));
    });
    assert_eq!(out.stdout, want(HOST), "{out:?}");
}

#[test]
fn nothing_secret_in_the_log_at_trace_level() {
    let sb = Sandbox::new();
    let fake = FakeAws::start(PASSWORD);
    for url in [HOST, "public.ecr.aws"] {
        let out = ecr(&sb, &fake, "get", url, |c| {
            with_env_creds(c).env("DOCKER_CREDENTIAL_LOG", "trace");
        });
        assert!(out.ok(), "{out:?}");
    }
    let log = log_text(&sb);
    assert!(
        log.contains("cache=\"miss\"") && log.contains(HOST) && log.contains("api_ms"),
        "{log}"
    );
    use base64::Engine;
    let token = base64::engine::general_purpose::STANDARD.encode(format!("AWS:{PASSWORD}"));
    for secret in [PASSWORD, ENV_SECRET, token.as_str()] {
        assert!(!log.contains(secret), "{secret} in the log");
    }
}

/// The access key that signed the last ECR API call.
fn last_api_key(fake: &FakeAws) -> Option<String> {
    fake.seen()
        .into_iter()
        .rev()
        .find(|s| s.target.is_some())
        .and_then(|s| s.access_key)
}

#[test]
fn every_credential_source_of_the_chain() {
    let sb = Sandbox::new();
    let fake = FakeAws::start(PASSWORD);
    // A role to assume, from the configuration: STS is signed with the env keys, ECR with the role's.
    let config = sb.root.join("ecr-config.json");
    std::fs::write(&config, r#"{"registries": {"*.dkr.ecr.us-east-1.amazonaws.com": {"role_arn": "arn:aws:iam::123456789012:role/pull"}}}"#).expect("write");
    let out = ecr(&sb, &fake, "get", HOST, |c| {
        with_env_creds(c).env("AWS_ECR_CONFIG_FILE", &config);
    });
    assert_eq!(out.stdout, want(HOST), "assume role: {out:?}");
    let sts = fake
        .seen()
        .into_iter()
        .find(|s| s.body.starts_with("Action=AssumeRole&"))
        .expect("an AssumeRole call");
    assert_eq!(sts.access_key.as_deref(), Some(ENV_KEY));
    assert!(
        sts.body
            .contains("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fpull"),
        "{}",
        sts.body
    );
    assert_eq!(
        last_api_key(&fake).as_deref(),
        Some(fake_aws::STS_ACCESS_KEY)
    );

    // Web identity (EKS IRSA): a token file and a role.
    let token_file = sb.root.join("web-identity-token");
    std::fs::write(&token_file, "fake-oidc-token").expect("write");
    let out = ecr(&sb, &fake, "get", HOST, |c| {
        c.env("AWS_WEB_IDENTITY_TOKEN_FILE", &token_file)
            .env("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/irsa");
    });
    assert_eq!(out.stdout, want(HOST), "web identity: {out:?}");
    assert!(
        fake.seen()
            .iter()
            .any(|s| s.body.starts_with("Action=AssumeRoleWithWebIdentity"))
    );

    // Container credentials (ECS tasks).
    let out = ecr(&sb, &fake, "get", HOST, |c| {
        c.env(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            format!("{}/container-creds", fake.url),
        );
    });
    assert_eq!(out.stdout, want(HOST), "container: {out:?}");
    assert_eq!(
        last_api_key(&fake).as_deref(),
        Some(fake_aws::CONTAINER_ACCESS_KEY)
    );

    // credential_process in a profile.
    let script = sb.root.join("creds.sh");
    std::fs::write(&script, "#!/bin/sh\necho '{\"Version\":1,\"AccessKeyId\":\"AKIAPROCESSKEY000001\",\"SecretAccessKey\":\"process-secret\"}'\n").expect("write");
    integration_tests::sandbox::chmod(&script, 0o755);
    std::fs::write(
        sb.root.join("aws/config"),
        format!(
            "[profile proc]\ncredential_process = {}\n",
            script.display()
        ),
    )
    .expect("write");
    let out = ecr(&sb, &fake, "get", HOST, |c| {
        c.env("AWS_PROFILE", "proc");
    });
    assert_eq!(out.stdout, want(HOST), "credential_process: {out:?}");
    assert_eq!(last_api_key(&fake).as_deref(), Some("AKIAPROCESSKEY000001"));
    assert_eq!(fake.token_calls(), 4, "four identities, four cache entries");
    let log = log_text(&sb);
    for secret in [
        "sts-secret-do-not-log",
        "sts-session-token-do-not-log",
        "container-secret-do-not-log",
        "process-secret",
        "fake-oidc-token",
    ] {
        assert!(!log.contains(secret), "{secret} in the log");
    }
}

#[test]
fn region_from_the_host_fips_and_endpoint_overrides() {
    let sb = Sandbox::new();
    let fake = FakeAws::start(PASSWORD);
    // The host's region wins over AWS_REGION.
    let west = "123456789012.dkr.ecr.us-west-2.amazonaws.com";
    let out = ecr(&sb, &fake, "get", west, |c| {
        with_env_creds(c)
            .env("AWS_REGION", "eu-west-1")
            .env("AWS_DEFAULT_REGION", "eu-west-1");
    });
    assert_eq!(out.stdout, want(west), "{out:?}");
    let last = fake.seen().pop().expect("a call");
    assert_eq!(last.region.as_deref(), Some("us-west-2"));
    // A FIPS host with an endpoint override: the override wins (the SDK refuses both).
    let fips = "123456789012.dkr.ecr-fips.us-east-1.amazonaws.com";
    assert_eq!(get_env(&sb, &fake, fips).stdout, want(fips));
    // Service-specific overrides beat the general one (here a dead port).
    for (url, var) in [
        (
            "210987654321.dkr.ecr.us-east-1.amazonaws.com",
            "AWS_ENDPOINT_URL_ECR",
        ),
        ("public.ecr.aws", "AWS_ENDPOINT_URL_ECR_PUBLIC"),
    ] {
        let out = ecr(&sb, &fake, "get", url, |c| {
            with_env_creds(c)
                .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
                .env(var, &fake.url);
        });
        assert_eq!(out.stdout, want(url), "{var}: {out:?}");
    }
}

#[test]
fn disabled_cache_fetches_every_time_and_writes_nothing() {
    let sb = Sandbox::new();
    let fake = FakeAws::start(PASSWORD);
    for _ in 0..2 {
        let out = ecr(&sb, &fake, "get", HOST, |c| {
            with_env_creds(c).env("AWS_ECR_DISABLE_CACHE", "true");
        });
        assert_eq!(out.stdout, want(HOST), "{out:?}");
    }
    assert_eq!(fake.token_calls(), 2);
    assert!(!sb.ecr_dir().join("token-cache.json").exists());
}

#[test]
fn the_shipped_tls_stack_talks_to_an_https_endpoint() {
    need!("python3", "openssl");
    let sb = Sandbox::new();
    let fake = FakeAws::start(PASSWORD);
    let tls = integration_tests::aws_peers::TlsProxy::start_direct(&sb, &fake.url);
    let out = ecr(&sb, &fake, "get", HOST, |c| {
        // rustls trusts the system roots, and SSL_CERT_FILE names them.
        with_env_creds(c)
            .env("AWS_ENDPOINT_URL", &tls.url)
            .env("SSL_CERT_FILE", &tls.ca);
    });
    assert_eq!(out.stdout, want(HOST), "{out:?}");
    assert_eq!(fake.token_calls(), 1);
    // And an endpoint whose certificate we do not trust is refused.
    let out = ecr(
        &sb,
        &fake,
        "get",
        "210987654321.dkr.ecr.us-east-1.amazonaws.com",
        |c| {
            with_env_creds(c)
                .env("AWS_ENDPOINT_URL", &tls.url)
                .env("AWS_ECR_TIMEOUT", "3");
        },
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        fake.token_calls(),
        1,
        "nothing reached the fake over an untrusted connection"
    );
}

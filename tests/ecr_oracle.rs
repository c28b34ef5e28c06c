//! docker-credential-ecr-login next to Debian's Go amazon-ecr-credential-helper (0.6.0), the
//! oracle for output and error text, and moto for one realism check (SigV4).

use std::process::Command;

use integration_tests::aws_peers::{Moto, TlsProxy};
use integration_tests::fake_aws::FakeAws;
use integration_tests::peers::{have_moto, oracle};
use integration_tests::sandbox::helper;
use integration_tests::{Out, Sandbox, need, need_oracle, run};

const HOST: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
const PASSWORD: &str = "oracle-token-pw";

fn creds(cmd: &mut Command) -> &mut Command {
    cmd.env("AWS_ACCESS_KEY_ID", "AKIAORACLEKEY0000001")
        .env("AWS_SECRET_ACCESS_KEY", "oracle-secret")
}

fn go(sb: &Sandbox, fake: &FakeAws, proxy: &TlsProxy, action: &str, stdin: &str) -> Out {
    let go = oracle("ecr-login").unwrap_or_else(|why| panic!("{why} (checked by need_oracle!)"));
    let mut cmd = sb.ecr_cmd(fake, go);
    creds(cmd.arg(action))
        .env("HTTPS_PROXY", &proxy.url)
        .env("AWS_CA_BUNDLE", &proxy.ca)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ECR_CACHE_DIR", sb.root.join("go-ecr"));
    run(cmd, stdin)
}

fn ours(sb: &Sandbox, fake: &FakeAws, action: &str, stdin: &str) -> Out {
    let mut cmd = sb.ecr_cmd(fake, helper("ecr-login"));
    creds(cmd.arg(action));
    run(cmd, stdin)
}

#[test]
fn answers_like_the_go_helper() {
    need!("python3", "openssl");
    need_oracle!("ecr-login");
    let sb = Sandbox::new();
    let fake = FakeAws::start(PASSWORD);
    let proxy = TlsProxy::start(&sb, &fake.url);
    for url in [HOST, &format!("https://{HOST}"), "public.ecr.aws"] {
        let (g, o) = (
            go(&sb, &fake, &proxy, "get", url),
            ours(&sb, &fake, "get", url),
        );
        assert!(
            g.ok(),
            "the Go helper reached the fake through the proxy: {g:?}"
        );
        assert_eq!(o.stdout, g.stdout, "get {url}");
    }
    assert_eq!(
        fake.token_calls(),
        4,
        "one fetch per service each, then each helper's cache"
    );
    let request = fake
        .seen()
        .into_iter()
        .filter(|s| s.target.is_some())
        .map(|s| s.body)
        .collect::<Vec<_>>();
    assert_eq!(
        request[0], request[1],
        "the same GetAuthorizationToken request body as Go"
    );
    // Go's list also calls the API (the default registry, ECR Public); ours lists the cache
    // only, in the same format: every registry ours lists, Go lists the same way.
    let (g, o) = (
        go(&sb, &fake, &proxy, "list", ""),
        ours(&sb, &fake, "list", ""),
    );
    let (g, o): (serde_json::Value, serde_json::Value) = (
        serde_json::from_str(&g.stdout).expect("Go list"),
        serde_json::from_str(&o.stdout).expect("our list"),
    );
    assert_eq!(
        o,
        serde_json::json!({format!("https://{HOST}"): "AWS", "https://public.ecr.aws": "AWS"})
    );
    for (registry, user) in o.as_object().expect("object") {
        assert_eq!(&g[registry], user, "{g}");
    }
    for (action, stdin) in [
        ("get", "index.docker.io"),
        ("get", "127.0.0.1:5000"),
        ("store", r#"{"ServerURL":"h","Username":"u","Secret":"s"}"#),
        ("erase", HOST),
    ] {
        let (g, o) = (
            go(&sb, &fake, &proxy, action, stdin),
            ours(&sb, &fake, action, stdin),
        );
        assert_eq!(
            (o.code, o.stdout.as_str()),
            (g.code, g.stdout.as_str()),
            "{action} {stdin}"
        );
    }
}

#[test]
fn moto_accepts_our_signed_requests() {
    need!("openssl");
    if !have_moto(module_path!()) {
        return;
    }
    let sb = Sandbox::new();
    let moto = Moto::start(&sb);
    // A cache that already holds one token (from the fake, for another registry), so that what
    // moto's get does to the cache file shows in the file, not in its absence.
    let fake = FakeAws::start("seeded");
    let seeded = "210987654321.dkr.ecr.us-east-1.amazonaws.com";
    let out = ours(&sb, &fake, "get", seeded);
    assert!(out.ok(), "seeding the cache from the fake: {out:?}");
    let cache_file = sb.ecr_dir().join("token-cache.json");
    let before = std::fs::read_to_string(&cache_file).expect("the seeded cache file");
    assert_eq!(
        cache_entries(&before),
        [(
            "ecr",
            "https://210987654321.dkr.ecr.us-east-1.amazonaws.com".to_string()
        )],
        "{before}"
    );
    let seen = fake.seen().len();
    // Point the fake-oriented environment at moto instead.
    let run_with = |setup: &dyn Fn(&mut Command)| {
        let mut cmd = sb.ecr_cmd(&fake, helper("ecr-login"));
        cmd.arg("get")
            .env("AWS_ENDPOINT_URL", &moto.url)
            .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &moto.url);
        setup(&mut cmd);
        run(cmd, HOST)
    };
    let want = format!(
        "{{\"ServerURL\":\"{HOST}\",\"Username\":\"AWS\",\"Secret\":\"123456789012-auth-token\"}}\n"
    );
    let out = run_with(&|c| {
        c.env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing");
    });
    assert_eq!(out.stdout, want, "env credentials: {out:?}");
    // moto's IMDSv2 token answer lacks the TTL header aws-config requires, so the instance-role
    // path is tested against the fake (ecr_login.rs) instead.
    assert_eq!(fake.seen().len(), seen, "everything went to moto");
    // moto's tokens expire in 2015: served (ECR just issued them) but never cached. The cache
    // file is the seeded one, untouched.
    let after = std::fs::read_to_string(&cache_file).expect("the cache file");
    assert_eq!(after, before, "moto's expired token was not cached");
}

/// The cache file's entries as (service, proxy endpoint), after checking its format: version 1,
/// every entry with exactly the fields the helper writes.
fn cache_entries(text: &str) -> Vec<(&'static str, String)> {
    let doc: serde_json::Value = serde_json::from_str(text).expect("the cache is JSON");
    assert_eq!(doc["version"], 1, "{text}");
    let entries = doc["entries"].as_object().expect("an entries object");
    entries
        .values()
        .map(|e| {
            let e = e.as_object().expect("an entry object");
            let mut fields: Vec<&str> = e.keys().map(String::as_str).collect();
            fields.sort_unstable();
            assert_eq!(
                fields,
                [
                    "expires_at",
                    "proxy_endpoint",
                    "requested_at",
                    "service",
                    "token"
                ],
                "{text}"
            );
            let service = match e["service"].as_str() {
                Some("ecr") => "ecr",
                Some("ecr-public") => "ecr-public",
                other => panic!("service {other:?}: {text}"),
            };
            let endpoint = e["proxy_endpoint"].as_str().expect("proxy_endpoint");
            (service, endpoint.to_string())
        })
        .collect()
}

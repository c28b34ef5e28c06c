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
    // Point the fake-oriented environment at moto instead.
    let fake = FakeAws::start("unused");
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
    assert!(fake.seen().is_empty(), "everything went to moto");
    // moto's tokens expire in 2015: served (ECR just issued them) but never cached.
    let cache = std::fs::read_to_string(sb.ecr_dir().join("token-cache.json")).unwrap_or_default();
    assert!(!cache.contains("123456789012 us-east-1"), "{cache}");
}

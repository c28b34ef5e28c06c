//! docker-credential-ecr-login as the kubelet's image credential provider plugin, against the
//! project's fake of ECR, ECR Public and STS. Requests are written, and every response decoded,
//! by `tests/kubelet/oracle.go`: the kubelet's own encoding, its strict decoder
//! (sigs.k8s.io/json's UnmarshalStrict) and its match rules, built with Debian's Go.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use integration_tests::fake_aws::{self, FakeAws, Fault};
use integration_tests::peers::ci;
use integration_tests::proc::read;
use integration_tests::sandbox::helper;
use integration_tests::{Out, Sandbox, run};

const ARG: &str = "kubelet-credential-provider";
const V1: &str = "credentialprovider.kubelet.k8s.io/v1";
const V1BETA1: &str = "credentialprovider.kubelet.k8s.io/v1beta1";
const V1ALPHA1: &str = "credentialprovider.kubelet.k8s.io/v1alpha1";
const HOST: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
const PASSWORD: &str = "kubelet-token-Zq81";
const NODE_KEY: &str = "AKIANODEKEYFORKUBELT";
const ROLE_ANNOTATION: &str = "eks.amazonaws.com/ecr-role-arn";
/// The fake's tokens live 12 h; the kubelet should keep them for half of that.
const HALF_LIFE: i64 = 6 * 3600;

/// Where Debian's golang-k8s-sigs-json-dev puts sigs.k8s.io/json for GOPATH mode.
const GOPATH: &str = "/usr/share/gocode";

/// The kubelet's side, built once per test run.
struct Oracle(PathBuf);

/// What the oracle read in a response.
#[derive(Debug)]
struct Decoded {
    cache_key_type: String,
    /// `cacheDuration` in seconds; -1 if absent.
    cache_seconds: i64,
    /// The auth key that matched the image.
    key: String,
    keys: usize,
    username: String,
    password: String,
}

impl Oracle {
    /// The oracle, built from `tests/kubelet/oracle.go` with Debian's Go; `None` (after a loud
    /// skip; a failure under CI) when Go or sigs.k8s.io/json is not installed.
    fn get(test: &str) -> Option<Oracle> {
        static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
        let built = BUILT.get_or_init(|| {
            if !Path::new(GOPATH).join("src/sigs.k8s.io/json").is_dir() {
                return Err(format!(
                    "{GOPATH}/src/sigs.k8s.io/json is missing: install golang-go and golang-k8s-sigs-json-dev (tests/run.sh does)"
                ));
            }
            // Beside the test binary: target/<profile>/kubelet-oracle.
            let exe = std::env::current_exe().map_err(|e| e.to_string())?;
            let dir = exe
                .parent()
                .and_then(Path::parent)
                .ok_or("no target dir")?
                .to_path_buf();
            let out = dir.join("kubelet-oracle");
            let tmp = dir.join(format!("kubelet-oracle.tmp-{}", std::process::id()));
            let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("kubelet/oracle.go");
            let mut cmd = Command::new("go");
            cmd.args(["build", "-o"])
                .arg(&tmp)
                .arg(&source)
                .env("GO111MODULE", "off")
                .env("GOPATH", GOPATH)
                .env("GOFLAGS", "")
                .env("GOCACHE", dir.join("go-cache"));
            let built = integration_tests::run_timed(cmd, b"", Duration::from_secs(300))?;
            if !built.ok() {
                return Err(format!("go build {}: {built:?}", source.display()));
            }
            std::fs::rename(&tmp, &out).map_err(|e| e.to_string())?;
            Ok(out)
        });
        match built {
            Ok(path) => Some(Oracle(path.clone())),
            Err(why) => {
                assert!(!ci(), "{test}: {why}");
                #[expect(
                    clippy::print_stderr,
                    reason = "a skip is said aloud, as peers.rs does"
                )]
                {
                    eprintln!("SKIPPED {test}: {why}");
                }
                None
            }
        }
    }

    fn run(&self, args: &[&str], stdin: &str) -> Out {
        let mut cmd = Command::new(&self.0);
        cmd.args(args);
        run(cmd, stdin)
    }

    /// A request as the kubelet encodes it for `version`; in v1 with a service account's token and
    /// annotations when given.
    fn request(&self, version: &str, image: &str, sa: Option<(&str, &[(&str, &str)])>) -> String {
        let mut args = vec!["request".to_string(), version.into(), image.into()];
        if let Some((token, annotations)) = sa {
            args.push(token.into());
            args.extend(annotations.iter().map(|(k, v)| format!("{k}={v}")));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = self.run(&args, "");
        assert!(out.ok(), "oracle request: {out:?}");
        out.stdout
    }

    /// Our response decoded as the kubelet decodes it, and the image looked up in its auth keys.
    fn response(&self, version: &str, image: &str, stdout: &str) -> Result<Decoded, String> {
        let out = self.run(&["response", version, image], stdout);
        if !out.ok() {
            return Err(out.stderr);
        }
        let v: serde_json::Value = serde_json::from_str(&out.stdout).map_err(|e| e.to_string())?;
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        Ok(Decoded {
            cache_key_type: s("cacheKeyType"),
            cache_seconds: v["cacheSeconds"].as_i64().unwrap_or(-2),
            key: s("key"),
            keys: v["keys"].as_u64().unwrap_or(0) as usize,
            username: s("username"),
            password: s("password"),
        })
    }

    /// The matchImages pattern that makes the kubelet run the plugin for `image`, if one does.
    fn matching_pattern(&self, image: &str, patterns: &[String]) -> Option<String> {
        let mut args = vec!["matches", image];
        args.extend(patterns.iter().map(String::as_str));
        let out = self.run(&args, "");
        out.ok().then(|| out.stdout.trim().to_string())
    }
}

/// Runs the plugin as the kubelet does: `<bin-dir>/docker-credential-ecr-login
/// kubelet-credential-provider`, the request on stdin.
fn plugin(sb: &Sandbox, fake: &FakeAws, request: &str, setup: impl FnOnce(&mut Command)) -> Out {
    let mut cmd = sb.ecr_cmd(fake, helper("ecr-login"));
    cmd.arg(ARG);
    setup(&mut cmd);
    run(cmd, request)
}

fn node_creds(cmd: &mut Command) -> &mut Command {
    cmd.env("AWS_ACCESS_KEY_ID", NODE_KEY)
        .env("AWS_SECRET_ACCESS_KEY", "node-secret-do-not-log")
}

/// A failed call as the kubelet needs it: exit 1, nothing on stdout, one line on stderr.
#[track_caller]
fn assert_one_line_failure(out: &Out, words: &str) {
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        out.stdout, "",
        "stdout holds the response and nothing else: {out:?}"
    );
    assert!(
        out.stderr.ends_with('\n') && out.stderr.trim_end().lines().count() == 1,
        "one line: {out:?}"
    );
    assert!(out.stderr.contains(words), "want {words:?}: {out:?}");
    assert!(!out.stderr.contains("panicked"), "{out:?}");
}

/// Every host name form `get` accepts: private registries in each partition, plain and FIPS, the
/// dual-stack `dkr-ecr` names, and ECR Public.
fn host_forms() -> Vec<String> {
    let suffixes = [
        ("us-east-1", "amazonaws.com"),
        ("cn-north-1", "amazonaws.com.cn"),
        ("us-west-2", "on.aws"),
        ("cn-northwest-1", "on.amazonwebservices.com.cn"),
        ("us-iso-east-1", "c2s.ic.gov"),
        ("us-isob-east-1", "sc2s.sgov.gov"),
        ("eu-isoe-west-1", "cloud.adc-e.uk"),
        ("us-isof-south-1", "csp.hci.ic.gov"),
        ("eusc-de-east-1", "amazonaws.eu"),
    ];
    let mut hosts = Vec::new();
    for (region, suffix) in suffixes {
        for service in ["dkr.ecr", "dkr.ecr-fips", "dkr-ecr", "dkr-ecr-fips"] {
            hosts.push(format!("123456789012.{service}.{region}.{suffix}"));
        }
    }
    hosts.extend([
        "public.ecr.aws".to_string(),
        "ecr-public.aws.com".to_string(),
    ]);
    hosts
}

/// The `matchImages` of `packaging/kubernetes/credential-provider-config.yaml`.
fn match_images() -> Vec<String> {
    let yaml = read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../packaging/kubernetes/credential-provider-config.yaml"),
    );
    let mut patterns = Vec::new();
    let mut inside = false;
    for line in yaml.lines() {
        let t = line.trim();
        if t.starts_with('#') {
            continue;
        }
        if t == "matchImages:" {
            inside = true;
        } else if inside && let Some(item) = t.strip_prefix("- ") {
            patterns.push(item.trim_matches('"').to_string());
        } else if inside {
            inside = false;
        }
    }
    assert!(
        yaml.contains("name: docker-credential-ecr-login")
            && yaml.contains(r#"args: ["kubelet-credential-provider"]"#)
            && yaml.contains(&format!("apiVersion: {V1}")),
        "the provider as the README names it"
    );
    patterns
}

#[test]
fn every_host_form_gets_a_response_the_kubelet_decodes_and_matches() {
    let Some(oracle) = Oracle::get(module_path!()) else {
        return;
    };
    let sb = Sandbox::new();
    let fake = FakeAws::start(PASSWORD);
    let patterns = match_images();
    let mut images: Vec<(String, String)> = host_forms()
        .into_iter()
        .map(|h| (format!("{h}/team/app:1.0"), h))
        .collect();
    // With a port (the kubelet keys the registry with it) and a digest.
    images.push((
        format!("{HOST}:443/team/app@sha256:{}", "a".repeat(64)),
        format!("{HOST}:443"),
    ));
    for (image, registry) in &images {
        let out = plugin(&sb, &fake, &oracle.request(V1, image, None), |c| {
            node_creds(c);
        });
        assert!(out.ok() && out.stderr.is_empty(), "{image}: {out:?}");
        let got = oracle
            .response(V1, image, &out.stdout)
            .unwrap_or_else(|e| panic!("{image}: the kubelet would drop {}: {e}", out.stdout));
        assert_eq!(
            (got.cache_key_type.as_str(), got.key.as_str(), got.keys),
            ("Registry", registry.as_str(), 1),
            "{image}"
        );
        assert_eq!(
            (got.username.as_str(), got.password.as_str()),
            ("AWS", PASSWORD)
        );
        // Half the 12 h token's life, when our cache would refresh it (a few seconds went by).
        assert!(
            (HALF_LIFE - 30..=HALF_LIFE).contains(&got.cache_seconds),
            "{image}: cacheDuration {} s",
            got.cache_seconds
        );
        // The packaged matchImages make the kubelet run the plugin for it.
        let bare = image.replacen(":443", "", 1);
        assert!(
            oracle.matching_pattern(&bare, &patterns).is_some(),
            "{bare}: no matchImages entry in packaging/kubernetes matches"
        );
    }
    // One call per token: per region and FIPS-ness (dkr.ecr and dkr-ecr name one registry, and
    // so does the :443 form), and one for both ECR Public names.
    assert_eq!(fake.token_calls(), 9 * 2 + 1);
    // Images that are not ECR's are not the plugin's.
    for image in [
        "nginx:latest",
        "docker.io/library/nginx:1",
        "registry.example.com:5000/team/app",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example/app",
        "evil.example/123456789012.dkr.ecr.us-east-1.amazonaws.com/app",
    ] {
        assert_eq!(oracle.matching_pattern(image, &patterns), None, "{image}");
    }
    // Older kubelets: answered in the version they asked in.
    for version in [V1BETA1, V1ALPHA1] {
        let image = format!("{HOST}/team/app:2");
        let out = plugin(&sb, &fake, &oracle.request(version, &image, None), |c| {
            node_creds(c);
        });
        let got = oracle.response(version, &image, &out.stdout);
        assert!(
            got.is_ok_and(|d| d.password == PASSWORD),
            "{version}: {out:?}"
        );
        // And a kubelet configured for v1 drops a v1alpha1 answer: the oracle is strict.
        assert!(oracle.response(V1, &image, &out.stdout).is_err());
    }
}

#[test]
fn the_oracle_rejects_what_the_kubelet_rejects() {
    // A test of the test: each of these responses the kubelet drops, so must the oracle.
    let Some(oracle) = Oracle::get(module_path!()) else {
        return;
    };
    let image = format!("{HOST}/app:1");
    let ok = format!(
        r#"{{"kind":"CredentialProviderResponse","apiVersion":"{V1}","cacheKeyType":"Registry","cacheDuration":"6h0m0s","auth":{{"{HOST}":{{"username":"AWS","password":"p"}}}}}}"#
    );
    assert!(oracle.response(V1, &image, &ok).is_ok(), "the control case");
    for (bad, why) in [
        (
            ok.replace("cacheKeyType", "CacheKeyType"),
            "case-sensitive names",
        ),
        (
            ok.replace(r#""cacheDuration""#, r#""expiresAt":1,"cacheDuration""#),
            "unknown field",
        ),
        (ok.replace("Registry", "Host"), "cacheKeyType"),
        (ok.replace("6h0m0s", "6 hours"), "Go duration"),
        (ok.replace(r#""6h0m0s""#, "21600"), "duration as a number"),
        (
            ok.replace("CredentialProviderResponse", "CredentialProviderRequest"),
            "kind",
        ),
        (ok.replace(V1, V1ALPHA1), "apiVersion"),
        (
            ok.replace(&format!("\"{HOST}\""), &format!("\"{HOST}:5000\"")),
            "port",
        ),
        (
            ok.replace(
                &format!("\"{HOST}\""),
                "\"*.dkr.ecr.us-east-1.amazonaws.com/other\"",
            ),
            "path",
        ),
        (
            ok.replace(r#""username""#, r#""username":"x","username""#),
            "duplicate field",
        ),
    ] {
        assert!(oracle.response(V1, &image, &bad).is_err(), "{why}: {bad}");
    }
    // Globs: one label each; the path is a prefix; the port must match.
    let m = |image: &str, p: &str| oracle.matching_pattern(image, &[p.to_string()]).is_some();
    assert!(m(&image, "*.dkr.ecr.*.amazonaws.com"));
    assert!(!m(&image, "*.amazonaws.com"));
    assert!(m(&image, &format!("{HOST}/app")));
    assert!(!m(&image, &format!("{HOST}/other")));
    assert!(!m(&format!("{HOST}:5000/app"), HOST));
}

#[test]
fn a_hit_makes_no_request_and_the_docker_protocol_shares_the_cache() {
    let Some(oracle) = Oracle::get(module_path!()) else {
        return;
    };
    let sb = Sandbox::new();
    let fake = FakeAws::start(PASSWORD);
    let image = format!("{HOST}/team/app:1");
    let request = oracle.request(V1, &image, None);
    assert!(
        plugin(&sb, &fake, &request, |c| {
            node_creds(c);
        })
        .ok()
    );
    assert_eq!(fake.token_calls(), 1);
    let before = fake.seen().len();
    for image in [
        image.clone(),
        format!("{HOST}/other/app@sha256:{}", "b".repeat(64)),
    ] {
        let out = plugin(&sb, &fake, &oracle.request(V1, &image, None), |c| {
            node_creds(c);
        });
        assert!(oracle.response(V1, &image, &out.stdout).is_ok(), "{out:?}");
    }
    // docker's `get` and the plugin read one cache.
    let mut cmd = sb.ecr_cmd(&fake, helper("ecr-login"));
    node_creds(&mut cmd).arg("get");
    let out = run(cmd, HOST);
    assert!(out.stdout.contains(PASSWORD), "{out:?}");
    assert_eq!(
        fake.seen().len(),
        before,
        "hits make no request at all: {:?}",
        &fake.seen()[before..]
    );
    let log = read(sb.ecr_dir().join("log/ecr-login.log"));
    assert!(
        log.contains("action=\"kubelet\"") && log.contains("cache=\"hit\"") && log.contains(&image),
        "{log}"
    );
}

#[test]
fn thirty_two_concurrent_cold_calls_make_one_api_call() {
    let Some(oracle) = Oracle::get(module_path!()) else {
        return;
    };
    let sb = Sandbox::new();
    let fake = FakeAws::start(PASSWORD);
    // Slow enough that all 32 are waiting while the first one fetches.
    fake.set_fault(Fault::Delay(Duration::from_millis(300)));
    let image = format!("{HOST}/team/app:1");
    let request = oracle.request(V1, &image, None);
    let start = Instant::now();
    let children: Vec<_> = (0..32)
        .map(|_| {
            let mut cmd = sb.ecr_cmd(&fake, helper("ecr-login"));
            node_creds(&mut cmd).arg(ARG);
            let request = request.clone();
            std::thread::spawn(move || run(cmd, request))
        })
        .collect();
    for child in children {
        let out = child.join().expect("thread");
        let got = oracle.response(V1, &image, &out.stdout);
        assert!(got.is_ok_and(|d| d.password == PASSWORD), "{out:?}");
    }
    assert_eq!(fake.token_calls(), 1, "one API call for 32 cold calls");
    #[expect(clippy::print_stderr, reason = "the figure goes in RELIABILITY.md")]
    {
        eprintln!(
            "32 concurrent cold plugin calls: 1 API call, {:?} for all",
            start.elapsed()
        );
    }
}

#[test]
fn a_non_ecr_image_fails_at_once_with_one_line() {
    let sb = Sandbox::new();
    let fake = FakeAws::start(PASSWORD);
    for image in [
        "nginx:latest",
        "docker.io/library/nginx:1",
        "registry.example.com:5000/team/app",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example/app",
        "evil.example@123456789012.dkr.ecr.us-east-1.amazonaws.com/app",
    ] {
        let request = format!(
            r#"{{"kind":"CredentialProviderRequest","apiVersion":"{V1}","image":"{image}"}}"#
        );
        let out = plugin(&sb, &fake, &request, |c| {
            node_creds(c);
        });
        assert_one_line_failure(
            &out,
            &format!("{image}: not an Amazon ECR or ECR Public image"),
        );
        assert!(out.elapsed < Duration::from_secs(2), "{out:?}");
    }
    assert!(fake.seen().is_empty(), "no request for what is not ECR's");
}

#[test]
fn an_outage_or_no_credentials_fails_within_the_bound_with_one_line() {
    let sb = Sandbox::new();
    let fake = FakeAws::start(PASSWORD);
    let request = format!(
        r#"{{"kind":"CredentialProviderRequest","apiVersion":"{V1}","image":"{HOST}/app:1"}}"#
    );
    fake.set_fault(Fault::Hang);
    let out = plugin(&sb, &fake, &request, |c| {
        node_creds(c).env("AWS_ECR_TIMEOUT", "2");
    });
    assert_one_line_failure(&out, &format!("no token for {HOST} within 2 s"));
    // The bound, the policy's 1.5 s of slack, and a debug build's start-up.
    assert!(out.elapsed < Duration::from_millis(4500), "{out:?}");
    #[expect(clippy::print_stderr, reason = "the figure goes in RELIABILITY.md")]
    {
        eprintln!(
            "a plugin call against a hanging API, AWS_ECR_TIMEOUT=2: {:?}",
            out.elapsed
        );
    }
    // (The default bound: the SDK's three tries back off for up to 3 s in all.)
    fake.set_fault(Fault::ServerError);
    let out = plugin(&sb, &fake, &request, |c| {
        node_creds(c);
    });
    assert_one_line_failure(&out, "ServerException");
    // No credentials at all: no keys, no profile, IMDS switched off.
    fake.set_fault(Fault::None);
    let calls = fake.token_calls();
    let out = plugin(&sb, &fake, &request, |c| {
        c.env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ECR_TIMEOUT", "2");
    });
    assert_one_line_failure(&out, &format!("ecr GetAuthorizationToken for {HOST}"));
    assert!(out.elapsed < Duration::from_millis(4500), "{out:?}");
    assert_eq!(fake.token_calls(), calls, "no call without credentials");
}

#[test]
fn bad_requests_fail_with_one_line_and_never_echo_the_token() {
    let sb = Sandbox::new();
    let fake = FakeAws::start(PASSWORD);
    let token = "eyJhbGciOiJSUzI1NiJ9.VERY-SECRET-PAYLOAD.sig";
    let head = format!(r#""kind":"CredentialProviderRequest","apiVersion":"{V1}""#);
    for (request, words) in [
        ("".to_string(), "the JSON ends early"),
        ("GET / HTTP/1.1".to_string(), "not JSON"),
        (format!(r#"{{{head}}}"#), "names no image"),
        (
            format!(
                r#"{{"kind":"CredentialProviderRequest","apiVersion":"v1","image":"{HOST}/a"}}"#
            ),
            "apiVersion \"v1\" is not one",
        ),
        (
            format!(r#"{{{head},"image":"{HOST}/a","serviceAccountToken":{{"t":"{token}"}}}}"#),
            "a field of the wrong type",
        ),
        (
            format!(
                r#"{{{head},"image":"{HOST}/a","serviceAccountToken":"{token}","serviceAccountAnnotations":{{"{ROLE_ANNOTATION}":"admin"}}}}"#
            ),
            "is not an IAM role ARN",
        ),
        (
            format!(
                r#"{{{head},"image":"{HOST}/a","serviceAccountToken":"{token}","serviceAccountAnnotations":{{"{ROLE_ANNOTATION}":"arn:aws:iam::123456789012:role/r"}}}}"#
            ),
            "not a service account's JWT",
        ),
    ] {
        let out = plugin(&sb, &fake, &request, |c| {
            node_creds(c);
        });
        assert_one_line_failure(&out, words);
        assert!(!out.stderr.contains("SECRET-PAYLOAD"), "{out:?}");
    }
    // Arguments the kubelet's configuration should not give.
    let mut cmd = sb.ecr_cmd(&fake, helper("ecr-login"));
    cmd.args([ARG, "--verbose"]);
    assert_one_line_failure(&run(cmd, ""), "unexpected argument \"--verbose\"");
    // A caller that never closes stdin gets an answer within the bound, not a plugin that waits.
    let mut cmd = sb.ecr_cmd(&fake, helper("ecr-login"));
    cmd.arg(ARG)
        .env("AWS_ECR_TIMEOUT", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd.spawn().expect("spawn");
    let _open_stdin = child.stdin.take();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the plugin answered although stdin stayed open")
        .expect("wait");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("no CredentialProviderRequest on stdin within 1 s")
    );
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert!(fake.seen().is_empty());
}

/// A service account's token as the API server issues it: a JWT whose claims name the account.
fn sa_token(namespace: &str, name: &str) -> String {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let claims = serde_json::json!({
        "aud": ["sts.amazonaws.com"], "exp": 4_102_444_800_u64,
        "iss": "https://oidc.eks.us-east-1.amazonaws.com/id/FAKECLUSTER",
        "sub": format!("system:serviceaccount:{namespace}:{name}"),
        "kubernetes.io": {"namespace": namespace, "pod": {"name": "p", "uid": "pod-uid-1"},
                          "serviceaccount": {"name": name, "uid": format!("uid-of-{namespace}-{name}")}},
    });
    format!(
        "{}.{}.{}",
        b64(r#"{"alg":"RS256","kid":"fake"}"#),
        b64(&claims.to_string()),
        b64(&format!("signature-of-{namespace}-{name}-do-not-leak"))
    )
}

/// The access key that signed the last ECR API call.
fn last_ecr_key(fake: &FakeAws) -> Option<String> {
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

#[test]
fn service_account_tokens_fetch_as_their_own_roles_and_never_leak() {
    let Some(oracle) = Oracle::get(module_path!()) else {
        return;
    };
    let sb = Sandbox::new();
    let fake = FakeAws::start(PASSWORD);
    let role_a = "arn:aws:iam::123456789012:role/team-a-pull";
    let role_b = "arn:aws:iam::123456789012:role/team-b-pull";
    let (token_a, token_b) = (sa_token("team-a", "puller"), sa_token("team-b", "puller"));
    // Each role trusts its own team's service account only.
    fake.trust_web_identity(role_a, &token_a);
    fake.trust_web_identity(role_b, &token_b);
    let image = format!("{HOST}/shared/app:1");
    let call = |token: &str, role: Option<&str>| {
        let annotations: Vec<(&str, &str)> =
            role.map(|r| (ROLE_ANNOTATION, r)).into_iter().collect();
        let request = oracle.request(V1, &image, Some((token, &annotations)));
        // The node has credentials of its own: they must play no part for a pod with a role.
        plugin(&sb, &fake, &request, |c| {
            node_creds(c).env("DOCKER_CREDENTIAL_LOG", "trace");
        })
    };
    for (token, role) in [(&token_a, role_a), (&token_b, role_b)] {
        let before = fake.token_calls();
        let out = call(token, Some(role));
        let got = oracle.response(V1, &image, &out.stdout);
        assert!(got.is_ok_and(|d| d.password == PASSWORD), "{role}: {out:?}");
        assert_eq!(fake.token_calls(), before + 1, "{role}: its own token");
        assert_eq!(
            last_ecr_key(&fake),
            Some(fake_aws::web_identity_key(role)),
            "the ECR call is signed by {role}"
        );
        let exchange = fake
            .seen()
            .into_iter()
            .rfind(|s| s.web_identity.is_some())
            .expect("an AssumeRoleWithWebIdentity");
        assert_eq!(
            exchange.web_identity,
            Some((role.to_string(), token.clone()))
        );
        assert_eq!(
            exchange.access_key, None,
            "the exchange is unsigned: the node's key plays no part"
        );
    }
    assert_ne!(
        fake_aws::web_identity_key(role_a),
        fake_aws::web_identity_key(role_b)
    );
    // Both are hits now: no request at all.
    let before = fake.seen().len();
    for (token, role) in [(&token_a, role_a), (&token_b, role_b)] {
        assert!(call(token, Some(role)).ok());
    }
    assert_eq!(fake.seen().len(), before, "{:?}", &fake.seen()[before..]);
    // Another team's service account naming team A's role is not served team A's cached token:
    // STS decides, and refuses it.
    let token_c = sa_token("team-c", "intruder");
    let out = call(&token_c, Some(role_a));
    assert_one_line_failure(
        &out,
        &format!("sts AssumeRoleWithWebIdentity for {role_a}: AccessDenied"),
    );
    assert!(!out.stderr.contains(&token_c));
    assert_eq!(
        fake.web_identity_calls().last(),
        Some(&(role_a.to_string(), token_c.clone()))
    );
    // A service account without the annotation pulls as the node, and its token goes nowhere.
    let calls = fake.web_identity_calls().len();
    let token_d = sa_token("team-d", "default");
    let out = call(&token_d, None);
    assert!(oracle.response(V1, &image, &out.stdout).is_ok(), "{out:?}");
    assert_eq!(last_ecr_key(&fake).as_deref(), Some(NODE_KEY));
    assert_eq!(
        fake.web_identity_calls().len(),
        calls,
        "no exchange without a role"
    );

    // While a fetcher runs, no process's argv or environment holds the token.
    let role_e = "arn:aws:iam::123456789012:role/team-e-pull";
    let token_e = sa_token("team-e", "puller");
    fake.set_fault(Fault::Delay(Duration::from_millis(1500)));
    let request = oracle.request(V1, &image, Some((&token_e, &[(ROLE_ANNOTATION, role_e)])));
    let mut cmd = sb.ecr_cmd(&fake, helper("ecr-login"));
    node_creds(&mut cmd).arg(ARG);
    let child = std::thread::spawn(move || run(cmd, request));
    let (mut saw_fetcher, deadline) = (false, Instant::now() + Duration::from_millis(1200));
    while Instant::now() < deadline {
        for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline);
            if !cmdline.contains("docker-credential-ecr-login") {
                continue;
            }
            saw_fetcher |= cmdline.contains("docker-credential-ecr-login-fetch");
            let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
            let environ = String::from_utf8_lossy(&environ);
            assert!(
                !cmdline.contains(&token_e) && !environ.contains(&token_e),
                "{cmdline}"
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.join().expect("thread");
    assert!(out.ok(), "{out:?}");
    assert!(saw_fetcher, "the fetcher was looked at while it ran");
    fake.set_fault(Fault::None);

    // Nothing kept holds a token: not the cache, not the log (at trace), not what was printed.
    let cache = read(sb.ecr_dir().join("token-cache.json"));
    let log = read(sb.ecr_dir().join("log/ecr-login.log"));
    for token in [&token_a, &token_b, &token_c, &token_d, &token_e] {
        let signature = token.rsplit('.').next().expect("signature");
        for (what, text) in [("cache", &cache), ("log", &log)] {
            assert!(!text.contains(token.as_str()), "a token in the {what}");
            assert!(
                !text.contains(signature),
                "a token's signature in the {what}"
            );
        }
    }
    for secret in [
        fake_aws::WEB_IDENTITY_SESSION_TOKEN,
        "sts-secret-do-not-log",
        "node-secret-do-not-log",
    ] {
        assert!(!log.contains(secret) && !cache.contains(secret), "{secret}");
    }
    // The cache keys name the role and the service account, so tokens of different ones never mix.
    for (role, sub) in [
        (role_a, "system:serviceaccount:team-a:puller"),
        (role_b, "system:serviceaccount:team-b:puller"),
        (role_e, "system:serviceaccount:team-e:puller"),
    ] {
        assert!(
            cache.lines().any(|l| l.contains(role) && l.contains(sub)),
            "{role} {sub}: {cache}"
        );
    }
    assert!(log.contains("web-identity-role:"), "{log}");
}

#[test]
fn the_kubelets_exec_shape_through_a_symlinked_bin_dir_with_home_unset() {
    let Some(oracle) = Oracle::get(module_path!()) else {
        return;
    };
    let sb = Sandbox::new();
    let fake = FakeAws::start(PASSWORD);
    // --image-credential-provider-bin-dir holding a link to the installed front: the fetcher is
    // found beside the real binary, not in the bin dir.
    let bin_dir = sb.root.join("credential-provider-bin");
    std::fs::create_dir_all(&bin_dir).expect("mkdir");
    let name = "docker-credential-ecr-login";
    std::os::unix::fs::symlink(helper("ecr-login"), bin_dir.join(name)).expect("symlink");
    let image = format!("{HOST}/team/app:1");
    let request = oracle.request(V1, &image, None);
    let mut cmd = sb.ecr_cmd(&fake, bin_dir.join(name));
    // (The per-registry configuration would default to the passwd home's: keep it ours.)
    node_creds(&mut cmd)
        .arg(ARG)
        .env_remove("HOME")
        .env("AWS_ECR_CONFIG_FILE", sb.root.join("no-ecr-config.json"));
    let out = run(cmd, &request);
    assert!(oracle.response(V1, &image, &out.stdout).is_ok(), "{out:?}");
    assert!(sb.ecr_dir().join("token-cache.json").is_file());
    // A copy instead of a link has no fetcher beside it: one line that says so.
    let copy_dir = sb.root.join("copied-bin");
    std::fs::create_dir_all(&copy_dir).expect("mkdir");
    std::fs::copy(helper("ecr-login"), copy_dir.join(name)).expect("copy");
    let mut cmd = sb.ecr_cmd(&fake, copy_dir.join(name));
    node_creds(&mut cmd)
        .arg(ARG)
        .env("AWS_ECR_DISABLE_CACHE", "true");
    assert_one_line_failure(
        &run(cmd, &request),
        "docker-credential-ecr-login-fetch is missing",
    );
}

#[test]
fn an_alias_is_answered_under_its_own_name_with_its_registrys_token() {
    let Some(oracle) = Oracle::get(module_path!()) else {
        return;
    };
    let sb = Sandbox::new();
    let fake = FakeAws::start(PASSWORD);
    // A mirror with a port, mapped to the ECR registry whose token it takes (~/.ecr/config.json).
    let config = sb.root.join("ecr.json");
    std::fs::write(
        &config,
        format!(r#"{{"registries": {{"mirror.example.com:5000": {{"alias": "{HOST}"}}}}}}"#),
    )
    .expect("write");
    let image = "mirror.example.com:5000/team/app:1";
    let out = plugin(&sb, &fake, &oracle.request(V1, image, None), |c| {
        node_creds(c).env("AWS_ECR_CONFIG_FILE", &config);
    });
    let got = oracle
        .response(V1, image, &out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {out:?}"));
    assert_eq!(
        (got.key.as_str(), got.password.as_str()),
        ("mirror.example.com:5000", PASSWORD)
    );
    // The registry's own name then hits the same token.
    let before = fake.seen().len();
    let image = format!("{HOST}/team/app:1");
    let out = plugin(&sb, &fake, &oracle.request(V1, &image, None), |c| {
        node_creds(c).env("AWS_ECR_CONFIG_FILE", &config);
    });
    assert!(oracle.response(V1, &image, &out.stdout).is_ok(), "{out:?}");
    assert_eq!(fake.seen().len(), before);
}

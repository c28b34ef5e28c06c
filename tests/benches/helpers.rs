//! Whole-process timings of our helpers against Debian's Go helpers, in one run on one machine.
//!
//! `tests/bench.sh` builds the release binaries and runs this. Each case spawns the helper with
//! its stdin fed directly (no shell), ours and Go's interleaved so machine noise hits both alike,
//! and reads the child's peak RSS from `wait4`. `BENCH_RUNS` sets the runs per case (default
//! 100); `BENCH_OUT` names a JSON results file.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark reports on the terminal"
)]
#![allow(
    unsafe_code,
    reason = "wait4(2) is the only way to read one child's peak RSS"
)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use integration_tests::Sandbox;
use integration_tests::aws_peers::TlsProxy;
use integration_tests::fake_aws::FakeAws;
use integration_tests::gpg::init_pass;
use integration_tests::peers::oracle;
use integration_tests::sandbox::{bin_dir, helper};

/// One way of running one call.
struct Case {
    name: String,
    program: PathBuf,
    args: Vec<String>,
    stdin: String,
    env: Vec<(String, String)>,
    /// For ECR cases: run in the ECR environment (fake endpoints, cache dir).
    ecr: bool,
    /// The exit status the call must have for its timing to mean anything; `None` where an
    /// oracle's answer for a miss varies (exit 0 with empty fields, or exit 1) and either is a miss.
    expect_ok: Option<bool>,
    /// For our ECR cases: how many requests (API and IMDS) the fake must see during each call;
    /// the benchmark's claims ("a cache hit makes no network call") are asserted, not printed.
    fake_requests: Option<usize>,
}

struct Sample {
    wall: Duration,
    max_rss_kib: i64,
}

struct Bench {
    sb: Sandbox,
    fake: FakeAws,
}

impl Bench {
    fn command(&self, case: &Case) -> Command {
        let mut cmd = if case.ecr {
            self.sb.ecr_cmd(&self.fake, &case.program)
        } else {
            self.sb.cmd(&case.program)
        };
        cmd.args(&case.args);
        for (k, v) in &case.env {
            cmd.env(k, v);
        }
        cmd
    }

    fn once(&self, case: &Case) -> Sample {
        let requests_before = self.fake.seen().len();
        let mut cmd = self.command(case);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let start = Instant::now();
        #[expect(
            clippy::zombie_processes,
            reason = "reaped by wait4 below, which also reads its rusage"
        )]
        let mut child = cmd.spawn().expect("spawn");
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(case.stdin.as_bytes());
        }
        let mut out = String::new();
        if let Some(mut stdout) = child.stdout.take() {
            let _ = stdout.read_to_string(&mut out);
        }
        let mut status = 0;
        // SAFETY: rusage is plain data that wait4 fills in; the pid is our own unwaited child.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let pid = child.id() as libc::pid_t;
        let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        let wall = start.elapsed();
        assert_eq!(rc, pid, "wait4");
        let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
        if let Some(expect_ok) = case.expect_ok {
            assert_eq!(ok, expect_ok, "{}: {out}", case.name);
        }
        // Calls run one at a time, so every request the fake saw since the start is this call's.
        if let Some(want) = case.fake_requests {
            let seen = self.fake.seen();
            assert_eq!(
                seen.len() - requests_before,
                want,
                "{}: requests to the fake during one call: {:?}",
                case.name,
                &seen[requests_before..]
            );
        }
        Sample {
            wall,
            max_rss_kib: usage.ru_maxrss,
        }
    }
}

fn case(
    name: &str,
    program: impl Into<PathBuf>,
    args: &[&str],
    stdin: &str,
    expect_ok: impl Into<Option<bool>>,
) -> Case {
    Case {
        name: name.to_string(),
        program: program.into(),
        args: args.iter().map(|s| s.to_string()).collect(),
        stdin: stdin.to_string(),
        env: Vec::new(),
        ecr: false,
        expect_ok: expect_ok.into(),
        fake_requests: None,
    }
}

fn with_env(mut c: Case, env: &[(&str, &str)]) -> Case {
    c.env
        .extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    c
}

fn ecr_case(c: Case) -> Case {
    Case { ecr: true, ..c }
}

#[derive(Debug)]
struct Stats {
    min: f64,
    median: f64,
    p95: f64,
    max_rss_mib: f64,
}

fn stats(samples: &[Sample]) -> Stats {
    let mut ms: Vec<f64> = samples.iter().map(|s| s.wall.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    let rss = samples.iter().map(|s| s.max_rss_kib).max().unwrap_or(0) as f64 / 1024.0;
    Stats {
        min: ms[0],
        median: at(0.5),
        p95: at(0.95),
        max_rss_mib: rss,
    }
}

/// Debian's Go oracle of that name, by the absolute path its package installs (never PATH,
/// where an installed copy of ours comes first), if it is there and really Go's.
fn go(name: &str) -> Option<PathBuf> {
    oracle(name)
        .inspect_err(|why| eprintln!("NOTE: {why}: its comparisons are skipped"))
        .ok()
}

const ECR_HOST: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
const ENV_CREDS: &[(&str, &str)] = &[
    ("AWS_ACCESS_KEY_ID", "AKIABENCHKEY00000001"),
    ("AWS_SECRET_ACCESS_KEY", "bench-secret"),
];

fn main() {
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100)
        .max(3);
    let bench = Bench {
        sb: Sandbox::new(),
        fake: FakeAws::start("bench-token"),
    };
    let sb = &bench.sb;
    let mut pairs: Vec<(Case, Option<Case>)> = Vec::new();

    // --- pass: a store with 10 entries.
    init_pass(sb);
    let json =
        |u: &str| format!(r#"{{"ServerURL":"{u}","Username":"testuser","Secret":"testpass"}}"#);
    assert!(sb.ours("pass", "store", json("127.0.0.1:5000")).ok());
    for i in 0..9 {
        assert!(
            sb.ours("pass", "store", json(&format!("registry-{i}.example")))
                .ok()
        );
    }
    // Debian's Go helper by its package path: an installed build of ours may come first on PATH.
    let go_pass = Some(PathBuf::from("/usr/bin/docker-credential-pass"))
        .filter(|p| p.is_file())
        .filter(|p| {
            !std::process::Command::new(p)
                .arg("version")
                .output()
                .is_ok_and(|o| {
                    String::from_utf8_lossy(&o.stdout).contains("rust-credential-helpers")
                })
        });
    let both = |name: &str,
                ours: PathBuf,
                theirs: &Option<PathBuf>,
                args: &[&str],
                stdin: &str,
                ok: (bool, Option<bool>)| {
        (
            case(name, ours, args, stdin, ok.0),
            theirs.clone().map(|g| case(name, g, args, stdin, ok.1)),
        )
    };
    // Our pass cases keep the keygrip cache in the sandbox.
    let cache_dir = sb.root.join("cache");
    let cache_env = [("XDG_CACHE_HOME", cache_dir.to_str().expect("UTF-8 path"))];
    let ours_env = |(o, g): (Case, Option<Case>)| (with_env(o, &cache_env), g);
    pairs.push(ours_env(both(
        "pass get hit, Curve25519 key",
        helper("pass"),
        &go_pass,
        &["get"],
        "127.0.0.1:5000",
        (true, Some(true)),
    )));
    // The same store and key with an RSA 3072 key: the agent's RSA operation is most of it.
    let rsa_store = sb.root.join("store-rsa3072");
    let rsa_fpr = integration_tests::keys::key_with_subkeys(
        sb,
        "rsa3072@bench.invalid",
        &[("rsa3072", "never")],
        "",
    );
    let mut init = sb.cmd("pass");
    init.args(["init", &rsa_fpr])
        .env("PASSWORD_STORE_DIR", &rsa_store);
    assert!(integration_tests::run(init, "").ok());
    let rsa_env = [(
        "PASSWORD_STORE_DIR",
        rsa_store.to_str().expect("UTF-8 path"),
    )];
    let mut store = sb.cmd(helper("pass"));
    store.arg("store").envs(rsa_env);
    assert!(integration_tests::run(store, json("127.0.0.1:5000")).ok());
    let (o, g) = ours_env(both(
        "pass get hit, RSA 3072 key",
        helper("pass"),
        &go_pass,
        &["get"],
        "127.0.0.1:5000",
        (true, Some(true)),
    ));
    pairs.push((with_env(o, &rsa_env), g.map(|g| with_env(g, &rsa_env))));
    // What a hit costs through gpg, as before the fast path (and whenever it falls back).
    let (o, g) = ours_env(both(
        "pass get hit, fast path off (gpg)",
        helper("pass"),
        &go_pass,
        &["get"],
        "127.0.0.1:5000",
        (true, Some(true)),
    ));
    pairs.push((
        with_env(o, &[("DOCKER_CREDENTIAL_PASS_FAST_PATH", "off")]),
        g,
    ));
    // Go 0.6.4's miss exited 0 with empty credentials where recorded (see the README) but exit 1
    // with `credentials not found` on a CI machine: either is a miss. Ours always exits 1.
    pairs.push(ours_env(both(
        "pass get miss",
        helper("pass"),
        &go_pass,
        &["get"],
        "missing.example",
        (false, None),
    )));
    pairs.push(ours_env(both(
        "pass list (10 entries)",
        helper("pass"),
        &go_pass,
        &["list"],
        "",
        (true, Some(true)),
    )));
    // 200 entries: list reads directory names only, so copies of one entry will do.
    let store200 = sb.root.join("store200");
    let entry_file = sb
        .store
        .join("docker-credential-helpers/MTI3LjAuMC4xOjUwMDA=/testuser.gpg");
    for i in 0..200 {
        use base64::Engine;
        let dir = store200.join("docker-credential-helpers").join(
            base64::engine::general_purpose::URL_SAFE.encode(format!("registry-{i}.example:5000")),
        );
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::copy(&entry_file, dir.join("testuser.gpg")).expect("copy entry");
    }
    std::fs::copy(sb.store.join(".gpg-id"), store200.join(".gpg-id")).expect("copy .gpg-id");
    let (o, g) = both(
        "pass list (200 entries)",
        helper("pass"),
        &go_pass,
        &["list"],
        "",
        (true, Some(true)),
    );
    let env200 = [("PASSWORD_STORE_DIR", store200.to_str().expect("UTF-8 path"))];
    let (o, g) = ours_env((o, g));
    pairs.push((with_env(o, &env200), g.map(|g| with_env(g, &env200))));
    let entry = sb
        .store
        .join("docker-credential-helpers/MTI3LjAuMC4xOjUwMDA=/testuser.gpg")
        .to_string_lossy()
        .into_owned();
    pairs.push((
        with_env(
            case(
                "pass version (start-up, rPGP linked)",
                helper("pass"),
                &["version"],
                "",
                true,
            ),
            &cache_env,
        ),
        None,
    ));
    pairs.push((
        case(
            "gpg --decrypt alone (floor of a gpg get)",
            "gpg",
            &["--batch", "--quiet", "--decrypt", &entry],
            "",
            true,
        ),
        None,
    ));

    // --- keyring: gnome-keyring's Secret Service on a private bus, 10 entries.
    let bus = integration_tests::secret_service::SessionBus::start(
        sb,
        integration_tests::secret_service::Keyring::Unlocked,
    );
    for url in std::iter::once("127.0.0.1:5000".to_string())
        .chain((0..9).map(|i| format!("registry-{i}.example")))
    {
        assert!(sb.ours("keyring", "store", json(&url)).ok());
    }
    let go_ss = go("secretservice");
    pairs.push(both(
        "keyring get hit",
        helper("keyring"),
        &go_ss,
        &["get"],
        "127.0.0.1:5000",
        (true, Some(true)),
    ));
    pairs.push(both(
        "keyring get miss",
        helper("keyring"),
        &go_ss,
        &["get"],
        "missing.example",
        (false, Some(false)),
    ));
    pairs.push(both(
        "keyring list (10 entries)",
        helper("keyring"),
        &go_ss,
        &["list"],
        "",
        (true, Some(true)),
    ));
    // The floors of a keyring get (README, "what limits each"): starting our binary, and one
    // whole D-Bus call to gnome-keyring from C (libdbus: connect, SASL, Hello, one call).
    pairs.push((
        case(
            "keyring version (process start, no D-Bus)",
            helper("keyring"),
            &["version"],
            "",
            true,
        ),
        None,
    ));
    pairs.push((
        with_env(
            case(
                "dbus-send: one SearchItems call to gnome-keyring",
                "dbus-send",
                &[
                    "--session",
                    "--print-reply",
                    "--dest=org.freedesktop.secrets",
                    "/org/freedesktop/secrets",
                    "org.freedesktop.Secret.Service.SearchItems",
                    "dict:string:string:server,127.0.0.1:5000,docker_cli,1",
                ],
                "",
                true,
            ),
            &[("DBUS_SESSION_BUS_ADDRESS", &bus.address)],
        ),
        None,
    ));

    // --- ecr-login: the fake for ours; the same fake through the TLS proxy for Go.
    let go_ecr = go("ecr-login");
    let proxy = go_ecr
        .as_ref()
        .map(|_| TlsProxy::start(sb, &bench.fake.url));
    let go_cache = sb.root.join("go-ecr").to_string_lossy().into_owned();
    let go_env = |c: Case| {
        let p = proxy.as_ref().expect("proxy runs when Go is installed");
        with_env(
            c,
            &[
                ("HTTPS_PROXY", &p.url),
                ("AWS_CA_BUNDLE", &p.ca.to_string_lossy()),
                ("AWS_REGION", "us-east-1"),
                ("AWS_ECR_CACHE_DIR", &go_cache),
            ],
        )
    };
    let ecr_pair = |name: &str, env: &[(&str, &str)]| {
        let ours = ecr_case(with_env(
            case(name, helper("ecr-login"), &["get"], ECR_HOST, true),
            env,
        ));
        let theirs = go_ecr.clone().map(|g| {
            go_env(ecr_case(with_env(
                case(name, g, &["get"], ECR_HOST, true),
                env,
            )))
        });
        (ours, theirs)
    };
    let mut hit_env = ecr_pair("ecr get, cache hit, env credentials", ENV_CREDS);
    let mut hit_imds = ecr_pair("ecr get, cache hit, instance role (IMDSv2)", &[]);
    let mut cold = ecr_pair(
        "ecr get, no cache (API call), env credentials",
        &[
            ENV_CREDS[0],
            ENV_CREDS[1],
            ("AWS_ECR_DISABLE_CACHE", "true"),
        ],
    );
    // Prime both caches: one fetch each for each identity.
    for (o, g) in [&hit_env, &hit_imds] {
        bench.once(o);
        if let Some(g) = g {
            bench.once(g);
        }
    }
    // What the chart claims for ours, checked on every call from here on: a hit asks nothing of
    // the network (no API call, no IMDS call, whatever the credential source), and with the
    // cache off a get makes exactly one request, the API call (env credentials: no IMDS).
    hit_env.0.fake_requests = Some(0);
    hit_imds.0.fake_requests = Some(0);
    cold.0.fake_requests = Some(1);
    // The kubelet's plugin call for the same registry and identity reads the same cache: timed
    // beside the get, with the same claim (no request at all on a hit) asserted on every call.
    let kubelet_request = format!(
        r#"{{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"{ECR_HOST}/team/app:1"}}"#
    );
    let mut kubelet_hit = ecr_case(with_env(
        case(
            "ecr kubelet plugin, cache hit, env credentials",
            helper("ecr-login"),
            &["kubelet-credential-provider"],
            &kubelet_request,
            true,
        ),
        ENV_CREDS,
    ));
    kubelet_hit.fake_requests = Some(0);
    pairs.extend([hit_env, hit_imds, cold, (kubelet_hit, None)]);
    pairs.push((
        case(
            "ecr-login version (front, no SDK linked)",
            helper("ecr-login"),
            &["version"],
            "",
            true,
        ),
        None,
    ));
    pairs.push((
        case(
            "ecr-login-fetch version (SDK linked, unused)",
            bin_dir().join("docker-credential-ecr-login-fetch"),
            &["version"],
            "",
            true,
        ),
        None,
    ));
    pairs.push((
        case(
            "/bin/true (process spawn floor)",
            "/bin/true",
            &[],
            "",
            true,
        ),
        None,
    ));

    for (o, g) in &pairs {
        for _ in 0..3 {
            bench.once(o);
            if let Some(g) = g {
                bench.once(g);
            }
        }
    }
    let mut samples: Vec<(Vec<Sample>, Vec<Sample>)> =
        pairs.iter().map(|_| (Vec::new(), Vec::new())).collect();
    // The floor of a fast-path hit, beside the process spawn: gpg-agent's PKDECRYPT alone, asked
    // in-process over one connection exactly as a get asks it, once per round so that the load
    // of the moment weighs on it as on the cases.
    let rsa_entry = rsa_store.join("docker-credential-helpers/MTI3LjAuMC4xOjUwMDA=/testuser.gpg");
    let mut floors: Vec<AgentFloor> = [("Curve25519", Path::new(&entry)), ("RSA 3072", &rsa_entry)]
        .into_iter()
        .filter_map(|(name, file)| {
            let floor = AgentFloor::new(sb, &cache_dir, name, file);
            if floor.is_none() {
                eprintln!("NOTE: cannot time gpg-agent's PKDECRYPT for the {name} key");
            }
            floor
        })
        .collect();
    let imds_before = bench.fake.imds_calls();
    for _ in 0..runs {
        for (i, (o, g)) in pairs.iter().enumerate() {
            samples[i].0.push(bench.once(o));
            if let Some(g) = g {
                samples[i].1.push(bench.once(g));
            }
        }
        for floor in &mut floors {
            floor.once();
        }
    }
    let imds_during = bench.fake.imds_calls() - imds_before;

    println!(
        "{runs} runs per case, interleaved; wall ms per call (spawn to exit); peak RSS of the child"
    );
    println!(
        "{:<48} {:>7} {:>7} {:>7} {:>7} | {:>7} {:>7} {:>7} | {:>7}",
        "case", "min", "median", "p95", "RSS MiB", "Go med", "Go p95", "Go RSS", "Go/ours"
    );
    let mut results = Vec::new();
    for ((o, _), (ours, theirs)) in pairs.iter().zip(&samples) {
        let s = stats(ours);
        let g = (!theirs.is_empty()).then(|| stats(theirs));
        let ratio = g.as_ref().map(|g| g.median / s.median);
        let opt = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2}"));
        println!(
            "{:<48} {:>7.2} {:>7.2} {:>7.2} {:>7.1} | {:>7} {:>7} {:>7} | {:>7}",
            o.name,
            s.min,
            s.median,
            s.p95,
            s.max_rss_mib,
            opt(g.as_ref().map(|g| g.median)),
            opt(g.as_ref().map(|g| g.p95)),
            opt(g.as_ref().map(|g| g.max_rss_mib)),
            ratio.map_or("-".into(), |r| format!("{r:.1}x")),
        );
        results.push(serde_json::json!({
            "case": o.name, "runs": runs,
            "ours": {"min_ms": s.min, "median_ms": s.median, "p95_ms": s.p95, "max_rss_mib": s.max_rss_mib},
            "go": g.as_ref().map(|g| serde_json::json!({"min_ms": g.min, "median_ms": g.median, "p95_ms": g.p95, "max_rss_mib": g.max_rss_mib})),
            "ratio_go_over_ours": ratio,
        }));
    }
    println!(
        "IMDS calls during the timed runs (all of them Go's: ours made none, checked per call): {imds_during}"
    );

    // 32 concurrent cold gets for one registry: how many API calls, how long for all.
    let concurrent = |program: PathBuf, go: bool| {
        let dir = sb.root.join(if go {
            "go-ecr-concurrent"
        } else {
            "ecr-concurrent"
        });
        let before = bench.fake.token_calls();
        let start = Instant::now();
        let children: Vec<_> = (0..32)
            .map(|_| {
                let mut c = ecr_case(with_env(
                    case("concurrent", program.clone(), &["get"], ECR_HOST, true),
                    ENV_CREDS,
                ));
                if go {
                    c = go_env(c);
                }
                let mut cmd = bench.command(&c);
                cmd.env("AWS_ECR_CACHE_DIR", &dir)
                    .stdin(Stdio::piped())
                    .stdout(Stdio::null());
                let mut child = cmd.spawn().expect("spawn");
                if let Some(mut stdin) = child.stdin.take() {
                    let _ = stdin.write_all(ECR_HOST.as_bytes());
                }
                child
            })
            .collect();
        for mut c in children {
            assert!(c.wait().expect("wait").success());
        }
        (
            bench.fake.token_calls() - before,
            start.elapsed().as_secs_f64() * 1e3,
        )
    };
    let (calls, ms) = concurrent(helper("ecr-login"), false);
    println!("32 concurrent cold ecr gets, ours: {calls} API call(s), {ms:.0} ms for all");
    assert_eq!(
        calls, 1,
        "32 concurrent cold gets for one registry make one API call (the registry's lock)"
    );
    let mut extra = serde_json::json!({"imds_calls_during_timed_runs": imds_during, "concurrent_cold_gets": {"ours": {"api_calls": calls, "wall_ms": ms}}});
    if let Some(g) = go_ecr.clone() {
        let (calls, ms) = concurrent(g, true);
        println!("32 concurrent cold ecr gets, Go:   {calls} API call(s), {ms:.0} ms for all");
        extra["concurrent_cold_gets"]["go"] =
            serde_json::json!({"api_calls": calls, "wall_ms": ms});
    }
    let mut agent_floor = serde_json::Map::new();
    for floor in &mut floors {
        let Some((median, min)) = floor.stats() else {
            continue;
        };
        println!(
            "gpg-agent PKDECRYPT alone, {} key (floor of a fast-path hit): median {median:.2} ms, min {min:.2} ms",
            floor.name
        );
        agent_floor.insert(
            floor.name.to_string(),
            serde_json::json!({"median_ms": median, "min_ms": min}),
        );
    }
    extra["agent_pkdecrypt_alone"] = serde_json::Value::Object(agent_floor);
    let machine = machine();
    println!("machine: {machine}");
    if let Ok(path) = std::env::var("BENCH_SVG") {
        let floor = results
            .iter()
            .find(|r| {
                r["case"]
                    .as_str()
                    .is_some_and(|c| c.starts_with("/bin/true"))
            })
            .and_then(|r| r["ours"]["median_ms"].as_f64());
        std::fs::write(&path, svg(&results, floor, &machine, runs))
            .unwrap_or_else(|e| panic!("write {path}: {e}"));
        println!("chart written to {path}");
    }
    if let Ok(path) = std::env::var("BENCH_OUT") {
        let doc =
            serde_json::json!({"machine": machine, "runs": runs, "cases": results, "other": extra});
        std::fs::write(&path, serde_json::to_string_pretty(&doc).expect("JSON"))
            .unwrap_or_else(|e| panic!("write {path}: {e}"));
        println!("results written to {path}");
    }
}

/// gpg-agent's `PKDECRYPT` of an entry's first recipient, over one connection, as the fast path
/// asks it.
struct AgentFloor {
    name: &'static str,
    agent: docker_credential_pass::agent::Agent,
    /// The keygrip and the ciphertext.
    request: docker_credential_pass::openpgp::AgentRequest,
    ms: Vec<f64>,
}

impl AgentFloor {
    /// `None` if the keygrip cache is not there (the warm-up runs fill it).
    fn new(sb: &Sandbox, cache_dir: &Path, name: &'static str, entry: &Path) -> Option<AgentFloor> {
        use docker_credential_pass::{agent::Agent, keys, openpgp};
        let cache = keys::load_file(&keys::cache_file_in(cache_dir, &sb.gnupg), &sb.gnupg)?;
        let mut requests = openpgp::agent_requests(&std::fs::read(entry).ok()?, &cache).ok()?;
        let request = (!requests.is_empty()).then(|| requests.remove(0))?;
        // The deadline covers the whole timed loop.
        let agent = Agent::connect(
            &cache.socket,
            Duration::from_secs(3600),
            &["pinentry-mode=error"],
        )
        .ok()?;
        Some(AgentFloor {
            name,
            agent,
            request,
            ms: Vec::new(),
        })
    }

    fn once(&mut self) {
        let start = Instant::now();
        if self
            .agent
            .pkdecrypt(&self.request.0, None, &self.request.1)
            .is_ok()
        {
            self.ms.push(start.elapsed().as_secs_f64() * 1e3);
        }
    }

    /// (median, min) in ms.
    fn stats(&mut self) -> Option<(f64, f64)> {
        self.ms.sort_by(f64::total_cmp);
        Some((*self.ms.get(self.ms.len() / 2)?, *self.ms.first()?))
    }
}

/// What the numbers were measured on: CPU model, cores, OS, date.
fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let os = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                l.strip_prefix("PRETTY_NAME=")
                    .map(|v| v.trim_matches('"').to_string())
            })
        })
        .unwrap_or_else(|| std::env::consts::OS.into());
    let date = Command::new("date")
        .arg("+%Y-%m-%d")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    format!("{cpu}, {cores} cores, {os}, {date}")
}

/// A horizontal bar chart: per case, our median and Go's on one linear scale, with the process
/// spawn floor as a dashed line. Plain SVG text, no dependency.
fn svg(results: &[serde_json::Value], floor: Option<f64>, machine: &str, runs: usize) -> String {
    let rows: Vec<(&str, f64, Option<f64>)> = results
        .iter()
        .filter(|r| !r["case"].as_str().unwrap_or("").starts_with("/bin/true"))
        .map(|r| {
            (
                r["case"].as_str().unwrap_or(""),
                r["ours"]["median_ms"].as_f64().unwrap_or(0.0),
                r["go"]["median_ms"].as_f64(),
            )
        })
        .collect();
    let max = rows
        .iter()
        .map(|(_, o, g)| o.max(g.unwrap_or(0.0)))
        .fold(1.0_f64, f64::max);
    let (left, width, row_h, top) = (330.0, 560.0, 34.0, 56.0);
    let height = top + row_h * rows.len() as f64 + 40.0;
    let x = |ms: f64| left + ms / max * width;
    let esc = |t: &str| {
        t.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"10\" y=\"20\" font-size=\"15\" font-weight=\"bold\">Median wall time per call in ms (lower is better): ours vs the Go helpers</text>\n\
         <text x=\"10\" y=\"38\" fill=\"#555\">{m}; {runs} runs per case, interleaved</text>\n",
        w = left + width + 110.0,
        m = esc(machine),
    );
    for (i, (name, ours, go)) in rows.iter().enumerate() {
        let y = top + row_h * i as f64;
        out.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n",
            left - 8.0,
            y + 16.0,
            esc(name)
        ));
        out.push_str(&format!(
            "<rect x=\"{left}\" y=\"{y}\" width=\"{:.1}\" height=\"12\" fill=\"#2b6cb0\"/>\n",
            (x(*ours) - left).max(1.0)
        ));
        out.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{}\" fill=\"#2b6cb0\">{ours:.2}</text>\n",
            x(*ours) + 4.0,
            y + 10.0
        ));
        if let Some(go) = go {
            out.push_str(&format!(
                "<rect x=\"{left}\" y=\"{}\" width=\"{:.1}\" height=\"12\" fill=\"#a0aec0\"/>\n",
                y + 14.0,
                (x(*go) - left).max(1.0)
            ));
            out.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{}\" fill=\"#4a5568\">Go {go:.2} ({:.1}x)</text>\n",
                x(*go) + 4.0,
                y + 24.0,
                go / ours
            ));
        }
    }
    if let Some(f) = floor {
        let fx = x(f);
        out.push_str(&format!("<line x1=\"{fx:.1}\" y1=\"{}\" x2=\"{fx:.1}\" y2=\"{}\" stroke=\"#e53e3e\" stroke-dasharray=\"4 3\"/>\n", top - 6.0, height - 34.0));
        out.push_str(&format!("<text x=\"{fx:.1}\" y=\"{}\" fill=\"#e53e3e\">process spawn floor, /bin/true ({f:.2} ms)</text>\n", height - 20.0));
    }
    out.push_str(&format!(
        "<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"#2b6cb0\"/><text x=\"{}\" y=\"{}\">ours</text>\n\
         <rect x=\"{}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"#a0aec0\"/><text x=\"{}\" y=\"{}\">Go</text>\n</svg>\n",
        left + width - 40.0, height - 30.0, left + width - 24.0, height - 20.0,
        left + width + 20.0, height - 30.0, left + width + 36.0, height - 20.0,
    ));
    out
}

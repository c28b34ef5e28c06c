//! The deployment stories users run, end to end with the real clients (README "Deployments").

use integration_tests::fake_aws::FakeAws;
use integration_tests::gpg::init_pass;
use integration_tests::registry::{PASSWORD, Registry, USER};
use integration_tests::sandbox::helper;
use integration_tests::{Sandbox, need, run};

const ECR_HOST: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
const TOKEN: &str = "ecr-token-for-the-mirror";

/// Story 2: one config.json whose `credHelpers` send an ECR mirror to ecr-login and another
/// registry to pass, used by the docker CLI, skopeo and podman.
#[test]
fn per_registry_helpers_with_docker_skopeo_and_podman() {
    need!(PASS, REGISTRY; "docker", "podman");
    let sb = Sandbox::new();
    init_pass(&sb);
    let fake = FakeAws::start(TOKEN);
    let ecr_mirror = Registry::start_for(&sb, "AWS", TOKEN);
    let private = {
        // A second registry in its own directory, admitting the pass user.
        let sub = Sandbox::new();
        (Registry::start(&sub), sub)
    };
    let (private, _private_sb) = private;
    std::fs::write(
        sb.root.join("ecr.json"),
        format!(
            r#"{{"registries": {{"{}": {{"alias": "{ECR_HOST}"}}}}}}"#,
            ecr_mirror.host
        ),
    )
    .expect("write");
    let config = sb.docker_config_json(&format!(
        r#"{{"auths":{{}},"credHelpers":{{"{}":"ecr-login","{}":"pass"}}}}"#,
        ecr_mirror.host, private.host
    ));
    let client = |program: &str, args: &[&str], stdin: &str| {
        let mut cmd = sb.ecr_cmd(&fake, program);
        cmd.args(args)
            .env("AWS_ACCESS_KEY_ID", "AKIADEPLOYMENTTEST01")
            .env("AWS_SECRET_ACCESS_KEY", "deployment-secret")
            .env("AWS_ECR_CONFIG_FILE", sb.root.join("ecr.json"));
        run(cmd, stdin)
    };
    // pass holds the private registry's login; ecr-login needs none.
    let out = client(
        "docker",
        &["login", "-u", USER, "--password-stdin", &private.host],
        PASSWORD,
    );
    assert!(out.ok(), "docker login: {out:?}");
    for reg in [&ecr_mirror, &private] {
        let out = client("docker", &["manifest", "inspect", &reg.image()], "");
        assert!(out.ok(), "docker manifest inspect {}: {out:?}", reg.host);
    }
    let auth = config.to_string_lossy().into_owned();
    for reg in [&ecr_mirror, &private] {
        let certs = reg.cert_dir.to_string_lossy().into_owned();
        let out = client(
            "skopeo",
            &[
                "inspect",
                "--authfile",
                &auth,
                "--cert-dir",
                &certs,
                &format!("docker://{}", reg.image()),
            ],
            "",
        );
        assert!(out.ok(), "skopeo inspect {}: {out:?}", reg.host);
        let (root, runroot) = (sb.root.join("podman-root"), sb.root.join("podman-run"));
        let out = client(
            "podman",
            &[
                "--root",
                &root.to_string_lossy(),
                "--runroot",
                &runroot.to_string_lossy(),
                "--storage-driver",
                "vfs",
                "pull",
                "--authfile",
                &auth,
                "--cert-dir",
                &certs,
                &reg.image(),
            ],
            "",
        );
        assert!(out.ok(), "podman pull {}: {out:?}", reg.host);
    }
    assert_eq!(
        fake.token_calls(),
        1,
        "one token for every client's calls to the ECR mirror"
    );
    assert!(!integration_tests::proc::read(&config).contains(PASSWORD));
}

/// Story 3: a Nomad client's docker driver runs `docker-credential-ecr-login get` as root, with
/// HOME unset and a minimal environment, credentials from the instance role only, several tasks
/// starting at once.
#[test]
fn nomad_worker_with_an_instance_role() {
    let sb = Sandbox::new();
    let fake = FakeAws::start(TOKEN);
    let cache = sb.root.join("nomad-ecr-cache");
    let worker = || {
        let mut cmd = std::process::Command::new(helper("ecr-login"));
        cmd.env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &fake.url)
            .env("AWS_ENDPOINT_URL", &fake.url)
            .env("AWS_ECR_CACHE_DIR", &cache)
            .arg("get");
        cmd
    };
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let cmd = worker();
            std::thread::spawn(move || run(cmd, ECR_HOST))
        })
        .collect();
    for t in tasks {
        let out = t.join().expect("thread");
        assert_eq!(
            out.stdout,
            format!(
                "{{\"ServerURL\":\"{ECR_HOST}\",\"Username\":\"AWS\",\"Secret\":\"{TOKEN}\"}}\n"
            ),
            "{out:?}"
        );
    }
    assert_eq!(
        fake.token_calls(),
        1,
        "eight tasks starting at once: one token request"
    );
    let before = fake.seen().len();
    for _ in 0..5 {
        assert!(run(worker(), ECR_HOST).ok());
    }
    assert_eq!(
        fake.seen().len(),
        before,
        "then cache hits: no IMDS call, no API call"
    );
    assert!(
        cache.join("log/ecr-login.log").exists(),
        "the log moves with the cache dir"
    );
}

/// Story 4: an ephemeral CI runner with keys in the environment and the cache on a throw-away dir.
#[test]
fn ci_runner_with_env_keys_and_a_temp_cache() {
    let sb = Sandbox::new();
    let fake = FakeAws::start(TOKEN);
    let tmp = tempfile::tempdir().expect("tempdir");
    for _ in 0..3 {
        let mut cmd = sb.ecr_cmd(&fake, helper("ecr-login"));
        cmd.arg("get")
            .env("AWS_ACCESS_KEY_ID", "AKIACIRUNNERKEY00001")
            .env("AWS_SECRET_ACCESS_KEY", "ci-secret")
            .env("AWS_ECR_CACHE_DIR", tmp.path())
            .env("AWS_EC2_METADATA_DISABLED", "true");
        let out = run(cmd, ECR_HOST);
        assert!(out.ok(), "{out:?}");
    }
    assert_eq!(fake.token_calls(), 1);
    assert_eq!(fake.imds_calls(), 0, "env keys: IMDS is never asked");
}

//! docker-credential-ecr-login as the docker CLI, the Docker daemon and skopeo use it through
//! `credHelpers`. The registry is a local docker-registry whose htpasswd admits user `AWS` with
//! the fake's token, reached under an alias that maps its address to an ECR registry.

use integration_tests::fake_aws::FakeAws;
use integration_tests::peers::docker_daemon;
use integration_tests::registry::Registry;
use integration_tests::{Out, Sandbox, need, run};

const ECR_HOST: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
const TOKEN_PASSWORD: &str = "ecr-token-for-the-local-registry";

struct World {
    sb: Sandbox,
    fake: FakeAws,
    reg: Registry,
}

fn world() -> World {
    let sb = Sandbox::new();
    let fake = FakeAws::start(TOKEN_PASSWORD);
    let reg = Registry::start_for(&sb, "AWS", TOKEN_PASSWORD);
    std::fs::write(
        sb.root.join("ecr-config.json"),
        format!(
            r#"{{"registries": {{"{}": {{"alias": "{ECR_HOST}"}}}}}}"#,
            reg.host
        ),
    )
    .expect("write ecr config");
    sb.docker_config_json(&format!(
        r#"{{"auths":{{}},"credHelpers":{{"{}":"ecr-login"}}}}"#,
        reg.host
    ));
    World { sb, fake, reg }
}

impl World {
    /// A client command with the helper's environment: env credentials, the fake, the alias.
    fn client(&self, program: &str, args: &[&str]) -> Out {
        let mut cmd = self.sb.ecr_cmd(&self.fake, program);
        cmd.args(args)
            .env("AWS_ACCESS_KEY_ID", "AKIACLIENTTESTKEY001")
            .env("AWS_SECRET_ACCESS_KEY", "client-secret")
            .env("AWS_ECR_CONFIG_FILE", self.sb.root.join("ecr-config.json"));
        run(cmd, "")
    }
}

#[test]
fn docker_cli_manifest_inspect_with_an_ecr_token() {
    need!("docker", "docker-registry", "skopeo", "openssl", "htpasswd");
    let w = world();
    let out = w.client("docker", &["manifest", "inspect", &w.reg.image()]);
    assert!(out.ok() && out.stdout.contains("schemaVersion"), "{out:?}");
    assert_eq!(w.fake.token_calls(), 1);
    let out = w.client("docker", &["manifest", "inspect", &w.reg.image()]);
    assert!(out.ok(), "{out:?}");
    assert_eq!(w.fake.token_calls(), 1, "the second call is a cache hit");
}

#[test]
fn skopeo_inspect_with_an_ecr_token() {
    need!("skopeo", "docker-registry", "openssl", "htpasswd");
    let w = world();
    let auth = w.sb.docker_config.join("config.json");
    let out = w.client(
        "skopeo",
        &[
            "inspect",
            "--authfile",
            &auth.to_string_lossy(),
            "--cert-dir",
            &w.reg.cert_dir.to_string_lossy(),
            &format!("docker://{}", w.reg.image()),
        ],
    );
    assert!(out.ok() && out.stdout.contains("amd64"), "{out:?}");
    assert_eq!(w.fake.token_calls(), 1);
}

#[test]
fn docker_pull_with_an_ecr_token_through_the_daemon() {
    need!("docker", "docker-registry", "skopeo", "openssl", "htpasswd");
    if !docker_daemon(module_path!()) {
        return;
    }
    let w = world();
    let out = w.client("docker", &["pull", &w.reg.image()]);
    let _ = w.client("docker", &["rmi", "-f", &w.reg.image()]);
    assert!(
        out.ok() && out.stdout.contains("Downloaded newer image"),
        "docker pull: {out:?}"
    );
    assert_eq!(w.fake.token_calls(), 1);
}

//! The helpers where they load NSS modules (issue 11): as a uid with no passwd entry and HOME
//! unset, and the fetcher resolving its endpoint through an NSS hosts module. A static glibc
//! crashed in both (exit 139, nothing on stdout); every answer here is asserted exactly.

use integration_tests::confined::{Confined, DEBIAN_NSSWITCH, debian_nsswitch_with_myhostname};
use integration_tests::fake_aws::FakeAws;
use integration_tests::wire::{NOT_FOUND, get_json, store_json};
use integration_tests::{Sandbox, run};

const ECR_HOST: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
const TOKEN: &str = "token-served-to-a-stranger";
const ACCESS_KEY: &str = "AKIANSSSTRANGERKEY01";
const NO_BUS: &str = "no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is not set and $XDG_RUNTIME_DIR/bus does not exist; run inside a desktop session or `dbus-run-session -- …`, or set DOCKER_CREDENTIAL_KEYRING_BACKEND=keyutils\n";
const NO_PASS_STORE: &str = "cannot find the pass store: set PASSWORD_STORE_DIR or HOME\n";

fn version(name: &str) -> String {
    format!(
        "docker-credential-{name} (rust-credential-helpers) {}\n",
        env!("CARGO_PKG_VERSION")
    )
}

#[test]
fn every_helper_and_action_runs_as_a_uid_with_no_passwd_entry_and_no_home() {
    let sb = Sandbox::new();
    let Some(confined) = Confined::new(module_path!(), &sb, DEBIAN_NSSWITCH) else {
        return;
    };
    confined.stranger_uid(&sb);
    // The passwd lookup really goes through a module that is loaded at run time: nss-systemd
    // synthesises `nobody` (`/etc/passwd`'s own entry has another GECOS field).
    if !confined.module_answers(
        module_path!(),
        &sb,
        &["-s", "systemd", "passwd", "nobody"],
        "Kernel Overflow User",
        "libnss-systemd",
    ) {
        return;
    }
    let store = store_json("registry.example", "u", "s3cret");
    let (pass_version, ecr_version, keyring_version) =
        (version("pass"), version("ecr-login"), version("keyring"));
    let cases: [(&str, &str, &str, i32, &str); 15] = [
        ("pass", "get", "registry.example", 1, NO_PASS_STORE),
        ("pass", "store", &store, 1, NO_PASS_STORE),
        ("pass", "erase", "registry.example", 1, NO_PASS_STORE),
        ("pass", "list", "", 1, NO_PASS_STORE),
        ("pass", "version", "", 0, &pass_version),
        // Not an ECR host: answered without the fetcher (the next test runs it).
        ("ecr-login", "get", "registry.example", 1, NOT_FOUND),
        ("ecr-login", "store", &store, 1, "not implemented\n"),
        (
            "ecr-login",
            "erase",
            "registry.example",
            1,
            "not implemented\n",
        ),
        ("ecr-login", "list", "", 0, "{}\n"),
        ("ecr-login", "version", "", 0, &ecr_version),
        ("keyring", "get", "registry.example", 1, NO_BUS),
        ("keyring", "store", &store, 1, NO_BUS),
        ("keyring", "erase", "registry.example", 1, NO_BUS),
        ("keyring", "list", "", 1, NO_BUS),
        ("keyring", "version", "", 0, &keyring_version),
    ];
    for (name, action, stdin, code, answer) in cases {
        let out = run(
            confined.as_stranger(&sb, &[], confined.helper(name), &[action]),
            stdin,
        );
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (code, answer, ""),
            "{name} {action} as a uid with no passwd entry: {out:?}"
        );
    }
}

#[test]
fn the_fetcher_runs_as_a_uid_with_no_passwd_entry_and_no_home() {
    let sb = Sandbox::new();
    let Some(confined) = Confined::new(module_path!(), &sb, DEBIAN_NSSWITCH) else {
        return;
    };
    confined.stranger_uid(&sb);
    let fake = FakeAws::start(TOKEN);
    // No cache dir either (no HOME, no passwd entry, no AWS_ECR_CACHE_DIR): a miss every time,
    // so the front runs the fetcher, and the SDK looks for ~/.aws with no home to find.
    let env = [
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", "stranger-secret"),
        ("AWS_ENDPOINT_URL", fake.url.as_str()),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ];
    let out = run(
        confined.as_stranger(&sb, &env, confined.helper("ecr-login"), &["get"]),
        ECR_HOST,
    );
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, get_json(ECR_HOST, "AWS", TOKEN).as_str(), ""),
        "{out:?}"
    );
    let seen = fake.seen();
    assert_eq!(seen.len(), 1, "one API call, nothing else: {seen:?}");
    assert_eq!(seen[0].access_key.as_deref(), Some(ACCESS_KEY), "{seen:?}");
}

#[test]
fn the_fetcher_resolves_its_endpoint_through_an_nss_hosts_module() {
    let sb = Sandbox::new();
    let Some(confined) = Confined::new(module_path!(), &sb, &debian_nsswitch_with_myhostname())
    else {
        return;
    };
    // libnss-myhostname answers every *.localhost name with loopback; `files` (/etc/hosts)
    // names only `localhost` itself.
    if !confined.module_answers(
        module_path!(),
        &sb,
        &["ahostsv4", "ecr.localhost"],
        "127.0.0.1",
        "libnss-myhostname",
    ) {
        return;
    }
    let fake = FakeAws::start(TOKEN);
    let port = fake.url.rsplit(':').next().expect("the fake's port");
    let endpoint = format!("http://ecr.localhost:{port}");
    let mut cmd = confined.as_root(&sb, confined.helper("ecr-login"), &["get"]);
    cmd.env("AWS_ENDPOINT_URL", &endpoint)
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", "resolver-secret")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ECR_CACHE_DIR", sb.ecr_dir());
    let out = run(cmd, ECR_HOST);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, get_json(ECR_HOST, "AWS", TOKEN).as_str(), ""),
        "{endpoint}: {out:?}"
    );
    let seen = fake.seen();
    assert_eq!(seen.len(), 1, "one API call, nothing else: {seen:?}");
    assert_eq!(
        seen[0].target.as_deref(),
        Some("AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"),
        "{seen:?}"
    );
    assert_eq!(seen[0].access_key.as_deref(), Some(ACCESS_KEY), "{seen:?}");
}

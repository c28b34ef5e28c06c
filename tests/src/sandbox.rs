//! A temp dir per test with its own HOME, GNUPGHOME, pass store and docker config, and commands
//! that see only those. Nothing of the developer's own keys or stores is ever touched.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::proc::{Out, run};

/// One test's private world. Dropping it stops the gpg-agent it started and removes the dir.
pub struct Sandbox {
    _tmp: tempfile::TempDir,
    /// The temp dir.
    pub root: PathBuf,
    /// `$HOME`.
    pub home: PathBuf,
    /// `$GNUPGHOME` (mode 0700).
    pub gnupg: PathBuf,
    /// `$PASSWORD_STORE_DIR`.
    pub store: PathBuf,
    /// `$DOCKER_CONFIG`.
    pub docker_config: PathBuf,
}

/// The directory holding the helper binaries under test: `$DCH_BIN_DIR` when set (the
/// installed package, `/usr/bin`), else the target profile dir this test binary was built in
/// (`target/…/debug/deps/integration-…` → `target/…/debug`).
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("DCH_BIN_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().expect("current_exe");
    let deps = exe.parent().expect("test binary has a dir");
    deps.parent().unwrap_or(deps).to_path_buf()
}

/// One of our helpers, e.g. `helper("pass")` → `…/target/debug/docker-credential-pass`.
pub fn helper(name: &str) -> PathBuf {
    let path = bin_dir().join(format!("docker-credential-{name}"));
    assert!(
        path.is_file(),
        "{} is missing: run tests/run.sh (or `cargo build --workspace --bins` before `cargo test`)",
        path.display()
    );
    path
}

impl Sandbox {
    /// A fresh sandbox in the system temp dir. Its path stays short: gpg-agent's socket lives in
    /// GNUPGHOME and a Unix socket path has at most 107 bytes.
    pub fn new() -> Sandbox {
        let tmp = tempfile::Builder::new()
            .prefix("dch-")
            .tempdir()
            .expect("create temp dir");
        let root = tmp.path().to_path_buf();
        let sb = Sandbox {
            home: root.join("home"),
            gnupg: root.join("g"),
            store: root.join("home/.password-store"),
            docker_config: root.join("docker"),
            root,
            _tmp: tmp,
        };
        for d in [&sb.home, &sb.docker_config] {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        std::fs::create_dir_all(&sb.gnupg).expect("mkdir gnupg");
        chmod(&sb.gnupg, 0o700);
        sb
    }

    /// A command that runs in this sandbox: our helpers first on PATH, HOME and every store here,
    /// and none of the caller's variables that would change what a helper does.
    pub fn cmd(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        // Our helpers first, unless their dir is on PATH already (an installed package in
        // /usr/bin): moving /usr/bin forward would also swap the clients the machine put first.
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
        if !dirs.contains(&bin_dir()) {
            dirs.insert(0, bin_dir());
        }
        cmd.env("PATH", std::env::join_paths(dirs).expect("PATH"))
            .env("HOME", &self.home)
            .env("GNUPGHOME", &self.gnupg)
            .env("PASSWORD_STORE_DIR", &self.store)
            .env("DOCKER_CONFIG", &self.docker_config)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("XDG_STATE_HOME", self.home.join(".local/state"))
            .env("XDG_CACHE_HOME", self.home.join(".cache"))
            .env("XDG_RUNTIME_DIR", &self.root)
            .current_dir(&self.root);
        for var in [
            "PASSWORD_STORE_KEY",
            "DISPLAY",
            "WAYLAND_DISPLAY",
            "GPG_TTY",
            "GPG_AGENT_INFO",
            "REGISTRY_AUTH_FILE",
            "DOCKER_CREDENTIAL_LOG",
            "DOCKER_CREDENTIAL_LOG_FILE",
            "DOCKER_CREDENTIAL_PASS_GPG",
            "DOCKER_CREDENTIAL_PASS_PINENTRY",
            "DOCKER_CREDENTIAL_PASS_TIMEOUT",
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "NO_PROXY",
            "http_proxy",
            "https_proxy",
            "no_proxy",
            "ALL_PROXY",
            "DBUS_SESSION_BUS_ADDRESS",
            "DOCKER_CREDENTIAL_KEYRING_BACKEND",
            "DOCKER_CREDENTIAL_KEYRING_TIMEOUT",
            "DOCKER_CREDENTIAL_KEYRING_PERSIST",
        ] {
            cmd.env_remove(var);
        }
        // No AWS setting of the caller's may reach a helper: tests say exactly what they use.
        for (var, _) in std::env::vars_os() {
            if var.to_string_lossy().starts_with("AWS_") {
                cmd.env_remove(var);
            }
        }
        cmd
    }

    /// A command for ecr-login that reaches `fake` for both the API and IMDS, keeps its cache in
    /// `<root>/ecr` and reads AWS files only from `<root>/aws`. No credentials are set: add
    /// [`Sandbox::env_creds`] or rely on the fake's IMDS role.
    pub fn ecr_cmd(
        &self,
        fake: &crate::fake_aws::FakeAws,
        program: impl AsRef<std::ffi::OsStr>,
    ) -> Command {
        let mut cmd = self.cmd(program);
        let aws = self.root.join("aws");
        std::fs::create_dir_all(&aws).expect("mkdir aws");
        for f in ["config", "credentials"] {
            if !aws.join(f).exists() {
                std::fs::write(aws.join(f), "").expect("write aws file");
            }
        }
        cmd.env("AWS_ENDPOINT_URL", &fake.url)
            .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &fake.url)
            .env("AWS_ECR_CACHE_DIR", self.root.join("ecr"))
            .env("AWS_CONFIG_FILE", aws.join("config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", aws.join("credentials"));
        cmd
    }

    /// The cache directory [`Sandbox::ecr_cmd`] uses.
    pub fn ecr_dir(&self) -> PathBuf {
        self.root.join("ecr")
    }

    /// Runs `program args…` in the sandbox with `stdin`.
    pub fn run(
        &self,
        program: impl AsRef<std::ffi::OsStr>,
        args: &[&str],
        stdin: impl AsRef<[u8]>,
    ) -> Out {
        let mut cmd = self.cmd(program);
        cmd.args(args);
        run(cmd, stdin)
    }

    /// Runs one of our helpers.
    pub fn ours(&self, name: &str, action: &str, stdin: impl AsRef<[u8]>) -> Out {
        self.run(helper(name), &[action], stdin)
    }

    /// Runs Debian's Go helper of that name (the interop oracle), found by the absolute path its
    /// package installs (see [`crate::peers::oracle`]).
    pub fn go(&self, name: &str, action: &str, stdin: impl AsRef<[u8]>) -> Out {
        let go = crate::peers::oracle(name)
            .unwrap_or_else(|why| panic!("{why} (tests check with need_oracle!)"));
        self.run(go, &[action], stdin)
    }

    /// Writes `$DOCKER_CONFIG/config.json`.
    pub fn docker_config_json(&self, json: &str) -> PathBuf {
        let file = self.docker_config.join("config.json");
        std::fs::write(&file, json).expect("write config.json");
        file
    }
}

impl Default for Sandbox {
    fn default() -> Self {
        Sandbox::new()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        crate::gpg::stop_agent(self);
    }
}

/// Sets a file's mode.
pub fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// A file's mode bits.
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).expect("stat").permissions().mode() & 0o7777
}

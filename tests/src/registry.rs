//! Debian's `docker-registry` (distribution 2.8) with TLS and htpasswd on an ephemeral
//! 127.0.0.1 port, seeded with a test image by skopeo.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::sandbox::Sandbox;

/// The registry's user.
pub const USER: &str = "testuser";
/// The registry's password.
pub const PASSWORD: &str = "testpass-Zq8x";
/// The image every registry is seeded with.
pub const IMAGE: &str = "test/hello:v1";

/// A running registry; dropping it kills it by PID.
pub struct Registry {
    /// `127.0.0.1:PORT`, what docker and skopeo send to the helpers.
    pub host: String,
    /// A dir with `ca.crt` for skopeo's `--cert-dir`.
    pub cert_dir: PathBuf,
    child: Child,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn ok(sb: &Sandbox, program: &str, args: &[&str]) {
    let out = sb.run(program, args, "");
    assert!(out.ok(), "{program} {args:?}: {out:?}");
}

impl Registry {
    /// Starts a registry in `sb` for [`USER`]/[`PASSWORD`] and pushes [`IMAGE`] to it.
    pub fn start(sb: &Sandbox) -> Registry {
        Registry::start_for(sb, USER, PASSWORD)
    }

    /// Starts a registry in `sb` that admits `user`/`password` and pushes [`IMAGE`] to it.
    pub fn start_for(sb: &Sandbox, user: &str, password: &str) -> Registry {
        let dir = sb.root.join("registry");
        let cert_dir = dir.join("certs.d");
        std::fs::create_dir_all(&cert_dir).expect("mkdir");
        let (key, cert) = (dir.join("key.pem"), dir.join("cert.pem"));
        ok(
            sb,
            "openssl",
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
                "-keyout",
                &key.to_string_lossy(),
                "-out",
                &cert.to_string_lossy(),
            ],
        );
        std::fs::copy(&cert, cert_dir.join("ca.crt")).expect("copy ca");
        let out = sb.run("htpasswd", &["-Bbn", user, password], "");
        assert!(out.ok(), "htpasswd: {out:?}");
        std::fs::write(dir.join("htpasswd"), out.stdout).expect("write htpasswd");
        // A port picked now may be taken before the registry binds it: try a few.
        for _ in 0..5 {
            let port = free_port();
            let config = dir.join("config.yml");
            std::fs::write(
                &config,
                format!(
                    "version: 0.1\nlog: {{level: warn}}\nstorage: {{filesystem: {{rootdirectory: {data}}}}}\n\
                     http: {{addr: \"127.0.0.1:{port}\", tls: {{certificate: {cert}, key: {key}}}}}\n\
                     auth: {{htpasswd: {{realm: basic-realm, path: {htpasswd}}}}}\n",
                    data = dir.join("data").display(),
                    cert = cert.display(),
                    key = key.display(),
                    htpasswd = dir.join("htpasswd").display(),
                ),
            )
            .expect("write config");
            let log = std::fs::File::create(dir.join("registry.log")).expect("log");
            let mut child = Command::new("docker-registry")
                .arg("serve")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log"))
                .stderr(log)
                .spawn()
                .expect("start docker-registry");
            let start = Instant::now();
            let mut up = false;
            while start.elapsed() < Duration::from_secs(15) {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    up = true;
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            if up {
                let reg = Registry {
                    host: format!("127.0.0.1:{port}"),
                    cert_dir,
                    child,
                };
                reg.push_test_image(sb, user, password);
                return reg;
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!(
            "docker-registry did not start; see {}",
            dir.join("registry.log").display()
        );
    }

    /// `HOST/test/hello:v1`.
    pub fn image(&self) -> String {
        format!("{}/{IMAGE}", self.host)
    }

    fn push_test_image(&self, sb: &Sandbox, user: &str, password: &str) {
        let layout = crate::oci::build_layout(&sb.root.join("oci"));
        let out = sb.run(
            "skopeo",
            &[
                "copy",
                "-q",
                "--dest-creds",
                &format!("{user}:{password}"),
                "--dest-cert-dir",
                &self.cert_dir.to_string_lossy(),
                &format!("oci:{}:v1", layout.display()),
                &format!("docker://{}", self.image()),
            ],
            "",
        );
        assert!(out.ok(), "skopeo copy to the test registry: {out:?}");
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! Peers for the ECR tests besides the in-process fake: the TLS CONNECT proxy that lets the Go
//! helper (which has no endpoint override) reach the fake, and moto.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::sandbox::Sandbox;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn wait_listening(child: &mut Child, port: u16, what: &str) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited at start: {status}");
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{what} did not listen on 127.0.0.1:{port}");
}

fn openssl(sb: &Sandbox, args: &[&str]) {
    let out = sb.run("openssl", args, "");
    assert!(out.ok(), "openssl {args:?}: {out:?}");
}

/// The proxy; dropping it kills it by PID.
pub struct TlsProxy {
    /// `http://127.0.0.1:PORT`, for `HTTPS_PROXY`.
    pub url: String,
    /// The CA that signed the proxy's certificate, for `AWS_CA_BUNDLE`.
    pub ca: PathBuf,
    child: Child,
}

impl TlsProxy {
    /// Starts a proxy that terminates TLS for the ECR API host names and pipes to `upstream`
    /// (`http://127.0.0.1:PORT`).
    pub fn start(sb: &Sandbox, upstream: &str) -> TlsProxy {
        TlsProxy::start_mode(sb, upstream, false)
    }

    /// A TLS front for `upstream` at `https://127.0.0.1:PORT` (no CONNECT); `url` is that.
    pub fn start_direct(sb: &Sandbox, upstream: &str) -> TlsProxy {
        let mut p = TlsProxy::start_mode(sb, upstream, true);
        p.url = p.url.replace("http://", "https://");
        p
    }

    fn start_mode(sb: &Sandbox, upstream: &str, direct: bool) -> TlsProxy {
        let dir = sb.root.join("awsca");
        std::fs::create_dir_all(&dir).expect("mkdir");
        let p = |f: &str| dir.join(f).to_string_lossy().into_owned();
        openssl(
            sb,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=test-aws-ca",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
                "-keyout",
                &p("ca.key"),
                "-out",
                &p("ca.pem"),
            ],
        );
        openssl(
            sb,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=api.ecr.us-east-1.amazonaws.com",
                "-keyout",
                &p("leaf.key"),
                "-out",
                &p("leaf.csr"),
            ],
        );
        std::fs::write(
            dir.join("leaf.ext"),
            "subjectAltName=DNS:*.ecr.us-east-1.amazonaws.com,DNS:api.ecr-public.us-east-1.amazonaws.com,DNS:localhost,IP:127.0.0.1\n\
             extendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
        )
        .expect("write ext");
        openssl(
            sb,
            &[
                "x509",
                "-req",
                "-in",
                &p("leaf.csr"),
                "-CA",
                &p("ca.pem"),
                "-CAkey",
                &p("ca.key"),
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                &p("leaf.ext"),
                "-out",
                &p("leaf.pem"),
            ],
        );
        let upstream_port = upstream.rsplit(':').next().expect("port").to_string();
        let port = free_port();
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fakes/tls_connect_proxy.py");
        let mut cmd = Command::new("python3");
        cmd.arg(script).args([
            "--listen",
            &port.to_string(),
            "--upstream",
            &upstream_port,
            "--cert",
            &p("leaf.pem"),
            "--key",
            &p("leaf.key"),
        ]);
        if direct {
            cmd.arg("--direct");
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the TLS proxy");
        wait_listening(&mut child, port, "tls_connect_proxy.py");
        TlsProxy {
            url: format!("http://127.0.0.1:{port}"),
            ca: dir.join("ca.pem"),
            child,
        }
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The venv `tests/run.sh` installs moto into.
pub fn moto_server_bin() -> Option<PathBuf> {
    let venv = std::env::var_os("PEERS_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/peers-venv"));
    let bin = venv.join("bin/moto_server");
    bin.is_file().then_some(bin)
}

/// A moto server; dropping it kills it by PID.
pub struct Moto {
    /// `http://127.0.0.1:PORT`: the AWS API endpoint and IMDS.
    pub url: String,
    child: Child,
}

impl Moto {
    /// Starts `moto_server` on a free port.
    pub fn start(sb: &Sandbox) -> Moto {
        let bin = moto_server_bin().expect("moto_server (checked by the caller)");
        let port = free_port();
        let log = std::fs::File::create(sb.root.join("moto.log")).expect("log");
        let mut child = Command::new(bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start moto_server");
        wait_listening(&mut child, port, "moto_server");
        Moto {
            url: format!("http://127.0.0.1:{port}"),
            child,
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

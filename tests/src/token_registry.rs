//! A registry that authenticates like Docker Hub: Bearer tokens from an OAuth2 token endpoint,
//! which takes an identity (refresh) token, the kind `docker login` stores for OAuth registries
//! as `identitytoken`. Plain HTTP on 127.0.0.1 (the docker CLI allows that for loopback with
//! `--insecure`); it serves one manifest and records how clients authenticated.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The identity token the token endpoint accepts.
pub const REFRESH_TOKEN: &str = "fake-identity-token-do-not-log";
const ACCESS_TOKEN: &str = "fake-access-token";
/// The repository it serves (`test/hello:v1`).
pub const REPOSITORY: &str = "test/hello";

/// A manifest to serve: schema 2, one empty config, no layers.
const MANIFEST: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"layers":[]}"#;

/// How a client asked for a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenRequest {
    /// `POST /token` with `grant_type=refresh_token` and this refresh token.
    Refresh(String),
    /// Anything else (a `GET` with basic auth, another grant).
    Other(String),
}

/// A running registry; dropping it stops it.
pub struct TokenRegistry {
    /// `127.0.0.1:PORT`.
    pub host: String,
    seen: Arc<Mutex<Vec<TokenRequest>>>,
    stop: Arc<AtomicBool>,
}

impl TokenRegistry {
    /// Starts it.
    pub fn start() -> TokenRegistry {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let listening = crate::listener::serve(move |conn, _| serve(conn, &s));
        let (host, stop) = (listening.addr, listening.stop);
        TokenRegistry { host, seen, stop }
    }

    /// Every token request so far.
    pub fn token_requests(&self) -> Vec<TokenRequest> {
        self.seen.lock().expect("lock").clone()
    }

    /// `HOST/test/hello:v1`.
    pub fn image(&self) -> String {
        format!("{}/{REPOSITORY}:v1", self.host)
    }
}

impl Drop for TokenRegistry {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve(conn: TcpStream, seen: &Mutex<Vec<TokenRequest>>) {
    let host = conn.local_addr().map(|a| a.to_string()).unwrap_or_default();
    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(read_half) = conn.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut out = conn;
    // A TLS ClientHello (the docker CLI tries HTTPS first): answer in plain HTTP, as an HTTP
    // server does, so the client sees "first record does not look like a TLS handshake" and
    // falls back to HTTP for this insecure registry.
    if reader.fill_buf().is_ok_and(|b| b.first() == Some(&0x16)) {
        let _ = out.write_all(
            b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n",
        );
        return;
    }
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, path) = (
            parts.next().unwrap_or("").to_string(),
            parts.next().unwrap_or("").to_string(),
        );
        let mut authorization = None;
        let mut len = 0usize;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                match k.trim().to_ascii_lowercase().as_str() {
                    "authorization" => authorization = Some(v.trim().to_string()),
                    "content-length" => len = v.trim().parse().unwrap_or(0),
                    _ => {}
                }
            }
        }
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let body = String::from_utf8_lossy(&body).into_owned();
        let challenge = |scope: &str| {
            format!(
                "WWW-Authenticate: Bearer realm=\"http://{host}/token\",service=\"fake-registry\"{scope}\r\n"
            )
        };
        let bearer = authorization.as_deref() == Some(&format!("Bearer {ACCESS_TOKEN}"));
        let (status, headers, content_type, payload) = if path.starts_with("/token") {
            let form: Vec<(String, String)> = body
                .split('&')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), decode(v)))
                .collect();
            let field = |k: &str| form.iter().find(|(f, _)| f == k).map(|(_, v)| v.clone());
            let request = match (method.as_str(), field("grant_type").as_deref()) {
                ("POST", Some("refresh_token")) => {
                    TokenRequest::Refresh(field("refresh_token").unwrap_or_default())
                }
                _ => TokenRequest::Other(format!("{method} {path}")),
            };
            let good = request == TokenRequest::Refresh(REFRESH_TOKEN.to_string());
            seen.lock().expect("lock").push(request);
            if good {
                (
                    "200 OK",
                    String::new(),
                    "application/json",
                    format!(
                        r#"{{"access_token":"{ACCESS_TOKEN}","expires_in":300,"refresh_token":"{REFRESH_TOKEN}"}}"#
                    ),
                )
            } else {
                (
                    "401 Unauthorized",
                    String::new(),
                    "application/json",
                    r#"{"error":"invalid_grant"}"#.to_string(),
                )
            }
        } else if path == "/v2/" || path == "/v2" {
            if bearer {
                ("200 OK", String::new(), "application/json", "{}".into())
            } else {
                (
                    "401 Unauthorized",
                    challenge(""),
                    "application/json",
                    r#"{"errors":[{"code":"UNAUTHORIZED"}]}"#.into(),
                )
            }
        } else if path.starts_with(&format!("/v2/{REPOSITORY}/blobs/")) && bearer {
            // The config blob the manifest names: `{}`.
            (
                "200 OK",
                String::new(),
                "application/octet-stream",
                "{}".to_string(),
            )
        } else if path.starts_with(&format!("/v2/{REPOSITORY}/manifests/")) {
            if bearer {
                (
                    "200 OK",
                    String::new(),
                    "application/vnd.docker.distribution.manifest.v2+json",
                    MANIFEST.to_string(),
                )
            } else {
                (
                    "401 Unauthorized",
                    challenge(&format!(",scope=\"repository:{REPOSITORY}:pull\"")),
                    "application/json",
                    r#"{"errors":[{"code":"UNAUTHORIZED"}]}"#.into(),
                )
            }
        } else {
            (
                "404 Not Found",
                String::new(),
                "application/json",
                "{}".into(),
            )
        };
        // A HEAD gets the headers a GET would, and no body.
        let length = payload.len();
        let payload = if method == "HEAD" { "" } else { &payload };
        let response = format!(
            "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\n\
             Docker-Distribution-Api-Version: registry/2.0\r\n{headers}\r\n{payload}"
        );
        if out.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

/// `application/x-www-form-urlencoded` value decoding.
fn decode(v: &str) -> String {
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

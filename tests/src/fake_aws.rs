//! A small fake of the AWS endpoints ecr-login talks to — ECR and ECR Public
//! `GetAuthorizationToken`, IMDSv2 role credentials — on 127.0.0.1, in the test process.
//!
//! moto cannot serve these tests: its tokens always expire in 2015 and it has no ECR Public. This
//! fake returns realistic expiry, records every request (path, target, the access key that signed
//! it) and injects faults (5xx, throttling, delay, hang).
//!
//! Its STS answers `AssumeRoleWithWebIdentity` per role: each role ARN gets an access key of its
//! own ([`web_identity_key`]), so a test can tell which role signed an ECR call; it records the
//! role and the web identity token it received; and a role given a trust list
//! ([`FakeAws::trust_web_identity`]) refuses every other token, as a role's trust policy does.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What the next API calls (not IMDS) do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    /// Answer normally.
    None,
    /// HTTP 500 InternalServerError.
    ServerError,
    /// HTTP 400 ThrottlingException.
    Throttle,
    /// Answer normally after this long.
    Delay(Duration),
    /// Never answer (the connection stays open until the fake is dropped).
    Hang,
}

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `GET`, `PUT`, `POST`.
    pub method: String,
    /// The path.
    pub path: String,
    /// `X-Amz-Target`, for API calls.
    pub target: Option<String>,
    /// The access key id in the SigV4 `Authorization` header.
    pub access_key: Option<String>,
    /// The region of the SigV4 credential scope.
    pub region: Option<String>,
    /// The body.
    pub body: String,
    /// For `AssumeRoleWithWebIdentity`: the role and the token it was sent (decoded).
    pub web_identity: Option<(String, String)>,
}

#[derive(Debug)]
struct State {
    seen: Vec<Seen>,
    fault: Fault,
    imds_fault: Fault,
    imds_token_fault: Fault,
    ttl: Duration,
    password: String,
    /// Role ARN → the web identity tokens its trust policy admits (a role not listed admits any).
    trust: Vec<(String, String)>,
}

/// The fake's role credentials on IMDS: these must never show up in a log.
pub const IMDS_ACCESS_KEY: &str = "ASIAFAKEIMDSROLEKEY1";
/// The secret key served by IMDS.
pub const IMDS_SECRET_KEY: &str = "imds-secret-key-do-not-log";
/// The session token served by IMDS.
pub const IMDS_SESSION_TOKEN: &str = "imds-session-token-do-not-log";

/// The key of the credentials the fake's STS hands out for `AssumeRole`.
pub const STS_ACCESS_KEY: &str = "ASIAFAKESTSROLEKEY01";

/// The access key of the credentials the fake's STS hands out for `AssumeRoleWithWebIdentity` of
/// `role_arn`: one per role, the same in every process (FNV-1a of the ARN).
pub fn web_identity_key(role_arn: &str) -> String {
    let hash = role_arn.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("ASIAWEBID{:011X}", hash >> 20)
}

/// The session token handed out with every web identity role's credentials: never to be logged.
pub const WEB_IDENTITY_SESSION_TOKEN: &str = "web-identity-session-token-do-not-log";
/// The account a `GetAuthorizationToken` without `registryIds` answers for: the caller's own.
pub const DEFAULT_ACCOUNT: &str = "123456789012";

/// The key of the credentials the fake's SSO portal hands out (`GetRoleCredentials`).
pub const SSO_ACCESS_KEY: &str = "ASIAFAKESSOROLEKEY01";
/// The SSO access token the fake's portal accepts (from the SSO token cache).
pub const SSO_ACCESS_TOKEN: &str = "fake-sso-access-token";

/// The key of the credentials served at `/container-creds` (ECS/EKS container credentials).
pub const CONTAINER_ACCESS_KEY: &str = "ASIAFAKECONTAINERKEY";

/// A running fake; dropping it stops it.
pub struct FakeAws {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl FakeAws {
    /// Starts the fake; its tokens carry `password` for user `AWS` and live 12 h.
    pub fn start(password: &str) -> FakeAws {
        let state = Arc::new(Mutex::new(State {
            seen: Vec::new(),
            fault: Fault::None,
            imds_fault: Fault::None,
            imds_token_fault: Fault::None,
            ttl: Duration::from_secs(12 * 3600),
            password: password.to_string(),
            trust: Vec::new(),
        }));
        let s = state.clone();
        let listening = crate::listener::serve(move |conn, stop| serve(conn, &s, stop));
        let url = format!("http://{}", listening.addr);
        let stop = listening.stop;
        FakeAws { url, state, stop }
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().expect("lock").seen.clone()
    }

    /// How many `GetAuthorizationToken` calls (ECR or ECR Public) so far.
    pub fn token_calls(&self) -> usize {
        self.seen()
            .iter()
            .filter(|s| {
                s.target
                    .as_deref()
                    .is_some_and(|t| t.ends_with("GetAuthorizationToken"))
            })
            .count()
    }

    /// How many IMDS calls so far.
    pub fn imds_calls(&self) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.path.starts_with("/latest/"))
            .count()
    }

    /// Makes the next API calls fail or stall.
    pub fn set_fault(&self, fault: Fault) {
        self.state.lock().expect("lock").fault = fault;
    }

    /// Makes only IMDSv2's token request (`PUT /latest/api/token`) stall from now on: what a
    /// container on EC2 sees when the instance's metadata hop limit is 1 (the answer to the PUT
    /// is dropped one hop short).
    pub fn set_imds_token_fault(&self, fault: Fault) {
        self.state.lock().expect("lock").imds_token_fault = fault;
    }

    /// Makes the IMDS answers stall (`Delay`, `Hang`) from now on.
    pub fn set_imds_fault(&self, fault: Fault) {
        self.state.lock().expect("lock").imds_fault = fault;
    }

    /// Gives `role_arn` a trust policy that admits `token` (and the other tokens given so far): from
    /// now on STS refuses it every other token with `AccessDenied`.
    pub fn trust_web_identity(&self, role_arn: &str, token: &str) {
        self.state
            .lock()
            .expect("lock")
            .trust
            .push((role_arn.to_string(), token.to_string()));
    }

    /// Every `AssumeRoleWithWebIdentity` so far: (role ARN, token), admitted or not.
    pub fn web_identity_calls(&self) -> Vec<(String, String)> {
        self.seen()
            .into_iter()
            .filter_map(|s| s.web_identity)
            .collect()
    }

    /// Sets the lifetime of the tokens handed out from now on.
    pub fn set_ttl(&self, ttl: Duration) {
        self.state.lock().expect("lock").ttl = ttl;
    }
}

impl Drop for FakeAws {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve(conn: TcpStream, state: &Mutex<State>, stop: &AtomicBool) {
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
    let mut reader = BufReader::new(match conn.try_clone() {
        Ok(c) => c,
        Err(_) => return,
    });
    let mut out = conn;
    // Several requests may come on one connection.
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
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end().to_string();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let len: usize = header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let target = header("x-amz-target");
        // Credential=<key id>/<date>/<region>/<service>/aws4_request
        let scope: Vec<String> = header("authorization")
            .and_then(|a| {
                let cred = a.split("Credential=").nth(1)?;
                Some(
                    cred.split(',')
                        .next()
                        .unwrap_or("")
                        .split('/')
                        .map(str::to_string)
                        .collect(),
                )
            })
            .unwrap_or_default();
        let text = String::from_utf8_lossy(&body).into_owned();
        let web_identity = text
            .starts_with("Action=AssumeRoleWithWebIdentity")
            .then(|| {
                (
                    form_field(&text, "RoleArn"),
                    form_field(&text, "WebIdentityToken"),
                )
            });
        let seen = Seen {
            method: method.clone(),
            path: path.clone(),
            target: target.clone(),
            access_key: scope.first().cloned(),
            region: scope.get(2).cloned(),
            body: text,
            web_identity: web_identity.clone(),
        };
        let (fault, imds_fault, imds_token_fault, ttl, password, admitted) = {
            let mut s = state.lock().expect("lock");
            s.seen.push(seen);
            let admitted = web_identity.as_ref().is_none_or(|(role, token)| {
                let listed: Vec<&String> = s
                    .trust
                    .iter()
                    .filter(|(r, _)| r == role)
                    .map(|(_, t)| t)
                    .collect();
                listed.is_empty() || listed.contains(&token)
            });
            (
                s.fault,
                s.imds_fault,
                s.imds_token_fault,
                s.ttl,
                s.password.clone(),
                admitted,
            )
        };
        let stall = |fault: Fault| match fault {
            Fault::Hang => {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(50));
                }
                false
            }
            Fault::Delay(d) => {
                std::thread::sleep(d);
                true
            }
            _ => true,
        };
        let (status, content_type, body) = if path.starts_with("/latest/") {
            if !stall(imds_fault) || (path == "/latest/api/token" && !stall(imds_token_fault)) {
                return;
            }
            imds(&method, &path)
        } else if path.starts_with("/federation/credentials") {
            sso(header("x-amz-sso_bearer_token").as_deref())
        } else if path.starts_with("/container-creds") {
            (
                "200 OK",
                "application/json",
                credentials_json(CONTAINER_ACCESS_KEY, false),
            )
        } else if let Some((role, _)) = &web_identity {
            if admitted {
                sts_answer(
                    "AssumeRoleWithWebIdentity",
                    &web_identity_key(role),
                    WEB_IDENTITY_SESSION_TOKEN,
                )
            } else {
                (
                    "403 Forbidden",
                    "text/xml",
                    "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>\
                     <Code>AccessDenied</Code><Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message>\
                     </Error><RequestId>fake</RequestId></ErrorResponse>"
                        .to_string(),
                )
            }
        } else if body.starts_with(b"Action=AssumeRole") {
            sts_answer("AssumeRole", STS_ACCESS_KEY, "sts-session-token-do-not-log")
        } else {
            if !stall(fault) {
                return;
            }
            api(
                fault,
                target.as_deref().unwrap_or(""),
                &body,
                ttl,
                &password,
            )
        };
        // IMDSv2 clients require the token's TTL back.
        let ttl_header = if path == "/latest/api/token" {
            format!(
                "X-aws-ec2-metadata-token-ttl-seconds: {}\r\n",
                header("x-aws-ec2-metadata-token-ttl-seconds").unwrap_or_else(|| "21600".into())
            )
        } else {
            String::new()
        };
        let response = format!(
            "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{ttl_header}x-amzn-RequestId: fake-{}\r\n\r\n{body}",
            body.len(),
            std::process::id()
        );
        if out.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

fn epoch() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn api(
    fault: Fault,
    target: &str,
    body: &[u8],
    ttl: Duration,
    password: &str,
) -> (&'static str, &'static str, String) {
    const JSON: &str = "application/x-amz-json-1.1";
    match fault {
        Fault::ServerError => {
            return (
                "500 Internal Server Error",
                JSON,
                r#"{"__type":"ServerException","message":"fake: injected 500"}"#.into(),
            );
        }
        Fault::Throttle => {
            return (
                "400 Bad Request",
                JSON,
                r#"{"__type":"ThrottlingException","message":"fake: injected throttling"}"#.into(),
            );
        }
        _ => {}
    }
    use base64::Engine;
    let token = base64::engine::general_purpose::STANDARD.encode(format!("AWS:{password}"));
    let expires = epoch() + ttl.as_secs_f64();
    match target {
        "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken" => {
            let req: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
            let id = req["registryIds"][0]
                .as_str()
                .unwrap_or(DEFAULT_ACCOUNT)
                .to_string();
            let data = serde_json::json!({"authorizationData": [{
                "authorizationToken": token, "expiresAt": expires,
                "proxyEndpoint": format!("https://{id}.dkr.ecr.us-east-1.amazonaws.com"),
            }]});
            ("200 OK", JSON, data.to_string())
        }
        "SpencerFrontendService.GetAuthorizationToken" => {
            let data = serde_json::json!({"authorizationData": {"authorizationToken": token, "expiresAt": expires}});
            ("200 OK", JSON, data.to_string())
        }
        other => (
            "400 Bad Request",
            JSON,
            format!(r#"{{"__type":"UnknownOperationException","message":"fake: {other}"}}"#),
        ),
    }
}

/// The SSO portal's `GetRoleCredentials` (`GET /federation/credentials`): role credentials for
/// a valid access token, 401 otherwise.
fn sso(token: Option<&str>) -> (&'static str, &'static str, String) {
    if token != Some(SSO_ACCESS_TOKEN) {
        return (
            "401 Unauthorized",
            "application/json",
            r#"{"message":"fake: invalid access token"}"#.into(),
        );
    }
    let doc = serde_json::json!({"roleCredentials": {
        "accessKeyId": SSO_ACCESS_KEY, "secretAccessKey": "sso-secret-do-not-log",
        "sessionToken": "sso-session-token-do-not-log",
        "expiration": ((epoch() + 3600.0) * 1000.0) as i64,
    }});
    ("200 OK", "application/json", doc.to_string())
}

/// The value of `name` in a form-encoded body, decoded (`+` and `%XX`).
fn form_field(body: &str, name: &str) -> String {
    let raw = body
        .split('&')
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
        .unwrap_or("");
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match raw
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                Some(b) => {
                    out.push(b);
                    i += 2;
                }
                None => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// STS's query protocol answers in XML: credentials with this access key and session token.
fn sts_answer(
    action: &str,
    access_key: &str,
    session_token: &str,
) -> (&'static str, &'static str, String) {
    let xml = format!(
        "<{action}Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><{action}Result><Credentials>\
         <AccessKeyId>{access_key}</AccessKeyId><SecretAccessKey>sts-secret-do-not-log</SecretAccessKey>\
         <SessionToken>{session_token}</SessionToken><Expiration>{}</Expiration></Credentials>\
         <AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/pull/fake</Arn><AssumedRoleId>AROAFAKE:fake</AssumedRoleId></AssumedRoleUser>\
         </{action}Result><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></{action}Response>",
        iso8601(epoch() + 3600.0)
    );
    ("200 OK", "text/xml", xml)
}

/// A credentials document as IMDS (`imds = true`) or the container endpoint serve it.
fn credentials_json(key: &str, imds: bool) -> String {
    let now = epoch();
    let mut doc = serde_json::json!({
        "AccessKeyId": key, "SecretAccessKey": if imds { IMDS_SECRET_KEY } else { "container-secret-do-not-log" },
        "Token": if imds { IMDS_SESSION_TOKEN } else { "container-token-do-not-log" }, "Expiration": iso8601(now + 6.0 * 3600.0),
    });
    if imds {
        doc["Code"] = "Success".into();
        doc["LastUpdated"] = iso8601(now).into();
        doc["Type"] = "AWS-HMAC".into();
    }
    doc.to_string()
}

fn iso8601(secs: f64) -> String {
    let t = secs as i64;
    let (days, rem) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    let (y, m, d) = civil(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn imds(method: &str, path: &str) -> (&'static str, &'static str, String) {
    match (method, path) {
        ("PUT", "/latest/api/token") => ("200 OK", "text/plain", "fake-imds-v2-token".into()),
        ("GET", "/latest/meta-data/iam/security-credentials/")
        | ("GET", "/latest/meta-data/iam/security-credentials") => {
            ("200 OK", "text/plain", "fake-role".into())
        }
        ("GET", "/latest/meta-data/iam/security-credentials/fake-role") => (
            "200 OK",
            "text/plain",
            credentials_json(IMDS_ACCESS_KEY, true),
        ),
        _ => ("404 Not Found", "text/plain", String::new()),
    }
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

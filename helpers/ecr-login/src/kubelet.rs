//! The kubelet's image credential provider plugin: `docker-credential-ecr-login
//! kubelet-credential-provider`, run by the kubelet with one `CredentialProviderRequest` on stdin
//! (`credentialprovider.kubelet.k8s.io/v1`, and `v1beta1` and `v1alpha1`, answered in the version
//! asked) and one `CredentialProviderResponse` expected on stdout.
//!
//! It is the same helper, not a second program: the request becomes a [`Request`] as a server URL
//! does, and the token comes from the same policy and cache ([`policy::token`]), so a hit makes no
//! network call, concurrent cold calls make one, and every call ends within `AWS_ECR_TIMEOUT` (plus
//! the policy's slack). stdout holds the response and nothing else; any failure is one line on
//! stderr and exit status 1, which the kubelet logs before it goes on without credentials.
//!
//! In service-account-token mode (KEP-4412) the kubelet adds the pod's service-account token and
//! the service account's annotations. When the annotation [`ROLE_ANNOTATION`] names a role, the
//! token is exchanged for that role (`AssumeRoleWithWebIdentity`) and the ECR token fetched as
//! it; the cache key names the role and whom the token names, never the token. Without the
//! annotation the node's own identity fetches, as cloud-provider-aws's `ecr-credential-provider`
//! does; a kubelet that must not fall back lists the annotation in
//! `tokenAttributes.requiredServiceAccountAnnotationKeys`, and then never calls us without it.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{Read, Write};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use credhelper::Secret;
use credhelper::os::{hardening, logging};
use credhelper::protocol::driver::span_record;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::cache::{Entry, Freshness, now};
use crate::config::ConfigError;
use crate::front::{self, Process};
use crate::policy::{self, PolicyError};
use crate::request::{self, Request};
use crate::{INFO, timeout};

/// The argument that selects plugin mode: the kubelet's configuration names
/// `docker-credential-ecr-login` with `args: ["kubelet-credential-provider"]`.
pub const ARG: &str = "kubelet-credential-provider";

/// The service-account annotation that names the role to fetch as, as cloud-provider-aws reads it.
pub const ROLE_ANNOTATION: &str = "eks.amazonaws.com/ecr-role-arn";

/// The most we read from stdin: a request is an image name, a token of a few KiB and a few
/// annotations.
const MAX_REQUEST: usize = 1 << 20;

/// What a request's buffer is given up front, so that reading one does not leave copies of a
/// token behind in freed memory.
const READ_BUFFER: usize = 64 << 10;

/// The versions of the protocol this plugin answers, each in its own version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    /// `credentialprovider.kubelet.k8s.io/v1` (Kubernetes 1.26 and later).
    V1,
    /// `credentialprovider.kubelet.k8s.io/v1beta1`.
    V1beta1,
    /// `credentialprovider.kubelet.k8s.io/v1alpha1`.
    V1alpha1,
}

impl ApiVersion {
    /// The `apiVersion` string.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V1 => "credentialprovider.kubelet.k8s.io/v1",
            ApiVersion::V1beta1 => "credentialprovider.kubelet.k8s.io/v1beta1",
            ApiVersion::V1alpha1 => "credentialprovider.kubelet.k8s.io/v1alpha1",
        }
    }

    fn parse(text: &str) -> Option<ApiVersion> {
        [ApiVersion::V1, ApiVersion::V1beta1, ApiVersion::V1alpha1]
            .into_iter()
            .find(|v| v.as_str() == text)
    }
}

/// A request, read.
#[derive(Debug)]
pub struct Ask {
    /// The version it came in, and the answer goes out in.
    pub version: ApiVersion,
    /// The image being pulled.
    pub image: String,
    /// The pod's service account, when the kubelet sent its token and the account names a role.
    pub service_account: Option<ServiceAccount>,
}

/// A pod's service account in service-account-token mode.
#[derive(Debug)]
pub struct ServiceAccount {
    /// The role its [`ROLE_ANNOTATION`] names.
    pub role_arn: String,
    /// Whom its token names (see [`subject_of`]).
    pub subject: String,
    /// The token.
    pub token: Secret,
}

/// Why a call has no response. Every message is one line that says what to do, and none holds the
/// service account's token, a registry password or any text of the request but the image, the
/// apiVersion, the kind and the role.
#[derive(Debug, thiserror::Error)]
pub enum KubeletError {
    /// Arguments after [`ARG`].
    #[error(
        "unexpected argument {0:?}: the kubelet's configuration gives args: [\"kubelet-credential-provider\"] and nothing else"
    )]
    Args(String),
    /// stdin could not be read.
    #[error("cannot read the CredentialProviderRequest on stdin: {0}")]
    Read(#[source] std::io::Error),
    /// stdin stayed open.
    #[error(
        "no CredentialProviderRequest on stdin within {0} s (AWS_ECR_TIMEOUT): the kubelet writes one and closes stdin"
    )]
    ReadTimeout(f64),
    /// More than [`MAX_REQUEST`] bytes.
    #[error("the CredentialProviderRequest on stdin is larger than 1 MiB")]
    TooLarge,
    /// Not JSON, or not the request's shape. Only the position is told: serde's own text may
    /// quote a value, and a value may be the token.
    #[error(
        "the CredentialProviderRequest on stdin is not valid: {what} at line {line}, column {column}"
    )]
    Json {
        /// What kind of fault.
        what: &'static str,
        /// Where.
        line: usize,
        /// Where.
        column: usize,
    },
    /// An `apiVersion` this plugin does not answer.
    #[error(
        "apiVersion {0:?} is not one this plugin answers: use credentialprovider.kubelet.k8s.io/v1 (or v1beta1, v1alpha1) in the CredentialProviderConfig"
    )]
    ApiVersion(String),
    /// A `kind` other than `CredentialProviderRequest`.
    #[error("kind {0:?}: expected CredentialProviderRequest")]
    Kind(String),
    /// No image.
    #[error("the CredentialProviderRequest names no image")]
    NoImage,
    /// The image's registry is not ECR's (nor an alias of it).
    #[error(
        "{0}: not an Amazon ECR or ECR Public image: narrow the provider's matchImages to ECR hosts (packaging/kubernetes/credential-provider-config.yaml)"
    )]
    NotEcr(String),
    /// The role annotation is not a role ARN.
    #[error(
        "the service account's {ROLE_ANNOTATION} annotation {0:?} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)"
    )]
    BadRole(String),
    /// A role and no token to reach it with.
    #[error(
        "the service account names the role {0} ({ROLE_ANNOTATION}) but the request carries no serviceAccountToken: set tokenAttributes.serviceAccountTokenAudience in the CredentialProviderConfig"
    )]
    NoToken(String),
    /// A token whose claims name nobody.
    #[error(
        "the serviceAccountToken is not a service account's JWT (no issuer and subject in its claims)"
    )]
    BadToken,
    /// The per-registry configuration cannot be used.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// No token: the policy's reason (an API failure, no credentials, the bound).
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// A token that does not decode.
    #[error("the token for {0} is not base64 of user:password")]
    BadEcrToken(String),
}

/// The request as the kubelet encodes it. Unknown fields are accepted (a newer kubelet may add
/// some); names are matched case-sensitively, as the kubelet's own decoder does.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireRequest {
    api_version: Option<String>,
    kind: Option<String>,
    image: Option<String>,
    service_account_token: Option<Secret>,
    service_account_annotations: Option<BTreeMap<String, String>>,
}

/// Reads a request. Pure, so that the protocol is tested without processes.
pub fn parse_request(input: &[u8]) -> Result<Ask, KubeletError> {
    let wire: WireRequest = serde_json::from_slice(input).map_err(|e| {
        use serde_json::error::Category;
        KubeletError::Json {
            what: match e.classify() {
                Category::Syntax => "not JSON",
                Category::Eof => "the JSON ends early",
                Category::Data => "a field of the wrong type",
                Category::Io => "unreadable",
            },
            line: e.line(),
            column: e.column(),
        }
    })?;
    let api_version = wire.api_version.unwrap_or_default();
    let version = ApiVersion::parse(&api_version).ok_or(KubeletError::ApiVersion(api_version))?;
    match wire.kind.as_deref() {
        Some("CredentialProviderRequest") => {}
        other => return Err(KubeletError::Kind(other.unwrap_or_default().to_string())),
    }
    let image = wire
        .image
        .filter(|i| !i.trim().is_empty())
        .ok_or(KubeletError::NoImage)?;
    let token = wire.service_account_token.filter(|t| !t.is_empty());
    let role = wire
        .service_account_annotations
        .unwrap_or_default()
        .remove(ROLE_ANNOTATION)
        .filter(|r| !r.is_empty());
    let service_account = match (role, token) {
        (Some(role), Some(token)) => {
            if !is_role_arn(&role) {
                return Err(KubeletError::BadRole(role));
            }
            let subject = subject_of(&token).ok_or(KubeletError::BadToken)?;
            Some(ServiceAccount {
                role_arn: role,
                subject,
                token,
            })
        }
        (Some(role), None) => return Err(KubeletError::NoToken(role)),
        // No role named: the node's identity fetches (see the module's documentation).
        (None, _) => None,
    };
    Ok(Ask {
        version,
        image,
        service_account,
    })
}

/// `arn:<partition>:iam::<12 digits>:role/<path and name>`, in IAM's characters.
fn is_role_arn(text: &str) -> bool {
    let mut parts = text.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let name = resource.strip_prefix("role/").unwrap_or("");
    partition.starts_with("aws")
        && partition
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'-')
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !name.is_empty()
        && text.len() <= 2048
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-/".contains(&b))
}

/// Whom a service account's token names, from its (unverified) claims: `iss`, `sub`, the
/// service account's uid and `aud`. `None` if it is not a JWT with an issuer and a subject.
///
/// The claims are not verified here, and need not be: STS verifies the token on every exchange,
/// and a cached token is only ever served to a request that names the same role and the same
/// subject. Whoever forges claims can only ever be served from the cache of the user they run as
/// (each user's cache is private, 0600 in a 0700 directory): tokens that user could read anyway.
/// For the kubelet's cache, that is root.
pub fn subject_of(token: &Secret) -> Option<String> {
    use base64::Engine;
    use base64::engine::DecodePaddingMode;
    use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
    const URL: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let mut parts = token.expose().split('.');
    let (Some(_header), Some(payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let claims = Zeroizing::new(URL.decode(payload).ok()?);
    #[derive(Deserialize)]
    struct Claims {
        iss: Option<String>,
        sub: Option<String>,
        aud: Option<Audience>,
        #[serde(rename = "kubernetes.io")]
        kubernetes: Option<KubernetesClaims>,
    }
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Audience {
        One(String),
        Many(Vec<String>),
    }
    #[derive(Deserialize)]
    struct KubernetesClaims {
        serviceaccount: Option<Named>,
    }
    #[derive(Deserialize)]
    struct Named {
        uid: Option<String>,
    }
    let c: Claims = serde_json::from_slice(&claims[..]).ok()?;
    let (iss, sub) = (
        c.iss.filter(|s| !s.is_empty())?,
        c.sub.filter(|s| !s.is_empty())?,
    );
    let aud = match c.aud {
        Some(Audience::One(a)) => a,
        Some(Audience::Many(a)) => a.join(","),
        None => String::new(),
    };
    let uid = c
        .kubernetes
        .and_then(|k| k.serviceaccount)
        .and_then(|s| s.uid)
        .unwrap_or_default();
    // Spaces would blur the fields of the cache key; no issuer URL, subject or uid has any.
    let field = |s: &str| s.replace(|c: char| c.is_whitespace() || c.is_control(), "_");
    Some(format!(
        "iss={} sub={} uid={} aud={}",
        field(&iss),
        field(&sub),
        field(&uid),
        field(&aud)
    ))
}

/// The registry part of an image reference, as the kubelet keys its cache for
/// `cacheKeyType: Registry` (everything before the first `/`), when it is a `host[:port]` and
/// nothing else: no userinfo, no scheme.
pub fn registry_of(image: &str) -> Option<&str> {
    let registry = image.split('/').next()?;
    let host_chars = |b: u8| b.is_ascii_alphanumeric() || b"-._:[]".contains(&b);
    (!registry.is_empty() && registry.bytes().all(host_chars)).then_some(registry)
}

/// How long the kubelet may keep the credentials, in seconds: until our cache would refresh the
/// token (half its life), so that the kubelet asks again exactly when we would fetch anew, and so
/// never after the token expires. A token past half-life (served while a refresh fails) gets 0:
/// the kubelet then asks on every pull, and each ask is a cache hit until the refresh succeeds.
pub fn cache_duration(entry: &Entry, now: i64) -> u64 {
    if entry.freshness(now) != Freshness::Fresh {
        return 0;
    }
    let half = (i128::from(entry.requested_at) + i128::from(entry.expires_at)) / 2;
    u64::try_from(half - i128::from(now)).unwrap_or(0)
}

/// A whole number of seconds as Go's `time.Duration.String` writes it (`6h0m0s`, `1m30s`,
/// `0s`), which the kubelet's `metav1.Duration` parses.
pub fn go_duration(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireResponse<'a> {
    kind: &'static str,
    api_version: &'static str,
    cache_key_type: &'static str,
    cache_duration: String,
    auth: BTreeMap<&'a str, WireAuth<'a>>,
}

#[derive(Serialize)]
struct WireAuth<'a> {
    username: &'a str,
    password: &'a str,
}

/// The response: the credentials under the registry's own key (the image's `host[:port]`, which
/// the kubelet's match rules always match against the image), `cacheKeyType: Registry`, and
/// `cacheDuration` from [`cache_duration`]. Zeroed when dropped: it holds the password.
pub fn response_json(
    version: ApiVersion,
    registry: &str,
    username: &str,
    password: &Secret,
    cache_secs: u64,
) -> Zeroizing<Vec<u8>> {
    let response = WireResponse {
        kind: "CredentialProviderResponse",
        api_version: version.as_str(),
        cache_key_type: "Registry",
        cache_duration: go_duration(cache_secs),
        auth: BTreeMap::from([(
            registry,
            WireAuth {
                username,
                password: password.expose(),
            },
        )]),
    };
    // Room up front, so that no copy of the password is left behind by a growing buffer.
    let mut out = Zeroizing::new(Vec::with_capacity(1024 + password.expose().len() * 2));
    // Serialising strings into memory cannot fail.
    if serde_json::to_writer(&mut *out, &response).is_err() {
        out.clear();
    }
    out.push(b'\n');
    out
}

/// Answers one request: the ECR token for the image's registry, from the cache or the fetcher.
fn answer(ask: &Ask) -> Result<Zeroizing<Vec<u8>>, KubeletError> {
    span_record("image", &ask.image);
    let not_ecr = || KubeletError::NotEcr(ask.image.clone());
    let registry = registry_of(&ask.image).ok_or_else(not_ecr)?;
    let req: Request = request::resolve(registry)?.ok_or_else(not_ecr)?;
    let req = match &ask.service_account {
        Some(sa) => {
            req.for_service_account(sa.role_arn.clone(), sa.subject.clone(), sa.token.clone())
        }
        None => req,
    };
    span_record("registry", &req.registry.host);
    span_record("source", &req.identity.label());
    let cache = front::cache();
    let (entry, outcome) = policy::token(&req, cache.as_ref(), &Process, timeout())?;
    span_record("cache", outcome.as_str());
    let (username, password) = entry
        .credentials()
        .ok_or_else(|| KubeletError::BadEcrToken(req.registry.host.clone()))?;
    Ok(response_json(
        ask.version,
        registry,
        &username,
        &password,
        cache_duration(&entry, now()),
    ))
}

/// All of stdin, at most [`MAX_REQUEST`] bytes, within `limit`: a caller that never closes stdin
/// gets an error, not a plugin that waits for ever.
fn read_request(limit: Duration) -> Result<Zeroizing<Vec<u8>>, KubeletError> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Zeroizing::new(Vec::with_capacity(READ_BUFFER));
        let read = std::io::stdin()
            .lock()
            .take(MAX_REQUEST as u64 + 1)
            .read_to_end(&mut buf)
            .map(|_| buf);
        let _ = tx.send(read);
    });
    match rx.recv_timeout(limit) {
        Ok(Ok(buf)) if buf.len() > MAX_REQUEST => Err(KubeletError::TooLarge),
        Ok(Ok(buf)) => Ok(buf),
        Ok(Err(e)) => Err(KubeletError::Read(e)),
        Err(_) => Err(KubeletError::ReadTimeout(limit.as_secs_f64())),
    }
}

/// The arguments after [`ARG`] (none are taken), then the request, then the answer.
fn run(args: &[OsString]) -> Result<Zeroizing<Vec<u8>>, KubeletError> {
    if let Some(arg) = args.first() {
        return Err(KubeletError::Args(credhelper::one_line(
            &arg.to_string_lossy(),
        )));
    }
    let input = read_request(timeout())?;
    answer(&parse_request(&input)?)
}

/// A panic (a bug) ends like every other failure here: one line on stderr, where the kubelet
/// reads why, exit 1; stdout stays clean. The line names where the bug is, never the panic's
/// message, which could hold data the plugin was working on.
fn panics_to_stderr() {
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        tracing::error!("internal error{at}");
        let line = format!(
            "{}: internal error{at} (a bug: please report it)\n",
            INFO.name
        );
        let _ = std::io::stderr().write_all(line.as_bytes());
        std::process::exit(1);
    }));
}

/// The whole of plugin mode: `args` are those after [`ARG`]. The response on stdout and exit 0,
/// or one line on stderr and exit 1.
pub fn main(args: &[OsString]) -> ExitCode {
    hardening::no_core_dumps();
    panics_to_stderr();
    logging::init(INFO.name, &INFO.log);
    let start = Instant::now();
    // The fields every log line of this call carries, as the docker protocol's driver logs them.
    let span = tracing::info_span!(
        "call",
        action = "kubelet",
        image = tracing::field::Empty,
        registry = tracing::field::Empty,
        source = tracing::field::Empty,
        cache = tracing::field::Empty,
        api_ms = tracing::field::Empty,
    );
    let _entered = span.enter();
    let result = run(args);
    let elapsed_ms = (start.elapsed().as_secs_f64() * 1e4).round() / 10.0;
    match result {
        Ok(response) => {
            let mut stdout = std::io::stdout().lock();
            match stdout.write_all(&response).and_then(|()| stdout.flush()) {
                Ok(()) => {
                    tracing::info!(elapsed_ms, "ok");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    tracing::info!(elapsed_ms, error = %e, "failed to write the response");
                    ExitCode::FAILURE
                }
            }
        }
        Err(e) => {
            tracing::info!(elapsed_ms, error = %e, "failed");
            let line = format!("{}\n", credhelper::one_line(&e.to_string()));
            let _ = std::io::stderr().write_all(line.as_bytes());
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> Secret {
        use base64::Engine;
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        Secret::new(format!(
            "{}.{}.c2lnbmF0dXJl",
            b64(r#"{"alg":"RS256"}"#),
            b64(claims)
        ))
    }

    const ROLE: &str = "arn:aws:iam::123456789012:role/team-a/pull";

    fn request(extra: &str) -> String {
        format!(
            r#"{{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1"{extra}}}"#
        )
    }

    #[test]
    fn the_response_is_the_kubelets_shape_byte_for_byte() {
        let out = response_json(
            ApiVersion::V1,
            "123456789012.dkr.ecr.us-east-1.amazonaws.com",
            "AWS",
            &Secret::new("pa\"ss<>&".into()),
            21_600,
        );
        assert_eq!(
            std::str::from_utf8(&out).expect("utf-8"),
            "{\"kind\":\"CredentialProviderResponse\",\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\",\
             \"cacheKeyType\":\"Registry\",\"cacheDuration\":\"6h0m0s\",\
             \"auth\":{\"123456789012.dkr.ecr.us-east-1.amazonaws.com\":{\"username\":\"AWS\",\"password\":\"pa\\\"ss<>&\"}}}\n"
        );
        let v1alpha1 = response_json(
            ApiVersion::V1alpha1,
            "public.ecr.aws",
            "AWS",
            &Secret::new("p".into()),
            0,
        );
        assert!(std::str::from_utf8(&v1alpha1).expect("utf-8").contains(
            "\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1alpha1\",\"cacheKeyType\":\"Registry\",\"cacheDuration\":\"0s\""
        ));
    }

    #[test]
    fn durations_are_written_as_go_writes_them() {
        for (secs, go) in [
            (0, "0s"),
            (1, "1s"),
            (59, "59s"),
            (60, "1m0s"),
            (90, "1m30s"),
            (3600, "1h0m0s"),
            (3601, "1h0m1s"),
            (21_600, "6h0m0s"),
            (43_199, "11h59m59s"),
            (200 * 3600, "200h0m0s"),
        ] {
            assert_eq!(go_duration(secs), go, "{secs}");
        }
    }

    #[test]
    fn the_kubelet_keeps_credentials_until_our_half_life_and_never_past_expiry() {
        let entry = |requested_at, expires_at| Entry {
            token: Secret::new("QVdTOnA=".into()),
            proxy_endpoint: "https://x".into(),
            requested_at,
            expires_at,
            service: "ecr".into(),
        };
        // A 12 h token fetched now: 6 h, when our cache would refresh it.
        assert_eq!(cache_duration(&entry(1000, 1000 + 43_200), 1000), 21_600);
        // An hour later: 5 h.
        assert_eq!(cache_duration(&entry(1000, 1000 + 43_200), 4600), 18_000);
        // Past half-life (served while a refresh fails), expired, or a clock gone back: 0.
        assert_eq!(
            cache_duration(&entry(1000, 1000 + 43_200), 1000 + 21_600),
            0
        );
        assert_eq!(cache_duration(&entry(1000, 2000), 5000), 0);
        assert_eq!(cache_duration(&entry(1000, 2000), 500), 0);
        // Never past our refresh, so never past the expiry.
        for now in 900..1200 {
            let d = cache_duration(&entry(1000, 1100), now) as i64;
            assert!(d == 0 || (now >= 1000 && now + d == 1050), "{now}: {d}");
        }
    }

    #[test]
    fn requests_of_every_version_are_read_and_answered_in_it() {
        for v in [ApiVersion::V1, ApiVersion::V1beta1, ApiVersion::V1alpha1] {
            let text = format!(
                r#"{{"apiVersion":"{}","kind":"CredentialProviderRequest","image":"public.ecr.aws/nginx/nginx:1"}}"#,
                v.as_str()
            );
            let ask = parse_request(text.as_bytes()).expect("parses");
            assert_eq!(
                (ask.version, ask.image.as_str()),
                (v, "public.ecr.aws/nginx/nginx:1")
            );
            assert!(ask.service_account.is_none());
        }
        // Unknown fields from a newer kubelet are fine.
        assert!(parse_request(request(r#","newField":{"x":1}"#).as_bytes()).is_ok());
    }

    #[test]
    fn bad_requests_say_what_is_wrong_and_never_quote_a_token() {
        let secret = "eyJTHE-TOKEN-ITSELF";
        let cases: Vec<(String, &str)> = vec![
            ("".into(), "the JSON ends early"),
            ("not json".into(), "not JSON"),
            (r#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v2","image":"x"}"#.into(), "apiVersion \"credentialprovider.kubelet.k8s.io/v2\" is not one"),
            (r#"{"kind":"Other","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"x"}"#.into(), "kind \"Other\""),
            (r#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1"}"#.into(), "names no image"),
            (r#"{"kind":"CredentialProviderRequest","APIVersion":"credentialprovider.kubelet.k8s.io/v1","image":"x"}"#.into(), "apiVersion \"\""),
            (request(&format!(r#","serviceAccountToken":["{secret}"]"#)), "a field of the wrong type"),
            (request(&format!(r#","serviceAccountAnnotations":"{secret}""#)), "a field of the wrong type"),
            (request(&format!(r#","serviceAccountToken":"{secret}","serviceAccountAnnotations":{{"{ROLE_ANNOTATION}":"{ROLE}"}}"#)), "not a service account's JWT"),
            (request(&format!(r#","serviceAccountAnnotations":{{"{ROLE_ANNOTATION}":"{ROLE}"}}"#)), "carries no serviceAccountToken"),
            (request(&format!(r#","serviceAccountToken":"{secret}","serviceAccountAnnotations":{{"{ROLE_ANNOTATION}":"arn:aws:iam::1:role/x"}}"#)), "is not an IAM role ARN"),
        ];
        for (input, want) in cases {
            let err = parse_request(input.as_bytes())
                .expect_err(&input)
                .to_string();
            assert!(err.contains(want), "{input}: {err}");
            assert!(!err.contains(secret) && !err.contains('\n'), "{err}");
        }
    }

    #[test]
    fn a_token_with_a_role_names_its_subject_never_itself() {
        let token = jwt(
            r#"{"iss":"https://oidc.eks.us-east-1.amazonaws.com/id/ABC","sub":"system:serviceaccount:team-a:puller","aud":["sts.amazonaws.com"],"kubernetes.io":{"namespace":"team-a","pod":{"name":"p","uid":"pod-uid"},"serviceaccount":{"name":"puller","uid":"sa-uid-1"}}}"#,
        );
        let text = request(&format!(
            r#","serviceAccountToken":"{}","serviceAccountAnnotations":{{"{ROLE_ANNOTATION}":"{ROLE}","other":"x"}}"#,
            token.expose()
        ));
        let ask = parse_request(text.as_bytes()).expect("parses");
        let sa = ask.service_account.expect("a service account");
        assert_eq!(sa.role_arn, ROLE);
        assert_eq!(
            sa.subject,
            "iss=https://oidc.eks.us-east-1.amazonaws.com/id/ABC sub=system:serviceaccount:team-a:puller uid=sa-uid-1 aud=sts.amazonaws.com"
        );
        assert_eq!(sa.token.expose(), token.expose());
        assert!(!format!("{sa:?}").contains(token.expose()));
        // The pod is not part of it: every pod of the account shares the account's token.
        // A token with no role named: the node's identity, and the token unused.
        let text = request(&format!(r#","serviceAccountToken":"{}""#, token.expose()));
        assert!(
            parse_request(text.as_bytes())
                .expect("parses")
                .service_account
                .is_none()
        );
        // Padding, a single audience, no uid.
        assert_eq!(
            subject_of(&Secret::new(format!("e30=.{}.sig", {
                use base64::Engine;
                base64::engine::general_purpose::URL_SAFE
                    .encode(r#"{"iss":"i","sub":"s","aud":"a"}"#)
            })))
            .as_deref(),
            Some("iss=i sub=s uid= aud=a")
        );
        for bad in ["", "a.b", "a.b.c.d", "x.!!!.y"] {
            assert_eq!(subject_of(&Secret::new(bad.into())), None, "{bad}");
        }
        assert_eq!(subject_of(&jwt(r#"{"iss":"i"}"#)), None, "no subject");
    }

    #[test]
    fn role_arns() {
        for ok in [
            ROLE,
            "arn:aws:iam::123456789012:role/pull",
            "arn:aws-cn:iam::123456789012:role/pull",
            "arn:aws-us-gov:iam::123456789012:role/a+b=c,d.e@f_g-h",
        ] {
            assert!(is_role_arn(ok), "{ok}");
        }
        for bad in [
            "",
            "pull",
            "arn:aws:iam::123456789012:user/pull",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam::12345678901:role/pull",
            "arn:aws:sts::123456789012:role/pull",
            "arn:aws:iam:us-east-1:123456789012:role/pull",
            "arn:aws:iam::123456789012:role/pull name",
            "arn:aws:iam::123456789012:role/pull\n",
            "arn:AWS:iam::123456789012:role/pull",
        ] {
            assert!(!is_role_arn(bad), "{bad:?}");
        }
    }

    #[test]
    fn the_registry_is_the_images_host_and_port_as_the_kubelet_keys_it() {
        for (image, registry) in [
            (
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1",
                Some("123456789012.dkr.ecr.us-east-1.amazonaws.com"),
            ),
            (
                "123456789012.dkr.ecr.us-east-1.amazonaws.com:443/team/app@sha256:abc",
                Some("123456789012.dkr.ecr.us-east-1.amazonaws.com:443"),
            ),
            ("public.ecr.aws/nginx/nginx", Some("public.ecr.aws")),
            ("nginx:latest", Some("nginx:latest")),
            (
                "evil.example@123456789012.dkr.ecr.us-east-1.amazonaws.com/app",
                None,
            ),
            ("/app", None),
        ] {
            assert_eq!(registry_of(image), registry, "{image}");
        }
    }
}

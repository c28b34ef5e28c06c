//! The fetcher: a narrow program around the SDK call, "request in, token entry out".
//!
//! The front decides everything (which registry, which identity, which endpoint, how long) and
//! sends it as one typed JSON request on the fetcher's stdin; the fetcher calls the API once and
//! answers with one typed JSON reply on stdout: the token entry, or why there is none. No cache,
//! no lock, no policy lives in the fetcher: that is `policy.rs`, in the front. A crash or a kill
//! is told by the exit status and reported with its signal.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::Duration;

use credhelper::Secret;
use credhelper::os::child::{self, Ending, RunError};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::identity::{Identity, Source};
use crate::registry::Registry;
use crate::token::Entry;

/// The fetcher's name; it is installed next to the front binary.
pub const FETCHER: &str = "docker-credential-ecr-login-fetch";

/// The most a request or a reply may be: both are a few hundred bytes.
const MAX_MESSAGE: u64 = 64 * 1024;

/// What the front asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchRequest {
    /// The registry whose token is wanted.
    pub registry: Registry,
    /// Who asks for it.
    pub identity: Identity,
    /// Where to send the call, when the user said so; else the registry's own endpoint (its
    /// FIPS endpoint for a FIPS host).
    pub endpoint: Option<String>,
    /// How long the fetch may take, credentials and retries included: what is left of the
    /// bound.
    pub timeout_ms: u64,
    /// The bound itself (`AWS_ECR_TIMEOUT`), for messages.
    pub bound_ms: u64,
    /// For a service-account identity (the kubelet's plugin mode): the token to exchange for its
    /// role. It crosses to the fetcher here, on its stdin, never in argv or the environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_identity_token: Option<Secret>,
}

impl FetchRequest {
    /// What is left of the bound.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    /// The bound in seconds, as the user set it.
    pub fn bound_secs(&self) -> f64 {
        Duration::from_millis(self.bound_ms).as_secs_f64()
    }
}

/// What the fetcher answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum FetchReply {
    /// A token.
    Token(Entry),
    /// None, and why.
    Failed(FetchFailure),
}

/// Why the fetcher has no token. Every message is one line for a person and never holds a
/// credential; it crosses the process boundary as this value, not as text to be parsed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FetchFailure {
    /// Nothing answered within the bound.
    #[error(
        "no token for {host} within {secs} s (AWS_ECR_TIMEOUT): is the network, IMDS or the ECR endpoint reachable?{hint}"
    )]
    Timeout {
        /// The registry.
        host: String,
        /// The bound.
        secs: f64,
        /// What to check, for the identity in use (may be empty).
        hint: String,
    },
    /// The service answered with an error (access denied, throttling, …).
    #[error("{service} GetAuthorizationToken for {host}: {code}: {message}")]
    Service {
        /// `ecr` or `ecr-public`.
        service: String,
        /// The registry.
        host: String,
        /// The error code the service sent, e.g. `AccessDeniedException`.
        code: String,
        /// Its message.
        message: String,
    },
    /// The call got no answer: no credentials, a connection failure.
    #[error("{service} GetAuthorizationToken for {host}: {reason}{hint}")]
    Call {
        /// `ecr` or `ecr-public`.
        service: String,
        /// The registry.
        host: String,
        /// The SDK's reason, from the `Display` of the error and its sources.
        reason: String,
        /// What to check, for the identity in use (may be empty).
        hint: String,
    },
    /// STS did not exchange a service account's token for its role (`AssumeRoleWithWebIdentity`):
    /// refused (the role's trust policy), or no answer.
    #[error("sts AssumeRoleWithWebIdentity for {role_arn}: {reason}{hint}")]
    WebIdentity {
        /// The role.
        role_arn: String,
        /// The service's code and message, or the SDK's reason when STS did not answer.
        reason: String,
        /// What to check (may be empty).
        hint: String,
    },
    /// The service answered without what a token needs.
    #[error("{service} returned no {what} for {host}")]
    Incomplete {
        /// `ecr` or `ecr-public`.
        service: String,
        /// The registry.
        host: String,
        /// What was missing.
        what: String,
    },
    /// The fetcher could not work at all (no async runtime, a request it cannot read, a crash):
    /// the reason names the fetcher.
    #[error("{reason}")]
    Internal {
        /// What went wrong.
        reason: String,
    },
}

impl FetchFailure {
    /// Whether a later try might succeed without the user changing anything: a timeout, an
    /// unreachable endpoint, throttling, a 5xx. Used to decide what a backoff may cover.
    pub fn is_transient(&self) -> bool {
        match self {
            FetchFailure::Timeout { .. } | FetchFailure::Call { .. } => true,
            FetchFailure::WebIdentity { reason, .. } => {
                reason.contains("Throttl") || reason.contains("IDPCommunicationError")
            }
            FetchFailure::Service { code, .. } => {
                code.contains("Throttl")
                    || code.contains("TooManyRequests")
                    || code.contains("ServiceUnavailable")
                    || code.contains("Server")
                    || code.contains("InternalFailure")
            }
            FetchFailure::Incomplete { .. } | FetchFailure::Internal { .. } => false,
        }
    }
}

/// What to check when the instance role cannot be had: inside a container on EC2, IMDSv2's
/// token answer may not come back across the extra network hop.
pub fn hint_for(identity: &Identity) -> String {
    match identity.source {
        Source::InstanceRole => " (credentials from the instance role: is IMDS reachable from here? In a container on EC2, the instance's metadata hop limit must be 2 or more: aws ec2 modify-instance-metadata-options --http-put-response-hop-limit 2)".to_string(),
        _ => String::new(),
    }
}

/// Why the front got no reply.
#[derive(Debug, thiserror::Error)]
pub enum FetcherError {
    /// `current_exe` failed.
    #[error("cannot find my own path: {0}")]
    OwnPath(#[source] std::io::Error),
    /// The fetcher is not installed beside the front.
    #[error(
        "{} is missing: it is installed next to docker-credential-ecr-login and fetches tokens on a cache miss; reinstall the helper",
        path.display()
    )]
    Missing {
        /// Where it should be.
        path: PathBuf,
    },
    /// It could not be started.
    #[error("cannot run {FETCHER}: {0}")]
    Spawn(#[source] std::io::Error),
    /// It did not answer in time and was killed.
    #[error("{FETCHER} did not answer within {secs} s")]
    Timeout {
        /// The bound.
        secs: f64,
    },
    /// It crashed or was killed.
    #[error("{FETCHER} crashed: it was {0}")]
    Crashed(Ending),
    /// It ended without a reply we can read.
    #[error("{FETCHER} answered with something that is not a reply ({0})")]
    BadReply(Ending),
    /// The request could not be encoded (a bug).
    #[error("cannot encode the request for {FETCHER}: {0}")]
    Encode(#[source] serde_json::Error),
}

/// Runs the fetcher installed beside this binary with `req`; at most the request's bound plus
/// a second for the process itself.
pub fn run(req: &FetchRequest) -> Result<FetchReply, FetcherError> {
    let exe = std::env::current_exe().map_err(FetcherError::OwnPath)?;
    let path = exe.with_file_name(FETCHER);
    if !path.is_file() {
        return Err(FetcherError::Missing { path });
    }
    // It may hold a service account's token.
    let input = Zeroizing::new(serde_json::to_vec(req).map_err(FetcherError::Encode)?);
    let limit = req.timeout() + Duration::from_secs(1);
    let out = child::run(Command::new(path), &input, limit).map_err(|e| match e {
        RunError::Spawn(e) => FetcherError::Spawn(e),
        RunError::Timeout(d) => FetcherError::Timeout {
            secs: d.as_secs_f64(),
        },
    })?;
    if out.ending().signal().is_some() {
        return Err(FetcherError::Crashed(out.ending()));
    }
    match serde_json::from_slice::<FetchReply>(&out.stdout) {
        Ok(reply) if out.success() => Ok(reply),
        _ => Err(FetcherError::BadReply(out.ending())),
    }
}

/// The fetcher's whole `main`: one request from stdin, one reply on stdout. `fetch` is the SDK
/// call, which only the fetcher binary links.
pub fn serve(fetch: impl FnOnce(&FetchRequest) -> Result<Entry, FetchFailure>) -> ExitCode {
    credhelper::os::hardening::no_core_dumps();
    credhelper::os::logging::init(crate::INFO.name, &crate::INFO.log);
    // Room for the largest request up front: growing the buffer would leave copies of a token
    // behind, unzeroed.
    let mut input = Zeroizing::new(Vec::with_capacity(MAX_MESSAGE as usize + 1));
    let reply = match std::io::stdin()
        .take(MAX_MESSAGE)
        .read_to_end(&mut input)
        .map_err(|e| format!("{FETCHER} cannot read its request: {e}"))
        .and_then(|_| {
            serde_json::from_slice::<FetchRequest>(&input[..])
                .map_err(|e| format!("{FETCHER} cannot read its request: {e}"))
        }) {
        Ok(req) => match fetch(&req) {
            Ok(entry) => FetchReply::Token(entry),
            Err(failure) => FetchReply::Failed(failure),
        },
        Err(reason) => FetchReply::Failed(FetchFailure::Internal { reason }),
    };
    let mut text = Zeroizing::new(serde_json::to_vec(&reply).unwrap_or_default());
    text.push(b'\n');
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(&text).and_then(|()| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_crosses_as_a_value() {
        let f = FetchFailure::Service {
            service: "ecr".into(),
            host: "h".into(),
            code: "AccessDeniedException".into(),
            message: "no".into(),
        };
        let text = serde_json::to_string(&FetchReply::Failed(f.clone())).expect("encode");
        assert_eq!(
            text,
            r#"{"failed":{"kind":"service","service":"ecr","host":"h","code":"AccessDeniedException","message":"no"}}"#
        );
        let back: FetchReply = serde_json::from_str(&text).expect("decode");
        assert_eq!(back, FetchReply::Failed(f));
        assert!(
            serde_json::from_str::<FetchReply>(r#"{"failed":{"kind":"service","extra":1}}"#)
                .is_err()
        );
    }
}

//! The one place that talks to AWS, through aws-config and the ECR SDKs.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_ecr::error::{ProvideErrorMetadata, SdkError};
use credhelper::Secret;
use ecr_login::cache::{Entry, now};
use ecr_login::registry::Service;
use ecr_login::request::{Request, endpoint_override};

/// Why no token came back. Every message is one line for the user and never holds a credential.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The async runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// Nothing answered within the bound.
    #[error(
        "no token for {host} within {secs} s (AWS_ECR_TIMEOUT): is the network, IMDS or the ECR endpoint reachable?"
    )]
    Timeout {
        /// The registry.
        host: String,
        /// The bound.
        secs: f64,
    },
    /// The service answered with an error (access denied, throttling, …).
    #[error("{service} GetAuthorizationToken for {host}: {code}: {message}")]
    Service {
        /// `ecr` or `ecr-public`.
        service: &'static str,
        /// The registry.
        host: String,
        /// The error code the service sent, e.g. `AccessDeniedException`.
        code: String,
        /// Its message.
        message: String,
    },
    /// The call did not get an answer: no credentials, a connection failure, a timeout.
    #[error("{service} GetAuthorizationToken for {host}: {reason}")]
    Call {
        /// `ecr` or `ecr-public`.
        service: &'static str,
        /// The registry.
        host: String,
        /// The SDK's reason, from the `Display` of the error and its sources.
        reason: String,
    },
    /// The service answered without what a token needs.
    #[error("{service} returned no {what} for {host}")]
    Incomplete {
        /// `ecr` or `ecr-public`.
        service: &'static str,
        /// The registry.
        host: String,
        /// What was missing.
        what: &'static str,
    },
}

/// Fetches a token for the request's registry within `limit`, all retries included.
pub fn fetch(req: &Request, limit: Duration) -> Result<Entry, FetchError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(FetchError::Runtime)?;
    rt.block_on(async {
        match tokio::time::timeout(limit, fetch_inner(req, limit)).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::Timeout {
                host: req.registry.host.clone(),
                secs: limit.as_secs_f64(),
            }),
        }
    })
}

/// An SDK error as a [`FetchError`]. A service error gives its code and message (its `Display`
/// would be `unhandled error (Code)` with a `Debug` dump of the metadata as its source); any
/// other gives the `Display` of the error and its sources. Never `Debug`: the SDK's prints raw
/// responses, which may hold IMDS or session tokens.
fn sdk_error<E, R>(service: &'static str, host: &str, err: SdkError<E, R>) -> FetchError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    if let SdkError::ServiceError(ctx) = &err {
        let e = ctx.err();
        return FetchError::Service {
            service,
            host: host.to_string(),
            code: e.code().unwrap_or("UnknownError").to_string(),
            message: e.message().unwrap_or("no message").to_string(),
        };
    }
    FetchError::Call {
        service,
        host: host.to_string(),
        reason: chain(&err),
    }
}

/// The messages of an error and its sources, joined by ": ", each once.
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let msg = e.to_string();
        if !parts.iter().any(|p| p.contains(&msg)) && !msg.is_empty() {
            parts.push(msg);
        }
        next = e.source();
    }
    parts.join(": ")
}

async fn fetch_inner(req: &Request, limit: Duration) -> Result<Entry, FetchError> {
    let reg = &req.registry;
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(2).min(limit))
        .operation_attempt_timeout(Duration::from_secs(4).min(limit))
        .operation_timeout(limit)
        .build();
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .region(Region::new(reg.region.clone()))
        .timeout_config(timeouts)
        .retry_config(RetryConfig::standard().with_max_attempts(3));
    if let Some(profile) = &req.settings.profile {
        loader = loader.profile_name(profile);
    }
    // The SDK refuses FIPS together with a custom endpoint; tests, proxies and VPC endpoints set
    // one on purpose, so the override wins.
    if reg.fips && endpoint_override(reg.service).is_none() {
        loader = loader.use_fips(true);
    }
    let mut config = loader.load().await;
    if let Some(role) = &req.settings.role_arn {
        let provider = aws_config::sts::AssumeRoleProvider::builder(role)
            .session_name("docker-credential-ecr-login")
            .configure(&config)
            .build()
            .await;
        config = config
            .into_builder()
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(provider),
            )
            .build();
    }
    let requested_at = now();
    let service = reg.service.as_str();
    let missing = |what| FetchError::Incomplete {
        service,
        host: reg.host.clone(),
        what,
    };
    // (token, expiry, proxy endpoint) from either service's authorization data.
    let (token, expires_at, endpoint) = match reg.service {
        Service::Ecr => {
            let client = aws_sdk_ecr::Client::new(&config);
            let id = reg.id.clone().unwrap_or_default();
            // registryIds is marked deprecated, but ECR accepts it and the Go helper sends it:
            // the request, its log and cross-account behaviour stay the same as Go's.
            #[expect(deprecated, reason = "the Go helper sends registryIds; we match it")]
            let call = client.get_authorization_token().registry_ids(id);
            let out = call
                .send()
                .await
                .map_err(|e| sdk_error(service, &reg.host, e))?;
            let data = out
                .authorization_data()
                .first()
                .ok_or_else(|| missing("authorization data"))?;
            (
                data.authorization_token().map(str::to_string),
                data.expires_at().map(|t| t.secs()),
                data.proxy_endpoint().map(str::to_string),
            )
        }
        Service::EcrPublic => {
            let client = aws_sdk_ecrpublic::Client::new(&config);
            let out = client
                .get_authorization_token()
                .send()
                .await
                .map_err(|e| sdk_error(service, &reg.host, e))?;
            let data = out
                .authorization_data()
                .ok_or_else(|| missing("authorization data"))?;
            (
                data.authorization_token().map(str::to_string),
                data.expires_at().map(|t| t.secs()),
                None,
            )
        }
    };
    Ok(Entry {
        token: Secret::new(token.ok_or_else(|| missing("token"))?),
        proxy_endpoint: endpoint.unwrap_or_else(|| format!("https://{}", reg.host)),
        requested_at,
        expires_at: expires_at.ok_or_else(|| missing("expiry"))?,
        service: service.to_string(),
    })
}

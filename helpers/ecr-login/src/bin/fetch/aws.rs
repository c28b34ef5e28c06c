//! The one place that talks to AWS, through aws-config and the ECR SDKs.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use credhelper::Secret;
use ecr_login::cache::{Entry, now};
use ecr_login::registry::Service;
use ecr_login::request::{Request, endpoint_override};

/// Fetches a token for the request's registry within `limit`, all retries included. The error
/// is one line for the user; it never holds a credential.
pub fn fetch(req: &Request, limit: Duration) -> Result<Entry, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    rt.block_on(async {
        match tokio::time::timeout(limit, fetch_inner(req, limit)).await {
            Ok(result) => result,
            Err(_) => Err(format!(
                "no token for {} within {} s (AWS_ECR_TIMEOUT): is the network, IMDS or the ECR endpoint reachable?",
                req.registry.host,
                limit.as_secs_f64()
            )),
        }
    })
}

/// The messages of an error and its sources, joined by ": ". Only `Display`: the SDK's `Debug`
/// (and so `DisplayErrorContext`) prints raw responses, which may hold IMDS or session tokens.
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let msg = e.to_string();
        if !parts.last().is_some_and(|p| p.contains(&msg)) && !msg.is_empty() {
            parts.push(msg);
        }
        next = e.source();
    }
    parts.join(": ")
}

async fn fetch_inner(req: &Request, limit: Duration) -> Result<Entry, String> {
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
    match reg.service {
        Service::Ecr => {
            let client = aws_sdk_ecr::Client::new(&config);
            let id = reg.id.clone().unwrap_or_default();
            // registryIds is marked deprecated, but ECR accepts it and the Go helper sends it:
            // the request, its log and cross-account behaviour stay the same as Go's.
            #[expect(deprecated, reason = "the Go helper sends registryIds; we match it")]
            let call = client.get_authorization_token().registry_ids(id.clone());
            let out = call.send().await.map_err(|e| {
                format!("ecr GetAuthorizationToken for {}: {}", reg.host, chain(&e))
            })?;
            let data = out
                .authorization_data()
                .first()
                .ok_or_else(|| format!("ecr returned no authorization data for {id}"))?;
            let token = data.authorization_token().ok_or("ecr returned no token")?;
            let expires_at = data
                .expires_at()
                .map(|t| t.secs())
                .ok_or("ecr returned no expiry")?;
            Ok(Entry {
                token: Secret::new(token.to_string()),
                proxy_endpoint: data
                    .proxy_endpoint()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("https://{}", reg.host)),
                requested_at,
                expires_at,
                service: reg.service.as_str().to_string(),
            })
        }
        Service::EcrPublic => {
            let client = aws_sdk_ecrpublic::Client::new(&config);
            let out = client
                .get_authorization_token()
                .send()
                .await
                .map_err(|e| format!("ecr-public GetAuthorizationToken: {}", chain(&e)))?;
            let data = out
                .authorization_data()
                .ok_or("ecr-public returned no authorization data")?;
            let token = data
                .authorization_token()
                .ok_or("ecr-public returned no token")?;
            let expires_at = data
                .expires_at()
                .map(|t| t.secs())
                .ok_or("ecr-public returned no expiry")?;
            Ok(Entry {
                token: Secret::new(token.to_string()),
                proxy_endpoint: format!("https://{}", reg.host),
                requested_at,
                expires_at,
                service: reg.service.as_str().to_string(),
            })
        }
    }
}

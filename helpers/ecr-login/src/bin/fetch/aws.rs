//! The one place that talks to AWS, through aws-config and the ECR SDKs.
//!
//! The credentials provider is the one the request names (`identity::Source`), built
//! explicitly, never the SDK's default chain: the chain would prefer the environment's keys over
//! a registry's own profile, and the front keyed the cache on the identity it chose.
//!
//! A kubelet's service-account token (`Source::ServiceAccount`) is exchanged with STS
//! `AssumeRoleWithWebIdentity` from memory, with aws-sdk-sts (which aws-config links anyway for
//! its own web-identity provider, so it adds nothing to the binary): that provider reads the
//! token from a file, and the token must never touch the disk.

use std::time::Duration;

use aws_config::provider_config::ProviderConfig;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_ecr::error::{ProvideErrorMetadata, SdkError};
use credhelper::Secret;
use ecr_login::fetcher::{FETCHER, FetchFailure, FetchRequest, hint_for};
use ecr_login::identity::Source;
use ecr_login::registry::Service;
use ecr_login::token::{Entry, now};

/// The session name of an assumed role, as CloudTrail shows it.
const SESSION_NAME: &str = "docker-credential-ecr-login";

/// Fetches a token for the request's registry within its bound, all retries included.
pub fn fetch(req: &FetchRequest) -> Result<Entry, FetchFailure> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| FetchFailure::Internal {
            reason: format!("{FETCHER} cannot start its async runtime: {e}"),
        })?;
    let limit = req.timeout();
    rt.block_on(async {
        match tokio::time::timeout(limit, fetch_inner(req, limit)).await {
            Ok(result) => result,
            Err(_) => Err(FetchFailure::Timeout {
                host: req.registry.host.clone(),
                secs: req.bound_secs(),
                hint: hint_for(&req.identity),
            }),
        }
    })
}

/// An SDK error as a [`FetchFailure`]. A service error gives its code and message (its `Display`
/// would be `unhandled error (Code)` with a `Debug` dump of the metadata as its source); any
/// other gives the `Display` of the error and its sources. Never `Debug`: the SDK's prints raw
/// responses, which may hold IMDS or session tokens.
fn sdk_error<E, R>(req: &FetchRequest, err: SdkError<E, R>) -> FetchFailure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let service = req.registry.service.as_str().to_string();
    let host = req.registry.host.clone();
    if let SdkError::ServiceError(ctx) = &err {
        let e = ctx.err();
        return FetchFailure::Service {
            service,
            host,
            code: e.code().unwrap_or("UnknownError").to_string(),
            message: e.message().unwrap_or("no message").to_string(),
        };
    }
    FetchFailure::Call {
        service,
        host,
        reason: chain(&err),
        hint: hint_for(&req.identity),
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

/// The session name of a service account's role, as CloudTrail shows it (beside the token's
/// subject, which STS records for `AssumeRoleWithWebIdentity`).
const KUBELET_SESSION_NAME: &str = "docker-credential-ecr-login-kubelet";

/// What to check when STS refuses a service account's token.
const WEB_IDENTITY_HINT: &str = " (the role's trust policy must admit this service account's token: its OIDC provider (the token's issuer), its subject system:serviceaccount:<namespace>:<name>, and the audience set in the kubelet's tokenAttributes.serviceAccountTokenAudience)";

/// Credentials for `role_arn`, in exchange for the request's web identity token: one
/// `AssumeRoleWithWebIdentity` call, unsigned (the node's own credentials play no part). `sts`
/// is a configuration without credentials.
async fn exchange(
    req: &FetchRequest,
    role_arn: &str,
    sts: &SdkConfig,
) -> Result<SharedCredentialsProvider, FetchFailure> {
    let failure = |reason: String, hint: &str| FetchFailure::WebIdentity {
        role_arn: role_arn.to_string(),
        reason,
        hint: hint.to_string(),
    };
    let token = req.web_identity_token.as_ref().ok_or_else(|| {
        failure(
            "BUG: a service-account identity came without its token".into(),
            "",
        )
    })?;
    let out = aws_sdk_sts::Client::new(sts)
        .assume_role_with_web_identity()
        .role_arn(role_arn)
        .role_session_name(KUBELET_SESSION_NAME)
        // The SDK keeps its own copy of the token (a plain String) for the call's life.
        .web_identity_token(token.expose())
        .send()
        .await
        .map_err(|err| match &err {
            SdkError::ServiceError(ctx) => {
                let e = ctx.err();
                failure(
                    format!(
                        "{}: {}",
                        e.code().unwrap_or("UnknownError"),
                        e.message().unwrap_or("no message")
                    ),
                    WEB_IDENTITY_HINT,
                )
            }
            _ => failure(chain(&err), ""),
        })?;
    let c = out
        .credentials()
        .ok_or_else(|| failure("STS returned no credentials".into(), ""))?;
    Ok(SharedCredentialsProvider::new(Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        std::time::SystemTime::try_from(*c.expiration()).ok(),
        "kubelet-service-account",
    )))
}

/// The provider for the request's identity. A service account's token is exchanged here, at
/// once, so that a refusal is reported as STS's ([`FetchFailure::WebIdentity`]), not as a
/// failed ECR call; `loader` makes the configuration for that STS call.
async fn credentials(
    req: &FetchRequest,
    conf: &ProviderConfig,
    loader: impl Fn() -> ConfigLoader,
) -> Result<SharedCredentialsProvider, FetchFailure> {
    use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
    Ok(match &req.identity.source {
        Source::Environment { .. } => SharedCredentialsProvider::new(
            aws_config::environment::credentials::EnvironmentVariableCredentialsProvider::new(),
        ),
        Source::Profile {
            name,
            config_file,
            credentials_file,
            ..
        } => SharedCredentialsProvider::new(
            aws_config::profile::ProfileFileCredentialsProvider::builder()
                .configure(conf)
                .profile_name(name)
                .profile_files(
                    EnvConfigFiles::builder()
                        .with_file(EnvConfigFileKind::Config, config_file)
                        .with_file(EnvConfigFileKind::Credentials, credentials_file)
                        .build(),
                )
                .build(),
        ),
        Source::WebIdentity { .. } => SharedCredentialsProvider::new(
            aws_config::web_identity_token::WebIdentityTokenCredentialsProvider::builder()
                .configure(conf)
                .build(),
        ),
        Source::Container { .. } => SharedCredentialsProvider::new(
            aws_config::ecs::EcsCredentialsProvider::builder()
                .configure(conf)
                .build(),
        ),
        Source::InstanceRole => SharedCredentialsProvider::new(
            aws_config::imds::credentials::ImdsCredentialsProvider::builder()
                .configure(conf)
                .build(),
        ),
        Source::ServiceAccount { role_arn, .. } => {
            exchange(req, role_arn, &loader().no_credentials().load().await).await?
        }
    })
}

async fn fetch_inner(req: &FetchRequest, limit: Duration) -> Result<Entry, FetchFailure> {
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
    let region = Region::new(reg.region.clone());
    let provider_config = ProviderConfig::without_region()
        .with_region(Some(region.clone()))
        .with_http_client(http.clone())
        .with_timeout_config(timeouts.clone());
    let loader = || {
        aws_config::defaults(BehaviorVersion::latest())
            .http_client(http.clone())
            .region(region.clone())
            .timeout_config(timeouts.clone())
            .retry_config(RetryConfig::standard().with_max_attempts(3))
    };
    let base = credentials(req, &provider_config, loader).await?;
    let mut config = loader().credentials_provider(base.clone()).load().await;
    if let Some(role) = &req.identity.role_arn {
        let provider = aws_config::sts::AssumeRoleProvider::builder(role)
            .session_name(SESSION_NAME)
            .region(region)
            .configure(&config)
            .build_from_provider(base)
            .await;
        config = config
            .into_builder()
            .credentials_provider(SharedCredentialsProvider::new(provider))
            .build();
    }
    let requested_at = now();
    let service = reg.service.as_str();
    let missing = |what: &str| FetchFailure::Incomplete {
        service: service.to_string(),
        host: reg.host.clone(),
        what: what.to_string(),
    };
    // The endpoint the front chose (the user's override) wins; without one a FIPS host uses its
    // FIPS endpoint. Never both: the SDK refuses that, and a FIPS host must never reach a
    // non-FIPS endpoint nobody asked for.
    let (endpoint, fips) = match &req.endpoint {
        Some(url) => (Some(url.clone()), false),
        None => (None, reg.fips),
    };
    // (token, expiry, proxy endpoint) from either service's authorization data.
    let (token, expires_at, proxy) = match reg.service {
        Service::Ecr => {
            let mut conf = aws_sdk_ecr::config::Builder::from(&config).use_fips(fips);
            if let Some(url) = &endpoint {
                conf = conf.endpoint_url(url);
            }
            let client = aws_sdk_ecr::Client::from_conf(conf.build());
            let mut call = client.get_authorization_token();
            // registryIds is marked deprecated, but ECR accepts it and the Go helper sends it:
            // the request, its log and cross-account behaviour stay the same as Go's. Without
            // an id (`list`'s default registry) ECR answers for the caller's own account.
            if let Some(id) = &reg.id {
                #[expect(deprecated, reason = "the Go helper sends registryIds; we match it")]
                {
                    call = call.registry_ids(id.clone());
                }
            }
            let out = call.send().await.map_err(|e| sdk_error(req, e))?;
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
            let mut conf = aws_sdk_ecrpublic::config::Builder::from(&config).use_fips(fips);
            if let Some(url) = &endpoint {
                conf = conf.endpoint_url(url);
            }
            let client = aws_sdk_ecrpublic::Client::from_conf(conf.build());
            let out = client
                .get_authorization_token()
                .send()
                .await
                .map_err(|e| sdk_error(req, e))?;
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
        proxy_endpoint: proxy.unwrap_or_else(|| format!("https://{}", reg.host)),
        requested_at,
        expires_at: expires_at.ok_or_else(|| missing("expiry"))?,
        service: service.to_string(),
    })
}

//! From a server URL to everything a token depends on: the registry, who asks (the identity),
//! where the call goes (the endpoint), and so the cache key.

use credhelper::Secret;

use crate::aws_files::{Files, Profiles};
use crate::config::{Config, ConfigError, RegistryConfig};
use crate::identity::{self, Identity, Source};
use crate::paths;
use crate::registry::{self, Registry, Service};

/// The message the Go helper logs for a host that is not ECR's.
pub const NOT_ECR: &str =
    "docker-credential-ecr-login can only be used with Amazon Elastic Container Registry.";

/// A `get` for an ECR registry, resolved.
#[derive(Debug, Clone)]
pub struct Request {
    /// What the client sent; echoed in the answer.
    pub server_url: String,
    /// The registry whose token is fetched (after any alias).
    pub registry: Registry,
    /// Its settings from the configuration file.
    pub settings: RegistryConfig,
    /// Who fetches the token.
    pub identity: Identity,
    /// Where the call goes, when the user said so (see [`endpoint`]).
    pub endpoint: Option<String>,
    /// The cache key (see [`cache_key`]).
    pub key: String,
    /// The web identity token the fetcher exchanges for the identity's role, for a
    /// [`Source::ServiceAccount`] identity (see [`Request::for_service_account`]); else none.
    pub web_identity_token: Option<Secret>,
}

impl Request {
    /// A request for `registry` with these settings, in this environment.
    pub fn new(server_url: &str, registry: Registry, settings: RegistryConfig) -> Request {
        let identity = identity::resolve(&settings);
        let endpoint = endpoint(registry.service);
        let key = cache_key(&registry, endpoint.as_deref(), &identity);
        Request {
            server_url: server_url.to_string(),
            registry,
            settings,
            identity,
            endpoint,
            key,
            web_identity_token: None,
        }
    }

    /// This request fetched as a pod's service account, for the kubelet: the identity is the role
    /// the service account names, reached with its token through `AssumeRoleWithWebIdentity`,
    /// and nothing of the node's. The registry's configured `profile` and `role_arn` do not
    /// apply (they are the node's choices); its alias still does. The cache key names the role
    /// and the token's subject, never the token.
    pub fn for_service_account(
        mut self,
        role_arn: String,
        subject: String,
        token: Secret,
    ) -> Request {
        self.identity = Identity {
            source: Source::ServiceAccount { role_arn, subject },
            role_arn: None,
        };
        self.key = cache_key(&self.registry, self.endpoint.as_deref(), &self.identity);
        self.web_identity_token = Some(token);
        self
    }
}

/// Resolves `server_url`; `Ok(None)` if it is not an ECR registry (nor an alias of one).
pub fn resolve(server_url: &str) -> Result<Option<Request>, ConfigError> {
    let config = match paths::config_file() {
        Some(path) => Config::load(&path)?,
        None => Config::default(),
    };
    // An entry may name the address with its port (a local mirror) or the host alone.
    let host = registry::host_of(server_url);
    let own = config
        .for_host(registry::authority_of(server_url))
        .or_else(|| config.for_host(host))
        .cloned()
        .unwrap_or_default();
    let (registry, settings) = match &own.alias {
        Some(alias) => {
            let real = registry::parse(alias).ok_or_else(|| ConfigError::BadAlias {
                host: host.to_string(),
                alias: alias.clone(),
            })?;
            // The alias's own settings give the profile and role unless the host names them.
            let base = config.for_host(&real.host).cloned().unwrap_or_default();
            let settings = RegistryConfig {
                profile: own.profile.clone().or(base.profile),
                role_arn: own.role_arn.clone().or(base.role_arn),
                alias: own.alias.clone(),
            };
            (real, settings)
        }
        None => match registry::parse(server_url) {
            Some(r) => (r, own),
            None => return Ok(None),
        },
    };
    Ok(Some(Request::new(server_url, registry, settings)))
}

/// Where the user said calls to this service go, as the SDK reads it: `AWS_ENDPOINT_URL_ECR` (or
/// `…_ECR_PUBLIC`), else `AWS_ENDPOINT_URL`, else the `endpoint_url` of the profile in use; none
/// when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` (or the profile's `ignore_configured_endpoint_urls`)
/// is true. Decided here, once, so the fetcher sets exactly this and a FIPS host without one goes
/// to its FIPS endpoint: env and profile endpoints behave alike.
pub fn endpoint(service: Service) -> Option<String> {
    let env = |name: &str| std::env::var(name).ok().filter(|s| !s.trim().is_empty());
    let is_true = |v: &str| v.trim().eq_ignore_ascii_case("true");
    if env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").is_some_and(|v| is_true(&v)) {
        return None;
    }
    let specific = match service {
        Service::Ecr => "AWS_ENDPOINT_URL_ECR",
        Service::EcrPublic => "AWS_ENDPOINT_URL_ECR_PUBLIC",
    };
    if let Some(url) = env(specific).or_else(|| env("AWS_ENDPOINT_URL")) {
        return Some(url);
    }
    let profiles = Profiles::load(&Files::from_env());
    let profile = env("AWS_PROFILE").unwrap_or_else(|| "default".into());
    if profiles
        .get(&profile, "ignore_configured_endpoint_urls")
        .is_some_and(is_true)
    {
        return None;
    }
    profiles.get(&profile, "endpoint_url").map(str::to_string)
}

/// `service registry-id region [fips] [endpoint] identity`: everything that changes which token
/// the API would return, and to whom.
pub fn cache_key(registry: &Registry, endpoint: Option<&str>, identity: &Identity) -> String {
    let mut key = format!(
        "{} {} {}",
        registry.service.as_str(),
        registry.id.as_deref().unwrap_or("public"),
        registry.region
    );
    if registry.fips {
        key.push_str(" fips");
    }
    if let Some(endpoint) = endpoint {
        key.push_str(&format!(" endpoint:{endpoint}"));
    }
    key.push(' ');
    key.push_str(&identity.key());
    key
}

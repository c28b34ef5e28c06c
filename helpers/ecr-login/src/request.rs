//! From a server URL to what both binaries need: the registry, its settings and its cache key.

use crate::config::{Config, ConfigError, RegistryConfig};
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
    /// The cache key (see [`cache_key`]).
    pub key: String,
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
    let key = cache_key(&registry, &settings);
    Ok(Some(Request {
        server_url: server_url.to_string(),
        registry,
        settings,
        key,
    }))
}

/// The endpoint override the SDK will use for this service, if any.
pub fn endpoint_override(service: Service) -> Option<String> {
    let specific = match service {
        Service::Ecr => "AWS_ENDPOINT_URL_ECR",
        Service::EcrPublic => "AWS_ENDPOINT_URL_ECR_PUBLIC",
    };
    [specific, "AWS_ENDPOINT_URL"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|s| !s.is_empty())
}

/// Where the credentials will come from, named without resolving them (no file read, no IMDS
/// call): what decides *who* asks for the token, so that two identities never share an entry,
/// and stable while SSO or assumed-role credentials rotate. It follows the SDK's default chain:
/// environment keys, then a profile, then web identity, then container credentials, then the
/// default profile or the instance role.
pub fn credential_source(settings: &RegistryConfig) -> String {
    let mut source = if let Some(p) = &settings.profile {
        format!("profile:{p}")
    } else if let Some(id) = env("AWS_ACCESS_KEY_ID") {
        format!("env:{id}")
    } else if let Some(p) = env("AWS_PROFILE") {
        format!("profile:{p}")
    } else if let (Some(_), Some(role)) = (env("AWS_WEB_IDENTITY_TOKEN_FILE"), env("AWS_ROLE_ARN"))
    {
        format!("web-identity:{role}")
    } else if let Some(uri) = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        .or_else(|| env("AWS_CONTAINER_CREDENTIALS_FULL_URI"))
    {
        format!("container:{uri}")
    } else {
        "default".to_string()
    };
    if let Some(role) = &settings.role_arn {
        source.push_str(&format!(" role:{role}"));
    }
    source
}

/// `service registry-id region [fips] [endpoint] source`: everything that changes which token
/// the API would return.
pub fn cache_key(registry: &Registry, settings: &RegistryConfig) -> String {
    let mut key = format!(
        "{} {} {}",
        registry.service.as_str(),
        registry.id.as_deref().unwrap_or("public"),
        registry.region
    );
    if registry.fips {
        key.push_str(" fips");
    }
    if let Some(endpoint) = endpoint_override(registry.service) {
        key.push_str(&format!(" endpoint:{endpoint}"));
    }
    key.push(' ');
    key.push_str(&credential_source(settings));
    key
}

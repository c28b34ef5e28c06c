//! The front binary's `Store`: resolves the request, runs the token policy (`policy.rs`) with the
//! fetcher process behind it, and answers. It links no SDK, so a cache hit starts fast.

use std::collections::BTreeMap;

use credhelper::protocol::driver::span_record;
use credhelper::{Credentials, Error, Store};

use crate::cache::Cache;
use crate::fetcher::{self, FetchFailure, FetchRequest, FetcherError};
use crate::identity;
use crate::paths;
use crate::policy::{self, Fetch, PolicyError};
use crate::registry::{Registry, Service};
use crate::request::{self, NOT_ECR, Request};
use crate::timeout;
use crate::token::{Entry, Freshness, now};

/// Environment: `true` makes `store` and `erase` succeed silently, as the Go helper does, so that
/// `docker login` to an ECR registry works with ecr-login configured.
pub const IGNORE_STORAGE_ENV: &str = "AWS_ECR_IGNORE_CREDS_STORAGE";

/// Environment: `true` answers every failure to get a token with the protocol's "not found"
/// (the Go helper's answer), the reason going to the log only. For CI systems that abort a job
/// on any other error from any configured helper, even for an image the job does not pull from
/// ECR (GitLab Runner reads every `credHelpers` entry on every job).
pub const FAILURES_AS_NOT_FOUND_ENV: &str = "AWS_ECR_FAILURES_AS_NOT_FOUND";

/// ECR tokens from the cache, or from the fetcher.
pub struct Front;

/// Why a `get` has no token.
#[derive(Debug, thiserror::Error)]
enum FrontError {
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error("the token for {0} is not base64 of user:password")]
    BadToken(String),
}

/// The fetcher process as the policy's one call (also the kubelet plugin's, `kubelet.rs`).
pub(crate) struct Process;

impl Fetch for Process {
    fn fetch(&self, req: &FetchRequest) -> Result<Entry, FetchFailure> {
        let start = std::time::Instant::now();
        let reply = fetcher::run(req);
        span_record(
            "api_ms",
            &format!("{:.1}", start.elapsed().as_secs_f64() * 1e3),
        );
        match reply {
            Ok(fetcher::FetchReply::Token(entry)) => Ok(entry),
            Ok(fetcher::FetchReply::Failed(failure)) => Err(failure),
            Err(e @ FetcherError::Timeout { .. }) => Err(FetchFailure::Timeout {
                host: req.registry.host.clone(),
                secs: req.bound_secs(),
                hint: format!(" ({e})"),
            }),
            Err(e) => Err(FetchFailure::Internal {
                reason: e.to_string(),
            }),
        }
    }
}

/// The cache, unless `AWS_ECR_DISABLE_CACHE` is set (to anything: Go turns it off for any
/// non-empty value) or there is no place for one.
pub(crate) fn cache() -> Option<Cache> {
    if paths::cache_disabled() {
        return None;
    }
    paths::cache_dir().map(Cache::new)
}

fn failures_as_not_found() -> bool {
    paths::env_true(FAILURES_AS_NOT_FOUND_ENV)
}

impl Store for Front {
    fn get(&self, server_url: &str) -> Result<Credentials, Error> {
        let req = match request::resolve(server_url) {
            Ok(Some(req)) => req,
            Ok(None) => {
                tracing::info!("{NOT_ECR}");
                return Err(Error::NotFound);
            }
            // A configuration the user must mend: retrying cannot help.
            Err(e) => return Err(Error::bad_input(e)),
        };
        span_record("registry", &req.registry.host);
        span_record("source", &req.identity.label());
        match get(&req) {
            Ok(creds) => Ok(creds),
            Err(e) if failures_as_not_found() => {
                tracing::warn!(error = %e, "{FAILURES_AS_NOT_FOUND_ENV}: answering not found");
                Err(Error::NotFound)
            }
            Err(e) => Err(Error::backend(e)),
        }
    }

    fn store(&self, _: &Credentials) -> Result<(), Error> {
        if paths::env_true(IGNORE_STORAGE_ENV) {
            Ok(())
        } else {
            Err(Error::NotImplemented)
        }
    }

    fn erase(&self, _: &str) -> Result<(), Error> {
        if paths::env_true(IGNORE_STORAGE_ENV) {
            Ok(())
        } else {
            Err(Error::NotImplemented)
        }
    }

    /// The registries with a valid token in the cache, as the Go helper lists them (`https://`
    /// endpoints). When none is the default registry of the credentials in use (a cold cache),
    /// it is fetched first, with one bounded call, as the Go helper's `list` does: GitLab Runner
    /// finds `credsStore` registries only through `list`.
    fn list(&self) -> Result<BTreeMap<String, String>, Error> {
        let cache = cache();
        if let Some(c) = &cache
            && let Err(e) = default_registry(c)
        {
            tracing::warn!(error = %e, "cannot fetch the default registry's token for list");
        }
        let now = now();
        Ok(cache
            .map(|c| c.load())
            .unwrap_or_default()
            .into_values()
            .filter(|e| e.freshness(now) != Freshness::Expired)
            .filter_map(|e| Some((e.proxy_endpoint.clone(), e.credentials()?.0)))
            .collect())
    }
}

fn get(req: &Request) -> Result<Credentials, FrontError> {
    let cache = cache();
    let (entry, outcome) = policy::token(req, cache.as_ref(), &Process, timeout())?;
    span_record("cache", outcome.as_str());
    let (username, secret) = entry
        .credentials()
        .ok_or_else(|| FrontError::BadToken(req.registry.host.clone()))?;
    Ok(Credentials {
        server_url: req.server_url.clone(),
        username,
        secret,
    })
}

/// The region the SDK would use for a call that names no registry: `AWS_REGION`,
/// `AWS_DEFAULT_REGION`, else the profile's `region`.
fn default_region() -> Option<String> {
    let env = |name: &str| std::env::var(name).ok().filter(|s| !s.trim().is_empty());
    env("AWS_REGION")
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .or_else(|| {
            let profiles = crate::aws_files::Profiles::load(&crate::aws_files::Files::from_env());
            let profile = env("AWS_PROFILE").unwrap_or_else(|| "default".into());
            profiles.get(&profile, "region").map(str::to_string)
        })
}

/// Makes sure the cache holds a valid token for the default registry of the credentials in
/// use, in the default region: nothing to do when one is there; else one fetch that names no
/// registry (ECR answers with the account's own), stored under that registry's key.
fn default_registry(cache: &Cache) -> Result<(), PolicyError> {
    let Some(region) = default_region() else {
        return Ok(());
    };
    let settings = crate::config::RegistryConfig::default();
    let identity = identity::resolve(&settings);
    let endpoint = request::endpoint(Service::Ecr);
    let now = now();
    let present = cache.load().iter().any(|(key, entry)| {
        entry.freshness(now) != Freshness::Expired
            && key.starts_with("ecr ")
            && key.split(' ').nth(2) == Some(region.as_str())
            && key.ends_with(&identity.key())
    });
    if present {
        return Ok(());
    }
    let req = FetchRequest {
        registry: Registry {
            host: format!("the default registry in {region}"),
            service: Service::Ecr,
            id: None,
            region,
            fips: false,
        },
        identity,
        endpoint,
        timeout_ms: timeout().as_millis().try_into().unwrap_or(u64::MAX),
        bound_ms: timeout().as_millis().try_into().unwrap_or(u64::MAX),
        web_identity_token: None,
    };
    let entry = Process.fetch(&req)?;
    // Stored under the key a `get` of the registry ECR named will look for.
    if let Ok(Some(named)) = request::resolve(&entry.proxy_endpoint)
        && let Err(e) = cache.put(&named.key, entry)
    {
        tracing::warn!(error = %e, "cannot write the token cache");
    }
    Ok(())
}

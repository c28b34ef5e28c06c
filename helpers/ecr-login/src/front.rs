//! The front binary's `Store`: answers from the cache, and runs the fetcher only on a miss.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::cache::{Cache, Freshness, now};
use crate::paths::{self, DISABLE_CACHE_ENV, env_true};
use crate::request::{self, NOT_ECR};
use crate::timeout;
use credhelper::os::child::{self, Ending, RunError};
use credhelper::protocol::driver::span_record;
use credhelper::{Credentials, Error, Store};

/// The fetcher's name; it is installed next to this binary.
pub const FETCHER: &str = "docker-credential-ecr-login-fetch";

/// Environment: `true` makes `store` and `erase` succeed silently, as the Go helper does, so that
/// `docker login` to an ECR registry works with ecr-login configured.
pub const IGNORE_STORAGE_ENV: &str = "AWS_ECR_IGNORE_CREDS_STORAGE";

/// ECR tokens from the cache, or from the fetcher.
pub struct Front;

/// Why the fetcher gave no token.
#[derive(Debug, thiserror::Error)]
pub enum FrontError {
    /// `current_exe` failed.
    #[error("cannot find my own path: {0}")]
    OwnPath(#[source] std::io::Error),
    /// The fetcher is not installed beside this binary.
    #[error(
        "{} is missing: it is installed next to docker-credential-ecr-login and fetches tokens on a cache miss; reinstall the helper",
        path.display()
    )]
    FetcherMissing {
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
    /// It reported a failure: its one line, passed on as it said it.
    #[error("{0}")]
    Failed(String),
    /// It answered, but not with credentials.
    #[error("{FETCHER} answered with something that is not credentials")]
    BadAnswer,
}

fn cache() -> Option<Cache> {
    if env_true(DISABLE_CACHE_ENV) {
        return None;
    }
    paths::cache_dir().map(Cache::new)
}

fn fetcher() -> Result<PathBuf, FrontError> {
    let exe = std::env::current_exe().map_err(FrontError::OwnPath)?;
    let path = exe.with_file_name(FETCHER);
    if path.is_file() {
        Ok(path)
    } else {
        Err(FrontError::FetcherMissing { path })
    }
}

/// Runs the fetcher for `server_url`. It answers only for an ECR registry (this binary has
/// resolved the URL already), so its failures are failures, never a miss.
fn fetch(server_url: &str) -> Result<Credentials, FrontError> {
    let mut cmd = Command::new(fetcher()?);
    cmd.arg("get");
    // The fetcher may wait up to one timeout for another process's fetch, then fetch itself.
    let limit = timeout() * 2 + Duration::from_secs(3);
    let out = child::run(cmd, server_url.as_bytes(), limit).map_err(|e| match e {
        RunError::Spawn(e) => FrontError::Spawn(e),
        RunError::Timeout(d) => FrontError::Timeout {
            secs: d.as_secs_f64(),
        },
    })?;
    if out.ending().signal().is_some() {
        return Err(FrontError::Crashed(out.ending()));
    }
    let text = std::str::from_utf8(&out.stdout).map_err(|_| FrontError::BadAnswer)?;
    if !out.success() {
        let line = text.trim();
        return Err(if line.is_empty() {
            FrontError::Failed(format!("{FETCHER} failed with {}", out.ending()))
        } else {
            FrontError::Failed(line.to_string())
        });
    }
    let creds = Credentials::from_get_json(text).map_err(|_| FrontError::BadAnswer)?;
    Ok(Credentials {
        server_url: server_url.to_string(),
        ..creds
    })
}

impl Store for Front {
    fn get(&self, server_url: &str) -> Result<Credentials, Error> {
        let Some(req) = request::resolve(server_url).map_err(Error::bad_input)? else {
            tracing::info!("{NOT_ECR}");
            return Err(Error::NotFound);
        };
        span_record("registry", &req.registry.host);
        span_record("source", &request::credential_source(&req.settings));
        if let Some(entry) = cache().and_then(|c| c.get(&req.key))
            && entry.freshness(now()) == Freshness::Fresh
            && let Some((username, secret)) = entry.credentials()
        {
            span_record("cache", "hit");
            return Ok(Credentials {
                server_url: server_url.to_string(),
                username,
                secret,
            });
        }
        span_record("cache", "miss");
        fetch(server_url).map_err(Error::backend)
    }

    fn store(&self, _: &Credentials) -> Result<(), Error> {
        if env_true(IGNORE_STORAGE_ENV) {
            Ok(())
        } else {
            Err(Error::NotImplemented)
        }
    }

    fn erase(&self, _: &str) -> Result<(), Error> {
        if env_true(IGNORE_STORAGE_ENV) {
            Ok(())
        } else {
            Err(Error::NotImplemented)
        }
    }

    /// The registries with a valid token in the cache, as the Go helper lists them
    /// (`https://` endpoints); never a network call.
    fn list(&self) -> Result<BTreeMap<String, String>, Error> {
        let now = now();
        Ok(cache()
            .map(|c| c.load())
            .unwrap_or_default()
            .into_values()
            .filter(|e| e.freshness(now) != Freshness::Expired)
            .filter_map(|e| Some((e.proxy_endpoint.clone(), e.credentials()?.0)))
            .collect())
    }
}

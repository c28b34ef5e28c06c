//! docker-credential-ecr-login-fetch: the part of docker-credential-ecr-login that links the AWS
//! SDK. The front binary runs it on a cache miss with the same `get` request; it takes the
//! registry's fetch lock (so N concurrent cold gets make one API call), looks at the cache again,
//! calls the API, and writes the cache.

mod aws;

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Instant;

use credhelper::protocol::driver::span_record;
use credhelper::{Credentials, Error, Store};
use ecr_login::cache::{Cache, Freshness, now};
use ecr_login::paths::{self, DISABLE_CACHE_ENV, env_true};
use ecr_login::request::{self, NOT_ECR};

struct Fetch;

/// A token that is not base64 of `user:password`.
#[derive(Debug, thiserror::Error)]
#[error("the token is not base64 of user:password")]
struct BadToken;

impl Store for Fetch {
    fn get(&self, server_url: &str) -> Result<Credentials, Error> {
        let Some(req) = request::resolve(server_url).map_err(Error::bad_input)? else {
            tracing::info!("{NOT_ECR}");
            return Err(Error::NotFound);
        };
        span_record("registry", &req.registry.host);
        span_record("source", &request::credential_source(&req.settings));
        let answer = |entry: &ecr_login::cache::Entry| {
            let (username, secret) = entry.credentials().ok_or(Error::backend(BadToken))?;
            Ok(Credentials {
                server_url: server_url.to_string(),
                username,
                secret,
            })
        };
        let cache = (!env_true(DISABLE_CACHE_ENV))
            .then(paths::cache_dir)
            .flatten()
            .map(Cache::new);
        // Held until we return: concurrent fetchers of this key wait here, then find its token.
        let _lock = cache.as_ref().and_then(|c| {
            c.fetch_lock(&req.key, ecr_login::timeout())
                .map_err(|e| tracing::warn!(error = %e, "no fetch lock; fetching anyway"))
                .ok()
        });
        let cached = cache.as_ref().and_then(|c| c.get(&req.key));
        let now = now();
        if let Some(entry) = &cached
            && entry.freshness(now) == Freshness::Fresh
        {
            span_record("cache", "hit-after-wait");
            return answer(entry);
        }
        let start = Instant::now();
        let fetched = aws::fetch(&req, ecr_login::timeout());
        span_record(
            "api_ms",
            &format!("{:.1}", start.elapsed().as_secs_f64() * 1e3),
        );
        match fetched {
            Ok(entry) => {
                span_record("cache", if cached.is_some() { "refresh" } else { "miss" });
                if entry.freshness(now) == Freshness::Expired {
                    // Just issued, yet past its expiry by our clock: the clock is wrong (or the
                    // endpoint is a test double). The registry is the judge; it is not cached.
                    tracing::warn!(
                        expires_at = entry.expires_at,
                        now,
                        "the new token's expiry is already past by this machine's clock; not caching it"
                    );
                } else if let Some(c) = &cache
                    && let Err(e) = c.put(&req.key, entry.clone())
                {
                    tracing::warn!(error = %e, "cannot write the token cache");
                }
                answer(&entry)
            }
            Err(e) => match cached {
                Some(entry) if entry.freshness(now) == Freshness::Stale => {
                    span_record("cache", "stale-served");
                    tracing::warn!(error = %e, expires_at = entry.expires_at, "refresh failed; serving the cached token, still valid");
                    answer(&entry)
                }
                _ => Err(Error::backend(e)),
            },
        }
    }

    fn store(&self, _: &Credentials) -> Result<(), Error> {
        Err(Error::NotImplemented)
    }

    fn erase(&self, _: &str) -> Result<(), Error> {
        Err(Error::NotImplemented)
    }

    fn list(&self) -> Result<BTreeMap<String, String>, Error> {
        Err(Error::NotImplemented)
    }
}

fn main() -> ExitCode {
    credhelper::main(&Fetch, &ecr_login::INFO)
}

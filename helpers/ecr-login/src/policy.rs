//! The token policy, all of it, in one place: resolve, freshness, lock, fetch, write, serve
//! stale, back off. The front runs it; the fetcher only makes the one call it is asked for.
//!
//! - A **fresh** token (less than half its life gone) is served with no network call.
//! - A **stale** token (past half-life, still valid) is refreshed by one process at a time; any
//!   other process serves the stale token at once instead of waiting. After a refresh fails the
//!   stale token is served, with no call, for [`BACKOFF_SECS`] (while it stays valid).
//! - With no valid token (**cold**), one process fetches and the others wait for its outcome,
//!   success or failure, instead of each trying in turn.
//! - Nothing takes longer than the bound (`AWS_ECR_TIMEOUT`) plus [`SLACK`].

use std::time::{Duration, Instant};

use crate::cache::{Cache, Failure};
use crate::fetcher::{FetchFailure, FetchRequest};
use crate::request::Request;
use crate::token::{Entry, Freshness, now, now_ms};

/// After a failed refresh, the still-valid token is served without trying again for this long.
pub const BACKOFF_SECS: i64 = 60;

/// What a get may take beyond the bound: starting the fetcher process and writing the cache.
pub const SLACK: Duration = Duration::from_millis(1500);

/// How a token was had, for the log line (`cache=…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Fresh in the cache: no call.
    Hit,
    /// Fetched by another process while this one waited: no call.
    HitAfterWait,
    /// No valid token: fetched.
    Miss,
    /// Stale: refreshed.
    Refresh,
    /// Stale, and the refresh failed or another process is refreshing: the valid token served.
    StaleServed,
    /// Stale, within the back-off after a failed refresh: served with no call.
    StaleBackoff,
    /// No cache (disabled or unusable): fetched.
    Uncached,
}

impl Outcome {
    /// The word in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Hit => "hit",
            Outcome::HitAfterWait => "hit-after-wait",
            Outcome::Miss => "miss",
            Outcome::Refresh => "refresh",
            Outcome::StaleServed => "stale-served",
            Outcome::StaleBackoff => "stale-backoff",
            Outcome::Uncached => "uncached",
        }
    }
}

/// Why there is no token.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The fetch failed (here, or in the process this one waited for).
    #[error(transparent)]
    Fetch(#[from] FetchFailure),
    /// Another process held the registry's fetch for longer than it may take.
    #[error(
        "another docker-credential-ecr-login is fetching the token for {host} and did not finish within {secs} s (AWS_ECR_TIMEOUT)"
    )]
    Waited {
        /// The registry.
        host: String,
        /// How long this one waited.
        secs: f64,
    },
}

/// The one call to the API, however it is made (the fetcher process; a stub in tests).
pub trait Fetch {
    /// Fetches `req`'s token within its bound.
    fn fetch(&self, req: &FetchRequest) -> Result<Entry, FetchFailure>;
}

/// A usable token for `req`, and how it was had. `cache` is `None` when caching is off.
pub fn token(
    req: &Request,
    cache: Option<&Cache>,
    fetcher: &dyn Fetch,
    limit: Duration,
) -> Result<(Entry, Outcome), PolicyError> {
    let deadline = Instant::now() + limit;
    let fetch = |until: Instant| {
        let left = until.saturating_duration_since(Instant::now());
        fetcher.fetch(&FetchRequest {
            registry: req.registry.clone(),
            identity: req.identity.clone(),
            endpoint: req.endpoint.clone(),
            timeout_ms: left.as_millis().try_into().unwrap_or(u64::MAX),
            bound_ms: limit.as_millis().try_into().unwrap_or(u64::MAX),
            web_identity_token: req.web_identity_token.clone(),
        })
    };
    let Some(cache) = cache else {
        return Ok((fetch(deadline)?, Outcome::Uncached));
    };
    let key = &req.key;
    let (entry, failure) = cache.state(key);
    // A token that does not decode cannot be served: a miss, not a failure for half its life.
    let entry = entry.filter(|e| e.credentials().is_some());
    let now = now();
    match entry {
        Some(fresh) if fresh.freshness(now) == Freshness::Fresh => Ok((fresh, Outcome::Hit)),
        Some(stale) if stale.freshness(now) == Freshness::Stale => {
            if failure.is_some_and(|f| f.retry_after > now) {
                return Ok((stale, Outcome::StaleBackoff));
            }
            // Someone else is refreshing: this valid token now beats that one later.
            let Some(_lock) = cache.try_fetch_lock(key) else {
                return Ok((stale, Outcome::StaleServed));
            };
            if let (Some(again), _) = cache.state(key)
                && again.freshness(crate::token::now()) == Freshness::Fresh
            {
                return Ok((again, Outcome::HitAfterWait));
            }
            match fetch(deadline) {
                Ok(fresh) => {
                    store(cache, key, &fresh);
                    Ok((fresh, Outcome::Refresh))
                }
                Err(e) => {
                    tracing::warn!(error = %e, expires_at = stale.expires_at, backoff_s = BACKOFF_SECS, "refresh failed; serving the cached token, still valid");
                    let at = now_ms();
                    record(cache, key, at, at / 1000 + BACKOFF_SECS, e);
                    Ok((stale, Outcome::StaleServed))
                }
            }
        }
        _ => cold(req, cache, &fetch, deadline, limit),
    }
}

/// No valid token: one process fetches; the others wait for its outcome.
fn cold(
    req: &Request,
    cache: &Cache,
    fetch: &dyn Fn(Instant) -> Result<Entry, FetchFailure>,
    deadline: Instant,
    limit: Duration,
) -> Result<(Entry, Outcome), PolicyError> {
    let key = &req.key;
    let waiting_since = now_ms();
    // The holder's own fetch ends within the bound plus its slack: wait that long for it.
    let lock = match cache.fetch_lock(key, limit + SLACK) {
        Ok(lock) => Some(lock),
        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
            return Err(PolicyError::Waited {
                host: req.registry.host.clone(),
                secs: (limit + SLACK).as_secs_f64(),
            });
        }
        Err(e) => {
            tracing::warn!(error = %e, "no fetch lock; fetching without one");
            None
        }
    };
    if lock.is_some() {
        let (entry, failure) = cache.state(key);
        if let Some(entry) = entry
            && entry.freshness(now()) != Freshness::Expired
            && entry.credentials().is_some()
        {
            return Ok((entry, Outcome::HitAfterWait));
        }
        // The fetch this process waited for failed: that is the answer, not a second try.
        if let Some(f) = failure
            && f.at_ms >= waiting_since
        {
            return Err(f.failure.into());
        }
    }
    match fetch(deadline) {
        Ok(entry) => {
            store(cache, key, &entry);
            Ok((entry, Outcome::Miss))
        }
        Err(e) => {
            if lock.is_some() {
                // For the processes waiting on this fetch; no back-off with nothing to serve.
                let at = now_ms();
                record(cache, key, at, at / 1000, e.clone());
            }
            Err(e.into())
        }
    }
}

fn store(cache: &Cache, key: &str, entry: &Entry) {
    if entry.freshness(now()) == Freshness::Expired {
        // Just issued, yet past its expiry by our clock: the clock is wrong (or the endpoint is
        // a test double). The registry is the judge; it is not cached.
        tracing::warn!(
            expires_at = entry.expires_at,
            "the new token's expiry is already past by this machine's clock; not caching it"
        );
    } else if let Err(e) = cache.put(key, entry.clone()) {
        tracing::warn!(error = %e, "cannot write the token cache");
    }
}

fn record(cache: &Cache, key: &str, at_ms: i64, retry_after: i64, failure: FetchFailure) {
    let record = Failure {
        at_ms,
        retry_after,
        failure,
    };
    if let Err(e) = cache.put_failure(key, record) {
        tracing::warn!(error = %e, "cannot record the failed fetch in the token cache");
    }
}

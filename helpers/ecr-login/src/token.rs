//! A token and its life: what ECR hands out, when it was fetched, when it expires, and so how
//! usable it is now. The cache stores these; the fetcher returns one.

use std::time::{SystemTime, UNIX_EPOCH};

use credhelper::Secret;
use serde::{Deserialize, Serialize};

/// One token, as fetched and as cached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// What ECR returned: base64 of `user:password`.
    pub token: Secret,
    /// The registry endpoint ECR returned (`https://…`), listed by `list`.
    pub proxy_endpoint: String,
    /// When the token was fetched, seconds since the epoch.
    pub requested_at: i64,
    /// When it expires, seconds since the epoch.
    pub expires_at: i64,
    /// `ecr` or `ecr-public`.
    pub service: String,
}

/// How usable a cached token is now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Less than half of its lifetime has passed: serve it, no network call.
    Fresh,
    /// Still valid but past half-life: refresh; serve it only if the refresh fails.
    Stale,
    /// Expired (or the clock is not to be trusted): never served.
    Expired,
}

impl Entry {
    /// Where `now` (seconds since the epoch) falls in the token's life. A `requested_at` in the
    /// future means the clock moved back: the token's age is unknown, so it is refreshed.
    pub fn freshness(&self, now: i64) -> Freshness {
        if now >= self.expires_at || self.expires_at <= self.requested_at {
            return Freshness::Expired;
        }
        // In i128: a hand-edited file may hold any two i64s, and their difference must not
        // overflow (the `ecr_cache` fuzz target and its `extremes` seed hold it to that).
        let half = (i128::from(self.requested_at) + i128::from(self.expires_at)) / 2;
        if now < self.requested_at || i128::from(now) >= half {
            Freshness::Stale
        } else {
            Freshness::Fresh
        }
    }

    /// The username and password inside the token.
    pub fn credentials(&self) -> Option<(String, Secret)> {
        use base64::Engine;
        let decoded = zeroize::Zeroizing::new(
            base64::engine::general_purpose::STANDARD
                .decode(self.token.expose())
                .ok()?,
        );
        let text = std::str::from_utf8(&decoded).ok()?;
        let (user, password) = text.split_once(':')?;
        Some((user.to_string(), Secret::new(password.to_string())))
    }
}

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis().try_into().unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(requested_at: i64, expires_at: i64) -> Entry {
        Entry {
            token: Secret::new("QVdTOnBhc3N3b3Jk".into()),
            proxy_endpoint: "https://123456789012.dkr.ecr.us-east-1.amazonaws.com".into(),
            requested_at,
            expires_at,
            service: "ecr".into(),
        }
    }

    #[test]
    fn freshness_follows_half_life() {
        let e = entry(1000, 2000);
        assert_eq!(e.freshness(1000), Freshness::Fresh);
        assert_eq!(e.freshness(1499), Freshness::Fresh);
        assert_eq!(e.freshness(1500), Freshness::Stale);
        assert_eq!(e.freshness(1999), Freshness::Stale);
        assert_eq!(e.freshness(2000), Freshness::Expired);
        assert_eq!(e.freshness(999), Freshness::Stale, "clock moved back");
        assert_eq!(entry(2000, 2000).freshness(1000), Freshness::Expired);
    }

    #[test]
    fn token_decodes_and_debug_redacts() {
        let (user, pass) = entry(0, 1).credentials().expect("decodes");
        assert_eq!((user.as_str(), pass.expose()), ("AWS", "password"));
        assert!(!format!("{:?}", entry(0, 1)).contains("QVdT"));
    }
}

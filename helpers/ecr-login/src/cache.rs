//! The token cache: one JSON file under the cache dir, versioned, private, written atomically.
//!
//! A corrupt, truncated or unknown-version file is treated as empty and rewritten on the next
//! fetch: the cache only ever saves time, it must never make a `get` fail.
//!
//! The cache directory may be shared (`AWS_ECR_CACHE_DIR=/tmp/ecr`, mode 1777, on a CI host), so
//! it is used only through [`Dir::private`]: as it is when it is ours and nobody else may write
//! it, else our own `uid-<euid>` directory inside it; if neither can be had, there is no cache for
//! this call and one warning says why. Every file in it, the cache, its lock and the fetch locks,
//! is opened without following links and without blocking, and only if it is a regular file of
//! ours (issue #11).

use std::collections::BTreeMap;
use std::fs::File;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use credhelper::os::dir::Dir;
use credhelper::os::fs::lock_within;
use serde::{Deserialize, Serialize};

use crate::fetcher::FetchFailure;
pub use crate::token::{Entry, Freshness, now, now_ms};

/// The cache file's name. Not the Go helper's `cache.json`: its keys and fields differ, and both
/// helpers may share `~/.ecr`.
pub const FILE_NAME: &str = "token-cache.json";
/// The format version this code reads and writes.
pub const VERSION: u32 = 1;
/// A cache file larger than this is not read (it cannot be ours).
const MAX_FILE: u64 = 4 << 20;
/// The lock every writer of the cache file holds.
const WRITE_LOCK: &str = "token-cache.lock";

/// A fetch that failed, kept beside the entries: the processes that waited for it take it as
/// their answer, and after a failed refresh the stale token is served until `retry_after`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Failure {
    /// When it failed, milliseconds since the epoch (waiters compare it with when they began).
    pub at_ms: i64,
    /// No new try before this, seconds since the epoch, while a valid token can be served.
    pub retry_after: i64,
    /// Why.
    pub failure: FetchFailure,
}

/// What a cache file holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Contents {
    /// Cache key → token.
    pub entries: BTreeMap<String, Entry>,
    /// Cache key → the last failed fetch (absent from files written before they were kept).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub failures: BTreeMap<String, Failure>,
}

#[derive(Debug, Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    #[serde(flatten)]
    contents: Contents,
}

/// Why a cache file's bytes cannot be used; it is then read as empty and rewritten.
#[derive(Debug, thiserror::Error)]
pub enum CacheFileError {
    /// Not the JSON of a cache file (corrupt, truncated).
    #[error("corrupt cache file: {0}")]
    Corrupt(#[source] serde_json::Error),
    /// Of another version.
    #[error("cache file of another version ({0})")]
    Version(u32),
}

/// The contents of a cache file's bytes, or why the file cannot be used (corrupt, truncated, of
/// another version). Pure, so that it can be fuzzed.
pub fn parse(bytes: &[u8]) -> Result<Contents, CacheFileError> {
    match serde_json::from_slice::<CacheFile>(bytes) {
        Ok(c) if c.version == VERSION => Ok(c.contents),
        Ok(c) => Err(CacheFileError::Version(c.version)),
        Err(e) => Err(CacheFileError::Corrupt(e)),
    }
}

/// A cache file's bytes for `contents`: what [`parse`] reads back.
pub fn to_bytes(contents: Contents) -> serde_json::Result<Vec<u8>> {
    let mut text = serde_json::to_vec_pretty(&CacheFile {
        version: VERSION,
        contents,
    })?;
    text.push(b'\n');
    Ok(text)
}

/// The cache in `dir`.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
    /// The directory actually used, opened and checked once (see the module's documentation);
    /// `None` once it has been refused.
    held: Arc<OnceLock<Option<Dir>>>,
}

impl Cache {
    /// The cache kept in `dir` (created on first use, mode 0700).
    pub fn new(dir: PathBuf) -> Cache {
        Cache {
            dir,
            held: Arc::default(),
        }
    }

    /// The directory in use, or `None`: then the cache is off for this call, and the first call
    /// that found out logged why, once.
    fn held(&self) -> Option<&Dir> {
        self.held
            .get_or_init(|| {
                Dir::private(&self.dir)
                    .map_err(|e| tracing::warn!("no token cache for this call: {e}"))
                    .ok()
            })
            .as_ref()
    }

    /// The cache file's path: in `dir`, or in our own directory within it when others may write
    /// `dir`. Finding out creates the directory.
    pub fn path(&self) -> PathBuf {
        self.held()
            .map_or(self.dir.as_path(), Dir::path)
            .join(FILE_NAME)
    }

    /// Everything in the file; empty when the file is missing, unreadable, corrupt, of another
    /// version, not a regular file of ours, or when there is no usable cache directory.
    pub fn contents(&self) -> Contents {
        let Some(dir) = self.held() else {
            return Contents::default();
        };
        let bytes = match dir.read(FILE_NAME, MAX_FILE) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Contents::default(),
            Err(e) => {
                tracing::warn!("cannot use the cache file: {e}; ignoring it");
                return Contents::default();
            }
        };
        parse(&bytes).unwrap_or_else(|why| {
            tracing::warn!(file = %dir.path().join(FILE_NAME).display(), "{why}; ignoring it");
            Contents::default()
        })
    }

    /// Every entry.
    pub fn load(&self) -> BTreeMap<String, Entry> {
        self.contents().entries
    }

    /// One entry.
    pub fn get(&self, key: &str) -> Option<Entry> {
        self.load().remove(key)
    }

    /// One key's entry and last failure, from one read of the file.
    pub fn state(&self, key: &str) -> (Option<Entry>, Option<Failure>) {
        let mut c = self.contents();
        (c.entries.remove(key), c.failures.remove(key))
    }

    /// Saves one entry (and forgets the key's last failure), keeping every other one that has
    /// not expired. The read-modify-write runs under an exclusive lock, so concurrent writers for
    /// different registries lose nothing. Without a usable cache directory it does nothing (the
    /// cache is off for this call).
    pub fn put(&self, key: &str, entry: Entry) -> std::io::Result<()> {
        self.update(|c| {
            c.failures.remove(key);
            c.entries.insert(key.to_string(), entry);
        })
    }

    /// Records a failed fetch for `key` (see [`Failure`]).
    pub fn put_failure(&self, key: &str, failure: Failure) -> std::io::Result<()> {
        self.update(|c| {
            c.failures.insert(key.to_string(), failure);
        })
    }

    fn update(&self, change: impl FnOnce(&mut Contents)) -> std::io::Result<()> {
        let Some(dir) = self.held() else {
            return Ok(());
        };
        let _lock = lock(dir, WRITE_LOCK, Duration::from_secs(5))?;
        // Every writer holds this lock while its temp file exists, so a temp file seen now was
        // left by a killed writer; it may hold tokens.
        let stale = dir.remove_temps(FILE_NAME);
        if stale > 0 {
            tracing::info!(stale, "removed temp files a killed writer left");
        }
        let now = now();
        let mut contents = self.contents();
        contents
            .entries
            .retain(|_, e| e.freshness(now) != Freshness::Expired);
        // A failure matters while waiters may still read it or its back-off runs.
        contents
            .failures
            .retain(|_, f| f.retry_after.max(f.at_ms / 1000 + FAILURE_KEPT_SECS) > now);
        change(&mut contents);
        let text = zeroize::Zeroizing::new(to_bytes(contents).map_err(std::io::Error::other)?);
        Ok(dir.write_atomic(FILE_NAME, &text)?)
    }

    /// Takes the lock that makes concurrent cold `get`s for one key fetch once: the first takes
    /// it and fetches, the others wait, then take its outcome from the cache. `TimedOut` after
    /// `wait`.
    pub fn fetch_lock(&self, key: &str, wait: Duration) -> std::io::Result<File> {
        let (locks, name) = self.lock_slot(key)?;
        lock(&locks, &name, wait)
    }

    /// The same lock, only if nobody holds it now.
    pub fn try_fetch_lock(&self, key: &str) -> Option<File> {
        let (locks, name) = self.lock_slot(key).ok()?;
        lock(&locks, &name, Duration::ZERO).ok()
    }

    /// The lock file for `key`: one of [`LOCK_SLOTS`], so that their number is bounded however
    /// many registries and identities come and go (two keys sharing a slot only take turns).
    fn lock_slot(&self, key: &str) -> std::io::Result<(Dir, String)> {
        use std::hash::{Hash, Hasher};
        let dir = self
            .held()
            .ok_or_else(|| std::io::Error::other("no token cache for this call"))?;
        let locks = dir.private_sub("locks")?;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut h);
        Ok((locks, format!("slot-{:02}.lock", h.finish() % LOCK_SLOTS)))
    }
}

/// How many fetch lock files there may be.
pub const LOCK_SLOTS: u64 = 64;

/// How long a failure is kept for the processes that waited for it.
const FAILURE_KEPT_SECS: i64 = 60;

/// An exclusive lock on `name` in `dir` (a regular file of ours, no link followed), waiting at
/// most `wait`. Released when the file is dropped, or by the kernel when the process dies, so a
/// killed helper never leaves a stale lock.
fn lock(dir: &Dir, name: &str, wait: Duration) -> std::io::Result<File> {
    let file = dir.append(name)?;
    if lock_within(&file, wait)? {
        return Ok(file);
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        format!(
            "{} stayed locked for {wait:?}",
            dir.path().join(name).display()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use credhelper::Secret;

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
    fn corrupt_or_foreign_files_read_as_empty_and_are_rewritten() {
        let dir = std::env::temp_dir().join(format!("ecr-cache-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let cache = Cache::new(dir.clone());
        assert!(cache.load().is_empty(), "missing");
        std::fs::create_dir_all(&dir).expect("mkdir");
        for junk in [
            "",
            "{",
            "null",
            "{\"version\":99,\"entries\":{}}",
            "\u{0}\u{1}",
        ] {
            std::fs::write(cache.path(), junk).expect("write");
            assert!(cache.load().is_empty(), "{junk:?}");
        }
        let now = now();
        cache.put("k", entry(now, now + 3600)).expect("put");
        cache
            .put("old", entry(now - 7200, now - 3600))
            .expect("put");
        cache.put("k2", entry(now, now + 3600)).expect("put");
        let keys: Vec<String> = cache.load().into_keys().collect();
        assert_eq!(
            keys,
            ["k", "k2"],
            "an expired entry is pruned by the next write"
        );
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}

//! What the fast path must know about the user's secret keys, learned once from gpg and kept in
//! a private cache file: for each encryption key whose secret gpg-agent holds on disk, its key
//! id, its keygrip (the agent's name for it), its fingerprint and, for ECDH, the curve and the
//! key-derivation parameters of its public key.
//!
//! Learning runs `gpgconf --list-dirs agent-socket` (where the agent listens, exactly as gpg
//! finds it), `gpg --with-colons --with-keygrip --list-secret-keys` (key ids, fingerprints,
//! keygrips, and which keys are on a card or only a stub) and `gpg --export` of those keys (the
//! public parameters, read with rPGP). Nothing learned is secret.
//!
//! The cache is `$XDG_CACHE_HOME/rust-credential-helpers/pass-keys-<hash of GNUPGHOME>.json`
//! (or `~/.cache/…`), 0600 in a 0700 directory. Each entry records the size, modification time
//! and inode of the keyring files (`pubring.kbx`, `pubring.gpg`, `private-keys-v1.d`, keyboxd's
//! `public-keys.d/pubring.db`, `common.conf`); when any of them differs the entry is ignored, and
//! learnt again after the next successful decryption.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use credhelper::os::child;
use credhelper::os::fs::{create_private_dir_all, write_atomic};
use pgp::composed::{Deserializable, SignedPublicKey};
use pgp::types::{EcdhPublicParams, KeyDetails, PublicParams};
use serde::{Deserialize, Serialize};
use sha2::Digest;

/// The cache format; a file of another version is ignored (and rewritten).
const VERSION: u32 = 1;
/// A cache file larger than this is not ours.
const MAX_CACHE_BYTES: u64 = 1 << 20;

/// Why the keys could not be learnt. Learning is an optimisation: the caller logs this and goes
/// on.
#[derive(Debug, thiserror::Error)]
pub enum LearnError {
    /// Neither GNUPGHOME nor a home directory, or no cache directory.
    #[error("no GNUPGHOME or cache directory")]
    NoPlace,
    /// A learning command could not run or failed.
    #[error("{program} {what} failed")]
    Command {
        /// The program.
        program: String,
        /// What it was asked.
        what: &'static str,
    },
    /// Our other gpg runs kept the gpg home for the whole bound.
    #[error(transparent)]
    Busy(#[from] crate::turn::Busy),
    /// rPGP could not read gpg's export.
    #[error("cannot read the exported public keys")]
    Export,
    /// The cache could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The cache file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// What the fast path knows: where the agent listens, and the keys it can ask it to use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyCache {
    /// gpg-agent's socket, as `gpgconf --list-dirs agent-socket` said.
    pub socket: PathBuf,
    /// Encryption keys whose secret is in `private-keys-v1.d` (not on a card, not a stub).
    pub keys: Vec<CachedKey>,
}

impl KeyCache {
    /// The key with this 8-byte key id.
    pub fn key(&self, key_id: &[u8]) -> Option<&CachedKey> {
        let id = hex_upper(key_id);
        self.keys.iter().find(|k| k.key_id == id)
    }
}

/// One encryption key (a primary key or a subkey).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedKey {
    /// The 16 hex digits of its key id, upper case.
    pub key_id: String,
    /// The 40 hex digits of its keygrip.
    pub keygrip: String,
    /// Its fingerprint, hex, upper case (the ECDH key derivation uses it).
    pub fingerprint: String,
    /// Its algorithm and what decrypting with it needs.
    pub algo: KeyAlgo,
}

/// The public-key algorithms the fast path handles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum KeyAlgo {
    /// RSA: the agent removes the PKCS#1 padding itself.
    Rsa,
    /// ECDH (Curve25519, NIST P-256/384/521): the agent returns the shared point; the key
    /// derivation and AES key unwrap are done here, with rPGP.
    Ecdh {
        /// The curve's OID, hex.
        curve_oid: String,
        /// The KDF's hash algorithm id.
        hash: u8,
        /// The key-wrap algorithm id.
        sym: u8,
    },
}

/// The cache file.
#[derive(Debug, Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    gnupghome: PathBuf,
    stamp: Vec<FileStamp>,
    #[serde(flatten)]
    cache: KeyCache,
}

/// A keyring file's identity and version, or `missing`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct FileStamp {
    name: String,
    missing: bool,
    size: u64,
    mtime: i64,
    mtime_nsec: i64,
    inode: u64,
}

/// What changes whenever gpg adds, removes or changes a key.
const STAMPED: &[&str] = &[
    "pubring.kbx",
    "pubring.gpg",
    "private-keys-v1.d",
    "public-keys.d/pubring.db",
    "common.conf",
];

fn stamp(home: &Path) -> Vec<FileStamp> {
    STAMPED
        .iter()
        .map(|name| match fs::metadata(home.join(name)) {
            Ok(m) => FileStamp {
                name: name.to_string(),
                missing: false,
                size: m.size(),
                mtime: m.mtime(),
                mtime_nsec: m.mtime_nsec(),
                inode: m.ino(),
            },
            Err(_) => FileStamp {
                name: name.to_string(),
                missing: true,
                size: 0,
                mtime: 0,
                mtime_nsec: 0,
                inode: 0,
            },
        })
        .collect()
}

/// gpg's home: `$GNUPGHOME` (made absolute, trailing slashes dropped), else `~/.gnupg`.
pub fn gnupg_home() -> Option<PathBuf> {
    match std::env::var_os("GNUPGHOME").filter(|h| !h.is_empty()) {
        Some(h) => {
            let h = PathBuf::from(h);
            let h = if h.is_absolute() {
                h
            } else {
                std::env::current_dir().ok()?.join(h)
            };
            Some(h.components().collect())
        }
        None => dirs::home_dir().map(|h| h.join(".gnupg")),
    }
}

fn cache_file(home: &Path) -> Option<PathBuf> {
    Some(cache_file_in(&dirs::cache_dir()?, home))
}

/// The cache file for gpg's `home` under the cache directory `cache_dir` (`~/.cache`).
pub fn cache_file_in(cache_dir: &Path, home: &Path) -> PathBuf {
    let digest = sha2::Sha256::digest(home.as_os_str().as_encoded_bytes());
    let name = format!("pass-keys-{}.json", hex_lower(&digest[..16]));
    cache_dir.join("rust-credential-helpers").join(name)
}

/// The cached keys for `home`, if the cache is there and the keyring has not changed since.
pub fn load(home: &Path) -> Option<KeyCache> {
    load_file(&cache_file(home)?, home)
}

/// [`load`] from a given cache file (the benchmark reads a sandbox's).
pub fn load_file(path: &Path, home: &Path) -> Option<KeyCache> {
    let file = fs::File::open(path).ok()?;
    if file.metadata().ok()?.len() > MAX_CACHE_BYTES {
        return None;
    }
    let parsed: CacheFile = serde_json::from_reader(std::io::BufReader::new(file)).ok()?;
    (parsed.version == VERSION && parsed.gnupghome == home && parsed.stamp == stamp(home))
        .then_some(parsed.cache)
}

/// Learns the keys of `home` from gpg and writes the cache, all within `limit` (what is left of
/// the get's bound: a get that had to run gpg still answers within it). Learnt by another
/// helper while this one waited for its turn: that cache is taken, not learnt again.
pub fn learn(home: &Path, gpg: &std::ffi::OsStr, limit: Duration) -> Result<KeyCache, LearnError> {
    let path = cache_file(home).ok_or(LearnError::NoPlace)?;
    // Taken before asking gpg: a key added meanwhile makes this entry stale, never wrong.
    let before = stamp(home);
    let start = std::time::Instant::now();
    let socket = agent_socket(gpg, limit)?;
    // Both gpg runs in one turn at the gpg home (see `turn`), within the bound.
    let turn = crate::turn::Turn::take(limit.saturating_sub(start.elapsed()))?;
    if let Some(cache) = load(home) {
        return Ok(cache);
    }
    let listing = run(
        gpg,
        turn.remaining(),
        &[
            "--batch",
            "--no-tty",
            "--no-auto-check-trustdb",
            "--with-colons",
            "--with-keygrip",
            "--list-secret-keys",
        ],
        "--list-secret-keys",
    )?;
    let listed = parse_listing(&String::from_utf8_lossy(&listing));
    let primaries: Vec<&str> = listed
        .iter()
        .filter(|k| k.primary)
        .map(|k| k.fingerprint.as_str())
        .collect();
    let mut keys = Vec::new();
    if !primaries.is_empty() {
        let mut args = vec!["--batch", "--no-tty", "--export", "--"];
        args.extend(primaries);
        let export = run(gpg, turn.remaining(), &args, "--export")?;
        let params = public_params(&export)?;
        for k in listed.iter().filter(|k| k.on_disk) {
            if let Some((_, algo)) = params.iter().find(|(fpr, _)| *fpr == k.fingerprint) {
                keys.push(CachedKey {
                    key_id: k.key_id.clone(),
                    keygrip: k.keygrip.clone(),
                    fingerprint: k.fingerprint.clone(),
                    algo: algo.clone(),
                });
            }
        }
    }
    let cache = KeyCache { socket, keys };
    let file = CacheFile {
        version: VERSION,
        gnupghome: home.to_path_buf(),
        stamp: before,
        cache: cache.clone(),
    };
    let json = serde_json::to_vec(&file).map_err(|e| LearnError::Write {
        path: path.clone(),
        source: e.into(),
    })?;
    let dir = path.parent().ok_or(LearnError::NoPlace)?;
    create_private_dir_all(dir).map_err(|source| LearnError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    write_atomic(&path, &json).map_err(|source| LearnError::Write { path, source })?;
    Ok(cache)
}

/// Runs gpg (or gpgconf) with `args`; its stdout if it exits 0.
fn run(
    program: &std::ffi::OsStr,
    limit: Duration,
    args: &[&str],
    what: &'static str,
) -> Result<Vec<u8>, LearnError> {
    let mut cmd = Command::new(program);
    cmd.args(args);
    let failed = || LearnError::Command {
        program: program.to_string_lossy().into_owned(),
        what,
    };
    let out = child::run(cmd, &[], limit).map_err(|_| failed())?;
    if !out.success() {
        return Err(failed());
    }
    Ok(out.stdout.to_vec())
}

/// gpg-agent's socket, from the gpgconf beside the gpg in use (or the one on PATH).
fn agent_socket(gpg: &std::ffi::OsStr, limit: Duration) -> Result<PathBuf, LearnError> {
    let sibling = Path::new(gpg)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map(|d| d.join("gpgconf"))
        .filter(|p| p.is_file());
    let gpgconf = sibling.map_or_else(|| "gpgconf".into(), PathBuf::into_os_string);
    let out = run(
        &gpgconf,
        limit,
        &["--list-dirs", "agent-socket"],
        "--list-dirs",
    )?;
    let line = String::from_utf8_lossy(&out);
    let line = line.lines().next().unwrap_or("").trim();
    if line.is_empty() {
        return Err(LearnError::Command {
            program: gpgconf.to_string_lossy().into_owned(),
            what: "--list-dirs",
        });
    }
    Ok(PathBuf::from(percent_decode(line)))
}

/// gpgconf escapes `%` and `:` in paths as `%XX`.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One `sec` or `ssb` record of `--with-colons --with-keygrip --list-secret-keys`.
#[derive(Debug, Default, PartialEq, Eq)]
struct Listed {
    primary: bool,
    key_id: String,
    fingerprint: String,
    keygrip: String,
    /// Field 15 is `+`: the secret is in the agent's key files (not `#`, a stub, nor a card's
    /// serial number).
    on_disk: bool,
}

fn parse_listing(text: &str) -> Vec<Listed> {
    let mut out: Vec<Listed> = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split(':').collect();
        let field = |i: usize| fields.get(i).copied().unwrap_or("");
        match field(0) {
            kind @ ("sec" | "ssb") => out.push(Listed {
                primary: kind == "sec",
                key_id: field(4).to_ascii_uppercase(),
                on_disk: field(14) == "+",
                ..Listed::default()
            }),
            "fpr" => {
                if let Some(k) = out.last_mut().filter(|k| k.fingerprint.is_empty()) {
                    k.fingerprint = field(9).to_ascii_uppercase();
                }
            }
            "grp" => {
                if let Some(k) = out.last_mut().filter(|k| k.keygrip.is_empty()) {
                    k.keygrip = field(9).to_ascii_uppercase();
                }
            }
            _ => {}
        }
    }
    out.retain(|k| {
        k.key_id.len() == 16
            && k.keygrip.len() == 40
            && k.keygrip.bytes().all(|b| b.is_ascii_hexdigit())
            && !k.fingerprint.is_empty()
    });
    out
}

/// For every key and subkey in gpg's binary export: its fingerprint and what decrypting with it
/// needs, for the algorithms the fast path handles.
fn public_params(export: &[u8]) -> Result<Vec<(String, KeyAlgo)>, LearnError> {
    let mut out = Vec::new();
    let certs = SignedPublicKey::from_bytes_many(export).map_err(|_| LearnError::Export)?;
    for cert in certs {
        let cert = cert.map_err(|_| LearnError::Export)?;
        let mut push = |key: &dyn KeyDetails| {
            if let Some(algo) = algo_of(key.public_params()) {
                out.push((format!("{:X}", key.fingerprint()), algo));
            }
        };
        push(&cert.primary_key);
        for sub in &cert.public_subkeys {
            push(&sub.key);
        }
    }
    Ok(out)
}

fn algo_of(params: &PublicParams) -> Option<KeyAlgo> {
    match params {
        PublicParams::RSA(_) => Some(KeyAlgo::Rsa),
        PublicParams::ECDH(p) => {
            let (hash, sym) = match p {
                EcdhPublicParams::Curve25519Legacy { hash, alg_sym, .. }
                | EcdhPublicParams::P256 { hash, alg_sym, .. }
                | EcdhPublicParams::P384 { hash, alg_sym, .. }
                | EcdhPublicParams::P521 { hash, alg_sym, .. } => (*hash, *alg_sym),
                // Brainpool and unknown curves: rPGP has no arithmetic for them; gpg decrypts.
                _ => return None,
            };
            Some(KeyAlgo::Ecdh {
                curve_oid: hex_lower(&p.curve().oid()),
                hash: hash.into(),
                sym: sym.into(),
            })
        }
        _ => None,
    }
}

pub(crate) fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of a hex string (the cache's curve OIDs).
pub(crate) fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listing_gives_key_ids_fingerprints_and_keygrips() {
        let text = "\
sec:u:255:22:90A77DE84DB0ED50:1796109089:::u:::scESC:::+::ed25519:::0:
fpr:::::::::9E1AD6A49273AC7FBFE5926590A77DE84DB0ED50:
grp:::::::::F175504B230200DDBBF91C43833BBDD9476C7A3F:
uid:u::::1796109089::2888DB70D753549E1BCCE16E5B350D2BE3E04428::C <c@x.invalid>::::::::::0:
ssb:u:255:18:828BC6320D3F242F:1796109090::::::e:::+::cv25519::
fpr:::::::::100C013932385FCE37A4D6AA828BC6320D3F242F:
grp:::::::::4B6006B86902D33EBCD2F2FE71B82C69B45187A1:
ssb:u:2048:1:1111111111111111:1796109090::::::e:::D2760001240102010006041234560000::::
fpr:::::::::AAAA013932385FCE37A4D6AA1111111111111111:
grp:::::::::BBBB06B86902D33EBCD2F2FE71B82C69B45187A1:
ssb:u:2048:1:2222222222222222:1796109090::::::e:::#::::
fpr:::::::::CCCC013932385FCE37A4D6AA2222222222222222:
grp:::::::::DDDD06B86902D33EBCD2F2FE71B82C69B45187A1:
";
        let listed = parse_listing(text);
        assert_eq!(listed.len(), 4);
        assert!(listed[0].primary && listed[0].on_disk);
        assert_eq!(listed[1].key_id, "828BC6320D3F242F");
        assert_eq!(
            listed[1].fingerprint,
            "100C013932385FCE37A4D6AA828BC6320D3F242F"
        );
        assert_eq!(
            listed[1].keygrip,
            "4B6006B86902D33EBCD2F2FE71B82C69B45187A1"
        );
        assert!(!listed[1].primary && listed[1].on_disk);
        assert!(!listed[2].on_disk, "a card's key is not on disk");
        assert!(!listed[3].on_disk, "a stub is not on disk");
    }

    #[test]
    fn gpgconf_paths_are_unescaped() {
        assert_eq!(
            percent_decode("/run/user/1000/gnupg/d.x%3ay/S.gpg-agent"),
            "/run/user/1000/gnupg/d.x:y/S.gpg-agent"
        );
        assert_eq!(percent_decode("/a%2/b%"), "/a%2/b%");
    }

    #[test]
    fn hex_round_trips() {
        assert_eq!(
            unhex(&hex_lower(&[0, 0xab, 0xff])),
            Some(vec![0, 0xab, 0xff])
        );
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
        assert_eq!(hex_upper(&[0xab, 1]), "AB01");
    }
}

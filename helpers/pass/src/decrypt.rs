//! A `get`'s decryption: through gpg-agent without any gpg process when it can (issue #15), else
//! by running gpg exactly as before ([`gpg::decrypt`]), with its messages.
//!
//! The fast path needs the keygrip cache ([`keys`]); a cold cache is filled after the next
//! decryption gpg completes, so the first `get` after a keyring change costs two or three more
//! processes, and a failing one (a locked key, no key) runs exactly the one gpg it always ran.
//!
//! | what the fast path meets | what happens |
//! |---|---|
//! | no cache, or the keyring changed | gpg; then learn the keys if it succeeded |
//! | no agent socket, agent stopped or not answering within 2 s | gpg (it starts the agent) |
//! | a recipient key the agent holds unlocked | decrypted in-process, no process at all |
//! | the agent has the key but no cached passphrase | no terminal or display: today's "locked" error at once (unless another recipient is one only gpg can try); otherwise gpg, whose pinentry asks |
//! | no recipient key on disk (a card, a stub, another keyring), an algorithm, packet or compression rPGP does not handle, a damaged or cut entry | gpg, and its message |

use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use credhelper::Secret;

use crate::gpg::{self, GpgError};
use crate::keys;
use crate::openpgp::{self, FastError};

/// Environment: `off` makes every `get` run gpg, as before the fast path.
pub const FAST_PATH_ENV: &str = "DOCKER_CREDENTIAL_PASS_FAST_PATH";

/// The whole exchange with gpg-agent: a private-key operation takes milliseconds (RSA 4096 about
/// 10 ms here), so this only ever ends a hung or stopped agent, before gpg's own bound.
const AGENT_LIMIT: Duration = Duration::from_secs(2);

/// Entries are a few hundred bytes; a larger file goes to gpg.
const MAX_ENTRY_BYTES: u64 = 1 << 20;

/// Decrypts one `.gpg` file of the store for `get`.
pub fn decrypt(path: &Path) -> Result<Secret, GpgError> {
    if std::env::var(FAST_PATH_ENV).is_ok_and(|v| v == "off") {
        return gpg::decrypt(path);
    }
    let Some(home) = keys::gnupg_home() else {
        return gpg::decrypt(path);
    };
    let Some(cache) = keys::load(&home) else {
        tracing::debug!("no current keygrip cache: decrypting with gpg, then learning the keys");
        let start = Instant::now();
        let result = gpg::decrypt(path);
        // Gets started together all find no cache; the first to learn serves the rest.
        if result.is_ok() && keys::load(&home).is_none() {
            learn(&home, start);
        }
        return result;
    };
    let Some(entry) = read_entry(path) else {
        return gpg::decrypt(path);
    };
    match openpgp::decrypt(&entry, &cache, AGENT_LIMIT) {
        Ok(mut plain) => {
            tracing::debug!("decrypted through gpg-agent, no gpg process");
            // Moved out of its wrapper without a copy, into the Secret that zeroes it.
            String::from_utf8(std::mem::take(&mut *plain))
                .map(Secret::new)
                .map_err(|e| {
                    // The bytes are the secret: zero them before they are dropped.
                    let mut bytes = e.into_bytes();
                    zeroize::Zeroize::zeroize(&mut bytes);
                    GpgError::NotUtf8 {
                        file: path.to_path_buf(),
                    }
                })
        }
        Err(FastError::Locked) if !gpg::may_prompt() => {
            tracing::debug!("gpg-agent holds the key locked and no prompt is possible");
            Err(GpgError::Locked {
                file: path.to_path_buf(),
            })
        }
        Err(e) => {
            tracing::debug!(reason = %e, "decrypting with gpg");
            let stale_socket = matches!(&e, FastError::Agent(crate::agent::AgentError::Connect(_)));
            let start = Instant::now();
            let result = gpg::decrypt(path);
            // gpg starts an agent that was not running, on the socket we know; if it is still
            // not there, gpgconf names another place now (a /run/user dir came or went).
            if result.is_ok() && stale_socket && !cache.socket.exists() {
                learn(&home, start);
            }
            result
        }
    }
}

/// Learns the keys with what is left of the bound of a gpg run that began at `start`.
fn learn(home: &Path, start: Instant) {
    let left = gpg::time_limit(gpg::may_prompt()).saturating_sub(start.elapsed());
    match keys::learn(home, &gpg::program(), left) {
        Ok(cache) => tracing::debug!(keys = cache.keys.len(), "learnt the keygrips"),
        Err(e) => tracing::debug!(error = %e, "could not learn the keygrips"),
    }
}

fn read_entry(path: &Path) -> Option<Vec<u8>> {
    let file = std::fs::File::open(path).ok()?;
    let size = file.metadata().ok()?.len();
    if size > MAX_ENTRY_BYTES {
        return None;
    }
    // One read of the whole file (its size is known), not a doubling buffer.
    let mut entry = Vec::with_capacity(usize::try_from(size).ok()? + 1);
    file.take(MAX_ENTRY_BYTES + 1)
        .read_to_end(&mut entry)
        .ok()?;
    (entry.len() as u64 <= MAX_ENTRY_BYTES).then_some(entry)
}

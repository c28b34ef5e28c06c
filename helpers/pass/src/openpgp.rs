//! Decrypting an entry without gpg: rPGP reads the packets, gpg-agent decrypts the session key
//! (it alone holds the secret key), rPGP derives the ECDH key-encryption key, unwraps the session
//! key and decrypts the data, checking its integrity (MDC) before releasing any of it.
//!
//! Anything this does not handle is a [`FastError`], and the caller asks gpg instead.

use std::io::Read;
use std::time::Duration;

use pgp::composed::{Esk, Message, PlainSessionKey, RawSessionKey};
use pgp::crypto::ecc_curve::ecc_curve_from_oid;
use pgp::crypto::hash::HashAlgorithm;
use pgp::crypto::sym::SymmetricKeyAlgorithm;
use pgp::packet::{DataMode, PublicKeyEncryptedSessionKey};
use pgp::types::PkeskBytes;
use zeroize::Zeroizing;

use crate::agent::{self, Agent, AgentError, Sexp};
use crate::keys::{CachedKey, KeyAlgo, KeyCache, unhex};

/// Why the fast path did not decrypt. Never holds anything secret; the crate's own error texts
/// are not kept (one can quote checksum bytes of a session key).
#[derive(Debug, thiserror::Error)]
pub enum FastError {
    /// The entry is something this path does not handle, or rPGP rejected it.
    #[error("not handled without gpg: {0}")]
    Unhandled(&'static str),
    /// None of the entry's recipients is a key the cache knows.
    #[error("no recipient is a known key on disk")]
    NoKnownKey,
    /// Talking to gpg-agent failed.
    #[error(transparent)]
    Agent(#[from] AgentError),
    /// gpg-agent holds a recipient's key but has no passphrase cached for it, and the others
    /// did not decrypt either.
    #[error("the key is locked")]
    Locked,
}

/// The entry's plaintext (the literal data), decrypted through gpg-agent at `cache.socket`; the
/// whole exchange with the agent takes at most `limit`.
pub fn decrypt(
    entry: &[u8],
    cache: &KeyCache,
    limit: Duration,
) -> Result<Zeroizing<Vec<u8>>, FastError> {
    let message =
        Message::from_bytes(entry).map_err(|_| FastError::Unhandled("not an OpenPGP message"))?;
    let Message::Encrypted { esk, .. } = &message else {
        return Err(FastError::Unhandled("not an encrypted message"));
    };
    // The recipients we hold keys for, in the order gpg tries them.
    let pkesks: Vec<&PublicKeyEncryptedSessionKey> = esk
        .iter()
        .filter_map(|e| match e {
            Esk::PublicKeyEncryptedSessionKey(p) => Some(p),
            Esk::SymKeyEncryptedSessionKey(_) => None,
        })
        .collect();
    let ours: Vec<(&PublicKeyEncryptedSessionKey, &CachedKey)> = pkesks
        .iter()
        .filter_map(|p| Some((*p, cache.key(p.id().ok()?.as_ref())?)))
        .collect();
    if ours.is_empty() {
        return Err(FastError::NoKnownKey);
    }
    // A recipient this path cannot ask for (a card, a stub, a wildcard id) might still decrypt
    // through gpg, e.g. a card whose PIN is cached: then a locked key here is not the answer.
    let all_ours = ours.len() == pkesks.len();
    // The one option that changes what the agent does for us: never start a pinentry. (gpg also
    // sends its tty, display and locale, which only a pinentry would use.)
    let mut agent = Agent::connect(&cache.socket, limit, &["pinentry-mode=error"])?;
    let mut locked = false;
    let mut session_key = None;
    for (pkesk, key) in ours {
        match decrypt_session_key(&mut agent, pkesk, key) {
            Ok(sk) => {
                session_key = Some(sk);
                break;
            }
            Err(FastError::Agent(e)) if e.code() == Some(agent::code::NO_PIN_ENTRY) => {
                locked = true;
            }
            // This key is not there after all, or its answer did not unwrap: as gpg does, try
            // the next recipient.
            Err(FastError::Agent(AgentError::Refused { .. }) | FastError::Unhandled(_)) => {}
            // The connection itself failed: nothing more to ask it.
            Err(e) => return Err(e),
        }
    }
    let Some(session_key) = session_key else {
        return Err(if locked && all_ours {
            FastError::Locked
        } else {
            FastError::Unhandled("no recipient's key decrypted")
        });
    };
    read_literal(message, session_key, entry.len())
}

/// The session key of one recipient: the agent decrypts the PKESK's public-key part.
fn decrypt_session_key(
    agent: &mut Agent,
    pkesk: &PublicKeyEncryptedSessionKey,
    key: &CachedKey,
) -> Result<PlainSessionKey, FastError> {
    let values = pkesk
        .values()
        .map_err(|_| FastError::Unhandled("unreadable PKESK"))?;
    let ciphertext = ciphertext(values, key)?;
    // What a pinentry would show, as gpg sets it; with pinentry-mode=error none ever does.
    let desc = format!(
        "docker-credential-pass needs the key {} to read a registry credential",
        key.key_id
    );
    let reply = agent.pkdecrypt(&key.keygrip, Some(&desc), &ciphertext)?;
    let value = agent::value_of(&reply)?;
    let frame = match (values, &key.algo) {
        // `(flags pkcs1)`: libgcrypt in the agent removed the PKCS#1 v1.5 padding, so the
        // answer is the OpenPGP session-key frame (algorithm, key, checksum).
        (PkeskBytes::Rsa { .. }, KeyAlgo::Rsa) => Zeroizing::new(value.to_vec()),
        // The agent answers the shared point; the KDF and the AES key unwrap are rPGP's.
        (
            PkeskBytes::Ecdh {
                encrypted_session_key,
                ..
            },
            KeyAlgo::Ecdh {
                curve_oid,
                hash,
                sym,
            },
        ) => {
            let curve = curve_of(curve_oid)?;
            let x = shared_x(value, usize::from(curve.nbits()).div_ceil(8))
                .ok_or(FastError::Unhandled("shared point of the wrong size"))?;
            let fingerprint =
                unhex(&key.fingerprint).ok_or(FastError::Unhandled("bad cached fingerprint"))?;
            pgp::crypto::ecdh::derive_session_key(
                x,
                encrypted_session_key,
                encrypted_session_key.len(),
                curve,
                HashAlgorithm::from(*hash),
                SymmetricKeyAlgorithm::from(*sym),
                &fingerprint,
            )
            .map_err(|_| FastError::Unhandled("ECDH key unwrap failed"))?
        }
        _ => return Err(FastError::Unhandled("public-key algorithm")),
    };
    session_key_of(&frame)
}

fn curve_of(oid_hex: &str) -> Result<pgp::crypto::ecc_curve::ECCCurve, FastError> {
    unhex(oid_hex)
        .and_then(|oid| ecc_curve_from_oid(&oid))
        .ok_or(FastError::Unhandled("unknown curve"))
}

/// What the agent is asked to decrypt for one PKESK: the canonical S-expression gpg builds
/// (g10/pubkey-enc.c).
fn ciphertext(values: &PkeskBytes, key: &CachedKey) -> Result<Zeroizing<Vec<u8>>, FastError> {
    Ok(match (values, &key.algo) {
        (PkeskBytes::Rsa { mpi }, KeyAlgo::Rsa) => {
            let a = std_mpi(mpi.as_ref());
            Sexp::List(vec![
                Sexp::Atom(b"enc-val"),
                Sexp::List(vec![Sexp::Atom(b"flags"), Sexp::Atom(b"pkcs1")]),
                Sexp::List(vec![
                    Sexp::Atom(b"rsa"),
                    Sexp::List(vec![Sexp::Atom(b"a"), Sexp::Atom(&a)]),
                ]),
            ])
            .canonical()
        }
        // The agent uses only `e`, the ephemeral point.
        (
            PkeskBytes::Ecdh {
                public_point,
                encrypted_session_key,
            },
            KeyAlgo::Ecdh { .. },
        ) => Sexp::List(vec![
            Sexp::Atom(b"enc-val"),
            Sexp::List(vec![
                Sexp::Atom(b"ecdh"),
                Sexp::List(vec![Sexp::Atom(b"s"), Sexp::Atom(encrypted_session_key)]),
                Sexp::List(vec![
                    Sexp::Atom(b"e"),
                    Sexp::Atom(&std_mpi(public_point.as_ref())),
                ]),
            ]),
        ])
        .canonical(),
        _ => return Err(FastError::Unhandled("public-key algorithm")),
    })
}

/// One `PKDECRYPT` a `get` sends: the keygrip, and the ciphertext S-expression.
pub type AgentRequest = (String, Zeroizing<Vec<u8>>);

/// For measuring the floor (the benchmark): the requests a `get` of `entry` would send the
/// agent, in order.
pub fn agent_requests(entry: &[u8], cache: &KeyCache) -> Result<Vec<AgentRequest>, FastError> {
    let message =
        Message::from_bytes(entry).map_err(|_| FastError::Unhandled("not an OpenPGP message"))?;
    let Message::Encrypted { esk, .. } = &message else {
        return Err(FastError::Unhandled("not an encrypted message"));
    };
    let mut out = Vec::new();
    for esk in esk {
        if let Esk::PublicKeyEncryptedSessionKey(p) = esk
            && let Some(key) = p.id().ok().and_then(|id| cache.key(id.as_ref()))
        {
            let values = p
                .values()
                .map_err(|_| FastError::Unhandled("unreadable PKESK"))?;
            out.push((key.keygrip.clone(), ciphertext(values, key)?));
        }
    }
    Ok(out)
}

/// An MPI's bytes as libgcrypt's `%m` writes them: a leading zero when the top bit is set, so
/// the number does not read as negative.
fn std_mpi(bytes: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(bytes.len() + 1));
    if bytes.first().is_some_and(|b| b & 0x80 != 0) {
        out.push(0);
    }
    out.extend_from_slice(bytes);
    out
}

/// The x coordinate of the shared point the agent returns, `field` bytes long: the point is
/// `04 || X || Y`, `40 || X` or `41 || X` (an odd length: drop the prefix), or `X` itself, as
/// gpg reads it (g10/ecdh.c).
fn shared_x(point: &[u8], field: usize) -> Option<&[u8]> {
    let start = point.len() % 2;
    point.get(start..start + field)
}

/// The session key in an OpenPGP session-key frame: algorithm id, key, two-byte checksum.
fn session_key_of(frame: &[u8]) -> Result<PlainSessionKey, FastError> {
    let bad = FastError::Unhandled("malformed session key");
    let (&algo, rest) = frame.split_first().ok_or(bad)?;
    let sym_alg = SymmetricKeyAlgorithm::from(algo);
    let len = sym_alg.key_size();
    if len == 0 || rest.len() != len + 2 {
        return Err(FastError::Unhandled("malformed session key"));
    }
    let (key, sum) = rest.split_at(len);
    pgp::crypto::checksum::simple([sum[0], sum[1]], key)
        .map_err(|_| FastError::Unhandled("session key checksum"))?;
    Ok(PlainSessionKey::V3_4 {
        sym_alg,
        key: RawSessionKey::from(key),
    })
}

/// Decrypts the data with the session key and reads the literal data, as gpg prints it.
fn read_literal(
    message: Message<'_>,
    session_key: PlainSessionKey,
    size_hint: usize,
) -> Result<Zeroizing<Vec<u8>>, FastError> {
    let mut inner = message
        .decrypt_with_session_key(session_key)
        .map_err(|_| FastError::Unhandled("the data did not decrypt"))?;
    if inner.is_compressed() {
        inner = inner
            .decompress()
            .map_err(|_| FastError::Unhandled("compression"))?;
    }
    // Only a plain binary literal is read here: gpg rewrites line ends of text-mode data, and a
    // signed message has more to say; both go to gpg.
    let binary = matches!(
        inner.literal_data_header().map(|h| h.mode()),
        Some(DataMode::Binary)
    );
    if !inner.is_literal() || !binary {
        return Err(FastError::Unhandled("not a plain binary literal"));
    }
    // Reserved up front so the plaintext is never copied into memory that is freed unzeroed.
    let mut plain = Zeroizing::new(Vec::with_capacity(size_hint.max(64)));
    inner
        .read_to_end(&mut plain)
        .map_err(|_| FastError::Unhandled("the data did not decrypt"))?;
    // The integrity check (MDC) was verified before any byte was released (rPGP's default
    // `Seipdv1ReadMode::CheckFirst`); a SED packet without one is refused by rPGP.
    Ok(plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_points_give_their_x() {
        let mut p256 = vec![4u8];
        p256.extend([1u8; 32]);
        p256.extend([2u8; 32]);
        assert_eq!(shared_x(&p256, 32), Some(&[1u8; 32][..]));
        let mut x25519 = vec![0x40u8];
        x25519.extend([3u8; 32]);
        assert_eq!(shared_x(&x25519, 32), Some(&[3u8; 32][..]));
        assert_eq!(shared_x(&[5u8; 32], 32), Some(&[5u8; 32][..]));
        assert_eq!(shared_x(&[4u8; 31], 32), None);
    }

    #[test]
    fn session_key_frames_are_checked() {
        let key = [7u8; 32];
        let sum: u16 = key.iter().map(|&b| u16::from(b)).sum();
        let mut frame = vec![9u8];
        frame.extend(key);
        frame.extend(sum.to_be_bytes());
        let Ok(PlainSessionKey::V3_4 {
            sym_alg,
            key: ref got,
        }) = session_key_of(&frame)
        else {
            panic!("a good AES-256 frame");
        };
        assert_eq!(sym_alg, SymmetricKeyAlgorithm::AES256);
        assert_eq!(got.as_ref(), &key);
        let mut bad_sum = frame.clone();
        *bad_sum.last_mut().expect("non-empty") ^= 1;
        assert!(session_key_of(&bad_sum).is_err());
        assert!(session_key_of(&frame[..frame.len() - 1]).is_err());
        assert!(session_key_of(&[0, 1, 2]).is_err(), "plaintext algorithm");
        assert!(session_key_of(&[]).is_err());
    }

    #[test]
    fn mpis_are_written_as_gcrypt_reads_them() {
        assert_eq!(std_mpi(&[0x80, 1]).as_slice(), &[0, 0x80, 1]);
        assert_eq!(std_mpi(&[0x7f]).as_slice(), &[0x7f]);
    }

    #[test]
    fn garbage_is_not_handled() {
        let cache = KeyCache {
            socket: "/nonexistent/S.gpg-agent".into(),
            keys: Vec::new(),
        };
        for entry in [&b""[..], b"garbage", &[0x85, 0x01]] {
            assert!(matches!(
                decrypt(entry, &cache, Duration::from_millis(100)),
                Err(FastError::Unhandled(_))
            ));
        }
    }
}

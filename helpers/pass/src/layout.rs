//! Where entries live: the Go helper's layout, so either helper reads what the other wrote.
//!
//! `$PASSWORD_STORE_DIR/docker-credential-helpers/<base64url(ServerURL), padded>/<Username>.gpg`

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE;

/// Why a name cannot be placed in the store, or the store cannot be found.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    /// Neither `PASSWORD_STORE_DIR` nor a home directory.
    #[error("cannot find the pass store: set PASSWORD_STORE_DIR or HOME")]
    NoStore,
    /// The server URL's directory name would be longer than a file name may be.
    #[error(
        "server URL is too long for the pass store: {len} bytes, at most {max} fit in a file name"
    )]
    ServerTooLong {
        /// Its length in bytes.
        len: usize,
        /// The most that fits.
        max: usize,
    },
    /// The username's file name would be longer than a file name may be.
    #[error("username is too long for the pass store: at most {max} bytes fit in a file name")]
    UserTooLong {
        /// The most that fits.
        max: usize,
    },
    /// A `.gpg-id` with no key in it.
    #[error("{} names no gpg key", file.display())]
    EmptyGpgId {
        /// The file.
        file: PathBuf,
    },
    /// A `.gpg-id` that cannot be read.
    #[error("cannot read {}: {source}", file.display())]
    UnreadableGpgId {
        /// The file.
        file: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The folder of the pass store the Go helper and we keep docker credentials in.
pub const NAMESPACE: &str = "docker-credential-helpers";

/// The longest file name most file systems accept.
const NAME_MAX: usize = 255;

/// The pass store's root: `$PASSWORD_STORE_DIR`, else `~/.password-store`, as pass does.
pub fn store_root() -> Result<PathBuf, LayoutError> {
    if let Some(dir) = std::env::var_os("PASSWORD_STORE_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    dirs::home_dir()
        .map(|h| h.join(".password-store"))
        .ok_or(LayoutError::NoStore)
}

/// The directory name for a server URL: base64url with padding, exactly as the Go helper.
pub fn encode_server(url: &str) -> Result<String, LayoutError> {
    let name = URL_SAFE.encode(url);
    if name.len() > NAME_MAX {
        return Err(LayoutError::ServerTooLong {
            len: url.len(),
            max: NAME_MAX / 4 * 3,
        });
    }
    Ok(name)
}

/// The server URL a directory name stands for, if it is one of ours.
pub fn decode_server(name: &str) -> Option<String> {
    let bytes = URL_SAFE.decode(name).ok()?;
    String::from_utf8(bytes).ok()
}

/// The file name (without `.gpg`) for a username. Plain names are kept as they are, so names the
/// Go helper wrote stay readable; `%`, `/`, a leading `.` and control characters are
/// percent-encoded, so every username round-trips and none can leave its directory.
pub fn encode_user(user: &str) -> Result<String, LayoutError> {
    let mut out = String::with_capacity(user.len());
    for (i, c) in user.char_indices() {
        match c {
            '%' | '/' | '\\' => push_escape(&mut out, c),
            '.' if i == 0 => push_escape(&mut out, c),
            c if c.is_control() => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
            c => out.push(c),
        }
    }
    if out.len() + ".gpg".len() > NAME_MAX {
        return Err(LayoutError::UserTooLong {
            max: NAME_MAX - ".gpg".len(),
        });
    }
    Ok(out)
}

fn push_escape(out: &mut String, c: char) {
    out.push_str(&format!("%{:02X}", c as u32));
}

/// The username a file name (without `.gpg`) stands for. A `%` not followed by two hex digits is
/// kept as it is (a name the Go helper wrote); bytes that would not make UTF-8 also stay encoded.
pub fn decode_user(name: &str) -> String {
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| name.to_string())
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// The recipients for an entry in `dir`: `$PASSWORD_STORE_KEY` if set, else the nearest
/// `.gpg-id` from `dir` up to `root`, one id per line, `#` comments ignored, as pass reads it.
/// `None` when the store was never initialised.
pub fn recipients(root: &Path, dir: &Path) -> Result<Option<Vec<String>>, LayoutError> {
    if let Ok(keys) = std::env::var("PASSWORD_STORE_KEY") {
        let keys: Vec<String> = keys.split_whitespace().map(str::to_string).collect();
        if !keys.is_empty() {
            return Ok(Some(keys));
        }
    }
    let mut current = Some(dir);
    while let Some(d) = current {
        let file = d.join(".gpg-id");
        match std::fs::read_to_string(&file) {
            Ok(text) => {
                let ids: Vec<String> = text
                    .lines()
                    .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
                    .filter(|l| !l.is_empty())
                    .collect();
                if ids.is_empty() {
                    return Err(LayoutError::EmptyGpgId { file });
                }
                return Ok(Some(ids));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(LayoutError::UnreadableGpgId { file, source }),
        }
        if d == root {
            break;
        }
        current = d.parent();
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_names_match_go() {
        assert_eq!(
            encode_server("127.0.0.1:5000").as_deref().ok(),
            Some("MTI3LjAuMC4xOjUwMDA=")
        );
        assert_eq!(
            encode_server("https://index.docker.io/v1/").as_deref().ok(),
            Some("aHR0cHM6Ly9pbmRleC5kb2NrZXIuaW8vdjEv")
        );
        assert_eq!(
            decode_server("MTI3LjAuMC4xOjUwMDA=").as_deref(),
            Some("127.0.0.1:5000")
        );
        assert_eq!(decode_server("not base64!"), None);
        assert!(encode_server(&"a".repeat(189)).is_ok());
        assert!(
            encode_server(&"a".repeat(190))
                .unwrap_err()
                .to_string()
                .contains("too long")
        );
    }

    #[test]
    fn usernames_round_trip_and_stay_in_their_dir() {
        for user in [
            "testuser",
            "<token>",
            "a/b",
            "../../etc",
            ".hidden",
            "100%",
            "%2F",
            "x\ny",
            "é/ü",
            "a\\b",
            "..",
            ".",
        ] {
            let enc = encode_user(user).expect("encodable");
            assert!(
                !enc.contains('/') && !enc.starts_with('.') && !enc.contains('\n'),
                "{user:?} -> {enc:?}"
            );
            assert_eq!(decode_user(&enc), user, "{enc:?}");
        }
        assert_eq!(encode_user("testuser").as_deref().ok(), Some("testuser"));
        assert_eq!(decode_user("odd%zz"), "odd%zz");
        assert_eq!(decode_user("trail%4"), "trail%4");
        assert!(encode_user(&"u".repeat(252)).is_err());
    }
}

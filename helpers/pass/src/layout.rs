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

/// The file name (without `.gpg`) for a username: the name itself, exactly as the Go helper
/// (through `pass insert`) stores it, whenever a file can have that name: spaces, unicode, `\`,
/// `<token>`, `%`, leading dots and control characters included. Only what Go cannot store is
/// percent-encoded (`%` → `%25`, `/` → `%2F`, NUL → `%00`, and the dots of `.` and `..`): a
/// name with a `/` or a NUL, `.` and `..` (they would leave the directory), and a name that [`decode_user`] would
/// otherwise read as an encoding (`a%2Fb`), so that every username round-trips. The one name
/// read differently from Go is a file literally named like an encoding (Go's `a%2Fb.gpg` reads
/// back as `a/b`).
pub fn encode_user(user: &str) -> Result<String, LayoutError> {
    let name = if needs_encoding(user) {
        escape(user)
    } else {
        user.to_string()
    };
    if name.len() + ".gpg".len() > NAME_MAX {
        return Err(LayoutError::UserTooLong {
            max: NAME_MAX - ".gpg".len(),
        });
    }
    Ok(name)
}

/// The username a file name (without `.gpg`) stands for: the name itself, unless it is exactly
/// what [`encode_user`] makes of some name that needs encoding.
pub fn decode_user(name: &str) -> String {
    match percent_decode(name) {
        Some(user) if user != name && escape(&user) == name && needs_encoding(&user) => user,
        _ => name.to_string(),
    }
}

fn needs_encoding(user: &str) -> bool {
    user.contains(['/', '\0']) || user == "." || user == ".." || decode_user(user) != user
}

fn escape(user: &str) -> String {
    let dots = user == "." || user == "..";
    let mut out = String::with_capacity(user.len() * 3);
    for c in user.chars() {
        match c {
            '%' => out.push_str("%25"),
            '/' => out.push_str("%2F"),
            '\0' => out.push_str("%00"),
            '.' if dots => out.push_str("%2E"),
            c => out.push(c),
        }
    }
    out
}

/// `name` with every `%XX` decoded, or `None` if a `%` is not followed by two hex digits or the
/// bytes are not UTF-8.
fn percent_decode(name: &str) -> Option<String> {
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let h = hex(*bytes.get(i + 1)?)?;
            let l = hex(*bytes.get(i + 2)?)?;
            out.push(h << 4 | l);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Who an entry is encrypted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipients {
    /// Key ids, fingerprints or user ids.
    pub ids: Vec<String>,
    /// The `.gpg-id` they come from; `None` when `$PASSWORD_STORE_KEY` names them.
    pub gpg_id: Option<PathBuf>,
}

/// The recipients for an entry in `dir`: `$PASSWORD_STORE_KEY` if set, else the nearest
/// `.gpg-id` from `dir` up to `root`, one id per line, `#` comments ignored, as pass reads it.
/// `None` when the store was never initialised.
pub fn recipients(root: &Path, dir: &Path) -> Result<Option<Recipients>, LayoutError> {
    if let Ok(keys) = std::env::var("PASSWORD_STORE_KEY") {
        let keys: Vec<String> = keys.split_whitespace().map(str::to_string).collect();
        if !keys.is_empty() {
            return Ok(Some(Recipients {
                ids: keys,
                gpg_id: None,
            }));
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
                return Ok(Some(Recipients {
                    ids,
                    gpg_id: Some(file),
                }));
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
    fn usernames_go_can_store_are_stored_as_go_stores_them() {
        for user in [
            "testuser",
            "<token>",
            "CORP\\jdoe",
            "first last",
            "név@example.com",
            "100%",
            "%41",
            "p%q%",
            ".hidden",
            "..x",
            "x\ny",
            "%2",
        ] {
            assert_eq!(encode_user(user).as_deref().ok(), Some(user), "{user:?}");
            assert_eq!(decode_user(user), user, "{user:?}");
        }
    }

    #[test]
    fn usernames_round_trip_and_stay_in_their_dir() {
        for (user, file) in [
            ("a/b", "a%2Fb"),
            ("../../etc", "..%2F..%2Fetc"),
            ("..", "%2E%2E"),
            (".", "%2E"),
            ("a%2Fb", "a%252Fb"),
            ("%2E", "%252E"),
            ("50%/x", "50%25%2Fx"),
            ("é/ü", "é%2Fü"),
            ("nul\0x", "nul%00x"),
        ] {
            assert_eq!(encode_user(user).as_deref().ok(), Some(file), "{user:?}");
            assert_eq!(decode_user(file), user, "{file:?}");
            assert!(!file.contains('/') && file != "." && file != "..");
        }
        assert!(encode_user(&"u".repeat(251)).is_ok());
        assert!(encode_user(&"u".repeat(252)).is_err());
        assert!(
            encode_user(&"/".repeat(84)).is_err(),
            "the limit counts the encoded name"
        );
    }
}

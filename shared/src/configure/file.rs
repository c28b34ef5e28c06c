//! The config file itself: read without blocking and with a cap, rendered in docker's format,
//! written atomically with a backup that never follows a link and never keeps a password.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use zeroize::Zeroizing;

use super::error::ConfigureError;
use crate::os::dir::read_user_file;
use crate::os::fs::write_atomic;

/// A docker config.json is a few KiB; this is far more than any real one, and bounds what a
/// file planted in its place can make us read.
const MAX_CONFIG: u64 = 16 << 20;

/// One config file as read.
pub struct ConfigFile {
    /// Where it is.
    pub path: PathBuf,
    /// Its bytes, `None` if it does not exist.
    pub original: Option<Zeroizing<Vec<u8>>>,
    /// Its content rendered as it would be written (the diff's "before").
    pub before: String,
    /// Its content.
    pub map: Map<String, Value>,
}

/// The file `configure` edits by default: `$DOCKER_CONFIG/config.json`, else
/// `~/.docker/config.json`.
pub fn default_path() -> Option<PathBuf> {
    std::env::var_os("DOCKER_CONFIG")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|h| h.join(".docker")))
        .map(|d| d.join("config.json"))
}

/// Reads `path`; a missing or empty file is an empty object.
pub fn read(path: &Path) -> Result<ConfigFile, ConfigureError> {
    let file = |original, before, map| ConfigFile {
        path: path.to_path_buf(),
        original,
        before,
        map,
    };
    let bytes = match read_user_file(path, MAX_CONFIG) {
        Ok(Some(b)) => b,
        Ok(None) => return Ok(file(None, String::new(), Map::new())),
        Err(source) => {
            return Err(ConfigureError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let text = std::str::from_utf8(&bytes).map_err(|_| ConfigureError::NotUtf8 {
        path: path.to_path_buf(),
    })?;
    if text.trim().is_empty() {
        return Ok(file(Some(bytes), String::new(), Map::new()));
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => {
            let before = render(&map);
            Ok(file(Some(bytes), before, map))
        }
        Ok(_) => Err(ConfigureError::NotAnObject {
            path: path.to_path_buf(),
        }),
        Err(source) => Err(ConfigureError::NotJson {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Docker's own formatting: tabs, one key per line.
pub fn render(map: &Map<String, Value>) -> String {
    if map.is_empty() {
        return String::new();
    }
    let mut buf = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, formatter);
    let _ = serde::Serialize::serialize(map, &mut ser);
    let mut s = String::from_utf8(buf).unwrap_or_default();
    s.push('\n');
    s
}

/// Writes `after` over the file, keeping `backup` (its old content) as `FILE.bak` first. Says
/// what it did with the backup.
pub fn write(
    file: &ConfigFile,
    backup: Option<&[u8]>,
    after: &str,
) -> Result<String, ConfigureError> {
    let path = &file.path;
    let said = match backup {
        Some(bytes) => back_up(path, bytes)?,
        None => {
            if let Some(dir) = path.parent() {
                crate::os::fs::create_private_dir_all(dir).map_err(|source| {
                    ConfigureError::CreateDir {
                        dir: dir.to_path_buf(),
                        source,
                    }
                })?;
            }
            String::from("no backup: there was no file")
        }
    };
    write_atomic(path, after.as_bytes()).map_err(|source| ConfigureError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(said)
}

/// Writes `bytes` to `FILE.bak` atomically, 0600, replacing (never following) a link there.
/// Says what it did. A name another user holds in a shared directory (sticky: we cannot replace
/// it) costs the backup, not the change: refusing would let anyone who can write the directory
/// block `configure`.
fn back_up(path: &Path, bytes: &[u8]) -> Result<String, ConfigureError> {
    let backup = path.with_extension("json.bak");
    match write_atomic(&backup, bytes) {
        Ok(()) => Ok(format!("backup: {}", backup.display())),
        Err(source) => match foreign_owner(&backup) {
            Some(owner) => Ok(format!(
                "no backup: {} belongs to uid {owner}, another user",
                backup.display()
            )),
            None => Err(ConfigureError::Backup {
                path: path.to_path_buf(),
                backup,
                source,
            }),
        },
    }
}

/// The owner of `path` (not following a link) when it is not us.
fn foreign_owner(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let owner = std::fs::symlink_metadata(path).ok()?.uid();
        (owner != crate::os::dir::euid()).then_some(owner)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

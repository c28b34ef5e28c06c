//! The `Store` over a pass store: one `.gpg` file per server and username.

use std::collections::BTreeMap;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use credhelper::os::fs::{create_private_dir_all, is_temp_name, write_atomic};
use credhelper::{Credentials, Error, Store};

use crate::layout::{self, NAMESPACE};
use crate::{git, gpg};

/// docker credentials in the user's pass store.
#[derive(Debug, Default)]
pub struct PassStore;

impl PassStore {
    fn server_dir(root: &Path, url: &str) -> Result<PathBuf, Error> {
        Ok(root.join(NAMESPACE).join(layout::encode_server(url)?))
    }
}

/// The entry `get` and `list` report for a server: the most recently stored username (ties go
/// to the name that sorts first). `None` if the directory holds no entry.
fn newest_entry(dir: &Path) -> Result<Option<(String, PathBuf)>, Error> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::backend(format!(
                "cannot read {}: {e}",
                dir.display()
            )));
        }
    };
    let mut best: Option<(SystemTime, String)> = None;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(stem) = name.strip_suffix(".gpg") else {
            continue;
        };
        if stem.is_empty() || is_temp_name(name) {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        let mtime = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        let better = match &best {
            None => true,
            Some((t, n)) => mtime > *t || (mtime == *t && stem < n.as_str()),
        };
        if better {
            best = Some((mtime, stem.to_string()));
        }
    }
    Ok(best.map(|(_, stem)| {
        let path = dir.join(format!("{stem}.gpg"));
        (layout::decode_user(&stem), path)
    }))
}

fn not_initialized(root: &Path) -> Error {
    Error::backend(format!(
        "pass store is not initialized (no .gpg-id in {}): run \"pass init <gpg-id>\"",
        root.display()
    ))
}

impl Store for PassStore {
    fn get(&self, url: &str) -> Result<Credentials, Error> {
        let root = layout::store_root()?;
        let dir = Self::server_dir(&root, url)?;
        let (username, path) = newest_entry(&dir)?.ok_or(Error::NotFound)?;
        let secret = match gpg::decrypt(&path) {
            // Erased between listing and reading: a miss, not a failure.
            Err(_) if !path.exists() => return Err(Error::NotFound),
            other => other?,
        };
        Ok(Credentials {
            server_url: url.to_string(),
            username,
            secret,
        })
    }

    fn store(&self, creds: &Credentials) -> Result<(), Error> {
        let root = layout::store_root()?;
        let dir = Self::server_dir(&root, &creds.server_url)?;
        let file = dir.join(format!("{}.gpg", layout::encode_user(&creds.username)?));
        let recipients = layout::recipients(&root, &dir)?.ok_or_else(|| not_initialized(&root))?;
        let ciphertext = gpg::encrypt(&recipients, &creds.secret)?;
        create_private_dir_all(&dir)
            .map_err(|e| Error::backend(format!("cannot create {}: {e}", dir.display())))?;
        write_atomic(&file, &ciphertext)
            .map_err(|e| Error::backend(format!("cannot write {}: {e}", file.display())))?;
        let rel = file.strip_prefix(&root).unwrap_or(&file).with_extension("");
        git::commit(
            &root,
            &file,
            &format!("Add given password for {} to store.", rel.display()),
        );
        Ok(())
    }

    fn erase(&self, url: &str) -> Result<(), Error> {
        let root = layout::store_root()?;
        let dir = Self::server_dir(&root, url)?;
        // Renamed away first, so readers see the whole entry or none of it; then removed.
        let Some(name) = dir.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            return Err(Error::NotFound);
        };
        let doomed = dir.with_file_name(format!(".{name}.tmp-erase-{}", std::process::id()));
        match fs::rename(&dir, &doomed) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => return Err(Error::NotFound),
            Err(e) => {
                return Err(Error::backend(format!(
                    "cannot remove {}: {e}",
                    dir.display()
                )));
            }
        }
        fs::remove_dir_all(&doomed)
            .map_err(|e| Error::backend(format!("cannot remove {}: {e}", doomed.display())))?;
        let rel = dir.strip_prefix(&root).unwrap_or(&dir);
        git::commit(
            &root,
            &dir,
            &format!("Remove {} from store.", rel.display()),
        );
        Ok(())
    }

    fn list(&self) -> Result<BTreeMap<String, String>, Error> {
        let root = layout::store_root()?;
        let ns = root.join(NAMESPACE);
        let mut out = BTreeMap::new();
        let entries = match fs::read_dir(&ns) {
            Ok(entries) => entries,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(Error::backend(format!("cannot read {}: {e}", ns.display()))),
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            // Dot names are erases in progress; others that do not decode are not ours.
            if name.starts_with('.') {
                continue;
            }
            let Some(url) = layout::decode_server(name) else {
                continue;
            };
            if let Some((user, _)) = newest_entry(&entry.path())? {
                out.insert(url, user);
            }
        }
        Ok(out)
    }
}

//! The `Store` over a pass store: one `.gpg` file per server and username.

use std::collections::BTreeMap;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use credhelper::os::fs::{create_private_dir_all, is_temp_name, write_atomic};
use credhelper::{Credentials, Error, Store};

use crate::git;
use crate::gpg::{self, GpgError};
use crate::layout::{self, LayoutError, NAMESPACE};

/// Why the store could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No `.gpg-id` anywhere: `pass init` was never run.
    #[error(
        "pass store is not initialized (no .gpg-id in {}): run \"pass init <gpg-id>\"",
        root.display()
    )]
    NotInitialized {
        /// The store's root.
        root: PathBuf,
    },
    /// A file-system operation failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// `read`, `create`, `write`, `remove`.
        action: &'static str,
        /// What it was done to.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// Naming or finding the entry.
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// gpg.
    #[error(transparent)]
    Gpg(#[from] GpgError),
}

/// The `Store` boundary: names too long for the file system are the caller's to fix; every
/// other failure is the backend's.
impl From<StoreError> for Error {
    fn from(e: StoreError) -> Error {
        match e {
            StoreError::Layout(
                LayoutError::ServerTooLong { .. } | LayoutError::UserTooLong { .. },
            ) => Error::bad_input(e),
            e => Error::backend(e),
        }
    }
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StoreError {
    let path = path.to_path_buf();
    move |source| StoreError::Io {
        action,
        path,
        source,
    }
}

/// docker credentials in the user's pass store.
#[derive(Debug, Default)]
pub struct PassStore;

impl PassStore {
    fn server_dir(root: &Path, url: &str) -> Result<PathBuf, LayoutError> {
        Ok(root.join(NAMESPACE).join(layout::encode_server(url)?))
    }
}

/// The entry `get` and `list` report for a server: the most recently stored username (ties go
/// to the name that sorts first). `None` if the directory holds no entry.
fn newest_entry(dir: &Path) -> Result<Option<(String, PathBuf)>, StoreError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io("read", dir)(e)),
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

impl Store for PassStore {
    fn get(&self, url: &str) -> Result<Credentials, Error> {
        let root = layout::store_root().map_err(StoreError::from)?;
        let dir = Self::server_dir(&root, url).map_err(StoreError::from)?;
        let (username, path) = newest_entry(&dir)?.ok_or(Error::NotFound)?;
        let secret = match gpg::decrypt(&path) {
            // Erased between listing and reading: a miss, not a failure.
            Err(_) if !path.exists() => return Err(Error::NotFound),
            other => other.map_err(StoreError::from)?,
        };
        Ok(Credentials {
            server_url: url.to_string(),
            username,
            secret,
        })
    }

    fn store(&self, creds: &Credentials) -> Result<(), Error> {
        Ok(store(creds)?)
    }

    fn erase(&self, url: &str) -> Result<(), Error> {
        erase(url)
    }

    fn list(&self) -> Result<BTreeMap<String, String>, Error> {
        Ok(list()?)
    }
}

fn store(creds: &Credentials) -> Result<(), StoreError> {
    let root = layout::store_root()?;
    let dir = PassStore::server_dir(&root, &creds.server_url)?;
    let file = dir.join(format!("{}.gpg", layout::encode_user(&creds.username)?));
    let recipients = layout::recipients(&root, &dir)?
        .ok_or_else(|| StoreError::NotInitialized { root: root.clone() })?;
    let ciphertext = gpg::encrypt(&recipients, &creds.secret)?;
    create_private_dir_all(&dir).map_err(io("create", &dir))?;
    write_atomic(&file, &ciphertext).map_err(io("write", &file))?;
    let rel = file.strip_prefix(&root).unwrap_or(&file).with_extension("");
    git::commit(
        &root,
        &file,
        &format!("Add given password for {} to store.", rel.display()),
    );
    Ok(())
}

fn erase(url: &str) -> Result<(), Error> {
    let root = layout::store_root().map_err(StoreError::from)?;
    let dir = PassStore::server_dir(&root, url).map_err(StoreError::from)?;
    // Renamed away first, so readers see the whole entry or none of it; then removed.
    let Some(name) = dir.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Err(Error::NotFound);
    };
    let doomed = dir.with_file_name(format!(".{name}.tmp-erase-{}", std::process::id()));
    match fs::rename(&dir, &doomed) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => return Err(Error::NotFound),
        Err(e) => return Err(io("remove", &dir)(e).into()),
    }
    fs::remove_dir_all(&doomed).map_err(io("remove", &doomed))?;
    let rel = dir.strip_prefix(&root).unwrap_or(&dir);
    git::commit(
        &root,
        &dir,
        &format!("Remove {} from store.", rel.display()),
    );
    Ok(())
}

fn list() -> Result<BTreeMap<String, String>, StoreError> {
    let root = layout::store_root()?;
    let ns = root.join(NAMESPACE);
    let mut out = BTreeMap::new();
    let entries = match fs::read_dir(&ns) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(io("read", &ns)(e)),
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

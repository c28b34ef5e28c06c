//! The `Store` over a pass store: one `.gpg` file per server and username.

use std::collections::BTreeMap;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use credhelper::os::fs::{create_private_dir_all, write_atomic};
use credhelper::{Credentials, Error, Secret, Store};

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
    /// `$PASSWORD_STORE_SIGNING_KEY` is set and the `.gpg-id` has no signature (pass's words).
    #[error(
        "Signature for {} does not exist: pass refuses a .gpg-id without one when {SIGNING_KEY_ENV} is set; sign it (pass init again) or unset the variable",
        file.display()
    )]
    GpgIdUnsigned {
        /// The `.gpg-id`.
        file: PathBuf,
    },
    /// The `.gpg-id`'s signature is not a good one by a key `$PASSWORD_STORE_SIGNING_KEY`
    /// names: it was changed, or signed by someone else (pass's words).
    #[error(
        "Signature for {} is invalid: it is not a good signature by a key in {SIGNING_KEY_ENV}; nothing was stored",
        file.display()
    )]
    GpgIdBadSignature {
        /// The `.gpg-id`.
        file: PathBuf,
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
        // Temp files (`.NAME.gpg.tmp-…`) do not end in `.gpg`; a username may well start
        // with a dot, as in Go's layout.
        if stem.is_empty() {
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

/// The secret in an entry's plaintext. `pass insert`, `insert -m`, `edit` and `generate` end the
/// file with a newline, and the Go helper strips every trailing `\n` and `\r` (pass 1.7.1+
/// prints one on `show`); so do we, and keep everything else byte for byte: a multi-line entry
/// (`pass insert -m`) is returned whole, its inner newlines included.
fn entry_secret(plain: Secret) -> Secret {
    let text = plain.expose();
    let kept = text.trim_end_matches(['\n', '\r']);
    if kept.len() == text.len() {
        plain
    } else {
        Secret::new(kept.to_string())
    }
}

impl Store for PassStore {
    fn get(&self, url: &str) -> Result<Credentials, Error> {
        let root = layout::store_root().map_err(StoreError::from)?;
        let dir = Self::server_dir(&root, url).map_err(StoreError::from)?;
        let (username, path) = newest_entry(&dir)?.ok_or(Error::NotFound)?;
        let plain = match crate::decrypt::decrypt(&path) {
            // Erased between listing and reading: a miss, not a failure.
            Err(_) if !path.exists() => return Err(Error::NotFound),
            other => other.map_err(StoreError::from)?,
        };
        Ok(Credentials {
            server_url: url.to_string(),
            username,
            secret: entry_secret(plain),
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
    if let Some(gpg_id) = &recipients.gpg_id {
        verify_gpg_id(gpg_id)?;
    }
    let ciphertext = gpg::encrypt(&recipients.ids, &creds.secret)?;
    let new_dir = !dir.exists();
    create_private_dir_all(&dir).map_err(io("create", &dir))?;
    if let Err(e) = write_atomic(&file, &ciphertext) {
        // An empty server directory would stay behind, and the Go helper's `list` fails on one
        // ("no usernames for …"): a directory this call made goes again (only if empty).
        if new_dir {
            let _ = fs::remove_dir(&dir);
        }
        return Err(io("write", &file)(e));
    }
    let rel = file.strip_prefix(&root).unwrap_or(&file).with_extension("");
    git::commit(
        &root,
        &file,
        &format!("Add given password for {} to store.", rel.display()),
    );
    Ok(())
}

/// Environment: the fingerprints whose signature a `.gpg-id` must carry, as pass reads it.
pub const SIGNING_KEY_ENV: &str = "PASSWORD_STORE_SIGNING_KEY";

/// pass's `verify_file`: with `$PASSWORD_STORE_SIGNING_KEY` set, a `.gpg-id` is used only if
/// `.gpg-id.sig` is a good signature by one of those keys. Otherwise whoever can write the store
/// (a synced folder, a shared git remote) could swap in their own key and receive every new
/// secret. Without the variable, pass checks nothing and neither do we.
fn verify_gpg_id(gpg_id: &Path) -> Result<(), StoreError> {
    let Ok(allowed) = std::env::var(SIGNING_KEY_ENV) else {
        return Ok(());
    };
    if allowed.trim().is_empty() {
        return Ok(());
    }
    let mut sig = gpg_id.as_os_str().to_owned();
    sig.push(".sig");
    let sig = PathBuf::from(sig);
    if !sig.is_file() {
        return Err(StoreError::GpgIdUnsigned {
            file: gpg_id.to_path_buf(),
        });
    }
    let signers = gpg::good_signers(gpg_id, &sig)?;
    // pass accepts only full fingerprints (40 upper-case hex digits) from the variable.
    let good = allowed
        .split_whitespace()
        .filter(|f| {
            f.len() == 40
                && f.bytes()
                    .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
        })
        .any(|f| signers.iter().any(|s| s == f));
    if good {
        Ok(())
    } else {
        Err(StoreError::GpgIdBadSignature {
            file: gpg_id.to_path_buf(),
        })
    }
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

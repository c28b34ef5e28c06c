//! The Secret Service (gnome-keyring, KeePassXC) over D-Bus, with items exactly as
//! docker-credential-secretservice writes and reads them, so either helper reads the other's.
//!
//! Writes (`store`, `erase`) go through the keyring crate's Secret Service store. Reads (`get`,
//! `list`) are plain D-Bus calls (`dbus.rs`), because keyring-core's API cannot read attributes
//! without unlocking every match, nor skip the Diffie-Hellman session that costs more than the
//! rest of a get (see `get`).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use credhelper::os::env::{self, Prompter};
use credhelper::{Credentials, Secret};
use keyring_core::Entry;
use zbus::zvariant::OwnedObjectPath;

use crate::dbus::Reader;

use crate::errors::{KeyringError, Which};

/// The libsecret schema of docker's items; libsecret stores it as the `xdg:schema` attribute.
const SCHEMA: &str = "io.docker.Credentials";

fn map(e: keyring_core::Error) -> KeyringError {
    KeyringError::from_core(e, Which::SecretService)
}

/// Fails at once, naming the fix, when there is no session bus at all: D-Bus clients otherwise
/// report it in ways nobody can act on.
pub fn check_bus() -> Result<(), KeyringError> {
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some_and(|a| !a.is_empty()) {
        return Ok(());
    }
    let socket = std::env::var_os("XDG_RUNTIME_DIR").map(|d| PathBuf::from(d).join("bus"));
    if socket.as_ref().is_some_and(|s| s.exists()) {
        return Ok(());
    }
    Err(KeyringError::NoBus)
}

/// Connects keyring-core's default store to the Secret Service. A process makes one call, so
/// this runs at most once per process.
fn connect() -> Result<(), KeyringError> {
    let store = zbus_secret_service_keyring_store::Store::new().map_err(map)?;
    keyring_core::set_default_store(store);
    Ok(())
}

fn search(attrs: &[(&str, &str)]) -> Result<Vec<Entry>, KeyringError> {
    connect()?;
    let spec: HashMap<&str, &str> = attrs.iter().copied().collect();
    Entry::search(&spec).map_err(map)
}

/// The entries for `url`, with their usernames, alphabetically (the documented choice when a
/// server has several).
fn entries_for(url: &str) -> Result<Vec<(String, Entry)>, KeyringError> {
    let mut found = Vec::new();
    for entry in search(&[("xdg:schema", SCHEMA), ("server", url)])? {
        let attrs = entry.get_attributes().map_err(map)?;
        found.push((attrs.get("username").cloned().unwrap_or_default(), entry));
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(found)
}

/// The secret travels in a plain session: keyring-core always negotiates Diffie-Hellman, which
/// costs ~4.7 ms of pure-Rust big-number arithmetic per get, more than everything else the get
/// does. The session bus is a socket of this user: a process that can watch it can ask the
/// Secret Service for the secret itself, so DH protects nothing here.
pub fn get(url: &str) -> Result<Credentials, KeyringError> {
    let bus = Reader::connect()?;
    let attrs = HashMap::from([("xdg:schema", SCHEMA), ("server", url)]);
    let found = bus.search(&attrs)?;
    if found.unlocked.is_empty() && !found.locked.is_empty() {
        if !env::may_prompt(Prompter::Display) {
            return Err(KeyringError::LockedNoPrompt {
                url: url.to_string(),
            });
        }
        // A desktop can show the unlock prompt: keyring-core's search unlocks what it finds.
        let (username, entry) = entries_for(url)?
            .into_iter()
            .next()
            .ok_or(KeyringError::NotFound)?;
        let secret = entry.get_password().map_err(map)?;
        return Ok(Credentials {
            server_url: url.to_string(),
            username,
            secret: Secret::new(secret),
        });
    }
    // Several usernames: the alphabetically first, the documented choice (list agrees).
    let mut best: Option<(String, &OwnedObjectPath)> = None;
    for item in &found.unlocked {
        let user = bus.attributes(item)?.remove("username").unwrap_or_default();
        if best.as_ref().is_none_or(|(u, _)| &user < u) {
            best = Some((user, item));
        }
    }
    let (username, item) = best.ok_or(KeyringError::NotFound)?;
    let bytes = bus.secret(item)?;
    let secret = std::str::from_utf8(&bytes).map_err(|_| KeyringError::NotUtf8 {
        which: Which::SecretService,
    })?;
    Ok(Credentials {
        server_url: url.to_string(),
        username,
        secret: Secret::new(secret.to_string()),
    })
}

pub fn store(c: &Credentials) -> Result<(), KeyringError> {
    let existing = search(&[
        ("xdg:schema", SCHEMA),
        ("server", &c.server_url),
        ("username", &c.username),
    ])?;
    if !existing.is_empty() {
        // Update in place (an item the Go helper wrote, or ours): never a duplicate.
        for entry in existing {
            entry.set_password(c.secret.expose()).map_err(map)?;
        }
        return Ok(());
    }
    // keyring-core creates the item (its own `service` and `username` attributes, the label as
    // the Go helper sets it); the attributes docker's schema adds follow.
    let modifiers = HashMap::from([("label", c.server_url.as_str())]);
    let entry = Entry::new_with_modifiers(&c.server_url, &c.username, &modifiers).map_err(map)?;
    entry.set_password(c.secret.expose()).map_err(map)?;
    let attrs = HashMap::from([
        ("xdg:schema", SCHEMA),
        ("label", "Docker Credentials"),
        ("server", c.server_url.as_str()),
        ("docker_cli", "1"),
    ]);
    entry.update_attributes(&attrs).map_err(map)
}

pub fn erase(url: &str) -> Result<(), KeyringError> {
    let entries = entries_for(url)?;
    if entries.is_empty() {
        return Err(KeyringError::NotFound);
    }
    for (_, entry) in entries {
        entry.delete_credential().map_err(map)?;
    }
    Ok(())
}

/// Every docker item's `server` and `username` attributes. Attributes are readable on locked
/// items, so this never unlocks anything (keyring-core's search would unlock every match).
pub fn list() -> Result<BTreeMap<String, String>, KeyringError> {
    let bus = Reader::connect()?;
    let found = bus.search(&HashMap::from([
        ("xdg:schema", SCHEMA),
        ("docker_cli", "1"),
    ]))?;
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for item in found.unlocked.iter().chain(found.locked.iter()) {
        let attrs = bus.attributes(item)?;
        let (Some(server), Some(user)) = (attrs.get("server"), attrs.get("username")) else {
            continue;
        };
        // Several usernames for a server: the one `get` returns.
        if out.get(server).is_none_or(|current| user < current) {
            out.insert(server.clone(), user.clone());
        }
    }
    Ok(out)
}

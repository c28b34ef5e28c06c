//! The Secret Service (gnome-keyring, KeePassXC) over D-Bus, with items exactly as
//! docker-credential-secretservice writes and reads them, so either helper reads the other's.
//!
//! A desktop keyring is shared: Python's `keyring`, programs on the Rust `keyring` crates and
//! many more keep their own items in it, some with the very attributes docker's items have
//! (`username`, and `service`, which keyring-core used to add to ours). So every action first
//! finds docker's items ([`is_docker`]) and touches nothing else: `store` updates a docker item
//! or creates a new one, `erase` deletes docker items only, `get` and `list` read docker items
//! only.
//!
//! A keyring may hold several collections (KeePassXC shows each database as one), some of them
//! locked. Every action works on what it can use without an unlock prompt and logs what it
//! skipped; it asks for a prompt only when nothing usable is left and a display can show one.
//! The attributes of a locked item are not always readable: once gnome-keyring has (re)loaded a
//! locked keyring from its file, it shows only `gkr:compat:hashed:<name>` = MD5 of each value
//! (and a generic `xdg:schema`), and matches searches against those hashes. Such an item is
//! taken for docker's when the search for docker's attributes found it and it has the hashed
//! names docker's items have; it is never changed before an unlock has shown its real
//! attributes.
//!
//! Why not keyring-core's Secret Service store, which wrote the items until issue 12: its entry
//! for (service, user) is whatever item carries `service` and `username`, so `store` overwrote
//! the secret of another application's item with those attributes (and failed with Ambiguous on
//! two of them); every search it makes unlocks all locked matches, so one stale item in a locked
//! second collection made `store` fail ("prompt dismissed") and `erase` delete nothing; and the
//! `service` attribute it adds made docker's items look like Python keyring's to Python keyring.
//! Its API has no way around any of the three. So this module chooses the items itself, with
//! plain D-Bus calls (`dbus.rs`), and writes through the `secret-service` crate (which that store
//! used underneath) on the same connection, for its handling of prompts.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::path::PathBuf;
use std::pin::pin;
use std::task::Poll;
use std::time::Instant;

use credhelper::os::env::{self, Prompter};
use credhelper::{Credentials, Secret};
use futures_lite::future;
use secret_service::blocking::{Collection, SecretService};
use zbus::zvariant::OwnedObjectPath;

use crate::bounded;
use crate::dbus::Bus;
use crate::errors::{KeyringError, Which};

/// The libsecret schema of docker's items; libsecret stores it as the `xdg:schema` attribute.
const SCHEMA: &str = "io.docker.Credentials";
/// The `label` attribute docker-credential-secretservice gives its items (not the item label).
const GO_LABEL: &str = "Docker Credentials";
/// libsecret's content type for a password, as the Go helper stores it.
const CONTENT_TYPE: &str = "text/plain";

/// Whether an item is docker's: it has `docker_cli=1`, a `server` and a `username`, and docker's
/// schema or the Go helper's `label` attribute. Python keyring's items (`service`, `username`,
/// `application`) and the Rust keyring crates' (`service`, `username`, `target`) have neither.
fn is_docker(attrs: &HashMap<String, String>) -> bool {
    let has = |k: &str, v: &str| attrs.get(k).is_some_and(|x| x == v);
    has("docker_cli", "1")
        && attrs.contains_key("server")
        && attrs.contains_key("username")
        && (has("xdg:schema", SCHEMA) || has("label", GO_LABEL))
}

/// The attributes of a new docker item, exactly those of docker-credential-secretservice.
fn docker_attributes(c: &Credentials) -> HashMap<&str, &str> {
    HashMap::from([
        ("xdg:schema", SCHEMA),
        ("label", GO_LABEL),
        ("server", c.server_url.as_str()),
        ("username", c.username.as_str()),
        ("docker_cli", "1"),
    ])
}

/// The prefix gnome-keyring gives the attributes of a locked item loaded from its file.
const HASHED: &str = "gkr:compat:hashed:";

/// Whether a locked item's hashed attributes have the names docker's items have. The values
/// cannot be read back, but the search that found the item matched its `server` and
/// `docker_cli` (and `username`) against their hashes.
fn is_hashed_docker(attrs: &HashMap<String, String>) -> bool {
    let has = |name: &str| attrs.contains_key(&format!("{HASHED}{name}"));
    has("docker_cli") && has("server") && has("username") && (has("xdg:schema") || has("label"))
}

/// A docker item found by a search.
struct DockerItem {
    path: OwnedObjectPath,
    attrs: HashMap<String, String>,
    /// Its attributes show only as hashes (a locked item, see the module's doc): it is docker's
    /// by every sign that can be read, and its username is unknown.
    hashed: bool,
}

impl DockerItem {
    fn username(&self) -> &str {
        self.attrs.get("username").map_or("", String::as_str)
    }
}

/// The docker items among `paths`, whose attributes are `attrs` (in the same order): those with
/// readable usernames first, alphabetically, then, among `locked` items only, those whose
/// attributes show only as hashes.
fn docker_items(
    paths: &[OwnedObjectPath],
    attrs: Vec<HashMap<String, String>>,
    locked: bool,
) -> Vec<DockerItem> {
    let mut items = Vec::new();
    for (path, attrs) in paths.iter().zip(attrs) {
        let hashed = !is_docker(&attrs);
        if hashed && !(locked && is_hashed_docker(&attrs)) {
            continue;
        }
        items.push(DockerItem {
            path: path.clone(),
            attrs,
            hashed,
        });
    }
    items.sort_by(|a, b| (a.hashed, a.username()).cmp(&(b.hashed, b.username())));
    items
}

/// Reads the attributes of `paths` (all in flight together) and keeps the docker items, as
/// [`docker_items`] says.
async fn read_docker_items(
    bus: &Bus,
    paths: &[OwnedObjectPath],
    locked: bool,
) -> Result<Vec<DockerItem>, KeyringError> {
    Ok(docker_items(paths, bus.attributes_of(paths).await?, locked))
}

/// The docker items of a search, unlocked and locked, their attributes read together.
async fn found_docker_items(
    bus: &Bus,
    query: &HashMap<&str, &str>,
) -> Result<(Vec<DockerItem>, Vec<DockerItem>), KeyringError> {
    let found = bus.search(query).await?;
    let all = [found.unlocked.as_slice(), found.locked.as_slice()].concat();
    let mut attrs = bus.attributes_of(&all).await?;
    let locked = attrs.split_off(found.unlocked.len());
    Ok((
        docker_items(&found.unlocked, attrs, false),
        docker_items(&found.locked, locked, true),
    ))
}

/// Runs `fut` on this thread while it ticks the bus's tasks, without a bound of its own: for the
/// writing actions and the unlock prompt, which run on a bounded worker thread.
fn on_bus<T>(bus: &Bus, fut: impl Future<Output = T>) -> T {
    async_io::block_on(bus.drive(fut))
}

/// Unlocks items with the Secret Service's prompt (the caller has checked that one can show),
/// then reads their attributes again: only those that prove docker's are returned.
fn unlock(
    bus: &Bus,
    ss: &SecretService<'_>,
    items: &[DockerItem],
) -> Result<Vec<DockerItem>, KeyringError> {
    let handles = items
        .iter()
        .map(|i| ss.get_item_by_path(i.path.clone()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(KeyringError::from_secret_service)?;
    let refs: Vec<_> = handles.iter().collect();
    ss.unlock_all(&refs)
        .map_err(KeyringError::from_secret_service)?;
    let paths: Vec<OwnedObjectPath> = items.iter().map(|i| i.path.clone()).collect();
    on_bus(bus, read_docker_items(bus, &paths, false))
}

/// Logs the docker items an action left alone because their collection is locked.
fn log_skipped(action: &str, url: &str, locked: &[DockerItem]) {
    if locked.is_empty() {
        return;
    }
    let paths: Vec<&str> = locked.iter().map(|i| i.path.as_str()).collect();
    tracing::warn!(
        server_url = url,
        skipped = locked.len(),
        "{action}: left {} docker item(s) in locked collections alone (unlocking needs a prompt): {}",
        locked.len(),
        paths.join(", ")
    );
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

/// The secret travels in a plain session: keyring-core always negotiated Diffie-Hellman, which
/// costs ~4.7 ms of pure-Rust big-number arithmetic per get, more than everything else the get
/// does. The session bus is a socket of this user: a process that can watch it can ask the
/// Secret Service for the secret itself, so DH protects nothing here.
///
/// A get waits for three round trips: SASL's `AUTH` to the bus, then two to the Secret Service,
/// each a batch of calls sent together (the first also carries the bus's `BEGIN` and `Hello`,
/// see `dbus.rs`): `SearchItems` beside `OpenSession`, then the attributes of every unlocked item
/// found beside one `GetSecrets` for all of them. That `GetSecrets` is sent before the attributes
/// show which items are docker's: only unlocked items that the search matched on `server` and
/// `docker_cli=1` are in it, it never prompts (locked items are left out of its answer, or fail
/// it), and every secret but the chosen docker item's is wiped from memory unread when the answer
/// is dropped. Should `GetSecrets` fail
/// or lack the chosen item (locked since the search), the item's own `GetSecret` answers, as
/// before. The locked items' attributes are read only when no unlocked docker item was found.
///
/// `None` when the bound passed; this runs on the calling thread, and a prompt (with a display)
/// on a bounded worker.
pub fn get(url: &str, deadline: Instant) -> Option<Result<Credentials, KeyringError>> {
    let looked_up = bounded::block_on(deadline, async {
        let bus = Bus::connect_for_reads(deadline).await?;
        bus.drive(look_up(&bus, url)).await
    })?;
    let locked = match looked_up {
        Ok(LookUp::Found(creds)) => return Some(Ok(creds)),
        Ok(LookUp::OnlyLocked(locked)) => locked,
        Err(e) => return Some(Err(e)),
    };
    if !env::may_prompt(Prompter::Display) {
        return Some(Err(KeyringError::LockedNoPrompt {
            url: url.to_string(),
        }));
    }
    let url = url.to_string();
    bounded::run(
        deadline.saturating_duration_since(Instant::now()),
        move || {
            // The prompt needs an ordinary bus connection (see `Bus::connect_for_reads`).
            let bus = async_io::block_on(Bus::connect(deadline))?;
            let item = unlock(&bus, &bus.service()?, &locked)?
                .into_iter()
                .next()
                .ok_or(KeyringError::NotFound)?;
            let bytes = on_bus(&bus, async {
                let session = bus.open_session().await?;
                bus.secret(&item.path, &session).await
            })?;
            credentials(&url, &item, &bytes)
        },
    )
}

/// What a get found without a prompt.
enum LookUp {
    /// An unlocked docker item's credentials.
    Found(Credentials),
    /// Only docker items in locked collections.
    OnlyLocked(Vec<DockerItem>),
}

/// The two batches of a get (see [`get`]).
async fn look_up(bus: &Bus, url: &str) -> Result<LookUp, KeyringError> {
    let query = HashMap::from([("server", url), ("docker_cli", "1")]);
    let (found, session) = bus.greeted(search_beside_session(bus, &query)).await?;
    if let Some(session) = session {
        let (attrs, secrets) = future::zip(
            bus.attributes_of(&found.unlocked),
            bus.secrets(&found.unlocked, &session),
        )
        .await;
        // Several usernames: the alphabetically first, the documented choice (list agrees).
        if let Some(item) = docker_items(&found.unlocked, attrs?, false)
            .into_iter()
            .next()
        {
            let chosen = match secrets {
                Ok(secrets) => secrets
                    .into_iter()
                    .find_map(|(path, secret)| (path == item.path).then_some(secret)),
                Err(e) => {
                    tracing::debug!("GetSecrets failed ({e}); asking the item itself");
                    None
                }
            };
            let bytes = match chosen {
                Some(bytes) => bytes,
                None => bus.secret(&item.path, &session).await?,
            };
            return credentials(url, &item, &bytes).map(LookUp::Found);
        }
        // No unlocked item was docker's: their secrets are dropped (wiped) unread.
    }
    let locked = read_docker_items(bus, &found.locked, true).await?;
    if locked.is_empty() {
        return Err(KeyringError::NotFound);
    }
    Ok(LookUp::OnlyLocked(locked))
}

/// `SearchItems` and `OpenSession`, sent together. The session is waited for only when the
/// search found unlocked items (`None` otherwise): a miss answers as soon as the search does.
async fn search_beside_session(
    bus: &Bus,
    query: &HashMap<&str, &str>,
) -> Result<(crate::dbus::Found, Option<OwnedObjectPath>), KeyringError> {
    let mut search = pin!(bus.search(query));
    let mut session = pin!(bus.open_session());
    let (mut found, mut opened) = (None, None);
    std::future::poll_fn(|cx| {
        if found.is_none()
            && let Poll::Ready(r) = search.as_mut().poll(cx)
        {
            found = Some(r);
        }
        if opened.is_none()
            && let Poll::Ready(r) = session.as_mut().poll(cx)
        {
            opened = Some(r);
        }
        match &found {
            Some(Ok(f)) if !f.unlocked.is_empty() && opened.is_none() => Poll::Pending,
            Some(_) => Poll::Ready(()),
            None => Poll::Pending,
        }
    })
    .await;
    let found = found.expect("BUG: polled until the search answered")?;
    if found.unlocked.is_empty() {
        return Ok((found, None));
    }
    let session = opened.expect("BUG: polled until the session answered")?;
    Ok((found, Some(session)))
}

/// The credentials of a docker item with its secret.
fn credentials(url: &str, item: &DockerItem, bytes: &[u8]) -> Result<Credentials, KeyringError> {
    let secret = std::str::from_utf8(bytes).map_err(|_| KeyringError::NotUtf8 {
        which: Which::SecretService,
    })?;
    Ok(Credentials {
        server_url: url.to_string(),
        username: item.username().to_string(),
        secret: Secret::new(secret.to_string()),
    })
}

/// Sets a docker item's secret. An item an earlier version of this helper wrote through
/// keyring-core also carries `service=<server>`, which made Python keyring and the Rust keyring
/// crates take it for theirs: that attribute goes.
fn update(ss: &SecretService<'_>, item: &DockerItem, c: &Credentials) -> Result<(), KeyringError> {
    let handle = ss
        .get_item_by_path(item.path.clone())
        .map_err(KeyringError::from_secret_service)?;
    handle
        .set_secret(c.secret.expose().as_bytes(), CONTENT_TYPE)
        .map_err(KeyringError::from_secret_service)?;
    if item.attrs.get("service") == Some(&c.server_url) {
        let kept: HashMap<&str, &str> = item
            .attrs
            .iter()
            .filter(|(k, _)| k.as_str() != "service")
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        handle
            .set_attributes(kept)
            .map_err(KeyringError::from_secret_service)?;
    }
    Ok(())
}

/// Creates a docker item as the Go helper does: label = ServerURL (what Go 0.6.4's `list`
/// reports), Go's attributes, and `replace` so that two concurrent stores leave one item.
fn create(collection: &Collection<'_>, c: &Credentials) -> Result<(), KeyringError> {
    collection
        .create_item(
            &c.server_url,
            docker_attributes(c),
            c.secret.expose().as_bytes(),
            true,
            CONTENT_TYPE,
        )
        .map(drop)
        .map_err(KeyringError::from_secret_service)
}

pub fn store(c: &Credentials, deadline: Instant) -> Result<(), KeyringError> {
    let url = c.server_url.as_str();
    let query = HashMap::from([
        ("server", url),
        ("username", c.username.as_str()),
        ("docker_cli", "1"),
    ]);
    let (bus, (unlocked, locked)) = async_io::block_on(async {
        let bus = Bus::connect(deadline).await?;
        let found = bus.drive(found_docker_items(&bus, &query)).await?;
        Ok::<_, KeyringError>((bus, found))
    })?;
    let ss = bus.service()?;
    // Update in place (an item the Go helper wrote, or ours): never a duplicate.
    if !unlocked.is_empty() {
        for item in &unlocked {
            update(&ss, item, c)?;
        }
        log_skipped("store", url, &locked);
        return Ok(());
    }
    let default = match ss.get_default_collection() {
        Ok(collection) => Some(collection),
        Err(secret_service::Error::NoResult) => None,
        Err(e) => return Err(KeyringError::from_secret_service(e)),
    };
    if let Some(collection) = &default
        && !collection
            .is_locked()
            .map_err(KeyringError::from_secret_service)?
    {
        create(collection, c)?;
        log_skipped("store", url, &locked);
        return Ok(());
    }
    // Nothing usable without a prompt.
    if !env::may_prompt(Prompter::Display) {
        return Err(if locked.is_empty() && default.is_none() {
            KeyringError::NoDefaultCollection {
                url: url.to_string(),
            }
        } else {
            KeyringError::LockedNoPrompt {
                url: url.to_string(),
            }
        });
    }
    if !locked.is_empty() {
        let unlocked = unlock(&bus, &ss, &locked)?;
        if !unlocked.is_empty() {
            for item in &unlocked {
                update(&ss, item, c)?;
            }
            return Ok(());
        }
    }
    match &default {
        Some(collection) => {
            collection
                .unlock()
                .map_err(KeyringError::from_secret_service)?;
            create(collection, c)
        }
        // As libsecret does for the Go helper: the Secret Service asks for the new keyring's
        // password.
        None => {
            let collection = ss
                .create_collection("Login", "default")
                .map_err(KeyringError::from_secret_service)?;
            create(&collection, c)
        }
    }
}

/// Deletes every docker item for `url` that can be deleted without a prompt; the locked ones
/// only when nothing else was there and a prompt can show.
pub fn erase(url: &str, deadline: Instant) -> Result<(), KeyringError> {
    let query = HashMap::from([("server", url), ("docker_cli", "1")]);
    let (bus, (unlocked, locked)) = async_io::block_on(async {
        let bus = Bus::connect(deadline).await?;
        let found = bus.drive(found_docker_items(&bus, &query)).await?;
        Ok::<_, KeyringError>((bus, found))
    })?;
    if unlocked.is_empty() && locked.is_empty() {
        return Err(KeyringError::NotFound);
    }
    let ss = bus.service()?;
    let delete = |items: &[DockerItem]| -> Result<(), KeyringError> {
        for item in items {
            ss.get_item_by_path(item.path.clone())
                .and_then(|i| i.delete())
                .map_err(KeyringError::from_secret_service)?;
        }
        Ok(())
    };
    if !unlocked.is_empty() {
        delete(&unlocked)?;
        log_skipped("erase", url, &locked);
        return Ok(());
    }
    if !env::may_prompt(Prompter::Display) {
        return Err(KeyringError::LockedNoPrompt {
            url: url.to_string(),
        });
    }
    let unlocked = unlock(&bus, &ss, &locked)?;
    if unlocked.is_empty() {
        return Err(KeyringError::NotFound);
    }
    delete(&unlocked)
}

/// Every docker item's `server` and `username` attributes. This never unlocks anything: a locked
/// item's attributes are readable while gnome-keyring holds them in memory; once it shows them
/// only as hashes (see the module's doc), the item cannot be named and is left out. The items'
/// attributes are read together, after the search: three round trips with connecting, however
/// many items.
///
/// `None` when the bound passed; this runs on the calling thread.
pub fn list(deadline: Instant) -> Option<Result<BTreeMap<String, String>, KeyringError>> {
    bounded::block_on(deadline, async {
        let bus = Bus::connect_for_reads(deadline).await?;
        bus.drive(list_on(&bus)).await
    })
}

async fn list_on(bus: &Bus) -> Result<BTreeMap<String, String>, KeyringError> {
    let query = HashMap::from([("docker_cli", "1")]);
    let found = bus.greeted(bus.search(&query)).await?;
    let paths = [found.unlocked.as_slice(), found.locked.as_slice()].concat();
    let attrs = bus.attributes_of(&paths).await?;
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (path, attrs) in paths.iter().zip(attrs) {
        if !is_docker(&attrs) {
            if is_hashed_docker(&attrs) {
                tracing::info!("list: {path} is locked and shows only hashed attributes; left out");
            }
            continue;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn only_docker_items_are_docker_items() {
        let go = [
            ("xdg:schema", SCHEMA),
            ("label", GO_LABEL),
            ("server", "h:1"),
            ("username", "u"),
            ("docker_cli", "1"),
        ];
        assert!(is_docker(&attrs(&go)), "the Go helper's item, any release");
        assert!(
            is_docker(&attrs(&go[1..])),
            "Go's attributes without the schema (secret-tool store …)"
        );
        let mut no_label = go.to_vec();
        no_label.remove(1);
        assert!(is_docker(&attrs(&no_label)), "the schema without the label");
        for (what, item) in [
            (
                "Python keyring",
                attrs(&[
                    ("service", "h:1"),
                    ("username", "u"),
                    ("application", "Python keyring library"),
                ]),
            ),
            (
                "Rust keyring crates",
                attrs(&[("service", "h:1"), ("username", "u"), ("target", "default")]),
            ),
            (
                "schema without docker_cli",
                attrs(&[("xdg:schema", SCHEMA), ("server", "h:1"), ("username", "u")]),
            ),
            (
                "docker_cli without schema or label",
                attrs(&[("docker_cli", "1"), ("server", "h:1"), ("username", "u")]),
            ),
            (
                "no username",
                attrs(&[
                    ("xdg:schema", SCHEMA),
                    ("docker_cli", "1"),
                    ("server", "h:1"),
                ]),
            ),
        ] {
            assert!(!is_docker(&item), "{what}");
        }
    }

    #[test]
    fn locked_items_with_hashed_attributes_are_judged_by_their_names() {
        // What gnome-keyring showed for a Go helper's item in a locked keyring loaded from its
        // file (MD5 of each value).
        let go = [
            ("xdg:schema", "org.freedesktop.Secret.Generic"),
            (
                "gkr:compat:hashed:xdg:schema",
                "839bbd1e1f62013230bbb712d60204db",
            ),
            (
                "gkr:compat:hashed:label",
                "ff2b2f6c2a6cc762976e467f8b9b9965",
            ),
            (
                "gkr:compat:hashed:server",
                "01548680e1ad119df5fceecd41616def",
            ),
            (
                "gkr:compat:hashed:username",
                "7b774effe4a349c6dd82ad4f4f21d34c",
            ),
            (
                "gkr:compat:hashed:docker_cli",
                "c4ca4238a0b923820dcc509a6f75849b",
            ),
        ];
        assert!(!is_docker(&attrs(&go)));
        assert!(is_hashed_docker(&attrs(&go)));
        let python = [
            ("xdg:schema", "org.freedesktop.Secret.Generic"),
            (
                "gkr:compat:hashed:service",
                "01548680e1ad119df5fceecd41616def",
            ),
            (
                "gkr:compat:hashed:username",
                "7b774effe4a349c6dd82ad4f4f21d34c",
            ),
            ("gkr:compat:hashed:application", "0a1b2c"),
        ];
        assert!(!is_hashed_docker(&attrs(&python)));
        assert!(!is_hashed_docker(&attrs(&go[2..5])), "no docker_cli");
    }

    #[test]
    fn new_items_carry_exactly_the_go_helpers_attributes() {
        let c = Credentials {
            server_url: "h:1".into(),
            username: "u".into(),
            secret: Secret::new("s".into()),
        };
        let mut got: Vec<(&str, &str)> = docker_attributes(&c).into_iter().collect();
        got.sort();
        assert_eq!(
            got,
            [
                ("docker_cli", "1"),
                ("label", GO_LABEL),
                ("server", "h:1"),
                ("username", "u"),
                ("xdg:schema", SCHEMA),
            ]
        );
    }
}

//! `docker-credential-NAME configure`: puts the helper into a docker `config.json` (or a
//! containers `auth.json`) and moves the base64 passwords `docker login` left there into the
//! helper's store. Dry-run by default: it prints the diff, and writes only with `--apply`.

mod line_diff;

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::os::fs::{read_user_file, write_atomic};
use crate::protocol::driver::HelperInfo;
use crate::protocol::error::Error;
use crate::protocol::secret::Secret;
use crate::protocol::store::Store;
use crate::protocol::wire::Credentials;

const USAGE: &str = "usage: NAME configure [--registry HOST]... [--file PATH] [--import] [--force] [--apply]\n\
  --registry HOST  use the helper for HOST only (credHelpers); without it, for every registry (credsStore)\n\
  --file PATH      the file to change (default $DOCKER_CONFIG/config.json, else ~/.docker/config.json;\n\
                   a containers auth.json works the same, e.g. ${XDG_RUNTIME_DIR}/containers/auth.json)\n\
  --import         move the base64 passwords in \"auths\" into the helper's store\n\
  --force          replace a different helper already configured\n\
  --apply          write the change (a backup is kept as FILE.bak); without it, only show the diff";

struct Options {
    registries: Vec<String>,
    file: Option<PathBuf>,
    import: bool,
    force: bool,
    apply: bool,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        registries: Vec::new(),
        file: None,
        import: false,
        force: false,
        apply: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--registry" => o
                .registries
                .push(it.next().ok_or("--registry needs a host")?.clone()),
            "--file" => o.file = Some(PathBuf::from(it.next().ok_or("--file needs a path")?)),
            "--import" => o.import = true,
            "--force" => o.force = true,
            "--apply" => o.apply = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(o)
}

fn default_file() -> Option<PathBuf> {
    std::env::var_os("DOCKER_CONFIG")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|h| h.join(".docker")))
        .map(|d| d.join("config.json"))
}

/// Runs `configure` for the helper `info` describes. Returns the exit code.
pub fn run(store: &dyn Store, info: &HelperInfo, args: &[String], out: &mut dyn Write) -> u8 {
    let short = info.short_name();
    let usage = USAGE.replace("NAME", info.name);
    let result = parse(args).map_err(|e| {
        if e.is_empty() {
            usage
        } else {
            format!("{e}\n{usage}")
        }
    });
    let result = result.and_then(|o| configure(store, short, &o, out));
    match result {
        Ok(()) => 0,
        Err(e) => {
            let _ = writeln!(out, "{e}");
            1
        }
    }
}

fn configure(
    store: &dyn Store,
    short: &str,
    o: &Options,
    out: &mut dyn Write,
) -> Result<(), String> {
    let path = o
        .file
        .clone()
        .or_else(default_file)
        .ok_or("cannot find the docker config: set DOCKER_CONFIG or HOME, or pass --file")?;
    let (original, before, mut config) = read(&path)?;
    let as_it_was = config.clone();
    // The helper itself.
    if o.registries.is_empty() {
        set(&mut config, "credsStore", short, o.force)?;
    } else {
        let helpers = config
            .entry("credHelpers")
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(helpers) = helpers else {
            return Err(format!(
                "{}: \"credHelpers\" is not an object",
                path.display()
            ));
        };
        for host in &o.registries {
            set(helpers, host, short, o.force)?;
        }
    }
    // The base64 passwords docker login left behind.
    let mut imported = Vec::new();
    if o.import
        && let Some(Value::Object(auths)) = config.get_mut("auths")
    {
        for (host, entry) in auths.iter_mut() {
            let Some(Value::String(auth)) = entry.get("auth").cloned() else {
                continue;
            };
            let creds = decode_auth(host, &auth)
                .map_err(|e| format!("{}: auths.{host}: {e}", path.display()))?;
            imported.push(creds);
            if let Value::Object(fields) = entry {
                fields.remove("auth");
            }
        }
    }
    let after = render(&config);
    let changed = before != after;
    for change in line_diff::changes(&before, &after) {
        let (sign, line) = match change {
            line_diff::Change::Removed(l) => ("-", l),
            line_diff::Change::Added(l) => ("+", l),
        };
        // A removed "auth" line holds a password: show that it goes, never what it was.
        let line = line.trim_end();
        let shown = if line.trim_start().starts_with("\"auth\":") {
            "\t\t\t\"auth\": <redacted>"
        } else {
            line
        };
        let _ = writeln!(out, "{sign}{shown}");
    }
    for c in &imported {
        let _ = writeln!(
            out,
            "{} credentials for {} ({}) into the {short} store",
            if o.apply { "moved" } else { "would move" },
            c.server_url,
            c.username
        );
    }
    if !changed {
        let _ = writeln!(out, "{} is already configured", path.display());
        return Ok(());
    }
    if !o.apply {
        let _ = writeln!(
            out,
            "dry run: nothing written; add --apply to write {}",
            path.display()
        );
        return Ok(());
    }
    // Secrets first: if storing fails, the file still holds them.
    for c in &imported {
        store
            .store(c)
            .map_err(|e| format!("cannot store the credentials for {}: {e}", c.server_url))?;
    }
    let backup = match original {
        Some(original) => {
            // Once the passwords are in the store, the backup must not keep a copy of them: after
            // --import it is the file as it was less the "auth" entries just moved (issue #11).
            let saved = if imported.is_empty() {
                original
            } else {
                zeroize::Zeroizing::new(render(&without_auth(as_it_was)).into_bytes())
            };
            back_up(&path, &saved)?
        }
        None => {
            if let Some(dir) = path.parent() {
                crate::os::fs::create_private_dir_all(dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            }
            String::from("no backup: there was no file")
        }
    };
    write_atomic(&path, after.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let _ = writeln!(out, "wrote {} ({backup})", path.display());
    Ok(())
}

/// Writes `bytes` to `FILE.bak` atomically, 0600, replacing (never following) a link there.
/// Says what it did. A name another user holds in a shared directory (sticky: we cannot replace
/// it) costs the backup, not the change: refusing would let anyone who can write the directory
/// block `configure`.
fn back_up(path: &Path, bytes: &[u8]) -> Result<String, String> {
    let backup = path.with_extension("json.bak");
    match write_atomic(&backup, bytes) {
        Ok(()) => Ok(format!("backup: {}", backup.display())),
        Err(e) => match foreign_owner(&backup) {
            Some(owner) => Ok(format!(
                "no backup: {} belongs to uid {owner}, another user",
                backup.display()
            )),
            None => Err(format!(
                "cannot back up {} to {}: {e}",
                path.display(),
                backup.display()
            )),
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

/// `config` with the "auth" (base64 `user:password`) of every `auths` entry removed.
fn without_auth(mut config: Map<String, Value>) -> Map<String, Value> {
    if let Some(Value::Object(auths)) = config.get_mut("auths") {
        for entry in auths.values_mut() {
            if let Value::Object(fields) = entry {
                fields.remove("auth");
            }
        }
    }
    config
}

/// A docker config.json is a few KiB; this is far more than any real one, and bounds what a
/// file planted in its place can make us read.
const MAX_CONFIG: u64 = 16 << 20;

/// The file's bytes (`None` if it does not exist), its content rendered as it would be written,
/// and the content.
#[expect(clippy::type_complexity, reason = "three views of one file, used once")]
fn read(
    path: &Path,
) -> Result<
    (
        Option<zeroize::Zeroizing<Vec<u8>>>,
        String,
        Map<String, Value>,
    ),
    String,
> {
    let bytes = match read_user_file(path, MAX_CONFIG) {
        Ok(Some(b)) => b,
        Ok(None) => return Ok((None, String::new(), Map::new())),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| format!("{} is not UTF-8; nothing changed", path.display()))?;
    if text.trim().is_empty() {
        return Ok((Some(bytes), String::new(), Map::new()));
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => {
            let before = render(&map);
            Ok((Some(bytes), before, map))
        }
        Ok(_) => Err(format!(
            "{} is not a JSON object; nothing changed",
            path.display()
        )),
        Err(e) => Err(format!(
            "{} is not valid JSON ({e}); nothing changed",
            path.display()
        )),
    }
}

/// Docker's own formatting: tabs, one key per line.
fn render(map: &Map<String, Value>) -> String {
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

fn set(map: &mut Map<String, Value>, key: &str, helper: &str, force: bool) -> Result<(), String> {
    match map.get(key) {
        Some(Value::String(current)) if current == helper => Ok(()),
        Some(current) if !force => Err(format!(
            "{key} is already set to {current}; --force replaces it"
        )),
        _ => {
            map.insert(key.to_string(), Value::String(helper.to_string()));
            Ok(())
        }
    }
}

fn decode_auth(host: &str, auth: &str) -> Result<Credentials, Error> {
    use base64::Engine;
    let bytes = zeroize::Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|_| Error::bad_input("\"auth\" is not base64"))?,
    );
    let text =
        std::str::from_utf8(&bytes).map_err(|_| Error::bad_input("\"auth\" is not UTF-8"))?;
    let (user, password) = text
        .split_once(':')
        .ok_or_else(|| Error::bad_input("\"auth\" is not user:password"))?;
    Ok(Credentials {
        server_url: host.to_string(),
        username: user.to_string(),
        secret: Secret::new(password.to_string()),
    })
}

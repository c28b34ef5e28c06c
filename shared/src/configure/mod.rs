//! `docker-credential-NAME configure`: puts the helper into a docker `config.json` (or a
//! containers `auth.json`) and moves the base64 passwords `docker login` left there into the
//! helper's store. Dry-run by default: it prints the diff, and writes only with `--apply`.

mod line_diff;

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::os::fs::write_atomic;
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

/// Why `configure` changed nothing. Each message names the file and what to do.
#[derive(Debug, thiserror::Error)]
enum ConfigureError {
    #[error("{0}")]
    Usage(String),
    #[error("cannot find the docker config: set DOCKER_CONFIG or HOME, or pass --file")]
    NoConfigFile,
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not valid JSON ({source}); nothing changed", path.display())]
    NotJson {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{} is not a JSON object; nothing changed", path.display())]
    NotAnObject { path: PathBuf },
    #[error("{}: \"credHelpers\" is not an object", path.display())]
    CredHelpersNotAnObject { path: PathBuf },
    #[error("{key} is already set to {current}; --force replaces it")]
    AlreadySet { key: String, current: Value },
    #[error("{}: auths.{host}: {why}", path.display())]
    BadAuth {
        path: PathBuf,
        host: String,
        why: &'static str,
    },
    #[error("cannot store the credentials for {server}: {source}")]
    Store { server: String, source: Error },
    #[error("cannot back up {} to {}: {source}", path.display(), backup.display())]
    Backup {
        path: PathBuf,
        backup: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot create {}: {source}", dir.display())]
    CreateDir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

struct Options {
    registries: Vec<String>,
    file: Option<PathBuf>,
    import: bool,
    force: bool,
    apply: bool,
}

/// The options, or `Err(None)` for `--help`, or the usage mistake.
fn parse(args: &[String]) -> Result<Options, Option<String>> {
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
            "--registry" => o.registries.push(
                it.next()
                    .ok_or(Some("--registry needs a host".to_string()))?
                    .clone(),
            ),
            "--file" => {
                o.file = Some(PathBuf::from(
                    it.next().ok_or(Some("--file needs a path".to_string()))?,
                ))
            }
            "--import" => o.import = true,
            "--force" => o.force = true,
            "--apply" => o.apply = true,
            "-h" | "--help" => return Err(None),
            other => return Err(Some(format!("unknown option {other}"))),
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
    let result = match parse(args) {
        Ok(o) => configure(store, short, &o, out),
        Err(None) => {
            let _ = writeln!(out, "{usage}");
            return 0;
        }
        Err(Some(mistake)) => Err(ConfigureError::Usage(format!("{mistake}\n{usage}"))),
    };
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
) -> Result<(), ConfigureError> {
    let path = o
        .file
        .clone()
        .or_else(default_file)
        .ok_or(ConfigureError::NoConfigFile)?;
    let (before, mut config) = read(&path)?;
    // The helper itself.
    if o.registries.is_empty() {
        set(&mut config, "credsStore", short, o.force)?;
    } else {
        let helpers = config
            .entry("credHelpers")
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(helpers) = helpers else {
            return Err(ConfigureError::CredHelpersNotAnObject { path });
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
            let creds = decode_auth(host, &auth).map_err(|why| ConfigureError::BadAuth {
                path: path.clone(),
                host: host.clone(),
                why,
            })?;
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
        store.store(c).map_err(|source| ConfigureError::Store {
            server: c.server_url.clone(),
            source,
        })?;
    }
    if path.exists() {
        let backup = path.with_extension("json.bak");
        std::fs::copy(&path, &backup).map_err(|source| ConfigureError::Backup {
            path: path.clone(),
            backup: backup.clone(),
            source,
        })?;
    } else if let Some(dir) = path.parent() {
        crate::os::fs::create_private_dir_all(dir).map_err(|source| ConfigureError::CreateDir {
            dir: dir.to_path_buf(),
            source,
        })?;
    }
    write_atomic(&path, after.as_bytes()).map_err(|source| ConfigureError::Write {
        path: path.clone(),
        source,
    })?;
    let _ = writeln!(
        out,
        "wrote {} (backup: {}.bak)",
        path.display(),
        path.display()
    );
    Ok(())
}

fn read(path: &Path) -> Result<(String, Map<String, Value>), ConfigureError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok((String::new(), Map::new()));
        }
        Err(source) => {
            return Err(ConfigureError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    if text.trim().is_empty() {
        return Ok((String::new(), Map::new()));
    }
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => {
            let before = render(&map);
            Ok((before, map))
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

fn set(
    map: &mut Map<String, Value>,
    key: &str,
    helper: &str,
    force: bool,
) -> Result<(), ConfigureError> {
    match map.get(key) {
        Some(Value::String(current)) if current == helper => Ok(()),
        Some(current) if !force => Err(ConfigureError::AlreadySet {
            key: key.to_string(),
            current: current.clone(),
        }),
        _ => {
            map.insert(key.to_string(), Value::String(helper.to_string()));
            Ok(())
        }
    }
}

/// The credentials in an `auth` value, or what is wrong with it (never the value itself).
fn decode_auth(host: &str, auth: &str) -> Result<Credentials, &'static str> {
    use base64::Engine;
    let bytes = zeroize::Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|_| "\"auth\" is not base64")?,
    );
    let text = std::str::from_utf8(&bytes).map_err(|_| "\"auth\" is not UTF-8")?;
    let (user, password) = text
        .split_once(':')
        .ok_or("\"auth\" is not user:password")?;
    Ok(Credentials {
        server_url: host.to_string(),
        username: user.to_string(),
        secret: Secret::new(password.to_string()),
    })
}

//! `docker-credential-NAME configure`, for people: puts the helper into a docker `config.json`
//! (or a containers `auth.json`) and moves the credentials `docker login` left there (base64
//! passwords, identity tokens) into the helper's store. Dry-run by default: it prints the diff,
//! and writes only with `--apply`.

mod error;
mod file;
mod import;
mod line_diff;
mod options;

use std::io::Write;

use serde_json::{Map, Value};

pub use error::ConfigureError;

use crate::protocol::info::HelperInfo;
use crate::protocol::store::Store;

/// Runs `configure` for the helper `info` describes. Returns the exit code.
pub fn run(store: &dyn Store, info: &HelperInfo, args: &[String], out: &mut dyn Write) -> u8 {
    let usage = options::usage(info.name);
    let result = match options::parse(args) {
        Ok(o) => configure(store, info.short_name(), &o, out),
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
    o: &options::Options,
    out: &mut dyn Write,
) -> Result<(), ConfigureError> {
    let path = o
        .file
        .clone()
        .or_else(file::default_path)
        .ok_or(ConfigureError::NoConfigFile)?;
    let file = file::read(&path)?;
    let mut config = file.map.clone();
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
    // The credentials docker login left behind.
    let imported = if o.import {
        import::take_credentials(&mut config).map_err(|(host, why)| ConfigureError::BadAuth {
            path: path.clone(),
            host,
            why,
        })?
    } else {
        Vec::new()
    };
    let after = file::render(&config);
    show_diff(&file.before, &after, out);
    for c in &imported {
        let _ = writeln!(
            out,
            "{} credentials for {} ({}) into the {short} store",
            if o.apply { "moved" } else { "would move" },
            c.server_url,
            c.username
        );
    }
    if file.before == after {
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
    // Once the secrets are in the store, the backup must not keep a copy of them: after
    // --import it is the file as it was less the fields just moved (issue #11).
    let backup = match &file.original {
        Some(original) if imported.is_empty() => Some(original.clone()),
        Some(_) => Some(zeroize::Zeroizing::new(
            file::render(&import::without_secrets(file.map.clone())).into_bytes(),
        )),
        None => None,
    };
    let said = file::write(&file, backup.as_deref().map(|b| &b[..]), &after)?;
    let _ = writeln!(out, "wrote {} ({said})", path.display());
    Ok(())
}

/// Prints the changed lines. A removed secret line shows that it goes, never what it was.
fn show_diff(before: &str, after: &str, out: &mut dyn Write) {
    for change in line_diff::changes(before, after) {
        let (sign, line) = match change {
            line_diff::Change::Removed(l) => ("-", l),
            line_diff::Change::Added(l) => ("+", l),
        };
        let line = line.trim_end();
        let secret = import::SECRET_FIELDS
            .iter()
            .find(|f| line.trim_start().starts_with(&format!("\"{f}\":")));
        let _ = match secret {
            Some(field) => writeln!(out, "{sign}\t\t\t\"{field}\": <redacted>"),
            None => writeln!(out, "{sign}{line}"),
        };
    }
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

//! The docker credential-helper protocol (`get`/`store`/`erase`/`list`/`version`, JSON on
//! stdin/stdout) and what every helper of this workspace shares.
//!
//! A helper implements [`Store`] and its `main` is one line:
//! `fn main() -> ExitCode { credhelper::main(&MyStore::new(), &INFO) }`.
#![deny(missing_docs)]

pub mod action;
pub mod child;
pub mod configure;
pub mod driver;
mod error;
pub mod fs;
pub mod hardening;
pub mod input;
mod line_diff;
pub mod logging;
pub mod memory;
mod secret;
pub mod wire;

use std::collections::BTreeMap;
use std::process::ExitCode;

pub use driver::{HelperInfo, run};
pub use error::{Error, one_line};
pub use secret::Secret;
pub use wire::Credentials;

/// A credential backend. Each method maps the backend's failures onto [`Error`] at this
/// boundary: a missing entry is [`Error::NotFound`], whatever the backend calls it.
pub trait Store {
    /// The credentials saved for exactly this server URL.
    fn get(&self, server_url: &str) -> Result<Credentials, Error>;
    /// Saves the credentials, replacing any for the same server URL and username.
    fn store(&self, creds: &Credentials) -> Result<(), Error>;
    /// Deletes every credential for this server URL; [`Error::NotFound`] if there was none.
    fn erase(&self, server_url: &str) -> Result<(), Error>;
    /// ServerURL → Username for every saved credential, without reading any secret.
    fn list(&self) -> Result<BTreeMap<String, String>, Error>;
}

/// The whole `main` of a helper: real argv, stdin and stdout into [`run`].
/// `configure` (not part of the protocol: for people, see [`configure`]) is handled here, outside
/// the protocol driver.
pub fn main(store: &dyn Store, info: &HelperInfo) -> ExitCode {
    hardening::no_core_dumps();
    hardening::one_line_panics(info.name);
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    if args.first().is_some_and(|a| a == "configure") {
        let rest: Vec<String> = args[1..]
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let short = info
            .name
            .strip_prefix("docker-credential-")
            .unwrap_or(info.name);
        return ExitCode::from(configure::run(store, short, &rest, &mut stdout.lock()));
    }
    run(store, info, &args, &mut stdin.lock(), &mut stdout.lock())
}

//! The docker credential-helper protocol (`get`/`store`/`erase`/`list`/`version`, JSON on
//! stdin/stdout) and what every helper of this workspace shares.
//!
//! The folders say what each part is for:
//! - [`protocol`]: the wire protocol: argv, stdin, the JSON, the errors, the [`Store`] a helper
//!   implements and the driver that runs one exchange;
//! - [`os`]: plumbing: bounded child processes, private files in directories others may write,
//!   logging, the environment, process hardening;
//! - [`configure`]: the `configure` command, for people.
//!
//! A helper implements [`Store`] and its `main` is one call:
//! `fn main() -> ExitCode { credhelper::main(&MyStore, &INFO) }`.
#![deny(missing_docs)]

pub mod configure;
#[cfg(any(test, feature = "testing"))]
pub mod memory;
pub mod os;
pub mod protocol;

pub use protocol::driver::{main, run};
pub use protocol::error::{Error, one_line};
pub use protocol::info::HelperInfo;
pub use protocol::secret::Secret;
pub use protocol::store::Store;
pub use protocol::wire::Credentials;

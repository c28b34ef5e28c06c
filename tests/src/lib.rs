//! The harness: temp dirs, the built helpers, and the real peers they talk to, each started on
//! 127.0.0.1 in a temp dir and stopped by PID.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "the harness reports skips and failures"
)]

pub mod aws_peers;
pub mod confined;
pub mod fake_aws;
pub mod fake_secrets;
pub mod flows;
pub mod gpg;
pub mod keyring_apps;
pub mod keys;
pub mod listener;
pub mod oci;
pub mod peers;
pub mod proc;
pub mod registry;
pub mod sandbox;
pub mod secret_service;
pub mod slow_bus;
pub mod small_fs;
pub mod token_registry;
pub mod two_users;
pub mod wire;

pub use proc::{Out, run, run_timed};
pub use sandbox::Sandbox;

//! The docker credential-helper protocol, byte for byte as docker/docker-credential-helpers speaks
//! it: the action in argv, the request on stdin, the answer or a one-line error on stdout.

pub mod action;
pub mod driver;
pub mod error;
pub mod info;
pub mod input;
pub mod secret;
pub mod store;
pub mod wire;

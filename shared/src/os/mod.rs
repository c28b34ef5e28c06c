//! Plumbing: what a helper needs of the operating system, kept out of the protocol.

pub mod child;
pub mod dir;
pub mod env;
pub mod fs;
pub mod hardening;
pub mod logging;

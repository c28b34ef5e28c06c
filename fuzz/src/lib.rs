//! What each fuzz target checks, as plain functions of the input bytes that panic when a
//! property fails. Two drivers run them: `fuzz/libfuzzer` (cargo fuzz, coverage-guided, on the
//! nightly toolchain; the long runs recorded in RELIABILITY.md) and `tests/short_run.rs` (stable,
//! part of the test suite: the seed corpus and a few hundred thousand mutations of it).
#![deny(missing_docs)]

mod ecr;
mod pass_names;
mod protocol;

pub use ecr::{ecr_cache, ecr_host};
pub use pass_names::pass_names;
pub use protocol::protocol;

/// A property over one input; it panics when the property fails.
pub type Target = fn(&[u8]);

/// The targets by name, as `fuzz/corpus/<name>/` and the libFuzzer binaries call them.
pub const TARGETS: &[(&str, Target)] = &[
    ("protocol", protocol),
    ("ecr_host", ecr_host),
    ("ecr_cache", ecr_cache),
    ("pass_names", pass_names),
];

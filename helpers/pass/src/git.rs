//! Commits to the store's git repository, as `pass insert` and `pass rm` do, when there is one.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use credhelper::os::child::{self, Ending, RunError};

/// Why a commit did not happen; logged, never returned (the entry is saved already).
#[derive(Debug, thiserror::Error)]
enum GitError {
    #[error("git could not run: {0}")]
    Run(#[from] RunError),
    #[error("git {command} ended with {ending}: {stderr}")]
    Failed {
        command: &'static str,
        ending: Ending,
        stderr: String,
    },
}

/// Stages `path` (a new file or a removed directory) and commits it with `message`. The entry is
/// already saved when this runs, so a git failure (no identity configured, a concurrent commit
/// holding the index lock) is logged and does not fail the request.
pub fn commit(root: &Path, path: &Path, message: &str) {
    if !root.join(".git").exists() {
        return;
    }
    let git = |args: &[&std::ffi::OsStr]| {
        let mut cmd = Command::new("git");
        cmd.arg("-C").arg(root).args(args);
        let out = child::run(cmd, &[], Duration::from_secs(10))?;
        if out.success() {
            return Ok(());
        }
        Err(GitError::Failed {
            command: if args.first().is_some_and(|a| *a == "add") {
                "add"
            } else {
                "commit"
            },
            ending: out.ending(),
            stderr: credhelper::one_line(&out.stderr),
        })
    };
    let p = path.as_os_str();
    let result = git(&["add".as_ref(), "-A".as_ref(), "--".as_ref(), p]).and_then(|()| {
        git(&[
            "commit".as_ref(),
            "-q".as_ref(),
            "-m".as_ref(),
            message.as_ref(),
            "--".as_ref(),
            p,
        ])
    });
    if let Err(e) = result {
        tracing::warn!(error = %e, "git commit in the pass store failed; the entry is saved");
    }
}

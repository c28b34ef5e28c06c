//! Commits to the store's git repository, as `pass insert` and `pass rm` do, when there is one.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use credhelper::os::child::{self, Ending, RunError};
use credhelper::os::fs::lock_within;

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

/// Runs `git -C root ARGS…` (bounded); its stdout on success.
fn git(root: &Path, command: &'static str, args: &[&OsStr]) -> Result<String, GitError> {
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(root).arg(command).args(args);
    let out = child::run(cmd, &[], Duration::from_secs(10))?;
    if out.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    Err(GitError::Failed {
        command,
        ending: out.ending(),
        stderr: credhelper::one_line(&out.stderr),
    })
}

/// How long a commit waits for the other helpers' commits.
const QUEUE_LIMIT: Duration = Duration::from_secs(10);

/// Our turn to commit: `None` if another process held it for [`QUEUE_LIMIT`]. Where `.git`
/// cannot be locked (a file system without flock), git's own lock is all there is.
fn queue(git_dir: &Path) -> Option<Option<std::fs::File>> {
    // O_NONBLOCK: a FIFO in its place cannot block the open.
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut opts, libc::O_NONBLOCK);
    let Ok(file) = opts.open(git_dir) else {
        return Some(None);
    };
    match lock_within(&file, QUEUE_LIMIT) {
        Ok(true) => Some(Some(file)),
        Ok(false) => None,
        Err(_) => Some(None),
    }
}

/// Stages `path` (a new file or a removed directory) and commits it with `message`, signed when
/// the store asks for it (`git config pass.signcommits true`), as pass does. The entry is
/// already saved when this runs, so a git failure (no identity configured, a concurrent commit
/// holding the index lock, no signing key) is logged and does not fail the request.
pub fn commit(root: &Path, path: &Path, message: &str) {
    let git_dir = root.join(".git");
    if !git_dir.exists() {
        return;
    }
    // Our helpers commit one at a time: git's own index.lock makes a second `git add` at once
    // fail ("index.lock: File exists"), and 16 concurrent stores left 10 entries uncommitted.
    // An flock of `.git` (a directory, or the file of a worktree) queues them; pass itself and
    // the Go helper do not take it, and git's lock still keeps their commits safe from ours.
    let Some(_queue) = queue(&git_dir) else {
        tracing::warn!(
            "another process kept the pass store's .git locked for 10 s: not committed; the entry is saved"
        );
        return;
    };
    let p = path.as_os_str();
    let result = git(root, "add", &["-A".as_ref(), "--".as_ref(), p]).and_then(|_| {
        // `config --get` exits 1 when the key is unset: that is "do not sign".
        let sign = git(
            root,
            "config",
            &[
                "--bool".as_ref(),
                "--get".as_ref(),
                "pass.signcommits".as_ref(),
            ],
        )
        .is_ok_and(|v| v.trim() == "true");
        let mut args: Vec<&OsStr> = vec!["-q".as_ref(), "-m".as_ref(), message.as_ref()];
        if sign {
            args.push("-S".as_ref());
        }
        args.extend(["--".as_ref(), p]);
        git(root, "commit", &args)
    });
    if let Err(e) = result {
        tracing::warn!(error = %e, "git commit in the pass store failed; the entry is saved");
    }
}

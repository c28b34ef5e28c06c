//! Commits to the store's git repository, as `pass insert` and `pass rm` do, when there is one.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use credhelper::os::child;

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
        match child::run(cmd, &[], Duration::from_secs(10)) {
            Ok(out) if out.success() => Ok(()),
            Ok(out) => Err(credhelper::one_line(&out.stderr)),
            Err(e) => Err(format!("{e:?}")),
        }
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

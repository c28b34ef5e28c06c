//! A small tmpfs mounted in a sandbox, to make real disk-full (ENOSPC) and read-only (EROFS)
//! errors happen under a helper: it needs root (CI runs as root); elsewhere its tests skip loudly.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A mounted tmpfs; dropping it unmounts it.
pub struct SmallFs {
    /// The mount point.
    pub dir: PathBuf,
}

impl SmallFs {
    /// Mounts a tmpfs of `kib` KiB at `dir` (created), or says why it cannot: then a failure
    /// under `CI=true`, a loud skip elsewhere.
    pub fn mount(test: &str, dir: &Path, kib: u32) -> Option<SmallFs> {
        std::fs::create_dir_all(dir).expect("mkdir mount point");
        let out = crate::proc::run(
            {
                let mut c = Command::new("mount");
                c.args(["-t", "tmpfs", "-o", &format!("size={kib}k,mode=0700")])
                    .arg("tmpfs")
                    .arg(dir);
                c
            },
            "",
        );
        if out.ok() {
            return Some(SmallFs {
                dir: dir.to_path_buf(),
            });
        }
        let msg = format!(
            "{test}: cannot mount a tmpfs (needs root): {}",
            out.stderr.trim()
        );
        assert!(!crate::peers::ci(), "{msg}");
        eprintln!("SKIPPED {msg}");
        None
    }

    /// Fills the file system: writes a filler file until the kernel says ENOSPC.
    pub fn fill(&self) {
        let mut f = std::fs::File::create(self.filler()).expect("create filler");
        let block = vec![0u8; 4096];
        loop {
            match f.write(&block) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => break,
                Err(e) => panic!("filling the tmpfs: {e}"),
            }
        }
        // Whatever a partial block left: fill it byte by byte.
        while f.write(&[0]).is_ok_and(|n| n == 1) {}
    }

    /// Frees what [`SmallFs::fill`] took.
    pub fn free(&self) {
        std::fs::remove_file(self.filler()).expect("remove filler");
    }

    /// Remounts read-only (`true`) or read-write (`false`).
    pub fn read_only(&self, ro: bool) {
        let mut c = Command::new("mount");
        c.args(["-o", if ro { "remount,ro" } else { "remount,rw" }])
            .arg(&self.dir);
        let out = crate::proc::run(c, "");
        assert!(out.ok(), "remount: {out:?}");
    }

    fn filler(&self) -> PathBuf {
        self.dir.join("filler")
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        // Lazy: a helper killed by a test may still hold a file open on it.
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

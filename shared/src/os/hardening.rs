//! What every helper sets up first: a helper holds a registry password in memory, so a crash must
//! not write that memory to a core file; and a bug must still answer in the protocol's form.

/// Sets the core-file size limit to 0 (soft and hard), so no core dump of this process or of the
/// children it starts (gpg) can hold a secret. Best effort: failure changes nothing else.
pub fn no_core_dumps() {
    #[cfg(unix)]
    {
        let zero = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: setrlimit reads the struct we pass and touches no other memory.
        #[allow(unsafe_code, reason = "setrlimit(2) has no safe wrapper in std")]
        let _ = unsafe { libc::setrlimit(libc::RLIMIT_CORE, &zero) };
    }
}

/// Makes a panic (a bug) end like every other failure: one line on stdout that the docker CLI
/// shows, exit 1. The line names where the bug is, never the panic's message, which could hold
/// data the helper was working on.
pub fn one_line_panics(name: &'static str) {
    std::panic::set_hook(Box::new(move |info| {
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        tracing::error!("internal error{at}");
        let line = format!("{name}: internal error{at} (a bug: please report it)\n");
        let _ = std::io::Write::write_all(&mut std::io::stdout(), line.as_bytes());
        let _ = std::io::Write::flush(&mut std::io::stdout());
        std::process::exit(1);
    }));
}

#[cfg(test)]
mod tests {
    /// Runs this test binary again, in a child that installs the hook and panics.
    #[test]
    fn a_panic_is_one_line_on_stdout_and_exit_1() {
        const CHILD: &str = "CREDHELPER_PANIC_CHILD";
        if std::env::var_os(CHILD).is_some() {
            super::one_line_panics("docker-credential-test");
            let secret = String::from("S3cret-in-a-panic");
            panic!("boom with {secret}");
        }
        let exe = std::env::current_exe().expect("current_exe");
        let out = std::process::Command::new(exe)
            .args([
                "--exact",
                "os::hardening::tests::a_panic_is_one_line_on_stdout_and_exit_1",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, "1")
            .output()
            .expect("run child");
        let stdout = String::from_utf8_lossy(&out.stdout);
        // The test harness prints `test … ... ` first, on the same line.
        let at = stdout
            .find("docker-credential-test: ")
            .unwrap_or_else(|| panic!("no error line: {stdout}"));
        let line = stdout[at..].lines().next().unwrap_or_default();
        assert_eq!(out.status.code(), Some(1), "{stdout}");
        assert!(
            line.contains("internal error at shared/src/os/hardening.rs:"),
            "{line}"
        );
        assert!(line.ends_with("(a bug: please report it)"), "{line}");
        assert!(
            !stdout.contains("S3cret") && !String::from_utf8_lossy(&out.stderr).contains("S3cret")
        );
    }
}

//! Process hardening every helper applies first: a helper holds a registry password in memory,
//! so a crash must not write that memory to a core file.

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

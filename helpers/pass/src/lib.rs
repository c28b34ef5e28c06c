//! docker-credential-pass: docker registry credentials in the user's pass store. A library so
//! that the fuzz targets reach the store's name encoding; the binary is `main.rs`.

pub mod agent;
pub mod decrypt;
pub mod git;
pub mod gpg;
pub mod keys;
pub mod layout;
pub mod openpgp;
pub mod store;
pub mod turn;

use credhelper::HelperInfo;
use credhelper::os::logging::LogDefaults;

/// What the helper says about itself in `--help`, `version` and its man page.
pub const INFO: HelperInfo = HelperInfo {
    name: "docker-credential-pass",
    version: env!("CARGO_PKG_VERSION"),
    about: "Keeps docker registry credentials in your pass store, encrypted with gpg to the keys in its .gpg-id.\n\
            Entries: $PASSWORD_STORE_DIR/docker-credential-helpers/<base64url(ServerURL)>/<Username>.gpg,\n\
            the same layout as the Go docker-credential-pass, so either reads what the other wrote.",
    details: "Environment:\n  \
        PASSWORD_STORE_DIR                 the pass store (default ~/.password-store)\n  \
        PASSWORD_STORE_KEY                 gpg key ids to encrypt to, overriding .gpg-id\n  \
        GNUPGHOME                          gpg's home (default ~/.gnupg)\n  \
        DOCKER_CREDENTIAL_PASS_GPG         the gpg program (default gpg)\n  \
        DOCKER_CREDENTIAL_PASS_PINENTRY    auto (default: prompt only with a terminal or display) or never\n  \
        DOCKER_CREDENTIAL_PASS_TIMEOUT     seconds to wait for gpg (default 10; 120 when it may prompt)\n  \
        DOCKER_CREDENTIAL_PASS_FAST_PATH   off: get runs gpg instead of asking gpg-agent directly\n  \
        DOCKER_CREDENTIAL_LOG              log level (off by default: error, warn, info, debug)\n  \
        DOCKER_CREDENTIAL_LOG_FILE         log file (default ~/.local/state/rust-credential-helpers/docker-credential-pass.log)\n\n\
        get returns the most recently stored username when a server has several.\n\
        get asks the running gpg-agent to decrypt and runs no gpg once it knows your keys\n\
        (learnt from gpg, kept in ~/.cache/rust-credential-helpers/).\n\
        If the store is a git repository, store and erase commit as pass does.",
    log: LogDefaults::OFF,
};

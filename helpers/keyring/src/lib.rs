//! docker-credential-keyring: docker registry credentials in the OS keyring. A library so that
//! the binary (`main.rs`) is one call.
#![deny(missing_docs)]

pub mod backend;
mod bounded;
#[cfg(all(unix, not(target_os = "macos")))]
mod dbus;
pub mod env;
mod errors;
#[cfg(target_os = "linux")]
mod keyutils;
#[cfg(all(unix, not(target_os = "macos")))]
mod secret_service;
#[cfg(not(target_os = "linux"))]
mod simple;

use credhelper::HelperInfo;
use credhelper::os::logging::LogDefaults;

/// What the helper says about itself in `--help`, `version` and its man page.
pub const INFO: HelperInfo = HelperInfo {
    name: "docker-credential-keyring",
    version: env!("CARGO_PKG_VERSION"),
    about: "Keeps docker registry credentials in the OS keyring: the Secret Service on Linux (gnome-keyring,\n\
            KeePassXC), interchangeable with docker-credential-secretservice; the Keychain on macOS; the\n\
            Credential Manager on Windows; or the Linux kernel keyring (keyutils) on request.",
    details: "Environment:\n  \
        DOCKER_CREDENTIAL_KEYRING_BACKEND  secret-service (Linux default) or keyutils (headless Linux, no D-Bus)\n  \
        DOCKER_CREDENTIAL_KEYRING_TIMEOUT  seconds to wait for the keyring (default 2; 60 with a display)\n  \
        DOCKER_CREDENTIAL_KEYRING_PERSIST  keyutils: 1 keeps credentials in the user's persistent keyring, readable by\n                                     every process of the user for days (default: the session keyring only)\n  \
        DBUS_SESSION_BUS_ADDRESS           the session bus, or several tried in order (a;b) (default unix:path=$XDG_RUNTIME_DIR/bus)\n  \
        DOCKER_CREDENTIAL_LOG              log level (off by default: error, warn, info, debug)\n  \
        DOCKER_CREDENTIAL_LOG_FILE         log file (default ~/.local/state/rust-credential-helpers/docker-credential-keyring.log)\n\n\
        Secret Service items: label = ServerURL, attributes xdg:schema=io.docker.Credentials,\n\
        label=\"Docker Credentials\", server, username, docker_cli=1 (as docker-credential-secretservice).\n\
        Other applications' items are never touched; items in locked collections are skipped (and logged)\n\
        unless nothing else is there. When a server has several usernames, get returns the alphabetically first.",
    log: LogDefaults::OFF,
};

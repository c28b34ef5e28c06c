//! keyring errors mapped to the protocol's, with what the user can do about each.

use credhelper::Error;

/// The name of the Linux kernel keyring in messages.
pub const KERNEL_KEYRING: &str = "kernel keyring";

/// Maps a keyring-core error; `what` names the store for the messages.
pub fn map(err: keyring_core::Error, what: &str) -> Error {
    use keyring_core::Error as K;
    match err {
        K::NoEntry => Error::NotFound,
        K::NoStorageAccess(e) if what == KERNEL_KEYRING => Error::backend(format!(
            "the {what} refused access ({e}): this process has no session keyring of its own; run the client under `keyctl session - …` or in a PAM login session (pam_keyinit)"
        )),
        K::NoStorageAccess(e) => Error::backend(format!(
            "the {what} is locked and cannot be unlocked here ({e}): unlock it first (log in to the desktop session, or `gnome-keyring-daemon --unlock`)"
        )),
        K::BadEncoding(_) => Error::backend(format!("the secret in the {what} is not UTF-8 text")),
        K::TooLong(name, limit) => Error::bad_input(format!(
            "the {name} is too long for the {what}: at most {limit} characters fit"
        )),
        K::Invalid(name, why) => Error::bad_input(format!("invalid {name} for the {what}: {why}")),
        K::PlatformFailure(e) => {
            let text = e.to_string();
            if text.contains("ServiceUnknown") || text.contains("org.freedesktop.secrets") {
                no_provider()
            } else {
                Error::backend(format!("the {what} failed: {text}"))
            }
        }
        other => Error::backend(format!("the {what} failed: {other}")),
    }
}

/// The session bus answers but nothing provides the Secret Service on it.
pub fn no_provider() -> Error {
    Error::backend(
        "no Secret Service on the D-Bus session bus: start one (gnome-keyring-daemon --start --components=secrets, or KeePassXC with its Secret Service integration), or set DOCKER_CREDENTIAL_KEYRING_BACKEND=keyutils",
    )
}

//! docker-credential-keyring: the thin binary over the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    credhelper::main(
        &docker_credential_keyring::backend::KeyringStore::from_env(),
        &docker_credential_keyring::INFO,
    )
}

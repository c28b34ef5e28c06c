//! docker-credential-pass: the thin binary over the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    credhelper::main(
        &docker_credential_pass::store::PassStore,
        &docker_credential_pass::INFO,
    )
}

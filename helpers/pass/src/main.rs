//! docker-credential-pass: the thin binary over the library.

use std::process::ExitCode;

use credhelper::logging::{self, LogDefaults};
use docker_credential_pass::{INFO, store};

fn main() -> ExitCode {
    logging::init(INFO.name, LogDefaults::default());
    credhelper::main(&store::PassStore, &INFO)
}

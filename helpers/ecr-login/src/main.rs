//! docker-credential-ecr-login: tokens for Amazon ECR and ECR Public.
//!
//! This binary answers cache hits, `list`, `store` and `erase` without the AWS SDK, so the call
//! inside every pull starts fast; on a miss it runs `docker-credential-ecr-login-fetch`.

mod front;

use std::process::ExitCode;

use credhelper::logging::{self, LogDefaults};

fn main() -> ExitCode {
    logging::init(
        ecr_login::INFO.name,
        LogDefaults {
            level: Some("info"),
            file: ecr_login::paths::log_file(),
        },
    );
    credhelper::main(&front::Front, &ecr_login::INFO)
}

//! docker-credential-ecr-login: tokens for Amazon ECR and ECR Public.
//!
//! This binary answers cache hits, `list`, `store` and `erase` without the AWS SDK, so the call
//! inside every pull starts fast; on a miss it runs `docker-credential-ecr-login-fetch`.

use std::process::ExitCode;

fn main() -> ExitCode {
    credhelper::main(&ecr_login::front::Front, &ecr_login::INFO)
}

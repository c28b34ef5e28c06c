//! docker-credential-ecr-login: tokens for Amazon ECR and ECR Public.
//!
//! This binary answers cache hits, `list`, `store` and `erase` without the AWS SDK, so the call
//! inside every pull starts fast; on a miss it runs `docker-credential-ecr-login-fetch`. With the
//! argument `kubelet-credential-provider` it is the kubelet's image credential provider plugin
//! instead (`ecr_login::kubelet`).

use std::ffi::OsString;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    if args.first().is_some_and(|a| a == ecr_login::kubelet::ARG) {
        return ecr_login::kubelet::main(&args[1..]);
    }
    credhelper::main(&ecr_login::front::Front, &ecr_login::INFO)
}

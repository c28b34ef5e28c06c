//! docker-credential-ecr-login-fetch: the part of docker-credential-ecr-login that links the AWS
//! SDK. The front runs it on a cache miss with one typed request on stdin (registry, identity,
//! endpoint, bound) and reads one typed reply on stdout (the token entry, or why there is none):
//! see `ecr_login::fetcher`. The cache, the lock and the token policy stay in the front.

mod aws;

use std::process::ExitCode;

fn main() -> ExitCode {
    ecr_login::fetcher::serve(aws::fetch)
}

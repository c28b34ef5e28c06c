//! What both ecr-login binaries share: registry recognition, configuration, the identity, the
//! token cache, the token policy and the typed protocol between the front and the fetcher.
//! Nothing here links the AWS SDK: the front binary, which answers cache hits, must stay small
//! to start fast.
#![deny(missing_docs)]

pub mod aws_files;
pub mod cache;
pub mod config;
pub mod fetcher;
pub mod front;
pub mod identity;
pub mod kubelet;
pub mod paths;
pub mod policy;
pub mod registry;
pub mod request;
pub mod token;

use std::time::Duration;

use credhelper::HelperInfo;
use credhelper::os::logging::LogDefaults;

/// Environment: seconds a `get` may take to fetch a token, all retries included (default 8).
pub const TIMEOUT_ENV: &str = "AWS_ECR_TIMEOUT";

/// The bound on fetching one token: credentials, IMDS and the API call, retries included.
pub fn timeout() -> Duration {
    credhelper::os::env::seconds(TIMEOUT_ENV, Duration::from_secs(8))
}

/// What both binaries say about themselves.
pub const INFO: HelperInfo = HelperInfo {
    name: "docker-credential-ecr-login",
    version: env!("CARGO_PKG_VERSION"),
    about: "Gets tokens for Amazon ECR and ECR Public through the AWS credential chain (environment,\n\
            profiles and SSO, web identity, container and instance roles) and caches them until half\n\
            of their lifetime has passed. store and erase are not implemented (the token comes from AWS).",
    details: "Environment:\n  \
        AWS_PROFILE, AWS_ACCESS_KEY_ID, ... the AWS SDK's credential chain\n  \
        AWS_ENDPOINT_URL_ECR, AWS_ENDPOINT_URL_ECR_PUBLIC, AWS_ENDPOINT_URL, AWS_EC2_METADATA_SERVICE_ENDPOINT\n  \
                                      endpoint overrides (an override wins over a FIPS host's FIPS endpoint)\n  \
        AWS_ECR_CACHE_DIR             cache and log directory (default ~/.ecr)\n  \
        AWS_ECR_DISABLE_CACHE=true    do not cache tokens\n  \
        AWS_ECR_IGNORE_CREDS_STORAGE=true  store and erase succeed silently (docker login works)\n  \
        AWS_ECR_CONFIG_FILE           per-registry profiles, roles and aliases (default ~/.ecr/config.json)\n  \
        AWS_ECR_TIMEOUT               seconds a fetch may take, retries included (default 8)\n  \
        DOCKER_CREDENTIAL_LOG         log level (default info; off, error, warn, debug, trace)\n  \
        DOCKER_CREDENTIAL_LOG_FILE    log file (default <cache dir>/log/ecr-login.log)\n\n\
        As the kubelet's image credential provider: docker-credential-ecr-login kubelet-credential-provider\n  \
        (name it with args: [kubelet-credential-provider] in the kubelet's CredentialProviderConfig).\n\n\
        Files: <cache dir>/token-cache.json (0600), <cache dir>/log/ecr-login.log (0600, rotated at 1 MiB);
        in a cache dir others may write, the same under <cache dir>/uid-<your uid>/ (0700).",
    log: LogDefaults {
        level: Some("info"),
        file: Some(paths::log_file),
    },
};

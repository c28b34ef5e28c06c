//! One integration-test binary: the built helpers against real peers, each test in a sandbox of
//! its own. Run through `tests/run.sh`, which installs the peers and builds the helpers first.

mod bad_input;
mod children;
mod configure;
mod deployments;
mod ecr_clients;
mod ecr_login;
mod ecr_oracle;
mod ecr_policy;
mod hostile_dirs;
mod keyring;
mod keyring_fast;
mod keyring_shared;
mod kubelet;
mod nss;
mod orchestrators;
mod pass_clients;
mod pass_fast;
mod pass_hand_made;
mod pass_interop;
mod pass_secrets;
mod pass_store;
mod reliability;

#!/usr/bin/env bash
# Builds the Debian packages, installs them into this machine with apt (which removes the Go
# amazon-ecr-credential-helper they replace), and runs the client tests against the installed
# binaries in /usr/bin: a package that installs but does not work fails here.
# Run it after tests/run.sh: the interop tests need the Go helpers that installing ours replaces.
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/deb.sh
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --allow-downgrades ./target/debian/rust-docker-credential-*.deb
for name in pass ecr-login keyring; do
  [ "$(command -v "docker-credential-$name")" = "/usr/bin/docker-credential-$name" ]
  man -w "docker-credential-$name" >/dev/null
done
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
# The tests that use the helpers the way clients do (none that needs a Go oracle).
DCH_BIN_DIR=/usr/bin cargo test --locked -p integration-tests --test integration -- \
  pass_clients pass_store keyring::store_get keyring::docker ecr_login:: ecr_clients deployments \
  2>&1 | tee "$log" || status=$?
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "packages: %d passed, %d failed\n", p, f }' "$log"
exit "$status"

#!/usr/bin/env bash
# Runs the whole test suite on a Debian/Ubuntu machine: installs the test peers that are missing,
# builds the helpers, then runs every unit and integration test.
#   tests/run.sh                 everything
#   tests/run.sh NAME            only tests whose name contains NAME
# Under CI=true a missing peer fails its tests instead of skipping them.
set -euo pipefail
cd "$(dirname "$0")/.."

# The peers the integration tests start, and what the helpers build against.
PACKAGES=(
  gnupg pass git                              # docker-credential-pass and its store
  docker-registry apache2-utils openssl       # a real registry with TLS + htpasswd
  skopeo podman                               # real clients that use credHelpers
  golang-docker-credential-helpers            # the Go helpers: interop and output oracles
  amazon-ecr-credential-helper                #   (and the Go ecr-login)
  python3 python3-venv                        # the TLS proxy for the Go ecr-login; moto's venv
  dbus gnome-keyring libsecret-tools keyutils python3-keyring # a private Secret Service; the kernel keyring
  libnss-systemd libnss-myhostname            # NSS modules the helpers load (tests/nss.rs); the
                                              #   second adds `myhostname` to nsswitch's hosts
  golang-go golang-k8s-sigs-json-dev          # the kubelet's side of the plugin protocol
                                              #   (tests/kubelet/oracle.go, GOPATH mode)
)
command -v docker >/dev/null || PACKAGES+=(docker.io)

# Our own packages (packaging/test-deb.sh installs them) take over the Go oracles' files: put
# the oracles back.
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
ours=$( (dpkg-query -W -f='${Package} ${Status}\n' 'rust-docker-credential-*' 2>/dev/null || true) | awk '/install ok installed/ {print $1}' | xargs)
if [ -n "$ours" ]; then
  echo "tests/run.sh: removing $ours, which replace the Go helpers the interop tests compare against" >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get remove -y $ours
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --reinstall --no-install-recommends golang-docker-credential-helpers
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "tests/run.sh: installing ${missing[*]}" >&2
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi

# moto (one ECR realism test) lives in a venv of the project's own, under target/.
VENV=$(realpath -m "${PEERS_VENV:-target/peers-venv}")
if ! "$VENV/bin/python" -c 'import moto, flask' 2>/dev/null; then
  echo "tests/run.sh: installing moto into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q 'moto[server]==5.2.5'
fi
export PEERS_VENV=$VENV

# The integration tests run the built binaries, so build them first (cargo test alone does not
# build another package's binaries).
cargo build --locked --workspace --bins
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo test --locked --workspace -- "$@" 2>&1 | tee "$log" || status=$?
# One closing line for the whole suite, summed over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"

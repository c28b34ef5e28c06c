#!/usr/bin/env bash
# Builds and installs the helpers from this checkout, with their man pages: the binaries the
# Debian packages ship (the `dist` profile: fat LTO, stripped, abort on panic), not `release`.
#   packaging/install.sh                 into ~/.local (or /usr/local when run as root)
#   PREFIX=/opt/dch packaging/install.sh into /opt/dch/bin and /opt/dch/share/man/man1
#   packaging/install.sh --uninstall     removes what it installed (same PREFIX rules)
# Installs the Debian packages the helpers need at run time (gnupg, pass) and help2man (which
# turns each helper's --help into its man page) if missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${PREFIX:-}" ]; then
  if [ "$(id -u)" = 0 ]; then PREFIX=/usr/local; else PREFIX=$HOME/.local; fi
fi
# The ecr-login front runs its fetcher from its own directory: they are installed together.
BINARIES=(docker-credential-pass docker-credential-ecr-login docker-credential-ecr-login-fetch docker-credential-keyring)
declare -A SUMMARY=(
  [pass]="Docker credential helper on the pass store"
  [ecr-login]="Docker credential helper for Amazon ECR and ECR Public"
  [keyring]="Docker credential helper on the OS keyring"
)

if [ "${1:-}" = --uninstall ]; then
  for bin in "${BINARIES[@]}"; do rm -fv "$PREFIX/bin/$bin"; done
  for name in "${!SUMMARY[@]}"; do rm -fv "$PREFIX/share/man/man1/docker-credential-$name.1"; done
  exit 0
fi

PACKAGES=(gnupg pass help2man)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi

# The same build as packaging/deb.sh, so what is installed is what the packages ship (and a
# later deb.sh reuses it). `release` would install a 17 MB unstripped fetcher.
cargo build --locked --profile dist --workspace --bins
out=${CARGO_TARGET_DIR:-target}/dist
mkdir -p "$PREFIX/bin" "$PREFIX/share/man/man1"
for bin in "${BINARIES[@]}"; do
  # install(1) replaces the file (a new inode): a helper running meanwhile keeps its old binary.
  install -m 0755 "$out/$bin" "$PREFIX/bin/$bin"
done

# Man pages from the same text as --help.
for name in "${!SUMMARY[@]}"; do
  help2man --no-info --section=1 --name "${SUMMARY[$name]}" \
    --output "$PREFIX/share/man/man1/docker-credential-$name.1" "$PREFIX/bin/docker-credential-$name"
done
echo "installed into $PREFIX/bin (man pages in $PREFIX/share/man/man1); make sure $PREFIX/bin comes before /usr/bin on your PATH" >&2

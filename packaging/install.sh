#!/usr/bin/env bash
# Builds and installs the helpers from this checkout, with their man pages.
#   packaging/install.sh                 into ~/.local (or /usr/local when run as root)
#   PREFIX=/opt/dch packaging/install.sh into /opt/dch/bin and /opt/dch/share/man/man1
# Installs the Debian packages the helpers need at run time (gnupg, pass) and help2man (which
# turns each helper's --help into its man page) if missing.
# Uninstall: cargo uninstall --root PREFIX docker-credential-pass docker-credential-ecr-login
#   docker-credential-keyring, and remove PREFIX/share/man/man1/docker-credential-*.1
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${PREFIX:-}" ]; then
  if [ "$(id -u)" = 0 ]; then PREFIX=/usr/local; else PREFIX=$HOME/.local; fi
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

for helper in helpers/*/; do
  cargo install --locked --force --path "$helper" --root "$PREFIX"
done

# Man pages from the same text as --help.
mkdir -p "$PREFIX/share/man/man1"
declare -A SUMMARY=(
  [pass]="Docker credential helper on the pass store"
  [ecr-login]="Docker credential helper for Amazon ECR and ECR Public"
  [keyring]="Docker credential helper on the OS keyring"
)
for name in "${!SUMMARY[@]}"; do
  help2man --no-info --section=1 --name "${SUMMARY[$name]}" \
    --output "$PREFIX/share/man/man1/docker-credential-$name.1" "$PREFIX/bin/docker-credential-$name"
done
echo "installed into $PREFIX/bin (man pages in $PREFIX/share/man/man1); make sure $PREFIX/bin comes before /usr/bin on your PATH" >&2

#!/usr/bin/env bash
# Install what upci needs to build and test on Debian 12 (bookworm), from
# Debian's own packages. Safe to run again: it installs only what is missing.
set -euo pipefail

# libpci-dev + pci.ids: names in upci info/list; pciutils: the lspci/setpci
# the CLI tests compare upci against.
PKGS=(gcc meson ninja-build pkg-config libcmocka-dev libjson-c-dev clang libclang-rt-14-dev libpci-dev pci.ids pciutils)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "setup: all packages present (${PKGS[*]})"
	exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
	SUDO=sudo
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

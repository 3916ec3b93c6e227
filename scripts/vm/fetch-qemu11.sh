#!/usr/bin/env bash
# Fetch QEMU 11.x (it has the vfio-user-pci client) from Debian
# trixie-backports without touching the host: a private apt state downloads
# qemu-system-x86 and its whole dependency closure, dpkg -x unpacks them under
# the cache, and a wrapper runs QEMU through the bundled dynamic loader.
#
#   scripts/vm/fetch-qemu11.sh          # prints the wrapper path on success
#
# Result (under ${UPCI_CACHE:-$HOME/.cache/upci}/qemu11):
#   qemu-system-x86_64   wrapper script; use it like any qemu-system-x86_64
#   env                  "UPCI_QEMU11=<wrapper>" and the version, for sourcing
#
# Idempotent: once it has worked, later runs only re-check the wrapper.
# Exit status: 0 ok, 77 skip (cannot download: no apt or no archive), 1 error.
# The Debian archive is the one apt already uses (UPCI_DEBIAN_MIRROR overrides).
set -euo pipefail

CACHE=${UPCI_CACHE:-$HOME/.cache/upci}
D=$CACHE/qemu11
W=$D/qemu-system-x86_64
SUITE=${UPCI_QEMU11_SUITE:-trixie-backports}

say() { echo "fetch-qemu11: $*" >&2; }
skip() { say "skip: $*"; exit 77; }
die() { say "error: $*"; exit 1; }

# debian_mirror, private_apt
. "$(dirname "$0")/apt-private.sh"

# Checks the wrapper; prints the version line.
verify() {
	local v devs
	v=$("$W" --version 2>&1 | head -n1) || { say "wrapper does not run: $v"; return 1; }
	case "$v" in
	*"version 11."*) ;;
	*"version 1"[0-9].*) say "note: expected 11.x, got: $v" ;;
	*) say "unexpected version: $v"; return 1 ;;
	esac
	devs=$("$W" -machine none -device help 2>&1) || true
	if ! grep -q '"vfio-user-pci"' <<<"$devs"; then
		say "$v has no vfio-user-pci device"
		return 1
	fi
	echo "$v"
}

report() {
	printf 'UPCI_QEMU11=%q\nUPCI_QEMU11_VERSION=%q\n' "$W" "$1" >"$D/env"
	say "ok: $1 (vfio-user-pci present)"
	say "run: $W ...   (env: $D/env)"
	echo "$W"
}

# The wrapper, plus a "qemu-bundle" link next to the loader. QEMU takes the
# loader's directory for its own, finds <dir>/qemu-bundle and then looks for
# its modules and data under it rather than in the host's /usr/lib/.../qemu.
# QEMU_MODULE_DIR alone only puts our directory first: a module missing here
# (ui-opengl, ...) is then loaded from a host QEMU 7.2 and QEMU aborts.
make_wrapper() {
	local R=$D/root L=$D/root/usr/lib/x86_64-linux-gnu
	[ -x "$R/usr/bin/qemu-system-x86_64" ] || die "no usr/bin/qemu-system-x86_64 in the unpacked packages"
	[ -e "$L/ld-linux-x86-64.so.2" ] || die "no bundled ld-linux-x86-64.so.2"
	[ "$(readlink "$L/qemu-bundle" 2>/dev/null)" = ../../.. ] || ln -sfn ../../.. "$L/qemu-bundle"
	cat >"$W.new" <<EOF
#!/bin/sh
# QEMU from Debian $SUITE, unpacked by scripts/vm/fetch-qemu11.sh. Runs
# through its own loader and libraries; modules and firmware from the same tree.
R='$R'
QEMU_MODULE_DIR="\$R/usr/lib/x86_64-linux-gnu/qemu"
export QEMU_MODULE_DIR
exec "\$R/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" \\
	--library-path "\$R/usr/lib/x86_64-linux-gnu:\$R/lib/x86_64-linux-gnu" \\
	"\$R/usr/bin/qemu-system-x86_64" \\
	-L "\$R/usr/share/qemu" -L "\$R/usr/share/seabios" -L "\$R/usr/lib/ipxe/qemu" "\$@"
EOF
	chmod +x "$W.new"
	if cmp -s "$W.new" "$W"; then rm -f "$W.new"; else mv "$W.new" "$W"; fi
}

mkdir -p "$CACHE"
exec 9>"$CACHE/.qemu11.lock"
flock 9

if [ -f "$D/.ok" ] && [ -d "$D/root" ] && make_wrapper && v=$(verify); then
	report "$v"
	exit 0
fi
rm -f "$D/.ok"

private_apt "$D" trixie "$SUITE"
A=("${PRIVATE_APT[@]}")
say "download qemu-system-x86 from $SUITE and its dependencies"
if ! out=$(apt-get "${A[@]}" -y -t "$SUITE" install --download-only --no-install-recommends qemu-system-x86 2>&1); then
	printf '%s\n' "$out" | tail -n 5 >&2
	skip "cannot download qemu-system-x86 from $SUITE"
fi

say "unpack $(ls "$D"/cache/archives/*.deb | wc -l) packages"
rm -rf "$D/root.new"
mkdir -p "$D/root.new"
for f in "$D"/cache/archives/*.deb; do
	dpkg -x "$f" "$D/root.new"
done
rm -rf "$D/root"
mv "$D/root.new" "$D/root"

make_wrapper
v=$(verify) || die "the unpacked QEMU does not work (see above)"
touch "$D/.ok"
report "$v"

#!/usr/bin/env bash
# Build a test initramfs for run-guest.sh:
#
#   scripts/vm/mkinitramfs.sh [--test SCRIPT] [--module NAME]... [--no-modules] OUT.cpio.gz [FILE[=/guest/path]]...
#
# It holds busybox (/bin/busybox), /init (scripts/vm/guest-init.sh), the vfio
# modules of the cached guest kernel in load order (irqbypass, vfio,
# vfio_iommu_type1, vfio_virqfd, vfio-pci-core, vfio-pci and whatever they
# depend on; modules a kernel lacks or has built in are skipped), every FILE
# (static binaries: into /bin/<name>, or at /guest/path if given), and SCRIPT
# as /test.sh, which /init runs after binding the devices (see guest-init.sh).
# --module NAME adds one more module of the cached kernel (e.g. mdev);
# --no-modules packs none (a kernel with VFIO built in, build-kernel.sh's).
# Runs fetch-guest.sh first if the guest files are not cached yet.
# Exit status: 0 ok, 77 skip (guest files cannot be downloaded), 1 error.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${UPCI_CACHE:-$HOME/.cache/upci}

say() { echo "mkinitramfs: $*" >&2; }
die() { say "error: $*"; exit 1; }
usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

TEST=""
MODS=(irqbypass vfio vfio_iommu_type1 vfio_virqfd vfio-pci-core vfio-pci)
while [ $# -gt 0 ]; do
	case "$1" in
	--test) TEST=${2:?--test needs a file}; shift 2 ;;
	--module) MODS+=("${2:?--module needs a name}"); shift 2 ;;
	--no-modules) MODS=(); shift ;;
	-h | --help) usage ;;
	--) shift; break ;;
	-*) die "unknown option $1" ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || usage
OUT=$1
shift

if [ ! -f "$CACHE/guest/env" ]; then
	rc=0
	"$HERE/fetch-guest.sh" || rc=$?
	[ $rc -eq 0 ] || exit $rc
fi
# shellcheck source=/dev/null
. "$CACHE/guest/env"
[ -x "$UPCI_BUSYBOX" ] || die "no busybox at $UPCI_BUSYBOX (run scripts/vm/fetch-guest.sh)"
[ -z "$TEST" ] || [ -f "$TEST" ] || die "no test script $TEST"

S=$(mktemp -d "${TMPDIR:-/tmp}/upci-initramfs.XXXXXX")
trap 'rm -rf "$S"' EXIT
mkdir -p "$S"/{bin,sbin,dev,proc,sys,tmp,run,etc,lib/modules/upci}
cp "$UPCI_BUSYBOX" "$S/bin/busybox"
ln -s busybox "$S/bin/sh"
cp "$HERE/guest-init.sh" "$S/init"
chmod 755 "$S/init"
# Root can put a console node in; otherwise /init reopens it from devtmpfs.
mknod "$S/dev/console" c 5 1 2>/dev/null || true

# Modules: the wanted ones and their dependencies (from .modinfo), deps first.
MD=$UPCI_GUEST_MODULES
declare -A seen=()
order=()
modfile() { # modfile NAME: the .ko for a module name, - and _ alike
	local n=${1//-/_} f
	for f in "$MD"/*.ko; do
		[ -e "$f" ] || continue
		f=$(basename "$f" .ko)
		[ "${f//-/_}" = "$n" ] && { echo "$f"; return 0; }
	done
	return 1
}
visit() {
	local m d deps
	m=$(modfile "$1") || return 0 # built in, or not in this kernel
	[ -z "${seen[$m]:-}" ] || return 0
	seen[$m]=1
	deps=$(tr '\0' '\n' <"$MD/$m.ko" | sed -n 's/^depends=//p' | head -n1)
	for d in ${deps//,/ }; do visit "$d"; done
	order+=("$m")
}
for m in ${MODS[@]+"${MODS[@]}"}; do visit "$m"; done
for m in "${order[@]}"; do cp "$MD/$m.ko" "$S/lib/modules/upci/"; done
printf '%s\n' "${order[@]}" >"$S/lib/modules/upci/order"

bins=()
for f in "$@"; do
	src=${f%%=*} dst=""
	[ "$src" != "$f" ] && dst=${f#*=}
	[ -f "$src" ] || die "no such file: $src"
	[ -n "$dst" ] || dst=/bin/$(basename "$src")
	case "$dst" in /*) ;; *) die "guest path must be absolute: $dst" ;; esac
	mkdir -p "$S$(dirname "$dst")"
	cp "$src" "$S$dst"
	if command -v file >/dev/null && [[ "$(file -L "$src")" == *"dynamically linked"* ]]; then
		say "warning: $src is dynamically linked; the guest has no libc (build it with gcc -static)"
	fi
	bins+=("$dst")
done
if [ -n "$TEST" ]; then
	cp "$TEST" "$S/test.sh"
	chmod 755 "$S/test.sh"
fi

mkdir -p "$(dirname "$OUT")"
(cd "$S" && find . | LC_ALL=C sort | "$UPCI_BUSYBOX" cpio -o -H newc -R 0:0 2>/dev/null) | gzip -1 >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
say "$OUT ($(($(stat -c %s "$OUT") / 1024)) KiB): kernel $UPCI_GUEST_KVER, modules: ${order[*]:-none}${bins[*]:+, files: ${bins[*]}}${TEST:+, /test.sh}"

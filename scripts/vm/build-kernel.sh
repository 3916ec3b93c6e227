#!/usr/bin/env bash
# Build a small x86_64 guest kernel with iommufd and the VFIO device cdev
# (CONFIG_IOMMUFD, CONFIG_VFIO_DEVICE_CDEV: no Debian kernel enables them),
# from Debian's linux-source-6.12 package, for tests/vm/vfio/run.sh iommufd.
#
#   scripts/vm/build-kernel.sh        # prints the kernel image path on stdout
#
# The source package comes from trixie through a private apt state (as
# fetch-qemu11.sh does; the host's apt is not touched). The kernel starts
# from `make tinyconfig` plus the options below, everything built in (no
# modules): what the guest's /init, busybox and the static upci binaries
# need, ACPI + the Intel IOMMU with interrupt remapping (QEMU's
# intel-iommu,intremap=on), VFIO with both the group/type1 container and
# the cdev, iommufd, and PVH so run-guest.sh boots the ELF vmlinux directly.
# The host build tools it lacks (flex, bison, libelf-dev, ...) are installed
# with apt-get when we are root or have password-less sudo.
#
# Result under ${UPCI_CACHE:-$HOME/.cache/upci}/kernel-iommufd/:
#   <source version>-<config hash>/vmlinux   PVH ELF image (bzImage beside it)
#   <source version>-<config hash>/config    the full .config
#   env   UPCI_IOMMUFD_KERNEL (the image to boot), UPCI_IOMMUFD_KVER, for sourcing
# The unpacked source, the build tree and the apt state are deleted afterwards.
#
# Idempotent, locked, and offline once it has worked: a cached build of the
# same configuration is reused without asking apt (UPCI_KERNEL_REFRESH=1
# resolves the source package again). Env: UPCI_DEBIAN_MIRROR (archive),
# UPCI_KERNEL_SUITE (default trixie), UPCI_KERNEL_SOURCE (default
# linux-source-6.12), UPCI_KERNEL_JOBS (default: number of CPUs).
# Exit status: 0 ok, 77 skip (cannot download the source or install the
# build tools; the reason is printed), 1 error (the build log's tail is printed).
set -euo pipefail

CACHE=${UPCI_CACHE:-$HOME/.cache/upci}
D=$CACHE/kernel-iommufd
SUITE=${UPCI_KERNEL_SUITE:-trixie}
SRCPKG=${UPCI_KERNEL_SOURCE:-linux-source-6.12}
JOBS=${UPCI_KERNEL_JOBS:-$(nproc 2>/dev/null || echo 2)}

say() { echo "build-kernel: $*" >&2; }
skip() { say "skip: $*"; exit 77; }
die() { say "error: $*"; exit 1; }

# Added to tinyconfig. Every line is checked in the final .config, so an
# option Kconfig silently drops (a missing dependency) fails the build.
FRAGMENT='
# the guest: console on ttyS0, initramfs (gzip), /init under busybox
CONFIG_64BIT=y
CONFIG_PRINTK=y
CONFIG_TTY=y
CONFIG_SERIAL_8250=y
CONFIG_SERIAL_8250_CONSOLE=y
CONFIG_BLK_DEV_INITRD=y
CONFIG_RD_GZIP=y
CONFIG_BINFMT_ELF=y
CONFIG_BINFMT_SCRIPT=y
CONFIG_PROC_FS=y
CONFIG_SYSFS=y
CONFIG_DEVTMPFS=y
CONFIG_TMPFS=y
CONFIG_SHMEM=y
CONFIG_MULTIUSER=y
CONFIG_POSIX_TIMERS=y
CONFIG_FUTEX=y
CONFIG_FILE_LOCKING=y
CONFIG_ADVISE_SYSCALLS=y
# upci: eventfds in an epoll set, memfds, flock on the cdev
CONFIG_EPOLL=y
CONFIG_EVENTFD=y
CONFIG_SIGNALFD=y
CONFIG_TIMERFD=y
# AF_UNIX: vfio-user sockets (the conformance suite opens one; upci serve)
CONFIG_NET=y
CONFIG_UNIX=y
# guest_exit: outb to isa-debug-exit
CONFIG_X86_IOPL_IOPERM=y
# PVH: QEMU loads the ELF vmlinux directly (no decompression, faster boot)
CONFIG_HYPERVISOR_GUEST=y
CONFIG_PVH=y
# PCI with MSI; ACPI for the DMAR table and INTx routing
CONFIG_ACPI=y
CONFIG_PCI=y
CONFIG_PCI_MSI=y
CONFIG_PCI_MMCONFIG=y
# CONFIG_ACPI_AC is not set
# CONFIG_ACPI_BATTERY is not set
# CONFIG_ACPI_BUTTON is not set
# CONFIG_ACPI_FAN is not set
# CONFIG_ACPI_THERMAL is not set
# the IOMMU, with interrupt remapping (isolated MSI, which VFIO wants)
CONFIG_IOMMU_SUPPORT=y
CONFIG_INTEL_IOMMU=y
CONFIG_IRQ_REMAP=y
CONFIG_X86_X2APIC=y
# VFIO: the cdev with iommufd, and the group with a type1 container
CONFIG_IOMMUFD=y
CONFIG_VFIO=y
CONFIG_VFIO_DEVICE_CDEV=y
CONFIG_VFIO_GROUP=y
CONFIG_VFIO_CONTAINER=y
CONFIG_VFIO_IOMMU_TYPE1=y
CONFIG_VFIO_PCI=y
# less to build: no modules, no mitigations, gzip only (bzImage fallback
# and initramfs), no VT/keyboard (serial console only)
# CONFIG_MODULES is not set
# CONFIG_CPU_MITIGATIONS is not set
CONFIG_KERNEL_GZIP=y
# CONFIG_RD_BZIP2 is not set
# CONFIG_RD_LZMA is not set
# CONFIG_RD_XZ is not set
# CONFIG_RD_LZO is not set
# CONFIG_RD_LZ4 is not set
# CONFIG_RD_ZSTD is not set
# CONFIG_VT is not set
# CONFIG_INPUT is not set
# CONFIG_SERIO is not set
# CONFIG_HID is not set
# CONFIG_ETHTOOL_NETLINK is not set
'
# Bump to rebuild when the way of building changes but the options do not.
RECIPE=1
HASH=$(printf '%s\n%s\n' "$RECIPE" "$FRAGMENT" | sha256sum | cut -c1-12)

# debian_mirror, private_apt
. "$(dirname "$0")/apt-private.sh"

# A finished build of this configuration (newest source version first).
cached_build() {
	local k
	k=$(ls -1d "$D"/*-"$HASH" 2>/dev/null | sort -V | tail -n1) || true
	[ -n "$k" ] && [ -f "$k/.ok" ] && echo "$k"
	return 0
}

report() {
	local k=$1 img=$1/vmlinux
	[ -f "$img" ] || img=$k/bzImage
	{
		printf 'UPCI_IOMMUFD_KERNEL=%q\n' "$img"
		printf 'UPCI_IOMMUFD_KVER=%q\n' "$(cat "$k/kver")"
	} >"$D/env.new"
	mv "$D/env.new" "$D/env"
	say "ok: Linux $(cat "$k/kver") ($(basename "$k")), $(($(stat -c %s "$img") / 1024)) KiB $(basename "$img")"
	echo "$img"
}

# Host tools the kernel build needs; installs the missing ones if it can.
need_tools() {
	local pkgs=(make gcc libc6-dev flex bison bc libelf-dev xz-utils binutils) missing=() p sudo=""
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null && sudo -n true 2>/dev/null || skip "build tools missing (${missing[*]}), and no root/sudo to install them"
		sudo=sudo
	fi
	say "apt-get install ${missing[*]} (host build tools)"
	if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$D/apt-host.log" 2>&1; then
		$sudo apt-get -qq update >/dev/null 2>&1 || true
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$D/apt-host.log" 2>&1 ||
			{ tail -n 3 "$D/apt-host.log" >&2; skip "cannot install the build tools (${missing[*]})"; }
	fi
}

mkdir -p "$D"
exec 9>"$CACHE/.kernel-iommufd.lock"
flock 9
rm -rf "$D"/tmp.* # left by an interrupted run

if [ "${UPCI_KERNEL_REFRESH:-0}" != 1 ] && k=$(cached_build) && [ -n "$k" ]; then
	report "$k"
	exit 0
fi

# Private apt state: only the suite's package lists, nothing installed.
A=$D/apt
private_apt "$A" "$SUITE"
APT=("${PRIVATE_APT[@]}")
VER=$(apt-cache "${APT[@]}" policy "$SRCPKG" 2>/dev/null | awk '$1 == "Candidate:" { print $2 }')
[ -n "$VER" ] && [ "$VER" != "(none)" ] || skip "$SUITE has no $SRCPKG"
K=$D/$VER-$HASH
if [ -f "$K/.ok" ]; then
	report "$K"
	exit 0
fi

need_tools

T=$(mktemp -d "$D/tmp.XXXXXX")
# The tree is ~2 GB: never leave it behind (a failed build's log is kept).
trap 'rm -rf "$T"' EXIT
say "download $SRCPKG $VER"
if ! (cd "$T" && apt-get "${APT[@]}" download "$SRCPKG=$VER") >"$T/apt.log" 2>&1; then
	tail -n 3 "$T/apt.log" >&2
	skip "cannot download $SRCPKG $VER"
fi
t0=$(date +%s)
say "unpack"
tarball=$(dpkg --fsys-tarfile "$T"/*.deb | tar -t | grep -m1 -E '^\./usr/src/linux-source-[^/]*\.tar\.xz$') ||
	die "$SRCPKG has no ./usr/src/linux-source-*.tar.xz"
dpkg --fsys-tarfile "$T"/*.deb | tar -xO "$tarball" | xz -dc -T0 | tar -x -C "$T"
rm -f "$T"/*.deb
S=$(ls -1d "$T"/linux-source-* | head -n1)
[ -f "$S/Makefile" ] || die "no kernel tree in $SRCPKG"

say "configure: tinyconfig + $(grep -c '^CONFIG_\|^# CONFIG_' <<<"$FRAGMENT") options (config $HASH)"
printf '%s\n' "$FRAGMENT" >"$T/fragment.config"
MK=(make -C "$S" ARCH=x86_64 KBUILD_BUILD_USER=upci KBUILD_BUILD_HOST=upci)
{
	"${MK[@]}" tinyconfig &&
		(cd "$S" && scripts/kconfig/merge_config.sh -m .config "$T/fragment.config") &&
		"${MK[@]}" olddefconfig
} >"$T/config.log" 2>&1 || { tail -n 20 "$T/config.log" >&2; die "configuration failed"; }
cp "$S/.config" "$D/last.config"
bad=0
while read -r line; do
	case "$line" in
	CONFIG_*=*) grep -qxF "$line" "$S/.config" || { say "option dropped by Kconfig: $line"; bad=1; } ;;
	"# CONFIG_"*" is not set")
		o=${line#\# }
		o=${o%% *}
		if grep -q "^$o=" "$S/.config"; then say "option forced on by Kconfig: $o"; bad=1; fi
		;;
	esac
done <<<"$FRAGMENT"
[ $bad -eq 0 ] || die "the configuration is not what was asked for (see above; $D/last.config)"

say "make -j$JOBS vmlinux bzImage (some minutes)"
t1=$(date +%s)
if ! "${MK[@]}" -j"$JOBS" vmlinux bzImage >"$T/build.log" 2>&1; then
	grep -E 'error|Error' "$T/build.log" | head -n 20 >&2 || true
	tail -n 20 "$T/build.log" >&2
	cp "$T/build.log" "$D/last-build.log"
	die "kernel build failed (log: $D/last-build.log)"
fi
t2=$(date +%s)
KVER=$("${MK[@]}" -s kernelrelease 2>/dev/null) || KVER=$VER

rm -rf "$K" "$K.new"
mkdir -p "$K.new"
cp "$S/vmlinux" "$K.new/vmlinux"
cp "$S/arch/x86/boot/bzImage" "$K.new/bzImage"
cp "$S/.config" "$K.new/config"
printf '%s\n' "$KVER" >"$K.new/kver"
printf 'source %s %s, config %s: unpack+configure %ss, build %ss (-j%s)\n' "$SRCPKG" "$VER" "$HASH" \
	$((t1 - t0)) $((t2 - t1)) "$JOBS" >"$K.new/build-info"
# run-guest.sh boots an ELF image through PVH only if it carries the note.
if command -v readelf >/dev/null && ! readelf -n "$K.new/vmlinux" 2>/dev/null | grep -q '^ *Xen .*(0x00000012)'; then
	say "warning: vmlinux has no PVH entry note: the bzImage is used"
	rm -f "$K.new/vmlinux"
fi
touch "$K.new/.ok"
mv "$K.new" "$K"
rm -rf "$T" "$A" "$D/last.config" "$D/last-build.log" # the lists are only needed to build again
# Older builds of this configuration are superseded.
for old in "$D"/*-"$HASH"; do [ "$old" = "$K" ] || rm -rf "$old"; done
say "built: $(cat "$K/build-info")"
report "$K"

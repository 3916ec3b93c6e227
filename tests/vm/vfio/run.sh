#!/usr/bin/env bash
# One VFIO test in a Linux guest under QEMU TCG (see docs/linux-vfio.md):
#
#   tests/vm/vfio/run.sh [--static DIR] CASE
#
#   edu              upci-conformance vfio: on QEMU's edu (QEMU 7.2, and 11.x
#                    with the 4096-byte DMA case), vfio_api, upci irq --fire
#   nvme             QEMU's NVMe: upci info, upci irq, 65 MSI-X vectors
#                    (nvme_msix fires 6 of them), the generic conformance
#                    cases, FLR
#   host             upci list / bind / unbind on a mixed topology: drivers
#                    restored, a shared IOMMU group refused, hot reset of a
#                    device that shares its bus, bus reset behind a root port
#   iommufd          our own 6.12 kernel (scripts/vm/build-kernel.sh: IOMMUFD,
#                    VFIO_DEVICE_CDEV and the group/type1 path built in; the
#                    first run builds it, 7-8 min on 2 cores, then cached) on
#                    QEMU 7.2 with edu, NVMe, a bridged group and a root port:
#                    the library picks iommufd + the cdev by itself (its log and
#                    the files it holds say so), a user owning only the group
#                    node gets the group; conformance with UPCI_VFIO_PATH=iommufd
#                    and =group, each blocking DMA to an unmapped IOVA (DMAR
#                    faults); vfio_api; upci irq MSI and INTx; hot reset and
#                    bus reset, upci serve, NVMe MSI-X queues and FLR, all
#                    through iommufd
#   bench            bench-vfio on edu (figures printed; never a timed test)
#   nvme-driver      examples/nvme (upci-nvme) on QEMU's NVMe through vfio:
#                    and through upci serve + vfio-user:, every byte of a
#                    disk image the host wrote checked, and its bench next
#                    to the guest kernel's nvme driver on a second controller
#   vfio-user-guest  in the guest: upci serve vfio:<edu> + conformance with
#                    vfio-user: (needs 'upci serve')
#   vfio-user-host   on the host: upci serve sim:edu; QEMU 11 vfio-user-pci
#                    with shared memory; the guest binds it to vfio-pci and
#                    runs conformance with vfio: (needs 'upci serve')
#   vfio-user-testdev  the same with upci serve 'sim:testdev?vectors=256'
#                    (a BAR offered by fd, 256 MSI-X vectors; 4 guest CPUs)
#   vfio-user-gpio   the example GPIO card (examples/gpio, written against
#                    upci/model.h alone) served by its own program on the
#                    host; the guest finds 1af4:10f1 in sysfs and gpio_guest
#                    drives it through kernel VFIO (registers, MSI, INTx)
#   lspci            upci info / upci config compared with the build host's
#                    lspci / setpci (pciutils and its libraries packed in)
#                    on edu and pci-serial, read through sysfs; a third
#                    function bound to vfio-pci, driven through VFIO
#
# --static DIR: where the static build of upci lives (meson passes
# BUILD/vm-static; by hand: $UPCI_VM_STATIC, else
# $UPCI_CACHE/vm-static-<hash of the source path>). Exit: 0 pass, 1 fail,
# 77 skip (cannot download the guest, QEMU or the kernel source, or a feature is missing; the
# reason is printed). Env: UPCI_CACHE, UPCI_VM_TIMEOUT (per boot, s).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../../.." && pwd)
VM=$SRC/scripts/vm
CACHE=${UPCI_CACHE:-$HOME/.cache/upci}
# One static build per source tree (a meson build dir belongs to its tree).
STATIC=${UPCI_VM_STATIC:-$CACHE/vm-static-$(printf %s "$SRC" | md5sum | cut -c1-8)}
TIMEOUT=${UPCI_VM_TIMEOUT:-300}

while [ $# -gt 0 ]; do
	case "$1" in
	--static) STATIC=${2:?}; shift 2 ;;
	-h | --help) sed -n '2,46p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) break ;;
	esac
done
CASE=${1:?usage: run.sh [--static DIR] CASE (see --help)}
say() { echo "vm-vfio[$CASE]: $*"; }
skip() { say "SKIP: $*"; exit 77; }
die() { say "FAIL: $*"; exit 1; }

case "$CASE" in
edu | nvme | nvme-driver | host | iommufd | bench | vfio-user-guest | vfio-user-host | vfio-user-testdev | vfio-user-gpio | lspci) ;;
*) echo "run.sh: unknown case '$CASE' (see --help)" >&2; exit 2 ;;
esac

rc=0
"$VM/fetch-guest.sh" || rc=$?
[ $rc -eq 77 ] && skip "cannot download the guest kernel or busybox"
[ $rc -eq 0 ] || die "fetch-guest.sh exited $rc"

B=$("$HERE/build-static.sh" "$SRC" "$STATIC") || die "cannot build the static guest binaries"

W=$(mktemp -d "${TMPDIR:-/tmp}/upci-vm-vfio.XXXXXX")
SERVER_PID=""
cleanup() {
	if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
	rm -rf "$W"
}
trap cleanup EXIT

have_serve() { "$B/tools/upci" serve --help >/dev/null 2>&1; }

# initrd NAME GUEST_SCRIPT [VAR=VALUE...]: the guest script runs as /test.sh
# with the variables set first. MKINITRAMFS_ARGS: more mkinitramfs.sh options;
# EXTRA_FILES: more SRC=/guest/path files.
MKINITRAMFS_ARGS=()
EXTRA_FILES=()
initrd() {
	local name=$1 script=$2
	shift 2
	{
		for kv in "$@"; do printf "%s='%s'\n" "${kv%%=*}" "${kv#*=}"; done
		cat "$HERE/$script"
	} >"$W/$name.sh"
	# read_resource: a BAR through sysfs, no upci in the way (vfio-user-host).
	[ -x "$W/read_resource" ] || gcc -static -O2 -o "$W/read_resource" "$SRC/tests/vm/read_resource.c" ||
		die "cannot build read_resource"
	"$VM/mkinitramfs.sh" ${MKINITRAMFS_ARGS[@]+"${MKINITRAMFS_ARGS[@]}"} --test "$W/$name.sh" "$W/$name.gz" "$B/guest_exit" "$B/tools/upci" "$W/read_resource" \
		"$B/tests/conformance/upci-conformance" "$B/tests/vm/vfio/vfio_api" "$B/tests/vm/vfio/nvme_msix" \
		"$B/examples/upci-nvme" "$B/tests/vm/vfio/nvme_kbench" "$B/tests/stress/upci-stress" \
		"$B/bench/bench-vfio" "$HERE/guest-lib.sh=/lib/upci-guest-lib.sh" ${EXTRA_FILES[@]+"${EXTRA_FILES[@]}"} \
		2>"$W/mk.log" ||
		{ cat "$W/mk.log" >&2; die "mkinitramfs.sh failed"; }
}

# boot QEMU INITRD [run-guest args...] -- [QEMU args]: prints the guest's
# lines, returns run-guest.sh's status (77: that QEMU is not available).
boot() {
	local q=$1 rd=$2 st=0
	shift 2
	say "boot on QEMU $q"
	"$VM/run-guest.sh" --qemu "$q" --initrd "$W/$rd.gz" --timeout "$TIMEOUT" --log "$W/guest-$rd-$q.log" "$@" \
		>"$W/run-$rd-$q.txt" 2>&1 || st=$?
	tr -d '\r' <"$W/guest-$rd-$q.log" | sed -n '/^upci-init: kernel/,$p' | grep -v '^UPCI-GUEST-RESULT' || true
	grep '^run-guest: ' "$W/run-$rd-$q.txt" | grep -v 'last lines\|^run-guest: *|' || true
	if [ $st -ne 0 ] && [ $st -ne 77 ]; then
		mkdir -p "$CACHE/logs"
		cp "$W/guest-$rd-$q.log" "$CACHE/logs/vm-vfio-$CASE-$q.log" 2>/dev/null || true
		say "guest log kept in $CACHE/logs/vm-vfio-$CASE-$q.log"
	fi
	return $st
}

# Combine per-boot results: any failure fails; all skipped skips.
passed=0 failed=0
account() {
	case "$1" in
	0) passed=$((passed + 1)) ;;
	77) say "QEMU $2 not available: that boot is skipped" ;;
	*) failed=$((failed + 1)); say "boot on QEMU $2 failed (status $1)" ;;
	esac
}
result() {
	[ $failed -eq 0 ] || die "$failed boot(s) failed"
	[ $passed -gt 0 ] || skip "no QEMU could boot the guest"
	say "PASS ($passed boot(s))"
	exit 0
}

case "$CASE" in
edu)
	initrd edu7 guest-edu.sh CONF_ARGS=
	st=0; boot 7 edu7 --bind 1234:11e8 -- -device edu || st=$?; account $st 7
	# QEMU 11 has the edu fix for a 4096-byte DMA: run that case there too.
	initrd edu11 guest-edu.sh CONF_ARGS=--edu-dma-4096
	st=0; boot 11 edu11 --bind 1234:11e8 -- -device edu || st=$?; account $st 11
	result
	;;
nvme)
	initrd nvme guest-nvme.sh
	st=0; boot 7 nvme --bind 1b36:0010 -- -device nvme,serial=upci0 || st=$?
	[ $st -eq 77 ] && { st=0; boot 11 nvme --bind 1b36:0010 -- -device nvme,serial=upci0 || st=$?; }
	account $st any
	result
	;;
nvme-driver)
	# Two controllers on copies of one image the host filled with pattern
	# seed 1 (64 MiB of 512-byte blocks): 04.0 for examples/nvme, 05.0 for
	# the kernel's nvme driver (bench). After the guest: the first image
	# holds pattern 1 but for what the guest wrote (2 and 3).
	NBLOCKS=131072
	"$B/examples/upci-nvme" pattern 1 0 $NBLOCKS 512 >"$W/a.img"
	cp "$W/a.img" "$W/k.img"
	cp "$W/a.img" "$W/want.img"
	"$B/examples/upci-nvme" pattern 2 1000 256 512 | dd of="$W/want.img" bs=512 seek=1000 conv=notrunc status=none
	"$B/examples/upci-nvme" pattern 3 5000 128 512 | dd of="$W/want.img" bs=512 seek=5000 conv=notrunc status=none
	MKINITRAMFS_ARGS=(--module crct10dif_generic --module crc64_rocksoft_generic --module nvme)
	initrd nvmed guest-nvme-driver.sh NBLOCKS=$NBLOCKS BENCH_S="${UPCI_NVME_BENCH_S:-3}"
	# shellcheck disable=SC2054 # commas belong to QEMU options
	dev=(-drive file="$W/a.img",if=none,id=nva,format=raw -device nvme,serial=upcia,drive=nva,addr=04.0
		-drive file="$W/k.img",if=none,id=nvk,format=raw -device nvme,serial=upcik,drive=nvk,addr=05.0)
	st=0; boot 7 nvmed -- "${dev[@]}" || st=$?
	[ $st -eq 77 ] && { st=0; boot 11 nvmed -- "${dev[@]}" || st=$?; }
	if [ $st -eq 0 ] && ! cmp "$W/a.img" "$W/want.img"; then
		say "the disk image is not what the guest wrote (cmp above)"
		st=1
	elif [ $st -eq 0 ]; then
		say "the disk image holds exactly patterns 1, 2 and 3 where they were written"
	fi
	account $st any
	result
	;;
host)
	# Root bus: edu (no driver) at 03, pci-serial (8250_pci, built in) at 04.
	# Behind a PCIe-to-PCI bridge (one IOMMU group for all): edu + pci-serial.
	# Behind a root port (alone on its bus: bus reset): edu.
	initrd host guest-host.sh
	st=0
	boot 7 host -- -device edu,addr=03.0 -device pci-serial,addr=04.0 \
		-device pcie-pci-bridge,id=br,addr=05.0 -device edu,bus=br,addr=01.0 \
		-device pci-serial,bus=br,addr=02.0 \
		-device pcie-root-port,id=rp,chassis=1,addr=06.0 -device edu,bus=rp || st=$?
	account $st 7
	result
	;;
iommufd)
	# The kernel: built once (some minutes), then cached; 77 when the
	# source or the build tools cannot be had.
	st=0
	K=$("$VM/build-kernel.sh") || st=$?
	[ $st -eq 77 ] && skip "cannot build a kernel with iommufd (see above)"
	[ $st -eq 0 ] || die "build-kernel.sh exited $st"
	# Everything is built in: the Debian kernel's modules would not load.
	MKINITRAMFS_ARGS=(--no-modules)
	initrd iommufd guest-iommufd.sh
	# edu, NVMe; behind a PCIe-to-PCI bridge (one group) edu + pci-serial;
	# behind a root port an edu (guest-iommufd.sh).
	# shellcheck disable=SC2054 # commas belong to QEMU options
	dev=(-device edu,addr=02.0 -device nvme,serial=upci0,addr=03.0
		-device pcie-pci-bridge,id=br,addr=05.0 -device edu,bus=br,addr=01.0 -device pci-serial,bus=br,addr=02.0
		-device pcie-root-port,id=rp,chassis=1,addr=06.0 -device edu,bus=rp)
	st=0
	boot 7 iommufd --kernel "$K" --bind 1b36:0010 -- "${dev[@]}" || st=$?
	[ $st -eq 77 ] && { st=0; boot 11 iommufd --kernel "$K" --bind 1b36:0010 -- "${dev[@]}" || st=$?; }
	account $st any
	result
	;;
lspci)
	# Debian's lspci/setpci are dynamically linked: they go in with every
	# library ldd names and the loader (no pci.ids: see guest-lspci.sh).
	LSPCI_BIN=$(command -v lspci || true) SETPCI_BIN=$(command -v setpci || true)
	[ -n "$LSPCI_BIN" ] && [ -n "$SETPCI_BIN" ] ||
		skip "lspci/setpci not found on this host (Debian package pciutils; scripts/setup.sh installs it)"
	declare -A packed=()
	for b in "$LSPCI_BIN" "$SETPCI_BIN"; do
		EXTRA_FILES+=("$b=/opt/pciutils/$(basename "$b")")
		for l in $(ldd "$b" | awk '$3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
			[ -n "${packed[$l]:-}" ] || EXTRA_FILES+=("$l=$l")
			packed[$l]=1
		done
	done
	initrd lspci guest-lspci.sh
	st=0
	boot 7 lspci -- -device edu,addr=03.0 -device pci-serial,addr=04.0 -device edu,addr=05.0 || st=$?
	[ $st -eq 77 ] && { st=0; boot 11 lspci -- -device edu,addr=03.0 -device pci-serial,addr=04.0 \
		-device edu,addr=05.0 || st=$?; }
	account $st any
	result
	;;
bench)
	initrd bench guest-bench.sh
	st=0; boot 7 bench --bind 1234:11e8 -- -device edu || st=$?
	[ $st -eq 77 ] && { st=0; boot 11 bench --bind 1234:11e8 -- -device edu || st=$?; }
	account $st any
	result
	;;
vfio-user-guest)
	have_serve || skip "'upci serve' is not built in this tree yet"
	initrd vug guest-vfio-user.sh
	st=0; boot 7 vug --bind 1234:11e8 -- -device edu || st=$?
	account $st 7
	result
	;;
vfio-user-host | vfio-user-testdev)
	have_serve || skip "'upci serve' is not built in this tree yet"
	# edu: no mappable BAR; testdev: a mappable BAR2 (offered by fd) and
	# 256 MSI-X vectors, which need more than one guest CPU.
	if [ "$CASE" = vfio-user-host ]; then
		URI=sim:edu IDS=1234:11e8 GUEST=guest-vfio-user-host.sh SMP=1
	else
		URI='sim:testdev?vectors=256' IDS=1af4:10f0 GUEST=guest-vfio-user-testdev.sh SMP=4
	fi
	SOCK=$W/dev.sock
	# The host side runs the normal build's upci if given, else the static one.
	UPCI_HOST=${UPCI_HOST_BIN:-$B/tools/upci}
	"$UPCI_HOST" serve "$URI" --socket "$SOCK" >"$W/serve.log" 2>&1 &
	SERVER_PID=$!
	for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
	[ -S "$SOCK" ] || { cat "$W/serve.log" >&2; die "upci serve $URI did not create $SOCK"; }
	initrd vuh "$GUEST"
	st=0
	boot 11 vuh --memfd --smp "$SMP" --bind "$IDS" -- \
		-device "{\"driver\":\"vfio-user-pci\",\"socket\":{\"path\":\"$SOCK\",\"type\":\"unix\"}}" || st=$?
	kill -0 "$SERVER_PID" 2>/dev/null || { cat "$W/serve.log" >&2; say "upci serve exited during the test"; }
	[ $st -eq 77 ] && skip "QEMU 11 (vfio-user-pci) is not available"
	account $st 11
	result
	;;
vfio-user-gpio)
	# The device's own program on the host, as a device author ships it.
	GPIO=${UPCI_GPIO_BIN:-$B/examples/upci-gpio}
	[ -x "$GPIO" ] || skip "examples/upci-gpio is not built in this tree"
	SOCK=$W/gpio.sock
	"$GPIO" --socket "$SOCK" >"$W/serve.log" 2>&1 &
	SERVER_PID=$!
	for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
	[ -S "$SOCK" ] || { cat "$W/serve.log" >&2; die "upci-gpio did not create $SOCK"; }
	EXTRA_FILES=("$B/tests/vm/vfio/gpio_guest=/bin/gpio_guest")
	initrd vug guest-vfio-user-gpio.sh
	st=0
	boot 11 vug --memfd --bind 1af4:10f1 -- \
		-device "{\"driver\":\"vfio-user-pci\",\"socket\":{\"path\":\"$SOCK\",\"type\":\"unix\"}}" || st=$?
	kill -0 "$SERVER_PID" 2>/dev/null || { cat "$W/serve.log" >&2; say "upci-gpio exited during the test"; }
	[ $st -eq 77 ] && skip "QEMU 11 (vfio-user-pci) is not available"
	account $st 11
	result
	;;
esac

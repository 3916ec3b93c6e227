#!/usr/bin/env bash
# Boot the cached Debian test kernel under QEMU TCG with an initramfs from
# mkinitramfs.sh, and return the guest's result.
#
#   scripts/vm/run-guest.sh [options] [-- extra QEMU args...]
#     --qemu 7|11|PATH   QEMU to use: 7 = the host's qemu-system-x86_64 (bookworm
#                        7.2), 11 = fetch-qemu11.sh's; default 7 if installed,
#                        else 11 (env UPCI_VM_QEMU)
#     --initrd FILE      initramfs (default: a bare one, no /test.sh)
#     --bind IDS         bind VVVV:DDDD[,...] to vfio-pci (adds upci.bind=IDS)
#     --append STR       more kernel command line (e.g. "upci.debug=1",
#                        "vfio_iommu_type1.allow_unsafe_interrupts=1")
#     --timeout S        kill QEMU after S seconds (default 120, env UPCI_VM_TIMEOUT)
#     --mem MB           guest RAM (default 512)
#     --smp N            guest CPUs (default 1; 256 MSI-X vectors need more)
#     --memfd            back guest RAM with a shared memfd (vfio-user DMA with fds)
#     --kernel FILE      kernel image (default: the PVH vmlinux if fetch-guest.sh
#                        made one, else vmlinuz)
#     --no-pvh           boot the bzImage even if a PVH vmlinux exists (env UPCI_VM_PVH=0)
#     --log FILE         serial log (default: $UPCI_CACHE/logs/guest-*.log)
#     -v, --verbose      show the serial console while it runs
#     --shell            interactive: no timeout, console on this terminal,
#                        a shell in the guest after the test (upci.shell=1)
#
# Exit status: the guest's rc (from the "UPCI-GUEST-RESULT: <rc>" line,
# cross-checked with QEMU's isa-debug-exit status); 120 the guest's set-up
# failed (modules, binding); 124 timeout; 125 harness error (QEMU failed, no
# result line, or a mismatch); 77 skip (no QEMU or guest files, cannot download).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${UPCI_CACHE:-$HOME/.cache/upci}

say() { echo "run-guest: $*" >&2; }
die() { say "error: $*"; exit 125; }
usage() { sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

QSEL=${UPCI_VM_QEMU:-}
TIMEOUT=${UPCI_VM_TIMEOUT:-120}
INITRD="" KERNEL="" APPEND="" BIND="" LOG="" MEM=512 SMP=1 MEMFD=0 VERBOSE=0 SHELL_MODE=0
PVH=${UPCI_VM_PVH:-1}
while [ $# -gt 0 ]; do
	case "$1" in
	--qemu) QSEL=${2:?}; shift 2 ;;
	--initrd) INITRD=${2:?}; shift 2 ;;
	--bind) BIND=${2:?}; shift 2 ;;
	--append) APPEND="$APPEND ${2:?}"; shift 2 ;;
	--timeout) TIMEOUT=${2:?}; shift 2 ;;
	--mem) MEM=${2:?}; shift 2 ;;
	--smp) SMP=${2:?}; shift 2 ;;
	--memfd) MEMFD=1; shift ;;
	--kernel) KERNEL=${2:?}; shift 2 ;;
	--no-pvh) PVH=0; shift ;;
	--log) LOG=${2:?}; shift 2 ;;
	-v | --verbose) VERBOSE=1; shift ;;
	--shell) SHELL_MODE=1; shift ;;
	-h | --help) usage ;;
	--) shift; break ;;
	*) say "unknown argument: $1"; usage ;;
	esac
done
EXTRA=("$@")
case "$TIMEOUT" in '' | *[!0-9]*) die "--timeout wants whole seconds, not '$TIMEOUT'" ;; esac
case "$SMP" in '' | *[!0-9]* | 0) die "--smp wants a CPU count, not '$SMP'" ;; esac

TMPD=$(mktemp -d "${TMPDIR:-/tmp}/upci-guest.XXXXXX")
QPID=""
cleanup() {
	if [ -n "$QPID" ]; then kill "$QPID" 2>/dev/null || true; fi
	rm -rf "$TMPD"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Guest files (kernel, busybox, host QEMU path).
if [ ! -f "$CACHE/guest/env" ]; then
	rc=0
	"$HERE/fetch-guest.sh" || rc=$?
	[ $rc -eq 0 ] || exit $rc
fi
# shellcheck source=/dev/null
. "$CACHE/guest/env"

# QEMU.
[ -n "$QSEL" ] || { if [ -n "${UPCI_QEMU7:-}" ] || command -v qemu-system-x86_64 >/dev/null; then QSEL=7; else QSEL=11; fi; }
case "$QSEL" in
7 | 7.*)
	Q=${UPCI_QEMU7:-$(command -v qemu-system-x86_64 || true)}
	if [ -z "$Q" ] || [ ! -x "$Q" ]; then
		say "skip: no host qemu-system-x86_64 (apt-get install qemu-system-x86, or use --qemu 11)"
		exit 77
	fi
	;;
11 | 11.*)
	rc=0
	Q=$("$HERE/fetch-qemu11.sh" 2>"$TMPD/fetch-qemu11.log") || rc=$?
	if [ $rc -ne 0 ]; then
		cat "$TMPD/fetch-qemu11.log" >&2
		[ $rc -eq 77 ] && { say "skip: no QEMU 11"; exit 77; }
		die "fetch-qemu11.sh failed"
	fi
	;;
*) Q=$QSEL; [ -x "$Q" ] || die "no QEMU at $Q" ;;
esac
QVER=$("$Q" --version 2>/dev/null | sed -n '1s/.*version \([0-9][0-9.]*\).*/\1/p')

# Kernel and initramfs.
KLABEL=$UPCI_GUEST_KVER
[ -z "$KERNEL" ] || KLABEL=$KERNEL
if [ -z "$KERNEL" ]; then
	KERNEL=$UPCI_GUEST_VMLINUZ
	[ "$PVH" != 0 ] && [ -n "${UPCI_GUEST_VMLINUX:-}" ] && [ -f "$UPCI_GUEST_VMLINUX" ] && KERNEL=$UPCI_GUEST_VMLINUX
fi
[ -f "$KERNEL" ] || die "no kernel at $KERNEL (run scripts/vm/fetch-guest.sh)"
KIND=bzImage
[ "$(head -c 4 "$KERNEL" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ] && KIND=PVH
if [ -z "$INITRD" ]; then
	INITRD=$TMPD/initrd.gz
	rc=0
	"$HERE/mkinitramfs.sh" "$INITRD" 2>/dev/null || rc=$?
	[ $rc -eq 0 ] || exit $rc
fi
[ -f "$INITRD" ] || die "no initramfs at $INITRD"

CMDLINE="console=ttyS0 panic=-1 quiet intel_iommu=on iommu=on${BIND:+ upci.bind=$BIND}$APPEND"
MACHINE=q35
MEMARGS=(-m "$MEM")
if [ $MEMFD = 1 ]; then
	MACHINE=q35,memory-backend=upci-mem
	MEMARGS+=(-object "memory-backend-memfd,id=upci-mem,size=${MEM}M,share=on")
fi
# caching-mode=on: QEMU refuses any vfio device (vfio-user-pci included)
# behind intel-iommu without it; kernel VFIO in the guest works either way.
# shellcheck disable=SC2054 # commas belong to QEMU options
QARGS=(-machine "$MACHINE" -accel tcg "${MEMARGS[@]}" -smp "$SMP" -nographic -no-reboot -net none
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 -device intel-iommu,intremap=on,caching-mode=on
	-kernel "$KERNEL" -initrd "$INITRD")

if [ $SHELL_MODE = 1 ]; then
	say "QEMU $QVER, $KIND; the guest opens a shell after its test (exit it to power off; Ctrl-A x quits QEMU)"
	st=0
	"$Q" "${QARGS[@]}" -append "$CMDLINE upci.shell=1" "${EXTRA[@]}" || st=$?
	exit $st
fi

if [ -z "$LOG" ]; then
	mkdir -p "$CACHE/logs"
	LOG=$CACHE/logs/guest-$(date +%Y%m%d-%H%M%S)-$$.log
	# keep the newest 50 logs
	{ ls -1t "$CACHE"/logs/guest-*.log 2>/dev/null || true; } | tail -n +51 | while read -r f; do rm -f "$f"; done
fi
mkdir -p "$(dirname "$LOG")"
: >"$LOG"

say "QEMU $QVER, $KIND kernel $KLABEL, timeout ${TIMEOUT}s, log $LOG"
t0=$(date +%s%N)
# QEMU runs in the background so a signal to us can stop it; timeout(1)
# enforces the limit (TERM, then KILL 5 s later).
timeout -k 5 "$TIMEOUT" "$Q" "${QARGS[@]}" -append "$CMDLINE" "${EXTRA[@]}" </dev/null >"$LOG" 2>&1 &
QPID=$!
if [ $VERBOSE = 1 ]; then
	tail -n +1 -f --pid="$QPID" "$LOG" | tr -d '\r' >&2 &
fi
st=0
wait "$QPID" || st=$?
QPID=""
if [ $VERBOSE = 1 ]; then wait 2>/dev/null || true; fi
t1=$(date +%s%N)
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')

tail_log() {
	say "last lines of $LOG:"
	tail -n "${1:-25}" "$LOG" | tr -d '\r' | sed 's/^/  | /' >&2
}

if [ $st -eq 124 ]; then
	say "timeout: the guest did not finish in ${TIMEOUT}s (QEMU killed)"
	tail_log
	exit 124
fi
marker=$(tr -d '\r' <"$LOG" | sed -n 's/^UPCI-GUEST-RESULT: \([0-9][0-9]*\)$/\1/p' | tail -n1)
if [ -z "$marker" ]; then
	if [ $((st & 1)) -eq 1 ] && [ $st -gt 1 ] && [ $st -lt 256 ]; then
		marker=$(((st - 1) / 2))
		say "warning: no UPCI-GUEST-RESULT line; using isa-debug-exit status $st (rc $marker)"
	else
		say "no UPCI-GUEST-RESULT line and QEMU exit status $st (QEMU error? kernel panic?)"
		tail_log 40
		exit 125
	fi
else
	x=$marker
	[ "$x" -gt 127 ] && x=127
	if [ $st -ne 0 ] && [ $st -ne $(((x << 1) | 1)) ]; then
		say "mismatch: guest said rc $marker but QEMU exited with $st (expected $(((x << 1) | 1)))"
		tail_log
		exit 125
	fi
fi
say "guest rc $marker in ${secs}s (QEMU $QVER, $KIND)"
if [ "$marker" -ne 0 ]; then
	grep -a 'UPCI-GUEST-ERROR' "$LOG" | tr -d '\r' >&2 || true
	tail_log
fi
exit "$marker"

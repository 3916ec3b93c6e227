#!/usr/bin/env bash
# Smoke test of the VM harness (scripts/vm): boot the Debian guest with QEMU's
# edu device (1234:11e8) on the host's QEMU 7.2 and on QEMU 11.x from
# trixie-backports, have /init bind edu to vfio-pci, and check inside the guest
# that /dev/vfio/<group> exists and that BAR0's ID register, read through an
# mmap of sysfs resource0, is 0x010000ed. The second boot also ends its guest
# test with rc 5 on purpose, to prove a guest's status reaches run-guest.sh.
#
# Exit status: 0 ok, 1 failure, 77 skip (nothing could be downloaded or no
# QEMU at all). Env: UPCI_CACHE (download cache), UPCI_VM_TIMEOUT (per boot).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
VM=$(cd "$HERE/../../scripts/vm" && pwd)
TIMEOUT=${UPCI_VM_TIMEOUT:-120}

say() { echo "vm-smoke: $*"; }

rc=0
"$VM/fetch-guest.sh" || rc=$?
if [ $rc -eq 77 ]; then say "SKIP: cannot download the guest kernel/busybox"; exit 77; fi
[ $rc -eq 0 ] || { say "FAIL: fetch-guest.sh exited $rc"; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/upci-vm-smoke.XXXXXX")
trap 'rm -rf "$W"' EXIT

CC=${CC:-cc}
for p in guest_exit read_resource; do
	"$CC" -static -O2 -Wall -Wextra -o "$W/$p" "$HERE/$p.c" ||
		{ say "FAIL: cannot build $p statically (is libc6-dev installed?)"; exit 1; }
done

cat >"$W/test.sh" <<'EOF'
# Runs inside the guest (busybox sh), after /init bound edu to vfio-pci.
fail() { echo "vm-smoke-guest: FAIL: $*"; exit 1; }
[ -n "$UPCI_BDF" ] || fail "no device bound"
[ "$UPCI_BDF_1234_11e8" = "$UPCI_BDF" ] || fail "UPCI_BDF_1234_11e8='$UPCI_BDF_1234_11e8'"
d=/sys/bus/pci/devices/$UPCI_BDF
[ "$(basename "$(readlink $d/driver)")" = vfio-pci ] || fail "$UPCI_BDF is not bound to vfio-pci"
[ -c /dev/vfio/vfio ] || fail "no /dev/vfio/vfio"
[ -c "/dev/vfio/$UPCI_GROUP" ] || fail "no /dev/vfio/$UPCI_GROUP"
[ "$(basename "$(readlink $d/iommu_group)")" = "$UPCI_GROUP" ] || fail "group mismatch"
id=$(read_resource $d/resource0 0) || fail "read_resource failed"
[ "$id" = 0x010000ed ] || fail "edu ID register is $id, expected 0x010000ed"
echo "vm-smoke-guest: ok: $UPCI_BDF group $UPCI_GROUP, ID $id, kernel $(uname -r)"
for t in $(cat /proc/cmdline); do
	case "$t" in upci.smoke_rc=*) exit "${t#*=}" ;; esac
done
exit 0
EOF

"$VM/mkinitramfs.sh" --test "$W/test.sh" "$W/initrd.gz" "$W/guest_exit" "$W/read_resource"

failed=0 booted=0 want=0 summary=()
boot() { # boot 7|11
	local q=$1 t0 t1 st=0 secs args=()
	[ $want -ne 0 ] && args=(--append "upci.smoke_rc=$want")
	t0=$(date +%s%N)
	"$VM/run-guest.sh" --qemu "$q" --timeout "$TIMEOUT" --initrd "$W/initrd.gz" --bind 1234:11e8 \
		--log "$W/guest-$q.log" "${args[@]}" -- -device edu || st=$?
	t1=$(date +%s%N)
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
	if [ $st -eq 77 ]; then
		summary+=("QEMU $q: skip (not available)")
		return 0
	fi
	booted=$((booted + 1))
	if [ $st -eq "$want" ] && grep -q 'vm-smoke-guest: ok' "$W/guest-$q.log"; then
		summary+=("QEMU $q: ok in ${secs}s (guest rc $st as asked)")
	else
		summary+=("QEMU $q: FAIL (run-guest.sh exited $st, expected $want) after ${secs}s")
		grep -a 'vm-smoke-guest' "$W/guest-$q.log" | tr -d '\r' || true
		cp "$W/guest-$q.log" "${UPCI_CACHE:-$HOME/.cache/upci}/logs/vm-smoke-$q.log" 2>/dev/null || true
		failed=1
	fi
	want=5 # the next boot checks that a non-zero guest status comes through
}

boot 7
rc=0
"$VM/fetch-qemu11.sh" >/dev/null || rc=$?
case $rc in
0) boot 11 ;;
77) summary+=("QEMU 11: skip (cannot download it)") ;;
*) summary+=("QEMU 11: FAIL (fetch-qemu11.sh exited $rc)"); failed=1 ;;
esac

for l in "${summary[@]}"; do say "$l"; done
if [ $failed -ne 0 ]; then say "FAIL"; exit 1; fi
if [ $booted -eq 0 ]; then say "SKIP: no QEMU could be run"; exit 77; fi
say "PASS ($booted boot(s))"

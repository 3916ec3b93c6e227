#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# ThreadSanitizer: tests/stress/upci-stress (every call of upci.h from
# several threads on one handle) on every backend this build has:
#   sim:        edu and testdev, in-process; DMA spaces (test_dma_space)
#   vfio-user:  against `upci serve sim:testdev` (the server under TSan too)
#   dext:       under the IOKit shim (tests/iokit-shim), Linux
# Linux VFIO needs a device: the VM suite runs the program there.
#
#   bash scripts/tsan.sh [SECONDS]   default 3 per run
# Its own build directory (UPCI_TSAN_BUILD, default build-tsan), in which
# only the stress programs and the CLI are built. Any report fails the run
# (halt_on_error, exit code 66), as does a stress failure. Exit 0 or 1.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-${UPCI_TSAN_SECONDS:-3}}
B=${UPCI_TSAN_BUILD:-build-tsan}
bash scripts/setup.sh >/dev/null

if [ ! -f "$B/build.ninja" ]; then
	CC=${UPCI_TSAN_CC:-clang} meson setup "$B" -Db_sanitize=thread -Db_lundef=false --buildtype=debug \
		-Dbench=false -Dvm=false >/dev/null
fi
linux=0
[ "$(uname -s)" = Linux ] && linux=1
targets=(tests/stress/upci-stress tests/unit/test_dma_space)
[ $linux = 1 ] && targets+=(tools/upci tests/dext/upci-stress-dext)
ninja -C "$B" "${targets[@]}" >/dev/null

export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
export UPCI_STRESS_SECONDS=$SECS
export UPCI_VFU_TIMEOUT_MS=20000 # TSan slows every call several times over
rc=0

run() { # NAME COMMAND...
	local name=$1 log="$B/tsan-$1.log"
	shift
	if "$@" >"$log" 2>&1 && ! grep -q 'ThreadSanitizer' "$log"; then
		echo "tsan: $name: $(grep -E '^(sim|vfio-user|dext):' "$log" | tail -1)"
	else
		tail -80 "$log" >&2
		echo "tsan: $name FAILED (log: $log)" >&2
		rc=1
	fi
}

run sim-testdev "$B/tests/stress/upci-stress" 'sim:testdev?vectors=64'
run sim-edu "$B/tests/stress/upci-stress" sim:edu
# DMA spaces: membership changing under maps, one device's DMA while another
# member unmaps in the IOMMU they share.
run dma-space "$B/tests/unit/test_dma_space"
if [ $linux = 1 ]; then
	run vfio-user sh tests/vfio-user/run-conformance.sh "$B/tools/upci" "$B/tests/stress/upci-stress" \
		'sim:testdev?vectors=64'
	run dext env 'UPCI_IOKIT_SHIM=00:01.0=sim:edu;00:02.0=sim:testdev?vectors=256' \
		"$B/tests/dext/upci-stress-dext" dext:00:02.0
fi
exit $rc

#!/usr/bin/env bash
# Set up a fresh Debian 12 machine and run every test: a -Werror build under
# AddressSanitizer + UndefinedBehaviorSanitizer, then all meson suites, then
# bounded fuzzing (scripts/fuzz.sh) and ThreadSanitizer (scripts/tsan.sh).
# Ends with one line "N passed, N failed, N skipped".
#
#   bash scripts/test.sh [--fast] [meson test args...]
#
# The first full run downloads about 270 MB into ~/.cache/upci (QEMU 11.1
# with its libraries from trixie-backports, a Debian guest kernel and
# busybox), plus the Linux 6.12 source, and builds a guest kernel: 20-30
# minutes on 2 cores; later runs reuse the cache. Those steps run first,
# with their progress shown. --fast runs every suite but the VM ones and
# skips the fuzzing: about a minute, nothing downloaded. CI runs it all.
set -uo pipefail
cd "$(dirname "$0")/.."
FAST=0
if [ "${1:-}" = --fast ]; then
	FAST=1
	shift
fi
bash scripts/setup.sh || exit 1

B=${UPCI_TEST_BUILD:-build-test}
if [ ! -f "$B/build.ninja" ]; then
	meson setup "$B" --werror -Db_sanitize=address,undefined -Db_lundef=false --buildtype=debug || exit 1
fi
ninja -C "$B" || exit 1

# prepare NAME CMD...: a slow download or build, before meson (whose test
# output shows nothing until a test ends): its own lines are shown, and a
# line every 30 s says it is alive. A skip (77) is left to the VM tests.
prepare() {
	local name=$1 t0=$SECONDS last=$SECONDS pid st=0
	shift
	echo "test.sh: $name ..."
	"$@" >/dev/null &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		sleep 2
		if [ $((SECONDS - last)) -ge 30 ]; then
			last=$SECONDS
			echo "test.sh: $name: $((SECONDS - t0)) s, cache $(du -sh "${UPCI_CACHE:-$HOME/.cache/upci}" 2>/dev/null | cut -f1)"
		fi
	done
	wait "$pid" || st=$?
	echo "test.sh: $name: done in $((SECONDS - t0)) s (status $st)"
}
if [ "$FAST" -eq 0 ]; then
	prepare "guest kernel, busybox and QEMU 7.2 (~40 MB)" scripts/vm/fetch-guest.sh
	prepare "QEMU 11.1 from trixie-backports (~230 MB)" scripts/vm/fetch-qemu11.sh
	prepare "iommufd guest kernel (Linux 6.12 source; 7-8 min to build on 2 cores)" scripts/vm/build-kernel.sh
	prepare "static upci for the guests" tests/vm/vfio/build-static.sh . "$B/vm-static"
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
if [ "$FAST" -eq 1 ]; then
	set -- --no-suite vm "$@"
	UPCI_FUZZ_SECONDS=0
fi
meson test -C "$B" --print-errorlogs --num-processes 2 "$@"
rc=$?

# Bounded fuzzing of the vfio-user server and the models (clang, ASan+UBSan);
# any crash fails the run. UPCI_FUZZ_SECONDS=0 skips it.
fuzz_rc=0
if [ "${UPCI_FUZZ_SECONDS:-60}" != 0 ]; then
	bash scripts/fuzz.sh "${UPCI_FUZZ_SECONDS:-60}" || fuzz_rc=1
fi

# ThreadSanitizer: the stress program on every backend (sim, vfio-user
# against serve, dext under the shim), in its own lean build; any report
# fails. UPCI_TSAN_SECONDS=0 skips it.
tsan_rc=0
if [ "${UPCI_TSAN_SECONDS:-3}" != 0 ]; then
	bash scripts/tsan.sh "${UPCI_TSAN_SECONDS:-3}" || tsan_rc=1
fi

# meson's own summary is verbose; give the one-line count CI reads. Fuzzing
# and the TSan run count as one test each when they ran.
ran_fuzz=0; [ "${UPCI_FUZZ_SECONDS:-60}" != 0 ] && ran_fuzz=1
ran_tsan=0; [ "${UPCI_TSAN_SECONDS:-3}" != 0 ] && ran_tsan=1
python3 - "$B/meson-logs/testlog.json" "$fuzz_rc" "$ran_fuzz" "$tsan_rc" "$ran_tsan" <<'PY'
import json, sys
p = f = s = 0
for line in open(sys.argv[1]):
    r = json.loads(line).get("result")
    if r in ("OK", "EXPECTEDFAIL"): p += 1
    elif r == "SKIP": s += 1
    else: f += 1
for failed, ran in ((int(sys.argv[2]), sys.argv[3] == "1"), (int(sys.argv[4]), sys.argv[5] == "1")):
    if ran:
        p += 1 - failed
        f += failed
print(f"{p} passed, {f} failed, {s} skipped")
PY
[ "$fuzz_rc" -eq 0 ] || rc=1
[ "$tsan_rc" -eq 0 ] || rc=1
exit $rc

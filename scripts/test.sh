#!/usr/bin/env bash
# Set up a fresh Debian 12 machine and run every test: a -Werror build under
# AddressSanitizer + UndefinedBehaviorSanitizer, then all meson suites, then
# bounded fuzzing (scripts/fuzz.sh) and ThreadSanitizer (scripts/tsan.sh).
# Ends with one line "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1

B=${UPCI_TEST_BUILD:-build-test}
if [ ! -f "$B/build.ninja" ]; then
	meson setup "$B" --werror -Db_sanitize=address,undefined -Db_lundef=false --buildtype=debug || exit 1
fi
ninja -C "$B" || exit 1

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
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

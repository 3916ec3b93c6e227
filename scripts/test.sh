#!/usr/bin/env bash
# Set up a fresh Debian 12 machine and run every test: a -Werror build under
# AddressSanitizer + UndefinedBehaviorSanitizer, then all meson suites.
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

# meson's own summary is verbose; give the one-line count CI reads.
ran_fuzz=0; [ "${UPCI_FUZZ_SECONDS:-60}" != 0 ] && ran_fuzz=1
python3 - "$B/meson-logs/testlog.json" "$fuzz_rc" "$ran_fuzz" <<'PY'
import json, sys
p = f = s = 0
for line in open(sys.argv[1]):
    r = json.loads(line).get("result")
    if r in ("OK", "EXPECTEDFAIL"): p += 1
    elif r == "SKIP": s += 1
    else: f += 1
fuzz_failed = int(sys.argv[2])
print(f"{p + 1 - fuzz_failed if sys.argv[3] == '1' else p} passed, {f + fuzz_failed} failed, {s} skipped")
PY
[ "$fuzz_rc" -eq 0 ] || rc=1
exit $rc

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

# meson's own summary is verbose; give the one-line count CI reads.
python3 - "$B/meson-logs/testlog.json" <<'PY'
import json, sys
p = f = s = 0
for line in open(sys.argv[1]):
    r = json.loads(line).get("result")
    if r in ("OK", "EXPECTEDFAIL"): p += 1
    elif r == "SKIP": s += 1
    else: f += 1
print(f"{p} passed, {f} failed, {s} skipped")
PY
exit $rc

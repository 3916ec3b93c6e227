#!/usr/bin/env bash
# Build the libFuzzer targets with clang (ASan + UBSan) in a build directory
# of their own and run the vfio-user server fuzzer for a bounded time.
#   bash scripts/fuzz.sh [SECONDS]        default 60; UPCI_FUZZ_BUILD overrides
#                                         the build directory (/tmp/upci-fuzz)
# The seed corpus (fuzz/corpus/server) is read, never written: new inputs go
# to a scratch corpus in the build directory. Exit status non-zero when the
# fuzzer finds a crash, a leak or a timeout (it leaves crash-* files in the
# build directory and prints the reproducer command).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-60}
B=${UPCI_FUZZ_BUILD:-/tmp/upci-fuzz}
bash scripts/setup.sh >/dev/null

if [ ! -f "$B/build.ninja" ]; then
	CC=clang meson setup "$B" -Dfuzz=true -Dtests=false -Dbench=false \
		-Db_sanitize=address,undefined -Db_lundef=false --buildtype=debugoptimized >/dev/null
fi
ninja -C "$B" fuzz/fuzz_server >/dev/null

mkdir -p "$B/corpus-server"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
SRC=$PWD
cd "$B"
# -timeout: one input may not take more than 10 s; -rss_limit_mb bounds memory.
rc=0
./fuzz/fuzz_server -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 corpus-server "$SRC/fuzz/corpus/server" || rc=$?
if [ "$rc" -ne 0 ]; then
	# 1, never 77: a finding must not read as "skipped" to a test harness
	echo "fuzz: fuzz_server failed (status $rc); reproduce with: $B/fuzz/fuzz_server $B/crash-*" >&2
	exit 1
fi
echo "fuzz: fuzz_server ran ${SECS} s without a finding"

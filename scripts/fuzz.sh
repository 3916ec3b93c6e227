#!/usr/bin/env bash
# Build the libFuzzer targets with clang (ASan + UBSan) in a build directory
# of their own and run each for a bounded time:
#   fuzz_server  the vfio-user server's message handling (in-memory transport)
#                against a hostile client (fuzz/hostile.h)
#   fuzz_sock    the same client against vfu_server_run on real sockets
#                (socket transport, serving loop and its watcher thread)
#   fuzz_models  config-space and register writes to the device models
#   bash scripts/fuzz.sh [SECONDS]   default 60 for fuzz_server, a third of
#                                    it for fuzz_sock, a sixth for fuzz_models
#                                    (600: 15 minutes in all)
# UPCI_FUZZ_BUILD overrides the build directory (default build-fuzz in this
# checkout). The seed corpora (fuzz/corpus/*) are read, never written: new
# inputs go to scratch corpora in the build directory. Exit status 1 when a
# fuzzer finds a crash, a leak or a timeout (crash-* files are left in the
# build directory and the reproducer command is printed).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-60}
SRC=$PWD
B=${UPCI_FUZZ_BUILD:-$SRC/build-fuzz}
bash scripts/setup.sh >/dev/null

if [ ! -f "$B/build.ninja" ]; then
	CC=clang meson setup "$B" -Dfuzz=true -Dtests=false -Dbench=false \
		-Db_sanitize=address,undefined -Db_lundef=false --buildtype=debugoptimized >/dev/null
fi
ninja -C "$B" fuzz/fuzz_server fuzz/fuzz_sock fuzz/fuzz_models >/dev/null

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run() { # NAME SECONDS
	local name=$1 secs=$2 rc=0
	mkdir -p "$B/corpus-$name"
	# -timeout: one input may take at most 10 s; -rss_limit_mb bounds memory.
	(cd "$B" && "./fuzz/fuzz_$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 "corpus-$name" "$SRC/fuzz/corpus/$name") >"$B/fuzz-$name.log" 2>&1 || rc=$?
	if [ "$rc" -ne 0 ]; then
		tail -40 "$B/fuzz-$name.log" >&2
		# 1, never 77: a finding must not read as "skipped" to a harness
		echo "fuzz: fuzz_$name failed (status $rc); reproduce with: $B/fuzz/fuzz_$name $B/crash-*" >&2
		return 1
	fi
	stat() { grep -o "stat::$1: *[0-9]*" "$B/fuzz-$name.log" | grep -o '[0-9]*$'; }
	echo "fuzz: fuzz_$name ran ${secs} s without a finding ($(stat number_of_executed_units) inputs, $(stat average_exec_per_sec)/s)"
}

part() { echo $(($1 / $2 > 0 ? $1 / $2 : 1)); }
rc=0
run server "$SECS" || rc=1
run sock "$(part "$SECS" 3)" || rc=1
run models "$(part "$SECS" 6)" || rc=1
exit $rc

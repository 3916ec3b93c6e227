#!/bin/sh
# SPDX-License-Identifier: MIT
#
# check-header.sh SRCDIR CLANG CXX
#
# include/upci/upci.h's mapped-BAR accessors where this machine cannot run
# them: compiled as C++ (CXX, warnings are errors), and with CLANG for
# arm64 macOS, big-endian arm64 and x86-64, whose assembly must hold the
# barriers and byte swaps the header's "mapped BAR access" rules promise.
# Freestanding, so no target C library is needed. Exit 0, 1 on a missing
# instruction or a compile error, 77 when CLANG cannot target arm64.
set -u
src=$1 clang=$2 cxx=$3
inc=$src/include
dir=$src/tests/header
tmp=$(mktemp -d "${TMPDIR:-/tmp}/upci-hdr.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0

say() { echo "check-header: $*"; }

"$cxx" -std=c++11 -Wall -Wextra -Werror -I"$inc" -I"$dir" -c -o "$tmp/cxx.o" "$dir/accessors.cpp" ||
	{ say "FAIL: upci.h does not compile as C++ ($cxx -std=c++11)"; fail=1; }

asm_for() { # TARGET OUT
	"$clang" -target "$1" -ffreestanding -std=gnu11 -O2 -Wall -Wextra -Werror -I"$inc" -S -o "$2" \
		"$dir/accessors.c"
}

# want FILE FUNCTION REGEX WHAT: REGEX must appear in FUNCTION's body.
want() {
	body=$(awk -v f="$2" '
		$0 ~ "^_?" f ":" { on = 1; next }
		on && /^[_A-Za-z][_A-Za-z0-9.$]*:/ && $0 !~ /^\.L|^L|^ltmp/ { exit }
		on { print }' "$1")
	if printf '%s\n' "$body" | grep -Eq "$3"; then
		say "ok: $4"
	else
		say "FAIL: $4 (no /$3/ in $2)"
		fail=1
	fi
}

if ! asm_for arm64-apple-macos11 "$tmp/mac.s" 2>"$tmp/err"; then
	if grep -qi "unknown target\|no available targets\|unable to create target" "$tmp/err"; then
		say "SKIP: $clang cannot target arm64"
		exit 77
	fi
	cat "$tmp/err"
	say "FAIL: upci.h does not compile for arm64 macOS"
	exit 1
fi
want "$tmp/mac.s" acc_write32 'dmb[[:space:]]+oshst' "arm64 macOS: a write is ordered after earlier stores (dmb oshst)"
want "$tmp/mac.s" acc_read32 'dmb[[:space:]]+oshld' "arm64 macOS: a read is ordered before later loads (dmb oshld)"
want "$tmp/mac.s" acc_doorbell_after_wc 'dsb[[:space:]]+st' "arm64 macOS: upci_wc_flush is dsb st"
want "$tmp/mac.s" acc_read64 'ldr[[:space:]]+x' "arm64 macOS: a 64-bit read is one 64-bit load"

if asm_for aarch64_be-linux-gnu "$tmp/be.s" 2>"$tmp/err"; then
	want "$tmp/be.s" acc_write32 'rev[[:space:]]' "big-endian arm64: a 32-bit write swaps to little-endian"
	want "$tmp/be.s" acc_read64 'rev[[:space:]]' "big-endian arm64: a 64-bit read swaps to host order"
	want "$tmp/be.s" acc_read16 'rev16|rev[[:space:]]' "big-endian arm64: a 16-bit read swaps"
else
	cat "$tmp/err"
	say "FAIL: upci.h does not compile for big-endian arm64"
	fail=1
fi

if asm_for x86_64-linux-gnu "$tmp/x86.s" 2>"$tmp/err"; then
	want "$tmp/x86.s" acc_doorbell_after_wc 'sfence' "x86-64: upci_wc_flush is sfence"
else
	cat "$tmp/err"
	say "FAIL: upci.h does not compile for x86-64"
	fail=1
fi
exit $fail

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Smoke test of the upci command-line tool on the sim backend.
# Usage: test_cli.sh PATH/TO/upci
set -u

UPCI=${1:?usage: test_cli.sh PATH/TO/upci}
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Every run is bounded: a hang is a failure, not a stuck CI job. macOS has
# no timeout(1) unless coreutils is installed; then meson's timeout is all.
if command -v timeout >/dev/null 2>&1; then
	bound=(timeout 20)
elif command -v gtimeout >/dev/null 2>&1; then
	bound=(gtimeout 20)
else
	bound=()
fi

run() {
	${bound[@]+"${bound[@]}"} "$UPCI" "$@" >"$tmp/out" 2>"$tmp/err"
}

ok() {
	pass=$((pass + 1))
	echo "ok   - $1"
}

bad() {
	fail=$((fail + 1))
	echo "FAIL - $1"
	sed 's/^/       | /' "$tmp/out" "$tmp/err" | head -20
}

# demo URI step...: exit 0, an "[ ok ]" line per step, no [FAIL].
check_demo() {
	local uri=$1 step missing=""
	shift
	run demo "$uri"
	local rc=$?
	for step in "$@"; do
		grep -Eq "^\[ ok \] $step( |$)" "$tmp/out" || missing="$missing $step"
	done
	if [ $rc -eq 0 ] && [ -z "$missing" ] && ! grep -q '^\[FAIL\]' "$tmp/out"; then
		ok "demo $uri"
	else
		bad "demo $uri (exit $rc, steps not ok:${missing:- none})"
	fi
}

# A failing invocation: non-zero exit, exactly one stderr line "upci: ...".
check_error() {
	local what="$*"
	run "$@"
	local rc=$?
	local lines
	lines=$(wc -l <"$tmp/err")
	if [ $rc -ne 0 ] && [ $rc -ne 124 ] && [ "$lines" -eq 1 ] && grep -q '^upci: ' "$tmp/err"; then
		ok "error: upci $what -> exit $rc: $(cat "$tmp/err")"
	else
		bad "error: upci $what (exit $rc, $lines stderr lines)"
	fi
}

# A successful invocation whose stdout matches a regex (empty: anything).
check_ok() {
	local regex=$1
	shift
	run "$@"
	local rc=$?
	if [ $rc -eq 0 ] && { [ -z "$regex" ] || grep -Eq -- "$regex" "$tmp/out"; } && [ ! -s "$tmp/err" ]; then
		ok "upci $*"
	else
		bad "upci $* (exit $rc)"
	fi
}

common="open claim identity config capabilities bars bar-map mmio dma irq irq-mask reset release close"
# shellcheck disable=SC2086
check_demo sim:edu $common factorial
# shellcheck disable=SC2086
check_demo 'sim:testdev?vectors=64' $common

check_ok '^0x010000ed$' read sim:edu 0 0
check_ok '^0x54444556$' read sim:testdev 0 0
check_ok '^0x0000000000100000$' read sim:testdev 0 0x10 8
check_ok '' write sim:edu 0 4 0x12345678
check_ok '' write sim:testdev 2 0x100 0xff 1
check_ok '^f0: ' config sim:edu
check_ok '^ff0: ' config sim:testdev
check_ok '^20: ' config sim:edu --size 0x30
check_ok 'MSI-X: Enable- Count=64' info 'sim:testdev?vectors=64'
check_ok 'MSI: Enable- Count=1/1' info sim:edu
check_ok 'reset done' reset sim:testdev
check_ok 'reset done' reset sim:edu
check_ok '^4 interrupts' irq sim:testdev --fire --count 4 --timeout 2000
check_ok '^3 interrupts' irq sim:edu --fire --count 3 --interval 0 --timeout 2000
check_ok '^upci [0-9]+\.[0-9]+' --version

for cmd in demo info config read write irq reset; do
	check_ok "^Usage: upci $cmd" "$cmd" --help
	check_ok "^Usage: upci $cmd" "$cmd" -h
done
check_ok '^Usage: upci' --help
check_ok '^Usage: upci read' help read

# Usage errors and failures.
check_error
check_error frobnicate
check_error --frobnicate
check_error demo 'sim:foo?x'
check_error demo sim:nomodel
check_error demo sim:edu extra
check_error info
check_error info ''
check_error info 'sim:ed u'
check_error info vfio:0000:03:00.0
check_error info dext:03:00.0
check_error info vfio-user:/nonexistent/upci-test.sock
check_error info 'sim:testdev?vectors=999'
check_error info 'sim:testdev?vectors=1,vectors=2'
check_error info "$(printf 'sim:e\ndu')"
check_error read sim:edu 0 0 3
check_error read sim:edu 0 0x200000
check_error read sim:edu 0 0xffffffffffffffff 8
check_error read sim:edu 0 2
check_error read sim:edu
check_error read sim:edu 0
check_error read sim:edu 6 0
check_error read sim:edu 0 12xyz
check_error read sim:edu 0 0x
check_error read sim:edu 0 ' 1'
check_error read sim:edu 0 99999999999999999999999
check_error read sim:edu 0 0x10000000000000000
check_error read sim:edu 0 -1
check_error read sim:edu 0 0 4 extra
check_error read sim:edu 1 0
check_error write sim:edu 0 0
check_error write sim:edu 0 0 0x100 1
check_error write sim:edu 0 0 junk
check_error write sim:edu 0 0 1 16
check_error config sim:edu --size 0
check_error config sim:edu --size 4097
check_error config sim:edu --size 512
check_error config sim:edu --size
check_error config sim:edu --bogus
check_error irq sim:testdev --type msi
check_error irq sim:testdev --type bogus
check_error irq sim:testdev --vectors 257
check_error irq sim:testdev --vectors 33
check_error irq sim:testdev --count 0
check_error irq sim:testdev --count 1x
check_error irq sim:testdev --timeout 0
check_error irq sim:testdev --timeout 99999999999
check_error irq sim:testdev --timeout 200
check_error irq sim:testdev --fire --interval 4000000
check_error reset
check_error help nope

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Smoke test of the upci command-line tool on the sim backend.
# Usage: test_cli.sh PATH/TO/upci
set -u

UPCI=${1:?usage: test_cli.sh PATH/TO/upci}
pass=0
fail=0
tmp=$(mktemp -d)
# A directory other users may enter, for the socket permission tests.
pub=$(mktemp -d /tmp/upci-cli-XXXXXX)
chmod 755 "$pub"
spid=
trap '[ -n "$spid" ] && kill -9 "$spid" 2>/dev/null; rm -rf "$tmp" "$pub"' EXIT

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

# A failing invocation: the exit code of the rule (upci(1) EXIT STATUS:
# 1 device error, 2 usage error, 3 no such device) and exactly one stderr
# line "upci: ...".
check_error() {
	local want=$1
	shift
	local what="$*"
	run "$@"
	local rc=$?
	local lines
	lines=$(wc -l <"$tmp/err")
	if [ $rc -eq "$want" ] && [ "$lines" -eq 1 ] && grep -q '^upci: ' "$tmp/err"; then
		ok "error: upci $what -> exit $rc: $(cat "$tmp/err")"
	else
		bad "error: upci $what (exit $rc, want $want; $lines stderr lines)"
	fi
}

# A successful invocation whose stdout must not match a regex.
check_absent() {
	local regex=$1
	shift
	run "$@"
	local rc=$?
	if [ $rc -eq 0 ] && ! grep -Eq -- "$regex" "$tmp/out"; then
		ok "upci $* (no /$regex/)"
	else
		bad "upci $* (exit $rc, or /$regex/ printed)"
	fi
}

# A failing invocation whose one stderr line matches a regex: the words a
# user reads for a code keep the code's standard meaning, with the
# operation's own context where the CLI knows it.
check_error_says() {
	local regex=$1
	shift
	run "$@"
	local rc=$?
	if [ $rc -ne 0 ] && [ $rc -ne 124 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -Eq -- "$regex" "$tmp/err"; then
		ok "error: upci $* says /$regex/"
	else
		bad "error: upci $* (exit $rc; expected stderr /$regex/)"
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
# Offsets and values are hex as in setpci: "10" is 0x10 (testdev's BAR2 size).
check_ok '^0x0000000000100000$' read sim:testdev 0 10 8
check_ok '^0x0000000000100000$' read sim:testdev 0 0x10 8
check_ok '' write sim:edu 0 4 12345678
check_ok '' write sim:testdev 2 0x100 ff 1
check_ok '^f0: ' config sim:edu
check_ok '^ff0: ' config sim:testdev
check_ok '^20: ' config sim:edu --size 0x30
check_ok 'MSI-X: Enable- Count=64 Masked-' info 'sim:testdev?vectors=64'
check_ok 'MSI: Enable- Count=1/1 Maskable- 64bit\+' info sim:edu
check_ok 'Region 0: Memory at <unassigned> \(32-bit, non-prefetchable\) \[disabled\] \[size=1M\]$' info sim:edu
check_ok '^00:01\.0 00ff: 1234:11e8 \(rev 10\)$' info -n sim:edu
check_ok '^00:01\.0 Unclassified device \[00ff\]: .*\[1234:11e8\] \(rev 10\)$' info -nn sim:edu
check_ok '^0000:00:01\.0 ' info -D sim:edu
check_ok '^30: ' info -x sim:edu
check_absent '^40: ' info -x sim:edu
check_ok '^ff0: ' info -xxxx sim:testdev
check_ok $'^\tupci: interrupt vectors offered: MSI-X 32' info -u sim:testdev
# A model has no IRQ route: lspci's "routed to IRQ" line is not made up.
check_absent 'routed to IRQ|^\tInterrupt' info sim:edu
check_absent 'upci:' info sim:edu
# setpci's register forms: names, widths, capabilities, masked writes, order.
check_ok '^1234$' config sim:edu VENDOR_ID
check_ok '^11e81234$' config sim:edu 0.l
check_ok '^0080$' config sim:edu CAP_MSI+2.w
check_ok '^0080$' config sim:edu cap5+2.W
check_ok '^00000001$' config sim:testdev ECAP_DSN+4.l
check_ok '^2810$' config sim:testdev CAP_EXP+8.w
check_ok '^0006$' config sim:edu COMMAND=6 COMMAND
check_ok '^0004$' config sim:edu COMMAND=6:4 COMMAND
check_ok '^0000:00:01\.0 @04 0006$' config -v sim:edu COMMAND=6
check_ok '^cap pos w name$' config --names
check_ok '^upci [0-9]+\.[0-9]+' --version
check_ok '3 no such device' --help

for cmd in demo info config read write irq reset serve; do
	check_ok "^Usage: upci $cmd" "$cmd" --help
	check_ok "^Usage: upci $cmd" "$cmd" -h
done
check_ok '^Usage: upci' --help
check_ok '^Usage: upci read' help read

# Failures, each with the exit code of the rule.
check_error 2
check_error 2 frobnicate
check_error 2 --frobnicate
check_error 2 demo 'sim:foo?x'
check_error 3 demo sim:nomodel
check_error 2 demo 'sim:testdev?vectors=300'
check_error 2 demo sim:edu extra
check_error 2 info
check_error 2 info ''
check_error 2 info 'sim:ed u'
check_error 3 info vfio:0000:7f:1f.7
check_error 3 info sysfs:0000:7f:1f.7
check_error 3 info dext:03:00.0
check_error 3 info vfio-user:/nonexistent/upci-test.sock
check_error 2 info 'sim:testdev?vectors=999'
check_error 2 info 'sim:testdev?vectors=1,vectors=2'
check_error 2 info "$(printf 'sim:e\ndu')"
check_error 2 info -xxxxx sim:edu
check_error 2 info -nnn sim:edu
check_error 2 info --json -n sim:edu
check_error 2 read sim:edu 0 0 3
check_error 1 read sim:edu 0 0x200000
check_error 2 read sim:edu 0 0xffffffffffffffff 8
check_error 2 read sim:edu 0 2
check_error 2 read sim:edu 0 6 8
check_error 2 read sim:edu
check_error 2 read sim:edu 0
check_error 2 read sim:edu 6 0
check_error 2 read sim:edu 0 12xyz
check_error 2 read sim:edu 0 0x
check_error 2 read sim:edu 0 ' 1'
check_error 2 read sim:edu 0 99999999999999999999999
check_error 2 read sim:edu 0 0x10000000000000000
check_error 2 read sim:edu 0 -1
check_error 2 read sim:edu 0 0 4 extra
check_error 1 read sim:edu 1 0
check_error 3 read sim:nomodel 0 0
check_error 2 write sim:edu 0 0
check_error 2 write sim:edu 0 0 0x100 1
check_error 2 write sim:edu 0 0 junk
check_error 2 write sim:edu 0 0 1 16
check_error 2 write sim:edu 0 1 1
check_error 2 config sim:edu --size 0
check_error 2 config sim:edu --size 4097
check_error 1 config sim:edu --size 512
check_error 2 config sim:edu --size
check_error 2 config sim:edu --bogus
check_error 2 config sim:edu --size 10 COMMAND
check_error 2 config sim:edu BOGUS
check_error 2 config sim:edu CAP_PM+2
check_error 2 config sim:edu 3.w
check_error 2 config sim:edu 1000.b
check_error 2 config sim:edu ffe.l
check_error 2 config sim:edu COMMAND=10000
check_error 2 config sim:edu COMMAND=1:10000
check_error 2 config sim:edu COMMAND=
check_error 2 config sim:edu COMMAND=1,
check_error 2 config sim:edu 4.q
check_error 2 config sim:edu COMMAND@1
check_error 1 config sim:edu CAP_EXP+8.w
check_error 1 config sim:edu CAP_MSI+4.w@1
check_error 1 config sim:edu PRIMARY_BUS
check_error 1 config sim:edu 100.l
check_error 3 config sim:nomodel COMMAND
check_error 1 irq sim:testdev --type msi
check_error 2 irq sim:testdev --type bogus
check_error 2 irq sim:testdev --vectors 257
check_error 1 irq sim:testdev --vectors 33
check_error 2 irq sim:testdev --count 0
check_error 2 irq sim:testdev --count 1x
check_error 2 irq sim:testdev --timeout 0
check_error 2 irq sim:testdev --timeout 99999999999
check_error 1 irq sim:testdev --timeout 200
check_error 2 irq sim:testdev --fire --interval 4000000
# The words: each code keeps its standard meaning, with the operation's
# context where the CLI knows it.
check_error_says 'read BAR0\+0x200000 width 4: outside the BAR' read sim:edu 0 0x200000
if [ "$(uname -s)" = Linux ]; then # the vfio-user client is built on Linux only
	check_error_says 'open: no such file or directory$' info vfio-user:/nonexistent/upci-test.sock
	# A socket file nobody listens on: what a server killed with SIGKILL leaves.
	if python3 -c "import socket; socket.socket(socket.AF_UNIX).bind('$tmp/stale.sock')" 2>/dev/null; then
		check_error_says 'open: connection refused$' info "vfio-user:$tmp/stale.sock"
	fi
fi
check_error 2 reset
check_error 3 reset sim:nomodel
check_error 2 help nope
check_error 2 list --bogus

# A host function without VFIO: read-only through sysfs (Linux with a PCI bus).
host=$(ls /sys/bus/pci/devices 2>/dev/null | head -n1)
if [ -n "$host" ]; then
	check_ok "^${host#0000:} " info "$host"
	check_ok "^$(cut -c3-6 "/sys/bus/pci/devices/$host/vendor")\$" config "$host" VENDOR_ID
	check_ok "^${host} " list
	check_error 1 read "sysfs:$host" 0 0
	check_error 1 config "sysfs:$host" COMMAND=0:0
	check_error 3 bind 0000:7f:1f.7
fi

# upci(1) states the same exit-code rule the tool follows.
man1=$(dirname "$0")/../../docs/man/upci.1
for code in 0 1 2 3; do
	if sed -n '/^\.SH EXIT STATUS/,/^\.SH /p' "$man1" | grep -qx "\.B $code"; then
		ok "upci(1) EXIT STATUS documents $code"
	else
		bad "upci(1) EXIT STATUS does not document $code"
	fi
done
check_error 2 serve sim:edu --socket "$tmp/x.sock" --socket-mode 888
check_error 2 serve sim:edu --socket "$tmp/x.sock" --socket-mode 1777
check_error 2 serve sim:edu --socket "$tmp/x.sock" --socket-mode ''
check_error 2 serve sim:edu --socket "$tmp/x.sock" --socket-group no-such-group-upci
check_error 2 serve sim:edu --socket "$tmp/x.sock" --socket-group 4294967295
check_error 2 serve sim:edu --socket "$tmp/x.sock" --allow-uid no-such-user-upci
check_error 2 serve sim:edu --fd 3 --socket-mode 600
check_error 2 serve sim:edu --fd 3 --socket-group 0
check_error 2 serve sim:edu

# ---- upci serve: the socket file, who may connect, signals ----

# serve_start SOCK [OPTIONS...]: serve sim:testdev in the background (pid in
# $spid) and wait until it says it serves. Runs under umask 000: the
# socket's mode must not depend on it.
serve_start() {
	local sock=$1 i
	shift
	: >"$tmp/serve.out" # now: the new server's redirection may come late
	(trap - EXIT; umask 000; exec "$UPCI" serve 'sim:testdev?vectors=4' --socket "$sock" "$@") \
		>"$tmp/serve.out" 2>"$tmp/serve.err" &
	spid=$!
	for i in $(seq 200); do
		grep -q '^upci: serving' "$tmp/serve.out" && return 0
		kill -0 "$spid" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# serve_end SIG: send SIG; the server must be gone within 1 s. Sets $src
# (its exit status) and $sms (milliseconds it took); returns 1 if it was
# still running (it is then killed).
serve_end() {
	local t0 t1 i
	t0=$(date +%s%N)
	kill -s "$1" "$spid"
	for i in $(seq 200); do
		kill -0 "$spid" 2>/dev/null || break
		sleep 0.005
	done
	t1=$(date +%s%N)
	sms=$(((t1 - t0) / 1000000))
	if kill -0 "$spid" 2>/dev/null; then
		kill -9 "$spid"
		wait "$spid" 2>/dev/null
		spid=
		src=137
		return 1
	fi
	wait "$spid"
	src=$?
	spid=
	[ "$sms" -le 1000 ]
}

# as_nobody CMD...: run the tool as user nobody (root only).
as_nobody() {
	${bound[@]+"${bound[@]}"} runuser -u nobody -- "$@" >"$tmp/out" 2>"$tmp/err"
}
can_nobody=0
if [ "$(id -u)" = 0 ] && command -v runuser >/dev/null 2>&1 && id nobody >/dev/null 2>&1 &&
	runuser -u nobody -- "$UPCI" --version >/dev/null 2>&1; then
	can_nobody=1
fi

sock=$pub/td.sock
if serve_start "$sock"; then
	mode=$(stat -c %a "$sock")
	[ "$mode" = 600 ] && ok "serve: socket mode 600 under umask 000" ||
		bad "serve: socket mode $mode under umask 000 (want 600)"
	check_ok '^00:00.0 ' info "vfio-user:$sock"
	if [ $can_nobody = 1 ]; then
		if ! as_nobody "$UPCI" info "vfio-user:$sock" && grep -qi 'permission denied' "$tmp/err"; then
			ok "serve: another user (nobody) cannot connect by default"
		else
			bad "serve: nobody connected to a default socket"
		fi
	fi
	# SIGUSR1, SIGUSR2, SIGALRM: still serving; USR1 says what and where
	for sig in USR1 USR2 ALRM; do
		kill -s $sig "$spid"
		sleep 0.2
		if kill -0 "$spid" 2>/dev/null && [ -S "$sock" ]; then
			ok "serve: SIG$sig does not stop it"
		else
			bad "serve: SIG$sig stopped it"
		fi
	done
	grep -q "^upci: serving sim:testdev?vectors=4 on $sock (vfio-user), pid $spid\$" "$tmp/serve.err" &&
		ok "serve: SIGUSR1 prints a status line" || bad "serve: no status line on SIGUSR1"
	# A client connected and waiting (upci irq over vfio-user): SIGTERM still ends it at once.
	${bound[@]+"${bound[@]}"} "$UPCI" irq "vfio-user:$sock" --timeout 15000 >"$tmp/cl.out" 2>&1 &
	cpid=$!
	sleep 0.5
	if serve_end TERM && [ $src = 0 ] && [ ! -e "$sock" ]; then
		ok "serve: SIGTERM with a client connected: exit 0 in $sms ms, socket removed"
	else
		bad "serve: SIGTERM with a client connected (exit $src after $sms ms, socket $(ls "$sock" 2>&1))"
	fi
	wait "$cpid" 2>/dev/null
else
	bad "serve: did not start"
fi

for sig in INT TERM HUP QUIT; do
	if serve_start "$sock"; then
		if serve_end $sig && [ $src = 0 ] && [ ! -e "$sock" ]; then
			ok "serve: SIG$sig stops it: exit 0 in $sms ms, socket removed"
		else
			bad "serve: SIG$sig (exit $src after $sms ms; socket: $(ls -l "$sock" 2>&1))"
		fi
	else
		bad "serve: did not start"
	fi
done

# Someone puts a file where the socket was: it is not deleted at exit.
if serve_start "$sock"; then
	rm -f "$sock"
	echo keep >"$sock"
	serve_end TERM
	if [ "$src" = 0 ] && [ "$(cat "$sock" 2>/dev/null)" = keep ]; then
		ok "serve: an unrelated file at the socket path survives the exit"
	else
		bad "serve: the file put at the socket path was removed (exit $src)"
	fi
	# and a file there is never replaced by a new server
	run serve sim:edu --socket "$sock"
	if [ $? = 1 ] && [ "$(cat "$sock")" = keep ] && grep -q 'exists and is not a stale socket' "$tmp/err"; then
		ok "serve: refuses a path that holds a file, and leaves it"
	else
		bad "serve: a path holding a file"
	fi
	rm -f "$sock"
fi

# A socket left by a killed server (nobody listening) is replaced.
if serve_start "$sock"; then
	kill -9 "$spid"
	wait "$spid" 2>/dev/null
	spid=
	if [ -S "$sock" ] && serve_start "$sock" && serve_end TERM && [ $src = 0 ] && [ ! -e "$sock" ]; then
		ok "serve: a stale socket is replaced"
	else
		bad "serve: a stale socket"
	fi
fi

# Widening: mode, group, allow list.
if [ $can_nobody = 1 ]; then
	# nobody_case WANT WHAT OPTIONS...: WANT is ok or denied
	nobody_case() {
		local want=$1 what=$2
		shift 2
		if ! serve_start "$sock" "$@"; then
			bad "serve $*: did not start"
			return
		fi
		if as_nobody "$UPCI" info "vfio-user:$sock"; then got=ok; else got=denied; fi
		if [ $got = denied ] && ! grep -qi 'permission denied' "$tmp/err"; then
			got="failed: $(cat "$tmp/err")"
		fi
		if [ "$got" = "$want" ]; then
			ok "serve $*: nobody $want ($what)"
		else
			bad "serve $*: nobody $got, want $want ($what)"
		fi
		serve_end TERM
	}
	nobody_case ok "mode 666" --socket-mode 666
	nobody_case ok "group nogroup, mode 660" --socket-group nogroup
	nobody_case denied "group nogroup, mode 600" --socket-group nogroup --socket-mode 0600
	nobody_case denied "allow list without nobody" --socket-mode 666 --allow-uid root
	nobody_case ok "allow list with nobody" --socket-mode 666 --allow-uid nobody --allow-uid 1234
	if serve_start "$sock" --socket-group nogroup; then
		got=$(stat -c '%a %G' "$sock")
		[ "$got" = "660 nogroup" ] && ok "serve --socket-group nogroup: $got" || bad "serve --socket-group: $got"
		serve_end TERM
	fi
else
	echo "skip - socket permission tests as nobody (need root, runuser and a reachable $UPCI)"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

#!/bin/sh
# SPDX-License-Identifier: MIT
#
# run-conformance.sh UPCI_BIN CONF_BIN URI [CONF_ARGS...]
#
# The conformance suite over vfio-user: start `UPCI_BIN serve URI` on a
# temporary socket, run `CONF_BIN vfio-user:SOCKET` against it, then stop
# the server with SIGTERM and require that it exits 0. Exit status: the
# suite's, or 1 when the server misbehaved (never listened, died, or did
# not stop cleanly).
set -u

if [ $# -lt 3 ]; then
	echo "usage: $0 UPCI_BIN CONF_BIN URI [CONF_ARGS...]" >&2
	exit 2
fi
upci=$1
conf=$2
uri=$3
shift 3 # the rest goes to the conformance program (e.g. --peer URI2)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/upci-vfu.XXXXXX") || exit 1
sock=$tmp/s.sock
pid=

cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

"$upci" serve "$uri" --socket "$sock" &
pid=$!

# Up to 10 s for the socket: a sanitizer build starts slowly.
i=0
while [ ! -S "$sock" ]; do
	if ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid"
		echo "FAIL: 'upci serve $uri' exited with status $? before listening" >&2
		pid=
		exit 1
	fi
	i=$((i + 1))
	if [ $i -gt 200 ]; then
		echo "FAIL: 'upci serve $uri' did not create $sock within 10 s" >&2
		exit 1
	fi
	sleep 0.05
done

"$conf" "$@" "vfio-user:$sock"
rc=$?

# SIGTERM is how a VMM's management stops a vhost-user style backend:
# the server must exit, and exit 0.
kill -TERM "$pid"
i=0
while kill -0 "$pid" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 200 ]; then
		echo "FAIL: 'upci serve' still running 10 s after SIGTERM" >&2
		exit 1
	fi
	sleep 0.05
done
wait "$pid"
src=$?
pid=
if [ $src -ne 0 ]; then
	echo "FAIL: 'upci serve $uri' exited with status $src after SIGTERM" >&2
	rc=1
fi
exit $rc

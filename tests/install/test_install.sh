#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# An installed copy is enough to write and serve a device: install the build
# into a staging directory (meson install --destdir), build the GPIO example
# out of tree with nothing but `pkg-config --cflags --libs upci` (and the
# C++ compiler on both headers, when there is one), serve it over vfio-user
# and read its ID register with the installed upci tool.
#   test_install.sh BUILD_DIR SOURCE_DIR [EXTRA_CFLAGS...]
# EXTRA_CFLAGS: what the library was built with that its users need too
# (the sanitizers of a -Db_sanitize build).
set -u
B=$(cd "${1:?build dir}" && pwd)
SRC=$(cd "${2:?source dir}" && pwd)
shift 2
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
fail() { echo "FAIL - $*"; [ -f "$tmp/log" ] && sed 's/^/       | /' "$tmp/log" | tail -20; exit 1; }
ok() { echo "ok   - $*"; }

opt() { # the value of meson option $1
	meson introspect "$B" --buildoptions | python3 -c \
		"import json,sys; print([o['value'] for o in json.load(sys.stdin) if o['name']=='$1'][0])"
}
prefix=$(opt prefix) libdir=$(opt libdir) bindir=$(opt bindir)
case $libdir in /*) ;; *) libdir=$prefix/$libdir ;; esac
case $bindir in /*) ;; *) bindir=$prefix/$bindir ;; esac
stage=$tmp/stage

meson install -C "$B" --destdir "$stage" --no-rebuild >"$tmp/log" 2>&1 || fail "meson install --destdir"
ok "meson install --destdir"
for f in "$prefix/include/upci/upci.h" "$prefix/include/upci/model.h" "$libdir/pkgconfig/upci.pc" \
	"$prefix/share/man/man3/upci_model_register.3" "$prefix/share/man/man3/upci_server_start.3"; do
	[ -f "$stage$f" ] || fail "$f is not installed"
done
ok "headers, pkg-config file and the device API's man pages installed"

# Out of tree: the example's sources alone, in a directory of their own.
mkdir "$tmp/gpio"
cp "$SRC/examples/gpio/gpio.c" "$SRC/examples/gpio/gpio.h" "$SRC/examples/gpio/main.c" "$tmp/gpio/"
export PKG_CONFIG_PATH=$stage$libdir/pkgconfig PKG_CONFIG_SYSROOT_DIR=$stage
flags=$(pkg-config --cflags --libs upci) || fail "pkg-config --cflags --libs upci"
# shellcheck disable=SC2086 # word splitting of the flags is the point
(cd "$tmp/gpio" && cc -std=gnu11 -Wall -Wextra -Werror "$@" gpio.c main.c $flags -o upci-gpio) >"$tmp/log" 2>&1 ||
	fail "cc gpio.c main.c \$(pkg-config --cflags --libs upci)"
ok "the GPIO example builds out of tree with pkg-config --cflags --libs upci ($flags)"
if command -v c++ >/dev/null; then
	# shellcheck disable=SC2086
	printf '#include <upci/upci.h>\n#include <upci/model.h>\nint main() { return UPCI_MODEL_API_VERSION - 1; }\n' |
		c++ -x c++ -Wall -Wextra -Werror $(pkg-config --cflags upci) -fsyntax-only - >"$tmp/log" 2>&1 ||
		fail "the headers do not compile as C++"
	ok "upci.h and model.h compile as C++"
fi

export LD_LIBRARY_PATH=$stage$libdir
"$tmp/gpio/upci-gpio" --socket "$tmp/gpio.sock" >"$tmp/serve.out" 2>"$tmp/log" &
pid=$!
for _ in $(seq 100); do grep -q '^upci: serving sim:gpio on ' "$tmp/serve.out" && break; sleep 0.1; done
grep -q '^upci: serving sim:gpio on ' "$tmp/serve.out" || fail "upci-gpio did not start"
id=$("$stage$bindir/upci" read "vfio-user:$tmp/gpio.sock" 0 0 2>"$tmp/log") || fail "upci read vfio-user: ID"
[ "$id" = 0x4f495047 ] || fail "ID register over vfio-user: $id, want 0x4f495047"
ok "served by the out-of-tree upci-gpio, its ID read over vfio-user: $id"
ids=$("$stage$bindir/upci" info -n "vfio-user:$tmp/gpio.sock" 2>"$tmp/log" | head -1)
case $ids in *1af4:10f1*) ok "upci info: $ids" ;; *) fail "upci info: $ids" ;; esac
kill "$pid"
wait "$pid"
rc=$?
pid=
[ $rc -eq 0 ] && [ ! -e "$tmp/gpio.sock" ] || fail "SIGTERM: exit $rc, socket $(ls "$tmp/gpio.sock" 2>&1)"
ok "SIGTERM: exit 0, socket removed"

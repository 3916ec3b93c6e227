#!/usr/bin/env bash
# Build the static binaries the VFIO guest tests put in the initramfs:
#   build-static.sh SRC_ROOT BUILD_DIR
# A meson build of its own (prefer_static, -static, no sanitizers: a static
# binary cannot carry ASan) in BUILD_DIR, kept between runs so later builds
# are incremental. Prints nothing on success but the BUILD_DIR's bin list.
# Exit: 0 ok, 1 build error (the log's tail is printed).
set -euo pipefail

SRC=$(cd "${1:?source root}" && pwd)
B=${2:?build dir}
say() { echo "build-static: $*" >&2; }

mkdir -p "$B"
exec 9>"$B.lock"
flock 9

TARGETS=(tools/upci tests/conformance/upci-conformance tests/vm/vfio/vfio_api tests/vm/vfio/nvme_msix
	tests/vm/vfio/nvme_kbench examples/upci-nvme tests/stress/upci-stress bench/bench-vfio
	tests/vm/vfio/gpio_guest examples/upci-gpio)
if [ ! -f "$B/build.ninja" ]; then
	say "configuring a static build in $B"
	if ! meson setup "$B" "$SRC" --buildtype=release -Db_sanitize=none -Dprefer_static=true \
		-Dc_link_args=-static -Dwerror=false >"$B.setup.log" 2>&1; then
		tail -n 20 "$B.setup.log" >&2
		rm -rf "$B"
		say "error: meson setup failed"
		exit 1
	fi
fi
if ! ninja -C "$B" "${TARGETS[@]}" >"$B.ninja.log" 2>&1; then
	tail -n 30 "$B.ninja.log" >&2
	say "error: the static build failed (is libc6-dev / libjson-c-dev installed?)"
	exit 1
fi
for t in "${TARGETS[@]}"; do
	if ! file "$B/$t" 2>/dev/null | grep -q 'statically linked'; then
		command -v file >/dev/null && { say "error: $B/$t is not statically linked"; exit 1; }
	fi
done
gcc -static -O2 -o "$B/guest_exit" "$SRC/tests/vm/guest_exit.c"
echo "$B"

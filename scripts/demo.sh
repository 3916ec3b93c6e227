#!/usr/bin/env bash
# Set up a fresh Debian 12 machine, build upci and run its demo on the
# embedded sim:edu device (or the URI given as $1).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ ! -f build/build.ninja ]; then
	meson setup build >/dev/null
fi
ninja -C build >/dev/null
exec ./build/tools/upci demo "${1:-sim:edu}"

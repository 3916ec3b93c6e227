#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Golden test: upci info / upci config against lspci / setpci themselves.
# Usage: test_lspci.sh PATH/TO/upci [PATH/TO/upci-without-libpci]
#
#  - The models (sim:edu, sim:testdev) live inside upci, so lspci reads
#    them from upci's own -xxxx dump (lspci -F, setpci -A dump): every
#    capability decoder and every setpci register form is compared. Such a
#    dump has no BAR sizes and no IRQ route, so the Region and Interrupt
#    lines are left out of that comparison (the host's are compared below).
#  - The host's own PCI functions (Linux, read through sysfs, or VFIO when
#    bound to vfio-pci) are compared whole: upci info [-n|-nn|-x|-xxx] BDF
#    with lspci -vv [same] -s BDF, line for line (lspci's "Kernel modules"
#    line, which needs libkmod, is the one line upci does not print), and
#    setpci reads of the header and of every capability.
#  - A build without libpci (no names database) must print what lspci
#    prints without one (lspci -i /nonexistent): numbers in libpci's forms.
# Exit 77 (skip) when lspci/setpci (Debian: pciutils) are missing.
set -u

UPCI=${1:?usage: test_lspci.sh PATH/TO/upci [PATH/TO/upci-without-libpci]}
NOPCI=${2:-}
command -v lspci >/dev/null && command -v setpci >/dev/null || {
	echo "SKIP: lspci/setpci not found (Debian package pciutils; scripts/setup.sh installs it)"
	exit 77
}
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { pass=$((pass + 1)); echo "ok   - $1"; }
bad() {
	fail=$((fail + 1))
	echo "FAIL - $1"
	[ -f "$tmp/diff" ] && head -20 "$tmp/diff" | sed 's/^/       | /'
}
# same WHAT FILE_UPCI FILE_LSPCI
same() {
	if diff "$2" "$3" >"$tmp/diff" 2>&1; then ok "$1"; else bad "$1"; fi
	rm -f "$tmp/diff"
}
# live WHAT: run upci_side and lspci_side (functions set by the caller) and
# compare; a live function's STATUS (INTx) may change between the two
# reads, so a difference is read again once before it counts.
live() {
	local try
	for try in 1 2; do
		upci_side >"$tmp/u" 2>&1
		lspci_side >"$tmp/l" 2>&1
		cmp -s "$tmp/u" "$tmp/l" && break
	done
	same "$1" "$tmp/u" "$tmp/l"
}
# lspci prints "Unable to load libkmod resources" where there is no
# module index: noise on stderr, not output.
lspci_q() { lspci "$@" 2>/dev/null; }

# ---- the models, through upci's own dump ----
no_route() { grep -v -e $'^\tRegion ' -e $'^\tInterrupt: '; }
for uri in sim:edu 'sim:testdev?vectors=64' 'sim:testdev?vectors=1,mem=4096'; do
	if ! "$UPCI" info -xxxx "$uri" >"$tmp/dump" 2>"$tmp/err"; then
		bad "upci info -xxxx $uri: $(cat "$tmp/err")"
		continue
	fi
	for opt in "" -n -nn; do
		"$UPCI" info $opt "$uri" | no_route >"$tmp/u"
		lspci_q -F "$tmp/dump" -vv $opt | no_route >"$tmp/l"
		same "info $opt $uri = lspci -vv $opt on its dump" "$tmp/u" "$tmp/l"
	done
	"$UPCI" info -xxxx "$uri" | no_route >"$tmp/u"
	lspci_q -F "$tmp/dump" -vv -xxxx | no_route >"$tmp/l"
	same "info -xxxx $uri = lspci -vv -xxxx on its dump" "$tmp/u" "$tmp/l"
	regs="VENDOR_ID DEVICE_ID COMMAND STATUS REVISION CLASS_PROG CLASS_DEVICE HEADER_TYPE BASE_ADDRESS_0
		BASE_ADDRESS_2.l SUBSYSTEM_VENDOR_ID SUBSYSTEM_ID CAPABILITIES INTERRUPT_PIN 0.l 3d.b 0x2c.w CAP_MSI+2.w
		CAP5.b CAP_MSIX+2.w CAP_MSIX+4.l CAP_EXP+2.w CAP_EXP+8.w CAP_EXP+0c.l CAP_PM+4.w ECAP_DSN+4.l ECAP_DSN.l
		ECAP000b+4.l ECAP_VNDR+8.w"
	want=()
	for r in $regs; do
		# Only the registers this model has: setpci dies on the first missing one.
		setpci -A dump -O dump.name="$tmp/dump" -s 00:01.0 "$r" >/dev/null 2>&1 && want+=("$r")
	done
	"$UPCI" config "$uri" "${want[@]}" >"$tmp/u" 2>&1
	setpci -A dump -O dump.name="$tmp/dump" -s 00:01.0 "${want[@]}" >"$tmp/l" 2>&1
	same "config $uri ${#want[@]} registers = setpci on its dump" "$tmp/u" "$tmp/l"
	"$UPCI" config -v "$uri" "${want[@]}" >"$tmp/u" 2>&1
	setpci -v -A dump -O dump.name="$tmp/dump" -s 00:01.0 "${want[@]}" >"$tmp/l" 2>&1
	same "config -v $uri = setpci -v on its dump" "$tmp/u" "$tmp/l"
done

# A malformed capability chain: lspci's <chain looped> and <chain broken>.
"$UPCI" info -xxx sim:edu >"$tmp/dump"
sed -i 's/^40: 05 00/40: 05 40/' "$tmp/dump" # MSI's next pointer to itself
lspci_q -F "$tmp/dump" -vv | no_route >"$tmp/l"
grep -q 'chain looped' "$tmp/l" && ok "lspci sees the looped chain in the edited dump" || bad "edited dump has no loop"

# ---- the host's own functions ----
n=0
for d in /sys/bus/pci/devices/*; do
	[ -e "$d/config" ] || continue
	bdf=$(basename "$d")
	short=${bdf#0000:}
	n=$((n + 1))
	[ $n -le 16 ] || break
	for opt in "" -n -nn -x -xxx; do
		upci_side() { "$UPCI" info $opt "$bdf"; }
		lspci_side() { lspci_q -vv $opt -s "$bdf" | grep -v $'^\tKernel modules: '; }
		live "info $opt $short = lspci -vv $opt -s $short"
	done
	regs="VENDOR_ID DEVICE_ID COMMAND STATUS REVISION CLASS_DEVICE HEADER_TYPE 0.l 8.l 3c.b 0xe.b"
	for c in $("$UPCI" info --json "$bdf" | python3 -c \
		'import json,sys; print(" ".join("CAP%02x.w CAP%02x+2.w" % (c["id"], c["id"]) for c in json.load(sys.stdin)["capabilities"]))'); do
		regs="$regs $c"
	done
	# shellcheck disable=SC2086
	upci_side() { "$UPCI" config "$bdf" $regs; }
	# shellcheck disable=SC2086
	lspci_side() { setpci -s "$bdf" $regs; }
	live "config $short $(echo $regs | wc -w) registers = setpci -s $short"
	if [ -n "$NOPCI" ]; then
		for opt in "" -nn; do
			upci_side() { "$NOPCI" info $opt "$bdf"; }
			lspci_side() { lspci_q -i /nonexistent/pci.ids -vv $opt -s "$bdf" | grep -v $'^\tKernel modules: '; }
			live "no libpci: info $opt $short = lspci -vv $opt without pci.ids"
		done
	fi
done
[ $n -gt 0 ] || echo "# no host PCI functions here: only the models were compared"

# As a user, sysfs gives 64 bytes of config space: "<access denied>" both.
first=$(ls /sys/bus/pci/devices 2>/dev/null | head -n1)
as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
if [ -n "$first" ] && [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null &&
	"${as_user[@]}" "$UPCI" --version >/dev/null 2>&1; then
	upci_side() { "${as_user[@]}" "$UPCI" info -xxx "$first"; }
	lspci_side() { "${as_user[@]}" lspci -vv -xxx -s "$first" 2>/dev/null | grep -v $'^\tKernel modules: '; }
	live "as a user: info -xxx ${first#0000:} = lspci -vv -xxx (64 readable bytes)"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

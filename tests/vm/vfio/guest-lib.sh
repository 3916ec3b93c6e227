# Helpers for the guest test scripts (busybox sh), installed as
# /lib/upci-guest-lib.sh. Every check prints one line: "ok - ..." or
# "FAIL - ..."; a script ends with 'finish', whose status is the result.
# Commands whose output matters are run with UPCI_LOG unset: the library
# stays silent, so stderr holds only the CLI's own one-line errors.
FAILS=0
ok() { echo "ok - $*"; }
bad() { echo "FAIL - $*"; FAILS=$((FAILS + 1)); }
finish() {
	if [ "$FAILS" -eq 0 ]; then echo "guest: all checks passed"; exit 0; fi
	echo "guest: $FAILS check(s) failed"
	exit 1
}
# check "what" cmd...: the command must succeed (its output is shown).
check() {
	what=$1; shift
	if "$@"; then ok "$what"; else bad "$what (exit $?: $*)"; fi
}
# BDFs of vendor:device ($1 $2, hex without 0x), sorted.
find_devs() {
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = "0x$1" ] && [ "$(cat "$d/device")" = "0x$2" ] && basename "$d"
	done | sort
}
driver_of() { # prints the driver's name or "none"
	if [ -e "/sys/bus/pci/devices/$1/driver" ]; then basename "$(readlink "/sys/bus/pci/devices/$1/driver")"; else echo none; fi
}
group_of() { basename "$(readlink "/sys/bus/pci/devices/$1/iommu_group")"; }
parent_of() { basename "$(dirname "$(readlink -f "/sys/bus/pci/devices/$1")")"; }
# expect_err "what" STATUS PREFIX cmd...: the command must exit with STATUS
# and print exactly one line on stderr, starting with PREFIX.
expect_err() {
	what=$1 want=$2 prefix=$3; shift 3
	"$@" >/tmp/out.txt 2>/tmp/err.txt
	st=$?
	n=$(grep -c '' /tmp/err.txt)
	line=$(head -n1 /tmp/err.txt)
	case "$line" in
	"$prefix"*) pre=1 ;;
	*) pre=0 ;;
	esac
	if [ "$st" -eq "$want" ] && [ "$n" -eq 1 ] && [ $pre -eq 1 ]; then
		ok "$what: $line"
	else
		bad "$what: exit $st (want $want), $n stderr line(s) (want 1 starting '$prefix'): $(cat /tmp/err.txt)"
	fi
}

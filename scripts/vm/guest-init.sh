#!/bin/busybox sh
# shellcheck shell=dash
# /init of the upci test initramfs (scripts/vm/mkinitramfs.sh copies this file
# in as /init; it runs under busybox sh inside the guest, not on the host).
#
# 1. mounts proc, sys, devtmpfs, tmpfs;
# 2. insmods /lib/modules/upci/*.ko in the order of /lib/modules/upci/order,
#    passing any "module.param=value" found on the kernel command line
#    (busybox insmod does not read them itself);
# 3. binds every PCI device whose vendor:device is listed in
#    upci.bind=VVVV:DDDD[,VVVV:DDDD...] to vfio-pci (driver_override +
#    drivers_probe) and waits for /dev/vfio/<group>;
# 4. runs /test.sh (if present) with
#      UPCI_BDF      first bound device (0000:00:02.0), UPCI_BDFS all of them,
#      UPCI_GROUP    its IOMMU group number, UPCI_GROUPS all of them,
#      UPCI_BDF_<vvvv>_<dddd>  the device(s) matching each id;
# 5. prints "UPCI-GUEST-RESULT: <rc>" on the console, then guest_exit <rc>
#    (isa-debug-exit) if present, else poweroff -f.
# rc 120 means the guest set-up itself failed (a line "UPCI-GUEST-ERROR: ..."
# says why). upci.shell=1 opens a shell on the console before exiting;
# upci.debug=1 traces this script.
/bin/busybox mkdir -p /proc /sys /dev /tmp /run /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/ TERM=vt100
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
# The archive may carry no /dev/console node; make sure we talk to it.
[ -c /dev/console ] && exec </dev/console >/dev/console 2>&1

# Start on a fresh line: the firmware leaves the cursor after its banner.
echo
echo "upci-init: kernel $(uname -r)"
CMDLINE=$(cat /proc/cmdline)
param() { # param NAME: value of NAME=... on the kernel command line
	for t in $CMDLINE; do
		case "$t" in "$1"=*) echo "${t#*=}"; return 0 ;; esac
	done
	return 1
}
[ "$(param upci.debug)" = 1 ] && set -x

rc=0
fail() {
	echo "UPCI-GUEST-ERROR: $*"
	rc=120
}

finish() {
	echo "UPCI-GUEST-RESULT: $rc"
	[ "$(param upci.shell)" = 1 ] && setsid cttyhack sh
	sync
	x=$rc
	[ "$x" -gt 127 ] && x=127
	command -v guest_exit >/dev/null && guest_exit "$x"
	sleep 0.2 # let the console drain
	poweroff -f
	while :; do sleep 1; done
}

# 2. modules
M=/lib/modules/upci
if [ -f $M/order ]; then
	for mod in $(cat $M/order); do
		name=$(echo "$mod" | tr - _)
		args=""
		for t in $CMDLINE; do
			case "$t" in *.*=*) ;; *) continue ;; esac
			[ "$(echo "${t%%.*}" | tr - _)" = "$name" ] && args="$args ${t#*.}"
		done
		[ -d /sys/module/"$name" ] && continue
		# shellcheck disable=SC2086
		if ! out=$(insmod $M/"$mod".ko $args 2>&1); then
			echo "upci-init: insmod $mod$args: $out"
		fi
	done
fi

# 3. bind to vfio-pci
BDFS="" GRPS=""
bind_one() { # bind_one /sys/bus/pci/devices/BDF
	p=$1 bdf=${1##*/}
	if [ -e "$p/driver" ]; then
		cur=$(basename "$(readlink "$p/driver")")
		[ "$cur" = vfio-pci ] || echo "$bdf" >"$p/driver/unbind"
	fi
	echo vfio-pci >"$p/driver_override"
	echo "$bdf" >/sys/bus/pci/drivers_probe 2>/dev/null
	if [ "$(basename "$(readlink "$p/driver" 2>/dev/null)")" != vfio-pci ]; then
		[ -d /sys/bus/pci/drivers/vfio-pci ] || { fail "$bdf: no vfio-pci driver (module not loaded?)"; return 1; }
		[ -e "$p/iommu_group" ] || { fail "$bdf: no IOMMU group (need -device intel-iommu and intel_iommu=on)"; return 1; }
		fail "$bdf: vfio-pci did not bind"
		return 1
	fi
	g=$(basename "$(readlink "$p/iommu_group")")
	n=0
	while [ ! -c /dev/vfio/"$g" ] && [ $n -lt 50 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	[ -c /dev/vfio/"$g" ] || { fail "$bdf: /dev/vfio/$g did not appear"; return 1; }
	echo "upci-init: $bdf ($(cat "$p/vendor"):$(cat "$p/device")) bound to vfio-pci, group $g"
	BDFS="$BDFS $bdf"
	case " $GRPS " in *" $g "*) ;; *) GRPS="$GRPS $g" ;; esac
	return 0
}

for id in $(param upci.bind | tr ',' ' ' | tr 'A-F' 'a-f'); do
	v=${id%%:*} d=${id#*:}
	found=""
	for p in /sys/bus/pci/devices/*; do
		[ "$(cat "$p/vendor")" = "0x$v" ] && [ "$(cat "$p/device")" = "0x$d" ] || continue
		bind_one "$p" && found="$found ${p##*/}"
	done
	if [ -z "$found" ]; then
		[ $rc -eq 0 ] && fail "no PCI device $v:$d bound (is the -device on the QEMU command line?)"
	else
		export "UPCI_BDF_${v}_${d}=${found# }"
	fi
done
BDFS=${BDFS# } GRPS=${GRPS# }
export UPCI_BDFS="$BDFS" UPCI_GROUPS="$GRPS" UPCI_BDF="${BDFS%% *}" UPCI_GROUP="${GRPS%% *}"

# 4. the test
if [ $rc -eq 0 ] && [ -f /test.sh ]; then
	cd /tmp || true
	sh /test.sh
	rc=$?
	cd / || true
fi
finish

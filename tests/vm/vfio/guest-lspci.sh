# Guest side of 'run.sh lspci': upci info / upci config against the real
# lspci / setpci (the build host's pciutils, with its libraries, under
# /opt/pciutils) on the same functions, read the same way (sysfs). No
# pci.ids is packed and the static upci has no libpci: both print the
# numbers libpci prints without its database, so the name forms compare
# too. Topology (run.sh): 00:03.0 edu (no driver), 00:04.0 pci-serial
# (driver: serial), 00:05.0 edu (bound to vfio-pci here, driven by upci
# while setpci watches).
. /lib/upci-guest-lib.sh
export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu
LSPCI=/opt/pciutils/lspci SETPCI=/opt/pciutils/setpci
EDU=0000:00:03.0 SER=0000:00:04.0 VEDU=0000:00:05.0

"$LSPCI" -n >/tmp/l.txt 2>&1 || { cat /tmp/l.txt; bad "lspci does not run in the guest"; finish; }
ok "lspci runs: $(grep -c '' /tmp/l.txt) functions"
[ -e /sys/bus/pci/devices/$EDU ] && [ -e /sys/bus/pci/devices/$SER ] && [ -e /sys/bus/pci/devices/$VEDU ] ||
	{ bad "devices not where run.sh puts them"; "$LSPCI" -n; finish; }

# same WHAT FILE_UPCI FILE_LSPCI: identical, else both shown.
same() {
	if cmp -s "$2" "$3"; then
		ok "$1"
	else
		bad "$1"
		diff "$2" "$3" | head -n 30
	fi
}

echo "== upci info = lspci -vv, read through sysfs"
# A live STATUS (the serial port's INTx bit) may change between the two
# reads: a difference is read again once before it counts.
for bdf in $EDU $SER; do
	for opt in "" -n -nn -x -xxx -xxxx; do
		for try in 1 2; do
			upci info $opt $bdf >/tmp/u.txt 2>&1
			"$LSPCI" -vv $opt -s $bdf 2>/dev/null | grep -v "$(printf '^\tKernel modules: ')" >/tmp/l.txt
			cmp -s /tmp/u.txt /tmp/l.txt && break
		done
		same "upci info $opt $bdf = lspci -vv $opt" /tmp/u.txt /tmp/l.txt
	done
done
grep -q "$(printf '^\tRegion 0: I/O ports at .* \\[size=8\\]$')" /tmp/u.txt &&
	grep -q "$(printf '^\tInterrupt: pin A routed to IRQ ')" /tmp/u.txt &&
	grep -q "$(printf '^\tKernel driver in use: serial$')" /tmp/u.txt &&
	ok "pci-serial: I/O BAR with its size, IRQ route, driver" || bad "pci-serial lines missing"

echo "== upci config = setpci"
R="VENDOR_ID DEVICE_ID COMMAND STATUS REVISION CLASS_PROG CLASS_DEVICE HEADER_TYPE BASE_ADDRESS_0 0.l 8.l 3c.b
	INTERRUPT_PIN SUBSYSTEM_VENDOR_ID SUBSYSTEM_ID"
for bdf in $EDU $SER; do
	for v in "" -v; do
		for try in 1 2; do
			upci config $v $bdf $R >/tmp/u.txt 2>&1
			"$SETPCI" $v -s $bdf $R >/tmp/l.txt 2>&1
			cmp -s /tmp/u.txt /tmp/l.txt && break
		done
		same "upci config $v $bdf = setpci $v (header registers)" /tmp/u.txt /tmp/l.txt
	done
done
C="CAP_MSI.b CAP_MSI+2.w CAP5+4.l CAP_MSI+2.w@0"
upci config $EDU $C >/tmp/u.txt 2>&1
"$SETPCI" -s $EDU $C >/tmp/l.txt 2>&1
same "upci config $EDU = setpci (MSI capability registers)" /tmp/u.txt /tmp/l.txt
# A register setpci writes, upci reads back (both through sysfs).
"$SETPCI" -s $EDU INTERRUPT_LINE=5a
[ "$(upci config $EDU INTERRUPT_LINE)" = 5a ] && ok "setpci INTERRUPT_LINE=5a, upci reads 5a" ||
	bad "upci reads $(upci config $EDU INTERRUPT_LINE) after setpci INTERRUPT_LINE=5a"
expect_err "writing without VFIO is refused" 1 "upci: $EDU: open: " upci config $EDU INTERRUPT_LINE=1
expect_err "sysfs: cannot be claimed" 1 "upci: sysfs:$EDU: claim: read-only access through sysfs" \
	upci read sysfs:$EDU 0 0
expect_err "a function that is not there" 3 "upci: 0000:00:1f.6: open: " upci info 0000:00:1f.6

echo "== a function on vfio-pci: upci drives it through VFIO, setpci reads the device"
check "upci bind $VEDU" upci bind $VEDU
# VFIO virtualizes parts of config space (BARs, MSI, some COMMAND bits):
# the identity lines and the host facts are what both read alike.
upci info vfio:$VEDU >/tmp/u.txt 2>&1; st=$?
"$LSPCI" -vv -s $VEDU 2>/dev/null >/tmp/l.txt
head -n 2 /tmp/u.txt >/tmp/u2.txt; head -n 2 /tmp/l.txt >/tmp/l2.txt
[ $st -eq 0 ] && same "upci info vfio:$VEDU: device and subsystem lines = lspci" /tmp/u2.txt /tmp/l2.txt ||
	{ cat /tmp/u.txt; bad "upci info vfio:$VEDU (exit $st)"; }
for line in "$(printf '\tKernel driver in use: vfio-pci')" "$(grep "$(printf '^\tIOMMU group: ')" /tmp/l.txt)"; do
	grep -qxF "$line" /tmp/u.txt && ok "vfio:$VEDU has lspci's line '$line'" || bad "vfio:$VEDU lacks '$line'"
done
# While upci holds the device with MSI enabled (VFIO restores config space
# when the last user closes it), setpci reads the real registers.
upci irq vfio:$VEDU --type msi --timeout 8000 >/tmp/irq.txt 2>&1 &
IRQ=$!
seen=0
for _ in 1 2 3 4 5 6 7 8 9 10; do
	sleep 0.5
	msi=$("$SETPCI" -s $VEDU CAP_MSI+2.w) cmd=$("$SETPCI" -s $VEDU COMMAND)
	[ $(( 0x$msi & 1 )) -eq 1 ] && [ $(( 0x$cmd & 4 )) -eq 4 ] && { seen=1; break; }
done
kill $IRQ 2>/dev/null; wait $IRQ 2>/dev/null
[ $seen -eq 1 ] && ok "upci irq vfio:$VEDU --type msi: setpci sees MSI Enable+ and BusMaster+ ($msi, $cmd)" ||
	{ cat /tmp/irq.txt; bad "setpci does not see MSI enabled by upci (MSI flags ${msi:-?}, COMMAND ${cmd:-?})"; }
check "upci unbind $VEDU" upci unbind $VEDU
finish

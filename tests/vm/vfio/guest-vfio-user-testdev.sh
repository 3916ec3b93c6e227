# Guest side of 'run.sh vfio-user-testdev': the host runs
# 'upci serve sim:testdev?vectors=256'; QEMU 11's vfio-user-pci shows it
# to this guest (1af4:10f0: BAR2 is RAM the server offers by fd, which QEMU
# maps into the guest; 256 MSI-X vectors); /init bound it to vfio-pci. The
# conformance suite runs through kernel VFIO:
# vfio: -> vfio-pci -> QEMU vfio-user-pci -> upci serve -> sim:testdev.
. /lib/upci-guest-lib.sh
U=vfio:$UPCI_BDF
D=/sys/bus/pci/devices/$UPCI_BDF
[ "$(cat $D/vendor):$(cat $D/device)" = "0x1af4:0x10f0" ] && ok "sysfs shows 1af4:10f0 at $UPCI_BDF" ||
	bad "sysfs IDs $(cat $D/vendor):$(cat $D/device), expected 0x1af4:0x10f0"
# (BAR2 through the sysfs resource file cannot be compared with upci's
# view: vfio-pci resets the function, an FLR that zeroes BAR2, at every
# open and close of the device. The suite's bar2_mapping does it in one.)
upci-conformance --via-qemu-vfio-user "$U" >/tmp/conf.txt 2>&1; st=$?
grep -v '^skip [0-9]* - edu\.' /tmp/conf.txt
[ $st -eq 0 ] && ok "conformance on $U (served by upci on the host): $(tail -n1 /tmp/conf.txt)" ||
	bad "conformance on $U (served by upci on the host): $(tail -n1 /tmp/conf.txt)"
check "upci-stress $U" upci-stress --seconds 3 "$U"
# The differences QEMU makes are named by the suite, not skipped.
for what in "PBA bit clear" "maps all guest DMA readable" "restores config space after an FLR"; do
	grep -q "# expected: .*$what" /tmp/conf.txt && ok "difference named: $what" ||
		bad "the suite did not name the expected difference '$what'"
done
finish

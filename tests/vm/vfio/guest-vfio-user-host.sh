# Guest side of 'run.sh vfio-user-host': the host runs 'upci serve sim:edu';
# QEMU 11's vfio-user-pci shows it to this guest as a PCI device (1234:11e8),
# /init bound it to vfio-pci; run the conformance suite through kernel VFIO:
# vfio: -> vfio-pci -> QEMU vfio-user-pci -> upci serve -> sim:edu.
. /lib/upci-guest-lib.sh
U=vfio:$UPCI_BDF
D=/sys/bus/pci/devices/$UPCI_BDF
# What any guest sees, before upci is involved: the IDs in sysfs and the ID
# register through the sysfs resource file.
[ "$(cat $D/vendor):$(cat $D/device)" = "0x1234:0x11e8" ] && ok "sysfs shows 1234:11e8 at $UPCI_BDF" ||
	bad "sysfs IDs $(cat $D/vendor):$(cat $D/device), expected 0x1234:0x11e8"
id=$(read_resource $D/resource0 0)
[ "$id" = "0x010000ed" ] && ok "ID register through $D/resource0: $id" ||
	bad "ID register through $D/resource0: '$id', expected 0x010000ed"
# The factorial, through kernel VFIO and the CLI: 5! = 120.
check "factorial: write 5" upci write "$U" 0 0x08 5
f=$(upci read "$U" 0 0x08)
[ "$f" = "0x00000078" ] && ok "factorial: 5! read back as $f" || bad "factorial: 5! read back as '$f', expected 0x00000078"
upci-conformance --edu-dma-4096 "$U" >/tmp/conf.txt 2>&1; st=$?
grep -v '^skip [0-9]* - testdev\.' /tmp/conf.txt
[ $st -eq 0 ] && ok "conformance on $U (served by upci on the host): $(tail -n1 /tmp/conf.txt)" ||
	bad "conformance on $U (served by upci on the host): $(tail -n1 /tmp/conf.txt)"
finish

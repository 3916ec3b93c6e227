# Guest side of 'run.sh vfio-user-host': the host runs 'upci serve sim:edu';
# QEMU 11's vfio-user-pci shows it to this guest as a PCI device (1234:11e8),
# /init bound it to vfio-pci; run the conformance suite through kernel VFIO:
# vfio: -> vfio-pci -> QEMU vfio-user-pci -> upci serve -> sim:edu.
. /lib/upci-guest-lib.sh
U=vfio:$UPCI_BDF
upci-conformance --edu-dma-4096 "$U" >/tmp/conf.txt 2>&1; st=$?
grep -v '^skip [0-9]* - testdev\.' /tmp/conf.txt
[ $st -eq 0 ] && ok "conformance on $U (served by upci on the host): $(tail -n1 /tmp/conf.txt)" ||
	bad "conformance on $U (served by upci on the host): $(tail -n1 /tmp/conf.txt)"
finish

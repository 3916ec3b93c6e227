# Guest side of 'run.sh bench': bench-vfio on QEMU's edu through vfio-pci.
. /lib/upci-guest-lib.sh
check "bench-vfio vfio:$UPCI_BDF" bench-vfio "vfio:$UPCI_BDF"
finish

# Guest side of 'run.sh vfio-user-gpio': the host runs examples/upci-gpio,
# a device written against upci/model.h alone; QEMU 11's vfio-user-pci
# shows it to this guest (1af4:10f1), /init bound it to vfio-pci, and a
# program drives it through kernel VFIO:
# gpio_guest vfio: -> vfio-pci -> QEMU vfio-user-pci -> upci-gpio.
. /lib/upci-guest-lib.sh
U=vfio:$UPCI_BDF
D=/sys/bus/pci/devices/$UPCI_BDF
[ "$(cat $D/vendor):$(cat $D/device)" = "0x1af4:0x10f1" ] && ok "sysfs shows 1af4:10f1 at $UPCI_BDF" ||
	bad "sysfs IDs $(cat $D/vendor):$(cat $D/device), expected 0x1af4:0x10f1"
[ "$(cat $D/class)" = "0x088000" ] && ok "sysfs class 0x088000" || bad "sysfs class $(cat $D/class), expected 0x088000"
[ "$(cat $D/irq)" != 0 ] && ok "the kernel routed its INTx pin (irq $(cat $D/irq))" || bad "no INTx route"
gpio_guest "$U"; st=$?
[ $st -eq 0 ] && ok "gpio_guest drove it through kernel VFIO" || bad "gpio_guest $U (exit $st)"
id=$(upci read "$U" 0 0)
[ "$id" = "0x4f495047" ] && ok "upci read $U 0 0: $id" || bad "upci read $U 0 0: '$id', expected 0x4f495047"
finish

/* SPDX-License-Identifier: MIT */
/*
 * upci-gpio: a 16-in/16-out GPIO card written against upci's public
 * device-author API (upci/model.h) only. The register map is the
 * contract with its drivers (the guest program tests/vm/vfio/gpio_guest.c,
 * the unit test). docs/writing-a-device.md builds it step by step.
 *
 * BAR0, 256 bytes of 32-bit registers (other widths are refused):
 *   0x00 ID          RO  GPIO_ID_VALUE
 *   0x04 OUT         RW  output pins 15:0
 *   0x08 IN          RO  input pins 15:0: wired to the outputs
 *                        (loopback, the default) or tied to a fixed level
 *                        (URI parameter in=0xNNNN)
 *   0x0c IRQ_EN      RW  a change of input pin n interrupts when bit n is set
 *   0x10 IRQ_STATUS  RW1C  the enabled input pins that changed
 *   0x14 CHANGES     RO  input changes seen since reset (wraps)
 * Interrupts: MSI (one vector) or INTx (INTA#), asserted while IRQ_STATUS
 * is non-zero. Reset: a PM capability whose D3hot -> D0 transition resets
 * the card (the host's reset method for a function without FLR).
 */
#ifndef UPCI_EXAMPLE_GPIO_H
#define UPCI_EXAMPLE_GPIO_H

/* QEMU's docs/specs/pci-ids.rst: 1af4:10f0..10ff are free for experiments. */
#define GPIO_VENDOR_ID    0x1af4u
#define GPIO_DEVICE_ID    0x10f1u
#define GPIO_ID_VALUE     0x4f495047u /* "GPIO" in ASCII, little-endian */
#define GPIO_BAR_SIZE     0x100u

#define GPIO_REG_ID         0x00u
#define GPIO_REG_OUT        0x04u
#define GPIO_REG_IN         0x08u
#define GPIO_REG_IRQ_EN     0x0cu
#define GPIO_REG_IRQ_STATUS 0x10u
#define GPIO_REG_CHANGES    0x14u
#define GPIO_PINS_MASK      0xffffu

/* Make the model reachable as "sim:gpio" (and servable). 0 or -errno. */
int gpio_register(void);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * gpio_guest URI: drive the example GPIO card (examples/gpio/gpio.h) as a
 * driver would, through the public API - in the VM suite through kernel
 * VFIO (vfio:BDF) in a guest to which QEMU's vfio-user-pci shows the card
 * that upci-gpio serves on the host. Checks the identity, the registers
 * (outputs looped back to the inputs), change interrupts by MSI and by
 * INTx (acknowledged, then again), and reset. One "ok"/"FAIL" line per
 * check; exit 0 when all passed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "gpio.h"
#include "upci/upci.h"

static int fails;

static void check(int cond, const char *fmt, const char *what, long long got)
{
	printf("%s - ", cond ? "ok" : "FAIL");
	printf(fmt, what, got);
	printf("\n");
	fails += !cond;
}

static uint32_t rd(upci_dev *d, uint64_t off)
{
	uint64_t v = 0;
	int ret = upci_mmio_read(d, 0, off, 4, &v);

	if (ret)
		check(0, "%s: %lld", "MMIO read", ret);
	return (uint32_t)v;
}

static void wr(upci_dev *d, uint64_t off, uint32_t v)
{
	int ret = upci_mmio_write(d, 0, off, 4, v);

	if (ret)
		check(0, "%s: %lld", "MMIO write", ret);
}

/* Pin 0 changes, one interrupt arrives, the ack clears it; twice, so a
 * level (INTx) that was not lowered and unmasked would show. */
static void irq_rounds(upci_dev *d, enum upci_irq_type type, const char *name)
{
	uint64_t pend[UPCI_IRQ_WORDS];
	int n = upci_irq_enable(d, type, 1);
	char what[64];

	snprintf(what, sizeof(what), "upci_irq_enable(%s)", name);
	check(n == 1, "%s: %lld", what, n);
	if (n != 1)
		return;
	wr(d, GPIO_REG_IRQ_EN, 0x0001);
	for (int round = 0; round < 2; round++) {
		wr(d, GPIO_REG_OUT, rd(d, GPIO_REG_OUT) ^ 0x0001);
		n = upci_irq_wait(d, 5000, pend);
		snprintf(what, sizeof(what), "%s: pin 0 changed, round %d", name, round + 1);
		check(n == 1 && pend[0] == 1, "%s: upci_irq_wait %lld", what, n);
		check(rd(d, GPIO_REG_IRQ_STATUS) == 1, "%s: IRQ_STATUS %lld", what, rd(d, GPIO_REG_IRQ_STATUS));
		wr(d, GPIO_REG_IRQ_STATUS, 1);
	}
	/* A pin that is not enabled: nothing. Under INTx the library unmasks
	 * the line when it takes the interrupt, before the ack above: a line
	 * still asserted then is delivered once more, as on real hardware.
	 * That one is drained first. */
	(void)upci_irq_wait(d, 200, pend);
	wr(d, GPIO_REG_OUT, rd(d, GPIO_REG_OUT) ^ 0x0100);
	n = upci_irq_wait(d, 200, pend);
	snprintf(what, sizeof(what), "%s: pin 8 (not enabled) changed", name);
	check(n == -ETIMEDOUT, "%s: upci_irq_wait %lld (want -ETIMEDOUT)", what, n);
	wr(d, GPIO_REG_IRQ_EN, 0);
	upci_irq_disable(d);
}

int main(int argc, char **argv)
{
	static const uint32_t pats[] = {0x0000, 0xffff, 0xa5a5, 0x5a5a, 0x0001, 0x8000};
	struct upci_identity id;
	upci_dev *d;
	int ret;

	if (argc != 2) {
		fprintf(stderr, "usage: gpio_guest URI\n");
		return 2;
	}
	ret = upci_open(&d, argv[1]);
	if (ret == 0)
		ret = upci_claim(d);
	if (ret) {
		printf("FAIL - %s: open and claim: %s\n", argv[1], upci_strerror(ret));
		return 1;
	}
	ret = upci_identity(d, &id);
	check(ret == 0 && id.vendor_id == GPIO_VENDOR_ID && id.device_id == GPIO_DEVICE_ID,
	      "%s: device id %04llx", "identity 1af4:10f1", id.device_id);
	check(rd(d, GPIO_REG_ID) == GPIO_ID_VALUE, "%s: %#llx", "ID register", rd(d, GPIO_REG_ID));
	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
		wr(d, GPIO_REG_OUT, pats[i]);
		if (rd(d, GPIO_REG_IN) != pats[i])
			check(0, "%s: IN %#llx", "loopback", rd(d, GPIO_REG_IN));
	}
	check(1, "%s: %lld patterns", "outputs looped back to the inputs", (long long)(sizeof(pats) / sizeof(pats[0])));
	irq_rounds(d, UPCI_IRQ_MSI, "MSI");
	irq_rounds(d, UPCI_IRQ_INTX, "INTx");
	ret = upci_reset(d);
	check(ret == 0 && rd(d, GPIO_REG_OUT) == 0 && rd(d, GPIO_REG_CHANGES) == 0, "%s: %lld", "reset", ret);
	upci_close(d);
	printf("gpio_guest: %s\n", fails ? "FAILED" : "all checks passed");
	return fails ? 1 : 0;
}

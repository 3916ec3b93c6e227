/* SPDX-License-Identifier: MIT */
/*
 * The example GPIO card (examples/gpio, written against upci/model.h
 * only) driven in-process through sim:gpio: its register map (gpio.h),
 * the loopback and tied inputs, change interrupts through MSI and INTx,
 * reset, and the parameters it refuses.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gpio.h"
#include "upci/upci.h"

static upci_dev *open_gpio(const char *uri)
{
	upci_dev *d = NULL;

	assert_int_equal(upci_open(&d, uri), 0);
	assert_int_equal(upci_claim(d), 0);
	return d;
}

static uint32_t rd(upci_dev *d, uint64_t off)
{
	uint64_t v = 0;

	assert_int_equal(upci_mmio_read(d, 0, off, 4, &v), 0);
	return (uint32_t)v;
}

static void wr(upci_dev *d, uint64_t off, uint32_t v)
{
	assert_int_equal(upci_mmio_write(d, 0, off, 4, v), 0);
}

static int setup(void **state)
{
	(void)state;
	return gpio_register() == 0 ? 0 : -1;
}

static void test_identity_and_registers(void **state)
{
	upci_dev *d = open_gpio("sim:gpio");
	struct upci_identity id;
	uint32_t cap = 0, pm = 0;
	uint64_t v;

	(void)state;
	assert_int_equal(gpio_register(), -EEXIST);
	assert_int_equal(upci_identity(d, &id), 0);
	assert_int_equal(id.vendor_id, GPIO_VENDOR_ID);
	assert_int_equal(id.device_id, GPIO_DEVICE_ID);
	assert_int_equal(id.config_size, 256);
	/* The host's reset method: PM, D3hot -> D0 without No_Soft_Reset. */
	wr(d, GPIO_REG_OUT, 0x00ff);
	assert_int_equal(upci_config_read(d, 0x34, 1, &cap), 0);
	while (cap && pm == 0) {
		uint32_t cid = 0, nxt = 0;

		assert_int_equal(upci_config_read(d, cap, 1, &cid), 0);
		assert_int_equal(upci_config_read(d, cap + 1, 1, &nxt), 0);
		if (cid == 0x01)
			pm = cap;
		cap = nxt;
	}
	assert_true(pm != 0);
	assert_int_equal(upci_config_write(d, pm + 4, 2, 3), 0); /* D3hot */
	assert_int_equal(rd(d, GPIO_REG_OUT), 0x00ff);
	assert_int_equal(upci_config_write(d, pm + 4, 2, 0), 0); /* D0: reset */
	assert_int_equal(rd(d, GPIO_REG_OUT), 0);
	assert_int_equal(rd(d, GPIO_REG_ID), GPIO_ID_VALUE);
	/* Loopback: the inputs follow the outputs; 16 pins. */
	wr(d, GPIO_REG_OUT, 0xffff1234u);
	assert_int_equal(rd(d, GPIO_REG_OUT), 0x1234);
	assert_int_equal(rd(d, GPIO_REG_IN), 0x1234);
	assert_int_equal(rd(d, GPIO_REG_CHANGES), 1);
	wr(d, GPIO_REG_IN, 0); /* read-only */
	assert_int_equal(rd(d, GPIO_REG_IN), 0x1234);
	/* 32-bit registers only; unimplemented ones read all ones. */
	assert_int_equal(upci_mmio_read(d, 0, GPIO_REG_OUT, 1, &v), -EINVAL);
	assert_int_equal(upci_mmio_write(d, 0, GPIO_REG_OUT, 2, 1), -EINVAL);
	assert_int_equal(rd(d, 0x80), 0xffffffffu);
	/* Reset: everything back to 0. */
	assert_int_equal(upci_reset(d), 0);
	assert_int_equal(rd(d, GPIO_REG_OUT), 0);
	assert_int_equal(rd(d, GPIO_REG_IN), 0);
	assert_int_equal(rd(d, GPIO_REG_CHANGES), 0);
	upci_close(d);
}

static void test_change_interrupts(void **state)
{
	uint64_t pend[UPCI_IRQ_WORDS];
	upci_dev *d = open_gpio("sim:gpio");

	(void)state;
	for (int type = UPCI_IRQ_MSI; type >= UPCI_IRQ_INTX; type--) {
		assert_int_equal(upci_irq_enable(d, (enum upci_irq_type)type, 1), 1);
		/* A change of a pin that is not enabled: nothing. */
		wr(d, GPIO_REG_IRQ_EN, 0x0001);
		wr(d, GPIO_REG_OUT, 0x0002);
		assert_int_equal(rd(d, GPIO_REG_IRQ_STATUS), 0);
		assert_int_equal(upci_irq_wait(d, 0, pend), -ETIMEDOUT);
		/* An enabled pin changes: status bit and one interrupt. */
		wr(d, GPIO_REG_OUT, 0x0003);
		assert_int_equal(rd(d, GPIO_REG_IRQ_STATUS), 0x0001);
		assert_int_equal(upci_irq_wait(d, 1000, pend), 1);
		assert_int_equal(pend[0], 1);
		/* Acknowledged: the level drops (INTx) and a new change fires. */
		wr(d, GPIO_REG_IRQ_STATUS, 0x0001);
		assert_int_equal(rd(d, GPIO_REG_IRQ_STATUS), 0);
		wr(d, GPIO_REG_OUT, 0x0000);
		assert_int_equal(upci_irq_wait(d, 1000, pend), 1);
		wr(d, GPIO_REG_IRQ_STATUS, 0xffffffffu);
		assert_int_equal(upci_irq_disable(d), 0);
	}
	upci_close(d);
}

static void test_tied_inputs(void **state)
{
	upci_dev *d;
	char why[256];

	(void)state;
	d = open_gpio("sim:gpio?in=0x00ff");
	assert_int_equal(rd(d, GPIO_REG_IN), 0x00ff);
	wr(d, GPIO_REG_OUT, 0x1234);
	assert_int_equal(rd(d, GPIO_REG_IN), 0x00ff);
	assert_int_equal(upci_reset(d), 0);
	assert_int_equal(rd(d, GPIO_REG_IN), 0x00ff);
	upci_close(d);
	assert_int_equal(upci_uri_check("sim:gpio?in=0x10000", why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "in=0..0xffff"));
	assert_int_equal(upci_uri_check("sim:gpio?out=1", why, sizeof(why)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity_and_registers),
		cmocka_unit_test(test_change_interrupts),
		cmocka_unit_test(test_tied_inputs),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * Finding the driver instance and sharing its connection; the driver's
 * claim refcount and opener rule; everything released when the connection
 * closes; config space as the protocol shapes it (synthesized BAR
 * registers, every width agreeing); reset (FLR, else hot reset).
 */
#include "pci_regs.h"
#include "test_dext_util.h"

#define EDU 0, 1, 0
#define TD 0, 2, 0

static void test_matching(void **state)
{
	struct upci_identity id;
	upci_dev *d = NULL;

	(void)state;
	/* The registry's first IOUserService is another class: skipped. */
	assert_int_equal(upci_open(&d, "dext:00:03.0"), -ENOENT);
	assert_int_equal(upci_open(&d, EDU_URI), 0);
	assert_int_equal(upci_identity(d, &id), 0);
	assert_string_equal(id.backend, "dext");
	assert_string_equal(id.name, "1234:11e8");
	assert_true(id.bus == 0 && id.device == 1 && id.function == 0);
	assert_int_equal(id.config_size, 256); /* conventional: no PCIe capability */
	upci_close(d);
	assert_int_equal(upci_open(&d, TD_URI), 0);
	assert_int_equal(upci_identity(d, &id), 0);
	assert_int_equal(id.config_size, 4096);
	upci_close(d);
	/* Not entitled to open a user client: say so, not "no device". */
	iokit_shim_set_faults(IOKIT_SHIM_DENY_OPEN);
	assert_int_equal(upci_open(&d, EDU_URI), -EACCES);
	iokit_shim_set_faults(0);
}

static void test_one_connection_per_service(void **state)
{
	upci_dev *a = NULL, *b = NULL, *c = NULL;

	(void)state;
	assert_int_equal(upci_open(&a, EDU_URI), 0);
	assert_int_equal(iokit_shim_connections(), 1);
	assert_int_equal(upci_open(&b, EDU_URI), 0);
	assert_int_equal(iokit_shim_connections(), 1); /* the same connection */
	assert_int_equal(upci_open(&c, TD_URI), 0);
	assert_int_equal(iokit_shim_connections(), 2); /* another service, another one */
	upci_close(a);
	assert_int_equal(iokit_shim_connections(), 2);
	upci_close(b);
	upci_close(c);
	assert_int_equal(iokit_shim_connections(), 0);
	assert_int_equal(iokit_shim_live_objects(), 0); /* ports and notifications too */
}

/* upci's claim is exclusive in the process, on top of the driver's. */
static void test_claim_exclusive(void **state)
{
	upci_dev *a = NULL, *b = NULL;
	unsigned refs = 0;
	int open = 0;

	(void)state;
	assert_int_equal(upci_open(&a, EDU_URI), 0);
	assert_int_equal(upci_open(&b, EDU_URI), 0);
	assert_int_equal(upci_claim(a), 0);
	assert_int_equal(upci_claim(b), -EBUSY);
	assert_int_equal(iokit_shim_claim_state(EDU, &refs, &open), 0);
	assert_true(refs == 1 && open); /* one Claim for the connection */
	assert_int_equal(upci_release(a), 0);
	assert_int_equal(upci_claim(b), 0);
	assert_int_equal(iokit_shim_claim_state(EDU, &refs, &open), 0);
	assert_true(refs == 1 && open); /* still the same driver claim */
	upci_close(b);
	assert_int_equal(upci_claim(a), 0);
	upci_close(a);
	assert_int_equal(iokit_shim_claim_state(EDU, &refs, &open), 0);
	assert_true(refs == 0 && !open);
}

/* The driver's rule: later claimants bump a refcount; only the opener's
 * close closes the device, even with claims left. */
static void test_driver_opener_rule(void **state)
{
	io_connect_t first = raw_open(EDU), second = raw_open(EDU);
	uint32_t cmd = 0;
	uint64_t bus, len;
	unsigned refs = 0;
	int open = 0, x = 0;

	(void)state;
	assert_int_equal(dext_claim(first), 0);
	assert_int_equal(dext_config_read(first, PCI_COMMAND, 2, &cmd), 0);
	assert_true((cmd & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)) == (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER));
	assert_int_equal(dext_claim(second), 0);
	assert_int_equal(iokit_shim_claim_state(EDU, &refs, &open), 0);
	assert_true(refs == 2 && open);
	IOServiceClose(first);
	assert_int_equal(iokit_shim_claim_state(EDU, &refs, &open), 0);
	assert_true(refs == 1 && !open);
	/* Closed for the second claimant too: memory and bus mastering off. */
	assert_int_equal(upci_config_read(iokit_shim_simdev(EDU), PCI_COMMAND, 2, &cmd), 0);
	assert_int_equal(cmd & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER), 0);
	assert_int_equal(dext_register_dma(second, 0x1000, (uint64_t)(uintptr_t)&x, 4, &bus, &len),
			 -EPERM);
	IOServiceClose(second);
	assert_int_equal(iokit_shim_claim_state(EDU, &refs, &open), 0);
	assert_int_equal(refs, 0);
}

/* Closing the last handle closes the connection; the driver drops DMA
 * regions, interrupts and the claim. */
static void test_close_releases_everything(void **state)
{
	struct iokit_shim_dart i;
	struct upci_dma_buf buf;
	upci_dev *d = NULL;
	unsigned refs = 0;
	void *addr;
	uint64_t len;
	int open = 0;

	(void)state;
	assert_int_equal(upci_open(&d, TD_URI), 0);
	assert_int_equal(upci_claim(d), 0);
	assert_int_equal(upci_bar_map(d, 2, &addr, &len), 0);
	assert_int_equal(upci_dma_alloc(d, UPCI_IOVA_ANY, 3 * 4096, &buf), 0);
	assert_int_equal(upci_irq_enable(d, UPCI_IRQ_MSIX, 0), 256);
	assert_int_equal(iokit_shim_dma_regions(TD), 1);
	upci_close(d);
	assert_int_equal(iokit_shim_dma_regions(TD), 0);
	assert_int_equal(iokit_shim_dart_info(TD, &i), 0);
	assert_true(i.mapped == 0 && i.mappings == 0);
	assert_int_equal(iokit_shim_claim_state(TD, &refs, &open), 0);
	assert_true(refs == 0 && !open);
	assert_int_equal(iokit_shim_live_objects(), 0);
}

/* The same left to the driver: a client that closes with everything set
 * up (no unregister, no free) leaves nothing behind. */
static void test_driver_releases_on_close(void **state)
{
	static uint8_t page[2 * 16384] __attribute__((aligned(16384)));
	io_connect_t c = raw_open(TD);
	struct dext_dma_buffer b;
	struct iokit_shim_dart i;
	uint64_t bus, len;
	unsigned n = 0, refs = 1;
	int open = 1;

	(void)state;
	assert_int_equal(dext_claim(c), 0);
	assert_int_equal(dext_register_dma(c, 0x1000, (uint64_t)(uintptr_t)page, 16384, &bus, &len), 0);
	assert_int_equal(dext_alloc_dma_buffer(c, 16384, 0, &b), 0);
	assert_int_equal(dext_setup_interrupts(c, &n), 0);
	assert_int_equal(n, 256);
	assert_int_equal(dext_setup_interrupts(c, &n), -EEXIST); /* once per client */
	assert_int_equal(iokit_shim_dart_info(TD, &i), 0);
	assert_int_equal(i.mappings, 2);
	IOServiceClose(c);
	assert_int_equal(iokit_shim_dma_regions(TD), 0);
	assert_int_equal(iokit_shim_dart_info(TD, &i), 0);
	assert_true(i.mapped == 0 && i.mappings == 0);
	assert_int_equal(iokit_shim_claim_state(TD, &refs, &open), 0);
	assert_true(refs == 0 && !open);
}

static void test_terminate(void **state)
{
	io_connect_t c = raw_open(EDU);
	upci_dev *d = NULL;
	uint32_t v;

	(void)state;
	assert_int_equal(dext_terminate(c), 0);
	assert_int_equal(upci_open(&d, EDU_URI), -ENOENT); /* gone from the registry */
	assert_int_equal(dext_config_read(c, 0, 4, &v), -ENODEV);
	IOServiceClose(c);
}

/* The driver synthesizes 4-byte BAR reads (type bits, address 0); the raw
 * register holds the platform's address. Narrow reads through upci go
 * through the dword, so every width agrees. */
static void test_bar_registers(void **state)
{
	io_connect_t c = raw_open(EDU);
	upci_dev *d = NULL;
	uint8_t blk[0x18];
	uint32_t v = 0;

	(void)state;
	assert_int_equal(dext_config_read(c, PCI_BASE_ADDRESS_0, 4, &v), 0);
	assert_int_equal(v, 0); /* 32-bit, non-prefetchable memory at "0", claimed or not */
	assert_int_equal(dext_claim(c), 0);
	assert_int_equal(dext_config_read(c, PCI_BASE_ADDRESS_0 + 3, 1, &v), 0);
	assert_int_equal(v, 0xc0); /* the raw byte: the address macOS assigned */
	IOServiceClose(c);
	assert_int_equal(upci_open(&d, EDU_URI), 0);
	assert_int_equal(upci_claim(d), 0);
	assert_int_equal(upci_config_read(d, PCI_BASE_ADDRESS_0 + 3, 1, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(upci_config_read(d, PCI_BASE_ADDRESS_0 + 2, 2, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(upci_config_read_block(d, PCI_BASE_ADDRESS_0 - 1, blk, sizeof(blk)), 0);
	for (unsigned i = 1; i < sizeof(blk); i++)
		assert_int_equal(blk[i], 0);
	assert_int_equal(upci_config_read(d, PCI_INTERRUPT_PIN, 1, &v), 0);
	assert_int_equal(v, 1); /* edu's INTA#, as the device says */
	upci_close(d);
}

static void test_reset(void **state)
{
	upci_dev *d = NULL;
	uint32_t cmd = 0, bar = 0;

	(void)state;
	assert_int_equal(upci_open(&d, TD_URI), 0);
	assert_int_equal(upci_claim(d), 0);
	assert_int_equal(upci_reset(d), 0);
	assert_string_equal(iokit_shim_last_reset(TD), "flr");
	/* The platform restored config space; upci still promises bus
	 * mastering off after a reset. */
	assert_int_equal(upci_config_read(d, PCI_COMMAND, 2, &cmd), 0);
	assert_false(cmd & PCI_COMMAND_MASTER);
	assert_true(cmd & PCI_COMMAND_MEMORY);
	assert_int_equal(upci_config_read(iokit_shim_simdev(TD), PCI_BASE_ADDRESS_0 + 4, 4, &bar), 0);
	assert_int_not_equal(bar, 0); /* the upper half of BAR0's address is back */
	upci_close(d);
	assert_int_equal(upci_open(&d, EDU_URI), 0);
	assert_int_equal(upci_reset(d), -EPERM); /* core: not claimed */
	assert_int_equal(upci_claim(d), 0);
	assert_int_equal(upci_reset(d), 0);
	assert_string_equal(iokit_shim_last_reset(EDU), "hot"); /* no FLR: hot reset */
	upci_close(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_matching, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_one_connection_per_service, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_claim_exclusive, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_driver_opener_rule, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_close_releases_everything, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_driver_releases_on_close, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_terminate, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_bar_registers, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_reset, shim_setup, shim_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

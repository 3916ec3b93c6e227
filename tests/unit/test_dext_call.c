/* SPDX-License-Identifier: MIT */
/*
 * Each selector's encoding: the selector number, how many scalar inputs in
 * which order, how many outputs, and how the outputs are decoded (scripted
 * answers with recognisable values), plus the protocol's constants against
 * the literal values of reference/dext-protocol.md.
 */
#include "test_dext_util.h"

static void test_protocol_numbers(void **state)
{
	(void)state;
	/* Selectors 0-17 as the protocol numbers them. */
	assert_int_equal(DEXT_SEL_GET_IDENTITY, 0);
	assert_int_equal(DEXT_SEL_CLAIM, 1);
	assert_int_equal(DEXT_SEL_TERMINATE, 2);
	assert_int_equal(DEXT_SEL_ALLOC_DMA_BUFFER, 3);
	assert_int_equal(DEXT_SEL_FREE_DMA_BUFFER, 4);
	assert_int_equal(DEXT_SEL_REGISTER_DMA, 5);
	assert_int_equal(DEXT_SEL_UNREGISTER_DMA, 6);
	assert_int_equal(DEXT_SEL_PROBE_DMA, 7);
	assert_int_equal(DEXT_SEL_CONFIG_READ, 8);
	assert_int_equal(DEXT_SEL_CONFIG_WRITE, 9);
	assert_int_equal(DEXT_SEL_BAR_INFO, 10);
	assert_int_equal(DEXT_SEL_MMIO_READ, 11);
	assert_int_equal(DEXT_SEL_MMIO_WRITE, 12);
	assert_int_equal(DEXT_SEL_SETUP_INTERRUPTS, 13);
	assert_int_equal(DEXT_SEL_CHECK_INTERRUPT, 14);
	assert_int_equal(DEXT_SEL_WAIT_INTERRUPT, 15);
	assert_int_equal(DEXT_SEL_SET_IRQ_MASK, 16);
	assert_int_equal(DEXT_SEL_RESET_DEVICE, 17);
	/* Memory types: 0 buffer, 1 + BAR index, 7 interrupt page. */
	assert_int_equal(DEXT_MEM_DMA_BUFFER, 0);
	for (unsigned b = 0; b < 6; b++)
		assert_int_equal(DEXT_MEM_BAR(b), 1 + b);
	assert_int_equal(DEXT_MEM_IRQ_STATE, 7);
	/* The interrupt page. */
	assert_int_equal(DEXT_IRQ_PAGE_PENDING, 0x00);
	assert_int_equal(DEXT_IRQ_PAGE_ENABLED, 0x20);
	assert_int_equal(DEXT_IRQ_PAGE_SIZE, 16384);
	assert_int_equal(DEXT_IRQ_WORDS, 4);
	/* Limits. */
	assert_true(DEXT_DMA_CHUNK == 1536ull * 1024 * 1024);
	assert_true(DEXT_DART_SPACE == 1536ull * 1024 * 1024);
	assert_int_equal(DEXT_DMA_SLOTS, 65536);
	assert_int_equal(DEXT_DART_MAX_MAPPINGS, 65536);
	assert_int_equal(DEXT_DART_GRANULE, 16384);
	/* "reg": physHi's bus 23:16, device 15:11, function 10:8
	 * (IOKit/pci/IOPCIDevice.h, IOPCIAddressSpace). */
	assert_int_equal((0x123456u >> DEXT_REG_BUS_SHIFT) & DEXT_REG_BUS_MASK, 0x12);
	assert_int_equal((0x00f800u >> DEXT_REG_DEV_SHIFT) & DEXT_REG_DEV_MASK, 0x1f);
	assert_int_equal((0x000700u >> DEXT_REG_FN_SHIFT) & DEXT_REG_FN_MASK, 7);
}

static void test_identity(void **state)
{
	static const uint64_t ans[] = {0x11, 0x1f, 7, 0xabcd, 0x1234, 0x7654321};
	io_connect_t c = raw_open(0, 1, 0);
	struct dext_identity id;

	(void)state;
	assert_int_not_equal(c, IO_OBJECT_NULL);
	/* The model's answer: the edu at 00:01.0, once it is open. */
	assert_int_equal(dext_claim(c), 0);
	assert_int_equal(dext_get_identity(c, &id), 0);
	expect_call(DEXT_SEL_GET_IDENTITY, 0, 6);
	assert_int_equal(id.bus, 0);
	assert_int_equal(id.dev, 1);
	assert_int_equal(id.fn, 0);
	assert_int_equal(id.vendor, 0x1234);
	assert_int_equal(id.device, 0x11e8);
	/* Order of the outputs; the class code is 24 bits. */
	iokit_shim_script(DEXT_SEL_GET_IDENTITY, kIOReturnSuccess, ans, 6);
	assert_int_equal(dext_get_identity(c, &id), 0);
	assert_int_equal(id.bus, 0x11);
	assert_int_equal(id.dev, 0x1f);
	assert_int_equal(id.fn, 7);
	assert_int_equal(id.vendor, 0xabcd);
	assert_int_equal(id.device, 0x1234);
	assert_int_equal(id.class_code, 0x654321);
	/* A short answer is a protocol error, not garbage. */
	iokit_shim_script(DEXT_SEL_GET_IDENTITY, kIOReturnSuccess, ans, 5);
	assert_int_equal(dext_get_identity(c, &id), -EPROTO);
	iokit_shim_script(DEXT_SEL_GET_IDENTITY, kIOReturnNotAttached, NULL, 0);
	assert_int_equal(dext_get_identity(c, &id), -ENODEV);
	IOServiceClose(c);
}

static void test_no_argument_selectors(void **state)
{
	io_connect_t c = raw_open(0, 1, 0);

	(void)state;
	assert_int_equal(dext_claim(c), 0);
	expect_call(DEXT_SEL_CLAIM, 0, 0);
	iokit_shim_script(DEXT_SEL_TERMINATE, kIOReturnSuccess, NULL, 0); /* keep the instance */
	assert_int_equal(dext_terminate(c), 0);
	expect_call(DEXT_SEL_TERMINATE, 0, 0);
	assert_int_equal(dext_free_dma_buffer(c), 0);
	expect_call(DEXT_SEL_FREE_DMA_BUFFER, 0, 0);
	iokit_shim_script(DEXT_SEL_RESET_DEVICE, kIOReturnSuccess, NULL, 0);
	assert_int_equal(dext_reset_device(c), 0);
	expect_call(DEXT_SEL_RESET_DEVICE, 0, 0);
	IOServiceClose(c);
}

static void test_dma_buffer_encoding(void **state)
{
	static const uint64_t ans[] = {0x8000, 0x5, 2, 0xa004000, 0x4000, 0xff0000};
	io_connect_t c = raw_open(0, 1, 0);
	struct iokit_shim_call k;
	struct dext_dma_buffer b;

	(void)state;
	iokit_shim_script(DEXT_SEL_ALLOC_DMA_BUFFER, kIOReturnSuccess, ans, 6);
	assert_int_equal(dext_alloc_dma_buffer(c, 0x7000, 0x1000, &b), 0);
	expect_call(DEXT_SEL_ALLOC_DMA_BUFFER, 2, 6);
	iokit_shim_last_call(&k);
	assert_true(k.in[0] == 0x7000 && k.in[1] == 0x1000); /* size, then alignment */
	assert_true(b.size == 0x8000 && b.flags == 5 && b.nseg == 2);
	assert_true(b.seg0_addr == 0xa004000 && b.seg0_len == 0x4000 && b.class_code == 0xff0000);
	iokit_shim_script(DEXT_SEL_ALLOC_DMA_BUFFER, kIOReturnBadArgument, NULL, 0);
	assert_int_equal(dext_alloc_dma_buffer(c, 0, 0, &b), -EINVAL);
	IOServiceClose(c);
}

static void test_dma_region_encoding(void **state)
{
	static const uint64_t ok[] = {1, 0xa000000, 0x20000}, two[] = {2, 0xa000000, 0x10000}, word[] = {0x1122};
	io_connect_t c = raw_open(0, 1, 0);
	struct iokit_shim_call k;
	uint64_t bus = 0, len = 0, w = 0;

	(void)state;
	iokit_shim_script(DEXT_SEL_REGISTER_DMA, kIOReturnSuccess, ok, 3);
	assert_int_equal(dext_register_dma(c, 0x100000, 0x7f0000001000, 0x20000, &bus, &len), 0);
	/* iova, va, size. */
	expect_call(DEXT_SEL_REGISTER_DMA, 3, 3);
	iokit_shim_last_call(&k);
	assert_true(k.in[0] == 0x100000 && k.in[1] == 0x7f0000001000 && k.in[2] == 0x20000);
	assert_true(bus == 0xa000000 && len == 0x20000); /* segment count, bus, bus length */
	/* More than one segment is not what the driver promises: undone. */
	iokit_shim_script(DEXT_SEL_REGISTER_DMA, kIOReturnSuccess, two, 3);
	iokit_shim_script(DEXT_SEL_UNREGISTER_DMA, kIOReturnSuccess, NULL, 0);
	assert_int_equal(dext_register_dma(c, 0x300000, 0x7f0000001000, 0x20000, &bus, &len), -EPROTO);
	expect_call(DEXT_SEL_UNREGISTER_DMA, 1, 0);
	iokit_shim_last_call(&k);
	assert_true(k.in[0] == 0x300000);
	/* Duplicate key, DART out of space, not one segment. */
	iokit_shim_script(DEXT_SEL_REGISTER_DMA, kIOReturnStillOpen, NULL, 0);
	assert_int_equal(dext_register_dma(c, 1, 2, 3, &bus, &len), -EEXIST);
	iokit_shim_script(DEXT_SEL_REGISTER_DMA, kIOReturnNoResources, NULL, 0);
	assert_int_equal(dext_register_dma(c, 1, 2, 3, &bus, &len), -ENOSPC);
	iokit_shim_script(DEXT_SEL_REGISTER_DMA, kIOReturnNotAligned, NULL, 0);
	assert_int_equal(dext_register_dma(c, 1, 2, 3, &bus, &len), -ERANGE);
	/* Unregister and probe. */
	assert_int_equal(dext_unregister_dma(c, 0xdead000), -ENOENT);
	expect_call(DEXT_SEL_UNREGISTER_DMA, 1, 0);
	iokit_shim_script(DEXT_SEL_PROBE_DMA, kIOReturnSuccess, word, 1);
	assert_int_equal(dext_probe_dma(c, 0x100000, 0x18, &w), 0);
	expect_call(DEXT_SEL_PROBE_DMA, 2, 1);
	iokit_shim_last_call(&k);
	assert_true(k.in[0] == 0x100000 && k.in[1] == 0x18 && w == 0x1122); /* iova, then offset */
	IOServiceClose(c);
}

static void test_config_encoding(void **state)
{
	static const uint64_t wide[] = {0x12345678};
	io_connect_t c = raw_open(0, 1, 0);
	struct iokit_shim_call k;
	uint32_t v = 0;

	(void)state;
	assert_int_equal(dext_claim(c), 0); /* reads all ones before */
	assert_int_equal(dext_config_read(c, 0x00, 4, &v), 0);
	expect_call(DEXT_SEL_CONFIG_READ, 2, 1);
	iokit_shim_last_call(&k);
	assert_true(k.in[0] == 0 && k.in[1] == 4); /* offset, then width */
	assert_int_equal(v, 0x11e81234);
	/* Bits above the width never leak out of an answer. */
	iokit_shim_script(DEXT_SEL_CONFIG_READ, kIOReturnSuccess, wide, 1);
	assert_int_equal(dext_config_read(c, 0x3c, 1, &v), 0);
	assert_int_equal(v, 0x78);
	iokit_shim_script(DEXT_SEL_CONFIG_READ, kIOReturnSuccess, wide, 1);
	assert_int_equal(dext_config_read(c, 0x3c, 2, &v), 0);
	assert_int_equal(v, 0x5678);
	iokit_shim_script(DEXT_SEL_CONFIG_WRITE, kIOReturnSuccess, NULL, 0);
	assert_int_equal(dext_config_write(c, 0x3c, 1, 0xa5), 0);
	expect_call(DEXT_SEL_CONFIG_WRITE, 3, 0);
	iokit_shim_last_call(&k);
	assert_true(k.in[0] == 0x3c && k.in[1] == 1 && k.in[2] == 0xa5); /* offset, width, value */
	IOServiceClose(c);
}

static void test_bar_and_mmio_encoding(void **state)
{
	static const uint64_t info[] = {4, 0x100000, 0xc}, val[] = {0x8877665544332211};
	io_connect_t c = raw_open(0, 2, 0);
	struct iokit_shim_call k;
	struct dext_bar b;
	uint64_t v = 0;

	(void)state;
	/* The testdev's BAR2 is PCIDriverKit's second memory (index 1). */
	assert_int_equal(dext_bar_info(c, 2, &b), 0);
	expect_call(DEXT_SEL_BAR_INFO, 1, 3);
	assert_int_equal(b.memidx, 1);
	assert_int_equal(b.type, DEXT_BAR_TYPE_MEM64 | DEXT_BAR_TYPE_PREFETCH);
	assert_int_equal(dext_bar_info(c, 1, &b), -ENOENT); /* the upper half */
	iokit_shim_script(DEXT_SEL_BAR_INFO, kIOReturnSuccess, info, 3);
	assert_int_equal(dext_bar_info(c, 4, &b), 0);
	assert_true(b.memidx == 4 && b.size == 0x100000 && b.type == 0xc); /* index, size, type */
	iokit_shim_script(DEXT_SEL_MMIO_READ, kIOReturnSuccess, val, 1);
	assert_int_equal(dext_mmio_read(c, 1, 0x40, 8, &v), 0);
	expect_call(DEXT_SEL_MMIO_READ, 3, 1);
	iokit_shim_last_call(&k);
	assert_true(k.in[0] == 1 && k.in[1] == 0x40 && k.in[2] == 8); /* memory index, offset, width */
	assert_true(v == 0x8877665544332211);
	iokit_shim_script(DEXT_SEL_MMIO_READ, kIOReturnSuccess, val, 1);
	assert_int_equal(dext_mmio_read(c, 1, 0x40, 2, &v), 0);
	assert_true(v == 0x2211);
	iokit_shim_script(DEXT_SEL_MMIO_WRITE, kIOReturnSuccess, NULL, 0);
	assert_int_equal(dext_mmio_write(c, 1, 0x48, 4, 0xcafe), 0);
	expect_call(DEXT_SEL_MMIO_WRITE, 4, 0);
	iokit_shim_last_call(&k);
	assert_true(k.in[0] == 1 && k.in[1] == 0x48 && k.in[2] == 4 && k.in[3] == 0xcafe);
	IOServiceClose(c);
}

static void completion(void *refcon, IOReturn result, void **args, uint32_t n)
{
	(void)refcon;
	(void)result;
	(void)args;
	(void)n;
}

static void test_interrupt_encoding(void **state)
{
	static const uint64_t nvec[] = {300}, pend[] = {1, 2, 3, 0x8000000000000000};
	static const uint64_t mask[4] = {0x1111, 0x2222, 0x3333, 0x4444};
	io_connect_t c = raw_open(0, 2, 0);
	IONotificationPortRef port = IONotificationPortCreate(kIOMainPortDefault);
	struct iokit_shim_call k;
	uint64_t got[4];
	unsigned n = 0;

	(void)state;
	iokit_shim_script(DEXT_SEL_SETUP_INTERRUPTS, kIOReturnSuccess, nvec, 1);
	assert_int_equal(dext_setup_interrupts(c, &n), 0);
	expect_call(DEXT_SEL_SETUP_INTERRUPTS, 0, 1);
	assert_int_equal(n, 256); /* capped at what the page can hold */
	iokit_shim_script(DEXT_SEL_CHECK_INTERRUPT, kIOReturnSuccess, pend, 4);
	assert_int_equal(dext_check_interrupt(c, got), 0);
	expect_call(DEXT_SEL_CHECK_INTERRUPT, 0, 4);
	assert_memory_equal(got, pend, sizeof(got));
	assert_int_equal(dext_check_interrupt(c, got), -EAGAIN); /* not set up: NotReady */
	iokit_shim_script(DEXT_SEL_SET_IRQ_MASK, kIOReturnSuccess, NULL, 0);
	assert_int_equal(dext_set_irq_mask(c, mask), 0);
	expect_call(DEXT_SEL_SET_IRQ_MASK, 4, 0);
	iokit_shim_last_call(&k);
	assert_memory_equal(k.in, mask, sizeof(mask));
	/* WaitInterrupt: async, reference {reserved, callback, refcon}. */
	iokit_shim_script(DEXT_SEL_WAIT_INTERRUPT, kIOReturnSuccess, NULL, 0);
	assert_int_equal(dext_wait_interrupt(c, IONotificationPortGetMachPort(port), completion, &n), 0);
	iokit_shim_last_call(&k);
	assert_int_equal(k.selector, DEXT_SEL_WAIT_INTERRUPT);
	assert_true(k.async);
	assert_int_equal(k.ref_cnt, kIOAsyncCalloutCount);
	assert_int_equal(k.nin, 0);
	IONotificationPortDestroy(port);
	IOServiceClose(c);
}

static void test_dead_connection(void **state)
{
	uint32_t v;

	(void)state;
	/* A port name nobody holds: the Mach send fails, the device is gone. */
	assert_int_equal(dext_config_read(0x12345, 0, 4, &v), -ENODEV);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_protocol_numbers),
		cmocka_unit_test_setup_teardown(test_identity, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_no_argument_selectors, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_dma_buffer_encoding, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_dma_region_encoding, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_config_encoding, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_bar_and_mmio_encoding, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_interrupt_encoding, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_dead_connection, shim_setup, shim_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

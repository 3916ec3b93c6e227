/* SPDX-License-Identifier: MIT */
/*
 * Memory types and cache modes: a BAR is memory type 1 + its index (not
 * PCIDriverKit's memory index), mapped write-combining exactly when it is
 * prefetchable; the interrupt page is type 7, the driver's DMA buffer type
 * 0. What the mappings show is the device's memory.
 */
#include <stdint.h>

#include "edu_regs.h"
#include "testdev_regs.h"
#include "test_dext_util.h"

static void test_cache_rule(void **state)
{
	(void)state;
	assert_int_equal(dext_bar_map_options(0x0), kIOMapAnywhere | kIOMapDefaultCache);        /* mem32 */
	assert_int_equal(dext_bar_map_options(0x4), kIOMapAnywhere | kIOMapDefaultCache);        /* mem64 */
	assert_int_equal(dext_bar_map_options(0x8), kIOMapAnywhere | kIOMapWriteCombineCache);   /* mem32 pf */
	assert_int_equal(dext_bar_map_options(0xc), kIOMapAnywhere | kIOMapWriteCombineCache);   /* mem64 pf */
	assert_int_equal(dext_bar_map_options(0x1), kIOMapAnywhere | kIOMapDefaultCache);        /* I/O */
	assert_int_equal(dext_bar_map_options(0x9), kIOMapAnywhere | kIOMapDefaultCache);        /* I/O, junk bit */
}

static void test_prefetchable_bar_is_write_combined(void **state)
{
	struct iokit_shim_map m;
	struct upci_bar_info bi;
	upci_dev *d = NULL;
	volatile uint32_t *p;
	void *addr = NULL;
	uint64_t len = 0, v = 0;

	(void)state;
	assert_int_equal(upci_open(&d, TD_URI), 0);
	assert_int_equal(upci_claim(d), 0);
	assert_int_equal(upci_bar_info(d, TESTDEV_BAR_MEM, &bi), 0);
	assert_true(bi.flags & UPCI_BAR_PREFETCH);
	assert_true(bi.flags & UPCI_BAR_MAPPABLE);
	assert_false(bi.flags & UPCI_BAR_MAP_RDONLY);
	assert_int_equal(upci_bar_map(d, TESTDEV_BAR_MEM, &addr, &len), 0);
	iokit_shim_last_map(&m);
	assert_int_equal(m.type, 3); /* 1 + BAR index 2; PCIDriverKit calls it memory 1 */
	assert_int_equal(m.options, kIOMapAnywhere | kIOMapWriteCombineCache);
	assert_int_equal(m.kr, kIOReturnSuccess);
	/* The mapping is the BAR: what it writes MMIORead sees. */
	p = addr;
	p[16] = 0x5a5aa5a5;
	assert_int_equal(upci_mmio_read(d, TESTDEV_BAR_MEM, 64, 4, &v), 0);
	assert_int_equal(v, 0x5a5aa5a5);
	assert_int_equal(upci_mmio_write(d, TESTDEV_BAR_MEM, 68, 4, 0x01020304), 0);
	assert_int_equal(p[17], 0x01020304);
	/* The register BAR is not RAM in the sim: no mapping is offered. */
	assert_int_equal(upci_bar_info(d, TESTDEV_BAR_REGS, &bi), 0);
	assert_false(bi.flags & UPCI_BAR_MAPPABLE);
	assert_int_equal(upci_bar_map(d, TESTDEV_BAR_REGS, &addr, &len), -ENOTSUP);
	upci_close(d);
}

/* A BAR whose mapping fails once the device is open does not map: the
 * claim's probe says so (edu's BAR0 is a register mirror in the sim,
 * which the shim cannot share; on a Mac it would map). */
static void test_register_bar_default_cache(void **state)
{
	struct iokit_shim_map m;
	struct upci_bar_info bi;
	upci_dev *d = NULL;
	void *addr = NULL;
	uint64_t len = 0, v = 0;

	(void)state;
	assert_int_equal(upci_open(&d, EDU_URI), 0);
	assert_int_equal(upci_bar_info(d, EDU_BAR, &bi), 0);
	assert_true(bi.flags & UPCI_BAR_MAPPABLE); /* what macOS does for a memory BAR */
	assert_int_equal(upci_claim(d), 0);
	iokit_shim_last_map(&m);
	assert_int_equal(m.type, 1);
	assert_int_equal(m.options, kIOMapAnywhere | kIOMapDefaultCache); /* registers: not write-combined */
	assert_int_equal(m.kr, kIOReturnBadArgument);
	assert_int_equal(upci_bar_info(d, EDU_BAR, &bi), 0);
	assert_false(bi.flags & (UPCI_BAR_MAPPABLE | UPCI_BAR_MAP_RDONLY));
	assert_int_equal(upci_bar_map(d, EDU_BAR, &addr, &len), -ENOTSUP);
	assert_int_equal(upci_mmio_read(d, EDU_BAR, EDU_REG_ID, 4, &v), 0);
	assert_int_equal(v, EDU_ID_VALUE);
	upci_close(d);
}

static void test_irq_page_type(void **state)
{
	struct iokit_shim_map m;
	upci_dev *d = NULL;

	(void)state;
	assert_int_equal(upci_open(&d, TD_URI), 0);
	assert_int_equal(upci_claim(d), 0);
	assert_int_equal(upci_irq_enable(d, UPCI_IRQ_MSIX, 0), 256);
	iokit_shim_last_map(&m);
	assert_int_equal(m.type, DEXT_MEM_IRQ_STATE);
	assert_int_equal(m.options, kIOMapAnywhere | kIOMapDefaultCache);
	assert_int_equal(m.kr, kIOReturnSuccess);
	upci_close(d);
}

/* One edu DMA and its completion. */
static void edu_dma(io_connect_t c, uint64_t src, uint64_t dst, uint64_t cmd)
{
	uint64_t v = EDU_DMA_CMD_START;
	int tries = 1000;

	assert_int_equal(dext_mmio_write(c, 0, EDU_REG_DMA_SRC, 8, src), 0);
	assert_int_equal(dext_mmio_write(c, 0, EDU_REG_DMA_DST, 8, dst), 0);
	assert_int_equal(dext_mmio_write(c, 0, EDU_REG_DMA_COUNT, 8, 256), 0);
	assert_int_equal(dext_mmio_write(c, 0, EDU_REG_DMA_CMD, 8, cmd | EDU_DMA_CMD_START), 0);
	while (tries-- && (v & EDU_DMA_CMD_START))
		assert_int_equal(dext_mmio_read(c, 0, EDU_REG_DMA_CMD, 8, &v), 0);
	assert_int_equal(dext_mmio_read(c, 0, EDU_REG_DMA_FAULTS, 4, &v), 0);
	assert_int_equal(v, 0);
}

/* The driver's own buffer (type 0) is memory the device reaches at the
 * bus address AllocateDMABuffer returned: the edu copies within it. */
static void test_driver_dma_buffer(void **state)
{
	io_connect_t c = raw_open(0, 1, 0);
	struct dext_dma_buffer b;
	uint8_t *buf = NULL;
	uint64_t size = 0;

	(void)state;
	assert_int_equal(dext_alloc_dma_buffer(c, 0x5000, 0, &b), -EPERM); /* NotOpen: claim first */
	assert_int_equal(dext_claim(c), 0);
	assert_int_equal(dext_map(c, DEXT_MEM_DMA_BUFFER, 0, (void **)&buf, &size), -EINVAL); /* none yet */
	assert_int_equal(dext_alloc_dma_buffer(c, 0x5000, 0, &b), 0);
	assert_true(b.size == 0x5000 && b.nseg == 1 && b.seg0_len == 0x5000);
	assert_int_equal(b.class_code, EDU_CLASS_CODE);
	assert_int_equal(dext_map(c, DEXT_MEM_DMA_BUFFER, 0, (void **)&buf, &size), 0);
	assert_true(size == 0x5000);
	for (unsigned i = 0; i < 256; i++)
		buf[i] = (uint8_t)(i ^ 0x5c);
	memset(buf + 0x4000, 0, 256);
	edu_dma(c, b.seg0_addr, EDU_DMA_START, 0);
	edu_dma(c, EDU_DMA_START, b.seg0_addr + 0x4000, EDU_DMA_CMD_TO_RAM);
	assert_memory_equal(buf + 0x4000, buf, 256);
	assert_int_equal(dext_unmap(c, DEXT_MEM_DMA_BUFFER, buf), 0);
	assert_int_equal(dext_free_dma_buffer(c), 0);
	assert_int_equal(dext_map(c, DEXT_MEM_DMA_BUFFER, 0, (void **)&buf, &size), -EINVAL);
	assert_int_equal(dext_alloc_dma_buffer(c, DEXT_DMA_CHUNK + 1, 0, &b), -EINVAL); /* over 1.5 GiB */
	IOServiceClose(c);
}

static void test_bad_types(void **state)
{
	io_connect_t c = raw_open(0, 2, 0);
	void *addr = NULL;
	uint64_t size = 0;
	int x;

	(void)state;
	/* Every failed mapping reads kIOReturnBadArgument (xnu). */
	assert_int_equal(dext_map(c, DEXT_MEM_IRQ_STATE, 0, &addr, &size), -EINVAL); /* before SetupInterrupts */
	assert_int_equal(dext_map(c, 8, 0, &addr, &size), -EINVAL);
	assert_int_equal(dext_map(c, DEXT_MEM_BAR(4), 0, &addr, &size), -EINVAL); /* no BAR4 */
	/* Unmapping asks the driver for the memory again: its own error. */
	assert_int_equal(dext_unmap(c, DEXT_MEM_BAR(2), &x), -EPERM);  /* NotOpen: nobody claimed */
	assert_int_equal(dext_claim(c), 0);
	assert_int_equal(dext_unmap(c, DEXT_MEM_BAR(2), &x), -EINVAL); /* never mapped */
	IOServiceClose(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cache_rule),
		cmocka_unit_test_setup_teardown(test_prefetchable_bar_is_write_combined, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_register_bar_default_cache, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_irq_page_type, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_driver_dma_buffer, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_bad_types, shim_setup, shim_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

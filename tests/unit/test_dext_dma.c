/* SPDX-License-Identifier: MIT */
/*
 * DMA through the dext: bus addresses chosen by the DART (not the IOVA,
 * 16 KiB granules), its limits reached and reported clearly (-ENOSPC for
 * 1.5 GiB mapped and for 65,536 mappings, -ERANGE when no single bus
 * segment exists), chunking of large regions, the driver's table rules
 * (duplicate key, unknown key, probe), rollback, whatever code a full DART
 * gives, and one-direction mappings refused (the driver maps read-write).
 */
#include <sys/mman.h>

#include "test_dext_util.h"

#define EDU 0, 1, 0
#define MiB (UINT64_C(1) << 20)
#define G DEXT_DART_GRANULE

/* Address space for regions, 16 KiB aligned, never touched beyond what a
 * test writes (so gigabytes cost nothing). */
static void *reserve(uint64_t len, void **base)
{
	*base = mmap(NULL, len + G, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	assert_true(*base != MAP_FAILED);
	return (void *)(((uintptr_t)*base + G - 1) & ~(uintptr_t)(G - 1));
}

static void unreserve(void *base, uint64_t len)
{
	munmap(base, len + G);
}

static uint64_t dart_mapped(void)
{
	struct iokit_shim_dart i;

	assert_int_equal(iokit_shim_dart_info(EDU, &i), 0);
	return i.mapped;
}

static void test_bus_is_not_iova(void **state)
{
	void *base;
	uint8_t *m = reserve(4 * G, &base);
	struct iokit_shim_dart i;
	uint64_t bus1 = 0, bus2 = 0;
	upci_dev *d = NULL;

	(void)state;
	assert_int_equal(upci_open(&d, EDU_URI), 0);
	assert_int_equal(upci_claim(d), 0);
	assert_int_equal(upci_dma_map(d, 0x100000, m, G, UPCI_DMA_RW, &bus1), 0);
	/* A page that starts 4 KiB into a granule keeps that offset. */
	assert_int_equal(upci_dma_map(d, 0x200000, m + G + 4096, 4096, UPCI_DMA_RW, &bus2), 0);
	assert_int_equal(iokit_shim_dart_info(EDU, &i), 0);
	assert_true(bus1 != 0x100000 && bus1 >= i.base && bus1 < i.base + i.size);
	assert_true(bus2 != 0x200000 && (bus2 & (G - 1)) == 4096);
	assert_true(i.mapped == 2 * G && i.mappings == 2); /* whole granules, one each */
	assert_int_equal(upci_dma_unmap(d, 0x100000), 0);
	assert_int_equal(upci_dma_unmap(d, 0x200000), 0);
	assert_int_equal(dart_mapped(), 0);
	upci_close(d);
	unreserve(base, 4 * G);
}

/* 65,536 registered regions, then -ENOSPC; and the DART's own mapping
 * limit seen by a second client. */
static void test_65536_mappings(void **state)
{
	void *base;
	uint8_t *m = reserve(G, &base);
	upci_dev *d = NULL;
	io_connect_t other;
	uint64_t bus = 0, len = 0;
	unsigned n = 0;

	(void)state;
	assert_int_equal(upci_open(&d, EDU_URI), 0);
	assert_int_equal(upci_claim(d), 0);
	for (n = 0; n < DEXT_DMA_SLOTS; n++)
		if (upci_dma_map(d, 0x100000 + (uint64_t)n * G, m, 4096, UPCI_DMA_RW, &bus) != 0)
			break;
	assert_int_equal(n, DEXT_DMA_SLOTS);
	assert_int_equal(upci_dma_map(d, 0x100000 + (uint64_t)n * G, m, 4096, UPCI_DMA_RW, &bus), -ENOSPC);
	assert_int_equal(iokit_shim_dma_regions(EDU), DEXT_DMA_SLOTS);
	/* Another client has slots left, but the DART has no mapping left. */
	other = raw_open(EDU);
	assert_int_equal(dext_register_dma(other, 0x1000, (uint64_t)(uintptr_t)m, 4096, &bus, &len),
			 -ENOSPC);
	IOServiceClose(other);
	assert_int_equal(upci_release(d), 0); /* unmaps every region */
	assert_int_equal(iokit_shim_dma_regions(EDU), 0);
	assert_int_equal(dart_mapped(), 0);
	upci_close(d);
	unreserve(base, G);
}

static void test_1_5_gib(void **state)
{
	const uint64_t part = 512 * MiB;
	void *base;
	uint8_t *m = reserve(part, &base);
	uint64_t bus = 0;
	upci_dev *d = NULL;

	(void)state;
	assert_int_equal(upci_open(&d, EDU_URI), 0);
	assert_int_equal(upci_claim(d), 0);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(upci_dma_map(d, (uint64_t)(i + 1) << 32, m, part, UPCI_DMA_RW, &bus), 0);
	assert_true(dart_mapped() == DEXT_DART_SPACE);
	assert_int_equal(upci_dma_map(d, UINT64_C(4) << 32, m, G, UPCI_DMA_RW, &bus), -ENOSPC);
	/* Over 1.5 GiB in one region: refused before the driver is asked. */
	assert_int_equal(upci_dma_unmap(d, UINT64_C(1) << 32), 0);
	assert_int_equal(upci_dma_map(d, UINT64_C(8) << 32, m, DEXT_DMA_CHUNK + G, UPCI_DMA_RW, &bus), -ENOSPC);
	assert_int_equal(iokit_shim_dma_regions(EDU), 2);
	/* The freed 512 MiB maps again. */
	assert_int_equal(upci_dma_map(d, UINT64_C(1) << 32, m, part, UPCI_DMA_RW, &bus), 0);
	upci_close(d);
	assert_int_equal(dart_mapped(), 0);
	unreserve(base, part);
}

/* Enough DART space in all, but not in one run: the DART would return
 * several segments, the driver refuses them (NotAligned) and rolls back. */
static void test_fragmented(void **state)
{
	const uint64_t big = 768 * MiB;
	void *base;
	uint8_t *m = reserve(1024 * MiB, &base);
	uint64_t bus = 0, before;
	upci_dev *d = NULL;

	(void)state;
	assert_int_equal(upci_open(&d, EDU_URI), 0);
	assert_int_equal(upci_claim(d), 0);
	assert_int_equal(upci_dma_map(d, UINT64_C(1) << 32, m, big, UPCI_DMA_RW, &bus), 0);
	assert_int_equal(upci_dma_map(d, UINT64_C(2) << 32, m, G, UPCI_DMA_RW, &bus), 0);
	assert_int_equal(upci_dma_map(d, UINT64_C(3) << 32, m, big - G, UPCI_DMA_RW, &bus), 0);
	assert_int_equal(upci_dma_unmap(d, UINT64_C(1) << 32), 0);
	assert_int_equal(upci_dma_unmap(d, UINT64_C(3) << 32), 0);
	before = dart_mapped();
	assert_true(before == G);
	assert_int_equal(upci_dma_map(d, UINT64_C(4) << 32, m, 1024 * MiB, UPCI_DMA_RW, &bus), -ERANGE);
	assert_true(dart_mapped() == before); /* rolled back */
	assert_int_equal(iokit_shim_dma_regions(EDU), 1);
	assert_int_equal(upci_dma_map(d, UINT64_C(4) << 32, m, big, UPCI_DMA_RW, &bus), 0);
	upci_close(d);
	unreserve(base, 1024 * MiB);
}

static void test_chunks(void **state)
{
	const uint64_t size = 2048 * MiB;
	void *base;
	uint8_t *m;
	io_connect_t c;
	uint64_t bus = 0, len = 0;
	upci_dev *d = NULL;

	(void)state;
	iokit_shim_set_dart_size(4096 * MiB);
	assert_int_equal(iokit_shim_configure(SHIM_SPEC), 0);
	iokit_shim_set_dart_size(0);
	m = reserve(size, &base);
	c = raw_open(EDU);
	assert_int_equal(dext_claim(c), 0);
	/* 2 GiB: two chunks; the answer is the first one's segment. */
	assert_int_equal(dext_register_dma(c, 0x100000, (uint64_t)(uintptr_t)m, size, &bus, &len), 0);
	assert_true(len == DEXT_DMA_CHUNK);
	assert_true(dart_mapped() == size);
	assert_int_equal(dext_unregister_dma(c, 0x100000), 0);
	assert_int_equal(dart_mapped(), 0);
	/* More than 128 chunks: NoSpace before anything is mapped. */
	assert_int_equal(dext_register_dma(c, 0x100000, (uint64_t)(uintptr_t)m, 129 * DEXT_DMA_CHUNK, &bus, &len),
			 -ENOSPC);
	IOServiceClose(c);
	/* Through upci one bus address must cover the region: refused. */
	assert_int_equal(upci_open(&d, EDU_URI), 0);
	assert_int_equal(upci_claim(d), 0);
	assert_int_equal(upci_dma_map(d, 0x100000, m, size, UPCI_DMA_RW, &bus), -ENOSPC);
	assert_int_equal(dart_mapped(), 0);
	upci_close(d);
	unreserve(base, size);
}

static void test_table_rules(void **state)
{
	void *base;
	uint8_t *m = reserve(2 * G, &base);
	io_connect_t c = raw_open(EDU);
	uint64_t bus = 0, len = 0, w = 0;

	(void)state;
	m[8] = 0x42;
	/* Nobody claimed the device: the driver says NotOpen. */
	assert_int_equal(dext_register_dma(c, 0x100000, (uint64_t)(uintptr_t)m, G, &bus, &len), -EPERM);
	assert_int_equal(dext_claim(c), 0);
	assert_int_equal(dext_register_dma(c, 0x100000, 0, G, &bus, &len), -EINVAL); /* no va */
	assert_int_equal(dext_register_dma(c, 0x100000, (uint64_t)(uintptr_t)m, 0, &bus, &len), -EINVAL);
	assert_int_equal(dext_register_dma(c, 0x100000, (uint64_t)(uintptr_t)m, G, &bus, &len), 0);
	assert_true(len == G);
	/* The key is the IOVA: a second region under it is StillOpen. */
	assert_int_equal(dext_register_dma(c, 0x100000, (uint64_t)(uintptr_t)m + G, G, &bus, &len),
			 -EEXIST);
	assert_int_equal(dext_probe_dma(c, 0x100000, 8, &w), 0);
	assert_int_equal(w & 0xff, 0x42);
	assert_int_equal(dext_probe_dma(c, 0x100000, G - 4, &w), -ERANGE); /* Overrun */
	assert_int_equal(dext_probe_dma(c, 0x900000, 0, &w), -ENOENT);
	assert_int_equal(dext_unregister_dma(c, 0x900000), -ENOENT);
	assert_int_equal(dext_unregister_dma(c, 0x100000), 0);
	assert_int_equal(dext_unregister_dma(c, 0x100000), -ENOENT);
	IOServiceClose(c);
	unreserve(base, 2 * G);
}

/* The driver maps every region read-write: upci refuses to pretend. */
static void test_one_direction_refused(void **state)
{
	void *base;
	uint8_t *m = reserve(G, &base);
	upci_dev *d = NULL;
	uint64_t bus = 0;

	(void)state;
	assert_int_equal(upci_open(&d, EDU_URI), 0);
	assert_int_equal(upci_claim(d), 0);
	assert_int_equal(upci_dma_map(d, 0x100000, m, G, UPCI_DMA_READ, &bus), -ENOTSUP);
	assert_int_equal(upci_dma_map(d, 0x100000, m, G, UPCI_DMA_WRITE, &bus), -ENOTSUP);
	assert_int_equal(iokit_shim_dma_regions(EDU), 0); /* the driver was not asked */
	assert_int_equal(upci_dma_map(d, 0x100000, m, G, 0, &bus), 0); /* 0: both */
	upci_close(d);
	unreserve(base, G);
}

/* A full DART fails PrepareForDMA with a code nobody outside Apple knows;
 * the driver passes it on. Whatever it is, upci says -ENOSPC. */
static void full_dart(kern_return_t kr, int raw)
{
	const uint64_t part = 512 * MiB;
	void *base;
	uint8_t *m = reserve(part, &base);
	io_connect_t c;
	upci_dev *d = NULL;
	uint64_t bus = 0, len = 0;

	iokit_shim_set_dart_error(kr);
	assert_int_equal(upci_open(&d, EDU_URI), 0);
	assert_int_equal(upci_claim(d), 0);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(upci_dma_map(d, (uint64_t)(i + 1) << 32, m, part, UPCI_DMA_RW, &bus), 0);
	assert_int_equal(upci_dma_map(d, UINT64_C(4) << 32, m, G, UPCI_DMA_RW, &bus), -ENOSPC);
	c = raw_open(EDU); /* the raw code, through another client */
	assert_int_equal(dext_register_dma(c, 0x1000, (uint64_t)(uintptr_t)m, G, &bus, &len), raw);
	IOServiceClose(c);
	upci_close(d);
	unreserve(base, part);
}

static void test_full_dart_no_resources(void **state)
{
	(void)state;
	full_dart(kIOReturnNoResources, -ENOSPC);
}

static void test_full_dart_no_memory(void **state)
{
	(void)state;
	full_dart(kIOReturnNoMemory, -ENOMEM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bus_is_not_iova, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_65536_mappings, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_1_5_gib, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_fragmented, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_chunks, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_table_rules, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_one_direction_refused, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_full_dart_no_resources, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_full_dart_no_memory, shim_setup, shim_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

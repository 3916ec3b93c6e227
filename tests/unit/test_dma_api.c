/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the DMA calls of upci.h beyond map/alloc (IOVA ranges,
 * any-IOVA and scatter-list maps, translation both ways, huge-page
 * buffers) through the sim backend and its IOMMU kinds (flat, x86, dart:
 * src/backend/sim/sim.h). Expected values come from upci.h and sim.h; the
 * edu's DMA engine proves what a device really reaches.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_dma_util.h"

#define EDU "sim:edu"
#define EDU_X86 "sim:edu?iommu=x86"
#define EDU_DART "sim:edu?iommu=dart"
#define DART_BASE 0x0a000000ull /* sim.h: SIM_DART_BASE */
#define DART_GRANULE 16384ull

/* ---------------------------------------------------------- ranges */

static void test_ranges(void **state)
{
	struct upci_iova_range r[4];
	upci_dev *d = tu_open(EDU), *x = tu_open(EDU_X86), *dart = tu_open(EDU_DART);

	(void)state;
	/* Not claimed: the query still answers. */
	assert_int_equal(upci_dma_iova_ranges(d, NULL, 0), 1);
	assert_int_equal(upci_dma_iova_ranges(d, r, 4), 1);
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].last, UINT64_MAX);
	assert_int_equal(upci_dma_iova_ranges(dart, r, 4), 1); /* the IOVA is only a key */
	assert_int_equal(r[0].last, UINT64_MAX);
	/* x86: VT-d's 48 bits without the interrupt window. */
	assert_int_equal(upci_dma_iova_ranges(x, r, 4), 2);
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].last, 0xfedfffff);
	assert_int_equal(r[1].start, 0xfef00000);
	assert_int_equal(r[1].last, (1ull << 48) - 1);
	/* Fewer slots than ranges: the count, and only what fits. */
	memset(r, 0xee, sizeof(r));
	assert_int_equal(upci_dma_iova_ranges(x, r, 1), 2);
	assert_int_equal(r[0].last, 0xfedfffff);
	assert_int_equal(r[1].start, 0xeeeeeeeeeeeeeeeeull);
	assert_int_equal(upci_dma_iova_ranges(x, NULL, 1), -EINVAL);
	assert_int_equal(upci_dma_iova_ranges(NULL, r, 1), -EINVAL);
}

/* Fixed maps outside the ranges are -ERANGE; the allocator steps over the
 * hole. */
static void test_ranges_enforced(void **state)
{
	const uint64_t ps = tu_page();
	upci_dev *x = tu_open_claimed(EDU_X86);
	uint8_t *p = tu_pages(1);
	/* 4 GiB of address space, never touched: the sim only records it. */
	size_t big = 0xfe000000 - MiB;
	void *huge = mmap(NULL, big, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uint64_t bus, iova;

	(void)state;
	assert_true(huge != MAP_FAILED);
	assert_int_equal(upci_dma_map(x, 0xfee00000, p, ps, 0, &bus), -ERANGE);
	assert_int_equal(upci_dma_map(x, 0xfee00000 - ps, p, 2 * ps, 0, &bus), -ERANGE); /* into the hole */
	assert_int_equal(upci_dma_map(x, 0xfeeff000 & ~(ps - 1), p, ps, 0, &bus), -ERANGE);
	assert_int_equal(upci_dma_map(x, 1ull << 48, p, ps, 0, &bus), -ERANGE);
	assert_int_equal(upci_dma_map(x, 0xfef00000, p, ps, 0, &bus), 0);
	assert_int_equal(bus, 0xfef00000);
	assert_int_equal(upci_dma_unmap(x, 0xfef00000), 0);
	/* Fill [1 MiB, 0xfe000000): 14 MiB stay free below the hole. */
	assert_int_equal(upci_dma_map(x, MiB, huge, big, 0, &bus), 0);
	assert_int_equal(upci_dma_map_any(x, p, ps, 0, &iova, &bus), 0);
	assert_int_equal(iova, 0xfe000000);
	assert_int_equal(upci_dma_unmap(x, iova), 0);
	{
		size_t len = 14 * MiB + ps;
		void *q = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		assert_true(q != MAP_FAILED);
		assert_int_equal(upci_dma_map_any(x, q, len, 0, &iova, &bus), 0);
		assert_int_equal(iova, 0xfef00000); /* above the hole, not in it */
		assert_int_equal(upci_dma_unmap(x, iova), 0);
		munmap(q, len);
	}
	assert_int_equal(upci_dma_unmap(x, MiB), 0);
	munmap(huge, big);
}

/* ---------------------------------------------------------- any IOVA */

static void test_map_any(void **state)
{
	const uint64_t ps = tu_page();
	upci_dev *d = tu_open_claimed(EDU);
	uint8_t *p = tu_pages(8), *src, *dst;
	uint64_t iova[3], bus[3], at;
	void *va;

	(void)state;
	assert_int_equal(upci_dma_map_any(d, p, ps, 0, &iova[0], &bus[0]), 0);
	assert_int_equal(iova[0], MiB); /* lowest free at or above 1 MiB */
	assert_int_equal(bus[0], iova[0]);
	assert_int_equal(upci_dma_map_any(d, p + ps, 2 * ps, UPCI_DMA_READ, &iova[1], &bus[1]), 0);
	assert_int_equal(iova[1], MiB + ps);
	/* Unmapped with upci_dma_unmap; the hole is reused first. */
	assert_int_equal(upci_dma_unmap(d, iova[0]), 0);
	assert_int_equal(upci_dma_map_any(d, p + 3 * ps, ps, 0, &iova[2], &bus[2]), 0);
	assert_int_equal(iova[2], MiB);
	/* Translation of what was mapped. */
	assert_int_equal(upci_dma_vaddr_to_bus(d, p + ps + 5, 10, &at, NULL), 0);
	assert_int_equal(at, MiB + ps + 5);
	assert_int_equal(upci_dma_bus_to_vaddr(d, MiB + ps + 5, 10, &va), 0);
	assert_ptr_equal(va, p + ps + 5);
	/* The device reaches it: copy one page into another. */
	src = p + 3 * ps;
	dst = p + 5 * ps;
	for (unsigned i = 0; i < 3000; i++)
		src[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(upci_dma_map_any(d, dst, ps, UPCI_DMA_WRITE, &at, &bus[0]), 0);
	tu_bus_master(d);
	assert_int_equal(tu_edu_copy(d, bus[2], bus[0], 3000), 0);
	assert_memory_equal(dst, src, 3000);
	/* Read-only mapping: the device may not write it. */
	assert_int_equal(tu_edu_copy(d, bus[2], bus[1], 100), 1);
	/* Argument errors. */
	assert_int_equal(upci_dma_map_any(d, p + 1, ps, 0, &at, &bus[0]), -EINVAL);
	assert_int_equal(upci_dma_map_any(d, p, ps + 1, 0, &at, &bus[0]), -EINVAL);
	assert_int_equal(upci_dma_map_any(d, p, 0, 0, &at, &bus[0]), -EINVAL);
	assert_int_equal(upci_dma_map_any(d, p, ps, 8, &at, &bus[0]), -EINVAL);
	assert_int_equal(upci_dma_map_any(d, NULL, ps, 0, &at, &bus[0]), -EINVAL);
	assert_int_equal(upci_dma_map_any(d, p, ps, 0, NULL, &bus[0]), -EINVAL);
	assert_int_equal(upci_dma_map_any(d, p, ps, 0, &at, NULL), -EINVAL);
	assert_int_equal(upci_release(d), 0);
	assert_int_equal(upci_dma_map_any(d, p, ps, 0, &at, &bus[0]), -EPERM);
}

/* Memory in 2 MiB pieces gets a 2 MiB aligned IOVA (IOMMU large pages). */
static void test_map_any_aligned(void **state)
{
	upci_dev *d = tu_open_claimed(EDU);
	uint8_t *p = tu_pages(1);
	size_t len = 6 * MiB;
	uint8_t *raw = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uint8_t *big = (uint8_t *)(((uintptr_t)raw + 2 * MiB - 1) & ~(uintptr_t)(2 * MiB - 1));
	uint64_t iova, bus, small;

	(void)state;
	assert_true(raw != MAP_FAILED);
	assert_int_equal(upci_dma_map_any(d, p, tu_page(), 0, &small, &bus), 0);
	assert_int_equal(small, MiB);
	assert_int_equal(upci_dma_map_any(d, big, 2 * MiB, 0, &iova, &bus), 0);
	assert_int_equal(iova, 2 * MiB);
	assert_int_equal(upci_dma_unmap(d, iova), 0);
	/* Not 2 MiB aligned memory: the page is enough. */
	assert_int_equal(upci_dma_map_any(d, big + tu_page(), 2 * MiB, 0, &iova, &bus), 0);
	assert_int_equal(iova, MiB + tu_page());
	assert_int_equal(upci_dma_unmap(d, iova), 0);
	assert_int_equal(upci_dma_unmap(d, small), 0);
	munmap(raw, len);
}

/* ---------------------------------------------------------- scatter lists */

static void test_map_sg(void **state)
{
	const uint64_t ps = tu_page();
	upci_dev *d = tu_open_claimed(EDU);
	uint8_t *p = tu_pages(8), *out = tu_pages(1);
	struct upci_dma_seg sg[3] = {{p, ps}, {p + 2 * ps, ps}, {p + 4 * ps, 2 * ps}};
	uint64_t iova = UPCI_IOVA_ANY, bus, ob, at;
	void *va;

	(void)state;
	for (uint64_t i = 0; i < 6 * ps; i++)
		p[i] = (uint8_t)(i ^ (i >> 8));
	assert_int_equal(upci_dma_map_sg(d, sg, 3, 0, &iova, &bus), 0);
	assert_int_equal(iova, MiB);
	assert_int_equal(bus, MiB);
	/* Each piece where the list puts it. */
	assert_int_equal(upci_dma_vaddr_to_bus(d, p + 2 * ps, ps, &at, NULL), 0);
	assert_int_equal(at, MiB + ps);
	assert_int_equal(upci_dma_vaddr_to_bus(d, p + 4 * ps, 2 * ps, &at, NULL), 0);
	assert_int_equal(at, MiB + 2 * ps);
	assert_int_equal(upci_dma_bus_to_vaddr(d, MiB + 2 * ps + 8, 8, &va), 0);
	assert_ptr_equal(va, p + 4 * ps + 8);
	/* Contiguous for the device, not in the process: one range across
	 * pieces cannot be named by one process address. */
	assert_int_equal(upci_dma_bus_to_vaddr(d, MiB + ps - 8, 16, &va), -ERANGE);
	assert_int_equal(upci_dma_vaddr_to_bus(d, p + ps, 8, &at, NULL), -ENOENT); /* the gap */
	/* The device reads across the boundary of pieces 0 and 1. */
	assert_int_equal(upci_dma_map_any(d, out, ps, 0, &at, &ob), 0);
	tu_bus_master(d);
	assert_int_equal(tu_edu_copy(d, bus + ps - 1000, ob, 2000), 0);
	assert_memory_equal(out, p + ps - 1000, 1000);
	assert_memory_equal(out + 1000, p + 2 * ps, 1000);
	/* One mapping: a later piece is not one; the first removes all. */
	assert_int_equal(upci_dma_unmap(d, MiB + ps), -ENOENT);
	assert_int_equal(upci_dma_unmap(d, MiB), 0);
	assert_int_equal(upci_dma_vaddr_to_bus(d, p + 4 * ps, 1, &at, NULL), -ENOENT);
	assert_int_equal(upci_dma_bus_to_vaddr(d, MiB + 2 * ps, 1, &va), -ENOENT);
	assert_int_equal(tu_edu_copy(d, bus + ps, ob, 100), 1); /* gone for the device too */
	/* The freed IOVAs are the lowest again (the output page sits after them). */
	iova = UPCI_IOVA_ANY;
	assert_int_equal(upci_dma_map_sg(d, sg, 2, 0, &iova, &bus), 0);
	assert_int_equal(iova, MiB);
	assert_int_equal(upci_dma_unmap(d, MiB), 0);
}

static void test_map_sg_errors(void **state)
{
	const uint64_t ps = tu_page();
	upci_dev *d = tu_open_claimed(EDU);
	uint8_t *p = tu_pages(4), *q = tu_pages(1);
	struct upci_dma_seg sg[2] = {{p, ps}, {p + 2 * ps, ps}}, bad[2];
	struct upci_dma_seg *many;
	uint64_t iova, bus, at;

	(void)state;
	iova = UPCI_IOVA_ANY;
	assert_int_equal(upci_dma_map_sg(d, sg, 0, 0, &iova, &bus), -EINVAL);
	assert_int_equal(upci_dma_map_sg(d, NULL, 1, 0, &iova, &bus), -EINVAL);
	assert_int_equal(upci_dma_map_sg(d, sg, 1, 0, NULL, &bus), -EINVAL);
	assert_int_equal(upci_dma_map_sg(d, sg, 1, 0, &iova, NULL), -EINVAL);
	assert_int_equal(upci_dma_map_sg(d, sg, 1, 4, &iova, &bus), -EINVAL);
	assert_int_equal(upci_dma_map_sg(d, sg, UPCI_DMA_SEG_MAX + 1, 0, &iova, &bus), -EINVAL);
	memcpy(bad, sg, sizeof(bad));
	bad[1].vaddr = p + 1;
	assert_int_equal(upci_dma_map_sg(d, bad, 2, 0, &iova, &bus), -EINVAL);
	memcpy(bad, sg, sizeof(bad));
	bad[1].len = 0;
	assert_int_equal(upci_dma_map_sg(d, bad, 2, 0, &iova, &bus), -EINVAL);
	bad[1].len = ps + 1;
	assert_int_equal(upci_dma_map_sg(d, bad, 2, 0, &iova, &bus), -EINVAL);
	bad[1].vaddr = NULL;
	bad[1].len = ps;
	assert_int_equal(upci_dma_map_sg(d, bad, 2, 0, &iova, &bus), -EINVAL);
	memcpy(bad, sg, sizeof(bad));
	bad[1].len = UINT64_MAX - ps + 1; /* page multiple, but the total wraps */
	assert_int_equal(upci_dma_map_sg(d, bad, 2, 0, &iova, &bus), -EOVERFLOW);
	iova = MiB + 1;
	assert_int_equal(upci_dma_map_sg(d, sg, 2, 0, &iova, &bus), -EINVAL);
	iova = UINT64_MAX - ps + 1;
	assert_int_equal(upci_dma_map_sg(d, sg, 2, 0, &iova, &bus), -EOVERFLOW);
	/* All or nothing: the second piece hits a mapping, the first stays free. */
	assert_int_equal(upci_dma_map(d, 4 * MiB + ps, q, ps, 0, &bus), 0);
	iova = 4 * MiB;
	assert_int_equal(upci_dma_map_sg(d, sg, 2, 0, &iova, &bus), -EEXIST);
	assert_int_equal(iova, 4 * MiB); /* unchanged on failure */
	assert_int_equal(upci_dma_vaddr_to_bus(d, p, 1, &at, NULL), -ENOENT);
	assert_int_equal(upci_dma_map(d, 4 * MiB, q, ps, 0, &bus), 0);
	/* A fixed IOVA that fits. */
	iova = 8 * MiB;
	assert_int_equal(upci_dma_map_sg(d, sg, 2, 0, &iova, &bus), 0);
	assert_int_equal(iova, 8 * MiB);
	assert_int_equal(bus, 8 * MiB);
	assert_int_equal(upci_dma_unmap(d, 8 * MiB), 0);
	/* The most segments: each one page of the same memory. */
	many = calloc(UPCI_DMA_SEG_MAX, sizeof(*many));
	assert_non_null(many);
	for (unsigned i = 0; i < UPCI_DMA_SEG_MAX; i++)
		many[i] = (struct upci_dma_seg){q, ps};
	iova = UPCI_IOVA_ANY;
	assert_int_equal(upci_dma_map_sg(d, many, UPCI_DMA_SEG_MAX, 0, &iova, &bus), 0);
	assert_int_equal(upci_dma_bus_to_vaddr(d, bus + (UPCI_DMA_SEG_MAX - 1) * ps, ps, (void **)&p), 0);
	assert_ptr_equal(p, q);
	assert_int_equal(upci_dma_unmap(d, iova), 0);
	free(many);
}

/* An IOMMU that picks bus addresses: pieces that share no granule in a
 * row are not contiguous at the bus (-ERANGE); whole granules are. */
static void test_map_sg_dart(void **state)
{
	const uint64_t ps = tu_page();
	upci_dev *d = tu_open_claimed(EDU_DART);
	size_t len = 8 * DART_GRANULE;
	uint8_t *raw = tu_pages(len / ps), *g;
	struct upci_dma_seg sg[2];
	uint64_t iova, bus, at;

	(void)state;
	g = (uint8_t *)(((uintptr_t)raw + DART_GRANULE - 1) & ~(uintptr_t)(DART_GRANULE - 1));
	sg[0] = (struct upci_dma_seg){g, DART_GRANULE};
	sg[1] = (struct upci_dma_seg){g + 2 * DART_GRANULE, DART_GRANULE};
	iova = UPCI_IOVA_ANY;
	assert_int_equal(upci_dma_map_sg(d, sg, 2, 0, &iova, &bus), 0);
	assert_int_equal(bus, DART_BASE);
	assert_int_equal(upci_dma_vaddr_to_bus(d, g + 2 * DART_GRANULE, 1, NULL, &at), 0);
	assert_int_equal(at, DART_BASE + DART_GRANULE);
	assert_int_equal(upci_dma_unmap(d, iova), 0);
	if (ps < DART_GRANULE) {
		/* Page-sized pieces each take a granule of their own. */
		sg[0] = (struct upci_dma_seg){g, ps};
		sg[1] = (struct upci_dma_seg){g + ps, ps};
		iova = UPCI_IOVA_ANY;
		assert_int_equal(upci_dma_map_sg(d, sg, 2, 0, &iova, &bus), -ERANGE);
		assert_int_equal(upci_dma_vaddr_to_bus(d, g, 1, NULL, &at), -ENOENT); /* nothing left */
		/* The DART is empty again: the next mapping starts at its base. */
		assert_int_equal(upci_dma_map_any(d, g, ps, 0, &iova, &bus), 0);
		assert_int_equal(bus, DART_BASE);
	}
}

/* ---------------------------------------------------------- translation */

static void test_translate(void **state)
{
	const uint64_t ps = tu_page();
	upci_dev *d = tu_open_claimed(EDU_DART);
	uint8_t *p = tu_pages(4);
	uint64_t iova, bus, at, b2;
	void *va;

	(void)state;
	assert_int_equal(upci_dma_map(d, 0x40000000, p, 2 * ps, 0, &bus), 0);
	assert_true(bus >= DART_BASE && bus < DART_BASE + (1536ull << 20));
	assert_true(bus != 0x40000000); /* the DART chose it */
	assert_int_equal(upci_dma_vaddr_to_bus(d, p + 100, 50, &iova, &at), 0);
	assert_int_equal(iova, 0x40000000 + 100);
	assert_int_equal(at, bus + 100);
	assert_int_equal(upci_dma_vaddr_to_bus(d, p + 2 * ps - 1, 1, NULL, NULL), 0);
	assert_int_equal(upci_dma_bus_to_vaddr(d, bus + ps + 3, 4, &va), 0);
	assert_ptr_equal(va, p + ps + 3);
	/* The IOVA is not a bus address here. */
	assert_int_equal(upci_dma_bus_to_vaddr(d, 0x40000000, 1, &va), -ENOENT);
	/* Past the end, unmapped, bad arguments. */
	assert_int_equal(upci_dma_vaddr_to_bus(d, p + 2 * ps - 1, 2, &iova, &at), -ERANGE);
	assert_int_equal(upci_dma_vaddr_to_bus(d, p + 3 * ps, 1, &iova, &at), -ENOENT);
	assert_int_equal(upci_dma_bus_to_vaddr(d, bus + 2 * ps - 4, 8, &va), -ERANGE);
	assert_int_equal(upci_dma_bus_to_vaddr(d, bus - 1, 1, &va), -ENOENT);
	assert_int_equal(upci_dma_vaddr_to_bus(d, p, 0, &iova, &at), -EINVAL);
	assert_int_equal(upci_dma_vaddr_to_bus(d, NULL, 1, &iova, &at), -EINVAL);
	assert_int_equal(upci_dma_vaddr_to_bus(d, (void *)(UINTPTR_MAX - 1), 4, &iova, &at), -EINVAL);
	assert_int_equal(upci_dma_bus_to_vaddr(d, bus, 0, &va), -EINVAL);
	assert_int_equal(upci_dma_bus_to_vaddr(d, bus, 1, NULL), -EINVAL);
	assert_int_equal(upci_dma_bus_to_vaddr(d, UINT64_MAX, 2, &va), -EINVAL);
	assert_int_equal(upci_dma_bus_to_vaddr(NULL, bus, 1, &va), -EINVAL);
	/* Memory mapped twice answers with one mapping, and with the other
	 * once that one is gone (the alias is not in the index). */
	assert_int_equal(upci_dma_map(d, 0x50000000, p, ps, 0, &b2), 0);
	assert_int_equal(upci_dma_vaddr_to_bus(d, p + 8, 8, &iova, &at), 0);
	assert_true((iova == 0x40000008 && at == bus + 8) || (iova == 0x50000008 && at == b2 + 8));
	assert_int_equal(upci_dma_unmap(d, 0x40000000), 0);
	assert_int_equal(upci_dma_vaddr_to_bus(d, p + 8, 8, &iova, &at), 0);
	assert_int_equal(iova, 0x50000008);
	assert_int_equal(at, b2 + 8);
	assert_int_equal(upci_dma_vaddr_to_bus(d, p + ps + 8, 8, &iova, &at), -ENOENT);
	/* Buffers translate too. */
	{
		struct upci_dma_buf buf;

		assert_int_equal(upci_dma_alloc(d, UPCI_IOVA_ANY, ps, &buf), 0);
		assert_int_equal(upci_dma_vaddr_to_bus(d, (uint8_t *)buf.vaddr + 1, 1, &iova, &at), 0);
		assert_int_equal(iova, buf.iova + 1);
		assert_int_equal(at, buf.bus_addr + 1);
		assert_int_equal(upci_dma_free(d, &buf), 0);
	}
	assert_int_equal(upci_dma_unmap(d, 0x50000000), 0);
}

/* ---------------------------------------------------------- huge pages */

static long meminfo(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	long v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0 && line[strlen(key)] == ':')
			v = strtol(line + strlen(key) + 1, NULL, 10);
	fclose(f);
	return v;
}

static int set_nr_hugepages(long n)
{
	FILE *f = fopen("/proc/sys/vm/nr_hugepages", "w");
	int ok;

	if (!f)
		return -1;
	ok = fprintf(f, "%ld\n", n) > 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* The kernel page size of the mapping holding @p (smaps), in KiB. */
static long kernel_page_kib(const void *p)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[256];
	int in = 0;
	long v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
			in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
		else if (in && sscanf(line, "KernelPageSize: %ld kB", &v) == 1)
			break;
	}
	fclose(f);
	return v;
}

static void test_alloc_flags(void **state)
{
	const uint64_t ps = tu_page();
	upci_dev *d = tu_open_claimed(EDU);
	struct upci_dma_buf b;

	(void)state;
	assert_int_equal(upci_dma_alloc_flags(d, UPCI_IOVA_ANY, ps, 2, &b), -EINVAL);
	assert_int_equal(upci_dma_alloc_flags(d, UPCI_IOVA_ANY, ps, UPCI_DMA_ALLOC_HUGE << 1, &b), -EINVAL);
	assert_int_equal(upci_dma_alloc_flags(d, UPCI_IOVA_ANY, 0, 0, &b), -EINVAL);
	assert_int_equal(upci_dma_alloc_flags(d, UPCI_IOVA_ANY, ps, 0, &b), 0); /* = upci_dma_alloc */
	assert_int_equal(b.iova, MiB);
	assert_int_equal(b.size, ps);
	assert_int_equal(upci_dma_free(d, &b), 0);
}

/* With no free huge page the allocation is -ENOMEM. */
static void test_alloc_huge_none(void **state)
{
	upci_dev *d = tu_open_claimed(EDU);
	struct upci_dma_buf b;
	long was = meminfo("HugePages_Total");

	(void)state;
	if (meminfo("HugePages_Free") != 0 && (was < 0 || set_nr_hugepages(0) != 0))
		skip(); /* free huge pages we may not take away */
	assert_int_equal(meminfo("HugePages_Free"), 0);
	assert_int_equal(upci_dma_alloc_flags(d, UPCI_IOVA_ANY, 1, UPCI_DMA_ALLOC_HUGE, &b), -ENOMEM);
	if (was > 0)
		set_nr_hugepages(was);
}

/* Reserve two 2 MiB pages (root, writable /proc/sys/vm/nr_hugepages),
 * allocate from them, exhaust them, give them back. */
static void test_alloc_huge(void **state)
{
	upci_dev *d = tu_open_claimed(EDU);
	struct upci_dma_buf b = {0}, c = {0}, small = {0};
	long was = meminfo("HugePages_Total");
	uint8_t *p;
	uint64_t out, ob;

	(void)state;
	if (was < 0 || set_nr_hugepages(was + 2) != 0 || meminfo("HugePages_Free") < 2) {
		if (was >= 0)
			set_nr_hugepages(was);
		print_message("skipped: cannot reserve 2 MiB huge pages here (not root, or "
			      "/proc/sys/vm/nr_hugepages is read-only, or no memory)\n");
		skip();
	}
	/* Something below: the huge buffer must come 2 MiB aligned after it. */
	assert_int_equal(upci_dma_alloc(d, UPCI_IOVA_ANY, tu_page(), &small), 0);
	assert_int_equal(upci_dma_alloc_flags(d, UPCI_IOVA_ANY, 3 * MiB, UPCI_DMA_ALLOC_HUGE, &b), 0);
	assert_int_equal(b.size, 4 * MiB);
	assert_int_equal(b.iova, 2 * MiB);
	assert_int_equal((uintptr_t)b.vaddr % (2 * MiB), 0);
	assert_true(b.fd >= 0);
	assert_int_equal(kernel_page_kib(b.vaddr), 2048);
	p = b.vaddr;
	for (uint64_t i = 0; i < b.size; i += 4096)
		assert_int_equal(p[i], 0);
	/* The pool is used up: a third page is -ENOMEM. */
	assert_int_equal(upci_dma_alloc_flags(d, UPCI_IOVA_ANY, 1, UPCI_DMA_ALLOC_HUGE, &c), -ENOMEM);
	/* A device reaches it like any buffer. */
	for (unsigned i = 0; i < 2000; i++)
		p[2 * MiB - 1000 + i] = (uint8_t)(i * 13);
	assert_int_equal(upci_dma_map_any(d, tu_pages(1), tu_page(), 0, &out, &ob), 0);
	tu_bus_master(d);
	assert_int_equal(tu_edu_copy(d, b.bus_addr + 2 * MiB - 1000, ob, 2000), 0);
	assert_int_equal(upci_dma_bus_to_vaddr(d, ob, 2000, (void **)&p), 0);
	assert_memory_equal(p, (uint8_t *)b.vaddr + 2 * MiB - 1000, 2000);
	assert_int_equal(upci_dma_free(d, &b), 0);
	assert_int_equal(upci_dma_free(d, &small), 0);
	assert_int_equal(upci_dma_unmap(d, out), 0);
	tu_close(d);
	assert_int_equal(set_nr_hugepages(was), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_ranges, tu_teardown),
		cmocka_unit_test_teardown(test_ranges_enforced, tu_teardown),
		cmocka_unit_test_teardown(test_map_any, tu_teardown),
		cmocka_unit_test_teardown(test_map_any_aligned, tu_teardown),
		cmocka_unit_test_teardown(test_map_sg, tu_teardown),
		cmocka_unit_test_teardown(test_map_sg_errors, tu_teardown),
		cmocka_unit_test_teardown(test_map_sg_dart, tu_teardown),
		cmocka_unit_test_teardown(test_translate, tu_teardown),
		cmocka_unit_test_teardown(test_alloc_flags, tu_teardown),
		cmocka_unit_test_teardown(test_alloc_huge_none, tu_teardown),
		cmocka_unit_test_teardown(test_alloc_huge, tu_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

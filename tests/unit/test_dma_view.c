/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/core/dma_view.c: a device's mappings by IOVA, bus
 * address and process address. What a backend answers is not trusted: a
 * bus address handed out twice (or wrapping) is refused with -EPROTO and
 * leaves the first mapping as it was. Expected values: dma_view.h.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dma_view.h"

static uint8_t mem[8 * 4096];

static struct dma_region reg(uint64_t iova, void *va, uint64_t len)
{
	struct dma_region r = {.start = iova, .len = len, .vaddr = va, .flags = 3};

	return r;
}

static void test_lookups(void **state)
{
	struct dma_view v;
	struct dma_region r = reg(0x100000, mem, 2 * 4096), out;
	const struct dma_region *f;

	(void)state;
	assert_int_equal(dma_view_init(&v), 0);
	assert_int_equal(dma_view_reserve(&v, &r), 0);
	/* Reserved, not committed: not found by address yet. */
	assert_int_equal(dma_view_by_va(&v, (uintptr_t)mem, 1, &f), -ENOENT);
	assert_int_equal(dma_view_commit(&v, 0x100000, 0xa000000), 0);
	assert_int_equal(dma_view_by_va(&v, (uintptr_t)mem + 10, 20, &f), 0);
	assert_int_equal(f->start, 0x100000);
	assert_int_equal(f->other, 0xa000000);
	assert_int_equal(dma_view_by_va(&v, (uintptr_t)mem + 2 * 4096 - 1, 2, &f), -ERANGE);
	assert_int_equal(dma_view_by_va(&v, (uintptr_t)mem + 2 * 4096, 1, &f), -ENOENT);
	assert_int_equal(dma_view_by_bus(&v, 0xa000000 + 4096, 4096, &f), 0);
	assert_ptr_equal(f->vaddr, mem);
	assert_int_equal(f->other, 0x100000);
	assert_int_equal(dma_view_by_bus(&v, 0xa000000 + 4096, 4097, &f), -ERANGE);
	assert_int_equal(dma_view_by_bus(&v, 0x100000, 1, &f), -ENOENT); /* the IOVA is not a bus address */
	/* Overlapping IOVAs are refused. */
	r = reg(0x101000, mem + 4 * 4096, 4096);
	assert_int_equal(dma_view_reserve(&v, &r), -EEXIST);
	assert_int_equal(dma_view_remove(&v, 0x100000, &out), 0);
	assert_int_equal(out.other, 0xa000000);
	assert_int_equal(dma_view_by_bus(&v, 0xa000000, 1, &f), -ENOENT);
	assert_int_equal(dma_view_by_va(&v, (uintptr_t)mem, 1, &f), -ENOENT);
	assert_int_equal(dma_view_remove(&v, 0x100000, &out), -ENOENT);
	dma_view_fini(&v);
}

static void test_bus_twice(void **state)
{
	struct dma_view v;
	struct dma_region a = reg(0x100000, mem, 4096), b = reg(0x200000, mem + 4096, 4096);
	const struct dma_region *f;

	(void)state;
	assert_int_equal(dma_view_init(&v), 0);
	assert_int_equal(dma_view_reserve(&v, &a), 0);
	assert_int_equal(dma_view_commit(&v, 0x100000, 0x5000), 0);
	assert_int_equal(dma_view_reserve(&v, &b), 0);
	/* An IOMMU (a vfio-user server) handing the same bus range out again. */
	assert_int_equal(dma_view_commit(&v, 0x200000, 0x5800), -EPROTO);
	assert_int_equal(dma_view_commit(&v, 0x200000, UINT64_MAX - 10), -EPROTO); /* wraps */
	assert_int_equal(dma_view_remove(&v, 0x200000, NULL), 0);
	/* The first mapping is untouched. */
	assert_int_equal(dma_view_by_bus(&v, 0x5000, 4096, &f), 0);
	assert_int_equal(f->other, 0x100000);
	assert_int_equal(dma_view_by_va(&v, (uintptr_t)mem, 4096, &f), 0);
	assert_int_equal(f->start, 0x100000);
	dma_view_fini(&v);
}

/* Memory mapped at two IOVAs: the index holds one, the other is found by
 * scanning, also once the indexed one is gone. */
static void test_aliases(void **state)
{
	struct dma_view v;
	struct dma_region a = reg(0x100000, mem, 4 * 4096), b = reg(0x300000, mem + 4096, 4096);
	struct dma_region c = reg(0x400000, mem + 2 * 4096, 4096);
	const struct dma_region *f;

	(void)state;
	assert_int_equal(dma_view_init(&v), 0);
	assert_int_equal(dma_view_reserve(&v, &a), 0);
	assert_int_equal(dma_view_commit(&v, 0x100000, 0x100000), 0);
	assert_int_equal(dma_view_reserve(&v, &b), 0);
	assert_int_equal(dma_view_commit(&v, 0x300000, 0x300000), 0);
	assert_int_equal(dma_view_reserve(&v, &c), 0);
	assert_int_equal(dma_view_commit(&v, 0x400000, 0x400000), 0);
	assert_int_equal(v.va_unindexed, 2);
	assert_int_equal(dma_view_by_va(&v, (uintptr_t)mem + 4096, 8, &f), 0);
	assert_int_equal(f->start, 0x100000);
	assert_int_equal(dma_view_remove(&v, 0x100000, NULL), 0);
	assert_int_equal(dma_view_by_va(&v, (uintptr_t)mem + 4096, 8, &f), 0);
	assert_int_equal(f->start, 0x300000);
	assert_int_equal(dma_view_by_va(&v, (uintptr_t)mem + 2 * 4096 + 8, 8, &f), 0);
	assert_int_equal(f->start, 0x400000);
	assert_int_equal(dma_view_by_va(&v, (uintptr_t)mem + 4096 + 4000, 200, &f), -ERANGE);
	assert_int_equal(dma_view_by_va(&v, (uintptr_t)mem, 8, &f), -ENOENT);
	assert_int_equal(dma_view_remove(&v, 0x300000, NULL), 0);
	assert_int_equal(dma_view_remove(&v, 0x400000, NULL), 0);
	assert_int_equal(v.va_unindexed, 0);
	dma_view_fini(&v);
}

/* Remote memory (no process address) is found by bus address only. */
static void test_remote(void **state)
{
	struct dma_view v;
	struct dma_region r = reg(0x100000, NULL, 4096);
	struct dma_region out;
	const struct dma_region *f;

	(void)state;
	assert_int_equal(dma_view_init(&v), 0);
	assert_int_equal(dma_view_reserve(&v, &r), 0);
	assert_int_equal(dma_view_commit(&v, 0x100000, 0x100000), 0);
	assert_int_equal(dma_view_by_bus(&v, 0x100000, 1, &f), 0);
	assert_null(f->vaddr);
	assert_int_equal(v.va_unindexed, 0);
	assert_int_equal(dma_view_pop_first(&v, &out), 0);
	assert_int_equal(out.start, 0x100000);
	assert_int_equal(dma_view_pop_first(&v, &out), -ENOENT);
	dma_view_fini(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_bus_twice),
		cmocka_unit_test(test_aliases),
		cmocka_unit_test(test_remote),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

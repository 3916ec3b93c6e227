/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/core/iova.c: range lists (normalize, intersect,
 * contains) and the first-fit IOVA allocator over them. Expected values
 * follow from iova.h's contract: lowest free aligned address at or above
 * the minimum, inside one range, clear of every mapping.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dma_table.h"
#include "iova.h"

#define KiB (1ull << 10)
#define MiB (1ull << 20)

static void list_of(struct iova_list *l, const struct upci_iova_range *r, unsigned n)
{
	l->n = n;
	for (unsigned i = 0; i < n; i++)
		l->r[i] = r[i];
}

static void take(struct dma_table *t, uint64_t start, uint64_t len)
{
	struct dma_region r = {.start = start, .len = len};

	assert_int_equal(dma_table_insert(t, &r), 0);
}

static void test_normalize(void **state)
{
	static const struct upci_iova_range in[] = {
		{0x5000, 0x5fff}, {0x1000, 0x1fff}, {0x2000, 0x2fff}, /* adjacent: merged */
		{0x9000, 0x8fff},                                     /* inverted: dropped */
		{0x5800, 0x6fff},                                     /* overlapping: merged */
		{UINT64_MAX - 0xfff, UINT64_MAX},                     /* at the top */
		{UINT64_MAX - 0x1fff, UINT64_MAX - 0x1000},           /* adjacent below it */
	};
	struct iova_list l;

	(void)state;
	list_of(&l, in, sizeof(in) / sizeof(in[0]));
	iova_list_normalize(&l);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.r[0].start, 0x1000);
	assert_int_equal(l.r[0].last, 0x2fff);
	assert_int_equal(l.r[1].start, 0x5000);
	assert_int_equal(l.r[1].last, 0x6fff);
	assert_int_equal(l.r[2].start, UINT64_MAX - 0x1fff);
	assert_int_equal(l.r[2].last, UINT64_MAX);

	iova_list_full(&l);
	iova_list_normalize(&l);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.r[0].start, 0);
	assert_int_equal(l.r[0].last, UINT64_MAX);
}

static void test_intersect(void **state)
{
	/* An x86 VT-d list against a 32-bit window and a DART-like one. */
	static const struct upci_iova_range x86[] = {{0, 0xfedfffff}, {0xfef00000, (1ull << 48) - 1}};
	static const struct upci_iova_range low[] = {{0x100000, 0xffffffff}};
	static const struct upci_iova_range two[] = {{0x1000, 0x1fff}, {0xfee80000, 0xfef0ffff}};
	struct iova_list a, b;

	(void)state;
	list_of(&a, x86, 2);
	list_of(&b, low, 1);
	iova_list_intersect(&a, &b);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.r[0].start, 0x100000);
	assert_int_equal(a.r[0].last, 0xfedfffff);
	assert_int_equal(a.r[1].start, 0xfef00000);
	assert_int_equal(a.r[1].last, 0xffffffff);

	list_of(&a, x86, 2);
	list_of(&b, two, 2);
	iova_list_intersect(&a, &b);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.r[0].start, 0x1000);
	assert_int_equal(a.r[0].last, 0x1fff);
	assert_int_equal(a.r[1].start, 0xfef00000); /* the part above the hole */
	assert_int_equal(a.r[1].last, 0xfef0ffff);

	/* Disjoint lists: nothing. */
	list_of(&a, low, 1);
	b.n = 1;
	b.r[0].start = 0;
	b.r[0].last = 0xfffff;
	iova_list_intersect(&a, &b);
	assert_int_equal(a.n, 0);

	/* With the full space: unchanged. */
	list_of(&a, x86, 2);
	iova_list_full(&b);
	iova_list_intersect(&a, &b);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.r[1].last, (1ull << 48) - 1);
}

static void test_contains(void **state)
{
	static const struct upci_iova_range x86[] = {{0, 0xfedfffff}, {0xfef00000, (1ull << 48) - 1}};
	struct iova_list l;

	(void)state;
	list_of(&l, x86, 2);
	assert_true(iova_list_contains(&l, 0, 4 * KiB));
	assert_true(iova_list_contains(&l, 0xfedff000, 4 * KiB));
	assert_false(iova_list_contains(&l, 0xfedff000, 8 * KiB)); /* into the hole */
	assert_false(iova_list_contains(&l, 0xfee00000, 4 * KiB));
	assert_true(iova_list_contains(&l, 0xfef00000, 4 * KiB));
	assert_false(iova_list_contains(&l, 1ull << 48, 4 * KiB));
	assert_false(iova_list_contains(&l, 0, 0));
	assert_false(iova_list_contains(&l, UINT64_MAX, 2)); /* wraps */
	iova_list_full(&l);
	assert_true(iova_list_contains(&l, UINT64_MAX - 4095, 4096));
}

static void test_alloc_lowest_first(void **state)
{
	struct dma_table *t;
	struct iova_list l;
	uint64_t at;

	(void)state;
	assert_int_equal(dma_table_create(&t), 0);
	iova_list_full(&l);
	assert_int_equal(iova_alloc(&l, t, MiB, 4 * KiB, 4 * KiB, &at), 0);
	assert_int_equal(at, MiB);
	take(t, at, 4 * KiB);
	assert_int_equal(iova_alloc(&l, t, MiB, 8 * KiB, 4 * KiB, &at), 0);
	assert_int_equal(at, MiB + 4 * KiB);
	take(t, at, 8 * KiB);
	/* Alignment: the next 2 MiB boundary. */
	assert_int_equal(iova_alloc(&l, t, MiB, 2 * MiB, 2 * MiB, &at), 0);
	assert_int_equal(at, 2 * MiB);
	/* A freed hole is found again first. */
	assert_int_equal(dma_table_remove(t, MiB, NULL), 0);
	assert_int_equal(iova_alloc(&l, t, MiB, 4 * KiB, 4 * KiB, &at), 0);
	assert_int_equal(at, MiB);
	/* Too big for the hole: after the mappings. */
	assert_int_equal(iova_alloc(&l, t, MiB, 8 * KiB, 4 * KiB, &at), 0);
	assert_int_equal(at, MiB + 12 * KiB);
	/* Bad arguments. */
	assert_int_equal(iova_alloc(&l, t, MiB, 0, 4 * KiB, &at), -EINVAL);
	assert_int_equal(iova_alloc(&l, t, MiB, 4 * KiB, 3 * KiB, &at), -EINVAL);
	assert_int_equal(iova_alloc(&l, t, MiB, 4 * KiB, 0, &at), -EINVAL);
	dma_table_destroy(t);
}

static void test_alloc_ranges(void **state)
{
	static const struct upci_iova_range x86[] = {{0, 0xfedfffff}, {0xfef00000, (1ull << 48) - 1}};
	static const struct upci_iova_range small[] = {{0x10000, 0x1ffff}, {0x40000, 0x4ffff}};
	struct dma_table *t;
	struct iova_list l;
	uint64_t at;

	(void)state;
	assert_int_equal(dma_table_create(&t), 0);
	list_of(&l, x86, 2);
	/* Below the interrupt window everything is taken but 14 MiB. */
	take(t, MiB, 0xfe000000 - MiB);
	assert_int_equal(iova_alloc(&l, t, MiB, 14 * MiB, 4 * KiB, &at), 0);
	assert_int_equal(at, 0xfe000000);
	/* One page more does not fit below it: above it, not inside it. */
	assert_int_equal(iova_alloc(&l, t, MiB, 14 * MiB + 4 * KiB, 4 * KiB, &at), 0);
	assert_int_equal(at, 0xfef00000);
	/* Beyond 48 bits: no room. */
	assert_int_equal(iova_alloc(&l, t, MiB, 1ull << 48, 4 * KiB, &at), -ENOSPC);
	dma_table_destroy(t);

	/* Ranges below the minimum are skipped; a range that is too small
	 * falls through to the next one. */
	assert_int_equal(dma_table_create(&t), 0);
	list_of(&l, small, 2);
	assert_int_equal(iova_alloc(&l, t, 0x18000, 0x8000, 0x1000, &at), 0);
	assert_int_equal(at, 0x18000);
	assert_int_equal(iova_alloc(&l, t, 0x18000, 0x9000, 0x1000, &at), 0);
	assert_int_equal(at, 0x40000);
	take(t, 0x40000, 0x10000);
	assert_int_equal(iova_alloc(&l, t, 0, 0x10000, 0x1000, &at), 0);
	assert_int_equal(at, 0x10000);
	take(t, 0x10000, 0x10000);
	assert_int_equal(iova_alloc(&l, t, 0, 0x1000, 0x1000, &at), -ENOSPC);
	l.n = 0;
	assert_int_equal(iova_alloc(&l, t, 0, 0x1000, 0x1000, &at), -ENOSPC);
	dma_table_destroy(t);
}

static void test_alloc_top(void **state)
{
	struct dma_table *t;
	struct iova_list l;
	uint64_t at;

	(void)state;
	assert_int_equal(dma_table_create(&t), 0);
	iova_list_full(&l);
	/* The last page of the 64-bit space can be had, and not more. */
	assert_int_equal(iova_alloc(&l, t, UINT64_MAX - 4095, 4096, 4096, &at), 0);
	assert_int_equal(at, UINT64_MAX - 4095);
	assert_int_equal(iova_alloc(&l, t, UINT64_MAX - 4095, 8192, 4096, &at), -ENOSPC);
	take(t, UINT64_MAX - 4095, 4096);
	assert_int_equal(iova_alloc(&l, t, UINT64_MAX - 4095, 4096, 4096, &at), -ENOSPC);
	dma_table_destroy(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_intersect),
		cmocka_unit_test(test_contains),
		cmocka_unit_test(test_alloc_lowest_first),
		cmocka_unit_test(test_alloc_ranges),
		cmocka_unit_test(test_alloc_top),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

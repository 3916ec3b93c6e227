/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the DMA region table (src/core/dma_table.c).
 * dma_table.c must be compiled with -DDMA_TABLE_TESTING for the debug hooks.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "dma_table.h"
#include "upci/upci.h"

/* Exported by dma_table.c only under DMA_TABLE_TESTING. */
int dma_table_debug_height(const struct dma_table *t);
int dma_table_debug_check(const struct dma_table *t);

#define NBIG 65536u
#define STRIDE 0x10000u

/* Deterministic PRNG so failures reproduce. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return x;
}

static void shuffle(uint32_t *a, size_t n)
{
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = (size_t)(rng() % (i + 1));
		uint32_t tmp = a[i];

		a[i] = a[j];
		a[j] = tmp;
	}
}

static struct dma_region mk(uint64_t start, uint64_t len, unsigned flags)
{
	struct dma_region r = {
		.start = start,
		.len = len,
		.vaddr = (void *)(uintptr_t)(0x10000000u + (start & 0xffffffu)),
		.other = start ^ 0xabcdef,
		.flags = flags,
		.owner = NULL,
	};
	return r;
}

static int ins(struct dma_table *t, uint64_t start, uint64_t len)
{
	struct dma_region r = mk(start, len, UPCI_DMA_RW);

	return dma_table_insert(t, &r);
}

static int setup(void **state)
{
	struct dma_table *t = NULL;

	if (dma_table_create(&t) != 0)
		return -1;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	dma_table_destroy(*state);
	return 0;
}

static void test_invalid_ranges(void **state)
{
	struct dma_table *t = *state;

	assert_int_equal(ins(t, 0x1000, 0), -EINVAL);
	assert_int_equal(ins(t, UINT64_MAX, 2), -EOVERFLOW);
	assert_int_equal(ins(t, 2, UINT64_MAX), -EOVERFLOW);
	/* [1, 2^64) is the largest range not starting at 0. */
	assert_int_equal(ins(t, 1, UINT64_MAX), 0);
	assert_int_equal(dma_table_remove(t, 1, NULL), 0);
	assert_int_equal(ins(t, UINT64_MAX - 0xfff, 0x1001), -EOVERFLOW);
	assert_int_equal(dma_table_count(t), 0);
	/* Ending exactly on the last byte of the address space is valid. */
	assert_int_equal(ins(t, UINT64_MAX - 0xfff, 0x1000), 0);
	assert_int_equal(ins(t, 0, UINT64_MAX - 0x1000), 0);
	assert_int_equal(dma_table_count(t), 2);
	assert_int_equal(dma_table_debug_check(t), 0);
	assert_int_equal(dma_table_insert(NULL, NULL), -EINVAL);
	assert_int_equal(dma_table_insert(t, NULL), -EINVAL);
}

static void test_overlap_every_shape(void **state)
{
	struct dma_table *t = *state;
	static const struct { uint64_t start, len; } bad[] = {
		{ 0x1000, 0x1000 },  /* identical */
		{ 0x1000, 0x10 },    /* same start, shorter */
		{ 0x1000, 0x2000 },  /* same start, longer */
		{ 0x1800, 0x100 },   /* strictly inside */
		{ 0x0800, 0x2000 },  /* covering */
		{ 0x0800, 0x0801 },  /* left partial: last byte 0x1000 */
		{ 0x1fff, 0x1000 },  /* right partial: first byte 0x1fff */
		{ 0x1fff, 0x1 },     /* last byte only */
		{ 0x0fff, 0x2 },     /* straddles the first byte */
		{ 0x0000, UINT64_MAX }, /* covering everything */
	};

	assert_int_equal(ins(t, 0x1000, 0x1000), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ins(t, bad[i].start, bad[i].len), -EEXIST);
	assert_int_equal(dma_table_count(t), 1);

	/* Adjacency on both sides is fine... */
	assert_int_equal(ins(t, 0x0, 0x1000), 0);
	assert_int_equal(ins(t, 0x2000, 0x1000), 0);
	assert_int_equal(dma_table_count(t), 3);
	/* ...and then a range overlapping two neighbours is refused. */
	assert_int_equal(ins(t, 0x0fff, 0x1002), -EEXIST);
	assert_int_equal(ins(t, 0x2fff, 1), -EEXIST);
	assert_int_equal(ins(t, 0x3000, 1), 0);
	/* A gap between two ranges accepts exactly its size, not one more. */
	assert_int_equal(ins(t, 0x5000, 0x1000), 0);
	assert_int_equal(ins(t, 0x3001, 0x2000), -EEXIST);
	assert_int_equal(ins(t, 0x3001, 0x1fff), 0);
	assert_int_equal(dma_table_count(t), 6);
	assert_int_equal(dma_table_debug_check(t), 0);
}

/* Region i covers [i*STRIDE, +len_i); every third is flush with the next. */
static uint64_t big_len(uint32_t i)
{
	if (i % 3 == 0)
		return STRIDE;
	return 1 + (uint64_t)((i * 2654435761u) % (STRIDE - 1));
}

static void check_big_region(struct dma_table *t, uint32_t i, bool present, bool next_present)
{
	uint64_t start = (uint64_t)i * STRIDE, len = big_len(i);
	const struct dma_region *r;

	r = dma_table_find(t, start);
	if (!present) {
		assert_null(r);
		assert_null(dma_table_find(t, start + len - 1));
		return;
	}
	assert_non_null(r);
	assert_int_equal(r->start, start);
	assert_int_equal(r->len, len);
	assert_int_equal(r->other, start ^ 0xabcdef);
	r = dma_table_find(t, start + len - 1);
	assert_non_null(r);
	assert_int_equal(r->start, start);
	r = dma_table_find(t, start + len);
	if (len == STRIDE && next_present) {
		assert_non_null(r);
		assert_int_equal(r->start, start + STRIDE);
	} else {
		assert_null(r);
	}
	assert_ptr_equal(dma_table_find_exact(t, start), dma_table_find(t, start));
	if (len > 1)
		assert_null(dma_table_find_exact(t, start + 1));
}

/* find_from: the first range at or after an address, in order. */
static void test_find_from(void **state)
{
	struct dma_table *t = *state;
	struct dma_region r;

	assert_null(dma_table_find_from(t, 0));
	r = mk(0x1000, 0x1000, 0);
	assert_int_equal(dma_table_insert(t, &r), 0);
	r = mk(0x5000, 0x2000, 0);
	assert_int_equal(dma_table_insert(t, &r), 0);
	r = mk(UINT64_MAX - 0xfff, 0x1000, 0);
	assert_int_equal(dma_table_insert(t, &r), 0);
	assert_int_equal(dma_table_find_from(t, 0)->start, 0x1000);
	assert_int_equal(dma_table_find_from(t, 0x1000)->start, 0x1000);
	assert_int_equal(dma_table_find_from(t, 0x1001)->start, 0x5000); /* inside one: the next */
	assert_int_equal(dma_table_find_from(t, 0x5000)->start, 0x5000);
	assert_int_equal(dma_table_find_from(t, 0x7000)->start, UINT64_MAX - 0xfff);
	assert_int_equal(dma_table_find_from(t, UINT64_MAX - 0xfff)->start, UINT64_MAX - 0xfff);
	assert_null(dma_table_find_from(t, UINT64_MAX - 0xffe));
	assert_null(dma_table_find_from(NULL, 0));
}

static void test_many_random(void **state)
{
	struct dma_table *t = *state;
	uint32_t *order = malloc(NBIG * sizeof(*order));
	bool *present = calloc(NBIG + 1, sizeof(*present));
	struct dma_region out;

	assert_non_null(order);
	assert_non_null(present);
	for (uint32_t i = 0; i < NBIG; i++)
		order[i] = i;
	shuffle(order, NBIG);
	for (uint32_t k = 0; k < NBIG; k++) {
		uint32_t i = order[k];

		assert_int_equal(ins(t, (uint64_t)i * STRIDE, big_len(i)), 0);
		present[i] = true;
	}
	assert_int_equal(dma_table_count(t), NBIG);
	assert_int_equal(dma_table_debug_check(t), 0);
	for (uint32_t i = 0; i < NBIG; i++)
		check_big_region(t, i, true, present[i + 1]);

	/* Remove every even region, in random order. */
	shuffle(order, NBIG);
	for (uint32_t k = 0; k < NBIG; k++) {
		uint32_t i = order[k];

		if (i % 2)
			continue;
		assert_int_equal(dma_table_remove(t, (uint64_t)i * STRIDE, &out), 0);
		assert_int_equal(out.start, (uint64_t)i * STRIDE);
		assert_int_equal(out.len, big_len(i));
		assert_int_equal(out.other, out.start ^ 0xabcdef);
		present[i] = false;
	}
	assert_int_equal(dma_table_count(t), NBIG / 2);
	assert_int_equal(dma_table_debug_check(t), 0);
	for (uint32_t i = 0; i < NBIG; i++)
		check_big_region(t, i, present[i], present[i + 1]);
	assert_int_equal(dma_table_remove(t, 0, NULL), -ENOENT);
	free(order);
	free(present);
}

static void test_edges(void **state)
{
	struct dma_table *t = *state;
	const struct dma_region *r;

	assert_null(dma_table_find(t, 0));
	assert_null(dma_table_find(t, UINT64_MAX));
	assert_null(dma_table_translate(t, 0, 1, 0));
	assert_int_equal(ins(t, 0, 0x1000), 0);
	assert_int_equal(ins(t, UINT64_MAX - 0xfff, 0x1000), 0);

	r = dma_table_find(t, 0);
	assert_non_null(r);
	assert_int_equal(r->start, 0);
	assert_null(dma_table_find(t, 0x1000));
	r = dma_table_find(t, UINT64_MAX);
	assert_non_null(r);
	assert_int_equal(r->start, UINT64_MAX - 0xfff);
	assert_null(dma_table_find(t, UINT64_MAX - 0x1000));

	/* The last byte translates; anything reaching past 2^64 does not. */
	assert_ptr_equal(dma_table_translate(t, UINT64_MAX, 1, UPCI_DMA_RW),
			 (char *)r->vaddr + 0xfff);
	assert_null(dma_table_translate(t, UINT64_MAX, 2, 0));
	assert_null(dma_table_translate(t, UINT64_MAX - 0xfff, UINT64_MAX, 0));
	assert_non_null(dma_table_translate(t, UINT64_MAX - 0xfff, 0x1000, 0));
	assert_non_null(dma_table_translate(t, 0, 0x1000, 0));
	assert_null(dma_table_translate(t, 0, 0x1001, 0));
}

static void test_translate(void **state)
{
	struct dma_table *t = *state;
	struct dma_region a = mk(0x10000, 0x1000, UPCI_DMA_READ);
	struct dma_region b = mk(0x11000, 0x1000, UPCI_DMA_RW);
	struct dma_region c = mk(0x20000, 0x1000, UPCI_DMA_WRITE | 0x100);

	a.vaddr = (void *)(uintptr_t)0x7000000;
	b.vaddr = (void *)(uintptr_t)0x9000000;
	assert_int_equal(dma_table_insert(t, &a), 0);
	assert_int_equal(dma_table_insert(t, &b), 0);
	assert_int_equal(dma_table_insert(t, &c), 0);

	assert_ptr_equal(dma_table_translate(t, 0x10010, 0x20, UPCI_DMA_READ), (void *)(uintptr_t)0x7000010);
	assert_ptr_equal(dma_table_translate(t, 0x11ff0, 0x10, UPCI_DMA_RW), (void *)(uintptr_t)0x9000ff0);
	/* Straddling adjacent regions fails even though every byte is mapped. */
	assert_null(dma_table_translate(t, 0x10ff0, 0x20, 0));
	assert_null(dma_table_translate(t, 0x10000, 0x2000, 0));
	/* Zero length, unmapped, past the end. */
	assert_null(dma_table_translate(t, 0x10010, 0, 0));
	assert_null(dma_table_translate(t, 0xffff, 1, 0));
	assert_null(dma_table_translate(t, 0x12000, 1, 0));
	assert_null(dma_table_translate(t, 0x11fff, 2, 0));
	/* Permissions: every needed bit must be present. */
	assert_null(dma_table_translate(t, 0x10000, 4, UPCI_DMA_WRITE));
	assert_null(dma_table_translate(t, 0x10000, 4, UPCI_DMA_RW));
	assert_non_null(dma_table_translate(t, 0x10000, 4, 0));
	assert_null(dma_table_translate(t, 0x20000, 4, UPCI_DMA_READ));
	assert_non_null(dma_table_translate(t, 0x20000, 4, UPCI_DMA_WRITE | 0x100));
	assert_null(dma_table_translate(t, 0x20000, 4, UPCI_DMA_WRITE | 0x200));
	assert_null(dma_table_translate(NULL, 0x20000, 4, 0));
}

static void test_find_gap(void **state)
{
	struct dma_table *t = *state;
	uint64_t g = 1234;

	/* Empty table. */
	assert_int_equal(dma_table_find_gap(t, 0, 0x1000, 0x1000, &g), 0);
	assert_int_equal(g, 0);
	assert_int_equal(dma_table_find_gap(t, 1, 0x1000, 0x1000, &g), 0);
	assert_int_equal(g, 0x1000);
	assert_int_equal(dma_table_find_gap(t, 0, UINT64_MAX, 1, &g), 0);
	assert_int_equal(g, 0);
	assert_int_equal(dma_table_find_gap(t, 1, UINT64_MAX, 1, &g), 0);
	assert_int_equal(g, 1);
	assert_int_equal(dma_table_find_gap(t, 2, UINT64_MAX, 1, &g), -ENOSPC);
	assert_int_equal(dma_table_find_gap(t, UINT64_MAX, 1, 1, &g), 0);
	assert_int_equal(g, UINT64_MAX);
	assert_int_equal(dma_table_find_gap(t, UINT64_MAX, 1, 2, &g), -ENOSPC);
	assert_int_equal(dma_table_find_gap(t, 1, 1, 1ull << 63, &g), 0);
	assert_int_equal(g, 1ull << 63);

	/* Bad arguments. */
	assert_int_equal(dma_table_find_gap(t, 0, 0, 1, &g), -EINVAL);
	assert_int_equal(dma_table_find_gap(t, 0, 1, 0, &g), -EINVAL);
	assert_int_equal(dma_table_find_gap(t, 0, 1, 3, &g), -EINVAL);
	assert_int_equal(dma_table_find_gap(t, 0, 1, 1, NULL), -EINVAL);

	/* [0,0x2000) used, hole [0x2000,0x3000), [0x3000,0x4000) used,
	 * hole [0x4000,0x4800), [0x4800,0x5000) used, free above. */
	assert_int_equal(ins(t, 0x0000, 0x1000), 0);
	assert_int_equal(ins(t, 0x1000, 0x1000), 0);
	assert_int_equal(ins(t, 0x3000, 0x1000), 0);
	assert_int_equal(ins(t, 0x4800, 0x800), 0);

	assert_int_equal(dma_table_find_gap(t, 0, 0x1000, 0x1000, &g), 0);
	assert_int_equal(g, 0x2000);
	assert_int_equal(dma_table_find_gap(t, 0, 0x1001, 1, &g), 0);
	assert_int_equal(g, 0x5000);
	assert_int_equal(dma_table_find_gap(t, 0, 0x800, 1, &g), 0);
	assert_int_equal(g, 0x2000);
	assert_int_equal(dma_table_find_gap(t, 0x2801, 0x800, 1, &g), 0);
	assert_int_equal(g, 0x4000);
	assert_int_equal(dma_table_find_gap(t, 0x2801, 0x800, 0x800, &g), 0);
	assert_int_equal(g, 0x4000);
	assert_int_equal(dma_table_find_gap(t, 0x2801, 0x800, 0x1000, &g), 0);
	assert_int_equal(g, 0x4000);
	assert_int_equal(dma_table_find_gap(t, 0x2801, 0x801, 0x1000, &g), 0);
	assert_int_equal(g, 0x5000);
	/* min inside a range. */
	assert_int_equal(dma_table_find_gap(t, 0x3456, 0x10, 0x10, &g), 0);
	assert_int_equal(g, 0x4000);
	assert_int_equal(dma_table_find_gap(t, 0x2f00, 0x100, 0x100, &g), 0);
	assert_int_equal(g, 0x2f00);
	assert_int_equal(dma_table_find_gap(t, 0x2f00, 0x101, 0x100, &g), 0);
	assert_int_equal(g, 0x4000);
	/* Above everything: the top of the space, without wrapping. */
	assert_int_equal(dma_table_find_gap(t, 0, UINT64_MAX - 0x4fff, 1, &g), 0);
	assert_int_equal(g, 0x5000);
	assert_int_equal(dma_table_find_gap(t, 0, UINT64_MAX - 0x4ffe, 1, &g), -ENOSPC);
	assert_int_equal(dma_table_find_gap(t, 0, UINT64_MAX - 0x4fff, 0x2000, &g), -ENOSPC);
}

static void test_find_gap_full_space(void **state)
{
	struct dma_table *t = *state;
	uint64_t g = 0;

	assert_int_equal(ins(t, 0, UINT64_MAX), 0);
	assert_int_equal(dma_table_find_gap(t, 0, 1, 1, &g), 0);
	assert_int_equal(g, UINT64_MAX);
	assert_int_equal(ins(t, UINT64_MAX, 1), 0);
	assert_int_equal(dma_table_find_gap(t, 0, 1, 1, &g), -ENOSPC);
	assert_int_equal(dma_table_find_gap(t, UINT64_MAX, 1, 1, &g), -ENOSPC);
	assert_int_equal(dma_table_remove(t, 0, NULL), 0);
	assert_int_equal(dma_table_find_gap(t, 5, 1, 4, &g), 0);
	assert_int_equal(g, 8);
	assert_int_equal(dma_table_find_gap(t, 0, UINT64_MAX, 1, &g), 0);
	assert_int_equal(g, 0);
	assert_int_equal(dma_table_find_gap(t, 1, UINT64_MAX - 1, 1, &g), 0);
	assert_int_equal(g, 1);
	assert_int_equal(dma_table_find_gap(t, 2, UINT64_MAX - 1, 1, &g), -ENOSPC);
}

/* A packed table with one hole near the end: the walk must find it. */
static void test_find_gap_many(void **state)
{
	struct dma_table *t = *state;
	uint64_t g = 0;

	for (uint64_t i = 0; i < NBIG; i++)
		if (i != NBIG - 10)
			assert_int_equal(ins(t, i * 0x1000, 0x1000), 0);
	assert_int_equal(dma_table_find_gap(t, 0, 0x1000, 0x1000, &g), 0);
	assert_int_equal(g, (NBIG - 10) * 0x1000ull);
	assert_int_equal(dma_table_find_gap(t, 0, 0x1001, 1, &g), 0);
	assert_int_equal(g, NBIG * 0x1000ull);
	assert_int_equal(dma_table_find_gap(t, 0x5000, 0x10, 0x10, &g), 0);
	assert_int_equal(g, (NBIG - 10) * 0x1000ull);
}

static void test_pop_first(void **state)
{
	struct dma_table *t = *state;
	uint32_t order[1000];
	struct dma_region out;

	for (uint32_t i = 0; i < 1000; i++)
		order[i] = i;
	shuffle(order, 1000);
	for (uint32_t i = 0; i < 1000; i++)
		assert_int_equal(ins(t, order[i] * 0x100ull + 7, 0x80), 0);
	for (uint32_t i = 0; i < 1000; i++) {
		assert_int_equal(dma_table_pop_first(t, &out), 0);
		assert_int_equal(out.start, i * 0x100ull + 7);
		assert_int_equal(out.len, 0x80);
		assert_int_equal(dma_table_count(t), 999 - i);
		if (i % 97 == 0)
			assert_int_equal(dma_table_debug_check(t), 0);
	}
	assert_int_equal(dma_table_pop_first(t, &out), -ENOENT);
	assert_int_equal(dma_table_pop_first(t, NULL), -ENOENT);
}

static void test_remove_unknown(void **state)
{
	struct dma_table *t = *state;
	struct dma_region out = mk(1, 1, 0);

	assert_int_equal(dma_table_remove(t, 0x1000, &out), -ENOENT);
	assert_int_equal(ins(t, 0x1000, 0x1000), 0);
	/* An address inside the range is not its start. */
	assert_int_equal(dma_table_remove(t, 0x1001, &out), -ENOENT);
	assert_int_equal(dma_table_remove(t, 0xfff, &out), -ENOENT);
	assert_int_equal(out.start, 1);  /* untouched on failure */
	assert_int_equal(dma_table_count(t), 1);
	assert_int_equal(dma_table_remove(t, 0x1000, NULL), 0);
	assert_int_equal(dma_table_remove(t, 0x1000, NULL), -ENOENT);
	assert_int_equal(dma_table_count(t), 0);
}

/* set_other changes only ->other of the range starting exactly there. */
static void test_set_other(void **state)
{
	struct dma_table *t = *state;

	assert_int_equal(dma_table_set_other(t, 0x1000, 7), -ENOENT);
	assert_int_equal(ins(t, 0x1000, 0x1000), 0);
	assert_int_equal(ins(t, 0x3000, 0x1000), 0);
	assert_int_equal(dma_table_set_other(t, 0x1800, 7), -ENOENT); /* inside, not the start */
	assert_int_equal(dma_table_set_other(t, 0x3000, 0xfeed000), 0);
	assert_int_equal(dma_table_find_exact(t, 0x3000)->other, 0xfeed000);
	assert_int_equal(dma_table_find_exact(t, 0x1000)->other, 0x1000 ^ 0xabcdef);
	assert_int_equal(dma_table_find(t, 0x3fff)->other, 0xfeed000);
	assert_int_equal(dma_table_count(t), 2);
	assert_int_equal(dma_table_debug_check(t), 0);
	assert_int_equal(dma_table_set_other(NULL, 0x3000, 1), -ENOENT);
}

struct walk {
	uint64_t last_start;
	size_t seen;
	size_t stop_after;
};

static int walk_fn(const struct dma_region *r, void *arg)
{
	struct walk *w = arg;

	if (w->seen > 0 && r->start <= w->last_start)
		return -1000;  /* out of order */
	w->last_start = r->start;
	w->seen++;
	return w->seen == w->stop_after ? 42 : 0;
}

static void test_foreach(void **state)
{
	struct dma_table *t = *state;
	struct walk w = { 0, 0, 0 };
	uint32_t order[500];

	assert_int_equal(dma_table_foreach(t, walk_fn, &w), 0);
	assert_int_equal(w.seen, 0);
	for (uint32_t i = 0; i < 500; i++)
		order[i] = i;
	shuffle(order, 500);
	for (uint32_t i = 0; i < 500; i++)
		assert_int_equal(ins(t, order[i] * 0x10ull, 0x10), 0);
	assert_int_equal(dma_table_foreach(t, walk_fn, &w), 0);
	assert_int_equal(w.seen, 500);
	assert_int_equal(w.last_start, 499 * 0x10);
	w = (struct walk){ 0, 0, 123 };
	assert_int_equal(dma_table_foreach(t, walk_fn, &w), 42);
	assert_int_equal(w.seen, 123);
	assert_int_equal(w.last_start, 122 * 0x10);
}

/* floor(log2(n)): at most log2(n), so the bound below is if anything
 * stricter than 1.45 * log2(n) + 2, and no libm is needed. */
static unsigned ilog2(size_t n)
{
	unsigned l = 0;

	while (n > 1) {
		n >>= 1;
		l++;
	}
	return l;
}

static void check_height(struct dma_table *t)
{
	size_t n = dma_table_count(t);
	int h = dma_table_debug_height(t);

	assert_true(n > 0);
	assert_true(h > 0);
	/* Compare in hundredths to stay in integers. */
	assert_true((unsigned)h * 100u <= 145u * ilog2(n) + 200u);
}

static void test_balanced(void **state)
{
	struct dma_table *t = *state;
	const struct dma_region *r;
	uint64_t hits = 0;

	for (uint64_t i = 0; i < NBIG; i++)
		assert_int_equal(ins(t, i * 0x100, 0x100), 0);
	check_height(t);
	assert_int_equal(dma_table_debug_check(t), 0);
	/* A degenerate (list-shaped) tree would make this ~2^31 node visits. */
	for (int round = 0; round < 16; round++) {
		for (uint64_t i = 0; i < NBIG; i++) {
			r = dma_table_find(t, i * 0x100 + 0x80);
			if (r && r->start == i * 0x100)
				hits++;
		}
	}
	assert_int_equal(hits, 16ull * NBIG);

	/* Descending inserts into a fresh table, then drain from the front. */
	dma_table_destroy(t);
	t = NULL;
	assert_int_equal(dma_table_create(&t), 0);
	*state = t;
	for (uint64_t i = NBIG; i-- > 0;)
		assert_int_equal(ins(t, i * 0x100, 0x100), 0);
	check_height(t);
	for (uint64_t i = 0; i < NBIG / 2; i++)
		assert_int_equal(dma_table_pop_first(t, NULL), 0);
	check_height(t);
	assert_int_equal(dma_table_debug_check(t), 0);
}

static void test_null_args(void **state)
{
	(void)state;
	uint64_t g;

	assert_int_equal(dma_table_create(NULL), -EINVAL);
	dma_table_destroy(NULL);
	assert_null(dma_table_find(NULL, 0));
	assert_null(dma_table_find_exact(NULL, 0));
	assert_int_equal(dma_table_count(NULL), 0);
	assert_int_equal(dma_table_remove(NULL, 0, NULL), -EINVAL);
	assert_int_equal(dma_table_pop_first(NULL, NULL), -EINVAL);
	assert_int_equal(dma_table_find_gap(NULL, 0, 1, 1, &g), -EINVAL);
	assert_int_equal(dma_table_foreach(NULL, walk_fn, NULL), -EINVAL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_invalid_ranges),
		T(test_overlap_every_shape),
		T(test_many_random),
		T(test_find_from),
		T(test_edges),
		T(test_translate),
		T(test_find_gap),
		T(test_find_gap_full_space),
		T(test_find_gap_many),
		T(test_pop_first),
		T(test_remove_unknown),
		T(test_set_other),
		T(test_foreach),
		T(test_balanced),
		cmocka_unit_test(test_null_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* IOVA range lists and the first-fit IOVA allocator (see iova.h). */
#include "iova.h"

#include <errno.h>
#include <stdlib.h>

void iova_list_full(struct iova_list *l)
{
	l->n = 1;
	l->r[0].start = 0;
	l->r[0].last = UINT64_MAX;
}

static int by_start(const void *a, const void *b)
{
	const struct upci_iova_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

void iova_list_normalize(struct iova_list *l)
{
	unsigned i, out = 0;

	if (l->n > IOVA_MAX_RANGES)
		l->n = IOVA_MAX_RANGES;
	for (i = 0; i < l->n; i++)
		if (l->r[i].start <= l->r[i].last)
			l->r[out++] = l->r[i];
	l->n = out;
	if (l->n < 2)
		return;
	qsort(l->r, l->n, sizeof(l->r[0]), by_start);
	out = 0;
	for (i = 1; i < l->n; i++) {
		struct upci_iova_range *cur = &l->r[out];

		/* Overlapping or adjacent (last + 1 == start, without wrapping). */
		if (l->r[i].start <= cur->last || (cur->last != UINT64_MAX && l->r[i].start == cur->last + 1)) {
			if (l->r[i].last > cur->last)
				cur->last = l->r[i].last;
		} else {
			l->r[++out] = l->r[i];
		}
	}
	l->n = out + 1;
}

void iova_list_intersect(struct iova_list *a, const struct iova_list *b)
{
	struct iova_list res = {0};
	unsigned i = 0, j = 0;

	/* Both sorted and disjoint: walk them together; each step retires
	 * the range that ends first. */
	while (i < a->n && j < b->n && res.n < IOVA_MAX_RANGES) {
		uint64_t s = a->r[i].start > b->r[j].start ? a->r[i].start : b->r[j].start;
		uint64_t e = a->r[i].last < b->r[j].last ? a->r[i].last : b->r[j].last;

		if (s <= e) {
			res.r[res.n].start = s;
			res.r[res.n].last = e;
			res.n++;
		}
		if (a->r[i].last < b->r[j].last)
			i++;
		else
			j++;
	}
	*a = res;
}

int iova_list_contains(const struct iova_list *l, uint64_t start, uint64_t len)
{
	uint64_t last;

	if (len == 0 || start > UINT64_MAX - (len - 1))
		return 0;
	last = start + (len - 1);
	for (unsigned i = 0; i < l->n; i++)
		if (start >= l->r[i].start && last <= l->r[i].last)
			return 1;
	return 0;
}

int iova_alloc(const struct iova_list *l, const struct dma_table *used, uint64_t min, uint64_t len, uint64_t align,
	       uint64_t *out)
{
	if (len == 0 || align == 0 || (align & (align - 1)) != 0 || !out)
		return -EINVAL;
	for (unsigned i = 0; i < l->n; i++) {
		const struct upci_iova_range *r = &l->r[i];
		uint64_t from = r->start > min ? r->start : min, at;

		if (from > r->last || r->last - from < len - 1)
			continue; /* too small, or wholly below @min */
		/* The lowest free aligned gap at or above @from; it fits this
		 * range or no later gap of this range does either. */
		if (dma_table_find_gap(used, from, len, align, &at) != 0)
			continue;
		if (at <= r->last && r->last - at >= len - 1) {
			*out = at;
			return 0;
		}
	}
	return -ENOSPC;
}

/* SPDX-License-Identifier: MIT */
/* A device's DMA mappings by IOVA, bus address and process address (see
 * dma_view.h). */
#include "dma_view.h"

#include <errno.h>
#include <stddef.h>

/* Bits of dma_region.flags in ->iova that belong to the view. */
#define VIEW_COMMITTED (1u << 30) /* indexed by bus address */
#define VIEW_VA        (1u << 31) /* indexed by process address */

int dma_view_init(struct dma_view *v)
{
	v->iova = v->bus = v->va = NULL;
	v->va_unindexed = 0;
	if (dma_table_create(&v->iova) || dma_table_create(&v->bus) || dma_table_create(&v->va)) {
		dma_view_fini(v);
		return -ENOMEM;
	}
	return 0;
}

void dma_view_fini(struct dma_view *v)
{
	dma_table_destroy(v->iova);
	dma_table_destroy(v->bus);
	dma_table_destroy(v->va);
	v->iova = v->bus = v->va = NULL;
	v->va_unindexed = 0;
}

int dma_view_reserve(struct dma_view *v, const struct dma_region *r)
{
	struct dma_region x = *r;

	x.flags &= ~(VIEW_COMMITTED | VIEW_VA);
	return dma_table_insert(v->iova, &x);
}

int dma_view_commit(struct dma_view *v, uint64_t iova, uint64_t bus)
{
	/* The table owns its nodes: the const is only find_exact's promise. */
	struct dma_region *r = (struct dma_region *)dma_table_find_exact(v->iova, iova);
	struct dma_region b, a;
	int ret;

	if (!r)
		return -ENOENT;
	b = *r;
	b.start = bus;
	b.other = iova;
	b.flags &= ~(VIEW_COMMITTED | VIEW_VA);
	ret = dma_table_insert(v->bus, &b);
	if (ret)
		return ret == -ENOMEM ? ret : -EPROTO;
	r->other = bus;
	r->flags |= VIEW_COMMITTED;
	if (!r->vaddr)
		return 0; /* memory in another process: no process address */
	a = b;
	a.start = (uint64_t)(uintptr_t)r->vaddr;
	ret = dma_table_insert(v->va, &a);
	if (ret == 0)
		r->flags |= VIEW_VA;
	else if (ret == -ENOMEM) {
		dma_table_remove(v->bus, bus, NULL);
		r->flags &= ~VIEW_COMMITTED;
		return ret;
	} else {
		v->va_unindexed++; /* aliases memory already indexed: found by scanning */
	}
	return 0;
}

int dma_view_remove(struct dma_view *v, uint64_t iova, struct dma_region *out)
{
	struct dma_region r;

	if (dma_table_remove(v->iova, iova, &r) != 0)
		return -ENOENT;
	if (r.flags & VIEW_COMMITTED)
		dma_table_remove(v->bus, r.other, NULL);
	if (r.flags & VIEW_VA)
		dma_table_remove(v->va, (uint64_t)(uintptr_t)r.vaddr, NULL);
	else if ((r.flags & VIEW_COMMITTED) && r.vaddr)
		v->va_unindexed--;
	r.flags &= ~(VIEW_COMMITTED | VIEW_VA);
	if (out)
		*out = r;
	return 0;
}

static int first_start(const struct dma_region *r, void *arg)
{
	*(uint64_t *)arg = r->start;
	return 1;
}

int dma_view_pop_first(struct dma_view *v, struct dma_region *out)
{
	uint64_t start;

	if (dma_table_foreach(v->iova, first_start, &start) != 1)
		return -ENOENT;
	return dma_view_remove(v, start, out);
}

struct va_scan {
	uint64_t va, last;
	const struct dma_region *found;
	int partial;
};

static int scan_one(const struct dma_region *r, void *arg)
{
	struct va_scan *s = arg;
	uint64_t start = (uint64_t)(uintptr_t)r->vaddr;

	if (!r->vaddr || !(r->flags & VIEW_COMMITTED) || s->va < start || s->va - start >= r->len)
		return 0;
	if (s->last - start < r->len) {
		s->found = r;
		return 1;
	}
	s->partial = 1;
	return 0;
}

int dma_view_by_va(const struct dma_view *v, uintptr_t va, uint64_t len, const struct dma_region **out)
{
	struct va_scan s = {.va = va, .last = va + (len - 1)};
	const struct dma_region *r = dma_table_find(v->va, va);

	if (r) {
		if (s.last - r->start < r->len) {
			*out = dma_table_find_exact(v->iova, r->other);
			return *out ? 0 : -ENOENT;
		}
		s.partial = 1;
	}
	/* An alias the index does not hold may cover the whole range. */
	if (v->va_unindexed && dma_table_foreach(v->iova, scan_one, &s) == 1) {
		*out = s.found;
		return 0;
	}
	return s.partial ? -ERANGE : -ENOENT;
}

int dma_view_by_bus(const struct dma_view *v, uint64_t bus, uint64_t len, const struct dma_region **out)
{
	const struct dma_region *r = dma_table_find(v->bus, bus);

	if (!r)
		return -ENOENT;
	if (bus + (len - 1) - r->start >= r->len)
		return -ERANGE;
	*out = r;
	return 0;
}

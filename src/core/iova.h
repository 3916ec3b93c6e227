/* SPDX-License-Identifier: MIT */
/*
 * IOVA range lists and the IOVA allocator.
 *
 * A range list is what an IOMMU accepts, kept normalized: sorted,
 * disjoint and not adjacent, each range [start, last] with both ends
 * included (so a range can end at 2^64 - 1).
 *
 * The allocator is first fit, lowest address first, over a range list.
 * The mappings already made (a dma_table keyed by IOVA) are its record of
 * what is taken, so freeing a mapping frees its IOVAs and the allocator
 * keeps no state that could drift from the table. Lowest first keeps the
 * addresses small, which suits devices with narrow DMA masks (edu: 28
 * bits), and makes the result predictable.
 */
#ifndef UPCI_CORE_IOVA_H
#define UPCI_CORE_IOVA_H

#include <stdint.h>

#include "dma_table.h"
#include "upci/upci.h"

/* Ranges kept per list: more than any IOMMU reports (VFIO keeps 64). */
#define IOVA_MAX_RANGES 64u

struct iova_list {
	unsigned n;
	struct upci_iova_range r[IOVA_MAX_RANGES];
};

/* The whole 64-bit space: one range [0, 2^64 - 1]. */
void iova_list_full(struct iova_list *l);

/* Drop inverted ranges, sort, merge overlapping and adjacent ones. */
void iova_list_normalize(struct iova_list *l);

/* @a becomes the part of @a that is also in @b (both normalized). */
void iova_list_intersect(struct iova_list *a, const struct iova_list *b);

/* 1 when [start, start + len) lies inside one range, else 0 (len > 0). */
int iova_list_contains(const struct iova_list *l, uint64_t start, uint64_t len);

/*
 * The lowest address >= @min, aligned to @align (a power of two), where
 * @len bytes fit inside one range of @l without overlapping a mapping of
 * @used. Returns 0 with *out set, -EINVAL (len 0, bad align), -ENOSPC.
 */
int iova_alloc(const struct iova_list *l, const struct dma_table *used, uint64_t min, uint64_t len, uint64_t align,
	       uint64_t *out);

#endif /* UPCI_CORE_IOVA_H */

/* SPDX-License-Identifier: MIT */
/*
 * A device's DMA mappings, found three ways: by IOVA (the record; what
 * upci_dma_map() was given), by bus address (what the device is given:
 * not the IOVA on the dext) and by process address (for translation).
 *
 * The IOVA and bus tables never hold overlapping ranges (an IOMMU maps a
 * bus address once). Process memory may be mapped at several IOVAs, so
 * the process-address index holds the first of overlapping mappings only
 * and counts the others; a lookup that the index cannot answer then scans.
 * Not thread-safe: callers lock.
 */
#ifndef UPCI_CORE_DMA_VIEW_H
#define UPCI_CORE_DMA_VIEW_H

#include <stdint.h>

#include "dma_table.h"

struct dma_view {
	struct dma_table *iova; /* keyed by IOVA; other = bus address */
	struct dma_table *bus;  /* keyed by bus address; other = IOVA */
	struct dma_table *va;   /* keyed by process address; other = IOVA */
	size_t va_unindexed;    /* mappings with memory, missing from ->va */
};

/* 0 or -ENOMEM. */
int dma_view_init(struct dma_view *v);
void dma_view_fini(struct dma_view *v);

/* Record *r by IOVA (r->other not yet known): 0, -EEXIST (overlap),
 * -EOVERFLOW, -ENOMEM. */
int dma_view_reserve(struct dma_view *v, const struct dma_region *r);

/*
 * The backend answered @bus for the mapping reserved at @iova: index it
 * by bus and process address. 0, -EPROTO when @bus overlaps another
 * mapping's bus range (an IOMMU handing one address out twice) or wraps,
 * -ENOMEM; on failure the reservation stays for the caller to remove.
 */
int dma_view_commit(struct dma_view *v, uint64_t iova, uint64_t bus);

/* Remove the mapping reserved at @iova from every index; copy it to *out
 * when out != NULL. 0 or -ENOENT. */
int dma_view_remove(struct dma_view *v, uint64_t iova, struct dma_region *out);

/* Remove the lowest mapping (into *out): 0, or -ENOENT when empty. */
int dma_view_pop_first(struct dma_view *v, struct dma_region *out);

/* The mapping holding [va, va + len) (as a region of ->iova): 0, -ENOENT
 * (va not mapped), -ERANGE (the range runs past the mapping's end). */
int dma_view_by_va(const struct dma_view *v, uintptr_t va, uint64_t len, const struct dma_region **out);

/* The mapping holding bus range [bus, bus + len) (a region of ->bus,
 * start = bus address): 0, -ENOENT, -ERANGE as above. */
int dma_view_by_bus(const struct dma_view *v, uint64_t bus, uint64_t len, const struct dma_region **out);

#endif /* UPCI_CORE_DMA_VIEW_H */

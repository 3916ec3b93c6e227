/* SPDX-License-Identifier: MIT */
/*
 * DMA region table: a set of non-overlapping address ranges [start, start+len)
 * each carrying a process address and a second address (bus or IOVA). Used
 * twice: by core, keyed by IOVA (what upci_dma_map() was given), and by the
 * simulated IOMMU, keyed by bus address (what a device model emits).
 *
 * Guarantees: O(log n) insert, remove and lookup (balanced tree); no limit
 * on the number of regions other than memory; ranges never overlap; a range
 * that would wrap past 2^64 is refused. Not thread-safe: callers lock.
 */
#ifndef UPCI_CORE_DMA_TABLE_H
#define UPCI_CORE_DMA_TABLE_H

#include <stddef.h>
#include <stdint.h>

struct dma_region {
	uint64_t start;  /* key: first address of the range */
	uint64_t len;    /* bytes, > 0 */
	void *vaddr;     /* process address of start */
	uint64_t other;  /* bus address (core table) or IOVA (IOMMU table) */
	unsigned flags;  /* UPCI_DMA_READ / UPCI_DMA_WRITE, plus private bits */
	void *owner;     /* caller's cookie (e.g. a upci_dma_buf's allocation) */
	/* Remote regions (vaddr NULL): accesses go through rw(opaque, off, ...). */
	int (*rw)(void *opaque, uint64_t off, void *buf, uint64_t len, int is_write);
	void *rw_opaque;
};

struct dma_table;

/* Returns 0 or -ENOMEM. */
int dma_table_create(struct dma_table **out);
void dma_table_destroy(struct dma_table *t);

/*
 * Insert a copy of *r. Returns 0, -EINVAL (len 0), -EOVERFLOW (start+len
 * wraps), -EEXIST (overlaps any existing range; adjacency is fine),
 * -ENOMEM.
 */
int dma_table_insert(struct dma_table *t, const struct dma_region *r);

/* Remove the range that starts exactly at @start; copy it to *out if out != NULL.
 * Returns 0 or -ENOENT. */
int dma_table_remove(struct dma_table *t, uint64_t start, struct dma_region *out);

/* The range containing @addr, or NULL. The pointer is valid until the next
 * insert/remove. */
const struct dma_region *dma_table_find(const struct dma_table *t, uint64_t addr);

/* The range that starts exactly at @start, or NULL. */
const struct dma_region *dma_table_find_exact(const struct dma_table *t, uint64_t start);

/* The range with the lowest start >= @addr, or NULL (walking ranges in
 * order while removing them). */
const struct dma_region *dma_table_find_from(const struct dma_table *t, uint64_t addr);

/* Set ->other of the range that starts exactly at @start. 0 or -ENOENT. */
int dma_table_set_other(struct dma_table *t, uint64_t start, uint64_t other);

/*
 * Translate [addr, addr+len) to a process pointer: succeeds only when the
 * whole range lies inside ONE region whose flags include every bit of
 * @need. Returns the pointer or NULL (not mapped, straddles a region end,
 * wraps, or lacks permission).
 */
void *dma_table_translate(const struct dma_table *t, uint64_t addr, uint64_t len, unsigned need);

/* Lowest address >= @min, aligned to @align (a power of two), where a range
 * of @len fits without overlap and without wrapping. Returns 0 and sets *out,
 * or -ENOSPC. */
int dma_table_find_gap(const struct dma_table *t, uint64_t min, uint64_t len, uint64_t align, uint64_t *out);

size_t dma_table_count(const struct dma_table *t);

/* Call fn for each region in ascending order; stop early when fn returns
 * non-zero and return that value. fn must not modify the table. */
int dma_table_foreach(const struct dma_table *t, int (*fn)(const struct dma_region *r, void *arg), void *arg);

/* Remove the lowest region (into *out). Returns 0 or -ENOENT when empty.
 * Lets callers tear a table down while releasing each region. */
int dma_table_pop_first(struct dma_table *t, struct dma_region *out);

#endif /* UPCI_CORE_DMA_TABLE_H */

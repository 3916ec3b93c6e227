/* SPDX-License-Identifier: MIT */
/*
 * What the DMA files of src/core share (not public):
 *   dma.c        per-device mapping primitives and the single-device calls
 *   dma_space.c  DMA spaces: membership, fan-out, shared backend contexts
 *   dma_query.c  IOVA ranges and translation
 *   dma_mem.c    buffer memory (memfd, huge pages)
 *   iova.c       range lists and the allocator
 *
 * Locking: a space's lock, then a device's lock, then the spaces lock
 * (membership links only). A member's mappings change only with both the
 * space's and its own lock held, so holding either is enough to read them.
 */
#ifndef UPCI_CORE_DMA_CORE_H
#define UPCI_CORE_DMA_CORE_H

#include <stdint.h>

#include "device.h"
#include "iova.h"

/* Private bits of dma_region.flags, next to UPCI_DMA_READ/WRITE. */
#define DMA_FLAG_ALLOC   (1u << 8) /* the region is a upci_dma_alloc() buffer */
#define DMA_FLAG_SG_CONT (1u << 9) /* continues the mapping of the region before it */

#define DMA_ANY_MIN (1ull << 20) /* UPCI_IOVA_ANY allocates at or above 1 MiB */

/* One mapping to make: @n pieces following each other in IOVA space. */
struct dma_req {
	const struct upci_dma_seg *sg;
	unsigned n;
	uint64_t iova;          /* of the first byte, or UPCI_IOVA_ANY */
	uint64_t total;         /* sum of the pieces' lengths */
	uint64_t align;         /* of a chosen IOVA: a power of two */
	unsigned flags;         /* UPCI_DMA_* */
	struct dma_alloc *buf;  /* the buffer's memory (one piece), or NULL */
	upci_dma_rw_fn rw;      /* remote memory (one piece, no vaddr), or NULL */
	void *rw_opaque;
};

/* ---- dma.c ---- */

/* What upci_dma_map() checks of a range at a fixed IOVA (@va 0: memory of
 * another process): 0, -EINVAL, -EOVERFLOW. *@flags 0 becomes both. */
int core_dma_check(uint64_t iova, uintptr_t va, uint64_t len, unsigned *flags, uint64_t page);

/* The rest of dma.c runs with the device's lock held. */

/* The request as regions at @iova (the first piece owns @req->buf). The
 * caller frees the array. NULL when out of memory. */
struct dma_region *core_dma_pieces(const struct dma_req *req, uint64_t iova);
/* Map @p[0..n) for @dev through its backend: all or nothing, contiguous at
 * the bus; *bus gets the first piece's bus address. */
int core_dev_map(struct upci_dev *dev, const struct dma_region *p, unsigned n, int fd, uint64_t *bus);
/* Record @p[0..n) as mapped at the bus addresses @from (a device sharing
 * the same backend context) has for them. */
int core_dev_mirror(struct upci_dev *dev, const struct dma_region *p, unsigned n, const struct dma_view *from);
/* Remove the mapping that starts at @iova and its continuation pieces,
 * from the backend too when @backend. Returns the first piece's owner. */
void *core_dev_unmap(struct upci_dev *dev, uint64_t iova, int backend);
/* The device's own ranges (its backend's): 0 or -errno. */
int core_dev_ranges(struct upci_dev *dev, struct iova_list *out);

/* ---- dma_mem.c ---- */

/* Zeroed shared memory of @size bytes (a multiple of the page, of 2 MiB
 * with UPCI_DMA_ALLOC_HUGE), in a memfd where the platform has one. */
int dma_mem_alloc(uint64_t size, unsigned flags, struct dma_alloc **out);
void dma_mem_free(struct dma_alloc *a);

/* ---- dma_space.c ---- */

/* The space @dev is a member of, locked and referenced; NULL when it is
 * not a member (the caller then takes the device's own path). */
struct upci_dma_space *core_space_enter(struct upci_dev *dev);
void core_space_exit(struct upci_dma_space *sp);
/* The space locked: map @req; @via (a member, or NULL) gets *bus. */
int core_space_map(struct upci_dma_space *sp, const struct dma_req *req, struct upci_dev *via, uint64_t *iova,
		   uint64_t *bus);
/* The space locked: remove the mapping at @iova. @buf: free the buffer
 * whose memory starts at @buf_vaddr there (else a buffer is -EINVAL). */
int core_space_unmap(struct upci_dma_space *sp, uint64_t iova, int buf, const void *buf_vaddr);
/* The space locked: what every member accepts. */
int core_space_ranges(struct upci_dma_space *sp, struct iova_list *out);
/* upci_close() of a member: leave without a context of its own. */
void core_space_leave_closing(struct upci_dev *dev);

#endif /* UPCI_CORE_DMA_CORE_H */

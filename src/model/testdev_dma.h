/* SPDX-License-Identifier: MIT */
/*
 * testdev's descriptor DMA engine (private to testdev.c / testdev_dma.c).
 * Kept apart from the register file so the hostile-input rules of the copy
 * path can be read in one place.
 */
#ifndef UPCI_MODEL_TESTDEV_DMA_H
#define UPCI_MODEL_TESTDEV_DMA_H

#include <stddef.h>
#include <stdint.h>

#include "upci/model.h"

struct testdev_dma_ctx {
	upci_model *m;
	uint8_t *bar2;          /* BAR2 storage */
	uint64_t bar2_size;
	unsigned nvec;          /* descriptor vectors must be below this */
	uint8_t *bounce;        /* for copies that do not translate in one piece */
	size_t bounce_size;
	/* Fire vector @vec (< nvec) after a descriptor asking for it. */
	void (*fire)(void *opaque, unsigned vec);
	void *opaque;
};

struct testdev_dma_result {
	uint32_t done;          /* descriptors completed */
	uint64_t bytes;         /* bytes they copied */
	uint32_t fault;         /* TESTDEV_FAULT_*, 0 when the run completed */
	uint32_t fault_desc;    /* index of the faulting descriptor, or UINT32_MAX */
};

/*
 * Run @count descriptors starting at bus address @list. Stops at the first
 * bad descriptor. The caller checked bus mastering; @count is checked here
 * too. Never touches memory outside BAR2 and what upci's DMA calls reach.
 */
void testdev_dma_run(const struct testdev_dma_ctx *c, uint64_t list, uint32_t count, struct testdev_dma_result *r);

#endif /* UPCI_MODEL_TESTDEV_DMA_H */

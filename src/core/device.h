/* SPDX-License-Identifier: MIT */
/* The device handle shared by core and the backends. */
#ifndef UPCI_CORE_DEVICE_H
#define UPCI_CORE_DEVICE_H

#include <pthread.h>
#include <stdint.h>

#include "dma_table.h"
#include "irq.h"
#include "upci/upci.h"

struct upci_backend_ops;

/* A buffer from upci_dma_alloc(); hangs off its DMA region's owner. */
struct dma_alloc {
	void *vaddr;
	uint64_t size;
	int fd;
};

struct upci_dev {
	const struct upci_backend_ops *ops;
	void *priv;                 /* the backend's */
	char *uri;
	pthread_mutex_t lock;       /* serializes every call except the irq ones */
	int claimed;
	struct upci_identity ident;
	struct upci_bar_info bars[UPCI_NUM_BARS];
	void *bar_addr[UPCI_NUM_BARS];
	struct dma_table *dma;      /* keyed by IOVA; other = bus address */
	struct irq_state irq;
	enum upci_irq_type irq_type;
	unsigned irq_nvec;
	uint64_t page_size;
};

/* Backends call this (any thread) when vector @vec fires. */
static inline void upci__irq_raise(struct upci_dev *dev, unsigned vec)
{
	irq_state_raise(&dev->irq, vec);
}

#endif /* UPCI_CORE_DEVICE_H */

/* SPDX-License-Identifier: MIT */
/* The device handle shared by core and the backends. */
#ifndef UPCI_CORE_DEVICE_H
#define UPCI_CORE_DEVICE_H

#include <pthread.h>
#include <stdint.h>

#include "dma_table.h"
#include "dma_view.h"
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
	unsigned bar_refs[UPCI_NUM_BARS]; /* upci_bar_map calls not yet unmapped */
	struct dma_view dma;        /* mappings (a space member: the space's, with its bus addresses) */
	unsigned nbufs;             /* live upci_dma_alloc buffers of its own */
	struct irq_state irq;
	enum upci_irq_type irq_type;
	unsigned irq_nvec;
	/* Vectors routed to a caller's eventfd (irqroute.c): the library's
	 * dup of it or -1, and which ones the device signals itself. Changed
	 * under the handle lock and route_lock. */
	pthread_mutex_t route_lock;
	int route_fd[UPCI_MAX_VECTORS];
	_Atomic uint64_t route_hw[UPCI_IRQ_WORDS];
	uint64_t page_size;
	/* DMA space (dma_space.c): changed only with the space's lock, this
	 * lock and the spaces lock held, in that order. */
	struct upci_dma_space *space;
	void *space_ctx;            /* the backend context shared in it, or NULL: its own */
	struct upci_dev *space_next; /* next member */
};

/* Backends call this (any thread) when vector @vec fires. */
static inline void upci__irq_raise(struct upci_dev *dev, unsigned vec)
{
	irq_state_raise(&dev->irq, vec);
}

/*
 * For the vfio-user server (library-internal, not public):
 * upci__irq_set_eventfd - upci_irq_set_eventfd() without its checks of the
 *   fd (the server checked it is an eventfd) and for INTx too (delivered
 *   by core; the server relays what a take latches).
 * upci__bar_fd - an fd and offset through which another process can mmap
 *   BAR @bar with the same contents (RAM-backed BARs of models; VFIO's
 *   device fd). The fd stays owned by the device: dup() it to keep it.
 *   0, -ENOTSUP (not shareable, or a read-only mirror), -EINVAL.
 */
int upci__irq_set_eventfd(struct upci_dev *dev, unsigned vec, int fd);

/*
 * For backends whose device signals one eventfd per vector (their
 * ops->irq_set_eventfd): point the device's vector @vec at @fd with
 * @point, or with @fd -1 back at the backend's own eventfd @own (watched
 * again as the vector's source, with re-arm fd @rearm or -1). After
 * pointing away from @own, what @own caught before the switch is
 * delivered. 0 or @point's error.
 */
int upci__irq_repoint(struct upci_dev *dev, unsigned vec, int fd, int own, int rearm,
		      int (*point)(struct upci_dev *dev, unsigned vec, int fd));

/*
 * A DMA region whose memory is not in this process (a vfio-user client's
 * memory sent without an fd): the device's accesses to [iova, iova+len)
 * call @rw with the offset into the region; it returns 0 or -errno (a
 * device error). Checked and recorded like upci_dma_map(); removed with
 * upci_dma_unmap(). -ENOTSUP when the backend cannot route DMA through
 * software (a real IOMMU).
 */
typedef int (*upci_dma_rw_fn)(void *opaque, uint64_t off, void *buf, uint64_t len, int is_write);
int upci__dma_map_remote(struct upci_dev *dev, uint64_t iova, uint64_t len, unsigned flags, upci_dma_rw_fn rw,
			 void *opaque, uint64_t *bus);
int upci__bar_fd(struct upci_dev *dev, unsigned bar, int *fd, uint64_t *offset);

#endif /* UPCI_CORE_DEVICE_H */

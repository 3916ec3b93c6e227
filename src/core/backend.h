/* SPDX-License-Identifier: MIT */
/*
 * The contract between src/core and a backend. Core checks every argument
 * and the device state once (widths in {1,2,4,8}, alignment, offsets inside
 * config space or the BAR, BAR present, claimed, vector counts, DMA range
 * overlap) and holds the handle's lock, so a backend op may assume:
 *   - its arguments are valid for the device as described by dev->ident
 *     and dev->bars (filled by ->open);
 *   - ops other than open/close/claim/config_read/config_read_block run only
 *     while this handle holds the claim;
 *   - calls on one handle never overlap.
 * A backend reports interrupts with upci__irq_raise() from any thread.
 * An op left NULL makes the public call return -EOPNOTSUPP (ENOTSUP).
 */
#ifndef UPCI_CORE_BACKEND_H
#define UPCI_CORE_BACKEND_H

#include "device.h"
#include "uri.h"

/* What upci_enumerate() collects: backends append with core_enum_add(). */
struct upci_enum_sink {
	struct upci_found *v;
	size_t n, cap;
	const char *scheme; /* of the backend now listing: each entry's id.backend */
};
/* Copy *@e into the list (backend and uri checked by the caller). 0 or
 * -ENOMEM (also past a bound no real host reaches). */
int core_enum_add(struct upci_enum_sink *sink, const struct upci_found *e);

struct upci_backend_ops {
	const char *scheme;
	/* Optional: append what this backend can reach, opening nothing
	 * (upci_enumerate). Absent: -ENOTSUP. */
	int (*enumerate)(struct upci_enum_sink *sink);
	/* Optional: what can be checked of a parsed URI without opening it
	 * (0 or -errno, with a sentence in @why). */
	int (*uri_check)(const struct upci_uri *u, char *why, size_t whylen);
	/* Find the device; fill dev->ident and dev->bars; set dev->priv. */
	int (*open)(struct upci_dev *dev, const struct upci_uri *uri);
	/* Free everything; the claim (if any) was already released. */
	void (*close)(struct upci_dev *dev);
	/* Exclusive ownership: -EBUSY when someone else holds it. */
	int (*claim)(struct upci_dev *dev);
	void (*release)(struct upci_dev *dev);
	int (*config_read)(struct upci_dev *dev, uint32_t off, unsigned width, uint32_t *val);
	int (*config_write)(struct upci_dev *dev, uint32_t off, unsigned width, uint32_t val);
	/* Optional: the whole range in one request. Core loops otherwise. */
	int (*config_read_block)(struct upci_dev *dev, uint32_t off, void *buf, size_t len);
	/* Map the whole BAR (length dev->bars[bar].size). */
	int (*bar_map)(struct upci_dev *dev, unsigned bar, void **addr);
	void (*bar_unmap)(struct upci_dev *dev, unsigned bar, void *addr);
	/* Optional: fd + offset another process can mmap for this BAR
	 * (read-write, same contents); -ENOTSUP when there is none. */
	int (*bar_fd)(struct upci_dev *dev, unsigned bar, int *fd, uint64_t *offset);
	int (*mmio_read)(struct upci_dev *dev, unsigned bar, uint64_t off, unsigned width, uint64_t *val);
	int (*mmio_write)(struct upci_dev *dev, unsigned bar, uint64_t off, unsigned width, uint64_t val);
	/*
	 * Page-aligned, non-overlapping (core checked); return the bus address.
	 * @fd/@fd_off: the memory's backing fd and the offset of @vaddr in it
	 * when known (buffers from upci_dma_alloc), else -1/0 — a backend that
	 * must share the memory with another process (vfio-user) uses it.
	 */
	int (*dma_map)(struct upci_dev *dev, uint64_t iova, void *vaddr, uint64_t len, unsigned flags, int fd,
		       uint64_t fd_off, uint64_t *bus);
	/* Optional: a region whose memory is reached through @rw (see
	 * upci__dma_map_remote); unmapped with dma_unmap like any other. */
	int (*dma_map_remote)(struct upci_dev *dev, uint64_t iova, uint64_t len, unsigned flags, upci_dma_rw_fn rw,
			      void *opaque, uint64_t *bus);
	int (*dma_unmap)(struct upci_dev *dev, uint64_t iova, uint64_t len, uint64_t bus);
	/*
	 * Optional: the IOVA ranges the device's IOMMU accepts now, at most
	 * @max of them, in any order (core normalizes). Returns how many were
	 * stored or -errno. NULL: every IOVA.
	 */
	int (*dma_ranges)(struct upci_dev *dev, struct upci_iova_range *out, unsigned max);
	/*
	 * Optional: DMA spaces (core/dma_space.c). @slot is this backend's
	 * shared context in the space, NULL until a join creates it. Core
	 * calls these with the space locked and the device quiet (claimed, no
	 * DMA mapping of its own, no BAR mapped, interrupts disabled).
	 * space_join: make the device's DMA go through *@slot (creating it when
	 * NULL) and return 1: core then makes each mapping once per context,
	 * through any device that shares it; or return 0: the device keeps a
	 * context of its own and gets every mapping made on it; or -errno with
	 * nothing changed (and *@slot as it was). Without the op: 0.
	 * space_leave: back to an empty context of the device's own. @last:
	 * no other device shares *@slot (core has unmapped the space's
	 * mappings through this one): free it and set *@slot to NULL.
	 * @closing: the device is being closed, so no context of its own is
	 * needed. An error leaves the device out of the space, unusable for DMA.
	 */
	int (*space_join)(struct upci_dev *dev, void **slot);
	int (*space_leave)(struct upci_dev *dev, void **slot, int last, int closing);
	/*
	 * @type is INTX, MSI or MSIX (core resolved AUTO with ->irq_types);
	 * @nvec 1..256 already checked against ->irq_count. Vectors are
	 * reported with upci__irq_raise(dev, 0..nvec-1).
	 */
	int (*irq_enable)(struct upci_dev *dev, enum upci_irq_type type, unsigned nvec);
	void (*irq_disable)(struct upci_dev *dev);
	/*
	 * Optional, MSI/MSI-X only: make the device itself signal eventfd @fd
	 * for vector @vec (VFIO_DEVICE_SET_IRQS, a vfio-user SET_IRQS carrying
	 * the fd), so the interrupt never passes through this process; @fd -1
	 * points it back at the backend's own eventfd. Core calls it for
	 * upci_irq_set_eventfd() and whenever such a vector's mask bit
	 * changes (upci__irq_repoint() does the source bookkeeping). -ENOTSUP
	 * (INTx): core delivers through upci__irq_raise instead.
	 */
	int (*irq_set_eventfd)(struct upci_dev *dev, unsigned vec, int fd);
	/* Vectors the device offers for @type (0 = not supported). */
	unsigned (*irq_count)(struct upci_dev *dev, enum upci_irq_type type);
	int (*reset)(struct upci_dev *dev);
};

extern const struct upci_backend_ops upci_sim_ops;

#endif /* UPCI_CORE_BACKEND_H */

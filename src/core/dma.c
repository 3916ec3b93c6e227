/* SPDX-License-Identifier: MIT */
/*
 * DMA mappings and buffers of one device. The device's view (dma_view.h)
 * is the record; backends only see pieces that are aligned, non-empty,
 * non-wrapping, non-overlapping and inside the IOVA ranges they accept.
 * A device in a DMA space hands its DMA calls to the space (dma_space.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "core.h"
#include "dma_core.h"
#include "log.h"

/* ------------------------------------------------ per-device primitives */

struct dma_region *core_dma_pieces(const struct dma_req *req, uint64_t iova)
{
	struct dma_region *p = calloc(req->n, sizeof(*p));
	uint64_t at = iova;

	if (!p)
		return NULL;
	for (unsigned i = 0; i < req->n; i++) {
		p[i].start = at;
		p[i].flags = req->flags | (i ? DMA_FLAG_SG_CONT : 0);
		if (req->buf) {
			p[i].vaddr = req->buf->vaddr;
			p[i].len = req->buf->size;
			p[i].owner = req->buf;
			p[i].flags |= DMA_FLAG_ALLOC;
		} else if (req->rw) {
			p[i].len = req->total;
			p[i].rw = req->rw;
			p[i].rw_opaque = req->rw_opaque;
		} else {
			p[i].vaddr = req->sg[i].vaddr;
			p[i].len = req->sg[i].len;
		}
		at += p[i].len;
	}
	return p;
}

int core_dev_ranges(struct upci_dev *dev, struct iova_list *out)
{
	int n;

	if (!dev->ops->dma_ranges) {
		iova_list_full(out);
		return 0;
	}
	n = dev->ops->dma_ranges(dev, out->r, IOVA_MAX_RANGES);
	if (n < 0)
		return n;
	out->n = (unsigned)n > IOVA_MAX_RANGES ? IOVA_MAX_RANGES : (unsigned)n;
	iova_list_normalize(out);
	return 0;
}

/* Take pieces [0, n) out of the view and the backend. */
static void undo_pieces(struct upci_dev *dev, const struct dma_region *p, unsigned n, int backend)
{
	struct dma_region r;

	for (unsigned i = 0; i < n; i++)
		if (dma_view_remove(&dev->dma, p[i].start, &r) == 0 && backend && dev->ops->dma_unmap)
			dev->ops->dma_unmap(dev, r.start, r.len, r.other);
}

static int map_piece(struct upci_dev *dev, const struct dma_region *r, const struct iova_list *rl, int fd,
		     uint64_t *bus)
{
	const struct upci_backend_ops *ops = dev->ops;
	unsigned fl = r->flags & UPCI_DMA_RW;
	int ret;

	if (r->rw ? !ops->dma_map_remote : !ops->dma_map)
		return -ENOTSUP;
	/* Reserve first: the view is the overlap check. */
	ret = dma_view_reserve(&dev->dma, r);
	if (ret)
		return ret;
	if (!iova_list_contains(rl, r->start, r->len)) {
		LOG_ERR("%s: DMA map iova 0x%llx (0x%llx bytes): outside the IOVA ranges the IOMMU accepts", dev->uri,
			(unsigned long long)r->start, (unsigned long long)r->len);
		ret = -ERANGE;
	} else if (r->rw) {
		ret = ops->dma_map_remote(dev, r->start, r->len, fl, r->rw, r->rw_opaque, bus);
	} else {
		ret = ops->dma_map(dev, r->start, r->vaddr, r->len, fl, fd, 0, bus);
	}
	if (ret == 0) {
		ret = dma_view_commit(&dev->dma, r->start, *bus);
		if (ret) {
			LOG_ERR("%s: DMA map iova 0x%llx: the backend gave bus address 0x%llx, which is %s", dev->uri,
				(unsigned long long)r->start, (unsigned long long)*bus,
				ret == -EPROTO ? "already in use" : "not recorded");
			if (ops->dma_unmap)
				ops->dma_unmap(dev, r->start, r->len, *bus);
		}
	}
	if (ret)
		dma_view_remove(&dev->dma, r->start, NULL);
	return ret;
}

int core_dev_map(struct upci_dev *dev, const struct dma_region *p, unsigned n, int fd, uint64_t *bus)
{
	struct iova_list rl;
	uint64_t b = 0, first = 0, next = 0;
	unsigned done;
	int ret = core_dev_ranges(dev, &rl);

	if (ret)
		return ret;
	for (done = 0; done < n; done++) {
		ret = map_piece(dev, &p[done], &rl, fd, &b);
		if (ret)
			break;
		if (done > 0 && b != next) {
			/* An IOMMU that picks bus addresses (a DART) did not
			 * keep the list contiguous: one address cannot name it. */
			LOG_ERR("%s: DMA map of a scatter list at iova 0x%llx: piece %u got bus address 0x%llx, not "
				"0x%llx", dev->uri, (unsigned long long)p[0].start, done, (unsigned long long)b,
				(unsigned long long)next);
			done++;
			ret = -ERANGE;
			break;
		}
		if (done == 0)
			first = b;
		next = b + p[done].len;
	}
	if (ret) {
		undo_pieces(dev, p, done, 1);
		return ret;
	}
	*bus = first;
	return 0;
}

int core_dev_mirror(struct upci_dev *dev, const struct dma_region *p, unsigned n, const struct dma_view *from)
{
	unsigned done;
	int ret = 0;

	for (done = 0; done < n; done++) {
		const struct dma_region *r = dma_table_find_exact(from->iova, p[done].start);

		ret = r ? dma_view_reserve(&dev->dma, &p[done]) : -ENOENT;
		if (ret)
			break;
		ret = dma_view_commit(&dev->dma, p[done].start, r->other);
		if (ret) {
			dma_view_remove(&dev->dma, p[done].start, NULL);
			break;
		}
	}
	if (ret)
		undo_pieces(dev, p, done, 0);
	return ret;
}

void *core_dev_unmap(struct upci_dev *dev, uint64_t iova, int backend)
{
	const struct dma_region *n;
	struct dma_region r;
	void *owner;

	if (dma_view_remove(&dev->dma, iova, &r) != 0)
		return NULL;
	owner = r.owner;
	for (;;) {
		uint64_t next = r.start + r.len;

		if (backend && dev->ops->dma_unmap)
			dev->ops->dma_unmap(dev, r.start, r.len, r.other);
		n = next ? dma_table_find_exact(dev->dma.iova, next) : NULL; /* 0: ended at 2^64 */
		if (!n || !(n->flags & DMA_FLAG_SG_CONT) || dma_view_remove(&dev->dma, next, &r) != 0)
			break;
	}
	return owner;
}

void core_dma_drop_all_locked(struct upci_dev *dev)
{
	struct dma_region r;

	/* A member's mappings are the space's: it left before this. */
	while (dma_view_pop_first(&dev->dma, &r) == 0) {
		if (dev->ops->dma_unmap)
			dev->ops->dma_unmap(dev, r.start, r.len, r.other);
		if (r.owner) {
			dma_mem_free(r.owner);
			dev->nbufs--;
		}
	}
}

/* ------------------------------------------------- the device alone */

static int single_map(struct upci_dev *dev, const struct dma_req *req, uint64_t *iova, uint64_t *bus)
{
	struct dma_region *p;
	uint64_t at = req->iova, b = 0;
	int ret;

	if (!dev->claimed)
		return -EPERM;
	if (at == UPCI_IOVA_ANY) {
		struct iova_list rl;

		ret = core_dev_ranges(dev, &rl);
		if (ret == 0)
			ret = iova_alloc(&rl, dev->dma.iova, DMA_ANY_MIN, req->total, req->align, &at);
		if (ret) {
			LOG_ERR("%s: no free IOVA range of 0x%llx bytes: %s", dev->uri, (unsigned long long)req->total,
				upci_strerror(ret));
			return ret;
		}
	}
	p = core_dma_pieces(req, at);
	if (!p)
		return -ENOMEM;
	ret = core_dev_map(dev, p, req->n, req->buf ? req->buf->fd : -1, &b);
	free(p);
	if (ret)
		return ret;
	if (req->buf)
		dev->nbufs++; /* upci_release refuses while any is live */
	*iova = at;
	*bus = b;
	return 0;
}

/* Map @req for @dev, or for its space when it is a member. */
static int map_entry(struct upci_dev *dev, const struct dma_req *req, uint64_t *iova, uint64_t *bus)
{
	struct upci_dma_space *sp;
	int ret;

	for (;;) {
		pthread_mutex_lock(&dev->lock);
		if (!dev->space) {
			ret = single_map(dev, req, iova, bus);
			pthread_mutex_unlock(&dev->lock);
			return ret;
		}
		pthread_mutex_unlock(&dev->lock);
		sp = core_space_enter(dev);
		if (sp) {
			/* Remote memory is the server's, for one device only. */
			ret = req->rw ? -EBUSY : core_space_map(sp, req, dev, iova, bus);
			core_space_exit(sp);
			return ret;
		}
		/* It left its space meanwhile: take the device's own path. */
	}
}

static int flags_ok(unsigned *flags)
{
	if (*flags == 0)
		*flags = UPCI_DMA_RW;
	return !(*flags & ~UPCI_DMA_RW);
}

int core_dma_check(uint64_t iova, uintptr_t va, uint64_t len, unsigned *flags, uint64_t page)
{
	if (!flags_ok(flags) || len == 0 || (iova | va | len) & (page - 1))
		return -EINVAL;
	return iova + (len - 1) < iova ? -EOVERFLOW : 0;
}

UPCI_API int upci_dma_map(upci_dev *dev, uint64_t iova, void *vaddr, uint64_t len, unsigned flags, uint64_t *bus)
{
	struct upci_dma_seg seg = {vaddr, len};
	struct dma_req req = {.sg = &seg, .n = 1, .iova = iova, .total = len};
	uint64_t at;
	int ret;

	if (!dev || !vaddr || !bus)
		return -EINVAL;
	ret = core_dma_check(iova, (uintptr_t)vaddr, len, &flags, dev->page_size);
	if (ret)
		return ret;
	req.flags = flags;
	req.align = dev->page_size;
	return map_entry(dev, &req, &at, bus);
}

UPCI_API int upci_dma_map_any(upci_dev *dev, void *vaddr, uint64_t len, unsigned flags, uint64_t *iova,
			      uint64_t *bus_addr)
{
	struct upci_dma_seg seg = {vaddr, len};
	struct dma_req req = {.sg = &seg, .n = 1, .iova = UPCI_IOVA_ANY, .total = len};

	if (!dev || !vaddr || !iova || !bus_addr || !flags_ok(&flags))
		return -EINVAL;
	if (len == 0 || ((uintptr_t)vaddr | len) & (dev->page_size - 1))
		return -EINVAL;
	req.flags = flags;
	/* Huge-page-sized memory gets an IOVA the IOMMU can map with its
	 * large pages too. */
	req.align = ((uintptr_t)vaddr | len) & (UPCI_HUGE_PAGE_SIZE - 1) ? dev->page_size : UPCI_HUGE_PAGE_SIZE;
	return map_entry(dev, &req, iova, bus_addr);
}

UPCI_API int upci_dma_map_sg(upci_dev *dev, const struct upci_dma_seg *sg, unsigned nseg, unsigned flags,
			     uint64_t *iova, uint64_t *bus_addr)
{
	struct dma_req req = {.sg = sg, .n = nseg};
	uint64_t at;
	int ret;

	if (!dev || !sg || !iova || !bus_addr || !flags_ok(&flags) || nseg == 0 || nseg > UPCI_DMA_SEG_MAX)
		return -EINVAL;
	for (unsigned i = 0; i < nseg; i++) {
		if (!sg[i].vaddr || sg[i].len == 0 || ((uintptr_t)sg[i].vaddr | sg[i].len) & (dev->page_size - 1))
			return -EINVAL;
		if (req.total + sg[i].len < req.total)
			return -EOVERFLOW;
		req.total += sg[i].len;
	}
	req.iova = *iova;
	if (req.iova != UPCI_IOVA_ANY && (req.iova & (dev->page_size - 1)))
		return -EINVAL;
	if (req.iova != UPCI_IOVA_ANY && req.iova + (req.total - 1) < req.iova)
		return -EOVERFLOW;
	req.flags = flags;
	req.align = dev->page_size;
	ret = map_entry(dev, &req, &at, bus_addr);
	if (ret == 0)
		*iova = at;
	return ret;
}

int upci__dma_map_remote(struct upci_dev *dev, uint64_t iova, uint64_t len, unsigned flags, upci_dma_rw_fn rw,
			 void *opaque, uint64_t *bus)
{
	struct dma_req req = {.n = 1, .iova = iova, .total = len, .rw = rw, .rw_opaque = opaque};
	uint64_t at;
	int ret;

	if (!dev || !rw || !bus)
		return -EINVAL;
	ret = core_dma_check(iova, 0, len, &flags, dev->page_size);
	if (ret)
		return ret;
	req.flags = flags;
	req.align = dev->page_size;
	return map_entry(dev, &req, &at, bus);
}

static int single_unmap(struct upci_dev *dev, uint64_t iova)
{
	const struct dma_region *r = dma_table_find_exact(dev->dma.iova, iova);

	if (!dev->claimed)
		return -EPERM;
	if (!r || (r->flags & DMA_FLAG_SG_CONT))
		return -ENOENT; /* a later piece of a list is not a mapping */
	if (r->flags & DMA_FLAG_ALLOC)
		return -EINVAL; /* a buffer: upci_dma_free() owns its memory */
	core_dev_unmap(dev, iova, 1);
	return 0;
}

UPCI_API int upci_dma_unmap(upci_dev *dev, uint64_t iova)
{
	struct upci_dma_space *sp;
	int ret;

	if (!dev)
		return -EINVAL;
	for (;;) {
		pthread_mutex_lock(&dev->lock);
		if (!dev->space) {
			ret = single_unmap(dev, iova);
			pthread_mutex_unlock(&dev->lock);
			return ret;
		}
		pthread_mutex_unlock(&dev->lock);
		sp = core_space_enter(dev);
		if (sp) {
			ret = core_space_unmap(sp, iova, 0, NULL);
			core_space_exit(sp);
			return ret;
		}
	}
}

UPCI_API int upci_dma_alloc_flags(upci_dev *dev, uint64_t iova, uint64_t size, unsigned flags,
				  struct upci_dma_buf *buf)
{
	struct dma_req req = {.n = 1, .iova = iova, .flags = UPCI_DMA_RW};
	struct dma_alloc *a;
	uint64_t unit, at = 0, bus = 0;
	int ret;

	if (!dev || !buf || size == 0 || size > (1ull << 40) || (flags & ~UPCI_DMA_ALLOC_HUGE))
		return -EINVAL;
	unit = (flags & UPCI_DMA_ALLOC_HUGE) ? UPCI_HUGE_PAGE_SIZE : dev->page_size;
	size = (size + unit - 1) & ~(unit - 1);
	if (iova != UPCI_IOVA_ANY && (iova & (dev->page_size - 1)))
		return -EINVAL;
	if (iova != UPCI_IOVA_ANY && iova + (size - 1) < iova)
		return -EOVERFLOW;
	ret = dma_mem_alloc(size, flags, &a);
	if (ret) {
		LOG_ERR("%s: DMA buffer of 0x%llx bytes%s: %s", dev->uri, (unsigned long long)size,
			(flags & UPCI_DMA_ALLOC_HUGE) ? " in 2 MiB huge pages" : "", upci_strerror(ret));
		return ret;
	}
	req.buf = a;
	req.total = size;
	req.align = unit;
	ret = map_entry(dev, &req, &at, &bus);
	if (ret) {
		dma_mem_free(a);
		return ret;
	}
	buf->vaddr = a->vaddr;
	buf->size = size;
	buf->iova = at;
	buf->bus_addr = bus;
	buf->fd = a->fd;
	return 0;
}

UPCI_API int upci_dma_alloc(upci_dev *dev, uint64_t iova, uint64_t size, struct upci_dma_buf *buf)
{
	return upci_dma_alloc_flags(dev, iova, size, 0, buf);
}

static int single_free(struct upci_dev *dev, struct upci_dma_buf *buf)
{
	const struct dma_region *r = dma_table_find_exact(dev->dma.iova, buf->iova);

	if (!r || !(r->flags & DMA_FLAG_ALLOC) || r->vaddr != buf->vaddr)
		return -ENOENT;
	dma_mem_free(core_dev_unmap(dev, buf->iova, 1));
	dev->nbufs--;
	return 0;
}

UPCI_API int upci_dma_free(upci_dev *dev, struct upci_dma_buf *buf)
{
	struct upci_dma_space *sp;
	int ret;

	if (!dev || !buf)
		return -EINVAL;
	for (;;) {
		pthread_mutex_lock(&dev->lock);
		if (!dev->space) {
			ret = single_free(dev, buf);
			pthread_mutex_unlock(&dev->lock);
			break;
		}
		pthread_mutex_unlock(&dev->lock);
		sp = core_space_enter(dev);
		if (sp) {
			ret = core_space_unmap(sp, buf->iova, 1, buf->vaddr);
			core_space_exit(sp);
			break;
		}
	}
	if (ret == 0) {
		memset(buf, 0, sizeof(*buf));
		buf->fd = -1;
	}
	return ret;
}

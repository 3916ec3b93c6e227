/* SPDX-License-Identifier: MIT */
/* DMA mappings and buffers: the IOVA table lives here; backends only see
 * ranges that are aligned, non-empty, non-wrapping and non-overlapping. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backend.h"
#include "core.h"

#define DMA_FLAG_ALLOC (1u << 8) /* region belongs to a upci_dma_alloc() buffer */
#define DMA_ANY_MIN (1ull << 20)

static int map_locked(struct upci_dev *dev, uint64_t iova, void *vaddr, uint64_t len, unsigned flags,
		      struct dma_alloc *owner, upci_dma_rw_fn rw, void *rw_opaque, uint64_t *bus)
{
	struct dma_region r = {
		.start = iova, .len = len, .vaddr = vaddr, .flags = flags, .owner = owner,
		.rw = rw, .rw_opaque = rw_opaque,
	};
	uint64_t b = iova;
	int ret;

	if (!dev->claimed)
		return -EPERM;
	if (rw ? !dev->ops->dma_map_remote : !dev->ops->dma_map)
		return -ENOTSUP;
	/* Insert first: the table is the overlap check, and a failed backend
	 * call is undone below. */
	ret = dma_table_insert(dev->dma, &r);
	if (ret)
		return ret;
	if (rw)
		ret = dev->ops->dma_map_remote(dev, iova, len, flags & UPCI_DMA_RW, rw, rw_opaque, &b);
	else
		ret = dev->ops->dma_map(dev, iova, vaddr, len, flags & UPCI_DMA_RW, owner ? owner->fd : -1, 0, &b);
	if (ret) {
		dma_table_remove(dev->dma, iova, NULL);
		return ret;
	}
	(void)dma_table_set_other(dev->dma, iova, b); /* the entry inserted above */
	if (bus)
		*bus = b;
	return 0;
}

UPCI_API int upci_dma_map(upci_dev *dev, uint64_t iova, void *vaddr, uint64_t len, unsigned flags, uint64_t *bus)
{
	int ret;

	if (!dev || !vaddr || !bus)
		return -EINVAL;
	if (flags == 0)
		flags = UPCI_DMA_RW;
	if (flags & ~UPCI_DMA_RW)
		return -EINVAL;
	if (len == 0 || (iova | (uintptr_t)vaddr | len) & (dev->page_size - 1))
		return -EINVAL;
	if (iova + (len - 1) < iova)
		return -EOVERFLOW;
	pthread_mutex_lock(&dev->lock);
	ret = map_locked(dev, iova, vaddr, len, flags, NULL, NULL, NULL, bus);
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

int upci__dma_map_remote(struct upci_dev *dev, uint64_t iova, uint64_t len, unsigned flags, upci_dma_rw_fn rw,
			 void *opaque, uint64_t *bus)
{
	int ret;

	if (!dev || !rw || !bus)
		return -EINVAL;
	if (flags == 0)
		flags = UPCI_DMA_RW;
	if (flags & ~UPCI_DMA_RW)
		return -EINVAL;
	if (len == 0 || (iova | len) & (dev->page_size - 1))
		return -EINVAL;
	if (iova + (len - 1) < iova)
		return -EOVERFLOW;
	pthread_mutex_lock(&dev->lock);
	ret = map_locked(dev, iova, NULL, len, flags, NULL, rw, opaque, bus);
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

static void release_region(struct upci_dev *dev, const struct dma_region *r)
{
	struct dma_alloc *a = r->owner;

	if (dev->ops->dma_unmap)
		dev->ops->dma_unmap(dev, r->start, r->len, r->other);
	if (a) {
		munmap(a->vaddr, a->size);
		if (a->fd >= 0)
			close(a->fd);
		free(a);
		dev->nbufs--;
	}
}

UPCI_API int upci_dma_unmap(upci_dev *dev, uint64_t iova)
{
	const struct dma_region *r;
	struct dma_region copy;
	int ret = 0;

	if (!dev)
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	r = dma_table_find_exact(dev->dma, iova);
	if (!dev->claimed)
		ret = -EPERM;
	else if (!r)
		ret = -ENOENT;
	else if (r->flags & DMA_FLAG_ALLOC)
		ret = -EINVAL; /* a buffer: upci_dma_free() owns its memory */
	if (ret == 0) {
		dma_table_remove(dev->dma, iova, &copy);
		release_region(dev, &copy);
	}
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

void core_dma_drop_all_locked(struct upci_dev *dev)
{
	struct dma_region r;

	while (dma_table_pop_first(dev->dma, &r) == 0)
		release_region(dev, &r);
}

static int alloc_memory(uint64_t size, struct dma_alloc *a)
{
	a->fd = -1;
	a->size = size;
#ifdef __linux__
	/* Sealed at its size: the process this fd is shared with (a
	 * vfio-user server) must not pull pages from under us (SIGBUS). */
	a->fd = memfd_create("upci-dma", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (a->fd < 0)
		return -errno;
	if (ftruncate(a->fd, (off_t)size) != 0 ||
	    fcntl(a->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
		int e = -errno;

		close(a->fd);
		return e;
	}
	a->vaddr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, a->fd, 0);
#else
	a->vaddr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANON, -1, 0);
#endif
	if (a->vaddr == MAP_FAILED) {
		int e = -errno;

		if (a->fd >= 0)
			close(a->fd);
		return e;
	}
	return 0;
}

UPCI_API int upci_dma_alloc(upci_dev *dev, uint64_t iova, uint64_t size, struct upci_dma_buf *buf)
{
	struct dma_alloc *a;
	uint64_t bus = 0;
	int ret;

	if (!dev || !buf || size == 0 || size > (1ull << 40))
		return -EINVAL;
	size = (size + dev->page_size - 1) & ~(dev->page_size - 1);
	if (iova != UPCI_IOVA_ANY && (iova & (dev->page_size - 1)))
		return -EINVAL;
	if (iova != UPCI_IOVA_ANY && iova + (size - 1) < iova)
		return -EOVERFLOW;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	ret = alloc_memory(size, a);
	if (ret) {
		free(a);
		return ret;
	}
	pthread_mutex_lock(&dev->lock);
	ret = dev->claimed ? 0 : -EPERM;
	if (ret == 0 && iova == UPCI_IOVA_ANY)
		ret = dma_table_find_gap(dev->dma, DMA_ANY_MIN, size, dev->page_size, &iova);
	if (ret == 0)
		ret = map_locked(dev, iova, a->vaddr, size, UPCI_DMA_RW | DMA_FLAG_ALLOC, a, NULL, NULL, &bus);
	if (ret == 0)
		dev->nbufs++; /* upci_release refuses while any is live */
	pthread_mutex_unlock(&dev->lock);
	if (ret) {
		munmap(a->vaddr, size);
		if (a->fd >= 0)
			close(a->fd);
		free(a);
		return ret;
	}
	buf->vaddr = a->vaddr;
	buf->size = size;
	buf->iova = iova;
	buf->bus_addr = bus;
	buf->fd = a->fd;
	return 0;
}

UPCI_API int upci_dma_free(upci_dev *dev, struct upci_dma_buf *buf)
{
	const struct dma_region *r;
	struct dma_region copy;
	int ret = 0;

	if (!dev || !buf)
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	r = dma_table_find_exact(dev->dma, buf->iova);
	if (!r || !(r->flags & DMA_FLAG_ALLOC) || r->vaddr != buf->vaddr)
		ret = -ENOENT;
	if (ret == 0) {
		dma_table_remove(dev->dma, buf->iova, &copy);
		release_region(dev, &copy);
		memset(buf, 0, sizeof(*buf));
		buf->fd = -1;
	}
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

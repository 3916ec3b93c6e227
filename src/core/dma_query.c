/* SPDX-License-Identifier: MIT */
/* What a device's DMA looks like: the IOVA ranges it accepts and
 * translation between process and bus addresses. */
#include <errno.h>
#include <string.h>

#include "backend.h"
#include "core.h"
#include "dma_core.h"

UPCI_API int upci_dma_iova_ranges(upci_dev *dev, struct upci_iova_range *ranges, unsigned max)
{
	struct upci_dma_space *sp;
	struct iova_list l;
	int ret;

	if (!dev || (!ranges && max))
		return -EINVAL;
	for (;;) {
		pthread_mutex_lock(&dev->lock);
		if (!dev->space) {
			ret = core_dev_ranges(dev, &l);
			pthread_mutex_unlock(&dev->lock);
			break;
		}
		pthread_mutex_unlock(&dev->lock);
		sp = core_space_enter(dev);
		if (sp) {
			ret = core_space_ranges(sp, &l);
			core_space_exit(sp);
			break;
		}
	}
	if (ret)
		return ret;
	if (ranges)
		memcpy(ranges, l.r, (max < l.n ? max : l.n) * sizeof(l.r[0]));
	return (int)l.n;
}

UPCI_API int upci_dma_vaddr_to_bus(upci_dev *dev, const void *vaddr, uint64_t len, uint64_t *iova,
				   uint64_t *bus_addr)
{
	const struct dma_region *r;
	uintptr_t va = (uintptr_t)vaddr;
	int ret;

	if (!dev || !vaddr || len == 0 || va > UINTPTR_MAX - (len - 1))
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	ret = dma_view_by_va(&dev->dma, va, len, &r);
	if (ret == 0) {
		uint64_t off = va - (uintptr_t)r->vaddr;

		if (iova)
			*iova = r->start + off;
		if (bus_addr)
			*bus_addr = r->other + off;
	}
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

UPCI_API int upci_dma_bus_to_vaddr(upci_dev *dev, uint64_t bus_addr, uint64_t len, void **vaddr)
{
	const struct dma_region *r;
	int ret;

	if (!dev || !vaddr || len == 0 || bus_addr > UINT64_MAX - (len - 1))
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	ret = dma_view_by_bus(&dev->dma, bus_addr, len, &r);
	if (ret == 0 && !r->vaddr)
		ret = -ENOENT; /* memory of another process (upci serve's in-band DMA) */
	if (ret == 0)
		*vaddr = (void *)((uintptr_t)r->vaddr + (uintptr_t)(bus_addr - r->start));
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

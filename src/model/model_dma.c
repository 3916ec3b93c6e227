/* SPDX-License-Identifier: MIT */
/*
 * Device DMA for models: through the host's IOMMU, only while bus
 * mastering is on, and only by guarded copies (dma_guard.h), so memory
 * another process pulls away is a DMA error, not a crash.
 */
#include <errno.h>

#include "dma_guard.h"
#include "model.h"

int upci_model_dma_copy(void *dst, const void *src, uint64_t len, const void **fault)
{
	if ((size_t)len != len)
		return -EFAULT; /* more than this process can address */
	if (len && (!dst || !src))
		return -EFAULT;
	return dma_guard_copy(dst, src, (size_t)len, fault);
}

/* The checks every DMA entry point shares: 0, -EPERM or -EFAULT. */
static int dma_allowed(const upci_model *m, uint64_t bus, uint64_t len)
{
	if (!m)
		return -EFAULT;
	if (!upci_model_bus_master(m))
		return -EPERM;
	if (len == 0 || bus + (len - 1) < bus)
		return -EFAULT;
	return 0;
}

void *upci_model_dma_translate(upci_model *m, uint64_t bus, uint64_t len, unsigned dir)
{
	const struct model_host *h;

	if (dma_allowed(m, bus, len) || (dir & ~UPCI_DMA_RW) || !dir)
		return NULL;
	h = m->host;
	return h && h->dma_translate ? h->dma_translate(h->opaque, bus, len, dir) : NULL;
}

/* One region in this process: one guarded copy, no host round trip;
 * else the host's copying callback (adjacent regions, remote memory). */
static int dma_move(upci_model *m, uint64_t bus, void *buf, uint64_t len, unsigned dir)
{
	int ret = dma_allowed(m, bus, len);
	const struct model_host *h;
	void *p;

	if (ret)
		return ret;
	if (!buf)
		return -EINVAL;
	h = m->host;
	p = h && h->dma_translate ? h->dma_translate(h->opaque, bus, len, dir) : NULL;
	if (p)
		return dir == UPCI_DMA_READ ? upci_model_dma_copy(buf, p, len, NULL)
					    : upci_model_dma_copy(p, buf, len, NULL);
	if (dir == UPCI_DMA_READ && h && h->dma_read && h->dma_read(h->opaque, bus, buf, len) == 0)
		return 0;
	if (dir == UPCI_DMA_WRITE && h && h->dma_write && h->dma_write(h->opaque, bus, buf, len) == 0)
		return 0;
	return -EFAULT;
}

int upci_model_dma_read(upci_model *m, uint64_t bus, void *buf, uint64_t len)
{
	return dma_move(m, bus, buf, len, UPCI_DMA_READ);
}

int upci_model_dma_write(upci_model *m, uint64_t bus, const void *buf, uint64_t len)
{
	/* dma_move only reads @buf for a device write. */
	return dma_move(m, bus, (void *)buf, len, UPCI_DMA_WRITE);
}

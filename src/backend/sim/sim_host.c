/* SPDX-License-Identifier: MIT */
/* What a model sees of the host: the simulated IOMMU and interrupt
 * delivery. A model's DMA reaches only memory in the IOMMU table, and only
 * through guarded copies (dma_guard.h). */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "dma_guard.h"
#include "sim.h"

static void *host_translate(void *opaque, uint64_t bus, uint64_t len, unsigned need)
{
	struct dma_region r;

	/* Whole range in the one region, with the access asked for, and
	 * memory of this process (a remote region goes through dma_read). */
	if (sim_iommu_find(opaque, bus, &r) != 0 || len == 0 || bus > UINT64_MAX - (len - 1) ||
	    bus + (len - 1) - r.start >= r.len || (r.flags & need) != need || r.rw)
		return NULL;
	return (uint8_t *)r.vaddr + (bus - r.start);
}

/* Copy across possibly adjacent regions, checking each piece. */
static int host_copy(struct sim_inst *si, uint64_t bus, void *buf, uint64_t len, int to_device_mem)
{
	uint8_t *p = buf;

	if (len == 0 || bus + (len - 1) < bus)
		return -EFAULT;
	while (len) {
		struct dma_region r;
		uint64_t off, chunk;
		unsigned need = to_device_mem ? UPCI_DMA_WRITE : UPCI_DMA_READ;

		if (sim_iommu_find(si, bus, &r) != 0 || (r.flags & need) != need)
			return -EFAULT;
		off = bus - r.start;
		chunk = r.len - off;
		if (chunk > len)
			chunk = len;
		if (r.rw) {
			/* Remote memory (a vfio-user client's, no fd): ask for it. */
			if (r.rw(r.rw_opaque, off, p, chunk, to_device_mem) != 0)
				return -EFAULT;
		} else {
			uint8_t *mem = (uint8_t *)r.vaddr + off;

			/* -EFAULT too when the memory vanished under its mapping. */
			if (dma_guard_copy(to_device_mem ? mem : p, to_device_mem ? p : mem, chunk, NULL) != 0)
				return -EFAULT;
		}
		p += chunk;
		bus += chunk;
		len -= chunk;
	}
	return 0;
}

static int host_dma_read(void *opaque, uint64_t bus, void *buf, uint64_t len)
{
	return host_copy(opaque, bus, buf, len, 0);
}

static int host_dma_write(void *opaque, uint64_t bus, const void *buf, uint64_t len)
{
	return host_copy(opaque, bus, (void *)buf, len, 1);
}

static void host_msi(void *opaque, unsigned vec)
{
	struct sim_inst *si = opaque;

	if (!si->owner || vec >= si->irq_nvec)
		return;
	if (si->irq_type == UPCI_IRQ_MSI || si->irq_type == UPCI_IRQ_MSIX)
		upci__irq_raise(si->owner, vec);
}

static void host_intx(void *opaque, int level)
{
	struct sim_inst *si = opaque;
	int rising = level && !si->intx_level;

	si->intx_level = !!level;
	/* INTx is a level; upci reports its assertion as vector 0. */
	if (rising && si->owner && si->irq_type == UPCI_IRQ_INTX)
		upci__irq_raise(si->owner, 0);
}

void sim_host_init(struct sim_inst *si)
{
	si->host.opaque = si;
	si->host.dma_translate = host_translate;
	si->host.dma_read = host_dma_read;
	si->host.dma_write = host_dma_write;
	si->host.msi = host_msi;
	si->host.intx = host_intx;
}

void sim_cfg_write(struct sim_inst *si, unsigned off, unsigned width, uint32_t val)
{
	model_cfg_write(si->m, off, width, val);
}

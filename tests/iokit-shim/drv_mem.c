/* SPDX-License-Identifier: MIT */
/*
 * IOConnectMapMemory64 in the driver model: the dext's
 * CopyClientMemoryForType (VFIOUserPCIDriver.cpp), then what xnu makes of
 * its answer. Each map is a new mapping of the same memory, as IOKit
 * gives: the DMA buffer (type 0) and the interrupt page (type 7) are
 * memfds, a BAR is the sim model's memory.
 *
 * The client's options count only inside kIOMapUserOptionsMask (xnu
 * IOUserClient.cpp IOUserClient::mapClientMemory64): its kIOMapReadOnly is
 * dropped; only the driver can make a mapping read-only
 * (IOUserServer.cpp IOUserUserClient::clientMemoryForType), and the dext
 * never does. Failures become kIOReturnBadArgument in iokit.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "device.h"
#include "shim.h"

/* What CopyClientMemoryForType hands out: @fd at @off, @len bytes. */
struct drv_memory {
	int fd;
	uint64_t off, len;
};

/*
 * A BAR, as the dext copies it: an unclaimed client gets the descriptor a
 * claimed one was given before (its g_barDescCache, kept until the
 * driver stops); otherwise it is _CopyDeviceMemoryWithIndex on behalf of
 * the opener, which IOPCIFamily (IOPCIDevice.cpp) refuses with
 * kIOReturnNotOpen while nobody has the device open, and answers with no
 * memory for an I/O BAR (kIOReturnUnsupported).
 */
static kern_return_t copy_bar(struct drv_client *c, unsigned bar, struct drv_memory *m)
{
	struct drv_dev *d = c->d;
	uint32_t flags = d->bar_mem_flags[bar];

	if (!d->bar_size[bar])
		return kIOReturnNotFound; /* GetBARInfo fails for it */
	if (c->claimed || !d->bar_cached[bar]) {
		if (!d->provider_open)
			return kIOReturnNotOpen;
		if (d->bar_type[bar] & DEXT_BAR_TYPE_IO)
			return kIOReturnUnsupported;
	}
	/* The shim's own limit: a sim BAR that is not plain memory (register
	 * BARs, edu's read-only register mirror) has nothing to share, as an
	 * IOPCIDevice with "no-user-memory-mapping" refuses (kIOReturnError).
	 * On a Mac every memory BAR maps. */
	if (!(flags & UPCI_BAR_MAPPABLE) || (flags & UPCI_BAR_MAP_RDONLY) ||
	    upci__bar_fd(d->sim, bar, &m->fd, &m->off) != 0)
		return kIOReturnError;
	m->len = d->bar_size[bar];
	d->bar_cached[bar] = 1;
	return kIOReturnSuccess;
}

static kern_return_t copy_memory(struct drv_client *c, uint32_t type, struct drv_memory *m)
{
	if (type == DEXT_MEM_DMA_BUFFER) {
		if (!c->buf)
			return kIOReturnNotReady;
		*m = (struct drv_memory){c->buf_fd, 0, c->buf_size};
		return kIOReturnSuccess;
	}
	if (type == DEXT_MEM_IRQ_STATE) {
		if (shim_faults & IOKIT_SHIM_NO_IRQ_PAGE)
			return kIOReturnUnsupported;
		if (!c->page)
			return kIOReturnNotReady;
		*m = (struct drv_memory){c->page_fd, 0, DEXT_IRQ_PAGE_SIZE};
		return kIOReturnSuccess;
	}
	if (type >= DEXT_MEM_BAR(0) && type <= DEXT_MEM_BAR(5))
		return copy_bar(c, type - DEXT_MEM_BAR(0), m);
	return kIOReturnUnsupported;
}

kern_return_t drv_map(struct drv_client *c, uint32_t type, IOOptionBits opts, mach_vm_address_t *at,
		      mach_vm_size_t *size)
{
	struct drv_mapping *mp;
	struct drv_memory m;
	kern_return_t kr;
	void *addr;

	if (!(opts & kIOMapAnywhere))
		return kIOReturnBadArgument; /* no fixed placement here */
	kr = copy_memory(c, type, &m);
	if (kr != kIOReturnSuccess)
		return kr;
	mp = calloc(1, sizeof(*mp));
	if (!mp)
		return kIOReturnNoMemory;
	addr = mmap(NULL, m.len, PROT_READ | PROT_WRITE, MAP_SHARED, m.fd, (off_t)m.off);
	if (addr == MAP_FAILED) {
		free(mp);
		return kIOReturnNoMemory;
	}
	mp->type = type;
	mp->addr = addr;
	mp->size = m.len;
	mp->next = c->maps;
	c->maps = mp;
	*at = (mach_vm_address_t)(uintptr_t)addr;
	*size = m.len;
	return kIOReturnSuccess;
}

static void drop(struct drv_mapping *m)
{
	munmap(m->addr, m->size);
	free(m);
}

kern_return_t drv_unmap(struct drv_client *c, uint32_t type, mach_vm_address_t at)
{
	struct drv_memory m;
	kern_return_t kr = copy_memory(c, type, &m);

	if (kr != kIOReturnSuccess)
		return kr;
	for (struct drv_mapping **pp = &c->maps; *pp; pp = &(*pp)->next) {
		struct drv_mapping *mp = *pp;

		if (mp->type == type && (mach_vm_address_t)(uintptr_t)mp->addr == at) {
			*pp = mp->next;
			drop(mp);
			return kIOReturnSuccess;
		}
	}
	return kIOReturnBadArgument;
}

void drv_unmap_all(struct drv_client *c)
{
	while (c->maps) {
		struct drv_mapping *m = c->maps;

		c->maps = m->next;
		drop(m);
	}
}

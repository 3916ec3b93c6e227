/* SPDX-License-Identifier: MIT */
/*
 * IOConnectMapMemory64 in the driver model. Each map is a new mapping of
 * the same memory, as IOKit gives: the DMA buffer (type 0) and the
 * interrupt page (type 7) are memfds; a RAM BAR is the sim model's memfd.
 * A read-only register mirror (edu's BAR0 in the sim) is offered only to a
 * kIOMapReadOnly request (kIOReturnNotWritable otherwise): on a Mac every
 * memory BAR maps read-write, the sim cannot do that for a mirror.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "device.h"
#include "shim.h"

static kern_return_t map_fd(int fd, uint64_t off, uint64_t size, int prot, void **addr)
{
	void *p = mmap(NULL, size, prot, MAP_SHARED, fd, (off_t)off);

	if (p == MAP_FAILED)
		return kIOReturnNoMemory;
	*addr = p;
	return kIOReturnSuccess;
}

static kern_return_t map_bar(struct drv_client *c, unsigned bar, int prot, int ro_asked, void **addr, int *owned)
{
	struct drv_dev *d = c->d;
	uint32_t flags = d->bar_mem_flags[bar];
	uint64_t off = 0;
	int fd = -1;

	if (!d->bar_size[bar])
		return kIOReturnNotFound; /* GetBARInfo fails for it */
	if ((d->bar_type[bar] & DEXT_BAR_TYPE_IO) || !(flags & UPCI_BAR_MAPPABLE))
		return kIOReturnUnsupported;
	if (flags & UPCI_BAR_MAP_RDONLY) {
		if (!ro_asked)
			return kIOReturnNotWritable;
		*addr = d->bar_ro[bar];
		*owned = 0;
		return kIOReturnSuccess;
	}
	if (upci__bar_fd(d->sim, bar, &fd, &off) != 0)
		return kIOReturnUnsupported;
	*owned = 1;
	return map_fd(fd, off, d->bar_size[bar], prot, addr);
}

kern_return_t drv_map(struct drv_client *c, uint32_t type, IOOptionBits opts, mach_vm_address_t *at,
		      mach_vm_size_t *size)
{
	int ro = !!(opts & kIOMapReadOnly), prot = ro ? PROT_READ : PROT_READ | PROT_WRITE, owned = 1;
	struct drv_mapping *m;
	uint64_t len = 0;
	void *addr = NULL;
	kern_return_t kr;

	if (!(opts & kIOMapAnywhere))
		return kIOReturnBadArgument; /* no fixed placement here */
	if (type == DEXT_MEM_DMA_BUFFER) {
		len = c->buf_size;
		kr = c->buf ? map_fd(c->buf_fd, 0, len, prot, &addr) : kIOReturnNotReady;
	} else if (type == DEXT_MEM_IRQ_STATE) {
		len = DEXT_IRQ_PAGE_SIZE;
		if (shim_faults & IOKIT_SHIM_NO_IRQ_PAGE)
			kr = kIOReturnUnsupported;
		else
			kr = c->page ? map_fd(c->page_fd, 0, len, prot, &addr) : kIOReturnNotReady;
	} else if (type >= DEXT_MEM_BAR(0) && type <= DEXT_MEM_BAR(5)) {
		len = c->d->bar_size[type - DEXT_MEM_BAR(0)];
		kr = map_bar(c, type - DEXT_MEM_BAR(0), prot, ro, &addr, &owned);
	} else {
		kr = kIOReturnUnsupported;
	}
	if (kr != kIOReturnSuccess)
		return kr;
	m = calloc(1, sizeof(*m));
	if (!m) {
		if (owned)
			munmap(addr, len);
		return kIOReturnNoMemory;
	}
	m->type = type;
	m->addr = addr;
	m->size = len;
	m->owned = owned;
	m->next = c->maps;
	c->maps = m;
	*at = (mach_vm_address_t)(uintptr_t)addr;
	*size = len;
	return kIOReturnSuccess;
}

static void drop(struct drv_mapping *m)
{
	if (m->owned)
		munmap(m->addr, m->size);
	free(m);
}

kern_return_t drv_unmap(struct drv_client *c, uint32_t type, mach_vm_address_t at)
{
	for (struct drv_mapping **pp = &c->maps; *pp; pp = &(*pp)->next) {
		struct drv_mapping *m = *pp;

		if (m->type == type && (mach_vm_address_t)(uintptr_t)m->addr == at) {
			*pp = m->next;
			drop(m);
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

/* SPDX-License-Identifier: MIT */
/*
 * DMA in the driver model. Registered regions: a table of 65,536 slots
 * keyed by IOVA (a hash over the slots), a duplicate key is StillOpen; a
 * region is split into 1.5 GiB chunks, each of which must come back from
 * the DART as one segment of its full length (else NotAligned), and the
 * first chunk's bus address is returned; any failure rolls back. The
 * chosen bus addresses are mapped into the sim device's IOMMU with
 * upci_dma_map(sim, bus, va, len), so the model's DMA translates. Every
 * region is mapped for both directions, as the dext creates every memory
 * descriptor kIOMemoryDirectionOutIn (VFIOUserPCIDriver.cpp
 * vfio_user_register_client_dma_region).
 *
 * A full DART fails PrepareForDMA with the DART mapper's code (xnu
 * IODMACommand.cpp prepare -> IOMemoryDescriptor::dmaMap ->
 * IOMapper::iovmMapMemory; IODARTMapper is not published), which the
 * dext passes on unchanged: d->dart_error, settable because the real one
 * is unknown. Also the driver-allocated DMA buffer (AllocateDMABuffer).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dma_guard.h"
#include "shim.h"

struct drv_chunk {
	struct dart_seg seg;
	uint64_t va;
};

struct drv_region {
	int used;
	int32_t next; /* hash chain, or the free list */
	uint64_t iova, va, size;
	unsigned nchunks;
	struct drv_chunk *chunk;
};

struct drv_dma {
	struct drv_region slot[DEXT_DMA_SLOTS];
	int32_t bucket[DEXT_DMA_SLOTS];
	int32_t free_head;
	unsigned live;
};

static uint64_t page_size(void)
{
	long ps = sysconf(_SC_PAGESIZE);

	return ps > 0 ? (uint64_t)ps : 4096;
}

int drv_sim_map(struct drv_dev *d, uint64_t bus, uint64_t va, uint64_t len, unsigned flags)
{
	uint64_t pg = page_size(), start = va & ~(pg - 1), end = (va + len + pg - 1) & ~(pg - 1), got = 0;

	/* The DART maps whole granules, so the bus address keeps the offset
	 * of va in its page: round both to the sim's pages. */
	return upci_dma_map(d->sim, bus - (va - start), (void *)(uintptr_t)start, end - start, flags, &got);
}

void drv_sim_unmap(struct drv_dev *d, uint64_t bus, uint64_t va)
{
	upci_dma_unmap(d->sim, bus - (va & (page_size() - 1)));
}

static uint32_t hash(uint64_t iova)
{
	return (uint32_t)((iova * UINT64_C(0x9e3779b97f4a7c15)) >> 48) & (DEXT_DMA_SLOTS - 1);
}

static struct drv_dma *table(struct drv_client *c)
{
	if (!c->dma) {
		c->dma = calloc(1, sizeof(*c->dma));
		if (!c->dma)
			return NULL;
		for (uint32_t i = 0; i < DEXT_DMA_SLOTS; i++) {
			c->dma->bucket[i] = -1;
			c->dma->slot[i].next = i + 1 < DEXT_DMA_SLOTS ? (int32_t)(i + 1) : -1;
		}
		c->dma->free_head = 0;
	}
	return c->dma;
}

static int32_t find(const struct drv_dma *t, uint64_t iova)
{
	for (int32_t i = t->bucket[hash(iova)]; i >= 0; i = t->slot[i].next)
		if (t->slot[i].iova == iova)
			return i;
	return -1;
}

static void release_chunks(struct drv_dev *d, struct drv_chunk *ch, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		drv_sim_unmap(d, ch[i].seg.bus, ch[i].va);
		dart_complete(d->dart, &ch[i].seg, 1);
	}
}

kern_return_t drv_dma_register(struct drv_client *c, uint64_t iova, uint64_t va, uint64_t size, uint64_t *bus,
			       uint64_t *bus_len)
{
	struct drv_dev *d = c->d;
	struct dart_seg seg[DEXT_DART_MAX_SEGMENTS];
	struct drv_chunk *ch;
	struct drv_region *r;
	struct drv_dma *t;
	uint64_t nchunks, done = 0, covered;
	kern_return_t kr = kIOReturnSuccess;
	int32_t s;

	if (!drv_provider_open(c))
		return kIOReturnNotOpen;
	if (size == 0 || va == 0)
		return kIOReturnBadArgument;
	t = table(c);
	if (!t)
		return kIOReturnNoMemory;
	if (find(t, iova) >= 0)
		return kIOReturnStillOpen;
	if (t->free_head < 0)
		return kIOReturnNoSpace;
	nchunks = (size + DEXT_DMA_CHUNK - 1) / DEXT_DMA_CHUNK;
	if (nchunks > DEXT_DMA_MAX_CHUNKS)
		return kIOReturnNoSpace;
	ch = calloc(nchunks, sizeof(*ch));
	if (!ch)
		return kIOReturnNoMemory;
	for (; done < nchunks; done++) {
		uint64_t off = done * DEXT_DMA_CHUNK, len = size - off < DEXT_DMA_CHUNK ? size - off : DEXT_DMA_CHUNK;
		int n = dart_prepare(d->dart, va + off, len, seg, DEXT_DART_MAX_SEGMENTS, &covered);

		if (n < 0) {
			kr = d->dart_error;
			break;
		}
		if (n != 1 || seg[0].len != len) {
			dart_complete(d->dart, seg, (unsigned)n);
			kr = kIOReturnNotAligned;
			break;
		}
		if (drv_sim_map(d, seg[0].bus, va + off, len, UPCI_DMA_RW) != 0) {
			dart_complete(d->dart, seg, 1);
			kr = kIOReturnDMAError;
			break;
		}
		ch[done].seg = seg[0];
		ch[done].va = va + off;
	}
	if (kr != kIOReturnSuccess) {
		release_chunks(d, ch, (unsigned)done);
		free(ch);
		return kr;
	}
	s = t->free_head;
	r = &t->slot[s];
	t->free_head = r->next;
	r->used = 1;
	r->iova = iova;
	r->va = va;
	r->size = size;
	r->nchunks = (unsigned)nchunks;
	r->chunk = ch;
	r->next = t->bucket[hash(iova)];
	t->bucket[hash(iova)] = s;
	t->live++;
	*bus = ch[0].seg.bus;
	*bus_len = ch[0].seg.len;
	return kIOReturnSuccess;
}

static void remove_slot(struct drv_client *c, struct drv_dma *t, int32_t s)
{
	struct drv_region *r = &t->slot[s];

	for (int32_t *pp = &t->bucket[hash(r->iova)]; *pp >= 0; pp = &t->slot[*pp].next)
		if (*pp == s) {
			*pp = r->next;
			break;
		}
	release_chunks(c->d, r->chunk, r->nchunks);
	free(r->chunk);
	memset(r, 0, sizeof(*r));
	r->next = t->free_head;
	t->free_head = s;
	t->live--;
}

kern_return_t drv_dma_unregister(struct drv_client *c, uint64_t iova)
{
	int32_t s = c->dma ? find(c->dma, iova) : -1;

	if (s < 0)
		return kIOReturnNotFound;
	remove_slot(c, c->dma, s);
	return kIOReturnSuccess;
}

kern_return_t drv_dma_probe(struct drv_client *c, uint64_t iova, uint64_t off, uint64_t *word)
{
	int32_t s = c->dma ? find(c->dma, iova) : -1;
	const struct drv_region *r;

	if (s < 0)
		return kIOReturnNotFound;
	r = &c->dma->slot[s];
	if (off > r->size || r->size - off < sizeof(*word))
		return kIOReturnOverrun;
	/* The "driver's own mapping" of the client pages: in this process
	 * it is the same memory, which can vanish under it (a shrunk file). */
	if (dma_guard_copy(word, (const void *)(uintptr_t)(r->va + off), sizeof(*word), NULL) != 0)
		return kIOReturnVMError;
	return kIOReturnSuccess;
}

void drv_dma_release_all(struct drv_client *c)
{
	if (!c->dma)
		return;
	for (int32_t s = 0; s < (int32_t)DEXT_DMA_SLOTS && c->dma->live; s++)
		if (c->dma->slot[s].used)
			remove_slot(c, c->dma, s);
}

unsigned drv_dma_count(const struct drv_client *c)
{
	return c->dma ? c->dma->live : 0;
}

/* ---- the driver-allocated buffer ---- */

kern_return_t drv_buf_alloc(struct drv_client *c, uint64_t size, uint64_t align)
{
	struct drv_dev *d = c->d;
	uint64_t covered = 0, at = 0, mapped;
	int n;

	if (!drv_provider_open(c))
		return kIOReturnNotOpen;
	if (size == 0 || size > DEXT_DMA_CHUNK)
		return kIOReturnBadArgument;
	if (align == 0)
		align = DEXT_DMA_ALIGN_DEFAULT;
	if (align & (align - 1))
		return kIOReturnBadArgument;
	if (align > DEXT_DART_GRANULE)
		return kIOReturnUnsupported; /* a shim limit: mmap aligns to the page */
	drv_buf_free(c);
	mapped = (size + page_size() - 1) & ~(page_size() - 1);
	c->buf_fd = memfd_create("dext-dma-buffer", MFD_CLOEXEC);
	if (c->buf_fd < 0 || ftruncate(c->buf_fd, (off_t)mapped) != 0)
		goto nomem;
	c->buf = mmap(NULL, mapped, PROT_READ | PROT_WRITE, MAP_SHARED, c->buf_fd, 0);
	if (c->buf == MAP_FAILED) {
		c->buf = NULL;
		goto nomem;
	}
	c->buf_size = size;
	n = dart_prepare(d->dart, (uint64_t)(uintptr_t)c->buf, size, c->buf_seg, DEXT_DART_MAX_SEGMENTS, &covered);
	if (n < 0 || covered != size) {
		if (n > 0)
			dart_complete(d->dart, c->buf_seg, (unsigned)n);
		drv_buf_free(c);
		return d->dart_error;
	}
	c->buf_nseg = (unsigned)n;
	for (int i = 0; i < n; i++) {
		drv_sim_map(d, c->buf_seg[i].bus, (uint64_t)(uintptr_t)c->buf + at, c->buf_seg[i].len, UPCI_DMA_RW);
		at += c->buf_seg[i].len;
	}
	return kIOReturnSuccess;
nomem:
	drv_buf_free(c);
	return kIOReturnNoMemory;
}

void drv_buf_free(struct drv_client *c)
{
	uint64_t at = 0;

	for (unsigned i = 0; i < c->buf_nseg; i++) {
		drv_sim_unmap(c->d, c->buf_seg[i].bus, (uint64_t)(uintptr_t)c->buf + at);
		at += c->buf_seg[i].len;
	}
	if (c->buf_nseg)
		dart_complete(c->d->dart, c->buf_seg, c->buf_nseg);
	c->buf_nseg = 0;
	if (c->buf)
		munmap(c->buf, (c->buf_size + page_size() - 1) & ~(page_size() - 1));
	c->buf = NULL;
	c->buf_size = 0;
	if (c->buf_fd >= 0)
		close(c->buf_fd);
	c->buf_fd = -1;
}

/* SPDX-License-Identifier: MIT */
/*
 * testdev DMA engine: a list of memcpy descriptors in client memory.
 *
 * Every descriptor is copied out of client memory once before it is looked
 * at (the client may change it concurrently), every address is checked for
 * wrap-around before the host sees it, and a copy touches only BAR2 (after
 * an explicit bounds check) or host-translated memory, always through
 * upci_model_dma_copy (client memory can vanish under its mapping). One run
 * moves at most TESTDEV_MAX_RUN_BYTES: the work one register write buys
 * is bounded.
 */
#include "testdev_dma.h"

#include <errno.h>
#include <string.h>

#include "testdev_regs.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "testdev descriptors are little-endian; add byte swapping for this host"
#endif

/* One end of a copy: a pointer when it resolved in one piece, else a bus
 * address to move in chunks through upci_model_dma_read/write. */
struct side {
	uint8_t *ptr;
	uint64_t bus;
	int bar2;
};

/* Resolve one end; returns 0 or the fault code to report. */
static uint32_t resolve(const struct testdev_dma_ctx *c, uint64_t addr, int bar2, uint32_t len, unsigned need,
			struct side *s)
{
	uint32_t bad = need == UPCI_DMA_READ ? TESTDEV_FAULT_SRC : TESTDEV_FAULT_DST;

	s->bus = addr;
	s->bar2 = bar2;
	s->ptr = NULL;
	if (bar2) {
		if (addr > c->bar2_size || len > c->bar2_size - addr)
			return TESTDEV_FAULT_BAR2;
		s->ptr = c->bar2 + addr;
		return 0;
	}
	/* len >= 1 here: the last byte must not wrap past 2^64. */
	if (addr > UINT64_MAX - (len - 1))
		return bad;
	s->ptr = upci_model_dma_translate(c->m, addr, len, need);
	if (s->ptr)
		return 0;
	/* The chunked path can still succeed if the range spans regions. */
	if (!c->bounce || c->bounce_size == 0)
		return bad;
	return 0;
}

/* Which end a fault at @bad hit: SRC when it lies in the source. */
static uint32_t fault_side(const void *bad, const struct side *src, uint64_t len)
{
	uintptr_t a = (uintptr_t)bad, s = (uintptr_t)src->ptr;

	return src->ptr && a >= s && a - s < len ? TESTDEV_FAULT_SRC : TESTDEV_FAULT_DST;
}

/* Slow path: at least one end needs upci_model_dma_read/write. */
static uint32_t copy_chunked(const struct testdev_dma_ctx *c, const struct side *src, const struct side *dst,
			     uint64_t len)
{
	/* Overlapping bus ranges with dst above src: copy from the end, as
	 * memmove would, so the source is read before it is overwritten. */
	int backward = !src->bar2 && !dst->bar2 && dst->bus > src->bus && dst->bus - src->bus < len;
	uint64_t done = 0;

	/* Bounded: len <= TESTDEV_MAX_LEN, and each pass moves >= 1 byte. */
	while (done < len) {
		uint64_t n = len - done < c->bounce_size ? len - done : c->bounce_size;
		uint64_t o = backward ? len - done - n : done;

		if (src->ptr ? upci_model_dma_copy(c->bounce, src->ptr + o, n, NULL) != 0
			     : upci_model_dma_read(c->m, src->bus + o, c->bounce, n) != 0)
			return TESTDEV_FAULT_SRC;
		if (dst->ptr ? upci_model_dma_copy(dst->ptr + o, c->bounce, n, NULL) != 0
			     : upci_model_dma_write(c->m, dst->bus + o, c->bounce, n) != 0)
			return TESTDEV_FAULT_DST;
		done += n;
	}
	return 0;
}

/* @left: bytes this run may still move (TESTDEV_MAX_RUN_BYTES in all). */
static uint32_t copy_one(const struct testdev_dma_ctx *c, const struct testdev_desc *d, uint64_t left)
{
	struct side src, dst;
	const void *bad = NULL;
	uint32_t f;

	if (d->flags & TESTDEV_DESC_F_RESERVED)
		return TESTDEV_FAULT_FLAGS;
	if (d->len == 0 || d->len > TESTDEV_MAX_LEN)
		return TESTDEV_FAULT_LEN;
	if (d->len > left)
		return TESTDEV_FAULT_BUDGET;
	if ((d->flags & TESTDEV_DESC_F_IRQ) &&
	    ((d->flags & TESTDEV_DESC_F_VEC_MASK) >> TESTDEV_DESC_F_VEC_SHIFT) >= c->nvec)
		return TESTDEV_FAULT_VECTOR;
	f = resolve(c, d->src, !!(d->flags & TESTDEV_DESC_F_SRC_BAR2), d->len, UPCI_DMA_READ, &src);
	if (f)
		return f;
	f = resolve(c, d->dst, !!(d->flags & TESTDEV_DESC_F_DST_BAR2), d->len, UPCI_DMA_WRITE, &dst);
	if (f)
		return f;
	if (!src.ptr || !dst.ptr)
		return copy_chunked(c, &src, &dst, d->len);
	/* The fast path: one guarded copy, overlap allowed (a client may map
	 * the same memory at two bus addresses). A fault is memory that
	 * vanished under its mapping (the file shrank). */
	if (upci_model_dma_copy(dst.ptr, src.ptr, d->len, &bad) != 0)
		return fault_side(bad, &src, d->len);
	return 0;
}

void testdev_dma_run(const struct testdev_dma_ctx *c, uint64_t list, uint32_t count, struct testdev_dma_result *r)
{
	r->done = 0;
	r->bytes = 0;
	r->fault = 0;
	r->fault_desc = UINT32_MAX;
	if (count == 0 || count > TESTDEV_MAX_DESC) {
		r->fault = TESTDEV_FAULT_DESC_COUNT;
		return;
	}
	/* The whole list must not wrap: checked once so that list + 32 * i
	 * below cannot overflow. */
	if (list > UINT64_MAX - ((uint64_t)count * TESTDEV_DESC_SIZE - 1)) {
		r->fault = TESTDEV_FAULT_DESC_ADDR;
		r->fault_desc = 0;
		return;
	}
	for (uint32_t i = 0; i < count; i++) {
		uint64_t at = list + (uint64_t)i * TESTDEV_DESC_SIZE;
		struct testdev_desc d;
		uint32_t f, st;

		if (upci_model_dma_read(c->m, at, &d, sizeof(d)) != 0) {
			r->fault = TESTDEV_FAULT_DESC_ADDR;
			r->fault_desc = i;
			return;
		}
		f = copy_one(c, &d, TESTDEV_MAX_RUN_BYTES - r->bytes);
		if (f) {
			/* Best effort: the list may be read-only or gone. */
			st = TESTDEV_DESC_ST_ERROR | (f << TESTDEV_DESC_ST_FAULT_SHIFT);
			(void)upci_model_dma_write(c->m, at + TESTDEV_DESC_STATUS, &st, sizeof(st));
			r->fault = f;
			r->fault_desc = i;
			return;
		}
		r->bytes += d.len;
		st = TESTDEV_DESC_ST_DONE;
		if (upci_model_dma_write(c->m, at + TESTDEV_DESC_STATUS, &st, sizeof(st)) != 0) {
			/* The copy happened but the driver cannot learn it. */
			r->fault = TESTDEV_FAULT_WRITEBACK;
			r->fault_desc = i;
			return;
		}
		r->done++;
		if ((d.flags & TESTDEV_DESC_F_IRQ) && c->fire)
			c->fire(c->opaque, (d.flags & TESTDEV_DESC_F_VEC_MASK) >> TESTDEV_DESC_F_VEC_SHIFT);
	}
}

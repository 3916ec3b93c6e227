/* SPDX-License-Identifier: MIT */
/*
 * BARs of a model: register BARs (callbacks, maybe with a read-only
 * mirror the driver can map), RAM BARs (a sealed memfd the driver maps
 * read-write), and the MSI-X table and PBA that upci keeps inside a
 * register BAR. Every access from the bus is checked here once more
 * (width, alignment, bounds) before a callback sees it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "model.h"

#define BAR_MAX_SIZE    (1ull << 30)
#define BAR_MIN_MEM     16u
#define BAR_MIN_IO      4u
#define BAR_MAX_IO      256u
#define BAR_MIN_MAPPED  4096u
/* MSI-X message address bits 1:0 are zero (dword aligned). */
#define MSIX_ADDR_LO_MASK 0xfffffffcu


/* ---- storage ---- */

static int mem_alloc(struct model_bar *b, const char *name, uint64_t size)
{
	void *mem;
	int fd = -1;

#ifdef __linux__
	/* A memfd lets the BAR be shared with another process (upci serve).
	 * Its size is sealed: whoever gets the fd must not be able to shrink
	 * it under our mapping (SIGBUS) or grow it without bound. */
	fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) != 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
#else
	(void)name;
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANON, -1, 0);
#endif
	if (mem == MAP_FAILED) {
		int e = -errno;
		if (fd >= 0)
			close(fd);
		return e;
	}
	b->fd = fd;
	b->mem = mem;
	return 0;
}

void model_bars_free(struct upci_model *m)
{
	for (unsigned i = 0; i < UPCI_NUM_BARS; i++) {
		struct model_bar *b = &m->bars[i];

		if (b->mem)
			munmap(b->mem, b->size);
		if (b->fd >= 0)
			close(b->fd);
		b->mem = NULL;
		b->fd = -1;
	}
	free(m->msix.table);
	free(m->msix.pba);
	m->msix.table = NULL;
	m->msix.pba = NULL;
}

void model_bars_zero_ram(struct upci_model *m)
{
	for (unsigned i = 0; i < UPCI_NUM_BARS; i++) {
		struct model_bar *b = &m->bars[i];

		if (b->kind != MODEL_BAR_RAM || !b->mem)
			continue;
#ifdef MADV_REMOVE
		/* Frees the memfd pages instead of touching up to 1 GiB; every
		 * mapping of the memfd then reads zeros. */
		if (madvise(b->mem, b->size, MADV_REMOVE) == 0)
			continue;
#endif
		memset(b->mem, 0, b->size);
	}
}

/* ---- declaring BARs (create only) ---- */

static int bar_declare(upci_model *m, unsigned bar, uint64_t size, unsigned flags, enum model_bar_kind kind)
{
	int io = !!(flags & UPCI_BAR_IO), is64 = !!(flags & UPCI_BAR_MEM64);
	int mapped = kind == MODEL_BAR_RAM || (flags & UPCI_MODEL_BAR_MIRROR);
	unsigned allowed = kind == MODEL_BAR_RAM ? (UPCI_BAR_MEM64 | UPCI_BAR_PREFETCH)
						 : (UPCI_BAR_IO | UPCI_BAR_MEM64 | UPCI_BAR_PREFETCH | UPCI_MODEL_BAR_MIRROR);
	struct model_bar *b;
	char name[64];
	int ret;

	if (!m)
		return -EINVAL;
	if (!m->building)
		return -EBUSY;
	if (bar >= UPCI_NUM_BARS || (flags & ~allowed) || (is64 && bar + 1 >= UPCI_NUM_BARS))
		return -EINVAL;
	if (io && (flags & (UPCI_BAR_MEM64 | UPCI_BAR_PREFETCH | UPCI_MODEL_BAR_MIRROR)))
		return -EINVAL;
	if (size == 0 || (size & (size - 1)) || size > (io ? BAR_MAX_IO : BAR_MAX_SIZE) ||
	    size < (io ? BAR_MIN_IO : mapped ? BAR_MIN_MAPPED : BAR_MIN_MEM))
		return -EINVAL;
	if (m->bars[bar].kind != MODEL_BAR_NONE || (is64 && m->bars[bar + 1].kind != MODEL_BAR_NONE))
		return -EEXIST;
	b = &m->bars[bar];
	if (mapped) {
		snprintf(name, sizeof(name), "upci-%s-bar%u", m->ops->name, bar);
		ret = mem_alloc(b, name, size);
		if (ret)
			return ret;
	}
	b->kind = kind;
	b->size = size;
	b->flags = UPCI_BAR_PRESENT | (flags & (UPCI_BAR_IO | UPCI_BAR_MEM64 | UPCI_BAR_PREFETCH));
	if (mapped)
		b->flags |= UPCI_BAR_MAPPABLE;
	if (flags & UPCI_MODEL_BAR_MIRROR)
		b->flags |= UPCI_BAR_MAP_RDONLY;
	if (is64)
		m->bars[bar + 1].kind = MODEL_BAR_UPPER;
	cfgspace_set_bar(&m->cfg, bar, size, b->flags);
	return 0;
}

int upci_model_bar_regs(upci_model *m, unsigned bar, uint64_t size, unsigned flags, upci_model_read_fn rd,
			upci_model_write_fn wr)
{
	int ret = bar_declare(m, bar, size, flags, MODEL_BAR_REGS);

	if (ret == 0) {
		m->bars[bar].read = rd;
		m->bars[bar].write = wr;
	}
	return ret;
}

int upci_model_bar_ram(upci_model *m, unsigned bar, uint64_t size, unsigned flags)
{
	return bar_declare(m, bar, size, flags, MODEL_BAR_RAM);
}

void *upci_model_bar_mem(const upci_model *m, unsigned bar)
{
	return m && bar < UPCI_NUM_BARS ? m->bars[bar].mem : NULL;
}

const struct model_bar *model_bar_get(const struct upci_model *m, unsigned bar)
{
	return bar < UPCI_NUM_BARS ? &m->bars[bar] : NULL;
}

/* ---- MSI-X ---- */

static int range_in_bar(const struct upci_model *m, unsigned bar, uint64_t off, uint64_t len)
{
	return bar < UPCI_NUM_BARS && m->bars[bar].kind == MODEL_BAR_REGS && off <= m->bars[bar].size &&
	       len <= m->bars[bar].size - off && (off & 7) == 0 && off <= PCI_MSIX_OFFSET_MASK;
}

int upci_model_add_msix(upci_model *m, unsigned off, unsigned nvec, unsigned table_bar, uint64_t table_off,
			unsigned pba_bar, uint64_t pba_off)
{
	uint64_t tlen = (uint64_t)nvec * PCI_MSIX_ENTRY_SIZE, plen = MODEL_PBA_BYTES(nvec);
	struct msix_state *x;
	unsigned c;
	int at;

	if (!m)
		return -EINVAL;
	if (!m->building)
		return -EBUSY;
	if (nvec == 0 || nvec > UPCI_MAX_VECTORS || !range_in_bar(m, table_bar, table_off, tlen) ||
	    !range_in_bar(m, pba_bar, pba_off, plen))
		return -EINVAL;
	if (table_bar == pba_bar && table_off < pba_off + plen && pba_off < table_off + tlen)
		return -EINVAL;
	if (m->msix.cap)
		return -EEXIST;
	x = &m->msix;
	x->table = calloc(1, (size_t)tlen);
	x->pba = calloc(1, (size_t)plen);
	if (!x->table || !x->pba) {
		free(x->table);
		free(x->pba);
		x->table = NULL;
		x->pba = NULL;
		return -ENOMEM;
	}
	at = upci_model_add_cap(m, PCI_CAP_ID_MSIX, off, PCI_MSIX_SIZEOF);
	if (at < 0) {
		free(x->table);
		free(x->pba);
		x->table = NULL;
		x->pba = NULL;
		return at;
	}
	c = (unsigned)at;
	cfgspace_put(&m->cfg, c + PCI_MSIX_FLAGS, 2, (nvec - 1) & PCI_MSIX_FLAGS_QSIZE);
	cfgspace_set_wmask(&m->cfg, c + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	cfgspace_put(&m->cfg, c + PCI_MSIX_TABLE, 4, (uint32_t)table_off | table_bar);
	cfgspace_put(&m->cfg, c + PCI_MSIX_PBA, 4, (uint32_t)pba_off | pba_bar);
	/* The fast path's one compare: the span of the table and the PBA in
	 * each BAR that holds one. */
	for (unsigned bar = 0; bar < UPCI_NUM_BARS; bar++) {
		uint64_t lo = UINT64_MAX, hi = 0;

		if (bar == table_bar) {
			lo = table_off;
			hi = table_off + tlen;
		}
		if (bar == pba_bar) {
			lo = pba_off < lo ? pba_off : lo;
			hi = pba_off + plen > hi ? pba_off + plen : hi;
		}
		if (hi > lo) {
			m->bars[bar].trap_lo = lo;
			m->bars[bar].trap_len = hi - lo;
		}
	}
	x->cap = c;
	x->nvec = nvec;
	x->table_bar = table_bar;
	x->table_off = table_off;
	x->pba_bar = pba_bar;
	x->pba_off = pba_off;
	model_msix_reset(m);
	return at;
}

static int in_table(const struct upci_model *m, unsigned bar, uint64_t off)
{
	const struct msix_state *x = &m->msix;

	return x->cap && bar == x->table_bar && off >= x->table_off &&
	       off - x->table_off < (uint64_t)x->nvec * PCI_MSIX_ENTRY_SIZE;
}

static int in_pba(const struct upci_model *m, unsigned bar, uint64_t off)
{
	const struct msix_state *x = &m->msix;

	return x->cap && bar == x->pba_bar && off >= x->pba_off && off - x->pba_off < MODEL_PBA_BYTES(x->nvec);
}

static void table_write32(struct upci_model *m, uint64_t off, uint32_t v)
{
	unsigned field = (unsigned)(off % PCI_MSIX_ENTRY_SIZE);
	uint32_t old;

	memcpy(&old, m->msix.table + off, 4);
	if (field == PCI_MSIX_ENTRY_ADDR_LO)
		v &= MSIX_ADDR_LO_MASK;
	else if (field == PCI_MSIX_ENTRY_CTRL)
		v &= PCI_MSIX_ENTRY_CTRL_MASKBIT; /* other bits reserved */
	memcpy(m->msix.table + off, &v, 4);
	/* An unmask may make a latched vector deliverable now. */
	if (field == PCI_MSIX_ENTRY_CTRL && (old & PCI_MSIX_ENTRY_CTRL_MASKBIT) && !(v & PCI_MSIX_ENTRY_CTRL_MASKBIT))
		model_msix_replay(m);
}

/* ---- access from the bus ---- */

int model_msix_read(struct upci_model *m, unsigned bar, uint64_t off, unsigned width, uint64_t *val)
{
	uint64_t v = 0;

	if (in_table(m, bar, off)) {
		if (width != 4 && width != 8)
			return -EINVAL;
		memcpy(&v, m->msix.table + (off - m->msix.table_off), width);
		*val = v;
		return 0;
	}
	if (in_pba(m, bar, off)) {
		uint64_t rel = off - m->msix.pba_off, w = m->msix.pba[rel / 8];

		if (width != 4 && width != 8)
			return -EINVAL;
		*val = width == 8 ? w : (uint32_t)(w >> (8 * (rel % 8)));
		return 0;
	}
	return 1; /* between them: the BAR's own */
}

int model_msix_write(struct upci_model *m, unsigned bar, uint64_t off, unsigned width, uint64_t val)
{
	if (in_table(m, bar, off)) {
		uint64_t rel = off - m->msix.table_off;

		if (width != 4 && width != 8)
			return -EINVAL;
		table_write32(m, rel, (uint32_t)val);
		if (width == 8)
			table_write32(m, rel + 4, (uint32_t)(val >> 32));
		return 0;
	}
	if (in_pba(m, bar, off))
		return width == 4 || width == 8 ? 0 : -EINVAL; /* read-only */
	return 1;
}

int model_bar_read(struct upci_model *m, unsigned bar, uint64_t off, unsigned width, uint64_t *val)
{
	return val ? model_bar_read_inline(m, bar, off, width, val) : -EINVAL;
}

int model_bar_write(struct upci_model *m, unsigned bar, uint64_t off, unsigned width, uint64_t val)
{
	return model_bar_write_inline(m, bar, off, width, val);
}

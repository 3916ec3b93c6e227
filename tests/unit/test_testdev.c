/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the testdev model against a fake model_host: a few regions
 * of memory at bus addresses (guard bytes around each), bounds- and
 * permission-checked translation, and a bitmap of delivered MSI-X vectors.
 * Expected values come from testdev_regs.h and docs/models/testdev.md.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>

#include <cmocka.h>

#include "model.h"
#include "pci_regs.h"
#include "testdev_regs.h"
#include "upci/upci.h"


/* ---- fake host ---- */

#define GUARD 4096u
#define GUARD_BYTE 0xa5u

enum { R_DESC, R_SRC, R_DST, R_RO, R_TOP, R_NUM };

struct region {
	uint64_t bus, size;
	unsigned perm;
	uint8_t *alloc; /* GUARD | size | GUARD */
	uint8_t *mem;
};

static struct fake {
	struct region r[R_NUM];
	uint64_t msi[4];
	unsigned msi_calls;
	int sloppy; /* translate ignores len: the model's own checks must hold */
} F;

#define DESC_BUS 0x00010000ull /* 128 KiB: room for TESTDEV_MAX_DESC */
#define SRC_BUS  0x00100000ull /* 1 MiB */
#define DST_BUS  0x00200000ull /* 1 MiB, adjacent to SRC */
#define RO_BUS   0x00400000ull /* 64 KiB, device may only read */
#define HOLE_BUS 0x05000000ull /* nothing mapped */
#define TOP_BUS  0xfffffffffffff000ull /* the last page of the bus */

static const struct region layout[R_NUM] = {
	[R_DESC] = {DESC_BUS, 128 * 1024, UPCI_DMA_RW, NULL, NULL},
	[R_SRC] = {SRC_BUS, 1 << 20, UPCI_DMA_RW, NULL, NULL},
	[R_DST] = {DST_BUS, 1 << 20, UPCI_DMA_RW, NULL, NULL},
	[R_RO] = {RO_BUS, 64 * 1024, UPCI_DMA_READ, NULL, NULL},
	[R_TOP] = {TOP_BUS, 4096, UPCI_DMA_RW, NULL, NULL},
};

static struct region *find(uint64_t bus, unsigned need)
{
	for (unsigned i = 0; i < R_NUM; i++) {
		struct region *r = &F.r[i];

		if (bus >= r->bus && bus - r->bus < r->size && (r->perm & need) == need)
			return r;
	}
	return NULL;
}

static void *fake_translate(void *opaque, uint64_t bus, uint64_t len, unsigned need)
{
	struct region *r = find(bus, need);

	(void)opaque;
	if (!r || len == 0 || (!F.sloppy && len > r->size - (bus - r->bus)))
		return NULL;
	return r->mem + (bus - r->bus);
}

/* Copy across adjacent regions, as the sim IOMMU does. */
static int fake_move(uint64_t bus, uint8_t *buf, uint64_t len, unsigned need)
{
	for (unsigned guard = 0; len > 0; guard++) {
		struct region *r = find(bus, need);
		uint64_t n;

		if (!r || guard > R_NUM)
			return -EFAULT;
		n = r->size - (bus - r->bus);
		if (n > len)
			n = len;
		if (need == UPCI_DMA_READ)
			memcpy(buf, r->mem + (bus - r->bus), n);
		else
			memcpy(r->mem + (bus - r->bus), buf, n);
		bus += n;
		buf += n;
		len -= n;
	}
	return 0;
}

static int fake_read(void *opaque, uint64_t bus, void *buf, uint64_t len)
{
	(void)opaque;
	return fake_move(bus, buf, len, UPCI_DMA_READ);
}

static int fake_write(void *opaque, uint64_t bus, const void *buf, uint64_t len)
{
	(void)opaque;
	return fake_move(bus, (uint8_t *)(uintptr_t)buf, len, UPCI_DMA_WRITE);
}

static void fake_msi(void *opaque, unsigned vec)
{
	(void)opaque;
	assert_true(vec < 256);
	F.msi[vec / 64] |= 1ull << (vec % 64);
	F.msi_calls++;
}

static struct model_host host_full = {
	.opaque = &F,
	.dma_translate = fake_translate,
	.dma_read = fake_read,
	.dma_write = fake_write,
	.msi = fake_msi,
};

static struct model_host host_translate_only = {
	.opaque = &F,
	.dma_translate = fake_translate,
	.msi = fake_msi,
};

static int msi_seen(unsigned v)
{
	return !!(F.msi[v / 64] & (1ull << (v % 64)));
}

static uint8_t *at(unsigned region, uint64_t off)
{
	return F.r[region].mem + off;
}

static void guards_intact(void)
{
	for (unsigned i = 0; i < R_NUM; i++) {
		const uint8_t *a = F.r[i].alloc;
		const uint8_t *b = F.r[i].mem + F.r[i].size;

		for (unsigned k = 0; k < GUARD; k++) {
			assert_int_equal(a[k], GUARD_BYTE);
			assert_int_equal(b[k], GUARD_BYTE);
		}
	}
}

static int setup(void **state)
{
	(void)state;
	memset(&F, 0, sizeof(F));
	for (unsigned i = 0; i < R_NUM; i++) {
		F.r[i] = layout[i];
		F.r[i].alloc = malloc(F.r[i].size + 2 * GUARD);
		if (!F.r[i].alloc)
			return -1;
		memset(F.r[i].alloc, GUARD_BYTE, F.r[i].size + 2 * GUARD);
		F.r[i].mem = F.r[i].alloc + GUARD;
		memset(F.r[i].mem, 0, F.r[i].size);
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (unsigned i = 0; i < R_NUM; i++)
		free(F.r[i].alloc);
	return 0;
}

/* ---- model helpers ---- */

/* "k=v,k=v" -> params; NULL for none. */
static int mk_host(const struct model_host *h, const char *query, struct upci_model **out)
{
	struct upci_model_params p = {0};
	char buf[256];
	char *save = NULL;

	if (query) {
		snprintf(buf, sizeof(buf), "%s", query);
		for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
			char *eq = strchr(kv, '=');

			assert_non_null(eq);
			*eq = '\0';
			snprintf(p.u.p[p.u.n].key, sizeof(p.u.p[p.u.n].key), "%s", kv);
			snprintf(p.u.p[p.u.n].val, sizeof(p.u.p[p.u.n].val), "%s", eq + 1);
			p.u.n++;
		}
	}
	return model_create(&model_testdev_ops, NULL, h, query ? &p : NULL, out);
}

static struct upci_model *mk(const char *query)
{
	struct upci_model *m = NULL;

	assert_int_equal(mk_host(&host_full, query, &m), 0);
	assert_non_null(m);
	return m;
}

static uint64_t rd(struct upci_model *m, uint64_t off)
{
	uint64_t v = 0xdeadull;

	assert_int_equal(model_bar_read(m, TESTDEV_BAR_REGS, off, 4, &v), 0);
	return v;
}

static uint64_t rd8(struct upci_model *m, uint64_t off)
{
	uint64_t v = 0xdeadull;

	assert_int_equal(model_bar_read(m, TESTDEV_BAR_REGS, off, 8, &v), 0);
	return v;
}

static void wr(struct upci_model *m, uint64_t off, uint64_t v)
{
	assert_int_equal(model_bar_write(m, TESTDEV_BAR_REGS, off, 4, v), 0);
}

static uint32_t cfg_rd(struct upci_model *m, unsigned off, unsigned w)
{
	return cfgspace_read(&m->cfg, off, w);
}

/* What the sim backend does for a config write. */
static void cfg_wr(struct upci_model *m, unsigned off, unsigned w, uint32_t v)
{
	model_cfg_write(m, off, w, v);
}

static void msix_ctl(struct upci_model *m, uint16_t v)
{
	/* MSI-X messages need Bus Master Enable. */
	cfg_wr(m, PCI_COMMAND, 2, cfg_rd(m, PCI_COMMAND, 2) | PCI_COMMAND_MASTER);
	cfg_wr(m, TESTDEV_CAP_MSIX + PCI_MSIX_FLAGS, 2, v);
}

static uint64_t entry(unsigned v, unsigned field)
{
	return TESTDEV_MSIX_TABLE + (uint64_t)v * PCI_MSIX_ENTRY_SIZE + field;
}

static void set_mask(struct upci_model *m, unsigned v, int masked)
{
	wr(m, entry(v, PCI_MSIX_ENTRY_CTRL), masked ? PCI_MSIX_ENTRY_CTRL_MASKBIT : 0);
}

static int pba_bit(struct upci_model *m, unsigned v)
{
	return !!(rd8(m, TESTDEV_MSIX_PBA + (v / 64) * 8) & (1ull << (v % 64)));
}

static void master_on(struct upci_model *m)
{
	cfg_wr(m, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

static struct testdev_desc *desc_at(unsigned region, unsigned i)
{
	return (struct testdev_desc *)(void *)at(region, (uint64_t)i * TESTDEV_DESC_SIZE);
}

static void put_desc(unsigned region, unsigned i, uint64_t src, uint64_t dst, uint32_t len, uint32_t flags)
{
	struct testdev_desc *d = desc_at(region, i);

	d->src = src;
	d->dst = dst;
	d->len = len;
	d->flags = flags;
	d->status = 0xeeeeeeeeu; /* sentinel: "the device did not write" */
	d->reserved = 0;
}

static void run(struct upci_model *m, uint64_t list, uint32_t count, uint32_t ctrl)
{
	wr(m, TESTDEV_REG_DESC_ADDR, (uint32_t)list);
	wr(m, TESTDEV_REG_DESC_ADDR_HI, (uint32_t)(list >> 32));
	wr(m, TESTDEV_REG_DESC_COUNT, count);
	wr(m, TESTDEV_REG_CTRL, ctrl | TESTDEV_CTRL_START);
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

static uint8_t *bar2(struct upci_model *m)
{
	return m->bars[TESTDEV_BAR_MEM].mem;
}

/* ---- identity and config space ---- */

static void test_ops(void **state)
{
	(void)state;
	assert_string_equal(model_testdev_ops.name, "testdev");
	assert_int_equal(model_testdev_ops.api_version, UPCI_MODEL_API_VERSION);
	assert_non_null(model_testdev_ops.create);
	assert_non_null(model_testdev_ops.reset);
}

static void test_ids(void **state)
{
	struct upci_model *m = mk(NULL);

	(void)state;
	assert_int_equal(m->cfg.size, 4096);
	assert_int_equal(cfg_rd(m, PCI_VENDOR_ID, 4), 0x10f01af4u);
	assert_int_equal(cfg_rd(m, PCI_SUBSYSTEM_VENDOR_ID, 4), 0x10f01af4u);
	assert_int_equal(cfg_rd(m, PCI_REVISION_ID, 4), 0xff000001u); /* class ff0000, rev 1 */
	assert_int_equal(cfg_rd(m, PCI_HEADER_TYPE, 1), 0);
	assert_int_equal(cfg_rd(m, PCI_INTERRUPT_PIN, 1), 0);
	assert_true(cfg_rd(m, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	assert_int_equal(model_has_flr(m), 1);
	/* IDs are read-only. */
	cfg_wr(m, PCI_VENDOR_ID, 4, 0);
	assert_int_equal(cfg_rd(m, PCI_VENDOR_ID, 4), 0x10f01af4u);
	model_destroy(m);
}

static void test_caps(void **state)
{
	struct upci_model *m = mk(NULL);
	static const unsigned want_off[] = {0x40, 0x50, 0x60};
	static const unsigned want_id[] = {PCI_CAP_ID_PM, PCI_CAP_ID_MSIX, PCI_CAP_ID_EXP};
	unsigned p = cfg_rd(m, PCI_CAPABILITY_LIST, 1), n = 0;
	uint32_t h;

	(void)state;
	for (; p && n < 48; n++) {
		assert_true(n < 3);
		assert_int_equal(p, want_off[n]);
		assert_int_equal(cfg_rd(m, p + PCI_CAP_LIST_ID, 1), want_id[n]);
		p = cfg_rd(m, p + PCI_CAP_LIST_NEXT, 1);
	}
	assert_int_equal(n, 3);

	assert_int_equal(cfg_rd(m, 0x40 + PCI_PM_PMC, 2) & PCI_PM_PMC_VERSION_MASK, 3);
	assert_int_equal(cfg_rd(m, 0x40 + PCI_PM_CTRL, 2), PCI_PM_CTRL_NO_SOFT_RESET);
	assert_int_equal(cfg_rd(m, 0x50 + PCI_MSIX_FLAGS, 2), 31); /* 32 vectors, off */
	assert_int_equal(cfg_rd(m, 0x50 + PCI_MSIX_TABLE, 4), 0x1000);
	assert_int_equal(cfg_rd(m, 0x50 + PCI_MSIX_PBA, 4), 0x2000);
	assert_int_equal(cfg_rd(m, 0x60 + PCI_EXP_FLAGS, 2), 0x0002); /* v2 endpoint */
	assert_true(cfg_rd(m, 0x60 + PCI_EXP_DEVCAP, 4) & PCI_EXP_DEVCAP_FLR);
	assert_int_equal(cfg_rd(m, 0x60 + PCI_EXP_DEVCTL, 2), 0x2810);

	/* Extended: DSN at 0x100 -> VSEC at 0x110 -> end. */
	h = cfg_rd(m, 0x100, 4);
	assert_int_equal(h, 0x11010003u);
	assert_int_equal(cfg_rd(m, 0x104, 4), 0x00000001u);
	assert_int_equal(cfg_rd(m, 0x108, 4), 0x75706369u);
	h = cfg_rd(m, PCI_EXT_CAP_NEXT(h), 4);
	assert_int_equal(h, 0x0001000bu);
	assert_int_equal(cfg_rd(m, 0x114, 4), 0x00c15444u);
	assert_int_equal(cfg_rd(m, 0x118, 4), 0x54444556u);
	model_destroy(m);
}

static void test_bar_sizing(void **state)
{
	struct upci_model *m = mk(NULL);

	(void)state;
	assert_int_equal(cfg_rd(m, PCI_BAR_OFFSET(0), 4), 0x4); /* mem64, not prefetchable */
	assert_int_equal(cfg_rd(m, PCI_BAR_OFFSET(2), 4), 0xc); /* mem64, prefetchable */
	for (unsigned b = 0; b < 6; b++)
		cfg_wr(m, PCI_BAR_OFFSET(b), 4, 0xffffffffu);
	assert_int_equal(cfg_rd(m, PCI_BAR_OFFSET(0), 4), 0xffffc004u); /* 16 KiB */
	assert_int_equal(cfg_rd(m, PCI_BAR_OFFSET(1), 4), 0xffffffffu);
	assert_int_equal(cfg_rd(m, PCI_BAR_OFFSET(2), 4), 0xfff0000cu); /* 1 MiB */
	assert_int_equal(cfg_rd(m, PCI_BAR_OFFSET(3), 4), 0xffffffffu);
	assert_int_equal(cfg_rd(m, PCI_BAR_OFFSET(4), 4), 0);
	assert_int_equal(cfg_rd(m, PCI_BAR_OFFSET(5), 4), 0);
	cfg_wr(m, PCI_BAR_OFFSET(0), 4, 0xfebf0000u);
	cfg_wr(m, PCI_BAR_OFFSET(1), 4, 0x1u);
	assert_int_equal(cfg_rd(m, PCI_BAR_OFFSET(0), 4), 0xfebf0004u);
	assert_int_equal(cfg_rd(m, PCI_BAR_OFFSET(1), 4), 0x1u);

	assert_int_equal(m->bars[0].size, 0x4000);
	assert_int_equal(m->bars[0].flags, UPCI_BAR_PRESENT | UPCI_BAR_MEM64);
	assert_int_equal(m->bars[1].flags, 0);
	assert_int_equal(m->bars[2].size, 1 << 20);
	assert_int_equal(m->bars[2].flags, UPCI_BAR_PRESENT | UPCI_BAR_MEM64 | UPCI_BAR_PREFETCH | UPCI_BAR_MAPPABLE);
	assert_non_null(m->bars[2].mem);
	assert_true(m->bars[2].fd >= 0);
	assert_int_equal(m->bars[4].flags, 0);
	model_destroy(m);

	m = mk("mem=268435456");
	cfg_wr(m, PCI_BAR_OFFSET(2), 4, 0xffffffffu);
	assert_int_equal(cfg_rd(m, PCI_BAR_OFFSET(2), 4), 0xf000000cu);
	assert_int_equal(rd8(m, TESTDEV_REG_MEM_SIZE), 256ull << 20);
	model_destroy(m);

	m = mk("mem=4096");
	cfg_wr(m, PCI_BAR_OFFSET(2), 4, 0xffffffffu);
	assert_int_equal(cfg_rd(m, PCI_BAR_OFFSET(2), 4), 0xfffff00cu);
	model_destroy(m);
}

static void test_params(void **state)
{
	static const char *const bad[] = {
		"vectors=0", "vectors=257", "vectors=abc", "vectors=-1", "mem=3000", "mem=6144",
		"mem=2048", "mem=536870912", "foo=1", "vectors=8,bar=2",
	};
	struct upci_model *m = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m = NULL;
		assert_int_equal(mk_host(&host_full, bad[i], &m), -EINVAL);
		assert_null(m);
	}
	m = mk("vectors=256");
	assert_int_equal(rd(m, TESTDEV_REG_NVEC), 256);
	assert_int_equal(cfg_rd(m, TESTDEV_CAP_MSIX + PCI_MSIX_FLAGS, 2), 255);
	model_destroy(m);
	m = mk("vectors=1,mem=0x2000");
	assert_int_equal(rd(m, TESTDEV_REG_NVEC), 1);
	assert_int_equal(rd8(m, TESTDEV_REG_MEM_SIZE), 0x2000);
	model_destroy(m);
	m = mk(NULL);
	assert_int_equal(rd(m, TESTDEV_REG_NVEC), 32);
	assert_int_equal(rd8(m, TESTDEV_REG_MEM_SIZE), 1 << 20);
	model_destroy(m);
}

/* ---- registers ---- */

static void check_reg_defaults(struct upci_model *m, unsigned nvec)
{
	assert_int_equal(rd(m, TESTDEV_REG_ID), 0x54444556u);
	assert_int_equal(rd(m, TESTDEV_REG_VERSION), 0x00010000u);
	assert_int_equal(rd(m, TESTDEV_REG_NVEC), nvec);
	assert_int_equal(rd(m, TESTDEV_REG_SCRATCH), 0);
	assert_int_equal(rd(m, TESTDEV_REG_DOORBELL), 0);
	assert_int_equal(rd(m, TESTDEV_REG_IRQ_COUNT), 0);
	assert_int_equal(rd8(m, TESTDEV_REG_DESC_ADDR), 0);
	assert_int_equal(rd(m, TESTDEV_REG_DESC_COUNT), 0);
	assert_int_equal(rd(m, TESTDEV_REG_CTRL), 0);
	assert_int_equal(rd(m, TESTDEV_REG_STATUS), 0);
	assert_int_equal(rd(m, TESTDEV_REG_COMPL_VEC), 0);
	assert_int_equal(rd(m, TESTDEV_REG_DONE_COUNT), 0);
	assert_int_equal(rd8(m, TESTDEV_REG_BYTES), 0);
	assert_int_equal(rd(m, TESTDEV_REG_FAULT_COUNT), 0);
	assert_int_equal(rd(m, TESTDEV_REG_LAST_FAULT), 0);
	assert_int_equal(rd(m, TESTDEV_REG_FAULT_DESC), 0xffffffffu);
	for (unsigned v = 0; v < nvec; v++) {
		assert_int_equal(rd8(m, entry(v, 0)), 0);
		assert_int_equal(rd(m, entry(v, PCI_MSIX_ENTRY_DATA)), 0);
		assert_int_equal(rd(m, entry(v, PCI_MSIX_ENTRY_CTRL)), PCI_MSIX_ENTRY_CTRL_MASKBIT);
	}
	for (unsigned w = 0; w < (nvec + 63) / 64; w++)
		assert_int_equal(rd8(m, TESTDEV_MSIX_PBA + 8 * w), 0);
}

static void test_registers(void **state)
{
	struct upci_model *m = mk(NULL);
	uint64_t v;

	(void)state;
	check_reg_defaults(m, 32);
	wr(m, TESTDEV_REG_SCRATCH, 0xcafef00du);
	assert_int_equal(rd(m, TESTDEV_REG_SCRATCH), 0xcafef00du);
	/* Read-only registers ignore writes. */
	wr(m, TESTDEV_REG_ID, 0);
	wr(m, TESTDEV_REG_NVEC, 7);
	wr(m, TESTDEV_REG_DONE_COUNT, 7);
	wr(m, TESTDEV_REG_MEM_SIZE, 7);
	assert_int_equal(rd(m, TESTDEV_REG_ID), 0x54444556u);
	assert_int_equal(rd(m, TESTDEV_REG_NVEC), 32);
	assert_int_equal(rd(m, TESTDEV_REG_DONE_COUNT), 0);
	assert_int_equal(rd8(m, TESTDEV_REG_MEM_SIZE), 1 << 20);
	/* 64-bit register: 8-byte write, 4-byte halves. */
	assert_int_equal(model_bar_write(m, 0, TESTDEV_REG_DESC_ADDR, 8, 0x1122334455667788ull), 0);
	assert_int_equal(rd(m, TESTDEV_REG_DESC_ADDR), 0x55667788u);
	assert_int_equal(rd(m, TESTDEV_REG_DESC_ADDR_HI), 0x11223344u);
	wr(m, TESTDEV_REG_DESC_ADDR_HI, 0xabcd);
	assert_int_equal(rd8(m, TESTDEV_REG_DESC_ADDR), 0x0000abcd55667788ull);
	/* CTRL keeps IRQ_EN only. */
	wr(m, TESTDEV_REG_CTRL, 0xfffffffeu);
	assert_int_equal(rd(m, TESTDEV_REG_CTRL), TESTDEV_CTRL_IRQ_EN);
	wr(m, TESTDEV_REG_COMPL_VEC, 0x12345);
	assert_int_equal(rd(m, TESTDEV_REG_COMPL_VEC), 0x2345);
	/* Widths the registers do not implement. */
	assert_int_equal(model_bar_read(m, 0, TESTDEV_REG_ID, 2, &v), -EINVAL);
	assert_int_equal(model_bar_read(m, 0, TESTDEV_REG_ID, 1, &v), -EINVAL);
	assert_int_equal(model_bar_read(m, 0, TESTDEV_REG_ID, 8, &v), -EINVAL);
	assert_int_equal(model_bar_write(m, 0, TESTDEV_REG_SCRATCH, 2, 1), -EINVAL);
	assert_int_equal(model_bar_read(m, 0, TESTDEV_REG_ID, 3, &v), -EINVAL);
	assert_int_equal(model_bar_read(m, 0, TESTDEV_REG_VERSION, 8, &v), -EINVAL); /* misaligned */
	/* Unimplemented offsets read all ones. */
	assert_int_equal(rd(m, 0x3c), 0xffffffffu);
	assert_int_equal(rd(m, 0x800), 0xffffffffu);
	assert_int_equal(rd(m, 0x3ffc), 0xffffffffu);
	assert_int_equal(rd(m, entry(32, 0)), 0xffffffffu); /* past the table */
	assert_int_equal(rd(m, TESTDEV_MSIX_PBA + 8), 0xffffffffu); /* past the PBA */
	/* Outside BAR0, other BARs. */
	assert_int_equal(model_bar_read(m, 0, 0x4000, 4, &v), -EINVAL);
	assert_int_equal(model_bar_read(m, 0, UINT64_MAX - 3, 4, &v), -EINVAL);
	assert_int_equal(model_bar_write(m, 0, 0x4000, 4, 0), -EINVAL);
	assert_int_equal(model_bar_read(m, 1, 0, 4, &v), -EINVAL);
	assert_int_equal(model_bar_read(m, 4, 0, 4, &v), -EINVAL);
	assert_int_equal(model_bar_read(m, 6, 0, 4, &v), -EINVAL);
	model_destroy(m);
}

static void test_bar2_ram(void **state)
{
	struct upci_model *m = mk("mem=8192");
	uint64_t v = 0;

	(void)state;
	assert_int_equal(model_bar_write(m, 2, 0x10, 8, 0x0102030405060708ull), 0);
	assert_int_equal(bar2(m)[0x10], 0x08);
	assert_int_equal(bar2(m)[0x17], 0x01);
	bar2(m)[0x1ffe] = 0x34;
	bar2(m)[0x1fff] = 0x12;
	assert_int_equal(model_bar_read(m, 2, 0x1ffe, 2, &v), 0);
	assert_int_equal(v, 0x1234);
	assert_int_equal(model_bar_read(m, 2, 0x12, 1, &v), 0);
	assert_int_equal(v, 0x06);
	assert_int_equal(model_bar_read(m, 2, 0x1ffc, 8, &v), -EINVAL);
	assert_int_equal(model_bar_read(m, 2, 0x2000, 1, &v), -EINVAL);
	assert_int_equal(model_bar_write(m, 2, UINT64_MAX, 1, 0), -EINVAL);
	model_destroy(m);
}

static void test_pm(void **state)
{
	struct upci_model *m = mk(NULL);
	unsigned pmcsr = TESTDEV_CAP_PM + PCI_PM_CTRL;

	(void)state;
	cfg_wr(m, pmcsr, 2, 3);
	assert_int_equal(cfg_rd(m, pmcsr, 2) & PCI_PM_CTRL_STATE_MASK, 3);
	cfg_wr(m, pmcsr, 2, 1); /* D1 unsupported: ignored */
	assert_int_equal(cfg_rd(m, pmcsr, 2) & PCI_PM_CTRL_STATE_MASK, 3);
	cfg_wr(m, pmcsr, 2, 0);
	assert_int_equal(cfg_rd(m, pmcsr, 2) & PCI_PM_CTRL_STATE_MASK, 0);
	cfg_wr(m, pmcsr, 1, 2); /* D2 unsupported */
	assert_int_equal(cfg_rd(m, pmcsr, 2), PCI_PM_CTRL_NO_SOFT_RESET);
	model_destroy(m);
}

/* ---- MSI-X ---- */

static void test_table_access(void **state)
{
	struct upci_model *m = mk(NULL);
	uint64_t v;

	(void)state;
	assert_int_equal(model_bar_write(m, 0, entry(1, 0), 8, 0x00000001fee00003ull), 0);
	assert_int_equal(rd8(m, entry(1, 0)), 0x00000001fee00000ull); /* bits 1:0 are 0 */
	assert_int_equal(model_bar_write(m, 0, entry(1, 8), 8, 0xfffffffe00001234ull), 0);
	assert_int_equal(rd8(m, entry(1, 8)), 0x0000000000001234ull); /* reserved ctrl bits 0, unmasked */
	assert_int_equal(model_bar_write(m, 0, entry(1, 8), 8, 0x0000000100004321ull), 0);
	assert_int_equal(rd(m, entry(1, PCI_MSIX_ENTRY_CTRL)), 1);
	assert_int_equal(rd(m, entry(1, PCI_MSIX_ENTRY_DATA)), 0x4321);
	assert_int_equal(rd(m, entry(2, PCI_MSIX_ENTRY_CTRL)), 1); /* neighbour untouched */
	assert_int_equal(model_bar_write(m, 0, entry(1, 0), 2, 0), -EINVAL);
	assert_int_equal(model_bar_read(m, 0, entry(1, 0), 1, &v), -EINVAL);
	model_destroy(m);
}

static void test_doorbell_delivery(void **state)
{
	static const unsigned vecs[] = {0, 63, 64, 255};
	struct upci_model *m = mk("vectors=256");

	(void)state;
	msix_ctl(m, PCI_MSIX_FLAGS_ENABLE);
	for (size_t i = 0; i < 4; i++)
		set_mask(m, vecs[i], 0);
	assert_int_equal(F.msi_calls, 0);
	for (size_t i = 0; i < 4; i++)
		wr(m, TESTDEV_REG_DOORBELL, vecs[i]);
	assert_int_equal(F.msi_calls, 4);
	for (unsigned v = 0; v < 256; v++)
		assert_int_equal(msi_seen(v), v == 0 || v == 63 || v == 64 || v == 255);
	assert_int_equal(rd(m, TESTDEV_REG_IRQ_COUNT), 4);
	assert_int_equal(rd(m, TESTDEV_REG_FAULT_COUNT), 0);
	for (unsigned w = 0; w < 4; w++)
		assert_int_equal(rd8(m, TESTDEV_MSIX_PBA + 8 * w), 0);
	model_destroy(m);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* FIRE_NS: when the device fired, on the clock a benchmark reads too. */
static void test_fire_timestamp(void **state)
{
	struct upci_model *m = mk("vectors=4");
	uint64_t before, after, t1, t2;

	(void)state;
	assert_int_equal(rd8(m, TESTDEV_REG_FIRE_NS), 0);
	before = mono_ns();
	wr(m, TESTDEV_REG_DOORBELL, 1);
	after = mono_ns();
	t1 = rd8(m, TESTDEV_REG_FIRE_NS);
	assert_true(t1 >= before && t1 <= after);
	assert_int_equal(rd(m, TESTDEV_REG_FIRE_NS), (uint32_t)t1);
	assert_int_equal(rd(m, TESTDEV_REG_FIRE_NS_HI), (uint32_t)(t1 >> 32));
	/* A bad vector fires nothing: the stamp stays. */
	wr(m, TESTDEV_REG_DOORBELL, 9);
	assert_int_equal(rd8(m, TESTDEV_REG_FIRE_NS), t1);
	wr(m, TESTDEV_REG_DOORBELL, 2);
	t2 = rd8(m, TESTDEV_REG_FIRE_NS);
	assert_true(t2 >= t1);
	/* Read-only, and back to 0 on reset. */
	assert_int_equal(model_bar_write(m, TESTDEV_BAR_REGS, TESTDEV_REG_FIRE_NS, 8, 5), 0);
	assert_int_equal(rd8(m, TESTDEV_REG_FIRE_NS), t2);
	model_reset(m);
	assert_int_equal(rd8(m, TESTDEV_REG_FIRE_NS), 0);
	model_destroy(m);
}

/* A vector latched while masked and unmasked while bus mastering is off
 * goes out when bus mastering comes on (a COMMAND write). */
static void test_replay_on_bus_master(void **state)
{
	struct upci_model *m = mk("vectors=8");

	(void)state;
	msix_ctl(m, PCI_MSIX_FLAGS_ENABLE);
	wr(m, TESTDEV_REG_DOORBELL, 3); /* entry 3 still masked: latched */
	assert_int_equal(F.msi_calls, 0);
	cfg_wr(m, PCI_COMMAND, 2, 0);
	set_mask(m, 3, 0);
	assert_int_equal(F.msi_calls, 0); /* no bus master: still held */
	assert_int_equal(rd(m, TESTDEV_MSIX_PBA) & (1u << 3), 1u << 3);
	cfg_wr(m, PCI_COMMAND, 2, PCI_COMMAND_MASTER);
	assert_int_equal(F.msi_calls, 1);
	assert_true(msi_seen(3));
	assert_int_equal(rd(m, TESTDEV_MSIX_PBA) & (1u << 3), 0);
	model_destroy(m);
}

static void test_entry_mask_pending(void **state)
{
	struct upci_model *m = mk("vectors=256");

	(void)state;
	msix_ctl(m, PCI_MSIX_FLAGS_ENABLE);
	/* Entries start masked. */
	wr(m, TESTDEV_REG_DOORBELL, 200);
	assert_int_equal(F.msi_calls, 0);
	assert_true(pba_bit(m, 200));
	assert_int_equal(rd(m, TESTDEV_MSIX_PBA + 24), 1u << 8);  /* 4-byte read, low half of word 3 */
	assert_int_equal(rd(m, TESTDEV_MSIX_PBA + 28), 0);
	/* The PBA is read-only. */
	assert_int_equal(model_bar_write(m, 0, TESTDEV_MSIX_PBA + 24, 8, 0), 0);
	assert_true(pba_bit(m, 200));
	/* Unmask: delivered once, pending bit clear. */
	set_mask(m, 200, 0);
	assert_int_equal(F.msi_calls, 1);
	assert_true(msi_seen(200));
	assert_false(pba_bit(m, 200));
	/* Masking again and unmasking with nothing pending sends nothing. */
	set_mask(m, 200, 1);
	set_mask(m, 200, 0);
	assert_int_equal(F.msi_calls, 1);
	model_destroy(m);
}

static void test_function_mask(void **state)
{
	struct upci_model *m = mk("vectors=128");

	(void)state;
	msix_ctl(m, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	set_mask(m, 70, 0);
	wr(m, TESTDEV_REG_DOORBELL, 70);
	assert_int_equal(F.msi_calls, 0);
	assert_true(pba_bit(m, 70));
	msix_ctl(m, PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(F.msi_calls, 1);
	assert_true(msi_seen(70));
	assert_false(pba_bit(m, 70));
	model_destroy(m);
}

static void test_msix_disabled(void **state)
{
	struct upci_model *m = mk(NULL);

	(void)state;
	set_mask(m, 3, 0);
	wr(m, TESTDEV_REG_DOORBELL, 3);
	assert_int_equal(F.msi_calls, 0);
	assert_false(pba_bit(m, 3));
	/* Turning MSI-X on later does not deliver a dropped message. */
	msix_ctl(m, PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(F.msi_calls, 0);
	model_destroy(m);
}

static void test_doorbell_fault(void **state)
{
	struct upci_model *m = mk(NULL);

	(void)state;
	msix_ctl(m, PCI_MSIX_FLAGS_ENABLE);
	for (unsigned v = 0; v < 32; v++)
		set_mask(m, v, 0);
	wr(m, TESTDEV_REG_DOORBELL, 32);
	assert_int_equal(rd(m, TESTDEV_REG_FAULT_COUNT), 1);
	assert_int_equal(rd(m, TESTDEV_REG_LAST_FAULT), TESTDEV_FAULT_DOORBELL);
	wr(m, TESTDEV_REG_DOORBELL, 0xffffffffu);
	assert_int_equal(rd(m, TESTDEV_REG_FAULT_COUNT), 2);
	assert_int_equal(F.msi_calls, 0);
	assert_int_equal(rd(m, TESTDEV_REG_IRQ_COUNT), 0);
	/* Any write to FAULT_COUNT clears the fault state. */
	wr(m, TESTDEV_REG_FAULT_COUNT, 0x55);
	assert_int_equal(rd(m, TESTDEV_REG_FAULT_COUNT), 0);
	assert_int_equal(rd(m, TESTDEV_REG_LAST_FAULT), 0);
	model_destroy(m);
}

/* ---- DMA ---- */

static void test_dma_1mib(void **state)
{
	struct upci_model *m = mk(NULL);

	(void)state;
	fill(at(R_SRC, 0), 1 << 20, 1);
	master_on(m);
	msix_ctl(m, PCI_MSIX_FLAGS_ENABLE);
	set_mask(m, 7, 0);
	set_mask(m, 9, 0);
	put_desc(R_DESC, 0, SRC_BUS, DST_BUS, 1 << 20, TESTDEV_DESC_F_IRQ | (9u << TESTDEV_DESC_F_VEC_SHIFT));
	wr(m, TESTDEV_REG_COMPL_VEC, 7);
	run(m, DESC_BUS, 1, TESTDEV_CTRL_IRQ_EN);
	assert_memory_equal(at(R_DST, 0), at(R_SRC, 0), 1 << 20);
	assert_int_equal(rd(m, TESTDEV_REG_STATUS), TESTDEV_STATUS_DONE);
	assert_int_equal(rd(m, TESTDEV_REG_DONE_COUNT), 1);
	assert_int_equal(rd8(m, TESTDEV_REG_BYTES), 1 << 20);
	assert_int_equal(rd(m, TESTDEV_REG_CTRL), TESTDEV_CTRL_IRQ_EN); /* START reads 0 */
	assert_int_equal(desc_at(R_DESC, 0)->status, TESTDEV_DESC_ST_DONE);
	assert_int_equal(rd(m, TESTDEV_REG_FAULT_COUNT), 0);
	assert_true(msi_seen(7));
	assert_true(msi_seen(9));
	assert_int_equal(F.msi_calls, 2);
	/* STATUS is W1C. */
	wr(m, TESTDEV_REG_STATUS, TESTDEV_STATUS_DONE);
	assert_int_equal(rd(m, TESTDEV_REG_STATUS), 0);
	guards_intact();
	model_destroy(m);
}

static void test_dma_bar2(void **state)
{
	struct upci_model *m = mk("mem=65536");
	uint64_t v = 0;

	(void)state;
	master_on(m);
	fill(at(R_SRC, 0), 0x3000, 2);
	/* RAM -> BAR2, BAR2 -> RAM, BAR2 -> BAR2 overlapping (memmove). */
	put_desc(R_DESC, 0, SRC_BUS, 0x1000, 0x3000, TESTDEV_DESC_F_DST_BAR2);
	put_desc(R_DESC, 1, 0x1000, DST_BUS + 0x100, 0x3000, TESTDEV_DESC_F_SRC_BAR2);
	put_desc(R_DESC, 2, 0x1000, 0x1010, 0x3000, TESTDEV_DESC_F_SRC_BAR2 | TESTDEV_DESC_F_DST_BAR2);
	run(m, DESC_BUS, 3, 0);
	assert_int_equal(rd(m, TESTDEV_REG_STATUS), TESTDEV_STATUS_DONE);
	assert_int_equal(rd(m, TESTDEV_REG_DONE_COUNT), 3);
	assert_int_equal(rd8(m, TESTDEV_REG_BYTES), 3 * 0x3000);
	assert_memory_equal(at(R_DST, 0x100), at(R_SRC, 0), 0x3000);
	assert_memory_equal(bar2(m) + 0x1010, at(R_SRC, 0), 0x3000);
	assert_memory_equal(bar2(m) + 0x1000, at(R_SRC, 0), 0x10);
	/* The same bytes through bar_read. */
	assert_int_equal(model_bar_read(m, 2, 0x1010, 4, &v), 0);
	assert_int_equal(v, (uint64_t)at(R_SRC, 0)[0] | (uint64_t)at(R_SRC, 0)[1] << 8 |
				    (uint64_t)at(R_SRC, 0)[2] << 16 | (uint64_t)at(R_SRC, 0)[3] << 24);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(desc_at(R_DESC, i)->status, TESTDEV_DESC_ST_DONE);
	/* Whole-BAR copy at the upper bound: offset + len == size is fine. */
	put_desc(R_DESC, 0, 0, SRC_BUS, 65536, TESTDEV_DESC_F_SRC_BAR2);
	run(m, DESC_BUS, 1, 0);
	assert_int_equal(rd(m, TESTDEV_REG_STATUS), TESTDEV_STATUS_DONE);
	assert_memory_equal(at(R_SRC, 0), bar2(m), 65536);
	guards_intact();
	model_destroy(m);
}

static void test_dma_overlap_ram(void **state)
{
	struct upci_model *m = mk(NULL);
	uint8_t *ref = malloc(0x1000 + 0x10);

	(void)state;
	assert_non_null(ref);
	master_on(m);
	fill(at(R_SRC, 0), 0x2000, 3);
	memcpy(ref, at(R_SRC, 0), 0x1010);
	memmove(ref + 0x10, ref, 0x1000);
	put_desc(R_DESC, 0, SRC_BUS, SRC_BUS + 0x10, 0x1000, 0);
	run(m, DESC_BUS, 1, 0);
	assert_int_equal(rd(m, TESTDEV_REG_STATUS), TESTDEV_STATUS_DONE);
	assert_memory_equal(at(R_SRC, 0), ref, 0x1010);
	free(ref);
	model_destroy(m);
}

/* Ranges that cross from one region into the adjacent one: only the
 * chunked dma_read/dma_write path can do them. */
static void test_dma_spanning(void **state)
{
	const uint64_t len = 0x20000, src_off = 0xf0000, shift = 0x100;
	uint8_t *ref = malloc(2u << 20);
	struct upci_model *m;

	(void)state;
	assert_non_null(ref);
	fill(at(R_SRC, 0), 1 << 20, 4);
	fill(at(R_DST, 0), 1 << 20, 5);
	memcpy(ref, at(R_SRC, 0), 1 << 20);
	memcpy(ref + (1 << 20), at(R_DST, 0), 1 << 20);

	/* A host that cannot copy across regions: a fault, the source intact.
	 * The copy runs backward (dst above src) in pieces: the pieces that
	 * lie in one region move, the first that spans two is the fault. */
	assert_int_equal(mk_host(&host_translate_only, NULL, &m), 0);
	master_on(m);
	put_desc(R_DESC, 0, SRC_BUS + src_off, SRC_BUS + src_off + shift, (uint32_t)len, 0);
	run(m, DESC_BUS, 1, 0);
	assert_int_equal(rd(m, TESTDEV_REG_STATUS), TESTDEV_STATUS_DONE | TESTDEV_STATUS_ERROR);
	assert_int_equal(rd(m, TESTDEV_REG_LAST_FAULT), TESTDEV_FAULT_DST);
	assert_memory_equal(at(R_SRC, 0), ref, 1 << 20);
	model_destroy(m);
	memcpy(at(R_DST, 0), ref + (1 << 20), 1 << 20);

	/* Full host: overlapping, dst above src, both spanning -> memmove. */
	m = mk(NULL);
	master_on(m);
	memmove(ref + src_off + shift, ref + src_off, len);
	put_desc(R_DESC, 0, SRC_BUS + src_off, SRC_BUS + src_off + shift, (uint32_t)len, 0);
	run(m, DESC_BUS, 1, 0);
	assert_int_equal(rd(m, TESTDEV_REG_STATUS), TESTDEV_STATUS_DONE);
	assert_memory_equal(at(R_SRC, 0), ref, 1 << 20);
	assert_memory_equal(at(R_DST, 0), ref + (1 << 20), 1 << 20);
	/* And dst below src. */
	memmove(ref + src_off - shift, ref + src_off, len);
	put_desc(R_DESC, 0, SRC_BUS + src_off, SRC_BUS + src_off - shift, (uint32_t)len, 0);
	run(m, DESC_BUS, 1, 0);
	assert_int_equal(rd(m, TESTDEV_REG_STATUS), TESTDEV_STATUS_DONE);
	assert_memory_equal(at(R_SRC, 0), ref, 1 << 20);
	assert_memory_equal(at(R_DST, 0), ref + (1 << 20), 1 << 20);
	guards_intact();
	free(ref);
	model_destroy(m);
}

struct hostile {
	const char *what;
	uint64_t src, dst;
	uint32_t len, flags;
	uint32_t fault;
};

static void test_dma_hostile_descriptors(void **state)
{
	const uint64_t mem = 1 << 20;
	const struct hostile cases[] = {
		{"unmapped src", HOLE_BUS, DST_BUS, 64, 0, TESTDEV_FAULT_SRC},
		{"src runs into a hole", DST_BUS + (1 << 20) - 16, DST_BUS, 64, 0, TESTDEV_FAULT_SRC},
		{"unmapped dst", SRC_BUS, HOLE_BUS, 64, 0, TESTDEV_FAULT_DST},
		{"read-only dst", SRC_BUS, RO_BUS, 64, 0, TESTDEV_FAULT_DST},
		{"len 0", SRC_BUS, DST_BUS, 0, 0, TESTDEV_FAULT_LEN},
		{"len too big", SRC_BUS, DST_BUS, TESTDEV_MAX_LEN + 1, 0, TESTDEV_FAULT_LEN},
		{"len max", SRC_BUS, DST_BUS, UINT32_MAX, 0, TESTDEV_FAULT_LEN},
		{"bar2 src past end", mem - 16, DST_BUS, 32, TESTDEV_DESC_F_SRC_BAR2, TESTDEV_FAULT_BAR2},
		{"bar2 src at end", mem, DST_BUS, 1, TESTDEV_DESC_F_SRC_BAR2, TESTDEV_FAULT_BAR2},
		{"bar2 dst huge", SRC_BUS, UINT64_MAX - 8, 16, TESTDEV_DESC_F_DST_BAR2, TESTDEV_FAULT_BAR2},
		{"bar2 dst wraps", SRC_BUS, UINT64_MAX, 2, TESTDEV_DESC_F_DST_BAR2, TESTDEV_FAULT_BAR2},
		{"src wraps", UINT64_MAX - 15, DST_BUS, 32, 0, TESTDEV_FAULT_SRC},
		{"dst wraps", SRC_BUS, UINT64_MAX - 15, 32, 0, TESTDEV_FAULT_DST},
		{"reserved flags", SRC_BUS, DST_BUS, 64, 0x80, TESTDEV_FAULT_FLAGS},
		{"reserved high flags", SRC_BUS, DST_BUS, 64, 0x80000000u, TESTDEV_FAULT_FLAGS},
		{"irq vector too big", SRC_BUS, DST_BUS, 64, TESTDEV_DESC_F_IRQ | (32u << TESTDEV_DESC_F_VEC_SHIFT),
		 TESTDEV_FAULT_VECTOR},
	};
	uint8_t *dst_before = malloc(1 << 20);
	struct upci_model *m = mk(NULL);

	(void)state;
	assert_non_null(dst_before);
	master_on(m);
	msix_ctl(m, PCI_MSIX_FLAGS_ENABLE);
	for (unsigned v = 0; v < 32; v++)
		set_mask(m, v, 0);
	fill(at(R_SRC, 0), 1 << 20, 6);
	fill(at(R_DST, 0), 1 << 20, 7);
	memcpy(dst_before, at(R_DST, 0), 1 << 20);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct hostile *c = &cases[i];

		print_message("hostile: %s\n", c->what);
		put_desc(R_DESC, 0, c->src, c->dst, c->len, c->flags);
		run(m, DESC_BUS, 1, 0);
		assert_int_equal(rd(m, TESTDEV_REG_STATUS), TESTDEV_STATUS_DONE | TESTDEV_STATUS_ERROR);
		assert_int_equal(rd(m, TESTDEV_REG_FAULT_COUNT), i + 1);
		assert_int_equal(rd(m, TESTDEV_REG_LAST_FAULT), c->fault);
		assert_int_equal(rd(m, TESTDEV_REG_FAULT_DESC), 0);
		assert_int_equal(rd(m, TESTDEV_REG_DONE_COUNT), 0);
		assert_int_equal(desc_at(R_DESC, 0)->status,
				 TESTDEV_DESC_ST_ERROR | (c->fault << TESTDEV_DESC_ST_FAULT_SHIFT));
		assert_memory_equal(at(R_DST, 0), dst_before, 1 << 20);
		for (uint64_t k = 0; k < mem; k++)
			if (bar2(m)[k])
				fail_msg("%s: BAR2 byte %llu changed", c->what, (unsigned long long)k);
		guards_intact();
	}
	assert_int_equal(rd8(m, TESTDEV_REG_BYTES), 0);
	assert_int_equal(F.msi_calls, 0);
	free(dst_before);
	model_destroy(m);
}

static void expect_run_fault(struct upci_model *m, uint32_t fault, uint32_t fdesc, uint32_t done);

/* Addresses that wrap past 2^64, with a host whose translate does not
 * check lengths: the model's own checks must stop them. */
static void test_dma_wrap_sloppy_host(void **state)
{
	struct upci_model *m = mk(NULL);
	uint8_t top[4096];

	(void)state;
	master_on(m);
	fill(at(R_TOP, 0), 4096, 10);
	memcpy(top, at(R_TOP, 0), sizeof(top));
	F.sloppy = 1;
	put_desc(R_DESC, 0, SRC_BUS, UINT64_MAX - 15, 32, 0);
	run(m, DESC_BUS, 1, 0);
	expect_run_fault(m, TESTDEV_FAULT_DST, 0, 0);
	put_desc(R_DESC, 0, UINT64_MAX - 15, DST_BUS, 32, 0);
	run(m, DESC_BUS, 1, 0);
	expect_run_fault(m, TESTDEV_FAULT_SRC, 0, 0);
	assert_int_equal(at(R_DST, 0)[0], 0);
	/* The last 16 bytes of the bus are fine. */
	put_desc(R_DESC, 0, UINT64_MAX - 15, DST_BUS, 16, 0);
	run(m, DESC_BUS, 1, 0);
	assert_int_equal(rd(m, TESTDEV_REG_STATUS), TESTDEV_STATUS_DONE);
	assert_memory_equal(at(R_DST, 0), top + 4080, 16);
	F.sloppy = 0;
	assert_memory_equal(at(R_TOP, 0), top, sizeof(top));
	guards_intact();
	model_destroy(m);
}

static void expect_run_fault(struct upci_model *m, uint32_t fault, uint32_t fdesc, uint32_t done)
{
	assert_int_equal(rd(m, TESTDEV_REG_STATUS), TESTDEV_STATUS_DONE | TESTDEV_STATUS_ERROR);
	assert_int_equal(rd(m, TESTDEV_REG_LAST_FAULT), fault);
	assert_int_equal(rd(m, TESTDEV_REG_FAULT_DESC), fdesc);
	assert_int_equal(rd(m, TESTDEV_REG_DONE_COUNT), done);
}

static void test_dma_hostile_runs(void **state)
{
	struct upci_model *m = mk(NULL);
	uint32_t faults = 0;

	(void)state;
	master_on(m);
	msix_ctl(m, PCI_MSIX_FLAGS_ENABLE);
	set_mask(m, 0, 0);
	fill(at(R_SRC, 0), 4096, 8);
	put_desc(R_DESC, 0, SRC_BUS, DST_BUS, 64, 0);

	run(m, HOLE_BUS, 1, 0); /* list unmapped */
	expect_run_fault(m, TESTDEV_FAULT_DESC_ADDR, 0, 0);
	assert_int_equal(rd(m, TESTDEV_REG_FAULT_COUNT), ++faults);
	run(m, UINT64_MAX - 31, 2, 0); /* list wraps */
	expect_run_fault(m, TESTDEV_FAULT_DESC_ADDR, 0, 0);
	assert_int_equal(rd(m, TESTDEV_REG_FAULT_COUNT), ++faults);
	/* A list in the last 32 bytes of the bus does not wrap: it runs. */
	put_desc(R_TOP, 127, SRC_BUS, DST_BUS + 3072, 64, 0);
	run(m, UINT64_MAX - 31, 1, 0);
	assert_int_equal(rd(m, TESTDEV_REG_STATUS), TESTDEV_STATUS_DONE);
	assert_int_equal(desc_at(R_TOP, 127)->status, TESTDEV_DESC_ST_DONE);
	assert_memory_equal(at(R_DST, 3072), at(R_SRC, 0), 64);
	run(m, DESC_BUS, 0, 0);
	expect_run_fault(m, TESTDEV_FAULT_DESC_COUNT, 0xffffffffu, 0);
	assert_int_equal(rd(m, TESTDEV_REG_FAULT_COUNT), ++faults);
	run(m, DESC_BUS, TESTDEV_MAX_DESC + 1, 0);
	expect_run_fault(m, TESTDEV_FAULT_DESC_COUNT, 0xffffffffu, 0);
	assert_int_equal(rd(m, TESTDEV_REG_FAULT_COUNT), ++faults);
	run(m, DESC_BUS, UINT32_MAX, 0);
	expect_run_fault(m, TESTDEV_FAULT_DESC_COUNT, 0xffffffffu, 0);
	assert_int_equal(rd(m, TESTDEV_REG_FAULT_COUNT), ++faults);
	assert_int_equal(desc_at(R_DESC, 0)->status, 0xeeeeeeeeu); /* never looked at */

	/* Completion vector beyond the table, with IRQ_EN: no run, no IRQ. */
	wr(m, TESTDEV_REG_COMPL_VEC, 32);
	run(m, DESC_BUS, 1, TESTDEV_CTRL_IRQ_EN);
	expect_run_fault(m, TESTDEV_FAULT_VECTOR, 0xffffffffu, 0);
	assert_int_equal(rd(m, TESTDEV_REG_FAULT_COUNT), ++faults);
	assert_int_equal(desc_at(R_DESC, 0)->status, 0xeeeeeeeeu);
	assert_int_equal(F.msi_calls, 0);

	/* A failing run still raises a valid completion vector. */
	wr(m, TESTDEV_REG_COMPL_VEC, 0);
	run(m, HOLE_BUS, 1, TESTDEV_CTRL_IRQ_EN);
	expect_run_fault(m, TESTDEV_FAULT_DESC_ADDR, 0, 0);
	assert_int_equal(rd(m, TESTDEV_REG_FAULT_COUNT), ++faults);
	assert_int_equal(F.msi_calls, 1);
	assert_true(msi_seen(0));

	/* The second descriptor lies past the end of the mapped list. */
	put_desc(R_DESC, 4095, SRC_BUS, DST_BUS, 64, 0);
	run(m, DESC_BUS + 4095ull * TESTDEV_DESC_SIZE, 2, 0);
	expect_run_fault(m, TESTDEV_FAULT_DESC_ADDR, 1, 1);
	assert_int_equal(rd(m, TESTDEV_REG_FAULT_COUNT), ++faults);
	assert_int_equal(desc_at(R_DESC, 4095)->status, TESTDEV_DESC_ST_DONE);
	assert_memory_equal(at(R_DST, 0), at(R_SRC, 0), 64);

	/* Good then bad: the first completes, the second faults. */
	put_desc(R_DESC, 0, SRC_BUS, DST_BUS + 128, 64, 0);
	put_desc(R_DESC, 1, SRC_BUS, HOLE_BUS, 64, 0);
	put_desc(R_DESC, 2, SRC_BUS, DST_BUS + 512, 64, 0);
	run(m, DESC_BUS, 3, 0);
	expect_run_fault(m, TESTDEV_FAULT_DST, 1, 1);
	assert_int_equal(rd(m, TESTDEV_REG_FAULT_COUNT), ++faults);
	assert_int_equal(desc_at(R_DESC, 0)->status, TESTDEV_DESC_ST_DONE);
	assert_int_equal(desc_at(R_DESC, 1)->status,
			 TESTDEV_DESC_ST_ERROR | (TESTDEV_FAULT_DST << TESTDEV_DESC_ST_FAULT_SHIFT));
	assert_int_equal(desc_at(R_DESC, 2)->status, 0xeeeeeeeeu); /* stopped before it */
	assert_memory_equal(at(R_DST, 128), at(R_SRC, 0), 64);
	assert_int_equal(at(R_DST, 512)[0], 0);

	/* A list in read-only memory: the copy is done, the status cannot be
	 * written back, which is a fault. */
	memcpy(at(R_RO, 0), desc_at(R_DESC, 0), TESTDEV_DESC_SIZE);
	((struct testdev_desc *)(void *)at(R_RO, 0))->dst = DST_BUS + 1024;
	((struct testdev_desc *)(void *)at(R_RO, 0))->status = 0xeeeeeeeeu;
	run(m, RO_BUS, 1, 0);
	expect_run_fault(m, TESTDEV_FAULT_WRITEBACK, 0, 0);
	assert_int_equal(rd(m, TESTDEV_REG_FAULT_COUNT), ++faults);
	assert_memory_equal(at(R_DST, 1024), at(R_SRC, 0), 64);
	assert_int_equal(((struct testdev_desc *)(void *)at(R_RO, 0))->status, 0xeeeeeeeeu);

	/* Bus mastering off: nothing is read or written. */
	cfg_wr(m, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	put_desc(R_DESC, 0, SRC_BUS, DST_BUS + 2048, 64, 0);
	run(m, DESC_BUS, 1, 0);
	expect_run_fault(m, TESTDEV_FAULT_NO_MASTER, 0xffffffffu, 0);
	assert_int_equal(rd(m, TESTDEV_REG_FAULT_COUNT), ++faults);
	assert_int_equal(desc_at(R_DESC, 0)->status, 0xeeeeeeeeu);
	assert_int_equal(at(R_DST, 2048)[0], 0);

	/* A good run afterwards clears STATUS.ERROR by itself. */
	master_on(m);
	run(m, DESC_BUS, 1, 0);
	assert_int_equal(rd(m, TESTDEV_REG_STATUS), TESTDEV_STATUS_DONE);
	assert_int_equal(rd(m, TESTDEV_REG_FAULT_COUNT), faults);
	guards_intact();
	model_destroy(m);
}

static void test_dma_max_descriptors(void **state)
{
	struct upci_model *m = mk(NULL);

	(void)state;
	master_on(m);
	fill(at(R_SRC, 0), 1 << 16, 9);
	for (unsigned i = 0; i < TESTDEV_MAX_DESC; i++)
		put_desc(R_DESC, i, SRC_BUS + 16ull * i, DST_BUS + 16ull * i, 16, 0);
	run(m, DESC_BUS, TESTDEV_MAX_DESC, 0);
	assert_int_equal(rd(m, TESTDEV_REG_STATUS), TESTDEV_STATUS_DONE);
	assert_int_equal(rd(m, TESTDEV_REG_DONE_COUNT), TESTDEV_MAX_DESC);
	assert_int_equal(rd8(m, TESTDEV_REG_BYTES), 16ull * TESTDEV_MAX_DESC);
	assert_memory_equal(at(R_DST, 0), at(R_SRC, 0), 1 << 16);
	assert_int_equal(desc_at(R_DESC, TESTDEV_MAX_DESC - 1)->status, TESTDEV_DESC_ST_DONE);
	model_destroy(m);
}

/* One START moves at most TESTDEV_MAX_RUN_BYTES: the descriptor that
 * would pass it faults BUDGET before moving anything. */
static void test_dma_run_budget(void **state)
{
	const uint32_t mib = 1u << 20, fit = (uint32_t)(TESTDEV_MAX_RUN_BYTES / mib);
	struct upci_model *m = mk(NULL);

	(void)state;
	master_on(m);
	for (unsigned i = 0; i < fit + 2; i++)
		put_desc(R_DESC, i, SRC_BUS, DST_BUS, mib, 0);
	run(m, DESC_BUS, fit + 2, 0);
	expect_run_fault(m, TESTDEV_FAULT_BUDGET, fit, fit);
	assert_int_equal(rd8(m, TESTDEV_REG_BYTES), TESTDEV_MAX_RUN_BYTES);
	assert_int_equal(desc_at(R_DESC, fit - 1)->status, TESTDEV_DESC_ST_DONE);
	assert_int_equal(desc_at(R_DESC, fit)->status,
			 TESTDEV_DESC_ST_ERROR | (TESTDEV_FAULT_BUDGET << TESTDEV_DESC_ST_FAULT_SHIFT));
	assert_int_equal(desc_at(R_DESC, fit + 1)->status, 0xeeeeeeeeu);
	/* the sum counts, not each descriptor: 1 MiB, then the longest one */
	put_desc(R_DESC, 0, SRC_BUS, DST_BUS, mib, 0);
	put_desc(R_DESC, 1, SRC_BUS, DST_BUS, TESTDEV_MAX_LEN, 0);
	run(m, DESC_BUS, 2, 0);
	expect_run_fault(m, TESTDEV_FAULT_BUDGET, 1, 1);
	/* each START has the whole budget again */
	run(m, DESC_BUS, 1, 0);
	assert_int_equal(rd(m, TESTDEV_REG_STATUS), TESTDEV_STATUS_DONE);
	model_destroy(m);
}

static void test_dma_no_host(void **state)
{
	struct upci_model *m = NULL;

	(void)state;
	assert_int_equal(model_create(&model_testdev_ops, NULL, NULL, NULL, &m), 0);
	master_on(m);
	set_mask(m, 0, 0);
	msix_ctl(m, PCI_MSIX_FLAGS_ENABLE);
	wr(m, TESTDEV_REG_DOORBELL, 0); /* no host->msi: nothing to call */
	run(m, DESC_BUS, 1, 0);
	expect_run_fault(m, TESTDEV_FAULT_DESC_ADDR, 0, 0);
	model_destroy(m);
}

/* ---- reset ---- */

/* Dirty every piece of state the reset contract covers. */
static void dirty(struct upci_model *m)
{
	master_on(m);
	cfg_wr(m, PCI_BAR_OFFSET(0), 4, 0xfebf0000u);
	cfg_wr(m, PCI_BAR_OFFSET(2), 4, 0xe0000000u);
	cfg_wr(m, PCI_INTERRUPT_LINE, 1, 11);
	cfg_wr(m, TESTDEV_CAP_PM + PCI_PM_CTRL, 2, 3);
	msix_ctl(m, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	wr(m, TESTDEV_REG_SCRATCH, 0x1234);
	assert_int_equal(model_bar_write(m, 0, entry(3, 0), 8, 0xfee00000ull), 0);
	wr(m, entry(3, PCI_MSIX_ENTRY_DATA), 0x41);
	set_mask(m, 3, 0);
	wr(m, TESTDEV_REG_DOORBELL, 3);  /* latched by the function mask */
	wr(m, TESTDEV_REG_DOORBELL, 99); /* a fault */
	assert_int_equal(model_bar_write(m, 2, 0, 4, 0xdeadbeef), 0);
	bar2(m)[(1 << 20) - 1] = 0x77;
	put_desc(R_DESC, 0, SRC_BUS, DST_BUS, 64, 0);
	wr(m, TESTDEV_REG_COMPL_VEC, 5);
	run(m, DESC_BUS, 1, TESTDEV_CTRL_IRQ_EN);
	assert_true(pba_bit(m, 3));
	assert_int_equal(rd(m, TESTDEV_REG_SCRATCH), 0x1234);
	assert_int_not_equal(rd(m, TESTDEV_REG_FAULT_COUNT), 0);
	assert_int_not_equal(rd8(m, TESTDEV_REG_BYTES), 0);
}

static void check_bar2_zero(struct upci_model *m)
{
	uint64_t v = 1;

	for (uint64_t k = 0; k < m->bars[2].size; k++)
		if (bar2(m)[k])
			fail_msg("BAR2 byte %llu not zero", (unsigned long long)k);
	assert_int_equal(model_bar_read(m, 2, 0, 8, &v), 0);
	assert_int_equal(v, 0);
}

static void test_reset(void **state)
{
	struct upci_model *m = mk(NULL);
	static uint8_t image[4096];

	(void)state;
	memcpy(image, m->cfg.data, sizeof(image));
	dirty(m);
	model_reset(m);
	assert_memory_equal(m->cfg.data, image, sizeof(image));
	check_reg_defaults(m, 32);
	check_bar2_zero(m);
	/* The latched vector is gone: enabling delivers nothing. */
	msix_ctl(m, PCI_MSIX_FLAGS_ENABLE);
	set_mask(m, 3, 0);
	assert_int_equal(F.msi_calls, 0);
	model_destroy(m);
}

static void test_flr(void **state)
{
	static const struct {
		unsigned off, width;
		uint32_t val;
	} writes[] = {
		{TESTDEV_CAP_EXP + PCI_EXP_DEVCTL, 2, 0x2810 | PCI_EXP_DEVCTL_BCR_FLR},
		{TESTDEV_CAP_EXP + PCI_EXP_DEVCTL, 4, PCI_EXP_DEVCTL_BCR_FLR}, /* DEVCTL + DEVSTA */
		{TESTDEV_CAP_EXP + PCI_EXP_DEVCTL + 1, 1, PCI_EXP_DEVCTL_BCR_FLR >> 8},
	};
	static uint8_t image[4096];

	(void)state;
	for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
		struct upci_model *m = mk(NULL);

		memcpy(image, m->cfg.data, sizeof(image));
		dirty(m);
		cfg_wr(m, writes[i].off, writes[i].width, writes[i].val);
		assert_int_equal(cfg_rd(m, TESTDEV_CAP_EXP + PCI_EXP_DEVCTL, 2), 0x2810); /* FLR bit reads 0 */
		assert_int_equal(cfg_rd(m, PCI_COMMAND, 2), 0);
		assert_int_equal(cfg_rd(m, TESTDEV_CAP_MSIX + PCI_MSIX_FLAGS, 2), 31);
		assert_int_equal(cfg_rd(m, PCI_BAR_OFFSET(0), 4), 0x4);
		assert_memory_equal(m->cfg.data, image, sizeof(image));
		check_reg_defaults(m, 32);
		check_bar2_zero(m);
		model_destroy(m);
	}
}

static void test_devctl_without_flr(void **state)
{
	struct upci_model *m = mk(NULL);
	unsigned devctl = TESTDEV_CAP_EXP + PCI_EXP_DEVCTL;

	(void)state;
	wr(m, TESTDEV_REG_SCRATCH, 0x99);
	cfg_wr(m, devctl, 2, 0x0010); /* other DEVCTL bits: no reset */
	assert_int_equal(cfg_rd(m, devctl, 2), 0x0010);
	assert_int_equal(rd(m, TESTDEV_REG_SCRATCH), 0x99);
	cfg_wr(m, devctl, 1, 0xff); /* low byte only: FLR is in the high byte */
	assert_int_equal(rd(m, TESTDEV_REG_SCRATCH), 0x99);
	/* DEVCAP is read-only. */
	cfg_wr(m, TESTDEV_CAP_EXP + PCI_EXP_DEVCAP, 4, 0);
	assert_true(cfg_rd(m, TESTDEV_CAP_EXP + PCI_EXP_DEVCAP, 4) & PCI_EXP_DEVCAP_FLR);
	model_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_caps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_sizing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_params, setup, teardown),
		cmocka_unit_test_setup_teardown(test_registers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar2_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_access, setup, teardown),
		cmocka_unit_test_setup_teardown(test_doorbell_delivery, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fire_timestamp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_on_bus_master, setup, teardown),
		cmocka_unit_test_setup_teardown(test_entry_mask_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_function_mask, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msix_disabled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_doorbell_fault, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_1mib, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_bar2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_overlap_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_spanning, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_hostile_descriptors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_hostile_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_wrap_sloppy_host, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_max_descriptors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_run_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_no_host, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_devctl_without_flr, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

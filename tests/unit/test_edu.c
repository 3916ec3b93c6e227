/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the edu model against QEMU's docs/specs/edu.rst and the
 * upci extensions in edu_regs.h, through a fake host: a few pages of RAM at
 * RAM_BUS with guard bytes around them, a writable page at ADJ_BUS right
 * below a read-only page at RO_BUS, and recorders for MSI and INTx. Its
 * copying callbacks behave like the sim backend's: region by region, so a
 * failure can leave part of a write done.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "edu_regs.h"
#include "model.h"
#include "pci_regs.h"
#include "upci/upci.h"


#define PAGE        4096u
#define RAM_BUS     0x100000u
#define RAM_SIZE    (4u * PAGE)
#define RO_BUS      0x200000u
#define ADJ_BUS     (RO_BUS - PAGE)
#define UNMAPPED    0x180000u
#define GUARD       64u
#define GUARD_BYTE  0xa5u
#define SCRATCH     (RAM_BUS + 3u * PAGE) /* where buffer readbacks land */

struct fake_host {
	uint8_t arena[GUARD + RAM_SIZE + GUARD];
	uint8_t adj[PAGE];
	uint8_t ro[PAGE];
	unsigned msi_count, msi_last;
	unsigned intx_calls;
	int intx_level;
};

static uint8_t *ram(struct fake_host *f)
{
	return f->arena + GUARD;
}

struct fake_region {
	uint64_t bus, len;
	uint8_t *mem;
	unsigned perm;
};

static unsigned fake_regions(struct fake_host *f, struct fake_region r[3])
{
	r[0] = (struct fake_region){ RAM_BUS, RAM_SIZE, ram(f), UPCI_DMA_RW };
	r[1] = (struct fake_region){ ADJ_BUS, PAGE, f->adj, UPCI_DMA_RW };
	r[2] = (struct fake_region){ RO_BUS, PAGE, f->ro, UPCI_DMA_READ };
	return 3;
}

/* The region holding @bus, or NULL. */
static const struct fake_region *fake_find(struct fake_host *f, struct fake_region *r, uint64_t bus)
{
	unsigned n = fake_regions(f, r);

	for (unsigned i = 0; i < n; i++)
		if (bus >= r[i].bus && bus - r[i].bus < r[i].len)
			return &r[i];
	return NULL;
}

static void *fake_translate(void *opaque, uint64_t bus, uint64_t len, unsigned need)
{
	struct fake_region rs[3];
	const struct fake_region *r = fake_find(opaque, rs, bus);

	if (!r || len == 0 || len > r->len - (bus - r->bus) || (r->perm & need) != need)
		return NULL;
	return r->mem + (bus - r->bus);
}

/* Region by region, stopping at the first hole (like the sim host). */
static int fake_copy(struct fake_host *f, uint64_t bus, uint8_t *buf, uint64_t len, unsigned need)
{
	while (len) {
		struct fake_region rs[3];
		const struct fake_region *r = fake_find(f, rs, bus);
		uint64_t chunk;

		if (!r || (r->perm & need) != need)
			return -EFAULT;
		chunk = r->len - (bus - r->bus);
		if (chunk > len)
			chunk = len;
		if (need == UPCI_DMA_WRITE)
			memcpy(r->mem + (bus - r->bus), buf, chunk);
		else
			memcpy(buf, r->mem + (bus - r->bus), chunk);
		bus += chunk;
		buf += chunk;
		len -= chunk;
	}
	return 0;
}

static int fake_dma_read(void *opaque, uint64_t bus, void *buf, uint64_t len)
{
	return fake_copy(opaque, bus, buf, len, UPCI_DMA_READ);
}

static int fake_dma_write(void *opaque, uint64_t bus, const void *buf, uint64_t len)
{
	return fake_copy(opaque, bus, (uint8_t *)buf, len, UPCI_DMA_WRITE);
}

static void fake_msi(void *opaque, unsigned vec)
{
	struct fake_host *f = opaque;

	f->msi_count++;
	f->msi_last = vec;
}

static void fake_intx(void *opaque, int level)
{
	struct fake_host *f = opaque;

	f->intx_calls++;
	f->intx_level = level;
}

struct fx {
	struct fake_host fh;
	struct model_host host;
	struct upci_model *m;
};

static struct fx fx_storage;

static void fx_host_init(struct fx *t, int with_translate)
{
	memset(&t->fh, 0, sizeof(t->fh));
	memset(t->fh.arena, GUARD_BYTE, sizeof(t->fh.arena));
	memset(ram(&t->fh), 0, RAM_SIZE);
	t->host = (struct model_host){
		.opaque = &t->fh,
		.dma_translate = with_translate ? fake_translate : NULL,
		.dma_read = fake_dma_read,
		.dma_write = fake_dma_write,
		.msi = fake_msi,
		.intx = fake_intx,
	};
}

static int setup(void **state)
{
	struct fx *t = &fx_storage;

	fx_host_init(t, 1);
	if (model_create(&model_edu_ops, NULL, &t->host, NULL, &t->m) != 0)
		return -1;
	*state = t;
	return 0;
}

/* The same, but the host only offers copying callbacks (no translation). */
static int setup_copy_only(void **state)
{
	struct fx *t = &fx_storage;

	fx_host_init(t, 0);
	if (model_create(&model_edu_ops, NULL, &t->host, NULL, &t->m) != 0)
		return -1;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct fx *t = *state;

	model_destroy(t->m);
	return 0;
}

/* ---- helpers ---- */

static uint32_t rd32(struct upci_model *m, uint64_t off)
{
	uint64_t v = 0;

	assert_int_equal(model_bar_read(m, 0, off, 4, &v), 0);
	assert_true(v <= UINT32_MAX);
	return (uint32_t)v;
}

static uint64_t rd64(struct upci_model *m, uint64_t off)
{
	uint64_t v = 0;

	assert_int_equal(model_bar_read(m, 0, off, 8, &v), 0);
	return v;
}

static void wr32(struct upci_model *m, uint64_t off, uint32_t v)
{
	assert_int_equal(model_bar_write(m, 0, off, 4, v), 0);
}

static void wr64(struct upci_model *m, uint64_t off, uint64_t v)
{
	assert_int_equal(model_bar_write(m, 0, off, 8, v), 0);
}

static void cfg_wr(struct upci_model *m, unsigned off, unsigned width, uint32_t v)
{
	model_cfg_write(m, off, width, v);
}

static uint32_t cfg_rd(struct upci_model *m, unsigned off, unsigned width)
{
	return cfgspace_read(&m->cfg, off, width);
}

static void master_on(struct upci_model *m)
{
	cfg_wr(m, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

static void dma(struct upci_model *m, uint64_t src, uint64_t dst, uint64_t cnt, uint64_t cmd)
{
	wr64(m, EDU_REG_DMA_SRC, src);
	wr64(m, EDU_REG_DMA_DST, dst);
	wr64(m, EDU_REG_DMA_COUNT, cnt);
	wr64(m, EDU_REG_DMA_CMD, cmd);
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7u + (i >> 8));
}

static void assert_guards(struct fake_host *f)
{
	for (unsigned i = 0; i < GUARD; i++) {
		assert_int_equal(f->arena[i], GUARD_BYTE);
		assert_int_equal(f->arena[GUARD + RAM_SIZE + i], GUARD_BYTE);
	}
}

/* ---- identity and config space ---- */

static void test_ops(void **state)
{
	(void)state;
	assert_string_equal(model_edu_ops.name, "edu");
	assert_int_equal(model_edu_ops.api_version, UPCI_MODEL_API_VERSION);
	assert_non_null(model_edu_ops.reset);
	assert_non_null(model_edu_ops.create);
}

static void test_config_identity(void **state)
{
	struct fx *t = *state;
	struct upci_model *m = t->m;
	unsigned cap;

	assert_int_equal(cfg_rd(m, PCI_VENDOR_ID, 2), 0x1234);
	assert_int_equal(cfg_rd(m, PCI_DEVICE_ID, 2), 0x11e8);
	assert_int_equal(cfg_rd(m, PCI_REVISION_ID, 1), 0x10);
	assert_int_equal(cfg_rd(m, PCI_CLASS_PROG, 1), 0x00);
	assert_int_equal(cfg_rd(m, PCI_CLASS_DEVICE, 1), 0xff); /* subclass */
	assert_int_equal(cfg_rd(m, PCI_CLASS_DEVICE + 1, 1), 0x00); /* base class */
	assert_int_equal(cfg_rd(m, PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1af4);
	assert_int_equal(cfg_rd(m, PCI_SUBSYSTEM_ID, 2), 0x1100);
	assert_int_equal(cfg_rd(m, PCI_HEADER_TYPE, 1), 0);
	assert_int_equal(cfg_rd(m, PCI_INTERRUPT_PIN, 1), 1);
	assert_int_equal(m->cfg.size, 256);
	assert_int_equal(model_has_flr(m), 0);
	/* Command starts off: no memory decode, no bus mastering. */
	assert_int_equal(cfg_rd(m, PCI_COMMAND, 2), 0);

	/* One capability: MSI, 1 vector, 64-bit, no per-vector mask. */
	assert_true(cfg_rd(m, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	cap = cfg_rd(m, PCI_CAPABILITY_LIST, 1);
	assert_int_equal(cap, 0x40);
	assert_int_equal(cfg_rd(m, cap + PCI_CAP_LIST_ID, 1), PCI_CAP_ID_MSI);
	assert_int_equal(cfg_rd(m, cap + PCI_CAP_LIST_NEXT, 1), 0);
	assert_int_equal(cfg_rd(m, cap + PCI_MSI_FLAGS, 2), PCI_MSI_FLAGS_64BIT);

	/* MSI: address low is dword aligned, data 16 bits, QMASK read-only. */
	cfg_wr(m, cap + PCI_MSI_ADDRESS_LO, 4, 0xfee00003u);
	assert_int_equal(cfg_rd(m, cap + PCI_MSI_ADDRESS_LO, 4), 0xfee00000u);
	cfg_wr(m, cap + PCI_MSI_ADDRESS_HI, 4, 0x12345678u);
	assert_int_equal(cfg_rd(m, cap + PCI_MSI_ADDRESS_HI, 4), 0x12345678u);
	cfg_wr(m, cap + PCI_MSI_DATA_64, 2, 0xbeef);
	assert_int_equal(cfg_rd(m, cap + PCI_MSI_DATA_64, 2), 0xbeef);
	cfg_wr(m, cap + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_QMASK);
	assert_int_equal(cfg_rd(m, cap + PCI_MSI_FLAGS, 2) & PCI_MSI_FLAGS_QMASK, 0);

	/* Interrupt pin and IDs are read-only. */
	cfg_wr(m, PCI_INTERRUPT_PIN, 1, 4);
	assert_int_equal(cfg_rd(m, PCI_INTERRUPT_PIN, 1), 1);
	cfg_wr(m, PCI_VENDOR_ID, 4, 0);
	assert_int_equal(cfg_rd(m, PCI_VENDOR_ID, 4), 0x11e81234u);
}

static void test_bar0(void **state)
{
	struct fx *t = *state;
	struct upci_model *m = t->m;
	const struct model_bar *b = &m->bars[0];

	assert_int_equal(b->size, 1u << 20);
	assert_true(b->flags & UPCI_BAR_PRESENT);
	assert_true(b->flags & UPCI_BAR_MAPPABLE);
	assert_true(b->flags & UPCI_BAR_MAP_RDONLY);
	assert_false(b->flags & (UPCI_BAR_IO | UPCI_BAR_MEM64 | UPCI_BAR_PREFETCH));
	assert_non_null(b->mem);
	assert_true(b->fd >= 0);
	for (unsigned i = 1; i < UPCI_NUM_BARS; i++) {
		assert_int_equal(m->bars[i].size, 0);
		assert_null(m->bars[i].mem);
	}

	/* 32-bit, non-prefetchable memory BAR. */
	assert_int_equal(cfg_rd(m, PCI_BAR_OFFSET(0), 4), 0);
	/* Sizing: all ones reads back the 1 MiB size mask. */
	cfg_wr(m, PCI_BAR_OFFSET(0), 4, 0xffffffffu);
	assert_int_equal(cfg_rd(m, PCI_BAR_OFFSET(0), 4), 0xfff00000u);
	cfg_wr(m, PCI_BAR_OFFSET(0), 4, 0xfeb12345u);
	assert_int_equal(cfg_rd(m, PCI_BAR_OFFSET(0), 4), 0xfeb00000u);
	/* The other BARs are not implemented. */
	for (unsigned i = 1; i < UPCI_NUM_BARS; i++) {
		cfg_wr(m, PCI_BAR_OFFSET(i), 4, 0xffffffffu);
		assert_int_equal(cfg_rd(m, PCI_BAR_OFFSET(i), 4), 0);
	}
}

static void test_params(void **state)
{
	struct fx *t = *state;
	struct upci_model_params p;
	struct upci_model *m = (struct upci_model *)&p; /* must be overwritten */

	memset(&p, 0, sizeof(p));
	p.u.n = 1;
	strcpy(p.u.p[0].key, "vectors");
	strcpy(p.u.p[0].val, "4");
	assert_int_equal(model_create(&model_edu_ops, NULL, &t->host, &p, &m), -EINVAL);
	assert_null(m);

	p.u.n = 0;
	assert_int_equal(model_create(&model_edu_ops, NULL, &t->host, &p, &m), 0);
	assert_non_null(m);
	model_destroy(m);
}

/* ---- simple registers ---- */

static void test_id(void **state)
{
	struct fx *t = *state;

	assert_int_equal(rd32(t->m, EDU_REG_ID), 0x010000edu);
	wr32(t->m, EDU_REG_ID, 0);
	assert_int_equal(rd32(t->m, EDU_REG_ID), 0x010000edu);
}

static void test_liveness(void **state)
{
	struct fx *t = *state;

	assert_int_equal(rd32(t->m, EDU_REG_LIVENESS), 0);
	wr32(t->m, EDU_REG_LIVENESS, 0x12345678u);
	assert_int_equal(rd32(t->m, EDU_REG_LIVENESS), 0xedcba987u);
	wr32(t->m, EDU_REG_LIVENESS, 0);
	assert_int_equal(rd32(t->m, EDU_REG_LIVENESS), 0xffffffffu);
	wr32(t->m, EDU_REG_LIVENESS, 0xffffffffu);
	assert_int_equal(rd32(t->m, EDU_REG_LIVENESS), 0);
}

static void test_factorial(void **state)
{
	struct fx *t = *state;
	static const uint32_t fact[] = {
		1, 1, 2, 6, 24, 120, 720, 5040, 40320, 362880, 3628800, 39916800, 479001600,
	};

	for (uint32_t n = 0; n < sizeof(fact) / sizeof(fact[0]); n++) {
		wr32(t->m, EDU_REG_FACTORIAL, n);
		assert_int_equal(rd32(t->m, EDU_REG_STATUS) & EDU_STATUS_COMPUTING, 0);
		assert_int_equal(rd32(t->m, EDU_REG_FACTORIAL), fact[n]);
	}
	/* 13! = 6227020800 wraps to 6227020800 - 2^32. */
	wr32(t->m, EDU_REG_FACTORIAL, 13);
	assert_int_equal(rd32(t->m, EDU_REG_FACTORIAL), 1932053504u);
	/* 33! has 31 factors of two and an odd rest: 2^31 mod 2^32. */
	wr32(t->m, EDU_REG_FACTORIAL, 33);
	assert_int_equal(rd32(t->m, EDU_REG_FACTORIAL), 0x80000000u);
	/* 34! has 32 factors of two. */
	wr32(t->m, EDU_REG_FACTORIAL, 34);
	assert_int_equal(rd32(t->m, EDU_REG_FACTORIAL), 0);
	/* A hostile n must neither hang nor crash. */
	wr32(t->m, EDU_REG_FACTORIAL, 0xffffffffu);
	assert_int_equal(rd32(t->m, EDU_REG_FACTORIAL), 0);
	/* No interrupt without EDU_STATUS_IRQFACT. */
	assert_int_equal(rd32(t->m, EDU_REG_IRQ_STATUS), 0);
	assert_int_equal(t->fh.intx_calls, 0);
	assert_int_equal(t->fh.msi_count, 0);
}

static void test_factorial_irq(void **state)
{
	struct fx *t = *state;
	struct upci_model *m = t->m;

	/* Only the irq-on-factorial bit is writable. */
	wr32(m, EDU_REG_STATUS, 0xffffffffu);
	assert_int_equal(rd32(m, EDU_REG_STATUS), EDU_STATUS_IRQFACT);
	wr32(m, EDU_REG_FACTORIAL, 5);
	assert_int_equal(rd32(m, EDU_REG_FACTORIAL), 120);
	assert_int_equal(rd32(m, EDU_REG_IRQ_STATUS), EDU_IRQ_FACT);
	assert_int_equal(t->fh.intx_level, 1);
	assert_int_equal(t->fh.intx_calls, 1);
	wr32(m, EDU_REG_IRQ_ACK, EDU_IRQ_FACT);
	assert_int_equal(rd32(m, EDU_REG_IRQ_STATUS), 0);
	assert_int_equal(t->fh.intx_level, 0);
	assert_int_equal(t->fh.intx_calls, 2);

	wr32(m, EDU_REG_STATUS, 0);
	assert_int_equal(rd32(m, EDU_REG_STATUS), 0);
	wr32(m, EDU_REG_FACTORIAL, 3);
	assert_int_equal(rd32(m, EDU_REG_IRQ_STATUS), 0);
	assert_int_equal(t->fh.intx_calls, 2);
}

/* ---- interrupts ---- */

static void test_raise_ack_intx(void **state)
{
	struct fx *t = *state;
	struct upci_model *m = t->m;

	wr32(m, EDU_REG_IRQ_RAISE, 0x5);
	assert_int_equal(rd32(m, EDU_REG_IRQ_STATUS), 0x5);
	assert_int_equal(t->fh.intx_calls, 1);
	assert_int_equal(t->fh.intx_level, 1);
	assert_true(cfg_rd(m, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	/* Interrupt status is read-only. */
	wr32(m, EDU_REG_IRQ_STATUS, 0);
	assert_int_equal(rd32(m, EDU_REG_IRQ_STATUS), 0x5);
	/* Each raise restates the high level (a host may have dropped it). */
	wr32(m, EDU_REG_IRQ_RAISE, 0x2);
	assert_int_equal(rd32(m, EDU_REG_IRQ_STATUS), 0x7);
	assert_int_equal(t->fh.intx_calls, 2);
	assert_int_equal(t->fh.intx_level, 1);
	/* A partial ack changes nothing on the pin. */
	wr32(m, EDU_REG_IRQ_ACK, 0x1);
	assert_int_equal(rd32(m, EDU_REG_IRQ_STATUS), 0x6);
	assert_int_equal(t->fh.intx_calls, 2);
	assert_int_equal(t->fh.intx_level, 1);
	wr32(m, EDU_REG_IRQ_ACK, 0x6);
	assert_int_equal(rd32(m, EDU_REG_IRQ_STATUS), 0);
	assert_int_equal(t->fh.intx_level, 0);
	assert_int_equal(t->fh.intx_calls, 3);
	assert_false(cfg_rd(m, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	/* Ack with nothing pending: the pin stays low, no call. */
	wr32(m, EDU_REG_IRQ_ACK, 0x1);
	assert_int_equal(t->fh.intx_calls, 3);
	assert_int_equal(t->fh.msi_count, 0);

	/* COMMAND.INTX_DISABLE keeps the pin low; STATUS still shows it. */
	cfg_wr(m, PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE);
	wr32(m, EDU_REG_IRQ_RAISE, 0x100);
	assert_int_equal(t->fh.intx_level, 0);
	assert_int_equal(t->fh.intx_calls, 3);
	assert_true(cfg_rd(m, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	cfg_wr(m, PCI_COMMAND, 2, 0);
	assert_int_equal(t->fh.intx_level, 1);
	assert_int_equal(t->fh.intx_calls, 4);
	wr32(m, EDU_REG_IRQ_ACK, 0xffffffffu);
	assert_int_equal(t->fh.intx_level, 0);
}

static void test_raise_ack_msi(void **state)
{
	struct fx *t = *state;
	struct upci_model *m = t->m;
	unsigned cap = EDU_MSI_CAP;

	/* A pending INTx is withdrawn when MSI is turned on. */
	wr32(m, EDU_REG_IRQ_RAISE, 0x8);
	assert_int_equal(t->fh.intx_level, 1);
	cfg_wr(m, cap + PCI_MSI_ADDRESS_LO, 4, 0xfee00000u);
	cfg_wr(m, cap + PCI_MSI_DATA_64, 2, 0x41);
	cfg_wr(m, cap + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE);
	assert_true(cfg_rd(m, cap + PCI_MSI_FLAGS, 2) & PCI_MSI_FLAGS_ENABLE);
	/* Bus mastering off: no message leaves the device. */
	wr32(m, EDU_REG_IRQ_RAISE, 0x2);
	assert_int_equal(t->fh.msi_count, 0);
	wr32(m, EDU_REG_IRQ_ACK, 0x2);
	cfg_wr(m, PCI_COMMAND, 2, cfg_rd(m, PCI_COMMAND, 2) | PCI_COMMAND_MASTER);
	assert_int_equal(t->fh.intx_level, 0);
	assert_false(cfg_rd(m, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	wr32(m, EDU_REG_IRQ_ACK, 0x8);
	assert_int_equal(t->fh.msi_count, 0);

	wr32(m, EDU_REG_IRQ_RAISE, 0x1);
	assert_int_equal(t->fh.msi_count, 1);
	assert_int_equal(t->fh.msi_last, 0);
	/* Every raise while status is non-zero sends a message (as QEMU). */
	wr32(m, EDU_REG_IRQ_RAISE, 0x0);
	assert_int_equal(t->fh.msi_count, 2);
	wr32(m, EDU_REG_IRQ_ACK, 0x1);
	assert_int_equal(rd32(m, EDU_REG_IRQ_STATUS), 0);
	/* Nothing pending: raising 0 sends nothing. */
	wr32(m, EDU_REG_IRQ_RAISE, 0x0);
	assert_int_equal(t->fh.msi_count, 2);
	/* Factorial completion goes through MSI too. */
	wr32(m, EDU_REG_STATUS, EDU_STATUS_IRQFACT);
	wr32(m, EDU_REG_FACTORIAL, 4);
	assert_int_equal(t->fh.msi_count, 3);
	assert_int_equal(rd32(m, EDU_REG_IRQ_STATUS), EDU_IRQ_FACT);
	assert_int_equal(t->fh.intx_level, 0);
	assert_int_equal(t->fh.intx_calls, 2); /* the up and down above only */

	/* MSI off again: the pending status drives the pin. */
	cfg_wr(m, cap + PCI_MSI_FLAGS, 2, 0);
	assert_int_equal(t->fh.intx_level, 1);
	wr32(m, EDU_REG_IRQ_ACK, EDU_IRQ_FACT);
	assert_int_equal(t->fh.intx_level, 0);
	assert_int_equal(t->fh.msi_count, 3);
}

/* ---- DMA ---- */

static void test_dma_roundtrip(void **state)
{
	struct fx *t = *state;
	struct upci_model *m = t->m;
	uint8_t *r = ram(&t->fh);

	master_on(m);
	fill(r, PAGE, 0x11);
	dma(m, RAM_BUS, EDU_DMA_START, EDU_DMA_SIZE, EDU_DMA_CMD_START | EDU_DMA_CMD_IRQ);
	assert_int_equal(rd64(m, EDU_REG_DMA_CMD), EDU_DMA_CMD_IRQ);
	assert_int_equal(rd32(m, EDU_REG_IRQ_STATUS), EDU_IRQ_DMA);
	assert_int_equal(t->fh.intx_level, 1);
	wr32(m, EDU_REG_IRQ_ACK, EDU_IRQ_DMA);

	dma(m, EDU_DMA_START, RAM_BUS + PAGE, EDU_DMA_SIZE, EDU_DMA_CMD_START | EDU_DMA_CMD_TO_RAM);
	assert_int_equal(rd64(m, EDU_REG_DMA_CMD), EDU_DMA_CMD_TO_RAM);
	assert_int_equal(rd32(m, EDU_REG_IRQ_STATUS), 0);
	assert_memory_equal(r + PAGE, r, PAGE);

	/* Part of the buffer: 16 bytes at its last 16 into RAM page 2. */
	dma(m, EDU_DMA_START + EDU_DMA_SIZE - 16, RAM_BUS + 2 * PAGE + 5, 16,
	    EDU_DMA_CMD_START | EDU_DMA_CMD_TO_RAM);
	assert_memory_equal(r + 2 * PAGE + 5, r + PAGE - 16, 16);
	assert_int_equal(r[2 * PAGE + 4], 0);
	assert_int_equal(r[2 * PAGE + 21], 0);

	/* One byte at the end of both RAM and the buffer is fine. */
	r[RAM_SIZE - 1] = 0x5a;
	dma(m, RAM_BUS + RAM_SIZE - 1, EDU_DMA_START + EDU_DMA_SIZE - 1, 1, EDU_DMA_CMD_START);
	dma(m, EDU_DMA_START + EDU_DMA_SIZE - 1, RAM_BUS, 1, EDU_DMA_CMD_START | EDU_DMA_CMD_TO_RAM);
	assert_int_equal(r[0], 0x5a);

	/* Reading from a read-only region is allowed. */
	fill(t->fh.ro, PAGE, 0x77);
	dma(m, RO_BUS, EDU_DMA_START, PAGE, EDU_DMA_CMD_START);
	dma(m, EDU_DMA_START, RAM_BUS + PAGE, PAGE, EDU_DMA_CMD_START | EDU_DMA_CMD_TO_RAM);
	assert_memory_equal(r + PAGE, t->fh.ro, PAGE);

	/* A range over two adjacent regions moves as one. */
	fill(t->fh.adj, PAGE, 0x55);
	dma(m, RO_BUS - PAGE / 2, EDU_DMA_START, PAGE, EDU_DMA_CMD_START);
	dma(m, EDU_DMA_START, RAM_BUS + PAGE, PAGE, EDU_DMA_CMD_START | EDU_DMA_CMD_TO_RAM);
	assert_memory_equal(r + PAGE, t->fh.adj + PAGE / 2, PAGE / 2);
	assert_memory_equal(r + PAGE + PAGE / 2, t->fh.ro, PAGE / 2);

	assert_int_equal(rd32(m, EDU_REG_DMA_FAULTS), 0);
	assert_int_equal(rd32(m, EDU_REG_DMA_ERROR), EDU_DMA_ERR_NONE);
	assert_guards(&t->fh);
}

/* Command without the start bit is ignored; registers hold 64 bits. */
static void test_dma_registers(void **state)
{
	struct fx *t = *state;
	struct upci_model *m = t->m;

	wr64(m, EDU_REG_DMA_SRC, 0x1122334455667788ull);
	assert_int_equal(rd64(m, EDU_REG_DMA_SRC), 0x1122334455667788ull);
	assert_int_equal(rd32(m, EDU_REG_DMA_SRC), 0x55667788u);
	/* As QEMU: the upper half is not a register of its own. */
	assert_int_equal(rd32(m, EDU_REG_DMA_SRC + 4), 0xffffffffu);
	/* A 4-byte write replaces all 64 bits. */
	wr32(m, EDU_REG_DMA_SRC, 0xabcd);
	assert_int_equal(rd64(m, EDU_REG_DMA_SRC), 0xabcd);
	/* Bits above a 4-byte access are not part of it. */
	assert_int_equal(model_bar_write(m, 0, EDU_REG_DMA_SRC, 4, 0xdead0000beefull), 0);
	assert_int_equal(rd64(m, EDU_REG_DMA_SRC), 0xbeef);
	wr64(m, EDU_REG_DMA_DST, 0x40000);
	assert_int_equal(rd64(m, EDU_REG_DMA_DST), 0x40000);
	wr64(m, EDU_REG_DMA_COUNT, 0x123);
	assert_int_equal(rd64(m, EDU_REG_DMA_COUNT), 0x123);
	wr64(m, EDU_REG_DMA_CMD, EDU_DMA_CMD_TO_RAM | EDU_DMA_CMD_IRQ);
	assert_int_equal(rd64(m, EDU_REG_DMA_CMD), 0);
	assert_int_equal(rd32(m, EDU_REG_IRQ_STATUS), 0);
	assert_int_equal(rd32(m, EDU_REG_DMA_FAULTS), 0);
	/* The extension registers are read-only. */
	wr32(m, EDU_REG_DMA_FAULTS, 7);
	wr32(m, EDU_REG_DMA_ERROR, 7);
	assert_int_equal(rd32(m, EDU_REG_DMA_FAULTS), 0);
	assert_int_equal(rd32(m, EDU_REG_DMA_ERROR), 0);
}

struct hostile {
	const char *what;
	uint64_t src, dst, cnt, cmd;
	uint32_t err;
};

/* Buffer contents every hostile test starts from (loaded from page 0). */
static void load_buffer(struct fx *t)
{
	uint32_t faults = rd32(t->m, EDU_REG_DMA_FAULTS);

	fill(ram(&t->fh), PAGE, 0x3c);
	dma(t->m, RAM_BUS, EDU_DMA_START, EDU_DMA_SIZE, EDU_DMA_CMD_START);
	assert_int_equal(rd32(t->m, EDU_REG_DMA_FAULTS), faults);
}

/* The buffer must still hold load_buffer()'s pattern. */
static void assert_buffer_unchanged(struct fx *t)
{
	uint8_t want[PAGE];
	uint8_t *r = ram(&t->fh);

	fill(want, PAGE, 0x3c);
	master_on(t->m);
	memset(r + 3 * PAGE, 0, PAGE);
	dma(t->m, EDU_DMA_START, SCRATCH, EDU_DMA_SIZE, EDU_DMA_CMD_START | EDU_DMA_CMD_TO_RAM);
	assert_memory_equal(r + 3 * PAGE, want, PAGE);
}

static void run_hostile(struct fx *t, const struct hostile *h, int master)
{
	static uint8_t before[sizeof(((struct fake_host *)0)->arena)];
	static uint8_t ro_before[PAGE], adj_before[PAGE];
	struct upci_model *m = t->m;
	uint32_t faults;

	print_message("hostile: %s\n", h->what);
	master_on(m);
	load_buffer(t);
	/* RAM pages 1 and 2 hold a different pattern, all guarded. */
	fill(ram(&t->fh) + PAGE, 2 * PAGE, 0xc3);
	fill(t->fh.ro, PAGE, 0x99);
	fill(t->fh.adj, PAGE, 0x66);
	memcpy(before, t->fh.arena, sizeof(before));
	memcpy(ro_before, t->fh.ro, PAGE);
	memcpy(adj_before, t->fh.adj, PAGE);
	faults = rd32(m, EDU_REG_DMA_FAULTS);
	wr32(m, EDU_REG_IRQ_ACK, 0xffffffffu);
	if (!master)
		cfg_wr(m, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);

	dma(m, h->src, h->dst, h->cnt, h->cmd);

	assert_int_equal(rd32(m, EDU_REG_DMA_FAULTS), faults + 1);
	assert_int_equal(rd32(m, EDU_REG_DMA_ERROR), h->err);
	assert_int_equal(rd64(m, EDU_REG_DMA_CMD), h->cmd & ~(uint64_t)EDU_DMA_CMD_START);
	/* The completion interrupt comes anyway, if asked for. */
	assert_int_equal(rd32(m, EDU_REG_IRQ_STATUS), (h->cmd & EDU_DMA_CMD_IRQ) ? EDU_IRQ_DMA : 0);
	/* No byte moved: RAM, guards, the other pages and the buffer. */
	assert_memory_equal(t->fh.arena, before, sizeof(before));
	assert_memory_equal(t->fh.ro, ro_before, PAGE);
	assert_memory_equal(t->fh.adj, adj_before, PAGE);
	assert_buffer_unchanged(t);
	/* The readback itself must not have faulted. */
	assert_int_equal(rd32(m, EDU_REG_DMA_FAULTS), faults + 1);
}

#define TO_RAM   (EDU_DMA_CMD_START | EDU_DMA_CMD_TO_RAM)
#define FROM_RAM (EDU_DMA_CMD_START)
#define BUF_END  ((uint64_t)EDU_DMA_START + EDU_DMA_SIZE)

static const struct hostile hostile_cases[] = {
	{ "count 0, RAM->EDU", RAM_BUS + PAGE, EDU_DMA_START, 0, FROM_RAM, EDU_DMA_ERR_COUNT },
	{ "count 0, EDU->RAM", EDU_DMA_START, RAM_BUS + PAGE, 0, TO_RAM | EDU_DMA_CMD_IRQ, EDU_DMA_ERR_COUNT },
	{ "count 4097, RAM->EDU", RAM_BUS + PAGE, EDU_DMA_START, 4097, FROM_RAM, EDU_DMA_ERR_COUNT },
	{ "count 4097, EDU->RAM", EDU_DMA_START, RAM_BUS + PAGE, 4097, TO_RAM, EDU_DMA_ERR_COUNT },
	{ "count 2^64-1", EDU_DMA_START, RAM_BUS + PAGE, UINT64_MAX, TO_RAM, EDU_DMA_ERR_COUNT },
	{ "src below the buffer", EDU_DMA_START - 16, RAM_BUS + PAGE, 16, TO_RAM, EDU_DMA_ERR_BUFFER },
	{ "src at the buffer end", BUF_END, RAM_BUS + PAGE, 1, TO_RAM, EDU_DMA_ERR_BUFFER },
	{ "src 0", 0, RAM_BUS + PAGE, 16, TO_RAM, EDU_DMA_ERR_BUFFER },
	{ "dst straddles the buffer end", RAM_BUS + PAGE, BUF_END - 8, 16, FROM_RAM | EDU_DMA_CMD_IRQ,
	  EDU_DMA_ERR_BUFFER },
	{ "src straddles the buffer end", BUF_END - 8, RAM_BUS + PAGE, 16, TO_RAM, EDU_DMA_ERR_BUFFER },
	{ "4096 bytes from buffer + 1", EDU_DMA_START + 1, RAM_BUS + PAGE, 4096, TO_RAM, EDU_DMA_ERR_BUFFER },
	{ "buffer address wraps", RAM_BUS + PAGE, UINT64_MAX - 7, 16, FROM_RAM, EDU_DMA_ERR_BUFFER },
	/* QEMU would clamp this to RAM_BUS + PAGE and move bytes. */
	{ "RAM src above 28 bits", RAM_BUS + PAGE + (1ull << 28), EDU_DMA_START, 16, FROM_RAM, EDU_DMA_ERR_ADDR },
	{ "RAM dst above 28 bits", EDU_DMA_START, RAM_BUS + PAGE + (1ull << 40), 16, TO_RAM, EDU_DMA_ERR_ADDR },
	{ "RAM dst wraps", EDU_DMA_START, UINT64_MAX - 7, 16, TO_RAM, EDU_DMA_ERR_ADDR },
	{ "RAM src crosses the mask", EDU_DMA_MASK - 7, EDU_DMA_START, 16, FROM_RAM, EDU_DMA_ERR_ADDR },
	{ "RAM unmapped, RAM->EDU", UNMAPPED, EDU_DMA_START, 16, FROM_RAM, EDU_DMA_ERR_UNMAPPED },
	{ "RAM unmapped, EDU->RAM", EDU_DMA_START, UNMAPPED, 16, TO_RAM | EDU_DMA_CMD_IRQ, EDU_DMA_ERR_UNMAPPED },
	{ "RAM range runs off the end", EDU_DMA_START, RAM_BUS + RAM_SIZE - 8, 16, TO_RAM, EDU_DMA_ERR_UNMAPPED },
	{ "RAM range starts before", RAM_BUS - 8, EDU_DMA_START, 16, FROM_RAM, EDU_DMA_ERR_UNMAPPED },
	{ "write to read-only RAM", EDU_DMA_START, RO_BUS, 16, TO_RAM, EDU_DMA_ERR_UNMAPPED },
	/* The first half is writable: it must not be written either. */
	{ "write spans into read-only RAM", EDU_DMA_START, RO_BUS - PAGE / 2, PAGE, TO_RAM, EDU_DMA_ERR_UNMAPPED },
	/* The first half is readable: the buffer must not change either. */
	{ "read runs off read-only RAM", RO_BUS + PAGE / 2, EDU_DMA_START, PAGE, FROM_RAM, EDU_DMA_ERR_UNMAPPED },
};

static void test_dma_hostile(void **state)
{
	struct fx *t = *state;

	for (size_t i = 0; i < sizeof(hostile_cases) / sizeof(hostile_cases[0]); i++)
		run_hostile(t, &hostile_cases[i], 1);
	assert_int_equal(rd32(t->m, EDU_REG_DMA_FAULTS), sizeof(hostile_cases) / sizeof(hostile_cases[0]));
}

static void test_dma_bus_master_off(void **state)
{
	static const struct hostile h[] = {
		{ "master off, RAM->EDU", RAM_BUS + PAGE, EDU_DMA_START, 16, FROM_RAM | EDU_DMA_CMD_IRQ,
		  EDU_DMA_ERR_MASTER },
		{ "master off, EDU->RAM", EDU_DMA_START, RAM_BUS + PAGE, PAGE, TO_RAM, EDU_DMA_ERR_MASTER },
	};
	struct fx *t = *state;

	run_hostile(t, &h[0], 0);
	run_hostile(t, &h[1], 0);
	assert_int_equal(rd32(t->m, EDU_REG_DMA_FAULTS), 2);
}

/* Host without translation: the copying callbacks carry the DMA. */
static void test_dma_copy_only_host(void **state)
{
	struct fx *t = *state;
	struct upci_model *m = t->m;
	uint8_t *r = ram(&t->fh);

	master_on(m);
	fill(r, PAGE, 0x21);
	dma(m, RAM_BUS, EDU_DMA_START, PAGE, FROM_RAM);
	dma(m, EDU_DMA_START, RAM_BUS + PAGE, PAGE, TO_RAM);
	assert_memory_equal(r + PAGE, r, PAGE);
	assert_int_equal(rd32(m, EDU_REG_DMA_FAULTS), 0);

	/* RAM -> EDU failures still leave everything untouched (bounce
	 * buffer); EDU -> RAM atomicity is the host's business here. */
	run_hostile(t, &hostile_cases[16], 1); /* unmapped, RAM->EDU */
	run_hostile(t, &hostile_cases[19], 1); /* starts before RAM */
	run_hostile(t, &hostile_cases[22], 1); /* runs off read-only RAM */
}

/* ---- access rules ---- */

static void test_access_widths(void **state)
{
	struct fx *t = *state;
	struct upci_model *m = t->m;
	uint64_t v;

	/* Below 0x80: 4 bytes only. */
	for (unsigned w = 1; w <= 8; w *= 2) {
		if (w == 4)
			continue;
		v = 0;
		assert_int_equal(model_bar_read(m, 0, EDU_REG_ID, w, &v), -EINVAL);
		assert_true(v == (w == 8 ? UINT64_MAX : (1ull << (8 * w)) - 1));
		assert_int_equal(model_bar_write(m, 0, EDU_REG_LIVENESS, w, 0x1234), -EINVAL);
		assert_int_equal(model_bar_write(m, 0, EDU_REG_IRQ_RAISE, w, 0x1), -EINVAL);
	}
	assert_int_equal(rd32(m, EDU_REG_LIVENESS), 0);
	assert_int_equal(rd32(m, EDU_REG_IRQ_STATUS), 0);
	assert_int_equal(t->fh.intx_calls, 0);

	/* From 0x80: 4 or 8 bytes. */
	v = 0;
	assert_int_equal(model_bar_read(m, 0, EDU_REG_DMA_SRC, 2, &v), -EINVAL);
	assert_int_equal(v, 0xffff);
	assert_int_equal(model_bar_read(m, 0, EDU_REG_DMA_SRC, 1, &v), -EINVAL);
	assert_int_equal(v, 0xff);
	assert_int_equal(model_bar_write(m, 0, EDU_REG_DMA_SRC, 2, 0x4444), -EINVAL);
	assert_int_equal(model_bar_write(m, 0, EDU_REG_DMA_CMD, 1, EDU_DMA_CMD_START), -EINVAL);
	assert_int_equal(rd64(m, EDU_REG_DMA_SRC), 0);
	assert_int_equal(rd64(m, EDU_REG_DMA_CMD), 0);
	assert_int_equal(rd32(m, EDU_REG_DMA_FAULTS), 0);

	/* Only BAR0 exists; nothing past its end. */
	assert_int_equal(model_bar_read(m, 1, 0, 4, &v), -EINVAL);
	assert_int_equal(model_bar_write(m, 1, EDU_REG_LIVENESS, 4, 1), -EINVAL);
	assert_int_equal(model_bar_read(m, 0, EDU_BAR_SIZE, 4, &v), -EINVAL);
	assert_int_equal(v, 0xffffffffu);
	assert_int_equal(model_bar_write(m, 0, EDU_BAR_SIZE, 4, 1), -EINVAL);
	assert_int_equal(model_bar_read(m, 0, UINT64_MAX - 3, 4, &v), -EINVAL);
	assert_int_equal(model_bar_read(m, 0, 0, 4, NULL), -EINVAL);
	assert_int_equal(rd32(m, EDU_REG_LIVENESS), 0);
}

static void test_unimplemented(void **state)
{
	struct fx *t = *state;
	struct upci_model *m = t->m;
	static const uint64_t offs[] = {
		0x0c, 0x10, 0x1c, 0x28, 0x5c, 0x68, 0x7c, 0x84, 0x8c, 0x94, 0x9c, 0xa8, 0xfc,
		0x100, EDU_DMA_START, EDU_DMA_START + 0xffc, EDU_BAR_SIZE - 4,
	};

	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		wr32(m, offs[i], 0x12345678u);
		assert_int_equal(rd32(m, offs[i]), 0xffffffffu);
	}
	assert_true(rd64(m, 0x100) == UINT64_MAX);
	assert_true(rd64(m, 0xf8) == UINT64_MAX);
	assert_true(rd64(m, EDU_DMA_START) == UINT64_MAX);
	/* The 8-byte read of the extension pair shows both halves. */
	assert_int_equal(rd64(m, EDU_REG_DMA_FAULTS), 0);
	/* Writes to them changed nothing else. */
	assert_int_equal(rd32(m, EDU_REG_ID), 0x010000edu);
	assert_int_equal(rd32(m, EDU_REG_IRQ_STATUS), 0);
	assert_int_equal(t->fh.intx_calls, 0);
}

/* The read-only mapping shows what 4-byte reads return, all ones elsewhere. */
static void assert_mirror(struct upci_model *m)
{
	const uint8_t *mem = m->bars[0].mem;

	for (uint64_t off = 0; off < EDU_REG_SPACE_END; off += 4) {
		uint32_t v;

		memcpy(&v, mem + off, 4);
		assert_int_equal(v, rd32(m, off));
	}
	for (uint64_t off = EDU_REG_SPACE_END; off < EDU_BAR_SIZE; off++)
		if (mem[off] != 0xff)
			fail_msg("mirror byte 0x%llx is 0x%02x", (unsigned long long)off, mem[off]);
}

static void test_mirror(void **state)
{
	struct fx *t = *state;
	struct upci_model *m = t->m;
	const uint8_t *mem = m->bars[0].mem;

	/* Known values at known places (little-endian). */
	assert_int_equal(mem[0], 0xed);
	assert_int_equal(mem[3], 0x01);
	assert_int_equal(mem[EDU_REG_LIVENESS], 0);
	assert_int_equal(mem[0x0c], 0xff);
	assert_mirror(m);

	wr32(m, EDU_REG_LIVENESS, 0xff00ff00u);
	assert_int_equal(mem[EDU_REG_LIVENESS], 0xff);
	assert_int_equal(mem[EDU_REG_LIVENESS + 1], 0x00);
	wr32(m, EDU_REG_FACTORIAL, 6);
	assert_int_equal(mem[EDU_REG_FACTORIAL], 720 & 0xff);
	assert_int_equal(mem[EDU_REG_FACTORIAL + 1], 720 >> 8);
	wr32(m, EDU_REG_STATUS, EDU_STATUS_IRQFACT);
	wr32(m, EDU_REG_IRQ_RAISE, 0x30);
	assert_int_equal(mem[EDU_REG_IRQ_STATUS], 0x30);
	wr64(m, EDU_REG_DMA_SRC, 0x0102030405060708ull);
	assert_int_equal(mem[EDU_REG_DMA_SRC], 0x08);
	assert_int_equal(mem[EDU_REG_DMA_SRC + 4], 0xff);
	/* A fault shows up in the extension registers. */
	dma(m, EDU_DMA_START, RAM_BUS, 0, TO_RAM);
	assert_int_equal(mem[EDU_REG_DMA_FAULTS], 1);
	assert_int_equal(mem[EDU_REG_DMA_ERROR], EDU_DMA_ERR_MASTER);
	assert_int_equal(rd64(m, EDU_REG_DMA_FAULTS), ((uint64_t)EDU_DMA_ERR_MASTER << 32) | 1);
	assert_mirror(m);

	model_reset(m);
	assert_int_equal(mem[EDU_REG_LIVENESS], 0);
	assert_int_equal(mem[EDU_REG_IRQ_STATUS], 0);
	assert_mirror(m);
}

static void test_reset(void **state)
{
	struct fx *t = *state;
	struct upci_model *m = t->m;
	struct upci_model *fresh = NULL;
	uint8_t *r = ram(&t->fh);

	/* Dirty everything. */
	cfg_wr(m, PCI_BAR_OFFSET(0), 4, 0xfeb00000u);
	cfg_wr(m, PCI_INTERRUPT_LINE, 1, 11);
	master_on(m);
	fill(r, PAGE, 0x42);
	dma(m, RAM_BUS, EDU_DMA_START, PAGE, FROM_RAM);
	dma(m, RAM_BUS, EDU_DMA_START, 0, FROM_RAM); /* one fault */
	wr32(m, EDU_REG_LIVENESS, 1);
	wr32(m, EDU_REG_STATUS, EDU_STATUS_IRQFACT);
	wr32(m, EDU_REG_FACTORIAL, 4);
	wr32(m, EDU_REG_IRQ_RAISE, 0x1000);
	assert_int_equal(t->fh.intx_level, 1);
	cfg_wr(m, EDU_MSI_CAP + PCI_MSI_ADDRESS_LO, 4, 0xfee00000u);

	model_reset(m);

	assert_int_equal(t->fh.intx_level, 0);
	assert_int_equal(rd32(m, EDU_REG_ID), 0x010000edu);
	assert_int_equal(rd32(m, EDU_REG_LIVENESS), 0);
	assert_int_equal(rd32(m, EDU_REG_FACTORIAL), 0);
	assert_int_equal(rd32(m, EDU_REG_STATUS), 0);
	assert_int_equal(rd32(m, EDU_REG_IRQ_STATUS), 0);
	assert_int_equal(rd64(m, EDU_REG_DMA_SRC), 0);
	assert_int_equal(rd64(m, EDU_REG_DMA_DST), 0);
	assert_int_equal(rd64(m, EDU_REG_DMA_COUNT), 0);
	assert_int_equal(rd64(m, EDU_REG_DMA_CMD), 0);
	assert_int_equal(rd32(m, EDU_REG_DMA_FAULTS), 0);
	assert_int_equal(rd32(m, EDU_REG_DMA_ERROR), EDU_DMA_ERR_NONE);

	/* Config space equals a new instance's. */
	assert_int_equal(model_create(&model_edu_ops, NULL, &t->host, NULL, &fresh), 0);
	assert_memory_equal(m->cfg.data, fresh->cfg.data, PCI_CFG_SIZE);
	model_destroy(fresh);
	assert_int_equal(cfg_rd(m, PCI_BAR_OFFSET(0), 4), 0);
	assert_int_equal(cfg_rd(m, PCI_COMMAND, 2), 0);
	assert_int_equal(cfg_rd(m, PCI_INTERRUPT_LINE, 1), 0);

	/* Buffer zeroed: read it back into RAM. */
	master_on(m);
	dma(m, EDU_DMA_START, RAM_BUS + PAGE, PAGE, TO_RAM);
	for (unsigned i = 0; i < PAGE; i++)
		assert_int_equal(r[PAGE + i], 0);
	assert_int_equal(rd32(m, EDU_REG_DMA_FAULTS), 0);
}

/* A model with no host callbacks at all must not crash. */
static void test_null_host(void **state)
{
	struct upci_model *m = NULL;

	(void)state;
	assert_int_equal(model_create(&model_edu_ops, NULL, NULL, NULL, &m), 0);
	master_on(m);
	wr32(m, EDU_REG_IRQ_RAISE, 1);
	dma(m, RAM_BUS, EDU_DMA_START, 16, FROM_RAM | EDU_DMA_CMD_IRQ);
	assert_int_equal(rd32(m, EDU_REG_DMA_FAULTS), 1);
	assert_int_equal(rd32(m, EDU_REG_DMA_ERROR), EDU_DMA_ERR_UNMAPPED);
	assert_int_equal(rd32(m, EDU_REG_IRQ_STATUS), 1 | EDU_IRQ_DMA);
	model_reset(m);
	model_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ops),
		cmocka_unit_test_setup_teardown(test_config_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar0, setup, teardown),
		cmocka_unit_test_setup_teardown(test_params, setup, teardown),
		cmocka_unit_test_setup_teardown(test_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_liveness, setup, teardown),
		cmocka_unit_test_setup_teardown(test_factorial, setup, teardown),
		cmocka_unit_test_setup_teardown(test_factorial_irq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_raise_ack_intx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_raise_ack_msi, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_registers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_bus_master_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_copy_only_host, setup_copy_only, teardown),
		cmocka_unit_test_setup_teardown(test_access_widths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unimplemented, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mirror, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test(test_null_host),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

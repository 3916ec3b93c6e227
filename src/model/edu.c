/* SPDX-License-Identifier: MIT */
/*
 * The "edu" model: register-compatible with QEMU's educational PCI device
 * (docs/specs/edu.rst). Register map in edu_regs.h, behaviour and the
 * differences from QEMU in docs/models/edu.md.
 *
 * Everything a driver writes is hostile: the factorial loop is bounded and
 * every DMA request passes one check whose verdict is obeyed before a single
 * byte moves.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "edu_regs.h"
#include "model.h"
#include "pci_regs.h"
#include "upci/upci.h"

/* MSI capability layout for a 64-bit, no-mask capability (QEMU msi_init). */
#define EDU_MSI_CAP_LEN         (PCI_MSI_DATA_64 + 2u)

/* n! has 32 factors of two from n = 34 on, so it is 0 modulo 2^32. */
#define EDU_FACT_ZERO_FROM      34u

#define EDU_BAR_FLAGS (UPCI_BAR_PRESENT | UPCI_BAR_MAPPABLE | UPCI_BAR_MAP_RDONLY)

struct edu {
	struct model m; /* first: the core hands us back a struct model * */
	uint32_t liveness;  /* already inverted: what a read returns */
	uint32_t fact;
	uint32_t status;
	uint32_t irq_status;
	uint64_t dma_src, dma_dst, dma_cnt, dma_cmd;
	uint32_t dma_faults, dma_error;
	int intx_level; /* last level told to the host */
	uint8_t buf[EDU_DMA_SIZE];
	/* RAM -> EDU lands here first when the host copies, so a failed
	 * copy leaves the device buffer untouched. */
	uint8_t bounce[EDU_DMA_SIZE];
};

/* Layout facts the code relies on. */
_Static_assert(EDU_MSI_CAP + EDU_MSI_CAP_LEN <= PCI_CFG_SIZE, "MSI capability inside config space");
_Static_assert(EDU_REG_SPACE_END <= EDU_BAR_SIZE, "registers inside BAR0");
_Static_assert(EDU_DMA_START + EDU_DMA_SIZE <= EDU_BAR_SIZE, "DMA buffer address inside BAR0");
_Static_assert(EDU_DMA_SIZE - 1 <= EDU_DMA_MASK, "a whole buffer fits under the DMA mask");
_Static_assert(offsetof(struct edu, m) == 0, "struct model comes first");


static struct edu *to_edu(struct model *m)
{
	return (struct edu *)m;
}

static uint64_t all_ones(unsigned width)
{
	return width >= 8 ? UINT64_MAX : (1ull << (8 * width)) - 1;
}

/* ---- interrupts ---- */

static int edu_msi_enabled(const struct edu *e)
{
	return !!(cfgspace_get(&e->m.cfg, EDU_MSI_CAP + PCI_MSI_FLAGS, 2) & PCI_MSI_FLAGS_ENABLE);
}

/*
 * INTx is a level derived from state: asserted while an interrupt is
 * pending and MSI is off. STATUS.INTERRUPT shows it even when COMMAND's
 * INTx-disable keeps the pin quiet (PCI 3.0, 6.2.3). The host hears of
 * changes; @restate also repeats a high level, so a host that dropped its
 * copy of the level (e.g. when its interrupt setup was torn down) sees the
 * next raise.
 */
static void edu_update_intx(struct edu *e, int restate)
{
	const struct model_host *h = e->m.host;
	uint32_t cmd = cfgspace_get(&e->m.cfg, PCI_COMMAND, 2);
	uint32_t sts = cfgspace_get(&e->m.cfg, PCI_STATUS, 2);
	int pending = e->irq_status != 0 && !edu_msi_enabled(e);
	int level = pending && !(cmd & PCI_COMMAND_INTX_DISABLE);

	sts = pending ? (sts | PCI_STATUS_INTERRUPT) : (sts & ~PCI_STATUS_INTERRUPT);
	cfgspace_put(&e->m.cfg, PCI_STATUS, 2, sts);
	if (level == e->intx_level && !(restate && level))
		return;
	e->intx_level = level;
	if (h && h->intx)
		h->intx(h->opaque, level);
}

/* As QEMU: every raise with a non-zero status sends a message under MSI. */
static void edu_raise(struct edu *e, uint32_t bits)
{
	e->irq_status |= bits;
	if (!e->irq_status)
		return;
	if (edu_msi_enabled(e))
		(void)model_msi_notify(&e->m, EDU_MSI_CAP, 0);
	else
		edu_update_intx(e, 1);
}

static void edu_lower(struct edu *e, uint32_t bits)
{
	e->irq_status &= ~bits;
	edu_update_intx(e, 0);
}

/* ---- factorial ---- */

static uint32_t edu_factorial(uint32_t n)
{
	uint32_t r = 1;

	/* Also bounds the loop for a hostile n. */
	if (n >= EDU_FACT_ZERO_FROM)
		return 0;
	while (n > 1)
		r *= n--;
	return r;
}

/* ---- DMA ---- */

/* The whole verdict on the request, before anything moves. */
static uint32_t edu_dma_check(const struct edu *e, uint64_t *buf_off, uint64_t *bus)
{
	int to_ram = !!(e->dma_cmd & EDU_DMA_CMD_TO_RAM);
	uint64_t dev = to_ram ? e->dma_src : e->dma_dst;
	uint64_t ram = to_ram ? e->dma_dst : e->dma_src;
	uint64_t cnt = e->dma_cnt;

	if (!(cfgspace_get(&e->m.cfg, PCI_COMMAND, 2) & PCI_COMMAND_MASTER))
		return EDU_DMA_ERR_MASTER;
	if (cnt == 0 || cnt > EDU_DMA_SIZE)
		return EDU_DMA_ERR_COUNT;
	/* Written so that nothing can wrap: cnt <= EDU_DMA_SIZE here. */
	if (dev < EDU_DMA_START || dev - EDU_DMA_START > EDU_DMA_SIZE - cnt)
		return EDU_DMA_ERR_BUFFER;
	if (ram > EDU_DMA_MASK || cnt - 1 > EDU_DMA_MASK - ram)
		return EDU_DMA_ERR_ADDR;
	*buf_off = dev - EDU_DMA_START;
	*bus = ram;
	return EDU_DMA_ERR_NONE;
}

/*
 * The longest prefix of [bus, bus+len) that lies in one mapped region with
 * @need: its pointer, and its length in *got. dma_translate only answers
 * yes or no for a whole range, so the region end is found by halving.
 */
static void *edu_dma_span(const struct model_host *h, uint64_t bus, uint64_t len, unsigned need, uint64_t *got)
{
	void *p = h->dma_translate(h->opaque, bus, len, need);
	uint64_t lo = 1, hi = len; /* a prefix of lo bytes fits, hi does not */

	if (p) {
		*got = len;
		return p;
	}
	p = h->dma_translate(h->opaque, bus, 1, need);
	if (!p)
		return NULL;
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (h->dma_translate(h->opaque, bus, mid, need))
			lo = mid;
		else
			hi = mid;
	}
	*got = lo;
	return p;
}

/*
 * Walk the RAM range region by region; copy only when @copy is set, so a
 * first pass can give the verdict for the whole range. Returns an
 * EDU_DMA_ERR_* code.
 */
static uint32_t edu_dma_walk(struct edu *e, uint64_t off, uint64_t bus, uint64_t cnt, int to_ram, int copy)
{
	const struct model_host *h = e->m.host;
	unsigned need = to_ram ? UPCI_DMA_WRITE : UPCI_DMA_READ;

	while (cnt) {
		uint64_t got = 0;
		uint8_t *p = edu_dma_span(h, bus, cnt, need, &got);

		if (!p || got == 0 || got > cnt)
			return EDU_DMA_ERR_UNMAPPED;
		/* The client's memory can vanish under the mapping: a fault
		 * here is a bus error, not the end of the process. */
		if (copy && model_dma_copy(to_ram ? p : e->buf + off, to_ram ? e->buf + off : p, got, NULL) != 0)
			return EDU_DMA_ERR_BUS;
		off += got;
		bus += got;
		cnt -= got;
	}
	return EDU_DMA_ERR_NONE;
}

/*
 * Move the checked range. With dma_translate (the normal case) a range
 * whose first byte translation reaches is proven mapped as a whole before
 * a byte moves, even when it spans adjacent regions; only a bus error
 * (memory gone during the copy) can leave a part moved. Memory translation
 * cannot reach goes through the copying callbacks: RAM -> EDU through a
 * bounce buffer so a failure leaves the device buffer unchanged; for EDU ->
 * RAM the host's dma_write decides. Returns EDU_DMA_ERR_*.
 */
static uint32_t edu_dma_move(struct edu *e, uint64_t off, uint64_t bus, uint64_t cnt, int to_ram)
{
	const struct model_host *h = e->m.host;
	uint32_t err;

	if (!h)
		return EDU_DMA_ERR_UNMAPPED;
	/* A range that starts in memory translation reaches must lie in such
	 * memory as a whole (all or nothing). One that does not start there -
	 * memory that is not in this process, like a vfio-user client's lent
	 * without an fd and reached in-band, or nothing mapped at all - is the
	 * copying callbacks' to move or refuse. */
	if (h->dma_translate && h->dma_translate(h->opaque, bus, 1, to_ram ? UPCI_DMA_WRITE : UPCI_DMA_READ)) {
		err = edu_dma_walk(e, off, bus, cnt, to_ram, 0);
		return err ? err : edu_dma_walk(e, off, bus, cnt, to_ram, 1);
	}
	if (to_ram)
		return model_dma_write(h, bus, e->buf + off, cnt) ? EDU_DMA_ERR_UNMAPPED : EDU_DMA_ERR_NONE;
	if (model_dma_read(h, bus, e->bounce, cnt) != 0)
		return EDU_DMA_ERR_UNMAPPED;
	memcpy(e->buf + off, e->bounce, cnt);
	return EDU_DMA_ERR_NONE;
}

static void edu_dma_run(struct edu *e)
{
	uint64_t off = 0, bus = 0;
	int to_ram = !!(e->dma_cmd & EDU_DMA_CMD_TO_RAM);
	uint32_t err = edu_dma_check(e, &off, &bus);

	if (err == EDU_DMA_ERR_NONE)
		err = edu_dma_move(e, off, bus, e->dma_cnt, to_ram);
	if (err != EDU_DMA_ERR_NONE) {
		e->dma_faults++;
		e->dma_error = err;
	}
	e->dma_cmd &= ~(uint64_t)EDU_DMA_CMD_START;
	/* Raised on a fault too, so a driver waiting for it does not hang. */
	if (e->dma_cmd & EDU_DMA_CMD_IRQ)
		edu_raise(e, EDU_IRQ_DMA);
}

/* ---- registers ---- */

static int edu_width_ok(uint64_t off, unsigned width)
{
	if (off < EDU_REG_WIDE_START)
		return width == 4;
	return width == 4 || width == 8;
}

/* The value an access of a valid width returns (all ones if unimplemented). */
static uint64_t edu_reg_value(const struct edu *e, uint64_t off, unsigned width)
{
	switch (off) {
	case EDU_REG_ID:
		return EDU_ID_VALUE;
	case EDU_REG_LIVENESS:
		return e->liveness;
	case EDU_REG_FACTORIAL:
		return e->fact;
	case EDU_REG_STATUS:
		return e->status;
	case EDU_REG_IRQ_STATUS:
		return e->irq_status;
	case EDU_REG_DMA_SRC:
		return width == 8 ? e->dma_src : (uint32_t)e->dma_src;
	case EDU_REG_DMA_DST:
		return width == 8 ? e->dma_dst : (uint32_t)e->dma_dst;
	case EDU_REG_DMA_COUNT:
		return width == 8 ? e->dma_cnt : (uint32_t)e->dma_cnt;
	case EDU_REG_DMA_CMD:
		return width == 8 ? e->dma_cmd : (uint32_t)e->dma_cmd;
	case EDU_REG_DMA_FAULTS:
		/* An 8-byte read sees both extension registers, as in memory. */
		return width == 8 ? ((uint64_t)e->dma_error << 32) | e->dma_faults : e->dma_faults;
	case EDU_REG_DMA_ERROR:
		return e->dma_error;
	default:
		return all_ones(width);
	}
}

static void edu_mirror_dword(struct edu *e, uint8_t *mem, uint64_t off)
{
	uint32_t v = (uint32_t)edu_reg_value(e, off, 4);

	/* Little-endian, like the PCI bus. */
	for (unsigned i = 0; i < 4; i++)
		mem[off + i] = (uint8_t)(v >> (8 * i));
}

/* The read-only BAR mapping shows what 4-byte reads return: the whole
 * register file at create and reset. */
static void edu_mirror_update(struct edu *e)
{
	uint8_t *mem = e->m.bars[EDU_BAR].mem;

	if (!mem)
		return;
	for (uint64_t off = 0; off < EDU_REG_SPACE_END; off += 4)
		edu_mirror_dword(e, mem, off);
}

/* After a register write only these can change (the rest are constant or
 * unimplemented): refresh 10 dwords, not 64, on every MMIO write. */
static void edu_mirror_refresh(struct edu *e)
{
	static const uint16_t live[] = {
		EDU_REG_LIVENESS, EDU_REG_FACTORIAL, EDU_REG_STATUS, EDU_REG_IRQ_STATUS, EDU_REG_DMA_SRC,
		EDU_REG_DMA_DST,  EDU_REG_DMA_COUNT, EDU_REG_DMA_CMD, EDU_REG_DMA_FAULTS, EDU_REG_DMA_ERROR,
	};
	uint8_t *mem = e->m.bars[EDU_BAR].mem;

	if (!mem)
		return;
	for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++)
		edu_mirror_dword(e, mem, live[i]);
}

static int edu_access_ok(unsigned bar, uint64_t off, unsigned width)
{
	if (bar != EDU_BAR || off >= EDU_BAR_SIZE || width == 0 || width > EDU_BAR_SIZE - off ||
	    (off & (width - 1)) != 0)
		return 0;
	return edu_width_ok(off, width);
}

static int edu_bar_read(struct model *m, unsigned bar, uint64_t off, unsigned width, uint64_t *val)
{
	struct edu *e = to_edu(m);

	if (!val)
		return -EINVAL;
	if (width != 1 && width != 2 && width != 4 && width != 8)
		width = 8;
	/* A rejected access still reads as all ones, like a master abort. */
	*val = all_ones(width);
	if (!edu_access_ok(bar, off, width))
		return -EINVAL;
	*val = edu_reg_value(e, off, width);
	return 0;
}

static void edu_reg_write(struct edu *e, uint64_t off, uint64_t val)
{
	switch (off) {
	case EDU_REG_LIVENESS:
		e->liveness = ~(uint32_t)val;
		break;
	case EDU_REG_FACTORIAL:
		if (e->status & EDU_STATUS_COMPUTING)
			break;
		e->fact = edu_factorial((uint32_t)val);
		if (e->status & EDU_STATUS_IRQFACT)
			edu_raise(e, EDU_IRQ_FACT);
		break;
	case EDU_REG_STATUS:
		e->status = (e->status & ~EDU_STATUS_IRQFACT) | ((uint32_t)val & EDU_STATUS_IRQFACT);
		break;
	case EDU_REG_IRQ_RAISE:
		edu_raise(e, (uint32_t)val);
		break;
	case EDU_REG_IRQ_ACK:
		edu_lower(e, (uint32_t)val);
		break;
	/* A 4-byte write replaces the whole 64-bit register, as in QEMU. */
	case EDU_REG_DMA_SRC:
		e->dma_src = val;
		break;
	case EDU_REG_DMA_DST:
		e->dma_dst = val;
		break;
	case EDU_REG_DMA_COUNT:
		e->dma_cnt = val;
		break;
	case EDU_REG_DMA_CMD:
		if (!(val & EDU_DMA_CMD_START))
			break;
		e->dma_cmd = val;
		edu_dma_run(e);
		break;
	default:
		/* Read-only and unimplemented registers drop writes. */
		break;
	}
}

static int edu_bar_write(struct model *m, unsigned bar, uint64_t off, unsigned width, uint64_t val)
{
	struct edu *e = to_edu(m);

	if (!edu_access_ok(bar, off, width))
		return -EINVAL;
	if (width == 4)
		val &= UINT32_MAX;
	edu_reg_write(e, off, val);
	edu_mirror_refresh(e);
	return 0;
}

/* ---- config space, reset, life cycle ---- */

static void edu_cfg_written(struct model *m, uint32_t off, unsigned width, uint32_t val)
{
	(void)off;
	(void)width;
	(void)val;
	/* COMMAND.INTX_DISABLE or MSI enable may have changed the pin. */
	edu_update_intx(to_edu(m), 0);
}

static void edu_build_cfg(struct cfgspace *c)
{
	unsigned cap;

	cfgspace_init(c, PCI_CFG_SIZE);
	cfgspace_set_ids(c, EDU_VENDOR_ID, EDU_DEVICE_ID, EDU_SUBSYS_VENDOR_ID, EDU_SUBSYS_ID, EDU_REVISION,
			 EDU_CLASS_CODE);
	cfgspace_set_bar(c, EDU_BAR, EDU_BAR_SIZE, EDU_BAR_FLAGS);
	cfgspace_put(c, PCI_INTERRUPT_PIN, 1, EDU_INTX_PIN);
	cap = cfgspace_add_cap(c, PCI_CAP_ID_MSI, EDU_MSI_CAP, EDU_MSI_CAP_LEN);
	/* One vector (QMASK 0), 64-bit address, no per-vector mask. */
	cfgspace_put(c, cap + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_64BIT);
	cfgspace_set_wmask(c, cap + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
	cfgspace_set_wmask(c, cap + PCI_MSI_ADDRESS_LO, 4, PCI_MSI_ADDRESS_LO_MASK);
	cfgspace_set_wmask(c, cap + PCI_MSI_ADDRESS_HI, 4, UINT32_MAX);
	cfgspace_set_wmask(c, cap + PCI_MSI_DATA_64, 2, PCI_MSI_DATA_MASK);
	cfgspace_commit_reset_image(c);
}

static void edu_regs_reset(struct edu *e)
{
	e->liveness = 0;
	e->fact = 0;
	e->status = 0;
	e->irq_status = 0;
	e->dma_src = e->dma_dst = e->dma_cnt = e->dma_cmd = 0;
	e->dma_faults = 0;
	e->dma_error = EDU_DMA_ERR_NONE;
	memset(e->buf, 0, sizeof(e->buf));
	memset(e->bounce, 0, sizeof(e->bounce));
}

static void edu_reset(struct model *m)
{
	struct edu *e = to_edu(m);

	edu_regs_reset(e);
	cfgspace_reset(&e->m.cfg);
	edu_update_intx(e, 0); /* lowers the pin if it was up */
	edu_mirror_update(e);
}

static void edu_destroy(struct model *m)
{
	struct edu *e = to_edu(m);

	if (!e)
		return;
	model_bar_free_mem(&e->m.bars[EDU_BAR]);
	free(e);
}

static int edu_create(const struct model_host *host, const struct model_params *params, struct model **out)
{
	static const char *const known[] = { NULL };
	struct edu *e;
	int rc;

	if (!out)
		return -EINVAL;
	*out = NULL;
	rc = model_params_check(params, known, NULL);
	if (rc)
		return rc;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->m.ops = &model_edu_ops;
	e->m.host = host;
	e->m.vendor_id = EDU_VENDOR_ID;
	e->m.device_id = EDU_DEVICE_ID;
	for (unsigned i = 0; i < UPCI_NUM_BARS; i++)
		e->m.bars[i].fd = -1;
	rc = model_bar_alloc_mem(&e->m.bars[EDU_BAR], "upci-edu-bar0", EDU_BAR_SIZE);
	if (rc) {
		free(e);
		return rc;
	}
	e->m.bars[EDU_BAR].flags = EDU_BAR_FLAGS;
	/* Everything but the register block reads as all ones. */
	memset(e->m.bars[EDU_BAR].mem, 0xff, EDU_BAR_SIZE);
	edu_build_cfg(&e->m.cfg);
	edu_regs_reset(e);
	edu_mirror_update(e);
	*out = &e->m;
	return 0;
}

const struct model_ops model_edu_ops = {
	.name = "edu",
	.summary = "QEMU edu device: ID, liveness, factorial, IRQ raise/ack, 4 KiB DMA engine, MSI",
	.params = "",
	.create = edu_create,
	.destroy = edu_destroy,
	.bar_read = edu_bar_read,
	.bar_write = edu_bar_write,
	.cfg_written = edu_cfg_written,
	.reset = edu_reset,
	.has_flr = 0,
};

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
#include "upci/model.h"

/* n! has 32 factors of two from n = 34 on, so it is 0 modulo 2^32. */
#define EDU_FACT_ZERO_FROM      34u

/* Registers served by callbacks, a read-only mirror the driver may map. */
#define EDU_BAR_FLAGS UPCI_MODEL_BAR_MIRROR

struct edu {
	upci_model *m;
	uint32_t liveness;  /* already inverted: what a read returns */
	uint32_t fact;
	uint32_t status;
	uint32_t irq_status;
	uint64_t dma_src, dma_dst, dma_cnt, dma_cmd;
	uint32_t dma_faults, dma_error;
	uint8_t buf[EDU_DMA_SIZE];
	/* RAM -> EDU lands here first when the host copies, so a failed
	 * copy leaves the device buffer untouched. */
	uint8_t bounce[EDU_DMA_SIZE];
};

/* Layout facts the code relies on. */
_Static_assert(EDU_REG_SPACE_END <= EDU_BAR_SIZE, "registers inside BAR0");
_Static_assert(EDU_DMA_START + EDU_DMA_SIZE <= EDU_BAR_SIZE, "DMA buffer address inside BAR0");
_Static_assert(EDU_DMA_SIZE - 1 <= EDU_DMA_MASK, "a whole buffer fits under the DMA mask");


static struct edu *to_edu(upci_model *m)
{
	return upci_model_priv(m);
}

static uint64_t all_ones(unsigned width)
{
	return width >= 8 ? UINT64_MAX : (1ull << (8 * width)) - 1;
}

/* ---- interrupts ---- */

/*
 * The interrupt condition is "a status bit is set"; upci derives the INTx
 * pin and STATUS.INTERRUPT from it. As QEMU: every raise with a non-zero
 * status sends a message under MSI (and re-asserts the pin under INTx).
 */
static void edu_raise(struct edu *e, uint32_t bits)
{
	e->irq_status |= bits;
	if (!e->irq_status)
		return;
	(void)upci_model_irq(e->m, 0);
	(void)upci_model_intx(e->m, 1); /* the condition, also under MSI */
}

static void edu_lower(struct edu *e, uint32_t bits)
{
	e->irq_status &= ~bits;
	(void)upci_model_intx(e->m, e->irq_status != 0);
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

	if (!upci_model_bus_master(e->m))
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
static void *edu_dma_span(upci_model *m, uint64_t bus, uint64_t len, unsigned need, uint64_t *got)
{
	void *p = upci_model_dma_translate(m, bus, len, need);
	uint64_t lo = 1, hi = len; /* a prefix of lo bytes fits, hi does not */

	if (p) {
		*got = len;
		return p;
	}
	p = upci_model_dma_translate(m, bus, 1, need);
	if (!p)
		return NULL;
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (upci_model_dma_translate(m, bus, mid, need))
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
	unsigned need = to_ram ? UPCI_DMA_WRITE : UPCI_DMA_READ;

	while (cnt) {
		uint64_t got = 0;
		uint8_t *p = edu_dma_span(e->m, bus, cnt, need, &got);

		if (!p || got == 0 || got > cnt)
			return EDU_DMA_ERR_UNMAPPED;
		/* The client's memory can vanish under the mapping: a fault
		 * here is a bus error, not the end of the process. */
		if (copy && upci_model_dma_copy(to_ram ? p : e->buf + off, to_ram ? e->buf + off : p, got, NULL) != 0)
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
	uint32_t err;

	/* A range that starts in memory translation reaches must lie in such
	 * memory as a whole (all or nothing). One that does not start there -
	 * memory that is not in this process, like a vfio-user client's lent
	 * without an fd and reached in-band, or nothing mapped at all - is the
	 * copying callbacks' to move or refuse. */
	if (upci_model_dma_translate(e->m, bus, 1, to_ram ? UPCI_DMA_WRITE : UPCI_DMA_READ)) {
		err = edu_dma_walk(e, off, bus, cnt, to_ram, 0);
		return err ? err : edu_dma_walk(e, off, bus, cnt, to_ram, 1);
	}
	if (to_ram)
		return upci_model_dma_write(e->m, bus, e->buf + off, cnt) ? EDU_DMA_ERR_UNMAPPED : EDU_DMA_ERR_NONE;
	if (upci_model_dma_read(e->m, bus, e->bounce, cnt) != 0)
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
	uint8_t *mem = upci_model_bar_mem(e->m, EDU_BAR);

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
	uint8_t *mem = upci_model_bar_mem(e->m, EDU_BAR);

	if (!mem)
		return;
	for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++)
		edu_mirror_dword(e, mem, live[i]);
}

/* upci checked the BAR, bounds and alignment; edu's own width rules. */
static int edu_bar_read(upci_model *m, void *priv, unsigned bar, uint64_t off, unsigned width, uint64_t *val)
{
	struct edu *e = priv;

	(void)m;
	(void)bar;
	/* A rejected access still reads as all ones, like a master abort. */
	*val = all_ones(width);
	if (!edu_width_ok(off, width))
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

static int edu_bar_write(upci_model *m, void *priv, unsigned bar, uint64_t off, unsigned width, uint64_t val)
{
	struct edu *e = priv;

	(void)m;
	(void)bar;
	if (!edu_width_ok(off, width))
		return -EINVAL;
	edu_reg_write(e, off, val); /* upci cut @val to @width */
	edu_mirror_refresh(e);
	return 0;
}

/* ---- reset, life cycle ---- */

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

/* upci restored config space and lowered the pin. */
static void edu_reset(upci_model *m)
{
	struct edu *e = to_edu(m);

	edu_regs_reset(e);
	edu_mirror_update(e);
}

static int edu_create(upci_model *m, const upci_model_params *params)
{
	static const char *const known[] = { NULL };
	struct edu *e = to_edu(m);
	int rc;

	rc = upci_model_params_check(params, known, NULL);
	if (rc)
		return rc;
	e->m = m;
	rc = upci_model_set_ids(m, EDU_VENDOR_ID, EDU_DEVICE_ID, EDU_SUBSYS_VENDOR_ID, EDU_SUBSYS_ID, EDU_REVISION,
				EDU_CLASS_CODE);
	if (!rc)
		rc = upci_model_set_intx(m, EDU_INTX_PIN);
	if (!rc)
		rc = upci_model_bar_regs(m, EDU_BAR, EDU_BAR_SIZE, EDU_BAR_FLAGS, edu_bar_read, edu_bar_write);
	/* One vector, 64-bit address, no per-vector mask (QEMU's msi_init). */
	if (!rc) {
		int at = upci_model_add_msi(m, EDU_MSI_CAP, EDU_MSI_VECTORS, UPCI_MODEL_MSI_64BIT);

		rc = at < 0 ? at : 0;
	}
	if (rc)
		return rc;
	/* Everything but the register block reads as all ones. */
	memset(upci_model_bar_mem(m, EDU_BAR), 0xff, EDU_BAR_SIZE);
	edu_regs_reset(e);
	edu_mirror_update(e);
	return 0;
}

const struct upci_model_ops model_edu_ops = {
	.api_version = UPCI_MODEL_API_VERSION,
	.name = "edu",
	.summary = "QEMU edu device: ID, liveness, factorial, IRQ raise/ack, 4 KiB DMA engine, MSI",
	.params = "",
	.priv_size = sizeof(struct edu),
	.create = edu_create,
	.reset = edu_reset,
};

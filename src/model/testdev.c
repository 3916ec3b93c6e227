/* SPDX-License-Identifier: MIT */
/*
 * testdev: upci's multi-vector test device. MSI-X with up to 256 vectors,
 * a mappable RAM BAR, a descriptor memcpy engine and a PCIe capability with
 * FLR. Register map in testdev_regs.h, prose in docs/models/testdev.md.
 * Written against the public device-author API (upci/model.h) only: upci
 * keeps the MSI-X table and PBA, BAR2's memory, the PM and FLR rules.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testdev_dma.h"
#include "testdev_regs.h"
#include "upci/model.h"

/* Extended capabilities (PCIe Base 4.0, 7.9.3 and 7.9.5). */
#define TD_ECAP_ID_DSN          0x0003u
#define TD_ECAP_ID_VNDR         0x000bu
#define TD_ECAP_DSN_SIZE        12u
#define TD_DSN_LO               0x04u
#define TD_DSN_HI               0x08u
#define TD_VNDR_HEADER          0x04u
#define TD_VNDR_REV_SHIFT       16u
#define TD_VNDR_LEN_SHIFT       20u
#define TD_BOUNCE_SIZE          (64u * 1024u)


struct testdev {
	upci_model *m;
	unsigned nvec;
	uint64_t mem_size;
	uint32_t scratch;
	uint64_t desc_addr;
	uint32_t desc_count;
	uint32_t ctrl;
	uint32_t status;
	uint32_t compl_vec;
	uint32_t done_count;
	uint32_t irq_count;
	uint64_t fire_ns;
	uint64_t bytes;
	uint32_t fault_count;
	uint32_t last_fault;
	uint32_t fault_desc;
	uint8_t bounce[TD_BOUNCE_SIZE];
};

static struct testdev *td_of(upci_model *m)
{
	return upci_model_priv(m);
}

static void td_fault(struct testdev *t, uint32_t code, uint32_t desc)
{
	if (t->fault_count != UINT32_MAX)
		t->fault_count++;
	t->last_fault = code;
	t->fault_desc = desc;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void td_fire(void *opaque, unsigned vec)
{
	struct testdev *t = opaque;

	/* Only the doorbell can name a bad vector: DMA vectors were checked. */
	if (vec >= t->nvec) {
		td_fault(t, TESTDEV_FAULT_DOORBELL, UINT32_MAX);
		return;
	}
	t->irq_count++;
	t->fire_ns = now_ns();
	(void)upci_model_irq(t->m, vec); /* MSI-X: sent, latched or dropped */
}

static void td_regs_reset(struct testdev *t)
{
	t->scratch = 0;
	t->desc_addr = 0;
	t->desc_count = 0;
	t->ctrl = 0;
	t->status = 0;
	t->compl_vec = 0;
	t->done_count = 0;
	t->irq_count = 0;
	t->fire_ns = 0;
	t->bytes = 0;
	t->fault_count = 0;
	t->last_fault = TESTDEV_FAULT_NONE;
	t->fault_desc = UINT32_MAX;
}

/* upci restored config space and MSI-X and zeroed BAR2 already. */
static void td_reset(upci_model *m)
{
	td_regs_reset(td_of(m));
}

static void td_run(struct testdev *t)
{
	int irq = !!(t->ctrl & TESTDEV_CTRL_IRQ_EN);
	struct testdev_dma_result r = {0};

	t->done_count = 0;
	if (!upci_model_bus_master(t->m)) {
		r.fault = TESTDEV_FAULT_NO_MASTER;
		r.fault_desc = UINT32_MAX;
	} else if (irq && t->compl_vec >= t->nvec) {
		r.fault = TESTDEV_FAULT_VECTOR;
		r.fault_desc = UINT32_MAX;
	} else {
		struct testdev_dma_ctx c = {
			.m = t->m,
			.bar2 = upci_model_bar_mem(t->m, TESTDEV_BAR_MEM),
			.bar2_size = t->mem_size,
			.nvec = t->nvec,
			.bounce = t->bounce,
			.bounce_size = sizeof(t->bounce),
			.fire = td_fire,
			.opaque = t,
		};

		testdev_dma_run(&c, t->desc_addr, t->desc_count, &r);
		t->done_count = r.done;
		t->bytes += r.bytes;
	}
	/* Replaces the previous run's bits: STATUS describes the last run. */
	t->status = TESTDEV_STATUS_DONE;
	if (r.fault) {
		t->status |= TESTDEV_STATUS_ERROR;
		td_fault(t, r.fault, r.fault_desc);
	}
	if (irq && t->compl_vec < t->nvec)
		td_fire(t, t->compl_vec);
}

/* ---- BAR0: registers ---- */

static int reg_read32(struct testdev *t, uint64_t off, uint64_t *val)
{
	switch (off) {
	case TESTDEV_REG_ID: *val = TESTDEV_ID_VALUE; break;
	case TESTDEV_REG_VERSION: *val = TESTDEV_VERSION_VALUE; break;
	case TESTDEV_REG_NVEC: *val = t->nvec; break;
	case TESTDEV_REG_SCRATCH: *val = t->scratch; break;
	case TESTDEV_REG_MEM_SIZE: *val = (uint32_t)t->mem_size; break;
	case TESTDEV_REG_MEM_SIZE + 4: *val = (uint32_t)(t->mem_size >> 32); break;
	case TESTDEV_REG_DOORBELL: *val = 0; break;
	case TESTDEV_REG_IRQ_COUNT: *val = t->irq_count; break;
	case TESTDEV_REG_DESC_ADDR: *val = (uint32_t)t->desc_addr; break;
	case TESTDEV_REG_DESC_ADDR_HI: *val = (uint32_t)(t->desc_addr >> 32); break;
	case TESTDEV_REG_DESC_COUNT: *val = t->desc_count; break;
	case TESTDEV_REG_CTRL: *val = t->ctrl; break;
	case TESTDEV_REG_STATUS: *val = t->status; break;
	case TESTDEV_REG_COMPL_VEC: *val = t->compl_vec; break;
	case TESTDEV_REG_DONE_COUNT: *val = t->done_count; break;
	case TESTDEV_REG_BYTES: *val = (uint32_t)t->bytes; break;
	case TESTDEV_REG_BYTES_HI: *val = (uint32_t)(t->bytes >> 32); break;
	case TESTDEV_REG_FAULT_COUNT: *val = t->fault_count; break;
	case TESTDEV_REG_LAST_FAULT: *val = t->last_fault; break;
	case TESTDEV_REG_FAULT_DESC: *val = t->fault_desc; break;
	case TESTDEV_REG_FIRE_NS: *val = (uint32_t)t->fire_ns; break;
	case TESTDEV_REG_FIRE_NS_HI: *val = (uint32_t)(t->fire_ns >> 32); break;
	default: *val = UINT32_MAX; break; /* gap: unimplemented */
	}
	return 0;
}

static int reg_read64(struct testdev *t, uint64_t off, uint64_t *val)
{
	switch (off) {
	case TESTDEV_REG_MEM_SIZE: *val = t->mem_size; return 0;
	case TESTDEV_REG_DESC_ADDR: *val = t->desc_addr; return 0;
	case TESTDEV_REG_BYTES: *val = t->bytes; return 0;
	case TESTDEV_REG_FIRE_NS: *val = t->fire_ns; return 0;
	default: return -EINVAL;
	}
}

static int reg_write32(struct testdev *t, uint64_t off, uint32_t v)
{
	switch (off) {
	case TESTDEV_REG_SCRATCH: t->scratch = v; break;
	case TESTDEV_REG_DOORBELL: td_fire(t, v); break; /* checks v */
	case TESTDEV_REG_DESC_ADDR: t->desc_addr = (t->desc_addr & ~(uint64_t)UINT32_MAX) | v; break;
	case TESTDEV_REG_DESC_ADDR_HI: t->desc_addr = (t->desc_addr & UINT32_MAX) | ((uint64_t)v << 32); break;
	case TESTDEV_REG_DESC_COUNT: t->desc_count = v; break;
	case TESTDEV_REG_CTRL:
		t->ctrl = v & TESTDEV_CTRL_MASK;
		if (v & TESTDEV_CTRL_START)
			td_run(t);
		break;
	case TESTDEV_REG_STATUS: t->status &= ~(v & TESTDEV_STATUS_MASK); break;
	case TESTDEV_REG_COMPL_VEC: t->compl_vec = v & 0xffffu; break;
	case TESTDEV_REG_FAULT_COUNT:
		t->fault_count = 0;
		t->last_fault = TESTDEV_FAULT_NONE;
		t->fault_desc = UINT32_MAX;
		break;
	default: break; /* read-only or unimplemented: dropped */
	}
	return 0;
}

static uint64_t ones(unsigned width)
{
	return width >= 8 ? UINT64_MAX : (1ull << (8 * width)) - 1;
}

/* BAR0 callbacks: upci checked bounds and alignment and keeps the MSI-X
 * table and PBA (TESTDEV_MSIX_TABLE, TESTDEV_MSIX_PBA) itself. */
static int td_bar0_read(upci_model *m, void *priv, unsigned bar, uint64_t off, unsigned width, uint64_t *val)
{
	struct testdev *t = priv;

	(void)m;
	(void)bar;
	if (off < TESTDEV_REGS_END) {
		if (width == 4)
			return reg_read32(t, off, val);
		if (width == 8)
			return reg_read64(t, off, val);
		return -EINVAL;
	}
	*val = ones(width);
	return 0;
}

static int td_bar0_write(upci_model *m, void *priv, unsigned bar, uint64_t off, unsigned width, uint64_t val)
{
	struct testdev *t = priv;

	(void)m;
	(void)bar;
	if (off < TESTDEV_REGS_END) {
		if (width == 4)
			return reg_write32(t, off, (uint32_t)val);
		if (width == 8 && off == TESTDEV_REG_DESC_ADDR) {
			t->desc_addr = val;
			return 0;
		}
		/* 8-byte writes to the read-only 64-bit counters are dropped. */
		if (width == 8 && (off == TESTDEV_REG_MEM_SIZE || off == TESTDEV_REG_BYTES || off == TESTDEV_REG_FIRE_NS))
			return 0;
		return -EINVAL;
	}
	return 0;
}

/* ---- Life cycle ---- */

static int td_build(struct testdev *t)
{
	upci_model *m = t->m;
	int at;

	at = upci_model_set_ids(m, TESTDEV_VENDOR_ID, TESTDEV_DEVICE_ID, TESTDEV_SUBSYS_VENDOR_ID, TESTDEV_SUBSYS_ID,
				TESTDEV_REVISION, TESTDEV_CLASS_CODE);
	if (!at)
		at = upci_model_bar_regs(m, TESTDEV_BAR_REGS, TESTDEV_BAR_REGS_SIZE, UPCI_BAR_MEM64, td_bar0_read,
					 td_bar0_write);
	if (!at)
		at = upci_model_bar_ram(m, TESTDEV_BAR_MEM, t->mem_size, UPCI_BAR_MEM64 | UPCI_BAR_PREFETCH);
	if (at)
		return at;
	/* No interrupt pin: MSI-X only. No soft reset on D3hot->D0: state
	 * survives, as the doc says. */
	if ((at = upci_model_add_pm(m, TESTDEV_CAP_PM, UPCI_MODEL_PM_NO_SOFT_RESET)) < 0 ||
	    (at = upci_model_add_msix(m, TESTDEV_CAP_MSIX, t->nvec, TESTDEV_BAR_REGS, TESTDEV_MSIX_TABLE,
				      TESTDEV_BAR_REGS, TESTDEV_MSIX_PBA)) < 0 ||
	    (at = upci_model_add_pcie(m, TESTDEV_CAP_EXP, UPCI_MODEL_PCIE_ENDPOINT, UPCI_MODEL_PCIE_FLR)) < 0 ||
	    (at = upci_model_add_ext_cap(m, TD_ECAP_ID_DSN, 1, TESTDEV_ECAP_DSN, TD_ECAP_DSN_SIZE)) < 0 ||
	    (at = upci_model_add_ext_cap(m, TD_ECAP_ID_VNDR, 1, TESTDEV_ECAP_VSEC, TESTDEV_ECAP_VSEC_SIZE)) < 0)
		return at;
	upci_model_config_set(m, TESTDEV_ECAP_DSN + TD_DSN_LO, 4, (uint32_t)TESTDEV_DSN);
	upci_model_config_set(m, TESTDEV_ECAP_DSN + TD_DSN_HI, 4, (uint32_t)(TESTDEV_DSN >> 32));
	upci_model_config_set(m, TESTDEV_ECAP_VSEC + TD_VNDR_HEADER, 4,
			      TESTDEV_VSEC_ID | (TESTDEV_VSEC_REV << TD_VNDR_REV_SHIFT) |
				      (TESTDEV_ECAP_VSEC_SIZE << TD_VNDR_LEN_SHIFT));
	upci_model_config_set(m, TESTDEV_ECAP_VSEC + TESTDEV_VSEC_DATA, 4, TESTDEV_ID_VALUE);
	return 0;
}

static int td_create(upci_model *m, const upci_model_params *params)
{
	static const char *const known[] = {"vectors", "mem", NULL};
	struct testdev *t = td_of(m);
	uint64_t nvec, mem;
	int err;

	if (upci_model_params_check(params, known, NULL) != 0)
		return -EINVAL;
	err = upci_model_param_u64(params, "vectors", TESTDEV_VECTORS_DEFAULT, TESTDEV_VECTORS_MIN,
				   TESTDEV_VECTORS_MAX, &nvec);
	if (err)
		return err;
	err = upci_model_param_u64(params, "mem", TESTDEV_MEM_DEFAULT, TESTDEV_MEM_MIN, TESTDEV_MEM_MAX, &mem);
	if (err)
		return err;
	if (mem & (mem - 1))
		return -EINVAL;
	t->m = m;
	t->nvec = (unsigned)nvec;
	t->mem_size = mem;
	err = td_build(t);
	if (err)
		return err;
	td_regs_reset(t);
	return 0;
}

const struct upci_model_ops model_testdev_ops = {
	.api_version = UPCI_MODEL_API_VERSION,
	.name = "testdev",
	.summary = "upci test device: MSI-X up to 256 vectors, mappable RAM BAR, descriptor DMA, FLR",
	.params = "vectors=1..256 (default 32), mem=BAR2 bytes, a power of two 4096..268435456 (default 1048576)",
	.priv_size = sizeof(struct testdev),
	.create = td_create,
	.reset = td_reset,
};

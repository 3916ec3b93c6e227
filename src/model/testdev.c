/* SPDX-License-Identifier: MIT */
/*
 * testdev: upci's multi-vector test device. MSI-X with up to 256 vectors,
 * a mappable RAM BAR, a descriptor memcpy engine and a PCIe capability with
 * FLR. Register map in testdev_regs.h, prose in docs/models/testdev.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>

#include "model.h"
#include "pci_regs.h"
#include "testdev_dma.h"
#include "testdev_regs.h"
#include "upci/upci.h"

/* DEVCTL after reset (PCIe Base 7.5.3.4 defaults): relaxed ordering and
 * no-snoop enabled, max read request 512 bytes (010b). */
#define TD_DEVCTL_DEFAULT \
	(PCI_EXP_DEVCTL_RELAX_EN | PCI_EXP_DEVCTL_NOSNOOP_EN | (2u << PCI_EXP_DEVCTL_READRQ_SHIFT))
#define TD_DEVCTL_WMASK                                                                              \
	(PCI_EXP_DEVCTL_CERE | PCI_EXP_DEVCTL_NFERE | PCI_EXP_DEVCTL_FERE | PCI_EXP_DEVCTL_URRE |   \
	 PCI_EXP_DEVCTL_RELAX_EN | PCI_EXP_DEVCTL_PAYLOAD | PCI_EXP_DEVCTL_NOSNOOP_EN |             \
	 PCI_EXP_DEVCTL_READRQ | PCI_EXP_DEVCTL_BCR_FLR)

/* MSI-X message address bits 1:0 are zero (dword aligned). */
#define TD_MSIX_ADDR_LO_MASK    0xfffffffcu
#define TD_PBA_BYTES(nvec)      ((((nvec) + 63u) / 64u) * 8u)
#define TD_BOUNCE_SIZE          (64u * 1024u)


struct testdev {
	struct model m; /* first: the core hands us struct model * */
	unsigned nvec;
	uint64_t mem_size;
	struct msix_state msix;
	uint8_t table[TESTDEV_VECTORS_MAX * PCI_MSIX_ENTRY_SIZE];
	uint64_t pba[TESTDEV_VECTORS_MAX / 64];
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
	uint16_t pm_state; /* last accepted PMCSR power state */
	uint8_t bounce[TD_BOUNCE_SIZE];
};

static struct testdev *td_of(struct model *m)
{
	return (struct testdev *)m;
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
	(void)model_msix_notify(&t->m, &t->msix, vec);
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
	t->pm_state = PCI_PM_STATE_D0;
}

static void td_mem_zero(struct model_bar *b)
{
	if (!b->mem)
		return;
#ifdef MADV_REMOVE
	/* Frees the memfd pages instead of touching up to 256 MiB; every
	 * mapping of the memfd then reads zeros. */
	if (madvise(b->mem, b->size, MADV_REMOVE) == 0)
		return;
#endif
	memset(b->mem, 0, b->size);
}

static void td_reset(struct model *m)
{
	struct testdev *t = td_of(m);

	cfgspace_reset(&m->cfg);
	model_msix_reset(&t->msix);
	td_regs_reset(t);
	td_mem_zero(&m->bars[TESTDEV_BAR_MEM]);
}

static void td_run(struct testdev *t)
{
	uint16_t cmd = (uint16_t)cfgspace_get(&t->m.cfg, PCI_COMMAND, 2);
	int irq = !!(t->ctrl & TESTDEV_CTRL_IRQ_EN);
	struct testdev_dma_result r = {0};

	t->done_count = 0;
	if (!(cmd & PCI_COMMAND_MASTER)) {
		r.fault = TESTDEV_FAULT_NO_MASTER;
		r.fault_desc = UINT32_MAX;
	} else if (irq && t->compl_vec >= t->nvec) {
		r.fault = TESTDEV_FAULT_VECTOR;
		r.fault_desc = UINT32_MAX;
	} else {
		struct testdev_dma_ctx c = {
			.host = t->m.host,
			.bar2 = t->m.bars[TESTDEV_BAR_MEM].mem,
			.bar2_size = t->mem_size,
			.nvec = t->nvec,
			.bounce = t->bounce,
			.bounce_size = sizeof(t->bounce),
			.fire = td_fire,
			.opaque = t,
		};
		static const struct model_host none;

		if (!c.host)
			c.host = &none;
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

/* ---- BAR0: MSI-X table and PBA ---- */

static int table_read(struct testdev *t, uint64_t off, unsigned width, uint64_t *val)
{
	uint64_t v = 0;

	if (width != 4 && width != 8)
		return -EINVAL;
	memcpy(&v, t->table + off, width);
	*val = v;
	return 0;
}

static void table_write32(struct testdev *t, uint64_t off, uint32_t v)
{
	unsigned field = (unsigned)(off % PCI_MSIX_ENTRY_SIZE);
	uint32_t old;

	memcpy(&old, t->table + off, 4);
	if (field == PCI_MSIX_ENTRY_ADDR_LO)
		v &= TD_MSIX_ADDR_LO_MASK;
	else if (field == PCI_MSIX_ENTRY_CTRL)
		v &= PCI_MSIX_ENTRY_CTRL_MASKBIT; /* other bits reserved */
	memcpy(t->table + off, &v, 4);
	/* An unmask may make a latched vector deliverable now. */
	if (field == PCI_MSIX_ENTRY_CTRL && (old & PCI_MSIX_ENTRY_CTRL_MASKBIT) && !(v & PCI_MSIX_ENTRY_CTRL_MASKBIT))
		model_msix_replay(&t->m, &t->msix);
}

static int table_write(struct testdev *t, uint64_t off, unsigned width, uint64_t val)
{
	if (width == 4) {
		table_write32(t, off, (uint32_t)val);
		return 0;
	}
	if (width == 8) {
		table_write32(t, off, (uint32_t)val);
		table_write32(t, off + 4, (uint32_t)(val >> 32));
		return 0;
	}
	return -EINVAL;
}

static int pba_read(struct testdev *t, uint64_t off, unsigned width, uint64_t *val)
{
	uint64_t w = t->pba[off / 8];

	if (width == 8)
		*val = w;
	else if (width == 4)
		*val = (uint32_t)(w >> (8 * (off % 8)));
	else
		return -EINVAL;
	return 0;
}

static uint64_t ones(unsigned width)
{
	return width >= 8 ? UINT64_MAX : (1ull << (8 * width)) - 1;
}

static int bar0_read(struct testdev *t, uint64_t off, unsigned width, uint64_t *val)
{
	uint64_t tsize = (uint64_t)t->nvec * PCI_MSIX_ENTRY_SIZE;

	if (off < TESTDEV_REGS_END) {
		if (width == 4)
			return reg_read32(t, off, val);
		if (width == 8)
			return reg_read64(t, off, val);
		return -EINVAL;
	}
	if (off >= TESTDEV_MSIX_TABLE && off - TESTDEV_MSIX_TABLE < tsize)
		return table_read(t, off - TESTDEV_MSIX_TABLE, width, val);
	if (off >= TESTDEV_MSIX_PBA && off - TESTDEV_MSIX_PBA < TD_PBA_BYTES(t->nvec))
		return pba_read(t, off - TESTDEV_MSIX_PBA, width, val);
	*val = ones(width);
	return 0;
}

static int bar0_write(struct testdev *t, uint64_t off, unsigned width, uint64_t val)
{
	uint64_t tsize = (uint64_t)t->nvec * PCI_MSIX_ENTRY_SIZE;

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
	if (off >= TESTDEV_MSIX_TABLE && off - TESTDEV_MSIX_TABLE < tsize)
		return table_write(t, off - TESTDEV_MSIX_TABLE, width, val);
	if (off >= TESTDEV_MSIX_PBA && off - TESTDEV_MSIX_PBA < TD_PBA_BYTES(t->nvec))
		return (width == 4 || width == 8) ? 0 : -EINVAL; /* PBA is read-only */
	return 0;
}

/* ---- BAR2: RAM ---- */

static int bar2_access(struct testdev *t, uint64_t off, unsigned width, uint64_t *val, int write)
{
	uint8_t *mem = t->m.bars[TESTDEV_BAR_MEM].mem;

	if (!mem)
		return -EINVAL;
	if (off > t->mem_size || width > t->mem_size - off)
		return -EINVAL;
	if (write) {
		memcpy(mem + off, val, width);
	} else {
		uint64_t v = 0;

		memcpy(&v, mem + off, width);
		*val = v;
	}
	return 0;
}

static int width_ok(unsigned width)
{
	return width == 1 || width == 2 || width == 4 || width == 8;
}

static int td_bar_read(struct model *m, unsigned bar, uint64_t off, unsigned width, uint64_t *val)
{
	struct testdev *t = td_of(m);

	if (!width_ok(width))
		return -EINVAL;
	if (bar == TESTDEV_BAR_REGS) {
		if (off > TESTDEV_BAR_REGS_SIZE || width > TESTDEV_BAR_REGS_SIZE - off || (off & (width - 1)))
			return -EINVAL;
		return bar0_read(t, off, width, val);
	}
	if (bar == TESTDEV_BAR_MEM)
		return bar2_access(t, off, width, val, 0);
	return -EINVAL;
}

static int td_bar_write(struct model *m, unsigned bar, uint64_t off, unsigned width, uint64_t val)
{
	struct testdev *t = td_of(m);

	if (!width_ok(width))
		return -EINVAL;
	if (bar == TESTDEV_BAR_REGS) {
		if (off > TESTDEV_BAR_REGS_SIZE || width > TESTDEV_BAR_REGS_SIZE - off || (off & (width - 1)))
			return -EINVAL;
		return bar0_write(t, off, width, val);
	}
	if (bar == TESTDEV_BAR_MEM)
		return bar2_access(t, off, width, &val, 1);
	return -EINVAL;
}

/* ---- Config space ---- */

static int overlaps(uint32_t off, unsigned width, unsigned reg, unsigned reg_width)
{
	return off < reg + reg_width && reg < off + width;
}

static void td_cfg_written(struct model *m, uint32_t off, unsigned width, uint32_t val)
{
	struct testdev *t = td_of(m);
	unsigned devctl = TESTDEV_CAP_EXP + PCI_EXP_DEVCTL;
	unsigned pmcsr = TESTDEV_CAP_PM + PCI_PM_CTRL;

	(void)val; /* the stored bytes are what counts: masks already applied */
	if (overlaps(off, width, devctl, 2) && (cfgspace_get(&m->cfg, devctl, 2) & PCI_EXP_DEVCTL_BCR_FLR)) {
		td_reset(m); /* FLR; the reset image has the bit clear */
		return;
	}
	if (overlaps(off, width, pmcsr, 2)) {
		uint32_t v = cfgspace_get(&m->cfg, pmcsr, 2);
		uint16_t st = (uint16_t)(v & PCI_PM_CTRL_STATE_MASK);

		/* D1/D2 are not supported: the write completes, the state stays. */
		if (st != PCI_PM_STATE_D0 && st != PCI_PM_STATE_D3HOT)
			cfgspace_put(&m->cfg, pmcsr, 2, (v & ~PCI_PM_CTRL_STATE_MASK) | t->pm_state);
		else
			t->pm_state = st;
	}
	/* Latched vectors go out once MSI-X is enabled and unmasked, and once
	 * bus mastering comes on. */
	if (overlaps(off, width, TESTDEV_CAP_MSIX + PCI_MSIX_FLAGS, 2) || overlaps(off, width, PCI_COMMAND, 2))
		model_msix_replay(m, &t->msix);
}

static void td_build_config(struct testdev *t)
{
	struct cfgspace *c = &t->m.cfg;
	unsigned pm = TESTDEV_CAP_PM, x = TESTDEV_CAP_MSIX, e = TESTDEV_CAP_EXP;

	cfgspace_init(c, TESTDEV_CFG_SIZE);
	cfgspace_set_ids(c, TESTDEV_VENDOR_ID, TESTDEV_DEVICE_ID, TESTDEV_SUBSYS_VENDOR_ID, TESTDEV_SUBSYS_ID,
			 TESTDEV_REVISION, TESTDEV_CLASS_CODE);
	cfgspace_set_bar(c, TESTDEV_BAR_REGS, TESTDEV_BAR_REGS_SIZE, UPCI_BAR_MEM64);
	cfgspace_set_bar(c, TESTDEV_BAR_MEM, t->mem_size, UPCI_BAR_MEM64 | UPCI_BAR_PREFETCH);
	/* Interrupt pin stays 0: MSI-X only, so INTx-disable is moot. */

	cfgspace_add_cap(c, PCI_CAP_ID_PM, pm, PCI_PM_SIZEOF);
	cfgspace_put(c, pm + PCI_PM_PMC, 2, PCI_PM_PMC_VERSION_1_2);
	/* No soft reset on D3hot->D0: state survives, as the doc says. */
	cfgspace_put(c, pm + PCI_PM_CTRL, 2, PCI_PM_CTRL_NO_SOFT_RESET);
	cfgspace_set_wmask(c, pm + PCI_PM_CTRL, 2, PCI_PM_CTRL_STATE_MASK);

	cfgspace_add_cap(c, PCI_CAP_ID_MSIX, x, PCI_MSIX_SIZEOF);
	cfgspace_put(c, x + PCI_MSIX_FLAGS, 2, (t->nvec - 1) & PCI_MSIX_FLAGS_QSIZE);
	cfgspace_set_wmask(c, x + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	cfgspace_put(c, x + PCI_MSIX_TABLE, 4, TESTDEV_MSIX_TABLE | TESTDEV_BAR_REGS);
	cfgspace_put(c, x + PCI_MSIX_PBA, 4, TESTDEV_MSIX_PBA | TESTDEV_BAR_REGS);

	cfgspace_add_cap(c, PCI_CAP_ID_EXP, e, PCI_EXP_ENDPOINT_SIZEOF_V2);
	cfgspace_put(c, e + PCI_EXP_FLAGS, 2,
		     PCI_EXP_FLAGS_VERS_2 | (PCI_EXP_TYPE_ENDPOINT << PCI_EXP_FLAGS_TYPE_SHIFT));
	cfgspace_put(c, e + PCI_EXP_DEVCAP, 4, PCI_EXP_DEVCAP_FLR); /* payload 128 bytes */
	cfgspace_put(c, e + PCI_EXP_DEVCTL, 2, TD_DEVCTL_DEFAULT);
	cfgspace_set_wmask(c, e + PCI_EXP_DEVCTL, 2, TD_DEVCTL_WMASK);
	cfgspace_set_w1cmask(c, e + PCI_EXP_DEVSTA, 2, PCI_EXP_DEVSTA_ERR_MASK);
	cfgspace_put(c, e + PCI_EXP_LNKCAP, 4, PCI_EXP_LNK_SPEED_2_5GT | PCI_EXP_LNKCAP_MLW_X1);
	cfgspace_put(c, e + PCI_EXP_LNKSTA, 2, PCI_EXP_LNK_SPEED_2_5GT | PCI_EXP_LNKSTA_NLW_X1);

	cfgspace_add_ext_cap(c, PCI_EXT_CAP_ID_DSN, 1, TESTDEV_ECAP_DSN);
	cfgspace_put(c, TESTDEV_ECAP_DSN + PCI_DSN_LO, 4, (uint32_t)TESTDEV_DSN);
	cfgspace_put(c, TESTDEV_ECAP_DSN + PCI_DSN_HI, 4, (uint32_t)(TESTDEV_DSN >> 32));
	cfgspace_add_ext_cap(c, PCI_EXT_CAP_ID_VNDR, 1, TESTDEV_ECAP_VSEC);
	cfgspace_put(c, TESTDEV_ECAP_VSEC + PCI_VNDR_HEADER, 4,
		     TESTDEV_VSEC_ID | (TESTDEV_VSEC_REV << PCI_VNDR_HEADER_REV_SHIFT) |
			     (TESTDEV_ECAP_VSEC_SIZE << PCI_VNDR_HEADER_LEN_SHIFT));
	cfgspace_put(c, TESTDEV_ECAP_VSEC + TESTDEV_VSEC_DATA, 4, TESTDEV_ID_VALUE);

	cfgspace_commit_reset_image(c);
}

/* ---- Life cycle ---- */

static int td_create(const struct model_host *host, const struct model_params *params, struct model **out)
{
	static const char *const known[] = {"vectors", "mem", NULL};
	uint64_t nvec, mem;
	struct testdev *t;
	int err;

	if (!out)
		return -EINVAL;
	if (model_params_check(params, known, NULL) != 0)
		return -EINVAL;
	err = model_param_u64(params, "vectors", TESTDEV_VECTORS_DEFAULT, TESTDEV_VECTORS_MIN, TESTDEV_VECTORS_MAX,
			      &nvec);
	if (err)
		return err;
	err = model_param_u64(params, "mem", TESTDEV_MEM_DEFAULT, TESTDEV_MEM_MIN, TESTDEV_MEM_MAX, &mem);
	if (err)
		return err;
	if (mem & (mem - 1))
		return -EINVAL;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->m.ops = &model_testdev_ops;
	t->m.host = host;
	t->m.vendor_id = TESTDEV_VENDOR_ID;
	t->m.device_id = TESTDEV_DEVICE_ID;
	for (unsigned i = 0; i < UPCI_NUM_BARS; i++)
		t->m.bars[i].fd = -1;
	t->nvec = (unsigned)nvec;
	t->mem_size = mem;

	t->m.bars[TESTDEV_BAR_REGS].size = TESTDEV_BAR_REGS_SIZE;
	t->m.bars[TESTDEV_BAR_REGS].flags = UPCI_BAR_PRESENT | UPCI_BAR_MEM64;
	err = model_bar_alloc_mem(&t->m.bars[TESTDEV_BAR_MEM], "upci-testdev-bar2", mem);
	if (err) {
		free(t);
		return err;
	}
	t->m.bars[TESTDEV_BAR_MEM].flags = UPCI_BAR_PRESENT | UPCI_BAR_MEM64 | UPCI_BAR_PREFETCH | UPCI_BAR_MAPPABLE;

	t->msix.cap = TESTDEV_CAP_MSIX;
	t->msix.nvec = t->nvec;
	t->msix.table = t->table;
	t->msix.pba = t->pba;
	td_build_config(t);
	model_msix_reset(&t->msix);
	td_regs_reset(t);
	*out = &t->m;
	return 0;
}

static void td_destroy(struct model *m)
{
	if (!m)
		return;
	model_bar_free_mem(&m->bars[TESTDEV_BAR_MEM]);
	free(td_of(m));
}

const struct model_ops model_testdev_ops = {
	.name = "testdev",
	.summary = "upci test device: MSI-X up to 256 vectors, mappable RAM BAR, descriptor DMA, FLR",
	.params = "vectors=1..256 (default 32), mem=BAR2 bytes, a power of two 4096..268435456 (default 1048576)",
	.create = td_create,
	.destroy = td_destroy,
	.bar_read = td_bar_read,
	.bar_write = td_bar_write,
	.cfg_written = td_cfg_written,
	.reset = td_reset,
	.has_flr = 1,
};

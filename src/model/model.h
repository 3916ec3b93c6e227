/* SPDX-License-Identifier: MIT */
/*
 * The device-model runtime: what stands behind include/upci/model.h. An
 * instance (struct upci_model) holds what upci keeps for the author -
 * config space with its masks, the BARs, the MSI/MSI-X/INTx state - and
 * the author's table and private state. The sim backend creates instances
 * and drives them through the calls below; a model reaches the host only
 * through struct model_host (DMA through the host's IOMMU, interrupts as
 * messages or a pin level).
 *
 * Files: model_inst.c (life cycle, reset, config writes from the bus),
 * model_caps.c (identity, capabilities, config access for the author),
 * model_bar.c (BARs and their dispatch, the MSI-X table and PBA),
 * model_irq.c (MSI, MSI-X and INTx rules), model_dma.c, model_params.c,
 * models.c (the registry), cfgspace.c (bytes and masks).
 *
 * Locking: the caller (the sim backend) serializes every call into one
 * instance; the runtime has no locks of its own but the registry's.
 */
#ifndef UPCI_MODEL_MODEL_H
#define UPCI_MODEL_MODEL_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "cfgspace.h"
#include "pci_regs.h"
#include "upci/model.h"
#include "uri.h"

/* What the host offers an instance. Any callback may be NULL (unit tests,
 * a trial instance that only validates parameters). */
struct model_host {
	void *opaque;
	/*
	 * Pointer to [bus, bus+len) in client memory when the whole range lies
	 * in one mapped region allowing @need (UPCI_DMA_READ when the device
	 * reads memory, UPCI_DMA_WRITE when it writes); NULL otherwise.
	 * The memory can vanish under the pointer at any moment: bytes move
	 * through it only with guarded copies (dma_guard.h).
	 */
	void *(*dma_translate)(void *opaque, uint64_t bus, uint64_t len, unsigned need);
	/* Copying DMA that may span adjacent regions: 0 or -EFAULT (on
	 * -EFAULT some bytes may have been moved). */
	int (*dma_read)(void *opaque, uint64_t bus, void *buf, uint64_t len);
	int (*dma_write)(void *opaque, uint64_t bus, const void *buf, uint64_t len);
	/* The device sent the MSI / MSI-X message of vector @vec (enable and
	 * mask rules applied). */
	void (*msi)(void *opaque, unsigned vec);
	/* The INTx pin's level (0 or 1); also called again with 1 while high
	 * when the device re-raises, for a host that dropped its copy. */
	void (*intx)(void *opaque, int level);
};

/* The URI's parameters, as the core parsed them. */
struct upci_model_params {
	struct uri_params u;
};

enum model_bar_kind {
	MODEL_BAR_NONE = 0,
	MODEL_BAR_REGS,     /* callbacks (maybe with a read-only mirror) */
	MODEL_BAR_RAM,      /* memory, mapped read-write */
	MODEL_BAR_UPPER,    /* the upper half of the 64-bit BAR below */
};

struct model_bar {
	enum model_bar_kind kind;
	uint64_t size;              /* 0 for NONE and UPPER: every access refused */
	/* [trap_lo, trap_lo + trap_len): where the MSI-X table or PBA may lie
	 * in this BAR (0 length: nowhere); one compare on the fast path. */
	uint64_t trap_lo, trap_len;
	uint32_t flags;             /* UPCI_BAR_* as upci_bar_info() reports them */
	upci_model_read_fn read;
	upci_model_write_fn write;
	/* RAM or mirror: a memfd (-1 where there is none) with its size
	 * sealed, and the model's shared mapping of it. */
	int fd;
	void *mem;
};

/* MSI-X state: table and PBA kept by upci, in a register BAR. */
/* The MSI-X PBA of @nvec vectors: 64-bit words, and bytes in the BAR. */
#define MODEL_PBA_WORDS(nvec) (((size_t)(nvec) + 63u) / 64u)
#define MODEL_PBA_BYTES(nvec) ((uint64_t)MODEL_PBA_WORDS(nvec) * 8u)

struct msix_state {
	unsigned cap;        /* config offset of the capability, 0: none */
	unsigned nvec;
	unsigned table_bar, pba_bar;
	uint64_t table_off, pba_off;
	uint8_t *table;      /* nvec * 16 bytes */
	uint64_t *pba;       /* MODEL_PBA_WORDS(nvec) words */
};

struct model_entry;

struct upci_model {
	/* What every access touches first, then config space (16 KiB). */
	const struct upci_model_ops *ops;
	const struct model_host *host;
	void *priv;
	struct model_bar bars[UPCI_NUM_BARS];
	struct model_entry *entry;  /* registry entry (counts instances) */
	int building;               /* inside create(): shape calls allowed */
	struct cfgspace cfg;
	uint8_t cap_used[PCIE_CFG_SIZE / 8]; /* bit per config byte owned by a capability */
	uint8_t cap_hdr[PCIE_CFG_SIZE / 8];  /* bit per byte of a capability header (upci's) */
	unsigned cap_end;           /* first free offset after the last standard cap */
	unsigned ecap_last;         /* offset of the last extended cap, 0: none */
	unsigned ecap_end;
	unsigned msi_cap;
	struct msix_state msix;
	unsigned pm_cap;
	uint16_t pm_state;          /* last accepted PMCSR power state */
	unsigned exp_cap;
	int flr;
	int intx_level;             /* the device's condition (upci_model_intx) */
	int intx_pin_out;           /* the level the host was last told */
};

/* ---- life cycle (model_inst.c) ---- */

/*
 * Create an instance of @ops for @host (kept by reference: it must
 * outlive the instance). @params may be NULL. Takes a reference on
 * @entry (NULL for a table that is not in the registry: unit tests).
 * 0 or the negative errno of create() / of allocation.
 */
int model_create(const struct upci_model_ops *ops, struct model_entry *entry, const struct model_host *host,
		 const struct upci_model_params *params, struct upci_model **out);
void model_destroy(struct upci_model *m);
/* Function reset: config space, MSI-X, INTx, RAM BARs, then ops->reset. */
void model_reset(struct upci_model *m);
/* Whether upci_reset() is an FLR (a PCIe capability with FLR). */
int model_has_flr(const struct upci_model *m);
/* A config access from the bus (width 1/2/4, offset in range: the core
 * checked; out-of-range reads give all ones, writes are dropped). */
static inline const struct cfgspace *model_cfg(const struct upci_model *m);
static inline uint32_t model_cfg_read(const struct upci_model *m, unsigned off, unsigned width);
void model_cfg_write(struct upci_model *m, unsigned off, unsigned width, uint32_t val);

/* ---- BARs (model_bar.c) ---- */

/* An access from the bus: checked again (width, alignment, bounds), the
 * MSI-X table and PBA served by the runtime, the rest by the BAR's kind.
 * The _inline forms below are the same for the sim backend's hot path,
 * with @val never NULL (the core checked). */
int model_bar_read(struct upci_model *m, unsigned bar, uint64_t off, unsigned width, uint64_t *val);
int model_bar_write(struct upci_model *m, unsigned bar, uint64_t off, unsigned width, uint64_t val);
/* Inside the trap span of a BAR: 0 or -EINVAL when the access hit the
 * MSI-X table or PBA (served), 1 when it fell between them. */
int model_msix_read(struct upci_model *m, unsigned bar, uint64_t off, unsigned width, uint64_t *val);
int model_msix_write(struct upci_model *m, unsigned bar, uint64_t off, unsigned width, uint64_t val);
const struct model_bar *model_bar_get(const struct upci_model *m, unsigned bar);
void model_bars_free(struct upci_model *m);
void model_bars_zero_ram(struct upci_model *m);

/* ---- interrupts (model_irq.c) ---- */

/* MSI through the capability at @cap: 1 sent, 0 latched or dropped,
 * -EINVAL for a vector beyond the capability. */
int model_msi_notify(struct upci_model *m, unsigned cap, unsigned vec);
/* MSI-X: 1 sent, 0 latched in the PBA or dropped, -EINVAL past the table. */
int model_msix_notify(struct upci_model *m, unsigned vec);
/* Deliver every latched vector that can now go out. */
void model_msix_replay(struct upci_model *m);
void model_msi_replay(struct upci_model *m);
/* Table defaults: every entry masked, address/data 0, PBA clear. */
void model_msix_reset(struct upci_model *m);
/* Re-evaluate the INTx pin and STATUS.INTERRUPT; @restate repeats a high
 * level to the host. */
void model_intx_update(struct upci_model *m, int restate);
/* After a config write from the bus: the rules that depend on it. */
void model_irq_cfg_written(struct upci_model *m, unsigned off, unsigned width);

/* ---- capabilities (model_caps.c) ---- */

/* After a config write from the bus: PM state rules. Returns 1 when the
 * write reset the function (FLR, D3hot -> D0 soft reset). */
int model_caps_cfg_written(struct upci_model *m, unsigned off, unsigned width, uint16_t old_pmcsr);
/* The stored PMCSR (0 without a PM capability). */
uint16_t model_pmcsr(const struct upci_model *m);

/* ---- registry (models.c) ---- */

/* Find a model by name and count one more instance of it (so it cannot
 * be unregistered meanwhile). NULL when there is none. */
const struct upci_model_ops *model_get(const char *name, struct model_entry **entry);
/* Undo model_get (also for an instance that was never created). */
void model_put(struct model_entry *entry);
/* "edu, testdev, ..." for error messages. */
void model_names(char *buf, size_t len);

/* The built-in models. */
extern const struct upci_model_ops model_edu_ops;
extern const struct upci_model_ops model_testdev_ops;

/* Helpers for the runtime's files. */
static inline int model_overlaps(unsigned off, unsigned width, unsigned reg, unsigned reg_width)
{
	return off < reg + reg_width && reg < off + width;
}

/* A 16-bit config register at an offset the runtime placed itself (always
 * inside config space): read on every interrupt and DMA, so no loop. */
static inline uint16_t model_cfg16(const struct upci_model *m, unsigned off)
{
	return (uint16_t)(m->cfg.data[off] | (m->cfg.data[off + 1] << 8));
}

static inline const struct cfgspace *model_cfg(const struct upci_model *m)
{
	return &m->cfg;
}

static inline uint32_t model_cfg_read(const struct upci_model *m, unsigned off, unsigned width)
{
	return cfgspace_read(&m->cfg, off, width);
}

static inline uint64_t model_ones(unsigned width)
{
	return width >= 8 ? UINT64_MAX : (1ull << (8 * width)) - 1;
}

/* 1, 2, 4 or 8, aligned, inside a BAR that has a size (NONE and UPPER
 * have none). */
static inline int model_access_ok(const struct model_bar *b, uint64_t off, unsigned width)
{
	return width - 1 < 8 && !(width & (width - 1)) && off < b->size && width <= b->size - off &&
	       !(off & (width - 1));
}

/* Typed loads and stores: a variable-size memcpy through a stack word
 * would stall on store forwarding at every RAM access. */
static inline void model_ram_load(const uint8_t *p, unsigned width, uint64_t *val)
{
	uint8_t b8;
	uint16_t b16;
	uint32_t b32;
	uint64_t b64;

	switch (width) {
	case 1: __builtin_memcpy(&b8, p, 1); *val = b8; break;
	case 2: __builtin_memcpy(&b16, p, 2); *val = b16; break;
	case 4: __builtin_memcpy(&b32, p, 4); *val = b32; break;
	default: __builtin_memcpy(&b64, p, 8); *val = b64; break;
	}
}

static inline void model_ram_store(uint8_t *p, unsigned width, uint64_t val)
{
	uint8_t b8 = (uint8_t)val;
	uint16_t b16 = (uint16_t)val;
	uint32_t b32 = (uint32_t)val;

	switch (width) {
	case 1: __builtin_memcpy(p, &b8, 1); break;
	case 2: __builtin_memcpy(p, &b16, 2); break;
	case 4: __builtin_memcpy(p, &b32, 4); break;
	default: __builtin_memcpy(p, &val, 8); break;
	}
}

static inline int model_bar_read_inline(struct upci_model *m, unsigned bar, uint64_t off, unsigned width,
					uint64_t *val)
{
	const struct model_bar *b;
	int ret;

	if (bar >= UPCI_NUM_BARS || !model_access_ok(&m->bars[bar], off, width)) {
		*val = model_ones(width > 8 ? 8 : width); /* what a master abort reads */
		return -EINVAL;
	}
	b = &m->bars[bar];
	if (off - b->trap_lo < b->trap_len) {
		*val = model_ones(width);
		ret = model_msix_read(m, bar, off, width, val);
		if (ret <= 0)
			return ret;
	}
	if (b->kind == MODEL_BAR_RAM) {
		model_ram_load((const uint8_t *)b->mem + off, width, val);
		return 0;
	}
	if (b->read)
		return b->read(m, m->priv, bar, off, width, val);
	*val = model_ones(width);
	return 0;
}

static inline int model_bar_write_inline(struct upci_model *m, unsigned bar, uint64_t off, unsigned width,
					 uint64_t val)
{
	const struct model_bar *b;
	int ret;

	if (bar >= UPCI_NUM_BARS || !model_access_ok(&m->bars[bar], off, width))
		return -EINVAL;
	if (width < 8)
		val &= model_ones(width);
	b = &m->bars[bar];
	if (off - b->trap_lo < b->trap_len) {
		ret = model_msix_write(m, bar, off, width, val);
		if (ret <= 0)
			return ret;
	}
	if (b->kind == MODEL_BAR_RAM) {
		model_ram_store((uint8_t *)b->mem + off, width, val);
		return 0;
	}
	return b->write ? b->write(m, m->priv, bar, off, width, val) : 0;
}

#endif /* UPCI_MODEL_MODEL_H */

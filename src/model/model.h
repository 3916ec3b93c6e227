/* SPDX-License-Identifier: MIT */
/*
 * Device models: emulated PCI functions that run in the caller's process
 * behind the sim backend (and, through it, behind `upci serve`).
 *
 * A model sees the world only through struct model_host: DMA goes through
 * the host's IOMMU (bounds-checked translation of bus addresses) and
 * interrupts are messages handed to the host. A model never touches memory
 * outside its own state and what model_host translation returns.
 *
 * Every value a model receives from a register write or a config write is
 * hostile: checks return a verdict that the caller obeys.
 *
 * Locking: the sim backend serializes every call into one model instance.
 * Models create no threads; work triggered by a register write completes
 * before the write returns (so a status "busy" bit is never seen set by a
 * later read, which drivers must tolerate anyway).
 */
#ifndef UPCI_MODEL_MODEL_H
#define UPCI_MODEL_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "cfgspace.h"

struct model;

/* What the host offers a model. Any callback may be NULL in unit tests
 * where it is not exercised; models must check. */
struct model_host {
	void *opaque;
	/*
	 * Pointer to [bus, bus+len) in client memory when the whole range lies
	 * in one mapped region allowing @need (UPCI_DMA_READ when the device
	 * reads memory, UPCI_DMA_WRITE when it writes); NULL otherwise.
	 * The memory can vanish under the pointer at any moment (the client
	 * shrinks the file behind it): models move bytes through it only with
	 * model_dma_copy(), never with a plain load, store or memcpy.
	 */
	void *(*dma_translate)(void *opaque, uint64_t bus, uint64_t len, unsigned need);
	/* Copying DMA that may span adjacent regions: 0 or -EFAULT (nothing
	 * partial is guaranteed: on -EFAULT some bytes may have been moved). */
	int (*dma_read)(void *opaque, uint64_t bus, void *buf, uint64_t len);
	int (*dma_write)(void *opaque, uint64_t bus, const void *buf, uint64_t len);
	/* The device sent MSI / MSI-X message for vector @vec (the model has
	 * already applied enable and mask rules). */
	void (*msi)(void *opaque, unsigned vec);
	/* INTx pin level changed (0 or 1). */
	void (*intx)(void *opaque, int level);
};

/*
 * The one way to move bytes to or from a dma_translate pointer (memmove
 * semantics): 0, or -EFAULT when the memory behind either range faulted
 * (its file shrank); part of @dst may then be written and *fault (may be
 * NULL) gets the faulting address. The model reports it as a DMA error.
 */
int model_dma_copy(void *dst, const void *src, uint64_t len, const void **fault);
/*
 * Device DMA of @len bytes at @bus: through dma_translate (and
 * model_dma_copy) when the range is one mapped region, else through the
 * copying callback. 0 or -EFAULT.
 */
int model_dma_read(const struct model_host *h, uint64_t bus, void *buf, uint64_t len);
int model_dma_write(const struct model_host *h, uint64_t bus, const void *buf, uint64_t len);

/* Model parameters from the URI query (sim:testdev?vectors=64,...). */
#define MODEL_MAX_PARAMS 16
struct model_param {
	char key[32];
	char val[64];
};
struct model_params {
	unsigned n;
	struct model_param p[MODEL_MAX_PARAMS];
};

/* 0 and *out = value (default when absent); -EINVAL when the value is not a
 * number in [min, max]. Accepts decimal and 0x hex. */
int model_param_u64(const struct model_params *p, const char *key, uint64_t def, uint64_t min, uint64_t max,
		    uint64_t *out);
/* 0 when every key in p is one of the NULL-terminated list; else -EINVAL and
 * *bad = the first unknown key. */
int model_params_check(const struct model_params *p, const char *const *known, const char **bad);

/* One BAR as the model implements it. */
struct model_bar {
	uint64_t size;  /* power of two, 0 = not implemented */
	uint32_t flags; /* UPCI_BAR_* from upci.h */
	/*
	 * For a mappable BAR: a memfd (or -1 where there is none) holding the
	 * BAR contents, its size sealed (it may be handed to another process),
	 * and the model's own shared mapping of it. For
	 * UPCI_BAR_MAP_RDONLY the model keeps it a current mirror of its
	 * registers; for a RAM BAR it is the storage itself.
	 */
	int fd;
	void *mem;
};

/* Per-model operations. Register access widths are 1, 2, 4 or 8 and
 * offsets are aligned and inside the BAR (the core checked); a model still
 * rejects what it does not implement (returns -EINVAL, reads of
 * unimplemented registers return all ones and 0 is returned). */
struct model_ops {
	const char *name;
	const char *summary;   /* one line for `upci --help` */
	const char *params;    /* e.g. "vectors=1..256 (default 16)", or "" */
	int (*create)(const struct model_host *host, const struct model_params *params, struct model **out);
	void (*destroy)(struct model *m);
	int (*bar_read)(struct model *m, unsigned bar, uint64_t off, unsigned width, uint64_t *val);
	int (*bar_write)(struct model *m, unsigned bar, uint64_t off, unsigned width, uint64_t val);
	/* Called after cfgspace_write() stored a config write; for side
	 * effects (FLR bit, MSI-X enable turning on, COMMAND changes). */
	void (*cfg_written)(struct model *m, uint32_t off, unsigned width, uint32_t val);
	/* Back to power-on state: registers, config space, pending interrupts. */
	void (*reset)(struct model *m);
	/* 1 when the model implements FLR (reset is then a function-level one). */
	int has_flr;
};

/* The common part every model embeds first. */
struct model {
	const struct model_ops *ops;
	const struct model_host *host;
	struct cfgspace cfg;
	struct model_bar bars[6];
	uint16_t vendor_id, device_id;
};

/* The built-in models. */
extern const struct model_ops model_edu_ops;
extern const struct model_ops model_testdev_ops;

/* Registry of built-in models (src/model/models.c). */
const struct model_ops *model_find(const char *name);
/* NULL-terminated array of all models. */
const struct model_ops *const *model_list(void);

/* Helpers every model uses (src/model/model.c). */
int model_bar_alloc_mem(struct model_bar *b, const char *name, uint64_t size);
void model_bar_free_mem(struct model_bar *b);

/*
 * MSI delivery (src/model/msi.c): honours the MSI capability at cfg offset
 * @cap: enable bit, multiple-message-enable count, per-vector mask and
 * pending bits, and COMMAND's Bus Master Enable (no message without it).
 * Returns 1 if delivered through host->msi, 0 if latched in the pending
 * bits or dropped (MSI disabled, bus mastering off), -EINVAL for a vector
 * beyond the capability.
 */
int model_msi_notify(struct model *m, unsigned cap, unsigned vec);

/* MSI-X state kept by a model whose table and PBA live in its BAR storage. */
struct msix_state {
	unsigned cap;       /* config offset of the MSI-X capability */
	unsigned nvec;      /* table size */
	uint8_t *table;     /* nvec * 16 bytes */
	uint64_t *pba;      /* (nvec + 63) / 64 words */
};
/* Deliver or latch: MSI-X disabled -> dropped (0); function mask or entry
 * mask -> PBA bit set (0); bus mastering off -> dropped (0); else
 * host->msi(vec) (1). -EINVAL if vec >= nvec. */
int model_msix_notify(struct model *m, struct msix_state *x, unsigned vec);
/* After an unmask (entry or function mask cleared, or enable set): deliver
 * each latched vector that is now deliverable and clear its PBA bit. */
void model_msix_replay(struct model *m, struct msix_state *x);
/* Table/PBA defaults: every entry masked, address/data 0, PBA clear. */
void model_msix_reset(struct msix_state *x);

#endif /* UPCI_MODEL_MODEL_H */

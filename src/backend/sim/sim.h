/* SPDX-License-Identifier: MIT */
/* The sim backend: device models in-process, reached through a simulated
 * IOMMU (a DMA region table keyed by bus address). */
#ifndef UPCI_BACKEND_SIM_H
#define UPCI_BACKEND_SIM_H

#include <pthread.h>

#include "device.h"
#include "dma_table.h"
#include "model.h"

/*
 * Kinds of simulated IOMMU ("sim:MODEL?iommu=..."):
 *   flat  every IOVA, bus address = IOVA (the default)
 *   x86   what Linux VFIO reports on x86 with VT-d: 48 bits, without the
 *         interrupt window 0xfee00000-0xfeefffff; bus address = IOVA
 *   dart  the macOS DART: the IOMMU picks bus addresses in a 1.5 GiB window,
 *         16 KiB granules, at most 65,536 mappings; any IOVA (a key)
 */
enum sim_iommu_kind { SIM_IOMMU_FLAT, SIM_IOMMU_X86, SIM_IOMMU_DART };

#define SIM_X86_MSI_START 0xfee00000ull
#define SIM_X86_MSI_LAST  0xfeefffffull
#define SIM_X86_LAST      ((1ull << 48) - 1)
/* Under the edu's 28-bit DMA mask, as the iokit-shim's DART. */
#define SIM_DART_BASE     0x0a000000ull
#define SIM_DART_SPACE    (1536ull << 20)
#define SIM_DART_GRANULE  16384ull
#define SIM_DART_MAX_MAPS 65536u

struct sim_inst;

/*
 * The simulated IOMMU: bus address -> process memory. Each instance has
 * its own; the sim devices of a DMA space share one (space_join). A model
 * looks up under ->lock while holding its instance lock and uses what it
 * found until it drops the instance lock; an unmap removes under ->lock and
 * then takes and drops every user's instance lock, so when it returns no
 * model DMA is still using the memory.
 */
struct sim_iommu {
	pthread_mutex_t lock;     /* the table and the counters */
	struct dma_table *map;    /* keyed by bus address; other = IOVA */
	enum sim_iommu_kind kind;
	uint64_t dart_bytes;      /* dart: bytes of whole granules in use */
	unsigned dart_maps;       /* dart: live mappings */
	/* Instances whose DMA goes through it, linked by iommu_next; changed
	 * only by space join/leave, which core serializes with maps. */
	struct sim_inst *users;
};

/* One model instance, shared by every handle opened with the same URI. */
struct sim_inst {
	struct sim_inst *next;
	char *key;                 /* the URI: instances are found by it */
	unsigned refs;
	unsigned index;            /* gives each instance its own BDF */
	pthread_mutex_t lock;      /* serializes every call into the model */
	struct upci_model *m;
	struct model_host host;
	struct upci_dev *owner;    /* the handle holding the claim, or NULL */
	struct sim_iommu own;      /* its IOMMU when in no DMA space */
	struct sim_iommu *iommu;   /* the one in use: &own, or a space's */
	struct sim_inst *iommu_next;
	enum upci_irq_type irq_type;
	unsigned irq_nvec;
	int intx_level;
};

/* sim_iommu.c */
int sim_iommu_init(struct sim_iommu *io, enum sim_iommu_kind kind, struct sim_inst *user);
void sim_iommu_fini(struct sim_iommu *io);
/* "iommu=" of a sim: URI: 0 with *kind (flat when absent), -EINVAL. The
 * model's parameters are copied to *model without it. */
int sim_iommu_param(const struct uri_params *p, enum sim_iommu_kind *kind, struct uri_params *model);
/* A copy of the region holding bus address @bus of @si's IOMMU: 0 or
 * -EFAULT. A copy, because another device sharing the IOMMU may remove the
 * region meanwhile; the memory it names stays valid until the caller drops
 * the instance lock (which it holds): see struct sim_iommu. */
int sim_iommu_find(struct sim_inst *si, uint64_t bus, struct dma_region *out);
int sim_dma_map(struct upci_dev *dev, uint64_t iova, void *vaddr, uint64_t len, unsigned flags, int fd,
		uint64_t fd_off, uint64_t *bus);
int sim_dma_map_remote(struct upci_dev *dev, uint64_t iova, uint64_t len, unsigned flags, upci_dma_rw_fn rw,
		       void *opaque, uint64_t *bus);
int sim_dma_unmap(struct upci_dev *dev, uint64_t iova, uint64_t len, uint64_t bus);
int sim_dma_ranges(struct upci_dev *dev, struct upci_iova_range *out, unsigned max);
int sim_space_join(struct upci_dev *dev, void **slot);
int sim_space_leave(struct upci_dev *dev, void **slot, int last, int closing);
/* Identity fields a model's config space holds (IDs, class, config
 * size, name); the bus address is the caller's. */
void sim_identity(const struct upci_model *m, struct upci_identity *id);

/* sim_enum.c: upci_enumerate("sim"). */
struct upci_enum_sink;
int sim_enumerate(struct upci_enum_sink *sink);

/* sim_host.c: the model_host callbacks, bound to an instance. */
void sim_host_init(struct sim_inst *si);

/* Config write from the bus, with the model's side effects. */
void sim_cfg_write(struct sim_inst *si, unsigned off, unsigned width, uint32_t val);

/* sim_irq.c: program the model's MSI / MSI-X / INTx as a host OS would. */
unsigned sim_irq_count(struct sim_inst *si, enum upci_irq_type type);
int sim_irq_program(struct sim_inst *si, enum upci_irq_type type, unsigned nvec);
void sim_irq_unprogram(struct sim_inst *si);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * The simulated IOMMU (see sim.h): mappings, the IOVA ranges of each
 * kind, the DART's choice of bus addresses and its limits, and one IOMMU
 * shared by the sim devices of a DMA space.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dma_guard.h"
#include "log.h"
#include "sim.h"

#define IOMMU_PARAM "iommu"

static struct sim_inst *inst_of(struct upci_dev *dev)
{
	return dev->priv;
}

int sim_iommu_init(struct sim_iommu *io, enum sim_iommu_kind kind, struct sim_inst *user)
{
	memset(io, 0, sizeof(*io));
	if (dma_table_create(&io->map) != 0)
		return -ENOMEM;
	pthread_mutex_init(&io->lock, NULL);
	io->kind = kind;
	io->users = user;
	if (user)
		user->iommu_next = NULL;
	return 0;
}

void sim_iommu_fini(struct sim_iommu *io)
{
	if (!io->map)
		return;
	dma_table_destroy(io->map);
	pthread_mutex_destroy(&io->lock);
	io->map = NULL;
}

int sim_iommu_param(const struct uri_params *p, enum sim_iommu_kind *kind, struct uri_params *model)
{
	static const char *const names[] = {"flat", "x86", "dart"};

	*kind = SIM_IOMMU_FLAT;
	model->n = 0;
	for (unsigned i = 0; i < p->n; i++) {
		unsigned k;

		if (strcmp(p->p[i].key, IOMMU_PARAM) != 0) {
			model->p[model->n++] = p->p[i];
			continue;
		}
		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (strcmp(p->p[i].val, names[k]) == 0)
				break;
		if (k == sizeof(names) / sizeof(names[0]))
			return -EINVAL;
		*kind = (enum sim_iommu_kind)k;
	}
	return 0;
}

int sim_iommu_find(struct sim_inst *si, uint64_t bus, struct dma_region *out)
{
	const struct dma_region *r;

	pthread_mutex_lock(&si->iommu->lock);
	r = dma_table_find(si->iommu->map, bus);
	if (r)
		*out = *r;
	pthread_mutex_unlock(&si->iommu->lock);
	return r ? 0 : -EFAULT;
}

/* Whole DART granules a mapping at bus address @bus of @len bytes takes. */
static uint64_t dart_span(uint64_t bus, uint64_t len)
{
	uint64_t off = bus & (SIM_DART_GRANULE - 1);

	return (off + len + SIM_DART_GRANULE - 1) & ~(SIM_DART_GRANULE - 1);
}

/* The DART picks the bus address: the lowest free granules, keeping the
 * memory's offset inside its first granule, as the hardware maps pages. */
static int dart_pick(struct sim_iommu *io, const void *vaddr, uint64_t len, uint64_t *bus)
{
	uint64_t off = (uint64_t)(uintptr_t)vaddr & (SIM_DART_GRANULE - 1);
	uint64_t span = dart_span(off, len), at;

	if (io->dart_maps >= SIM_DART_MAX_MAPS || span > SIM_DART_SPACE - io->dart_bytes)
		return -ENOSPC;
	if (dma_table_find_gap(io->map, SIM_DART_BASE, span, SIM_DART_GRANULE, &at) != 0 ||
	    at - SIM_DART_BASE > SIM_DART_SPACE - span)
		return -ENOSPC; /* free bytes, but not in one piece */
	*bus = at + off;
	return 0;
}

static int iommu_insert(struct upci_dev *dev, struct dma_region *r, uint64_t *bus)
{
	struct sim_iommu *io = inst_of(dev)->iommu;
	int ret = 0;

	pthread_mutex_lock(&io->lock);
	if (io->kind == SIM_IOMMU_DART)
		ret = dart_pick(io, r->vaddr, r->len, &r->start);
	if (ret == 0)
		ret = dma_table_insert(io->map, r);
	if (ret == 0 && io->kind == SIM_IOMMU_DART) {
		io->dart_bytes += dart_span(r->start, r->len);
		io->dart_maps++;
	}
	pthread_mutex_unlock(&io->lock);
	if (ret == -ENOSPC)
		LOG_ERR("%s: DMA map iova 0x%llx (0x%llx bytes): the simulated DART is full (1.5 GiB, 65536 mappings)",
			dev->uri, (unsigned long long)r->other, (unsigned long long)r->len);
	if (ret == 0)
		*bus = r->start;
	return ret;
}

int sim_dma_map(struct upci_dev *dev, uint64_t iova, void *vaddr, uint64_t len, unsigned flags, int fd,
		uint64_t fd_off, uint64_t *bus)
{
	struct dma_region r = {.start = iova, .len = len, .vaddr = vaddr, .other = iova, .flags = flags};
	int ret;

	(void)fd; /* the model runs in this process: the address is enough */
	(void)fd_off;
	/* The memory may be a peer's file that shrinks under the mapping:
	 * make sure a fault in the model's copies is a DMA error (again, in
	 * case someone replaced the SIGBUS handler since). */
	ret = dma_guard_arm();
	if (ret)
		return ret;
	return iommu_insert(dev, &r, bus);
}

int sim_dma_map_remote(struct upci_dev *dev, uint64_t iova, uint64_t len, unsigned flags, upci_dma_rw_fn rw,
		       void *opaque, uint64_t *bus)
{
	struct dma_region r = {
		.start = iova, .len = len, .other = iova, .flags = flags, .rw = rw, .rw_opaque = opaque,
	};

	return iommu_insert(dev, &r, bus);
}

int sim_dma_unmap(struct upci_dev *dev, uint64_t iova, uint64_t len, uint64_t bus)
{
	struct sim_iommu *io = inst_of(dev)->iommu;
	struct dma_region r;
	int ret;

	(void)iova;
	(void)len;
	pthread_mutex_lock(&io->lock);
	ret = dma_table_remove(io->map, bus, &r);
	if (ret == 0 && io->kind == SIM_IOMMU_DART) {
		io->dart_bytes -= dart_span(r.start, r.len);
		io->dart_maps--;
	}
	pthread_mutex_unlock(&io->lock);
	/* A model uses what it looked up until it drops its instance lock:
	 * once each user's lock has been free, none can still be using it. */
	for (struct sim_inst *u = io->users; u; u = u->iommu_next) {
		pthread_mutex_lock(&u->lock);
		pthread_mutex_unlock(&u->lock);
	}
	return ret;
}

int sim_dma_ranges(struct upci_dev *dev, struct upci_iova_range *out, unsigned max)
{
	enum sim_iommu_kind kind = inst_of(dev)->iommu->kind;

	if (max < 2)
		return -ENOSPC; /* core always offers more */
	if (kind != SIM_IOMMU_X86) {
		out[0].start = 0;
		out[0].last = UINT64_MAX;
		return 1;
	}
	out[0].start = 0;
	out[0].last = SIM_X86_MSI_START - 1;
	out[1].start = SIM_X86_MSI_LAST + 1;
	out[1].last = SIM_X86_LAST;
	return 2;
}

static void users_remove(struct sim_iommu *io, struct sim_inst *si)
{
	for (struct sim_inst **pp = &io->users; *pp; pp = &(*pp)->iommu_next)
		if (*pp == si) {
			*pp = si->iommu_next;
			break;
		}
	si->iommu_next = NULL;
}

/* Sim devices of one IOMMU kind share one IOMMU: a mapping made through
 * one is in all of them. A device of another kind keeps its own (core
 * then makes each mapping on it as well). */
int sim_space_join(struct upci_dev *dev, void **slot)
{
	struct sim_inst *si = inst_of(dev);
	struct sim_iommu *sh = *slot;

	if (!sh) {
		sh = malloc(sizeof(*sh));
		if (!sh || sim_iommu_init(sh, si->own.kind, NULL) != 0) {
			free(sh);
			return -ENOMEM;
		}
		*slot = sh;
	}
	if (sh->kind != si->own.kind)
		return 0;
	pthread_mutex_lock(&si->lock);
	users_remove(&si->own, si);
	si->iommu_next = sh->users;
	sh->users = si;
	si->iommu = sh;
	pthread_mutex_unlock(&si->lock);
	return 1;
}

int sim_space_leave(struct upci_dev *dev, void **slot, int last, int closing)
{
	struct sim_inst *si = inst_of(dev);
	struct sim_iommu *sh = *slot;

	(void)closing;
	pthread_mutex_lock(&si->lock);
	users_remove(sh, si);
	si->iommu = &si->own;
	si->iommu_next = NULL;
	si->own.users = si;
	pthread_mutex_unlock(&si->lock);
	if (last) {
		sim_iommu_fini(sh); /* empty: core unmapped everything through this device */
		free(sh);
		*slot = NULL;
	}
	return 0;
}

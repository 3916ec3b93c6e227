/* SPDX-License-Identifier: MIT */
/* The sim backend's ops table: handles on shared model instances. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backend.h"
#include "caps.h"
#include "dma_guard.h"
#include "log.h"
#include "pci_regs.h"
#include "sim.h"

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sim_inst *registry;
static unsigned next_index;

static struct sim_inst *inst_of(struct upci_dev *dev)
{
	return dev->priv;
}

static void inst_free(struct sim_inst *si)
{
	model_destroy(si->m); /* gives back its registry reference */
	sim_iommu_fini(&si->own);
	pthread_mutex_destroy(&si->lock);
	free(si->key);
	free(si);
}

static int inst_create(const char *key, const struct upci_uri *u, struct sim_inst **out)
{
	struct model_entry *entry;
	const struct upci_model_ops *mo = model_get(u->model, &entry);
	struct uri_params mp;
	enum sim_iommu_kind kind;
	struct sim_inst *si;
	int ret;

	if (!mo)
		return -ENOENT;
	if (sim_iommu_param(&u->params, &kind, &mp) != 0) {
		model_put(entry);
		return -EINVAL;
	}
	si = calloc(1, sizeof(*si));
	if (!si) {
		model_put(entry);
		return -ENOMEM;
	}
	pthread_mutex_init(&si->lock, NULL);
	si->key = strdup(key);
	ret = si->key ? sim_iommu_init(&si->own, kind, si) : -ENOMEM;
	si->iommu = &si->own;
	if (ret == 0) {
		sim_host_init(si);
		ret = model_create(mo, entry, &si->host, (const struct upci_model_params *)&mp, &si->m);
	}
	if (ret) {
		si->m = NULL;
		model_put(entry);
		inst_free(si);
		return ret;
	}
	*out = si;
	return 0;
}

void sim_identity(const struct upci_model *m, struct upci_identity *id)
{
	const struct cfgspace *c = model_cfg(m);

	id->vendor_id = (uint16_t)cfgspace_get(c, PCI_VENDOR_ID, 2);
	id->device_id = (uint16_t)cfgspace_get(c, PCI_DEVICE_ID, 2);
	id->subsys_vendor_id = (uint16_t)cfgspace_get(c, PCI_SUBSYSTEM_VENDOR_ID, 2);
	id->subsys_id = (uint16_t)cfgspace_get(c, PCI_SUBSYSTEM_ID, 2);
	id->revision = (uint8_t)cfgspace_get(c, PCI_REVISION_ID, 1);
	id->class_code = cfgspace_get(c, PCI_REVISION_ID, 4) >> 8;
	id->config_size = c->size;
	snprintf(id->name, sizeof(id->name), "%s", m->ops->name);
}

static void fill_identity(struct upci_dev *dev, struct sim_inst *si)
{
	struct upci_identity *id = &dev->ident;

	id->domain = 0;
	id->bus = 0;
	id->device = (uint8_t)(1 + si->index % 31);
	id->function = 0;
	sim_identity(si->m, id);
	for (unsigned b = 0; b < UPCI_NUM_BARS; b++) {
		const struct model_bar *mb = model_bar_get(si->m, b);

		dev->bars[b].size = mb->size;
		dev->bars[b].flags = mb->size ? (mb->flags | UPCI_BAR_PRESENT) : 0;
	}
}

static int sim_open(struct upci_dev *dev, const struct upci_uri *u)
{
	struct sim_inst *si;
	int ret = 0;

	pthread_mutex_lock(&registry_lock);
	for (si = registry; si; si = si->next)
		if (strcmp(si->key, dev->uri) == 0)
			break;
	if (!si) {
		ret = inst_create(dev->uri, u, &si);
		if (ret == 0) {
			si->index = next_index++;
			si->next = registry;
			registry = si;
		}
	}
	if (ret == 0) {
		si->refs++;
		dev->priv = si;
		pthread_mutex_lock(&si->lock);
		fill_identity(dev, si);
		pthread_mutex_unlock(&si->lock);
	}
	pthread_mutex_unlock(&registry_lock);
	return ret;
}

static void sim_close(struct upci_dev *dev)
{
	struct sim_inst *si = inst_of(dev), **pp;

	pthread_mutex_lock(&registry_lock);
	if (--si->refs == 0) {
		for (pp = &registry; *pp; pp = &(*pp)->next)
			if (*pp == si) {
				*pp = si->next;
				break;
			}
		inst_free(si);
	}
	pthread_mutex_unlock(&registry_lock);
	dev->priv = NULL;
}

static int sim_claim(struct upci_dev *dev)
{
	struct sim_inst *si = inst_of(dev);
	int ret = 0;

	pthread_mutex_lock(&si->lock);
	if (si->owner && si->owner != dev)
		ret = -EBUSY;
	else
		si->owner = dev;
	pthread_mutex_unlock(&si->lock);
	return ret;
}

static void sim_release(struct upci_dev *dev)
{
	struct sim_inst *si = inst_of(dev);

	pthread_mutex_lock(&si->lock);
	if (si->owner == dev) {
		sim_irq_unprogram(si);
		si->owner = NULL;
	}
	pthread_mutex_unlock(&si->lock);
}

static int sim_config_read(struct upci_dev *dev, uint32_t off, unsigned width, uint32_t *val)
{
	struct sim_inst *si = inst_of(dev);

	pthread_mutex_lock(&si->lock);
	*val = model_cfg_read(si->m, off, width);
	pthread_mutex_unlock(&si->lock);
	return 0;
}

static int sim_config_read_block(struct upci_dev *dev, uint32_t off, void *buf, size_t len)
{
	struct sim_inst *si = inst_of(dev);

	pthread_mutex_lock(&si->lock);
	memcpy(buf, model_cfg(si->m)->data + off, len);
	pthread_mutex_unlock(&si->lock);
	return 0;
}

static int sim_config_write(struct upci_dev *dev, uint32_t off, unsigned width, uint32_t val)
{
	struct sim_inst *si = inst_of(dev);

	pthread_mutex_lock(&si->lock);
	sim_cfg_write(si, off, width, val);
	pthread_mutex_unlock(&si->lock);
	return 0;
}

static int sim_bar_map(struct upci_dev *dev, unsigned bar, void **addr)
{
	struct sim_inst *si = inst_of(dev);
	const struct model_bar *b = model_bar_get(si->m, bar);
	int prot = PROT_READ;
	void *p;

	if (!b->mem)
		return -ENOTSUP;
	if (b->fd < 0) {
		*addr = b->mem; /* no memfd on this platform: share the model's mapping */
		return 0;
	}
	if (!(b->flags & UPCI_BAR_MAP_RDONLY))
		prot |= PROT_WRITE;
	/* A mapping of its own, as a real BAR mmap would be. */
	p = mmap(NULL, b->size, prot, MAP_SHARED, b->fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	*addr = p;
	return 0;
}

static void sim_bar_unmap(struct upci_dev *dev, unsigned bar, void *addr)
{
	struct sim_inst *si = inst_of(dev);

	const struct model_bar *b = model_bar_get(si->m, bar);

	if (b->fd >= 0)
		munmap(addr, b->size);
}

static int sim_bar_fd(struct upci_dev *dev, unsigned bar, int *fd, uint64_t *offset)
{
	struct sim_inst *si = inst_of(dev);
	const struct model_bar *b = model_bar_get(si->m, bar);

	if (b->fd < 0)
		return -ENOTSUP;
	*fd = b->fd;
	*offset = 0;
	return 0;
}

static int sim_mmio_read(struct upci_dev *dev, unsigned bar, uint64_t off, unsigned width, uint64_t *val)
{
	struct sim_inst *si = inst_of(dev);
	int ret;

	pthread_mutex_lock(&si->lock);
	ret = model_bar_read_inline(si->m, bar, off, width, val);
	pthread_mutex_unlock(&si->lock);
	return ret;
}

static int sim_mmio_write(struct upci_dev *dev, unsigned bar, uint64_t off, unsigned width, uint64_t val)
{
	struct sim_inst *si = inst_of(dev);
	int ret;

	pthread_mutex_lock(&si->lock);
	ret = model_bar_write_inline(si->m, bar, off, width, val);
	pthread_mutex_unlock(&si->lock);
	return ret;
}

static unsigned sim_irq_count_op(struct upci_dev *dev, enum upci_irq_type type)
{
	struct sim_inst *si = inst_of(dev);
	unsigned n;

	pthread_mutex_lock(&si->lock);
	n = sim_irq_count(si, type);
	pthread_mutex_unlock(&si->lock);
	return n;
}

static int sim_irq_enable(struct upci_dev *dev, enum upci_irq_type type, unsigned nvec)
{
	struct sim_inst *si = inst_of(dev);
	int ret;

	pthread_mutex_lock(&si->lock);
	ret = sim_irq_program(si, type, nvec);
	pthread_mutex_unlock(&si->lock);
	return ret;
}

static void sim_irq_disable(struct upci_dev *dev)
{
	struct sim_inst *si = inst_of(dev);

	pthread_mutex_lock(&si->lock);
	sim_irq_unprogram(si);
	pthread_mutex_unlock(&si->lock);
}

static int sim_reset(struct upci_dev *dev)
{
	struct sim_inst *si = inst_of(dev);
	struct cfg_snapshot c;
	unsigned exp;

	pthread_mutex_lock(&si->lock);
	c.data = model_cfg(si->m)->data;
	c.size = model_cfg(si->m)->size;
	exp = caps_find(&c, PCI_CAP_ID_EXP);
	si->irq_type = UPCI_IRQ_NONE;
	si->irq_nvec = 0;
	si->intx_level = 0;
	if (model_has_flr(si->m) && exp) {
		/* Function-level reset through PCIe DevCtl, as a host would. */
		uint32_t ctl = cfgspace_get(model_cfg(si->m), exp + PCI_EXP_DEVCTL, 2);

		sim_cfg_write(si, exp + PCI_EXP_DEVCTL, 2, ctl | PCI_EXP_DEVCTL_BCR_FLR);
	} else {
		model_reset(si->m);
	}
	pthread_mutex_unlock(&si->lock);
	LOG_DBG("%s: reset (%s)", dev->uri, model_has_flr(si->m) && exp ? "FLR" : "model reset");
	return 0;
}

/* For sim: URIs the model and its parameters can be checked without a
 * device: name the models or the accepted parameters. */
static int sim_uri_check(const struct upci_uri *u, char *why, size_t whylen)
{
	struct model_entry *entry;
	const struct upci_model_ops *mo = model_get(u->model, &entry);
	struct uri_params mp;
	enum sim_iommu_kind kind;
	struct upci_model *m = NULL;
	int ret;

	if (!mo) {
		char names[256];

		model_names(names, sizeof(names));
		if (why && whylen)
			snprintf(why, whylen, "no model \"%s\" (known: %s)", u->model, names);
		return -ENOENT;
	}
	if (sim_iommu_param(&u->params, &kind, &mp) != 0) {
		if (why && whylen)
			snprintf(why, whylen, "bad value for \"iommu\" (accepted: flat, x86, dart)");
		model_put(entry);
		return -EINVAL;
	}
	/* A trial instance validates the parameters exactly as open will. */
	ret = model_create(mo, NULL, NULL, (const struct upci_model_params *)&mp, &m);
	model_destroy(m);
	if (ret && why && whylen) {
		if (ret == -EINVAL)
			snprintf(why, whylen, "bad parameters for model \"%s\" (accepted: %s%siommu=flat|x86|dart)",
				 u->model, mo->params && mo->params[0] ? mo->params : "",
				 mo->params && mo->params[0] ? ", " : "");
		else
			snprintf(why, whylen, "cannot create model \"%s\": %s", u->model, upci_strerror(ret));
	}
	model_put(entry);
	return ret;
}

const struct upci_backend_ops upci_sim_ops = {
	.scheme = "sim",
	.enumerate = sim_enumerate,
	.uri_check = sim_uri_check,
	.open = sim_open,
	.close = sim_close,
	.claim = sim_claim,
	.release = sim_release,
	.config_read = sim_config_read,
	.config_write = sim_config_write,
	.config_read_block = sim_config_read_block,
	.bar_map = sim_bar_map,
	.bar_unmap = sim_bar_unmap,
	.bar_fd = sim_bar_fd,
	.mmio_read = sim_mmio_read,
	.mmio_write = sim_mmio_write,
	.dma_map = sim_dma_map,
	.dma_map_remote = sim_dma_map_remote,
	.dma_unmap = sim_dma_unmap,
	.dma_ranges = sim_dma_ranges,
	.space_join = sim_space_join,
	.space_leave = sim_space_leave,
	.irq_count = sim_irq_count_op,
	.irq_enable = sim_irq_enable,
	.irq_disable = sim_irq_disable,
	.reset = sim_reset,
};

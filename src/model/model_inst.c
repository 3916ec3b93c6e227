/* SPDX-License-Identifier: MIT */
/*
 * An instance's life: creation through the author's create() (the only
 * time its shape may change), config writes from the bus with upci's
 * rules before the author's hook, reset, destruction.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

/* The author's state: large enough for anything sane, small enough that
 * a typo cannot ask for the whole address space. */
#define PRIV_MAX (1ull << 30)

void *upci_model_priv(const upci_model *m)
{
	return m ? m->priv : NULL;
}

int model_create(const struct upci_model_ops *ops, struct model_entry *entry, const struct model_host *host,
		 const struct upci_model_params *params, struct upci_model **out)
{
	static const struct model_host none;
	struct upci_model *m;
	int ret;

	if (!ops || !ops->create || !out || ops->priv_size > PRIV_MAX)
		return -EINVAL;
	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->ops = ops;
	m->host = host ? host : &none;
	m->entry = entry;
	for (unsigned i = 0; i < UPCI_NUM_BARS; i++)
		m->bars[i].fd = -1;
	if (ops->priv_size) {
		m->priv = calloc(1, ops->priv_size);
		if (!m->priv) {
			free(m);
			return -ENOMEM;
		}
	}
	cfgspace_init(&m->cfg, PCI_CFG_SIZE);
	m->cap_end = PCI_STD_HEADER_SIZE;
	m->ecap_end = PCI_EXT_CAP_START;
	m->building = 1;
	ret = ops->create(m, params);
	m->building = 0;
	if (ret > 0)
		ret = -EINVAL; /* not a valid answer: refuse rather than guess */
	if (ret == 0 && cfgspace_get(&m->cfg, PCI_VENDOR_ID, 2) == 0)
		ret = -EINVAL; /* no identity: nothing would find the device */
	if (ret) {
		m->entry = NULL; /* the caller still holds its reference */
		model_destroy(m);
		return ret;
	}
	/* What create() left is the power-on state. */
	cfgspace_commit_reset_image(&m->cfg);
	*out = m;
	return 0;
}

void model_destroy(struct upci_model *m)
{
	if (!m)
		return;
	if (m->ops->destroy)
		m->ops->destroy(m);
	model_bars_free(m);
	free(m->priv);
	if (m->entry)
		model_put(m->entry);
	free(m);
}

void model_reset(struct upci_model *m)
{
	cfgspace_reset(&m->cfg);
	m->pm_state = PCI_PM_STATE_D0;
	model_msix_reset(m);
	m->intx_level = 0;
	model_intx_update(m, 0); /* lowers the pin if it was up */
	model_bars_zero_ram(m);
	if (m->ops->reset)
		m->ops->reset(m);
}

int model_has_flr(const struct upci_model *m)
{
	return m->flr;
}

void model_cfg_write(struct upci_model *m, unsigned off, unsigned width, uint32_t val)
{
	uint16_t old_pmcsr = model_pmcsr(m);

	if ((width != 1 && width != 2 && width != 4) || off > m->cfg.size || width > m->cfg.size - off)
		return;
	cfgspace_write(&m->cfg, off, width, val);
	if (model_caps_cfg_written(m, off, width, old_pmcsr))
		return; /* the write reset the function: ops->reset was told */
	model_irq_cfg_written(m, off, width);
	if (m->ops->config_written)
		m->ops->config_written(m, off, width, val);
}

/* SPDX-License-Identifier: MIT */
/*
 * The vfio backend's ops table (vfio:DDDD:BB:DD.F). Opening the device
 * through VFIO is what makes it exclusive (the kernel lets one process
 * have a group or bind a cdev), so a second handle fails at open with
 * -EBUSY and claim has nothing left to check.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "core.h"
#include "log.h"
#include "vfio.h"

static void vfio_close_op(struct upci_dev *dev)
{
	struct vfio_dev *v = vfio_of(dev);

	if (!v)
		return;
	vfio_irq_disable(dev);
	vfio_regions_unmap(v);
	vfio_dev_close(v);
	free(v);
	dev->priv = NULL;
}

static int vfio_open_op(struct upci_dev *dev, const struct upci_uri *u)
{
	struct vfio_dev *v = calloc(1, sizeof(*v));
	char bdf[SYSFS_BDF_LEN];
	int ret;

	if (!v)
		return -ENOMEM;
	v->irq_index = -1;
	v->unmask_fd = -1;
	for (unsigned i = 0; i < UPCI_MAX_VECTORS; i++)
		v->irq_fd[i] = -1;
	dev->priv = v;
	/* The pollable fd must not change once a caller has it. */
	ret = irq_state_enable_sources(&dev->irq);
	if (ret) {
		free(v);
		dev->priv = NULL;
		return ret;
	}
	snprintf(bdf, sizeof(bdf), "%04x:%02x:%02x.%x", u->domain, u->bus, u->dev, u->fn);
	ret = vfio_dev_open(v, bdf);
	if (ret == 0)
		ret = vfio_regions_probe(dev);
	if (ret == 0)
		ret = vfio_dma_probe(v->ctx, v->bdf);
	if (ret == 0)
		ret = vfio_irq_probe(v);
	if (ret) {
		vfio_close_op(dev);
		return ret;
	}
	dev->ident.domain = u->domain;
	dev->ident.bus = u->bus;
	dev->ident.device = u->dev;
	dev->ident.function = u->fn;
	return 0;
}

static int vfio_claim_op(struct upci_dev *dev)
{
	(void)dev; /* exclusive since open */
	return 0;
}

static void vfio_release_op(struct upci_dev *dev)
{
	(void)dev; /* core already dropped mappings, DMA and interrupts */
}

const struct upci_backend_ops upci_vfio_ops = {
	.scheme = "vfio",
	.enumerate = vfio_enumerate,
	.open = vfio_open_op,
	.close = vfio_close_op,
	.claim = vfio_claim_op,
	.release = vfio_release_op,
	.config_read = vfio_cfg_read,
	.config_write = vfio_cfg_write,
	.config_read_block = vfio_cfg_read_block,
	.bar_map = vfio_bar_map,
	.bar_unmap = vfio_bar_unmap,
	.bar_fd = vfio_bar_fd,
	.mmio_read = vfio_mmio_read,
	.mmio_write = vfio_mmio_write,
	.dma_map = vfio_dma_map,
	.dma_unmap = vfio_dma_unmap,
	.dma_ranges = vfio_dma_ranges,
	.space_join = vfio_space_join,
	.space_leave = vfio_space_leave,
	.irq_enable = vfio_irq_enable,
	.irq_disable = vfio_irq_disable,
	.irq_set_eventfd = vfio_irq_set_eventfd,
	.irq_count = vfio_irq_count,
	.reset = vfio_reset,
};

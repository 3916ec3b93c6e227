/* SPDX-License-Identifier: MIT */
/* The vfio-user client's ops table: open = connect + negotiate + probe. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "log.h"
#include "vu.h"

static void vu_free(struct vu_dev *v)
{
	vu_region_fini(v);
	vu_conn_close(&v->c);
	free(v);
}

static int vu_open(struct upci_dev *dev, const struct upci_uri *u)
{
	size_t n = strlen(u->path);
	struct vu_dev *v = calloc(1, sizeof(*v) + n + 1);
	int rc;

	if (!v)
		return -ENOMEM;
	memcpy(v->path, u->path, n + 1);
	for (unsigned i = 0; i < VU_NUM_REGIONS; i++)
		v->reg[i].fd = -1;
	for (unsigned i = 0; i < UPCI_MAX_VECTORS; i++)
		v->irq_fd[i] = -1;
	v->irq_index = -1;
	v->unmask_fd = -1;
	/* Vectors arrive as eventfd sources: the epoll set exists from now
	 * on, so upci_irq_fd() never changes. */
	rc = irq_state_enable_sources(&dev->irq);
	if (rc == 0)
		rc = vu_conn_open(&v->c, v->path);
	if (rc == 0)
		rc = vu_region_probe(dev, v);
	if (rc == 0)
		rc = vu_irq_probe(v);
	if (rc) {
		vu_free(v);
		return rc;
	}
	dev->priv = v;
	LOG_DBG("vfio-user %s: %04x:%04x, config %u bytes", v->path, dev->ident.vendor_id, dev->ident.device_id,
		dev->ident.config_size);
	return 0;
}

static void vu_close(struct upci_dev *dev)
{
	struct vu_dev *v = vu_of(dev);

	/* Core disabled interrupts and dropped mappings before this. */
	vu_irq_disable(dev);
	vu_free(v);
	dev->priv = NULL;
}

/* The server serves one client at a time: holding the connection is the
 * claim, so claim and release are local. */
static int vu_claim(struct upci_dev *dev)
{
	(void)dev;
	return 0;
}

static int vu_reset(struct upci_dev *dev)
{
	struct vu_dev *v = vu_of(dev);

	if (!(v->dev_flags & VFU_DEVICE_F_RESET))
		return -ENOTSUP;
	return vu_call_simple(&v->c, VFU_CMD_DEVICE_RESET, NULL, 0, NULL, 0);
}

const struct upci_backend_ops upci_vfio_user_ops = {
	.scheme = "vfio-user",
	.open = vu_open,
	.close = vu_close,
	.claim = vu_claim,
	.config_read = vu_config_read,
	.config_write = vu_config_write,
	.config_read_block = vu_config_read_block,
	.bar_map = vu_bar_map,
	.bar_unmap = vu_bar_unmap,
	.bar_fd = vu_bar_fd,
	.mmio_read = vu_mmio_read,
	.mmio_write = vu_mmio_write,
	.dma_map = vu_dma_map,
	.dma_map_remote = vu_dma_map_remote,
	.dma_unmap = vu_dma_unmap,
	.irq_count = vu_irq_count,
	.irq_enable = vu_irq_enable,
	.irq_disable = vu_irq_disable,
	.irq_set_eventfd = vu_irq_set_eventfd,
	.reset = vu_reset,
};

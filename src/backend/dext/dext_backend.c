/* SPDX-License-Identifier: MIT */
/*
 * The dext backend's ops table: upci handles on VFIOUserPCIDriver
 * connections (dext_conn.c). Core has checked every argument; what is left
 * here is the protocol's own shape:
 *   - config space: dext_cfg.c (reads as the driver allows them, writes
 *     through dext_policy.c).
 *   - BARs: memory type 1 + BAR index, write-combining when prefetchable;
 *     MMIO by the memory index GetBARInfo returns.
 *   - DMA: RegisterDMARegion returns the bus address the DART chose; a
 *     device-read-only or -write-only region carries its direction in an
 *     extra input that the shipped driver ignores (dext_proto.h).
 *   - interrupts: MSI-X if the device has it, else MSI (the driver's
 *     choice); delivery in dext_irq.c. The driver has no INTx: a function
 *     with an interrupt pin is offered "INTx" as its first message vector,
 *     delivered as vector 0 (an edge per message, not a level).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "caps.h"
#include "core.h"
#include "dext.h"
#include "log.h"
#include "pci_regs.h"

struct dext_dev {
	struct dext_conn *conn;
	struct dext_bar bar[UPCI_NUM_BARS];
	uint8_t hdr[PCI_CFG_SIZE]; /* config space at open: capability offsets */
	unsigned msix_nvec, msi_nvec, pin;
	struct dext_policy policy;
};

static struct dext_dev *dd_of(struct upci_dev *dev)
{
	return dev->priv;
}

static io_connect_t port_of(struct upci_dev *dev)
{
	return dd_of(dev)->conn->port;
}

/* A register access can make the device interrupt; the driver has usually
 * latched it by the time the call returns. Take it from the page now rather
 * than one dispatch-queue hop later. */
static void poll_irq(struct upci_dev *dev)
{
	struct dext_conn *c = dd_of(dev)->conn;
	struct dext_irq *q;

	pthread_mutex_lock(&c->lock);
	q = c->irq;
	pthread_mutex_unlock(&c->lock);
	if (q)
		dext_irq_poll(q);
}

/* ---- config space (dext_cfg.c) ---- */

static int dext_config_read_op(struct upci_dev *dev, uint32_t off, unsigned width, uint32_t *val)
{
	return dext_cfg_read(port_of(dev), off, width, val);
}

static int dext_config_read_block_op(struct upci_dev *dev, uint32_t off, void *buf, size_t len)
{
	return dext_cfg_read_block(port_of(dev), off, buf, len);
}

static int dext_config_write_op(struct upci_dev *dev, uint32_t off, unsigned width, uint32_t val)
{
	int ret = dext_cfg_write(port_of(dev), &dd_of(dev)->policy, dev->uri, off, width, val);

	poll_irq(dev); /* e.g. unmasking MSI-X releases a latched vector */
	return ret;
}

/* ---- open / close / claim ---- */

/* What mapping this BAR gives, asked at open. A failure that only says
 * "not now" (e.g. the driver maps BARs for a claimed client only) leaves
 * it mappable; Unsupported or a short mapping means never. */
static uint32_t probe_mapping(io_connect_t port, unsigned bar, const struct dext_bar *b)
{
	IOOptionBits opts = dext_bar_map_options(b->type);
	uint32_t flags = UPCI_BAR_MAPPABLE;
	uint64_t size = 0;
	void *addr;
	int ret;

	ret = dext_map(port, DEXT_MEM_BAR(bar), opts, &addr, &size);
	if (ret == -EROFS) { /* only a read-only mapping is offered */
		flags |= UPCI_BAR_MAP_RDONLY;
		ret = dext_map(port, DEXT_MEM_BAR(bar), opts | kIOMapReadOnly, &addr, &size);
	}
	if (ret == 0) {
		dext_unmap(port, DEXT_MEM_BAR(bar), addr);
		return size >= b->size ? flags : 0;
	}
	if (ret == -ENOTSUP || ret == -EINVAL || ret == -EROFS)
		return 0;
	return UPCI_BAR_MAPPABLE;
}

static void fill_bars(struct upci_dev *dev, struct dext_dev *dd)
{
	for (unsigned b = 0; b < UPCI_NUM_BARS; b++) {
		struct dext_bar *x = &dd->bar[b];
		uint32_t flags = UPCI_BAR_PRESENT;

		/* Unused BARs and upper halves of 64-bit ones answer an error. */
		if (dext_bar_info(dd->conn->port, b, x) != 0 || x->size == 0) {
			memset(x, 0, sizeof(*x));
			continue;
		}
		if (x->type & DEXT_BAR_TYPE_IO) {
			flags |= UPCI_BAR_IO;
		} else {
			if ((x->type & DEXT_BAR_TYPE_MEM_MASK) == DEXT_BAR_TYPE_MEM64)
				flags |= UPCI_BAR_MEM64;
			if (x->type & DEXT_BAR_TYPE_PREFETCH)
				flags |= UPCI_BAR_PREFETCH;
			flags |= probe_mapping(dd->conn->port, b, x);
		}
		dev->bars[b].size = x->size;
		dev->bars[b].flags = flags;
		if ((flags & UPCI_BAR_MEM64) && b + 1 < UPCI_NUM_BARS)
			b++; /* the upper half is not a BAR of its own */
	}
}

static void fill_irq_counts(struct dext_dev *dd)
{
	struct cfg_snapshot c = {dd->hdr, sizeof(dd->hdr)};
	struct msix_decode x;
	struct msi_decode m;

	if (msix_decode(&c, &x) == 0)
		dd->msix_nvec = x.table_size > DEXT_MAX_VECTORS ? DEXT_MAX_VECTORS : x.table_size;
	if (msi_decode(&c, &m) == 0)
		dd->msi_nvec = m.vectors_capable;
	dd->pin = cfg_get8(&c, PCI_INTERRUPT_PIN);
}

static int dext_open(struct upci_dev *dev, const struct upci_uri *u)
{
	struct dext_dev *dd = calloc(1, sizeof(*dd));
	struct upci_identity *id = &dev->ident;
	struct cfg_snapshot c;
	int ret;

	if (!dd)
		return -ENOMEM;
	ret = dext_conn_get(u->bus, u->dev, u->fn, &dd->conn);
	if (ret) {
		free(dd);
		return ret;
	}
	dev->priv = dd;
	ret = dext_cfg_read_block(dd->conn->port, 0, dd->hdr, sizeof(dd->hdr));
	if (ret) {
		LOG_ERR("%s: reading config space: %s", dev->uri, upci_strerror(ret));
		dext_conn_put(dd->conn);
		free(dd);
		dev->priv = NULL;
		return ret;
	}
	c.data = dd->hdr;
	c.size = sizeof(dd->hdr);
	id->domain = 0;
	id->bus = dd->conn->id.bus;
	id->device = dd->conn->id.dev;
	id->function = dd->conn->id.fn;
	id->vendor_id = dd->conn->id.vendor;
	id->device_id = dd->conn->id.device;
	id->class_code = dd->conn->id.class_code;
	id->revision = cfg_get8(&c, PCI_REVISION_ID);
	id->subsys_vendor_id = cfg_get16(&c, PCI_SUBSYSTEM_VENDOR_ID);
	id->subsys_id = cfg_get16(&c, PCI_SUBSYSTEM_ID);
	/* Extended config space exists on PCI Express functions. */
	id->config_size = caps_find(&c, PCI_CAP_ID_EXP) ? PCIE_CFG_SIZE : PCI_CFG_SIZE;
	snprintf(id->name, sizeof(id->name), "%04x:%04x", id->vendor_id, id->device_id);
	fill_bars(dev, dd);
	fill_irq_counts(dd);
	dext_policy_init(&dd->policy, dd->hdr, sizeof(dd->hdr));
	return 0;
}

static void dext_close(struct upci_dev *dev)
{
	struct dext_dev *dd = dd_of(dev);

	dext_conn_put(dd->conn);
	free(dd);
	dev->priv = NULL;
}

static int dext_claim_op(struct upci_dev *dev)
{
	return dext_conn_claim(dd_of(dev)->conn, dev);
}

static void dext_release_op(struct upci_dev *dev)
{
	dext_conn_release(dd_of(dev)->conn, dev);
}

/* ---- BARs and MMIO ---- */

static int dext_bar_map_op(struct upci_dev *dev, unsigned bar, void **addr)
{
	IOOptionBits opts = dext_bar_map_options(dd_of(dev)->bar[bar].type);
	uint64_t size = 0;
	int ret;

	if (dev->bars[bar].flags & UPCI_BAR_MAP_RDONLY)
		opts |= kIOMapReadOnly;
	ret = dext_map(port_of(dev), DEXT_MEM_BAR(bar), opts, addr, &size);
	if (ret) {
		LOG_ERR("%s: mapping BAR%u: %s", dev->uri, bar, upci_strerror(ret));
		return ret;
	}
	if (size < dev->bars[bar].size) {
		LOG_ERR("%s: BAR%u mapped 0x%llx bytes of 0x%llx", dev->uri, bar, (unsigned long long)size,
			(unsigned long long)dev->bars[bar].size);
		dext_unmap(port_of(dev), DEXT_MEM_BAR(bar), *addr);
		return -EIO;
	}
	return 0;
}

static void dext_bar_unmap_op(struct upci_dev *dev, unsigned bar, void *addr)
{
	dext_unmap(port_of(dev), DEXT_MEM_BAR(bar), addr);
}

static int dext_mmio_read_op(struct upci_dev *dev, unsigned bar, uint64_t off, unsigned width, uint64_t *val)
{
	int ret = dext_mmio_read(port_of(dev), dd_of(dev)->bar[bar].memidx, off, width, val);

	poll_irq(dev);
	return ret;
}

static int dext_mmio_write_op(struct upci_dev *dev, unsigned bar, uint64_t off, unsigned width, uint64_t val)
{
	int ret = dext_mmio_write(port_of(dev), dd_of(dev)->bar[bar].memidx, off, width, val);

	poll_irq(dev);
	return ret;
}

/* ---- DMA ---- */

/* UPCI_LOG=debug: ask the driver to read the region's first word through
 * its own mapping, to catch a registration that does not alias our pages. */
static void probe_alias(struct upci_dev *dev, uint64_t iova, const void *vaddr)
{
	uint64_t word = 0, mine;
	int ret;

	if (!upci_log_enabled(UPCI_LOG_DEBUG))
		return;
	memcpy(&mine, vaddr, sizeof(mine));
	ret = dext_probe_dma(port_of(dev), iova, 0, &word);
	if (ret)
		LOG_DBG("%s: ProbeDMARegion 0x%llx: %s", dev->uri, (unsigned long long)iova, upci_strerror(ret));
	else if (word != mine)
		LOG_DBG("%s: ProbeDMARegion 0x%llx read 0x%016llx, the process sees 0x%016llx", dev->uri,
			(unsigned long long)iova, (unsigned long long)word, (unsigned long long)mine);
}

static int dext_dma_map_op(struct upci_dev *dev, uint64_t iova, void *vaddr, uint64_t len, unsigned flags, int fd,
			   uint64_t fd_off, uint64_t *bus)
{
	unsigned dir = flags == UPCI_DMA_READ ? DEXT_DIR_OUT : flags == UPCI_DMA_WRITE ? DEXT_DIR_IN : DEXT_DIR_OUTIN;
	uint64_t blen = 0;
	int ret;

	(void)fd;
	(void)fd_off;
	if (len > DEXT_DMA_CHUNK) {
		/* The driver would split it into chunks with unrelated bus
		 * addresses, which one bus address cannot describe. */
		LOG_ERR("%s: DMA map of 0x%llx bytes: over the DART's 1.5 GiB", dev->uri, (unsigned long long)len);
		return -ENOSPC;
	}
	/* The shipped driver maps every region read-write whatever @dir says
	 * (see DEXT_REG_IN_DIRECTION). */
	ret = dext_register_dma(port_of(dev), iova, (uint64_t)(uintptr_t)vaddr, len, dir, bus, &blen);
	if (ret == -ENOSPC)
		LOG_ERR("%s: DMA map iova 0x%llx (0x%llx bytes): DART limits reached (1.5 GiB mapped, 65536 "
			"mappings)", dev->uri, (unsigned long long)iova, (unsigned long long)len);
	else if (ret == -ERANGE)
		LOG_ERR("%s: DMA map iova 0x%llx (0x%llx bytes): the DART gave no single bus segment",
			dev->uri, (unsigned long long)iova, (unsigned long long)len);
	else if (ret)
		LOG_ERR("%s: DMA map iova 0x%llx: %s", dev->uri, (unsigned long long)iova, upci_strerror(ret));
	if (ret)
		return ret;
	if (blen != len) {
		LOG_ERR("%s: DMA map iova 0x%llx: bus segment 0x%llx bytes of 0x%llx", dev->uri,
			(unsigned long long)iova, (unsigned long long)blen, (unsigned long long)len);
		dext_unregister_dma(port_of(dev), iova);
		return -ENOSPC;
	}
	probe_alias(dev, iova, vaddr);
	return 0;
}

static int dext_dma_unmap_op(struct upci_dev *dev, uint64_t iova, uint64_t len, uint64_t bus)
{
	int ret;

	(void)len;
	(void)bus;
	ret = dext_unregister_dma(port_of(dev), iova);
	if (ret)
		LOG_ERR("%s: DMA unmap iova 0x%llx: %s", dev->uri, (unsigned long long)iova, upci_strerror(ret));
	return ret;
}

/* ---- interrupts ---- */

static unsigned dext_irq_count_op(struct upci_dev *dev, enum upci_irq_type type)
{
	struct dext_dev *dd = dd_of(dev);

	switch (type) {
	case UPCI_IRQ_MSIX:
		return dd->msix_nvec;
	case UPCI_IRQ_MSI:
		return dd->msix_nvec ? 0 : dd->msi_nvec; /* the driver prefers MSI-X */
	case UPCI_IRQ_INTX:
		/* Stood in for by the first message vector, when there is one. */
		return dd->pin && (dd->msix_nvec || dd->msi_nvec) ? 1 : 0;
	default:
		return 0;
	}
}

static int dext_irq_enable_op(struct upci_dev *dev, enum upci_irq_type type, unsigned nvec)
{
	struct dext_irq *q;
	unsigned registered = 0;
	int ret;

	(void)type; /* irq_count offers only what the driver sets up */
	ret = dext_conn_irq(dd_of(dev)->conn, &q, &registered);
	if (ret)
		return ret;
	if (nvec > registered) {
		LOG_ERR("%s: %u vectors wanted, the driver registered %u", dev->uri, nvec, registered);
		return -ERANGE;
	}
	dext_irq_attach(q, dev, nvec);
	return 0;
}

static void dext_irq_disable_op(struct upci_dev *dev)
{
	struct dext_conn *c = dd_of(dev)->conn;
	struct dext_irq *q;

	pthread_mutex_lock(&c->lock);
	q = c->irq;
	pthread_mutex_unlock(&c->lock);
	if (q)
		dext_irq_detach(q);
}

/* ---- reset ---- */

static int dext_reset_op(struct upci_dev *dev)
{
	uint32_t cmd;
	int ret = dext_reset_device(port_of(dev));

	if (ret) {
		LOG_ERR("%s: ResetDevice: %s", dev->uri, upci_strerror(ret));
		return ret;
	}
	/* macOS restores config space after the reset; upci promises bus
	 * mastering off until the caller (or core's interrupt set-up) turns it
	 * back on. */
	ret = dext_config_read(port_of(dev), PCI_COMMAND, 2, &cmd);
	if (ret == 0 && (cmd & PCI_COMMAND_MASTER))
		ret = dext_config_write(port_of(dev), PCI_COMMAND, 2, cmd & ~PCI_COMMAND_MASTER);
	return ret;
}

const struct dext_policy *dext_policy_of(struct upci_dev *dev)
{
	return dev && dev->ops == &upci_dext_ops && dev->priv ? &dd_of(dev)->policy : NULL;
}

const struct upci_backend_ops upci_dext_ops = {
	.scheme = "dext",
	.enumerate = dext_enumerate,
	.open = dext_open,
	.close = dext_close,
	.claim = dext_claim_op,
	.release = dext_release_op,
	.config_read = dext_config_read_op,
	.config_write = dext_config_write_op,
	.config_read_block = dext_config_read_block_op,
	.bar_map = dext_bar_map_op,
	.bar_unmap = dext_bar_unmap_op,
	.mmio_read = dext_mmio_read_op,
	.mmio_write = dext_mmio_write_op,
	.dma_map = dext_dma_map_op,
	.dma_unmap = dext_dma_unmap_op,
	.irq_count = dext_irq_count_op,
	.irq_enable = dext_irq_enable_op,
	.irq_disable = dext_irq_disable_op,
	.reset = dext_reset_op,
};

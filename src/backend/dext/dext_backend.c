/* SPDX-License-Identifier: MIT */
/*
 * The dext backend's ops table: upci handles on VFIOUserPCIDriver
 * connections (dext_conn.c). Core has checked every argument; what is left
 * here is the protocol's own shape:
 *   - identity: from the registry (dext_reg.c), at open: config space
 *     reads all ones until some client of the driver claims the device.
 *   - config space: dext_cfg.c (reads as the driver allows them, writes
 *     through dext_policy.c); before any claim, -EPERM.
 *   - BARs: sizes and kinds at open (GetBARInfo); whether each maps is
 *     settled at the first claim (dext_state.c). Memory type 1 + BAR
 *     index, write-combining when prefetchable; MMIO by the memory index
 *     GetBARInfo returns.
 *   - DMA: RegisterDMARegion returns the bus address the DART chose; the
 *     driver maps every region read-write, so a one-direction mapping is
 *     refused (-ENOTSUP) rather than silently widened.
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
#include "core.h"
#include "dext.h"
#include "dma_guard.h"
#include "log.h"
#include "pci_regs.h"

static struct dext_dev *dd_of(struct upci_dev *dev)
{
	return dev->priv;
}

static struct dext_conn *conn_of(struct upci_dev *dev)
{
	return dd_of(dev)->conn;
}

static io_connect_t port_of(struct upci_dev *dev)
{
	return conn_of(dev)->port;
}

/* Every call checks first: once the instance is gone, -ENODEV. */
#define RETURN_IF_GONE(dev)                                  \
	do {                                                 \
		if (dext_conn_gone(conn_of(dev)))            \
			return -ENODEV;                      \
	} while (0)

/* A call that found the instance gone before its termination notice came
 * has the same effect. */
static int done(struct upci_dev *dev, int ret)
{
	if (ret == -ENODEV)
		dext_conn_lost(conn_of(dev));
	return ret;
}

/* A register access can make the device interrupt; the driver has usually
 * latched it by the time the call returns. Take it from the page now rather
 * than one dispatch-queue hop later. */
static void poll_irq(struct upci_dev *dev)
{
	struct dext_conn *c = conn_of(dev);
	struct dext_irq *q;

	pthread_mutex_lock(&c->lock);
	q = c->irq;
	pthread_mutex_unlock(&c->lock);
	if (q)
		dext_irq_poll(q);
}

/* ---- config space (dext_cfg.c) ---- */

/* -EACCES from dext_cfg.c: macOS gives no config access while nobody has
 * claimed the device. Before this process claimed it, that is upci's "not
 * claimed"; after, the device was closed under the claim (another client
 * of the driver opened it first and has closed it). */
static int config_result(struct upci_dev *dev, int ret)
{
	struct dext_conn *c = conn_of(dev);
	int claimed;

	if (ret != -EACCES)
		return done(dev, ret);
	pthread_mutex_lock(&c->lock);
	claimed = c->claimed;
	pthread_mutex_unlock(&c->lock);
	if (!claimed) {
		LOG_INFO("%s: config space cannot be read before the device is claimed (macOS opens it on the first "
			 "claim)", dev->uri);
		return -EPERM;
	}
	LOG_ERR("%s: config space reads all ones: the device was closed under this process's claim", dev->uri);
	return -EIO;
}

static int dext_config_read_op(struct upci_dev *dev, uint32_t off, unsigned width, uint32_t *val)
{
	RETURN_IF_GONE(dev);
	return config_result(dev, dext_cfg_read(port_of(dev), off, width, val));
}

static int dext_config_read_block_op(struct upci_dev *dev, uint32_t off, void *buf, size_t len)
{
	RETURN_IF_GONE(dev);
	return config_result(dev, dext_cfg_read_block(port_of(dev), off, buf, len));
}

static int dext_config_write_op(struct upci_dev *dev, uint32_t off, unsigned width, uint32_t val)
{
	struct dext_policy p;
	int ret;

	RETURN_IF_GONE(dev);
	dext_policy_of(dev, &p);
	ret = dext_cfg_write(port_of(dev), &p, dev->uri, off, width, val);
	poll_irq(dev); /* e.g. unmasking MSI-X releases a latched vector */
	return done(dev, ret);
}

/* ---- open / close / claim ---- */

/* The BARs as the connection knows them now. Caller holds c->lock. */
static void copy_bars(struct upci_dev *dev, const struct dext_conn *c)
{
	for (unsigned b = 0; b < UPCI_NUM_BARS; b++) {
		dev->bars[b].size = c->bar_flags[b] ? c->bar[b].size : 0;
		dev->bars[b].flags = c->bar_flags[b];
	}
}

static int dext_open(struct upci_dev *dev, const struct upci_uri *u)
{
	struct dext_dev *dd = calloc(1, sizeof(*dd));
	struct upci_identity *id = &dev->ident;
	struct dext_conn *c;
	int ret;

	if (!dd)
		return -ENOMEM;
	ret = dext_conn_get(u->bus, u->dev, u->fn, &dd->conn);
	if (ret) {
		free(dd);
		return ret;
	}
	c = dd->conn;
	dd->dev = dev;
	dev->priv = dd;
	/* Who the device is comes from the registry: config space reads all
	 * ones until the device is claimed. */
	id->domain = 0;
	id->bus = c->id.bus;
	id->device = c->id.dev;
	id->function = c->id.fn;
	id->vendor_id = c->id.vendor;
	id->device_id = c->id.device;
	id->class_code = c->id.class_code;
	id->revision = c->id.revision;
	id->subsys_vendor_id = c->id.subsys_vendor;
	id->subsys_id = c->id.subsys;
	id->config_size = c->id.pcie ? PCIE_CFG_SIZE : PCI_CFG_SIZE;
	snprintf(id->name, sizeof(id->name), "%04x:%04x", id->vendor_id, id->device_id);
	pthread_mutex_lock(&c->lock);
	copy_bars(dev, c);
	pthread_mutex_unlock(&c->lock);
	dext_conn_attach(c, dd);
	return 0;
}

static void dext_close(struct upci_dev *dev)
{
	struct dext_dev *dd = dd_of(dev);

	dext_conn_detach(dd->conn, dd);
	dext_conn_put(dd->conn);
	free(dd);
	dev->priv = NULL;
}

static int dext_claim_op(struct upci_dev *dev)
{
	struct dext_conn *c = conn_of(dev);
	int ret = dext_conn_claim(c, dev);

	if (ret == 0) {
		/* The claim settled which BARs map. */
		pthread_mutex_lock(&c->lock);
		copy_bars(dev, c);
		pthread_mutex_unlock(&c->lock);
	}
	return done(dev, ret);
}

static void dext_release_op(struct upci_dev *dev)
{
	dext_conn_release(conn_of(dev), dev);
}

/* ---- BARs and MMIO ---- */

static int dext_bar_map_op(struct upci_dev *dev, unsigned bar, void **addr)
{
	IOOptionBits opts = dext_bar_map_options(conn_of(dev)->bar[bar].type);
	uint64_t size = 0;
	int ret;

	RETURN_IF_GONE(dev);
	ret = dext_map(port_of(dev), DEXT_MEM_BAR(bar), opts, addr, &size);
	if (ret) {
		/* xnu says BadArgument for every failure, a gone instance too. */
		if (dext_conn_gone(conn_of(dev)))
			return -ENODEV;
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
	/* A dead connection cannot unmap; closing it does. */
	if (!dext_conn_gone(conn_of(dev)))
		dext_unmap(port_of(dev), DEXT_MEM_BAR(bar), addr);
}

static int dext_mmio_read_op(struct upci_dev *dev, unsigned bar, uint64_t off, unsigned width, uint64_t *val)
{
	int ret;

	RETURN_IF_GONE(dev);
	ret = dext_mmio_read(port_of(dev), conn_of(dev)->bar[bar].memidx, off, width, val);
	poll_irq(dev);
	return done(dev, ret);
}

static int dext_mmio_write_op(struct upci_dev *dev, unsigned bar, uint64_t off, unsigned width, uint64_t val)
{
	int ret;

	RETURN_IF_GONE(dev);
	ret = dext_mmio_write(port_of(dev), conn_of(dev)->bar[bar].memidx, off, width, val);
	poll_irq(dev);
	return done(dev, ret);
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
	/* vaddr may be a peer's file that shrank since it was mapped. */
	if (dma_guard_copy(&mine, vaddr, sizeof(mine), NULL) != 0)
		return;
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
	uint64_t blen = 0;
	int ret;

	(void)fd;
	(void)fd_off;
	RETURN_IF_GONE(dev);
	if (flags != UPCI_DMA_RW) {
		/* The driver creates every region's memory descriptor OutIn: it
		 * cannot keep the device from reading or from writing. */
		LOG_ERR("%s: DMA map iova 0x%llx for the device to %s only: the driver maps every region read-write",
			dev->uri, (unsigned long long)iova, flags == UPCI_DMA_READ ? "read" : "write");
		return -ENOTSUP;
	}
	if (len > DEXT_DMA_CHUNK) {
		/* The driver would split it into chunks with unrelated bus
		 * addresses, which one bus address cannot describe. */
		LOG_ERR("%s: DMA map of 0x%llx bytes: over the DART's 1.5 GiB", dev->uri, (unsigned long long)len);
		return -ENOSPC;
	}
	ret = dext_register_dma(port_of(dev), iova, (uint64_t)(uintptr_t)vaddr, len, bus, &blen);
	/* The 65,536 slots are NoSpace; a full DART is whatever PrepareForDMA
	 * said, passed on by the driver: the DART mapper's code is not
	 * published (NoResources, NoMemory, ...). All of it is "no room". */
	if (ret == -ENOMEM)
		ret = -ENOSPC;
	if (ret == -ENOSPC)
		LOG_ERR("%s: DMA map iova 0x%llx (0x%llx bytes): DART limits reached (1.5 GiB mapped, 65536 "
			"mappings)", dev->uri, (unsigned long long)iova, (unsigned long long)len);
	else if (ret == -ERANGE)
		LOG_ERR("%s: DMA map iova 0x%llx (0x%llx bytes): the DART gave no single bus segment",
			dev->uri, (unsigned long long)iova, (unsigned long long)len);
	else if (ret)
		LOG_ERR("%s: DMA map iova 0x%llx: %s", dev->uri, (unsigned long long)iova, upci_strerror(ret));
	if (ret)
		return done(dev, ret);
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
	/* A gone instance's driver released every region at its Stop. */
	RETURN_IF_GONE(dev);
	ret = dext_unregister_dma(port_of(dev), iova);
	if (ret)
		LOG_ERR("%s: DMA unmap iova 0x%llx: %s", dev->uri, (unsigned long long)iova, upci_strerror(ret));
	return done(dev, ret);
}

/* ---- interrupts ---- */

static unsigned dext_irq_count_op(struct upci_dev *dev, enum upci_irq_type type)
{
	struct dext_conn *c = conn_of(dev);
	unsigned msix, msi, pin;

	pthread_mutex_lock(&c->lock);
	/* Known from the claim on; before it, only if another client of the
	 * driver has the device open (else 0: see upci_irq_count). */
	if (!c->have_cfg && !dext_conn_gone(c))
		(void)dext_state_header(c);
	msix = c->msix_nvec;
	msi = c->msi_nvec;
	pin = c->pin;
	pthread_mutex_unlock(&c->lock);
	switch (type) {
	case UPCI_IRQ_MSIX:
		return msix;
	case UPCI_IRQ_MSI:
		return msix ? 0 : msi; /* the driver prefers MSI-X */
	case UPCI_IRQ_INTX:
		/* Stood in for by the first message vector, when there is one. */
		return pin && (msix || msi) ? 1 : 0;
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
	RETURN_IF_GONE(dev);
	ret = dext_conn_irq(conn_of(dev), &q, &registered);
	if (ret)
		return done(dev, ret);
	if (nvec > registered) {
		LOG_ERR("%s: %u vectors wanted, the driver registered %u", dev->uri, nvec, registered);
		return -ERANGE;
	}
	dext_irq_attach(q, dev, nvec);
	return 0;
}

static void dext_irq_disable_op(struct upci_dev *dev)
{
	struct dext_conn *c = conn_of(dev);
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
	int ret;

	RETURN_IF_GONE(dev);
	ret = dext_reset_device(port_of(dev));
	if (ret) {
		LOG_ERR("%s: ResetDevice: %s", dev->uri, upci_strerror(ret));
		return done(dev, ret);
	}
	/* macOS restores config space after the reset; upci promises bus
	 * mastering off until the caller (or core's interrupt set-up) turns it
	 * back on. */
	ret = dext_config_read(port_of(dev), PCI_COMMAND, 2, &cmd);
	if (ret == 0 && (cmd & PCI_COMMAND_MASTER))
		ret = dext_config_write(port_of(dev), PCI_COMMAND, 2, cmd & ~PCI_COMMAND_MASTER);
	return done(dev, ret);
}

int dext_policy_of(struct upci_dev *dev, struct dext_policy *out)
{
	struct dext_conn *c;

	if (!dev || dev->ops != &upci_dext_ops || !dev->priv)
		return 0;
	c = conn_of(dev);
	pthread_mutex_lock(&c->lock);
	*out = c->policy;
	pthread_mutex_unlock(&c->lock);
	return 1;
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

/* SPDX-License-Identifier: MIT */
/*
 * The sysfs backend ("sysfs:DDDD:BB:DD.F"): a host PCI function read the
 * way lspci reads it, without VFIO: identity and config space from
 * /sys/bus/pci/devices/<BDF>/config, the BAR layout from its resource
 * table. Read-only by design: the kernel's driver (or nobody) owns the
 * device, so upci_claim() is refused with -ENOTSUP, and with it every
 * MMIO, DMA, interrupt, config write and reset call.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "core.h"
#include "host_pci.h"
#include "log.h"
#include "pci_regs.h"
#include "../vfio/sysfs.h"

const char *upci__sysfs_root;

struct sysfs_dev {
	int cfg_fd;
	char bdf[SYSFS_BDF_LEN];
};

static struct sysfs_dev *sd_of(struct upci_dev *dev)
{
	return dev->priv;
}

/* Exactly @len bytes at @off, or -EACCES: an unprivileged reader gets only
 * the first 64 bytes of config space (a short read), as lspci finds. */
static int cfg_pread(struct sysfs_dev *s, void *buf, size_t len, uint32_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(s->cfg_fd, (uint8_t *)buf + done, len - done, (off_t)off + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -EIO;
		if (n == 0)
			return -EACCES;
		done += (size_t)n;
	}
	return 0;
}

static uint16_t le16_at(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void describe(struct upci_dev *dev, const uint8_t *h, const struct hostpci_res *res)
{
	struct upci_identity *id = &dev->ident;

	id->vendor_id = le16_at(h + PCI_VENDOR_ID);
	id->device_id = le16_at(h + PCI_DEVICE_ID);
	id->revision = h[PCI_REVISION_ID];
	id->class_code = (uint32_t)h[PCI_CLASS_PROG] | (uint32_t)le16_at(h + PCI_CLASS_DEVICE) << 8;
	/* Only a type-0 header has a subsystem ID at 0x2c. */
	if ((h[PCI_HEADER_TYPE] & PCI_HEADER_TYPE_MASK) == 0) {
		id->subsys_vendor_id = le16_at(h + PCI_SUBSYSTEM_VENDOR_ID);
		id->subsys_id = le16_at(h + PCI_SUBSYSTEM_ID);
	}
	snprintf(id->name, sizeof(id->name), "%s", sd_of(dev)->bdf);
	for (unsigned b = 0; b < UPCI_NUM_BARS; b++) {
		struct upci_bar_info *bi = &dev->bars[b];
		uint64_t size = hostpci_res_size(&res[b]);

		memset(bi, 0, sizeof(*bi));
		/* The kernel only lists real windows: a power of two or nothing. */
		if (size == 0 || (size & (size - 1)) != 0)
			continue;
		bi->size = size;
		bi->flags = UPCI_BAR_PRESENT;
		if (res[b].flags & HOSTPCI_IORESOURCE_IO)
			bi->flags |= UPCI_BAR_IO;
		if (res[b].flags & HOSTPCI_IORESOURCE_MEM_64)
			bi->flags |= UPCI_BAR_MEM64;
		if (res[b].flags & HOSTPCI_IORESOURCE_PREFETCH)
			bi->flags |= UPCI_BAR_PREFETCH;
	}
}

static void sysfs_close_op(struct upci_dev *dev)
{
	struct sysfs_dev *s = sd_of(dev);

	if (!s)
		return;
	if (s->cfg_fd >= 0)
		close(s->cfg_fd);
	free(s);
	dev->priv = NULL;
}

static int sysfs_open_op(struct upci_dev *dev, const struct upci_uri *u)
{
	struct hostpci_res res[HOSTPCI_NUM_RES];
	uint8_t hdr[PCI_STD_HEADER_SIZE];
	char path[PATH_MAX];
	struct sysfs_dev *s;
	struct stat st;
	int n, ret;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg_fd = -1;
	dev->priv = s;
	snprintf(s->bdf, sizeof(s->bdf), "%04x:%02x:%02x.%x", u->domain, u->bus, u->dev, u->fn);
	n = snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/config", upci__sysfs_root ? upci__sysfs_root : "/sys",
		     s->bdf);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		ret = -ENAMETOOLONG;
		goto fail;
	}
	s->cfg_fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (s->cfg_fd < 0) {
		ret = errno == ENOENT || errno == ENOTDIR ? -ENOENT : -errno;
		LOG_DBG("%s: open %s: %s", s->bdf, path, strerror(errno));
		goto fail;
	}
	/* A config file is a regular sysfs attribute of 256 or 4096 bytes. */
	if (fstat(s->cfg_fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < PCI_STD_HEADER_SIZE) {
		LOG_ERR("%s: %s is not a PCI config space file", s->bdf, path);
		ret = -EIO;
		goto fail;
	}
	dev->ident.config_size = st.st_size >= PCIE_CFG_SIZE ? PCIE_CFG_SIZE : PCI_CFG_SIZE;
	ret = cfg_pread(s, hdr, sizeof(hdr), 0);
	if (ret) {
		LOG_ERR("%s: cannot read the config header", s->bdf);
		goto fail;
	}
	ret = hostpci_resources(upci__sysfs_root, s->bdf, res);
	if (ret) {
		LOG_ERR("%s: resource table unreadable (%d)", s->bdf, ret);
		goto fail;
	}
	describe(dev, hdr, res);
	dev->ident.domain = u->domain;
	dev->ident.bus = u->bus;
	dev->ident.device = u->dev;
	dev->ident.function = u->fn;
	return 0;
fail:
	sysfs_close_op(dev);
	return ret;
}

/* Read-only: the device belongs to its kernel driver (or to nobody). */
static int sysfs_claim_op(struct upci_dev *dev)
{
	LOG_DBG("%s: sysfs access is read-only; bind the function to vfio-pci to claim it", sd_of(dev)->bdf);
	return -ENOTSUP;
}

static int sysfs_cfg_read(struct upci_dev *dev, uint32_t off, unsigned width, uint32_t *val)
{
	uint8_t b[4] = {0};
	int ret = cfg_pread(sd_of(dev), b, width, off);

	if (ret)
		return ret;
	*val = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	return 0;
}

static int sysfs_cfg_read_block(struct upci_dev *dev, uint32_t off, void *buf, size_t len)
{
	return cfg_pread(sd_of(dev), buf, len, off);
}

const struct upci_backend_ops upci_sysfs_ops = {
	.scheme = "sysfs",
	.open = sysfs_open_op,
	.close = sysfs_close_op,
	.claim = sysfs_claim_op,
	.config_read = sysfs_cfg_read,
	.config_read_block = sysfs_cfg_read_block,
};

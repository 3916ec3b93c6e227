/* SPDX-License-Identifier: MIT */
/*
 * Reset: VFIO_DEVICE_RESET when the kernel has a function-level method for
 * the device (FLR, PM reset, or a bus reset when it is alone on its bus),
 * else a hot reset of its bus when every device that would be reset with it
 * belongs to us (its IOMMU group on the group path; the same iommufd on the
 * cdev path). The kernel restores the config header after either (so BARs
 * keep working); bus mastering is then turned off, so that the device looks
 * as upci.h promises after a reset.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "log.h"
#include "pci_regs.h"
#include "vfio.h"

#ifndef VFIO_PCI_HOT_RESET_FLAG_DEV_ID
#define VFIO_PCI_HOT_RESET_FLAG_DEV_ID (1 << 0)       /* Linux 6.6 */
#define VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED (1 << 1) /* all affected devices are ours */
#endif
#define HOT_RESET_MAX_DEVICES 256
/* Device ids in a hot-reset info with FLAG_DEV_ID (Linux 6.6): owned but
 * not bound (a group sibling), and not ours at all. */
#define DEVID_OWNED     0u
#define DEVID_NOT_OWNED UINT32_MAX

/* Which devices a hot reset would reach; 0 when all of them are ours. */
static int hot_reset_allowed(struct vfio_dev *v)
{
	struct vfio_pci_hot_reset_info hdr = {.argsz = sizeof(hdr)};
	struct vfio_pci_hot_reset_info *info;
	size_t sz;
	int ret = 0;
	int rc = ioctl(v->device, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &hdr);

	if (rc == 0 && hdr.count == 0)
		return 0;
	if (rc != 0 && errno == ENODEV) {
		LOG_ERR("%s: no reset method: neither VFIO_DEVICE_RESET nor a bus reset (the device is on a root bus "
			"or shares its slot)", v->bdf);
		return -ENOTSUP;
	}
	if (rc != 0 && errno != ENOSPC) {
		LOG_ERR("%s: VFIO_DEVICE_GET_PCI_HOT_RESET_INFO: %s", v->bdf, strerror(errno));
		return -errno;
	}
	if (hdr.count > HOT_RESET_MAX_DEVICES) {
		LOG_ERR("%s: VFIO_DEVICE_GET_PCI_HOT_RESET_INFO: %u devices affected (at most %u accepted)", v->bdf,
			hdr.count, HOT_RESET_MAX_DEVICES);
		return -EPROTO;
	}
	sz = sizeof(*info) + hdr.count * sizeof(info->devices[0]);
	info = calloc(1, sz);
	if (!info)
		return -ENOMEM;
	info->argsz = (uint32_t)sz;
	if (ioctl(v->device, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, info) != 0) {
		ret = -errno;
		LOG_ERR("%s: VFIO_DEVICE_GET_PCI_HOT_RESET_INFO: %s", v->bdf, strerror(-ret));
	} else if (v->path == VFIO_PATH_IOMMUFD) {
		if (!(info->flags & VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED)) {
			LOG_ERR("%s: a bus reset would also reset devices this handle does not own", v->bdf);
			ret = -ENOTSUP;
		}
		/* The iommufd is the whole process's (vfio_iommufd_get): a device
		 * with a device id of its own is open in another handle, which
		 * the kernel counts as ours but this handle does not own. */
		for (uint32_t i = 0; ret == 0 && i < info->count && i < hdr.count; i++) {
			const struct vfio_pci_dependent_device *d = &info->devices[i];
			uint32_t id = d->group_id; /* the devid with FLAG_DEV_ID (same field) */

			if (id == DEVID_OWNED || id == DEVID_NOT_OWNED || id == v->devid)
				continue;
			LOG_ERR("%s: a bus reset would also reset %04x:%02x:%02x.%x, open in another handle", v->bdf,
				d->segment, d->bus, d->devfn >> 3, d->devfn & 7);
			ret = -ENOTSUP;
		}
	} else {
		for (uint32_t i = 0; i < info->count && i < hdr.count; i++) {
			const struct vfio_pci_dependent_device *d = &info->devices[i];

			if (d->group_id == (uint32_t)v->group)
				continue;
			LOG_ERR("%s: a bus reset would also reset %04x:%02x:%02x.%x of IOMMU group %u, which this handle "
				"does not own", v->bdf, d->segment, d->bus, d->devfn >> 3, d->devfn & 7, d->group_id);
			ret = -ENOTSUP;
			break;
		}
	}
	free(info);
	return ret;
}

static int hot_reset(struct vfio_dev *v)
{
	size_t sz = sizeof(struct vfio_pci_hot_reset) + sizeof(int32_t);
	struct vfio_pci_hot_reset *r;
	int ret = hot_reset_allowed(v);

	if (ret)
		return ret;
	r = calloc(1, sz);
	if (!r)
		return -ENOMEM;
	r->argsz = (uint32_t)sz;
	/* Group path: prove ownership with our group fd; cdev path: none
	 * needed, the iommufd is the proof. */
	if (v->path == VFIO_PATH_GROUP) {
		r->count = 1;
		r->group_fds[0] = v->group_fd;
	}
	if (ioctl(v->device, VFIO_DEVICE_PCI_HOT_RESET, r) != 0) {
		ret = -errno;
		LOG_ERR("%s: VFIO_DEVICE_PCI_HOT_RESET: %s", v->bdf, strerror(-ret));
	}
	free(r);
	return ret;
}

int vfio_reset(struct upci_dev *dev)
{
	struct vfio_dev *v = vfio_of(dev);
	uint32_t cmd;
	int ret;

	if (v->dev_flags & VFIO_DEVICE_FLAGS_RESET) {
		ret = ioctl(v->device, VFIO_DEVICE_RESET) == 0 ? 0 : -errno;
		if (ret)
			LOG_ERR("%s: VFIO_DEVICE_RESET: %s", v->bdf, strerror(-ret));
	} else {
		ret = hot_reset(v);
	}
	if (ret)
		return ret;
	/* The kernel put COMMAND back as it was; a reset device does not
	 * master the bus (core turns it on again for MSI/MSI-X). */
	ret = vfio_cfg_read(dev, PCI_COMMAND, 2, &cmd);
	if (ret == 0 && (cmd & PCI_COMMAND_MASTER))
		ret = vfio_cfg_write(dev, PCI_COMMAND, 2, cmd & ~PCI_COMMAND_MASTER & 0xffffu);
	vfio_refresh_command(v);
	LOG_DBG("%s: reset (%s)", v->bdf, (v->dev_flags & VFIO_DEVICE_FLAGS_RESET) ? "VFIO_DEVICE_RESET" : "bus reset");
	return ret;
}

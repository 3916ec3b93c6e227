/* SPDX-License-Identifier: MIT */
/*
 * upci_enumerate("vfio"): every PCI function sysfs lists, its identity
 * from sysfs, and whether vfio_dev_open() would get past what can be seen
 * without opening anything: bound to vfio-pci, an IOMMU group whose other
 * members allow VFIO, and device nodes this process may open (the cdev
 * with /dev/iommu, or the group's node with the container). Held by
 * another process is the one thing only opening can tell.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "uri.h"
#include "vfio.h"

static int is_vfio_driver(const char *drv)
{
	return strstr(drv, "vfio") != NULL;
}

static int rw_at(const char *devroot, const char *fmt, int n)
{
	char name[64], path[512];

	snprintf(name, sizeof(name), fmt, n);
	snprintf(path, sizeof(path), "%s/%s", devroot, name);
	return access(path, R_OK | W_OK) == 0;
}

/* 256 or 4096 from the size of the config file, 0 when unknown. */
static uint32_t config_size(const char *root, const char *bdf)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/config", root ? root : "/sys", bdf);
	if (stat(path, &st) != 0)
		return 0;
	return st.st_size == 4096 ? 4096u : st.st_size == 256 ? 256u : 0u;
}

/* The first other member of @d's group bound to a driver that keeps the
 * group from VFIO: 1 and *@m, or 0. */
static int group_blocker(const char *root, const struct sysfs_pci_dev *d, struct sysfs_pci_dev *m)
{
	char (*members)[SYSFS_BDF_LEN] = NULL;
	size_t n = 0;
	int found = 0;

	if (sysfs_group_members(root, d->iommu_group, &members, &n) != 0)
		return 0;
	for (size_t i = 0; i < n && !found; i++)
		found = strcmp(members[i], d->bdf) != 0 && sysfs_pci_get(root, members[i], m) == 0 &&
			!sysfs_driver_vfio_ok(m);
	free(members);
	return found;
}

/* Ready, or why not (the sentences 'upci list' and vfio_dev_open say). */
static void readiness(const char *root, const char *devroot, const struct sysfs_pci_dev *d, struct upci_found *f)
{
	struct sysfs_pci_dev m;

	if (d->is_bridge || (d->ids_ok && (d->class_code >> 16) == 0x06))
		snprintf(f->why, sizeof(f->why), "a bridge: VFIO gives endpoints to user space, not bridges");
	else if (d->iommu_group < 0)
		snprintf(f->why, sizeof(f->why),
			 "no IOMMU group: VFIO needs the IOMMU on (intel_iommu=on or amd_iommu=on)");
	else if (!is_vfio_driver(d->driver))
		snprintf(f->why, sizeof(f->why), "%s%s%s: run 'upci bind %s'", d->driver[0] ? "bound to " : "no driver",
			 d->driver, d->driver[0] ? ", not vfio-pci" : "", d->bdf);
	else if (group_blocker(root, d, &m))
		snprintf(f->why, sizeof(f->why), "IOMMU group %d also holds %s, bound to %s: bind it to vfio-pci too",
			 d->iommu_group, m.bdf, m.driver);
	else if (!(d->vfio_cdev >= 0 && rw_at(devroot, "vfio/devices/vfio%d", d->vfio_cdev) &&
		   rw_at(devroot, "iommu", 0)) &&
		 !(rw_at(devroot, "vfio/vfio", 0) && rw_at(devroot, "vfio/%d", d->iommu_group)))
		snprintf(f->why, sizeof(f->why),
			 "no read-write access to %s/vfio/%d: run as root, or give this user the device node", devroot,
			 d->iommu_group);
	else
		f->flags |= UPCI_FOUND_READY;
}

int vfio_enum_at(const char *root, const char *devroot, struct upci_enum_sink *sink)
{
	struct sysfs_pci_dev *devs = NULL;
	size_t n = 0;
	int ret = sysfs_pci_list(root, &devs, &n);

	if (ret == -ENOENT)
		return 0; /* no PCI bus: nothing to reach */
	if (ret)
		return ret;
	for (size_t i = 0; i < n && ret == 0; i++) {
		const struct sysfs_pci_dev *d = &devs[i];
		struct upci_found f;
		uint32_t dom;
		uint8_t bus, dev, fn;

		memset(&f, 0, sizeof(f));
		if (uri_parse_bdf(d->bdf, &dom, &bus, &dev, &fn, 1) != 0)
			continue; /* sysfs_pci_list gives canonical BDFs only */
		snprintf(f.uri, sizeof(f.uri), "vfio:%s", d->bdf);
		f.id.domain = dom;
		f.id.bus = bus;
		f.id.device = dev;
		f.id.function = fn;
		if (d->ids_ok) {
			f.id.vendor_id = d->vendor;
			f.id.device_id = d->device;
			f.id.subsys_vendor_id = d->subsys_vendor;
			f.id.subsys_id = d->subsys_device;
			f.id.class_code = d->class_code;
			f.id.revision = d->revision;
			f.flags |= UPCI_FOUND_IDS;
		}
		f.id.config_size = config_size(root, d->bdf);
		/* What upci_identity() names an open vfio: device. */
		snprintf(f.id.name, sizeof(f.id.name), "%s", d->bdf);
		f.iommu_group = d->iommu_group;
		snprintf(f.driver, sizeof(f.driver), "%s", d->driver);
		readiness(root, devroot, d, &f);
		ret = core_enum_add(sink, &f);
	}
	free(devs);
	return ret;
}

int vfio_enumerate(struct upci_enum_sink *sink)
{
	return vfio_enum_at(NULL, "/dev", sink);
}

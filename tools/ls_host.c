/* SPDX-License-Identifier: MIT */
/* What sysfs adds to 'upci info' for a host function (see lspci.h). */
#include <string.h>

#include "lspci.h"

#ifdef __linux__
#include <stdio.h>

#include "host_pci.h"
#include "sysfs.h"

void ls_host_fill(struct ls_dev *d)
{
	const struct upci_identity *id = d->id;
	struct hostpci_res res[HOSTPCI_NUM_RES];
	struct sysfs_pci_dev sd;
	char bdf[SYSFS_BDF_LEN];
	long v;

	memset(&d->host, 0, sizeof(d->host));
	d->host.numa_node = -1;
	d->host.iommu_group = -1;
	if (strcmp(id->backend, "vfio") != 0 && strcmp(id->backend, "sysfs") != 0)
		return;
	snprintf(bdf, sizeof(bdf), "%04x:%02x:%02x.%x", id->domain, id->bus, id->device, id->function);
	if (sysfs_pci_get(NULL, bdf, &sd) != 0)
		return;
	d->host.present = 1;
	d->host.iommu_group = sd.iommu_group;
	snprintf(d->host.driver, sizeof(d->host.driver), "%s", sd.driver);
	if (hostpci_attr_long(NULL, bdf, "irq", &v) == 0 && v >= 0)
		d->host.irq = v;
	if (hostpci_attr_long(NULL, bdf, "numa_node", &v) == 0)
		d->host.numa_node = v;
	if (hostpci_resources(NULL, bdf, res) == 0) {
		for (unsigned i = 0; i < UPCI_NUM_BARS; i++)
			d->host.bar_start[i] = res[i].start;
		d->host.rom_start = res[HOSTPCI_ROM].start;
		d->host.rom_size = hostpci_res_size(&res[HOSTPCI_ROM]);
	}
}
#else
void ls_host_fill(struct ls_dev *d)
{
	memset(&d->host, 0, sizeof(d->host));
	d->host.numa_node = -1;
	d->host.iommu_group = -1;
}
#endif

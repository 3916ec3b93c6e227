/* SPDX-License-Identifier: MIT */
/* 'upci list': the host's PCI functions as upci_enumerate("vfio") lists
 * them from sysfs, and how upci reaches each one (Linux only: that is
 * where sysfs and VFIO are). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_host.h"
#include "util.h"

static const char list_help[] =
	"Usage: upci list [--vfio]\n"
	"\n"
	"List the host's PCI functions from sysfs: address, vendor:device, class,\n"
	"the driver bound to it, its IOMMU group, and how upci can reach it:\n"
	"  vfio:BDF              bound to vfio-pci: open it with this URI\n"
	"  upci bind BDF         has an IOMMU group: bind it to vfio-pci first\n"
	"  -                     no IOMMU group (IOMMU off), or a bridge\n"
	"The in-process models (sim:edu, sim:testdev) are always there.\n"
	"\n"
	"  --vfio   only the functions bound to vfio-pci\n"
	"\n"
	"Example:\n"
	"  upci list\n";

#ifdef __linux__
#include "caps.h"
#include "sysfs.h"

static int is_vfio_driver(const char *drv)
{
	return strncmp(drv, "vfio", 4) == 0 || strstr(drv, "vfio") != NULL;
}

/* The UPCI column: the URI when upci_enumerate() says it is ready (or it
 * is on vfio-pci, and the note below says what is in the way), else what
 * to do first. */
static void reach(const struct upci_found *f, const char *bdf, char *buf, size_t len)
{
	if ((f->flags & UPCI_FOUND_READY) || is_vfio_driver(f->driver))
		snprintf(buf, len, "%s", f->uri);
	else if (f->iommu_group < 0 || ((f->flags & UPCI_FOUND_IDS) && (f->id.class_code >> 16) == 0x06))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "upci bind %s", bdf);
}

const char *host_open_hint(const char *uri, char *buf, size_t len)
{
	char bdf[SYSFS_BDF_LEN], (*members)[SYSFS_BDF_LEN] = NULL;
	struct sysfs_pci_dev d;
	const char *p = uri;
	size_t n = 0;
	int ret;

	if (!uri || !buf || len == 0)
		return NULL;
	if (strncmp(p, "vfio:", 5) == 0)
		p += 5;
	if (sysfs_bdf_canon(p, bdf) != 0)
		return NULL;
	ret = sysfs_pci_get(NULL, bdf, &d);
	if (ret == -ENOENT) {
		snprintf(buf, len, "no PCI function %s on this host (see 'upci list')", bdf);
		return buf;
	}
	if (ret)
		return NULL;
	if (d.iommu_group < 0) {
		snprintf(buf, len, "%s has no IOMMU group: turn the IOMMU on (intel_iommu=on or amd_iommu=on)", bdf);
		return buf;
	}
	if (!is_vfio_driver(d.driver)) {
		snprintf(buf, len, "%s is bound to %s, not vfio-pci: run 'upci bind %s'", bdf,
			 d.driver[0] ? d.driver : "no driver", bdf);
		return buf;
	}
	if (sysfs_group_members(NULL, d.iommu_group, &members, &n) != 0)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		struct sysfs_pci_dev m;

		if (strcmp(members[i], bdf) != 0 && sysfs_pci_get(NULL, members[i], &m) == 0 &&
		    !sysfs_driver_vfio_ok(&m)) {
			snprintf(buf, len, "IOMMU group %d also holds %s, bound to %s: bind it to vfio-pci too",
				 d.iommu_group, m.bdf, m.driver);
			free(members);
			return buf;
		}
	}
	free(members);
	return NULL;
}

/* "sim:edu, sim:testdev": the models upci_enumerate() lists. */
static void in_process(char *buf, size_t len)
{
	struct upci_found *l = NULL;
	size_t n = 0, used = 0;

	buf[0] = '\0';
	if (upci_enumerate("sim", &l, &n) != 0)
		return;
	for (size_t i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", l[i].uri);
	upci_enumerate_free(l);
}

int cmd_list(int argc, char **argv)
{
	struct upci_found *devs = NULL;
	int only_vfio = 0, any_group = 0, ret;
	size_t n = 0, shown = 0;
	char sims[128];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(list_help, stdout);
			return EXIT_OK;
		}
		if (strcmp(argv[i], "--vfio") == 0)
			only_vfio = 1;
		else if (argv[i][0] == '-')
			return usage_error("list", "unknown option \"%s\"", argv[i]);
		else
			return usage_error("list", "unexpected argument \"%s\"", argv[i]);
	}
	ret = upci_enumerate("vfio", &devs, &n);
	if (ret)
		return op_errorf(EXIT_FAIL, "list", "sysfs", "cannot read /sys/bus/pci/devices: %s", upci_strerror(ret));
	printf("%-12s  %-9s  %-32s  %-12s  %-5s  %s\n", "BDF", "ID", "CLASS", "DRIVER", "GROUP", "UPCI");
	for (size_t i = 0; i < n; i++) {
		const struct upci_found *d = &devs[i];
		const char *bdf = d->uri + strlen("vfio:");
		char id[16], cls[40], grp[12], how[96];

		if (only_vfio && !is_vfio_driver(d->driver))
			continue;
		if (d->flags & UPCI_FOUND_IDS) {
			snprintf(id, sizeof(id), "%04x:%04x", d->id.vendor_id, d->id.device_id);
			snprintf(cls, sizeof(cls), "%04x %.27s", d->id.class_code >> 8,
				 pci_class_name((uint8_t)(d->id.class_code >> 16)));
		} else {
			snprintf(id, sizeof(id), "?");
			snprintf(cls, sizeof(cls), "?");
		}
		if (d->iommu_group >= 0)
			snprintf(grp, sizeof(grp), "%d", d->iommu_group);
		else
			snprintf(grp, sizeof(grp), "-");
		any_group |= d->iommu_group >= 0;
		reach(d, bdf, how, sizeof(how));
		printf("%-12s  %-9s  %-32s  %-12s  %-5s  %s\n", bdf, id, cls, d->driver[0] ? d->driver : "-", grp, how);
		shown++;
	}
	/* On vfio-pci but not openable yet: say what is in the way. */
	for (size_t i = 0; i < n; i++)
		if (is_vfio_driver(devs[i].driver) && !(devs[i].flags & UPCI_FOUND_READY))
			printf("note: %s: %s\n", devs[i].uri + strlen("vfio:"), devs[i].why);
	if (n > 0 && !any_group && !only_vfio)
		printf("(no IOMMU groups: VFIO needs the IOMMU on, e.g. intel_iommu=on or amd_iommu=on)\n");
	in_process(sims, sizeof(sims));
	printf("%zu function%s; also in-process: %s\n", shown, shown == 1 ? "" : "s", sims);
	upci_enumerate_free(devs);
	return EXIT_OK;
}
#else
const char *host_open_hint(const char *uri, char *buf, size_t len)
{
	(void)uri;
	(void)buf;
	(void)len;
	return NULL;
}

int cmd_list(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(list_help, stdout);
		return EXIT_OK;
	}
	(void)argv;
	return op_errorf(EXIT_FAIL, "list", "sysfs", "listing host PCI functions needs Linux (sysfs and VFIO)");
}
#endif

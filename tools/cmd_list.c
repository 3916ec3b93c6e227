/* SPDX-License-Identifier: MIT */
/* 'upci list': the host's PCI functions from sysfs, and how upci reaches
 * each one (Linux only: that is where sysfs and VFIO are). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_json.h"
#include "cmd_host.h"
#include "names.h"
#include "util.h"

static const char list_help[] =
	"Usage: upci list [--vfio] [--json]\n"
	"\n"
	"List the host's PCI functions from sysfs: address, vendor:device, class\n"
	"(its name from pci.ids), the driver bound to it, its IOMMU group, and how\n"
	"upci can drive it:\n"
	"  vfio:BDF              bound to vfio-pci: open it with this URI\n"
	"  upci bind BDF         has an IOMMU group: bind it to vfio-pci first\n"
	"  -                     no IOMMU group (IOMMU off), or a bridge\n"
	"Every function can be read without VFIO (read-only, through sysfs, as\n"
	"lspci reads it): upci info BDF, upci config BDF REG...\n"
	"The in-process models (sim:edu, sim:testdev) are always there.\n"
	"\n"
	"  --vfio   only the functions bound to vfio-pci\n"
	"  --json   one JSON object (docs/cli-json.md)\n"
	"\n"
	"Example:\n"
	"  upci list\n";

#ifdef __linux__
#include <sys/stat.h>

#include "caps.h"
#include "sysfs.h"

static int is_vfio_driver(const char *drv)
{
	return strncmp(drv, "vfio", 4) == 0 || strstr(drv, "vfio") != NULL;
}

static void reach(const struct sysfs_pci_dev *d, char *buf, size_t len)
{
	if (d->iommu_group < 0 || d->is_bridge || (d->ids_ok && (d->class_code >> 16) == 0x06))
		snprintf(buf, len, "-");
	else if (is_vfio_driver(d->driver))
		snprintf(buf, len, "vfio:%s", d->bdf);
	else
		snprintf(buf, len, "upci bind %s", d->bdf);
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

int host_function_exists(const char *uri)
{
	char bdf[SYSFS_BDF_LEN], path[64];
	const char *p = uri;
	struct stat st;

	if (!uri)
		return -1;
	if (strncmp(p, "vfio:", 5) == 0)
		p += 5;
	else if (strncmp(p, "sysfs:", 6) == 0)
		p += 6;
	if (sysfs_bdf_canon(p, bdf) != 0)
		return -1;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", bdf);
	return stat(path, &st) == 0;
}

static struct json_object *function_json(const struct sysfs_pci_dev *d)
{
	struct json_object *o = json_object_new_object(), *n;
	char buf[256], uri[SYSFS_BDF_LEN + 8];
	int vfio = is_vfio_driver(d->driver);

	json_set_str(o, "address", d->bdf);
	if (d->ids_ok) {
		json_set_int(o, "vendor_id", d->vendor);
		json_set_int(o, "device_id", d->device);
		json_set_int(o, "class", d->class_code);
		n = json_object_new_object();
		json_set_str(n, "class", name_class(buf, sizeof(buf), d->class_code >> 8));
		json_set_str(n, "vendor", name_vendor_only(buf, sizeof(buf), d->vendor));
		json_set_str(n, "device", name_device_only(buf, sizeof(buf), d->vendor, d->device));
		json_object_object_add(o, "names", n);
	} else {
		json_object_object_add(o, "vendor_id", NULL);
		json_object_object_add(o, "device_id", NULL);
		json_object_object_add(o, "class", NULL);
		json_object_object_add(o, "names", NULL);
	}
	json_set_str(o, "driver", d->driver[0] ? d->driver : NULL);
	json_object_object_add(o, "iommu_group", d->iommu_group >= 0 ? json_object_new_int(d->iommu_group) : NULL);
	snprintf(uri, sizeof(uri), "vfio:%s", d->bdf);
	json_set_str(o, "vfio_uri", vfio ? uri : NULL);
	snprintf(uri, sizeof(uri), "sysfs:%s", d->bdf);
	json_set_str(o, "read_uri", uri);
	reach(d, buf, sizeof(buf));
	json_set_str(o, "how", buf);
	return o;
}

static int list_json(const struct sysfs_pci_dev *devs, size_t n, int only_vfio)
{
	struct json_object *o = json_object_new_object(), *a = json_object_new_array(), *sims = json_object_new_array();

	json_set_str(o, "kind", "list");
	for (size_t i = 0; i < n; i++)
		if (!only_vfio || is_vfio_driver(devs[i].driver))
			json_object_array_add(a, function_json(&devs[i]));
	json_object_object_add(o, "functions", a);
	{
		struct upci_found *l = NULL;
		size_t k = 0;

		if (upci_enumerate("sim", &l, &k) == 0)
			for (size_t i = 0; i < k; i++)
				json_object_array_add(sims, json_object_new_string(l[i].uri));
		upci_enumerate_free(l);
	}
	json_object_object_add(o, "in_process", sims);
	return json_emit(o, 0);
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
	struct sysfs_pci_dev *devs;
	int only_vfio = 0, any_group = 0, json = 0, ret;
	size_t n, shown = 0;
	char sims[128];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(list_help, stdout);
			return EXIT_OK;
		}
		if (strcmp(argv[i], "--vfio") == 0)
			only_vfio = 1;
		else if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (argv[i][0] == '-')
			return usage_error("list", "unknown option \"%s\"", argv[i]);
		else
			return usage_error("list", "unexpected argument \"%s\"", argv[i]);
	}
	ret = sysfs_pci_list(NULL, &devs, &n);
	if (ret)
		return op_errorf(EXIT_FAIL, "list", "sysfs", "cannot read /sys/bus/pci/devices: %s", upci_strerror(ret));
	if (json) {
		ret = list_json(devs, n, only_vfio);
		free(devs);
		return ret;
	}
	printf("%-12s  %-9s  %-32s  %-12s  %-5s  %s\n", "BDF", "ID", "CLASS", "DRIVER", "GROUP", "UPCI");
	for (size_t i = 0; i < n; i++) {
		const struct sysfs_pci_dev *d = &devs[i];
		char id[16], cls[40], cname[128], grp[12], how[48];

		if (only_vfio && !is_vfio_driver(d->driver))
			continue;
		if (d->ids_ok) {
			snprintf(id, sizeof(id), "%04x:%04x", d->vendor, d->device);
			snprintf(cls, sizeof(cls), "%04x %.27s", d->class_code >> 8,
				 name_class(cname, sizeof(cname), d->class_code >> 8));
		} else {
			snprintf(id, sizeof(id), "?");
			snprintf(cls, sizeof(cls), "?");
		}
		if (d->iommu_group >= 0)
			snprintf(grp, sizeof(grp), "%d", d->iommu_group);
		else
			snprintf(grp, sizeof(grp), "-");
		any_group |= d->iommu_group >= 0;
		reach(d, how, sizeof(how));
		printf("%-12s  %-9s  %-32s  %-12s  %-5s  %s\n", d->bdf, id, cls, d->driver[0] ? d->driver : "-", grp, how);
		shown++;
	}
	if (n > 0 && !any_group && !only_vfio)
		printf("(no IOMMU groups: VFIO needs the IOMMU on, e.g. intel_iommu=on or amd_iommu=on; "
		       "'upci info BDF' still reads any function through sysfs)\n");
	/* On vfio-pci but not openable yet: say what is in the way. */
	{
		struct upci_found *f = NULL;
		size_t k = 0;

		if (upci_enumerate("vfio", &f, &k) == 0)
			for (size_t j = 0; j < k; j++)
				if (is_vfio_driver(f[j].driver) && !(f[j].flags & UPCI_FOUND_READY))
					printf("note: %s: %s\n", f[j].uri + strlen("vfio:"), f[j].why);
		upci_enumerate_free(f);
	}
	in_process(sims, sizeof(sims));
	printf("%zu function%s; also in-process: %s\n", shown, shown == 1 ? "" : "s", sims);
	free(devs);
	return EXIT_OK;
}
#else
int host_function_exists(const char *uri)
{
	(void)uri;
	return -1;
}

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

/* SPDX-License-Identifier: MIT */
/*
 * The host's PCI functions as sysfs describes them: BDF, IDs, class, driver,
 * IOMMU group, VFIO cdev. Used by the vfio backend (find the group, check it
 * is viable) and by 'upci list' / 'upci bind'.
 *
 * Every function takes the sysfs mount point as @root (NULL = "/sys") so the
 * unit tests can point it at a fake tree. Sysfs contents are treated as
 * hostile: strict parsing, bounded reads, bounded directory walks; an
 * attribute that does not parse reads as "unknown", never as a guess.
 */
#ifndef UPCI_VFIO_SYSFS_H
#define UPCI_VFIO_SYSFS_H

#include <stddef.h>
#include <stdint.h>

#define SYSFS_BDF_LEN 20      /* "dddd:bb:dd.f", domains up to 8 digits */
#define SYSFS_NAME_MAX 64     /* driver names */
#define SYSFS_MAX_DEVICES 4096 /* a walk stops there: no unbounded memory */

struct sysfs_pci_dev {
	char bdf[SYSFS_BDF_LEN];     /* canonical, lower case */
	int ids_ok;                  /* vendor..revision parsed */
	uint16_t vendor, device;
	uint16_t subsys_vendor, subsys_device;
	uint32_t class_code;         /* 24 bits */
	uint8_t revision;
	char driver[SYSFS_NAME_MAX]; /* "" when no driver is bound */
	char driver_override[SYSFS_NAME_MAX]; /* "" when none */
	int iommu_group;             /* -1: no IOMMU group (IOMMU off or absent) */
	int vfio_cdev;               /* N of the VFIO cdev /dev/vfio/devices/vfioN, -1 when none */
	int is_bridge;               /* header type 1/2 (from class 0x0604/0x0607) */
};

/* Canonical "dddd:bb:dd.f" from "[d...d:]bb:dd.f" (hex, any case; domains
 * of 1..8 digits, printed with at least 4 as the kernel does).
 * 0 or -EINVAL. */
int sysfs_bdf_canon(const char *in, char out[SYSFS_BDF_LEN]);

/* One function. -ENOENT when sysfs has no such device, -EINVAL for a bad
 * BDF, -ENAMETOOLONG for an absurd @root. */
int sysfs_pci_get(const char *root, const char *bdf, struct sysfs_pci_dev *out);

/* Every function, sorted by BDF; entries whose name is not a BDF are
 * skipped. Free *out with free(). 0 or -errno (-ENOENT: no PCI bus). */
int sysfs_pci_list(const char *root, struct sysfs_pci_dev **out, size_t *n);

/* The BDFs of IOMMU group @group, sorted; free *out with free().
 * 0 or -errno. */
int sysfs_group_members(const char *root, int group, char (**out)[SYSFS_BDF_LEN], size_t *n);

/* Is @d's driver compatible with giving its IOMMU group to VFIO: none,
 * a vfio driver, pci-stub, pcieport, or any driver of a bridge (the
 * kernel's own rule for group viability). */
int sysfs_driver_vfio_ok(const struct sysfs_pci_dev *d);

/* Write @val to <root>/bus/pci/devices/<bdf>/<attr> (attr may contain one
 * '/', e.g. "driver/unbind"), or to <root>/bus/pci/<attr> when @bdf is
 * NULL ("drivers_probe", "drivers/vfio-pci/bind"). 0 or -errno. */
int sysfs_write(const char *root, const char *bdf, const char *attr, const char *val);

/* Does <root>/bus/pci/drivers/<name> exist: 1, 0. */
int sysfs_driver_present(const char *root, const char *name);

#endif /* UPCI_VFIO_SYSFS_H */

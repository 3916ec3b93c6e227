/* SPDX-License-Identifier: MIT */
/*
 * What sysfs says about a host PCI function beyond sysfs.h's identity:
 * the kernel's resource table (BAR and ROM windows) and small numeric
 * attributes (irq, numa_node). Read by the sysfs backend and by the CLI,
 * which prints them the way lspci does. Contents are hostile input:
 * bounded reads, strict parsing, an attribute that does not parse is an
 * error, never a guess.
 */
#ifndef UPCI_SYSFS_HOST_PCI_H
#define UPCI_SYSFS_HOST_PCI_H

#include <stdint.h>

/* include/linux/ioport.h: the resource flags sysfs prints. */
#define HOSTPCI_IORESOURCE_IO       0x00000100u
#define HOSTPCI_IORESOURCE_MEM      0x00000200u
#define HOSTPCI_IORESOURCE_PREFETCH 0x00002000u
#define HOSTPCI_IORESOURCE_MEM_64   0x00100000u

/* Where the sysfs backend looks (NULL = "/sys"); unit tests set a fake tree. */
extern const char *upci__sysfs_root;

#define HOSTPCI_NUM_RES 7 /* BAR0..5, then the expansion ROM */
#define HOSTPCI_ROM     6

struct hostpci_res {
	uint64_t start, end, flags; /* all 0: not present */
};

/* The first HOSTPCI_NUM_RES lines of <root>/bus/pci/devices/<bdf>/resource
 * (root NULL = "/sys"; bdf canonical). 0, -ENOENT, or -EINVAL when a line
 * does not parse. */
int hostpci_resources(const char *root, const char *bdf, struct hostpci_res res[HOSTPCI_NUM_RES]);

/* Size of a resource (end - start + 1), 0 when absent or inverted. */
uint64_t hostpci_res_size(const struct hostpci_res *r);

/* A decimal attribute that may be negative (numa_node is -1 without NUMA).
 * 0, -ENOENT, -EINVAL. */
int hostpci_attr_long(const char *root, const char *bdf, const char *attr, long *out);

#endif /* UPCI_SYSFS_HOST_PCI_H */

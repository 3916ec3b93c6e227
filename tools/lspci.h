/* SPDX-License-Identifier: MIT */
/*
 * 'upci info' prints a device the way lspci -vv prints it (pciutils 3.9's
 * layout, line for line), from a snapshot of its config space, its BAR
 * info and, for a host function (vfio:, sysfs:), what sysfs adds (IRQ,
 * IOMMU group, NUMA node, driver, ROM window). Split by job:
 *   ls_show.c    the device line, header fields, BARs, ROM, kernel, hex dump
 *   ls_caps.c    the capability list: PM, MSI, MSI-X, vendor-specific
 *   ls_express.c the PCI Express capability
 *   ls_ecaps.c   the extended capabilities
 * Capabilities lspci decodes in detail that upci does not are printed with
 * lspci's title line only: upci prints nothing lspci would not.
 */
#ifndef UPCI_TOOLS_LSPCI_H
#define UPCI_TOOLS_LSPCI_H

#include <stdint.h>

#include "caps.h"
#include "upci/upci.h"

#define LS_FLAG(v, bit) (((v) & (bit)) ? '+' : '-')

/* What sysfs says about a host function; present = 0 for other devices. */
struct ls_host {
	int present;
	long irq;          /* 0: none */
	long numa_node;    /* -1: none */
	int iommu_group;   /* -1: none */
	char driver[64];   /* "" when none */
	uint64_t bar_start[UPCI_NUM_BARS]; /* kernel's view of each BAR */
	uint64_t rom_start, rom_size;
};

struct ls_dev {
	const struct upci_identity *id;
	struct cfg_snapshot cfg;   /* config space, cfg.size = id->config_size */
	unsigned readable;         /* bytes of it that could be read (64 as non-root) */
	struct upci_bar_info bars[UPCI_NUM_BARS];
	int bar_ok[UPCI_NUM_BARS];
	struct ls_host host;
};

struct ls_opts {
	int numeric;  /* 0 names, 1 -n, 2 -nn */
	int domains;  /* -D: always print the domain */
	int hex;      /* 0, 1 (-x: 64 bytes), 3 (-xxx: 256), 4 (-xxxx: 4096) */
};

/* Everything lspci -vv [-x...] prints for the device, to stdout; @extra
 * (may be NULL) prints more lines after the kernel driver's, before the
 * hex dump. */
void ls_show(const struct ls_dev *d, const struct ls_opts *o, void (*extra)(const struct ls_dev *d, void *ctx),
	     void *ctx);

/* Fill d->host from sysfs when the device is a host function (backend
 * vfio or sysfs, Linux); leaves present = 0 otherwise. */
void ls_host_fill(struct ls_dev *d);

/* "00:01.0" or "0000:00:01.0" as lspci writes the address. */
void ls_slot(const struct upci_identity *id, int domains, char *buf, unsigned len);

/* The config-space hex dump, lspci's -x layout, @len bytes. */
void ls_hex_dump(const uint8_t *cfg, unsigned len);

/* Parts, called by ls_show(). */
void ls_caps(const struct ls_dev *d);
int ls_express(const struct ls_dev *d, unsigned where, uint16_t cap); /* returns the port type */
void ls_ecaps(const struct ls_dev *d, int type);

/* Size as lspci writes it: " [size=512K]"; nothing for 0. */
void ls_size(uint64_t bytes);

#endif

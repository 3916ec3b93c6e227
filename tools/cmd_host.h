/* SPDX-License-Identifier: MIT */
/* Sub-commands that work on the host's PCI functions (sysfs, vfio-pci):
 * cmd_list.c and cmd_bind.c. Linux only; elsewhere they say so. */
#ifndef UPCI_TOOLS_CMD_HOST_H
#define UPCI_TOOLS_CMD_HOST_H

#include <stddef.h>

int cmd_list(int argc, char **argv);
int cmd_bind(int argc, char **argv);
int cmd_unbind(int argc, char **argv);

/*
 * Why a "vfio:" URI (or a bare BDF) does not open, from sysfs: no such
 * function, no IOMMU group, not bound to vfio-pci, a group shared with
 * functions bound elsewhere. Writes one sentence into @buf and returns it,
 * or returns NULL when @uri is not a vfio URI or sysfs shows no problem.
 */
const char *host_open_hint(const char *uri, char *buf, size_t len);

/*
 * For a host URI (vfio:BDF, sysfs:BDF or a bare BDF): 1 when sysfs has
 * that function, 0 when it has not; -1 for any other URI (or off Linux).
 */
int host_function_exists(const char *uri);

#endif

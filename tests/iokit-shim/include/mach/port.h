/* SPDX-License-Identifier: MIT */
/* Linux test shim: the part of Apple's <mach/port.h> upci uses. */
#ifndef UPCI_SHIM_MACH_PORT_H
#define UPCI_SHIM_MACH_PORT_H

typedef unsigned int mach_port_t;

#define MACH_PORT_NULL ((mach_port_t)0)

#endif

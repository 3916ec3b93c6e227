/* SPDX-License-Identifier: MIT */
/* Linux test shim: the part of Apple's <mach/mach_types.h> upci uses. */
#ifndef UPCI_SHIM_MACH_MACH_TYPES_H
#define UPCI_SHIM_MACH_MACH_TYPES_H

#include <stdint.h>

#include <mach/kern_return.h>
#include <mach/port.h>

typedef int boolean_t; /* <mach/arm/boolean.h> */
typedef mach_port_t task_t;
typedef mach_port_t task_port_t;
typedef uint64_t mach_vm_address_t;
typedef uint64_t mach_vm_size_t;

#endif

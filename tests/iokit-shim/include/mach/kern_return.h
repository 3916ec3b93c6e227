/* SPDX-License-Identifier: MIT */
/* Linux test shim: the part of Apple's <mach/kern_return.h> upci uses. */
#ifndef UPCI_SHIM_MACH_KERN_RETURN_H
#define UPCI_SHIM_MACH_KERN_RETURN_H

typedef int kern_return_t;

#define KERN_SUCCESS          0
#define KERN_INVALID_ARGUMENT 4

#endif

/* SPDX-License-Identifier: MIT */
/* Linux test shim: the part of Apple's <mach/mach_init.h> upci uses. */
#ifndef UPCI_SHIM_MACH_MACH_INIT_H
#define UPCI_SHIM_MACH_MACH_INIT_H

#include <mach/mach_types.h>

extern mach_port_t mach_task_self_;
#define mach_task_self() mach_task_self_

#endif

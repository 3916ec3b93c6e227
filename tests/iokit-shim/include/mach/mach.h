/* SPDX-License-Identifier: MIT */
/* Linux test shim for Apple's <mach/mach.h>: only what upci uses. */
#ifndef UPCI_SHIM_MACH_MACH_H
#define UPCI_SHIM_MACH_MACH_H

#include <mach/kern_return.h>
#include <mach/mach_init.h>
#include <mach/mach_types.h>
#include <mach/message.h>
#include <mach/port.h>

#endif

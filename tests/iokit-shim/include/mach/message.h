/* SPDX-License-Identifier: MIT */
/* Linux test shim: the part of Apple's <mach/message.h> upci uses. */
#ifndef UPCI_SHIM_MACH_MESSAGE_H
#define UPCI_SHIM_MACH_MESSAGE_H

/* A send to a port whose receiver is gone (the driver instance died). */
#define MACH_SEND_INVALID_DEST 0x10000003

#endif

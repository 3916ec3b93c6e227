/* SPDX-License-Identifier: MIT */
/* Linux test shim: the part of Apple's <IOKit/IOMessage.h> upci uses. */
#ifndef UPCI_SHIM_IOKIT_IOMESSAGE_H
#define UPCI_SHIM_IOKIT_IOMESSAGE_H

#include <stdint.h>

#include <IOKit/IOReturn.h>

#define iokit_common_msg(message) ((uint32_t)(sys_iokit | sub_iokit_common | (message)))
/* The service is gone: sent to its interest notifications. */
#define kIOMessageServiceIsTerminated iokit_common_msg(0x010)

#endif

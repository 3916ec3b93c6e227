/* SPDX-License-Identifier: MIT */
/* Linux test shim: the part of Apple's <IOKit/IOKitKeys.h> upci uses. */
#ifndef UPCI_SHIM_IOKIT_IOKITKEYS_H
#define UPCI_SHIM_IOKIT_IOKITKEYS_H

#define kIOServicePlane    "IOService"
#define kIOGeneralInterest "IOGeneralInterest"

#endif

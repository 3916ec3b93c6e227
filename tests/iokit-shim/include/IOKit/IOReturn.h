/* SPDX-License-Identifier: MIT */
/* Linux test shim: the IOReturn codes of Apple's <IOKit/IOReturn.h> that
 * upci maps or the shim's driver model returns; same values as Apple's. */
#ifndef UPCI_SHIM_IOKIT_IORETURN_H
#define UPCI_SHIM_IOKIT_IORETURN_H

#include <mach/kern_return.h>

typedef kern_return_t IOReturn;

#define sys_iokit        (((unsigned)0x38 & 0x3f) << 26)
#define sub_iokit_common 0u
#define iokit_common_err(return) ((IOReturn)(sys_iokit | sub_iokit_common | (return)))

#define kIOReturnSuccess         KERN_SUCCESS
#define kIOReturnError           iokit_common_err(0x2bc)
#define kIOReturnNoMemory        iokit_common_err(0x2bd)
#define kIOReturnNoResources     iokit_common_err(0x2be)
#define kIOReturnIPCError        iokit_common_err(0x2bf)
#define kIOReturnNoDevice        iokit_common_err(0x2c0)
#define kIOReturnNotPrivileged   iokit_common_err(0x2c1)
#define kIOReturnBadArgument     iokit_common_err(0x2c2)
#define kIOReturnExclusiveAccess iokit_common_err(0x2c5)
#define kIOReturnUnsupported     iokit_common_err(0x2c7)
#define kIOReturnVMError         iokit_common_err(0x2c8)
#define kIOReturnInternalError   iokit_common_err(0x2c9)
#define kIOReturnIOError         iokit_common_err(0x2ca)
#define kIOReturnNotOpen         iokit_common_err(0x2cd)
#define kIOReturnNotReadable     iokit_common_err(0x2ce)
#define kIOReturnNotWritable     iokit_common_err(0x2cf)
#define kIOReturnNotAligned      iokit_common_err(0x2d0)
#define kIOReturnStillOpen       iokit_common_err(0x2d2)
#define kIOReturnDMAError        iokit_common_err(0x2d4)
#define kIOReturnBusy            iokit_common_err(0x2d5)
#define kIOReturnTimeout         iokit_common_err(0x2d6)
#define kIOReturnNotReady        iokit_common_err(0x2d8)
#define kIOReturnOffline         iokit_common_err(0x2d7)
#define kIOReturnNotAttached     iokit_common_err(0x2d9)
#define kIOReturnNoSpace         iokit_common_err(0x2db)
#define kIOReturnCannotWire      iokit_common_err(0x2de)
#define kIOReturnNotPermitted    iokit_common_err(0x2e2)
#define kIOReturnOverrun         iokit_common_err(0x2e8)
#define kIOReturnDeviceError     iokit_common_err(0x2e9)
#define kIOReturnAborted         iokit_common_err(0x2eb)
#define kIOReturnNotResponding   iokit_common_err(0x2ed)
#define kIOReturnNotFound        iokit_common_err(0x2f0)
#define kIOReturnInvalid         iokit_common_err(0x1)

#endif

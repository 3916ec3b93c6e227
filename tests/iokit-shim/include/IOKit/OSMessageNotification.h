/* SPDX-License-Identifier: MIT */
/* Linux test shim: the part of Apple's <IOKit/OSMessageNotification.h>
 * upci uses (the async reference layout). */
#ifndef UPCI_SHIM_IOKIT_OSMESSAGENOTIFICATION_H
#define UPCI_SHIM_IOKIT_OSMESSAGENOTIFICATION_H

#include <stdint.h>

typedef uint64_t io_user_reference_t;

enum {
	kOSAsyncRef64Count = 8,
};
typedef io_user_reference_t io_async_ref64_t[kOSAsyncRef64Count];

enum {
	kIOAsyncReservedIndex = 0,
	kIOAsyncReservedCount,
	kIOAsyncCalloutFuncIndex = kIOAsyncReservedCount,
	kIOAsyncCalloutRefconIndex,
	kIOAsyncCalloutCount,
};

#endif

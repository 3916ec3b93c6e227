/* SPDX-License-Identifier: MIT */
/* Linux test shim: the part of Apple's <IOKit/IOTypes.h> upci uses. */
#ifndef UPCI_SHIM_IOKIT_IOTYPES_H
#define UPCI_SHIM_IOKIT_IOTYPES_H

#include <stdint.h>

#include <IOKit/IOReturn.h>
#include <mach/mach_types.h>

typedef uint32_t IOOptionBits;
typedef mach_port_t io_object_t;
typedef io_object_t io_connect_t;
typedef io_object_t io_iterator_t;
typedef io_object_t io_registry_entry_t;
typedef io_object_t io_service_t;
/* <device/device_types.h> on macOS, reached through these headers there. */
typedef char io_name_t[128];

#define IO_OBJECT_NULL ((io_object_t)0)

/* IOConnectMapMemory64 options */
enum {
	kIOMapAnywhere = 0x00000001,
	kIOMapCacheMask = 0x00000f00,
	kIOMapDefaultCache = 0x00000000,
	kIOMapInhibitCache = 0x00000100,
	kIOMapWriteThruCache = 0x00000200,
	kIOMapCopybackCache = 0x00000300,
	kIOMapWriteCombineCache = 0x00000400,
	kIOMapUserOptionsMask = 0x00000fff, /* what a client's options may set */
	kIOMapReadOnly = 0x00001000,
};

#endif

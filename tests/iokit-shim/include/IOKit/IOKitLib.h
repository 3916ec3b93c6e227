/* SPDX-License-Identifier: MIT */
/*
 * Linux test shim for Apple's <IOKit/IOKitLib.h>: only the functions and
 * types upci's dext backend uses, with Apple's names and signatures. The
 * implementation (the .c files of tests/iokit-shim) routes every call to a model of
 * the VFIOUserPCIDriver's driver side running in this process.
 */
#ifndef UPCI_SHIM_IOKIT_IOKITLIB_H
#define UPCI_SHIM_IOKIT_IOKITLIB_H

#include <stdint.h>

#include <CoreFoundation/CoreFoundation.h>
#include <IOKit/IOKitKeys.h>
#include <IOKit/IOReturn.h>
#include <IOKit/IOTypes.h>
#include <IOKit/OSMessageNotification.h>
#include <dispatch/dispatch.h>
#include <mach/mach.h>

extern const mach_port_t kIOMainPortDefault;

typedef struct IONotificationPort *IONotificationPortRef;
typedef void (*IOAsyncCallback)(void *refcon, IOReturn result, void **args, uint32_t numArgs);
typedef void (*IOServiceInterestCallback)(void *refcon, io_service_t service, uint32_t messageType,
					  void *messageArgument);

CFMutableDictionaryRef IOServiceMatching(const char *name);
kern_return_t IOServiceGetMatchingServices(mach_port_t mainPort, CFDictionaryRef matching, io_iterator_t *existing);
io_object_t IOIteratorNext(io_iterator_t iterator);
kern_return_t IOObjectRelease(io_object_t object);
CFTypeRef IORegistryEntryCreateCFProperty(io_registry_entry_t entry, CFStringRef key, CFAllocatorRef allocator,
					  IOOptionBits options);
kern_return_t IORegistryEntryGetRegistryEntryID(io_registry_entry_t entry, uint64_t *entryID);
/* Apple declares the names below `const io_name_t` (char[128]), which
 * decays to this pointer; spelt so, GCC does not take a string literal
 * for a 128-byte read. */
kern_return_t IORegistryEntryGetParentEntry(io_registry_entry_t entry, const char *plane,
					    io_registry_entry_t *parent);
boolean_t IOObjectConformsTo(io_object_t object, const char *className);
kern_return_t IOServiceAddInterestNotification(IONotificationPortRef notifyPort, io_service_t service,
					       const char *interestType, IOServiceInterestCallback callback,
					       void *refcon, io_object_t *notification);

kern_return_t IOServiceOpen(io_service_t service, task_port_t owningTask, uint32_t type, io_connect_t *connect);
kern_return_t IOServiceClose(io_connect_t connect);

kern_return_t IOConnectCallScalarMethod(mach_port_t connection, uint32_t selector, const uint64_t *input,
					uint32_t inputCnt, uint64_t *output, uint32_t *outputCnt);
kern_return_t IOConnectCallAsyncScalarMethod(mach_port_t connection, uint32_t selector, mach_port_t wake_port,
					     uint64_t *reference, uint32_t referenceCnt, const uint64_t *input,
					     uint32_t inputCnt, uint64_t *output, uint32_t *outputCnt);
kern_return_t IOConnectMapMemory64(io_connect_t connect, uint32_t memoryType, task_port_t intoTask,
				   mach_vm_address_t *atAddress, mach_vm_size_t *ofSize, IOOptionBits options);
kern_return_t IOConnectUnmapMemory64(io_connect_t connect, uint32_t memoryType, task_port_t fromTask,
				     mach_vm_address_t atAddress);

IONotificationPortRef IONotificationPortCreate(mach_port_t mainPort);
void IONotificationPortDestroy(IONotificationPortRef notify);
mach_port_t IONotificationPortGetMachPort(IONotificationPortRef notify);
void IONotificationPortSetDispatchQueue(IONotificationPortRef notify, dispatch_queue_t queue);

#endif

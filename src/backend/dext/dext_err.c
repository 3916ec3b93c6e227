/* SPDX-License-Identifier: MIT */
/*
 * kern_return_t -> negative errno. The choices that are not obvious:
 *   NotOpen      -> -EPERM   the driver's "the device is not claimed": upci
 *                            says -EPERM for that everywhere
 *   NotAligned   -> -ERANGE  the DART could not give one contiguous bus
 *                            segment; the caller's alignment was already
 *                            checked by core (that one is -EINVAL)
 *   NoResources  -> -ENOSPC  DART space or live mappings exhausted (NoMemory
 *                            stays -ENOMEM)
 *   StillOpen    -> -EEXIST  duplicate IOVA key
 *   NotReady     -> -EAGAIN  interrupts not set up yet
 *   NotWritable  -> -EROFS   a mapping that can only be read
 *   Offline, MIG_SERVER_DIED, MACH_SEND_INVALID_DEST -> -ENODEV: the
 *                 driver instance is gone. IOUserServer answers a call
 *                 into a terminated service or a dead dext with
 *                 kIOReturnOffline, one the dext died during with
 *                 MIG_SERVER_DIED (xnu IOUserServer.cpp rpc, instantiate)
 */
#include <errno.h>
#include <stdio.h>

#include <mach/mig_errors.h>

#include "dext.h"

static const struct {
	kern_return_t kr;
	int err;
	const char *name;
} table[] = {
	{kIOReturnError, -EIO, "kIOReturnError"},
	{kIOReturnNoMemory, -ENOMEM, "kIOReturnNoMemory"},
	{kIOReturnNoResources, -ENOSPC, "kIOReturnNoResources"},
	{kIOReturnIPCError, -EPIPE, "kIOReturnIPCError"},
	{kIOReturnNoDevice, -ENODEV, "kIOReturnNoDevice"},
	{kIOReturnNotPrivileged, -EPERM, "kIOReturnNotPrivileged"},
	{kIOReturnBadArgument, -EINVAL, "kIOReturnBadArgument"},
	{kIOReturnExclusiveAccess, -EBUSY, "kIOReturnExclusiveAccess"},
	{kIOReturnUnsupported, -ENOTSUP, "kIOReturnUnsupported"},
	{kIOReturnVMError, -EFAULT, "kIOReturnVMError"},
	{kIOReturnInternalError, -EIO, "kIOReturnInternalError"},
	{kIOReturnIOError, -EIO, "kIOReturnIOError"},
	{kIOReturnNotOpen, -EPERM, "kIOReturnNotOpen"},
	{kIOReturnNotReadable, -EACCES, "kIOReturnNotReadable"},
	{kIOReturnNotWritable, -EROFS, "kIOReturnNotWritable"},
	{kIOReturnNotAligned, -ERANGE, "kIOReturnNotAligned"},
	{kIOReturnStillOpen, -EEXIST, "kIOReturnStillOpen"},
	{kIOReturnDMAError, -EIO, "kIOReturnDMAError"},
	{kIOReturnBusy, -EBUSY, "kIOReturnBusy"},
	{kIOReturnTimeout, -ETIMEDOUT, "kIOReturnTimeout"},
	{kIOReturnNotReady, -EAGAIN, "kIOReturnNotReady"},
	{kIOReturnNotAttached, -ENODEV, "kIOReturnNotAttached"},
	{kIOReturnOffline, -ENODEV, "kIOReturnOffline"},
	{kIOReturnNoSpace, -ENOSPC, "kIOReturnNoSpace"},
	{kIOReturnCannotWire, -ENOMEM, "kIOReturnCannotWire"},
	{kIOReturnNotPermitted, -EACCES, "kIOReturnNotPermitted"},
	{kIOReturnOverrun, -ERANGE, "kIOReturnOverrun"},
	{kIOReturnDeviceError, -EIO, "kIOReturnDeviceError"},
	{kIOReturnAborted, -ECANCELED, "kIOReturnAborted"},
	{kIOReturnNotResponding, -ETIMEDOUT, "kIOReturnNotResponding"},
	{kIOReturnNotFound, -ENOENT, "kIOReturnNotFound"},
	{kIOReturnInvalid, -EINVAL, "kIOReturnInvalid"},
	{KERN_INVALID_ARGUMENT, -EINVAL, "KERN_INVALID_ARGUMENT"},
	{MACH_SEND_INVALID_DEST, -ENODEV, "MACH_SEND_INVALID_DEST"},
	{MIG_SERVER_DIED, -ENODEV, "MIG_SERVER_DIED"},
};

int dext_errno(kern_return_t kr)
{
	if (kr == kIOReturnSuccess)
		return 0;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].kr == kr)
			return table[i].err;
	return -EIO; /* anything else the driver or the kernel says */
}

const char *dext_kr_name(kern_return_t kr)
{
	static _Thread_local char buf[16];

	if (kr == kIOReturnSuccess)
		return "kIOReturnSuccess";
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].kr == kr)
			return table[i].name;
	snprintf(buf, sizeof(buf), "0x%08x", (unsigned)kr);
	return buf;
}

/* SPDX-License-Identifier: MIT */
/* upci_strerror: words for the errno values upci returns, in upci's terms
 * where the generic text would mislead (e.g. EPERM means "not claimed"). */
#include <errno.h>

#include "upci/upci.h"

UPCI_API const char *upci_strerror(int err)
{
	/* Negate in unsigned arithmetic: -INT_MIN does not fit an int. */
	unsigned e = err < 0 ? 0u - (unsigned)err : (unsigned)err;

	switch (e) {
	case 0:
		return "success";
	case EPERM:
		return "device not claimed by this handle";
	case EBUSY:
		return "device busy (claimed by another user)";
	case ENOTSUP:
		return "not supported by this device or backend";
	case EINVAL:
		return "invalid argument";
	case EFAULT:
		return "misaligned offset";
	case ERANGE:
		return "offset or length out of range";
	case EEXIST:
		return "overlaps an existing DMA mapping";
	case ENOENT:
		return "no such device or mapping";
	case ENOSPC:
		return "IOMMU mapping limits reached";
	case EOVERFLOW:
		return "address range wraps around";
	case ETIMEDOUT:
		return "timed out";
	case ENODEV:
		return "device has gone away";
	case EIO:
		return "device I/O error";
	case ENOMEM:
		return "out of memory";
	case EINTR:
		return "interrupted by a signal";
	case EBADF:
		return "bad file descriptor";
	case EAGAIN:
		return "resource temporarily unavailable";
	case EPIPE:
	case ECONNRESET:
		return "connection to the device lost";
	case EPROTO:
		return "protocol error";
	case EACCES:
		return "permission denied";
	case ENXIO:
		return "no such device address";
	case E2BIG:
		return "message too large";
	case EMSGSIZE:
		return "message size out of range";
	case ENOSYS:
		return "function not implemented";
	default:
		/* Not strerror(): its buffer is reused by the next call, and the
		 * header promises a static string. */
		return "unknown error";
	}
}

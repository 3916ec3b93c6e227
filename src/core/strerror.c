/* SPDX-License-Identifier: MIT */
/*
 * upci_strerror: the standard meaning of each errno value, in words that do
 * not depend on the C library (strerror() may use a shared buffer and
 * differs between platforms). No upci-specific reading: a code returned by
 * upci_open() of a socket means what it means to any program ("connection
 * refused"), and what a code means for a given call is the header's and
 * the caller's to say (the CLI names the operation).
 */
#include <errno.h>

#include "upci/upci.h"

UPCI_API const char *upci_strerror(int err)
{
	/* Negate in unsigned arithmetic: -INT_MIN does not fit an int. */
	unsigned e = err < 0 ? 0u - (unsigned)err : (unsigned)err;

	switch (e) {
	case 0: return "success";
	case EPERM: return "operation not permitted";
	case ENOENT: return "no such file or directory";
	case ESRCH: return "no such process";
	case EINTR: return "interrupted by a signal";
	case EIO: return "input/output error";
	case ENXIO: return "no such device or address";
	case E2BIG: return "argument list too long";
	case ENOEXEC: return "exec format error";
	case EBADF: return "bad file descriptor";
	case ECHILD: return "no child processes";
	case EAGAIN: return "resource temporarily unavailable";
	case ENOMEM: return "out of memory";
	case EACCES: return "permission denied";
	case EFAULT: return "bad address";
	case EBUSY: return "device or resource busy";
	case EEXIST: return "already exists";
	case EXDEV: return "invalid cross-device link";
	case ENODEV: return "no such device";
	case ENOTDIR: return "not a directory";
	case EISDIR: return "is a directory";
	case EINVAL: return "invalid argument";
	case ENFILE: return "too many open files in system";
	case EMFILE: return "too many open files";
	case ENOTTY: return "inappropriate ioctl for device";
	case EFBIG: return "file too large";
	case ENOSPC: return "no space left (limit reached)";
	case ESPIPE: return "illegal seek";
	case EROFS: return "read-only";
	case EMLINK: return "too many links";
	case EPIPE: return "broken pipe";
	case EDOM: return "numerical argument out of domain";
	case ERANGE: return "out of range";
	case EDEADLK: return "resource deadlock avoided";
	case ENAMETOOLONG: return "file name too long";
	case ENOLCK: return "no locks available";
	case ENOSYS: return "function not implemented";
	case ENOTEMPTY: return "directory not empty";
	case ELOOP: return "too many levels of symbolic links";
	case ENOTSUP: return "operation not supported";
#if defined(EOPNOTSUPP) && EOPNOTSUPP != ENOTSUP
	case EOPNOTSUPP: return "operation not supported";
#endif
	case EPROTO: return "protocol error";
	case EBADMSG: return "bad message";
	case EOVERFLOW: return "value too large";
	case EILSEQ: return "invalid or incomplete byte sequence";
	case ENOTSOCK: return "not a socket";
	case EDESTADDRREQ: return "destination address required";
	case EMSGSIZE: return "message too long";
	case EPROTOTYPE: return "protocol wrong type for socket";
	case ENOPROTOOPT: return "protocol not available";
	case EPROTONOSUPPORT: return "protocol not supported";
	case EAFNOSUPPORT: return "address family not supported";
	case EADDRINUSE: return "address already in use";
	case EADDRNOTAVAIL: return "cannot assign requested address";
	case ENETDOWN: return "network is down";
	case ENETUNREACH: return "network is unreachable";
	case ECONNABORTED: return "connection aborted";
	case ECONNRESET: return "connection reset by peer";
	case ENOBUFS: return "no buffer space available";
	case EISCONN: return "already connected";
	case ENOTCONN: return "not connected";
	case ETIMEDOUT: return "timed out";
	case ECONNREFUSED: return "connection refused";
	case EHOSTUNREACH: return "no route to host";
	case EALREADY: return "operation already in progress";
	case EINPROGRESS: return "operation now in progress";
	case ECANCELED: return "operation canceled";
	default:
		/* Not strerror(): its buffer is reused by the next call, and the
		 * header promises a static string. */
		return "unknown error";
	}
}

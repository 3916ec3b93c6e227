/* SPDX-License-Identifier: MIT */
/*
 * Guarded copies for device DMA into memory the device does not own.
 *
 * Memory a peer maps for DMA (a vfio-user client's memfd, a hugetlbfs or
 * memory-backend-file fd) can lose its pages at any moment: the peer
 * truncates the file, and the next touch of a page past the new end raises
 * SIGBUS. Seals cannot be required of such fds, and pread/pwrite do not
 * work on hugetlbfs, so every device access to such memory is one
 * dma_guard_copy(): a SIGBUS inside it, on an address of its two ranges,
 * ends the copy with -EFAULT (a device DMA error) instead of the process.
 *
 * Mechanism: a SIGBUS handler (SA_SIGINFO | SA_NODEFER) that siglongjmps
 * to the copy's recovery point when the faulting thread is inside a
 * guarded copy and si_addr lies in its ranges; every other SIGBUS goes to
 * the disposition that was installed before (a handler, or the default
 * action, which then kills the process at the real faulting address).
 */
#ifndef UPCI_CORE_DMA_GUARD_H
#define UPCI_CORE_DMA_GUARD_H

#include <stddef.h>

/*
 * Copy @len bytes from @src to @dst (the ranges may overlap, as memmove).
 * Returns 0, or -EFAULT when a page of either range faulted (SIGBUS): part
 * of @dst may then be written; *fault (may be NULL) gets the faulting
 * address. Installs the handler on first use. Thread-safe.
 */
int dma_guard_copy(void *dst, const void *src, size_t len, const void **fault);

/*
 * Install the SIGBUS handler, or install it again when someone replaced
 * it since (a handler installed after ours is chained to, like any
 * other). Called where memory becomes reachable by a device (the sim
 * backend's DMA map). 0 or a negative errno from sigaction.
 */
int dma_guard_arm(void);

#endif /* UPCI_CORE_DMA_GUARD_H */

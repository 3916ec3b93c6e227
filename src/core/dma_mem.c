/* SPDX-License-Identifier: MIT */
/*
 * Memory of upci_dma_alloc() buffers: a memfd on Linux (so a vfio-user
 * server can map it), anonymous shared memory elsewhere; with
 * UPCI_DMA_ALLOC_HUGE a hugetlbfs memfd of 2 MiB pages from the pool the
 * administrator reserved.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dma_core.h"
#include "log.h"

#ifdef __linux__
#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004u
#endif
#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB (21u << 26) /* log2(2 MiB) << MFD_HUGE_SHIFT */
#endif

static int memfd_of(uint64_t size, int huge, int *out)
{
	/* Sealed at its size: the process this fd is shared with (a
	 * vfio-user server) must not pull pages from under us (SIGBUS). */
	int fd = memfd_create(huge ? "upci-dma-huge" : "upci-dma",
			      MFD_CLOEXEC | MFD_ALLOW_SEALING | (huge ? MFD_HUGETLB | MFD_HUGE_2MB : 0));

	if (fd < 0) {
		int e = errno;

		/* EINVAL: no 2 MiB huge pages; ENOSYS: a kernel built without
		 * hugetlbfs (its hugetlb_file_setup stub). */
		if (huge && (e == EINVAL || e == ENOSYS)) {
			LOG_ERR("DMA buffer: this kernel has no 2 MiB hugetlbfs pages (memfd_create: %s)", strerror(e));
			return -ENOTSUP;
		}
		return -e;
	}
	if (ftruncate(fd, (off_t)size) != 0 || fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	*out = fd;
	return 0;
}
#endif

int dma_mem_alloc(uint64_t size, unsigned flags, struct dma_alloc **out)
{
	int huge = !!(flags & UPCI_DMA_ALLOC_HUGE);
	struct dma_alloc *a = calloc(1, sizeof(*a));
	int ret = 0;

	if (!a)
		return -ENOMEM;
	a->fd = -1;
	a->size = size;
#ifdef __linux__
	ret = memfd_of(size, huge, &a->fd);
	if (ret == 0)
		a->vaddr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, a->fd, 0);
#else
	if (huge)
		ret = -ENOTSUP; /* no hugetlbfs here */
	else
		a->vaddr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANON, -1, 0);
#endif
	if (ret == 0 && a->vaddr == MAP_FAILED) {
		ret = -errno;
		/* hugetlbfs reserves the pages at mmap: ENOMEM = too few free
		 * huge pages in the pool (none reserved, or all in use). */
		if (huge && ret == -ENOMEM)
			LOG_ERR("DMA buffer of %llu bytes: too few free 2 MiB huge pages (HugePages_Free in "
				"/proc/meminfo; reserve more in /proc/sys/vm/nr_hugepages)",
				(unsigned long long)size);
	}
	if (ret) {
		if (a->fd >= 0)
			close(a->fd);
		free(a);
		return ret;
	}
	*out = a;
	return 0;
}

void dma_mem_free(struct dma_alloc *a)
{
	if (!a)
		return;
	munmap(a->vaddr, a->size);
	if (a->fd >= 0)
		close(a->fd);
	free(a);
}

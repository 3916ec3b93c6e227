/* SPDX-License-Identifier: MIT */
/* Helpers shared by the device models: URI parameters and RAM-backed BARs. */
#define _GNU_SOURCE
#include "model.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dma_guard.h"
#include "upci/upci.h"

int model_param_u64(const struct model_params *p, const char *key, uint64_t def, uint64_t min, uint64_t max,
		    uint64_t *out)
{
	*out = def;
	if (!p)
		return 0;
	for (unsigned i = 0; i < p->n && i < MODEL_MAX_PARAMS; i++) {
		const char *s = p->p[i].val;
		char *end = NULL;
		unsigned long long v;

		if (strcmp(p->p[i].key, key) != 0)
			continue;
		/* Decimal or 0x hex only: no octal surprise for "010", no
		 * whitespace or sign that strtoull would accept. */
		if (!isdigit((unsigned char)s[0]))
			return -EINVAL;
		errno = 0;
		if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
			if (!isxdigit((unsigned char)s[2]))
				return -EINVAL;
			v = strtoull(s + 2, &end, 16);
		} else {
			v = strtoull(s, &end, 10);
		}
		if (errno || *end != '\0' || v < min || v > max)
			return -EINVAL;
		*out = v;
		return 0;
	}
	return 0;
}

int model_params_check(const struct model_params *p, const char *const *known, const char **bad)
{
	if (!p)
		return 0;
	for (unsigned i = 0; i < p->n && i < MODEL_MAX_PARAMS; i++) {
		int ok = 0;

		for (const char *const *k = known; k && *k; k++)
			if (strcmp(*k, p->p[i].key) == 0)
				ok = 1;
		if (!ok) {
			if (bad)
				*bad = p->p[i].key;
			return -EINVAL;
		}
	}
	return 0;
}

int model_bar_alloc_mem(struct model_bar *b, const char *name, uint64_t size)
{
	void *mem;
	int fd = -1;

	if (size == 0 || size > (1ull << 32))
		return -EINVAL;
#ifdef __linux__
	/* A memfd lets the BAR be shared with another process (upci serve).
	 * Its size is sealed: whoever gets the fd must not be able to shrink
	 * it under our mapping (SIGBUS) or grow it without bound. */
	fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) != 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
#else
	(void)name;
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANON, -1, 0);
#endif
	if (mem == MAP_FAILED) {
		int e = -errno;
		if (fd >= 0)
			close(fd);
		return e;
	}
	b->fd = fd;
	b->mem = mem;
	b->size = size;
	return 0;
}

void model_bar_free_mem(struct model_bar *b)
{
	if (b->mem)
		munmap(b->mem, b->size);
	if (b->fd >= 0)
		close(b->fd);
	b->mem = NULL;
	b->fd = -1;
}

int model_dma_copy(void *dst, const void *src, uint64_t len, const void **fault)
{
	if ((size_t)len != len)
		return -EFAULT; /* more than this process can address */
	return dma_guard_copy(dst, src, (size_t)len, fault);
}

int model_dma_read(const struct model_host *h, uint64_t bus, void *buf, uint64_t len)
{
	void *p = h->dma_translate ? h->dma_translate(h->opaque, bus, len, UPCI_DMA_READ) : NULL;

	if (p)
		return model_dma_copy(buf, p, len, NULL);
	if (h->dma_read && h->dma_read(h->opaque, bus, buf, len) == 0)
		return 0;
	return -EFAULT;
}

int model_dma_write(const struct model_host *h, uint64_t bus, const void *buf, uint64_t len)
{
	void *p = h->dma_translate ? h->dma_translate(h->opaque, bus, len, UPCI_DMA_WRITE) : NULL;

	if (p)
		return model_dma_copy(p, buf, len, NULL);
	if (h->dma_write && h->dma_write(h->opaque, bus, buf, len) == 0)
		return 0;
	return -EFAULT;
}

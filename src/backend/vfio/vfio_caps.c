/* SPDX-License-Identifier: MIT */
/* Variable-length VFIO info replies and their capability chains: the
 * kernel's offsets are checked before anything is read through them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "log.h"
#include "vfio.h"

#define INFO_TRIES 4 /* the size may grow between calls; give up after this */

int vfio_info_get(int fd, unsigned long req, const char *name, const void *init, size_t min, void **out,
		  size_t *outsz)
{
	size_t size = min;
	uint8_t *buf = NULL;

	*out = NULL;
	*outsz = 0;
	if (min < sizeof(uint32_t) || min > VFIO_INFO_MAX)
		return -EINVAL;
	for (int i = 0; i < INFO_TRIES; i++) {
		uint32_t argsz;
		uint8_t *nb = realloc(buf, size);

		if (!nb) {
			free(buf);
			return -ENOMEM;
		}
		buf = nb;
		memset(buf, 0, size);
		memcpy(buf, init, min);
		argsz = (uint32_t)size;
		memcpy(buf, &argsz, sizeof(argsz));
		if (ioctl(fd, req, buf) != 0) {
			int e = errno;

			LOG_ERR("%s: %s", name, strerror(e));
			free(buf);
			return -e;
		}
		memcpy(&argsz, buf, sizeof(argsz));
		if (argsz <= size) {
			/* What the kernel filled; never more than we gave. */
			*out = buf;
			*outsz = argsz < min ? min : argsz;
			return 0;
		}
		if (argsz > VFIO_INFO_MAX) {
			LOG_ERR("%s: the kernel asks for a %u-byte reply (at most %u accepted)", name, argsz,
				VFIO_INFO_MAX);
			free(buf);
			return -EPROTO;
		}
		size = argsz;
	}
	LOG_ERR("%s: reply size kept changing", name);
	free(buf);
	return -EPROTO;
}

int vfio_cap_find(const void *buf, size_t len, size_t base, uint32_t first, uint16_t id, size_t min, size_t *off)
{
	struct vfio_info_cap_header h;
	const uint8_t *p = buf;
	size_t at = first, steps = 0;

	if (!buf || !off || min < sizeof(h) || base > len)
		return -EINVAL;
	while (at != 0) {
		/* Each capability has at least a header, so a chain longer
		 * than this revisits an offset. */
		if (++steps > len / sizeof(h))
			return -ELOOP;
		if (at < base || at > len || len - at < sizeof(h))
			return -EPROTO;
		/* Copied out: the kernel does not align capabilities to 8
		 * (type1's 12-byte DMA_AVAIL leaves the next at 4 mod 8). */
		memcpy(&h, p + at, sizeof(h));
		if (h.id == id) {
			if (len - at < min)
				return -EPROTO;
			*off = at;
			return 0;
		}
		at = h.next;
	}
	return -ENOENT;
}

int vfio_mmap_areas(const uint8_t *buf, size_t len, uint32_t first, uint64_t size, uint64_t page,
		    struct vfio_area *out, unsigned max, unsigned *n)
{
	struct vfio_region_info_cap_sparse_mmap sm;
	uint64_t whole = (size + page - 1) & ~(page - 1);
	size_t at;
	int ret;

	*n = 0;
	if (whole < size)
		return -EPROTO; /* a size this close to 2^64 is not a region */
	ret = first ? vfio_cap_find(buf, len, sizeof(struct vfio_region_info), first,
				    VFIO_REGION_INFO_CAP_SPARSE_MMAP, sizeof(sm), &at)
		    : -ENOENT;
	if (ret == -ENOENT) {
		if (max == 0 || whole == 0)
			return 0;
		out[0].off = 0;
		out[0].len = whole;
		*n = 1;
		return 0;
	}
	if (ret)
		return ret;
	memcpy(&sm, buf + at, sizeof(sm));
	if (sm.nr_areas > (len - at - sizeof(sm)) / sizeof(struct vfio_region_sparse_mmap_area))
		return -EPROTO;
	for (uint32_t i = 0; i < sm.nr_areas; i++) {
		struct vfio_region_sparse_mmap_area a;

		memcpy(&a, buf + at + sizeof(sm) + i * sizeof(a), sizeof(a));
		if (a.size == 0 || ((a.offset | a.size) & (page - 1)) || a.offset > whole || a.size > whole - a.offset) {
			LOG_WARN("sparse mmap area 0x%llx+0x%llx outside a 0x%llx-byte region or not page aligned: "
				 "ignored", (unsigned long long)a.offset, (unsigned long long)a.size,
				 (unsigned long long)size);
			continue;
		}
		if (*n == max) {
			LOG_WARN("more than %u sparse mmap areas: the rest is reached by read/write", max);
			break;
		}
		out[*n].off = a.offset;
		out[*n].len = a.size;
		(*n)++;
	}
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * DMA through the kernel's IOMMU: the caller's IOVA is programmed as is
 * (FIXED), so the bus address the device uses is the IOVA. Before asking
 * the kernel we check what it told us: the IOVA ranges it accepts (reserved
 * windows such as the x86 MSI range 0xfee00000 are holes), the smallest
 * IOMMU page, and (type1) how many mappings are left.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "log.h"
#include "vfio.h"

#define RANGES_MAX_QUERY 1024u /* we ask for at most this many IOVA ranges */

static void keep_range(struct vfio_dma_ctx *v, const char *bdf, uint64_t start, uint64_t last)
{
	if (last < start) {
		LOG_WARN("%s: IOVA range 0x%llx..0x%llx is empty or inverted: ignored", bdf, (unsigned long long)start,
			 (unsigned long long)last);
		return;
	}
	if (v->niova == VFIO_MAX_IOVA_RANGES) {
		LOG_WARN("%s: more than %u IOVA ranges: the rest is not used", bdf, VFIO_MAX_IOVA_RANGES);
		return;
	}
	v->iova[v->niova].start = start;
	v->iova[v->niova].last = last;
	v->niova++;
}

static int probe_type1(struct vfio_dma_ctx *v, const char *bdf)
{
	struct vfio_iommu_type1_info init, info;
	struct vfio_iommu_type1_info_cap_iova_range cr;
	struct vfio_iommu_type1_info_dma_avail da;
	uint8_t *buf;
	size_t len, at;
	int ret;

	memset(&init, 0, sizeof(init));
	ret = vfio_info_get(v->container, VFIO_IOMMU_GET_INFO, "VFIO_IOMMU_GET_INFO", &init, sizeof(init),
			    (void **)&buf, &len);
	if (ret)
		return ret;
	memcpy(&info, buf, sizeof(info));
	if (info.flags & VFIO_IOMMU_INFO_PGSIZES)
		v->iova_pgsizes = info.iova_pgsizes;
	if ((info.flags & VFIO_IOMMU_INFO_CAPS) && info.cap_offset) {
		ret = vfio_cap_find(buf, len, sizeof(info), info.cap_offset, VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
				    sizeof(cr), &at);
		if (ret == 0) {
			memcpy(&cr, buf + at, sizeof(cr));
			if (cr.nr_iovas > (len - at - sizeof(cr)) / sizeof(struct vfio_iova_range)) {
				LOG_ERR("%s: VFIO_IOMMU_GET_INFO: %u IOVA ranges announced, fewer in the reply", bdf,
					cr.nr_iovas);
				ret = -EPROTO;
			}
			for (uint32_t i = 0; ret == 0 && i < cr.nr_iovas; i++) {
				struct vfio_iova_range r;

				memcpy(&r, buf + at + sizeof(cr) + i * sizeof(r), sizeof(r));
				keep_range(v, bdf, r.start, r.end);
			}
		} else if (ret != -ENOENT) {
			LOG_ERR("%s: VFIO_IOMMU_GET_INFO: malformed capability chain (%s)", bdf, strerror(-ret));
		}
		if (vfio_cap_find(buf, len, sizeof(info), info.cap_offset, VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, sizeof(da),
				  &at) == 0) {
			memcpy(&da, buf + at, sizeof(da));
			v->dma_avail = da.avail;
		}
	}
	free(buf);
	return ret == -ENOENT ? 0 : ret;
}

static int probe_iommufd(struct vfio_dma_ctx *v, const char *bdf)
{
	struct iommu_ioas_iova_ranges q;
	struct iommu_iova_range *r = NULL;
	int ret = 0;

	memset(&q, 0, sizeof(q));
	q.size = sizeof(q);
	q.ioas_id = v->ioas;
	/* First ask how many (EMSGSIZE with the count), then fetch them. */
	if (ioctl(v->iommufd, IOMMU_IOAS_IOVA_RANGES, &q) != 0 && errno != EMSGSIZE) {
		ret = -errno;
		LOG_ERR("%s: IOMMU_IOAS_IOVA_RANGES: %s", bdf, strerror(-ret));
		return ret;
	}
	if (q.num_iovas > RANGES_MAX_QUERY) {
		LOG_ERR("%s: IOMMU_IOAS_IOVA_RANGES: %u ranges (at most %u accepted)", bdf, q.num_iovas,
			RANGES_MAX_QUERY);
		return -EPROTO;
	}
	if (q.num_iovas) {
		uint32_t want = q.num_iovas;

		r = calloc(want, sizeof(*r));
		if (!r)
			return -ENOMEM;
		q.allowed_iovas = (uintptr_t)r;
		if (ioctl(v->iommufd, IOMMU_IOAS_IOVA_RANGES, &q) != 0) {
			ret = -errno;
			LOG_ERR("%s: IOMMU_IOAS_IOVA_RANGES: %s", bdf, strerror(-ret));
			free(r);
			return ret;
		}
		for (uint32_t i = 0; i < q.num_iovas && i < want; i++)
			keep_range(v, bdf, r[i].start, r[i].last);
		free(r);
	}
	/* The alignment is the IOMMU page the IOAS needs: a power of two. */
	if (q.out_iova_alignment && !(q.out_iova_alignment & (q.out_iova_alignment - 1)))
		v->iova_pgsizes = q.out_iova_alignment;
	return 0;
}

int vfio_dma_probe(struct vfio_dma_ctx *c, const char *bdf)
{
	c->niova = 0;
	c->iova_pgsizes = 0;
	c->dma_avail = -1;
	return c->path == VFIO_PATH_IOMMUFD ? probe_iommufd(c, bdf) : probe_type1(c, bdf);
}

int vfio_dma_ranges(struct upci_dev *dev, struct upci_iova_range *out, unsigned max)
{
	const struct vfio_dma_ctx *c = vfio_of(dev)->ctx;
	unsigned n = 0;

	if (c->niova == 0 && max) { /* the kernel said nothing: anything goes */
		out[0].start = 0;
		out[0].last = UINT64_MAX;
		return 1;
	}
	for (; n < c->niova && n < max; n++) {
		out[n].start = c->iova[n].start;
		out[n].last = c->iova[n].last;
	}
	return (int)n;
}

/* The IOMMU's smallest page; the host page when the kernel did not say. */
static uint64_t granule(const struct upci_dev *dev, const struct vfio_dma_ctx *v)
{
	uint64_t g = v->iova_pgsizes & (~v->iova_pgsizes + 1);

	return g ? g : dev->page_size;
}

static int range_ok(const struct vfio_dma_ctx *v, uint64_t iova, uint64_t len)
{
	uint64_t last = iova + len - 1;

	if (v->niova == 0)
		return 1;
	for (unsigned i = 0; i < v->niova; i++)
		if (iova >= v->iova[i].start && last <= v->iova[i].last)
			return 1;
	return 0;
}

int vfio_dma_map(struct upci_dev *dev, uint64_t iova, void *vaddr, uint64_t len, unsigned flags, int fd,
		 uint64_t fd_off, uint64_t *bus)
{
	struct vfio_dev *d = vfio_of(dev);
	struct vfio_dma_ctx *v = d->ctx;
	uint64_t g = granule(dev, v);
	int ret = 0;

	(void)fd; /* the kernel pins the pages of @vaddr: no fd needed */
	(void)fd_off;
	if ((iova | len | (uintptr_t)vaddr) & (g - 1)) {
		LOG_ERR("%s: DMA map 0x%llx+0x%llx: not aligned to the IOMMU's %llu-byte pages", d->bdf,
			(unsigned long long)iova, (unsigned long long)len, (unsigned long long)g);
		return -EINVAL;
	}
	if (!range_ok(v, iova, len)) {
		LOG_ERR("%s: DMA map 0x%llx+0x%llx: outside the IOVA ranges the IOMMU accepts", d->bdf,
			(unsigned long long)iova, (unsigned long long)len);
		return -ERANGE;
	}
	if (v->dma_avail == 0) {
		LOG_ERR("%s: DMA map: the IOMMU's mapping limit is reached", d->bdf);
		return -ENOSPC;
	}
	if (v->path == VFIO_PATH_IOMMUFD) {
		struct iommu_ioas_map m;

		memset(&m, 0, sizeof(m));
		m.size = sizeof(m);
		m.flags = IOMMU_IOAS_MAP_FIXED_IOVA;
		m.flags |= (flags & UPCI_DMA_READ) ? IOMMU_IOAS_MAP_READABLE : 0;
		m.flags |= (flags & UPCI_DMA_WRITE) ? IOMMU_IOAS_MAP_WRITEABLE : 0;
		m.ioas_id = v->ioas;
		m.user_va = (uintptr_t)vaddr;
		m.length = len;
		m.iova = iova;
		if (ioctl(v->iommufd, IOMMU_IOAS_MAP, &m) != 0)
			ret = -errno;
	} else {
		struct vfio_iommu_type1_dma_map m;

		memset(&m, 0, sizeof(m));
		m.argsz = sizeof(m);
		m.flags |= (flags & UPCI_DMA_READ) ? VFIO_DMA_MAP_FLAG_READ : 0;
		m.flags |= (flags & UPCI_DMA_WRITE) ? VFIO_DMA_MAP_FLAG_WRITE : 0;
		m.vaddr = (uintptr_t)vaddr;
		m.iova = iova;
		m.size = len;
		if (ioctl(v->container, VFIO_IOMMU_MAP_DMA, &m) != 0)
			ret = -errno;
	}
	if (ret) {
		LOG_ERR("%s: %s iova 0x%llx len 0x%llx: %s%s", d->bdf,
			v->path == VFIO_PATH_IOMMUFD ? "IOMMU_IOAS_MAP" : "VFIO_IOMMU_MAP_DMA", (unsigned long long)iova,
			(unsigned long long)len, strerror(-ret),
			ret == -ENOMEM ? " (locked memory limit? see ulimit -l)" : "");
		return ret;
	}
	if (v->dma_avail > 0)
		v->dma_avail--;
	*bus = iova; /* no translation between IOVA and bus address on Linux */
	return 0;
}

int vfio_dma_unmap(struct upci_dev *dev, uint64_t iova, uint64_t len, uint64_t bus)
{
	struct vfio_dev *d = vfio_of(dev);
	struct vfio_dma_ctx *v = d->ctx;
	uint64_t done;
	int ret = 0;

	(void)bus;
	if (v->path == VFIO_PATH_IOMMUFD) {
		struct iommu_ioas_unmap u;

		memset(&u, 0, sizeof(u));
		u.size = sizeof(u);
		u.ioas_id = v->ioas;
		u.iova = iova;
		u.length = len;
		if (ioctl(v->iommufd, IOMMU_IOAS_UNMAP, &u) != 0)
			ret = -errno;
		done = u.length;
	} else {
		struct vfio_iommu_type1_dma_unmap u;

		memset(&u, 0, sizeof(u));
		u.argsz = sizeof(u);
		u.iova = iova;
		u.size = len;
		if (ioctl(v->container, VFIO_IOMMU_UNMAP_DMA, &u) != 0)
			ret = -errno;
		done = u.size;
	}
	if (ret) {
		LOG_ERR("%s: %s iova 0x%llx len 0x%llx: %s", d->bdf,
			v->path == VFIO_PATH_IOMMUFD ? "IOMMU_IOAS_UNMAP" : "VFIO_IOMMU_UNMAP_DMA", (unsigned long long)iova,
			(unsigned long long)len, strerror(-ret));
		return ret;
	}
	if (done != len)
		LOG_WARN("%s: DMA unmap iova 0x%llx: the kernel unmapped 0x%llx bytes, not 0x%llx", d->bdf,
			 (unsigned long long)iova, (unsigned long long)done, (unsigned long long)len);
	if (v->dma_avail >= 0)
		v->dma_avail++;
	return 0;
}

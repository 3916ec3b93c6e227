/* SPDX-License-Identifier: MIT */
/*
 * Regions over vfio-user: the device and region infos read at open (which
 * fill the identity and the BARs), and BAR mapping through the fd the
 * server passed with the region info, at its sparse-mmap areas. A BAR is
 * mapped only when those areas cover all of it: a hole (an MSI-X table the
 * server traps) would fault on access, so such a BAR is not mappable and
 * goes through upci_mmio_read/write instead. The same goes for an fd that
 * cannot hold the areas (fd_check): a page past the end of a file is
 * SIGBUS on access, and the server must not be able to kill us.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h> /* ANON_INODE_FS_MAGIC; the backend is Linux only */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "log.h"
#include "msg.h"
#include "pci_regs.h"
#include "vu.h"

/* Caps in one region info we walk at most: a loop guard. */
#define VU_MAX_CAPS 16u

/* ---- BAR mapping ---- */

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

static int refuse(const struct vu_conn *c, unsigned index, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Log why region @index's fd is not mapped; the BAR stays reachable by
 * REGION_READ/WRITE. Return: -ENOTSUP. */
static int refuse(const struct vu_conn *c, unsigned index, const char *fmt, ...)
{
	char text[96];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	LOG_WARN("vfio-user %s: region %u: the server's fd %s; not mapping it, accesses go through the server",
		 c->name, index, text);
	return -ENOTSUP;
}

/*
 * Can the server's fd for region @index be mapped at r's areas without a
 * fault? Checked at open and again before every mapping (the server may
 * change the file meanwhile).
 *   - A file with a size (memfd, tmpfs, a file on disk) must hold every
 *     area. A server that shrinks it later still faults our mapping
 *     (SIGBUS); nothing can check that, except a seal: a memfd sealed
 *     with F_SEAL_SHRINK cannot shrink.
 *   - Device memory (a character device, or an anonymous-inode fd such as
 *     a VFIO device's, which `upci serve vfio:` passes) has no size to
 *     check: its driver refuses an mmap past what it backs.
 *   - Anything else (a pipe, a socket, a directory) is refused.
 * *@rdonly: only a read-only mapping works (fd opened read-only, or
 * sealed against writes).
 * Return: 0, or -ENOTSUP with the reason logged.
 */
static int fd_check(const struct vu_conn *c, unsigned index, const struct vu_region *r, bool *rdonly)
{
	/* areas_cover: the areas end at r->size, and this does not wrap. */
	uint64_t need = r->mmap_off + r->size;
	struct stat st;
	struct statfs sf;
	int fl, seals;

	fl = fcntl(r->fd, F_GETFL);
	if (fl < 0 || fstat(r->fd, &st) != 0 || fstatfs(r->fd, &sf) != 0)
		return refuse(c, index, "cannot be examined (%s)", upci_strerror(-errno));
	if ((fl & O_ACCMODE) == O_WRONLY)
		return refuse(c, index, "is write-only");
	*rdonly = (fl & O_ACCMODE) == O_RDONLY;
	if (sf.f_type == ANON_INODE_FS_MAGIC || S_ISCHR(st.st_mode))
		return 0;
	if (!S_ISREG(st.st_mode))
		return refuse(c, index, "is not memory (file type 0%o)", (unsigned)(st.st_mode & S_IFMT));
	if (st.st_size < 0 || (uint64_t)st.st_size < need)
		return refuse(c, index, "holds 0x%llx bytes, its areas end at 0x%llx", (unsigned long long)st.st_size,
			      (unsigned long long)need);
	seals = fcntl(r->fd, F_GET_SEALS); /* -1 (EINVAL) for a file that takes none */
	if (seals > 0 && (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)))
		*rdonly = true;
	return 0;
}

/* Writable mappings for a region that is writable, unless the fd allows
 * only reading. */
static bool map_writable(const struct vu_region *r)
{
	return (r->flags & VFU_REGION_INFO_F_WRITE) && !r->map_rdonly;
}

int vu_bar_map(struct upci_dev *dev, unsigned bar, void **addr)
{
	const struct vu_region *r = &vu_of(dev)->reg[bar];
	int prot = PROT_READ | (map_writable(r) ? PROT_WRITE : 0);
	bool rdonly = false;
	uint8_t *base;

	if (!r->mappable)
		return -ENOTSUP;
	/* Again: the BAR's flags promised this much at open. */
	if (fd_check(&vu_of(dev)->c, bar, r, &rdonly) != 0 || (rdonly && (prot & PROT_WRITE)))
		return -ENOTSUP;
	/* Reserve the whole range, then put every area in place over it. */
	base = mmap(NULL, r->size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return -errno;
	for (unsigned i = 0; i < r->nareas; i++) {
		const struct vfu_sparse_mmap_area *a = &r->areas[i];

		if (mmap(base + a->offset, a->size, prot, MAP_SHARED | MAP_FIXED, r->fd,
			 (off_t)(r->mmap_off + a->offset)) == MAP_FAILED) {
			int e = -errno;

			LOG_ERR("vfio-user %s: mmap of BAR%u area 0x%llx+0x%llx: %s", vu_of(dev)->c.name, bar,
				(unsigned long long)a->offset, (unsigned long long)a->size, upci_strerror(e));
			munmap(base, r->size);
			return e;
		}
	}
	*addr = base;
	return 0;
}

void vu_bar_unmap(struct upci_dev *dev, unsigned bar, void *addr)
{
	munmap(addr, vu_of(dev)->reg[bar].size);
}

/* A mappable BAR is the fd from mmap_off on, in one piece (the areas cover
 * it at their own offsets): `upci serve vfio-user:...` can pass it on. */
int vu_bar_fd(struct upci_dev *dev, unsigned bar, int *fd, uint64_t *offset)
{
	const struct vu_region *r = &vu_of(dev)->reg[bar];
	bool rdonly = false;

	if (!r->mappable || !map_writable(r) || fd_check(&vu_of(dev)->c, bar, r, &rdonly) != 0 || rdonly)
		return -ENOTSUP;
	*fd = r->fd;
	*offset = r->mmap_off;
	return 0;
}

/* ---- region info ---- */

static int area_cmp(const void *a, const void *b)
{
	const struct vfu_sparse_mmap_area *x = a, *y = b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/*
 * Can the region be mapped whole? Every area must lie inside the region,
 * be page aligned (in the region and in the fd) and, sorted, they must
 * leave no gap from 0 to the end.
 */
static bool areas_cover(struct vu_region *r, uint64_t page)
{
	uint64_t end = 0;

	if (r->fd < 0 || r->nareas == 0 || r->size == 0 || ((r->size | r->mmap_off) & (page - 1)))
		return false;
	/* mmap takes size_t and off_t: a size past either would be cut short
	 * (32-bit) or make the offset checks below wrap. */
	if (r->size > SIZE_MAX || r->size > (uint64_t)INT64_MAX)
		return false;
	for (unsigned i = 0; i < r->nareas; i++) {
		const struct vfu_sparse_mmap_area *a = &r->areas[i];

		if (a->size == 0 || a->offset > r->size || a->size > r->size - a->offset)
			return false;
		if ((a->offset | a->size) & (page - 1))
			return false;
		if (r->mmap_off + a->offset < r->mmap_off || r->mmap_off + a->offset > (uint64_t)INT64_MAX - a->size)
			return false;
	}
	qsort(r->areas, r->nareas, sizeof(r->areas[0]), area_cmp);
	for (unsigned i = 0; i < r->nareas; i++) {
		if (r->areas[i].offset > end)
			return false; /* a trapped hole */
		if (r->areas[i].offset + r->areas[i].size > end)
			end = r->areas[i].offset + r->areas[i].size;
	}
	return end == r->size;
}

/* find_sparse(): 1 when a sparse-mmap cap was found (even with no areas),
 * 0 when there is none. */
#define SPARSE_FOUND 1

/* The sparse-mmap cap, if the chain inside @p[0..len) has one. */
static int find_sparse(const struct vu_conn *c, const uint8_t *p, size_t len, uint32_t at, struct vu_region *r)
{
	for (unsigned n = 0; at != 0; n++) {
		struct vfu_cap_hdr h;
		struct vfu_region_cap_sparse_mmap s;

		if (n == VU_MAX_CAPS || at < sizeof(struct vfu_region_info) || at > len || len - at < sizeof(h))
			goto bad;
		memcpy(&h, p + at, sizeof(h));
		if (h.id == VFU_REGION_INFO_CAP_SPARSE_MMAP) {
			if (len - at < sizeof(s))
				goto bad;
			memcpy(&s, p + at, sizeof(s));
			if (s.nr_areas > (len - at - sizeof(s)) / sizeof(struct vfu_sparse_mmap_area))
				goto bad;
			/* Zero areas means nothing may be mapped (VFIO's meaning),
			 * not "the whole region". */
			if (s.nr_areas == 0)
				return SPARSE_FOUND;
			r->areas = calloc(s.nr_areas, sizeof(*r->areas));
			if (!r->areas)
				return -ENOMEM;
			memcpy(r->areas, p + at + sizeof(s), s.nr_areas * sizeof(*r->areas));
			r->nareas = s.nr_areas;
			return SPARSE_FOUND;
		}
		if (h.next != 0 && h.next <= at)
			goto bad; /* only forward: no loops */
		at = h.next;
	}
	return 0;
bad:
	LOG_ERR("vfio-user %s: region info capability chain is malformed", c->name);
	return -EPROTO;
}

/* GET_REGION_INFO for @index, again with the size the server says it needs. */
static int region_info(struct vu_conn *c, uint32_t index, uint64_t page, struct vu_region *r)
{
	uint32_t argsz = 256;
	struct vfu_region_info ri;
	struct vfu_msg rep;
	int rc;

	for (int attempt = 0;; attempt++) {
		struct vfu_region_info q = {.argsz = argsz, .index = index};
		struct iovec iov = {.iov_base = &q, .iov_len = sizeof(q)};

		rc = vu_call(c, VFU_CMD_DEVICE_GET_REGION_INFO, &iov, 1, NULL, 0, 1, &rep);
		if (rc)
			return rc;
		memcpy(&ri, rep.payload, sizeof(ri));
		if (ri.index != index) {
			LOG_ERR("vfio-user %s: asked for region %u, got the info of region %u", c->name, index,
				ri.index);
			rc = -EPROTO;
			goto out;
		}
		if (ri.argsz <= argsz || rep.len >= ri.argsz || attempt > 0 || ri.argsz > VU_REGION_INFO_MAX)
			break;
		argsz = ri.argsz; /* the caps did not fit: ask again with room */
		vfu_msg_release(&rep);
	}
	r->size = ri.size;
	r->flags = ri.flags;
	r->mmap_off = ri.offset;
	if ((ri.flags & VFU_REGION_INFO_F_MMAP) && rep.nr_fds == 1)
		r->fd = vfu_msg_take_fd(&rep, 0);
	else if (ri.flags & VFU_REGION_INFO_F_MMAP)
		LOG_WARN("vfio-user %s: region %u is mappable but came without an fd", c->name, index);
	if ((ri.flags & VFU_REGION_INFO_F_CAPS) && rep.len < ri.argsz) {
		/* The caps still do not fit: without the sparse areas a hole could
		 * be mapped, so do not map at all. */
		LOG_WARN("vfio-user %s: region %u info of %u bytes is too large; not mapping it", c->name, index,
			 ri.argsz);
		goto out;
	}
	if ((ri.flags & VFU_REGION_INFO_F_CAPS) && ri.cap_offset)
		rc = find_sparse(c, rep.payload, rep.len, ri.cap_offset, r);
	if (rc == SPARSE_FOUND)
		rc = 0;
	else if (rc == 0 && r->fd >= 0 && !r->areas) {
		/* No sparse cap: the whole region is one area. */
		r->areas = calloc(1, sizeof(*r->areas));
		if (!r->areas) {
			rc = -ENOMEM;
			goto out;
		}
		r->areas[0].offset = 0;
		r->areas[0].size = r->size;
		r->nareas = 1;
	}
	if (rc == 0)
		r->mappable = (r->flags & VFU_REGION_INFO_F_READ) && areas_cover(r, page) &&
			      fd_check(c, index, r, &r->map_rdonly) == 0;
out:
	vfu_msg_release(&rep); /* closes an fd nobody asked for */
	return rc;
}

static void region_clear(struct vu_region *r)
{
	if (r->fd >= 0)
		close(r->fd);
	free(r->areas);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

void vu_region_fini(struct vu_dev *v)
{
	for (unsigned i = 0; i < VU_NUM_REGIONS; i++)
		region_clear(&v->reg[i]);
}

static int device_info(struct vu_dev *v)
{
	struct vfu_device_info q = {.argsz = sizeof(q)}, info;
	struct iovec iov = {.iov_base = &q, .iov_len = sizeof(q)};
	struct vfu_msg rep;
	int rc;

	rc = vu_call(&v->c, VFU_CMD_DEVICE_GET_INFO, &iov, 1, NULL, 0, 0, &rep);
	if (rc)
		return rc;
	memcpy(&info, rep.payload, sizeof(info));
	vfu_msg_release(&rep);
	if (!(info.flags & VFU_DEVICE_F_PCI) || info.num_regions < VU_NUM_REGIONS) {
		LOG_ERR("vfio-user %s: not a PCI device (flags 0x%x, %u regions)", v->c.name, info.flags,
			info.num_regions);
		return -ENODEV;
	}
	v->dev_flags = info.flags;
	v->num_regions = info.num_regions;
	v->num_irqs = info.num_irqs;
	return 0;
}

static uint64_t le_get(const uint8_t *b, unsigned width)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < width; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static uint32_t hdr32(const uint8_t *h, unsigned off)
{
	return (uint32_t)le_get(h + off, 4);
}

/* BAR kinds come from the BAR registers; sizes and mmap from the regions. */
static void fill_bars(struct upci_dev *dev, struct vu_dev *v, const uint8_t *hdr)
{
	for (unsigned b = 0; b < UPCI_NUM_BARS; b++) {
		const struct vu_region *r = &v->reg[b];
		uint32_t reg = hdr32(hdr, PCI_BAR_OFFSET(b));
		uint32_t fl = UPCI_BAR_PRESENT;

		dev->bars[b].size = 0;
		dev->bars[b].flags = 0;
		if (r->size == 0)
			continue;
		if (reg & 1u) {
			fl |= UPCI_BAR_IO;
		} else {
			if ((reg & 6u) == 4u && b + 1 < UPCI_NUM_BARS)
				fl |= UPCI_BAR_MEM64;
			if (reg & 8u)
				fl |= UPCI_BAR_PREFETCH;
		}
		if (r->mappable)
			fl |= UPCI_BAR_MAPPABLE | (map_writable(r) ? 0 : UPCI_BAR_MAP_RDONLY);
		dev->bars[b].size = r->size;
		dev->bars[b].flags = fl;
		if (fl & UPCI_BAR_MEM64) {
			/* The upper half is no BAR of its own, whatever the server says. */
			region_clear(&v->reg[b + 1]);
			dev->bars[b + 1].size = 0;
			dev->bars[b + 1].flags = 0;
			b++;
		}
	}
}

static void fill_identity(struct upci_dev *dev, const struct vu_dev *v, const uint8_t *hdr)
{
	struct upci_identity *id = &dev->ident;
	const char *base = strrchr(v->path, '/');

	id->domain = 0; /* a socket has no PCI address */
	id->bus = 0;
	id->device = 0;
	id->function = 0;
	id->vendor_id = (uint16_t)le_get(hdr + PCI_VENDOR_ID, 2);
	id->device_id = (uint16_t)le_get(hdr + PCI_DEVICE_ID, 2);
	id->revision = hdr[PCI_REVISION_ID];
	id->class_code = hdr32(hdr, PCI_REVISION_ID) >> 8;
	id->subsys_vendor_id = (uint16_t)le_get(hdr + PCI_SUBSYSTEM_VENDOR_ID, 2);
	id->subsys_id = (uint16_t)le_get(hdr + PCI_SUBSYSTEM_ID, 2);
	id->config_size = (uint32_t)v->reg[VFU_PCI_CONFIG_REGION_INDEX].size;
	base = base && base[1] ? base + 1 : v->path;
	snprintf(id->name, sizeof(id->name), "%s", base);
}

int vu_region_probe(struct upci_dev *dev, struct vu_dev *v)
{
	uint8_t hdr[PCI_STD_HEADER_SIZE];
	const struct vu_region *cfg = &v->reg[VFU_PCI_CONFIG_REGION_INDEX];
	int rc;

	for (unsigned i = 0; i < VU_NUM_REGIONS; i++) {
		memset(&v->reg[i], 0, sizeof(v->reg[i]));
		v->reg[i].fd = -1;
	}
	rc = device_info(v);
	for (unsigned i = 0; rc == 0 && i < VU_NUM_REGIONS; i++)
		if (i <= VFU_PCI_BAR5_REGION_INDEX || i == VFU_PCI_CONFIG_REGION_INDEX)
			rc = region_info(&v->c, i, dev->page_size, &v->reg[i]);
	if (rc)
		return rc;
	if ((cfg->size != 256 && cfg->size != 4096) || !(cfg->flags & VFU_REGION_INFO_F_READ)) {
		LOG_ERR("vfio-user %s: config space region of 0x%llx bytes (flags 0x%x) is not PCI config space",
			v->c.name, (unsigned long long)cfg->size, cfg->flags);
		return -EPROTO;
	}
	/* One message for the whole standard header. */
	rc = vu_region_read(&v->c, VFU_PCI_CONFIG_REGION_INDEX, 0, hdr, sizeof(hdr));
	if (rc)
		return rc;
	fill_identity(dev, v, hdr);
	fill_bars(dev, v, hdr);
	return 0;
}

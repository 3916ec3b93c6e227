/* SPDX-License-Identifier: MIT */
/*
 * VFIO regions: config space and BARs are windows of the device fd at the
 * offsets VFIO_DEVICE_GET_REGION_INFO reports. Config space and BARs that
 * cannot be mapped are reached by pread/pwrite; a BAR is mapped only where
 * the sparse-mmap capability allows (the MSI-X table and PBA are often
 * left out), the holes staying inaccessible (PROT_NONE).
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"
#include "pci_regs.h"
#include "vfio.h"

static uint64_t page_up(uint64_t x, uint64_t page)
{
	return (x + page - 1) & ~(page - 1);
}

static int region_info(struct upci_dev *dev, unsigned idx)
{
	struct vfio_dev *v = vfio_of(dev);
	struct vfio_region *r = &v->regions[idx];
	struct vfio_region_info init = {.index = idx};
	struct vfio_region_info ri;
	uint8_t *buf;
	size_t len;
	int ret;

	ret = vfio_info_get(v->device, VFIO_DEVICE_GET_REGION_INFO, "VFIO_DEVICE_GET_REGION_INFO", &init, sizeof(init),
			    (void **)&buf, &len);
	if (ret)
		return ret;
	memcpy(&ri, buf, sizeof(ri));
	if (ri.size && ri.offset + ri.size < ri.offset) {
		LOG_ERR("%s: VFIO_DEVICE_GET_REGION_INFO(%u): offset 0x%llx + size 0x%llx wraps", v->bdf, idx,
			(unsigned long long)ri.offset, (unsigned long long)ri.size);
		free(buf);
		return -EPROTO;
	}
	r->size = ri.size;
	r->offset = ri.offset;
	r->flags = ri.flags;
	r->nareas = 0;
	if (ri.size && (ri.flags & VFIO_REGION_INFO_FLAG_MMAP)) {
		ret = vfio_mmap_areas(buf, len, (ri.flags & VFIO_REGION_INFO_FLAG_CAPS) ? ri.cap_offset : 0, ri.size,
				      dev->page_size, r->areas, VFIO_MAX_AREAS, &r->nareas);
		if (ret) {
			LOG_ERR("%s: VFIO_DEVICE_GET_REGION_INFO(%u): malformed sparse-mmap capability (%s): region not "
				"mapped", v->bdf, idx, strerror(-ret));
			r->nareas = 0;
		}
	}
	free(buf);
	if (r->size && upci_log_enabled(UPCI_LOG_DEBUG)) {
		char areas[160] = "";

		for (unsigned i = 0; i < r->nareas; i++)
			snprintf(areas + strlen(areas), sizeof(areas) - strlen(areas), " 0x%llx+0x%llx",
				 (unsigned long long)r->areas[i].off, (unsigned long long)r->areas[i].len);
		LOG_DBG("%s: region %u: 0x%llx bytes at 0x%llx, flags 0x%x, mmap:%s", v->bdf, idx,
			(unsigned long long)r->size, (unsigned long long)r->offset, r->flags, r->nareas ? areas : " none");
	}
	return 0;
}

static int cfg_pread(struct vfio_dev *v, void *buf, size_t len, uint32_t off)
{
	const struct vfio_region *r = &v->regions[VFIO_PCI_CONFIG_REGION_INDEX];
	ssize_t n = pread(v->device, buf, len, (off_t)(r->offset + off));

	if (n == (ssize_t)len)
		return 0;
	LOG_ERR("%s: config read of %zu bytes at 0x%x: %s", v->bdf, len, off, n < 0 ? strerror(errno) : "short read");
	return n < 0 ? -errno : -EIO;
}

void vfio_refresh_command(struct vfio_dev *v)
{
	uint16_t cmd;

	if (cfg_pread(v, &cmd, sizeof(cmd), PCI_COMMAND) == 0)
		v->mem_decode = !!(le16toh(cmd) & PCI_COMMAND_MEMORY);
	else
		v->mem_decode = 0;
}

static uint32_t le32_at(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Identity and BAR kinds from the header, BAR sizes from the regions. */
static void describe(struct upci_dev *dev, const uint8_t *h)
{
	struct vfio_dev *v = vfio_of(dev);
	struct upci_identity *id = &dev->ident;

	id->vendor_id = (uint16_t)(h[PCI_VENDOR_ID] | h[PCI_VENDOR_ID + 1] << 8);
	id->device_id = (uint16_t)(h[PCI_DEVICE_ID] | h[PCI_DEVICE_ID + 1] << 8);
	id->subsys_vendor_id = (uint16_t)(h[PCI_SUBSYSTEM_VENDOR_ID] | h[PCI_SUBSYSTEM_VENDOR_ID + 1] << 8);
	id->subsys_id = (uint16_t)(h[PCI_SUBSYSTEM_ID] | h[PCI_SUBSYSTEM_ID + 1] << 8);
	id->revision = h[PCI_REVISION_ID];
	id->class_code = le32_at(h + PCI_REVISION_ID) >> 8;
	snprintf(id->name, sizeof(id->name), "%s", v->bdf);
	for (unsigned b = 0; b < UPCI_NUM_BARS; b++) {
		const struct vfio_region *r = &v->regions[b];
		uint32_t reg = le32_at(h + PCI_BAR_OFFSET(b));
		struct upci_bar_info *bi = &dev->bars[b];

		memset(bi, 0, sizeof(*bi));
		if (r->size == 0)
			continue; /* absent, or the upper half of a 64-bit BAR */
		bi->size = r->size;
		bi->flags = UPCI_BAR_PRESENT;
		if (reg & PCI_BAR_SPACE_IO) {
			bi->flags |= UPCI_BAR_IO;
			continue; /* port I/O: pread/pwrite only */
		}
		if ((reg & PCI_BAR_MEM_TYPE_MASK) == PCI_BAR_MEM_TYPE_64)
			bi->flags |= UPCI_BAR_MEM64;
		if (reg & PCI_BAR_MEM_PREFETCH)
			bi->flags |= UPCI_BAR_PREFETCH;
		if (r->nareas > 0) {
			bi->flags |= UPCI_BAR_MAPPABLE;
			if (!(r->flags & VFIO_REGION_INFO_FLAG_WRITE))
				bi->flags |= UPCI_BAR_MAP_RDONLY;
		}
	}
}

int vfio_regions_probe(struct upci_dev *dev)
{
	struct vfio_dev *v = vfio_of(dev);
	const struct vfio_region *cfg = &v->regions[VFIO_PCI_CONFIG_REGION_INDEX];
	uint8_t hdr[PCI_STD_HEADER_SIZE];
	int ret;

	for (unsigned i = 0; i <= VFIO_PCI_CONFIG_REGION_INDEX; i++) {
		ret = region_info(dev, i);
		if (ret && i == VFIO_PCI_CONFIG_REGION_INDEX)
			return ret;
		if (ret) /* a BAR we cannot describe is a BAR we do not offer */
			memset(&v->regions[i], 0, sizeof(v->regions[i]));
	}
	if (cfg->size < PCI_CFG_SIZE) {
		LOG_ERR("%s: VFIO_DEVICE_GET_REGION_INFO(config): %llu bytes of config space", v->bdf,
			(unsigned long long)cfg->size);
		return -EPROTO;
	}
	dev->ident.config_size = cfg->size >= PCIE_CFG_SIZE ? PCIE_CFG_SIZE : PCI_CFG_SIZE;
	ret = cfg_pread(v, hdr, sizeof(hdr), 0);
	if (ret)
		return ret;
	describe(dev, hdr);
	vfio_refresh_command(v);
	return 0;
}

int vfio_cfg_read(struct upci_dev *dev, uint32_t off, unsigned width, uint32_t *val)
{
	uint8_t b[4] = {0};
	int ret = cfg_pread(vfio_of(dev), b, width, off);

	if (ret == 0)
		*val = le32_at(b);
	return ret;
}

int vfio_cfg_read_block(struct upci_dev *dev, uint32_t off, void *buf, size_t len)
{
	return cfg_pread(vfio_of(dev), buf, len, off); /* one pread: the kernel walks it */
}

int vfio_cfg_write(struct upci_dev *dev, uint32_t off, unsigned width, uint32_t val)
{
	struct vfio_dev *v = vfio_of(dev);
	const struct vfio_region *r = &v->regions[VFIO_PCI_CONFIG_REGION_INDEX];
	uint8_t b[4] = {(uint8_t)val, (uint8_t)(val >> 8), (uint8_t)(val >> 16), (uint8_t)(val >> 24)};
	ssize_t n = pwrite(v->device, b, width, (off_t)(r->offset + off));

	if (n != (ssize_t)width) {
		LOG_ERR("%s: config write of %u bytes at 0x%x: %s", v->bdf, width, off,
			n < 0 ? strerror(errno) : "short write");
		return n < 0 ? -errno : -EIO;
	}
	if (off <= PCI_COMMAND + 1 && off + width > PCI_COMMAND)
		vfio_refresh_command(v);
	return 0;
}

/* Map a region as one range: the areas at their offsets over a PROT_NONE
 * reservation, so that holes fault instead of reaching something else. */
static int map_region(struct vfio_dev *v, unsigned idx, uint64_t page, void **out)
{
	const struct vfio_region *r = &v->regions[idx];
	uint64_t total = page_up(r->size, page);
	int prot = PROT_READ | ((r->flags & VFIO_REGION_INFO_FLAG_WRITE) ? PROT_WRITE : 0);
	uint8_t *base;

	if (r->nareas == 1 && r->areas[0].off == 0 && r->areas[0].len == total) {
		base = mmap(NULL, total, prot, MAP_SHARED, v->device, (off_t)r->offset);
		if (base == MAP_FAILED) {
			int e = errno;

			LOG_ERR("%s: mmap of BAR%u (%llu bytes): %s", v->bdf, idx, (unsigned long long)total, strerror(e));
			return -e;
		}
		*out = base;
		return 0;
	}
	base = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return -errno;
	for (unsigned i = 0; i < r->nareas; i++) {
		const struct vfio_area *a = &r->areas[i];
		void *p = mmap(base + a->off, a->len, prot, MAP_SHARED | MAP_FIXED, v->device, (off_t)(r->offset + a->off));

		if (p == MAP_FAILED) {
			int e = errno;

			LOG_ERR("%s: mmap of BAR%u area 0x%llx+0x%llx: %s", v->bdf, idx, (unsigned long long)a->off,
				(unsigned long long)a->len, strerror(e));
			munmap(base, total);
			return -e;
		}
	}
	*out = base;
	return 0;
}

int vfio_bar_map(struct upci_dev *dev, unsigned bar, void **addr)
{
	return map_region(vfio_of(dev), bar, dev->page_size, addr);
}

void vfio_bar_unmap(struct upci_dev *dev, unsigned bar, void *addr)
{
	munmap(addr, page_up(vfio_of(dev)->regions[bar].size, dev->page_size));
}

int vfio_bar_fd(struct upci_dev *dev, unsigned bar, int *fd, uint64_t *offset)
{
	struct vfio_dev *v = vfio_of(dev);
	const struct vfio_region *r = &v->regions[bar];

	/* Only a BAR that maps whole and writable: the other process cannot
	 * know about holes through this interface. */
	if (!(dev->bars[bar].flags & UPCI_BAR_MAPPABLE) || (dev->bars[bar].flags & UPCI_BAR_MAP_RDONLY) ||
	    r->nareas != 1 || r->areas[0].off != 0 || r->areas[0].len < r->size)
		return -ENOTSUP;
	*fd = v->device;
	*offset = r->offset;
	return 0;
}

void vfio_regions_unmap(struct vfio_dev *v)
{
	long ps = sysconf(_SC_PAGESIZE);

	for (unsigned b = 0; b < UPCI_NUM_BARS; b++) {
		struct vfio_region *r = &v->regions[b];

		if (r->mmio)
			munmap(r->mmio, page_up(r->size, ps > 0 ? (uint64_t)ps : 4096));
		r->mmio = NULL;
	}
}

/* Our mapping of @bar if [off, off+width) lies in a mapped area and the
 * device decodes memory; NULL means: use pread/pwrite. */
static volatile uint8_t *mmio_ptr(struct upci_dev *dev, unsigned bar, uint64_t off, unsigned width)
{
	struct vfio_dev *v = vfio_of(dev);
	struct vfio_region *r = &v->regions[bar];
	void *p;

	if (!(dev->bars[bar].flags & UPCI_BAR_MAPPABLE) || !v->mem_decode || r->mmio_failed)
		return NULL;
	for (unsigned i = 0; i < r->nareas; i++) {
		if (off < r->areas[i].off || off + width > r->areas[i].off + r->areas[i].len)
			continue;
		if (!r->mmio) {
			if (map_region(v, bar, dev->page_size, &p) != 0) {
				r->mmio_failed = 1;
				return NULL;
			}
			r->mmio = p;
		}
		return (volatile uint8_t *)r->mmio + off;
	}
	return NULL;
}

static int bar_pio(struct vfio_dev *v, unsigned bar, uint64_t off, unsigned width, uint64_t *val, int write)
{
	const struct vfio_region *r = &v->regions[bar];
	uint8_t b[8] = {0};
	ssize_t n;

	if (write) {
		for (unsigned i = 0; i < width; i++)
			b[i] = (uint8_t)(*val >> (8 * i));
		n = pwrite(v->device, b, width, (off_t)(r->offset + off));
	} else {
		n = pread(v->device, b, width, (off_t)(r->offset + off));
	}
	if (n != (ssize_t)width) {
		int e = n < 0 ? errno : EIO;

		LOG_ERR("%s: BAR%u %s of %u bytes at 0x%llx: %s", v->bdf, bar, write ? "write" : "read", width,
			(unsigned long long)off, n < 0 ? strerror(e) : "short transfer");
		return -e;
	}
	if (!write) {
		*val = 0;
		for (unsigned i = 0; i < width; i++)
			*val |= (uint64_t)b[i] << (8 * i);
	}
	return 0;
}

int vfio_mmio_read(struct upci_dev *dev, unsigned bar, uint64_t off, unsigned width, uint64_t *val)
{
	volatile uint8_t *p = mmio_ptr(dev, bar, off, width);

	if (!p)
		return bar_pio(vfio_of(dev), bar, off, width, val, 0);
	/* One access of exactly @width (natural alignment checked by core). */
	switch (width) {
	case 1: *val = *p; break;
	case 2: *val = le16toh(*(volatile uint16_t *)(volatile void *)p); break;
	case 4: *val = le32toh(*(volatile uint32_t *)(volatile void *)p); break;
	default: *val = le64toh(*(volatile uint64_t *)(volatile void *)p); break;
	}
	return 0;
}

int vfio_mmio_write(struct upci_dev *dev, unsigned bar, uint64_t off, unsigned width, uint64_t val)
{
	volatile uint8_t *p = mmio_ptr(dev, bar, off, width);

	if (!p)
		return bar_pio(vfio_of(dev), bar, off, width, &val, 1);
	switch (width) {
	case 1: *p = (uint8_t)val; break;
	case 2: *(volatile uint16_t *)(volatile void *)p = htole16((uint16_t)val); break;
	case 4: *(volatile uint32_t *)(volatile void *)p = htole32((uint32_t)val); break;
	default: *(volatile uint64_t *)(volatile void *)p = htole64(val); break;
	}
	return 0;
}

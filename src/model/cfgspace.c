/* SPDX-License-Identifier: MIT */
/* Emulated config space: bytes plus write and write-1-to-clear masks. */
#include "cfgspace.h"

#include <string.h>

#include "pci_regs.h"
#include "upci/upci.h"

uint32_t cfgspace_get(const struct cfgspace *c, unsigned off, unsigned width)
{
	uint32_t v = 0;

	if (width > 4 || off > c->size || width > c->size - off)
		return 0;
	for (unsigned i = 0; i < width; i++)
		v |= (uint32_t)c->data[off + i] << (8 * i);
	return v;
}

void cfgspace_put(struct cfgspace *c, unsigned off, unsigned width, uint32_t val)
{
	if (width > 4 || off > c->size || width > c->size - off)
		return;
	for (unsigned i = 0; i < width; i++)
		c->data[off + i] = (uint8_t)(val >> (8 * i));
}

static void put_mask(uint8_t *m, uint32_t size, unsigned off, unsigned width, uint32_t mask)
{
	if (width > 4 || off > size || width > size - off)
		return;
	for (unsigned i = 0; i < width; i++)
		m[off + i] = (uint8_t)(mask >> (8 * i));
}

void cfgspace_set_wmask(struct cfgspace *c, unsigned off, unsigned width, uint32_t mask)
{
	put_mask(c->wmask, c->size, off, width, mask);
}

void cfgspace_set_w1cmask(struct cfgspace *c, unsigned off, unsigned width, uint32_t mask)
{
	put_mask(c->w1cmask, c->size, off, width, mask);
}

void cfgspace_init(struct cfgspace *c, uint32_t size)
{
	memset(c, 0, sizeof(*c));
	c->size = size == PCIE_CFG_SIZE ? PCIE_CFG_SIZE : PCI_CFG_SIZE;
	cfgspace_set_wmask(c, PCI_COMMAND, 2,
			   PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY |
				   PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
	cfgspace_set_w1cmask(c, PCI_STATUS, 2, PCI_STATUS_W1C_MASK);
	cfgspace_set_wmask(c, PCI_CACHE_LINE_SIZE, 1, 0xff);
	cfgspace_set_wmask(c, PCI_LATENCY_TIMER, 1, 0xff);
	cfgspace_set_wmask(c, PCI_INTERRUPT_LINE, 1, 0xff);
}

void cfgspace_set_ids(struct cfgspace *c, uint16_t vendor, uint16_t device, uint16_t subvendor, uint16_t subdevice,
		      uint8_t revision, uint32_t class_code)
{
	cfgspace_put(c, PCI_VENDOR_ID, 2, vendor);
	cfgspace_put(c, PCI_DEVICE_ID, 2, device);
	cfgspace_put(c, PCI_SUBSYSTEM_VENDOR_ID, 2, subvendor);
	cfgspace_put(c, PCI_SUBSYSTEM_ID, 2, subdevice);
	cfgspace_put(c, PCI_REVISION_ID, 1, revision);
	cfgspace_put(c, PCI_CLASS_PROG, 1, class_code & 0xff);
	cfgspace_put(c, PCI_CLASS_DEVICE, 2, (class_code >> 8) & 0xffff);
}

void cfgspace_set_bar(struct cfgspace *c, unsigned n, uint64_t size, uint32_t flags)
{
	unsigned off;
	uint32_t type;
	uint64_t amask;

	if (n >= UPCI_NUM_BARS || size == 0 || (size & (size - 1)) != 0)
		return;
	off = PCI_BAR_OFFSET(n);
	if (flags & UPCI_BAR_IO) {
		if (size < 4)
			size = 4;
		type = PCI_BAR_SPACE_IO;
		cfgspace_put(c, off, 4, type);
		cfgspace_set_wmask(c, off, 4, (uint32_t)~(size - 1) & PCI_BAR_IO_ADDR_MASK);
		return;
	}
	if (size < 16)
		size = 16;
	type = (flags & UPCI_BAR_MEM64) ? PCI_BAR_MEM_TYPE_64 : PCI_BAR_MEM_TYPE_32;
	if (flags & UPCI_BAR_PREFETCH)
		type |= PCI_BAR_MEM_PREFETCH;
	amask = ~(size - 1);
	cfgspace_put(c, off, 4, type);
	cfgspace_set_wmask(c, off, 4, (uint32_t)amask & PCI_BAR_MEM_ADDR_MASK);
	if ((flags & UPCI_BAR_MEM64) && n + 1 < UPCI_NUM_BARS) {
		cfgspace_put(c, off + 4, 4, 0);
		cfgspace_set_wmask(c, off + 4, 4, (uint32_t)(amask >> 32));
	}
}

unsigned cfgspace_add_cap(struct cfgspace *c, uint8_t id, unsigned off, unsigned len)
{
	unsigned ptr = PCI_CAPABILITY_LIST;
	unsigned guard = 0;

	if (off < PCI_STD_HEADER_SIZE || off >= PCI_CFG_SIZE || (off & 3) || len < 2 || off + len > PCI_CFG_SIZE)
		return 0;
	/* Find the end of the chain; the guard stops a corrupted list. */
	while (c->data[ptr] != 0 && guard++ < 48)
		ptr = (unsigned)c->data[ptr] + PCI_CAP_LIST_NEXT;
	c->data[ptr] = (uint8_t)off;
	c->data[off + PCI_CAP_LIST_ID] = id;
	c->data[off + PCI_CAP_LIST_NEXT] = 0;
	cfgspace_put(c, PCI_STATUS, 2, cfgspace_get(c, PCI_STATUS, 2) | PCI_STATUS_CAP_LIST);
	return off;
}

unsigned cfgspace_add_ext_cap(struct cfgspace *c, uint16_t id, uint8_t version, unsigned off)
{
	unsigned ptr = PCI_EXT_CAP_START;
	unsigned guard = 0;
	uint32_t hdr = (uint32_t)id | ((uint32_t)(version & 0xf) << 16);

	if (c->size < PCIE_CFG_SIZE || off < PCI_EXT_CAP_START || off > PCIE_CFG_SIZE - 4 || (off & 3))
		return 0;
	if (off != PCI_EXT_CAP_START) {
		if (cfgspace_get(c, PCI_EXT_CAP_START, 4) == 0)
			return 0; /* the chain must start at 0x100 */
		for (;;) {
			uint32_t h = cfgspace_get(c, ptr, 4);
			unsigned next = PCI_EXT_CAP_NEXT(h);

			if (next == 0 || guard++ > 960)
				break;
			ptr = next;
		}
		cfgspace_put(c, ptr, 4, (cfgspace_get(c, ptr, 4) & 0x000fffffu) | ((uint32_t)off << 20));
	}
	cfgspace_put(c, off, 4, hdr);
	return off;
}

void cfgspace_commit_reset_image(struct cfgspace *c)
{
	memcpy(c->reset_image, c->data, sizeof(c->data));
}

void cfgspace_reset(struct cfgspace *c)
{
	memcpy(c->data, c->reset_image, sizeof(c->data));
}

uint32_t cfgspace_read(const struct cfgspace *c, unsigned off, unsigned width)
{
	if ((width != 1 && width != 2 && width != 4) || off > c->size || width > c->size - off)
		return width >= 4 ? 0xffffffffu : ((1u << (8 * width)) - 1);
	return cfgspace_get(c, off, width);
}

void cfgspace_write(struct cfgspace *c, unsigned off, unsigned width, uint32_t val)
{
	if ((width != 1 && width != 2 && width != 4) || off > c->size || width > c->size - off)
		return;
	for (unsigned i = 0; i < width; i++) {
		uint8_t b = (uint8_t)(val >> (8 * i));
		uint8_t wm = c->wmask[off + i];
		uint8_t w1c = c->w1cmask[off + i];
		uint8_t cur = c->data[off + i];

		cur = (uint8_t)((cur & ~wm) | (b & wm));
		cur = (uint8_t)(cur & ~(b & w1c));
		c->data[off + i] = cur;
	}
}

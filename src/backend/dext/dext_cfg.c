/* SPDX-License-Identifier: MIT */
/*
 * Config space through the driver. ConfigRead of 1, 2 or 4 bytes is all
 * the protocol has (there is no memory type for config space), so a block
 * read costs one 4-byte ConfigRead per dword it covers. The driver
 * synthesizes the BAR registers (type bits, address 0) for 4-byte reads
 * only; narrower reads there go through the dword too, so that every width
 * agrees. Writes pass dext_policy.c first.
 *
 * Until some client of the driver has claimed the device, PCIDriverKit
 * reads config space all ones (its IOPCIDevice reaches the device only
 * through the client that opened it: PCIDriverKit/IOPCIDevice.cpp, and
 * IOPCIFamily's _MemoryAccess refuses everyone else). A register can
 * read all ones for real, so such a value is checked against the vendor
 * ID, which never does on a device that answers: -EACCES when it does.
 */
#include <errno.h>

#include "dext.h"
#include "log.h"
#include "pci_regs.h"

static int overlaps(uint32_t off, unsigned len, uint32_t start, uint32_t slen)
{
	return off < start + slen && start < off + len;
}

/* A value of all ones just came back: was there config access at all? */
static int check_access(io_connect_t port)
{
	uint32_t vendor = 0;
	int ret = dext_config_read(port, PCI_VENDOR_ID, 2, &vendor);

	if (ret == 0 && vendor == 0xffffu) {
		LOG_DBG("dext: config space reads all ones: nobody has the device open");
		return -EACCES;
	}
	return ret;
}

static int read_one(io_connect_t port, uint32_t off, unsigned width, uint32_t *val)
{
	uint32_t dw;
	int ret;

	if (width < 4 && overlaps(off, width, PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_5 + 4 - PCI_BASE_ADDRESS_0)) {
		ret = dext_config_read(port, off & ~3u, 4, &dw);
		if (ret == 0)
			*val = (dw >> (8 * (off & 3))) & (width == 1 ? 0xffu : 0xffffu);
	} else {
		ret = dext_config_read(port, off, width, val);
	}
	return ret;
}

int dext_cfg_read(io_connect_t port, uint32_t off, unsigned width, uint32_t *val)
{
	int ret = read_one(port, off, width, val);

	if (ret == 0 && *val == (width == 4 ? 0xffffffffu : (1u << (8 * width)) - 1))
		ret = check_access(port);
	return ret;
}

/* The covering dwords, one ConfigRead each. */
int dext_cfg_read_block(io_connect_t port, uint32_t off, uint8_t *buf, size_t len)
{
	uint32_t end = off + (uint32_t)len;
	int ones = 0;

	for (uint32_t at = off & ~3u; at < end; at += 4) {
		uint32_t dw;
		int ret = read_one(port, at, 4, &dw);

		if (ret)
			return ret;
		ones |= dw == 0xffffffffu;
		for (uint32_t i = 0; i < 4; i++)
			if (at + i >= off && at + i < end)
				buf[at + i - off] = (uint8_t)(dw >> (8 * i));
	}
	return ones ? check_access(port) : 0;
}

int dext_cfg_write(io_connect_t port, const struct dext_policy *p, const char *uri, uint32_t off, unsigned width,
		   uint32_t val)
{
	unsigned mask = dext_policy_write_mask(p, off, width);
	unsigned full = (1u << width) - 1;

	if (mask == full)
		return dext_config_write(port, off, width, val);
	if (mask != 0)
		LOG_INFO("%s: config write 0x%03x/%u: host-owned bytes dropped", uri, off, width);
	else
		LOG_INFO("%s: config write 0x%03x/%u dropped: the host owns it", uri, off, width);
	/* Forward the allowed bytes in naturally aligned pieces. */
	for (unsigned i = 0; i < width;) {
		unsigned w = 1;
		int ret;

		if (!(mask & (1u << i))) {
			i++;
			continue;
		}
		if (((off + i) & 1) == 0 && i + 2 <= width && ((mask >> i) & 3u) == 3u)
			w = 2;
		ret = dext_config_write(port, off + i, w, (val >> (8 * i)) & ((1u << (8 * w)) - 1));
		if (ret)
			return ret;
		i += w;
	}
	return 0;
}


/* SPDX-License-Identifier: MIT */
/*
 * Which config-space writes may reach a device behind the dext. The host
 * owns these, as in the macOS QEMU series:
 *   - the BAR registers (0x10-0x27): the platform assigned the addresses
 *     (the driver even hides them from reads);
 *   - STATUS: its error bits belong to the host's error handling;
 *   - the MSI capability: the driver programmed the message address/data;
 *   - PCIe DevCtl and DevCtl2: changing MPS/MRRS under live DMA mappings
 *     caused completion timeouts.
 * COMMAND and everything else are forwarded. A dropped byte behaves like a
 * read-only bit: the write succeeds and changes nothing.
 */
#include <string.h>

#include "caps.h"
#include "dext.h"
#include "pci_regs.h"

/* Length of the MSI capability from its flags (PCI 3.0, 6.8.1). */
static uint16_t msi_length(uint16_t flags)
{
	uint16_t len = (flags & PCI_MSI_FLAGS_64BIT) ? 14 : 10;

	if (flags & PCI_MSI_FLAGS_MASKBIT)
		len += 10; /* reserved, mask bits, pending bits */
	return len;
}

void dext_policy_init(struct dext_policy *p, const uint8_t *cfg, size_t len)
{
	struct cfg_snapshot c = {cfg, len};

	memset(p, 0, sizeof(*p));
	p->msi = (uint16_t)caps_find(&c, PCI_CAP_ID_MSI);
	if (p->msi)
		p->msi_len = msi_length(cfg_get16(&c, p->msi + PCI_MSI_FLAGS));
	p->exp = (uint16_t)caps_find(&c, PCI_CAP_ID_EXP);
}

static int in(uint32_t byte, uint32_t start, uint32_t len)
{
	return byte >= start && byte - start < len;
}

static int host_owned(const struct dext_policy *p, uint32_t byte)
{
	if (in(byte, PCI_STATUS, 2) || in(byte, PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_5 + 4 - PCI_BASE_ADDRESS_0))
		return 1;
	if (p->msi && in(byte, p->msi, p->msi_len))
		return 1;
	if (p->exp && (in(byte, p->exp + PCI_EXP_DEVCTL, 2) || in(byte, p->exp + PCI_EXP_DEVCTL2, 2)))
		return 1;
	return 0;
}

unsigned dext_policy_write_mask(const struct dext_policy *p, uint32_t off, unsigned width)
{
	unsigned mask = 0;

	for (unsigned i = 0; i < width && i < 8; i++)
		if (!host_owned(p, off + i))
			mask |= 1u << i;
	return mask;
}

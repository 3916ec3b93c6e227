/* SPDX-License-Identifier: MIT */
/*
 * What a connection learns about its device, and when. GetBARInfo works
 * on an unopened device (IOPCIFamily IOPCIDevice.cpp GetBARInfo reads the
 * platform's tables), so the BARs' sizes and kinds are known at connect.
 * Everything else waits for the device to be open: PCIDriverKit reads
 * config space all ones before (IOPCIDevice.cpp _MemoryAccess:
 * kIOReturnNotOpen), and a BAR cannot be mapped before
 * (_CopyDeviceMemoryWithIndex: kIOReturnNotOpen, which xnu reports as
 * kIOReturnBadArgument like any failed mapping). So the header
 * (capabilities, vector counts, the write policy) is read and the BAR
 * mappings are tried once the driver's Claim succeeded.
 */
#include <errno.h>
#include <string.h>

#include "caps.h"
#include "core.h"
#include "dext.h"
#include "log.h"
#include "pci_regs.h"

void dext_state_bars(struct dext_conn *c)
{
	for (unsigned b = 0; b < UPCI_NUM_BARS; b++) {
		struct dext_bar *x = &c->bar[b];
		uint32_t flags = UPCI_BAR_PRESENT;

		/* Unused BARs and upper halves of 64-bit ones answer an error. */
		if (dext_bar_info(c->port, b, x) != 0 || x->size == 0) {
			memset(x, 0, sizeof(*x));
			c->bar_flags[b] = 0;
			continue;
		}
		if (x->type & DEXT_BAR_TYPE_IO) {
			flags |= UPCI_BAR_IO;
		} else {
			if ((x->type & DEXT_BAR_TYPE_MEM_MASK) == DEXT_BAR_TYPE_MEM64)
				flags |= UPCI_BAR_MEM64;
			if (x->type & DEXT_BAR_TYPE_PREFETCH)
				flags |= UPCI_BAR_PREFETCH;
			/* The dext hands every memory BAR to a claimed client;
			 * the probe at the claim corrects this where not. */
			flags |= UPCI_BAR_MAPPABLE;
		}
		c->bar_flags[b] = flags;
		if ((flags & UPCI_BAR_MEM64) && b + 1 < UPCI_NUM_BARS)
			c->bar_flags[++b] = 0; /* the upper half is not a BAR of its own */
	}
}

void dext_state_probe(struct dext_conn *c)
{
	for (unsigned b = 0; b < UPCI_NUM_BARS; b++) {
		uint64_t size = 0;
		void *addr;
		int ret;

		if (!(c->bar_flags[b] & UPCI_BAR_MAPPABLE))
			continue;
		ret = dext_map(c->port, DEXT_MEM_BAR(b), dext_bar_map_options(c->bar[b].type), &addr, &size);
		if (ret == 0) {
			dext_unmap(c->port, DEXT_MEM_BAR(b), addr);
			if (size >= c->bar[b].size)
				continue;
		}
		/* xnu reports every failure as kIOReturnBadArgument: there is
		 * no telling "not now" from "never". Claimed, it is never. */
		LOG_INFO("dext:%s: BAR%u cannot be mapped (%s); MMIO goes through MMIORead/MMIOWrite", c->name, b,
			 ret ? upci_strerror(ret) : "short mapping");
		c->bar_flags[b] &= ~UPCI_BAR_MAPPABLE;
	}
	c->probed = 1;
}

int dext_state_header(struct dext_conn *c)
{
	uint8_t hdr[PCI_CFG_SIZE];
	struct cfg_snapshot s = {hdr, sizeof(hdr)};
	struct msix_decode x;
	struct msi_decode m;
	int ret;

	if (c->have_cfg)
		return 0;
	ret = dext_cfg_read_block(c->port, 0, hdr, sizeof(hdr));
	if (ret)
		return ret;
	if (msix_decode(&s, &x) == 0)
		c->msix_nvec = x.table_size > DEXT_MAX_VECTORS ? DEXT_MAX_VECTORS : x.table_size;
	if (msi_decode(&s, &m) == 0)
		c->msi_nvec = m.vectors_capable;
	c->pin = cfg_get8(&s, PCI_INTERRUPT_PIN);
	dext_policy_init(&c->policy, hdr, sizeof(hdr));
	c->have_cfg = 1;
	return 0;
}

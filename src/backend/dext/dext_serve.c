/* SPDX-License-Identifier: MIT */
/*
 * dext_policy.c as the vfio-user server's config-write policy (the hook in
 * src/vfio-user/srv_policy.h), for `upci serve dext:...`. The backend
 * already never lets a host-owned byte reach the device; this decides what
 * the client sees when it writes one:
 *   - STATUS alone: dropped (its error bits are write-1-to-clear; a shadow
 *     would make them stick);
 *   - BAR registers, the MSI capability, DevCtl/DevCtl2: emulated, so the
 *     client reads back what it wrote, as Linux vfio-pci virtualizes them;
 *     a DevCtl write with Initiate FLR set resets the function first (the
 *     driver's ResetDevice), as vfio-pci does;
 *   - a write mixing both kinds (COMMAND and STATUS as one dword):
 *     forwarded, and the backend drops the host's bytes.
 */
#include "dext.h"
#include "dext_serve.h"
#include "pci_regs.h"
#include "srv_policy.h"

static int status_only(uint32_t off, unsigned width)
{
	return off >= PCI_STATUS && off + width <= PCI_STATUS + 2;
}

static int serve_config_write(void *opaque, upci_dev *dev, uint32_t off, unsigned width, uint32_t *val)
{
	struct dext_policy pol;
	const struct dext_policy *p = &pol;
	unsigned mask;
	int ret;

	(void)opaque;
	if (!dext_policy_of(dev, &pol))
		return VFU_CFG_FORWARD; /* not a dext device: nothing to protect */
	mask = dext_policy_write_mask(p, off, width);
	if (mask == (1u << width) - 1)
		return VFU_CFG_FORWARD;
	if (mask != 0)
		return VFU_CFG_FORWARD;
	if (status_only(off, width))
		return VFU_CFG_DROP;
	if (p->exp && off <= p->exp + PCI_EXP_DEVCTL + 1u && off + width > p->exp + PCI_EXP_DEVCTL + 1u &&
	    ((*val >> (8 * (p->exp + PCI_EXP_DEVCTL + 1u - off))) & (PCI_EXP_DEVCTL_BCR_FLR >> 8))) {
		ret = upci_reset(dev);
		if (ret)
			return ret;
		*val &= ~(uint32_t)((PCI_EXP_DEVCTL_BCR_FLR >> 8) << (8 * (p->exp + PCI_EXP_DEVCTL + 1u - off)));
	}
	return VFU_CFG_EMULATE;
}

const struct vfu_cfg_policy upci_dext_serve_policy = {
	.name = "dext",
	.config_write = serve_config_write,
};

const struct vfu_cfg_policy *upci_dext_cfg_policy(upci_dev *dev)
{
	struct dext_policy p;

	return dext_policy_of(dev, &p) ? &upci_dext_serve_policy : NULL;
}

/* SPDX-License-Identifier: MIT */
/* MSI and MSI-X delivery rules, shared by the models. */
#include <errno.h>
#include <string.h>

#include "model.h"
#include "pci_regs.h"

/* A function may send no message while Bus Master Enable is clear (PCI
 * 3.0 6.8): the message is dropped, as QEMU's devices drop it. */
static int bus_master(const struct model *m)
{
	return (cfgspace_get(&m->cfg, PCI_COMMAND, 2) & PCI_COMMAND_MASTER) != 0;
}

int model_msi_notify(struct model *m, unsigned cap, unsigned vec)
{
	uint16_t flags;
	unsigned enabled, mask_off, pend_off;

	if (cap == 0 || cap + PCI_MSI_FLAGS + 2 > m->cfg.size)
		return -EINVAL;
	flags = (uint16_t)cfgspace_get(&m->cfg, cap + PCI_MSI_FLAGS, 2);
	if (vec >= 32u || vec >= (1u << ((flags & PCI_MSI_FLAGS_QMASK) >> PCI_MSI_FLAGS_QMASK_SHIFT)))
		return -EINVAL;
	if (!(flags & PCI_MSI_FLAGS_ENABLE) || !bus_master(m))
		return 0;
	/* Multiple Message Enable above what is capable is clamped. */
	enabled = 1u << ((flags & PCI_MSI_FLAGS_QSIZE) >> PCI_MSI_FLAGS_QSIZE_SHIFT);
	if (vec >= enabled)
		return 0;
	if (flags & PCI_MSI_FLAGS_MASKBIT) {
		int is64 = !!(flags & PCI_MSI_FLAGS_64BIT);

		mask_off = cap + (is64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32);
		pend_off = cap + (is64 ? PCI_MSI_PENDING_64 : PCI_MSI_PENDING_32);
		if (cfgspace_get(&m->cfg, mask_off, 4) & (1u << vec)) {
			cfgspace_put(&m->cfg, pend_off, 4, cfgspace_get(&m->cfg, pend_off, 4) | (1u << vec));
			return 0;
		}
	}
	if (m->host && m->host->msi)
		m->host->msi(m->host->opaque, vec);
	return 1;
}

static int msix_deliverable(struct model *m, const struct msix_state *x, unsigned vec)
{
	uint16_t ctl = (uint16_t)cfgspace_get(&m->cfg, x->cap + PCI_MSIX_FLAGS, 2);
	uint32_t vctl;

	if (!(ctl & PCI_MSIX_FLAGS_ENABLE) || (ctl & PCI_MSIX_FLAGS_MASKALL))
		return 0;
	memcpy(&vctl, x->table + (size_t)vec * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_CTRL, 4);
	return !(vctl & PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

int model_msix_notify(struct model *m, struct msix_state *x, unsigned vec)
{
	uint16_t ctl;

	if (vec >= x->nvec)
		return -EINVAL;
	ctl = (uint16_t)cfgspace_get(&m->cfg, x->cap + PCI_MSIX_FLAGS, 2);
	if (!(ctl & PCI_MSIX_FLAGS_ENABLE))
		return 0;
	if (!msix_deliverable(m, x, vec)) {
		x->pba[vec / 64] |= 1ull << (vec % 64);
		return 0;
	}
	if (!bus_master(m))
		return 0;
	if (m->host && m->host->msi)
		m->host->msi(m->host->opaque, vec);
	return 1;
}

void model_msix_replay(struct model *m, struct msix_state *x)
{
	uint16_t ctl = (uint16_t)cfgspace_get(&m->cfg, x->cap + PCI_MSIX_FLAGS, 2);

	/* Nothing can leave while disabled, function-masked or not bus master:
	 * check that once, then visit only the latched vectors. */
	if (!(ctl & PCI_MSIX_FLAGS_ENABLE) || (ctl & PCI_MSIX_FLAGS_MASKALL) || !bus_master(m))
		return;
	for (unsigned w = 0; w < (x->nvec + 63) / 64; w++) {
		uint64_t latched = x->pba[w];

		while (latched) {
			unsigned v = w * 64 + (unsigned)__builtin_ctzll(latched);
			uint64_t bit = latched & -latched;

			latched &= latched - 1;
			if (v >= x->nvec || !msix_deliverable(m, x, v))
				continue;
			x->pba[w] &= ~bit;
			if (m->host && m->host->msi)
				m->host->msi(m->host->opaque, v);
		}
	}
}

void model_msix_reset(struct msix_state *x)
{
	uint32_t masked = PCI_MSIX_ENTRY_CTRL_MASKBIT;

	memset(x->table, 0, (size_t)x->nvec * PCI_MSIX_ENTRY_SIZE);
	for (unsigned v = 0; v < x->nvec; v++)
		memcpy(x->table + (size_t)v * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_CTRL, &masked, 4);
	memset(x->pba, 0, ((size_t)x->nvec + 63) / 64 * sizeof(uint64_t));
}

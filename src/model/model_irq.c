/* SPDX-License-Identifier: MIT */
/*
 * Interrupt rules the runtime applies for every model: MSI (enable,
 * multiple message enable, per-vector mask and pending bits), MSI-X
 * (enable, function mask, vector mask, PBA) and INTx (a level derived from
 * the device's condition, COMMAND.INTX_DISABLE and whether MSI/MSI-X is
 * on). No message leaves without Bus Master Enable (PCI 3.0 6.8): it is
 * dropped, as QEMU's devices drop it.
 */
#include <errno.h>
#include <string.h>

#include "model.h"
#include "pci_regs.h"

static void send_msg(struct upci_model *m, unsigned vec)
{
	if (m->host && m->host->msi)
		m->host->msi(m->host->opaque, vec);
}

static int msi_enabled(const struct upci_model *m)
{
	return m->msi_cap && (model_cfg16(m, m->msi_cap + PCI_MSI_FLAGS) & PCI_MSI_FLAGS_ENABLE);
}

static int msix_enabled(const struct upci_model *m)
{
	return m->msix.cap && (model_cfg16(m, m->msix.cap + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_ENABLE);
}

int upci_model_bus_master(const upci_model *m)
{
	return m && (model_cfg16(m, PCI_COMMAND) & PCI_COMMAND_MASTER) != 0;
}

/* ---- MSI ---- */

/* Offsets of the mask and pending registers, 0 without per-vector masking. */
static unsigned msi_mask_off(const struct upci_model *m, unsigned cap, uint16_t flags, unsigned *pend)
{
	int is64 = !!(flags & PCI_MSI_FLAGS_64BIT);

	(void)m;
	if (!(flags & PCI_MSI_FLAGS_MASKBIT))
		return 0;
	*pend = cap + (is64 ? PCI_MSI_PENDING_64 : PCI_MSI_PENDING_32);
	return cap + (is64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32);
}

int model_msi_notify(struct upci_model *m, unsigned cap, unsigned vec)
{
	uint16_t flags;
	unsigned enabled, mask_off, pend_off = 0;

	if (cap == 0 || cap + PCI_MSI_FLAGS + 2 > m->cfg.size)
		return -EINVAL;
	flags = (uint16_t)cfgspace_get(&m->cfg, cap + PCI_MSI_FLAGS, 2);
	if (vec >= 32u || vec >= (1u << ((flags & PCI_MSI_FLAGS_QMASK) >> PCI_MSI_FLAGS_QMASK_SHIFT)))
		return -EINVAL;
	if (!(flags & PCI_MSI_FLAGS_ENABLE) || !upci_model_bus_master(m))
		return 0;
	/* Multiple Message Enable above what is capable is clamped. */
	enabled = 1u << ((flags & PCI_MSI_FLAGS_QSIZE) >> PCI_MSI_FLAGS_QSIZE_SHIFT);
	if (vec >= enabled)
		return 0;
	mask_off = msi_mask_off(m, cap, flags, &pend_off);
	if (mask_off && (cfgspace_get(&m->cfg, mask_off, 4) & (1u << vec))) {
		cfgspace_put(&m->cfg, pend_off, 4, cfgspace_get(&m->cfg, pend_off, 4) | (1u << vec));
		return 0;
	}
	send_msg(m, vec);
	return 1;
}

void model_msi_replay(struct upci_model *m)
{
	uint16_t flags;
	unsigned mask_off, pend_off = 0, enabled;
	uint32_t go;

	if (!msi_enabled(m) || !upci_model_bus_master(m))
		return;
	flags = model_cfg16(m, m->msi_cap + PCI_MSI_FLAGS);
	mask_off = msi_mask_off(m, m->msi_cap, flags, &pend_off);
	if (!mask_off)
		return;
	/* Only vectors the driver enables now go out (it may have lowered
	 * Multiple Message Enable since they were latched). */
	enabled = 1u << ((flags & PCI_MSI_FLAGS_QSIZE) >> PCI_MSI_FLAGS_QSIZE_SHIFT);
	go = cfgspace_get(&m->cfg, pend_off, 4) & ~cfgspace_get(&m->cfg, mask_off, 4);
	if (enabled < 32)
		go &= (1u << enabled) - 1;
	if (!go)
		return;
	cfgspace_put(&m->cfg, pend_off, 4, cfgspace_get(&m->cfg, pend_off, 4) & ~go);
	while (go) {
		unsigned v = (unsigned)__builtin_ctz(go);

		go &= go - 1;
		send_msg(m, v);
	}
}

/* ---- MSI-X ---- */

static int msix_deliverable(const struct upci_model *m, unsigned vec)
{
	uint16_t ctl = model_cfg16(m, m->msix.cap + PCI_MSIX_FLAGS);
	uint32_t vctl;

	if (!(ctl & PCI_MSIX_FLAGS_ENABLE) || (ctl & PCI_MSIX_FLAGS_MASKALL))
		return 0;
	memcpy(&vctl, m->msix.table + (size_t)vec * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_CTRL, 4);
	return !(vctl & PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

int model_msix_notify(struct upci_model *m, unsigned vec)
{
	struct msix_state *x = &m->msix;

	if (!x->cap || vec >= x->nvec)
		return -EINVAL;
	if (!msix_enabled(m))
		return 0;
	if (!msix_deliverable(m, vec)) {
		x->pba[vec / 64] |= 1ull << (vec % 64);
		return 0;
	}
	if (!upci_model_bus_master(m))
		return 0;
	send_msg(m, vec);
	return 1;
}

void model_msix_replay(struct upci_model *m)
{
	struct msix_state *x = &m->msix;
	uint16_t ctl;

	if (!x->cap)
		return;
	ctl = (uint16_t)cfgspace_get(&m->cfg, x->cap + PCI_MSIX_FLAGS, 2);
	/* Nothing can leave while disabled, function-masked or not bus master:
	 * check that once, then visit only the latched vectors. */
	if (!(ctl & PCI_MSIX_FLAGS_ENABLE) || (ctl & PCI_MSIX_FLAGS_MASKALL) || !upci_model_bus_master(m))
		return;
	for (unsigned w = 0; w < MODEL_PBA_WORDS(x->nvec); w++) {
		uint64_t latched = x->pba[w];

		while (latched) {
			unsigned v = w * 64 + (unsigned)__builtin_ctzll(latched);
			uint64_t bit = latched & -latched;

			latched &= latched - 1;
			if (v >= x->nvec || !msix_deliverable(m, v))
				continue;
			x->pba[w] &= ~bit;
			send_msg(m, v);
		}
	}
}

void model_msix_reset(struct upci_model *m)
{
	struct msix_state *x = &m->msix;
	uint32_t masked = PCI_MSIX_ENTRY_CTRL_MASKBIT;

	if (!x->cap)
		return;
	memset(x->table, 0, (size_t)x->nvec * PCI_MSIX_ENTRY_SIZE);
	for (unsigned v = 0; v < x->nvec; v++)
		memcpy(x->table + (size_t)v * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_CTRL, &masked, 4);
	memset(x->pba, 0, MODEL_PBA_WORDS(x->nvec) * sizeof(uint64_t));
}

/* ---- INTx ---- */

static int has_pin(const struct upci_model *m)
{
	return cfgspace_get(&m->cfg, PCI_INTERRUPT_PIN, 1) != 0;
}

/*
 * INTx is a level derived from state: the device's condition while MSI
 * and MSI-X are off. STATUS.INTERRUPT shows it even when COMMAND's
 * INTx-disable keeps the pin quiet (PCI 3.0, 6.2.3). The host hears of
 * changes; @restate also repeats a high level, so a host that dropped its
 * copy of the level (e.g. when its interrupt set-up was torn down) sees
 * the next raise.
 */
void model_intx_update(struct upci_model *m, int restate)
{
	uint32_t cmd, sts;
	int pending, level;

	if (!has_pin(m))
		return;
	cmd = cfgspace_get(&m->cfg, PCI_COMMAND, 2);
	sts = cfgspace_get(&m->cfg, PCI_STATUS, 2);
	pending = m->intx_level && !msi_enabled(m) && !msix_enabled(m);
	level = pending && !(cmd & PCI_COMMAND_INTX_DISABLE);
	sts = pending ? (sts | PCI_STATUS_INTERRUPT) : (sts & ~PCI_STATUS_INTERRUPT);
	cfgspace_put(&m->cfg, PCI_STATUS, 2, sts);
	if (level == m->intx_pin_out && !(restate && level))
		return;
	m->intx_pin_out = level;
	if (m->host && m->host->intx)
		m->host->intx(m->host->opaque, level);
}

int upci_model_intx(upci_model *m, int level)
{
	if (!m)
		return -EINVAL;
	if (!has_pin(m))
		return -ENOTSUP;
	m->intx_level = !!level;
	model_intx_update(m, 0);
	return 0;
}

int upci_model_irq(upci_model *m, unsigned vec)
{
	if (!m)
		return -EINVAL;
	if (msix_enabled(m))
		return model_msix_notify(m, vec);
	if (msi_enabled(m))
		return model_msi_notify(m, m->msi_cap, vec);
	if (!has_pin(m))
		return 0;
	m->intx_level = 1;
	model_intx_update(m, 1);
	return m->intx_pin_out;
}

void model_irq_cfg_written(struct upci_model *m, unsigned off, unsigned width)
{
	int cmd = model_overlaps(off, width, PCI_COMMAND, 2);

	/* Latched vectors go out once enabled and unmasked, and once bus
	 * mastering comes on. */
	if (m->msix.cap && (cmd || model_overlaps(off, width, m->msix.cap + PCI_MSIX_FLAGS, 2)))
		model_msix_replay(m);
	if (m->msi_cap && (cmd || model_overlaps(off, width, m->msi_cap, 24)))
		model_msi_replay(m);
	/* COMMAND.INTX_DISABLE, MSI or MSI-X enable may have changed the pin. */
	model_intx_update(m, 0);
}

/* SPDX-License-Identifier: MIT */
/* Interrupt set-up on a model, done the way a host kernel does it on real
 * hardware: through the MSI / MSI-X capability, the MSI-X table in the BAR
 * and the COMMAND register, so the model's own rules decide delivery. */
#include <errno.h>

#include "caps.h"
#include "pci_regs.h"
#include "sim.h"

/* A fixed message address/data: only the vector number matters here. */
#define SIM_MSI_ADDR 0xfee00000u

static struct cfg_snapshot snap(struct sim_inst *si)
{
	const struct cfgspace *cs = model_cfg(si->m);
	struct cfg_snapshot c = {cs->data, cs->size};

	return c;
}

unsigned sim_irq_count(struct sim_inst *si, enum upci_irq_type type)
{
	struct cfg_snapshot c = snap(si);
	struct msix_decode x;
	struct msi_decode m;

	switch (type) {
	case UPCI_IRQ_MSIX:
		return msix_decode(&c, &x) == 0 ? x.table_size : 0;
	case UPCI_IRQ_MSI:
		return msi_decode(&c, &m) == 0 ? m.vectors_capable : 0;
	case UPCI_IRQ_INTX:
		return cfg_get8(&c, PCI_INTERRUPT_PIN) ? 1 : 0;
	default:
		return 0;
	}
}

static int msix_program(struct sim_inst *si, unsigned nvec)
{
	struct cfg_snapshot c = snap(si);
	struct msix_decode x;
	uint16_t ctl;

	if (msix_decode(&c, &x))
		return -ENOTSUP;
	/* The table writes below bypass core's MMIO checks: the capability
	 * must place the table inside a BAR the model implements. */
	if (x.table_bar >= UPCI_NUM_BARS || model_bar_get(si->m, x.table_bar)->size == 0 ||
	    x.table_offset > model_bar_get(si->m, x.table_bar)->size ||
	    (uint64_t)x.table_size * PCI_MSIX_ENTRY_SIZE > model_bar_get(si->m, x.table_bar)->size - x.table_offset)
		return -ENOTSUP;
	for (unsigned v = 0; v < x.table_size; v++) {
		uint64_t e = (uint64_t)x.table_offset + (uint64_t)v * PCI_MSIX_ENTRY_SIZE;
		int ret;

		if (v >= nvec) { /* vectors not asked for stay masked */
			ret = model_bar_write(si->m, x.table_bar, e + PCI_MSIX_ENTRY_CTRL, 4,
						    PCI_MSIX_ENTRY_CTRL_MASKBIT);
		} else {
			ret = model_bar_write(si->m, x.table_bar, e + PCI_MSIX_ENTRY_ADDR_LO, 4, SIM_MSI_ADDR);
			if (!ret)
				ret = model_bar_write(si->m, x.table_bar, e + PCI_MSIX_ENTRY_ADDR_HI, 4, 0);
			if (!ret)
				ret = model_bar_write(si->m, x.table_bar, e + PCI_MSIX_ENTRY_DATA, 4, v);
			if (!ret)
				ret = model_bar_write(si->m, x.table_bar, e + PCI_MSIX_ENTRY_CTRL, 4, 0);
		}
		if (ret)
			return ret;
	}
	ctl = (uint16_t)cfgspace_get(model_cfg(si->m), x.offset + PCI_MSIX_FLAGS, 2);
	ctl = (uint16_t)((ctl | PCI_MSIX_FLAGS_ENABLE) & ~PCI_MSIX_FLAGS_MASKALL);
	sim_cfg_write(si, x.offset + PCI_MSIX_FLAGS, 2, ctl);
	return 0;
}

static int msi_program(struct sim_inst *si, unsigned nvec)
{
	struct cfg_snapshot c = snap(si);
	struct msi_decode m;
	unsigned log2n = 0;
	uint16_t flags;

	if (msi_decode(&c, &m))
		return -ENOTSUP;
	while ((1u << log2n) < nvec)
		log2n++;
	sim_cfg_write(si, m.offset + PCI_MSI_ADDRESS_LO, 4, SIM_MSI_ADDR);
	if (m.is_64) {
		sim_cfg_write(si, m.offset + PCI_MSI_ADDRESS_HI, 4, 0);
		sim_cfg_write(si, m.offset + PCI_MSI_DATA_64, 2, 0);
	} else {
		sim_cfg_write(si, m.offset + PCI_MSI_DATA_32, 2, 0);
	}
	flags = (uint16_t)cfgspace_get(model_cfg(si->m), m.offset + PCI_MSI_FLAGS, 2);
	flags = (uint16_t)(flags & ~PCI_MSI_FLAGS_QSIZE);
	flags = (uint16_t)(flags | (log2n << PCI_MSI_FLAGS_QSIZE_SHIFT) | PCI_MSI_FLAGS_ENABLE);
	sim_cfg_write(si, m.offset + PCI_MSI_FLAGS, 2, flags);
	return 0;
}

static void set_intx_disable(struct sim_inst *si, int disable)
{
	uint16_t cmd = (uint16_t)cfgspace_get(model_cfg(si->m), PCI_COMMAND, 2);

	cmd = disable ? (uint16_t)(cmd | PCI_COMMAND_INTX_DISABLE) : (uint16_t)(cmd & ~PCI_COMMAND_INTX_DISABLE);
	sim_cfg_write(si, PCI_COMMAND, 2, cmd);
}

int sim_irq_program(struct sim_inst *si, enum upci_irq_type type, unsigned nvec)
{
	int ret;

	sim_irq_unprogram(si);
	/* Set the routing first: a model may deliver as soon as it is enabled
	 * (latched MSI-X vectors replay on enable). */
	si->irq_type = type;
	si->irq_nvec = nvec;
	switch (type) {
	case UPCI_IRQ_MSIX:
		ret = msix_program(si, nvec);
		break;
	case UPCI_IRQ_MSI:
		ret = msi_program(si, nvec);
		break;
	case UPCI_IRQ_INTX:
		set_intx_disable(si, 0);
		ret = 0;
		break;
	default:
		ret = -EINVAL;
	}
	if (ret) {
		si->irq_type = UPCI_IRQ_NONE;
		si->irq_nvec = 0;
	}
	return ret;
}

void sim_irq_unprogram(struct sim_inst *si)
{
	struct cfg_snapshot c = snap(si);
	struct msix_decode x;
	struct msi_decode m;

	si->irq_type = UPCI_IRQ_NONE;
	si->irq_nvec = 0;
	if (msix_decode(&c, &x) == 0 && x.enabled)
		sim_cfg_write(si, x.offset + PCI_MSIX_FLAGS, 2,
			      cfgspace_get(model_cfg(si->m), x.offset + PCI_MSIX_FLAGS, 2) & ~PCI_MSIX_FLAGS_ENABLE);
	if (msi_decode(&c, &m) == 0 && m.enabled)
		sim_cfg_write(si, m.offset + PCI_MSI_FLAGS, 2,
			      cfgspace_get(model_cfg(si->m), m.offset + PCI_MSI_FLAGS, 2) & ~PCI_MSI_FLAGS_ENABLE);
	si->intx_level = 0;
}

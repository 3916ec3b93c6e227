/* SPDX-License-Identifier: MIT */
/*
 * Identity, capabilities and config access for model authors, and the
 * capability rules upci applies on config writes from the bus (PM state,
 * FLR). Layouts follow PCI 3.0 and PCIe Base 4.0 (names in pci_regs.h).
 */
#include <errno.h>
#include <string.h>

#include "model.h"
#include "pci_regs.h"

/* DEVCTL after reset (PCIe Base 7.5.3.4 defaults): relaxed ordering and
 * no-snoop enabled, max read request 512 bytes (010b). */
#define EXP_DEVCTL_DEFAULT \
	(PCI_EXP_DEVCTL_RELAX_EN | PCI_EXP_DEVCTL_NOSNOOP_EN | (2u << PCI_EXP_DEVCTL_READRQ_SHIFT))
#define EXP_DEVCTL_WMASK                                                                             \
	(PCI_EXP_DEVCTL_CERE | PCI_EXP_DEVCTL_NFERE | PCI_EXP_DEVCTL_FERE | PCI_EXP_DEVCTL_URRE |   \
	 PCI_EXP_DEVCTL_RELAX_EN | PCI_EXP_DEVCTL_PAYLOAD | PCI_EXP_DEVCTL_NOSNOOP_EN |             \
	 PCI_EXP_DEVCTL_READRQ)
/* MSI capability lengths: 32/64-bit address, with or without masking. */
#define MSI_LEN(is64, mask) ((is64) ? ((mask) ? PCI_MSI_PENDING_64 + 4u : PCI_MSI_DATA_64 + 2u) \
				    : ((mask) ? PCI_MSI_PENDING_32 + 4u : PCI_MSI_DATA_32 + 2u))
#define PM_STATE_D1 0x1u
#define PM_STATE_D2 0x2u

static int width_ok(unsigned width)
{
	return width == 1 || width == 2 || width == 4;
}

static int in_cfg(const struct upci_model *m, unsigned off, unsigned width)
{
	return width_ok(width) && off <= m->cfg.size && width <= m->cfg.size - off;
}

static int used(const struct upci_model *m, unsigned off, unsigned len)
{
	for (unsigned i = off; i < off + len; i++)
		if (m->cap_used[i / 8] & (1u << (i % 8)))
			return 1;
	return 0;
}

static void mark(uint8_t *map, unsigned off, unsigned len)
{
	for (unsigned i = off; i < off + len; i++)
		map[i / 8] |= (uint8_t)(1u << (i % 8));
}

/* ---- identity ---- */

int upci_model_set_ids(upci_model *m, uint16_t vendor, uint16_t device, uint16_t subvendor, uint16_t subdevice,
		       uint8_t revision, uint32_t class_code)
{
	if (!m)
		return -EINVAL;
	if (!m->building)
		return -EBUSY;
	if (vendor == 0xffffu || class_code > 0xffffffu)
		return -EINVAL;
	cfgspace_set_ids(&m->cfg, vendor, device, subvendor, subdevice, revision, class_code);
	return 0;
}

int upci_model_set_intx(upci_model *m, unsigned pin)
{
	if (!m)
		return -EINVAL;
	if (!m->building)
		return -EBUSY;
	if (pin > 4)
		return -EINVAL;
	cfgspace_put(&m->cfg, PCI_INTERRUPT_PIN, 1, pin);
	return 0;
}

/* ---- capabilities ---- */

int upci_model_add_cap(upci_model *m, uint8_t id, unsigned off, unsigned len)
{
	if (!m)
		return -EINVAL;
	if (!m->building)
		return -EBUSY;
	if (len < 2 || len > PCI_CFG_SIZE - PCI_STD_HEADER_SIZE)
		return -EINVAL;
	if (off == 0) {
		off = m->cap_end;
		if (off > PCI_CFG_SIZE - len)
			return -ENOSPC;
	}
	if (off < PCI_STD_HEADER_SIZE || (off & 3) || off > PCI_CFG_SIZE - len || used(m, off, len))
		return -EINVAL;
	if (cfgspace_add_cap(&m->cfg, id, off, len) != off)
		return -EINVAL;
	mark(m->cap_used, off, len);
	mark(m->cap_hdr, off, 2);
	if ((off + len + 3u) / 4u * 4u > m->cap_end)
		m->cap_end = (off + len + 3u) / 4u * 4u;
	return (int)off;
}

int upci_model_add_ext_cap(upci_model *m, uint16_t id, unsigned version, unsigned off, unsigned len)
{
	if (!m)
		return -EINVAL;
	if (!m->building)
		return -EBUSY;
	if (m->cfg.size < PCIE_CFG_SIZE || version > 15 || len < 4 || len > PCIE_CFG_SIZE - PCI_EXT_CAP_START)
		return -EINVAL;
	if (off == 0) {
		off = m->ecap_end;
		if (off > PCIE_CFG_SIZE - len)
			return -ENOSPC;
	}
	if (off < PCI_EXT_CAP_START || (off & 3) || off > PCIE_CFG_SIZE - len || used(m, off, len))
		return -EINVAL;
	if (m->ecap_last == 0 && off != PCI_EXT_CAP_START)
		return -EINVAL; /* the chain starts at 0x100 */
	if (cfgspace_add_ext_cap(&m->cfg, id, (uint8_t)version, off) != off)
		return -EINVAL;
	mark(m->cap_used, off, len);
	mark(m->cap_hdr, off, 4);
	m->ecap_last = off;
	if ((off + len + 3u) / 4u * 4u > m->ecap_end)
		m->ecap_end = (off + len + 3u) / 4u * 4u;
	return (int)off;
}

int upci_model_add_pm(upci_model *m, unsigned off, unsigned flags)
{
	int at;
	uint32_t pmc = PCI_PM_PMC_VERSION_1_2;

	if (!m)
		return -EINVAL;
	if (!m->building)
		return -EBUSY;
	if (flags & ~(UPCI_MODEL_PM_D1 | UPCI_MODEL_PM_D2 | UPCI_MODEL_PM_NO_SOFT_RESET))
		return -EINVAL;
	if (m->pm_cap)
		return -EEXIST;
	at = upci_model_add_cap(m, PCI_CAP_ID_PM, off, PCI_PM_SIZEOF);
	if (at < 0)
		return at;
	if (flags & UPCI_MODEL_PM_D1)
		pmc |= PCI_PM_PMC_D1;
	if (flags & UPCI_MODEL_PM_D2)
		pmc |= PCI_PM_PMC_D2;
	cfgspace_put(&m->cfg, (unsigned)at + PCI_PM_PMC, 2, pmc);
	cfgspace_put(&m->cfg, (unsigned)at + PCI_PM_CTRL, 2,
		     (flags & UPCI_MODEL_PM_NO_SOFT_RESET) ? PCI_PM_CTRL_NO_SOFT_RESET : 0);
	cfgspace_set_wmask(&m->cfg, (unsigned)at + PCI_PM_CTRL, 2, PCI_PM_CTRL_STATE_MASK);
	m->pm_cap = (unsigned)at;
	m->pm_state = PCI_PM_STATE_D0;
	return at;
}

int upci_model_add_msi(upci_model *m, unsigned off, unsigned nvec, unsigned flags)
{
	int is64, mask, at;
	unsigned log2n = 0, c;
	uint32_t fl;

	if (!m)
		return -EINVAL;
	if (!m->building)
		return -EBUSY;
	if (nvec == 0 || nvec > 32 || (nvec & (nvec - 1)) || (flags & ~(UPCI_MODEL_MSI_64BIT | UPCI_MODEL_MSI_MASKABLE)))
		return -EINVAL;
	if (m->msi_cap)
		return -EEXIST;
	is64 = !!(flags & UPCI_MODEL_MSI_64BIT);
	mask = !!(flags & UPCI_MODEL_MSI_MASKABLE);
	at = upci_model_add_cap(m, PCI_CAP_ID_MSI, off, MSI_LEN(is64, mask));
	if (at < 0)
		return at;
	c = (unsigned)at;
	while ((1u << log2n) < nvec)
		log2n++;
	fl = log2n << PCI_MSI_FLAGS_QMASK_SHIFT;
	if (is64)
		fl |= PCI_MSI_FLAGS_64BIT;
	if (mask)
		fl |= PCI_MSI_FLAGS_MASKBIT;
	cfgspace_put(&m->cfg, c + PCI_MSI_FLAGS, 2, fl);
	/* Multiple Message Enable is writable whatever is capable; delivery
	 * clamps it (as QEMU's msi_init does). */
	cfgspace_set_wmask(&m->cfg, c + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
	cfgspace_set_wmask(&m->cfg, c + PCI_MSI_ADDRESS_LO, 4, PCI_MSI_ADDRESS_LO_MASK);
	if (is64)
		cfgspace_set_wmask(&m->cfg, c + PCI_MSI_ADDRESS_HI, 4, UINT32_MAX);
	cfgspace_set_wmask(&m->cfg, c + (is64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32), 2, PCI_MSI_DATA_MASK);
	if (mask)
		cfgspace_set_wmask(&m->cfg, c + (is64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32), 4,
				   nvec == 32 ? UINT32_MAX : (1u << nvec) - 1);
	m->msi_cap = c;
	return at;
}

int upci_model_add_pcie(upci_model *m, unsigned off, unsigned type, unsigned flags)
{
	uint32_t wmask = EXP_DEVCTL_WMASK;
	unsigned e;
	int at;

	if (!m)
		return -EINVAL;
	if (!m->building)
		return -EBUSY;
	if ((type != UPCI_MODEL_PCIE_ENDPOINT && type != UPCI_MODEL_PCIE_LEGACY &&
	     type != UPCI_MODEL_PCIE_RC_INTEGRATED) ||
	    (flags & ~UPCI_MODEL_PCIE_FLR))
		return -EINVAL;
	if (m->exp_cap)
		return -EEXIST;
	at = upci_model_add_cap(m, PCI_CAP_ID_EXP, off, PCI_EXP_ENDPOINT_SIZEOF_V2);
	if (at < 0)
		return at;
	e = (unsigned)at;
	m->cfg.size = PCIE_CFG_SIZE;
	cfgspace_put(&m->cfg, e + PCI_EXP_FLAGS, 2, PCI_EXP_FLAGS_VERS_2 | (type << PCI_EXP_FLAGS_TYPE_SHIFT));
	/* Max payload 128 bytes; FLR when asked. */
	cfgspace_put(&m->cfg, e + PCI_EXP_DEVCAP, 4, (flags & UPCI_MODEL_PCIE_FLR) ? PCI_EXP_DEVCAP_FLR : 0);
	cfgspace_put(&m->cfg, e + PCI_EXP_DEVCTL, 2, EXP_DEVCTL_DEFAULT);
	if (flags & UPCI_MODEL_PCIE_FLR)
		wmask |= PCI_EXP_DEVCTL_BCR_FLR;
	cfgspace_set_wmask(&m->cfg, e + PCI_EXP_DEVCTL, 2, wmask);
	cfgspace_set_w1cmask(&m->cfg, e + PCI_EXP_DEVSTA, 2, PCI_EXP_DEVSTA_ERR_MASK);
	/* A root-complex integrated endpoint has no link (its link
	 * registers are reserved). */
	if (type != UPCI_MODEL_PCIE_RC_INTEGRATED) {
		cfgspace_put(&m->cfg, e + PCI_EXP_LNKCAP, 4, PCI_EXP_LNK_SPEED_2_5GT | PCI_EXP_LNKCAP_MLW_X1);
		cfgspace_put(&m->cfg, e + PCI_EXP_LNKSTA, 2, PCI_EXP_LNK_SPEED_2_5GT | PCI_EXP_LNKSTA_NLW_X1);
	}
	m->exp_cap = e;
	m->flr = !!(flags & UPCI_MODEL_PCIE_FLR);
	return at;
}

/* ---- config access for the author ---- */

/* Header bytes a model may store itself: COMMAND, STATUS, cache line
 * size, latency timer, BIST, interrupt line, min grant, max latency. */
static int header_byte_ok(unsigned i)
{
	return (i >= PCI_COMMAND && i < PCI_STATUS + 2) || i == PCI_CACHE_LINE_SIZE || i == PCI_LATENCY_TIMER ||
	       i == PCI_BIST || i == PCI_INTERRUPT_LINE || i == PCI_MIN_GNT || i == PCI_MAX_LAT;
}

uint32_t upci_model_config_get(const upci_model *m, unsigned off, unsigned width)
{
	if (!m || !in_cfg(m, off, width))
		return 0;
	return cfgspace_get(&m->cfg, off, width);
}

int upci_model_config_set(upci_model *m, unsigned off, unsigned width, uint32_t val)
{
	if (!m || !in_cfg(m, off, width))
		return -EINVAL;
	for (unsigned i = off; i < off + width; i++)
		if ((i < PCI_STD_HEADER_SIZE && !header_byte_ok(i)) || (m->cap_hdr[i / 8] & (1u << (i % 8))))
			return -EINVAL;
	cfgspace_put(&m->cfg, off, width, val);
	return 0;
}

static int mask_call(upci_model *m, unsigned off, unsigned width, uint32_t mask, int w1c)
{
	if (!m)
		return -EINVAL;
	if (!m->building)
		return -EBUSY;
	if (!in_cfg(m, off, width) || off < PCI_STD_HEADER_SIZE)
		return -EINVAL;
	for (unsigned i = off; i < off + width; i++)
		if (m->cap_hdr[i / 8] & (1u << (i % 8)))
			return -EINVAL; /* the chain is upci's */
	if (w1c)
		cfgspace_set_w1cmask(&m->cfg, off, width, mask);
	else
		cfgspace_set_wmask(&m->cfg, off, width, mask);
	return 0;
}

int upci_model_config_wmask(upci_model *m, unsigned off, unsigned width, uint32_t mask)
{
	return mask_call(m, off, width, mask, 0);
}

int upci_model_config_w1c(upci_model *m, unsigned off, unsigned width, uint32_t mask)
{
	return mask_call(m, off, width, mask, 1);
}

/* ---- rules on writes from the bus ---- */

uint16_t model_pmcsr(const struct upci_model *m)
{
	return m->pm_cap ? (uint16_t)cfgspace_get(&m->cfg, m->pm_cap + PCI_PM_CTRL, 2) : 0;
}

static int pm_state_ok(const struct upci_model *m, unsigned st)
{
	uint32_t pmc = cfgspace_get(&m->cfg, m->pm_cap + PCI_PM_PMC, 2);

	if (st == PM_STATE_D1)
		return !!(pmc & PCI_PM_PMC_D1);
	if (st == PM_STATE_D2)
		return !!(pmc & PCI_PM_PMC_D2);
	return 1;
}

int model_caps_cfg_written(struct upci_model *m, unsigned off, unsigned width, uint16_t old_pmcsr)
{
	if (m->flr && model_overlaps(off, width, m->exp_cap + PCI_EXP_DEVCTL, 2) &&
	    (cfgspace_get(&m->cfg, m->exp_cap + PCI_EXP_DEVCTL, 2) & PCI_EXP_DEVCTL_BCR_FLR)) {
		model_reset(m); /* FLR; the reset image has the bit clear */
		return 1;
	}
	if (m->pm_cap && model_overlaps(off, width, m->pm_cap + PCI_PM_CTRL, 2)) {
		unsigned pmcsr = m->pm_cap + PCI_PM_CTRL;
		uint32_t v = cfgspace_get(&m->cfg, pmcsr, 2);
		unsigned st = v & PCI_PM_CTRL_STATE_MASK;

		if (!pm_state_ok(m, st)) {
			/* The write completes, the state stays. */
			cfgspace_put(&m->cfg, pmcsr, 2, (v & ~PCI_PM_CTRL_STATE_MASK) | m->pm_state);
		} else {
			m->pm_state = (uint16_t)st;
			/* D3hot -> D0 without No_Soft_Reset: an internal reset
			 * (PCI PM 1.2, 5.4.1). */
			if ((old_pmcsr & PCI_PM_CTRL_STATE_MASK) == PCI_PM_STATE_D3HOT && st == PCI_PM_STATE_D0 &&
			    !(old_pmcsr & PCI_PM_CTRL_NO_SOFT_RESET)) {
				model_reset(m);
				return 1;
			}
		}
	}
	return 0;
}

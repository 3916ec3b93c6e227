/* SPDX-License-Identifier: MIT */
/*
 * The driver model's selectors: the argument-count rules of the driver's
 * ExternalMethod, Claim with its refcount, config space with the BAR
 * registers synthesized from BAR info, BAR info with PCIDriverKit's memory
 * indexes, MMIO by memory index, and ResetDevice.
 *
 * Device access goes through the IOPCIDevice as PCIDriverKit does it
 * (PCIDriverKit/IOPCIDevice.cpp): through the client that opened the
 * device. Before the first Claim, and after the opener's close, IOPCIFamily
 * refuses it (IOPCIDevice.cpp _MemoryAccess: kIOReturnNotOpen) and the
 * accessors fall back to all ones for reads and nothing for writes; the
 * dext checks no claim of its own (VFIOUserPCIDriver.cpp
 * vfio_user_config_read, vfio_user_mmio_read/write, and
 * vfio_user_read_identity, which GetIdentity reports).
 */
#include "caps.h"
#include "pci_regs.h"
#include "shim.h"

static kern_return_t claim(struct drv_client *c)
{
	struct drv_dev *d = c->d;
	uint32_t cmd = 0;

	if (c->claimed)
		return kIOReturnSuccess;
	if (!d->provider_open) {
		/* The first claimant opens the device: memory space and bus
		 * mastering on. */
		upci_config_read(d->sim, PCI_COMMAND, 2, &cmd);
		upci_config_write(d->sim, PCI_COMMAND, 2, (cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER) & 0xffffu);
		d->provider_open = 1;
		d->opener = c;
	}
	d->claim_refs++;
	c->claimed = 1;
	return kIOReturnSuccess;
}

/* ---- config space, BARs, MMIO ---- */

static uint64_t ones(uint64_t width)
{
	return width >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * width)) - 1;
}

/* The IOPCIDevice is open for the dext's accesses (its deviceClient). */
static int device_open(const struct drv_dev *d)
{
	return d->provider_open;
}

static kern_return_t config_read(struct drv_dev *d, uint64_t off, uint64_t width, uint64_t *val)
{
	uint32_t v;

	if (width != 1 && width != 2 && width != 4)
		return kIOReturnBadArgument;
	/* 4-byte reads of the BAR registers: type bits only, address 0. */
	if (width == 4 && off >= PCI_BASE_ADDRESS_0 && off <= PCI_BASE_ADDRESS_5 && !(off & 3)) {
		unsigned b = (unsigned)(off - PCI_BASE_ADDRESS_0) / 4;

		*val = d->bar_size[b] ? d->bar_type[b] : 0;
		return kIOReturnSuccess;
	}
	/* PCIDriverKit hands back all ones for what it cannot read. */
	if (!device_open(d) || off > UINT32_MAX || upci_config_read(d->sim, (uint32_t)off, (unsigned)width, &v) != 0)
		v = (uint32_t)ones(width);
	*val = v;
	return kIOReturnSuccess;
}

static kern_return_t config_write(struct drv_dev *d, uint64_t off, uint64_t width, uint64_t val)
{
	if (width != 1 && width != 2 && width != 4)
		return kIOReturnBadArgument;
	/* Unfiltered: filtering is the client's job. */
	if (device_open(d) && off <= UINT32_MAX && val <= ones(width))
		upci_config_write(d->sim, (uint32_t)off, (unsigned)width, (uint32_t)val);
	return kIOReturnSuccess;
}

static int bar_of_memidx(const struct drv_dev *d, uint64_t memidx)
{
	for (unsigned b = 0; b < UPCI_NUM_BARS; b++)
		if (d->bar_size[b] && d->bar_memidx[b] == memidx)
			return (int)b;
	return -1;
}

static kern_return_t mmio(struct drv_dev *d, const uint64_t *in, int write, uint64_t *val)
{
	int bar = bar_of_memidx(d, in[DEXT_MMIORD_IN_MEMIDX]);
	uint64_t off = in[DEXT_MMIORD_IN_OFFSET], width = in[DEXT_MMIORD_IN_WIDTH];

	if (bar < 0 || (width != 1 && width != 2 && width != 4 && width != 8))
		return kIOReturnBadArgument;
	if (write) {
		if (device_open(d))
			upci_mmio_write(d->sim, (unsigned)bar, off, (unsigned)width,
					in[DEXT_MMIOWR_IN_VALUE] & ones(width));
		return kIOReturnSuccess;
	}
	/* A refused read gives all ones, as MemoryRead leaves its default. */
	if (!device_open(d) || upci_mmio_read(d->sim, (unsigned)bar, off, (unsigned)width, val) != 0)
		*val = ones(width);
	return kIOReturnSuccess;
}

/* ---- reset ---- */

static int has_flr(struct drv_dev *d)
{
	uint8_t cfg[PCI_CFG_SIZE];
	struct cfg_snapshot c = {cfg, sizeof(cfg)};
	struct pcie_decode e;

	return upci_config_read_block(d->sim, 0, cfg, sizeof(cfg)) == 0 && pcie_decode(&c, &e) == 0 && e.flr;
}

/* FLR when the function has it, else a hot reset of its link; either way
 * the platform saves and restores config space around it (here: the BAR
 * addresses and COMMAND), and interrupt delivery set up on the device is
 * re-established (upci_reset does that for the sim device). The sim picks
 * FLR or a model reset by the same rule, which stands for both. */
static kern_return_t reset(struct drv_dev *d)
{
	uint32_t cmd = 0;

	if (upci_config_read(d->sim, PCI_COMMAND, 2, &cmd) != 0)
		return kIOReturnNotResponding;
	d->last_reset = has_flr(d) ? "flr" : "hot";
	if (upci_reset(d->sim) != 0)
		return kIOReturnDeviceError;
	drv_assign_bars(d);
	upci_config_write(d->sim, PCI_COMMAND, 2, cmd);
	return kIOReturnSuccess;
}

/* ---- the selector switch ---- */

/* The driver refuses calls with fewer inputs or output slots than the
 * selector has; it reports exactly its outputs. */
static int shape_ok(const uint64_t *in, uint32_t nin, uint32_t want_in, const uint64_t *out, uint32_t *nout,
		    uint32_t cap, uint32_t want_out)
{
	if (nin < want_in || (want_in && !in) || cap < want_out || (want_out && !out))
		return 0;
	if (nout)
		*nout = want_out;
	return 1;
}

#define NEED(nin_, nout_)                                                          \
	do {                                                                       \
		if (!shape_ok(in, nin, (nin_), out, nout, cap, (nout_)))           \
			return kIOReturnBadArgument;                               \
	} while (0)

kern_return_t drv_call(struct drv_client *c, uint32_t sel, const uint64_t *in, uint32_t nin, uint64_t *out,
		       uint32_t *nout)
{
	struct drv_dev *d = c->d;
	uint32_t cap = nout ? *nout : 0;
	kern_return_t kr;
	uint64_t v;
	unsigned n;

	if (nout)
		*nout = 0;
	switch (sel) {
	case DEXT_SEL_GET_IDENTITY:
		/* GetBusDeviceFunction needs no open; the IDs are config reads. */
		NEED(0, DEXT_IDENT_NOUT);
		out[DEXT_IDENT_OUT_BUS] = d->bus;
		out[DEXT_IDENT_OUT_DEV] = d->dev;
		out[DEXT_IDENT_OUT_FN] = d->fn;
		config_read(d, PCI_VENDOR_ID, 2, &out[DEXT_IDENT_OUT_VENDOR]);
		config_read(d, PCI_DEVICE_ID, 2, &out[DEXT_IDENT_OUT_DEVICE]);
		config_read(d, PCI_REVISION_ID, 4, &v);
		out[DEXT_IDENT_OUT_CLASS] = (v >> 8) & 0xffffffu;
		return kIOReturnSuccess;
	case DEXT_SEL_CLAIM:
		return claim(c);
	case DEXT_SEL_TERMINATE:
		drv_terminate(d, kIOReturnOffline);
		return kIOReturnSuccess;
	case DEXT_SEL_ALLOC_DMA_BUFFER:
		NEED(DEXT_ALLOC_NIN, DEXT_ALLOC_NOUT);
		kr = drv_buf_alloc(c, in[DEXT_ALLOC_IN_SIZE], in[DEXT_ALLOC_IN_ALIGN]);
		if (kr != kIOReturnSuccess) {
			*nout = 0;
			return kr;
		}
		config_read(d, PCI_REVISION_ID, 4, &v);
		out[DEXT_ALLOC_OUT_SIZE] = c->buf_size;
		out[DEXT_ALLOC_OUT_FLAGS] = 0;
		out[DEXT_ALLOC_OUT_NSEG] = c->buf_nseg;
		out[DEXT_ALLOC_OUT_SEG0_ADDR] = c->buf_seg[0].bus;
		out[DEXT_ALLOC_OUT_SEG0_LEN] = c->buf_seg[0].len;
		out[DEXT_ALLOC_OUT_CLASS] = (v >> 8) & 0xffffffu;
		return kIOReturnSuccess;
	case DEXT_SEL_FREE_DMA_BUFFER:
		drv_buf_free(c);
		return kIOReturnSuccess;
	case DEXT_SEL_REGISTER_DMA:
		/* Extra inputs are ignored: every region is mapped OutIn. */
		NEED(DEXT_REG_NIN, DEXT_REG_NOUT);
		kr = drv_dma_register(c, in[DEXT_REG_IN_IOVA], in[DEXT_REG_IN_VA], in[DEXT_REG_IN_SIZE],
				      &out[DEXT_REG_OUT_BUS], &out[DEXT_REG_OUT_BUS_LEN]);
		out[DEXT_REG_OUT_NSEG] = kr == kIOReturnSuccess;
		if (kr != kIOReturnSuccess)
			*nout = 0;
		return kr;
	case DEXT_SEL_UNREGISTER_DMA:
		NEED(DEXT_UNREG_NIN, 0);
		return drv_dma_unregister(c, in[DEXT_UNREG_IN_IOVA]);
	case DEXT_SEL_PROBE_DMA:
		NEED(DEXT_PROBE_NIN, DEXT_PROBE_NOUT);
		kr = drv_dma_probe(c, in[DEXT_PROBE_IN_IOVA], in[DEXT_PROBE_IN_OFFSET], &out[DEXT_PROBE_OUT_WORD]);
		if (kr != kIOReturnSuccess)
			*nout = 0;
		return kr;
	case DEXT_SEL_CONFIG_READ:
		NEED(DEXT_CFGRD_NIN, DEXT_CFGRD_NOUT);
		return config_read(d, in[DEXT_CFGRD_IN_OFFSET], in[DEXT_CFGRD_IN_WIDTH], &out[DEXT_CFGRD_OUT_VALUE]);
	case DEXT_SEL_CONFIG_WRITE:
		NEED(DEXT_CFGWR_NIN, 0);
		return config_write(d, in[DEXT_CFGWR_IN_OFFSET], in[DEXT_CFGWR_IN_WIDTH], in[DEXT_CFGWR_IN_VALUE]);
	case DEXT_SEL_BAR_INFO:
		NEED(DEXT_BARINFO_NIN, DEXT_BARINFO_NOUT);
		if (in[DEXT_BARINFO_IN_BAR] >= UPCI_NUM_BARS || !d->bar_size[in[DEXT_BARINFO_IN_BAR]]) {
			*nout = 0;
			return in[DEXT_BARINFO_IN_BAR] >= UPCI_NUM_BARS ? kIOReturnBadArgument : kIOReturnNotFound;
		}
		out[DEXT_BARINFO_OUT_MEMIDX] = d->bar_memidx[in[DEXT_BARINFO_IN_BAR]];
		out[DEXT_BARINFO_OUT_SIZE] = d->bar_size[in[DEXT_BARINFO_IN_BAR]];
		out[DEXT_BARINFO_OUT_TYPE] = d->bar_type[in[DEXT_BARINFO_IN_BAR]];
		return kIOReturnSuccess;
	case DEXT_SEL_MMIO_READ:
		NEED(DEXT_MMIORD_NIN, DEXT_MMIORD_NOUT);
		return mmio(d, in, 0, &out[DEXT_MMIORD_OUT_VALUE]);
	case DEXT_SEL_MMIO_WRITE:
		NEED(DEXT_MMIOWR_NIN, 0);
		return mmio(d, in, 1, NULL);
	case DEXT_SEL_SETUP_INTERRUPTS:
		NEED(0, DEXT_SETUPIRQ_NOUT);
		kr = drv_irq_setup(c, &n);
		out[DEXT_SETUPIRQ_OUT_NVEC] = n;
		if (kr != kIOReturnSuccess)
			*nout = 0;
		return kr;
	case DEXT_SEL_CHECK_INTERRUPT:
		NEED(0, DEXT_IRQ_WORDS);
		kr = drv_irq_check(c, out);
		if (kr != kIOReturnSuccess)
			*nout = 0;
		return kr;
	case DEXT_SEL_WAIT_INTERRUPT:
		return kIOReturnBadArgument; /* needs a completion: async only */
	case DEXT_SEL_SET_IRQ_MASK:
		NEED(DEXT_IRQ_WORDS, 0);
		return drv_irq_set_mask(c, in);
	case DEXT_SEL_RESET_DEVICE:
		if (!d->provider_open)
			return kIOReturnNotOpen;
		return reset(d);
	default:
		return kIOReturnUnsupported;
	}
}


/* SPDX-License-Identifier: MIT */
/* lspci -vv layout of the capability list: PM, MSI, MSI-X and
 * vendor-specific decoded; others by lspci's title (see lspci.h). */
#include <stdio.h>
#include <string.h>

#include "lspci.h"
#include "names.h"
#include "pci_regs.h"

#define LS_CAP_ID_NULL     0x00u
#define LS_CAP_ID_AGP      0x02u
#define LS_CAP_ID_VPD      0x03u
#define LS_CAP_ID_SLOTID   0x04u
#define LS_CAP_ID_CHSWP    0x06u
#define LS_CAP_ID_PCIX     0x07u
#define LS_CAP_ID_HT       0x08u
#define LS_CAP_ID_DBG      0x0au
#define LS_CAP_ID_CCRC     0x0bu
#define LS_CAP_ID_HOTPLUG  0x0cu
#define LS_CAP_ID_SSVID    0x0du
#define LS_CAP_ID_AGP3     0x0eu
#define LS_CAP_ID_SECURE   0x0fu
#define LS_CAP_ID_SATA     0x12u
#define LS_CAP_ID_AF       0x13u
#define LS_CAP_ID_EA       0x14u
#define LS_CAP_ID_BROKEN   0xffu
#define LS_CAP_FLAGS       0x02u

/* Power management (PCI PM 1.2) */
#define LS_PM_CAP_VER_MASK    0x0007u
#define LS_PM_CAP_AUX_SHIFT   6u
#define LS_PM_CAP_AUX_MASK    0x01c0u
#define LS_PM_CTRL            0x04u
#define LS_PM_CTRL_DSEL_SHIFT 9u
#define LS_PM_CTRL_DSEL_MASK  0x1e00u
#define LS_PM_CTRL_DSCALE_SHIFT 13u
#define LS_PM_CTRL_DSCALE_MASK 0x6000u
#define LS_PM_BRIDGE_EXT      0x06u
#define LS_PM_BPCC_ENABLE     0x80u
#define LS_PM_B2_B3           0x40u

/* Vendor-specific: virtio (virtio 1.x 4.1.4), which lspci decodes. */
#define LS_VNDR_LEN           0x02u
#define LS_VNDR_TYPE          0x03u
#define LS_VIRTIO_VENDOR      0x1af4u
#define LS_VIRTIO_DEV_FIRST   0x1000u
#define LS_VIRTIO_DEV_LAST    0x107fu
#define LS_VIRTIO_BAR         0x04u
#define LS_VIRTIO_OFFSET      0x08u
#define LS_VIRTIO_LENGTH      0x0cu
#define LS_VIRTIO_MULTIPLIER  0x10u
#define LS_VIRTIO_CAP_MIN     16u
#define LS_VIRTIO_NOTIFY      2u
#define LS_VIRTIO_NOTIFY_MIN  20u

/* Slot ID and debug port (PCI-to-PCI bridge 1.2, EHCI) */
#define LS_SLOTID_NSLOTS_MASK 0x001fu
#define LS_SLOTID_FIRST       0x0020u
#define LS_SLOTID_CHASSIS_SHIFT 8u
#define LS_DBG_BAR_SHIFT      13u
#define LS_DBG_OFFSET_MASK    0x1fffu
#define LS_SSVID_VENDOR       0x04u
#define LS_SSVID_DEVICE       0x06u
#define LS_AF_CAP             0x03u
#define LS_AF_CTRL            0x04u
#define LS_AF_STATUS          0x05u

static int readable(const struct ls_dev *d, unsigned off, unsigned len)
{
	return off + len <= d->readable;
}

static void cap_pm(const struct ls_dev *d, unsigned where, uint16_t cap)
{
	static const unsigned aux_ma[8] = {0, 55, 100, 160, 220, 270, 320, 375};
	uint16_t t;
	uint8_t b;

	printf("Power Management version %u\n", cap & LS_PM_CAP_VER_MASK);
	printf("\t\tFlags: PMEClk%c DSI%c D1%c D2%c AuxCurrent=%umA PME(D0%c,D1%c,D2%c,D3hot%c,D3cold%c)\n",
	       LS_FLAG(cap, 0x0008), LS_FLAG(cap, 0x0020), LS_FLAG(cap, PCI_PM_PMC_D1), LS_FLAG(cap, PCI_PM_PMC_D2),
	       aux_ma[(cap & LS_PM_CAP_AUX_MASK) >> LS_PM_CAP_AUX_SHIFT], LS_FLAG(cap, 0x0800), LS_FLAG(cap, 0x1000),
	       LS_FLAG(cap, 0x2000), LS_FLAG(cap, 0x4000), LS_FLAG(cap, 0x8000));
	if (!readable(d, where + LS_PM_CTRL, PCI_PM_SIZEOF - LS_PM_CTRL))
		return;
	t = cfg_get16(&d->cfg, where + LS_PM_CTRL);
	printf("\t\tStatus: D%u NoSoftRst%c PME-Enable%c DSel=%u DScale=%u PME%c\n", t & PCI_PM_CTRL_STATE_MASK,
	       LS_FLAG(t, PCI_PM_CTRL_NO_SOFT_RESET), LS_FLAG(t, 0x0100), (t & LS_PM_CTRL_DSEL_MASK) >> LS_PM_CTRL_DSEL_SHIFT,
	       (t & LS_PM_CTRL_DSCALE_MASK) >> LS_PM_CTRL_DSCALE_SHIFT, LS_FLAG(t, 0x8000));
	b = cfg_get8(&d->cfg, where + LS_PM_BRIDGE_EXT);
	if (b)
		printf("\t\tBridge: PM%c B3%c\n", LS_FLAG(b, LS_PM_BPCC_ENABLE), LS_FLAG(~b, LS_PM_B2_B3));
}

static void cap_msi(const struct ls_dev *d, unsigned where, uint16_t cap)
{
	int is64 = (cap & PCI_MSI_FLAGS_64BIT) != 0;
	uint32_t mask, pending;

	printf("MSI: Enable%c Count=%u/%u Maskable%c 64bit%c\n", LS_FLAG(cap, PCI_MSI_FLAGS_ENABLE),
	       1u << ((cap & PCI_MSI_FLAGS_QSIZE) >> PCI_MSI_FLAGS_QSIZE_SHIFT),
	       1u << ((cap & PCI_MSI_FLAGS_QMASK) >> PCI_MSI_FLAGS_QMASK_SHIFT), LS_FLAG(cap, PCI_MSI_FLAGS_MASKBIT),
	       LS_FLAG(cap, PCI_MSI_FLAGS_64BIT));
	if (!readable(d, where + PCI_MSI_ADDRESS_LO, (is64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32) + 2 - PCI_MSI_ADDRESS_LO))
		return;
	printf("\t\tAddress: ");
	if (is64)
		printf("%08x", cfg_get32(&d->cfg, where + PCI_MSI_ADDRESS_HI));
	printf("%08x  Data: %04x\n", cfg_get32(&d->cfg, where + PCI_MSI_ADDRESS_LO),
	       cfg_get16(&d->cfg, where + (is64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32)));
	if (!(cap & PCI_MSI_FLAGS_MASKBIT))
		return;
	if (!readable(d, where + (is64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32), 8))
		return;
	mask = cfg_get32(&d->cfg, where + (is64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32));
	pending = cfg_get32(&d->cfg, where + (is64 ? PCI_MSI_PENDING_64 : PCI_MSI_PENDING_32));
	printf("\t\tMasking: %08x  Pending: %08x\n", mask, pending);
}

static void cap_msix(const struct ls_dev *d, unsigned where, uint16_t cap)
{
	uint32_t off;

	printf("MSI-X: Enable%c Count=%u Masked%c\n", LS_FLAG(cap, PCI_MSIX_FLAGS_ENABLE),
	       (cap & PCI_MSIX_FLAGS_QSIZE) + 1u, LS_FLAG(cap, PCI_MSIX_FLAGS_MASKALL));
	if (!readable(d, where + PCI_MSIX_TABLE, 8))
		return;
	off = cfg_get32(&d->cfg, where + PCI_MSIX_TABLE);
	printf("\t\tVector table: BAR=%u offset=%08x\n", off & PCI_MSIX_BIR_MASK, off & PCI_MSIX_OFFSET_MASK);
	off = cfg_get32(&d->cfg, where + PCI_MSIX_PBA);
	printf("\t\tPBA: BAR=%u offset=%08x\n", off & PCI_MSIX_BIR_MASK, off & PCI_MSIX_OFFSET_MASK);
}

/* lspci knows one vendor's capability layout: virtio's. */
static int cap_virtio(const struct ls_dev *d, unsigned where, uint16_t cap)
{
	static const char *const types[] = {NULL, "CommonCfg", "Notify", "ISR", "DeviceCfg"};
	unsigned len = cap & 0xffu, type = cap >> 8;

	if (d->id->vendor_id != LS_VIRTIO_VENDOR || d->id->device_id < LS_VIRTIO_DEV_FIRST ||
	    d->id->device_id > LS_VIRTIO_DEV_LAST)
		return 0;
	if (len < LS_VIRTIO_CAP_MIN || !readable(d, where, len))
		return 0;
	printf("VirtIO: %s\n", type >= 1 && type <= 4 ? types[type] : "<unknown>");
	printf("\t\tBAR=%u offset=%08x size=%08x", cfg_get8(&d->cfg, where + LS_VIRTIO_BAR),
	       cfg_get32(&d->cfg, where + LS_VIRTIO_OFFSET), cfg_get32(&d->cfg, where + LS_VIRTIO_LENGTH));
	if (type == LS_VIRTIO_NOTIFY && len >= LS_VIRTIO_NOTIFY_MIN)
		printf(" multiplier=%08x", cfg_get32(&d->cfg, where + LS_VIRTIO_MULTIPLIER));
	printf("\n");
	return 1;
}

static void cap_vendor(const struct ls_dev *d, unsigned where, uint16_t cap)
{
	printf("Vendor Specific Information: ");
	if (!cap_virtio(d, where, cap))
		printf("Len=%02x <?>\n", cap & 0xffu);
}

static void cap_ssvid(const struct ls_dev *d, unsigned where)
{
	char name[256];

	if (!readable(d, where, 8))
		return;
	printf("Subsystem: %s\n", name_subsystem(name, sizeof(name), d->id->vendor_id, d->id->device_id,
						 cfg_get16(&d->cfg, where + LS_SSVID_VENDOR),
						 cfg_get16(&d->cfg, where + LS_SSVID_DEVICE)));
}

static void cap_af(const struct ls_dev *d, unsigned where)
{
	uint8_t r;

	printf("PCI Advanced Features\n");
	if (!readable(d, where + LS_AF_CAP, 3))
		return;
	r = cfg_get8(&d->cfg, where + LS_AF_CAP);
	printf("\t\tAFCap: TP%c FLR%c\n", LS_FLAG(r, 0x01), LS_FLAG(r, 0x02));
	r = cfg_get8(&d->cfg, where + LS_AF_CTRL);
	printf("\t\tAFCtrl: FLR%c\n", LS_FLAG(r, 0x01));
	r = cfg_get8(&d->cfg, where + LS_AF_STATUS);
	printf("\t\tAFStatus: TP%c\n", LS_FLAG(r, 0x01));
}

/* Capabilities shown by title only: their details are not decoded. */
static void cap_title(const struct ls_dev *d, uint8_t id, uint16_t cap)
{
	switch (id) {
	case LS_CAP_ID_NULL: printf("Null\n"); break;
	case LS_CAP_ID_AGP: printf("AGP version %x.%x\n", (cap >> 4) & 0x0fu, cap & 0x0fu); break;
	case LS_CAP_ID_VPD: printf("Vital Product Data\n"); break;
	case LS_CAP_ID_SLOTID:
		printf("Slot ID: %u slots, First%c, chassis %02x\n", cap & LS_SLOTID_NSLOTS_MASK,
		       LS_FLAG(cap, LS_SLOTID_FIRST), cap >> LS_SLOTID_CHASSIS_SHIFT);
		break;
	case LS_CAP_ID_CHSWP: printf("CompactPCI hot-swap <?>\n"); break;
	case LS_CAP_ID_PCIX:
		printf("PCI-X %sbridge device\n",
		       (cfg_get8(&d->cfg, PCI_HEADER_TYPE) & PCI_HEADER_TYPE_MASK) == 1 ? "" : "non-");
		break;
	case LS_CAP_ID_HT: printf("HyperTransport\n"); break;
	case LS_CAP_ID_DBG:
		printf("Debug port: BAR=%u offset=%04x\n", cap >> LS_DBG_BAR_SHIFT, cap & LS_DBG_OFFSET_MASK);
		break;
	case LS_CAP_ID_CCRC: printf("CompactPCI central resource control <?>\n"); break;
	case LS_CAP_ID_HOTPLUG: printf("Hot-plug capable\n"); break;
	case LS_CAP_ID_AGP3: printf("AGP3 <?>\n"); break;
	case LS_CAP_ID_SECURE: printf("Secure device <?>\n"); break;
	case LS_CAP_ID_SATA: printf("SATA HBA v%u.%u\n", (cap >> 4) & 0x0fu, cap & 0x0fu); break;
	case LS_CAP_ID_EA: printf("Enhanced Allocation (EA): NumEntries=%u\n", cap & 0x3fu); break;
	default: printf("Capability ID %#02x [%04x]\n", id, cap);
	}
}

void ls_caps(const struct ls_dev *d)
{
	uint8_t been_there[256];
	int ext = 0, type = -1;
	unsigned where;

	if (cfg_get16(&d->cfg, PCI_STATUS) & PCI_STATUS_CAP_LIST) {
		memset(been_there, 0, sizeof(been_there));
		where = cfg_get8(&d->cfg, PCI_CAPABILITY_LIST) & ~3u;
		while (where) {
			uint8_t id, next;
			uint16_t cap;

			printf("\tCapabilities: ");
			if (!readable(d, where, 4)) {
				printf("<access denied>\n");
				break;
			}
			id = cfg_get8(&d->cfg, where + PCI_CAP_LIST_ID);
			next = cfg_get8(&d->cfg, where + PCI_CAP_LIST_NEXT) & ~3u;
			cap = cfg_get16(&d->cfg, where + LS_CAP_FLAGS);
			printf("[%02x] ", where);
			if (been_there[where]++) {
				printf("<chain looped>\n");
				break;
			}
			if (id == LS_CAP_ID_BROKEN) {
				printf("<chain broken>\n");
				break;
			}
			switch (id) {
			case PCI_CAP_ID_PM: cap_pm(d, where, cap); break;
			case PCI_CAP_ID_MSI: cap_msi(d, where, cap); break;
			case PCI_CAP_ID_MSIX: cap_msix(d, where, cap); break;
			case PCI_CAP_ID_VNDR: cap_vendor(d, where, cap); break;
			case PCI_CAP_ID_EXP:
				type = ls_express(d, where, cap);
				ext = 1;
				break;
			case LS_CAP_ID_SSVID: cap_ssvid(d, where); break;
			case LS_CAP_ID_AF: cap_af(d, where); break;
			case LS_CAP_ID_PCIX:
				cap_title(d, id, cap);
				ext = 1;
				break;
			default: cap_title(d, id, cap);
			}
			where = next;
		}
	}
	if (ext)
		ls_ecaps(d, type);
}

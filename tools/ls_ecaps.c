/* SPDX-License-Identifier: MIT */
/* lspci -vv layout of the extended capabilities (0x100 and up): AER, DSN
 * and vendor-specific decoded; the others by lspci's title (see lspci.h). */
#include <stdio.h>
#include <string.h>

#include "lspci.h"
#include "pci_regs.h"

#define E_ID_NULL   0x00u
#define E_ID_AER    0x01u
#define E_ID_VC     0x02u
#define E_ID_DSN    0x03u
#define E_ID_VNDR   0x0bu
#define E_ID_DVSEC  0x23u

/* AER registers (PCIe Base 5.0 7.8.4) */
#define AER_UNCOR_STATUS 0x04u
#define AER_UNCOR_MASK   0x08u
#define AER_UNCOR_SEVER  0x0cu
#define AER_COR_STATUS   0x10u
#define AER_COR_MASK     0x14u
#define AER_CAP          0x18u
#define AER_CAP_FEP      0x1fu
#define AER_HEADER_LOG   0x1cu
#define AER_ROOT_COMMAND 0x2cu
#define AER_ROOT_STATUS  0x30u
#define AER_ROOT_MSG_SHIFT 27u
#define AER_ROOT_MSG_MASK 0x1fu
#define AER_ROOT_COR_SRC 0x34u
#define AER_ROOT_SRC     0x36u
#define AER_SIZE         40u

#define DVSEC_HEADER1    0x04u
#define DVSEC_HEADER2    0x08u

#define T_ROOT_PORT 0x4
#define T_ROOT_EC   0xa

static int readable(const struct ls_dev *d, unsigned off, unsigned len)
{
	return off + len <= d->readable && off + len <= d->cfg.size;
}

static void uncor(const char *label, uint32_t l)
{
	printf("\t\t%s\tDLP%c SDES%c TLP%c FCP%c CmpltTO%c CmpltAbrt%c UnxCmplt%c RxOF%c MalfTLP%c ECRC%c UnsupReq%c ACSViol%c\n",
	       label, LS_FLAG(l, 0x10), LS_FLAG(l, 0x20), LS_FLAG(l, 0x1000), LS_FLAG(l, 0x2000), LS_FLAG(l, 0x4000),
	       LS_FLAG(l, 0x8000), LS_FLAG(l, 0x10000), LS_FLAG(l, 0x20000), LS_FLAG(l, 0x40000), LS_FLAG(l, 0x80000),
	       LS_FLAG(l, 0x100000), LS_FLAG(l, 0x200000));
}

static void cor(const char *label, uint32_t l)
{
	printf("\t\t%s\tRxErr%c BadTLP%c BadDLLP%c Rollover%c Timeout%c AdvNonFatalErr%c\n", label, LS_FLAG(l, 0x1),
	       LS_FLAG(l, 0x40), LS_FLAG(l, 0x80), LS_FLAG(l, 0x100), LS_FLAG(l, 0x1000), LS_FLAG(l, 0x2000));
}

static void cap_aer(const struct ls_dev *d, unsigned where, int type)
{
	const struct cfg_snapshot *c = &d->cfg;
	uint32_t l;

	printf("Advanced Error Reporting\n");
	if (!readable(d, where + AER_UNCOR_STATUS, AER_SIZE))
		return;
	uncor("UESta:", cfg_get32(c, where + AER_UNCOR_STATUS));
	uncor("UEMsk:", cfg_get32(c, where + AER_UNCOR_MASK));
	uncor("UESvrt:", cfg_get32(c, where + AER_UNCOR_SEVER));
	cor("CESta:", cfg_get32(c, where + AER_COR_STATUS));
	cor("CEMsk:", cfg_get32(c, where + AER_COR_MASK));
	l = cfg_get32(c, where + AER_CAP);
	printf("\t\tAERCap:\tFirst Error Pointer: %02x, ECRCGenCap%c ECRCGenEn%c ECRCChkCap%c ECRCChkEn%c\n"
	       "\t\t\tMultHdrRecCap%c MultHdrRecEn%c TLPPfxPres%c HdrLogCap%c\n",
	       l & AER_CAP_FEP, LS_FLAG(l, 0x20), LS_FLAG(l, 0x40), LS_FLAG(l, 0x80), LS_FLAG(l, 0x100), LS_FLAG(l, 0x200),
	       LS_FLAG(l, 0x400), LS_FLAG(l, 0x800), LS_FLAG(l, 0x1000));
	printf("\t\tHeaderLog: %08x %08x %08x %08x\n", cfg_get32(c, where + AER_HEADER_LOG),
	       cfg_get32(c, where + AER_HEADER_LOG + 4), cfg_get32(c, where + AER_HEADER_LOG + 8),
	       cfg_get32(c, where + AER_HEADER_LOG + 12));
	if (type != T_ROOT_PORT && type != T_ROOT_EC)
		return;
	if (!readable(d, where + AER_ROOT_COMMAND, 12))
		return;
	l = cfg_get32(c, where + AER_ROOT_COMMAND);
	printf("\t\tRootCmd: CERptEn%c NFERptEn%c FERptEn%c\n", LS_FLAG(l, 0x1), LS_FLAG(l, 0x2), LS_FLAG(l, 0x4));
	l = cfg_get32(c, where + AER_ROOT_STATUS);
	printf("\t\tRootSta: CERcvd%c MultCERcvd%c UERcvd%c MultUERcvd%c\n"
	       "\t\t\t FirstFatal%c NonFatalMsg%c FatalMsg%c IntMsg %u\n",
	       LS_FLAG(l, 0x1), LS_FLAG(l, 0x2), LS_FLAG(l, 0x4), LS_FLAG(l, 0x8), LS_FLAG(l, 0x10), LS_FLAG(l, 0x20),
	       LS_FLAG(l, 0x40), (l >> AER_ROOT_MSG_SHIFT) & AER_ROOT_MSG_MASK);
	printf("\t\tErrorSrc: ERR_COR: %04x ", cfg_get16(c, where + AER_ROOT_COR_SRC));
	printf("ERR_FATAL/NONFATAL: %04x\n", cfg_get16(c, where + AER_ROOT_SRC));
}

static void cap_dsn(const struct ls_dev *d, unsigned where)
{
	uint32_t lo, hi;

	if (!readable(d, where + PCI_DSN_LO, 8))
		return;
	lo = cfg_get32(&d->cfg, where + PCI_DSN_LO);
	hi = cfg_get32(&d->cfg, where + PCI_DSN_HI);
	printf("Device Serial Number %02x-%02x-%02x-%02x-%02x-%02x-%02x-%02x\n", hi >> 24, (hi >> 16) & 0xffu,
	       (hi >> 8) & 0xffu, hi & 0xffu, lo >> 24, (lo >> 16) & 0xffu, (lo >> 8) & 0xffu, lo & 0xffu);
}

static void cap_vendor(const struct ls_dev *d, unsigned where)
{
	uint32_t h;

	printf("Vendor Specific Information: ");
	if (!readable(d, where + PCI_VNDR_HEADER, 4)) {
		printf("<unreadable>\n");
		return;
	}
	h = cfg_get32(&d->cfg, where + PCI_VNDR_HEADER);
	printf("ID=%04x Rev=%u Len=%03x <?>\n", h & 0xffffu, (h >> PCI_VNDR_HEADER_REV_SHIFT) & 0xfu,
	       h >> PCI_VNDR_HEADER_LEN_SHIFT);
}

static void cap_dvsec(const struct ls_dev *d, unsigned where)
{
	uint32_t h;

	printf("Designated Vendor-Specific: ");
	if (!readable(d, where + DVSEC_HEADER1, 8)) {
		printf("<unreadable>\n");
		return;
	}
	h = cfg_get32(&d->cfg, where + DVSEC_HEADER1);
	/* CXL's DVSECs lspci decodes; others it marks <?>. */
	printf("Vendor=%04x ID=%04x Rev=%u Len=%u%s\n", h & 0xffffu, cfg_get16(&d->cfg, where + DVSEC_HEADER2),
	       (h >> 16) & 0xfu, h >> 20, (h & 0xffffu) == 0x1e98u && (h >> 20) >= 16 ? ": CXL" : " <?>");
}

/* lspci's titles, for the capabilities shown without their details. */
static const char *title(unsigned id)
{
	static const char *const t[] = {
		[0x02] = "Virtual Channel", [0x04] = "Power Budgeting <?>", [0x05] = "Root Complex Link",
		[0x06] = "Root Complex Internal Link <?>",
		[0x07] = "Root Complex Event Collector Endpoint Association",
		[0x08] = "Multi-Function Virtual Channel <?>", [0x09] = "Virtual Channel",
		[0x0a] = "Root Complex Register Block <?>", [0x0d] = "Access Control Services",
		[0x0e] = "Alternative Routing-ID Interpretation (ARI)", [0x0f] = "Address Translation Service (ATS)",
		[0x10] = "Single Root I/O Virtualization (SR-IOV)", [0x11] = "Multi-Root I/O Virtualization <?>",
		[0x12] = "Multicast", [0x13] = "Page Request Interface (PRI)", [0x15] = "Physical Resizable BAR",
		[0x16] = "Dynamic Power Allocation <?>", [0x17] = "Transaction Processing Hints",
		[0x18] = "Latency Tolerance Reporting", [0x19] = "Secondary PCI Express",
		[0x1a] = "Protocol Multiplexing <?>", [0x1b] = "Process Address Space ID (PASID)",
		[0x1c] = "LN Requester <?>", [0x1d] = "Downstream Port Containment", [0x1e] = "L1 PM Substates",
		[0x1f] = "Precision Time Measurement", [0x20] = "PCI Express over M_PHY <?>",
		[0x21] = "FRS Queueing <?>", [0x22] = "Readiness Time Reporting <?>",
		[0x24] = "Virtual Resizable BAR", [0x25] = "Data Link Feature <?>",
		[0x26] = "Physical Layer 16.0 GT/s <?>", [0x27] = "Lane Margining at the Receiver <?>",
		[0x28] = "Hierarchy ID <?>", [0x29] = "Native PCIe Enclosure Management <?>",
		[0x2e] = "Data Object Exchange",
	};
	return id < sizeof(t) / sizeof(t[0]) ? t[id] : NULL;
}

void ls_ecaps(const struct ls_dev *d, int type)
{
	uint8_t been_there[PCIE_CFG_SIZE];
	unsigned where = PCI_EXT_CAP_START;

	memset(been_there, 0, sizeof(been_there));
	do {
		uint32_t header;
		unsigned id;

		if (!readable(d, where, 4))
			break;
		header = cfg_get32(&d->cfg, where);
		if (!header || header == 0xffffffffu)
			break;
		id = PCI_EXT_CAP_ID(header);
		printf("\tCapabilities: [%03x v%u] ", where, PCI_EXT_CAP_VER(header));
		if (been_there[where]++) {
			printf("<chain looped>\n");
			break;
		}
		switch (id) {
		case E_ID_NULL: printf("Null\n"); break;
		case E_ID_AER: cap_aer(d, where, type); break;
		case E_ID_DSN: cap_dsn(d, where); break;
		case E_ID_VNDR: cap_vendor(d, where); break;
		case E_ID_DVSEC: cap_dvsec(d, where); break;
		default:
			if (title(id))
				printf("%s\n", title(id));
			else
				printf("Extended Capability ID %#02x\n", id);
		}
		where = PCI_EXT_CAP_NEXT(header);
	} while (where);
}

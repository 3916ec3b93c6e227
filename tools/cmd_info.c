/* SPDX-License-Identifier: MIT */
/* 'upci info': an lspci -vv-like decode of one device, plus the config
 * decoders the demo shares. Works on an unclaimed device: reads only. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "caps.h"
#include "pci_regs.h"
#include "util.h"

/* Register fields info prints that src/core/pci_regs.h does not name
 * (PCIe Base 4.0 7.9.3 DSN, 7.9.5 VSEC header). */
#define DSN_LO          0x04u
#define DSN_HI          0x08u
#define VSEC_HDR        0x04u
#define VSEC_ID(h)      ((h) & 0xffffu)
#define VSEC_REV(h)     (((h) >> 16) & 0xfu)
#define VSEC_LEN(h)     (((h) >> 20) & 0xfffu)
#define VNDR_CAP_LEN    0x02u  /* byte after the next pointer */

static const char info_help[] =
	"Usage: upci info URI\n"
	"\n"
	"Decode the device like lspci -vv: identity and class, COMMAND and STATUS\n"
	"flags, header type, interrupt pin, every BAR (size, type, prefetch,\n"
	"mappable), every capability and extended capability (MSI, MSI-X, PCI\n"
	"Express, Power Management, DSN, vendor-specific, others by name), and\n"
	"the interrupt vectors the device offers per type. Reads only; does not\n"
	"claim the device.\n"
	"\n"
	"Examples:\n"
	"  upci info sim:testdev?vectors=64\n"
	"  upci info vfio:0000:03:00.0\n";

/* ---- shared decoders ---- */

struct flag_name {
	uint16_t bit;
	const char *name;
};

static const struct flag_name command_flags[] = {
	{PCI_COMMAND_IO, "I/O"},       {PCI_COMMAND_MEMORY, "Mem"},   {PCI_COMMAND_MASTER, "BusMaster"},
	{0x0008, "SpecCycle"},         {0x0010, "MemWINV"},           {0x0020, "VGASnoop"},
	{PCI_COMMAND_PARITY, "ParErr"}, {0x0080, "Stepping"},         {PCI_COMMAND_SERR, "SERR"},
	{0x0200, "FastB2B"},           {PCI_COMMAND_INTX_DISABLE, "DisINTx"},
};

static const struct flag_name status_flags[] = {
	{PCI_STATUS_INTERRUPT, "INTx"}, {PCI_STATUS_CAP_LIST, "Cap"},  {PCI_STATUS_66MHZ, "66MHz"},
	{PCI_STATUS_FAST_BACK, "FastB2B"}, {0x0100, "ParErr"},         {0x0800, ">TAbort"},
	{0x1000, "<TAbort"},           {PCI_STATUS_MASTER_ABORT_RCVD, "<MAbort"}, {0x4000, ">SERR"},
	{0x8000, "<PERR"},
};

/* Append to buf without overflowing; truncation is silent. */
static void append(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strnlen(buf, len);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

static const char *fmt_flags(uint16_t v, const struct flag_name *t, size_t n, int all, char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int set = (v & t[i].bit) != 0;

		if (all)
			append(buf, len, "%s%s%c", buf[0] ? " " : "", t[i].name, set ? '+' : '-');
		else if (set)
			append(buf, len, "%s%s", buf[0] ? " " : "", t[i].name);
	}
	return buf;
}

const char *fmt_command(uint16_t cmd, int all, char *buf, size_t len)
{
	return fmt_flags(cmd, command_flags, sizeof(command_flags) / sizeof(command_flags[0]), all, buf, len);
}

const char *fmt_status(uint16_t sts, int all, char *buf, size_t len)
{
	return fmt_flags(sts, status_flags, sizeof(status_flags) / sizeof(status_flags[0]), all, buf, len);
}

const char *fmt_header_type(uint8_t ht, char *buf, size_t len)
{
	static const char *const kinds[] = {"normal", "PCI bridge", "CardBus bridge"};
	unsigned k = ht & PCI_HEADER_TYPE_MASK;

	snprintf(buf, len, "%u (%s%s)", k, k < 3 ? kinds[k] : "unknown",
		 (ht & PCI_HEADER_TYPE_MULTI) ? ", multi-function" : "");
	return buf;
}

static const char *short_cap(uint16_t id)
{
	switch (id) {
	case PCI_CAP_ID_PM: return "PM";
	case PCI_CAP_ID_MSI: return "MSI";
	case PCI_CAP_ID_MSIX: return "MSI-X";
	case PCI_CAP_ID_EXP: return "PCIe";
	case PCI_CAP_ID_VNDR: return "Vendor";
	default: return NULL;
	}
}

static const char *short_ext_cap(uint16_t id)
{
	switch (id) {
	case PCI_EXT_CAP_ID_ERR: return "AER";
	case PCI_EXT_CAP_ID_DSN: return "DSN";
	case PCI_EXT_CAP_ID_VNDR: return "VSEC";
	default: return NULL;
	}
}

const char *fmt_caps_list(const struct cfg_snapshot *c, char *buf, size_t len)
{
	struct cap_entry caps[CAPS_MAX];
	size_t n = 0;
	int rc;

	buf[0] = '\0';
	rc = caps_walk(c, caps, CAPS_MAX, &n);
	for (size_t i = 0; i < n; i++) {
		const char *s = short_cap(caps[i].id);

		if (s)
			append(buf, len, "%s%s@%02x", i ? " " : "", s, caps[i].offset);
		else
			append(buf, len, "%scap%02x@%02x", i ? " " : "", caps[i].id, caps[i].offset);
	}
	if (rc < 0)
		append(buf, len, "%s(list malformed: %s)", n ? " " : "", upci_strerror(rc));
	else if (n == 0)
		append(buf, len, "none");
	n = 0;
	rc = ext_caps_walk(c, caps, CAPS_MAX, &n);
	if (n)
		append(buf, len, "; ext");
	for (size_t i = 0; i < n; i++) {
		const char *s = short_ext_cap(caps[i].id);

		if (s)
			append(buf, len, " %s@%03x", s, caps[i].offset);
		else
			append(buf, len, " ecap%04x@%03x", caps[i].id, caps[i].offset);
	}
	if (rc < 0)
		append(buf, len, " (extended list malformed: %s)", upci_strerror(rc));
	return buf;
}

const char *fmt_bar(const struct upci_bar_info *bi, char *buf, size_t len)
{
	char size[32];

	buf[0] = '\0';
	if (!(bi->flags & UPCI_BAR_PRESENT)) {
		append(buf, len, "absent");
		return buf;
	}
	append(buf, len, "%s %s", fmt_size(bi->size, size, sizeof(size)),
	       (bi->flags & UPCI_BAR_IO) ? "io" : (bi->flags & UPCI_BAR_MEM64) ? "mem64" : "mem32");
	if (bi->flags & UPCI_BAR_PREFETCH)
		append(buf, len, " prefetch");
	if (bi->flags & UPCI_BAR_MAPPABLE)
		append(buf, len, (bi->flags & UPCI_BAR_MAP_RDONLY) ? " mappable(ro)" : " mappable");
	return buf;
}

void irq_offer(const struct cfg_snapshot *c, unsigned *msix, unsigned *msi, unsigned *intx)
{
	struct msix_decode x;
	struct msi_decode m;

	*msix = msix_decode(c, &x) == 0 ? x.table_size : 0;
	*msi = msi_decode(c, &m) == 0 ? m.vectors_capable : 0;
	*intx = cfg_get8(c, PCI_INTERRUPT_PIN) ? 1 : 0;
}

/* ---- info ---- */

static const char *plus_minus(int v)
{
	return v ? "+" : "-";
}

static void print_bars(upci_dev *dev, const struct cfg_snapshot *c)
{
	for (unsigned b = 0; b < UPCI_NUM_BARS; b++) {
		struct upci_bar_info bi;
		struct bar_decode bd;
		char size[32];
		int rc = upci_bar_info(dev, b, &bi);

		if (rc) {
			printf("\tRegion %u: <%s>\n", b, upci_strerror(rc));
			continue;
		}
		if (!(bi.flags & UPCI_BAR_PRESENT))
			continue;
		if (bar_decode(c, b, &bd) != 0)
			memset(&bd, 0, sizeof(bd));
		printf("\tRegion %u: %s at ", b, (bi.flags & UPCI_BAR_IO) ? "I/O ports" : "Memory");
		if (bd.address)
			printf("%0*llx", (bi.flags & UPCI_BAR_MEM64) ? 16 : 8, (unsigned long long)bd.address);
		else
			printf("<unassigned>");
		if (bi.flags & UPCI_BAR_IO)
			printf(" [size=%s]", fmt_size(bi.size, size, sizeof(size)));
		else
			printf(" (%s, %s) [size=%s]", (bi.flags & UPCI_BAR_MEM64) ? "64-bit" : "32-bit",
			       (bi.flags & UPCI_BAR_PREFETCH) ? "prefetchable" : "non-prefetchable",
			       fmt_size(bi.size, size, sizeof(size)));
		if (bi.flags & UPCI_BAR_MAPPABLE)
			printf(" [mappable%s]", (bi.flags & UPCI_BAR_MAP_RDONLY) ? ", read-only mapping" : "");
		else
			printf(" [not mappable: upci read/write only]");
		printf("\n");
	}
}

static void print_msi(const struct cfg_snapshot *c)
{
	struct msi_decode m;

	if (msi_decode(c, &m)) {
		printf("MSI: <malformed>\n");
		return;
	}
	printf("MSI: Enable%s Count=%u/%u Maskable%s 64bit%s\n", plus_minus(m.enabled), m.vectors_enabled, m.vectors_capable,
	       plus_minus(m.per_vector_mask), plus_minus(m.is_64));
	printf("\t\tAddress: %016llx  Data: %04x\n", (unsigned long long)m.address, m.data);
	if (m.per_vector_mask)
		printf("\t\tMasking: %08x  Pending: %08x\n", m.mask_bits, m.pending_bits);
}

static void print_msix(const struct cfg_snapshot *c)
{
	struct msix_decode x;

	if (msix_decode(c, &x)) {
		printf("MSI-X: <malformed>\n");
		return;
	}
	printf("MSI-X: Enable%s Count=%u Masked%s\n", plus_minus(x.enabled), x.table_size, plus_minus(x.function_mask));
	printf("\t\tVector table: BAR=%u offset=%08x\n", x.table_bar, x.table_offset);
	printf("\t\tPBA: BAR=%u offset=%08x\n", x.pba_bar, x.pba_offset);
}

static const char *port_type_name(unsigned t)
{
	switch (t) {
	case 0x0: return "Endpoint";
	case 0x1: return "Legacy Endpoint";
	case 0x4: return "Root Port";
	case 0x5: return "Upstream Port";
	case 0x6: return "Downstream Port";
	case 0x7: return "PCI-Express to PCI/PCI-X Bridge";
	case 0x8: return "PCI/PCI-X to PCI-Express Bridge";
	case 0x9: return "Root Complex Integrated Endpoint";
	case 0xa: return "Root Complex Event Collector";
	default: return "Unknown type";
	}
}

static const char *link_speed(unsigned enc)
{
	static const char *const speeds[] = {"unknown", "2.5GT/s", "5GT/s", "8GT/s", "16GT/s", "32GT/s", "64GT/s"};

	return enc < sizeof(speeds) / sizeof(speeds[0]) ? speeds[enc] : "unknown";
}

static void print_pcie(const struct cfg_snapshot *c)
{
	struct pcie_decode e;

	if (pcie_decode(c, &e)) {
		printf("Express: <malformed>\n");
		return;
	}
	printf("Express (v%u) %s\n", e.version, port_type_name(e.port_type));
	printf("\t\tDevCap: MaxPayload %u bytes, FLReset%s\n", e.max_payload_cap, plus_minus(e.flr));
	printf("\t\tDevCtl: MaxPayload %u bytes, MaxReadReq %u bytes\n", e.max_payload, e.max_read_req);
	printf("\t\tLnkCap: Speed %s, Width x%u\n", link_speed(e.link_speed_cap), e.link_width_cap);
	printf("\t\tLnkSta: Speed %s, Width x%u\n", link_speed(e.link_speed), e.link_width);
}

static void print_pm(const struct cfg_snapshot *c)
{
	struct pm_decode p;

	if (pm_decode(c, &p)) {
		printf("Power Management: <malformed>\n");
		return;
	}
	printf("Power Management version %u\n", p.version);
	printf("\t\tFlags: D1%s D2%s\n", plus_minus(p.d1), plus_minus(p.d2));
	printf("\t\tStatus: D%u NoSoftRst%s\n", p.state, plus_minus(p.no_soft_reset));
}

static void print_caps(const struct cfg_snapshot *c)
{
	struct cap_entry caps[CAPS_MAX];
	size_t n = 0;
	int rc = caps_walk(c, caps, CAPS_MAX, &n);

	for (size_t i = 0; i < n; i++) {
		printf("\tCapabilities: [%02x] ", caps[i].offset);
		switch (caps[i].id) {
		case PCI_CAP_ID_MSI: print_msi(c); break;
		case PCI_CAP_ID_MSIX: print_msix(c); break;
		case PCI_CAP_ID_EXP: print_pcie(c); break;
		case PCI_CAP_ID_PM: print_pm(c); break;
		case PCI_CAP_ID_VNDR:
			printf("Vendor Specific Information: Len=%02x\n", cfg_get8(c, caps[i].offset + VNDR_CAP_LEN));
			break;
		default:
			printf("%s (ID %02x)\n", cap_name(caps[i].id), caps[i].id);
		}
	}
	if (rc < 0)
		printf("\tCapabilities: <list malformed, walk stopped: %s>\n", upci_strerror(rc));

	n = 0;
	rc = ext_caps_walk(c, caps, CAPS_MAX, &n);
	for (size_t i = 0; i < n; i++) {
		unsigned off = caps[i].offset;

		printf("\tCapabilities: [%03x v%u] ", off, caps[i].version);
		if (caps[i].id == PCI_EXT_CAP_ID_DSN) {
			uint64_t sn = ((uint64_t)cfg_get32(c, off + DSN_HI) << 32) | cfg_get32(c, off + DSN_LO);

			printf("Device Serial Number");
			for (int b = 7; b >= 0; b--)
				printf("%c%02x", b == 7 ? ' ' : '-', (unsigned)(sn >> (8 * b)) & 0xffu);
			printf("\n");
		} else if (caps[i].id == PCI_EXT_CAP_ID_VNDR) {
			uint32_t h = cfg_get32(c, off + VSEC_HDR);

			printf("Vendor Specific Information: ID=%04x Rev=%u Len=%03x\n", VSEC_ID(h), VSEC_REV(h),
			       VSEC_LEN(h));
		} else {
			printf("%s (ID %04x)\n", ext_cap_name(caps[i].id), caps[i].id);
		}
	}
	if (rc < 0)
		printf("\tCapabilities: <extended list malformed, walk stopped: %s>\n", upci_strerror(rc));
}

/* Counts come from the capabilities: the API has no way to ask without
 * enabling interrupts, and info must not change the device. */
static void print_irqs(const struct cfg_snapshot *c)
{
	unsigned msix, msi, intx;
	uint8_t pin = cfg_get8(c, PCI_INTERRUPT_PIN);

	irq_offer(c, &msix, &msi, &intx);
	if (pin >= 1 && pin <= 4)
		printf("\tInterrupt: pin %c routed to IRQ %u\n", 'A' + pin - 1, cfg_get8(c, PCI_INTERRUPT_LINE));
	else
		printf("\tInterrupt: no INTx pin\n");
	printf("\tInterrupt vectors offered: MSI-X %u, MSI %u, INTx %u (upci irq --type auto uses %s)\n", msix, msi,
	       intx, msix ? "MSI-X" : msi ? "MSI" : intx ? "INTx" : "nothing");
}

static void print_info(upci_dev *dev, const struct upci_identity *id, const struct cfg_snapshot *c)
{
	char buf[256];

	printf("%04x:%02x:%02x.%x %s [%06x]: %04x:%04x (rev %02x)\n", id->domain, id->bus, id->device,
	       id->function, pci_class_name((uint8_t)(id->class_code >> 16)), id->class_code, id->vendor_id,
	       id->device_id, id->revision);
	printf("\tURI: %s (backend %s, device %s)\n", upci_uri(dev), id->backend, id->name[0] ? id->name : "-");
	printf("\tSubsystem: %04x:%04x\n", id->subsys_vendor_id, id->subsys_id);
	printf("\tControl: %s\n", fmt_command(cfg_get16(c, PCI_COMMAND), 1, buf, sizeof(buf)));
	printf("\tStatus: %s\n", fmt_status(cfg_get16(c, PCI_STATUS), 1, buf, sizeof(buf)));
	printf("\tHeader type: %s, config space %u bytes\n", fmt_header_type(cfg_get8(c, PCI_HEADER_TYPE), buf,
	       sizeof(buf)), id->config_size);
	print_irqs(c);
	print_bars(dev, c);
	print_caps(c);
}

int cmd_info(int argc, char **argv)
{
	static const char *const names[] = {"URI"};
	struct upci_identity id;
	struct cfg_snapshot snap;
	const char *uri;
	upci_dev *dev;
	uint8_t *cfg;
	int rc;

	rc = plain_options(argc, argv, info_help);
	if (rc >= 0)
		return rc;
	rc = check_args(argv[0], argv + optind, argc - optind, 1, 1, names);
	if (rc >= 0)
		return rc;
	uri = argv[optind];
	rc = open_device(uri, 0, &dev);
	if (rc)
		return rc;
	rc = upci_identity(dev, &id);
	if (rc) {
		upci_close(dev);
		return op_error(uri, "identity", rc);
	}
	/* The decoders expect 256 or 4096 bytes; anything else is a backend bug. */
	if (id.config_size != PCI_CFG_SIZE && id.config_size != PCIE_CFG_SIZE) {
		upci_close(dev);
		return op_errorf(EXIT_FAIL, uri, "identity", "unexpected config space size %u", id.config_size);
	}
	cfg = calloc(1, id.config_size);
	if (!cfg) {
		upci_close(dev);
		return op_errorf(EXIT_FAIL, uri, "info", "out of memory");
	}
	rc = upci_config_read_block(dev, 0, cfg, id.config_size);
	if (rc) {
		free(cfg);
		upci_close(dev);
		return op_error(uri, "config read", rc);
	}
	snap.data = cfg;
	snap.size = id.config_size;
	print_info(dev, &id, &snap);
	free(cfg);
	upci_close(dev);
	return EXIT_OK;
}

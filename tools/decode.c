/* SPDX-License-Identifier: MIT */
/* Short config-space decoders 'upci demo' prints in its one-line steps
 * (COMMAND/STATUS flags, header type, capability list, a BAR, the
 * interrupt vectors offered). 'upci info' has lspci's layout (lspci.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "caps.h"
#include "pci_regs.h"
#include "util.h"


const struct pci_flag pci_command_flags[PCI_COMMAND_NFLAGS] = {
	{PCI_COMMAND_IO, "I/O"},         {PCI_COMMAND_MEMORY, "Mem"}, {PCI_COMMAND_MASTER, "BusMaster"},
	{0x0008, "SpecCycle"},           {0x0010, "MemWINV"},         {0x0020, "VGASnoop"},
	{PCI_COMMAND_PARITY, "ParErr"},  {0x0080, "Stepping"},        {PCI_COMMAND_SERR, "SERR"},
	{0x0200, "FastB2B"},             {PCI_COMMAND_INTX_DISABLE, "DisINTx"},
};

const struct pci_flag pci_status_flags_lo[PCI_STATUS_NFLAGS_LO] = {
	{PCI_STATUS_CAP_LIST, "Cap"}, {PCI_STATUS_66MHZ, "66MHz"}, {0x0040, "UDF"},
	{PCI_STATUS_FAST_BACK, "FastB2B"}, {0x0100, "ParErr"},
};

const struct pci_flag pci_status_flags_hi[PCI_STATUS_NFLAGS_HI] = {
	{0x0800, ">TAbort"}, {0x1000, "<TAbort"}, {PCI_STATUS_MASTER_ABORT_RCVD, "<MAbort"},
	{0x4000, ">SERR"},   {0x8000, "<PERR"},   {PCI_STATUS_INTERRUPT, "INTx"},
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

static const char *fmt_flags(uint16_t v, const struct pci_flag *t, size_t n, int all, char *buf, size_t len)
{
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
	buf[0] = '\0';
	return fmt_flags(cmd, pci_command_flags, PCI_COMMAND_NFLAGS, all, buf, len);
}

const char *fmt_status(uint16_t sts, int all, char *buf, size_t len)
{
	buf[0] = '\0';
	fmt_flags(sts, pci_status_flags_lo, PCI_STATUS_NFLAGS_LO, all, buf, len);
	return fmt_flags(sts, pci_status_flags_hi, PCI_STATUS_NFLAGS_HI, all, buf, len);
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

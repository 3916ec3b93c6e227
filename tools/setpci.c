/* SPDX-License-Identifier: MIT */
/* setpci's register syntax (see setpci.h). */
#include "setpci.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pci_regs.h"
#include "util.h"

#define HDR_NORMAL  0x1u
#define HDR_BRIDGE  0x2u
#define HDR_CARDBUS 0x4u
#define CFG_MAX     0x1000u

struct reg_name {
	unsigned cap;    /* 0, or SETPCI_CAP_* << 16 | ID */
	unsigned offset;
	unsigned width;  /* 0: the user gives it */
	unsigned hdr_mask;
	const char *name;
};

#define STD(id) (SETPCI_CAP_STD << 16 | (id))
#define EXT(id) (SETPCI_CAP_EXT << 16 | (id))

/* setpci's names, as pciutils 3.9 knows them. */
static const struct reg_name regs[] = {
	{0, 0x00, 2, 0, "VENDOR_ID"}, {0, 0x02, 2, 0, "DEVICE_ID"}, {0, 0x04, 2, 0, "COMMAND"},
	{0, 0x06, 2, 0, "STATUS"}, {0, 0x08, 1, 0, "REVISION"}, {0, 0x09, 1, 0, "CLASS_PROG"},
	{0, 0x0a, 2, 0, "CLASS_DEVICE"}, {0, 0x0c, 1, 0, "CACHE_LINE_SIZE"}, {0, 0x0d, 1, 0, "LATENCY_TIMER"},
	{0, 0x0e, 1, 0, "HEADER_TYPE"}, {0, 0x0f, 1, 0, "BIST"},
	{0, 0x10, 4, HDR_NORMAL | HDR_BRIDGE, "BASE_ADDRESS_0"}, {0, 0x14, 4, HDR_NORMAL | HDR_BRIDGE, "BASE_ADDRESS_1"},
	{0, 0x18, 4, HDR_NORMAL, "BASE_ADDRESS_2"}, {0, 0x1c, 4, HDR_NORMAL, "BASE_ADDRESS_3"},
	{0, 0x20, 4, HDR_NORMAL, "BASE_ADDRESS_4"}, {0, 0x24, 4, HDR_NORMAL, "BASE_ADDRESS_5"},
	{0, 0x28, 4, HDR_NORMAL, "CARDBUS_CIS"}, {0, 0x2c, 2, HDR_NORMAL, "SUBSYSTEM_VENDOR_ID"},
	{0, 0x2e, 2, HDR_NORMAL, "SUBSYSTEM_ID"}, {0, 0x30, 4, HDR_NORMAL, "ROM_ADDRESS"},
	{0, 0x34, 1, HDR_NORMAL | HDR_BRIDGE, "CAPABILITIES"}, {0, 0x3c, 1, HDR_NORMAL | HDR_BRIDGE, "INTERRUPT_LINE"},
	{0, 0x3d, 1, HDR_NORMAL | HDR_BRIDGE, "INTERRUPT_PIN"}, {0, 0x3e, 1, HDR_NORMAL, "MIN_GNT"},
	{0, 0x3f, 1, HDR_NORMAL, "MAX_LAT"},
	{0, 0x18, 1, HDR_BRIDGE, "PRIMARY_BUS"}, {0, 0x19, 1, HDR_BRIDGE, "SECONDARY_BUS"},
	{0, 0x1a, 1, HDR_BRIDGE, "SUBORDINATE_BUS"}, {0, 0x1b, 1, HDR_BRIDGE, "SEC_LATENCY_TIMER"},
	{0, 0x1c, 1, HDR_BRIDGE, "IO_BASE"}, {0, 0x1d, 1, HDR_BRIDGE, "IO_LIMIT"}, {0, 0x1e, 2, HDR_BRIDGE, "SEC_STATUS"},
	{0, 0x20, 2, HDR_BRIDGE, "MEMORY_BASE"}, {0, 0x22, 2, HDR_BRIDGE, "MEMORY_LIMIT"},
	{0, 0x24, 2, HDR_BRIDGE, "PREF_MEMORY_BASE"}, {0, 0x26, 2, HDR_BRIDGE, "PREF_MEMORY_LIMIT"},
	{0, 0x28, 4, HDR_BRIDGE, "PREF_BASE_UPPER32"}, {0, 0x2c, 4, HDR_BRIDGE, "PREF_LIMIT_UPPER32"},
	{0, 0x30, 2, HDR_BRIDGE, "IO_BASE_UPPER16"}, {0, 0x32, 2, HDR_BRIDGE, "IO_LIMIT_UPPER16"},
	{0, 0x38, 4, HDR_BRIDGE, "BRIDGE_ROM_ADDRESS"}, {0, 0x3e, 2, HDR_BRIDGE, "BRIDGE_CONTROL"},
	{0, 0x10, 4, HDR_CARDBUS, "CB_CARDBUS_BASE"}, {0, 0x14, 2, HDR_CARDBUS, "CB_CAPABILITIES"},
	{0, 0x16, 2, HDR_CARDBUS, "CB_SEC_STATUS"}, {0, 0x18, 1, HDR_CARDBUS, "CB_BUS_NUMBER"},
	{0, 0x19, 1, HDR_CARDBUS, "CB_CARDBUS_NUMBER"}, {0, 0x1a, 1, HDR_CARDBUS, "CB_SUBORDINATE_BUS"},
	{0, 0x1b, 1, HDR_CARDBUS, "CB_CARDBUS_LATENCY"}, {0, 0x1c, 4, HDR_CARDBUS, "CB_MEMORY_BASE_0"},
	{0, 0x20, 4, HDR_CARDBUS, "CB_MEMORY_LIMIT_0"}, {0, 0x24, 4, HDR_CARDBUS, "CB_MEMORY_BASE_1"},
	{0, 0x28, 4, HDR_CARDBUS, "CB_MEMORY_LIMIT_1"}, {0, 0x2c, 2, HDR_CARDBUS, "CB_IO_BASE_0"},
	{0, 0x2e, 2, HDR_CARDBUS, "CB_IO_BASE_0_HI"}, {0, 0x30, 2, HDR_CARDBUS, "CB_IO_LIMIT_0"},
	{0, 0x32, 2, HDR_CARDBUS, "CB_IO_LIMIT_0_HI"}, {0, 0x34, 2, HDR_CARDBUS, "CB_IO_BASE_1"},
	{0, 0x36, 2, HDR_CARDBUS, "CB_IO_BASE_1_HI"}, {0, 0x38, 2, HDR_CARDBUS, "CB_IO_LIMIT_1"},
	{0, 0x3a, 2, HDR_CARDBUS, "CB_IO_LIMIT_1_HI"}, {0, 0x40, 2, HDR_CARDBUS, "CB_SUBSYSTEM_VENDOR_ID"},
	{0, 0x42, 2, HDR_CARDBUS, "CB_SUBSYSTEM_ID"}, {0, 0x44, 4, HDR_CARDBUS, "CB_LEGACY_MODE_BASE"},
	{STD(0x01), 0, 0, 0, "CAP_PM"}, {STD(0x02), 0, 0, 0, "CAP_AGP"}, {STD(0x03), 0, 0, 0, "CAP_VPD"},
	{STD(0x04), 0, 0, 0, "CAP_SLOTID"}, {STD(0x05), 0, 0, 0, "CAP_MSI"}, {STD(0x06), 0, 0, 0, "CAP_CHSWP"},
	{STD(0x07), 0, 0, 0, "CAP_PCIX"}, {STD(0x08), 0, 0, 0, "CAP_HT"}, {STD(0x09), 0, 0, 0, "CAP_VNDR"},
	{STD(0x0a), 0, 0, 0, "CAP_DBG"}, {STD(0x0b), 0, 0, 0, "CAP_CCRC"}, {STD(0x0c), 0, 0, 0, "CAP_HOTPLUG"},
	{STD(0x0d), 0, 0, 0, "CAP_SSVID"}, {STD(0x0e), 0, 0, 0, "CAP_AGP3"}, {STD(0x0f), 0, 0, 0, "CAP_SECURE"},
	{STD(0x10), 0, 0, 0, "CAP_EXP"}, {STD(0x11), 0, 0, 0, "CAP_MSIX"}, {STD(0x12), 0, 0, 0, "CAP_SATA"},
	{STD(0x13), 0, 0, 0, "CAP_AF"}, {STD(0x14), 0, 0, 0, "CAP_EA"},
	{EXT(0x01), 0, 0, 0, "ECAP_AER"}, {EXT(0x02), 0, 0, 0, "ECAP_VC"}, {EXT(0x03), 0, 0, 0, "ECAP_DSN"},
	{EXT(0x04), 0, 0, 0, "ECAP_PB"}, {EXT(0x05), 0, 0, 0, "ECAP_RCLINK"}, {EXT(0x06), 0, 0, 0, "ECAP_RCILINK"},
	{EXT(0x07), 0, 0, 0, "ECAP_RCEC"}, {EXT(0x08), 0, 0, 0, "ECAP_MFVC"}, {EXT(0x09), 0, 0, 0, "ECAP_VC2"},
	{EXT(0x0a), 0, 0, 0, "ECAP_RBCB"}, {EXT(0x0b), 0, 0, 0, "ECAP_VNDR"}, {EXT(0x0d), 0, 0, 0, "ECAP_ACS"},
	{EXT(0x0e), 0, 0, 0, "ECAP_ARI"}, {EXT(0x0f), 0, 0, 0, "ECAP_ATS"}, {EXT(0x10), 0, 0, 0, "ECAP_SRIOV"},
	{EXT(0x11), 0, 0, 0, "ECAP_MRIOV"}, {EXT(0x12), 0, 0, 0, "ECAP_MCAST"}, {EXT(0x13), 0, 0, 0, "ECAP_PRI"},
	{EXT(0x15), 0, 0, 0, "ECAP_REBAR"}, {EXT(0x16), 0, 0, 0, "ECAP_DPA"}, {EXT(0x17), 0, 0, 0, "ECAP_TPH"},
	{EXT(0x18), 0, 0, 0, "ECAP_LTR"}, {EXT(0x19), 0, 0, 0, "ECAP_SECPCI"}, {EXT(0x1a), 0, 0, 0, "ECAP_PMUX"},
	{EXT(0x1b), 0, 0, 0, "ECAP_PASID"}, {EXT(0x1c), 0, 0, 0, "ECAP_LNR"}, {EXT(0x1d), 0, 0, 0, "ECAP_DPC"},
	{EXT(0x1e), 0, 0, 0, "ECAP_L1PM"}, {EXT(0x1f), 0, 0, 0, "ECAP_PTM"}, {EXT(0x20), 0, 0, 0, "ECAP_M_PCIE"},
	{EXT(0x21), 0, 0, 0, "ECAP_FRS"}, {EXT(0x22), 0, 0, 0, "ECAP_RTR"}, {EXT(0x23), 0, 0, 0, "ECAP_DVSEC"},
	{EXT(0x24), 0, 0, 0, "ECAP_VF_REBAR"}, {EXT(0x25), 0, 0, 0, "ECAP_DLNK"}, {EXT(0x26), 0, 0, 0, "ECAP_16GT"},
	{EXT(0x27), 0, 0, 0, "ECAP_LMR"}, {EXT(0x28), 0, 0, 0, "ECAP_HIER_ID"}, {EXT(0x29), 0, 0, 0, "ECAP_NPEM"},
};

#define N_REGS (sizeof(regs) / sizeof(regs[0]))

static int fail(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const struct reg_name *find_name(const char *s, size_t n)
{
	for (size_t i = 0; i < N_REGS; i++)
		if (strlen(regs[i].name) == n && strncasecmp(regs[i].name, s, n) == 0)
			return &regs[i];
	return NULL;
}

/* Parse hex [s, s+n) with parse_hex()'s rules. */
static int hex_span(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	char buf[24];

	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return parse_hex(buf, max, out);
}

static int parse_base(const char *s, size_t n, struct setpci_op *op, char *why, size_t len)
{
	const struct reg_name *r = find_name(s, n);
	uint64_t v;

	if (hex_span(s, n, CFG_MAX - 1, &v) == 0) {
		op->addr = (unsigned)v;
		return 0;
	}
	if (r) {
		op->name = r->name;
		op->cap_type = (int)(r->cap >> 16);
		op->cap_id = r->cap & 0xffffu;
		op->addr = r->offset;
		op->hdr_mask = r->hdr_mask;
		if (!op->width)
			op->width = r->width;
		return 0;
	}
	if (n > 4 && strncasecmp(s, "ECAP", 4) == 0 && hex_span(s + 4, n - 4, 0xfff, &v) == 0) {
		op->cap_type = SETPCI_CAP_EXT;
		op->cap_id = (unsigned)v;
		return 0;
	}
	if (n > 3 && strncasecmp(s, "CAP", 3) == 0 && hex_span(s + 3, n - 3, 0xff, &v) == 0) {
		op->cap_type = SETPCI_CAP_STD;
		op->cap_id = (unsigned)v;
		return 0;
	}
	return fail(why, len, "unknown register \"%.*s\" (a hex offset, a name such as COMMAND, CAP_EXP or ECAP_AER, "
		    "or CAPnn/ECAPnnnn; 'upci config --names' lists them)", (int)n, s);
}

static int parse_values(const char *v, struct setpci_op *op, char *why, size_t len)
{
	uint32_t lim = op->width == 4 ? 0xffffffffu : (1u << (8 * op->width)) - 1;

	if (!*v)
		return fail(why, len, "missing value after '='");
	while (*v) {
		size_t n = strcspn(v, ","), vn = strcspn(v, ":,");
		uint64_t val, mask = lim;

		if (op->nvalues == SETPCI_MAX_VALUES)
			return fail(why, len, "more than %d values", SETPCI_MAX_VALUES);
		if (hex_span(v, vn, lim, &val))
			return fail(why, len, "bad value \"%.*s\" (hex, at most %0*x for width %u)", (int)vn, v,
				    (int)op->width * 2, lim, op->width);
		if (vn < n && hex_span(v + vn + 1, n - vn - 1, lim, &mask))
			return fail(why, len, "bad mask \"%.*s\" (hex, at most %0*x for width %u)", (int)(n - vn - 1),
				    v + vn + 1, (int)op->width * 2, lim, op->width);
		op->value[op->nvalues] = (uint32_t)(val & mask);
		op->mask[op->nvalues] = (uint32_t)mask;
		op->nvalues++;
		v += n;
		if (*v == ',' && !*++v)
			return fail(why, len, "missing value after ','");
	}
	return 0;
}

int setpci_parse(const char *arg, struct setpci_op *op, char *why, size_t len)
{
	const char *eq = strchr(arg, '='), *end = eq ? eq : arg + strlen(arg);
	const char *at = memchr(arg, '@', (size_t)(end - arg)), *dot, *plus;
	uint64_t v;
	int rc;

	memset(op, 0, sizeof(*op));
	op->text = arg;
	if (at)
		end = at;
	dot = memchr(arg, '.', (size_t)(end - arg));
	if (dot) {
		if (end - dot != 2)
			return fail(why, len, "bad width \"%.*s\" (expected .B, .W or .L)", (int)(end - dot - 1), dot + 1);
		switch (dot[1]) {
		case 'b': case 'B': op->width = 1; break;
		case 'w': case 'W': op->width = 2; break;
		case 'l': case 'L': op->width = 4; break;
		default: return fail(why, len, "bad width \"%c\" (expected .B, .W or .L)", dot[1]);
		}
		end = dot;
	}
	if (at) {
		const char *nend = eq ? eq : at + strlen(at);

		if (hex_span(at + 1, (size_t)(nend - at - 1), 0xff, &v))
			return fail(why, len, "bad capability number \"%.*s\" (hex)", (int)(nend - at - 1), at + 1);
		op->number = (unsigned)v;
	}
	plus = memchr(arg, '+', (size_t)(end - arg));
	rc = parse_base(arg, (size_t)((plus ? plus : end) - arg), op, why, len);
	if (rc)
		return rc;
	if (at && !op->cap_type)
		return fail(why, len, "@N applies to capabilities only");
	if (!op->width)
		return fail(why, len, "missing width in \"%s\" (add .B, .W or .L)", arg);
	if (plus) {
		if (hex_span(plus + 1, (size_t)(end - plus - 1), CFG_MAX - 1, &v))
			return fail(why, len, "bad offset \"%.*s\" (hex, below 1000)", (int)(end - plus - 1), plus + 1);
		op->addr += (unsigned)v;
	}
	if (eq) {
		rc = parse_values(eq + 1, op, why, len);
		if (rc)
			return rc;
	}
	if (op->addr + op->width * (op->nvalues ? op->nvalues : 1) > CFG_MAX)
		return fail(why, len, "register %03x out of range (config space ends at fff)", op->addr);
	if (op->addr & (op->width - 1))
		return fail(why, len, "register %02x is not aligned to width %u", op->addr, op->width);
	return 0;
}

int setpci_resolve(const struct setpci_op *op, const struct cfg_snapshot *c, unsigned *addr, char *why, size_t len)
{
	unsigned a = op->addr, htype = cfg_get8(c, PCI_HEADER_TYPE) & PCI_HEADER_TYPE_MASK;

	if (op->hdr_mask && (htype > 2 || !((1u << htype) & op->hdr_mask))) {
		snprintf(why, len, "%s: header type %u has no such register", op->name, htype);
		return -ENOENT;
	}
	if (op->cap_type) {
		struct cap_entry caps[CAPS_MAX];
		unsigned seen = 0, found = 0;
		size_t n = 0;

		if (op->cap_type == SETPCI_CAP_EXT)
			ext_caps_walk(c, caps, CAPS_MAX, &n);
		else
			caps_walk(c, caps, CAPS_MAX, &n);
		for (size_t i = 0; i < n && !found; i++)
			if (caps[i].id == op->cap_id && seen++ == op->number)
				found = caps[i].offset;
		if (!found) {
			snprintf(why, len, "%s %0*x%s not found: the device has %u with that ID",
				 op->cap_type == SETPCI_CAP_EXT ? "extended capability" : "capability",
				 op->cap_type == SETPCI_CAP_EXT ? 4 : 2, op->cap_id, op->number ? " (that instance)" : "",
				 seen);
			return -ENOENT;
		}
		a += found;
	}
	if (a & (op->width - 1)) {
		snprintf(why, len, "register %03x is not aligned to width %u", a, op->width);
		return -EFAULT;
	}
	if (a + op->width * (op->nvalues ? op->nvalues : 1) > c->size) {
		snprintf(why, len, "register %03x is past the end of config space (%zu bytes)", a, c->size);
		return -ERANGE;
	}
	*addr = a;
	return 0;
}

void setpci_dump_names(void)
{
	printf("cap pos w name\n");
	for (size_t i = 0; i < N_REGS; i++) {
		const struct reg_name *r = &regs[i];

		if (r->cap >> 16 == SETPCI_CAP_EXT)
			printf("%04x", r->cap & 0xffffu);
		else if (r->cap)
			printf("  %02x", r->cap & 0xffffu);
		else
			printf("    ");
		printf(" %02x %c %s\n", r->offset, "-BW?L"[r->width], r->name);
	}
}

/* SPDX-License-Identifier: MIT */
/*
 * Capability walks and decoders over a config-space snapshot (caps.h).
 *
 * Every byte of the snapshot is treated as hostile: reads go through the
 * bounds-checked accessors, walks remember which dword slots they visited,
 * and decoders refuse a capability whose registers would run past the end of
 * the standard 256-byte space.
 *
 * Choices the header leaves open, documented here:
 * - A snapshot must be at least PCI_CFG_SIZE bytes (else -EINVAL); extended
 *   capabilities are only looked for when it is PCIE_CFG_SIZE or larger.
 * - A walk that finds more entries than @max stores the first @max, sets
 *   *n_out to @max and returns -ENOSPC, so the return value can always be
 *   used as a count of valid entries in @out when it is >= 0.
 * - An extended header of 0 or 0xffffffff ends the extended list wherever
 *   it is met (nothing there, or the device stopped answering).
 * - Decoders return -ENOENT when the capability is absent, -ERANGE when its
 *   registers do not fit in config space, -EINVAL on bad arguments. On any
 *   error the output is zeroed, except msix_decode with a reserved BAR
 *   indicator (6 or 7): the output is filled and -ERANGE returned, so a
 *   caller never indexes a BAR array with it by accident.
 */
#include "caps.h"

#include <errno.h>
#include <string.h>

#include "pci_regs.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Not in pci_regs.h: sizes of the two capability headers. */
#define CAP_HDR_SIZE     2u /* ID byte + next byte */
#define EXT_CAP_HDR_SIZE 4u /* ID:16, version:4, next:12 */
/* Not in pci_regs.h: a type 0 header has six BAR registers. */
#define PCI_STD_NUM_BARS 6u
/* Not in pci_regs.h: MSI multiple-message fields are log2 of a vector
 * count; 32 vectors (log2 = 5) is the most MSI can express. */
#define MSI_MAX_LOG2     5u
/* Not in pci_regs.h: payload and read request sizes are 128 << encoding. */
#define PCIE_SIZE_UNIT   128u

/* Capabilities are dword aligned, so one slot per dword bounds each walk. */
#define STD_CAP_SLOTS ((PCI_CFG_SIZE - PCI_STD_HEADER_SIZE) / 4u)  /* 48 */
#define EXT_CAP_SLOTS ((PCIE_CFG_SIZE - PCI_EXT_CAP_START) / 4u)   /* 960 */

/* ---- accessors ---------------------------------------------------------- */

static int in_range(const struct cfg_snapshot *c, size_t off, size_t width)
{
	/* Written so that a huge off cannot wrap around. */
	return c && c->data && off < c->size && c->size - off >= width;
}

uint8_t cfg_get8(const struct cfg_snapshot *c, size_t off)
{
	return in_range(c, off, 1) ? c->data[off] : 0;
}

uint16_t cfg_get16(const struct cfg_snapshot *c, size_t off)
{
	if (!in_range(c, off, 2))
		return 0;
	return (uint16_t)(c->data[off] | (unsigned)c->data[off + 1] << 8);
}

uint32_t cfg_get32(const struct cfg_snapshot *c, size_t off)
{
	if (!in_range(c, off, 4))
		return 0;
	return (uint32_t)c->data[off] | (uint32_t)c->data[off + 1] << 8 | (uint32_t)c->data[off + 2] << 16 |
	       (uint32_t)c->data[off + 3] << 24;
}

static int snapshot_ok(const struct cfg_snapshot *c)
{
	return c && c->data && c->size >= PCI_CFG_SIZE;
}

/* ---- iterators ---------------------------------------------------------- */

/*
 * One iterator per list kind; next() returns 1 with an entry, 0 at the end
 * of the list, -ELOOP on a malformed list (and keeps returning it).
 */
struct std_iter {
	const struct cfg_snapshot *c;
	uint64_t seen; /* bit per dword slot from 0x40; 48 slots fit */
	unsigned next;
	unsigned count;
};

struct ext_iter {
	const struct cfg_snapshot *c;
	uint64_t seen[(EXT_CAP_SLOTS + 63u) / 64u];
	unsigned next;
	unsigned count;
};

static void std_iter_init(struct std_iter *it, const struct cfg_snapshot *c)
{
	it->c = c;
	it->seen = 0;
	it->count = 0;
	it->next = 0;
	/* The pointer at 0x34 means nothing unless STATUS says a list exists. */
	if (cfg_get16(c, PCI_STATUS) & PCI_STATUS_CAP_LIST)
		it->next = cfg_get8(c, PCI_CAPABILITY_LIST) & PCI_CAP_NEXT_MASK;
}

static int std_iter_next(void *opaque, struct cap_entry *e)
{
	struct std_iter *it = opaque;
	unsigned off = it->next;
	uint64_t bit;

	if (off == 0)
		return 0;
	/* Inside the header, or (defensively) a header that would not fit. */
	if (off < PCI_STD_HEADER_SIZE || off + CAP_HDR_SIZE > PCI_CFG_SIZE)
		return -ELOOP;
	bit = UINT64_C(1) << ((off - PCI_STD_HEADER_SIZE) / 4u);
	if ((it->seen & bit) || it->count >= STD_CAP_SLOTS)
		return -ELOOP;
	it->seen |= bit;
	it->count++;

	e->id = cfg_get8(it->c, off + PCI_CAP_LIST_ID);
	e->offset = (uint16_t)off;
	e->version = 0;
	it->next = cfg_get8(it->c, off + PCI_CAP_LIST_NEXT) & PCI_CAP_NEXT_MASK;
	return 1;
}

static void ext_iter_init(struct ext_iter *it, const struct cfg_snapshot *c)
{
	memset(it, 0, sizeof(*it));
	it->c = c;
	/* A 256-byte snapshot has no extended space to look at. */
	if (c->size >= PCIE_CFG_SIZE)
		it->next = PCI_EXT_CAP_START;
}

static int ext_iter_next(void *opaque, struct cap_entry *e)
{
	struct ext_iter *it = opaque;
	unsigned off = it->next, slot;
	uint32_t hdr;

	if (off == 0)
		return 0;
	if (off < PCI_EXT_CAP_START || off + EXT_CAP_HDR_SIZE > PCIE_CFG_SIZE)
		return -ELOOP;
	slot = (off - PCI_EXT_CAP_START) / 4u;
	if ((it->seen[slot / 64u] >> (slot % 64u) & 1u) || it->count >= EXT_CAP_SLOTS)
		return -ELOOP;

	hdr = cfg_get32(it->c, off);
	if (hdr == 0 || hdr == UINT32_MAX) {
		it->next = 0;
		return 0;
	}
	it->seen[slot / 64u] |= UINT64_C(1) << (slot % 64u);
	it->count++;

	e->id = (uint16_t)PCI_EXT_CAP_ID(hdr);
	e->offset = (uint16_t)off;
	e->version = (uint8_t)PCI_EXT_CAP_VER(hdr);
	it->next = PCI_EXT_CAP_NEXT(hdr);
	return 1;
}

typedef int (*iter_next_fn)(void *it, struct cap_entry *e);

static int collect(iter_next_fn next, void *it, struct cap_entry *out, size_t max, size_t *n_out)
{
	struct cap_entry e;
	size_t n = 0;
	int rc;

	while ((rc = next(it, &e)) > 0) {
		if (n == max) {
			rc = -ENOSPC;
			break;
		}
		out[n++] = e;
	}
	if (n_out)
		*n_out = n;
	return rc < 0 ? rc : (int)n;
}

static unsigned find_id(iter_next_fn next, void *it, uint16_t id)
{
	struct cap_entry e;

	while (next(it, &e) > 0)
		if (e.id == id)
			return e.offset;
	return 0;
}

/* ---- walks -------------------------------------------------------------- */

int caps_walk(const struct cfg_snapshot *c, struct cap_entry *out, size_t max, size_t *n_out)
{
	struct std_iter it;

	if (n_out)
		*n_out = 0;
	if (!snapshot_ok(c) || (!out && max))
		return -EINVAL;
	std_iter_init(&it, c);
	return collect(std_iter_next, &it, out, max, n_out);
}

int ext_caps_walk(const struct cfg_snapshot *c, struct cap_entry *out, size_t max, size_t *n_out)
{
	struct ext_iter it;

	if (n_out)
		*n_out = 0;
	if (!snapshot_ok(c) || (!out && max))
		return -EINVAL;
	ext_iter_init(&it, c);
	return collect(ext_iter_next, &it, out, max, n_out);
}

unsigned caps_find(const struct cfg_snapshot *c, uint8_t id)
{
	struct std_iter it;

	if (!snapshot_ok(c))
		return 0;
	std_iter_init(&it, c);
	return find_id(std_iter_next, &it, id);
}

unsigned ext_caps_find(const struct cfg_snapshot *c, uint16_t id)
{
	struct ext_iter it;

	if (!snapshot_ok(c))
		return 0;
	ext_iter_init(&it, c);
	return find_id(ext_iter_next, &it, id);
}

/* ---- names -------------------------------------------------------------- */

/* Indices are the IDs assigned by the PCI-SIG; only a few have names in
 * pci_regs.h, the rest appear nowhere else in the code. */
static const char *const std_names[] = {
	[PCI_CAP_ID_PM] = "Power Management",
	[0x02] = "AGP",
	[0x03] = "Vital Product Data",
	[0x04] = "Slot ID",
	[PCI_CAP_ID_MSI] = "MSI",
	[0x06] = "CompactPCI Hot Swap",
	[0x07] = "PCI-X",
	[0x08] = "HyperTransport",
	[PCI_CAP_ID_VNDR] = "Vendor Specific",
	[0x0a] = "Debug port",
	[0x0b] = "CompactPCI Central Resource Control",
	[0x0c] = "PCI Hot-Plug",
	[0x0d] = "Bridge subsystem vendor",
	[0x0e] = "AGP 8x",
	[0x0f] = "Secure Device",
	[PCI_CAP_ID_EXP] = "PCI Express",
	[PCI_CAP_ID_MSIX] = "MSI-X",
	[0x12] = "SATA",
	[0x13] = "Advanced Features",
	[0x14] = "Enhanced Allocation",
	[0x15] = "Flattening Portal Bridge",
};

static const char *const ext_names[] = {
	[PCI_EXT_CAP_ID_ERR] = "Advanced Error Reporting",
	[0x0002] = "Virtual Channel",
	[PCI_EXT_CAP_ID_DSN] = "Device Serial Number",
	[0x0004] = "Power Budgeting",
	[0x0005] = "Root Complex Link Declaration",
	[0x0006] = "Root Complex Internal Link Control",
	[0x0007] = "Root Complex Event Collector Endpoint Association",
	[0x0008] = "Multi-Function Virtual Channel",
	[0x0009] = "Virtual Channel", /* the second VC ID, used with MFVC */
	[0x000a] = "Root Complex Register Block",
	[PCI_EXT_CAP_ID_VNDR] = "Vendor Specific",
	[0x000c] = "Configuration Access Correlation",
	[0x000d] = "Access Control Services",
	[0x000e] = "Alternative Routing-ID Interpretation",
	[0x000f] = "Address Translation Services",
	[0x0010] = "SR-IOV",
	[0x0011] = "MR-IOV",
	[0x0012] = "Multicast",
	[0x0013] = "Page Request Interface",
	[0x0015] = "Resizable BAR",
	[0x0016] = "Dynamic Power Allocation",
	[0x0017] = "TPH Requester",
	[0x0018] = "Latency Tolerance Reporting",
	[0x0019] = "Secondary PCI Express",
	[0x001a] = "Protocol Multiplexing",
	[0x001b] = "PASID",
	[0x001c] = "LN Requester",
	[0x001d] = "Downstream Port Containment",
	[0x001e] = "L1 PM Substates",
	[0x001f] = "Precision Time Measurement",
	[0x0020] = "M-PCIe",
	[0x0021] = "FRS Queueing",
	[0x0022] = "Readiness Time Reporting",
	[0x0023] = "Designated Vendor-Specific",
	[0x0024] = "VF Resizable BAR",
	[0x0025] = "Data Link Feature",
	[0x0026] = "Physical Layer 16.0 GT/s",
	[0x0027] = "Lane Margining at the Receiver",
	[0x0028] = "Hierarchy ID",
	[0x0029] = "Native PCIe Enclosure Management",
	[0x002a] = "Physical Layer 32.0 GT/s",
	[0x002e] = "Data Object Exchange",
	[0x002f] = "Device 3",
	[0x0030] = "Integrity and Data Encryption",
	[0x0031] = "Physical Layer 64.0 GT/s",
};

static const char *name_in(const char *const *table, size_t len, uint16_t id)
{
	return id < len && table[id] ? table[id] : "unknown";
}

const char *cap_name(uint16_t id)
{
	return name_in(std_names, ARRAY_LEN(std_names), id);
}

const char *ext_cap_name(uint16_t id)
{
	return name_in(ext_names, ARRAY_LEN(ext_names), id);
}

/* ---- decoders ----------------------------------------------------------- */

/*
 * Locate standard capability @id and check that its first @len bytes lie in
 * the 256-byte standard space (the only place a standard capability may be).
 */
static int std_cap_at(const struct cfg_snapshot *c, uint8_t id, unsigned len, unsigned *off)
{
	if (!snapshot_ok(c))
		return -EINVAL;
	*off = caps_find(c, id);
	if (*off == 0)
		return -ENOENT;
	if (*off + len > PCI_CFG_SIZE)
		return -ERANGE;
	return 0;
}

int bar_decode(const struct cfg_snapshot *c, unsigned n, struct bar_decode *out)
{
	uint32_t lo, hi;

	if (out)
		memset(out, 0, sizeof(*out));
	if (!snapshot_ok(c) || !out || n >= PCI_STD_NUM_BARS)
		return -EINVAL;

	lo = cfg_get32(c, PCI_BAR_OFFSET(n));
	out->present = lo != 0;
	if (lo & PCI_BAR_SPACE_IO) {
		/* Bit 3 of an I/O BAR is an address bit, not "prefetchable". */
		out->is_io = 1;
		out->address = lo & PCI_BAR_IO_ADDR_MASK;
		return 0;
	}

	out->prefetch = (lo & PCI_BAR_MEM_PREFETCH) != 0;
	out->address = lo & PCI_BAR_MEM_ADDR_MASK;
	/* Reserved type encodings are read as 32-bit: nothing better to do. */
	if ((lo & PCI_BAR_MEM_TYPE_MASK) != PCI_BAR_MEM_TYPE_64)
		return 0;
	if (n + 1 >= PCI_STD_NUM_BARS) {
		/* The upper half would be past the BAR block. */
		memset(out, 0, sizeof(*out));
		return -EINVAL;
	}
	hi = cfg_get32(c, PCI_BAR_OFFSET(n + 1));
	out->is_64 = 1;
	out->address |= (uint64_t)hi << 32;
	out->present = lo != 0 || hi != 0;
	return 0;
}

static unsigned msi_vectors(unsigned log2)
{
	/* Encodings 6 and 7 are reserved; clamp so the result stays 1..32. */
	return 1u << (log2 > MSI_MAX_LOG2 ? MSI_MAX_LOG2 : log2);
}

int msi_decode(const struct cfg_snapshot *c, struct msi_decode *out)
{
	unsigned off, data_reg, mask_reg, pending_reg, end;
	uint16_t flags;
	int rc;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	rc = std_cap_at(c, PCI_CAP_ID_MSI, PCI_MSI_FLAGS + 2u, &off);
	if (rc)
		return rc;

	flags = cfg_get16(c, off + PCI_MSI_FLAGS);
	out->is_64 = (flags & PCI_MSI_FLAGS_64BIT) != 0;
	out->per_vector_mask = (flags & PCI_MSI_FLAGS_MASKBIT) != 0;
	data_reg = out->is_64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32;
	mask_reg = out->is_64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32;
	pending_reg = out->is_64 ? PCI_MSI_PENDING_64 : PCI_MSI_PENDING_32;
	/* The layout, hence the length, depends on the flags. */
	end = out->per_vector_mask ? pending_reg + 4u : data_reg + 2u;
	if (off + end > PCI_CFG_SIZE) {
		memset(out, 0, sizeof(*out));
		return -ERANGE;
	}

	out->offset = off;
	out->enabled = (flags & PCI_MSI_FLAGS_ENABLE) != 0;
	out->vectors_capable = msi_vectors((flags & PCI_MSI_FLAGS_QMASK) >> PCI_MSI_FLAGS_QMASK_SHIFT);
	out->vectors_enabled = msi_vectors((flags & PCI_MSI_FLAGS_QSIZE) >> PCI_MSI_FLAGS_QSIZE_SHIFT);
	out->address = cfg_get32(c, off + PCI_MSI_ADDRESS_LO);
	if (out->is_64)
		out->address |= (uint64_t)cfg_get32(c, off + PCI_MSI_ADDRESS_HI) << 32;
	out->data = cfg_get16(c, off + data_reg);
	if (out->per_vector_mask) {
		out->mask_bits = cfg_get32(c, off + mask_reg);
		out->pending_bits = cfg_get32(c, off + pending_reg);
	}
	return 0;
}

int msix_decode(const struct cfg_snapshot *c, struct msix_decode *out)
{
	uint32_t table, pba;
	uint16_t flags;
	unsigned off;
	int rc;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	rc = std_cap_at(c, PCI_CAP_ID_MSIX, PCI_MSIX_SIZEOF, &off);
	if (rc)
		return rc;

	flags = cfg_get16(c, off + PCI_MSIX_FLAGS);
	table = cfg_get32(c, off + PCI_MSIX_TABLE);
	pba = cfg_get32(c, off + PCI_MSIX_PBA);
	out->offset = off;
	out->enabled = (flags & PCI_MSIX_FLAGS_ENABLE) != 0;
	out->function_mask = (flags & PCI_MSIX_FLAGS_MASKALL) != 0;
	out->table_size = (flags & PCI_MSIX_FLAGS_QSIZE) + 1u;
	out->table_bar = table & PCI_MSIX_BIR_MASK;
	out->table_offset = table & PCI_MSIX_OFFSET_MASK;
	out->pba_bar = pba & PCI_MSIX_BIR_MASK;
	out->pba_offset = pba & PCI_MSIX_OFFSET_MASK;
	if (out->table_bar >= PCI_STD_NUM_BARS || out->pba_bar >= PCI_STD_NUM_BARS)
		return -ERANGE;
	return 0;
}

int pcie_decode(const struct cfg_snapshot *c, struct pcie_decode *out)
{
	uint32_t devcap, lnkcap;
	uint16_t flags, devctl, lnksta;
	unsigned off;
	int rc;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	/* Everything read here lies before the end of the link status. */
	rc = std_cap_at(c, PCI_CAP_ID_EXP, PCI_EXP_LNKSTA + 2u, &off);
	if (rc)
		return rc;

	flags = cfg_get16(c, off + PCI_EXP_FLAGS);
	devcap = cfg_get32(c, off + PCI_EXP_DEVCAP);
	devctl = cfg_get16(c, off + PCI_EXP_DEVCTL);
	lnkcap = cfg_get32(c, off + PCI_EXP_LNKCAP);
	lnksta = cfg_get16(c, off + PCI_EXP_LNKSTA);

	out->offset = off;
	out->version = flags & PCI_EXP_FLAGS_VERS;
	out->port_type = (flags & PCI_EXP_FLAGS_TYPE) >> PCI_EXP_FLAGS_TYPE_SHIFT;
	out->flr = (devcap & PCI_EXP_DEVCAP_FLR) != 0;
	/* 3-bit encodings: at most 128 << 7; values above 4096 are reserved
	 * encodings, reported as they decode. */
	out->max_payload_cap = PCIE_SIZE_UNIT << (devcap & PCI_EXP_DEVCAP_PAYLOAD);
	out->max_payload = PCIE_SIZE_UNIT << ((devctl & PCI_EXP_DEVCTL_PAYLOAD) >> PCI_EXP_DEVCTL_PAYLOAD_SHIFT);
	out->max_read_req = PCIE_SIZE_UNIT << ((devctl & PCI_EXP_DEVCTL_READRQ) >> PCI_EXP_DEVCTL_READRQ_SHIFT);
	out->link_speed_cap = lnkcap & PCI_EXP_LNKCAP_SLS;
	out->link_width_cap = (lnkcap & PCI_EXP_LNKCAP_MLW) >> PCI_EXP_LNKCAP_MLW_SHIFT;
	out->link_speed = lnksta & PCI_EXP_LNKSTA_CLS;
	out->link_width = (lnksta & PCI_EXP_LNKSTA_NLW) >> PCI_EXP_LNKSTA_NLW_SHIFT;
	return 0;
}

int pm_decode(const struct cfg_snapshot *c, struct pm_decode *out)
{
	uint16_t pmc, ctrl;
	unsigned off;
	int rc;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	rc = std_cap_at(c, PCI_CAP_ID_PM, PCI_PM_SIZEOF, &off);
	if (rc)
		return rc;

	pmc = cfg_get16(c, off + PCI_PM_PMC);
	ctrl = cfg_get16(c, off + PCI_PM_CTRL);
	out->offset = off;
	out->version = pmc & PCI_PM_PMC_VERSION_MASK;
	out->d1 = (pmc & PCI_PM_PMC_D1) != 0;
	out->d2 = (pmc & PCI_PM_PMC_D2) != 0;
	out->state = ctrl & PCI_PM_CTRL_STATE_MASK;
	out->no_soft_reset = (ctrl & PCI_PM_CTRL_NO_SOFT_RESET) != 0;
	return 0;
}

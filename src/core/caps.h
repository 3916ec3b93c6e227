/* SPDX-License-Identifier: MIT */
/*
 * Config-space helpers shared by the library, the CLI and the device models:
 * capability walks and decoders. They work on a snapshot of config space
 * (a byte buffer of 256 or 4096 bytes) so that they never touch a device and
 * can be fed hostile bytes in tests.
 *
 * Guarantees: every walk terminates (loop protection: a pointer visited
 * twice, a pointer into the header, or more than the space can hold stops
 * the walk with -ELOOP); no read outside the buffer.
 */
#ifndef UPCI_CORE_CAPS_H
#define UPCI_CORE_CAPS_H

#include <stddef.h>
#include <stdint.h>

struct cfg_snapshot {
	const uint8_t *data;
	size_t size; /* 256 or 4096 */
};

/* Little-endian field accessors; return 0 for reads past the end. */
uint8_t cfg_get8(const struct cfg_snapshot *c, size_t off);
uint16_t cfg_get16(const struct cfg_snapshot *c, size_t off);
uint32_t cfg_get32(const struct cfg_snapshot *c, size_t off);

#define CAPS_MAX 64

struct cap_entry {
	uint16_t id;     /* capability ID (8-bit) or extended ID (16-bit) */
	uint16_t offset; /* config-space offset of its header */
	uint8_t version; /* extended capabilities only */
};

/*
 * Walk the standard capability list. Fills up to max entries, returns the
 * number found (>= 0), or -ELOOP for a malicious list (entries found before
 * the loop are kept in out and *n_out), -EINVAL on bad arguments.
 * A device without PCI_STATUS_CAP_LIST has zero capabilities.
 */
int caps_walk(const struct cfg_snapshot *c, struct cap_entry *out, size_t max, size_t *n_out);

/* Same for extended capabilities (0x100..0xfff); 0 found when size is 256. */
int ext_caps_walk(const struct cfg_snapshot *c, struct cap_entry *out, size_t max, size_t *n_out);

/* Offset of the first standard capability with id, 0 when absent
 * (or when the list is malformed before reaching it). */
unsigned caps_find(const struct cfg_snapshot *c, uint8_t id);
unsigned ext_caps_find(const struct cfg_snapshot *c, uint16_t id);

/* Human name of a capability ID ("MSI", "MSI-X", ...; "unknown" otherwise). */
const char *cap_name(uint16_t id);
const char *ext_cap_name(uint16_t id);

/* BAR decoding from the raw registers (sizes come from elsewhere). */
struct bar_decode {
	int present;       /* raw register or size non-zero */
	int is_io;
	int is_64;
	int prefetch;
	uint64_t address;  /* address bits (64-bit BARs combine two registers) */
};
/* Decode BAR n (0..5). For a 64-bit BAR in slot 5 (no upper half) returns
 * -EINVAL. Returns 0 otherwise. */
int bar_decode(const struct cfg_snapshot *c, unsigned n, struct bar_decode *out);

struct msi_decode {
	unsigned offset;
	int enabled;
	int is_64;
	int per_vector_mask;
	unsigned vectors_capable; /* 1..32 */
	unsigned vectors_enabled; /* 1..32 */
	uint64_t address;
	uint16_t data;
	uint32_t mask_bits;
	uint32_t pending_bits;
};
/* -ENOENT when there is no MSI capability. */
int msi_decode(const struct cfg_snapshot *c, struct msi_decode *out);

struct msix_decode {
	unsigned offset;
	int enabled;
	int function_mask;
	unsigned table_size;  /* 1..2048 */
	unsigned table_bar;
	uint32_t table_offset;
	unsigned pba_bar;
	uint32_t pba_offset;
};
int msix_decode(const struct cfg_snapshot *c, struct msix_decode *out);

struct pcie_decode {
	unsigned offset;
	unsigned version;
	unsigned port_type;
	int flr;                  /* DEVCAP function-level reset capable */
	unsigned max_payload_cap; /* bytes */
	unsigned max_payload;     /* bytes, from DEVCTL */
	unsigned max_read_req;    /* bytes */
	unsigned link_speed_cap;  /* encoding 1..6 (2.5..64 GT/s) */
	unsigned link_width_cap;
	unsigned link_speed;
	unsigned link_width;
};
int pcie_decode(const struct cfg_snapshot *c, struct pcie_decode *out);

struct pm_decode {
	unsigned offset;
	unsigned version;
	int d1, d2;
	unsigned state;  /* D0..D3hot */
	int no_soft_reset;
};
int pm_decode(const struct cfg_snapshot *c, struct pm_decode *out);

#endif /* UPCI_CORE_CAPS_H */

/* SPDX-License-Identifier: MIT */
/*
 * Emulated config space for device models: the bytes, which bits a write
 * may change, which bits are write-1-to-clear, and the power-on image that
 * reset restores. BAR registers are ordinary masked bytes, so the sizing
 * protocol (write all ones, read back the size mask) works by itself.
 *
 * Guarantees: no access outside size; a write changes only writable bits;
 * the read-only header fields (IDs, class, capability pointers) can never be
 * changed by a write.
 */
#ifndef UPCI_MODEL_CFGSPACE_H
#define UPCI_MODEL_CFGSPACE_H

#include <stdint.h>

struct cfgspace {
	uint32_t size;          /* 256 or 4096 */
	uint8_t data[4096];
	uint8_t wmask[4096];    /* 1 = writable */
	uint8_t w1cmask[4096];  /* 1 = write 1 to clear */
	uint8_t reset_image[4096];
};

/* Zero everything, set size (256 or 4096); COMMAND's memory/io/master/
 * INTx-disable/SERR/parity bits writable, STATUS error bits W1C, cache line
 * and latency timer and interrupt line writable. */
void cfgspace_init(struct cfgspace *c, uint32_t size);

/* Header fields (writes data only; masks untouched). */
void cfgspace_set_ids(struct cfgspace *c, uint16_t vendor, uint16_t device, uint16_t subvendor, uint16_t subdevice,
		      uint8_t revision, uint32_t class_code);

/* Declare BAR n: size (power of two >= 16 for memory, >= 4 for I/O) and
 * UPCI_BAR_* flags; sets the type bits and the writable address mask (both
 * halves for 64-bit). */
void cfgspace_set_bar(struct cfgspace *c, unsigned n, uint64_t size, uint32_t flags);

/* Append a standard capability of @len bytes with @id at @off (0x40..0xff,
 * dword aligned), chaining it after the last one and setting
 * PCI_STATUS_CAP_LIST. Returns @off. */
unsigned cfgspace_add_cap(struct cfgspace *c, uint8_t id, unsigned off, unsigned len);

/* Append an extended capability at @off (>= 0x100). Returns @off. */
unsigned cfgspace_add_ext_cap(struct cfgspace *c, uint16_t id, uint8_t version, unsigned off);

/* Byte-level mask editing. */
void cfgspace_set_wmask(struct cfgspace *c, unsigned off, unsigned width, uint32_t mask);
void cfgspace_set_w1cmask(struct cfgspace *c, unsigned off, unsigned width, uint32_t mask);

/* Little-endian raw access (no masks) for the model itself. */
uint32_t cfgspace_get(const struct cfgspace *c, unsigned off, unsigned width);
void cfgspace_put(struct cfgspace *c, unsigned off, unsigned width, uint32_t val);

/* Snapshot the current bytes as the power-on image. */
void cfgspace_commit_reset_image(struct cfgspace *c);
/* Restore the power-on image. */
void cfgspace_reset(struct cfgspace *c);

/* Access from the bus. width 1/2/4, off+width <= size (callers checked;
 * out-of-range reads return all ones, writes are dropped). */
uint32_t cfgspace_read(const struct cfgspace *c, unsigned off, unsigned width);
void cfgspace_write(struct cfgspace *c, unsigned off, unsigned width, uint32_t val);

#endif /* UPCI_MODEL_CFGSPACE_H */

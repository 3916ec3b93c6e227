/* SPDX-License-Identifier: MIT */
/*
 * A DART-like IOMMU for the shim: it chooses bus addresses (never the
 * IOVA the client uses as a key), in 16 KiB granules, from a 1.5 GiB
 * window, with at most 65,536 live mappings and 32 segments per prepare.
 * A request it cannot place in one run comes back in several segments;
 * the driver model refuses those (kIOReturnNotAligned), as the real driver
 * does.
 */
#ifndef UPCI_IOKIT_SHIM_DART_H
#define UPCI_IOKIT_SHIM_DART_H

#include <stdint.h>

struct dart;

struct dart_seg {
	uint64_t bus, len;      /* what the device is given */
	uint32_t unit, nunits;  /* granules held */
};

int dart_create(uint64_t base, uint64_t size, unsigned max_mappings, struct dart **out);
void dart_destroy(struct dart *d);
/*
 * Map [va, va + len): fills up to @max segments and returns how many
 * (>= 1); *covered is their total length (short when @max ran out).
 * -ENOSPC when not even one granule or one mapping is left for it.
 */
int dart_prepare(struct dart *d, uint64_t va, uint64_t len, struct dart_seg *segs, unsigned max, uint64_t *covered);
void dart_complete(struct dart *d, const struct dart_seg *segs, unsigned n);
void dart_usage(const struct dart *d, uint64_t *base, uint64_t *size, uint64_t *mapped, unsigned *mappings);

#endif

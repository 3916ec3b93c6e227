/* SPDX-License-Identifier: MIT */
/* The shim's DART: a granule bitmap, first fit from the lowest free one. */
#include <errno.h>
#include <stdlib.h>

#include "dart.h"
#include "dext_proto.h"

#define G DEXT_DART_GRANULE

struct dart {
	uint64_t base;
	uint32_t nunits, free_units;
	uint32_t hint;        /* no free granule below this */
	unsigned live, max_live;
	uint64_t *map;        /* bit set = granule in use */
};

static int used(const struct dart *d, uint32_t u)
{
	return (int)((d->map[u / 64] >> (u % 64)) & 1);
}

static void mark(struct dart *d, uint32_t u, uint32_t n, int on)
{
	for (uint32_t i = u; i < u + n; i++) {
		if (on)
			d->map[i / 64] |= UINT64_C(1) << (i % 64);
		else
			d->map[i / 64] &= ~(UINT64_C(1) << (i % 64));
	}
}

int dart_create(uint64_t base, uint64_t size, unsigned max_mappings, struct dart **out)
{
	struct dart *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->base = base;
	d->nunits = (uint32_t)(size / G);
	d->free_units = d->nunits;
	d->max_live = max_mappings;
	d->map = calloc((d->nunits + 63) / 64, sizeof(uint64_t));
	if (!d->map) {
		free(d);
		return -ENOMEM;
	}
	*out = d;
	return 0;
}

void dart_destroy(struct dart *d)
{
	if (d) {
		free(d->map);
		free(d);
	}
}

/* Next free run at or after @from: its start and length (capped at @want). */
static int next_run(const struct dart *d, uint32_t from, uint32_t want, uint32_t *start, uint32_t *len)
{
	uint32_t u = from;

	while (u < d->nunits) {
		if ((u % 64) == 0 && d->map[u / 64] == UINT64_MAX) {
			u += 64;
			continue;
		}
		if (used(d, u)) {
			u++;
			continue;
		}
		*start = u;
		while (u < d->nunits && !used(d, u) && u - *start < want)
			u++;
		*len = u - *start;
		return 0;
	}
	return -1;
}

static void fix_hint(struct dart *d)
{
	while (d->hint < d->nunits && used(d, d->hint))
		d->hint++;
}

int dart_prepare(struct dart *d, uint64_t va, uint64_t len, struct dart_seg *segs, unsigned max, uint64_t *covered)
{
	uint64_t off = va & (G - 1), need64 = (off + len + G - 1) / G;
	uint32_t need, start = 0, run = 0, from;
	unsigned n = 0;

	if (len == 0 || max == 0 || need64 > d->free_units || d->live >= d->max_live)
		return -ENOSPC;
	need = (uint32_t)need64;
	/* One run when there is one: first fit. */
	for (from = d->hint; next_run(d, from, need, &start, &run) == 0; from = start + run) {
		if (run == need) {
			mark(d, start, need, 1);
			segs[0].unit = start;
			segs[0].nunits = need;
			segs[0].bus = d->base + (uint64_t)start * G + off;
			segs[0].len = len;
			d->free_units -= need;
			d->live++;
			fix_hint(d);
			*covered = len;
			return 1;
		}
	}
	/* Fragmented: the pieces, lowest first, as far as @max and the
	 * mapping limit go. */
	*covered = 0;
	for (from = d->hint; n < max && d->live < d->max_live && need && next_run(d, from, need, &start, &run) == 0;
	     from = start + run) {
		uint64_t bytes = (uint64_t)run * G - (n == 0 ? off : 0);

		if (bytes > len - *covered)
			bytes = len - *covered;
		mark(d, start, run, 1);
		segs[n].unit = start;
		segs[n].nunits = run;
		segs[n].bus = d->base + (uint64_t)start * G + (n == 0 ? off : 0);
		segs[n].len = bytes;
		d->free_units -= run;
		d->live++;
		need -= run;
		*covered += bytes;
		n++;
	}
	fix_hint(d);
	return n ? (int)n : -ENOSPC;
}

void dart_complete(struct dart *d, const struct dart_seg *segs, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		mark(d, segs[i].unit, segs[i].nunits, 0);
		d->free_units += segs[i].nunits;
		d->live--;
		if (segs[i].unit < d->hint)
			d->hint = segs[i].unit;
	}
}

void dart_usage(const struct dart *d, uint64_t *base, uint64_t *size, uint64_t *mapped, unsigned *mappings)
{
	*base = d->base;
	*size = (uint64_t)d->nunits * G;
	*mapped = (uint64_t)(d->nunits - d->free_units) * G;
	*mappings = d->live;
}

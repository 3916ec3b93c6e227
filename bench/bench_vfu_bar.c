/* SPDX-License-Identifier: MIT */
/*
 * Figure "bar": testdev BAR2 (prefetchable RAM) read 4 bytes at a time
 * through the mapping upci_bar_map() makes of the server's sparse-mmap fd,
 * next to the same reads in-band (upci_mmio_read: one REGION_READ each),
 * and a plain load from malloc'd memory for scale. No goal: the figure
 * says what a mappable BAR saves.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_util.h"
#include "bench_vfu.h"
#include "bench_vfu_tab.h"
#include "proto.h"
#include "testdev_regs.h"

/* Written one way and read the other, so a mapping that is not the
 * server's memory is caught before it is timed. */
#define PATTERN_IN  0x5a17c0deu /* upci_mmio_write, seen through the mapping */
#define PATTERN_OUT 0x0ddba11u  /* stored through the mapping, seen in-band */
#define ACCESS_BYTES (sizeof(struct vfu_hdr) + sizeof(struct vfu_region_access))

struct load_ctx {
	const volatile uint32_t *p;
	uint32_t sink;
};

struct call_ctx {
	upci_dev *dev;
	uint64_t sink;
};

/* The same loop for the mapping and for plain memory. */
static int load_loop(void *c, uint64_t n)
{
	struct load_ctx *x = c;
	const volatile uint32_t *p = x->p;
	uint32_t s = 0;

	for (uint64_t i = 0; i < n; i++)
		s += *p;
	x->sink += s;
	return 0;
}

static int inband_loop(void *c, uint64_t n)
{
	struct call_ctx *x = c;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t v;
		int rc = upci_mmio_read(x->dev, TESTDEV_BAR_MEM, 0, 4, &v);

		if (rc)
			return rc;
		x->sink += v;
	}
	return 0;
}

/* Map BAR2 and prove it is the device's memory; NULL (with a note) when
 * the server offers no mapping for it. */
static volatile uint32_t *map_bar2(struct bench_dev *d)
{
	struct upci_bar_info bi;
	volatile uint32_t *p;
	void *addr = NULL;
	uint64_t len = 0, v = 0;
	int rc;

	bench_ok(upci_mmio_write(d->dev, TESTDEV_BAR_MEM, 0, 4, PATTERN_IN), d->uri, "write BAR2");
	bench_ok(upci_bar_info(d->dev, TESTDEV_BAR_MEM, &bi), d->uri, "BAR2 info");
	rc = upci_bar_map(d->dev, TESTDEV_BAR_MEM, &addr, &len);
	if (rc == -ENOTSUP) {
		printf("note: %s offers no mapping of BAR2 (no sparse-mmap fd): no mapped row\n", d->uri);
		return NULL;
	}
	bench_ok(rc, d->uri, "map BAR2");
	p = addr;
	if (p[0] != PATTERN_IN)
		bench_die(d->uri, "mapped BAR2 does not show what REGION_WRITE wrote", -EIO);
	if (!(bi.flags & UPCI_BAR_MAP_RDONLY)) {
		p[1] = PATTERN_OUT;
		bench_ok(upci_mmio_read(d->dev, TESTDEV_BAR_MEM, 4, 4, &v), d->uri, "read BAR2");
		if (v != PATTERN_OUT)
			bench_die(d->uri, "a store through the BAR2 mapping is not seen by the server", -EIO);
	}
	return p;
}

int vfu_fig_bar(const struct vfu_args *a)
{
	struct bench_dev *d = a->dev;
	struct call_ctx in = {.dev = d->dev};
	struct load_ctx mapped = {0}, plain = {0};
	volatile uint32_t *bar;
	uint32_t *mem;
	struct vfu_tab t = {0};
	int r_in, r_map, r_mem;

	bench_title("upci bench-vfio-user: mapped BAR vs in-band reads",
		    "testdev BAR2, 4-byte reads at offset 0; x in-band = rate / the in-band REGION_READ rate.");
	if (d->kind != BENCH_TESTDEV) {
		printf("note: %s (%04x:%04x) is not testdev: no BAR figure\n", d->uri, d->id.vendor_id,
		       d->id.device_id);
		return 0;
	}
	bar = map_bar2(d);
	mem = aligned_alloc(64, 64);
	if (!mem)
		bench_die("bench", "allocating", -ENOMEM);
	*mem = 1;
	mapped.p = bar;
	plain.p = mem;

	r_in = vfu_tab_add(&t, d->uri, "REGION_READ 4 B BAR2, upci_mmio_read", ACCESS_BYTES, ACCESS_BYTES + 4, -1,
			   inband_loop, &in);
	r_map = bar ? vfu_tab_add(&t, d->uri, "load 4 B BAR2, mapped", 0, 0, r_in, load_loop, &mapped) : -1;
	r_mem = vfu_tab_add(&t, "memory", "load 4 B, malloc'd buffer", 0, 0, r_in, load_loop, &plain);
	vfu_tab_run(&t, a->quick);
	vfu_tab_print(&t, "req / rep B", "in-band");
	if (r_map >= 0)
		printf("mapped BAR2 read: %.0fx the in-band rate; %.2fx the time of a plain memory load\n",
		       vfu_tab_ratio(&t, r_map), t.op[r_map].ns_med / t.op[r_mem].ns_med);
	else
		printf("mapped BAR2 read: not measured (BAR2 not mappable over this server)\n");

	if (bar)
		bench_ok(upci_bar_unmap(d->dev, TESTDEV_BAR_MEM), d->uri, "unmap BAR2");
	free(mem);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * Figure 1: per-operation cost of a config read and of an MMIO read,
 * through the library call path and through the mapped BAR, next to a
 * plain volatile load from a malloc'd buffer (the floor).
 *
 * Goal: a mapped-BAR read within 2x the plain load.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_dev.h"
#include "bench_figs.h"
#include "bench_util.h"
#include "edu_regs.h"
#include "testdev_regs.h"

#define MAX_ROWS   16
#define GOAL_RATIO 2.0
/* Written through the call path and read back through the mapping, so a
 * mapping that shows other memory is caught before it is timed. */
#define BAR2_PATTERN 0x5a17c0deu

struct load_ctx {
	const volatile uint32_t *p;
	uint32_t sink;
};

struct call_ctx {
	upci_dev *dev;
	unsigned bar;
	uint64_t off;
	uint64_t sink;
};

struct row {
	const char *dev;
	const char *what;
	const char *path;
	int goal; /* the 2x goal applies to this row */
};

struct fig {
	unsigned n;
	struct bench_op op[MAX_ROWS];
	struct row row[MAX_ROWS];
	struct load_ctx lctx[MAX_ROWS];
	struct call_ctx cctx[MAX_ROWS];
};

/* The same code times the floor and the mapped BAR: only the memory differs. */
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

static int config_loop(void *c, uint64_t n)
{
	struct call_ctx *x = c;
	uint32_t v;

	for (uint64_t i = 0; i < n; i++) {
		int rc = upci_config_read(x->dev, (uint32_t)x->off, 4, &v);

		if (rc)
			return rc;
		x->sink += v;
	}
	return 0;
}

static int mmio_loop(void *c, uint64_t n)
{
	struct call_ctx *x = c;
	uint64_t v;

	for (uint64_t i = 0; i < n; i++) {
		int rc = upci_mmio_read(x->dev, x->bar, x->off, 4, &v);

		if (rc)
			return rc;
		x->sink += v;
	}
	return 0;
}

static struct row *add_row(struct fig *f, const char *dev, const char *what, const char *path)
{
	struct row *r;

	if (f->n == MAX_ROWS)
		bench_die(dev, what, -ENOSPC);
	r = &f->row[f->n];
	r->dev = dev;
	r->what = what;
	r->path = path;
	r->goal = 0;
	f->op[f->n].where = dev ? dev : "floor";
	f->op[f->n].what = what;
	return r;
}

static void add_load(struct fig *f, const char *dev, const char *what, const char *path,
		     const volatile uint32_t *p)
{
	struct row *r = add_row(f, dev, what, path);
	unsigned i = f->n++;

	r->goal = p != NULL && dev != NULL; /* every mapped row; not the floor */
	f->lctx[i].p = p;
	f->op[i].loop = load_loop;
	f->op[i].ctx = &f->lctx[i];
}

static void add_call(struct fig *f, const struct bench_dev *d, const char *what,
		     int (*loop)(void *, uint64_t), unsigned bar, uint64_t off)
{
	unsigned i;

	add_row(f, d->uri, what, "call");
	i = f->n++;
	f->cctx[i].dev = d->dev;
	f->cctx[i].bar = bar;
	f->cctx[i].off = off;
	f->op[i].loop = loop;
	f->op[i].ctx = &f->cctx[i];
}

/* Map @bar; NULL with a note when this backend cannot map it. */
static const volatile uint32_t *map_bar(const struct bench_dev *d, unsigned bar)
{
	void *p = NULL;
	uint64_t len = 0;
	int rc = upci_bar_map(d->dev, bar, &p, &len);

	if (rc == -ENOTSUP) {
		printf("note: %s BAR%u cannot be mapped here: no mapped row\n", d->uri, bar);
		return NULL;
	}
	bench_ok(rc, d->uri, "map BAR");
	return p;
}

static void plan_edu(struct fig *f, const struct bench_dev *d)
{
	const volatile uint32_t *bar;

	add_call(f, d, "MMIO read 4 B BAR0+0x00 (ID)", mmio_loop, EDU_BAR, EDU_REG_ID);
	bar = map_bar(d, EDU_BAR);
	if (!bar)
		return;
	if (bar[EDU_REG_ID / 4] != EDU_ID_VALUE)
		bench_die(d->uri, "mapped BAR0 ID register is not 0x010000ed", -EIO);
	add_load(f, d->uri, "load 4 B BAR0+0x00 (ID)", "mapped", &bar[EDU_REG_ID / 4]);
}

static void plan_testdev(struct fig *f, const struct bench_dev *d)
{
	const volatile uint32_t *bar;

	add_call(f, d, "MMIO read 4 B BAR0+0x00 (ID)", mmio_loop, TESTDEV_BAR_REGS, TESTDEV_REG_ID);
	add_call(f, d, "MMIO read 4 B BAR2+0x00 (RAM)", mmio_loop, TESTDEV_BAR_MEM, 0);
	bench_ok(upci_mmio_write(d->dev, TESTDEV_BAR_MEM, 0, 4, BAR2_PATTERN), d->uri, "write BAR2");
	bar = map_bar(d, TESTDEV_BAR_MEM);
	if (!bar)
		return;
	if (bar[0] != BAR2_PATTERN)
		bench_die(d->uri, "mapped BAR2 does not show what MMIO wrote", -EIO);
	add_load(f, d->uri, "load 4 B BAR2+0x00 (RAM)", "mapped", bar);
}

static void plan_device(struct fig *f, const struct bench_dev *d)
{
	add_call(f, d, "config read 4 B @0x00", config_loop, 0, 0);
	if (d->kind == BENCH_EDU)
		plan_edu(f, d);
	else if (d->kind == BENCH_TESTDEV)
		plan_testdev(f, d);
	else
		printf("note: %s (%04x:%04x) has no known register map: config read only\n", d->uri,
		       d->id.vendor_id, d->id.device_id);
}

static int print_table(const struct fig *f)
{
	double floor_ns = f->op[0].ns_med;
	int all_ok = 1, any = 0, dw = 13;

	for (unsigned i = 0; i < f->n; i++)
		dw = bench_col_width(dw, f->row[i].dev);
	printf("%-*s %-31s %-7s %9s %9s %9s  %s\n", dw, "device", "operation", "path", "ns/op", "best",
	       "x floor", "goal <=2x");
	for (unsigned i = 0; i < f->n; i++) {
		const struct row *r = &f->row[i];
		double ratio = f->op[i].ns_med / floor_ns;
		int ok = ratio <= GOAL_RATIO;

		printf("%-*s %-31s %-7s %9.2f %9.2f %9.2f%s%s\n", dw, r->dev ? r->dev : "(floor)", r->what, r->path,
		       f->op[i].ns_med, f->op[i].ns_min, ratio, r->goal ? "  " : "", r->goal ? bench_verdict(ok) : "");
		if (r->goal) {
			any = 1;
			all_ok &= ok;
		}
	}
	return any ? all_ok : -1;
}

int bench_fig_access(const struct bench_args *a)
{
	static const char *const defaults[] = {"sim:edu", "sim:testdev"};
	struct bench_dev devs[2];
	unsigned ndev = 0, batches;
	uint32_t *plain;
	struct fig *f;
	int verdict;

	f = calloc(1, sizeof(*f));
	plain = aligned_alloc(64, 64);
	if (!f || !plain)
		bench_die("bench", "allocating", -ENOMEM);
	*plain = 1;
	batches = a->quick ? 5 : 21;

	bench_title("upci bench: per-operation cost (config read, MMIO read)",
		    "floor: the same volatile 4-byte load loop on a malloc'd buffer. ns/op = median of batches.");
	add_load(f, NULL, "load 4 B, malloc'd buffer", "memory", plain);
	if (a->uri) {
		bench_dev_open(&devs[ndev++], a->uri);
	} else {
		for (unsigned i = 0; i < 2; i++)
			bench_dev_open(&devs[ndev++], defaults[i]);
	}
	for (unsigned i = 0; i < ndev; i++)
		plan_device(f, &devs[i]);

	bench_run_ops(f->op, f->n, batches, a->quick ? 1000000 : 10000000);
	verdict = print_table(f);
	if (verdict >= 0)
		printf("goal: mapped-BAR read within %.0fx of a plain memory load: %s\n", GOAL_RATIO,
		       bench_verdict(verdict));
	else
		printf("goal: mapped-BAR read within %.0fx of a plain memory load: not measured (no mapped BAR)\n",
		       GOAL_RATIO);

	for (unsigned i = 0; i < ndev; i++)
		bench_dev_close(&devs[i]);
	free(plain);
	free(f);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * Figure 3: DMA engine throughput next to memcpy of the same size.
 *
 * testdev: one descriptor copies between two upci_dma_alloc() buffers;
 * a transfer is what a driver does: START, then read STATUS and check
 * DONE without ERROR. edu (4 KiB per transfer, for information): program
 * SRC/DST/COUNT/CMD, poll CMD until START clears. The floor is memcpy
 * between two ordinary page-aligned buffers.
 *
 * Goal: testdev DMA throughput at least 80% of memcpy at 1 MiB.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_dev.h"
#include "bench_dma.h"
#include "bench_figs.h"
#include "bench_util.h"

#define GOAL_SIZE  (1u << 20)
#define GOAL_SHARE 0.80
#define MAX_ROWS   16

static const uint32_t sizes[] = {4u << 10, 64u << 10, 1u << 20, 16u << 20};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))
#define MAX_SIZE (16u << 20)

struct copy_ctx {
	uint8_t *src, *dst;
	uint32_t len;
};

struct row {
	uint32_t len;
	int floor;       /* a memcpy row */
	int goal;        /* the 80% goal applies */
	char what[48];
};

struct fig {
	unsigned n;
	struct bench_op op[MAX_ROWS];
	struct row row[MAX_ROWS];
};

static int copy_loop(void *c, uint64_t n)
{
	struct copy_ctx *x = c;

	for (uint64_t i = 0; i < n; i++) {
		memcpy(x->dst, x->src, x->len);
		bench_clobber(x->dst); /* the copy is never read: keep it */
	}
	return 0;
}

static struct bench_op *add(struct fig *f, const char *where, const char *what, uint32_t len,
			    int (*loop)(void *, uint64_t), void *ctx)
{
	struct row *r;
	struct bench_op *op;

	if (f->n == MAX_ROWS)
		bench_die(where, what, -ENOSPC);
	r = &f->row[f->n];
	op = &f->op[f->n++];
	memset(r, 0, sizeof(*r));
	r->len = len;
	snprintf(r->what, sizeof(r->what), "%s", what);
	op->where = where;
	op->what = r->what;
	op->loop = loop;
	op->ctx = ctx;
	op->iters = 0;
	return op;
}

static void *page_buf(size_t len)
{
	void *p = aligned_alloc(4096, len);

	if (!p)
		bench_die("floor", "allocating memcpy buffers", -ENOMEM);
	memset(p, 0x5a, len); /* fault every page in before timing */
	return p;
}

static double gbps(const struct fig *f, unsigned i, double ns)
{
	return (double)f->row[i].len / ns; /* bytes per ns = GB/s */
}

/* The memcpy row of the same size, for the ratio. */
static int floor_of(const struct fig *f, uint32_t len)
{
	for (unsigned i = 0; i < f->n; i++)
		if (f->row[i].floor && f->row[i].len == len)
			return (int)i;
	return -1;
}

static void print_size(char *buf, size_t n, uint32_t len)
{
	if (len >= (1u << 20))
		snprintf(buf, n, "%u MiB", len >> 20);
	else
		snprintf(buf, n, "%u KiB", len >> 10);
}

static int print_table(const struct fig *f)
{
	int verdict = -1, dw = 13;

	for (unsigned i = 0; i < f->n; i++)
		dw = bench_col_width(dw, f->op[i].where);
	printf("%-*s %-26s %7s %8s %8s %9s  %s\n", dw, "device", "transfer", "size", "GB/s", "best", "x memcpy",
	       "goal >=80% @1MiB");
	for (unsigned i = 0; i < f->n; i++) {
		const struct row *r = &f->row[i];
		int fl = floor_of(f, r->len);
		double ratio = fl >= 0 ? f->op[fl].ns_med / f->op[i].ns_med : 0;
		char size[16];

		print_size(size, sizeof(size), r->len);
		printf("%-*s %-26s %7s %8.2f %8.2f %9.2f%s%s\n", dw, r->floor ? "(floor)" : f->op[i].where, r->what,
		       size, gbps(f, i, f->op[i].ns_med), gbps(f, i, f->op[i].ns_min), ratio, r->goal ? "  " : "",
		       r->goal ? bench_verdict(ratio >= GOAL_SHARE) : "");
		if (r->goal)
			verdict = ratio >= GOAL_SHARE;
	}
	return verdict;
}

int bench_fig_dma(const struct bench_args *a)
{
	static const char *const defaults[] = {"sim:testdev", "sim:edu"};
	struct copy_ctx floors[NSIZES];
	struct bench_dev devs[2];
	struct dma_testdev *td = NULL;
	struct dma_edu *edu = NULL;
	unsigned ndev = 0, batches;
	uint8_t *src, *dst;
	struct fig *f;
	int verdict;

	batches = a->quick ? 3 : 21;
	f = calloc(1, sizeof(*f));
	if (!f)
		bench_die("bench", "allocating", -ENOMEM);
	bench_title("upci bench: DMA throughput",
		    "GB/s = 1e9 bytes/s, median of batches; a DMA transfer includes START and the STATUS check.");

	src = page_buf(MAX_SIZE);
	dst = page_buf(MAX_SIZE);
	for (unsigned s = 0; s < NSIZES; s++) {
		floors[s] = (struct copy_ctx){src, dst, sizes[s]};
		add(f, "floor", "memcpy", sizes[s], copy_loop, &floors[s]);
		f->row[f->n - 1].floor = 1;
	}
	if (a->uri) {
		bench_dev_open(&devs[ndev++], a->uri);
	} else {
		for (unsigned i = 0; i < 2; i++)
			bench_dev_open(&devs[ndev++], defaults[i]);
	}
	for (unsigned i = 0; i < ndev; i++) {
		struct bench_dev *d = &devs[i];

		if (d->kind == BENCH_TESTDEV && !td) {
			td = dma_testdev_setup(d, MAX_SIZE);
			for (unsigned s = 0; s < NSIZES; s++) {
				void *ctx = dma_testdev_prepare(td, s, sizes[s]);

				add(f, d->uri, "descriptor memcpy", sizes[s], dma_testdev_loop, ctx);
				f->row[f->n - 1].goal = sizes[s] == GOAL_SIZE;
			}
		} else if (d->kind == BENCH_EDU && !edu) {
			edu = dma_edu_setup(d);
			add(f, d->uri, "edu RAM -> device", DMA_EDU_LEN, dma_edu_loop, dma_edu_ctx(edu, 0));
			add(f, d->uri, "edu device -> RAM", DMA_EDU_LEN, dma_edu_loop, dma_edu_ctx(edu, 1));
		} else {
			printf("note: %s (%04x:%04x) has no DMA engine this benchmark knows\n", d->uri,
			       d->id.vendor_id, d->id.device_id);
		}
	}

	bench_run_ops(f->op, f->n, batches, a->quick ? 2000000 : 20000000);
	if (td)
		dma_testdev_check(td);
	if (edu)
		dma_edu_check(edu);
	verdict = print_table(f);
	if (verdict >= 0)
		printf("goal: DMA throughput at least %.0f%% of memcpy for 1 MiB transfers: %s\n", GOAL_SHARE * 100,
		       bench_verdict(verdict));
	else
		printf("goal: DMA throughput at least %.0f%% of memcpy for 1 MiB transfers: not measured\n",
		       GOAL_SHARE * 100);

	dma_testdev_fini(td);
	dma_edu_fini(edu);
	for (unsigned i = 0; i < ndev; i++)
		bench_dev_close(&devs[i]);
	free(src);
	free(dst);
	free(f);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* Rate tables for bench-vfio-user: rows timed in round-robin batches. */
#include "bench_vfu_tab.h"

#include <errno.h>
#include <stdio.h>

/* Batches per row and their target length. A socket round trip is
 * ~10-30 us: 20 ms batches hold hundreds of them. */
#define BATCHES_FULL   21
#define BATCHES_QUICK  5
#define BATCH_NS_FULL  20000000
#define BATCH_NS_QUICK 2000000

int vfu_tab_add(struct vfu_tab *t, const char *where, const char *what, size_t req, size_t rep, int floor,
		int (*loop)(void *ctx, uint64_t iters), void *ctx)
{
	unsigned i = t->n;

	if (i == VFU_TAB_MAX)
		bench_die(where, what, -ENOSPC);
	t->op[i] = (struct bench_op){.where = where, .what = what, .loop = loop, .ctx = ctx};
	t->row[i].what = what;
	t->row[i].floor = floor;
	t->row[i].bytes[0] = '\0';
	if (req || rep)
		snprintf(t->row[i].bytes, sizeof(t->row[i].bytes), "%zu / %zu", req, rep);
	t->n++;
	return (int)i;
}

void vfu_tab_run(struct vfu_tab *t, int quick)
{
	bench_run_ops(t->op, t->n, quick ? BATCHES_QUICK : BATCHES_FULL, quick ? BATCH_NS_QUICK : BATCH_NS_FULL);
}

double vfu_tab_ratio(const struct vfu_tab *t, int i)
{
	int f = t->row[i].floor;

	return f < 0 ? 1.0 : t->op[f].ns_med / t->op[i].ns_med;
}

const char *vfu_rate_str(char *buf, size_t len, double v)
{
	static const char *const unit[] = {"", "k", "M", "G"};
	unsigned u = 0;

	while (v >= 1000.0 && u < 3) {
		v /= 1000.0;
		u++;
	}
	snprintf(buf, len, "%.3g%s", v, unit[u]);
	return buf;
}

void vfu_tab_print(const struct vfu_tab *t, const char *bytes_head, const char *ref)
{
	char head[24];
	int w = 9;

	snprintf(head, sizeof(head), "x %s", ref);
	for (unsigned i = 0; i < t->n; i++)
		w = bench_col_width(w, t->row[i].what);
	printf("%-*s %13s %11s %11s %10s %8s\n", w, "operation", bytes_head, "ns/op", "best", "ops/s", head);
	for (unsigned i = 0; i < t->n; i++) {
		const struct vfu_row *r = &t->row[i];
		char rate[24], ratio[24];

		if (r->floor >= 0) {
			double x = vfu_tab_ratio(t, (int)i);

			snprintf(ratio, sizeof(ratio), x >= 100 ? "%.0f" : "%.2f", x);
		}
		else
			snprintf(ratio, sizeof(ratio), "(%s)", ref);
		printf("%-*s %13s %11.2f %11.2f %10s %8s\n", w, r->what, r->bytes, t->op[i].ns_med, t->op[i].ns_min,
		       vfu_rate_str(rate, sizeof(rate), 1e9 / t->op[i].ns_med), ratio);
	}
}

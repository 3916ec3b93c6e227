/* SPDX-License-Identifier: MIT */
/*
 * A table of operations timed by bench_run_ops (batches, round-robin,
 * median and best), each row compared with a floor row of the same table
 * as a rate: "x floor" = floor's ns/op / this row's ns/op, so 1.0 is as
 * fast as the floor and 0.5 half as fast.
 */
#ifndef UPCI_BENCH_VFU_TAB_H
#define UPCI_BENCH_VFU_TAB_H

#include <stddef.h>
#include <stdint.h>

#include "bench_util.h"

#define VFU_TAB_MAX 12

struct vfu_row {
	const char *what;
	char bytes[24]; /* "32 / 36" (request / reply), or "" */
	int floor;      /* the row it is compared with; -1 for a floor */
};

struct vfu_tab {
	unsigned n;
	struct bench_op op[VFU_TAB_MAX];
	struct vfu_row row[VFU_TAB_MAX];
};

/*
 * Add a row: @where names the device (or "floor") in failure messages,
 * @req/@rep the bytes on the wire (0: no column), @floor the row to
 * compare with (-1: this is a floor). Return: the row's index.
 */
int vfu_tab_add(struct vfu_tab *t, const char *where, const char *what, size_t req, size_t rep, int floor,
		int (*loop)(void *ctx, uint64_t iters), void *ctx);

/* Time every row: @quick selects the short run. */
void vfu_tab_run(struct vfu_tab *t, int quick);

/* The table; @bytes_head heads the bytes column ("req / rep B"), @ref
 * names what rows are compared with ("floor"). */
void vfu_tab_print(const struct vfu_tab *t, const char *bytes_head, const char *ref);

/* Rate of row @i relative to its floor (floor ns / row ns). */
double vfu_tab_ratio(const struct vfu_tab *t, int i);

/* "81.2k" style: @v with a k/M/G suffix. */
const char *vfu_rate_str(char *buf, size_t len, double v);

#endif /* UPCI_BENCH_VFU_TAB_H */

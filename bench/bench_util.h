/* SPDX-License-Identifier: MIT */
/*
 * Shared by the benchmark figures: clock, batch timing, percentiles,
 * goal verdicts, table helpers and the one way to fail.
 *
 * Benchmarks report figures next to a floor; they never assert a goal.
 * The only non-zero exit is an operational failure (a device call that
 * failed, a copy that came out wrong).
 */
#ifndef UPCI_BENCH_UTIL_H
#define UPCI_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* What every figure is given (bench_sim.c parses the command line). */
struct bench_args {
	int quick;       /* --quick: a short run, for CI smoke */
	const char *uri; /* --uri URI: measure this device instead of the defaults */
};

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t bench_now_ns(void);

/* "--opt VALUE" or "--opt=VALUE" at argv[*i] (advancing *i past VALUE);
 * NULL when argv[*i] is not @opt or the value is missing or empty. */
const char *bench_opt_value(int argc, char **argv, int *i, const char *opt);

/* Keep the compiler from dropping stores to (or loads from) *p. */
static inline void bench_clobber(const void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

/* Print "bench: WHERE: WHAT: reason" and exit 1. */
__attribute__((noreturn)) void bench_die(const char *where, const char *what, int err);

/* bench_die() when @rc is negative; returns @rc otherwise. */
int bench_ok(int rc, const char *where, const char *what);

/*
 * One operation timed in batches: @loop runs it @iters times and returns 0
 * or a negative errno. bench_run_ops() first sizes each op's batch to last
 * about @batch_ns (so a 100 ms DMA on real hardware and a 0.3 ns load both
 * get sensible counts), runs one warm-up batch each, then runs the batches
 * round-robin across ops (so slow drift of the machine hits all alike).
 */
struct bench_op {
	const char *where; /* device or "floor", for the failure message */
	const char *what;  /* the operation */
	int (*loop)(void *ctx, uint64_t iters);
	void *ctx;
	uint64_t iters;    /* out: per batch (in: fixed count when non-zero) */
	double ns_med;     /* out: median over batches, ns per op */
	double ns_min;     /* out: best batch, ns per op */
};
void bench_run_ops(struct bench_op *ops, unsigned n, unsigned batches, int64_t batch_ns);

/* Nearest-rank percentiles of @n samples (sorts @v in place). */
struct bench_pct {
	double p50, p99, max; /* ns */
};
void bench_percentiles(int64_t *v, size_t n, struct bench_pct *out);

/* "PASS" when @ok, else "MISS". */
const char *bench_verdict(int ok);

/* The median of @n samples (at most 256; left in their order); 0 when
 * there are none or too many. */
double bench_median(const double *v, unsigned n);

/* Width of a table column that must hold @s: max(@w, strlen(@s)). */
int bench_col_width(int w, const char *s);

/* A heading for a figure and the rule under it. */
void bench_title(const char *title, const char *note);

#endif /* UPCI_BENCH_UTIL_H */

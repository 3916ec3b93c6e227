/* SPDX-License-Identifier: MIT */
/* Benchmark plumbing: options, clock, batch timing, percentiles. */
#include "bench_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "upci/upci.h"

int64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

const char *bench_opt_value(int argc, char **argv, int *i, const char *opt)
{
	size_t len = strlen(opt);
	const char *v = NULL;

	if (strcmp(argv[*i], opt) == 0 && *i + 1 < argc)
		v = argv[++*i];
	else if (strncmp(argv[*i], opt, len) == 0 && argv[*i][len] == '=')
		v = argv[*i] + len + 1;
	return v && *v ? v : NULL;
}

void bench_die(const char *where, const char *what, int err)
{
	fflush(stdout);
	fprintf(stderr, "bench: %s: %s: %s\n", where, what, upci_strerror(err));
	exit(1);
}

int bench_ok(int rc, const char *where, const char *what)
{
	if (rc < 0)
		bench_die(where, what, rc);
	return rc;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bench_median(const double *v, unsigned n)
{
	double c[256];

	if (n == 0 || n > sizeof(c) / sizeof(c[0]))
		return 0;
	memcpy(c, v, n * sizeof(*v)); /* the samples keep their order: rounds pair up */
	qsort(c, n, sizeof(*c), cmp_double);
	return c[n / 2];
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int64_t time_loop(struct bench_op *op, uint64_t iters)
{
	int64_t t0 = bench_now_ns();
	int rc = op->loop(op->ctx, iters);
	int64_t t1 = bench_now_ns();

	bench_ok(rc, op->where, op->what);
	return t1 - t0;
}

/* Double the count until a run takes a quarter of the target, then scale. */
static void calibrate(struct bench_op *op, int64_t batch_ns)
{
	uint64_t n = 1;
	int64_t t;

	for (;;) {
		t = time_loop(op, n);
		if (t >= batch_ns / 4 || n >= (UINT64_C(1) << 40))
			break;
		n *= 2;
	}
	if (t < 1)
		t = 1;
	n = (uint64_t)((double)n * (double)batch_ns / (double)t);
	op->iters = n ? n : 1;
}

void bench_run_ops(struct bench_op *ops, unsigned n, unsigned batches, int64_t batch_ns)
{
	double *t = calloc((size_t)n * batches, sizeof(*t));

	if (!t)
		bench_die("bench", "allocating batch times", -ENOMEM);
	for (unsigned i = 0; i < n; i++) {
		if (!ops[i].iters)
			calibrate(&ops[i], batch_ns);
		(void)time_loop(&ops[i], ops[i].iters); /* warm-up */
	}
	for (unsigned b = 0; b < batches; b++)
		for (unsigned i = 0; i < n; i++)
			t[(size_t)i * batches + b] =
				(double)time_loop(&ops[i], ops[i].iters) / (double)ops[i].iters;
	for (unsigned i = 0; i < n; i++) {
		double *v = &t[(size_t)i * batches];

		qsort(v, batches, sizeof(*v), cmp_double);
		ops[i].ns_min = v[0];
		ops[i].ns_med = v[batches / 2];
	}
	free(t);
}

/* Nearest rank: the smallest sample with at least p% of samples <= it. */
static double rank(const int64_t *v, size_t n, unsigned pct)
{
	size_t k = (pct * n + 99) / 100; /* ceil(pct% of n) */

	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return (double)v[k - 1];
}

void bench_percentiles(int64_t *v, size_t n, struct bench_pct *out)
{
	memset(out, 0, sizeof(*out));
	if (n == 0)
		return;
	qsort(v, n, sizeof(*v), cmp_i64);
	out->p50 = rank(v, n, 50);
	out->p99 = rank(v, n, 99);
	out->max = (double)v[n - 1];
}

const char *bench_verdict(int ok)
{
	return ok ? "PASS" : "MISS";
}

int bench_col_width(int w, const char *s)
{
	size_t len = s ? strlen(s) : 0;

	return len > (size_t)w ? (int)len : w;
}

void bench_title(const char *title, const char *note)
{
	size_t len = strlen(title);

	printf("\n%s\n", title);
	for (size_t i = 0; i < len; i++)
		putchar('=');
	putchar('\n');
	if (note && *note)
		printf("%s\n", note);
}

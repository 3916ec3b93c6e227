/* SPDX-License-Identifier: MIT */
/*
 * Figure 2: interrupt raise -> fd wake-up latency, p50/p99/max, next to a
 * raw eventfd ping-pong between two threads measured in the same run.
 *
 * Thread A fires (testdev doorbell, edu IRQ_RAISE) through
 * upci_mmio_write(); thread B waits either in poll() on upci_irq_fd() and
 * then upci_irq_take_pending(), or in upci_irq_wait(). The floor is the
 * same ping-pong with A writing an eventfd and B polling and reading it.
 * The variants run interleaved in chunks so that they share the machine's
 * conditions.
 *
 * Goal: IRQ latency p50 within 1.5x of the raw eventfd p50.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_dev.h"
#include "bench_evt.h"
#include "bench_pingpong.h"
#include "bench_figs.h"
#include "bench_util.h"
#include "edu_regs.h"
#include "testdev_regs.h"

#define GOAL_RATIO   1.5
#define MAX_VARIANTS 5
#define CHUNK_SKIP   8 /* rounds dropped at the start of each chunk: thread B is new */
/* An edu status bit no edu function uses, so raising and acking it
 * disturbs nothing else. */
#define BENCH_EDU_IRQ 0x00010000u

struct raw_ctx {
	struct bench_evt ping;
};

struct irq_ctx {
	const struct bench_dev *d;
	int fd;
	unsigned vec; /* the vector the device raises */
	uint64_t pending[UPCI_IRQ_WORDS];
};

struct variant {
	const char *dev;
	const char *what;
	struct pp_ops ops;
	int64_t *lat;
	long same_cpu; /* rounds B woke on A's CPU; -1 unknown */
	struct bench_pct pct;
};

static int raw_fire(void *c)
{
	return bench_evt_signal(&((struct raw_ctx *)c)->ping);
}

static int raw_wait(void *c)
{
	return bench_evt_wait(&((struct raw_ctx *)c)->ping, PINGPONG_TIMEOUT_MS);
}

static int testdev_fire(void *c)
{
	struct irq_ctx *x = c;

	return upci_mmio_write(x->d->dev, TESTDEV_BAR_REGS, TESTDEV_REG_DOORBELL, 4, x->vec);
}

static int edu_fire(void *c)
{
	struct irq_ctx *x = c;

	return upci_mmio_write(x->d->dev, EDU_BAR, EDU_REG_IRQ_RAISE, 4, BENCH_EDU_IRQ);
}

/* Lower the status bit so the next raise is an edge for INTx too. */
static int edu_ack(void *c)
{
	struct irq_ctx *x = c;

	return upci_mmio_write(x->d->dev, EDU_BAR, EDU_REG_IRQ_ACK, 4, BENCH_EDU_IRQ);
}

/* Anything but our one vector means the measurement is of something else. */
static int got_vec(const struct irq_ctx *x, int n)
{
	if (n < 0)
		return n;
	return n == 1 && ((x->pending[x->vec / 64] >> (x->vec % 64)) & 1) ? 0 : -EIO;
}

static int fd_wait(void *c)
{
	struct irq_ctx *x = c;

	for (;;) {
		int rc = bench_poll_in(x->fd, PINGPONG_TIMEOUT_MS);
		int n;

		if (rc)
			return rc;
		n = upci_irq_take_pending(x->d->dev, x->pending);
		if (n != 0)
			return got_vec(x, n);
		/* A documented spurious wake-up: poll again. */
	}
}

static int lib_wait(void *c)
{
	struct irq_ctx *x = c;

	return got_vec(x, upci_irq_wait(x->d->dev, PINGPONG_TIMEOUT_MS, x->pending));
}

static void add(struct variant *v, unsigned *n, const char *dev, const char *what, struct pp_ops ops)
{
	if (*n == MAX_VARIANTS)
		bench_die(dev, what, -ENOSPC);
	v[*n].dev = dev;
	v[*n].what = what;
	v[*n].ops = ops;
	v[*n].lat = NULL;
	v[*n].same_cpu = 0;
	(*n)++;
}

/* Enable interrupts and add the poll and upci_irq_wait variants of @d. */
static void plan_device(struct variant *v, unsigned *n, const struct bench_dev *d, struct irq_ctx *x)
{
	x->d = d;
	x->vec = 0;
	x->fd = bench_ok(upci_irq_fd(d->dev), d->uri, "irq fd");
	if (d->kind == BENCH_TESTDEV) {
		bench_ok(upci_irq_enable(d->dev, UPCI_IRQ_MSIX, 1), d->uri, "enable MSI-X");
		add(v, n, d->uri, "MSI-X doorbell -> poll(fd)+take", (struct pp_ops){testdev_fire, fd_wait, NULL, x});
		add(v, n, d->uri, "MSI-X doorbell -> upci_irq_wait", (struct pp_ops){testdev_fire, lib_wait, NULL, x});
	} else if (d->kind == BENCH_EDU) {
		bench_ok(upci_irq_enable(d->dev, UPCI_IRQ_AUTO, 1), d->uri, "enable interrupts");
		add(v, n, d->uri, "edu IRQ_RAISE -> poll(fd)+take", (struct pp_ops){edu_fire, fd_wait, edu_ack, x});
		add(v, n, d->uri, "edu IRQ_RAISE -> upci_irq_wait", (struct pp_ops){edu_fire, lib_wait, edu_ack, x});
	} else {
		printf("note: %s (%04x:%04x) is neither edu nor testdev: no way to make it interrupt\n", d->uri,
		       d->id.vendor_id, d->id.device_id);
	}
}

static void run_all(struct variant *v, unsigned n, unsigned warm, unsigned chunk, unsigned nchunks)
{
	int64_t *scratch = calloc(warm, sizeof(*scratch));

	if (!scratch)
		bench_die("bench", "allocating", -ENOMEM);
	for (unsigned i = 0; i < n; i++) {
		v[i].lat = calloc((size_t)chunk * nchunks, sizeof(*v[i].lat));
		if (!v[i].lat)
			bench_die("bench", "allocating", -ENOMEM);
		bench_ok(pingpong_run(&v[i].ops, 0, warm, scratch, NULL), v[i].dev, v[i].what);
	}
	for (unsigned c = 0; c < nchunks; c++) {
		for (unsigned i = 0; i < n; i++) {
			long same = 0;

			bench_ok(pingpong_run(&v[i].ops, CHUNK_SKIP, chunk, v[i].lat + (size_t)c * chunk, &same),
				 v[i].dev, v[i].what);
			v[i].same_cpu = same < 0 || v[i].same_cpu < 0 ? -1 : v[i].same_cpu + same;
		}
	}
	for (unsigned i = 0; i < n; i++)
		bench_percentiles(v[i].lat, (size_t)chunk * nchunks, &v[i].pct);
	free(scratch);
}

static void print_table(const struct variant *v, unsigned n, unsigned rounds)
{
	double floor_p50 = v[0].pct.p50;
	int dw = 13;

	for (unsigned i = 1; i < n; i++)
		dw = bench_col_width(dw, v[i].dev);
	printf("%-*s %-34s %7s %8s %8s %8s %8s %6s  %s\n", dw, "device", "wake-up path", "rounds", "p50 us", "p99 us",
	       "max us", "x floor", "1 CPU", "goal <=1.5x");
	for (unsigned i = 0; i < n; i++) {
		double ratio = v[i].pct.p50 / floor_p50;
		char same[16] = "-";

		if (v[i].same_cpu >= 0)
			snprintf(same, sizeof(same), "%.0f%%", 100.0 * (double)v[i].same_cpu / rounds);
		printf("%-*s %-34s %7u %8.2f %8.2f %8.2f %8.2f %6s%s%s\n", dw, i ? v[i].dev : "(floor)", v[i].what,
		       rounds, v[i].pct.p50 / 1e3, v[i].pct.p99 / 1e3, v[i].pct.max / 1e3, ratio, same, i ? "  " : "",
		       i ? bench_verdict(ratio <= GOAL_RATIO) : "");
	}
	printf("1 CPU: rounds in which B woke on the CPU A fired from (a context switch, not a cross-CPU wake-up).\n");
	if (n > 1)
		printf("goal: IRQ latency p50 within %.1fx of the raw " BENCH_EVT_NAME " floor (%s, %s): %s (%.2fx)\n",
		       GOAL_RATIO,
		       v[1].dev, v[1].what, bench_verdict(v[1].pct.p50 / floor_p50 <= GOAL_RATIO),
		       v[1].pct.p50 / floor_p50);
	else
		printf("goal: IRQ latency p50 within %.1fx of the raw " BENCH_EVT_NAME " floor: not measured\n",
		       GOAL_RATIO);
}

int bench_fig_irq(const struct bench_args *a)
{
	static const char *const defaults[] = {"sim:testdev", "sim:edu"};
	struct bench_dev devs[2];
	struct irq_ctx ictx[2];
	struct raw_ctx raw;
	struct variant v[MAX_VARIANTS];
	unsigned n = 0, ndev = 0, chunk, nchunks, warm;

	chunk = a->quick ? 500 : 1000;
	nchunks = a->quick ? 4 : 20;
	warm = a->quick ? 200 : 1000;

	bench_title("upci bench: IRQ raise -> wake-up latency",
		    "t0 before the raise in thread A, t1 when thread B has the vector; one event in flight.");
	bench_ok(bench_evt_init(&raw.ping), "floor", "eventfd");
	add(v, &n, "floor", BENCH_EVT_NAME " write -> poll+read", (struct pp_ops){raw_fire, raw_wait, NULL, &raw});
	if (a->uri) {
		bench_dev_open(&devs[ndev++], a->uri);
	} else {
		for (unsigned i = 0; i < 2; i++)
			bench_dev_open(&devs[ndev++], defaults[i]);
	}
	for (unsigned i = 0; i < ndev; i++)
		plan_device(v, &n, &devs[i], &ictx[i]);

	run_all(v, n, warm, chunk, nchunks);
	print_table(v, n, chunk * nchunks);

	for (unsigned i = 0; i < n; i++)
		free(v[i].lat);
	for (unsigned i = 0; i < ndev; i++) {
		upci_irq_disable(devs[i].dev);
		bench_dev_close(&devs[i]);
	}
	bench_evt_fini(&raw.ping);
	return 0;
}

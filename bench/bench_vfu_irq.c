/* SPDX-License-Identifier: MIT */
/*
 * Figure "irq": device-fired interrupt -> client wake-up over vfio-user,
 * p50/p99, next to a raw eventfd ping-pong between two processes.
 *
 * Thread A records t0 and rings testdev's doorbell with upci_mmio_write
 * (one REGION_WRITE; the server's device fires MSI-X vector 0, which is
 * the eventfd the client passed with SET_IRQS). Thread B blocks in poll()
 * on upci_irq_fd() and takes the vector, or in upci_irq_wait(), and
 * records t1. t1 - t0 therefore holds the REGION_WRITE request's trip to
 * the server as well as the interrupt's trip back; the REGION_WRITE round
 * trip is timed in the same rounds (A, around the call) and printed next
 * to it, so the reader sees both. One more row, for information, is the
 * same path with nothing of upci in it: A sends the REGION_WRITE's bytes
 * to another process, which writes an eventfd B waits on, then replies.
 * Variants run interleaved in chunks (as bench-sim's IRQ figure): a fresh
 * B per chunk, its first rounds dropped.
 *
 * The goal row isolates the interrupt's own trip: testdev stamps
 * CLOCK_MONOTONIC in TESTDEV_REG_FIRE_NS when it fires (in the server
 * process; the clock is the same machine-wide), B stamps its wake-up, and
 * A reads FIRE_NS afterwards, outside the timed path.
 *
 * Goal: device-fired -> poll(fd)+take p50 within 1.5x of the raw process
 * ping-pong p50.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <errno.h>
#include <stdbool.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_evt.h"
#include "bench_pingpong.h"
#include "bench_util.h"
#include "bench_vfu.h"
#include "bench_vfu_raw.h"
#include "proto.h"
#include "testdev_regs.h"

#define ACCESS_BYTES (sizeof(struct vfu_hdr) + sizeof(struct vfu_region_access))

#define GOAL_RATIO 1.5
#define CHUNK_SKIP 8 /* rounds dropped at the start of each chunk: B is new */
#define NVAR 5

/* Thread A's round trips of one chunk, the first @skip dropped (as
 * pingpong_run drops their latencies). */
struct rt_rec {
	int64_t *rt;   /* NULL: a warm-up, nothing kept */
	unsigned idx;  /* fires so far in this chunk */
	unsigned skip;
};

struct irq_ctx {
	struct bench_dev *d;
	int fd;
	uint64_t pending[UPCI_IRQ_WORDS];
	struct rt_rec rec;
};

struct raw_thr {
	struct bench_evt ping;
};

/* The raw shape of the doorbell path: a request over a socket to another
 * process, which writes an eventfd and replies. */
struct raw_shape {
	struct raw_sock sock;
	struct bench_evt evt;
	struct rt_rec rec;
};

struct variant {
	const char *what;
	int process;     /* the process floor (raw_evt_run), else pingpong_run */
	struct pp_ops ops;
	struct rt_rec *rec; /* rows whose A makes a round trip: timed too */
	int64_t *lat, *rt;
	long same_cpu;   /* -1: not known */
	struct bench_pct pct, rt_pct;
};

static void rt_note(struct rt_rec *r, int64_t dt)
{
	if (r->rt && r->idx >= r->skip)
		r->rt[r->idx - r->skip] = dt;
	r->idx++;
}

static int thr_fire(void *c)
{
	return bench_evt_signal(&((struct raw_thr *)c)->ping);
}

static int thr_wait(void *c)
{
	return bench_evt_wait(&((struct raw_thr *)c)->ping, PINGPONG_TIMEOUT_MS);
}

static int shape_fire(void *c)
{
	struct raw_shape *x = c;
	int64_t t0 = bench_now_ns();
	int rc = raw_sock_loop(&x->sock, 1);

	rt_note(&x->rec, bench_now_ns() - t0);
	return rc;
}

static int shape_wait(void *c)
{
	return bench_evt_wait(&((struct raw_shape *)c)->evt, PINGPONG_TIMEOUT_MS);
}

/* The doorbell: one REGION_WRITE, its round trip recorded. */
static int doorbell(void *c)
{
	struct irq_ctx *x = c;
	int64_t t0 = bench_now_ns();
	int rc = upci_mmio_write(x->d->dev, TESTDEV_BAR_REGS, TESTDEV_REG_DOORBELL, 4, 0);

	rt_note(&x->rec, bench_now_ns() - t0);
	return rc;
}

/* Anything but vector 0 alone means the measurement is of something else. */
static int got_vec0(const struct irq_ctx *x, int n)
{
	if (n < 0)
		return n;
	return n == 1 && (x->pending[0] & 1) ? 0 : -EIO;
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
			return got_vec0(x, n);
		/* A documented spurious wake-up: poll again. */
	}
}

static int lib_wait(void *c)
{
	struct irq_ctx *x = c;

	return got_vec0(x, upci_irq_wait(x->d->dev, PINGPONG_TIMEOUT_MS, x->pending));
}

/* One chunk of @v: @skip + @rounds rounds, the kept ones into @lat and
 * A's round trips into @rt; @rt NULL: a warm-up, nothing kept. */
static void run_chunk(struct variant *v, unsigned skip, unsigned rounds, int64_t *lat, int64_t *rt)
{
	long same = 0;
	int rc;

	if (v->process) {
		rc = raw_evt_run(skip, rounds, lat);
		same = -1;
	} else {
		if (v->rec)
			*v->rec = (struct rt_rec){.rt = rt, .idx = 0, .skip = skip};
		rc = pingpong_run(&v->ops, skip, rounds, lat, &same);
	}
	bench_ok(rc, "irq", v->what);
	if (rt != NULL)
		v->same_cpu = same < 0 || v->same_cpu < 0 ? -1 : v->same_cpu + same;
}

static void run_all(struct variant *v, unsigned warm, unsigned chunk, unsigned nchunks)
{
	size_t total = (size_t)chunk * nchunks;
	int64_t *scratch = calloc(warm, sizeof(*scratch));

	if (!scratch)
		bench_die("bench", "allocating", -ENOMEM);
	for (unsigned i = 0; i < NVAR; i++) {
		v[i].lat = calloc(total, sizeof(*v[i].lat));
		v[i].rt = calloc(total, sizeof(*v[i].rt));
		if (!v[i].lat || !v[i].rt)
			bench_die("bench", "allocating", -ENOMEM);
		v[i].same_cpu = v[i].process ? -1 : 0;
		run_chunk(&v[i], 0, warm, scratch, NULL);
	}
	for (unsigned c = 0; c < nchunks; c++)
		for (unsigned i = 0; i < NVAR; i++)
			run_chunk(&v[i], CHUNK_SKIP, chunk, v[i].lat + (size_t)c * chunk, v[i].rt + (size_t)c * chunk);
	for (unsigned i = 0; i < NVAR; i++) {
		bench_percentiles(v[i].lat, total, &v[i].pct);
		if (v[i].rec)
			bench_percentiles(v[i].rt, total, &v[i].rt_pct);
	}
	free(scratch);
}

/* ---- device-fired -> wake-up, timed by the device's own stamp ---- */

struct fire_ctx {
	struct bench_dev *d;
	int fd;
	struct bench_evt done;   /* B -> A: the vector is taken */
	atomic_int stop;
	int64_t wake_ns;
	int err;
};

static void *fire_waiter(void *p)
{
	struct fire_ctx *f = p;
	uint64_t pend[UPCI_IRQ_WORDS];

	while (!atomic_load(&f->stop)) {
		int n, rc = bench_poll_in(f->fd, 200);

		if (rc == -ETIMEDOUT)
			continue;
		if (rc) {
			f->err = rc;
			break;
		}
		f->wake_ns = bench_now_ns();
		n = upci_irq_take_pending(f->d->dev, pend);
		if (n == 0)
			continue; /* documented spurious wake-up */
		if (n != 1 || !(pend[0] & 1)) {
			f->err = n < 0 ? n : -EIO;
			break;
		}
		if (bench_evt_signal(&f->done) != 0)
			break;
	}
	return NULL;
}

/* @rounds device-fired -> wake-up latencies into @lat (after @warm). */
static void fire_latency(struct bench_dev *d, int fd, unsigned warm, unsigned rounds, int64_t *lat)
{
	struct fire_ctx f = {.d = d, .fd = fd};
	pthread_t th;

	atomic_init(&f.stop, 0);
	bench_ok(bench_evt_init(&f.done), "irq", BENCH_EVT_NAME);
	if (pthread_create(&th, NULL, fire_waiter, &f) != 0)
		bench_die("irq", "starting the waiter", -EAGAIN);
	for (unsigned i = 0; i < warm + rounds; i++) {
		uint64_t fired;

		bench_ok(upci_mmio_write(d->dev, TESTDEV_BAR_REGS, TESTDEV_REG_DOORBELL, 4, 0), d->uri, "doorbell");
		bench_ok(bench_evt_wait(&f.done, PINGPONG_TIMEOUT_MS), "irq", "waiting for the vector");
		bench_ok(upci_mmio_read(d->dev, TESTDEV_BAR_REGS, TESTDEV_REG_FIRE_NS, 8, &fired), d->uri, "FIRE_NS");
		if (i >= warm)
			lat[i - warm] = f.wake_ns - (int64_t)fired;
	}
	atomic_store(&f.stop, 1);
	pthread_join(th, NULL);
	bench_ok(f.err, "irq", "waiter");
	bench_evt_fini(&f.done);
}

static void print_table(const struct variant *v, unsigned rounds)
{
	double floor_p50 = v[0].pct.p50;

	printf("%-44s %7s %8s %8s %8s %8s %6s %9s %9s  %s\n", "wake-up path", "rounds", "p50 us", "p99 us",
	       "max us", "x floor", "1 CPU", "rt p50", "rt p99", "goal <=1.5x");
	for (unsigned i = 0; i < NVAR; i++) {
		double ratio = v[i].pct.p50 / floor_p50;
		char same[16] = "-", w50[16] = "-", w99[16] = "-";

		if (v[i].same_cpu >= 0)
			snprintf(same, sizeof(same), "%.0f%%", 100.0 * (double)v[i].same_cpu / rounds);
		if (v[i].rec) {
			snprintf(w50, sizeof(w50), "%.2f", v[i].rt_pct.p50 / 1e3);
			snprintf(w99, sizeof(w99), "%.2f", v[i].rt_pct.p99 / 1e3);
		}
		printf("%-44s %7u %8.2f %8.2f %8.2f %8.2f %6s %9s %9s  %s\n", v[i].what, rounds, v[i].pct.p50 / 1e3,
		       v[i].pct.p99 / 1e3, v[i].pct.max / 1e3, ratio, same, w50, w99,
		       "");
	}
	printf("rt p50/p99: A's request round trip (us; for the doorbell, the REGION_WRITE), in the same rounds.\n"
	       "1 CPU: rounds in which B woke on the CPU A fired from.\n");
}

static void print_device_row(const char *what, const struct bench_pct *dev, double floor_p50, unsigned rounds,
			     int judged)
{
	double ratio = dev->p50 / floor_p50;

	printf("%-44s %7u %8.2f %8.2f %8.2f %8.2f %6s %9s %9s  %s\n", what, rounds, dev->p50 / 1e3, dev->p99 / 1e3,
	       dev->max / 1e3, ratio, "-", "-", "-", judged ? bench_verdict(ratio <= GOAL_RATIO) : "");
}

/* Device-fired latencies of @d, its doorbell as it is set up to write. */
static void device_row(struct bench_dev *d, const char *what, unsigned warm, unsigned n, double floor_p50,
		       int judged, double *ratio)
{
	int64_t *lat = calloc(n, sizeof(*lat));
	struct bench_pct dev;
	int fd;

	if (!lat)
		bench_die("bench", "allocating", -ENOMEM);
	fd = bench_ok(upci_irq_fd(d->dev), d->uri, "irq fd");
	fire_latency(d, fd, warm, n, lat);
	bench_percentiles(lat, n, &dev);
	print_device_row(what, &dev, floor_p50, n, judged);
	*ratio = dev.p50 / floor_p50;
	free(lat);
}

/*
 * The same, with the doorbell posted (UPCI_VFU_POSTED_WRITES=1, as QEMU
 * posts a guest's BAR writes): no REGION_WRITE reply wakes thread A while
 * the vector wakes B, so this row is the interrupt's path alone. The
 * setting is read at open: reconnect with it (the server keeps the device
 * state and takes the next client), then go back to waited writes.
 */
static void reconnect(struct bench_dev *d, bool posted)
{
	const char *uri = d->uri;

	bench_ok(upci_irq_disable(d->dev), uri, "disable interrupts");
	bench_dev_close(d);
	if (posted)
		setenv("UPCI_VFU_POSTED_WRITES", "1", 1);
	bench_dev_open(d, uri);
	unsetenv("UPCI_VFU_POSTED_WRITES");
	bench_ok(upci_irq_enable(d->dev, UPCI_IRQ_MSIX, 1), uri, "enable MSI-X");
}

static void posted_row(struct bench_dev *d, unsigned warm, unsigned n, double floor_p50, double *ratio)
{
	reconnect(d, true);
	device_row(d, "device fired, doorbell posted -> poll+take", warm, n, floor_p50, 1, ratio);
	reconnect(d, false);
}

int vfu_fig_irq(const struct vfu_args *a)
{
	struct bench_dev *d = a->dev;
	static const size_t req = ACCESS_BYTES + 4, rep = ACCESS_BYTES; /* a 4-byte REGION_WRITE */
	struct irq_ctx x = {.d = d};
	struct raw_thr thr;
	struct raw_shape shape;
	unsigned chunk = a->quick ? 250 : 1000, nchunks = a->quick ? 2 : 20, warm = a->quick ? 100 : 1000;
	struct variant v[NVAR] = {
		{.what = "(floor) " BENCH_EVT_NAME " ping-pong, 2 processes", .process = 1},
		{.what = "(info) " BENCH_EVT_NAME " ping-pong, 2 threads", .ops = {thr_fire, thr_wait, NULL, &thr}},
		{.what = "(info) raw: 36 B to a process, it signals",
		 .ops = {shape_fire, shape_wait, NULL, &shape}, .rec = &shape.rec},
		{.what = "doorbell -> poll(irq fd)+take_pending", .ops = {doorbell, fd_wait, NULL, &x}, .rec = &x.rec},
		{.what = "doorbell -> upci_irq_wait", .ops = {doorbell, lib_wait, NULL, &x}, .rec = &x.rec},
	};

	bench_title("upci bench-vfio-user: device IRQ -> client wake-up latency",
		    "t0 before the doorbell REGION_WRITE in thread A, t1 when thread B has the vector; one in flight.");
	if (d->kind != BENCH_TESTDEV) {
		printf("note: %s (%04x:%04x) is not testdev: no way to make it interrupt\n", d->uri, d->id.vendor_id,
		       d->id.device_id);
		return 0;
	}
	bench_ok(bench_evt_init(&thr.ping), "floor", BENCH_EVT_NAME);
	bench_ok(bench_evt_init(&shape.evt), "floor", BENCH_EVT_NAME);
	bench_ok(raw_sock_start(&shape.sock, RAW_PLAIN, &req, &rep, 1, shape.evt.wfd), "floor",
		 "starting the socket peer");
	bench_ok(upci_irq_enable(d->dev, UPCI_IRQ_MSIX, 1), d->uri, "enable MSI-X");
	x.fd = bench_ok(upci_irq_fd(d->dev), d->uri, "irq fd");

	run_all(v, warm, chunk, nchunks);
	print_table(v, chunk * nchunks);
	{
		unsigned n = chunk * nchunks;
		double waited, posted;

		device_row(d, "device fired, doorbell waited -> poll+take", warm, n, v[0].pct.p50, 0, &waited);
		posted_row(d, warm, n, v[0].pct.p50, &posted);
		printf("device fired: from testdev's own CLOCK_MONOTONIC stamp (FIRE_NS) in the server process to B's\n"
		       "wake-up. Waited: A's doorbell REGION_WRITE gets a reply, which wakes A while B wakes;\n"
		       "posted: the doorbell goes with No_reply, so only the interrupt is on the way.\n");
		printf("goal: device-fired IRQ -> client wake-up p50 within %.1fx of the raw " BENCH_EVT_NAME
		       " ping-pong between processes (posted row): %s (%.2fx; waited %.2fx)\n",
		       GOAL_RATIO, bench_verdict(posted <= GOAL_RATIO), posted, waited);
	}

	for (unsigned i = 0; i < NVAR; i++) {
		free(v[i].lat);
		free(v[i].rt);
	}
	bench_ok(upci_irq_disable(d->dev), d->uri, "disable interrupts");
	bench_ok(raw_sock_stop(&shape.sock), "floor", "socket peer");
	bench_evt_fini(&shape.evt);
	bench_evt_fini(&thr.ping);
	return 0;
}

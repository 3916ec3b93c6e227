/* SPDX-License-Identifier: MIT */
/* The ping-pong driver shared by the raw eventfd floor and the IRQ paths. */
#define _GNU_SOURCE /* sched_getcpu */
#include "bench_pingpong.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "bench_evt.h"
#include "bench_util.h"

struct pp_run {
	const struct pp_ops *o;
	unsigned skip, total;
	int64_t *lat;
	struct bench_evt back; /* B -> A: "seen, go on" */
	_Atomic int64_t t0;    /* A's timestamp of the event in flight */
	_Atomic int err;       /* B's first failure */
	_Atomic int a_cpu;     /* CPU A fired from */
	long same;             /* rounds B woke on a_cpu */
};

/* -1 where the platform has no way to ask. */
static int cur_cpu(void)
{
#ifdef __linux__
	return sched_getcpu();
#else
	return -1;
#endif
}

static void *side_b(void *arg)
{
	struct pp_run *r = arg;
	const struct pp_ops *o = r->o;

	for (unsigned i = 0; i < r->total; i++) {
		int rc = o->wait(o->ctx);
		int64_t t1 = bench_now_ns();

		if (rc == 0 && i >= r->skip) {
			r->lat[i - r->skip] = t1 - atomic_load(&r->t0);
			r->same += cur_cpu() == atomic_load(&r->a_cpu);
		}
		if (rc == 0 && o->after)
			rc = o->after(o->ctx);
		if (rc)
			atomic_store(&r->err, rc);
		/* Reply even on failure so A stops waiting and sees err. */
		if (bench_evt_signal(&r->back) != 0 || rc)
			break;
	}
	return NULL;
}

int pingpong_run(const struct pp_ops *o, unsigned skip, unsigned rounds, int64_t *lat, long *same_cpu)
{
	struct pp_run r = {.o = o, .skip = skip, .total = skip + rounds, .lat = lat};
	pthread_t b;
	int rc;

	atomic_init(&r.t0, 0);
	atomic_init(&r.err, 0);
	atomic_init(&r.a_cpu, -1);
	rc = bench_evt_init(&r.back);
	if (rc)
		return rc;
	rc = -pthread_create(&b, NULL, side_b, &r);
	if (rc) {
		bench_evt_fini(&r.back);
		return rc;
	}
	for (unsigned i = 0; i < r.total && rc == 0; i++) {
		atomic_store(&r.a_cpu, cur_cpu()); /* before t0: not timed */
		atomic_store(&r.t0, bench_now_ns());
		rc = o->fire(o->ctx);
		if (rc == 0)
			rc = bench_evt_wait(&r.back, PINGPONG_TIMEOUT_MS);
		if (rc == 0)
			rc = atomic_load(&r.err);
	}
	/* On an A-side failure B gives up after its own wait times out. */
	pthread_join(b, NULL);
	bench_evt_fini(&r.back);
	if (rc == 0)
		rc = atomic_load(&r.err);
	if (same_cpu)
		*same_cpu = cur_cpu() < 0 ? -1 : r.same;
	return rc;
}

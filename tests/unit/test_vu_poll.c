/* SPDX-License-Identifier: MIT */
/*
 * The vfio-user client's adaptive reply polling (vu_poll.c): the window's
 * rule (grow when a reply came soon after it, shrink when replies are
 * slower than the maximum), the spin itself, the one-CPU rule and the
 * UPCI_VFU_POLL_US parser.
 */
#define _GNU_SOURCE /* sched_getaffinity */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "vu_poll.h"

#define US 1000

/* The machine as the tests want it: quiet (one runnable task, this one)
 * unless a test says otherwise. */
static int fake_runnable = 1;

static int runnable_fake(void)
{
	return fake_runnable;
}

static void poll_init(struct vu_poll *p, uint32_t max_us, unsigned ncpus)
{
	vu_poll_init(p, max_us, ncpus);
	p->runnable = runnable_fake;
	p->cpus = 2;
	fake_runnable = 1;
}

static void test_init(void **state)
{
	struct vu_poll p;

	(void)state;
	poll_init(&p, 50, 2);
	assert_int_equal(p.max_ns, 50 * US);
	assert_int_equal(p.win_ns, 50 * US); /* starts wide open */
	assert_int_equal(p.hits, 0);
	assert_int_equal(p.sleeps, 0);
	poll_init(&p, 50, 1); /* one CPU: the server needs it, never poll */
	assert_int_equal(p.max_ns, 0);
	assert_int_equal(p.win_ns, 0);
	poll_init(&p, 5000, 4); /* clamped */
	assert_int_equal(p.max_ns, VU_POLL_US_MAX * US);
	poll_init(&p, 0, 4);
	assert_int_equal(p.win_ns, 0);
}

/* Counts calls; answers -EAGAIN until call number @ready, then @result. */
struct script {
	unsigned calls, ready;
	ssize_t result;
};

static ssize_t attempt(void *ctx)
{
	struct script *s = ctx;

	return ++s->calls >= s->ready ? s->result : -EAGAIN;
}

static void test_spin(void **state)
{
	struct vu_poll p;
	struct script s = {.ready = 5, .result = 36};
	int64_t t0;

	(void)state;
	poll_init(&p, 1000, 2);
	assert_int_equal(vu_poll_spin(&p, vu_poll_now_ns(), attempt, &s), 36);
	assert_int_equal(s.calls, 5);
	assert_int_equal(p.hits, 1);

	/* An error ends the spin too: it is the caller's to report. */
	s = (struct script){.ready = 1, .result = -ECONNRESET};
	assert_int_equal(vu_poll_spin(&p, vu_poll_now_ns(), attempt, &s), -ECONNRESET);
	assert_int_equal(p.hits, 2);

	/* Nothing comes: -EAGAIN once the window has passed, not before. */
	poll_init(&p, 200, 2);
	s = (struct script){.ready = UINT32_MAX};
	t0 = vu_poll_now_ns();
	assert_int_equal(vu_poll_spin(&p, t0, attempt, &s), -EAGAIN);
	/* (or sooner, if a busy machine preempted the test while it polled) */
	assert_true(vu_poll_now_ns() - t0 >= 200 * US || p.preempted == 1);
	assert_true(s.calls >= 1);
	assert_int_equal(p.hits, 0);

	/* A closed window does not even try. */
	poll_init(&p, 200, 1);
	s = (struct script){.ready = 1, .result = 4};
	assert_int_equal(vu_poll_spin(&p, vu_poll_now_ns(), attempt, &s), -EAGAIN);
	assert_int_equal(s.calls, 0);
}

/* An attempt that is "preempted" once: it sleeps past the gap. */
static ssize_t slow_attempt(void *ctx)
{
	struct script *s = ctx;
	struct timespec ts = {.tv_sec = 0, .tv_nsec = 2 * VU_POLL_GAP_NS};

	if (++s->calls == 2)
		nanosleep(&ts, NULL);
	return -EAGAIN;
}

/* Preempted while polling: the window closes and stays closed for the
 * back-off, whatever the replies do meanwhile; then it grows again. */
static void test_preempted(void **state)
{
	struct vu_poll p;
	struct script s = {0};
	int64_t t0;

	(void)state;
	poll_init(&p, 1000, 2);
	t0 = vu_poll_now_ns();
	assert_int_equal(vu_poll_spin(&p, t0, slow_attempt, &s), -EAGAIN);
	assert_int_equal(s.calls, 2); /* stopped right after the gap */
	assert_int_equal(p.preempted, 1);
	assert_int_equal(p.win_ns, 0);
	assert_true(p.backoff_end >= t0 + VU_POLL_BACKOFF_NS);
	vu_poll_slept(&p, vu_poll_now_ns()); /* quick, but backing off */
	assert_int_equal(p.win_ns, 0);
	p.backoff_end = vu_poll_now_ns(); /* the back-off is over */
	vu_poll_slept(&p, vu_poll_now_ns());
	assert_int_equal(p.win_ns, VU_POLL_START_NS);
}

static void test_adapt(void **state)
{
	struct vu_poll p;
	const int64_t now = vu_poll_now_ns();

	(void)state;
	poll_init(&p, 100, 2);
	/* A reply much slower than the maximum: halve, then close. */
	vu_poll_slept(&p, now - 10 * 100 * US);
	assert_int_equal(p.win_ns, 50 * US);
	vu_poll_slept(&p, now - 10 * 100 * US);
	assert_int_equal(p.win_ns, 25 * US);
	vu_poll_slept(&p, now - 10 * 100 * US);
	assert_int_equal(p.win_ns, 12500);
	vu_poll_slept(&p, now - 10 * 100 * US);
	assert_int_equal(p.win_ns, 0); /* 6250 ns is below the start */
	assert_int_equal(p.sleeps, 4);

	/* A reply that came soon after the window: open from the start,
	 * double, up to the maximum. The waits are timed from a t0 just
	 * before now, so "soon" holds on any machine. */
	vu_poll_slept(&p, vu_poll_now_ns());
	assert_int_equal(p.win_ns, VU_POLL_START_NS);
	vu_poll_slept(&p, vu_poll_now_ns());
	assert_int_equal(p.win_ns, 2 * VU_POLL_START_NS);
	for (int i = 0; i < 8; i++)
		vu_poll_slept(&p, vu_poll_now_ns());
	assert_int_equal(p.win_ns, 100 * US);

	/* Off stays off. */
	poll_init(&p, 0, 2);
	vu_poll_slept(&p, vu_poll_now_ns());
	assert_int_equal(p.win_ns, 0);
	assert_int_equal(p.sleeps, 1);

	/* A maximum below the start is still the maximum. */
	poll_init(&p, 4, 2);
	vu_poll_slept(&p, now - 1000 * US);
	assert_int_equal(p.win_ns, 0);
	vu_poll_slept(&p, vu_poll_now_ns());
	assert_int_equal(p.win_ns, 4 * US);
}

static void test_parse(void **state)
{
	static const char *const bad[] = {"", "-1", "1001", "5us", "x", " ", "99999999999999999999"};
	uint32_t us = 7;

	(void)state;
	assert_int_equal(vu_poll_parse_us("0", &us), 0);
	assert_int_equal(us, 0);
	assert_int_equal(vu_poll_parse_us("1000", &us), 0);
	assert_int_equal(us, 1000);
	assert_int_equal(vu_poll_parse_us("25", &us), 0);
	assert_int_equal(us, 25);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(vu_poll_parse_us(bad[i], &us), -EINVAL);
		assert_int_equal(us, 25); /* untouched */
	}
}

/* UPCI_VFU_POLL_US: the default when unset or empty, the value when good,
 * the default and -EINVAL when bad. */
static void test_env(void **state)
{
	uint32_t us = 7;

	(void)state;
	unsetenv(VU_POLL_ENV);
	assert_int_equal(vu_poll_env_us(&us), 0);
	assert_int_equal(us, VU_POLL_US_DEFAULT);
	setenv(VU_POLL_ENV, "", 1);
	assert_int_equal(vu_poll_env_us(&us), 0);
	assert_int_equal(us, VU_POLL_US_DEFAULT);
	setenv(VU_POLL_ENV, "0", 1);
	assert_int_equal(vu_poll_env_us(&us), 0);
	assert_int_equal(us, 0);
	setenv(VU_POLL_ENV, "2000", 1);
	assert_int_equal(vu_poll_env_us(&us), -EINVAL);
	assert_int_equal(us, VU_POLL_US_DEFAULT);
	unsetenv(VU_POLL_ENV);
}

/* The count follows this thread's affinity: pinned to one CPU, it is 1. */
/* A machine with more runnable tasks than CPUs: no polling at all (the
 * spinning client would only delay the server), and the waits that went
 * to sleep do not grow the window; polling resumes once it is quiet. */
static void test_busy_machine(void **state)
{
	struct vu_poll p;
	struct script s = {.ready = 3, .result = 36};
	int64_t t0;

	(void)state;
	poll_init(&p, 50, 2);
	fake_runnable = 4; /* two CPU hogs, the client and the server */
	t0 = vu_poll_now_ns();
	assert_int_equal(vu_poll_spin(&p, t0, attempt, &s), -EAGAIN);
	assert_int_equal(s.calls, 0);
	assert_int_equal(p.busy_waits, 1);
	p.win_ns = 20 * US;
	vu_poll_slept(&p, t0); /* came soon after: would double the window */
	assert_int_equal(p.win_ns, 20 * US);
	/* quiet again: looked at within VU_POLL_LOAD_NS, then polled */
	fake_runnable = 2;
	p.load_next = 0;
	assert_int_equal(vu_poll_spin(&p, vu_poll_now_ns(), attempt, &s), 36);
	assert_int_equal(s.calls, 3);
	/* the real reader gives a count on Linux */
	assert_true(vu_poll_runnable() >= 1);
}

static void test_cpus(void **state)
{
	cpu_set_t all, one;
	int first = -1;

	(void)state;
	assert_int_equal(sched_getaffinity(0, sizeof(all), &all), 0);
	assert_int_equal(vu_poll_cpus(), CPU_COUNT(&all));
	for (int i = 0; i < CPU_SETSIZE && first < 0; i++)
		if (CPU_ISSET(i, &all))
			first = i;
	CPU_ZERO(&one);
	CPU_SET(first, &one);
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
	assert_int_equal(vu_poll_cpus(), 1);
	assert_int_equal(sched_setaffinity(0, sizeof(all), &all), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),   cmocka_unit_test(test_spin), cmocka_unit_test(test_preempted),
		cmocka_unit_test(test_adapt),  cmocka_unit_test(test_busy_machine),
		cmocka_unit_test(test_parse),  cmocka_unit_test(test_env),  cmocka_unit_test(test_cpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

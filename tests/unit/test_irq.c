/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the IRQ bitmap + notifier (src/core/irq.c).
 * Threads other than the test thread never call cmocka asserts: they
 * record failures in atomics that the test thread checks.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "irq.h"

static const uint64_t ZERO_MASK[IRQ_WORDS] = { 0, 0, 0, 0 };
static const uint64_t FULL_MASK[IRQ_WORDS] = { UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX };

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static bool fd_readable(const struct irq_state *s)
{
	struct pollfd p = { .fd = s->rfd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static bool has_bit(const uint64_t w[IRQ_WORDS], unsigned v)
{
	return (w[v / 64] >> (v % 64)) & 1;
}

static int setup(void **state)
{
	static struct irq_state s;

	if (irq_state_init(&s) != 0)
		return -1;
	*state = &s;
	return 0;
}

static int teardown(void **state)
{
	irq_state_fini(*state);
	return 0;
}

static void test_init_state(void **state)
{
	struct irq_state *s = *state;
	uint64_t w[IRQ_WORDS];

	assert_true(s->rfd >= 0);
	assert_true(s->wfd >= 0);
	assert_int_equal(irq_state_peek(s, w), 0);
	assert_memory_equal(w, ZERO_MASK, sizeof(w));
	irq_state_get_mask(s, w);
	assert_memory_equal(w, FULL_MASK, sizeof(w));
	assert_false(fd_readable(s));
	assert_int_equal(irq_state_take(s, w), 0);
	assert_int_equal(irq_state_init(NULL), -EINVAL);
}

static void test_mask_semantics(void **state)
{
	struct irq_state *s = *state;
	uint64_t m[IRQ_WORDS] = { ~(UINT64_C(1) << 5), UINT64_MAX, UINT64_MAX, UINT64_MAX };
	uint64_t w[IRQ_WORDS];

	irq_state_set_mask(s, m);
	irq_state_get_mask(s, w);
	assert_memory_equal(w, m, sizeof(w));

	/* Masked raise: latched, visible to peek, not taken, fd quiet. */
	irq_state_raise(s, 5);
	assert_false(fd_readable(s));
	assert_int_equal(irq_state_take(s, w), 0);
	assert_memory_equal(w, ZERO_MASK, sizeof(w));
	assert_int_equal(irq_state_peek(s, w), 1);
	assert_true(has_bit(w, 5));
	assert_false(fd_readable(s));
	assert_int_equal(irq_state_wait(s, 0, w), -ETIMEDOUT);
	assert_int_equal(irq_state_peek(s, w), 1);

	/* An enabled vector alongside is taken alone. */
	irq_state_raise(s, 6);
	assert_true(fd_readable(s));
	assert_int_equal(irq_state_take(s, w), 1);
	assert_true(has_bit(w, 6));
	assert_false(has_bit(w, 5));
	assert_false(fd_readable(s));

	/* Unmasking the latched vector makes the fd readable and take gets it. */
	irq_state_set_mask(s, FULL_MASK);
	assert_true(fd_readable(s));
	assert_int_equal(irq_state_take(s, w), 1);
	assert_true(has_bit(w, 5));
	assert_false(fd_readable(s));
	assert_int_equal(irq_state_peek(s, w), 0);

	/* Unmasking with nothing latched does not signal. */
	irq_state_set_mask(s, ZERO_MASK);
	irq_state_set_mask(s, FULL_MASK);
	assert_false(fd_readable(s));
}

static void test_read_and_clear(void **state)
{
	struct irq_state *s = *state;
	uint64_t w[IRQ_WORDS];

	irq_state_raise(s, 3);
	irq_state_raise(s, 3);  /* coalesces */
	irq_state_raise(s, 7);
	assert_int_equal(irq_state_peek(s, w), 2);
	assert_int_equal(irq_state_take(s, w), 2);
	assert_int_equal(w[0], (UINT64_C(1) << 3) | (UINT64_C(1) << 7));
	assert_int_equal(w[1] | w[2] | w[3], 0);
	assert_int_equal(irq_state_take(s, w), 0);
	assert_memory_equal(w, ZERO_MASK, sizeof(w));
	assert_int_equal(irq_state_peek(s, w), 0);
	assert_false(fd_readable(s));
}

static void test_all_words(void **state)
{
	struct irq_state *s = *state;
	static const unsigned vecs[] = { 0, 63, 64, 127, 128, 191, 192, 255 };
	uint64_t w[IRQ_WORDS];

	for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++)
		irq_state_raise(s, vecs[i]);
	assert_int_equal(irq_state_take(s, w), 8);
	for (unsigned k = 0; k < IRQ_WORDS; k++)
		assert_int_equal(w[k], UINT64_C(1) | (UINT64_C(1) << 63));

	/* Out-of-range vectors are ignored entirely. */
	irq_state_raise(s, 256);
	irq_state_raise(s, 1000);
	irq_state_raise(s, ~0u);
	assert_int_equal(irq_state_peek(s, w), 0);
	assert_false(fd_readable(s));

	/* Mask one whole word: only the others are taken. */
	uint64_t m[IRQ_WORDS] = { UINT64_MAX, 0, UINT64_MAX, UINT64_MAX };

	irq_state_set_mask(s, m);
	irq_state_raise(s, 64);
	irq_state_raise(s, 100);
	irq_state_raise(s, 255);
	assert_int_equal(irq_state_take(s, w), 1);
	assert_true(has_bit(w, 255));
	assert_int_equal(irq_state_peek(s, w), 2);
	assert_true(has_bit(w, 64) && has_bit(w, 100));
}

static void test_clear(void **state)
{
	struct irq_state *s = *state;
	uint64_t w[IRQ_WORDS];

	irq_state_set_mask(s, ZERO_MASK);
	irq_state_raise(s, 1);
	irq_state_set_mask(s, FULL_MASK);
	irq_state_raise(s, 200);
	assert_true(fd_readable(s));
	irq_state_set_mask(s, ZERO_MASK);
	irq_state_clear(s);
	assert_int_equal(irq_state_peek(s, w), 0);
	irq_state_get_mask(s, w);
	assert_memory_equal(w, FULL_MASK, sizeof(w));
	assert_false(fd_readable(s));
	assert_int_equal(irq_state_take(s, w), 0);
}

static void test_wait_immediate(void **state)
{
	struct irq_state *s = *state;
	uint64_t w[IRQ_WORDS];
	int64_t t0;

	irq_state_raise(s, 42);
	t0 = now_ms();
	assert_int_equal(irq_state_wait(s, 5000, w), 1);
	assert_true(now_ms() - t0 < 100);
	assert_true(has_bit(w, 42));
	/* Also with timeout 0 and "forever". */
	irq_state_raise(s, 43);
	assert_int_equal(irq_state_wait(s, 0, w), 1);
	assert_true(has_bit(w, 43));
	irq_state_raise(s, 44);
	assert_int_equal(irq_state_wait(s, -1, w), 1);
	assert_true(has_bit(w, 44));
	assert_int_equal(irq_state_wait(s, 0, w), -ETIMEDOUT);
	assert_int_equal(irq_state_wait(NULL, 0, w), -EINVAL);
	assert_int_equal(irq_state_wait(s, 0, NULL), -EINVAL);
}

static void test_wait_timeout(void **state)
{
	struct irq_state *s = *state;
	uint64_t w[IRQ_WORDS];
	int64_t t0, dt;

	t0 = now_ms();
	assert_int_equal(irq_state_wait(s, 0, w), -ETIMEDOUT);
	assert_true(now_ms() - t0 < 50);

	t0 = now_ms();
	assert_int_equal(irq_state_wait(s, 150, w), -ETIMEDOUT);
	dt = now_ms() - t0;
	assert_true(dt >= 149);
	assert_true(dt < 650);

	/* A masked pending vector does not end the wait. */
	irq_state_set_mask(s, ZERO_MASK);
	irq_state_raise(s, 9);
	t0 = now_ms();
	assert_int_equal(irq_state_wait(s, 50, w), -ETIMEDOUT);
	assert_true(now_ms() - t0 >= 49);
}

struct poker {
	struct irq_state *s;
	int delay_ms;
	int period_ms;
	int count;
	int vec;  /* >= 0: raise it; < 0: just poke the fd (spurious wake-up) */
};

static void *poker_main(void *arg)
{
	struct poker *p = arg;

	for (int i = 0; i < p->count; i++) {
		sleep_ms(i == 0 ? p->delay_ms : p->period_ms);
		if (p->vec >= 0) {
			irq_state_raise(p->s, (unsigned)p->vec);
		} else {
			uint64_t one = 1;  /* valid for an eventfd and a pipe */

			if (write(p->s->wfd, &one, sizeof(one)) < 0)
				break;
		}
	}
	return NULL;
}

static void test_wait_wakes_from_thread(void **state)
{
	struct irq_state *s = *state;
	struct poker p = { s, 60, 0, 1, 77 };
	uint64_t w[IRQ_WORDS];
	pthread_t th;
	int64_t t0, dt;

	t0 = now_ms();
	assert_int_equal(pthread_create(&th, NULL, poker_main, &p), 0);
	assert_int_equal(irq_state_wait(s, 5000, w), 1);
	dt = now_ms() - t0;
	pthread_join(th, NULL);
	assert_true(has_bit(w, 77));
	assert_true(dt >= 50);
	assert_true(dt < 2000);
}

/* Spurious wake-ups must not restart the timeout from scratch. */
static void test_wait_spurious_keeps_deadline(void **state)
{
	struct irq_state *s = *state;
	struct poker p = { s, 20, 20, 40, -1 };  /* pokes for ~800 ms */
	uint64_t w[IRQ_WORDS];
	pthread_t th;
	int64_t t0, dt;

	assert_int_equal(pthread_create(&th, NULL, poker_main, &p), 0);
	t0 = now_ms();
	assert_int_equal(irq_state_wait(s, 200, w), -ETIMEDOUT);
	dt = now_ms() - t0;
	pthread_join(th, NULL);
	assert_true(dt >= 199);
	assert_true(dt < 700);
}

/* ---- signals ---- */

static struct irq_state *g_sig_irq;
static atomic_int g_sig_count;

static void on_sigusr1(int sig)
{
	(void)sig;
	atomic_fetch_add(&g_sig_count, 1);
	if (g_sig_irq)
		irq_state_raise(g_sig_irq, 17);  /* async-signal-safe by contract */
}

struct killer {
	pthread_t target;
	atomic_bool stop;
	int max;
};

static void *killer_main(void *arg)
{
	struct killer *k = arg;

	for (int i = 0; i < k->max && !atomic_load(&k->stop); i++) {
		sleep_ms(20);
		pthread_kill(k->target, SIGUSR1);
	}
	return NULL;
}

static void with_sigusr1(struct sigaction *old)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigusr1;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;  /* no SA_RESTART: poll must report EINTR */
	assert_int_equal(sigaction(SIGUSR1, &sa, old), 0);
}

static void test_wait_eintr(void **state)
{
	struct irq_state *s = *state;
	struct killer k = { .target = pthread_self(), .max = 200 };
	struct sigaction old;
	uint64_t w[IRQ_WORDS];
	pthread_t th;
	int rc;

	g_sig_irq = NULL;
	atomic_init(&k.stop, false);
	with_sigusr1(&old);
	assert_int_equal(pthread_create(&th, NULL, killer_main, &k), 0);
	rc = irq_state_wait(s, 5000, w);
	atomic_store(&k.stop, true);
	pthread_join(th, NULL);
	sigaction(SIGUSR1, &old, NULL);
	assert_int_equal(rc, -EINTR);
}

static void test_raise_from_signal_handler(void **state)
{
	struct irq_state *s = *state;
	struct killer k = { .target = pthread_self(), .max = 1 };
	struct sigaction old;
	uint64_t w[IRQ_WORDS];
	pthread_t th;
	int rc;

	g_sig_irq = s;
	atomic_store(&g_sig_count, 0);
	atomic_init(&k.stop, false);
	with_sigusr1(&old);
	assert_int_equal(pthread_create(&th, NULL, killer_main, &k), 0);
	do
		rc = irq_state_wait(s, 5000, w);
	while (rc == -EINTR);
	pthread_join(th, NULL);
	sigaction(SIGUSR1, &old, NULL);
	g_sig_irq = NULL;
	assert_int_equal(rc, 1);
	assert_true(has_bit(w, 17));
	assert_int_equal(atomic_load(&g_sig_count), 1);
}

/* ---- concurrency ---- */

#define NRAISE 200000u
#define WATCHDOG_MS 5000

/*
 * Exact accounting: the producer raises vector v only after the consumer
 * has acknowledged the previous raise of v, so every raise must be seen
 * exactly once and nothing unraised may appear.
 */
struct handshake {
	struct irq_state *s;
	atomic_int outstanding[IRQ_VECTORS];
	uint32_t expected[IRQ_VECTORS];
	atomic_bool abort;
	atomic_bool failed;
};

static void *handshake_producer(void *arg)
{
	struct handshake *h = arg;

	for (uint32_t i = 0; i < NRAISE; i++) {
		unsigned v = (i * 193u + (i >> 8)) % IRQ_VECTORS;
		int64_t t0 = now_ms();

		while (atomic_load(&h->outstanding[v])) {
			if (atomic_load(&h->abort) || now_ms() - t0 > WATCHDOG_MS) {
				atomic_store(&h->failed, true);
				return NULL;
			}
			sched_yield();
		}
		atomic_store(&h->outstanding[v], 1);
		h->expected[v]++;
		irq_state_raise(h->s, v);
	}
	return NULL;
}

static void test_concurrent_exact(void **state)
{
	static struct handshake h;
	static uint32_t seen[IRQ_VECTORS];
	uint64_t w[IRQ_WORDS];
	uint32_t total = 0, spurious = 0, timeouts = 0;
	pthread_t th;

	memset(&h, 0, sizeof(h));
	memset(seen, 0, sizeof(seen));
	h.s = *state;
	assert_int_equal(pthread_create(&th, NULL, handshake_producer, &h), 0);
	while (total < NRAISE && !atomic_load(&h.failed)) {
		int rc = irq_state_wait(h.s, WATCHDOG_MS, w);

		if (rc == -ETIMEDOUT) {
			timeouts++;
			break;
		}
		if (rc <= 0)
			break;
		for (unsigned v = 0; v < IRQ_VECTORS; v++) {
			if (!has_bit(w, v))
				continue;
			if (atomic_exchange(&h.outstanding[v], 0) != 1)
				spurious++;
			seen[v]++;
			total++;
		}
	}
	atomic_store(&h.abort, true);
	pthread_join(th, NULL);
	assert_false(atomic_load(&h.failed));
	assert_int_equal(timeouts, 0);
	assert_int_equal(spurious, 0);
	assert_int_equal(total, NRAISE);
	for (unsigned v = 0; v < IRQ_VECTORS; v++)
		assert_int_equal(seen[v], h.expected[v]);
	assert_int_equal(irq_state_take(h.s, w), 0);
}

/*
 * Free-running producer (bits coalesce): each vector's last raise must be
 * observed after it happened, a vector is never observed more often than
 * raised, and vectors never raised (v % 3 == 0) never appear.
 */
struct freerun {
	struct irq_state *s;
	atomic_uint_fast32_t gen[IRQ_VECTORS];
	uint32_t raises[IRQ_VECTORS];
	atomic_bool done;
};

static void *freerun_producer(void *arg)
{
	struct freerun *f = arg;
	uint64_t x = 0x243f6a8885a308d3ull;

	for (uint32_t i = 0; i < NRAISE; i++) {
		unsigned v;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v = (unsigned)(x % IRQ_VECTORS);
		if (v % 3 == 0)
			v = v == IRQ_VECTORS - 1 ? v - 1 : v + 1;
		atomic_fetch_add(&f->gen[v], 1);  /* before the raise: see check below */
		f->raises[v]++;
		irq_state_raise(f->s, v);
	}
	atomic_store(&f->done, true);
	return NULL;
}

static void test_concurrent_coalescing(void **state)
{
	static struct freerun f;
	static uint32_t obs[IRQ_VECTORS], seen_gen[IRQ_VECTORS];
	uint64_t w[IRQ_WORDS];
	uint32_t bad_vec = 0, unraised = 0, errors = 0;
	pthread_t th;
	bool last = false;

	memset(&f, 0, sizeof(f));
	memset(obs, 0, sizeof(obs));
	memset(seen_gen, 0, sizeof(seen_gen));
	f.s = *state;
	assert_int_equal(pthread_create(&th, NULL, freerun_producer, &f), 0);
	for (;;) {
		int rc;

		if (atomic_load(&f.done)) {
			/* Every raise is complete: one take collects the rest. */
			rc = irq_state_take(f.s, w);
			last = true;
		} else {
			rc = irq_state_wait(f.s, 50, w);
			if (rc == -ETIMEDOUT)
				continue;
		}
		if (rc < 0) {
			errors++;
			break;
		}
		for (unsigned v = 0; v < IRQ_VECTORS; v++) {
			if (!has_bit(w, v))
				continue;
			if (v % 3 == 0)
				bad_vec++;
			uint32_t g = (uint32_t)atomic_load(&f.gen[v]);

			if (g == 0)
				unraised++;
			seen_gen[v] = g;
			obs[v]++;
		}
		if (last)
			break;
	}
	pthread_join(th, NULL);
	assert_int_equal(errors, 0);
	assert_int_equal(bad_vec, 0);
	assert_int_equal(unraised, 0);
	for (unsigned v = 0; v < IRQ_VECTORS; v++) {
		assert_true(obs[v] <= f.raises[v]);
		assert_int_equal(seen_gen[v], f.raises[v]);
		if (f.raises[v])
			assert_true(obs[v] >= 1);
	}
	assert_int_equal(irq_state_peek(f.s, w), 0);
}

/*
 * Ping-pong: A carries producer -> consumer, B carries the acknowledgement.
 * Both sides block in wait() with a watchdog, so a lost wake-up in either
 * direction shows up as a timeout. @mask_race additionally masks A before
 * each acknowledgement and unmasks it while the raise may be in flight.
 */
#define PINGPONG_ROUNDS 100000u

struct pingpong {
	struct irq_state a, b;
	uint32_t rounds;
	atomic_int producer_err;
};

static void *pingpong_producer(void *arg)
{
	struct pingpong *p = arg;
	uint64_t w[IRQ_WORDS];

	for (uint32_t i = 0; i < p->rounds; i++) {
		int rc;

		irq_state_raise(&p->a, i % IRQ_VECTORS);
		rc = irq_state_wait(&p->b, WATCHDOG_MS, w);
		if (rc != 1 || !has_bit(w, 0)) {
			atomic_store(&p->producer_err, rc == 1 ? -1000 : rc);
			return NULL;
		}
	}
	return NULL;
}

static void *maskrace_producer(void *arg)
{
	struct pingpong *p = arg;
	uint64_t w[IRQ_WORDS];

	for (uint32_t i = 0; i < p->rounds; i++) {
		int rc = irq_state_wait(&p->b, WATCHDOG_MS, w);

		if (rc != 1 || !has_bit(w, 0)) {
			atomic_store(&p->producer_err, rc == 1 ? -1000 : rc);
			return NULL;
		}
		irq_state_raise(&p->a, i % IRQ_VECTORS);
	}
	return NULL;
}

static void run_pingpong(bool mask_race, uint32_t rounds)
{
	static struct pingpong p;
	uint64_t w[IRQ_WORDS];
	uint32_t done = 0;
	int rc = 0;
	bool wrong = false;
	pthread_t th;
	int64_t t0, dt;

	memset(&p, 0, sizeof(p));
	p.rounds = rounds;
	assert_int_equal(irq_state_init(&p.a), 0);
	assert_int_equal(irq_state_init(&p.b), 0);
	t0 = now_ms();
	assert_int_equal(pthread_create(&th, NULL,
					mask_race ? maskrace_producer : pingpong_producer, &p), 0);
	for (; done < rounds; done++) {
		if (mask_race) {
			irq_state_set_mask(&p.a, ZERO_MASK);
			irq_state_raise(&p.b, 0);  /* "go" */
			irq_state_set_mask(&p.a, FULL_MASK);  /* races the raise */
		}
		rc = irq_state_wait(&p.a, WATCHDOG_MS, w);
		if (rc != 1 || !has_bit(w, done % IRQ_VECTORS)) {
			wrong = rc == 1;
			break;
		}
		if (!mask_race)
			irq_state_raise(&p.b, 0);  /* ack */
	}
	if (done < rounds) {
		/* Unblock the producer so join cannot hang. */
		for (int i = 0; i < 3; i++)
			irq_state_raise(&p.b, 0);
	}
	pthread_join(th, NULL);
	dt = now_ms() - t0;
	irq_state_fini(&p.a);
	irq_state_fini(&p.b);
	assert_false(wrong);
	assert_int_equal(rc, 1);
	assert_int_equal(done, rounds);
	assert_int_equal(atomic_load(&p.producer_err), 0);
	printf("  %s: %u rounds in %lld ms (%.2f us/round)\n",
	       mask_race ? "mask-race ping-pong" : "ping-pong", rounds,
	       (long long)dt, dt * 1000.0 / rounds);
}

static void test_pingpong_no_lost_wakeup(void **state)
{
	(void)state;
	run_pingpong(false, PINGPONG_ROUNDS);
}

static void test_mask_race_no_lost_wakeup(void **state)
{
	(void)state;
	run_pingpong(true, PINGPONG_ROUNDS / 5);
}

/*
 * Event-loop style: the consumer polls the fd itself (as a user of
 * upci_irq_fd would) instead of calling wait(), which re-takes before
 * sleeping and would hide a wake-up lost inside take(). Each round the
 * producer raises a noise vector then the round's vector back to back, so
 * the second raise often lands while the consumer is inside take().
 */
static void *eventloop_producer(void *arg)
{
	struct pingpong *p = arg;
	uint64_t w[IRQ_WORDS];

	for (uint32_t i = 0; i < p->rounds; i++) {
		int rc;

		irq_state_raise(&p->a, 255);
		irq_state_raise(&p->a, i % 255);
		rc = irq_state_wait(&p->b, WATCHDOG_MS, w);
		if (rc != 1) {
			atomic_store(&p->producer_err, rc);
			return NULL;
		}
	}
	return NULL;
}

static void test_eventloop_no_lost_wakeup(void **state)
{
	static struct pingpong p;
	uint64_t w[IRQ_WORDS];
	uint32_t done = 0, lost = 0, wrong = 0;
	pthread_t th;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.rounds = PINGPONG_ROUNDS;
	assert_int_equal(irq_state_init(&p.a), 0);
	assert_int_equal(irq_state_init(&p.b), 0);
	assert_int_equal(pthread_create(&th, NULL, eventloop_producer, &p), 0);
	while (done < p.rounds) {
		struct pollfd pfd = { .fd = p.a.rfd, .events = POLLIN };

		if (poll(&pfd, 1, WATCHDOG_MS) != 1) {
			lost++;
			break;
		}
		if (irq_state_take(&p.a, w) <= 0)
			continue;  /* spurious wake-up: allowed */
		for (unsigned v = 0; v < 255; v++) {
			if (!has_bit(w, v))
				continue;
			if (v != done % 255)
				wrong++;
			done++;
			irq_state_raise(&p.b, 0);  /* ack */
		}
		if (wrong)
			break;
	}
	if (done < p.rounds)
		irq_state_raise(&p.b, 0);
	pthread_join(th, NULL);
	irq_state_fini(&p.a);
	irq_state_fini(&p.b);
	assert_int_equal(lost, 0);
	assert_int_equal(wrong, 0);
	assert_int_equal(done, p.rounds);
	assert_int_equal(atomic_load(&p.producer_err), 0);
}

static void test_null_args(void **state)
{
	uint64_t w[IRQ_WORDS];

	(void)state;
	irq_state_raise(NULL, 1);
	irq_state_set_mask(NULL, FULL_MASK);
	irq_state_get_mask(NULL, w);
	irq_state_clear(NULL);
	irq_state_fini(NULL);
	assert_int_equal(irq_state_take(NULL, w), -EINVAL);
	assert_int_equal(irq_state_peek(NULL, w), -EINVAL);
	assert_int_equal(irq_state_wait(NULL, 0, w), -EINVAL);
}

#ifdef __linux__
#include <sys/eventfd.h>

static int readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* Read an eventfd's counter; 0 when it was not signalled. */
static uint64_t efd_count(int fd)
{
	uint64_t v = 0;

	if (read(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		return 0;
	return v;
}

static void test_direct_delivery(void **state)
{
	struct irq_state *s = *state;
	uint64_t out[IRQ_WORDS], mask[IRQ_WORDS];
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	assert_true(efd >= 0);
	assert_int_equal(irq_state_set_direct(s, 300, efd), -EINVAL);
	assert_int_equal(irq_state_set_direct(s, 70, efd), 0);
	irq_state_raise(s, 70);
	/* Straight to the eventfd: neither pending bits nor the notifier. */
	assert_int_equal(efd_count(efd), 1);
	assert_int_equal(irq_state_peek(s, out), 0);
	assert_false(readable(irq_state_pollfd(s)));
	/* Masked: latched, not written; unmask replays it to the fd once. */
	memcpy(mask, FULL_MASK, sizeof(mask));
	mask[1] &= ~(UINT64_C(1) << 6);
	irq_state_set_mask(s, mask);
	irq_state_raise(s, 70);
	assert_int_equal(efd_count(efd), 0);
	assert_int_equal(irq_state_peek(s, out), 1);
	assert_true(out[1] & (UINT64_C(1) << 6));
	irq_state_set_mask(s, FULL_MASK);
	assert_int_equal(efd_count(efd), 1);
	assert_int_equal(irq_state_peek(s, out), 0);
	/* Back to normal delivery. */
	assert_int_equal(irq_state_set_direct(s, 70, -1), 0);
	irq_state_raise(s, 70);
	assert_int_equal(efd_count(efd), 0);
	assert_int_equal(irq_state_take(s, out), 1);
	/* clear() drops direct routes too. */
	assert_int_equal(irq_state_set_direct(s, 3, efd), 0);
	irq_state_clear(s);
	irq_state_raise(s, 3);
	assert_int_equal(efd_count(efd), 0);
	assert_int_equal(irq_state_take(s, out), 1);
	close(efd);
}

/*
 * Routing moves what is latched: an enabled vector pending when it is
 * routed goes to the fd (and is never taken); one latched when it is
 * given back belongs to the bitmap and makes the notifier readable.
 */
static void test_direct_moves_pending(void **state)
{
	struct irq_state *s = *state;
	uint64_t out[IRQ_WORDS], mask[IRQ_WORDS];
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	assert_true(efd >= 0);
	irq_state_raise(s, 5);
	assert_int_equal(irq_state_set_direct(s, 5, efd), 0);
	assert_int_equal(efd_count(efd), 1);
	assert_int_equal(irq_state_take(s, out), 0);
	/* A raise of a routed vector never reaches take, even if its bit is
	 * set by a latch that raced the route (here: directly). */
	atomic_fetch_or(&s->pending[0], UINT64_C(1) << 5);
	assert_int_equal(irq_state_take(s, out), 0);
	atomic_fetch_and(&s->pending[0], ~(UINT64_C(1) << 5));
	/* Latched while masked and routed, then given back: the bitmap's. */
	memcpy(mask, FULL_MASK, sizeof(mask));
	mask[0] &= ~(UINT64_C(1) << 5);
	irq_state_set_mask(s, mask);
	irq_state_raise(s, 5);
	assert_int_equal(efd_count(efd), 0);
	assert_int_equal(irq_state_set_direct(s, 5, -1), 0);
	assert_false(readable(irq_state_pollfd(s)));
	irq_state_set_mask(s, FULL_MASK);
	assert_true(readable(irq_state_pollfd(s)));
	assert_int_equal(irq_state_take(s, out), 1);
	assert_int_equal(out[0], UINT64_C(1) << 5);
	/* Latched and enabled (a route given back in between takes): the
	 * notifier says so at once. */
	assert_int_equal(irq_state_set_direct(s, 6, efd), 0);
	irq_state_set_mask(s, mask); /* 5 masked, 6 enabled */
	atomic_fetch_or(&s->pending[0], UINT64_C(1) << 6);
	assert_int_equal(irq_state_set_direct(s, 6, -1), 0);
	assert_true(readable(irq_state_pollfd(s)));
	assert_int_equal(irq_state_take(s, out), 1);
	assert_int_equal(out[0], UINT64_C(1) << 6);
	/* A backend's own eventfd read after it stopped watching it. */
	{
		int own = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);

		assert_true(own >= 0);
		assert_int_equal(irq_state_set_direct(s, 7, efd), 0);
		irq_state_latch_fd(s, 7, own);
		assert_int_equal(efd_count(efd), 1);
		irq_state_latch_fd(s, 7, own); /* empty now: nothing */
		assert_int_equal(efd_count(efd), 0);
		close(own);
	}
	close(efd);
}

struct swap_arg {
	struct irq_state *s;
	atomic_bool stop;
};

static void *raiser(void *p)
{
	struct swap_arg *a = p;

	while (!atomic_load(&a->stop))
		irq_state_raise(a->s, 9);
	return NULL;
}

/* After set_direct returns, the previous fd is never written again: the
 * caller may close it. */
static void test_direct_swap_quiesces(void **state)
{
	struct swap_arg a = {.s = *state};
	pthread_t th;
	int fds[2];

	fds[0] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	fds[1] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(fds[0] >= 0 && fds[1] >= 0);
	atomic_init(&a.stop, false);
	assert_int_equal(irq_state_set_direct(a.s, 9, fds[0]), 0);
	assert_int_equal(pthread_create(&th, NULL, raiser, &a), 0);
	for (int round = 0; round < 2000; round++) {
		int old = fds[round & 1], cur = fds[(round + 1) & 1];

		assert_int_equal(irq_state_set_direct(a.s, 9, cur), 0);
		(void)efd_count(old);                 /* drain what came before */
		assert_int_equal(efd_count(old), 0);  /* and nothing after */
	}
	atomic_store(&a.stop, true);
	pthread_join(th, NULL);
	irq_state_set_direct(a.s, 9, -1);
	close(fds[0]);
	close(fds[1]);
}

static void test_sources(void **state)
{
	struct irq_state *s = *state;
	uint64_t out[IRQ_WORDS], mask[IRQ_WORDS], one = 1;
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), pfd;

	assert_true(efd >= 0);
	assert_int_equal(irq_state_enable_sources(s), 0);
	pfd = irq_state_pollfd(s);
	assert_true(pfd >= 0 && pfd != s->rfd);
	assert_int_equal(irq_state_attach_source(s, 256, efd), -EINVAL);
	assert_int_equal(irq_state_attach_source(s, 200, efd), 0);
	assert_false(readable(pfd));
	/* The device signals the vector's eventfd: the pollable fd wakes and
	 * take returns the vector, draining the source. */
	assert_int_equal(write(efd, &one, sizeof(one)), (ssize_t)sizeof(one));
	assert_true(readable(pfd));
	assert_int_equal(irq_state_take(s, out), 1);
	assert_true(out[3] & (UINT64_C(1) << 8));
	assert_false(readable(efd));
	assert_false(readable(pfd));
	/* Normal raises still wake the same fd. */
	irq_state_raise(s, 1);
	assert_true(readable(pfd));
	assert_int_equal(irq_state_wait(s, 100, out), 1);
	assert_int_equal(out[0], 2);
	/* A masked source vector is latched and delivered on unmask. */
	memcpy(mask, FULL_MASK, sizeof(mask));
	mask[3] = 0;
	irq_state_set_mask(s, mask);
	assert_int_equal(write(efd, &one, sizeof(one)), (ssize_t)sizeof(one));
	/* The pollable fd stays quiet for a masked vector... */
	assert_false(readable(pfd));
	assert_int_equal(irq_state_take(s, out), 0);
	/* ...but peek sees it latched. */
	assert_int_equal(irq_state_peek(s, out), 1);
	assert_true(out[3] & (UINT64_C(1) << 8));
	irq_state_set_mask(s, FULL_MASK);
	assert_true(readable(pfd));
	assert_int_equal(irq_state_wait(s, 100, out), 1);
	assert_true(out[3] & (UINT64_C(1) << 8));
	/* Fired while masked and never peeked: delivered after the unmask. */
	irq_state_set_mask(s, mask);
	assert_int_equal(write(efd, &one, sizeof(one)), (ssize_t)sizeof(one));
	assert_false(readable(pfd));
	irq_state_set_mask(s, FULL_MASK);
	assert_int_equal(irq_state_wait(s, 100, out), 1);
	assert_true(out[3] & (UINT64_C(1) << 8));
	/* Detached: the fd no longer counts. */
	assert_int_equal(irq_state_attach_source(s, 200, -1), 0);
	assert_int_equal(write(efd, &one, sizeof(one)), (ssize_t)sizeof(one));
	assert_false(readable(pfd));
	assert_int_equal(irq_state_wait(s, 0, out), -ETIMEDOUT);
	close(efd);
}

/* An automasked line: each latch writes the re-arm fd, except while the
 * vector is masked, when the re-arm waits for the unmask. */
static void test_source_rearm(void **state)
{
	struct irq_state *s = *state;
	uint64_t out[IRQ_WORDS], mask[IRQ_WORDS], one = 1;
	int src = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	int rearm = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	assert_true(src >= 0 && rearm >= 0);
	assert_int_equal(irq_state_attach_source_rearm(s, 0, src, rearm), 0);
	assert_int_equal(write(src, &one, sizeof(one)), (ssize_t)sizeof(one));
	assert_int_equal(irq_state_wait(s, 100, out), 1);
	assert_int_equal(efd_count(rearm), 1);
	/* Masked: latched, no re-arm yet. */
	memcpy(mask, FULL_MASK, sizeof(mask));
	mask[0] = ~UINT64_C(1);
	irq_state_set_mask(s, mask);
	assert_int_equal(write(src, &one, sizeof(one)), (ssize_t)sizeof(one));
	assert_int_equal(irq_state_take(s, out), 0);
	assert_int_equal(efd_count(rearm), 0);
	/* Unmasked: the source is read by the next take, which re-arms. */
	irq_state_set_mask(s, FULL_MASK);
	assert_int_equal(irq_state_take(s, out), 1);
	assert_int_equal(efd_count(rearm), 1);
	/* Latched by peek while masked: the re-arm waits for the unmask. */
	irq_state_set_mask(s, mask);
	assert_int_equal(write(src, &one, sizeof(one)), (ssize_t)sizeof(one));
	assert_int_equal(irq_state_peek(s, out), 1);
	assert_int_equal(efd_count(rearm), 0);
	irq_state_set_mask(s, FULL_MASK);
	assert_int_equal(efd_count(rearm), 1);
	assert_int_equal(irq_state_take(s, out), 1);
	/* Detach forgets the re-arm fd. */
	assert_int_equal(irq_state_attach_source(s, 0, -1), 0);
	irq_state_set_mask(s, FULL_MASK);
	assert_int_equal(efd_count(rearm), 0);
	close(src);
	close(rearm);
}
#endif

/* ---- waking waiters (irq_state_cancel_waits) ---- */

#define CANCEL_WAITERS 4

struct cwaiter {
	struct irq_state *s;
	int timeout_ms;
	int rc;
	int64_t ms;
};

static void *cwaiter_main(void *arg)
{
	struct cwaiter *w = arg;
	uint64_t out[IRQ_WORDS];
	int64_t t0 = now_ms();

	w->rc = irq_state_wait(w->s, w->timeout_ms, out);
	w->ms = now_ms() - t0;
	return NULL;
}

static atomic_bool taker_stop;

/* Drains the notifier as fast as it can: a cancel's wake-up may be eaten
 * before a waiter polls, and must be written again. */
static void *taker_main(void *arg)
{
	uint64_t out[IRQ_WORDS];

	while (!atomic_load(&taker_stop))
		irq_state_take(arg, out);
	return NULL;
}

static void test_cancel_wakes_waiters(void **state)
{
	struct irq_state *s = *state;
	struct cwaiter w[CANCEL_WAITERS];
	pthread_t th[CANCEL_WAITERS], tk;
	uint64_t out[IRQ_WORDS];
	int64_t t0;

	/* Nobody waiting: returns at once, and later waits are not cancelled. */
	t0 = now_ms();
	irq_state_cancel_waits(s);
	assert_true(now_ms() - t0 < 100);
	assert_int_equal(irq_state_wait(s, 0, out), -ETIMEDOUT);
	atomic_store(&taker_stop, false);
	assert_int_equal(pthread_create(&tk, NULL, taker_main, s), 0);
	for (int round = 0; round < 12; round++) {
		for (int i = 0; i < CANCEL_WAITERS; i++) {
			w[i] = (struct cwaiter){.s = s, .timeout_ms = i % 2 ? -1 : 5000};
			assert_int_equal(pthread_create(&th[i], NULL, cwaiter_main, &w[i]), 0);
		}
		/* All inside the wait (a wait that starts after the cancel is not
		 * cancelled); then some asleep in poll(), some not yet. */
		while (atomic_load(&s->waiting[0]) + atomic_load(&s->waiting[1]) != CANCEL_WAITERS)
			sched_yield();
		sleep_ms(round % 4);
		irq_state_cancel_waits(s);
		/* Cancel returned: every waiter it counted has left the wait. */
		assert_int_equal(atomic_load(&s->waiting[0]) + atomic_load(&s->waiting[1]), 0);
		for (int i = 0; i < CANCEL_WAITERS; i++) {
			pthread_join(th[i], NULL);
			assert_int_equal(w[i].rc, -ECANCELED);
			assert_true(w[i].ms < 2500);
		}
	}
	atomic_store(&taker_stop, true);
	pthread_join(tk, NULL);
	/* A raise still reaches the next wait. */
	irq_state_raise(s, 3);
	assert_int_equal(irq_state_wait(s, 100, out), 1);
	assert_true(has_bit(out, 3));
}

struct masker {
	struct irq_state *s;
	uint64_t m[IRQ_WORDS];
	atomic_bool *stop;
};

static void *masker_main(void *arg)
{
	struct masker *k = arg;

	while (!atomic_load(k->stop))
		irq_state_set_mask(k->s, k->m);
	return NULL;
}

/* Two masks set concurrently: each is applied whole, so a reader sees one
 * or the other, never words of both. */
static void test_set_mask_whole(void **state)
{
	struct irq_state *s = *state;
	atomic_bool stop = false;
	struct masker a = {.s = s, .stop = &stop}, b = {.s = s, .stop = &stop};
	pthread_t ta, tb;
	uint64_t got[IRQ_WORDS];
	unsigned mixed = 0;
	int64_t end;

	memcpy(a.m, FULL_MASK, sizeof(a.m));
	memcpy(b.m, ZERO_MASK, sizeof(b.m));
	assert_int_equal(pthread_create(&ta, NULL, masker_main, &a), 0);
	assert_int_equal(pthread_create(&tb, NULL, masker_main, &b), 0);
	for (end = now_ms() + 300; now_ms() < end;) {
		irq_state_get_mask(s, got);
		if (memcmp(got, a.m, sizeof(got)) != 0 && memcmp(got, b.m, sizeof(got)) != 0)
			mixed++;
	}
	atomic_store(&stop, true);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_int_equal(mixed, 0);
}

#ifdef __linux__
struct churn {
	struct irq_state *s;
	atomic_bool stop;
};

static void *churn_taker(void *arg)
{
	struct churn *c = arg;
	uint64_t out[IRQ_WORDS];

	while (!atomic_load(&c->stop)) {
		irq_state_take(c->s, out);
		irq_state_peek(c->s, out);
	}
	return NULL;
}

/*
 * The backends' pattern (vfio-user, VFIO): detach a vector's eventfd, then
 * close it, while other threads take and peek. Once the detach returned,
 * nobody may read that fd number any more: here the number is at once
 * reused by another eventfd holding a count, which must survive.
 */
static void test_detach_then_close(void **state)
{
	struct irq_state *s = *state;
	struct churn c = {.s = s};
	pthread_t th[2];
	uint64_t one = 1, cnt;
	unsigned eaten = 0;

	atomic_store(&c.stop, false);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, churn_taker, &c), 0);
	for (int i = 0; i < 500; i++) {
		int src = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), other;

		assert_true(src >= 0);
		assert_int_equal(irq_state_attach_source(s, (unsigned)i % 8, src), 0);
		assert_int_equal(write(src, &one, sizeof(one)), (ssize_t)sizeof(one));
		assert_int_equal(irq_state_attach_source(s, (unsigned)i % 8, -1), 0);
		close(src);
		other = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC); /* likely the same number */
		assert_true(other >= 0);
		sched_yield();
		if (read(other, &cnt, sizeof(cnt)) != (ssize_t)sizeof(cnt))
			eaten++;
		close(other);
	}
	atomic_store(&c.stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(eaten, 0);
}
#endif

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_init_state),
		T(test_mask_semantics),
		T(test_read_and_clear),
		T(test_all_words),
		T(test_clear),
		T(test_wait_immediate),
		T(test_wait_timeout),
		T(test_wait_wakes_from_thread),
		T(test_wait_spurious_keeps_deadline),
		T(test_wait_eintr),
		T(test_raise_from_signal_handler),
		T(test_concurrent_exact),
		T(test_concurrent_coalescing),
		cmocka_unit_test(test_pingpong_no_lost_wakeup),
		cmocka_unit_test(test_mask_race_no_lost_wakeup),
		cmocka_unit_test(test_eventloop_no_lost_wakeup),
		cmocka_unit_test(test_null_args),
#ifdef __linux__
		T(test_direct_delivery),
		T(test_direct_moves_pending),
		T(test_direct_swap_quiesces),
		T(test_sources),
		T(test_source_rearm),
		T(test_detach_then_close),
#endif
		T(test_cancel_wakes_waiters),
		T(test_set_mask_whole),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * Cases for upci_irq_set_eventfd(): one vector delivered to the caller's
 * eventfd while the others keep the bitmap, the mask and the pollable fd.
 * Expected behaviour: the kernel-doc of upci_irq_set_eventfd() in upci.h.
 * On testdev (many vectors, a doorbell per vector) and on edu (one MSI
 * vector, and INTx refused).
 */
#define _GNU_SOURCE
#include "conformance.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif

#include "cases_dev.h"
#include "edu_regs.h"

/* ---- the caller's notifier: an eventfd, or a pipe where there is none ---- */

struct evfd {
	int rd, wr; /* the same fd for an eventfd */
};

static int ev_open(struct evfd *e, int nonblock)
{
#ifdef __linux__
	e->rd = e->wr = eventfd(0, EFD_CLOEXEC | (nonblock ? EFD_NONBLOCK : 0));
	return e->rd >= 0 ? 0 : -1;
#else
	int p[2];

	if (pipe(p) != 0)
		return -1;
	e->rd = p[0];
	e->wr = p[1];
	if (fcntl(e->rd, F_SETFL, O_NONBLOCK) != 0 || (nonblock && fcntl(e->wr, F_SETFL, O_NONBLOCK) != 0)) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	return 0;
#endif
}

static void ev_close(struct evfd *e)
{
	if (e->wr >= 0 && e->wr != e->rd)
		close(e->wr);
	if (e->rd >= 0)
		close(e->rd);
	e->rd = e->wr = -1;
}

/* Events that arrived so far (eventfd counter, pipe bytes); reads them. */
static uint64_t ev_take(const struct evfd *e)
{
	uint64_t n = 0;
#ifdef __linux__
	if (read(e->rd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		n = 0;
#else
	char buf[256];
	ssize_t r;

	while ((r = read(e->rd, buf, sizeof(buf))) > 0)
		n += (uint64_t)r;
#endif
	return n;
}

/* Wait until @want events have arrived (up to the suite's timeout), then
 * make sure no more follow. Returns how many arrived. */
static uint64_t ev_expect(const struct evfd *e, uint64_t want)
{
	int64_t end = conf_now_ms() + (want ? CONF_TIMEOUT_MS : CONF_QUIET_MS);
	uint64_t got = 0;

	for (;;) {
		struct pollfd p = {.fd = e->rd, .events = POLLIN};
		int64_t left = end - conf_now_ms();

		if (got >= want) {
			/* Anything more must show within the quiet time. */
			if (poll(&p, 1, CONF_QUIET_MS) == 1)
				got += ev_take(e);
			return got;
		}
		if (left <= 0 || poll(&p, 1, (int)left) != 1)
			return got;
		got += ev_take(e);
	}
}

#define EV_OPEN(c, e)                                                                             \
	do {                                                                                      \
		CHECK(c, ev_open(&(e), 1) == 0, "cannot create an eventfd (or pipe) for the test"); \
	} while (0)

#define EV_EXPECT(c, e, want, ...)                                                                \
	do {                                                                                      \
		uint64_t got_ = ev_expect(&(e), (want));                                          \
		if (got_ != (uint64_t)(want)) {                                                   \
			conf_fail((c), __VA_ARGS__);                                              \
			conf_note((c), "the eventfd saw %llu event(s), expected %llu",            \
				  (unsigned long long)got_, (unsigned long long)(want));          \
			goto out;                                                                 \
		}                                                                                 \
	} while (0)

/* Until peek shows @v latched (an interrupt may still be on its way). */
static int peek_shows(upci_dev *d, unsigned v)
{
	int64_t end = conf_now_ms() + CONF_TIMEOUT_MS;
	uint64_t p[UPCI_IRQ_WORDS];

	do {
		if (upci_irq_peek_pending(d, p) >= 1 && conf_bit_test(p, v))
			return 1;
		conf_sleep_ms(1);
	} while (conf_now_ms() < end);
	return 0;
}

static void mask_without(uint64_t mask[UPCI_IRQ_WORDS], unsigned v)
{
	for (unsigned w = 0; w < UPCI_IRQ_WORDS; w++)
		mask[w] = UINT64_MAX;
	mask[v / 64] &= ~(UINT64_C(1) << (v % 64));
}

/* Mask @v alone, fire it, and wait until peek shows it latched. */
static int fire_masked(struct conf *c, upci_dev *d, unsigned v, const char *what)
{
	uint64_t mask[UPCI_IRQ_WORDS];

	mask_without(mask, v);
	CHECK_RC(c, upci_irq_set_mask(d, mask), 0);
	if (td_fire(c, d, v))
		goto out;
	CHECK(c, peek_shows(d, v), "%s vector %u fired while masked: peek does not show it latched", what, v);
	return 0;
out:
	return -1;
}

static const uint64_t all_on[UPCI_IRQ_WORDS] = {UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX};

/* Open testdev with all vectors enabled; the cases need four. */
static int td_open4(struct conf *c, struct td *t)
{
	if (td_open_irq(c, t))
		return -1;
	if (t->nvec < 4) {
		conf_skip(c, "the device has %u vectors; these cases need 4", t->nvec);
		return -1;
	}
	return 0;
}

/* ---- testdev ---- */

/* A routed vector reaches its eventfd, and only it; the others keep the
 * bitmap and the pollable fd; routes can be replaced and given back; the
 * library keeps its own duplicate of the fd. */
static void td_eventfd_route(struct conf *c)
{
	struct evfd e1 = {-1, -1}, e2 = {-1, -1}, e3 = {-1, -1};
	uint64_t want[UPCI_IRQ_WORDS] = {0};
	struct pollfd pfd;
	struct td t = {0};
	unsigned va, vb, vc;
	int keep = -1;

	if (td_open4(c, &t))
		goto out;
	va = 1, vb = t.nvec - 1, vc = 2;
	EV_OPEN(c, e1);
	EV_OPEN(c, e2);
	EV_OPEN(c, e3);
	CHECK_RC(c, upci_irq_set_eventfd(t.d, va, e1.wr), 0);
	CHECK_RC(c, upci_irq_set_eventfd(t.d, vb, e2.wr), 0);
	if (td_fire(c, t.d, va))
		goto out;
	EV_EXPECT(c, e1, 1, "vector %u routed to an eventfd: not signalled once", va);
	if (td_fire(c, t.d, vb))
		goto out;
	/* The pollable fd stays quiet for a routed vector. */
	pfd.fd = upci_irq_fd(t.d);
	pfd.events = POLLIN;
	pfd.revents = 0;
	EV_EXPECT(c, e2, 1, "vector %u routed to an eventfd: not signalled once", vb);
	CHECK(c, poll(&pfd, 1, CONF_QUIET_MS) == 0, "upci_irq_fd() readable after routed vector %u fired", vb);
	EV_EXPECT(c, e1, 0, "vector %u's eventfd signalled when vector %u fired", va, vb);
	/* The others: the bitmap, as before (and nothing routed shows there). */
	conf_bit_set(want, vc);
	if (td_fire(c, t.d, vc) || td_collect(c, t.d, want, "an unrouted vector"))
		goto out;
	/* Every firing counts (one at a time: a backend whose device reports
	 * pending bits, as the dext does, merges firings it has not yet
	 * delivered, as a masked MSI-X vector's pending bit does). */
	for (int i = 0; i < 3; i++) {
		if (td_fire(c, t.d, va))
			goto out;
		EV_EXPECT(c, e1, 1, "vector %u, firing %d: its eventfd was not signalled once", va, i + 2);
	}
	/* Replaced: the new fd, not the old one. */
	CHECK_RC(c, upci_irq_set_eventfd(t.d, va, e2.wr), 0);
	if (td_fire(c, t.d, va))
		goto out;
	EV_EXPECT(c, e2, 1, "vector %u moved to another eventfd: not signalled there", va);
	EV_EXPECT(c, e1, 0, "vector %u moved away: its old eventfd still signalled", va);
	/* The library holds a duplicate: the caller may close its fd. */
	keep = dup(e3.rd);
	CHECK(c, keep >= 0, "dup failed");
	CHECK_RC(c, upci_irq_set_eventfd(t.d, va, e3.wr), 0);
	ev_close(&e3);
	e3.rd = keep;
	e3.wr = -1;
	keep = -1;
	if (td_fire(c, t.d, va))
		goto out;
	EV_EXPECT(c, e3, 1, "vector %u: after the caller closed its fd, the library's duplicate was not signalled",
		  va);
	/* Given back: the bitmap again. */
	CHECK_RC(c, upci_irq_set_eventfd(t.d, va, -1), 0);
	CHECK_RC(c, upci_irq_set_eventfd(t.d, vb, -1), 0);
	memset(want, 0, sizeof(want));
	conf_bit_set(want, va);
	conf_bit_set(want, vb);
	if (td_fire(c, t.d, va) || td_fire(c, t.d, vb) || td_collect(c, t.d, want, "vectors given back"))
		goto out;
	EV_EXPECT(c, e3, 0, "vector %u given back: the eventfd was still signalled", va);
	EV_EXPECT(c, e2, 0, "vector %u given back: the eventfd was still signalled", vb);
out:
	if (keep >= 0)
		close(keep);
	ev_close(&e1);
	ev_close(&e2);
	ev_close(&e3);
	upci_close(t.d);
}

/* The mask applies to routed vectors: latched while held back (peek sees
 * it), signalled once on unmask. A vector latched in the library when it
 * is routed goes to the fd (now if enabled, on unmask if not); one given
 * back while latched stays in the bitmap. */
static void td_eventfd_mask(struct conf *c)
{
	struct evfd e1 = {-1, -1}, e2 = {-1, -1}, e3 = {-1, -1};
	uint64_t mask[UPCI_IRQ_WORDS], p[UPCI_IRQ_WORDS], want[UPCI_IRQ_WORDS] = {0};
	struct td t = {0};
	unsigned va = 1, vb = 2, vc = 3;
	int n;

	if (td_open4(c, &t))
		goto out;
	EV_OPEN(c, e1);
	EV_OPEN(c, e2);
	EV_OPEN(c, e3);
	/* Routed, then masked. */
	CHECK_RC(c, upci_irq_set_eventfd(t.d, va, e1.wr), 0);
	if (fire_masked(c, t.d, va, "routed"))
		goto out;
	EV_EXPECT(c, e1, 0, "routed vector %u fired while masked: its eventfd was signalled", va);
	n = upci_irq_take_pending(t.d, p);
	CHECK(c, n == 0, "take returned %s while the only latched vector is routed and masked", conf_bits(p));
	CHECK_RC(c, upci_irq_set_mask(t.d, all_on), 0);
	EV_EXPECT(c, e1, 1, "routed vector %u latched while masked: not signalled once on unmask", va);
	n = upci_irq_peek_pending(t.d, p);
	CHECK(c, n == 0, "still latched after the unmask delivered it: %s", conf_bits(p));
	/* Latched (masked, not routed), then routed while masked: the fd gets
	 * it on unmask, the bitmap never. */
	if (fire_masked(c, t.d, vb, "unrouted"))
		goto out;
	CHECK_RC(c, upci_irq_set_eventfd(t.d, vb, e2.wr), 0);
	EV_EXPECT(c, e2, 0, "vector %u latched while masked was signalled when routed, still masked", vb);
	CHECK_RC(c, upci_irq_set_mask(t.d, all_on), 0);
	EV_EXPECT(c, e2, 1, "vector %u latched before it was routed: not signalled on unmask", vb);
	CHECK_RC(c, upci_irq_wait(t.d, CONF_QUIET_MS, p), -ETIMEDOUT);
	/* Routed, masked and latched, then given back: the bitmap has it. */
	CHECK_RC(c, upci_irq_set_eventfd(t.d, vc, e3.wr), 0);
	if (fire_masked(c, t.d, vc, "routed"))
		goto out;
	CHECK_RC(c, upci_irq_set_eventfd(t.d, vc, -1), 0);
	CHECK_RC(c, upci_irq_set_mask(t.d, all_on), 0);
	conf_bit_set(want, vc);
	if (td_collect(c, t.d, want, "a latched vector given back, on unmask"))
		goto out;
	EV_EXPECT(c, e3, 0, "vector %u given back while latched: its old eventfd was signalled", vc);
	/* Masking and unmasking with nothing latched signals nothing. */
	mask_without(mask, va);
	CHECK_RC(c, upci_irq_set_mask(t.d, mask), 0);
	CHECK_RC(c, upci_irq_set_mask(t.d, all_on), 0);
	EV_EXPECT(c, e1, 0, "vector %u masked and unmasked without firing: its eventfd was signalled", va);
	if (td_fire(c, t.d, va))
		goto out;
	EV_EXPECT(c, e1, 1, "vector %u after a mask round trip: not signalled", va);
out:
	ev_close(&e1);
	ev_close(&e2);
	ev_close(&e3);
	upci_close(t.d);
}

/* The documented errors, and a good call still works after them. */
static void td_eventfd_errors(struct conf *c)
{
	struct evfd e = {-1, -1}, blocking = {-1, -1};
	struct td t = {0};
	int closed = -1, devnull = -1;

	if (td_open(c, &t))
		goto out;
	EV_OPEN(c, e);
	CHECK(c, ev_open(&blocking, 0) == 0, "cannot create a blocking eventfd (or pipe)");
	CHECK_RC(c, upci_irq_set_eventfd(NULL, 0, e.wr), -EINVAL);
	CHECK_RC(c, upci_irq_set_eventfd(t.d, 0, e.wr), -EINVAL); /* no interrupts yet */
	CHECK(c, upci_irq_enable(t.d, UPCI_IRQ_MSIX, 0) == (int)t.nvec, "upci_irq_enable(MSIX, 0) failed");
	CHECK_RC(c, upci_irq_set_eventfd(t.d, t.nvec, e.wr), -EINVAL);
	CHECK_RC(c, upci_irq_set_eventfd(t.d, UPCI_MAX_VECTORS, e.wr), -EINVAL);
	CHECK_RC(c, upci_irq_set_eventfd(t.d, 0, -2), -EINVAL);
	closed = dup(e.rd);
	CHECK(c, closed >= 0, "dup failed");
	close(closed);
	CHECK_RC(c, upci_irq_set_eventfd(t.d, 0, closed), -EBADF);
	devnull = open("/dev/null", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	CHECK(c, devnull >= 0, "cannot open /dev/null");
	CHECK_RC(c, upci_irq_set_eventfd(t.d, 0, devnull), -EINVAL);
	CHECK_RC(c, upci_irq_set_eventfd(t.d, 0, blocking.wr), -EINVAL);
	/* Nothing was routed by the failures; a good call works. */
	if (td_fire(c, t.d, 0))
		goto out;
	{
		uint64_t want[UPCI_IRQ_WORDS] = {1, 0, 0, 0};

		if (td_collect(c, t.d, want, "vector 0 after refused routes"))
			goto out;
	}
	CHECK_RC(c, upci_irq_set_eventfd(t.d, 0, e.wr), 0);
	CHECK_RC(c, upci_irq_set_eventfd(t.d, 0, -1), 0);
	CHECK_RC(c, upci_irq_set_eventfd(t.d, 0, -1), 0); /* giving back twice is fine */
	/* Without the claim (a second handle would be refused on vfio: and
	 * vfio-user:, so this one gives it up). */
	CHECK_RC(c, upci_release(t.d), 0);
	CHECK_RC(c, upci_irq_set_eventfd(t.d, 0, e.wr), -EPERM);
out:
	if (devnull >= 0)
		close(devnull);
	ev_close(&e);
	ev_close(&blocking);
	upci_close(t.d);
}

/* Route (vector 1 to @e) and fire: 0 when the eventfd got it. */
static int route_fire(struct conf *c, upci_dev *d, const struct evfd *e, const char *what)
{
	CHECK_RC(c, upci_irq_set_eventfd(d, 1, e->wr), 0);
	if (td_fire(c, d, 1))
		goto out;
	CHECK(c, ev_expect(e, 1) == 1, "%s: the routed vector did not reach its eventfd", what);
	return 0;
out:
	return -1;
}

/* After @what ended the route, vector 1 reaches the bitmap, not @e. */
static int route_gone(struct conf *c, upci_dev *d, const struct evfd *e, const char *what)
{
	uint64_t want[UPCI_IRQ_WORDS] = {0};

	conf_bit_set(want, 1);
	if (td_fire(c, d, 1) || td_collect(c, d, want, what))
		goto out;
	CHECK(c, ev_expect(e, 0) == 0, "%s: the eventfd was still signalled", what);
	return 0;
out:
	return -1;
}

/* Routes end with disable, a replacing enable, release and close; a
 * reset keeps them. */
static void td_eventfd_lifetime(struct conf *c)
{
	struct evfd e = {-1, -1};
	struct td t = {0};
	int rc;

	if (td_open4(c, &t))
		goto out;
	EV_OPEN(c, e);
	if (route_fire(c, t.d, &e, "routed"))
		goto out;
	rc = upci_reset(t.d);
	if (rc != -ENOTSUP) {
		CHECK_RC(c, rc, 0);
		if (td_fire(c, t.d, 1))
			goto out;
		CHECK(c, ev_expect(&e, 1) == 1, "after upci_reset() the routed vector did not reach its eventfd");
	}
	CHECK_RC(c, upci_irq_disable(t.d), 0);
	CHECK(c, upci_irq_enable(t.d, UPCI_IRQ_MSIX, 0) == (int)t.nvec, "upci_irq_enable again failed");
	if (route_gone(c, t.d, &e, "after upci_irq_disable()") || route_fire(c, t.d, &e, "routed again"))
		goto out;
	CHECK(c, upci_irq_enable(t.d, UPCI_IRQ_MSIX, 0) == (int)t.nvec, "a replacing upci_irq_enable failed");
	if (route_gone(c, t.d, &e, "after a replacing upci_irq_enable()") || route_fire(c, t.d, &e, "routed again"))
		goto out;
	CHECK_RC(c, upci_release(t.d), 0);
	CHECK_RC(c, upci_claim(t.d), 0);
	CHECK(c, upci_irq_enable(t.d, UPCI_IRQ_MSIX, 0) == (int)t.nvec, "upci_irq_enable after release failed");
	if (route_gone(c, t.d, &e, "after upci_release()") || route_fire(c, t.d, &e, "routed again"))
		goto out;
	upci_close(t.d);
	t.d = NULL;
	if (td_open_irq(c, &t) || route_gone(c, t.d, &e, "after upci_close() and a new open"))
		goto out;
out:
	ev_close(&e);
	upci_close(t.d);
}

/* Several threads, each waiting on its own vector's eventfd (a driver
 * with a queue per thread), while the main thread takes the others. */
#define EV_THREADS 3
#define EV_ROUNDS 200

struct ev_waiter {
	struct evfd e;
	_Atomic uint64_t got;
	atomic_bool stop;
};

static void *ev_waiter_main(void *arg)
{
	struct ev_waiter *w = arg;

	while (!atomic_load(&w->stop) && atomic_load(&w->got) < EV_ROUNDS) {
		struct pollfd p = {.fd = w->e.rd, .events = POLLIN};

		if (poll(&p, 1, 20) == 1)
			atomic_fetch_add(&w->got, ev_take(&w->e));
	}
	return NULL;
}

static void td_eventfd_threads(struct conf *c)
{
	struct ev_waiter w[EV_THREADS];
	pthread_t th[EV_THREADS];
	uint64_t p[UPCI_IRQ_WORDS];
	struct td t = {0};
	unsigned started = 0, taken = 0;
	int n;

	for (unsigned i = 0; i < EV_THREADS; i++) {
		w[i].e.rd = w[i].e.wr = -1;
		atomic_init(&w[i].got, 0);
		atomic_init(&w[i].stop, false);
	}
	if (td_open4(c, &t))
		goto out;
	for (unsigned i = 0; i < EV_THREADS; i++) {
		EV_OPEN(c, w[i].e);
		CHECK_RC(c, upci_irq_set_eventfd(t.d, i + 1, w[i].e.wr), 0);
	}
	for (; started < EV_THREADS; started++)
		CHECK(c, pthread_create(&th[started], NULL, ev_waiter_main, &w[started]) == 0, "pthread_create failed");
	for (unsigned r = 0; r < EV_ROUNDS; r++) {
		for (unsigned i = 0; i <= EV_THREADS; i++)
			if (td_fire(c, t.d, (i + r) % (EV_THREADS + 1)))
				goto out;
		/* Vector 0 is the bitmap's: taken here, once per round. */
		n = upci_irq_wait(t.d, CONF_TIMEOUT_MS, p);
		CHECK(c, n == 1 && p[0] == 1, "round %u: upci_irq_wait: expected {0}, got %s (%s)", r, conf_bits(p),
		      conf_rc(n));
		taken++;
		/* The round is over when every thread has had its vector (a
		 * firing the device has not delivered yet could merge with the
		 * next one's, see eventfd_route). */
		for (unsigned i = 0; i < EV_THREADS; i++) {
			int64_t end = conf_now_ms() + CONF_TIMEOUT_MS;

			while (atomic_load(&w[i].got) < r + 1 && conf_now_ms() < end)
				sched_yield();
			CHECK(c, atomic_load(&w[i].got) >= r + 1, "round %u: thread %u never saw vector %u", r, i, i + 1);
		}
	}
	for (unsigned i = 0; i < started; i++) {
		int64_t end = conf_now_ms() + CONF_TIMEOUT_MS;

		while (atomic_load(&w[i].got) < EV_ROUNDS && conf_now_ms() < end)
			conf_sleep_ms(1);
		atomic_store(&w[i].stop, true);
		pthread_join(th[i], NULL);
		CHECK(c, atomic_load(&w[i].got) == EV_ROUNDS, "thread %u: vector %u's eventfd counted %llu of %u firings",
		      i, i + 1, (unsigned long long)atomic_load(&w[i].got), EV_ROUNDS);
	}
	started = 0;
	CHECK(c, upci_irq_wait(t.d, CONF_QUIET_MS, p) == -ETIMEDOUT, "more than the %u vectors 0 in the bitmap", taken);
out:
	for (unsigned i = 0; i < started; i++) {
		atomic_store(&w[i].stop, true);
		pthread_join(th[i], NULL);
	}
	for (unsigned i = 0; i < EV_THREADS; i++)
		ev_close(&w[i].e);
	upci_close(t.d);
}

/* ---- edu: one MSI vector; INTx refused ---- */

static void edu_eventfd(struct conf *c)
{
	struct evfd e = {-1, -1};
	uint64_t p[UPCI_IRQ_WORDS];
	enum upci_irq_type type;
	upci_dev *d = NULL;
	int n;

	if (edu_open(c, &d))
		goto out;
	EV_OPEN(c, e);
	n = upci_irq_enable(d, UPCI_IRQ_AUTO, 0);
	CHECK(c, n == 1, "upci_irq_enable(AUTO, 0): expected 1, got %s", conf_rc(n));
	CHECK_RC(c, upci_irq_info(d, &type, NULL), 0);
	if (type == UPCI_IRQ_INTX) {
		CHECK_RC(c, upci_irq_set_eventfd(d, 0, e.wr), -ENOTSUP);
		SKIP(c, "the device offers only INTx (refused: checked)");
	}
	CHECK_RC(c, upci_irq_set_eventfd(d, 0, e.wr), 0);
	for (int i = 0; i < 3; i++) {
		MMIO_WR(c, d, EDU_BAR, EDU_REG_IRQ_RAISE, 4, 1);
		EV_EXPECT(c, e, 1, "raise %d: vector 0 routed to an eventfd was not signalled once", i);
		MMIO_WR(c, d, EDU_BAR, EDU_REG_IRQ_ACK, 4, 1);
	}
	CHECK_RC(c, upci_irq_wait(d, CONF_QUIET_MS, p), -ETIMEDOUT);
	CHECK_RC(c, upci_irq_set_eventfd(d, 0, -1), 0);
	MMIO_WR(c, d, EDU_BAR, EDU_REG_IRQ_RAISE, 4, 1);
	n = upci_irq_wait(d, CONF_TIMEOUT_MS, p);
	CHECK(c, n == 1 && p[0] == 1, "vector 0 given back: upci_irq_wait expected {0}, got %s (%s)", conf_bits(p),
	      conf_rc(n));
	MMIO_WR(c, d, EDU_BAR, EDU_REG_IRQ_ACK, 4, 1);
	EV_EXPECT(c, e, 0, "vector 0 given back: the eventfd was still signalled");
	/* INTx: an eventfd reader cannot re-arm a level-triggered line. */
	if (upci_irq_count(d, UPCI_IRQ_INTX) > 0) {
		CHECK_RC(c, upci_irq_enable(d, UPCI_IRQ_INTX, 1), 1);
		CHECK_RC(c, upci_irq_set_eventfd(d, 0, e.wr), -ENOTSUP);
	}
out:
	ev_close(&e);
	upci_close(d);
}

const struct conf_case conf_eventfd_cases[] = {
	{"testdev.eventfd_route", CONF_NEED_TESTDEV, td_eventfd_route},
	{"testdev.eventfd_mask", CONF_NEED_TESTDEV, td_eventfd_mask},
	{"testdev.eventfd_errors", CONF_NEED_TESTDEV, td_eventfd_errors},
	{"testdev.eventfd_lifetime", CONF_NEED_TESTDEV, td_eventfd_lifetime},
	{"testdev.eventfd_threads", CONF_NEED_TESTDEV, td_eventfd_threads},
	{"edu.eventfd", CONF_NEED_EDU, edu_eventfd},
};
const size_t conf_eventfd_count = sizeof(conf_eventfd_cases) / sizeof(conf_eventfd_cases[0]);

/* SPDX-License-Identifier: MIT */
/*
 * IRQ pending bitmap + enable mask + notifier fd.
 *
 * The no-lost-wake-up argument rests on the order in irq_state_take():
 * drain the notifier FIRST, then clear the pending bits. A raise whose
 * fetch_or lands before our fetch_and is returned by this take; one that
 * lands after it also writes the notifier after our drain, so the fd is
 * left readable for the next wait. The worst case is a spurious wake-up.
 *
 * All atomics are sequentially consistent on purpose: set_mask (store mask,
 * load pending) and raise (set pending, load mask) then cannot both miss
 * each other's write, so an unmask racing a raise always signals.
 *
 * The event sources (per-vector fds of VFIO and the vfio-user client) are
 * read by take/peek/wait in any thread while the handle's owner attaches,
 * detaches and closes them: s->lock guards them, and is held around their
 * read()s, so a detached fd is out of use when the detach returns (a closed
 * number reused by another file must never be read). Mask changes take the
 * same lock, so two set_mask calls apply one after the other, whole.
 */
#include "irq.h"

#include "fd_signal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <sched.h>

#ifdef __linux__
#include <sys/epoll.h>
#include <sys/eventfd.h>
#endif

/* epoll data tag of the notifier; vector sources use their vector number. */
#define NOTIFIER_TAG 0xffffffffu

#define ALL_ONES UINT64_MAX

static int popcount64(uint64_t x)
{
	return __builtin_popcountll(x);
}

#ifndef __linux__
static int set_fd_flags(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	return 0;
}
#endif

int irq_state_init(struct irq_state *s)
{
	if (!s)
		return -EINVAL;
	for (unsigned w = 0; w < IRQ_WORDS; w++) {
		atomic_init(&s->pending[w], 0);
		atomic_init(&s->mask[w], ALL_ONES);
		atomic_init(&s->routed[w], 0);
	}
	s->rfd = -1;
	s->wfd = -1;
	atomic_init(&s->epfd, -1);
	atomic_init(&s->nsources, 0);
	atomic_init(&s->epoch, 0);
	atomic_init(&s->waiting[0], 0);
	atomic_init(&s->waiting[1], 0);
	atomic_init(&s->raisers, 0);
	atomic_init(&s->direct_used, false);
	atomic_init(&s->failed, 0);
	for (unsigned v = 0; v < IRQ_VECTORS; v++) {
		atomic_init(&s->direct[v], -1);
		s->source[v] = -1;
		s->rearm[v] = -1;
	}
	for (unsigned w = 0; w < IRQ_WORDS; w++) {
		atomic_init(&s->rearm_due[w], 0);
		s->src_armed[w] = 0;
	}
	pthread_mutex_init(&s->lock, NULL);
#ifdef __linux__
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	s->rfd = fd;
	s->wfd = fd;
#else
	/* No pipe2() on macOS; the fds are ours alone until init returns, so
	 * setting the flags afterwards only races a concurrent fork+exec. */
	int p[2], rc;

	if (pipe(p) < 0)
		return -errno;
	rc = set_fd_flags(p[0]);
	if (rc == 0)
		rc = set_fd_flags(p[1]);
	if (rc) {
		close(p[0]);
		close(p[1]);
		return rc;
	}
	s->rfd = p[0];
	s->wfd = p[1];
#endif
	return 0;
}

void irq_state_fini(struct irq_state *s)
{
	if (!s)
		return;
	if (atomic_load(&s->epfd) >= 0)
		close(atomic_load(&s->epfd));
	atomic_store(&s->epfd, -1);
	pthread_mutex_destroy(&s->lock);
	if (s->wfd >= 0 && s->wfd != s->rfd)
		close(s->wfd);
	if (s->rfd >= 0)
		close(s->rfd);
	s->rfd = -1;
	s->wfd = -1;
}

/* Make the fd readable. Non-blocking, so a full pipe or a saturated
 * eventfd counter gives EAGAIN, which is fine: the fd is readable anyway.
 * Preserves errno because raise may run in a signal handler. */
static void notify(const struct irq_state *s)
{
	int saved = errno;
	ssize_t n;

	if (s->wfd < 0)
		return;
#ifdef __linux__
	uint64_t one = 1;

	do
		n = write(s->wfd, &one, sizeof(one));
	while (n < 0 && errno == EINTR);
#else
	char c = 0;

	do
		n = write(s->wfd, &c, 1);
	while (n < 0 && errno == EINTR);
#endif
	errno = saved;
}

/*
 * Empty the notifier. An eventfd read returns and zeroes the whole counter,
 * so one successful read is enough: a second would only fail with EAGAIN
 * and costs a syscall on every take (measured: most of the gap to the raw
 * eventfd floor). A pipe is read until a short read. A raise after the
 * read leaves the fd readable again, which is the no-lost-wake-up rule.
 */
static void drain(const struct irq_state *s)
{
	int saved = errno;
	char buf[64];  /* >= 8: an eventfd read needs at least 8 bytes */
	ssize_t n;

	if (s->rfd < 0)
		return;
	for (;;) {
		n = read(s->rfd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
#ifdef __linux__
		break;
#else
		if (n != (ssize_t)sizeof(buf))
			break;
#endif
	}
	errno = saved;
}

/* Wait until no raise is between loading a direct fd and writing it. */
static void quiesce(struct irq_state *s)
{
	while (atomic_load(&s->raisers) != 0)
		sched_yield();
}

static void signal_fd(int fd)
{
	int saved = errno;
	ssize_t n;
#ifdef __linux__
	uint64_t one = 1;

	do
		n = write(fd, &one, sizeof(one));
	while (n < 0 && errno == EINTR);
#else
	char c = 0;

	do
		n = write(fd, &c, 1);
	while (n < 0 && errno == EINTR);
#endif
	errno = saved;
}

static void sync_sources(struct irq_state *s);

void irq_state_clear(struct irq_state *s)
{
	if (!s)
		return;
	for (unsigned v = 0; v < IRQ_VECTORS; v++)
		atomic_store(&s->direct[v], -1);
	quiesce(s);
	for (unsigned w = 0; w < IRQ_WORDS; w++)
		atomic_store(&s->routed[w], 0);
	pthread_mutex_lock(&s->lock);
	for (unsigned w = 0; w < IRQ_WORDS; w++) {
		uint64_t due;

		atomic_store(&s->pending[w], 0);
		atomic_store(&s->mask[w], ALL_ONES);
		/* Everything is enabled again: lines held for an unmask re-arm. */
		due = atomic_exchange(&s->rearm_due[w], 0);
		while (due) {
			unsigned v = w * 64u + (unsigned)__builtin_ctzll(due);

			due &= due - 1;
			if (s->rearm[v] >= 0)
				signal_fd(s->rearm[v]);
		}
	}
	sync_sources(s);
	pthread_mutex_unlock(&s->lock);
	drain(s);
	if (atomic_load(&s->failed))
		notify(s); /* a lost device keeps the fd readable */
}

/* Latch @vec: to its direct fd when it has one (if enabled; else pending,
 * replayed by set_mask), else into the pending bits, signalling the
 * notifier when @notify and the vector is enabled. */
static void latch(struct irq_state *s, unsigned vec, bool notify_fd)
{
	const unsigned w = vec / 64u;
	const uint64_t bit = UINT64_C(1) << (vec % 64u);
	int fd;

	/* Handles that never had a direct fd skip the in-flight count: two
	 * atomic read-modify-writes off every raise. Safe because the fd is
	 * only loaded after the count went up. */
	if (!atomic_load(&s->direct_used)) {
		/* Already pending: the fd was made readable by the raise that set
		 * the bit, or a take has drained it and will return this bit. */
		if (!(atomic_fetch_or(&s->pending[w], bit) & bit) && notify_fd && (atomic_load(&s->mask[w]) & bit))
			notify(s);
		return;
	}
	atomic_fetch_add(&s->raisers, 1);
	fd = atomic_load(&s->direct[vec]);
	if (fd >= 0) {
		/* Direct: enabled vectors go straight to their eventfd;
		 * masked ones latch and are replayed by set_mask. The fd
		 * is a client's: the write must not sleep (fd_signal.h). */
		if (atomic_load(&s->mask[w]) & bit)
			fd_signal(fd);
		else
			atomic_fetch_or(&s->pending[w], bit);
	} else {
		atomic_fetch_or(&s->pending[w], bit);
		if (notify_fd && (atomic_load(&s->mask[w]) & bit))
			notify(s);
	}
	atomic_fetch_sub(&s->raisers, 1);
}

void irq_state_raise(struct irq_state *s, unsigned vec)
{
	if (!s || vec >= IRQ_VECTORS)
		return;
	latch(s, vec, true);
}

void irq_state_set_mask(struct irq_state *s, const uint64_t mask[IRQ_WORDS])
{
	uint64_t hit = 0;

	if (!s || !mask)
		return;
	pthread_mutex_lock(&s->lock);
	for (unsigned w = 0; w < IRQ_WORDS; w++)
		atomic_store(&s->mask[w], mask[w]);
	atomic_fetch_add(&s->raisers, 1);
	for (unsigned w = 0; w < IRQ_WORDS; w++) {
		uint64_t ready = atomic_load(&s->pending[w]) & mask[w];

		/* Latched vectors with a direct fd are replayed to that fd. */
		while (ready) {
			unsigned b = (unsigned)__builtin_ctzll(ready);
			uint64_t bit = UINT64_C(1) << b;
			int fd = atomic_load(&s->direct[w * 64u + b]);

			ready &= ~bit;
			if (fd < 0) {
				hit |= bit;
				continue;
			}
			if (atomic_fetch_and(&s->pending[w], ~bit) & bit)
				fd_signal(fd);
		}
	}
	atomic_fetch_sub(&s->raisers, 1);
	for (unsigned w = 0; w < IRQ_WORDS; w++) {
		uint64_t due = atomic_fetch_and(&s->rearm_due[w], ~mask[w]) & mask[w];

		while (due) {
			unsigned v = w * 64u + (unsigned)__builtin_ctzll(due);

			due &= due - 1;
			if (s->rearm[v] >= 0)
				signal_fd(s->rearm[v]);
		}
	}
	sync_sources(s);
	pthread_mutex_unlock(&s->lock);
	if (hit)
		notify(s);
}

int irq_state_set_direct(struct irq_state *s, unsigned vec, int fd)
{
	const unsigned w = vec / 64u;
	uint64_t bit;

	if (!s || vec >= IRQ_VECTORS || fd < -1)
		return -EINVAL;
	bit = UINT64_C(1) << (vec % 64u);
	if (fd >= 0) {
		atomic_store(&s->direct_used, true);
		/* Out of take's reach before the fd is published: a take in
		 * between leaves the bit for the move below. */
		atomic_fetch_or(&s->routed[w], bit);
	}
	atomic_store(&s->direct[vec], fd);
	quiesce(s);
	if (fd >= 0) {
		/* Latched before the route and enabled: it belongs to @fd now.
		 * The mask lock orders this with a concurrent set_mask. */
		pthread_mutex_lock(&s->lock);
		if ((atomic_load(&s->mask[w]) & bit) && (atomic_fetch_and(&s->pending[w], ~bit) & bit))
			fd_signal(fd); /* may be a client's: never blocks (fd_signal.h) */
		pthread_mutex_unlock(&s->lock);
		return 0;
	}
	atomic_fetch_and(&s->routed[w], ~bit);
	/* What stayed latched is the bitmap's now. */
	if ((atomic_load(&s->pending[w]) & atomic_load(&s->mask[w]) & bit))
		notify(s);
	return 0;
}

int irq_state_pollfd(const struct irq_state *s)
{
	int ep;

	if (!s)
		return -EINVAL;
	ep = atomic_load(&s->epfd);
	return ep >= 0 ? ep : s->rfd;
}

#ifdef __linux__
static int enable_sources_locked(struct irq_state *s)
{
	struct epoll_event ev = {.events = EPOLLIN};
	int ep;

	if (atomic_load(&s->epfd) >= 0)
		return 0;
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return -errno;
	ev.data.u32 = NOTIFIER_TAG;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, s->rfd, &ev) < 0) {
		int e = -errno;

		close(ep);
		return e;
	}
	atomic_store(&s->epfd, ep);
	return 0;
}

int irq_state_enable_sources(struct irq_state *s)
{
	int ret;

	if (!s || s->rfd < 0)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	ret = enable_sources_locked(s);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

/* Keep exactly the enabled vectors' sources in the epoll set. Lock held. */
static void sync_sources(struct irq_state *s)
{
	int ep = atomic_load(&s->epfd);

	if (ep < 0 || atomic_load(&s->nsources) == 0)
		return;
	for (unsigned v = 0; v < IRQ_VECTORS; v++) {
		unsigned w = v / 64u;
		uint64_t bit = UINT64_C(1) << (v % 64u);
		int want = (atomic_load(&s->mask[w]) & bit) != 0;
		struct epoll_event ev = {.events = want ? EPOLLIN : 0, .data.u32 = v};

		if (s->source[v] < 0 || want == ((s->src_armed[w] & bit) != 0))
			continue;
		if (epoll_ctl(ep, EPOLL_CTL_MOD, s->source[v], &ev) == 0)
			s->src_armed[w] ^= bit;
	}
}

int irq_state_attach_source(struct irq_state *s, unsigned vec, int fd)
{
	return irq_state_attach_source_rearm(s, vec, fd, -1);
}

static int attach_locked(struct irq_state *s, unsigned vec, int fd, int rearm_fd)
{
	const unsigned w = vec / 64u;
	const uint64_t bit = UINT64_C(1) << (vec % 64u);
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = vec};
	int ret, ep;

	ret = enable_sources_locked(s);
	if (ret)
		return ret;
	ep = atomic_load(&s->epfd);
	if (s->source[vec] >= 0) {
		/* The old fd may already be closed by its owner: ignore EBADF. */
		epoll_ctl(ep, EPOLL_CTL_DEL, s->source[vec], NULL);
		s->source[vec] = -1;
		atomic_fetch_sub(&s->nsources, 1);
	}
	s->rearm[vec] = -1;
	s->src_armed[w] &= ~bit;
	atomic_fetch_and(&s->rearm_due[w], ~bit);
	if (fd < 0)
		return 0;
	if (!(atomic_load(&s->mask[w]) & bit))
		ev.events = 0; /* masked: out of the interest set until enabled */
	/* Counted before it can fire, so a take woken by it looks. */
	atomic_fetch_add(&s->nsources, 1);
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		ret = -errno;
		atomic_fetch_sub(&s->nsources, 1);
		return ret;
	}
	if (ev.events)
		s->src_armed[w] |= bit;
	s->rearm[vec] = rearm_fd;
	s->source[vec] = fd;
	return 0;
}

int irq_state_attach_source_rearm(struct irq_state *s, unsigned vec, int fd, int rearm_fd)
{
	int ret;

	if (!s || s->rfd < 0 || vec >= IRQ_VECTORS || fd < -1 || rearm_fd < -1)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	ret = attach_locked(s, vec, fd, rearm_fd);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

/* Read source @v once; latch it when it had fired. Lock held. */
static void latch_source(struct irq_state *s, unsigned v)
{
	uint64_t bit = UINT64_C(1) << (v % 64u), cnt;

	if (s->source[v] < 0 || read(s->source[v], &cnt, sizeof(cnt)) != (ssize_t)sizeof(cnt))
		return; /* not fired, or another taker got it first */
	/* No notify: take drains right after, peek only looks. A vector
	 * routed to an eventfd goes there. */
	latch(s, v, false);
	if (s->rearm[v] < 0)
		return;
	/* Re-arm now if enabled; a masked one when unmasked (no spin on a
	 * level that stays up). */
	if (atomic_load(&s->mask[v / 64u]) & bit)
		signal_fd(s->rearm[v]);
	else
		atomic_fetch_or(&s->rearm_due[v / 64u], bit);
}

void irq_state_latch_fd(struct irq_state *s, unsigned vec, int fd)
{
	uint64_t cnt;

	if (s && vec < IRQ_VECTORS && fd >= 0 && read(fd, &cnt, sizeof(cnt)) == (ssize_t)sizeof(cnt))
		latch(s, vec, true);
}

/* Masked sources are not in the epoll set: read them directly (peek). */
static void collect_masked(struct irq_state *s)
{
	if (atomic_load(&s->nsources) == 0)
		return; /* no lock for handles without sources (sim, dext) */
	pthread_mutex_lock(&s->lock);
	for (unsigned v = 0; v < IRQ_VECTORS; v++)
		if (s->source[v] >= 0 && !(atomic_load(&s->mask[v / 64u]) & (UINT64_C(1) << (v % 64u))))
			latch_source(s, v);
	pthread_mutex_unlock(&s->lock);
}

/* Latch every enabled vector whose source is readable; never blocks. An
 * event may name a vector whose source was replaced since: latch_source
 * reads whatever is attached now, which is harmless. */
static void collect(struct irq_state *s)
{
	struct epoll_event evs[64];
	int n, ep;

	if (atomic_load(&s->nsources) == 0)
		return;
	pthread_mutex_lock(&s->lock);
	ep = atomic_load(&s->epfd);
	do {
		n = ep >= 0 ? epoll_wait(ep, evs, 64, 0) : 0;
		for (int i = 0; i < n; i++) {
			uint32_t v = evs[i].data.u32;

			if (v >= IRQ_VECTORS)
				continue; /* the notifier: drained by take */
			latch_source(s, v);
		}
	} while (n == 64);
	pthread_mutex_unlock(&s->lock);
}
#else
int irq_state_enable_sources(struct irq_state *s)
{
	(void)s;
	return -ENOTSUP;
}

int irq_state_attach_source(struct irq_state *s, unsigned vec, int fd)
{
	(void)s;
	(void)vec;
	(void)fd;
	return -ENOTSUP;
}

int irq_state_attach_source_rearm(struct irq_state *s, unsigned vec, int fd, int rearm_fd)
{
	(void)rearm_fd;
	return irq_state_attach_source(s, vec, fd);
}

static void collect(struct irq_state *s)
{
	(void)s;
}

void irq_state_latch_fd(struct irq_state *s, unsigned vec, int fd)
{
	(void)s;
	(void)vec;
	(void)fd;
}

static void collect_masked(struct irq_state *s)
{
	(void)s;
}

static void sync_sources(struct irq_state *s)
{
	(void)s;
}
#endif

void irq_state_get_mask(struct irq_state *s, uint64_t mask[IRQ_WORDS])
{
	if (!s || !mask)
		return;
	/* Under the lock: a mask set concurrently is seen whole or not at all. */
	pthread_mutex_lock(&s->lock);
	for (unsigned w = 0; w < IRQ_WORDS; w++)
		mask[w] = atomic_load(&s->mask[w]);
	pthread_mutex_unlock(&s->lock);
}

int irq_state_take(struct irq_state *s, uint64_t out[IRQ_WORDS])
{
	int count = 0;

	if (!s || !out)
		return -EINVAL;
	collect(s);
	drain(s);  /* must precede the clears: see the top of this file */
	for (unsigned w = 0; w < IRQ_WORDS; w++) {
		uint64_t m = atomic_load(&s->mask[w]) & ~atomic_load(&s->routed[w]);
		uint64_t old = atomic_fetch_and(&s->pending[w], ~m);

		out[w] = old & m;
		count += popcount64(out[w]);
	}
	if (atomic_load(&s->failed)) {
		notify(s); /* readable for good, like a socket at EOF */
		if (count == 0)
			return atomic_load(&s->failed);
	}
	return count;
}

void irq_state_fail(struct irq_state *s, int err)
{
	int none = 0;

	if (!s || err >= 0)
		return;
	atomic_compare_exchange_strong(&s->failed, &none, err);
	notify(s);
}

int irq_state_peek(struct irq_state *s, uint64_t out[IRQ_WORDS])
{
	int count = 0;

	if (!s || !out)
		return -EINVAL;
	collect(s);
	collect_masked(s);
	for (unsigned w = 0; w < IRQ_WORDS; w++) {
		out[w] = atomic_load(&s->pending[w]);
		count += popcount64(out[w]);
	}
	return count;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail with a valid pointer; fall back to 0
	 * rather than leave ts undefined. */
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Milliseconds left until deadline, rounded up so poll never returns early. */
static int remaining_ms(int64_t deadline)
{
	int64_t left = deadline - now_ns();

	if (left <= 0)
		return 0;
	left = (left + 999999) / 1000000;
	return left > INT_MAX ? INT_MAX : (int)left;
}

static int wait_in(struct irq_state *s, int timeout_ms, uint64_t out[IRQ_WORDS], unsigned epoch)
{
	int64_t deadline = 0;
	struct pollfd pfd;
	int n, r;

	if (timeout_ms >= 0)
		deadline = now_ns() + (int64_t)timeout_ms * 1000000;
	for (;;) {
		/* Before the take: a cancelled wait must not take what a new
		 * set-up raised after the cancel. */
		if (atomic_load(&s->epoch) != epoch)
			return -ECANCELED;
		n = irq_state_take(s, out);
		if (n != 0)
			return n;
		pfd.fd = irq_state_pollfd(s);
		pfd.events = POLLIN;
		pfd.revents = 0;
		r = poll(&pfd, 1, timeout_ms < 0 ? -1 : remaining_ms(deadline));
		if (r < 0)
			return errno == EINTR ? -EINTR : -errno;
		if (r == 0) {
			if (atomic_load(&s->epoch) != epoch)
				return -ECANCELED;
			/* One last look so a raise racing the deadline is not
			 * reported as a timeout. */
			n = irq_state_take(s, out);
			return n != 0 ? n : -ETIMEDOUT;
		}
		if (pfd.revents & POLLNVAL)
			return -EBADF;
		/* POLLHUP/POLLERR without data would spin: the notifier is broken. */
		if (!(pfd.revents & POLLIN))
			return -EIO;
		/* Readable: loop to take; a spurious wake-up just polls again
		 * with the time that is left. */
	}
}

int irq_state_wait(struct irq_state *s, int timeout_ms, uint64_t out[IRQ_WORDS])
{
	unsigned e;
	int ret;

	if (!s || !out || s->rfd < 0)
		return -EINVAL;
	/* Count ourselves under the epoch we will compare against: a cancel
	 * that moved it on between the load and the count is seen by the
	 * re-check, and we count again under the new one. */
	for (;;) {
		e = atomic_load(&s->epoch);
		atomic_fetch_add(&s->waiting[e & 1u], 1);
		if (atomic_load(&s->epoch) == e)
			break;
		atomic_fetch_sub(&s->waiting[e & 1u], 1);
	}
	ret = wait_in(s, timeout_ms, out, e);
	atomic_fetch_sub(&s->waiting[e & 1u], 1);
	return ret;
}

/*
 * Waiters sleep in poll() on the notifier: writing it wakes them, and each
 * sees the new epoch and leaves. A waiter about to poll whose wake-up a
 * concurrent take drained is caught by writing again until the count of
 * the old epoch is zero. Waits of the new epoch count in the other slot;
 * callers are serialized, so that slot is not the next cancel's until this
 * one has returned.
 */
void irq_state_cancel_waits(struct irq_state *s)
{
	unsigned e;

	if (!s)
		return;
	e = atomic_fetch_add(&s->epoch, 1);
	while (atomic_load(&s->waiting[e & 1u]) != 0) {
		notify(s);
		/* A woken waiter leaves within a time slice; then rewrite. */
		for (int i = 0; i < 100 && atomic_load(&s->waiting[e & 1u]) != 0; i++)
			sched_yield();
		if (atomic_load(&s->waiting[e & 1u]) != 0)
			poll(NULL, 0, 1);
	}
}

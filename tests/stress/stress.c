/* SPDX-License-Identifier: MIT */
/*
 * upci-stress [--seconds N] URI (default: $UPCI_STRESS_SECONDS, else 2): every call of upci.h from several threads
 * at once on one handle, as the header allows ("safe to call any function
 * from several threads at once"): waiters, takers and an fd poller against
 * mask changes, enable/disable, vectors routed to eventfds and back,
 * doorbells, config/MMIO, BAR maps, DMA buffers, and a second handle that
 * opens, fails to claim and closes.
 *
 * Built for ThreadSanitizer by scripts/test.sh (any report fails the run);
 * in the normal build it is a short test of the same rules. Only the public
 * API is used; register offsets come from the model headers (device facts).
 *
 * Exit: 0 when every call returned what the header allows and the device
 * still delivers an interrupt afterwards, 1 otherwise, 2 for usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif

#include "edu_regs.h"
#include "testdev_regs.h"
#include "upci/upci.h"

enum kind { KIND_OTHER, KIND_EDU, KIND_TESTDEV };

struct stress {
	const char *uri;
	upci_dev *d;
	enum kind kind;
	unsigned maxvec;        /* vectors of the AUTO type */
	uint64_t page;
	_Atomic int stop;
	_Atomic int failed;
	_Atomic unsigned long fired, taken, waited, canceled, enables, maps, bufs, probes, routes;
	pthread_mutex_t msg_lock;
	char msg[512];
};

static void fail(struct stress *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct stress *s, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&s->msg_lock);
	if (!atomic_load(&s->failed)) {
		va_start(ap, fmt);
		vsnprintf(s->msg, sizeof(s->msg), fmt, ap);
		va_end(ap);
	}
	atomic_store(&s->failed, 1);
	atomic_store(&s->stop, 1);
	pthread_mutex_unlock(&s->msg_lock);
}

static int stopping(struct stress *s)
{
	return atomic_load(&s->stop);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void nap_us(long us)
{
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000};

	nanosleep(&ts, NULL);
}

/* A small per-thread generator: rand() is not thread-safe. */
static uint32_t next_rand(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/* ---- the threads ---- */

static void *waiter(void *arg)
{
	struct stress *s = arg;
	uint64_t pend[UPCI_IRQ_WORDS];

	while (!stopping(s)) {
		int rc = upci_irq_wait(s->d, 20, pend);

		if (rc >= 1)
			atomic_fetch_add(&s->taken, (unsigned long)rc);
		else if (rc == -ECANCELED)
			atomic_fetch_add(&s->canceled, 1);
		else if (rc != -ETIMEDOUT)
			fail(s, "upci_irq_wait: %d (%s)", rc, upci_strerror(rc));
		atomic_fetch_add(&s->waited, 1);
	}
	return NULL;
}

/* An event loop: poll the fd, then take; peek now and then. */
static void *taker(void *arg)
{
	struct stress *s = arg;
	uint64_t pend[UPCI_IRQ_WORDS];
	int fd = upci_irq_fd(s->d);
	unsigned i = 0;

	if (fd < 0) {
		fail(s, "upci_irq_fd: %d", fd);
		return NULL;
	}
	while (!stopping(s)) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int rc;

		if (poll(&p, 1, 5) < 0 && errno != EINTR) {
			fail(s, "poll(upci_irq_fd): %s", strerror(errno));
			break;
		}
		rc = (++i & 7) ? upci_irq_take_pending(s->d, pend) : upci_irq_peek_pending(s->d, pend);
		if (rc < 0)
			fail(s, "upci_irq_%s_pending: %d", (i & 7) ? "take" : "peek", rc);
		else if (i & 7)
			atomic_fetch_add(&s->taken, (unsigned long)rc);
	}
	return NULL;
}

static void *masker(void *arg)
{
	struct stress *s = arg;
	uint64_t m[UPCI_IRQ_WORDS], got[UPCI_IRQ_WORDS];
	uint32_t x = 0x9e3779b9u;

	while (!stopping(s)) {
		uint32_t r = next_rand(&x);

		for (unsigned w = 0; w < UPCI_IRQ_WORDS; w++)
			m[w] = (r & 3) ? UINT64_MAX : ((uint64_t)next_rand(&x) << 32 | next_rand(&x));
		if (upci_irq_set_mask(s->d, m) || upci_irq_get_mask(s->d, got)) {
			fail(s, "upci_irq_set_mask/get_mask failed");
			break;
		}
		nap_us(200);
	}
	return NULL;
}

/* Enable with a random count, sometimes disable: the set-up changes under
 * the waiters, takers and the fd poller. */
static void *enabler(void *arg)
{
	struct stress *s = arg;
	uint32_t x = 12345;

	while (!stopping(s)) {
		uint32_t r = next_rand(&x);

		if (r % 5 == 0) {
			int rc = upci_irq_disable(s->d);

			if (rc)
				fail(s, "upci_irq_disable: %d", rc);
		} else {
			unsigned n = 1 + r % s->maxvec;
			int rc = upci_irq_enable(s->d, UPCI_IRQ_AUTO, n);

			if (rc != (int)n)
				fail(s, "upci_irq_enable(AUTO, %u): %d (%s)", n, rc, upci_strerror(rc));
			atomic_fetch_add(&s->enables, 1);
		}
		nap_us(2000 + (long)(r % 3000));
	}
	return NULL;
}

/* Route a random vector to one of two eventfds or back, and drain them:
 * -EINVAL is allowed (the enabler may have just enabled fewer vectors, or
 * none), as is -ENOTSUP (INTx). */
static void *router(void *arg)
{
	struct stress *s = arg;
#ifdef __linux__
	int ev[2] = {eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)};
	uint32_t x = 31337;

	if (ev[0] < 0 || ev[1] < 0)
		fail(s, "eventfd: %s", strerror(errno));
	while (!stopping(s)) {
		uint32_t r = next_rand(&x);
		uint64_t cnt;
		int rc = upci_irq_set_eventfd(s->d, r % s->maxvec, (r >> 8) % 4 ? ev[r & 1] : -1);

		if (rc && rc != -EINVAL && rc != -ENOTSUP)
			fail(s, "upci_irq_set_eventfd: %d (%s)", rc, upci_strerror(rc));
		for (int i = 0; i < 2; i++)
			(void)!read(ev[i], &cnt, sizeof(cnt));
		atomic_fetch_add(&s->routes, 1);
		nap_us(300);
	}
	for (int i = 0; i < 2; i++)
		if (ev[i] >= 0)
			close(ev[i]);
#else
	(void)s; /* eventfds: Linux */
#endif
	return NULL;
}

/* Make the device interrupt. */
static int fire(struct stress *s, unsigned vec)
{
	int rc;

	switch (s->kind) {
	case KIND_TESTDEV:
		return upci_mmio_write(s->d, TESTDEV_BAR_REGS, TESTDEV_REG_DOORBELL, 4, vec);
	case KIND_EDU:
		rc = upci_mmio_write(s->d, EDU_BAR, EDU_REG_IRQ_ACK, 4, EDU_IRQ_FACT);
		return rc ? rc : upci_mmio_write(s->d, EDU_BAR, EDU_REG_IRQ_RAISE, 4, EDU_IRQ_FACT);
	default:
		return 0;
	}
}

static void *doorbell(void *arg)
{
	struct stress *s = arg;
	uint32_t x = 777;

	while (!stopping(s)) {
		int rc = fire(s, next_rand(&x) % s->maxvec);

		if (rc)
			fail(s, "doorbell write: %d (%s)", rc, upci_strerror(rc));
		atomic_fetch_add(&s->fired, 1);
		nap_us(50);
	}
	return NULL;
}

/* The rest of the API: config, MMIO, BAR maps (twice: counted), buffers. */
static void *driver(void *arg)
{
	struct stress *s = arg;
	struct upci_bar_info bi[UPCI_NUM_BARS];
	uint32_t x = 4242;

	for (unsigned b = 0; b < UPCI_NUM_BARS; b++)
		if (upci_bar_info(s->d, b, &bi[b]))
			fail(s, "upci_bar_info(%u) failed", b);
	while (!stopping(s)) {
		struct upci_dma_buf buf;
		uint32_t v, r = next_rand(&x);
		uint64_t len, mv;
		void *a1, *a2;
		int rc;

		rc = upci_config_read(s->d, 0, 4, &v);
		if (rc)
			fail(s, "upci_config_read: %d", rc);
		rc = upci_mmio_read(s->d, 0, 0, 4, &mv);
		if (rc && bi[0].flags & UPCI_BAR_PRESENT)
			fail(s, "upci_mmio_read(BAR0, 0): %d", rc);
		for (unsigned b = 0; b < UPCI_NUM_BARS; b++) {
			if (!(bi[b].flags & UPCI_BAR_MAPPABLE))
				continue;
			if (upci_bar_map(s->d, b, &a1, &len) || upci_bar_map(s->d, b, &a2, &len)) {
				fail(s, "upci_bar_map(%u) failed", b);
				break;
			}
			/* The first user's pointer survives the second's unmap. */
			(void)*(volatile uint8_t *)a1;
			if (upci_bar_unmap(s->d, b) == 0)
				(void)*(volatile uint8_t *)a1;
			if (upci_bar_unmap(s->d, b))
				fail(s, "upci_bar_unmap(%u) failed", b);
			atomic_fetch_add(&s->maps, 1);
		}
		rc = upci_dma_alloc(s->d, UPCI_IOVA_ANY, s->page * (1 + r % 4), &buf);
		if (rc) {
			fail(s, "upci_dma_alloc: %d (%s)", rc, upci_strerror(rc));
		} else {
			memset(buf.vaddr, (int)r, (size_t)buf.size);
			rc = upci_dma_free(s->d, &buf);
			if (rc)
				fail(s, "upci_dma_free: %d", rc);
			atomic_fetch_add(&s->bufs, 1);
		}
	}
	return NULL;
}

/* Another handle on the same device: it must never get the claim. */
static void *prober(void *arg)
{
	struct stress *s = arg;

	while (!stopping(s)) {
		struct upci_identity id;
		upci_dev *o = NULL;
		int rc = upci_open(&o, s->uri);

		if (rc == -EBUSY) { /* a server that serves one client at a time */
			nap_us(20000);
			continue;
		}
		if (rc) {
			fail(s, "second upci_open: %d (%s)", rc, upci_strerror(rc));
			break;
		}
		if (upci_identity(o, &id))
			fail(s, "second handle: upci_identity failed");
		rc = upci_claim(o);
		if (rc != -EBUSY)
			fail(s, "second handle's upci_claim: %d, expected -EBUSY", rc);
		upci_close(o);
		atomic_fetch_add(&s->probes, 1);
		nap_us(5000);
	}
	return NULL;
}

/* ---- after the storm: the handle still works ---- */

static int still_delivers(struct stress *s)
{
	static const uint64_t all[UPCI_IRQ_WORDS] = {UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX};
	uint64_t pend[UPCI_IRQ_WORDS];
	uint64_t deadline = now_ms() + 5000;
	int rc;

	rc = upci_irq_enable(s->d, UPCI_IRQ_AUTO, 1);
	if (rc != 1) {
		fail(s, "final upci_irq_enable(AUTO, 1): %d", rc);
		return -1;
	}
	upci_irq_set_mask(s->d, all);
	upci_irq_take_pending(s->d, pend);
	if (fire(s, 0)) {
		fail(s, "final doorbell failed");
		return -1;
	}
	while (now_ms() < deadline) {
		rc = upci_irq_wait(s->d, 100, pend);
		if (rc >= 1 && (pend[0] & 1))
			return 0;
		if (rc < 0 && rc != -ETIMEDOUT) {
			fail(s, "final upci_irq_wait: %d", rc);
			return -1;
		}
	}
	fail(s, "vector 0 fired after the stress run never arrived");
	return -1;
}

int main(int argc, char **argv)
{
	static struct stress s;
	void *(*const fns[])(void *) = {waiter, waiter, taker, masker, enabler, doorbell, driver, prober, router};
	pthread_t th[sizeof(fns) / sizeof(fns[0])];
	struct upci_identity id;
	unsigned started = 0;
	const char *env = getenv("UPCI_STRESS_SECONDS");
	double secs = env ? atof(env) : 2;
	long ps;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			secs = atof(argv[++i]);
		else if (argv[i][0] != '-' && !s.uri)
			s.uri = argv[i];
		else {
			fprintf(stderr, "usage: upci-stress [--seconds N] URI\n");
			return 2;
		}
	}
	if (!s.uri || secs <= 0) {
		fprintf(stderr, "usage: upci-stress [--seconds N] URI\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	pthread_mutex_init(&s.msg_lock, NULL);
	ps = sysconf(_SC_PAGESIZE);
	s.page = ps > 0 ? (uint64_t)ps : 4096;
	rc = upci_open(&s.d, s.uri);
	if (rc == 0)
		rc = upci_claim(s.d);
	if (rc == 0)
		rc = upci_identity(s.d, &id);
	if (rc) {
		fprintf(stderr, "upci-stress: %s: open and claim: %s\n", s.uri, upci_strerror(rc));
		upci_close(s.d);
		return 1;
	}
	if (id.vendor_id == EDU_VENDOR_ID && id.device_id == EDU_DEVICE_ID)
		s.kind = KIND_EDU;
	else if (id.vendor_id == TESTDEV_VENDOR_ID && id.device_id == TESTDEV_DEVICE_ID)
		s.kind = KIND_TESTDEV;
	rc = upci_irq_enable(s.d, UPCI_IRQ_AUTO, 0);
	if (rc < 1 || s.kind == KIND_OTHER) {
		fprintf(stderr, "upci-stress: %s: needs an edu or a testdev with interrupts (enable: %s)\n", s.uri,
			upci_strerror(rc));
		upci_close(s.d);
		return 1;
	}
	s.maxvec = (unsigned)rc;
	for (; started < sizeof(fns) / sizeof(fns[0]); started++)
		if (pthread_create(&th[started], NULL, fns[started], &s) != 0) {
			fail(&s, "pthread_create failed");
			break;
		}
	for (uint64_t end = now_ms() + (uint64_t)(secs * 1000); now_ms() < end && !stopping(&s);)
		nap_us(10000);
	atomic_store(&s.stop, 1);
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	if (!atomic_load(&s.failed))
		still_delivers(&s);
	upci_close(s.d);
	printf("%s: %lu doorbells, %lu vectors taken, %lu waits (%lu canceled), %lu enables, %lu BAR map pairs, "
	       "%lu buffers, %lu second handles, %lu routes\n",
	       s.uri, atomic_load(&s.fired), atomic_load(&s.taken), atomic_load(&s.waited), atomic_load(&s.canceled),
	       atomic_load(&s.enables), atomic_load(&s.maps), atomic_load(&s.bufs), atomic_load(&s.probes),
	       atomic_load(&s.routes));
	if (atomic_load(&s.failed)) {
		printf("FAIL: %s\n", s.msg);
		return 1;
	}
	printf("ok\n");
	return 0;
}

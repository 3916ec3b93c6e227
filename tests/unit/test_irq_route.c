/* SPDX-License-Identifier: MIT */
/*
 * upci_irq_set_eventfd() on the sim (sim:testdev): what the conformance
 * cases cannot see from outside. The library's duplicate of the caller's
 * fd exists exactly while the route does (counted in /proc/self/fd), and
 * routing, masking and firing from several threads at once neither
 * deadlocks nor loses the duplicate. Expected behaviour: upci.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_vfu_srv_util.h" /* count_fds */
#include "testdev_regs.h"
#include "upci/upci.h"

#define TD "sim:testdev?vectors=16"

static upci_dev *open_irq(void)
{
	upci_dev *d = NULL;

	assert_int_equal(upci_open(&d, TD), 0);
	assert_int_equal(upci_claim(d), 0);
	assert_int_equal(upci_irq_enable(d, UPCI_IRQ_MSIX, 0), 16);
	return d;
}

static void fire(upci_dev *d, unsigned vec)
{
	assert_int_equal(upci_mmio_write(d, TESTDEV_BAR_REGS, TESTDEV_REG_DOORBELL, 4, vec), 0);
}

/* One duplicate per routed vector, closed when the route ends. */
static void test_dup_lifetime(void **state)
{
	int ev = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), ev2 = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	upci_dev *d = open_irq();
	int base = count_fds();

	(void)state;
	assert_true(ev >= 0 && ev2 >= 0);
	assert_int_equal(upci_irq_set_eventfd(d, 1, ev), 0);
	assert_int_equal(count_fds(), base + 1);
	assert_int_equal(upci_irq_set_eventfd(d, 2, ev), 0);
	assert_int_equal(count_fds(), base + 2);
	assert_int_equal(upci_irq_set_eventfd(d, 1, ev2), 0); /* replaced: the old one closed */
	assert_int_equal(count_fds(), base + 2);
	assert_int_equal(upci_irq_set_eventfd(d, 1, -1), 0);
	assert_int_equal(count_fds(), base + 1);
	/* A refused route leaves nothing behind. */
	assert_int_equal(upci_irq_set_eventfd(d, 16, ev), -EINVAL);
	assert_int_equal(count_fds(), base + 1);
	/* reset keeps it */
	assert_int_equal(upci_reset(d), 0);
	assert_int_equal(count_fds(), base + 1);
	assert_int_equal(upci_irq_disable(d), 0);
	assert_int_equal(count_fds(), base);
	assert_int_equal(upci_irq_enable(d, UPCI_IRQ_MSIX, 0), 16);
	assert_int_equal(upci_irq_set_eventfd(d, 3, ev), 0);
	assert_int_equal(upci_irq_enable(d, UPCI_IRQ_MSIX, 4), 4);
	assert_int_equal(count_fds(), base);
	assert_int_equal(upci_irq_set_eventfd(d, 3, ev), 0);
	assert_int_equal(upci_release(d), 0);
	assert_int_equal(count_fds(), base);
	assert_int_equal(upci_claim(d), 0);
	assert_int_equal(upci_irq_enable(d, UPCI_IRQ_MSIX, 0), 16);
	assert_int_equal(upci_irq_set_eventfd(d, 3, ev), 0);
	assert_int_equal(upci_irq_set_eventfd(d, 4, ev2), 0);
	upci_close(d);
	/* the handle's own fds are gone too: fewer than at base */
	assert_true(count_fds() < base);
	close(ev);
	close(ev2);
}

struct race {
	upci_dev *d;
	int ev[4];
	atomic_bool stop;
};

static void *masker(void *arg)
{
	struct race *r = arg;
	unsigned i = 0;

	while (!atomic_load(&r->stop)) {
		uint64_t mask[UPCI_IRQ_WORDS] = {UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX};

		mask[0] &= ~(UINT64_C(1) << (i++ % 6));
		if (upci_irq_set_mask(r->d, mask) != 0)
			break;
	}
	return NULL;
}

static void *router(void *arg)
{
	struct race *r = arg;
	unsigned i = 0;

	while (!atomic_load(&r->stop)) {
		unsigned v = 1 + i % 4;
		int rc = upci_irq_set_eventfd(r->d, v, i % 3 ? r->ev[i % 4] : -1);

		i++;
		if (rc != 0)
			break;
	}
	return NULL;
}

static void *firer(void *arg)
{
	struct race *r = arg;
	unsigned i = 0;

	while (!atomic_load(&r->stop))
		if (upci_mmio_write(r->d, TESTDEV_BAR_REGS, TESTDEV_REG_DOORBELL, 4, i++ % 6) != 0)
			break;
	return NULL;
}

/* Routing, masking, firing and taking at once: no deadlock, and every
 * fd count back where it was once the routes are given back. */
static void test_concurrent(void **state)
{
	struct race r = {0};
	uint64_t pend[UPCI_IRQ_WORDS];
	pthread_t th[3];
	int base;

	(void)state;
	r.d = open_irq();
	for (int i = 0; i < 4; i++) {
		r.ev[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		assert_true(r.ev[i] >= 0);
	}
	base = count_fds();
	atomic_init(&r.stop, false);
	assert_int_equal(pthread_create(&th[0], NULL, masker, &r), 0);
	assert_int_equal(pthread_create(&th[1], NULL, router, &r), 0);
	assert_int_equal(pthread_create(&th[2], NULL, firer, &r), 0);
	for (int i = 0; i < 2000; i++)
		(void)upci_irq_take_pending(r.d, pend);
	atomic_store(&r.stop, true);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	for (unsigned v = 1; v <= 4; v++)
		assert_int_equal(upci_irq_set_eventfd(r.d, v, -1), 0);
	assert_int_equal(count_fds(), base);
	/* Still sound: an unmasked vector given back reaches the bitmap. */
	assert_int_equal(upci_irq_set_mask(r.d, (const uint64_t[UPCI_IRQ_WORDS]){UINT64_MAX, UINT64_MAX, UINT64_MAX,
										  UINT64_MAX}),
			 0);
	(void)upci_irq_take_pending(r.d, pend);
	fire(r.d, 2);
	assert_int_equal(upci_irq_take_pending(r.d, pend), 1);
	assert_int_equal(pend[0], UINT64_C(1) << 2);
	upci_close(r.d);
	for (int i = 0; i < 4; i++)
		close(r.ev[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dup_lifetime),
		cmocka_unit_test(test_concurrent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

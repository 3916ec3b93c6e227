/* SPDX-License-Identifier: MIT */
/*
 * The interrupt bridge: one-shot WaitInterrupt re-armed after each drain,
 * with nothing lost when a vector fires between the drain and the re-arm;
 * the same over CheckInterrupt when the page cannot be mapped; masking done
 * by core (the driver's mask stays all ones); detached means dropped.
 */
#include <pthread.h>

#include "test_dext_util.h"

#define TD 0, 2, 0

/* Wait until every vector of @want has arrived (and nothing else). */
static void collect(upci_dev *d, const uint64_t want[UPCI_IRQ_WORDS])
{
	uint64_t got[UPCI_IRQ_WORDS] = {0}, p[UPCI_IRQ_WORDS];

	while (memcmp(got, want, sizeof(got)) != 0) {
		int n = upci_irq_wait(d, 2000, p);

		if (n < 1)
			fail_msg("waiting for vectors: %s", upci_strerror(n));
		for (unsigned w = 0; w < UPCI_IRQ_WORDS; w++) {
			if (p[w] & ~want[w])
				fail_msg("unexpected vectors in word %u: 0x%llx", w, (unsigned long long)(p[w] & ~want[w]));
			got[w] |= p[w];
		}
	}
}

static void bit(uint64_t b[UPCI_IRQ_WORDS], unsigned v)
{
	b[v / 64] |= UINT64_C(1) << (v % 64);
}

struct window {
	int arms;     /* WaitInterrupt calls seen */
	int fire_at;  /* the arm during which to fire */
	unsigned vec;
};

/* Runs inside the client's re-arm, after its drain: the worst moment. */
static void fire_in_window(void *arg)
{
	struct window *w = arg;

	if (__atomic_add_fetch(&w->arms, 1, __ATOMIC_SEQ_CST) == w->fire_at)
		iokit_shim_fire(TD, w->vec);
}

static void rearm_window(unsigned faults)
{
	uint64_t want[UPCI_IRQ_WORDS] = {0}, p[UPCI_IRQ_WORDS];
	struct iokit_shim_map m;
	struct window w = {0, 1, 77};
	upci_dev *d = NULL;

	iokit_shim_set_faults(faults);
	assert_int_equal(upci_open(&d, TD_URI), 0);
	assert_int_equal(upci_claim(d), 0);
	assert_int_equal(upci_irq_enable(d, UPCI_IRQ_MSIX, 0), 256);
	iokit_shim_last_map(&m);
	assert_int_equal(m.type, DEXT_MEM_IRQ_STATE);
	assert_int_equal(m.kr, faults & IOKIT_SHIM_NO_IRQ_PAGE ? kIOReturnBadArgument : kIOReturnSuccess);
	/* The first arm happened in upci_irq_enable, before the hook. Vector
	 * 5 completes it; the re-arm after draining 5 is the hook's first
	 * call, where 77 fires: after the drain, before the arm. */
	iokit_shim_set_wait_hook(fire_in_window, &w);
	assert_int_equal(iokit_shim_fire(TD, 5), 0);
	bit(want, 5);
	bit(want, 77);
	collect(d, want);
	/* 77 fired inside the re-arm and still arrived: the arm completed at
	 * once because it was pending. */
	assert_true(__atomic_load_n(&w.arms, __ATOMIC_SEQ_CST) >= 1);
	assert_int_equal(upci_irq_wait(d, 50, p), -ETIMEDOUT);
	iokit_shim_set_wait_hook(NULL, NULL);
	upci_close(d);
}

static void test_rearm_window_page(void **state)
{
	(void)state;
	rearm_window(0);
}

static void test_rearm_window_check_interrupt(void **state)
{
	(void)state;
	rearm_window(IOKIT_SHIM_NO_IRQ_PAGE);
}


/* Many rounds, each vector fired from another thread while the bridge is
 * busy delivering the previous ones: every round's vectors arrive. */
static void test_no_loss_under_load(void **state)
{
	upci_dev *d = NULL;

	(void)state;
	assert_int_equal(upci_open(&d, TD_URI), 0);
	assert_int_equal(upci_claim(d), 0);
	assert_int_equal(upci_irq_enable(d, UPCI_IRQ_MSIX, 0), 256);
	for (unsigned r = 0; r < 400; r++) {
		uint64_t want[UPCI_IRQ_WORDS] = {0};
		unsigned a = r % 256, b = (r * 37 + 11) % 256, c = (r * 101 + 3) % 256;

		iokit_shim_fire(TD, a);
		iokit_shim_fire(TD, b);
		iokit_shim_fire(TD, c);
		bit(want, a);
		bit(want, b);
		bit(want, c);
		collect(d, want);
	}
	upci_close(d);
}

/* Masked in upci: latched, not lost (the driver's mask never changed, so
 * it kept recording the vector). */
static void test_mask_is_cores(void **state)
{
	const uint64_t none[UPCI_IRQ_WORDS] = {0}, all[UPCI_IRQ_WORDS] = {UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX};
	uint64_t want[UPCI_IRQ_WORDS] = {0}, p[UPCI_IRQ_WORDS];
	struct iokit_shim_call k;
	upci_dev *d = NULL;
	int n, tries = 200;

	(void)state;
	assert_int_equal(upci_open(&d, TD_URI), 0);
	assert_int_equal(upci_claim(d), 0);
	assert_int_equal(upci_irq_enable(d, UPCI_IRQ_MSIX, 0), 256);
	assert_int_equal(upci_irq_set_mask(d, none), 0);
	iokit_shim_last_call(&k);
	assert_int_not_equal(k.selector, DEXT_SEL_SET_IRQ_MASK);
	iokit_shim_fire(TD, 200);
	do {
		n = upci_irq_peek_pending(d, p);
	} while (n == 0 && tries-- && upci_irq_wait(d, 10, p) == -ETIMEDOUT);
	assert_int_equal(n, 1);
	assert_int_equal(upci_irq_take_pending(d, p), 0);
	assert_int_equal(upci_irq_set_mask(d, all), 0);
	bit(want, 200);
	collect(d, want);
	upci_close(d);
}

static void test_vectors_beyond_nvec_and_detached(void **state)
{
	uint64_t want[UPCI_IRQ_WORDS] = {0}, p[UPCI_IRQ_WORDS];
	upci_dev *d = NULL;

	(void)state;
	assert_int_equal(upci_open(&d, TD_URI), 0);
	assert_int_equal(upci_claim(d), 0);
	assert_int_equal(upci_irq_enable(d, UPCI_IRQ_MSIX, 4), 4);
	iokit_shim_fire(TD, 10); /* not asked for: dropped */
	iokit_shim_fire(TD, 3);
	bit(want, 3);
	collect(d, want);
	assert_int_equal(upci_irq_wait(d, 50, p), -ETIMEDOUT);
	/* Disabled: the driver still has interrupts set up, nothing arrives. */
	assert_int_equal(upci_irq_disable(d), 0);
	iokit_shim_fire(TD, 1);
	assert_int_equal(upci_irq_wait(d, 50, p), -ETIMEDOUT);
	assert_int_equal(upci_irq_enable(d, UPCI_IRQ_MSIX, 0), 256);
	assert_int_equal(upci_irq_wait(d, 50, p), -ETIMEDOUT);
	upci_close(d);
}

/* Two handles share the connection; interrupts follow the claim. */
static void test_follow_the_claim(void **state)
{
	uint64_t want[UPCI_IRQ_WORDS] = {0}, p[UPCI_IRQ_WORDS];
	upci_dev *a = NULL, *b = NULL;

	(void)state;
	assert_int_equal(upci_open(&a, TD_URI), 0);
	assert_int_equal(upci_open(&b, TD_URI), 0);
	assert_int_equal(upci_claim(a), 0);
	assert_int_equal(upci_irq_enable(a, UPCI_IRQ_MSIX, 0), 256);
	assert_int_equal(upci_release(a), 0);
	assert_int_equal(upci_claim(b), 0);
	assert_int_equal(upci_irq_enable(b, UPCI_IRQ_MSIX, 0), 256);
	iokit_shim_fire(TD, 9);
	bit(want, 9);
	collect(b, want);
	assert_int_equal(upci_irq_wait(a, 50, p), -ETIMEDOUT);
	upci_close(a);
	upci_close(b);
}

/* INTx has no driver support: an interrupt pin is served by the first
 * message vector, as vector 0. */
static void test_intx_stand_in(void **state)
{
	uint64_t want[UPCI_IRQ_WORDS] = {0};
	upci_dev *d = NULL;

	(void)state;
	assert_int_equal(upci_open(&d, EDU_URI), 0);
	assert_int_equal(upci_claim(d), 0);
	assert_int_equal(upci_irq_count(d, UPCI_IRQ_INTX), 1);
	assert_int_equal(upci_irq_count(d, UPCI_IRQ_MSI), 1);
	assert_int_equal(upci_irq_count(d, UPCI_IRQ_MSIX), 0);
	assert_int_equal(upci_irq_enable(d, UPCI_IRQ_INTX, 0), 1);
	assert_int_equal(upci_mmio_write(d, 0, 0x60, 4, 1), 0); /* edu IRQ_RAISE */
	bit(want, 0);
	collect(d, want);
	upci_close(d);
	/* testdev: MSI-X only, no pin: neither MSI nor INTx. The counts are
	 * capabilities, read once the device is open. */
	assert_int_equal(upci_open(&d, TD_URI), 0);
	assert_int_equal(upci_irq_count(d, UPCI_IRQ_MSIX), 0);
	assert_int_equal(upci_claim(d), 0);
	assert_int_equal(upci_irq_count(d, UPCI_IRQ_INTX), 0);
	assert_int_equal(upci_irq_count(d, UPCI_IRQ_MSI), 0);
	assert_int_equal(upci_irq_count(d, UPCI_IRQ_MSIX), 256);
	upci_close(d);
}

/* Closing with completions in flight: ASan and the leak check judge. */
static void test_close_while_firing(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 30; i++) {
		upci_dev *d = NULL;

		assert_int_equal(upci_open(&d, TD_URI), 0);
		assert_int_equal(upci_claim(d), 0);
		assert_int_equal(upci_irq_enable(d, UPCI_IRQ_MSIX, 0), 256);
		for (unsigned v = 0; v < 64; v++)
			iokit_shim_fire(TD, (v * 5 + i) % 256);
		upci_close(d);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rearm_window_page, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_rearm_window_check_interrupt, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_no_loss_under_load, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_mask_is_cores, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_vectors_beyond_nvec_and_detached, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_follow_the_claim, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_intx_stand_in, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_close_while_firing, shim_setup, shim_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

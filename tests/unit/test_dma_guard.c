/* SPDX-License-Identifier: MIT */
/*
 * Guarded DMA copies (src/core/dma_guard.c): a copy from or to a memfd
 * mapping whose file was truncated returns -EFAULT with the faulting
 * address; every other SIGBUS still reaches the disposition installed
 * before (a handler, or the default action that kills), without looping
 * through a handler that chains back to us; a handler put back by signal()
 * without SA_SIGINFO is repaired; threads have their own recovery points.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "dma_guard.h"

#define PAGE 4096u
#define PAGES 4u

/* A memfd of PAGES pages, mapped, then cut down to @keep pages. */
struct shrunk {
	int fd;
	uint8_t *p;
};

static void shrunk_make(struct shrunk *s, unsigned keep)
{
	s->fd = memfd_create("guard-test", MFD_CLOEXEC);
	assert_true(s->fd >= 0);
	assert_int_equal(ftruncate(s->fd, PAGES * PAGE), 0);
	s->p = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
	assert_true(s->p != MAP_FAILED);
	memset(s->p, 0x5a, PAGES * PAGE);
	assert_int_equal(ftruncate(s->fd, (off_t)keep * PAGE), 0);
}

static void shrunk_free(struct shrunk *s)
{
	munmap(s->p, PAGES * PAGE);
	close(s->fd);
}

static void test_copy_ok(void **state)
{
	uint8_t buf[256];

	(void)state;
	assert_int_equal(dma_guard_arm(), 0);
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)i;
	/* memmove semantics both ways */
	assert_int_equal(dma_guard_copy(buf + 16, buf, 64, NULL), 0);
	assert_int_equal(buf[16], 0);
	assert_int_equal(buf[79], 63);
	assert_int_equal(dma_guard_copy(buf, buf + 16, 64, NULL), 0);
	assert_int_equal(buf[0], 0);
	assert_int_equal(buf[63], 63);
	assert_int_equal(dma_guard_copy(buf, NULL, 0, NULL), 0);
}

static void test_copy_shrunk(void **state)
{
	struct shrunk s;
	uint8_t out[2 * PAGE];
	const void *bad = NULL;

	(void)state;
	shrunk_make(&s, 1);
	/* cmocka put its own handler in for this test: arm, as a DMA map does */
	assert_int_equal(dma_guard_arm(), 0);
	/* reading across the new end */
	assert_int_equal(dma_guard_copy(out, s.p + PAGE / 2, 2 * PAGE, &bad), -EFAULT);
	assert_true((const uint8_t *)bad >= s.p + PAGE && (const uint8_t *)bad < s.p + PAGE / 2 + 2 * PAGE);
	/* writing wholly past it */
	bad = NULL;
	assert_int_equal(dma_guard_copy(s.p + 2 * PAGE, out, 64, &bad), -EFAULT);
	assert_true((const uint8_t *)bad >= s.p + 2 * PAGE && (const uint8_t *)bad < s.p + 2 * PAGE + 64);
	/* the page that is left works, and so does the next copy */
	assert_int_equal(dma_guard_copy(out, s.p, PAGE, NULL), 0);
	assert_int_equal(out[PAGE - 1], 0x5a);
	assert_int_equal(dma_guard_copy(out, s.p + 3 * PAGE, 1, NULL), -EFAULT);
	shrunk_free(&s);
}

/* A handler of the program's own, installed before the guard. */
static sigjmp_buf mine_jb;
static volatile int mine_calls;
static void *volatile mine_addr;

static void mine(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	mine_calls++;
	mine_addr = si->si_addr;
	siglongjmp(mine_jb, 1);
}

static void install_mine(struct sigaction *old)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = mine;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGBUS, &sa, old), 0);
}

/* A shrunk file, the program's handler, then the guard armed over it. */
static void mine_then_guard(struct shrunk *s, struct sigaction *old)
{
	shrunk_make(s, 1);
	install_mine(old);
	assert_int_equal(dma_guard_arm(), 0);
}

static void mine_done(struct shrunk *s, const struct sigaction *old)
{
	assert_int_equal(sigaction(SIGBUS, old, NULL), 0);
	shrunk_free(s);
}

/* Touch @p outside any guarded copy; returns whether `mine` caught it. */
static int touch(volatile uint8_t *p)
{
	mine_calls = 0;
	mine_addr = NULL;
	if (sigsetjmp(mine_jb, 0) == 0)
		(void)*p;
	return mine_calls == 1 && mine_addr == (void *)p;
}

/* touch() from @depth calls deeper in the stack. */
static int __attribute__((noinline)) touch_deep(volatile uint8_t *p, unsigned depth)
{
	volatile uint8_t pad[512];

	pad[0] = (uint8_t)depth;
	if (depth == 0)
		return touch(p) + pad[0];
	return touch_deep(p, depth - 1) + pad[0] - (uint8_t)depth;
}

static void test_chain_to_handler(void **state)
{
	struct sigaction old;
	struct shrunk s;
	uint8_t out[64];

	(void)state;
	mine_then_guard(&s, &old);
	/* a fault outside a guarded copy is the program's */
	assert_true(touch(s.p + 2 * PAGE));
	/* one inside is ours, and does not reach the program's handler */
	mine_calls = 0;
	assert_int_equal(dma_guard_copy(out, s.p + 2 * PAGE, sizeof(out), NULL), -EFAULT);
	assert_int_equal(mine_calls, 0);
	/* arming again (each DMA map does) keeps the chain: no loop to us */
	assert_int_equal(dma_guard_arm(), 0);
	assert_true(touch(s.p + 3 * PAGE));
	/* the program's handler left by siglongjmp each time; faults from
	 * deeper in the stack are still its */
	assert_int_equal(touch_deep(s.p + 3 * PAGE, 8), 1);
	assert_int_equal(touch_deep(s.p + 2 * PAGE, 2), 1);
	mine_done(&s, &old);
}

static void test_repair_after_signal(void **state)
{
	struct sigaction old, now;
	struct shrunk s;
	uint8_t out[64];

	(void)state;
	mine_then_guard(&s, &old);
	/* what cmocka does after each test: signal() puts a handler back,
	 * ours included, without SA_SIGINFO and SA_NODEFER */
	assert_int_equal(sigaction(SIGBUS, NULL, &now), 0);
	assert_true(signal(SIGBUS, now.sa_handler) != SIG_ERR);
	assert_int_equal(sigaction(SIGBUS, NULL, &now), 0);
	assert_false(now.sa_flags & SA_SIGINFO);
	assert_int_equal(dma_guard_arm(), 0);
	assert_int_equal(sigaction(SIGBUS, NULL, &now), 0);
	assert_true(now.sa_flags & SA_SIGINFO);
	assert_true(now.sa_flags & SA_NODEFER);
	/* and it still chains to what was there first */
	assert_int_equal(dma_guard_copy(out, s.p + 2 * PAGE, sizeof(out), NULL), -EFAULT);
	assert_true(touch(s.p + 2 * PAGE));
	mine_done(&s, &old);
}

/*
 * Run @body in a child whose SIGBUS disposition is the default, with the
 * guard armed over it: the child must end killed by SIGBUS (and within
 * 10 s: a loop would hang).
 */
static void child_killed_by_sigbus(void (*body)(const struct shrunk *s))
{
	struct shrunk s;
	int status = 0;
	pid_t pid;

	shrunk_make(&s, 1);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sigaction dfl;

		alarm(10);
		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		sigaction(SIGBUS, &dfl, NULL);
		if (dma_guard_arm() != 0)
			_exit(2);
		body(&s);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGBUS);
	shrunk_free(&s);
}

static void guarded_then_unguarded(const struct shrunk *s)
{
	uint8_t out[64];

	if (dma_guard_copy(out, s->p + 2 * PAGE, sizeof(out), NULL) != -EFAULT)
		_exit(3);
	/* a fault nobody guards must still kill, as without us */
	(void)*(volatile uint8_t *)(s->p + 2 * PAGE);
}

static void test_chain_to_default(void **state)
{
	(void)state;
	child_killed_by_sigbus(guarded_then_unguarded);
}

/* A handler installed after the guard, chaining to what it replaced. */
static struct sigaction later_prev;

static void later(int sig, siginfo_t *si, void *uc)
{
	later_prev.sa_sigaction(sig, si, uc);
}

static void chaining_back(const struct shrunk *s)
{
	struct sigaction sa;

	/* the program chains to us; the next DMA map arms over it, so we
	 * chain to it: us -> later -> us must not recurse forever */
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = later;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGBUS, &sa, &later_prev);
	if (dma_guard_arm() != 0)
		_exit(3);
	(void)*(volatile uint8_t *)(s->p + 2 * PAGE);
}

static void test_chain_loop(void **state)
{
	(void)state;
	/* killed by the fault, not by a stack overflow or the alarm */
	child_killed_by_sigbus(chaining_back);
}

/* Threads copying at once: each has its own recovery point. */
struct worker {
	const uint8_t *src;
	int expect;
	int wrong;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	uint8_t out[PAGE];

	for (unsigned i = 0; i < 2000; i++)
		if (dma_guard_copy(out, w->src, sizeof(out), NULL) != w->expect)
			w->wrong++;
	return NULL;
}

static void test_threads(void **state)
{
	struct shrunk s;
	struct worker w[4];
	pthread_t th[4];

	(void)state;
	shrunk_make(&s, 2);
	assert_int_equal(dma_guard_arm(), 0);
	for (unsigned i = 0; i < 4; i++) {
		w[i] = (struct worker){.src = s.p + (i % 2 ? 2 * PAGE : PAGE), .expect = i % 2 ? -EFAULT : 0};
		assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(w[i].wrong, 0);
	}
	shrunk_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy_ok),
		cmocka_unit_test(test_copy_shrunk),
		cmocka_unit_test(test_chain_to_handler),
		cmocka_unit_test(test_repair_after_signal),
		cmocka_unit_test(test_chain_to_default),
		cmocka_unit_test(test_chain_loop),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

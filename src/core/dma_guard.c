/* SPDX-License-Identifier: MIT */
/* Guarded DMA copies: a SIGBUS in one is a DMA error (see dma_guard.h). */
#define _GNU_SOURCE
#include "dma_guard.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "log.h"

/* The handler reads these: initial-exec TLS never allocates on first use,
 * which a signal handler must not risk. */
#if defined(__linux__) && (defined(__GNUC__) || defined(__clang__))
#define GUARD_TLS __thread __attribute__((tls_model("initial-exec")))
#else
#define GUARD_TLS __thread
#endif

struct guard {
	sigjmp_buf jb;
	uintptr_t lo[2], hi[2];       /* the copy's two ranges, [lo, hi) */
	const void *volatile addr;    /* where it faulted (set by the handler) */
};

/* The copy this thread is inside, or NULL. */
static GUARD_TLS struct guard *volatile cur;
/* This thread runs the previous disposition: a handler that chains back
 * to us gets the default action instead of a loop. */
static GUARD_TLS volatile sig_atomic_t chaining;

/* The disposition found before ours. Two slots: dma_guard_arm() fills the
 * one not in use and then switches, so the handler never reads a
 * half-written one. */
static struct sigaction prev[2];
static atomic_int prev_idx;
static atomic_bool armed;
static pthread_mutex_t arm_lock = PTHREAD_MUTEX_INITIALIZER;

static bool in_range(const struct guard *g, uintptr_t a)
{
	return (a >= g->lo[0] && a < g->hi[0]) || (a >= g->lo[1] && a < g->hi[1]);
}

static void default_action(int sig, const siginfo_t *si)
{
	struct sigaction dfl;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigaction(sig, &dfl, NULL);
	/* A fault repeats when we return, now with the default action (and
	 * a core dump at the real address); a sent signal must be raised. */
	if (si->si_code <= 0)
		raise(sig);
}

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	struct guard *g = cur;
	const struct sigaction *p;

	/* si_code > 0: raised by the kernel for a fault, so si_addr is real. */
	if (g && si->si_code > 0 && in_range(g, (uintptr_t)si->si_addr)) {
		cur = NULL;
		g->addr = si->si_addr;
		siglongjmp(g->jb, 1);
	}
	p = &prev[atomic_load(&prev_idx)];
	if (chaining || p->sa_handler == SIG_DFL) {
		default_action(sig, si);
	} else if (p->sa_handler == SIG_IGN) {
		/* A fault cannot be ignored (the kernel would kill us); only a
		 * signal someone sent is. */
		if (si->si_code > 0)
			default_action(sig, si);
	} else {
		chaining = 1;
		if (p->sa_flags & SA_SIGINFO)
			p->sa_sigaction(sig, si, uc);
		else
			p->sa_handler(sig);
		chaining = 0;
	}
}

int dma_guard_arm(void)
{
	struct sigaction now, ours;
	int ret = 0;

	memset(&ours, 0, sizeof(ours));
	ours.sa_sigaction = on_sigbus;
	/* NODEFER and an empty mask: the siglongjmp (which does not restore
	 * the mask, to keep sigprocmask off the copy path) leaves the mask
	 * as it was before the fault. */
	ours.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK | SA_RESTART;
	sigemptyset(&ours.sa_mask);
	pthread_mutex_lock(&arm_lock);
	if (sigaction(SIGBUS, NULL, &now) != 0) {
		ret = -errno;
	} else if (now.sa_sigaction == on_sigbus) {
		/* Ours, but maybe put back by signal(), without SA_SIGINFO:
		 * install it properly; what it chains to stays. */
		if ((now.sa_flags & (SA_SIGINFO | SA_NODEFER)) != (SA_SIGINFO | SA_NODEFER) &&
		    sigaction(SIGBUS, &ours, NULL) != 0)
			ret = -errno;
	} else {
		int next = 1 - atomic_load(&prev_idx);

		prev[next] = now;
		atomic_store(&prev_idx, next);
		if (sigaction(SIGBUS, &ours, NULL) != 0)
			ret = -errno;
	}
	if (ret == 0)
		atomic_store(&armed, true);
	pthread_mutex_unlock(&arm_lock);
	return ret;
}

int dma_guard_copy(void *dst, const void *src, size_t len, const void **fault)
{
	struct guard g;

	if (len == 0)
		return 0;
	if (!atomic_load_explicit(&armed, memory_order_relaxed))
		(void)dma_guard_arm(); /* without it a fault still kills, as before */
	g.lo[0] = (uintptr_t)dst;
	g.hi[0] = g.lo[0] + len;
	g.lo[1] = (uintptr_t)src;
	g.hi[1] = g.lo[1] + len;
	g.addr = NULL;
	if (sigsetjmp(g.jb, 0) != 0) {
		if (fault)
			*fault = g.addr;
		LOG_WARN("DMA copy of %zu bytes faulted at %p (SIGBUS: the memory's file shrank under its mapping): "
			 "a DMA error for the device", len, g.addr);
		return -EFAULT;
	}
	cur = &g;
	/* The handler must see cur set for the whole copy, and only then. */
	atomic_signal_fence(memory_order_seq_cst);
	memmove(dst, src, len);
	atomic_signal_fence(memory_order_seq_cst);
	cur = NULL;
	return 0;
}

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
/*
 * While this thread runs the previous handler: our frame and the signal's
 * siginfo and context. A handler installed after us that chains back to us
 * (and that we then chained to after re-arming) calls us again, deeper in
 * the stack, with the same siginfo or context: that loop ends in the
 * default action. A handler that left by siglongjmp leaves these stale; a
 * new signal then comes in at our old frame or above, never below it with
 * the same siginfo, so it is chained normally.
 */
static GUARD_TLS void *volatile chain_frame;
static GUARD_TLS const void *volatile chain_si, *volatile chain_uc;

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

static bool chain_loops(const void *frame, const siginfo_t *si, const void *uc)
{
	const void *f = chain_frame;

	return f && (uintptr_t)frame < (uintptr_t)f && (si == chain_si || uc == chain_uc);
}

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	struct guard *g = cur;
	const struct sigaction *p;
	void *frame = __builtin_frame_address(0);

	/* si_code > 0: raised by the kernel for a fault, so si_addr is real. */
	if (g && si->si_code > 0 && in_range(g, (uintptr_t)si->si_addr)) {
		cur = NULL;
		g->addr = si->si_addr;
		siglongjmp(g->jb, 1);
	}
	p = &prev[atomic_load(&prev_idx)];
	if (p->sa_handler == SIG_DFL || chain_loops(frame, si, uc)) {
		default_action(sig, si);
	} else if (p->sa_handler == SIG_IGN) {
		/* A fault cannot be ignored (the kernel would kill us); only a
		 * signal someone sent is. */
		if (si->si_code > 0)
			default_action(sig, si);
	} else {
		void *of = chain_frame;
		const void *osi = chain_si, *ouc = chain_uc;

		chain_frame = frame;
		chain_si = si;
		chain_uc = uc;
		if (p->sa_flags & SA_SIGINFO)
			p->sa_sigaction(sig, si, uc);
		else
			p->sa_handler(sig);
		chain_frame = of;
		chain_si = osi;
		chain_uc = ouc;
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

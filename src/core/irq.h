/* SPDX-License-Identifier: MIT */
/*
 * IRQ state shared by every backend: 256 pending bits, a 256-bit enable
 * mask, and a notifier fd (eventfd on Linux, a non-blocking pipe
 * elsewhere) that is readable while an enabled vector is pending.
 *
 * Guarantees:
 *   - irq_state_raise() is async-signal-safe and lock-free: any thread
 *     (a backend's event thread, a model running in the caller's thread)
 *     may call it at any time, concurrently with take/peek/wait (with a
 *     direct fd, a thread's first write sets up its guard timer: see
 *     fd_signal_attach).
 *   - No interrupt is lost: a vector raised concurrently with a take is
 *     returned by that take or by the next one, and the fd is readable
 *     whenever an enabled vector is pending (spurious wake-ups possible).
 *   - A vector raised while masked stays latched until unmasked; unmasking
 *     a latched vector makes the fd readable.
 *   - Every other function may run concurrently with any other, from any
 *     thread (except init/fini). The event sources, the re-arm fds and mask
 *     changes are guarded by one internal lock that is held only around
 *     non-blocking system calls, never while waiting; so a source detached
 *     by irq_state_attach_source(vec, -1) is no longer read by anyone when
 *     that call returns, and its owner may close it.
 */
#ifndef UPCI_CORE_IRQ_H
#define UPCI_CORE_IRQ_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define IRQ_VECTORS 256u
#define IRQ_WORDS   (IRQ_VECTORS / 64u)

struct irq_state {
	_Atomic uint64_t pending[IRQ_WORDS];
	_Atomic uint64_t mask[IRQ_WORDS];  /* bit set = enabled */
	int rfd;  /* read end (the eventfd itself on Linux) */
	int wfd;  /* write end (== rfd for eventfd) */
	/* Direct delivery: per-vector eventfd or -1; raisers in flight are
	 * counted so that a replaced fd is no longer in use when set returns. */
	_Atomic int direct[IRQ_VECTORS];
	_Atomic uint64_t routed[IRQ_WORDS]; /* bit set = direct[v] >= 0: never taken */
	_Atomic unsigned raisers;
	_Atomic bool direct_used;          /* sticky: a direct fd was ever set */
	/* Event sources: epoll set (or -1, created once) and per-vector
	 * source fd. Everything below epfd is under @lock, except that
	 * nsources may be read without it as a hint ("any sources at all?"). */
	_Atomic int epfd;
	pthread_mutex_t lock;               /* sources, re-arm fds, mask changes */
	int source[IRQ_VECTORS];
	int rearm[IRQ_VECTORS];             /* eventfd written after a latch, or -1 */
	_Atomic uint64_t rearm_due[IRQ_WORDS]; /* latched while masked: re-arm on unmask */
	uint64_t src_armed[IRQ_WORDS];      /* sources in the epoll interest set */
	_Atomic unsigned nsources;
	/* Waking waiters: irq_state_cancel_waits() moves the epoch on; a wait
	 * counts itself in waiting[epoch & 1] while it runs. */
	_Atomic unsigned epoch;
	_Atomic unsigned waiting[2];
	_Atomic int failed;                 /* 0, or the -errno of a lost device */
};

/* Creates the notifier; pending clear, mask all ones. 0 or -errno. */
int irq_state_init(struct irq_state *s);
void irq_state_fini(struct irq_state *s);

/* Clear every pending bit and drain the notifier; mask back to all ones. */
void irq_state_clear(struct irq_state *s);

/* Latch vector @vec (< 256; larger values are ignored) and, if enabled,
 * signal the fd. */
void irq_state_raise(struct irq_state *s, unsigned vec);

/* Set the mask; signals the fd if a now-enabled vector is latched. */
void irq_state_set_mask(struct irq_state *s, const uint64_t mask[IRQ_WORDS]);
void irq_state_get_mask(struct irq_state *s, uint64_t mask[IRQ_WORDS]);

/* Read-and-clear the enabled pending bits into out; returns how many, or
 * the error irq_state_fail() gave once nothing is left to take. */
int irq_state_take(struct irq_state *s, uint64_t out[IRQ_WORDS]);

/*
 * The device is gone (a backend saw it removed): from now on take and wait
 * return @err (a negative errno) once no enabled vector is pending, at
 * once, and the fd stays readable, like a socket at end of file: every
 * waiter and event loop wakes up to learn it (one signal would wake only
 * the poller that drains it first). The first error sticks. Any thread.
 */
void irq_state_fail(struct irq_state *s, int err);

/* Copy all pending bits (masked ones too); returns how many. */
int irq_state_peek(struct irq_state *s, uint64_t out[IRQ_WORDS]);

/*
 * Direct delivery (upci_irq_set_eventfd, and the vfio-user server's
 * client eventfds): from now on vector @vec is delivered by signalling
 * eventfd @fd instead of the pending bits and the notifier; take and wait
 * never return it. @fd = -1 goes back to normal delivery. @fd is written
 * with fd_signal(), which a full, blocking eventfd cannot hold. The mask
 * still applies: a masked vector is latched (peek sees it) and written to
 * its fd when unmasked. A vector latched and enabled when @fd is set is
 * written to @fd now; one latched when @fd goes back to -1 stays in the
 * bitmap (and signals the notifier if enabled). The caller keeps owning
 * @fd; when this returns no raise is still using the previous fd, so the
 * caller may close it. Returns 0, -EINVAL (vec >= 256).
 */
int irq_state_set_direct(struct irq_state *s, unsigned vec, int fd);

/*
 * Event sources (backends whose device signals one eventfd per vector: the
 * vfio-user client, Linux VFIO): readiness of @fd means vector @vec fired.
 * The fd is watched through the handle's pollable fd (an epoll set holding
 * the notifier and the source of every ENABLED vector: a masked vector's
 * source leaves the set, so the fd stays quiet for it), and take/peek/wait
 * latch what is ready before looking at the bits, so there is no relay
 * thread. peek also reads masked sources directly so that it sees them. @fd = -1
 * detaches the vector's source. The caller keeps owning @fd. Linux only
 * (-ENOTSUP elsewhere). Returns 0, -EINVAL, or -errno from epoll.
 */
int irq_state_attach_source(struct irq_state *s, unsigned vec, int fd);

/*
 * As irq_state_attach_source(), for a line the device side masks on every
 * delivery (VFIO INTx is "automasked"): after a read of @fd latches @vec,
 * 1 is written to @rearm_fd (registered by the backend as the unmask
 * eventfd), so the next interrupt can come. A vector latched while masked
 * in the library is re-armed only when set_mask enables it, so a level
 * that stays asserted cannot make a waiter spin. @rearm_fd -1 = none.
 */
int irq_state_attach_source_rearm(struct irq_state *s, unsigned vec, int fd, int rearm_fd);

/* Read eventfd @fd once (non-blocking); if it had fired, latch @vec as a
 * raise does. For a backend that just stopped watching @fd. */
void irq_state_latch_fd(struct irq_state *s, unsigned vec, int fd);

/* Create the epoll set now (backends call it in ->open, so that the fd a
 * caller gets from upci_irq_fd() never changes). 0, -ENOTSUP off Linux. */
int irq_state_enable_sources(struct irq_state *s);

/* The fd for event loops: the epoll set once a source is attached, else
 * the notifier. */
int irq_state_pollfd(const struct irq_state *s);

/* Wait up to timeout_ms (-1 forever) for an enabled vector, then take.
 * Returns count >= 1, -ETIMEDOUT, -EINTR, -ECANCELED (woken by
 * irq_state_cancel_waits()), another -errno from poll, or the
 * irq_state_fail() error. */
int irq_state_wait(struct irq_state *s, int timeout_ms, uint64_t out[IRQ_WORDS]);

/*
 * Wake every irq_state_wait() that started before this call: each returns
 * -ECANCELED. Returns once none of them is still inside irq_state_wait(),
 * so the caller may then tear the state down (upci_close). Waits that
 * start later are not affected. Callers must not run it concurrently with
 * itself (core holds the handle lock).
 */
void irq_state_cancel_waits(struct irq_state *s);

#endif /* UPCI_CORE_IRQ_H */

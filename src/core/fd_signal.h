/* SPDX-License-Identifier: MIT */
/*
 * Signalling an eventfd that someone else controls (a vfio-user client's
 * interrupt fds), without letting it hold the signalling thread.
 *
 * The client shares the open file description with us: at any moment it
 * can clear O_NONBLOCK (F_SETFL acts on the shared description) and fill
 * the counter to its maximum, and a write() then sleeps until somebody
 * reads. Checking O_NONBLOCK or POLLOUT first leaves a window the client
 * can race; setting O_NONBLOCK ourselves changes the client's own file, and
 * it can clear it again. So a write that sleeps is interrupted instead, by
 * FD_SIGNAL_GUARD_SIG (its handler does nothing and has no SA_RESTART), and
 * not retried: it could only sleep because the counter was full, and a
 * full eventfd is readable anyway.
 *
 * Two ways, so that the common case costs one write():
 *   - watched: the thread marks each write in a struct fd_signal_mark that
 *     another thread looks at every FD_SIGNAL_WATCH_MS (fd_signal_watch).
 *     A write that lasted that long is interrupted, and the thread's later
 *     writes are guarded (it is now known to face a hostile fd).
 *   - guarded: a timer of the thread interrupts each write every
 *     FD_SIGNAL_BOUND_NS until it returns. Costs two timer system calls a
 *     write (on a VM, each can exit to the hypervisor to program the timer).
 * A thread without a mark is guarded. Where there are no per-thread timers
 * (macOS), or one cannot be set up, a guarded write is made only when
 * poll() says it would not block: a client racing that check can still
 * hold it, until the watcher interrupts it.
 */
#ifndef UPCI_CORE_FD_SIGNAL_H
#define UPCI_CORE_FD_SIGNAL_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define FD_SIGNAL_GUARD_SIG SIGURG  /* ignored by default; Go uses it alike */
#ifndef FD_SIGNAL_BOUND_NS          /* the fuzz build shortens it: a real wait */
#define FD_SIGNAL_BOUND_NS 1000000L /* a guarded write: 1 ms */
#endif
#define FD_SIGNAL_WATCH_MS 50       /* a watched write: 50 to 100 ms, once */

struct fd_signal_mark {
	_Atomic unsigned seq;  /* odd while its thread is in a write */
	_Atomic bool guarded;  /* its writes are guarded from now on */
	pthread_t thread;
	unsigned seen;         /* seq at the watcher's last look, */
	int64_t seen_ms;       /* and since when it has been the same */
};

/*
 * Add 1 to eventfd @fd (a byte to a pipe off Linux) as above. Keeps errno.
 * -1 is a no-op. The calling thread must not block FD_SIGNAL_GUARD_SIG.
 * The first guarded write on a thread creates its timer (not in a signal
 * handler: call fd_signal_attach first); the guard's handler is installed
 * once, unless the process handles FD_SIGNAL_GUARD_SIG itself (without
 * SA_RESTART, or nothing is guarded).
 */
void fd_signal(int fd);

/*
 * Route the calling thread's fd_signal() through @m (guarded from the
 * start when @guarded: a thread nobody watches) and set up its timer.
 * Returns 0, or a negative errno when there is no timer (see above).
 */
int fd_signal_attach(struct fd_signal_mark *m, bool guarded);
/* Back to no mark (guarded writes). */
void fd_signal_detach(void);

/*
 * From the thread that watches @m, at least every FD_SIGNAL_WATCH_MS while
 * @m's thread may signal (@now_ms: CLOCK_MONOTONIC): when one write has
 * lasted FD_SIGNAL_WATCH_MS, or at once when @stop, interrupt it and
 * guard that thread's writes from now on.
 */
void fd_signal_watch(struct fd_signal_mark *m, int64_t now_ms, bool stop);

#endif /* UPCI_CORE_FD_SIGNAL_H */

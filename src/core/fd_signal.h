/* SPDX-License-Identifier: MIT */
/*
 * Signalling an eventfd that someone else controls (a vfio-user client's
 * interrupt fds), without ever sleeping for long.
 *
 * The client shares the open file description with us: at any moment it
 * can clear O_NONBLOCK (F_SETFL acts on the shared description) and fill
 * the counter to its maximum, and a write() then sleeps until somebody
 * reads. Checking O_NONBLOCK or POLLOUT first leaves a window the client
 * can race; setting O_NONBLOCK ourselves changes the client's own file and
 * it can clear it again. So the write is bounded instead: a timer of the
 * calling thread interrupts it (FD_SIGNAL_GUARD_SIG, whose handler does
 * nothing and has no SA_RESTART) every FD_SIGNAL_BOUND_NS until it returns,
 * and a write that was interrupted is not retried: it could only sleep
 * because the counter was full, and a full eventfd is readable anyway.
 */
#ifndef UPCI_CORE_FD_SIGNAL_H
#define UPCI_CORE_FD_SIGNAL_H

#include <signal.h>

#define FD_SIGNAL_GUARD_SIG SIGURG /* ignored by default; Go uses it alike */
#define FD_SIGNAL_BOUND_NS 1000000L  /* 1 ms */

/*
 * Add 1 to eventfd @fd (a byte to a pipe off Linux), sleeping at most about
 * FD_SIGNAL_BOUND_NS. Keeps errno. -1 is a no-op. The calling thread must
 * not block FD_SIGNAL_GUARD_SIG. On Linux the first call on a thread creates
 * its timer (call fd_signal_prepare() first where that must not happen in a
 * signal handler); the guard's handler is installed once, unless the
 * process already handles FD_SIGNAL_GUARD_SIG itself (its handler must then
 * not use SA_RESTART). Where there are no per-thread timers (macOS), or
 * the timer cannot be set up, the write is made only when poll() says it
 * would not block: a client racing that check can still hold it.
 */
void fd_signal(int fd);

/* Set up the calling thread's timer now. Returns 0 or a negative errno
 * (then fd_signal falls back as above). */
int fd_signal_prepare(void);

#endif /* UPCI_CORE_FD_SIGNAL_H */

/* SPDX-License-Identifier: MIT */
/* A write to someone else's eventfd that cannot sleep for long (fd_signal.h). */
#define _GNU_SOURCE /* gettid, SIGEV_THREAD_ID */
#include "fd_signal.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__linux__) && defined(SIGEV_THREAD_ID)
#define HAVE_GUARD 1
#endif

/* Off Linux, or without a timer: write only when it would not block. */
static ssize_t write_if_room(int fd, const void *buf, size_t len)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};

	if (poll(&p, 1, 0) != 1 || !(p.revents & POLLOUT))
		return -1; /* full (readable anyway) or not writable at all */
	return write(fd, buf, len);
}

#ifdef HAVE_GUARD

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t key;
static bool guard_ok; /* the handler is in place and the key exists */

/* Per thread: its timer, once created. The key's destructor deletes it. */
static __thread timer_t tl_timer;
static __thread bool tl_have;

static void on_guard(int sig)
{
	(void)sig; /* interrupting the write was the point */
}

static void timer_free(void *p)
{
	(void)p;
	if (tl_have) {
		timer_delete(tl_timer);
		tl_have = false;
	}
}

static void init_once(void)
{
	struct sigaction old, sa;

	if (pthread_key_create(&key, timer_free) != 0 || sigaction(FD_SIGNAL_GUARD_SIG, NULL, &old) != 0)
		return;
	if (!(old.sa_flags & SA_SIGINFO) && (old.sa_handler == SIG_DFL || old.sa_handler == SIG_IGN)) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_guard;
		sigemptyset(&sa.sa_mask);
		sa.sa_flags = 0; /* no SA_RESTART: the write must return EINTR */
		if (sigaction(FD_SIGNAL_GUARD_SIG, &sa, NULL) != 0)
			return;
	} else if (old.sa_flags & SA_RESTART) {
		return; /* the process's own handler would restart the write */
	}
	guard_ok = true;
}

int fd_signal_prepare(void)
{
	struct sigevent ev;

	if (tl_have)
		return 0;
	pthread_once(&once, init_once);
	if (!guard_ok)
		return -ENOTSUP;
	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_THREAD_ID;
	ev.sigev_signo = FD_SIGNAL_GUARD_SIG;
#ifdef sigev_notify_thread_id
	ev.sigev_notify_thread_id = gettid();
#else
	ev._sigev_un._tid = gettid();
#endif
	if (timer_create(CLOCK_MONOTONIC, &ev, &tl_timer) != 0)
		return -errno;
	tl_have = true;
	(void)pthread_setspecific(key, &tl_timer); /* non-NULL: run the destructor */
	return 0;
}

void fd_signal(int fd)
{
	static const struct itimerspec on = {
		.it_interval = {0, FD_SIGNAL_BOUND_NS}, /* again, if the first one came too early */
		.it_value = {0, FD_SIGNAL_BOUND_NS},
	};
	static const struct itimerspec off;
	int saved = errno;
	uint64_t one = 1;

	if (fd < 0)
		return;
	if (fd_signal_prepare() != 0 || timer_settime(tl_timer, 0, &on, NULL) != 0) {
		(void)write_if_room(fd, &one, sizeof(one));
		errno = saved;
		return;
	}
	/* EINTR: it slept, so the counter was full: readable already */
	(void)!write(fd, &one, sizeof(one));
	(void)timer_settime(tl_timer, 0, &off, NULL);
	errno = saved;
}

#else /* no per-thread timers */

int fd_signal_prepare(void)
{
	return -ENOTSUP;
}

void fd_signal(int fd)
{
	int saved = errno;
#ifdef __linux__
	uint64_t one = 1;
#else
	char one = 0; /* a pipe */
#endif

	if (fd >= 0)
		(void)write_if_room(fd, &one, sizeof(one));
	errno = saved;
}

#endif

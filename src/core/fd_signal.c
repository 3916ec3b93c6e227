/* SPDX-License-Identifier: MIT */
/* Writes to someone else's eventfd that cannot hold us (fd_signal.h). */
#define _GNU_SOURCE /* gettid, SIGEV_THREAD_ID */
#include "fd_signal.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__linux__) && defined(SIGEV_THREAD_ID)
#define HAVE_TIMER 1
#endif

static __thread struct fd_signal_mark *tl_mark;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool handler_ok; /* FD_SIGNAL_GUARD_SIG interrupts system calls */

static void on_guard(int sig)
{
	(void)sig; /* interrupting the write was the point */
}

static void init_once(void)
{
	struct sigaction old, sa;

	if (sigaction(FD_SIGNAL_GUARD_SIG, NULL, &old) != 0)
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
	handler_ok = true;
}

static ssize_t write_one(int fd)
{
#ifdef __linux__
	uint64_t one = 1;
#else
	char one = 0; /* a pipe */
#endif

	return write(fd, &one, sizeof(one));
}

/* Without a timer: write only when it would not block (racy, see .h). */
static void write_if_room(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};

	if (poll(&p, 1, 0) == 1 && (p.revents & POLLOUT))
		(void)write_one(fd);
}

#ifdef HAVE_TIMER

static pthread_key_t key;
static bool key_ok;
/* Per thread: its timer, once created; the key's destructor deletes it. */
static __thread timer_t tl_timer;
static __thread bool tl_have_timer;

static void timer_free(void *p)
{
	(void)p;
	if (tl_have_timer) {
		timer_delete(tl_timer);
		tl_have_timer = false;
	}
}

static void init_key_once(void)
{
	key_ok = pthread_key_create(&key, timer_free) == 0;
}

static int timer_prepare(void)
{
	static pthread_once_t key_once = PTHREAD_ONCE_INIT;
	struct sigevent ev;

	if (tl_have_timer)
		return 0;
	pthread_once(&once, init_once);
	pthread_once(&key_once, init_key_once);
	if (!handler_ok || !key_ok)
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
	tl_have_timer = true;
	(void)pthread_setspecific(key, &tl_timer); /* non-NULL: the destructor runs */
	return 0;
}

static void guarded_write(int fd)
{
	static const struct itimerspec on = {
		.it_interval = {0, FD_SIGNAL_BOUND_NS}, /* again, if the first one came too early */
		.it_value = {0, FD_SIGNAL_BOUND_NS},
	};
	static const struct itimerspec off;

	if (timer_prepare() != 0 || timer_settime(tl_timer, 0, &on, NULL) != 0) {
		write_if_room(fd);
		return;
	}
	(void)write_one(fd); /* EINTR: it slept, so the counter was full */
	(void)timer_settime(tl_timer, 0, &off, NULL);
}

#else /* no per-thread timers */

static int timer_prepare(void)
{
	pthread_once(&once, init_once); /* a watcher's interruption still works */
	return -ENOTSUP;
}

static void guarded_write(int fd)
{
	write_if_room(fd);
}

#endif

void fd_signal(int fd)
{
	struct fd_signal_mark *m = tl_mark;
	int saved = errno;

	if (fd < 0)
		return;
	if (m && !atomic_load_explicit(&m->guarded, memory_order_relaxed)) {
		unsigned s = atomic_load_explicit(&m->seq, memory_order_relaxed);

		/* odd while in the write: fd_signal_watch sees it last */
		atomic_store_explicit(&m->seq, s + 1, memory_order_release);
		(void)write_one(fd); /* EINTR: interrupted, see the header */
		atomic_store_explicit(&m->seq, s + 2, memory_order_release);
	} else {
		guarded_write(fd);
	}
	errno = saved;
}

int fd_signal_attach(struct fd_signal_mark *m, bool guarded)
{
	atomic_init(&m->seq, 0);
	atomic_init(&m->guarded, guarded);
	m->thread = pthread_self();
	m->seen = 0;
	m->seen_ms = 0;
	tl_mark = m;
	return timer_prepare();
}

void fd_signal_detach(void)
{
	tl_mark = NULL;
}

void fd_signal_watch(struct fd_signal_mark *m, int64_t now_ms, bool stop)
{
	unsigned s = atomic_load_explicit(&m->seq, memory_order_acquire);

	if (s != m->seen) {
		m->seen = s;
		m->seen_ms = now_ms;
	}
	if (stop)
		atomic_store(&m->guarded, true);
	if (!(s & 1) || (!stop && now_ms - m->seen_ms < FD_SIGNAL_WATCH_MS))
		return;
	/* One write has lasted too long: the fd is hostile. Guard the rest,
	 * then end this one (again at the next look if it started late). */
	atomic_store(&m->guarded, true);
	if (handler_ok)
		(void)pthread_kill(m->thread, FD_SIGNAL_GUARD_SIG);
}

/* SPDX-License-Identifier: MIT */
/* Stop and status signals (stop_signal.h). */
#include "stop_signal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGPIPE};
#define NSTOP 4 /* the first four stop */
#define NSIGS (sizeof(sigs) / sizeof(sigs[0]))
static const char *const stop_names[NSTOP] = {"SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"};

static pthread_mutex_t owner_lock = PTHREAD_MUTEX_INITIALIZER;
static int owned;
static struct sigaction saved[NSIGS];
static int installed[NSIGS];
static int own_pipe[2] = {-1, -1};
static volatile sig_atomic_t notify_fd = -1;
static volatile sig_atomic_t caught;
/* Written by stop_signal_set_status_fd before a handler can read it. */
static char status[4096];
static volatile sig_atomic_t status_len;
static volatile sig_atomic_t status_fd = -1;

static void on_stop(int sig)
{
	int saved_errno = errno;
	char c = 0;

	caught = sig;
	if (notify_fd >= 0 && write(notify_fd, &c, 1) < 0) {
		/* full: a wake-up is pending already */
	}
	errno = saved_errno;
}

static void on_status(int sig)
{
	int saved_errno = errno;

	(void)sig;
	if (status_len > 0 && status_fd >= 0 && write(status_fd, status, (size_t)status_len) < 0) {
		/* nowhere to say it */
	}
	errno = saved_errno;
}

static int set_nonblock_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	return 0;
}

static void restore(void)
{
	for (size_t i = 0; i < NSIGS; i++)
		if (installed[i]) {
			sigaction(sigs[i], &saved[i], NULL);
			installed[i] = 0;
		}
}

static int install(int ignore_sigpipe)
{
	for (size_t i = 0; i < NSIGS; i++) {
		struct sigaction sa;

		if (sigs[i] == SIGPIPE && !ignore_sigpipe)
			continue;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = i < NSTOP ? on_stop : (sigs[i] == SIGUSR1 || sigs[i] == SIGUSR2) ? on_status : SIG_IGN;
		sigemptyset(&sa.sa_mask);
		if (sigaction(sigs[i], &sa, &saved[i]) < 0) {
			int e = -errno;

			restore();
			return e;
		}
		installed[i] = 1;
	}
	return 0;
}

static int take_ownership(void)
{
	int ret = 0;

	pthread_mutex_lock(&owner_lock);
	if (owned)
		ret = -EBUSY;
	else
		owned = 1;
	pthread_mutex_unlock(&owner_lock);
	return ret;
}

static void give_up_ownership(void)
{
	pthread_mutex_lock(&owner_lock);
	owned = 0;
	pthread_mutex_unlock(&owner_lock);
}

int stop_signal_open_fd(int wfd, int ignore_sigpipe)
{
	int ret = take_ownership();

	if (ret)
		return ret;
	caught = 0;
	notify_fd = wfd;
	ret = install(ignore_sigpipe);
	if (ret) {
		notify_fd = -1;
		give_up_ownership();
	}
	return ret;
}

int stop_signal_open(int ignore_sigpipe)
{
	int p[2], ret;

	/* pipe + fcntl rather than pipe2: the tool also builds on macOS. A
	 * pipe of our own until ownership is ours: a second caller must not
	 * overwrite the owner's. */
	if (pipe(p) < 0)
		return -errno;
	ret = set_nonblock_cloexec(p[0]);
	if (!ret)
		ret = set_nonblock_cloexec(p[1]);
	if (!ret)
		ret = stop_signal_open_fd(p[1], ignore_sigpipe);
	if (ret) {
		close(p[0]);
		close(p[1]);
		return ret;
	}
	own_pipe[0] = p[0];
	own_pipe[1] = p[1];
	return p[0];
}

int stop_signal_caught(void)
{
	return caught;
}

const char *stop_signal_name(void)
{
	for (size_t i = 0; i < NSTOP; i++)
		if (caught == sigs[i])
			return stop_names[i];
	return "no signal";
}

void stop_signal_set_status_fd(int fd, const char *text)
{
	size_t n = 0;

	status_len = 0; /* a handler running now writes nothing */
	if (text) {
		n = strlen(text);
		if (n > sizeof(status) - 1)
			n = sizeof(status) - 1;
		memcpy(status, text, n);
		status[n++] = '\n';
	}
	status_fd = fd;
	status_len = (sig_atomic_t)n;
}

void stop_signal_set_status(const char *line)
{
	stop_signal_set_status_fd(STDERR_FILENO, line);
}

void stop_signal_close(void)
{
	pthread_mutex_lock(&owner_lock);
	if (owned) {
		restore();
		status_len = 0;
		notify_fd = -1;
		owned = 0;
	}
	pthread_mutex_unlock(&owner_lock);
	for (int i = 0; i < 2; i++)
		if (own_pipe[i] >= 0) {
			close(own_pipe[i]);
			own_pipe[i] = -1;
		}
}

/* SPDX-License-Identifier: MIT */
/* Stop and status signals (stop_signal.h). */
#include "stop_signal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static const int stop_sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
static const char *const stop_names[] = {"SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"};

static int stop_pipe[2] = {-1, -1};
static volatile sig_atomic_t caught;
/* Written by stop_signal_set_status before a handler can read it. */
static char status[256];
static volatile sig_atomic_t status_len;

static void on_stop(int sig)
{
	int saved = errno;
	char c = 0;

	caught = sig;
	if (write(stop_pipe[1], &c, 1) < 0) {
		/* full: a wake-up is pending already */
	}
	errno = saved;
}

static void on_status(int sig)
{
	int saved = errno;

	(void)sig;
	if (status_len > 0 && write(STDERR_FILENO, status, (size_t)status_len) < 0) {
		/* nowhere to say it */
	}
	errno = saved;
}

static int handle(int sig, void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL) < 0 ? -errno : 0;
}

int stop_signal_open(int ignore_sigpipe)
{
	int ret = 0;

	/* pipe + fcntl rather than pipe2: the tool also builds on macOS */
	if (pipe(stop_pipe) < 0)
		return -errno;
	for (int i = 0; i < 2; i++) {
		int fl = fcntl(stop_pipe[i], F_GETFL);

		if (fl < 0 || fcntl(stop_pipe[i], F_SETFL, fl | O_NONBLOCK) < 0 ||
		    fcntl(stop_pipe[i], F_SETFD, FD_CLOEXEC) < 0)
			return -errno;
	}
	for (size_t i = 0; ret == 0 && i < sizeof(stop_sigs) / sizeof(stop_sigs[0]); i++)
		ret = handle(stop_sigs[i], on_stop);
	if (ret == 0)
		ret = handle(SIGUSR1, on_status);
	if (ret == 0)
		ret = handle(SIGUSR2, on_status);
	if (ret == 0)
		ret = handle(SIGALRM, SIG_IGN);
	if (ret == 0 && ignore_sigpipe)
		ret = handle(SIGPIPE, SIG_IGN);
	return ret ? ret : stop_pipe[0];
}

int stop_signal_caught(void)
{
	return caught;
}

const char *stop_signal_name(void)
{
	for (size_t i = 0; i < sizeof(stop_sigs) / sizeof(stop_sigs[0]); i++)
		if (caught == stop_sigs[i])
			return stop_names[i];
	return "no signal";
}

void stop_signal_set_status(const char *line)
{
	size_t n = 0;

	status_len = 0; /* a handler running now writes nothing */
	if (line) {
		n = strlen(line);
		if (n > sizeof(status) - 1)
			n = sizeof(status) - 1;
		memcpy(status, line, n);
		status[n++] = '\n';
	}
	status_len = (sig_atomic_t)n;
}

void stop_signal_close(void)
{
	for (int i = 0; i < 2; i++)
		if (stop_pipe[i] >= 0) {
			close(stop_pipe[i]);
			stop_pipe[i] = -1;
		}
}

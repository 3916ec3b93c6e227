/* SPDX-License-Identifier: MIT */
/* SIGINT/SIGTERM delivered through a self-pipe. */
#include "stop_signal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static int stop_pipe[2] = {-1, -1};
static volatile sig_atomic_t caught;

static void on_signal(int sig)
{
	int saved = errno;
	char c = 0;

	caught = sig;
	if (write(stop_pipe[1], &c, 1) < 0) {
		/* full: a wake-up is pending already */
	}
	errno = saved;
}

int stop_signal_open(int ignore_sigpipe)
{
	struct sigaction sa;

	/* pipe + fcntl rather than pipe2: the tool also builds on macOS */
	if (pipe(stop_pipe) < 0)
		return -errno;
	for (int i = 0; i < 2; i++) {
		int fl = fcntl(stop_pipe[i], F_GETFL);

		if (fl < 0 || fcntl(stop_pipe[i], F_SETFL, fl | O_NONBLOCK) < 0 ||
		    fcntl(stop_pipe[i], F_SETFD, FD_CLOEXEC) < 0)
			return -errno;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
		return -errno;
	if (ignore_sigpipe) {
		sa.sa_handler = SIG_IGN;
		if (sigaction(SIGPIPE, &sa, NULL) < 0)
			return -errno;
	}
	return stop_pipe[0];
}

int stop_signal_caught(void)
{
	return caught;
}

void stop_signal_close(void)
{
	for (int i = 0; i < 2; i++)
		if (stop_pipe[i] >= 0) {
			close(stop_pipe[i]);
			stop_pipe[i] = -1;
		}
}

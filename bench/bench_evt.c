/* SPDX-License-Identifier: MIT */
/* Thread-to-thread wake-up used for the raw floor and the back channel. */
#include "bench_evt.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/eventfd.h>
#endif

#ifndef __linux__
static int nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ? -errno : 0;
}
#endif

int bench_evt_init(struct bench_evt *e)
{
#ifdef __linux__
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	e->rfd = e->wfd = fd;
	return 0;
#else
	int p[2];

	if (pipe(p) < 0)
		return -errno;
	if (nonblock(p[0]) || nonblock(p[1])) {
		int err = -errno;

		close(p[0]);
		close(p[1]);
		return err;
	}
	e->rfd = p[0];
	e->wfd = p[1];
	return 0;
#endif
}

void bench_evt_fini(struct bench_evt *e)
{
	if (e->wfd >= 0 && e->wfd != e->rfd)
		close(e->wfd);
	if (e->rfd >= 0)
		close(e->rfd);
	e->rfd = e->wfd = -1;
}

int bench_evt_signal(const struct bench_evt *e)
{
	uint64_t one = 1;
	/* An eventfd takes exactly 8 bytes; a pipe needs only one. */
#ifdef __linux__
	size_t len = sizeof(one);
#else
	size_t len = 1;
#endif
	ssize_t n;

	do
		n = write(e->wfd, &one, len);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno != EAGAIN) /* EAGAIN: already readable, fine */
		return -errno;
	return 0;
}

int bench_poll_in(int fd, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ETIMEDOUT;
	return (p.revents & POLLIN) ? 0 : -EIO;
}

int bench_evt_wait(const struct bench_evt *e, int timeout_ms)
{
	uint64_t buf[8];
	ssize_t n;

	for (;;) {
		int rc = bench_poll_in(e->rfd, timeout_ms);

		if (rc)
			return rc;
		n = read(e->rfd, buf, sizeof(buf));
		if (n > 0)
			return 0;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		/* Spurious readiness: poll again. */
	}
}

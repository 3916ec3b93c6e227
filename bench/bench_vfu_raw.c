/* SPDX-License-Identifier: MIT */
/* Raw floors between two processes: socket and eventfd ping-pong. */
#define _GNU_SOURCE
#include "bench_vfu_raw.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_evt.h"
#include "bench_pingpong.h"
#include "bench_util.h"
#include "bench_vfu_proc.h"
#include "vu_poll.h"

#define HDR 16u /* the vfio-user header: what RAW_SPLIT reads first */

/* ---- socket ping-pong ---- */

/* The first piece of a request with @pass attached (SCM_RIGHTS), as a
 * DMA_MAP passes its memfd; then send_all does the rest. */
static ssize_t send_with_fd(int fd, const uint8_t *p, size_t len, int pass)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = (void *)p, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c;
	ssize_t n;

	memset(&u, 0, sizeof(u));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &pass, sizeof(int));
	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

static int send_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int recv_all(int fd, uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = recv(fd, p, len, 0);

		if (n == 0)
			return -ECONNRESET;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int raw_send(int fd, const void *p, size_t len, int pass)
{
	size_t sent = 0;

	if (pass >= 0) {
		ssize_t n = send_with_fd(fd, p, len, pass);

		if (n < 0)
			return (int)n;
		sent = (size_t)n;
	}
	return send_all(fd, (const uint8_t *)p + sent, len - sent);
}

int raw_recv(int fd, void *p, size_t len)
{
	return recv_all(fd, p, len);
}

struct try_recv {
	int fd;
	uint8_t *p;
	size_t len;
};

static ssize_t try_recv(void *ctx)
{
	struct try_recv *t = ctx;
	ssize_t n = recv(t->fd, t->p, t->len, MSG_DONTWAIT);

	if (n == 0)
		return -ECONNRESET;
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -EAGAIN : -errno;
	return n;
}

/* recv_all with upci's client's adaptive polling (vu_poll.c) before each sleep. */
static int recv_polled(int fd, uint8_t *p, size_t len, struct vu_poll *poll)
{
	int64_t t0 = vu_poll_now_ns();

	while (len) {
		struct try_recv t = {.fd = fd, .p = p, .len = len};
		ssize_t n = vu_poll_spin(poll, t0, try_recv, &t);

		if (n == -EAGAIN) {
			int rc = bench_poll_in(fd, -1);

			if (rc)
				return rc;
			n = try_recv(&t);
			if (n >= 0)
				vu_poll_slept(poll, t0);
			if (n == -EAGAIN)
				continue;
		}
		if (n < 0)
			return (int)n;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* recv_all by recvmsg with a control buffer; fds that come are closed. */
static int recv_all_fds(int fd, uint8_t *p, size_t len)
{
	while (len) {
		union {
			char buf[CMSG_SPACE(sizeof(int) * 8)];
			struct cmsghdr align;
		} ctl;
		struct iovec iov = {.iov_base = p, .iov_len = len};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
				    .msg_controllen = sizeof(ctl.buf)};
		ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? -ECONNRESET : -errno;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
				for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
					int f;

					memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(f));
					close(f);
				}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One message of @len bytes, read the way @mode says. */
static int recv_msg(int fd, enum raw_mode mode, uint8_t *p, size_t len)
{
	int rc;

	if (mode == RAW_PLAIN)
		return recv_all(fd, p, len);
	if (mode == RAW_FDS)
		return recv_all_fds(fd, p, len);
	/* No timeout: a benchmark that is gone reads as EOF, and the peer
	 * dies with it anyway. */
	rc = bench_poll_in(fd, -1);
	if (rc == 0)
		rc = recv_all(fd, p, HDR);
	if (rc == 0 && len > HDR)
		rc = recv_all(fd, p + HDR, len - HDR);
	return rc;
}

/* As a device's interrupt reaches the client: one eventfd write. */
static int notify(int fd)
{
	uint64_t one = 1;

	return write(fd, &one, sizeof(one)) == (ssize_t)sizeof(one) ? 0 : -errno;
}

/* The peer: answer every request until the benchmark closes its end. */
static __attribute__((noreturn)) void echo_peer(const struct raw_sock *r, int fd)
{
	for (;;) {
		for (unsigned i = 0; i < r->nshape; i++) {
			int rc = recv_msg(fd, r->mode, r->buf, r->req[i]);

			if (rc == -ECONNRESET && i == 0)
				_exit(0); /* EOF between ops: done */
			if (rc == 0 && r->notify_fd >= 0)
				rc = notify(r->notify_fd);
			if (rc == 0)
				rc = send_all(fd, r->buf, r->rep[i]);
			if (rc)
				_exit(1);
		}
	}
}

int raw_sock_start(struct raw_sock *r, enum raw_mode mode, const size_t *req, const size_t *rep, unsigned n,
		   int notify_fd)
{
	size_t max = 0;
	int sv[2];
	pid_t pid;

	if (n == 0 || n > RAW_MAX_SHAPES)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	for (unsigned i = 0; i < RAW_MAX_SHAPES; i++)
		r->pass_fd[i] = -1;
	r->mode = mode;
	r->notify_fd = notify_fd;
	r->nshape = n;
	for (unsigned i = 0; i < n; i++) {
		if (req[i] < HDR || rep[i] < HDR)
			return -EINVAL;
		r->req[i] = req[i];
		r->rep[i] = rep[i];
		max = req[i] > max ? req[i] : max;
		max = rep[i] > max ? rep[i] : max;
	}
	r->buf = calloc(1, max);
	if (!r->buf)
		return -ENOMEM;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		int e = -errno;

		free(r->buf);
		return e;
	}
	pid = vfu_proc_fork();
	if (pid == 0) {
		int keep[] = {sv[1], notify_fd};

		vfu_proc_close_fds(keep, notify_fd >= 0 ? 2 : 1);
		echo_peer(r, sv[1]);
	}
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		free(r->buf);
		return pid;
	}
	r->peer = pid;
	r->fd = sv[0];
	return 0;
}

int raw_sock_loop(void *ctx, uint64_t iters)
{
	struct raw_sock *r = ctx;

	for (uint64_t k = 0; k < iters; k++) {
		for (unsigned i = 0; i < r->nshape; i++) {
			int rc = raw_send(r->fd, r->buf, r->req[i], r->pass_fd[i]);

			if (rc == 0 && r->poll)
				rc = recv_polled(r->fd, r->buf, r->rep[i], r->poll);
			else if (rc == 0)
				rc = recv_msg(r->fd, RAW_PLAIN, r->buf, r->rep[i]);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int raw_sock_stop(struct raw_sock *r)
{
	int st = 0;

	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	if (r->peer > 0)
		st = vfu_proc_wait(r->peer);
	r->peer = 0;
	free(r->buf);
	r->buf = NULL;
	if (st < 0)
		return st;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

/* ---- eventfd ping-pong between processes ---- */

/* Shared between A and B; lat[] follows. */
struct evt_shm {
	_Atomic int64_t t0;
	int64_t lat[];
};

static __attribute__((noreturn)) void evt_side_b(struct evt_shm *m, const struct bench_evt *ping,
						  const struct bench_evt *pong, unsigned total)
{
	for (unsigned i = 0; i < total; i++) {
		int rc = bench_evt_wait(ping, PINGPONG_TIMEOUT_MS);
		int64_t t1 = bench_now_ns();

		if (rc)
			_exit(1);
		m->lat[i] = t1 - atomic_load(&m->t0);
		if (bench_evt_signal(pong))
			_exit(1);
	}
	_exit(0);
}

int raw_evt_run(unsigned skip, unsigned rounds, int64_t *lat)
{
	unsigned total = skip + rounds;
	size_t len = sizeof(struct evt_shm) + (size_t)total * sizeof(int64_t);
	struct bench_evt ping = {-1, -1}, pong = {-1, -1};
	struct evt_shm *m;
	int rc, st;
	pid_t pid;

	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -errno;
	atomic_init(&m->t0, 0);
	rc = bench_evt_init(&ping);
	if (rc == 0)
		rc = bench_evt_init(&pong);
	if (rc)
		goto out;
	pid = vfu_proc_fork();
	if (pid == 0) {
		int keep[] = {ping.rfd, ping.wfd, pong.rfd, pong.wfd};

		vfu_proc_close_fds(keep, 4);
		evt_side_b(m, &ping, &pong, total);
	}
	if (pid < 0) {
		rc = pid;
		goto out;
	}
	for (unsigned i = 0; i < total && rc == 0; i++) {
		atomic_store(&m->t0, bench_now_ns());
		rc = bench_evt_signal(&ping);
		if (rc == 0)
			rc = bench_evt_wait(&pong, PINGPONG_TIMEOUT_MS);
	}
	/* On our failure B gives up after its own wait times out. */
	st = vfu_proc_wait(pid);
	if (rc == 0 && st < 0)
		rc = st;
	else if (rc == 0 && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
		rc = -EIO;
	if (rc == 0)
		memcpy(lat, m->lat + skip, (size_t)rounds * sizeof(*lat));
out:
	bench_evt_fini(&pong);
	bench_evt_fini(&ping);
	munmap(m, len);
	return rc;
}

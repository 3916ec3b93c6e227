/* SPDX-License-Identifier: MIT */
/*
 * The fast way in: a reply of known size (REGION_READ/WRITE, DMA_MAP...) is
 * received with ONE recvmsg straight into the caller's buffers (header,
 * fixed part, data), tried without waiting for a short adaptive window
 * and then after a poll that bounds the wait (see recv_iov for why poll
 * rather than a blocking recvmsg). The transport's generic
 * receive (header and payload apart, payload copied) costs more.
 *
 * Whatever else comes first (a server DMA request, an error reply, a reply
 * of another size) is completed here into a struct vfu_msg with the same
 * rules as vfu_tran_recv (header checked before the payload is read, fds
 * bounded and closed on every error) and handed to the general loop. The
 * stream is left at a message boundary, so the transport takes over for
 * the next message.
 *
 * One recvmsg may return more than the first message when the server sent
 * a message shorter than the reply we expected AND another one right
 * behind it without waiting for us. A server that only sends requests
 * while handling ours (upci serve, libvfio-user's synchronous DMA) never
 * does; if one does, the bytes cannot be put back and the connection is
 * dropped with -EPROTO.
 */
#define _GNU_SOURCE /* MSG_CMSG_CLOEXEC */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "msg.h"
#include "vu.h"

/* As many fds as the kernel passes in one message (SCM_MAX_FD): we, not
 * the kernel, decide what to close. */
#define RECV_CMSG_FDS 253u

struct fds {
	int fd[VFU_MSG_MAX_FDS];
	size_t nr, max;
	bool rejected;
};

static void fds_close(struct fds *f)
{
	for (size_t i = 0; i < f->nr; i++)
		close(f->fd[i]);
	f->nr = 0;
}

static void fds_collect(struct fds *f, struct msghdr *mh)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		size_t n;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len < CMSG_LEN(0))
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
			if (f->nr < f->max) {
				f->fd[f->nr++] = fd;
			} else {
				close(fd);
				f->rejected = true;
			}
		}
	}
	if (mh->msg_flags & MSG_CTRUNC)
		f->rejected = true;
}

/* One recvmsg without waiting: what vu_poll_spin tries. */
struct try_recv {
	int sock;
	struct msghdr *mh;
	size_t ctl_len;
};

static ssize_t try_recv(void *ctx)
{
	struct try_recv *t = ctx;
	ssize_t r;

	t->mh->msg_controllen = t->ctl_len; /* recvmsg shrank it to what came */
	t->mh->msg_flags = 0;
	r = recvmsg(t->sock, t->mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (r >= 0)
		return r;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return -EAGAIN;
	return -errno;
}

/*
 * One recvmsg into @iov: tried first for @pp's window (adaptive polling,
 * see vu_poll.h; @pp NULL: not at all), then after poll() says there is
 * input. Not a blocking recvmsg: a task asleep in recvmsg is woken by
 * every wake-up of the socket, also the "space freed" one the server's
 * read of our request causes, which costs the server a cross-CPU wake-up
 * (an IPI, a VM exit on a VM) in the middle of its work; a poll waiter is
 * woken for input only. Measured on a 2-vCPU VM: REGION_READ rate 0.65x
 * -> 0.80x of the raw ping-pong (median of 10 interleaved runs each).
 * Each sleep is bounded by @timeout_ms.
 */
static ssize_t recv_iov(int sock, struct iovec *iov, size_t n, struct fds *f, int timeout_ms, struct vu_poll *pp)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * RECV_CMSG_FDS)];
	} ctl;
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = n, .msg_control = ctl.buf};
	struct try_recv t = {.sock = sock, .mh = &mh, .ctl_len = sizeof(ctl)};
	int64_t t0 = pp ? vu_poll_now_ns() : 0;
	ssize_t r = pp ? vu_poll_spin(pp, t0, try_recv, &t) : -EAGAIN;

	while (r == -EAGAIN) {
		struct pollfd p = {.fd = sock, .events = POLLIN};
		int k = poll(&p, 1, timeout_ms);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			return -ETIMEDOUT;
		r = try_recv(&t); /* -EAGAIN: nothing after all, wait again */
		if (r >= 0 && pp)
			vu_poll_slept(pp, t0);
	}
	if (r >= 0)
		fds_collect(f, &mh);
	return r;
}

/* Fill @buf[0..len) completely: the rest of a message already begun. */
static int recv_rest(int sock, uint8_t *buf, size_t len, struct fds *f, int timeout_ms)
{
	while (len) {
		struct iovec iov = {.iov_base = buf, .iov_len = len};
		ssize_t r = recv_iov(sock, &iov, 1, f, timeout_ms, NULL);

		if (r == 0)
			return -ECONNRESET; /* gone in the middle of a message */
		if (r < 0)
			return (int)r;
		buf += r;
		len -= (size_t)r;
	}
	return 0;
}

/* Copy bytes [from, from+len) of the message as it landed in @iov. */
static void gather(const struct iovec *iov, size_t n, size_t from, uint8_t *out, size_t len)
{
	for (size_t i = 0; i < n && len; i++) {
		size_t l = iov[i].iov_len;

		if (from >= l) {
			from -= l;
			continue;
		}
		l -= from;
		if (l > len)
			l = len;
		memcpy(out, (const uint8_t *)iov[i].iov_base + from, l);
		out += l;
		len -= l;
		from = 0;
	}
}

/* We hold @got bytes of a message other than the expected reply: read the
 * rest into @m (rules of vfu_tran_recv). */
static int complete(struct vu_conn *c, int sock, const struct iovec *iov, size_t n, size_t got, struct fds *f,
		    struct vfu_msg *m)
{
	uint8_t raw[VFU_HDR_SIZE];
	bool bad_flags = false;
	int rc;

	gather(iov, n, 0, raw, got < sizeof(raw) ? got : sizeof(raw));
	if (got < sizeof(raw)) {
		rc = recv_rest(sock, raw + got, sizeof(raw) - got, f, c->timeout_ms);
		if (rc)
			return rc;
		got = sizeof(raw);
	}
	memcpy(&m->hdr, raw, sizeof(raw));
	rc = vfu_hdr_check(&m->hdr, c->t->max_msg_size);
	if (rc == -EINVAL)
		bad_flags = true; /* the size is sane: read it all, stay in sync */
	else if (rc)
		return rc;
	if (got > m->hdr.msg_size)
		return -EPROTO; /* another message followed: see the top of the file */
	m->len = m->hdr.msg_size - VFU_HDR_SIZE;
	if (m->len) {
		m->payload = malloc(m->len);
		if (!m->payload)
			return -ENOMEM;
		gather(iov, n, VFU_HDR_SIZE, m->payload, got - VFU_HDR_SIZE);
		rc = recv_rest(sock, m->payload + (got - VFU_HDR_SIZE), m->hdr.msg_size - got, f, c->timeout_ms);
		if (rc)
			return rc;
	}
	if (bad_flags || f->rejected)
		return -EINVAL;
	memcpy(m->fds, f->fd, f->nr * sizeof(int));
	m->nr_fds = f->nr;
	f->nr = 0;
	return 0;
}

int vu_recv_into(struct vu_conn *c, const struct vfu_hdr *req, const struct iovec *into, size_t ninto,
		 struct vfu_msg *m)
{
	struct iovec iov[1 + VU_INTO_MAX];
	struct vfu_hdr h;
	struct fds f = {.nr = 0, .max = c->t->max_recv_fds, .rejected = false};
	size_t want = VFU_HDR_SIZE;
	int sock = vfu_tran_pollfd(c->t);
	ssize_t got;
	int rc;

	vfu_msg_init(m);
	if (ninto > VU_INTO_MAX)
		return -EINVAL; /* iov[] holds VU_INTO_MAX destinations */
	iov[0].iov_base = &h;
	iov[0].iov_len = sizeof(h);
	for (size_t i = 0; i < ninto; i++) {
		iov[1 + i] = into[i];
		want += into[i].iov_len;
	}
	got = recv_iov(sock, iov, 1 + ninto, &f, c->timeout_ms, &c->poll);
	if (got == 0)
		rc = -ENOTCONN; /* closed between messages */
	else if (got < 0)
		rc = (int)got;
	else if ((size_t)got == want && f.nr == 0 && !f.rejected && h.msg_size == want && h.msg_id == req->msg_id &&
		 h.cmd == req->cmd && h.flags == VFU_HDR_F_TYPE_REPLY)
		return 1; /* the common case: exactly the reply, already in place */
	else
		rc = complete(c, sock, iov, 1 + ninto, (size_t)got, &f, m);
	if (rc == -EINVAL) {
		/* Dropped whole, like vfu_tran_recv: header kept, no payload. */
		struct vfu_hdr keep = m->hdr;

		fds_close(&f);
		vfu_msg_release(m);
		m->hdr = keep;
		return rc;
	}
	if (rc) {
		fds_close(&f);
		vfu_msg_release(m);
	}
	return rc;
}

/* SPDX-License-Identifier: MIT */
/*
 * The client's connection: connect, VERSION negotiation, and request/reply
 * with one deadline per call. While a reply is awaited the server may ask
 * for client memory (DMA_READ/DMA_WRITE): those requests are answered in
 * the same loop, so a device that DMAs while handling our request never
 * deadlocks; between calls the service thread answers them (vu_svc.c).
 *
 * The deadline covers everything a call waits for: the socket (held by
 * the service thread for a moment), sending, every byte of the reply
 * however slowly it trickles in, and the server's requests answered
 * meanwhile, however many keep coming.
 *
 * A reply that cannot belong to our request (wrong id or command), a
 * stream that lost sync, a timeout or a vanished server end the
 * connection: the socket is shut down so the server can take its next
 * client, and every later call fails with -ENODEV instead of waiting
 * again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "msg.h"
#include "vu.h"

/* UPCI_VFU_POSTED_WRITES: 1 on, 0 or unset off. */
static bool posted_from_env(void)
{
	const char *e = getenv(VU_POSTED_ENV);

	if (!e || !*e || strcmp(e, "0") == 0)
		return false;
	if (strcmp(e, "1") == 0)
		return true;
	LOG_WARN("%s=\"%s\": expected 0 or 1; BAR writes wait for their reply", VU_POSTED_ENV, e);
	return false;
}

/* UPCI_VFU_TIMEOUT_MS if it is a positive number of milliseconds. */
static int timeout_from_env(void)
{
	const char *e = getenv(VU_TIMEOUT_ENV);
	char *end;
	long v;

	if (!e || !*e)
		return VU_TIMEOUT_MS_DEFAULT;
	errno = 0;
	v = strtol(e, &end, 10);
	if (errno || *end || v <= 0 || v > INT_MAX) {
		LOG_WARN("%s=\"%s\" is not a positive number of milliseconds; using %d", VU_TIMEOUT_ENV, e,
			 VU_TIMEOUT_MS_DEFAULT);
		return VU_TIMEOUT_MS_DEFAULT;
	}
	return (int)v;
}

/* UPCI_VFU_POLL_US, or the default (warned about when the value is bad). */
static uint32_t poll_from_env(void)
{
	uint32_t us;

	if (vu_poll_env_us(&us) != 0)
		LOG_WARN("%s=\"%s\" is not a number of microseconds from 0 to %u; using %u", VU_POLL_ENV,
			 getenv(VU_POLL_ENV), VU_POLL_US_MAX, us);
	return us;
}

/* The transport's errors, in upci's terms. */
static int map_lost(int rc)
{
	switch (rc) {
	case -EAGAIN:
	case -ETIMEDOUT:
		return -ETIMEDOUT;
	case -ENOTCONN:
	case -ECONNRESET:
	case -EPIPE:
		return -ECONNRESET;
	case -EMSGSIZE:
	case -EPROTO:
	case -EBADMSG:
		return -EPROTO;
	default:
		return rc;
	}
}

/*
 * The connection is unusable: say why once, end it, fail what follows.
 * The socket is shut down, not closed: the server sees the end at once,
 * and the fd stays ours (the service thread may be polling it) until
 * vu_conn_close. @io is held.
 */
static int conn_lost(struct vu_conn *c, int rc, const char *what)
{
	rc = map_lost(rc);
	LOG_ERR("vfio-user %s: %s: %s; the connection is closed", c->name, what, upci_strerror(rc));
	c->dead = rc;
	(void)shutdown(vfu_tran_pollfd(c->t), SHUT_RDWR);
	if (c->t2)
		(void)shutdown(vfu_tran_pollfd(c->t2), SHUT_RDWR);
	return rc;
}

/* Codes a call of this backend returns with a meaning of its own (the
 * connection is gone, retry, interrupted): from the server they would
 * mislead the caller. */
static bool local_meaning(uint32_t e)
{
	switch (e) {
	case EINTR:
	case EAGAIN:
	case ETIMEDOUT:
	case ECONNRESET:
	case ENOTCONN:
	case EPIPE:
	case ENODEV:
	case EPROTO:
		return true;
	default:
		return false;
	}
}

/* The highest errno the system defines: beyond it a "code" means nothing. */
#ifdef EHWPOISON
#define VU_ERRNO_MAX EHWPOISON
#else
#define VU_ERRNO_MAX 4095
#endif

/*
 * The errno of an error reply, as the caller gets it: the server's own
 * (a device's EINVAL for a bad width stays EINVAL), except where it would
 * mislead: 0, a value no errno has, or a code of local_meaning() is EIO.
 */
static int server_errno(const struct vu_conn *c, uint16_t cmd, uint32_t e)
{
	if (e != 0 && e <= VU_ERRNO_MAX && !local_meaning(e))
		return -(int)e;
	LOG_WARN("vfio-user %s: the server failed %s with error %u, which would mislead here; returning EIO",
		 c->name, vfu_cmd_name(cmd), e);
	return -EIO;
}

static bool is_reply(const struct vfu_hdr *h)
{
	return (h->flags & VFU_HDR_F_TYPE_MASK) == VFU_HDR_F_TYPE_REPLY;
}

/* Replies whose payload starts with argsz: the server may send more than
 * the fixed part (the spec's argsz rule); the rest is not ours to read. */
static bool has_argsz(uint16_t cmd)
{
	return cmd == VFU_CMD_DMA_UNMAP || cmd == VFU_CMD_DEVICE_GET_INFO || cmd == VFU_CMD_DEVICE_GET_REGION_INFO ||
	       cmd == VFU_CMD_DEVICE_GET_IRQ_INFO;
}

/* Scatter a success reply received the slow way into the caller's buffers. */
static int scatter(struct vu_conn *c, struct vfu_msg *rep, const struct iovec *into, size_t ninto)
{
	size_t want = 0, at = 0;

	for (size_t i = 0; i < ninto; i++)
		want += into[i].iov_len;
	if (rep->len != want && !(rep->len > want && has_argsz(rep->hdr.cmd))) {
		LOG_ERR("vfio-user %s: %s reply of %zu bytes, expected %zu", c->name, vfu_cmd_name(rep->hdr.cmd),
			rep->len, want);
		return -EPROTO;
	}
	for (size_t i = 0; i < ninto; i++) {
		memcpy(into[i].iov_base, rep->payload + at, into[i].iov_len);
		at += into[i].iov_len;
	}
	return 0;
}

/* Send one request (header in *@req); a failure of the link loses it. */
static int send_request(struct vu_conn *c, struct vfu_hdr *req, uint16_t cmd, uint32_t flags,
			const struct iovec *iov, size_t iovcnt, const int *fds, size_t nfds)
{
	int rc;

	vfu_hdr_request(req, c->next_id++, cmd, flags);
	rc = vfu_tran_send(c->t, req, iov, iovcnt, fds, nfds);
	if (rc == -EINVAL || rc == -EBADF)
		return rc; /* refused before anything was sent: our bug, not the link's */
	return rc ? conn_lost(c, rc, "sending a request") : 0;
}

/* Milliseconds left before @deadline, never negative. */
static int ms_left(int64_t deadline)
{
	int64_t left = deadline - vfu_tran_now_ms();

	return left <= 0 ? 0 : (left > INT_MAX ? INT_MAX : (int)left);
}

/* Lock @m by @deadline (-1: whenever). 0 or -ETIMEDOUT. */
static int lock_by(pthread_mutex_t *m, int64_t deadline)
{
	struct timespec ts;
	int left;

	if (deadline < 0)
		return -pthread_mutex_lock(m);
	/* timedlock takes CLOCK_REALTIME: the time left, from now. */
	left = ms_left(deadline);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += left / 1000;
	ts.tv_nsec += (long)(left % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return pthread_mutex_timedlock(m, &ts) == 0 ? 0 : -ETIMEDOUT;
}

/* Wait for @io, telling the service thread to let go of it. */
static int lock_io(struct vu_conn *c, int64_t deadline)
{
	int rc;

	if (pthread_mutex_trylock(&c->io) == 0)
		return 0; /* the usual case: one atomic operation */
	atomic_store(&c->want_io, true);
	rc = lock_by(&c->io, deadline);
	atomic_store(&c->want_io, false);
	return rc;
}

/*
 * Begin a call that must end by @deadline: hold the socket, count the
 * call, bound every wait of the transport. Return: 0 (then conn_leave);
 * -ETIMEDOUT (the service thread held the socket to the end: it is
 * receiving a server request that trickles in, and drops the connection
 * itself when that request misses its own deadline); -ENODEV, or the
 * reason of a loss nobody was told of yet.
 */
static int conn_enter(struct vu_conn *c, int64_t deadline)
{
	int rc = lock_io(c, deadline);

	if (rc)
		return rc;
	if (c->dead) {
		rc = c->lost_unseen ? c->dead : -ENODEV;
		c->lost_unseen = false;
		pthread_mutex_unlock(&c->io);
		return rc;
	}
	atomic_fetch_add_explicit(&c->calls, 1, memory_order_relaxed);
	vfu_tran_set_deadline(c->t, deadline);
	if (c->t2 && c->nmaps && lock_by(&c->dma_lock, deadline) == 0) {
		/* On a twin socket the service thread touches mapped memory
		 * under dma_lock only, not @io: passing through it orders what
		 * the caller wrote before the device DMA this call starts, and
		 * what earlier device DMA wrote before what the caller does
		 * next, in the eyes of ThreadSanitizer too (the sockets in
		 * between are an order it does not know). A thread stuck in
		 * a send holds it: the call goes on, and meets its deadline. */
		pthread_mutex_unlock(&c->dma_lock);
	}
	return 0;
}

static void conn_leave(struct vu_conn *c)
{
	pthread_mutex_unlock(&c->io);
}

/*
 * A server request @rc/@m from @t, not a reply: answered from memory, or
 * refused when the transport dropped it whole (@rc -EINVAL: bad flags or
 * fds). @m is released. Return: 0, or the transport's error (the link is
 * lost: the caller says so).
 */
static int answer(struct vu_conn *c, struct vfu_tran *t, struct vfu_msg *m, int rc)
{
	rc = rc == -EINVAL ? vfu_tran_reply(t, &m->hdr, -EINVAL, NULL, 0, NULL, 0) : vu_dma_serve(c, t, m);
	vfu_msg_release(m);
	return rc;
}

/* Judge the reply @rep to @req (received whole) and release it unless it
 * is handed to the caller (@exact false, success). */
static int judge(struct vu_conn *c, const struct vfu_hdr *req, size_t max_fds, bool exact, const struct iovec *into,
		 size_t ninto, struct vfu_msg *rep)
{
	int rc = vfu_msg_check_reply(&rep->hdr, req, rep->payload, rep->len);

	if (rc == -EBADMSG) {
		vfu_msg_release(rep);
		return conn_lost(c, rc, "a reply that does not answer the request");
	}
	if (rep->hdr.flags & VFU_HDR_F_ERROR) {
		/* An error reply, whatever it carries (libvfio-user sends a
		 * payload with some; the spec says header only). */
		rc = server_errno(c, req->cmd, rep->hdr.error);
	} else if (rc == 0 && rep->nr_fds > max_fds) {
		LOG_ERR("vfio-user %s: %s reply carries %zu fds, expected at most %zu", c->name,
			vfu_cmd_name(req->cmd), rep->nr_fds, max_fds);
		rc = -EPROTO;
	} else if (rc) {
		LOG_ERR("vfio-user %s: %s reply of %zu bytes is malformed", c->name, vfu_cmd_name(req->cmd),
			rep->len);
		rc = -EPROTO;
	}
	if (rc == 0 && exact)
		rc = scatter(c, rep, into, ninto);
	if (rc || exact)
		vfu_msg_release(rep); /* also closes any fd it carried */
	return rc;
}

/*
 * Wait for the reply to @req by @deadline, answering the server's requests
 * meanwhile. @exact: the success reply's payload is exactly
 * @into[0..ninto) (no fds); it is then received in place when it comes
 * first, and scattered there when it comes another way (after server
 * requests, or given back to the transport by vu_recv_into).
 */
static int await_reply(struct vu_conn *c, const struct vfu_hdr *req, int64_t deadline, size_t max_fds, bool exact,
		       const struct iovec *into, size_t ninto, struct vfu_msg *rep)
{
	for (bool first = true;; first = false) {
		int left = ms_left(deadline);
		int rc;

		if (first && exact) {
			rc = vu_recv_into(c, req, into, ninto, rep, left);
			if (rc == 1)
				return 0;
		} else {
			rc = vfu_tran_recv(c->t, rep, left);
		}
		if (rc == -EINVAL && is_reply(&rep->hdr)) {
			/* Dropped whole (bad flags, too many fds); the stream is in sync. */
			if (rep->hdr.msg_id != req->msg_id || rep->hdr.cmd != req->cmd)
				return conn_lost(c, -EPROTO, "a malformed message that answers nothing we asked");
			LOG_ERR("vfio-user %s: malformed %s reply (flags or fds)", c->name, vfu_cmd_name(req->cmd));
			return -EPROTO;
		}
		if (rc && rc != -EINVAL)
			return conn_lost(c, rc, rc == -EAGAIN || rc == -ETIMEDOUT ? "no reply in time" : "waiting for a reply");
		if (is_reply(&rep->hdr))
			return judge(c, req, max_fds, exact, into, ninto, rep);
		rc = answer(c, c->t, rep, rc);
		if (rc)
			return conn_lost(c, rc, "answering a server request");
		/* Requests keep coming and no time is left: the reply did not
		 * come in time (one already there was taken just now). */
		if (left == 0)
			return conn_lost(c, -ETIMEDOUT, "server requests until the deadline, no reply");
	}
}

/* One request and, unless @flags has NO_REPLY, its reply (see await_reply). */
static int call(struct vu_conn *c, uint16_t cmd, uint32_t flags, const struct iovec *iov, size_t iovcnt,
		const int *fds, size_t nfds, size_t max_fds, bool exact, const struct iovec *into, size_t ninto,
		struct vfu_msg *rep)
{
	int64_t deadline = vfu_tran_now_ms() + c->timeout_ms;
	struct vfu_hdr req;
	int rc;

	vfu_msg_init(rep);
	rc = conn_enter(c, deadline);
	if (rc)
		return rc;
	rc = send_request(c, &req, cmd, flags, iov, iovcnt, fds, nfds);
	if (rc == 0 && !(flags & VFU_HDR_F_NO_REPLY))
		rc = await_reply(c, &req, deadline, max_fds, exact, into, ninto, rep);
	conn_leave(c);
	return rc;
}

/*
 * Answer the server requests that have arrived on @t, until none is left
 * (0), or a call wants the socket (1, only when @yield), or the link is
 * lost (-errno, *@why says how; the caller ends the connection).
 */
static int drain(struct vu_conn *c, struct vfu_tran *t, bool yield, const char **why)
{
	for (;;) {
		struct vfu_msg m;
		int rc;

		if (yield && atomic_load(&c->want_io))
			return 1;
		/* A request that has begun to arrive has the timeout to end. */
		vfu_tran_set_deadline(t, vfu_tran_now_ms() + c->timeout_ms);
		rc = vfu_tran_recv(t, &m, 0);
		if (rc == -EAGAIN)
			return 0;
		*why = "waiting for server requests";
		if ((rc == 0 || rc == -EINVAL) && is_reply(&m.hdr)) {
			vfu_msg_release(&m);
			*why = "a reply while no request was waiting for one";
			return -EPROTO;
		}
		if (rc == 0 || rc == -EINVAL) {
			*why = "answering a server request";
			rc = answer(c, t, &m, rc);
		}
		if (rc)
			return rc;
	}
}

int vu_conn_serve_pending(struct vu_conn *c)
{
	const char *why;
	int rc;

	if (c->dead)
		return c->dead;
	rc = drain(c, c->t, true, &why);
	if (rc < 0) {
		rc = conn_lost(c, rc, why);
		c->lost_unseen = true; /* no call is there to say so: the next one will */
	}
	return rc;
}

int vu_conn_serve_twin(struct vu_conn *c)
{
	const char *why;
	int rc = drain(c, c->t2, false, &why);

	if (rc >= 0)
		return rc;
	/* The twin socket broke: so did the connection. */
	(void)lock_io(c, -1);
	if (c->dead) {
		rc = c->dead;
	} else {
		rc = conn_lost(c, rc, why);
		c->lost_unseen = true;
	}
	pthread_mutex_unlock(&c->io);
	return rc;
}

int vu_post(struct vu_conn *c, uint16_t cmd, const struct iovec *iov, size_t iovcnt)
{
	struct vfu_msg none;

	return call(c, cmd, VFU_HDR_F_NO_REPLY, iov, iovcnt, NULL, 0, 0, false, NULL, 0, &none);
}

int vu_call(struct vu_conn *c, uint16_t cmd, const struct iovec *iov, size_t iovcnt, const int *fds,
	    size_t nfds, size_t max_fds, struct vfu_msg *rep)
{
	return call(c, cmd, 0, iov, iovcnt, fds, nfds, max_fds, false, NULL, 0, rep);
}

int vu_call_into_fds(struct vu_conn *c, uint16_t cmd, const struct iovec *iov, size_t iovcnt, const int *fds,
		     size_t nfds, const struct iovec *into, size_t ninto)
{
	struct vfu_msg rep;

	return call(c, cmd, 0, iov, iovcnt, fds, nfds, 0, true, into, ninto, &rep);
}

int vu_call_into(struct vu_conn *c, uint16_t cmd, const struct iovec *iov, size_t iovcnt, const struct iovec *into,
		 size_t ninto)
{
	return vu_call_into_fds(c, cmd, iov, iovcnt, NULL, 0, into, ninto);
}

int vu_call_simple(struct vu_conn *c, uint16_t cmd, const void *req, size_t len, const int *fds, size_t nfds)
{
	struct iovec iov = {.iov_base = (void *)req, .iov_len = len};
	struct vfu_msg rep;

	/* No payload in the success reply: the fast path fits. */
	return call(c, cmd, 0, &iov, len ? 1 : 0, fds, nfds, 0, true, NULL, 0, &rep);
}

/* Lowest page size of a pgsizes mask (never below 4 KiB: caps_json checked). */
static uint64_t lowest_page(uint64_t pgsizes)
{
	return pgsizes & (~pgsizes + 1);
}

/*
 * The twin socket the server passed with its VERSION reply as fd
 * @index: its requests and our answers go there from now on. The spec:
 * a server that says it set one up and passed none is inconsistent, and
 * the client must close the connection (-EPROTO).
 */
static int take_twin(struct vu_conn *c, struct vfu_msg *rep, int32_t index)
{
	int fd = index >= 0 ? vfu_msg_take_fd(rep, (size_t)index) : -ENOENT;
	int type = 0, domain = 0, rc;
	socklen_t len = sizeof(type), dlen = sizeof(domain);

	if (fd < 0) {
		LOG_ERR("vfio-user %s: the server set up a twin socket but passed none (fd_index %d)", c->name,
			(int)index);
		return -EPROTO;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dlen) != 0 || type != SOCK_STREAM || domain != AF_UNIX) {
		LOG_ERR("vfio-user %s: the server's twin socket is not a UNIX stream socket", c->name);
		close(fd);
		return -EPROTO;
	}
	rc = vfu_tran_sock_new(fd, &c->t2);
	if (rc) {
		close(fd);
		return rc;
	}
	/* Requests carry no fds; our answers none either. */
	vfu_tran_set_io_timeout(c->t2, c->timeout_ms);
	return vfu_tran_set_limits(c->t2, VU_OUR_MAX_XFER + VFU_MSG_OVERHEAD, 0, 0);
}

static int negotiate(struct vu_conn *c)
{
	struct vfu_caps ours, theirs;
	struct vfu_msg rep;
	struct iovec iov;
	uint8_t *payload = NULL;
	uint16_t major, minor;
	size_t len;
	int rc;

	vfu_caps_default(&ours);
	ours.max_msg_fds = VU_OUR_MAX_MSG_FDS;
	ours.max_data_xfer_size = VU_OUR_MAX_XFER;
	ours.dma_bus_addr = true; /* a server behind a DART can tell us its bus addresses */
	ours.twin_socket = true;  /* its requests on a socket of their own, if it offers one */
	rc = vfu_version_build(VFU_VERSION_MAJOR, VFU_VERSION_MINOR, &ours, &payload, &len);
	if (rc)
		return rc;
	iov.iov_base = payload;
	iov.iov_len = len;
	rc = vu_call(c, VFU_CMD_VERSION, &iov, 1, NULL, 0, 1, &rep);
	free(payload);
	if (rc == -ECONNRESET)
		/* Perhaps busy with another client, perhaps not: a hang-up is not
		 * an EBUSY reply, and only that says "busy". */
		LOG_ERR("vfio-user %s: the server hung up before answering VERSION", c->name);
	if (rc)
		return rc; /* an error reply with EBUSY says so explicitly */
	rc = vfu_version_parse(rep.payload, rep.len, &major, &minor, &theirs);
	if (rc == 0 && (major != VFU_VERSION_MAJOR || minor > VFU_VERSION_MINOR))
		rc = -EPROTO;
	if (rc == 0 && theirs.twin_socket)
		rc = take_twin(c, &rep, theirs.twin_socket_fd_index);
	vfu_msg_release(&rep); /* closes an fd we did not take */
	if (rc) {
		LOG_ERR("vfio-user %s: unusable VERSION reply (%s)", c->name, upci_strerror(rc));
		return -EPROTO;
	}
	c->peer = theirs;
	/* The server's limits bound what we send; ours bound what it sends. */
	c->xfer = (uint32_t)(theirs.max_data_xfer_size < VU_OUR_MAX_XFER ? theirs.max_data_xfer_size
									 : VU_OUR_MAX_XFER);
	c->min_pgsize = lowest_page(theirs.pgsizes);
	rc = vfu_tran_set_limits(c->t, VU_OUR_MAX_XFER + VFU_MSG_OVERHEAD, VU_OUR_MAX_MSG_FDS,
				 theirs.max_msg_fds < VFU_MSG_MAX_FDS ? theirs.max_msg_fds : VFU_MSG_MAX_FDS);
	LOG_DBG("vfio-user %s: server %u.%u, max_msg_fds %u, max_data_xfer_size %llu, pgsizes 0x%llx%s", c->name,
		major, minor, theirs.max_msg_fds, (unsigned long long)theirs.max_data_xfer_size,
		(unsigned long long)theirs.pgsizes, c->t2 ? ", twin socket" : "");
	return rc;
}

int vu_conn_open(struct vu_conn *c, const char *path)
{
	int fd = -1, rc;

	pthread_mutex_init(&c->io, NULL);
	pthread_mutex_init(&c->dma_lock, NULL);
	atomic_init(&c->calls, 0);
	atomic_init(&c->want_io, false);
	c->stop_fd = -1;
	c->svc_on = false;
	c->lost_unseen = false;
	c->t = NULL;
	c->t2 = NULL;
	c->inited = true;
	c->name = path;
	c->timeout_ms = timeout_from_env();
	c->posted = posted_from_env();
	vu_poll_init(&c->poll, poll_from_env(), vu_poll_cpus());
	c->dead = 0;
	c->next_id = 0;
	rc = vfu_sock_connect(path, &fd);
	if (rc)
		return rc; /* -ENOENT: nothing at @path; -ECONNREFUSED: nobody listens */
	rc = vfu_tran_sock_new(fd, &c->t);
	if (rc) {
		close(fd);
		return rc;
	}
	/* Until VERSION is answered we send no fds and receive one: the twin
	 * socket, if the server sets one up. */
	rc = vfu_tran_set_limits(c->t, VU_OUR_MAX_XFER + VFU_MSG_OVERHEAD, 1, 0);
	if (rc == 0) /* the fast path gives back what it did not expect (vu_recv.c) */
		rc = vfu_tran_set_readahead(c->t, true);
	if (rc == 0) { /* every wait polls with the reply timeout: no SO_RCVTIMEO */
		vfu_tran_set_io_timeout(c->t, c->timeout_ms);
		rc = vu_dma_init(c);
	}
	if (rc == 0)
		rc = negotiate(c);
	if (rc) {
		vu_conn_close(c);
		return rc;
	}
	rc = vu_svc_start(c);
	if (rc && c->t2) {
		/* Nobody else reads the twin socket. */
		LOG_ERR("vfio-user %s: no service thread for the twin socket: %s", c->name, upci_strerror(rc));
		vu_conn_close(c);
		return rc;
	}
	if (rc)
		LOG_WARN("vfio-user %s: no service thread (%s): requests the server makes between calls wait "
			 "for the next call", c->name, upci_strerror(rc));
	return 0;
}

void vu_conn_close(struct vu_conn *c)
{
	if (!c->inited)
		return; /* never opened, or closed already */
	vu_svc_stop(c); /* nobody else touches the sockets from here on */
	vfu_tran_close(c->t);
	vfu_tran_close(c->t2);
	c->t = NULL;
	c->t2 = NULL;
	vu_dma_fini(c);
	pthread_mutex_destroy(&c->io);
	pthread_mutex_destroy(&c->dma_lock);
	c->inited = false;
}

/* SPDX-License-Identifier: MIT */
/*
 * The client's connection: connect, VERSION negotiation, and request/reply
 * with a deadline. While a reply is awaited the server may ask for client
 * memory (DMA_READ/DMA_WRITE): those requests are answered in the same
 * loop, so a device that DMAs while handling our request never deadlocks.
 *
 * A reply that cannot belong to our request (wrong id or command), a
 * stream that lost sync, a timeout or a vanished server end the
 * connection: the socket is closed so the server can take its next client,
 * and every later call fails with -ENODEV instead of waiting again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "msg.h"
#include "vu.h"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

/* The connection is unusable: say why once, close it, fail what follows. */
static int conn_lost(struct vu_conn *c, int rc, const char *what)
{
	rc = map_lost(rc);
	LOG_ERR("vfio-user %s: %s: %s; the connection is closed", c->name, what, upci_strerror(rc));
	c->dead = rc;
	vfu_tran_close(c->t);
	c->t = NULL;
	return rc;
}

static bool is_reply(const struct vfu_hdr *h)
{
	return (h->flags & VFU_HDR_F_TYPE_MASK) == VFU_HDR_F_TYPE_REPLY;
}

/* Scatter a success reply received the slow way into the caller's buffers. */
static int scatter(struct vu_conn *c, struct vfu_msg *rep, const struct iovec *into, size_t ninto)
{
	size_t want = 0, at = 0;

	for (size_t i = 0; i < ninto; i++)
		want += into[i].iov_len;
	if (rep->len != want) {
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

	if (c->dead)
		return -ENODEV;
	vfu_hdr_request(req, c->next_id++, cmd, flags);
	rc = vfu_tran_send(c->t, req, iov, iovcnt, fds, nfds);
	if (rc == -EINVAL || rc == -EBADF)
		return rc; /* refused before anything was sent: our bug, not the link's */
	return rc ? conn_lost(c, rc, "sending a request") : 0;
}

/*
 * The request/reply loop. @exact: the success reply's payload is exactly
 * @into[0..ninto) (no fds); it is then received in place when it comes
 * first, and scattered there when it comes another way (after server
 * requests, or given back to the transport by vu_recv_into).
 */
static int call(struct vu_conn *c, uint16_t cmd, const struct iovec *iov, size_t iovcnt, const int *fds,
		size_t nfds, size_t max_fds, bool exact, const struct iovec *into, size_t ninto, struct vfu_msg *rep)
{
	struct vfu_hdr req;
	bool first = true;
	int64_t deadline;
	int rc;

	vfu_msg_init(rep);
	rc = send_request(c, &req, cmd, 0, iov, iovcnt, fds, nfds);
	if (rc)
		return rc;
	deadline = now_ms() + c->timeout_ms;
	for (;;) {
		int64_t left = deadline - now_ms();

		if (first && exact) {
			rc = vu_recv_into(c, &req, into, ninto, rep);
			if (rc == 1)
				return 0;
		} else {
			rc = vfu_tran_recv(c->t, rep, left > 0 ? (int)left : 0);
		}
		first = false;
		if (rc == -EINVAL) {
			/* Dropped whole (bad flags, too many fds); the stream is in sync. */
			if (!is_reply(&rep->hdr)) {
				rc = vfu_tran_reply(c->t, &rep->hdr, -EINVAL, NULL, 0, NULL, 0);
				if (rc)
					return conn_lost(c, rc, "refusing a malformed server request");
				continue;
			}
			if (rep->hdr.msg_id != req.msg_id || rep->hdr.cmd != cmd)
				return conn_lost(c, -EPROTO, "a malformed message that answers nothing we asked");
			LOG_ERR("vfio-user %s: malformed %s reply (flags or fds)", c->name, vfu_cmd_name(cmd));
			return -EPROTO;
		}
		if (rc)
			return conn_lost(c, rc, left > 0 ? "waiting for a reply" : "no reply in time");
		if (!is_reply(&rep->hdr)) {
			rc = vu_dma_serve(c, rep);
			vfu_msg_release(rep);
			if (rc)
				return conn_lost(c, rc, "answering a server request");
			continue;
		}
		rc = vfu_msg_check_reply(&rep->hdr, &req, rep->payload, rep->len);
		if (rc == -EBADMSG) {
			vfu_msg_release(rep);
			return conn_lost(c, rc, "a reply that does not answer the request");
		}
		if (rc == 0 && rep->nr_fds > max_fds) {
			LOG_ERR("vfio-user %s: %s reply carries %zu fds, expected at most %zu", c->name,
				vfu_cmd_name(cmd), rep->nr_fds, max_fds);
			rc = -EPROTO;
		} else if (rc == -EINVAL) {
			LOG_ERR("vfio-user %s: %s reply of %zu bytes is malformed", c->name, vfu_cmd_name(cmd),
				rep->len);
			rc = -EPROTO;
		}
		if (rc == 0 && exact)
			rc = scatter(c, rep, into, ninto);
		if (rc || exact)
			vfu_msg_release(rep); /* also closes any fd it carried */
		return rc;
	}
}

int vu_post(struct vu_conn *c, uint16_t cmd, const struct iovec *iov, size_t iovcnt)
{
	struct vfu_hdr req;

	return send_request(c, &req, cmd, VFU_HDR_F_NO_REPLY, iov, iovcnt, NULL, 0);
}

int vu_call(struct vu_conn *c, uint16_t cmd, const struct iovec *iov, size_t iovcnt, const int *fds,
	    size_t nfds, size_t max_fds, struct vfu_msg *rep)
{
	return call(c, cmd, iov, iovcnt, fds, nfds, max_fds, false, NULL, 0, rep);
}

int vu_call_into_fds(struct vu_conn *c, uint16_t cmd, const struct iovec *iov, size_t iovcnt, const int *fds,
		     size_t nfds, const struct iovec *into, size_t ninto)
{
	struct vfu_msg rep;

	return call(c, cmd, iov, iovcnt, fds, nfds, 0, true, into, ninto, &rep);
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
	return call(c, cmd, &iov, len ? 1 : 0, fds, nfds, 0, true, NULL, 0, &rep);
}

/* Lowest page size of a pgsizes mask (never below 4 KiB: caps_json checked). */
static uint64_t lowest_page(uint64_t pgsizes)
{
	return pgsizes & (~pgsizes + 1);
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
	rc = vfu_version_build(VFU_VERSION_MAJOR, VFU_VERSION_MINOR, &ours, &payload, &len);
	if (rc)
		return rc;
	iov.iov_base = payload;
	iov.iov_len = len;
	rc = vu_call(c, VFU_CMD_VERSION, &iov, 1, NULL, 0, 0, &rep);
	free(payload);
	if (rc == -ECONNRESET)
		/* Perhaps busy with another client, perhaps not: a hang-up is not
		 * an EBUSY reply, and only that says "busy". */
		LOG_ERR("vfio-user %s: the server hung up before answering VERSION", c->name);
	if (rc)
		return rc; /* an error reply with EBUSY says so explicitly */
	rc = vfu_version_parse(rep.payload, rep.len, &major, &minor, &theirs);
	vfu_msg_release(&rep);
	if (rc == 0 && (major != VFU_VERSION_MAJOR || minor > VFU_VERSION_MINOR))
		rc = -EPROTO;
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
	LOG_DBG("vfio-user %s: server %u.%u, max_msg_fds %u, max_data_xfer_size %llu, pgsizes 0x%llx", c->name,
		major, minor, theirs.max_msg_fds, (unsigned long long)theirs.max_data_xfer_size,
		(unsigned long long)theirs.pgsizes);
	return rc;
}

int vu_conn_open(struct vu_conn *c, const char *path)
{
	int fd = -1, rc;

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
	/* Until VERSION is answered we receive no fds and send none. */
	rc = vfu_tran_set_limits(c->t, VU_OUR_MAX_XFER + VFU_MSG_OVERHEAD, 0, 0);
	if (rc == 0) /* the fast path gives back what it did not expect (vu_recv.c) */
		rc = vfu_tran_set_readahead(c->t, true);
	if (rc == 0) { /* every wait polls with the reply timeout: no SO_RCVTIMEO */
		vfu_tran_set_io_timeout(c->t, c->timeout_ms);
		rc = vu_dma_init(c);
	}
	if (rc == 0)
		rc = negotiate(c);
	if (rc)
		vu_conn_close(c);
	return rc;
}

void vu_conn_close(struct vu_conn *c)
{
	vfu_tran_close(c->t);
	c->t = NULL;
	vu_dma_fini(c);
}

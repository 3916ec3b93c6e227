/* SPDX-License-Identifier: MIT */
/*
 * Message framing shared by every vfio-user transport: the byte sources
 * (socket, memory) only move bytes and fds; all header checks, size
 * limits and fd bookkeeping live here, once, read-ahead included.
 */
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"
#include "tran.h"

/* Smallest receive buffer; it doubles up to VFU_TRAN_RXBUF_SIZE as needed. */
#define RXBUF_MIN 4096u

/*
 * The reusable receive buffer. @refs counts the transport (until
 * vfu_tran_fini) and the one message that may borrow it; whoever drops the
 * last reference frees it, so a message may outlive its transport and be
 * released on another thread.
 */
struct vfu_rxbuf {
	atomic_uint refs;
	size_t cap;
	uint8_t *data;
};

static void rxbuf_put(struct vfu_rxbuf *b)
{
	/* release: our reads of the data happen before the next writer's */
	if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1) {
		free(b->data);
		free(b);
	}
}

/*
 * The transport's buffer, grown to hold @len bytes, if no message borrows
 * it. NULL when @len is above VFU_TRAN_RXBUF_SIZE, the buffer is lent out
 * or memory is short: the caller then does without.
 */
static struct vfu_rxbuf *rxbuf_get(struct vfu_tran *t, size_t len)
{
	struct vfu_rxbuf *b = t->rxbuf;

	if (len > VFU_TRAN_RXBUF_SIZE)
		return NULL;
	if (b == NULL) {
		b = calloc(1, sizeof(*b));
		if (b == NULL)
			return NULL;
		atomic_init(&b->refs, 1);
		t->rxbuf = b;
	}
	/* Only this (receiving) thread takes a second reference, so 1 stays
	 * 1 until we lend it; acquire pairs with the borrower's release. */
	if (atomic_load_explicit(&b->refs, memory_order_acquire) != 1)
		return NULL;
	if (b->cap < len) {
		size_t cap = RXBUF_MIN;
		uint8_t *d;

		while (cap < len)
			cap *= 2;
		d = malloc(cap); /* nothing to keep: no realloc copy */
		if (d == NULL)
			return NULL;
		free(b->data);
		b->data = d;
		b->cap = cap;
	}
	return b;
}

/*
 * Read-ahead state. The unread bytes are buf[head, tail); @pos is the
 * stream position of buf[head] (counted from when read-ahead was turned on).
 *
 * fds: those one read returns belong to the message holding the read's
 * last byte (see tran.h), so each read's fds are kept as a group with the
 * position of that byte, and a message [start, end) taken out gets the
 * groups positioned in it. Invariant: a read happens only while less
 * than a header is buffered, i.e. the buffer holds nothing but the start
 * of the head message (the one at @pos). Every group positioned before
 * @pos went to a message already taken out, and every kept group is
 * positioned inside the buffer, so at that moment every kept group
 * belongs to the head message: they are folded into @head_fds before the
 * read. So besides @head_fds only one group is ever unplaced: @grp, from
 * the last read, at @grp_pos (>= the start of whatever message is taken
 * out next); that message gets @head_fds, and @grp too if grp_pos < end.
 */
struct vfu_readahead {
	size_t head, tail;
	uint64_t pos;
	struct vfu_fd_sink head_fds; /* the head message's, known so far */
	struct vfu_fd_sink grp;      /* the last read's, if not placed yet */
	uint64_t grp_pos;
	int head_fd_slots[VFU_MSG_MAX_FDS];
	int grp_fd_slots[VFU_MSG_MAX_FDS];
	uint8_t buf[VFU_TRAN_READAHEAD_SIZE];
};

static void close_sink(struct vfu_fd_sink *s);

/* Move the fds of @src into @dst, which keeps or closes each as for a read. */
static void sink_move(struct vfu_fd_sink *dst, struct vfu_fd_sink *src)
{
	for (size_t i = 0; i < src->nr; i++) {
		vfu_fd_sink_put(dst, src->fds[i]);
		src->fds[i] = -1;
	}
	if (src->rejected)
		dst->rejected = true;
	src->nr = 0;
	src->rejected = false;
}

/* Time skipped by vfu_tran_clock_skip (0 outside tests and fuzzers). */
static _Atomic int64_t clock_skipped_ms;

int64_t vfu_tran_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 +
	       atomic_load_explicit(&clock_skipped_ms, memory_order_relaxed);
}

void vfu_tran_clock_skip(int64_t ms)
{
	if (ms > 0)
		atomic_fetch_add_explicit(&clock_skipped_ms, ms, memory_order_relaxed);
}

/* @timeout_ms (-1: forever), cut to what is left before the deadline. */
static int bounded(const struct vfu_tran *t, int timeout_ms)
{
	int64_t left;

	if (t->deadline_ms == 0)
		return timeout_ms;
	left = t->deadline_ms - vfu_tran_now_ms();
	if (left < 0)
		left = 0;
	return timeout_ms >= 0 && timeout_ms < left ? timeout_ms : (left > INT_MAX ? INT_MAX : (int)left);
}

/*
 * What a byte source's read result @n (for a buffer of @room bytes) means
 * for a message: 0 when it delivered bytes, else the receive error.
 * @started: bytes of this message were already consumed.
 */
static int read_result(ssize_t n, size_t room, bool started)
{
	if (n == -EAGAIN)
		return started ? -ETIMEDOUT : -EAGAIN;
	if (n == 0)
		return started ? -ECONNRESET : -ENOTCONN;
	if (n < 0) /* -EINVAL means "message dropped, in sync" to our callers */
		return n == -EINVAL ? -EIO : (int)n;
	return (size_t)n > room ? -EIO : 0; /* more than asked: a byte source bug */
}

/* Forget everything buffered, closing the fds kept with it. */
static void ra_discard(struct vfu_readahead *ra)
{
	close_sink(&ra->head_fds);
	close_sink(&ra->grp);
	ra->head_fds.rejected = false;
	ra->grp.rejected = false;
	ra->head = ra->tail = 0;
}

/* Take up to @len buffered bytes into @dst (NULL: drop them). Return: bytes taken. */
static size_t ra_take(struct vfu_readahead *ra, uint8_t *dst, size_t len)
{
	size_t n = ra->tail - ra->head;

	if (n > len)
		n = len;
	if (dst && n)
		memcpy(dst, ra->buf + ra->head, n);
	ra->head += n;
	ra->pos += n;
	if (ra->head == ra->tail)
		ra->head = ra->tail = 0;
	return n;
}

/* Give the head message, which ends at stream position @end, its fds. */
static void ra_claim_fds(struct vfu_readahead *ra, uint64_t end, struct vfu_fd_sink *sink)
{
	sink_move(sink, &ra->head_fds);
	if (ra->grp_pos < end)
		sink_move(sink, &ra->grp);
}

/*
 * Read ahead until a whole header is buffered: one read takes whatever the
 * source has, up to the free space. The first read of a message waits
 * @first_timeout_ms, later ones io_timeout_ms. fds arriving go to
 * @grp, limited to @max_fds as for a message.
 * Return: 0; -EAGAIN (nothing of a message arrived, nothing consumed);
 * -ETIMEDOUT, -ECONNRESET, -ENOTCONN, -errno: the stream is lost.
 */
static int ra_fill_header(struct vfu_tran *t, size_t max_fds, int first_timeout_ms)
{
	struct vfu_readahead *ra = t->ra;

	while (ra->tail - ra->head < VFU_HDR_SIZE) {
		size_t have = ra->tail - ra->head, room;
		bool started = have > 0;
		ssize_t n;
		int rc;

		/* By the invariant above, a kept group is the head message's. */
		sink_move(&ra->head_fds, &ra->grp);
		if (ra->head > 0) { /* less than a header: a cheap move */
			memmove(ra->buf, ra->buf + ra->head, have);
			ra->head = 0;
			ra->tail = have;
		}
		room = sizeof(ra->buf) - ra->tail;
		ra->grp.max = max_fds;
		n = t->ops->read(t, ra->buf + ra->tail, room, &ra->grp,
				 bounded(t, started ? t->io_timeout_ms : first_timeout_ms));
		rc = read_result(n, room, started);
		if (rc) {
			close_sink(&ra->grp); /* fds without bytes have no message */
			ra->grp.rejected = false;
			return rc;
		}
		ra->tail += (size_t)n;
		ra->grp_pos = ra->pos + (ra->tail - ra->head) - 1; /* the read's last byte */
	}
	return 0;
}

static void ra_free(struct vfu_tran *t)
{
	if (t->ra == NULL)
		return;
	ra_discard(t->ra);
	free(t->ra);
	t->ra = NULL;
}

/* A fatal receive error: remember it, and drop what can no longer be parsed. */
static void recv_fail(struct vfu_tran *t, int err)
{
	t->recv_err = err;
	if (t->ra)
		ra_discard(t->ra);
}

void vfu_msg_init(struct vfu_msg *m)
{
	memset(&m->hdr, 0, sizeof(m->hdr));
	m->payload = NULL;
	m->len = 0;
	for (size_t i = 0; i < VFU_MSG_MAX_FDS; i++)
		m->fds[i] = -1;
	m->nr_fds = 0;
	m->loan = NULL;
}

void vfu_msg_release(struct vfu_msg *m)
{
	for (size_t i = 0; i < m->nr_fds && i < VFU_MSG_MAX_FDS; i++)
		if (m->fds[i] >= 0)
			close(m->fds[i]);
	if (m->loan)
		rxbuf_put(m->loan); /* borrowed: give it back */
	else
		free(m->payload);
	vfu_msg_init(m);
}

int vfu_msg_take_fd(struct vfu_msg *m, size_t i)
{
	int fd;

	if (i >= m->nr_fds || i >= VFU_MSG_MAX_FDS)
		return -ENOENT;
	fd = m->fds[i];
	if (fd < 0)
		return -EBADF;
	m->fds[i] = -1;
	return fd;
}

void vfu_fd_sink_put(struct vfu_fd_sink *s, int fd)
{
	if (fd < 0)
		return;
	if (s->nr < s->max) {
		s->fds[s->nr++] = fd;
		return;
	}
	/* over the limit: never keep it, and fail the whole message */
	close(fd);
	s->rejected = true;
}

void vfu_tran_init(struct vfu_tran *t, const struct vfu_tran_ops *ops)
{
	t->ops = ops;
	t->max_msg_size = VFU_TRAN_DEFAULT_MAX_MSG_SIZE;
	t->max_recv_fds = VFU_DEFAULT_MAX_MSG_FDS;
	t->max_send_fds = VFU_DEFAULT_MAX_MSG_FDS;
	t->io_timeout_ms = VFU_TRAN_DEFAULT_IO_TIMEOUT_MS;
	t->deadline_ms = 0;
	t->recv_err = 0;
	t->send_err = 0;
	t->rxbuf = NULL;
	t->ra = NULL;
	t->kernel_waits = false;
}

void vfu_tran_fini(struct vfu_tran *t)
{
	if (t->rxbuf)
		rxbuf_put(t->rxbuf);
	t->rxbuf = NULL;
	ra_free(t);
}

int vfu_tran_set_limits(struct vfu_tran *t, size_t max_msg_size,
			size_t max_recv_fds, size_t max_send_fds)
{
	if (max_msg_size < VFU_HDR_SIZE || max_msg_size > VFU_TRAN_MAX_MSG_SIZE_LIMIT ||
	    max_recv_fds > VFU_MSG_MAX_FDS || max_send_fds > VFU_MSG_MAX_FDS)
		return -EINVAL;
	t->max_msg_size = max_msg_size;
	t->max_recv_fds = max_recv_fds;
	t->max_send_fds = max_send_fds;
	return 0;
}

void vfu_tran_set_io_timeout(struct vfu_tran *t, int timeout_ms)
{
	t->io_timeout_ms = timeout_ms < 0 ? -1 : timeout_ms;
}

void vfu_tran_set_kernel_waits(struct vfu_tran *t, bool on)
{
	t->kernel_waits = on;
}

void vfu_tran_set_deadline(struct vfu_tran *t, int64_t deadline_ms)
{
	t->deadline_ms = deadline_ms;
}

int vfu_tran_set_readahead(struct vfu_tran *t, bool on)
{
	struct vfu_readahead *ra;

	if (!on) {
		if (vfu_tran_buffered(t) > 0)
			return -EBUSY; /* those bytes would be lost */
		ra_free(t);
		return 0;
	}
	if (t->ra)
		return 0;
	if (!t->ops->readahead_ok)
		return -ENOTSUP;
	ra = malloc(sizeof(*ra));
	if (ra == NULL)
		return -ENOMEM;
	ra->head = ra->tail = 0;
	ra->pos = 0;
	ra->grp_pos = 0;
	ra->head_fds = (struct vfu_fd_sink){ .fds = ra->head_fd_slots, .max = VFU_MSG_MAX_FDS };
	ra->grp = (struct vfu_fd_sink){ .fds = ra->grp_fd_slots, .max = VFU_MSG_MAX_FDS };
	t->ra = ra;
	return 0;
}

size_t vfu_tran_buffered(const struct vfu_tran *t)
{
	return t->ra ? t->ra->tail - t->ra->head : 0;
}

int vfu_tran_unread(struct vfu_tran *t, const struct iovec *iov, size_t iovcnt, size_t len,
		    struct vfu_fd_sink *fds)
{
	struct vfu_readahead *ra = t->ra;
	size_t at = 0;

	if (!ra || len == 0 || len > sizeof(ra->buf))
		return -EINVAL;
	if (ra->tail != ra->head || ra->head_fds.nr || ra->grp.nr)
		return -EBUSY;
	for (size_t i = 0; i < iovcnt && at < len; i++) {
		size_t n = iov[i].iov_len < len - at ? iov[i].iov_len : len - at;

		memcpy(ra->buf + at, iov[i].iov_base, n);
		at += n;
	}
	ra->head = 0;
	ra->tail = at;
	/* As if ra_fill_header had read them: one read, its fds one group. */
	ra->grp.max = t->max_recv_fds < VFU_MSG_MAX_FDS ? t->max_recv_fds : VFU_MSG_MAX_FDS;
	ra->grp.rejected = false;
	sink_move(&ra->grp, fds);
	ra->grp_pos = ra->pos + at - 1;
	return 0;
}

int vfu_tran_send(struct vfu_tran *t, const struct vfu_hdr *hdr,
		  const struct iovec *iov, size_t iovcnt,
		  const int *fds, size_t nr_fds)
{
	struct iovec v[VFU_TRAN_MAX_IOV + 1];
	struct vfu_hdr h = *hdr;
	uint64_t total = VFU_HDR_SIZE;
	int rc;

	if (t->send_err)
		return -EPIPE;
	if (iovcnt > VFU_TRAN_MAX_IOV || (iovcnt > 0 && iov == NULL) ||
	    nr_fds > t->max_send_fds || (nr_fds > 0 && fds == NULL))
		return -EINVAL;
	for (size_t i = 0; i < nr_fds; i++)
		if (fds[i] < 0)
			return -EBADF;
	v[0].iov_base = &h;
	v[0].iov_len = sizeof(h);
	for (size_t i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > 0 && iov[i].iov_base == NULL)
			return -EINVAL;
		total += iov[i].iov_len;
		if (total > UINT32_MAX)
			return -EINVAL;
		v[i + 1] = iov[i];
	}
	h.msg_size = (uint32_t)total;
	/* catch our own bugs before the peer does */
	rc = vfu_hdr_check(&h, UINT32_MAX);
	if (rc)
		return -EINVAL;

	rc = t->ops->write(t, v, iovcnt + 1, fds, nr_fds, bounded(t, t->io_timeout_ms));
	if (rc)
		t->send_err = rc; /* a partial message may be on the wire */
	return rc;
}

int vfu_tran_send_buf(struct vfu_tran *t, const struct vfu_hdr *hdr,
		      const void *payload, size_t len, const int *fds, size_t nr_fds)
{
	struct iovec iov = { .iov_base = (void *)payload, .iov_len = len };

	return vfu_tran_send(t, hdr, &iov, len ? 1 : 0, fds, nr_fds);
}

int vfu_tran_reply(struct vfu_tran *t, const struct vfu_hdr *req, int err,
		   const void *payload, size_t len, const int *fds, size_t nr_fds)
{
	struct vfu_hdr rep;

	vfu_hdr_reply(&rep, req, err);
	if (err)
		return vfu_tran_send_buf(t, &rep, NULL, 0, NULL, 0);
	return vfu_tran_send_buf(t, &rep, payload, len, fds, nr_fds);
}

/*
 * Fill @buf completely. @started says whether bytes of this message were
 * already consumed: then a timeout or EOF means the stream is broken.
 */
static int read_full(struct vfu_tran *t, uint8_t *buf, size_t len,
		     struct vfu_fd_sink *sink, int first_timeout_ms, bool *started)
{
	size_t got = 0;

	while (got < len) {
		int to = bounded(t, *started ? t->io_timeout_ms : first_timeout_ms);
		ssize_t n = t->ops->read(t, buf + got, len - got, sink, to);
		int rc = read_result(n, len - got, *started);

		if (rc)
			return rc;
		got += (size_t)n;
		*started = true;
	}
	return 0;
}

static void close_sink(struct vfu_fd_sink *s)
{
	for (size_t i = 0; i < s->nr; i++) {
		close(s->fds[i]);
		s->fds[i] = -1;
	}
	s->nr = 0;
}

/*
 * Read and drop the @len payload bytes of a message we will not store, in
 * pieces of the receive buffer's size; each read waits at most
 * io_timeout_ms. fds arriving meanwhile land in @sink (the caller closes
 * them). Return: 0; -ETIMEDOUT, -ECONNRESET, -errno: the stream is lost.
 */
static int skip_payload(struct vfu_tran *t, size_t len, struct vfu_fd_sink *sink)
{
	uint8_t small[4096]; /* when the buffer is lent out or memory short */
	struct vfu_rxbuf *b = rxbuf_get(t, VFU_TRAN_RXBUF_SIZE);
	uint8_t *buf = b ? b->data : small;
	size_t cap = b ? b->cap : sizeof(small);
	bool started = true;

	while (len > 0) {
		size_t n = len < cap ? len : cap;
		int rc = read_full(t, buf, n, sink, t->io_timeout_ms, &started);

		if (rc)
			return rc;
		len -= n;
	}
	return 0;
}

/* Drop what @msg holds, keeping its header for an error reply. */
static void drop_keep_hdr(struct vfu_msg *msg, struct vfu_fd_sink *sink)
{
	struct vfu_hdr keep = msg->hdr;

	close_sink(sink);
	vfu_msg_release(msg);
	msg->hdr = keep;
}

int vfu_tran_recv(struct vfu_tran *t, struct vfu_msg *msg, int timeout_ms)
{
	struct vfu_readahead *ra = t->ra;
	struct vfu_fd_sink sink;
	struct vfu_rxbuf *b;
	uint8_t raw[VFU_HDR_SIZE];
	bool started = false, bad_flags = false;
	uint64_t start = 0;
	int rc;

	vfu_msg_init(msg);
	if (t->recv_err)
		return -EPIPE;
	sink.fds = msg->fds;
	sink.nr = 0;
	sink.max = t->max_recv_fds < VFU_MSG_MAX_FDS ? t->max_recv_fds : VFU_MSG_MAX_FDS;
	sink.rejected = false;

	if (ra) {
		rc = ra_fill_header(t, sink.max, timeout_ms);
		if (rc == -EAGAIN)
			return rc;
		if (rc)
			goto fatal;
		start = ra->pos;
		ra_take(ra, raw, sizeof(raw));
		started = true;
	} else {
		/* Exactly the header: the next bytes may be another message's. */
		rc = read_full(t, raw, sizeof(raw), &sink, timeout_ms, &started);
		if (rc == -EAGAIN)
			return rc;
		if (rc)
			goto fatal;
	}
	memcpy(&msg->hdr, raw, sizeof(raw));

	rc = vfu_hdr_check(&msg->hdr, t->max_msg_size);
	if (rc == -EPROTO) {
		/* No size to skip by: framing is lost for good. */
		drop_keep_hdr(msg, &sink);
		recv_fail(t, rc);
		return rc;
	}
	/* Now the end is known; from here on whatever is read is the message's. */
	if (ra)
		ra_claim_fds(ra, start + msg->hdr.msg_size, &sink);
	if (rc == -EMSGSIZE) {
		/* Skip it whole (msg_size is below 4 GiB) to stay in sync. */
		size_t skip = msg->hdr.msg_size - VFU_HDR_SIZE;
		int err;

		if (ra)
			skip -= ra_take(ra, NULL, skip);
		err = skip > 0 ? skip_payload(t, skip, &sink) : 0;
		drop_keep_hdr(msg, &sink);
		if (err)
			recv_fail(t, err);
		return rc;
	}
	if (rc == -EINVAL)
		bad_flags = true; /* size is sane: read it all to stay in sync */
	else if (rc)
		goto fatal;

	msg->len = msg->hdr.msg_size - VFU_HDR_SIZE;
	if (msg->len > 0) {
		size_t got;

		b = rxbuf_get(t, msg->len);
		if (b) {
			atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
			msg->loan = b;
			msg->payload = b->data;
		} else {
			msg->payload = malloc(msg->len);
			if (msg->payload == NULL) {
				rc = -ENOMEM;
				goto fatal;
			}
		}
		/* The buffered part, then exactly the rest: never past its end. */
		got = ra ? ra_take(ra, msg->payload, msg->len) : 0;
		if (got < msg->len) {
			rc = read_full(t, msg->payload + got, msg->len - got, &sink,
				       timeout_ms, &started);
			if (rc)
				goto fatal;
		}
	}

	if (bad_flags || sink.rejected) {
		drop_keep_hdr(msg, &sink);
		return -EINVAL;
	}
	msg->nr_fds = sink.nr;
	return 0;

fatal:
	close_sink(&sink);
	vfu_msg_release(msg);
	recv_fail(t, rc);
	return rc;
}

int vfu_tran_recv_error(const struct vfu_tran *t)
{
	return t->recv_err;
}

int vfu_tran_pollfd(struct vfu_tran *t)
{
	return t->ops->pollfd ? t->ops->pollfd(t) : -ENOTSUP;
}

void vfu_tran_close(struct vfu_tran *t)
{
	if (t)
		t->ops->destroy(t);
}

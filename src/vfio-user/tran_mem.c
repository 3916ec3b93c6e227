/* SPDX-License-Identifier: MIT */
/*
 * In-memory vfio-user byte source for unit tests and the fuzzer.
 *
 * Input is a queue of chunks, each standing for one sendmsg of the peer:
 * bytes plus fds attached to the chunk's first byte, the same rule the
 * kernel applies to SCM_RIGHTS on a stream socket. As on Linux, a read
 * glues successive chunks up to its length but ends right after a chunk
 * whose fds it delivered (a chunk's fds are delivered when its first byte
 * is read), so the framing in tran.c, read-ahead included, sees exactly
 * what a socket would give it.
 *
 * Between two chunks the peer may act and fall silent: a pause chunk
 * (vfu_tran_mem_feed_pause) holds no bytes; a read that reaches it with
 * bytes in hand returns them (what was sent before is taken before the
 * peer acts), else it runs the pause's callback once (the peer shrinks a
 * file, fills an eventfd) and waits through the silence in virtual time
 * (vfu_tran_clock_skip): a read allowed to wait longer skips the clock by
 * the rest of the silence and reads on, one allowed less skips what it
 * may wait, keeps the rest and returns -EAGAIN. So a test or a fuzzer
 * makes the server's timeouts expire without sleeping.
 *
 * Output is captured in one growing buffer; sent fds are duplicated, as
 * the kernel would, so the sender may close its own copies.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tran.h"

/* Bound the capture so a runaway sender in a fuzz run cannot eat memory. */
#define MEM_MAX_SENT (64u * 1024u * 1024u)
#define MEM_MAX_SENT_FDS 4096u

struct mem_chunk {
	struct mem_chunk *next;
	size_t len, off;
	int *fds; /* NULL once handed to a reader */
	size_t nr_fds;
	/* A pause (len 0): silence left, and the peer's action (NULL once run). */
	int64_t pause_ms;
	void (*act)(void *arg);
	void *act_arg;
	uint8_t data[];
};

struct tran_mem {
	struct vfu_tran base;
	struct mem_chunk *head, *tail;
	uint8_t *out;
	size_t out_len, out_cap;
	int *out_fds;
	size_t out_nr, out_fds_cap;
	int write_err;
};

static const struct vfu_tran_ops mem_ops;

static struct tran_mem *to_mem(struct vfu_tran *t)
{
	return (struct tran_mem *)t;
}

/* The vfu_tran_mem_* calls on another kind of transport do nothing. */
static bool is_mem(const struct vfu_tran *t)
{
	return t != NULL && t->ops == &mem_ops;
}

static void close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static void free_chunk(struct mem_chunk *c)
{
	if (c->fds) {
		close_fds(c->fds, c->nr_fds);
		free(c->fds);
	}
	free(c);
}

static void append(struct tran_mem *m, struct mem_chunk *c)
{
	if (m->tail)
		m->tail->next = c;
	else
		m->head = c;
	m->tail = c;
}

static void pop_head(struct tran_mem *m)
{
	struct mem_chunk *c = m->head;

	m->head = c->next;
	if (m->head == NULL)
		m->tail = NULL;
	free_chunk(c);
}

int vfu_tran_mem_feed_pause(struct vfu_tran *t, unsigned ms, void (*act)(void *arg), void *arg)
{
	struct mem_chunk *c;

	if (!is_mem(t))
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->pause_ms = ms;
	c->act = act;
	c->act_arg = arg;
	append(to_mem(t), c);
	return 0;
}

/*
 * The pause at the head, reached by a read that may wait @timeout_ms
 * (-1: forever): 0 when it is over (dropped), -EAGAIN when the read's
 * wait ends first.
 */
static int pass_pause(struct tran_mem *m, int timeout_ms)
{
	struct mem_chunk *c = m->head;

	if (c->act) {
		void (*act)(void *) = c->act;

		c->act = NULL; /* once, even when the read gives up below */
		act(c->act_arg);
	}
	if (timeout_ms >= 0 && timeout_ms < c->pause_ms) {
		vfu_tran_clock_skip(timeout_ms);
		c->pause_ms -= timeout_ms;
		return -EAGAIN;
	}
	vfu_tran_clock_skip(c->pause_ms);
	pop_head(m);
	return 0;
}

int vfu_tran_mem_feed(struct vfu_tran *t, const void *buf, size_t len,
		      const int *fds, size_t nr_fds)
{
	struct tran_mem *m = to_mem(t);
	struct mem_chunk *c = NULL;
	int rc = -ENOMEM;

	if (!is_mem(t)) {
		rc = -EINVAL;
		goto fail;
	}

	/* a socket cannot carry fds without a byte; neither can we */
	if (nr_fds > 0 && (len == 0 || fds == NULL)) {
		rc = -EINVAL;
		goto fail;
	}
	if (len > 0 && buf == NULL) {
		rc = -EINVAL;
		goto fail;
	}
	if (len == 0)
		return 0;
	if (len > SIZE_MAX - sizeof(*c))
		goto fail;
	c = malloc(sizeof(*c) + len);
	if (c == NULL)
		goto fail;
	memset(c, 0, sizeof(*c));
	c->len = len;
	c->nr_fds = nr_fds;
	memcpy(c->data, buf, len);
	if (nr_fds > 0) {
		c->fds = malloc(nr_fds * sizeof(int));
		if (c->fds == NULL)
			goto fail;
		memcpy(c->fds, fds, nr_fds * sizeof(int));
	}
	append(m, c);
	return 0;

fail:
	/* the fds are ours from the call on: never leak them */
	if (fds)
		close_fds((int *)fds, nr_fds);
	free(c);
	return rc;
}

static ssize_t mem_read(struct vfu_tran *t, void *buf, size_t len,
			struct vfu_fd_sink *sink, int timeout_ms)
{
	struct tran_mem *m = to_mem(t);
	size_t got = 0;

	/* Data is either here, behind a pause, or never comes (EOF). */
	while (got < len && m->head) {
		struct mem_chunk *c = m->head;
		bool had_fds = false;
		size_t n;

		if (c->len == 0) { /* a pause: the peer acts after what it sent */
			int rc;

			if (got)
				break;
			rc = pass_pause(m, timeout_ms);
			if (rc)
				return rc;
			continue;
		}
		if (c->off == 0 && c->fds) {
			for (size_t i = 0; i < c->nr_fds; i++)
				vfu_fd_sink_put(sink, c->fds[i]);
			free(c->fds);
			c->fds = NULL;
			had_fds = true;
		}
		n = c->len - c->off < len - got ? c->len - c->off : len - got;
		memcpy((uint8_t *)buf + got, c->data + c->off, n);
		c->off += n;
		got += n;
		if (c->off == c->len)
			pop_head(m);
		if (had_fds)
			break; /* Linux stops after the skb whose fds it passed */
	}
	return (ssize_t)got;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap = *cap ? *cap : 256;
	void *np;

	while (ncap < need)
		ncap *= 2;
	if (ncap == *cap)
		return 0;
	np = realloc(*p, ncap * elem);
	if (np == NULL)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

static int mem_write(struct vfu_tran *t, const struct iovec *iov, size_t iovcnt,
		     const int *fds, size_t nr_fds, int timeout_ms)
{
	struct tran_mem *m = to_mem(t);
	size_t total = 0, fd0 = m->out_nr;

	(void)timeout_ms;
	if (m->write_err)
		return m->write_err;
	for (size_t i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > MEM_MAX_SENT - total)
			return -ENOBUFS;
		total += iov[i].iov_len;
	}
	if (total > MEM_MAX_SENT - m->out_len || nr_fds > MEM_MAX_SENT_FDS - m->out_nr)
		return -ENOBUFS;
	if (grow((void **)&m->out, &m->out_cap, m->out_len + total, 1) ||
	    grow((void **)&m->out_fds, &m->out_fds_cap, m->out_nr + nr_fds, sizeof(int)))
		return -ENOMEM;
	for (size_t i = 0; i < nr_fds; i++) {
		int d = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);

		if (d < 0) {
			int rc = -errno;

			close_fds(m->out_fds + fd0, m->out_nr - fd0);
			m->out_nr = fd0;
			return rc;
		}
		m->out_fds[m->out_nr++] = d;
	}
	for (size_t i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len == 0)
			continue;
		memcpy(m->out + m->out_len, iov[i].iov_base, iov[i].iov_len);
		m->out_len += iov[i].iov_len;
	}
	return 0;
}

static void mem_destroy(struct vfu_tran *t)
{
	struct tran_mem *m = to_mem(t);

	vfu_tran_fini(t);
	while (m->head) {
		struct mem_chunk *c = m->head;

		m->head = c->next;
		free_chunk(c);
	}
	close_fds(m->out_fds, m->out_nr);
	free(m->out_fds);
	free(m->out);
	free(m);
}

static const struct vfu_tran_ops mem_ops = {
	.name = "mem",
	.readahead_ok = true,
	.read = mem_read,
	.write = mem_write,
	.pollfd = NULL,
	.destroy = mem_destroy,
};

int vfu_tran_mem_new(struct vfu_tran **out)
{
	struct tran_mem *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return -ENOMEM;
	vfu_tran_init(&m->base, &mem_ops);
	*out = &m->base;
	return 0;
}

void vfu_tran_mem_sent(struct vfu_tran *t, const uint8_t **buf, size_t *len, size_t *nr_fds)
{
	struct tran_mem *m = to_mem(t);

	if (!is_mem(t)) {
		if (buf)
			*buf = NULL;
		if (len)
			*len = 0;
		if (nr_fds)
			*nr_fds = 0;
		return;
	}
	if (buf)
		*buf = m->out;
	if (len)
		*len = m->out_len;
	if (nr_fds)
		*nr_fds = m->out_nr;
}

int vfu_tran_mem_take_sent(struct vfu_tran *t, uint8_t **buf, size_t *len,
			   int **fds, size_t *nr_fds)
{
	struct tran_mem *m = to_mem(t);

	if (!is_mem(t))
		return -EINVAL;
	if (buf)
		*buf = m->out;
	else
		free(m->out);
	if (len)
		*len = m->out_len;
	if (fds) {
		*fds = m->out_fds;
	} else {
		close_fds(m->out_fds, m->out_nr);
		free(m->out_fds);
	}
	if (nr_fds)
		*nr_fds = m->out_nr;
	m->out = NULL;
	m->out_len = m->out_cap = 0;
	m->out_fds = NULL;
	m->out_nr = m->out_fds_cap = 0;
	return 0;
}

void vfu_tran_mem_fail_writes(struct vfu_tran *t, int err)
{
	if (is_mem(t))
		to_mem(t)->write_err = err > 0 ? -err : err;
}

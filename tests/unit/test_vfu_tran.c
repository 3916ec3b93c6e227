/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the vfio-user transport: message framing with fds over a
 * socketpair and a real listening socket, hostile peers (bad headers,
 * oversized messages skipped whole, too many fds, vanishing or stalling
 * mid-message), fd attribution with pipelined and split writes, the
 * reusable receive buffer (lent to one message at a time, released on any
 * thread), waiting for the first byte, the in-memory transport the
 * fuzzer uses (its pauses in virtual time), and read-ahead mode on both (several messages per read,
 * every split, fds placed by the last byte of their read, the error
 * paths, one recvmsg per small message, and the same results as without).
 *
 * fds are memfds tagged with one byte, so a received fd is identified by
 * reading its tag; leaks are caught by counting /proc/self/fd.
 */
#define _GNU_SOURCE /* memfd_create */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "msg.h"
#include "tran.h"

/* ---- helpers ---- */

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own fd */
}

/* A memfd whose first byte is @tag. */
static int tagged_fd(uint8_t tag)
{
	int fd = memfd_create("vfu-test", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, &tag, 1, 0), 1);
	return fd;
}

static int tag_of(int fd)
{
	uint8_t tag;

	if (pread(fd, &tag, 1, 0) != 1)
		return -1;
	return tag;
}

static void close_all(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int send_req(struct vfu_tran *t, uint16_t id, uint16_t cmd, const void *p,
		    size_t len, const int *fds, size_t nr)
{
	struct vfu_hdr h;

	vfu_hdr_request(&h, id, cmd, 0);
	return vfu_tran_send_buf(t, &h, p, len, fds, nr);
}

/* A raw header, as a hostile peer would write it. */
static void raw_hdr(uint8_t *b, uint16_t id, uint16_t cmd, uint32_t size, uint32_t flags)
{
	struct vfu_hdr h = { .msg_id = id, .cmd = cmd, .msg_size = size, .flags = flags };

	memcpy(b, &h, sizeof(h));
}

static void raw_send(int fd, const void *buf, size_t len, const int *fds, size_t nr)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 16)];
	} ctl;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	assert_true(nr <= 16);
	memset(&ctl, 0, sizeof(ctl));
	if (nr) {
		struct cmsghdr *c;

		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nr);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nr);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nr);
	}
	assert_int_equal(sendmsg(fd, &mh, MSG_NOSIGNAL), (ssize_t)len);
}

/* ---- socketpair fixture: a sends, b receives ---- */

struct pair {
	struct vfu_tran *a, *b;
	int raw_a; /* a's socket, for hostile writes */
	int fds_at_start;
};

static int pair_setup(void **state)
{
	struct pair *p = calloc(1, sizeof(*p));
	int sv[2];

	assert_non_null(p);
	p->fds_at_start = count_fds();
	assert_int_equal(vfu_sock_pair(sv), 0);
	assert_int_equal(vfu_tran_sock_new(sv[0], &p->a), 0);
	assert_int_equal(vfu_tran_sock_new(sv[1], &p->b), 0);
	assert_int_equal(vfu_tran_set_limits(p->a, VFU_TRAN_DEFAULT_MAX_MSG_SIZE, 8, 8), 0);
	assert_int_equal(vfu_tran_set_limits(p->b, VFU_TRAN_DEFAULT_MAX_MSG_SIZE, 8, 8), 0);
	vfu_tran_set_io_timeout(p->a, 2000);
	vfu_tran_set_io_timeout(p->b, 2000);
	p->raw_a = vfu_tran_pollfd(p->a);
	*state = p;
	return 0;
}

static int pair_teardown(void **state)
{
	struct pair *p = *state;

	vfu_tran_close(p->a);
	vfu_tran_close(p->b);
	/* every test must leave the fd table as it found it */
	assert_int_equal(count_fds(), p->fds_at_start);
	free(p);
	return 0;
}

/* Close a's end: the peer goes away. */
static void drop_a(struct pair *p)
{
	vfu_tran_close(p->a);
	p->a = NULL;
	p->raw_a = -1;
}

static void roundtrip_n(struct pair *p, size_t n)
{
	static const char payload[] = "region-bytes";
	int fds[8];
	struct vfu_msg m;

	for (size_t i = 0; i < n; i++)
		fds[i] = tagged_fd((uint8_t)(0x40 + i));
	assert_int_equal(send_req(p->a, 0x77, VFU_CMD_DEVICE_SET_IRQS, payload,
				  sizeof(payload), fds, n), 0);
	close_all(fds, n); /* the receiver's copies must stand alone */

	assert_int_equal(vfu_tran_recv(p->b, &m, 1000), 0);
	assert_int_equal(m.hdr.msg_id, 0x77);
	assert_int_equal(m.hdr.cmd, VFU_CMD_DEVICE_SET_IRQS);
	assert_int_equal(m.hdr.msg_size, 16 + sizeof(payload));
	assert_int_equal(m.hdr.flags, VFU_HDR_F_TYPE_COMMAND);
	assert_int_equal(m.len, sizeof(payload));
	assert_memory_equal(m.payload, payload, sizeof(payload));
	assert_int_equal(m.nr_fds, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(tag_of(m.fds[i]), 0x40 + (int)i);
		/* received close-on-exec: a child never inherits a peer's fd */
		assert_true(fcntl(m.fds[i], F_GETFD) & FD_CLOEXEC);
	}
	vfu_msg_release(&m);
}

static void test_sock_roundtrip_0(void **state)
{
	roundtrip_n(*state, 0);
}

static void test_sock_roundtrip_1(void **state)
{
	roundtrip_n(*state, 1);
}

static void test_sock_roundtrip_8(void **state)
{
	roundtrip_n(*state, 8);
}

static void test_sock_empty_payload(void **state)
{
	struct pair *p = *state;
	struct vfu_msg m;

	assert_int_equal(send_req(p->a, 3, VFU_CMD_DEVICE_RESET, NULL, 0, NULL, 0), 0);
	assert_int_equal(vfu_tran_recv(p->b, &m, 1000), 0);
	assert_int_equal(m.hdr.msg_size, 16);
	assert_null(m.payload);
	assert_int_equal(m.len, 0);
	vfu_msg_release(&m);
}

static void test_sock_iov_and_reply(void **state)
{
	struct pair *p = *state;
	struct vfu_hdr req, h;
	struct iovec iov[3] = {
		{ .iov_base = "ab", .iov_len = 2 },
		{ .iov_base = NULL, .iov_len = 0 },
		{ .iov_base = "cde", .iov_len = 3 },
	};
	struct vfu_msg m;

	vfu_hdr_request(&h, 9, VFU_CMD_REGION_READ, 0);
	h.msg_size = 12345; /* ignored: the transport computes it */
	assert_int_equal(vfu_tran_send(p->a, &h, iov, 3, NULL, 0), 0);
	assert_int_equal(vfu_tran_recv(p->b, &m, 1000), 0);
	assert_int_equal(m.hdr.msg_size, 21);
	assert_memory_equal(m.payload, "abcde", 5);
	req = m.hdr;
	vfu_msg_release(&m);

	/* an error reply is the header alone, whatever payload was offered */
	assert_int_equal(vfu_tran_reply(p->b, &req, -EFAULT, "xyz", 3, NULL, 0), 0);
	assert_int_equal(vfu_tran_recv(p->a, &m, 1000), 0);
	assert_int_equal(m.hdr.msg_size, 16);
	assert_int_equal(m.hdr.flags, VFU_HDR_F_TYPE_REPLY | VFU_HDR_F_ERROR);
	assert_int_equal(m.hdr.error, EFAULT);
	assert_int_equal(m.hdr.msg_id, 9);
	assert_int_equal(vfu_msg_check_reply(&m.hdr, &req, m.payload, m.len), -EFAULT);
	vfu_msg_release(&m);

	assert_int_equal(vfu_tran_reply(p->b, &req, 0, "xyz", 3, NULL, 0), 0);
	assert_int_equal(vfu_tran_recv(p->a, &m, 1000), 0);
	assert_int_equal(m.hdr.flags, VFU_HDR_F_TYPE_REPLY);
	assert_int_equal(m.len, 3);
	vfu_msg_release(&m);
}

/* Two messages with fds queued before the first recv keep their own fds. */
static void test_sock_pipelined_fds(void **state)
{
	struct pair *p = *state;
	int fa[2] = { tagged_fd(0xa0), tagged_fd(0xa1) };
	int fb[3] = { tagged_fd(0xb0), tagged_fd(0xb1), tagged_fd(0xb2) };
	struct vfu_msg m;

	assert_int_equal(send_req(p->a, 1, VFU_CMD_DMA_MAP, "AAAA", 4, fa, 2), 0);
	assert_int_equal(send_req(p->a, 2, VFU_CMD_DMA_MAP, "BBBBBB", 6, fb, 3), 0);
	close_all(fa, 2);
	close_all(fb, 3);

	assert_int_equal(vfu_tran_recv(p->b, &m, 1000), 0);
	assert_int_equal(m.hdr.msg_id, 1);
	assert_int_equal(m.nr_fds, 2);
	assert_int_equal(tag_of(m.fds[0]), 0xa0);
	assert_int_equal(tag_of(m.fds[1]), 0xa1);
	vfu_msg_release(&m);

	assert_int_equal(vfu_tran_recv(p->b, &m, 1000), 0);
	assert_int_equal(m.hdr.msg_id, 2);
	assert_int_equal(m.nr_fds, 3);
	assert_int_equal(tag_of(m.fds[0]), 0xb0);
	assert_int_equal(tag_of(m.fds[2]), 0xb2);
	vfu_msg_release(&m);
}

/*
 * A peer that splits its writes: fds sent with bytes of message 1's payload
 * belong to message 1, never to message 2 read later.
 */
static void test_sock_fds_follow_their_bytes(void **state)
{
	struct pair *p = *state;
	uint8_t h1[16], h2[16], body[8] = { 0 };
	int x = tagged_fd(0x11), y = tagged_fd(0x22);
	struct vfu_msg m;
	int take;

	raw_hdr(h1, 1, VFU_CMD_DEVICE_FEATURE, 16 + 8, 0);
	raw_hdr(h2, 2, VFU_CMD_DEVICE_RESET, 16, 0);
	raw_send(p->raw_a, h1, 16, NULL, 0);
	raw_send(p->raw_a, body, 8, &x, 1);
	raw_send(p->raw_a, h2, 16, &y, 1);
	close(x);
	close(y);

	assert_int_equal(vfu_tran_recv(p->b, &m, 1000), 0);
	assert_int_equal(m.hdr.msg_id, 1);
	assert_int_equal(m.nr_fds, 1);
	assert_int_equal(tag_of(m.fds[0]), 0x11);
	/* take one fd: release must not close it */
	take = vfu_msg_take_fd(&m, 0);
	assert_true(take >= 0);
	assert_int_equal(vfu_msg_take_fd(&m, 0), -EBADF);
	assert_int_equal(vfu_msg_take_fd(&m, 1), -ENOENT);
	vfu_msg_release(&m);
	assert_int_equal(tag_of(take), 0x11);
	close(take);

	assert_int_equal(vfu_tran_recv(p->b, &m, 1000), 0);
	assert_int_equal(m.hdr.msg_id, 2);
	assert_int_equal(m.nr_fds, 1);
	assert_int_equal(tag_of(m.fds[0]), 0x22);
	vfu_msg_release(&m);
}

static void test_sock_too_many_fds(void **state)
{
	struct pair *p = *state;
	int fds[5];
	struct vfu_msg m;
	int base;

	assert_int_equal(vfu_tran_set_limits(p->b, VFU_TRAN_DEFAULT_MAX_MSG_SIZE, 2, 1), 0);
	for (int i = 0; i < 5; i++)
		fds[i] = tagged_fd((uint8_t)i);
	assert_int_equal(send_req(p->a, 44, VFU_CMD_DEVICE_SET_IRQS, "0123456789abcdefghij", 20,
				  fds, 5), 0);
	close_all(fds, 5);
	base = count_fds();

	assert_int_equal(vfu_tran_recv(p->b, &m, 1000), -EINVAL);
	/* consumed and dropped, header kept for an error reply */
	assert_int_equal(m.hdr.msg_id, 44);
	assert_int_equal(m.nr_fds, 0);
	assert_null(m.payload);
	assert_int_equal(count_fds(), base); /* the 5 that arrived were closed */
	vfu_msg_release(&m);

	/* the stream is still in sync */
	fds[0] = tagged_fd(0x99);
	assert_int_equal(send_req(p->a, 45, VFU_CMD_DMA_MAP, "z", 1, fds, 1), 0);
	close(fds[0]);
	assert_int_equal(vfu_tran_recv(p->b, &m, 1000), 0);
	assert_int_equal(m.hdr.msg_id, 45);
	assert_int_equal(tag_of(m.fds[0]), 0x99);
	vfu_msg_release(&m);
}

static void test_sock_fds_when_none_allowed(void **state)
{
	struct pair *p = *state;
	int fd = tagged_fd(1);
	struct vfu_msg m;

	assert_int_equal(vfu_tran_set_limits(p->b, VFU_TRAN_DEFAULT_MAX_MSG_SIZE, 0, 0), 0);
	assert_int_equal(send_req(p->a, 1, VFU_CMD_VERSION, "\0\0\0\0", 4, &fd, 1), 0);
	close(fd);
	assert_int_equal(vfu_tran_recv(p->b, &m, 1000), -EINVAL);
	vfu_msg_release(&m);
}

/* msg_size < 16: fatal (nothing to skip by), but the header is kept so an
 * error reply can name the msg_id; the fd that came with it is closed. */
static void test_sock_header_too_small(void **state)
{
	struct pair *p = *state;
	uint8_t h[16];
	int fd = tagged_fd(5);
	struct vfu_msg m;

	raw_hdr(h, 0x1234, VFU_CMD_DEVICE_RESET, 15, 0);
	raw_send(p->raw_a, h, 16, &fd, 1);
	close(fd);
	assert_int_equal(vfu_tran_recv(p->b, &m, 1000), -EPROTO);
	assert_int_equal(m.hdr.msg_id, 0x1234);
	assert_int_equal(m.hdr.cmd, VFU_CMD_DEVICE_RESET);
	assert_int_equal(m.hdr.msg_size, 15);
	assert_int_equal(m.nr_fds, 0);
	assert_null(m.payload);
	assert_int_equal(vfu_tran_recv_error(p->b), -EPROTO);
	vfu_msg_release(&m);
	/* the stream cannot be trusted any more, even when more follows */
	assert_int_equal(send_req(p->a, 2, VFU_CMD_DEVICE_RESET, NULL, 0, NULL, 0), 0);
	assert_int_equal(vfu_tran_recv(p->b, &m, 1000), -EPIPE);
	assert_int_equal(m.hdr.msg_id, 0);
	vfu_msg_release(&m);
	/* teardown checks that fd 5 did not leak */
}

/* msg_size 0 too: the header is still reported as it came. */
static void test_sock_header_size_zero(void **state)
{
	struct pair *p = *state;
	uint8_t h[16];
	struct vfu_msg m;

	raw_hdr(h, 77, VFU_CMD_REGION_READ, 0, 0);
	raw_send(p->raw_a, h, 16, NULL, 0);
	assert_int_equal(vfu_tran_recv(p->b, &m, 1000), -EPROTO);
	assert_int_equal(m.hdr.msg_id, 77);
	assert_int_equal(m.hdr.cmd, VFU_CMD_REGION_READ);
	assert_int_equal(m.hdr.msg_size, 0);
	vfu_msg_release(&m);
	assert_int_equal(vfu_tran_recv(p->b, &m, 0), -EPIPE);
	vfu_msg_release(&m);
}

/*
 * Over the limit: the header is kept for an error reply, the payload is
 * read and dropped (split writes, fds on the header and in the middle,
 * all closed), and the stream stays in sync: the next message, with its
 * own fd, comes whole. The error reply reaches the sender.
 */
static void test_sock_header_too_big(void **state)
{
	struct pair *p = *state;
	uint8_t h[16], body[6000];
	int x = tagged_fd(7), y = tagged_fd(8), z = tagged_fd(9);
	struct vfu_hdr req;
	struct vfu_msg m;
	int base;

	assert_int_equal(vfu_tran_set_limits(p->b, 4096, 8, 8), 0);
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(0xff - i);
	raw_hdr(h, 0x4242, VFU_CMD_REGION_WRITE, 16 + sizeof(body), 0);
	raw_send(p->raw_a, h, 16, &x, 1);
	raw_send(p->raw_a, body, 1000, NULL, 0);
	raw_send(p->raw_a, body + 1000, 3000, &y, 1);
	raw_send(p->raw_a, body + 4000, sizeof(body) - 4000, NULL, 0);
	assert_int_equal(send_req(p->a, 0x4343, VFU_CMD_DMA_MAP, "next", 4, &z, 1), 0);
	close(x);
	close(y);
	close(z);
	base = count_fds();

	assert_int_equal(vfu_tran_recv(p->b, &m, 1000), -EMSGSIZE);
	assert_int_equal(m.hdr.msg_id, 0x4242);
	assert_int_equal(m.hdr.cmd, VFU_CMD_REGION_WRITE);
	assert_int_equal(m.hdr.msg_size, 16 + sizeof(body));
	assert_int_equal(m.hdr.flags, VFU_HDR_F_TYPE_COMMAND);
	assert_null(m.payload);
	assert_int_equal(m.len, 0);
	assert_int_equal(m.nr_fds, 0);
	assert_int_equal(count_fds(), base); /* x and y arrived and were closed */
	assert_int_equal(vfu_tran_recv_error(p->b), 0); /* not fatal */
	req = m.hdr;
	vfu_msg_release(&m);
	assert_int_equal(vfu_tran_reply(p->b, &req, -EMSGSIZE, NULL, 0, NULL, 0), 0);

	/* in sync: the next message and its fd */
	assert_int_equal(vfu_tran_recv(p->b, &m, 1000), 0);
	assert_int_equal(m.hdr.msg_id, 0x4343);
	assert_int_equal(m.len, 4);
	assert_memory_equal(m.payload, "next", 4);
	assert_int_equal(m.nr_fds, 1);
	assert_int_equal(tag_of(m.fds[0]), 9);
	vfu_msg_release(&m);

	/* and the sender got its error reply */
	assert_int_equal(vfu_tran_recv(p->a, &m, 1000), 0);
	assert_int_equal(m.hdr.msg_id, 0x4242);
	assert_int_equal(m.hdr.flags, VFU_HDR_F_TYPE_REPLY | VFU_HDR_F_ERROR);
	assert_int_equal(m.hdr.error, EMSGSIZE);
	vfu_msg_release(&m);
}

/* A writer thread (no cmocka asserts off the main thread). */
struct writer {
	int fd;
	int delay_ms;
	const uint8_t *buf;
	size_t len;
	bool close_after; /* shutdown(SHUT_WR) once written */
	int rc;
	pthread_t th;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	size_t off = 0;

	if (w->delay_ms > 0) {
		struct timespec ts = { .tv_sec = w->delay_ms / 1000,
				       .tv_nsec = (long)(w->delay_ms % 1000) * 1000000L };

		nanosleep(&ts, NULL);
	}
	w->rc = 0;
	while (off < w->len) {
		ssize_t n = send(w->fd, w->buf + off, w->len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			w->rc = -errno;
			break;
		}
		off += (size_t)n;
	}
	if (w->close_after)
		shutdown(w->fd, SHUT_WR);
	return NULL;
}

static void writer_start(struct writer *w, int fd, int delay_ms, const void *buf, size_t len)
{
	w->fd = fd;
	w->delay_ms = delay_ms;
	w->buf = buf;
	w->len = len;
	assert_int_equal(pthread_create(&w->th, NULL, writer_main, w), 0);
}

static void writer_join(struct writer *w)
{
	assert_int_equal(pthread_join(w->th, NULL), 0);
	assert_int_equal(w->rc, 0);
}

/*
 * An oversized message far larger than the socket buffer and the receive
 * buffer: skipped in many pieces while the writer still writes. Meanwhile
 * an earlier message holds the transport's buffer: the skip must not write
 * into it.
 */
static void test_sock_oversized_large(void **state)
{
	struct pair *p = *state;
	const size_t body = 3u * 1024u * 1024u + 123u;
	size_t len = 16 + body + 16 + 5;
	uint8_t *stream = calloc(1, len);
	struct writer w = { .close_after = false };
	struct vfu_msg held, m;
	uint8_t pattern[300];

	assert_non_null(stream);
	assert_int_equal(vfu_tran_set_limits(p->b, 64 * 1024, 8, 8), 0);
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 13 + 5);
	assert_int_equal(send_req(p->a, 1, VFU_CMD_REGION_WRITE, pattern, sizeof(pattern), NULL, 0), 0);
	assert_int_equal(vfu_tran_recv(p->b, &held, 1000), 0);
	assert_non_null(held.loan); /* it borrows the transport's buffer */

	raw_hdr(stream, 2, VFU_CMD_REGION_WRITE, (uint32_t)(16 + body), 0);
	memset(stream + 16, 0xee, body);
	raw_hdr(stream + 16 + body, 3, VFU_CMD_DEVICE_FEATURE, 16 + 5, 0);
	memcpy(stream + 32 + body, "after", 5);
	writer_start(&w, p->raw_a, 0, stream, len);

	assert_int_equal(vfu_tran_recv(p->b, &m, 2000), -EMSGSIZE);
	assert_int_equal(m.hdr.msg_id, 2);
	assert_int_equal(m.hdr.msg_size, 16 + body);
	assert_int_equal(vfu_tran_recv_error(p->b), 0);
	vfu_msg_release(&m);
	assert_int_equal(vfu_tran_recv(p->b, &m, 2000), 0);
	assert_int_equal(m.hdr.msg_id, 3);
	assert_memory_equal(m.payload, "after", 5);
	vfu_msg_release(&m);
	writer_join(&w);

	/* the held message was not overwritten by the skip */
	assert_memory_equal(held.payload, pattern, sizeof(pattern));
	vfu_msg_release(&held);

	/* and once the buffer is free, skipping may use it */
	w.close_after = false;
	writer_start(&w, p->raw_a, 0, stream, len);
	assert_int_equal(vfu_tran_recv(p->b, &m, 2000), -EMSGSIZE);
	vfu_msg_release(&m);
	assert_int_equal(vfu_tran_recv(p->b, &m, 2000), 0);
	assert_int_equal(m.hdr.msg_id, 3);
	vfu_msg_release(&m);
	writer_join(&w);
	free(stream);
}

/* The peer leaves while its oversized message is skipped: the result still
 * names the message, but the stream is lost (and says why). */
static void test_sock_oversized_peer_gone(void **state)
{
	struct pair *p = *state;
	uint8_t buf[16 + 10] = { 0 };
	int fd = tagged_fd(4);
	struct vfu_msg m;

	assert_int_equal(vfu_tran_set_limits(p->b, 4096, 8, 8), 0);
	raw_hdr(buf, 9, VFU_CMD_REGION_WRITE, UINT32_MAX, 0); /* "4 GiB" */
	raw_send(p->raw_a, buf, 16, NULL, 0);
	raw_send(p->raw_a, buf + 16, 10, &fd, 1);
	close(fd);
	drop_a(p);
	vfu_tran_set_io_timeout(p->b, -1); /* EOF must end it, not a timer */
	assert_int_equal(vfu_tran_recv(p->b, &m, -1), -EMSGSIZE);
	assert_int_equal(m.hdr.msg_id, 9);
	assert_int_equal(m.hdr.msg_size, UINT32_MAX);
	assert_int_equal(m.nr_fds, 0);
	assert_int_equal(vfu_tran_recv_error(p->b), -ECONNRESET);
	vfu_msg_release(&m);
	assert_int_equal(vfu_tran_recv(p->b, &m, 0), -EPIPE);
	vfu_msg_release(&m);
	/* teardown checks that fd 4 did not leak */
}

/* The peer stalls in an oversized message: each read waits io_timeout_ms. */
static void test_sock_oversized_stall(void **state)
{
	struct pair *p = *state;
	uint8_t buf[16 + 100] = { 0 };
	struct vfu_msg m;
	int64_t t0, dt;

	assert_int_equal(vfu_tran_set_limits(p->b, 64, 8, 8), 0);
	raw_hdr(buf, 10, VFU_CMD_REGION_WRITE, 16 + 200, 0);
	raw_send(p->raw_a, buf, sizeof(buf), NULL, 0);
	vfu_tran_set_io_timeout(p->b, 100);
	t0 = now_ms();
	assert_int_equal(vfu_tran_recv(p->b, &m, -1), -EMSGSIZE);
	dt = now_ms() - t0;
	assert_true(dt >= 90 && dt < 2000);
	assert_int_equal(m.hdr.msg_id, 10);
	assert_int_equal(vfu_tran_recv_error(p->b), -ETIMEDOUT);
	vfu_msg_release(&m);
	assert_int_equal(vfu_tran_recv(p->b, &m, 0), -EPIPE);
	vfu_msg_release(&m);
}

static void test_sock_bad_flags(void **state)
{
	struct pair *p = *state;
	uint8_t buf[16 + 4] = { 0 };
	int fd = tagged_fd(3);
	struct vfu_msg m;

	raw_hdr(buf, 5, VFU_CMD_DMA_MAP, sizeof(buf), 0x2 /* type 2 */);
	raw_send(p->raw_a, buf, sizeof(buf), &fd, 1);
	close(fd);
	assert_int_equal(vfu_tran_recv(p->b, &m, 1000), -EINVAL);
	assert_int_equal(m.hdr.msg_id, 5);
	vfu_msg_release(&m);

	/* in sync: the next message is whole */
	assert_int_equal(send_req(p->a, 6, VFU_CMD_DEVICE_RESET, NULL, 0, NULL, 0), 0);
	assert_int_equal(vfu_tran_recv(p->b, &m, 1000), 0);
	assert_int_equal(m.hdr.msg_id, 6);
	vfu_msg_release(&m);
}

static void test_sock_close_mid_header(void **state)
{
	struct pair *p = *state;
	uint8_t h[16];
	struct vfu_msg m;
	int64_t t0;

	raw_hdr(h, 1, VFU_CMD_DEVICE_RESET, 16, 0);
	raw_send(p->raw_a, h, 8, NULL, 0);
	drop_a(p);
	vfu_tran_set_io_timeout(p->b, -1); /* EOF must end it, not a timer */
	t0 = now_ms();
	assert_int_equal(vfu_tran_recv(p->b, &m, -1), -ECONNRESET);
	assert_true(now_ms() - t0 < 1000);
	vfu_msg_release(&m);
}

static void test_sock_close_mid_payload(void **state)
{
	struct pair *p = *state;
	uint8_t buf[16 + 10] = { 0 };
	int fd = tagged_fd(9);
	struct vfu_msg m;

	raw_hdr(buf, 1, VFU_CMD_REGION_WRITE, 16 + 100, 0);
	raw_send(p->raw_a, buf, sizeof(buf), &fd, 1);
	close(fd);
	drop_a(p);
	vfu_tran_set_io_timeout(p->b, -1);
	assert_int_equal(vfu_tran_recv(p->b, &m, -1), -ECONNRESET);
	assert_int_equal(m.nr_fds, 0);
	assert_null(m.payload);
	vfu_msg_release(&m);
	/* teardown checks that fd 9 did not leak */
}

static void test_sock_stall_mid_payload(void **state)
{
	struct pair *p = *state;
	uint8_t buf[16 + 10] = { 0 };
	struct vfu_msg m;
	int64_t t0, dt;

	raw_hdr(buf, 1, VFU_CMD_REGION_WRITE, 16 + 100, 0);
	raw_send(p->raw_a, buf, sizeof(buf), NULL, 0);
	vfu_tran_set_io_timeout(p->b, 100);
	t0 = now_ms();
	assert_int_equal(vfu_tran_recv(p->b, &m, -1), -ETIMEDOUT);
	dt = now_ms() - t0;
	assert_true(dt >= 90 && dt < 2000);
	assert_int_equal(vfu_tran_recv(p->b, &m, 0), -EPIPE);
	vfu_msg_release(&m);
}

static void test_sock_clean_close_and_timeout(void **state)
{
	struct pair *p = *state;
	struct vfu_msg m;

	/* nothing there: -EAGAIN, and nothing is lost */
	assert_int_equal(vfu_tran_recv(p->b, &m, 0), -EAGAIN);
	assert_int_equal(vfu_tran_recv(p->b, &m, 20), -EAGAIN);
	assert_int_equal(send_req(p->a, 1, VFU_CMD_DEVICE_RESET, NULL, 0, NULL, 0), 0);
	assert_int_equal(vfu_tran_recv(p->b, &m, 0), 0);
	vfu_msg_release(&m);

	drop_a(p);
	assert_int_equal(vfu_tran_recv(p->b, &m, -1), -ENOTCONN);
	vfu_msg_release(&m);
}

static void test_sock_send_errors(void **state)
{
	struct pair *p = *state;
	struct vfu_hdr h;
	int fds[9];
	struct iovec iov[VFU_TRAN_MAX_IOV + 1];

	for (int i = 0; i < 9; i++)
		fds[i] = tagged_fd((uint8_t)i);
	vfu_hdr_request(&h, 1, VFU_CMD_DEVICE_SET_IRQS, 0);
	assert_int_equal(vfu_tran_send_buf(p->a, &h, "x", 1, fds, 9), -EINVAL);
	close(fds[8]);
	fds[8] = -1;
	assert_int_equal(vfu_tran_set_limits(p->a, 4096, 8, 9), 0);
	assert_int_equal(vfu_tran_send_buf(p->a, &h, "x", 1, fds, 9), -EBADF);
	assert_int_equal(vfu_tran_send_buf(p->a, &h, NULL, 1, NULL, 0), -EINVAL);
	memset(iov, 0, sizeof(iov));
	assert_int_equal(vfu_tran_send(p->a, &h, iov, VFU_TRAN_MAX_IOV + 1, NULL, 0), -EINVAL);
	h.flags = 0x40; /* our own bad header */
	assert_int_equal(vfu_tran_send_buf(p->a, &h, NULL, 0, NULL, 0), -EINVAL);
	close_all(fds, 8);

	/* none of those were fatal */
	vfu_hdr_request(&h, 1, VFU_CMD_DEVICE_RESET, 0);
	assert_int_equal(vfu_tran_send_buf(p->a, &h, NULL, 0, NULL, 0), 0);

	/* peer gone: -EPIPE, no SIGPIPE, and it sticks */
	vfu_tran_close(p->b);
	p->b = NULL;
	assert_int_equal(vfu_tran_send_buf(p->a, &h, NULL, 0, NULL, 0), -EPIPE);
	assert_int_equal(vfu_tran_send_buf(p->a, &h, NULL, 0, NULL, 0), -EPIPE);
}

static void test_sock_limits(void **state)
{
	struct pair *p = *state;

	assert_int_equal(vfu_tran_set_limits(p->a, 15, 1, 1), -EINVAL);
	assert_int_equal(vfu_tran_set_limits(p->a, VFU_TRAN_MAX_MSG_SIZE_LIMIT + 1, 1, 1), -EINVAL);
	assert_int_equal(vfu_tran_set_limits(p->a, 4096, VFU_MSG_MAX_FDS + 1, 1), -EINVAL);
	assert_int_equal(vfu_tran_set_limits(p->a, 4096, 1, VFU_MSG_MAX_FDS + 1), -EINVAL);
	assert_int_equal(vfu_tran_set_limits(p->a, 16, 0, 0), 0);
	assert_int_equal(vfu_tran_sock_new(-1, &p->a), -EBADF);
	assert_non_null(p->a);
}

/* ---- fd attribution when several messages wait in the socket ---- */

/* A message as bytes: header + @len payload bytes of @fill. */
static size_t raw_msg(uint8_t *b, uint16_t id, size_t len, uint8_t fill)
{
	raw_hdr(b, id, VFU_CMD_DEVICE_FEATURE, (uint32_t)(16 + len), 0);
	memset(b + 16, fill, len);
	return 16 + len;
}

/* Receive message @id with @len payload bytes and fds tagged @tags. */
static void expect_msg(struct vfu_tran *t, uint16_t id, size_t len, const int *tags, size_t nr)
{
	struct vfu_msg m;

	assert_int_equal(vfu_tran_recv(t, &m, 1000), 0);
	assert_int_equal(m.hdr.msg_id, id);
	assert_int_equal(m.len, len);
	assert_int_equal(m.nr_fds, nr);
	for (size_t i = 0; i < nr; i++)
		assert_int_equal(tag_of(m.fds[i]), tags[i]);
	vfu_msg_release(&m);
}

/*
 * Everything is queued before the first recv. Linux hands one recvmsg the
 * bytes of several sendmsgs, up to and including the first that carries
 * fds, without saying where that one began: a receiver reading ahead
 * would see message 1's bytes and message 2's fd in one read. Each fd
 * must still go to the message its sendmsg began in:
 *   1 (no fd) | 2 (a) | 3 header only | 4 (b)            one sendmsg each
 *   5 header | [5 payload + 6 whole] (c)                  c belongs to 5
 *   [7 whole + 8 header] (d) | 8 payload                  d belongs to 7
 *   9 header (e) | 9 payload (f) | 10 (g)                 e, f -> 9
 */
static void test_sock_pipelined_attribution(void **state)
{
	struct pair *p = *state;
	uint8_t b[1024];
	int a = tagged_fd(0xa), bb = tagged_fd(0xb), c = tagged_fd(0xc), d = tagged_fd(0xd);
	int e = tagged_fd(0xe), f = tagged_fd(0xf), g = tagged_fd(0x10);
	const int ta[] = { 0xa }, tb[] = { 0xb }, tc[] = { 0xc }, td[] = { 0xd };
	const int tef[] = { 0xe, 0xf }, tg[] = { 0x10 };
	size_t n, n2;

	n = raw_msg(b, 1, 40, 0x01);
	raw_send(p->raw_a, b, n, NULL, 0);
	n = raw_msg(b, 2, 8, 0x02);
	raw_send(p->raw_a, b, n, &a, 1);
	n = raw_msg(b, 3, 0, 0);
	raw_send(p->raw_a, b, n, NULL, 0);
	n = raw_msg(b, 4, 3, 0x04);
	raw_send(p->raw_a, b, n, &bb, 1);

	n = raw_msg(b, 5, 20, 0x05);
	raw_send(p->raw_a, b, 16, NULL, 0);
	n2 = raw_msg(b + n, 6, 7, 0x06);
	raw_send(p->raw_a, b + 16, n - 16 + n2, &c, 1);

	n = raw_msg(b, 7, 12, 0x07);
	n2 = raw_msg(b + n, 8, 9, 0x08);
	raw_send(p->raw_a, b, n + 16, &d, 1);
	raw_send(p->raw_a, b + n + 16, n2 - 16, NULL, 0);

	n = raw_msg(b, 9, 30, 0x09);
	raw_send(p->raw_a, b, 16, &e, 1);
	raw_send(p->raw_a, b + 16, n - 16, &f, 1);
	n = raw_msg(b, 10, 1, 0x0a);
	raw_send(p->raw_a, b, n, &g, 1);
	close(a);
	close(bb);
	close(c);
	close(d);
	close(e);
	close(f);
	close(g);

	expect_msg(p->b, 1, 40, NULL, 0);
	expect_msg(p->b, 2, 8, ta, 1);
	expect_msg(p->b, 3, 0, NULL, 0);
	expect_msg(p->b, 4, 3, tb, 1);
	expect_msg(p->b, 5, 20, tc, 1);
	expect_msg(p->b, 6, 7, NULL, 0);
	expect_msg(p->b, 7, 12, td, 1);
	expect_msg(p->b, 8, 9, NULL, 0);
	expect_msg(p->b, 9, 30, tef, 2);
	expect_msg(p->b, 10, 1, tg, 1);
}

/*
 * A received message leaves the next one in the socket, untouched: poll
 * still reports it, and whoever reads the socket directly (the client's
 * fast path does) finds its header first.
 */
static void test_sock_no_read_ahead(void **state)
{
	struct pair *p = *state;
	struct pollfd pfd = { .fd = vfu_tran_pollfd(p->b), .events = POLLIN };
	uint8_t peek[64];
	struct vfu_hdr h;
	struct vfu_msg m;

	assert_int_equal(send_req(p->a, 1, VFU_CMD_REGION_READ, "0123456789abcdef", 16, NULL, 0), 0);
	assert_int_equal(send_req(p->a, 2, VFU_CMD_DEVICE_RESET, NULL, 0, NULL, 0), 0);
	assert_int_equal(send_req(p->a, 3, VFU_CMD_REGION_READ, "fedcba9876543210", 16, NULL, 0), 0);
	assert_int_equal(vfu_tran_recv(p->b, &m, 1000), 0);
	assert_int_equal(m.hdr.msg_id, 1);
	vfu_msg_release(&m);
	assert_int_equal(poll(&pfd, 1, 0), 1);
	assert_int_equal(recv(pfd.fd, peek, sizeof(peek), MSG_PEEK | MSG_DONTWAIT), 16 + 32);
	memcpy(&h, peek, sizeof(h));
	assert_int_equal(h.msg_id, 2);
	assert_int_equal(vfu_tran_recv(p->b, &m, 0), 0);
	assert_int_equal(m.hdr.msg_id, 2);
	vfu_msg_release(&m);
	assert_int_equal(recv(pfd.fd, peek, sizeof(peek), MSG_PEEK | MSG_DONTWAIT), 32);
	assert_int_equal(vfu_tran_recv(p->b, &m, 0), 0);
	assert_int_equal(m.hdr.msg_id, 3);
	vfu_msg_release(&m);
	assert_int_equal(poll(&pfd, 1, 0), 0);
}

/* ---- the reusable receive buffer ---- */

static void fill_pattern(uint8_t *b, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)((i * 31u + seed * 7u + (i >> 8)) ^ seed);
}

static bool check_pattern(const uint8_t *b, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++)
		if (b[i] != (uint8_t)((i * 31u + seed * 7u + (i >> 8)) ^ seed))
			return false;
	return true;
}

/*
 * A small payload borrows the transport's buffer; while it is borrowed the
 * next message gets its own; a payload above VFU_TRAN_RXBUF_SIZE is always
 * its own; once given back, the buffer is used again.
 */
static void test_rxbuf_lend(void **state)
{
	struct pair *p = *state;
	static uint8_t big[VFU_TRAN_RXBUF_SIZE + 1];
	uint8_t small[200];
	struct vfu_msg m1, m2, m3;
	uintptr_t lent;

	fill_pattern(small, sizeof(small), 1);
	assert_int_equal(send_req(p->a, 1, VFU_CMD_REGION_WRITE, small, sizeof(small), NULL, 0), 0);
	fill_pattern(small, sizeof(small), 2);
	assert_int_equal(send_req(p->a, 2, VFU_CMD_REGION_WRITE, small, sizeof(small), NULL, 0), 0);

	assert_int_equal(vfu_tran_recv(p->b, &m1, 1000), 0);
	assert_non_null(m1.loan);
	lent = (uintptr_t)m1.payload;
	assert_int_equal(vfu_tran_recv(p->b, &m2, 1000), 0);
	assert_null(m2.loan);
	assert_true((uintptr_t)m2.payload != lent);
	assert_true(check_pattern(m1.payload, m1.len, 1));
	assert_true(check_pattern(m2.payload, m2.len, 2));
	vfu_msg_release(&m1);

	fill_pattern(big, sizeof(big), 3);
	assert_int_equal(send_req(p->a, 3, VFU_CMD_REGION_WRITE, big, sizeof(big), NULL, 0), 0);
	assert_int_equal(vfu_tran_recv(p->b, &m3, 1000), 0);
	assert_null(m3.loan);
	assert_int_equal(m3.len, sizeof(big));
	assert_true(check_pattern(m3.payload, m3.len, 3));
	vfu_msg_release(&m3);

	fill_pattern(small, sizeof(small), 4);
	assert_int_equal(send_req(p->a, 4, VFU_CMD_REGION_WRITE, small, 100, NULL, 0), 0);
	assert_int_equal(vfu_tran_recv(p->b, &m1, 1000), 0);
	assert_non_null(m1.loan);
	assert_true((uintptr_t)m1.payload == lent); /* the same buffer again */
	assert_true(check_pattern(m1.payload, m1.len, 4));
	/* still intact after m2's own buffer is freed */
	vfu_msg_release(&m2);
	assert_true(check_pattern(m1.payload, m1.len, 4));
	vfu_msg_release(&m1);
}

/* A message moved by struct copy keeps its loan; one dropped whole (bad
 * flags) gives the buffer back at once. */
static void test_rxbuf_move_and_drop(void **state)
{
	struct pair *p = *state;
	uint8_t small[64];
	uint8_t bad[16 + 10] = { 0 };
	struct vfu_msg m, moved;

	fill_pattern(small, sizeof(small), 5);
	assert_int_equal(send_req(p->a, 1, VFU_CMD_REGION_WRITE, small, sizeof(small), NULL, 0), 0);
	assert_int_equal(vfu_tran_recv(p->b, &m, 1000), 0);
	assert_non_null(m.loan);
	moved = m; /* what the server's queue does */
	vfu_msg_init(&m);
	vfu_msg_release(&m); /* an empty message gives nothing back */

	fill_pattern(small, sizeof(small), 6);
	assert_int_equal(send_req(p->a, 2, VFU_CMD_REGION_WRITE, small, sizeof(small), NULL, 0), 0);
	assert_int_equal(vfu_tran_recv(p->b, &m, 1000), 0);
	assert_null(m.loan); /* moved still holds the buffer */
	assert_true(check_pattern(moved.payload, moved.len, 5));
	vfu_msg_release(&m);
	vfu_msg_release(&moved);

	/* bad flags: read whole into the buffer, then dropped and given back */
	raw_hdr(bad, 3, VFU_CMD_REGION_WRITE, sizeof(bad), 0x2);
	raw_send(p->raw_a, bad, sizeof(bad), NULL, 0);
	assert_int_equal(vfu_tran_recv(p->b, &m, 1000), -EINVAL);
	assert_null(m.payload);
	assert_null(m.loan);
	vfu_msg_release(&m);
	assert_int_equal(send_req(p->a, 4, VFU_CMD_REGION_WRITE, small, sizeof(small), NULL, 0), 0);
	assert_int_equal(vfu_tran_recv(p->b, &m, 1000), 0);
	assert_non_null(m.loan);
	vfu_msg_release(&m);
}

/* A borrowed payload stays valid after its transport is closed (ASan
 * checks both the read and that nothing leaks). */
static void test_rxbuf_outlives_transport(void **state)
{
	struct pair *p = *state;
	uint8_t small[500];
	struct vfu_msg m;

	fill_pattern(small, sizeof(small), 7);
	assert_int_equal(send_req(p->a, 1, VFU_CMD_REGION_WRITE, small, sizeof(small), NULL, 0), 0);
	assert_int_equal(vfu_tran_recv(p->b, &m, 1000), 0);
	assert_non_null(m.loan);
	vfu_tran_close(p->b);
	p->b = NULL;
	assert_true(check_pattern(m.payload, m.len, 7));
	vfu_msg_release(&m);
}

/*
 * Messages released on another thread, late and out of step with the
 * receiver: the receiver must never reuse a buffer still borrowed. Every
 * payload is checked by the releasing thread.
 */
#define HANDOFF_MAX 4
#define HANDOFF_MSGS 3000

struct handoff {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct vfu_msg q[HANDOFF_MAX];
	size_t head, len;
	bool done;
	unsigned bad, checked, lent;
};

static void *checker_main(void *arg)
{
	struct handoff *h = arg;

	for (;;) {
		struct vfu_msg m;
		struct timespec ts = { 0, 20000 };

		pthread_mutex_lock(&h->mu);
		while (h->len == 0 && !h->done)
			pthread_cond_wait(&h->cv, &h->mu);
		if (h->len == 0) {
			pthread_mutex_unlock(&h->mu);
			return NULL;
		}
		m = h->q[h->head];
		vfu_msg_init(&h->q[h->head]);
		h->head = (h->head + 1) % HANDOFF_MAX;
		h->len--;
		pthread_cond_broadcast(&h->cv);
		pthread_mutex_unlock(&h->mu);

		/* look at it a little later, while the receiver goes on */
		nanosleep(&ts, NULL);
		if (!check_pattern(m.payload, m.len, m.hdr.msg_id))
			h->bad++;
		if (m.loan)
			h->lent++;
		h->checked++;
		vfu_msg_release(&m);
	}
}

struct flood {
	struct vfu_tran *t;
	int rc;
};

static void *flood_main(void *arg)
{
	struct flood *f = arg;
	uint8_t buf[3000];

	f->rc = 0;
	for (unsigned i = 0; i < HANDOFF_MSGS && f->rc == 0; i++) {
		size_t len = 1 + (i * 977u) % sizeof(buf);

		fill_pattern(buf, len, (uint16_t)i);
		f->rc = send_req(f->t, (uint16_t)i, VFU_CMD_REGION_WRITE, buf, len, NULL, 0);
	}
	return NULL;
}

static void release_elsewhere(struct pair *p)
{
	struct handoff h = { .head = 0 };
	struct flood f = { .t = p->a };
	pthread_t checker, flood;

	pthread_mutex_init(&h.mu, NULL);
	pthread_cond_init(&h.cv, NULL);
	assert_int_equal(pthread_create(&checker, NULL, checker_main, &h), 0);
	assert_int_equal(pthread_create(&flood, NULL, flood_main, &f), 0);
	for (unsigned i = 0; i < HANDOFF_MSGS; i++) {
		struct vfu_msg m;

		assert_int_equal(vfu_tran_recv(p->b, &m, 5000), 0);
		assert_int_equal(m.hdr.msg_id, (uint16_t)i);
		pthread_mutex_lock(&h.mu);
		while (h.len == HANDOFF_MAX)
			pthread_cond_wait(&h.cv, &h.mu);
		h.q[(h.head + h.len) % HANDOFF_MAX] = m;
		h.len++;
		pthread_cond_broadcast(&h.cv);
		pthread_mutex_unlock(&h.mu);
	}
	pthread_mutex_lock(&h.mu);
	h.done = true;
	pthread_cond_broadcast(&h.cv);
	pthread_mutex_unlock(&h.mu);
	assert_int_equal(pthread_join(flood, NULL), 0);
	assert_int_equal(pthread_join(checker, NULL), 0);
	assert_int_equal(f.rc, 0);
	assert_int_equal(h.checked, HANDOFF_MSGS);
	assert_int_equal(h.bad, 0);
	assert_true(h.lent > 0); /* the buffer was used, and given back */
	pthread_mutex_destroy(&h.mu);
	pthread_cond_destroy(&h.cv);
}

static void test_rxbuf_release_elsewhere(void **state)
{
	release_elsewhere(*state);
}

/* ---- waiting for the first byte ---- */

/* Waiting forever blocks in recvmsg; SO_RCVTIMEO set on the socket by
 * whoever owns it must not turn that into a timeout. */
static void test_sock_forever_with_rcvtimeo(void **state)
{
	struct pair *p = *state;
	struct timeval tv = { .tv_sec = 0, .tv_usec = 30000 };
	uint8_t msg[16 + 4];
	struct writer w = { .close_after = false };
	struct vfu_msg m;
	int64_t t0;

	assert_int_equal(setsockopt(vfu_tran_pollfd(p->b), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	raw_msg(msg, 21, 4, 0x21);
	t0 = now_ms();
	writer_start(&w, p->raw_a, 200, msg, sizeof(msg));
	assert_int_equal(vfu_tran_recv(p->b, &m, -1), 0);
	assert_true(now_ms() - t0 >= 150);
	assert_int_equal(m.hdr.msg_id, 21);
	vfu_msg_release(&m);
	writer_join(&w);
	/* a finite wait is still the caller's, not SO_RCVTIMEO's */
	tv.tv_usec = 0;
	tv.tv_sec = 10;
	assert_int_equal(setsockopt(vfu_tran_pollfd(p->b), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	t0 = now_ms();
	assert_int_equal(vfu_tran_recv(p->b, &m, 50), -EAGAIN);
	assert_true(now_ms() - t0 < 2000);
	vfu_msg_release(&m);
}

/* ... and a non-blocking socket waits in poll instead. */
static void test_sock_forever_nonblocking(void **state)
{
	struct pair *p = *state;
	int fd = vfu_tran_pollfd(p->b);
	uint8_t msg[16 + 9];
	struct writer w = { .close_after = false };
	struct vfu_msg m;
	int64_t t0;

	assert_int_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
	raw_msg(msg, 22, 9, 0x22);
	t0 = now_ms();
	writer_start(&w, p->raw_a, 100, msg, sizeof(msg));
	assert_int_equal(vfu_tran_recv(p->b, &m, -1), 0);
	assert_true(now_ms() - t0 >= 80);
	assert_int_equal(m.hdr.msg_id, 22);
	assert_int_equal(m.len, 9);
	vfu_msg_release(&m);
	writer_join(&w);
}

/* The receive timeout a socket keeps, in ms (0: none). */
static int rcvtimeo_ms(int fd)
{
	struct timeval tv;
	socklen_t len = sizeof(tv);

	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &len), 0);
	return (int)(tv.tv_sec * 1000 + tv.tv_usec / 1000);
}

/* Kernel waits (the server's session): a bounded read waits in recvmsg
 * under SO_RCVTIMEO, kept between reads, and still ends on time; a read
 * that may wait forever outlives the kept timeout, which then goes. */
static void test_sock_kernel_waits(void **state)
{
	struct pair *p = *state;
	int fd = vfu_tran_pollfd(p->b);
	uint8_t msg[16 + 4], msg2[16 + 4];
	struct writer w = { .close_after = false };
	struct vfu_msg m;
	int64_t t0;

	assert_int_equal(vfu_tran_set_readahead(p->b, true), 0);
	vfu_tran_set_kernel_waits(p->b, true);
	/* nothing comes: -EAGAIN after the timeout, which stays set */
	t0 = now_ms();
	assert_int_equal(vfu_tran_recv(p->b, &m, 60), -EAGAIN);
	assert_true(now_ms() - t0 >= 50);
	assert_true(now_ms() - t0 < 2000);
	assert_int_equal(rcvtimeo_ms(fd), 60);
	/* a message within the timeout; the same timeout again: kept */
	raw_msg(msg, 31, 4, 0x31);
	writer_start(&w, p->raw_a, 20, msg, sizeof(msg));
	assert_int_equal(vfu_tran_recv(p->b, &m, 60), 0);
	assert_int_equal(m.hdr.msg_id, 31);
	vfu_msg_release(&m);
	writer_join(&w);
	assert_int_equal(rcvtimeo_ms(fd), 60);
	/* forever: the kept 60 ms fire long before the message comes */
	raw_msg(msg2, 32, 4, 0x32);
	t0 = now_ms();
	writer_start(&w, p->raw_a, 300, msg2, sizeof(msg2));
	assert_int_equal(vfu_tran_recv(p->b, &m, -1), 0);
	assert_true(now_ms() - t0 >= 250);
	assert_int_equal(m.hdr.msg_id, 32);
	vfu_msg_release(&m);
	writer_join(&w);
	assert_int_equal(rcvtimeo_ms(fd), 0);
	/* a non-blocking socket: the wait is poll's, and still bounded */
	assert_int_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
	t0 = now_ms();
	assert_int_equal(vfu_tran_recv(p->b, &m, 50), -EAGAIN);
	assert_true(now_ms() - t0 >= 40);
	assert_true(now_ms() - t0 < 2000);
	vfu_msg_release(&m);
}

/* Waiting forever is for the first byte only: a header that stops half
 * way is bounded by io_timeout_ms. */
static void test_sock_stall_mid_header(void **state)
{
	struct pair *p = *state;
	uint8_t h[16];
	struct vfu_msg m;
	int64_t t0, dt;

	raw_hdr(h, 1, VFU_CMD_DEVICE_RESET, 16, 0);
	raw_send(p->raw_a, h, 7, NULL, 0);
	vfu_tran_set_io_timeout(p->b, 100);
	t0 = now_ms();
	assert_int_equal(vfu_tran_recv(p->b, &m, -1), -ETIMEDOUT);
	dt = now_ms() - t0;
	assert_true(dt >= 90 && dt < 2000);
	vfu_msg_release(&m);
}

/* ---- a message larger than the socket buffer: partial reads and writes ---- */

struct big_send {
	struct vfu_tran *t;
	uint8_t *buf;
	size_t len;
	int rc;
};

static void *big_sender(void *arg)
{
	struct big_send *s = arg;

	s->rc = send_req(s->t, 8, VFU_CMD_REGION_WRITE, s->buf, s->len, NULL, 0);
	return NULL;
}

/* A 1 MiB message from a sending thread, with read-ahead @ra on or off. */
static void large_message(struct pair *p, bool ra)
{
	struct big_send s = { .t = p->a, .len = VFU_DEFAULT_MAX_DATA_XFER_SIZE + 16 };
	struct vfu_msg m;
	pthread_t th;

	assert_int_equal(vfu_tran_set_readahead(p->b, ra), 0);
	s.buf = malloc(s.len);
	assert_non_null(s.buf);
	for (size_t i = 0; i < s.len; i++)
		s.buf[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(pthread_create(&th, NULL, big_sender, &s), 0);
	assert_int_equal(vfu_tran_recv(p->b, &m, 5000), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(s.rc, 0);
	assert_int_equal(m.len, s.len);
	assert_memory_equal(m.payload, s.buf, s.len);
	vfu_msg_release(&m);
	assert_int_equal(vfu_tran_buffered(p->b), 0);
	free(s.buf);
}

static void test_sock_large_message(void **state)
{
	large_message(*state, false);
}

/* ---- listen / accept / connect ---- */

static void test_sock_listen_connect(void **state)
{
	char dir[] = "/tmp/vfu-test-XXXXXX";
	char path[128], longpath[200];
	int base = count_fds(), lfd, cfd, sfd, lfd2 = -1;
	struct vfu_tran *c, *s;
	struct vfu_msg m;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sock", dir);
	assert_int_equal(vfu_sock_listen(path, 4, &lfd), 0);
	assert_int_equal(vfu_sock_accept(lfd, 0, &sfd), -EAGAIN);
	assert_int_equal(vfu_sock_listen(path, 4, &lfd2), -EADDRINUSE);

	assert_int_equal(vfu_sock_connect(path, &cfd), 0);
	assert_int_equal(vfu_sock_accept(lfd, 1000, &sfd), 0);
	assert_int_equal(vfu_tran_sock_new(cfd, &c), 0);
	assert_int_equal(vfu_tran_sock_new(sfd, &s), 0);
	assert_int_equal(send_req(c, 1, VFU_CMD_VERSION, "\0\0\0\0{}", 7, NULL, 0), 0);
	assert_int_equal(vfu_tran_recv(s, &m, 1000), 0);
	assert_int_equal(m.hdr.cmd, VFU_CMD_VERSION);
	assert_int_equal(vfu_msg_check_request(&m.hdr, m.payload, m.len), 0);
	vfu_msg_release(&m);
	vfu_tran_close(c);
	vfu_tran_close(s);
	close(lfd);

	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(vfu_sock_listen(longpath, 1, &lfd), -ENAMETOOLONG);
	assert_int_equal(vfu_sock_connect(longpath, &cfd), -ENAMETOOLONG);
	assert_int_equal(vfu_sock_listen("", 1, &lfd), -EINVAL);
	unlink(path);
	assert_int_equal(vfu_sock_connect(path, &cfd), -ENOENT);
	rmdir(dir);
	assert_int_equal(count_fds(), base);
}

/* ---- memory transport ---- */

static void test_mem_roundtrip(void **state)
{
	struct vfu_tran *a, *b;
	int fds[2];
	int base;
	uint8_t *out;
	int *ofds;
	size_t olen, onr;
	const uint8_t *peek;
	struct vfu_msg m;

	(void)state;
	base = count_fds();
	fds[0] = tagged_fd(0x51);
	fds[1] = tagged_fd(0x52);
	assert_int_equal(vfu_tran_mem_new(&a), 0);
	assert_int_equal(vfu_tran_mem_new(&b), 0);
	assert_int_equal(vfu_tran_set_limits(a, 4096, 4, 4), 0);
	assert_int_equal(vfu_tran_set_limits(b, 4096, 4, 4), 0);
	assert_int_equal(vfu_tran_pollfd(a), -ENOTSUP);

	assert_int_equal(send_req(a, 10, VFU_CMD_DMA_MAP, "payload!", 8, fds, 2), 0);
	close_all(fds, 2);
	vfu_tran_mem_sent(a, &peek, &olen, &onr);
	assert_int_equal(olen, 24);
	assert_int_equal(onr, 2);
	assert_memory_equal(peek + 16, "payload!", 8);

	assert_int_equal(vfu_tran_mem_take_sent(a, &out, &olen, &ofds, &onr), 0);
	assert_int_equal(vfu_tran_mem_feed(b, out, olen, ofds, onr), 0);
	free(out);
	free(ofds);
	vfu_tran_mem_sent(a, &peek, &olen, &onr);
	assert_int_equal(olen, 0);

	assert_int_equal(vfu_tran_recv(b, &m, 0), 0);
	assert_int_equal(m.hdr.msg_id, 10);
	assert_int_equal(m.len, 8);
	assert_int_equal(m.nr_fds, 2);
	assert_int_equal(tag_of(m.fds[0]), 0x51);
	assert_int_equal(tag_of(m.fds[1]), 0x52);
	vfu_msg_release(&m);
	/* input exhausted at a message boundary */
	assert_int_equal(vfu_tran_recv(b, &m, 0), -ENOTCONN);

	vfu_tran_close(a);
	vfu_tran_close(b);
	assert_int_equal(count_fds(), base);
}

/* Same attribution rule as the socket: a chunk's fds go with its first byte. */
static void test_mem_chunk_attribution(void **state)
{
	struct vfu_tran *t;
	uint8_t stream[16 + 8 + 16 + 4] = { 0 };
	int x = tagged_fd(1), y = tagged_fd(2), z = tagged_fd(3);
	struct vfu_msg m;
	int base;

	(void)state;
	raw_hdr(stream, 1, VFU_CMD_DEVICE_FEATURE, 24, 0);
	raw_hdr(stream + 24, 2, VFU_CMD_DEVICE_FEATURE, 20, 0);
	base = count_fds();
	assert_int_equal(vfu_tran_mem_new(&t), 0);
	assert_int_equal(vfu_tran_set_limits(t, 4096, 4, 4), 0);
	assert_int_equal(vfu_tran_mem_feed(t, stream, 10, &x, 1), 0);
	assert_int_equal(vfu_tran_mem_feed(t, stream + 10, 19, &y, 1), 0); /* ends 5 bytes into msg 2 */
	assert_int_equal(vfu_tran_mem_feed(t, stream + 29, sizeof(stream) - 29, &z, 1), 0);

	assert_int_equal(vfu_tran_recv(t, &m, 0), 0);
	assert_int_equal(m.hdr.msg_id, 1);
	assert_int_equal(m.nr_fds, 2);
	assert_int_equal(tag_of(m.fds[0]), 1);
	assert_int_equal(tag_of(m.fds[1]), 2);
	vfu_msg_release(&m);
	assert_int_equal(vfu_tran_recv(t, &m, 0), 0);
	assert_int_equal(m.hdr.msg_id, 2);
	assert_int_equal(m.nr_fds, 1);
	assert_int_equal(tag_of(m.fds[0]), 3);
	vfu_msg_release(&m);
	vfu_tran_close(t);
	assert_int_equal(count_fds(), base - 3);
}

/* The peer's action in a pause: counts its runs. */
static void count_act(void *arg)
{
	(*(int *)arg)++;
}

/*
 * A pause: taken only after every byte before it (also in read-ahead
 * mode, whose reads would glue chunks), its action run once, its silence
 * waited through in virtual time - a read allowed to wait less gives up
 * (-EAGAIN) and leaves the rest; a silence inside a message longer than
 * the I/O timeout loses the stream - and no real time spent on it.
 */
static void pause_in_stream(bool readahead)
{
	uint8_t a[24] = { 0 }, b[20] = { 0 };
	int64_t t0 = now_ms(), v0 = vfu_tran_now_ms();
	struct vfu_tran *t;
	struct vfu_msg m;
	int acts = 0;

	raw_hdr(a, 1, VFU_CMD_DEVICE_FEATURE, sizeof(a), 0);
	raw_hdr(b, 2, VFU_CMD_DEVICE_FEATURE, sizeof(b), 0);
	assert_int_equal(vfu_tran_mem_new(&t), 0);
	assert_int_equal(vfu_tran_set_limits(t, 4096, 4, 4), 0);
	assert_int_equal(vfu_tran_set_readahead(t, readahead), 0);
	vfu_tran_set_io_timeout(t, 5000);
	assert_int_equal(vfu_tran_mem_feed(t, a, sizeof(a), NULL, 0), 0);
	assert_int_equal(vfu_tran_mem_feed_pause(t, 3000, count_act, &acts), 0);
	assert_int_equal(vfu_tran_mem_feed(t, b, sizeof(b), NULL, 0), 0);
	/* a message split by a silence longer than the I/O timeout */
	assert_int_equal(vfu_tran_mem_feed(t, a, 10, NULL, 0), 0);
	assert_int_equal(vfu_tran_mem_feed_pause(t, 6000, NULL, NULL), 0);
	assert_int_equal(vfu_tran_mem_feed(t, a + 10, sizeof(a) - 10, NULL, 0), 0);

	assert_int_equal(vfu_tran_recv(t, &m, -1), 0);
	assert_int_equal(m.hdr.msg_id, 1);
	vfu_msg_release(&m);
	assert_int_equal(acts, 0); /* not before the server took message 1 */
	assert_int_equal(vfu_tran_recv(t, &m, 0), -EAGAIN);
	assert_int_equal(acts, 1);
	assert_int_equal(vfu_tran_recv(t, &m, 1000), -EAGAIN);
	assert_true(vfu_tran_now_ms() - v0 >= 1000);
	assert_int_equal(vfu_tran_recv(t, &m, -1), 0);
	assert_int_equal(m.hdr.msg_id, 2);
	vfu_msg_release(&m);
	assert_int_equal(acts, 1);
	assert_true(vfu_tran_now_ms() - v0 >= 3000);
	assert_int_equal(vfu_tran_recv(t, &m, -1), -ETIMEDOUT);
	vfu_msg_release(&m);
	assert_true(vfu_tran_now_ms() - v0 >= 8000);
	assert_true(now_ms() - t0 < 1000); /* virtual: nobody slept */
	vfu_tran_close(t);
}

static void test_mem_pause(void **state)
{
	(void)state;
	pause_in_stream(false);
	pause_in_stream(true);
}

static void test_mem_hostile(void **state)
{
	struct vfu_tran *t;
	uint8_t buf[16 + 4] = { 0 };
	int fds[3];
	struct vfu_msg m;
	int base;

	(void)state;
	base = count_fds();
	assert_int_equal(vfu_tran_mem_new(&t), 0);
	assert_int_equal(vfu_tran_set_limits(t, 4096, 2, 2), 0);

	/* too many fds: dropped, closed, in sync */
	for (int i = 0; i < 3; i++)
		fds[i] = tagged_fd((uint8_t)i);
	raw_hdr(buf, 1, VFU_CMD_DMA_MAP, sizeof(buf), 0);
	assert_int_equal(vfu_tran_mem_feed(t, buf, sizeof(buf), fds, 3), 0);
	raw_hdr(buf, 2, VFU_CMD_DMA_MAP, sizeof(buf), 0);
	assert_int_equal(vfu_tran_mem_feed(t, buf, sizeof(buf), NULL, 0), 0);
	assert_int_equal(vfu_tran_recv(t, &m, 0), -EINVAL);
	assert_int_equal(count_fds(), base);
	assert_int_equal(vfu_tran_recv(t, &m, 0), 0);
	assert_int_equal(m.hdr.msg_id, 2);
	vfu_msg_release(&m);

	/* fds with no bytes: refused, and still closed */
	fds[0] = tagged_fd(1);
	assert_int_equal(vfu_tran_mem_feed(t, buf, 0, fds, 1), -EINVAL);
	assert_int_equal(count_fds(), base);

	/* EOF in the middle of a message, with an fd in flight */
	fds[0] = tagged_fd(1);
	raw_hdr(buf, 3, VFU_CMD_DMA_MAP, 64, 0);
	assert_int_equal(vfu_tran_mem_feed(t, buf, sizeof(buf), fds, 1), 0);
	assert_int_equal(vfu_tran_recv(t, &m, 0), -ECONNRESET);
	assert_int_equal(count_fds(), base);
	assert_int_equal(vfu_tran_recv(t, &m, 0), -EPIPE);
	vfu_tran_close(t);

	/* unread input with fds is closed by close */
	assert_int_equal(vfu_tran_mem_new(&t), 0);
	fds[0] = tagged_fd(1);
	assert_int_equal(vfu_tran_mem_feed(t, buf, 4, fds, 1), 0);
	vfu_tran_close(t);
	assert_int_equal(count_fds(), base);
}

/* The memory transport skips an oversized message the same way: across
 * chunks, closing the fds in it, and the next message keeps its own. */
static void test_mem_oversized(void **state)
{
	struct vfu_tran *t;
	uint8_t stream[16 + 300 + 16 + 2] = { 0 };
	int fds[3];
	struct vfu_msg m;
	int base;

	(void)state;
	base = count_fds();
	assert_int_equal(vfu_tran_mem_new(&t), 0);
	assert_int_equal(vfu_tran_set_limits(t, 256, 4, 4), 0);
	for (int i = 0; i < 3; i++)
		fds[i] = tagged_fd((uint8_t)(0x60 + i));
	raw_hdr(stream, 1, VFU_CMD_REGION_WRITE, 16 + 300, 0);
	raw_hdr(stream + 316, 2, VFU_CMD_DEVICE_FEATURE, 16 + 2, 0);
	assert_int_equal(vfu_tran_mem_feed(t, stream, 10, &fds[0], 1), 0);
	assert_int_equal(vfu_tran_mem_feed(t, stream + 10, 200, &fds[1], 1), 0);
	assert_int_equal(vfu_tran_mem_feed(t, stream + 210, 106, NULL, 0), 0);
	assert_int_equal(vfu_tran_mem_feed(t, stream + 316, 18, &fds[2], 1), 0);

	assert_int_equal(vfu_tran_recv(t, &m, 0), -EMSGSIZE);
	assert_int_equal(m.hdr.msg_id, 1);
	assert_int_equal(m.hdr.msg_size, 316);
	assert_int_equal(m.nr_fds, 0);
	assert_int_equal(vfu_tran_recv_error(t), 0);
	vfu_msg_release(&m);
	assert_int_equal(count_fds(), base + 1); /* only the next message's fd is left */
	assert_int_equal(vfu_tran_recv(t, &m, 0), 0);
	assert_int_equal(m.hdr.msg_id, 2);
	assert_int_equal(m.nr_fds, 1);
	assert_int_equal(tag_of(m.fds[0]), 0x62);
	vfu_msg_release(&m);

	/* input ends inside the skipped payload: reported, and fatal */
	raw_hdr(stream, 3, VFU_CMD_REGION_WRITE, 16 + 300, 0);
	assert_int_equal(vfu_tran_mem_feed(t, stream, 100, NULL, 0), 0);
	assert_int_equal(vfu_tran_recv(t, &m, 0), -EMSGSIZE);
	assert_int_equal(m.hdr.msg_id, 3);
	assert_int_equal(vfu_tran_recv_error(t), -ECONNRESET);
	vfu_msg_release(&m);
	assert_int_equal(vfu_tran_recv(t, &m, 0), -EPIPE);
	vfu_msg_release(&m);
	vfu_tran_close(t);

	/* msg_size < 16 on memory too: header kept, fatal */
	assert_int_equal(vfu_tran_mem_new(&t), 0);
	raw_hdr(stream, 4, VFU_CMD_DEVICE_RESET, 3, 0);
	fds[0] = tagged_fd(1);
	assert_int_equal(vfu_tran_mem_feed(t, stream, 16, fds, 1), 0);
	assert_int_equal(vfu_tran_recv(t, &m, 0), -EPROTO);
	assert_int_equal(m.hdr.msg_id, 4);
	assert_int_equal(m.hdr.msg_size, 3);
	assert_int_equal(m.nr_fds, 0);
	vfu_msg_release(&m);
	vfu_tran_close(t);
	assert_int_equal(count_fds(), base);
}

static void test_mem_write_failure(void **state)
{
	struct vfu_tran *t, *s;
	int sv[2];

	(void)state;
	assert_int_equal(vfu_tran_mem_new(&t), 0);
	vfu_tran_mem_fail_writes(t, EPIPE);
	assert_int_equal(send_req(t, 1, VFU_CMD_DEVICE_RESET, NULL, 0, NULL, 0), -EPIPE);
	vfu_tran_mem_fail_writes(t, 0);
	assert_int_equal(send_req(t, 1, VFU_CMD_DEVICE_RESET, NULL, 0, NULL, 0), -EPIPE);
	vfu_tran_close(t);

	/* mem calls on a socket transport are refused, not misread */
	assert_int_equal(vfu_sock_pair(sv), 0);
	assert_int_equal(vfu_tran_sock_new(sv[0], &s), 0);
	assert_int_equal(vfu_tran_mem_feed(s, "x", 1, NULL, 0), -EINVAL);
	assert_int_equal(vfu_tran_mem_take_sent(s, NULL, NULL, NULL, NULL), -EINVAL);
	vfu_tran_close(s);
	close(sv[1]);
	vfu_tran_close(NULL);
}

/* ---- read-ahead ---- */

/*
 * Counting the byte source's reads: the transport's ops are swapped for a
 * copy whose read counts and forwards (one transport at a time).
 */
static struct {
	const struct vfu_tran_ops *orig;
	struct vfu_tran_ops ops;
	unsigned reads;
} ctr;

static ssize_t counting_read(struct vfu_tran *t, void *buf, size_t len,
			     struct vfu_fd_sink *sink, int timeout_ms)
{
	ctr.reads++;
	return ctr.orig->read(t, buf, len, sink, timeout_ms);
}

static void count_reads(struct vfu_tran *t)
{
	ctr.orig = t->ops;
	ctr.ops = *t->ops;
	ctr.ops.read = counting_read;
	ctr.reads = 0;
	t->ops = &ctr.ops;
}

static void uncount_reads(struct vfu_tran *t)
{
	if (t->ops == &ctr.ops)
		t->ops = ctr.orig;
}

/*
 * Where a read-ahead scenario's bytes come from: a memory transport (raw
 * -1), or a socketpair whose other end is written raw. Either way the
 * receiver has read-ahead on and at most 8 fds per message.
 */
struct src {
	struct vfu_tran *rx;
	int raw;
};

static struct src mem_src(void)
{
	struct src s = { .raw = -1 };

	assert_int_equal(vfu_tran_mem_new(&s.rx), 0);
	assert_int_equal(vfu_tran_set_limits(s.rx, VFU_TRAN_DEFAULT_MAX_MSG_SIZE, 8, 8), 0);
	assert_int_equal(vfu_tran_set_readahead(s.rx, true), 0);
	return s;
}

static struct src sock_src(struct pair *p)
{
	struct src s = { .rx = p->b, .raw = p->raw_a };

	assert_int_equal(vfu_tran_set_readahead(s.rx, true), 0);
	return s;
}

/* One "sendmsg" of the peer: @len bytes, fds tagged @tags on the first byte. */
static void chunk(struct src *s, const void *buf, size_t len, const uint8_t *tags, size_t nr)
{
	int fds[8];

	assert_true(nr <= 8);
	for (size_t i = 0; i < nr; i++)
		fds[i] = tagged_fd(tags[i]);
	if (s->raw >= 0) {
		raw_send(s->raw, buf, len, fds, nr);
		close_all(fds, nr); /* the receiver's copies must stand alone */
	} else {
		const struct vfu_tran_ops *ops = s->rx->ops;

		uncount_reads(s->rx); /* feed checks that it is a memory transport */
		assert_int_equal(vfu_tran_mem_feed(s->rx, buf, len, fds, nr), 0);
		s->rx->ops = ops;
	}
}

/* Receive message @id: @len payload bytes of @fill, fds tagged @tags in order. */
static void expect_full(struct vfu_tran *t, uint16_t id, size_t len, uint8_t fill,
			const uint8_t *tags, size_t nr)
{
	struct vfu_msg m;

	assert_int_equal(vfu_tran_recv(t, &m, 1000), 0);
	assert_int_equal(m.hdr.msg_id, id);
	assert_int_equal(m.len, len);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(m.payload[i], fill);
	assert_int_equal(m.nr_fds, nr);
	for (size_t i = 0; i < nr; i++)
		assert_int_equal(tag_of(m.fds[i]), tags[i]);
	vfu_msg_release(&m);
}

/* Nothing left: the memory source has ended (fatal), the socket is empty. */
static void expect_end(struct src *s)
{
	struct vfu_msg m;

	assert_int_equal(vfu_tran_buffered(s->rx), 0);
	assert_int_equal(vfu_tran_recv(s->rx, &m, 0), s->raw >= 0 ? -EAGAIN : -ENOTCONN);
	vfu_msg_release(&m);
}

/* fds the memory source still holds are in our table; the socket's are in the kernel. */
static int in_table(const struct src *s, int n)
{
	return s->raw >= 0 ? 0 : n;
}

/* Several messages in one sendmsg: one read, then one message per recv. */
static void ra_batch(struct src *s)
{
	static const size_t lens[] = { 0, 7, 100, 0, 33 };
	uint8_t b[512];
	size_t n = 0, left;

	for (size_t i = 0; i < 5; i++)
		n += raw_msg(b + n, (uint16_t)(i + 1), lens[i], (uint8_t)(0x30 + i));
	chunk(s, b, n, NULL, 0);
	count_reads(s->rx);
	left = n;
	for (size_t i = 0; i < 5; i++) {
		expect_full(s->rx, (uint16_t)(i + 1), lens[i], (uint8_t)(0x30 + i), NULL, 0);
		left -= 16 + lens[i];
		assert_int_equal(ctr.reads, 1);
		assert_int_equal(vfu_tran_buffered(s->rx), left);
	}
	uncount_reads(s->rx);
	expect_end(s);
}

/* Four messages without fds, as bytes. */
static size_t split_stream(uint8_t *b)
{
	size_t n = raw_msg(b, 1, 5, 0x11);

	n += raw_msg(b + n, 2, 0, 0);
	n += raw_msg(b + n, 3, 40, 0x33);
	n += raw_msg(b + n, 4, 3, 0x44);
	return n;
}

/* The stream cut at @i and @j (0 < i <= j < n; i == j: one cut). */
static void ra_split(struct src *s, const uint8_t *b, size_t n, size_t i, size_t j)
{
	chunk(s, b, i, NULL, 0);
	if (j > i)
		chunk(s, b + i, j - i, NULL, 0);
	chunk(s, b + j, n - j, NULL, 0);
	expect_full(s->rx, 1, 5, 0x11, NULL, 0);
	expect_full(s->rx, 2, 0, 0, NULL, 0);
	expect_full(s->rx, 3, 40, 0x33, NULL, 0);
	expect_full(s->rx, 4, 3, 0x44, NULL, 0);
	expect_end(s);
}

/*
 * Message 2 cut at @k; its first part carries fds A (if @fa), the rest fd B
 * (if @fb). Around it: (c) message 1 without fds, read together with
 * message 2's first part; (d) message 3 with its own fd right after; (a)
 * message 3 whole in one sendmsg with its fd; messages 4, 5 and 6's header
 * in one sendmsg without fds, (b) 6's payload alone with fd D.
 * k == 16 is (b) the other way round: a header-only sendmsg with fds.
 */
static void ra_fds_split(struct src *s, size_t k, bool fa, bool fb)
{
	static const uint8_t ta[] = { 0x21, 0x22 }, tb[] = { 0x23 }, tc[] = { 0x31 };
	static const uint8_t td[] = { 0x41 };
	uint8_t b[256], m2[16 + 10], want[3];
	size_t n, n6, nw = 0;

	n = raw_msg(b, 1, 6, 0x01);
	chunk(s, b, n, NULL, 0);
	raw_msg(m2, 2, 10, 0x02);
	chunk(s, m2, k, fa ? ta : NULL, fa ? 2 : 0);
	chunk(s, m2 + k, sizeof(m2) - k, fb ? tb : NULL, fb ? 1 : 0);
	n = raw_msg(b, 3, 4, 0x03);
	chunk(s, b, n, tc, 1);
	n = raw_msg(b, 4, 0, 0);
	n += raw_msg(b + n, 5, 9, 0x05);
	n6 = raw_msg(b + n, 6, 12, 0x06);
	chunk(s, b, n + 16, NULL, 0);
	chunk(s, b + n + 16, n6 - 16, td, 1);

	if (fa) {
		want[nw++] = 0x21;
		want[nw++] = 0x22;
	}
	if (fb)
		want[nw++] = 0x23;
	expect_full(s->rx, 1, 6, 0x01, NULL, 0);
	expect_full(s->rx, 2, 10, 0x02, want, nw);
	expect_full(s->rx, 3, 4, 0x03, tc, 1);
	expect_full(s->rx, 4, 0, 0, NULL, 0);
	expect_full(s->rx, 5, 9, 0x05, NULL, 0);
	expect_full(s->rx, 6, 12, 0x06, td, 1);
	expect_end(s);
}

/* A message not wholly buffered: the rest is read exactly, never past its end. */
static void ra_exact_rest(struct src *s)
{
	static const uint8_t tx[] = { 0x51 };
	uint8_t b[512], peek[512];
	size_t n1 = raw_msg(b, 1, 200, 0x61), n2 = raw_msg(b + n1, 2, 20, 0x62);

	chunk(s, b, 50, tx, 1); /* a read ends with the bytes that carried fds */
	chunk(s, b + 50, n1 + n2 - 50, NULL, 0);
	count_reads(s->rx);
	expect_full(s->rx, 1, 200, 0x61, tx, 1);
	assert_int_equal(ctr.reads, 2); /* 50 bytes, then exactly the other 166 */
	assert_int_equal(vfu_tran_buffered(s->rx), 0);
	if (s->raw >= 0) /* message 2 still whole in the socket */
		assert_int_equal(recv(vfu_tran_pollfd(s->rx), peek, sizeof(peek),
				      MSG_PEEK | MSG_DONTWAIT), (ssize_t)n2);
	expect_full(s->rx, 2, 20, 0x62, NULL, 0);
	assert_int_equal(ctr.reads, 3);
	uncount_reads(s->rx);
	expect_end(s);
}

/*
 * -EMSGSIZE: (i) an oversized message wholly buffered with the next one
 * (no read for either); (ii) one larger than the read-ahead buffer, fds on
 * its header and in its middle (closed), skipped to its end; the messages
 * after it keep their own fds.
 */
static void ra_oversized(struct src *s)
{
	static const uint8_t t3[] = { 0x73 }, tx[] = { 0x7a }, ty[] = { 0x7b }, tz[] = { 0x7c };
	const size_t big = 70000;
	uint8_t *b = calloc(1, 16 + big);
	uint8_t small[64];
	struct vfu_msg m;
	size_t n1, n2;
	int base;

	assert_non_null(b);
	assert_int_equal(vfu_tran_set_limits(s->rx, 256, 8, 8), 0);
	n1 = raw_msg(b, 1, 300, 0x71);
	n2 = raw_msg(b + n1, 2, 5, 0x72);
	chunk(s, b, n1 + n2, NULL, 0);
	chunk(s, small, raw_msg(small, 3, 4, 0x73), t3, 1);
	count_reads(s->rx);
	assert_int_equal(vfu_tran_recv(s->rx, &m, 1000), -EMSGSIZE);
	assert_int_equal(m.hdr.msg_id, 1);
	assert_int_equal(m.hdr.msg_size, 316);
	assert_null(m.payload);
	assert_int_equal(m.nr_fds, 0);
	assert_int_equal(vfu_tran_recv_error(s->rx), 0);
	vfu_msg_release(&m);
	assert_int_equal(vfu_tran_buffered(s->rx), n2 + 20);
	expect_full(s->rx, 2, 5, 0x72, NULL, 0);
	expect_full(s->rx, 3, 4, 0x73, t3, 1);
	assert_int_equal(ctr.reads, 1);
	uncount_reads(s->rx);

	raw_hdr(b, 4, VFU_CMD_REGION_WRITE, (uint32_t)(16 + big), 0);
	memset(b + 16, 0xee, big);
	chunk(s, b, 10, tx, 1);
	chunk(s, b + 10, 30000, ty, 1);
	chunk(s, b + 30010, 16 + big - 30010, NULL, 0);
	chunk(s, small, raw_msg(small, 5, 2, 0x75), tz, 1);
	base = count_fds();
	assert_int_equal(vfu_tran_recv(s->rx, &m, 1000), -EMSGSIZE);
	assert_int_equal(m.hdr.msg_id, 4);
	assert_int_equal(m.nr_fds, 0);
	assert_int_equal(vfu_tran_recv_error(s->rx), 0);
	vfu_msg_release(&m);
	assert_int_equal(count_fds(), base - in_table(s, 2)); /* x and y closed */
	assert_int_equal(vfu_tran_buffered(s->rx), 0); /* skipped exactly to its end */
	expect_full(s->rx, 5, 2, 0x75, tz, 1);
	expect_end(s);
	free(b);
}

/*
 * Dropped whole with -EINVAL, in sync: bad flags (with an fd) after a clean
 * message in the same read; 3 fds in one sendmsg; 2 on the header and 1
 * on the payload; 2 on the first half of a header (kept over a read) and
 * 1 on the rest. Limit: 2 fds a message.
 */
static void ra_dropped(struct src *s)
{
	static const uint8_t t1[] = { 0x91 }, t3[] = { 0x92, 0x93, 0x94 };
	static const uint8_t t2[] = { 0x95, 0x96 }, tl[] = { 0x97 }, tok[] = { 0x98 };
	uint8_t b[128];
	struct vfu_msg m;
	size_t n;
	int base;

	assert_int_equal(vfu_tran_set_limits(s->rx, VFU_TRAN_DEFAULT_MAX_MSG_SIZE, 2, 2), 0);
	chunk(s, b, raw_msg(b, 1, 3, 0x81), NULL, 0);
	raw_msg(b, 2, 4, 0);
	raw_hdr(b, 2, VFU_CMD_DMA_MAP, 16 + 4, 0x2 /* type 2 */);
	chunk(s, b, 20, t1, 1);
	chunk(s, b, raw_msg(b, 3, 2, 0x83), NULL, 0);
	chunk(s, b, raw_msg(b, 4, 8, 0x84), t3, 3);
	n = raw_msg(b, 5, 8, 0x85);
	chunk(s, b, 16, t2, 2);
	chunk(s, b + 16, n - 16, tl, 1);
	n = raw_msg(b, 6, 8, 0x86);
	chunk(s, b, 8, t2, 2);
	chunk(s, b + 8, n - 8, tl, 1);
	chunk(s, b, raw_msg(b, 7, 1, 0x87), tok, 1);
	base = count_fds();

	expect_full(s->rx, 1, 3, 0x81, NULL, 0);
	for (uint16_t id = 2; id <= 6; id++) {
		if (id == 3) {
			expect_full(s->rx, 3, 2, 0x83, NULL, 0);
			continue;
		}
		assert_int_equal(vfu_tran_recv(s->rx, &m, 1000), -EINVAL);
		assert_int_equal(m.hdr.msg_id, id);
		assert_int_equal(m.nr_fds, 0);
		assert_null(m.payload);
		assert_null(m.loan);
		vfu_msg_release(&m);
	}
	assert_int_equal(vfu_tran_recv_error(s->rx), 0);
	assert_int_equal(count_fds(), base - in_table(s, 1 + 3 + 3 + 3));
	expect_full(s->rx, 7, 1, 0x87, tok, 1);
	expect_end(s);
}

/* -EPROTO with bytes and an fd buffered behind it: all dropped, fd closed. */
static void ra_eproto(struct src *s)
{
	static const uint8_t tx[] = { 0xa1 };
	uint8_t b[128] = { 0 };
	struct vfu_msg m;
	size_t n = raw_msg(b, 1, 4, 0x01);
	int base;

	raw_hdr(b + n, 2, VFU_CMD_DEVICE_RESET, 3, 0);
	chunk(s, b, n + 16 + 20, NULL, 0);
	chunk(s, b, 10, tx, 1);
	base = count_fds();
	expect_full(s->rx, 1, 4, 0x01, NULL, 0);
	assert_int_equal(vfu_tran_buffered(s->rx), 16 + 20 + 10);
	assert_int_equal(vfu_tran_recv(s->rx, &m, 1000), -EPROTO);
	assert_int_equal(m.hdr.msg_id, 2);
	assert_int_equal(m.hdr.msg_size, 3);
	assert_int_equal(m.nr_fds, 0);
	vfu_msg_release(&m);
	assert_int_equal(vfu_tran_buffered(s->rx), 0);
	assert_int_equal(count_fds(), base - in_table(s, 1));
	assert_int_equal(vfu_tran_recv_error(s->rx), -EPROTO);
	assert_int_equal(vfu_tran_recv(s->rx, &m, 0), -EPIPE);
	vfu_msg_release(&m);
	assert_int_equal(vfu_tran_set_readahead(s->rx, false), 0);
}

/* A message of @len pattern bytes (seeded by @id). */
static size_t pattern_msg(uint8_t *b, uint16_t id, size_t len)
{
	raw_hdr(b, id, VFU_CMD_REGION_WRITE, (uint32_t)(16 + len), 0);
	fill_pattern(b + 16, len, id);
	return 16 + len;
}

/*
 * Payloads are copied into the reusable receive buffer (or one of their
 * own), never lent from the read-ahead buffer: a held payload survives
 * later reads into it.
 */
static void ra_loan(struct src *s)
{
	uint8_t b[2048];
	struct vfu_msg m1, m2;
	size_t n = 0;

	for (uint16_t id = 1; id <= 3; id++)
		n += pattern_msg(b + n, id, 300);
	chunk(s, b, n, NULL, 0);
	assert_int_equal(vfu_tran_recv(s->rx, &m1, 1000), 0);
	assert_non_null(m1.loan);
	assert_int_equal(vfu_tran_recv(s->rx, &m2, 1000), 0);
	assert_null(m2.loan);
	vfu_msg_release(&m2);
	assert_int_equal(vfu_tran_recv(s->rx, &m2, 1000), 0);
	vfu_msg_release(&m2);
	n = 0;
	for (uint16_t id = 4; id <= 6; id++)
		n += pattern_msg(b + n, id, 300);
	chunk(s, b, n, NULL, 0);
	for (uint16_t id = 4; id <= 6; id++) {
		assert_int_equal(vfu_tran_recv(s->rx, &m2, 1000), 0);
		assert_int_equal(m2.hdr.msg_id, id);
		assert_true(check_pattern(m2.payload, m2.len, id));
		vfu_msg_release(&m2);
	}
	assert_int_equal(m1.hdr.msg_id, 1);
	assert_true(check_pattern(m1.payload, m1.len, 1));
	vfu_msg_release(&m1);
	expect_end(s);
}

/* Run @fn on a fresh memory source; no fd may be left behind. */
static void on_mem(void (*fn)(struct src *))
{
	int base = count_fds();
	struct src s = mem_src();

	fn(&s);
	vfu_tran_close(s.rx);
	assert_int_equal(count_fds(), base);
}

/* One read-ahead case on a fresh memory transport, or on the fixture's socketpair. */
#define RA_ON_MEM(name)                                 \
	static void test_ra_mem_##name(void **state)    \
	{                                               \
		(void)state;                            \
		on_mem(ra_##name);                      \
	}
#define RA_ON_SOCK(name)                                \
	static void test_ra_sock_##name(void **state)   \
	{                                               \
		struct src s = sock_src(*state);        \
                                                        \
		ra_##name(&s);                          \
	}

RA_ON_MEM(batch)

static void test_ra_mem_split_everywhere(void **state)
{
	uint8_t b[256];
	size_t n = split_stream(b);
	int base = count_fds();

	(void)state;
	for (size_t i = 1; i < n; i++) {
		for (size_t j = i; j < n; j++) {
			struct src s = mem_src();

			ra_split(&s, b, n, i, j);
			vfu_tran_close(s.rx);
		}
	}
	assert_int_equal(count_fds(), base);
}

static void test_ra_mem_fds_split(void **state)
{
	int base = count_fds();

	(void)state;
	for (size_t k = 1; k < 16 + 10; k++) {
		for (int v = 0; v < 4; v++) {
			struct src s = mem_src();

			ra_fds_split(&s, k, v & 1, v & 2);
			vfu_tran_close(s.rx);
		}
	}
	assert_int_equal(count_fds(), base);
}

RA_ON_MEM(exact_rest)

static void test_ra_mem_oversized(void **state)
{
	struct src s;
	uint8_t b[200] = { 0 };
	struct vfu_msg m;
	int base;

	(void)state;
	on_mem(ra_oversized);
	/* input ends inside a skipped message: reported, and fatal */
	base = count_fds();
	s = mem_src();
	assert_int_equal(vfu_tran_set_limits(s.rx, 64, 8, 8), 0);
	raw_hdr(b, 9, VFU_CMD_REGION_WRITE, 16 + 300, 0);
	chunk(&s, b, sizeof(b), NULL, 0);
	assert_int_equal(vfu_tran_recv(s.rx, &m, 0), -EMSGSIZE);
	assert_int_equal(m.hdr.msg_id, 9);
	assert_int_equal(vfu_tran_recv_error(s.rx), -ECONNRESET);
	vfu_msg_release(&m);
	assert_int_equal(vfu_tran_recv(s.rx, &m, 0), -EPIPE);
	vfu_msg_release(&m);
	vfu_tran_close(s.rx);
	assert_int_equal(count_fds(), base);
}

RA_ON_MEM(dropped)
RA_ON_MEM(eproto)

RA_ON_MEM(loan)

/* Turning it on and off; unsupported sources refuse it; off means exact reads again. */
static void test_ra_set(void **state)
{
	struct src s;
	uint8_t b[128];
	size_t n;
	int base = count_fds();

	(void)state;
	s = mem_src();
	assert_int_equal(vfu_tran_set_readahead(s.rx, true), 0); /* again: no-op */
	n = raw_msg(b, 1, 4, 0x01);
	n += raw_msg(b + n, 2, 6, 0x02);
	chunk(&s, b, n, NULL, 0);
	assert_int_equal(vfu_tran_buffered(s.rx), 0);
	expect_full(s.rx, 1, 4, 0x01, NULL, 0);
	assert_int_equal(vfu_tran_buffered(s.rx), 22);
	assert_int_equal(vfu_tran_set_readahead(s.rx, false), -EBUSY);
	expect_full(s.rx, 2, 6, 0x02, NULL, 0);
	assert_int_equal(vfu_tran_set_readahead(s.rx, false), 0);
	assert_int_equal(vfu_tran_set_readahead(s.rx, false), 0);

	/* off: header, then payload, and the next message stays in the source */
	n = raw_msg(b, 3, 4, 0x03);
	n += raw_msg(b + n, 4, 6, 0x04);
	chunk(&s, b, n, NULL, 0);
	count_reads(s.rx);
	expect_full(s.rx, 3, 4, 0x03, NULL, 0);
	assert_int_equal(ctr.reads, 2);
	assert_int_equal(vfu_tran_buffered(s.rx), 0);
	expect_full(s.rx, 4, 6, 0x04, NULL, 0);
	assert_int_equal(ctr.reads, 4);

	/* a source that cannot say where fds belong */
	ctr.ops.readahead_ok = false;
	assert_int_equal(vfu_tran_set_readahead(s.rx, true), -ENOTSUP);
	assert_int_equal(vfu_tran_set_readahead(s.rx, false), 0);
	uncount_reads(s.rx);
	vfu_tran_close(s.rx);
	assert_int_equal(count_fds(), base);
}

RA_ON_SOCK(batch)

static void test_ra_sock_split_everywhere(void **state)
{
	struct src s = sock_src(*state);
	uint8_t b[256];
	size_t n = split_stream(b);

	for (size_t i = 1; i < n; i++)
		ra_split(&s, b, n, i, i);
}

static void test_ra_sock_fds_split(void **state)
{
	struct src s = sock_src(*state);

	for (size_t k = 1; k < 16 + 10; k++)
		for (int v = 0; v < 4; v++)
			ra_fds_split(&s, k, v & 1, v & 2);
}

RA_ON_SOCK(exact_rest)
RA_ON_SOCK(oversized)

RA_ON_SOCK(dropped)
RA_ON_SOCK(eproto)

RA_ON_SOCK(loan)

/*
 * With a real kernel: a small request costs one recvmsg (two without
 * read-ahead); of two messages sent in one sendmsg the second is then
 * buffered, and the socket no longer shows it to poll.
 */
static void test_ra_sock_one_recvmsg(void **state)
{
	struct pair *p = *state;
	struct pollfd pfd = { .fd = vfu_tran_pollfd(p->b), .events = POLLIN };
	uint8_t req[16] = { 0 }, b[128];
	size_t n;

	count_reads(p->b);
	assert_int_equal(send_req(p->a, 1, VFU_CMD_REGION_READ, req, sizeof(req), NULL, 0), 0);
	expect_full(p->b, 1, 16, 0, NULL, 0);
	assert_int_equal(ctr.reads, 2);

	assert_int_equal(vfu_tran_set_readahead(p->b, true), 0);
	ctr.reads = 0;
	assert_int_equal(send_req(p->a, 2, VFU_CMD_REGION_READ, req, sizeof(req), NULL, 0), 0);
	expect_full(p->b, 2, 16, 0, NULL, 0);
	assert_int_equal(ctr.reads, 1);
	assert_int_equal(vfu_tran_buffered(p->b), 0);

	n = raw_msg(b, 3, 16, 0x33);
	n += raw_msg(b + n, 4, 8, 0x44);
	raw_send(p->raw_a, b, n, NULL, 0);
	ctr.reads = 0;
	expect_full(p->b, 3, 16, 0x33, NULL, 0);
	assert_int_equal(ctr.reads, 1);
	assert_int_equal(vfu_tran_buffered(p->b), 16 + 8);
	assert_int_equal(poll(&pfd, 1, 0), 0); /* why pollers check buffered first */
	expect_full(p->b, 4, 8, 0x44, NULL, 0);
	assert_int_equal(ctr.reads, 1);
	assert_int_equal(vfu_tran_buffered(p->b), 0);
	uncount_reads(p->b);
}

/*
 * vfu_tran_unread: bytes and fds a receiver read itself are parsed first,
 * then the socket is read on; the fds go to the message that holds the
 * last given-back byte. Refused without read-ahead, for nothing or too
 * much, and while bytes are buffered (leaving the caller's fds alone).
 */
static void test_ra_sock_unread(void **state)
{
	struct pair *p = *state;
	static const uint8_t tags[2] = {0xa1, 0xa2};
	uint8_t b[64], big;
	int fdv[2];
	struct vfu_fd_sink f = {.fds = fdv, .max = 2};
	struct iovec iov[2];
	size_t n;

	n = raw_msg(b, 5, 16, 0x55);
	n += raw_msg(b + n, 6, 8, 0x66);
	iov[0] = (struct iovec){.iov_base = b, .iov_len = 7}; /* split mid-header */
	iov[1] = (struct iovec){.iov_base = b + 7, .iov_len = n - 7};
	fdv[0] = tagged_fd(tags[0]);
	fdv[1] = tagged_fd(tags[1]);
	f.nr = 2;
	assert_int_equal(vfu_tran_unread(p->b, iov, 2, 42, &f), -EINVAL); /* read-ahead off */
	assert_int_equal(vfu_tran_set_readahead(p->b, true), 0);
	assert_int_equal(vfu_tran_unread(p->b, iov, 2, 0, &f), -EINVAL);
	iov[0].iov_base = &big;
	assert_int_equal(vfu_tran_unread(p->b, iov, 1, VFU_TRAN_READAHEAD_SIZE + 1, &f), -EINVAL);
	assert_int_equal(f.nr, 2);
	iov[0].iov_base = b;

	/* Message 5 and 10 bytes of message 6 (its header and no more). */
	assert_int_equal(vfu_tran_unread(p->b, iov, 2, 32 + 10, &f), 0);
	assert_int_equal(f.nr, 0);
	assert_int_equal(vfu_tran_buffered(p->b), 42);
	assert_int_equal(vfu_tran_unread(p->b, iov, 2, 4, &f), -EBUSY);
	raw_send(p->raw_a, b + 42, n - 42, NULL, 0);
	expect_full(p->b, 5, 16, 0x55, NULL, 0);
	expect_full(p->b, 6, 8, 0x66, tags, 2);
	assert_int_equal(vfu_tran_buffered(p->b), 0);

	/* Less than a header given back: the read-ahead completes it. */
	f.fds[0] = tagged_fd(tags[0]);
	f.nr = 1;
	assert_int_equal(vfu_tran_unread(p->b, iov, 1, 5, &f), 0);
	raw_send(p->raw_a, b + 5, 32 - 5, NULL, 0);
	expect_full(p->b, 5, 16, 0x55, tags, 1);
	assert_int_equal(vfu_tran_buffered(p->b), 0);
}

/* @timeout_ms for the first byte of a message, io_timeout_ms once part of it is buffered. */
static void test_ra_sock_timeouts(void **state)
{
	struct pair *p = *state;
	uint8_t b[128];
	struct vfu_msg m;
	size_t n;
	int64_t t0, dt;

	assert_int_equal(vfu_tran_set_readahead(p->b, true), 0);
	assert_int_equal(vfu_tran_recv(p->b, &m, 0), -EAGAIN);
	assert_int_equal(vfu_tran_recv(p->b, &m, 20), -EAGAIN);
	assert_int_equal(vfu_tran_recv_error(p->b), 0);
	n = raw_msg(b, 1, 4, 0x01);
	raw_msg(b + n, 2, 4, 0x02);
	raw_send(p->raw_a, b, n + 5, NULL, 0);
	expect_full(p->b, 1, 4, 0x01, NULL, 0);
	assert_int_equal(vfu_tran_buffered(p->b), 5);
	vfu_tran_set_io_timeout(p->b, 100);
	t0 = now_ms();
	assert_int_equal(vfu_tran_recv(p->b, &m, 0), -ETIMEDOUT);
	dt = now_ms() - t0;
	assert_true(dt >= 90 && dt < 2000);
	assert_int_equal(vfu_tran_buffered(p->b), 0);
	assert_int_equal(vfu_tran_recv(p->b, &m, 0), -EPIPE);
	vfu_msg_release(&m);
}

/* A peer that writes one message a byte at a time, 20 ms apart. */
struct trickler {
	int fd;
	uint8_t msg[48];
	pthread_t th;
};

static void *trickle_main(void *arg)
{
	struct trickler *tr = arg;

	for (size_t i = 0; i < sizeof(tr->msg); i++) {
		if (send(tr->fd, tr->msg + i, 1, MSG_NOSIGNAL) != 1)
			break;
		usleep(20000);
	}
	return NULL;
}

/*
 * vfu_tran_set_deadline: one bound for a whole message, however its bytes
 * trickle in (each one well within io_timeout_ms), with read-ahead off
 * and on; a send that cannot drain stops there too; what is already
 * there is still taken once it has passed.
 */
static void test_sock_deadline(void **state)
{
	struct pair *p = *state;
	static uint8_t big[4 << 20];
	struct trickler tr;
	struct vfu_hdr h;
	struct vfu_msg m;
	uint8_t b[64];
	int64_t t0, dt;

	raw_msg(tr.msg, 7, sizeof(tr.msg) - 16, 0x77);
	for (int ra = 0; ra < 2; ra++) {
		struct vfu_tran *t;
		int sv[2];

		assert_int_equal(vfu_sock_pair(sv), 0);
		assert_int_equal(vfu_tran_sock_new(sv[1], &t), 0);
		assert_int_equal(vfu_tran_set_readahead(t, ra), 0);
		tr.fd = sv[0];
		assert_int_equal(pthread_create(&tr.th, NULL, trickle_main, &tr), 0);
		t0 = now_ms();
		vfu_tran_set_deadline(t, vfu_tran_now_ms() + 200); /* its clock (tests skip it) */
		assert_int_equal(vfu_tran_recv(t, &m, 1000), -ETIMEDOUT);
		dt = now_ms() - t0;
		assert_true(dt >= 190 && dt < 700); /* the whole message: ~1 s */
		vfu_msg_release(&m);
		shutdown(sv[0], SHUT_RDWR); /* the trickler stops */
		assert_int_equal(pthread_join(tr.th, NULL), 0);
		close(sv[0]);
		vfu_tran_close(t);
	}

	/* Passed already: a whole message there is taken, nothing waited for. */
	vfu_tran_set_deadline(p->b, vfu_tran_now_ms() - 1);
	raw_send(p->raw_a, b, raw_msg(b, 8, 16, 0x08), NULL, 0);
	expect_msg(p->b, 8, 16, NULL, 0);
	assert_int_equal(vfu_tran_recv(p->b, &m, 1000), -EAGAIN);

	/* Nobody reads: the send gives up at the deadline, not io_timeout_ms. */
	vfu_hdr_request(&h, 9, VFU_CMD_DEVICE_FEATURE, 0);
	vfu_tran_set_deadline(p->a, vfu_tran_now_ms() + 200);
	t0 = now_ms();
	assert_int_equal(vfu_tran_send_buf(p->a, &h, big, sizeof(big), NULL, 0), -ETIMEDOUT);
	dt = now_ms() - t0;
	assert_true(dt >= 190 && dt < 1500);
	vfu_tran_set_deadline(p->b, 0);
	vfu_tran_set_io_timeout(p->b, 100); /* the rest of that message never comes */
	while (vfu_tran_recv(p->b, &m, 0) == 0)
		vfu_msg_release(&m);
	vfu_msg_release(&m);
}

/* A message far larger than the read-ahead buffer, while the sender still writes. */
static void test_ra_sock_large_message(void **state)
{
	large_message(*state, true);
}

static void test_ra_release_elsewhere(void **state)
{
	struct pair *p = *state;

	assert_int_equal(vfu_tran_set_readahead(p->b, true), 0);
	release_elsewhere(p);
}

/*
 * fds through a real kernel under load: a sender thread pipelines messages
 * (partial writes whenever the socket fills), some with one or two fds,
 * while the receiver reads ahead; every fd must land on its message.
 */
#define FLOOD_FDS 16
#define FLOOD_MSGS 3000

struct fd_flood {
	struct vfu_tran *t;
	int fds[FLOOD_FDS];
	int rc;
};

static size_t flood_nr_fds(unsigned i)
{
	return i % 3 == 0 ? 1 : i % 7 == 0 ? 2 : 0;
}

static void *fd_flood_main(void *arg)
{
	struct fd_flood *f = arg;
	static uint8_t buf[3000];

	f->rc = 0;
	for (unsigned i = 0; i < FLOOD_MSGS && f->rc == 0; i++) {
		size_t len = (i * 977u) % sizeof(buf);
		int fds[2] = { f->fds[i % FLOOD_FDS], f->fds[(i + 1) % FLOOD_FDS] };

		fill_pattern(buf, len, (uint16_t)i);
		f->rc = send_req(f->t, (uint16_t)i, VFU_CMD_DMA_MAP, buf, len, fds,
				 flood_nr_fds(i));
	}
	return NULL;
}

static void test_ra_sock_fd_flood(void **state)
{
	struct pair *p = *state;
	struct fd_flood f = { .t = p->a };
	pthread_t th;

	for (int i = 0; i < FLOOD_FDS; i++)
		f.fds[i] = tagged_fd((uint8_t)(0xc0 + i));
	assert_int_equal(vfu_tran_set_readahead(p->b, true), 0);
	assert_int_equal(pthread_create(&th, NULL, fd_flood_main, &f), 0);
	for (unsigned i = 0; i < FLOOD_MSGS; i++) {
		struct vfu_msg m;
		size_t nr = flood_nr_fds(i);

		assert_int_equal(vfu_tran_recv(p->b, &m, 5000), 0);
		assert_int_equal(m.hdr.msg_id, (uint16_t)i);
		assert_int_equal(m.len, (i * 977u) % 3000);
		assert_true(check_pattern(m.payload, m.len, (uint16_t)i));
		assert_int_equal(m.nr_fds, nr);
		for (size_t k = 0; k < nr; k++)
			assert_int_equal(tag_of(m.fds[k]), 0xc0 + (int)((i + k) % FLOOD_FDS));
		vfu_msg_release(&m);
	}
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(f.rc, 0);
	assert_int_equal(vfu_tran_buffered(p->b), 0);
	close_all(f.fds, FLOOD_FDS);
}

/*
 * Read-ahead must not change what is received. Random streams (good
 * messages, bad flags, oversized, msg_size < 16, a cut-off end) cut into
 * random sendmsgs, fds only on sendmsgs within one message (the rule
 * read-ahead relies on), fed to two memory transports, one reading ahead:
 * every result, header, payload and fd must be the same.
 */
static uint32_t rnd_state;

static uint32_t rnd(uint32_t n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state % n;
}

static void diff_round(void)
{
	uint8_t b[4096];
	size_t starts[16], n = 0, nmsg = 1 + rnd(8);
	struct vfu_tran *t[2];

	for (size_t i = 0; i < nmsg && n + 16 + 400 <= sizeof(b); i++) {
		size_t len = rnd(4) == 0 ? 0 : rnd(300);
		uint32_t size = (uint32_t)(16 + len), flags = 0;
		uint32_t r = rnd(16);

		if (r == 0)
			flags = 0x2; /* bad type: dropped */
		else if (r == 1 && i + 1 == nmsg)
			size = rnd(16); /* fatal, so last */
		starts[i] = n;
		raw_hdr(b + n, (uint16_t)i, VFU_CMD_REGION_WRITE, size, flags);
		fill_pattern(b + n + 16, len, (uint32_t)i);
		n += 16 + len;
	}
	if (rnd(8) == 0)
		n -= rnd((uint32_t)n); /* the peer leaves half way */
	for (int k = 0; k < 2; k++) {
		assert_int_equal(vfu_tran_mem_new(&t[k]), 0);
		assert_int_equal(vfu_tran_set_limits(t[k], 200, 3, 3), 0);
	}
	assert_int_equal(vfu_tran_set_readahead(t[1], true), 0);

	for (size_t off = 0; off < n;) {
		size_t len = 1 + rnd(rnd(2) ? 40 : 400), nr = 0;
		uint8_t tag = (uint8_t)rnd(256);

		if (len > n - off)
			len = n - off;
		/* fds only where the sendmsg lies within one message */
		for (size_t i = 0; i < nmsg; i++) {
			size_t end = i + 1 < nmsg ? starts[i + 1] : n;

			if (off >= starts[i] && off + len <= end && rnd(3) == 0)
				nr = 1 + rnd(2);
		}
		for (int k = 0; k < 2; k++) {
			int fds[2];

			for (size_t i = 0; i < nr; i++)
				fds[i] = tagged_fd((uint8_t)(tag + i));
			assert_int_equal(vfu_tran_mem_feed(t[k], b + off, len, fds, nr), 0);
		}
		off += len;
	}

	for (;;) {
		struct vfu_msg m[2];
		int rc[2];

		for (int k = 0; k < 2; k++)
			rc[k] = vfu_tran_recv(t[k], &m[k], 0);
		assert_int_equal(rc[0], rc[1]);
		assert_memory_equal(&m[0].hdr, &m[1].hdr, sizeof(m[0].hdr));
		assert_int_equal(m[0].len, m[1].len);
		if (m[0].len)
			assert_memory_equal(m[0].payload, m[1].payload, m[0].len);
		assert_int_equal(m[0].nr_fds, m[1].nr_fds);
		for (size_t i = 0; i < m[0].nr_fds; i++)
			assert_int_equal(tag_of(m[0].fds[i]), tag_of(m[1].fds[i]));
		assert_int_equal(vfu_tran_recv_error(t[0]), vfu_tran_recv_error(t[1]));
		vfu_msg_release(&m[0]);
		vfu_msg_release(&m[1]);
		if (rc[0] != 0 && rc[0] != -EINVAL && rc[0] != -EMSGSIZE)
			break;
		if (vfu_tran_recv_error(t[0]))
			break;
	}
	vfu_tran_close(t[0]);
	vfu_tran_close(t[1]);
}

static void test_ra_mem_same_results(void **state)
{
	int base = count_fds();

	(void)state;
	rnd_state = 0x1234567u;
	for (int i = 0; i < 3000; i++)
		diff_round();
	assert_int_equal(count_fds(), base);
}

#define PAIR_TEST(f) cmocka_unit_test_setup_teardown(f, pair_setup, pair_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		PAIR_TEST(test_sock_roundtrip_0),
		PAIR_TEST(test_sock_roundtrip_1),
		PAIR_TEST(test_sock_roundtrip_8),
		PAIR_TEST(test_sock_empty_payload),
		PAIR_TEST(test_sock_iov_and_reply),
		PAIR_TEST(test_sock_pipelined_fds),
		PAIR_TEST(test_sock_fds_follow_their_bytes),
		PAIR_TEST(test_sock_too_many_fds),
		PAIR_TEST(test_sock_fds_when_none_allowed),
		PAIR_TEST(test_sock_header_too_small),
		PAIR_TEST(test_sock_header_size_zero),
		PAIR_TEST(test_sock_header_too_big),
		PAIR_TEST(test_sock_oversized_large),
		PAIR_TEST(test_sock_oversized_peer_gone),
		PAIR_TEST(test_sock_oversized_stall),
		PAIR_TEST(test_sock_bad_flags),
		PAIR_TEST(test_sock_close_mid_header),
		PAIR_TEST(test_sock_close_mid_payload),
		PAIR_TEST(test_sock_stall_mid_payload),
		PAIR_TEST(test_sock_clean_close_and_timeout),
		PAIR_TEST(test_sock_send_errors),
		PAIR_TEST(test_sock_limits),
		PAIR_TEST(test_sock_large_message),
		PAIR_TEST(test_sock_pipelined_attribution),
		PAIR_TEST(test_sock_no_read_ahead),
		PAIR_TEST(test_rxbuf_lend),
		PAIR_TEST(test_rxbuf_move_and_drop),
		PAIR_TEST(test_rxbuf_outlives_transport),
		PAIR_TEST(test_rxbuf_release_elsewhere),
		PAIR_TEST(test_sock_forever_with_rcvtimeo),
		PAIR_TEST(test_sock_forever_nonblocking),
		PAIR_TEST(test_sock_kernel_waits),
		PAIR_TEST(test_sock_stall_mid_header),
		cmocka_unit_test(test_sock_listen_connect),
		cmocka_unit_test(test_mem_roundtrip),
		cmocka_unit_test(test_mem_chunk_attribution),
		cmocka_unit_test(test_mem_hostile),
		cmocka_unit_test(test_mem_pause),
		cmocka_unit_test(test_mem_oversized),
		cmocka_unit_test(test_mem_write_failure),
		cmocka_unit_test(test_ra_mem_batch),
		cmocka_unit_test(test_ra_mem_split_everywhere),
		cmocka_unit_test(test_ra_mem_fds_split),
		cmocka_unit_test(test_ra_mem_exact_rest),
		cmocka_unit_test(test_ra_mem_oversized),
		cmocka_unit_test(test_ra_mem_dropped),
		cmocka_unit_test(test_ra_mem_eproto),
		cmocka_unit_test(test_ra_mem_loan),
		cmocka_unit_test(test_ra_set),
		cmocka_unit_test(test_ra_mem_same_results),
		PAIR_TEST(test_ra_sock_batch),
		PAIR_TEST(test_ra_sock_split_everywhere),
		PAIR_TEST(test_ra_sock_fds_split),
		PAIR_TEST(test_ra_sock_exact_rest),
		PAIR_TEST(test_ra_sock_oversized),
		PAIR_TEST(test_ra_sock_dropped),
		PAIR_TEST(test_ra_sock_eproto),
		PAIR_TEST(test_ra_sock_loan),
		PAIR_TEST(test_ra_sock_one_recvmsg),
		PAIR_TEST(test_ra_sock_unread),
		PAIR_TEST(test_ra_sock_timeouts),
		PAIR_TEST(test_sock_deadline),
		PAIR_TEST(test_ra_sock_large_message),
		PAIR_TEST(test_ra_release_elsewhere),
		PAIR_TEST(test_ra_sock_fd_flood),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

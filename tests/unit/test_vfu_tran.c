/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the vfio-user transport: message framing with fds over a
 * socketpair and a real listening socket, hostile peers (bad headers, too
 * many fds, vanishing or stalling mid-message), and the in-memory
 * transport the fuzzer uses.
 *
 * fds are memfds tagged with one byte, so a received fd is identified by
 * reading its tag; leaks are caught by counting /proc/self/fd.
 */
#define _GNU_SOURCE /* memfd_create */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

static void test_sock_header_too_small(void **state)
{
	struct pair *p = *state;
	uint8_t h[16];
	struct vfu_msg m;

	raw_hdr(h, 1, VFU_CMD_DEVICE_RESET, 15, 0);
	raw_send(p->raw_a, h, 16, NULL, 0);
	assert_int_equal(vfu_tran_recv(p->b, &m, 1000), -EPROTO);
	/* the stream cannot be trusted any more */
	assert_int_equal(vfu_tran_recv(p->b, &m, 1000), -EPIPE);
	vfu_msg_release(&m);
}

static void test_sock_header_too_big(void **state)
{
	struct pair *p = *state;
	uint8_t h[16];
	int fd = tagged_fd(7);
	struct vfu_msg m;

	assert_int_equal(vfu_tran_set_limits(p->b, 4096, 8, 8), 0);
	raw_hdr(h, 1, VFU_CMD_REGION_WRITE, 4097, 0);
	raw_send(p->raw_a, h, 16, &fd, 1); /* the fd in flight must not leak */
	close(fd);
	assert_int_equal(vfu_tran_recv(p->b, &m, 1000), -EMSGSIZE);
	assert_int_equal(vfu_tran_recv(p->b, &m, 0), -EPIPE);

	raw_hdr(h, 1, VFU_CMD_REGION_WRITE, UINT32_MAX, 0);
	raw_send(p->raw_a, h, 16, NULL, 0);
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

static void test_sock_large_message(void **state)
{
	struct pair *p = *state;
	struct big_send s = { .t = p->a, .len = VFU_DEFAULT_MAX_DATA_XFER_SIZE + 16 };
	struct vfu_msg m;
	pthread_t th;

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
	free(s.buf);
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
		PAIR_TEST(test_sock_header_too_big),
		PAIR_TEST(test_sock_bad_flags),
		PAIR_TEST(test_sock_close_mid_header),
		PAIR_TEST(test_sock_close_mid_payload),
		PAIR_TEST(test_sock_stall_mid_payload),
		PAIR_TEST(test_sock_clean_close_and_timeout),
		PAIR_TEST(test_sock_send_errors),
		PAIR_TEST(test_sock_limits),
		PAIR_TEST(test_sock_large_message),
		cmocka_unit_test(test_sock_listen_connect),
		cmocka_unit_test(test_mem_roundtrip),
		cmocka_unit_test(test_mem_chunk_attribution),
		cmocka_unit_test(test_mem_hostile),
		cmocka_unit_test(test_mem_write_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

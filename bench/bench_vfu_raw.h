/* SPDX-License-Identifier: MIT */
/*
 * The floors of bench-vfio-user: what the kernel costs between two
 * PROCESSES (the client and `upci serve` are two processes), with nothing
 * of upci in between.
 *
 *   - socket ping-pong: a UNIX stream socketpair; one side sends a request
 *     of N bytes and reads a reply of M bytes, the other echoes; the sizes
 *     are those of the vfio-user messages being compared;
 *   - eventfd ping-pong: the shape of bench_pingpong, but B is a forked
 *     process: A records t0 and writes eventfd 1; B polls and reads it,
 *     records t1 and writes eventfd 2; A waits for that before the next
 *     round. t0 and t1 meet in shared memory (CLOCK_MONOTONIC is one clock
 *     for every process).
 */
#ifndef UPCI_BENCH_VFU_RAW_H
#define UPCI_BENCH_VFU_RAW_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct vu_poll;

#define RAW_MAX_SHAPES 4

/* How the peer reads a request (the benchmark's side always reads plain). */
enum raw_mode {
	RAW_PLAIN, /* blocking recv() until the message is complete: the floor */
	RAW_SPLIT, /* poll(), then the 16-byte header and the payload in two
		    * recv()s: what a poll-driven server that frames by header
		    * pays, with nothing else in it */
	RAW_FDS,   /* blocking recvmsg() with room for fds (closed when they
		    * come), reply by send(): the floor of a server that takes
		    * fds at all, which a plain recv() would drop */
};

struct raw_sock {
	pid_t peer;
	int fd;           /* our end */
	enum raw_mode mode;
	int notify_fd;    /* the peer writes 1 to this eventfd after each
			   * request, before its reply; -1: none */
	unsigned nshape;  /* one op = one round trip per shape, in order */
	size_t req[RAW_MAX_SHAPES], rep[RAW_MAX_SHAPES];
	uint8_t *buf;     /* the largest message */
	struct vu_poll *poll; /* set after start: our side polls for replies as
			       * upci's client does (vu_poll.h); NULL: it sleeps */
	int pass_fd[RAW_MAX_SHAPES]; /* set after start: an fd each request of
				      * that shape carries (SCM_RIGHTS); -1: none */
};

/*
 * Fork the echoing peer. One op is @n round trips: request req[i] bytes,
 * reply rep[i] bytes, i = 0..n-1 (every size at least 16, the header).
 * @notify_fd: see struct raw_sock (the raw shape of "a write makes the
 * device interrupt"). Return: 0 or a negative errno.
 */
int raw_sock_start(struct raw_sock *r, enum raw_mode mode, const size_t *req, const size_t *rep, unsigned n,
		   int notify_fd);
/* One whole message of @len bytes, @pass attached (SCM_RIGHTS) unless it
 * is -1; and one whole read of @len bytes. 0 or -errno (-ECONNRESET: EOF). */
int raw_send(int fd, const void *p, size_t len, int pass);
int raw_recv(int fd, void *p, size_t len);

/* bench_op loop: @iters ops. 0 or a negative errno (-ECONNRESET: peer gone). */
int raw_sock_loop(void *ctx, uint64_t iters);
/* Close our end (the peer exits on EOF) and reap it: 0, or -EIO when the
 * peer failed. */
int raw_sock_stop(struct raw_sock *r);

/*
 * @skip + @rounds rounds of the eventfd ping-pong with a fresh process B;
 * lat[i] receives t1 - t0 in ns for the last @rounds.
 * Return: 0, -ETIMEDOUT (an event lost), or a negative errno.
 */
int raw_evt_run(unsigned skip, unsigned rounds, int64_t *lat);

#endif /* UPCI_BENCH_VFU_RAW_H */

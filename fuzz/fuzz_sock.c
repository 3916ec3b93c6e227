/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: `upci serve` as a process runs it - vfu_server_run on
 * a listening socket in a thread of its own (the session thread blocking
 * in recvmsg, the watcher thread polling stop, newcomers and interrupts) -
 * against a hostile client on real AF_UNIX connections. So the socket
 * transport (tran_sock.c: SCM_RIGHTS attribution, read-ahead, partial
 * reads and writes) and the serving loop (srv_loop.c: newcomers turned
 * away or served next, stop, interrupt relay, the watch on eventfd
 * writes) are fuzzed too, not only the message handling.
 *
 * Input: hostile.h's format. Chunks are sendmsgs on connection 0 (the
 * client, connected first) or 1-6 (newcomers, connected when they first
 * send); the socket's own actions (hostile_act's 8 and up):
 *    8 stop the server (its stop fd, as SIGTERM does)
 *    9 close connection a[1]
 *   10 shut connection a[1] down for writing
 *   11 read what connection a[1] was sent
 *   12 resize the fds the server sends (hostile.h)
 * At the end every connection is shut down for writing and read to its
 * end (the server must finish each session), closed, and the server is
 * stopped.
 *
 * Time is virtual (vfu_tran_clock_skip): a pause record moves the clock
 * on once the server has taken what was sent and waits (quiesce), and so
 * does waiting for the server, IDLE_SKIP_MS per IDLE_US of nothing. The
 * server's timed polls (linked with --wrap=poll) wait in slices of
 * SLICE_US and end when the virtual time is up, so its timeouts (in-band
 * DMA replies, newcomers, a message cut short, a send nobody reads, the
 * 50 ms look at eventfd writes) expire without real waiting.
 *
 * What must hold, besides the sanitizers: the server finishes every
 * session whose client stopped sending, a stop ends vfu_server_run (with
 * 0) within STOP_LIMIT_MS of real time, what each connection receives
 * parses as vfio-user (replies, error replies with an errno, the server's
 * DMA requests to the client), the device keeps nothing of the clients,
 * and no fd is left behind.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "hostile.h"
#include "msg.h"
#include "server.h"
#include "tran.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NR_DEVS 2
#define NR_CONNS 7 /* the client and 6 newcomers: more than the server holds (4) */
#define STOP_LIMIT_MS 2000   /* a stop ends the server within this (real time) */
#define FINISH_LIMIT_MS 3000 /* closed sessions end within this (real time) */
#define STALL_LIMIT_MS 2000  /* a message the server started comes whole within this */
#define IDLE_US 200          /* nothing moved for this long (real time): idle */
#define IDLE_SKIP_MS 100     /* virtual time passing per idle period */
#define SLICE_US 200         /* the server's timed polls look at the clock this often */
#define QUIESCE_MS 20        /* the most a pause waits for the server to settle (real time) */
#define MAX_WAITERS 8        /* server threads in a timed poll at once */

static const char *const uris[NR_DEVS] = {"sim:testdev?vectors=16,mem=65536", "sim:edu"};
static upci_dev *devs[NR_DEVS];
static struct vfu_server *servers[NR_DEVS];
static int listen_fd = -1;
static struct sockaddr_un addr;
static socklen_t addr_len;

/* ---- virtual time in the server's polls ---- */

/* Skips of the clock so far, and which each thread in a timed poll has
 * looked at (0: slot free). */
static atomic_long skips;
static atomic_long waiter_seen[MAX_WAITERS];
static pthread_t fuzzer_thread;

static int64_t real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int __real_poll(struct pollfd *fds, nfds_t n, int timeout);
int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout);

/* poll() for at most @us microseconds of real time. */
static int poll_us(struct pollfd *fds, nfds_t n, long us)
{
	struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = us % 1000000 * 1000};

	return ppoll(fds, n, &ts, NULL);
}

/* A timed poll of the server ends when the virtual time is up, looking
 * at the clock every SLICE_US. */
int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout)
{
	int64_t deadline;
	int slot = -1, r;

	if (timeout <= 0 || pthread_equal(pthread_self(), fuzzer_thread))
		return __real_poll(fds, n, timeout);
	for (int i = 0; i < MAX_WAITERS && slot < 0; i++) {
		long free_slot = 0;

		if (atomic_compare_exchange_strong(&waiter_seen[i], &free_slot, atomic_load(&skips) + 1))
			slot = i;
	}
	deadline = vfu_tran_now_ms() + timeout;
	for (;;) {
		int64_t left = deadline - vfu_tran_now_ms();

		if (slot >= 0)
			atomic_store(&waiter_seen[slot], atomic_load(&skips) + 1);
		if (left <= 0) {
			r = 0;
			break;
		}
		r = poll_us(fds, n, left * 1000 < SLICE_US ? (long)left * 1000 : SLICE_US);
		if (r != 0)
			break;
	}
	if (slot >= 0)
		atomic_store(&waiter_seen[slot], 0);
	return r;
}

/* Move the clock on and let every timed poll of the server look at it
 * (at most a few slices of real time). */
static void skip(unsigned ms)
{
	long now;
	int64_t until;

	if (ms == 0)
		return;
	vfu_tran_clock_skip(ms);
	now = atomic_fetch_add(&skips, 1) + 1;
	until = real_ms() + 5; /* a few slices */
	for (;;) {
		bool all = true;

		for (int i = 0; i < MAX_WAITERS; i++) {
			long s = atomic_load(&waiter_seen[i]);

			all = all && (s == 0 || s > now);
		}
		if (all || real_ms() > until)
			break;
		sched_yield();
	}
}

/* Whether every thread but this one sleeps (in a poll, a recvmsg, a
 * blocked write): the server has done what it could with what it got. */
static bool others_sleep(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	pid_t self = gettid();
	bool all = d != NULL;

	while (all && (e = readdir(d)) != NULL) {
		char path[64], buf[256], *st;
		ssize_t n;
		int fd;

		if (e->d_name[0] == '.' || atoi(e->d_name) == self)
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/stat", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue; /* gone */
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		st = strrchr(buf, ')');
		all = st && st[1] == ' ' && st[2] == 'S';
	}
	if (d)
		closedir(d);
	return all;
}

/*
 * Before the client falls silent: let the server take what it will of
 * the bytes sent (what is left in the connections no longer moves) and
 * get to where it waits, so the silence is measured from there, as it
 * would be in real time. At most QUIESCE_MS: a server busy for longer
 * gets its time anyway.
 */
static void quiesce(const int *fds, int n)
{
	int64_t until = real_ms() + QUIESCE_MS;
	int calm = 0, last = -1;

	while (calm < 2 && real_ms() < until) {
		int queued = 0;

		for (int i = 0; i < n; i++) {
			int q = 0;

			if (fds[i] >= 0 && ioctl(fds[i], SIOCOUTQ, &q) == 0)
				queued += q;
		}
		calm = queued == last && others_sleep() ? calm + 1 : 0;
		last = queued;
		usleep(20);
	}
}

/* ---- the server thread ---- */

struct srv_run {
	struct vfu_server *s;
	int stop_r;
	int rc;
	atomic_bool done;
	pthread_t th;
};

static void *serve_main(void *arg)
{
	struct srv_run *r = arg;

	r->rc = vfu_server_run(r->s, listen_fd, r->stop_r);
	atomic_store(&r->done, true);
	return NULL;
}

static void setup_once(void)
{
	struct vfu_server_opts o;

	if (servers[0])
		return;
	signal(SIGPIPE, SIG_IGN); /* as upci serve */
	fuzzer_thread = pthread_self();
	for (int i = 0; i < NR_DEVS; i++) {
		hostile_server_opts(i, &o);
		if (upci_open(&devs[i], uris[i]) != 0 || upci_claim(devs[i]) != 0 ||
		    vfu_server_new(devs[i], &o, &servers[i]) != 0)
			abort();
	}
	/* An abstract address: nothing in the file system, one per process. */
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			       (size_t)snprintf(addr.sun_path + 1, sizeof(addr.sun_path) - 1, "upci-fuzz-sock-%d",
						(int)getpid()));
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0); /* the server polls first */
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&addr, addr_len) != 0 || listen(listen_fd, 16) != 0)
		abort();
}

/* ---- the client's connections ---- */

struct client {
	int fd[NR_CONNS];              /* sent to raw (sendmsg), */
	struct vfu_tran *rx[NR_CONNS]; /* received from as vfio-user (owns fd) */
	bool eof[NR_CONNS];
	bool drain; /* read replies after each record */
	long long resize; /* action 12: resize the fds the server sends to this; -1: no */
	bool stopped;
	int stop_w;
	struct srv_run *srv;
};

/* Connection @c to the server: 0 when connected. */
static int conn_open(struct client *cl, int c)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&addr, addr_len) != 0 || vfu_tran_sock_new(fd, &cl->rx[c]) != 0) {
		close(fd);
		return -1;
	}
	/* A message the server started must come whole while we read. */
	vfu_tran_set_io_timeout(cl->rx[c], STALL_LIMIT_MS);
	if (vfu_tran_set_limits(cl->rx[c], VFU_TRAN_MAX_MSG_SIZE_LIMIT, VFU_MSG_MAX_FDS, 1) != 0 ||
	    vfu_tran_set_readahead(cl->rx[c], true) != 0)
		abort();
	cl->fd[c] = fd;
	return 0;
}

static void conn_close(struct client *cl, int c)
{
	vfu_tran_close(cl->rx[c]);
	cl->rx[c] = NULL;
	cl->fd[c] = -1;
}

/* A message from the server: a reply (an error one with an errno and
 * nothing else) or its own DMA_READ/WRITE. */
static void check_msg(const struct vfu_msg *m, int c)
{
	uint32_t type = m->hdr.flags & VFU_HDR_F_TYPE_MASK;
	bool err = m->hdr.flags & VFU_HDR_F_ERROR;

	if (type == VFU_HDR_F_TYPE_COMMAND ? (m->hdr.cmd == VFU_CMD_DMA_READ || m->hdr.cmd == VFU_CMD_DMA_WRITE) && c == 0
					   : !err || (m->hdr.error > 0 && m->hdr.error < 4096 && m->len == 0))
		return;
	fprintf(stderr, "fuzz_sock: connection %d got a bad message: cmd %u flags %#x error %u, %zu bytes\n", c,
		m->hdr.cmd, m->hdr.flags, m->hdr.error, m->len);
	abort();
}

/* Read the messages connection @c has (no wait for a first byte). What
 * does not parse as vfio-user is a finding; so is a message the server
 * started and does not finish within STALL_LIMIT_MS while we read. */
static void drain_one(struct client *cl, int c)
{
	while (cl->rx[c] && !cl->eof[c]) {
		struct vfu_msg m;
		int rc = vfu_tran_recv(cl->rx[c], &m, 0);

		if (rc == 0)
			check_msg(&m, c);
		for (size_t i = 0; rc == 0 && cl->resize >= 0 && i < m.nr_fds; i++)
			hostile_resize_sealed(m.fds[i], cl->resize);
		vfu_msg_release(&m);
		if (rc == 0)
			continue;
		if (rc == -EAGAIN)
			return;
		if (rc != -ENOTCONN && rc != -ECONNRESET && rc != -EPIPE) {
			fprintf(stderr, "fuzz_sock: what connection %d got does not parse: %s\n", c, upci_strerror(rc));
			abort();
		}
		cl->eof[c] = true; /* the server hung up, maybe in the middle of a message it gave up on */
	}
}

static void drain_all(struct client *cl)
{
	for (int c = 0; c < NR_CONNS; c++)
		drain_one(cl, c);
}

/* Wait (real time, at most IDLE_US) for one of the connections to be readable. */
static int wait_readable(struct client *cl)
{
	struct pollfd p[NR_CONNS];
	nfds_t n = 0;

	for (int c = 0; c < NR_CONNS; c++)
		if (cl->fd[c] >= 0 && !cl->eof[c])
			p[n++] = (struct pollfd){.fd = cl->fd[c], .events = POLLIN};
	return n ? poll_us(p, n, IDLE_US) : 0;
}

/* One sendmsg of the record (more if the socket takes it in parts), its
 * fds with the first byte. A server that does not read gets its replies
 * read meanwhile and, while nothing moves, virtual time. */
static void send_chunk(struct client *cl, int c, const struct hostile_rec *r)
{
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(int) * MAX_CHUNK_FDS)];
	} ctl;
	int fds[MAX_CHUNK_FDS];
	size_t nfds = 0, done = 0;
	int64_t give_up = real_ms() + FINISH_LIMIT_MS;

	if (cl->fd[c] < 0 && c > 0 && !cl->eof[c])
		(void)conn_open(cl, c);
	if (cl->fd[c] < 0 || r->len == 0)
		return;
	for (unsigned i = 0; i < r->nfds; i++) {
		int fd = hostile_peer_fd(r->kinds[i]);

		if (fd >= 0)
			fds[nfds++] = fd;
	}
	while (done < r->len) {
		struct iovec iov = {(void *)(r->p + done), r->len - done};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
		ssize_t n;

		if (nfds) {
			struct cmsghdr *h;

			memset(&ctl, 0, sizeof(ctl));
			mh.msg_control = ctl.b;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
			h = CMSG_FIRSTHDR(&mh);
			h->cmsg_level = SOL_SOCKET;
			h->cmsg_type = SCM_RIGHTS;
			h->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
			memcpy(CMSG_DATA(h), fds, sizeof(int) * nfds);
		}
		n = sendmsg(cl->fd[c], &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			done += (size_t)n;
			for (size_t i = 0; i < nfds; i++)
				close(fds[i]); /* in flight: the kernel holds them */
			nfds = 0;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || errno != EAGAIN || real_ms() > give_up)
			break; /* gone, or not reading: the end will tell */
		drain_all(cl);
		if (wait_readable(cl) == 0)
			skip(IDLE_SKIP_MS);
	}
	for (size_t i = 0; i < nfds; i++)
		close(fds[i]);
}

static void conn_act(struct client *cl, const uint8_t a[4])
{
	int c = a[1] % NR_CONNS;

	switch (a[0] % 16) {
	case 8:
		if (!cl->stopped && write(cl->stop_w, "", 1) == 1)
			cl->stopped = true;
		break;
	case 9:
		if (cl->fd[c] >= 0)
			conn_close(cl, c);
		cl->eof[c] = true; /* gone for good: no reconnect */
		break;
	case 10:
		if (cl->fd[c] >= 0)
			shutdown(cl->fd[c], SHUT_WR);
		break;
	case 11:
		drain_one(cl, c);
		break;
	case HOSTILE_ACT_RESIZE_SERVER_FDS: /* what was answered so far, and from now on */
		cl->resize = hostile_resize_size(a[2]);
		quiesce(cl->fd, NR_CONNS);
		drain_all(cl);
		break;
	default:
		hostile_act(a);
		break;
	}
}

/*
 * The end of the conversation: nothing more is sent; every session must
 * end (its client's EOF read, its replies written or given up on), in
 * virtual time. A server that was stopped, or ended, owes nothing.
 */
static void finish(struct client *cl)
{
	int64_t give_up = real_ms() + FINISH_LIMIT_MS;

	for (int c = 0; c < NR_CONNS; c++)
		if (cl->fd[c] >= 0)
			shutdown(cl->fd[c], SHUT_WR);
	for (;;) {
		bool open = false;

		drain_all(cl);
		for (int c = 0; c < NR_CONNS; c++)
			open = open || (cl->fd[c] >= 0 && !cl->eof[c]);
		if (!open || cl->stopped || atomic_load(&cl->srv->done))
			break;
		if (real_ms() > give_up) {
			fprintf(stderr, "fuzz_sock: sessions not finished %d ms after their clients stopped sending\n",
				FINISH_LIMIT_MS);
			abort();
		}
		if (wait_readable(cl) == 0)
			skip(IDLE_SKIP_MS);
	}
	for (int c = 0; c < NR_CONNS; c++)
		if (cl->fd[c] >= 0)
			conn_close(cl, c);
}

/* Stop the server and wait for it (real time: the promise is about it). */
static void stop_server(struct client *cl)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += STOP_LIMIT_MS / 1000;
	if (!cl->stopped && write(cl->stop_w, "", 1) != 1)
		abort();
	if (pthread_timedjoin_np(cl->srv->th, NULL, &until) != 0) {
		fprintf(stderr, "fuzz_sock: the server did not stop within %d ms\n", STOP_LIMIT_MS);
		abort();
	}
	if (cl->srv->rc != 0) {
		fprintf(stderr, "fuzz_sock: vfu_server_run: %s\n", upci_strerror(cl->srv->rc));
		abort();
	}
}

/* Connections the stopped server never accepted must not reach the next input. */
static void empty_backlog(void)
{
	int fd;

	while ((fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
		close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct srv_run srv = {.rc = 0};
	struct client cl;
	struct hostile_rec r;
	const uint8_t *p = data + 1;
	size_t left = size ? size - 1 : 0;
	int stop[2], before;

	setup_once();
	if (size < 1)
		return 0;
	before = hostile_count_fds(HOSTILE_LOW_FDS);
	hostile_begin(0);
	memset(&cl, 0, sizeof(cl));
	for (int c = 0; c < NR_CONNS; c++)
		cl.fd[c] = -1;
	cl.drain = data[0] & IN_DRAIN;
	cl.resize = -1;
	if (pipe2(stop, O_CLOEXEC | O_NONBLOCK) != 0)
		abort();
	cl.stop_w = stop[1];
	cl.srv = &srv;
	srv.s = servers[(data[0] & IN_EDU) ? 1 : 0];
	srv.stop_r = stop[0];
	atomic_init(&srv.done, false);
	/* the first in the backlog: the client */
	if (conn_open(&cl, 0) != 0 || pthread_create(&srv.th, NULL, serve_main, &srv) != 0)
		abort();
	while (hostile_next(&p, &left, &r)) {
		if ((r.op & OP_CONTROL) && !(r.op & OP_ACTIONS)) {
			quiesce(cl.fd, NR_CONNS);
			skip(r.ms);
		}
		else if (r.op & OP_CONTROL)
			for (size_t i = 0; i + 4 <= r.len; i += 4)
				conn_act(&cl, r.p + i);
		else
			send_chunk(&cl, (r.op >> OP_CONN_SHIFT & OP_CONN_MASK) % NR_CONNS, &r);
		if (cl.drain)
			drain_all(&cl);
	}
	finish(&cl);
	stop_server(&cl);
	empty_backlog();
	hostile_check_dropped(devs[(data[0] & IN_EDU) ? 1 : 0], uris[(data[0] & IN_EDU) ? 1 : 0]);
	close(stop[0]);
	close(stop[1]);
	(void)upci_reset(devs[(data[0] & IN_EDU) ? 1 : 0]);
	hostile_end();
	if (hostile_count_fds(HOSTILE_LOW_FDS) != before) {
		fprintf(stderr, "fuzz_sock: fd leak: %d open, %d before\n", hostile_count_fds(HOSTILE_LOW_FDS), before);
		abort();
	}
	return 0;
}

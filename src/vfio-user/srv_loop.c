/* SPDX-License-Identifier: MIT */
/*
 * vfio-user server loops: serve one transport until the client leaves, and
 * accept clients one after another on a listening socket. Both stop when
 * a stop fd (a signal's self-pipe) becomes readable.
 *
 * One client at a time: a client that connects while another is served is
 * accepted and turned away (its VERSION gets an EBUSY error reply, or it
 * is hung up on), so it learns at once instead of waiting in the backlog.
 * That never blocks the client being served: a newcomer's bytes are only
 * read once poll says they are there, and it gets a short deadline.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "msg.h"
#include "srv_priv.h"

#define REJECT_MAX 4          /* newcomers waited for at once; more: hung up */
#define REJECT_WAIT_MS 1000   /* for a newcomer's VERSION */
#define REJECT_IO_MS 50       /* for the rest of it, once it started */
#define REJECT_MAX_MSG 4096u  /* a VERSION is small */

struct reject {
	int fd;
	int64_t deadline;
};

struct loop {
	int stop_fd;
	int listen_fd; /* -1: nobody to turn away */
	struct reject rj[REJECT_MAX];
	unsigned nrj;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool stop_requested(int stop_fd)
{
	struct pollfd p = {.fd = stop_fd, .events = POLLIN};

	return stop_fd >= 0 && poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

static void reject_drop(struct loop *l, unsigned i)
{
	close(l->rj[i].fd);
	l->rj[i] = l->rj[--l->nrj];
}

static void reject_all(struct loop *l)
{
	while (l->nrj)
		reject_drop(l, 0);
}

/* A newcomer while busy: keep it until its VERSION comes, or hang up. */
static void reject_accept(struct loop *l)
{
	int fd;

	if (vfu_sock_accept(l->listen_fd, 0, &fd) != 0)
		return;
	if (l->nrj == REJECT_MAX) {
		close(fd);
		return;
	}
	l->rj[l->nrj].fd = fd;
	l->rj[l->nrj].deadline = now_ms() + REJECT_WAIT_MS;
	l->nrj++;
}

/* Its bytes arrived: answer a command with EBUSY, then hang up. */
static void reject_answer(struct loop *l, unsigned i)
{
	struct vfu_tran *t;
	struct vfu_msg m;
	int rc;

	if (vfu_tran_sock_new(l->rj[i].fd, &t) != 0) {
		reject_drop(l, i);
		return;
	}
	l->rj[i] = l->rj[--l->nrj]; /* the transport owns the fd now */
	vfu_tran_set_io_timeout(t, REJECT_IO_MS);
	if (vfu_tran_set_limits(t, REJECT_MAX_MSG, 0, 0) == 0) {
		rc = vfu_tran_recv(t, &m, 0);
		if ((rc == 0 || rc == -EINVAL) &&
		    (m.hdr.flags & VFU_HDR_F_TYPE_MASK) == VFU_HDR_F_TYPE_COMMAND)
			(void)vfu_tran_reply(t, &m.hdr, -EBUSY, NULL, 0, NULL, 0);
		vfu_msg_release(&m);
	}
	vfu_tran_close(t);
	LOG_INFO("vfio-user server: busy, turned a client away");
}

/* Poll slots: the client, stop, listen, the device's interrupts (see
 * srv_irq_relay), newcomers. */
#define SLOT_CLIENT 0
#define SLOT_STOP 1
#define SLOT_LISTEN 2
#define SLOT_IRQ 3
#define SLOT_RJ 4

/*
 * Wait until the client (@pfd) has input. Returns 1 when it has, 0 when a
 * stop was requested, -errno. Newcomers and interrupts to relay are
 * handled meanwhile.
 */
static int wait_client(struct loop *l, struct vfu_session *ss, int pfd)
{
	for (;;) {
		struct pollfd p[SLOT_RJ + REJECT_MAX];
		int64_t now = now_ms(), first = -1;
		int n, to = -1;

		for (unsigned i = l->nrj; i-- > 0;)
			if (l->rj[i].deadline <= now)
				reject_drop(l, i); /* silent too long: hang up */
		p[SLOT_CLIENT] = (struct pollfd){.fd = pfd, .events = POLLIN};
		p[SLOT_STOP] = (struct pollfd){.fd = l->stop_fd, .events = POLLIN};
		p[SLOT_LISTEN] = (struct pollfd){.fd = l->listen_fd, .events = POLLIN};
		p[SLOT_IRQ] = (struct pollfd){.fd = srv_irq_pollfd(ss), .events = POLLIN};
		for (unsigned i = 0; i < l->nrj; i++) {
			p[SLOT_RJ + i] = (struct pollfd){.fd = l->rj[i].fd, .events = POLLIN};
			if (first < 0 || l->rj[i].deadline < first)
				first = l->rj[i].deadline;
		}
		if (first >= 0)
			to = (int)(first - now);
		/* negative fds (no stop fd, no listener) are ignored by poll */
		n = poll(p, SLOT_RJ + l->nrj, to);
		if (n < 0 && errno == EINTR)
			continue; /* a signal's handler writes the stop fd: look again */
		if (n < 0)
			return -errno;
		if (p[SLOT_STOP].revents)
			return 0;
		if (p[SLOT_IRQ].revents)
			srv_irq_relay(ss);
		/* The client first: when it hung up, whoever connected right
		 * after it is the next client, not a newcomer to turn away. */
		if (p[SLOT_CLIENT].revents)
			return 1;
		for (unsigned i = l->nrj; i-- > 0;)
			if (p[SLOT_RJ + i].revents)
				reject_answer(l, i);
		if (p[SLOT_LISTEN].revents)
			reject_accept(l);
	}
}

static int serve(struct vfu_server *s, struct vfu_tran *t, struct loop *l)
{
	struct vfu_session *ss;
	int pfd = vfu_tran_pollfd(t);
	int ret;

	ret = vfu_session_open(s, t, &ss);
	if (ret)
		return ret;
	for (;;) {
		/* Queued commands first: their bytes are no longer in the socket. */
		if (pfd >= 0 && vfu_session_queued(ss) == 0) {
			ret = wait_client(l, ss, pfd);
			if (ret <= 0)
				break;
		}
		ret = vfu_session_step(ss, pfd >= 0 ? 0 : -1);
		if (ret == -EAGAIN)
			continue;
		if (ret)
			break;
	}
	vfu_session_close(ss);
	if (ret == -ENOTCONN)
		ret = 0; /* the client hung up between messages: normal */
	if (ret)
		LOG_INFO("vfio-user server: client dropped: %s", upci_strerror(ret));
	return ret;
}

int vfu_server_serve(struct vfu_server *s, struct vfu_tran *t, int stop_fd)
{
	struct loop l = {.stop_fd = stop_fd, .listen_fd = -1};

	if (!s || !t)
		return -EINVAL;
	return serve(s, t, &l);
}

/* Wait for a connection or a stop. 1: connection; 0: stop; -errno. */
static int wait_listen(int listen_fd, int stop_fd)
{
	struct pollfd p[2] = {{.fd = listen_fd, .events = POLLIN}, {.fd = stop_fd, .events = POLLIN}};

	for (;;) {
		int n = poll(p, 2, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (p[1].revents)
			return 0;
		if (p[0].revents)
			return 1;
	}
}

/*
 * The next client: one accepted while we were busy and still waiting, else
 * a new connection. Returns 1 with *fd, 0 for a stop, -EAGAIN to look
 * again, or an accept error that will not go away.
 */
static int next_client(struct loop *l, int *fd)
{
	int ret;

	if (l->nrj) {
		*fd = l->rj[0].fd;
		l->rj[0] = l->rj[--l->nrj];
		return 1;
	}
	ret = wait_listen(l->listen_fd, l->stop_fd);
	if (ret <= 0)
		return ret;
	ret = vfu_sock_accept(l->listen_fd, 0, fd);
	if (ret == 0)
		return 1;
	if (ret == -EAGAIN || ret == -ECONNABORTED || ret == -EINTR)
		return -EAGAIN;
	if (ret == -EMFILE || ret == -ENFILE || ret == -ENOBUFS || ret == -ENOMEM) {
		LOG_WARN("vfio-user server: accept: %s", upci_strerror(ret));
		usleep(100 * 1000); /* transient: retry without spinning */
		return -EAGAIN;
	}
	return ret;
}

int vfu_server_run(struct vfu_server *s, int listen_fd, int stop_fd)
{
	struct loop l = {.stop_fd = stop_fd, .listen_fd = listen_fd};
	int ret;

	if (!s || listen_fd < 0)
		return -EINVAL;
	for (;;) {
		struct vfu_tran *t;
		int fd;

		ret = next_client(&l, &fd);
		if (ret == -EAGAIN)
			continue;
		if (ret <= 0)
			break;
		if (vfu_tran_sock_new(fd, &t) != 0) {
			close(fd);
			continue;
		}
		LOG_INFO("vfio-user server: client connected");
		ret = serve(s, t, &l);
		vfu_tran_close(t);
		/* a broken client is its own problem; only a stop ends us */
		if (ret == -EBUSY)
			break;
		if (stop_requested(stop_fd)) {
			ret = 0;
			break;
		}
	}
	reject_all(&l);
	return ret;
}

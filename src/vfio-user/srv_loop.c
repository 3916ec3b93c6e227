/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* POLLRDHUP */
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
 *
 * On a socket the session's thread blocks in recvmsg (one read and one
 * send per request, as a raw ping-pong) while a watcher thread polls the
 * rest: stop, newcomers, interrupts to relay; a client for whom no such
 * thread can be started is hung up on. The memory transport has nothing to
 * watch: its messages are handled until it runs dry. (The client waits in
 * poll instead, to miss the "space freed" wake-up a blocking recvmsg also
 * gets; the same change here measured no different, docs/bench.md, so the
 * server keeps the cheaper single syscall.)
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fd_signal.h"
#include "log.h"
#include "msg.h"
#include "srv_priv.h"

#define REJECT_MAX 4          /* newcomers waited for at once; more: hung up */
#define REJECT_WAIT_MS 1000   /* for a newcomer's VERSION */
/* For the rest of it, once it started: none. A VERSION is one sendmsg,
 * so it is whole when poll says it is there; waiting per read would let a
 * newcomer that trickles bytes hold the loop (stop, interrupt relay). */
#define REJECT_IO_MS 0
#define REJECT_MAX_MSG 4096u  /* a VERSION is small */

struct reject {
	int fd;
	int64_t deadline;
	/* The answer to its first command: -EBUSY for a newcomer while a
	 * client is served (it is served next if it has not spoken when that
	 * client leaves), -EACCES for one the allow list refuses. */
	int err;
};

struct loop {
	const struct vfu_server *s;
	int stop_fd;
	int listen_fd; /* -1: nobody to turn away */
	struct reject rj[REJECT_MAX];
	unsigned nrj;
};


static bool stop_requested(int stop_fd)
{
	struct pollfd p = {.fd = stop_fd, .events = POLLIN};

	return stop_fd >= 0 && poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

/* Whether the allow list lets the peer of @fd in (server.h). */
static bool peer_allowed(const struct vfu_server *s, int fd)
{
	uid_t uid;

	if (s->opts.n_allow_uids == 0)
		return true;
	if (vfu_sock_peer_uid(fd, &uid) != 0)
		return false; /* cannot tell who it is */
	if (uid == geteuid())
		return true;
	for (unsigned i = 0; i < s->opts.n_allow_uids; i++)
		if (s->opts.allow_uids[i] == uid)
			return true;
	LOG_WARN("vfio-user server: refused a client running as uid %u (not allowed)", (unsigned)uid);
	return false;
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

/* Keep @fd until its first command comes (answered with @err), or hang up
 * when too many wait already. */
static void reject_hold(struct loop *l, int fd, int err)
{
	if (l->nrj == REJECT_MAX) {
		close(fd);
		return;
	}
	l->rj[l->nrj].fd = fd;
	l->rj[l->nrj].deadline = vfu_tran_now_ms() + REJECT_WAIT_MS;
	l->rj[l->nrj].err = err;
	l->nrj++;
}

/* A newcomer while busy. */
static void reject_accept(struct loop *l)
{
	int fd;

	if (vfu_sock_accept(l->listen_fd, 0, &fd) != 0)
		return;
	reject_hold(l, fd, peer_allowed(l->s, fd) ? -EBUSY : -EACCES);
}

/* Its bytes arrived: answer a command with its error, then hang up. */
static void reject_answer(struct loop *l, unsigned i)
{
	struct vfu_tran *t;
	struct vfu_msg m;
	int rc, err = l->rj[i].err;

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
			(void)vfu_tran_reply(t, &m.hdr, err, NULL, 0, NULL, 0);
		vfu_msg_release(&m);
	}
	vfu_tran_close(t);
	LOG_INFO("vfio-user server: turned a client away (%s)", upci_strerror(err));
}

/*
 * The newcomers to poll, after dropping those whose time is up: fills
 * @p (up to l->nrj entries; none, and nobody dropped, when @none) and
 * returns how many; lowers *to (ms, -1: no limit) to the first deadline.
 */
static unsigned reject_poll_fill(struct loop *l, bool none, struct pollfd *p, int *to)
{
	int64_t now = vfu_tran_now_ms();

	if (none)
		return 0; /* and nobody expires: they are the next clients */
	for (unsigned i = l->nrj; i-- > 0;)
		if (l->rj[i].deadline <= now)
			reject_drop(l, i);
	for (unsigned i = 0; i < l->nrj; i++) {
		int left = (int)(l->rj[i].deadline - now);

		p[i] = (struct pollfd){.fd = l->rj[i].fd, .events = POLLIN};
		if (*to < 0 || left < *to)
			*to = left;
	}
	return l->nrj;
}

/* Answer the first @n newcomers whose slot in @p is ready. */
static void reject_poll_done(struct loop *l, const struct pollfd *p, unsigned n)
{
	for (unsigned i = n; i-- > 0;) /* from the end: an answer moves the last one into i */
		if (p[i].revents)
			reject_answer(l, i);
}

/* The watcher's poll slots (see struct watcher): the client's hang-up,
 * stop, listen, the device's interrupts (srv_irq_relay), the kick pipe,
 * newcomers. */
#define SLOT_CLIENT 0
#define SLOT_STOP 1
#define SLOT_LISTEN 2
#define SLOT_IRQ 3
#define SLOT_KICK 4
#define SLOT_RJ 5

#ifndef POLLRDHUP
#define POLLRDHUP 0 /* not Linux: POLLHUP alone tells */
#endif

/*
 * The watcher: while a session thread blocks in recvmsg on the client's
 * socket (no poll per message: one recvmsg and one sendmsg, as a raw
 * socket ping-pong), this thread polls everything else - the stop fd,
 * newcomers, the device's interrupts to relay - and the kick pipe, by
 * which the session asks it to re-read srv_irq_pollfd() or to quit. A stop
 * shuts the client's socket down, which ends the session thread's recvmsg.
 * The newcomer state (l->rj) is the watcher's until it is joined.
 */
struct watcher {
	struct loop *l;
	struct vfu_session *ss;
	struct fd_signal_mark *mark; /* the session thread's writes to client fds */
	int client_fd;
	int kick[2];         /* pipe: [0] polled here, [1] written by kick/quit */
	atomic_bool quit;
	atomic_bool stopped; /* the stop fd fired: the session was cut off */
	pthread_t th;
};

static void *watch(void *arg)
{
	struct watcher *w = arg;
	struct loop *l = w->l;
	struct fd_signal_mark own;
	bool gone = false;    /* the client hung up: newcomers are next, not turned away */
	bool stopped = false; /* then only the session's writes are still watched */

	/* Relays write the client's eventfds; nobody watches this thread. */
	(void)fd_signal_attach(&own, true);
	while (!atomic_load(&w->quit)) {
		struct pollfd p[SLOT_RJ + REJECT_MAX];
		bool has_fds = false;
		int irq_fd = srv_irq_pollfd(w->ss, &has_fds);
		bool quiet = gone || stopped;
		int n, to = -1;
		unsigned nrj = reject_poll_fill(l, quiet, p + SLOT_RJ, &to);

		/* The session reads the client; we only watch for its hang-up
		 * (HUP/ERR are always reported), once. */
		p[SLOT_CLIENT] = (struct pollfd){.fd = quiet ? -1 : w->client_fd, .events = POLLRDHUP};
		p[SLOT_STOP] = (struct pollfd){.fd = stopped ? -1 : l->stop_fd, .events = POLLIN};
		p[SLOT_LISTEN] = (struct pollfd){.fd = quiet ? -1 : l->listen_fd, .events = POLLIN};
		p[SLOT_IRQ] = (struct pollfd){.fd = stopped ? -1 : irq_fd, .events = POLLIN};
		p[SLOT_KICK] = (struct pollfd){.fd = w->kick[0], .events = POLLIN};
		/* While the session may be writing to a client's eventfd, look
		 * at those writes often enough (fd_signal.h). */
		if ((has_fds || stopped) && (to < 0 || to > FD_SIGNAL_WATCH_MS))
			to = FD_SIGNAL_WATCH_MS;
		n = poll(p, SLOT_RJ + nrj, to);
		if (n < 0 && errno != EINTR) {
			LOG_WARN("vfio-user server: poll: %s", upci_strerror(-errno));
			usleep(10 * 1000); /* never spin */
		}
		fd_signal_watch(w->mark, vfu_tran_now_ms(), stopped);
		if (n <= 0)
			continue;
		if (p[SLOT_KICK].revents) {
			char buf[64];

			while (read(w->kick[0], buf, sizeof(buf)) > 0)
				;
		}
		if (p[SLOT_STOP].revents) {
			/* Cut the client off; a write to its eventfd must not
			 * hold the session either, until it ends (quit). */
			stopped = true;
			atomic_store(&w->stopped, true);
			shutdown(w->client_fd, SHUT_RDWR);
			fd_signal_watch(w->mark, vfu_tran_now_ms(), true);
			continue;
		}
		if (p[SLOT_IRQ].revents)
			srv_irq_relay(w->ss);
		if (p[SLOT_CLIENT].revents) {
			gone = true; /* whoever connects now is the next client */
			continue;
		}
		reject_poll_done(l, p + SLOT_RJ, nrj);
		if (p[SLOT_LISTEN].revents)
			reject_accept(l);
	}
	fd_signal_detach();
	return NULL;
}

static int pipe_nb(int fds[2])
{
	if (pipe(fds) != 0)
		return -errno;
	for (int i = 0; i < 2; i++) {
		if (fcntl(fds[i], F_SETFL, O_NONBLOCK) != 0 || fcntl(fds[i], F_SETFD, FD_CLOEXEC) != 0) {
			int err = -errno;

			close(fds[0]);
			close(fds[1]);
			return err;
		}
	}
	return 0;
}

static int watcher_start(struct watcher *w, struct loop *l, struct vfu_session *ss, int client_fd,
			 struct fd_signal_mark *mark)
{
	sigset_t all, old;
	int ret;

	w->l = l;
	w->ss = ss;
	w->mark = mark;
	w->client_fd = client_fd;
	atomic_init(&w->quit, false);
	atomic_init(&w->stopped, false);
	ret = pipe_nb(w->kick);
	if (ret)
		return ret;
	ss->kick_fd = w->kick[1];
	/* Signals go to the threads that expect them, not to the watcher;
	 * only the guard of its own writes may come (srv_irq_relay). */
	sigfillset(&all);
	sigdelset(&all, FD_SIGNAL_GUARD_SIG);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = -pthread_create(&w->th, NULL, watch, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		ss->kick_fd = -1;
		close(w->kick[0]);
		close(w->kick[1]);
	}
	return ret;
}

/* Returns whether the watcher saw a stop. */
static bool watcher_stop(struct watcher *w)
{
	char b = 0;

	atomic_store(&w->quit, true);
	(void)!write(w->kick[1], &b, 1);
	pthread_join(w->th, NULL);
	w->ss->kick_fd = -1;
	close(w->kick[0]);
	close(w->kick[1]);
	return atomic_load(&w->stopped);
}

/* The session on this thread, blocking in its reads (see struct watcher). */
static int serve_blocking(struct vfu_session *ss, struct loop *l, int pfd, struct vfu_tran *t)
{
	struct fd_signal_mark mark;
	struct watcher w;
	int rc;

	/* This thread signals the client's eventfds (the device's interrupts,
	 * SET_IRQS); the watcher interrupts a write that sleeps. */
	(void)fd_signal_attach(&mark, false);
	rc = watcher_start(&w, l, ss, pfd, &mark);
	if (rc) {
		fd_signal_detach();
		LOG_WARN("vfio-user server: no watcher thread for the client (%s): hanging up", upci_strerror(rc));
		return rc;
	}
	/* One recvmsg per message where the byte source allows it, also
	 * while a step waits with a sweep's timeout (no poll around it). */
	(void)vfu_tran_set_readahead(t, true);
	vfu_tran_set_kernel_waits(t, true);
	/* After a stop the socket is shut down, but AF_UNIX still delivers
	 * what was queued: thousands of posted writes (NO_REPLY, so no send
	 * fails) could keep us busy for seconds. Stop between messages. */
	ss->stop = &w.stopped;
	/* Wake to sweep while a mapping window of the client's memory is
	 * unused (srv_dma.c): its pages are not held for long after the
	 * client unmapped them, even if the client goes quiet. */
	do
		rc = vfu_session_step(ss, srv_dma_sweep_ms(ss));
	while ((rc == 0 || rc == -EAGAIN) && !atomic_load(&w.stopped));
	ss->stop = NULL;
	if (watcher_stop(&w))
		rc = 0; /* we cut the client off: a stop, not a failure */
	fd_signal_detach();
	return rc;
}

static int serve(struct vfu_server *s, struct vfu_tran *t, struct loop *l)
{
	struct vfu_session *ss;
	int pfd = vfu_tran_pollfd(t);
	int ret;

	if (pfd >= 0 && !peer_allowed(s, pfd))
		return -EACCES;
	ret = vfu_session_open(s, t, &ss);
	if (ret)
		return ret;
	if (pfd >= 0) {
		ret = serve_blocking(ss, l, pfd, t);
	} else {
		/* No fd to watch (the memory transport): messages until it ends. */
		do
			ret = vfu_session_step(ss, -1);
		while (ret == 0 || ret == -EAGAIN);
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
	struct loop l = {.s = s, .stop_fd = stop_fd, .listen_fd = -1};

	if (!s || !t)
		return -EINVAL;
	return serve(s, t, &l);
}

/*
 * Wait for a connection or a stop, answering refused newcomers meanwhile.
 * 1: connection; 0: stop; -errno.
 */
static int wait_listen(struct loop *l)
{
	for (;;) {
		struct pollfd p[2 + REJECT_MAX];
		int n, to = -1;
		unsigned nrj = reject_poll_fill(l, false, p + 2, &to);

		p[0] = (struct pollfd){.fd = l->listen_fd, .events = POLLIN};
		p[1] = (struct pollfd){.fd = l->stop_fd, .events = POLLIN};
		n = poll(p, 2 + nrj, to);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (p[1].revents)
			return 0;
		reject_poll_done(l, p + 2, nrj);
		if (p[0].revents)
			return 1;
	}
}

/*
 * The next client: one accepted while we were busy and still waiting, else
 * a new connection (one the allow list refuses is held to be answered
 * EACCES). Returns 1 with *fd, 0 for a stop, -EAGAIN to look again, or an
 * accept error that will not go away.
 */
static int next_client(struct loop *l, int *fd)
{
	int ret;

	for (unsigned i = 0; i < l->nrj; i++)
		if (l->rj[i].err == -EBUSY) {
			*fd = l->rj[i].fd;
			l->rj[i] = l->rj[--l->nrj];
			return 1;
		}
	ret = wait_listen(l);
	if (ret <= 0)
		return ret;
	ret = vfu_sock_accept(l->listen_fd, 0, fd);
	if (ret == 0) {
		if (peer_allowed(l->s, *fd))
			return 1;
		reject_hold(l, *fd, -EACCES);
		return -EAGAIN;
	}
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
	struct loop l = {.s = s, .stop_fd = stop_fd, .listen_fd = listen_fd};
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

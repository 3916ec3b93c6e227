/* SPDX-License-Identifier: MIT */
/*
 * The service thread: answers the server's requests (DMA_READ/DMA_WRITE)
 * that arrive while no call waits for a reply, such as a device DMAing
 * from its own timer (libvfio-user's sample server does). A call answers
 * those that come while it waits (vu_conn.c); without this thread the
 * others would wait for the next call, however far off, and a server
 * blocked on its request would take that call's request for the reply it
 * awaits.
 *
 * With a twin socket (the spec's twin_socket, where the server offers
 * one) the server's requests have a socket of their own: the thread
 * watches it all the time, and answers at once, during calls too, with
 * no crossing of a request and a command possible. Otherwise they share
 * the one socket with the calls, as follows.
 *
 * The calls pay nothing for it. The thread watches the socket only once
 * no call has begun for VU_SVC_IDLE_MS: asleep on the socket during
 * calls, it would be woken by every reply, a cross-CPU wake-up per call,
 * which is the very cost the reply path avoids (vu_recv.c). While calls
 * come it looks every VU_SVC_IDLE_MS, and that is all it does; a request
 * that comes between two calls of a busy caller is answered by the next
 * call or within that time.
 *
 * One user of the socket at a time: vu_conn.io, held by a call from its
 * request to its reply and by this thread while it answers. The thread
 * never waits for it (trylock), and lets go after each request when a
 * call wants it (want_io). It blocks every signal: the process's handlers
 * run on the process's own threads.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/eventfd.h> /* the backend is built on Linux only */
#include <unistd.h>

#include "log.h"
#include "vu.h"

/* No call for this long: the caller is idle, watch the socket. */
#define VU_SVC_IDLE_MS 10

/* serve() results */
enum { SVC_IDLE, SVC_BUSY, SVC_END };

/* Answer what has come, if no call holds the socket. */
static int serve(struct vu_conn *c)
{
	int rc;

	if (pthread_mutex_trylock(&c->io) != 0)
		return SVC_BUSY; /* a call: it answers what comes meanwhile */
	rc = vu_conn_serve_pending(c);
	pthread_mutex_unlock(&c->io);
	return rc < 0 ? SVC_END : (rc ? SVC_BUSY : SVC_IDLE);
}

/* Twin socket: wait for requests, answer them, until the end. */
static void svc_twin(struct vu_conn *c)
{
	struct pollfd p[2] = {{.fd = c->stop_fd, .events = POLLIN},
			      {.fd = vfu_tran_pollfd(c->t2), .events = POLLIN}};

	for (;;) {
		int n = poll(p, 2, -1);

		if (n < 0 && errno != EINTR) {
			LOG_WARN("vfio-user %s: service thread: poll: %s", c->name, upci_strerror(-errno));
			(void)poll(NULL, 0, VU_SVC_IDLE_MS); /* ENOMEM: not a spin */
		}
		if (n > 0 && p[0].revents)
			return;
		if (n > 0 && vu_conn_serve_twin(c) < 0)
			return; /* the connection is gone */
	}
}

static void *svc_main(void *arg)
{
	struct vu_conn *c = arg;
	int sock = vfu_tran_pollfd(c->t); /* the fd is ours until vu_conn_close */
	unsigned seen = atomic_load(&c->calls);
	bool idle = false;

	if (c->t2) {
		svc_twin(c);
		return NULL;
	}
	for (;;) {
		struct pollfd p[2] = {{.fd = c->stop_fd, .events = POLLIN}, {.fd = sock, .events = POLLIN}};
		unsigned now;
		int n;

		if (idle) {
			int r = serve(c);

			if (r == SVC_END)
				break; /* the connection is gone: nothing to watch */
			idle = r == SVC_IDLE;
		}
		/* Idle: wait for the server (or the end). Busy: look again
		 * when the calls may have stopped. */
		n = poll(p, idle ? 2 : 1, idle ? -1 : VU_SVC_IDLE_MS);
		if (n < 0 && errno != EINTR) {
			LOG_WARN("vfio-user %s: service thread: poll: %s", c->name, upci_strerror(-errno));
			(void)poll(NULL, 0, VU_SVC_IDLE_MS); /* ENOMEM: not a spin */
		}
		if (n > 0 && p[0].revents)
			break;
		/* A call began since the last look: the socket is its, and a
		 * wake-up on it was most likely that call's reply. */
		now = atomic_load(&c->calls);
		idle = now == seen;
		seen = now;
	}
	return NULL;
}

int vu_svc_start(struct vu_conn *c)
{
	sigset_t all, old;
	int rc;

	c->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (c->stop_fd < 0)
		return -errno;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&c->svc, NULL, svc_main, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		close(c->stop_fd);
		c->stop_fd = -1;
		return -rc;
	}
	(void)pthread_setname_np(c->svc, "upci-vfu-svc");
	c->svc_on = true;
	return 0;
}

void vu_svc_stop(struct vu_conn *c)
{
	uint64_t one = 1;

	if (c->svc_on) {
		/* An eventfd write of 8 bytes cannot block or fail here. */
		if (write(c->stop_fd, &one, sizeof(one)) != (ssize_t)sizeof(one))
			LOG_WARN("vfio-user %s: stopping the service thread: %s", c->name, upci_strerror(-errno));
		pthread_join(c->svc, NULL);
		c->svc_on = false;
	}
	if (c->stop_fd >= 0)
		close(c->stop_fd);
	c->stop_fd = -1;
}

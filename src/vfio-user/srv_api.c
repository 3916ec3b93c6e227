/* SPDX-License-Identifier: MIT */
/*
 * upci_server_*() (upci/model.h): serve one or more devices over
 * vfio-user from a program, as `upci serve` does (tools/cmd_serve.c is a
 * thin caller of this file). Each export has its own vfu_server (its
 * limits, its allow list) and its own thread running srv_loop.c's accept
 * loop, so N exports serve N clients at once. One self-pipe per server is
 * the stop fd every loop polls: a stop signal, upci_server_stop() or an
 * export that fails for good writes to it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server.h"
#include "srv_args.h"
#include "stop_signal.h"
#include "tran.h"
#include "upci/model.h"

#define MAX_EXPORTS 64
#define MODE_DEFAULT 0600
#define MODE_GROUP 0660

enum srv_state { SRV_NEW, SRV_STARTED, SRV_ENDED };

struct srv_export {
	upci_dev *dev;
	bool owned;              /* opened by upci_server_add_uri */
	struct srv_endpoint ep;  /* socket or fd, mode, group, limits */
	struct vfu_server *s;
	int lfd;                 /* the socket we created, -1: none */
	struct vfu_sock_file sock_id;
	pthread_t th;
	bool running;
	int ret;
};

struct upci_server {
	struct srv_export *ex[MAX_EXPORTS];
	unsigned n;
	struct srv_endpoint defaults; /* options given with idx -1 */
	bool signals;
	int status_fd;
	enum srv_state state;
	bool own_signals;        /* we hold stop_signal.c */
	int stop_pipe[2];
	int sig;
	pthread_mutex_t lock;    /* err, and ret of the exports */
	char err[512];
};

static void set_err(upci_server *srv, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&srv->lock);
	va_start(ap, fmt);
	vsnprintf(srv->err, sizeof(srv->err), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&srv->lock);
}

static const char *uri_of(const struct srv_export *e)
{
	const char *u = upci_uri(e->dev);

	return u ? u : "?";
}

int upci_server_new(upci_server **out)
{
	upci_server *srv;

	if (!out)
		return -EINVAL;
	*out = NULL;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv_endpoint_init(&srv->defaults);
	srv->signals = true;
	srv->status_fd = -1;
	srv->stop_pipe[0] = srv->stop_pipe[1] = -1;
	pthread_mutex_init(&srv->lock, NULL);
	*out = srv;
	return 0;
}

/* The endpoint @idx names: an export's, or the defaults for -1. */
static struct srv_endpoint *endpoint(upci_server *srv, int idx)
{
	if (idx == -1)
		return &srv->defaults;
	if (idx < 0 || (unsigned)idx >= srv->n)
		return NULL;
	return &srv->ex[idx]->ep;
}

static int add(upci_server *srv, upci_dev *dev, bool owned)
{
	struct srv_export *e;
	int ret;

	if (srv->state != SRV_NEW)
		return -EBUSY;
	if (srv->n == MAX_EXPORTS)
		return -ENOSPC;
	/* Two sessions on one handle would undo each other's interrupt and
	 * DMA set-up. */
	for (unsigned i = 0; i < srv->n; i++)
		if (srv->ex[i]->dev == dev)
			return -EBUSY;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->dev = dev;
	e->owned = owned;
	e->lfd = -1;
	/* Claimed now: a device another handle holds is refused here, not
	 * when the server starts. */
	ret = upci_claim(dev);
	if (ret == -EBUSY)
		ret = -EPERM;
	if (ret == 0)
		ret = srv_endpoint_copy(&e->ep, &srv->defaults);
	if (ret) {
		srv_endpoint_free(&e->ep);
		free(e);
		return ret;
	}
	/* A socket path given for the next export belongs to this one only. */
	srv_endpoint_take_socket(&srv->defaults);
	srv->ex[srv->n] = e;
	return (int)srv->n++;
}

int upci_server_add(upci_server *srv, upci_dev *dev)
{
	if (!srv || !dev)
		return -EINVAL;
	return add(srv, dev, false);
}

int upci_server_add_uri(upci_server *srv, const char *uri)
{
	upci_dev *dev;
	int ret;

	if (!srv || !uri)
		return -EINVAL;
	if (srv->state != SRV_NEW)
		return -EBUSY;
	ret = upci_open(&dev, uri);
	if (ret) {
		set_err(srv, "%s: open: %s", uri, upci_strerror(ret));
		return ret;
	}
	ret = add(srv, dev, true);
	if (ret < 0) {
		set_err(srv, "%s: serve: %s", uri, upci_strerror(ret));
		upci_close(dev);
	}
	return ret;
}

/* The endpoint @idx names on a server that may still be changed. */
static int editable(upci_server *srv, int idx, struct srv_endpoint **ep)
{
	if (!srv)
		return -EINVAL;
	if (srv->state != SRV_NEW)
		return -EBUSY;
	*ep = endpoint(srv, idx);
	return *ep ? 0 : -EINVAL;
}

int upci_server_socket(upci_server *srv, int idx, const char *path)
{
	struct srv_endpoint *ep;
	int ret = editable(srv, idx, &ep);

	if (ret)
		return ret;
	return path ? srv_endpoint_set_socket(ep, path) : -EINVAL;
}

int upci_server_set(upci_server *srv, int idx, enum upci_server_opt opt, int64_t value)
{
	struct srv_endpoint *ep;
	int ret;

	if (!srv)
		return -EINVAL;
	if (srv->state != SRV_NEW)
		return -EBUSY;
	switch (opt) {
	case UPCI_SERVER_SIGNALS:
		if (idx != -1 || (value != 0 && value != 1))
			return -EINVAL;
		srv->signals = value != 0;
		return 0;
	case UPCI_SERVER_STATUS_FD:
		if (idx != -1 || value < -1 || value > INT32_MAX)
			return -EINVAL;
		srv->status_fd = (int)value;
		return 0;
	default:
		ret = editable(srv, idx, &ep);
		return ret ? ret : srv_endpoint_set(ep, opt, value);
	}
}

int upci_server_args(upci_server *srv, int idx, int argc, char **argv, char *why, size_t whylen)
{
	struct srv_endpoint *ep;
	int ret = editable(srv, idx, &ep);

	if (why && whylen)
		why[0] = '\0';
	if (ret)
		return ret;
	if (argc < 1 || !argv)
		return -EINVAL;
	/* All or nothing: parsed into a copy, kept only when every option
	 * was good (a refused call must not leave half its options set). */
	{
		struct srv_endpoint tmp;

		ret = srv_endpoint_copy(&tmp, ep);
		if (ret)
			return ret;
		ret = srv_args_parse(&tmp, argc, argv, why, whylen);
		if (ret < 0) {
			srv_endpoint_free(&tmp);
			return ret;
		}
		srv_endpoint_free(ep);
		*ep = tmp;
		return ret;
	}
}

/* ---- start ---- */

/* A socket file nobody listens on (left by a killed server) may go. */
static int remove_stale(const char *path)
{
	struct stat st;
	int fd, ret;

	if (lstat(path, &st) != 0 || !S_ISSOCK(st.st_mode))
		return -EADDRINUSE;
	ret = vfu_sock_connect(path, &fd);
	if (ret == 0) {
		close(fd);
		return -EADDRINUSE; /* alive: someone serves it */
	}
	if (ret != -ECONNREFUSED)
		return -EADDRINUSE;
	return unlink(path) == 0 ? 0 : -errno;
}

static int listen_on(upci_server *srv, struct srv_export *e)
{
	const struct srv_endpoint *ep = &e->ep;
	unsigned mode = ep->mode >= 0 ? (unsigned)ep->mode : ep->gid != (gid_t)-1 ? MODE_GROUP : MODE_DEFAULT;
	int ret = vfu_sock_listen_file(ep->socket_path, 1, mode, ep->gid, &e->lfd, &e->sock_id);

	if (ret == -EADDRINUSE && remove_stale(ep->socket_path) == 0)
		ret = vfu_sock_listen_file(ep->socket_path, 1, mode, ep->gid, &e->lfd, &e->sock_id);
	if (ret == -EADDRINUSE)
		set_err(srv, "%s: listen: %s exists and is not a stale socket", uri_of(e), ep->socket_path);
	else if (ret == -EPERM && ep->gid != (gid_t)-1)
		set_err(srv, "%s: listen: %s: cannot give the socket group %u (%s)", uri_of(e), ep->socket_path,
			(unsigned)ep->gid, upci_strerror(ret));
	else if (ret)
		set_err(srv, "%s: listen: %s: %s", uri_of(e), ep->socket_path, upci_strerror(ret));
	if (ret)
		e->lfd = -1;
	return ret;
}

/* An inherited fd must be an open stream socket. */
static int check_fd(upci_server *srv, const struct srv_export *e)
{
	int type = 0, fd = e->ep.fd;
	socklen_t len = sizeof(type);

	if (fcntl(fd, F_GETFD) < 0) {
		set_err(srv, "%s: serve: fd %d is not open", uri_of(e), fd);
		return -EBADF;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM) {
		set_err(srv, "%s: serve: fd %d is not a stream socket", uri_of(e), fd);
		return -EINVAL;
	}
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	return 0;
}

static void stop_write(upci_server *srv)
{
	char c = 0;

	if (srv->stop_pipe[1] >= 0 && write(srv->stop_pipe[1], &c, 1) < 0) {
		/* full: the loops will see it anyway */
	}
}

/* --fd N: a listening socket is served until stopped, a connected one once. */
static int serve_fd(struct srv_export *e, int stop_fd)
{
	int listening = 0, ret;
	socklen_t len = sizeof(listening);
	struct vfu_tran *t;

	if (getsockopt(e->ep.fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0)
		return -errno;
	if (listening)
		return vfu_server_run(e->s, e->ep.fd, stop_fd);
	ret = vfu_tran_sock_new(e->ep.fd, &t);
	if (ret)
		return ret;
	e->ep.fd = -1; /* the transport owns it now */
	ret = vfu_server_serve(e->s, t, stop_fd);
	vfu_tran_close(t);
	return ret;
}

struct thread_arg {
	upci_server *srv;
	struct srv_export *e;
};

static void *export_thread(void *p)
{
	struct thread_arg *a = p;
	upci_server *srv = a->srv;
	struct srv_export *e = a->e;
	int ret;

	free(a);
	ret = e->lfd >= 0 ? vfu_server_run(e->s, e->lfd, srv->stop_pipe[0]) : serve_fd(e, srv->stop_pipe[0]);
	if (ret) {
		/* One export failing for good ends the server: a supervisor
		 * restarts the whole process rather than half of it. */
		pthread_mutex_lock(&srv->lock);
		e->ret = ret;
		pthread_mutex_unlock(&srv->lock);
		set_err(srv, "%s: serve: %s", uri_of(e), upci_strerror(ret));
		stop_write(srv);
	}
	return NULL;
}

int upci_server_status(const upci_server *srv, char *buf, size_t len)
{
	size_t at = 0;

	if (!srv || !buf || !len)
		return -EINVAL;
	buf[0] = '\0';
	for (unsigned i = 0; i < srv->n && at < len; i++) {
		const struct srv_export *e = srv->ex[i];
		int n;

		if (e->ep.socket_path)
			n = snprintf(buf + at, len - at, "%supci: serving %s on %s (vfio-user), pid %ld", i ? "\n" : "",
				     uri_of(e), e->ep.socket_path, (long)getpid());
		else
			n = snprintf(buf + at, len - at, "%supci: serving %s on fd %d (vfio-user), pid %ld", i ? "\n" : "",
				     uri_of(e), e->ep.fd, (long)getpid());
		if (n < 0)
			break;
		at += (size_t)n;
	}
	return 0;
}

/* What SIGUSR1/SIGUSR2 write: the status, a line per export. */
static void set_status(upci_server *srv)
{
	char text[4096];

	upci_server_status(srv, text, sizeof(text));
	stop_signal_set_status_fd(srv->status_fd, text);
}

static void unlisten(upci_server *srv, struct srv_export *e)
{
	if (e->lfd < 0)
		return;
	/* The name first: nobody should find a socket that no longer answers. */
	if (vfu_sock_unlink_file(e->ep.socket_path, &e->sock_id) == -ESTALE)
		set_err(srv, "%s was replaced while serving; left as it is", e->ep.socket_path);
	close(e->lfd);
	e->lfd = -1;
}

/* Undo a start that failed half-way, or end one that ran. */
static void teardown(upci_server *srv)
{
	for (unsigned i = 0; i < srv->n; i++)
		unlisten(srv, srv->ex[i]);
	if (srv->own_signals) {
		srv->sig = stop_signal_caught();
		stop_signal_close();
		srv->own_signals = false;
	}
	for (int i = 0; i < 2; i++)
		if (srv->stop_pipe[i] >= 0) {
			close(srv->stop_pipe[i]);
			srv->stop_pipe[i] = -1;
		}
}

static int open_stop_pipe(upci_server *srv)
{
	if (pipe(srv->stop_pipe) < 0)
		return -errno;
	for (int i = 0; i < 2; i++) {
		int fl = fcntl(srv->stop_pipe[i], F_GETFL);

		if (fl < 0 || fcntl(srv->stop_pipe[i], F_SETFL, fl | O_NONBLOCK) < 0 ||
		    fcntl(srv->stop_pipe[i], F_SETFD, FD_CLOEXEC) < 0)
			return -errno;
	}
	return 0;
}

static int start_threads(upci_server *srv)
{
	sigset_t all, old;
	int ret = 0;

	/* The loops' threads take no signal: the handler runs elsewhere and
	 * only writes to the stop pipe they poll. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned i = 0; i < srv->n && ret == 0; i++) {
		struct thread_arg *a = malloc(sizeof(*a));

		if (!a) {
			ret = -ENOMEM;
			break;
		}
		a->srv = srv;
		a->e = srv->ex[i];
		ret = -pthread_create(&srv->ex[i]->th, NULL, export_thread, a);
		if (ret)
			free(a);
		else
			srv->ex[i]->running = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

static void join_all(upci_server *srv)
{
	for (unsigned i = 0; i < srv->n; i++)
		if (srv->ex[i]->running) {
			pthread_join(srv->ex[i]->th, NULL);
			srv->ex[i]->running = false;
		}
}

int upci_server_start(upci_server *srv)
{
	char why[256];
	int ret = 0;

	if (!srv)
		return -EINVAL;
	if (srv->state != SRV_NEW)
		return -EBUSY;
	srv->err[0] = '\0';
	if (srv->n == 0) {
		set_err(srv, "nothing to serve: no device added");
		return -EINVAL;
	}
	for (unsigned i = 0; i < srv->n && ret == 0; i++) {
		struct srv_export *e = srv->ex[i];

		ret = srv_endpoint_check(&e->ep, why, sizeof(why));
		if (ret)
			set_err(srv, "%s: serve: %s", uri_of(e), why);
		else if (e->ep.fd >= 0)
			ret = check_fd(srv, e);
		if (ret == 0 && !e->s) {
			/* Each export its own server: its own limits. */
			ret = vfu_server_new(e->dev, &e->ep.so, &e->s);
			if (ret)
				set_err(srv, "%s: serve: %s", uri_of(e), upci_strerror(ret));
		}
	}
	if (ret == 0)
		ret = open_stop_pipe(srv);
	if (ret == 0 && srv->signals) {
		/* Before any socket exists: from then on no signal may skip
		 * removing it. */
		ret = stop_signal_open_fd(srv->stop_pipe[1], 1);
		if (ret == 0)
			srv->own_signals = true;
		else
			set_err(srv, "signals: %s", ret == -EBUSY ? "another server owns the stop signals"
								   : upci_strerror(ret));
	}
	for (unsigned i = 0; i < srv->n && ret == 0; i++)
		if (srv->ex[i]->ep.socket_path)
			ret = listen_on(srv, srv->ex[i]);
	if (ret == 0 && srv->own_signals)
		set_status(srv);
	if (ret == 0) {
		ret = start_threads(srv);
		if (ret) {
			set_err(srv, "serve: cannot start a thread: %s", upci_strerror(ret));
			stop_write(srv);
			join_all(srv);
		}
	}
	if (ret) {
		teardown(srv);
		return ret;
	}
	srv->state = SRV_STARTED;
	return 0;
}

int upci_server_stop(upci_server *srv)
{
	if (!srv || srv->state != SRV_STARTED)
		return -EINVAL;
	stop_write(srv);
	return 0;
}

int upci_server_wait(upci_server *srv)
{
	int ret = 0;

	if (!srv || srv->state != SRV_STARTED)
		return -EINVAL;
	join_all(srv);
	teardown(srv);
	srv->state = SRV_ENDED;
	for (unsigned i = 0; i < srv->n && ret == 0; i++)
		ret = srv->ex[i]->ret;
	return ret;
}

int upci_server_run(upci_server *srv)
{
	int ret = upci_server_start(srv);

	return ret ? ret : upci_server_wait(srv);
}

int upci_server_signal(const upci_server *srv)
{
	return srv ? srv->sig : 0;
}

int upci_server_error(const upci_server *srv, char *buf, size_t len)
{
	if (!srv || !buf || !len)
		return -EINVAL;
	pthread_mutex_lock((pthread_mutex_t *)&srv->lock);
	snprintf(buf, len, "%s", srv->err);
	pthread_mutex_unlock((pthread_mutex_t *)&srv->lock);
	return 0;
}

void upci_server_free(upci_server *srv)
{
	if (!srv)
		return;
	if (srv->state == SRV_STARTED) {
		stop_write(srv);
		(void)upci_server_wait(srv);
	}
	for (unsigned i = 0; i < srv->n; i++) {
		struct srv_export *e = srv->ex[i];

		vfu_server_free(e->s);
		if (e->owned)
			upci_close(e->dev);
		srv_endpoint_free(&e->ep);
		free(e);
	}
	srv_endpoint_free(&srv->defaults);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
}

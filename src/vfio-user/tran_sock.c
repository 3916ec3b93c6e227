/* SPDX-License-Identifier: MIT */
/*
 * vfio-user byte source over a connected AF_UNIX SOCK_STREAM socket, plus
 * listen/accept/connect helpers and the life of a listening socket's file
 * (created ready and with its mode, removed only while it is ours).
 * Framing lives in tran.c.
 *
 * Every bounded wait is a poll() with a deadline, and every socket call
 * that must not outlast one uses MSG_DONTWAIT, so a silent or vanished
 * peer costs at most the timeout, whether the socket is blocking or not.
 * A read tries recvmsg first and polls only when nothing is there (poll
 * and a second recvmsg would cost two more system calls per message);
 * a read that may wait forever blocks in recvmsg itself, falling back to
 * poll when the socket is non-blocking or someone set SO_RCVTIMEO on it.
 * EINTR restarts with the time left. With kernel waits on (the server's
 * session, tran.h), a bounded read blocks in recvmsg under SO_RCVTIMEO
 * instead, kept between reads: one system call, not three, when the
 * client's next message is not there yet.
 */
#define _GNU_SOURCE /* accept4, MSG_CMSG_CLOEXEC */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h> /* rename */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "tran.h"

/* The most fds Linux passes in one sendmsg (SCM_MAX_FD): receive them all
 * so that we, not the kernel, decide what to close. */
#define SOCK_CMSG_FDS 253u

/* Messages up to this size without fds are gathered and sent with send(),
 * which costs the kernel less than sendmsg's msghdr and iovec copies. */
#define SOCK_GATHER_MAX 512u

#ifdef MSG_CMSG_CLOEXEC
#define RECV_FLAGS MSG_CMSG_CLOEXEC
#else
#define RECV_FLAGS 0
#endif

/*
 * Linux ends a stream recvmsg right after the first skb that carried
 * SCM_RIGHTS (fds ride on the first skb of the sender's sendmsg), which
 * read-ahead needs; BSD and macOS attach control data differently.
 */
#ifdef __linux__
#define SOCK_READAHEAD_OK true
#else
#define SOCK_READAHEAD_OK false
#endif

#ifdef MSG_NOSIGNAL
#define SEND_FLAGS (MSG_DONTWAIT | MSG_NOSIGNAL)
#else
#define SEND_FLAGS MSG_DONTWAIT /* macOS: SO_NOSIGPIPE is set instead */
#endif

struct tran_sock {
	struct vfu_tran base;
	int fd;
	int rcvtimeo_ms; /* SO_RCVTIMEO we left on fd (kernel waits); 0: none */
};

static struct tran_sock *to_sock(struct vfu_tran *t)
{
	return (struct tran_sock *)t;
}


/* Wait for @events until @deadline (ms, CLOCK_MONOTONIC; <0: forever). */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int to = -1, n;

		if (deadline >= 0) {
			int64_t left = deadline - vfu_tran_now_ms();

			to = left <= 0 ? 0 : (left > 1000000 ? 1000000 : (int)left);
		}
		n = poll(&p, 1, to);
		if (n > 0)
			return 0; /* readable, writable, HUP or ERR: the call will tell */
		if (n == 0)
			return -EAGAIN;
		if (errno != EINTR)
			return -errno;
	}
}

static int64_t deadline_of(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : vfu_tran_now_ms() + timeout_ms;
}

static void set_cloexec(int fd)
{
#ifndef MSG_CMSG_CLOEXEC
	int fl = fcntl(fd, F_GETFD);

	if (fl >= 0)
		(void)fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
#else
	(void)fd;
#endif
}

void vfu_sock_collect_fds(struct msghdr *mh, struct vfu_fd_sink *sink)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0))
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			set_cloexec(fd);
			vfu_fd_sink_put(sink, fd);
		}
	}
	if (mh->msg_flags & MSG_CTRUNC)
		sink->rejected = true; /* the kernel dropped fds: message is incomplete */
}

/* Kernel waits: leave SO_RCVTIMEO at @ms (0: none); false if it cannot be. */
static bool keep_rcvtimeo(struct tran_sock *s, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	if (s->rcvtimeo_ms == ms)
		return true;
	if (setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0)
		return false;
	s->rcvtimeo_ms = ms;
	return true;
}

static ssize_t sock_read(struct vfu_tran *t, void *buf, size_t len,
			 struct vfu_fd_sink *sink, int timeout_ms)
{
	struct tran_sock *s = to_sock(t);
	int fd = s->fd;
	int64_t deadline = 0;
	bool waited = false;
	/* Waiting in recvmsg under the kept SO_RCVTIMEO (tran.h); after a
	 * signal or a non-blocking socket, the rest of the wait is poll's. */
	bool in_kernel = timeout_ms > 0 && t->kernel_waits && keep_rcvtimeo(s, timeout_ms);
	int flags = RECV_FLAGS | (timeout_ms < 0 || in_kernel ? 0 : MSG_DONTWAIT);
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * SOCK_CMSG_FDS)];
	} ctl;

	if (in_kernel) {
		deadline = deadline_of(timeout_ms);
		waited = true;
	}
	for (;;) {
		struct iovec iov = { .iov_base = buf, .iov_len = len };
		struct msghdr mh = {
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = ctl.buf,
			.msg_controllen = sizeof(ctl.buf),
		};
		ssize_t n = recvmsg(fd, &mh, flags);
		int rc;

		if (n >= 0) {
			vfu_sock_collect_fds(&mh, sink);
			return n;
		}
		if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		if (in_kernel) {
			in_kernel = false;
			flags |= MSG_DONTWAIT;
			if (errno == EINTR)
				continue;
			if (vfu_tran_now_ms() >= deadline)
				return -EAGAIN;
		} else if (errno == EINTR) {
			continue;
		} else if (timeout_ms < 0 && s->rcvtimeo_ms && keep_rcvtimeo(s, 0)) {
			continue; /* the timeout we kept fired: block for good now */
		}
		if (timeout_ms == 0)
			return -EAGAIN; /* no second look: poll(0) would say the same */
		if (!waited) {
			deadline = deadline_of(timeout_ms);
			waited = true;
		}
		rc = wait_fd(fd, POLLIN, deadline);
		if (rc)
			return rc;
	}
}

static int sock_write(struct vfu_tran *t, const struct iovec *iov, size_t iovcnt,
		      const int *fds, size_t nr_fds, int timeout_ms)
{
	int fd = to_sock(t)->fd;
	int64_t deadline = 0;
	bool waited = false;
	struct iovec v[VFU_TRAN_MAX_IOV + 1];
	struct iovec *cur = v;
	size_t left = iovcnt;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * VFU_MSG_MAX_FDS)];
	} ctl;
	uint8_t small[SOCK_GATHER_MAX];
	size_t total = 0;

	if (iovcnt > VFU_TRAN_MAX_IOV + 1 || nr_fds > VFU_MSG_MAX_FDS)
		return -EINVAL;
	memcpy(v, iov, iovcnt * sizeof(*iov));
	if (nr_fds > 0)
		memset(&ctl, 0, sizeof(ctl));
	for (size_t i = 0; i < iovcnt && total <= sizeof(small); i++)
		total += v[i].iov_len;
	if (nr_fds == 0 && iovcnt > 1 && total <= sizeof(small)) {
		/* A short reply in one piece: send() spares the kernel the
		 * msghdr and iovec copies sendmsg makes (SOCK_GATHER_MAX). */
		size_t at = 0;

		for (size_t i = 0; i < iovcnt; i++) {
			if (v[i].iov_len)
				memcpy(small + at, v[i].iov_base, v[i].iov_len);
			at += v[i].iov_len;
		}
		v[0] = (struct iovec){ .iov_base = small, .iov_len = total };
		left = 1;
	}

	while (left > 0) {
		struct msghdr mh = { .msg_iov = cur, .msg_iovlen = left };
		ssize_t n;

		if (cur->iov_len == 0) { /* skip empty pieces */
			cur++;
			left--;
			continue;
		}
		if (nr_fds > 0) { /* fds ride with the first byte only */
			struct cmsghdr *c;

			mh.msg_control = ctl.buf;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * nr_fds);
			c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * nr_fds);
			memcpy(CMSG_DATA(c), fds, sizeof(int) * nr_fds);
		}
		if (nr_fds == 0 && left == 1)
			n = send(fd, cur->iov_base, cur->iov_len, SEND_FLAGS);
		else
			n = sendmsg(fd, &mh, SEND_FLAGS);
		if (n < 0) {
			int rc;

			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -errno;
			if (!waited) { /* the clock starts at the first full buffer */
				deadline = deadline_of(timeout_ms);
				waited = true;
			}
			rc = wait_fd(fd, POLLOUT, deadline);
			if (rc)
				return rc == -EAGAIN ? -ETIMEDOUT : rc;
			continue;
		}
		if (n == 0)
			return -EIO; /* cannot happen with data to send; never spin */
		nr_fds = 0;
		for (size_t done = (size_t)n; done > 0;) {
			size_t step;

			if (left == 0)
				return -EIO; /* the kernel claims more than we gave */
			step = done < cur->iov_len ? done : cur->iov_len;

			if (step == 0) { /* an empty piece the kernel skipped */
				cur++;
				left--;
				continue;
			}
			cur->iov_base = (uint8_t *)cur->iov_base + step;
			cur->iov_len -= step;
			done -= step;
			if (cur->iov_len == 0) {
				cur++;
				left--;
			}
		}
	}
	return 0;
}

static int sock_pollfd(struct vfu_tran *t)
{
	return to_sock(t)->fd;
}

static void sock_destroy(struct vfu_tran *t)
{
	struct tran_sock *s = to_sock(t);

	vfu_tran_fini(t);
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}

static const struct vfu_tran_ops sock_ops = {
	.name = "sock",
	.readahead_ok = SOCK_READAHEAD_OK,
	.read = sock_read,
	.write = sock_write,
	.pollfd = sock_pollfd,
	.destroy = sock_destroy,
};

static void no_sigpipe(int fd)
{
#ifdef SO_NOSIGPIPE
	int one = 1;

	(void)setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof(one));
#else
	(void)fd;
#endif
}

int vfu_tran_sock_new(int fd, struct vfu_tran **out)
{
	struct tran_sock *s;

	if (fd < 0 || fcntl(fd, F_GETFD) < 0)
		return -EBADF;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	vfu_tran_init(&s->base, &sock_ops);
	s->fd = fd;
	no_sigpipe(fd);
	*out = &s->base;
	return 0;
}

static int new_socket(int *out)
{
	int fd;

#ifdef SOCK_CLOEXEC
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
#else
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd >= 0)
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
#endif
	if (fd < 0)
		return -errno;
	*out = fd;
	return 0;
}

static int fill_addr(const char *path, struct sockaddr_un *sa)
{
	size_t n;

	if (path == NULL || path[0] == '\0')
		return -EINVAL;
	n = strlen(path);
	if (n >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, n + 1);
	return 0;
}

/* Tries at a free temporary name before giving up. */
#define TEMP_TRIES 16

/* "<directory of path>/.upci-XXXXXX" in @sa, random per @attempt. */
static int temp_addr(const char *path, unsigned attempt, struct sockaddr_un *sa)
{
	static const char digits[] = "abcdefghijklmnopqrstuvwxyz234567";
	const char *slash = strrchr(path, '/');
	size_t dlen = slash ? (size_t)(slash - path) + 1 : 0;
	struct timespec ts;
	uint64_t r;
	char name[14] = ".upci-";

	if (dlen + sizeof(name) > sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	clock_gettime(CLOCK_REALTIME, &ts);
	r = ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
	    ((uint64_t)attempt * 0x9e3779b97f4a7c15ull);
	for (int i = 6; i < 12; i++, r >>= 5)
		name[i] = digits[r & 31];
	name[12] = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, dlen);
	memcpy(sa->sun_path + dlen, name, sizeof(name));
	return 0;
}

/* Mode and group of the file we just bound, without following a link
 * someone might have put in its place. */
static int set_perms(const char *p, unsigned mode, gid_t gid)
{
	if (fchmodat(AT_FDCWD, p, (mode_t)mode, AT_SYMLINK_NOFOLLOW) != 0) {
		struct stat st;

		/* No way without following links here (glibc before 2.39
		 * needs /proc for it): check it is still a socket first. */
		if (lstat(p, &st) != 0)
			return -errno;
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		if (chmod(p, (mode_t)mode) != 0)
			return -errno;
	}
	if (gid != (gid_t)-1 && lchown(p, (uid_t)-1, gid) != 0)
		return -errno;
	return 0;
}

/* Give the listening socket at @tmp its final name @path, never replacing
 * a file there: link() fails on an existing name. Where the file system
 * has no hard links, rename after a check (a file appearing meanwhile
 * would be replaced). */
static int publish(const char *tmp, const char *path)
{
	struct stat st;

	if (link(tmp, path) == 0) {
		(void)unlink(tmp);
		return 0;
	}
	if (errno == EEXIST)
		return -EADDRINUSE;
	if (lstat(path, &st) == 0)
		return -EADDRINUSE;
	return rename(tmp, path) == 0 ? 0 : -errno;
}

int vfu_sock_listen_file(const char *path, int backlog, unsigned mode, gid_t gid, int *out_fd,
			 struct vfu_sock_file *id)
{
	struct sockaddr_un fin, at;
	struct stat st;
	bool direct = false;
	int fd = -1, rc;

	if (mode > 0777 || !out_fd)
		return -EINVAL;
	rc = fill_addr(path, &fin);
	if (rc)
		return rc;
	if (lstat(path, &st) == 0)
		return -EADDRINUSE;
	rc = new_socket(&fd);
	if (rc)
		return rc;
	for (unsigned i = 0;; i++) {
		rc = temp_addr(path, i, &at);
		if (rc == -ENAMETOOLONG) {
			at = fin; /* no room for a temporary name */
			direct = true;
		}
		if (bind(fd, (struct sockaddr *)&at, sizeof(at)) == 0)
			break;
		rc = -errno;
		if (rc != -EADDRINUSE || direct || i + 1 == TEMP_TRIES) {
			close(fd);
			return rc;
		}
	}
	/* Nobody can connect before listen(), whatever the mode was. */
	rc = set_perms(at.sun_path, mode, gid);
	if (rc == 0 && lstat(at.sun_path, &st) != 0)
		rc = -errno;
	if (rc == 0 && listen(fd, backlog > 0 ? backlog : 1) != 0)
		rc = -errno;
	if (rc == 0 && !direct)
		rc = publish(at.sun_path, path);
	if (rc) {
		(void)unlink(at.sun_path); /* ours: bound above */
		close(fd);
		return rc;
	}
	if (id) {
		id->dev = st.st_dev;
		id->ino = st.st_ino;
	}
	*out_fd = fd;
	return 0;
}

int vfu_sock_listen(const char *path, int backlog, int *out_fd)
{
	return vfu_sock_listen_file(path, backlog, 0600, (gid_t)-1, out_fd, NULL);
}

int vfu_sock_unlink_file(const char *path, const struct vfu_sock_file *id)
{
	struct stat st;

	if (!path || !id)
		return -EINVAL;
	if (lstat(path, &st) != 0)
		return -errno;
	if (!S_ISSOCK(st.st_mode) || st.st_dev != id->dev || st.st_ino != id->ino)
		return -ESTALE;
	return unlink(path) == 0 ? 0 : -errno;
}

int vfu_sock_peer_uid(int fd, uid_t *uid)
{
#ifdef SO_PEERCRED
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0)
		return -errno;
	*uid = cr.uid;
#else
	gid_t gid;

	if (getpeereid(fd, uid, &gid) != 0)
		return -errno;
#endif
	return 0;
}

int vfu_sock_accept(int listen_fd, int timeout_ms, int *out_fd)
{
	int64_t deadline = deadline_of(timeout_ms);

	for (;;) {
		int fd, rc;

		rc = wait_fd(listen_fd, POLLIN, deadline);
		if (rc)
			return rc;
#ifdef SOCK_CLOEXEC
		fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
#else
		fd = accept(listen_fd, NULL, NULL);
		if (fd >= 0)
			(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
#endif
		if (fd >= 0) {
			*out_fd = fd;
			return 0;
		}
		/* a client that gave up between poll and accept: wait again */
		if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != ECONNABORTED)
			return -errno;
	}
}

int vfu_sock_connect(const char *path, int *out_fd)
{
	struct sockaddr_un sa;
	int fd = -1, rc;

	rc = fill_addr(path, &sa);
	if (rc)
		return rc;
	rc = new_socket(&fd);
	if (rc)
		return rc;
	for (bool retried = false; connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0;
	     retried = true) {
		if (errno == EINTR)
			continue; /* an interrupted AF_UNIX connect stays unconnected */
		if (retried && errno == EISCONN)
			break;
		rc = -errno;
		close(fd);
		return rc;
	}
	*out_fd = fd;
	return 0;
}

int vfu_sock_pair(int fds[2])
{
#ifdef SOCK_CLOEXEC
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
		return -errno;
#else
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0)
		return -errno;
	(void)fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	(void)fcntl(fds[1], F_SETFD, FD_CLOEXEC);
#endif
	return 0;
}

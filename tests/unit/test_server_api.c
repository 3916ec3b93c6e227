/* SPDX-License-Identifier: MIT */
/*
 * upci_server_*() (include/upci/model.h): a program registers a model and
 * serves it over vfio-user, as `upci serve` does; several devices from one
 * process, each on its own socket with its own session and limits. The
 * clients are upci's own vfio-user backend, connected to every export at
 * once. Also the option parser shared with `upci serve`, the socket file
 * rules, and the signals (handled while serving, the caller's handlers
 * back afterwards).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "upci/model.h"

/* ---- a small model: an ID register from a parameter ---- */

struct tiny {
	uint32_t id;
};

static int tiny_read(upci_model *m, void *priv, unsigned bar, uint64_t off, unsigned width, uint64_t *val)
{
	struct tiny *t = priv;

	(void)m;
	(void)bar;
	(void)width;
	*val = off == 0 ? t->id : 0;
	return 0;
}

static int tiny_create(upci_model *m, const upci_model_params *p)
{
	static const char *const known[] = {"id", NULL};
	struct tiny *t = upci_model_priv(m);
	uint64_t id;

	if (upci_model_params_check(p, known, NULL) || upci_model_param_u64(p, "id", 0, 0, UINT32_MAX, &id))
		return -EINVAL;
	t->id = (uint32_t)id;
	if (upci_model_set_ids(m, 0x1af4, 0x10fc, 0x1af4, 0, 1, 0xff0000))
		return -EINVAL;
	return upci_model_bar_regs(m, 0, 4096, 0, tiny_read, NULL);
}

static const struct upci_model_ops tiny_ops = {
	.api_version = UPCI_MODEL_API_VERSION,
	.name = "tiny",
	.summary = "an ID register",
	.params = "id=N",
	.priv_size = sizeof(struct tiny),
	.create = tiny_create,
};

static char dir[64];

static const char *path_in(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
	return buf;
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/upci-srvapi-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	return upci_model_register(&tiny_ops) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	rmdir(dir);
	return upci_model_unregister("tiny") == 0 ? 0 : -1;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t remote_id(upci_dev *d)
{
	uint64_t v = 0;

	assert_int_equal(upci_claim(d), 0);
	assert_int_equal(upci_mmio_read(d, 0, 0, 4, &v), 0);
	return (uint32_t)v;
}

/* ---- the option parser ---- */

static int parse(upci_server *srv, char *why, size_t n, ...)
{
	char *argv[16];
	int argc = 0;
	va_list ap;

	va_start(ap, n);
	argv[argc++] = "prog";
	for (char *a = va_arg(ap, char *); a && argc < 15; a = va_arg(ap, char *))
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	return upci_server_args(srv, -1, argc, argv, why, n);
}

static void test_args(void **state)
{
	char *argv[] = {"prog", "-v", "--socket", "/tmp/a.sock", "URI", "--help", "-u", "0", "--", "--socket", NULL};
	upci_server *srv;
	char why[256];

	(void)state;
	assert_int_equal(upci_server_new(&srv), 0);
	/* What is not ours stays, in order, after argv[0]. */
	assert_int_equal(upci_server_args(srv, -1, 10, argv, why, sizeof(why)), 4);
	assert_string_equal(argv[1], "-v");
	assert_string_equal(argv[2], "URI");
	assert_string_equal(argv[3], "--help");
	assert_string_equal(argv[4], "--socket");
	upci_server_free(srv);

#define BAD(msg, ...)                                                                    \
	do {                                                                             \
		assert_int_equal(upci_server_new(&srv), 0);                              \
		assert_int_equal(parse(srv, why, sizeof(why), __VA_ARGS__, NULL), -EINVAL); \
		assert_non_null(strstr(why, msg));                                       \
		upci_server_free(srv);                                                   \
	} while (0)
	BAD("give exactly one of --socket PATH and --fd N", "URI");
	BAD("give exactly one", "--socket", "/tmp/x", "--fd", "3");
	BAD("need --socket", "--fd", "3", "--socket-mode", "600");
	BAD("need --socket", "--fd", "3", "-g", "0");
	BAD("bad --socket-mode \"888\"", "-s", "/tmp/x", "-m", "888");
	BAD("bad --socket-mode \"1777\"", "-s", "/tmp/x", "-m1777");
	BAD("bad --socket-mode \"\"", "-s", "/tmp/x", "--socket-mode=");
	BAD("no such group", "-s", "/tmp/x", "--socket-group", "no-such-group-upci");
	BAD("expected a group name or number", "-s", "/tmp/x", "--socket-group", "4294967295");
	BAD("no such user", "-s", "/tmp/x", "--allow-uid", "no-such-user-upci");
	BAD("bad --fd \"-1\"", "--fd", "-1");
	BAD("bad --fd \"3x\"", "--fd=3x");
	BAD("bad --dma-timeout \"0\"", "-s", "/tmp/x", "-T", "0");
	BAD("empty --socket path", "--socket", "");
	BAD("too long", "--socket",
	    "/tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	BAD("option \"--socket\" needs a value", "--socket");
	BAD("option -f needs a value", "-f");
#undef BAD
	/* A refused call changes nothing: its good options are not kept
	 * (else 20 refused calls would fill the allow list). */
	assert_int_equal(upci_server_new(&srv), 0);
	for (int i = 0; i < 20; i++)
		assert_int_equal(parse(srv, why, sizeof(why), "-s", "/tmp/x", "--allow-uid", "1", "-m", "888", NULL),
				 -EINVAL);
	assert_int_equal(parse(srv, why, sizeof(why), "-s", "/tmp/x", "--allow-uid", "2", NULL), 0);
	upci_server_free(srv);
	/* 16 allowed users is the limit, the 17th is refused (by the setter). */
	assert_int_equal(upci_server_new(&srv), 0);
	for (int i = 0; i < 16; i++)
		assert_int_equal(upci_server_set(srv, -1, UPCI_SERVER_ALLOW_UID, 1000 + i), 0);
	assert_int_equal(upci_server_set(srv, -1, UPCI_SERVER_ALLOW_UID, 2000), -ENOSPC);
	/* Values out of range, unknown options, bad indices. */
	assert_int_equal(upci_server_set(srv, -1, UPCI_SERVER_SOCKET_MODE, 01000), -EINVAL);
	assert_int_equal(upci_server_set(srv, -1, UPCI_SERVER_MAX_DMA_MAPS, 0), -EINVAL);
	assert_int_equal(upci_server_set(srv, -1, UPCI_SERVER_MAX_DATA_XFER, 100), -EINVAL);
	assert_int_equal(upci_server_set(srv, -1, UPCI_SERVER_MAX_MSG_FDS, 0), -EINVAL);
	assert_int_equal(upci_server_set(srv, -1, UPCI_SERVER_DMA_TIMEOUT_MS, 0), -EINVAL);
	assert_int_equal(upci_server_set(srv, -1, UPCI_SERVER_FD, -2), -EINVAL);
	assert_int_equal(upci_server_set(srv, -1, (enum upci_server_opt)99, 0), -EINVAL);
	assert_int_equal(upci_server_set(srv, 0, UPCI_SERVER_DMA_TIMEOUT_MS, 10), -EINVAL); /* no export 0 */
	assert_int_equal(upci_server_set(srv, 0, UPCI_SERVER_SIGNALS, 0), -EINVAL);         /* server-wide */
	assert_int_equal(upci_server_set(srv, -1, UPCI_SERVER_SIGNALS, 2), -EINVAL);
	assert_int_equal(upci_server_socket(srv, 3, "/tmp/x"), -EINVAL);
	assert_int_equal(upci_server_socket(srv, -1, ""), -EINVAL);
	assert_int_equal(upci_server_start(srv), -EINVAL); /* nothing to serve */
	assert_int_equal(upci_server_error(srv, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "nothing to serve"));
	assert_int_equal(upci_server_wait(srv), -EINVAL);
	assert_int_equal(upci_server_stop(srv), -EINVAL);
	upci_server_free(srv);
	upci_server_free(NULL);
	assert_int_equal(upci_server_new(NULL), -EINVAL);
}

/* ---- several devices from one process ---- */

static void test_multi_export(void **state)
{
	char p[3][128], why[512], status[1024], uri[512];
	const char *const uris[3] = {"sim:tiny?id=0x1111", "sim:tiny?id=0x2222", "sim:edu"};
	upci_dev *c[3], *busy, *extra = NULL;
	struct upci_dma_buf b1, b2;
	upci_server *srv;
	int64_t t0;

	(void)state;
	assert_int_equal(upci_server_new(&srv), 0);
	assert_int_equal(upci_server_set(srv, -1, UPCI_SERVER_SIGNALS, 0), 0);
	for (int i = 0; i < 3; i++) {
		char name[16];

		snprintf(name, sizeof(name), "dev%d.sock", i);
		assert_int_equal(upci_server_socket(srv, -1, path_in(p[i], sizeof(p[i]), name)), 0);
		assert_int_equal(upci_server_add_uri(srv, uris[i]), i);
	}
	/* The same device twice: its claim is held by the first export; the
	 * same handle twice would be two sessions on one handle. */
	assert_int_equal(upci_server_add_uri(srv, "sim:edu"), -EPERM);
	{
		upci_dev *h;

		assert_int_equal(upci_open(&h, "sim:tiny?id=0x3333"), 0);
		assert_int_equal(upci_server_add(srv, h), 3);
		assert_int_equal(upci_server_add(srv, h), -EBUSY);
		assert_int_equal(upci_server_socket(srv, 3, path_in(p[0], sizeof(p[0]), "dev3.sock")), 0);
		snprintf(p[0], sizeof(p[0]), "%s/dev0.sock", dir);
		extra = h;
	}
	/* Export 0 offers a single DMA mapping; the others the default. */
	assert_int_equal(upci_server_set(srv, 0, UPCI_SERVER_MAX_DMA_MAPS, 1), 0);
	assert_int_equal(upci_server_start(srv), 0);
	assert_int_equal(upci_server_start(srv), -EBUSY);
	assert_int_equal(upci_server_add_uri(srv, "sim:tiny?id=3"), -EBUSY);
	assert_int_equal(upci_server_status(srv, status, sizeof(status)), 0);
	assert_non_null(strstr(status, "upci: serving sim:tiny?id=0x2222 on "));
	assert_non_null(strstr(status, "dev2.sock (vfio-user), pid "));
	for (int i = 0; i < 3; i++) {
		struct stat st;

		/* Owner-only sockets by default. */
		assert_int_equal(stat(p[i], &st), 0);
		assert_true(S_ISSOCK(st.st_mode));
		assert_int_equal(st.st_mode & 0777, 0600);
	}
	/* Three clients at once: each export has its own session. */
	for (int i = 0; i < 3; i++) {
		snprintf(uri, sizeof(uri), "vfio-user:%s", p[i]);
		assert_int_equal(upci_open(&c[i], uri), 0);
		assert_int_equal(upci_claim(c[i]), 0);
	}
	assert_int_equal(remote_id(c[0]), 0x1111);
	assert_int_equal(remote_id(c[1]), 0x2222);
	assert_int_equal(remote_id(c[2]), 0x010000ed); /* edu's ID register */
	/* One client per export: a second one on export 1 is turned away. */
	snprintf(uri, sizeof(uri), "vfio-user:%s", p[1]);
	assert_int_equal(upci_open(&busy, uri), -EBUSY);
	/* Each export its own limits. */
	assert_int_equal(upci_dma_alloc(c[0], UPCI_IOVA_ANY, 4096, &b1), 0);
	assert_true(upci_dma_alloc(c[0], UPCI_IOVA_ANY, 4096, &b2) < 0);
	assert_int_equal(upci_dma_free(c[0], &b1), 0);
	assert_int_equal(upci_dma_alloc(c[1], UPCI_IOVA_ANY, 4096, &b1), 0);
	assert_int_equal(upci_dma_alloc(c[1], UPCI_IOVA_ANY, 4096, &b2), 0);
	assert_int_equal(upci_dma_free(c[1], &b1), 0);
	assert_int_equal(upci_dma_free(c[1], &b2), 0);
	/* A client leaves; the next one on that export is served. */
	upci_close(c[1]);
	assert_int_equal(upci_open(&c[1], uri), 0);
	assert_int_equal(remote_id(c[1]), 0x2222);
	/* Stop with clients connected: prompt, sockets removed. */
	t0 = now_ms();
	assert_int_equal(upci_server_stop(srv), 0);
	assert_int_equal(upci_server_wait(srv), 0);
	assert_true(now_ms() - t0 < 2000);
	assert_int_equal(upci_server_signal(srv), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(access(p[i], F_OK), -1);
		upci_close(c[i]);
	}
	assert_int_equal(upci_server_error(srv, why, sizeof(why)), 0);
	assert_string_equal(why, "");
	upci_server_free(srv);
	upci_close(extra); /* ours: the server left it open */
	/* The instances went with the server's handles. */
	assert_int_equal(upci_model_unregister("tiny"), 0);
	assert_int_equal(upci_model_register(&tiny_ops), 0);
}

/* ---- signals ---- */

static volatile sig_atomic_t mine;

static void my_handler(int sig)
{
	(void)sig;
	mine++;
}

static void test_signals(void **state)
{
	struct sigaction sa = {.sa_handler = my_handler}, old;
	upci_server *srv, *other;
	upci_dev *c;
	char p[128], q[128], why[256];

	(void)state;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGTERM, &sa, &old), 0);
	assert_int_equal(upci_server_new(&srv), 0);
	assert_int_equal(upci_server_add_uri(srv, "sim:tiny?id=7"), 0);
	assert_int_equal(upci_server_socket(srv, 0, path_in(p, sizeof(p), "sig.sock")), 0);
	assert_int_equal(upci_server_start(srv), 0);
	/* Only one server owns the stop signals. */
	assert_int_equal(upci_server_new(&other), 0);
	assert_int_equal(upci_server_add_uri(other, "sim:tiny?id=8"), 0);
	assert_int_equal(upci_server_socket(other, 0, path_in(q, sizeof(q), "other.sock")), 0);
	assert_int_equal(upci_server_start(other), -EBUSY);
	assert_int_equal(upci_server_error(other, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "another server owns the stop signals"));
	assert_int_equal(access(q, F_OK), -1); /* nothing left behind */
	upci_server_free(other);
	/* SIGTERM ends it, with a client connected. */
	snprintf(why, sizeof(why), "vfio-user:%s", p);
	assert_int_equal(upci_open(&c, why), 0);
	assert_int_equal(remote_id(c), 7);
	kill(getpid(), SIGTERM);
	assert_int_equal(upci_server_wait(srv), 0);
	assert_int_equal(upci_server_signal(srv), SIGTERM);
	assert_int_equal(access(p, F_OK), -1);
	assert_int_equal(mine, 0);
	upci_close(c);
	upci_server_free(srv);
	/* Our handler is back. */
	kill(getpid(), SIGTERM);
	assert_int_equal(mine, 1);
	sigaction(SIGTERM, &old, NULL);
}

/* ---- the socket file ---- */

static void test_socket_rules(void **state)
{
	char p[128], why[512];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	upci_server *srv;
	struct stat st;
	int fd, sv[2];

	(void)state;
	/* A file at the path is never replaced. */
	path_in(p, sizeof(p), "file");
	fd = open(p, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(upci_server_new(&srv), 0);
	assert_int_equal(upci_server_set(srv, -1, UPCI_SERVER_SIGNALS, 0), 0);
	assert_int_equal(upci_server_add_uri(srv, "sim:tiny?id=1"), 0);
	assert_int_equal(upci_server_socket(srv, 0, p), 0);
	assert_int_equal(upci_server_start(srv), -EADDRINUSE);
	assert_int_equal(upci_server_error(srv, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "sim:tiny?id=1: listen: "));
	assert_non_null(strstr(why, "exists and is not a stale socket"));
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	unlink(p);
	upci_server_free(srv);

	/* A stale socket (nobody listening) is replaced; the mode is ours. */
	path_in(p, sizeof(p), "stale.sock");
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(strlen(p) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, p, strlen(p) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(upci_server_new(&srv), 0);
	assert_int_equal(upci_server_set(srv, -1, UPCI_SERVER_SIGNALS, 0), 0);
	assert_int_equal(upci_server_set(srv, -1, UPCI_SERVER_SOCKET_MODE, 0640), 0);
	assert_int_equal(upci_server_add_uri(srv, "sim:tiny?id=1"), 0);
	assert_int_equal(upci_server_socket(srv, 0, p), 0);
	assert_int_equal(upci_server_start(srv), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	upci_server_free(srv); /* stops and waits */
	assert_int_equal(access(p, F_OK), -1);

	/* An inherited fd must be a stream socket; an export needs exactly
	 * one endpoint. */
	assert_int_equal(upci_server_new(&srv), 0);
	assert_int_equal(upci_server_set(srv, -1, UPCI_SERVER_SIGNALS, 0), 0);
	assert_int_equal(upci_server_add_uri(srv, "sim:tiny?id=1"), 0);
	assert_int_equal(upci_server_start(srv), -EINVAL);
	assert_int_equal(upci_server_error(srv, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "give exactly one of --socket PATH and --fd N"));
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	assert_int_equal(upci_server_set(srv, 0, UPCI_SERVER_FD, sv[0]), 0);
	assert_int_equal(upci_server_start(srv), -EINVAL);
	assert_int_equal(upci_server_error(srv, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "is not a stream socket"));
	close(sv[0]);
	close(sv[1]);
	upci_server_free(srv);
	/* A URI that names nothing: the error names it. */
	assert_int_equal(upci_server_new(&srv), 0);
	assert_int_equal(upci_server_add_uri(srv, "sim:nothing"), -ENOENT);
	assert_int_equal(upci_server_error(srv, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "sim:nothing: open: "));
	upci_server_free(srv);
}

struct client {
	const char *uri;
	uint32_t id;
	int ret;
};

/* A client thread: no cmocka asserts off the test thread. */
static void *client_thread(void *p)
{
	struct client *cl = p;
	upci_dev *c;
	uint64_t v = 0;

	cl->ret = upci_open(&c, cl->uri);
	if (cl->ret == 0) {
		cl->ret = upci_claim(c);
		if (cl->ret == 0)
			cl->ret = upci_mmio_read(c, 0, 0, 4, &v);
		cl->id = (uint32_t)v;
		upci_close(c);
	}
	return NULL;
}

/* Inherited fds: a listening socket serves clients one after another; a
 * connected one is served once, then the server ends by itself. */
static void test_inherited_fd(void **state)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char p[128], uri[256];
	struct client cl = {.uri = uri};
	upci_server *srv;
	pthread_t th;
	upci_dev *c;
	int lfd, cfd;

	(void)state;
	path_in(p, sizeof(p), "fwd.sock");
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(strlen(p) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, p, strlen(p) + 1);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	snprintf(uri, sizeof(uri), "vfio-user:%s", p);

	assert_int_equal(upci_server_new(&srv), 0);
	assert_int_equal(upci_server_set(srv, -1, UPCI_SERVER_SIGNALS, 0), 0);
	assert_int_equal(upci_server_set(srv, -1, UPCI_SERVER_FD, lfd), 0);
	assert_int_equal(upci_server_add_uri(srv, "sim:tiny?id=5"), 0);
	assert_int_equal(upci_server_start(srv), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(upci_open(&c, uri), 0);
		assert_int_equal(remote_id(c), 5);
		upci_close(c);
	}
	upci_server_free(srv);
	assert_int_equal(access(p, F_OK), 0); /* not ours: left alone */

	assert_int_equal(upci_server_new(&srv), 0);
	assert_int_equal(upci_server_set(srv, -1, UPCI_SERVER_SIGNALS, 0), 0);
	assert_int_equal(upci_server_add_uri(srv, "sim:tiny?id=6"), 0);
	assert_int_equal(pthread_create(&th, NULL, client_thread, &cl), 0);
	cfd = accept(lfd, NULL, NULL);
	assert_true(cfd >= 0);
	assert_int_equal(upci_server_set(srv, 0, UPCI_SERVER_FD, cfd), 0);
	assert_int_equal(upci_server_start(srv), 0);
	assert_int_equal(upci_server_wait(srv), 0); /* the client left: over */
	pthread_join(th, NULL);
	assert_int_equal(cl.ret, 0);
	assert_int_equal(cl.id, 6);
	upci_server_free(srv);

	/* The same through upci_server_run (start, then wait). */
	cl.ret = -1;
	cl.id = 0;
	assert_int_equal(upci_server_new(&srv), 0);
	assert_int_equal(upci_server_set(srv, -1, UPCI_SERVER_SIGNALS, 0), 0);
	assert_int_equal(upci_server_add_uri(srv, "sim:tiny?id=7"), 0);
	assert_int_equal(pthread_create(&th, NULL, client_thread, &cl), 0);
	cfd = accept(lfd, NULL, NULL);
	assert_true(cfd >= 0);
	assert_int_equal(upci_server_set(srv, 0, UPCI_SERVER_FD, cfd), 0);
	assert_int_equal(upci_server_run(srv), 0);
	pthread_join(th, NULL);
	assert_int_equal(cl.ret, 0);
	assert_int_equal(cl.id, 7);
	assert_int_equal(upci_server_run(srv), -EBUSY); /* ran: not again */
	upci_server_free(srv);
	close(lfd);
	unlink(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_multi_export),
		cmocka_unit_test(test_signals),
		cmocka_unit_test(test_socket_rules),
		cmocka_unit_test(test_inherited_fd),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

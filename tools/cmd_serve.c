/* SPDX-License-Identifier: MIT */
/*
 * 'upci serve': export any upci device over the vfio-user protocol, one
 * client at a time, e.g. to QEMU's vfio-user-pci. Conventions of
 * vhost-user back ends: no daemonizing, --socket PATH or --fd N, SIGTERM
 * and SIGINT stop it cleanly (the socket it created is removed).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd_serve.h"
#include "server.h"
#include "tran.h"
#include "stop_signal.h"
#include "util.h"

static const char serve_help[] =
	"Usage: upci serve URI (--socket PATH | --fd N) [--dma-timeout MS]\n"
	"\n"
	"Claim the device at URI and export it over the vfio-user protocol, so that\n"
	"an unmodified VMM (QEMU 10.1+ vfio-user-pci) can give it to a guest. One\n"
	"client at a time; when it disconnects, its DMA mappings and interrupt fds\n"
	"are dropped, the device state is kept and the next client is accepted.\n"
	"Runs in the foreground until SIGTERM or SIGINT (exit status 0).\n"
	"\n"
	"  -s, --socket PATH   listen on a new UNIX socket at PATH, removed on exit;\n"
	"                      a stale socket there (nobody listening) is replaced\n"
	"  -f, --fd N          use inherited fd N: a listening UNIX socket (clients are\n"
	"                      accepted one after another) or a connected one (served\n"
	"                      once, then upci exits)\n"
	"  -T, --dma-timeout MS  how long device DMA to memory the client shared\n"
	"                      without an fd waits for its answer (default 5000)\n"
	"\n"
	"Offered to the client: max_msg_fds 16, max_data_xfer_size 1 MiB,\n"
	"max_dma_maps 65535, 4 KiB pages, write_multiple when asked, and upci's\n"
	"x-upci-dma-bus-addr when asked (DMA_MAP replies name the bus address). A\n"
	"dext: device (macOS) needs it: its IOMMU picks bus addresses, so a DMA_MAP\n"
	"from a client without it is refused (ENOTSUP); see docs/macos.md.\n"
	"Set UPCI_LOG=info (or debug) to see clients come and go.\n"
	"\n"
	"Examples:\n"
	"  upci serve 'sim:testdev?vectors=64' --socket /tmp/testdev.sock\n"
	"  qemu-system-x86_64 -machine q35,memory-backend=mem \\\n"
	"      -object memory-backend-memfd,id=mem,size=1G,share=on \\\n"
	"      -device '{\"driver\":\"vfio-user-pci\",\"socket\":{\"type\":\"unix\",\"path\":\"/tmp/testdev.sock\"}}'\n";

struct serve_opts {
	const char *socket_path;
	int fd;
	unsigned dma_timeout_ms;
};

static int stop_fd = -1; /* SIGINT/SIGTERM, readable (stop_signal.h) */

/* Returns -1 to go on, else the exit code. */
static int parse_opts(int argc, char **argv, struct serve_opts *o)
{
	static const struct option opts[] = {
		{"socket", required_argument, NULL, 's'},
		{"fd", required_argument, NULL, 'f'},
		{"dma-timeout", required_argument, NULL, 'T'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *cmd = argv[0];
	unsigned fd;
	int c;

	o->socket_path = NULL;
	o->fd = -1;
	o->dma_timeout_ms = VFU_SRV_DMA_TIMEOUT_MS;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:f:T:h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(serve_help, stdout);
			return EXIT_OK;
		case 's':
			if (optarg[0] == '\0')
				return usage_error(cmd, "empty --socket path");
			o->socket_path = optarg;
			break;
		case 'f':
			if (parse_uint(optarg, INT_MAX, &fd))
				return usage_error(cmd, "bad --fd \"%s\" (expected a file descriptor number)", optarg);
			o->fd = (int)fd;
			break;
		case 'T':
			if (parse_uint(optarg, INT_MAX, &o->dma_timeout_ms) || o->dma_timeout_ms == 0)
				return usage_error(cmd, "bad --dma-timeout \"%s\" (expected 1..%d milliseconds)", optarg,
						   INT_MAX);
			break;
		default:
			return option_error(cmd, argv, c);
		}
	}
	if (!o->socket_path == (o->fd < 0))
		return usage_error(cmd, "give exactly one of --socket PATH and --fd N");
	return -1;
}

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

static int listen_on(const char *uri, const char *path, int *lfd)
{
	int ret = vfu_sock_listen(path, 1, lfd);

	if (ret == -EADDRINUSE && remove_stale(path) == 0)
		ret = vfu_sock_listen(path, 1, lfd);
	if (ret == -EADDRINUSE)
		return op_errorf(EXIT_FAIL, uri, "listen", "%s exists and is not a stale socket", path);
	if (ret)
		return op_errorf(EXIT_FAIL, uri, "listen", "%s: %s", path, upci_strerror(ret));
	return EXIT_OK;
}

/* --fd N: a listening socket is served until stopped, a connected one once. */
static int serve_fd(const char *uri, struct vfu_server *s, int fd)
{
	int listening = 0, type = 0, ret;
	socklen_t len = sizeof(listening);

	if (fcntl(fd, F_GETFD) < 0)
		return op_errorf(EXIT_FAIL, uri, "serve", "fd %d is not open", fd);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM)
		return op_errorf(EXIT_FAIL, uri, "serve", "fd %d is not a stream socket", fd);
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	len = sizeof(listening);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0)
		return op_error(uri, "serve", -errno);
	if (listening) {
		ret = vfu_server_run(s, fd, stop_fd);
	} else {
		struct vfu_tran *t;

		ret = vfu_tran_sock_new(fd, &t);
		if (ret == 0) {
			ret = vfu_server_serve(s, t, stop_fd);
			vfu_tran_close(t);
		}
	}
	return ret ? op_error(uri, "serve", ret) : EXIT_OK;
}

int cmd_serve(int argc, char **argv)
{
	static const char *const names[] = {"URI"};
	struct serve_opts o;
	struct vfu_server_opts so;
	struct vfu_server *s = NULL;
	upci_dev *dev = NULL;
	const char *uri;
	int code, ret, lfd = -1;

	code = parse_opts(argc, argv, &o);
	if (code >= 0)
		return code;
	code = check_args(argv[0], argv + optind, argc - optind, 1, 1, names);
	if (code >= 0)
		return code;
	uri = argv[optind];
	code = open_device(uri, 1, &dev);
	if (code)
		return code;
	vfu_server_opts_default(&so);
	so.dma_timeout_ms = (int)o.dma_timeout_ms;
	/* policy NULL: the server picks it from the device (the dext backend's
	 * host-owned registers on dext:, forward everything elsewhere). */
	so.policy = NULL;
	ret = vfu_server_new(dev, &so, &s);
	if (ret) {
		upci_close(dev);
		return op_error(uri, "serve", ret);
	}
	stop_fd = stop_signal_open(1);
	if (stop_fd < 0) {
		code = op_error(uri, "signals", stop_fd);
		goto out;
	}
	if (o.socket_path) {
		code = listen_on(uri, o.socket_path, &lfd);
		if (code)
			goto out;
		printf("upci: serving %s on %s (vfio-user); SIGTERM or Ctrl-C stops\n", uri, o.socket_path);
		fflush(stdout);
		ret = vfu_server_run(s, lfd, stop_fd);
		code = ret ? op_error(uri, "serve", ret) : EXIT_OK;
	} else {
		code = serve_fd(uri, s, o.fd);
	}
out:
	if (lfd >= 0) {
		close(lfd);
		unlink(o.socket_path);
	}
	vfu_server_free(s);
	upci_close(dev);
	stop_signal_close();
	return code;
}

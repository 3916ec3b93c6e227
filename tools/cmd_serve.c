/* SPDX-License-Identifier: MIT */
/*
 * 'upci serve': export any upci device over the vfio-user protocol, one
 * client at a time, e.g. to QEMU's vfio-user-pci. Conventions of
 * vhost-user back ends: no daemonizing, --socket PATH or --fd N, the
 * signals of a terminal or a service manager stop it cleanly (the socket
 * it created is removed if it is still there). The socket is its user's
 * alone unless --socket-mode/--socket-group/--allow-uid widen it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
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
	"                  [--socket-mode MODE] [--socket-group GROUP] [--allow-uid USER]...\n"
	"\n"
	"Claim the device at URI and export it over the vfio-user protocol, so that\n"
	"an unmodified VMM (QEMU 10.1+ vfio-user-pci) can give it to a guest. One\n"
	"client at a time; when it disconnects, its DMA mappings and interrupt fds\n"
	"are dropped, the device state is kept and the next client is accepted.\n"
	"Runs in the foreground until SIGTERM, SIGINT, SIGHUP or SIGQUIT (exit\n"
	"status 0); SIGUSR1 and SIGUSR2 print a status line on stderr.\n"
	"\n"
	"  -s, --socket PATH     listen on a new UNIX socket at PATH. It appears only\n"
	"                        once it accepts connections, never replaces a file\n"
	"                        (but a stale socket, nobody listening, is replaced),\n"
	"                        and is removed on exit if it is still the same file\n"
	"  -f, --fd N            use inherited fd N: a listening UNIX socket (clients are\n"
	"                        accepted one after another) or a connected one (served\n"
	"                        once, then upci exits)\n"
	"  -T, --dma-timeout MS  how long device DMA to memory the client shared\n"
	"                        without an fd waits for its answer (default 5000)\n"
	"  -m, --socket-mode MODE  permission bits of the --socket file, octal, at most\n"
	"                        777 (default 600: only this user can connect; the\n"
	"                        umask plays no part)\n"
	"  -g, --socket-group GROUP  group of the --socket file, a name or a number;\n"
	"                        the mode then defaults to 660 (the group can connect)\n"
	"  -u, --allow-uid USER  serve only clients running as USER (a name or a\n"
	"                        number) or as this user, whoever can open the socket;\n"
	"                        repeat for more users (up to 16). Others get EACCES.\n"
	"                        Also for --fd\n"
	"\n"
	"Offered to the client: max_msg_fds 16, max_data_xfer_size 1 MiB,\n"
	"max_dma_maps 65535 or what the process can still mmap if less, 4 KiB\n"
	"pages, write_multiple when asked, and upci's\n"
	"x-upci-dma-bus-addr when asked (DMA_MAP replies name the bus address). A\n"
	"dext: device (macOS) needs it: its IOMMU picks bus addresses, so a DMA_MAP\n"
	"from a client without it is refused (ENOTSUP); see docs/macos.md.\n"
	"What a client can and cannot do to the server: docs/vfio-user.md, Security.\n"
	"Set UPCI_LOG=info (or debug) to see clients come and go.\n"
	"\n"
	"Examples:\n"
	"  upci serve 'sim:testdev?vectors=64' --socket /tmp/testdev.sock\n"
	"  upci serve vfio:0000:03:00.0 --socket /run/upci/dev.sock --socket-group kvm\n"
	"  qemu-system-x86_64 -machine q35,memory-backend=mem \\\n"
	"      -object memory-backend-memfd,id=mem,size=1G,share=on \\\n"
	"      -device '{\"driver\":\"vfio-user-pci\",\"socket\":{\"type\":\"unix\",\"path\":\"/tmp/testdev.sock\"}}'\n";

#define MODE_DEFAULT 0600
#define MODE_GROUP 0660

struct serve_opts {
	const char *socket_path;
	int fd;
	unsigned dma_timeout_ms;
	int mode;  /* -1: MODE_DEFAULT, or MODE_GROUP with a group */
	gid_t gid; /* (gid_t)-1: none given */
	unsigned n_allow;
	uid_t allow[VFU_SRV_MAX_ALLOW_UIDS];
};

static int stop_fd = -1; /* a stop signal arrived: readable (stop_signal.h) */

/* Octal permission bits: 1 to 4 digits, at most 0777. */
static int parse_mode(const char *s, int *out)
{
	unsigned v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 4)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '7')
			return -EINVAL;
		v = v * 8 + (unsigned)(*s - '0');
	}
	if (v > 0777)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

/* --socket-group (@group) or --allow-uid: a number, or a group or user
 * name. Returns -1 with *out, or the usage error's exit code. */
static int parse_id(const char *cmd, const char *s, bool group, unsigned *out)
{
	const char *opt = group ? "--socket-group" : "--allow-uid", *what = group ? "group" : "user";
	uint64_t v;

	if (s[0] >= '0' && s[0] <= '9') {
		if (parse_u64(s, UINT32_MAX - 1, &v)) /* (uid_t)-1 means "none" */
			return usage_error(cmd, "bad %s \"%s\" (expected a %s name or number)", opt, s, what);
		*out = (unsigned)v;
	} else if (group) {
		struct group *g = getgrnam(s);

		if (!g)
			return usage_error(cmd, "bad %s \"%s\" (no such %s)", opt, s, what);
		*out = (unsigned)g->gr_gid;
	} else {
		struct passwd *pw = getpwnam(s);

		if (!pw)
			return usage_error(cmd, "bad %s \"%s\" (no such %s)", opt, s, what);
		*out = (unsigned)pw->pw_uid;
	}
	return -1;
}

/* Returns -1 to go on, else the exit code. */
static int parse_opts(int argc, char **argv, struct serve_opts *o)
{
	static const struct option opts[] = {
		{"socket", required_argument, NULL, 's'},
		{"fd", required_argument, NULL, 'f'},
		{"dma-timeout", required_argument, NULL, 'T'},
		{"socket-mode", required_argument, NULL, 'm'},
		{"socket-group", required_argument, NULL, 'g'},
		{"allow-uid", required_argument, NULL, 'u'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *cmd = argv[0];
	unsigned id;
	int c, ret;

	o->socket_path = NULL;
	o->fd = -1;
	o->dma_timeout_ms = VFU_SRV_DMA_TIMEOUT_MS;
	o->mode = -1;
	o->gid = (gid_t)-1;
	o->n_allow = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:f:T:m:g:u:h", opts, NULL)) != -1) {
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
			if (parse_uint(optarg, INT_MAX, &id))
				return usage_error(cmd, "bad --fd \"%s\" (expected a file descriptor number)", optarg);
			o->fd = (int)id;
			break;
		case 'T':
			if (parse_uint(optarg, INT_MAX, &o->dma_timeout_ms) || o->dma_timeout_ms == 0)
				return usage_error(cmd, "bad --dma-timeout \"%s\" (expected 1..%d milliseconds)", optarg,
						   INT_MAX);
			break;
		case 'm':
			if (parse_mode(optarg, &o->mode))
				return usage_error(cmd, "bad --socket-mode \"%s\" (expected octal permission bits, 0..777)",
						   optarg);
			break;
		case 'g':
			ret = parse_id(cmd, optarg, true, &id);
			if (ret >= 0)
				return ret;
			o->gid = (gid_t)id;
			break;
		case 'u':
			ret = parse_id(cmd, optarg, false, &id);
			if (ret >= 0)
				return ret;
			if (o->n_allow == VFU_SRV_MAX_ALLOW_UIDS)
				return usage_error(cmd, "more than %u --allow-uid", VFU_SRV_MAX_ALLOW_UIDS);
			o->allow[o->n_allow++] = (uid_t)id;
			break;
		default:
			return option_error(cmd, argv, c);
		}
	}
	if (!o->socket_path == (o->fd < 0))
		return usage_error(cmd, "give exactly one of --socket PATH and --fd N");
	if (!o->socket_path && (o->mode >= 0 || o->gid != (gid_t)-1))
		return usage_error(cmd, "--socket-mode and --socket-group need --socket (an inherited fd's file is "
				   "not ours to change)");
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

static int listen_on(const char *uri, const struct serve_opts *o, int *lfd, struct vfu_sock_file *id)
{
	unsigned mode = o->mode >= 0 ? (unsigned)o->mode : o->gid != (gid_t)-1 ? MODE_GROUP : MODE_DEFAULT;
	const char *path = o->socket_path;
	int ret = vfu_sock_listen_file(path, 1, mode, o->gid, lfd, id);

	if (ret == -EADDRINUSE && remove_stale(path) == 0)
		ret = vfu_sock_listen_file(path, 1, mode, o->gid, lfd, id);
	if (ret == -EADDRINUSE)
		return op_errorf(EXIT_FAIL, uri, "listen", "%s exists and is not a stale socket", path);
	if (ret == -EPERM && o->gid != (gid_t)-1)
		return op_errorf(EXIT_FAIL, uri, "listen", "%s: cannot give the socket group %u (%s)", path,
				 (unsigned)o->gid, upci_strerror(ret));
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
	struct vfu_sock_file sock_id;
	upci_dev *dev = NULL;
	const char *uri;
	char status[256];
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
	so.n_allow_uids = o.n_allow;
	memcpy(so.allow_uids, o.allow, sizeof(o.allow));
	/* policy NULL: the server picks it from the device (the dext backend's
	 * host-owned registers on dext:, forward everything elsewhere). */
	so.policy = NULL;
	ret = vfu_server_new(dev, &so, &s);
	if (ret) {
		upci_close(dev);
		return op_error(uri, "serve", ret);
	}
	/* Before the socket exists: from then on no signal may skip removing it. */
	stop_fd = stop_signal_open(1);
	if (stop_fd < 0) {
		code = op_error(uri, "signals", stop_fd);
		goto out;
	}
	if (o.socket_path) {
		code = listen_on(uri, &o, &lfd, &sock_id);
		if (code)
			goto out;
		snprintf(status, sizeof(status), "upci: serving %s on %s (vfio-user), pid %ld", uri, o.socket_path,
			 (long)getpid());
		stop_signal_set_status(status);
		printf("upci: serving %s on %s (vfio-user); SIGTERM or Ctrl-C stops\n", uri, o.socket_path);
		fflush(stdout);
		ret = vfu_server_run(s, lfd, stop_fd);
		code = ret ? op_error(uri, "serve", ret) : EXIT_OK;
	} else {
		snprintf(status, sizeof(status), "upci: serving %s on fd %d (vfio-user), pid %ld", uri, o.fd,
			 (long)getpid());
		stop_signal_set_status(status);
		code = serve_fd(uri, s, o.fd);
	}
out:
	if (lfd >= 0) {
		/* The name first: nobody should find a socket that no longer answers. */
		if (vfu_sock_unlink_file(o.socket_path, &sock_id) == -ESTALE)
			fprintf(stderr, "upci: %s was replaced while serving; left as it is\n", o.socket_path);
		close(lfd);
	}
	stop_signal_set_status(NULL);
	vfu_server_free(s);
	upci_close(dev);
	stop_signal_close();
	return code;
}

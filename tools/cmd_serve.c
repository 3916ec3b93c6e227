/* SPDX-License-Identifier: MIT */
/*
 * 'upci serve': export any upci device over the vfio-user protocol, one
 * client at a time, e.g. to QEMU's vfio-user-pci. A thin caller of the
 * library's upci_server_*() (upci/model.h), which a device program uses
 * the same way: the options, signals, reconnects and socket defaults are
 * the library's. Conventions of vhost-user back ends: no daemonizing,
 * --socket PATH or --fd N, the signals of a terminal or a service manager
 * stop it cleanly (the socket it created is removed if it is still there).
 * The socket is its user's alone unless --socket-mode/--socket-group/
 * --allow-uid widen it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd_serve.h"
#include "srv_args.h"
#include "upci/model.h"
#include "util.h"

static const char serve_help_fmt[] =
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
	"%s"
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


static int want_help(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return 1;
	return 0;
}

/* The library's sentence ("URI: OP: detail") as one CLI error line. */
static int server_error(upci_server *srv, const char *uri, int err)
{
	char text[512];

	upci_server_error(srv, text, sizeof(text));
	if (!text[0])
		return op_error(uri, "serve", err);
	return line_error(EXIT_FAIL, text);
}

int cmd_serve(int argc, char **argv)
{
	static const char *const names[] = {"URI"};
	const char *cmd = argv[0], *uri;
	upci_server *srv = NULL;
	upci_dev *dev = NULL;
	char why[512], status[4096];
	int n, code, ret;

	if (want_help(argc, argv)) {
		printf(serve_help_fmt, srv_args_help);
		return EXIT_OK;
	}
	ret = upci_server_new(&srv);
	if (ret)
		return op_error("serve", "start", ret);
	n = upci_server_args(srv, -1, argc, argv, why, sizeof(why));
	if (n < 0) {
		upci_server_free(srv);
		return n == -EINVAL ? usage_error(cmd, "%s", why) : op_error("serve", "options", n);
	}
	for (int i = 1; i <= n; i++)
		if (argv[i][0] == '-' && argv[i][1] != '\0') {
			upci_server_free(srv);
			return usage_error(cmd, "unknown option \"%s\"", argv[i]);
		}
	code = check_args(cmd, argv + 1, n, 1, 1, names);
	if (code >= 0) {
		upci_server_free(srv);
		return code;
	}
	uri = argv[1];
	code = open_device(uri, 1, &dev);
	if (code) {
		upci_server_free(srv);
		return code;
	}
	ret = upci_server_add(srv, dev);
	if (ret >= 0)
		ret = upci_server_set(srv, -1, UPCI_SERVER_STATUS_FD, STDERR_FILENO);
	if (ret >= 0)
		ret = upci_server_start(srv);
	if (ret < 0) {
		code = server_error(srv, uri, ret);
		goto out;
	}
	upci_server_status(srv, status, sizeof(status));
	/* Only a socket is announced: an inherited fd's owner knows. */
	if (strstr(status, " on fd ") == NULL) {
		printf("%s; SIGTERM or Ctrl-C stops\n", status);
		fflush(stdout);
	}
	ret = upci_server_wait(srv);
	code = ret ? server_error(srv, uri, ret) : EXIT_OK;
	if (!ret) {
		/* A note from the clean-up (a socket file someone replaced). */
		upci_server_error(srv, why, sizeof(why));
		if (why[0])
			fprintf(stderr, "upci: %s\n", why);
	}
out:
	upci_server_free(srv);
	upci_close(dev);
	return code;
}

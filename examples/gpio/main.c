/* SPDX-License-Identifier: MIT */
/*
 * upci-gpio: serve the GPIO card (gpio.h) over vfio-user, e.g. to QEMU's
 * vfio-user-pci. Takes `upci serve`'s options (--socket PATH or --fd N,
 * --socket-mode, --socket-group, --allow-uid, --dma-timeout) and one
 * optional argument, the card's parameters ("in=0x00ff").
 */
#include <stdio.h>
#include <string.h>

#include <upci/model.h>

#include "gpio.h"

int main(int argc, char **argv)
{
	char uri[128] = "sim:gpio", why[512];
	upci_server *srv;
	int n, ret = gpio_register();

	if (ret == 0)
		ret = upci_server_new(&srv);
	if (ret) {
		fprintf(stderr, "upci-gpio: %s\n", upci_strerror(ret));
		return 1;
	}
	n = upci_server_args(srv, -1, argc, argv, why, sizeof(why));
	if (n < 0 || n > 1 || (n == 1 && argv[1][0] == '-')) {
		fprintf(stderr, "upci-gpio: %s\nusage: upci-gpio (--socket PATH | --fd N) [in=0xNNNN]\n",
			n < 0 ? why : "unexpected argument");
		upci_server_free(srv);
		return 2;
	}
	if (n == 1)
		snprintf(uri, sizeof(uri), "sim:gpio?%s", argv[1]);
	ret = upci_server_add_uri(srv, uri);
	if (ret >= 0)
		ret = upci_server_start(srv);
	if (ret >= 0) {
		upci_server_status(srv, why, sizeof(why));
		printf("%s\n", why); /* "upci: serving sim:gpio on PATH ..." */
		fflush(stdout);
		ret = upci_server_wait(srv); /* until SIGTERM, SIGINT, ... */
	}
	if (ret < 0 && upci_server_error(srv, why, sizeof(why)) == 0)
		fprintf(stderr, "upci-gpio: %s\n", why[0] ? why : upci_strerror(ret));
	upci_server_free(srv);
	return ret < 0;
}

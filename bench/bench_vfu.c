/* SPDX-License-Identifier: MIT */
/*
 * bench-vfio-user: upci's vfio-user client against `upci serve` on the
 * same machine. Starts the server from the upci binary of the same build
 * tree (or --upci PATH) on a temporary socket, or uses a running one
 * (--uri), prints each figure next to its floor, and stops the server.
 * See docs/bench.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "bench_vfu.h"
#include "bench_vfu_proc.h"
#include "bench_vfu_server.h"

/* A server that is still starting gets this long to take the client. */
#define START_TIMEOUT_MS 10000

struct figure {
	const char *name;
	const char *what;
	int (*run)(const struct vfu_args *a);
};

static const struct figure figures[] = {
	{"region", "REGION_READ round trips (4 B, 4 KiB) next to a raw socket ping-pong", vfu_fig_region},
	{"bar", "mapped BAR2 reads next to in-band REGION_READs", vfu_fig_bar},
	{"dma", "DMA_MAP+DMA_UNMAP pairs per second (alloc/free with fd, map/unmap in-band)", vfu_fig_dma},
	{"irq", "device IRQ -> client wake-up latency next to a raw eventfd ping-pong", vfu_fig_irq},
	{"server", "the server alone: a raw client against upci serve and an echo server, server CPU per op;\n           pinned to two CPUs, to one, and unpinned",
	 vfu_fig_server},
};
#define NFIG (sizeof(figures) / sizeof(figures[0]))

struct opts {
	int quick;
	const char *upci;   /* NULL: next to this binary */
	const char *device; /* what the started server exports */
	const char *uri;    /* a running server: none is started */
	unsigned want;      /* figure bits; 0: all */
};

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [--quick] [--upci PATH] [--device URI | --uri vfio-user:PATH] [--figure NAME]...\n"
		"  --quick         short run (CI smoke): fewer batches and rounds\n"
		"  --upci PATH     the upci binary that serves (default: ../tools/upci next to this program)\n"
		"  --device URI    what `upci serve` exports (default: sim:testdev)\n"
		"  --uri URI       measure a running vfio-user server instead of starting one\n"
		"  --figure NAME   only this figure (repeatable); default: all\n"
		"figures:\n",
		prog);
	for (unsigned i = 0; i < NFIG; i++)
		fprintf(f, "  %-8s %s\n", figures[i].name, figures[i].what);
	fprintf(f, "Goals are reported, never asserted: exit status 1 means a device or\n"
		   "server operation failed, 2 a usage error; a missed goal exits 0.\n");
}

static int figure_bit(const char *name)
{
	for (unsigned i = 0; i < NFIG; i++)
		if (strcmp(figures[i].name, name) == 0)
			return 1 << i;
	return 0;
}

/* 0, or 2 after a usage message (1 for --help, which exits 0). */
static int parse(int argc, char **argv, struct opts *o)
{
	const char *v;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			o->quick = 1;
		} else if ((v = bench_opt_value(argc, argv, &i, "--upci"))) {
			o->upci = v;
		} else if ((v = bench_opt_value(argc, argv, &i, "--device"))) {
			o->device = v;
		} else if ((v = bench_opt_value(argc, argv, &i, "--uri"))) {
			o->uri = v;
		} else if ((v = bench_opt_value(argc, argv, &i, "--figure"))) {
			int bit = figure_bit(v);

			if (!bit) {
				fprintf(stderr, "%s: no figure '%s'\n", argv[0], v);
				usage(stderr, argv[0]);
				return 2;
			}
			o->want |= (unsigned)bit;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout, argv[0]);
			return 1;
		} else {
			fprintf(stderr, "%s: unknown or incomplete option '%s'\n", argv[0], argv[i]);
			usage(stderr, argv[0]);
			return 2;
		}
	}
	if (o->uri && strncmp(o->uri, "vfio-user:", 10) != 0) {
		fprintf(stderr, "%s: --uri takes a vfio-user: URI (to measure sim:, use bench-sim)\n", argv[0]);
		return 2;
	}
	if (o->uri && o->device) {
		fprintf(stderr, "%s: --device names what a started server exports; with --uri none is started\n",
			argv[0]);
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = {0};
	struct vfu_srv srv = {0};
	struct bench_dev dev;
	struct vfu_args a;
	char upci[4200];
	int rc = parse(argc, argv, &o);

	if (rc)
		return rc == 1 ? 0 : rc;
	if (!o.device)
		o.device = "sim:testdev";
	vfu_proc_init();
	setvbuf(stdout, NULL, _IOLBF, 0); /* progress shows when piped to a log */
	if (upci_backend_available("vfio-user") != 1) {
		fprintf(stderr, "bench: this libupci has no vfio-user backend\n");
		return 1;
	}
	if (o.uri) {
		vfu_dev_connect(&dev, o.uri, 0, START_TIMEOUT_MS);
		printf("server: already running at %s\n", o.uri);
	} else {
		if (o.upci)
			snprintf(upci, sizeof(upci), "%s", o.upci);
		else if (vfu_find_upci(upci, sizeof(upci)) != 0) {
			fprintf(stderr, "bench: no upci binary at %s; pass --upci PATH\n", upci);
			return 1;
		}
		vfu_srv_start(&srv, upci, o.device);
		vfu_dev_connect(&dev, srv.uri, srv.pid, START_TIMEOUT_MS);
		printf("server: %s serve %s (pid %ld), socket %s\n", upci, o.device, (long)srv.pid, srv.sock);
	}
	printf("client: %s, device %04x:%04x (%s)%s\n", dev.uri, dev.id.vendor_id, dev.id.device_id, dev.id.name,
	       o.quick ? ", --quick: noisy figures" : "");

	a.quick = o.quick;
	a.dev = &dev;
	a.server = srv.pid;
	for (unsigned i = 0; i < NFIG; i++)
		if ((!o.want || (o.want & (1u << i))) && figures[i].run(&a) != 0)
			return 1;

	bench_dev_close(&dev);
	return vfu_srv_stop(&srv) == 0 ? 0 : 1;
}

/* SPDX-License-Identifier: MIT */
/* 'upci info': lspci -vv's view of one device (lspci.h), its -x dumps and
 * -n/-nn forms, upci's own facts on request, or all of it as JSON.
 * Works on an unclaimed device: reads only. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_json.h"
#include "lspci.h"
#include "pci_regs.h"
#include "util.h"

static const char info_help[] =
	"Usage: upci info [-n|-nn] [-x|-xxx|-xxxx] [-D] [-u] [--json] URI\n"
	"\n"
	"Decode the device the way lspci -vv does, line for line: the device line\n"
	"with class, vendor and device names from the pci.ids database (libpci),\n"
	"subsystem, Control/Status flags, latency, interrupt routing (host\n"
	"functions only: a model has no IRQ route), every BAR with its size, the\n"
	"expansion ROM, each capability (PM, MSI, MSI-X, PCI Express, vendor-\n"
	"specific, AER, DSN; others by title) and the kernel driver. Reads only;\n"
	"does not claim the device. A bare BDF that VFIO cannot open (no IOMMU,\n"
	"bound to its kernel driver) is read through sysfs, as lspci reads it.\n"
	"\n"
	"  -n          numbers instead of names (lspci -n); -nn: both (lspci -nn)\n"
	"  -x          also dump the standard header, 64 bytes (lspci -x);\n"
	"              -xxx: 256 bytes; -xxxx: the whole 4096-byte PCIe space\n"
	"  -D          always show the PCI domain\n"
	"  -u, --upci  add upci's own lines, each starting with \"upci:\": the URI\n"
	"              and backend, which BARs can be mapped, the interrupt\n"
	"              vectors offered per type\n"
	"  --json      print one JSON object instead (docs/cli-json.md)\n"
	"\n"
	"Examples:\n"
	"  upci info 'sim:testdev?vectors=64'\n"
	"  upci info -nn -xxx 0000:00:02.0\n"
	"  upci info --json vfio:0000:03:00.0\n";

struct info_opts {
	struct ls_opts ls;
	int upci;
	int json;
};

/* Returns -1 to go on (the URI is at optind), else the exit code. */
static int parse_opts(int argc, char **argv, struct info_opts *o)
{
	static const struct option opts[] = {
		{"upci", no_argument, NULL, 'u'},
		{"json", no_argument, NULL, 'J'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	memset(o, 0, sizeof(*o));
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":nxDuh", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(info_help, stdout);
			return EXIT_OK;
		case 'n':
			if (++o->ls.numeric > 2)
				return usage_error(argv[0], "-n given more than twice (-n or -nn)");
			break;
		case 'x':
			if (++o->ls.hex > 4)
				return usage_error(argv[0], "-x given more than four times (-x, -xxx or -xxxx)");
			break;
		case 'D':
			o->ls.domains = 1;
			break;
		case 'u':
			o->upci = 1;
			break;
		case 'J':
			o->json = 1;
			break;
		default:
			return option_error(argv[0], argv, c);
		}
	}
	if (o->json && (o->ls.hex || o->ls.numeric || o->upci))
		return usage_error(argv[0], "--json prints everything: it takes no -n, -x or -u");
	return -1;
}

static void upci_lines(const struct ls_dev *d, void *ctx)
{
	upci_dev *dev = ctx;
	unsigned msix, msi, intx;

	printf("\tupci: URI %s, backend %s, device %s, config space %u bytes\n", upci_uri(dev), d->id->backend,
	       d->id->name[0] ? d->id->name : "-", d->id->config_size);
	for (unsigned b = 0; b < UPCI_NUM_BARS; b++) {
		const struct upci_bar_info *bi = &d->bars[b];

		if (!d->bar_ok[b] || !(bi->flags & UPCI_BAR_PRESENT))
			continue;
		printf("\tupci: Region %u %s\n", b,
		       !(bi->flags & UPCI_BAR_MAPPABLE)   ? "not mappable: upci read/write only"
		       : (bi->flags & UPCI_BAR_MAP_RDONLY) ? "mappable read-only"
							   : "mappable");
	}
	irq_offer(&d->cfg, &msix, &msi, &intx);
	printf("\tupci: interrupt vectors offered: MSI-X %u, MSI %u, INTx %u (upci irq --type auto uses %s)\n", msix, msi,
	       intx, msix ? "MSI-X" : msi ? "MSI" : intx ? "INTx" : "nothing");
}

/* The whole config space; as a user without CAP_SYS_ADMIN sysfs gives 64
 * bytes, and the rest reads as lspci shows it: <access denied>. */
static int read_config(upci_dev *dev, const char *uri, struct ls_dev *d, uint8_t *cfg)
{
	int rc = upci_config_read_block(dev, 0, cfg, d->id->config_size);

	d->readable = d->id->config_size;
	if (rc == -EACCES) {
		memset(cfg, 0, d->id->config_size);
		rc = upci_config_read_block(dev, 0, cfg, PCI_STD_HEADER_SIZE);
		d->readable = PCI_STD_HEADER_SIZE;
	}
	if (rc)
		return op_error(uri, "config read", rc);
	return -1;
}

int cmd_info(int argc, char **argv)
{
	static const char *const names[] = {"URI"};
	struct upci_identity id;
	struct info_opts o;
	struct ls_dev d;
	const char *uri;
	upci_dev *dev;
	uint8_t *cfg;
	int rc;

	rc = parse_opts(argc, argv, &o);
	if (rc >= 0)
		return rc;
	rc = check_args(argv[0], argv + optind, argc - optind, 1, 1, names);
	if (rc >= 0)
		return rc;
	uri = argv[optind];
	rc = open_for_reading(uri, &dev);
	if (rc)
		return rc;
	rc = upci_identity(dev, &id);
	if (rc) {
		upci_close(dev);
		return op_error(uri, "identity", rc);
	}
	/* The decoders expect 256 or 4096 bytes; anything else is a backend bug. */
	if (id.config_size != PCI_CFG_SIZE && id.config_size != PCIE_CFG_SIZE) {
		upci_close(dev);
		return op_errorf(EXIT_FAIL, uri, "identity", "unexpected config space size %u", id.config_size);
	}
	cfg = calloc(1, id.config_size);
	if (!cfg) {
		upci_close(dev);
		return op_errorf(EXIT_FAIL, uri, "info", "out of memory");
	}
	memset(&d, 0, sizeof(d));
	d.id = &id;
	d.cfg.data = cfg;
	d.cfg.size = id.config_size;
	rc = read_config(dev, uri, &d, cfg);
	if (rc < 0) {
		for (unsigned b = 0; b < UPCI_NUM_BARS; b++)
			d.bar_ok[b] = upci_bar_info(dev, b, &d.bars[b]) == 0;
		ls_host_fill(&d);
		if (o.json)
			rc = info_json(dev, &d);
		else
			ls_show(&d, &o.ls, o.upci ? upci_lines : NULL, dev);
		rc = rc < 0 ? EXIT_OK : rc;
	}
	free(cfg);
	upci_close(dev);
	return rc;
}

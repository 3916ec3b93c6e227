/* SPDX-License-Identifier: MIT */
/* Single accesses: BAR register read/write, reset. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

static const char read_help[] =
	"Usage: upci read URI BAR OFFSET [WIDTH]\n"
	"\n"
	"Claim the device, read WIDTH bytes of BAR at OFFSET with upci_mmio_read()\n"
	"and print the value in hex (zero-padded to the width).\n"
	"\n"
	"  BAR      0..5\n"
	"  OFFSET   byte offset inside the BAR, aligned to WIDTH; hex as in setpci\n"
	"           (\"0x\" optional: 10 and 0x10 are both sixteen)\n"
	"  WIDTH    1, 2, 4 or 8 bytes; default 4\n"
	"\n"
	"Examples:\n"
	"  upci read sim:edu 0 0           # edu ID register: 0x010000ed\n"
	"  upci read sim:testdev 0 10 8    # testdev BAR2 size (offset 0x10)\n";

static const char write_help[] =
	"Usage: upci write URI BAR OFFSET VALUE [WIDTH]\n"
	"\n"
	"Claim the device and write VALUE (WIDTH bytes) to BAR at OFFSET with\n"
	"upci_mmio_write(). Prints nothing on success.\n"
	"\n"
	"  BAR      0..5\n"
	"  OFFSET   byte offset inside the BAR, aligned to WIDTH; hex\n"
	"  VALUE    hex, must fit in WIDTH bytes (\"0x\" optional, as in setpci)\n"
	"  WIDTH    1, 2, 4 or 8 bytes; default 4\n"
	"\n"
	"A sim: device lives only as long as the upci process, so a value written\n"
	"by one command is gone for the next one; use 'upci demo' to see state.\n"
	"\n"
	"Examples:\n"
	"  upci write sim:edu 0 0x4 0x12345678\n"
	"  upci write vfio:0000:03:00.0 2 0x100 0xff 1\n";

static const char reset_help[] =
	"Usage: upci reset URI\n"
	"\n"
	"Claim the device and reset the function with upci_reset(): a\n"
	"function-level reset where the device has one, else whatever the backend\n"
	"offers (hot reset, PM reset, a model's reset).\n"
	"\n"
	"Example:\n"
	"  upci reset sim:testdev\n";

/* What an MMIO error means for this command: upci_strerror() gives a
 * code's general meaning, the header what it means for the call. */
static int access_error(const char *uri, const char *op, int rc)
{
	if (rc == -EFAULT)
		return op_errorf(EXIT_FAIL, uri, op, "offset not aligned to the width (%s)", upci_strerror(rc));
	if (rc == -ERANGE)
		return op_errorf(EXIT_FAIL, uri, op, "outside the BAR (%s)", upci_strerror(rc));
	return op_error(uri, op, rc);
}

/* Name an absent BAR plainly instead of "invalid argument". */
static int bar_absent(upci_dev *dev, const char *uri, unsigned bar)
{
	struct upci_bar_info bi;

	if (upci_bar_info(dev, bar, &bi) == 0 && !(bi.flags & UPCI_BAR_PRESENT)) {
		upci_close(dev);
		return op_errorf(EXIT_FAIL, uri, "BAR", "BAR%u is not implemented by this device", bar);
	}
	return -1;
}

/* BAR, OFFSET and optional WIDTH at args[0..]: usage errors first. */
static int parse_location(const char *cmd, char **args, unsigned *bar, uint64_t *off, const char *width_arg,
			  unsigned *width)
{
	int rc = parse_bar_arg(cmd, args[0], bar);

	if (rc >= 0)
		return rc;
	if (parse_hex(args[1], UINT64_MAX, off))
		return usage_error(cmd, "bad OFFSET \"%s\" (expected hex, \"0x\" optional)", args[1]);
	*width = 4;
	if (width_arg) {
		rc = parse_width_arg(cmd, width_arg, 8, width);
		if (rc >= 0)
			return rc;
	}
	/* Decidable without the device: a usage error like any other. */
	if (*off % *width)
		return usage_error(cmd, "OFFSET %s is not aligned to WIDTH %u", args[1], *width);
	return -1;
}

int cmd_read(int argc, char **argv)
{
	static const char *const names[] = {"URI", "BAR", "OFFSET", "WIDTH"};
	unsigned bar, width;
	uint64_t off, val;
	char op[64];
	upci_dev *dev;
	char **args;
	int n, rc;

	rc = plain_options(argc, argv, read_help);
	if (rc >= 0)
		return rc;
	args = argv + optind;
	n = argc - optind;
	rc = check_args(argv[0], args, n, 3, 4, names);
	if (rc >= 0)
		return rc;
	rc = parse_location(argv[0], args + 1, &bar, &off, n > 3 ? args[3] : NULL, &width);
	if (rc >= 0)
		return rc;
	rc = open_device(args[0], 1, &dev);
	if (rc)
		return rc;
	rc = bar_absent(dev, args[0], bar);
	if (rc >= 0)
		return rc;
	snprintf(op, sizeof(op), "read BAR%u+0x%" PRIx64 " width %u", bar, off, width);
	rc = upci_mmio_read(dev, bar, off, width, &val);
	upci_close(dev);
	if (rc)
		return access_error(args[0], op, rc);
	printf("0x%0*" PRIx64 "\n", (int)width * 2, val);
	return EXIT_OK;
}

int cmd_write(int argc, char **argv)
{
	static const char *const names[] = {"URI", "BAR", "OFFSET", "VALUE", "WIDTH"};
	unsigned bar, width;
	uint64_t off, val;
	char op[64];
	upci_dev *dev;
	char **args;
	int n, rc;

	rc = plain_options(argc, argv, write_help);
	if (rc >= 0)
		return rc;
	args = argv + optind;
	n = argc - optind;
	rc = check_args(argv[0], args, n, 4, 5, names);
	if (rc >= 0)
		return rc;
	rc = parse_location(argv[0], args + 1, &bar, &off, n > 4 ? args[4] : NULL, &width);
	if (rc >= 0)
		return rc;
	if (parse_hex(args[3], UINT64_MAX, &val))
		return usage_error(argv[0], "bad VALUE \"%s\" (expected hex, \"0x\" optional)", args[3]);
	if (width < 8 && (val >> (8 * width)) != 0)
		return usage_error(argv[0], "VALUE \"%s\" does not fit in %u byte%s", args[3], width,
				   width == 1 ? "" : "s");
	rc = open_device(args[0], 1, &dev);
	if (rc)
		return rc;
	rc = bar_absent(dev, args[0], bar);
	if (rc >= 0)
		return rc;
	snprintf(op, sizeof(op), "write BAR%u+0x%" PRIx64 " width %u", bar, off, width);
	rc = upci_mmio_write(dev, bar, off, width, val);
	upci_close(dev);
	if (rc)
		return access_error(args[0], op, rc);
	return EXIT_OK;
}

int cmd_reset(int argc, char **argv)
{
	static const char *const names[] = {"URI"};
	upci_dev *dev;
	int rc;

	rc = plain_options(argc, argv, reset_help);
	if (rc >= 0)
		return rc;
	rc = check_args(argv[0], argv + optind, argc - optind, 1, 1, names);
	if (rc >= 0)
		return rc;
	rc = open_device(argv[optind], 1, &dev);
	if (rc)
		return rc;
	rc = upci_reset(dev);
	upci_close(dev);
	if (rc)
		return op_error(argv[optind], "reset", rc);
	printf("%s: reset done\n", argv[optind]);
	return EXIT_OK;
}

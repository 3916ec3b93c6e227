/* SPDX-License-Identifier: MIT */
/* CLI helpers: strict parsing, one-line errors, opening devices, clocks. */
#define _GNU_SOURCE
#include "util.h"
#include "cmd_host.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "edu_regs.h"
#include "testdev_regs.h"

/* Longest URI echoed in a message: a hostile one must not flood stderr. */
#define SHOWN_MAX 200

/* Print "upci: " + text as one line: control characters (a newline in a
 * hostile argument) become '?', so the line stays one line. */
static void emit_line(const char *text)
{
	char line[1024];
	size_t n = 0;

	for (const char *p = text; *p && n < sizeof(line) - 1; p++)
		line[n++] = ((unsigned char)*p < 0x20 || *p == 0x7f) ? '?' : *p;
	line[n] = '\0';
	fprintf(stderr, "upci: %s\n", line);
}

static const char *shown(const char *s, char *buf, size_t len)
{
	if (strlen(s) <= SHOWN_MAX)
		return s;
	snprintf(buf, len, "%.*s...", SHOWN_MAX, s);
	return buf;
}

int usage_error(const char *cmd, const char *fmt, ...)
{
	char msg[768], text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (strcmp(cmd, "upci") == 0)
		snprintf(text, sizeof(text), "%s (see 'upci --help')", msg);
	else
		snprintf(text, sizeof(text), "%s: %s (see 'upci %s --help')", cmd, msg, cmd);
	emit_line(text);
	return EXIT_USAGE;
}

int op_errorf(int code, const char *uri, const char *op, const char *fmt, ...)
{
	char msg[512], text[1024], ubuf[SHOWN_MAX + 4];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(text, sizeof(text), "%s: %s: %s", shown(uri, ubuf, sizeof(ubuf)), op, msg);
	emit_line(text);
	return code;
}

int line_error(int code, const char *text)
{
	emit_line(text);
	return code;
}

int op_error(const char *uri, const char *op, int err)
{
	return op_errorf(EXIT_FAIL, uri, op, "%s", upci_strerror(err));
}

int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	unsigned base = 10;
	uint64_t v = 0;

	if (!s || !*s)
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		if (!*s)
			return -EINVAL;
	}
	for (; *s; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return -EINVAL;
		if (v > (UINT64_MAX - d) / base)
			return -EINVAL; /* overflow */
		v = v * base + d;
	}
	if (v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_hex(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	unsigned n = 0;

	if (!s)
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (; *s; s++, n++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (*s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (*s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return -EINVAL;
		if (v >> 60)
			return -EINVAL; /* a 17th significant digit */
		v = v << 4 | d;
	}
	if (n == 0 || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_uint(const char *s, unsigned max, unsigned *out)
{
	uint64_t v;

	if (parse_u64(s, max, &v))
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

int option_error(const char *cmd, char **argv, int c)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";

	/* getopt takes "-5" for an option; say what the user meant. */
	if (c == '?' && arg[0] == '-' && arg[1] >= '0' && arg[1] <= '9')
		return usage_error(cmd, "bad argument \"%s\" (negative numbers are not accepted)", arg);

	/* Inside a cluster of short options optind may not have moved yet:
	 * name the character then. */
	if (optopt > 0 && optopt < 0x7f && strncmp(arg, "--", 2) != 0) {
		if (c == ':')
			return usage_error(cmd, "option -%c needs a value", optopt);
		return usage_error(cmd, "unknown option -%c", optopt);
	}
	if (c == ':')
		return usage_error(cmd, "option \"%s\" needs a value", arg);
	return usage_error(cmd, "unknown option \"%s\"", arg);
}

int plain_options(int argc, char **argv, const char *help)
{
	static const struct option opts[] = {
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(help, stdout);
			return EXIT_OK;
		}
		return option_error(argv[0], argv, c);
	}
	return -1;
}

int check_args(const char *cmd, char **args, int nargs, int min, int max, const char *const names[])
{
	if (nargs < min)
		return usage_error(cmd, "missing %s", names[nargs]);
	if (nargs > max)
		return usage_error(cmd, "unexpected argument \"%s\"", args[max]);
	return -1;
}

int parse_bar_arg(const char *cmd, const char *s, unsigned *bar)
{
	if (parse_uint(s, UPCI_NUM_BARS - 1, bar))
		return usage_error(cmd, "bad BAR \"%s\" (expected 0..%d)", s, UPCI_NUM_BARS - 1);
	return -1;
}

int parse_width_arg(const char *cmd, const char *s, unsigned max, unsigned *width)
{
	unsigned w;

	if (parse_uint(s, max, &w) || (w != 1 && w != 2 && w != 4 && w != 8))
		return usage_error(cmd, "bad WIDTH \"%s\" (expected %s)", s, max >= 8 ? "1, 2, 4 or 8" : "1, 2 or 4");
	*width = w;
	return -1;
}

/* Why an open failed, in words. Bad sim: models and parameters never get
 * here: upci_uri_check() explains them first (it knows the models). */
const char *open_failure(const char *uri, int err, char *buf, size_t len, int *code)
{
	char hint[192];

	*code = open_exit_code(uri, err);
	snprintf(buf, len, "%s", upci_strerror(err));
	/* A host device: say what stands in the way (driver, group). */
	if (host_open_hint(uri, hint, sizeof(hint)))
		snprintf(buf, len, "%s", hint);
	return buf;
}

int open_exit_code(const char *uri, int err)
{
	int host = host_function_exists(uri);

	/* A host function that exists but will not open is a device error. */
	if (host == 1)
		return EXIT_FAIL;
	if (host == 0 || err == -ENOENT || err == -ENODEV)
		return EXIT_NOTFOUND;
	return EXIT_FAIL;
}

/* The URI's own problems first: a malformed one is a usage error, a
 * backend that is not built in or a sim model that does not exist is
 * "not found". -1 when the URI itself is fine. */
static int uri_problem(const char *uri)
{
	char why[256] = "";
	int cret = upci_uri_check(uri, why, sizeof(why));

	if (!cret)
		return -1;
	return op_errorf(cret == -EINVAL ? EXIT_USAGE : cret == -ENOENT || cret == -ENOTSUP ? EXIT_NOTFOUND : EXIT_FAIL,
			 uri, "open", "%s", why[0] ? why : upci_strerror(cret));
}

int claim_error(upci_dev *dev, const char *uri, int err)
{
	struct upci_identity id;

	if (err == -ENOTSUP && upci_identity(dev, &id) == 0 && strcmp(id.backend, "sysfs") == 0)
		return op_errorf(EXIT_FAIL, uri, "claim",
				 "read-only access through sysfs: bind the function to vfio-pci ('upci bind %04x:%02x:%02x.%x') to drive it",
				 id.domain, id.bus, id.device, id.function);
	return op_error(uri, "claim", err);
}

int open_device(const char *uri, int claim, upci_dev **out)
{
	char why[256] = "";
	upci_dev *dev;
	int ret;

	*out = NULL;
	ret = upci_open(&dev, uri);
	if (ret) {
		int code, rc = uri_problem(uri); /* only on failure: for sim: it builds a trial model */

		if (rc >= 0)
			return rc;
		open_failure(uri, ret, why, sizeof(why), &code);
		return op_errorf(code, uri, "open", "%s", why);
	}
	if (claim) {
		ret = upci_claim(dev);
		if (ret) {
			ret = claim_error(dev, uri, ret);
			upci_close(dev);
			return ret;
		}
	}
	*out = dev;
	return EXIT_OK;
}

/* "sysfs:" + @uri when @uri is a bare BDF (its first field is hex: no
 * scheme name is). */
static int bare_bdf_sysfs(const char *uri, char *buf, size_t len)
{
	size_t n = strcspn(uri, ":");

	if (n == 0 || uri[n] != ':' || strspn(uri, "0123456789abcdefABCDEF") != n || strlen(uri) > 16)
		return 0;
	snprintf(buf, len, "sysfs:%s", uri);
	return 1;
}

int open_for_reading(const char *uri, upci_dev **out)
{
	char alt[32];
	upci_dev *dev;

	*out = NULL;
	if (upci_open(&dev, uri) == 0) {
		uint32_t v;

		/* On macOS a device nobody has opened reads as all ones: the
		 * dext backend says -EPERM until some client claims it. Claim
		 * for the read then (best effort: if another process holds
		 * the claim, the device is open and reads work). */
		if (upci_config_read(dev, 0, 2, &v) == -EPERM)
			(void)upci_claim(dev);
		*out = dev;
		return EXIT_OK;
	}
	/* A bare BDF means VFIO first; where VFIO cannot have it, read what
	 * lspci reads. An explicit vfio: URI means VFIO only. */
	if (bare_bdf_sysfs(uri, alt, sizeof(alt)) && upci_open(&dev, alt) == 0) {
		*out = dev;
		return EXIT_OK;
	}
	return open_device(uri, 0, out); /* reports the first failure */
}

uint64_t now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

const char *fmt_size(uint64_t bytes, char *buf, unsigned len)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	unsigned u = 0;

	/* Exact units only: a BAR size is a power of two. */
	while (u + 1 < sizeof(units) / sizeof(units[0]) && bytes >= 1024 && bytes % 1024 == 0) {
		bytes /= 1024;
		u++;
	}
	snprintf(buf, len, "%llu %s", (unsigned long long)bytes, units[u]);
	return buf;
}

enum dev_kind dev_kind_of(const struct upci_identity *id)
{
	if (id->vendor_id == EDU_VENDOR_ID && id->device_id == EDU_DEVICE_ID)
		return DEV_EDU;
	if (id->vendor_id == TESTDEV_VENDOR_ID && id->device_id == TESTDEV_DEVICE_ID)
		return DEV_TESTDEV;
	return DEV_OTHER;
}

const char *irq_type_name(enum upci_irq_type t)
{
	switch (t) {
	case UPCI_IRQ_NONE:
		return "none";
	case UPCI_IRQ_INTX:
		return "INTx";
	case UPCI_IRQ_MSI:
		return "MSI";
	case UPCI_IRQ_MSIX:
		return "MSI-X";
	case UPCI_IRQ_AUTO:
		return "auto";
	}
	return "?";
}

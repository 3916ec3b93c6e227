/* SPDX-License-Identifier: MIT */
/* 'upci config': read and write config registers in setpci's syntax
 * (setpci.h), or hex-dump config space as lspci -xxx does. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_json.h"
#include "lspci.h"
#include "setpci.h"
#include "util.h"

/* PCIe config space is the largest there is. */
#define CONFIG_MAX 4096u

static const char config_help[] =
	"Usage: upci config [-v] [--json] URI REG[.W][=VALUE[:MASK]]...\n"
	"       upci config [--json] URI [--size N]\n"
	"       upci config --names\n"
	"\n"
	"With registers, read and write config space as setpci does; without,\n"
	"hex-dump it 16 bytes a line as lspci -xxx does (one block read; -s N: the\n"
	"first N bytes, decimal or 0x hex; default all of it).\n"
	"\n"
	"A register is setpci's REG[+OFFSET][.B|.W|.L][@N]:\n"
	"  REG      a hex offset (\"0x\" optional), a named register (VENDOR_ID,\n"
	"           COMMAND, STATUS, BASE_ADDRESS_0, INTERRUPT_LINE, ...), a\n"
	"           capability by name (CAP_PM, CAP_MSI, CAP_EXP, CAP_MSIX, ...,\n"
	"           ECAP_AER, ECAP_DSN, ...) or by hex ID (CAP10, ECAP0001)\n"
	"  +OFFSET  hex, added to REG (CAP_EXP+8 is the PCIe Device Control)\n"
	"  .B .W .L width 1, 2 or 4; needed unless a named register has one\n"
	"  @N       the N-th capability with that ID, from 0 (hex)\n"
	"Every register number and value is hex, as in setpci: 10 is 0x10.\n"
	"A read prints the value in hex, one line each (COMMAND: 0007). REG=VALUE\n"
	"writes; REG=VALUE:MASK changes only the MASK bits (read, modify, write);\n"
	"REG=V1,V2,... writes consecutive registers. Operations run in order, so\n"
	"a read after a write shows it. A write claims the device; reads do not.\n"
	"A bare BDF that VFIO cannot open is read through sysfs (read-only).\n"
	"\n"
	"  -v         say what is done: \"0000:00:01.0 @04 = 0007\" (setpci -v)\n"
	"  -s, --size N  with no register: bytes to dump, 1..4096\n"
	"  --json     one JSON object (docs/cli-json.md)\n"
	"  --names    list every register name (setpci --dumpregs)\n"
	"\n"
	"Examples:\n"
	"  upci config sim:edu COMMAND STATUS CAP_MSI+2.W\n"
	"  upci config 'sim:testdev' CAP_EXP+8.W=0:e0 CAP_EXP+8.W\n"
	"  upci config 0000:00:02.0 VENDOR_ID DEVICE_ID 3c.b\n"
	"  upci config sim:testdev --size 0x40\n";

struct config_opts {
	const char *size_arg;
	int verbose;
	int json;
};

static int parse_opts(int argc, char **argv, struct config_opts *o)
{
	static const struct option opts[] = {
		{"size", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'J'},
		{"names", no_argument, NULL, 'N'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	memset(o, 0, sizeof(*o));
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(config_help, stdout);
			return EXIT_OK;
		case 'N':
			setpci_dump_names();
			return EXIT_OK;
		case 's':
			o->size_arg = optarg;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'J':
			o->json = 1;
			break;
		default:
			return option_error(argv[0], argv, c);
		}
	}
	return -1;
}

static char *hex_string(const uint8_t *b, unsigned n)
{
	char *s = malloc((size_t)n * 2 + 1);

	if (!s)
		return NULL;
	for (unsigned i = 0; i < n; i++)
		snprintf(s + 2 * i, 3, "%02x", b[i]);
	s[2 * n] = '\0';
	return s;
}

static int dump(upci_dev *dev, const char *uri, const struct upci_identity *id, const struct config_opts *o,
		unsigned size)
{
	struct json_object *j;
	uint8_t *buf;
	char *hex;
	int rc;

	if (!o->size_arg)
		size = id->config_size <= CONFIG_MAX ? id->config_size : CONFIG_MAX;
	buf = malloc(size);
	if (!buf)
		return op_errorf(EXIT_FAIL, uri, "config", "out of memory");
	rc = upci_config_read_block(dev, 0, buf, size);
	if (rc) {
		char op[64];

		snprintf(op, sizeof(op), "config read of %u bytes (config space is %u)", size, id->config_size);
		free(buf);
		return op_error(uri, op, rc);
	}
	if (!o->json) {
		ls_hex_dump(buf, size);
		free(buf);
		return EXIT_OK;
	}
	hex = hex_string(buf, size);
	free(buf);
	j = json_object_new_object();
	json_set_str(j, "kind", "config-dump");
	json_set_str(j, "uri", uri);
	json_set_int(j, "offset", 0);
	json_set_int(j, "size", size);
	json_set_str(j, "data", hex ? hex : "");
	free(hex);
	return json_emit(hex ? j : (json_object_put(j), NULL), 0);
}

/* A snapshot to find capabilities in (re-read after each write: a write
 * may move nothing, but the device decides). */
static int snapshot(upci_dev *dev, const char *uri, uint8_t *cfg, struct cfg_snapshot *c, unsigned size)
{
	int rc = upci_config_read_block(dev, 0, cfg, size);

	if (rc == -EACCES) { /* sysfs as a user: the header only */
		memset(cfg, 0, size);
		rc = upci_config_read_block(dev, 0, cfg, 64);
	}
	if (rc)
		return op_error(uri, "config read", rc);
	c->data = cfg;
	c->size = size;
	return -1;
}

static void verbose_line(const struct upci_identity *id, const struct setpci_op *op, unsigned base, unsigned addr)
{
	char slot[24];

	ls_slot(id, 1, slot, sizeof(slot)); /* setpci -v always shows the domain */
	printf("%s ", slot);
	if (op->cap_type)
		printf(op->cap_type == SETPCI_CAP_EXT ? "(ecap %04x @%03x) " : "(cap %02x @%02x) ", op->cap_id, base);
	printf("@%02x", addr);
}

/* One register done, for --json: added to @ops, returned for more fields. */
static struct json_object *op_json(struct json_object *ops, const struct setpci_op *op, unsigned addr,
				   const char *what, uint32_t value)
{
	struct json_object *j = json_object_new_object();

	json_set_str(j, "register", op->text);
	json_set_int(j, "offset", addr);
	json_set_int(j, "width", op->width);
	json_set_str(j, "op", what);
	json_set_int(j, "value", value);
	json_object_array_add(ops, j);
	return j;
}

/* A failed access: end the -v line first, then the one-line error. */
static int op_failed(const struct config_opts *o, const char *uri, const char *opname, int err)
{
	if (o->verbose && !o->json)
		putchar('\n');
	return op_error(uri, opname, err);
}

/* One operation; adds to @ops (JSON) or prints. Returns -1 or the exit code. */
static int run_op(upci_dev *dev, const char *uri, const struct upci_identity *id, const struct cfg_snapshot *c,
		  const struct setpci_op *op, const struct config_opts *o, struct json_object *ops)
{
	char why[256], opname[96];
	unsigned addr;
	uint32_t v;
	int rc = setpci_resolve(op, c, &addr, why, sizeof(why));

	if (rc)
		return op_errorf(EXIT_FAIL, uri, op->text, "%s", why);
	if (o->verbose && !o->json)
		verbose_line(id, op, addr - op->addr, addr);
	if (!op->nvalues) {
		snprintf(opname, sizeof(opname), "config read %s (@%03x, %u bytes)", op->text, addr, op->width);
		rc = upci_config_read(dev, addr, op->width, &v);
		if (rc)
			return op_failed(o, uri, opname, rc);
		if (o->json)
			op_json(ops, op, addr, "read", v);
		else
			printf(o->verbose ? " = %0*x\n" : "%0*x\n", (int)op->width * 2, v);
		return -1;
	}
	for (unsigned i = 0; i < op->nvalues; i++, addr += op->width) {
		uint32_t full = op->width == 4 ? 0xffffffffu : (1u << (8 * op->width)) - 1, x = op->value[i], old = 0;
		int masked = (op->mask[i] & full) != full;

		snprintf(opname, sizeof(opname), "config write %s (@%03x, %u bytes)", op->text, addr, op->width);
		if (masked) {
			rc = upci_config_read(dev, addr, op->width, &old);
			if (rc)
				return op_failed(o, uri, opname, rc);
			x = (old & ~op->mask[i]) | op->value[i];
		}
		if (o->verbose && !o->json) {
			if (masked)
				printf(" %0*x->(%0*x:%0*x)->%0*x", (int)op->width * 2, old, (int)op->width * 2, op->value[i],
				       (int)op->width * 2, op->mask[i], (int)op->width * 2, x);
			else
				printf(" %0*x", (int)op->width * 2, x);
		}
		rc = upci_config_write(dev, addr, op->width, x);
		if (rc)
			return op_failed(o, uri, opname, rc);
		if (o->json) {
			struct json_object *j = op_json(ops, op, addr, "write", x);

			if (masked) {
				json_set_int(j, "mask", op->mask[i]);
				json_set_int(j, "old", old);
			}
		}
	}
	if (o->verbose && !o->json)
		putchar('\n');
	return -1;
}

static int registers(upci_dev *dev, const char *uri, const struct upci_identity *id, struct setpci_op *ops, int n,
		     const struct config_opts *o)
{
	struct json_object *j = NULL, *arr = NULL;
	struct cfg_snapshot c;
	uint8_t *cfg = calloc(1, id->config_size);
	int rc = -1;

	if (!cfg)
		return op_errorf(EXIT_FAIL, uri, "config", "out of memory");
	if (o->json) {
		j = json_object_new_object();
		arr = json_object_new_array();
		json_set_str(j, "kind", "config");
		json_set_str(j, "uri", uri);
		json_object_object_add(j, "operations", arr);
	}
	for (int i = 0; i < n && rc < 0; i++) {
		rc = snapshot(dev, uri, cfg, &c, id->config_size);
		if (rc < 0)
			rc = run_op(dev, uri, id, &c, &ops[i], o, arr);
	}
	free(cfg);
	if (rc >= 0) {
		json_object_put(j);
		return rc;
	}
	return o->json ? json_emit(j, 0) : EXIT_OK;
}

int cmd_config(int argc, char **argv)
{
	static const char *const names[] = {"URI"};
	struct upci_identity id;
	struct config_opts o;
	struct setpci_op *ops = NULL;
	const char *uri;
	unsigned size = 0;
	upci_dev *dev;
	int nops, writes = 0, rc;

	rc = parse_opts(argc, argv, &o);
	if (rc >= 0)
		return rc;
	rc = check_args(argv[0], argv + optind, argc - optind, 1, argc, names);
	if (rc >= 0)
		return rc;
	uri = argv[optind];
	nops = argc - optind - 1;
	if (o.size_arg && nops)
		return usage_error(argv[0], "--size dumps config space: it takes no registers");
	if (o.size_arg && (parse_uint(o.size_arg, CONFIG_MAX, &size) || size == 0))
		return usage_error(argv[0], "bad --size \"%s\" (expected 1..%u)", o.size_arg, CONFIG_MAX);
	if (nops) {
		ops = calloc((size_t)nops, sizeof(*ops));
		if (!ops)
			return op_errorf(EXIT_FAIL, uri, "config", "out of memory");
	}
	/* Every register is checked before the device is touched. */
	for (int i = 0; i < nops; i++) {
		char why[256];

		if (setpci_parse(argv[optind + 1 + i], &ops[i], why, sizeof(why))) {
			free(ops);
			return usage_error(argv[0], "%s", why);
		}
		writes |= ops[i].nvalues > 0;
	}
	rc = writes ? open_device(uri, 1, &dev) : open_for_reading(uri, &dev);
	if (rc) {
		free(ops);
		return rc;
	}
	rc = upci_identity(dev, &id);
	if (rc)
		rc = op_error(uri, "identity", rc);
	else if (id.config_size > CONFIG_MAX || id.config_size < 64)
		rc = op_errorf(EXIT_FAIL, uri, "identity", "unexpected config space size %u", id.config_size);
	else if (nops)
		rc = registers(dev, uri, &id, ops, nops, &o);
	else
		rc = dump(dev, uri, &id, &o, size);
	free(ops);
	upci_close(dev);
	return rc;
}

/* SPDX-License-Identifier: MIT */
/* 'upci irq': enable interrupts and print each vector as it fires. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli_json.h"
#include "edu_regs.h"
#include "testdev_regs.h"
#include "stop_signal.h"
#include "util.h"

/* A fired vector that has not arrived after this long is a failure. */
#define FIRE_TIMEOUT_MS   1000u
#define INTERVAL_DEFAULT  100u
#define INTERVAL_MAX      3600000u

static const char irq_help[] =
	"Usage: upci irq URI [--type auto|msix|msi|intx] [--vectors N] [--count N]\n"
	"                    [--timeout MS] [--fire [--interval MS]] [--json]\n"
	"\n"
	"Claim the device, enable interrupts, then wait and print each vector as it\n"
	"fires, with the time since enabling. Stops after --count interrupts, on\n"
	"SIGINT, SIGTERM, SIGHUP or SIGQUIT (Ctrl-C; exit status 0), or when --timeout\n"
	"expires first (exit status 1).\n"
	"\n"
	"  -t, --type T      auto (default: MSI-X, else MSI, else INTx), msix, msi, intx\n"
	"  -n, --vectors N   vectors to enable, 1..256; default 0 = all the device offers\n"
	"  -c, --count N     stop after N interrupts; default: run until a signal\n"
	"  -T, --timeout MS  give up after MS milliseconds in total (exit 1)\n"
	"  -f, --fire        make the device raise the interrupts itself, for testing\n"
	"                    the sim models (nothing fires by itself in a sim device):\n"
	"                    edu writes IRQ_RAISE and acks each one with IRQ_ACK;\n"
	"                    testdev rings its doorbell for vector 0, 1, 2, ... in turn.\n"
	"                    Works on any edu/testdev (also QEMU's edu through vfio).\n"
	"                    A fired vector must arrive within 1000 ms.\n"
	"  -i, --interval MS with --fire: pause between interrupts, 0..3600000;\n"
	"                    default 100\n"
	"      --json        one JSON object per line and event: enabled, interrupt,\n"
	"                    end (docs/cli-json.md)\n"
	"\n"
	"Counts and times are decimal, or hex with 0x.\n"
	"\n"
	"Examples:\n"
	"  upci irq sim:testdev --fire --count 4 --timeout 2000\n"
	"  upci irq 'sim:testdev?vectors=256' --fire --interval 0 --count 1000\n"
	"  upci irq vfio:0000:03:00.0 --type msi --timeout 10000\n";

struct irq_opts {
	enum upci_irq_type type;
	unsigned vectors;
	uint64_t count;      /* 0: until a signal */
	unsigned timeout_ms; /* 0: none */
	int fire;
	unsigned interval_ms;
	int json;
};

static int stop_fd = -1; /* a stop signal arrived: readable (stop_signal.h) */

static int parse_type(const char *s, enum upci_irq_type *t)
{
	static const struct {
		const char *name;
		enum upci_irq_type type;
	} types[] = {
		{"auto", UPCI_IRQ_AUTO}, {"msix", UPCI_IRQ_MSIX}, {"msi-x", UPCI_IRQ_MSIX},
		{"msi", UPCI_IRQ_MSI},   {"intx", UPCI_IRQ_INTX},
	};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(s, types[i].name) == 0) {
			*t = types[i].type;
			return 0;
		}
	return -EINVAL;
}

/* Returns -1 to go on, else the exit code. */
static int parse_opts(int argc, char **argv, struct irq_opts *o)
{
	static const struct option opts[] = {
		{"type", required_argument, NULL, 't'},    {"vectors", required_argument, NULL, 'n'},
		{"count", required_argument, NULL, 'c'},   {"timeout", required_argument, NULL, 'T'},
		{"fire", no_argument, NULL, 'f'},          {"interval", required_argument, NULL, 'i'},
		{"json", no_argument, NULL, 'J'},          {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *cmd = argv[0];
	int c;

	memset(o, 0, sizeof(*o));
	o->type = UPCI_IRQ_AUTO;
	o->interval_ms = INTERVAL_DEFAULT;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":t:n:c:T:fi:h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(irq_help, stdout);
			return EXIT_OK;
		case 't':
			if (parse_type(optarg, &o->type))
				return usage_error(cmd, "bad --type \"%s\" (expected auto, msix, msi or intx)", optarg);
			break;
		case 'n':
			if (parse_uint(optarg, UPCI_MAX_VECTORS, &o->vectors))
				return usage_error(cmd, "bad --vectors \"%s\" (expected 0..%d)", optarg,
						   UPCI_MAX_VECTORS);
			break;
		case 'c':
			if (parse_u64(optarg, UINT64_MAX, &o->count) || o->count == 0)
				return usage_error(cmd, "bad --count \"%s\" (expected a number >= 1)", optarg);
			break;
		case 'T':
			if (parse_uint(optarg, INT_MAX, &o->timeout_ms) || o->timeout_ms == 0)
				return usage_error(cmd, "bad --timeout \"%s\" (expected 1..%d milliseconds)", optarg,
						   INT_MAX);
			break;
		case 'f':
			o->fire = 1;
			break;
		case 'J':
			o->json = 1;
			break;
		case 'i':
			if (parse_uint(optarg, INTERVAL_MAX, &o->interval_ms))
				return usage_error(cmd, "bad --interval \"%s\" (expected 0..%u milliseconds)", optarg,
						   INTERVAL_MAX);
			break;
		default:
			return option_error(cmd, argv, c);
		}
	}
	return -1;
}

struct irq_run {
	const char *uri;
	upci_dev *dev;
	enum dev_kind kind;
	struct irq_opts o;
	unsigned nvec;
	uint64_t start, got;
	/* --fire state */
	unsigned next_vec;
	int outstanding;
	uint64_t fired_at, next_fire_at;
};

/* Make the device raise one interrupt (see --fire). */
static int fire_one(struct irq_run *r)
{
	int rc;

	if (r->kind == DEV_EDU)
		rc = upci_mmio_write(r->dev, EDU_BAR, EDU_REG_IRQ_RAISE, 4, EDU_IRQ_FACT);
	else
		rc = upci_mmio_write(r->dev, TESTDEV_BAR_REGS, TESTDEV_REG_DOORBELL, 4, r->next_vec);
	if (rc)
		return op_error(r->uri, "fire (MMIO write)", rc);
	r->outstanding = 1;
	r->fired_at = now_ns();
	return -1;
}

/* A JSON event of this run: kind, event, uri, time since enabling. */
static struct json_object *event(const struct irq_run *r, const char *what, uint64_t rel_ns)
{
	struct json_object *j = json_object_new_object();

	json_set_str(j, "kind", "irq");
	json_set_str(j, "event", what);
	json_set_str(j, "uri", r->uri);
	json_object_object_add(j, "time", json_double((double)rel_ns / 1e9, 6));
	return j;
}

/* The last event: why the run ended. */
static void end_event(const struct irq_run *r, const char *reason)
{
	struct json_object *j = event(r, "end", now_ns() - r->start);

	json_set_int(j, "interrupts", (int64_t)r->got);
	json_set_str(j, "reason", reason);
	json_emit(j, 1);
}

/* Print what one take returned; returns -1 or an exit code. */
static int report(struct irq_run *r, const uint64_t pending[UPCI_IRQ_WORDS])
{
	uint64_t t = now_ns(), rel = t - r->start;

	for (unsigned v = 0; v < UPCI_MAX_VECTORS; v++) {
		if (!(pending[v / 64] & (UINT64_C(1) << (v % 64))))
			continue;
		int ours = r->outstanding && (r->kind == DEV_EDU ? v == 0 : v == r->next_vec);

		if (r->o.json) {
			struct json_object *j = event(r, "interrupt", rel);

			json_set_int(j, "vector", v);
			if (ours)
				json_object_object_add(j, "fired_latency_us", json_double((double)(t - r->fired_at) / 1000.0, 1));
			json_emit(j, 1);
			r->got++;
			continue;
		}
		printf("[%5" PRIu64 ".%06" PRIu64 "] vector %u", rel / 1000000000u, rel / 1000u % 1000000u, v);
		if (ours)
			printf(" (fired, %.1f us after the MMIO write)", (double)(t - r->fired_at) / 1000.0);
		printf("\n");
		r->got++;
	}
	if (!r->outstanding)
		return -1;
	if (r->kind == DEV_EDU) {
		int rc = upci_mmio_write(r->dev, EDU_BAR, EDU_REG_IRQ_ACK, 4, EDU_IRQ_FACT);

		if (rc)
			return op_error(r->uri, "ack (MMIO write)", rc);
	} else if (!(pending[r->next_vec / 64] & (UINT64_C(1) << (r->next_vec % 64)))) {
		return -1; /* something else fired; ours is still on its way */
	}
	r->outstanding = 0;
	r->next_vec = (r->next_vec + 1) % r->nvec;
	r->next_fire_at = t + (uint64_t)r->o.interval_ms * 1000000u;
	return -1;
}

static int ms_until(uint64_t when, uint64_t now)
{
	uint64_t ms;

	if (when <= now)
		return 0;
	ms = (when - now + 999999u) / 1000000u;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* The event loop: returns the exit code. */
static int irq_loop(struct irq_run *r)
{
	uint64_t deadline = r->o.timeout_ms ? r->start + (uint64_t)r->o.timeout_ms * 1000000u : 0;
	int fd = upci_irq_fd(r->dev);

	if (fd < 0)
		return op_error(r->uri, "irq fd", fd);
	while (!r->o.count || r->got < r->o.count) {
		uint64_t pending[UPCI_IRQ_WORDS], now = now_ns();
		struct pollfd pfd[2] = {{.fd = fd, .events = POLLIN}, {.fd = stop_fd, .events = POLLIN}};
		int wait = -1, rc;

		if (deadline && now >= deadline) {
			if (r->o.count)
				return op_errorf(EXIT_FAIL, r->uri, "irq", "timed out after %u ms: %" PRIu64
						 " of %" PRIu64 " interrupts arrived", r->o.timeout_ms, r->got, r->o.count);
			return op_errorf(EXIT_FAIL, r->uri, "irq", "timed out after %u ms (%" PRIu64 " interrupts arrived)",
					 r->o.timeout_ms, r->got);
		}
		if (r->o.fire && r->outstanding && now - r->fired_at >= FIRE_TIMEOUT_MS * 1000000ull)
			return op_errorf(EXIT_FAIL, r->uri, "irq --fire", "fired vector %u but it did not arrive within %u ms",
					 r->kind == DEV_EDU ? 0 : r->next_vec, FIRE_TIMEOUT_MS);
		if (r->o.fire && !r->outstanding && now >= r->next_fire_at) {
			rc = fire_one(r);
			if (rc >= 0)
				return rc;
			continue;
		}
		if (deadline)
			wait = ms_until(deadline, now);
		if (r->o.fire) {
			uint64_t when = r->outstanding ? r->fired_at + FIRE_TIMEOUT_MS * 1000000ull : r->next_fire_at;
			int w = ms_until(when, now);

			if (wait < 0 || w < wait)
				wait = w;
		}
		rc = poll(pfd, 2, wait);
		if (rc < 0 && errno != EINTR)
			return op_errorf(EXIT_FAIL, r->uri, "irq poll", "%s", strerror(errno));
		if (stop_signal_caught()) {
			const char *sig = stop_signal_name();

			if (r->o.json)
				end_event(r, sig);
			else
				printf("stopped by %s after %" PRIu64 " interrupts\n", sig, r->got);
			return EXIT_OK;
		}
		if (rc <= 0 || !(pfd[0].revents & POLLIN))
			continue;
		rc = upci_irq_take_pending(r->dev, pending);
		if (rc < 0)
			return op_error(r->uri, "irq take pending", rc);
		if (rc == 0)
			continue; /* a spurious wake-up: the API allows them */
		rc = report(r, pending);
		if (rc >= 0)
			return rc;
	}
	if (r->o.json)
		end_event(r, "count");
	else
		printf("%" PRIu64 " interrupts in %.3f s\n", r->got, (double)(now_ns() - r->start) / 1e9);
	return EXIT_OK;
}

static int irq_run(struct irq_run *r)
{
	struct upci_identity id;
	enum upci_irq_type type;
	char op[64];
	int rc;

	rc = upci_identity(r->dev, &id);
	if (rc)
		return op_error(r->uri, "identity", rc);
	r->kind = dev_kind_of(&id);
	if (r->o.fire && r->kind == DEV_OTHER)
		return op_errorf(EXIT_FAIL, r->uri, "irq --fire",
				 "only edu (1234:11e8) and testdev (1af4:10f0) can be made to fire; this is %04x:%04x",
				 id.vendor_id, id.device_id);
	snprintf(op, sizeof(op), "irq enable %s %u vectors", irq_type_name(r->o.type), r->o.vectors);
	if (r->o.vectors == 0)
		snprintf(op, sizeof(op), "irq enable %s", irq_type_name(r->o.type));
	rc = upci_irq_enable(r->dev, r->o.type, r->o.vectors);
	if (rc == -ERANGE)
		return op_errorf(EXIT_FAIL, r->uri, op, "the device offers fewer than %u vectors of that type",
				 r->o.vectors);
	if (rc == -ENOSPC)
		return op_errorf(EXIT_FAIL, r->uri, op,
				 "the host could not allocate that many interrupt vectors (give it more CPUs, or ask "
				 "for fewer vectors)");
	if (rc < 0)
		return op_error(r->uri, op, rc);
	r->nvec = (unsigned)rc;
	(void)upci_irq_info(r->dev, &type, NULL);
	stop_fd = stop_signal_open(0);
	if (stop_fd < 0) {
		stop_signal_close();
		return op_errorf(EXIT_FAIL, r->uri, "irq signals", "%s", strerror(-stop_fd));
	}
	r->start = now_ns();
	if (r->o.json) {
		struct json_object *j = event(r, "enabled", 0);

		json_set_str(j, "type", irq_type_name(type));
		json_set_int(j, "vectors", r->nvec);
		json_emit(j, 1);
	} else {
		printf("%s: %s, %u vector%s enabled; waiting", r->uri, irq_type_name(type), r->nvec,
		       r->nvec == 1 ? "" : "s");
		if (r->o.count)
			printf(" for %" PRIu64 " interrupt%s", r->o.count, r->o.count == 1 ? "" : "s");
		if (r->o.timeout_ms)
			printf(", at most %u ms", r->o.timeout_ms);
		printf("%s (Ctrl-C stops)\n", r->o.fire ? ", firing them" : "");
	}
	r->next_fire_at = r->start;
	rc = irq_loop(r);
	stop_signal_close();
	return rc;
}

int cmd_irq(int argc, char **argv)
{
	static const char *const names[] = {"URI"};
	struct irq_run r;
	int rc;

	memset(&r, 0, sizeof(r));
	rc = parse_opts(argc, argv, &r.o);
	if (rc >= 0)
		return rc;
	rc = check_args(argv[0], argv + optind, argc - optind, 1, 1, names);
	if (rc >= 0)
		return rc;
	r.uri = argv[optind];
	rc = open_device(r.uri, 1, &r.dev);
	if (rc)
		return rc;
	/* Lines as they happen, also into a pipe. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = irq_run(&r);
	upci_close(r.dev);
	return rc;
}

/* SPDX-License-Identifier: MIT */
/*
 * upci-conformance URI: the seed feature list, run against any backend.
 * This file: argument parsing, the runner, shared helpers and the cases
 * that need no knowledge of the device. Device cases: cases_edu.c and
 * cases_testdev.c. Expected values come from upci.h, the PCI specs and the
 * model register headers, never from running the code.
 */
#define _GNU_SOURCE
#include "conformance.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* ================= reporting ================= */

static void vrecord(struct conf *c, const char *fmt, va_list ap)
{
	vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
}

void conf_fail(struct conf *c, const char *fmt, ...)
{
	va_list ap;

	if (c->failed)
		return; /* the first failure explains the case best */
	c->failed = 1;
	va_start(ap, fmt);
	vrecord(c, fmt, ap);
	va_end(ap);
}

void conf_expected(struct conf *c, const char *fmt, ...)
{
	size_t n = strlen(c->expected);
	va_list ap;

	if (n && n + 2 < sizeof(c->expected)) {
		memcpy(c->expected + n, "; ", 3);
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(c->expected + n, sizeof(c->expected) - n, fmt, ap);
	va_end(ap);
}

void conf_skip(struct conf *c, const char *fmt, ...)
{
	va_list ap;

	if (c->failed || c->skipped)
		return;
	c->skipped = 1;
	va_start(ap, fmt);
	vrecord(c, fmt, ap);
	va_end(ap);
}

void conf_note(const struct conf *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->verbose)
		return;
	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

/* Enough buffers for every conf_rc()/conf_bits() in one message. */
static char *scratch_buf(void)
{
	static char bufs[8][160];
	static unsigned next;

	return bufs[next++ % 8];
}

static const char *errno_name(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	case ERANGE: return "ERANGE";
	case ENOTSUP: return "ENOTSUP";
	case EOVERFLOW: return "EOVERFLOW";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ECANCELED: return "ECANCELED";
	case EPROTO: return "EPROTO";
	case ECONNRESET: return "ECONNRESET";
	case ECONNREFUSED: return "ECONNREFUSED";
	default: return NULL;
	}
}

const char *conf_rc(int rc)
{
	char *b = scratch_buf();
	const char *n = rc < 0 ? errno_name(-rc) : NULL;

	if (n)
		snprintf(b, 160, "-%s", n);
	else
		snprintf(b, 160, "%d", rc);
	return b;
}

const char *conf_bits(const uint64_t bits[UPCI_IRQ_WORDS])
{
	char *b = scratch_buf();
	size_t len = 0;
	int shown = 0, n = conf_popcount(bits);

	len += (size_t)snprintf(b, 160, "{");
	for (unsigned v = 0; v < UPCI_MAX_VECTORS && len < 120; v++) {
		if (!(bits[v / 64] & (UINT64_C(1) << (v % 64))))
			continue;
		if (shown == 8) {
			len += (size_t)snprintf(b + len, 160 - len, ",...");
			break;
		}
		len += (size_t)snprintf(b + len, 160 - len, "%s%u", shown ? "," : "", v);
		shown++;
	}
	snprintf(b + len, 160 - len, "} (%d set)", n);
	return b;
}

/* ================= helpers ================= */

int64_t conf_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void conf_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int conf_poll_mmio(upci_dev *d, unsigned bar, uint64_t off, unsigned width, uint64_t mask, uint64_t want,
		   int timeout_ms, uint64_t *last)
{
	int64_t deadline = conf_now_ms() + timeout_ms;
	struct timespec pause = {0, 100000}; /* 0.1 ms: a VM's device runs meanwhile */

	for (;;) {
		uint64_t v = 0;
		int rc = upci_mmio_read(d, bar, off, width, &v);

		if (last)
			*last = v;
		if (rc)
			return rc;
		if ((v & mask) == want)
			return 0;
		if (conf_now_ms() > deadline)
			return -ETIMEDOUT;
		nanosleep(&pause, NULL);
	}
}

int conf_bus_master(upci_dev *d, int on)
{
	uint32_t cmd;
	int rc = upci_config_read(d, CFG_COMMAND, 2, &cmd);

	if (rc)
		return rc;
	cmd |= CFG_CMD_MEMORY;
	cmd = on ? (cmd | CFG_CMD_MASTER) : (cmd & ~CFG_CMD_MASTER);
	return upci_config_write(d, CFG_COMMAND, 2, cmd);
}

void conf_fill(void *buf, size_t len, uint32_t seed)
{
	uint8_t *p = buf;
	uint32_t x = seed * 2654435761u + 0x9e3779b9u;

	/* xorshift32: cheap, and no byte repeats with a short period. */
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)(x >> 24);
	}
}

long conf_diff(const void *a, const void *b, size_t len)
{
	const uint8_t *x = a, *y = b;

	for (size_t i = 0; i < len; i++)
		if (x[i] != y[i])
			return (long)i;
	return -1;
}

long conf_find_not(const void *buf, size_t len, uint8_t val)
{
	const uint8_t *p = buf;

	for (size_t i = 0; i < len; i++)
		if (p[i] != val)
			return (long)i;
	return -1;
}

int conf_popcount(const uint64_t bits[UPCI_IRQ_WORDS])
{
	int n = 0;

	for (unsigned w = 0; w < UPCI_IRQ_WORDS; w++)
		n += __builtin_popcountll(bits[w]);
	return n;
}

unsigned conf_find_cap(upci_dev *d, unsigned id)
{
	uint32_t sts = 0, ptr = 0, v = 0;

	if (upci_config_read(d, CFG_STATUS, 2, &sts) || !(sts & CFG_STS_CAP_LIST))
		return 0;
	if (upci_config_read(d, CFG_CAP_PTR, 1, &ptr))
		return 0;
	/* 48 = the most 4-byte capabilities that fit in 0x40..0xff. */
	for (int guard = 0; guard < 48 && (ptr & ~3u) >= CFG_STD_HEADER_END; guard++) {
		ptr &= ~3u;
		if (upci_config_read(d, ptr, 1, &v))
			return 0;
		if (v == id)
			return ptr;
		if (upci_config_read(d, ptr + 1, 1, &ptr))
			return 0;
	}
	return 0;
}

/* ================= generic cases ================= */

/* Malformed whatever backends are built in: syntax is checked first. */
static const char *const malformed_uris[] = {
	"",                   /* empty */
	"sim:",               /* no model */
	"sim:?vectors=2",     /* no model before the query */
	"sim:edu?",           /* empty query */
	"sim:edu?vectors",    /* not key=value */
	"sim:edu?=1",         /* empty key */
	"sim:e du",           /* bad character in the model name */
	"nosuchscheme:x",     /* unknown scheme */
	"vfio:",              /* no address */
	"vfio:zz:00.0",       /* not hex */
	"vfio:00:20.0",       /* device number > 0x1f */
	"vfio:00:00.8",       /* function > 7 */
	"vfio-user:",         /* no socket path */
	"dext:",              /* no address */
	"dext:0000:03:00.0",  /* dext takes no PCI domain */
	"just-words",         /* neither a URI nor a BDF */
};
#define N_MALFORMED (sizeof(malformed_uris) / sizeof(malformed_uris[0]))

static void gen_open_bad_uri(struct conf *c)
{
	/* Well-formed URIs of each scheme, for -ENOTSUP / -ENOENT. */
	static const struct {
		const char *scheme, *uri;
	} absent[] = {
		{"vfio", "vfio:0000:ff:1f.7"},
		{"vfio-user", "vfio-user:/nonexistent-upci-dir/dev.sock"},
		{"dext", "dext:ff:1f.7"},
		{"sim", "sim:no-such-model"},
	};
	upci_dev *d = NULL;

	for (size_t i = 0; i < N_MALFORMED; i++) {
		int rc = upci_open(&d, malformed_uris[i]);

		CHECK(c, rc == -EINVAL, "upci_open(\"%s\"): expected -EINVAL, got %s", malformed_uris[i], conf_rc(rc));
	}
	for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
		int avail = upci_backend_available(absent[i].scheme);
		int rc;

		CHECK(c, avail == 0 || avail == 1, "upci_backend_available(\"%s\"): expected 0 or 1, got %s",
		      absent[i].scheme, conf_rc(avail));
		rc = upci_open(&d, absent[i].uri);
		if (rc == 0) { /* something answered: not this case's business */
			upci_close(d);
			d = NULL;
			conf_fail(c, "upci_open(\"%s\"): expected an error, got 0", absent[i].uri);
			goto out;
		}
		if (!avail)
			CHECK(c, rc == -ENOTSUP, "upci_open(\"%s\") with the %s backend not built in: expected %s, got %s",
			      absent[i].uri, absent[i].scheme, conf_rc(-ENOTSUP), conf_rc(rc));
		else
			CHECK(c, rc == -ENOENT, "upci_open(\"%s\") (no such device): expected -ENOENT, got %s",
			      absent[i].uri, conf_rc(rc));
	}
out:
	return;
}

static void gen_uri_check(struct conf *c)
{
	static const char *const schemes[] = {"sim", "vfio", "vfio-user", "dext"};
	char why[200];

	for (size_t i = 0; i < N_MALFORMED; i++) {
		int rc;

		why[0] = '\0';
		rc = upci_uri_check(malformed_uris[i], why, sizeof(why));
		CHECK(c, rc == -EINVAL, "upci_uri_check(\"%s\"): expected -EINVAL, got %s", malformed_uris[i],
		      conf_rc(rc));
		CHECK(c, why[0] != '\0', "upci_uri_check(\"%s\") gave no sentence saying why", malformed_uris[i]);
		CHECK(c, memchr(why, '\0', sizeof(why)) != NULL, "upci_uri_check: sentence not terminated");
	}
	CHECK_RC(c, upci_uri_check("sim:edu?vectors", NULL, 0), -EINVAL);
	CHECK_RC(c, upci_backend_available("no-such-scheme"), -EINVAL);
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		int avail = upci_backend_available(schemes[i]);

		CHECK(c, avail == 0 || avail == 1, "upci_backend_available(\"%s\"): expected 0 or 1, got %s",
		      schemes[i], conf_rc(avail));
	}
	if (c->open_rc == 0) {
		CHECK_RC(c, upci_uri_check(c->uri, why, sizeof(why)), 0);
		CHECK_RC(c, upci_backend_available(c->id.backend), 1);
	}
out:
	return;
}

static void gen_open(struct conf *c)
{
	upci_dev *d = NULL;

	OPEN(c, &d);
	CHECK(c, d != NULL, "upci_open returned 0 but no handle");
	CHECK(c, strcmp(upci_uri(d), c->uri) == 0, "upci_uri: expected \"%s\", got \"%s\"", c->uri, upci_uri(d));
	upci_close(NULL); /* documented as ignored: must not crash */
out:
	upci_close(d);
}

/* The scheme a URI names (a bare BDF is VFIO). */
static const char *uri_backend(const char *uri)
{
	if (strncmp(uri, "sim:", 4) == 0)
		return "sim";
	if (strncmp(uri, "vfio-user:", 10) == 0)
		return "vfio-user";
	if (strncmp(uri, "dext:", 5) == 0)
		return "dext";
	return "vfio";
}

/* Config space says what @id says: 0, or -1 with the failure recorded. */
static int identity_is_config(struct conf *c, upci_dev *d, const struct upci_identity *id)
{
	uint32_t v;

	CFG_RD(c, d, CFG_VENDOR_ID, 2, v);
	CHECK_EQ(c, "config vendor ID vs identity", v, id->vendor_id);
	CFG_RD(c, d, CFG_DEVICE_ID, 2, v);
	CHECK_EQ(c, "config device ID vs identity", v, id->device_id);
	CFG_RD(c, d, CFG_SUBSYS_VENDOR_ID, 2, v);
	CHECK_EQ(c, "config subsystem vendor vs identity", v, id->subsys_vendor_id);
	CFG_RD(c, d, CFG_SUBSYS_ID, 2, v);
	CHECK_EQ(c, "config subsystem ID vs identity", v, id->subsys_id);
	CFG_RD(c, d, CFG_REVISION, 1, v);
	CHECK_EQ(c, "config revision vs identity", v, id->revision);
	CFG_RD(c, d, CFG_REVISION, 4, v);
	CHECK_EQ(c, "config class code vs identity", v >> 8, id->class_code);
	return 0;
out:
	return -1;
}

static void gen_identity(struct conf *c)
{
	struct upci_identity id, id2;
	upci_dev *d = NULL;

	OPEN_CFG(c, &d);
	CHECK_RC(c, upci_identity(d, &id), 0);
	CHECK(c, id.vendor_id != 0xffff && id.vendor_id != 0, "vendor_id 0x%04x is not a vendor", id.vendor_id);
	CHECK(c, id.config_size == 256 || id.config_size == 4096, "config_size: expected 256 or 4096, got %u",
	      id.config_size);
	CHECK(c, memchr(id.backend, '\0', sizeof(id.backend)) != NULL, "backend name not NUL-terminated");
	CHECK(c, memchr(id.name, '\0', sizeof(id.name)) != NULL, "device name not NUL-terminated");
	CHECK(c, strcmp(id.backend, uri_backend(c->uri)) == 0, "backend: expected \"%s\", got \"%s\"",
	      uri_backend(c->uri), id.backend);
	CHECK(c, id.name[0] != '\0', "device name is empty");
	CHECK(c, id.device <= 31 && id.function <= 7, "BDF %02x:%02x.%x out of range", id.bus, id.device,
	      id.function);
	CHECK(c, id.class_code <= 0xffffff, "class_code 0x%x has more than 24 bits", id.class_code);
	/* The identity is config space: it must say the same. */
	if (identity_is_config(c, d, &id))
		goto out;
	CHECK_RC(c, upci_identity(d, &id2), 0);
	CHECK(c, memcmp(&id, &id2, sizeof(id)) == 0, "two upci_identity calls disagree");
out:
	upci_close(d);
}

/* What open says before any claim is what the device says once claimed:
 * identity and BAR kinds (a backend may learn only at the claim whether a
 * BAR maps). */
static void gen_identity_before_claim(struct conf *c)
{
	const uint32_t kind = UPCI_BAR_PRESENT | UPCI_BAR_IO | UPCI_BAR_MEM64 | UPCI_BAR_PREFETCH;
	struct upci_bar_info before[UPCI_NUM_BARS], after;
	struct upci_identity id, id2;
	upci_dev *d = NULL;

	OPEN(c, &d);
	CHECK_RC(c, upci_identity(d, &id), 0);
	for (unsigned b = 0; b < UPCI_NUM_BARS; b++)
		CHECK_RC(c, upci_bar_info(d, b, &before[b]), 0);
	CHECK_RC(c, upci_claim(d), 0);
	CHECK_RC(c, upci_identity(d, &id2), 0);
	CHECK(c, memcmp(&id, &id2, sizeof(id)) == 0, "the identity changed when the device was claimed");
	if (identity_is_config(c, d, &id)) /* the identity from before the claim */
		goto out;
	for (unsigned b = 0; b < UPCI_NUM_BARS; b++) {
		CHECK_RC(c, upci_bar_info(d, b, &after), 0);
		CHECK(c, after.size == before[b].size && (after.flags & kind) == (before[b].flags & kind),
		      "BAR%u: size 0x%" PRIx64 " flags 0x%x before the claim, 0x%" PRIx64 " 0x%x after", b,
		      before[b].size, before[b].flags, after.size, after.flags);
		CHECK(c, !(after.flags & UPCI_BAR_MAPPABLE) || (before[b].flags & UPCI_BAR_MAPPABLE),
		      "BAR%u became mappable only after the claim (flags 0x%x, then 0x%x)", b, before[b].flags,
		      after.flags);
	}
out:
	upci_close(d);
}

static void gen_claim(struct conf *c)
{
	upci_dev *d = NULL;

	OPEN(c, &d);
	CHECK_RC(c, upci_release(d), -EPERM); /* never claimed */
	CHECK_RC(c, upci_claim(d), 0);
	CHECK_RC(c, upci_claim(d), 0); /* this handle already holds it */
	CHECK_RC(c, upci_release(d), 0);
	CHECK_RC(c, upci_release(d), -EPERM);
	CHECK_RC(c, upci_claim(d), 0); /* and again after a release */
out:
	upci_close(d);
}

static void gen_claim_exclusive(struct conf *c)
{
	upci_dev *a = NULL, *b = NULL;
	uint64_t v;
	int rc;

	OPEN_CLAIMED(c, &a);
	rc = upci_open(&b, c->uri);
	if (rc == -EBUSY) {
		/* VFIO may refuse the second open outright: exclusive too. Once
		 * the first handle is gone, the device must open again. */
		conf_note(c, "second open: -EBUSY (exclusive at open)");
		upci_close(a);
		a = NULL;
		OPEN_CLAIMED(c, &b);
		goto out;
	}
	CHECK(c, rc == 0, "second upci_open: expected 0 or -EBUSY, got %s", conf_rc(rc));
	CHECK_RC(c, upci_claim(b), -EBUSY);
	CHECK_RC(c, upci_release(b), -EPERM); /* b holds nothing */
	/* The loser of the claim is an unclaimed handle: no device access. */
	CHECK_RC(c, upci_mmio_read(b, 0, 0, 4, &v), -EPERM);
	CHECK_RC(c, upci_release(a), 0);
	CHECK_RC(c, upci_claim(b), 0);
	CHECK_RC(c, upci_claim(a), -EBUSY);
	/* Closing the holder frees the claim as a release does. */
	upci_close(b);
	b = NULL;
	CHECK_RC(c, upci_claim(a), 0);
out:
	upci_close(b);
	upci_close(a);
}

/* First BAR with UPCI_BAR_PRESENT (memory preferred), or -1. */
static int first_present_bar(upci_dev *d, struct upci_bar_info *out)
{
	int io = -1;
	struct upci_bar_info io_info = {0, 0};

	for (unsigned b = 0; b < UPCI_NUM_BARS; b++) {
		struct upci_bar_info bi;

		if (upci_bar_info(d, b, &bi) || !(bi.flags & UPCI_BAR_PRESENT))
			continue;
		if (!(bi.flags & UPCI_BAR_IO)) {
			*out = bi;
			return (int)b;
		}
		if (io < 0) {
			io = (int)b;
			io_info = bi;
		}
	}
	*out = io_info;
	return io;
}

static void gen_unclaimed_eperm(struct conf *c)
{
	struct upci_dma_buf buf;
	struct upci_bar_info bi;
	upci_dev *d = NULL;
	void *mem = MAP_FAILED, *addr = NULL;
	uint64_t v = 0, bus = 0, len = 0;
	uint32_t line = 0;
	int bar;

	OPEN(c, &d);
	/* Documented to work unclaimed (upci.h: not on dext, where macOS gives
	 * no config access before a claim). */
	if (c->cfg_needs_claim) {
		CHECK(c, strcmp(c->id.backend, "dext") == 0,
		      "unclaimed config reads give -EPERM, which upci.h allows only on dext (backend %s)",
		      c->id.backend);
		CHECK_RC(c, upci_config_read(d, CFG_INTERRUPT_LINE, 1, &line), -EPERM);
		CHECK_RC(c, upci_config_read_block(d, 0, &line, 1), -EPERM);
		line = 0;
	} else {
		CFG_RD(c, d, CFG_INTERRUPT_LINE, 1, line);
	}
	bar = first_present_bar(d, &bi);
	if (bar >= 0) {
		CHECK_RC(c, upci_mmio_read(d, (unsigned)bar, 0, 4, &v), -EPERM);
		CHECK_RC(c, upci_mmio_write(d, (unsigned)bar, 0, 4, 0), -EPERM);
		CHECK_RC(c, upci_bar_map(d, (unsigned)bar, &addr, &len), -EPERM);
	}
	/* Writing back the value just read: harmless should the check miss. */
	CHECK_RC(c, upci_config_write(d, CFG_INTERRUPT_LINE, 1, line), -EPERM);
	mem = mmap(NULL, c->page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(c, mem != MAP_FAILED, "mmap of one page failed");
	CHECK_RC(c, upci_dma_map(d, 0x100000, mem, c->page, UPCI_DMA_RW, &bus), -EPERM);
	CHECK_RC(c, upci_dma_unmap(d, 0x100000), -EPERM);
	CHECK_RC(c, upci_dma_alloc(d, UPCI_IOVA_ANY, c->page, &buf), -EPERM);
	CHECK_RC(c, upci_irq_enable(d, UPCI_IRQ_AUTO, 0), -EPERM);
	CHECK_RC(c, upci_reset(d), -EPERM);
	CHECK_RC(c, upci_release(d), -EPERM);
out:
	upci_close(d);
	if (mem != MAP_FAILED)
		munmap(mem, c->page);
}

/* Two handles of one device: the unclaimed one sees the same device, and
 * the device stays usable by the second after the first one closes. */
static void gen_two_handles(struct conf *c)
{
	struct upci_bar_info bi;
	struct upci_identity ia, ib;
	upci_dev *a = NULL, *b = NULL;
	void *addr = NULL;
	uint64_t v1 = 0, v2 = 0, len = 0;
	uint32_t va = 0, vb = 0;
	int bar, rc;

	OPEN_CLAIMED(c, &a);
	rc = upci_open(&b, c->uri);
	if (rc == -EBUSY)
		SKIP(c, "a second open gives -EBUSY (exclusive at open)");
	CHECK(c, rc == 0, "second upci_open: expected 0 or -EBUSY, got %s", conf_rc(rc));
	CHECK_RC(c, upci_identity(a, &ia), 0);
	CHECK_RC(c, upci_identity(b, &ib), 0);
	CHECK(c, memcmp(&ia, &ib, sizeof(ia)) == 0, "two handles of one device disagree on its identity");
	/* A claimed handle exists: every backend reads config space now. */
	CFG_RD(c, a, CFG_VENDOR_ID, 4, va);
	CFG_RD(c, b, CFG_VENDOR_ID, 4, vb);
	CHECK_EQ(c, "unclaimed handle's vendor/device dword", vb, va);
	bar = first_present_bar(a, &bi);
	if (bar >= 0 && !(bi.flags & UPCI_BAR_IO))
		MMIO_RD(c, a, (unsigned)bar, 0, 4, v1);
	upci_close(a);
	a = NULL;
	CHECK_RC(c, upci_claim(b), 0);
	if (bar >= 0 && !(bi.flags & UPCI_BAR_IO)) {
		MMIO_RD(c, b, (unsigned)bar, 0, 4, v2);
		conf_note(c, "BAR%d offset 0: 0x%08" PRIx64 " through the first handle, 0x%08" PRIx64 " the second",
			  bar, v1, v2);
		CHECK_RC(c, upci_bar_info(b, (unsigned)bar, &bi), 0);
		if (bi.flags & UPCI_BAR_MAPPABLE)
			CHECK_RC(c, upci_bar_map(b, (unsigned)bar, &addr, &len), 0);
	}
out:
	upci_close(b);
	upci_close(a);
}

/* A dword read before and after the narrow reads: if they differ, the
 * register changed on its own and the comparison means nothing. */
static void gen_config_widths(struct conf *c)
{
	upci_dev *d = NULL;
	unsigned volatile_dwords = 0;

	OPEN_CFG(c, &d);
	for (uint32_t off = 0; off < c->id.config_size; off += 4) {
		uint32_t d1, d2, b[4], w[2];

		CFG_RD(c, d, off, 4, d1);
		for (unsigned i = 0; i < 4; i++)
			CFG_RD(c, d, off + i, 1, b[i]);
		for (unsigned i = 0; i < 2; i++)
			CFG_RD(c, d, off + 2 * i, 2, w[i]);
		CFG_RD(c, d, off, 4, d2);
		if (d1 != d2) {
			volatile_dwords++;
			continue;
		}
		for (unsigned i = 0; i < 4; i++)
			CHECK(c, b[i] == ((d1 >> (8 * i)) & 0xff),
			      "config 0x%03x: byte read 0x%02x, but byte %u of dword 0x%08x is 0x%02x", off + i, b[i],
			      i, d1, (d1 >> (8 * i)) & 0xff);
		for (unsigned i = 0; i < 2; i++)
			CHECK(c, w[i] == ((d1 >> (16 * i)) & 0xffff),
			      "config 0x%03x: word read 0x%04x, but the dword 0x%08x says 0x%04x", off + 2 * i, w[i],
			      d1, (d1 >> (16 * i)) & 0xffff);
	}
	if (volatile_dwords)
		conf_note(c, "%u config dwords changed while being read", volatile_dwords);
out:
	upci_close(d);
}

static void gen_config_block(struct conf *c)
{
	uint32_t size = c->id.config_size;
	upci_dev *d = NULL;
	uint8_t *blk = calloc(1, 4096 + 8);
	uint8_t part[8];

	CHECK(c, blk != NULL, "out of memory");
	OPEN_CFG(c, &d);
	CHECK_RC(c, upci_config_read_block(d, 0, blk, size), 0);
	for (uint32_t off = 0; off < size; off += 4) {
		uint32_t dw, again, fromblk = (uint32_t)blk[off] | (uint32_t)blk[off + 1] << 8 |
					       (uint32_t)blk[off + 2] << 16 | (uint32_t)blk[off + 3] << 24;

		CFG_RD(c, d, off, 4, dw);
		if (dw == fromblk)
			continue;
		CFG_RD(c, d, off, 4, again);
		CHECK(c, dw != again, "config 0x%03x: block read 0x%08x, dword read 0x%08x", off, fromblk, dw);
	}
	/* An unaligned piece: bytes 1..7. */
	memset(part, 0xee, sizeof(part));
	CHECK_RC(c, upci_config_read_block(d, 1, part, 7), 0);
	for (uint32_t i = 0; i < 7; i++) {
		uint32_t byte;

		CFG_RD(c, d, 1 + i, 1, byte);
		CHECK(c, part[i] == byte, "block read at offset 1: byte %u is 0x%02x, byte read says 0x%02x", 1 + i,
		      part[i], byte);
	}
	CHECK(c, part[7] == 0xee, "block read of 7 bytes wrote an 8th");
	CHECK_RC(c, upci_config_read_block(d, size - 4, part, 8), -ERANGE);
	CHECK_RC(c, upci_config_read_block(d, 0, blk, (size_t)size + 1), -ERANGE);
	CHECK_RC(c, upci_config_read_block(d, size + 4, part, 4), -ERANGE);
	CHECK_RC(c, upci_config_read_block(d, 0, NULL, 4), -EINVAL);
out:
	upci_close(d);
	free(blk);
}

static void gen_config_errors(struct conf *c)
{
	uint32_t size = c->id.config_size, v;
	upci_dev *d = NULL;

	OPEN_CFG(c, &d);
	CHECK_RC(c, upci_config_read(d, 0, 3, &v), -EINVAL);
	CHECK_RC(c, upci_config_read(d, 0, 0, &v), -EINVAL);
	CHECK_RC(c, upci_config_read(d, 0, 8, &v), -EINVAL);
	CHECK_RC(c, upci_config_read(d, 1, 2, &v), -EFAULT);
	CHECK_RC(c, upci_config_read(d, 2, 4, &v), -EFAULT);
	CHECK_RC(c, upci_config_read(d, 3, 4, &v), -EFAULT);
	CHECK_RC(c, upci_config_read(d, size, 4, &v), -ERANGE);
	CHECK_RC(c, upci_config_read(d, size, 1, &v), -ERANGE);
	CHECK_RC(c, upci_config_read(d, 0xfffffffcu, 4, &v), -ERANGE);
	CHECK_RC(c, upci_config_read(d, size - 1, 1, &v), 0); /* the last byte is inside */
	/* The same rules for writes; offsets chosen so that a missed check
	 * lands on the interrupt line/pin, which nothing here depends on. */
	CHECK_RC(c, upci_claim(d), 0);
	CFG_RD(c, d, CFG_INTERRUPT_LINE, 1, v);
	CHECK_RC(c, upci_config_write(d, CFG_INTERRUPT_LINE, 3, v), -EINVAL);
	CHECK_RC(c, upci_config_write(d, CFG_INTERRUPT_LINE + 1, 2, 0), -EFAULT);
	CHECK_RC(c, upci_config_write(d, size, 4, 0), -ERANGE);
	CHECK_RC(c, upci_config_write(d, CFG_INTERRUPT_LINE, 1, 0x100 | v), -EINVAL); /* bits above width */
out:
	upci_close(d);
}

static void gen_config_write(struct conf *c)
{
	static const uint8_t pats[] = {0xa5, 0x5a, 0x00, 0xff};
	upci_dev *d = NULL;
	uint32_t line0 = 0, cmd0 = 0, v;
	int restore = 0;

	OPEN_CLAIMED(c, &d);
	CFG_RD(c, d, CFG_INTERRUPT_LINE, 1, line0);
	CFG_RD(c, d, CFG_COMMAND, 2, cmd0);
	restore = 1;
	/* Interrupt Line: read/write scratch for software on every function. */
	for (size_t i = 0; i < sizeof(pats); i++) {
		CFG_WR(c, d, CFG_INTERRUPT_LINE, 1, pats[i]);
		CFG_RD(c, d, CFG_INTERRUPT_LINE, 1, v);
		CHECK_EQ(c, "interrupt line after writing it", v, pats[i]);
	}
	/* Bus Master Enable through a 2-byte write, both ways. */
	CFG_WR(c, d, CFG_COMMAND, 2, cmd0 | CFG_CMD_MASTER);
	CFG_RD(c, d, CFG_COMMAND, 2, v);
	CHECK(c, v & CFG_CMD_MASTER, "COMMAND 0x%04x: bus master did not stick", v);
	CFG_WR(c, d, CFG_COMMAND, 2, cmd0 & ~CFG_CMD_MASTER);
	CFG_RD(c, d, CFG_COMMAND, 2, v);
	CHECK(c, !(v & CFG_CMD_MASTER), "COMMAND 0x%04x: bus master did not clear", v);
	/* The IDs are read-only. */
	CFG_RD(c, d, CFG_VENDOR_ID, 2, v);
	CHECK_EQ(c, "vendor ID", v, c->id.vendor_id);
out:
	if (restore) {
		upci_config_write(d, CFG_INTERRUPT_LINE, 1, line0);
		upci_config_write(d, CFG_COMMAND, 2, cmd0);
		if (!c->failed && upci_config_read(d, CFG_INTERRUPT_LINE, 1, &v) == 0 && v != line0)
			conf_fail(c, "interrupt line not restored: 0x%02x, wrote 0x%02x", v, line0);
	}
	upci_close(d);
}

/* Walk both capability lists; check they end, and that what
 * upci_irq_enable() offers is what the capabilities say. */
static void gen_capabilities(struct conf *c)
{
	upci_dev *d = NULL;
	unsigned msi = 0, msix = 0, n = 0;
	uint32_t sts, ptr, id, v, pin;
	int rc;

	OPEN_CFG(c, &d);
	CFG_RD(c, d, CFG_STATUS, 2, sts);
	if (sts & CFG_STS_CAP_LIST) {
		CFG_RD(c, d, CFG_CAP_PTR, 1, ptr);
		ptr &= ~3u;
		while (ptr) {
			CHECK(c, ptr >= CFG_STD_HEADER_END && ptr <= 0xfc,
			      "capability pointer 0x%02x outside 0x40..0xfc", ptr);
			CHECK(c, ++n <= 48, "capability list does not end (loop?)");
			CFG_RD(c, d, ptr, 1, id);
			if (id == CAP_ID_MSI && !msi)
				msi = ptr;
			if (id == CAP_ID_MSIX && !msix)
				msix = ptr;
			conf_note(c, "capability 0x%02x at 0x%02x", id, ptr);
			CFG_RD(c, d, ptr + 1, 1, ptr);
			ptr &= ~3u;
		}
	}
	if (c->id.config_size == 4096) {
		uint32_t at = CFG_EXT_START;

		CFG_RD(c, d, at, 4, v);
		n = 0;
		/* 0 or all ones at 0x100: no extended capabilities. */
		while (v != 0 && v != 0xffffffffu) {
			CHECK(c, ++n <= (4096 - 256) / 4, "extended capability list does not end (loop?)");
			conf_note(c, "extended capability 0x%04x v%u at 0x%03x", ECAP_ID(v), ECAP_VER(v), at);
			if (ECAP_NEXT(v) == 0)
				break;
			CHECK(c, ECAP_NEXT(v) >= CFG_EXT_START && !(ECAP_NEXT(v) & 3),
			      "extended capability at 0x%03x: next 0x%03x is not a valid offset", at, ECAP_NEXT(v));
			at = ECAP_NEXT(v);
			CFG_RD(c, d, at, 4, v);
		}
	}
	CHECK_RC(c, upci_claim(d), 0);
	rc = upci_irq_enable(d, UPCI_IRQ_MSIX, 0);
	if (msix) {
		CFG_RD(c, d, msix + MSIX_FLAGS, 2, v);
		v = (v & MSIX_FLAGS_QSIZE) + 1;
		CHECK(c, rc == (int)(v > UPCI_MAX_VECTORS ? UPCI_MAX_VECTORS : v),
		      "MSI-X capability has %u vectors, upci_irq_enable(MSIX, 0) returned %s", v, conf_rc(rc));
	} else {
		CHECK(c, rc == -ENOTSUP, "no MSI-X capability, upci_irq_enable(MSIX, 0): expected %s, got %s",
		      conf_rc(-ENOTSUP), conf_rc(rc));
	}
	rc = upci_irq_enable(d, UPCI_IRQ_MSI, 0);
	if (msi) {
		CFG_RD(c, d, msi + MSI_FLAGS, 2, v);
		v = 1u << ((v & MSI_FLAGS_QMASK) >> MSI_FLAGS_QMASK_SHIFT);
		CHECK(c, rc == (int)v, "MSI capability offers %u vectors, upci_irq_enable(MSI, 0) returned %s", v,
		      conf_rc(rc));
	} else {
		CHECK(c, rc == -ENOTSUP, "no MSI capability, upci_irq_enable(MSI, 0): expected %s, got %s",
		      conf_rc(-ENOTSUP), conf_rc(rc));
	}
	CFG_RD(c, d, CFG_INTERRUPT_PIN, 1, pin);
	rc = upci_irq_enable(d, UPCI_IRQ_INTX, 0);
	CHECK(c, rc == (pin ? 1 : -ENOTSUP), "interrupt pin %u, upci_irq_enable(INTX, 0): expected %s, got %s", pin,
	      conf_rc(pin ? 1 : -ENOTSUP), conf_rc(rc));
out:
	upci_close(d);
}

static void gen_bar_info(struct conf *c)
{
	struct upci_bar_info bi, next;
	upci_dev *d = NULL;
	unsigned present = 0;
	uint32_t reg;

	OPEN(c, &d);
	for (unsigned b = 0; b < UPCI_NUM_BARS; b++) {
		CHECK_RC(c, upci_bar_info(d, b, &bi), 0);
		if (!(bi.flags & UPCI_BAR_PRESENT)) {
			CHECK(c, bi.flags == 0 && bi.size == 0, "BAR%u absent but flags 0x%x size 0x%" PRIx64, b,
			      bi.flags, bi.size);
			continue;
		}
		present++;
		conf_note(c, "BAR%u: size 0x%" PRIx64 " flags 0x%x", b, bi.size, bi.flags);
		CHECK(c, bi.size != 0 && (bi.size & (bi.size - 1)) == 0, "BAR%u size 0x%" PRIx64 " is not a power of two",
		      b, bi.size);
		CHECK(c, !((bi.flags & UPCI_BAR_IO) && (bi.flags & (UPCI_BAR_MEM64 | UPCI_BAR_PREFETCH))),
		      "BAR%u is I/O but also 64-bit or prefetchable (flags 0x%x)", b, bi.flags);
		CHECK(c, !(bi.flags & UPCI_BAR_MAP_RDONLY) || (bi.flags & UPCI_BAR_MAPPABLE),
		      "BAR%u: MAP_RDONLY without MAPPABLE (flags 0x%x)", b, bi.flags);
		/* The kind must match the BAR register's low bits. */
		CFG_RD(c, d, CFG_BAR0 + 4 * b, 4, reg);
		CHECK(c, !!(reg & CFG_BAR_IO) == !!(bi.flags & UPCI_BAR_IO), "BAR%u register 0x%08x vs flags 0x%x (I/O)", b,
		      reg, bi.flags);
		if (!(reg & CFG_BAR_IO)) {
			CHECK(c, ((reg & CFG_BAR_TYPE_MASK) == CFG_BAR_TYPE_64) == !!(bi.flags & UPCI_BAR_MEM64),
			      "BAR%u register 0x%08x vs flags 0x%x (64-bit)", b, reg, bi.flags);
			CHECK(c, !!(reg & CFG_BAR_PREFETCH) == !!(bi.flags & UPCI_BAR_PREFETCH),
			      "BAR%u register 0x%08x vs flags 0x%x (prefetchable)", b, reg, bi.flags);
		}
		if (bi.flags & UPCI_BAR_MEM64) {
			CHECK(c, b + 1 < UPCI_NUM_BARS, "BAR5 cannot be 64-bit");
			CHECK_RC(c, upci_bar_info(d, b + 1, &next), 0);
			CHECK(c, next.flags == 0 && next.size == 0,
			      "BAR%u is 64-bit but BAR%u (its upper half) has flags 0x%x size 0x%" PRIx64, b, b + 1,
			      next.flags, next.size);
			b++;
		}
	}
	CHECK(c, present > 0 || c->kind == CONF_DEV_OTHER, "a known device with no BAR");
	CHECK_RC(c, upci_bar_info(d, UPCI_NUM_BARS, &bi), -EINVAL);
	CHECK_RC(c, upci_bar_info(d, 1000, &bi), -EINVAL);
out:
	upci_close(d);
}

static void gen_bar_map(struct conf *c)
{
	upci_dev *d = NULL;
	unsigned mapped = 0;
	void *addr = NULL, *again = NULL;
	uint64_t len = 0;

	OPEN_CLAIMED(c, &d);
	for (unsigned b = 0; b < UPCI_NUM_BARS; b++) {
		struct upci_bar_info bi;
		uint64_t v1, v2;
		uint32_t m1, m2;

		CHECK_RC(c, upci_bar_info(d, b, &bi), 0);
		if (!(bi.flags & UPCI_BAR_PRESENT)) {
			CHECK_RC(c, upci_bar_map(d, b, &addr, &len), -EINVAL);
			continue;
		}
		if (!(bi.flags & UPCI_BAR_MAPPABLE)) {
			CHECK_RC(c, upci_bar_map(d, b, &addr, &len), -ENOTSUP);
			continue;
		}
		addr = NULL;
		len = 0;
		CHECK_RC(c, upci_bar_map(d, b, &addr, &len), 0);
		CHECK(c, addr != NULL, "BAR%u mapped at NULL", b);
		CHECK_EQ(c, "mapped length", len, bi.size);
		CHECK_RC(c, upci_bar_map(d, b, &again, &len), 0);
		CHECK(c, again == addr, "BAR%u mapped twice: %p then %p, expected the same mapping", b, addr, again);
		/* Counted: the second user's unmap leaves the first one's
		 * mapping alive (a read through it would fault otherwise). */
		CHECK_RC(c, upci_bar_unmap(d, b), 0);
		(void)upci_read32(addr, 0);
		if (bi.size >= 4 && !(bi.flags & UPCI_BAR_IO)) {
			/* A read through the mapping sees what upci_mmio_read sees;
			 * a register that changes between reads proves nothing. */
			m1 = upci_read32(addr, 0);
			MMIO_RD(c, d, b, 0, 4, v1);
			if (m1 != (uint32_t)v1) {
				m2 = upci_read32(addr, 0);
				MMIO_RD(c, d, b, 0, 4, v2);
				CHECK(c, m1 != m2 || v1 != v2,
				      "BAR%u offset 0: mapping reads 0x%08x, upci_mmio_read 0x%08" PRIx64, b, m1, v1);
			}
		}
		mapped++;
	}
	CHECK_RC(c, upci_bar_map(d, UPCI_NUM_BARS, &addr, &len), -EINVAL);
	if (!mapped)
		conf_note(c, "no BAR is mappable on this device");
out:
	upci_close(d);
}

static void gen_bar_unmap(struct conf *c)
{
	upci_dev *d = NULL;
	void *addr;
	uint64_t len;

	OPEN_CLAIMED(c, &d);
	for (unsigned b = 0; b < UPCI_NUM_BARS; b++) {
		struct upci_bar_info bi;

		CHECK_RC(c, upci_bar_info(d, b, &bi), 0);
		CHECK_RC(c, upci_bar_unmap(d, b), -ENOENT); /* never mapped */
		if (!(bi.flags & UPCI_BAR_MAPPABLE))
			continue;
		CHECK_RC(c, upci_bar_map(d, b, &addr, &len), 0);
		CHECK_RC(c, upci_bar_unmap(d, b), 0);
		CHECK_RC(c, upci_bar_unmap(d, b), -ENOENT);
		/* Mapping again after an unmap works. */
		CHECK_RC(c, upci_bar_map(d, b, &addr, &len), 0);
		CHECK_RC(c, upci_bar_unmap(d, b), 0);
	}
	CHECK_RC(c, upci_bar_unmap(d, UPCI_NUM_BARS), -EINVAL);
out:
	upci_close(d);
}

static void gen_mmio_errors(struct conf *c)
{
	struct upci_bar_info bi;
	upci_dev *d = NULL;
	uint64_t v;
	int bar, absent = -1;

	OPEN_CLAIMED(c, &d);
	bar = first_present_bar(d, &bi);
	if (bar < 0)
		SKIP(c, "the device has no BAR");
	for (unsigned b = 0; b < UPCI_NUM_BARS && absent < 0; b++) {
		struct upci_bar_info x;

		if (upci_bar_info(d, b, &x) == 0 && !(x.flags & UPCI_BAR_PRESENT))
			absent = (int)b;
	}
	CHECK_RC(c, upci_mmio_read(d, (unsigned)bar, 0, 3, &v), -EINVAL);
	CHECK_RC(c, upci_mmio_read(d, (unsigned)bar, 0, 0, &v), -EINVAL);
	CHECK_RC(c, upci_mmio_read(d, (unsigned)bar, 0, 16, &v), -EINVAL);
	CHECK_RC(c, upci_mmio_read(d, (unsigned)bar, 2, 4, &v), -EFAULT);
	CHECK_RC(c, upci_mmio_read(d, (unsigned)bar, 1, 2, &v), -EFAULT);
	CHECK_RC(c, upci_mmio_read(d, (unsigned)bar, 4, 8, &v), -EFAULT);
	CHECK_RC(c, upci_mmio_read(d, (unsigned)bar, bi.size, 4, &v), -ERANGE);
	CHECK_RC(c, upci_mmio_read(d, (unsigned)bar, bi.size, 1, &v), -ERANGE);
	CHECK_RC(c, upci_mmio_read(d, (unsigned)bar, UINT64_MAX - 7, 8, &v), -ERANGE);
	CHECK_RC(c, upci_mmio_read(d, UPCI_NUM_BARS, 0, 4, &v), -EINVAL);
	if (absent >= 0)
		CHECK_RC(c, upci_mmio_read(d, (unsigned)absent, 0, 4, &v), -EINVAL);
	/* Writes: every one of these must be refused before the device. */
	CHECK_RC(c, upci_mmio_write(d, (unsigned)bar, 0, 3, 0), -EINVAL);
	CHECK_RC(c, upci_mmio_write(d, (unsigned)bar, 2, 4, 0), -EFAULT);
	CHECK_RC(c, upci_mmio_write(d, (unsigned)bar, bi.size, 4, 0), -ERANGE);
	CHECK_RC(c, upci_mmio_write(d, (unsigned)bar, 0, 1, 0x100), -EINVAL); /* bits above width */
	CHECK_RC(c, upci_mmio_write(d, (unsigned)bar, 0, 4, UINT64_C(1) << 32), -EINVAL);
	CHECK_RC(c, upci_mmio_write(d, UPCI_NUM_BARS, 0, 4, 0), -EINVAL);
	if (absent >= 0)
		CHECK_RC(c, upci_mmio_write(d, (unsigned)absent, 0, 4, 0), -EINVAL);
out:
	upci_close(d);
}

/* IOMMU granule: the page, but at least 16 KiB so the same layout also
 * suits a DART-like IOMMU (macOS, or the sim in DART mode). */
static uint64_t dma_granule(const struct conf *c)
{
	return c->page < 16384 ? 16384 : c->page;
}

static void gen_dma_map_args(struct conf *c)
{
	const uint64_t g = dma_granule(c), base = 0x4000000; /* 64 MiB: under edu's 2^28 */
	upci_dev *d = NULL;
	uint8_t *raw = MAP_FAILED, *m;
	size_t rawlen = 13 * g;
	uint64_t bus = 0;

	raw = mmap(NULL, rawlen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(c, raw != MAP_FAILED, "mmap failed");
	m = (uint8_t *)(((uintptr_t)raw + g - 1) & ~(uintptr_t)(g - 1)); /* 12 granules from here */
	OPEN_CLAIMED(c, &d);
	/* Argument errors. */
	CHECK_RC(c, upci_dma_map(d, base + c->page / 2, m, g, UPCI_DMA_RW, &bus), -EINVAL);
	CHECK_RC(c, upci_dma_map(d, base, m + 1, g, UPCI_DMA_RW, &bus), -EINVAL);
	CHECK_RC(c, upci_dma_map(d, base, m, 0, UPCI_DMA_RW, &bus), -EINVAL);
	CHECK_RC(c, upci_dma_map(d, base, m, g + 1, UPCI_DMA_RW, &bus), -EINVAL);
	CHECK_RC(c, upci_dma_map(d, base, m, g, 0x80, &bus), -EINVAL);
	CHECK_RC(c, upci_dma_map(d, UINT64_MAX - g + 1, m, 2 * g, UPCI_DMA_RW, &bus), -EOVERFLOW);
	/* A: [base+2g, base+4g). Plain process memory has no fd: a backend
	 * behind a real IOMMU in another process (upci serve vfio:) cannot
	 * reach it and says so. */
	{
		int rc0 = upci_dma_map(d, base + 2 * g, m, 2 * g, UPCI_DMA_RW, &bus);

		if (rc0 == -ENOTSUP)
			SKIP(c, "this backend cannot DMA to memory without an fd (upci_dma_map: -ENOTSUP)");
		CHECK_RC(c, rc0, 0);
	}
	conf_note(c, "iova 0x%" PRIx64 " -> bus 0x%" PRIx64, base + 2 * g, bus);
	CHECK_RC(c, upci_dma_map(d, base + 2 * g, m + 2 * g, 2 * g, UPCI_DMA_RW, &bus), -EEXIST); /* same */
	CHECK_RC(c, upci_dma_map(d, base + 3 * g, m + 2 * g, 2 * g, UPCI_DMA_RW, &bus), -EEXIST); /* tail */
	CHECK_RC(c, upci_dma_map(d, base + 1 * g, m + 2 * g, 2 * g, UPCI_DMA_RW, &bus), -EEXIST); /* head */
	CHECK_RC(c, upci_dma_map(d, base + 1 * g, m + 4 * g, 4 * g, UPCI_DMA_RW, &bus), -EEXIST); /* around */
	CHECK_RC(c, upci_dma_map(d, base + 3 * g, m + 2 * g, 1 * g, UPCI_DMA_RW, &bus), -EEXIST); /* inside */
	/* Touching is not overlapping. A backend that cannot keep the device
	 * to one direction refuses it (-ENOTSUP, upci.h); both still map. */
	CHECK_RC(c, upci_dma_map(d, base + 1 * g, m + 2 * g, g, UPCI_DMA_RW, &bus), 0);
	for (unsigned i = 0; i < 2; i++) {
		unsigned dir = i ? UPCI_DMA_WRITE : UPCI_DMA_READ;
		int rc = upci_dma_map(d, base + (4 + i) * g, m + (3 + i) * g, g, dir, &bus);

		if (rc == -ENOTSUP) {
			conf_note(c, "one-direction DMA (flags %u) refused: -ENOTSUP", dir);
			rc = upci_dma_map(d, base + (4 + i) * g, m + (3 + i) * g, g, UPCI_DMA_RW, &bus);
		}
		CHECK(c, rc == 0, "upci_dma_map(flags %u) next to another mapping: expected 0, got %s", dir, conf_rc(rc));
	}
	CHECK_RC(c, upci_dma_map(d, base + 6 * g, m + 5 * g, g, 0, &bus), 0); /* 0 = both */
	/* Unmap by exact start only. */
	CHECK_RC(c, upci_dma_unmap(d, base + 3 * g), -ENOENT);
	CHECK_RC(c, upci_dma_unmap(d, base + 100 * g), -ENOENT);
	for (unsigned i = 1; i <= 6; i++)
		if (i != 3)
			CHECK_RC(c, upci_dma_unmap(d, base + i * g), 0);
	CHECK_RC(c, upci_dma_unmap(d, base + 2 * g), -ENOENT);
	/* The range is free again. */
	CHECK_RC(c, upci_dma_map(d, base + 1 * g, m, 4 * g, UPCI_DMA_RW, &bus), 0);
	CHECK_RC(c, upci_dma_unmap(d, base + 1 * g), 0);
out:
	upci_close(d);
	if (raw != MAP_FAILED)
		munmap(raw, rawlen);
}

static void gen_dma_alloc(struct conf *c)
{
	struct upci_dma_buf a = {0}, b = {0}, a_copy, x = {0};
	const uint64_t want = 3 * c->page + 1;
	upci_dev *d = NULL;
	long nz;
	int rc;

	OPEN_CLAIMED(c, &d);
	CHECK_RC(c, upci_dma_alloc(d, UPCI_IOVA_ANY, want, &a), 0);
	CHECK(c, a.vaddr != NULL && ((uintptr_t)a.vaddr & (c->page - 1)) == 0, "buffer address %p is not page aligned",
	      a.vaddr);
	CHECK(c, a.size >= want && a.size % c->page == 0 && a.size < want + c->page,
	      "asked 0x%" PRIx64 " bytes, got size 0x%" PRIx64 " (expected rounded up to the page)", want, a.size);
	/* Nothing mapped yet: the lowest free page at or above 1 MiB. */
	CHECK_EQ(c, "first UPCI_IOVA_ANY buffer's iova", a.iova, 0x100000);
	conf_note(c, "buffer iova 0x%" PRIx64 " bus 0x%" PRIx64 " fd %d", a.iova, a.bus_addr, a.fd);
#ifdef __linux__
	CHECK(c, a.fd >= 0, "no memfd behind the buffer on Linux (fd %d)", a.fd);
#endif
	nz = conf_find_not(a.vaddr, a.size, 0);
	CHECK(c, nz < 0, "fresh buffer not zeroed: byte %ld", nz);
	conf_fill(a.vaddr, a.size, 1); /* writable end to end */
	CHECK_RC(c, upci_dma_alloc(d, UPCI_IOVA_ANY, c->page, &b), 0);
	CHECK_EQ(c, "second UPCI_IOVA_ANY buffer's iova (lowest free)", b.iova, a.iova + a.size);
	CHECK_RC(c, upci_dma_alloc(d, a.iova + c->page, c->page, &x), -EEXIST);
	CHECK_RC(c, upci_dma_alloc(d, 0x100000 + c->page / 2, c->page, &x), -EINVAL);
	CHECK_RC(c, upci_dma_alloc(d, UPCI_IOVA_ANY, 0, &x), -EINVAL);
	rc = upci_dma_alloc(d, UINT64_MAX - c->page + 1, 2 * c->page, &x);
	CHECK(c, rc == -EOVERFLOW || rc == -EINVAL, "buffer wrapping past 2^64: expected -EOVERFLOW or -EINVAL, got %s",
	      conf_rc(rc));
	/* A buffer is freed, not unmapped. */
	CHECK_RC(c, upci_dma_unmap(d, a.iova), -EINVAL);
	a_copy = a;
	CHECK_RC(c, upci_dma_free(d, &a), 0);
	CHECK(c, a.vaddr == NULL && a.size == 0 && a.iova == 0 && a.bus_addr == 0,
	      "upci_dma_free did not zero the descriptor");
	CHECK_RC(c, upci_dma_free(d, &a_copy), -ENOENT);
	x = b;
	x.vaddr = (uint8_t *)b.vaddr + c->page; /* not what was allocated at b.iova */
	CHECK_RC(c, upci_dma_free(d, &x), -ENOENT);
	/* The freed range is the lowest free one again. */
	CHECK_RC(c, upci_dma_alloc(d, UPCI_IOVA_ANY, c->page, &a), 0);
	CHECK_EQ(c, "UPCI_IOVA_ANY after a free", a.iova, 0x100000);
	CHECK_RC(c, upci_dma_free(d, &a), 0);
	CHECK_RC(c, upci_dma_free(d, &b), 0);
out:
	upci_close(d);
}

/* Is COMMAND.MASTER set? -1 when config space cannot be read. */
static int bus_master_on(upci_dev *d)
{
	uint32_t cmd;

	if (upci_config_read(d, CFG_COMMAND, 2, &cmd))
		return -1;
	return !!(cmd & CFG_CMD_MASTER);
}

static int msi_type(enum upci_irq_type t)
{
	return t == UPCI_IRQ_MSI || t == UPCI_IRQ_MSIX;
}

static void gen_irq_enable(struct conf *c)
{
	uint64_t mask[UPCI_IRQ_WORDS], pend[UPCI_IRQ_WORDS];
	enum upci_irq_type type = UPCI_IRQ_NONE;
	unsigned nvec = 99;
	upci_dev *d = NULL;
	int n;

	OPEN_CLAIMED(c, &d);
	CHECK_RC(c, upci_irq_info(d, &type, &nvec), 0);
	CHECK(c, type == UPCI_IRQ_NONE && nvec == 0, "before enable: irq_info type %d nvec %u, expected NONE, 0",
	      (int)type, nvec);
	n = upci_irq_enable(d, UPCI_IRQ_AUTO, 0);
	if (n == -ENOTSUP)
		SKIP(c, "the device has no interrupts");
	CHECK(c, n >= 1 && n <= UPCI_MAX_VECTORS, "upci_irq_enable(AUTO, 0): expected 1..256, got %s", conf_rc(n));
	CHECK_RC(c, upci_irq_info(d, &type, &nvec), 0);
	CHECK(c, type == UPCI_IRQ_MSIX || type == UPCI_IRQ_MSI || type == UPCI_IRQ_INTX,
	      "irq_info type %d after AUTO: expected MSIX, MSI or INTX", (int)type);
	CHECK_EQ(c, "irq_info nvec", nvec, (unsigned)n);
	CHECK(c, type != UPCI_IRQ_INTX || n == 1, "INTx with %d vectors", n);
	/* upci.h: MSI and MSI-X need bus mastering, so enabling turns it on. */
	if (msi_type(type))
		CHECK(c, bus_master_on(d) == 1, "bus master off after enabling MSI/MSI-X");
	conf_note(c, "AUTO chose type %d with %d vectors", (int)type, n);
	CHECK_RC(c, upci_irq_get_mask(d, mask), 0);
	for (unsigned w = 0; w < UPCI_IRQ_WORDS; w++)
		CHECK_EQ(c, "enable mask word after enable (all unmasked)", mask[w], UINT64_MAX);
	CHECK_RC(c, upci_irq_peek_pending(d, pend), 0);
	CHECK_RC(c, upci_irq_info(d, NULL, NULL), 0);
	/* Argument errors leave the set-up alone. */
	CHECK_RC(c, upci_irq_enable(d, type, UPCI_MAX_VECTORS + 1), -EINVAL);
	CHECK_RC(c, upci_irq_enable(d, UPCI_IRQ_NONE, 1), -EINVAL);
	CHECK_RC(c, upci_irq_enable(d, (enum upci_irq_type)99, 1), -EINVAL);
	if (n < UPCI_MAX_VECTORS)
		CHECK_RC(c, upci_irq_enable(d, type, (unsigned)n + 1), -ERANGE);
	/* Enabling again replaces, with the count asked for. */
	CHECK_RC(c, upci_irq_enable(d, type, 1), 1);
	CHECK_RC(c, upci_irq_info(d, &type, &nvec), 0);
	CHECK_EQ(c, "irq_info nvec after enabling 1", nvec, 1);
	CHECK_RC(c, upci_irq_enable(d, type, 0), n);
out:
	upci_close(d);
}

static void gen_irq_bitmaps(struct conf *c)
{
	static const uint64_t pat[UPCI_IRQ_WORDS] = {
		UINT64_C(0xfffffffffffffffe), UINT64_C(0x5555555555555555), 0, UINT64_C(0x8000000000000001),
	};
	uint64_t got[UPCI_IRQ_WORDS];
	upci_dev *d = NULL;
	int n;

	OPEN_CLAIMED(c, &d);
	CHECK_RC(c, upci_irq_set_mask(d, NULL), -EINVAL);
	CHECK_RC(c, upci_irq_get_mask(d, NULL), -EINVAL);
	CHECK_RC(c, upci_irq_take_pending(d, NULL), -EINVAL);
	CHECK_RC(c, upci_irq_peek_pending(d, NULL), -EINVAL);
	n = upci_irq_enable(d, UPCI_IRQ_AUTO, 0);
	if (n == -ENOTSUP)
		SKIP(c, "the device has no interrupts");
	CHECK(c, n >= 1, "upci_irq_enable(AUTO, 0): %s", conf_rc(n));
	CHECK_RC(c, upci_irq_set_mask(d, pat), 0);
	CHECK_RC(c, upci_irq_get_mask(d, got), 0);
	for (unsigned w = 0; w < UPCI_IRQ_WORDS; w++)
		CHECK_EQ(c, "mask word read back", got[w], pat[w]);
	memset(got, 0xa5, sizeof(got));
	CHECK_RC(c, upci_irq_take_pending(d, got), 0);
	for (unsigned w = 0; w < UPCI_IRQ_WORDS; w++)
		CHECK_EQ(c, "pending word with nothing fired", got[w], 0);
	memset(got, 0xa5, sizeof(got));
	CHECK_RC(c, upci_irq_peek_pending(d, got), 0);
	for (unsigned w = 0; w < UPCI_IRQ_WORDS; w++)
		CHECK_EQ(c, "peeked word with nothing fired", got[w], 0);
	/* A new enable starts with everything unmasked. */
	CHECK_RC(c, upci_irq_enable(d, UPCI_IRQ_AUTO, 0), n);
	CHECK_RC(c, upci_irq_get_mask(d, got), 0);
	for (unsigned w = 0; w < UPCI_IRQ_WORDS; w++)
		CHECK_EQ(c, "mask word after re-enable", got[w], UINT64_MAX);
out:
	upci_close(d);
}

static void gen_irq_wait_timeout(struct conf *c)
{
	uint64_t pend[UPCI_IRQ_WORDS];
	upci_dev *d = NULL;
	int64_t t0, dt;
	int fd, fd2, n;

	OPEN_CLAIMED(c, &d);
	fd = upci_irq_fd(d);
	CHECK(c, fd >= 0, "upci_irq_fd: expected an fd, got %s", conf_rc(fd));
	/* Nothing enabled yet: a wait simply times out. */
	CHECK_RC(c, upci_irq_wait(d, 0, pend), -ETIMEDOUT);
	n = upci_irq_enable(d, UPCI_IRQ_AUTO, 0);
	CHECK(c, n >= 1 || n == -ENOTSUP, "upci_irq_enable(AUTO, 0): %s", conf_rc(n));
	t0 = conf_now_ms();
	CHECK_RC(c, upci_irq_wait(d, 0, pend), -ETIMEDOUT);
	dt = conf_now_ms() - t0;
	CHECK(c, dt < 50, "a 0 ms wait (poll) took %" PRId64 " ms", dt);
	t0 = conf_now_ms();
	CHECK_RC(c, upci_irq_wait(d, 100, pend), -ETIMEDOUT);
	dt = conf_now_ms() - t0;
	/* 1 ms of slack for clock granularity; upper bound generous for VMs. */
	CHECK(c, dt >= 99 && dt < 1000, "a 100 ms wait returned after %" PRId64 " ms", dt);
	/* The fd belongs to the handle: the same one whatever the set-up. */
	fd2 = upci_irq_fd(d);
	CHECK(c, fd2 == fd, "upci_irq_fd changed from %d to %d after enable", fd, fd2);
	CHECK_RC(c, upci_irq_disable(d), 0);
	fd2 = upci_irq_fd(d);
	CHECK(c, fd2 == fd, "upci_irq_fd changed from %d to %d after disable", fd, fd2);
	CHECK(c, fcntl(fd, F_GETFD) >= 0, "irq fd %d closed before upci_close", fd);
out:
	upci_close(d);
}

static void gen_irq_disable(struct conf *c)
{
	uint64_t pend[UPCI_IRQ_WORDS];
	enum upci_irq_type type;
	upci_dev *d = NULL;
	unsigned nvec;
	int n;

	OPEN_CLAIMED(c, &d);
	CHECK_RC(c, upci_irq_disable(d), 0); /* nothing enabled: still 0 */
	n = upci_irq_enable(d, UPCI_IRQ_AUTO, 0);
	if (n == -ENOTSUP)
		SKIP(c, "the device has no interrupts");
	CHECK(c, n >= 1, "upci_irq_enable(AUTO, 0): %s", conf_rc(n));
	CHECK_RC(c, upci_irq_disable(d), 0);
	CHECK_RC(c, upci_irq_info(d, &type, &nvec), 0);
	CHECK(c, type == UPCI_IRQ_NONE && nvec == 0, "after disable: type %d nvec %u, expected NONE, 0", (int)type,
	      nvec);
	CHECK_RC(c, upci_irq_disable(d), 0);
	CHECK_RC(c, upci_irq_wait(d, 0, pend), -ETIMEDOUT);
	CHECK_RC(c, upci_irq_enable(d, UPCI_IRQ_AUTO, 0), n); /* and back */
out:
	upci_close(d);
}

/* ---- waking a blocked upci_irq_wait ---- */

struct wake_waiter {
	upci_dev *d;
	atomic_int started;
	int rc;
	int64_t ms; /* how long the wait lasted */
	uint64_t pend[UPCI_IRQ_WORDS];
};

static void *wake_main(void *arg)
{
	struct wake_waiter *w = arg;
	int64_t t0 = conf_now_ms();

	atomic_store(&w->started, 1);
	w->rc = upci_irq_wait(w->d, CONF_TIMEOUT_MS, w->pend);
	w->ms = conf_now_ms() - t0;
	return NULL;
}

enum wake_how { WAKE_DISABLE, WAKE_ENABLE, WAKE_RELEASE, WAKE_CLOSE };
static const char *const wake_name[] = {"upci_irq_disable", "upci_irq_enable", "upci_release", "upci_close"};
#define WAKE_WAITERS 2

/* Block two threads in upci_irq_wait(), then call @how from this one:
 * both must return -ECANCELED, long before their timeout. 0 or -1. */
static int wake_waiters(struct conf *c, upci_dev **dp, enum wake_how how)
{
	struct wake_waiter w[WAKE_WAITERS];
	pthread_t th[WAKE_WAITERS];
	unsigned started = 0;
	int rc = 0;

	memset(w, 0, sizeof(w));
	for (; started < WAKE_WAITERS; started++) {
		w[started].d = *dp;
		if (pthread_create(&th[started], NULL, wake_main, &w[started]) != 0)
			break;
	}
	for (unsigned i = 0; i < started; i++)
		while (!atomic_load(&w[i].started))
			conf_sleep_ms(1);
	conf_sleep_ms(CONF_QUIET_MS); /* long enough to be asleep in poll() */
	switch (how) {
	case WAKE_DISABLE:
		rc = upci_irq_disable(*dp);
		break;
	case WAKE_ENABLE:
		rc = upci_irq_enable(*dp, UPCI_IRQ_AUTO, 0);
		rc = rc >= 1 ? 0 : rc;
		break;
	case WAKE_RELEASE:
		rc = upci_release(*dp);
		break;
	case WAKE_CLOSE:
		upci_close(*dp);
		*dp = NULL;
		break;
	}
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL); /* bounded: the waits time out */
	if (started < WAKE_WAITERS) {
		conf_fail(c, "pthread_create failed");
		return -1;
	}
	if (rc) {
		conf_fail(c, "%s: %s", wake_name[how], conf_rc(rc));
		return -1;
	}
	for (unsigned i = 0; i < WAKE_WAITERS; i++)
		if (w[i].rc != -ECANCELED || w[i].ms >= CONF_TIMEOUT_MS) {
			conf_fail(c, "%s from another thread: a blocked upci_irq_wait returned %s after %" PRId64
				  " ms, expected -ECANCELED at once", wake_name[how], conf_rc(w[i].rc), w[i].ms);
			return -1;
		}
	return 0;
}

/* upci.h: disable, an enable that replaces the set-up, release and close
 * wake every thread blocked in upci_irq_wait() with -ECANCELED; a wait
 * that starts afterwards is an ordinary wait. */
static void gen_irq_wake(struct conf *c)
{
	uint64_t pend[UPCI_IRQ_WORDS];
	upci_dev *d = NULL;
	int n;

	OPEN_CLAIMED(c, &d);
	n = upci_irq_enable(d, UPCI_IRQ_AUTO, 0);
	CHECK(c, n >= 1 || n == -ENOTSUP, "upci_irq_enable(AUTO, 0): %s", conf_rc(n));
	if (wake_waiters(c, &d, WAKE_DISABLE))
		goto out;
	CHECK_RC(c, upci_irq_wait(d, 0, pend), -ETIMEDOUT);
	if (n >= 1) {
		CHECK_RC(c, upci_irq_enable(d, UPCI_IRQ_AUTO, 0), n);
		if (wake_waiters(c, &d, WAKE_ENABLE))
			goto out;
		CHECK_RC(c, upci_irq_wait(d, 0, pend), -ETIMEDOUT);
	}
	if (wake_waiters(c, &d, WAKE_RELEASE))
		goto out;
	CHECK_RC(c, upci_claim(d), 0);
	if (n >= 1)
		CHECK_RC(c, upci_irq_enable(d, UPCI_IRQ_AUTO, 0), n);
	/* Close frees the handle: only once the waiters are out of it. */
	if (wake_waiters(c, &d, WAKE_CLOSE))
		goto out;
out:
	upci_close(d);
}

static void gen_reset(struct conf *c)
{
	static const uint64_t pat[UPCI_IRQ_WORDS] = {
		UINT64_C(0xfffffffffffffffd), UINT64_MAX, UINT64_C(0x00ff00ff00ff00ff), UINT64_MAX,
	};
	struct upci_dma_buf buf = {0}, x = {0};
	uint64_t mask[UPCI_IRQ_WORDS];
	enum upci_irq_type t0 = UPCI_IRQ_NONE, t1;
	unsigned n0 = 0, n1;
	upci_dev *d = NULL;
	uint32_t v;
	int n, rc;

	OPEN_CLAIMED(c, &d);
	/* No interrupts: bus mastering is off afterwards, mappings stay. */
	CHECK_RC(c, conf_bus_master(d, 1), 0);
	CHECK_RC(c, upci_dma_alloc(d, UPCI_IOVA_ANY, c->page, &buf), 0);
	rc = upci_reset(d);
	if (rc == -ENOTSUP)
		SKIP(c, "the device has no way to reset (upci_reset: -ENOTSUP)");
	CHECK_RC(c, rc, 0);
	CHECK(c, bus_master_on(d) == 0, "bus master still on after a reset with no interrupts set up");
	CFG_RD(c, d, CFG_VENDOR_ID, 2, v);
	CHECK_EQ(c, "vendor ID after reset", v, c->id.vendor_id);
	CHECK_RC(c, upci_dma_alloc(d, buf.iova, c->page, &x), -EEXIST);
	/* With interrupts: set-up and mask re-established by the library,
	 * which for MSI/MSI-X turns bus mastering back on. */
	n = upci_irq_enable(d, UPCI_IRQ_AUTO, 0);
	if (n == -ENOTSUP)
		goto done;
	CHECK(c, n >= 1, "upci_irq_enable(AUTO, 0): %s", conf_rc(n));
	CHECK_RC(c, upci_irq_set_mask(d, pat), 0);
	CHECK_RC(c, upci_irq_info(d, &t0, &n0), 0);
	CHECK_RC(c, upci_reset(d), 0);
	CHECK_RC(c, upci_irq_info(d, &t1, &n1), 0);
	CHECK(c, t1 == t0 && n1 == n0, "irq set-up after reset: type %d nvec %u, before: type %d nvec %u", (int)t1,
	      n1, (int)t0, n0);
	CHECK_RC(c, upci_irq_get_mask(d, mask), 0);
	for (unsigned w = 0; w < UPCI_IRQ_WORDS; w++)
		CHECK_EQ(c, "enable mask word after reset", mask[w], pat[w]);
	CHECK(c, bus_master_on(d) == msi_type(t0), "bus master %s after a reset with irq type %d",
	      bus_master_on(d) ? "on" : "off", (int)t0);
done:
	CHECK_RC(c, upci_dma_free(d, &buf), 0);
out:
	upci_close(d);
}

/* upci.h: release refuses while memory the library handed out (a BAR
 * mapping, a DMA buffer) is live, and touches none of it; once they are
 * given back it drops DMA mappings and interrupts. */
static void gen_release_drops_state(struct conf *c)
{
	struct upci_dma_buf buf = {0}, again = {0};
	const uint64_t g = dma_granule(c);
	enum upci_irq_type type;
	upci_dev *d = NULL;
	unsigned nvec, mapped = UPCI_NUM_BARS;
	uint8_t *mem = MAP_FAILED;
	void *addr = NULL;
	uint64_t len, bus;
	int n, plain = 0;

	mem = mmap(NULL, 2 * g, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(c, mem != MAP_FAILED, "mmap failed");
	OPEN_CLAIMED(c, &d);
	for (unsigned b = 0; b < UPCI_NUM_BARS && mapped == UPCI_NUM_BARS; b++)
		if (upci_bar_map(d, b, &addr, &len) == 0)
			mapped = b;
	CHECK_RC(c, upci_dma_alloc(d, UPCI_IOVA_ANY, c->page, &buf), 0);
	n = upci_dma_map(d, 0x8000000, (void *)(((uintptr_t)mem + g - 1) & ~(uintptr_t)(g - 1)), g, UPCI_DMA_RW,
			 &bus);
	CHECK(c, n == 0 || n == -ENOTSUP, "upci_dma_map(plain memory): %s", conf_rc(n));
	plain = n == 0;
	n = upci_irq_enable(d, UPCI_IRQ_AUTO, 0);
	CHECK(c, n >= 1 || n == -ENOTSUP, "upci_irq_enable(AUTO, 0): %s", conf_rc(n));
	CHECK_RC(c, upci_release(d), -EBUSY);
	/* Refused means untouched: the buffer, its fd and the mapping work. */
	CHECK(c, buf.fd < 0 || fcntl(buf.fd, F_GETFD) >= 0, "buffer fd %d closed by a refused release", buf.fd);
	memset(buf.vaddr, 0xa5, (size_t)buf.size);
	if (mapped < UPCI_NUM_BARS) {
		(void)upci_read32(addr, 0);
		CHECK_RC(c, upci_bar_unmap(d, mapped), 0);
		CHECK_RC(c, upci_release(d), -EBUSY); /* the buffer alone */
		CHECK(c, conf_find_not(buf.vaddr, (size_t)buf.size, 0xa5) < 0, "buffer changed by a refused release");
	}
	CHECK_RC(c, upci_dma_free(d, &buf), 0);
	if (mapped < UPCI_NUM_BARS) {
		CHECK_RC(c, upci_bar_map(d, mapped, &addr, &len), 0);
		CHECK_RC(c, upci_release(d), -EBUSY); /* the BAR alone */
		(void)upci_read32(addr, 0);
		CHECK_RC(c, upci_bar_unmap(d, mapped), 0);
	}
	CHECK_RC(c, upci_irq_info(d, &type, &nvec), 0);
	CHECK(c, n < 1 || (type != UPCI_IRQ_NONE && (int)nvec == n), "a refused release changed the irq set-up");
	CHECK_RC(c, upci_release(d), 0);
	CHECK_RC(c, upci_irq_info(d, &type, &nvec), 0);
	CHECK(c, type == UPCI_IRQ_NONE && nvec == 0, "after release: irq type %d nvec %u, expected NONE, 0", (int)type,
	      nvec);
	CHECK_RC(c, upci_claim(d), 0);
	if (plain)
		CHECK_RC(c, upci_dma_unmap(d, 0x8000000), -ENOENT); /* dropped by the release */
	CHECK_RC(c, upci_dma_alloc(d, UPCI_IOVA_ANY, c->page, &again), 0);
	CHECK_EQ(c, "UPCI_IOVA_ANY after release (table empty)", again.iova, 0x100000);
out:
	upci_close(d);
	if (mem != MAP_FAILED)
		munmap(mem, 2 * g);
}

static void gen_close_busy(struct conf *c)
{
	struct upci_dma_buf b1, b2, b3;
	upci_dev *d = NULL;
	uint8_t *mem = MAP_FAILED;
	const uint64_t g = dma_granule(c);
	uint64_t bus, len;
	void *addr;
	int n;

	mem = mmap(NULL, 2 * g, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(c, mem != MAP_FAILED, "mmap failed");
	OPEN_CLAIMED(c, &d);
	for (unsigned b = 0; b < UPCI_NUM_BARS; b++)
		(void)upci_bar_map(d, b, &addr, &len);
	CHECK_RC(c, upci_dma_alloc(d, UPCI_IOVA_ANY, c->page, &b1), 0);
	CHECK_RC(c, upci_dma_alloc(d, UPCI_IOVA_ANY, 3 * c->page, &b2), 0);
	n = upci_dma_map(d, 0x8000000, (void *)(((uintptr_t)mem + g - 1) & ~(uintptr_t)(g - 1)), g, UPCI_DMA_RW,
			 &bus);
	/* -ENOTSUP: no DMA to fd-less memory on this backend (see dma.map_args). */
	CHECK(c, n == 0 || n == -ENOTSUP, "upci_dma_map(plain memory): %s", conf_rc(n));
	CHECK_RC(c, conf_bus_master(d, 1), 0);
	n = upci_irq_enable(d, UPCI_IRQ_AUTO, 0);
	CHECK(c, n >= 1 || n == -ENOTSUP, "upci_irq_enable(AUTO, 0): %s", conf_rc(n));
	/* Everything live: close must undo it all (ASan reports leaks). */
	upci_close(d);
	d = NULL;
	OPEN_CLAIMED(c, &d);
	CHECK_RC(c, upci_dma_alloc(d, UPCI_IOVA_ANY, c->page, &b3), 0);
	CHECK_EQ(c, "UPCI_IOVA_ANY on a fresh handle after close", b3.iova, 0x100000);
out:
	upci_close(d);
	if (mem != MAP_FAILED)
		munmap(mem, 2 * g);
}

/* ---- error parity: the same mistake, the same code, on every backend ---- */

/* upci.h conventions: a NULL handle or a NULL result/input pointer is
 * -EINVAL, whatever the call and the backend. */
static void gen_errors_null(struct conf *c)
{
	uint64_t pend[UPCI_IRQ_WORDS], v64, bus;
	struct upci_bar_info bi;
	struct upci_identity id;
	struct upci_dma_buf buf;
	upci_dev *d = NULL;
	void *addr, *mem = MAP_FAILED;
	uint64_t len;
	uint32_t v;
	int bar;

	CHECK_RC(c, upci_open(NULL, c->uri), -EINVAL);
	CHECK_RC(c, upci_open(&d, NULL), -EINVAL);
	CHECK(c, d == NULL, "a failed upci_open left a handle");
	CHECK_RC(c, upci_claim(NULL), -EINVAL);
	CHECK_RC(c, upci_release(NULL), -EINVAL);
	CHECK_RC(c, upci_identity(NULL, &id), -EINVAL);
	CHECK_RC(c, upci_config_read(NULL, 0, 4, &v), -EINVAL);
	CHECK_RC(c, upci_config_write(NULL, 0, 4, 0), -EINVAL);
	CHECK_RC(c, upci_config_read_block(NULL, 0, &v, 4), -EINVAL);
	CHECK_RC(c, upci_bar_info(NULL, 0, &bi), -EINVAL);
	CHECK_RC(c, upci_bar_map(NULL, 0, &addr, &len), -EINVAL);
	CHECK_RC(c, upci_bar_unmap(NULL, 0), -EINVAL);
	CHECK_RC(c, upci_mmio_read(NULL, 0, 0, 4, &v64), -EINVAL);
	CHECK_RC(c, upci_mmio_write(NULL, 0, 0, 4, 0), -EINVAL);
	CHECK_RC(c, upci_dma_unmap(NULL, 0), -EINVAL);
	CHECK_RC(c, upci_dma_free(NULL, &buf), -EINVAL);
	CHECK_RC(c, upci_irq_enable(NULL, UPCI_IRQ_AUTO, 0), -EINVAL);
	CHECK_RC(c, upci_irq_disable(NULL), -EINVAL);
	CHECK_RC(c, upci_irq_count(NULL, UPCI_IRQ_MSI), -EINVAL);
	CHECK_RC(c, upci_irq_info(NULL, NULL, NULL), -EINVAL);
	CHECK_RC(c, upci_irq_fd(NULL), -EINVAL);
	CHECK_RC(c, upci_irq_wait(NULL, 0, pend), -EINVAL);
	CHECK_RC(c, upci_irq_take_pending(NULL, pend), -EINVAL);
	CHECK_RC(c, upci_reset(NULL), -EINVAL);
	OPEN_CLAIMED(c, &d);
	CHECK_RC(c, upci_identity(d, NULL), -EINVAL);
	CHECK_RC(c, upci_config_read(d, 0, 4, NULL), -EINVAL);
	CHECK_RC(c, upci_bar_info(d, 0, NULL), -EINVAL);
	bar = first_present_bar(d, &bi);
	if (bar >= 0) {
		CHECK_RC(c, upci_mmio_read(d, (unsigned)bar, 0, 4, NULL), -EINVAL);
		CHECK_RC(c, upci_bar_map(d, (unsigned)bar, NULL, &len), -EINVAL);
	}
	mem = mmap(NULL, c->page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(c, mem != MAP_FAILED, "mmap failed");
	CHECK_RC(c, upci_dma_map(d, 0x100000, mem, c->page, UPCI_DMA_RW, NULL), -EINVAL);
	CHECK_RC(c, upci_dma_map(d, 0x100000, NULL, c->page, UPCI_DMA_RW, &bus), -EINVAL);
	CHECK_RC(c, upci_dma_alloc(d, UPCI_IOVA_ANY, c->page, NULL), -EINVAL);
	CHECK_RC(c, upci_dma_free(d, NULL), -EINVAL);
	CHECK_RC(c, upci_irq_wait(d, 0, NULL), -EINVAL);
	CHECK_RC(c, upci_irq_wait(d, -2, pend), -EINVAL);
	CHECK_RC(c, upci_irq_count(d, UPCI_IRQ_NONE), -EINVAL);
	CHECK_RC(c, upci_irq_count(d, UPCI_IRQ_AUTO), -EINVAL);
	CHECK_RC(c, upci_irq_count(d, (enum upci_irq_type)99), -EINVAL);
out:
	upci_close(d);
	if (mem != MAP_FAILED)
		munmap(mem, c->page);
}

/* DMA mistakes that every backend must call the same, including those
 * that cannot reach plain process memory (dma.map_args skips there):
 * overlap with a buffer, a buffer unmapped instead of freed, an IOVA the
 * IOMMU cannot map (-ERANGE, or it maps). */
static void gen_errors_dma(struct conf *c)
{
	struct upci_dma_buf buf = {0}, x = {0};
	upci_dev *d = NULL;
	void *mem = MAP_FAILED;
	uint64_t bus;
	int rc;

	mem = mmap(NULL, c->page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(c, mem != MAP_FAILED, "mmap failed");
	OPEN_CLAIMED(c, &d);
	CHECK_RC(c, upci_dma_alloc(d, UPCI_IOVA_ANY, 2 * c->page, &buf), 0);
	CHECK_RC(c, upci_dma_map(d, buf.iova, mem, c->page, UPCI_DMA_RW, &bus), -EEXIST);
	CHECK_RC(c, upci_dma_map(d, buf.iova + c->page, mem, c->page, UPCI_DMA_RW, &bus), -EEXIST);
	CHECK_RC(c, upci_dma_alloc(d, buf.iova + c->page, c->page, &x), -EEXIST);
	CHECK_RC(c, upci_dma_unmap(d, buf.iova), -EINVAL);
	CHECK_RC(c, upci_dma_unmap(d, buf.iova + c->page), -ENOENT);
	/* x86's interrupt window: Linux VFIO excludes it from the usable IOVA
	 * ranges (-ERANGE); IOMMUs without such a hole map it. */
	rc = upci_dma_alloc(d, 0xfee00000, c->page, &x);
	CHECK(c, rc == 0 || rc == -ERANGE, "upci_dma_alloc at IOVA 0xfee00000: expected 0 or -ERANGE, got %s",
	      conf_rc(rc));
	conf_note(c, "IOVA 0xfee00000: %s", conf_rc(rc));
	if (rc == 0)
		CHECK_RC(c, upci_dma_free(d, &x), 0);
	CHECK_RC(c, upci_dma_free(d, &buf), 0);
	CHECK_RC(c, upci_dma_free(d, &buf), -ENOENT); /* zeroed descriptor */
out:
	upci_close(d);
	if (mem != MAP_FAILED)
		munmap(mem, c->page);
}

static void gen_strerror(struct conf *c)
{
	static const int codes[] = {0, -EPERM, -ENOENT, -EINVAL, -EBUSY, -ERANGE, -ETIMEDOUT, -ENOTSUP, -123456};
	const char *s;

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		s = upci_strerror(codes[i]);
		CHECK(c, s != NULL && s[0] != '\0', "upci_strerror(%d) is NULL or empty", codes[i]);
		CHECK(c, strcmp(s, upci_strerror(-codes[i])) == 0, "upci_strerror(%d) and (%d) differ", codes[i],
		      -codes[i]);
	}
	CHECK(c, strcmp(upci_strerror(-EBUSY), upci_strerror(-EPERM)) != 0, "EBUSY and EPERM read the same");
out:
	return;
}

const struct conf_case conf_generic_cases[] = {
	{"open.bad_uri", CONF_NEED_NOTHING, gen_open_bad_uri},
	{"open.uri_check", CONF_NEED_NOTHING, gen_uri_check},
	{"open.strerror", CONF_NEED_NOTHING, gen_strerror},
	{"open.open_close", CONF_NEED_NOTHING, gen_open},
	{"open.identity", CONF_NEED_DEV, gen_identity},
	{"open.identity_before_claim", CONF_NEED_DEV, gen_identity_before_claim},
	{"claim.claim_release", CONF_NEED_DEV, gen_claim},
	{"claim.exclusive", CONF_NEED_DEV, gen_claim_exclusive},
	{"claim.two_handles", CONF_NEED_DEV, gen_two_handles},
	{"claim.unclaimed_eperm", CONF_NEED_DEV, gen_unclaimed_eperm},
	{"claim.release_drops_state", CONF_NEED_DEV, gen_release_drops_state},
	{"config.widths_agree", CONF_NEED_DEV, gen_config_widths},
	{"config.block_read", CONF_NEED_DEV, gen_config_block},
	{"config.errors", CONF_NEED_DEV, gen_config_errors},
	{"config.write_roundtrip", CONF_NEED_DEV, gen_config_write},
	{"config.capabilities", CONF_NEED_DEV, gen_capabilities},
	{"bar.info", CONF_NEED_DEV, gen_bar_info},
	{"bar.map", CONF_NEED_DEV, gen_bar_map},
	{"bar.unmap", CONF_NEED_DEV, gen_bar_unmap},
	{"mmio.errors", CONF_NEED_DEV, gen_mmio_errors},
	{"dma.map_args", CONF_NEED_DEV, gen_dma_map_args},
	{"dma.alloc_free", CONF_NEED_DEV, gen_dma_alloc},
	{"irq.enable", CONF_NEED_DEV, gen_irq_enable},
	{"irq.bitmaps", CONF_NEED_DEV, gen_irq_bitmaps},
	{"irq.wait_timeout", CONF_NEED_DEV, gen_irq_wait_timeout},
	{"irq.disable", CONF_NEED_DEV, gen_irq_disable},
	{"irq.wait_woken", CONF_NEED_DEV, gen_irq_wake},
	{"reset.state_kept", CONF_NEED_DEV, gen_reset},
	{"close.with_everything_live", CONF_NEED_DEV, gen_close_busy},
	{"errors.null_args", CONF_NEED_DEV, gen_errors_null},
	{"errors.dma", CONF_NEED_DEV, gen_errors_dma},
};
const size_t conf_generic_count = sizeof(conf_generic_cases) / sizeof(conf_generic_cases[0]);

/* ================= runner ================= */

struct conf_table {
	const struct conf_case *cases;
	const size_t *count;
};

static const struct conf_table tables[] = {
	{conf_generic_cases, &conf_generic_count},
	{conf_enum_cases, &conf_enum_count},
	{conf_edu_cases, &conf_edu_count},
	{conf_testdev_cases, &conf_testdev_count},
	{conf_dma_cases, &conf_dma_count},
	{conf_eventfd_cases, &conf_eventfd_count},
};

/* "vectors=" and "mem=" of a sim: URI (the model reads them the same way). */
static void parse_sim_params(struct conf *c)
{
	const char *q = strncmp(c->uri, "sim:", 4) == 0 ? strchr(c->uri, '?') : NULL;

	c->uri_vectors = -1;
	c->uri_mem = 0;
	while (q && *q) {
		q++;
		if (strncmp(q, "vectors=", 8) == 0)
			c->uri_vectors = strtol(q + 8, NULL, 0);
		else if (strncmp(q, "mem=", 4) == 0)
			c->uri_mem = strtoull(q + 4, NULL, 0);
		q += strcspn(q, ",&");
	}
}

static void probe_device(struct conf *c)
{
	upci_dev *d = NULL;
	uint32_t v;

	c->open_rc = upci_open(&d, c->uri);
	if (c->open_rc)
		return;
	if (upci_identity(d, &c->id) != 0)
		c->open_rc = -EIO;
	/* claim.unclaimed_eperm judges whether the backend may do this. */
	c->cfg_needs_claim = upci_config_read(d, CFG_VENDOR_ID, 2, &v) == -EPERM;
	upci_close(d);
	if (c->open_rc)
		return;
	c->is_sim = strcmp(c->id.backend, "sim") == 0;
	if (c->id.vendor_id == 0x1234 && c->id.device_id == 0x11e8)
		c->kind = CONF_DEV_EDU;
	else if (c->id.vendor_id == 0x1af4 && c->id.device_id == 0x10f0)
		c->kind = CONF_DEV_TESTDEV;
	else
		c->kind = CONF_DEV_OTHER;
}

/* Why a case cannot run here, or NULL. */
static const char *unmet_need(const struct conf *c, enum conf_need need, char *buf, size_t len)
{
	if (need == CONF_NEED_NOTHING)
		return NULL;
	if (c->open_rc) {
		snprintf(buf, len, "the URI does not open (%s)", conf_rc(c->open_rc));
		return buf;
	}
	if (need == CONF_NEED_EDU && c->kind != CONF_DEV_EDU) {
		snprintf(buf, len, "device %04x:%04x is not an edu (1234:11e8)", c->id.vendor_id, c->id.device_id);
		return buf;
	}
	if (need == CONF_NEED_TESTDEV && c->kind != CONF_DEV_TESTDEV) {
		snprintf(buf, len, "device %04x:%04x is not a testdev (1af4:10f0)", c->id.vendor_id, c->id.device_id);
		return buf;
	}
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: upci-conformance [-v] [--only SUBSTR] [--edu-dma-4096] [--via-qemu-vfio-user]\n"
		   "                        [--peer URI2] URI\n"
		   "       upci-conformance --list\n"
		   "Runs the upci conformance cases against the device at URI.\n"
		   "  --list          print the case names and exit\n"
		   "  --only SUBSTR   run only the cases whose name contains SUBSTR\n"
		   "  --edu-dma-4096  also run the exact-4096-byte edu DMA (aborts QEMU 7.2's edu)\n"
		   "  --via-qemu-vfio-user\n"
		   "                  the device is a model served by 'upci serve' to QEMU's\n"
		   "                  vfio-user-pci and reached through a guest's kernel VFIO:\n"
		   "                  expect, and name, what QEMU and the guest kernel change\n"
		   "                  (QEMU keeps the MSI-X table and maps all DMA readable;\n"
		   "                  the guest kernel restores config after an FLR)\n"
		   "  --peer URI2     a second device to share a DMA space with (dma.space_peer)\n"
		   "  -v              print diagnostics as '# ...' lines\n"
		   "Exit: 0 when nothing failed and at least one case passed, 1 otherwise,\n"
		   "2 for a usage error.\n");
}

int main(int argc, char **argv)
{
	struct conf c;
	const char *only = NULL;
	int list = 0, n = 0, pass = 0, fail = 0, skip = 0, diff = 0;
	long ps;

	memset(&c, 0, sizeof(c));
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--list") == 0) {
			list = 1;
		} else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
			only = argv[++i];
		} else if (strcmp(argv[i], "-v") == 0) {
			c.verbose = 1;
		} else if (strcmp(argv[i], "--edu-dma-4096") == 0) {
			c.edu_dma_4096 = 1;
		} else if (strcmp(argv[i], "--via-qemu-vfio-user") == 0) {
			c.via_qemu = 1;
		} else if (strcmp(argv[i], "--peer") == 0 && i + 1 < argc) {
			c.peer = argv[++i];
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "upci-conformance: unknown option %s\n", argv[i]);
			usage(stderr);
			return 2;
		} else if (!c.uri) {
			c.uri = argv[i];
		} else {
			fprintf(stderr, "upci-conformance: more than one URI\n");
			return 2;
		}
	}
	if (list) {
		for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
			for (size_t i = 0; i < *tables[t].count; i++)
				if (!only || strstr(tables[t].cases[i].name, only))
					printf("%s\n", tables[t].cases[i].name);
		return 0;
	}
	if (!c.uri) {
		usage(stderr);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0); /* lines appear as cases finish */
	ps = sysconf(_SC_PAGESIZE);
	c.page = ps > 0 ? (uint64_t)ps : 4096;
	parse_sim_params(&c);
	probe_device(&c);
	if (c.open_rc == 0)
		conf_note(&c, "%s: %04x:%04x \"%s\" on backend %s, config %u bytes", c.uri, c.id.vendor_id,
			  c.id.device_id, c.id.name, c.id.backend, c.id.config_size);
	else
		conf_note(&c, "%s: upci_open failed: %s", c.uri, conf_rc(c.open_rc));

	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		for (size_t i = 0; i < *tables[t].count; i++) {
			const struct conf_case *k = &tables[t].cases[i];
			char why[160];
			const char *unmet;

			if (only && !strstr(k->name, only))
				continue;
			n++;
			c.failed = c.skipped = 0;
			c.msg[0] = c.expected[0] = '\0';
			unmet = unmet_need(&c, k->need, why, sizeof(why));
			if (unmet)
				conf_skip(&c, "%s", unmet);
			else
				k->run(&c);
			if (c.failed) {
				fail++;
				printf("not ok %d - %s: %s\n", n, k->name, c.msg);
			} else if (c.skipped) {
				skip++;
				printf("skip %d - %s: %s\n", n, k->name, c.msg);
			} else if (c.expected[0]) {
				pass++;
				diff++;
				printf("ok %d - %s # expected: %s\n", n, k->name, c.expected);
			} else {
				pass++;
				printf("ok %d - %s\n", n, k->name);
			}
		}
	}
	if (diff)
		printf("%d passed (%d with expected differences), %d failed, %d skipped\n", pass, diff, fail, skip);
	else
		printf("%d passed, %d failed, %d skipped\n", pass, fail, skip);
	return fail == 0 && pass > 0 ? 0 : 1;
}

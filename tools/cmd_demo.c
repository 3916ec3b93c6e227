/* SPDX-License-Identifier: MIT */
/*
 * 'upci demo': walk the whole seed feature list on one device, one line per
 * step. Generic steps run on any device; the device-specific ones (MMIO
 * registers, factorial, DMA, firing interrupts) know edu and testdev by
 * identity and are skipped, with the reason, on anything else.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "caps.h"
#include "edu_regs.h"
#include "pci_regs.h"
#include "testdev_regs.h"
#include "util.h"

#define DEFAULT_URI     "sim:edu"
#define WAIT_MS         1000          /* any single wait on the device */
#define TIME_BOX_NS     1000000000ull /* a measurement loop stops after this */
#define EDU_ROUND_TRIPS 256u
#define TD_DMA_BYTES    (1u << 20)
#define TD_DMA_RUNS     16u
#define IRQ_ROUNDS      1000u
#define LIVENESS_PROBE  0x12345678u
#define RESET_PROBE     0xdeadbeefu
#define BAR_PROBE       UINT64_C(0x0123456789abcdef)
#define MAP_PROBE_OFF   0x100u

static const char demo_help[] =
	"Usage: upci demo [URI]\n"
	"\n"
	"Walk the whole feature list on a device and print one line per step:\n"
	"open, claim (and that a second handle gets EBUSY), identity, config header,\n"
	"capabilities, BARs, a read through a mapped BAR, MMIO, factorial (edu), a\n"
	"verified DMA round trip with its throughput, interrupt latency (p50/p99\n"
	"over 1000 interrupts), a masked interrupt staying pending until unmasked,\n"
	"reset, release and close.\n"
	"\n"
	"The device is recognised by identity: edu (1234:11e8) and testdev\n"
	"(1af4:10f0) get every step; on any other device the generic steps run\n"
	"and the device-specific ones are marked [skip] with the reason.\n"
	"\n"
	"  URI   default sim:edu (see 'upci --help' for the URI forms)\n"
	"\n"
	"Exit status 0 only when no step failed; failing steps are marked [FAIL]\n"
	"with the reason, and one summary line goes to stderr.\n"
	"\n"
	"Examples:\n"
	"  upci demo\n"
	"  upci demo 'sim:testdev?vectors=64'\n"
	"  upci demo vfio:0000:03:00.0\n";

enum st { ST_OK, ST_FAIL, ST_SKIP };

struct demo {
	const char *uri;
	upci_dev *dev;
	struct upci_identity id;
	enum dev_kind kind;
	uint8_t cfg[PCIE_CFG_SIZE];
	struct cfg_snapshot snap;
	int stop;                  /* a step failed that the rest depend on */
	int open_code;             /* the exit code of a failed open (util.h's rule), 0 otherwise */
	unsigned nvec;             /* vectors enabled by the irq step, 0 if none */
	enum upci_irq_type irq_type;
	unsigned passed, failed, skipped;
	char failed_names[128];
	char last_fail[512];        /* the reason, when only one step failed */
};

typedef enum st (*step_fn)(struct demo *d, char *msg, size_t len);

static enum st say(enum st s, char *msg, size_t len, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Write the step's line text and return its verdict. */
static enum st say(enum st s, char *msg, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, len, fmt, ap);
	va_end(ap);
	return s;
}

static const char *id_str(const struct demo *d, char *buf, size_t len)
{
	snprintf(buf, len, "%04x:%04x", d->id.vendor_id, d->id.device_id);
	return buf;
}

/* ---- device helpers ---- */

static int rd32(struct demo *d, unsigned bar, uint64_t off, uint32_t *v)
{
	uint64_t x = 0;
	int rc = upci_mmio_read(d->dev, bar, off, 4, &x);

	*v = (uint32_t)x;
	return rc;
}

static int wr32(struct demo *d, unsigned bar, uint64_t off, uint32_t v)
{
	return upci_mmio_write(d->dev, bar, off, 4, v);
}

/* Make vector @vec fire (edu has only vector 0). */
static int fire(struct demo *d, unsigned vec)
{
	if (d->kind == DEV_EDU)
		return wr32(d, EDU_BAR, EDU_REG_IRQ_RAISE, EDU_IRQ_FACT);
	return wr32(d, TESTDEV_BAR_REGS, TESTDEV_REG_DOORBELL, vec);
}

/* After taking edu's interrupt: lower it so the next raise is new. */
static int ack(struct demo *d)
{
	if (d->kind == DEV_EDU)
		return wr32(d, EDU_BAR, EDU_REG_IRQ_ACK, EDU_IRQ_FACT);
	return 0;
}

static int bit_set(const uint64_t *words, unsigned v)
{
	return (words[v / 64] >> (v % 64)) & 1u;
}

/* Wait until (reg & mask) == want, polling; 0 or -ETIMEDOUT. */
static int poll_reg(struct demo *d, unsigned bar, uint64_t off, unsigned width, uint64_t mask, uint64_t want,
		    uint64_t *seen)
{
	uint64_t end = now_ns() + WAIT_MS * 1000000ull;
	const struct timespec nap = {0, 50000};

	for (unsigned n = 0;; n++) {
		int rc = upci_mmio_read(d->dev, bar, off, width, seen);

		if (rc)
			return rc;
		if ((*seen & mask) == want)
			return 0;
		if (now_ns() > end)
			return -ETIMEDOUT;
		/* Spin briefly (the sim models finish at once), then stop
		 * hammering a slow device such as QEMU's edu (~100 ms a DMA). */
		if (n > 1000)
			nanosleep(&nap, NULL);
	}
}

static int set_command_bits(struct demo *d, uint16_t bits)
{
	uint32_t cmd;
	int rc = upci_config_read(d->dev, PCI_COMMAND, 2, &cmd);

	return rc ? rc : upci_config_write(d->dev, PCI_COMMAND, 2, cmd | bits);
}

/* Deterministic per-run pattern so a stale buffer cannot pass. */
static void fill_pattern(uint8_t *p, size_t n, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1u;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

static long first_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return (long)i;
	return -1;
}

/* ---- steps ---- */

static enum st step_open(struct demo *d, char *msg, size_t len)
{
	char why[256] = "";
	int rc = upci_uri_check(d->uri, why, sizeof(why));

	d->stop = 1;
	if (rc) {
		d->open_code = rc == -EINVAL ? EXIT_USAGE : rc == -ENOENT || rc == -ENOTSUP ? EXIT_NOTFOUND : EXIT_FAIL;
		return say(ST_FAIL, msg, len, "%s", why[0] ? why : upci_strerror(rc));
	}
	rc = upci_open(&d->dev, d->uri);
	if (rc)
		return say(ST_FAIL, msg, len, "%s", open_failure(d->uri, rc, why, sizeof(why), &d->open_code));
	d->stop = 0;
	return say(ST_OK, msg, len, "%s", upci_uri(d->dev));
}

static enum st step_claim(struct demo *d, char *msg, size_t len)
{
	upci_dev *other = NULL;
	int rc = upci_claim(d->dev);

	if (rc) {
		d->stop = 1;
		return say(ST_FAIL, msg, len, "upci_claim: %s", upci_strerror(rc));
	}
	/* Exclusive: a second handle on the same device must be refused. */
	rc = upci_open(&other, d->uri);
	if (rc)
		return say(ST_OK, msg, len, "claimed (second handle could not open: %s; exclusivity not checked)",
			   upci_strerror(rc));
	rc = upci_claim(other);
	upci_close(other);
	if (rc != -EBUSY)
		return say(ST_FAIL, msg, len, "a second handle's claim returned %d (%s), expected -EBUSY", rc,
			   upci_strerror(rc));
	return say(ST_OK, msg, len, "claimed; a second handle's claim fails with -EBUSY (%s)", upci_strerror(rc));
}

static enum st step_identity(struct demo *d, char *msg, size_t len)
{
	struct upci_identity *id = &d->id;
	int rc = upci_identity(d->dev, id);

	if (rc) {
		d->stop = 1;
		return say(ST_FAIL, msg, len, "upci_identity: %s", upci_strerror(rc));
	}
	d->kind = dev_kind_of(id);
	return say(ST_OK, msg, len, "%04x:%04x rev %02x class %06x at %04x:%02x:%02x.%x (%s %s)", id->vendor_id,
		   id->device_id, id->revision, id->class_code, id->domain, id->bus, id->device, id->function,
		   id->backend, id->name[0] ? id->name : "-");
}

static enum st step_config(struct demo *d, char *msg, size_t len)
{
	char cmd[128], sts[128], ht[64];
	uint16_t vid, did;
	int rc;

	if (d->id.config_size != PCI_CFG_SIZE && d->id.config_size != PCIE_CFG_SIZE)
		return say(ST_FAIL, msg, len, "config space size %u, expected 256 or 4096", d->id.config_size);
	rc = upci_config_read_block(d->dev, 0, d->cfg, d->id.config_size);
	if (rc)
		return say(ST_FAIL, msg, len, "upci_config_read_block(0, %u): %s", d->id.config_size,
			   upci_strerror(rc));
	d->snap.data = d->cfg;
	d->snap.size = d->id.config_size;
	vid = cfg_get16(&d->snap, PCI_VENDOR_ID);
	did = cfg_get16(&d->snap, PCI_DEVICE_ID);
	if (vid != d->id.vendor_id || did != d->id.device_id)
		return say(ST_FAIL, msg, len, "config says %04x:%04x, identity says %04x:%04x", vid, did,
			   d->id.vendor_id, d->id.device_id);
	fmt_command(cfg_get16(&d->snap, PCI_COMMAND), 0, cmd, sizeof(cmd));
	fmt_status(cfg_get16(&d->snap, PCI_STATUS), 0, sts, sizeof(sts));
	return say(ST_OK, msg, len, "%u bytes in one read; command 0x%04x [%s] status 0x%04x [%s] header type %s",
		   d->id.config_size, cfg_get16(&d->snap, PCI_COMMAND), cmd[0] ? cmd : "-",
		   cfg_get16(&d->snap, PCI_STATUS), sts[0] ? sts : "-",
		   fmt_header_type(cfg_get8(&d->snap, PCI_HEADER_TYPE), ht, sizeof(ht)));
}

static enum st step_caps(struct demo *d, char *msg, size_t len)
{
	struct cap_entry caps[CAPS_MAX];
	char list[256], facts[160] = "";
	struct msix_decode x;
	struct msi_decode m;
	struct pcie_decode e;
	size_t n = 0;

	if (!d->snap.data)
		return say(ST_SKIP, msg, len, "no config snapshot");
	fmt_caps_list(&d->snap, list, sizeof(list));
	if ((cfg_get16(&d->snap, PCI_STATUS) & PCI_STATUS_CAP_LIST) && caps_walk(&d->snap, caps, CAPS_MAX, &n) < 0)
		return say(ST_FAIL, msg, len, "capability list is malformed: %s", list);
	if (msix_decode(&d->snap, &x) == 0)
		snprintf(facts + strlen(facts), sizeof(facts) - strlen(facts), "; MSI-X %u vectors, table BAR%u+0x%x",
			 x.table_size, x.table_bar, x.table_offset);
	if (msi_decode(&d->snap, &m) == 0)
		snprintf(facts + strlen(facts), sizeof(facts) - strlen(facts), "; MSI %u vector%s%s", m.vectors_capable,
			 m.vectors_capable == 1 ? "" : "s", m.is_64 ? ", 64-bit" : "");
	if (pcie_decode(&d->snap, &e) == 0)
		snprintf(facts + strlen(facts), sizeof(facts) - strlen(facts), "; PCIe v%u FLR%s", e.version,
			 e.flr ? "+" : "-");
	return say(ST_OK, msg, len, "%s%s", list, facts);
}

static enum st step_bars(struct demo *d, char *msg, size_t len)
{
	char out[256] = "", one[64];
	unsigned present = 0;

	for (unsigned b = 0; b < UPCI_NUM_BARS; b++) {
		struct upci_bar_info bi;
		int rc = upci_bar_info(d->dev, b, &bi);

		if (rc)
			return say(ST_FAIL, msg, len, "upci_bar_info(%u): %s", b, upci_strerror(rc));
		if (!(bi.flags & UPCI_BAR_PRESENT))
			continue;
		if (bi.size == 0 || (bi.size & (bi.size - 1)))
			return say(ST_FAIL, msg, len, "BAR%u size 0x%" PRIx64 " is not a power of two", b, bi.size);
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%sBAR%u %s", present ? ", " : "", b,
			 fmt_bar(&bi, one, sizeof(one)));
		present++;
	}
	return say(ST_OK, msg, len, "%s", present ? out : "no BARs");
}

/* testdev BAR2 is RAM: what goes in through the mapping comes out of
 * upci_mmio_read, and the other way round. */
static enum st map_check_testdev(struct demo *d, unsigned b, volatile uint8_t *p, char *msg, size_t len)
{
	volatile uint64_t *w = (volatile uint64_t *)(p + MAP_PROBE_OFF);
	uint64_t v;
	int rc;

	w[0] = BAR_PROBE;
	rc = upci_mmio_read(d->dev, b, MAP_PROBE_OFF, 8, &v);
	if (rc || v != BAR_PROBE)
		return say(ST_FAIL, msg, len, "wrote 0x%016" PRIx64 " through the mapping, upci_mmio_read: %s, 0x%016" PRIx64,
			   BAR_PROBE, upci_strerror(rc), v);
	rc = upci_mmio_write(d->dev, b, MAP_PROBE_OFF + 8, 8, ~BAR_PROBE);
	if (rc || w[1] != ~BAR_PROBE)
		return say(ST_FAIL, msg, len, "upci_mmio_write(~0x%016" PRIx64 "): %s; mapping shows 0x%016" PRIx64,
			   BAR_PROBE, upci_strerror(rc), w[1]);
	return ST_OK;
}

static enum st step_bar_map(struct demo *d, char *msg, size_t len)
{
	struct upci_bar_info bi = {0};
	char size[32], extra[96] = "";
	unsigned b;
	void *addr;
	uint64_t maplen;
	enum st s = ST_OK;
	int rc;

	for (b = 0; b < UPCI_NUM_BARS; b++)
		if (upci_bar_info(d->dev, b, &bi) == 0 && (bi.flags & UPCI_BAR_MAPPABLE))
			break;
	if (b == UPCI_NUM_BARS)
		return say(ST_SKIP, msg, len, "no mappable BAR (MMIO goes through upci_mmio_read/write)");
	rc = upci_bar_map(d->dev, b, &addr, &maplen);
	if (rc)
		return say(ST_FAIL, msg, len, "upci_bar_map(%u): %s", b, upci_strerror(rc));
	if (maplen != bi.size) {
		s = say(ST_FAIL, msg, len, "BAR%u mapped %" PRIu64 " bytes, its size is %" PRIu64, b, maplen, bi.size);
	} else if (d->kind == DEV_EDU && b == EDU_BAR) {
		uint32_t v = *(volatile uint32_t *)((volatile uint8_t *)addr + EDU_REG_ID);

		if (v != EDU_ID_VALUE)
			s = say(ST_FAIL, msg, len, "ID register through the mapping: 0x%08x, expected 0x%08x", v,
				EDU_ID_VALUE);
		else
			snprintf(extra, sizeof(extra), ": ID 0x%08x read through the mapping", v);
	} else if (d->kind == DEV_TESTDEV && b == TESTDEV_BAR_MEM) {
		s = map_check_testdev(d, b, addr, msg, len);
		snprintf(extra, sizeof(extra), ": 64-bit store via mapping seen by upci_mmio_read, and back");
	} else {
		uint32_t v = *(volatile uint32_t *)addr;

		snprintf(extra, sizeof(extra), ": first dword 0x%08x (unknown device: not checked)", v);
	}
	rc = upci_bar_unmap(d->dev, b);
	if (s == ST_OK && rc)
		s = say(ST_FAIL, msg, len, "upci_bar_unmap(%u): %s", b, upci_strerror(rc));
	if (s != ST_OK)
		return s;
	return say(ST_OK, msg, len, "BAR%u %s mapped%s%s", b, fmt_size(maplen, size, sizeof(size)),
		   (bi.flags & UPCI_BAR_PREFETCH) ? " (prefetchable)" : "", extra);
}

static enum st step_mmio(struct demo *d, char *msg, size_t len)
{
	uint32_t id = 0, v = 0, nvec = 0, ver = 0;
	char ids[16];
	int rc;

	if (d->kind == DEV_EDU) {
		rc = rd32(d, EDU_BAR, EDU_REG_ID, &id);
		if (rc || id != EDU_ID_VALUE)
			return say(ST_FAIL, msg, len, "ID: %s, read 0x%08x, expected 0x%08x", upci_strerror(rc), id,
				   EDU_ID_VALUE);
		rc = wr32(d, EDU_BAR, EDU_REG_LIVENESS, LIVENESS_PROBE);
		if (!rc)
			rc = rd32(d, EDU_BAR, EDU_REG_LIVENESS, &v);
		if (rc || v != (uint32_t)~LIVENESS_PROBE)
			return say(ST_FAIL, msg, len, "liveness: wrote 0x%08x: %s, read 0x%08x, expected 0x%08x",
				   LIVENESS_PROBE, upci_strerror(rc), v, ~LIVENESS_PROBE);
		return say(ST_OK, msg, len, "ID 0x%08x; liveness wrote 0x%08x, read 0x%08x (~v)", id, LIVENESS_PROBE,
			   v);
	}
	if (d->kind == DEV_TESTDEV) {
		rc = rd32(d, TESTDEV_BAR_REGS, TESTDEV_REG_ID, &id);
		if (rc || id != TESTDEV_ID_VALUE)
			return say(ST_FAIL, msg, len, "ID: %s, read 0x%08x, expected 0x%08x", upci_strerror(rc), id,
				   TESTDEV_ID_VALUE);
		rc = rd32(d, TESTDEV_BAR_REGS, TESTDEV_REG_VERSION, &ver);
		if (!rc)
			rc = rd32(d, TESTDEV_BAR_REGS, TESTDEV_REG_NVEC, &nvec);
		if (!rc)
			rc = wr32(d, TESTDEV_BAR_REGS, TESTDEV_REG_SCRATCH, ~LIVENESS_PROBE);
		if (!rc)
			rc = rd32(d, TESTDEV_BAR_REGS, TESTDEV_REG_SCRATCH, &v);
		if (rc || v != (uint32_t)~LIVENESS_PROBE)
			return say(ST_FAIL, msg, len, "scratch: wrote 0x%08x: %s, read 0x%08x", ~LIVENESS_PROBE,
				   upci_strerror(rc), v);
		return say(ST_OK, msg, len, "ID 0x%08x (TDEV) version %u.%u, %u vectors; scratch wrote and read 0x%08x",
			   id, ver >> 16, ver & 0xffffu, nvec, v);
	}
	return say(ST_SKIP, msg, len, "no register map known for %s", id_str(d, ids, sizeof(ids)));
}

static enum st step_factorial(struct demo *d, char *msg, size_t len)
{
	static const uint32_t n = 10, expect = 3628800u;
	uint64_t seen;
	uint32_t v = 0;
	char ids[16];
	int rc;

	if (d->kind != DEV_EDU)
		return say(ST_SKIP, msg, len, "edu only; this is %s", id_str(d, ids, sizeof(ids)));
	rc = wr32(d, EDU_BAR, EDU_REG_FACTORIAL, n);
	/* QEMU's edu computes in a thread: wait for "computing" to clear. */
	if (!rc)
		rc = poll_reg(d, EDU_BAR, EDU_REG_STATUS, 4, EDU_STATUS_COMPUTING, 0, &seen);
	if (!rc)
		rc = rd32(d, EDU_BAR, EDU_REG_FACTORIAL, &v);
	if (rc || v != expect)
		return say(ST_FAIL, msg, len, "%u!: %s, read %u, expected %u", n, upci_strerror(rc), v, expect);
	return say(ST_OK, msg, len, "%u! = %u, verified", n, v);
}

/* One edu transfer, waited for. */
static int edu_dma(struct demo *d, uint64_t src, uint64_t dst, uint64_t cmd)
{
	uint64_t seen;
	int rc = upci_mmio_write(d->dev, EDU_BAR, EDU_REG_DMA_SRC, 8, src);

	if (!rc)
		rc = upci_mmio_write(d->dev, EDU_BAR, EDU_REG_DMA_DST, 8, dst);
	if (!rc)
		rc = upci_mmio_write(d->dev, EDU_BAR, EDU_REG_DMA_COUNT, 8, EDU_DMA_SIZE);
	if (!rc)
		rc = upci_mmio_write(d->dev, EDU_BAR, EDU_REG_DMA_CMD, 8, cmd | EDU_DMA_CMD_START);
	if (!rc)
		rc = poll_reg(d, EDU_BAR, EDU_REG_DMA_CMD, 8, EDU_DMA_CMD_START, 0, &seen);
	return rc;
}

static enum st dma_edu(struct demo *d, struct upci_dma_buf *buf, char *msg, size_t len)
{
	uint8_t *a = buf->vaddr, *b = a + EDU_DMA_SIZE;
	uint64_t ns = 0, t0, start = now_ns();
	uint32_t faults = 0;
	unsigned i;
	long diff;
	int rc;

	if (buf->bus_addr > EDU_DMA_MASK || 2 * EDU_DMA_SIZE - 1 > EDU_DMA_MASK - buf->bus_addr)
		return say(ST_FAIL, msg, len, "buffer bus address 0x%" PRIx64 " is beyond edu's 28-bit DMA mask",
			   buf->bus_addr);
	/* Time-boxed: QEMU's own edu takes ~100 ms per transfer. */
	for (i = 0; i < EDU_ROUND_TRIPS && (i == 0 || now_ns() - start < TIME_BOX_NS); i++) {
		fill_pattern(a, EDU_DMA_SIZE, i);
		memset(b, 0, EDU_DMA_SIZE);
		t0 = now_ns();
		rc = edu_dma(d, buf->bus_addr, EDU_DMA_START, 0);
		if (!rc)
			rc = edu_dma(d, EDU_DMA_START, buf->bus_addr + EDU_DMA_SIZE, EDU_DMA_CMD_TO_RAM);
		ns += now_ns() - t0;
		if (rc)
			return say(ST_FAIL, msg, len, "transfer %u: %s", i, upci_strerror(rc));
		diff = first_diff(a, b, EDU_DMA_SIZE);
		if (diff >= 0)
			return say(ST_FAIL, msg, len, "round trip %u: byte %ld is 0x%02x, expected 0x%02x", i, diff, b[diff],
				   a[diff]);
	}
	/* upci extension: QEMU's edu reads all ones there. */
	if (rd32(d, EDU_BAR, EDU_REG_DMA_FAULTS, &faults) == 0 && faults != 0 && faults != UINT32_MAX)
		return say(ST_FAIL, msg, len, "the device counted %u rejected DMA requests", faults);
	return say(ST_OK, msg, len, "%u x 4 KiB RAM->EDU->RAM at bus 0x%" PRIx64 ", %u KiB moved, verified, %.1f MB/s",
		   i, buf->bus_addr, i * 2 * EDU_DMA_SIZE / 1024, ns ? (double)i * 2 * EDU_DMA_SIZE * 1000.0 / (double)ns : 0.0);
}

static enum st dma_testdev(struct demo *d, struct upci_dma_buf *src, struct upci_dma_buf *dst,
			   struct upci_dma_buf *dl, char *msg, size_t len)
{
	volatile struct testdev_desc *desc = dl->vaddr;
	uint64_t ns = 0, t0, seen, start = now_ns();
	unsigned i;
	long diff;
	int rc;

	for (i = 0; i < TD_DMA_RUNS && (i == 0 || now_ns() - start < TIME_BOX_NS); i++) {
		fill_pattern(src->vaddr, TD_DMA_BYTES, i);
		memset(dst->vaddr, 0, TD_DMA_BYTES);
		desc->src = src->bus_addr;
		desc->dst = dst->bus_addr;
		desc->len = TD_DMA_BYTES;
		desc->flags = 0;
		desc->status = 0;
		rc = upci_mmio_write(d->dev, TESTDEV_BAR_REGS, TESTDEV_REG_DESC_ADDR, 8, dl->bus_addr);
		if (!rc)
			rc = wr32(d, TESTDEV_BAR_REGS, TESTDEV_REG_DESC_COUNT, 1);
		t0 = now_ns();
		if (!rc)
			rc = wr32(d, TESTDEV_BAR_REGS, TESTDEV_REG_CTRL, TESTDEV_CTRL_START);
		if (!rc)
			rc = poll_reg(d, TESTDEV_BAR_REGS, TESTDEV_REG_STATUS, 4, TESTDEV_STATUS_DONE, TESTDEV_STATUS_DONE,
				      &seen);
		ns += now_ns() - t0;
		if (rc)
			return say(ST_FAIL, msg, len, "run %u: %s", i, upci_strerror(rc));
		if (seen & TESTDEV_STATUS_ERROR) {
			uint32_t fault = 0;

			(void)rd32(d, TESTDEV_BAR_REGS, TESTDEV_REG_LAST_FAULT, &fault);
			return say(ST_FAIL, msg, len, "run %u: device reports fault %u, descriptor status 0x%08x", i, fault,
				   desc->status);
		}
		if (!(desc->status & TESTDEV_DESC_ST_DONE))
			return say(ST_FAIL, msg, len, "run %u: descriptor status 0x%08x, expected DONE", i, desc->status);
		diff = first_diff(src->vaddr, dst->vaddr, TD_DMA_BYTES);
		if (diff >= 0)
			return say(ST_FAIL, msg, len, "run %u: byte %ld differs after the copy", i, diff);
	}
	return say(ST_OK, msg, len, "%u x 1 MiB descriptor memcpy RAM->RAM, verified, %.1f MB/s", i,
		   ns ? (double)i * TD_DMA_BYTES * 1000.0 / (double)ns : 0.0);
}

static enum st step_dma(struct demo *d, char *msg, size_t len)
{
	struct upci_dma_buf bufs[3];
	unsigned nbufs = d->kind == DEV_EDU ? 1 : 3;
	uint64_t sizes[3] = {TD_DMA_BYTES, TD_DMA_BYTES, TESTDEV_DESC_SIZE};
	char ids[16];
	enum st s;
	int rc;

	if (d->kind == DEV_OTHER)
		return say(ST_SKIP, msg, len, "no DMA engine known for %s", id_str(d, ids, sizeof(ids)));
	if (d->kind == DEV_EDU)
		sizes[0] = 2 * EDU_DMA_SIZE; /* source area, then destination area */
	rc = set_command_bits(d, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	if (rc)
		return say(ST_FAIL, msg, len, "setting bus master in COMMAND: %s", upci_strerror(rc));
	memset(bufs, 0, sizeof(bufs));
	for (unsigned i = 0; i < nbufs; i++) {
		rc = upci_dma_alloc(d->dev, UPCI_IOVA_ANY, sizes[i], &bufs[i]);
		if (rc) {
			s = say(ST_FAIL, msg, len, "upci_dma_alloc(%" PRIu64 "): %s", sizes[i], upci_strerror(rc));
			while (i--)
				upci_dma_free(d->dev, &bufs[i]);
			return s;
		}
	}
	if (d->kind == DEV_EDU)
		s = dma_edu(d, &bufs[0], msg, len);
	else
		s = dma_testdev(d, &bufs[0], &bufs[1], &bufs[2], msg, len);
	for (unsigned i = 0; i < nbufs; i++) {
		rc = upci_dma_free(d->dev, &bufs[i]);
		if (rc && s == ST_OK)
			s = say(ST_FAIL, msg, len, "upci_dma_free: %s", upci_strerror(rc));
	}
	return s;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Fire @vec and wait for exactly it; 0, or a negative errno / -EPROTO. */
static int fire_and_wait(struct demo *d, unsigned vec, uint64_t pending[UPCI_IRQ_WORDS])
{
	int rc = fire(d, vec);

	if (!rc)
		rc = upci_irq_wait(d->dev, WAIT_MS, pending);
	if (rc < 0)
		return rc;
	if (rc != 1 || !bit_set(pending, vec))
		return -EPROTO;
	return ack(d);
}

static enum st step_irq(struct demo *d, char *msg, size_t len)
{
	uint64_t pending[UPCI_IRQ_WORDS], lat[IRQ_ROUNDS], start;
	unsigned i;
	char ids[16];
	int rc = upci_irq_enable(d->dev, UPCI_IRQ_AUTO, 0);

	if (rc < 0)
		return say(ST_FAIL, msg, len, "upci_irq_enable(AUTO): %s", upci_strerror(rc));
	d->nvec = (unsigned)rc;
	(void)upci_irq_info(d->dev, &d->irq_type, NULL);
	if (d->kind == DEV_OTHER)
		return say(ST_SKIP, msg, len, "%s, %u vector%s enabled; no way known to make %s fire",
			   irq_type_name(d->irq_type), d->nvec, d->nvec == 1 ? "" : "s", id_str(d, ids, sizeof(ids)));
	(void)upci_irq_take_pending(d->dev, pending); /* start clean */
	start = now_ns();
	for (i = 0; i < IRQ_ROUNDS && (i == 0 || now_ns() - start < TIME_BOX_NS); i++) {
		unsigned vec = i % d->nvec;
		uint64_t t0 = now_ns();

		rc = fire_and_wait(d, vec, pending);
		lat[i] = now_ns() - t0;
		if (rc == -EPROTO)
			return say(ST_FAIL, msg, len, "round %u: fired vector %u, upci_irq_wait returned other vectors "
				   "(word0 0x%016" PRIx64 ")", i, vec, pending[0]);
		if (rc)
			return say(ST_FAIL, msg, len, "round %u: fired vector %u: %s", i, vec, upci_strerror(rc));
	}
	qsort(lat, i, sizeof(lat[0]), cmp_u64);
	return say(ST_OK, msg, len, "%s, %u vector%s; %u x %s -> upci_irq_wait: p50 %.1f us, p99 %.1f us",
		   irq_type_name(d->irq_type), d->nvec, d->nvec == 1 ? "" : "s", i,
		   d->kind == DEV_EDU ? "IRQ_RAISE" : "doorbell (all vectors in turn)", (double)lat[i / 2] / 1000.0,
		   (double)lat[i * 99 / 100] / 1000.0);
}

/* Enable every vector, or every vector but @v. */
static void set_mask(struct demo *d, int all, unsigned v)
{
	uint64_t m[UPCI_IRQ_WORDS];

	for (unsigned w = 0; w < UPCI_IRQ_WORDS; w++)
		m[w] = UINT64_MAX;
	if (!all)
		m[v / 64] &= ~(UINT64_C(1) << (v % 64));
	(void)upci_irq_set_mask(d->dev, m);
}

/* Peek until vector @v is latched or WAIT_MS passes; returns the last peek. */
static int wait_latched(struct demo *d, unsigned v, uint64_t p[UPCI_IRQ_WORDS])
{
	uint64_t end = now_ns() + WAIT_MS * 1000000ull;
	const struct timespec nap = {0, 100000};
	int rc;

	while ((rc = upci_irq_peek_pending(d->dev, p)) >= 0 && !bit_set(p, v) && now_ns() < end)
		nanosleep(&nap, NULL);
	return rc;
}

static enum st irq_mask_check(struct demo *d, unsigned v, char *msg, size_t len)
{
	uint64_t p[UPCI_IRQ_WORDS];
	struct pollfd pfd = {.fd = upci_irq_fd(d->dev), .events = POLLIN};
	int rc;

	set_mask(d, 0, v);
	rc = fire(d, v);
	if (rc)
		return say(ST_FAIL, msg, len, "firing vector %u: %s", v, upci_strerror(rc));
	/* On real hardware the message lands a little later: wait for the latch. */
	rc = wait_latched(d, v, p);
	if (rc < 1 || !bit_set(p, v))
		return say(ST_FAIL, msg, len, "masked vector %u not latched within %d ms: upci_irq_peek_pending returned %d",
			   v, WAIT_MS, rc);
	rc = upci_irq_take_pending(d->dev, p);
	if (rc != 0)
		return say(ST_FAIL, msg, len, "masked vector %u: upci_irq_take_pending returned %d, expected 0", v, rc);
	rc = upci_irq_peek_pending(d->dev, p);
	if (rc < 1 || !bit_set(p, v))
		return say(ST_FAIL, msg, len, "masked vector %u lost by upci_irq_take_pending (peek returned %d)", v, rc);
	rc = poll(&pfd, 1, 0);
	if (rc != 0)
		return say(ST_FAIL, msg, len, "irq fd is %s while vector %u is masked",
			   rc > 0 ? "readable" : "not pollable", v);
	set_mask(d, 1, 0);
	rc = poll(&pfd, 1, WAIT_MS);
	if (rc != 1)
		return say(ST_FAIL, msg, len, "unmasked vector %u: irq fd not readable within %d ms", v, WAIT_MS);
	rc = upci_irq_wait(d->dev, WAIT_MS, p);
	if (rc < 1 || !bit_set(p, v))
		return say(ST_FAIL, msg, len, "unmasked vector %u: upci_irq_wait: %s", v,
			   rc < 0 ? upci_strerror(rc) : "another vector");
	rc = ack(d);
	if (rc)
		return say(ST_FAIL, msg, len, "ack: %s", upci_strerror(rc));
	return say(ST_OK, msg, len,
		   "vector %u fired while masked: not taken, latched (peek), fd quiet; unmasked: fd readable, delivered",
		   v);
}

static enum st step_irq_mask(struct demo *d, char *msg, size_t len)
{
	uint64_t p[UPCI_IRQ_WORDS];
	unsigned v;
	char ids[16];
	enum st s;

	if (d->kind == DEV_OTHER)
		return say(ST_SKIP, msg, len, "no way known to make %s fire", id_str(d, ids, sizeof(ids)));
	if (!d->nvec)
		return say(ST_SKIP, msg, len, "interrupts are not enabled (irq step failed)");
	if (upci_irq_fd(d->dev) < 0)
		return say(ST_FAIL, msg, len, "upci_irq_fd: %s", upci_strerror(upci_irq_fd(d->dev)));
	/* A vector other than 0 where there is one: masks are per vector. */
	v = d->nvec > 5 ? 5 : d->nvec - 1;
	(void)upci_irq_take_pending(d->dev, p); /* drain, so the fd starts quiet */
	s = irq_mask_check(d, v, msg, len);
	set_mask(d, 1, 0);
	return s;
}

/* A register set away from its default must come back; bus mastering
 * must be off; the interrupt set-up must survive (the API promises all three). */
static enum st step_reset(struct demo *d, char *msg, size_t len)
{
	uint64_t p[UPCI_IRQ_WORDS];
	enum upci_irq_type type = UPCI_IRQ_NONE;
	unsigned bar = 0, nvec = 0;
	uint32_t off = 0, probe = RESET_PROBE, before = 0, after = 0, cmd = 0;
	const char *reg = NULL, *master;
	char irq[96] = "";
	int rc, want_master;

	if (d->kind == DEV_EDU) {
		bar = EDU_BAR, off = EDU_REG_LIVENESS, reg = "liveness";
	} else if (d->kind == DEV_TESTDEV) {
		bar = TESTDEV_BAR_REGS, off = TESTDEV_REG_SCRATCH, reg = "scratch";
	}
	if (reg) {
		rc = wr32(d, bar, off, probe);
		if (!rc)
			rc = rd32(d, bar, off, &before);
		if (rc)
			return say(ST_FAIL, msg, len, "setting %s before the reset: %s", reg, upci_strerror(rc));
	}
	rc = upci_reset(d->dev);
	if (rc == -ENOTSUP && d->kind == DEV_OTHER)
		return say(ST_SKIP, msg, len, "upci_reset: %s", upci_strerror(rc));
	if (rc)
		return say(ST_FAIL, msg, len, "upci_reset: %s", upci_strerror(rc));
	if (reg) {
		rc = rd32(d, bar, off, &after);
		if (rc || after != 0)
			return say(ST_FAIL, msg, len, "%s after reset: %s, read 0x%08x, expected default 0x00000000", reg,
				   upci_strerror(rc), after);
	}
	/* Off after a reset, unless the library re-established MSI/MSI-X,
	 * which needs it (upci_reset() and upci_irq_enable() say so). */
	(void)upci_irq_info(d->dev, &type, &nvec);
	want_master = type == UPCI_IRQ_MSI || type == UPCI_IRQ_MSIX;
	rc = upci_config_read(d->dev, PCI_COMMAND, 2, &cmd);
	if (rc || !(cmd & PCI_COMMAND_MASTER) != !want_master)
		return say(ST_FAIL, msg, len, "COMMAND after reset: %s, 0x%04x, expected bus master %s",
			   upci_strerror(rc), cmd, want_master ? "on (MSI/MSI-X set-up restored)" : "off");
	if (d->nvec && (type != d->irq_type || nvec != d->nvec))
		return say(ST_FAIL, msg, len, "interrupt set-up after reset: %s %u, expected %s %u",
			   irq_type_name(type), nvec, irq_type_name(d->irq_type), d->nvec);
	if (d->nvec && d->kind != DEV_OTHER) {
		rc = fire_and_wait(d, d->nvec - 1, p);
		if (rc)
			return say(ST_FAIL, msg, len, "vector %u after reset: %s", d->nvec - 1,
				   rc == -EPROTO ? "other vectors arrived" : upci_strerror(rc));
		snprintf(irq, sizeof(irq), "; %s x%u set-up kept, vector %u delivered", irq_type_name(type), nvec,
			 d->nvec - 1);
	}
	master = want_master ? (type == UPCI_IRQ_MSIX ? "bus master back on for MSI-X" : "bus master back on for MSI")
			     : "bus master off";
	if (reg)
		return say(ST_OK, msg, len, "%s read 0x%08x before, 0x%08x (default) after; %s%s", reg, before, after,
			   master, irq);
	return say(ST_OK, msg, len, "done, %s%s", master, irq);
}

static enum st step_release(struct demo *d, char *msg, size_t len)
{
	enum upci_irq_type type = UPCI_IRQ_NONE;
	uint64_t v;
	int rc = upci_release(d->dev);

	if (rc)
		return say(ST_FAIL, msg, len, "upci_release: %s", upci_strerror(rc));
	(void)upci_irq_info(d->dev, &type, NULL);
	if (type != UPCI_IRQ_NONE)
		return say(ST_FAIL, msg, len, "interrupts still %s after release", irq_type_name(type));
	/* The core refuses before the device is touched: safe on any device. */
	for (unsigned b = 0; b < UPCI_NUM_BARS; b++) {
		struct upci_bar_info bi;

		if (upci_bar_info(d->dev, b, &bi) != 0 || !(bi.flags & UPCI_BAR_PRESENT) || bi.size < 4)
			continue;
		rc = upci_mmio_read(d->dev, b, 0, 4, &v);
		if (rc != -EPERM)
			return say(ST_FAIL, msg, len, "MMIO on BAR%u after release returned %d (%s), expected -EPERM", b, rc,
				   upci_strerror(rc));
		return say(ST_OK, msg, len, "claim dropped, interrupts off; MMIO now fails with -EPERM (not claimed)");
	}
	return say(ST_OK, msg, len, "claim dropped, interrupts off");
}

static enum st step_close(struct demo *d, char *msg, size_t len)
{
	upci_close(d->dev);
	d->dev = NULL;
	return say(ST_OK, msg, len, "handle freed");
}

/* ---- runner ---- */

struct step {
	const char *name;
	step_fn fn;
	unsigned kinds; /* bit per enum dev_kind the step is shown for */
};

#define ALL_KINDS ((1u << DEV_OTHER) | (1u << DEV_EDU) | (1u << DEV_TESTDEV))

static const struct step steps[] = {
	{"open", step_open, ALL_KINDS},
	{"claim", step_claim, ALL_KINDS},
	{"identity", step_identity, ALL_KINDS},
	{"config", step_config, ALL_KINDS},
	{"capabilities", step_caps, ALL_KINDS},
	{"bars", step_bars, ALL_KINDS},
	{"bar-map", step_bar_map, ALL_KINDS},
	{"mmio", step_mmio, ALL_KINDS},
	/* testdev has no factorial: not part of its feature list */
	{"factorial", step_factorial, (1u << DEV_OTHER) | (1u << DEV_EDU)},
	{"dma", step_dma, ALL_KINDS},
	{"irq", step_irq, ALL_KINDS},
	{"irq-mask", step_irq_mask, ALL_KINDS},
	{"reset", step_reset, ALL_KINDS},
	{"release", step_release, ALL_KINDS},
	{"close", step_close, ALL_KINDS},
};

static void record(struct demo *d, const char *name, enum st s, const char *msg)
{
	static const char *const tags[] = {[ST_OK] = "[ ok ]", [ST_FAIL] = "[FAIL]", [ST_SKIP] = "[skip]"};

	printf("%s %-13s %s\n", tags[s], name, msg);
	fflush(stdout);
	if (s == ST_OK) {
		d->passed++;
	} else if (s == ST_SKIP) {
		d->skipped++;
	} else {
		size_t used = strlen(d->failed_names);

		d->failed++;
		snprintf(d->last_fail, sizeof(d->last_fail), "%s", msg);
		snprintf(d->failed_names + used, sizeof(d->failed_names) - used, "%s%s", used ? ", " : "", name);
	}
}

static int run_demo(struct demo *d)
{
	uint64_t t0 = now_ns();
	char msg[512];

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]) && !d->stop; i++) {
		enum st s;

		/* Until identity is known every step is shown. */
		if (d->id.vendor_id && !(steps[i].kinds & (1u << d->kind)))
			continue;
		msg[0] = '\0';
		s = steps[i].fn(d, msg, sizeof(msg));
		record(d, steps[i].name, s, msg);
	}
	if (d->dev) {
		upci_close(d->dev); /* after a stop: close quietly */
		d->dev = NULL;
	}
	printf("demo: %u passed, %u failed, %u skipped in %.3f s\n", d->passed, d->failed, d->skipped,
	       (double)(now_ns() - t0) / 1e9);
	if (d->failed == 1)
		return op_errorf(d->open_code ? d->open_code : EXIT_FAIL, d->uri, d->failed_names, "%s",
				 d->last_fail);
	if (d->failed)
		return op_errorf(EXIT_FAIL, d->uri, "demo", "%u step%s failed: %s", d->failed, d->failed == 1 ? "" : "s",
				 d->failed_names);
	return EXIT_OK;
}

int cmd_demo(int argc, char **argv)
{
	static const char *const names[] = {"URI"};
	struct demo *d;
	int rc;

	rc = plain_options(argc, argv, demo_help);
	if (rc >= 0)
		return rc;
	rc = check_args(argv[0], argv + optind, argc - optind, 0, 1, names);
	if (rc >= 0)
		return rc;
	d = calloc(1, sizeof(*d));
	if (!d)
		return op_errorf(EXIT_FAIL, "demo", "start", "out of memory");
	d->uri = optind < argc ? argv[optind] : DEFAULT_URI;
	/* A malformed URI is a usage error, reported like every command does. */
	if (upci_uri_check(d->uri, NULL, 0) == -EINVAL) {
		upci_dev *dev = NULL;

		rc = open_device(d->uri, 0, &dev);
		upci_close(dev);
		free(d);
		return rc ? rc : EXIT_FAIL;
	}
	rc = run_demo(d);
	free(d);
	return rc;
}

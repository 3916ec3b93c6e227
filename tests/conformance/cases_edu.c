/* SPDX-License-Identifier: MIT */
/*
 * Cases for the edu device (1234:11e8): our sim model and QEMU's own edu
 * behind VFIO. Expected values come from QEMU's docs/specs/edu.rst and
 * edu_regs.h. What only our model implements (the DMA fault registers, the
 * rejection of hostile DMA set-ups that crash or get clamped by QEMU's edu)
 * is checked on the "sim" backend only.
 */
#define _GNU_SOURCE
#include "conformance.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

#include "cases_dev.h"
#include "edu_regs.h"

#define EDU_IOVA      0x100000u /* an explicit IOVA well under the 28-bit mask */
#define EDU_RT_LEN    3000u     /* < 4096: QEMU 7.2's edu aborts on exactly 4096 */
#define EDU_PAGE_PAIR 8192u     /* source page + destination page */

/* Clear what an earlier user may have left (a VFIO device keeps state). */
static int edu_quiesce(struct conf *c, upci_dev *d)
{
	uint64_t v;

	MMIO_WR(c, d, EDU_BAR, EDU_REG_STATUS, 4, 0);
	MMIO_WR(c, d, EDU_BAR, EDU_REG_IRQ_ACK, 4, UINT32_MAX);
	MMIO_RD(c, d, EDU_BAR, EDU_REG_IRQ_STATUS, 4, v);
	CHECK_EQ(c, "IRQ_STATUS after acking everything", v, 0);
	return 0;
out:
	return -1;
}

int edu_open(struct conf *c, upci_dev **dp)
{
	OPEN_CLAIMED(c, dp);
	return edu_quiesce(c, *dp);
out:
	return -1;
}

/* Wait for vector 0 and nothing else. */
static int edu_wait_vec0(struct conf *c, upci_dev *d, const char *what)
{
	uint64_t pend[UPCI_IRQ_WORDS];
	int n = upci_irq_wait(d, CONF_TIMEOUT_MS, pend);

	CHECK(c, n >= 1, "%s: upci_irq_wait: expected vector 0, got %s", what, conf_rc(n));
	CHECK(c, pend[0] == 1 && pend[1] == 0 && pend[2] == 0 && pend[3] == 0, "%s: expected {0}, got %s", what,
	      conf_bits(pend));
	return 0;
out:
	return -1;
}

/* Program and run one transfer; waits for START to clear. */
static int edu_dma(struct conf *c, upci_dev *d, uint64_t src, uint64_t dst, uint64_t cnt, uint64_t cmd)
{
	uint64_t last = 0;
	int rc;

	MMIO_WR(c, d, EDU_BAR, EDU_REG_DMA_SRC, 8, src);
	MMIO_WR(c, d, EDU_BAR, EDU_REG_DMA_DST, 8, dst);
	MMIO_WR(c, d, EDU_BAR, EDU_REG_DMA_COUNT, 8, cnt);
	MMIO_WR(c, d, EDU_BAR, EDU_REG_DMA_CMD, 8, cmd | EDU_DMA_CMD_START);
	rc = conf_poll_mmio(d, EDU_BAR, EDU_REG_DMA_CMD, 8, EDU_DMA_CMD_START, 0, CONF_TIMEOUT_MS, &last);
	CHECK(c, rc == 0, "DMA 0x%" PRIx64 " -> 0x%" PRIx64 " (%" PRIu64 " bytes, cmd 0x%" PRIx64
	      "): START did not clear (%s, cmd reads 0x%" PRIx64 ")", src, dst, cnt, cmd, conf_rc(rc), last);
	return 0;
out:
	return -1;
}

/* A DMA buffer at EDU_IOVA whose bus address the edu can reach. */
static int edu_dma_buffer(struct conf *c, upci_dev *d, uint64_t size, struct upci_dma_buf *buf)
{
	CHECK_RC(c, upci_dma_alloc(d, EDU_IOVA, size, buf), 0);
	if (buf->bus_addr > EDU_DMA_MASK || buf->size - 1 > EDU_DMA_MASK - buf->bus_addr) {
		conf_skip(c, "bus address 0x%" PRIx64 " is beyond the edu's 28-bit DMA mask", buf->bus_addr);
		return -1;
	}
	return 0;
out:
	return -1;
}

static uint32_t factorial32(uint32_t n)
{
	uint32_t r = 1;

	for (uint32_t i = 2; i <= n; i++)
		r *= i; /* wraps modulo 2^32, as the device's 32-bit register */
	return r;
}

/* ---- identity and registers ---- */

static void edu_identity(struct conf *c)
{
	struct upci_bar_info bi;
	upci_dev *d = NULL;
	uint32_t v;

	OPEN_CFG(c, &d);
	CHECK_EQ(c, "revision", c->id.revision, EDU_REVISION);
	CHECK_EQ(c, "class code", c->id.class_code, EDU_CLASS_CODE);
	CHECK_EQ(c, "subsystem vendor", c->id.subsys_vendor_id, EDU_SUBSYS_VENDOR_ID);
	CHECK_EQ(c, "subsystem ID", c->id.subsys_id, EDU_SUBSYS_ID);
	CHECK_EQ(c, "config size (conventional PCI)", c->id.config_size, 256);
	CHECK_RC(c, upci_bar_info(d, EDU_BAR, &bi), 0);
	CHECK_EQ(c, "BAR0 size", bi.size, EDU_BAR_SIZE);
	CHECK(c, (bi.flags & UPCI_BAR_PRESENT) && !(bi.flags & (UPCI_BAR_IO | UPCI_BAR_MEM64 | UPCI_BAR_PREFETCH)),
	      "BAR0 flags 0x%x: expected a 32-bit non-prefetchable memory BAR", bi.flags);
	for (unsigned b = 1; b < UPCI_NUM_BARS; b++) {
		CHECK_RC(c, upci_bar_info(d, b, &bi), 0);
		CHECK(c, bi.flags == 0 && bi.size == 0, "BAR%u present on edu (flags 0x%x)", b, bi.flags);
	}
	CFG_RD(c, d, CFG_INTERRUPT_PIN, 1, v);
	CHECK_EQ(c, "interrupt pin", v, EDU_INTX_PIN);
	CHECK_EQ(c, "MSI capability offset", conf_find_cap(d, CAP_ID_MSI), EDU_MSI_CAP);
out:
	upci_close(d);
}

static void edu_id_register(struct conf *c)
{
	upci_dev *d = NULL;
	uint64_t v;

	OPEN_CLAIMED(c, &d);
	MMIO_RD(c, d, EDU_BAR, EDU_REG_ID, 4, v);
	CHECK_EQ(c, "ID register", v, EDU_ID_VALUE);
	CHECK_EQ(c, "ID register low 16 bits (edu.rst: 0xRRrr00ed)", v & 0xffff, 0x00ed);
out:
	upci_close(d);
}

static void edu_id_via_mapping(struct conf *c)
{
	upci_dev *d = NULL;
	void *bar = NULL;
	uint64_t len = 0;
	uint32_t v;
	int rc;

	OPEN_CLAIMED(c, &d);
	if (edu_quiesce(c, d))
		goto out;
	rc = upci_bar_map(d, EDU_BAR, &bar, &len);
	if (rc == -ENOTSUP)
		SKIP(c, "BAR0 cannot be mapped on this backend");
	CHECK_RC(c, rc, 0);
	CHECK_EQ(c, "mapped length", len, EDU_BAR_SIZE);
	v = upci_read32(bar, EDU_REG_ID);
	CHECK_EQ(c, "ID register through the mapping", v, EDU_ID_VALUE);
	/* The mapping follows the registers (reads only: it may be read-only). */
	MMIO_WR(c, d, EDU_BAR, EDU_REG_LIVENESS, 4, 0x13572468);
	v = upci_read32(bar, EDU_REG_LIVENESS);
	CHECK_EQ(c, "liveness through the mapping", v, ~0x13572468u);
	MMIO_WR(c, d, EDU_BAR, EDU_REG_FACTORIAL, 4, 6);
	CHECK_RC(c, conf_poll_mmio(d, EDU_BAR, EDU_REG_STATUS, 4, EDU_STATUS_COMPUTING, 0, CONF_TIMEOUT_MS, NULL), 0);
	v = upci_read32(bar, EDU_REG_FACTORIAL);
	CHECK_EQ(c, "factorial through the mapping", v, 720);
out:
	upci_close(d);
}

static void edu_liveness(struct conf *c)
{
	static const uint32_t vals[] = {0, 0xffffffffu, 0x12345678u, 0xa5a5a5a5u, 1};
	upci_dev *d = NULL;
	uint64_t v;

	OPEN_CLAIMED(c, &d);
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		MMIO_WR(c, d, EDU_BAR, EDU_REG_LIVENESS, 4, vals[i]);
		MMIO_RD(c, d, EDU_BAR, EDU_REG_LIVENESS, 4, v);
		CHECK(c, v == (uint32_t)~vals[i], "liveness: wrote 0x%08x, read 0x%08" PRIx64 ", expected 0x%08x", vals[i],
		      v, ~vals[i]);
	}
out:
	upci_close(d);
}

/* edu.rst: size 4 only below 0x80; 4 or 8 from 0x80 on. What a refused
 * access returns differs (our model: -EINVAL; QEMU: all ones for 8 bytes,
 * 0 for narrower ones), but it is never the register. */
static void edu_access_widths(struct conf *c)
{
	const uint64_t pat = UINT64_C(0x0000000ffedcb000); /* any value: START is in CMD, not here */
	upci_dev *d = NULL;
	uint64_t v = 0;
	int rc;

	OPEN_CLAIMED(c, &d);
	/* Liveness then reads all ones: an 8-byte access split into two 4-byte
	 * ones could not pass for the ID register either. */
	MMIO_WR(c, d, EDU_BAR, EDU_REG_LIVENESS, 4, 0);
	rc = upci_mmio_read(d, EDU_BAR, EDU_REG_ID, 8, &v);
	CHECK(c, rc < 0 || v != EDU_ID_VALUE, "8-byte read of the ID register returned it (%s): expected a refusal",
	      conf_rc(rc));
	rc = upci_mmio_read(d, EDU_BAR, EDU_REG_ID, 2, &v);
	CHECK(c, rc < 0 || v != (EDU_ID_VALUE & 0xffff),
	      "2-byte read of the ID register returned its low half (%s): expected a refusal", conf_rc(rc));
	rc = upci_mmio_read(d, EDU_BAR, EDU_REG_ID + 2, 2, &v);
	CHECK(c, rc < 0 || v != (EDU_ID_VALUE >> 16),
	      "2-byte read at 0x02 returned the ID's high half (%s): expected a refusal", conf_rc(rc));
	MMIO_WR(c, d, EDU_BAR, EDU_REG_DMA_SRC, 8, pat);
	MMIO_RD(c, d, EDU_BAR, EDU_REG_DMA_SRC, 8, v);
	CHECK_EQ(c, "DMA source, 8-byte write then 8-byte read", v, pat);
	MMIO_RD(c, d, EDU_BAR, EDU_REG_DMA_SRC, 4, v);
	CHECK_EQ(c, "DMA source, low half by a 4-byte read", v, pat & UINT32_MAX);
	MMIO_WR(c, d, EDU_BAR, EDU_REG_DMA_COUNT, 8, 123);
	MMIO_RD(c, d, EDU_BAR, EDU_REG_DMA_COUNT, 8, v);
	CHECK_EQ(c, "DMA count", v, 123);
	MMIO_WR(c, d, EDU_BAR, EDU_REG_DMA_SRC, 8, 0);
	MMIO_WR(c, d, EDU_BAR, EDU_REG_DMA_COUNT, 8, 0);
out:
	upci_close(d);
}

/* upci.h (upci_mmio_read): a width the device refuses is -EINVAL where the
 * device can refuse - a model in-process, or behind a vfio-user server
 * (whose EINVAL must reach the caller as it is) - while hardware behind
 * VFIO or the dext cannot refuse and completes (QEMU's edu: all ones).
 * Never another code. */
static void edu_refused_errno(struct conf *c)
{
	static const struct {
		uint64_t off;
		unsigned width;
		int write;
	} refused[] = {
		{EDU_REG_ID, 2, 0}, {EDU_REG_ID, 1, 0}, {EDU_REG_ID, 8, 0}, {EDU_REG_LIVENESS, 2, 1},
		{EDU_REG_DMA_SRC, 2, 0}, {EDU_REG_DMA_SRC, 1, 1},
	};
	/* 1: must refuse, 0: cannot, -1: depends on the server's device */
	const int refuses = c->is_sim ? 1 : strcmp(c->id.backend, "vfio-user") == 0 ? -1 : 0;
	upci_dev *d = NULL;
	uint64_t v;

	OPEN_CLAIMED(c, &d);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		int rc = refused[i].write ? upci_mmio_write(d, EDU_BAR, refused[i].off, refused[i].width, 0)
					  : upci_mmio_read(d, EDU_BAR, refused[i].off, refused[i].width, &v);

		CHECK(c, refuses < 0 ? (rc == -EINVAL || rc == 0) : rc == (refuses ? -EINVAL : 0),
		      "%u-byte %s at 0x%02" PRIx64 " on %s: expected %s, got %s", refused[i].width,
		      refused[i].write ? "write" : "read", refused[i].off, c->id.backend,
		      refuses < 0 ? "-EINVAL or 0" : conf_rc(refuses ? -EINVAL : 0), conf_rc(rc));
	}
	/* The refusals changed nothing: the device still answers. */
	MMIO_RD(c, d, EDU_BAR, EDU_REG_ID, 4, v);
	CHECK_EQ(c, "ID after refused accesses", v, EDU_ID_VALUE);
out:
	upci_close(d);
}

/* ---- factorial ---- */

static void edu_factorial(struct conf *c)
{
	static const uint32_t ns[] = {0, 1, 2, 5, 10, 12, 13, 20, 33, 34};
	upci_dev *d = NULL;
	uint64_t v;

	if (edu_open(c, &d))
		goto out;
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		MMIO_WR(c, d, EDU_BAR, EDU_REG_FACTORIAL, 4, ns[i]);
		CHECK_RC(c, conf_poll_mmio(d, EDU_BAR, EDU_REG_STATUS, 4, EDU_STATUS_COMPUTING, 0, CONF_TIMEOUT_MS, NULL),
			 0);
		MMIO_RD(c, d, EDU_BAR, EDU_REG_FACTORIAL, 4, v);
		CHECK(c, v == factorial32(ns[i]), "%u! mod 2^32: expected 0x%08x, got 0x%08" PRIx64, ns[i],
		      factorial32(ns[i]), v);
	}
out:
	upci_close(d);
}

static void edu_factorial_irq(struct conf *c)
{
	upci_dev *d = NULL;
	uint64_t v;
	int n;

	if (edu_open(c, &d))
		goto out;
	n = upci_irq_enable(d, UPCI_IRQ_AUTO, 0);
	CHECK(c, n == 1, "upci_irq_enable(AUTO, 0) on edu: expected 1 vector, got %s", conf_rc(n));
	MMIO_WR(c, d, EDU_BAR, EDU_REG_STATUS, 4, EDU_STATUS_IRQFACT);
	MMIO_RD(c, d, EDU_BAR, EDU_REG_STATUS, 4, v);
	CHECK(c, v & EDU_STATUS_IRQFACT, "status 0x%08" PRIx64 ": the 0x80 bit did not stick", v);
	MMIO_WR(c, d, EDU_BAR, EDU_REG_FACTORIAL, 4, 7);
	if (edu_wait_vec0(c, d, "factorial done"))
		goto out;
	MMIO_RD(c, d, EDU_BAR, EDU_REG_IRQ_STATUS, 4, v);
	CHECK_EQ(c, "IRQ_STATUS after a factorial", v, EDU_IRQ_FACT);
	MMIO_RD(c, d, EDU_BAR, EDU_REG_FACTORIAL, 4, v);
	CHECK_EQ(c, "7!", v, 5040);
	MMIO_WR(c, d, EDU_BAR, EDU_REG_IRQ_ACK, 4, EDU_IRQ_FACT);
	MMIO_RD(c, d, EDU_BAR, EDU_REG_IRQ_STATUS, 4, v);
	CHECK_EQ(c, "IRQ_STATUS after ack", v, 0);
	MMIO_WR(c, d, EDU_BAR, EDU_REG_STATUS, 4, 0);
out:
	upci_close(d);
}

/* ---- interrupts ---- */

static void edu_irq_raise_ack(struct conf *c)
{
	const uint32_t a = 0x00a50000u, b = 0x00000042u;
	uint64_t pend[UPCI_IRQ_WORDS], v;
	upci_dev *d = NULL;
	int n;

	if (edu_open(c, &d))
		goto out;
	n = upci_irq_enable(d, UPCI_IRQ_AUTO, 0);
	CHECK(c, n == 1, "upci_irq_enable(AUTO, 0): expected 1, got %s", conf_rc(n));
	MMIO_WR(c, d, EDU_BAR, EDU_REG_IRQ_RAISE, 4, a);
	if (edu_wait_vec0(c, d, "raise"))
		goto out;
	MMIO_RD(c, d, EDU_BAR, EDU_REG_IRQ_STATUS, 4, v);
	CHECK_EQ(c, "IRQ_STATUS after raise", v, a);
	/* Raise ORs in; ack clears only the bits written. */
	MMIO_WR(c, d, EDU_BAR, EDU_REG_IRQ_RAISE, 4, b);
	MMIO_RD(c, d, EDU_BAR, EDU_REG_IRQ_STATUS, 4, v);
	CHECK_EQ(c, "IRQ_STATUS after a second raise", v, a | b);
	MMIO_WR(c, d, EDU_BAR, EDU_REG_IRQ_ACK, 4, a);
	MMIO_RD(c, d, EDU_BAR, EDU_REG_IRQ_STATUS, 4, v);
	CHECK_EQ(c, "IRQ_STATUS after acking the first bits", v, b);
	MMIO_WR(c, d, EDU_BAR, EDU_REG_IRQ_ACK, 4, b);
	MMIO_RD(c, d, EDU_BAR, EDU_REG_IRQ_STATUS, 4, v);
	CHECK_EQ(c, "IRQ_STATUS after acking everything", v, 0);
	(void)upci_irq_take_pending(d, pend); /* MSI may have sent a second message */
	CHECK_RC(c, upci_irq_wait(d, CONF_QUIET_MS, pend), -ETIMEDOUT);
out:
	upci_close(d);
}

/* INTx is a level: it must fire again after an ack and a new raise, which
 * on VFIO means the library unmasked the line. */
static void edu_irq_intx(struct conf *c)
{
	upci_dev *d = NULL;
	uint64_t v;
	int n;

	if (edu_open(c, &d))
		goto out;
	n = upci_irq_enable(d, UPCI_IRQ_INTX, 0);
	if (n == -ENOTSUP)
		SKIP(c, "INTx not offered by this backend");
	CHECK(c, n == 1, "upci_irq_enable(INTX, 0): expected 1, got %s", conf_rc(n));
	for (int round = 1; round <= 3; round++) {
		MMIO_WR(c, d, EDU_BAR, EDU_REG_IRQ_RAISE, 4, 0x1000u << round);
		if (edu_wait_vec0(c, d, "INTx raise"))
			goto out;
		MMIO_RD(c, d, EDU_BAR, EDU_REG_IRQ_STATUS, 4, v);
		CHECK_EQ(c, "IRQ_STATUS", v, 0x1000u << round);
		MMIO_WR(c, d, EDU_BAR, EDU_REG_IRQ_ACK, 4, 0x1000u << round);
	}
out:
	upci_close(d);
}

static void edu_irq_fd_poll(struct conf *c)
{
	uint64_t pend[UPCI_IRQ_WORDS];
	struct pollfd pfd;
	upci_dev *d = NULL;
	int n, fd;

	if (edu_open(c, &d))
		goto out;
	n = upci_irq_enable(d, UPCI_IRQ_AUTO, 0);
	CHECK(c, n == 1, "upci_irq_enable(AUTO, 0): expected 1, got %s", conf_rc(n));
	fd = upci_irq_fd(d);
	CHECK(c, fd >= 0, "upci_irq_fd: %s", conf_rc(fd));
	MMIO_WR(c, d, EDU_BAR, EDU_REG_IRQ_RAISE, 4, 1);
	pfd.fd = fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	n = poll(&pfd, 1, CONF_TIMEOUT_MS);
	CHECK(c, n == 1 && (pfd.revents & POLLIN), "irq fd not readable after a raise (poll %d, revents 0x%x)", n,
	      pfd.revents);
	n = upci_irq_take_pending(d, pend);
	CHECK(c, n == 1 && pend[0] == 1, "take after the fd woke: expected {0}, got %s (%s)", conf_bits(pend),
	      conf_rc(n));
	MMIO_WR(c, d, EDU_BAR, EDU_REG_IRQ_ACK, 4, 1);
	n = upci_irq_take_pending(d, pend);
	CHECK(c, n == 0, "a second take returned %s", conf_bits(pend));
out:
	upci_close(d);
}

static void edu_irq_masked_latched(struct conf *c)
{
	const uint64_t none[UPCI_IRQ_WORDS] = {0}, all[UPCI_IRQ_WORDS] = {UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX};
	uint64_t pend[UPCI_IRQ_WORDS];
	struct pollfd pfd;
	upci_dev *d = NULL;
	int n;

	if (edu_open(c, &d))
		goto out;
	n = upci_irq_enable(d, UPCI_IRQ_AUTO, 0);
	CHECK(c, n == 1, "upci_irq_enable(AUTO, 0): expected 1, got %s", conf_rc(n));
	CHECK_RC(c, upci_irq_set_mask(d, none), 0);
	MMIO_WR(c, d, EDU_BAR, EDU_REG_IRQ_RAISE, 4, 1);
	/* Latched: not signalled (polled before any take, which would drain
	 * the fd), visible to peek, not taken. */
	pfd.fd = upci_irq_fd(d);
	pfd.events = POLLIN;
	pfd.revents = 0;
	CHECK(c, poll(&pfd, 1, CONF_QUIET_MS) == 0, "irq fd readable while the only pending vector is masked");
	n = upci_irq_peek_pending(d, pend);
	CHECK(c, n == 1 && pend[0] == 1, "peek while masked: expected {0}, got %s", conf_bits(pend));
	n = upci_irq_take_pending(d, pend);
	CHECK(c, n == 0, "take while masked returned %s", conf_bits(pend));
	CHECK_RC(c, upci_irq_wait(d, CONF_QUIET_MS, pend), -ETIMEDOUT);
	n = upci_irq_peek_pending(d, pend);
	CHECK(c, n == 1 && pend[0] == 1, "the masked vector was lost: peek %s", conf_bits(pend));
	/* Unmask: delivered now, through the fd and the take. */
	CHECK_RC(c, upci_irq_set_mask(d, all), 0);
	n = poll(&pfd, 1, CONF_TIMEOUT_MS);
	CHECK(c, n == 1 && (pfd.revents & POLLIN), "irq fd not readable after unmasking a latched vector");
	n = upci_irq_take_pending(d, pend);
	CHECK(c, n == 1 && pend[0] == 1, "take after unmask: expected {0}, got %s", conf_bits(pend));
	n = upci_irq_peek_pending(d, pend);
	CHECK(c, n == 0, "still pending after the take: %s", conf_bits(pend));
	MMIO_WR(c, d, EDU_BAR, EDU_REG_IRQ_ACK, 4, 1);
out:
	upci_close(d);
}

struct waiter {
	upci_dev *d;
	int rc;
	uint64_t pend[UPCI_IRQ_WORDS];
};

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;

	w->rc = upci_irq_wait(w->d, CONF_TIMEOUT_MS, w->pend);
	return NULL;
}

/* upci.h: one thread may block in upci_irq_wait() while another drives
 * the device and makes it interrupt. */
static void edu_irq_wait_other_thread(struct conf *c)
{
	struct waiter w;
	pthread_t th;
	int started = 0, n;
	upci_dev *d = NULL;

	memset(&w, 0, sizeof(w));
	if (edu_open(c, &d))
		goto out;
	n = upci_irq_enable(d, UPCI_IRQ_AUTO, 0);
	CHECK(c, n == 1, "upci_irq_enable(AUTO, 0): expected 1, got %s", conf_rc(n));
	w.d = d;
	CHECK(c, pthread_create(&th, NULL, waiter_main, &w) == 0, "pthread_create failed");
	started = 1;
	conf_sleep_ms(20);
	MMIO_WR(c, d, EDU_BAR, EDU_REG_IRQ_RAISE, 4, 1);
	pthread_join(th, NULL);
	started = 0;
	CHECK(c, w.rc == 1 && w.pend[0] == 1, "waiting thread: expected 1 vector {0}, got %s %s", conf_rc(w.rc),
	      conf_bits(w.pend));
	MMIO_WR(c, d, EDU_BAR, EDU_REG_IRQ_ACK, 4, 1);
out:
	if (started)
		pthread_join(th, NULL); /* bounded: the wait has a timeout */
	upci_close(d);
}

/* ---- DMA ---- */

static void edu_dma_roundtrip_len(struct conf *c, uint32_t len)
{
	struct upci_dma_buf buf = {0};
	static uint8_t ref[EDU_DMA_SIZE];
	upci_dev *d = NULL;
	uint8_t *src, *dst;
	long at;

	if (edu_open(c, &d))
		goto out;
	CHECK_RC(c, conf_bus_master(d, 1), 0);
	if (edu_dma_buffer(c, d, EDU_PAGE_PAIR, &buf))
		goto out;
	src = buf.vaddr;
	dst = src + EDU_DMA_SIZE;
	conf_fill(ref, len, len);
	memcpy(src, ref, len);
	/* RAM -> EDU buffer, then EDU buffer -> RAM, as in edu.rst. */
	if (edu_dma(c, d, buf.bus_addr, EDU_DMA_START, len, 0))
		goto out;
	if (edu_dma(c, d, EDU_DMA_START, buf.bus_addr + EDU_DMA_SIZE, len, EDU_DMA_CMD_TO_RAM))
		goto out;
	at = conf_diff(dst, ref, len);
	CHECK(c, at < 0, "round trip of %u bytes: byte %ld is 0x%02x, expected 0x%02x", len, at, dst[at], ref[at]);
	at = conf_find_not(dst + len, EDU_DMA_SIZE - len, 0);
	CHECK(c, at < 0, "the device wrote past the %u bytes asked (byte %u)", len, len + (unsigned)at);
	at = conf_diff(src, ref, len);
	CHECK(c, at < 0, "the source changed at byte %ld", at);
	/* An offset inside the device buffer: 64 bytes from offset 100. */
	memset(dst, 0, EDU_DMA_SIZE);
	if (edu_dma(c, d, EDU_DMA_START + 100, buf.bus_addr + EDU_DMA_SIZE, 64, EDU_DMA_CMD_TO_RAM))
		goto out;
	at = conf_diff(dst, ref + 100, 64);
	CHECK(c, at < 0, "64 bytes from device offset 100: byte %ld differs", at);
	at = conf_find_not(dst + 64, EDU_DMA_SIZE - 64, 0);
	CHECK(c, at < 0, "the device wrote past 64 bytes (byte %ld)", 64 + at);
out:
	upci_close(d);
}

static void edu_dma_roundtrip(struct conf *c)
{
	edu_dma_roundtrip_len(c, EDU_RT_LEN);
}

static void edu_dma_4096(struct conf *c)
{
	if (!c->edu_dma_4096) {
		conf_skip(c, "opt-in (--edu-dma-4096): QEMU 7.2's edu aborts on a DMA of exactly 4096 bytes");
		return;
	}
	edu_dma_roundtrip_len(c, EDU_DMA_SIZE);
}

/* upci.h: upci_dma_map() lets the device reach the caller's own memory
 * (plain mmap, no fd): over vfio-user the server reaches it in-band
 * (docs/vfio-user.md), and the edu must use that as it uses a buffer. */
static void edu_dma_caller_memory(struct conf *c)
{
	static uint8_t ref[EDU_RT_LEN];
	const uint64_t g = c->page < 16384 ? 16384 : c->page, iova = 0x2000000; /* 32 MiB: under 2^28 */
	uint8_t *raw = MAP_FAILED, *mem;
	upci_dev *d = NULL;
	uint64_t bus = 0;
	long at;
	int rc, mapped = 0;

	raw = mmap(NULL, 3 * g, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(c, raw != MAP_FAILED, "mmap failed");
	mem = (uint8_t *)(((uintptr_t)raw + g - 1) & ~(uintptr_t)(g - 1)); /* 2 granules */
	if (edu_open(c, &d))
		goto out;
	CHECK_RC(c, conf_bus_master(d, 1), 0);
	rc = upci_dma_map(d, iova, mem, 2 * g, UPCI_DMA_RW, &bus);
	if (rc == -ENOTSUP)
		SKIP(c, "this backend cannot DMA to memory without an fd (upci_dma_map: -ENOTSUP)");
	CHECK_RC(c, rc, 0);
	mapped = 1;
	if (bus > EDU_DMA_MASK || 2 * g - 1 > EDU_DMA_MASK - bus)
		SKIP(c, "bus address 0x%" PRIx64 " is beyond the edu's 28-bit DMA mask", bus);
	conf_fill(ref, sizeof(ref), 77);
	memcpy(mem, ref, sizeof(ref));
	memset(mem + g, 0, g);
	if (edu_dma(c, d, bus, EDU_DMA_START, sizeof(ref), 0))
		goto out;
	if (edu_dma(c, d, EDU_DMA_START, bus + g, sizeof(ref), EDU_DMA_CMD_TO_RAM))
		goto out;
	if (c->is_sim) {
		uint64_t err;

		MMIO_RD(c, d, EDU_BAR, EDU_REG_DMA_ERROR, 4, err);
		CHECK_EQ(c, "DMA error register after caller-memory DMA", err, EDU_DMA_ERR_NONE);
	}
	at = conf_diff(mem + g, ref, sizeof(ref));
	CHECK(c, at < 0, "caller memory -> edu -> caller memory: byte %ld is 0x%02x, expected 0x%02x", at, mem[g + at],
	      ref[at]);
	at = conf_find_not(mem + g + sizeof(ref), g - sizeof(ref), 0);
	CHECK(c, at < 0, "the device wrote past the %zu bytes asked (byte %zu)", sizeof(ref), sizeof(ref) + (size_t)at);
out:
	if (mapped && d)
		upci_dma_unmap(d, iova);
	upci_close(d);
	if (raw != MAP_FAILED)
		munmap(raw, 3 * g);
}

static void edu_dma_irq(struct conf *c)
{
	struct upci_dma_buf buf = {0};
	upci_dev *d = NULL;
	uint64_t v;
	int n;

	if (edu_open(c, &d))
		goto out;
	CHECK_RC(c, conf_bus_master(d, 1), 0);
	if (edu_dma_buffer(c, d, EDU_PAGE_PAIR, &buf))
		goto out;
	n = upci_irq_enable(d, UPCI_IRQ_AUTO, 0);
	CHECK(c, n == 1, "upci_irq_enable(AUTO, 0): expected 1, got %s", conf_rc(n));
	conf_fill(buf.vaddr, 256, 7);
	if (edu_dma(c, d, buf.bus_addr, EDU_DMA_START, 256, EDU_DMA_CMD_IRQ))
		goto out;
	if (edu_wait_vec0(c, d, "DMA done"))
		goto out;
	MMIO_RD(c, d, EDU_BAR, EDU_REG_IRQ_STATUS, 4, v);
	CHECK_EQ(c, "IRQ_STATUS after a DMA with the irq bit", v, EDU_IRQ_DMA);
	MMIO_WR(c, d, EDU_BAR, EDU_REG_IRQ_ACK, 4, EDU_IRQ_DMA);
	MMIO_RD(c, d, EDU_BAR, EDU_REG_IRQ_STATUS, 4, v);
	CHECK_EQ(c, "IRQ_STATUS after ack", v, 0);
out:
	upci_close(d);
}

/* The sim model counts rejected requests; QEMU's edu reads all ones there. */
static int edu_faults(struct conf *c, upci_dev *d, uint32_t *faults, uint32_t *err)
{
	uint64_t v;

	MMIO_RD(c, d, EDU_BAR, EDU_REG_DMA_FAULTS, 4, v);
	*faults = (uint32_t)v;
	MMIO_RD(c, d, EDU_BAR, EDU_REG_DMA_ERROR, 4, v);
	*err = (uint32_t)v;
	return 0;
out:
	return -1;
}

/* A bus address that none of our buffers covers, under the DMA mask. */
static uint64_t edu_unmapped_bus(const struct upci_dma_buf *buf)
{
	return buf->bus_addr >= 0x800000 ? 0x400000 : buf->bus_addr + 0x400000;
}

static void edu_dma_unmapped_blocked(struct conf *c)
{
	struct upci_dma_buf buf = {0};
	static uint8_t ref[EDU_PAGE_PAIR];
	uint32_t f0 = 0, e0, f1, e1;
	upci_dev *d = NULL;
	uint64_t hole;
	long at;

	if (edu_open(c, &d))
		goto out;
	CHECK_RC(c, conf_bus_master(d, 1), 0);
	if (edu_dma_buffer(c, d, EDU_PAGE_PAIR, &buf))
		goto out;
	conf_fill(buf.vaddr, EDU_PAGE_PAIR, 99);
	memcpy(ref, buf.vaddr, EDU_PAGE_PAIR);
	/* Give the device buffer known contents to try to write out. */
	if (edu_dma(c, d, buf.bus_addr, EDU_DMA_START, 1024, 0))
		goto out;
	if (c->is_sim && edu_faults(c, d, &f0, &e0))
		goto out;
	hole = edu_unmapped_bus(&buf);
	if (edu_dma(c, d, EDU_DMA_START, hole, 1024, EDU_DMA_CMD_TO_RAM))
		goto out;
	at = conf_diff(buf.vaddr, ref, EDU_PAGE_PAIR);
	CHECK(c, at < 0, "a DMA to unmapped bus address 0x%" PRIx64 " changed our buffer at byte %ld", hole, at);
	if (c->is_sim) {
		if (edu_faults(c, d, &f1, &e1))
			goto out;
		CHECK_EQ(c, "DMA_FAULTS after a DMA to an unmapped address", f1, f0 + 1);
		CHECK_EQ(c, "DMA_ERROR", e1, EDU_DMA_ERR_UNMAPPED);
		/* And reading from the hole is refused too. */
		if (edu_dma(c, d, hole, EDU_DMA_START, 64, 0))
			goto out;
		if (edu_faults(c, d, &f1, &e1))
			goto out;
		CHECK_EQ(c, "DMA_FAULTS after a DMA from an unmapped address", f1, f0 + 2);
		CHECK_EQ(c, "DMA_ERROR", e1, EDU_DMA_ERR_UNMAPPED);
	}
	/* A freed buffer is unmapped too: the device must not reach it. */
	CHECK_RC(c, upci_dma_free(d, &buf), 0);
out:
	upci_close(d);
}

static void edu_dma_no_bus_master(struct conf *c)
{
	struct upci_dma_buf buf = {0};
	static uint8_t ref[EDU_PAGE_PAIR];
	uint32_t f0 = 0, e0, f1, e1;
	upci_dev *d = NULL;
	long at;

	if (edu_open(c, &d))
		goto out;
	CHECK_RC(c, conf_bus_master(d, 1), 0);
	if (edu_dma_buffer(c, d, EDU_PAGE_PAIR, &buf))
		goto out;
	conf_fill(buf.vaddr, EDU_DMA_SIZE, 5);
	if (edu_dma(c, d, buf.bus_addr, EDU_DMA_START, 512, 0))
		goto out;
	memcpy(ref, buf.vaddr, EDU_PAGE_PAIR);
	CHECK_RC(c, conf_bus_master(d, 0), 0);
	if (c->is_sim && edu_faults(c, d, &f0, &e0))
		goto out;
	if (edu_dma(c, d, EDU_DMA_START, buf.bus_addr + EDU_DMA_SIZE, 512, EDU_DMA_CMD_TO_RAM))
		goto out;
	at = conf_diff(buf.vaddr, ref, EDU_PAGE_PAIR);
	CHECK(c, at < 0, "DMA with bus mastering off changed our buffer at byte %ld", at);
	if (c->is_sim) {
		if (edu_faults(c, d, &f1, &e1))
			goto out;
		CHECK_EQ(c, "DMA_FAULTS after a DMA without bus mastering", f1, f0 + 1);
		CHECK_EQ(c, "DMA_ERROR", e1, EDU_DMA_ERR_MASTER);
	}
out:
	upci_close(d);
}

/* Set-ups QEMU's edu aborts on (count, buffer range) or clamps (address):
 * the sim model must refuse each, count it, and move nothing. */
static void edu_dma_rejected(struct conf *c)
{
	struct upci_dma_buf buf = {0};
	static uint8_t ref[EDU_PAGE_PAIR];
	upci_dev *d = NULL;
	uint32_t f0, e0, f1, e1;
	long at;

	if (!c->is_sim)
		SKIP(c, "only the sim model reports rejected DMA (QEMU's edu aborts or clamps instead)");
	if (edu_open(c, &d))
		goto out;
	CHECK_RC(c, conf_bus_master(d, 1), 0);
	if (edu_dma_buffer(c, d, EDU_PAGE_PAIR, &buf))
		goto out;
	conf_fill(buf.vaddr, EDU_PAGE_PAIR, 3);
	memcpy(ref, buf.vaddr, EDU_PAGE_PAIR);
	{
		const struct {
			const char *what;
			uint64_t src, dst, cnt, cmd;
			uint32_t err;
		} bad[] = {
			{"count 0", EDU_DMA_START, buf.bus_addr, 0, EDU_DMA_CMD_TO_RAM, EDU_DMA_ERR_COUNT},
			{"count 4097", EDU_DMA_START, buf.bus_addr, EDU_DMA_SIZE + 1, EDU_DMA_CMD_TO_RAM,
			 EDU_DMA_ERR_COUNT},
			{"past the device buffer", EDU_DMA_START + 4000, buf.bus_addr, 200, EDU_DMA_CMD_TO_RAM,
			 EDU_DMA_ERR_BUFFER},
			{"below the device buffer", EDU_DMA_START - 0x100, buf.bus_addr, 16, EDU_DMA_CMD_TO_RAM,
			 EDU_DMA_ERR_BUFFER},
			{"into the device buffer past its end", buf.bus_addr, EDU_DMA_START + 4090, 16, 0,
			 EDU_DMA_ERR_BUFFER},
			/* Would alias our buffer if the address were clamped to 28 bits. */
			{"beyond the 28-bit mask", EDU_DMA_START, buf.bus_addr | (EDU_DMA_MASK + 1), 64,
			 EDU_DMA_CMD_TO_RAM, EDU_DMA_ERR_ADDR},
			{"running past the mask", EDU_DMA_START, EDU_DMA_MASK - 10, 64, EDU_DMA_CMD_TO_RAM,
			 EDU_DMA_ERR_ADDR},
			{"wrapping past 2^64", EDU_DMA_START, UINT64_MAX - 10, 64, EDU_DMA_CMD_TO_RAM, EDU_DMA_ERR_ADDR},
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			if (edu_faults(c, d, &f0, &e0))
				goto out;
			if (edu_dma(c, d, bad[i].src, bad[i].dst, bad[i].cnt, bad[i].cmd))
				goto out;
			if (edu_faults(c, d, &f1, &e1))
				goto out;
			CHECK(c, f1 == f0 + 1 && e1 == bad[i].err,
			      "DMA %s: expected fault count %u error %u, got count %u error %u", bad[i].what, f0 + 1,
			      bad[i].err, f1, e1);
			at = conf_diff(buf.vaddr, ref, EDU_PAGE_PAIR);
			CHECK(c, at < 0, "rejected DMA %s changed our buffer at byte %ld", bad[i].what, at);
		}
	}
out:
	upci_close(d);
}

/* ---- reset ---- */

static void edu_reset(struct conf *c)
{
	enum upci_irq_type t0, t1;
	unsigned n0, n1;
	uint64_t pend[UPCI_IRQ_WORDS], v;
	upci_dev *d = NULL;
	uint32_t cmd;
	int n, rc;

	if (edu_open(c, &d))
		goto out;
	n = upci_irq_enable(d, UPCI_IRQ_AUTO, 0);
	CHECK(c, n == 1, "upci_irq_enable(AUTO, 0): expected 1, got %s", conf_rc(n));
	CHECK_RC(c, upci_irq_info(d, &t0, &n0), 0);
	CHECK_RC(c, conf_bus_master(d, 1), 0);
	MMIO_WR(c, d, EDU_BAR, EDU_REG_IRQ_RAISE, 4, 0x4); /* left asserted across the reset */
	if (edu_wait_vec0(c, d, "raise before reset"))
		goto out;
	rc = upci_reset(d);
	if (rc == -ENOTSUP)
		SKIP(c, "no reset method for this edu (upci_reset: -ENOTSUP)");
	CHECK_RC(c, rc, 0);
	/* Off by the reset, back on with the re-established MSI (upci.h). */
	CFG_RD(c, d, CFG_COMMAND, 2, cmd);
	CHECK(c, !!(cmd & CFG_CMD_MASTER) == (t0 == UPCI_IRQ_MSI || t0 == UPCI_IRQ_MSIX),
	      "COMMAND 0x%04x after reset with irq type %d: bus master wrong", cmd, (int)t0);
	MMIO_RD(c, d, EDU_BAR, EDU_REG_ID, 4, v);
	CHECK_EQ(c, "ID register after reset", v, EDU_ID_VALUE);
	/* A reset function deasserts its interrupts (PCI 3.0, 6.2.4). QEMU's
	 * edu has no reset handler at all, so only our model is held to it;
	 * on real edu the bit is acked by hand so no state is left behind. */
	MMIO_RD(c, d, EDU_BAR, EDU_REG_IRQ_STATUS, 4, v);
	if (c->is_sim)
		CHECK_EQ(c, "IRQ_STATUS after reset", v, 0);
	else
		MMIO_WR(c, d, EDU_BAR, EDU_REG_IRQ_ACK, 4, 0x4);
	CHECK_RC(c, upci_irq_info(d, &t1, &n1), 0);
	CHECK(c, t1 == t0 && n1 == n0, "irq set-up after reset: type %d nvec %u, before type %d nvec %u", (int)t1, n1,
	      (int)t0, n0);
	(void)upci_irq_take_pending(d, pend);
	/* Interrupts still work: the library re-established them. */
	MMIO_WR(c, d, EDU_BAR, EDU_REG_IRQ_RAISE, 4, 0x8);
	if (edu_wait_vec0(c, d, "raise after reset"))
		goto out;
	MMIO_WR(c, d, EDU_BAR, EDU_REG_IRQ_ACK, 4, 0x8);
	MMIO_WR(c, d, EDU_BAR, EDU_REG_FACTORIAL, 4, 4);
	CHECK_RC(c, conf_poll_mmio(d, EDU_BAR, EDU_REG_STATUS, 4, EDU_STATUS_COMPUTING, 0, CONF_TIMEOUT_MS, NULL), 0);
	MMIO_RD(c, d, EDU_BAR, EDU_REG_FACTORIAL, 4, v);
	CHECK_EQ(c, "4! after reset", v, 24);
out:
	upci_close(d);
}

const struct conf_case conf_edu_cases[] = {
	{"edu.identity", CONF_NEED_EDU, edu_identity},
	{"edu.id_register", CONF_NEED_EDU, edu_id_register},
	{"edu.id_via_mapping", CONF_NEED_EDU, edu_id_via_mapping},
	{"edu.liveness", CONF_NEED_EDU, edu_liveness},
	{"edu.access_widths", CONF_NEED_EDU, edu_access_widths},
	{"edu.refused_errno", CONF_NEED_EDU, edu_refused_errno},
	{"edu.factorial", CONF_NEED_EDU, edu_factorial},
	{"edu.factorial_irq", CONF_NEED_EDU, edu_factorial_irq},
	{"edu.irq_raise_ack", CONF_NEED_EDU, edu_irq_raise_ack},
	{"edu.irq_intx", CONF_NEED_EDU, edu_irq_intx},
	{"edu.irq_fd_poll", CONF_NEED_EDU, edu_irq_fd_poll},
	{"edu.irq_masked_latched", CONF_NEED_EDU, edu_irq_masked_latched},
	{"edu.irq_wait_other_thread", CONF_NEED_EDU, edu_irq_wait_other_thread},
	{"edu.dma_roundtrip", CONF_NEED_EDU, edu_dma_roundtrip},
	{"edu.dma_4096", CONF_NEED_EDU, edu_dma_4096},
	{"edu.dma_caller_memory", CONF_NEED_EDU, edu_dma_caller_memory},
	{"edu.dma_irq", CONF_NEED_EDU, edu_dma_irq},
	{"edu.dma_unmapped_blocked", CONF_NEED_EDU, edu_dma_unmapped_blocked},
	{"edu.dma_no_bus_master", CONF_NEED_EDU, edu_dma_no_bus_master},
	{"edu.dma_rejected", CONF_NEED_EDU, edu_dma_rejected},
	{"edu.reset", CONF_NEED_EDU, edu_reset},
};
const size_t conf_edu_count = sizeof(conf_edu_cases) / sizeof(conf_edu_cases[0]);

/* SPDX-License-Identifier: MIT */
/*
 * nvme_msix URI [VECTOR...]: drive QEMU's NVMe controller (1b36:0010) through
 * the public upci API far enough to make it interrupt on chosen MSI-X vectors:
 * enable every vector it offers, bring the controller up with an admin queue
 * pair in DMA memory, Identify it (a 4 KiB DMA write into our buffer, a
 * completion on vector 0), then for each VECTOR create an I/O completion
 * queue that interrupts on it plus a submission queue, submit a Flush (to a
 * namespace that does not exist: the error completion is enough) and check
 * that exactly that vector arrives. Also: a vector masked in the library is
 * latched and delivered when unmasked, and a reset (FLR) keeps the set-up.
 *
 * Register layout and commands: NVM Express Base Specification 1.4, 3.1
 * (controller registers), 4.6 / 4.2 (queue entries), 5.3 / 5.4 / 5.15
 * (Create I/O CQ/SQ, Identify). Prints one line per step; exit 0 when all
 * passed, 1 on the first failure (the line says what was expected).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "upci/upci.h"

/* Controller registers (NVMe 1.4, 3.1). */
#define REG_CAP   0x00 /* 64-bit */
#define REG_CC    0x14
#define REG_CSTS  0x1c
#define REG_AQA   0x24
#define REG_ASQ   0x28 /* 64-bit */
#define REG_ACQ   0x30 /* 64-bit */
#define REG_DBS   0x1000
#define CAP_DSTRD(c) (((c) >> 32) & 0xf)
#define CAP_TO(c)    (((c) >> 24) & 0xff) /* 500 ms units */
#define CAP_MQES(c)  ((c) & 0xffff)
#define CC_EN        (1u << 0)
#define CC_IOSQES(n) ((uint32_t)(n) << 16)
#define CC_IOCQES(n) ((uint32_t)(n) << 20)
#define CSTS_RDY     (1u << 0)
#define CSTS_CFS     (1u << 1)

/* Commands. */
#define OPC_FLUSH        0x00
#define OPC_CREATE_SQ    0x01
#define OPC_CREATE_CQ    0x05
#define OPC_IDENTIFY     0x06
#define CNS_CONTROLLER   1

#define QDEPTH 16 /* entries per queue */
#define SQE_SIZE 64
#define CQE_SIZE 16
#define NVME_VENDOR 0x1b36
#define NVME_DEVICE 0x0010
#define WAIT_MS 5000

struct queue {
	struct upci_dma_buf mem;
	unsigned qid, tail, head, phase;
	uint16_t cid;
};

static upci_dev *dev;
static volatile uint8_t *bar0;
static unsigned dstrd;
static int failed;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("nvme_msix: FAIL: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	failed = 1;
}

#define TRY(call)                                                                                        \
	do {                                                                                             \
		int rc_ = (call);                                                                        \
		if (rc_ < 0) {                                                                           \
			fail("%s: %s", #call, upci_strerror(rc_));                                       \
			return -1;                                                                       \
		}                                                                                        \
	} while (0)

static uint64_t rd(uint64_t off, unsigned width)
{
	uint64_t v = 0;
	int rc = upci_mmio_read(dev, 0, off, width, &v);

	if (rc)
		fail("upci_mmio_read(0x%" PRIx64 "): %s", off, upci_strerror(rc));
	return v;
}

static void wr(uint64_t off, unsigned width, uint64_t v)
{
	int rc = upci_mmio_write(dev, 0, off, width, v);

	if (rc)
		fail("upci_mmio_write(0x%" PRIx64 "): %s", off, upci_strerror(rc));
}

/* Doorbells go through the BAR mapping, as a driver's hot path would. */
static void doorbell(unsigned qid, int cq, unsigned val)
{
	uint64_t off = REG_DBS + (2u * qid + (cq ? 1u : 0u)) * (4u << dstrd);

	*(volatile uint32_t *)(volatile void *)(bar0 + off) = val;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int wait_rdy(unsigned want, unsigned timeout_ms)
{
	uint64_t end = now_ms() + timeout_ms;

	for (;;) {
		uint32_t csts = (uint32_t)rd(REG_CSTS, 4);

		if (csts & CSTS_CFS) {
			fail("controller fatal status (CSTS 0x%x)", csts);
			return -1;
		}
		if ((csts & CSTS_RDY) == want)
			return 0;
		if (now_ms() > end) {
			fail("CSTS.RDY did not become %u in %u ms", want, timeout_ms);
			return -1;
		}
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
}

static int queue_alloc(struct queue *q, unsigned qid, size_t entry)
{
	memset(q, 0, sizeof(*q));
	q->qid = qid;
	q->phase = 1;
	TRY(upci_dma_alloc(dev, UPCI_IOVA_ANY, QDEPTH * entry, &q->mem));
	return 0;
}

/* Put a command in @sq and ring its doorbell; returns its command id. */
static uint16_t submit(struct queue *sq, uint8_t opc, uint32_t nsid, uint64_t prp1, uint32_t cdw10, uint32_t cdw11)
{
	uint8_t *e = (uint8_t *)sq->mem.vaddr + sq->tail * SQE_SIZE;
	uint32_t cdw0 = opc | ((uint32_t)++sq->cid << 16);

	memset(e, 0, SQE_SIZE);
	memcpy(e + 0, &cdw0, 4);
	memcpy(e + 4, &nsid, 4);
	memcpy(e + 24, &prp1, 8);
	memcpy(e + 40, &cdw10, 4);
	memcpy(e + 44, &cdw11, 4);
	sq->tail = (sq->tail + 1) % QDEPTH;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	doorbell(sq->qid, 0, sq->tail);
	return sq->cid;
}

/* Wait for @vec (and only it), then consume one completion from @cq;
 * returns its status field (0 = success), or -1. */
static int complete(struct queue *cq, unsigned vec, uint16_t cid, const char *what)
{
	uint64_t pend[UPCI_IRQ_WORDS];
	uint32_t dw3;
	int n = upci_irq_wait(dev, WAIT_MS, pend);
	uint8_t *e;

	if (n < 0) {
		fail("%s: no interrupt on vector %u: %s", what, vec, upci_strerror(n));
		return -1;
	}
	for (unsigned w = 0; w < UPCI_IRQ_WORDS; w++) {
		uint64_t want = (w == vec / 64) ? UINT64_C(1) << (vec % 64) : 0;

		if (pend[w] != want) {
			fail("%s: pending word %u is 0x%016" PRIx64 ", expected 0x%016" PRIx64 " (vector %u only)", what,
			     w, pend[w], want, vec);
			return -1;
		}
	}
	e = (uint8_t *)cq->mem.vaddr + cq->head * CQE_SIZE;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	memcpy(&dw3, e + 12, 4);
	if (((dw3 >> 16) & 1) != cq->phase) {
		fail("%s: vector %u fired but completion queue %u has no new entry", what, vec, cq->qid);
		return -1;
	}
	if ((dw3 & 0xffff) != cid) {
		fail("%s: completion for command %u, expected %u", what, dw3 & 0xffff, cid);
		return -1;
	}
	cq->head = (cq->head + 1) % QDEPTH;
	if (cq->head == 0)
		cq->phase ^= 1;
	doorbell(cq->qid, 1, cq->head);
	return (int)(dw3 >> 17);
}

static int admin(struct queue *asq, struct queue *acq, uint8_t opc, uint64_t prp1, uint32_t cdw10, uint32_t cdw11,
		 const char *what)
{
	uint16_t cid = submit(asq, opc, 0, prp1, cdw10, cdw11);
	int st = complete(acq, 0, cid, what);

	if (st > 0) {
		fail("%s: status 0x%x", what, st);
		return -1;
	}
	return st;
}

static int run(const char *uri, const unsigned *vecs, unsigned nv)
{
	struct upci_identity id;
	struct upci_bar_info bi;
	struct queue asq, acq, iosq[8], iocq[8];
	struct upci_dma_buf ident;
	uint64_t cap, len, pend[UPCI_IRQ_WORDS], mask[UPCI_IRQ_WORDS];
	void *map;
	int n;

	TRY(upci_open(&dev, uri));
	TRY(upci_claim(dev));
	TRY(upci_identity(dev, &id));
	if (id.vendor_id != NVME_VENDOR || id.device_id != NVME_DEVICE) {
		fail("%s is %04x:%04x, not QEMU's NVMe (%04x:%04x)", uri, id.vendor_id, id.device_id, NVME_VENDOR,
		     NVME_DEVICE);
		return -1;
	}
	TRY(upci_bar_info(dev, 0, &bi));
	if (!(bi.flags & UPCI_BAR_MEM64) || !(bi.flags & UPCI_BAR_MAPPABLE)) {
		fail("BAR0 flags 0x%x: expected a mappable 64-bit memory BAR", bi.flags);
		return -1;
	}
	TRY(upci_bar_map(dev, 0, &map, &len));
	bar0 = map;
	n = upci_irq_count(dev, UPCI_IRQ_MSIX);
	TRY(n);
	printf("nvme_msix: %s: BAR0 %" PRIu64 " KiB 64-bit, %d MSI-X vectors offered\n", uri, bi.size / 1024, n);
	n = upci_irq_enable(dev, UPCI_IRQ_MSIX, 0);
	TRY(n);
	if (n < 2 || n != upci_irq_count(dev, UPCI_IRQ_MSIX)) {
		fail("upci_irq_enable(MSIX, 0) gave %d vectors", n);
		return -1;
	}
	printf("nvme_msix: enabled %d MSI-X vectors\n", n);
	for (unsigned i = 0; i < nv; i++)
		if (vecs[i] >= (unsigned)n || vecs[i] == 0) {
			fail("vector %u: the device has vectors 1..%d besides the admin one", vecs[i], n - 1);
			return -1;
		}

	/* Controller up with an admin queue pair (NVMe 1.4, 7.6.1). */
	cap = rd(REG_CAP, 8);
	dstrd = (unsigned)CAP_DSTRD(cap);
	if (CAP_MQES(cap) + 1 < QDEPTH) {
		fail("CAP.MQES %u is below our queue depth", (unsigned)CAP_MQES(cap));
		return -1;
	}
	wr(REG_CC, 4, 0);
	if (wait_rdy(0, 500u * (unsigned)(CAP_TO(cap) + 1)))
		return -1;
	if (queue_alloc(&asq, 0, SQE_SIZE) || queue_alloc(&acq, 0, CQE_SIZE))
		return -1;
	TRY(upci_dma_alloc(dev, UPCI_IOVA_ANY, 4096, &ident));
	wr(REG_AQA, 4, ((QDEPTH - 1u) << 16) | (QDEPTH - 1u));
	wr(REG_ASQ, 8, asq.mem.bus_addr);
	wr(REG_ACQ, 8, acq.mem.bus_addr);
	wr(REG_CC, 4, CC_EN | CC_IOSQES(6) | CC_IOCQES(4));
	if (failed || wait_rdy(1, 500u * (unsigned)(CAP_TO(cap) + 1)))
		return -1;

	/* Identify: the device writes 4 KiB into our buffer by DMA. */
	if (admin(&asq, &acq, OPC_IDENTIFY, ident.bus_addr, CNS_CONTROLLER, 0, "Identify controller") < 0)
		return -1;
	uint16_t vid;

	memcpy(&vid, ident.vaddr, 2);
	if (vid != NVME_VENDOR) {
		fail("Identify data: PCI vendor 0x%04x, expected 0x%04x (DMA did not land?)", vid, NVME_VENDOR);
		return -1;
	}
	printf("nvme_msix: Identify: %.40s / %.20s, completion on vector 0\n", (char *)ident.vaddr + 24,
	       (char *)ident.vaddr + 4);

	/* One I/O queue pair per vector asked for. */
	for (unsigned i = 0; i < nv && i < 8; i++) {
		unsigned qid = i + 1;
		char what[64];

		if (queue_alloc(&iocq[i], qid, CQE_SIZE) || queue_alloc(&iosq[i], qid, SQE_SIZE))
			return -1;
		snprintf(what, sizeof(what), "Create I/O CQ %u (vector %u)", qid, vecs[i]);
		if (admin(&asq, &acq, OPC_CREATE_CQ, iocq[i].mem.bus_addr, ((QDEPTH - 1u) << 16) | qid,
			  (vecs[i] << 16) | 0x3 /* IEN | PC */, what) < 0)
			return -1;
		snprintf(what, sizeof(what), "Create I/O SQ %u", qid);
		if (admin(&asq, &acq, OPC_CREATE_SQ, iosq[i].mem.bus_addr, ((QDEPTH - 1u) << 16) | qid,
			  (qid << 16) | 0x1 /* PC */, what) < 0)
			return -1;
		snprintf(what, sizeof(what), "Flush on queue %u", qid);
		uint16_t cid = submit(&iosq[i], OPC_FLUSH, 1, 0, 0, 0);

		if (complete(&iocq[i], vecs[i], cid, what) < 0)
			return -1;
		printf("nvme_msix: I/O queue %u: completion on vector %u\n", qid, vecs[i]);
	}

	/* A vector masked in the library is latched, then delivered on unmask. */
	if (nv > 0) {
		unsigned v = vecs[0];
		uint16_t cid;

		TRY(upci_irq_get_mask(dev, mask));
		mask[v / 64] &= ~(UINT64_C(1) << (v % 64));
		TRY(upci_irq_set_mask(dev, mask));
		cid = submit(&iosq[0], OPC_FLUSH, 1, 0, 0, 0);
		n = upci_irq_wait(dev, 300, pend);
		if (n != -ETIMEDOUT) {
			fail("masked vector %u: upci_irq_wait returned %d, expected -ETIMEDOUT", v, n);
			return -1;
		}
		n = upci_irq_peek_pending(dev, pend);
		if (n != 1 || !(pend[v / 64] & (UINT64_C(1) << (v % 64)))) {
			fail("masked vector %u not latched (peek returned %d)", v, n);
			return -1;
		}
		mask[v / 64] |= UINT64_C(1) << (v % 64);
		TRY(upci_irq_set_mask(dev, mask));
		if (complete(&iocq[0], v, cid, "unmasked vector") < 0)
			return -1;
		printf("nvme_msix: vector %u masked: latched, delivered on unmask\n", v);
	}

	/* Disable the controller before the library tears everything down. */
	wr(REG_CC, 4, 0);
	if (wait_rdy(0, 500u * (unsigned)(CAP_TO(cap) + 1)))
		return -1;

	/* FLR: interrupt set-up re-established by the library (upci.h). */
	enum upci_irq_type t;
	unsigned nvec;

	TRY(upci_reset(dev));
	TRY(upci_irq_info(dev, &t, &nvec));
	if (t != UPCI_IRQ_MSIX || nvec != (unsigned)upci_irq_count(dev, UPCI_IRQ_MSIX)) {
		fail("after reset: irq type %d with %u vectors, expected MSI-X with all", (int)t, nvec);
		return -1;
	}
	printf("nvme_msix: reset: MSI-X set-up with %u vectors kept\n", nvec);
	return failed ? -1 : 0;
}

int main(int argc, char **argv)
{
	unsigned vecs[8], nv = 0;
	int rc;

	if (argc < 2) {
		fprintf(stderr, "usage: nvme_msix URI [VECTOR...] (at most 8 vectors)\n");
		return 2;
	}
	for (int i = 2; i < argc && nv < 8; i++) {
		char *end;
		unsigned long v = strtoul(argv[i], &end, 0);

		if (*end || v > 255) {
			fprintf(stderr, "nvme_msix: bad vector \"%s\"\n", argv[i]);
			return 2;
		}
		vecs[nv++] = (unsigned)v;
	}
	rc = run(argv[1], vecs, nv);
	upci_close(dev);
	if (rc == 0 && !failed)
		printf("nvme_msix: ok\n");
	return rc == 0 && !failed ? 0 : 1;
}

/* SPDX-License-Identifier: MIT */
/* The NVMe driver of examples/nvme: see nvme.h. */
#define _GNU_SOURCE
#include "nvme.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define ADMIN_DEPTH 32u
#define PCI_COMMAND 0x04u
#define PCI_COMMAND_MEMORY 0x2u
#define PCI_COMMAND_MASTER 0x4u
#define ADMIN_TIMEOUT_MS 5000

static void say(const struct nvme_ctrl *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct nvme_ctrl *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "nvme %s: ", c->uri);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- registers: set-up through the library, doorbells through the map ---- */

static int reg_rd(struct nvme_ctrl *c, uint32_t off, unsigned width, uint64_t *v)
{
	int rc = upci_mmio_read(c->dev, 0, off, width, v);

	if (rc)
		say(c, "reading register 0x%x: %s", off, upci_strerror(rc));
	return rc;
}

static int reg_wr(struct nvme_ctrl *c, uint32_t off, unsigned width, uint64_t v)
{
	int rc = upci_mmio_write(c->dev, 0, off, width, v);

	if (rc)
		say(c, "writing register 0x%x: %s", off, upci_strerror(rc));
	return rc;
}

/* A doorbell: through the mapping, where upci_write32() makes the queue
 * entries (stores to DMA memory) visible to the controller before the
 * doorbell on every host (upci.h, "mapped BAR access"); else a message,
 * which the library orders the same way. */
static void ring(struct nvme_ctrl *c, uint32_t off, uint32_t val)
{
	if (c->bar0)
		upci_write32(c->bar0, off, val);
	else
		(void)reg_wr(c, off, 4, val);
}

static uint32_t db_offset(const struct nvme_ctrl *c, unsigned qid, bool cq)
{
	return NVME_REG_DBS + (2u * qid + (cq ? 1u : 0u)) * (4u << c->dstrd);
}

static void ring_sq(struct nvme_ctrl *c, struct nvme_ring *r)
{
	ring(c, r->db, r->tail);
}

static void ring_cq(struct nvme_ctrl *c, struct nvme_ring *r)
{
	ring(c, r->db, r->head);
}

static int ring_alloc(struct nvme_ctrl *c, struct nvme_ring *r, unsigned qid, bool cq, unsigned depth)
{
	size_t entry = cq ? NVME_CQE_SIZE : NVME_SQE_SIZE;
	int rc;

	memset(r, 0, sizeof(*r));
	r->mem.fd = -1;
	r->depth = depth;
	r->phase = 1;
	r->db = db_offset(c, qid, cq);
	/* The stride is the device's word (CAP.DSTRD): a doorbell past
	 * BAR0 would be a store past the mapping. */
	if ((uint64_t)r->db + 4u > c->bar0_len) {
		say(c, "queue %u %s doorbell at 0x%x lies past BAR0 (%" PRIu64 " bytes; CAP.DSTRD %u)", qid,
		    cq ? "completion" : "submission", r->db, c->bar0_len, c->dstrd);
		return -ERANGE;
	}
	rc = upci_dma_alloc(c->dev, UPCI_IOVA_ANY, (uint64_t)depth * entry, &r->mem);
	if (rc)
		say(c, "allocating a %u-entry %s ring: %s", depth, cq ? "completion" : "submission", upci_strerror(rc));
	return rc;
}

static void ring_free(struct nvme_ctrl *c, struct nvme_ring *r)
{
	if (r->mem.vaddr)
		upci_dma_free(c->dev, &r->mem);
}

/* The next completion of @cq, or NULL: its phase tag says it is new. The
 * tag is read first, the rest only after (the device writes it last). */
static const struct nvme_cqe *cq_peek(struct nvme_ring *cq)
{
	const struct nvme_cqe *e = (const struct nvme_cqe *)cq->mem.vaddr + cq->head;
	uint32_t dw3 = __atomic_load_n(&e->dw3, __ATOMIC_ACQUIRE);

	return NVME_CQE_PHASE(dw3) == cq->phase ? e : NULL;
}

static void cq_pop(struct nvme_ring *cq)
{
	if (++cq->head == cq->depth) {
		cq->head = 0;
		cq->phase ^= 1;
	}
}

static void sq_push(struct nvme_ring *sq, const struct nvme_sqe *cmd)
{
	memcpy((struct nvme_sqe *)sq->mem.vaddr + sq->tail, cmd, sizeof(*cmd));
	if (++sq->tail == sq->depth)
		sq->tail = 0;
}

/* ---- admin ---- */

static int wait_rdy(struct nvme_ctrl *c, uint32_t want)
{
	int64_t end = now_ms() + c->timeout_ms;
	uint64_t csts;

	for (;;) {
		if (reg_rd(c, NVME_REG_CSTS, 4, &csts))
			return -EIO;
		if (csts & NVME_CSTS_CFS) {
			say(c, "controller fatal status (CSTS 0x%" PRIx64 ")", csts);
			return -EIO;
		}
		if ((csts & NVME_CSTS_RDY) == want)
			return 0;
		if (now_ms() > end) {
			say(c, "CSTS.RDY did not become %u within %u ms (CAP.TO)", want, c->timeout_ms);
			return -ETIMEDOUT;
		}
		nanosleep(&(struct timespec){0, 1000000}, NULL);
	}
}

/* Run one admin command to completion (polled: admin is rare). */
static int admin(struct nvme_ctrl *c, struct nvme_sqe *cmd, uint32_t *dw0, const char *what)
{
	int64_t end = now_ms() + ADMIN_TIMEOUT_MS;
	uint16_t cid = ++c->next_cid;
	const struct nvme_cqe *e;
	uint32_t dw3;

	cmd->cdw0 |= (uint32_t)cid << NVME_SQE_CID_SHIFT;
	sq_push(&c->asq, cmd);
	ring_sq(c, &c->asq);
	while (!(e = cq_peek(&c->acq))) {
		if (now_ms() > end) {
			say(c, "%s: no completion within %d ms", what, ADMIN_TIMEOUT_MS);
			return -ETIMEDOUT;
		}
	}
	dw3 = e->dw3;
	if (dw0)
		*dw0 = e->dw0;
	c->asq.head = NVME_CQE_SQHD(e->dw2);
	cq_pop(&c->acq);
	ring_cq(c, &c->acq);
	if (NVME_CQE_CID(dw3) != cid) {
		say(c, "%s: completion for command %u, expected %u", what, NVME_CQE_CID(dw3), cid);
		return -EIO;
	}
	if (NVME_CQE_STATUS(dw3)) {
		say(c, "%s: %s (status 0x%x)", what, nvme_status_str((uint16_t)NVME_CQE_STATUS(dw3)),
		    (unsigned)NVME_CQE_STATUS(dw3));
		return -EIO;
	}
	return 0;
}

static void ascii(char *dst, const uint8_t *src, size_t n)
{
	memcpy(dst, src, n);
	dst[n] = '\0';
	for (size_t i = n; i > 0 && (dst[i - 1] == ' ' || dst[i - 1] == '\0'); i--)
		dst[i - 1] = '\0';
}

static int identify(struct nvme_ctrl *c)
{
	const uint8_t *d = c->ident.vaddr;
	struct nvme_sqe cmd = {.cdw0 = NVME_ADM_IDENTIFY, .prp1 = c->ident.bus_addr, .cdw10 = NVME_CNS_CTRL};
	uint32_t nn, lbaf;
	uint8_t mdts, flbas, nlbaf;
	unsigned mps = 12u + NVME_CAP_MPSMIN(c->cap);

	if (admin(c, &cmd, NULL, "Identify Controller"))
		return -EIO;
	ascii(c->serial, d + NVME_IDC_SN, 20);
	ascii(c->model, d + NVME_IDC_MN, 40);
	ascii(c->firmware, d + NVME_IDC_FR, 8);
	mdts = d[NVME_IDC_MDTS];
	memcpy(&nn, d + NVME_IDC_NN, 4);
	/* One PRP list page per command bounds us too. */
	c->max_xfer = NVME_PRP_PER_PAGE * NVME_PAGE;
	if (mdts && mdts + mps < 32 && (UINT32_C(1) << (mdts + mps)) < c->max_xfer)
		c->max_xfer = UINT32_C(1) << (mdts + mps);
	if (nn == 0) {
		say(c, "the controller has no namespace");
		return -ENODEV;
	}
	c->nsid = 1;
	cmd = (struct nvme_sqe){.cdw0 = NVME_ADM_IDENTIFY, .nsid = c->nsid, .prp1 = c->ident.bus_addr,
				.cdw10 = NVME_CNS_NS};
	if (admin(c, &cmd, NULL, "Identify Namespace 1"))
		return -EIO;
	memcpy(&c->nblocks, d + NVME_IDN_NSZE, 8);
	flbas = d[NVME_IDN_FLBAS] & 0xfu;
	nlbaf = d[NVME_IDN_NLBAF];
	if (flbas > nlbaf) {
		say(c, "namespace 1 uses LBA format %u of %u", flbas, nlbaf + 1u);
		return -EIO;
	}
	memcpy(&lbaf, d + NVME_IDN_LBAF + 4u * flbas, 4);
	c->lba_shift = (lbaf >> 16) & 0xffu;
	if (c->nblocks == 0 || c->lba_shift < 9 || c->lba_shift > 12) {
		say(c, "namespace 1: %" PRIu64 " blocks of 2^%u bytes: not usable here", c->nblocks, c->lba_shift);
		return -EIO;
	}
	return 0;
}

int nvme_open(struct nvme_ctrl *c, const char *uri, unsigned nvec)
{
	struct upci_bar_info bi;
	uint64_t len, v;
	uint32_t cmd;
	void *map;
	int rc;

	memset(c, 0, sizeof(*c));
	snprintf(c->uri, sizeof(c->uri), "%s", uri);
	c->asq.mem.fd = c->acq.mem.fd = c->ident.fd = -1;
	rc = upci_open(&c->dev, uri);
	if (rc) {
		say(c, "open: %s", upci_strerror(rc));
		return rc;
	}
	rc = upci_claim(c->dev);
	if (rc) {
		say(c, "claim: %s", upci_strerror(rc));
		goto fail;
	}
	rc = upci_bar_info(c->dev, 0, &bi);
	if (rc == 0 && !(bi.flags & UPCI_BAR_PRESENT))
		rc = -ENODEV;
	if (rc) {
		say(c, "BAR0: %s", upci_strerror(rc));
		goto fail;
	}
	/* Doorbells through the mapping when there is one, else messages. */
	if ((bi.flags & UPCI_BAR_MAPPABLE) && !(bi.flags & UPCI_BAR_MAP_RDONLY) &&
	    upci_bar_map(c->dev, 0, &map, &len) == 0 && len >= NVME_REG_DBS + 4096u)
		c->bar0 = map;
	c->bar0_len = c->bar0 ? len : bi.size;
	if ((rc = reg_rd(c, NVME_REG_CAP, 8, &c->cap)))
		goto fail;
	c->dstrd = NVME_CAP_DSTRD(c->cap);
	c->timeout_ms = 500u * (NVME_CAP_TO(c->cap) + 1u);
	if (!(c->cap & NVME_CAP_CSS_NVM) || NVME_CAP_MPSMIN(c->cap) != 0 || NVME_CAP_MQES(c->cap) < 1) {
		say(c, "CAP 0x%016" PRIx64 ": needs the NVM command set, 4 KiB pages and queues of 2", c->cap);
		rc = -ENOTSUP;
		goto fail;
	}
	/* Reset the controller: disabled, then our admin queues. */
	if ((rc = reg_rd(c, NVME_REG_CC, 4, &v)) || (rc = reg_wr(c, NVME_REG_CC, 4, v & ~(uint64_t)NVME_CC_EN)) ||
	    (rc = wait_rdy(c, 0)))
		goto fail;
	/* The controller fetches commands by DMA: bus mastering on (enabling
	 * MSI-X turns it on too, but polled queues need it as well). */
	rc = upci_config_read(c->dev, PCI_COMMAND, 2, &cmd);
	if (rc == 0)
		rc = upci_config_write(c->dev, PCI_COMMAND, 2, cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	if (rc) {
		say(c, "turning bus mastering on: %s", upci_strerror(rc));
		goto fail;
	}
	if (nvec) {
		rc = upci_irq_enable(c->dev, UPCI_IRQ_MSIX, nvec);
		if (rc < 0) {
			say(c, "enabling %u MSI-X vectors: %s", nvec, upci_strerror(rc));
			goto fail;
		}
		c->nvec = (unsigned)rc;
	}
	if ((rc = ring_alloc(c, &c->asq, 0, false, ADMIN_DEPTH)) || (rc = ring_alloc(c, &c->acq, 0, true, ADMIN_DEPTH)))
		goto fail;
	rc = upci_dma_alloc(c->dev, UPCI_IOVA_ANY, NVME_IDENTIFY_SIZE, &c->ident);
	if (rc) {
		say(c, "allocating the Identify buffer: %s", upci_strerror(rc));
		goto fail;
	}
	if ((rc = reg_wr(c, NVME_REG_AQA, 4, ((ADMIN_DEPTH - 1u) << NVME_AQA_ACQS_SHIFT) | (ADMIN_DEPTH - 1u))) ||
	    (rc = reg_wr(c, NVME_REG_ASQ, 8, c->asq.mem.bus_addr)) ||
	    (rc = reg_wr(c, NVME_REG_ACQ, 8, c->acq.mem.bus_addr)) ||
	    (rc = reg_wr(c, NVME_REG_CC, 4,
			 NVME_CC_EN | NVME_CC_CSS_NVM | (0u << NVME_CC_MPS_SHIFT) |
				 (NVME_SQES_LOG2 << NVME_CC_IOSQES_SHIFT) | (NVME_CQES_LOG2 << NVME_CC_IOCQES_SHIFT))) ||
	    (rc = wait_rdy(c, NVME_CSTS_RDY)) || (rc = identify(c)))
		goto fail;
	return 0;
fail:
	nvme_close(c);
	return rc < 0 ? rc : -EIO;
}

void nvme_close(struct nvme_ctrl *c)
{
	uint64_t v;

	if (!c->dev)
		return;
	/* Normal shutdown, so the device finishes its writes; then off. */
	if (c->acq.mem.vaddr && upci_mmio_read(c->dev, 0, NVME_REG_CC, 4, &v) == 0 && (v & NVME_CC_EN)) {
		int64_t end = now_ms() + c->timeout_ms;

		upci_mmio_write(c->dev, 0, NVME_REG_CC, 4, (v & ~(uint64_t)NVME_CC_SHN_MASK) | NVME_CC_SHN_NORMAL);
		while (upci_mmio_read(c->dev, 0, NVME_REG_CSTS, 4, &v) == 0 &&
		       (v & NVME_CSTS_SHST_MASK) != NVME_CSTS_SHST_DONE && now_ms() < end)
			nanosleep(&(struct timespec){0, 1000000}, NULL);
		upci_mmio_write(c->dev, 0, NVME_REG_CC, 4, 0);
	}
	ring_free(c, &c->asq);
	ring_free(c, &c->acq);
	if (c->ident.vaddr)
		upci_dma_free(c->dev, &c->ident);
	upci_close(c->dev); /* unmaps BAR0, disables interrupts */
	c->dev = NULL;
	c->bar0 = NULL;
}

/* ---- I/O queues ---- */

int nvme_ioq_create(struct nvme_ctrl *c, struct nvme_ioq *q, unsigned qid, unsigned depth, bool irq)
{
	struct nvme_sqe cmd;
	char what[64];
	int rc;

	memset(q, 0, sizeof(*q));
	q->ctrl = c;
	q->qid = qid;
	q->vector = -1;
	q->efd = -1;
	q->prps.fd = -1;
	if (qid == 0 || qid > 0xffffu || depth < 2 || depth > NVME_CAP_MQES(c->cap) + 1u) {
		say(c, "I/O queue %u of depth %u: the controller takes depths 2..%u", qid, depth,
		    NVME_CAP_MQES(c->cap) + 1u);
		return -EINVAL;
	}
	if (irq && qid >= c->nvec) {
		say(c, "I/O queue %u wants MSI-X vector %u, but %u vectors are enabled", qid, qid, c->nvec);
		return -ERANGE;
	}
	q->cookie = calloc(depth, sizeof(*q->cookie));
	q->busy = calloc(depth, sizeof(*q->busy));
	if (!q->cookie || !q->busy) {
		rc = -ENOMEM;
		goto fail;
	}
	if ((rc = ring_alloc(c, &q->cq, qid, true, depth)) || (rc = ring_alloc(c, &q->sq, qid, false, depth)))
		goto fail;
	/* The CQ's vector signals an eventfd of this queue's own: the thread
	 * that drives the queue waits on it, and only on it. */
	if (irq) {
		q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		rc = q->efd < 0 ? -errno : upci_irq_set_eventfd(c->dev, qid, q->efd);
		if (rc) {
			say(c, "routing MSI-X vector %u to queue %u's eventfd: %s", qid, qid, upci_strerror(rc));
			goto fail;
		}
	}
	rc = upci_dma_alloc(c->dev, UPCI_IOVA_ANY, (uint64_t)depth * NVME_PAGE, &q->prps);
	if (rc) {
		say(c, "allocating PRP lists for queue %u: %s", qid, upci_strerror(rc));
		goto fail;
	}
	cmd = (struct nvme_sqe){.cdw0 = NVME_ADM_CREATE_CQ, .prp1 = q->cq.mem.bus_addr,
				.cdw10 = ((depth - 1u) << NVME_QSIZE_SHIFT) | qid,
				.cdw11 = NVME_CQ_PC | (irq ? NVME_CQ_IEN | qid << NVME_CQ_IV_SHIFT : 0u)};
	snprintf(what, sizeof(what), "Create I/O CQ %u", qid);
	if ((rc = admin(c, &cmd, NULL, what)))
		goto fail;
	cmd = (struct nvme_sqe){.cdw0 = NVME_ADM_CREATE_SQ, .prp1 = q->sq.mem.bus_addr,
				.cdw10 = ((depth - 1u) << NVME_QSIZE_SHIFT) | qid,
				.cdw11 = NVME_SQ_PC | qid << NVME_SQ_CQID_SHIFT};
	snprintf(what, sizeof(what), "Create I/O SQ %u", qid);
	if ((rc = admin(c, &cmd, NULL, what))) {
		cmd = (struct nvme_sqe){.cdw0 = NVME_ADM_DELETE_CQ, .cdw10 = qid};
		(void)admin(c, &cmd, NULL, "Delete I/O CQ");
		goto fail;
	}
	q->vector = irq ? (int)qid : -1;
	q->live = true;
	return 0;
fail:
	nvme_ioq_destroy(q);
	q->ctrl = NULL;
	return rc;
}

void nvme_ioq_destroy(struct nvme_ioq *q)
{
	struct nvme_ctrl *c = q->ctrl;

	if (!c)
		return;
	if (q->live) {
		struct nvme_sqe cmd = {.cdw0 = NVME_ADM_DELETE_SQ, .cdw10 = q->qid};

		if (admin(c, &cmd, NULL, "Delete I/O SQ") == 0) {
			cmd = (struct nvme_sqe){.cdw0 = NVME_ADM_DELETE_CQ, .cdw10 = q->qid};
			(void)admin(c, &cmd, NULL, "Delete I/O CQ");
		}
	}
	if (q->efd >= 0) {
		(void)upci_irq_set_eventfd(c->dev, q->qid, -1);
		close(q->efd);
	}
	ring_free(c, &q->sq);
	ring_free(c, &q->cq);
	if (q->prps.vaddr)
		upci_dma_free(c->dev, &q->prps);
	free(q->cookie);
	free(q->busy);
	memset(q, 0, sizeof(*q));
}

int nvme_submit_rw(struct nvme_ioq *q, bool write, uint64_t lba, uint32_t nblocks, uint64_t bus, uint64_t cookie,
		   bool more)
{
	struct nvme_ctrl *c = q->ctrl;
	uint64_t len = (uint64_t)nblocks << c->lba_shift;
	uint64_t pages = (len + NVME_PAGE - 1) / NVME_PAGE;
	struct nvme_sqe cmd = {0};
	unsigned slot;

	if (nblocks == 0 || nblocks > 0x10000u || len > c->max_xfer || (bus & (NVME_PAGE - 1)))
		return -EINVAL;
	if (lba >= c->nblocks || nblocks > c->nblocks - lba)
		return -ERANGE;
	if (q->inflight + 1 >= q->sq.depth) /* a full ring keeps one entry free */
		return -EAGAIN;
	for (slot = q->next; q->busy[slot]; slot = (slot + 1) % q->sq.depth)
		;
	q->next = (slot + 1) % q->sq.depth;
	cmd.cdw0 = (write ? NVME_CMD_WRITE : NVME_CMD_READ) | (uint32_t)slot << NVME_SQE_CID_SHIFT;
	cmd.nsid = c->nsid;
	cmd.prp1 = bus;
	if (pages == 2) {
		cmd.prp2 = bus + NVME_PAGE;
	} else if (pages > 2) {
		uint64_t *list = (uint64_t *)((uint8_t *)q->prps.vaddr + (size_t)slot * NVME_PAGE);

		for (uint64_t i = 1; i < pages; i++)
			list[i - 1] = bus + i * NVME_PAGE;
		cmd.prp2 = q->prps.bus_addr + (uint64_t)slot * NVME_PAGE;
	}
	cmd.cdw10 = (uint32_t)lba;
	cmd.cdw11 = (uint32_t)(lba >> 32);
	cmd.cdw12 = nblocks - 1u;
	q->busy[slot] = true;
	q->cookie[slot] = cookie;
	q->inflight++;
	sq_push(&q->sq, &cmd);
	if (!more)
		ring_sq(c, &q->sq);
	return 0;
}

void nvme_kick(struct nvme_ioq *q)
{
	ring_sq(q->ctrl, &q->sq);
}

int nvme_reap(struct nvme_ioq *q, struct nvme_done *done, unsigned max)
{
	const struct nvme_cqe *e;
	unsigned n = 0;

	while (n < max && (e = cq_peek(&q->cq))) {
		uint32_t dw3 = e->dw3;
		uint16_t slot = NVME_CQE_CID(dw3);

		if (slot >= q->sq.depth || !q->busy[slot]) {
			say(q->ctrl, "queue %u: completion for command %u, which is not in flight", q->qid, slot);
			return -EIO;
		}
		q->sq.head = NVME_CQE_SQHD(e->dw2);
		done[n].cookie = q->cookie[slot];
		done[n].status = (uint16_t)NVME_CQE_STATUS(dw3);
		q->busy[slot] = false;
		q->inflight--;
		n++;
		cq_pop(&q->cq);
	}
	if (n)
		ring_cq(q->ctrl, &q->cq);
	return (int)n;
}

int nvme_wait(struct nvme_ioq *q, struct nvme_done *done, unsigned max, int timeout_ms)
{
	int64_t end = timeout_ms < 0 ? INT64_MAX : now_ms() + timeout_ms;

	for (;;) {
		int n = nvme_reap(q, done, max);

		if (n != 0)
			return n;
		if (q->inflight == 0 || now_ms() >= end)
			return -ETIMEDOUT;
		if (q->efd >= 0) {
			struct pollfd p = {.fd = q->efd, .events = POLLIN};
			int64_t left = end - now_ms();
			uint64_t cnt;

			/* A wake-up is re-armed by reading the counter; the
			 * completions are then in the CQ (phase tags). */
			if (poll(&p, 1, left > 1000 ? 1000 : (int)(left > 0 ? left : 0)) < 0 && errno != EINTR)
				return -errno;
			if (read(q->efd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
				return -errno;
		}
	}
}

const char *nvme_status_str(uint16_t status)
{
	unsigned sct = (status >> 8) & 7u, sc = status & 0xffu;

	if (status == 0)
		return "success";
	if (sct == 0 && sc == NVME_SC_INVALID_FIELD)
		return "invalid field in command";
	if (sct == 0 && sc == NVME_SC_LBA_RANGE)
		return "LBA out of range";
	if (sct == 0)
		return "generic command error";
	if (sct == 1)
		return "command specific error";
	if (sct == 2)
		return "media or data integrity error";
	return "error";
}

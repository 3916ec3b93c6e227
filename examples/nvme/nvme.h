/* SPDX-License-Identifier: MIT */
/*
 * A small user-space NVMe driver on the public upci API only: it brings a
 * controller up with an admin queue pair, identifies it and its first
 * namespace, creates I/O queue pairs that complete by MSI-X interrupt or
 * by polling, and reads and writes logical blocks with PRPs.
 *
 * Interrupts: I/O queue pair N completes on MSI-X vector N, which is
 * routed to an eventfd of the queue's own (upci_irq_set_eventfd), so a
 * thread per queue waits on its own vector and no thread takes another's.
 * Doorbells are written through the mapped BAR0 with upci_write32(),
 * which orders the queue entries before the doorbell.
 *
 * Threading: one thread per I/O queue; the admin calls (open, queue
 * creation, close) from one thread while no I/O runs.
 */
#ifndef UPCI_EXAMPLE_NVME_H
#define UPCI_EXAMPLE_NVME_H

#include <stdbool.h>
#include <stdint.h>

#include "nvme_spec.h"
#include "upci/upci.h"

#define NVME_PAGE 4096u
/* PRP list entries in one page: the largest transfer one command moves is
 * that many pages plus the first. */
#define NVME_PRP_PER_PAGE (NVME_PAGE / 8u)

/* One submission or completion ring in DMA memory. */
struct nvme_ring {
	struct upci_dma_buf mem;
	unsigned depth, head, tail, phase;
	uint32_t db; /* its doorbell's offset in BAR0 */
};

/* An I/O queue pair; commands are numbered by their slot. */
struct nvme_ioq {
	struct nvme_ctrl *ctrl;
	unsigned qid;
	int vector;                /* MSI-X vector of the CQ, -1 when polled */
	int efd;                   /* the vector's eventfd, -1 when polled */
	struct nvme_ring sq, cq;
	struct upci_dma_buf prps;  /* one PRP list page per slot */
	uint64_t *cookie;          /* per slot: the caller's tag */
	bool *busy;                /* per slot */
	unsigned inflight, next;
	bool live;                 /* created on the controller */
};

struct nvme_ctrl {
	upci_dev *dev;
	char uri[256];
	void *bar0;                  /* BAR0 mapped, or NULL: upci_mmio_write */
	uint64_t bar0_len;           /* what of BAR0 the doorbells may use */
	uint64_t cap;
	unsigned dstrd, timeout_ms, nvec;
	struct nvme_ring asq, acq;
	struct upci_dma_buf ident;   /* 4 KiB for Identify data */
	uint16_t next_cid;
	/* what Identify said */
	char model[41], serial[21], firmware[9];
	uint32_t nsid;               /* the namespace we use: the first one */
	uint64_t nblocks;            /* its size in logical blocks */
	unsigned lba_shift;          /* log2 of its block size */
	uint32_t max_xfer;           /* bytes one command may move */
};

/* A finished command. */
struct nvme_done {
	uint64_t cookie;
	uint16_t status; /* NVME_CQE_STATUS: 0 is success */
};

/*
 * Open @uri, claim it, reset the controller, bring it up with an admin
 * queue pair, enable @nvec MSI-X vectors (0: none, every queue is polled)
 * and Identify the controller and its first namespace. Errors are printed
 * with the URI and the step on stderr.
 * Return: 0 or a negative errno.
 */
int nvme_open(struct nvme_ctrl *c, const char *uri, unsigned nvec);
/* Disable the controller (normal shutdown) and close the device. */
void nvme_close(struct nvme_ctrl *c);

/*
 * Create I/O queue pair @qid (1..) of @depth entries (2..CAP.MQES+1);
 * completions interrupt on MSI-X vector @qid when @irq (the vector is
 * routed to an eventfd of the queue's), else are polled.
 * Return: 0 or a negative errno (-EIO with the status printed when the
 * controller refuses).
 */
int nvme_ioq_create(struct nvme_ctrl *c, struct nvme_ioq *q, unsigned qid, unsigned depth, bool irq);
/* Delete the queue pair from the controller and free it. */
void nvme_ioq_destroy(struct nvme_ioq *q);

/*
 * Queue a read or write of @nblocks blocks at @lba to or from @len bytes
 * at bus address @bus (page aligned; the memory the caller mapped), and
 * ring the doorbell unless @more (the caller will queue more first).
 * Return: 0; -EAGAIN when the queue is full; -EINVAL for a transfer that is
 * empty, too long or not page aligned; -ERANGE past the namespace's end.
 */
int nvme_submit_rw(struct nvme_ioq *q, bool write, uint64_t lba, uint32_t nblocks, uint64_t bus, uint64_t cookie,
		   bool more);
/* Ring the SQ doorbell for commands queued with @more. */
void nvme_kick(struct nvme_ioq *q);

/*
 * Collect up to @max finished commands into @done without waiting.
 * Return: how many (0 when none), or -EIO when the controller failed.
 */
int nvme_reap(struct nvme_ioq *q, struct nvme_done *done, unsigned max);

/*
 * Wait until at least one command finished (by the queue's interrupt, or
 * by polling for a polled queue) or @timeout_ms passed, then reap. Only
 * this queue's vector wakes the caller.
 * Return: as nvme_reap(); -ETIMEDOUT.
 */
int nvme_wait(struct nvme_ioq *q, struct nvme_done *done, unsigned max, int timeout_ms);

/* Words for a completion status. */
const char *nvme_status_str(uint16_t status);

#endif /* UPCI_EXAMPLE_NVME_H */

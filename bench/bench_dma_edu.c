/* SPDX-License-Identifier: MIT */
/* edu's DMA engine: 4 KiB between RAM and the device buffer per transfer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench_dma.h"
#include "bench_util.h"
#include "edu_regs.h"

_Static_assert(DMA_EDU_LEN == EDU_DMA_SIZE, "one transfer fills the edu buffer");

/* QEMU's edu finishes a transfer from a 100 ms timer; ours at once. */
#define EDU_DONE_TIMEOUT_NS (5ll * 1000000000)

struct edu_dir {
	struct dma_edu *e;
	int to_ram;
};

struct dma_edu {
	struct bench_dev *d;
	struct upci_dma_buf ram;
	struct edu_dir dir[2];
	uint64_t faults0;
};

static int wr(struct dma_edu *e, uint64_t off, uint64_t v)
{
	return upci_mmio_write(e->d->dev, EDU_BAR, off, 8, v);
}

static int xfer(struct dma_edu *e, int to_ram)
{
	uint64_t bus = e->ram.bus_addr, cmd = EDU_DMA_CMD_START | (to_ram ? EDU_DMA_CMD_TO_RAM : 0);
	int64_t deadline;
	int rc;

	rc = wr(e, EDU_REG_DMA_SRC, to_ram ? EDU_DMA_START : bus);
	if (!rc)
		rc = wr(e, EDU_REG_DMA_DST, to_ram ? bus : EDU_DMA_START);
	if (!rc)
		rc = wr(e, EDU_REG_DMA_COUNT, DMA_EDU_LEN);
	if (!rc)
		rc = wr(e, EDU_REG_DMA_CMD, cmd);
	deadline = bench_now_ns() + EDU_DONE_TIMEOUT_NS;
	while (!rc) {
		rc = upci_mmio_read(e->d->dev, EDU_BAR, EDU_REG_DMA_CMD, 8, &cmd);
		if (!rc && !(cmd & EDU_DMA_CMD_START))
			break;
		if (!rc && bench_now_ns() > deadline)
			rc = -ETIMEDOUT;
	}
	return rc;
}

int dma_edu_loop(void *ctx, uint64_t n)
{
	struct edu_dir *x = ctx;
	int rc = 0;

	for (uint64_t i = 0; i < n && !rc; i++)
		rc = xfer(x->e, x->to_ram);
	return rc;
}

static uint64_t faults(struct dma_edu *e)
{
	uint64_t v = 0;

	/* Unimplemented on QEMU's edu: reads all ones there, still constant. */
	bench_ok(upci_mmio_read(e->d->dev, EDU_BAR, EDU_REG_DMA_FAULTS, 4, &v), e->d->uri, "read DMA_FAULTS");
	return v;
}

/* RAM -> device -> RAM must bring the same bytes back. */
static void verify(struct dma_edu *e)
{
	uint8_t want[DMA_EDU_LEN];

	for (unsigned i = 0; i < DMA_EDU_LEN; i++)
		want[i] = (uint8_t)(i * 7u + 3u);
	memcpy(e->ram.vaddr, want, DMA_EDU_LEN);
	bench_ok(xfer(e, 0), e->d->uri, "edu DMA RAM -> device");
	memset(e->ram.vaddr, 0, DMA_EDU_LEN);
	bench_ok(xfer(e, 1), e->d->uri, "edu DMA device -> RAM");
	if (memcmp(e->ram.vaddr, want, DMA_EDU_LEN) != 0)
		bench_die(e->d->uri, "edu DMA round trip brought back other bytes", -EIO);
}

struct dma_edu *dma_edu_setup(struct bench_dev *d)
{
	struct dma_edu *e = calloc(1, sizeof(*e));

	if (!e)
		bench_die(d->uri, "allocating", -ENOMEM);
	e->d = d;
	bench_dev_master(d);
	bench_ok(upci_dma_alloc(d->dev, UPCI_IOVA_ANY, DMA_EDU_LEN, &e->ram), d->uri, "allocate DMA buffer");
	if (e->ram.bus_addr > EDU_DMA_MASK - (DMA_EDU_LEN - 1))
		bench_die(d->uri, "DMA buffer lies above edu's 28-bit DMA mask", -ERANGE);
	e->faults0 = faults(e);
	verify(e);
	e->dir[0] = (struct edu_dir){e, 0};
	e->dir[1] = (struct edu_dir){e, 1};
	return e;
}

void *dma_edu_ctx(struct dma_edu *e, int to_ram)
{
	return &e->dir[to_ram ? 1 : 0];
}

void dma_edu_check(struct dma_edu *e)
{
	if (faults(e) != e->faults0)
		bench_die(e->d->uri, "edu rejected DMA requests during the run", -EIO);
}

void dma_edu_fini(struct dma_edu *e)
{
	if (!e)
		return;
	upci_dma_free(e->d->dev, &e->ram);
	free(e);
}

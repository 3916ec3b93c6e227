/* SPDX-License-Identifier: MIT */
/* testdev's descriptor memcpy engine, driven as a driver would. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_dma.h"
#include "bench_util.h"
#include "testdev_regs.h"

#define TD_SLOTS 8u

struct td_slot {
	struct dma_testdev *t;
	uint64_t desc_bus;
	uint32_t len;
};

struct dma_testdev {
	struct bench_dev *d;
	struct upci_dma_buf src, dst, desc;
	struct td_slot slot[TD_SLOTS];
	uint64_t faults0;
};

static uint64_t reg(struct dma_testdev *t, uint64_t off)
{
	uint64_t v = 0;

	bench_ok(upci_mmio_read(t->d->dev, TESTDEV_BAR_REGS, off, 4, &v), t->d->uri, "read testdev register");
	return v;
}

/* Words that differ everywhere, so a short or misplaced copy shows. */
static void fill_pattern(void *p, uint64_t len, uint64_t seed)
{
	uint64_t *w = p;

	for (uint64_t i = 0; i < len / 8; i++)
		w[i] = (i + seed) * 0x9e3779b97f4a7c15ull;
}

struct dma_testdev *dma_testdev_setup(struct bench_dev *d, uint32_t max_len)
{
	struct dma_testdev *t = calloc(1, sizeof(*t));

	if (!t)
		bench_die(d->uri, "allocating", -ENOMEM);
	t->d = d;
	bench_dev_master(d);
	bench_ok(upci_dma_alloc(d->dev, UPCI_IOVA_ANY, max_len, &t->src), d->uri, "allocate DMA source");
	bench_ok(upci_dma_alloc(d->dev, UPCI_IOVA_ANY, max_len, &t->dst), d->uri, "allocate DMA destination");
	bench_ok(upci_dma_alloc(d->dev, UPCI_IOVA_ANY, TD_SLOTS * TESTDEV_DESC_SIZE, &t->desc), d->uri,
		 "allocate descriptor list");
	fill_pattern(t->src.vaddr, max_len, 1);
	t->faults0 = reg(t, TESTDEV_REG_FAULT_COUNT);
	return t;
}

static int td_failed(struct dma_testdev *t, uint32_t status)
{
	fprintf(stderr, "bench: %s: testdev DMA status 0x%x, last fault %u\n", t->d->uri, status,
		(unsigned)reg(t, TESTDEV_REG_LAST_FAULT));
	return -EIO;
}

int dma_testdev_loop(void *ctx, uint64_t n)
{
	struct td_slot *s = ctx;
	upci_dev *dev = s->t->d->dev;
	int rc;

	/* Once per batch: the list registers stick between STARTs. */
	rc = upci_mmio_write(dev, TESTDEV_BAR_REGS, TESTDEV_REG_DESC_ADDR, 8, s->desc_bus);
	if (!rc)
		rc = upci_mmio_write(dev, TESTDEV_BAR_REGS, TESTDEV_REG_DESC_COUNT, 4, 1);
	for (uint64_t i = 0; i < n && !rc; i++) {
		uint64_t st = 0;

		rc = upci_mmio_write(dev, TESTDEV_BAR_REGS, TESTDEV_REG_CTRL, 4, TESTDEV_CTRL_START);
		if (!rc)
			rc = upci_mmio_read(dev, TESTDEV_BAR_REGS, TESTDEV_REG_STATUS, 4, &st);
		if (!rc && (st & TESTDEV_STATUS_MASK) != TESTDEV_STATUS_DONE)
			rc = td_failed(s->t, (uint32_t)st);
	}
	return rc;
}

void *dma_testdev_prepare(struct dma_testdev *t, unsigned slot, uint32_t len)
{
	struct testdev_desc *dsc;
	struct td_slot *s;

	if (slot >= TD_SLOTS || len > t->src.size)
		bench_die(t->d->uri, "testdev descriptor slot", -EINVAL);
	dsc = (struct testdev_desc *)t->desc.vaddr + slot;
	s = &t->slot[slot];
	dsc->src = t->src.bus_addr;
	dsc->dst = t->dst.bus_addr;
	dsc->len = len;
	dsc->flags = 0;
	dsc->status = 0;
	s->t = t;
	s->desc_bus = t->desc.bus_addr + (uint64_t)slot * TESTDEV_DESC_SIZE;
	s->len = len;
	memset(t->dst.vaddr, 0, len);
	bench_ok(dma_testdev_loop(s, 1), t->d->uri, "testdev DMA");
	if (dsc->status != TESTDEV_DESC_ST_DONE)
		bench_die(t->d->uri, "testdev descriptor status is not DONE", -EIO);
	if (memcmp(t->dst.vaddr, t->src.vaddr, len) != 0)
		bench_die(t->d->uri, "testdev DMA copied the wrong bytes", -EIO);
	return s;
}

void dma_testdev_check(struct dma_testdev *t)
{
	if (reg(t, TESTDEV_REG_FAULT_COUNT) != t->faults0)
		bench_die(t->d->uri, "testdev counted DMA faults during the run", -EIO);
}

void dma_testdev_fini(struct dma_testdev *t)
{
	if (!t)
		return;
	upci_dma_free(t->d->dev, &t->desc);
	upci_dma_free(t->d->dev, &t->dst);
	upci_dma_free(t->d->dev, &t->src);
	free(t);
}

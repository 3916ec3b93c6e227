/* SPDX-License-Identifier: MIT */
/*
 * The DMA engines bench_dma drives. Each *_loop() is a bench_op loop: it
 * runs n transfers, each checked for completion without a fault. Set-up
 * and preparation copy once and compare the bytes, so what is timed is
 * known to move the right data. Failures are fatal (bench_die).
 */
#ifndef UPCI_BENCH_DMA_H
#define UPCI_BENCH_DMA_H

#include <stdint.h>

#include "bench_dev.h"

/* ---- testdev: descriptor memcpy between two upci_dma_alloc() buffers ---- */
struct dma_testdev;
/* Bus mastering on, source/destination buffers of @max_len, a descriptor page. */
struct dma_testdev *dma_testdev_setup(struct bench_dev *d, uint32_t max_len);
/* Write descriptor @slot (0..7) for a @len copy, check one run; returns the loop's ctx. */
void *dma_testdev_prepare(struct dma_testdev *t, unsigned slot, uint32_t len);
int dma_testdev_loop(void *ctx, uint64_t n);
/* No device fault since set-up. */
void dma_testdev_check(struct dma_testdev *t);
void dma_testdev_fini(struct dma_testdev *t); /* NULL is ignored */

/* ---- edu: 4 KiB between one upci_dma_alloc() buffer and the device ---- */
#define DMA_EDU_LEN 4096u
struct dma_edu;
struct dma_edu *dma_edu_setup(struct bench_dev *d);
/* ctx for dma_edu_loop(): @to_ram 0 = RAM -> device, 1 = device -> RAM. */
void *dma_edu_ctx(struct dma_edu *e, int to_ram);
int dma_edu_loop(void *ctx, uint64_t n);
void dma_edu_check(struct dma_edu *e);
void dma_edu_fini(struct dma_edu *e); /* NULL is ignored */

#endif /* UPCI_BENCH_DMA_H */

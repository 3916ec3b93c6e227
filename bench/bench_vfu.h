/* SPDX-License-Identifier: MIT */
/*
 * bench-vfio-user: upci's vfio-user client against `upci serve` on the same
 * machine, each figure next to a raw floor between two processes measured
 * in the same run. See docs/bench.md.
 */
#ifndef UPCI_BENCH_VFU_H
#define UPCI_BENCH_VFU_H

#include <sys/types.h>

#include "bench_dev.h"

/* What every figure is given (bench_vfu.c parses the command line). */
struct vfu_args {
	int quick;             /* --quick: a short run, for CI smoke */
	struct bench_dev *dev; /* the vfio-user device, open and claimed */
	pid_t server;          /* the `upci serve` we started, 0 with --uri */
};

/* Each figure returns 0 and dies (exit 1) on an operational failure; a
 * missed goal is printed, never returned. A device that is not testdev
 * gets a note and no rows. */

/* REGION_READ round trips (4 B, 4 KiB) next to a raw socket ping-pong. */
int vfu_fig_region(const struct vfu_args *a);
/* Its part that compares reply polling with none, idle and loaded. */
void vfu_fig_region_poll(const struct vfu_args *a);
/* Mapped BAR2 loads next to in-band REGION_READs of BAR2. */
int vfu_fig_bar(const struct vfu_args *a);
/* DMA_MAP+DMA_UNMAP pairs: upci_dma_alloc/free and upci_dma_map/unmap. */
int vfu_fig_dma(const struct vfu_args *a);
/* The server alone: a raw client against upci serve and an echo server. */
int vfu_fig_server(const struct vfu_args *a);
/* Doorbell -> client eventfd wake-up next to a raw eventfd ping-pong. */
int vfu_fig_irq(const struct vfu_args *a);

#endif /* UPCI_BENCH_VFU_H */

/* SPDX-License-Identifier: MIT */
/* The figures bench-sim can print; each returns 0 and dies (exit 1) on an
 * operational failure. A missed goal is printed, never returned. */
#ifndef UPCI_BENCH_FIGS_H
#define UPCI_BENCH_FIGS_H

#include "bench_util.h"

/* Config read and MMIO read: call path, mapped BAR, plain load. */
int bench_fig_access(const struct bench_args *a);
/* IRQ raise -> wake-up latency next to a raw eventfd ping-pong. */
int bench_fig_irq(const struct bench_args *a);
/* DMA engine throughput next to memcpy. */
int bench_fig_dma(const struct bench_args *a);

#endif /* UPCI_BENCH_FIGS_H */

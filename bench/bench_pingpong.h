/* SPDX-License-Identifier: MIT */
/*
 * Two-thread ping-pong for wake-up latency. Thread A records t0 and fires
 * an event; thread B blocks until it sees the event, records t1 and
 * replies over a back channel; A waits for the reply before the next
 * round, so exactly one event is in flight. Latency = t1 - t0 (both
 * CLOCK_MONOTONIC, which is one clock for every CPU).
 */
#ifndef UPCI_BENCH_PINGPONG_H
#define UPCI_BENCH_PINGPONG_H

#include <stdint.h>

/* Longest wait for one event before the run counts as failed: an event
 * that never arrives is an operational failure, not a slow figure. */
#define PINGPONG_TIMEOUT_MS 5000

struct pp_ops {
	int (*fire)(void *ctx);  /* A: make the event happen; 0 or -errno */
	int (*wait)(void *ctx);  /* B: block until it happened and consume it */
	int (*after)(void *ctx); /* B: after t1, before the reply (e.g. ack); may be NULL */
	void *ctx;
};

/*
 * Run @skip + @rounds rounds on a fresh thread B; lat[i] receives t1 - t0
 * in ns for the last @rounds. *@same_cpu (may be NULL) receives how many
 * of those rounds B woke on the CPU A fired from, or -1 where the platform
 * cannot tell: nothing is pinned, and whether the scheduler keeps the pair
 * on one CPU (a context switch) or two (a cross-CPU wake-up) decides what
 * the figure means. Return: 0, or the first negative errno of either side.
 */
int pingpong_run(const struct pp_ops *o, unsigned skip, unsigned rounds, int64_t *lat, long *same_cpu);

#endif /* UPCI_BENCH_PINGPONG_H */

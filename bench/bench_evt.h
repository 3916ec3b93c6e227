/* SPDX-License-Identifier: MIT */
/*
 * A one-way wake-up between two threads: an eventfd on Linux, a pipe
 * elsewhere (the same kind of object upci_irq_fd() is), so the raw floor
 * and the library are measured with the same kernel mechanism.
 */
#ifndef UPCI_BENCH_EVT_H
#define UPCI_BENCH_EVT_H

#ifdef __linux__
#define BENCH_EVT_NAME "eventfd"
#else
#define BENCH_EVT_NAME "pipe"
#endif

struct bench_evt {
	int rfd; /* poll and read this */
	int wfd; /* write this (== rfd for an eventfd) */
};

/* 0 or a negative errno. Both ends are non-blocking: waiters poll first,
 * as they do on upci_irq_fd(). */
int bench_evt_init(struct bench_evt *e);
void bench_evt_fini(struct bench_evt *e);
/* Make rfd readable: 0 or a negative errno. */
int bench_evt_signal(const struct bench_evt *e);
/* Block in poll() until readable (at most @timeout_ms), then consume:
 * 0, -ETIMEDOUT, or a negative errno. */
int bench_evt_wait(const struct bench_evt *e, int timeout_ms);
/* poll() one fd for POLLIN: 0, -ETIMEDOUT, or a negative errno. */
int bench_poll_in(int fd, int timeout_ms);

#endif /* UPCI_BENCH_EVT_H */

/* SPDX-License-Identifier: MIT */
/*
 * Adaptive polling for replies (vu_poll.c): before the client sleeps on
 * its socket, it tries the socket without blocking for a short window.
 * A reply that comes within the window is taken without the sleep and
 * the cross-CPU wake-up that ends it, which on a VM cost more than the
 * server's whole answer. The window adapts as KVM's halt-polling does:
 * a reply that came soon after the window closed doubles it (up to the
 * maximum); one that came later than the maximum halves it, so a slow
 * server soon costs no polling at all.
 *
 * Polling only pays when the server can run on another CPU meanwhile: a
 * process that may use one CPU never polls; nor does one on a machine
 * with more runnable tasks than CPUs (looked up every VU_POLL_LOAD_NS in
 * /proc/loadavg's running count, as KVM's halt-polling asks
 * single_task_running()): there a spinning client only delays the server,
 * whose reply then comes just after the window and would make it grow. A
 * poll that was preempted (a gap of VU_POLL_GAP_NS between two tries)
 * closes the window for VU_POLL_BACKOFF_NS.
 */
#ifndef UPCI_BACKEND_VFIO_USER_VU_POLL_H
#define UPCI_BACKEND_VFIO_USER_VU_POLL_H

#include <stdint.h>
#include <sys/types.h>

/* UPCI_VFU_POLL_US: the longest window, 0 (off) to VU_POLL_US_MAX. */
#define VU_POLL_ENV "UPCI_VFU_POLL_US"
#define VU_POLL_US_DEFAULT 50u
#define VU_POLL_US_MAX 1000u
/* Where a window that grows from 0 starts; a window halved below it is 0. */
#define VU_POLL_START_NS 10000u
/* Two tries this far apart: we were preempted while polling. */
#define VU_POLL_GAP_NS 100000
/* ... and then no polling for this long. */
#define VU_POLL_BACKOFF_NS 100000000
/* How often the machine's runnable count is looked at. */
#define VU_POLL_LOAD_NS 10000000

struct vu_poll {
	uint32_t max_ns; /* 0: never poll */
	uint32_t win_ns; /* the current window, 0..max_ns */
	uint64_t hits;   /* waits that ended while polling */
	uint64_t sleeps; /* waits that went on to sleep and got their answer */
	uint64_t preempted;  /* polls cut short by preemption */
	uint64_t busy_waits; /* waits not polled: more runnable tasks than CPUs */
	int64_t backoff_end; /* no polling before this time (ns) */
	unsigned cpus;       /* online CPUs, for the runnable count */
	int64_t load_next;   /* when to look at the runnable count again */
	int busy;            /* it said: more runnable tasks than CPUs */
	/* Runnable tasks on the machine (this one included), or -1 when
	 * unknown (then polling goes on); tests replace it. */
	int (*runnable)(void);
};

/* @s as a window in microseconds, 0..VU_POLL_US_MAX. 0 or -EINVAL
 * (@us untouched). */
int vu_poll_parse_us(const char *s, uint32_t *us);

/* UPCI_VFU_POLL_US into @us, VU_POLL_US_DEFAULT when it is unset or
 * empty. Return: 0; -EINVAL for a bad value (@us holds the default). */
int vu_poll_env_us(uint32_t *us);

/* Windows of at most @max_us (clamped to VU_POLL_US_MAX), starting at the
 * maximum; none at all when @ncpus < 2. */
void vu_poll_init(struct vu_poll *p, uint32_t max_us, unsigned ncpus);

/* CPUs this thread may run on (its affinity mask where the OS has one). */
unsigned vu_poll_cpus(void);

/* Runnable tasks on the machine now: /proc/loadavg's "running" field on
 * Linux, -1 elsewhere or when it cannot be read. */
int vu_poll_runnable(void);

/* CLOCK_MONOTONIC in ns: the clock windows are measured on. */
int64_t vu_poll_now_ns(void);

/*
 * Call @attempt until it returns anything but -EAGAIN, or until the window
 * has passed since @t0, or until a gap between two tries shows that we
 * were preempted (the window then closes for a while). Return:
 * @attempt's last result (-EAGAIN: sleep now). A result other than
 * -EAGAIN counts as a hit.
 */
ssize_t vu_poll_spin(struct vu_poll *p, int64_t t0, ssize_t (*attempt)(void *ctx), void *ctx);

/* The wait that began at @t0 slept and has now got its answer: adapt the
 * window. Not called for a wait that failed (a timeout says nothing). */
void vu_poll_slept(struct vu_poll *p, int64_t t0);

#endif /* UPCI_BACKEND_VFIO_USER_VU_POLL_H */

/* SPDX-License-Identifier: MIT */
/* Adaptive polling for replies: the window and its rule (see vu_poll.h). */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "vu_poll.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef __linux__
#include <sched.h>
#endif

int vu_poll_parse_us(const char *s, uint32_t *us)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > (long)VU_POLL_US_MAX)
		return -EINVAL;
	*us = (uint32_t)v;
	return 0;
}

int vu_poll_env_us(uint32_t *us)
{
	const char *e = getenv(VU_POLL_ENV);

	*us = VU_POLL_US_DEFAULT;
	return e && *e ? vu_poll_parse_us(e, us) : 0;
}

void vu_poll_init(struct vu_poll *p, uint32_t max_us, unsigned ncpus)
{
	if (max_us > VU_POLL_US_MAX)
		max_us = VU_POLL_US_MAX;
	p->max_ns = ncpus >= 2 ? max_us * 1000u : 0;
	p->win_ns = p->max_ns;
	p->hits = 0;
	p->sleeps = 0;
	p->preempted = 0;
	p->busy_waits = 0;
	p->backoff_end = 0;
	p->load_next = 0;
	p->busy = 0;
	p->runnable = vu_poll_runnable;
	{
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		p->cpus = n > 0 ? (unsigned)n : 1;
	}
}

int vu_poll_runnable(void)
{
#ifdef __linux__
	/* "0.52 0.58 0.59 3/1234 5678": the fourth field is running/total. */
	char buf[128], *slash;
	ssize_t n;
	int fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	slash = strchr(buf, '/');
	if (!slash)
		return -1;
	while (slash > buf && slash[-1] >= '0' && slash[-1] <= '9')
		slash--;
	return atoi(slash);
#else
	return -1;
#endif
}

/* More runnable tasks than CPUs, looked up at most every VU_POLL_LOAD_NS. */
static int machine_busy(struct vu_poll *p, int64_t now)
{
	if (now >= p->load_next) {
		int r = p->runnable ? p->runnable() : -1;

		p->busy = r > (int)p->cpus;
		p->load_next = now + VU_POLL_LOAD_NS;
	}
	return p->busy;
}

unsigned vu_poll_cpus(void)
{
#ifdef __linux__
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		return (unsigned)CPU_COUNT(&set);
#endif
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (unsigned)n : 1;
}

int64_t vu_poll_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

ssize_t vu_poll_spin(struct vu_poll *p, int64_t t0, ssize_t (*attempt)(void *ctx), void *ctx)
{
	int64_t prev = t0;

	if (p->win_ns == 0)
		return -EAGAIN;
	if (machine_busy(p, t0)) {
		p->busy_waits++;
		return -EAGAIN;
	}
	for (;;) {
		ssize_t r = attempt(ctx);
		int64_t now;

		if (r != -EAGAIN) {
			p->hits++;
			return r;
		}
		now = vu_poll_now_ns();
		if (now - prev >= VU_POLL_GAP_NS) {
			/* Someone else needed this CPU: polling costs the server. */
			p->preempted++;
			p->win_ns = 0;
			p->backoff_end = now + VU_POLL_BACKOFF_NS;
			return -EAGAIN;
		}
		if (now - t0 >= (int64_t)p->win_ns)
			return -EAGAIN;
		prev = now;
	}
}

void vu_poll_slept(struct vu_poll *p, int64_t t0)
{
	int64_t now, waited;

	p->sleeps++;
	if (p->max_ns == 0 || p->busy)
		return; /* off, or not polled on a busy machine: no clock to read */
	now = vu_poll_now_ns();
	waited = now - t0;
	if (now < p->backoff_end)
		return; /* not polled: the wait says nothing about the window */
	if (waited <= (int64_t)p->max_ns) {
		/* A longer window would have caught it. */
		uint32_t w = p->win_ns < VU_POLL_START_NS ? VU_POLL_START_NS : p->win_ns * 2u;

		p->win_ns = w < p->max_ns ? w : p->max_ns;
	} else {
		/* Slower than any window: polling only burns CPU. */
		p->win_ns /= 2u;
		if (p->win_ns < VU_POLL_START_NS)
			p->win_ns = 0;
	}
}

/* SPDX-License-Identifier: MIT */
/*
 * Part of figure "region": the client's reply polling (vu_poll.h) against
 * no polling (UPCI_VFU_POLL_US=0), on an idle machine and with two CPU
 * hogs, interleaved in one run: REGION_READ 4 B wall time and the client
 * process's CPU time per request. The device is reopened for each batch,
 * since the client reads the setting when it opens.
 *
 * Goal (issue 12): with the hogs, polling is at least as fast as no
 * polling and costs at most 1.2x its CPU per request; idle, it keeps its
 * gain.
 *
 * With the hogs the two modes take the same path (the client does not
 * poll while more tasks are runnable than there are CPUs), so their
 * difference is the machine's noise. To tell the two apart, a third mode
 * runs "off" again (A/A): the off-vs-off spread is the noise band, and
 * the client's own counters say how many replies it polled for.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "bench_vfu.h"
#include "bench_vfu_proc.h"
#include "bench_vfu_server.h"
#include "testdev_regs.h"
#include "vu.h" /* the client's polling counters */
#include "vu_poll.h"

#define HOGS VFU_PROC_HOGS
#define GOAL_LOADED_RATE 1.0 /* polling's rate / off's, with the hogs */
#define GOAL_LOADED_CPU 1.2  /* polling's CPU per request / off's */

enum { MODE_POLL, MODE_OFF, MODE_OFF2, NMODES };
enum { LOAD_IDLE, LOAD_HOGS, NLOADS };

struct sample {
	double wall_ns[32], cpu_ns[32];
	unsigned n;
	uint64_t reqs, hits, busy; /* the client's counters (vu_poll.h), summed */
};

static int64_t cpu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Open the device with polling as @mode says (the user's own setting, or
 * 0); the bench's handle is replaced. */
static void reopen(struct bench_dev *d, int mode, const char *user_env, pid_t server)
{
	bench_dev_close(d);
	if (mode != MODE_POLL)
		setenv(VU_POLL_ENV, "0", 1);
	else if (user_env)
		setenv(VU_POLL_ENV, user_env, 1);
	else
		unsetenv(VU_POLL_ENV);
	vfu_dev_connect(d, d->uri, server, 10000); /* waits out the previous session's close */
}

/* The client's polling counters of @d (vfio-user backend state). */
static struct vu_poll poll_counters(struct bench_dev *d)
{
	struct vu_dev *v = vu_of(d->dev);
	struct vu_poll p;

	pthread_mutex_lock(&v->c.io);
	p = v->c.poll;
	pthread_mutex_unlock(&v->c.io);
	return p;
}

static void read_batch(struct bench_dev *d, unsigned n, struct sample *s)
{
	struct vu_poll p0, p1;
	int64_t t0, c0;
	uint64_t v;
	uint32_t v32;

	for (unsigned i = 0; i < n / 10; i++) /* warm: the window adapts */
		bench_ok(upci_config_read(d->dev, 0, 4, &v32), d->uri, "config read");
	p0 = poll_counters(d);
	t0 = bench_now_ns();
	c0 = cpu_now_ns();
	for (unsigned i = 0; i < n; i++) {
		if (d->kind == BENCH_TESTDEV)
			bench_ok(upci_mmio_read(d->dev, TESTDEV_BAR_REGS, TESTDEV_REG_ID, 4, &v), d->uri, "BAR0 ID read");
		else
			bench_ok(upci_config_read(d->dev, 0, 4, &v32), d->uri, "config read");
	}
	s->wall_ns[s->n] = (double)(bench_now_ns() - t0) / n;
	s->cpu_ns[s->n] = (double)(cpu_now_ns() - c0) / n;
	s->n++;
	p1 = poll_counters(d);
	s->reqs += n;
	s->hits += p1.hits - p0.hits;
	s->busy += p1.busy_waits - p0.busy_waits;
}

static int cmp_ratio(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0;
}

/* Per round, @a's time over @b's (a rate ratio: above 1, b is faster):
 * the median, and in *spread (when not NULL) half the distance between
 * the quartiles. */
static double ratio_median(const struct sample *a, const struct sample *b, double *spread)
{
	double r[32];
	unsigned n = a->n < b->n ? a->n : b->n;

	for (unsigned i = 0; i < n; i++)
		r[i] = a->wall_ns[i] / b->wall_ns[i];
	if (spread) {
		double q[32];

		memcpy(q, r, n * sizeof(*r));
		qsort(q, n, sizeof(*q), cmp_ratio);
		*spread = n ? (q[(3 * n) / 4 < n ? (3 * n) / 4 : n - 1] - q[n / 4]) / 2 : 0;
	}
	return bench_median(r, n);
}

void vfu_fig_region_poll(const struct vfu_args *a)
{
	static const char *const load_name[NLOADS] = {"idle", "2 CPU hogs"};
	static const char *const mode_name[NMODES] = {"polling (default)", "off (" VU_POLL_ENV "=0)",
						      "off again (A/A)"};
	struct sample s[NLOADS][NMODES];
	double wall[NLOADS][NMODES], cpu[NLOADS][NMODES];
	unsigned rounds = a->quick ? 2 : 15, batch = a->quick ? 300 : 2000;
	const char *e = getenv(VU_POLL_ENV);
	char *user_env = e ? strdup(e) : NULL;
	struct bench_dev *d = a->dev;
	pid_t hog[HOGS] = {0};

	memset(s, 0, sizeof(s));
	printf("\nreply polling on and off, idle and with %d CPU hogs (%u CPUs), interleaved: %u rounds of %u\n"
	       "REGION_READ 4 B each way; CPU is the client process's (user + system) per request;\n"
	       "caught: replies the client got while polling; busy: waits it did not poll because more tasks\n"
	       "were runnable than CPUs (the client's own counters)\n",
	       HOGS, vu_poll_cpus(), rounds, batch);
	for (int load = 0; load < NLOADS; load++) {
		if (load == LOAD_HOGS)
			vfu_proc_hogs_start(hog);
		for (unsigned r = 0; r < rounds; r++)
			for (int k = 0; k < NMODES; k++) {
				int mode = (int)((r + (unsigned)k) % NMODES); /* rotate which goes first */

				reopen(d, mode, user_env, a->server);
				read_batch(d, batch, &s[load][mode]);
			}
		if (load == LOAD_HOGS)
			vfu_proc_hogs_stop(hog);
	}
	reopen(d, MODE_POLL, user_env, a->server); /* the other figures get the user's setting */
	free(user_env);
	printf("%-12s %-26s %12s %12s %8s %8s\n", "load", "mode", "us/request", "CPU us/req", "caught", "busy");
	for (int load = 0; load < NLOADS; load++)
		for (int m = 0; m < NMODES; m++) {
			struct sample *x = &s[load][m];

			wall[load][m] = bench_median(x->wall_ns, x->n);
			cpu[load][m] = bench_median(x->cpu_ns, x->n);
			printf("%-12s %-26s %12.2f %12.2f %7.1f%% %7.1f%%\n", load_name[load], mode_name[m],
			       wall[load][m] / 1e3, cpu[load][m] / 1e3, pct(x->hits, x->reqs), pct(x->busy, x->reqs));
		}
	{
		double spread, rate = ratio_median(&s[LOAD_HOGS][MODE_OFF], &s[LOAD_HOGS][MODE_POLL], NULL);
		double aa = ratio_median(&s[LOAD_HOGS][MODE_OFF], &s[LOAD_HOGS][MODE_OFF2], &spread);
		/* The noise band: how far off-vs-off strays from 1, or how
		 * widely its rounds scatter, whichever is more. */
		double band = aa > 1 ? aa - 1 : 1 - aa;

		if (spread > band)
			band = spread;
		double cpur = cpu[LOAD_HOGS][MODE_POLL] / cpu[LOAD_HOGS][MODE_OFF];
		double idle = ratio_median(&s[LOAD_IDLE][MODE_OFF], &s[LOAD_IDLE][MODE_POLL], NULL);
		const char *v = rate >= GOAL_LOADED_RATE ? "PASS" : rate >= GOAL_LOADED_RATE - band ? "PASS within noise" : "MISS";

		printf("with %d CPU hogs, per round: off/polling %.2fx, off/off again (A/A) %.2fx: noise band +-%.2f\n",
		       HOGS, rate, aa, band);
		printf("goal: with %d CPU hogs polling at least %.1fx the rate of no polling: %s (%.2fx)\n", HOGS,
		       GOAL_LOADED_RATE, v, rate);
		printf("goal: with %d CPU hogs polling's CPU per request at most %.1fx no polling's: %s (%.2fx)\n", HOGS,
		       GOAL_LOADED_CPU, bench_verdict(cpur <= GOAL_LOADED_CPU), cpur);
		printf("goal: idle, polling keeps a gain (above 1.0x the rate of no polling, per round): %s (%.2fx, at "
		       "%.2fx its CPU per request)\n",
		       bench_verdict(idle > 1.0), idle, cpu[LOAD_IDLE][MODE_POLL] / cpu[LOAD_IDLE][MODE_OFF]);
	}
}

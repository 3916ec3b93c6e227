/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the vfio-user server's message handling, fed through
 * the in-memory transport (the same framing code as the socket), on
 * sim:testdev or sim:edu, by a hostile client (hostile.h: the input
 * format, the fds it passes, what it does to them).
 *
 * The whole conversation is queued before the server runs: chunks as the
 * client's sendmsgs, pauses as silences in virtual time (so the DMA and
 * I/O timeouts expire without sleeping), actions at the point of the
 * stream where the server has taken every byte before them (a memfd
 * shrinks after its DMA_MAP, an eventfd fills up, an fd the server holds
 * becomes a pipe). The server runs until the input is used up (end of
 * stream), then the session is closed and the device reset.
 *
 * The fds the server is given are numbered from fed_base up, where the
 * process opens nothing else: one still open there after the input is a
 * leak, as is any other fd more than before (both abort). The process's
 * own fds stay below HOSTILE_LOW_FDS, where the server's own leaks would
 * land (the lowest free numbers).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "hostile.h"
#include "server.h"
#include "tran.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NR_DEVS 2
#define FED_SPAN 320  /* numbers kept for fds given to the server */
#define MAX_ACTS 4096 /* action records per input */

static const char *const uris[NR_DEVS] = {"sim:testdev?vectors=16,mem=65536", "sim:edu"};
static upci_dev *devs[NR_DEVS];
static struct vfu_server *servers[NR_DEVS];
static int fed_base;

/* An action record, run by the transport when the server reaches it. */
struct acts {
	const uint8_t *p;
	size_t len;
};
static struct acts acts[MAX_ACTS];

static void setup_once(void)
{
	struct vfu_server_opts o;
	struct rlimit rl;

	if (servers[0])
		return;
	signal(SIGPIPE, SIG_IGN); /* as upci serve */
	/* The fed numbers: high, but under the fd limit. */
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < HOSTILE_LOW_FDS + FED_SPAN ||
	    hostile_count_fds(HOSTILE_LOW_FDS) > HOSTILE_LOW_FDS / 2)
		abort(); /* no room to tell leaks apart */
	fed_base = (int)(rl.rlim_cur > 4096 ? 4096 : rl.rlim_cur) - FED_SPAN;
	vfu_server_opts_default(&o); /* the real timeouts: time is virtual */
	for (int i = 0; i < NR_DEVS; i++)
		if (upci_open(&devs[i], uris[i]) != 0 || upci_claim(devs[i]) != 0 ||
		    vfu_server_new(devs[i], &o, &servers[i]) != 0)
			abort();
}

static void run_acts(void *arg)
{
	const struct acts *a = arg;

	for (size_t i = 0; i + 4 <= a->len; i += 4)
		hostile_act(a->p + i);
}

static void feed(struct vfu_tran *t, const uint8_t *p, size_t left)
{
	struct hostile_rec r;
	unsigned nacts = 0;

	while (hostile_next(&p, &left, &r)) {
		int fds[MAX_CHUNK_FDS];
		size_t n = 0;

		if ((r.op & OP_CONTROL) && !(r.op & OP_ACTIONS)) {
			(void)vfu_tran_mem_feed_pause(t, r.ms, NULL, NULL);
			continue;
		}
		if (r.op & OP_CONTROL) {
			if (nacts < MAX_ACTS) {
				acts[nacts] = (struct acts){r.p, r.len};
				(void)vfu_tran_mem_feed_pause(t, 0, run_acts, &acts[nacts++]);
			}
			continue;
		}
		if (r.len == 0)
			continue; /* fds need a byte to travel with */
		for (unsigned i = 0; i < r.nfds; i++) {
			int fd = hostile_peer_fd(r.kinds[i]);

			if (fd >= 0)
				fds[n++] = fd;
		}
		(void)vfu_tran_mem_feed(t, r.p, r.len, fds, n);
	}
}

static void check_leaks(int before)
{
	int low = hostile_count_fds(HOSTILE_LOW_FDS), fed = hostile_fed_open();

	if (low == before && fed == 0)
		return;
	fprintf(stderr, "fd leak: %d open below %d (%d before), %d given to the server still open\n", low,
		HOSTILE_LOW_FDS, before, fed);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vfu_session *ss;
	struct vfu_tran *t;
	int dev, before, rc;

	setup_once();
	if (size < 1)
		return 0;
	/* Counted per input: between inputs the sanitizer may start its
	 * symbolizer, whose pipes stay open. */
	before = hostile_count_fds(HOSTILE_LOW_FDS);
	hostile_begin(fed_base);
	dev = (data[0] & IN_EDU) ? 1 : 0;
	if (vfu_tran_mem_new(&t) != 0)
		abort();
	if ((data[0] & IN_READAHEAD) && vfu_tran_set_readahead(t, true) != 0)
		abort();
	feed(t, data + 1, size - 1);
	if (vfu_session_open(servers[dev], t, &ss) != 0)
		abort();
	/* Bounded: every step consumes input or ends the session; waiting
	 * forever, a step passes any pause. */
	do
		rc = vfu_session_step(ss, -1);
	while (rc == 0);
	vfu_session_close(ss);
	vfu_tran_close(t);
	/* Same device state for the next input. */
	(void)upci_reset(devs[dev]);
	hostile_end();
	check_leaks(before);
	return 0;
}

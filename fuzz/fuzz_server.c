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
 * land (the lowest free numbers). Also checked: what the server sent
 * parses as vfio-user, and the device keeps nothing of the client.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
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
	for (int i = 0; i < NR_DEVS; i++) {
		hostile_server_opts(i, &o);
		if (upci_open(&devs[i], uris[i]) != 0 || upci_claim(devs[i]) != 0 ||
		    vfu_server_new(devs[i], &o, &servers[i]) != 0)
			abort();
	}
}

static void take_output(struct vfu_tran *t, off_t resize);

/* The transport of the input being run (for action 12). */
static struct vfu_tran *cur_tran;

static void run_acts(void *arg)
{
	const struct acts *a = arg;

	for (size_t i = 0; i + 4 <= a->len; i += 4) {
		if (a->p[i] % 16 == HOSTILE_ACT_RESIZE_SERVER_FDS)
			take_output(cur_tran, hostile_resize_size(a->p[i + 2]));
		else
			hostile_act(a->p + i);
	}
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

/*
 * What the server sent so far must be well-formed vfio-user: replies (an
 * error one carrying an errno) and its own DMA_READ/WRITE commands, every
 * header valid, nothing cut short. The fds it sent (BAR memfds) are tried
 * as a client would, resized to @resize bytes unless it is negative (they
 * are sealed: that must fail, and the BAR keep working), then closed.
 */
static void take_output(struct vfu_tran *t, off_t resize)
{
	struct vfu_tran *rx;
	uint8_t *buf = NULL;
	int *fds = NULL;
	size_t len = 0, nfds = 0;
	struct vfu_msg m;
	int rc;

	if (vfu_tran_mem_take_sent(t, &buf, &len, &fds, &nfds) != 0 || vfu_tran_mem_new(&rx) != 0 ||
	    vfu_tran_set_limits(rx, VFU_TRAN_MAX_MSG_SIZE_LIMIT, VFU_MSG_MAX_FDS, 1) != 0)
		abort();
	for (size_t i = 0; i < nfds; i++) {
		if (resize >= 0)
			hostile_resize_sealed(fds[i], resize);
		close(fds[i]);
	}
	free(fds);
	/* The bytes only: which message an fd came with is not kept. */
	(void)vfu_tran_mem_feed(rx, buf, len, NULL, 0);
	free(buf);
	while ((rc = vfu_tran_recv(rx, &m, 0)) == 0) {
		uint32_t type = m.hdr.flags & VFU_HDR_F_TYPE_MASK;
		bool err = m.hdr.flags & VFU_HDR_F_ERROR;

		if (type == VFU_HDR_F_TYPE_COMMAND ? m.hdr.cmd != VFU_CMD_DMA_READ && m.hdr.cmd != VFU_CMD_DMA_WRITE
						   : err && (m.hdr.error == 0 || m.hdr.error > 4095 || m.len != 0)) {
			fprintf(stderr, "the server sent a bad message: cmd %u flags %#x error %u, %zu bytes\n",
				m.hdr.cmd, m.hdr.flags, m.hdr.error, m.len);
			abort();
		}
		vfu_msg_release(&m);
	}
	vfu_msg_release(&m);
	if (rc != -ENOTCONN) {
		fprintf(stderr, "the server's output does not parse: %s\n", upci_strerror(rc));
		abort();
	}
	vfu_tran_close(rx);
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
	cur_tran = t;
	feed(t, data + 1, size - 1);
	if (vfu_session_open(servers[dev], t, &ss) != 0)
		abort();
	/* Bounded: every step consumes input or ends the session; waiting
	 * forever, a step passes any pause. */
	do
		rc = vfu_session_step(ss, -1);
	while (rc == 0);
	vfu_session_close(ss);
	hostile_check_dropped(devs[dev], uris[dev]);
	take_output(t, -1);
	vfu_tran_close(t);
	/* Same device state for the next input. */
	(void)upci_reset(devs[dev]);
	hostile_end();
	check_leaks(before);
	return 0;
}

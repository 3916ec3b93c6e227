/* SPDX-License-Identifier: MIT */
/*
 * Figure "region": in-band region access round trips per second over
 * vfio-user, next to a raw socket ping-pong between two processes with the
 * same bytes on the wire in each direction (sizes from proto.h).
 *
 *   REGION_READ 4 B   upci_mmio_read(BAR0, ID, 4): testdev BAR0 is trapped,
 *                     so every call is one REGION_READ (config offset 0 on
 *                     another device)
 *   REGION_WRITE 4 B  upci_mmio_write(BAR0, SCRATCH, 4), for information
 *   REGION_READ 4 KiB upci_config_read_block of the whole config space:
 *                     one message, for information
 *
 * Goal: REGION_READ 4 B at least 0.9x the rate of the raw ping-pong.
 *
 * upci's client polls for a reply briefly before it sleeps (vu_poll.h,
 * UPCI_VFU_POLL_US); the plain floor always sleeps. The "polled" floor
 * polls by the same rule, so REGION_READ next to it is upci's own cost.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "bench_vfu.h"
#include "bench_vfu_raw.h"
#include "bench_vfu_tab.h"
#include "proto.h"
#include "testdev_regs.h"
#include "vu_poll.h"

#define GOAL_RATE 0.9
#define BLOCK_MAX 4096u

/* What a region access costs on the wire: header + access header (+ data). */
#define ACCESS_BYTES (sizeof(struct vfu_hdr) + sizeof(struct vfu_region_access))

struct acc_ctx {
	upci_dev *dev;
	unsigned bar;      /* UINT32_MAX: config space */
	uint64_t off;
	uint64_t expect;   /* the value every read must return */
	size_t len;        /* block reads */
	uint8_t *buf;
};

static int read4_loop(void *c, uint64_t n)
{
	struct acc_ctx *x = c;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t v = 0;
		uint32_t v32 = 0;
		int rc;

		if (x->bar == UINT32_MAX) {
			rc = upci_config_read(x->dev, (uint32_t)x->off, 4, &v32);
			v = v32;
		} else {
			rc = upci_mmio_read(x->dev, x->bar, x->off, 4, &v);
		}
		if (rc)
			return rc;
		if (v != x->expect)
			return -EIO; /* the wrong bytes came back: not a figure */
	}
	return 0;
}

static int write4_loop(void *c, uint64_t n)
{
	struct acc_ctx *x = c;

	for (uint64_t i = 0; i < n; i++) {
		int rc = upci_mmio_write(x->dev, x->bar, x->off, 4, (uint32_t)i);

		if (rc)
			return rc;
	}
	return 0;
}

static int block_loop(void *c, uint64_t n)
{
	struct acc_ctx *x = c;

	for (uint64_t i = 0; i < n; i++) {
		int rc = upci_config_read_block(x->dev, 0, x->buf, x->len);

		if (rc)
			return rc;
	}
	return 0;
}

/* A raw ping-pong peer for one request/reply size pair. */
static int add_floor(struct vfu_tab *t, struct raw_sock *r, enum raw_mode mode, const char *what, size_t req,
		     size_t rep, int floor)
{
	bench_ok(raw_sock_start(r, mode, &req, &rep, 1, -1), "floor", "starting the ping-pong peer");
	return vfu_tab_add(t, "floor", what, req, rep, floor, raw_sock_loop, r);
}

int vfu_fig_region(const struct vfu_args *a)
{
	struct bench_dev *d = a->dev;
	struct acc_ctx rd = {.dev = d->dev}, wr = {.dev = d->dev}, blk = {.dev = d->dev};
	struct raw_sock raw[5];
	struct vfu_tab t = {0};
	size_t block = d->id.config_size < BLOCK_MAX ? d->id.config_size : BLOCK_MAX;
	struct vu_poll fpoll;
	uint32_t poll_us;
	int f_rd, f_poll, f_wr, f_blk, r_rd, nraw = 0;
	double ratio;

	bench_title("upci bench-vfio-user: region access round trips",
		    "floor: raw UNIX stream socketpair ping-pong between two processes, same bytes each way.\n"
		    "split: the same, but the peer polls and reads header and payload apart (4 syscalls, not 2).\n"
		    "polled: the same, but our side polls for the reply before it sleeps, as upci's client does.");
	if (d->kind == BENCH_TESTDEV) {
		rd.bar = TESTDEV_BAR_REGS;
		rd.off = TESTDEV_REG_ID;
		rd.expect = TESTDEV_ID_VALUE;
	} else {
		printf("note: %s (%04x:%04x) is not testdev: the 4-byte read is config offset 0, no write row\n",
		       d->uri, d->id.vendor_id, d->id.device_id);
		rd.bar = UINT32_MAX;
		rd.off = 0;
		rd.expect = d->id.vendor_id | (uint32_t)d->id.device_id << 16;
	}
	blk.len = block;
	blk.buf = malloc(block);
	if (!blk.buf)
		bench_die("bench", "allocating", -ENOMEM);
	/* One block read before timing: it must start with the IDs. */
	bench_ok(upci_config_read_block(d->dev, 0, blk.buf, block), d->uri, "config block read");
	if (blk.buf[0] != (d->id.vendor_id & 0xff) || blk.buf[2] != (d->id.device_id & 0xff))
		bench_die(d->uri, "config block read does not start with the vendor and device IDs", -EIO);

	f_rd = add_floor(&t, &raw[nraw++], RAW_PLAIN, "raw socket ping-pong", ACCESS_BYTES, ACCESS_BYTES + 4, -1);
	add_floor(&t, &raw[nraw++], RAW_SPLIT, "raw socket ping-pong, split", ACCESS_BYTES, ACCESS_BYTES + 4, f_rd);
	(void)vu_poll_env_us(&poll_us); /* as the client read it at open (it warned) */
	vu_poll_init(&fpoll, poll_us, vu_poll_cpus());
	f_poll = add_floor(&t, &raw[nraw++], RAW_PLAIN, "raw socket ping-pong, polled", ACCESS_BYTES, ACCESS_BYTES + 4,
			   f_rd);
	raw[nraw - 1].poll = &fpoll;
	r_rd = vfu_tab_add(&t, d->uri, d->kind == BENCH_TESTDEV ? "REGION_READ 4 B (BAR0 ID)" : "REGION_READ 4 B (config)",
			   ACCESS_BYTES, ACCESS_BYTES + 4, f_rd, read4_loop, &rd);
	if (d->kind == BENCH_TESTDEV) {
		wr.bar = TESTDEV_BAR_REGS;
		wr.off = TESTDEV_REG_SCRATCH;
		f_wr = add_floor(&t, &raw[nraw++], RAW_PLAIN, "raw socket ping-pong", ACCESS_BYTES + 4, ACCESS_BYTES,
				 -1);
		vfu_tab_add(&t, d->uri, "REGION_WRITE 4 B (BAR0 SCRATCH)", ACCESS_BYTES + 4, ACCESS_BYTES, f_wr,
			    write4_loop, &wr);
	}
	f_blk = add_floor(&t, &raw[nraw++], RAW_PLAIN, "raw socket ping-pong", ACCESS_BYTES, ACCESS_BYTES + block, -1);
	vfu_tab_add(&t, d->uri, block == 4096 ? "REGION_READ 4 KiB (config block)" : "REGION_READ (config block)",
		    ACCESS_BYTES, ACCESS_BYTES + block, f_blk, block_loop, &blk);

	vfu_tab_run(&t, a->quick);
	vfu_tab_print(&t, "req / rep B", "floor");
	ratio = vfu_tab_ratio(&t, r_rd);
	/* The best batches too: on a busy machine the medians move most. */
	printf("goal: REGION_READ 4 B at least %.1fx the raw socket ping-pong rate: %s (%.2fx; best batches %.2fx)\n",
	       GOAL_RATE, bench_verdict(ratio >= GOAL_RATE), ratio, t.op[f_rd].ns_min / t.op[r_rd].ns_min);

	if (fpoll.max_ns)
		printf("reply polling: up to %u us (%s); the polled ping-pong makes %.2fx the plain one's rate, "
		       "REGION_READ 4 B %.2fx the polled one's\n",
		       fpoll.max_ns / 1000, getenv(VU_POLL_ENV) ? VU_POLL_ENV : "default", vfu_tab_ratio(&t, f_poll),
		       t.op[f_poll].ns_med / t.op[r_rd].ns_med);
	else
		printf("reply polling: off (%s)\n", vu_poll_cpus() < 2 ? "this process may run on one CPU only"
									  : VU_POLL_ENV "=0");
	for (int i = 0; i < nraw; i++)
		bench_ok(raw_sock_stop(&raw[i]), "floor", "ping-pong peer");
	free(blk.buf);
	vfu_fig_region_poll(a);
	return 0;
}

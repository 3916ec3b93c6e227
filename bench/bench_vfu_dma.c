/* SPDX-License-Identifier: MIT */
/*
 * Figure "dma": DMA_MAP + DMA_UNMAP pairs per second over vfio-user.
 *
 *   alloc+free  upci_dma_alloc + upci_dma_free: a memfd, passed with
 *               DMA_MAP (SCM_RIGHTS) for the server to mmap
 *   map+unmap   upci_dma_map + upci_dma_unmap of anonymous memory: no fd,
 *               the server reaches it in-band (DMA_READ/DMA_WRITE)
 *
 * Floor: a raw socket ping-pong between two processes of the same two
 * round trips (DMA_MAP and DMA_UNMAP request and reply sizes). For
 * scale, the local half of an alloc: memfd_create, ftruncate, mmap,
 * munmap, close. No goal. Before timing, testdev copies from one buffer
 * of each kind into BAR2, so both paths are known to reach the memory.
 */
#define _GNU_SOURCE /* memfd_create */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench_util.h"
#include "bench_vfu.h"
#include "bench_vfu_raw.h"
#include "bench_vfu_tab.h"
#include "proto.h"
#include "testdev_regs.h"

#define SMALL (4u << 10)
#define LARGE (1u << 20)
/* Where map+unmap puts its memory: far above what alloc picks. */
#define MAP_IOVA (1ull << 32)
#define CHECK_OFF 0x100u /* BAR2 offset the check copies to */
#define CHECK_LEN 64u

#define MAP_REQ   (sizeof(struct vfu_hdr) + sizeof(struct vfu_dma_map))
#define MAP_REP   sizeof(struct vfu_hdr)
#define UNMAP_REQ (sizeof(struct vfu_hdr) + sizeof(struct vfu_dma_unmap))
#define UNMAP_REP (sizeof(struct vfu_hdr) + sizeof(struct vfu_dma_unmap))

struct pair_ctx {
	upci_dev *dev;
	uint64_t size;
	void *mem;     /* map+unmap: the anonymous memory */
	uint64_t iova;
};

static int alloc_loop(void *c, uint64_t n)
{
	struct pair_ctx *x = c;

	for (uint64_t i = 0; i < n; i++) {
		struct upci_dma_buf b;
		int rc = upci_dma_alloc(x->dev, UPCI_IOVA_ANY, x->size, &b);

		if (rc == 0)
			rc = upci_dma_free(x->dev, &b);
		if (rc)
			return rc;
	}
	return 0;
}

static int map_loop(void *c, uint64_t n)
{
	struct pair_ctx *x = c;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t bus;
		int rc = upci_dma_map(x->dev, x->iova, x->mem, x->size, UPCI_DMA_RW, &bus);

		if (rc == 0)
			rc = upci_dma_unmap(x->dev, x->iova);
		if (rc)
			return rc;
	}
	return 0;
}

static int memfd_loop(void *c, uint64_t n)
{
	struct pair_ctx *x = c;

	for (uint64_t i = 0; i < n; i++) {
		int fd = memfd_create("bench", MFD_CLOEXEC);
		void *p;

		if (fd < 0)
			return -errno;
		if (ftruncate(fd, (off_t)x->size) < 0) {
			close(fd);
			return -errno;
		}
		p = mmap(NULL, x->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED) {
			close(fd);
			return -errno;
		}
		munmap(p, x->size);
		close(fd);
	}
	return 0;
}

static uint64_t reg(struct bench_dev *d, uint64_t off)
{
	uint64_t v = 0;

	bench_ok(upci_mmio_read(d->dev, TESTDEV_BAR_REGS, off, 4, &v), d->uri, "read testdev register");
	return v;
}

/* testdev copies CHECK_LEN bytes from @src_bus into BAR2; the bytes must
 * arrive. The descriptor lives in @desc (fd-backed). */
static void check_copy(struct bench_dev *d, struct upci_dma_buf *desc, uint64_t src_bus, uint8_t *src,
		       const char *what)
{
	struct testdev_desc dd = {.src = src_bus, .dst = CHECK_OFF, .len = CHECK_LEN, .flags = TESTDEV_DESC_F_DST_BAR2};
	uint64_t st, faults0 = reg(d, TESTDEV_REG_FAULT_COUNT);

	for (unsigned i = 0; i < CHECK_LEN; i++)
		src[i] = (uint8_t)(i * 37 + (uintptr_t)src_bus);
	memcpy(desc->vaddr, &dd, sizeof(dd));
	bench_ok(upci_mmio_write(d->dev, TESTDEV_BAR_REGS, TESTDEV_REG_DESC_ADDR, 8, desc->bus_addr), d->uri,
		 "write DESC_ADDR");
	bench_ok(upci_mmio_write(d->dev, TESTDEV_BAR_REGS, TESTDEV_REG_DESC_COUNT, 4, 1), d->uri, "write DESC_COUNT");
	bench_ok(upci_mmio_write(d->dev, TESTDEV_BAR_REGS, TESTDEV_REG_CTRL, 4, TESTDEV_CTRL_START), d->uri,
		 "start DMA");
	st = reg(d, TESTDEV_REG_STATUS);
	if ((st & TESTDEV_STATUS_MASK) != TESTDEV_STATUS_DONE || reg(d, TESTDEV_REG_FAULT_COUNT) != faults0) {
		fprintf(stderr, "bench: %s: DMA from %s: status 0x%x, last fault %u\n", d->uri, what, (unsigned)st,
			(unsigned)reg(d, TESTDEV_REG_LAST_FAULT));
		bench_die(d->uri, "check DMA", -EIO);
	}
	for (unsigned i = 0; i < CHECK_LEN; i += 4) {
		uint64_t v = 0;
		uint32_t want;

		memcpy(&want, src + i, 4);
		bench_ok(upci_mmio_read(d->dev, TESTDEV_BAR_MEM, CHECK_OFF + i, 4, &v), d->uri, "read BAR2");
		if (v != want)
			bench_die(d->uri, what, -EIO);
	}
}

/* Both DMA paths reach the memory: alloc'd (fd) and mapped (in-band). */
static void check_paths(struct bench_dev *d, void *anon)
{
	struct upci_dma_buf desc, src;
	uint64_t bus;

	bench_dev_master(d);
	bench_ok(upci_dma_alloc(d->dev, UPCI_IOVA_ANY, SMALL, &desc), d->uri, "allocate descriptor");
	bench_ok(upci_dma_alloc(d->dev, UPCI_IOVA_ANY, SMALL, &src), d->uri, "allocate source");
	check_copy(d, &desc, src.bus_addr, src.vaddr, "upci_dma_alloc memory (fd) did not reach BAR2");
	bench_ok(upci_dma_map(d->dev, MAP_IOVA, anon, SMALL, UPCI_DMA_RW, &bus), d->uri, "map anonymous memory");
	check_copy(d, &desc, bus, anon, "upci_dma_map memory (in-band) did not reach BAR2");
	bench_ok(upci_dma_unmap(d->dev, MAP_IOVA), d->uri, "unmap");
	bench_ok(upci_dma_free(d->dev, &src), d->uri, "free");
	bench_ok(upci_dma_free(d->dev, &desc), d->uri, "free");
}

int vfu_fig_dma(const struct vfu_args *a)
{
	static const size_t req[2] = {MAP_REQ, UNMAP_REQ}, rep[2] = {MAP_REP, UNMAP_REP};
	struct bench_dev *d = a->dev;
	struct pair_ctx al[2], mp[2], mf = {.size = SMALL};
	struct raw_sock raw;
	struct vfu_tab t = {0};
	void *anon;
	int f;

	bench_title("upci bench-vfio-user: DMA_MAP + DMA_UNMAP pairs",
		    "floor: raw socket ping-pong between two processes, the two round trips of a pair.");
	anon = mmap(NULL, LARGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (anon == MAP_FAILED)
		bench_die("bench", "allocating", -errno);
	memset(anon, 0, LARGE); /* faulted in: the pair, not page faults, is timed */
	if (d->kind == BENCH_TESTDEV)
		check_paths(d, anon);
	else
		printf("note: %s is not testdev: the DMA paths are timed but not checked\n", d->uri);

	bench_ok(raw_sock_start(&raw, RAW_PLAIN, req, rep, 2, -1), "floor", "starting the ping-pong peer");
	f = vfu_tab_add(&t, "floor", "raw socket ping-pong x2", MAP_REQ + UNMAP_REQ, MAP_REP + UNMAP_REP, -1,
			raw_sock_loop, &raw);
	for (unsigned i = 0; i < 2; i++) {
		uint64_t size = i ? LARGE : SMALL;

		al[i] = (struct pair_ctx){.dev = d->dev, .size = size};
		mp[i] = (struct pair_ctx){.dev = d->dev, .size = size, .mem = anon, .iova = MAP_IOVA};
		vfu_tab_add(&t, d->uri, i ? "upci_dma_alloc+free 1 MiB (fd)" : "upci_dma_alloc+free 4 KiB (fd)",
			    MAP_REQ + UNMAP_REQ, MAP_REP + UNMAP_REP, f, alloc_loop, &al[i]);
		vfu_tab_add(&t, d->uri, i ? "upci_dma_map+unmap 1 MiB (in-band)" : "upci_dma_map+unmap 4 KiB (in-band)",
			    MAP_REQ + UNMAP_REQ, MAP_REP + UNMAP_REP, f, map_loop, &mp[i]);
	}
	vfu_tab_add(&t, "local", "(local) memfd+ftruncate+mmap+munmap+close 4 KiB", 0, 0, f, memfd_loop, &mf);

	vfu_tab_run(&t, a->quick);
	vfu_tab_print(&t, "req / rep B", "floor");
	printf("no goal: ops/s is pairs per second; bytes are per pair, without the fd alloc passes.\n");

	bench_ok(raw_sock_stop(&raw), "floor", "ping-pong peer");
	munmap(anon, LARGE);
	return 0;
}

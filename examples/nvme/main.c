/* SPDX-License-Identifier: MIT */
/*
 * upci-nvme: the example NVMe driver as a tool (see nvme.h and
 * docs/nvme-example.md).
 *
 *   upci-nvme [OPTIONS] URI identify
 *   upci-nvme [OPTIONS] URI read LBA COUNT        blocks to stdout
 *   upci-nvme [OPTIONS] URI write LBA COUNT       blocks from stdin
 *   upci-nvme [OPTIONS] URI fill SEED LBA COUNT   write the test pattern
 *   upci-nvme [OPTIONS] URI verify SEED [LBA COUNT]
 *                                                 read and compare every byte
 *   upci-nvme [OPTIONS] URI bench                 4 KiB random reads
 *   upci-nvme pattern SEED LBA COUNT BLOCKSIZE    the pattern, no device
 *
 * With --queues N, fill, verify and bench run N I/O queue pairs, each in a
 * thread of its own that waits on its own MSI-X vector's eventfd.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "nvme.h"

#define XFER_MAX (128u * 1024u) /* per command in read/write/fill/verify */

static int usage(FILE *f, int rc)
{
	fprintf(f,
		"usage: upci-nvme [OPTIONS] URI COMMAND [ARGS]\n"
		"       upci-nvme pattern SEED LBA COUNT BLOCKSIZE\n"
		"A user-space NVMe driver on the upci API (namespace 1 of the controller at URI).\n"
		"Commands:\n"
		"  identify                 model, serial, firmware, namespace size\n"
		"  read LBA COUNT           COUNT blocks from LBA to stdout\n"
		"  write LBA COUNT          COUNT blocks from stdin to LBA\n"
		"  fill SEED LBA COUNT      write the test pattern of SEED\n"
		"  verify SEED [LBA COUNT]  read and compare every byte with the pattern (default: all)\n"
		"  bench                    4 KiB random reads; prints IOPS and CPU per I/O\n"
		"  pattern SEED LBA COUNT BLOCKSIZE\n"
		"                           print the pattern (no device): to make disk images\n"
		"Options:\n"
		"  --poll          complete by polling (default: MSI-X interrupts)\n"
		"  --queues N      fill, verify, bench: N queue pairs, a thread each (1..8, default 1)\n"
		"  --qd N          bench queue depth per queue, 1..1023 (default 1)\n"
		"  --seconds S     bench duration (default 5)\n"
		"Numbers are decimal or 0x hex. Exit: 0 ok, 1 device or data error, 2 usage.\n");
	return rc;
}

static int num(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return (*s == '\0' || *s == '-' || *end || errno) ? -1 : 0;
}

/* ---- the test pattern: every byte depends on the seed and the LBA ---- */

static void pattern_block(uint8_t *b, size_t bs, uint64_t seed, uint64_t lba)
{
	uint64_t x = (seed * UINT64_C(0x9e3779b97f4a7c15)) ^ (lba + 1) * UINT64_C(0xbf58476d1ce4e5b9);

	for (size_t i = 0; i < bs; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(b + i, &x, 8);
	}
	/* Readable in a hex dump: which seed and block this is. */
	memcpy(b, "upci", 4);
	memcpy(b + 4, &seed, 4);
	memcpy(b + 8, &lba, 8);
}

static int cmd_pattern(int argc, char **argv)
{
	uint64_t seed, lba, count, bs;
	uint8_t *b;

	if (argc != 5 || num(argv[1], &seed) || num(argv[2], &lba) || num(argv[3], &count) || num(argv[4], &bs) ||
	    bs < 512 || bs > 4096 || (bs & (bs - 1)))
		return usage(stderr, 2);
	b = malloc(bs);
	if (!b)
		return 1;
	for (uint64_t i = 0; i < count; i++) {
		pattern_block(b, bs, seed, lba + i);
		if (fwrite(b, 1, bs, stdout) != bs) {
			perror("upci-nvme pattern: stdout");
			free(b);
			return 1;
		}
	}
	free(b);
	return 0;
}

/* ---- synchronous transfers, one buffer per queue ---- */

#define MAX_QUEUES 8u

struct ctx;

/* One I/O queue pair and the thread that drives it. */
struct worker {
	struct ctx *x;
	struct nvme_ioq q;
	struct upci_dma_buf buf;   /* the data buffer: vaddr, iova, bus_addr */
	bool own_mem;              /* buf is our memory mapped with upci_dma_map_any */
	pthread_t th;
	/* the job: fill or verify [lba, lba + count) with seed; or bench */
	bool verify;
	uint64_t seed, lba, count, done, ios;
	double t;
	int rc;
};

struct ctx {
	struct nvme_ctrl c;
	struct worker w[MAX_QUEUES];
	unsigned nq;
	bool irq;
	unsigned qd;
	double seconds;
};

static int io(struct worker *k, bool write, uint64_t lba, uint32_t n)
{
	struct nvme_ctrl *c = &k->x->c;
	struct nvme_done d;
	int rc = nvme_submit_rw(&k->q, write, lba, n, k->buf.bus_addr, lba, false);

	if (rc) {
		fprintf(stderr, "nvme %s: %s of %u blocks at LBA %" PRIu64 ": %s\n", c->uri, write ? "write" : "read", n,
			lba, strerror(-rc));
		return rc;
	}
	rc = nvme_wait(&k->q, &d, 1, 10000);
	if (rc == 1 && d.status == 0)
		return 0;
	fprintf(stderr, "nvme %s: %s of %u blocks at LBA %" PRIu64 ": %s\n", c->uri, write ? "write" : "read", n, lba,
		rc == 1 ? nvme_status_str(d.status) : strerror(-rc));
	return -EIO;
}

static int range(struct ctx *x, int argc, char **argv, int at, uint64_t *lba, uint64_t *count)
{
	if (argc <= at) {
		*lba = 0;
		*count = x->c.nblocks;
		return 0;
	}
	if (argc != at + 2 || num(argv[at], lba) || num(argv[at + 1], count))
		return -1;
	if (*lba > x->c.nblocks || *count > x->c.nblocks - *lba) {
		fprintf(stderr, "nvme %s: LBA %" PRIu64 " + %" PRIu64 " is past the namespace's %" PRIu64 " blocks\n",
			x->c.uri, *lba, *count, x->c.nblocks);
		return -2;
	}
	return 0;
}

static int cmd_rw(struct ctx *x, bool write, int argc, char **argv)
{
	uint64_t lba, count, bs = UINT64_C(1) << x->c.lba_shift, per = XFER_MAX >> x->c.lba_shift;
	int r = range(x, argc, argv, 1, &lba, &count);

	if (r || argc != 3)
		return r == -2 ? 1 : usage(stderr, 2);
	while (count) {
		uint32_t n = (uint32_t)(count < per ? count : per);
		size_t len = (size_t)n * bs;

		if (write && fread(x->w[0].buf.vaddr, 1, len, stdin) != len) {
			fprintf(stderr, "nvme %s: write: stdin ended before %" PRIu64 " more blocks\n", x->c.uri, count);
			return 1;
		}
		if (io(&x->w[0], write, lba, n))
			return 1;
		if (!write && fwrite(x->w[0].buf.vaddr, 1, len, stdout) != len) {
			perror("upci-nvme: stdout");
			return 1;
		}
		lba += n;
		count -= n;
	}
	return 0;
}

/* A worker's share of fill/verify, in its own thread. */
static void *pattern_main(void *arg)
{
	struct worker *k = arg;
	struct nvme_ctrl *c = &k->x->c;
	uint64_t bs = UINT64_C(1) << c->lba_shift, per = XFER_MAX >> c->lba_shift, lba = k->lba, count = k->count;
	uint8_t *want = malloc(bs);

	k->rc = want ? 0 : 1;
	while (count && k->rc == 0) {
		uint32_t n = (uint32_t)(count < per ? count : per);

		if (!k->verify)
			for (uint32_t i = 0; i < n; i++)
				pattern_block((uint8_t *)k->buf.vaddr + i * bs, bs, k->seed, lba + i);
		if (io(k, !k->verify, lba, n)) {
			k->rc = 1;
			break;
		}
		for (uint32_t i = 0; k->verify && i < n; i++) {
			const uint8_t *got = (const uint8_t *)k->buf.vaddr + i * bs;

			pattern_block(want, bs, k->seed, lba + i);
			if (memcmp(got, want, bs) != 0) {
				size_t at = 0;

				while (got[at] == want[at])
					at++;
				fprintf(stderr,
					"nvme %s: verify: LBA %" PRIu64 " byte %zu is 0x%02x, the pattern of seed %" PRIu64
					" has 0x%02x\n",
					c->uri, lba + i, at, got[at], k->seed, want[at]);
				k->rc = 1;
				break;
			}
		}
		lba += n;
		count -= n;
		k->done += n;
	}
	free(want);
	return NULL;
}

/* Run @fn on every worker at once, a thread each; 0 when all returned 0. */
static int run_workers(struct ctx *x, void *(*fn)(void *))
{
	unsigned started = 0;
	int rc = 0;

	for (; started < x->nq; started++)
		if (pthread_create(&x->w[started].th, NULL, fn, &x->w[started]) != 0) {
			fprintf(stderr, "nvme %s: cannot start thread %u\n", x->c.uri, started);
			rc = 1;
			break;
		}
	for (unsigned i = 0; i < started; i++) {
		pthread_join(x->w[i].th, NULL);
		rc |= x->w[i].rc;
	}
	return rc;
}

static int cmd_pattern_io(struct ctx *x, bool verify, int argc, char **argv)
{
	uint64_t seed, lba, count, bs = UINT64_C(1) << x->c.lba_shift, done = 0, share;
	int r = 0, rc;

	if (argc < 2 || num(argv[1], &seed) || (r = range(x, argc, argv, 2, &lba, &count)) || (!verify && argc != 4))
		return argc >= 2 && r == -2 ? 1 : usage(stderr, 2);
	/* Each queue takes a contiguous share of the range. */
	share = (count + x->nq - 1) / x->nq;
	for (unsigned i = 0; i < x->nq; i++) {
		struct worker *k = &x->w[i];
		uint64_t first = (uint64_t)i * share;

		k->verify = verify;
		k->seed = seed;
		k->lba = lba + (first < count ? first : count);
		k->count = first < count ? (count - first < share ? count - first : share) : 0;
		k->done = 0;
	}
	rc = run_workers(x, pattern_main);
	for (unsigned i = 0; i < x->nq; i++)
		done += x->w[i].done;
	if (rc == 0)
		printf("%s: %" PRIu64 " blocks (%" PRIu64 " bytes) %s pattern %" PRIu64 "%s\n", verify ? "verify" : "fill",
		       done, done * bs, verify ? "match" : "written with", seed, x->nq > 1 ? " (several queues)" : "");
	return rc;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	       ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Random 4 KiB reads at a fixed depth on one queue, as fio's randread
 * would, in the worker's thread. */
static void *bench_main(void *arg)
{
	struct worker *k = arg;
	struct ctx *x = k->x;
	uint32_t per = 4096u >> x->c.lba_shift;
	uint64_t slots = x->c.nblocks / per, rnd = 0x2545f4914f6cdd1dULL * (k - x->w + 1);
	struct nvme_done d[64];
	double t0, t1;

	k->rc = 1;
	k->ios = 0;
	if (slots == 0)
		return NULL;
	t0 = wall_s();
	t1 = t0;
	for (unsigned i = 0; i < x->qd; i++) {
		rnd ^= rnd << 13, rnd ^= rnd >> 7, rnd ^= rnd << 17;
		if (nvme_submit_rw(&k->q, false, (rnd % slots) * per, per, k->buf.bus_addr + (uint64_t)i * 4096u, i,
				   i + 1 < x->qd))
			return NULL;
	}
	while (t1 - t0 < x->seconds) {
		int n = nvme_wait(&k->q, d, 64, 10000);

		if (n < 0) {
			fprintf(stderr, "nvme %s: bench: %s\n", x->c.uri, strerror(-n));
			return NULL;
		}
		for (int i = 0; i < n; i++) {
			if (d[i].status) {
				fprintf(stderr, "nvme %s: bench: read failed: %s\n", x->c.uri, nvme_status_str(d[i].status));
				return NULL;
			}
			rnd ^= rnd << 13, rnd ^= rnd >> 7, rnd ^= rnd << 17;
			if (nvme_submit_rw(&k->q, false, (rnd % slots) * per, per, k->buf.bus_addr + d[i].cookie * 4096u,
					   d[i].cookie, i + 1 < n))
				return NULL;
		}
		k->ios += (uint64_t)n;
		t1 = wall_s();
	}
	k->t = t1 - t0;
	/* drain what is in flight */
	while (k->q.inflight && nvme_wait(&k->q, d, 64, 10000) > 0)
		;
	k->rc = 0;
	return NULL;
}

static int cmd_bench(struct ctx *x)
{
	uint64_t ios = 0;
	double c0 = cpu_s(), c1, t = 0;
	int rc = run_workers(x, bench_main);
	char queues[32] = "";

	c1 = cpu_s();
	if (rc)
		return 1;
	for (unsigned i = 0; i < x->nq; i++) {
		ios += x->w[i].ios;
		t = x->w[i].t > t ? x->w[i].t : t;
	}
	if (ios == 0 || t <= 0)
		return 1;
	if (x->nq > 1)
		snprintf(queues, sizeof(queues), " x %u queues", x->nq);
	printf("bench: upci-nvme %s qd %u%s: %.0f IOPS, %.1f us per I/O, %.1f us CPU per I/O (%" PRIu64
	       " 4 KiB random reads in %.1f s)\n",
	       x->irq ? "irq" : "poll", x->qd, queues, (double)ios / t, t * 1e6 * x->qd * x->nq / (double)ios,
	       (c1 - c0) * 1e6 / (double)ios, ios, t);
	return 0;
}

/* Queue pair i + 1 for worker i, and its data buffer. */
/* Room for @qd commands in flight (one slot stays empty), at least 64
 * for the latency loop, and never more than the controller's CAP.MQES. */
static unsigned ioq_depth(const struct nvme_ctrl *c, unsigned qd)
{
	unsigned want = qd + 1 > 64 ? qd + 1 : 64, max = (unsigned)NVME_CAP_MQES(c->cap) + 1u;

	return want < max ? want : max;
}

static int workers_create(struct ctx *x)
{
	uint64_t size = x->qd * 4096u > XFER_MAX ? x->qd * 4096u : XFER_MAX;

	if (x->qd + 1 > ioq_depth(&x->c, x->qd)) {
		fprintf(stderr, "nvme %s: --qd %u: the controller's queues hold at most %u commands (CAP.MQES)\n",
			x->c.uri, x->qd, ioq_depth(&x->c, x->qd) - 1u);
		return -EINVAL;
	}
	for (unsigned i = 0; i < x->nq; i++) {
		struct worker *k = &x->w[i];
		int rc;

		k->x = x;
		k->buf.fd = -1;
		rc = nvme_ioq_create(&x->c, &k->q, i + 1, ioq_depth(&x->c, x->qd), x->irq);
		if (rc)
			return rc;
		/*
		 * The data buffer: the application's own memory, mapped for the
		 * device at an IOVA the library's allocator picks. A backend
		 * that can only reach shareable memory (a vfio-user server in
		 * front of a real IOMMU: the memory must go to it as an fd)
		 * says -ENOTSUP; then a upci_dma_alloc buffer, which is a memfd.
		 */
		k->buf.size = size;
		if (posix_memalign(&k->buf.vaddr, 4096, size) != 0)
			return -ENOMEM;
		memset(k->buf.vaddr, 0, size);
		rc = upci_dma_map_any(x->c.dev, k->buf.vaddr, size, UPCI_DMA_RW, &k->buf.iova, &k->buf.bus_addr);
		if (rc == 0) {
			k->own_mem = true;
			continue;
		}
		free(k->buf.vaddr);
		memset(&k->buf, 0, sizeof(k->buf));
		k->buf.fd = -1;
		if (rc == -ENOTSUP)
			rc = upci_dma_alloc(x->c.dev, UPCI_IOVA_ANY, size, &k->buf);
		if (rc) {
			fprintf(stderr, "nvme %s: mapping the data buffer of queue %u: %s\n", x->c.uri, i + 1,
				upci_strerror(rc));
			return rc;
		}
	}
	return 0;
}

static void workers_destroy(struct ctx *x)
{
	for (unsigned i = 0; i < x->nq; i++) {
		struct worker *k = &x->w[i];

		/* The queue first: commands still in flight (a timed-out one)
		 * end with it, before their buffer goes. */
		nvme_ioq_destroy(&k->q);
		if (k->own_mem) {
			/* Freed only once the device can no longer reach it. */
			if (upci_dma_unmap(x->c.dev, k->buf.iova) == 0)
				free(k->buf.vaddr);
		} else if (k->buf.vaddr) {
			upci_dma_free(x->c.dev, &k->buf);
		}
	}
}

int main(int argc, char **argv)
{
	struct ctx x = {.irq = true, .qd = 1, .seconds = 5, .nq = 1};
	const char *uri, *cmd;
	uint64_t v;
	int i = 1, rc;

	if (argc >= 2 && strcmp(argv[1], "pattern") == 0)
		return cmd_pattern(argc - 1, argv + 1);
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return usage(stdout, 0);
		if (strcmp(argv[i], "--poll") == 0) {
			x.irq = false;
		} else if (strcmp(argv[i], "--qd") == 0 && i + 1 < argc && num(argv[i + 1], &v) == 0 && v >= 1 &&
			   v <= 1023) {
			x.qd = (unsigned)v;
			i++;
		} else if (strcmp(argv[i], "--queues") == 0 && i + 1 < argc && num(argv[i + 1], &v) == 0 && v >= 1 &&
			   v <= MAX_QUEUES) {
			x.nq = (unsigned)v;
			i++;
		} else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc && num(argv[i + 1], &v) == 0 && v >= 1 &&
			   v <= 3600) {
			x.seconds = (double)v;
			i++;
		} else {
			fprintf(stderr, "upci-nvme: bad option '%s'\n", argv[i]);
			return usage(stderr, 2);
		}
	}
	if (argc - i < 2)
		return usage(stderr, 2);
	uri = argv[i];
	cmd = argv[i + 1];
	argc -= i + 1;
	argv += i + 1;
	if (strcmp(cmd, "identify") && strcmp(cmd, "read") && strcmp(cmd, "write") && strcmp(cmd, "fill") &&
	    strcmp(cmd, "verify") && strcmp(cmd, "bench")) {
		fprintf(stderr, "upci-nvme: unknown command '%s'\n", cmd);
		return usage(stderr, 2);
	}
	/* read and write keep their order on one queue. */
	if (strcmp(cmd, "read") == 0 || strcmp(cmd, "write") == 0 || strcmp(cmd, "identify") == 0)
		x.nq = 1;
	/* Vector 0 stays unused (the admin queue is polled); queue N uses N. */
	if (nvme_open(&x.c, uri, x.irq ? x.nq + 1 : 0))
		return 1;
	rc = workers_create(&x);
	if (rc) {
		rc = 1;
	} else if (strcmp(cmd, "identify") == 0) {
		printf("model: %s\nserial: %s\nfirmware: %s\nnamespace 1: %" PRIu64 " blocks of %u bytes (%" PRIu64
		       " MiB)\nmax transfer: %u bytes\ndoorbells: %s\ninterrupts: %s\n",
		       x.c.model, x.c.serial, x.c.firmware, x.c.nblocks, 1u << x.c.lba_shift,
		       (x.c.nblocks << x.c.lba_shift) >> 20, x.c.max_xfer,
		       x.c.bar0 ? "upci_write32 through the mapped BAR0" : "upci_mmio_write",
		       x.irq ? "MSI-X, each I/O queue's vector routed to its own eventfd" : "none (polled)");
		rc = 0;
	} else if (strcmp(cmd, "read") == 0 || strcmp(cmd, "write") == 0) {
		rc = cmd_rw(&x, cmd[0] == 'w', argc, argv);
	} else if (strcmp(cmd, "fill") == 0 || strcmp(cmd, "verify") == 0) {
		rc = cmd_pattern_io(&x, cmd[0] == 'v', argc, argv);
	} else {
		rc = cmd_bench(&x);
	}
	workers_destroy(&x);
	nvme_close(&x.c);
	return rc;
}

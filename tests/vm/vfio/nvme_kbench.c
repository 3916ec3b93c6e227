/* SPDX-License-Identifier: MIT */
/*
 * nvme_kbench DEV QD SECONDS: the guest kernel's NVMe driver under the same
 * load as `upci-nvme bench` (4 KiB random reads at a fixed queue depth,
 * O_DIRECT, Linux native AIO, the same random sequence), printing the same
 * line, so the two can be compared in one run. Kept out of the library:
 * it is the floor the example driver is measured against.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/aio_abi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define BS 4096u

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

int main(int argc, char **argv)
{
	uint64_t size, slots, ios = 0, rnd = 0x2545f4914f6cdd1dULL;
	aio_context_t ctx = 0;
	struct iocb *cbs, **ptrs;
	struct io_event ev[64];
	double t0, c0, t1, c1, secs;
	unsigned qd;
	uint8_t *buf;
	int fd;

	if (argc != 4 || (qd = (unsigned)atoi(argv[2])) < 1 || qd > 1023 || (secs = atof(argv[3])) <= 0) {
		fprintf(stderr, "usage: nvme_kbench BLOCKDEV QD SECONDS\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY | O_DIRECT);
	if (fd < 0 || ioctl(fd, BLKGETSIZE64, &size) != 0) {
		fprintf(stderr, "nvme_kbench: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	slots = size / BS;
	cbs = calloc(qd, sizeof(*cbs));
	ptrs = calloc(qd, sizeof(*ptrs));
	if (!cbs || !ptrs || slots == 0 || posix_memalign((void **)&buf, BS, (size_t)qd * BS) != 0 ||
	    syscall(SYS_io_setup, qd, &ctx) != 0) {
		fprintf(stderr, "nvme_kbench: set-up failed: %s\n", strerror(errno));
		return 1;
	}
	t0 = t1 = wall_s();
	c0 = cpu_s();
	for (unsigned i = 0; i < qd; i++) {
		rnd ^= rnd << 13, rnd ^= rnd >> 7, rnd ^= rnd << 17;
		cbs[i].aio_fildes = (uint32_t)fd;
		cbs[i].aio_lio_opcode = IOCB_CMD_PREAD;
		cbs[i].aio_buf = (uint64_t)(uintptr_t)(buf + (size_t)i * BS);
		cbs[i].aio_nbytes = BS;
		cbs[i].aio_offset = (int64_t)((rnd % slots) * BS);
		cbs[i].aio_data = i;
		ptrs[i] = &cbs[i];
	}
	if (syscall(SYS_io_submit, ctx, (long)qd, ptrs) != (long)qd) {
		fprintf(stderr, "nvme_kbench: io_submit: %s\n", strerror(errno));
		return 1;
	}
	while (t1 - t0 < secs) {
		long n = syscall(SYS_io_getevents, ctx, 1L, 64L, ev, NULL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "nvme_kbench: io_getevents: %s\n", strerror(errno));
			return 1;
		}
		for (long i = 0; i < n; i++) {
			unsigned k = (unsigned)ev[i].data;

			if (ev[i].res != BS) {
				fprintf(stderr, "nvme_kbench: read returned %lld\n", (long long)ev[i].res);
				return 1;
			}
			rnd ^= rnd << 13, rnd ^= rnd >> 7, rnd ^= rnd << 17;
			cbs[k].aio_offset = (int64_t)((rnd % slots) * BS);
			ptrs[i] = &cbs[k];
		}
		if (syscall(SYS_io_submit, ctx, n, ptrs) != n) {
			fprintf(stderr, "nvme_kbench: io_submit: %s\n", strerror(errno));
			return 1;
		}
		ios += (uint64_t)n;
		t1 = wall_s();
	}
	c1 = cpu_s();
	printf("bench: kernel nvme qd %u: %.0f IOPS, %.1f us per I/O, %.1f us CPU per I/O (%" PRIu64
	       " 4 KiB random reads in %.1f s)\n",
	       qd, (double)ios / (t1 - t0), (t1 - t0) * 1e6 * qd / (double)ios, (c1 - c0) * 1e6 / (double)ios, ios,
	       t1 - t0);
	syscall(SYS_io_destroy, ctx);
	return 0;
}

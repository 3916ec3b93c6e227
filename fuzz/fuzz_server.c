/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the vfio-user server's message handling, fed through
 * the in-memory transport (the same framing code as the socket), on
 * sim:testdev or sim:edu.
 *
 * Input: byte 0 picks the device (bit 0: edu, else testdev) and the
 * transport's receive mode (bit 1: read-ahead, so that parsing messages
 * out of one buffered read is fuzzed too); the rest is a sequence of
 * records, each one "sendmsg" of the client:
 *     u8 fds   bit 0: a 64 KiB memfd, bit 1: a 4 KiB memfd, bit 2: an
 *              eventfd, bit 3: a pipe (not an eventfd, not mappable),
 *              attached to the record's first byte
 *     u16 len  little-endian
 *     len bytes
 * Trailing bytes that do not make a whole record form one last chunk.
 * The server runs until the input is used up (end of stream), then the
 * session is closed; an fd left open afterwards is a leak and aborts.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "server.h"
#include "tran.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NR_DEVS 2
#define IN_READAHEAD 0x2u /* byte 0 */
#define FD_MEM64K 0x1u
#define FD_MEM4K 0x2u
#define FD_EVENT 0x4u
#define FD_PIPE 0x8u

static const char *const uris[NR_DEVS] = {"sim:testdev?vectors=16,mem=65536", "sim:edu"};
static upci_dev *devs[NR_DEVS];
static struct vfu_server *servers[NR_DEVS];
static int mem64k = -1, mem4k = -1, pipefd[2] = {-1, -1};

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* What is open, for the report of a leak. */
static void report_fds(int expected)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	fprintf(stderr, "fd leak: %d open, %d expected\n", count_fds(), expected);
	while (d && (e = readdir(d)) != NULL) {
		char path[300], link[256];
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = '\0';
			fprintf(stderr, "  %s -> %s\n", e->d_name, link);
		}
	}
	if (d)
		closedir(d);
}

static int memfd_of(size_t size)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, (off_t)size) != 0)
		abort();
	return fd;
}

static void setup_once(void)
{
	struct vfu_server_opts o;

	if (servers[0])
		return;
	vfu_server_opts_default(&o);
	o.dma_timeout_ms = 10; /* the memory transport never waits anyway */
	for (int i = 0; i < NR_DEVS; i++)
		if (upci_open(&devs[i], uris[i]) != 0 || upci_claim(devs[i]) != 0 ||
		    vfu_server_new(devs[i], &o, &servers[i]) != 0)
			abort();
	mem64k = memfd_of(64 * 1024);
	mem4k = memfd_of(4096);
	if (pipe2(pipefd, O_CLOEXEC) != 0)
		abort();
}

/* Duplicates of the fds @mask asks for (the transport owns them). */
static size_t make_fds(uint8_t mask, int *fds)
{
	size_t n = 0;

	if (mask & FD_MEM64K)
		fds[n++] = dup(mem64k);
	if (mask & FD_MEM4K)
		fds[n++] = dup(mem4k);
	if (mask & FD_EVENT)
		fds[n++] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (mask & FD_PIPE)
		fds[n++] = dup(pipefd[1]);
	for (size_t i = 0; i < n; i++)
		if (fds[i] < 0)
			abort();
	return n;
}

static void feed_records(struct vfu_tran *t, const uint8_t *p, size_t left)
{
	while (left > 0) {
		int fds[4];
		size_t nfds = 0, len;

		if (left < 3) {
			(void)vfu_tran_mem_feed(t, p, left, NULL, 0);
			return;
		}
		len = (size_t)p[1] | (size_t)p[2] << 8;
		if (len == 0 || len > left - 3) {
			(void)vfu_tran_mem_feed(t, p, left, NULL, 0);
			return;
		}
		nfds = make_fds(p[0], fds);
		(void)vfu_tran_mem_feed(t, p + 3, len, fds, nfds);
		p += 3 + len;
		left -= 3 + len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vfu_session *ss;
	struct vfu_tran *t;
	int dev, fds_before;

	setup_once();
	if (size < 1)
		return 0;
	/* Counted per input: between inputs the sanitizer may start its
	 * symbolizer, whose pipes stay open. */
	fds_before = count_fds();
	dev = data[0] & 1;
	if (vfu_tran_mem_new(&t) != 0)
		abort();
	if ((data[0] & IN_READAHEAD) && vfu_tran_set_readahead(t, true) != 0)
		abort();
	feed_records(t, data + 1, size - 1);
	if (vfu_session_open(servers[dev], t, &ss) != 0)
		abort();
	/* Bounded: every step consumes input or ends the session. */
	while (vfu_session_step(ss, 0) == 0)
		;
	vfu_session_close(ss);
	vfu_tran_close(t);
	/* Same device state for the next input. */
	(void)upci_reset(devs[dev]);
	if (count_fds() != fds_before) {
		report_fds(fds_before);
		abort(); /* an fd leaked */
	}
	return 0;
}

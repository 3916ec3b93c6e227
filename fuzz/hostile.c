/* SPDX-License-Identifier: MIT */
/* A hostile client's fds and what it does to them (hostile.h). */
#define _GNU_SOURCE
#include "hostile.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "device.h"
#include "dma_table.h"
#include "server.h"

#define FED_MAX 256 /* fds given to the server in one input, with a fed base */
#define BIG_COUNT UINT64_C(0xfffffffffffffffe) /* an eventfd's maximum */

struct obj {
	bool made;
	int own;      /* ours: actions go through it */
	int other;    /* a pipe's or socket's other end, -1 */
	uint64_t size; /* a memfd's size when made */
};

static struct obj objs[HK_NR];
static int fed_base, fed[FED_MAX];
static unsigned nfed;
static int next_fed;

/* The DMA hook (action 1): in the device's Nth guarded copy from now, the
 * object shrinks. The server's thread runs it (fuzz_sock). */
static atomic_int hook_left;
static atomic_int hook_fd, hook_size; /* the object's own fd: open until hostile_end */

static const uint64_t sizes[8] = {0, 4096, 8192, 12288, 32768, 61440, 65536, 2u << 20};

static void close_quiet(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * Client memory starts with a testdev descriptor list that makes sense
 * when the file is mapped at HOSTILE_IOVA (the seeds do): memory to
 * memory, BAR2 to memory, memory to BAR2 with an interrupt. Without it
 * the fuzzer would have to guess 32-byte descriptors whole.
 */
static const uint64_t descs[3][4] = {
	/* src, dst, len | flags << 32, status */
	{HOSTILE_IOVA + 0x1000, HOSTILE_IOVA + 0x2000, 0x1000, 0},
	{0, HOSTILE_IOVA + 0x3000, 64 | (uint64_t)1 << 32, 0},          /* SRC_BAR2 */
	{HOSTILE_IOVA + 0x100, 0x100, 256 | (uint64_t)0x106 << 32, 0}, /* DST_BAR2, IRQ, vector 1 */
};

static int memfd_of(uint64_t size)
{
	int fd = memfd_create("fuzz-client", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd >= 0 && (ftruncate(fd, (off_t)size) != 0 || pwrite(fd, descs, sizeof(descs), 0) != sizeof(descs)))
		close_quiet(&fd);
	return fd;
}

static void set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		(void)fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

/* Write to @fd until it is full (the flags are left as found). */
static void fill(int fd)
{
	static const uint8_t junk[4096];
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return;
	(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	for (int i = 0; i < 256 && write(fd, junk, sizeof(junk)) > 0; i++)
		;
	(void)fcntl(fd, F_SETFL, fl);
}

/* An eventfd's counter to @v (0: read it back to zero), without blocking. */
static void eventfd_to(int fd, uint64_t v)
{
	int fl = fcntl(fd, F_GETFL);
	uint64_t c;

	if (fl < 0)
		return;
	(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	(void)!read(fd, &c, sizeof(c));
	if (v)
		(void)!write(fd, &v, sizeof(v));
	(void)fcntl(fd, F_SETFL, fl);
}

/* A regular file on a file system that is not memory. */
static int disk_file(void)
{
	static const char *const dirs[] = {"/var/tmp", "."};

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		int fd = open(dirs[i], O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

		if (fd >= 0) {
			if (ftruncate(fd, 65536) != 0)
				close_quiet(&fd);
			return fd;
		}
	}
	return -1;
}

static int pair_of(int type, int *a, int *b)
{
	int sv[2];

	if (type == SOCK_STREAM ? socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0
				: pipe2(sv, O_CLOEXEC) != 0)
		return -1;
	*a = sv[0];
	*b = sv[1];
	return 0;
}

static void make(unsigned k, struct obj *o)
{
	int buf = 4096;

	o->made = true;
	o->own = o->other = -1;
	switch (k) {
	case HK_MEM64K:
	case HK_MEM_SEALED:
	case HK_MEM_RDONLY:
	case HK_MEM_PATH:
		o->size = 65536;
		break;
	case HK_MEM4K:
		o->size = 4096;
		break;
	case HK_MEM2M:
		o->size = 2u << 20;
		break;
	default:
		break;
	}
	switch (k) {
	case HK_MEM64K:
	case HK_MEM4K:
	case HK_MEM2M:
	case HK_MEM_RDONLY:
	case HK_MEM_PATH:
		o->own = memfd_of(o->size);
		break;
	case HK_MEM_SEALED:
		o->own = memfd_of(o->size);
		if (o->own >= 0)
			(void)fcntl(o->own, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
		break;
	case HK_EVENT:
		o->own = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		break;
	case HK_EVENT_BLOCK:
		o->own = eventfd(0, EFD_CLOEXEC);
		break;
	case HK_EVENT_FULL:
		o->own = eventfd(0, EFD_CLOEXEC);
		if (o->own >= 0)
			eventfd_to(o->own, BIG_COUNT);
		break;
	case HK_PIPE_W: /* [1] is the write end; the read end stays open: no EPIPE */
		if (pair_of(0, &o->other, &o->own) == 0) {
			(void)fcntl(o->own, F_SETPIPE_SZ, 4096);
			fill(o->own);
		}
		break;
	case HK_PIPE_R:
		(void)pair_of(0, &o->own, &o->other);
		break;
	case HK_DIR:
		o->own = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		break;
	case HK_SOCK:
		if (pair_of(SOCK_STREAM, &o->own, &o->other) == 0) {
			(void)setsockopt(o->own, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
			(void)setsockopt(o->other, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
			fill(o->own);
		}
		break;
	case HK_DISK:
		o->own = disk_file();
		break;
	case HK_PROC:
		o->own = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
		break;
	case HK_DEVZERO:
		o->own = open("/dev/zero", O_RDWR | O_CLOEXEC);
		break;
	default:
		break;
	}
}

static struct obj *obj(unsigned k)
{
	struct obj *o = &objs[k % HK_NR];

	if (!o->made)
		make(k % HK_NR, o);
	return o->own >= 0 ? o : NULL;
}

void hostile_begin(int base)
{
	fed_base = base;
	next_fed = base;
	nfed = 0;
	atomic_store(&hook_left, 0);
}

void hostile_end(void)
{
	atomic_store(&hook_left, 0);
	for (unsigned k = 0; k < HK_NR; k++) {
		if (objs[k].made) {
			close_quiet(&objs[k].own);
			close_quiet(&objs[k].other);
		}
		objs[k].made = false;
	}
}

/* @fd moved to the next fed number (closing @fd), when there is a base. */
static int to_fed(int fd)
{
	int n;

	if (fd < 0 || fed_base == 0)
		return fd;
	if (nfed == FED_MAX) {
		close(fd);
		return -1;
	}
	n = fcntl(fd, F_DUPFD_CLOEXEC, next_fed);
	close(fd);
	if (n < 0)
		return -1;
	next_fed = n + 1;
	fed[nfed++] = n;
	return n;
}

/* A new open of @o for someone else: a duplicate, or a reopening. */
static int peer_of(unsigned k, struct obj *o)
{
	char path[64];

	if (k != HK_MEM_RDONLY && k != HK_MEM_PATH)
		return fcntl(o->own, F_DUPFD_CLOEXEC, 3);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", o->own);
	return open(path, (k == HK_MEM_PATH ? O_PATH : O_RDONLY) | O_CLOEXEC);
}

int hostile_peer_fd(unsigned kind)
{
	struct obj *o = obj(kind);

	return o ? to_fed(peer_of(kind % HK_NR, o)) : -1;
}

static void shrink(unsigned k, unsigned size_idx)
{
	struct obj *o = obj(k);

	if (o)
		(void)!ftruncate(o->own, (off_t)sizes[size_idx % 8]);
}

void hostile_act(const uint8_t a[4])
{
	struct obj *o = obj(a[1]);
	int fd;

	switch (a[0] % 16) {
	case 0:
		shrink(a[1], a[2]);
		break;
	case 1:
		if (!o)
			break;
		atomic_store(&hook_left, 0);
		atomic_store(&hook_fd, o->own);
		atomic_store(&hook_size, a[2] % 8);
		atomic_store(&hook_left, a[3] % 8 + 1);
		break;
	case 2:
		if (o)
			eventfd_to(o->own, BIG_COUNT);
		break;
	case 3:
		if (o)
			eventfd_to(o->own, 0);
		break;
	case 4:
		if (o)
			set_nonblock(o->own, !(fcntl(o->own, F_GETFL) & O_NONBLOCK));
		break;
	case 5: /* only what has a buffer (a memfd would grow by a MiB) */
		if (o && (a[1] % HK_NR == HK_PIPE_W || a[1] % HK_NR == HK_SOCK))
			fill(o->own);
		else if (o && a[1] % HK_NR == HK_PIPE_R)
			fill(o->other);
		break;
	case 6: /* only fds the server still holds: nobody else uses the fed numbers */
		if (nfed == 0 || fcntl(fed[a[1] % nfed], F_GETFD) < 0)
			break;
		o = obj(a[2]);
		fd = o ? peer_of(a[2] % HK_NR, o) : -1;
		if (fd >= 0) {
			(void)dup3(fd, fed[a[1] % nfed], O_CLOEXEC);
			close(fd);
		}
		break;
	case 7:
		if (o && o->size)
			(void)!ftruncate(o->own, (off_t)o->size);
		break;
	default:
		break;
	}
}

/* The device's copies to and from client memory (linked with
 * --wrap=dma_guard_copy): the armed shrink happens in the middle of the
 * device's work, between two of its copies or in the copy itself. It may
 * run on the server's thread (fuzz_sock), so it touches no object state:
 * only the fd noted when it was armed. */
int __real_dma_guard_copy(void *dst, const void *src, size_t len, const void **fault);
int __wrap_dma_guard_copy(void *dst, const void *src, size_t len, const void **fault);

int __wrap_dma_guard_copy(void *dst, const void *src, size_t len, const void **fault)
{
	int left = atomic_load(&hook_left);

	while (left > 0 && !atomic_compare_exchange_weak(&hook_left, &left, left - 1))
		;
	if (left == 1)
		(void)!ftruncate(atomic_load(&hook_fd), (off_t)sizes[atomic_load(&hook_size)]);
	return __real_dma_guard_copy(dst, src, len, fault);
}

bool hostile_next(const uint8_t **pp, size_t *left, struct hostile_rec *r)
{
	const uint8_t *p = *pp;
	size_t n = *left, len;

	memset(r, 0, sizeof(*r));
	if (n == 0)
		return false;
	if (n < 3) { /* a last, partial record: its bytes are a chunk */
		r->p = p;
		r->len = n;
		*left = 0;
		return true;
	}
	r->op = p[0];
	len = (size_t)p[1] | (size_t)p[2] << 8;
	if (r->op & OP_CONTROL) {
		if (!(r->op & OP_ACTIONS)) {
			r->ms = (unsigned)len;
			*pp = p + 3;
			*left = n - 3;
			return true;
		}
	}
	if (len > n - 3) { /* trailing bytes: one last chunk */
		r->op = 0;
		r->p = p;
		r->len = n;
		*left = 0;
		return true;
	}
	r->p = p + 3;
	r->len = len;
	*pp = p + 3 + len;
	*left = n - 3 - len;
	if (!(r->op & OP_CONTROL)) {
		unsigned nf = r->op & OP_NFDS;

		nf = nf == OP_NFDS ? NFDS_MANY : nf;
		if (nf > r->len)
			nf = (unsigned)r->len;
		r->nfds = nf;
		r->kinds = r->p;
		r->p += nf;
		r->len -= nf;
	}
	return true;
}

int hostile_fed_open(void)
{
	int n = 0;

	for (unsigned i = 0; i < nfed; i++)
		n += fcntl(fed[i], F_GETFD) >= 0;
	return n;
}

int hostile_count_fds(int limit)
{
	struct pollfd p[HOSTILE_LOW_FDS];
	int n = 0;

	if (limit > HOSTILE_LOW_FDS)
		limit = HOSTILE_LOW_FDS;
	for (int i = 0; i < limit; i++)
		p[i] = (struct pollfd){.fd = i, .events = 0};
	if (poll(p, (nfds_t)limit, 0) < 0)
		return -1;
	for (int i = 0; i < limit; i++)
		n += !(p[i].revents & POLLNVAL);
	return n;
}

void hostile_check_dropped(struct upci_dev *dev, const char *who)
{
	enum upci_irq_type type = UPCI_IRQ_NONE;
	unsigned nvec = 0;
	const char *left = NULL;

	if (dma_table_count(dev->dma.iova) != 0)
		left = "DMA mappings";
	else if (upci_irq_info(dev, &type, &nvec) != 0 || type != UPCI_IRQ_NONE)
		left = "interrupts enabled";
	for (unsigned b = 0; !left && b < UPCI_NUM_BARS; b++)
		if (dev->bar_refs[b])
			left = "a BAR mapping";
	if (left) {
		fprintf(stderr, "%s: the client left, the device keeps its %s\n", who, left);
		abort();
	}
}

void hostile_server_opts(int i, struct vfu_server_opts *o)
{
	vfu_server_opts_default(o);
	if (i == 1) {
		o->max_data_xfer_size = 4096;
		o->max_dma_maps = 8;
		o->max_msg_fds = 4;
	} else {
		o->n_allow_uids = 1;
		o->allow_uids[0] = 65534; /* nobody */
	}
}

void hostile_resize_sealed(int fd, long long size)
{
	struct stat st;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == size)
		return; /* not a file, or no change to make */
	if (ftruncate(fd, (off_t)size) == 0) {
		fprintf(stderr, "hostile: a file the server handed out changed size (%lld -> %lld): not sealed\n",
			(long long)st.st_size, size);
		abort();
	}
}

/* SPDX-License-Identifier: MIT */
/*
 * The vfio-user client backend ("vfio-user:PATH") against a scripted fake
 * server: a thread on a real socket that answers with replies built from
 * the spec's tables and records what the client sent. It can misbehave on
 * the next command of a kind (wrong msg id, short payload, error reply,
 * an fd nobody asked for, vanish, stall, trickle, flood) and can issue
 * DMA_READ/DMA_WRITE of its own while a REGION_WRITE to its "doorbell" is
 * pending, while the client is idle, or right after a reply; commands
 * that cross such a request are queued, as a real server does.
 *
 * The fake device: config space 1234:5678 rev 2, BAR0 4 KiB trapped,
 * BAR2 64 KiB 64-bit prefetchable RAM (a memfd) offered as 16 sparse
 * areas (so the region info needs a second, larger request), BAR4 12 KiB
 * with its middle page trapped (a hole), INTx 1, MSI 1, MSI-X 256.
 */
#define _GNU_SOURCE /* memfd_create */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "caps_json.h"
#include "device.h" /* upci__dma_map_remote */
#include "msg.h"
#include "tran.h"
#include "upci/upci.h"
#include "vu.h" /* the connection's reply-polling counters */

#define BAR0_SIZE 4096u
#define BAR2_SIZE 65536u
#define BAR2_AREAS 16u
#define BAR4_SIZE 12288u
#define DOORBELL 0x80u /* BAR0: a write here makes the fake do f->dma */
#define MAX_FDS_SEEN 64u

enum bad {
	BAD_NONE,
	BAD_WRONG_ID,  /* reply with another msg id */
	BAD_SHORT,     /* REGION_READ reply one data byte short */
	BAD_ERRNO,     /* error reply with f->bad_errno */
	BAD_EXTRA_FD,  /* success reply with an fd attached */
	BAD_VANISH,    /* close the connection instead of replying */
	BAD_STALL,     /* never reply */
	BAD_ECHO,      /* REGION_READ reply for another offset */
	BAD_GLUED,     /* error reply and a DMA request in one write */
	BAD_TRICKLE,   /* REGION_READ reply one byte every TRICKLE_MS */
	BAD_FLOOD,     /* DMA_READ requests for FLOOD_MS before the reply */
};

/* A twin socket offered wrongly: supported with no fd_index and no fd, an
 * fd that is no socket, an fd_index past the fds. */
enum { TWIN_OK, TWIN_NO_FD, TWIN_NOT_SOCKET, TWIN_BAD_INDEX };

#define TRICKLE_MS 50
#define FLOOD_MS 3000
#define QUEUE_MAX 8

/* A DMA the fake performs when the doorbell is written. */
struct fake_dma {
	uint16_t cmd;     /* VFU_CMD_DMA_READ or _WRITE */
	uint64_t addr, count;
	uint8_t data[256]; /* written, or what was read */
	int result;       /* 0, or the client's -errno */
};

struct fake {
	char dir[64], path[128];
	int lfd;
	pthread_t th;
	bool joined;
	pthread_mutex_t lock;
	struct vfu_tran *t;
	struct vfu_tran *t2;      /* the twin socket, when one was set up */
	/* what we advertise */
	uint32_t max_msg_fds;
	uint64_t max_xfer;
	/* device state */
	uint8_t cfg[256];
	uint8_t bar0[BAR0_SIZE];
	int bar2_fd, bar4_fd;
	/* misbehave on the next command @bad_cmd */
	enum bad bad;
	uint16_t bad_cmd;
	int bad_errno;            /* BAD_ERRNO: the error field, as is */
	size_t err_payload;       /* BAD_ERRNO: payload bytes with the error */
	bool err_fd;              /* BAD_ERRNO: an fd with the error */
	/* argsz replies (device, region and IRQ info, DMA_UNMAP) get this
	 * many bytes more than the fixed part and the caps */
	uint32_t argsz_pad;
	int bar2_offer;           /* fd offered for BAR2 instead of bar2_fd, or -1 */
	/* a twin socket for our requests when the client proposes one, and
	 * how to get it wrong: TWIN_* */
	bool offer_twin;
	int twin_bad;
	/* DMA of the fake's own (f->dma): */
	bool unprompted;          /* test -> fake: do it now, the client is idle */
	bool quiet_vanish;        /* test -> fake: hang up, the client is idle */
	pthread_cond_t done;      /* fake -> test: an unprompted one is over */
	unsigned dma_every;       /* also after every Nth reply; 0: never */
	unsigned replies;
	unsigned dma_sent, dma_ok; /* started, answered with success */
	unsigned flood;           /* BAD_FLOOD requests answered */
	struct vfu_msg queue[QUEUE_MAX]; /* commands that came during a DMA */
	unsigned nqueue;
	/* records */
	unsigned stray_replies; /* replies to requests the fake glued on */
	int stray_error;        /* the last one's errno, 0 for success */
	struct vfu_caps client_caps;
	unsigned region_info_calls[8];
	unsigned set_irqs_msgs, set_irqs_max_fds, set_irqs_disables;
	int set_irqs_gap;         /* a chunk did not start where the last ended */
	unsigned next_start;
	int irq_fd[256];
	unsigned reads;
	uint32_t max_read_count;
	int over_xfer;            /* a count above what we advertised */
	unsigned maps, unmaps, resets;
	unsigned posted[2], waited[2]; /* REGION_WRITEs: [0] BARs, [1] config */
	uint64_t map_addr, map_size;
	uint32_t map_flags;
	int map_fd;               /* the last DMA_MAP's fd, kept */
	/* x-upci-dma-bus-addr: offered when set and asked for; DMA_MAP replies
	 * then carry addr + bus_delta (a server behind a DART) */
	bool bus_ext;
	uint64_t bus_delta;
	struct fake_dma dma;
	int broken;               /* line of the first failed FAKE_OK */
};

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ================= the fake server ================= */

/* Set a field the fake's thread reads, under its lock. */
#define FAKE_SET(f, field, value)                   \
	do {                                        \
		pthread_mutex_lock(&(f)->lock);     \
		(f)->field = (value);               \
		pthread_mutex_unlock(&(f)->lock);   \
	} while (0)

/* cmocka's asserts must not run on the fake's thread: record the first
 * broken expectation's line; fake_stop() fails the test on it. */
#define FAKE_OK(f, cond)                                  \
	do {                                              \
		if (!(cond) && !(f)->broken)              \
			(f)->broken = __LINE__;           \
	} while (0)

static int reply(struct fake *f, const struct vfu_msg *m, int err, const void *p, size_t len, int fd)
{
	if (m->hdr.flags & VFU_HDR_F_NO_REPLY)
		return 0; /* the spec: no reply at all, even for an error */
	return vfu_tran_reply(f->t, &m->hdr, err, p, len, fd >= 0 ? &fd : NULL, fd >= 0 ? 1 : 0);
}

/* A copy of @p with f->argsz_pad bytes of 0xa5 after it, as the reply. */
static int reply_padded(struct fake *f, const struct vfu_msg *m, const void *p, size_t len, int fd)
{
	uint8_t out[1024];

	if (len + f->argsz_pad > sizeof(out))
		return reply(f, m, -ENOMEM, NULL, 0, -1);
	memcpy(out, p, len);
	memset(out + len, 0xa5, f->argsz_pad);
	return reply(f, m, 0, out, len + f->argsz_pad, fd);
}

static int on_version(struct fake *f, struct vfu_msg *m)
{
	struct vfu_caps c;
	uint8_t *p = NULL;
	uint16_t ma, mi;
	size_t len;
	int rc;

	FAKE_OK(f, vfu_version_parse(m->payload, m->len, &ma, &mi, &f->client_caps) == 0);
	FAKE_OK(f, ma == 0 && mi == 0);
	vfu_caps_default(&c);
	c.max_msg_fds = f->max_msg_fds;
	c.max_data_xfer_size = f->max_xfer;
	c.dma_bus_addr = f->bus_ext && f->client_caps.dma_bus_addr; /* f->lock is held */
	if (f->offer_twin && f->client_caps.twin_socket) {
		int sv[2];

		FAKE_OK(f, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
		c.twin_socket = true;
		c.twin_socket_fd_index = f->twin_bad == TWIN_NO_FD ? -1 : (f->twin_bad == TWIN_BAD_INDEX ? 1 : 0);
		if (f->twin_bad == TWIN_NOT_SOCKET) {
			close(sv[0]);
			sv[0] = memfd_create("not-a-socket", MFD_CLOEXEC);
		}
		FAKE_OK(f, vfu_tran_sock_new(sv[1], &f->t2) == 0);
		rc = vfu_version_build(0, 0, &c, &p, &len);
		FAKE_OK(f, rc == 0);
		if (rc == 0)
			rc = reply(f, m, 0, p, len, f->twin_bad == TWIN_NO_FD ? -1 : sv[0]);
		close(sv[0]);
		free(p);
		return rc;
	}
	rc = vfu_version_build(0, 0, &c, &p, &len);
	FAKE_OK(f, rc == 0);
	if (rc == 0)
		rc = reply(f, m, 0, p, len, -1);
	free(p);
	return rc;
}

static int on_region_info(struct fake *f, struct vfu_msg *m)
{
	uint8_t out[512];
	struct vfu_region_info q, ri = {.argsz = sizeof(ri)};
	int fd = -1;

	memcpy(&q, m->payload, sizeof(q));
	memset(out, 0, sizeof(out));
	ri.index = q.index;
	if (q.index < 8)
		f->region_info_calls[q.index]++;
	switch (q.index) {
	case 0:
		ri.size = BAR0_SIZE;
		ri.flags = VFU_REGION_INFO_F_READ | VFU_REGION_INFO_F_WRITE;
		break;
	case 2:
	case 4: {
		struct vfu_region_cap_sparse_mmap s = {.hdr = {.id = VFU_REGION_INFO_CAP_SPARSE_MMAP, .version = 1}};
		unsigned n = q.index == 2 ? BAR2_AREAS : 2;

		ri.size = q.index == 2 ? BAR2_SIZE : BAR4_SIZE;
		ri.flags = VFU_REGION_INFO_F_READ | VFU_REGION_INFO_F_WRITE | VFU_REGION_INFO_F_MMAP |
			   VFU_REGION_INFO_F_CAPS;
		ri.cap_offset = sizeof(ri);
		ri.argsz = (uint32_t)(sizeof(ri) + sizeof(s) + n * sizeof(struct vfu_sparse_mmap_area));
		s.nr_areas = n;
		memcpy(out + sizeof(ri), &s, sizeof(s));
		/* listed backwards: the client must sort before judging coverage;
		 * BAR4 has pages 2 and 0, not 1 */
		for (unsigned i = 0; i < n; i++) {
			struct vfu_sparse_mmap_area a = {.offset = (uint64_t)(n - 1 - i) * 4096, .size = 4096};

			if (q.index == 4)
				a.offset *= 2;

			memcpy(out + sizeof(ri) + sizeof(s) + i * sizeof(a), &a, sizeof(a));
		}
		fd = q.index == 4 ? f->bar4_fd : (f->bar2_offer >= 0 ? f->bar2_offer : f->bar2_fd);
		break;
	}
	case 7:
		ri.size = sizeof(f->cfg);
		ri.flags = VFU_REGION_INFO_F_READ | VFU_REGION_INFO_F_WRITE;
		break;
	default:
		break;
	}
	if (ri.argsz > q.argsz) {
		/* As VFIO does: the bare struct, argsz says what is needed. */
		memcpy(out, &ri, sizeof(ri));
		return reply(f, m, 0, out, sizeof(ri), fd);
	}
	memcpy(out, &ri, sizeof(ri));
	return reply_padded(f, m, out, ri.argsz, fd);
}

static int on_irq_info(struct fake *f, struct vfu_msg *m)
{
	struct vfu_irq_info q;
	static const unsigned counts[VFU_PCI_NUM_IRQS] = {1, 1, 256, 0, 0};

	memcpy(&q, m->payload, sizeof(q));
	q.count = q.index < VFU_PCI_NUM_IRQS ? counts[q.index] : 0;
	q.flags = VFU_IRQ_INFO_F_EVENTFD;
	q.argsz = (uint32_t)(sizeof(q) + f->argsz_pad); /* what a bigger struct would need */
	return reply_padded(f, m, &q, sizeof(q), -1);
}

static int on_set_irqs(struct fake *f, struct vfu_msg *m)
{
	struct vfu_irq_set s;

	memcpy(&s, m->payload, sizeof(s));
	if (s.flags & VFU_IRQ_SET_DATA_NONE) {
		FAKE_OK(f, s.count == 0 && s.start == 0);
		for (unsigned i = 0; i < 256; i++) {
			if (f->irq_fd[i] >= 0)
				close(f->irq_fd[i]);
			f->irq_fd[i] = -1;
		}
		f->set_irqs_disables++;
		f->next_start = 0;
		return reply(f, m, 0, NULL, 0, -1);
	}
	FAKE_OK(f, s.flags == (VFU_IRQ_SET_DATA_EVENTFD | VFU_IRQ_SET_ACTION_TRIGGER));
	FAKE_OK(f, s.count == m->nr_fds && s.start <= 256 && s.count <= 256 - s.start);
	if (f->broken)
		return reply(f, m, -EINVAL, NULL, 0, -1);
	f->set_irqs_msgs++;
	if (m->nr_fds > f->set_irqs_max_fds)
		f->set_irqs_max_fds = (unsigned)m->nr_fds;
	if (s.start != f->next_start)
		f->set_irqs_gap = 1;
	f->next_start = s.start + s.count;
	for (unsigned i = 0; i < s.count; i++) {
		if (f->irq_fd[s.start + i] >= 0)
			close(f->irq_fd[s.start + i]);
		f->irq_fd[s.start + i] = vfu_msg_take_fd(m, i);
	}
	return reply(f, m, 0, NULL, 0, -1);
}

static uint8_t *region_mem(struct fake *f, uint32_t region, uint64_t off, uint32_t count)
{
	if (region == 7 && off <= sizeof(f->cfg) && count <= sizeof(f->cfg) - off)
		return f->cfg + off;
	if (region == 0 && off <= BAR0_SIZE && count <= BAR0_SIZE - off)
		return f->bar0 + off;
	return NULL;
}

/*
 * Ask the client for memory (f->dma) and wait for its answer, which lands
 * in f->dma.result (0 or the client's -errno). On the twin socket if
 * there is one; else commands that come first (the client's call crossed
 * our request) are queued for later.
 * Return: 0 when the client answered; the transport's error otherwise.
 */
static int do_dma(struct fake *f)
{
	struct vfu_dma_access a = {.addr = f->dma.addr, .count = f->dma.count};
	struct iovec iov[2] = {{&a, sizeof(a)}, {f->dma.data, 0}};
	struct vfu_tran *t = f->t2 ? f->t2 : f->t;
	struct vfu_hdr h;
	int rc;

	vfu_hdr_request(&h, 0x4242, f->dma.cmd, 0);
	if (f->dma.cmd == VFU_CMD_DMA_WRITE)
		iov[1].iov_len = (size_t)f->dma.count;
	f->dma.result = -EIO;
	f->dma_sent++;
	rc = vfu_tran_send(t, &h, iov, 2, NULL, 0);
	while (rc == 0) {
		struct vfu_msg r;

		rc = vfu_tran_recv(t, &r, 2000);
		if (rc)
			break;
		if ((r.hdr.flags & VFU_HDR_F_TYPE_MASK) == VFU_HDR_F_TYPE_COMMAND && f->nqueue < QUEUE_MAX) {
			f->queue[f->nqueue++] = r;
			continue;
		}
		f->dma.result = vfu_msg_check_reply(&r.hdr, &h, r.payload, r.len);
		if (f->dma.result == 0 && f->dma.cmd == VFU_CMD_DMA_READ)
			memcpy(f->dma.data, r.payload + sizeof(a), (size_t)f->dma.count);
		if (f->dma.result == 0)
			f->dma_ok++;
		vfu_msg_release(&r);
		break;
	}
	return rc;
}

static int on_region_rw(struct fake *f, struct vfu_msg *m)
{
	struct vfu_region_access a;
	uint8_t out[sizeof(a) + 4096];
	uint8_t *mem;

	memcpy(&a, m->payload, sizeof(a));
	if (a.count > f->max_xfer)
		f->over_xfer = 1;
	if (a.region == 2 && m->hdr.cmd == VFU_CMD_REGION_READ && a.count <= 8 && a.offset <= BAR2_SIZE - 8) {
		/* BAR2 trapped: its memory is bar2_fd (zeros past its end) */
		memcpy(out, &a, sizeof(a));
		memset(out + sizeof(a), 0, a.count);
		FAKE_OK(f, pread(f->bar2_fd, out + sizeof(a), a.count, (off_t)a.offset) >= 0);
		return reply(f, m, 0, out, sizeof(a) + a.count, -1);
	}
	mem = region_mem(f, a.region, a.offset, a.count);
	if (!mem || a.count > 4096)
		return reply(f, m, -EINVAL, NULL, 0, -1);
	if (m->hdr.cmd == VFU_CMD_REGION_WRITE) {
		if (m->hdr.flags & VFU_HDR_F_NO_REPLY)
			f->posted[a.region == VFU_PCI_CONFIG_REGION_INDEX]++;
		else
			f->waited[a.region == VFU_PCI_CONFIG_REGION_INDEX]++;
		memcpy(mem, m->payload + sizeof(a), a.count);
		if (a.region == 0 && a.offset == DOORBELL)
			do_dma(f);
		return reply(f, m, 0, &a, sizeof(a), -1);
	}
	f->reads++;
	if (a.count > f->max_read_count)
		f->max_read_count = a.count;
	memcpy(out, &a, sizeof(a));
	memcpy(out + sizeof(a), mem, a.count);
	return reply(f, m, 0, out, sizeof(a) + a.count, -1);
}

static int on_dma(struct fake *f, struct vfu_msg *m)
{
	if (m->hdr.cmd == VFU_CMD_DMA_MAP) {
		struct vfu_dma_map d;

		memcpy(&d, m->payload, sizeof(d));
		f->maps++;
		f->map_addr = d.addr;
		f->map_size = d.size;
		f->map_flags = d.flags;
		if (f->map_fd >= 0)
			close(f->map_fd);
		f->map_fd = m->nr_fds ? vfu_msg_take_fd(m, 0) : -1;
		if (f->bus_ext) {
			struct vfu_dma_map_bus b = {.bus_addr = d.addr + f->bus_delta};

			return reply(f, m, 0, &b, sizeof(b), -1);
		}
		return reply(f, m, 0, NULL, 0, -1);
	}
	f->unmaps++;
	return reply_padded(f, m, m->payload, m->len, -1); /* echo the entry */
}

/* Misbehave instead of handling @m. 1 = done with it, -1 = stop serving. */
static int misbehave(struct fake *f, struct vfu_msg *m)
{
	struct vfu_region_access a;
	struct vfu_hdr h;
	uint8_t out[64] = {0};
	enum bad b = f->bad;
	int fd;

	if (b == BAD_NONE || m->hdr.cmd != f->bad_cmd)
		return 0;
	f->bad = BAD_NONE;
	switch (b) {
	case BAD_WRONG_ID:
		/* a well-formed reply of the right size, to another request */
		memcpy(&a, m->payload, sizeof(a));
		vfu_hdr_reply(&h, &m->hdr, 0);
		h.msg_id++;
		memcpy(out, &a, sizeof(a));
		FAKE_OK(f, vfu_tran_send_buf(f->t, &h, out, sizeof(a) + a.count, NULL, 0) == 0);
		return 1;
	case BAD_SHORT:
	case BAD_ECHO:
		memcpy(&a, m->payload, sizeof(a));
		if (b == BAD_ECHO)
			a.offset += 4;
		memcpy(out, &a, sizeof(a));
		FAKE_OK(f, reply(f, m, 0, out, sizeof(a) + a.count - (b == BAD_SHORT), -1) == 0);
		return 1;
	case BAD_ERRNO:
		/* the error field as given, even 0; a payload or fd as asked */
		vfu_hdr_reply(&h, &m->hdr, 0);
		h.flags |= VFU_HDR_F_ERROR;
		h.error = (uint32_t)f->bad_errno;
		fd = f->err_fd ? memfd_create("err", MFD_CLOEXEC) : -1;
		FAKE_OK(f, vfu_tran_send_buf(f->t, &h, out, f->err_payload, fd >= 0 ? &fd : NULL, fd >= 0) == 0);
		if (fd >= 0)
			close(fd);
		return 1;
	case BAD_EXTRA_FD:
		fd = memfd_create("stray", MFD_CLOEXEC);
		FAKE_OK(f, fd >= 0);
		memcpy(&a, m->payload, sizeof(a));
		memcpy(out, &a, sizeof(a));
		FAKE_OK(f, reply(f, m, 0, out, sizeof(a) + a.count, fd) == 0);
		if (fd >= 0)
			close(fd); /* the client's copy is the only one left */
		return 1;
	case BAD_GLUED: {
		struct vfu_dma_access d = {.addr = 0, .count = 4};
		uint8_t two[16 + 16 + sizeof(d)];

		vfu_hdr_reply(&h, &m->hdr, -EIO);
		memcpy(two, &h, 16);
		vfu_hdr_request(&h, 0x99, VFU_CMD_DMA_READ, 0);
		h.msg_size = 16 + sizeof(d);
		memcpy(two + 16, &h, 16);
		memcpy(two + 32, &d, sizeof(d));
		FAKE_OK(f, send(vfu_tran_pollfd(f->t), two, sizeof(two), MSG_NOSIGNAL) == (ssize_t)sizeof(two));
		return 1;
	}
	case BAD_TRICKLE: {
		uint8_t whole[16 + sizeof(a) + 8] = {0};
		size_t n;

		memcpy(&a, m->payload, sizeof(a));
		vfu_hdr_reply(&h, &m->hdr, 0);
		n = 16 + sizeof(a) + (a.count <= 8 ? a.count : 8);
		h.msg_size = (uint32_t)n;
		memcpy(whole, &h, 16);
		memcpy(whole + 16, &a, sizeof(a));
		for (size_t i = 0; i < n; i++) {
			if (send(vfu_tran_pollfd(f->t), whole + i, 1, MSG_NOSIGNAL) != 1)
				break; /* the client gave up */
			usleep(TRICKLE_MS * 1000);
		}
		return 1;
	}
	case BAD_FLOOD: {
		int64_t t0 = now_ms();

		/* nothing is mapped at 0: each is refused, and answered */
		f->dma.cmd = VFU_CMD_DMA_READ;
		f->dma.addr = 0;
		f->dma.count = 4;
		while (now_ms() - t0 < FLOOD_MS && do_dma(f) == 0)
			f->flood++;
		memcpy(&a, m->payload, sizeof(a));
		memcpy(out, &a, sizeof(a));
		(void)reply(f, m, 0, out, sizeof(a) + a.count, -1); /* if still there */
		return 1;
	}
	case BAD_VANISH:
		return -1;
	case BAD_STALL:
		return 1;
	default:
		return 0;
	}
}

static int handle(struct fake *f, struct vfu_msg *m)
{
	int rc = misbehave(f, m);

	if (rc)
		return rc < 0 ? rc : 0;
	if ((m->hdr.flags & VFU_HDR_F_TYPE_MASK) == VFU_HDR_F_TYPE_REPLY) {
		/* The client's answer to a request sent outside doorbell_dma. */
		f->stray_replies++;
		f->stray_error = m->hdr.flags & VFU_HDR_F_ERROR ? (int)m->hdr.error : 0;
		return 0;
	}
	switch (m->hdr.cmd) {
	case VFU_CMD_VERSION:
		return on_version(f, m);
	case VFU_CMD_DEVICE_GET_INFO: {
		struct vfu_device_info i = {
			.argsz = (uint32_t)(sizeof(i) + f->argsz_pad), .flags = VFU_DEVICE_F_PCI | VFU_DEVICE_F_RESET,
			.num_regions = 9, .num_irqs = 5,
		};

		return reply_padded(f, m, &i, sizeof(i), -1);
	}
	case VFU_CMD_DEVICE_GET_REGION_INFO:
		return on_region_info(f, m);
	case VFU_CMD_DEVICE_GET_IRQ_INFO:
		return on_irq_info(f, m);
	case VFU_CMD_DEVICE_SET_IRQS:
		return on_set_irqs(f, m);
	case VFU_CMD_REGION_READ:
	case VFU_CMD_REGION_WRITE:
		return on_region_rw(f, m);
	case VFU_CMD_DMA_MAP:
	case VFU_CMD_DMA_UNMAP:
		return on_dma(f, m);
	case VFU_CMD_DEVICE_RESET:
		f->resets++;
		return reply(f, m, 0, NULL, 0, -1);
	default:
		return reply(f, m, -ENOSYS, NULL, 0, -1);
	}
}

/* Handle the commands that came during a DMA, in order. */
static void drain(struct fake *f)
{
	while (f->nqueue > 0) {
		struct vfu_msg m = f->queue[0];

		f->nqueue--;
		memmove(f->queue, f->queue + 1, f->nqueue * sizeof(f->queue[0]));
		(void)handle(f, &m);
		vfu_msg_release(&m);
	}
}

/* Nothing came for a while: a DMA the test asked for, with the client
 * idle, or a hang-up (-1). */
static int on_quiet(struct fake *f)
{
	if (f->quiet_vanish)
		return -1;
	if (!f->unprompted)
		return 0;
	(void)do_dma(f);
	f->unprompted = false;
	pthread_cond_broadcast(&f->done);
	drain(f);
	return 0;
}

static void *fake_main(void *arg)
{
	struct fake *f = arg;
	int quiet_ms = 0;
	int fd;

	if (vfu_sock_accept(f->lfd, 5000, &fd) != 0)
		return NULL;
	if (vfu_tran_sock_new(fd, &f->t) != 0) {
		FAKE_OK(f, 0);
		close(fd);
		return NULL;
	}
	FAKE_OK(f, vfu_tran_set_limits(f->t, VFU_TRAN_DEFAULT_MAX_MSG_SIZE, VFU_MSG_MAX_FDS, 1) == 0);
	for (;;) {
		struct vfu_msg m;
		int rc = vfu_tran_recv(f->t, &m, 10);

		if (rc == -EAGAIN && quiet_ms < 10000) {
			quiet_ms += 10;
			pthread_mutex_lock(&f->lock);
			rc = on_quiet(f);
			pthread_mutex_unlock(&f->lock);
			if (rc)
				break;
			continue;
		}
		if (rc)
			break; /* the client left (or the test is over) */
		quiet_ms = 0;
		pthread_mutex_lock(&f->lock);
		rc = handle(f, &m);
		/* A device that DMAs right after it answered. */
		if (rc == 0 && f->dma_every && !(m.hdr.flags & VFU_HDR_F_NO_REPLY) && ++f->replies % f->dma_every == 0) {
			(void)do_dma(f);
			drain(f);
		}
		pthread_mutex_unlock(&f->lock);
		vfu_msg_release(&m);
		if (rc)
			break;
	}
	pthread_mutex_lock(&f->lock);
	for (unsigned i = 0; i < f->nqueue; i++)
		vfu_msg_release(&f->queue[i]);
	f->nqueue = 0;
	vfu_tran_close(f->t);
	vfu_tran_close(f->t2);
	f->t = NULL;
	f->t2 = NULL;
	f->unprompted = false;
	pthread_cond_broadcast(&f->done);
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

static int ram_fd(size_t size)
{
	int fd = memfd_create("fake-bar", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	return fd;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static struct fake *fake_start(uint32_t max_msg_fds, uint64_t max_xfer)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/vfu-client-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/fake0.sock", f->dir);
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->done, NULL);
	f->bar2_offer = -1;
	f->max_msg_fds = max_msg_fds;
	f->max_xfer = max_xfer;
	f->map_fd = -1;
	for (unsigned i = 0; i < 256; i++)
		f->irq_fd[i] = -1;
	put16(f->cfg + 0x00, 0x1234);
	put16(f->cfg + 0x02, 0x5678);
	f->cfg[0x08] = 0x02;                  /* revision */
	f->cfg[0x09] = 0x30;                  /* class 0c0330 */
	f->cfg[0x0a] = 0x03;
	f->cfg[0x0b] = 0x0c;
	f->cfg[0x18] = 0x0c;                  /* BAR2: 64-bit prefetchable */
	put16(f->cfg + 0x2c, 0xabcd);
	put16(f->cfg + 0x2e, 0x0001);
	for (unsigned i = 0x40; i < sizeof(f->cfg); i++)
		f->cfg[i] = (uint8_t)(i * 7); /* something to compare block reads with */
	f->bar2_fd = ram_fd(BAR2_SIZE);
	f->bar4_fd = ram_fd(BAR4_SIZE);
	assert_int_equal(vfu_sock_listen(f->path, 1, &f->lfd), 0);
	assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
	return f;
}

/* Wait for the fake to end (the client left, or it hung up). */
static void fake_join(struct fake *f)
{
	if (!f->joined)
		assert_int_equal(pthread_join(f->th, NULL), 0);
	f->joined = true;
}

static void fake_stop(struct fake *f)
{
	fake_join(f);
	assert_int_equal(f->broken, 0);
	close(f->lfd);
	close(f->bar2_fd);
	close(f->bar4_fd);
	if (f->bar2_offer >= 0)
		close(f->bar2_offer);
	if (f->map_fd >= 0)
		close(f->map_fd);
	for (unsigned i = 0; i < 256; i++)
		if (f->irq_fd[i] >= 0)
			close(f->irq_fd[i]);
	unlink(f->path);
	rmdir(f->dir);
	pthread_mutex_destroy(&f->lock);
	pthread_cond_destroy(&f->done);
	free(f);
}

static char *uri_of(const struct fake *f)
{
	static char uri[160];

	snprintf(uri, sizeof(uri), "vfio-user:%s", f->path);
	return uri;
}

static upci_dev *open_claimed(struct fake *f)
{
	upci_dev *d = NULL;

	assert_int_equal(upci_open(&d, uri_of(f)), 0);
	assert_int_equal(upci_claim(d), 0);
	return d;
}

static void set_bad(struct fake *f, enum bad b, uint16_t cmd, int err)
{
	pthread_mutex_lock(&f->lock);
	f->bad = b;
	f->bad_cmd = cmd;
	f->bad_errno = err;
	pthread_mutex_unlock(&f->lock);
}

/* BAD_ERRNO on the next @cmd: error field @err as is, @payload bytes with
 * it, an fd with it. */
static void set_err(struct fake *f, uint16_t cmd, int err, size_t payload, bool fd)
{
	set_bad(f, BAD_ERRNO, cmd, err);
	pthread_mutex_lock(&f->lock);
	f->err_payload = payload;
	f->err_fd = fd;
	pthread_mutex_unlock(&f->lock);
}

/* ================= tests ================= */

static int fds_before;

static int setup(void **state)
{
	(void)state;
	unsetenv("UPCI_VFU_TIMEOUT_MS");
	unsetenv("UPCI_VFU_POSTED_WRITES");
	fds_before = count_fds();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(count_fds(), fds_before); /* nothing leaked, on either side */
	return 0;
}

static void test_open_identity(void **state)
{
	struct fake *f = fake_start(8, 1 << 20);
	struct upci_identity id;
	struct upci_bar_info bi;
	upci_dev *d = NULL;

	(void)state;
	assert_int_equal(upci_open(&d, uri_of(f)), 0);
	assert_int_equal(upci_identity(d, &id), 0);
	assert_string_equal(id.backend, "vfio-user");
	assert_string_equal(id.name, "fake0.sock");
	assert_int_equal(id.vendor_id, 0x1234);
	assert_int_equal(id.device_id, 0x5678);
	assert_int_equal(id.revision, 2);
	assert_int_equal(id.class_code, 0x0c0330);
	assert_int_equal(id.subsys_vendor_id, 0xabcd);
	assert_int_equal(id.subsys_id, 1);
	assert_int_equal(id.config_size, 256);
	assert_int_equal(id.domain | id.bus | id.device | id.function, 0);
	/* We proposed what we can receive. */
	assert_int_equal(f->client_caps.max_msg_fds, 8);
	assert_int_equal(f->client_caps.max_data_xfer_size, 1 << 20);

	assert_int_equal(upci_bar_info(d, 0, &bi), 0);
	assert_int_equal(bi.size, BAR0_SIZE);
	assert_int_equal(bi.flags, UPCI_BAR_PRESENT);
	assert_int_equal(upci_bar_info(d, 2, &bi), 0);
	assert_int_equal(bi.size, BAR2_SIZE);
	assert_int_equal(bi.flags, UPCI_BAR_PRESENT | UPCI_BAR_MEM64 | UPCI_BAR_PREFETCH | UPCI_BAR_MAPPABLE);
	/* 16 areas do not fit the first request: asked again, bigger. */
	assert_int_equal(f->region_info_calls[2], 2);
	assert_int_equal(upci_bar_info(d, 3, &bi), 0);
	assert_int_equal(bi.flags | bi.size, 0);
	/* BAR4's areas leave a hole: present, not mappable. */
	assert_int_equal(upci_bar_info(d, 4, &bi), 0);
	assert_int_equal(bi.size, BAR4_SIZE);
	assert_int_equal(bi.flags, UPCI_BAR_PRESENT);
	assert_int_equal(upci_irq_count(d, UPCI_IRQ_MSIX), 256);
	assert_int_equal(upci_irq_count(d, UPCI_IRQ_MSI), 1);
	assert_int_equal(upci_irq_count(d, UPCI_IRQ_INTX), 1);
	upci_close(d);
	fake_stop(f);
}

static void test_no_server(void **state)
{
	upci_dev *d = NULL;

	(void)state;
	assert_int_equal(upci_open(&d, "vfio-user:/nonexistent-upci-dir/x.sock"), -ENOENT);
	assert_null(d);
}

/* A server busy with another client refuses VERSION with EBUSY: -EBUSY.
 * One that hangs up says nothing about being busy: -ECONNRESET. */
static void test_busy_server(void **state)
{
	upci_dev *d = NULL;

	(void)state;
	for (int hang_up = 0; hang_up < 2; hang_up++) {
		struct fake *f = fake_start(8, 1 << 20);

		set_bad(f, hang_up ? BAD_VANISH : BAD_ERRNO, VFU_CMD_VERSION, EBUSY);
		assert_int_equal(upci_open(&d, uri_of(f)), hang_up ? -ECONNRESET : -EBUSY);
		assert_null(d);
		fake_stop(f);
	}
}

/* 256 vectors to a server that takes 8 fds a message: 32 messages. */
static void test_set_irqs_chunked(void **state)
{
	struct fake *f = fake_start(8, 1 << 20);
	upci_dev *d = open_claimed(f);
	uint64_t pend[UPCI_IRQ_WORDS], one = 1;

	(void)state;
	assert_int_equal(upci_irq_enable(d, UPCI_IRQ_MSIX, 256), 256);
	pthread_mutex_lock(&f->lock);
	assert_int_equal(f->set_irqs_msgs, 32);
	assert_int_equal(f->set_irqs_max_fds, 8);
	assert_int_equal(f->set_irqs_gap, 0);
	assert_int_equal(f->next_start, 256);
	/* The server fires vector 200 on the eventfd it was given. */
	assert_int_equal(write(f->irq_fd[200], &one, sizeof(one)), (ssize_t)sizeof(one));
	pthread_mutex_unlock(&f->lock);
	assert_int_equal(upci_irq_wait(d, 2000, pend), 1);
	assert_int_equal(pend[3], UINT64_C(1) << (200 - 192));
	assert_int_equal(pend[0] | pend[1] | pend[2], 0);
	assert_int_equal(upci_irq_disable(d), 0);
	assert_int_equal(f->set_irqs_disables, 1);
	upci_close(d);
	fake_stop(f);
}

/* A server taking one fd a message gets one vector per message. */
static void test_set_irqs_one_fd(void **state)
{
	struct fake *f = fake_start(1, 1 << 20);
	upci_dev *d = open_claimed(f);

	(void)state;
	assert_int_equal(upci_irq_enable(d, UPCI_IRQ_MSIX, 5), 5);
	assert_int_equal(f->set_irqs_msgs, 5);
	assert_int_equal(f->set_irqs_max_fds, 1);
	upci_close(d);
	assert_int_equal(f->set_irqs_disables, 1); /* close turned them off */
	fake_stop(f);
}

/* Write the eventfd the fake holds for @vec (the server firing it). */
static void fake_fire(struct fake *f, unsigned vec)
{
	uint64_t one = 1;

	pthread_mutex_lock(&f->lock);
	assert_true(f->irq_fd[vec] >= 0);
	assert_int_equal(write(f->irq_fd[vec], &one, sizeof(one)), (ssize_t)sizeof(one));
	pthread_mutex_unlock(&f->lock);
}

static uint64_t efd_read(int fd)
{
	uint64_t n = 0;

	if (read(fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return 0;
	return n;
}

/*
 * upci_irq_set_eventfd() over vfio-user: the server is handed the
 * caller's eventfd (one SET_IRQS for that vector), so what it signals
 * reaches the caller with no hop through the client; masking points the
 * server back at the client's own eventfd (latched, peek sees it), and
 * unmasking hands the caller's fd over again and replays the latch.
 */
static void test_set_eventfd_server_signals(void **state)
{
	struct fake *f = fake_start(8, 1 << 20);
	upci_dev *d = open_claimed(f);
	uint64_t pend[UPCI_IRQ_WORDS], mask[UPCI_IRQ_WORDS];
	int ev = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	unsigned msgs;

	(void)state;
	assert_true(ev >= 0);
	assert_int_equal(upci_irq_enable(d, UPCI_IRQ_MSIX, 8), 8);
	msgs = f->set_irqs_msgs;
	assert_int_equal(upci_irq_set_eventfd(d, 3, ev), 0);
	assert_int_equal(f->set_irqs_msgs, msgs + 1);
	/* The fd the server holds for vector 3 is the caller's eventfd. */
	fake_fire(f, 3);
	assert_int_equal(efd_read(ev), 1);
	assert_int_equal(upci_irq_wait(d, 50, pend), -ETIMEDOUT);
	/* Masked: the server gets our own eventfd back; a firing latches. */
	memset(mask, 0xff, sizeof(mask));
	mask[0] &= ~(UINT64_C(1) << 3);
	assert_int_equal(upci_irq_set_mask(d, mask), 0);
	assert_int_equal(f->set_irqs_msgs, msgs + 2);
	fake_fire(f, 3);
	assert_int_equal(efd_read(ev), 0);
	assert_int_equal(upci_irq_peek_pending(d, pend), 1);
	assert_int_equal(pend[0], UINT64_C(1) << 3);
	assert_int_equal(upci_irq_take_pending(d, pend), 0);
	/* Unmasked: handed over again, and the latched one replayed once. */
	memset(mask, 0xff, sizeof(mask));
	assert_int_equal(upci_irq_set_mask(d, mask), 0);
	assert_int_equal(f->set_irqs_msgs, msgs + 3);
	assert_int_equal(efd_read(ev), 1);
	assert_int_equal(upci_irq_peek_pending(d, pend), 0);
	fake_fire(f, 3);
	assert_int_equal(efd_read(ev), 1);
	/* A mask change of other vectors sends nothing. */
	mask[0] &= ~(UINT64_C(1) << 4);
	assert_int_equal(upci_irq_set_mask(d, mask), 0);
	assert_int_equal(f->set_irqs_msgs, msgs + 3);
	/* Given back: our own eventfd, the bitmap. */
	assert_int_equal(upci_irq_set_eventfd(d, 3, -1), 0);
	assert_int_equal(f->set_irqs_msgs, msgs + 4);
	fake_fire(f, 3);
	assert_int_equal(upci_irq_wait(d, 2000, pend), 1);
	assert_int_equal(pend[0], UINT64_C(1) << 3);
	assert_int_equal(efd_read(ev), 0);
	upci_close(d);
	close(ev);
	fake_stop(f);
}

struct route_race {
	upci_dev *d;
	int ev;
	atomic_bool stop;
	atomic_int err;
};

static void *route_masker(void *arg)
{
	struct route_race *r = arg;

	for (unsigned i = 0; !atomic_load(&r->stop); i++) {
		uint64_t mask[UPCI_IRQ_WORDS];
		int rc;

		memset(mask, 0xff, sizeof(mask));
		mask[0] &= ~(UINT64_C(1) << (i % 4));
		rc = upci_irq_set_mask(r->d, mask);
		if (rc)
			atomic_store(&r->err, rc);
	}
	return NULL;
}

static void *route_router(void *arg)
{
	struct route_race *r = arg;

	for (unsigned i = 0; !atomic_load(&r->stop); i++) {
		int rc = upci_irq_set_eventfd(r->d, i % 4, i % 2 ? r->ev : -1);

		if (rc)
			atomic_store(&r->err, rc);
	}
	return NULL;
}

/* Mask changes that re-point the server (the handle lock) racing route
 * changes and MMIO from other threads: no deadlock, no error. */
static void test_set_eventfd_races(void **state)
{
	struct fake *f = fake_start(8, 1 << 20);
	struct route_race r = {.d = open_claimed(f)};
	pthread_t th[2];
	uint64_t v;

	(void)state;
	r.ev = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(r.ev >= 0);
	atomic_init(&r.stop, false);
	atomic_init(&r.err, 0);
	assert_int_equal(upci_irq_enable(r.d, UPCI_IRQ_MSIX, 8), 8);
	assert_int_equal(pthread_create(&th[0], NULL, route_masker, &r), 0);
	assert_int_equal(pthread_create(&th[1], NULL, route_router, &r), 0);
	for (int i = 0; i < 300; i++)
		assert_int_equal(upci_mmio_read(r.d, 0, 0, 4, &v), 0);
	atomic_store(&r.stop, true);
	pthread_join(th[0], NULL);
	pthread_join(th[1], NULL);
	assert_int_equal(atomic_load(&r.err), 0);
	upci_close(r.d);
	close(r.ev);
	fake_stop(f);
}

static void test_block_read_chunked(void **state)
{
	struct fake *f = fake_start(8, 64);
	upci_dev *d = NULL;
	uint8_t buf[256];
	uint32_t v;

	(void)state;
	assert_int_equal(upci_open(&d, uri_of(f)), 0);
	f->reads = 0;
	f->max_read_count = 0;
	assert_int_equal(upci_config_read_block(d, 0, buf, sizeof(buf)), 0);
	assert_memory_equal(buf, f->cfg, sizeof(buf));
	assert_int_equal(f->reads, 4);
	assert_int_equal(f->max_read_count, 64);
	/* Under the limit: one message. */
	f->reads = 0;
	assert_int_equal(upci_config_read_block(d, 0x41, buf, 63), 0);
	assert_memory_equal(buf, f->cfg + 0x41, 63);
	assert_int_equal(f->reads, 1);
	assert_int_equal(upci_config_read(d, 0x40, 4, &v), 0);
	assert_int_equal(v, f->cfg[0x40] | f->cfg[0x41] << 8 | f->cfg[0x42] << 16 | (uint32_t)f->cfg[0x43] << 24);
	assert_int_equal(f->over_xfer, 0);
	upci_close(d);
	fake_stop(f);
}

static void test_config_mmio_roundtrip(void **state)
{
	struct fake *f = fake_start(8, 1 << 20);
	upci_dev *d = open_claimed(f);
	uint64_t v;
	uint32_t c;

	(void)state;
	assert_int_equal(upci_config_write(d, 0x3c, 1, 0x5a), 0);
	assert_int_equal(f->cfg[0x3c], 0x5a);
	assert_int_equal(upci_config_read(d, 0x3c, 1, &c), 0);
	assert_int_equal(c, 0x5a);
	assert_int_equal(upci_mmio_write(d, 0, 0x10, 8, UINT64_C(0x1122334455667788)), 0);
	assert_int_equal(f->bar0[0x10], 0x88);
	assert_int_equal(f->bar0[0x17], 0x11);
	assert_int_equal(upci_mmio_read(d, 0, 0x12, 2, &v), 0);
	assert_int_equal(v, 0x5566);
	assert_int_equal(upci_reset(d), 0);
	assert_int_equal(f->resets, 1);
	upci_close(d);
	fake_stop(f);
}

/* A server whose DEVICE_RESET leaves config space alone (libvfio-user only
 * calls the device's reset callback): upci.h still promises bus mastering
 * off afterwards. */
static void test_reset_bus_master_off(void **state)
{
	struct fake *f = fake_start(8, 1 << 20);
	upci_dev *d = open_claimed(f);
	uint32_t c;

	(void)state;
	assert_int_equal(upci_config_read(d, 0x04, 2, &c), 0);
	assert_int_equal(upci_config_write(d, 0x04, 2, c | 0x6), 0); /* memory space + bus master */
	assert_int_equal(upci_reset(d), 0);
	assert_int_equal(f->resets, 1);
	assert_int_equal(upci_config_read(d, 0x04, 2, &c), 0);
	assert_int_equal(c & 0x4, 0);
	assert_int_equal(f->cfg[0x04] & 0x4, 0);
	upci_close(d);
	fake_stop(f);
}

static void test_wrong_msg_id(void **state)
{
	struct fake *f = fake_start(8, 1 << 20);
	upci_dev *d = NULL;
	uint32_t v;

	(void)state;
	assert_int_equal(upci_open(&d, uri_of(f)), 0);
	set_bad(f, BAD_WRONG_ID, VFU_CMD_REGION_READ, 0);
	assert_int_equal(upci_config_read(d, 0, 4, &v), -EPROTO);
	/* A server that answers what was not asked is not trusted again. */
	assert_int_equal(upci_config_read(d, 0, 4, &v), -ENODEV);
	upci_close(d);
	fake_stop(f);
}

static void test_short_and_bad_echo(void **state)
{
	struct fake *f = fake_start(8, 1 << 20);
	upci_dev *d = NULL;
	uint32_t v;

	(void)state;
	assert_int_equal(upci_open(&d, uri_of(f)), 0);
	set_bad(f, BAD_SHORT, VFU_CMD_REGION_READ, 0);
	assert_int_equal(upci_config_read(d, 0, 4, &v), -EPROTO);
	set_bad(f, BAD_ECHO, VFU_CMD_REGION_READ, 0);
	assert_int_equal(upci_config_read(d, 0, 4, &v), -EPROTO);
	/* The stream stayed in sync: the next call works. */
	assert_int_equal(upci_config_read(d, 0, 4, &v), 0);
	assert_int_equal(v, 0x56781234);
	upci_close(d);
	fake_stop(f);
}

static void test_error_reply(void **state)
{
	struct fake *f = fake_start(8, 1 << 20);
	upci_dev *d = open_claimed(f);
	uint32_t v;

	(void)state;
	set_bad(f, BAD_ERRNO, VFU_CMD_REGION_WRITE, EACCES);
	assert_int_equal(upci_config_write(d, 0x3c, 1, 1), -EACCES);
	set_bad(f, BAD_ERRNO, VFU_CMD_DEVICE_RESET, EIO);
	assert_int_equal(upci_reset(d), -EIO);
	assert_int_equal(upci_config_read(d, 0, 2, &v), 0);
	assert_int_equal(v, 0x1234);
	upci_close(d);
	fake_stop(f);
}

/* A server that does not wait for us after a short reply: an error reply
 * and a DMA request arrive in one read. The error is the call's; the
 * request waits in the transport and is answered (with an error: nothing
 * is mapped at 0) in the next call, which then gets its reply. */
static void test_glued_messages(void **state)
{
	struct fake *f = fake_start(8, 1 << 20);
	upci_dev *d = NULL;
	uint32_t v = 0;

	(void)state;
	assert_int_equal(upci_open(&d, uri_of(f)), 0);
	set_bad(f, BAD_GLUED, VFU_CMD_REGION_READ, 0);
	assert_int_equal(upci_config_read(d, 0, 4, &v), -EIO);
	pthread_mutex_lock(&f->lock);
	assert_int_equal(f->stray_replies, 0);
	pthread_mutex_unlock(&f->lock);
	assert_int_equal(upci_config_read(d, 0, 2, &v), 0);
	assert_int_equal(v, 0x1234);
	/* The answer went out after that call's request: one more round
	 * trip, and the fake has seen it. */
	assert_int_equal(upci_config_read(d, 0, 2, &v), 0);
	pthread_mutex_lock(&f->lock);
	assert_int_equal(f->stray_replies, 1);
	assert_int_not_equal(f->stray_error, 0);
	pthread_mutex_unlock(&f->lock);
	upci_close(d);
	fake_stop(f);
}

static void test_unasked_fd_closed(void **state)
{
	struct fake *f = fake_start(8, 1 << 20);
	upci_dev *d = NULL;
	uint32_t v;

	(void)state;
	assert_int_equal(upci_open(&d, uri_of(f)), 0);
	set_bad(f, BAD_EXTRA_FD, VFU_CMD_REGION_READ, 0);
	assert_int_equal(upci_config_read(d, 0, 4, &v), -EPROTO);
	assert_int_equal(upci_config_read(d, 0, 4, &v), 0);
	upci_close(d);
	fake_stop(f); /* teardown counts fds: the stray one must be gone */
}

static void test_server_vanishes(void **state)
{
	struct fake *f = fake_start(8, 1 << 20);
	upci_dev *d = open_claimed(f);
	uint64_t v;
	int64_t t0;
	int rc;

	(void)state;
	set_bad(f, BAD_VANISH, VFU_CMD_REGION_READ, 0);
	t0 = now_ms();
	rc = upci_mmio_read(d, 0, 0, 4, &v);
	assert_int_equal(rc, -ECONNRESET);
	assert_true(now_ms() - t0 < 2000);
	assert_int_equal(upci_mmio_read(d, 0, 0, 4, &v), -ENODEV);
	assert_int_equal(upci_irq_enable(d, UPCI_IRQ_MSIX, 4), -ENODEV);
	upci_close(d);
	fake_stop(f);
}

static void test_server_stalls(void **state)
{
	struct fake *f = fake_start(8, 1 << 20);
	upci_dev *d;
	uint32_t v;
	int64_t t0, dt;

	(void)state;
	setenv("UPCI_VFU_TIMEOUT_MS", "200", 1);
	d = open_claimed(f);
	set_bad(f, BAD_STALL, VFU_CMD_REGION_READ, 0);
	t0 = now_ms();
	assert_int_equal(upci_config_read(d, 0, 4, &v), -ETIMEDOUT);
	dt = now_ms() - t0;
	assert_true(dt >= 190 && dt < 2000);
	assert_int_equal(upci_config_read(d, 0, 4, &v), -ENODEV);
	upci_close(d); /* closing the socket ends the fake's loop */
	fake_stop(f);
	unsetenv("UPCI_VFU_TIMEOUT_MS");
}

/* The fake does f->dma while a doorbell write is pending. */
static int doorbell_dma(struct fake *f, upci_dev *d, uint16_t cmd, uint64_t addr, uint64_t count)
{
	int rc;

	pthread_mutex_lock(&f->lock);
	f->dma.cmd = cmd;
	f->dma.addr = addr;
	f->dma.count = count;
	f->dma.result = 1;
	pthread_mutex_unlock(&f->lock);
	assert_int_equal(upci_mmio_write(d, 0, DOORBELL, 4, 1), 0);
	assert_int_equal(f->nqueue, 0);
	pthread_mutex_lock(&f->lock);
	rc = f->dma.result;
	pthread_mutex_unlock(&f->lock);
	return rc;
}

static void test_dma_inband(void **state)
{
	struct fake *f = fake_start(8, 1 << 20);
	upci_dev *d = open_claimed(f);
	const uint64_t iova = 0x100000, ps = (uint64_t)sysconf(_SC_PAGESIZE);
	uint8_t *mem = mmap(NULL, 3 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t bus = 0;

	(void)state;
	assert_true(mem != MAP_FAILED);
	for (unsigned i = 0; i < 64; i++)
		mem[ps - 32 + i] = (uint8_t)(0xa0 + i);
	assert_int_equal(upci_dma_map(d, iova, mem, 2 * ps, UPCI_DMA_RW, &bus), 0);
	assert_int_equal(bus, iova);
	assert_int_equal(f->maps, 1);
	assert_int_equal(f->map_fd, -1); /* no fd behind caller memory: in-band */
	assert_int_equal(f->map_addr, iova);
	assert_int_equal(f->map_size, 2 * ps);
	assert_int_equal(f->map_flags, VFU_DMA_MAP_F_READ | VFU_DMA_MAP_F_WRITE);

	/* A read across the page boundary inside the mapping. */
	assert_int_equal(doorbell_dma(f, d, VFU_CMD_DMA_READ, iova + ps - 32, 64), 0);
	assert_memory_equal(f->dma.data, mem + ps - 32, 64);
	/* A write lands in process memory. */
	memset(f->dma.data, 0x5c, sizeof(f->dma.data));
	assert_int_equal(doorbell_dma(f, d, VFU_CMD_DMA_WRITE, iova + 8, 200), 0);
	for (unsigned i = 0; i < 200; i++)
		assert_int_equal(mem[8 + i], 0x5c);
	assert_int_equal(mem[7], 0);
	assert_int_equal(mem[208], 0);
	/* Outside: past the end, before the start, straddling the end. */
	assert_int_equal(doorbell_dma(f, d, VFU_CMD_DMA_READ, iova + 2 * ps, 8), -EFAULT);
	assert_int_equal(doorbell_dma(f, d, VFU_CMD_DMA_WRITE, iova - 8, 8), -EFAULT);
	assert_int_equal(doorbell_dma(f, d, VFU_CMD_DMA_READ, iova + 2 * ps - 8, 16), -EFAULT);
	assert_int_equal(doorbell_dma(f, d, VFU_CMD_DMA_READ, UINT64_MAX - 3, 8), -EFAULT);
	assert_int_equal(mem[2 * ps], 0); /* the page after the mapping untouched */
	assert_int_equal(upci_dma_unmap(d, iova), 0);
	assert_int_equal(f->unmaps, 1);
	/* Unmapped: nothing is reachable any more. */
	assert_int_equal(doorbell_dma(f, d, VFU_CMD_DMA_READ, iova, 8), -EFAULT);

	/* Read-only for the device: its writes are refused. */
	assert_int_equal(upci_dma_map(d, iova, mem, ps, UPCI_DMA_READ, &bus), 0);
	assert_int_equal(f->map_flags, VFU_DMA_MAP_F_READ);
	mem[0] = 0x11;
	assert_int_equal(doorbell_dma(f, d, VFU_CMD_DMA_WRITE, iova, 4), -EFAULT);
	assert_int_equal(mem[0], 0x11);
	assert_int_equal(doorbell_dma(f, d, VFU_CMD_DMA_READ, iova, 4), 0);
	assert_int_equal(f->dma.data[0], 0x11);
	upci_close(d);
	fake_stop(f);
	munmap(mem, 3 * ps);
}

/* Memory reached through a callback (a proxy's client memory). */
struct remote {
	uint8_t mem[8192];
	uint64_t last_off, last_len;
	int fail;
};

static int remote_rw(void *opaque, uint64_t off, void *buf, uint64_t len, int is_write)
{
	struct remote *r = opaque;

	r->last_off = off;
	r->last_len = len;
	if (r->fail)
		return -EIO;
	if (is_write)
		memcpy(r->mem + off, buf, (size_t)len);
	else
		memcpy(buf, r->mem + off, (size_t)len);
	return 0;
}

static void test_dma_remote(void **state)
{
	struct fake *f = fake_start(8, 1 << 20);
	upci_dev *d = open_claimed(f);
	struct remote *r = calloc(1, sizeof(*r));
	const uint64_t iova = 0x200000;
	uint64_t bus = 0;

	(void)state;
	assert_non_null(r);
	for (unsigned i = 0; i < sizeof(r->mem); i++)
		r->mem[i] = (uint8_t)(i * 3);
	assert_int_equal(upci__dma_map_remote(d, iova, sizeof(r->mem), UPCI_DMA_RW, remote_rw, r, &bus), 0);
	assert_int_equal(bus, iova);
	assert_int_equal(f->map_fd, -1);
	assert_int_equal(doorbell_dma(f, d, VFU_CMD_DMA_READ, iova + 4000, 200), 0);
	assert_int_equal(r->last_off, 4000);
	assert_memory_equal(f->dma.data, r->mem + 4000, 200);
	memset(f->dma.data, 0xee, sizeof(f->dma.data));
	assert_int_equal(doorbell_dma(f, d, VFU_CMD_DMA_WRITE, iova + 8, 16), 0);
	assert_int_equal(r->mem[8], 0xee);
	assert_int_equal(r->mem[24], (uint8_t)(24 * 3));
	/* The callback's error is the server's answer; bounds still apply. */
	r->fail = 1;
	assert_int_equal(doorbell_dma(f, d, VFU_CMD_DMA_READ, iova, 4), -EIO);
	r->fail = 0;
	r->last_len = 0;
	assert_int_equal(doorbell_dma(f, d, VFU_CMD_DMA_READ, iova + sizeof(r->mem) - 4, 8), -EFAULT);
	assert_int_equal(r->last_len, 0); /* refused before the callback */
	assert_int_equal(upci_dma_unmap(d, iova), 0);
	upci_close(d);
	fake_stop(f);
	free(r);
}

static void test_dma_alloc_shares_fd(void **state)
{
	struct fake *f = fake_start(8, 1 << 20);
	upci_dev *d = open_claimed(f);
	struct upci_dma_buf b;
	uint8_t *peer;

	(void)state;
	assert_int_equal(upci_dma_alloc(d, UPCI_IOVA_ANY, 8192, &b), 0);
	assert_int_equal(f->map_addr, b.iova);
	assert_true(f->map_fd >= 0);
	/* The server's mapping of the fd is the same memory. */
	peer = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, f->map_fd, 0);
	assert_true(peer != MAP_FAILED);
	peer[4097] = 0x77;
	assert_int_equal(((uint8_t *)b.vaddr)[4097], 0x77);
	munmap(peer, 8192);
	assert_int_equal(upci_dma_free(d, &b), 0);
	assert_int_equal(f->unmaps, 1);
	upci_close(d);
	fake_stop(f);
}

static void set_bus(struct fake *f, bool ext, uint64_t delta)
{
	pthread_mutex_lock(&f->lock);
	f->bus_ext = ext;
	f->bus_delta = delta;
	pthread_mutex_unlock(&f->lock);
}

/*
 * x-upci-dma-bus-addr: the client always proposes it; a server that takes
 * it up names the bus address of every DMA_MAP, and upci_dma_map returns
 * that address, not the IOVA. A bus address that cannot hold the mapping,
 * or a reply without one, is a protocol error, and the map is undone on
 * the server.
 */
static void test_dma_bus_addr(void **state)
{
	const uint64_t delta = 0x7f0000000ull;
	struct fake *f = fake_start(8, 1 << 20);
	upci_dev *d;
	struct upci_dma_buf b;

	(void)state;
	set_bus(f, true, delta);
	d = open_claimed(f);
	assert_true(f->client_caps.dma_bus_addr);
	assert_int_equal(upci_dma_alloc(d, UPCI_IOVA_ANY, 8192, &b), 0);
	assert_int_equal(f->map_addr, b.iova);
	assert_int_equal(b.bus_addr, b.iova + delta);
	assert_int_equal(upci_dma_free(d, &b), 0);
	assert_int_equal(f->unmaps, 1);

	/* bus + size wraps: refused, and the server told to drop it */
	set_bus(f, true, UINT64_MAX - 4095 - 0x100000); /* bus = 2^64 - 4096 */
	assert_int_equal(upci_dma_alloc(d, 0x100000, 8192, &b), -EPROTO);
	assert_int_equal(f->maps, 2);
	assert_int_equal(f->unmaps, 2);
	/* negotiated, but the reply has no bus address: refused and undone too */
	set_bus(f, false, 0);
	assert_int_equal(upci_dma_alloc(d, 0x100000, 8192, &b), -EPROTO);
	assert_int_equal(f->maps, 3);
	assert_int_equal(f->unmaps, 3);
	/* the IOVA is free again for a good map */
	set_bus(f, true, 0x1000);
	assert_int_equal(upci_dma_alloc(d, UPCI_IOVA_ANY, 8192, &b), 0);
	assert_int_equal(b.bus_addr, b.iova + 0x1000);
	assert_int_equal(upci_dma_free(d, &b), 0);
	upci_close(d);
	fake_stop(f);

	/* Not taken up: the bus address is the IOVA, and a DMA_MAP reply with
	 * a payload would be a protocol error. */
	f = fake_start(8, 1 << 20);
	d = open_claimed(f);
	assert_int_equal(upci_dma_alloc(d, UPCI_IOVA_ANY, 8192, &b), 0);
	assert_int_equal(b.bus_addr, b.iova);
	assert_int_equal(upci_dma_free(d, &b), 0);
	upci_close(d);
	fake_stop(f);
}

/*
 * UPCI_VFU_POSTED_WRITES=1: BAR writes go with No_reply and the call does
 * not wait; a later read sees them (the socket keeps the order). Config
 * writes always wait, and so does every write while the server may need
 * an in-band DMA answer. Any other value keeps writes waited for.
 */
static void test_posted_writes(void **state)
{
	const uint64_t ps = (uint64_t)sysconf(_SC_PAGESIZE);
	uint8_t *mem = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct fake *f = fake_start(8, 1 << 20);
	upci_dev *d;
	uint64_t v = 0, bus;
	uint32_t cv = 0;

	(void)state;
	assert_true(mem != MAP_FAILED);
	setenv("UPCI_VFU_POSTED_WRITES", "1", 1);
	d = open_claimed(f);
	for (unsigned i = 0; i < 10; i++)
		assert_int_equal(upci_mmio_write(d, 0, 0x10 + 4 * i, 4, 0x1000 + i), 0);
	assert_int_equal(upci_mmio_read(d, 0, 0x10 + 4 * 9, 4, &v), 0);
	assert_int_equal(v, 0x1009); /* ordered behind the posted writes */
	assert_int_equal(f->posted[0], 10);
	assert_int_equal(f->waited[0], 0);
	assert_int_equal(upci_config_write(d, 0x40, 4, 0x12345678), 0);
	assert_int_equal(upci_config_read(d, 0x40, 4, &cv), 0);
	assert_int_equal(f->posted[1], 0);
	assert_int_equal(f->waited[1], 1);
	/* An in-band mapping: writes wait again, until it is gone. */
	assert_int_equal(upci_dma_map(d, 0x100000, mem, ps, UPCI_DMA_RW, &bus), 0);
	assert_int_equal(upci_mmio_write(d, 0, 0x10, 4, 7), 0);
	assert_int_equal(f->waited[0], 1);
	assert_int_equal(upci_dma_unmap(d, 0x100000), 0);
	assert_int_equal(upci_mmio_write(d, 0, 0x10, 4, 8), 0);
	assert_int_equal(upci_mmio_read(d, 0, 0x10, 4, &v), 0);
	assert_int_equal(v, 8);
	assert_int_equal(f->posted[0], 11);
	upci_close(d);
	fake_stop(f);

	setenv("UPCI_VFU_POSTED_WRITES", "yes", 1); /* not 0 or 1: warned, off */
	f = fake_start(8, 1 << 20);
	d = open_claimed(f);
	assert_int_equal(upci_mmio_write(d, 0, 0x10, 4, 1), 0);
	assert_int_equal(f->posted[0], 0);
	assert_int_equal(f->waited[0], 1);
	upci_close(d);
	fake_stop(f);
	unsetenv("UPCI_VFU_POSTED_WRITES");
	munmap(mem, ps);
}

/* A quiet machine for the polling rule (vu_poll.h: no polling while more
 * tasks are runnable than there are CPUs, which a busy test machine is). */
static int runnable_quiet(void)
{
	return 1;
}

/*
 * UPCI_VFU_POLL_US: replies are first polled for without sleeping. Against
 * the fake (a thread that answers at once) some of 400 calls are taken
 * while polling with a 1 ms window; with 0 none is, every wait sleeps.
 * A bad value is warned about and means the default.
 */
static void test_reply_polling(void **state)
{
	struct fake *f;
	upci_dev *d;
	uint64_t v;
	struct vu_poll *p;
	unsigned i;
	int64_t t0;

	(void)state;
	if (vu_poll_cpus() < 2)
		skip(); /* one CPU: the client never polls (test_vu_poll) */
	setenv("UPCI_VFU_POLL_US", "1000", 1);
	f = fake_start(8, 1 << 20);
	d = open_claimed(f);
	p = &vu_of(d)->c.poll;
	p->runnable = runnable_quiet;
	assert_int_equal(p->max_ns, 1000000);
	/* 200 rounds at least; more while none was polled (a busy machine
	 * may preempt the polls, which then back off for a while). */
	t0 = now_ms();
	for (i = 0; i < 200 || (p->hits == 0 && now_ms() - t0 < 5000); i++) {
		assert_int_equal(upci_mmio_read(d, 0, 0x10, 4, &v), 0);
		assert_int_equal(upci_mmio_write(d, 0, 0x10, 4, i + 1), 0);
	}
	assert_int_equal(upci_mmio_read(d, 0, 0x10, 4, &v), 0);
	assert_int_equal(v, i); /* polled replies land where slept ones do */
	assert_true(p->hits > 0);
	assert_true(p->hits + p->sleeps >= 2 * i + 1);
	upci_close(d);
	fake_stop(f);

	setenv("UPCI_VFU_POLL_US", "0", 1);
	f = fake_start(8, 1 << 20);
	d = open_claimed(f);
	p = &vu_of(d)->c.poll;
	for (i = 0; i < 50; i++)
		assert_int_equal(upci_mmio_read(d, 0, 0x10, 4, &v), 0);
	assert_int_equal(p->hits, 0);
	assert_true(p->sleeps >= 50);
	upci_close(d);
	fake_stop(f);

	setenv("UPCI_VFU_POLL_US", "fast", 1);
	f = fake_start(8, 1 << 20);
	d = open_claimed(f);
	assert_int_equal(vu_of(d)->c.poll.max_ns, VU_POLL_US_DEFAULT * 1000);
	upci_close(d);
	fake_stop(f);
	unsetenv("UPCI_VFU_POLL_US");
}

static void test_bar_map_sparse(void **state)
{
	struct fake *f = fake_start(8, 1 << 20);
	upci_dev *d = open_claimed(f);
	uint8_t *peer;
	void *addr = NULL;
	uint64_t len = 0;

	(void)state;
	assert_int_equal(upci_bar_map(d, 2, &addr, &len), 0);
	assert_int_equal(len, BAR2_SIZE);
	peer = mmap(NULL, BAR2_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, f->bar2_fd, 0);
	assert_true(peer != MAP_FAILED);
	/* Every area lands at its own offset. */
	for (unsigned i = 0; i < BAR2_AREAS; i++)
		peer[i * 4096 + 5] = (uint8_t)(i + 1);
	for (unsigned i = 0; i < BAR2_AREAS; i++)
		assert_int_equal(((uint8_t *)addr)[i * 4096 + 5], i + 1);
	((uint8_t *)addr)[100] = 0x42;
	assert_int_equal(peer[100], 0x42);
	munmap(peer, BAR2_SIZE);
	assert_int_equal(upci_bar_map(d, 4, &addr, &len), -ENOTSUP); /* the hole */
	assert_int_equal(upci_bar_map(d, 0, &addr, &len), -ENOTSUP); /* no fd at all */
	upci_close(d);
	fake_stop(f);
}

/*
 * Item: an error reply is the server's errno, as it is - a device's EINVAL
 * for a bad width too, which once read as a malformed reply (-EPROTO) -
 * whatever it carries (libvfio-user sends a payload with some; an fd is
 * closed). An errno that would mislead (0, none at all, or one that means
 * here that the connection is gone, or "try again") is -EIO, and the
 * connection stays up.
 */
static void test_error_errno(void **state)
{
	static const struct {
		int err;
		int want;
	} cases[] = {
		{EINVAL, -EINVAL}, {EACCES, -EACCES}, {ERANGE, -ERANGE}, {EFAULT, -EFAULT},
		{EINTR, -EIO},     {EAGAIN, -EIO},    {ETIMEDOUT, -EIO}, {ECONNRESET, -EIO},
		{ENODEV, -EIO},    {EPIPE, -EIO},     {0, -EIO},         {4096, -EIO},
		{0x7fffffff, -EIO}, {-1, -EIO},
	};
	struct fake *f = fake_start(8, 1 << 20);
	upci_dev *d = open_claimed(f);
	const uint64_t ps = (uint64_t)sysconf(_SC_PAGESIZE);
	uint8_t *mem = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t v, bus;
	uint32_t cv;

	(void)state;
	assert_true(mem != MAP_FAILED);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* header only, with the 20-byte payload libvfio-user sends, with an fd */
		for (unsigned how = 0; how < 3; how++) {
			set_err(f, VFU_CMD_REGION_READ, cases[i].err, how == 1 ? 20 : 0, how == 2);
			assert_int_equal(upci_mmio_read(d, 0, 0x10, 4, &v), cases[i].want);
		}
	}
	/* Every kind of call: a reply of known size without data, one with
	 * an echo, one read whole. */
	set_err(f, VFU_CMD_DEVICE_SET_IRQS, EINVAL, 20, false);
	assert_int_equal(upci_irq_enable(d, UPCI_IRQ_MSIX, 2), -EINVAL);
	set_err(f, VFU_CMD_REGION_WRITE, EINVAL, 20, false);
	assert_int_equal(upci_config_write(d, 0x40, 2, 1), -EINVAL);
	assert_int_equal(upci_dma_map(d, 0x100000, mem, ps, UPCI_DMA_RW, &bus), 0);
	/* (upci_dma_unmap drops a mapping whatever the server says: the
	 * backend's own answer is what tells.) */
	set_err(f, VFU_CMD_DMA_UNMAP, ENOENT, 24, false);
	assert_int_equal(vu_dma_unmap(d, 0x100000, ps, bus), -ENOENT);
	assert_int_equal(upci_dma_unmap(d, 0x100000), 0);
	set_err(f, VFU_CMD_DMA_MAP, EEXIST, 20, false);
	assert_int_equal(upci_dma_map(d, 0x100000, mem, ps, UPCI_DMA_RW, &bus), -EEXIST);
	assert_int_equal(f->unmaps, 1); /* a refused map is not undone */
	/* Still in sync, still up. */
	assert_int_equal(upci_config_read(d, 0, 4, &cv), 0);
	assert_int_equal(cv, 0x56781234);
	upci_close(d);
	fake_stop(f); /* teardown counts fds: the ones sent with errors are gone */
	munmap(mem, ps);
}

/* The error of a server refusing VERSION reaches upci_open as well. */
static void test_error_errno_open(void **state)
{
	upci_dev *d = NULL;

	(void)state;
	for (int i = 0; i < 2; i++) {
		struct fake *f = fake_start(8, 1 << 20);

		set_err(f, VFU_CMD_DEVICE_GET_INFO, i ? EINTR : EPERM, 20, false);
		assert_int_equal(upci_open(&d, uri_of(f)), i ? -EIO : -EPERM);
		assert_null(d);
		fake_stop(f);
	}
}

/*
 * Item: the spec's argsz rule. A reply that carries argsz may be longer
 * than its fixed part (and its caps), and say it needs more than was
 * asked; what is past the fixed part is not ours to read. Device info,
 * region info, IRQ info and DMA_UNMAP all come 40 bytes long here.
 */
static void test_argsz_longer_replies(void **state)
{
	struct fake *f = fake_start(8, 1 << 20);
	struct upci_identity id;
	struct upci_bar_info bi;
	struct upci_dma_buf b;
	upci_dev *d;

	(void)state;
	FAKE_SET(f, argsz_pad, 40);
	d = open_claimed(f);
	assert_int_equal(upci_identity(d, &id), 0);
	assert_int_equal(id.vendor_id, 0x1234);
	assert_int_equal(upci_bar_info(d, 2, &bi), 0);
	assert_int_equal(bi.flags, UPCI_BAR_PRESENT | UPCI_BAR_MEM64 | UPCI_BAR_PREFETCH | UPCI_BAR_MAPPABLE);
	assert_int_equal(upci_irq_count(d, UPCI_IRQ_MSIX), 256);
	assert_int_equal(upci_dma_alloc(d, UPCI_IOVA_ANY, 8192, &b), 0);
	/* (upci_dma_free drops it whatever the server says: ask the backend.) */
	assert_int_equal(vu_dma_unmap(d, b.iova, b.size, b.bus_addr), 0);
	assert_int_equal(f->unmaps, 1);
	assert_int_equal(upci_dma_free(d, &b), 0);
	upci_close(d);
	fake_stop(f);
}

/*
 * Item: one deadline per call. A server trickling its reply a byte every
 * 50 ms (a 40-byte reply: 2 s) cannot hold a call past its 300 ms; nor can
 * one that keeps the call busy with DMA requests for 3 s. The call fails
 * with -ETIMEDOUT at the deadline, and the connection is closed.
 */
static void test_deadline_per_call(void **state)
{
	static const enum bad how[] = {BAD_TRICKLE, BAD_FLOOD};

	(void)state;
	setenv("UPCI_VFU_TIMEOUT_MS", "300", 1);
	for (unsigned i = 0; i < 2; i++) {
		struct fake *f = fake_start(8, 1 << 20);
		upci_dev *d = open_claimed(f);
		uint64_t v;
		int64_t t0, dt;

		set_bad(f, how[i], VFU_CMD_REGION_READ, 0);
		t0 = now_ms();
		assert_int_equal(upci_mmio_read(d, 0, 0x10, 8, &v), -ETIMEDOUT);
		dt = now_ms() - t0;
		assert_true(dt >= 290);
		assert_true(dt < 1500);
		assert_int_equal(upci_mmio_read(d, 0, 0x10, 8, &v), -ENODEV);
		pthread_mutex_lock(&f->lock);
		if (how[i] == BAD_FLOOD)
			assert_true(f->flood > 0); /* answered while the call lasted */
		pthread_mutex_unlock(&f->lock);
		upci_close(d);
		fake_stop(f);
	}
	unsetenv("UPCI_VFU_TIMEOUT_MS");
}

/* UPCI_VFU_TIMEOUT_MS: milliseconds; anything else is warned about and
 * means the default, 5 s. */
static void test_timeout_setting(void **state)
{
	static const struct {
		const char *env;
		int want;
	} cases[] = {{NULL, 5000}, {"250", 250}, {"0", 5000}, {"-3", 5000}, {"5s", 5000}, {"", 5000}};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake *f = fake_start(8, 1 << 20);
		upci_dev *d;

		if (cases[i].env)
			setenv("UPCI_VFU_TIMEOUT_MS", cases[i].env, 1);
		else
			unsetenv("UPCI_VFU_TIMEOUT_MS");
		d = open_claimed(f);
		assert_int_equal(vu_of(d)->c.timeout_ms, cases[i].want);
		upci_close(d);
		fake_stop(f);
	}
	unsetenv("UPCI_VFU_TIMEOUT_MS");
}

/* The fake does f->dma by itself, while the client makes no call; the
 * result, or -ETIMEDOUT when nobody answered within 3 s. */
static int idle_dma(struct fake *f, uint16_t cmd, uint64_t addr, uint64_t count)
{
	struct timespec ts;
	int rc = 0;

	pthread_mutex_lock(&f->lock);
	f->dma.cmd = cmd;
	f->dma.addr = addr;
	f->dma.count = count;
	f->dma.result = 1;
	f->unprompted = true;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 3;
	while (f->unprompted && rc == 0)
		rc = pthread_cond_timedwait(&f->done, &f->lock, &ts);
	rc = f->unprompted ? -ETIMEDOUT : f->dma.result;
	pthread_mutex_unlock(&f->lock);
	return rc;
}

/*
 * Item: DMA the server starts while the client is idle (a device's own
 * timer) is answered at once, by the service thread, from the mappings:
 * no call needs to come first. (The fake's request waits 2 s at most.)
 */
static void test_idle_dma(void **state)
{
	struct fake *f = fake_start(8, 1 << 20);
	upci_dev *d = open_claimed(f);
	const uint64_t iova = 0x100000, ps = (uint64_t)sysconf(_SC_PAGESIZE);
	uint8_t *mem = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t bus, v;

	(void)state;
	assert_true(mem != MAP_FAILED);
	assert_int_equal(upci_dma_map(d, iova, mem, ps, UPCI_DMA_RW, &bus), 0);
	memset(f->dma.data, 0x3c, 128);
	assert_int_equal(idle_dma(f, VFU_CMD_DMA_WRITE, iova + 64, 128), 0);
	assert_int_equal(mem[63], 0);
	assert_int_equal(mem[64], 0x3c);
	assert_int_equal(mem[191], 0x3c);
	assert_int_equal(mem[192], 0);
	mem[300] = 0x77;
	assert_int_equal(idle_dma(f, VFU_CMD_DMA_READ, iova + 300, 4), 0);
	assert_int_equal(f->dma.data[0], 0x77);
	/* Outside the mapping: refused, at once as well. */
	assert_int_equal(idle_dma(f, VFU_CMD_DMA_READ, iova + ps, 4), -EFAULT);
	/* Calls go on as before. */
	assert_int_equal(upci_mmio_read(d, 0, 0x10, 4, &v), 0);
	assert_int_equal(upci_dma_unmap(d, iova), 0);
	assert_int_equal(idle_dma(f, VFU_CMD_DMA_READ, iova, 4), -EFAULT);
	upci_close(d);
	fake_stop(f);
	munmap(mem, ps);
}

/*
 * The service thread and the calls share the socket: a device that DMAs
 * right after every third reply, to a client whose calls come back to
 * back, in bursts and with pauses. Each request is answered once - by the
 * next call, or by the thread in a pause - and every call gets its own
 * reply.
 */
static void test_idle_dma_busy(void **state)
{
	struct fake *f = fake_start(8, 1 << 20);
	upci_dev *d = open_claimed(f);
	const uint64_t iova = 0x100000, ps = (uint64_t)sysconf(_SC_PAGESIZE);
	uint8_t *mem = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t bus, v;
	unsigned sent, ok, queued;

	(void)state;
	assert_true(mem != MAP_FAILED);
	memset(mem, 0x5a, ps);
	assert_int_equal(upci_dma_map(d, iova, mem, ps, UPCI_DMA_RW, &bus), 0);
	pthread_mutex_lock(&f->lock);
	f->dma.cmd = VFU_CMD_DMA_READ;
	f->dma.addr = iova + 8;
	f->dma.count = 64;
	f->dma_every = 3;
	pthread_mutex_unlock(&f->lock);
	for (unsigned i = 0; i < 300; i++) {
		assert_int_equal(upci_mmio_write(d, 0, 0x20, 4, i), 0);
		assert_int_equal(upci_mmio_read(d, 0, 0x20, 4, &v), 0);
		assert_int_equal(v, i);
		if (i % 50 == 49)
			usleep(30000); /* a pause: the thread's turn */
	}
	usleep(100000); /* the last request is the thread's */
	pthread_mutex_lock(&f->lock);
	f->dma_every = 0;
	sent = f->dma_sent;
	ok = f->dma_ok;
	queued = f->nqueue;
	pthread_mutex_unlock(&f->lock);
	/* 600 calls; the one after a request is often queued behind it, and
	 * then does not count towards the next: one request per 3-4 calls. */
	assert_true(sent >= 140);
	assert_int_equal(ok, sent);
	assert_int_equal(queued, 0);
	for (unsigned i = 0; i < 64; i++)
		assert_int_equal(f->dma.data[i], 0x5a);
	upci_close(d);
	fake_stop(f);
	munmap(mem, ps);
}

/*
 * Item: a server's BAR fd cannot kill the client. BAR2 (64 KiB of areas)
 * offered with an fd that cannot hold them - a 4 KiB memfd (an access past
 * its end would be SIGBUS), a pipe - is not mappable, and its accesses go
 * through the server instead. A read-only fd, or one sealed against
 * writes, maps read-only. A file that shrinks after open is refused at
 * map time.
 */
static void test_bar_fd_checks(void **state)
{
	enum { SMALL, PIPE, RDONLY, SEALED, SHRUNK, NKINDS };
	const uint32_t mem64 = UPCI_BAR_PRESENT | UPCI_BAR_MEM64 | UPCI_BAR_PREFETCH;

	(void)state;
	for (int kind = 0; kind < NKINDS; kind++) {
		struct fake *f = fake_start(8, 1 << 20);
		struct upci_bar_info bi;
		uint32_t magic = 0xc0ffee00u + (uint32_t)kind;
		void *addr = NULL;
		uint64_t len = 0, v = 0;
		int offer = -1, p[2];
		char path[64];
		upci_dev *d;

		switch (kind) {
		case SMALL:
			offer = ram_fd(4096);
			break;
		case PIPE:
			assert_int_equal(pipe2(p, O_CLOEXEC), 0);
			close(p[1]);
			offer = p[0];
			break;
		case RDONLY:
			snprintf(path, sizeof(path), "/proc/self/fd/%d", f->bar2_fd);
			offer = open(path, O_RDONLY | O_CLOEXEC);
			break;
		case SEALED:
			offer = memfd_create("sealed-bar", MFD_CLOEXEC | MFD_ALLOW_SEALING);
			assert_true(offer >= 0);
			assert_int_equal(ftruncate(offer, BAR2_SIZE), 0);
			assert_int_equal(pwrite(offer, &magic, 4, 0x2000), 4);
			assert_int_equal(fcntl(offer, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK), 0);
			break;
		default:
			break;
		}
		assert_true(kind == SHRUNK || offer >= 0);
		FAKE_SET(f, bar2_offer, offer);
		assert_int_equal(pwrite(f->bar2_fd, &magic, 4, 0x2000), 4);
		d = open_claimed(f);
		assert_int_equal(upci_bar_info(d, 2, &bi), 0);
		if (kind == SMALL || kind == PIPE) {
			assert_int_equal(bi.flags, mem64);
			assert_int_equal(upci_bar_map(d, 2, &addr, &len), -ENOTSUP);
		} else if (kind == RDONLY || kind == SEALED) {
			assert_int_equal(bi.flags, mem64 | UPCI_BAR_MAPPABLE | UPCI_BAR_MAP_RDONLY);
			assert_int_equal(upci_bar_map(d, 2, &addr, &len), 0);
			assert_int_equal(*(volatile uint32_t *)((uint8_t *)addr + 0x2000), magic);
			assert_int_equal(upci_bar_unmap(d, 2), 0);
		} else {
			assert_int_equal(bi.flags, mem64 | UPCI_BAR_MAPPABLE);
			assert_int_equal(ftruncate(f->bar2_fd, 4096), 0); /* the server shrinks it */
			assert_int_equal(upci_bar_map(d, 2, &addr, &len), -ENOTSUP);
		}
		/* Trapped access works whatever the fd. */
		assert_int_equal(upci_mmio_read(d, 2, 0x2000, 4, &v), 0);
		assert_int_equal(v, kind == SHRUNK ? 0 : magic);
		upci_close(d);
		fake_stop(f);
	}
}

/*
 * The spec's twin socket: proposed by the client, and taken where the
 * server offers one. The server's requests then come on it: answered by
 * the service thread at once, also while a call waits on the main socket
 * (the doorbell), so a request never crosses a command. A server that
 * says it set one up but passes none, or passes something else, is
 * inconsistent: the spec says the client must close the connection.
 */
static void test_twin_socket(void **state)
{
	struct fake *f = fake_start(8, 1 << 20);
	const uint64_t iova = 0x100000, ps = (uint64_t)sysconf(_SC_PAGESIZE);
	uint8_t *mem = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t bus, v;
	unsigned sent, ok, queued;
	upci_dev *d;

	(void)state;
	assert_true(mem != MAP_FAILED);
	FAKE_SET(f, offer_twin, true);
	d = open_claimed(f);
	assert_true(f->client_caps.twin_socket);
	assert_non_null(f->t2);
	assert_int_equal(upci_dma_map(d, iova, mem, ps, UPCI_DMA_RW, &bus), 0);
	for (unsigned i = 0; i < 64; i++)
		mem[100 + i] = (uint8_t)(i + 1);
	assert_int_equal(doorbell_dma(f, d, VFU_CMD_DMA_READ, iova + 100, 64), 0);
	assert_memory_equal(f->dma.data, mem + 100, 64);
	memset(f->dma.data, 0x6b, 32);
	assert_int_equal(idle_dma(f, VFU_CMD_DMA_WRITE, iova + 8, 32), 0);
	/* As a driver reads a status register before the data: a call (and
	 * the order a call makes, for ThreadSanitizer). */
	assert_int_equal(upci_mmio_read(d, 0, 0x10, 4, &v), 0);
	assert_int_equal(mem[8], 0x6b);
	assert_int_equal(mem[39], 0x6b);
	assert_int_equal(doorbell_dma(f, d, VFU_CMD_DMA_READ, iova + ps - 4, 8), -EFAULT);
	/* A request after every other reply, to calls back to back: none
	 * crosses a command, each is answered. */
	pthread_mutex_lock(&f->lock);
	f->dma.cmd = VFU_CMD_DMA_READ;
	f->dma.addr = iova;
	f->dma.count = 16;
	f->dma_every = 2;
	f->dma_sent = f->dma_ok = 0;
	pthread_mutex_unlock(&f->lock);
	for (unsigned i = 0; i < 200; i++)
		assert_int_equal(upci_mmio_read(d, 0, 0x10, 4, &v), 0);
	pthread_mutex_lock(&f->lock);
	f->dma_every = 0;
	sent = f->dma_sent;
	ok = f->dma_ok;
	queued = f->nqueue;
	pthread_mutex_unlock(&f->lock);
	assert_int_equal(sent, 100);
	assert_int_equal(ok, sent);
	assert_int_equal(queued, 0);
	upci_close(d);
	fake_stop(f);
	munmap(mem, ps);

	for (int bad = TWIN_NO_FD; bad <= TWIN_BAD_INDEX; bad++) {
		f = fake_start(8, 1 << 20);
		FAKE_SET(f, offer_twin, true);
		FAKE_SET(f, twin_bad, bad);
		d = NULL;
		assert_int_equal(upci_open(&d, uri_of(f)), -EPROTO);
		assert_null(d);
		fake_stop(f);
	}
}

/*
 * A server that hangs up while the client is idle: the service thread
 * sees it; the next call says why (as it would have found out itself),
 * every later one -ENODEV.
 */
static void test_server_vanishes_idle(void **state)
{
	struct fake *f = fake_start(8, 1 << 20);
	upci_dev *d = open_claimed(f);
	uint64_t v;

	(void)state;
	FAKE_SET(f, quiet_vanish, true);
	fake_join(f);  /* the fake is gone */
	usleep(50000); /* the thread's turn */
	assert_int_equal(upci_mmio_read(d, 0, 0x10, 4, &v), -ECONNRESET);
	assert_int_equal(upci_mmio_read(d, 0, 0x10, 4, &v), -ENODEV);
	upci_close(d);
	fake_stop(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_server, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy_server, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_irqs_chunked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_irqs_one_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_eventfd_server_signals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_eventfd_races, setup, teardown),
		cmocka_unit_test_setup_teardown(test_block_read_chunked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_mmio_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_msg_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_and_bad_echo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_glued_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unasked_fd_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_vanishes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_stalls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_inband, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_remote, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_alloc_shares_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_bus_addr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_posted_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_polling, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_map_sparse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_bus_master_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_errno, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_errno_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_argsz_longer_replies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deadline_per_call, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_setting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_dma, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_dma_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_fd_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_twin_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_vanishes_idle, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

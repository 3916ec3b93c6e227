/* SPDX-License-Identifier: MIT */
/*
 * The vfio-user client backend ("vfio-user:PATH") against a scripted fake
 * server: a thread on a real socket that answers with replies built from
 * the spec's tables and records what the client sent. It can misbehave on
 * the next command of a kind (wrong msg id, short payload, error reply,
 * an fd nobody asked for, vanish, stall) and can issue DMA_READ/DMA_WRITE
 * of its own while a REGION_WRITE to its "doorbell" is pending.
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
};

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
	pthread_mutex_t lock;
	struct vfu_tran *t;
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
	int bad_errno;
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
		fd = q.index == 2 ? f->bar2_fd : f->bar4_fd;
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
	return reply(f, m, 0, out, ri.argsz, fd);
}

static int on_irq_info(struct fake *f, struct vfu_msg *m)
{
	struct vfu_irq_info q;
	static const unsigned counts[VFU_PCI_NUM_IRQS] = {1, 1, 256, 0, 0};

	memcpy(&q, m->payload, sizeof(q));
	q.count = q.index < VFU_PCI_NUM_IRQS ? counts[q.index] : 0;
	q.flags = VFU_IRQ_INFO_F_EVENTFD;
	return reply(f, m, 0, &q, sizeof(q), -1);
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

/* The doorbell: ask the client for memory, wait for its answer. */
static void do_dma(struct fake *f)
{
	struct vfu_dma_access a = {.addr = f->dma.addr, .count = f->dma.count};
	struct iovec iov[2] = {{&a, sizeof(a)}, {f->dma.data, 0}};
	struct vfu_hdr h;
	struct vfu_msg r;

	vfu_hdr_request(&h, 0x4242, f->dma.cmd, 0);
	if (f->dma.cmd == VFU_CMD_DMA_WRITE)
		iov[1].iov_len = (size_t)f->dma.count;
	f->dma.result = -EIO;
	if (vfu_tran_send(f->t, &h, iov, 2, NULL, 0) != 0 || vfu_tran_recv(f->t, &r, 2000) != 0) {
		FAKE_OK(f, 0);
		return;
	}
	f->dma.result = vfu_msg_check_reply(&r.hdr, &h, r.payload, r.len);
	if (f->dma.result == 0 && f->dma.cmd == VFU_CMD_DMA_READ)
		memcpy(f->dma.data, r.payload + sizeof(a), (size_t)f->dma.count);
	vfu_msg_release(&r);
}

static int on_region_rw(struct fake *f, struct vfu_msg *m)
{
	struct vfu_region_access a;
	uint8_t out[sizeof(a) + 4096];
	uint8_t *mem;

	memcpy(&a, m->payload, sizeof(a));
	if (a.count > f->max_xfer)
		f->over_xfer = 1;
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
	return reply(f, m, 0, m->payload, m->len, -1); /* echo the entry */
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
		FAKE_OK(f, reply(f, m, -f->bad_errno, NULL, 0, -1) == 0);
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
			.argsz = sizeof(i), .flags = VFU_DEVICE_F_PCI | VFU_DEVICE_F_RESET, .num_regions = 9,
			.num_irqs = 5,
		};

		return reply(f, m, 0, &i, sizeof(i), -1);
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

static void *fake_main(void *arg)
{
	struct fake *f = arg;
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
		int rc = vfu_tran_recv(f->t, &m, 10000);

		if (rc)
			break; /* the client left (or the test is over) */
		pthread_mutex_lock(&f->lock);
		rc = handle(f, &m);
		pthread_mutex_unlock(&f->lock);
		vfu_msg_release(&m);
		if (rc)
			break;
	}
	pthread_mutex_lock(&f->lock);
	vfu_tran_close(f->t);
	f->t = NULL;
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

static void fake_stop(struct fake *f)
{
	pthread_join(f->th, NULL);
	assert_int_equal(f->broken, 0);
	close(f->lfd);
	close(f->bar2_fd);
	close(f->bar4_fd);
	if (f->map_fd >= 0)
		close(f->map_fd);
	for (unsigned i = 0; i < 256; i++)
		if (f->irq_fd[i] >= 0)
			close(f->irq_fd[i]);
	unlink(f->path);
	rmdir(f->dir);
	pthread_mutex_destroy(&f->lock);
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

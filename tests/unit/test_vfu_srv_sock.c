/* SPDX-License-Identifier: MIT */
/*
 * vfio-user server over real sockets, the server in a thread:
 *   - in-band DMA: memory mapped without an fd is reached by DMA_READ and
 *     DMA_WRITE requests that the test answers, chunked by the client's
 *     max_data_xfer_size; commands pipelined during the wait are processed
 *     after the command that started the DMA; a client that never answers
 *     costs the device a fault after the timeout, not a hang;
 *   - 1,000 connect / map / disconnect cycles on a listening socket leave
 *     the fd count and the /proc/self/maps line count where they were.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "caps_json.h"
#include "device.h"
#include "pci_regs.h"
#include "test_vfu_srv_util.h"
#include "testdev_regs.h"

#define TESTDEV "sim:testdev?vectors=8"
#define CFG VFU_PCI_CONFIG_REGION_INDEX
#define MEM_IOVA 0x100000ull
#define MEM_SIZE 0x10000ull

/* ---- a server thread ---- */

struct srv_thread {
	upci_dev *dev;
	struct vfu_server *s;
	struct vfu_tran *t; /* serve mode: the connected transport */
	int listen_fd;      /* run mode: -1 in serve mode */
	int stop[2];
	pthread_t th;
	int ret;
};

static void *srv_main(void *arg)
{
	struct srv_thread *st = arg;

	if (st->listen_fd >= 0)
		st->ret = vfu_server_run(st->s, st->listen_fd, st->stop[0]);
	else
		st->ret = vfu_server_serve(st->s, st->t, st->stop[0]);
	return NULL;
}

static void srv_start_uri(struct srv_thread *st, const char *uri, const struct vfu_server_opts *o, int fd,
			  int listen_fd)
{
	memset(st, 0, sizeof(*st));
	assert_int_equal(upci_open(&st->dev, uri), 0);
	assert_int_equal(vfu_server_new(st->dev, o, &st->s), 0);
	assert_int_equal(pipe(st->stop), 0);
	st->listen_fd = listen_fd;
	if (fd >= 0)
		assert_int_equal(vfu_tran_sock_new(fd, &st->t), 0);
	assert_int_equal(pthread_create(&st->th, NULL, srv_main, st), 0);
}

static void srv_start(struct srv_thread *st, const struct vfu_server_opts *o, int fd, int listen_fd)
{
	srv_start_uri(st, TESTDEV, o, fd, listen_fd);
}

/* After the server thread ended: free what srv_start made. */
static int srv_free(struct srv_thread *st)
{
	vfu_tran_close(st->t);
	close(st->stop[0]);
	close(st->stop[1]);
	vfu_server_free(st->s);
	upci_close(st->dev);
	return st->ret;
}

static int srv_stop(struct srv_thread *st)
{
	assert_int_equal(write(st->stop[1], "x", 1), 1);
	assert_int_equal(pthread_join(st->th, NULL), 0);
	return srv_free(st);
}

/* ---- a client that answers DMA requests from its own buffer ---- */

struct client {
	struct vfu_tran *t;
	uint16_t id;
	uint8_t mem[MEM_SIZE];
	unsigned dma_reads, dma_writes;
	uint64_t max_chunk;
	bool answer_dma;
	int timeout_ms;      /* for each message awaited */
	struct vfu_msg held; /* an unanswered DMA request */
};

static void cl_connect(struct client *c, int fd)
{
	memset(c, 0, sizeof(*c));
	assert_int_equal(vfu_tran_sock_new(fd, &c->t), 0);
	assert_int_equal(vfu_tran_set_limits(c->t, VFU_TRAN_MAX_MSG_SIZE_LIMIT, VFU_MSG_MAX_FDS, 8), 0);
	c->answer_dma = true;
	c->timeout_ms = 10000;
	vfu_msg_init(&c->held);
}

static void cl_send(struct client *c, uint16_t id, uint16_t cmd, const void *p, size_t len, const int *fds,
		    size_t nfds)
{
	struct vfu_hdr h;

	vfu_hdr_request(&h, id, cmd, 0);
	assert_int_equal(vfu_tran_send_buf(c->t, &h, p, len, fds, nfds), 0);
}

/* Answer a DMA_READ/DMA_WRITE from the server out of c->mem. */
static void cl_serve_dma(struct client *c, struct vfu_msg *m)
{
	struct vfu_dma_access a;
	uint64_t off;

	assert_true(m->len >= sizeof(a));
	memcpy(&a, m->payload, sizeof(a));
	assert_true(a.addr >= MEM_IOVA && a.count <= MEM_SIZE && a.addr - MEM_IOVA <= MEM_SIZE - a.count);
	off = a.addr - MEM_IOVA;
	if (a.count > c->max_chunk)
		c->max_chunk = a.count;
	if (m->hdr.cmd == VFU_CMD_DMA_READ) {
		struct iovec iov[2] = {{&a, sizeof(a)}, {c->mem + off, a.count}};
		struct vfu_hdr rep;

		assert_int_equal(m->len, sizeof(a));
		c->dma_reads++;
		vfu_hdr_reply(&rep, &m->hdr, 0);
		assert_int_equal(vfu_tran_send(c->t, &rep, iov, 2, NULL, 0), 0);
	} else {
		assert_int_equal(m->hdr.cmd, VFU_CMD_DMA_WRITE);
		assert_int_equal(m->len, sizeof(a) + a.count);
		c->dma_writes++;
		memcpy(c->mem + off, m->payload + sizeof(a), a.count);
		assert_int_equal(vfu_tran_reply(c->t, &m->hdr, 0, &a, sizeof(a), NULL, 0), 0);
	}
}

/* Receive until the reply to @id arrives; DMA requests are answered (or
 * the first one held when !answer_dma). */
static int cl_wait(struct client *c, uint16_t id, uint16_t cmd, struct vfu_msg *rep)
{
	for (;;) {
		struct vfu_msg m;

		assert_int_equal(vfu_tran_recv(c->t, &m, c->timeout_ms), 0);
		if ((m.hdr.flags & VFU_HDR_F_TYPE_MASK) == VFU_HDR_F_TYPE_COMMAND) {
			if (c->answer_dma)
				cl_serve_dma(c, &m);
			else if (c->held.hdr.msg_size == 0) {
				c->held = m;
				continue;
			}
			vfu_msg_release(&m);
			continue;
		}
		assert_int_equal(m.hdr.msg_id, id);
		assert_int_equal(m.hdr.cmd, cmd);
		if (m.hdr.flags & VFU_HDR_F_ERROR) {
			int e = -(int)m.hdr.error;

			vfu_msg_release(&m);
			return e;
		}
		if (rep)
			*rep = m;
		else
			vfu_msg_release(&m);
		return 0;
	}
}

static int cl_call(struct client *c, uint16_t cmd, const void *p, size_t len, const int *fds, size_t nfds,
		   struct vfu_msg *rep)
{
	uint16_t id = c->id++;

	cl_send(c, id, cmd, p, len, fds, nfds);
	return cl_wait(c, id, cmd, rep);
}

static void cl_version(struct client *c, const char *json)
{
	uint8_t p[256];
	struct vfu_version v = {0, 0};
	size_t jl = strlen(json) + 1;

	memcpy(p, &v, sizeof(v));
	memcpy(p + sizeof(v), json, jl);
	assert_int_equal(cl_call(c, VFU_CMD_VERSION, p, sizeof(v) + jl, NULL, 0, NULL), 0);
}

static int cl_write(struct client *c, uint32_t region, uint64_t off, const void *buf, uint32_t n)
{
	struct vfu_region_access a = {.offset = off, .region = region, .count = n};
	uint8_t p[sizeof(a) + 8];

	assert_true(n <= 8);
	memcpy(p, &a, sizeof(a));
	memcpy(p + sizeof(a), buf, n);
	return cl_call(c, VFU_CMD_REGION_WRITE, p, sizeof(a) + n, NULL, 0, NULL);
}

static uint32_t cl_rd32(struct client *c, uint32_t region, uint64_t off)
{
	struct vfu_region_access a = {.offset = off, .region = region, .count = 4};
	struct vfu_msg rep;
	uint32_t v;

	assert_int_equal(cl_call(c, VFU_CMD_REGION_READ, &a, sizeof(a), NULL, 0, &rep), 0);
	assert_int_equal(rep.len, sizeof(a) + 4);
	memcpy(&v, rep.payload + sizeof(a), 4);
	vfu_msg_release(&rep);
	return v;
}

static void cl_wr32(struct client *c, uint32_t region, uint64_t off, uint32_t v)
{
	assert_int_equal(cl_write(c, region, off, &v, 4), 0);
}

static void cl_map_remote(struct client *c)
{
	struct vfu_dma_map m = {.argsz = sizeof(m), .flags = VFU_DMA_MAP_F_READ | VFU_DMA_MAP_F_WRITE,
				.addr = MEM_IOVA, .size = MEM_SIZE};

	assert_int_equal(cl_call(c, VFU_CMD_DMA_MAP, &m, sizeof(m), NULL, 0, NULL), 0);
}

/* Two descriptors at MEM_IOVA: client memory -> BAR2, BAR2 -> client. */
static void put_descs(struct client *c, uint32_t len)
{
	struct testdev_desc d[2] = {
		{.src = MEM_IOVA + 0x1000, .dst = 0, .len = len, .flags = TESTDEV_DESC_F_DST_BAR2},
		{.src = 0, .dst = MEM_IOVA + 0x8000, .len = len, .flags = TESTDEV_DESC_F_SRC_BAR2},
	};

	memcpy(c->mem, d, sizeof(d));
	for (uint32_t i = 0; i < len; i++)
		c->mem[0x1000 + i] = (uint8_t)(i * 7 + 1);
}

static void start_dma(struct client *c, uint16_t id)
{
	struct vfu_region_access a = {.offset = TESTDEV_REG_CTRL, .region = 0, .count = 4};
	uint32_t v = TESTDEV_CTRL_START;
	uint8_t p[sizeof(a) + 4];

	cl_wr32(c, 0, TESTDEV_REG_DESC_ADDR, (uint32_t)MEM_IOVA);
	cl_wr32(c, 0, TESTDEV_REG_DESC_ADDR_HI, 0);
	cl_wr32(c, 0, TESTDEV_REG_DESC_COUNT, 2);
	memcpy(p, &a, sizeof(a));
	memcpy(p + sizeof(a), &v, 4);
	cl_send(c, id, VFU_CMD_REGION_WRITE, p, sizeof(p), NULL, 0);
}

static void enable_master(struct client *c)
{
	uint16_t w = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;

	assert_int_equal(cl_write(c, CFG, PCI_COMMAND, &w, 2), 0);
}

static void test_inband_dma(void **state)
{
	struct srv_thread st;
	struct client *c = calloc(1, sizeof(*c));
	int sv[2], before = count_fds();
	const uint32_t len = 10000;
	struct vfu_msg m;
	struct vfu_region_access a = {.offset = TESTDEV_REG_SCRATCH, .region = 0, .count = 4};

	(void)state;
	assert_non_null(c);
	assert_int_equal(vfu_sock_pair(sv), 0);
	srv_start(&st, NULL, sv[0], -1);
	cl_connect(c, sv[1]);
	/* small transfers, so the 10000-byte copies come in chunks */
	cl_version(c, "{\"capabilities\":{\"max_data_xfer_size\":4096}}");
	cl_map_remote(c);
	enable_master(c);
	cl_wr32(c, 0, TESTDEV_REG_SCRATCH, 0x5c5c);
	put_descs(c, len);

	/* START, and a REGION_READ pipelined behind it before any DMA
	 * request is answered: it must be answered after START's reply. */
	start_dma(c, 100);
	cl_send(c, 101, VFU_CMD_REGION_READ, &a, sizeof(a), NULL, 0);
	assert_int_equal(cl_wait(c, 100, VFU_CMD_REGION_WRITE, NULL), 0);
	assert_int_equal(cl_wait(c, 101, VFU_CMD_REGION_READ, &m), 0);
	{
		uint32_t v;

		memcpy(&v, m.payload + sizeof(a), 4);
		assert_int_equal(v, 0x5c5c);
	}
	vfu_msg_release(&m);

	assert_int_equal(cl_rd32(c, 0, TESTDEV_REG_STATUS), TESTDEV_STATUS_DONE);
	assert_int_equal(cl_rd32(c, 0, TESTDEV_REG_DONE_COUNT), 2);
	assert_memory_equal(c->mem + 0x8000, c->mem + 0x1000, len);
	{
		struct testdev_desc d[2];

		memcpy(d, c->mem, sizeof(d));
		assert_int_equal(d[0].status, TESTDEV_DESC_ST_DONE);
		assert_int_equal(d[1].status, TESTDEV_DESC_ST_DONE);
	}
	assert_true(c->max_chunk <= 4096);
	assert_true(c->dma_reads >= 2 + len / 4096 + 1);   /* descriptors + chunked source */
	assert_true(c->dma_writes >= 2 + len / 4096 + 1);  /* chunked destination + statuses */

	vfu_tran_close(c->t);
	assert_int_equal(srv_stop(&st), 0);
	assert_int_equal(count_fds(), before);
	free(c);
}

/* A client that does not answer: the device faults after the timeout, the
 * late answer is ignored, the session goes on. Then one that hangs up in
 * the middle of the wait. */
static void test_inband_dma_timeout(void **state)
{
	struct srv_thread st;
	struct vfu_server_opts o;
	struct client *c = calloc(1, sizeof(*c));
	int sv[2], before = count_fds();

	(void)state;
	assert_non_null(c);
	vfu_server_opts_default(&o);
	o.dma_timeout_ms = 200;
	assert_int_equal(vfu_sock_pair(sv), 0);
	srv_start(&st, &o, sv[0], -1);
	cl_connect(c, sv[1]);
	cl_version(c, "{}");
	cl_map_remote(c);
	enable_master(c);
	put_descs(c, 64);
	c->answer_dma = false;
	start_dma(c, 200);
	assert_int_equal(cl_wait(c, 200, VFU_CMD_REGION_WRITE, NULL), 0);
	assert_int_not_equal(c->held.hdr.msg_size, 0);
	c->answer_dma = true;
	assert_int_equal(cl_rd32(c, 0, TESTDEV_REG_STATUS), TESTDEV_STATUS_DONE | TESTDEV_STATUS_ERROR);
	assert_int_equal(cl_rd32(c, 0, TESTDEV_REG_LAST_FAULT), TESTDEV_FAULT_DESC_ADDR);
	/* the late answer */
	cl_serve_dma(c, &c->held);
	vfu_msg_release(&c->held);
	cl_wr32(c, 0, TESTDEV_REG_SCRATCH, 7);
	assert_int_equal(cl_rd32(c, 0, TESTDEV_REG_SCRATCH), 7);

	/* now hang up while the server waits */
	c->answer_dma = false;
	start_dma(c, 300);
	{
		struct vfu_msg m;

		assert_int_equal(vfu_tran_recv(c->t, &m, 5000), 0);
		assert_int_equal(m.hdr.cmd, VFU_CMD_DMA_READ);
		vfu_msg_release(&m);
	}
	vfu_tran_close(c->t);
	/* the server notices and ends the session by itself */
	assert_int_equal(pthread_join(st.th, NULL), 0);
	srv_free(&st);
	assert_int_equal(count_fds(), before);
	free(c);
}

/* ---- connect / map / disconnect, 1,000 times ---- */

#define CYCLES 1000

static void one_cycle(const char *path, int mem, int ev)
{
	struct client *c = calloc(1, sizeof(*c));
	struct vfu_dma_map m = {.argsz = sizeof(m), .flags = VFU_DMA_MAP_F_READ | VFU_DMA_MAP_F_WRITE,
				.addr = MEM_IOVA, .size = MEM_SIZE};
	struct vfu_irq_set s = {.argsz = sizeof(s), .flags = VFU_IRQ_SET_DATA_EVENTFD | VFU_IRQ_SET_ACTION_TRIGGER,
				.index = VFU_PCI_MSIX_IRQ_INDEX, .start = 0, .count = 1};
	int fd;

	assert_non_null(c);
	assert_int_equal(vfu_sock_connect(path, &fd), 0);
	cl_connect(c, fd);
	cl_version(c, "{\"capabilities\":{\"max_msg_fds\":4}}");
	if (mem >= 0) {
		assert_int_equal(cl_call(c, VFU_CMD_DMA_MAP, &m, sizeof(m), &mem, 1, NULL), 0);
		m.addr += MEM_SIZE;
		assert_int_equal(cl_call(c, VFU_CMD_DMA_MAP, &m, sizeof(m), NULL, 0, NULL), 0);
		assert_int_equal(cl_call(c, VFU_CMD_DEVICE_SET_IRQS, &s, sizeof(s), &ev, 1, NULL), 0);
	}
	vfu_tran_close(c->t);
	free(c);
}

static void test_connect_cycles(void **state)
{
	struct srv_thread st;
	char dir[] = "/tmp/upci-srv-XXXXXX", path[64];
	int lfd, mem = test_memfd(MEM_SIZE), ev = test_eventfd();
	int fds0, maps0, fds1, maps1;
	struct client *probe = calloc(1, sizeof(*probe));

	(void)state;
	assert_non_null(probe);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s", dir);
	assert_int_equal(vfu_sock_listen(path, 4, &lfd), 0);
	srv_start(&st, NULL, -1, lfd);
	/* warm up lazy allocations */
	for (int i = 0; i < 10; i++)
		one_cycle(path, mem, ev);
	/* Measure with a probe client connected: the server serves one
	 * client at a time, so the previous one is fully cleaned up. */
	{
		int fd;

		assert_int_equal(vfu_sock_connect(path, &fd), 0);
		cl_connect(probe, fd);
		cl_version(probe, "{}");
		fds0 = count_fds();
		maps0 = count_memfd_maps();
		vfu_tran_close(probe->t);
	}
	for (int i = 0; i < CYCLES; i++)
		one_cycle(path, mem, ev);
	{
		int fd;

		assert_int_equal(vfu_sock_connect(path, &fd), 0);
		cl_connect(probe, fd);
		cl_version(probe, "{}");
		/* A leak stays; anything else settles (a busy machine may still
		 * be running the last cycle's teardown on another thread). */
		for (int i = 0; i < 200 && ((fds1 = count_fds()) != fds0 || (maps1 = count_memfd_maps()) != maps0); i++)
			usleep(10000);
		maps1 = count_memfd_maps();
		/* and it still works */
		assert_int_equal(cl_rd32(probe, CFG, PCI_VENDOR_ID) & 0xffff, TESTDEV_VENDOR_ID);
		vfu_tran_close(probe->t);
	}
	assert_int_equal(fds1, fds0);
	assert_int_equal(maps1, maps0);
	assert_int_equal(srv_stop(&st), 0);
	close(lfd);
	unlink(path);
	rmdir(dir);
	close(mem);
	close(ev);
	free(probe);
}

/* One client at a time: a newcomer's VERSION gets EBUSY at once; one that
 * connected but has not spoken yet is served when the first one leaves. */
static void test_busy(void **state)
{
	struct srv_thread st;
	char dir[] = "/tmp/upci-srv-XXXXXX", path[64];
	struct client *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b)), *c = calloc(1, sizeof(*c));
	struct vfu_version v = {0, 0};
	int lfd, fd, before = count_fds();

	(void)state;
	assert_true(a && b && c);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s", dir);
	assert_int_equal(vfu_sock_listen(path, 4, &lfd), 0);
	srv_start(&st, NULL, -1, lfd);
	assert_int_equal(vfu_sock_connect(path, &fd), 0);
	cl_connect(a, fd);
	cl_version(a, "{}");
	/* b: turned away with EBUSY, quickly */
	assert_int_equal(vfu_sock_connect(path, &fd), 0);
	cl_connect(b, fd);
	assert_int_equal(cl_call(b, VFU_CMD_VERSION, &v, sizeof(v), NULL, 0, NULL), -EBUSY);
	vfu_tran_close(b->t);
	/* d: half a header, then nothing: hung up on at once (a newcomer
	 * that trickles bytes must not hold the loop), a unaffected */
	{
		uint8_t half[8] = {0};
		struct pollfd p;
		char byte;

		assert_int_equal(vfu_sock_connect(path, &fd), 0);
		assert_int_equal(write(fd, half, sizeof(half)), (ssize_t)sizeof(half));
		p = (struct pollfd){.fd = fd, .events = POLLIN};
		assert_int_equal(poll(&p, 1, 2000), 1);
		assert_int_equal(read(fd, &byte, 1), 0);
		close(fd);
		cl_wr32(a, 0, TESTDEV_REG_SCRATCH, 0x98);
	}
	/* c: connected, silent; a keeps working meanwhile */
	assert_int_equal(vfu_sock_connect(path, &fd), 0);
	cl_connect(c, fd);
	cl_wr32(a, 0, TESTDEV_REG_SCRATCH, 0x99);
	vfu_tran_close(a->t);
	/* c is the next client, and sees the device state a left */
	cl_version(c, "{}");
	assert_int_equal(cl_rd32(c, 0, TESTDEV_REG_SCRATCH), 0x99);
	/* a stop while a client is connected ends the session cleanly */
	assert_int_equal(srv_stop(&st), 0);
	vfu_tran_close(c->t);
	close(lfd);
	unlink(path);
	rmdir(dir);
	assert_int_equal(count_fds(), before);
	free(a);
	free(b);
	free(c);
}

/* ---- stops, and fds a hostile client passes ---- */

/* A listening socket in a fresh directory. */
struct listener {
	char dir[32];
	char path[64];
	int fd;
};

static void listener_open(struct listener *l)
{
	snprintf(l->dir, sizeof(l->dir), "/tmp/upci-srv-XXXXXX");
	assert_non_null(mkdtemp(l->dir));
	snprintf(l->path, sizeof(l->path), "%s/s", l->dir);
	assert_int_equal(vfu_sock_listen(l->path, 4, &l->fd), 0);
}

static void listener_close(struct listener *l)
{
	close(l->fd);
	unlink(l->path);
	rmdir(l->dir);
}

/* A client connected to @path (VERSION not sent). */
static struct client *cl_dial(const char *path)
{
	struct client *c = calloc(1, sizeof(*c));
	int fd;

	assert_non_null(c);
	assert_int_equal(vfu_sock_connect(path, &fd), 0);
	cl_connect(c, fd);
	return c;
}

static void cl_free(struct client *c)
{
	vfu_msg_release(&c->held);
	vfu_tran_close(c->t);
	free(c);
}

/*
 * Stop the server and wait at most @ms for its thread. 0 or the server's
 * result once it ended and was cleaned up; -ETIMEDOUT when it did not end
 * (then *st is left to the running thread: allocate it on the heap).
 */
static int srv_stop_within(struct srv_thread *st, int ms)
{
	struct timespec ts;

	assert_int_equal(write(st->stop[1], "x", 1), 1);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	if (pthread_timedjoin_np(st->th, NULL, &ts) != 0)
		return -ETIMEDOUT;
	return srv_free(st);
}

/* A blocking eventfd with its counter at the maximum: write(1) would sleep
 * until someone reads it. */
static int full_blocking_eventfd(void)
{
	uint64_t max = UINT64_MAX - 1;
	int fd = eventfd(0, EFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, &max, sizeof(max)), (ssize_t)sizeof(max));
	return fd;
}

static int cl_set_irqs(struct client *c, uint32_t flags, uint32_t start, uint32_t count, const int *fds,
		       size_t nfds)
{
	struct vfu_irq_set s = {.argsz = sizeof(s), .flags = flags, .index = VFU_PCI_MSIX_IRQ_INDEX,
				.start = start, .count = count};

	return cl_call(c, VFU_CMD_DEVICE_SET_IRQS, &s, sizeof(s), fds, nfds, NULL);
}

/*
 * Issue 10, item 3: an eventfd that is blocking and full makes every write
 * sleep. Interrupts to it (doorbell, loopback, mask and unmask notifiers)
 * must not freeze the server: each request is still answered at once, a
 * newcomer still gets EBUSY, a stop still ends it, the client's file flags
 * are left alone, and once the client reads its counter, interrupts arrive
 * again.
 */
static void test_irq_hostile_eventfd(void **state)
{
	struct srv_thread *st = calloc(1, sizeof(*st)); /* a hung server keeps it */
	struct listener l;
	struct client *c, *b;
	struct vfu_version v = {0, 0};
	int ev = full_blocking_eventfd(), before = count_fds();
	struct pollfd p = {.fd = ev, .events = POLLIN};
	uint64_t val;

	(void)state;
	assert_non_null(st);
	listener_open(&l);
	srv_start(st, NULL, -1, l.fd);
	c = cl_dial(l.path);
	c->timeout_ms = 2000; /* a frozen server fails the test, not hangs it */
	cl_version(c, "{\"capabilities\":{\"max_msg_fds\":8}}");
	enable_master(c);
	assert_int_equal(cl_set_irqs(c, VFU_IRQ_SET_DATA_EVENTFD | VFU_IRQ_SET_ACTION_TRIGGER, 0, 1, &ev, 1), 0);
	assert_int_equal(cl_set_irqs(c, VFU_IRQ_SET_DATA_EVENTFD | VFU_IRQ_SET_ACTION_MASK, 0, 1, &ev, 1), 0);
	assert_int_equal(cl_set_irqs(c, VFU_IRQ_SET_DATA_EVENTFD | VFU_IRQ_SET_ACTION_UNMASK, 0, 1, &ev, 1), 0);
	for (int i = 0; i < 3; i++) {
		cl_wr32(c, 0, TESTDEV_REG_DOORBELL, 0); /* the device's direct write */
		assert_int_equal(cl_set_irqs(c, VFU_IRQ_SET_DATA_NONE | VFU_IRQ_SET_ACTION_TRIGGER, 0, 1, NULL, 0), 0);
		assert_int_equal(cl_set_irqs(c, VFU_IRQ_SET_DATA_NONE | VFU_IRQ_SET_ACTION_MASK, 0, 1, NULL, 0), 0);
		cl_wr32(c, 0, TESTDEV_REG_DOORBELL, 0); /* latched while masked */
		assert_int_equal(cl_set_irqs(c, VFU_IRQ_SET_DATA_NONE | VFU_IRQ_SET_ACTION_UNMASK, 0, 1, NULL, 0), 0);
	}
	/* the watcher is free: a newcomer is turned away at once */
	b = cl_dial(l.path);
	b->timeout_ms = 2000;
	assert_int_equal(cl_call(b, VFU_CMD_VERSION, &v, sizeof(v), NULL, 0, NULL), -EBUSY);
	cl_free(b);
	/* the client's own file is as it made it */
	assert_int_equal(fcntl(ev, F_GETFL) & O_NONBLOCK, 0);
	/* room again: the next doorbell arrives */
	assert_int_equal(read(ev, &val, sizeof(val)), (ssize_t)sizeof(val));
	assert_true(val >= UINT64_MAX - 1);
	cl_wr32(c, 0, TESTDEV_REG_DOORBELL, 0);
	assert_int_equal(poll(&p, 1, 2000), 1);
	assert_int_equal(read(ev, &val, sizeof(val)), (ssize_t)sizeof(val));
	assert_int_equal(val, 1);
	assert_int_equal(srv_stop_within(st, 1000), 0);
	cl_free(c);
	listener_close(&l);
	assert_int_equal(count_fds(), before);
	free(st);
	close(ev);
}

/* Where a stop may find the server (test_stop_every_state). */
enum stop_state {
	ST_IDLE,        /* nobody connected */
	ST_SILENT,      /* a client connected, VERSION not sent */
	ST_SERVED,      /* a client negotiated, then sends nothing */
	ST_MID_HEADER,  /* half a header sent */
	ST_MID_PAYLOAD, /* a header and part of its payload */
	ST_DMA_WAIT,    /* the device waits for the client's DMA_READ reply */
	ST_SIGNALLING,  /* doorbells to blocking, full eventfds, pipelined */
	ST_NEWCOMER,    /* a second client waits to be turned away */
	ST_NOT_READING, /* the client reads none of its 1 MiB replies */
	ST_POSTED,      /* seconds of posted (NO_REPLY) device work queued */
	ST_COUNT
};

static const char *const state_names[ST_COUNT] = {
	"idle", "silent client", "served client", "mid-header", "mid-payload", "DMA wait", "signalling",
	"newcomer waiting", "client not reading", "posted work queued",
};

/* 200 doorbells in one REGION_WRITE_MULTI, cycling over 8 vectors. */
static void send_doorbells(struct client *c)
{
	uint8_t p[sizeof(struct vfu_region_write_multi) + VFU_WRITE_MULTI_MAX * sizeof(struct vfu_write_one)];
	uint64_t n = VFU_WRITE_MULTI_MAX;

	memcpy(p, &n, sizeof(n));
	for (uint32_t i = 0; i < VFU_WRITE_MULTI_MAX; i++) {
		struct vfu_write_one w = {.offset = TESTDEV_REG_DOORBELL, .region = 0, .count = 4};
		uint32_t vec = i % 8;

		memcpy(w.data, &vec, 4);
		memcpy(p + sizeof(n) + i * sizeof(w), &w, sizeof(w));
	}
	cl_send(c, c->id++, VFU_CMD_REGION_WRITE_MULTI, p, sizeof(p), NULL, 0);
}

/* 30 posted REGION_WRITE_MULTIs of 200 STARTs each, every START copying
 * 1 MiB inside BAR2: seconds of device work the client queued at once
 * (the socket delivers it after a shutdown too). */
static void send_posted_work(struct client *c)
{
	struct testdev_desc d[2] = {
		{.src = 0, .dst = 512 * 1024, .len = 512 * 1024, .flags = TESTDEV_DESC_F_SRC_BAR2 | TESTDEV_DESC_F_DST_BAR2},
		{.src = 512 * 1024, .dst = 0, .len = 512 * 1024, .flags = TESTDEV_DESC_F_SRC_BAR2 | TESTDEV_DESC_F_DST_BAR2},
	};
	struct vfu_dma_map m = {.argsz = sizeof(m), .flags = VFU_DMA_MAP_F_READ | VFU_DMA_MAP_F_WRITE,
				.addr = MEM_IOVA, .size = MEM_SIZE};
	uint8_t p[sizeof(struct vfu_region_write_multi) + VFU_WRITE_MULTI_MAX * sizeof(struct vfu_write_one)];
	uint64_t n = VFU_WRITE_MULTI_MAX;
	int mfd = test_memfd(MEM_SIZE);
	uint8_t *mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);

	assert_true(mem != MAP_FAILED);
	memcpy(mem, d, sizeof(d));
	assert_int_equal(cl_call(c, VFU_CMD_DMA_MAP, &m, sizeof(m), &mfd, 1, NULL), 0);
	enable_master(c);
	cl_wr32(c, 0, TESTDEV_REG_DESC_ADDR, (uint32_t)MEM_IOVA);
	cl_wr32(c, 0, TESTDEV_REG_DESC_ADDR_HI, 0);
	cl_wr32(c, 0, TESTDEV_REG_DESC_COUNT, 2);
	memcpy(p, &n, sizeof(n));
	for (uint32_t i = 0; i < VFU_WRITE_MULTI_MAX; i++) {
		struct vfu_write_one w = {.offset = TESTDEV_REG_CTRL, .region = 0, .count = 4};
		uint32_t v = TESTDEV_CTRL_START;

		memcpy(w.data, &v, 4);
		memcpy(p + sizeof(n) + i * sizeof(w), &w, sizeof(w));
	}
	for (int i = 0; i < 30; i++) {
		struct vfu_hdr h;

		vfu_hdr_request(&h, c->id++, VFU_CMD_REGION_WRITE_MULTI, VFU_HDR_F_NO_REPLY);
		assert_int_equal(vfu_tran_send_buf(c->t, &h, p, sizeof(p), NULL, 0), 0);
	}
	munmap(mem, MEM_SIZE);
	close(mfd);
}

/* Bring the server on @path into @s; clients in cs[], eventfds in ev[]. */
static void reach(enum stop_state s, const char *path, struct client *cs[2], int ev[8])
{
	struct client *c;

	if (s == ST_IDLE)
		return;
	c = cs[0] = cl_dial(path);
	if (s == ST_SILENT)
		return;
	if (s == ST_MID_HEADER) {
		uint8_t half[8] = {0};

		cl_version(c, "{}");
		assert_int_equal(write(vfu_tran_pollfd(c->t), half, sizeof(half)), (ssize_t)sizeof(half));
		return;
	}
	if (s == ST_MID_PAYLOAD) {
		struct vfu_hdr h;
		uint8_t part[8] = {0};

		cl_version(c, "{}");
		vfu_hdr_request(&h, 9, VFU_CMD_REGION_WRITE, 0);
		h.msg_size = VFU_HDR_SIZE + 64;
		assert_int_equal(write(vfu_tran_pollfd(c->t), &h, sizeof(h)), (ssize_t)sizeof(h));
		assert_int_equal(write(vfu_tran_pollfd(c->t), part, sizeof(part)), (ssize_t)sizeof(part));
		return;
	}
	cl_version(c, "{\"capabilities\":{\"max_msg_fds\":8,\"write_multiple\":true}}");
	if (s == ST_DMA_WAIT) {
		struct vfu_msg m;

		cl_map_remote(c);
		enable_master(c);
		put_descs(c, 64);
		start_dma(c, 500);
		assert_int_equal(vfu_tran_recv(c->t, &m, 5000), 0);
		assert_int_equal(m.hdr.cmd, VFU_CMD_DMA_READ); /* and no answer */
		vfu_msg_release(&m);
	} else if (s == ST_SIGNALLING) {
		enable_master(c);
		for (int i = 0; i < 8; i++)
			ev[i] = full_blocking_eventfd();
		assert_int_equal(cl_set_irqs(c, VFU_IRQ_SET_DATA_EVENTFD | VFU_IRQ_SET_ACTION_TRIGGER, 0, 8, ev, 8), 0);
		for (int i = 0; i < 5; i++)
			send_doorbells(c);
	} else if (s == ST_NEWCOMER) {
		cs[1] = cl_dial(path);
	} else if (s == ST_POSTED) {
		send_posted_work(c);
	} else if (s == ST_NOT_READING) {
		struct vfu_region_access a = {.offset = 0, .region = TESTDEV_BAR_MEM, .count = 1u << 20};

		for (int i = 0; i < 4; i++)
			cl_send(c, c->id++, VFU_CMD_REGION_READ, &a, sizeof(a), NULL, 0);
	}
	usleep(100 * 1000); /* let the server get there */
}

/* Issue 10, item 3: a stop ends the server within 1 s whatever it does. */
static void test_stop_every_state(void **state)
{
	(void)state;
	for (int s = 0; s < ST_COUNT; s++) {
		struct srv_thread *st = calloc(1, sizeof(*st)); /* a hung server keeps it */
		struct client *cs[2] = {NULL, NULL};
		int ev[8] = {-1, -1, -1, -1, -1, -1, -1, -1}, before = count_fds();
		struct listener l;
		struct timespec t0, t1;
		int ret;

		assert_non_null(st);
		listener_open(&l);
		srv_start(st, NULL, -1, l.fd);
		reach((enum stop_state)s, l.path, cs, ev);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ret = srv_stop_within(st, 1000);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		print_message("stop while %s: %ld ms\n", state_names[s],
			      (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000));
		if (ret != 0)
			fail_msg("stop while %s: %s", state_names[s], strerror(-ret));
		for (int i = 0; i < 2; i++)
			if (cs[i])
				cl_free(cs[i]);
		for (int i = 0; i < 8; i++)
			if (ev[i] >= 0)
				close(ev[i]);
		listener_close(&l);
		assert_int_equal(count_fds(), before);
		free(st);
	}
}

/* ---- the socket file and who may connect ---- */

/* connect() to @path without waiting: 0 (or -EAGAIN, backlog full: it
 * listens all the same), -ECONNREFUSED (bound, not listening), -ENOENT. */
static int probe(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), rc;

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : -errno;
	close(fd);
	return rc;
}

/*
 * Issue 10, item 7: a client that waits for the file and connects must not
 * get ECONNREFUSED. A child creates the socket under ptrace; at each of its
 * system calls the path either does not exist yet or accepts connections.
 * Its umask is 000, and the file still gets mode 0600 (item 6).
 */
static void test_listen_appears_ready(void **state)
{
	char dir[] = "/tmp/upci-srv-XXXXXX", path[64];
	int status, refused = 0, ready = 0;
	struct stat st;
	pid_t pid;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s", dir);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd;

		umask(0);
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0)
			_exit(2);
		raise(SIGSTOP);
		_exit(vfu_sock_listen(path, 4, &fd) == 0 ? 0 : 1); /* _exit: no leak check under ptrace */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status)) { /* no ptrace here */
		rmdir(dir);
		skip();
	}
	assert_true(WIFSTOPPED(status));
	assert_int_equal(ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(long)(PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL)),
			 0);
	for (;;) {
		int rc;

		assert_int_equal(ptrace(PTRACE_SYSCALL, pid, NULL, NULL), 0);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (WIFEXITED(status) || WIFSIGNALED(status))
			break;
		if (!WIFSTOPPED(status) || WSTOPSIG(status) != (SIGTRAP | 0x80))
			continue; /* a signal stop: let it go on */
		rc = probe(path);
		if (rc == -ECONNREFUSED)
			refused++;
		else if (rc == 0 || rc == -EAGAIN)
			ready++;
		else
			assert_int_equal(rc, -ENOENT);
	}
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(refused, 0);
	assert_true(ready > 0);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0); /* no temporary name left behind */
}

/* Mode and group as asked; an existing file is never replaced; at the end
 * only our own socket is removed (item 7). */
static void test_socket_file(void **state)
{
	struct vfu_sock_file id;
	char dir[] = "/tmp/upci-srv-XXXXXX", path[64], other[80];
	gid_t gid = geteuid() == 0 ? 65534 : getegid();
	struct stat st;
	int fd, lfd, before = count_fds();

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s", dir);
	snprintf(other, sizeof(other), "%s/other", dir);
	assert_int_equal(vfu_sock_listen_file(path, 4, 01777, (gid_t)-1, &lfd, &id), -EINVAL);
	assert_int_equal(vfu_sock_listen_file(path, 4, 0640, gid, &lfd, &id), 0);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_gid, gid);
	assert_int_equal(probe(path), 0);
	/* a second one at the same path: refused, the first one intact */
	assert_int_equal(vfu_sock_listen_file(path, 4, 0600, (gid_t)-1, &fd, NULL), -EADDRINUSE);
	assert_int_equal(probe(path), 0);
	/* someone puts a file in its place: it stays */
	assert_int_equal(rename(path, other), 0);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "keep", 4), 4);
	close(fd);
	assert_int_equal(vfu_sock_listen_file(path, 4, 0600, (gid_t)-1, &fd, NULL), -EADDRINUSE);
	assert_int_equal(vfu_sock_unlink_file(path, &id), -ESTALE);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode) && st.st_size == 4);
	/* our own socket, wherever it went, is removed */
	assert_int_equal(vfu_sock_unlink_file(other, &id), 0);
	assert_int_equal(lstat(other, &st), -1);
	assert_int_equal(vfu_sock_unlink_file(other, &id), -ENOENT);
	close(lfd);
	assert_int_equal(unlink(path), 0);
	/* nothing else in the directory: no temporary name left */
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(count_fds(), before);
}

/*
 * A child running as @uid connects to @path and sends VERSION, with raw
 * system calls only (the parent has threads). Returns 0 when it was
 * accepted, the errno of an error reply, or -1000 - errno when connect
 * failed, -2000 for anything else.
 */
static int version_as(uid_t uid, const char *path)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		uint8_t msg[VFU_HDR_SIZE + sizeof(struct vfu_version) + 3] = {0};
		struct vfu_hdr h = {.msg_id = 1, .cmd = VFU_CMD_VERSION, .msg_size = sizeof(msg)};
		int fd;

		if (setresgid(uid, uid, uid) != 0 || setresuid(uid, uid, uid) != 0)
			_exit(200);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
			_exit(errno == EACCES ? 201 : 202);
		memcpy(msg, &h, sizeof(h));
		memcpy(msg + VFU_HDR_SIZE + sizeof(struct vfu_version), "{}", 3);
		if (write(fd, msg, sizeof(msg)) != (ssize_t)sizeof(msg) || read(fd, &h, sizeof(h)) != (ssize_t)sizeof(h))
			_exit(203);
		_exit(h.flags & VFU_HDR_F_ERROR ? (int)(h.error & 0x7f) : 0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	switch (WEXITSTATUS(status)) {
	case 201:
		return -1000 - EACCES;
	case 200:
	case 202:
	case 203:
		return -2000;
	default:
		return WEXITSTATUS(status);
	}
}

/* Item 6: a client whose user is not allowed is answered EACCES, whether
 * the server is idle or busy; an allowed one is served. As root only. */
static void test_allow_uid(void **state)
{
	const uid_t other = 65534; /* nobody */
	struct vfu_server_opts o;
	struct srv_thread st;
	struct listener l;
	struct client *c;

	(void)state;
	if (geteuid() != 0)
		skip();
	listener_open(&l);
	assert_int_equal(chmod(l.dir, 0755), 0);
	/* the file as the operator left it: only our user can connect */
	assert_int_equal(version_as(other, l.path), -1000 - EACCES);
	assert_int_equal(chmod(l.path, 0666), 0);
	vfu_server_opts_default(&o);
	o.n_allow_uids = 1;
	o.allow_uids[0] = 4242;
	srv_start(&st, &o, -1, l.fd);
	assert_int_equal(version_as(other, l.path), EACCES); /* idle */
	c = cl_dial(l.path);                                   /* our own user: allowed */
	cl_version(c, "{}");
	assert_int_equal(version_as(other, l.path), EACCES); /* busy: EACCES, not EBUSY */
	cl_free(c);
	assert_int_equal(srv_stop(&st), 0);
	vfu_server_opts_default(&o);
	o.n_allow_uids = 1;
	o.allow_uids[0] = other;
	srv_start(&st, &o, -1, l.fd);
	assert_int_equal(version_as(other, l.path), 0);
	assert_int_equal(srv_stop(&st), 0);
	listener_close(&l);
}

/*
 * A device that signals eventfds itself (here a vfio-user client: upci
 * serve vfio-user:... in front of upci serve sim:...) takes the client's
 * eventfds: interrupts go from the inner server straight to them.
 */
static void test_chained_irq(void **state)
{
	struct srv_thread inner, outer;
	char dir[] = "/tmp/upci-srv-XXXXXX", path[64], uri[80];
	struct client *c = calloc(1, sizeof(*c));
	struct vfu_irq_set s = {.argsz = sizeof(s), .flags = VFU_IRQ_SET_DATA_EVENTFD | VFU_IRQ_SET_ACTION_TRIGGER,
				.index = VFU_PCI_MSIX_IRQ_INDEX, .start = 0, .count = 8};
	int lfd, sv[2], ev[8], before = count_fds();

	(void)state;
	if (upci_backend_available("vfio-user") != 1) {
		free(c);
		skip();
	}
	assert_non_null(c);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s", dir);
	snprintf(uri, sizeof(uri), "vfio-user:%s", path);
	assert_int_equal(vfu_sock_listen(path, 4, &lfd), 0);
	srv_start(&inner, NULL, -1, lfd);
	assert_int_equal(vfu_sock_pair(sv), 0);
	srv_start_uri(&outer, uri, NULL, sv[0], -1);
	cl_connect(c, sv[1]);
	cl_version(c, "{\"capabilities\":{\"max_msg_fds\":8}}");
	enable_master(c);
	for (int i = 0; i < 8; i++)
		ev[i] = test_eventfd();
	assert_int_equal(cl_call(c, VFU_CMD_DEVICE_SET_IRQS, &s, sizeof(s), ev, 8, NULL), 0);
	for (uint32_t v = 0; v < 8; v++) {
		struct pollfd p = {.fd = ev[v], .events = POLLIN};

		cl_wr32(c, 0, TESTDEV_REG_DOORBELL, v);
		assert_int_equal(poll(&p, 1, 5000), 1);
		assert_int_equal(eventfd_take(ev[v]), 1);
		for (int i = 0; i < 8; i++)
			assert_int_equal(eventfd_take(ev[i]), 0);
	}
	vfu_tran_close(c->t);
	assert_int_equal(srv_stop(&outer), 0);
	assert_int_equal(srv_stop(&inner), 0);
	for (int i = 0; i < 8; i++)
		close(ev[i]);
	close(lfd);
	unlink(path);
	rmdir(dir);
	assert_int_equal(count_fds(), before);
	free(c);
}

/*
 * A vector that a backend latches only when it is taken (VFIO's INTx: an
 * event source on the handle, no direct delivery) is relayed by the serving
 * loop. Built on the sim by attaching a source to the server's handle by
 * hand, the way the vfio backend does.
 */
static void test_irq_relay(void **state)
{
	struct srv_thread st;
	struct client *c = calloc(1, sizeof(*c));
	int sv[2], ev, src, before = count_fds();
	struct pollfd p;
	uint64_t one = 1;

	(void)state;
	assert_non_null(c);
	ev = test_eventfd();
	src = test_eventfd();
	p = (struct pollfd){.fd = ev, .events = POLLIN};
	assert_int_equal(vfu_sock_pair(sv), 0);
	srv_start(&st, NULL, sv[0], -1);
	/* As VFIO and vfio-user do at open: upci_irq_fd() never changes. */
	assert_int_equal(irq_state_enable_sources(&st.dev->irq), 0);
	cl_connect(c, sv[1]);
	cl_version(c, "{}");
	enable_master(c);
	assert_int_equal(cl_call(c, VFU_CMD_DEVICE_SET_IRQS,
				 &(struct vfu_irq_set){.argsz = sizeof(struct vfu_irq_set),
						       .flags = VFU_IRQ_SET_DATA_EVENTFD | VFU_IRQ_SET_ACTION_TRIGGER,
						       .index = VFU_PCI_MSIX_IRQ_INDEX, .start = 2, .count = 1},
				 sizeof(struct vfu_irq_set), &ev, 1, NULL),
			 0);
	/* vector 2 now fires through a source, as on VFIO: the server's
	 * watcher polls the device's fd and relays it */
	assert_int_equal(irq_state_attach_source(&st.dev->irq, 2, src), 0);
	assert_int_equal(cl_rd32(c, 0, TESTDEV_REG_SCRATCH), 0);
	assert_int_equal(write(src, &one, sizeof(one)), (ssize_t)sizeof(one));
	assert_int_equal(poll(&p, 1, 5000), 1);
	assert_int_equal(eventfd_take(ev), 1);
	/* and again: the relay re-arms */
	assert_int_equal(write(src, &one, sizeof(one)), (ssize_t)sizeof(one));
	assert_int_equal(poll(&p, 1, 5000), 1);
	assert_int_equal(eventfd_take(ev), 1);
	vfu_tran_close(c->t);
	assert_int_equal(pthread_join(st.th, NULL), 0); /* the client left: done */
	assert_int_equal(irq_state_attach_source(&st.dev->irq, 2, -1), 0);
	srv_free(&st);
	close(src);
	close(ev);
	assert_int_equal(count_fds(), before);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inband_dma),
		cmocka_unit_test(test_inband_dma_timeout),
		cmocka_unit_test(test_connect_cycles),
		cmocka_unit_test(test_busy),
		cmocka_unit_test(test_chained_irq),
		cmocka_unit_test(test_irq_relay),
		cmocka_unit_test(test_irq_hostile_eventfd),
		cmocka_unit_test(test_stop_every_state),
		cmocka_unit_test(test_listen_appears_ready),
		cmocka_unit_test(test_socket_file),
		cmocka_unit_test(test_allow_uid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* Helpers of the vfio-user server tests (see test_vfu_srv_util.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_vfu_srv_util.h"

void fx_open(struct srv_fx *fx, const char *uri, const struct vfu_server_opts *opts)
{
	memset(fx, 0, sizeof(*fx));
	assert_int_equal(upci_open(&fx->dev, uri), 0);
	assert_int_equal(upci_claim(fx->dev), 0);
	assert_int_equal(vfu_server_new(fx->dev, opts, &fx->s), 0);
	assert_int_equal(vfu_tran_mem_new(&fx->t), 0);
	assert_int_equal(vfu_tran_mem_new(&fx->peer), 0);
	assert_int_equal(vfu_tran_set_limits(fx->peer, VFU_TRAN_MAX_MSG_SIZE_LIMIT, VFU_MSG_MAX_FDS, 1), 0);
	assert_int_equal(vfu_session_open(fx->s, fx->t, &fx->ss), 0);
	fx->id = 0x100;
}

void fx_close(struct srv_fx *fx)
{
	vfu_server_free(fx->s); /* closes the session */
	vfu_tran_close(fx->t);
	vfu_tran_close(fx->peer);
	upci_close(fx->dev);
	memset(fx, 0, sizeof(*fx));
}

void fx_reconnect(struct srv_fx *fx)
{
	vfu_session_close(fx->ss);
	vfu_tran_close(fx->t);
	vfu_tran_close(fx->peer);
	assert_int_equal(vfu_tran_mem_new(&fx->t), 0);
	assert_int_equal(vfu_tran_mem_new(&fx->peer), 0);
	assert_int_equal(vfu_tran_set_limits(fx->peer, VFU_TRAN_MAX_MSG_SIZE_LIMIT, VFU_MSG_MAX_FDS, 1), 0);
	assert_int_equal(vfu_session_open(fx->s, fx->t, &fx->ss), 0);
}

void fx_feed(struct srv_fx *fx, const void *buf, size_t len, const int *fds, size_t nfds)
{
	int dups[VFU_MSG_MAX_FDS + 8];

	assert_true(nfds <= sizeof(dups) / sizeof(dups[0]));
	for (size_t i = 0; i < nfds; i++) {
		dups[i] = dup(fds[i]);
		assert_true(dups[i] >= 0);
	}
	assert_int_equal(vfu_tran_mem_feed(fx->t, buf, len, dups, nfds), 0);
}

void fx_feed_cmd(struct srv_fx *fx, uint16_t id, uint16_t cmd, uint32_t flags, const void *payload, size_t len,
		 const int *fds, size_t nfds)
{
	uint8_t *buf = malloc(VFU_HDR_SIZE + len);
	struct vfu_hdr h;

	assert_non_null(buf);
	vfu_hdr_request(&h, id, cmd, flags);
	h.msg_size = (uint32_t)(VFU_HDR_SIZE + len);
	memcpy(buf, &h, sizeof(h));
	if (len)
		memcpy(buf + VFU_HDR_SIZE, payload, len);
	fx_feed(fx, buf, VFU_HDR_SIZE + len, fds, nfds);
	free(buf);
}

int fx_step(struct srv_fx *fx)
{
	return vfu_session_step(fx->ss, 0);
}

/* Move what the server sent into the parsing transport. */
static void pull_output(struct srv_fx *fx)
{
	uint8_t *buf = NULL;
	int *fds = NULL;
	size_t len = 0, nfds = 0;

	assert_int_equal(vfu_tran_mem_take_sent(fx->t, &buf, &len, &fds, &nfds), 0);
	if (len)
		assert_int_equal(vfu_tran_mem_feed(fx->peer, buf, len, fds, nfds), 0);
	else
		assert_int_equal(nfds, 0);
	free(buf);
	free(fds);
}

size_t fx_pending_output(struct srv_fx *fx)
{
	const uint8_t *buf;
	size_t len, nfds;

	vfu_tran_mem_sent(fx->t, &buf, &len, &nfds);
	return len;
}

void fx_recv(struct srv_fx *fx, struct vfu_msg *m)
{
	pull_output(fx);
	assert_int_equal(vfu_tran_recv(fx->peer, m, 0), 0);
}

int fx_call(struct srv_fx *fx, uint16_t cmd, const void *payload, size_t len, const int *fds, size_t nfds,
	    struct vfu_msg *rep)
{
	uint16_t id = fx->id++;
	struct vfu_msg m;
	int err;

	fx_feed_cmd(fx, id, cmd, 0, payload, len, fds, nfds);
	assert_int_equal(fx_step(fx), 0);
	fx_recv(fx, &m);
	assert_int_equal(m.hdr.msg_id, id);
	assert_int_equal(m.hdr.cmd, cmd);
	assert_int_equal(m.hdr.flags & VFU_HDR_F_TYPE_MASK, VFU_HDR_F_TYPE_REPLY);
	err = (m.hdr.flags & VFU_HDR_F_ERROR) ? -(int)m.hdr.error : 0;
	if (err)
		assert_int_equal(m.len, 0); /* an error reply is the header only */
	if (rep)
		*rep = m;
	else
		vfu_msg_release(&m);
	return err;
}

int fx_version(struct srv_fx *fx, const char *json, struct vfu_msg *rep)
{
	size_t jl = json ? strlen(json) + 1 : 0;
	uint8_t *p = malloc(sizeof(struct vfu_version) + jl);
	struct vfu_version v = {.major = VFU_VERSION_MAJOR, .minor = VFU_VERSION_MINOR};
	int ret;

	assert_non_null(p);
	memcpy(p, &v, sizeof(v));
	if (jl)
		memcpy(p + sizeof(v), json, jl);
	ret = fx_call(fx, VFU_CMD_VERSION, p, sizeof(v) + jl, NULL, 0, rep);
	free(p);
	return ret;
}

void fx_negotiate(struct srv_fx *fx)
{
	assert_int_equal(fx_version(fx, "{\"capabilities\":{\"max_msg_fds\":8,\"write_multiple\":true}}", NULL), 0);
}

int fx_region_read(struct srv_fx *fx, uint32_t region, uint64_t off, void *buf, uint32_t count)
{
	struct vfu_region_access a = {.offset = off, .region = region, .count = count};
	struct vfu_msg rep;
	int ret = fx_call(fx, VFU_CMD_REGION_READ, &a, sizeof(a), NULL, 0, &rep);

	if (ret == 0) {
		struct vfu_region_access got;

		assert_int_equal(rep.len, sizeof(got) + count);
		memcpy(&got, rep.payload, sizeof(got));
		assert_int_equal(got.offset, off);
		assert_int_equal(got.region, region);
		assert_int_equal(got.count, count);
		memcpy(buf, rep.payload + sizeof(got), count);
		vfu_msg_release(&rep);
	}
	return ret;
}

int fx_region_write(struct srv_fx *fx, uint32_t region, uint64_t off, const void *buf, uint32_t count)
{
	struct vfu_region_access a = {.offset = off, .region = region, .count = count};
	uint8_t *p = malloc(sizeof(a) + count + 1);
	struct vfu_msg rep;
	int ret;

	assert_non_null(p);
	memcpy(p, &a, sizeof(a));
	memcpy(p + sizeof(a), buf, count);
	ret = fx_call(fx, VFU_CMD_REGION_WRITE, p, sizeof(a) + count, NULL, 0, &rep);
	free(p);
	if (ret == 0) {
		assert_int_equal(rep.len, sizeof(a));
		assert_memory_equal(rep.payload, &a, sizeof(a));
		vfu_msg_release(&rep);
	}
	return ret;
}

uint32_t fx_rd32(struct srv_fx *fx, uint32_t region, uint64_t off)
{
	uint32_t v = 0;

	assert_int_equal(fx_region_read(fx, region, off, &v, 4), 0);
	return v;
}

void fx_wr32(struct srv_fx *fx, uint32_t region, uint64_t off, uint32_t val)
{
	assert_int_equal(fx_region_write(fx, region, off, &val, 4), 0);
}

void fx_wr64(struct srv_fx *fx, uint32_t region, uint64_t off, uint64_t val)
{
	assert_int_equal(fx_region_write(fx, region, off, &val, 8), 0);
}

int fx_dma_map(struct srv_fx *fx, uint64_t iova, uint64_t size, uint64_t off, uint32_t flags, int fd)
{
	struct vfu_dma_map m = {.argsz = sizeof(m), .flags = flags, .offset = off, .addr = iova, .size = size};

	return fx_call(fx, VFU_CMD_DMA_MAP, &m, sizeof(m), fd >= 0 ? &fd : NULL, fd >= 0 ? 1 : 0, NULL);
}

int fx_dma_unmap(struct srv_fx *fx, uint64_t iova, uint64_t size, uint32_t flags)
{
	struct vfu_dma_unmap u = {.argsz = sizeof(u), .flags = flags, .addr = iova, .size = size};
	struct vfu_msg rep;
	int ret = fx_call(fx, VFU_CMD_DMA_UNMAP, &u, sizeof(u), NULL, 0, &rep);

	if (ret == 0) {
		/* the reply echoes the entry */
		assert_int_equal(rep.len, sizeof(u));
		assert_memory_equal(rep.payload, &u, sizeof(u));
		vfu_msg_release(&rep);
	}
	return ret;
}

int fx_set_irqs(struct srv_fx *fx, uint32_t flags, uint32_t index, uint32_t start, uint32_t count,
		const void *data, size_t dlen, const int *fds, size_t nfds)
{
	struct vfu_irq_set s = {.argsz = (uint32_t)(sizeof(s) + dlen), .flags = flags, .index = index,
				.start = start, .count = count};
	uint8_t buf[sizeof(s) + 512];
	int ret;

	assert_true(dlen <= 512);
	memcpy(buf, &s, sizeof(s));
	if (dlen)
		memcpy(buf + sizeof(s), data, dlen);
	ret = fx_call(fx, VFU_CMD_DEVICE_SET_IRQS, buf, sizeof(s) + dlen, fds, nfds, NULL);
	return ret;
}

int test_memfd(size_t size)
{
	int fd = memfd_create("vfu-srv-test", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	return fd;
}

int test_eventfd(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

uint64_t eventfd_take(int fd)
{
	uint64_t v = 0;

	if (read(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		return 0;
	return v;
}

int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own fd */
}

int count_memfd_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "/memfd:"))
			n++;
	fclose(f);
	return n;
}

int count_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	int n = 0, c;

	assert_non_null(f);
	while ((c = fgetc(f)) != EOF)
		if (c == '\n')
			n++;
	fclose(f);
	return n;
}

/* SPDX-License-Identifier: MIT */
/*
 * DMA over vfio-user. Memory with an fd (upci_dma_alloc's memfds) goes to
 * the server with DMA_MAP + the fd, and the server maps it. Memory without
 * one is announced without an fd; the server then reads and writes it with
 * DMA_READ / DMA_WRITE requests, answered here from the process memory
 * recorded at map time. Every mapping is recorded, so a server that
 * prefers messages over mmap works too. A request is served only when it
 * lies inside one mapping that grants the access; anything else gets an
 * error reply, never a touch outside what was mapped.
 */
#include <errno.h>
#include <string.h>

#include "dma_table.h"
#include "log.h"
#include "msg.h"
#include "vu.h"

int vu_dma_init(struct vu_conn *c)
{
	c->nmaps = 0;
	return dma_table_create(&c->dma);
}

void vu_dma_fini(struct vu_conn *c)
{
	if (c->dma)
		dma_table_destroy(c->dma);
	c->dma = NULL;
	c->nmaps = 0;
}

/* The memory a DMA request names, or an errno for the error reply. */
static int dma_target(struct vu_conn *c, const struct vfu_dma_access *a, unsigned need, void **p)
{
	if (a->count == 0 || a->count > VU_OUR_MAX_XFER)
		return -EINVAL; /* more than we said we accept */
	*p = dma_table_translate(c->dma, a->addr, a->count, need);
	if (!*p) {
		LOG_WARN("vfio-user %s: server DMA %s of %llu bytes at 0x%llx outside the mappings: refused", c->name,
			 need == UPCI_DMA_READ ? "read" : "write", (unsigned long long)a->count,
			 (unsigned long long)a->addr);
		return -EFAULT;
	}
	return 0;
}

static int reply(struct vu_conn *c, const struct vfu_hdr *req, int err, const struct iovec *iov, size_t n)
{
	struct vfu_hdr rep;

	if (req->flags & VFU_HDR_F_NO_REPLY)
		return 0;
	vfu_hdr_reply(&rep, req, err);
	return vfu_tran_send(c->t, &rep, err ? NULL : iov, err ? 0 : n, NULL, 0);
}

int vu_dma_serve(struct vu_conn *c, struct vfu_msg *m)
{
	const struct vfu_cmd_info *ci = vfu_cmd_info(m->hdr.cmd);
	struct vfu_dma_access a;
	struct iovec iov[2];
	void *p = NULL;
	int err;

	/* vfu_msg_check_request: sizes, and DMA_WRITE data length == count. */
	err = vfu_msg_check_request(&m->hdr, m->payload, m->len);
	if (err == 0 && (!ci || ci->dir != VFU_DIR_SERVER_TO_CLIENT))
		err = -EINVAL; /* a client-to-server command sent to the client */
	if (err) {
		LOG_WARN("vfio-user %s: refusing server request %s (%u bytes)", c->name, vfu_cmd_name(m->hdr.cmd),
			 m->hdr.msg_size);
		return reply(c, &m->hdr, err, NULL, 0);
	}
	memcpy(&a, m->payload, sizeof(a));
	iov[0].iov_base = &a;
	iov[0].iov_len = sizeof(a);
	if (m->hdr.cmd == VFU_CMD_DMA_READ) {
		err = dma_target(c, &a, UPCI_DMA_READ, &p);
		iov[1].iov_base = p;
		iov[1].iov_len = err ? 0 : (size_t)a.count;
		return reply(c, &m->hdr, err, iov, 2); /* the data straight from memory */
	}
	err = dma_target(c, &a, UPCI_DMA_WRITE, &p);
	if (err == 0)
		memcpy(p, m->payload + sizeof(a), (size_t)a.count);
	return reply(c, &m->hdr, err, iov, 1);
}

int vu_dma_map(struct upci_dev *dev, uint64_t iova, void *vaddr, uint64_t len, unsigned flags, int fd,
	       uint64_t fd_off, uint64_t *bus)
{
	struct vu_conn *c = &vu_of(dev)->c;
	struct dma_region r = {.start = iova, .len = len, .vaddr = vaddr, .flags = flags};
	struct vfu_dma_map m = {
		.argsz = sizeof(m),
		.flags = ((flags & UPCI_DMA_READ) ? VFU_DMA_MAP_F_READ : 0) |
			 ((flags & UPCI_DMA_WRITE) ? VFU_DMA_MAP_F_WRITE : 0),
		.offset = 0,
		.addr = iova,
		.size = len,
	};
	/* A server that takes no fds still gets the memory, in-band. */
	size_t nfds = fd >= 0 && c->peer.max_msg_fds > 0 ? 1 : 0;
	int rc;

	if ((iova | len) & (c->min_pgsize - 1))
		return -EINVAL; /* below the server's page size */
	if (c->nmaps >= c->peer.max_dma_maps)
		return -ENOSPC;
	if (nfds)
		m.offset = fd_off;
	/* Recorded first: the server may DMA as soon as it has the map. */
	rc = dma_table_insert(c->dma, &r);
	if (rc)
		return rc;
	rc = vu_call_simple(c, VFU_CMD_DMA_MAP, &m, sizeof(m), nfds ? &fd : NULL, nfds);
	if (rc) {
		dma_table_remove(c->dma, iova, NULL);
		return rc;
	}
	c->nmaps++;
	*bus = iova; /* the server's IOVA space is ours: no translation */
	return 0;
}

int vu_dma_unmap(struct upci_dev *dev, uint64_t iova, uint64_t len, uint64_t bus)
{
	struct vu_conn *c = &vu_of(dev)->c;
	struct vfu_dma_unmap u = {.argsz = sizeof(u), .flags = 0, .addr = iova, .size = len}, echo;
	struct iovec iov = {.iov_base = &u, .iov_len = sizeof(u)};
	struct vfu_msg rep;
	int rc;

	(void)bus;
	rc = vu_call(c, VFU_CMD_DMA_UNMAP, &iov, 1, NULL, 0, 0, &rep);
	if (rc == 0) {
		memcpy(&echo, rep.payload, sizeof(echo)); /* size checked: exactly 24 */
		if (echo.addr != iova || echo.size != len) {
			LOG_ERR("vfio-user %s: DMA_UNMAP reply names 0x%llx+0x%llx, not what was unmapped", c->name,
				(unsigned long long)echo.addr, (unsigned long long)echo.size);
			rc = -EPROTO;
		}
	}
	vfu_msg_release(&rep);
	/* Whatever the server said, the memory is no longer ours to lend. */
	if (dma_table_remove(c->dma, iova, NULL) == 0)
		c->nmaps--;
	return rc;
}

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
 *
 * Requests are served by a call waiting for its reply and by the service
 * thread (vu_svc.c): dma_lock covers the table and every access through
 * it, up to the reply that carries the data, so an unmap returns only
 * once nothing touches that memory any more.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dma_table.h"
#include "log.h"
#include "msg.h"
#include "vu.h"

/* Private flag of our table: the server reaches this mapping in-band. */
#define VU_MAP_INBAND (1u << 16)

int vu_dma_init(struct vu_conn *c)
{
	c->nmaps = 0;
	c->ninband = 0;
	return dma_table_create(&c->dma);
}

void vu_dma_fini(struct vu_conn *c)
{
	if (c->dma)
		dma_table_destroy(c->dma);
	c->dma = NULL;
	c->nmaps = 0;
	c->ninband = 0;
}

/*
 * The mapping a DMA request lies in, whole, with the access it needs, or
 * an errno for the error reply.
 */
static int dma_target(struct vu_conn *c, const struct vfu_dma_access *a, unsigned need,
		      const struct dma_region **out)
{
	const struct dma_region *r;

	if (a->count == 0 || a->count > VU_OUR_MAX_XFER)
		return -EINVAL; /* more than we said we accept */
	r = a->addr <= UINT64_MAX - (a->count - 1) ? dma_table_find(c->dma, a->addr) : NULL;
	if (!r || a->addr + (a->count - 1) > r->start + (r->len - 1) || (r->flags & need) != need) {
		LOG_WARN("vfio-user %s: server DMA %s of %llu bytes at 0x%llx outside the mappings: refused", c->name,
			 need == UPCI_DMA_READ ? "read" : "write", (unsigned long long)a->count,
			 (unsigned long long)a->addr);
		return -EFAULT;
	}
	*out = r;
	return 0;
}

static int reply(struct vfu_tran *t, const struct vfu_hdr *req, int err, const struct iovec *iov, size_t n)
{
	struct vfu_hdr rep;

	if (req->flags & VFU_HDR_F_NO_REPLY)
		return 0;
	vfu_hdr_reply(&rep, req, err);
	return vfu_tran_send(t, &rep, err ? NULL : iov, err ? 0 : n, NULL, 0);
}

/* DMA_READ: the data straight from memory, or through a remote region's rw. */
static int serve_read(struct vu_conn *c, struct vfu_tran *t, const struct vfu_hdr *h, struct vfu_dma_access *a)
{
	struct iovec iov[2] = {{.iov_base = a, .iov_len = sizeof(*a)}, {.iov_base = NULL, .iov_len = 0}};
	const struct dma_region *r = NULL;
	void *bounce = NULL;
	int err, rc;

	err = dma_target(c, a, UPCI_DMA_READ, &r);
	if (err == 0 && r->rw) {
		bounce = malloc((size_t)a->count);
		err = bounce ? r->rw(r->rw_opaque, a->addr - r->start, bounce, a->count, 0) : -ENOMEM;
		iov[1].iov_base = bounce;
	} else if (err == 0) {
		iov[1].iov_base = (uint8_t *)r->vaddr + (a->addr - r->start);
	}
	iov[1].iov_len = err ? 0 : (size_t)a->count;
	rc = reply(t, h, err, iov, 2);
	free(bounce);
	return rc;
}

static int serve_write(struct vu_conn *c, struct vfu_tran *t, const struct vfu_hdr *h, struct vfu_dma_access *a,
		       const uint8_t *data)
{
	struct iovec iov = {.iov_base = a, .iov_len = sizeof(*a)};
	const struct dma_region *r = NULL;
	int err;

	err = dma_target(c, a, UPCI_DMA_WRITE, &r);
	if (err == 0 && r->rw)
		err = r->rw(r->rw_opaque, a->addr - r->start, (void *)data, a->count, 1);
	else if (err == 0)
		memcpy((uint8_t *)r->vaddr + (a->addr - r->start), data, (size_t)a->count);
	return reply(t, h, err, &iov, 1);
}

int vu_dma_serve(struct vu_conn *c, struct vfu_tran *t, struct vfu_msg *m)
{
	const struct vfu_cmd_info *ci = vfu_cmd_info(m->hdr.cmd);
	struct vfu_dma_access a;
	int err;

	/* vfu_msg_check_request: sizes, and DMA_WRITE data length == count. */
	err = vfu_msg_check_request(&m->hdr, m->payload, m->len);
	if (err == 0 && (!ci || ci->dir != VFU_DIR_SERVER_TO_CLIENT))
		err = -EINVAL; /* a client-to-server command sent to the client */
	if (err) {
		LOG_WARN("vfio-user %s: refusing server request %s (%u bytes)", c->name, vfu_cmd_name(m->hdr.cmd),
			 m->hdr.msg_size);
		return reply(t, &m->hdr, err, NULL, 0);
	}
	memcpy(&a, m->payload, sizeof(a));
	pthread_mutex_lock(&c->dma_lock);
	if (m->hdr.cmd == VFU_CMD_DMA_READ)
		err = serve_read(c, t, &m->hdr, &a);
	else
		err = serve_write(c, t, &m->hdr, &a, m->payload + sizeof(a));
	pthread_mutex_unlock(&c->dma_lock);
	return err;
}

static int unmap_one(struct vu_conn *c, uint64_t iova, uint64_t len);

/*
 * DMA_MAP of @r (recorded first: the server may DMA as soon as it has it).
 * *@bus: where the server's device reaches it - the IOVA, unless the
 * server said otherwise (x-upci-dma-bus-addr, proto.h).
 */
static int map(struct vu_conn *c, const struct dma_region *r, int fd, uint64_t fd_off, uint64_t *bus)
{
	struct vfu_dma_map m = {
		.argsz = sizeof(m),
		.flags = ((r->flags & UPCI_DMA_READ) ? VFU_DMA_MAP_F_READ : 0) |
			 ((r->flags & UPCI_DMA_WRITE) ? VFU_DMA_MAP_F_WRITE : 0),
		.offset = 0,
		.addr = r->start,
		.size = r->len,
	};
	/* A server that takes no fds still gets the memory, in-band. */
	size_t nfds = fd >= 0 && c->peer.max_msg_fds > 0 ? 1 : 0;
	struct dma_region reg;
	struct vfu_dma_map_bus out = {.bus_addr = r->start};
	struct iovec req = {.iov_base = &m, .iov_len = sizeof(m)};
	struct iovec into = {.iov_base = &out, .iov_len = sizeof(out)};
	int rc;

	if ((r->start | r->len) & (c->min_pgsize - 1))
		return -EINVAL; /* below the server's page size */
	if (c->nmaps >= c->peer.max_dma_maps)
		return -ENOSPC;
	if (nfds)
		m.offset = fd_off;
	reg = *r;
	if (nfds == 0)
		reg.flags |= VU_MAP_INBAND;
	pthread_mutex_lock(&c->dma_lock);
	rc = dma_table_insert(c->dma, &reg);
	pthread_mutex_unlock(&c->dma_lock);
	if (rc)
		return rc;
	/* Without x-upci-dma-bus-addr the reply is empty: out keeps the IOVA. */
	rc = vu_call_into_fds(c, VFU_CMD_DMA_MAP, &req, 1, nfds ? &fd : NULL, nfds, &into,
			      c->peer.dma_bus_addr ? 1 : 0);
	if (rc == 0 && out.bus_addr > UINT64_MAX - (r->len - 1)) {
		LOG_ERR("vfio-user %s: DMA_MAP of IOVA 0x%llx: unusable bus address 0x%llx in the reply", c->name,
			(unsigned long long)r->start, (unsigned long long)out.bus_addr);
		rc = -EPROTO;
	}
	/* A reply we cannot use (wrong size, bad address) still means the
	 * server mapped it: undo that; the connection stays up. */
	if (rc == -EPROTO)
		(void)unmap_one(c, r->start, r->len);
	if (rc == 0)
		*bus = out.bus_addr;
	if (rc) {
		pthread_mutex_lock(&c->dma_lock);
		dma_table_remove(c->dma, r->start, NULL);
		pthread_mutex_unlock(&c->dma_lock);
		return rc;
	}
	c->nmaps++;
	if (nfds == 0)
		c->ninband++;
	return 0;
}

int vu_dma_map(struct upci_dev *dev, uint64_t iova, void *vaddr, uint64_t len, unsigned flags, int fd,
	       uint64_t fd_off, uint64_t *bus)
{
	struct dma_region r = {.start = iova, .len = len, .vaddr = vaddr, .flags = flags};
	return map(&vu_of(dev)->c, &r, fd, fd_off, bus);
}

/* Memory that is not in this process either (`upci serve vfio-user:...`
 * re-exporting a client's in-band memory): the server's DMA requests are
 * passed on through @rw. */
int vu_dma_map_remote(struct upci_dev *dev, uint64_t iova, uint64_t len, unsigned flags, upci_dma_rw_fn rw,
		      void *opaque, uint64_t *bus)
{
	struct dma_region r = {.start = iova, .len = len, .flags = flags, .rw = rw, .rw_opaque = opaque};
	return map(&vu_of(dev)->c, &r, -1, 0, bus);
}

/* DMA_UNMAP of one mapping, checking the echo. */
static int unmap_one(struct vu_conn *c, uint64_t iova, uint64_t len)
{
	struct vfu_dma_unmap u = {.argsz = sizeof(u), .flags = 0, .addr = iova, .size = len}, echo;
	struct iovec iov = {.iov_base = &u, .iov_len = sizeof(u)};
	struct iovec into = {.iov_base = &echo, .iov_len = sizeof(echo)};
	int rc;

	rc = vu_call_into(c, VFU_CMD_DMA_UNMAP, &iov, 1, &into, 1);
	if (rc == 0 && (echo.addr != iova || echo.size != len)) {
		LOG_ERR("vfio-user %s: DMA_UNMAP reply names 0x%llx+0x%llx, not what was unmapped", c->name,
			(unsigned long long)echo.addr, (unsigned long long)echo.size);
		rc = -EPROTO;
	}
	return rc;
}

int vu_dma_unmap(struct upci_dev *dev, uint64_t iova, uint64_t len, uint64_t bus)
{
	struct vu_conn *c = &vu_of(dev)->c;
	struct dma_region r;
	bool removed;
	int rc;

	(void)bus;
	rc = unmap_one(c, iova, len);
	/* Whatever the server said, the memory is no longer ours to lend. */
	pthread_mutex_lock(&c->dma_lock);
	removed = dma_table_remove(c->dma, iova, &r) == 0;
	pthread_mutex_unlock(&c->dma_lock);
	if (removed) {
		c->nmaps--;
		if (r.flags & VU_MAP_INBAND)
			c->ninband--;
	}
	return rc;
}

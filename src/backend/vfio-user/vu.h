/* SPDX-License-Identifier: MIT */
/*
 * The vfio-user client backend ("vfio-user:PATH"): the whole upci API over
 * QEMU's docs/interop/vfio-user.rst, against any server.
 *
 *   vu_conn.c    connect, VERSION, one request/reply with a deadline, and
 *                the server's DMA_READ/DMA_WRITE answered while we wait
 *   vu_svc.c     the service thread: server requests while no call waits
 *   vu_recv.c    a reply of known size received straight into place
 *   vu_poll.c    adaptive polling for replies before the client sleeps
 *   vu_access.c  config space and BAR access by REGION_READ/WRITE
 *   vu_region.c  GET_INFO, region infos (identity, BARs), BAR mmap
 *   vu_dma.c     DMA_MAP/UNMAP; in-band DMA served from memory or a callback
 *   vu_irq.c     IRQ info, one eventfd per vector, SET_IRQS chunked
 *   vu_backend.c the ops table
 *
 * The server is not trusted: every reply is checked (size, echoed fields,
 * region and IRQ indexes), fds nobody asked for are closed, a BAR fd is
 * checked before it is mapped, and no call waits longer than the reply
 * timeout, whatever the server sends meanwhile. Core serializes the calls
 * on one handle; two locks here share the socket (vu_conn.io) and the DMA
 * table (vu_conn.dma_lock) between a call and the service thread.
 */
#ifndef UPCI_BACKEND_VFIO_USER_VU_H
#define UPCI_BACKEND_VFIO_USER_VU_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "caps_json.h"
#include "device.h"
#include "tran.h"
#include "vu_poll.h"

/* Reply timeout: the most one call waits in all, whatever the server
 * sends meanwhile; overridable for slow machines with UPCI_VFU_TIMEOUT_MS. */
#define VU_TIMEOUT_MS_DEFAULT 5000
#define VU_TIMEOUT_ENV "UPCI_VFU_TIMEOUT_MS"
/* UPCI_VFU_POSTED_WRITES=1: BAR writes are sent with No_reply (see vu_access.c). */
#define VU_POSTED_ENV "UPCI_VFU_POSTED_WRITES"
/* What we can receive: fds per message and data per transfer. */
#define VU_OUR_MAX_MSG_FDS 8u
#define VU_OUR_MAX_XFER (1024u * 1024u)
/* PCI regions we use: the BARs and config space (ROM and VGA are not). */
#define VU_NUM_REGIONS (VFU_PCI_CONFIG_REGION_INDEX + 1)
/* Region info replies larger than this are refused (caps of a BAR). */
#define VU_REGION_INFO_MAX 65536u

struct dma_table;

struct vu_conn {
	/*
	 * @io is held by whoever uses the socket: a call from its request to
	 * its reply, or the service thread while it answers the server. It
	 * guards @t (and next_id, poll) and @dead/@lost_unseen. @dma_lock
	 * guards @dma and every access through it (taken inside @io, never
	 * the other way round). @t2 is the service thread's alone. The rest
	 * is the caller's (core serializes the calls).
	 */
	pthread_mutex_t io;
	pthread_mutex_t dma_lock;
	struct vfu_tran *t;     /* kept until close, also once @dead */
	struct vfu_tran *t2;    /* twin socket (the server's requests), or NULL */
	uint16_t next_id;
	int timeout_ms;
	int dead;               /* 0, or why the connection is gone (-errno) */
	bool lost_unseen;       /* the service thread lost it: the next call says why */
	atomic_uint calls;      /* calls begun: the service thread's sign of a busy caller */
	atomic_bool want_io;    /* a call waits for @io: the service thread lets go */
	int stop_fd;            /* eventfd that ends the service thread, or -1 */
	bool svc_on;
	pthread_t svc;
	bool inited;            /* between vu_conn_open and vu_conn_close */
	struct vfu_caps peer;   /* the server's capabilities */
	uint32_t xfer;          /* data per REGION/DMA message: min of both sides */
	uint64_t min_pgsize;    /* smallest page size the server maps */
	struct dma_table *dma;  /* what the server may reach in-band (IOVA-keyed) */
	unsigned nmaps;         /* live DMA_MAPs, bounded by peer.max_dma_maps */
	unsigned ninband;       /* of those, without an fd (served in-band) */
	bool posted;            /* BAR writes posted (VU_POSTED_ENV) */
	struct vu_poll poll;    /* the reply-polling window (VU_POLL_ENV) */
	const char *name;       /* for log lines: the socket path */
};

/* A BAR or config space as the server described it. */
struct vu_region {
	uint64_t size;
	uint32_t flags;          /* VFU_REGION_INFO_F_* */
	uint64_t mmap_off;       /* region_info.offset */
	int fd;                  /* passed with the info, or -1 */
	struct vfu_sparse_mmap_area *areas; /* mmap areas, or NULL */
	unsigned nareas;
	bool mappable;           /* the areas cover the whole region, the fd holds them */
	bool map_rdonly;         /* the fd can only be mapped read-only */
};

struct vu_dev {
	struct vu_conn c;
	uint32_t dev_flags;      /* VFU_DEVICE_F_* */
	uint32_t num_regions, num_irqs;
	struct vu_region reg[VU_NUM_REGIONS];
	unsigned irq_avail[VFU_PCI_MSIX_IRQ_INDEX + 1]; /* vectors by IRQ index */
	uint32_t irq_flags[VFU_PCI_MSIX_IRQ_INDEX + 1]; /* VFU_IRQ_INFO_F_* */
	int irq_index;           /* enabled IRQ index, or -1 */
	unsigned irq_nvec;
	int irq_fd[UPCI_MAX_VECTORS];
	int unmask_fd;           /* automasked INTx: the server re-arms on it, or -1 */
	char path[];
};

static inline struct vu_dev *vu_of(struct upci_dev *dev)
{
	return dev->priv;
}

/* ---- vu_conn.c ---- */

/* Connect to @path and negotiate. 0 or -errno (-ENOENT: no socket there). */
int vu_conn_open(struct vu_conn *c, const char *path);
void vu_conn_close(struct vu_conn *c);

/*
 * For the service thread, with @io held: answer every server request
 * that has arrived, until none is left or a call wants the socket.
 * Return: 0 when none is left; 1 when a call wants the socket; -errno
 * when the connection is lost (or was already).
 */
int vu_conn_serve_pending(struct vu_conn *c);

/*
 * For the service thread, without @io: answer every server request that
 * has arrived on the twin socket. Return: 0 when none is left; -errno
 * when the connection is lost.
 */
int vu_conn_serve_twin(struct vu_conn *c);

/*
 * One command and its reply. @iov/@fds: the request payload and the fds
 * to pass. The reply (checked against the request: type, id, command,
 * size table) is left in @rep for the caller to read and release.
 * Server requests arriving meanwhile are answered. A reply carrying more
 * than @max_fds fds has them all closed and fails.
 * Return: 0; the server's -errno for an error reply (-EIO for one that
 * would be misread: 0, out of range, or a code this backend gives its own
 * meaning, see server_errno); -EPROTO for a reply that breaks the
 * protocol; -ETIMEDOUT when the reply did not come within the timeout;
 * -ECONNRESET when the server went away; -ENODEV for every call after the
 * connection was lost (the first after a loss the service thread saw
 * returns its reason).
 */
int vu_call(struct vu_conn *c, uint16_t cmd, const struct iovec *iov, size_t iovcnt, const int *fds,
	    size_t nfds, size_t max_fds, struct vfu_msg *rep);

/* Send a request with No_reply and do not wait: nothing comes back, not
 * even an error. Return: 0 once sent; -ENODEV; a lost connection's error. */
int vu_post(struct vu_conn *c, uint16_t cmd, const struct iovec *iov, size_t iovcnt);

/* vu_call for a request whose success reply must have no payload and no fds. */
int vu_call_simple(struct vu_conn *c, uint16_t cmd, const void *req, size_t len, const int *fds, size_t nfds);

/*
 * vu_call for a reply of known size (REGION_READ/WRITE, DMA_UNMAP): the
 * success reply's payload must be exactly the @ninto buffers (<=
 * VU_INTO_MAX) and carry no fds; it is received straight into them. Same
 * returns as vu_call.
 */
#define VU_INTO_MAX 2u
int vu_call_into(struct vu_conn *c, uint16_t cmd, const struct iovec *iov, size_t iovcnt, const struct iovec *into,
		 size_t ninto);
/* vu_call_into with fds passed along with the request. */
int vu_call_into_fds(struct vu_conn *c, uint16_t cmd, const struct iovec *iov, size_t iovcnt, const int *fds,
		     size_t nfds, const struct iovec *into, size_t ninto);

/* ---- vu_recv.c ---- */

/*
 * The first message after request @req, in one recvmsg when it is the
 * expected success reply (payload = @into), waiting at most @timeout_ms.
 * Return: 1 when it was (the payload is in place); 0 with another whole
 * message in @m; -EINVAL when a whole message was dropped (bad flags or
 * fds; m->hdr kept); -EAGAIN when nothing came; another -errno when the
 * stream is lost.
 */
int vu_recv_into(struct vu_conn *c, const struct vfu_hdr *req, const struct iovec *into, size_t ninto,
		 struct vfu_msg *m, int timeout_ms);

/* ---- vu_svc.c ---- */

/* Start the service thread (0 or -errno: without a twin socket the
 * connection works without it, server requests then wait for the next
 * call); stop it. */
int vu_svc_start(struct vu_conn *c);
void vu_svc_stop(struct vu_conn *c);

/* ---- vu_dma.c ---- */

int vu_dma_init(struct vu_conn *c);
void vu_dma_fini(struct vu_conn *c);
/* Answer a DMA_READ/DMA_WRITE (or refuse any other command) from the
 * server, on @t (the socket it came on). Return: 0, or the transport's
 * error (the link is lost). */
int vu_dma_serve(struct vu_conn *c, struct vfu_tran *t, struct vfu_msg *m);
int vu_dma_map(struct upci_dev *dev, uint64_t iova, void *vaddr, uint64_t len, unsigned flags, int fd,
	       uint64_t fd_off, uint64_t *bus);
int vu_dma_map_remote(struct upci_dev *dev, uint64_t iova, uint64_t len, unsigned flags, upci_dma_rw_fn rw,
		      void *opaque, uint64_t *bus);
int vu_dma_unmap(struct upci_dev *dev, uint64_t iova, uint64_t len, uint64_t bus);

/* ---- vu_access.c ---- */

/* REGION_READ of [@off, @off+@len) in pieces of c->xfer. */
int vu_region_read(struct vu_conn *c, uint32_t region, uint64_t off, void *buf, size_t len);

/* ---- vu_region.c ---- */

/* GET_INFO and the region infos; fills dev->ident and dev->bars. */
int vu_region_probe(struct upci_dev *dev, struct vu_dev *v);
void vu_region_fini(struct vu_dev *v);
int vu_config_read(struct upci_dev *dev, uint32_t off, unsigned width, uint32_t *val);
int vu_config_write(struct upci_dev *dev, uint32_t off, unsigned width, uint32_t val);
int vu_config_read_block(struct upci_dev *dev, uint32_t off, void *buf, size_t len);
int vu_mmio_read(struct upci_dev *dev, unsigned bar, uint64_t off, unsigned width, uint64_t *val);
int vu_mmio_write(struct upci_dev *dev, unsigned bar, uint64_t off, unsigned width, uint64_t val);
int vu_bar_map(struct upci_dev *dev, unsigned bar, void **addr);
void vu_bar_unmap(struct upci_dev *dev, unsigned bar, void *addr);
int vu_bar_fd(struct upci_dev *dev, unsigned bar, int *fd, uint64_t *offset);

/* ---- vu_irq.c ---- */

/* GET_IRQ_INFO for INTx, MSI and MSI-X. */
int vu_irq_probe(struct vu_dev *v);
unsigned vu_irq_count(struct upci_dev *dev, enum upci_irq_type type);
int vu_irq_enable(struct upci_dev *dev, enum upci_irq_type type, unsigned nvec);
void vu_irq_disable(struct upci_dev *dev);
int vu_irq_set_eventfd(struct upci_dev *dev, unsigned vec, int fd);

#endif /* UPCI_BACKEND_VFIO_USER_VU_H */

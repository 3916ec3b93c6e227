/* SPDX-License-Identifier: MIT */
/*
 * Inside the vfio-user server: the structures shared by server.c (session,
 * VERSION, dispatch), srv_region.c, srv_dma.c and srv_irq.c. Not for use
 * outside src/vfio-user/srv_*.c and server.c.
 */
#ifndef UPCI_VFIO_USER_SRV_PRIV_H
#define UPCI_VFIO_USER_SRV_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "caps_json.h"
#include "server.h"

struct dma_table;

/* Mappings left for the rest of the process when the DMA map limit is
 * derived from vm.max_map_count (srv_dma_max_maps, srv_dma.c). */
#define VFU_SRV_MAP_MARGIN 4096u
#define SRV_MAX_VECTORS UPCI_MAX_VECTORS /* client-chosen start+i indexes efd[] up to irq_count */
/* SET_IRQS actions, as indexes into the per-vector fd tables. */
enum { SRV_ACT_TRIGGER = 0, SRV_ACT_MASK = 1, SRV_ACT_UNMASK = 2, SRV_NR_ACTS = 3 };

struct vfu_server {
	upci_dev *dev;
	struct vfu_server_opts opts;
	struct vfu_cfg_policy policy;
	struct upci_identity ident;
	struct upci_bar_info bars[UPCI_NUM_BARS];
	unsigned irq_count[VFU_PCI_NUM_IRQS]; /* per vfio-user IRQ index */
	bool can_reset;
	struct vfu_cfg_shadow shadow; /* emulated config bytes: outlive clients */
	struct vfu_session *sess;     /* the client being served, or NULL */
	uint32_t max_maps;            /* DMA map limit (srv_dma_init), 0 until the first client */
};

/*
 * One mmap of a client's file that DMA maps of that file share (srv_dma.c):
 * QEMU maps guest RAM, or with a vIOMMU pieces of it again and again, from
 * one memory-backend fd; mapping the file once makes such a DMA_MAP cost
 * no mmap and its DMA_UNMAP no munmap. Kept a short while once unused.
 */
struct srv_window {
	dev_t dev;
	ino_t ino;
	int prot;
	uint64_t len;      /* the file mapped from offset 0 */
	uint8_t *va;       /* NULL: a free slot */
	unsigned refs;     /* DMA maps inside it */
	int64_t idle_ms;   /* when refs fell to 0 */
};
#define SRV_WINDOWS 16
/* A whole file up to this size is one window; a larger one is mapped by
 * range, map by map. */
#define SRV_WINDOW_FILE_MAX (64ull << 30)
/* An unused window is unmapped after this long (within one more of it). */
#define SRV_WINDOW_IDLE_MS 100

/* A command received while waiting for a DMA reply, with its recv result. */
struct srv_queued {
	struct vfu_msg msg;
	int rc; /* 0 or -EINVAL (dropped by the transport, header kept) */
};

/* What a handler answers: up to 3 payload pieces and at most one fd. */
struct srv_reply {
	struct iovec iov[3];
	size_t niov;
	int fd; /* -1: none; owned by someone else (sent as a copy) */
};

struct vfu_session {
	struct vfu_server *srv;
	struct vfu_tran *tran;
	bool negotiated;
	struct vfu_caps peer;     /* the client's capabilities; what we accepted of
				   * write_multiple and dma_bus_addr (we offer
				   * exactly what was asked) */
	int dead;                 /* first fatal stream error, 0 while usable */
	pthread_t thread;         /* the thread handling messages */
	bool in_handler;
	const atomic_bool *stop;  /* set when the server is told to stop (srv_loop.c), or NULL:
				   * long batches end early */
	uint16_t next_id;         /* ids of our DMA_READ/WRITE commands */

	/* DMA: keyed by IOVA; owner = struct srv_map */
	struct dma_table *maps;
	uint32_t max_maps;        /* offered in VERSION: srv_dma_max_maps() */
	struct srv_window win[SRV_WINDOWS];
	unsigned n_idle;          /* windows with no map inside: srv_dma_sweep() */

	/* IRQs: eventfds per index, action and vector (-1: none) */
	int efd[VFU_PCI_NUM_IRQS][SRV_NR_ACTS][SRV_MAX_VECTORS];
	int irq_index;            /* index we enabled on the device, or -1 */
	bool irq_gone;            /* taking failed for good (device gone): not polled */
	unsigned n_efds;          /* fds in efd[] */
	/* efd and irq_index: the loop's watcher thread relays interrupts
	 * while the session thread handles SET_IRQS */
	pthread_mutex_t irq_lock;
	int kick_fd;              /* written when srv_irq_pollfd's answer changes; -1 */

	/* FIFO of commands received during a DMA wait */
	struct srv_queued queue[VFU_SRV_QUEUE_MAX];
	unsigned q_head, q_len;

	/* reply scratch: fixed replies, and REGION_READ data (grown once) */
	uint8_t small[256];
	uint8_t *buf;
	size_t buf_cap;
};

/* A range [start, end) of a region. */
struct srv_span {
	uint64_t start, end;
};
/* Trapped ranges of a mappable BAR: the MSI-X table and the PBA. */
#define SRV_MAX_HOLES 2

/*
 * The mmap areas of a @size-byte BAR (a multiple of the page size) that
 * avoid @holes (any order, may overlap, widened to whole pages). Fills at
 * most SRV_MAX_HOLES + 1 areas; returns how many.
 */
size_t srv_sparse_areas(uint64_t size, const struct srv_span *holes, size_t nholes,
			struct vfu_sparse_mmap_area *areas);

/* Per-command handlers: 0 with *r filled (nothing for an empty reply), or
 * a negative errno for an error reply. m's payload passed the size table. */
int srv_get_info(struct vfu_session *ss, struct vfu_msg *m, struct srv_reply *r);
int srv_region_info(struct vfu_session *ss, struct vfu_msg *m, struct srv_reply *r);
int srv_region_io_fds(struct vfu_session *ss, struct vfu_msg *m, struct srv_reply *r);
int srv_region_read(struct vfu_session *ss, struct vfu_msg *m, struct srv_reply *r);
int srv_region_write(struct vfu_session *ss, struct vfu_msg *m, struct srv_reply *r);
int srv_region_write_multi(struct vfu_session *ss, struct vfu_msg *m, struct srv_reply *r);
int srv_reset(struct vfu_session *ss, struct vfu_msg *m, struct srv_reply *r);
int srv_dma_map(struct vfu_session *ss, struct vfu_msg *m, struct srv_reply *r);
int srv_dma_unmap(struct vfu_session *ss, struct vfu_msg *m, struct srv_reply *r);
int srv_irq_info(struct vfu_session *ss, struct vfu_msg *m, struct srv_reply *r);
int srv_set_irqs(struct vfu_session *ss, struct vfu_msg *m, struct srv_reply *r);

/* Session parts set up and torn down by server.c. */
int srv_dma_init(struct vfu_session *ss);
void srv_dma_fini(struct vfu_session *ss);
/* The most DMA maps this session accepts: opts.max_dma_maps, lowered to
 * what the process can still mmap (vm.max_map_count). */
uint32_t srv_dma_max_maps(const struct vfu_session *ss);
/* Unmap windows unused for SRV_WINDOW_IDLE_MS (all of them with @all). */
void srv_dma_sweep(struct vfu_session *ss, bool all);
/* How long the session may wait for a message before sweeping: -1 when
 * no window is idle. */
int srv_dma_sweep_ms(const struct vfu_session *ss);
void srv_irq_init(struct vfu_session *ss);
void srv_irq_fini(struct vfu_session *ss);
/* The device's upci_irq_fd() while the client has interrupts set up, else
 * -1; when it is readable, srv_irq_relay() forwards what was taken.
 * *has_fds: whether the client gave eventfds that a write may go to. Both
 * may run on another thread than the one handling messages (they take
 * irq_lock); a change of the answer is signalled on kick_fd. */
int srv_irq_pollfd(struct vfu_session *ss, bool *has_fds);
void srv_irq_relay(struct vfu_session *ss);

/* server.c: queue a command received during a DMA wait (takes *m over). */
void srv_queue_push(struct vfu_session *ss, struct vfu_msg *m, int rc);
bool srv_queue_full(const struct vfu_session *ss);

/* Reply with a copy of @len (<= sizeof(ss->small)) bytes at @p; use
 * SRV_REPLY_FIXED, which checks the size when compiling. */
void srv_reply_fixed(struct vfu_session *ss, struct srv_reply *r, const void *p, size_t len);
#define SRV_REPLY_FIXED(ss, r, obj)                                                             \
	do {                                                                                    \
		_Static_assert(sizeof(obj) <= sizeof(((struct vfu_session *)0)->small), #obj); \
		srv_reply_fixed((ss), (r), &(obj), sizeof(obj));                                \
	} while (0)

/* A reply buffer of at least @len bytes (reused across messages). */
uint8_t *srv_scratch(struct vfu_session *ss, size_t len);

#endif /* UPCI_VFIO_USER_SRV_PRIV_H */

/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the vfio-user server tests: a server on a sim device
 * driven over the in-memory transport, a second memory transport that
 * parses what the server sent, message builders and resource counters.
 * Every helper fails the running cmocka test on an unexpected result.
 */
#ifndef UPCI_TEST_VFU_SRV_UTIL_H
#define UPCI_TEST_VFU_SRV_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msg.h"
#include "server.h"
#include "tran.h"

struct srv_fx {
	upci_dev *dev;
	struct vfu_server *s;
	struct vfu_tran *t;    /* the server's side (memory) */
	struct vfu_tran *peer; /* parses the server's output */
	struct vfu_session *ss;
	uint16_t id;           /* next message id */
};

/* Open and claim @uri, make a server (opts may be NULL) and a session. */
void fx_open(struct srv_fx *fx, const char *uri, const struct vfu_server_opts *opts);
void fx_close(struct srv_fx *fx);
/* Close the session and start a new one (a new client). */
void fx_reconnect(struct srv_fx *fx);

/* Queue raw bytes (one "sendmsg" of the client); fds are duplicated. */
void fx_feed(struct srv_fx *fx, const void *buf, size_t len, const int *fds, size_t nfds);
/* Queue one command: header + payload. */
void fx_feed_cmd(struct srv_fx *fx, uint16_t id, uint16_t cmd, uint32_t flags, const void *payload, size_t len,
		 const int *fds, size_t nfds);
/* Run the server for one message; returns vfu_session_step's result. */
int fx_step(struct srv_fx *fx);

/* Bytes the server sent and did not hand to fx_recv yet. */
size_t fx_pending_output(struct srv_fx *fx);
/* The next message the server sent (asserts there is one). */
void fx_recv(struct srv_fx *fx, struct vfu_msg *m);

/*
 * One command, run, and its reply checked (same id and command, type
 * reply). Returns 0 or -errno of an error reply; *rep gets the reply (may
 * be NULL: released).
 */
int fx_call(struct srv_fx *fx, uint16_t cmd, const void *payload, size_t len, const int *fds, size_t nfds,
	    struct vfu_msg *rep);

/* VERSION with @json (NULL: none). Returns as fx_call. */
int fx_version(struct srv_fx *fx, const char *json, struct vfu_msg *rep);
/* A VERSION that must succeed (write_multiple proposed). */
void fx_negotiate(struct srv_fx *fx);

int fx_region_read(struct srv_fx *fx, uint32_t region, uint64_t off, void *buf, uint32_t count);
int fx_region_write(struct srv_fx *fx, uint32_t region, uint64_t off, const void *buf, uint32_t count);
/* 4-byte little-endian register helpers on top of the two above. */
uint32_t fx_rd32(struct srv_fx *fx, uint32_t region, uint64_t off);
void fx_wr32(struct srv_fx *fx, uint32_t region, uint64_t off, uint32_t val);
void fx_wr64(struct srv_fx *fx, uint32_t region, uint64_t off, uint64_t val);

int fx_dma_map(struct srv_fx *fx, uint64_t iova, uint64_t size, uint64_t off, uint32_t flags, int fd);
int fx_dma_unmap(struct srv_fx *fx, uint64_t iova, uint64_t size, uint32_t flags);
int fx_set_irqs(struct srv_fx *fx, uint32_t flags, uint32_t index, uint32_t start, uint32_t count,
		const void *data, size_t dlen, const int *fds, size_t nfds);

/* A memfd of @size bytes. */
int test_memfd(size_t size);
/* A non-blocking eventfd. */
int test_eventfd(void);
/* The eventfd's counter (0 when not signalled); reading resets it. */
uint64_t eventfd_take(int fd);

int count_fds(void);
/* Mappings of memfds only: what a leaked DMA mapping adds. Other lines of
 * /proc/self/maps come and go with the allocator under load. */
int count_memfd_maps(void);
int count_maps(void);

#endif /* UPCI_TEST_VFU_SRV_UTIL_H */

/* SPDX-License-Identifier: MIT */
/*
 * vfio-user server: exports one upci device to one client at a time.
 *
 * Layers (libvfio-user's split):
 *   - struct vfu_server: bound to a claimed upci_dev and a config-write
 *     policy; holds what outlives a client (identity, the emulated config
 *     bytes).
 *   - struct vfu_session: one client on one struct vfu_tran (socket or
 *     memory). It owns the client's DMA mappings, its IRQ eventfds and the
 *     commands queued while the server waits for a DMA reply. Closing it
 *     drops all of them and keeps the device state, so the next client
 *     starts clean.
 *   - vfu_server_handle(): one received message in, at most one reply out.
 *     The same code runs over the socket and the in-memory transport.
 *   - srv_loop.c: accept loop for `upci serve`; a session blocks in its
 *     reads while a watcher thread polls for stop, newcomers, interrupts.
 *
 * Every input is hostile: a bad message gets an error reply carrying an
 * errno (none when the client set NO_REPLY, as the spec says) and the
 * session continues. Only a broken stream (peer gone, stalled mid-message,
 * framing lost) ends a session.
 *
 * Threading: a server and its session are driven by one thread, except
 * that srv_loop.c's watcher thread may relay interrupts (srv_irq_relay,
 * under the session's irq_lock) while that thread blocks in its reads.
 * The device may be used by other threads through the public API meanwhile.
 */
#ifndef UPCI_VFIO_USER_SERVER_H
#define UPCI_VFIO_USER_SERVER_H

#include <stdint.h>

#include "srv_policy.h"
#include "tran.h"
#include "upci/upci.h"

/* What we offer in VERSION (QEMU rejects max_msg_fds above 16). */
#define VFU_SRV_MAX_MSG_FDS 16u
#define VFU_SRV_MAX_DATA_XFER (1024u * 1024u)
#define VFU_SRV_MAX_DMA_MAPS 65535u
#define VFU_SRV_PGSIZE 4096u
/* How long a device DMA waits for the client's DMA_READ/WRITE reply. */
#define VFU_SRV_DMA_TIMEOUT_MS 5000
/* Commands held while waiting for such a reply; more fail that DMA. */
#define VFU_SRV_QUEUE_MAX 32u
/* User ids in an allow list. */
#define VFU_SRV_MAX_ALLOW_UIDS 16u

struct vfu_server_opts {
	const struct vfu_cfg_policy *policy; /* NULL: the dext policy for a dext: device, else forward all */
	uint32_t max_msg_fds;        /* 1..VFU_MSG_MAX_FDS */
	uint64_t max_data_xfer_size; /* 4096..VFU_CAPS_MAX_DATA_XFER_LIMIT */
	uint32_t max_dma_maps;       /* 1..VFU_CAPS_MAX_DMA_MAPS_LIMIT; each session
				      * lowers it to what the process can
				      * still mmap (vm.max_map_count) */
	int dma_timeout_ms;          /* > 0 */
	/* Clients on a socket whose user id (as the kernel saw it when they
	 * connected) is neither ours nor in allow_uids are answered EACCES
	 * and hung up on. 0 entries: whoever can open the socket. */
	unsigned n_allow_uids;       /* 0..VFU_SRV_MAX_ALLOW_UIDS */
	uid_t allow_uids[VFU_SRV_MAX_ALLOW_UIDS];
};

struct vfu_server;
struct vfu_session;

/* The defaults above. */
void vfu_server_opts_default(struct vfu_server_opts *o);

/*
 * A server for @dev, which the caller opened and keeps owning (close it
 * after vfu_server_free). The server claims @dev if this handle does not
 * hold the claim yet. @opts may be NULL for the defaults.
 * Return: 0; -EINVAL for bad options; -EPERM when another handle holds the
 * claim; -ENOMEM; an error reading the device's identity.
 */
int vfu_server_new(upci_dev *dev, const struct vfu_server_opts *opts, struct vfu_server **out);

/* Closes the active session (if any). NULL is a no-op. */
void vfu_server_free(struct vfu_server *s);

/*
 * Start serving a client on @t (the caller keeps owning @t and closes it
 * after vfu_session_close). Sets @t's receive limits to ours.
 * Return: 0; -EBUSY when the server already has a session; -ENOMEM.
 */
int vfu_session_open(struct vfu_server *s, struct vfu_tran *t, struct vfu_session **out);

/*
 * Drop everything the client set up: DMA mappings (upci_dma_unmap, then
 * munmap), IRQ eventfds (back to normal delivery, closed), interrupts
 * disabled, queued commands (their fds closed). Device state is kept.
 * NULL is a no-op.
 */
void vfu_session_close(struct vfu_session *sess);

/*
 * Handle one received message and send its reply. Takes @m over (it is
 * released on return, fds not taken by a handler closed).
 * Return: 0 when the session goes on (also after an error reply);
 * a negative errno when the connection is unusable (send failed, the
 * stream broke while waiting for a DMA reply).
 */
int vfu_server_handle(struct vfu_server *s, struct vfu_session *sess, struct vfu_msg *m);

/*
 * Process one message: a queued one first, else receive, waiting at most
 * @timeout_ms (-1: forever) for it.
 * Return: 0; -EAGAIN when nothing arrived; -ENOTCONN when the client left
 * between messages; another negative errno when the stream broke. After
 * any error but -EAGAIN the session is over: close it.
 */
int vfu_session_step(struct vfu_session *sess, int timeout_ms);

/* Commands waiting to be processed (received during a DMA wait). */
unsigned vfu_session_queued(const struct vfu_session *sess);

/* ---- loops (srv_loop.c) ---- */

/*
 * Serve one connected transport until the client leaves, the stream
 * breaks, or @stop_fd (-1: none) becomes readable (on a socket the stop
 * shuts the connection down: the client sees it closed).
 * Return: 0 when the client left or stop was requested; -EBUSY; -ENOMEM;
 * -EACCES for a peer the allow list refuses (nothing served); the
 * transport's error when the stream broke.
 */
int vfu_server_serve(struct vfu_server *s, struct vfu_tran *t, int stop_fd);

/*
 * Accept clients on @listen_fd one after another, each served with
 * vfu_server_serve over a socket transport, until @stop_fd becomes
 * readable. A client that breaks the stream does not stop the loop. One
 * the allow list refuses gets EACCES for its first command and is hung up
 * on, as a newcomer that finds the server busy gets EBUSY.
 * Return: 0 when stopped; a negative errno when accept fails for good.
 */
int vfu_server_run(struct vfu_server *s, int listen_fd, int stop_fd);

#endif /* UPCI_VFIO_USER_SERVER_H */

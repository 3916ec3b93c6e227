/* SPDX-License-Identifier: MIT */
/*
 * vfio-user transport: framing of whole messages (16-byte header, payload,
 * file descriptors) over a byte stream.
 *
 * One framing implementation (tran.c) runs over two byte sources:
 *   - tran_sock.c: a connected AF_UNIX SOCK_STREAM socket, fds as SCM_RIGHTS;
 *   - tran_mem.c:  in-memory chunks fed by a test or the fuzzer, replies
 *                  captured in a buffer.
 * so the fuzzer exercises the same framing code as the real server.
 *
 * Rules the framing enforces on every received message:
 *   - header checked before any payload byte is read: 16 <= msg_size <=
 *     max_msg_size, flags as the spec allows (vfu_hdr_check);
 *   - exactly msg_size bytes are consumed, never a byte of the next message:
 *     every read asks for at most the rest of the current header or
 *     payload, so nothing is buffered between calls (poll on the socket
 *     tells the whole truth, and whoever reads the socket directly between
 *     two vfu_tran_recv calls finds it at a message boundary). The one
 *     exception is read-ahead mode (vfu_tran_set_readahead), off by default;
 *   - an fd belongs to the message in whose bytes it arrives (the kernel
 *     attaches SCM_RIGHTS to the first byte of the sender's sendmsg); fds are
 *     received close-on-exec. This needs the rule above: Linux lets one
 *     stream recvmsg return bytes of several sendmsgs, stopping only AFTER
 *     the first one that carries fds, and does not say at which byte that
 *     one began. A read that crossed a message boundary could therefore
 *     not tell which message its fds belong to, so no read ever does
 *     (read-ahead mode relies on a rule about the sender instead, below);
 *   - more fds than max_recv_fds, or control data truncated by the kernel:
 *     the message is read to its end, every fd it carried is closed and the
 *     call fails with -EINVAL; the stream stays usable;
 *   - a message larger than max_msg_size is read to its end without being
 *     stored (its fds closed) and the call fails with -EMSGSIZE, header
 *     kept; the stream stays usable (unless the peer leaves or stalls while
 *     it is skipped), so the receiver can send an error reply and go on;
 *   - no fd is ever leaked: on every error path the fds collected so far
 *     are closed.
 *
 * Payloads of up to VFU_TRAN_RXBUF_SIZE bytes are received into a buffer
 * the transport reuses: the message borrows it until vfu_msg_release, and
 * a message received while an earlier one still holds it gets a buffer of
 * its own (malloc). So one recv costs no allocation in the common case and
 * two system calls (header, payload; one for a header-only message); a
 * caller that waits forever (@timeout_ms -1) blocks in the first of them
 * rather than in poll.
 *
 * Read-ahead mode (opt-in, vfu_tran_set_readahead) makes that one system
 * call for a small message, or none when it is already buffered: when no
 * complete header is buffered, one read takes whatever the source has (up
 * to VFU_TRAN_READAHEAD_SIZE bytes, possibly several messages) into a
 * buffer of the transport, and messages are parsed out of it. A message
 * not wholly buffered gets the buffered part and then exact reads of the
 * rest, as above, so nothing past its end is read then. Every rule above
 * still holds, except that bytes (and fds) may now wait in the transport
 * between calls:
 *   - whoever polls the socket for input must first check that
 *     vfu_tran_buffered() is 0 (else call vfu_tran_recv without polling),
 *     and whoever reads the socket directly (only then) gives back what
 *     it does not want with vfu_tran_unread;
 *   - fds: the fds one read returns are given to the message that holds the
 *     LAST byte of that read. On Linux a read that returns fds ends inside
 *     the sendmsg that carried them, so this is exact as long as every
 *     sendmsg of the peer that carries fds carries bytes of ONE message
 *     only (QEMU and our client: a message's fds go with its first
 *     sendmsg, which never reaches into the next message). A peer that
 *     packs the end of one message and a later one into one sendmsg with
 *     fds has them given to the later message.
 *
 * Threading: on a socket transport one thread may recv while another sends;
 * two concurrent sends (or recvs) on one transport are not allowed. A
 * received message may be released on any thread, also after
 * vfu_tran_close. The memory transport is single-threaded.
 */
#ifndef UPCI_VFIO_USER_TRAN_H
#define UPCI_VFIO_USER_TRAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "proto.h"

/* fds one received message can hold; max_recv_fds is capped to this. */
#define VFU_MSG_MAX_FDS 64u
/* Room for headers, JSON and caps beyond max_data_xfer_size of data. */
#define VFU_MSG_OVERHEAD 4096u
/* Default receive limit: a 1 MiB data transfer plus headers. */
#define VFU_TRAN_DEFAULT_MAX_MSG_SIZE (VFU_DEFAULT_MAX_DATA_XFER_SIZE + VFU_MSG_OVERHEAD)
/* Upper bound accepted by vfu_tran_set_limits. */
#define VFU_TRAN_MAX_MSG_SIZE_LIMIT ((1u << 30) + VFU_MSG_OVERHEAD)
/* Default wait for the rest of a started message, and for send. */
#define VFU_TRAN_DEFAULT_IO_TIMEOUT_MS 5000
/* Payload pieces vfu_tran_send accepts (the header is one more). */
#define VFU_TRAN_MAX_IOV 16u
/* Payloads up to this size are received into the transport's reusable buffer. */
#define VFU_TRAN_RXBUF_SIZE (64u * 1024u)
/* Read-ahead buffer: the most one read takes in read-ahead mode. */
#define VFU_TRAN_READAHEAD_SIZE (64u * 1024u)

/* The transport's reusable receive buffer (opaque, reference counted). */
struct vfu_rxbuf;

/*
 * A received message. Owns its payload and its fds: the payload is either
 * malloc'd (@loan NULL) or borrowed from the transport's receive buffer
 * (@loan set); either way vfu_msg_release gives it back, so never free(),
 * realloc() or keep @payload past the release. A message may be moved by
 * struct copy as long as only one copy is released (vfu_msg_init the
 * other): the loan moves with it.
 */
struct vfu_msg {
	struct vfu_hdr hdr;
	uint8_t *payload; /* hdr.msg_size - 16 bytes; NULL when empty */
	size_t len;       /* payload bytes */
	int fds[VFU_MSG_MAX_FDS]; /* -1 once taken */
	size_t nr_fds;
	struct vfu_rxbuf *loan; /* non-NULL: @payload is borrowed, not malloc'd */
};

/* Empty message: no payload, no fds. */
void vfu_msg_init(struct vfu_msg *m);
/* Free (or give back) the payload and close every fd not taken; leaves @m empty. */
void vfu_msg_release(struct vfu_msg *m);
/*
 * Take ownership of fd @i (the slot becomes -1).
 * Return: the fd; -ENOENT if @i >= nr_fds; -EBADF if already taken.
 */
int vfu_msg_take_fd(struct vfu_msg *m, size_t i);

/* ---- implementation interface (tran_sock.c, tran_mem.c) ---- */

/* Where a byte source puts fds: kept up to max, the rest closed. */
struct vfu_fd_sink {
	int *fds;
	size_t nr;
	size_t max;
	bool rejected; /* too many fds, or the kernel truncated control data */
};
void vfu_fd_sink_put(struct vfu_fd_sink *s, int fd);

struct vfu_tran;
/* Read-ahead state (tran.c); NULL while read-ahead is off. */
struct vfu_readahead;

struct vfu_tran_ops {
	const char *name;
	/*
	 * Read-ahead may be turned on: a read that returns fds always ends
	 * inside the sender's write that carried them (its last byte is one of
	 * that write's bytes), whatever @len. Linux stream sockets do this;
	 * BSD/macOS ones attach control data differently, so not there.
	 */
	bool readahead_ok;
	/*
	 * Read 1..@len bytes, waiting at most @timeout_ms (-1: forever) for the
	 * first; with 0, never wait. fds that arrive with them go to @sink.
	 * Never returns more than @len bytes, never keeps bytes for later.
	 * Return: bytes read; 0 at end of stream; -EAGAIN on timeout; -errno.
	 */
	ssize_t (*read)(struct vfu_tran *t, void *buf, size_t len,
			struct vfu_fd_sink *sink, int timeout_ms);
	/*
	 * Write all of @iov with @fds attached to its first byte, waiting at
	 * most @timeout_ms whenever the peer does not drain.
	 * Return: 0; -ETIMEDOUT; -EPIPE / -ECONNRESET when the peer is gone; -errno.
	 */
	int (*write)(struct vfu_tran *t, const struct iovec *iov, size_t iovcnt,
		     const int *fds, size_t nr_fds, int timeout_ms);
	/* The fd to poll for input, or -ENOTSUP. Optional. */
	int (*pollfd)(struct vfu_tran *t);
	/* Free everything, close fds. */
	void (*destroy)(struct vfu_tran *t);
};

struct vfu_tran {
	const struct vfu_tran_ops *ops;
	size_t max_msg_size; /* receive limit, whole message */
	size_t max_recv_fds; /* fds accepted per message: our max_msg_fds */
	size_t max_send_fds; /* the peer's max_msg_fds */
	int io_timeout_ms;   /* inside a message, and for send; -1: forever */
	int64_t deadline_ms; /* no wait past this (vfu_tran_now_ms); 0: none */
	int recv_err;        /* first fatal receive error (stream lost sync) */
	int send_err;        /* first fatal send error */
	struct vfu_rxbuf *rxbuf; /* reusable payload buffer; NULL until needed */
	struct vfu_readahead *ra; /* read-ahead buffer and fds; NULL: off */
	bool kernel_waits;   /* vfu_tran_set_kernel_waits */
};

/* Set defaults (1 MiB + overhead, 1 fd each way, 5 s). For implementations. */
void vfu_tran_init(struct vfu_tran *t, const struct vfu_tran_ops *ops);
/* Drop what the framing holds (the receive buffer; a message still
 * borrowing it keeps it alive). For implementations: call from destroy. */
void vfu_tran_fini(struct vfu_tran *t);

/* ---- API ---- */

/*
 * Receive limits (ours) and the send fd limit (the peer's max_msg_fds,
 * known after VERSION). @max_recv_fds is at most VFU_MSG_MAX_FDS.
 * Return: 0; -EINVAL for a message size < 16 or above
 * VFU_TRAN_MAX_MSG_SIZE_LIMIT, or too many fds.
 */
int vfu_tran_set_limits(struct vfu_tran *t, size_t max_msg_size,
			size_t max_recv_fds, size_t max_send_fds);

/* Wait bound inside a message and for send; -1 waits forever. */
void vfu_tran_set_io_timeout(struct vfu_tran *t, int timeout_ms);

/*
 * One bound for everything that follows, on top of the timeouts: no wait
 * of a receive or send goes past @deadline_ms (vfu_tran_now_ms), so a
 * peer trickling bytes cannot stretch a message beyond it. Once it has
 * passed, what is already there is still taken; a message cut short by
 * it is -ETIMEDOUT (the stream is lost), a first byte that did not come
 * -EAGAIN. 0 removes the bound. For a caller with one deadline per
 * request (the client).
 */
void vfu_tran_set_deadline(struct vfu_tran *t, int64_t deadline_ms);

/*
 * CLOCK_MONOTONIC in milliseconds, plus what vfu_tran_clock_skip added:
 * the clock of vfu_tran_set_deadline and of every timeout of the server
 * (DMA replies, newcomers, the watcher's look at eventfd writes).
 */
int64_t vfu_tran_now_ms(void);

/*
 * Move vfu_tran_now_ms forward by @ms (> 0) for the whole process: time
 * that passes without waiting for it. For tests and fuzzers only (the
 * memory transport's pauses, vfu_tran_mem_feed_pause); nothing else calls
 * it, so elsewhere the clock is CLOCK_MONOTONIC. A wait already under way
 * in poll() is not shortened: it sees the new time when it wakes.
 */
void vfu_tran_clock_skip(int64_t ms);

/*
 * Turn read-ahead mode on or off (see the top of this file; off by
 * default). Call it on the receiving thread, between receives. Turning it
 * on again, or off while it is off, does nothing.
 * Return: 0; -ENOTSUP (only when turning on) where the byte source cannot
 * say which message fds belong to (readahead_ok); -EBUSY when turning off
 * while bytes are buffered (receive them first); -ENOMEM.
 */
int vfu_tran_set_readahead(struct vfu_tran *t, bool on);

/*
 * Where a bounded read waits (off by default): off, in poll() with a
 * deadline (a read that finds nothing costs recvmsg, poll and recvmsg);
 * on, in recvmsg itself under a receive timeout the byte source keeps
 * between reads (SO_RCVTIMEO on a socket, set again only when the timeout
 * asked changes, cleared once a read that may wait forever sees it fire):
 * one system call per message for a receiver that asks the same timeout
 * each time, as the server does while a DMA window waits to be swept.
 * For the only reader of the source; a source without such a timeout
 * ignores it.
 */
void vfu_tran_set_kernel_waits(struct vfu_tran *t, bool on);

/*
 * Bytes received from the byte source but not yet returned as messages
 * (always 0 with read-ahead off). Before polling the socket for input,
 * check that this is 0: buffered bytes do not make the socket readable.
 */
size_t vfu_tran_buffered(const struct vfu_tran *t);

/*
 * Give back bytes someone else read from the source, with the fds that
 * came with them (@fds: emptied, what it held is the transport's now), so
 * that vfu_tran_recv parses them first, then reads on. For a receiver
 * that reads the socket itself for the reply it expects (the client's
 * fast path) and got something else. Read-ahead must be on and nothing
 * buffered; the bytes are @len bytes gathered from @iov. The fds go with
 * the read-ahead rule: to the message that holds the last byte.
 * Return: 0; -EINVAL (read-ahead off, @len 0 or more than
 * VFU_TRAN_READAHEAD_SIZE; fds untouched); -EBUSY (bytes buffered).
 */
int vfu_tran_unread(struct vfu_tran *t, const struct iovec *iov, size_t iovcnt, size_t len,
		    struct vfu_fd_sink *fds);

/*
 * Send one message: @hdr, then @iovcnt payload pieces, with @fds attached.
 * msg_size is computed here (the caller's value is ignored).
 * Return: 0; -EINVAL for a bad header, more than VFU_TRAN_MAX_IOV pieces,
 * a message over 4 GiB or more fds than max_send_fds; -EBADF for a
 * negative fd; -ETIMEDOUT, -EPIPE, -ECONNRESET: the connection is
 * unusable (every later send returns -EPIPE).
 */
int vfu_tran_send(struct vfu_tran *t, const struct vfu_hdr *hdr,
		  const struct iovec *iov, size_t iovcnt,
		  const int *fds, size_t nr_fds);

/* vfu_tran_send with one payload buffer (may be NULL when @len is 0). */
int vfu_tran_send_buf(struct vfu_tran *t, const struct vfu_hdr *hdr,
		      const void *payload, size_t len, const int *fds, size_t nr_fds);

/*
 * Reply to @req: success (@err 0) with @payload and @fds, or an error
 * reply (header only; @payload and @fds ignored). Sends even when @req has
 * NO_REPLY: whether to reply is the caller's decision.
 */
int vfu_tran_reply(struct vfu_tran *t, const struct vfu_hdr *req, int err,
		   const void *payload, size_t len, const int *fds, size_t nr_fds);

/*
 * Receive one message into @msg (initialised here; release it with
 * vfu_msg_release, whatever the result). @timeout_ms bounds the wait for
 * the first byte (-1: forever; 0: only what is already there); later bytes
 * wait at most io_timeout_ms each (in read-ahead mode, also the rest of a
 * message whose first bytes are already buffered).
 * Return:
 *   0          @msg holds a message with a valid header (vfu_hdr_check).
 *   -EAGAIN    nothing arrived within @timeout_ms; nothing consumed.
 *   -EINVAL    a whole message was consumed and dropped: bad flags, too
 *              many fds or truncated control data. Its fds are closed,
 *              msg->hdr holds its header (for an error reply), no payload.
 *              The stream is still in sync.
 *   -EMSGSIZE  msg_size > max_msg_size. msg->hdr holds the header (for an
 *              error reply), no payload, no fds. The payload was read and
 *              discarded (in pieces, each waiting at most io_timeout_ms;
 *              fds that came with it closed), so the stream is still in
 *              sync - unless the peer went away, stalled or failed while
 *              it was skipped: then the stream is unusable as below, and
 *              vfu_tran_recv_error() says so (and why).
 *   -EPROTO    msg_size < 16: the stream cannot be resynchronised.
 *              msg->hdr holds the header (for an error reply), no payload,
 *              no fds.
 *   -ENOTCONN  the peer closed the connection between messages.
 *   -ECONNRESET the peer went away in the middle of a message.
 *   -ETIMEDOUT the peer stalled in the middle of a message.
 *   -ENOMEM, other -errno from the byte source.
 * Except for -EINVAL, -EMSGSIZE and -EPROTO, msg->hdr is zero on error.
 * Every error but -EAGAIN, -EINVAL and (see above) -EMSGSIZE leaves the
 * stream unusable: later calls return -EPIPE.
 */
int vfu_tran_recv(struct vfu_tran *t, struct vfu_msg *msg, int timeout_ms);

/*
 * 0 while the receive side is in sync; else the error that broke it (the
 * first fatal vfu_tran_recv error), after which vfu_tran_recv returns -EPIPE.
 */
int vfu_tran_recv_error(const struct vfu_tran *t);

/* The fd to poll for input (socket transports), or -ENOTSUP. */
int vfu_tran_pollfd(struct vfu_tran *t);

/* Free the transport and close its socket. NULL is a no-op. */
void vfu_tran_close(struct vfu_tran *t);

/* ---- socket transport (tran_sock.c) ---- */

/* Hand every SCM_RIGHTS fd a recvmsg returned in @mh to @sink (which
 * keeps or closes each, close-on-exec); truncated control data marks the
 * sink rejected. For whoever reads the socket itself. */
struct msghdr;
void vfu_sock_collect_fds(struct msghdr *mh, struct vfu_fd_sink *sink);

/*
 * Wrap a connected AF_UNIX stream socket. On success the transport owns
 * @fd; on failure the caller still does.
 * Return: 0; -EBADF; -ENOMEM.
 */
int vfu_tran_sock_new(int fd, struct vfu_tran **out);

/* The identity of a socket file we created: it is removed only while it
 * is still ours (vfu_sock_unlink_file). */
struct vfu_sock_file {
	dev_t dev;
	ino_t ino;
};

/*
 * A listening socket at @path that nobody can connect to before it
 * accepts connections, and only as @mode allows. It is bound under a
 * temporary name in the same directory (".upci-XXXXXX"), given the
 * permission bits @mode (0..0777; the umask plays no part) and the group
 * @gid ((gid_t)-1: left as created), made to listen, and only then linked
 * to @path, so @path appears ready. An existing file at @path is never
 * replaced: the caller decides whether a stale socket may go. When the
 * temporary name does not fit in sun_path, @path itself is bound (it then
 * exists, refusing connections, until listen). Whoever may write to the
 * directory can still replace the file: use a directory only the server's
 * user may write (or a sticky one such as /tmp). @id (may be NULL) gets
 * the file's identity.
 * Return: 0; -EADDRINUSE when @path exists; -ENAMETOOLONG; -EINVAL for a
 * bad @mode; -EPERM for a group the process may not give; -errno.
 */
int vfu_sock_listen_file(const char *path, int backlog, unsigned mode, gid_t gid, int *out_fd,
			 struct vfu_sock_file *id);
/* vfu_sock_listen_file() with mode 0600 (the user alone), no group, no id. */
int vfu_sock_listen(const char *path, int backlog, int *out_fd);
/*
 * Remove @path if it is still the socket file @id. Something else there
 * now (a file someone put in its place) is left alone.
 * Return: 0 when removed; -ESTALE when @path is not @id; -ENOENT; -errno.
 */
int vfu_sock_unlink_file(const char *path, const struct vfu_sock_file *id);
/* The user id of the process at the other end of connected socket @fd
 * (SO_PEERCRED, getpeereid elsewhere): as it was when it connected.
 * Return: 0; -errno. */
int vfu_sock_peer_uid(int fd, uid_t *uid);
/* Accept one connection, waiting at most @timeout_ms. Return: 0; -EAGAIN; -errno. */
int vfu_sock_accept(int listen_fd, int timeout_ms, int *out_fd);
/* Connect to @path. Return: 0; -ENAMETOOLONG; -errno. */
int vfu_sock_connect(const char *path, int *out_fd);
/* A connected pair, both close-on-exec. Return: 0; -errno. */
int vfu_sock_pair(int fds[2]);

/* ---- memory transport (tran_mem.c), for unit tests and fuzzing ---- */

/* Return: 0; -ENOMEM. */
int vfu_tran_mem_new(struct vfu_tran **out);
/*
 * Queue @len bytes as one "sendmsg" of the peer, with @fds attached to its
 * first byte (delivered with the message that byte belongs to; a read
 * glues chunks but ends with one whose fds it delivered, as on Linux). The
 * transport owns @fds from now on, even on failure. When the queue runs
 * dry, recv sees end of stream.
 * Return: 0; -EINVAL for fds on an empty chunk or @t not a memory
 * transport; -ENOMEM.
 */
int vfu_tran_mem_feed(struct vfu_tran *t, const void *buf, size_t len,
		      const int *fds, size_t nr_fds);
/*
 * Queue a pause of the peer after what was fed so far: once the server
 * has taken every byte before it, @act (may be NULL) runs with @arg (the
 * peer does something: shrinks a file, fills an eventfd), then the peer
 * is silent for @ms of virtual time: a read allowed to wait that long
 * moves the clock on by @ms (vfu_tran_clock_skip) and goes on; a read
 * allowed to wait less moves it by what it may wait and returns -EAGAIN
 * (the rest of the pause stays for the next read). Nothing sleeps.
 * Return: 0; -EINVAL if @t is not a memory transport; -ENOMEM.
 */
int vfu_tran_mem_feed_pause(struct vfu_tran *t, unsigned ms, void (*act)(void *arg), void *arg);
/* What was sent so far (bytes and number of fds, still owned by @t). */
void vfu_tran_mem_sent(struct vfu_tran *t, const uint8_t **buf, size_t *len, size_t *nr_fds);
/*
 * Hand over the sent bytes and fds (duplicates of what the sender passed,
 * close-on-exec) and start a fresh capture. The caller frees *buf and
 * *fds and closes each fd. Any output pointer may be NULL to discard.
 * Return: 0; -EINVAL if @t is not a memory transport.
 */
int vfu_tran_mem_take_sent(struct vfu_tran *t, uint8_t **buf, size_t *len,
			   int **fds, size_t *nr_fds);
/* Make every later write fail with @err (negative errno); 0 to stop. */
void vfu_tran_mem_fail_writes(struct vfu_tran *t, int err);

#endif /* UPCI_VFIO_USER_TRAN_H */

/* SPDX-License-Identifier: MIT */
/*
 * What a hostile vfio-user client does besides sending bytes, for the
 * server fuzzers (fuzz_server.c over the memory transport, fuzz_sock.c
 * over a socket): the fds it passes, chosen from a menu of kinds, and what
 * it does to them afterwards (shrinks a mapped file before or while the
 * device copies, fills an eventfd, makes it blocking, replaces an fd the
 * server holds by another kind of file).
 *
 * Both fuzzers read the same input format:
 *
 *   byte 0   bit 0: device (sim:edu, else sim:testdev); bit 1: read-ahead
 *            (memory transport; the socket server always reads ahead);
 *            bit 2: the socket client drains the replies as they come (else
 *            only at the end); the rest: reserved
 *   records, each:
 *     u8 op, u16 len (little-endian), then:
 *     op 0x00..0x7f  a chunk: one sendmsg of len bytes. bits 0-3: how many
 *                    fds go with it (15 means 20: more than the server
 *                    takes), their kinds (enum hostile_kind, modulo) are the
 *                    first bytes of the chunk, the rest are its bytes (no
 *                    bytes: nothing is sent). bits 4-6: the connection
 *                    (0 the client; 1-6 newcomers, socket only)
 *     op 0x80..0xbf  a pause: the client is silent for len ms (virtual
 *                    time, nobody sleeps); no bytes follow
 *     op 0xc0..0xff  actions: len bytes, 4 per action (hostile_act)
 *   bytes that do not make a whole record are one last chunk.
 */
#ifndef UPCI_FUZZ_HOSTILE_H
#define UPCI_FUZZ_HOSTILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IN_EDU 0x1u
#define IN_READAHEAD 0x2u
#define IN_DRAIN 0x4u

#define OP_CONTROL 0x80u
#define OP_ACTIONS 0x40u /* with OP_CONTROL; else a pause */
#define OP_NFDS 0x0fu
#define OP_CONN_SHIFT 4
#define OP_CONN_MASK 0x7u
#define NFDS_MANY 20u /* what OP_NFDS 15 stands for */
#define MAX_CHUNK_FDS NFDS_MANY

/* The fds on the menu: one object of each kind per input, made when first
 * asked for; what the server gets is a duplicate (or a reopening). */
/* Where the seeds map client memory: the memfds hold testdev descriptors
 * for this address (hostile.c). */
#define HOSTILE_IOVA 0x10000u

enum hostile_kind {
	HK_MEM64K,      /* memfd, 64 KiB (each memfd starts with descriptors) */
	HK_MEM4K,       /* memfd, 4 KiB */
	HK_MEM2M,       /* memfd, 2 MiB */
	HK_MEM_SEALED,  /* memfd, 64 KiB, sealed against resizing */
	HK_MEM_RDONLY,  /* a 64 KiB memfd reopened read-only */
	HK_MEM_PATH,    /* O_PATH of a 64 KiB memfd: fstat works, mmap does not */
	HK_EVENT,       /* eventfd, non-blocking */
	HK_EVENT_BLOCK, /* eventfd, blocking */
	HK_EVENT_FULL,  /* eventfd, blocking, its counter at the maximum */
	HK_PIPE_W,      /* pipe, write end, blocking, full */
	HK_PIPE_R,      /* pipe, read end */
	HK_DIR,         /* a directory */
	HK_SOCK,        /* AF_UNIX stream socket, blocking, its peer full */
	HK_DISK,        /* a 64 KiB regular file on a disk file system */
	HK_PROC,        /* a regular file on procfs */
	HK_DEVZERO,     /* a character device */
	HK_NR
};

/*
 * Start an input: the fds given to the server are numbered from
 * @fed_base on (see hostile_peer_fd), or anywhere when @fed_base is 0.
 */
void hostile_begin(int fed_base);
/* End it: close every object, disarm the DMA hook. */
void hostile_end(void);

/*
 * A new fd of @kind for the server (it owns it). With a fed base, at that
 * number or above, so that hostile_act can find it again. -1 when the
 * menu's object cannot be made here (or too many were given).
 */
int hostile_peer_fd(unsigned kind);

/*
 * Run one action (4 bytes: what, then 3 arguments):
 *   0 truncate a memory object to one of 8 sizes (0, a page, inside, all)
 *   1 the same, but later: during the device's Nth guarded copy from now
 *   2 fill an eventfd object's counter to the maximum
 *   3 read an eventfd object (counter back to 0)
 *   4 toggle O_NONBLOCK on an object (shared with the server's copy)
 *   5 fill a pipe or socket object
 *   6 put an object of another kind at the number of an fd the server was
 *     given and still holds (a fed base is needed)
 *   7 give a memory object its size back (its pages are new zeros)
 *  12 (run by the fuzzers themselves) resize every fd the server has
 *     handed out so far (BAR memfds) to 0 or 1 TiB (hostile_resize_size)
 * Other values do nothing here (the socket fuzzer's own actions).
 */
void hostile_act(const uint8_t a[4]);

#define HOSTILE_ACT_RESIZE_SERVER_FDS 12
/* Action 12's size from its second argument: 0, or 1 TiB. */
static inline long long hostile_resize_size(uint8_t arg)
{
	return arg & 1 ? 1ll << 40 : 0;
}

/* Try to resize @fd, a file the server handed out, to @size: those are
 * sealed against it (SHRINK|GROW), so a size that changes aborts. */
void hostile_resize_sealed(int fd, long long size);

/* Chunk decoding shared by the two fuzzers. */
struct hostile_rec {
	uint8_t op;
	const uint8_t *p; /* bytes (for a chunk: after the fd kinds) */
	size_t len;
	unsigned nfds;
	const uint8_t *kinds; /* nfds kinds */
	unsigned ms;          /* a pause */
};

/*
 * The next record at *@p (@left bytes), moving on. Return: false at the
 * end of input.
 */
bool hostile_next(const uint8_t **p, size_t *left, struct hostile_rec *r);

/* The process's own fds are below this (the fuzzers check it). */
#define HOSTILE_LOW_FDS 128
/* Open fds below @limit (at most HOSTILE_LOW_FDS; one poll() call: a
 * cheap leak check). */
int hostile_count_fds(int limit);
/* How many of the fds given to the server since hostile_begin (with a
 * fed base) are still open. */
int hostile_fed_open(void);

/* ---- the servers ---- */

struct vfu_server_opts;
/*
 * The options of the fuzzers' server @i (0: testdev, 1: edu): the real
 * timeouts (time is virtual); the edu server with the smallest limits
 * (4 KiB transfers, so in-band DMA goes in chunks and messages are often
 * oversized; 8 DMA maps), the testdev one with an allow list (the peer's
 * user id is looked up; ours is always let in).
 */
void hostile_server_opts(int i, struct vfu_server_opts *o);

/* ---- what the server must hold to, checked after an input ---- */

struct upci_dev;
/*
 * After the session on @dev ended: nothing of the client is left in the
 * device (no DMA mapping, interrupts off, no BAR mapping held), as
 * docs/vfio-user.md promises. Aborts with a message naming @who otherwise.
 */
void hostile_check_dropped(struct upci_dev *dev, const char *who);

#endif /* UPCI_FUZZ_HOSTILE_H */

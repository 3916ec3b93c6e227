/* SPDX-License-Identifier: MIT */
/*
 * vfio-user message helpers that know the protocol but not the transport:
 * the per-command size table, header checks, reply headers, command names.
 * Everything here is pure (no I/O, no allocation) so the server, the client
 * and the fuzzer share one set of checks.
 */
#ifndef UPCI_VFIO_USER_MSG_H
#define UPCI_VFIO_USER_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/* A payload bound meaning "no fixed maximum" (the message size limit applies). */
#define VFU_SIZE_VARIABLE SIZE_MAX

enum vfu_dir {
	VFU_DIR_CLIENT_TO_SERVER = 1,
	VFU_DIR_SERVER_TO_CLIENT = 2,
};

struct vfu_cmd_info {
	const char *name;   /* "DMA_MAP", ... for logs */
	enum vfu_dir dir;   /* who sends the command */
	size_t req_min;     /* payload bytes of the command */
	size_t req_max;     /* or VFU_SIZE_VARIABLE */
	size_t rep_min;     /* payload bytes of a success reply */
	size_t rep_max;     /* or VFU_SIZE_VARIABLE */
};

/* The table entry for @cmd, or NULL for a command the spec does not define. */
const struct vfu_cmd_info *vfu_cmd_info(uint16_t cmd);

/* "VERSION", "DMA_MAP", ...; "UNKNOWN" for anything else. Never NULL. */
const char *vfu_cmd_name(uint16_t cmd);

/*
 * Check a header as it arrives, before its payload is read.
 * Return: 0; -EPROTO if msg_size < 16; -EMSGSIZE if msg_size > @max_msg_size;
 * -EINVAL for flags the spec does not allow (type other than command/reply,
 * unknown bits, ERROR on a command, NO_REPLY on a reply).
 */
int vfu_hdr_check(const struct vfu_hdr *h, size_t max_msg_size);

/*
 * Fill a command header. @flags is 0 or VFU_HDR_F_NO_REPLY. msg_size is set
 * to the bare header; the transport writes the real size when it sends.
 */
void vfu_hdr_request(struct vfu_hdr *h, uint16_t msg_id, uint16_t cmd, uint32_t flags);

/*
 * Fill the reply header for @req: same msg_id and command, type reply.
 * @err is 0 for success or an errno (negative or positive); a non-zero
 * @err sets the ERROR flag and the error field. An error reply carries no
 * payload (spec: "the reply message must only include the reply header").
 */
void vfu_hdr_reply(struct vfu_hdr *rep, const struct vfu_hdr *req, int err);

/*
 * Check @len payload bytes against the table for @cmd (command or success
 * reply). Return: 0; -ENOSYS for an unknown command; -EINVAL when the
 * size is outside the command's bounds.
 */
int vfu_msg_check_size(uint16_t cmd, bool reply, size_t len);

/*
 * Check a received command before a handler looks at it: known command,
 * command type, payload size per the table, and the parts of the variable
 * payload that the fixed part describes (REGION_WRITE / DMA_WRITE data
 * length equals count, WRITE_MULTI entries, VERSION string terminated
 * inside the message, SET_IRQS bool array present, MIG_DATA_WRITE size).
 * Return: 0; -ENOSYS for an unknown command; -EINVAL otherwise.
 */
int vfu_msg_check_request(const struct vfu_hdr *h, const void *payload, size_t len);

/*
 * Check a received reply against the request it answers (@req): type
 * reply, same msg_id and command. An error reply returns the peer's errno
 * as a negative value (-EIO when the peer sent 0 or a value out of errno
 * range). A success reply is size-checked against the table, and the
 * data length of REGION_READ / DMA_READ / MIG_DATA_READ replies must equal
 * their count (the VERSION string must end inside the message).
 * Return: 0; -EBADMSG when it does not answer @req or is not a reply;
 * -EINVAL for a bad size; the peer's -errno for an error reply.
 */
int vfu_msg_check_reply(const struct vfu_hdr *rep, const struct vfu_hdr *req,
			const void *payload, size_t len);

#endif /* UPCI_VFIO_USER_MSG_H */

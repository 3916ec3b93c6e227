/* SPDX-License-Identifier: MIT */
/*
 * vfio-user message checks: one table of payload bounds per command, and
 * the consistency checks that only need the fixed part of a payload.
 * Payloads are read with memcpy: they come from a byte buffer with no
 * alignment promise.
 */
#include <errno.h>
#include <string.h>

#include "msg.h"

#define VAR VFU_SIZE_VARIABLE
#define C2S VFU_DIR_CLIENT_TO_SERVER
#define S2C VFU_DIR_SERVER_TO_CLIENT

/* Indexed by command number; a NULL name marks a hole (0, 14).
 * Messages that carry argsz may be longer than their fixed part: a
 * client sends its whole reply buffer (QEMU sends argsz bytes, and
 * libvfio-user's client a 64-byte region info), a server may answer
 * with more than was asked. The bytes past the fixed part are ignored. */
static const struct vfu_cmd_info cmd_table[VFU_CMD_MAX + 1] = {
	[VFU_CMD_VERSION] = { "VERSION", C2S,
		sizeof(struct vfu_version), VAR, sizeof(struct vfu_version), VAR },
	[VFU_CMD_DMA_MAP] = { "DMA_MAP", C2S,
		sizeof(struct vfu_dma_map), sizeof(struct vfu_dma_map),
		0, sizeof(struct vfu_dma_map_bus) }, /* payload: x-upci-dma-bus-addr only */
	[VFU_CMD_DMA_UNMAP] = { "DMA_UNMAP", C2S,
		sizeof(struct vfu_dma_unmap), sizeof(struct vfu_dma_unmap),
		sizeof(struct vfu_dma_unmap), VAR },
	[VFU_CMD_DEVICE_GET_INFO] = { "DEVICE_GET_INFO", C2S,
		sizeof(struct vfu_device_info), VAR,
		sizeof(struct vfu_device_info), VAR },
	[VFU_CMD_DEVICE_GET_REGION_INFO] = { "DEVICE_GET_REGION_INFO", C2S,
		sizeof(struct vfu_region_info), VAR,
		sizeof(struct vfu_region_info), VAR },
	[VFU_CMD_DEVICE_GET_REGION_IO_FDS] = { "DEVICE_GET_REGION_IO_FDS", C2S,
		sizeof(struct vfu_region_io_fds), VAR,
		sizeof(struct vfu_region_io_fds), VAR },
	[VFU_CMD_DEVICE_GET_IRQ_INFO] = { "DEVICE_GET_IRQ_INFO", C2S,
		sizeof(struct vfu_irq_info), VAR,
		sizeof(struct vfu_irq_info), VAR },
	[VFU_CMD_DEVICE_SET_IRQS] = { "DEVICE_SET_IRQS", C2S,
		sizeof(struct vfu_irq_set), VAR, 0, 0 },
	[VFU_CMD_REGION_READ] = { "REGION_READ", C2S,
		sizeof(struct vfu_region_access), sizeof(struct vfu_region_access),
		sizeof(struct vfu_region_access), VAR },
	[VFU_CMD_REGION_WRITE] = { "REGION_WRITE", C2S,
		sizeof(struct vfu_region_access), VAR,
		sizeof(struct vfu_region_access), sizeof(struct vfu_region_access) },
	[VFU_CMD_DMA_READ] = { "DMA_READ", S2C,
		sizeof(struct vfu_dma_access), sizeof(struct vfu_dma_access),
		sizeof(struct vfu_dma_access), VAR },
	[VFU_CMD_DMA_WRITE] = { "DMA_WRITE", S2C,
		sizeof(struct vfu_dma_access), VAR,
		VFU_DMA_WRITE_REPLY_MIN, sizeof(struct vfu_dma_access) },
	[VFU_CMD_DEVICE_RESET] = { "DEVICE_RESET", C2S, 0, 0, 0, 0 },
	[VFU_CMD_REGION_WRITE_MULTI] = { "REGION_WRITE_MULTI", C2S,
		sizeof(struct vfu_region_write_multi),
		sizeof(struct vfu_region_write_multi) +
			VFU_WRITE_MULTI_MAX * sizeof(struct vfu_write_one),
		sizeof(struct vfu_region_write_multi_reply),
		sizeof(struct vfu_region_write_multi_reply) },
	[VFU_CMD_DEVICE_FEATURE] = { "DEVICE_FEATURE", C2S,
		sizeof(struct vfu_device_feature), VAR,
		sizeof(struct vfu_device_feature), VAR },
	[VFU_CMD_MIG_DATA_READ] = { "MIG_DATA_READ", C2S,
		sizeof(struct vfu_mig_data), sizeof(struct vfu_mig_data),
		sizeof(struct vfu_mig_data), VAR },
	[VFU_CMD_MIG_DATA_WRITE] = { "MIG_DATA_WRITE", C2S,
		sizeof(struct vfu_mig_data), VAR, 0, 0 },
};

const struct vfu_cmd_info *vfu_cmd_info(uint16_t cmd)
{
	if (cmd > VFU_CMD_MAX || cmd_table[cmd].name == NULL)
		return NULL;
	return &cmd_table[cmd];
}

const char *vfu_cmd_name(uint16_t cmd)
{
	const struct vfu_cmd_info *ci = vfu_cmd_info(cmd);

	return ci ? ci->name : "UNKNOWN";
}

int vfu_hdr_check(const struct vfu_hdr *h, size_t max_msg_size)
{
	uint32_t type = h->flags & VFU_HDR_F_TYPE_MASK;

	if (h->msg_size < VFU_HDR_SIZE)
		return -EPROTO;
	if (h->msg_size > max_msg_size)
		return -EMSGSIZE;
	if (h->flags & ~VFU_HDR_F_KNOWN)
		return -EINVAL;
	if (type == VFU_HDR_F_TYPE_COMMAND)
		return (h->flags & VFU_HDR_F_ERROR) ? -EINVAL : 0;
	if (type == VFU_HDR_F_TYPE_REPLY)
		return (h->flags & VFU_HDR_F_NO_REPLY) ? -EINVAL : 0;
	return -EINVAL;
}

void vfu_hdr_request(struct vfu_hdr *h, uint16_t msg_id, uint16_t cmd, uint32_t flags)
{
	h->msg_id = msg_id;
	h->cmd = cmd;
	h->msg_size = VFU_HDR_SIZE;
	h->flags = VFU_HDR_F_TYPE_COMMAND | (flags & VFU_HDR_F_NO_REPLY);
	h->error = 0;
}

void vfu_hdr_reply(struct vfu_hdr *rep, const struct vfu_hdr *req, int err)
{
	/* req may alias rep: read it all first */
	uint16_t id = req->msg_id, cmd = req->cmd;

	rep->msg_id = id;
	rep->cmd = cmd;
	rep->msg_size = VFU_HDR_SIZE;
	rep->flags = VFU_HDR_F_TYPE_REPLY;
	rep->error = 0;
	if (err != 0) {
		rep->flags |= VFU_HDR_F_ERROR;
		rep->error = err < 0 ? (uint32_t)-(int64_t)err : (uint32_t)err;
	}
}

int vfu_msg_check_size(uint16_t cmd, bool reply, size_t len)
{
	const struct vfu_cmd_info *ci = vfu_cmd_info(cmd);
	size_t lo, hi;

	if (ci == NULL)
		return -ENOSYS;
	lo = reply ? ci->rep_min : ci->req_min;
	hi = reply ? ci->rep_max : ci->req_max;
	if (len < lo || len > hi)
		return -EINVAL;
	/* a DMA_MAP reply is empty or one whole bus address, nothing between */
	if (reply && cmd == VFU_CMD_DMA_MAP && len != 0 && len != sizeof(struct vfu_dma_map_bus))
		return -EINVAL;
	return 0;
}

/* count bytes of data must follow a @fixed-byte struct, exactly. */
static int check_data_len(size_t len, size_t fixed, uint64_t count)
{
	return (uint64_t)(len - fixed) == count ? 0 : -EINVAL;
}

static int check_write_multi(const uint8_t *p, size_t len)
{
	uint64_t n;

	memcpy(&n, p + offsetof(struct vfu_region_write_multi, wr_cnt), sizeof(n));
	if (n > VFU_WRITE_MULTI_MAX ||
	    len != sizeof(struct vfu_region_write_multi) + n * sizeof(struct vfu_write_one))
		return -EINVAL;
	for (uint64_t i = 0; i < n; i++) {
		size_t off = sizeof(struct vfu_region_write_multi) +
			     (size_t)i * sizeof(struct vfu_write_one) +
			     offsetof(struct vfu_write_one, count);
		uint32_t c;

		memcpy(&c, p + off, sizeof(c));
		if (c == 0 || c > VFU_WRITE_ONE_DATA)
			return -EINVAL;
	}
	return 0;
}

static int check_set_irqs(const uint8_t *p, size_t len)
{
	uint32_t flags, count;

	memcpy(&flags, p + offsetof(struct vfu_irq_set, flags), sizeof(flags));
	memcpy(&count, p + offsetof(struct vfu_irq_set, count), sizeof(count));
	/* a bool per vector must be present; other data types carry none */
	if ((flags & VFU_IRQ_SET_DATA_BOOL) && len - sizeof(struct vfu_irq_set) < count)
		return -EINVAL;
	return 0;
}

int vfu_msg_check_request(const struct vfu_hdr *h, const void *payload, size_t len)
{
	const uint8_t *p = payload;
	uint32_t c32;
	uint64_t c64;
	int rc;

	if ((h->flags & VFU_HDR_F_TYPE_MASK) != VFU_HDR_F_TYPE_COMMAND)
		return -EINVAL;
	rc = vfu_msg_check_size(h->cmd, false, len);
	if (rc)
		return rc;
	if (len > 0 && p == NULL)
		return -EINVAL;

	switch (h->cmd) {
	case VFU_CMD_VERSION:
		/* the JSON must end inside the message */
		if (len > sizeof(struct vfu_version) && p[len - 1] != '\0')
			return -EINVAL;
		return 0;
	case VFU_CMD_REGION_WRITE:
		memcpy(&c32, p + offsetof(struct vfu_region_access, count), sizeof(c32));
		return check_data_len(len, sizeof(struct vfu_region_access), c32);
	case VFU_CMD_DMA_WRITE:
		memcpy(&c64, p + offsetof(struct vfu_dma_access, count), sizeof(c64));
		return check_data_len(len, sizeof(struct vfu_dma_access), c64);
	case VFU_CMD_MIG_DATA_WRITE:
		memcpy(&c32, p + offsetof(struct vfu_mig_data, size), sizeof(c32));
		return check_data_len(len, sizeof(struct vfu_mig_data), c32);
	case VFU_CMD_REGION_WRITE_MULTI:
		return check_write_multi(p, len);
	case VFU_CMD_DEVICE_SET_IRQS:
		return check_set_irqs(p, len);
	default:
		return 0;
	}
}

/* The peer's errno, bounded: 0 or nonsense becomes EIO. */
static int peer_errno(uint32_t e)
{
	return (e == 0 || e > 4095) ? -EIO : -(int)e;
}

int vfu_msg_check_reply(const struct vfu_hdr *rep, const struct vfu_hdr *req,
			const void *payload, size_t len)
{
	const uint8_t *p = payload;
	uint32_t c32;
	uint64_t c64;
	int rc;

	if ((rep->flags & VFU_HDR_F_TYPE_MASK) != VFU_HDR_F_TYPE_REPLY ||
	    rep->msg_id != req->msg_id || rep->cmd != req->cmd)
		return -EBADMSG;
	if (rep->flags & VFU_HDR_F_ERROR)
		return peer_errno(rep->error);
	rc = vfu_msg_check_size(rep->cmd, true, len);
	if (rc)
		return rc == -ENOSYS ? -EBADMSG : rc;
	if (len > 0 && p == NULL)
		return -EINVAL;

	switch (rep->cmd) {
	case VFU_CMD_VERSION:
		if (len > sizeof(struct vfu_version) && p[len - 1] != '\0')
			return -EINVAL;
		return 0;
	case VFU_CMD_REGION_READ:
		memcpy(&c32, p + offsetof(struct vfu_region_access, count), sizeof(c32));
		return check_data_len(len, sizeof(struct vfu_region_access), c32);
	case VFU_CMD_DMA_READ:
		memcpy(&c64, p + offsetof(struct vfu_dma_access, count), sizeof(c64));
		return check_data_len(len, sizeof(struct vfu_dma_access), c64);
	case VFU_CMD_MIG_DATA_READ:
		memcpy(&c32, p + offsetof(struct vfu_mig_data, size), sizeof(c32));
		return check_data_len(len, sizeof(struct vfu_mig_data), c32);
	default:
		return 0;
	}
}

/* SPDX-License-Identifier: MIT */
/*
 * VFIO_USER_VERSION payload: version numbers and the JSON capabilities
 *   {"capabilities":{"max_msg_fds":N,"max_data_xfer_size":N,
 *    "max_dma_maps":N,"pgsizes":N,"twin_socket":{"supported":B,"fd_index":N},
 *    "write_multiple":B,"migration":{"pgsize":N,"max_bitmap_size":N},
 *    "x-upci-dma-bus-addr":B}}
 * Every member is optional; absent ones take the spec's defaults
 * (vfu_caps_default). Unknown keys are ignored, as the spec asks. A known
 * key with the wrong JSON type (a string, null, 4096.0 for a count) is
 * -EINVAL; a negative integer or one outside the limits below is -ERANGE.
 *
 * Each side's values describe what that side can *receive*: a peer's
 * max_msg_fds bounds the fds we may send it, its max_data_xfer_size the
 * count of the reads/writes we ask of it.
 */
#ifndef UPCI_VFIO_USER_CAPS_JSON_H
#define UPCI_VFIO_USER_CAPS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/* Limits beyond which a value is absurd and rejected. */
#define VFU_CAPS_MAX_MSG_FDS_LIMIT 253u              /* Linux SCM_MAX_FD */
#define VFU_CAPS_MAX_DATA_XFER_LIMIT (1u << 30)      /* 1 GiB */
#define VFU_CAPS_MAX_DMA_MAPS_LIMIT (1u << 24)
#define VFU_CAPS_MIN_PGSIZE 4096u                   /* smallest page size */
#define VFU_CAPS_MAX_MIG_PGSIZE (1u << 30)
#define VFU_CAPS_MAX_BITMAP_LIMIT (1u << 30)
/* Nesting of unknown members we still parse past. */
#define VFU_CAPS_JSON_MAX_DEPTH 16

struct vfu_caps {
	uint32_t max_msg_fds;         /* 0..253, default 1 */
	uint64_t max_data_xfer_size;  /* 1..1 GiB, default 1 MiB */
	uint32_t max_dma_maps;        /* 0..2^24, default 65535 */
	uint64_t pgsizes;             /* page sizes OR'ed, none below 4 KiB; default 4096 */
	bool twin_socket;             /* twin_socket.supported, default false */
	int32_t twin_socket_fd_index; /* twin_socket.fd_index (reply only), -1 = absent */
	bool write_multiple;          /* default false */
	bool dma_bus_addr;            /* upci extension (proto.h), default false */
	bool migration;               /* the "migration" object is present */
	uint64_t mig_pgsize;          /* power of two, 4 KiB..1 GiB, default 4096 */
	uint64_t mig_max_bitmap_size; /* 1..1 GiB, default 256 MiB */
};

/* The values a peer that sends no capabilities is assumed to have. */
void vfu_caps_default(struct vfu_caps *c);

/*
 * Check every field against the limits above.
 * Return: 0; -ERANGE for a value out of range.
 */
int vfu_caps_check(const struct vfu_caps *c);

/*
 * Parse the version data: @len bytes at @json, the last of which must be
 * its only NUL. An empty string (@len == 1) means "no capabilities".
 * Unknown keys are ignored; @out starts from the defaults and is written
 * only on success.
 * Return: 0; -EINVAL (no terminator inside @len, embedded NUL, not JSON,
 * not an object, trailing bytes, a known key of the wrong type);
 * -ERANGE (a number out of range); -ENOMEM.
 */
int vfu_caps_parse(const char *json, size_t len, struct vfu_caps *out);

/*
 * Parse a whole VERSION payload (request or reply): major, minor and the
 * optional capabilities. Only 4 bytes means defaults.
 * Return: 0; -EINVAL for a payload under 4 bytes; as vfu_caps_parse.
 */
int vfu_version_parse(const void *payload, size_t len, uint16_t *major,
		      uint16_t *minor, struct vfu_caps *caps);

/*
 * Our capabilities as JSON (NUL-terminated, malloc'd; free() it).
 * Always emits max_msg_fds, max_data_xfer_size, max_dma_maps and pgsizes;
 * write_multiple and x-upci-dma-bus-addr only when true; twin_socket only when supported (with
 * fd_index when >= 0); migration only when @c->migration.
 * Return: 0; -ERANGE if @c fails vfu_caps_check; -ENOMEM.
 */
int vfu_caps_to_json(const struct vfu_caps *c, char **out);

/*
 * A complete VERSION payload: struct vfu_version + JSON + NUL (malloc'd;
 * free() it). Return: 0; as vfu_caps_to_json.
 */
int vfu_version_build(uint16_t major, uint16_t minor, const struct vfu_caps *c,
		      uint8_t **payload, size_t *len);

#endif /* UPCI_VFIO_USER_CAPS_JSON_H */

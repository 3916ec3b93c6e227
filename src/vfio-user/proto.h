/* SPDX-License-Identifier: MIT */
/*
 * vfio-user wire format: every message of QEMU's docs/interop/vfio-user.rst
 * as a packed struct. The spec says "host endianness"; we only build for
 * little-endian hosts (x86-64, arm64), so the structs are little-endian and
 * a big-endian build fails here rather than on the wire.
 *
 * Struct and flag values that vfio-user borrows from <linux/vfio.h> are
 * redefined with a VFU_ prefix so this header never needs a Linux uapi header (it
 * builds on macOS) and never clashes with it in the same file.
 *
 * Offsets in payload structs are from the end of the 16-byte header, as in
 * the spec. Every struct has a _Static_assert on its size; the unit test
 * checks field offsets against the spec's tables.
 */
#ifndef UPCI_VFIO_USER_PROTO_H
#define UPCI_VFIO_USER_PROTO_H

#include <stddef.h>
#include <stdint.h>

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "vfio-user structs are little-endian; big-endian hosts need byte swapping");

#define VFU_PACKED __attribute__((packed))

/* Protocol version we speak: QEMU's client proposes 0.0 and rejects more. */
#define VFU_VERSION_MAJOR 0
#define VFU_VERSION_MINOR 0

/* ---- Commands (spec "Commands" table; 14 was DIRTY_PAGES, now gone) ---- */
enum vfu_cmd {
	VFU_CMD_VERSION = 1,
	VFU_CMD_DMA_MAP = 2,
	VFU_CMD_DMA_UNMAP = 3,
	VFU_CMD_DEVICE_GET_INFO = 4,
	VFU_CMD_DEVICE_GET_REGION_INFO = 5,
	VFU_CMD_DEVICE_GET_REGION_IO_FDS = 6,
	VFU_CMD_DEVICE_GET_IRQ_INFO = 7,
	VFU_CMD_DEVICE_SET_IRQS = 8,
	VFU_CMD_REGION_READ = 9,
	VFU_CMD_REGION_WRITE = 10,
	VFU_CMD_DMA_READ = 11,
	VFU_CMD_DMA_WRITE = 12,
	VFU_CMD_DEVICE_RESET = 13,
	VFU_CMD_REGION_WRITE_MULTI = 15,
	VFU_CMD_DEVICE_FEATURE = 16,
	VFU_CMD_MIG_DATA_READ = 17,
	VFU_CMD_MIG_DATA_WRITE = 18,
};
#define VFU_CMD_MAX 18 /* highest command number defined */

/* ---- Common header ---- */
struct vfu_hdr {
	uint16_t msg_id;   /* echoed in the reply */
	uint16_t cmd;      /* enum vfu_cmd, also set in the reply */
	uint32_t msg_size; /* whole message, header included */
	uint32_t flags;    /* VFU_HDR_F_* */
	uint32_t error;    /* errno in an error reply; reserved in commands */
} VFU_PACKED;
_Static_assert(sizeof(struct vfu_hdr) == 16, "vfu_hdr");
_Static_assert(offsetof(struct vfu_hdr, cmd) == 2, "vfu_hdr.cmd");
_Static_assert(offsetof(struct vfu_hdr, msg_size) == 4, "vfu_hdr.msg_size");
_Static_assert(offsetof(struct vfu_hdr, flags) == 8, "vfu_hdr.flags");
_Static_assert(offsetof(struct vfu_hdr, error) == 12, "vfu_hdr.error");

#define VFU_HDR_SIZE 16u

/* flags bits 0-3: message type */
#define VFU_HDR_F_TYPE_MASK 0x0000000fu
#define VFU_HDR_F_TYPE_COMMAND 0x0u
#define VFU_HDR_F_TYPE_REPLY 0x1u
/* bit 4: the sender wants no reply to this command */
#define VFU_HDR_F_NO_REPLY 0x00000010u
/* bit 5: this reply reports an error; the error field holds the errno */
#define VFU_HDR_F_ERROR 0x00000020u
/* every bit the spec defines; anything else is rejected */
#define VFU_HDR_F_KNOWN (VFU_HDR_F_TYPE_MASK | VFU_HDR_F_NO_REPLY | VFU_HDR_F_ERROR)

/* ---- VFIO_USER_VERSION (request and reply) ---- */
struct vfu_version {
	uint16_t major;
	uint16_t minor;
	char data[]; /* optional JSON, UTF-8, NUL-terminated inside the message */
} VFU_PACKED;
_Static_assert(sizeof(struct vfu_version) == 4, "vfu_version");

/* ---- VFIO_USER_DMA_MAP (request; reply has no payload) ---- */
struct vfu_dma_map {
	uint32_t argsz; /* size of this struct (32): there is no reply payload */
	uint32_t flags; /* VFU_DMA_MAP_F_* */
	uint64_t offset; /* offset into the passed fd, 0 if not mappable */
	uint64_t addr;   /* DMA (IOVA) base */
	uint64_t size;
} VFU_PACKED;
_Static_assert(sizeof(struct vfu_dma_map) == 32, "vfu_dma_map");

#define VFU_DMA_MAP_F_READ (1u << 0)
#define VFU_DMA_MAP_F_WRITE (1u << 1)

/*
 * upci extension "x-upci-dma-bus-addr" (a VERSION capability, in force
 * only when both sides send it true): the DMA_MAP reply carries this
 * payload, the address the device must be given for the start of the
 * mapping. It differs from the IOVA when the server's platform IOMMU picks
 * bus addresses (macOS: the DART behind the dext); without the extension
 * such a server cannot tell the client, so it refuses the map (ENOTSUP).
 */
struct vfu_dma_map_bus {
	uint64_t bus_addr;
} VFU_PACKED;
_Static_assert(sizeof(struct vfu_dma_map_bus) == 8, "vfu_dma_map_bus");

/* ---- VFIO_USER_DMA_UNMAP (request; the reply echoes the entry) ---- */
struct vfu_dma_unmap {
	uint32_t argsz; /* max reply payload */
	uint32_t flags; /* 0, or VFU_DMA_UNMAP_F_ALL */
	uint64_t addr;
	uint64_t size;
} VFU_PACKED;
_Static_assert(sizeof(struct vfu_dma_unmap) == 24, "vfu_dma_unmap");

/* Unmap every region (addr and size 0): QEMU 10.1+ sends it when its
 * address-space listener goes away (VFIO_DMA_UNMAP_FLAG_ALL's value). */
#define VFU_DMA_UNMAP_F_ALL (1u << 1)

/* ---- VFIO_USER_DEVICE_GET_INFO (request and reply) ---- */
struct vfu_device_info {
	uint32_t argsz;
	uint32_t flags; /* VFU_DEVICE_F_* */
	uint32_t num_regions;
	uint32_t num_irqs;
} VFU_PACKED;
_Static_assert(sizeof(struct vfu_device_info) == 16, "vfu_device_info");

#define VFU_DEVICE_F_RESET (1u << 0) /* VFIO_DEVICE_FLAGS_RESET */
#define VFU_DEVICE_F_PCI (1u << 1)   /* VFIO_DEVICE_FLAGS_PCI */

/* PCI region indexes (VFIO_PCI_*_REGION_INDEX) */
enum {
	VFU_PCI_BAR0_REGION_INDEX = 0,
	VFU_PCI_BAR5_REGION_INDEX = 5,
	VFU_PCI_ROM_REGION_INDEX = 6,
	VFU_PCI_CONFIG_REGION_INDEX = 7,
	VFU_PCI_VGA_REGION_INDEX = 8,
	VFU_PCI_NUM_REGIONS = 9,
};

/* PCI IRQ indexes (VFIO_PCI_*_IRQ_INDEX) */
enum {
	VFU_PCI_INTX_IRQ_INDEX = 0,
	VFU_PCI_MSI_IRQ_INDEX = 1,
	VFU_PCI_MSIX_IRQ_INDEX = 2,
	VFU_PCI_ERR_IRQ_INDEX = 3,
	VFU_PCI_REQ_IRQ_INDEX = 4,
	VFU_PCI_NUM_IRQS = 5,
};

/* ---- VFIO_USER_DEVICE_GET_REGION_INFO (struct vfio_region_info) ---- */
struct vfu_region_info {
	uint32_t argsz;      /* request: max reply; reply: size needed (with caps) */
	uint32_t flags;      /* VFU_REGION_INFO_F_* */
	uint32_t index;
	uint32_t cap_offset; /* from the start of this struct, 0 = no caps */
	uint64_t size;
	uint64_t offset;     /* mmap offset in the region's fd */
} VFU_PACKED;
_Static_assert(sizeof(struct vfu_region_info) == 32, "vfu_region_info");

#define VFU_REGION_INFO_F_READ (1u << 0)
#define VFU_REGION_INFO_F_WRITE (1u << 1)
#define VFU_REGION_INFO_F_MMAP (1u << 2) /* the reply carries an fd */
#define VFU_REGION_INFO_F_CAPS (1u << 3)

/* Capability chain header (struct vfio_info_cap_header). */
struct vfu_cap_hdr {
	uint16_t id;
	uint16_t version;
	uint32_t next; /* from the start of vfu_region_info, 0 = last */
} VFU_PACKED;
_Static_assert(sizeof(struct vfu_cap_hdr) == 8, "vfu_cap_hdr");

#define VFU_REGION_INFO_CAP_SPARSE_MMAP 1
#define VFU_REGION_INFO_CAP_TYPE 2
#define VFU_REGION_INFO_CAP_MSIX_MAPPABLE 3 /* header only */
#define VFU_REGION_INFO_CAP_SPARSE_MMAP_VERSION 1
#define VFU_REGION_INFO_CAP_TYPE_VERSION 1

struct vfu_sparse_mmap_area {
	uint64_t offset; /* within the region; added to region_info.offset for mmap */
	uint64_t size;
} VFU_PACKED;
_Static_assert(sizeof(struct vfu_sparse_mmap_area) == 16, "vfu_sparse_mmap_area");

struct vfu_region_cap_sparse_mmap {
	struct vfu_cap_hdr hdr;
	uint32_t nr_areas;
	uint32_t reserved;
	struct vfu_sparse_mmap_area areas[];
} VFU_PACKED;
_Static_assert(sizeof(struct vfu_region_cap_sparse_mmap) == 16, "vfu_region_cap_sparse_mmap");

struct vfu_region_cap_type {
	struct vfu_cap_hdr hdr;
	uint32_t type;
	uint32_t subtype;
} VFU_PACKED;
_Static_assert(sizeof(struct vfu_region_cap_type) == 16, "vfu_region_cap_type");

#define VFU_REGION_TYPE_PCI_VENDOR_TYPE (1u << 31)
#define VFU_REGION_TYPE_PCI_VENDOR_MASK 0xffffu

/* ---- VFIO_USER_DEVICE_GET_REGION_IO_FDS ---- */
struct vfu_region_io_fds {
	uint32_t argsz;
	uint32_t flags; /* must be 0 */
	uint32_t index;
	uint32_t count; /* request: 0; reply: entries in sub_regions */
	uint8_t sub_regions[]; /* reply: count entries of vfu_sub_region_io_fd */
} VFU_PACKED;
_Static_assert(sizeof(struct vfu_region_io_fds) == 16, "vfu_region_io_fds");

/* Both sub-region layouts share their first 32 bytes; the last 8 differ. */
struct vfu_sub_region_io_fd {
	uint64_t offset;
	uint64_t size;
	uint32_t fd_index; /* index into the reply's fd array */
	uint32_t type;     /* VFU_IO_FD_TYPE_* */
	uint32_t flags;    /* KVM ioeventfd / ioregionfd flags */
	uint32_t padding;
	uint64_t data;     /* ioeventfd: datamatch; ioregionfd: user_data */
} VFU_PACKED;
_Static_assert(sizeof(struct vfu_sub_region_io_fd) == 40, "vfu_sub_region_io_fd");

/* The spec names the types but gives no numbers; these are libvfio-user's. */
#define VFU_IO_FD_TYPE_IOEVENTFD 0u
#define VFU_IO_FD_TYPE_IOREGIONFD 1u
/* ioeventfd flags (KVM_IOEVENTFD_FLAG_*) */
#define VFU_IOEVENTFD_F_DATAMATCH (1u << 0)
#define VFU_IOEVENTFD_F_PIO (1u << 1)
#define VFU_IOEVENTFD_F_VIRTIO_CCW_NOTIFY (1u << 3)
/* ioregionfd flags (KVM_IOREGION_*) */
#define VFU_IOREGION_F_PIO (1u << 0)
#define VFU_IOREGION_F_POSTED_WRITES (1u << 1)

/* ---- VFIO_USER_DEVICE_GET_IRQ_INFO (struct vfio_irq_info) ---- */
struct vfu_irq_info {
	uint32_t argsz;
	uint32_t flags; /* VFU_IRQ_INFO_F_* (reply) */
	uint32_t index;
	uint32_t count; /* reply: vectors of this type */
} VFU_PACKED;
_Static_assert(sizeof(struct vfu_irq_info) == 16, "vfu_irq_info");

#define VFU_IRQ_INFO_F_EVENTFD (1u << 0)
#define VFU_IRQ_INFO_F_MASKABLE (1u << 1)
#define VFU_IRQ_INFO_F_AUTOMASKED (1u << 2)
#define VFU_IRQ_INFO_F_NORESIZE (1u << 3)

/* ---- VFIO_USER_DEVICE_SET_IRQS (struct vfio_irq_set; no reply payload) ---- */
struct vfu_irq_set {
	uint32_t argsz; /* request payload size including data */
	uint32_t flags; /* one VFU_IRQ_SET_DATA_* | one VFU_IRQ_SET_ACTION_* */
	uint32_t index;
	uint32_t start;
	uint32_t count;
	uint8_t data[]; /* DATA_BOOL: count bytes; EVENTFD: fds ride as SCM_RIGHTS */
} VFU_PACKED;
_Static_assert(sizeof(struct vfu_irq_set) == 20, "vfu_irq_set");

#define VFU_IRQ_SET_DATA_NONE (1u << 0)
#define VFU_IRQ_SET_DATA_BOOL (1u << 1)
#define VFU_IRQ_SET_DATA_EVENTFD (1u << 2)
#define VFU_IRQ_SET_ACTION_MASK (1u << 3)
#define VFU_IRQ_SET_ACTION_UNMASK (1u << 4)
#define VFU_IRQ_SET_ACTION_TRIGGER (1u << 5)
#define VFU_IRQ_SET_DATA_TYPE_MASK \
	(VFU_IRQ_SET_DATA_NONE | VFU_IRQ_SET_DATA_BOOL | VFU_IRQ_SET_DATA_EVENTFD)
#define VFU_IRQ_SET_ACTION_TYPE_MASK \
	(VFU_IRQ_SET_ACTION_MASK | VFU_IRQ_SET_ACTION_UNMASK | VFU_IRQ_SET_ACTION_TRIGGER)

/* ---- VFIO_USER_REGION_READ / _WRITE ---- */
struct vfu_region_access {
	uint64_t offset;
	uint32_t region;
	uint32_t count; /* at most the peer's max_data_xfer_size */
	uint8_t data[]; /* read reply and write request */
} VFU_PACKED;
_Static_assert(sizeof(struct vfu_region_access) == 16, "vfu_region_access");

/* ---- VFIO_USER_DMA_READ / _WRITE (server -> client) ---- */
struct vfu_dma_access {
	uint64_t addr;
	uint64_t count;
	uint8_t data[]; /* read reply and write request */
} VFU_PACKED;
_Static_assert(sizeof(struct vfu_dma_access) == 16, "vfu_dma_access");
/* The spec's DMA_WRITE reply table gives count 4 bytes (12 in all). */
#define VFU_DMA_WRITE_REPLY_MIN 12u

/* ---- VFIO_USER_REGION_WRITE_MULTI ---- */
#define VFU_WRITE_ONE_DATA 8u  /* one entry carries at most 8 bytes */
#define VFU_WRITE_MULTI_MAX 200u /* QEMU's batch size; we accept no more */

struct vfu_write_one {
	uint64_t offset;
	uint32_t region;
	uint32_t count; /* 1..8 */
	uint8_t data[VFU_WRITE_ONE_DATA];
} VFU_PACKED;
_Static_assert(sizeof(struct vfu_write_one) == 24, "vfu_write_one");

struct vfu_region_write_multi {
	uint64_t wr_cnt;
	struct vfu_write_one wrs[];
} VFU_PACKED;
_Static_assert(sizeof(struct vfu_region_write_multi) == 8, "vfu_region_write_multi");

struct vfu_region_write_multi_reply {
	uint64_t wr_cnt; /* writes completed */
} VFU_PACKED;
_Static_assert(sizeof(struct vfu_region_write_multi_reply) == 8, "vfu_region_write_multi_reply");

/* ---- VFIO_USER_DEVICE_FEATURE (struct vfio_device_feature) ---- */
struct vfu_device_feature {
	uint32_t argsz;
	uint32_t flags; /* feature index | GET/SET/PROBE */
	uint8_t data[];
} VFU_PACKED;
_Static_assert(sizeof(struct vfu_device_feature) == 8, "vfu_device_feature");

#define VFU_DEVICE_FEATURE_MASK 0xffffu
#define VFU_DEVICE_FEATURE_GET (1u << 16)
#define VFU_DEVICE_FEATURE_SET (1u << 17)
#define VFU_DEVICE_FEATURE_PROBE (1u << 18)

#define VFU_DEVICE_FEATURE_MIGRATION 1
#define VFU_DEVICE_FEATURE_MIG_DEVICE_STATE 2
#define VFU_DEVICE_FEATURE_DMA_LOGGING_START 6
#define VFU_DEVICE_FEATURE_DMA_LOGGING_STOP 7
#define VFU_DEVICE_FEATURE_DMA_LOGGING_REPORT 8

/* MIGRATION: GET reply data */
struct vfu_feature_migration {
	uint64_t flags; /* VFU_MIGRATION_* */
} VFU_PACKED;
_Static_assert(sizeof(struct vfu_feature_migration) == 8, "vfu_feature_migration");

#define VFU_MIGRATION_STOP_COPY (1u << 0)
#define VFU_MIGRATION_P2P (1u << 1)
#define VFU_MIGRATION_PRE_COPY (1u << 2)

/* MIG_DEVICE_STATE: SET request data and GET/SET reply data */
struct vfu_feature_mig_state {
	uint32_t device_state; /* enum vfu_mig_state */
	uint32_t data_fd;      /* unused by vfio-user (MIG_DATA_* instead) */
} VFU_PACKED;
_Static_assert(sizeof(struct vfu_feature_mig_state) == 8, "vfu_feature_mig_state");

enum vfu_mig_state {
	VFU_DEVICE_STATE_ERROR = 0,
	VFU_DEVICE_STATE_STOP = 1,
	VFU_DEVICE_STATE_RUNNING = 2,
	VFU_DEVICE_STATE_STOP_COPY = 3,
	VFU_DEVICE_STATE_RESUMING = 4,
	VFU_DEVICE_STATE_RUNNING_P2P = 5, /* not used by vfio-user */
	VFU_DEVICE_STATE_PRE_COPY = 6,
	VFU_DEVICE_STATE_PRE_COPY_P2P = 7, /* not used by vfio-user */
};

/* DMA_LOGGING_START / _STOP: SET request data */
struct vfu_dma_logging_range {
	uint64_t iova;
	uint64_t length;
} VFU_PACKED;
_Static_assert(sizeof(struct vfu_dma_logging_range) == 16, "vfu_dma_logging_range");

struct vfu_feature_dma_logging_control {
	uint64_t page_size;
	uint32_t num_ranges; /* 0 = log everything */
	uint32_t reserved;
	struct vfu_dma_logging_range ranges[];
} VFU_PACKED;
_Static_assert(sizeof(struct vfu_feature_dma_logging_control) == 16,
	       "vfu_feature_dma_logging_control");

/* DMA_LOGGING_REPORT: GET request data; the reply appends the bitmap */
struct vfu_feature_dma_logging_report {
	uint64_t iova;
	uint64_t length;
	uint64_t page_size; /* power of two */
	uint64_t bitmap[];  /* reply only: one bit per page_size of IOVA */
} VFU_PACKED;
_Static_assert(sizeof(struct vfu_feature_dma_logging_report) == 24,
	       "vfu_feature_dma_logging_report");

/* ---- VFIO_USER_MIG_DATA_READ / _WRITE ---- */
struct vfu_mig_data {
	uint32_t argsz;
	uint32_t size;
	uint8_t data[]; /* read reply and write request */
} VFU_PACKED;
_Static_assert(sizeof(struct vfu_mig_data) == 8, "vfu_mig_data");

/* ---- VERSION capability defaults (spec, or QEMU where the spec is silent) ---- */
#define VFU_DEFAULT_MAX_MSG_FDS 1u
#define VFU_DEFAULT_MAX_DATA_XFER_SIZE (1024u * 1024u)
#define VFU_DEFAULT_MAX_DMA_MAPS 65535u
#define VFU_DEFAULT_PGSIZES 4096u
/* "migration" object: not in the spec text; QEMU's client sends these. */
#define VFU_DEFAULT_MIG_PGSIZE 4096u
#define VFU_DEFAULT_MIG_MAX_BITMAP_SIZE (256u * 1024u * 1024u)

#endif /* UPCI_VFIO_USER_PROTO_H */

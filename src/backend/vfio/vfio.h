/* SPDX-License-Identifier: MIT */
/*
 * The Linux VFIO backend (vfio:BDF), private to src/backend/vfio.
 *
 *   vfio_open.c    find the device in sysfs, check its IOMMU group, open it
 *                  through iommufd + the VFIO cdev or a type1 container/group
 *   vfio_caps.c    variable-length kernel replies and their capability chains
 *   vfio_region.c  config space, BAR access by pread/pwrite, BAR mmap
 *   vfio_dma.c     IOVA ranges and page sizes, MAP_DMA / IOAS_MAP
 *   vfio_space.c   one container / IOAS shared by the devices of a DMA space
 *   vfio_irq.c     one eventfd per vector, INTx unmask
 *   vfio_backend.c the ops table
 *
 * Every ioctl failure is logged with the ioctl's name and the errno, and
 * returned as -errno. Everything the kernel reports is checked before use.
 */
#ifndef UPCI_VFIO_H
#define UPCI_VFIO_H

#include <stddef.h>
#include <stdint.h>

#include "device.h"
#include "sysfs.h"
#include "vfio_uapi.h"

#define VFIO_MAX_AREAS 16      /* mmap-able areas kept per region */
#define VFIO_MAX_IOVA_RANGES 64
#define VFIO_INFO_MAX (64u * 1024u) /* largest info reply we accept */

/* UPCI_VFIO_PATH=iommufd|group forces one way of opening. */
enum vfio_path { VFIO_PATH_AUTO, VFIO_PATH_IOMMUFD, VFIO_PATH_GROUP };

struct vfio_area {
	uint64_t off, len; /* inside the region, page aligned */
};

struct vfio_region {
	uint64_t size;
	uint64_t offset;   /* of the region in the device fd */
	uint32_t flags;    /* VFIO_REGION_INFO_FLAG_* */
	unsigned nareas;   /* areas that may be mmapped (all of it when no sparse cap) */
	struct vfio_area areas[VFIO_MAX_AREAS];
	void *mmio;        /* our own mapping for mmio_read/write, or NULL */
	int mmio_failed;   /* mapping it failed once: pread/pwrite only */
};

struct vfio_iova_span {
	uint64_t start, last; /* inclusive */
};

/*
 * Where a device's DMA mappings go: a type1 container or an iommufd IOAS.
 * Each device has its own; the vfio devices of a DMA space that were
 * opened the same way share one (vfio_space.c).
 */
struct vfio_dma_ctx {
	enum vfio_path path;
	int container;            /* type1 container, or -1 */
	int iommu_type;           /* VFIO_TYPE1v2_IOMMU or VFIO_TYPE1_IOMMU */
	int iommufd;              /* the process's /dev/iommu (vfio_iommufd_get), or -1 */
	uint32_t ioas;            /* IOAS id, when has_ioas */
	int has_ioas;
	unsigned users;           /* groups in the container / devices on the IOAS */
	/* DMA limits the kernel reported. */
	struct vfio_iova_span iova[VFIO_MAX_IOVA_RANGES];
	unsigned niova;           /* 0: not reported, anything goes */
	uint64_t iova_pgsizes;    /* bitmap; smallest set bit is the granule */
	int64_t dma_avail;        /* mappings left (type1 DMA_AVAIL), -1 unknown */
};

struct vfio_dev {
	char bdf[SYSFS_BDF_LEN];
	int group;                /* IOMMU group number */
	enum vfio_path path;      /* the one in use */
	int group_fd;             /* /dev/vfio/N, or -1 */
	uint32_t devid;           /* iommufd device id */
	struct vfio_dma_ctx own;  /* the device's own DMA context */
	struct vfio_dma_ctx *ctx; /* the one in use: &own, or a DMA space's */
	int device;               /* the device fd */
	uint32_t dev_flags;       /* VFIO_DEVICE_FLAGS_* */
	uint32_t num_regions, num_irqs;

	struct vfio_region regions[VFIO_PCI_NUM_REGIONS];
	/* COMMAND.MEMORY as last seen: a BAR mapping faults (SIGBUS) while
	 * memory decode is off, so MMIO then goes through pread/pwrite. */
	int mem_decode;

	/* Interrupts. */
	uint32_t irq_flags[VFIO_PCI_NUM_IRQS];
	uint32_t irq_count[VFIO_PCI_NUM_IRQS];
	int irq_index;            /* enabled VFIO index, or -1 */
	unsigned irq_nvec;
	int irq_fd[UPCI_MAX_VECTORS];
	int unmask_fd;            /* INTx: VFIO's unmask eventfd (the core's re-arm fd), or -1 */
};

static inline struct vfio_dev *vfio_of(struct upci_dev *dev)
{
	return dev->priv;
}

/* vfio_open.c */
int vfio_dev_open(struct vfio_dev *v, const char *bdf);
void vfio_dev_close(struct vfio_dev *v);
/* The process's one /dev/iommu (so a space's IOAS can take any device),
 * counted: the fd, or -errno (logged under @bdf). */
int vfio_iommufd_get(const char *bdf);
void vfio_iommufd_put(void);
/* A type1 container: /dev/vfio/vfio opened and its API checked; *type
 * gets the best type1 IOMMU it offers. The fd or -errno. */
int vfio_container_open(const char *bdf, int *type);

/* vfio_caps.c: issue @req (GET_*_INFO) with a buffer that grows to the
 * argsz the kernel asks for (at most VFIO_INFO_MAX). @init holds the first
 * @min bytes (argsz is set here). On success *out is a malloc'ed buffer of
 * *outsz bytes (>= @min). 0 or -errno (logged with @name). */
int vfio_info_get(int fd, unsigned long req, const char *name, const void *init, size_t min, void **out,
		  size_t *outsz);
/*
 * Find capability @id (any version) in the chain that starts at offset
 * @first of an info buffer of @len bytes whose fixed part is @base bytes;
 * the capability must have at least @min bytes. Every offset must lie in
 * [@base, @len) with room for what is read there; a chain that is longer
 * than the buffer could hold (a loop) is refused.
 * Returns 0 with *off set, -ENOENT, -EPROTO (malformed), -ELOOP.
 */
int vfio_cap_find(const void *buf, size_t len, size_t base, uint32_t first, uint16_t id, size_t min, size_t *off);

/*
 * The parts of a region of @size bytes that may be mmapped, from a
 * GET_REGION_INFO reply of @len bytes whose capability chain starts at
 * @first (0: none): the sparse-mmap capability's areas when it has one,
 * else the whole region (rounded up to @page). Areas that are empty, not
 * page aligned or outside the region are dropped, at most @max are kept.
 * Returns 0 with *n set (0 = nothing may be mapped), -EPROTO / -ELOOP for
 * a malformed reply.
 */
int vfio_mmap_areas(const uint8_t *buf, size_t len, uint32_t first, uint64_t size, uint64_t page,
		    struct vfio_area *out, unsigned max, unsigned *n);

/* vfio_region.c */
int vfio_regions_probe(struct upci_dev *dev);
void vfio_regions_unmap(struct vfio_dev *v);
/* Re-read COMMAND after something may have changed it (a reset). */
void vfio_refresh_command(struct vfio_dev *v);
int vfio_cfg_read(struct upci_dev *dev, uint32_t off, unsigned width, uint32_t *val);
int vfio_cfg_write(struct upci_dev *dev, uint32_t off, unsigned width, uint32_t val);
int vfio_cfg_read_block(struct upci_dev *dev, uint32_t off, void *buf, size_t len);
int vfio_bar_map(struct upci_dev *dev, unsigned bar, void **addr);
void vfio_bar_unmap(struct upci_dev *dev, unsigned bar, void *addr);
int vfio_bar_fd(struct upci_dev *dev, unsigned bar, int *fd, uint64_t *offset);
int vfio_mmio_read(struct upci_dev *dev, unsigned bar, uint64_t off, unsigned width, uint64_t *val);
int vfio_mmio_write(struct upci_dev *dev, unsigned bar, uint64_t off, unsigned width, uint64_t val);

/* vfio_dma.c */
/* Read @c's IOVA ranges, page sizes and mapping limit from the kernel. */
int vfio_dma_probe(struct vfio_dma_ctx *c, const char *bdf);
int vfio_dma_ranges(struct upci_dev *dev, struct upci_iova_range *out, unsigned max);
int vfio_dma_map(struct upci_dev *dev, uint64_t iova, void *vaddr, uint64_t len, unsigned flags, int fd,
		 uint64_t fd_off, uint64_t *bus);
int vfio_dma_unmap(struct upci_dev *dev, uint64_t iova, uint64_t len, uint64_t bus);

/* vfio_space.c */
int vfio_space_join(struct upci_dev *dev, void **slot);
int vfio_space_leave(struct upci_dev *dev, void **slot, int last, int closing);

/* vfio_reset.c */
int vfio_reset(struct upci_dev *dev);

/* vfio_irq.c */
int vfio_irq_probe(struct vfio_dev *v);
unsigned vfio_irq_count(struct upci_dev *dev, enum upci_irq_type type);
int vfio_irq_enable(struct upci_dev *dev, enum upci_irq_type type, unsigned nvec);
void vfio_irq_disable(struct upci_dev *dev);
int vfio_irq_set_eventfd(struct upci_dev *dev, unsigned vec, int fd);

/* vfio_enum.c: upci_enumerate("vfio"), from sysfs at @root (NULL: /sys)
 * with device nodes under @devroot ("/dev"); the unit tests fake both. */
struct upci_enum_sink;
int vfio_enum_at(const char *root, const char *devroot, struct upci_enum_sink *sink);
int vfio_enumerate(struct upci_enum_sink *sink);

#endif /* UPCI_VFIO_H */

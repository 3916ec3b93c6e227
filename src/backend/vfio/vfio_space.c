/* SPDX-License-Identifier: MIT */
/*
 * DMA spaces on VFIO: the vfio devices of a space share one DMA context.
 *
 *   iommufd path: one IOAS in the process's iommufd; a device moves to it
 *   with VFIO_DEVICE_ATTACH_IOMMUFD_PT, which replaces its attachment
 *   (Linux 6.6+) without closing anything, and back to its own IOAS to
 *   leave. The kernel maps the IOAS's contents for a device it attaches.
 *
 *   type1 path: one container. A group leaves a container only when no
 *   device fd of it is open (VFIO_GROUP_UNSET_CONTAINER is EBUSY
 *   otherwise), so the device fd is closed, the group moved, the fd taken
 *   again: the kernel resets the device on that close (upci.h says so).
 *   A group added to a container with mappings gets them replayed by the
 *   kernel (vfio_iommu_type1 attach_group).
 *
 * A device opened the other way than the space's context keeps its own
 * context (space_join returns 0) and core makes every mapping on it too.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "log.h"
#include "vfio.h"

/* A DMA context for a space: 0 with *out set, or -errno (why the IOMMU
 * could not be opened, not always "out of memory"). */
static int ctx_new(struct vfio_dev *v, struct vfio_dma_ctx **out)
{
	struct vfio_dma_ctx *c = calloc(1, sizeof(*c));
	int fd, type;

	if (!c)
		return -ENOMEM;
	c->path = v->path;
	c->container = c->iommufd = -1;
	c->dma_avail = -1;
	if (v->path == VFIO_PATH_IOMMUFD) {
		struct iommu_ioas_alloc a = {.size = sizeof(a)};

		fd = vfio_iommufd_get(v->bdf);
		if (fd < 0) {
			free(c);
			return fd;
		}
		c->iommufd = fd;
		if (ioctl(fd, IOMMU_IOAS_ALLOC, &a) != 0) {
			int err = -errno;

			LOG_ERR("%s: IOMMU_IOAS_ALLOC for a DMA space: %s", v->bdf, strerror(errno));
			vfio_iommufd_put();
			free(c);
			return err;
		}
		c->ioas = a.out_ioas_id;
		c->has_ioas = 1;
	} else {
		c->container = vfio_container_open(v->bdf, &type);
		if (c->container < 0) {
			int err = c->container;

			free(c);
			return err;
		}
		c->iommu_type = v->own.iommu_type; /* as the device's own */
	}
	*out = c;
	return 0;
}

static void ctx_free(struct vfio_dma_ctx *c, const char *bdf)
{
	if (c->has_ioas) {
		struct iommu_destroy d = {.size = sizeof(d), .id = c->ioas};

		if (ioctl(c->iommufd, IOMMU_DESTROY, &d) != 0)
			LOG_WARN("%s: IOMMU_DESTROY of the DMA space's IOAS %u: %s", bdf, c->ioas, strerror(errno));
	}
	if (c->iommufd >= 0)
		vfio_iommufd_put();
	if (c->container >= 0)
		close(c->container);
	free(c);
}

static int attach_ioas(struct vfio_dev *v, struct vfio_dma_ctx *to)
{
	struct vfio_device_attach_iommufd_pt at;

	memset(&at, 0, sizeof(at));
	at.argsz = UPCI_VFIO_ATTACH_ARGSZ;
	at.pt_id = to->ioas;
	if (ioctl(v->device, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at) != 0) {
		int e = errno;

		LOG_ERR("%s: VFIO_DEVICE_ATTACH_IOMMUFD_PT(IOAS %u): %s%s", v->bdf, to->ioas, strerror(e),
			e == EBUSY || e == EINVAL ? " (the kernel may be older than 6.6, which replaces attachments)"
						  : "");
		return -e;
	}
	v->ctx->users--;
	to->users++;
	v->ctx = to;
	return 0;
}

/* The group into container @c; the first group sets its IOMMU type. */
static int group_attach(struct vfio_dev *v, struct vfio_dma_ctx *c)
{
	int e;

	if (ioctl(v->group_fd, VFIO_GROUP_SET_CONTAINER, &c->container) != 0) {
		e = errno;
		LOG_ERR("%s: VFIO_GROUP_SET_CONTAINER: %s", v->bdf, strerror(e));
		return -e;
	}
	if (c->users == 0 && ioctl(c->container, VFIO_SET_IOMMU, c->iommu_type) != 0) {
		e = errno;
		LOG_ERR("%s: VFIO_SET_IOMMU: %s", v->bdf, strerror(e));
		ioctl(v->group_fd, VFIO_GROUP_UNSET_CONTAINER);
		return -e;
	}
	c->users++;
	return 0;
}

/* Close the device fd and take the group out of its container. */
static int group_detach(struct vfio_dev *v)
{
	vfio_regions_unmap(v); /* our own BAR mappings hold the device fd */
	if (v->device >= 0)
		close(v->device);
	v->device = -1;
	if (ioctl(v->group_fd, VFIO_GROUP_UNSET_CONTAINER) != 0) {
		int e = errno;

		LOG_ERR("%s: VFIO_GROUP_UNSET_CONTAINER: %s", v->bdf, strerror(e));
		return -e;
	}
	v->ctx->users--;
	return 0;
}

static int device_reopen(struct vfio_dev *v)
{
	int fd = ioctl(v->group_fd, VFIO_GROUP_GET_DEVICE_FD, v->bdf);

	if (fd < 0) {
		int e = errno;

		LOG_ERR("%s: VFIO_GROUP_GET_DEVICE_FD: %s", v->bdf, strerror(e));
		return -e;
	}
	v->device = fd;
	vfio_refresh_command(v);
	return 0;
}

/* Move the device's group from its context to @to, reopening the device
 * fd; on failure back where it was when possible. */
static int move_group(struct vfio_dev *v, struct vfio_dma_ctx *to)
{
	struct vfio_dma_ctx *from = v->ctx;
	int ret = group_detach(v), r;

	if (ret == 0) {
		ret = group_attach(v, to);
		if (ret == 0)
			v->ctx = to;
		else if ((r = group_attach(v, from)) != 0)
			return r; /* in no container: the device is lost until closed */
	}
	r = device_reopen(v);
	return ret ? ret : r;
}

int vfio_space_join(struct upci_dev *dev, void **slot)
{
	struct vfio_dev *v = vfio_of(dev);
	struct vfio_dma_ctx *c = *slot;
	int created = 0, ret;

	if (c && c->path != v->path)
		return 0; /* opened the other way: its own context, core fans out */
	if (!c) {
		ret = ctx_new(v, &c);
		if (ret)
			return ret;
		created = 1;
	}
	ret = v->path == VFIO_PATH_IOMMUFD ? attach_ioas(v, c) : move_group(v, c);
	if (ret == 0 && v->ctx != c)
		ret = -EIO; /* moved back, or lost: not in the space */
	if (ret == 0)
		ret = vfio_dma_probe(c, v->bdf); /* the kernel's ranges for every device in it */
	if (ret && v->ctx == c) {
		/* In the space's context, but it failed: back to our own. */
		if (v->path == VFIO_PATH_IOMMUFD)
			attach_ioas(v, &v->own);
		else
			move_group(v, &v->own);
	}
	if (ret) {
		if (created)
			ctx_free(c, v->bdf);
		return ret;
	}
	*slot = c;
	return 1;
}

int vfio_space_leave(struct upci_dev *dev, void **slot, int last, int closing)
{
	struct vfio_dev *v = vfio_of(dev);
	struct vfio_dma_ctx *c = *slot;
	int ret;

	if (v->path == VFIO_PATH_IOMMUFD) {
		/* Back to its own IOAS even when closing: the space's IOAS can
		 * only be destroyed once nothing is attached to it. */
		ret = attach_ioas(v, &v->own);
	} else if (closing) {
		ret = group_detach(v); /* the device is being closed: no fd again */
		v->ctx = &v->own;
	} else {
		ret = move_group(v, &v->own);
	}
	if (ret == 0 && !closing)
		ret = vfio_dma_probe(v->ctx, v->bdf);
	if (ret == 0 && !last && c->users)
		vfio_dma_probe(c, v->bdf); /* fewer devices: maybe more ranges */
	if (last) {
		ctx_free(c, v->bdf);
		*slot = NULL;
	}
	return ret;
}

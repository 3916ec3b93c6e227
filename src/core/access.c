/* SPDX-License-Identifier: MIT */
/* Config space, BAR info, BAR mapping and MMIO: checks, then dispatch. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "backend.h"
#include "core.h"

static int config_args_ok(const struct upci_dev *dev, uint32_t off, unsigned width)
{
	if (!core_width_ok(width, 4))
		return -EINVAL;
	if (off & (width - 1))
		return -EFAULT;
	if (off >= dev->ident.config_size || width > dev->ident.config_size - off)
		return -ERANGE;
	return 0;
}

UPCI_API int upci_config_read(upci_dev *dev, uint32_t off, unsigned width, uint32_t *val)
{
	int ret;

	if (!dev || !val)
		return -EINVAL;
	ret = config_args_ok(dev, off, width);
	if (ret)
		return ret;
	pthread_mutex_lock(&dev->lock);
	ret = dev->ops->config_read(dev, off, width, val);
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

UPCI_API int upci_config_write(upci_dev *dev, uint32_t off, unsigned width, uint32_t val)
{
	int ret;

	if (!dev)
		return -EINVAL;
	ret = config_args_ok(dev, off, width);
	if (ret)
		return ret;
	if (width < 4 && (val >> (8 * width)) != 0)
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	if (!dev->claimed)
		ret = -EPERM;
	else if (!dev->ops->config_write)
		ret = -ENOTSUP;
	else
		ret = dev->ops->config_write(dev, off, width, val);
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

/* For backends without a block op: naturally aligned pieces, largest first. */
static int read_block_loop(struct upci_dev *dev, uint32_t off, uint8_t *buf, size_t len)
{
	while (len) {
		unsigned w = (off & 3) == 0 && len >= 4 ? 4 : (off & 1) == 0 && len >= 2 ? 2 : 1;
		uint32_t v;
		int ret = dev->ops->config_read(dev, off, w, &v);

		if (ret)
			return ret;
		for (unsigned i = 0; i < w; i++)
			buf[i] = (uint8_t)(v >> (8 * i));
		buf += w;
		off += w;
		len -= w;
	}
	return 0;
}

UPCI_API int upci_config_read_block(upci_dev *dev, uint32_t off, void *buf, size_t len)
{
	int ret;

	if (!dev || !buf)
		return -EINVAL;
	if (off > dev->ident.config_size || len > dev->ident.config_size - off)
		return -ERANGE;
	if (len == 0)
		return 0;
	pthread_mutex_lock(&dev->lock);
	if (dev->ops->config_read_block)
		ret = dev->ops->config_read_block(dev, off, buf, len);
	else
		ret = read_block_loop(dev, off, buf, len);
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

UPCI_API int upci_bar_info(upci_dev *dev, unsigned bar, struct upci_bar_info *info)
{
	if (!dev || !info || bar >= UPCI_NUM_BARS)
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	*info = dev->bars[bar];
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

UPCI_API int upci_bar_map(upci_dev *dev, unsigned bar, void **addr, uint64_t *len)
{
	int ret = 0;

	if (!dev || !addr || bar >= UPCI_NUM_BARS)
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	if (!dev->claimed) {
		ret = -EPERM;
	} else if (!(dev->bars[bar].flags & UPCI_BAR_PRESENT)) {
		ret = -EINVAL;
	} else if (!(dev->bars[bar].flags & UPCI_BAR_MAPPABLE) || !dev->ops->bar_map) {
		ret = -ENOTSUP;
	} else if (dev->bar_refs[bar] == UINT_MAX) {
		ret = -EOVERFLOW;
	} else if (!dev->bar_addr[bar]) {
		ret = dev->ops->bar_map(dev, bar, &dev->bar_addr[bar]);
		if (ret)
			dev->bar_addr[bar] = NULL;
	}
	if (ret == 0) {
		/* Counted: each map needs its unmap, so one user's unmap never
		 * pulls the mapping from under another. */
		dev->bar_refs[bar]++;
		*addr = dev->bar_addr[bar];
		if (len)
			*len = dev->bars[bar].size;
	}
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

/* Whatever the count: for upci_close. */
void core_bar_unmap_locked(struct upci_dev *dev, unsigned bar)
{
	if (dev->bar_addr[bar] && dev->ops->bar_unmap)
		dev->ops->bar_unmap(dev, bar, dev->bar_addr[bar]);
	dev->bar_addr[bar] = NULL;
	dev->bar_refs[bar] = 0;
}

UPCI_API int upci_bar_unmap(upci_dev *dev, unsigned bar)
{
	int ret = 0;

	if (!dev || bar >= UPCI_NUM_BARS)
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	if (dev->bar_refs[bar] == 0)
		ret = -ENOENT;
	else if (--dev->bar_refs[bar] == 0)
		core_bar_unmap_locked(dev, bar);
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

static int mmio_args_ok(const struct upci_dev *dev, unsigned bar, uint64_t off, unsigned width)
{
	if (bar >= UPCI_NUM_BARS || !(dev->bars[bar].flags & UPCI_BAR_PRESENT))
		return -EINVAL;
	if (!core_width_ok(width, 8))
		return -EINVAL;
	if (off & (width - 1))
		return -EFAULT;
	if (off >= dev->bars[bar].size || width > dev->bars[bar].size - off)
		return -ERANGE;
	return 0;
}

/* MMIO: checks under the lock (BAR info can change only at open), then the
 * backend's read or write. */
static int mmio_do(struct upci_dev *dev, unsigned bar, uint64_t off, unsigned width, uint64_t *rval, uint64_t wval)
{
	int ret;

	pthread_mutex_lock(&dev->lock);
	ret = mmio_args_ok(dev, bar, off, width);
	if (ret == 0 && !dev->claimed)
		ret = -EPERM;
	if (ret == 0 && rval)
		ret = dev->ops->mmio_read ? dev->ops->mmio_read(dev, bar, off, width, rval) : -ENOTSUP;
	else if (ret == 0)
		ret = dev->ops->mmio_write ? dev->ops->mmio_write(dev, bar, off, width, wval) : -ENOTSUP;
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

UPCI_API int upci_mmio_read(upci_dev *dev, unsigned bar, uint64_t off, unsigned width, uint64_t *val)
{
	if (!dev || !val)
		return -EINVAL;
	return mmio_do(dev, bar, off, width, val, 0);
}

UPCI_API int upci_mmio_write(upci_dev *dev, unsigned bar, uint64_t off, unsigned width, uint64_t val)
{
	if (!dev)
		return -EINVAL;
	if (width < 8 && width > 0 && (val >> (8 * width)) != 0)
		return -EINVAL;
	return mmio_do(dev, bar, off, width, NULL, val);
}

int upci__bar_fd(struct upci_dev *dev, unsigned bar, int *fd, uint64_t *offset)
{
	int ret;

	if (!dev || !fd || !offset || bar >= UPCI_NUM_BARS)
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	if (!(dev->bars[bar].flags & UPCI_BAR_PRESENT))
		ret = -EINVAL;
	else if (!(dev->bars[bar].flags & UPCI_BAR_MAPPABLE) || (dev->bars[bar].flags & UPCI_BAR_MAP_RDONLY) ||
		 !dev->ops->bar_fd)
		ret = -ENOTSUP; /* a read-only mirror must not be shared writable */
	else
		ret = dev->ops->bar_fd(dev, bar, fd, offset);
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

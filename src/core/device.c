/* SPDX-License-Identifier: MIT */
/* Device handles: open by URI, claim, identity, reset, close. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "core.h"
#include "dma_core.h"
#include "log.h"
#include "pci_regs.h"

struct backend_entry {
	enum uri_scheme scheme;
	const struct upci_backend_ops *ops; /* NULL = not built in */
};

static const struct backend_entry backends[] = {
	{URI_SIM, &upci_sim_ops},
#ifdef UPCI_HAVE_VFIO
	{URI_VFIO, &upci_vfio_ops},
#else
	{URI_VFIO, NULL},
#endif
#ifdef UPCI_HAVE_VFIO_USER
	{URI_VFIO_USER, &upci_vfio_user_ops},
#else
	{URI_VFIO_USER, NULL},
#endif
#ifdef UPCI_HAVE_DEXT
	{URI_DEXT, &upci_dext_ops},
#else
	{URI_DEXT, NULL},
#endif
#ifdef UPCI_HAVE_SYSFS
	{URI_SYSFS, &upci_sysfs_ops},
#else
	{URI_SYSFS, NULL},
#endif
};

static const struct upci_backend_ops *backend_for(enum uri_scheme s)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (backends[i].scheme == s)
			return backends[i].ops;
	return NULL;
}

int core_backend_at(unsigned i, const struct upci_backend_ops **ops)
{
	if (i >= sizeof(backends) / sizeof(backends[0]))
		return -ENOENT;
	*ops = backends[i].ops;
	return 0;
}

int core_backend_by_name(const char *scheme, const struct upci_backend_ops **ops)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (strcmp(uri_scheme_name(backends[i].scheme), scheme) == 0) {
			*ops = backends[i].ops;
			return 0;
		}
	return -EINVAL;
}

UPCI_API int upci_backend_available(const char *scheme)
{
	const struct upci_backend_ops *ops;
	int ret;

	if (!scheme)
		return -EINVAL;
	ret = core_backend_by_name(scheme, &ops);
	return ret ? ret : ops != NULL;
}

UPCI_API int upci_uri_check(const char *uri, char *why, size_t whylen)
{
	struct upci_uri *u = calloc(1, sizeof(*u));
	int ret;

	if (!u)
		return -ENOMEM;
	ret = uri_parse(uri, u, why, whylen);
	if (ret == 0 && !backend_for(u->scheme)) {
		ret = -ENOTSUP;
		if (why && whylen)
			snprintf(why, whylen, "the %s backend is not built into this library", uri_scheme_name(u->scheme));
	}
	if (ret == 0 && backend_for(u->scheme)->uri_check)
		ret = backend_for(u->scheme)->uri_check(u, why, whylen);
	free(u);
	return ret;
}

UPCI_API int upci_open(upci_dev **out, const char *uri)
{
	struct upci_uri *u;
	struct upci_dev *dev;
	const struct upci_backend_ops *ops;
	char why[160];
	long ps;
	int ret;

	if (!out || !uri)
		return -EINVAL;
	*out = NULL;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	ret = uri_parse(uri, u, why, sizeof(why));
	if (ret) {
		LOG_ERR("%s: %s", uri, why);
		goto out_uri;
	}
	ops = backend_for(u->scheme);
	if (!ops) {
		LOG_ERR("%s: the %s backend is not built in", uri, uri_scheme_name(u->scheme));
		ret = -ENOTSUP;
		goto out_uri;
	}
	dev = calloc(1, sizeof(*dev));
	if (!dev) {
		ret = -ENOMEM;
		goto out_uri;
	}
	ps = sysconf(_SC_PAGESIZE);
	dev->page_size = ps > 0 ? (uint64_t)ps : 4096;
	dev->ops = ops;
	dev->uri = strdup(uri);
	ret = dev->uri ? dma_view_init(&dev->dma) : -ENOMEM;
	if (ret)
		goto out_dev;
	ret = irq_state_init(&dev->irq);
	if (ret)
		goto out_table;
	pthread_mutex_init(&dev->lock, NULL);
	pthread_mutex_init(&dev->route_lock, NULL);
	for (unsigned v = 0; v < UPCI_MAX_VECTORS; v++)
		dev->route_fd[v] = -1;
	snprintf(dev->ident.backend, sizeof(dev->ident.backend), "%s", ops->scheme);
	ret = ops->open(dev, u);
	if (ret) {
		LOG_ERR("%s: open failed: %s", uri, upci_strerror(ret));
		goto out_irq;
	}
	free(u);
	*out = dev;
	return 0;

out_irq:
	pthread_mutex_destroy(&dev->route_lock);
	pthread_mutex_destroy(&dev->lock);
	irq_state_fini(&dev->irq);
out_table:
	dma_view_fini(&dev->dma);
out_dev:
	free(dev->uri);
	free(dev);
out_uri:
	free(u);
	return ret;
}

UPCI_API const char *upci_uri(const upci_dev *dev)
{
	return dev ? dev->uri : "";
}

/* Undo everything a claim allowed, in the order the hardware needs:
 * no mapping of a BAR, no interrupts, then no DMA. Caller holds the lock. */
void core_drop_claimed_state(struct upci_dev *dev)
{
	for (unsigned b = 0; b < UPCI_NUM_BARS; b++)
		core_bar_unmap_locked(dev, b);
	core_irq_disable_locked(dev);
	core_dma_drop_all_locked(dev);
}

UPCI_API void upci_close(upci_dev *dev)
{
	if (!dev)
		return;
	if (dev->space) {
		/* Quiet the device, then leave its space (whose lock comes
		 * before the device's); nothing else runs on the handle now. */
		pthread_mutex_lock(&dev->lock);
		for (unsigned b = 0; b < UPCI_NUM_BARS; b++)
			core_bar_unmap_locked(dev, b);
		core_irq_disable_locked(dev);
		pthread_mutex_unlock(&dev->lock);
		core_space_leave_closing(dev);
	}
	pthread_mutex_lock(&dev->lock);
	core_drop_claimed_state(dev);
	if (dev->claimed && dev->ops->release)
		dev->ops->release(dev);
	dev->claimed = 0;
	dev->ops->close(dev);
	pthread_mutex_unlock(&dev->lock);
	pthread_mutex_destroy(&dev->route_lock);
	pthread_mutex_destroy(&dev->lock);
	irq_state_fini(&dev->irq);
	dma_view_fini(&dev->dma);
	free(dev->uri);
	free(dev);
}

UPCI_API int upci_claim(upci_dev *dev)
{
	int ret = 0;

	if (!dev)
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	if (!dev->claimed) {
		ret = dev->ops->claim ? dev->ops->claim(dev) : 0;
		if (ret == 0)
			dev->claimed = 1;
	}
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

/* A BAR mapping or a DMA buffer handed out and not given back. */
static int holds_memory(const struct upci_dev *dev)
{
	for (unsigned b = 0; b < UPCI_NUM_BARS; b++)
		if (dev->bar_refs[b])
			return 1;
	return dev->nbufs != 0;
}

UPCI_API int upci_release(upci_dev *dev)
{
	int ret = 0;

	if (!dev)
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	if (!dev->claimed) {
		ret = -EPERM;
	} else if (holds_memory(dev) || dev->space) {
		/* Releasing would unmap memory the caller still holds pointers
		 * and fds to, or pull a member out of its DMA space: the
		 * caller unmaps, frees or leaves first. */
		ret = -EBUSY;
	} else {
		core_drop_claimed_state(dev);
		if (dev->ops->release)
			dev->ops->release(dev);
		dev->claimed = 0;
	}
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

UPCI_API int upci_identity(upci_dev *dev, struct upci_identity *id)
{
	if (!dev || !id)
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	*id = dev->ident;
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

static int bus_master_off_locked(struct upci_dev *dev)
{
	uint32_t cmd;
	int ret;

	if (!dev->ops->config_write)
		return 0;
	ret = dev->ops->config_read(dev, PCI_COMMAND, 2, &cmd);
	if (ret == 0 && (cmd & PCI_COMMAND_MASTER))
		ret = dev->ops->config_write(dev, PCI_COMMAND, 2, cmd & ~PCI_COMMAND_MASTER & 0xffffu);
	if (ret)
		LOG_ERR("%s: turning bus mastering off after reset: %s", dev->uri, upci_strerror(ret));
	return ret;
}

UPCI_API int upci_reset(upci_dev *dev)
{
	int ret;

	if (!dev)
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	if (!dev->claimed) {
		ret = -EPERM;
	} else if (!dev->ops->reset) {
		ret = -ENOTSUP;
	} else {
		ret = dev->ops->reset(dev);
		/* The header promises bus mastering off after a reset whatever
		 * the backend's reset did to config space (a vfio-user server's
		 * DEVICE_RESET may only reset the device's own state). */
		if (ret == 0)
			ret = bus_master_off_locked(dev);
		/* A reset clears the device's interrupt set-up; restore it so the
		 * caller's view (type, vectors, mask) stays true. */
		if (ret == 0 && dev->irq_type != UPCI_IRQ_NONE && dev->ops->irq_enable) {
			int r = dev->ops->irq_enable(dev, dev->irq_type, dev->irq_nvec);

			if (r >= 0)
				r = core_irq_bus_master_locked(dev);
			/* The device's vectors point at the backend's eventfds
			 * again: back to the caller's where they were routed. */
			if (r >= 0)
				r = core_irq_routes_reapply_locked(dev);
			if (r < 0) {
				LOG_ERR("%s: re-enabling interrupts after reset: %s", dev->uri, upci_strerror(r));
				/* Half a set-up helps nobody: none, as after a disable,
				 * and bus mastering off again as a reset leaves it. */
				core_irq_disable_locked(dev);
				(void)bus_master_off_locked(dev);
				ret = r;
			}
		}
	}
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

/* SPDX-License-Identifier: MIT */
/* The public interrupt calls. Set-up takes the handle lock; the pending
 * and wait calls work on irq_state alone (its own lock), and the mask
 * call lives in irqroute.c (route_lock, and the handle lock when a
 * device-signalled vector changes, upci.h). */
#include <errno.h>

#include "backend.h"
#include "core.h"
#include "log.h"
#include "pci_regs.h"

static unsigned count_of(struct upci_dev *dev, enum upci_irq_type t)
{
	return dev->ops->irq_count ? dev->ops->irq_count(dev, t) : 0;
}

/* MSI and MSI-X are memory writes by the device: without Bus Master
 * Enable no message leaves it, on real hardware and on our models. Turn it
 * on so that enabling interrupts is enough to receive them. */
int core_irq_bus_master_locked(struct upci_dev *dev)
{
	uint32_t cmd;
	int ret;

	if (dev->irq_type != UPCI_IRQ_MSI && dev->irq_type != UPCI_IRQ_MSIX)
		return 0;
	if (!dev->ops->config_read || !dev->ops->config_write)
		return 0;
	ret = dev->ops->config_read(dev, PCI_COMMAND, 2, &cmd);
	if (ret == 0 && !(cmd & PCI_COMMAND_MASTER))
		ret = dev->ops->config_write(dev, PCI_COMMAND, 2, (cmd | PCI_COMMAND_MASTER) & 0xffffu);
	if (ret)
		LOG_ERR("%s: turning on bus mastering for MSI: %s", dev->uri, upci_strerror(ret));
	return ret;
}

void core_irq_disable_locked(struct upci_dev *dev)
{
	if (dev->irq_type != UPCI_IRQ_NONE && dev->ops->irq_disable)
		dev->ops->irq_disable(dev);
	dev->irq_type = UPCI_IRQ_NONE;
	dev->irq_nvec = 0;
	irq_state_clear(&dev->irq);
	/* No raise uses a routed fd now, and the device signals none. */
	core_irq_routes_drop_locked(dev);
	/* Whoever waits on the set-up that is gone returns -ECANCELED, and is
	 * out of irq_state_wait() before we go on (upci_close frees it). */
	irq_state_cancel_waits(&dev->irq);
}

UPCI_API int upci_irq_enable(upci_dev *dev, enum upci_irq_type type, unsigned nvec)
{
	unsigned avail;
	int ret;

	if (!dev || type < UPCI_IRQ_INTX || type > UPCI_IRQ_AUTO || nvec > UPCI_MAX_VECTORS)
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	if (!dev->claimed) {
		ret = -EPERM;
		goto out;
	}
	if (!dev->ops->irq_enable) {
		ret = -ENOTSUP;
		goto out;
	}
	if (type == UPCI_IRQ_AUTO) {
		if (count_of(dev, UPCI_IRQ_MSIX))
			type = UPCI_IRQ_MSIX;
		else if (count_of(dev, UPCI_IRQ_MSI))
			type = UPCI_IRQ_MSI;
		else
			type = UPCI_IRQ_INTX;
	}
	avail = count_of(dev, type);
	if (avail > UPCI_MAX_VECTORS)
		avail = UPCI_MAX_VECTORS;
	if (avail == 0) {
		ret = -ENOTSUP;
		goto out;
	}
	if (nvec == 0)
		nvec = avail;
	if (nvec > avail) {
		ret = -ERANGE;
		goto out;
	}
	core_irq_disable_locked(dev);
	ret = dev->ops->irq_enable(dev, type, nvec);
	if (ret < 0) {
		LOG_ERR("%s: enabling %u vectors: %s", dev->uri, nvec, upci_strerror(ret));
		goto out;
	}
	dev->irq_type = type;
	dev->irq_nvec = nvec;
	ret = core_irq_bus_master_locked(dev);
	if (ret == 0)
		ret = (int)nvec;
out:
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

UPCI_API int upci_irq_count(upci_dev *dev, enum upci_irq_type type)
{
	unsigned n;

	if (!dev || type < UPCI_IRQ_INTX || type > UPCI_IRQ_MSIX)
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	n = count_of(dev, type);
	pthread_mutex_unlock(&dev->lock);
	return (int)(n > UPCI_MAX_VECTORS ? UPCI_MAX_VECTORS : n);
}

UPCI_API int upci_irq_disable(upci_dev *dev)
{
	if (!dev)
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	core_irq_disable_locked(dev);
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

UPCI_API int upci_irq_info(upci_dev *dev, enum upci_irq_type *type, unsigned *nvec)
{
	if (!dev)
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	if (type)
		*type = dev->irq_type;
	if (nvec)
		*nvec = dev->irq_nvec;
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

UPCI_API int upci_irq_get_mask(upci_dev *dev, uint64_t mask[UPCI_IRQ_WORDS])
{
	if (!dev || !mask)
		return -EINVAL;
	irq_state_get_mask(&dev->irq, mask);
	return 0;
}

UPCI_API int upci_irq_take_pending(upci_dev *dev, uint64_t pending[UPCI_IRQ_WORDS])
{
	if (!dev || !pending)
		return -EINVAL;
	return irq_state_take(&dev->irq, pending);
}

UPCI_API int upci_irq_peek_pending(upci_dev *dev, uint64_t pending[UPCI_IRQ_WORDS])
{
	if (!dev || !pending)
		return -EINVAL;
	return irq_state_peek(&dev->irq, pending);
}

UPCI_API int upci_irq_fd(upci_dev *dev)
{
	if (!dev)
		return -EINVAL;
	return irq_state_pollfd(&dev->irq) >= 0 ? irq_state_pollfd(&dev->irq) : -EBADF;
}

UPCI_API int upci_irq_wait(upci_dev *dev, int timeout_ms, uint64_t pending[UPCI_IRQ_WORDS])
{
	if (!dev || !pending || timeout_ms < -1)
		return -EINVAL;
	return irq_state_wait(&dev->irq, timeout_ms, pending);
}

/* SPDX-License-Identifier: MIT */
/*
 * Interrupts: one eventfd per vector, handed to the kernel with
 * VFIO_DEVICE_SET_IRQS (ACTION_TRIGGER) and to the core as event sources
 * (irq_state_attach_source), so a vector reaches upci_irq_wait() and the
 * pollable fd with no thread of ours in between.
 *
 * INTx is level-triggered and VFIO masks it each time it fires
 * (VFIO_IRQ_INFO_AUTOMASKED): someone has to unmask it or it never fires
 * again. We register a second eventfd as VFIO's unmask eventfd
 * (ACTION_UNMASK | DATA_EVENTFD) and give it to the core as the vector's
 * re-arm fd: when the core latches the vector it writes that eventfd, and
 * the kernel unmasks the line right there, in that write. If the device
 * still asserts it (the caller has not acknowledged the device yet) the
 * kernel keeps it masked and signals the trigger eventfd again, so the
 * level is reported once more after the acknowledgement, never lost and
 * never a storm. A vector latched while masked in the library is re-armed
 * when it is unmasked (irq.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "log.h"
#include "vfio.h"

static const char *const index_name[] = {"INTx", "MSI", "MSI-X"};

static int index_of(enum upci_irq_type t)
{
	switch (t) {
	case UPCI_IRQ_INTX: return VFIO_PCI_INTX_IRQ_INDEX;
	case UPCI_IRQ_MSI: return VFIO_PCI_MSI_IRQ_INDEX;
	case UPCI_IRQ_MSIX: return VFIO_PCI_MSIX_IRQ_INDEX;
	default: return -1;
	}
}

int vfio_irq_probe(struct vfio_dev *v)
{
	v->irq_index = -1;
	v->irq_nvec = 0;
	v->unmask_fd = -1;
	for (unsigned i = 0; i < UPCI_MAX_VECTORS; i++)
		v->irq_fd[i] = -1;
	for (uint32_t idx = 0; idx <= VFIO_PCI_MSIX_IRQ_INDEX; idx++) {
		struct vfio_irq_info info = {.argsz = sizeof(info), .index = idx};

		v->irq_flags[idx] = 0;
		v->irq_count[idx] = 0;
		if (idx >= v->num_irqs)
			continue;
		if (ioctl(v->device, VFIO_DEVICE_GET_IRQ_INFO, &info) != 0) {
			LOG_ERR("%s: VFIO_DEVICE_GET_IRQ_INFO(%s): %s", v->bdf, index_name[idx], strerror(errno));
			continue; /* that mechanism is then not offered */
		}
		/* Without eventfd signalling we have no way to receive it. */
		if (!(info.flags & VFIO_IRQ_INFO_EVENTFD))
			continue;
		v->irq_flags[idx] = info.flags;
		v->irq_count[idx] = info.count;
	}
	/* A level line is one vector, whatever the reply says. */
	if (v->irq_count[VFIO_PCI_INTX_IRQ_INDEX] > 1)
		v->irq_count[VFIO_PCI_INTX_IRQ_INDEX] = 1;
	return 0;
}

unsigned vfio_irq_count(struct upci_dev *dev, enum upci_irq_type type)
{
	int idx = index_of(type);

	return idx < 0 ? 0 : vfio_of(dev)->irq_count[idx];
}

/* VFIO_DEVICE_SET_IRQS on [@start, @start + @count) with eventfds (or none
 * when @fds is NULL). */
static int set_irqs_at(struct vfio_dev *v, uint32_t flags, uint32_t idx, uint32_t start, uint32_t count,
		       const int *fds)
{
	size_t sz = sizeof(struct vfio_irq_set) + (fds ? count * sizeof(int32_t) : 0);
	struct vfio_irq_set *s = calloc(1, sz);
	int ret = 0;

	if (!s)
		return -ENOMEM;
	s->argsz = (uint32_t)sz;
	s->flags = flags;
	s->index = idx;
	s->start = start;
	s->count = count;
	if (fds)
		for (uint32_t i = 0; i < count; i++) {
			int32_t fd = fds[i];

			memcpy(s->data + i * sizeof(fd), &fd, sizeof(fd));
		}
	if (ioctl(v->device, VFIO_DEVICE_SET_IRQS, s) != 0)
		ret = -errno;
	free(s);
	return ret;
}

static int set_irqs(struct vfio_dev *v, uint32_t flags, uint32_t idx, uint32_t count, const int *fds)
{
	return set_irqs_at(v, flags, idx, 0, count, fds);
}

static void drop_fds(struct upci_dev *dev)
{
	struct vfio_dev *v = vfio_of(dev);

	/* Detach from the core before closing: no latch may use a closed fd. */
	for (unsigned i = 0; i < UPCI_MAX_VECTORS; i++) {
		if (v->irq_fd[i] < 0)
			continue;
		irq_state_attach_source(&dev->irq, i, -1);
		close(v->irq_fd[i]);
		v->irq_fd[i] = -1;
	}
	if (v->unmask_fd >= 0) {
		close(v->unmask_fd);
		v->unmask_fd = -1;
	}
}

void vfio_irq_disable(struct upci_dev *dev)
{
	struct vfio_dev *v = vfio_of(dev);
	int ret;

	if (v->irq_index < 0)
		return;
	ret = set_irqs(v, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, (uint32_t)v->irq_index, 0, NULL);
	if (ret)
		LOG_ERR("%s: VFIO_DEVICE_SET_IRQS(%s, disable): %s", v->bdf, index_name[v->irq_index], strerror(-ret));
	drop_fds(dev);
	v->irq_index = -1;
	v->irq_nvec = 0;
}

/* The eventfd that unmasks INTx when written (the core's re-arm fd). */
static int intx_unmask_fd(struct vfio_dev *v)
{
	int ret;

	v->unmask_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (v->unmask_fd < 0) {
		ret = -errno;
		LOG_ERR("%s: eventfd for the INTx unmask: %s", v->bdf, strerror(-ret));
		return ret;
	}
	ret = set_irqs(v, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK, VFIO_PCI_INTX_IRQ_INDEX, 1,
		       &v->unmask_fd);
	if (ret)
		LOG_ERR("%s: VFIO_DEVICE_SET_IRQS(INTx, unmask eventfd): %s", v->bdf, strerror(-ret));
	return ret;
}

int vfio_irq_enable(struct upci_dev *dev, enum upci_irq_type type, unsigned nvec)
{
	struct vfio_dev *v = vfio_of(dev);
	int idx = index_of(type);
	int ret = 0;

	if (idx < 0 || nvec == 0 || nvec > UPCI_MAX_VECTORS || nvec > v->irq_count[idx])
		return -EINVAL;
	/* After a reset the core enables again without disabling: start over,
	 * whatever the kernel kept. */
	vfio_irq_disable(dev);
	for (unsigned i = 0; i < nvec; i++) {
		v->irq_fd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (v->irq_fd[i] < 0) {
			ret = -errno;
			LOG_ERR("%s: eventfd for vector %u: %s", v->bdf, i, strerror(-ret));
			goto fail;
		}
	}
	ret = set_irqs(v, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, (uint32_t)idx, nvec, v->irq_fd);
	if (ret) {
		LOG_ERR("%s: VFIO_DEVICE_SET_IRQS(%s, %u vectors): %s", v->bdf, index_name[idx], nvec, strerror(-ret));
		goto fail;
	}
	v->irq_index = idx;
	v->irq_nvec = nvec;
	if (idx == VFIO_PCI_INTX_IRQ_INDEX) {
		ret = intx_unmask_fd(v);
		if (ret) {
			vfio_irq_disable(dev);
			return ret;
		}
	}
	for (unsigned i = 0; i < nvec; i++) {
		ret = irq_state_attach_source_rearm(&dev->irq, i, v->irq_fd[i], i == 0 ? v->unmask_fd : -1);
		if (ret) {
			LOG_ERR("%s: watching the eventfd of vector %u: %s", v->bdf, i, strerror(-ret));
			vfio_irq_disable(dev);
			return ret;
		}
	}
	LOG_DBG("%s: %s enabled, %u vector%s", v->bdf, index_name[idx], nvec, nvec > 1 ? "s" : "");
	return 0;
fail:
	drop_fds(dev);
	return ret;
}


/* The kernel signals @fd for @vec from now on (one vector's SET_IRQS). */
static int point(struct upci_dev *dev, unsigned vec, int fd)
{
	struct vfio_dev *v = vfio_of(dev);
	int ret = set_irqs_at(v, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, (uint32_t)v->irq_index, vec,
			      1, &fd);

	if (ret)
		LOG_ERR("%s: VFIO_DEVICE_SET_IRQS(%s, vector %u -> %s eventfd): %s", v->bdf, index_name[v->irq_index], vec,
			fd == v->irq_fd[vec] ? "our" : "the caller's", strerror(-ret));
	return ret;
}

/*
 * upci_irq_set_eventfd(): the kernel signals the caller's eventfd @fd for
 * @vec itself, so an MSI/MSI-X interrupt reaches KVM or another process
 * without passing through this one; @fd -1 gives the vector back to our
 * own eventfd (core does that while the vector is masked: vfio-pci has no
 * MSI/MSI-X mask). INTx stays with the library (-ENOTSUP: core delivers
 * it), because its unmask after each interrupt is ours to do.
 */
int vfio_irq_set_eventfd(struct upci_dev *dev, unsigned vec, int fd)
{
	struct vfio_dev *v = vfio_of(dev);

	if (v->irq_index < 0 || v->irq_index == VFIO_PCI_INTX_IRQ_INDEX)
		return -ENOTSUP;
	if (vec >= v->irq_nvec || v->irq_fd[vec] < 0)
		return -EINVAL;
	return upci__irq_repoint(dev, vec, fd, v->irq_fd[vec], -1, point);
}

/* SPDX-License-Identifier: MIT */
/*
 * Interrupts over vfio-user: one eventfd per vector, handed to the server
 * with SET_IRQS(TRIGGER, EVENTFD) in as many messages as its max_msg_fds
 * requires, and each attached to the handle's IRQ state as an event source
 * (no relay thread: readiness of the eventfd is the vector firing).
 * Masking is the library's (irq_state); the server always signals.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h> /* the backend is built on Linux only */
#include <unistd.h>

#include "log.h"
#include "msg.h"
#include "vu.h"

static int index_of(enum upci_irq_type type)
{
	switch (type) {
	case UPCI_IRQ_INTX:
		return VFU_PCI_INTX_IRQ_INDEX;
	case UPCI_IRQ_MSI:
		return VFU_PCI_MSI_IRQ_INDEX;
	case UPCI_IRQ_MSIX:
		return VFU_PCI_MSIX_IRQ_INDEX;
	default:
		return -1;
	}
}

static int irq_info(struct vu_conn *c, uint32_t index, unsigned *count, uint32_t *flags)
{
	struct vfu_irq_info q = {.argsz = sizeof(q), .index = index}, a;
	struct iovec iov = {.iov_base = &q, .iov_len = sizeof(q)};
	struct vfu_msg rep;
	int rc;

	rc = vu_call(c, VFU_CMD_DEVICE_GET_IRQ_INFO, &iov, 1, NULL, 0, 0, &rep);
	if (rc)
		return rc;
	memcpy(&a, rep.payload, sizeof(a));
	vfu_msg_release(&rep);
	if (a.index != index) {
		LOG_ERR("vfio-user %s: asked for IRQ index %u, got the info of %u", c->name, index, a.index);
		return -EPROTO;
	}
	/* We can only take interrupts as eventfds, and only if the server
	 * accepts fds at all. */
	if (!(a.flags & VFU_IRQ_INFO_F_EVENTFD) || c->peer.max_msg_fds == 0)
		a.count = 0;
	if (index == VFU_PCI_INTX_IRQ_INDEX && a.count > 1)
		a.count = 1;
	*count = a.count > UPCI_MAX_VECTORS ? UPCI_MAX_VECTORS : a.count;
	*flags = a.flags;
	return 0;
}

int vu_irq_probe(struct vu_dev *v)
{
	v->irq_index = -1;
	v->irq_nvec = 0;
	v->unmask_fd = -1;
	for (unsigned i = 0; i < UPCI_MAX_VECTORS; i++)
		v->irq_fd[i] = -1;
	for (uint32_t i = 0; i <= VFU_PCI_MSIX_IRQ_INDEX; i++) {
		int rc;

		v->irq_avail[i] = 0;
		v->irq_flags[i] = 0;
		if (i >= v->num_irqs)
			continue;
		rc = irq_info(&v->c, i, &v->irq_avail[i], &v->irq_flags[i]);
		if (rc)
			return rc;
	}
	return 0;
}

unsigned vu_irq_count(struct upci_dev *dev, enum upci_irq_type type)
{
	int i = index_of(type);

	return i < 0 ? 0 : vu_of(dev)->irq_avail[i];
}

static int set_irqs(struct vu_conn *c, uint32_t flags, uint32_t index, uint32_t start, uint32_t count,
		    const int *fds, size_t nfds)
{
	struct vfu_irq_set s = {
		.argsz = sizeof(s), .flags = flags, .index = index, .start = start, .count = count,
	};

	return vu_call_simple(c, VFU_CMD_DEVICE_SET_IRQS, &s, sizeof(s), fds, nfds);
}

static int intx_unmask_fd(struct vu_dev *v)
{
	v->unmask_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (v->unmask_fd < 0)
		return -errno;
	return set_irqs(&v->c, VFU_IRQ_SET_DATA_EVENTFD | VFU_IRQ_SET_ACTION_UNMASK, VFU_PCI_INTX_IRQ_INDEX, 0, 1,
			&v->unmask_fd, 1);
}

/* Forget the set-up here: detach and close every eventfd. The detach
 * returns once no take/peek/wait in another thread can read the fd
 * (irq.h), so closing it cannot hand its number to someone else's read. */
static void drop_fds(struct upci_dev *dev, struct vu_dev *v)
{
	for (unsigned i = 0; i < v->irq_nvec; i++) {
		if (v->irq_fd[i] < 0)
			continue;
		irq_state_attach_source(&dev->irq, i, -1);
		close(v->irq_fd[i]);
		v->irq_fd[i] = -1;
	}
	if (v->unmask_fd >= 0)
		close(v->unmask_fd);
	v->unmask_fd = -1;
	v->irq_index = -1;
	v->irq_nvec = 0;
}

void vu_irq_disable(struct upci_dev *dev)
{
	struct vu_dev *v = vu_of(dev);

	if (v->irq_index < 0)
		return;
	/* count 0 with DATA_NONE: every vector of the index off. */
	if (set_irqs(&v->c, VFU_IRQ_SET_DATA_NONE | VFU_IRQ_SET_ACTION_TRIGGER, (uint32_t)v->irq_index, 0, 0,
		     NULL, 0) != 0)
		LOG_WARN("vfio-user %s: turning interrupts off failed; dropping them here anyway", v->c.name);
	drop_fds(dev, v);
}

int vu_irq_enable(struct upci_dev *dev, enum upci_irq_type type, unsigned nvec)
{
	struct vu_dev *v = vu_of(dev);
	int index = index_of(type);
	/* The server's limit, which is also what the transport lets us send. */
	unsigned chunk = v->c.peer.max_msg_fds < VFU_MSG_MAX_FDS ? v->c.peer.max_msg_fds : VFU_MSG_MAX_FDS;
	int rc = 0;

	if (index < 0 || nvec == 0 || nvec > v->irq_avail[index] || chunk == 0)
		return -ENOTSUP;
	/* After a reset core enables again without disabling first. */
	vu_irq_disable(dev);
	for (unsigned i = 0; i < nvec; i++) {
		v->irq_fd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (v->irq_fd[i] < 0) {
			rc = -errno;
			break;
		}
	}
	v->irq_index = index;
	v->irq_nvec = nvec;
	for (unsigned start = 0; rc == 0 && start < nvec; start += chunk) {
		unsigned n = nvec - start < chunk ? nvec - start : chunk;

		rc = set_irqs(&v->c, VFU_IRQ_SET_DATA_EVENTFD | VFU_IRQ_SET_ACTION_TRIGGER, (uint32_t)index, start,
			      n, &v->irq_fd[start], n);
	}
	/* An automasked INTx stays masked at the server after each delivery
	 * until the unmask eventfd is written: core writes it after a latch. */
	if (rc == 0 && index == VFU_PCI_INTX_IRQ_INDEX && (v->irq_flags[index] & VFU_IRQ_INFO_F_AUTOMASKED))
		rc = intx_unmask_fd(v);
	for (unsigned i = 0; rc == 0 && i < nvec; i++)
		rc = irq_state_attach_source_rearm(&dev->irq, i, v->irq_fd[i], v->unmask_fd);
	if (rc) {
		LOG_ERR("vfio-user %s: enabling %u vectors of IRQ index %d: %s", v->c.name, nvec, index,
			upci_strerror(rc));
		vu_irq_disable(dev);
	}
	return rc;
}

/* The server signals @fd for @vec from now on (one vector's SET_IRQS). */
static int point(struct upci_dev *dev, unsigned vec, int fd)
{
	struct vu_dev *v = vu_of(dev);

	return set_irqs(&v->c, VFU_IRQ_SET_DATA_EVENTFD | VFU_IRQ_SET_ACTION_TRIGGER, (uint32_t)v->irq_index, vec, 1,
			&fd, 1);
}

/*
 * upci_irq_set_eventfd(): the server signals the caller's eventfd @fd for
 * @vec itself (a chained `upci serve vfio-user:...` passes its client's
 * eventfd through without relaying); @fd -1 gives the vector back to our
 * own eventfd (core does that while the vector is masked). INTx stays
 * with the library (-ENOTSUP): its unmask after each delivery is ours.
 */
int vu_irq_set_eventfd(struct upci_dev *dev, unsigned vec, int fd)
{
	struct vu_dev *v = vu_of(dev);

	if (v->irq_index < 0 || v->irq_index == VFU_PCI_INTX_IRQ_INDEX)
		return -ENOTSUP;
	if (vec >= v->irq_nvec || v->irq_fd[vec] < 0)
		return -EINVAL;
	return upci__irq_repoint(dev, vec, fd, v->irq_fd[vec], v->unmask_fd, point);
}

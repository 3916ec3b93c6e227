/* SPDX-License-Identifier: MIT */
/*
 * vfio-user server: interrupts. GET_IRQ_INFO and SET_IRQS.
 *
 * A TRIGGER eventfd of INTx/MSI/MSI-X is handed to the device
 * (upci__irq_set_eventfd), which then signals it directly when the vector
 * fires: no relay thread, no message. The first TRIGGER/EVENTFD request of
 * an index enables that interrupt type on the device with every vector it
 * offers (as the kernel's vfio-pci does even for fd -1), so vectors can be
 * assigned one at a time, in any order, in as many messages as the
 * client's fd limit needs.
 *
 * Backends whose device signals eventfds itself (Linux VFIO, a vfio-user
 * client) take the client's MSI/MSI-X fd into the device instead; the upci
 * mask still applies (core points a masked vector back at the library).
 * INTx stays with the library (its unmask after each interrupt is the
 * library's job) and only latches when someone takes it, so the serving
 * loop also polls upci_irq_fd() and takes: the take delivers the latched
 * line to the client's eventfd and re-arms it (srv_irq_relay). For the
 * sim that fd stays quiet: the direct path bypasses it.
 *
 * MASK/UNMASK with NONE/BOOL are the upci enable mask (a masked vector is
 * latched and signalled when unmasked). MASK/UNMASK with EVENTFD register
 * fds the server signals when it masks or unmasks that vector. ERR and REQ
 * take an eventfd but never fire.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "device.h"
#include "fd_signal.h"
#include "log.h"
#include "pci_regs.h"
#include "srv_priv.h"

static bool has_type(int idx)
{
	return idx == VFU_PCI_INTX_IRQ_INDEX || idx == VFU_PCI_MSI_IRQ_INDEX || idx == VFU_PCI_MSIX_IRQ_INDEX;
}

static enum upci_irq_type type_of(int idx)
{
	return idx == VFU_PCI_INTX_IRQ_INDEX ? UPCI_IRQ_INTX : idx == VFU_PCI_MSI_IRQ_INDEX ? UPCI_IRQ_MSI : UPCI_IRQ_MSIX;
}

void srv_irq_init(struct vfu_session *ss)
{
	/* Every slot -1 (all bits set) without a loop over its 3,840 slots:
	 * per connection that loop cost more than a short session. */
	_Static_assert(~0 == -1, "all bits set is -1");
	memset(ss->efd, 0xff, sizeof(ss->efd));
	ss->irq_index = -1;
	ss->kick_fd = -1;
	pthread_mutex_init(&ss->irq_lock, NULL);
}

/* The loop's watcher polls srv_irq_pollfd(): tell it the answer changed. */
static void kick(struct vfu_session *ss)
{
	if (ss->kick_fd >= 0) {
		char b = 1;

		(void)!write(ss->kick_fd, &b, 1); /* full: a wake-up is pending anyway */
	}
}

/*
 * Put @fd (or -1) in place of vector @v's fd for @act and close the old
 * one once the device no longer uses it. A backend that takes eventfds
 * itself may refuse a new one: then nothing changes and @fd is closed.
 * Going back to -1 always succeeds here (the device dropping its copy is
 * the backend's business).
 */
static int set_fd(struct vfu_session *ss, int idx, int act, unsigned v, int fd)
{
	int old = ss->efd[idx][act][v];

	if (act == SRV_ACT_TRIGGER && idx == ss->irq_index) {
		int ret = upci__irq_set_eventfd(ss->srv->dev, v, fd);

		if (ret && fd >= 0) {
			close(fd);
			return ret;
		}
	}
	ss->efd[idx][act][v] = fd;
	ss->n_efds += (fd >= 0) - (old >= 0);
	if (old >= 0)
		close(old);
	return 0;
}

static void drop_index(struct vfu_session *ss, int idx)
{
	if (ss->n_efds == 0)
		return; /* nothing to drop: skip the 768 slots */
	for (int a = 0; a < SRV_NR_ACTS; a++)
		for (unsigned v = 0; v < SRV_MAX_VECTORS; v++)
			if (ss->efd[idx][a][v] >= 0)
				(void)set_fd(ss, idx, a, v, -1);
}

/* TRIGGER with count 0 and DATA_NONE: the index is switched off. */
static void disable_index(struct vfu_session *ss, int idx)
{
	drop_index(ss, idx);
	if (idx == ss->irq_index) {
		upci_irq_disable(ss->srv->dev);
		ss->irq_index = -1;
	}
}

static int enable_index(struct vfu_session *ss, int idx)
{
	upci_dev *dev = ss->srv->dev;
	enum upci_irq_type cur = UPCI_IRQ_NONE;
	unsigned nvec = 0;
	int ret;

	if (!has_type(idx) || idx == ss->irq_index)
		return 0;
	if (ss->irq_index >= 0)
		drop_index(ss, ss->irq_index); /* one type at a time, as on PCI */
	upci_irq_info(dev, &cur, &nvec);
	if (cur != type_of(idx) || nvec != ss->srv->irq_count[idx]) {
		ret = upci_irq_enable(dev, type_of(idx), ss->srv->irq_count[idx]);
		if (ret < 0) {
			ss->irq_index = -1;
			return ret;
		}
	}
	ss->irq_index = idx;
	return 0;
}

/* After the loop stopped relaying (its watcher is gone). */
void srv_irq_fini(struct vfu_session *ss)
{
	for (int i = 0; i < (int)VFU_PCI_NUM_IRQS; i++)
		drop_index(ss, i);
	if (ss->irq_index >= 0)
		upci_irq_disable(ss->srv->dev);
	ss->irq_index = -1;
	pthread_mutex_destroy(&ss->irq_lock);
}

/* ---- GET_IRQ_INFO ---- */

int srv_irq_info(struct vfu_session *ss, struct vfu_msg *m, struct srv_reply *r)
{
	struct vfu_irq_info in, out;

	memcpy(&in, m->payload, sizeof(in));
	if (in.argsz < sizeof(out) || in.index >= VFU_PCI_NUM_IRQS)
		return -EINVAL;
	out.argsz = sizeof(out);
	out.index = in.index;
	out.count = ss->srv->irq_count[in.index];
	out.flags = VFU_IRQ_INFO_F_EVENTFD;
	if (in.index == VFU_PCI_INTX_IRQ_INDEX)
		out.flags |= VFU_IRQ_INFO_F_MASKABLE | VFU_IRQ_INFO_F_AUTOMASKED; /* what vfio-pci says */
	else if (has_type((int)in.index))
		out.flags |= VFU_IRQ_INFO_F_MASKABLE; /* vectors are assigned one by one: no NORESIZE */
	SRV_REPLY_FIXED(ss, r, out);
	return 0;
}

/* ---- SET_IRQS ---- */

/* Only an eventfd may be signalled: writing 8 bytes into some other file
 * the client passed (a regular file, a socket) would be its bug and our
 * damage. Elsewhere (macOS) QEMU's notifiers are pipes: accept any. */
static bool is_eventfd(int fd)
{
#ifdef __linux__
	return core_irq_fd_is_eventfd(fd);
#else
	(void)fd;
	return true;
#endif
}

static int one_bit(uint32_t x)
{
	return x != 0 && (x & (x - 1)) == 0;
}

/* A SET_IRQS request's fixed part (a copy: the payload is unaligned). */
struct irq_req {
	uint32_t argsz, flags, index, start, count;
	uint32_t data, act;
	const uint8_t *bools; /* DATA_BOOL: count bytes */
};

static bool selected(const struct irq_req *q, uint32_t i)
{
	return q->data != VFU_IRQ_SET_DATA_BOOL || q->bools[i];
}

/* Everything is checked before anything changes. */
static int check_set_irqs(struct vfu_session *ss, struct vfu_msg *m, struct irq_req *q)
{
	struct vfu_irq_set h;
	uint32_t max;

	memcpy(&h, m->payload, sizeof(h));
	q->argsz = h.argsz;
	q->flags = h.flags;
	q->index = h.index;
	q->start = h.start;
	q->count = h.count;
	q->data = q->flags & VFU_IRQ_SET_DATA_TYPE_MASK;
	q->act = q->flags & VFU_IRQ_SET_ACTION_TYPE_MASK;
	q->bools = m->payload + sizeof(h);
	if (q->argsz < sizeof(h) || (q->flags & ~(VFU_IRQ_SET_DATA_TYPE_MASK | VFU_IRQ_SET_ACTION_TYPE_MASK)))
		return -EINVAL;
	if (!one_bit(q->data) || !one_bit(q->act) || q->index >= VFU_PCI_NUM_IRQS)
		return -EINVAL;
	if (m->len != sizeof(h) + (q->data == VFU_IRQ_SET_DATA_BOOL ? q->count : 0))
		return -EINVAL;
	if (q->data == VFU_IRQ_SET_DATA_EVENTFD ? (m->nr_fds != 0 && m->nr_fds != q->count) : m->nr_fds != 0)
		return -EINVAL;
	if (q->count == 0)
		return q->data == VFU_IRQ_SET_DATA_NONE && q->act == VFU_IRQ_SET_ACTION_TRIGGER && q->start == 0 ?
			       0 : -EINVAL;
	max = ss->srv->irq_count[q->index];
	if (q->start >= max || q->count > max - q->start)
		return -EINVAL;
	for (size_t i = 0; i < m->nr_fds; i++)
		if (!is_eventfd(m->fds[i]))
			return -EINVAL;
	if (q->data != VFU_IRQ_SET_DATA_EVENTFD && q->act != VFU_IRQ_SET_ACTION_TRIGGER) {
		/* the mask belongs to the enabled type */
		if (!has_type((int)q->index) || (int)q->index != ss->irq_index)
			return -EINVAL;
	}
	return 0;
}

static int act_of(const struct irq_req *q)
{
	return q->act == VFU_IRQ_SET_ACTION_TRIGGER ? SRV_ACT_TRIGGER :
	       q->act == VFU_IRQ_SET_ACTION_MASK ? SRV_ACT_MASK : SRV_ACT_UNMASK;
}

static int set_mask(struct vfu_session *ss, const struct irq_req *q)
{
	upci_dev *dev = ss->srv->dev;
	uint64_t mask[UPCI_IRQ_WORDS];
	int act = act_of(q);
	int idx = (int)q->index;
	int ret = upci_irq_get_mask(dev, mask);

	if (ret)
		return ret;
	for (uint32_t i = 0; i < q->count; i++) {
		uint32_t v = q->start + i;
		uint64_t bit = UINT64_C(1) << (v % 64);

		if (!selected(q, i))
			continue;
		if (act == SRV_ACT_MASK)
			mask[v / 64] &= ~bit;
		else
			mask[v / 64] |= bit;
	}
	ret = upci_irq_set_mask(dev, mask);
	if (ret)
		return ret;
	for (uint32_t i = 0; i < q->count; i++)
		if (selected(q, i))
			fd_signal(ss->efd[idx][act][q->start + i]);
	/* INTx is a level: if the device still asserts it after the unmask
	 * that follows an EOI, it fires again, as on a real line. */
	if (idx == VFU_PCI_INTX_IRQ_INDEX && act == SRV_ACT_UNMASK) {
		uint32_t sts = 0;

		if (upci_config_read(dev, PCI_STATUS, 2, &sts) == 0 && (sts & PCI_STATUS_INTERRUPT))
			fd_signal(ss->efd[idx][SRV_ACT_TRIGGER][0]);
	}
	return 0;
}

/* Disable an index or (de)assign its fds; irq_lock held. */
static int change_fds_locked(struct vfu_session *ss, struct vfu_msg *m, const struct irq_req *q)
{
	int idx = (int)q->index, act = act_of(q), ret;

	if (q->count == 0) {
		disable_index(ss, idx);
		return 0;
	}
	if (act == SRV_ACT_TRIGGER) {
		ret = enable_index(ss, idx);
		if (ret)
			return ret;
	}
	/* fds present: assign; none: de-assign (the spec). A backend that
	 * refuses one stops the request there; the fds not taken are closed
	 * with the message. */
	for (uint32_t i = 0; i < q->count; i++) {
		ret = set_fd(ss, idx, act, q->start + i, m->nr_fds ? vfu_msg_take_fd(m, i) : -1);
		if (ret)
			return ret;
	}
	return 0;
}

/* srv_irq_pollfd's answer; irq_lock held. */
static int pollfd_locked(struct vfu_session *ss)
{
	int fd = ss->irq_index >= 0 && !ss->irq_gone ? upci_irq_fd(ss->srv->dev) : -1;

	return fd >= 0 ? fd : -1;
}

/*
 * Only this thread changes efd[] and irq_index, each time under irq_lock
 * because the loop's watcher reads them (srv_irq_pollfd, srv_irq_relay).
 * So this thread reads them without the lock, and signals the client's
 * fds outside it: the watcher never waits behind a write to a client's
 * eventfd. The watcher is kicked whenever the fd it should poll changes
 * (the index, or the device's irq fd itself: it changes when the first
 * event source is attached), and when the first eventfd arrives: from
 * then on it looks at this thread's writes (fd_signal.h).
 */
int srv_set_irqs(struct vfu_session *ss, struct vfu_msg *m, struct srv_reply *r)
{
	struct irq_req q;
	int before, ret;

	(void)r;
	ret = check_set_irqs(ss, m, &q);
	if (ret)
		return ret;
	if (q.count == 0 || q.data == VFU_IRQ_SET_DATA_EVENTFD) {
		bool had_fds = ss->n_efds > 0;

		pthread_mutex_lock(&ss->irq_lock);
		before = pollfd_locked(ss);
		ret = change_fds_locked(ss, m, &q);
		if (pollfd_locked(ss) != before || (!had_fds && ss->n_efds > 0))
			kick(ss);
		pthread_mutex_unlock(&ss->irq_lock);
		return ret;
	}
	if (act_of(&q) != SRV_ACT_TRIGGER)
		return set_mask(ss, &q);
	/* The client fires vectors itself (loopback through its eventfds). */
	for (uint32_t i = 0; i < q.count; i++)
		if (selected(&q, i))
			fd_signal(ss->efd[q.index][SRV_ACT_TRIGGER][q.start + i]);
	return 0;
}

/* ---- relay for vectors the backend latches only on a take ---- */

int srv_irq_pollfd(struct vfu_session *ss, bool *has_fds)
{
	int fd;

	pthread_mutex_lock(&ss->irq_lock);
	fd = pollfd_locked(ss);
	*has_fds = ss->n_efds > 0;
	pthread_mutex_unlock(&ss->irq_lock);
	return fd;
}

/* Under irq_lock: SET_IRQS may be closing the fds meanwhile. */
void srv_irq_relay(struct vfu_session *ss)
{
	uint64_t pending[UPCI_IRQ_WORDS];
	int idx, n = 0;

	pthread_mutex_lock(&ss->irq_lock);
	idx = ss->irq_index;
	/* Masked vectors stay latched in the device's state; an unmask
	 * replays them to their eventfd (irq_state_set_mask). */
	if (idx >= 0 && !ss->irq_gone)
		n = upci_irq_take_pending(ss->srv->dev, pending);
	if (n < 0) {
		/* The device is gone (its fd stays readable for good): stop
		 * polling it rather than spin; calls get the device's error. */
		ss->irq_gone = true;
		LOG_ERR("vfio-user server: %s: interrupts stop: %s", upci_uri(ss->srv->dev), upci_strerror(n));
	}
	if (n > 0)
		for (unsigned w = 0; w < UPCI_IRQ_WORDS; w++)
			while (pending[w]) {
				unsigned v = w * 64u + (unsigned)__builtin_ctzll(pending[w]);

				pending[w] &= pending[w] - 1;
				fd_signal(ss->efd[idx][SRV_ACT_TRIGGER][v]);
			}
	pthread_mutex_unlock(&ss->irq_lock);
}

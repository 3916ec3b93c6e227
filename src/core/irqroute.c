/* SPDX-License-Identifier: MIT */
/*
 * Vectors routed to the caller's eventfds (upci_irq_set_eventfd), and the
 * mask calls that keep the rules for them.
 *
 * A routed vector is delivered one of two ways:
 *   - the device signals the eventfd itself (ops->irq_set_eventfd: one
 *     vector's VFIO_DEVICE_SET_IRQS, a vfio-user SET_IRQS), so the
 *     interrupt never passes through this process and the fd can be KVM's
 *     irqfd. vfio-pci has no mask for MSI/MSI-X vectors, so while the
 *     library's mask holds the vector back the device is pointed at the
 *     backend's own eventfd again, where the vector latches; enabling it
 *     points the device at the caller's fd and replays what latched. (QEMU
 *     masks its VFIO MSI-X vectors the same way.) MSI and MSI-X only: an
 *     INTx line is re-armed by the library after each interrupt.
 *   - core writes it (irq_state direct delivery) from whichever thread
 *     reports the interrupt: sim, dext, and INTx everywhere.
 *
 * The library owns a dup() of the caller's fd: the caller may close its
 * own at any time, and a closed number can never be written by mistake.
 *
 * Locks, in this order: the handle lock, route_lock, the irq_state lock.
 * upci_irq_set_mask() takes route_lock only, unless it changes the mask of
 * a vector the device signals itself: re-pointing the device is a backend
 * call, and backend calls need the handle lock.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "core.h"
#include "log.h"

static uint64_t bit_of(unsigned vec)
{
	return UINT64_C(1) << (vec % 64u);
}

static bool enabled(struct upci_dev *dev, unsigned vec)
{
	return (atomic_load(&dev->irq.mask[vec / 64u]) & bit_of(vec)) != 0;
}

static bool hw_routed(struct upci_dev *dev, unsigned vec)
{
	return (atomic_load(&dev->route_hw[vec / 64u]) & bit_of(vec)) != 0;
}

/* Can the device signal a caller's eventfd for this set-up itself? */
static bool hw_capable(const struct upci_dev *dev)
{
	return dev->ops->irq_set_eventfd && (dev->irq_type == UPCI_IRQ_MSI || dev->irq_type == UPCI_IRQ_MSIX);
}

int core_irq_fd_is_eventfd(int fd)
{
#ifdef __linux__
	char path[64], link[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		struct stat st;

		/* No /proc (a chroot, an early initramfs): an anonymous inode
		 * (no file type bits) is the best that can be told. The other
		 * kinds (signalfd, timerfd, epoll) refuse an 8-byte write, so
		 * nothing is written into a file by mistake. */
		return (errno == ENOENT || errno == EACCES) && fcntl(fd, F_GETFD) >= 0 && fstat(fd, &st) == 0 &&
		       (st.st_mode & S_IFMT) == 0;
	}
	link[n] = '\0';
	return strcmp(link, "anon_inode:[eventfd]") == 0;
#else
	(void)fd;
	return 0;
#endif
}

/* An fd the library may write one event to from any thread, never
 * blocking: a non-blocking eventfd (Linux), the non-blocking write end of
 * a pipe (elsewhere). 0, -EBADF, -EINVAL. */
static int check_fd(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -EBADF;
	if (!(fl & O_NONBLOCK))
		return -EINVAL;
#ifdef __linux__
	return core_irq_fd_is_eventfd(fd) ? 0 : -EINVAL;
#else
	{
		struct stat st;

		if (fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode) || (fl & O_ACCMODE) == O_RDONLY)
			return -EINVAL;
		return 0;
	}
#endif
}

/* Point the device at the caller's fd (@to_caller) or the backend's own.
 * Handle lock and route_lock held. */
static int hw_point(struct upci_dev *dev, unsigned vec, bool to_caller)
{
	int ret = dev->ops->irq_set_eventfd(dev, vec, to_caller ? dev->route_fd[vec] : -1);

	if (ret)
		LOG_ERR("%s: pointing vector %u at %s eventfd: %s", dev->uri, vec, to_caller ? "the caller's" : "the library's",
			upci_strerror(ret));
	return ret;
}

/*
 * Route @vec to @nfd (a dup the library owns) or back to the library (-1).
 * On success the previous dup is closed; on failure nothing changed and
 * the caller still owns @nfd. Handle lock held.
 */
static int route_locked(struct upci_dev *dev, unsigned vec, int nfd)
{
	const unsigned w = vec / 64u;
	int old, ret = 0;
	bool was_hw, hw;

	pthread_mutex_lock(&dev->route_lock);
	old = dev->route_fd[vec];
	was_hw = hw_routed(dev, vec);
	hw = nfd >= 0 && hw_capable(dev);
	/* Published first: whatever the backend's own eventfd latches from
	 * now on (the device not yet re-pointed, or masked) goes to @nfd. */
	irq_state_set_direct(&dev->irq, vec, nfd);
	dev->route_fd[vec] = nfd;
	/* A masked vector's device stays on the backend's own eventfd. */
	if (enabled(dev, vec) && (hw || was_hw))
		ret = hw_point(dev, vec, hw);
	if (ret) {
		irq_state_set_direct(&dev->irq, vec, old);
		dev->route_fd[vec] = old;
		pthread_mutex_unlock(&dev->route_lock);
		return ret;
	}
	if (hw)
		atomic_fetch_or(&dev->route_hw[w], bit_of(vec));
	else
		atomic_fetch_and(&dev->route_hw[w], ~bit_of(vec));
	pthread_mutex_unlock(&dev->route_lock);
	if (old >= 0)
		close(old);
	return 0;
}

/* Set up with the handle lock held: checks, dup, route. */
static int set_eventfd(struct upci_dev *dev, unsigned vec, int fd, bool public_call)
{
	int nfd = -1, ret;

	if (!dev || vec >= UPCI_MAX_VECTORS || fd < -1)
		return -EINVAL;
	if (fd >= 0 && public_call && (ret = check_fd(fd)) != 0)
		return ret;
	pthread_mutex_lock(&dev->lock);
	if (!dev->claimed) {
		ret = -EPERM;
		goto out;
	}
	if (dev->irq_type == UPCI_IRQ_NONE || vec >= dev->irq_nvec) {
		ret = -EINVAL;
		goto out;
	}
	if (public_call && dev->irq_type == UPCI_IRQ_INTX) {
		ret = -ENOTSUP;
		goto out;
	}
	if (fd >= 0) {
		nfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		if (nfd < 0) {
			ret = -errno;
			goto out;
		}
	}
	ret = route_locked(dev, vec, nfd);
	if (ret && nfd >= 0)
		close(nfd);
out:
	pthread_mutex_unlock(&dev->lock);
	if (ret)
		LOG_DBG("%s: routing vector %u to fd %d: %s", dev->uri, vec, fd, upci_strerror(ret));
	return ret;
}

UPCI_API int upci_irq_set_eventfd(upci_dev *dev, unsigned vec, int fd)
{
	return set_eventfd(dev, vec, fd, true);
}

int upci__irq_set_eventfd(struct upci_dev *dev, unsigned vec, int fd)
{
	return set_eventfd(dev, vec, fd, false);
}

UPCI_API int upci_irq_set_mask(upci_dev *dev, const uint64_t mask[UPCI_IRQ_WORDS])
{
	uint64_t old[UPCI_IRQ_WORDS], change = 0;
	int ret = 0;

	if (!dev || !mask)
		return -EINVAL;
	pthread_mutex_lock(&dev->route_lock);
	irq_state_get_mask(&dev->irq, old);
	for (unsigned w = 0; w < UPCI_IRQ_WORDS; w++)
		change |= (old[w] ^ mask[w]) & atomic_load(&dev->route_hw[w]);
	if (!change) {
		irq_state_set_mask(&dev->irq, mask);
		pthread_mutex_unlock(&dev->route_lock);
		return 0;
	}
	/* The device must be re-pointed: take the locks in order. */
	pthread_mutex_unlock(&dev->route_lock);
	pthread_mutex_lock(&dev->lock);
	pthread_mutex_lock(&dev->route_lock);
	irq_state_get_mask(&dev->irq, old);
	/* Mask first: a vector being held back latches from here on, and one
	 * being let through is replayed to its fd by set_mask, then by the
	 * backend for what its own eventfd still holds. */
	irq_state_set_mask(&dev->irq, mask);
	for (unsigned v = 0; v < UPCI_MAX_VECTORS; v++) {
		uint64_t b = bit_of(v);
		int r;

		if (!hw_routed(dev, v) || !((old[v / 64u] ^ mask[v / 64u]) & b))
			continue;
		r = hw_point(dev, v, (mask[v / 64u] & b) != 0);
		if (r && !ret)
			ret = r;
	}
	pthread_mutex_unlock(&dev->route_lock);
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

void core_irq_routes_drop_locked(struct upci_dev *dev)
{
	pthread_mutex_lock(&dev->route_lock);
	for (unsigned v = 0; v < UPCI_MAX_VECTORS; v++)
		if (dev->route_fd[v] >= 0) {
			close(dev->route_fd[v]);
			dev->route_fd[v] = -1;
		}
	for (unsigned w = 0; w < UPCI_IRQ_WORDS; w++)
		atomic_store(&dev->route_hw[w], 0);
	pthread_mutex_unlock(&dev->route_lock);
}

int core_irq_routes_reapply_locked(struct upci_dev *dev)
{
	int ret = 0;

	pthread_mutex_lock(&dev->route_lock);
	for (unsigned v = 0; v < UPCI_MAX_VECTORS; v++)
		if (hw_routed(dev, v) && enabled(dev, v)) {
			int r = hw_point(dev, v, true);

			if (r && !ret)
				ret = r;
		}
	pthread_mutex_unlock(&dev->route_lock);
	return ret;
}

int upci__irq_repoint(struct upci_dev *dev, unsigned vec, int fd, int own, int rearm,
		      int (*point)(struct upci_dev *dev, unsigned vec, int fd))
{
	int ret;

	if (fd < 0) {
		/* Ours again: watched before the device signals it. */
		ret = irq_state_attach_source_rearm(&dev->irq, vec, own, rearm);
		if (ret)
			return ret;
		return point(dev, vec, own);
	}
	ret = point(dev, vec, fd);
	if (ret)
		return ret;
	/* Detached, so no take reads it any more; then whatever it caught
	 * before the switch is delivered (to @fd, the vector's route). */
	irq_state_attach_source(&dev->irq, vec, -1);
	irq_state_latch_fd(&dev->irq, vec, own);
	return 0;
}

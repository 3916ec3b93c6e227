/* SPDX-License-Identifier: MIT */
/*
 * Interrupts in the driver model. SetupInterrupts enables the device's
 * MSI-X (else MSI) vectors on the sim handle and creates the client's
 * 16 KiB state page: pending[4] at 0x00, enabled[4] at 0x20 (all ones).
 * The vectors then belong to that client: the dext registers a dispatch
 * source per vector for each client that sets up (VFIOUserPCIDriver.cpp
 * vfio_user_setup_interrupts), a message-signalled vector takes one
 * handler (IOPCIFamily IOPCIMessagedInterruptController.cpp
 * registerInterrupt: kIOReturnNoResources for the second), so another
 * client registers none and gets kIOReturnNotFound until the owner's Stop
 * cancels its sources.
 * A vector from the device is dropped when its enabled bit is clear, else
 * ORed into pending; an armed WaitInterrupt then completes. WaitInterrupt
 * completes at once when anything is pending; CheckInterrupt exchanges
 * each pending word with zero.
 *
 * The device's vectors arrive on the sim handle's pollable fd; one thread
 * per device waits on it (and on a stop eventfd) and routes them. Every
 * selector call also routes what is pending when it ends: a device
 * interrupts within a microsecond or so of a register write, well before a
 * Mach reply reaches the client, so the model latches it before replying.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shim.h"

static void complete(struct drv_client *c)
{
	struct IONotificationPort *p = c->wait_port;

	if (!c->armed)
		return;
	c->armed = 0;
	c->wait_port = NULL;
	shim_port_complete(p, c->wait_fn, c->wait_refcon);
	shim_port_unref(p);
}

static int any_pending(const struct drv_client *c)
{
	for (unsigned w = 0; w < DEXT_IRQ_WORDS; w++)
		if (__atomic_load_n(&c->page->pending[w], __ATOMIC_ACQUIRE))
			return 1;
	return 0;
}

kern_return_t drv_irq_setup(struct drv_client *c, unsigned *nvec)
{
	struct drv_dev *d = c->d;
	enum upci_irq_type type = UPCI_IRQ_MSIX;
	int n;

	*nvec = 0;
	if (!drv_provider_open(c))
		return kIOReturnNotOpen;
	if (c->irq_setup)
		return kIOReturnStillOpen;
	if (d->irq_owner && d->irq_owner != c)
		return kIOReturnNotFound;
	n = upci_irq_count(d->sim, UPCI_IRQ_MSIX);
	if (n <= 0) {
		type = UPCI_IRQ_MSI;
		n = upci_irq_count(d->sim, UPCI_IRQ_MSI);
	}
	if (n <= 0)
		return kIOReturnNotFound; /* no vector could be registered */
	if (n > (int)DEXT_MAX_VECTORS)
		n = DEXT_MAX_VECTORS;
	c->page_fd = memfd_create("dext-irq-page", MFD_CLOEXEC);
	if (c->page_fd < 0 || ftruncate(c->page_fd, DEXT_IRQ_PAGE_SIZE) != 0)
		goto fail;
	c->page = mmap(NULL, DEXT_IRQ_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, c->page_fd, 0);
	if (c->page == MAP_FAILED) {
		c->page = NULL;
		goto fail;
	}
	memset(c->page->enabled, 0xff, sizeof(c->page->enabled));
	if (upci_irq_enable(d->sim, type, (unsigned)n) != n)
		goto fail;
	d->irq_owner = c;
	c->irq_setup = 1;
	c->nirq = (unsigned)n;
	*nvec = (unsigned)n;
	return kIOReturnSuccess;
fail:
	if (c->page)
		munmap(c->page, DEXT_IRQ_PAGE_SIZE);
	c->page = NULL;
	if (c->page_fd >= 0)
		close(c->page_fd);
	c->page_fd = -1;
	return kIOReturnNoResources;
}

void drv_irq_release(struct drv_client *c)
{
	if (!c->irq_setup)
		return;
	if (c->armed) { /* dropped, never completed */
		c->armed = 0;
		shim_port_unref(c->wait_port);
		c->wait_port = NULL;
	}
	munmap(c->page, DEXT_IRQ_PAGE_SIZE);
	close(c->page_fd);
	c->page = NULL;
	c->page_fd = -1;
	c->irq_setup = 0;
	c->nirq = 0;
	if (c->d->irq_owner == c) {
		c->d->irq_owner = NULL;
		upci_irq_disable(c->d->sim);
	}
}

kern_return_t drv_irq_check(struct drv_client *c, uint64_t pending[DEXT_IRQ_WORDS])
{
	if (!c->irq_setup)
		return kIOReturnNotReady;
	for (unsigned w = 0; w < DEXT_IRQ_WORDS; w++)
		pending[w] = __atomic_exchange_n(&c->page->pending[w], 0, __ATOMIC_ACQ_REL);
	return kIOReturnSuccess;
}

kern_return_t drv_irq_wait(struct drv_client *c, struct IONotificationPort *port, const uint64_t *ref,
			   uint32_t nref)
{
	if (!ref || nref < kIOAsyncCalloutCount)
		return kIOReturnBadArgument;
	if (!c->irq_setup)
		return kIOReturnNotReady;
	if (c->armed) /* one outstanding completion: the new one replaces it */
		shim_port_unref(c->wait_port);
	shim_port_ref(port);
	c->wait_port = port;
	c->wait_fn = ref[kIOAsyncCalloutFuncIndex];
	c->wait_refcon = ref[kIOAsyncCalloutRefconIndex];
	c->armed = 1;
	if (any_pending(c))
		complete(c);
	return kIOReturnSuccess;
}

kern_return_t drv_irq_set_mask(struct drv_client *c, const uint64_t mask[DEXT_IRQ_WORDS])
{
	if (!c->irq_setup)
		return kIOReturnNotReady;
	for (unsigned w = 0; w < DEXT_IRQ_WORDS; w++)
		__atomic_store_n(&c->page->enabled[w], mask[w], __ATOMIC_RELEASE);
	return kIOReturnSuccess;
}

void drv_irq_vector(struct drv_dev *d, unsigned vec)
{
	uint64_t bit = UINT64_C(1) << (vec % 64);
	struct drv_client *c = d->irq_owner;

	if (vec >= DEXT_MAX_VECTORS || !c || !c->irq_setup || vec >= c->nirq)
		return;
	if (!(__atomic_load_n(&c->page->enabled[vec / 64], __ATOMIC_ACQUIRE) & bit))
		return;
	__atomic_fetch_or(&c->page->pending[vec / 64], bit, __ATOMIC_RELEASE);
	complete(c);
}

static void route(struct drv_dev *d, const uint64_t pend[UPCI_IRQ_WORDS])
{
	for (unsigned w = 0; w < UPCI_IRQ_WORDS; w++)
		for (uint64_t b = pend[w]; b; b &= b - 1)
			drv_irq_vector(d, 64 * w + (unsigned)__builtin_ctzll(b));
}

void drv_irq_poll_device(struct drv_dev *d)
{
	uint64_t pend[UPCI_IRQ_WORDS];

	if (d->irq_owner && upci_irq_take_pending(d->sim, pend) > 0)
		route(d, pend);
}

static void *irq_main(void *arg)
{
	struct drv_dev *d = arg;
	struct pollfd p[2];

	p[0].fd = upci_irq_fd(d->sim);
	p[0].events = POLLIN;
	p[1].fd = d->stop_fd;
	p[1].events = POLLIN;
	for (;;) {
		uint64_t pend[UPCI_IRQ_WORDS];

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		if (upci_irq_take_pending(d->sim, pend) <= 0)
			continue;
		pthread_mutex_lock(&shim_lock);
		route(d, pend);
		pthread_mutex_unlock(&shim_lock);
	}
	return NULL;
}

int drv_irq_thread_start(struct drv_dev *d)
{
	int ret = pthread_create(&d->irq_thread, NULL, irq_main, d);

	if (ret)
		return -ret;
	d->irq_thread_on = 1;
	return 0;
}

void drv_irq_thread_stop(struct drv_dev *d)
{
	uint64_t one = 1;

	if (!d->irq_thread_on)
		return;
	if (write(d->stop_fd, &one, sizeof(one)) == (ssize_t)sizeof(one))
		pthread_join(d->irq_thread, NULL);
	d->irq_thread_on = 0;
}

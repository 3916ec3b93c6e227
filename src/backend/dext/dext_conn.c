/* SPDX-License-Identifier: MIT */
/*
 * Finding the driver instance of a BDF, sharing its connection, the claim,
 * and the instance going away.
 *
 * Matching: every IOUserService whose IOUserClass is VFIOUserPCIDriver is
 * looked up in the registry (dext_reg.c); only the one serving BB:DD.F is
 * opened (user-client type 0). When two do, under different PCIe roots,
 * the BDF does not say which: refused rather than guessed.
 *
 * Sharing: the driver keeps DMA regions, the DMA buffer, interrupts and the
 * claim per user client. As the QEMU series shares one connection per host
 * function between the VFIO device and its DMA companion device, upci keeps
 * one connection per service (keyed by registry entry ID) for the whole
 * process, counted by the handles that use it; it closes, and the driver
 * releases everything, when the last handle closes. upci's claim is kept
 * here on top of the driver's shared one, so that within the process it is
 * exclusive (the driver lets any client claim).
 *
 * Removal: a Thunderbolt device can be unplugged and the dext can die;
 * then nothing answers a WaitInterrupt. An interest notification on the
 * service reports kIOMessageServiceIsTerminated: every handle's interrupt
 * waiters wake with -ENODEV and every later call fails with it; closing
 * still frees everything. A call that finds the instance gone first
 * (kIOReturnOffline, MIG_SERVER_DIED) does the same.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <IOKit/IOMessage.h>

#include "dext.h"
#include "log.h"

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dext_conn *cache;

static int is_driver_instance(io_service_t s)
{
	CFTypeRef cls = IORegistryEntryCreateCFProperty(s, CFSTR(DEXT_USER_CLASS_KEY), kCFAllocatorDefault, 0);
	int yes;

	if (!cls)
		return 0;
	yes = CFEqual(cls, CFSTR(DEXT_USER_CLASS));
	CFRelease(cls);
	return yes;
}

static struct dext_conn *cached(uint64_t entry_id)
{
	for (struct dext_conn *c = cache; c; c = c->next)
		if (c->entry_id == entry_id)
			return c;
	return NULL;
}

void dext_conn_lost(struct dext_conn *c)
{
	int none = 0;

	pthread_mutex_lock(&c->lock);
	if (atomic_compare_exchange_strong(&c->gone, &none, -ENODEV)) {
		LOG_ERR("dext:%s: the driver instance is gone (device removed or driver stopped)", c->name);
		for (struct dext_dev *h = c->handles; h; h = h->next)
			irq_state_fail(&h->dev->irq, -ENODEV);
	}
	pthread_mutex_unlock(&c->lock);
}

/* On the connection's queue. */
static void interest(void *refcon, io_service_t service, uint32_t type, void *arg)
{
	(void)service;
	(void)arg;
	if (type == kIOMessageServiceIsTerminated)
		dext_conn_lost(refcon);
}

static void lost_cb(void *arg)
{
	dext_conn_lost(arg);
}

static void flush_done(void *arg)
{
	(void)arg;
}

/* Tear down what conn_open built; c is not shared (any more). */
static void conn_free(struct dext_conn *c)
{
	int gone = dext_conn_gone(c);

	if (c->irq)
		dext_irq_stop(c->irq);
	if (c->interest)
		IOObjectRelease(c->interest);
	/* No delivery after this; one in progress finishes before the sync. */
	if (c->notify)
		IONotificationPortDestroy(c->notify);
	if (c->queue)
		dispatch_sync_f(c->queue, NULL, flush_done);
	if (c->irq)
		dext_irq_free(c->irq, gone);
	/* The driver now releases interrupts, DMA regions, the DMA buffer and
	 * the claim of this client (its Stop). */
	if (c->port)
		IOServiceClose(c->port);
	if (c->queue)
		dispatch_release(c->queue);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static int conn_open(io_service_t s, uint64_t entry_id, const struct dext_regid *id, struct dext_conn **out)
{
	struct dext_conn *c = calloc(1, sizeof(*c));
	char label[48];
	kern_return_t kr;

	if (!c)
		return -ENOMEM;
	c->entry_id = entry_id;
	c->id = *id;
	snprintf(c->name, sizeof(c->name), "%02x:%02x.%x", id->bus, id->dev, id->fn);
	atomic_init(&c->gone, 0);
	pthread_mutex_init(&c->lock, NULL);
	kr = IOServiceOpen(s, mach_task_self(), DEXT_CLIENT_TYPE, &c->port);
	if (kr != kIOReturnSuccess) {
		LOG_ERR("dext:%s: opening its driver instance: %s", c->name, dext_kr_name(kr));
		c->port = IO_OBJECT_NULL;
		conn_free(c);
		return dext_errno(kr);
	}
	snprintf(label, sizeof(label), "upci.dext.%s", c->name);
	c->notify = IONotificationPortCreate(kIOMainPortDefault);
	c->queue = dispatch_queue_create(label, DISPATCH_QUEUE_SERIAL);
	if (!c->notify || !c->queue) {
		conn_free(c);
		return -ENOMEM;
	}
	IONotificationPortSetDispatchQueue(c->notify, c->queue);
	kr = IOServiceAddInterestNotification(c->notify, s, kIOGeneralInterest, interest, c, &c->interest);
	if (kr != kIOReturnSuccess) {
		/* Terminated meanwhile, most likely: without the notice a
		 * removal would leave waiters asleep, so do not go on. */
		LOG_ERR("dext:%s: watching its driver instance: %s", c->name, dext_kr_name(kr));
		c->interest = IO_OBJECT_NULL;
		conn_free(c);
		return dext_errno(kr);
	}
	dext_state_bars(c); /* nobody else sees c yet */
	*out = c;
	return 0;
}

/* Registry IDs of the roots of the matches, for the ambiguity message. */
#define MAX_LISTED 4

int dext_conn_get(uint8_t bus, uint8_t dev, uint8_t fn, struct dext_conn **out)
{
	CFMutableDictionaryRef match;
	io_iterator_t it = IO_OBJECT_NULL;
	io_service_t s, chosen = IO_OBJECT_NULL;
	struct dext_regid id, chosen_id = {0};
	uint64_t chosen_entry = 0, roots[MAX_LISTED];
	struct dext_conn *c = NULL;
	int seen = 0, matches = 0, ret = 0;
	kern_return_t kr;

	pthread_mutex_lock(&cache_lock);
	match = IOServiceMatching(DEXT_SERVICE_CLASS);
	kr = match ? IOServiceGetMatchingServices(kIOMainPortDefault, match, &it) : kIOReturnNoMemory;
	if (kr != kIOReturnSuccess) {
		LOG_ERR("dext: listing IOUserService entries: %s", dext_kr_name(kr));
		pthread_mutex_unlock(&cache_lock);
		return dext_errno(kr);
	}
	while ((s = IOIteratorNext(it)) != IO_OBJECT_NULL) {
		uint64_t entry_id = 0;

		if (is_driver_instance(s) && IORegistryEntryGetRegistryEntryID(s, &entry_id) == kIOReturnSuccess &&
		    dext_reg_identity(s, &id) == 0) {
			seen++;
			if (id.bus == bus && id.dev == dev && id.fn == fn) {
				if (matches < MAX_LISTED)
					roots[matches] = id.root;
				if (matches++ == 0) {
					chosen = s;
					chosen_entry = entry_id;
					chosen_id = id;
					continue; /* keep it */
				}
			}
		}
		IOObjectRelease(s);
	}
	IOObjectRelease(it);
	if (matches == 0) {
		LOG_INFO("dext: no VFIOUserPCIDriver for %02x:%02x.%x among %d instance(s)", bus, dev, fn, seen);
		ret = -ENOENT;
	} else if (matches > 1) {
		LOG_ERR("dext: %02x:%02x.%x names %d devices, under different PCIe roots (root port registry IDs "
			"0x%llx, 0x%llx%s): a dext: URI has no root, so none is opened; unbind the others from "
			"VFIOUserPCIDriver", bus, dev, fn, matches, (unsigned long long)roots[0],
			(unsigned long long)roots[1], matches > 2 ? ", ..." : "");
		ret = -ENXIO;
	} else if ((c = cached(chosen_entry)) == NULL) {
		ret = conn_open(chosen, chosen_entry, &chosen_id, &c);
		if (ret == 0) {
			c->next = cache;
			cache = c;
		}
	}
	if (chosen)
		IOObjectRelease(chosen);
	if (ret == 0) {
		c->refs++;
		*out = c;
	}
	pthread_mutex_unlock(&cache_lock);
	return ret;
}

void dext_conn_put(struct dext_conn *c)
{
	struct dext_conn **pp;

	pthread_mutex_lock(&cache_lock);
	if (--c->refs) {
		pthread_mutex_unlock(&cache_lock);
		return;
	}
	for (pp = &cache; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	pthread_mutex_unlock(&cache_lock);
	conn_free(c);
}

void dext_conn_attach(struct dext_conn *c, struct dext_dev *h)
{
	pthread_mutex_lock(&c->lock);
	h->next = c->handles;
	c->handles = h;
	/* Gone before this handle existed: its waiters learn it too. */
	if (dext_conn_gone(c))
		irq_state_fail(&h->dev->irq, dext_conn_gone(c));
	pthread_mutex_unlock(&c->lock);
}

void dext_conn_detach(struct dext_conn *c, struct dext_dev *h)
{
	pthread_mutex_lock(&c->lock);
	for (struct dext_dev **pp = &c->handles; *pp; pp = &(*pp)->next)
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	pthread_mutex_unlock(&c->lock);
}

int dext_conn_claim(struct dext_conn *c, struct upci_dev *dev)
{
	int ret = 0;

	pthread_mutex_lock(&c->lock);
	if (dext_conn_gone(c)) {
		ret = -ENODEV;
	} else if (c->owner && c->owner != dev) {
		ret = -EBUSY;
	} else if (!c->claimed) {
		/* Once per connection: the driver has no unclaim; its claim
		 * ends when the connection closes. */
		ret = dext_claim(c->port);
		if (ret)
			LOG_ERR("dext:%s: Claim: %s", c->name, upci_strerror(ret));
		else
			c->claimed = 1;
	}
	/* What the unopened device could not tell: its header, and which
	 * BARs the platform lets us map. */
	if (ret == 0 && !c->probed)
		dext_state_probe(c);
	if (ret == 0) {
		ret = dext_state_header(c);
		if (ret)
			LOG_ERR("dext:%s: claimed, but its config space cannot be read (%s)", c->name,
				ret == -EACCES ? "all ones: the device was closed" : upci_strerror(ret));
		if (ret == -EACCES)
			ret = -EIO;
	}
	if (ret == 0)
		c->owner = dev;
	pthread_mutex_unlock(&c->lock);
	return ret;
}

void dext_conn_release(struct dext_conn *c, struct upci_dev *dev)
{
	pthread_mutex_lock(&c->lock);
	if (c->owner == dev)
		c->owner = NULL;
	pthread_mutex_unlock(&c->lock);
}

int dext_conn_irq(struct dext_conn *c, struct dext_irq **q, unsigned *nvec)
{
	int ret = 0;

	pthread_mutex_lock(&c->lock);
	if (dext_conn_gone(c))
		ret = -ENODEV;
	if (ret == 0 && !c->irq_nvec) {
		unsigned n = 0;

		ret = dext_setup_interrupts(c->port, &n);
		/* The dext registers the vectors per client; one that another
		 * client (another process) holds cannot be registered again
		 * and the dext finds none to register: NotFound. */
		if (ret == -ENOENT) {
			LOG_ERR("dext:%s: SetupInterrupts: another client of the driver holds the device's interrupts",
				c->name);
			ret = -EBUSY;
		} else if (ret) {
			LOG_ERR("dext:%s: SetupInterrupts: %s", c->name, upci_strerror(ret));
		} else if (n == 0) {
			ret = -ENOTSUP;
		} else {
			c->irq_nvec = n;
		}
	}
	if (ret == 0 && !c->irq)
		ret = dext_irq_create(c->port, c->notify, lost_cb, c, &c->irq);
	if (ret == 0) {
		*q = c->irq;
		*nvec = c->irq_nvec;
	}
	pthread_mutex_unlock(&c->lock);
	return ret;
}

/* SPDX-License-Identifier: MIT */
/*
 * Finding the driver instance of a BDF, and sharing its connection.
 *
 * Matching: every IOUserService whose IOUserClass is VFIOUserPCIDriver is
 * opened (user-client type 0) and asked GetIdentity; the one whose
 * bus/device/function match is kept, the others are closed again.
 *
 * Sharing: the driver keeps DMA regions, the DMA buffer, interrupts and the
 * claim per user client. As the QEMU series shares one connection per host
 * function between the VFIO device and its DMA companion device, upci keeps
 * one connection per service (keyed by registry entry ID) for the whole
 * process, counted by the handles that use it; it closes, and the driver
 * releases everything, when the last handle closes. upci's claim is kept
 * here on top of the driver's shared one, so that within the process it is
 * exclusive (the driver lets any client claim).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

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

static int same_bdf(const struct dext_identity *id, uint8_t bus, uint8_t dev, uint8_t fn)
{
	return id->bus == bus && id->dev == dev && id->fn == fn;
}

/* Open @s and keep it when it is BB:DD.F: 0 (kept, in *out), 1 (another
 * function), or -errno. Caller holds cache_lock. */
static int try_service(io_service_t s, uint64_t entry_id, uint8_t bus, uint8_t dev, uint8_t fn,
		       struct dext_conn **out)
{
	struct dext_identity id;
	struct dext_conn *c;
	io_connect_t port = IO_OBJECT_NULL;
	kern_return_t kr;
	int ret;

	kr = IOServiceOpen(s, mach_task_self(), DEXT_CLIENT_TYPE, &port);
	if (kr != kIOReturnSuccess) {
		LOG_DBG("dext: opening driver instance 0x%llx: %s", (unsigned long long)entry_id, dext_kr_name(kr));
		return dext_errno(kr);
	}
	ret = dext_get_identity(port, &id);
	if (ret || !same_bdf(&id, bus, dev, fn)) {
		IOServiceClose(port);
		return ret ? ret : 1;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		IOServiceClose(port);
		return -ENOMEM;
	}
	c->entry_id = entry_id;
	c->port = port;
	c->id = id;
	pthread_mutex_init(&c->lock, NULL);
	c->next = cache;
	cache = c;
	*out = c;
	return 0;
}

int dext_conn_get(uint8_t bus, uint8_t dev, uint8_t fn, struct dext_conn **out)
{
	CFMutableDictionaryRef match;
	io_iterator_t it = IO_OBJECT_NULL;
	io_service_t s;
	struct dext_conn *found = NULL;
	int seen = 0, open_err = 0, ret;
	kern_return_t kr;

	pthread_mutex_lock(&cache_lock);
	match = IOServiceMatching(DEXT_SERVICE_CLASS);
	kr = match ? IOServiceGetMatchingServices(kIOMainPortDefault, match, &it) : kIOReturnNoMemory;
	if (kr != kIOReturnSuccess) {
		LOG_ERR("dext: listing IOUserService entries: %s", dext_kr_name(kr));
		pthread_mutex_unlock(&cache_lock);
		return dext_errno(kr);
	}
	while (!found && (s = IOIteratorNext(it)) != IO_OBJECT_NULL) {
		uint64_t entry_id = 0;

		if (is_driver_instance(s) && IORegistryEntryGetRegistryEntryID(s, &entry_id) == kIOReturnSuccess) {
			struct dext_conn *c = cached(entry_id);

			seen++;
			if (c) {
				if (same_bdf(&c->id, bus, dev, fn))
					found = c;
			} else {
				ret = try_service(s, entry_id, bus, dev, fn, &found);
				if (ret < 0 && !open_err)
					open_err = ret;
			}
		}
		IOObjectRelease(s);
	}
	IOObjectRelease(it);
	if (found)
		found->refs++;
	pthread_mutex_unlock(&cache_lock);
	if (found) {
		*out = found;
		return 0;
	}
	/* A driver instance we could not open may be this one: say why. */
	if (open_err) {
		LOG_ERR("dext: no VFIOUserPCIDriver for %02x:%02x.%x among %d instance(s); opening one failed: %s", bus,
			dev, fn, seen, upci_strerror(open_err));
		return open_err;
	}
	LOG_INFO("dext: no VFIOUserPCIDriver for %02x:%02x.%x among %d instance(s)", bus, dev, fn, seen);
	return -ENOENT;
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
	if (c->irq)
		dext_irq_destroy(c->irq);
	/* The driver now releases interrupts, DMA regions, the DMA buffer and
	 * the claim of this client. */
	IOServiceClose(c->port);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

int dext_conn_claim(struct dext_conn *c, struct upci_dev *dev)
{
	int ret = 0;

	pthread_mutex_lock(&c->lock);
	if (c->owner && c->owner != dev) {
		ret = -EBUSY;
	} else if (!c->claimed) {
		/* Once per connection: the driver has no unclaim; its claim
		 * ends when the connection closes. */
		ret = dext_claim(c->port);
		if (ret)
			LOG_ERR("dext: Claim of %02x:%02x.%x: %s", c->id.bus, c->id.dev, c->id.fn, upci_strerror(ret));
		else
			c->claimed = 1;
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
	char label[48];
	int ret = 0;

	pthread_mutex_lock(&c->lock);
	if (!c->irq_nvec) {
		unsigned n = 0;

		ret = dext_setup_interrupts(c->port, &n);
		if (ret)
			LOG_ERR("dext: SetupInterrupts: %s", upci_strerror(ret));
		else if (n == 0)
			ret = -ENOTSUP;
		else
			c->irq_nvec = n;
	}
	if (ret == 0 && !c->irq) {
		snprintf(label, sizeof(label), "upci.dext.%02x:%02x.%x.irq", c->id.bus, c->id.dev, c->id.fn);
		ret = dext_irq_create(c->port, label, &c->irq);
	}
	if (ret == 0) {
		*q = c->irq;
		*nvec = c->irq_nvec;
	}
	pthread_mutex_unlock(&c->lock);
	return ret;
}

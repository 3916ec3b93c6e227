/* SPDX-License-Identifier: MIT */
/* The shim's test API over the driver model's state (iokit_shim.h). */
#include <errno.h>

#include "shim.h"

static struct drv_dev *find_locked(uint8_t bus, uint8_t dev, uint8_t fn)
{
	drv_ensure_init();
	return drv_find(bus, dev, fn);
}

int iokit_shim_fire(uint8_t bus, uint8_t dev, uint8_t fn, unsigned vec)
{
	struct drv_dev *d;

	pthread_mutex_lock(&shim_lock);
	d = find_locked(bus, dev, fn);
	if (d)
		drv_irq_vector(d, vec);
	pthread_mutex_unlock(&shim_lock);
	return d ? 0 : -ENOENT;
}

int iokit_shim_dart_info(uint8_t bus, uint8_t dev, uint8_t fn, struct iokit_shim_dart *out)
{
	struct drv_dev *d;

	pthread_mutex_lock(&shim_lock);
	d = find_locked(bus, dev, fn);
	if (d)
		dart_usage(d->dart, &out->base, &out->size, &out->mapped, &out->mappings);
	pthread_mutex_unlock(&shim_lock);
	return d ? 0 : -ENOENT;
}

unsigned iokit_shim_dma_regions(uint8_t bus, uint8_t dev, uint8_t fn)
{
	struct drv_dev *d;
	unsigned n = 0;

	pthread_mutex_lock(&shim_lock);
	d = find_locked(bus, dev, fn);
	for (struct drv_client *c = d ? d->clients : NULL; c; c = c->next)
		n += drv_dma_count(c);
	pthread_mutex_unlock(&shim_lock);
	return n;
}

int iokit_shim_claim_state(uint8_t bus, uint8_t dev, uint8_t fn, unsigned *refs, int *open)
{
	struct drv_dev *d;

	pthread_mutex_lock(&shim_lock);
	d = find_locked(bus, dev, fn);
	if (d) {
		*refs = d->claim_refs;
		*open = d->provider_open;
	}
	pthread_mutex_unlock(&shim_lock);
	return d ? 0 : -ENOENT;
}

upci_dev *iokit_shim_simdev(uint8_t bus, uint8_t dev, uint8_t fn)
{
	struct drv_dev *d;

	pthread_mutex_lock(&shim_lock);
	d = find_locked(bus, dev, fn);
	pthread_mutex_unlock(&shim_lock);
	return d ? d->sim : NULL;
}

const char *iokit_shim_last_reset(uint8_t bus, uint8_t dev, uint8_t fn)
{
	struct drv_dev *d;
	const char *r;

	pthread_mutex_lock(&shim_lock);
	d = find_locked(bus, dev, fn);
	r = d ? d->last_reset : NULL;
	pthread_mutex_unlock(&shim_lock);
	return r;
}

int iokit_shim_unplug(uint8_t bus, uint8_t dev, uint8_t fn, kern_return_t kr)
{
	struct drv_dev *d;

	pthread_mutex_lock(&shim_lock);
	d = find_locked(bus, dev, fn);
	if (d)
		drv_terminate(d, kr);
	pthread_mutex_unlock(&shim_lock);
	return d ? 0 : -ENOENT;
}

unsigned iokit_shim_opens(uint8_t bus, uint8_t dev, uint8_t fn)
{
	unsigned n = 0;

	pthread_mutex_lock(&shim_lock);
	drv_ensure_init();
	for (struct drv_dev *d = shim_devices; d; d = d->next)
		if (d->sim && d->bus == bus && d->dev == dev && d->fn == fn)
			n += d->opens;
	pthread_mutex_unlock(&shim_lock);
	return n;
}

unsigned iokit_shim_connections(void)
{
	unsigned n = 0;

	pthread_mutex_lock(&shim_lock);
	for (struct drv_dev *d = shim_devices; d; d = d->next)
		for (struct drv_client *c = d->clients; c; c = c->next)
			n++;
	pthread_mutex_unlock(&shim_lock);
	return n;
}

void iokit_shim_set_dart_error(kern_return_t kr)
{
	pthread_mutex_lock(&shim_lock);
	drv_ensure_init();
	for (struct drv_dev *d = shim_devices; d; d = d->next)
		d->dart_error = kr ? kr : kIOReturnNoResources;
	pthread_mutex_unlock(&shim_lock);
}

unsigned iokit_shim_live_objects_locked(void)
{
	unsigned n = shim_names_live();

	for (struct drv_dev *d = shim_devices; d; d = d->next)
		for (struct drv_client *c = d->clients; c; c = c->next)
			for (struct drv_mapping *m = c->maps; m; m = m->next)
				n++;
	return n;
}

unsigned iokit_shim_live_objects(void)
{
	unsigned n;

	pthread_mutex_lock(&shim_lock);
	n = iokit_shim_live_objects_locked();
	pthread_mutex_unlock(&shim_lock);
	return n;
}

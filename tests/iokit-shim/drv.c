/* SPDX-License-Identifier: MIT */
/*
 * The model of the VFIOUserPCIDriver's driver side: one instance per
 * configured BDF, its "PCI device" a upci sim device opened through the
 * public API and held claimed by the "platform" (this file), which also
 * assigns the BAR addresses. User clients and what their close releases
 * (the client's Stop: interrupts, DMA regions, the DMA buffer, the claim,
 * with the opener rule) are here too; the selectors are in drv_call.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "pci_regs.h"
#include "shim.h"
#include "uri.h"

/* Bus addresses the DART hands out start here: below the edu's 28-bit
 * DMA mask, above where the tests look for unmapped holes, and an unusual
 * value, so that a bus address equal to the IOVA would be a coincidence. */
#define SHIM_DART_BASE UINT64_C(0x0a000000)
#define DECOY_CLASS "AppleDecoyPCIDriver"

struct drv_dev *shim_devices;
static int configured;
static uint64_t next_entry_id = 0x100000a1;
static uint64_t dart_size = DEXT_DART_SPACE;

void iokit_shim_set_dart_size(uint64_t size)
{
	pthread_mutex_lock(&shim_lock);
	dart_size = size ? size : DEXT_DART_SPACE;
	pthread_mutex_unlock(&shim_lock);
}

/* ---- instances ---- */

/* "The platform assigned" each memory BAR an address (as macOS does before
 * a driver starts): real-looking raw registers that reads through the
 * driver never show. Also the restore after a reset. */
void drv_assign_bars(struct drv_dev *d)
{
	uint64_t addr32 = 0xc0000000u, addr64 = UINT64_C(0x4000000000);

	for (unsigned b = 0; b < UPCI_NUM_BARS; b++) {
		uint64_t a;

		if (!d->bar_size[b] || (d->bar_type[b] & DEXT_BAR_TYPE_IO))
			continue;
		if ((d->bar_type[b] & DEXT_BAR_TYPE_MEM_MASK) == DEXT_BAR_TYPE_MEM64) {
			a = addr64;
			addr64 += d->bar_size[b] > 0x10000000u ? d->bar_size[b] : 0x10000000u;
			upci_config_write(d->sim, PCI_BAR_OFFSET(b), 4, (uint32_t)a);
			upci_config_write(d->sim, PCI_BAR_OFFSET(b + 1), 4, (uint32_t)(a >> 32));
		} else {
			a = addr32;
			addr32 += d->bar_size[b] > 0x100000u ? d->bar_size[b] : 0x100000u;
			upci_config_write(d->sim, PCI_BAR_OFFSET(b), 4, (uint32_t)a);
		}
	}
}

static int dev_start(struct drv_dev *d)
{
	unsigned memidx = 0;
	int ret;

	ret = upci_open(&d->sim, d->uri);
	if (ret == 0)
		ret = upci_claim(d->sim);
	if (ret)
		return ret;
	for (unsigned b = 0; b < UPCI_NUM_BARS; b++) {
		struct upci_bar_info bi;
		uint64_t len;

		if (upci_bar_info(d->sim, b, &bi) || !(bi.flags & UPCI_BAR_PRESENT))
			continue;
		d->bar_size[b] = bi.size;
		d->bar_mem_flags[b] = bi.flags;
		d->bar_type[b] = (uint8_t)((bi.flags & UPCI_BAR_IO) ? DEXT_BAR_TYPE_IO
					   : ((bi.flags & UPCI_BAR_MEM64) ? DEXT_BAR_TYPE_MEM64 : 0) |
						     ((bi.flags & UPCI_BAR_PREFETCH) ? DEXT_BAR_TYPE_PREFETCH : 0));
		/* PCIDriverKit numbers the BARs it found, not the slots. */
		d->bar_memidx[b] = (uint8_t)memidx++;
		if ((bi.flags & UPCI_BAR_MAPPABLE) && (bi.flags & UPCI_BAR_MAP_RDONLY)) {
			ret = upci_bar_map(d->sim, b, &d->bar_ro[b], &len);
			if (ret)
				return ret;
		}
	}
	drv_assign_bars(d);
	ret = dart_create(SHIM_DART_BASE, dart_size, DEXT_DART_MAX_MAPPINGS, &d->dart);
	if (ret)
		return ret;
	d->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (d->stop_fd < 0)
		return -errno;
	return drv_irq_thread_start(d);
}

/* Caller holds shim_lock; the irq thread was stopped. */
static void dev_free(struct drv_dev *d)
{
	while (d->clients) {
		shim_name_free(d->clients->name);
		drv_close(d->clients);
	}
	if (d->sim) {
		for (unsigned b = 0; b < UPCI_NUM_BARS; b++)
			if (d->bar_ro[b])
				upci_bar_unmap(d->sim, b);
		upci_close(d->sim);
	}
	dart_destroy(d->dart);
	if (d->stop_fd > 0)
		close(d->stop_fd);
	free(d);
}

static struct drv_dev *dev_new(const char *user_class)
{
	struct drv_dev *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->user_class = user_class;
	d->entry_id = next_entry_id;
	next_entry_id += 0x10;
	d->stop_fd = -1;
	return d;
}

static void add_dev(struct drv_dev *d)
{
	struct drv_dev **pp = &shim_devices;

	while (*pp)
		pp = &(*pp)->next;
	*pp = d;
}

/* "BB:DD.F=URI;..." plus the decoy. Caller holds shim_lock. */
static int configure_locked(const char *spec)
{
	char *copy = strdup(spec ? spec : ""), *save = NULL, *item;
	struct drv_dev *decoy = dev_new(DECOY_CLASS);
	int ret = copy && decoy ? 0 : -ENOMEM;

	if (decoy)
		add_dev(decoy); /* first, so matching has to skip it */
	for (item = copy ? strtok_r(copy, ";", &save) : NULL; item && ret == 0; item = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(item, '=');
		struct drv_dev *d;
		uint32_t dom;

		if (!eq || (size_t)(strlen(eq + 1)) >= sizeof(d->uri)) {
			ret = -EINVAL;
			break;
		}
		*eq = '\0';
		d = dev_new(DEXT_USER_CLASS);
		if (!d) {
			ret = -ENOMEM;
			break;
		}
		snprintf(d->uri, sizeof(d->uri), "%s", eq + 1);
		ret = uri_parse_bdf(item, &dom, &d->bus, &d->dev, &d->fn, 0);
		if (ret == 0)
			ret = dev_start(d);
		if (ret) {
			if (d->irq_thread_on) {
				pthread_mutex_unlock(&shim_lock);
				drv_irq_thread_stop(d);
				pthread_mutex_lock(&shim_lock);
			}
			dev_free(d);
			break;
		}
		add_dev(d);
	}
	free(copy);
	configured = 1;
	return ret;
}

int drv_ensure_init(void)
{
	const char *spec;
	int ret;

	if (configured)
		return 0;
	spec = getenv("UPCI_IOKIT_SHIM");
	ret = configure_locked(spec);
	if (ret)
		fprintf(stderr, "iokit-shim: UPCI_IOKIT_SHIM=\"%s\": %s\n", spec ? spec : "", upci_strerror(ret));
	return ret;
}

/* Take every device away; returns the objects the caller still held. */
static int teardown(void)
{
	struct drv_dev *list;
	int live;

	pthread_mutex_lock(&shim_lock);
	live = (int)iokit_shim_live_objects_locked();
	shim_names_drop();
	list = shim_devices;
	shim_devices = NULL;
	configured = 0;
	pthread_mutex_unlock(&shim_lock);
	for (struct drv_dev *d = list; d; d = d->next)
		if (d->irq_thread_on)
			drv_irq_thread_stop(d);
	pthread_mutex_lock(&shim_lock);
	while (list) {
		struct drv_dev *next = list->next;

		dev_free(list);
		list = next;
	}
	pthread_mutex_unlock(&shim_lock);
	return live;
}

int iokit_shim_configure(const char *spec)
{
	int busy = 0, ret;

	pthread_mutex_lock(&shim_lock);
	for (struct drv_dev *d = shim_devices; d; d = d->next)
		busy |= d->clients != NULL;
	pthread_mutex_unlock(&shim_lock);
	if (busy)
		return -EBUSY;
	teardown();
	pthread_mutex_lock(&shim_lock);
	ret = configure_locked(spec);
	pthread_mutex_unlock(&shim_lock);
	return ret;
}

int iokit_shim_reset(void)
{
	return teardown();
}

struct drv_dev *drv_find(uint8_t bus, uint8_t dev, uint8_t fn)
{
	for (struct drv_dev *d = shim_devices; d; d = d->next)
		if (d->sim && d->bus == bus && d->dev == dev && d->fn == fn)
			return d;
	return NULL;
}

/* ---- user clients ---- */

kern_return_t drv_open(struct drv_dev *d, struct drv_client **out)
{
	struct drv_client *c = calloc(1, sizeof(*c));

	if (!c)
		return kIOReturnNoMemory;
	c->d = d;
	c->buf_fd = -1;
	c->page_fd = -1;
	c->next = d->clients;
	d->clients = c;
	*out = c;
	return kIOReturnSuccess;
}

int drv_provider_open(const struct drv_client *c)
{
	return c->d->provider_open;
}

static void claim_release(struct drv_client *c)
{
	struct drv_dev *d = c->d;

	if (!c->claimed)
		return;
	c->claimed = 0;
	if (d->claim_refs)
		d->claim_refs--;
	/* Only the opener closes the IOPCIDevice, even with claims left. */
	if (d->opener == c && d->provider_open) {
		d->provider_open = 0;
		d->opener = NULL;
	}
}

/* The client's Stop: interrupts, DMA regions, the DMA buffer, the claim. */
void drv_close(struct drv_client *c)
{
	struct drv_client **pp;

	drv_irq_release(c);
	drv_dma_release_all(c);
	drv_buf_free(c);
	claim_release(c);
	drv_unmap_all(c);
	for (pp = &c->d->clients; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	free(c->dma);
	free(c);
}

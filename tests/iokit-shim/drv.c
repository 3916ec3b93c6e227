/* SPDX-License-Identifier: MIT */
/*
 * The model of the VFIOUserPCIDriver's driver side: one instance per
 * configured BDF, its "PCI device" a upci sim device opened through the
 * public API and held claimed by the "platform" (this file), which also
 * assigns the BAR addresses and records what enumeration puts in the
 * registry. User clients and what their Stop releases (interrupts, DMA
 * regions, the DMA buffer, the claim, with the opener rule) are here too,
 * and so is termination; the selectors are in drv_call.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "caps.h"
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

/* What enumeration put in the IOPCIDevice's properties (IOPCIFamily
 * IOPCIConfigurator.cpp constructProperties; IOPCIBridge.cpp
 * checkProperties for the PCI Express ones). */
static void read_props(struct drv_dev *d)
{
	uint8_t cfg[PCI_CFG_SIZE];
	struct cfg_snapshot c = {cfg, sizeof(cfg)};
	struct drv_props *p = &d->props;
	unsigned exp;

	memset(cfg, 0, sizeof(cfg));
	upci_config_read_block(d->sim, 0, cfg, sizeof(cfg));
	p->vendor = cfg_get16(&c, PCI_VENDOR_ID);
	p->device = cfg_get16(&c, PCI_DEVICE_ID);
	p->revision = cfg_get8(&c, PCI_REVISION_ID);
	p->class_code = cfg_get32(&c, PCI_REVISION_ID) >> 8;
	p->subsys_vendor = cfg_get16(&c, PCI_SUBSYSTEM_VENDOR_ID);
	p->subsys = cfg_get16(&c, PCI_SUBSYSTEM_ID);
	exp = caps_find(&c, PCI_CAP_ID_EXP);
	p->pcie = exp != 0;
	p->exp_flags = exp ? cfg_get16(&c, exp + PCI_EXP_FLAGS) : 0;
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
	read_props(d);
	for (unsigned b = 0; b < UPCI_NUM_BARS; b++) {
		struct upci_bar_info bi;

		if (upci_bar_info(d->sim, b, &bi) || !(bi.flags & UPCI_BAR_PRESENT))
			continue;
		d->bar_size[b] = bi.size;
		d->bar_mem_flags[b] = bi.flags;
		d->bar_type[b] = (uint8_t)((bi.flags & UPCI_BAR_IO) ? DEXT_BAR_TYPE_IO
					   : ((bi.flags & UPCI_BAR_MEM64) ? DEXT_BAR_TYPE_MEM64 : 0) |
						     ((bi.flags & UPCI_BAR_PREFETCH) ? DEXT_BAR_TYPE_PREFETCH : 0));
		/* PCIDriverKit numbers the BARs it found, not the slots. */
		d->bar_memidx[b] = (uint8_t)memidx++;
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
	shim_interest_free_all(d);
	upci_close(d->sim);
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
	d->dart_error = kIOReturnNoResources;
	return d;
}

static void add_dev(struct drv_dev *d)
{
	struct drv_dev **pp = &shim_devices;

	while (*pp)
		pp = &(*pp)->next;
	*pp = d;
}

/* "[ROOT/]BB:DD.F" (root 0 when absent): 0 or -EINVAL. */
static int parse_address(char *s, struct drv_dev *d)
{
	char *slash = strchr(s, '/'), *end;
	unsigned long root = 0;
	uint32_t dom;

	if (slash) {
		root = strtoul(s, &end, 10);
		if (end != slash || root >= IOKIT_SHIM_MAX_ROOTS)
			return -EINVAL;
		s = slash + 1;
	}
	d->root = (unsigned)root;
	return uri_parse_bdf(s, &dom, &d->bus, &d->dev, &d->fn, 0);
}

/* "[ROOT/]BB:DD.F=URI;..." plus the decoy. Caller holds shim_lock. */
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
		ret = parse_address(item, d);
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

/*
 * VFIOUserPCIDriver.cpp vfio_user_release_shared_claim: only the opener
 * closes the IOPCIDevice, even with claims left. Its close ends the
 * DriverKit session, and IOPCIFamily's IOPCIDevice::handleClose
 * (IOPCIDevice.cpp, getCloseCommandMask) turns off memory decoding and
 * bus mastering so the device can no longer DMA.
 */
static void claim_release(struct drv_client *c)
{
	struct drv_dev *d = c->d;
	uint32_t cmd = 0;

	if (!c->claimed)
		return;
	c->claimed = 0;
	if (d->claim_refs)
		d->claim_refs--;
	if (d->opener == c && d->provider_open) {
		d->provider_open = 0;
		d->opener = NULL;
		if (upci_config_read(d->sim, PCI_COMMAND, 2, &cmd) == 0 &&
		    (cmd & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)))
			upci_config_write(d->sim, PCI_COMMAND, 2, cmd & ~(uint32_t)(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER));
	}
}

/* The client's Stop (VFIOUserPCIDriver.cpp): interrupts, DMA regions, the
 * DMA buffer, then the claim. Its mappings stay until the client closes. */
static void client_stop(struct drv_client *c)
{
	if (c->stopped)
		return;
	c->stopped = 1;
	drv_irq_release(c);
	drv_dma_release_all(c);
	drv_buf_free(c);
	claim_release(c);
}

void drv_close(struct drv_client *c)
{
	struct drv_client **pp;

	client_stop(c);
	drv_unmap_all(c);
	for (pp = &c->d->clients; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	free(c->dma);
	free(c);
}

/*
 * Termination (surprise removal, the Terminate selector's
 * driverService->Terminate(0), or the dext process dying): IOService
 * terminates the instance and its user clients, whose Stop runs (xnu
 * IOUserServer.cpp serviceWillTerminate -> Stop); the driver's pending
 * WaitInterrupt is released without a completion (the OSAction's aborted
 * handler sends nothing); interest notifications get
 * kIOMessageServiceIsTerminated; the instance leaves the registry.
 */
void drv_terminate(struct drv_dev *d, kern_return_t kr)
{
	if (d->terminated)
		return;
	d->terminated = 1;
	d->dead_kr = kr;
	for (struct drv_client *c = d->clients; c; c = c->next)
		client_stop(c);
	if (!(shim_faults & IOKIT_SHIM_QUIET_TERMINATION))
		shim_interest_terminated(d);
}

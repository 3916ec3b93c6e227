/* SPDX-License-Identifier: MIT */
/*
 * The model of the VFIOUserPCIDriver's driver side: one instance per
 * configured BDF, its "PCI device" a upci sim device opened through the
 * public API and held claimed by the "platform" (this file). Selector
 * behaviour follows the protocol facts: argument counts checked as the
 * driver does, the claim refcount with its opener rule, BAR registers
 * synthesized from BAR info, reset by FLR else hot reset with the
 * platform's config restore.
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
static void assign_bars(struct drv_dev *d)
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
	assign_bars(d);
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

static kern_return_t claim(struct drv_client *c)
{
	struct drv_dev *d = c->d;
	uint32_t cmd = 0;

	if (c->claimed)
		return kIOReturnSuccess;
	if (!d->provider_open) {
		/* The first claimant opens the device: memory space and bus
		 * mastering on. */
		upci_config_read(d->sim, PCI_COMMAND, 2, &cmd);
		upci_config_write(d->sim, PCI_COMMAND, 2, (cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER) & 0xffffu);
		d->provider_open = 1;
		d->opener = c;
	}
	d->claim_refs++;
	c->claimed = 1;
	return kIOReturnSuccess;
}

/* ---- config space, BARs, MMIO ---- */

static uint64_t ones(uint64_t width)
{
	return width >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * width)) - 1;
}

static kern_return_t config_read(struct drv_dev *d, uint64_t off, uint64_t width, uint64_t *val)
{
	uint32_t v;

	if (width != 1 && width != 2 && width != 4)
		return kIOReturnBadArgument;
	/* 4-byte reads of the BAR registers: type bits only, address 0. */
	if (width == 4 && off >= PCI_BASE_ADDRESS_0 && off <= PCI_BASE_ADDRESS_5 && !(off & 3)) {
		unsigned b = (unsigned)(off - PCI_BASE_ADDRESS_0) / 4;

		*val = d->bar_size[b] ? d->bar_type[b] : 0;
		return kIOReturnSuccess;
	}
	/* PCIDriverKit hands back all ones for what it cannot read. */
	if (off > UINT32_MAX || upci_config_read(d->sim, (uint32_t)off, (unsigned)width, &v) != 0)
		v = (uint32_t)ones(width);
	*val = v;
	return kIOReturnSuccess;
}

static kern_return_t config_write(struct drv_dev *d, uint64_t off, uint64_t width, uint64_t val)
{
	if (width != 1 && width != 2 && width != 4)
		return kIOReturnBadArgument;
	/* Unfiltered: filtering is the client's job. */
	if (off <= UINT32_MAX && val <= ones(width))
		upci_config_write(d->sim, (uint32_t)off, (unsigned)width, (uint32_t)val);
	return kIOReturnSuccess;
}

static int bar_of_memidx(const struct drv_dev *d, uint64_t memidx)
{
	for (unsigned b = 0; b < UPCI_NUM_BARS; b++)
		if (d->bar_size[b] && d->bar_memidx[b] == memidx)
			return (int)b;
	return -1;
}

static kern_return_t mmio(struct drv_dev *d, const uint64_t *in, int write, uint64_t *val)
{
	int bar = bar_of_memidx(d, in[DEXT_MMIORD_IN_MEMIDX]);
	uint64_t off = in[DEXT_MMIORD_IN_OFFSET], width = in[DEXT_MMIORD_IN_WIDTH];

	if (bar < 0 || (width != 1 && width != 2 && width != 4 && width != 8))
		return kIOReturnBadArgument;
	if (write) {
		upci_mmio_write(d->sim, (unsigned)bar, off, (unsigned)width, in[DEXT_MMIOWR_IN_VALUE] & ones(width));
		return kIOReturnSuccess;
	}
	/* A refused read gives all ones, as MemoryRead leaves its default. */
	if (upci_mmio_read(d->sim, (unsigned)bar, off, (unsigned)width, val) != 0)
		*val = ones(width);
	return kIOReturnSuccess;
}

/* ---- reset ---- */

static int has_flr(struct drv_dev *d)
{
	uint8_t cfg[PCI_CFG_SIZE];
	struct cfg_snapshot c = {cfg, sizeof(cfg)};
	struct pcie_decode e;

	return upci_config_read_block(d->sim, 0, cfg, sizeof(cfg)) == 0 && pcie_decode(&c, &e) == 0 && e.flr;
}

/* FLR when the function has it, else a hot reset of its link; either way
 * the platform saves and restores config space around it (here: the BAR
 * addresses and COMMAND), and interrupt delivery set up on the device is
 * re-established (upci_reset does that for the sim device). The sim picks
 * FLR or a model reset by the same rule, which stands for both. */
static kern_return_t reset(struct drv_dev *d)
{
	uint32_t cmd = 0;

	if (upci_config_read(d->sim, PCI_COMMAND, 2, &cmd) != 0)
		return kIOReturnNotResponding;
	d->last_reset = has_flr(d) ? "flr" : "hot";
	if (upci_reset(d->sim) != 0)
		return kIOReturnDeviceError;
	assign_bars(d);
	upci_config_write(d->sim, PCI_COMMAND, 2, cmd);
	return kIOReturnSuccess;
}

/* ---- the selector switch ---- */

/* The driver refuses calls with fewer inputs or output slots than the
 * selector has; it reports exactly its outputs. */
static int shape_ok(const uint64_t *in, uint32_t nin, uint32_t want_in, const uint64_t *out, uint32_t *nout,
		    uint32_t cap, uint32_t want_out)
{
	if (nin < want_in || (want_in && !in) || cap < want_out || (want_out && !out))
		return 0;
	if (nout)
		*nout = want_out;
	return 1;
}

#define NEED(nin_, nout_)                                                          \
	do {                                                                       \
		if (!shape_ok(in, nin, (nin_), out, nout, cap, (nout_)))           \
			return kIOReturnBadArgument;                               \
	} while (0)

kern_return_t drv_call(struct drv_client *c, uint32_t sel, const uint64_t *in, uint32_t nin, uint64_t *out,
		       uint32_t *nout)
{
	struct drv_dev *d = c->d;
	uint32_t cap = nout ? *nout : 0;
	struct upci_identity id;
	kern_return_t kr;
	unsigned n;

	if (nout)
		*nout = 0;
	switch (sel) {
	case DEXT_SEL_GET_IDENTITY:
		NEED(0, DEXT_IDENT_NOUT);
		upci_identity(d->sim, &id);
		out[DEXT_IDENT_OUT_BUS] = d->bus;
		out[DEXT_IDENT_OUT_DEV] = d->dev;
		out[DEXT_IDENT_OUT_FN] = d->fn;
		out[DEXT_IDENT_OUT_VENDOR] = id.vendor_id;
		out[DEXT_IDENT_OUT_DEVICE] = id.device_id;
		out[DEXT_IDENT_OUT_CLASS] = id.class_code;
		return kIOReturnSuccess;
	case DEXT_SEL_CLAIM:
		return claim(c);
	case DEXT_SEL_TERMINATE:
		d->terminated = 1;
		return kIOReturnSuccess;
	case DEXT_SEL_ALLOC_DMA_BUFFER:
		NEED(DEXT_ALLOC_NIN, DEXT_ALLOC_NOUT);
		kr = drv_buf_alloc(c, in[DEXT_ALLOC_IN_SIZE], in[DEXT_ALLOC_IN_ALIGN]);
		if (kr != kIOReturnSuccess) {
			*nout = 0;
			return kr;
		}
		upci_identity(d->sim, &id);
		out[DEXT_ALLOC_OUT_SIZE] = c->buf_size;
		out[DEXT_ALLOC_OUT_FLAGS] = 0;
		out[DEXT_ALLOC_OUT_NSEG] = c->buf_nseg;
		out[DEXT_ALLOC_OUT_SEG0_ADDR] = c->buf_seg[0].bus;
		out[DEXT_ALLOC_OUT_SEG0_LEN] = c->buf_seg[0].len;
		out[DEXT_ALLOC_OUT_CLASS] = id.class_code;
		return kIOReturnSuccess;
	case DEXT_SEL_FREE_DMA_BUFFER:
		drv_buf_free(c);
		return kIOReturnSuccess;
	case DEXT_SEL_REGISTER_DMA:
		NEED(DEXT_REG_NIN, DEXT_REG_NOUT);
		kr = drv_dma_register(c, in[DEXT_REG_IN_IOVA], in[DEXT_REG_IN_VA], in[DEXT_REG_IN_SIZE],
				      nin > DEXT_REG_IN_DIRECTION ? (unsigned)in[DEXT_REG_IN_DIRECTION] : 0,
				      &out[DEXT_REG_OUT_BUS], &out[DEXT_REG_OUT_BUS_LEN]);
		out[DEXT_REG_OUT_NSEG] = kr == kIOReturnSuccess;
		if (kr != kIOReturnSuccess)
			*nout = 0;
		return kr;
	case DEXT_SEL_UNREGISTER_DMA:
		NEED(DEXT_UNREG_NIN, 0);
		return drv_dma_unregister(c, in[DEXT_UNREG_IN_IOVA]);
	case DEXT_SEL_PROBE_DMA:
		NEED(DEXT_PROBE_NIN, DEXT_PROBE_NOUT);
		kr = drv_dma_probe(c, in[DEXT_PROBE_IN_IOVA], in[DEXT_PROBE_IN_OFFSET], &out[DEXT_PROBE_OUT_WORD]);
		if (kr != kIOReturnSuccess)
			*nout = 0;
		return kr;
	case DEXT_SEL_CONFIG_READ:
		NEED(DEXT_CFGRD_NIN, DEXT_CFGRD_NOUT);
		return config_read(d, in[DEXT_CFGRD_IN_OFFSET], in[DEXT_CFGRD_IN_WIDTH], &out[DEXT_CFGRD_OUT_VALUE]);
	case DEXT_SEL_CONFIG_WRITE:
		NEED(DEXT_CFGWR_NIN, 0);
		return config_write(d, in[DEXT_CFGWR_IN_OFFSET], in[DEXT_CFGWR_IN_WIDTH], in[DEXT_CFGWR_IN_VALUE]);
	case DEXT_SEL_BAR_INFO:
		NEED(DEXT_BARINFO_NIN, DEXT_BARINFO_NOUT);
		if (in[DEXT_BARINFO_IN_BAR] >= UPCI_NUM_BARS || !d->bar_size[in[DEXT_BARINFO_IN_BAR]]) {
			*nout = 0;
			return in[DEXT_BARINFO_IN_BAR] >= UPCI_NUM_BARS ? kIOReturnBadArgument : kIOReturnNotFound;
		}
		out[DEXT_BARINFO_OUT_MEMIDX] = d->bar_memidx[in[DEXT_BARINFO_IN_BAR]];
		out[DEXT_BARINFO_OUT_SIZE] = d->bar_size[in[DEXT_BARINFO_IN_BAR]];
		out[DEXT_BARINFO_OUT_TYPE] = d->bar_type[in[DEXT_BARINFO_IN_BAR]];
		return kIOReturnSuccess;
	case DEXT_SEL_MMIO_READ:
		NEED(DEXT_MMIORD_NIN, DEXT_MMIORD_NOUT);
		return mmio(d, in, 0, &out[DEXT_MMIORD_OUT_VALUE]);
	case DEXT_SEL_MMIO_WRITE:
		NEED(DEXT_MMIOWR_NIN, 0);
		return mmio(d, in, 1, NULL);
	case DEXT_SEL_SETUP_INTERRUPTS:
		NEED(0, DEXT_SETUPIRQ_NOUT);
		kr = drv_irq_setup(c, &n);
		out[DEXT_SETUPIRQ_OUT_NVEC] = n;
		if (kr != kIOReturnSuccess)
			*nout = 0;
		return kr;
	case DEXT_SEL_CHECK_INTERRUPT:
		NEED(0, DEXT_IRQ_WORDS);
		kr = drv_irq_check(c, out);
		if (kr != kIOReturnSuccess)
			*nout = 0;
		return kr;
	case DEXT_SEL_WAIT_INTERRUPT:
		return kIOReturnBadArgument; /* needs a completion: async only */
	case DEXT_SEL_SET_IRQ_MASK:
		NEED(DEXT_IRQ_WORDS, 0);
		return drv_irq_set_mask(c, in);
	case DEXT_SEL_RESET_DEVICE:
		if (!d->provider_open)
			return kIOReturnNotOpen;
		return reset(d);
	default:
		return kIOReturnUnsupported;
	}
}

/* ---- test API ---- */

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

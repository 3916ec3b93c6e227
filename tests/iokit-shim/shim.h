/* SPDX-License-Identifier: MIT */
/*
 * Inside the IOKit shim. One lock (shim_lock) covers the object table, the
 * driver model and the notification ports; callbacks into the client
 * (async completions) run on the client's dispatch queue without it.
 *
 *   cf.c        CFString, CFData, CFNumber and the matching dictionary
 *   dispatch.c  serial queues as threads
 *   iokit.c     the IOKit calls, object names, the call log
 *   registry.c  the registry around each instance: its IOPCIDevice and
 *               root port, their properties, interest notifications
 *   notify.c    notification ports and async completions
 *   drv.c       the driver model's instances and user clients; removal
 *   drv_call.c  its selectors: claim, config space, BARs, MMIO, reset
 *   shim_api.c  the test API (iokit_shim.h)
 *   drv_mem.c   IOConnectMapMemory64 memory types
 *   drv_dma.c   DMA regions (65,536 slots keyed by IOVA) and the DMA buffer
 *   drv_irq.c   interrupt page, Check/Wait/SetIRQMask, the device's vectors
 *   dart.c      the DART-like IOMMU choosing bus addresses
 */
#ifndef UPCI_IOKIT_SHIM_INTERNAL_H
#define UPCI_IOKIT_SHIM_INTERNAL_H

#include <IOKit/IOKitLib.h>
#include <pthread.h>
#include <stdint.h>

#include "dart.h"
#include "dext_proto.h"
#include "iokit_shim.h"

extern pthread_mutex_t shim_lock;
extern unsigned shim_faults;

/* ---- cf.c ---- */
CFStringRef shim_cfstring_new(const char *s);
CFDataRef shim_cfdata_new(const void *bytes, size_t len);
CFTypeRef shim_cfnumber_new(uint64_t v);
/* The characters of a CFString, or NULL when @s is not one. */
const char *shim_cfstring_cstr(CFStringRef s);
CFMutableDictionaryRef shim_cfdict_new(const char *class_name);
/* The class a matching dictionary names, or NULL when @d is not one. */
const char *shim_cfdict_class(CFDictionaryRef d);

/* ---- iokit.c: object names ---- */
/* Registry entries are views of an instance (service, its IOPCIDevice and
 * the bridge above it) or of a root (root port, host bridge). */
enum shim_kind {
	SHIM_ITERATOR = 1,
	SHIM_SERVICE,     /* the IOUserService (VFIOUserPCIDriver or the decoy) */
	SHIM_PCIDEV,      /* its provider, an IOPCIDevice */
	SHIM_BRIDGE,      /* the IOPCI2PCIBridge above that */
	SHIM_ROOTPORT,    /* the root port, an IOPCIDevice */
	SHIM_HOSTBRIDGE,  /* the host bridge driver: top of the model */
	SHIM_CONNECT,
	SHIM_PORT,
	SHIM_INTEREST,    /* an interest notification */
};
io_object_t shim_name_new(enum shim_kind kind, void *obj);
void *shim_name_get(io_object_t name, enum shim_kind kind);
void shim_name_free(io_object_t name);
unsigned shim_names_live(void);
/* Forget iterators, services and connections (the devices are going). */
void shim_names_drop(void);

/* A notification port: where async completions are delivered. */
struct IONotificationPort {
	mach_port_t name;
	dispatch_queue_t queue;
	int destroyed;
	unsigned refs; /* the caller's, plus one per completion in flight */
};
/* Queue @fn(@refcon, kIOReturnSuccess, NULL, 0) on @p's dispatch queue.
 * Caller holds shim_lock. */
void shim_port_complete(struct IONotificationPort *p, uint64_t fn, uint64_t refcon);
/* Queue the interest callback @fn(@refcon, @service, @msg, NULL). */
void shim_port_message(struct IONotificationPort *p, uint64_t fn, uint64_t refcon, io_service_t service,
		       uint32_t msg);
void shim_port_ref(struct IONotificationPort *p);
void shim_port_unref(struct IONotificationPort *p); /* frees when destroyed and unused */

/* ---- the driver model ---- */
struct drv_client;
struct drv_dma;

/* An interest notification on an instance's service. */
struct shim_interest {
	struct shim_interest *next;
	struct IONotificationPort *port;
	uint64_t fn, refcon;
	io_service_t service; /* as the caller named it */
	io_object_t name;
};

/* What the platform found when it enumerated the function: the
 * IOPCIDevice's properties (IOPCIFamily IOPCIConfigurator.cpp
 * constructProperties, IOPCIBridge.cpp checkProperties). */
struct drv_props {
	uint32_t vendor, device, revision, class_code, subsys_vendor, subsys;
	int pcie;             /* has a PCI Express capability */
	uint16_t exp_flags;   /* its capabilities register */
};

/* One VFIOUserPCIDriver instance (an IOUserService in the registry). */
struct drv_dev {
	struct drv_dev *next;
	uint64_t entry_id;         /* the service's; its IOPCIDevice +1, bridge +2 */
	const char *user_class;    /* DEXT_USER_CLASS, or a decoy's */
	unsigned root;             /* which PCIe root it is under */
	uint8_t bus, dev, fn;
	char uri[128];
	upci_dev *sim;             /* the "PCI device"; the platform's claimed handle */
	struct drv_props props;
	int terminated;
	kern_return_t dead_kr;     /* what calls get once terminated */
	struct shim_interest *interests;
	unsigned opens;            /* IOServiceOpen calls that made a client */
	/* PCIDriverKit's view */
	uint8_t bar_type[6];
	uint8_t bar_memidx[6];
	uint64_t bar_size[6];
	uint32_t bar_mem_flags[6]; /* UPCI_BAR_* of the sim BAR */
	int bar_cached[6];         /* the dext's g_barDescCache holds this BAR */
	/* claim (IOPCIDevice open) */
	int provider_open;
	unsigned claim_refs;
	struct drv_client *opener;
	/* DMA */
	struct dart *dart;
	kern_return_t dart_error;  /* what PrepareForDMA says when the DART is full */
	/* interrupts: the device's MSI/MSI-X set up on the sim handle for one
	 * client, the one whose dispatch sources hold the vectors */
	struct drv_client *irq_owner;
	pthread_t irq_thread;
	int irq_thread_on;
	int stop_fd;
	const char *last_reset;
	struct drv_client *clients;
};

struct drv_mapping {
	struct drv_mapping *next;
	uint32_t type;
	void *addr;
	uint64_t size;
};

/* One user client (an io_connect_t). */
struct drv_client {
	struct drv_client *next;
	struct drv_dev *d;
	io_connect_t name;
	int stopped;               /* its Stop ran (termination): a shell until closed */
	int claimed;
	struct drv_dma *dma;
	/* the driver-allocated DMA buffer */
	int buf_fd;
	void *buf;
	uint64_t buf_size;
	unsigned buf_nseg;
	struct dart_seg buf_seg[DEXT_DART_MAX_SEGMENTS];
	/* interrupts */
	int irq_setup;
	unsigned nirq;
	int page_fd;
	struct dext_irq_page *page; /* the driver's view */
	int armed;
	struct IONotificationPort *wait_port;
	uint64_t wait_fn, wait_refcon;
	struct drv_mapping *maps;
};

/* registry.c */
/* IOObjectRelease of @name when it is an interest notification: 1, else 0. */
int shim_interest_release(io_object_t name);
/* Send kIOMessageServiceIsTerminated to @d's interest notifications. */
void shim_interest_terminated(struct drv_dev *d);
void shim_interest_free_all(struct drv_dev *d);

/* drv.c: instances and their clients */
extern struct drv_dev *shim_devices;
/* The BAR addresses "the platform assigned" (also its restore after a reset). */
void drv_assign_bars(struct drv_dev *d);
int drv_ensure_init(void);  /* configure from the environment once */
struct drv_dev *drv_find(uint8_t bus, uint8_t dev, uint8_t fn);
kern_return_t drv_open(struct drv_dev *d, struct drv_client **out);
void drv_close(struct drv_client *c);
int drv_provider_open(const struct drv_client *c);
/* The instance is terminated (device removed, Terminate, the dext died):
 * every client's Stop runs, interest notifications hear of it, and calls
 * get @kr from now on. Caller holds shim_lock. */
void drv_terminate(struct drv_dev *d, kern_return_t kr);

/* drv_call.c: one selector; @nout in: room, out: outputs given. */
kern_return_t drv_call(struct drv_client *c, uint32_t sel, const uint64_t *in, uint32_t nin, uint64_t *out,
		       uint32_t *nout);
unsigned iokit_shim_live_objects_locked(void);

/* drv_mem.c */
kern_return_t drv_map(struct drv_client *c, uint32_t type, IOOptionBits opts, mach_vm_address_t *addr,
		      mach_vm_size_t *size);
kern_return_t drv_unmap(struct drv_client *c, uint32_t type, mach_vm_address_t addr);
void drv_unmap_all(struct drv_client *c);

/* drv_dma.c */
kern_return_t drv_dma_register(struct drv_client *c, uint64_t iova, uint64_t va, uint64_t size, uint64_t *bus,
			       uint64_t *bus_len);
kern_return_t drv_dma_unregister(struct drv_client *c, uint64_t iova);
kern_return_t drv_dma_probe(struct drv_client *c, uint64_t iova, uint64_t off, uint64_t *word);
void drv_dma_release_all(struct drv_client *c);
unsigned drv_dma_count(const struct drv_client *c);
kern_return_t drv_buf_alloc(struct drv_client *c, uint64_t size, uint64_t align);
void drv_buf_free(struct drv_client *c);
/* Map [va, va+len) at bus address @bus into the sim device's IOMMU. */
int drv_sim_map(struct drv_dev *d, uint64_t bus, uint64_t va, uint64_t len, unsigned flags);
void drv_sim_unmap(struct drv_dev *d, uint64_t bus, uint64_t va);

/* drv_irq.c */
kern_return_t drv_irq_setup(struct drv_client *c, unsigned *nvec);
kern_return_t drv_irq_check(struct drv_client *c, uint64_t pending[DEXT_IRQ_WORDS]);
kern_return_t drv_irq_wait(struct drv_client *c, struct IONotificationPort *port, const uint64_t *ref,
			   uint32_t nref);
kern_return_t drv_irq_set_mask(struct drv_client *c, const uint64_t mask[DEXT_IRQ_WORDS]);
void drv_irq_release(struct drv_client *c);
/* The device raised @vec: route it to the page of the client holding the
 * vectors. Caller holds shim_lock. */
void drv_irq_vector(struct drv_dev *d, unsigned vec);
/* Route what the sim device has pending now (end of a selector call). */
void drv_irq_poll_device(struct drv_dev *d);
int drv_irq_thread_start(struct drv_dev *d);
void drv_irq_thread_stop(struct drv_dev *d);  /* without shim_lock */

#endif

/* SPDX-License-Identifier: MIT */
/*
 * The dext backend: a client of the macOS VFIOUserPCIDriver DriverKit
 * extension over IOKit. Built on Darwin against the real frameworks, and on
 * Linux only for tests, against tests/iokit-shim (the same sources, a
 * simulated IOKit underneath).
 *
 *   dext_call.c     one function per selector (0-17) and the memory types
 *   dext_cfg.c      config space as the driver allows it
 *   dext_reg.c      the registry: a driver instance's function, read from
 *                   its IOPCIDevice without opening anything
 *   dext_conn.c     finding the driver instance of a BDF; one connection per
 *                   service, shared by every handle of the process; the
 *                   claim; termination
 *   dext_state.c    what is learnt once the device is open: the header's
 *                   capabilities, and which BARs map
 *   dext_irq.c      async interrupt notification -> upci__irq_raise()
 *   dext_err.c      kern_return_t -> -errno
 *   dext_policy.c   which config writes reach the device
 *   dext_serve.c    that policy as the vfio-user server's hook
 *   dext_enum.c     upci_enumerate("dext"): the hook (-ENOTSUP for now)
 *   dext_backend.c  the ops table
 */
#ifndef UPCI_BACKEND_DEXT_H
#define UPCI_BACKEND_DEXT_H

#include <IOKit/IOKitLib.h>
#include <mach/mach.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "device.h"
#include "dext_proto.h"

#if defined(__APPLE__)
#include <AvailabilityMacros.h>
#if MAC_OS_X_VERSION_MAX_ALLOWED < 120000
#define kIOMainPortDefault kIOMasterPortDefault /* renamed in macOS 12 */
#endif
#endif

/* ---- dext_err.c ---- */

/* 0 for kIOReturnSuccess, else a negative errno (table in dext_err.c). */
int dext_errno(kern_return_t kr);
/* "kIOReturnNotAligned" etc., or "0x%08x" in a static buffer. */
const char *dext_kr_name(kern_return_t kr);

/* ---- dext_call.c: 0 or -errno; -EPROTO when an answer has the wrong
 * number of outputs. The connection is a Mach port name. ---- */

struct dext_identity {
	uint8_t bus, dev, fn;
	uint16_t vendor, device;
	uint32_t class_code; /* 24 bits */
};

struct dext_bar {
	uint8_t memidx; /* PCIDriverKit memory index: for MMIORead/Write */
	uint8_t type;   /* DEXT_BAR_TYPE_* */
	uint64_t size;
};

struct dext_dma_buffer {
	uint64_t size, flags, nseg, seg0_addr, seg0_len;
	uint32_t class_code;
};

int dext_get_identity(io_connect_t c, struct dext_identity *id);
int dext_claim(io_connect_t c);
int dext_terminate(io_connect_t c);
int dext_alloc_dma_buffer(io_connect_t c, uint64_t size, uint64_t align, struct dext_dma_buffer *out);
int dext_free_dma_buffer(io_connect_t c);
/* The driver maps every region read-write. @bus, @bus_len: the first
 * (and only accepted) segment. */
int dext_register_dma(io_connect_t c, uint64_t iova, uint64_t va, uint64_t size, uint64_t *bus, uint64_t *bus_len);
int dext_unregister_dma(io_connect_t c, uint64_t iova);
int dext_probe_dma(io_connect_t c, uint64_t iova, uint64_t off, uint64_t *word);
int dext_config_read(io_connect_t c, uint32_t off, unsigned width, uint32_t *val);
int dext_config_write(io_connect_t c, uint32_t off, unsigned width, uint32_t val);
int dext_bar_info(io_connect_t c, unsigned bar, struct dext_bar *out);
int dext_mmio_read(io_connect_t c, unsigned memidx, uint64_t off, unsigned width, uint64_t *val);
int dext_mmio_write(io_connect_t c, unsigned memidx, uint64_t off, unsigned width, uint64_t val);
int dext_setup_interrupts(io_connect_t c, unsigned *nvec);
int dext_check_interrupt(io_connect_t c, uint64_t pending[DEXT_IRQ_WORDS]);
/* Arms the one-shot completion: @cb(@refcon, ...) runs on @port's queue. */
int dext_wait_interrupt(io_connect_t c, mach_port_t port, IOAsyncCallback cb, void *refcon);
int dext_set_irq_mask(io_connect_t c, const uint64_t mask[DEXT_IRQ_WORDS]);
int dext_reset_device(io_connect_t c);

/* Map options for a BAR: write-combining exactly when prefetchable. */
IOOptionBits dext_bar_map_options(uint8_t bar_type);
int dext_map(io_connect_t c, uint32_t mem_type, IOOptionBits opts, void **addr, uint64_t *size);
int dext_unmap(io_connect_t c, uint32_t mem_type, void *addr);

/* ---- dext_cfg.c ---- */

struct dext_policy;

/*
 * Reads answer -EACCES when macOS gave no access: the value was all ones
 * and so is the vendor ID (PCIDriverKit reads all ones while nobody has
 * the device open; a real all-ones register reads as such when the
 * vendor ID does not).
 */
int dext_cfg_read(io_connect_t port, uint32_t off, unsigned width, uint32_t *val);
/* [off, off + len) inside config space (core checked). */
int dext_cfg_read_block(io_connect_t port, uint32_t off, uint8_t *buf, size_t len);
/* The bytes @p lets through, in naturally aligned pieces; dropped bytes
 * are logged (info) under @uri and otherwise ignored, like read-only bits. */
int dext_cfg_write(io_connect_t port, const struct dext_policy *p, const char *uri, uint32_t off, unsigned width,
		   uint32_t val);

/* ---- dext_irq.c: the interrupt bridge of one connection ---- */

struct dext_irq;

/*
 * After SetupInterrupts (dext_conn.c does it once per connection: the
 * driver keeps it until the connection closes): the driver's mask all
 * ones, the interrupt page mapped (CheckInterrupt when it cannot be), the
 * first WaitInterrupt armed, its completions on @port (the connection's,
 * served by a serial queue). Nothing is delivered until dext_irq_attach().
 * @lost(@arg) runs when the driver instance turns out to be gone.
 */
int dext_irq_create(io_connect_t c, IONotificationPortRef port, void (*lost)(void *arg), void *arg,
		    struct dext_irq **out);
/* Deliver vectors 0..nvec-1 to @dev from now on. */
void dext_irq_attach(struct dext_irq *q, struct upci_dev *dev, unsigned nvec);
/* Deliver what the mapped page holds now, without waiting for the
 * completion (no-op without a page or with nothing pending). */
void dext_irq_poll(struct dext_irq *q);
/* Deliver nothing; when this returns no callback is using the old @dev. */
void dext_irq_detach(struct dext_irq *q);
/* Closing: a completion that runs from now on does nothing. The caller
 * then stops the port and waits for its queue, and frees: @gone skips the
 * unmapping (the connection is dead; closing it unmaps). */
void dext_irq_stop(struct dext_irq *q);
void dext_irq_free(struct dext_irq *q, int gone);

/* ---- dext_reg.c ---- */

/* Who a driver instance serves, from the registry. */
struct dext_regid {
	uint8_t bus, dev, fn;
	uint16_t vendor, device, subsys_vendor, subsys;
	uint8_t revision;
	uint32_t class_code; /* 24 bits */
	int pcie;            /* a PCI Express function: 4 KiB of config space */
	uint64_t root;       /* registry ID of the root port above it, or 0 */
};

/* The IOPCIDevice provider of driver instance @s: 0, or -ENOENT when the
 * entry has none or its properties are missing or malformed. */
int dext_reg_identity(io_service_t s, struct dext_regid *out);

/* ---- dext_enum.c ---- */

struct upci_enum_sink;
int dext_enumerate(struct upci_enum_sink *sink);

/* ---- dext_policy.c: config writes the host owns ---- */

struct dext_policy {
	uint16_t msi, msi_len; /* MSI capability (0: none) and its length */
	uint16_t exp;          /* PCI Express capability (0: none) */
};

/* From the first 256 bytes of config space. */
void dext_policy_init(struct dext_policy *p, const uint8_t *cfg, size_t len);
/* Bit i set: byte @off + i of a @width-byte write may reach the device. */
unsigned dext_policy_write_mask(const struct dext_policy *p, uint32_t off, unsigned width);
/* 1 and a copy of the policy for a handle on the dext backend (its
 * connection learns the capabilities at the claim), 0 for others. */
int dext_policy_of(struct upci_dev *dev, struct dext_policy *out);

/* ---- dext_conn.c ---- */

struct dext_conn;

/* A upci handle on a connection. */
struct dext_dev {
	struct dext_dev *next; /* in conn->handles, under conn->lock */
	struct dext_conn *conn;
	struct upci_dev *dev;
};

/* One user-client connection to one driver instance (service), shared by
 * every upci handle of the process on that device. */
struct dext_conn {
	struct dext_conn *next;
	uint64_t entry_id;          /* the service's registry entry ID: the key */
	io_connect_t port;
	unsigned refs;              /* handles using it; under the cache lock */
	struct dext_regid id;
	char name[12];              /* "BB:DD.F", for messages */
	/* Termination notices and WaitInterrupt completions arrive here. */
	IONotificationPortRef notify;
	dispatch_queue_t queue;
	io_object_t interest;
	atomic_int gone;            /* 0, or -ENODEV once the instance is gone */
	/* GetBARInfo at connect: fixed afterwards. */
	struct dext_bar bar[UPCI_NUM_BARS];
	pthread_mutex_t lock;       /* the fields below */
	struct dext_dev *handles;
	struct upci_dev *owner;     /* handle holding upci's claim, or NULL */
	int claimed;                /* the driver's Claim succeeded */
	struct dext_irq *irq;       /* interrupt bridge, once set up */
	unsigned irq_nvec;          /* vectors the driver registered */
	uint32_t bar_flags[UPCI_NUM_BARS]; /* UPCI_BAR_*; MAPPABLE settled by the probe */
	int probed;                 /* BAR mappings tried (after the claim) */
	int have_cfg;               /* the header was read: the fields below */
	unsigned msix_nvec, msi_nvec, pin;
	struct dext_policy policy;  /* all zero until then: BARs and STATUS only */
};

/* Find (or reuse) the connection for BB:DD.F, from the registry, opening
 * only the instance that serves it: 0, -ENOENT when none does, -ENXIO
 * when several do (under different PCIe roots), or the error opening it. */
int dext_conn_get(uint8_t bus, uint8_t dev, uint8_t fn, struct dext_conn **out);
void dext_conn_put(struct dext_conn *c);
/* Register @h on its connection (for termination notices) / forget it. */
void dext_conn_attach(struct dext_conn *c, struct dext_dev *h);
void dext_conn_detach(struct dext_conn *c, struct dext_dev *h);
/* upci's claim on top of the driver's shared one: 0, -EBUSY, -ENODEV, or
 * the driver's error; the first one also learns the header and the BARs
 * (dext_state.c). */
int dext_conn_claim(struct dext_conn *c, struct upci_dev *dev);
void dext_conn_release(struct dext_conn *c, struct upci_dev *dev);
/* The bridge, created on first use. 0 or -errno; *nvec as above. */
int dext_conn_irq(struct dext_conn *c, struct dext_irq **q, unsigned *nvec);
/* The instance is gone (a termination notice, or a call that said so):
 * every handle's waiters wake with -ENODEV, later calls fail with it. */
void dext_conn_lost(struct dext_conn *c);
static inline int dext_conn_gone(struct dext_conn *c)
{
	return atomic_load(&c->gone);
}

/* ---- dext_state.c (callers hold c->lock) ---- */

/* GetBARInfo of every BAR: c->bar and the flags upci reports before the
 * probe (a memory BAR is offered as mappable: macOS maps every one for a
 * claimed client). */
void dext_state_bars(struct dext_conn *c);
/* Map each memory BAR once and keep MAPPABLE where that worked. */
void dext_state_probe(struct dext_conn *c);
/* Read the header (capabilities, vectors, write policy) if not done yet:
 * 0, -EACCES while nobody has the device open, or -errno. */
int dext_state_header(struct dext_conn *c);

#endif /* UPCI_BACKEND_DEXT_H */

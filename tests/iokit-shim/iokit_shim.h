/* SPDX-License-Identifier: MIT */
/*
 * The Linux IOKit shim's test API. The shim implements the few IOKit,
 * CoreFoundation and libdispatch calls the dext backend makes (headers in
 * include/, Apple's names and signatures) on top of a model of the
 * VFIOUserPCIDriver's driver side, whose "PCI devices" are upci sim devices
 * opened through the public API.
 *
 * Devices come from iokit_shim_configure() or, at the first IOKit call,
 * from the environment: UPCI_IOKIT_SHIM="00:01.0=sim:edu;00:02.0=sim:testdev?vectors=256".
 * An address may name its PCIe root first, "1/00:01.0" (default 0): Apple
 * Silicon numbers the buses of each root from 0. The registry also always
 * holds one IOUserService of another class, which matching must skip.
 *
 * Nothing here exists on macOS: this is the simulation that lets the
 * backend's source run on Linux.
 */
#ifndef UPCI_IOKIT_SHIM_H
#define UPCI_IOKIT_SHIM_H

#include <IOKit/IOKitLib.h>
#include <stdint.h>

#include "upci/upci.h"

#define IOKIT_SHIM_MAX_ROOTS 16

/* Replace the simulated devices ("[ROOT/]BB:DD.F=URI;..."). 0, -EINVAL
 * (bad spec), -EBUSY (a connection is open), or upci_open's error. */
int iokit_shim_configure(const char *spec);
/* Close every connection the caller left open and every device; returns
 * how many IOKit objects (iterators, services, connections, mappings,
 * notification ports) the caller still held. */
int iokit_shim_reset(void);
/* IOKit objects the caller holds now. */
unsigned iokit_shim_live_objects(void);

/* The last IOConnectCall*ScalarMethod seen (also scripted ones). */
#define IOKIT_SHIM_MAX_SCALARS 16
struct iokit_shim_call {
	uint32_t selector;
	uint32_t nin;
	uint64_t in[IOKIT_SHIM_MAX_SCALARS];
	uint32_t out_cap; /* *outputCnt on entry; 0 when NULL */
	int async;
	uint32_t ref_cnt; /* async reference count */
	kern_return_t kr;
	unsigned seq;     /* calls so far, this one included */
};
void iokit_shim_last_call(struct iokit_shim_call *out);

/* The last IOConnectMapMemory64 seen. */
struct iokit_shim_map {
	uint32_t type;
	IOOptionBits options;
	kern_return_t kr;
	unsigned seq;
};
void iokit_shim_last_map(struct iokit_shim_map *out);

/* The next call of @selector answers @kr with @n outputs, without
 * reaching the driver model (to test how answers are decoded). */
void iokit_shim_script(uint32_t selector, kern_return_t kr, const uint64_t *out, uint32_t n);

#define IOKIT_SHIM_NO_IRQ_PAGE  (1u << 0) /* memory type 7 cannot be mapped */
#define IOKIT_SHIM_DENY_OPEN    (1u << 1) /* IOServiceOpen: kIOReturnNotPermitted */
/* Termination sends no interest message: a call is the first to learn
 * that the instance is gone (the notice can lag behind a call). */
#define IOKIT_SHIM_QUIET_TERMINATION (1u << 2)
void iokit_shim_set_faults(unsigned faults);

/* What RegisterDMARegion and AllocateDMABuffer return when the DART is
 * full, on the devices configured now (0: kIOReturnNoResources). The dext passes
 * PrepareForDMA's code through and the DART mapper's code is not
 * published; upci must cope with any of the plausible ones. */
void iokit_shim_set_dart_error(kern_return_t kr);

/* The instance at BB:DD.F is terminated: kIOReturnOffline for a removed
 * device (Thunderbolt unplug) or a stopped driver, MIG_SERVER_DIED for a
 * dext that crashed is what later calls get. 0 or -ENOENT. */
int iokit_shim_unplug(uint8_t bus, uint8_t dev, uint8_t fn, kern_return_t kr);
/* IOServiceOpen calls that created a user client of BB:DD.F so far (the
 * dext allocates ~323 MiB for each). */
unsigned iokit_shim_opens(uint8_t bus, uint8_t dev, uint8_t fn);
/* User clients not closed yet, terminated ones included. */
unsigned iokit_shim_connections(void);

/* Called when WaitInterrupt arrives, before the model looks at the
 * pending bits: a vector fired here lands between drain and re-arm. */
typedef void (*iokit_shim_hook_fn)(void *arg);
void iokit_shim_set_wait_hook(iokit_shim_hook_fn fn, void *arg);

/* Deliver vector @vec of BB:DD.F to the driver model as the device's
 * interrupt would (enabled-bit check, pending OR, completion). */
int iokit_shim_fire(uint8_t bus, uint8_t dev, uint8_t fn, unsigned vec);

/* The DART window of devices configured from now on (default 1.5 GiB,
 * the platform's; larger only to watch RegisterDMARegion split a region
 * into 1.5 GiB chunks). */
void iokit_shim_set_dart_size(uint64_t size);

/* Driver-model state, for tests. */
struct iokit_shim_dart {
	uint64_t base, size; /* bus window the DART hands out */
	uint64_t mapped;     /* bytes in live mappings (16 KiB granules) */
	unsigned mappings;
};
int iokit_shim_dart_info(uint8_t bus, uint8_t dev, uint8_t fn, struct iokit_shim_dart *out);
/* Live registered regions of all connections to BB:DD.F. */
unsigned iokit_shim_dma_regions(uint8_t bus, uint8_t dev, uint8_t fn);
/* Claim refcount and whether the IOPCIDevice is open. */
int iokit_shim_claim_state(uint8_t bus, uint8_t dev, uint8_t fn, unsigned *refs, int *open);
/* The sim device standing for BB:DD.F (owned by the shim). */
upci_dev *iokit_shim_simdev(uint8_t bus, uint8_t dev, uint8_t fn);
/* How ResetDevice reset it last: "flr", "hot" or NULL. */
const char *iokit_shim_last_reset(uint8_t bus, uint8_t dev, uint8_t fn);

#endif

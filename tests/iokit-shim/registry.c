/* SPDX-License-Identifier: MIT */
/*
 * The registry around each driver instance, in the service plane:
 *
 *   host bridge (an IOPCIBridge; one per PCIe root, the top here)
 *    `- root port (IOPCIDevice)
 *        `- IOPCI2PCIBridge
 *            `- IOPCIDevice of the function      <- entry_id + 1
 *                `- IOUserService (the dext)     <- entry_id
 *
 * Apple Silicon has a host bridge per PCIe root (internal slots, each
 * Thunderbolt port), each numbering its own buses from 0, so two functions
 * can have the same bus/device/function under different roots. The
 * IOPCIDevice carries the properties the platform set when it enumerated
 * the function (IOPCIFamily IOPCIConfigurator.cpp constructProperties and
 * constructAddressingProperties; IOPCIBridge.cpp checkProperties): they
 * need no open device. Interest notifications report termination
 * (kIOMessageServiceIsTerminated), as IOService::terminate sends it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <IOKit/IOMessage.h>

#include "shim.h"

#define ROOT_ID_BASE UINT64_C(0x20000000)
/* The entry IDs of root @r's host bridge and root port. */
#define HOSTBRIDGE_ID(r) (ROOT_ID_BASE + 0x10u * (r))
#define ROOTPORT_ID(r)   (HOSTBRIDGE_ID(r) + 1)

/* Roots are named by index; the object behind their names is this table. */
static const unsigned roots[IOKIT_SHIM_MAX_ROOTS] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

/* The object behind a registry entry name, and its kind. */
static void *entry(io_registry_entry_t e, enum shim_kind *kind)
{
	static const enum shim_kind kinds[] = {SHIM_SERVICE, SHIM_PCIDEV, SHIM_BRIDGE, SHIM_ROOTPORT, SHIM_HOSTBRIDGE};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		void *o = shim_name_get(e, kinds[i]);

		if (o) {
			*kind = kinds[i];
			return o;
		}
	}
	return NULL;
}

kern_return_t IORegistryEntryGetRegistryEntryID(io_registry_entry_t e, uint64_t *entryID)
{
	enum shim_kind k = 0;
	void *o;

	pthread_mutex_lock(&shim_lock);
	o = entry(e, &k);
	if (o && entryID) {
		if (k == SHIM_ROOTPORT || k == SHIM_HOSTBRIDGE) {
			unsigned r = *(unsigned *)o;

			*entryID = k == SHIM_ROOTPORT ? ROOTPORT_ID(r) : HOSTBRIDGE_ID(r);
		} else {
			*entryID = ((struct drv_dev *)o)->entry_id + (k == SHIM_PCIDEV ? 1 : k == SHIM_BRIDGE ? 2 : 0);
		}
	}
	pthread_mutex_unlock(&shim_lock);
	return o && entryID ? kIOReturnSuccess : kIOReturnBadArgument;
}

kern_return_t IORegistryEntryGetParentEntry(io_registry_entry_t e, const char *plane, io_registry_entry_t *parent)
{
	enum shim_kind k = 0, pk = 0;
	kern_return_t kr = kIOReturnSuccess;
	void *o, *po = NULL;

	if (!plane || strcmp(plane, kIOServicePlane) != 0 || !parent)
		return kIOReturnBadArgument;
	pthread_mutex_lock(&shim_lock);
	o = entry(e, &k);
	if (!o) {
		kr = kIOReturnBadArgument;
	} else if (k == SHIM_HOSTBRIDGE) {
		kr = kIOReturnNoDevice; /* what the plane's root answers */
	} else if (k == SHIM_ROOTPORT) {
		pk = SHIM_HOSTBRIDGE;
		po = o;
	} else {
		struct drv_dev *d = o;

		pk = k == SHIM_SERVICE ? SHIM_PCIDEV : k == SHIM_PCIDEV ? SHIM_BRIDGE : SHIM_ROOTPORT;
		po = k == SHIM_BRIDGE ? (void *)&roots[d->root] : (void *)d;
	}
	if (kr == kIOReturnSuccess) {
		*parent = shim_name_new(pk, po);
		if (*parent == IO_OBJECT_NULL)
			kr = kIOReturnNoResources;
	}
	pthread_mutex_unlock(&shim_lock);
	return kr;
}

boolean_t IOObjectConformsTo(io_object_t object, const char *className)
{
	enum shim_kind k = 0;
	int yes = 0;

	if (!className)
		return 0;
	pthread_mutex_lock(&shim_lock);
	if (entry(object, &k)) {
		switch (k) {
		case SHIM_SERVICE:
			yes = strcmp(className, "IOUserService") == 0;
			break;
		case SHIM_PCIDEV:
		case SHIM_ROOTPORT:
			yes = strcmp(className, "IOPCIDevice") == 0;
			break;
		case SHIM_BRIDGE:
			yes = strcmp(className, "IOPCI2PCIBridge") == 0 || strcmp(className, "IOPCIBridge") == 0;
			break;
		default:
			yes = strcmp(className, "IOPCIBridge") == 0;
			break;
		}
		yes |= strcmp(className, "IOService") == 0 || strcmp(className, "IORegistryEntry") == 0;
	}
	pthread_mutex_unlock(&shim_lock);
	return yes;
}

static CFTypeRef u32_data(uint32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};

	return shim_cfdata_new(b, sizeof(b)); /* OSData of a native (little-endian) uint32_t */
}

/* "reg": IOPCIPhysicalAddress records, the first one naming the function
 * (physHi: register 7:0, function 10:8, device 15:11, bus 23:16). */
static CFTypeRef reg_data(unsigned bus, unsigned dev, unsigned fn)
{
	uint32_t hi = (uint32_t)bus << 16 | (uint32_t)dev << 11 | (uint32_t)fn << 8;
	uint8_t b[20] = {(uint8_t)hi, (uint8_t)(hi >> 8), (uint8_t)(hi >> 16), (uint8_t)(hi >> 24)};

	return shim_cfdata_new(b, sizeof(b));
}

/* A property of an IOPCIDevice (the function's, or a root port's). */
static CFTypeRef pci_property(const struct drv_dev *d, const char *key)
{
	char tuple[32];

	if (!d) { /* a root port: bus 0, device 0 */
		if (strcmp(key, "reg") == 0)
			return reg_data(0, 0, 0);
		if (strcmp(key, "pcidebug") == 0)
			return shim_cfstring_new("0:0:0(1:255)");
		return NULL;
	}
	if (strcmp(key, "vendor-id") == 0)
		return u32_data(d->props.vendor);
	if (strcmp(key, "device-id") == 0)
		return u32_data(d->props.device);
	if (strcmp(key, "revision-id") == 0)
		return u32_data(d->props.revision);
	if (strcmp(key, "class-code") == 0)
		return u32_data(d->props.class_code);
	/* Only set when the subsystem register is not 0. */
	if (strcmp(key, "subsystem-vendor-id") == 0 && (d->props.subsys_vendor || d->props.subsys))
		return u32_data(d->props.subsys_vendor);
	if (strcmp(key, "subsystem-id") == 0 && (d->props.subsys_vendor || d->props.subsys))
		return u32_data(d->props.subsys);
	if (strcmp(key, "reg") == 0)
		return reg_data(d->bus, d->dev, d->fn);
	if (strcmp(key, "pcidebug") == 0) {
		snprintf(tuple, sizeof(tuple), "%u:%u:%u", d->bus, d->dev, d->fn);
		return shim_cfstring_new(tuple);
	}
	if (strcmp(key, "IOPCIExpressCapabilities") == 0 && d->props.pcie)
		return shim_cfnumber_new(d->props.exp_flags);
	return NULL;
}

CFTypeRef IORegistryEntryCreateCFProperty(io_registry_entry_t e, CFStringRef key, CFAllocatorRef allocator,
					  IOOptionBits options)
{
	enum shim_kind k = 0;
	CFTypeRef v = NULL;
	const char *name = shim_cfstring_cstr(key);
	void *o;

	(void)allocator;
	(void)options;
	if (!name)
		return NULL;
	pthread_mutex_lock(&shim_lock);
	o = entry(e, &k);
	if (o && k == SHIM_SERVICE && strcmp(name, DEXT_USER_CLASS_KEY) == 0)
		v = shim_cfstring_new(((struct drv_dev *)o)->user_class);
	else if (o && k == SHIM_PCIDEV)
		v = pci_property(o, name);
	else if (o && k == SHIM_ROOTPORT)
		v = pci_property(NULL, name);
	pthread_mutex_unlock(&shim_lock);
	return v;
}

kern_return_t IOServiceAddInterestNotification(IONotificationPortRef port, io_service_t service,
					       const char *interestType, IOServiceInterestCallback callback,
					       void *refcon, io_object_t *notification)
{
	struct shim_interest *n;
	struct drv_dev *d;
	kern_return_t kr = kIOReturnSuccess;

	if (!port || !interestType || strcmp(interestType, kIOGeneralInterest) != 0 || !callback || !notification)
		return kIOReturnBadArgument;
	n = calloc(1, sizeof(*n));
	if (!n)
		return kIOReturnNoMemory;
	pthread_mutex_lock(&shim_lock);
	d = shim_name_get(service, SHIM_SERVICE);
	if (!d)
		kr = kIOReturnBadArgument;
	else if (d->terminated)
		kr = kIOReturnNotAttached;
	else if ((n->name = shim_name_new(SHIM_INTEREST, n)) == IO_OBJECT_NULL)
		kr = kIOReturnNoResources;
	if (kr == kIOReturnSuccess) {
		n->port = port;
		n->fn = (uint64_t)(uintptr_t)callback;
		n->refcon = (uint64_t)(uintptr_t)refcon;
		n->service = service;
		shim_port_ref(port);
		n->next = d->interests;
		d->interests = n;
		*notification = n->name;
	}
	pthread_mutex_unlock(&shim_lock);
	if (kr != kIOReturnSuccess)
		free(n);
	return kr;
}

/* IOObjectRelease of an interest notification. Caller holds shim_lock. */
int shim_interest_release(io_object_t name)
{
	struct shim_interest *n = shim_name_get(name, SHIM_INTEREST);

	if (!n)
		return 0;
	for (struct drv_dev *d = shim_devices; d; d = d->next)
		for (struct shim_interest **pp = &d->interests; *pp; pp = &(*pp)->next)
			if (*pp == n) {
				*pp = n->next;
				break;
			}
	shim_name_free(name);
	shim_port_unref(n->port);
	free(n);
	return 1;
}

void shim_interest_terminated(struct drv_dev *d)
{
	for (struct shim_interest *n = d->interests; n; n = n->next)
		shim_port_message(n->port, n->fn, n->refcon, n->service, kIOMessageServiceIsTerminated);
}

void shim_interest_free_all(struct drv_dev *d)
{
	while (d->interests) {
		struct shim_interest *n = d->interests;

		d->interests = n->next;
		if (shim_name_get(n->name, SHIM_INTEREST) == n) /* not dropped by a reset */
			shim_name_free(n->name);
		shim_port_unref(n->port);
		free(n);
	}
}

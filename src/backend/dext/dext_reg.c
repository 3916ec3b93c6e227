/* SPDX-License-Identifier: MIT */
/*
 * The registry side of a driver instance: the function it serves, read
 * from the properties of its provider (an IOPCIDevice) with nothing
 * opened. Opening a user client only to ask GetIdentity would cost the
 * dext ~323 MiB per client (65,536 DMA region slots), and before a claim
 * GetIdentity's IDs read all ones anyway (PCIDriverKit reads nothing of
 * a device nobody has open).
 *
 * The function is named by the "reg" property (the first physHi, as
 * IOPCIBridge.cpp spaceFromProperties reads it), the IDs by "vendor-id"
 * and friends, PCI Express by "IOPCIExpressCapabilities" (IOPCIFamily
 * IOPCIConfigurator.cpp constructProperties, IOPCIBridge.cpp
 * checkProperties). The PCIe root is the topmost IOPCIDevice above: Apple
 * Silicon numbers each root's buses from 0, so a bus/device/function
 * alone can name two functions.
 */
#include <errno.h>

#include "dext.h"
#include "log.h"

/* A native uint32_t in an OSData of at least @min bytes (shorter ones are
 * zero-extended: revision-id has one meaningful byte). */
static int data_u32(io_registry_entry_t e, CFStringRef key, CFIndex min, uint32_t *out)
{
	CFTypeRef v = IORegistryEntryCreateCFProperty(e, key, kCFAllocatorDefault, 0);
	int ret = -ENOENT;

	if (v && CFGetTypeID(v) == CFDataGetTypeID() && CFDataGetLength(v) >= min) {
		const UInt8 *b = CFDataGetBytePtr(v);
		CFIndex n = CFDataGetLength(v) < 4 ? CFDataGetLength(v) : 4;

		*out = 0;
		for (CFIndex i = 0; i < n; i++)
			*out |= (uint32_t)b[i] << (8 * i);
		ret = 0;
	}
	if (v)
		CFRelease(v);
	return ret;
}

static int has_property(io_registry_entry_t e, CFStringRef key)
{
	CFTypeRef v = IORegistryEntryCreateCFProperty(e, key, kCFAllocatorDefault, 0);

	if (v)
		CFRelease(v);
	return v != NULL;
}

/* Registry ID of the topmost IOPCIDevice above @e (the root port), or 0. */
static uint64_t root_of(io_registry_entry_t e)
{
	io_registry_entry_t cur = e, parent;
	uint64_t root = 0, id;
	int owned = 0;

	/* A PCIe hierarchy is at most 256 buses deep, two entries a level. */
	for (unsigned depth = 0; depth < 512; depth++) {
		if (IORegistryEntryGetParentEntry(cur, kIOServicePlane, &parent) != kIOReturnSuccess)
			break;
		if (owned)
			IOObjectRelease(cur);
		cur = parent;
		owned = 1;
		if (IOObjectConformsTo(cur, DEXT_PCI_CLASS) && IORegistryEntryGetRegistryEntryID(cur, &id) == kIOReturnSuccess)
			root = id;
	}
	if (owned)
		IOObjectRelease(cur);
	return root;
}

int dext_reg_identity(io_service_t s, struct dext_regid *out)
{
	io_registry_entry_t pci = IO_OBJECT_NULL;
	uint32_t reg = 0, v = 0;
	int ret = -ENOENT;

	if (IORegistryEntryGetParentEntry(s, kIOServicePlane, &pci) != kIOReturnSuccess)
		return -ENOENT;
	if (!IOObjectConformsTo(pci, DEXT_PCI_CLASS) || data_u32(pci, CFSTR(DEXT_PROP_REG), 4, &reg))
		goto out;
	out->bus = (uint8_t)((reg >> DEXT_REG_BUS_SHIFT) & DEXT_REG_BUS_MASK);
	out->dev = (uint8_t)((reg >> DEXT_REG_DEV_SHIFT) & DEXT_REG_DEV_MASK);
	out->fn = (uint8_t)((reg >> DEXT_REG_FN_SHIFT) & DEXT_REG_FN_MASK);
	if (data_u32(pci, CFSTR(DEXT_PROP_VENDOR), 2, &v))
		goto out;
	out->vendor = (uint16_t)v;
	if (data_u32(pci, CFSTR(DEXT_PROP_DEVICE), 2, &v))
		goto out;
	out->device = (uint16_t)v;
	if (data_u32(pci, CFSTR(DEXT_PROP_CLASS), 3, &v))
		goto out;
	out->class_code = v & 0xffffffu;
	if (data_u32(pci, CFSTR(DEXT_PROP_REVISION), 1, &v))
		goto out;
	out->revision = (uint8_t)v;
	/* Absent when the function's subsystem register is 0. */
	out->subsys_vendor = data_u32(pci, CFSTR(DEXT_PROP_SUBSYS_VENDOR), 2, &v) ? 0 : (uint16_t)v;
	out->subsys = data_u32(pci, CFSTR(DEXT_PROP_SUBSYS), 2, &v) ? 0 : (uint16_t)v;
	out->pcie = has_property(pci, CFSTR(DEXT_PROP_PCIE));
	out->root = root_of(pci);
	ret = 0;
out:
	if (ret)
		LOG_DBG("dext: a driver instance's provider has no usable PCI properties");
	IOObjectRelease(pci);
	return ret;
}

/* SPDX-License-Identifier: MIT */
/* pci.ids names through libpci (see names.h). */
#include "names.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int numeric_mode;

void names_set_numeric(int mode)
{
	numeric_mode = mode;
}

#ifdef UPCI_HAVE_LIBPCI
#include <pci/pci.h>

static struct pci_access *pacc;

/* libpci reports problems through callbacks; a missing or broken pci.ids
 * only means numbers instead of names, so nothing is printed. */
static void quiet(char *msg, ...) __attribute__((format(printf, 1, 2)));
static void quiet(char *msg, ...)
{
	(void)msg;
}

/* Only allocation failures reach here (pci_malloc): nothing sensible to
 * return to libpci, which does not expect this callback to come back. */
static void fatal(char *msg, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void fatal(char *msg, ...)
{
	va_list ap;

	va_start(ap, msg);
	fputs("upci: pci.ids: ", stderr);
	vfprintf(stderr, msg, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void cleanup(void)
{
	if (pacc)
		pci_cleanup(pacc);
	pacc = NULL;
}

/* libpci falls back to udev's hwdb for IDs pci.ids lacks. Without a
 * compiled hwdb, libpci 3.9 allocates (and leaks) a udev context on every
 * lookup and finds nothing: skipping it then gives the same names. */
static int hwdb_present(void)
{
	static const char *const paths[] = {"/etc/udev/hwdb.bin", "/usr/lib/udev/hwdb.bin", "/lib/udev/hwdb.bin"};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (access(paths[i], R_OK) == 0)
			return 1;
	return 0;
}

/* Only the name database is used: no access method is initialised, so
 * nothing here touches a device. */
static struct pci_access *access_names(void)
{
	if (!pacc) {
		pacc = pci_alloc();
		pacc->error = fatal;
		pacc->warning = quiet;
		pacc->debug = quiet;
		if (!hwdb_present())
			pci_set_param(pacc, "hwdb.disable", "1");
		atexit(cleanup);
	}
	pacc->numeric_ids = numeric_mode;
	return pacc;
}

int names_available(void)
{
	char buf[64];

	/* The database loads on first use; a failure leaves numbers. */
	pci_lookup_name(access_names(), buf, sizeof(buf), PCI_LOOKUP_VENDOR | PCI_LOOKUP_NO_NUMBERS, 0x8086);
	return !pacc->id_load_failed;
}

static const char *lookup(char *buf, size_t len, int flags, ...)
{
	/* pci_lookup_name() takes the arguments by flags: pass them on. */
	va_list ap;
	unsigned a[4];
	char *r;

	va_start(ap, flags);
	for (int i = 0; i < 4; i++)
		a[i] = va_arg(ap, unsigned);
	va_end(ap);
	r = pci_lookup_name(access_names(), buf, (int)len, flags, a[0], a[1], a[2], a[3]);
	if (!r)
		return NULL;
	if (r != buf)
		snprintf(buf, len, "%s", r);
	return buf;
}

const char *name_class(char *buf, size_t len, unsigned class16)
{
	return lookup(buf, len, PCI_LOOKUP_CLASS, class16, 0u, 0u, 0u);
}

const char *name_vendor_device(char *buf, size_t len, unsigned vendor, unsigned device)
{
	return lookup(buf, len, PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE, vendor, device, 0u, 0u);
}

const char *name_subsystem(char *buf, size_t len, unsigned vendor, unsigned device, unsigned sv, unsigned sd)
{
	return lookup(buf, len, PCI_LOOKUP_SUBSYSTEM | PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE, vendor, device, sv, sd);
}

const char *name_vendor_only(char *buf, size_t len, unsigned vendor)
{
	int saved = numeric_mode;
	const char *r;

	numeric_mode = 0;
	r = lookup(buf, len, PCI_LOOKUP_VENDOR | PCI_LOOKUP_NO_NUMBERS, vendor, 0u, 0u, 0u);
	numeric_mode = saved;
	return r;
}

const char *name_device_only(char *buf, size_t len, unsigned vendor, unsigned device)
{
	int saved = numeric_mode;
	const char *r;

	numeric_mode = 0;
	r = lookup(buf, len, PCI_LOOKUP_DEVICE | PCI_LOOKUP_NO_NUMBERS, vendor, device, 0u, 0u);
	numeric_mode = saved;
	return r;
}

const char *name_progif(char *buf, size_t len, unsigned class16, unsigned progif)
{
	return lookup(buf, len, PCI_LOOKUP_PROGIF | PCI_LOOKUP_NO_NUMBERS, class16, progif, 0u, 0u);
}

#else /* no libpci: what libpci prints when it has no database */

int names_available(void)
{
	return 0;
}

const char *name_class(char *buf, size_t len, unsigned class16)
{
	snprintf(buf, len, numeric_mode ? "%04x" : "Class %04x", class16);
	if (numeric_mode == 2)
		snprintf(buf, len, "Class [%04x]", class16);
	return buf;
}

static const char *pair(char *buf, size_t len, unsigned a, unsigned b)
{
	if (numeric_mode == 1)
		snprintf(buf, len, "%04x:%04x", a, b);
	else if (numeric_mode == 2)
		snprintf(buf, len, "Device [%04x:%04x]", a, b);
	else
		snprintf(buf, len, "Device %04x:%04x", a, b);
	return buf;
}

const char *name_vendor_device(char *buf, size_t len, unsigned vendor, unsigned device)
{
	return pair(buf, len, vendor, device);
}

const char *name_subsystem(char *buf, size_t len, unsigned vendor, unsigned device, unsigned sv, unsigned sd)
{
	(void)vendor;
	(void)device;
	return pair(buf, len, sv, sd);
}

const char *name_vendor_only(char *buf, size_t len, unsigned vendor)
{
	(void)buf;
	(void)len;
	(void)vendor;
	return NULL;
}

const char *name_device_only(char *buf, size_t len, unsigned vendor, unsigned device)
{
	(void)buf;
	(void)len;
	(void)vendor;
	(void)device;
	return NULL;
}

const char *name_progif(char *buf, size_t len, unsigned class16, unsigned progif)
{
	(void)buf;
	(void)len;
	(void)class16;
	(void)progif;
	return NULL;
}
#endif

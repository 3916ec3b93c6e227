/* SPDX-License-Identifier: MIT */
/*
 * Vendor, device, subsystem, class and prog-if names from the pci.ids
 * database through libpci's pci_lookup_name(), exactly as lspci prints them
 * (its -n / -nn forms included). Built without libpci (a static build),
 * every lookup falls back to the form libpci itself gives when the database
 * is missing ("Device 1234:11e8", "Class ff00"): numbers, no name tables.
 */
#ifndef UPCI_TOOLS_NAMES_H
#define UPCI_TOOLS_NAMES_H

#include <stddef.h>
#include <stdint.h>

/* 0: names ("lspci"), 1: numbers only (-n), 2: both (-nn). */
void names_set_numeric(int mode);

/* Is the pci.ids database reachable (libpci built in and its file found)? */
int names_available(void);

/* Each writes into buf (always terminated) and returns it. */
const char *name_class(char *buf, size_t len, unsigned class16);
const char *name_vendor_device(char *buf, size_t len, unsigned vendor, unsigned device);
const char *name_subsystem(char *buf, size_t len, unsigned vendor, unsigned device, unsigned sv, unsigned sd);
/* Just the vendor, or just the device (no numbers when unknown: NULL). */
const char *name_vendor_only(char *buf, size_t len, unsigned vendor);
const char *name_device_only(char *buf, size_t len, unsigned vendor, unsigned device);
/* The prog-if's name, or NULL when the database has none. */
const char *name_progif(char *buf, size_t len, unsigned class16, unsigned progif);

#endif

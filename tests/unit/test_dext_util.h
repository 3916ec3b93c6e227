/* SPDX-License-Identifier: MIT */
/* Shared by the dext unit tests: the shim's two devices, a raw connection
 * that bypasses the backend, and a teardown that fails on leaked IOKit
 * objects. */
#ifndef UPCI_TEST_DEXT_UTIL_H
#define UPCI_TEST_DEXT_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "dext.h"
#include "iokit_shim.h"

#define SHIM_SPEC "00:01.0=sim:edu;00:02.0=sim:testdev?vectors=256"
#define EDU_URI "dext:00:01.0"
#define TD_URI "dext:00:02.0"

static inline int shim_setup(void **state)
{
	(void)state;
	iokit_shim_set_faults(0);
	iokit_shim_set_wait_hook(NULL, NULL);
	return iokit_shim_configure(SHIM_SPEC);
}

/* Fails the test when the backend left any IOKit object behind. */
static inline int shim_teardown(void **state)
{
	int leaked;

	(void)state;
	iokit_shim_set_faults(0);
	iokit_shim_set_wait_hook(NULL, NULL);
	leaked = iokit_shim_reset();
	if (leaked)
		print_error("%d IOKit object(s) left open\n", leaked);
	return leaked ? -1 : 0;
}

/* A connection of our own to BB:DD.F, not shared with the backend's. */
static inline io_connect_t raw_open(uint8_t bus, uint8_t dev, uint8_t fn)
{
	io_iterator_t it = IO_OBJECT_NULL;
	io_connect_t found = IO_OBJECT_NULL;
	io_service_t s;

	if (IOServiceGetMatchingServices(kIOMainPortDefault, IOServiceMatching(DEXT_SERVICE_CLASS), &it))
		return IO_OBJECT_NULL;
	while (!found && (s = IOIteratorNext(it)) != IO_OBJECT_NULL) {
		struct dext_identity id;
		io_connect_t c = IO_OBJECT_NULL;

		if (IOServiceOpen(s, mach_task_self(), DEXT_CLIENT_TYPE, &c) == kIOReturnSuccess) {
			if (dext_get_identity(c, &id) == 0 && id.bus == bus && id.dev == dev && id.fn == fn)
				found = c;
			else
				IOServiceClose(c);
		}
		IOObjectRelease(s);
	}
	IOObjectRelease(it);
	return found;
}

/* The last scalar call must be @sel with @nin inputs and room for @nout. */
static inline void expect_call(uint32_t sel, uint32_t nin, uint32_t nout)
{
	struct iokit_shim_call k;

	iokit_shim_last_call(&k);
	assert_int_equal(k.selector, sel);
	assert_int_equal(k.nin, nin);
	assert_int_equal(k.out_cap, nout);
}

#endif

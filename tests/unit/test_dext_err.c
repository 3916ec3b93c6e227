/* SPDX-License-Identifier: MIT */
/* kern_return_t -> -errno: every mapping the backend documents. */
#include <mach/mig_errors.h>

#include "test_dext_util.h"

static void test_mapping(void **state)
{
	static const struct {
		kern_return_t kr;
		int err;
	} want[] = {
		{kIOReturnSuccess, 0},
		{kIOReturnBadArgument, -EINVAL},
		{kIOReturnNotOpen, -EPERM},      /* the driver's "not claimed" */
		{kIOReturnNoResources, -ENOSPC}, /* DART space or mappings */
		{kIOReturnNoSpace, -ENOSPC},     /* the 65,536 slots */
		{kIOReturnNoMemory, -ENOMEM},
		{kIOReturnNotFound, -ENOENT},
		{kIOReturnStillOpen, -EEXIST},   /* duplicate IOVA key */
		{kIOReturnNotAligned, -ERANGE},  /* not one bus segment */
		{kIOReturnExclusiveAccess, -EBUSY},
		{kIOReturnBusy, -EBUSY},
		{kIOReturnUnsupported, -ENOTSUP},
		{kIOReturnNotReady, -EAGAIN},
		{kIOReturnNotWritable, -EROFS},
		{kIOReturnNotPermitted, -EACCES},
		{kIOReturnNotPrivileged, -EPERM},
		{kIOReturnNotAttached, -ENODEV},
		{kIOReturnOffline, -ENODEV},     /* a terminated instance, a dead dext */
		{MIG_SERVER_DIED, -ENODEV},      /* the dext died during the call */
		{kIOReturnNoDevice, -ENODEV},
		{kIOReturnTimeout, -ETIMEDOUT},
		{kIOReturnOverrun, -ERANGE},
		{kIOReturnAborted, -ECANCELED},
		{kIOReturnIPCError, -EPIPE},
		{kIOReturnError, -EIO},
		{MACH_SEND_INVALID_DEST, -ENODEV},
		{KERN_INVALID_ARGUMENT, -EINVAL},
		{(kern_return_t)0xe00002ff, -EIO}, /* unknown: an I/O error */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (dext_errno(want[i].kr) != want[i].err)
			fail_msg("%s (0x%08x): expected %d, got %d", dext_kr_name(want[i].kr), (unsigned)want[i].kr,
				 want[i].err, dext_errno(want[i].kr));
	}
}

static void test_values_are_apples(void **state)
{
	(void)state;
	/* iokit_common_err(x) = 0xe0000000 | x (IOReturn.h). */
	assert_int_equal((unsigned)kIOReturnBadArgument, 0xe00002c2u);
	assert_int_equal((unsigned)kIOReturnNotOpen, 0xe00002cdu);
	assert_int_equal((unsigned)kIOReturnNoResources, 0xe00002beu);
	assert_int_equal((unsigned)kIOReturnNotFound, 0xe00002f0u);
	assert_int_equal((unsigned)kIOReturnStillOpen, 0xe00002d2u);
	assert_int_equal((unsigned)kIOReturnNotAligned, 0xe00002d0u);
	assert_int_equal((unsigned)kIOReturnExclusiveAccess, 0xe00002c5u);
	assert_int_equal((unsigned)kIOReturnNoSpace, 0xe00002dbu);
	assert_int_equal((unsigned)kIOReturnNotReady, 0xe00002d8u);
	assert_int_equal((unsigned)kIOReturnOffline, 0xe00002d7u);
	assert_int_equal(MIG_SERVER_DIED, -308); /* mach/mig_errors.h */
	assert_int_equal(kIOMapWriteCombineCache, 0x400);
	assert_int_equal(kIOMapAnywhere, 1);
	assert_int_equal(kIOAsyncCalloutFuncIndex, 1);
	assert_int_equal(kIOAsyncCalloutRefconIndex, 2);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(dext_kr_name(kIOReturnNotAligned), "kIOReturnNotAligned");
	assert_string_equal(dext_kr_name(kIOReturnSuccess), "kIOReturnSuccess");
	assert_string_equal(dext_kr_name((kern_return_t)0xe00002ff), "0xe00002ff");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mapping),
		cmocka_unit_test(test_values_are_apples),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

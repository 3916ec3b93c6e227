/* SPDX-License-Identifier: MIT */
/*
 * upci_enumerate("dext"): the hook where the dext backend lists its
 * driver instances.
 *
 * Listing must open nothing, and the only way this backend knows which
 * function an instance serves today is to open it and ask GetIdentity
 * (dext_conn.c), which a listing must not do (it also costs the dext a
 * client's worth of state, and PCIDriverKit reads IDs as all ones before
 * a claim). The identity has to come from the registry properties of the
 * instance's IOPCIDevice provider; that lookup arrives with the rework of
 * the device lookup (dext_conn.c). With it, this walks the driver
 * instances as dext_conn_get() does and adds one "dext:BB:DD.F" entry per
 * instance, ready unless another PCIe root has the same BB:DD.F. Until
 * then: -ENOTSUP, as upci.h says.
 */
#include <errno.h>

#include "backend.h"
#include "dext.h"

int dext_enumerate(struct upci_enum_sink *sink)
{
	(void)sink;
	return -ENOTSUP;
}

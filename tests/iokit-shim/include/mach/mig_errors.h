/* SPDX-License-Identifier: MIT */
/* Linux test shim: the part of Apple's <mach/mig_errors.h> upci uses. */
#ifndef UPCI_SHIM_MACH_MIG_ERRORS_H
#define UPCI_SHIM_MACH_MIG_ERRORS_H

/* The server of an RPC (here: the dext process) died before replying. */
#define MIG_SERVER_DIED -308

#endif

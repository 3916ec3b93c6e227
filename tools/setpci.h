/* SPDX-License-Identifier: MIT */
/*
 * setpci's register syntax for 'upci config' (pciutils setpci(8)):
 *
 *   REG[+OFFSET][.B|.W|.L][@N][=VALUE[:MASK][,VALUE[:MASK]...]]
 *
 * REG is a hex offset, a named header register (COMMAND, STATUS,
 * BASE_ADDRESS_0, ...; each has its width), CAP_name / ECAP_name (a
 * capability by name, e.g. CAP_EXP, ECAP_AER) or CAPnn / ECAPnnnn (by
 * hex ID); @N picks the N-th capability with that ID (hex, from 0).
 * Numbers are hex, "0x" optional. A width suffix is needed unless the
 * named register has one. VALUE:MASK changes only the MASK bits.
 */
#ifndef UPCI_TOOLS_SETPCI_H
#define UPCI_TOOLS_SETPCI_H

#include <stddef.h>
#include <stdint.h>

#include "caps.h"

#define SETPCI_MAX_VALUES 64
#define SETPCI_CAP_STD 1
#define SETPCI_CAP_EXT 2

struct setpci_op {
	const char *text;      /* the argument as given */
	const char *name;      /* named register or capability, NULL for a number */
	int cap_type;          /* 0, SETPCI_CAP_STD or SETPCI_CAP_EXT */
	unsigned cap_id;
	unsigned number;       /* @N: which capability with that ID */
	unsigned hdr_mask;     /* header types (bit per type) having it; 0 = all */
	unsigned addr;         /* offset, from the capability when cap_type */
	unsigned width;        /* 1, 2 or 4 */
	unsigned nvalues;      /* 0: a read */
	uint32_t value[SETPCI_MAX_VALUES];
	uint32_t mask[SETPCI_MAX_VALUES];
};

/* Parse one argument. 0, or -EINVAL with a sentence in @why. */
int setpci_parse(const char *arg, struct setpci_op *op, char *why, size_t whylen);

/*
 * The config-space offset of @op on the device whose config space is @c
 * (capabilities found by walking it). 0, or -ENOENT (no such capability,
 * or a register its header type lacks) / -EFAULT (misaligned) / -ERANGE
 * (past the end) with a sentence in @why.
 */
int setpci_resolve(const struct setpci_op *op, const struct cfg_snapshot *c, unsigned *addr, char *why,
		   size_t whylen);

/* Print every known register name, setpci --dumpregs's layout. */
void setpci_dump_names(void);

#endif

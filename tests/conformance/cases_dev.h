/* SPDX-License-Identifier: MIT */
/* Device helpers the case files share (cases_edu.c, cases_testdev.c). */
#ifndef UPCI_CONF_CASES_DEV_H
#define UPCI_CONF_CASES_DEV_H

#include "conformance.h"

/* Open, claim and clear what an earlier user left on an edu: 0 or -1
 * (the failure recorded). */
int edu_open(struct conf *c, upci_dev **dp);

/* An open, claimed testdev and what it says about itself. */
struct td {
	upci_dev *d;
	unsigned nvec;     /* NVEC register */
	uint64_t mem_size; /* MEM_SIZE register */
};

/* Open and claim (td_open); also enable all vectors with MSI-X
 * (td_open_irq). 0 or -1. */
int td_open(struct conf *c, struct td *t);
int td_open_irq(struct conf *c, struct td *t);
/* Ring vector @v's doorbell. 0 or -1. */
int td_fire(struct conf *c, upci_dev *d, unsigned v);
/* Wait until exactly @want has arrived through upci_irq_wait(), each
 * vector once, then make sure nothing else follows. 0 or -1. */
int td_collect(struct conf *c, upci_dev *d, const uint64_t want[UPCI_IRQ_WORDS], const char *what);

#endif /* UPCI_CONF_CASES_DEV_H */

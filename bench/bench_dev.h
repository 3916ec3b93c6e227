/* SPDX-License-Identifier: MIT */
/* Opening the device a benchmark drives, and knowing which register map
 * it has (by vendor:device ID, so "--uri vfio:..." on QEMU's edu works). */
#ifndef UPCI_BENCH_DEV_H
#define UPCI_BENCH_DEV_H

#include "upci/upci.h"

enum bench_kind {
	BENCH_OTHER = 0, /* unknown register map: config space only */
	BENCH_EDU,       /* QEMU edu (or our model of it) */
	BENCH_TESTDEV,   /* upci's testdev */
};

struct bench_dev {
	upci_dev *dev;
	const char *uri;
	enum bench_kind kind;
	struct upci_identity id;
};

/* Open, claim and identify; an error is fatal (bench_die). */
void bench_dev_open(struct bench_dev *d, const char *uri);
void bench_dev_close(struct bench_dev *d);
/* Turn on memory decoding and bus mastering (COMMAND register). */
void bench_dev_master(struct bench_dev *d);

#endif /* UPCI_BENCH_DEV_H */

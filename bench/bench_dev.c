/* SPDX-License-Identifier: MIT */
/* Device open/claim/identify for the benchmarks. */
#include "bench_dev.h"

#include "bench_util.h"
#include "edu_regs.h"
#include "testdev_regs.h"

/* PCI Local Bus 3.0, 6.2.2: COMMAND register and the two bits we need
 * (the public header deliberately carries no config-space names). */
#define BENCH_PCI_COMMAND         0x04u
#define BENCH_PCI_COMMAND_MEMORY  0x0002u
#define BENCH_PCI_COMMAND_MASTER  0x0004u

void bench_dev_open(struct bench_dev *d, const char *uri)
{
	d->uri = uri;
	d->dev = NULL;
	bench_ok(upci_open(&d->dev, uri), uri, "open");
	bench_ok(upci_claim(d->dev), uri, "claim");
	bench_ok(upci_identity(d->dev, &d->id), uri, "identity");
	if (d->id.vendor_id == EDU_VENDOR_ID && d->id.device_id == EDU_DEVICE_ID)
		d->kind = BENCH_EDU;
	else if (d->id.vendor_id == TESTDEV_VENDOR_ID && d->id.device_id == TESTDEV_DEVICE_ID)
		d->kind = BENCH_TESTDEV;
	else
		d->kind = BENCH_OTHER;
}

void bench_dev_close(struct bench_dev *d)
{
	upci_close(d->dev);
	d->dev = NULL;
}

void bench_dev_master(struct bench_dev *d)
{
	uint32_t cmd;

	bench_ok(upci_config_read(d->dev, BENCH_PCI_COMMAND, 2, &cmd), d->uri, "read COMMAND");
	cmd |= BENCH_PCI_COMMAND_MEMORY | BENCH_PCI_COMMAND_MASTER;
	bench_ok(upci_config_write(d->dev, BENCH_PCI_COMMAND, 2, cmd), d->uri, "enable bus mastering");
}

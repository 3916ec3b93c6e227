/* SPDX-License-Identifier: MIT */
/* The sim backend: device models in-process, reached through a simulated
 * IOMMU (a DMA region table keyed by bus address). */
#ifndef UPCI_BACKEND_SIM_H
#define UPCI_BACKEND_SIM_H

#include <pthread.h>

#include "device.h"
#include "dma_table.h"
#include "model.h"

/* One model instance, shared by every handle opened with the same URI. */
struct sim_inst {
	struct sim_inst *next;
	char *key;                 /* the URI: instances are found by it */
	unsigned refs;
	unsigned index;            /* gives each instance its own BDF */
	pthread_mutex_t lock;      /* serializes every call into the model */
	struct upci_model *m;
	struct model_host host;
	struct upci_dev *owner;    /* the handle holding the claim, or NULL */
	struct dma_table *iommu;   /* keyed by bus address */
	enum upci_irq_type irq_type;
	unsigned irq_nvec;
	int intx_level;
};

/* sim_host.c: the model_host callbacks, bound to an instance. */
void sim_host_init(struct sim_inst *si);

/* Config write from the bus, with the model's side effects. */
void sim_cfg_write(struct sim_inst *si, unsigned off, unsigned width, uint32_t val);

/* sim_irq.c: program the model's MSI / MSI-X / INTx as a host OS would. */
unsigned sim_irq_count(struct sim_inst *si, enum upci_irq_type type);
int sim_irq_program(struct sim_inst *si, enum upci_irq_type type, unsigned nvec);
void sim_irq_unprogram(struct sim_inst *si);

#endif

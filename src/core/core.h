/* SPDX-License-Identifier: MIT */
/* Functions shared between the files of src/core (not public). */
#ifndef UPCI_CORE_CORE_H
#define UPCI_CORE_CORE_H

#include <stdio.h>

#include "device.h"

#ifdef UPCI_HAVE_VFIO
extern const struct upci_backend_ops upci_vfio_ops;
#endif
#ifdef UPCI_HAVE_VFIO_USER
extern const struct upci_backend_ops upci_vfio_user_ops;
#endif
#ifdef UPCI_HAVE_DEXT
extern const struct upci_backend_ops upci_dext_ops;
#endif
#ifdef UPCI_HAVE_SYSFS
extern const struct upci_backend_ops upci_sysfs_ops;
#endif

/* The backend table (device.c): entry @i (NULL ops when not built in),
 * 0 or -ENOENT past the end; the backend of URI scheme @scheme, 0 or
 * -EINVAL for an unknown scheme (NULL ops when not built in). */
int core_backend_at(unsigned i, const struct upci_backend_ops **ops);
int core_backend_by_name(const char *scheme, const struct upci_backend_ops **ops);

/* Each takes the handle's lock as held. */
void core_drop_claimed_state(struct upci_dev *dev);
void core_bar_unmap_locked(struct upci_dev *dev, unsigned bar);
void core_irq_disable_locked(struct upci_dev *dev);
int core_irq_bus_master_locked(struct upci_dev *dev);
void core_dma_drop_all_locked(struct upci_dev *dev);
/* irqroute.c: close every routed vector's fd (after the device and the
 * irq_state dropped them); point the device at them again (after a reset
 * re-enabled interrupts); 0 or the first backend error. */
void core_irq_routes_drop_locked(struct upci_dev *dev);
int core_irq_routes_reapply_locked(struct upci_dev *dev);
/* 1 when @fd is an eventfd (Linux), else 0. */
int core_irq_fd_is_eventfd(int fd);

/* Argument checks shared by config and MMIO access. */
static inline int core_width_ok(unsigned width, unsigned max)
{
	return (width == 1 || width == 2 || width == 4 || width == 8) && width <= max;
}

#endif

/* SPDX-License-Identifier: MIT */
/*
 * Config-write policy of the vfio-user server: every config-space write a
 * client sends is split into naturally aligned 1/2/4-byte writes, and the
 * policy decides for each one whether it reaches the device (FORWARD, maybe
 * with a changed value), is silently ignored (DROP), or is kept by the
 * server in a shadow that later reads return instead of the device's bytes
 * (EMULATE, as the kernel's vfio-pci virtualizes some registers).
 *
 * The default forwards everything. A backend that must protect the device
 * (the macOS dext refuses BAR and STATUS rewrites) supplies its own.
 */
#ifndef UPCI_VFIO_USER_SRV_POLICY_H
#define UPCI_VFIO_USER_SRV_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "upci/upci.h"

enum vfu_cfg_action {
	VFU_CFG_FORWARD = 0,
	VFU_CFG_DROP = 1,
	VFU_CFG_EMULATE = 2,
};

struct vfu_cfg_policy {
	const char *name;
	/*
	 * One write of @width (1, 2 or 4) bytes at @off (aligned to @width,
	 * inside config space). May change *val: FORWARD writes the new value,
	 * EMULATE stores it. Returns an enum vfu_cfg_action, or a negative
	 * errno to fail the client's write (the rest of it is not applied).
	 * NULL: forward everything.
	 */
	int (*config_write)(void *opaque, upci_dev *dev, uint32_t off, unsigned width, uint32_t *val);
	void *opaque;
};

/* Forwards every write unchanged. */
extern const struct vfu_cfg_policy vfu_cfg_policy_forward;

/* Config bytes the server emulates, and their values. */
#define VFU_CFG_SHADOW_SIZE 4096u
struct vfu_cfg_shadow {
	uint8_t data[VFU_CFG_SHADOW_SIZE];
	uint8_t emulated[VFU_CFG_SHADOW_SIZE / 8]; /* bit per byte */
};

/* Forget every emulated byte (device reset). */
void vfu_cfg_shadow_clear(struct vfu_cfg_shadow *sh);

/* Replace the emulated bytes of [off, off+len) in @buf by their shadow. */
void vfu_cfg_shadow_overlay(const struct vfu_cfg_shadow *sh, uint32_t off, uint8_t *buf, size_t len);

/*
 * Apply one aligned write through @p: ask the policy, then write the
 * device, store the shadow, or do nothing.
 * Return: 0; the policy's negative errno; -EINVAL for an action it does
 * not know; upci_config_write()'s error.
 */
int vfu_cfg_policy_apply(const struct vfu_cfg_policy *p, struct vfu_cfg_shadow *sh, upci_dev *dev, uint32_t off,
			 unsigned width, uint32_t val);

#endif /* UPCI_VFIO_USER_SRV_POLICY_H */

/* SPDX-License-Identifier: MIT */
/* Config-write policy: the default (forward everything) and the shadow of
 * emulated bytes. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "srv_policy.h"

const struct vfu_cfg_policy vfu_cfg_policy_forward = {
	.name = "forward",
	.config_write = NULL,
};

void vfu_cfg_shadow_clear(struct vfu_cfg_shadow *sh)
{
	memset(sh->emulated, 0, sizeof(sh->emulated));
}

static int is_emulated(const struct vfu_cfg_shadow *sh, uint32_t off)
{
	return (sh->emulated[off / 8] >> (off % 8)) & 1;
}

void vfu_cfg_shadow_overlay(const struct vfu_cfg_shadow *sh, uint32_t off, uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len && off + i < VFU_CFG_SHADOW_SIZE; i++)
		if (is_emulated(sh, off + (uint32_t)i))
			buf[i] = sh->data[off + i];
}

static void shadow_store(struct vfu_cfg_shadow *sh, uint32_t off, unsigned width, uint32_t val)
{
	for (unsigned i = 0; i < width && off + i < VFU_CFG_SHADOW_SIZE; i++) {
		sh->data[off + i] = (uint8_t)(val >> (8 * i));
		sh->emulated[(off + i) / 8] |= (uint8_t)(1u << ((off + i) % 8));
	}
}

int vfu_cfg_policy_apply(const struct vfu_cfg_policy *p, struct vfu_cfg_shadow *sh, upci_dev *dev, uint32_t off,
			 unsigned width, uint32_t val)
{
	int act = VFU_CFG_FORWARD;

	if (p && p->config_write)
		act = p->config_write(p->opaque, dev, off, width, &val);
	if (act < 0)
		return act;
	/* A policy may not widen the value past the access. */
	if (width < 4)
		val &= (1u << (8 * width)) - 1;
	switch (act) {
	case VFU_CFG_FORWARD:
		return upci_config_write(dev, off, width, val);
	case VFU_CFG_DROP:
		return 0;
	case VFU_CFG_EMULATE:
		shadow_store(sh, off, width, val);
		return 0;
	default:
		return -EINVAL;
	}
}

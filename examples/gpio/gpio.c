/* SPDX-License-Identifier: MIT */
/* The GPIO card's model (gpio.h): registers, change interrupts, reset. */
#include <errno.h>
#include <string.h>

#include <upci/model.h>

#include "gpio.h"

struct gpio {
	upci_model *m;
	int loopback;    /* inputs follow the outputs */
	uint32_t tied;   /* input levels when not looped back */
	uint32_t out, in, irq_en, irq_status, changes;
};

/* The inputs may have changed: latch the enabled pins that did, and keep
 * the interrupt asserted while any is latched. upci picks MSI or INTx. */
static void gpio_inputs(struct gpio *g)
{
	uint32_t now = g->loopback ? g->out : g->tied;
	uint32_t changed = (now ^ g->in) & GPIO_PINS_MASK;
	uint32_t fresh = changed & g->irq_en & ~g->irq_status;

	g->in = now;
	if (changed)
		g->changes++;
	g->irq_status |= changed & g->irq_en;
	if (fresh)
		upci_model_irq(g->m, 0);
	upci_model_intx(g->m, g->irq_status != 0);
}

static int gpio_read(upci_model *m, void *priv, unsigned bar, uint64_t off, unsigned width, uint64_t *val)
{
	struct gpio *g = priv;

	(void)m;
	(void)bar;
	*val = UINT64_MAX; /* a refused read still reads all ones (model.h) */
	if (width != 4)
		return -EINVAL;
	switch (off) {
	case GPIO_REG_ID: *val = GPIO_ID_VALUE; break;
	case GPIO_REG_OUT: *val = g->out; break;
	case GPIO_REG_IN: *val = g->in; break;
	case GPIO_REG_IRQ_EN: *val = g->irq_en; break;
	case GPIO_REG_IRQ_STATUS: *val = g->irq_status; break;
	case GPIO_REG_CHANGES: *val = g->changes; break;
	default: break; /* unimplemented: all ones */
	}
	return 0;
}

static int gpio_write(upci_model *m, void *priv, unsigned bar, uint64_t off, unsigned width, uint64_t val)
{
	struct gpio *g = priv;

	(void)bar;
	if (width != 4)
		return -EINVAL;
	switch (off) {
	case GPIO_REG_OUT:
		g->out = (uint32_t)val & GPIO_PINS_MASK;
		gpio_inputs(g);
		break;
	case GPIO_REG_IRQ_EN:
		g->irq_en = (uint32_t)val & GPIO_PINS_MASK;
		break;
	case GPIO_REG_IRQ_STATUS:
		g->irq_status &= ~(uint32_t)val;
		upci_model_intx(m, g->irq_status != 0);
		break;
	default:
		break; /* read-only or unimplemented: dropped */
	}
	return 0;
}

/* upci restored config space and lowered INTx; the registers are ours. */
static void gpio_reset(upci_model *m)
{
	struct gpio *g = upci_model_priv(m);

	g->out = g->irq_en = g->irq_status = g->changes = 0;
	g->in = g->loopback ? 0 : g->tied;
}

static int gpio_create(upci_model *m, const upci_model_params *p)
{
	static const char *const known[] = {"in", NULL};
	struct gpio *g = upci_model_priv(m);
	const char *in;
	uint64_t tied;
	int ret;

	if (upci_model_params_check(p, known, NULL) != 0)
		return -EINVAL;
	g->loopback = upci_model_param_str(p, "in", &in) != 0;
	ret = upci_model_param_u64(p, "in", 0, 0, GPIO_PINS_MASK, &tied);
	if (ret)
		return ret;
	g->m = m;
	g->tied = (uint32_t)tied;
	g->in = g->loopback ? 0 : g->tied;
	/* Class 0x088000: base system peripheral, other. */
	ret = upci_model_set_ids(m, GPIO_VENDOR_ID, GPIO_DEVICE_ID, GPIO_VENDOR_ID, GPIO_DEVICE_ID, 1, 0x088000);
	if (!ret)
		ret = upci_model_set_intx(m, 1);
	if (!ret)
		ret = upci_model_bar_regs(m, 0, GPIO_BAR_SIZE, 0, gpio_read, gpio_write);
	if (!ret && (ret = upci_model_add_msi(m, 0, 1, UPCI_MODEL_MSI_64BIT)) > 0)
		ret = 0;
	/* Power management without No_Soft_Reset: D3hot -> D0 resets the
	 * card, which is how a host resets a function without FLR. */
	if (!ret && (ret = upci_model_add_pm(m, 0, 0)) > 0)
		ret = 0;
	return ret;
}

static const struct upci_model_ops gpio_ops = {
	.api_version = UPCI_MODEL_API_VERSION,
	.name = "gpio",
	.summary = "16-in/16-out GPIO card with change interrupts (upci example)",
	.params = "in=0..0xffff (inputs tied to this level; default: wired to the outputs)",
	.priv_size = sizeof(struct gpio),
	.create = gpio_create,
	.reset = gpio_reset,
};

int gpio_register(void)
{
	return upci_model_register(&gpio_ops);
}

/* SPDX-License-Identifier: MIT */
/*
 * The device-author API (include/upci/model.h) end to end: a model written
 * against the public header only ("apitest" below) is registered and
 * driven in-process through the driver API (upci_open("sim:apitest")),
 * and every promise of the header about what upci checks and does for the
 * author is tested from the driver's side: registration rules, the shape
 * calls only in create(), config masks, the callbacks' guarantees, MSI-X,
 * MSI and INTx rules, DMA bounds and bus mastering, reset (upci_reset,
 * FLR, PM soft reset) and parameters. Expected values come from the
 * header and the PCI specifications (offsets in pci_regs.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "pci_regs.h"
#include "upci/model.h"

/* ---- the test model: public API only ---- */

#define AT_VENDOR     0x1af4u
#define AT_DEVICE     0x10feu
#define AT_ID         0x41504954u /* "APIT" */
#define AT_NVEC_MSIX  8u
#define AT_NVEC_MSI   4u
#define AT_PM         0x40u
#define AT_MSI        0x48u
#define AT_MSIX       0x60u
#define AT_EXP        0x70u
#define AT_VCAP       0xb0u      /* a vendor capability the model shapes */
#define AT_ECAP_A     0x100u
#define AT_ECAP_B     0x110u
/* BAR0 registers */
#define R_ID          0x00u
#define R_SCRATCH     0x04u
#define R_IRQ         0x08u  /* write v: upci_model_irq(v); read: its answer */
#define R_INTX        0x0cu  /* write: upci_model_intx(level); read: its answer */
#define R_DMA_LO      0x10u
#define R_DMA_HI      0x14u
#define R_DMA_LEN     0x18u
#define R_DMA_CMD     0x1cu  /* 1: host -> buf, 2: buf -> host, 3: translate */
#define R_DMA_RES     0x20u  /* answer of the last command (int32) */
#define R_RESETS      0x24u  /* ops->reset calls */
#define R_SHAPE       0x28u  /* write: try a create-only call; read: its answer */
#define R_BAD         0x2cu  /* accesses the callbacks should never have seen */
#define R_MIRROR      0x30u  /* write v: store v in the mirror BAR at 0 */
#define R_BUF         0x100u /* 256-byte DMA buffer */
#define AT_BAR0_SIZE  0x4000u
#define AT_TABLE      0x2000u
#define AT_PBA        0x3000u
#define AT_BAR2_SIZE  0x1000u /* RAM */
#define AT_BAR4_SIZE  0x1000u /* mirror */

struct at {
	upci_model *m;
	uint32_t scratch, irq_res, intx_res, dma_len, dma_res, resets, shape_res, bad;
	uint64_t dma_addr;
	uint8_t buf[256];
	int destroyed_marker;
};

static unsigned destroys; /* across instances */

static int checked(unsigned bar, uint64_t off, unsigned width, uint64_t size)
{
	return (width == 1 || width == 2 || width == 4 || width == 8) && (off & (width - 1)) == 0 && off < size &&
	       width <= size - off && bar < UPCI_NUM_BARS;
}

static int at_read(upci_model *m, void *priv, unsigned bar, uint64_t off, unsigned width, uint64_t *val)
{
	struct at *a = priv;

	if (priv != upci_model_priv(m))
		a->bad++;
	if (!checked(bar, off, width, bar == 0 ? AT_BAR0_SIZE : 32) ||
	    (bar == 0 && off >= AT_TABLE && off < AT_PBA + 8))
		a->bad++;
	if (off >= R_BUF && off + width <= R_BUF + sizeof(a->buf)) {
		*val = 0;
		memcpy(val, a->buf + (off - R_BUF), width);
		return 0;
	}
	switch (off) {
	case R_ID: *val = AT_ID; break;
	case R_SCRATCH: *val = a->scratch; break;
	case R_IRQ: *val = a->irq_res; break;
	case R_INTX: *val = a->intx_res; break;
	case R_DMA_RES: *val = a->dma_res; break;
	case R_RESETS: *val = a->resets; break;
	case R_SHAPE: *val = a->shape_res; break;
	case R_BAD: *val = a->bad; break;
	default: *val = width == 8 ? UINT64_MAX : (1ull << (8 * width)) - 1;
	}
	return 0;
}

static void at_dma(struct at *a, uint32_t cmd)
{
	void *p;

	switch (cmd) {
	case 1:
		a->dma_res = (uint32_t)upci_model_dma_read(a->m, a->dma_addr, a->buf, a->dma_len);
		break;
	case 2:
		a->dma_res = (uint32_t)upci_model_dma_write(a->m, a->dma_addr, a->buf, a->dma_len);
		break;
	case 3:
		p = upci_model_dma_translate(a->m, a->dma_addr, a->dma_len, UPCI_DMA_READ);
		/* Through the one allowed door: a guarded copy. */
		a->dma_res = p ? (uint32_t)upci_model_dma_copy(a->buf, p, a->dma_len < 256 ? a->dma_len : 256, NULL)
			       : 1u;
		break;
	default:
		a->dma_res = (uint32_t)-EINVAL;
	}
}

static int at_write(upci_model *m, void *priv, unsigned bar, uint64_t off, unsigned width, uint64_t val)
{
	struct at *a = priv;

	if (priv != upci_model_priv(m))
		a->bad++;
	if (!checked(bar, off, width, bar == 0 ? AT_BAR0_SIZE : 32) ||
	    (bar == 0 && off >= AT_TABLE && off < AT_PBA + 8) || (width < 8 && (val >> (8 * width))))
		a->bad++;
	if (off >= R_BUF && off + width <= R_BUF + sizeof(a->buf)) {
		memcpy(a->buf + (off - R_BUF), &val, width);
		return 0;
	}
	switch (off) {
	case R_SCRATCH: a->scratch = (uint32_t)val; break;
	case R_IRQ: a->irq_res = (uint32_t)upci_model_irq(m, (unsigned)val); break;
	case R_INTX: a->intx_res = (uint32_t)upci_model_intx(m, (int)val); break;
	case R_DMA_LO: a->dma_addr = (a->dma_addr & ~0xffffffffull) | (uint32_t)val; break;
	case R_DMA_HI: a->dma_addr = (a->dma_addr & 0xffffffffull) | (val << 32); break;
	case R_DMA_LEN: a->dma_len = (uint32_t)val; break;
	case R_DMA_CMD: at_dma(a, (uint32_t)val); break;
	case R_SHAPE:
		a->shape_res = (uint32_t)(val == 0 ? upci_model_add_cap(m, 0x09, 0, 8)
				   : val == 1 ? upci_model_bar_ram(m, 3, 4096, 0)
					      : upci_model_config_wmask(m, AT_VCAP + 4, 4, ~0u));
		break;
	case R_MIRROR: {
		uint32_t v = (uint32_t)val;

		memcpy(upci_model_bar_mem(m, 4), &v, 4);
		break;
	}
	case 0x3f00: return -EINVAL; /* a register the device refuses */
	default: break;
	}
	return 0;
}

static void at_reset(upci_model *m)
{
	struct at *a = upci_model_priv(m);
	uint32_t resets = a->resets + 1;

	memset(a, 0, sizeof(*a));
	a->m = m;
	a->resets = resets;
}

static void at_destroy(upci_model *m)
{
	(void)m;
	destroys++;
}

static int at_create(upci_model *m, const upci_model_params *p)
{
	static const char *const known[] = {"fail", "pm", "dev", "name", NULL};
	struct at *a = upci_model_priv(m);
	uint64_t fail, pm, dev;
	const char *name = NULL;
	int at;

	if (upci_model_params_check(p, known, NULL) || upci_model_param_u64(p, "fail", 0, 0, 1, &fail) ||
	    upci_model_param_u64(p, "pm", 1, 0, 1, &pm) ||
	    upci_model_param_u64(p, "dev", AT_DEVICE, 0, 0xffff, &dev))
		return -EINVAL;
	if (upci_model_param_str(p, "name", &name) == 0 && strcmp(name, "ok") != 0)
		return -EINVAL;
	a->m = m;
	if (upci_model_set_ids(m, AT_VENDOR, (uint16_t)dev, AT_VENDOR, 0x0001, 0x02, 0xff0000) ||
	    upci_model_set_intx(m, 1) ||
	    upci_model_bar_regs(m, 0, AT_BAR0_SIZE, UPCI_BAR_MEM64, at_read, at_write) ||
	    upci_model_bar_ram(m, 2, AT_BAR2_SIZE, UPCI_BAR_PREFETCH) ||
	    upci_model_bar_regs(m, 4, AT_BAR4_SIZE, UPCI_MODEL_BAR_MIRROR, at_read, NULL) ||
	    upci_model_bar_regs(m, 5, 32, UPCI_BAR_IO, at_read, at_write))
		return -EINVAL;
	if ((at = upci_model_add_pm(m, AT_PM, pm ? 0 : UPCI_MODEL_PM_NO_SOFT_RESET)) < 0 ||
	    (at = upci_model_add_msi(m, AT_MSI, AT_NVEC_MSI, UPCI_MODEL_MSI_64BIT | UPCI_MODEL_MSI_MASKABLE)) < 0 ||
	    (at = upci_model_add_msix(m, AT_MSIX, AT_NVEC_MSIX, 0, AT_TABLE, 0, AT_PBA)) < 0 ||
	    (at = upci_model_add_pcie(m, AT_EXP, UPCI_MODEL_PCIE_ENDPOINT, UPCI_MODEL_PCIE_FLR)) < 0 ||
	    (at = upci_model_add_cap(m, PCI_CAP_ID_VNDR, AT_VCAP, 12)) < 0 ||
	    (at = upci_model_add_ext_cap(m, 0x0b, 1, AT_ECAP_A, 16)) < 0 ||
	    (at = upci_model_add_ext_cap(m, 0x0b, 1, 0, 8)) < 0)
		return at;
	/* A vendor register: one writable byte, one write-1-to-clear byte. */
	upci_model_config_set(m, AT_VCAP + 4, 4, 0x0000ff00u);
	upci_model_config_wmask(m, AT_VCAP + 4, 1, 0xff);
	upci_model_config_w1c(m, AT_VCAP + 5, 1, 0xff);
	return fail ? -EINVAL : 0;
}

static const struct upci_model_ops at_ops = {
	.api_version = UPCI_MODEL_API_VERSION,
	.name = "apitest",
	.summary = "the device-author API's test model",
	.params = "fail=0|1, pm=0|1, dev=ID, name=ok",
	.priv_size = sizeof(struct at),
	.create = at_create,
	.destroy = at_destroy,
	.reset = at_reset,
};

/* ---- driver-side helpers ---- */

static upci_dev *open_at(const char *uri)
{
	upci_dev *d = NULL;

	assert_int_equal(upci_open(&d, uri), 0);
	assert_int_equal(upci_claim(d), 0);
	return d;
}

static uint32_t rd(upci_dev *d, uint64_t off)
{
	uint64_t v = 0;

	assert_int_equal(upci_mmio_read(d, 0, off, 4, &v), 0);
	return (uint32_t)v;
}

static void wr(upci_dev *d, uint64_t off, uint32_t v)
{
	assert_int_equal(upci_mmio_write(d, 0, off, 4, v), 0);
}

static uint32_t cfg(upci_dev *d, unsigned off, unsigned w)
{
	uint32_t v = 0;

	assert_int_equal(upci_config_read(d, off, w, &v), 0);
	return v;
}

static void cfg_wr(upci_dev *d, unsigned off, unsigned w, uint32_t v)
{
	assert_int_equal(upci_config_write(d, off, w, v), 0);
}

static int setup(void **state)
{
	(void)state;
	return upci_model_register(&at_ops) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return upci_model_unregister("apitest") == 0 ? 0 : -1;
}

/* ---- registering ---- */

static int noop_create(upci_model *m, const upci_model_params *p)
{
	(void)p;
	return upci_model_set_ids(m, 0x1af4, 0x10fd, 0, 0, 0, 0);
}

static void test_register_rules(void **state)
{
	struct upci_model_ops o = {.api_version = UPCI_MODEL_API_VERSION, .name = "x", .create = noop_create};
	const char *names[8];
	char why[256];
	upci_dev *d;
	int n;

	(void)state;
	assert_int_equal(upci_model_register(NULL), -EINVAL);
	o.api_version = UPCI_MODEL_API_VERSION + 1;
	assert_int_equal(upci_model_register(&o), -ENOTSUP);
	o.api_version = UPCI_MODEL_API_VERSION;
	o.create = NULL;
	assert_int_equal(upci_model_register(&o), -EINVAL);
	o.create = noop_create;
	o.name = "";
	assert_int_equal(upci_model_register(&o), -EINVAL);
	o.name = "a b";
	assert_int_equal(upci_model_register(&o), -EINVAL);
	o.name = "a?b";
	assert_int_equal(upci_model_register(&o), -EINVAL);
	o.name = "abcdefghijabcdefghijabcdefghijab"; /* 32 characters: too long */
	assert_int_equal(upci_model_register(&o), -EINVAL);
	o.name = "edu";
	assert_int_equal(upci_model_register(&o), -EEXIST);
	o.name = "apitest";
	assert_int_equal(upci_model_register(&o), -EEXIST);
	o.name = "abcdefghijabcdefghijabcdefghija"; /* 31: fits */
	assert_int_equal(upci_model_register(&o), 0);
	assert_int_equal(upci_model_unregister("abcdefghijabcdefghijabcdefghija"), 0);

	/* Not there before, reachable after, gone after unregister. */
	o.name = "x-1_b";
	assert_int_equal(upci_uri_check("sim:x-1_b", why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "apitest")); /* the known models are named */
	assert_int_equal(upci_open(&d, "sim:x-1_b"), -ENOENT);
	assert_int_equal(upci_model_register(&o), 0);
	assert_int_equal(upci_uri_check("sim:x-1_b", why, sizeof(why)), 0);
	n = upci_model_list(names, 8);
	assert_true(n >= 4);
	assert_string_equal(names[0], "edu");
	assert_string_equal(names[1], "testdev");
	assert_string_equal(names[n - 1], "x-1_b");
	assert_int_equal(upci_model_list(NULL, 0), n);
	assert_int_equal(upci_model_list(NULL, 1), -EINVAL);
	assert_int_equal(upci_open(&d, "sim:x-1_b"), 0);
	assert_int_equal(upci_model_unregister("x-1_b"), -EBUSY); /* an instance lives */
	upci_close(d);
	assert_int_equal(upci_model_unregister("x-1_b"), 0);
	assert_int_equal(upci_model_unregister("x-1_b"), -ENOENT);
	assert_int_equal(upci_model_unregister("edu"), -EPERM);
	assert_int_equal(upci_model_unregister(NULL), -EINVAL);
	assert_int_equal(upci_open(&d, "sim:x-1_b"), -ENOENT);
}

static void test_create_failure_and_params(void **state)
{
	unsigned before = destroys;
	char why[256];
	upci_dev *d;

	(void)state;
	assert_int_equal(upci_open(&d, "sim:apitest?fail=1"), -EINVAL);
	assert_int_equal(destroys, before + 1); /* destroy() ran after the failed create() */
	assert_int_equal(upci_uri_check("sim:apitest?bogus=1", why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "fail=0|1")); /* the model's own words */
	assert_int_equal(upci_uri_check("sim:apitest?dev=0x10000", why, sizeof(why)), -EINVAL);
	assert_int_equal(upci_uri_check("sim:apitest?dev=010", why, sizeof(why)), 0); /* decimal 10 */
	assert_int_equal(upci_uri_check("sim:apitest?dev=-1", why, sizeof(why)), -EINVAL);
	assert_int_equal(upci_uri_check("sim:apitest?name=no", why, sizeof(why)), -EINVAL);
	assert_int_equal(upci_uri_check("sim:apitest?name=ok,dev=0x1234", why, sizeof(why)), 0);
	d = open_at("sim:apitest?dev=0x1234");
	assert_int_equal(cfg(d, PCI_DEVICE_ID, 2), 0x1234);
	upci_close(d);
}

/* ---- shape and config space ---- */

static void test_shape_and_config(void **state)
{
	struct upci_bar_info bi;
	upci_dev *d = open_at("sim:apitest");
	struct upci_identity id;

	(void)state;
	assert_int_equal(upci_identity(d, &id), 0);
	assert_int_equal(id.vendor_id, AT_VENDOR);
	assert_int_equal(id.device_id, AT_DEVICE);
	assert_int_equal(id.class_code, 0xff0000);
	assert_int_equal(id.config_size, 4096); /* the PCIe capability */
	assert_string_equal(id.name, "apitest");

	/* BARs: kinds and flags as declared. */
	assert_int_equal(upci_bar_info(d, 0, &bi), 0);
	assert_int_equal(bi.size, AT_BAR0_SIZE);
	assert_int_equal(bi.flags, UPCI_BAR_PRESENT | UPCI_BAR_MEM64);
	assert_int_equal(upci_bar_info(d, 1, &bi), 0);
	assert_int_equal(bi.size, 0); /* the upper half of BAR0 */
	assert_int_equal(upci_bar_info(d, 2, &bi), 0);
	assert_int_equal(bi.flags, UPCI_BAR_PRESENT | UPCI_BAR_PREFETCH | UPCI_BAR_MAPPABLE);
	assert_int_equal(upci_bar_info(d, 4, &bi), 0);
	assert_int_equal(bi.flags, UPCI_BAR_PRESENT | UPCI_BAR_MAPPABLE | UPCI_BAR_MAP_RDONLY);
	assert_int_equal(upci_bar_info(d, 5, &bi), 0);
	assert_int_equal(bi.flags, UPCI_BAR_PRESENT | UPCI_BAR_IO);

	/* The chain: PM, MSI, MSI-X, PCIe, vendor; extended: two. */
	assert_int_equal(cfg(d, PCI_CAPABILITY_LIST, 1), AT_PM);
	assert_int_equal(cfg(d, AT_PM + 1, 1), AT_MSI);
	assert_int_equal(cfg(d, AT_MSI + 1, 1), AT_MSIX);
	assert_int_equal(cfg(d, AT_MSIX + 1, 1), AT_EXP);
	assert_int_equal(cfg(d, AT_EXP + 1, 1), AT_VCAP);
	assert_int_equal(cfg(d, AT_VCAP + 1, 1), 0);
	assert_int_equal(cfg(d, AT_ECAP_A, 4), 0x0b | (1u << 16) | (AT_ECAP_B << 20));
	assert_int_equal(cfg(d, AT_ECAP_B, 4), 0x0b | (1u << 16));

	/* Hostile config writes: IDs, class, pointers, BAR types stay. */
	cfg_wr(d, PCI_VENDOR_ID, 4, 0);
	cfg_wr(d, PCI_CLASS_PROG, 1, 0x55);
	cfg_wr(d, PCI_CAPABILITY_LIST, 1, 0x80);
	cfg_wr(d, AT_MSIX + 1, 1, 0);
	cfg_wr(d, PCI_INTERRUPT_PIN, 1, 3);
	assert_int_equal(cfg(d, PCI_VENDOR_ID, 2), AT_VENDOR);
	assert_int_equal(cfg(d, PCI_CLASS_PROG, 1), 0);
	assert_int_equal(cfg(d, PCI_CAPABILITY_LIST, 1), AT_PM);
	assert_int_equal(cfg(d, AT_MSIX + 1, 1), AT_EXP);
	assert_int_equal(cfg(d, PCI_INTERRUPT_PIN, 1), 1);
	/* BAR sizing works by itself. */
	cfg_wr(d, PCI_BAR_OFFSET(0), 4, 0xffffffffu);
	assert_int_equal(cfg(d, PCI_BAR_OFFSET(0), 4), (uint32_t)~(AT_BAR0_SIZE - 1) | PCI_BAR_MEM_TYPE_64);
	cfg_wr(d, PCI_BAR_OFFSET(5), 4, 0xffffffffu);
	assert_int_equal(cfg(d, PCI_BAR_OFFSET(5), 4), (uint32_t)~31u | PCI_BAR_SPACE_IO);
	/* The model's own register: byte 0 writable, byte 1 write-1-to-clear,
	 * the rest read-only. */
	cfg_wr(d, AT_VCAP + 4, 4, 0xffff0f5au);
	assert_int_equal(cfg(d, AT_VCAP + 4, 4), 0x0000f05au);

	/* Shape calls outside create(): refused. */
	wr(d, R_SHAPE, 0);
	assert_int_equal((int32_t)rd(d, R_SHAPE), -EBUSY);
	wr(d, R_SHAPE, 1);
	assert_int_equal((int32_t)rd(d, R_SHAPE), -EBUSY);
	wr(d, R_SHAPE, 2);
	assert_int_equal((int32_t)rd(d, R_SHAPE), -EBUSY);
	upci_close(d);
}

/* Misplaced shapes are refused in create(). */
static int shape_errs_create(upci_model *m, const upci_model_params *p)
{
	int ok = 1;

	(void)p;
	upci_model_set_ids(m, 0x1af4, 0x10fd, 0, 0, 0, 0);
	ok &= upci_model_set_ids(m, 0xffff, 0, 0, 0, 0, 0) == -EINVAL;
	ok &= upci_model_set_ids(m, 1, 0, 0, 0, 0, 0x1000000) == -EINVAL;
	ok &= upci_model_set_intx(m, 5) == -EINVAL;
	ok &= upci_model_bar_regs(m, 6, 4096, 0, NULL, NULL) == -EINVAL;
	ok &= upci_model_bar_regs(m, 5, 4096, UPCI_BAR_MEM64, NULL, NULL) == -EINVAL;
	ok &= upci_model_bar_regs(m, 0, 3000, 0, NULL, NULL) == -EINVAL;
	ok &= upci_model_bar_regs(m, 0, 8, 0, NULL, NULL) == -EINVAL;
	ok &= upci_model_bar_regs(m, 0, 512, UPCI_BAR_IO, NULL, NULL) == -EINVAL;
	ok &= upci_model_bar_regs(m, 0, 64, UPCI_BAR_IO | UPCI_BAR_PREFETCH, NULL, NULL) == -EINVAL;
	ok &= upci_model_bar_regs(m, 0, 64, UPCI_MODEL_BAR_MIRROR, NULL, NULL) == -EINVAL; /* < 4 KiB */
	ok &= upci_model_bar_ram(m, 0, 2048, 0) == -EINVAL;
	ok &= upci_model_bar_ram(m, 0, 4096, UPCI_BAR_IO) == -EINVAL;
	ok &= upci_model_bar_ram(m, 0, 1ull << 31, 0) == -EINVAL;
	ok &= upci_model_bar_regs(m, 0, 4096, UPCI_BAR_MEM64, NULL, NULL) == 0;
	ok &= upci_model_bar_regs(m, 1, 4096, 0, NULL, NULL) == -EEXIST; /* the upper half */
	ok &= upci_model_bar_ram(m, 0, 4096, 0) == -EEXIST;
	ok &= upci_model_bar_ram(m, 2, 4096, 0) == 0;
	/* Capabilities: bad places, overlaps, doubles. */
	ok &= upci_model_add_cap(m, 9, 0x3c, 4) == -EINVAL;
	ok &= upci_model_add_cap(m, 9, 0x42, 4) == -EINVAL;
	ok &= upci_model_add_cap(m, 9, 0xfc, 8) == -EINVAL;
	ok &= upci_model_add_cap(m, 9, 0x40, 1) == -EINVAL;
	ok &= upci_model_add_cap(m, 9, 0x40, 8) == 0x40;
	ok &= upci_model_add_cap(m, 9, 0x44, 8) == -EINVAL; /* overlaps */
	ok &= upci_model_add_cap(m, 9, 0, 8) == 0x48;       /* placed after */
	ok &= upci_model_add_msi(m, 0, 3, 0) == -EINVAL;
	ok &= upci_model_add_msi(m, 0, 64, 0) == -EINVAL;
	ok &= upci_model_add_msi(m, 0, 1, 0x80) == -EINVAL;
	ok &= upci_model_add_msi(m, 0, 1, 0) == 0x50;
	ok &= upci_model_add_msi(m, 0, 1, 0) == -EEXIST;
	ok &= upci_model_add_msix(m, 0, 0, 0, 0, 0, 0x800) == -EINVAL;
	ok &= upci_model_add_msix(m, 0, 257, 0, 0, 0, 0x800) == -EINVAL;
	ok &= upci_model_add_msix(m, 0, 8, 0, 4, 0, 0x800) == -EINVAL;      /* misaligned */
	ok &= upci_model_add_msix(m, 0, 8, 0, 0, 0, 0x40) == -EINVAL;       /* overlaps the table */
	ok &= upci_model_add_msix(m, 0, 8, 0, 4000, 0, 0x800) == -EINVAL;   /* past the BAR */
	ok &= upci_model_add_msix(m, 0, 8, 2, 0, 0, 0x800) == -EINVAL;      /* a RAM BAR */
	ok &= upci_model_add_msix(m, 0, 8, 3, 0, 0, 0x800) == -EINVAL;      /* no BAR */
	ok &= upci_model_add_msix(m, 0, 8, 0, 0, 0, 0x800) > 0;
	ok &= upci_model_add_ext_cap(m, 1, 1, 0x100, 8) == -EINVAL;          /* not PCIe yet */
	ok &= upci_model_add_pcie(m, 0, 3, 0) == -EINVAL;
	ok &= upci_model_add_pcie(m, 0, 0, 0) > 0;
	ok &= upci_model_add_pcie(m, 0, 0, 0) == -EEXIST;
	ok &= upci_model_add_ext_cap(m, 1, 16, 0x100, 8) == -EINVAL;
	ok &= upci_model_add_ext_cap(m, 1, 1, 0x104, 8) == -EINVAL;          /* must start at 0x100 */
	ok &= upci_model_add_ext_cap(m, 1, 1, 0x100, 8) == 0x100;
	ok &= upci_model_add_ext_cap(m, 1, 1, 0x104, 8) == -EINVAL;          /* overlaps */
	ok &= upci_model_add_ext_cap(m, 1, 1, 0, 8) == 0x108;
	ok &= upci_model_add_ext_cap(m, 1, 1, 0xffc, 8) == -EINVAL;
	ok &= upci_model_add_ext_cap(m, 1, 1, 0xfffffffcu, 8) == -EINVAL;    /* off + len wraps */
	ok &= upci_model_add_cap(m, 9, 0xfffffffcu, 8) == -EINVAL;
	/* The author may not store the header's IDs or a capability header. */
	ok &= upci_model_config_set(m, PCI_VENDOR_ID, 2, 1) == -EINVAL;
	ok &= upci_model_config_set(m, PCI_BAR_OFFSET(0), 4, 1) == -EINVAL;
	ok &= upci_model_config_set(m, 0x40, 1, 0) == -EINVAL;
	ok &= upci_model_config_set(m, 0x100, 4, 0) == -EINVAL;
	ok &= upci_model_config_set(m, 0x1000, 4, 0) == -EINVAL;
	ok &= upci_model_config_set(m, 0x44, 3, 0) == -EINVAL;
	ok &= upci_model_config_set(m, 0x44, 4, 0x12345678) == 0;
	ok &= upci_model_config_get(m, 0x44, 4) == 0x12345678;
	ok &= upci_model_config_wmask(m, 0x3c, 1, 0) == -EINVAL;
	ok &= upci_model_config_wmask(m, 0x40, 2, 0) == -EINVAL;
	return ok ? 0 : -ERANGE;
}

static void test_shape_errors(void **state)
{
	const struct upci_model_ops o = {
		.api_version = UPCI_MODEL_API_VERSION, .name = "shapes", .create = shape_errs_create,
	};
	upci_dev *d;

	(void)state;
	assert_int_equal(upci_model_register(&o), 0);
	assert_int_equal(upci_open(&d, "sim:shapes"), 0); /* -ERANGE: a check above failed */
	upci_close(d);
	assert_int_equal(upci_model_unregister("shapes"), 0);
}

/* ---- BARs ---- */

static void test_bars(void **state)
{
	upci_dev *d = open_at("sim:apitest");
	uint64_t v, len;
	void *p;

	(void)state;
	assert_int_equal(rd(d, R_ID), AT_ID);
	/* The core refuses misaligned and out-of-range accesses; the callback
	 * sees every width it may get. */
	assert_int_equal(upci_mmio_read(d, 0, 2, 4, &v), -EFAULT);
	assert_int_equal(upci_mmio_read(d, 0, AT_BAR0_SIZE, 4, &v), -ERANGE);
	for (unsigned w = 1; w <= 8; w *= 2) {
		assert_int_equal(upci_mmio_write(d, 0, R_BUF + 8, w, 0x5a), 0);
		assert_int_equal(upci_mmio_read(d, 0, R_BUF + 8, w, &v), 0);
		assert_int_equal(v, 0x5a);
		assert_int_equal(upci_mmio_read(d, 5, 8, w, &v), 0);
	}
	/* A register the device refuses: the driver hears -EINVAL. */
	assert_int_equal(upci_mmio_write(d, 0, 0x3f00, 4, 1), -EINVAL);
	/* RAM BAR: mapped read-write, the same bytes as MMIO. */
	assert_int_equal(upci_bar_map(d, 2, &p, &len), 0);
	assert_int_equal(len, AT_BAR2_SIZE);
	((volatile uint32_t *)p)[3] = 0xcafef00d;
	assert_int_equal(upci_mmio_read(d, 2, 12, 4, &v), 0);
	assert_int_equal(v, 0xcafef00d);
	assert_int_equal(upci_mmio_write(d, 2, 16, 8, 0x1122334455667788ull), 0);
	assert_int_equal(((volatile uint64_t *)p)[2], 0x1122334455667788ull);
	assert_int_equal(upci_bar_unmap(d, 2), 0);
	/* Mirror BAR: the model's copy is what a mapping shows. */
	wr(d, R_MIRROR, 0xabcd1234);
	assert_int_equal(upci_bar_map(d, 4, &p, NULL), 0);
	assert_int_equal(*(volatile uint32_t *)p, 0xabcd1234);
	assert_int_equal(upci_bar_unmap(d, 4), 0);
	/* BARs without memory do not map. */
	assert_int_equal(upci_bar_map(d, 0, &p, NULL), -ENOTSUP);
	/* Accesses to the MSI-X table and PBA never reached the callbacks. */
	assert_int_equal(upci_mmio_read(d, 0, AT_TABLE + 12, 4, &v), 0);
	assert_int_equal(v, 1); /* masked after reset */
	assert_int_equal(upci_mmio_read(d, 0, AT_TABLE, 2, &v), -EINVAL);
	assert_int_equal(upci_mmio_read(d, 0, AT_PBA, 8, &v), 0);
	assert_int_equal(upci_mmio_write(d, 0, AT_PBA, 8, ~0ull), 0); /* read-only */
	assert_int_equal(upci_mmio_read(d, 0, AT_PBA, 8, &v), 0);
	assert_int_equal(v, 0);
	/* Reserved bits of the table are masked. */
	assert_int_equal(upci_mmio_write(d, 0, AT_TABLE + 16, 4, 0xfee00003u), 0);
	assert_int_equal(upci_mmio_read(d, 0, AT_TABLE + 16, 4, &v), 0);
	assert_int_equal(v, 0xfee00000u);
	assert_int_equal(upci_mmio_write(d, 0, AT_TABLE + 28, 4, 0xfffffffeu), 0);
	assert_int_equal(upci_mmio_read(d, 0, AT_TABLE + 28, 4, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(rd(d, R_BAD), 0);
	upci_close(d);
}

/* ---- interrupts ---- */

static void test_msix(void **state)
{
	uint64_t pend[UPCI_IRQ_WORDS], v;
	upci_dev *d = open_at("sim:apitest");

	(void)state;
	/* AUTO picks MSI-X; the core programs the table as a host would. */
	assert_int_equal(upci_irq_enable(d, UPCI_IRQ_AUTO, 4), 4);
	wr(d, R_IRQ, 2);
	assert_int_equal(rd(d, R_IRQ), 1);
	assert_int_equal(upci_irq_wait(d, 1000, pend), 1);
	assert_int_equal(pend[0], 1u << 2);
	/* Vector 6 was not enabled by the driver: masked, latched in the PBA. */
	wr(d, R_IRQ, 6);
	assert_int_equal(rd(d, R_IRQ), 0);
	assert_int_equal(upci_mmio_read(d, 0, AT_PBA, 8, &v), 0);
	assert_int_equal(v, 1u << 6);
	/* Beyond the table: refused. */
	wr(d, R_IRQ, AT_NVEC_MSIX);
	assert_int_equal((int32_t)rd(d, R_IRQ), -EINVAL);
	/* Function mask: latched; cleared: delivered. */
	cfg_wr(d, AT_MSIX + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	wr(d, R_IRQ, 1);
	assert_int_equal(rd(d, R_IRQ), 0);
	assert_int_equal(upci_irq_take_pending(d, pend), 0);
	cfg_wr(d, AT_MSIX + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(upci_irq_take_pending(d, pend), 1);
	assert_int_equal(pend[0], 1u << 1);
	/* Bus mastering off: dropped. */
	cfg_wr(d, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	wr(d, R_IRQ, 0);
	assert_int_equal(rd(d, R_IRQ), 0);
	assert_int_equal(upci_irq_take_pending(d, pend), 0);
	upci_close(d);
}

static void test_msi(void **state)
{
	uint64_t pend[UPCI_IRQ_WORDS];
	upci_dev *d = open_at("sim:apitest");
	unsigned mask = AT_MSI + PCI_MSI_MASK_64, pending = AT_MSI + PCI_MSI_PENDING_64;

	(void)state;
	assert_int_equal(cfg(d, AT_MSI + PCI_MSI_FLAGS, 2),
			 PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT | (2u << PCI_MSI_FLAGS_QMASK_SHIFT));
	assert_int_equal(upci_irq_enable(d, UPCI_IRQ_MSI, 2), 2);
	wr(d, R_IRQ, 1);
	assert_int_equal(rd(d, R_IRQ), 1);
	assert_int_equal(upci_irq_take_pending(d, pend), 1);
	assert_int_equal(pend[0], 2);
	/* Beyond the enabled count (2): dropped; beyond the capability: refused. */
	wr(d, R_IRQ, 3);
	assert_int_equal(rd(d, R_IRQ), 0);
	wr(d, R_IRQ, 4);
	assert_int_equal((int32_t)rd(d, R_IRQ), -EINVAL);
	/* Masked: the pending bit; unmasked: delivered, the bit clears. Only
	 * the capable vectors' mask bits are writable. */
	cfg_wr(d, mask, 4, 0xffffffffu);
	assert_int_equal(cfg(d, mask, 4), 0xf);
	wr(d, R_IRQ, 0);
	assert_int_equal(rd(d, R_IRQ), 0);
	assert_int_equal(cfg(d, pending, 4), 1);
	cfg_wr(d, pending, 4, 0); /* read-only */
	assert_int_equal(cfg(d, pending, 4), 1);
	assert_int_equal(upci_irq_take_pending(d, pend), 0);
	cfg_wr(d, mask, 4, 0);
	assert_int_equal(cfg(d, pending, 4), 0);
	assert_int_equal(upci_irq_take_pending(d, pend), 1);
	assert_int_equal(pend[0], 1);
	/* A vector latched while enabled is not sent once the driver lowered
	 * Multiple Message Enable below it. */
	cfg_wr(d, mask, 4, 0xf);
	wr(d, R_IRQ, 1);
	assert_int_equal(cfg(d, pending, 4), 2);
	cfg_wr(d, AT_MSI + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE); /* one vector */
	cfg_wr(d, mask, 4, 0);
	assert_int_equal(upci_irq_take_pending(d, pend), 0);
	assert_int_equal(cfg(d, pending, 4), 2);
	upci_close(d);
}

static void test_intx(void **state)
{
	uint64_t pend[UPCI_IRQ_WORDS];
	upci_dev *d = open_at("sim:apitest");

	(void)state;
	assert_int_equal(upci_irq_enable(d, UPCI_IRQ_INTX, 1), 1);
	/* upci_model_irq under INTx asserts the pin (vector ignored). */
	wr(d, R_IRQ, 5);
	assert_int_equal(rd(d, R_IRQ), 1);
	assert_int_equal(upci_irq_take_pending(d, pend), 1);
	assert_int_equal(pend[0], 1);
	assert_true(cfg(d, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	wr(d, R_INTX, 0);
	assert_int_equal(rd(d, R_INTX), 0);
	assert_false(cfg(d, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	/* INTx disable: STATUS shows the condition, the pin stays quiet. */
	cfg_wr(d, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE);
	wr(d, R_INTX, 1);
	assert_true(cfg(d, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	assert_int_equal(upci_irq_take_pending(d, pend), 0);
	/* Enabling INTx again (the pin follows the level). */
	cfg_wr(d, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	assert_int_equal(upci_irq_take_pending(d, pend), 1);
	wr(d, R_INTX, 0);
	/* MSI on: the pin and STATUS.INTERRUPT are quiet. */
	assert_int_equal(upci_irq_enable(d, UPCI_IRQ_MSI, 1), 1);
	wr(d, R_INTX, 1);
	assert_false(cfg(d, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	upci_close(d);
}

static int nopin_create(upci_model *m, const upci_model_params *p)
{
	(void)p;
	return upci_model_set_ids(m, 0x1af4, 0x10fd, 0, 0, 0, 0) ||
	       upci_model_bar_regs(m, 0, 4096, 0, NULL, at_write);
}

static void test_no_pin(void **state)
{
	const struct upci_model_ops o = {
		.api_version = UPCI_MODEL_API_VERSION, .name = "nopin", .priv_size = sizeof(struct at),
		.create = nopin_create,
	};
	upci_dev *d;
	uint64_t v;

	(void)state;
	assert_int_equal(upci_model_register(&o), 0);
	d = open_at("sim:nopin");
	assert_int_equal(upci_irq_count(d, UPCI_IRQ_INTX), 0);
	/* No pin, no MSI: upci_model_irq drops, upci_model_intx refuses;
	 * reads with no callback return all ones. */
	assert_int_equal(upci_mmio_write(d, 0, R_INTX, 4, 1), 0);
	assert_int_equal(upci_mmio_read(d, 0, R_INTX, 4, &v), 0);
	assert_int_equal(v, 0xffffffffu);
	upci_close(d);
	assert_int_equal(upci_model_unregister("nopin"), 0);
}

/* ---- DMA ---- */

static void dma_cmd(upci_dev *d, uint64_t bus, uint32_t len, uint32_t cmd)
{
	wr(d, R_DMA_LO, (uint32_t)bus);
	wr(d, R_DMA_HI, (uint32_t)(bus >> 32));
	wr(d, R_DMA_LEN, len);
	wr(d, R_DMA_CMD, cmd);
}

static void test_dma(void **state)
{
	upci_dev *d = open_at("sim:apitest");
	struct upci_dma_buf a, b;
	long ps = sysconf(_SC_PAGESIZE);
	uint64_t ro_bus;
	void *ro;

	(void)state;
	assert_int_equal(upci_dma_alloc(d, 0x100000, (uint64_t)ps, &a), 0);
	assert_int_equal(upci_dma_alloc(d, 0x100000 + (uint64_t)ps, (uint64_t)ps, &b), 0);
	memset(a.vaddr, 0x11, (size_t)ps);
	memset(b.vaddr, 0x22, (size_t)ps);
	/* Bus mastering off: -EPERM, nothing moves. */
	cfg_wr(d, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	dma_cmd(d, a.bus_addr, 16, 1);
	assert_int_equal((int32_t)rd(d, R_DMA_RES), -EPERM);
	dma_cmd(d, a.bus_addr, 16, 3);
	assert_int_equal(rd(d, R_DMA_RES), 1); /* translate: NULL */
	cfg_wr(d, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	/* A read that spans two adjacent mappings works by copy... */
	dma_cmd(d, a.bus_addr + (uint64_t)ps - 8, 16, 1);
	assert_int_equal(rd(d, R_DMA_RES), 0);
	assert_int_equal(rd(d, R_BUF), 0x11111111u);
	assert_int_equal(rd(d, R_BUF + 12), 0x22222222u);
	/* ...but translate wants one mapping. */
	dma_cmd(d, a.bus_addr + (uint64_t)ps - 8, 16, 3);
	assert_int_equal(rd(d, R_DMA_RES), 1);
	dma_cmd(d, a.bus_addr + 8, 16, 3);
	assert_int_equal(rd(d, R_DMA_RES), 0);
	/* Write back. */
	wr(d, R_BUF, 0xdeadbeef);
	dma_cmd(d, b.bus_addr, 4, 2);
	assert_int_equal(rd(d, R_DMA_RES), 0);
	assert_int_equal(*(uint32_t *)b.vaddr, 0xdeadbeef);
	/* Hostile addresses: unmapped, running off the end, wrapping, len 0. */
	dma_cmd(d, 0x4000000, 4, 1);
	assert_int_equal((int32_t)rd(d, R_DMA_RES), -EFAULT);
	dma_cmd(d, b.bus_addr + (uint64_t)ps - 2, 4, 2);
	assert_int_equal((int32_t)rd(d, R_DMA_RES), -EFAULT);
	dma_cmd(d, UINT64_MAX - 1, 4, 1);
	assert_int_equal((int32_t)rd(d, R_DMA_RES), -EFAULT);
	dma_cmd(d, a.bus_addr, 0, 1);
	assert_int_equal((int32_t)rd(d, R_DMA_RES), -EFAULT);
	/* A read-only mapping: the device may read it, never write it. */
	ro = aligned_alloc((size_t)ps, (size_t)ps);
	assert_non_null(ro);
	memset(ro, 0x33, (size_t)ps);
	assert_int_equal(upci_dma_map(d, 0x200000, ro, (uint64_t)ps, UPCI_DMA_READ, &ro_bus), 0);
	dma_cmd(d, ro_bus, 4, 1);
	assert_int_equal(rd(d, R_DMA_RES), 0);
	dma_cmd(d, ro_bus, 4, 2);
	assert_int_equal((int32_t)rd(d, R_DMA_RES), -EFAULT);
	assert_int_equal(*(uint32_t *)ro, 0x33333333u);
	assert_int_equal(upci_dma_unmap(d, 0x200000), 0);
	free(ro);
	/* Null and empty copies. */
	assert_int_equal(upci_model_dma_copy(NULL, a.vaddr, 4, NULL), -EFAULT);
	assert_int_equal(upci_model_dma_copy(b.vaddr, a.vaddr, 0, NULL), 0);
	assert_int_equal(upci_model_dma_read(NULL, 0, b.vaddr, 4), -EFAULT);
	assert_null(upci_model_dma_translate(NULL, 0, 4, UPCI_DMA_READ));
	upci_close(d);
}

/* ---- reset ---- */

static void test_reset_paths(void **state)
{
	upci_dev *d = open_at("sim:apitest");
	upci_dev *nsr;
	uint64_t v;
	void *p;

	(void)state;
	/* upci_reset: FLR (the model has it): config back, RAM zeroed,
	 * ops->reset once, MSI-X table masked again. */
	wr(d, R_SCRATCH, 7);
	cfg_wr(d, AT_VCAP + 4, 1, 0x77);
	assert_int_equal(upci_mmio_write(d, 2, 0, 4, 0x1234), 0);
	assert_int_equal(upci_mmio_write(d, 0, AT_TABLE + 12, 4, 0), 0);
	assert_int_equal(upci_reset(d), 0);
	assert_int_equal(rd(d, R_RESETS), 1);
	assert_int_equal(rd(d, R_SCRATCH), 0);
	assert_int_equal(cfg(d, AT_VCAP + 4, 1), 0);
	assert_int_equal(upci_mmio_read(d, 2, 0, 4, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(upci_mmio_read(d, 0, AT_TABLE + 12, 4, &v), 0);
	assert_int_equal(v, 1);
	/* The driver's own FLR through Device Control. */
	cfg_wr(d, AT_EXP + PCI_EXP_DEVCTL, 2, PCI_EXP_DEVCTL_BCR_FLR);
	assert_int_equal(rd(d, R_RESETS), 2);
	assert_false(cfg(d, AT_EXP + PCI_EXP_DEVCTL, 2) & PCI_EXP_DEVCTL_BCR_FLR);
	/* PM: D1 is not supported (the state stays D0); D3hot -> D0 without
	 * No_Soft_Reset resets the function. */
	cfg_wr(d, AT_PM + PCI_PM_CTRL, 2, 1);
	assert_int_equal(cfg(d, AT_PM + PCI_PM_CTRL, 2) & PCI_PM_CTRL_STATE_MASK, 0);
	cfg_wr(d, AT_PM + PCI_PM_CTRL, 2, PCI_PM_STATE_D3HOT);
	assert_int_equal(cfg(d, AT_PM + PCI_PM_CTRL, 2) & PCI_PM_CTRL_STATE_MASK, PCI_PM_STATE_D3HOT);
	wr(d, R_SCRATCH, 9);
	cfg_wr(d, AT_PM + PCI_PM_CTRL, 2, PCI_PM_STATE_D0);
	assert_int_equal(rd(d, R_RESETS), 3);
	assert_int_equal(rd(d, R_SCRATCH), 0);
	/* With No_Soft_Reset the state survives D3hot -> D0. */
	nsr = open_at("sim:apitest?pm=0");
	assert_int_equal(cfg(nsr, AT_PM + PCI_PM_CTRL, 2), PCI_PM_CTRL_NO_SOFT_RESET);
	wr(nsr, R_SCRATCH, 9);
	cfg_wr(nsr, AT_PM + PCI_PM_CTRL, 2, PCI_PM_STATE_D3HOT);
	cfg_wr(nsr, AT_PM + PCI_PM_CTRL, 2, PCI_PM_STATE_D0);
	assert_int_equal(rd(nsr, R_RESETS), 0);
	assert_int_equal(rd(nsr, R_SCRATCH), 9);
	upci_close(nsr);
	/* A mapping of the RAM BAR sees the zeroing too. */
	assert_int_equal(upci_bar_map(d, 2, &p, NULL), 0);
	((volatile uint32_t *)p)[0] = 5;
	assert_int_equal(upci_reset(d), 0);
	assert_int_equal(((volatile uint32_t *)p)[0], 0);
	assert_int_equal(upci_bar_unmap(d, 2), 0);
	upci_close(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_rules),
		cmocka_unit_test(test_create_failure_and_params),
		cmocka_unit_test(test_shape_and_config),
		cmocka_unit_test(test_shape_errors),
		cmocka_unit_test(test_bars),
		cmocka_unit_test(test_msix),
		cmocka_unit_test(test_msi),
		cmocka_unit_test(test_intx),
		cmocka_unit_test(test_no_pin),
		cmocka_unit_test(test_dma),
		cmocka_unit_test(test_reset_paths),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

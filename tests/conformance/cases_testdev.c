/* SPDX-License-Identifier: MIT */
/*
 * Cases for testdev (1af4:10f0), upci's multi-vector test device: MSI-X up
 * to 256 vectors with table and PBA in BAR0, a mappable RAM BAR2, a memcpy
 * descriptor engine and FLR. Expected values come from testdev_regs.h.
 */
#define _GNU_SOURCE
#include "conformance.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cases_dev.h"
#include "testdev_regs.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "descriptors are built in host order here; add byte swapping for a big-endian host"
#endif

#define R0 TESTDEV_BAR_REGS
#define NO_DESC UINT32_MAX /* FAULT_DESC when no descriptor is to blame */

int td_open(struct conf *c, struct td *t)
{
	uint64_t v;

	memset(t, 0, sizeof(*t));
	OPEN_CLAIMED(c, &t->d);
	MMIO_RD(c, t->d, R0, TESTDEV_REG_NVEC, 4, v);
	CHECK(c, v >= TESTDEV_VECTORS_MIN && v <= TESTDEV_VECTORS_MAX, "NVEC register %" PRIu64 " out of 1..256", v);
	t->nvec = (unsigned)v;
	MMIO_RD(c, t->d, R0, TESTDEV_REG_MEM_SIZE, 8, t->mem_size);
	return 0;
out:
	return -1;
}

int td_open_irq(struct conf *c, struct td *t)
{
	int n;

	if (td_open(c, t))
		return -1;
	n = upci_irq_enable(t->d, UPCI_IRQ_MSIX, 0);
	CHECK(c, n == (int)t->nvec, "upci_irq_enable(MSIX, 0): expected %u, got %s", t->nvec, conf_rc(n));
	return 0;
out:
	return -1;
}

int td_collect(struct conf *c, upci_dev *d, const uint64_t want[UPCI_IRQ_WORDS], const char *what)
{
	uint64_t got[UPCI_IRQ_WORDS] = {0}, p[UPCI_IRQ_WORDS];
	int64_t deadline = conf_now_ms() + CONF_TIMEOUT_MS;
	int n;

	while (memcmp(got, want, sizeof(got)) != 0) {
		int64_t left = deadline - conf_now_ms();

		n = upci_irq_wait(d, left > 0 ? (int)left : 0, p);
		CHECK(c, n >= 1, "%s: expected %s, got %s then %s", what, conf_bits(want), conf_bits(got), conf_rc(n));
		for (unsigned w = 0; w < UPCI_IRQ_WORDS; w++) {
			CHECK(c, !(p[w] & got[w]), "%s: a vector arrived twice (%s after %s)", what, conf_bits(p),
			      conf_bits(got));
			CHECK(c, !(p[w] & ~want[w]), "%s: unexpected vectors %s (expected %s)", what, conf_bits(p),
			      conf_bits(want));
			got[w] |= p[w];
		}
	}
	n = upci_irq_wait(d, CONF_QUIET_MS, p);
	CHECK(c, n == -ETIMEDOUT, "%s: more arrived after all expected: %s (%s)", what, conf_bits(p), conf_rc(n));
	return 0;
out:
	return -1;
}

int td_fire(struct conf *c, upci_dev *d, unsigned v)
{
	MMIO_WR(c, d, R0, TESTDEV_REG_DOORBELL, 4, v);
	return 0;
out:
	return -1;
}

struct td_faults {
	uint32_t count, last, desc;
};

static int td_faults(struct conf *c, upci_dev *d, struct td_faults *f)
{
	MMIO_RD(c, d, R0, TESTDEV_REG_FAULT_COUNT, 4, f->count);
	MMIO_RD(c, d, R0, TESTDEV_REG_LAST_FAULT, 4, f->last);
	MMIO_RD(c, d, R0, TESTDEV_REG_FAULT_DESC, 4, f->desc);
	return 0;
out:
	return -1;
}

static void td_desc(void *list, unsigned i, uint64_t src, uint64_t dst, uint32_t len, uint32_t flags)
{
	struct testdev_desc x = {src, dst, len, flags, 0, 0};

	memcpy((uint8_t *)list + (size_t)i * TESTDEV_DESC_SIZE, &x, sizeof(x));
}

static uint32_t td_desc_status(const void *list, unsigned i)
{
	uint32_t st;

	memcpy(&st, (const uint8_t *)list + (size_t)i * TESTDEV_DESC_SIZE + TESTDEV_DESC_STATUS, sizeof(st));
	return st;
}

/* Start a run and wait for STATUS.DONE; *status gets STATUS. */
static int td_run(struct conf *c, upci_dev *d, uint64_t list, uint32_t count, uint32_t ctrl, uint32_t *status)
{
	uint64_t last = 0;
	int rc;

	MMIO_WR(c, d, R0, TESTDEV_REG_DESC_ADDR, 4, list & UINT32_MAX);
	MMIO_WR(c, d, R0, TESTDEV_REG_DESC_ADDR_HI, 4, list >> 32);
	MMIO_WR(c, d, R0, TESTDEV_REG_DESC_COUNT, 4, count);
	MMIO_WR(c, d, R0, TESTDEV_REG_CTRL, 4, ctrl | TESTDEV_CTRL_START);
	rc = conf_poll_mmio(d, R0, TESTDEV_REG_STATUS, 4, TESTDEV_STATUS_DONE, TESTDEV_STATUS_DONE, CONF_TIMEOUT_MS,
			    &last);
	CHECK(c, rc == 0, "descriptor run at 0x%" PRIx64 " x%u: STATUS.DONE not set (%s, STATUS 0x%" PRIx64 ")", list,
	      count, conf_rc(rc), last);
	*status = (uint32_t)last;
	return 0;
out:
	return -1;
}

/* A run that must fail with @code blamed on descriptor @fdesc. */
static int td_expect_fault(struct conf *c, upci_dev *d, const char *what, uint64_t list, uint32_t count,
			   uint32_t ctrl, uint32_t code, uint32_t fdesc)
{
	struct td_faults f0, f1;
	uint32_t st;

	if (td_faults(c, d, &f0) || td_run(c, d, list, count, ctrl, &st) || td_faults(c, d, &f1))
		return -1;
	CHECK(c, st == (TESTDEV_STATUS_DONE | TESTDEV_STATUS_ERROR), "%s: STATUS 0x%x, expected DONE|ERROR", what, st);
	CHECK(c, f1.count == f0.count + 1 && f1.last == code && f1.desc == fdesc,
	      "%s: expected fault count %u, fault %u, descriptor %d; got count %u, fault %u, descriptor %d", what,
	      f0.count + 1, code, (int)fdesc, f1.count, f1.last, (int)f1.desc);
	return 0;
out:
	return -1;
}

/* ---- identity, registers, capabilities ---- */

static void td_identity(struct conf *c)
{
	struct upci_bar_info bi;
	uint64_t want_mem = c->uri_mem ? c->uri_mem : TESTDEV_MEM_DEFAULT;
	upci_dev *d = NULL;
	uint32_t v;

	OPEN_CFG(c, &d);
	CHECK_EQ(c, "subsystem vendor", c->id.subsys_vendor_id, TESTDEV_SUBSYS_VENDOR_ID);
	CHECK_EQ(c, "subsystem ID", c->id.subsys_id, TESTDEV_SUBSYS_ID);
	CHECK_EQ(c, "revision", c->id.revision, TESTDEV_REVISION);
	CHECK_EQ(c, "class code", c->id.class_code, TESTDEV_CLASS_CODE);
	CHECK_EQ(c, "config size", c->id.config_size, TESTDEV_CFG_SIZE);
	CHECK_RC(c, upci_bar_info(d, TESTDEV_BAR_REGS, &bi), 0);
	CHECK_EQ(c, "BAR0 size", bi.size, TESTDEV_BAR_REGS_SIZE);
	CHECK(c, (bi.flags & (UPCI_BAR_PRESENT | UPCI_BAR_MEM64 | UPCI_BAR_PREFETCH | UPCI_BAR_IO)) ==
		      (UPCI_BAR_PRESENT | UPCI_BAR_MEM64),
	      "BAR0 flags 0x%x: expected 64-bit non-prefetchable memory", bi.flags);
	CHECK_RC(c, upci_bar_info(d, TESTDEV_BAR_MEM, &bi), 0);
	CHECK(c, (bi.flags & (UPCI_BAR_PRESENT | UPCI_BAR_MEM64 | UPCI_BAR_PREFETCH | UPCI_BAR_IO | UPCI_BAR_MAPPABLE)) ==
		      (UPCI_BAR_PRESENT | UPCI_BAR_MEM64 | UPCI_BAR_PREFETCH | UPCI_BAR_MAPPABLE),
	      "BAR2 flags 0x%x: expected 64-bit prefetchable mappable memory", bi.flags);
	CHECK(c, !(bi.flags & UPCI_BAR_MAP_RDONLY), "BAR2 is RAM but maps read-only");
	if (c->is_sim)
		CHECK_EQ(c, "BAR2 size (mem= or the default)", bi.size, want_mem);
	for (unsigned b = 4; b < UPCI_NUM_BARS; b++) {
		CHECK_RC(c, upci_bar_info(d, b, &bi), 0);
		CHECK(c, bi.flags == 0, "BAR%u present on testdev (flags 0x%x)", b, bi.flags);
	}
	CFG_RD(c, d, CFG_INTERRUPT_PIN, 1, v);
	CHECK_EQ(c, "interrupt pin (MSI-X only)", v, 0);
out:
	upci_close(d);
}

static void td_registers(struct conf *c)
{
	struct upci_bar_info bi;
	struct td t = {0};
	uint64_t v, lo, hi;

	if (td_open(c, &t))
		goto out;
	MMIO_RD(c, t.d, R0, TESTDEV_REG_ID, 4, v);
	CHECK_EQ(c, "ID register", v, TESTDEV_ID_VALUE);
	MMIO_RD(c, t.d, R0, TESTDEV_REG_VERSION, 4, v);
	CHECK_EQ(c, "VERSION register", v, TESTDEV_VERSION_VALUE);
	if (c->uri_vectors > 0)
		CHECK_EQ(c, "NVEC vs the URI's vectors=", t.nvec, c->uri_vectors);
	else if (c->is_sim)
		CHECK_EQ(c, "NVEC (default)", t.nvec, TESTDEV_VECTORS_DEFAULT);
	CHECK_RC(c, upci_bar_info(t.d, TESTDEV_BAR_MEM, &bi), 0);
	CHECK_EQ(c, "MEM_SIZE vs BAR2 size", t.mem_size, bi.size);
	MMIO_RD(c, t.d, R0, TESTDEV_REG_MEM_SIZE, 4, lo);
	MMIO_RD(c, t.d, R0, TESTDEV_REG_MEM_SIZE + 4, 4, hi);
	CHECK_EQ(c, "MEM_SIZE as two 4-byte reads", lo | hi << 32, t.mem_size);
	MMIO_RD(c, t.d, R0, TESTDEV_REG_DOORBELL, 4, v);
	CHECK_EQ(c, "DOORBELL reads", v, 0);
	MMIO_WR(c, t.d, R0, TESTDEV_REG_SCRATCH, 4, 0xdeadbeef);
	MMIO_RD(c, t.d, R0, TESTDEV_REG_SCRATCH, 4, v);
	CHECK_EQ(c, "SCRATCH after writing it", v, 0xdeadbeef);
	MMIO_WR(c, t.d, R0, TESTDEV_REG_SCRATCH, 4, 0);
	MMIO_RD(c, t.d, R0, TESTDEV_REG_SCRATCH, 4, v);
	CHECK_EQ(c, "SCRATCH after clearing it", v, 0);
	/* Read-only registers ignore writes. */
	MMIO_WR(c, t.d, R0, TESTDEV_REG_ID, 4, 0);
	MMIO_RD(c, t.d, R0, TESTDEV_REG_ID, 4, v);
	CHECK_EQ(c, "ID after a write to it", v, TESTDEV_ID_VALUE);
	/* DESC_ADDR is one 64-bit register, as two halves or one access. */
	MMIO_WR(c, t.d, R0, TESTDEV_REG_DESC_ADDR, 8, UINT64_C(0x123456789abcdef0));
	MMIO_RD(c, t.d, R0, TESTDEV_REG_DESC_ADDR_HI, 4, hi);
	CHECK_EQ(c, "DESC_ADDR_HI after an 8-byte write", hi, 0x12345678);
	MMIO_WR(c, t.d, R0, TESTDEV_REG_DESC_ADDR, 4, 0x1000);
	MMIO_RD(c, t.d, R0, TESTDEV_REG_DESC_ADDR, 8, v);
	CHECK_EQ(c, "DESC_ADDR after writing its low half", v, UINT64_C(0x1234567800001000));
out:
	upci_close(t.d);
}

static void td_capabilities(struct conf *c)
{
	struct td t = {0};
	uint32_t v, lo, hi;

	if (td_open(c, &t))
		goto out;
	CHECK_EQ(c, "PM capability offset", conf_find_cap(t.d, CAP_ID_PM), TESTDEV_CAP_PM);
	CHECK_EQ(c, "MSI-X capability offset", conf_find_cap(t.d, CAP_ID_MSIX), TESTDEV_CAP_MSIX);
	CHECK_EQ(c, "PCIe capability offset", conf_find_cap(t.d, CAP_ID_EXP), TESTDEV_CAP_EXP);
	CHECK_EQ(c, "MSI capability (none)", conf_find_cap(t.d, CAP_ID_MSI), 0);
	CFG_RD(c, t.d, TESTDEV_CAP_MSIX + MSIX_FLAGS, 2, v);
	CHECK_EQ(c, "MSI-X table size", (v & MSIX_FLAGS_QSIZE) + 1, t.nvec);
	CFG_RD(c, t.d, TESTDEV_CAP_MSIX + MSIX_TABLE, 4, v);
	CHECK_EQ(c, "MSI-X table BIR/offset", v, TESTDEV_MSIX_TABLE | TESTDEV_BAR_REGS);
	CFG_RD(c, t.d, TESTDEV_CAP_MSIX + MSIX_PBA, 4, v);
	CHECK_EQ(c, "MSI-X PBA BIR/offset", v, TESTDEV_MSIX_PBA | TESTDEV_BAR_REGS);
	CFG_RD(c, t.d, TESTDEV_CAP_EXP + EXP_DEVCAP, 4, v);
	CHECK(c, v & EXP_DEVCAP_FLR, "PCIe DEVCAP 0x%08x: no FLR", v);
	/* Extended capabilities: DSN, then the vendor-specific one. */
	CFG_RD(c, t.d, TESTDEV_ECAP_DSN, 4, v);
	CHECK_EQ(c, "DSN extended capability ID", ECAP_ID(v), ECAP_ID_DSN);
	CHECK_EQ(c, "DSN next pointer", ECAP_NEXT(v), TESTDEV_ECAP_VSEC);
	CFG_RD(c, t.d, TESTDEV_ECAP_DSN + 4, 4, lo);
	CFG_RD(c, t.d, TESTDEV_ECAP_DSN + 8, 4, hi);
	CHECK_EQ(c, "device serial number", (uint64_t)hi << 32 | lo, TESTDEV_DSN);
	CFG_RD(c, t.d, TESTDEV_ECAP_VSEC, 4, v);
	CHECK_EQ(c, "VSEC extended capability ID", ECAP_ID(v), ECAP_ID_VNDR);
	CHECK_EQ(c, "VSEC next pointer (last)", ECAP_NEXT(v), 0);
	CFG_RD(c, t.d, TESTDEV_ECAP_VSEC + 4, 4, v);
	CHECK_EQ(c, "VSEC header", v, TESTDEV_VSEC_ID | TESTDEV_VSEC_REV << 16 | TESTDEV_ECAP_VSEC_SIZE << 20);
	CFG_RD(c, t.d, TESTDEV_ECAP_VSEC + TESTDEV_VSEC_DATA, 4, v);
	CHECK_EQ(c, "VSEC data", v, TESTDEV_ID_VALUE);
out:
	upci_close(t.d);
}

static void td_vectors(struct conf *c)
{
	enum upci_irq_type type;
	struct td t = {0};
	unsigned nvec;
	int n;

	if (td_open(c, &t))
		goto out;
	n = upci_irq_enable(t.d, UPCI_IRQ_AUTO, 0);
	CHECK(c, n == (int)t.nvec, "upci_irq_enable(AUTO, 0): expected %u (NVEC), got %s", t.nvec, conf_rc(n));
	if (c->uri_vectors > 0)
		CHECK_EQ(c, "vectors enabled vs the URI's vectors=", n, c->uri_vectors);
	CHECK_RC(c, upci_irq_info(t.d, &type, &nvec), 0);
	CHECK(c, type == UPCI_IRQ_MSIX && nvec == t.nvec, "irq_info: type %d nvec %u, expected MSIX, %u", (int)type,
	      nvec, t.nvec);
	CHECK_RC(c, upci_irq_enable(t.d, UPCI_IRQ_MSI, 0), -ENOTSUP);
	CHECK_RC(c, upci_irq_enable(t.d, UPCI_IRQ_INTX, 0), -ENOTSUP);
	if (t.nvec < UPCI_MAX_VECTORS)
		CHECK_RC(c, upci_irq_enable(t.d, UPCI_IRQ_MSIX, t.nvec + 1), -ERANGE);
	CHECK_RC(c, upci_irq_enable(t.d, UPCI_IRQ_MSIX, t.nvec), (int)t.nvec);
out:
	upci_close(t.d);
}

/* ---- doorbell and masks ---- */

static void td_doorbell_each(struct conf *c)
{
	uint64_t p[UPCI_IRQ_WORDS], before, after;
	struct td t = {0};
	int n;

	if (td_open_irq(c, &t))
		goto out;
	MMIO_RD(c, t.d, R0, TESTDEV_REG_IRQ_COUNT, 4, before);
	for (unsigned v = 0; v < t.nvec; v++) {
		if (td_fire(c, t.d, v))
			goto out;
		n = upci_irq_wait(t.d, CONF_TIMEOUT_MS, p);
		CHECK(c, n == 1 && conf_bit_test(p, v), "doorbell %u: expected {%u}, got %s (%s)", v, v, conf_bits(p),
		      conf_rc(n));
	}
	CHECK_RC(c, upci_irq_wait(t.d, CONF_QUIET_MS, p), -ETIMEDOUT);
	MMIO_RD(c, t.d, R0, TESTDEV_REG_IRQ_COUNT, 4, after);
	CHECK_EQ(c, "IRQ_COUNT increase", (uint32_t)(after - before), t.nvec);
out:
	upci_close(t.d);
}

static void td_doorbell_burst(struct conf *c)
{
	uint64_t want[UPCI_IRQ_WORDS] = {0};
	struct td t = {0};

	if (td_open_irq(c, &t))
		goto out;
	for (unsigned v = 0; v < t.nvec; v++) {
		conf_bit_set(want, v);
		if (td_fire(c, t.d, t.nvec - 1 - v)) /* backwards, for variety */
			goto out;
	}
	(void)td_collect(c, t.d, want, "all vectors fired at once");
out:
	upci_close(t.d);
}

static void td_doorbell_bad_vector(struct conf *c)
{
	static const uint32_t bad[] = {0, UINT32_MAX, 0x10000};
	uint64_t p[UPCI_IRQ_WORDS], ic0, ic1;
	struct td_faults f0, f1;
	struct td t = {0};

	if (td_open_irq(c, &t))
		goto out;
	MMIO_RD(c, t.d, R0, TESTDEV_REG_IRQ_COUNT, 4, ic0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint32_t v = i == 0 ? t.nvec : bad[i]; /* the first one past the end */

		if (td_faults(c, t.d, &f0) || td_fire(c, t.d, v) || td_faults(c, t.d, &f1))
			goto out;
		CHECK(c, f1.count == f0.count + 1 && f1.last == TESTDEV_FAULT_DOORBELL,
		      "doorbell %u: expected fault count %u fault %u, got %u, %u", v, f0.count + 1,
		      TESTDEV_FAULT_DOORBELL, f1.count, f1.last);
	}
	CHECK_RC(c, upci_irq_wait(t.d, CONF_QUIET_MS, p), -ETIMEDOUT);
	MMIO_RD(c, t.d, R0, TESTDEV_REG_IRQ_COUNT, 4, ic1);
	CHECK_EQ(c, "IRQ_COUNT after bad doorbells", ic1, ic0);
	/* A write to FAULT_COUNT clears it and LAST_FAULT. */
	MMIO_WR(c, t.d, R0, TESTDEV_REG_FAULT_COUNT, 4, 1);
	if (td_faults(c, t.d, &f1))
		goto out;
	CHECK(c, f1.count == 0 && f1.last == TESTDEV_FAULT_NONE && f1.desc == NO_DESC,
	      "after clearing: fault count %u last %u desc 0x%x, expected 0, 0, ~0", f1.count, f1.last, f1.desc);
out:
	upci_close(t.d);
}

/* The library's enable mask: masked vectors latch, unmasking delivers. */
static void td_irq_mask_half(struct conf *c)
{
	uint64_t mask[UPCI_IRQ_WORDS], even[UPCI_IRQ_WORDS] = {0}, odd[UPCI_IRQ_WORDS] = {0}, p[UPCI_IRQ_WORDS];
	struct td t = {0};
	int n;

	if (td_open_irq(c, &t))
		goto out;
	for (unsigned v = 0; v < t.nvec; v++)
		conf_bit_set(v % 2 ? odd : even, v);
	for (unsigned w = 0; w < UPCI_IRQ_WORDS; w++)
		mask[w] = UINT64_C(0x5555555555555555);
	CHECK_RC(c, upci_irq_set_mask(t.d, mask), 0);
	for (unsigned v = 0; v < t.nvec; v++)
		if (td_fire(c, t.d, v))
			goto out;
	if (td_collect(c, t.d, even, "unmasked (even) vectors"))
		goto out;
	n = upci_irq_peek_pending(t.d, p);
	CHECK(c, n == conf_popcount(odd) && memcmp(p, odd, sizeof(p)) == 0, "latched while masked: expected %s, got %s",
	      conf_bits(odd), conf_bits(p));
	for (unsigned w = 0; w < UPCI_IRQ_WORDS; w++)
		mask[w] = UINT64_MAX;
	CHECK_RC(c, upci_irq_set_mask(t.d, mask), 0);
	if (td_collect(c, t.d, odd, "vectors delivered on unmask"))
		goto out;
	n = upci_irq_peek_pending(t.d, p);
	CHECK(c, n == 0, "still latched after delivery: %s", conf_bits(p));
out:
	upci_close(t.d);
}

static int pba_bit(struct conf *c, upci_dev *d, unsigned v, int *bit)
{
	uint64_t w;

	MMIO_RD(c, d, R0, TESTDEV_MSIX_PBA + 8 * (v / 64), 8, w);
	*bit = !!(w & (UINT64_C(1) << (v % 64)));
	return 0;
out:
	return -1;
}

/* Per-vector mask in the MSI-X table: the device latches in the PBA. */
static void td_msix_vector_mask(struct conf *c)
{
	uint64_t want[UPCI_IRQ_WORDS], p[UPCI_IRQ_WORDS], ctl;
	struct td t = {0};
	unsigned vs[3];
	int bit;

	if (td_open_irq(c, &t))
		goto out;
	vs[0] = 0;
	vs[1] = t.nvec / 2;
	vs[2] = t.nvec - 1;
	for (unsigned i = 0; i < 3; i++) {
		unsigned v = vs[i];
		uint64_t entry = TESTDEV_MSIX_TABLE + (uint64_t)v * MSIX_ENTRY_SIZE + MSIX_ENTRY_CTRL;

		if (i > 0 && v == vs[i - 1])
			continue;
		MMIO_WR(c, t.d, R0, entry, 4, MSIX_ENTRY_MASKBIT);
		MMIO_RD(c, t.d, R0, entry, 4, ctl);
		if (!(ctl & MSIX_ENTRY_MASKBIT))
			SKIP(c, "the MSI-X table is not writable through this backend");
		if (td_fire(c, t.d, v) || pba_bit(c, t.d, v, &bit))
			goto out;
		if (c->via_qemu && !bit)
			conf_expected(c, "vector %u masked in the guest left the device's PBA bit clear (QEMU keeps the "
				      "MSI-X table and pending bits itself)", v);
		else
			CHECK(c, bit, "vector %u fired while masked: PBA bit not set", v);
		CHECK_RC(c, upci_irq_wait(t.d, CONF_QUIET_MS, p), -ETIMEDOUT);
		MMIO_WR(c, t.d, R0, entry, 4, 0);
		memset(want, 0, sizeof(want));
		conf_bit_set(want, v);
		if (td_collect(c, t.d, want, "vector delivered on MSI-X unmask") || pba_bit(c, t.d, v, &bit))
			goto out;
		CHECK(c, !bit, "vector %u delivered but its PBA bit is still set", v);
	}
out:
	upci_close(t.d);
}

static void td_msix_function_mask(struct conf *c)
{
	const unsigned flags = TESTDEV_CAP_MSIX + MSIX_FLAGS;
	uint64_t want[UPCI_IRQ_WORDS] = {0}, p[UPCI_IRQ_WORDS];
	struct td t = {0};
	uint32_t ctl, v2;
	unsigned v;
	int bit;

	if (td_open_irq(c, &t))
		goto out;
	v = t.nvec - 1;
	CFG_RD(c, t.d, flags, 2, ctl);
	CHECK(c, ctl & MSIX_FLAGS_ENABLE, "MSI-X control 0x%04x: not enabled after upci_irq_enable", ctl);
	CFG_WR(c, t.d, flags, 2, ctl | MSIX_FLAGS_MASKALL);
	CFG_RD(c, t.d, flags, 2, v2);
	if (!(v2 & MSIX_FLAGS_MASKALL))
		SKIP(c, "the MSI-X function mask is not writable through this backend");
	if (td_fire(c, t.d, v) || pba_bit(c, t.d, v, &bit))
		goto out;
	CHECK(c, bit, "vector %u fired under the function mask: PBA bit not set", v);
	CHECK_RC(c, upci_irq_wait(t.d, CONF_QUIET_MS, p), -ETIMEDOUT);
	CFG_WR(c, t.d, flags, 2, ctl & ~MSIX_FLAGS_MASKALL);
	conf_bit_set(want, v);
	if (td_collect(c, t.d, want, "vector delivered on function unmask") || pba_bit(c, t.d, v, &bit))
		goto out;
	CHECK(c, !bit, "vector %u delivered but its PBA bit is still set", v);
out:
	upci_close(t.d);
}

struct waiter {
	upci_dev *d;
	int rc;
	uint64_t pend[UPCI_IRQ_WORDS];
};

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;

	w->rc = upci_irq_wait(w->d, CONF_TIMEOUT_MS, w->pend);
	return NULL;
}

static void td_irq_wait_other_thread(struct conf *c)
{
	struct waiter w;
	struct td t = {0};
	pthread_t th;
	int started = 0;
	unsigned v;

	memset(&w, 0, sizeof(w));
	if (td_open_irq(c, &t))
		goto out;
	v = t.nvec - 1;
	w.d = t.d;
	CHECK(c, pthread_create(&th, NULL, waiter_main, &w) == 0, "pthread_create failed");
	started = 1;
	conf_sleep_ms(20);
	if (td_fire(c, t.d, v))
		goto out;
	pthread_join(th, NULL);
	started = 0;
	CHECK(c, w.rc == 1 && conf_bit_test(w.pend, v), "waiting thread: expected {%u}, got %s (%s)", v, conf_bits(w.pend),
	      conf_rc(w.rc));
out:
	if (started)
		pthread_join(th, NULL); /* bounded by the wait's timeout */
	upci_close(t.d);
}

/* ---- BAR2 ---- */

static void td_bar2_mapping(struct conf *c)
{
	struct td t = {0};
	uint8_t *m = NULL;
	void *again = NULL;
	uint64_t len = 0, v;

	if (td_open(c, &t))
		goto out;
	CHECK_RC(c, upci_bar_map(t.d, TESTDEV_BAR_MEM, (void **)&m, &len), 0);
	CHECK_EQ(c, "BAR2 mapped length", len, t.mem_size);
	/* Mapping -> upci_mmio_read, every accessor width. BAR2 is
	 * prefetchable, so mapped write-combining: flush before the library
	 * looks (upci.h, "mapped BAR access"). */
	upci_write32(m, 0, 0x11223344);
	upci_write64(m, 8, UINT64_C(0x8877665544332211));
	upci_write32(m, len - 4, 0xcafef00d);
	upci_write16(m, 40, 0xa55a);
	upci_write8(m, 42, 0x7e);
	upci_wc_flush();
	MMIO_RD(c, t.d, TESTDEV_BAR_MEM, 40, 2, v);
	CHECK_EQ(c, "BAR2[40] written by upci_write16", v, 0xa55a);
	MMIO_RD(c, t.d, TESTDEV_BAR_MEM, 42, 1, v);
	CHECK_EQ(c, "BAR2[42] written by upci_write8", v, 0x7e);
	CHECK_EQ(c, "upci_read16 of BAR2[2] (little-endian)", upci_read16(m, 2), 0x1122);
	CHECK_EQ(c, "upci_read8 of BAR2[9]", upci_read8(m, 9), 0x22);
	MMIO_RD(c, t.d, TESTDEV_BAR_MEM, 0, 4, v);
	CHECK_EQ(c, "BAR2[0] written through the mapping", v, 0x11223344);
	MMIO_RD(c, t.d, TESTDEV_BAR_MEM, 8, 8, v);
	CHECK_EQ(c, "BAR2[8] (8 bytes) written through the mapping", v, UINT64_C(0x8877665544332211));
	MMIO_RD(c, t.d, TESTDEV_BAR_MEM, len - 4, 4, v);
	CHECK_EQ(c, "last dword of BAR2 written through the mapping", v, 0xcafef00d);
	MMIO_RD(c, t.d, TESTDEV_BAR_MEM, 1, 1, v);
	CHECK_EQ(c, "BAR2[1] by a 1-byte read", v, 0x33);
	MMIO_RD(c, t.d, TESTDEV_BAR_MEM, 2, 2, v);
	CHECK_EQ(c, "BAR2[2] by a 2-byte read", v, 0x1122);
	/* upci_mmio_write -> mapping. */
	MMIO_WR(c, t.d, TESTDEV_BAR_MEM, 16, 4, 0xa1b2c3d4);
	MMIO_WR(c, t.d, TESTDEV_BAR_MEM, 24, 8, UINT64_C(0x0102030405060708));
	MMIO_WR(c, t.d, TESTDEV_BAR_MEM, 33, 1, 0x5e);
	MMIO_WR(c, t.d, TESTDEV_BAR_MEM, 34, 2, 0xbeef);
	CHECK_EQ(c, "mapping after a 4-byte upci_mmio_write", upci_read32(m, 16), 0xa1b2c3d4);
	CHECK_EQ(c, "mapping after an 8-byte upci_mmio_write", upci_read64(m, 24), UINT64_C(0x0102030405060708));
	CHECK_EQ(c, "mapping after a 1-byte upci_mmio_write", upci_read8(m, 33), 0x5e);
	CHECK_EQ(c, "mapping after a 2-byte upci_mmio_write", upci_read32(m, 32) >> 8, 0xbeef5e);
	/* Same mapping on a second map; contents outlive an unmap. */
	CHECK_RC(c, upci_bar_map(t.d, TESTDEV_BAR_MEM, &again, &len), 0);
	CHECK(c, again == m, "second upci_bar_map: %p, expected %p", again, (void *)m);
	CHECK_RC(c, upci_bar_unmap(t.d, TESTDEV_BAR_MEM), 0);
	CHECK_RC(c, upci_bar_map(t.d, TESTDEV_BAR_MEM, (void **)&m, &len), 0);
	CHECK_EQ(c, "BAR2[0] after unmap and map", upci_read32(m, 0), 0x11223344);
out:
	upci_close(t.d);
}

/* ---- descriptor DMA ---- */

static void td_dma_memcpy_1m(struct conf *c)
{
	const uint32_t len = 1u << 20;
	struct upci_dma_buf src = {0}, dst = {0}, list = {0};
	struct td t = {0};
	uint64_t b0, b1;
	uint32_t st;
	long at;

	if (td_open(c, &t))
		goto out;
	CHECK_RC(c, conf_bus_master(t.d, 1), 0);
	CHECK_RC(c, upci_dma_alloc(t.d, UPCI_IOVA_ANY, len, &src), 0);
	CHECK_RC(c, upci_dma_alloc(t.d, UPCI_IOVA_ANY, len, &dst), 0);
	CHECK_RC(c, upci_dma_alloc(t.d, UPCI_IOVA_ANY, c->page, &list), 0);
	conf_fill(src.vaddr, len, 1234);
	td_desc(list.vaddr, 0, src.bus_addr, dst.bus_addr, len, 0);
	MMIO_RD(c, t.d, R0, TESTDEV_REG_BYTES, 8, b0);
	if (td_run(c, t.d, list.bus_addr, 1, 0, &st))
		goto out;
	CHECK_EQ(c, "STATUS after a good run", st, TESTDEV_STATUS_DONE);
	CHECK_EQ(c, "descriptor status", td_desc_status(list.vaddr, 0), TESTDEV_DESC_ST_DONE);
	at = conf_diff(dst.vaddr, src.vaddr, len);
	CHECK(c, at < 0, "1 MiB copy differs at byte %ld", at);
	MMIO_RD(c, t.d, R0, TESTDEV_REG_DONE_COUNT, 4, st);
	CHECK_EQ(c, "DONE_COUNT", st, 1);
	MMIO_RD(c, t.d, R0, TESTDEV_REG_BYTES, 8, b1);
	CHECK_EQ(c, "BYTES increase", b1 - b0, len);
	/* STATUS is write-1-to-clear. */
	MMIO_WR(c, t.d, R0, TESTDEV_REG_STATUS, 4, TESTDEV_STATUS_DONE);
	MMIO_RD(c, t.d, R0, TESTDEV_REG_STATUS, 4, st);
	CHECK_EQ(c, "STATUS after writing DONE to it", st, 0);
out:
	upci_close(t.d);
}

/* Several descriptors, each raising its own vector, then the completion
 * vector: all arrive, each copy lands. */
static void td_dma_desc_irqs(struct conf *c)
{
	enum { NDESC = 4, PIECE = 4096 };
	struct upci_dma_buf src = {0}, dst = {0}, list = {0};
	uint64_t want[UPCI_IRQ_WORDS] = {0};
	struct td t = {0};
	unsigned compl;
	uint32_t st;
	long at;

	if (td_open_irq(c, &t))
		goto out;
	if (t.nvec < NDESC + 1)
		SKIP(c, "needs %d vectors, the device has %u", NDESC + 1, t.nvec);
	CHECK_RC(c, conf_bus_master(t.d, 1), 0);
	CHECK_RC(c, upci_dma_alloc(t.d, UPCI_IOVA_ANY, NDESC * PIECE, &src), 0);
	CHECK_RC(c, upci_dma_alloc(t.d, UPCI_IOVA_ANY, NDESC * PIECE, &dst), 0);
	CHECK_RC(c, upci_dma_alloc(t.d, UPCI_IOVA_ANY, c->page, &list), 0);
	conf_fill(src.vaddr, NDESC * PIECE, 77);
	for (unsigned i = 0; i < NDESC; i++) {
		unsigned v = (t.nvec - 1) - i; /* high vectors: other words of the bitmap */

		/* Reverse order on the destination side, so a swapped index shows. */
		td_desc(list.vaddr, i, src.bus_addr + i * PIECE, dst.bus_addr + (NDESC - 1 - i) * PIECE, PIECE,
			TESTDEV_DESC_F_IRQ | v << TESTDEV_DESC_F_VEC_SHIFT);
		conf_bit_set(want, v);
	}
	compl = 0;
	conf_bit_set(want, compl);
	MMIO_WR(c, t.d, R0, TESTDEV_REG_COMPL_VEC, 4, compl);
	if (td_run(c, t.d, list.bus_addr, NDESC, TESTDEV_CTRL_IRQ_EN, &st))
		goto out;
	CHECK_EQ(c, "STATUS", st, TESTDEV_STATUS_DONE);
	for (unsigned i = 0; i < NDESC; i++) {
		CHECK_EQ(c, "descriptor status", td_desc_status(list.vaddr, i), TESTDEV_DESC_ST_DONE);
		at = conf_diff((uint8_t *)dst.vaddr + (NDESC - 1 - i) * PIECE, (uint8_t *)src.vaddr + i * PIECE, PIECE);
		CHECK(c, at < 0, "descriptor %u: copy differs at byte %ld", i, at);
	}
	(void)td_collect(c, t.d, want, "descriptor and completion vectors");
out:
	upci_close(t.d);
}

static void td_dma_bar2(struct conf *c)
{
	struct upci_dma_buf ram = {0}, list = {0};
	struct td t = {0};
	uint8_t *m = NULL, *r;
	uint64_t len, off, piece;
	uint32_t st;
	long at;

	if (td_open(c, &t))
		goto out;
	/* 8 KiB pieces, smaller on a small BAR2; the last piece ends at the
	 * end of BAR2, where the bounds check matters. */
	piece = t.mem_size / 4 < 8192 ? t.mem_size / 4 : 8192;
	off = t.mem_size - piece;
	CHECK_RC(c, conf_bus_master(t.d, 1), 0);
	CHECK_RC(c, upci_bar_map(t.d, TESTDEV_BAR_MEM, (void **)&m, &len), 0);
	CHECK_RC(c, upci_dma_alloc(t.d, UPCI_IOVA_ANY, 2 * piece, &ram), 0);
	CHECK_RC(c, upci_dma_alloc(t.d, UPCI_IOVA_ANY, c->page, &list), 0);
	r = ram.vaddr;
	conf_fill(r, piece, 4242);
	/* RAM -> BAR2. */
	td_desc(list.vaddr, 0, ram.bus_addr, off, piece, TESTDEV_DESC_F_DST_BAR2);
	if (td_run(c, t.d, list.bus_addr, 1, 0, &st))
		goto out;
	CHECK_EQ(c, "STATUS after RAM -> BAR2", st, TESTDEV_STATUS_DONE);
	at = conf_diff(m + off, r, piece);
	CHECK(c, at < 0, "RAM -> BAR2: BAR2 differs at byte %ld", at);
	/* BAR2 -> BAR2, then BAR2 -> RAM. */
	td_desc(list.vaddr, 0, off, 0, piece, TESTDEV_DESC_F_SRC_BAR2 | TESTDEV_DESC_F_DST_BAR2);
	td_desc(list.vaddr, 1, 0, ram.bus_addr + piece, piece, TESTDEV_DESC_F_SRC_BAR2);
	if (td_run(c, t.d, list.bus_addr, 2, 0, &st))
		goto out;
	CHECK_EQ(c, "STATUS after BAR2 -> BAR2 -> RAM", st, TESTDEV_STATUS_DONE);
	at = conf_diff(m, r, piece);
	CHECK(c, at < 0, "BAR2 -> BAR2: differs at byte %ld", at);
	at = conf_diff(r + piece, r, piece);
	CHECK(c, at < 0, "BAR2 -> RAM: differs at byte %ld", at);
out:
	upci_close(t.d);
}

/* Buffers for the hostile cases: a list page, and data = [src | guard |
 * dst | guard] whose contents must not change when a run is refused. */
struct hostile {
	struct upci_dma_buf list, data;
	uint8_t *ref;
	uint64_t g;    /* one page */
	uint64_t hole; /* a bus address none of our buffers covers */
};

static int hostile_setup(struct conf *c, struct td *t, struct hostile *h)
{
	uint64_t end;

	h->g = c->page;
	CHECK_RC(c, conf_bus_master(t->d, 1), 0);
	CHECK_RC(c, upci_dma_alloc(t->d, UPCI_IOVA_ANY, h->g, &h->list), 0);
	CHECK_RC(c, upci_dma_alloc(t->d, UPCI_IOVA_ANY, 4 * h->g, &h->data), 0);
	h->ref = malloc(4 * h->g);
	CHECK(c, h->ref != NULL, "out of memory");
	conf_fill(h->data.vaddr, 4 * h->g, 31337);
	memcpy(h->ref, h->data.vaddr, 4 * h->g);
	end = h->list.bus_addr + h->list.size;
	if (h->data.bus_addr + h->data.size > end)
		end = h->data.bus_addr + h->data.size;
	h->hole = (end + (16u << 20)) & ~(uint64_t)0xfffff;
	return 0;
out:
	return -1;
}

static int hostile_unchanged(struct conf *c, const struct hostile *h, const char *what)
{
	long at = conf_diff(h->data.vaddr, h->ref, 4 * h->g);

	CHECK(c, at < 0, "%s: a refused run changed our memory at byte %ld", what, at);
	return 0;
out:
	return -1;
}

/* One bad descriptor: refused with @code, reported in its status word,
 * nothing copied. */
static int hostile_one(struct conf *c, struct td *t, struct hostile *h, const char *what, uint64_t src, uint64_t dst,
		       uint32_t len, uint32_t flags, uint32_t code)
{
	uint32_t st;

	td_desc(h->list.vaddr, 0, src, dst, len, flags);
	if (td_expect_fault(c, t->d, what, h->list.bus_addr, 1, 0, code, 0))
		return -1;
	st = td_desc_status(h->list.vaddr, 0);
	CHECK(c, st == (TESTDEV_DESC_ST_ERROR | code << TESTDEV_DESC_ST_FAULT_SHIFT),
	      "%s: descriptor status 0x%x, expected 0x%x", what, st,
	      TESTDEV_DESC_ST_ERROR | code << TESTDEV_DESC_ST_FAULT_SHIFT);
	MMIO_RD(c, t->d, R0, TESTDEV_REG_DONE_COUNT, 4, st);
	CHECK_EQ(c, "DONE_COUNT of a refused run", st, 0);
	return hostile_unchanged(c, h, what);
out:
	return -1;
}

static void td_dma_hostile_desc(struct conf *c)
{
	struct hostile h = {0};
	struct td t = {0};
	uint64_t s, d;

	if (td_open(c, &t) || hostile_setup(c, &t, &h))
		goto out;
	s = h.data.bus_addr;
	d = h.data.bus_addr + 2 * h.g;
	if (hostile_one(c, &t, &h, "length 0", s, d, 0, 0, TESTDEV_FAULT_LEN) ||
	    hostile_one(c, &t, &h, "length over the maximum", s, d, TESTDEV_MAX_LEN + 1, 0, TESTDEV_FAULT_LEN) ||
	    hostile_one(c, &t, &h, "reserved flag bits", s, d, 64, 0x80, TESTDEV_FAULT_FLAGS) ||
	    hostile_one(c, &t, &h, "reserved high flag bits", s, d, 64, 0x80000000u, TESTDEV_FAULT_FLAGS))
		goto out;
	/* The vector field has 8 bits: a bad one exists below 256 vectors. */
	if (t.nvec < 256 &&
	    hostile_one(c, &t, &h, "irq vector past NVEC", s, d, 64,
			TESTDEV_DESC_F_IRQ | t.nvec << TESTDEV_DESC_F_VEC_SHIFT, TESTDEV_FAULT_VECTOR))
		goto out;
out:
	free(h.ref);
	upci_close(t.d);
}

static void td_dma_hostile_addr(struct conf *c)
{
	struct upci_dma_buf dummy;
	struct hostile h = {0};
	struct td t = {0};
	uint8_t *ro = MAP_FAILED, *m = NULL;
	uint64_t s, d, ro_bus = 0, wo_bus = 0, len, g = c->page, tail[2];
	int rc;

	if (td_open(c, &t) || hostile_setup(c, &t, &h))
		goto out;
	s = h.data.bus_addr;
	d = h.data.bus_addr + 2 * g;
	if (hostile_one(c, &t, &h, "source unmapped", h.hole, d, 64, 0, TESTDEV_FAULT_SRC) ||
	    hostile_one(c, &t, &h, "destination unmapped", s, h.hole, 64, 0, TESTDEV_FAULT_DST) ||
	    hostile_one(c, &t, &h, "source wrapping past 2^64", UINT64_MAX - 15, d, 64, 0, TESTDEV_FAULT_SRC) ||
	    hostile_one(c, &t, &h, "destination wrapping past 2^64", s, UINT64_MAX - 15, 64, 0, TESTDEV_FAULT_DST))
		goto out;
	/* Mapping permissions: a device-read-only page cannot be written. A
	 * backend that cannot restrict the device refuses the flag (upci.h). */
	ro = mmap(NULL, 2 * g, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(c, ro != MAP_FAILED, "mmap failed");
	memset(ro, 0x6b, 2 * g);
	rc = upci_dma_map(t.d, h.hole, ro, g, UPCI_DMA_READ, &ro_bus);
	if (rc == -ENOTSUP) {
		conf_note(c, "one-direction DMA refused (-ENOTSUP): permission faults not checked");
	} else {
		CHECK_RC(c, rc, 0);
		CHECK_RC(c, upci_dma_map(t.d, h.hole + (8u << 20), ro + g, g, UPCI_DMA_WRITE, &wo_bus), 0);
		if (hostile_one(c, &t, &h, "destination mapped device-read-only", s, ro_bus, 64, 0, TESTDEV_FAULT_DST))
			goto out;
		if (c->via_qemu) {
			/* QEMU gives the server every guest mapping readable: the
			 * write-only source is copied from, and nothing else changes. */
			uint32_t st;

			td_desc(h.list.vaddr, 0, wo_bus, d, 64, 0);
			if (td_run(c, t.d, h.list.bus_addr, 1, 0, &st))
				goto out;
			if (st == TESTDEV_STATUS_DONE) {
				CHECK(c, memcmp(h.data.vaddr + 2 * g, ro + g, 64) == 0,
				      "source mapped device-write-only, run through QEMU: the copy is not the source");
				memcpy(h.data.vaddr + 2 * g, h.ref + 2 * g, 64);
				conf_expected(c, "a device-write-only source was read (QEMU maps all guest DMA readable)");
			} else if (hostile_one(c, &t, &h, "source mapped device-write-only", wo_bus, d, 64, 0,
					       TESTDEV_FAULT_SRC)) {
				goto out;
			}
		} else if (hostile_one(c, &t, &h, "source mapped device-write-only", wo_bus, d, 64, 0,
				       TESTDEV_FAULT_SRC)) {
			goto out;
		}
		CHECK(c, conf_find_not(ro, 2 * g, 0x6b) < 0, "a refused run changed the permission-limited pages");
	}
	/* BAR2 bounds: the end of BAR2 keeps its contents. */
	CHECK_RC(c, upci_bar_map(t.d, TESTDEV_BAR_MEM, (void **)&m, &len), 0);
	upci_write64(m, len - 16, UINT64_C(0x1111111111111111));
	upci_write64(m, len - 8, UINT64_C(0x2222222222222222));
	if (hostile_one(c, &t, &h, "BAR2 destination past the end", s, t.mem_size - 8, 16, TESTDEV_DESC_F_DST_BAR2,
			TESTDEV_FAULT_BAR2) ||
	    hostile_one(c, &t, &h, "BAR2 destination far out", s, UINT64_C(1) << 63, 16, TESTDEV_DESC_F_DST_BAR2,
			TESTDEV_FAULT_BAR2) ||
	    hostile_one(c, &t, &h, "BAR2 source past the end", t.mem_size - 8, d, 16, TESTDEV_DESC_F_SRC_BAR2,
			TESTDEV_FAULT_BAR2) ||
	    hostile_one(c, &t, &h, "BAR2 source wrapping", UINT64_MAX - 7, d, 16, TESTDEV_DESC_F_SRC_BAR2,
			TESTDEV_FAULT_BAR2))
		goto out;
	tail[0] = upci_read64(m, len - 16);
	tail[1] = upci_read64(m, len - 8);
	CHECK(c, tail[0] == UINT64_C(0x1111111111111111) && tail[1] == UINT64_C(0x2222222222222222),
	      "a refused BAR2 run changed the end of BAR2");
	/* A freed buffer is no longer reachable. */
	dummy = h.data;
	CHECK_RC(c, upci_dma_free(t.d, &dummy), 0);
	h.data.vaddr = NULL;
	td_desc(h.list.vaddr, 0, s, s + g, 64, 0);
	if (td_expect_fault(c, t.d, "copy inside a freed buffer", h.list.bus_addr, 1, 0, TESTDEV_FAULT_SRC, 0))
		goto out;
out:
	free(h.ref);
	upci_close(t.d);
	if (ro != MAP_FAILED)
		munmap(ro, 2 * g);
}

/* Faults of the engine itself rather than of one copy. */
static void td_dma_engine_faults(struct conf *c)
{
	struct hostile h = {0};
	struct td t = {0};
	uint8_t *ro = MAP_FAILED;
	uint64_t s, d, ro_bus = 0, g = c->page;
	uint32_t st;
	int rc;

	if (td_open(c, &t) || hostile_setup(c, &t, &h))
		goto out;
	s = h.data.bus_addr;
	d = h.data.bus_addr + 2 * g;
	td_desc(h.list.vaddr, 0, s, d, 64, 0);
	if (td_expect_fault(c, t.d, "DESC_COUNT 0", h.list.bus_addr, 0, 0, TESTDEV_FAULT_DESC_COUNT, NO_DESC) ||
	    td_expect_fault(c, t.d, "DESC_COUNT over the maximum", h.list.bus_addr, TESTDEV_MAX_DESC + 1, 0,
			    TESTDEV_FAULT_DESC_COUNT, NO_DESC) ||
	    td_expect_fault(c, t.d, "list at an unmapped address", h.hole, 1, 0, TESTDEV_FAULT_DESC_ADDR, 0) ||
	    td_expect_fault(c, t.d, "list wrapping past 2^64", UINT64_MAX - 31, 2, 0, TESTDEV_FAULT_DESC_ADDR, 0) ||
	    hostile_unchanged(c, &h, "engine faults"))
		goto out;
	/* A completion vector the device does not have: refused before any copy. */
	MMIO_WR(c, t.d, R0, TESTDEV_REG_COMPL_VEC, 4, t.nvec);
	if (td_expect_fault(c, t.d, "completion vector past NVEC", h.list.bus_addr, 1, TESTDEV_CTRL_IRQ_EN,
			    TESTDEV_FAULT_VECTOR, NO_DESC) ||
	    hostile_unchanged(c, &h, "completion vector past NVEC"))
		goto out;
	MMIO_WR(c, t.d, R0, TESTDEV_REG_COMPL_VEC, 4, 0);
	/* Bus mastering off: nothing may move. */
	CHECK_RC(c, conf_bus_master(t.d, 0), 0);
	if (td_expect_fault(c, t.d, "START without bus mastering", h.list.bus_addr, 1, 0, TESTDEV_FAULT_NO_MASTER,
			    NO_DESC) ||
	    hostile_unchanged(c, &h, "no bus master"))
		goto out;
	CHECK_RC(c, conf_bus_master(t.d, 1), 0);
	/* The second descriptor is bad: the first completes, the run stops. */
	td_desc(h.list.vaddr, 0, s, d, 64, 0);
	td_desc(h.list.vaddr, 1, s, d, 0, 0);
	if (td_expect_fault(c, t.d, "second descriptor bad", h.list.bus_addr, 2, 0, TESTDEV_FAULT_LEN, 1))
		goto out;
	MMIO_RD(c, t.d, R0, TESTDEV_REG_DONE_COUNT, 4, st);
	CHECK_EQ(c, "DONE_COUNT when the second descriptor faults", st, 1);
	CHECK_EQ(c, "first descriptor's status", td_desc_status(h.list.vaddr, 0), TESTDEV_DESC_ST_DONE);
	CHECK_EQ(c, "second descriptor's status", td_desc_status(h.list.vaddr, 1),
		 TESTDEV_DESC_ST_ERROR | TESTDEV_FAULT_LEN << TESTDEV_DESC_ST_FAULT_SHIFT);
	CHECK(c, conf_diff((uint8_t *)h.data.vaddr + 2 * g, h.ref, 64) < 0, "the first descriptor's copy is wrong");
	/* A list the device may read but not write: the status cannot land
	 * (where the backend can restrict the device, see dma_hostile_addr). */
	ro = mmap(NULL, g, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(c, ro != MAP_FAILED, "mmap failed");
	td_desc(ro, 0, s, d, 64, 0);
	rc = upci_dma_map(t.d, h.hole, ro, g, UPCI_DMA_READ, &ro_bus);
	if (rc == -ENOTSUP)
		conf_note(c, "one-direction DMA refused (-ENOTSUP): write-back fault not checked");
	else if (rc != 0)
		CHECK_RC(c, rc, 0);
	else if (td_expect_fault(c, t.d, "status write-back to a read-only list", ro_bus, 1, 0,
				 TESTDEV_FAULT_WRITEBACK, 0))
		goto out;
out:
	free(h.ref);
	upci_close(t.d);
	if (ro != MAP_FAILED)
		munmap(ro, g);
}

static void td_dma_completion_irq(struct conf *c)
{
	struct upci_dma_buf buf = {0}, list = {0};
	uint64_t want[UPCI_IRQ_WORDS] = {0};
	struct td t = {0};
	uint32_t st;
	unsigned v;

	if (td_open_irq(c, &t))
		goto out;
	v = t.nvec / 2;
	CHECK_RC(c, conf_bus_master(t.d, 1), 0);
	CHECK_RC(c, upci_dma_alloc(t.d, UPCI_IOVA_ANY, 2 * c->page, &buf), 0);
	CHECK_RC(c, upci_dma_alloc(t.d, UPCI_IOVA_ANY, c->page, &list), 0);
	td_desc(list.vaddr, 0, buf.bus_addr, buf.bus_addr + c->page, 128, 0);
	MMIO_WR(c, t.d, R0, TESTDEV_REG_COMPL_VEC, 4, v);
	MMIO_RD(c, t.d, R0, TESTDEV_REG_COMPL_VEC, 4, st);
	CHECK_EQ(c, "COMPL_VEC read back", st, v);
	if (td_run(c, t.d, list.bus_addr, 1, TESTDEV_CTRL_IRQ_EN, &st))
		goto out;
	CHECK_EQ(c, "STATUS", st, TESTDEV_STATUS_DONE);
	conf_bit_set(want, v);
	if (td_collect(c, t.d, want, "completion vector"))
		goto out;
	/* Without IRQ_EN the same run is silent. */
	if (td_run(c, t.d, list.bus_addr, 1, 0, &st))
		goto out;
	CHECK_RC(c, upci_irq_wait(t.d, CONF_QUIET_MS, want), -ETIMEDOUT);
out:
	upci_close(t.d);
}

/* ---- reset ---- */

#define PM_CTRL          0x04u    /* PMCSR, inside the PM capability */
#define PM_STATE_MASK    0x0003u
#define PM_STATE_D3HOT   0x0003u
#define TD_DEVCTL_RESET  0x2810u  /* docs/models/testdev.md */

/* Every reset value docs/models/testdev.md lists for BAR0. */
static const struct {
	const char *name;
	uint32_t off, val;
} td_reset_regs[] = {
	{"SCRATCH", TESTDEV_REG_SCRATCH, 0},
	{"IRQ_COUNT", TESTDEV_REG_IRQ_COUNT, 0},
	{"DESC_ADDR", TESTDEV_REG_DESC_ADDR, 0},
	{"DESC_ADDR_HI", TESTDEV_REG_DESC_ADDR_HI, 0},
	{"DESC_COUNT", TESTDEV_REG_DESC_COUNT, 0},
	{"CTRL", TESTDEV_REG_CTRL, 0},
	{"STATUS", TESTDEV_REG_STATUS, 0},
	{"COMPL_VEC", TESTDEV_REG_COMPL_VEC, 0},
	{"DONE_COUNT", TESTDEV_REG_DONE_COUNT, 0},
	{"BYTES", TESTDEV_REG_BYTES, 0},
	{"BYTES_HI", TESTDEV_REG_BYTES_HI, 0},
	{"FAULT_COUNT", TESTDEV_REG_FAULT_COUNT, 0},
	{"LAST_FAULT", TESTDEV_REG_LAST_FAULT, TESTDEV_FAULT_NONE},
	{"FAULT_DESC", TESTDEV_REG_FAULT_DESC, NO_DESC},
};

/* Dirty everything a function-level reset must put back. */
static int td_dirty(struct conf *c, struct td *t, uint8_t *m, uint64_t len, struct upci_dma_buf *list)
{
	const uint64_t e0 = TESTDEV_MSIX_TABLE;

	CHECK_RC(c, conf_bus_master(t->d, 1), 0);
	MMIO_WR(c, t->d, R0, TESTDEV_REG_SCRATCH, 4, 0x5a5a1234);
	memset(m, 0xc3, len / 2);
	upci_write64(m, len - 8, UINT64_MAX);
	/* A good copy inside BAR2 (moves BYTES), then a bad one (a fault). */
	td_desc(list->vaddr, 0, 0, len / 2, (uint32_t)(len / 4), TESTDEV_DESC_F_SRC_BAR2 | TESTDEV_DESC_F_DST_BAR2);
	td_desc(list->vaddr, 1, 0, 0, 0, 0);
	MMIO_WR(c, t->d, R0, TESTDEV_REG_COMPL_VEC, 4, 0);
	if (td_expect_fault(c, t->d, "a run to dirty the counters", list->bus_addr, 2, TESTDEV_CTRL_IRQ_EN,
			    TESTDEV_FAULT_LEN, 1))
		return -1;
	MMIO_WR(c, t->d, R0, TESTDEV_REG_COMPL_VEC, 4, t->nvec - 1);
	if (td_fire(c, t->d, 0))
		return -1;
	/* MSI-X: entry 0 programmed and unmasked, a vector latched, the
	 * function masked but enabled. */
	MMIO_WR(c, t->d, R0, e0, 4, 0xfee00000u);
	MMIO_WR(c, t->d, R0, e0 + 8, 4, 0x1234);
	MMIO_WR(c, t->d, R0, e0 + MSIX_ENTRY_CTRL, 4, 0);
	CFG_WR(c, t->d, TESTDEV_CAP_MSIX + MSIX_FLAGS, 2, MSIX_FLAGS_ENABLE | MSIX_FLAGS_MASKALL);
	if (td_fire(c, t->d, 0))
		return -1;
	CFG_WR(c, t->d, TESTDEV_CAP_EXP + EXP_DEVCTL, 2, 0);
	CFG_WR(c, t->d, TESTDEV_CAP_PM + PM_CTRL, 2, PM_STATE_D3HOT);
	return 0;
out:
	return -1;
}

static void td_flr_defaults(struct conf *c)
{
	struct upci_dma_buf list = {0};
	struct td t = {0};
	uint8_t *m = NULL;
	uint64_t len, v;
	uint32_t cfg;
	long at;
	int rc;

	if (td_open(c, &t))
		goto out;
	CHECK_RC(c, upci_bar_map(t.d, TESTDEV_BAR_MEM, (void **)&m, &len), 0);
	CHECK_RC(c, upci_dma_alloc(t.d, UPCI_IOVA_ANY, c->page, &list), 0);
	if (td_dirty(c, &t, m, len, &list))
		goto out;
	rc = upci_reset(t.d);
	CHECK(c, rc == 0, "upci_reset on an FLR-capable device: expected 0, got %s", conf_rc(rc));
	for (size_t i = 0; i < sizeof(td_reset_regs) / sizeof(td_reset_regs[0]); i++) {
		MMIO_RD(c, t.d, R0, td_reset_regs[i].off, 4, v);
		CHECK(c, v == td_reset_regs[i].val, "%s after FLR: expected 0x%x, got 0x%" PRIx64, td_reset_regs[i].name,
		      td_reset_regs[i].val, v);
	}
	MMIO_RD(c, t.d, R0, TESTDEV_REG_NVEC, 4, v);
	CHECK_EQ(c, "NVEC after FLR", v, t.nvec);
	/* BAR2 zeroed, seen through the mapping made before the reset. */
	at = conf_find_not(m, len, 0);
	CHECK(c, at < 0, "BAR2 not zeroed by FLR: byte 0x%lx", at);
	MMIO_RD(c, t.d, TESTDEV_BAR_MEM, len - 8, 8, v);
	CHECK_EQ(c, "BAR2's last qword by upci_mmio_read after FLR", v, 0);
	/* Config space back to its reset image. */
	CFG_RD(c, t.d, CFG_COMMAND, 2, cfg);
	CHECK(c, !(cfg & CFG_CMD_MASTER), "COMMAND 0x%04x: bus master on after FLR", cfg);
	CFG_RD(c, t.d, TESTDEV_CAP_EXP + EXP_DEVCTL, 2, cfg);
	CHECK(c, !(cfg & EXP_DEVCTL_BCR_FLR), "DEVCTL 0x%04x after FLR: Initiate FLR reads 1", cfg);
	if (c->via_qemu && cfg != TD_DEVCTL_RESET)
		conf_expected(c, "DEVCTL 0x%04x after FLR, not the reset value 0x%04x (the guest kernel restores "
			      "config space after an FLR)", cfg, TD_DEVCTL_RESET);
	else
		CHECK_EQ(c, "DEVCTL after FLR (Initiate FLR reads 0)", cfg, TD_DEVCTL_RESET);
	CFG_RD(c, t.d, TESTDEV_CAP_PM + PM_CTRL, 2, cfg);
	CHECK_EQ(c, "PMCSR power state after FLR (D0)", cfg & PM_STATE_MASK, 0);
	CFG_RD(c, t.d, TESTDEV_CAP_MSIX + MSIX_FLAGS, 2, cfg);
	CHECK(c, !(cfg & (MSIX_FLAGS_ENABLE | MSIX_FLAGS_MASKALL)), "MSI-X control 0x%04x after FLR: expected off",
	      cfg);
	/* MSI-X table: address and data 0, every vector masked; PBA clear.
	 * Through QEMU the table and PBA read are QEMU's own copy, which a
	 * device FLR does not touch. */
	if (c->via_qemu) {
		conf_expected(c, "the MSI-X table after FLR not checked (QEMU keeps the MSI-X table itself)");
		goto out;
	}
	for (unsigned vec = 0; vec < t.nvec; vec++) {
		uint64_t e = TESTDEV_MSIX_TABLE + (uint64_t)vec * MSIX_ENTRY_SIZE;

		MMIO_RD(c, t.d, R0, e, 8, v);
		CHECK(c, v == 0, "MSI-X vector %u address 0x%" PRIx64 " after FLR, expected 0", vec, v);
		MMIO_RD(c, t.d, R0, e + 8, 8, v);
		CHECK(c, v == ((uint64_t)MSIX_ENTRY_MASKBIT << 32),
		      "MSI-X vector %u data/control 0x%" PRIx64 " after FLR, expected data 0 and masked", vec, v);
	}
	for (unsigned w = 0; w < (t.nvec + 63) / 64; w++) {
		MMIO_RD(c, t.d, R0, TESTDEV_MSIX_PBA + 8 * w, 8, v);
		CHECK_EQ(c, "PBA word after FLR", v, 0);
	}
out:
	upci_close(t.d);
}

/* Interrupts survive a reset: same set-up, same mask, and they fire. */
static void td_reset_irq_restored(struct conf *c)
{
	uint64_t mask[UPCI_IRQ_WORDS], got[UPCI_IRQ_WORDS], even[UPCI_IRQ_WORDS] = {0}, odd[UPCI_IRQ_WORDS] = {0};
	enum upci_irq_type type;
	struct td t = {0};
	unsigned nvec;
	uint32_t cmd;

	if (td_open_irq(c, &t))
		goto out;
	for (unsigned v = 0; v < t.nvec; v++)
		conf_bit_set(v % 2 ? odd : even, v);
	for (unsigned w = 0; w < UPCI_IRQ_WORDS; w++)
		mask[w] = UINT64_C(0x5555555555555555);
	CHECK_RC(c, upci_irq_set_mask(t.d, mask), 0);
	CHECK_RC(c, upci_reset(t.d), 0);
	CHECK_RC(c, upci_irq_info(t.d, &type, &nvec), 0);
	CHECK(c, type == UPCI_IRQ_MSIX && nvec == t.nvec, "after reset: type %d nvec %u, expected MSIX, %u", (int)type,
	      nvec, t.nvec);
	CHECK_RC(c, upci_irq_get_mask(t.d, got), 0);
	CHECK(c, memcmp(got, mask, sizeof(got)) == 0, "mask after reset: %s", conf_bits(got));
	CFG_RD(c, t.d, CFG_COMMAND, 2, cmd);
	CHECK(c, cmd & CFG_CMD_MASTER, "COMMAND 0x%04x: re-established MSI-X did not turn bus mastering on", cmd);
	for (unsigned v = 0; v < t.nvec; v++)
		if (td_fire(c, t.d, v))
			goto out;
	if (td_collect(c, t.d, even, "unmasked vectors after reset"))
		goto out;
	for (unsigned w = 0; w < UPCI_IRQ_WORDS; w++)
		mask[w] = UINT64_MAX;
	CHECK_RC(c, upci_irq_set_mask(t.d, mask), 0);
	(void)td_collect(c, t.d, odd, "latched vectors after reset, on unmask");
out:
	upci_close(t.d);
}

const struct conf_case conf_testdev_cases[] = {
	{"testdev.identity", CONF_NEED_TESTDEV, td_identity},
	{"testdev.registers", CONF_NEED_TESTDEV, td_registers},
	{"testdev.capabilities", CONF_NEED_TESTDEV, td_capabilities},
	{"testdev.vectors", CONF_NEED_TESTDEV, td_vectors},
	{"testdev.doorbell_each", CONF_NEED_TESTDEV, td_doorbell_each},
	{"testdev.doorbell_burst", CONF_NEED_TESTDEV, td_doorbell_burst},
	{"testdev.doorbell_bad_vector", CONF_NEED_TESTDEV, td_doorbell_bad_vector},
	{"testdev.irq_mask_half", CONF_NEED_TESTDEV, td_irq_mask_half},
	{"testdev.msix_vector_mask", CONF_NEED_TESTDEV, td_msix_vector_mask},
	{"testdev.msix_function_mask", CONF_NEED_TESTDEV, td_msix_function_mask},
	{"testdev.irq_wait_other_thread", CONF_NEED_TESTDEV, td_irq_wait_other_thread},
	{"testdev.bar2_mapping", CONF_NEED_TESTDEV, td_bar2_mapping},
	{"testdev.dma_memcpy_1m", CONF_NEED_TESTDEV, td_dma_memcpy_1m},
	{"testdev.dma_desc_irqs", CONF_NEED_TESTDEV, td_dma_desc_irqs},
	{"testdev.dma_bar2", CONF_NEED_TESTDEV, td_dma_bar2},
	{"testdev.dma_hostile_desc", CONF_NEED_TESTDEV, td_dma_hostile_desc},
	{"testdev.dma_hostile_addr", CONF_NEED_TESTDEV, td_dma_hostile_addr},
	{"testdev.dma_engine_faults", CONF_NEED_TESTDEV, td_dma_engine_faults},
	{"testdev.dma_completion_irq", CONF_NEED_TESTDEV, td_dma_completion_irq},
	{"testdev.flr_defaults", CONF_NEED_TESTDEV, td_flr_defaults},
	{"testdev.reset_irq_restored", CONF_NEED_TESTDEV, td_reset_irq_restored},
};
const size_t conf_testdev_count = sizeof(conf_testdev_cases) / sizeof(conf_testdev_cases[0]);

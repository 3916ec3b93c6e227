/* SPDX-License-Identifier: MIT */
/*
 * Cases for the DMA calls beyond map/alloc: IOVA ranges, any-IOVA and
 * scatter-list maps, translation both ways, huge-page buffers, and DMA
 * spaces (one device, and with --peer URI a second device in the same
 * space). Expected values come from upci.h. Where the device is an edu or
 * a testdev, its DMA engine proves what the device really reaches.
 *
 * What a backend may answer differently, as upci.h allows: memory without
 * an fd may be out of reach (-ENOTSUP: a vfio-user server behind a real
 * IOMMU), an IOMMU that picks bus addresses may not keep a scatter list
 * contiguous (-ERANGE: the dext's DART).
 */
#define _GNU_SOURCE
#include "conformance.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "edu_regs.h"
#include "testdev_regs.h"

#define ANY_MIN   0x100000ull /* UPCI_IOVA_ANY: at or above 1 MiB */
#define HUGE      UPCI_HUGE_PAGE_SIZE
#define COPY_LEN  3000u       /* < 4096: QEMU 7.2's edu aborts on exactly 4096 */
#define MAX_RANGES 64

/* ---- helpers ---- */

static uint64_t page_up(uint64_t x, uint64_t page)
{
	return (x + page - 1) & ~(page - 1);
}

static void *anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* The device's ranges (normalized, as upci.h promises): count, or -1. */
static int ranges_of(struct conf *c, upci_dev *d, struct upci_iova_range *r)
{
	int n = upci_dma_iova_ranges(d, r, MAX_RANGES);

	CHECK(c, n >= 1 && n <= MAX_RANGES, "upci_dma_iova_ranges: expected 1..%d ranges, got %s", MAX_RANGES,
	      conf_rc(n));
	return n;
out:
	return -1;
}

static int inside(const struct upci_iova_range *r, int n, uint64_t start, uint64_t len)
{
	for (int i = 0; i < n; i++)
		if (start >= r[i].start && start + (len - 1) <= r[i].last && start + (len - 1) >= start)
			return 1;
	return 0;
}

/* Where the first UPCI_IOVA_ANY mapping of @len goes on an empty device:
 * the lowest page at or above 1 MiB inside a range. */
static uint64_t first_any(const struct upci_iova_range *r, int n, uint64_t len, uint64_t page)
{
	for (int i = 0; i < n; i++) {
		uint64_t at = page_up(r[i].start > ANY_MIN ? r[i].start : ANY_MIN, page);

		if (at >= r[i].start && at <= r[i].last && r[i].last - at >= len - 1)
			return at;
	}
	return UPCI_IOVA_ANY;
}

/* Does the device's IOMMU pick bus addresses (the dext's DART)? Learnt
 * from a buffer: 1, 0, or -1 with the failure recorded. */
static int picks_bus(struct conf *c, upci_dev *d)
{
	struct upci_dma_buf b = {0};
	int picks;

	CHECK_RC(c, upci_dma_alloc(d, UPCI_IOVA_ANY, c->page, &b), 0);
	picks = b.bus_addr != b.iova;
	CHECK_RC(c, upci_dma_free(d, &b), 0);
	return picks;
out:
	return -1;
}

static uint64_t bus_of(struct conf *c, upci_dev *d, const void *va, int *ok)
{
	uint64_t b = 0;
	int rc = upci_dma_vaddr_to_bus(d, va, 1, NULL, &b);

	if (rc)
		conf_fail(c, "upci_dma_vaddr_to_bus(%p): expected 0, got %s", va, conf_rc(rc));
	*ok = rc == 0;
	return b;
}

/* ---- the device's own DMA engine ---- */

static int edu_copy(struct conf *c, upci_dev *d, uint64_t src, uint64_t dst, uint32_t len)
{
	const uint64_t cmds[2] = {0, EDU_DMA_CMD_TO_RAM};
	const uint64_t from[2] = {src, EDU_DMA_START}, to[2] = {EDU_DMA_START, dst};
	uint64_t last = 0;

	if (src > EDU_DMA_MASK - len || dst > EDU_DMA_MASK - len) {
		conf_note(c, "bus address 0x%" PRIx64 " or 0x%" PRIx64 " is beyond the edu's 28-bit DMA mask: no copy",
			  src, dst);
		return 1;
	}
	for (int i = 0; i < 2; i++) {
		int rc;

		MMIO_WR(c, d, EDU_BAR, EDU_REG_DMA_SRC, 8, from[i]);
		MMIO_WR(c, d, EDU_BAR, EDU_REG_DMA_DST, 8, to[i]);
		MMIO_WR(c, d, EDU_BAR, EDU_REG_DMA_COUNT, 8, len);
		MMIO_WR(c, d, EDU_BAR, EDU_REG_DMA_CMD, 8, cmds[i] | EDU_DMA_CMD_START);
		rc = conf_poll_mmio(d, EDU_BAR, EDU_REG_DMA_CMD, 8, EDU_DMA_CMD_START, 0, CONF_TIMEOUT_MS, &last);
		CHECK(c, rc == 0, "edu DMA 0x%" PRIx64 " -> 0x%" PRIx64 ": START did not clear (%s)", from[i], to[i],
		      conf_rc(rc));
	}
	return 0;
out:
	return -1;
}

static int td_copy(struct conf *c, upci_dev *d, uint64_t src, uint64_t dst, uint32_t len)
{
	struct testdev_desc x = {src, dst, len, 0, 0, 0};
	struct upci_dma_buf list = {0};
	uint64_t st = 0;
	int rc, ret = -1;

	CHECK_RC(c, upci_dma_alloc(d, UPCI_IOVA_ANY, c->page, &list), 0);
	memcpy(list.vaddr, &x, sizeof(x));
	MMIO_WR(c, d, TESTDEV_BAR_REGS, TESTDEV_REG_DESC_ADDR, 4, list.bus_addr & UINT32_MAX);
	MMIO_WR(c, d, TESTDEV_BAR_REGS, TESTDEV_REG_DESC_ADDR_HI, 4, list.bus_addr >> 32);
	MMIO_WR(c, d, TESTDEV_BAR_REGS, TESTDEV_REG_DESC_COUNT, 4, 1);
	MMIO_WR(c, d, TESTDEV_BAR_REGS, TESTDEV_REG_CTRL, 4, TESTDEV_CTRL_START);
	rc = conf_poll_mmio(d, TESTDEV_BAR_REGS, TESTDEV_REG_STATUS, 4, TESTDEV_STATUS_DONE, TESTDEV_STATUS_DONE,
			    CONF_TIMEOUT_MS, &st);
	CHECK(c, rc == 0, "testdev copy 0x%" PRIx64 " -> 0x%" PRIx64 ": STATUS.DONE not set (%s)", src, dst, conf_rc(rc));
	CHECK(c, st == TESTDEV_STATUS_DONE, "testdev copy 0x%" PRIx64 " -> 0x%" PRIx64 ": STATUS 0x%" PRIx64
	      " (the device could not reach it)", src, dst, st);
	ret = 0;
out:
	if (list.vaddr)
		upci_dma_free(d, &list);
	return ret;
}

/* Device @d copies @len bytes from bus address @src to @dst: 0; -1 with
 * the failure recorded; 1 when it cannot (no DMA engine known, or out of
 * its reach): the caller then has no copy to check. */
static int dev_copy(struct conf *c, upci_dev *d, uint64_t src, uint64_t dst, uint32_t len)
{
	struct upci_identity id;

	CHECK_RC(c, upci_identity(d, &id), 0);
	CHECK_RC(c, conf_bus_master(d, 1), 0);
	if (id.vendor_id == EDU_VENDOR_ID && id.device_id == EDU_DEVICE_ID)
		return edu_copy(c, d, src, dst, len);
	if (id.vendor_id == TESTDEV_VENDOR_ID && id.device_id == TESTDEV_DEVICE_ID)
		return td_copy(c, d, src, dst, len);
	conf_note(c, "no DMA engine known for %04x:%04x: no copy", id.vendor_id, id.device_id);
	return 1;
out:
	return -1;
}

/* ---- IOVA ranges ---- */

static void dma_iova_ranges(struct conf *c)
{
	struct upci_iova_range r[MAX_RANGES + 1], t[2];
	struct upci_dma_buf b = {0}, x = {0};
	uint64_t hole = 0;
	upci_dev *d = NULL;
	int n, rc;

	OPEN_CLAIMED(c, &d);
	n = ranges_of(c, d, r);
	if (n < 0)
		goto out;
	CHECK_RC(c, upci_dma_iova_ranges(d, NULL, 0), n);
	for (int i = 0; i < n; i++) {
		conf_note(c, "IOVA range 0x%" PRIx64 "..0x%" PRIx64, r[i].start, r[i].last);
		CHECK(c, r[i].start <= r[i].last, "range %d is inverted", i);
		CHECK(c, i == 0 || (r[i - 1].last < UINT64_MAX && r[i].start > r[i - 1].last + 1),
		      "ranges %d and %d are not sorted, disjoint and apart", i - 1, i);
	}
	/* Fewer slots: the whole count, and nothing written past them. */
	memset(t, 0xee, sizeof(t));
	CHECK_RC(c, upci_dma_iova_ranges(d, t, 1), n);
	CHECK(c, t[0].start == r[0].start && t[0].last == r[0].last, "a one-slot answer differs from the full one");
	CHECK_EQ(c, "slot past @max", t[1].start, 0xeeeeeeeeeeeeeeeeull);
	CHECK_RC(c, upci_dma_iova_ranges(d, NULL, 1), -EINVAL);
	CHECK_RC(c, upci_dma_iova_ranges(NULL, t, 1), -EINVAL);
	/* UPCI_IOVA_ANY comes from the ranges, lowest first. */
	CHECK_RC(c, upci_dma_alloc(d, UPCI_IOVA_ANY, c->page, &b), 0);
	CHECK(c, inside(r, n, b.iova, b.size), "UPCI_IOVA_ANY buffer at 0x%" PRIx64 " is outside the ranges", b.iova);
	CHECK_EQ(c, "first UPCI_IOVA_ANY buffer", b.iova, first_any(r, n, b.size, c->page));
	/* An IOVA outside the ranges (the first hole above 1 MiB, or past
	 * the last range) is -ERANGE. */
	for (int i = 0; i < n && !hole; i++) {
		uint64_t at = r[i].last < UINT64_MAX ? page_up(r[i].last + 1, c->page) : 0;
		uint64_t next = i + 1 < n ? r[i + 1].start : 0;

		if (at && at >= ANY_MIN && (i + 1 == n ? at <= UINT64_MAX - c->page : next - at >= c->page))
			hole = at;
	}
	if (hole) {
		rc = upci_dma_alloc(d, hole, c->page, &x);
		if (rc == 0)
			upci_dma_free(d, &x);
		CHECK(c, rc == -ERANGE, "upci_dma_alloc at 0x%" PRIx64 " (outside the ranges): expected -ERANGE, got %s",
		      hole, conf_rc(rc));
	} else {
		conf_note(c, "no IOVA outside the ranges to try");
	}
out:
	if (b.vaddr)
		upci_dma_free(d, &b);
	upci_close(d);
}

/* ---- any-IOVA maps of caller memory ---- */

static void dma_map_any(struct conf *c)
{
	struct upci_iova_range r[MAX_RANGES];
	uint8_t *m = NULL;
	upci_dev *d = NULL;
	uint64_t i1 = 0, b1 = 0, i2 = 0, b2 = 0, iova, bus;
	void *va;
	int n, rc, cp;

	m = anon(4 * c->page);
	CHECK(c, m != NULL, "mmap failed");
	OPEN_CLAIMED(c, &d);
	n = ranges_of(c, d, r);
	if (n < 0)
		goto out;
	rc = upci_dma_map_any(d, m, c->page, 0, &i1, &b1);
	if (rc == -ENOTSUP)
		SKIP(c, "this backend cannot DMA to memory without an fd (upci_dma_map_any: -ENOTSUP)");
	CHECK_RC(c, rc, 0);
	conf_note(c, "iova 0x%" PRIx64 " -> bus 0x%" PRIx64, i1, b1);
	CHECK_EQ(c, "first any-IOVA mapping (lowest free at or above 1 MiB)", i1, first_any(r, n, c->page, c->page));
	/* One direction where the backend can keep the device to it; a
	 * backend that cannot refuses the flag (upci.h: "dext:"). */
	rc = upci_dma_map_any(d, m + c->page, 2 * c->page, UPCI_DMA_WRITE, &i2, &b2);
	if (rc == -ENOTSUP)
		rc = upci_dma_map_any(d, m + c->page, 2 * c->page, UPCI_DMA_RW, &i2, &b2);
	CHECK_RC(c, rc, 0);
	CHECK(c, i2 % c->page == 0 && inside(r, n, i2, 2 * c->page) && (i2 >= i1 + c->page || i2 + 2 * c->page <= i1),
	      "second mapping at 0x%" PRIx64 " overlaps the first or leaves the ranges", i2);
	CHECK(c, b2 >= b1 + c->page || b2 + 2 * c->page <= b1, "bus ranges 0x%" PRIx64 " and 0x%" PRIx64 " overlap",
	      b1, b2);
	/* Translation both ways. */
	CHECK_RC(c, upci_dma_vaddr_to_bus(d, m + c->page + 5, 10, &iova, &bus), 0);
	CHECK_EQ(c, "IOVA of a byte of the second mapping", iova, i2 + 5);
	CHECK_EQ(c, "bus address of a byte of the second mapping", bus, b2 + 5);
	CHECK_RC(c, upci_dma_bus_to_vaddr(d, b2 + 5, 10, &va), 0);
	CHECK(c, va == m + c->page + 5, "upci_dma_bus_to_vaddr: %p, expected %p", va, (void *)(m + c->page + 5));
	/* The device copies one into the other. */
	conf_fill(m, COPY_LEN, 41);
	memset(m + c->page, 0, COPY_LEN);
	cp = dev_copy(c, d, b1, b2, COPY_LEN);
	if (cp < 0)
		goto out;
	if (cp == 0) {
		long at = conf_diff(m + c->page, m, COPY_LEN);

		CHECK(c, at < 0, "device copy between any-IOVA mappings differs at byte %ld", at);
	}
	/* Unmapped by its IOVA; the freed IOVA is the lowest again. */
	CHECK_RC(c, upci_dma_unmap(d, i1), 0);
	CHECK_RC(c, upci_dma_unmap(d, i1), -ENOENT);
	CHECK_RC(c, upci_dma_vaddr_to_bus(d, m, 1, &iova, &bus), -ENOENT);
	CHECK_RC(c, upci_dma_map_any(d, m + 3 * c->page, c->page, 0, &iova, &bus), 0);
	CHECK_EQ(c, "any-IOVA mapping after an unmap", iova, i1);
	CHECK_RC(c, upci_dma_unmap(d, iova), 0);
	CHECK_RC(c, upci_dma_unmap(d, i2), 0);
	/* Arguments. */
	CHECK_RC(c, upci_dma_map_any(d, m + 1, c->page, 0, &iova, &bus), -EINVAL);
	CHECK_RC(c, upci_dma_map_any(d, m, c->page - 1, 0, &iova, &bus), -EINVAL);
	CHECK_RC(c, upci_dma_map_any(d, m, c->page, 0x40, &iova, &bus), -EINVAL);
	CHECK_RC(c, upci_dma_map_any(d, m, c->page, 0, NULL, &bus), -EINVAL);
out:
	upci_close(d);
	if (m)
		munmap(m, 4 * c->page);
}

/* ---- scatter lists ---- */

static void dma_map_sg(struct conf *c)
{
	struct upci_dma_buf out = {0};
	struct upci_dma_seg sg[3];
	uint8_t *m = NULL;
	upci_dev *d = NULL;
	uint64_t iova = UPCI_IOVA_ANY, bus = 0, at, b;
	void *va;
	int rc, picks, cp;

	m = anon(6 * c->page);
	CHECK(c, m != NULL, "mmap failed");
	for (int i = 0; i < 3; i++)
		sg[i] = (struct upci_dma_seg){m + 2 * i * c->page, c->page}; /* every other page */
	conf_fill(m, 6 * c->page, 42);
	OPEN_CLAIMED(c, &d);
	picks = picks_bus(c, d);
	if (picks < 0)
		goto out;
	rc = upci_dma_map_sg(d, sg, 3, 0, &iova, &bus);
	if (rc == -ENOTSUP)
		SKIP(c, "this backend cannot DMA to memory without an fd (upci_dma_map_sg: -ENOTSUP)");
	if (rc == -ERANGE && picks) {
		/* upci.h: an IOMMU that picks bus addresses need not keep
		 * the pieces contiguous; then nothing stays mapped. */
		CHECK_RC(c, upci_dma_vaddr_to_bus(d, m, 1, &at, &b), -ENOENT);
		conf_note(c, "the IOMMU picks bus addresses and did not keep the list contiguous: -ERANGE");
		goto out;
	}
	CHECK_RC(c, rc, 0);
	CHECK(c, iova != UPCI_IOVA_ANY && iova >= ANY_MIN && iova % c->page == 0, "list at IOVA 0x%" PRIx64, iova);
	for (int i = 0; i < 3; i++) {
		CHECK_RC(c, upci_dma_vaddr_to_bus(d, sg[i].vaddr, c->page, &at, &b), 0);
		CHECK_EQ(c, "IOVA of a piece", at, iova + (uint64_t)i * c->page);
		CHECK_EQ(c, "bus address of a piece", b, bus + (uint64_t)i * c->page);
		CHECK_RC(c, upci_dma_bus_to_vaddr(d, b + 7, 1, &va), 0);
		CHECK(c, va == (uint8_t *)sg[i].vaddr + 7, "bus -> process address of piece %d", i);
	}
	/* Contiguous for the device: it reads across a boundary. */
	CHECK_RC(c, upci_dma_alloc(d, UPCI_IOVA_ANY, c->page, &out), 0);
	cp = dev_copy(c, d, bus + c->page - 1000, out.bus_addr, 2000);
	if (cp < 0)
		goto out;
	if (cp == 0) {
		long x = conf_diff(out.vaddr, m + c->page - 1000, 1000);

		if (x < 0)
			x = conf_diff((uint8_t *)out.vaddr + 1000, m + 2 * c->page, 1000);
		CHECK(c, x < 0, "device read across pieces 0 and 1 differs (byte %ld of a half)", x);
	}
	/* One mapping: only its first IOVA unmaps it, and all of it. */
	CHECK_RC(c, upci_dma_unmap(d, iova + c->page), -ENOENT);
	CHECK_RC(c, upci_dma_unmap(d, iova), 0);
	for (int i = 0; i < 3; i++)
		CHECK_RC(c, upci_dma_vaddr_to_bus(d, sg[i].vaddr, 1, &at, &b), -ENOENT);
	CHECK_RC(c, upci_dma_bus_to_vaddr(d, bus + c->page, 1, &va), -ENOENT);
out:
	if (out.vaddr)
		upci_dma_free(d, &out);
	upci_close(d);
	if (m)
		munmap(m, 6 * c->page);
}

static void dma_map_sg_errors(struct conf *c)
{
	struct upci_dma_buf in_way = {0};
	struct upci_dma_seg sg[2], bad[2];
	uint8_t *m = NULL;
	upci_dev *d = NULL;
	uint64_t iova, bus, at, b;
	int rc;

	m = anon(4 * c->page);
	CHECK(c, m != NULL, "mmap failed");
	sg[0] = (struct upci_dma_seg){m, c->page};
	sg[1] = (struct upci_dma_seg){m + 2 * c->page, c->page};
	OPEN_CLAIMED(c, &d);
	iova = UPCI_IOVA_ANY;
	CHECK_RC(c, upci_dma_map_sg(d, sg, 0, 0, &iova, &bus), -EINVAL);
	CHECK_RC(c, upci_dma_map_sg(d, sg, UPCI_DMA_SEG_MAX + 1, 0, &iova, &bus), -EINVAL);
	CHECK_RC(c, upci_dma_map_sg(d, NULL, 1, 0, &iova, &bus), -EINVAL);
	CHECK_RC(c, upci_dma_map_sg(d, sg, 2, 0x40, &iova, &bus), -EINVAL);
	CHECK_RC(c, upci_dma_map_sg(d, sg, 2, 0, NULL, &bus), -EINVAL);
	CHECK_RC(c, upci_dma_map_sg(d, sg, 2, 0, &iova, NULL), -EINVAL);
	memcpy(bad, sg, sizeof(bad));
	bad[1].vaddr = m + 1;
	CHECK_RC(c, upci_dma_map_sg(d, bad, 2, 0, &iova, &bus), -EINVAL);
	memcpy(bad, sg, sizeof(bad));
	bad[1].len = 0;
	CHECK_RC(c, upci_dma_map_sg(d, bad, 2, 0, &iova, &bus), -EINVAL);
	bad[1].len = UINT64_MAX - c->page + 1;
	CHECK_RC(c, upci_dma_map_sg(d, bad, 2, 0, &iova, &bus), -EOVERFLOW);
	iova = ANY_MIN + 1;
	CHECK_RC(c, upci_dma_map_sg(d, sg, 2, 0, &iova, &bus), -EINVAL);
	iova = UINT64_MAX - c->page + 1;
	CHECK_RC(c, upci_dma_map_sg(d, sg, 2, 0, &iova, &bus), -EOVERFLOW);
	/* The second piece would overlap a buffer: nothing stays mapped. */
	CHECK_RC(c, upci_dma_alloc(d, 0x4000000 + c->page, c->page, &in_way), 0);
	iova = 0x4000000;
	rc = upci_dma_map_sg(d, sg, 2, 0, &iova, &bus);
	CHECK(c, rc == -EEXIST || rc == -ENOTSUP, "list over a buffer: expected -EEXIST (or -ENOTSUP: memory without "
	      "an fd out of reach), got %s", conf_rc(rc));
	CHECK_EQ(c, "IOVA after a failed map", iova, 0x4000000);
	CHECK_RC(c, upci_dma_vaddr_to_bus(d, m, 1, &at, &b), -ENOENT);
out:
	if (in_way.vaddr)
		upci_dma_free(d, &in_way);
	upci_close(d);
	if (m)
		munmap(m, 4 * c->page);
}

/* ---- translation (on buffers: every backend reaches those) ---- */

static void dma_translate(struct conf *c)
{
	struct upci_dma_buf a = {0}, x = {0};
	upci_dev *d = NULL;
	uint64_t iova, bus, stack = 0;
	void *va;

	OPEN_CLAIMED(c, &d);
	CHECK_RC(c, upci_dma_alloc(d, UPCI_IOVA_ANY, 2 * c->page, &a), 0);
	CHECK_RC(c, upci_dma_vaddr_to_bus(d, (uint8_t *)a.vaddr + c->page + 3, 8, &iova, &bus), 0);
	CHECK_EQ(c, "IOVA of buffer byte page+3", iova, a.iova + c->page + 3);
	CHECK_EQ(c, "bus address of buffer byte page+3", bus, a.bus_addr + c->page + 3);
	CHECK_RC(c, upci_dma_vaddr_to_bus(d, a.vaddr, a.size, NULL, NULL), 0); /* the whole of it */
	CHECK_RC(c, upci_dma_bus_to_vaddr(d, a.bus_addr + c->page + 3, 8, &va), 0);
	CHECK(c, va == (uint8_t *)a.vaddr + c->page + 3, "bus -> process address: %p, expected %p", va,
	      (void *)((uint8_t *)a.vaddr + c->page + 3));
	/* Past the end of the mapping; memory nobody mapped. */
	CHECK_RC(c, upci_dma_vaddr_to_bus(d, (uint8_t *)a.vaddr + a.size - 4, 8, &iova, &bus), -ERANGE);
	CHECK_RC(c, upci_dma_bus_to_vaddr(d, a.bus_addr + a.size - 4, 8, &va), -ERANGE);
	CHECK_RC(c, upci_dma_vaddr_to_bus(d, &stack, sizeof(stack), &iova, &bus), -ENOENT);
	/* Arguments. */
	CHECK_RC(c, upci_dma_vaddr_to_bus(d, a.vaddr, 0, &iova, &bus), -EINVAL);
	CHECK_RC(c, upci_dma_vaddr_to_bus(d, NULL, 1, &iova, &bus), -EINVAL);
	CHECK_RC(c, upci_dma_bus_to_vaddr(d, a.bus_addr, 0, &va), -EINVAL);
	CHECK_RC(c, upci_dma_bus_to_vaddr(d, a.bus_addr, 1, NULL), -EINVAL);
	CHECK_RC(c, upci_dma_bus_to_vaddr(d, UINT64_MAX, 2, &va), -EINVAL);
	x = a;
	CHECK_RC(c, upci_dma_free(d, &a), 0);
	CHECK_RC(c, upci_dma_vaddr_to_bus(d, x.vaddr, 1, &iova, &bus), -ENOENT);
	CHECK_RC(c, upci_dma_bus_to_vaddr(d, x.bus_addr, 1, &va), -ENOENT);
out:
	if (a.vaddr)
		upci_dma_free(d, &a);
	upci_close(d);
}

/* ---- huge pages ---- */

/* Free 2 MiB pages nobody has reserved yet, or -1 when unknown. */
static long huge_free(void)
{
#ifdef __linux__
	FILE *f = fopen("/proc/meminfo", "r");
	long fr = -1, rsvd = 0;
	char line[128];

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "HugePages_Free: %ld", &fr);
		sscanf(line, "HugePages_Rsvd: %ld", &rsvd);
	}
	fclose(f);
	return fr < 0 ? -1 : fr - rsvd;
#else
	return -1;
#endif
}

static void dma_alloc_huge(struct conf *c)
{
	struct upci_dma_buf h = {0}, x = {0}, out = {0};
	upci_dev *d = NULL;
	long avail = huge_free();
	int rc, cp;

	OPEN_CLAIMED(c, &d);
	CHECK_RC(c, upci_dma_alloc_flags(d, UPCI_IOVA_ANY, c->page, 0x80, &x), -EINVAL);
#ifndef __linux__
	CHECK_RC(c, upci_dma_alloc_flags(d, UPCI_IOVA_ANY, 1, UPCI_DMA_ALLOC_HUGE, &x), -ENOTSUP);
	goto out;
#endif
	if (avail < 0) {
		/* A kernel without hugetlbfs (no HugePages_* in /proc/meminfo):
		 * upci.h says -ENOTSUP. */
		CHECK_RC(c, upci_dma_alloc_flags(d, UPCI_IOVA_ANY, 1, UPCI_DMA_ALLOC_HUGE, &x), -ENOTSUP);
		goto out;
	}
	conf_note(c, "%ld free 2 MiB pages", avail);
	/* One page more than the pool has: -ENOMEM (none reserved: 1 page). */
	rc = upci_dma_alloc_flags(d, UPCI_IOVA_ANY, (uint64_t)(avail + 1) * HUGE, UPCI_DMA_ALLOC_HUGE, &x);
	if (rc == -ENOTSUP)
		SKIP(c, "this kernel has no 2 MiB hugetlbfs pages");
	if (rc == 0)
		upci_dma_free(d, &x);
	CHECK(c, rc == -ENOMEM, "%ld huge pages asked with %ld free: expected -ENOMEM, got %s", avail + 1, avail,
	      conf_rc(rc));
	if (avail < 2) {
		conf_note(c, "fewer than 2 free huge pages: only the -ENOMEM side is tested");
		goto out;
	}
	rc = upci_dma_alloc_flags(d, UPCI_IOVA_ANY, 3 * (HUGE / 2), UPCI_DMA_ALLOC_HUGE, &h);
	if (rc == -ENOMEM && huge_free() < 2) {
		/* Another process (a parallel test) took the pool meanwhile. */
		conf_note(c, "the free huge pages were taken meanwhile: -ENOMEM, as documented");
		goto out;
	}
	CHECK_RC(c, rc, 0);
	CHECK_EQ(c, "huge buffer size (rounded up to 2 MiB)", h.size, 2 * HUGE);
	CHECK_EQ(c, "huge buffer IOVA % 2 MiB", h.iova % HUGE, 0);
	CHECK_EQ(c, "huge buffer address % 2 MiB", (uintptr_t)h.vaddr % HUGE, 0);
	CHECK(c, conf_find_not(h.vaddr, h.size, 0) < 0, "huge buffer not zeroed");
	CHECK(c, h.fd >= 0, "no fd behind the huge buffer");
	/* The device reaches it across the 2 MiB page boundary. */
	conf_fill((uint8_t *)h.vaddr + HUGE - 1000, 2000, 43);
	CHECK_RC(c, upci_dma_alloc(d, UPCI_IOVA_ANY, c->page, &out), 0);
	cp = dev_copy(c, d, h.bus_addr + HUGE - 1000, out.bus_addr, 2000);
	if (cp < 0)
		goto out;
	CHECK(c, cp != 0 || conf_diff(out.vaddr, (uint8_t *)h.vaddr + HUGE - 1000, 2000) < 0,
	      "device copy out of the huge buffer differs");
out:
	if (h.vaddr)
		upci_dma_free(d, &h);
	if (out.vaddr)
		upci_dma_free(d, &out);
	upci_close(d);
}

/* ---- DMA spaces ---- */

static void dma_space_one(struct conf *c)
{
	struct upci_dma_buf src = {0}, dst = {0}, x = {0};
	upci_dma_space *sp = NULL;
	upci_dev *d = NULL;
	uint8_t *m = NULL;
	uint64_t bus, db;
	int rc, mem = 0, ok, ok2;

	m = anon(c->page);
	CHECK(c, m != NULL, "mmap failed");
	CHECK_RC(c, upci_dma_space_create(&sp), 0);
	OPEN(c, &d);
	CHECK_RC(c, upci_dma_space_join(sp, d), -EPERM);
	CHECK_RC(c, upci_claim(d), 0);
	CHECK_RC(c, upci_dma_alloc(d, UPCI_IOVA_ANY, c->page, &x), 0);
	CHECK_RC(c, upci_dma_space_join(sp, d), -EBUSY); /* has a buffer of its own */
	CHECK_RC(c, upci_dma_free(d, &x), 0);
	/* Caller memory mapped before the device joins: the join makes it. */
	rc = upci_dma_space_map(sp, 0x3000000, m, c->page, 0);
	CHECK_RC(c, rc, 0);
	rc = upci_dma_space_join(sp, d);
	if (rc == -ENOTSUP) {
		conf_note(c, "memory without an fd is out of reach: the space keeps buffers only");
		CHECK_RC(c, upci_dma_space_unmap(sp, 0x3000000), 0);
		rc = upci_dma_space_join(sp, d);
	} else {
		mem = 1;
	}
	CHECK_RC(c, rc, 0);
	CHECK_RC(c, upci_dma_space_join(sp, d), -EBUSY);
	CHECK_RC(c, upci_release(d), -EBUSY);
	CHECK_RC(c, upci_dma_space_destroy(sp), -EBUSY);
	/* The device's own calls go to the space. */
	CHECK_RC(c, upci_dma_alloc(d, UPCI_IOVA_ANY, c->page, &src), 0);
	CHECK_RC(c, upci_dma_alloc(d, UPCI_IOVA_ANY, c->page, &dst), 0);
	CHECK_RC(c, upci_dma_space_unmap(sp, src.iova), -EINVAL); /* a buffer */
	conf_fill(src.vaddr, COPY_LEN, 44);
	rc = dev_copy(c, d, src.bus_addr, dst.bus_addr, COPY_LEN);
	if (rc < 0)
		goto out;
	CHECK(c, rc || conf_diff(dst.vaddr, src.vaddr, COPY_LEN) < 0, "copy between buffers of the space differs");
	if (mem && rc == 0) {
		bus = bus_of(c, d, m, &ok);
		if (!ok)
			goto out;
		if (dev_copy(c, d, dst.bus_addr, bus, COPY_LEN) < 0)
			goto out;
		CHECK(c, conf_diff(m, src.vaddr, COPY_LEN) < 0, "copy into the space's caller memory differs");
	}
	/* Leaving takes the space's memory away from the device; the space
	 * keeps it; joining again gives it back. */
	CHECK_RC(c, upci_dma_space_leave(sp, d), 0);
	CHECK_RC(c, upci_dma_vaddr_to_bus(d, src.vaddr, 1, NULL, &bus), -ENOENT);
	CHECK_RC(c, upci_dma_free(d, &src), -ENOENT); /* not the device's any more */
	CHECK_RC(c, upci_dma_space_leave(sp, d), -ENOENT);
	CHECK_RC(c, upci_dma_space_join(sp, d), 0);
	/* Made again: an IOMMU that picks bus addresses may pick others. */
	bus = bus_of(c, d, src.vaddr, &ok);
	db = bus_of(c, d, dst.vaddr, &ok2);
	if (!ok || !ok2)
		goto out;
	memset(dst.vaddr, 0, COPY_LEN);
	rc = dev_copy(c, d, bus, db, COPY_LEN);
	if (rc < 0)
		goto out;
	CHECK(c, rc || conf_diff(dst.vaddr, src.vaddr, COPY_LEN) < 0, "copy after joining again differs");
	CHECK_RC(c, upci_dma_free(d, &src), 0);
	CHECK_RC(c, upci_dma_space_leave(sp, d), 0);
	CHECK_RC(c, upci_release(d), 0);
	CHECK_RC(c, upci_dma_space_destroy(sp), 0); /* forgets dst and the caller memory */
	sp = NULL;
	dst.vaddr = NULL;
out:
	upci_close(d);
	upci_dma_space_destroy(sp);
	if (m)
		munmap(m, c->page);
}

/* Two devices, one IOVA space: a buffer made through one is reached by
 * the other, at each device's own bus address, also once the first has
 * gone. Needs --peer URI. */
static void dma_space_peer(struct conf *c)
{
	struct upci_dma_buf a = {0}, b = {0};
	upci_dma_space *sp = NULL;
	upci_dev *d = NULL, *p = NULL;
	uint64_t da, db, pa, pb, iova;
	int rc, ok;

	if (!c->peer)
		SKIP(c, "no second device (--peer URI)");
	CHECK_RC(c, upci_dma_space_create(&sp), 0);
	OPEN_CLAIMED(c, &d);
	rc = upci_open(&p, c->peer);
	CHECK(c, rc == 0, "upci_open(\"%s\") (the peer): %s", c->peer, conf_rc(rc));
	CHECK_RC(c, upci_claim(p), 0);
	CHECK_RC(c, upci_dma_space_join(sp, d), 0);
	CHECK_RC(c, upci_dma_space_join(sp, p), 0);
	CHECK_RC(c, upci_dma_alloc(d, UPCI_IOVA_ANY, c->page, &a), 0);
	CHECK_RC(c, upci_dma_alloc(p, UPCI_IOVA_ANY, c->page, &b), 0);
	/* One IOVA, a bus address per device. */
	CHECK_RC(c, upci_dma_vaddr_to_bus(p, a.vaddr, a.size, &iova, &pa), 0);
	CHECK_EQ(c, "the peer's IOVA of the buffer", iova, a.iova);
	da = a.bus_addr;
	pb = bus_of(c, p, b.vaddr, &ok);
	if (!ok)
		goto out;
	conf_note(c, "buffer at IOVA 0x%" PRIx64 ": bus 0x%" PRIx64 " for the device, 0x%" PRIx64 " for the peer", a.iova,
		  da, pa);
	conf_fill(a.vaddr, COPY_LEN, 45);
	/* The peer's device copies the device's buffer into its own. */
	rc = dev_copy(c, p, pa, pb, COPY_LEN);
	if (rc)
		goto out;
	CHECK(c, conf_diff(b.vaddr, a.vaddr, COPY_LEN) < 0, "the peer's copy of the device's buffer differs");
	/* The device copies the peer's buffer back into its own, zeroed first. */
	db = bus_of(c, d, b.vaddr, &ok);
	if (!ok)
		goto out;
	memset(a.vaddr, 0, COPY_LEN);
	rc = dev_copy(c, d, db, da, COPY_LEN);
	if (rc)
		goto out;
	CHECK(c, conf_diff(a.vaddr, b.vaddr, COPY_LEN) < 0, "the device's copy of the peer's buffer differs");
	/* The device closes: its buffer stays the space's, the peer reaches it. */
	upci_close(d);
	d = NULL;
	memset(b.vaddr, 0, COPY_LEN);
	conf_fill(a.vaddr, COPY_LEN, 46);
	rc = dev_copy(c, p, pa, pb, COPY_LEN);
	if (rc)
		goto out;
	CHECK(c, conf_diff(b.vaddr, a.vaddr, COPY_LEN) < 0, "after the device closed, the peer's copy differs");
	CHECK_RC(c, upci_dma_free(p, &a), 0);
	CHECK_RC(c, upci_dma_free(p, &b), 0);
	CHECK_RC(c, upci_dma_space_leave(sp, p), 0);
	CHECK_RC(c, upci_dma_space_destroy(sp), 0);
	sp = NULL;
out:
	upci_close(d);
	upci_close(p);
	upci_dma_space_destroy(sp);
}

const struct conf_case conf_dma_cases[] = {
	{"dma.iova_ranges", CONF_NEED_DEV, dma_iova_ranges},
	{"dma.map_any", CONF_NEED_DEV, dma_map_any},
	{"dma.map_sg", CONF_NEED_DEV, dma_map_sg},
	{"dma.map_sg_errors", CONF_NEED_DEV, dma_map_sg_errors},
	{"dma.translate", CONF_NEED_DEV, dma_translate},
	{"dma.alloc_huge", CONF_NEED_DEV, dma_alloc_huge},
	{"dma.space_one", CONF_NEED_DEV, dma_space_one},
	{"dma.space_peer", CONF_NEED_DEV, dma_space_peer},
};
const size_t conf_dma_count = sizeof(conf_dma_cases) / sizeof(conf_dma_cases[0]);

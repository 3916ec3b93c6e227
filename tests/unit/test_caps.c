/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/core/caps.c: config spaces are built by hand in heap
 * buffers of exactly 256 or 4096 bytes, so that under ASan any read past the
 * end of a snapshot is a test failure.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "caps.h"
#include "pci_regs.h"

/* IDs the tests use that pci_regs.h does not name. */
#define TEST_EXT_CAP_ID_SRIOV 0x0010u
#define TEST_EXT_CAP_ID_ACS   0x000du
#define TEST_CAP_ID_ABSENT    0x0au /* Debug port: never put in a test chain */

/* Offsets of the standard test chain: PM -> MSI -> PCIe -> MSI-X. */
#define OFF_PM   0x40u
#define OFF_MSI  0x50u
#define OFF_EXP  0x70u
#define OFF_MSIX 0xb0u

#define EXT_SLOTS ((PCIE_CFG_SIZE - PCI_EXT_CAP_START) / 4u)

static uint8_t *new_cfg(size_t size)
{
	uint8_t *b = calloc(1, size);

	assert_non_null(b);
	return b;
}

static void put16(uint8_t *b, size_t off, uint16_t v)
{
	b[off] = (uint8_t)v;
	b[off + 1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *b, size_t off, uint32_t v)
{
	put16(b, off, (uint16_t)v);
	put16(b, off + 2, (uint16_t)(v >> 16));
}

static void set_cap_list(uint8_t *b, uint8_t first)
{
	put16(b, PCI_STATUS, PCI_STATUS_CAP_LIST);
	b[PCI_CAPABILITY_LIST] = first;
}

static void add_cap(uint8_t *b, unsigned off, uint8_t id, uint8_t next)
{
	b[off + PCI_CAP_LIST_ID] = id;
	b[off + PCI_CAP_LIST_NEXT] = next;
}

static void add_ext(uint8_t *b, unsigned off, uint16_t id, unsigned ver, unsigned next)
{
	put32(b, off, (uint32_t)id | (uint32_t)ver << 16 | (uint32_t)next << 20);
}

static struct cfg_snapshot snap(const uint8_t *b, size_t size)
{
	struct cfg_snapshot s = { .data = b, .size = size };
	return s;
}

/* A well-formed device: the four capabilities with known register values. */
static void build_std_chain(uint8_t *b)
{
	set_cap_list(b, OFF_PM);

	add_cap(b, OFF_PM, PCI_CAP_ID_PM, OFF_MSI);
	put16(b, OFF_PM + PCI_PM_PMC, 3u | PCI_PM_PMC_D1 | PCI_PM_PMC_D2);
	put16(b, OFF_PM + PCI_PM_CTRL, 3u | PCI_PM_CTRL_NO_SOFT_RESET);

	/* MSI, 64-bit with per-vector masking: 8 capable, 4 enabled. */
	add_cap(b, OFF_MSI, PCI_CAP_ID_MSI, OFF_EXP);
	put16(b, OFF_MSI + PCI_MSI_FLAGS,
	      PCI_MSI_FLAGS_ENABLE | 3u << PCI_MSI_FLAGS_QMASK_SHIFT | 2u << PCI_MSI_FLAGS_QSIZE_SHIFT |
		      PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT);
	put32(b, OFF_MSI + PCI_MSI_ADDRESS_LO, 0xfee00000u);
	put32(b, OFF_MSI + PCI_MSI_ADDRESS_HI, 0x1u);
	put16(b, OFF_MSI + PCI_MSI_DATA_64, 0x4021u);
	put32(b, OFF_MSI + PCI_MSI_MASK_64, 0xf0u);
	put32(b, OFF_MSI + PCI_MSI_PENDING_64, 0x5u);

	/* PCIe v2 endpoint, FLR, payload 256 capable and set, read req 512,
	 * link 8 GT/s x4 capable and trained. */
	add_cap(b, OFF_EXP, PCI_CAP_ID_EXP, OFF_MSIX);
	put16(b, OFF_EXP + PCI_EXP_FLAGS, 2u | PCI_EXP_TYPE_ENDPOINT << PCI_EXP_FLAGS_TYPE_SHIFT);
	put32(b, OFF_EXP + PCI_EXP_DEVCAP, PCI_EXP_DEVCAP_FLR | 1u);
	put16(b, OFF_EXP + PCI_EXP_DEVCTL,
	      1u << PCI_EXP_DEVCTL_PAYLOAD_SHIFT | 2u << PCI_EXP_DEVCTL_READRQ_SHIFT);
	put32(b, OFF_EXP + PCI_EXP_LNKCAP, 3u | 4u << PCI_EXP_LNKCAP_MLW_SHIFT);
	put16(b, OFF_EXP + PCI_EXP_LNKSTA, 3u | 4u << PCI_EXP_LNKSTA_NLW_SHIFT);

	/* MSI-X: 256 entries, table BAR0+0x1000, PBA BAR0+0x2000. */
	add_cap(b, OFF_MSIX, PCI_CAP_ID_MSIX, 0);
	put16(b, OFF_MSIX + PCI_MSIX_FLAGS, 255u | PCI_MSIX_FLAGS_ENABLE);
	put32(b, OFF_MSIX + PCI_MSIX_TABLE, 0x1000u | 0u);
	put32(b, OFF_MSIX + PCI_MSIX_PBA, 0x2000u | 0u);
}

/* ---- accessors ---------------------------------------------------------- */

static void test_accessors(void **state)
{
	(void)state;
	uint8_t *b = new_cfg(PCI_CFG_SIZE);
	struct cfg_snapshot s = snap(b, PCI_CFG_SIZE);

	put32(b, 0x10, 0x11223344u);
	assert_int_equal(cfg_get8(&s, 0x10), 0x44);
	assert_int_equal(cfg_get16(&s, 0x10), 0x3344);
	assert_int_equal(cfg_get16(&s, 0x12), 0x1122);
	assert_int_equal(cfg_get32(&s, 0x10), 0x11223344u);

	b[0xff] = 0xab;
	put16(b, 0xfe, 0xcdab);
	put32(b, 0xfc, 0xcdab1234u);
	assert_int_equal(cfg_get8(&s, 0xff), 0xcd);
	assert_int_equal(cfg_get16(&s, 0xfe), 0xcdab);
	assert_int_equal(cfg_get32(&s, 0xfc), 0xcdab1234u);
	/* Straddling or past the end: 0, and no read (ASan would say). */
	assert_int_equal(cfg_get8(&s, 0x100), 0);
	assert_int_equal(cfg_get16(&s, 0xff), 0);
	assert_int_equal(cfg_get32(&s, 0xfd), 0);
	assert_int_equal(cfg_get32(&s, SIZE_MAX), 0);
	assert_int_equal(cfg_get16(&s, SIZE_MAX - 1), 0);
	assert_int_equal(cfg_get32(NULL, 0), 0);
	s.data = NULL;
	assert_int_equal(cfg_get32(&s, 0), 0);
	free(b);
}

/* ---- standard walk ------------------------------------------------------ */

static void test_walk_normal_chain(void **state)
{
	(void)state;
	uint8_t *b = new_cfg(PCI_CFG_SIZE);
	struct cfg_snapshot s = snap(b, PCI_CFG_SIZE);
	struct cap_entry e[CAPS_MAX];
	size_t n = 99;

	build_std_chain(b);
	assert_int_equal(caps_walk(&s, e, CAPS_MAX, &n), 4);
	assert_int_equal(n, 4);
	assert_int_equal(e[0].id, PCI_CAP_ID_PM);
	assert_int_equal(e[0].offset, OFF_PM);
	assert_int_equal(e[1].id, PCI_CAP_ID_MSI);
	assert_int_equal(e[1].offset, OFF_MSI);
	assert_int_equal(e[2].id, PCI_CAP_ID_EXP);
	assert_int_equal(e[2].offset, OFF_EXP);
	assert_int_equal(e[3].id, PCI_CAP_ID_MSIX);
	assert_int_equal(e[3].offset, OFF_MSIX);
	assert_int_equal(e[3].version, 0);

	/* n_out is optional. */
	assert_int_equal(caps_walk(&s, e, CAPS_MAX, NULL), 4);
	free(b);
}

static void test_walk_no_cap_list_bit(void **state)
{
	(void)state;
	uint8_t *b = new_cfg(PCI_CFG_SIZE);
	struct cfg_snapshot s = snap(b, PCI_CFG_SIZE);
	struct cap_entry e[CAPS_MAX];
	size_t n = 99;

	build_std_chain(b);
	put16(b, PCI_STATUS, 0); /* pointer and capabilities stay in place */
	assert_int_equal(caps_walk(&s, e, CAPS_MAX, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(caps_find(&s, PCI_CAP_ID_MSI), 0);
	free(b);
}

static void test_walk_loop_two(void **state)
{
	(void)state;
	uint8_t *b = new_cfg(PCI_CFG_SIZE);
	struct cfg_snapshot s = snap(b, PCI_CFG_SIZE);
	struct cap_entry e[CAPS_MAX];
	size_t n = 99;

	set_cap_list(b, 0x40);
	add_cap(b, 0x40, PCI_CAP_ID_PM, 0x60);
	add_cap(b, 0x60, PCI_CAP_ID_MSI, 0x40);
	assert_int_equal(caps_walk(&s, e, CAPS_MAX, &n), -ELOOP);
	/* What came before the loop is kept. */
	assert_int_equal(n, 2);
	assert_int_equal(e[0].offset, 0x40);
	assert_int_equal(e[1].offset, 0x60);
	assert_int_equal(caps_find(&s, PCI_CAP_ID_MSI), 0x60);
	assert_int_equal(caps_find(&s, PCI_CAP_ID_MSIX), 0);
	free(b);
}

static void test_walk_self_loop(void **state)
{
	(void)state;
	uint8_t *b = new_cfg(PCI_CFG_SIZE);
	struct cfg_snapshot s = snap(b, PCI_CFG_SIZE);
	struct cap_entry e[CAPS_MAX];
	size_t n = 99;

	set_cap_list(b, 0x80);
	add_cap(b, 0x80, PCI_CAP_ID_VNDR, 0x80);
	assert_int_equal(caps_walk(&s, e, CAPS_MAX, &n), -ELOOP);
	assert_int_equal(n, 1);
	assert_int_equal(e[0].id, PCI_CAP_ID_VNDR);
	assert_int_equal(caps_find(&s, PCI_CAP_ID_MSI), 0);
	free(b);
}

static void test_walk_pointer_into_header(void **state)
{
	(void)state;
	uint8_t *b = new_cfg(PCI_CFG_SIZE);
	struct cfg_snapshot s = snap(b, PCI_CFG_SIZE);
	struct cap_entry e[CAPS_MAX];
	size_t n = 99;

	/* First pointer into the BARs. */
	set_cap_list(b, 0x10);
	b[0x10] = PCI_CAP_ID_MSI;
	assert_int_equal(caps_walk(&s, e, CAPS_MAX, &n), -ELOOP);
	assert_int_equal(n, 0);
	assert_int_equal(caps_find(&s, PCI_CAP_ID_MSI), 0);

	/* A later pointer to the last header dword. */
	set_cap_list(b, 0x40);
	add_cap(b, 0x40, PCI_CAP_ID_PM, 0x3c);
	assert_int_equal(caps_walk(&s, e, CAPS_MAX, &n), -ELOOP);
	assert_int_equal(n, 1);
	assert_int_equal(e[0].offset, 0x40);

	/* Pointer to the capability pointer itself. */
	add_cap(b, 0x40, PCI_CAP_ID_PM, PCI_CAPABILITY_LIST);
	assert_int_equal(caps_walk(&s, e, CAPS_MAX, &n), -ELOOP);
	assert_int_equal(n, 1);
	free(b);
}

static void test_walk_pointer_at_end(void **state)
{
	(void)state;
	uint8_t *b = new_cfg(PCI_CFG_SIZE);
	struct cfg_snapshot s = snap(b, PCI_CFG_SIZE);
	struct cap_entry e[CAPS_MAX];
	struct msi_decode msi;
	size_t n = 99;

	/* 0xff is 0xfc once the reserved bits go: the header is 0xfc/0xfd. */
	set_cap_list(b, 0xff);
	add_cap(b, 0xfc, PCI_CAP_ID_MSI, 0);
	b[0xff] = 0xff;
	assert_int_equal(caps_walk(&s, e, CAPS_MAX, &n), 1);
	assert_int_equal(e[0].offset, 0xfc);
	assert_int_equal(e[0].id, PCI_CAP_ID_MSI);
	/* An MSI capability there cannot fit: refused, not read past 0x100. */
	assert_int_equal(msi_decode(&s, &msi), -ERANGE);
	assert_int_equal(msi.offset, 0);

	/* Its next pointer 0xff masks back to itself. */
	b[0xfd] = 0xff;
	assert_int_equal(caps_walk(&s, e, CAPS_MAX, &n), -ELOOP);
	assert_int_equal(n, 1);
	free(b);
}

static void test_walk_low_bits_ignored(void **state)
{
	(void)state;
	uint8_t *b = new_cfg(PCI_CFG_SIZE);
	struct cfg_snapshot s = snap(b, PCI_CFG_SIZE);
	struct cap_entry e[CAPS_MAX];
	size_t n = 99;

	set_cap_list(b, 0x43);
	add_cap(b, 0x40, PCI_CAP_ID_PM, 0x52);
	add_cap(b, 0x50, PCI_CAP_ID_MSIX, 0x03); /* 0x03 -> 0: the end */
	assert_int_equal(caps_walk(&s, e, CAPS_MAX, &n), 2);
	assert_int_equal(e[0].offset, 0x40);
	assert_int_equal(e[1].offset, 0x50);
	assert_int_equal(e[1].id, PCI_CAP_ID_MSIX);
	free(b);
}

static void test_walk_full_chain(void **state)
{
	(void)state;
	uint8_t *b = new_cfg(PCI_CFG_SIZE);
	struct cfg_snapshot s = snap(b, PCI_CFG_SIZE);
	struct cap_entry e[CAPS_MAX];
	size_t n = 99;
	unsigned off;

	/* Every dword from 0x40 to 0xfc used: 48 entries, legal. */
	set_cap_list(b, 0x40);
	for (off = 0x40; off < PCI_CFG_SIZE; off += 4)
		add_cap(b, off, PCI_CAP_ID_VNDR, (uint8_t)(off + 4 < PCI_CFG_SIZE ? off + 4 : 0));
	assert_int_equal(caps_walk(&s, e, CAPS_MAX, &n), 48);
	assert_int_equal(e[47].offset, 0xfc);

	/* Close it into a ring: the last entry points back to the first. */
	b[0xfd] = 0x40;
	assert_int_equal(caps_walk(&s, e, CAPS_MAX, &n), -ELOOP);
	assert_int_equal(n, 48);
	free(b);
}

static void test_walk_small_max(void **state)
{
	(void)state;
	uint8_t *b = new_cfg(PCI_CFG_SIZE);
	struct cfg_snapshot s = snap(b, PCI_CFG_SIZE);
	struct cap_entry e[2];
	size_t n = 99;

	build_std_chain(b);
	assert_int_equal(caps_walk(&s, e, 2, &n), -ENOSPC);
	assert_int_equal(n, 2);
	assert_int_equal(e[1].offset, OFF_MSI);
	/* Exactly enough room is not an overflow. */
	b[OFF_MSI + PCI_CAP_LIST_NEXT] = 0;
	assert_int_equal(caps_walk(&s, e, 2, &n), 2);
	/* Counting with no room at all. */
	assert_int_equal(caps_walk(&s, NULL, 0, &n), -ENOSPC);
	assert_int_equal(n, 0);
	put16(b, PCI_STATUS, 0);
	assert_int_equal(caps_walk(&s, NULL, 0, &n), 0);
	free(b);
}

static void test_walk_bad_args(void **state)
{
	(void)state;
	uint8_t *b = new_cfg(PCIE_CFG_SIZE);
	struct cfg_snapshot s = snap(b, 64);
	struct cap_entry e[CAPS_MAX];
	size_t n = 99;

	build_std_chain(b);
	assert_int_equal(caps_walk(NULL, e, CAPS_MAX, &n), -EINVAL);
	assert_int_equal(n, 0);
	assert_int_equal(ext_caps_walk(NULL, e, CAPS_MAX, &n), -EINVAL);
	/* A snapshot smaller than the standard space. */
	assert_int_equal(caps_walk(&s, e, CAPS_MAX, &n), -EINVAL);
	assert_int_equal(caps_find(&s, PCI_CAP_ID_PM), 0);
	s = snap(NULL, PCI_CFG_SIZE);
	assert_int_equal(caps_walk(&s, e, CAPS_MAX, &n), -EINVAL);
	s = snap(b, PCI_CFG_SIZE);
	assert_int_equal(caps_walk(&s, NULL, 4, &n), -EINVAL);
	assert_int_equal(ext_caps_walk(&s, NULL, 4, &n), -EINVAL);
	assert_int_equal(caps_find(NULL, PCI_CAP_ID_PM), 0);
	assert_int_equal(ext_caps_find(NULL, PCI_EXT_CAP_ID_ERR), 0);
	free(b);
}

static void test_find(void **state)
{
	(void)state;
	uint8_t *b = new_cfg(PCI_CFG_SIZE);
	struct cfg_snapshot s = snap(b, PCI_CFG_SIZE);

	build_std_chain(b);
	assert_int_equal(caps_find(&s, PCI_CAP_ID_PM), OFF_PM);
	assert_int_equal(caps_find(&s, PCI_CAP_ID_EXP), OFF_EXP);
	assert_int_equal(caps_find(&s, PCI_CAP_ID_MSIX), OFF_MSIX);
	assert_int_equal(caps_find(&s, TEST_CAP_ID_ABSENT), 0);
	/* The first of two with the same ID. */
	b[OFF_MSIX] = PCI_CAP_ID_MSI;
	assert_int_equal(caps_find(&s, PCI_CAP_ID_MSI), OFF_MSI);
	free(b);
}

/* ---- extended walk ------------------------------------------------------ */

static void build_ext_chain(uint8_t *b)
{
	add_ext(b, 0x100, PCI_EXT_CAP_ID_ERR, 2, 0x140);
	add_ext(b, 0x140, PCI_EXT_CAP_ID_DSN, 1, 0x150);
	add_ext(b, 0x150, TEST_EXT_CAP_ID_SRIOV, 1, 0xffc);
	add_ext(b, 0xffc, PCI_EXT_CAP_ID_VNDR, 1, 0);
}

static void test_ext_chain(void **state)
{
	(void)state;
	uint8_t *b = new_cfg(PCIE_CFG_SIZE);
	struct cfg_snapshot s = snap(b, PCIE_CFG_SIZE);
	struct cap_entry e[CAPS_MAX];
	size_t n = 99;

	build_ext_chain(b);
	assert_int_equal(ext_caps_walk(&s, e, CAPS_MAX, &n), 4);
	assert_int_equal(n, 4);
	assert_int_equal(e[0].id, PCI_EXT_CAP_ID_ERR);
	assert_int_equal(e[0].offset, 0x100);
	assert_int_equal(e[0].version, 2);
	assert_int_equal(e[1].id, PCI_EXT_CAP_ID_DSN);
	assert_int_equal(e[1].offset, 0x140);
	assert_int_equal(e[2].id, TEST_EXT_CAP_ID_SRIOV);
	assert_int_equal(e[2].offset, 0x150);
	assert_int_equal(e[3].id, PCI_EXT_CAP_ID_VNDR);
	assert_int_equal(e[3].offset, 0xffc);
	assert_int_equal(e[3].version, 1);
	assert_int_equal(ext_caps_find(&s, TEST_EXT_CAP_ID_SRIOV), 0x150);
	assert_int_equal(ext_caps_find(&s, TEST_EXT_CAP_ID_ACS), 0);
	/* The standard list is independent: none here. */
	assert_int_equal(caps_walk(&s, e, CAPS_MAX, &n), 0);
	free(b);
}

static void test_ext_empty(void **state)
{
	(void)state;
	uint8_t *b = new_cfg(PCIE_CFG_SIZE);
	struct cfg_snapshot s = snap(b, PCIE_CFG_SIZE);
	struct cap_entry e[CAPS_MAX];
	size_t n = 99;

	assert_int_equal(ext_caps_walk(&s, e, CAPS_MAX, &n), 0);
	assert_int_equal(n, 0);
	put32(b, 0x100, 0xffffffffu);
	assert_int_equal(ext_caps_walk(&s, e, CAPS_MAX, &n), 0);
	assert_int_equal(ext_caps_find(&s, 0xffff), 0);

	/* A zero header met mid-chain ends it too. */
	add_ext(b, 0x100, PCI_EXT_CAP_ID_ERR, 1, 0x200);
	assert_int_equal(ext_caps_walk(&s, e, CAPS_MAX, &n), 1);
	assert_int_equal(e[0].id, PCI_EXT_CAP_ID_ERR);
	free(b);
}

static void test_ext_small_snapshot(void **state)
{
	(void)state;
	uint8_t *b = new_cfg(PCI_CFG_SIZE);
	struct cfg_snapshot s = snap(b, PCI_CFG_SIZE);
	struct cap_entry e[CAPS_MAX];
	size_t n = 99;

	/* Make 0x100 look like a valid header if it were read (it is out of
	 * bounds: ASan would catch a read). */
	memset(b, 0x11, PCI_CFG_SIZE);
	assert_int_equal(ext_caps_walk(&s, e, CAPS_MAX, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(ext_caps_find(&s, PCI_EXT_CAP_ID_ERR), 0);
	free(b);

	/* Extended space is all or nothing: a 1 KiB snapshot of a device with
	 * extended capabilities below 0x400 still reports none. */
	b = new_cfg(PCIE_CFG_SIZE);
	add_ext(b, 0x100, PCI_EXT_CAP_ID_ERR, 1, 0x200);
	add_ext(b, 0x200, PCI_EXT_CAP_ID_DSN, 1, 0);
	s = snap(b, 1024);
	assert_int_equal(ext_caps_walk(&s, e, CAPS_MAX, &n), 0);
	assert_int_equal(ext_caps_find(&s, PCI_EXT_CAP_ID_DSN), 0);
	s = snap(b, PCIE_CFG_SIZE);
	assert_int_equal(ext_caps_walk(&s, e, CAPS_MAX, &n), 2);
	free(b);
}

static void test_ext_loops(void **state)
{
	(void)state;
	uint8_t *b = new_cfg(PCIE_CFG_SIZE);
	struct cfg_snapshot s = snap(b, PCIE_CFG_SIZE);
	struct cap_entry e[CAPS_MAX];
	size_t n = 99;

	/* A -> B -> A */
	add_ext(b, 0x100, PCI_EXT_CAP_ID_ERR, 1, 0x180);
	add_ext(b, 0x180, PCI_EXT_CAP_ID_DSN, 1, 0x100);
	assert_int_equal(ext_caps_walk(&s, e, CAPS_MAX, &n), -ELOOP);
	assert_int_equal(n, 2);
	assert_int_equal(e[1].offset, 0x180);
	assert_int_equal(ext_caps_find(&s, PCI_EXT_CAP_ID_DSN), 0x180);
	assert_int_equal(ext_caps_find(&s, PCI_EXT_CAP_ID_VNDR), 0);

	/* Self-loop, low bits of the pointer ignored (0x183 -> 0x180). */
	add_ext(b, 0x180, PCI_EXT_CAP_ID_DSN, 1, 0x183);
	assert_int_equal(ext_caps_walk(&s, e, CAPS_MAX, &n), -ELOOP);
	assert_int_equal(n, 2);

	/* Back into the standard space. */
	add_ext(b, 0x180, PCI_EXT_CAP_ID_DSN, 1, 0x40);
	assert_int_equal(ext_caps_walk(&s, e, CAPS_MAX, &n), -ELOOP);
	assert_int_equal(n, 2);
	add_ext(b, 0x180, PCI_EXT_CAP_ID_DSN, 1, 0x0fc);
	assert_int_equal(ext_caps_walk(&s, e, CAPS_MAX, &n), -ELOOP);
	free(b);
}

static void test_ext_full_chain(void **state)
{
	(void)state;
	uint8_t *b = new_cfg(PCIE_CFG_SIZE);
	struct cfg_snapshot s = snap(b, PCIE_CFG_SIZE);
	struct cap_entry *e = calloc(EXT_SLOTS, sizeof(*e));
	size_t n = 99;
	unsigned off;

	assert_non_null(e);
	for (off = PCI_EXT_CAP_START; off < PCIE_CFG_SIZE; off += 4)
		add_ext(b, off, PCI_EXT_CAP_ID_VNDR, 1, off + 4 < PCIE_CFG_SIZE ? off + 4 : 0);
	assert_int_equal(ext_caps_walk(&s, e, EXT_SLOTS, &n), (int)EXT_SLOTS);
	assert_int_equal(e[EXT_SLOTS - 1].offset, 0xffc);
	/* More than the caller's room: the first CAPS_MAX are kept. */
	assert_int_equal(ext_caps_walk(&s, e, CAPS_MAX, &n), -ENOSPC);
	assert_int_equal(n, CAPS_MAX);
	/* Ring: the last one points at 0x100. */
	add_ext(b, 0xffc, PCI_EXT_CAP_ID_VNDR, 1, PCI_EXT_CAP_START);
	assert_int_equal(ext_caps_walk(&s, e, EXT_SLOTS, &n), -ELOOP);
	assert_int_equal(n, EXT_SLOTS);
	free(e);
	free(b);
}

/* ---- names -------------------------------------------------------------- */

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(cap_name(PCI_CAP_ID_MSI), "MSI");
	assert_string_equal(cap_name(PCI_CAP_ID_MSIX), "MSI-X");
	assert_string_equal(cap_name(PCI_CAP_ID_EXP), "PCI Express");
	assert_string_equal(cap_name(PCI_CAP_ID_PM), "Power Management");
	assert_string_equal(cap_name(0x00), "unknown");
	assert_string_equal(cap_name(0x7f), "unknown");
	assert_string_equal(cap_name(0xffff), "unknown");
	assert_string_equal(ext_cap_name(PCI_EXT_CAP_ID_ERR), "Advanced Error Reporting");
	assert_string_equal(ext_cap_name(TEST_EXT_CAP_ID_SRIOV), "SR-IOV");
	assert_string_equal(ext_cap_name(0x0014), "unknown"); /* reserved */
	assert_string_equal(ext_cap_name(0x0000), "unknown");
	assert_string_equal(ext_cap_name(0xffff), "unknown");
	for (unsigned id = 0; id <= 0xffff; id++) {
		assert_non_null(cap_name((uint16_t)id));
		assert_non_null(ext_cap_name((uint16_t)id));
	}
}

/* ---- BARs --------------------------------------------------------------- */

static void test_bar_decode(void **state)
{
	(void)state;
	uint8_t *b = new_cfg(PCI_CFG_SIZE);
	struct cfg_snapshot s = snap(b, PCI_CFG_SIZE);
	struct bar_decode d;

	put32(b, PCI_BAR_OFFSET(0), 0xfebf0000u); /* 32-bit, not prefetchable */
	put32(b, PCI_BAR_OFFSET(1), 0x00000000u); /* unused */
	put32(b, PCI_BAR_OFFSET(2), 0xe0000000u | PCI_BAR_MEM_TYPE_64 | PCI_BAR_MEM_PREFETCH);
	put32(b, PCI_BAR_OFFSET(3), 0x00000038u);
	put32(b, PCI_BAR_OFFSET(4), 0x0000c001u); /* I/O at 0xc000 */
	put32(b, PCI_BAR_OFFSET(5), 0xd0000000u | PCI_BAR_MEM_TYPE_64);

	assert_int_equal(bar_decode(&s, 0, &d), 0);
	assert_true(d.present);
	assert_false(d.is_io);
	assert_false(d.is_64);
	assert_false(d.prefetch);
	assert_int_equal(d.address, 0xfebf0000u);

	assert_int_equal(bar_decode(&s, 1, &d), 0);
	assert_false(d.present);

	assert_int_equal(bar_decode(&s, 2, &d), 0);
	assert_true(d.present);
	assert_false(d.is_io);
	assert_true(d.is_64);
	assert_true(d.prefetch);
	assert_int_equal(d.address, UINT64_C(0x38e0000000));

	assert_int_equal(bar_decode(&s, 4, &d), 0);
	assert_true(d.present);
	assert_true(d.is_io);
	assert_false(d.is_64);
	assert_false(d.prefetch);
	assert_int_equal(d.address, 0xc000u);
	/* Bit 3 of an I/O BAR is address, not prefetch. */
	put32(b, PCI_BAR_OFFSET(4), 0x0000c009u);
	assert_int_equal(bar_decode(&s, 4, &d), 0);
	assert_false(d.prefetch);
	assert_int_equal(d.address, 0xc008u);

	/* 64-bit in the last slot: no upper half. */
	assert_int_equal(bar_decode(&s, 5, &d), -EINVAL);
	assert_false(d.present);
	assert_int_equal(d.address, 0);

	/* 64-bit with only the upper half set is still there. */
	put32(b, PCI_BAR_OFFSET(2), PCI_BAR_MEM_TYPE_64);
	put32(b, PCI_BAR_OFFSET(3), 0x1u);
	assert_int_equal(bar_decode(&s, 2, &d), 0);
	assert_true(d.present);
	assert_int_equal(d.address, UINT64_C(0x100000000));

	assert_int_equal(bar_decode(&s, 6, &d), -EINVAL);
	assert_int_equal(bar_decode(&s, 0, NULL), -EINVAL);
	assert_int_equal(bar_decode(NULL, 0, &d), -EINVAL);
	free(b);
}

/* ---- decoders ----------------------------------------------------------- */

static void test_msi_decode(void **state)
{
	(void)state;
	uint8_t *b = new_cfg(PCI_CFG_SIZE);
	struct cfg_snapshot s = snap(b, PCI_CFG_SIZE);
	struct msi_decode m;

	build_std_chain(b);
	assert_int_equal(msi_decode(&s, &m), 0);
	assert_int_equal(m.offset, OFF_MSI);
	assert_true(m.enabled);
	assert_true(m.is_64);
	assert_true(m.per_vector_mask);
	assert_int_equal(m.vectors_capable, 8);
	assert_int_equal(m.vectors_enabled, 4);
	assert_int_equal(m.address, UINT64_C(0x1fee00000));
	assert_int_equal(m.data, 0x4021);
	assert_int_equal(m.mask_bits, 0xf0);
	assert_int_equal(m.pending_bits, 0x5);

	/* 32-bit, no masking: data at 0x08; the bytes that would be mask and
	 * pending are not reported. Reserved QMASK 7 caps at 32 vectors. */
	put16(b, OFF_MSI + PCI_MSI_FLAGS, 7u << PCI_MSI_FLAGS_QMASK_SHIFT);
	put32(b, OFF_MSI + PCI_MSI_ADDRESS_LO, 0xfee01000u);
	put16(b, OFF_MSI + PCI_MSI_DATA_32, 0x0041u);
	assert_int_equal(msi_decode(&s, &m), 0);
	assert_false(m.enabled);
	assert_false(m.is_64);
	assert_false(m.per_vector_mask);
	assert_int_equal(m.vectors_capable, 32);
	assert_int_equal(m.vectors_enabled, 1);
	assert_int_equal(m.address, 0xfee01000u);
	assert_int_equal(m.data, 0x0041);
	assert_int_equal(m.mask_bits, 0);
	assert_int_equal(m.pending_bits, 0);

	/* 32-bit with masking: mask at 0x0c, pending at 0x10. */
	put16(b, OFF_MSI + PCI_MSI_FLAGS, PCI_MSI_FLAGS_MASKBIT | 5u << PCI_MSI_FLAGS_QSIZE_SHIFT);
	put32(b, OFF_MSI + PCI_MSI_MASK_32, 0x3u);
	put32(b, OFF_MSI + PCI_MSI_PENDING_32, 0x2u);
	assert_int_equal(msi_decode(&s, &m), 0);
	assert_int_equal(m.vectors_enabled, 32);
	assert_int_equal(m.mask_bits, 0x3);
	assert_int_equal(m.pending_bits, 0x2);

	/* A 64-bit masked MSI at 0xe8 needs up to 0x100: fits exactly. At 0xec
	 * it does not. */
	b[OFF_EXP + PCI_CAP_LIST_NEXT] = 0xe8; /* replace MSI-X by the new MSI */
	b[OFF_MSI] = PCI_CAP_ID_VNDR;
	add_cap(b, 0xe8, PCI_CAP_ID_MSI, 0);
	put16(b, 0xe8 + PCI_MSI_FLAGS, PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT);
	put32(b, 0xe8 + PCI_MSI_PENDING_64, 0x80000000u);
	assert_int_equal(msi_decode(&s, &m), 0);
	assert_int_equal(m.offset, 0xe8);
	assert_int_equal(m.pending_bits, 0x80000000u);
	b[OFF_EXP + PCI_CAP_LIST_NEXT] = 0xec;
	add_cap(b, 0xec, PCI_CAP_ID_MSI, 0);
	put16(b, 0xec + PCI_MSI_FLAGS, PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT);
	assert_int_equal(msi_decode(&s, &m), -ERANGE);

	/* Absent. */
	put16(b, PCI_STATUS, 0);
	assert_int_equal(msi_decode(&s, &m), -ENOENT);
	assert_int_equal(msi_decode(&s, NULL), -EINVAL);
	assert_int_equal(msi_decode(NULL, &m), -EINVAL);
	free(b);
}

static void test_msix_decode(void **state)
{
	(void)state;
	uint8_t *b = new_cfg(PCI_CFG_SIZE);
	struct cfg_snapshot s = snap(b, PCI_CFG_SIZE);
	struct msix_decode x;

	build_std_chain(b);
	assert_int_equal(msix_decode(&s, &x), 0);
	assert_int_equal(x.offset, OFF_MSIX);
	assert_true(x.enabled);
	assert_false(x.function_mask);
	assert_int_equal(x.table_size, 256);
	assert_int_equal(x.table_bar, 0);
	assert_int_equal(x.table_offset, 0x1000);
	assert_int_equal(x.pba_bar, 0);
	assert_int_equal(x.pba_offset, 0x2000);

	/* Largest table, BIR/offset split in another BAR, function mask. */
	put16(b, OFF_MSIX + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_QSIZE | PCI_MSIX_FLAGS_MASKALL);
	put32(b, OFF_MSIX + PCI_MSIX_TABLE, 0x00fff000u | 4u);
	put32(b, OFF_MSIX + PCI_MSIX_PBA, 0xfffffff8u | 5u);
	assert_int_equal(msix_decode(&s, &x), 0);
	assert_false(x.enabled);
	assert_true(x.function_mask);
	assert_int_equal(x.table_size, 2048);
	assert_int_equal(x.table_bar, 4);
	assert_int_equal(x.table_offset, 0x00fff000u);
	assert_int_equal(x.pba_bar, 5);
	assert_int_equal(x.pba_offset, 0xfffffff8u);

	/* Reserved BIR: decoded for display, but flagged. */
	put32(b, OFF_MSIX + PCI_MSIX_TABLE, 0x1000u | 7u);
	assert_int_equal(msix_decode(&s, &x), -ERANGE);
	assert_int_equal(x.table_bar, 7);
	put32(b, OFF_MSIX + PCI_MSIX_TABLE, 0x1000u);
	put32(b, OFF_MSIX + PCI_MSIX_PBA, 0x2000u | 6u);
	assert_int_equal(msix_decode(&s, &x), -ERANGE);

	b[OFF_EXP + PCI_CAP_LIST_NEXT] = 0;
	assert_int_equal(msix_decode(&s, &x), -ENOENT);
	assert_int_equal(msix_decode(&s, NULL), -EINVAL);
	free(b);
}

static void test_pcie_decode(void **state)
{
	(void)state;
	uint8_t *b = new_cfg(PCI_CFG_SIZE);
	struct cfg_snapshot s = snap(b, PCI_CFG_SIZE);
	struct pcie_decode p;

	build_std_chain(b);
	assert_int_equal(pcie_decode(&s, &p), 0);
	assert_int_equal(p.offset, OFF_EXP);
	assert_int_equal(p.version, 2);
	assert_int_equal(p.port_type, PCI_EXP_TYPE_ENDPOINT);
	assert_true(p.flr);
	assert_int_equal(p.max_payload_cap, 256);
	assert_int_equal(p.max_payload, 256);
	assert_int_equal(p.max_read_req, 512);
	assert_int_equal(p.link_speed_cap, 3);
	assert_int_equal(p.link_width_cap, 4);
	assert_int_equal(p.link_speed, 3);
	assert_int_equal(p.link_width, 4);

	/* No FLR, RC integrated endpoint, x16 Gen4 capable trained x1 Gen1. */
	put16(b, OFF_EXP + PCI_EXP_FLAGS, 2u | PCI_EXP_TYPE_RC_END << PCI_EXP_FLAGS_TYPE_SHIFT);
	put32(b, OFF_EXP + PCI_EXP_DEVCAP, 5u);
	put16(b, OFF_EXP + PCI_EXP_DEVCTL, 0);
	put32(b, OFF_EXP + PCI_EXP_LNKCAP, 4u | 16u << PCI_EXP_LNKCAP_MLW_SHIFT);
	put16(b, OFF_EXP + PCI_EXP_LNKSTA, 1u | 1u << PCI_EXP_LNKSTA_NLW_SHIFT);
	assert_int_equal(pcie_decode(&s, &p), 0);
	assert_int_equal(p.port_type, PCI_EXP_TYPE_RC_END);
	assert_false(p.flr);
	assert_int_equal(p.max_payload_cap, 4096);
	assert_int_equal(p.max_payload, 128);
	assert_int_equal(p.max_read_req, 128);
	assert_int_equal(p.link_speed_cap, 4);
	assert_int_equal(p.link_width_cap, 16);
	assert_int_equal(p.link_speed, 1);
	assert_int_equal(p.link_width, 1);

	/* A PCIe capability too close to the end to hold its link status. */
	b[OFF_PM + PCI_CAP_LIST_NEXT] = 0xf0;
	add_cap(b, 0xf0, PCI_CAP_ID_EXP, 0);
	b[OFF_EXP] = PCI_CAP_ID_VNDR;
	assert_int_equal(pcie_decode(&s, &p), -ERANGE);

	put16(b, PCI_STATUS, 0);
	assert_int_equal(pcie_decode(&s, &p), -ENOENT);
	assert_int_equal(pcie_decode(&s, NULL), -EINVAL);
	free(b);
}

static void test_pm_decode(void **state)
{
	(void)state;
	uint8_t *b = new_cfg(PCI_CFG_SIZE);
	struct cfg_snapshot s = snap(b, PCI_CFG_SIZE);
	struct pm_decode d;

	build_std_chain(b);
	assert_int_equal(pm_decode(&s, &d), 0);
	assert_int_equal(d.offset, OFF_PM);
	assert_int_equal(d.version, 3);
	assert_true(d.d1);
	assert_true(d.d2);
	assert_int_equal(d.state, 3);
	assert_true(d.no_soft_reset);

	put16(b, OFF_PM + PCI_PM_PMC, 2u);
	put16(b, OFF_PM + PCI_PM_CTRL, 0);
	assert_int_equal(pm_decode(&s, &d), 0);
	assert_int_equal(d.version, 2);
	assert_false(d.d1);
	assert_false(d.d2);
	assert_int_equal(d.state, 0);
	assert_false(d.no_soft_reset);

	set_cap_list(b, OFF_MSI);
	assert_int_equal(pm_decode(&s, &d), -ENOENT);
	assert_int_equal(pm_decode(&s, NULL), -EINVAL);
	free(b);
}

/* ---- robustness ---------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64*: deterministic, good enough to scramble bytes. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

struct fuzz_stats {
	unsigned std_loops, ext_loops, std_entries, ext_entries, ext_nospc;
	unsigned msi_ok, msix_ok, pcie_ok, pm_ok;
};

static void check_std(const struct cfg_snapshot *s, struct fuzz_stats *st)
{
	struct cap_entry e[CAPS_MAX];
	size_t n = 99, i, j;
	int rc = caps_walk(s, e, CAPS_MAX, &n);

	/* 48 slots can never overflow CAPS_MAX. */
	assert_true(rc >= 0 || rc == -ELOOP);
	assert_true(n <= 48);
	if (rc >= 0)
		assert_int_equal((size_t)rc, n);
	else
		st->std_loops++;
	st->std_entries += (unsigned)n;
	for (i = 0; i < n; i++) {
		assert_in_range(e[i].offset, PCI_STD_HEADER_SIZE, PCI_CFG_SIZE - 2);
		assert_int_equal(e[i].offset % 4, 0);
		assert_true(e[i].id <= 0xff);
		for (j = 0; j < i; j++)
			assert_int_not_equal(e[i].offset, e[j].offset);
		/* find returns the first in walk order with that ID. */
		for (j = 0; e[j].id != e[i].id; j++)
			;
		assert_int_equal(caps_find(s, (uint8_t)e[i].id), e[j].offset);
	}
	unsigned f = caps_find(s, (uint8_t)rng());
	assert_true(f == 0 || (f >= PCI_STD_HEADER_SIZE && f <= PCI_CFG_SIZE - 2));
}

static void check_ext(const struct cfg_snapshot *s, struct cap_entry *big, struct fuzz_stats *st)
{
	struct cap_entry e[CAPS_MAX];
	size_t n = 99, nbig = 99, i;
	int rc = ext_caps_walk(s, e, CAPS_MAX, &n);
	int rcbig = ext_caps_walk(s, big, EXT_SLOTS, &nbig);

	assert_true(rc >= 0 || rc == -ELOOP || rc == -ENOSPC);
	assert_true(n <= CAPS_MAX);
	if (rc == -ENOSPC)
		st->ext_nospc++;
	/* With room for every slot, only a loop can stop it. */
	assert_true(rcbig >= 0 || rcbig == -ELOOP);
	assert_true(nbig <= EXT_SLOTS);
	if (rcbig == -ELOOP)
		st->ext_loops++;
	if (s->size < PCIE_CFG_SIZE) {
		assert_int_equal(rcbig, 0);
		assert_int_equal(nbig, 0);
	}
	st->ext_entries += (unsigned)nbig;
	assert_true(n <= nbig);
	/* The short walk kept a prefix of the long one (fields, not padding). */
	for (i = 0; i < n; i++) {
		assert_int_equal(e[i].id, big[i].id);
		assert_int_equal(e[i].offset, big[i].offset);
		assert_int_equal(e[i].version, big[i].version);
	}
	for (i = 0; i < nbig; i++) {
		assert_in_range(big[i].offset, PCI_EXT_CAP_START, PCIE_CFG_SIZE - 4);
		assert_true((size_t)big[i].offset + 4 <= s->size);
		assert_int_equal(big[i].offset % 4, 0);
		assert_true(big[i].version <= 0xf);
	}
	unsigned f = ext_caps_find(s, (uint16_t)(rng() & 0x3f));
	assert_true(f == 0 || (f >= PCI_EXT_CAP_START && f + 4 <= s->size));
}

static void check_decoders(const struct cfg_snapshot *s, struct fuzz_stats *st)
{
	struct msi_decode m;
	struct msix_decode x;
	struct pcie_decode p;
	struct pm_decode d;
	struct bar_decode bar;
	int rc;

	rc = msi_decode(s, &m);
	assert_true(rc == 0 || rc == -ENOENT || rc == -ERANGE);
	if (rc == 0) {
		st->msi_ok++;
		assert_in_range(m.offset, PCI_STD_HEADER_SIZE, PCI_CFG_SIZE - 10);
		assert_in_range(m.vectors_capable, 1, 32);
		assert_in_range(m.vectors_enabled, 1, 32);
		assert_int_equal(m.vectors_capable & (m.vectors_capable - 1), 0);
		assert_int_equal(m.vectors_enabled & (m.vectors_enabled - 1), 0);
		if (!m.per_vector_mask)
			assert_true(m.mask_bits == 0 && m.pending_bits == 0);
		if (!m.is_64)
			assert_true(m.address <= UINT32_MAX);
	}
	rc = msix_decode(s, &x);
	assert_true(rc == 0 || rc == -ENOENT || rc == -ERANGE);
	if (rc == 0) {
		st->msix_ok++;
		assert_in_range(x.offset, PCI_STD_HEADER_SIZE, PCI_CFG_SIZE - PCI_MSIX_SIZEOF);
		assert_in_range(x.table_size, 1, 2048);
		assert_true(x.table_bar <= 5 && x.pba_bar <= 5);
		assert_int_equal(x.table_offset & PCI_MSIX_BIR_MASK, 0);
	}
	rc = pcie_decode(s, &p);
	assert_true(rc == 0 || rc == -ENOENT || rc == -ERANGE);
	if (rc == 0) {
		st->pcie_ok++;
		assert_in_range(p.offset, PCI_STD_HEADER_SIZE, PCI_CFG_SIZE - (PCI_EXP_LNKSTA + 2));
		assert_in_range(p.max_payload_cap, 128, 128 << 7);
		assert_in_range(p.max_read_req, 128, 128 << 7);
		assert_true(p.link_width <= 63 && p.link_speed <= 15);
	}
	rc = pm_decode(s, &d);
	assert_true(rc == 0 || rc == -ENOENT || rc == -ERANGE);
	if (rc == 0) {
		st->pm_ok++;
		assert_in_range(d.offset, PCI_STD_HEADER_SIZE, PCI_CFG_SIZE - PCI_PM_SIZEOF);
		assert_true(d.state <= 3);
	}
	for (unsigned n = 0; n < 6; n++) {
		uint32_t raw = cfg_get32(s, PCI_BAR_OFFSET(n));
		int is64 = !(raw & PCI_BAR_SPACE_IO) && (raw & PCI_BAR_MEM_TYPE_MASK) == PCI_BAR_MEM_TYPE_64;

		rc = bar_decode(s, n, &bar);
		assert_int_equal(rc, n == 5 && is64 ? -EINVAL : 0);
		if (rc == 0)
			assert_int_equal((uint32_t)bar.address, raw & (bar.is_io ? PCI_BAR_IO_ADDR_MASK : PCI_BAR_MEM_ADDR_MASK));
	}
}

static void test_random_buffers(void **state)
{
	(void)state;
	struct cap_entry *big = calloc(EXT_SLOTS, sizeof(*big));
	struct fuzz_stats st = { 0 };
	unsigned iter;

	assert_non_null(big);
	rng_state = UINT64_C(0x9e3779b97f4a7c15);
	for (iter = 0; iter < 10000; iter++) {
		size_t size = (iter & 1) ? PCIE_CFG_SIZE : PCI_CFG_SIZE;
		uint8_t *b = new_cfg(size);
		struct cfg_snapshot s = snap(b, size);
		size_t i;

		switch (rng() % 3) {
		case 0: /* pure noise */
			for (i = 0; i < size; i++)
				b[i] = (uint8_t)rng();
			break;
		case 1: /* noise, but with a capability list to follow */
			for (i = 0; i < size; i++)
				b[i] = (uint8_t)rng();
			b[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
			break;
		default: /* a valid device with a few bytes corrupted */
			build_std_chain(b);
			if (size == PCIE_CFG_SIZE)
				build_ext_chain(b);
			for (i = rng() % 8; i > 0; i--)
				b[rng() % size] = (uint8_t)rng();
			break;
		}
		check_std(&s, &st);
		check_ext(&s, big, &st);
		check_decoders(&s, &st);
		free(b);
	}
	/* The corpus must have exercised every outcome, or the test is blind. */
	assert_true(st.std_loops > 0);
	assert_true(st.ext_loops > 0);
	assert_true(st.ext_nospc > 0 || st.ext_entries > 0);
	assert_true(st.std_entries > 0);
	assert_true(st.msi_ok > 0 && st.msix_ok > 0 && st.pcie_ok > 0 && st.pm_ok > 0);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accessors),
		cmocka_unit_test(test_walk_normal_chain),
		cmocka_unit_test(test_walk_no_cap_list_bit),
		cmocka_unit_test(test_walk_loop_two),
		cmocka_unit_test(test_walk_self_loop),
		cmocka_unit_test(test_walk_pointer_into_header),
		cmocka_unit_test(test_walk_pointer_at_end),
		cmocka_unit_test(test_walk_low_bits_ignored),
		cmocka_unit_test(test_walk_full_chain),
		cmocka_unit_test(test_walk_small_max),
		cmocka_unit_test(test_walk_bad_args),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_ext_chain),
		cmocka_unit_test(test_ext_empty),
		cmocka_unit_test(test_ext_small_snapshot),
		cmocka_unit_test(test_ext_loops),
		cmocka_unit_test(test_ext_full_chain),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_bar_decode),
		cmocka_unit_test(test_msi_decode),
		cmocka_unit_test(test_msix_decode),
		cmocka_unit_test(test_pcie_decode),
		cmocka_unit_test(test_pm_decode),
		cmocka_unit_test(test_random_buffers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

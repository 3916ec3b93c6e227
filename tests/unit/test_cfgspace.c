/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the emulated config space (src/model/cfgspace.c), the MSI
 * and MSI-X delivery helpers (src/model/msi.c) and the URI parameter
 * helpers (src/model/model.c). Expected values come from cfgspace.h,
 * model.h and the PCI / PCIe specifications (register layouts in
 * src/core/pci_regs.h).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cfgspace.h"
#include "model.h"
#include "pci_regs.h"
#include "upci/upci.h"

/* struct cfgspace is 16 KiB: allocate it. */
static struct cfgspace *new_cfg(uint32_t size)
{
	struct cfgspace *c = malloc(sizeof(*c));

	assert_non_null(c);
	memset(c, 0xa5, sizeof(*c)); /* init must clear everything */
	cfgspace_init(c, size);
	return c;
}

/* ---------------------------------------------------------------- init */

static void test_init(void **state)
{
	struct cfgspace *c = new_cfg(256);

	(void)state;
	assert_int_equal(c->size, 256);
	for (unsigned i = 0; i < 256; i++)
		if (i != PCI_STATUS && i != PCI_STATUS + 1)
			assert_int_equal(cfgspace_read(c, i, 1), 0);
	assert_int_equal(cfgspace_read(c, PCI_STATUS, 2), 0);
	free(c);
	c = new_cfg(4096);
	assert_int_equal(c->size, 4096);
	assert_int_equal(cfgspace_read(c, 0xffc, 4), 0);
	free(c);
}

/* ---------------------------------------------------------- write masks */

static void test_ids_read_only(void **state)
{
	struct cfgspace *c = new_cfg(256);

	(void)state;
	cfgspace_set_ids(c, 0x1234, 0x11e8, 0x1af4, 0x1100, 0x10, 0x00ff00);
	assert_int_equal(cfgspace_read(c, PCI_VENDOR_ID, 2), 0x1234);
	assert_int_equal(cfgspace_read(c, PCI_DEVICE_ID, 2), 0x11e8);
	assert_int_equal(cfgspace_read(c, PCI_VENDOR_ID, 4), 0x11e81234);
	assert_int_equal(cfgspace_read(c, PCI_REVISION_ID, 1), 0x10);
	assert_int_equal(cfgspace_read(c, PCI_REVISION_ID, 4), 0x00ff0010);
	assert_int_equal(cfgspace_read(c, PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1af4);
	assert_int_equal(cfgspace_read(c, PCI_SUBSYSTEM_ID, 2), 0x1100);

	/* Whatever the width, the IDs, class and header type stay. */
	cfgspace_write(c, PCI_VENDOR_ID, 4, 0xffffffff);
	cfgspace_write(c, PCI_VENDOR_ID, 2, 0);
	cfgspace_write(c, PCI_DEVICE_ID + 1, 1, 0x55);
	cfgspace_write(c, PCI_REVISION_ID, 4, 0xdeadbeef);
	cfgspace_write(c, PCI_SUBSYSTEM_VENDOR_ID, 4, 0);
	cfgspace_write(c, PCI_HEADER_TYPE, 1, 0x80);
	cfgspace_write(c, PCI_INTERRUPT_PIN, 1, 0x04);
	cfgspace_write(c, PCI_CAPABILITY_LIST, 1, 0x40);
	assert_int_equal(cfgspace_read(c, PCI_VENDOR_ID, 4), 0x11e81234);
	assert_int_equal(cfgspace_read(c, PCI_REVISION_ID, 4), 0x00ff0010);
	assert_int_equal(cfgspace_read(c, PCI_SUBSYSTEM_VENDOR_ID, 4), 0x11001af4);
	assert_int_equal(cfgspace_read(c, PCI_HEADER_TYPE, 1), 0);
	assert_int_equal(cfgspace_read(c, PCI_INTERRUPT_PIN, 1), 0);
	assert_int_equal(cfgspace_read(c, PCI_CAPABILITY_LIST, 1), 0);
	free(c);
}

static void test_command_mask(void **state)
{
	struct cfgspace *c = new_cfg(256);
	const uint32_t writable = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY |
				  PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE;

	(void)state;
	cfgspace_write(c, PCI_COMMAND, 2, 0xffff);
	assert_int_equal(cfgspace_read(c, PCI_COMMAND, 2), writable);
	cfgspace_write(c, PCI_COMMAND, 2, 0);
	assert_int_equal(cfgspace_read(c, PCI_COMMAND, 2), 0);
	cfgspace_write(c, PCI_COMMAND, 1, PCI_COMMAND_MASTER | 0x08);
	assert_int_equal(cfgspace_read(c, PCI_COMMAND, 2), PCI_COMMAND_MASTER);
	cfgspace_write(c, PCI_COMMAND + 1, 1, 0xff);
	assert_int_equal(cfgspace_read(c, PCI_COMMAND, 2),
			 PCI_COMMAND_MASTER | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);

	/* Cache line, latency timer and interrupt line are writable. */
	cfgspace_write(c, PCI_CACHE_LINE_SIZE, 1, 0x10);
	cfgspace_write(c, PCI_LATENCY_TIMER, 1, 0x20);
	cfgspace_write(c, PCI_INTERRUPT_LINE, 1, 0x0b);
	assert_int_equal(cfgspace_read(c, PCI_CACHE_LINE_SIZE, 1), 0x10);
	assert_int_equal(cfgspace_read(c, PCI_LATENCY_TIMER, 1), 0x20);
	assert_int_equal(cfgspace_read(c, PCI_INTERRUPT_LINE, 1), 0x0b);
	/* BIST is not. */
	cfgspace_write(c, PCI_BIST, 1, 0x40);
	assert_int_equal(cfgspace_read(c, PCI_BIST, 1), 0);

	/* cfgspace_put ignores masks. */
	cfgspace_put(c, PCI_VENDOR_ID, 2, 0xabcd);
	assert_int_equal(cfgspace_get(c, PCI_VENDOR_ID, 2), 0xabcd);
	free(c);
}

static void test_status_w1c(void **state)
{
	struct cfgspace *c = new_cfg(256);
	const uint32_t ro = PCI_STATUS_CAP_LIST | PCI_STATUS_66MHZ | PCI_STATUS_INTERRUPT;

	(void)state;
	cfgspace_put(c, PCI_STATUS, 2, PCI_STATUS_W1C_MASK | ro);
	/* Writing zeros changes nothing. */
	cfgspace_write(c, PCI_STATUS, 2, 0);
	assert_int_equal(cfgspace_read(c, PCI_STATUS, 2), PCI_STATUS_W1C_MASK | ro);
	/* A 1 clears exactly that error bit. */
	cfgspace_write(c, PCI_STATUS, 2, PCI_STATUS_MASTER_ABORT_RCVD);
	assert_int_equal(cfgspace_read(c, PCI_STATUS, 2),
			 (PCI_STATUS_W1C_MASK & ~PCI_STATUS_MASTER_ABORT_RCVD) | ro);
	/* All ones clears every error bit and no read-only one. */
	cfgspace_write(c, PCI_STATUS, 2, 0xffff);
	assert_int_equal(cfgspace_read(c, PCI_STATUS, 2), ro);
	/* W1C bits cannot be set by software. */
	cfgspace_put(c, PCI_STATUS, 2, 0);
	cfgspace_write(c, PCI_STATUS, 2, 0xffff);
	assert_int_equal(cfgspace_read(c, PCI_STATUS, 2), 0);

	/* A dword write to COMMAND/STATUS: COMMAND takes writable bits,
	 * STATUS is W1C. */
	cfgspace_put(c, PCI_STATUS, 2, 0x8000 | PCI_STATUS_CAP_LIST);
	cfgspace_write(c, PCI_COMMAND, 4, 0xffffffff);
	assert_int_equal(cfgspace_read(c, PCI_STATUS, 2), PCI_STATUS_CAP_LIST);
	assert_int_equal(cfgspace_read(c, PCI_COMMAND, 2) & PCI_COMMAND_MASTER, PCI_COMMAND_MASTER);
	free(c);
}

/* --------------------------------------------------------------- BARs */

static void test_bar_mem32(void **state)
{
	struct cfgspace *c = new_cfg(256);

	(void)state;
	cfgspace_set_bar(c, 0, 0x100000, 0);
	assert_int_equal(cfgspace_read(c, PCI_BAR_OFFSET(0), 4), 0);
	cfgspace_write(c, PCI_BAR_OFFSET(0), 4, 0xffffffff);
	assert_int_equal(cfgspace_read(c, PCI_BAR_OFFSET(0), 4), 0xfff00000);
	cfgspace_write(c, PCI_BAR_OFFSET(0), 4, 0xfebc1234);
	assert_int_equal(cfgspace_read(c, PCI_BAR_OFFSET(0), 4), 0xfeb00000);
	/* Next BAR untouched and not implemented: reads 0 after sizing. */
	cfgspace_write(c, PCI_BAR_OFFSET(1), 4, 0xffffffff);
	assert_int_equal(cfgspace_read(c, PCI_BAR_OFFSET(1), 4), 0);

	/* Smallest memory BAR (16 bytes) in slot 5, prefetchable. */
	cfgspace_set_bar(c, 5, 16, UPCI_BAR_PREFETCH);
	assert_int_equal(cfgspace_read(c, PCI_BAR_OFFSET(5), 4), PCI_BAR_MEM_PREFETCH);
	cfgspace_write(c, PCI_BAR_OFFSET(5), 4, 0xffffffff);
	assert_int_equal(cfgspace_read(c, PCI_BAR_OFFSET(5), 4), 0xfffffff0u | PCI_BAR_MEM_PREFETCH);
	cfgspace_write(c, PCI_BAR_OFFSET(5), 4, 0);
	assert_int_equal(cfgspace_read(c, PCI_BAR_OFFSET(5), 4), PCI_BAR_MEM_PREFETCH);
	free(c);
}

static void test_bar_mem64(void **state)
{
	struct cfgspace *c = new_cfg(256);

	(void)state;
	/* 16 KiB, 64-bit, non-prefetchable in BAR0/1 */
	cfgspace_set_bar(c, 0, 0x4000, UPCI_BAR_MEM64);
	assert_int_equal(cfgspace_read(c, PCI_BAR_OFFSET(0), 4), PCI_BAR_MEM_TYPE_64);
	cfgspace_write(c, PCI_BAR_OFFSET(0), 4, 0xffffffff);
	cfgspace_write(c, PCI_BAR_OFFSET(1), 4, 0xffffffff);
	assert_int_equal(cfgspace_read(c, PCI_BAR_OFFSET(0), 4), 0xffffc000u | PCI_BAR_MEM_TYPE_64);
	assert_int_equal(cfgspace_read(c, PCI_BAR_OFFSET(1), 4), 0xffffffff);
	cfgspace_write(c, PCI_BAR_OFFSET(1), 4, 0x00000012);
	assert_int_equal(cfgspace_read(c, PCI_BAR_OFFSET(1), 4), 0x12);

	/* 8 GiB, 64-bit prefetchable in BAR2/3: the size shows in the high half. */
	cfgspace_set_bar(c, 2, 8ull << 30, UPCI_BAR_MEM64 | UPCI_BAR_PREFETCH);
	assert_int_equal(cfgspace_read(c, PCI_BAR_OFFSET(2), 4), PCI_BAR_MEM_TYPE_64 | PCI_BAR_MEM_PREFETCH);
	cfgspace_write(c, PCI_BAR_OFFSET(2), 4, 0xffffffff);
	cfgspace_write(c, PCI_BAR_OFFSET(3), 4, 0xffffffff);
	assert_int_equal(cfgspace_read(c, PCI_BAR_OFFSET(2), 4), PCI_BAR_MEM_TYPE_64 | PCI_BAR_MEM_PREFETCH);
	assert_int_equal(cfgspace_read(c, PCI_BAR_OFFSET(3), 4), 0xfffffffe);

	/* 1 MiB prefetchable 64-bit in BAR4/5 */
	cfgspace_set_bar(c, 4, 1u << 20, UPCI_BAR_MEM64 | UPCI_BAR_PREFETCH);
	cfgspace_write(c, PCI_BAR_OFFSET(4), 4, 0xffffffff);
	assert_int_equal(cfgspace_read(c, PCI_BAR_OFFSET(4), 4), 0xfff0000cu);
	cfgspace_write(c, PCI_BAR_OFFSET(5), 4, 0xffffffff);
	assert_int_equal(cfgspace_read(c, PCI_BAR_OFFSET(5), 4), 0xffffffff);
	free(c);
}

static void test_bar_io(void **state)
{
	struct cfgspace *c = new_cfg(256);

	(void)state;
	cfgspace_set_bar(c, 1, 256, UPCI_BAR_IO);
	assert_int_equal(cfgspace_read(c, PCI_BAR_OFFSET(1), 4), PCI_BAR_SPACE_IO);
	cfgspace_write(c, PCI_BAR_OFFSET(1), 4, 0xffffffff);
	assert_int_equal(cfgspace_read(c, PCI_BAR_OFFSET(1), 4), 0xffffff01u);
	cfgspace_write(c, PCI_BAR_OFFSET(1), 4, 0);
	assert_int_equal(cfgspace_read(c, PCI_BAR_OFFSET(1), 4), PCI_BAR_SPACE_IO);
	cfgspace_write(c, PCI_BAR_OFFSET(1), 4, 0xc05a);
	assert_int_equal(cfgspace_read(c, PCI_BAR_OFFSET(1), 4), 0xc001);
	/* Smallest I/O BAR: 4 bytes. */
	cfgspace_set_bar(c, 3, 4, UPCI_BAR_IO);
	cfgspace_write(c, PCI_BAR_OFFSET(3), 4, 0xffffffff);
	assert_int_equal(cfgspace_read(c, PCI_BAR_OFFSET(3), 4), 0xfffffffdu);
	free(c);
}

/* -------------------------------------------------------- capabilities */

static void test_add_cap_chain(void **state)
{
	struct cfgspace *c = new_cfg(256);

	(void)state;
	assert_int_equal(cfgspace_read(c, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, 0);
	assert_int_equal(cfgspace_add_cap(c, PCI_CAP_ID_PM, 0x40, PCI_PM_SIZEOF), 0x40);
	assert_int_equal(cfgspace_read(c, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, PCI_STATUS_CAP_LIST);
	assert_int_equal(cfgspace_add_cap(c, PCI_CAP_ID_MSI, 0x50, 0x18), 0x50);
	assert_int_equal(cfgspace_add_cap(c, PCI_CAP_ID_EXP, 0x80, PCI_EXP_ENDPOINT_SIZEOF_V2), 0x80);

	assert_int_equal(cfgspace_read(c, PCI_CAPABILITY_LIST, 1), 0x40);
	assert_int_equal(cfgspace_read(c, 0x40 + PCI_CAP_LIST_ID, 1), PCI_CAP_ID_PM);
	assert_int_equal(cfgspace_read(c, 0x40 + PCI_CAP_LIST_NEXT, 1), 0x50);
	assert_int_equal(cfgspace_read(c, 0x50 + PCI_CAP_LIST_ID, 1), PCI_CAP_ID_MSI);
	assert_int_equal(cfgspace_read(c, 0x50 + PCI_CAP_LIST_NEXT, 1), 0x80);
	assert_int_equal(cfgspace_read(c, 0x80 + PCI_CAP_LIST_ID, 1), PCI_CAP_ID_EXP);
	assert_int_equal(cfgspace_read(c, 0x80 + PCI_CAP_LIST_NEXT, 1), 0);
	/* Same bytes through a 2-byte read: ID low, next high. */
	assert_int_equal(cfgspace_read(c, 0x50, 2), PCI_CAP_ID_MSI | (0x80 << 8));

	/* Capability pointers and IDs are read-only from the bus. */
	cfgspace_write(c, PCI_CAPABILITY_LIST, 1, 0x80);
	cfgspace_write(c, 0x40, 2, 0);
	cfgspace_write(c, 0x50, 4, 0xffffffff);
	cfgspace_write(c, PCI_STATUS, 2, 0xffff);
	assert_int_equal(cfgspace_read(c, PCI_CAPABILITY_LIST, 1), 0x40);
	assert_int_equal(cfgspace_read(c, 0x40, 2), PCI_CAP_ID_PM | (0x50 << 8));
	assert_int_equal(cfgspace_read(c, 0x50, 2), PCI_CAP_ID_MSI | (0x80 << 8));
	assert_int_equal(cfgspace_read(c, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, PCI_STATUS_CAP_LIST);
	free(c);
}

static void test_add_ext_cap_chain(void **state)
{
	struct cfgspace *c = new_cfg(4096);
	uint32_t h;

	(void)state;
	assert_int_equal(cfgspace_add_ext_cap(c, PCI_EXT_CAP_ID_ERR, 2, 0x100), 0x100);
	assert_int_equal(cfgspace_add_ext_cap(c, PCI_EXT_CAP_ID_DSN, 1, 0x148), 0x148);
	assert_int_equal(cfgspace_add_ext_cap(c, PCI_EXT_CAP_ID_VNDR, 1, 0x200), 0x200);

	h = cfgspace_read(c, 0x100, 4);
	assert_int_equal(PCI_EXT_CAP_ID(h), PCI_EXT_CAP_ID_ERR);
	assert_int_equal(PCI_EXT_CAP_VER(h), 2);
	assert_int_equal(PCI_EXT_CAP_NEXT(h), 0x148);
	h = cfgspace_read(c, 0x148, 4);
	assert_int_equal(PCI_EXT_CAP_ID(h), PCI_EXT_CAP_ID_DSN);
	assert_int_equal(PCI_EXT_CAP_VER(h), 1);
	assert_int_equal(PCI_EXT_CAP_NEXT(h), 0x200);
	h = cfgspace_read(c, 0x200, 4);
	assert_int_equal(h, (uint32_t)PCI_EXT_CAP_ID_VNDR | (1u << 16));

	/* Read-only from the bus. */
	cfgspace_write(c, 0x100, 4, 0);
	cfgspace_write(c, 0x148, 4, 0xffffffff);
	assert_int_equal(PCI_EXT_CAP_NEXT(cfgspace_read(c, 0x100, 4)), 0x148);
	assert_int_equal(PCI_EXT_CAP_NEXT(cfgspace_read(c, 0x148, 4)), 0x200);
	assert_int_equal(PCI_EXT_CAP_ID(cfgspace_read(c, 0x148, 4)), PCI_EXT_CAP_ID_DSN);
	free(c);
}

/* ---------------------------------------------------------------- reset */

static void test_reset_image(void **state)
{
	struct cfgspace *c = new_cfg(4096);

	(void)state;
	cfgspace_set_ids(c, 0x1af4, 0x10f0, 0x1af4, 0x10f0, 1, 0xff0000);
	cfgspace_set_bar(c, 0, 0x4000, UPCI_BAR_MEM64);
	cfgspace_set_wmask(c, 0x800, 4, 0xffffffff);
	cfgspace_put(c, PCI_STATUS, 2, PCI_STATUS_MASTER_ABORT_RCVD);
	cfgspace_commit_reset_image(c);

	cfgspace_write(c, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	cfgspace_write(c, PCI_STATUS, 2, PCI_STATUS_MASTER_ABORT_RCVD);
	cfgspace_write(c, PCI_BAR_OFFSET(0), 4, 0xfe000000);
	cfgspace_write(c, PCI_BAR_OFFSET(1), 4, 0x1);
	cfgspace_write(c, PCI_INTERRUPT_LINE, 1, 9);
	cfgspace_write(c, 0x800, 4, 0x12345678);
	assert_int_equal(cfgspace_read(c, 0x800, 4), 0x12345678);
	assert_int_equal(cfgspace_read(c, PCI_STATUS, 2), 0);

	cfgspace_reset(c);
	assert_int_equal(cfgspace_read(c, PCI_COMMAND, 2), 0);
	assert_int_equal(cfgspace_read(c, PCI_STATUS, 2), PCI_STATUS_MASTER_ABORT_RCVD);
	assert_int_equal(cfgspace_read(c, PCI_BAR_OFFSET(0), 4), PCI_BAR_MEM_TYPE_64);
	assert_int_equal(cfgspace_read(c, PCI_BAR_OFFSET(1), 4), 0);
	assert_int_equal(cfgspace_read(c, PCI_INTERRUPT_LINE, 1), 0);
	assert_int_equal(cfgspace_read(c, 0x800, 4), 0);
	assert_int_equal(cfgspace_read(c, PCI_VENDOR_ID, 4), 0x10f01af4);
	/* Masks survive a reset: the register is still writable. */
	cfgspace_write(c, 0x800, 4, 0xcafe);
	assert_int_equal(cfgspace_read(c, 0x800, 4), 0xcafe);
	cfgspace_write(c, PCI_COMMAND, 2, PCI_COMMAND_MASTER);
	assert_int_equal(cfgspace_read(c, PCI_COMMAND, 2), PCI_COMMAND_MASTER);
	free(c);
}

/* ------------------------------------------------ range and width checks */

static void test_out_of_range(void **state)
{
	struct cfgspace *c = new_cfg(256);

	(void)state;
	/* Make the last dword writable and give it a value. */
	cfgspace_set_wmask(c, 0xfc, 4, 0xffffffff);
	cfgspace_write(c, 0xfc, 4, 0x44332211);
	assert_int_equal(cfgspace_read(c, 0xfc, 4), 0x44332211);
	assert_int_equal(cfgspace_read(c, 0xff, 1), 0x44);

	assert_int_equal(cfgspace_read(c, 0x100, 4), 0xffffffff);
	assert_int_equal(cfgspace_read(c, 0x100, 2), 0xffff);
	assert_int_equal(cfgspace_read(c, 0x100, 1), 0xff);
	assert_int_equal(cfgspace_read(c, 0xfe, 4), 0xffffffff);
	assert_int_equal(cfgspace_read(c, 0xff, 2), 0xffff);
	assert_int_equal(cfgspace_read(c, 0xfff, 1), 0xff);
	assert_int_equal(cfgspace_read(c, 0xfffffffc, 4), 0xffffffff);
	assert_int_equal(cfgspace_read(c, UINT32_MAX, 1), 0xff);

	/* Writes that cross the end are dropped entirely. */
	cfgspace_write(c, 0xfe, 4, 0);
	cfgspace_write(c, 0xff, 2, 0);
	cfgspace_write(c, 0x100, 4, 0);
	cfgspace_write(c, UINT32_MAX, 1, 0);
	assert_int_equal(cfgspace_read(c, 0xfc, 4), 0x44332211);
	/* Nothing past size was touched, even where a mask says writable. */
	cfgspace_set_wmask(c, 0x100, 4, 0xffffffff);
	cfgspace_write(c, 0x100, 4, 0xffffffff);
	assert_int_equal(c->data[0x100], 0);
	assert_int_equal(c->data[0x103], 0);
	free(c);
}

static void test_width_checks(void **state)
{
	struct cfgspace *c = new_cfg(256);

	(void)state;
	cfgspace_set_wmask(c, 0x40, 4, 0xffffffff);
	cfgspace_set_wmask(c, 0x44, 4, 0xffffffff);
	cfgspace_write(c, 0x40, 4, 0x11223344);
	/* Bad widths: reads return all ones, writes are dropped. */
	assert_int_equal(cfgspace_read(c, 0x40, 3) & 0xffffff, 0xffffff);
	assert_int_equal(cfgspace_read(c, 0x40, 8), 0xffffffff);
	assert_int_equal(cfgspace_read(c, 0x40, 5), 0xffffffff);
	cfgspace_write(c, 0x40, 3, 0);
	cfgspace_write(c, 0x40, 8, 0);
	cfgspace_write(c, 0x40, 0, 0);
	cfgspace_write(c, 0x40, 5, 0);
	assert_int_equal(cfgspace_read(c, 0x40, 4), 0x11223344);
	assert_int_equal(cfgspace_read(c, 0x44, 4), 0);
	/* Good widths read little-endian pieces. */
	assert_int_equal(cfgspace_read(c, 0x40, 1), 0x44);
	assert_int_equal(cfgspace_read(c, 0x41, 1), 0x33);
	assert_int_equal(cfgspace_read(c, 0x42, 2), 0x1122);
	cfgspace_write(c, 0x41, 1, 0xab);
	assert_int_equal(cfgspace_read(c, 0x40, 4), 0x1122ab44);
	cfgspace_write(c, 0x42, 2, 0xcdef);
	assert_int_equal(cfgspace_read(c, 0x40, 4), 0xcdefab44);
	free(c);
}

/* ------------------------------------------------------------ MSI (msi.c) */

#define MAXREC 64

struct rec {
	unsigned n;
	unsigned vec[MAXREC];
};

static void rec_msi(void *opaque, unsigned vec)
{
	struct rec *r = opaque;

	if (r->n < MAXREC)
		r->vec[r->n] = vec;
	r->n++;
}

struct fake {
	struct upci_model m;
	struct model_host host;
	struct rec rec;
};

static struct fake *new_fake(uint32_t size)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	cfgspace_init(&f->m.cfg, size);
	f->host.opaque = &f->rec;
	f->host.msi = rec_msi;
	f->m.host = &f->host;
	return f;
}

#define MSI_CAP 0x50u

/* MSI capability with @log2cap vectors capable (MMC field), @is64, masking. */
static void add_msi(struct fake *f, unsigned log2cap, int is64, int maskbit)
{
	uint16_t flags = (uint16_t)(log2cap << PCI_MSI_FLAGS_QMASK_SHIFT);

	if (is64)
		flags |= PCI_MSI_FLAGS_64BIT;
	if (maskbit)
		flags |= PCI_MSI_FLAGS_MASKBIT;
	assert_int_equal(cfgspace_add_cap(&f->m.cfg, PCI_CAP_ID_MSI, MSI_CAP, 0x18), MSI_CAP);
	cfgspace_put(&f->m.cfg, MSI_CAP + PCI_MSI_FLAGS, 2, flags);
}

/* Enable MSI with 2^@log2en vectors (MME field). */
static void msi_enable(struct fake *f, unsigned log2en)
{
	uint32_t flags = cfgspace_get(&f->m.cfg, MSI_CAP + PCI_MSI_FLAGS, 2);

	flags &= ~(uint32_t)PCI_MSI_FLAGS_QSIZE;
	flags |= (log2en << PCI_MSI_FLAGS_QSIZE_SHIFT) | PCI_MSI_FLAGS_ENABLE;
	cfgspace_put(&f->m.cfg, MSI_CAP + PCI_MSI_FLAGS, 2, flags);
	/* No message leaves a function without Bus Master Enable. */
	cfgspace_put(&f->m.cfg, PCI_COMMAND, 2, PCI_COMMAND_MASTER);
}

static void test_msi_no_bus_master(void **state)
{
	struct fake *f = new_fake(256);

	(void)state;
	add_msi(f, 3, 1, 0);
	msi_enable(f, 3);
	cfgspace_put(&f->m.cfg, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	assert_int_equal(model_msi_notify(&f->m, MSI_CAP, 1), 0);
	assert_int_equal(f->rec.n, 0);
	cfgspace_put(&f->m.cfg, PCI_COMMAND, 2, PCI_COMMAND_MASTER);
	assert_int_equal(model_msi_notify(&f->m, MSI_CAP, 1), 1);
	assert_int_equal(f->rec.n, 1);
	free(f);
}

static void test_msi_disabled(void **state)
{
	struct fake *f = new_fake(256);

	(void)state;
	add_msi(f, 3, 1, 1);
	assert_int_equal(model_msi_notify(&f->m, MSI_CAP, 0), 0);
	assert_int_equal(model_msi_notify(&f->m, MSI_CAP, 7), 0);
	assert_int_equal(f->rec.n, 0);
	/* Dropped, not latched. */
	assert_int_equal(cfgspace_get(&f->m.cfg, MSI_CAP + PCI_MSI_PENDING_64, 4), 0);
	/* Beyond capable is an error even when disabled. */
	assert_int_equal(model_msi_notify(&f->m, MSI_CAP, 8), -EINVAL);
	free(f);
}

static void test_msi_enabled(void **state)
{
	struct fake *f = new_fake(256);

	(void)state;
	add_msi(f, 3, 1, 0); /* 8 capable, 64-bit, no masking */
	msi_enable(f, 3);
	assert_int_equal(model_msi_notify(&f->m, MSI_CAP, 0), 1);
	assert_int_equal(model_msi_notify(&f->m, MSI_CAP, 7), 1);
	assert_int_equal(f->rec.n, 2);
	assert_int_equal(f->rec.vec[0], 0);
	assert_int_equal(f->rec.vec[1], 7);
	/* Beyond the capability */
	assert_int_equal(model_msi_notify(&f->m, MSI_CAP, 8), -EINVAL);
	assert_int_equal(model_msi_notify(&f->m, MSI_CAP, 31), -EINVAL);
	assert_int_equal(model_msi_notify(&f->m, MSI_CAP, 32), -EINVAL);
	assert_int_equal(model_msi_notify(&f->m, MSI_CAP, UINT32_MAX), -EINVAL);
	assert_int_equal(f->rec.n, 2);
	/* No capability */
	assert_int_equal(model_msi_notify(&f->m, 0, 0), -EINVAL);
	free(f);
}

static void test_msi_beyond_enabled(void **state)
{
	struct fake *f = new_fake(256);

	(void)state;
	add_msi(f, 3, 0, 0); /* 8 capable, 32-bit */
	msi_enable(f, 1);    /* 2 enabled */
	assert_int_equal(model_msi_notify(&f->m, MSI_CAP, 1), 1);
	assert_int_equal(model_msi_notify(&f->m, MSI_CAP, 2), 0);
	assert_int_equal(model_msi_notify(&f->m, MSI_CAP, 7), 0);
	assert_int_equal(f->rec.n, 1);
	assert_int_equal(f->rec.vec[0], 1);
	assert_int_equal(model_msi_notify(&f->m, MSI_CAP, 8), -EINVAL);

	/* MME above MMC: the capable count still limits what is valid. */
	msi_enable(f, 5);
	assert_int_equal(model_msi_notify(&f->m, MSI_CAP, 7), 1);
	assert_int_equal(model_msi_notify(&f->m, MSI_CAP, 8), -EINVAL);
	assert_int_equal(f->rec.n, 2);
	assert_int_equal(f->rec.vec[1], 7);

	/* Single-vector capability: only vector 0 exists. */
	free(f);
	f = new_fake(256);
	add_msi(f, 0, 1, 0);
	msi_enable(f, 0);
	assert_int_equal(model_msi_notify(&f->m, MSI_CAP, 0), 1);
	assert_int_equal(model_msi_notify(&f->m, MSI_CAP, 1), -EINVAL);
	free(f);
}

static void check_msi_mask(int is64)
{
	struct fake *f = new_fake(256);
	unsigned mask_off = MSI_CAP + (is64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32);
	unsigned pend_off = MSI_CAP + (is64 ? PCI_MSI_PENDING_64 : PCI_MSI_PENDING_32);

	add_msi(f, 2, is64, 1); /* 4 capable, per-vector masking */
	msi_enable(f, 2);
	cfgspace_put(&f->m.cfg, mask_off, 4, (1u << 2) | (1u << 0));
	assert_int_equal(model_msi_notify(&f->m, MSI_CAP, 2), 0);
	assert_int_equal(model_msi_notify(&f->m, MSI_CAP, 0), 0);
	assert_int_equal(f->rec.n, 0);
	assert_int_equal(cfgspace_get(&f->m.cfg, pend_off, 4), (1u << 2) | (1u << 0));
	/* Unmasked vectors go through and leave no pending bit. */
	assert_int_equal(model_msi_notify(&f->m, MSI_CAP, 3), 1);
	assert_int_equal(f->rec.n, 1);
	assert_int_equal(f->rec.vec[0], 3);
	assert_int_equal(cfgspace_get(&f->m.cfg, pend_off, 4), (1u << 2) | (1u << 0));
	/* The mask register itself is untouched. */
	assert_int_equal(cfgspace_get(&f->m.cfg, mask_off, 4), (1u << 2) | (1u << 0));
	/* Without the per-vector-mask capability bit, mask bits mean nothing. */
	free(f);
	f = new_fake(256);
	add_msi(f, 2, is64, 0);
	msi_enable(f, 2);
	cfgspace_put(&f->m.cfg, mask_off, 4, 0xf);
	assert_int_equal(model_msi_notify(&f->m, MSI_CAP, 2), 1);
	assert_int_equal(f->rec.n, 1);
	free(f);
}

static void test_msi_mask64(void **state)
{
	(void)state;
	check_msi_mask(1);
}

static void test_msi_mask32(void **state)
{
	(void)state;
	check_msi_mask(0);
}

/* ---------------------------------------------------------- MSI-X (msi.c) */

#define MSIX_CAP 0x60u

struct fake_msix {
	struct fake *f;
	uint8_t *table;
	uint64_t *pba;
};

static void msix_setup(struct fake_msix *fx, unsigned nvec)
{
	fx->f = new_fake(256);
	fx->table = calloc(nvec, PCI_MSIX_ENTRY_SIZE);
	fx->pba = calloc((nvec + 63) / 64, sizeof(uint64_t));
	assert_non_null(fx->table);
	assert_non_null(fx->pba);
	/* Garbage that reset must clear. */
	memset(fx->table, 0x5a, (size_t)nvec * PCI_MSIX_ENTRY_SIZE);
	memset(fx->pba, 0xff, (nvec + 63) / 64 * sizeof(uint64_t));
	assert_int_equal(cfgspace_add_cap(&fx->f->m.cfg, PCI_CAP_ID_MSIX, MSIX_CAP, PCI_MSIX_SIZEOF), MSIX_CAP);
	cfgspace_put(&fx->f->m.cfg, MSIX_CAP + PCI_MSIX_FLAGS, 2, (nvec - 1) & PCI_MSIX_FLAGS_QSIZE);
	fx->f->m.msix.cap = MSIX_CAP;
	fx->f->m.msix.nvec = nvec;
	fx->f->m.msix.table = fx->table;
	fx->f->m.msix.pba = fx->pba;
	model_msix_reset(&fx->f->m);
}

static void msix_teardown(struct fake_msix *fx)
{
	free(fx->table);
	free(fx->pba);
	free(fx->f);
}

static void msix_ctl(struct fake_msix *fx, int enable, int maskall)
{
	uint32_t v = cfgspace_get(&fx->f->m.cfg, MSIX_CAP + PCI_MSIX_FLAGS, 2);

	v &= ~(uint32_t)(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	if (enable)
		v |= PCI_MSIX_FLAGS_ENABLE;
	if (maskall)
		v |= PCI_MSIX_FLAGS_MASKALL;
	cfgspace_put(&fx->f->m.cfg, MSIX_CAP + PCI_MSIX_FLAGS, 2, v);
	cfgspace_put(&fx->f->m.cfg, PCI_COMMAND, 2, PCI_COMMAND_MASTER);
}

static uint32_t entry_word(struct fake_msix *fx, unsigned vec, unsigned field)
{
	uint32_t v;

	memcpy(&v, fx->table + (size_t)vec * PCI_MSIX_ENTRY_SIZE + field, 4);
	return v;
}

static void entry_mask(struct fake_msix *fx, unsigned vec, int masked)
{
	uint32_t v = masked ? PCI_MSIX_ENTRY_CTRL_MASKBIT : 0;

	memcpy(fx->table + (size_t)vec * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_CTRL, &v, 4);
}

static int pba_bit(struct fake_msix *fx, unsigned vec)
{
	return (int)((fx->pba[vec / 64] >> (vec % 64)) & 1);
}

static void test_msix_reset_defaults(void **state)
{
	struct fake_msix fx;

	(void)state;
	msix_setup(&fx, 70);
	for (unsigned v = 0; v < 70; v++) {
		assert_int_equal(entry_word(&fx, v, PCI_MSIX_ENTRY_ADDR_LO), 0);
		assert_int_equal(entry_word(&fx, v, PCI_MSIX_ENTRY_ADDR_HI), 0);
		assert_int_equal(entry_word(&fx, v, PCI_MSIX_ENTRY_DATA), 0);
		assert_int_equal(entry_word(&fx, v, PCI_MSIX_ENTRY_CTRL), PCI_MSIX_ENTRY_CTRL_MASKBIT);
	}
	assert_int_equal(fx.pba[0], 0);
	assert_int_equal(fx.pba[1], 0);
	msix_teardown(&fx);
}

static void test_msix_disabled(void **state)
{
	struct fake_msix fx;

	(void)state;
	msix_setup(&fx, 8);
	entry_mask(&fx, 1, 0);
	assert_int_equal(model_msix_notify(&fx.f->m, 1), 0);
	assert_int_equal(model_msix_notify(&fx.f->m, 2), 0); /* masked entry too */
	assert_int_equal(fx.f->rec.n, 0);
	assert_int_equal(fx.pba[0], 0); /* dropped, not latched */
	model_msix_replay(&fx.f->m);
	assert_int_equal(fx.f->rec.n, 0);
	assert_int_equal(model_msix_notify(&fx.f->m, 8), -EINVAL);
	msix_teardown(&fx);
}

static void test_msix_deliver(void **state)
{
	struct fake_msix fx;

	(void)state;
	msix_setup(&fx, 8);
	msix_ctl(&fx, 1, 0);
	entry_mask(&fx, 5, 0);
	assert_int_equal(model_msix_notify(&fx.f->m, 5), 1);
	assert_int_equal(fx.f->rec.n, 1);
	assert_int_equal(fx.f->rec.vec[0], 5);
	assert_int_equal(fx.pba[0], 0);
	assert_int_equal(model_msix_notify(&fx.f->m, 8), -EINVAL);
	assert_int_equal(model_msix_notify(&fx.f->m, UINT32_MAX), -EINVAL);
	assert_int_equal(fx.f->rec.n, 1);
	msix_teardown(&fx);
}

static void test_msix_entry_mask(void **state)
{
	struct fake_msix fx;

	(void)state;
	msix_setup(&fx, 8);
	msix_ctl(&fx, 1, 0);
	/* Entry 3 is masked (reset default): latched in the PBA. */
	assert_int_equal(model_msix_notify(&fx.f->m, 3), 0);
	assert_int_equal(fx.f->rec.n, 0);
	assert_int_equal(pba_bit(&fx, 3), 1);
	assert_int_equal(fx.pba[0], 1u << 3);
	/* Replay while still masked: nothing. */
	model_msix_replay(&fx.f->m);
	assert_int_equal(fx.f->rec.n, 0);
	assert_int_equal(pba_bit(&fx, 3), 1);
	/* Unmask and replay: delivered once, PBA cleared. */
	entry_mask(&fx, 3, 0);
	model_msix_replay(&fx.f->m);
	assert_int_equal(fx.f->rec.n, 1);
	assert_int_equal(fx.f->rec.vec[0], 3);
	assert_int_equal(fx.pba[0], 0);
	model_msix_replay(&fx.f->m);
	assert_int_equal(fx.f->rec.n, 1);
	/* Firing twice while masked latches one pending message. */
	entry_mask(&fx, 3, 1);
	assert_int_equal(model_msix_notify(&fx.f->m, 3), 0);
	assert_int_equal(model_msix_notify(&fx.f->m, 3), 0);
	entry_mask(&fx, 3, 0);
	model_msix_replay(&fx.f->m);
	assert_int_equal(fx.f->rec.n, 2);
	assert_int_equal(fx.pba[0], 0);
	msix_teardown(&fx);
}

static void test_msix_function_mask(void **state)
{
	struct fake_msix fx;

	(void)state;
	msix_setup(&fx, 70);
	msix_ctl(&fx, 1, 1);
	entry_mask(&fx, 4, 0);
	entry_mask(&fx, 65, 0);
	assert_int_equal(model_msix_notify(&fx.f->m, 4), 0);
	assert_int_equal(model_msix_notify(&fx.f->m, 65), 0);
	assert_int_equal(model_msix_notify(&fx.f->m, 66), 0); /* entry-masked too */
	assert_int_equal(fx.f->rec.n, 0);
	assert_int_equal(fx.pba[0], 1ull << 4);
	assert_int_equal(fx.pba[1], (1ull << 1) | (1ull << 2));
	model_msix_replay(&fx.f->m);
	assert_int_equal(fx.f->rec.n, 0);
	/* Clear the function mask: 4 and 65 go, 66 stays latched. */
	msix_ctl(&fx, 1, 0);
	model_msix_replay(&fx.f->m);
	assert_int_equal(fx.f->rec.n, 2);
	assert_int_equal(fx.f->rec.vec[0], 4);
	assert_int_equal(fx.f->rec.vec[1], 65);
	assert_int_equal(fx.pba[0], 0);
	assert_int_equal(fx.pba[1], 1ull << 2);
	/* Reset clears the PBA and masks every entry again. */
	model_msix_reset(&fx.f->m);
	assert_int_equal(fx.pba[1], 0);
	assert_int_equal(entry_word(&fx, 4, PCI_MSIX_ENTRY_CTRL), PCI_MSIX_ENTRY_CTRL_MASKBIT);
	model_msix_replay(&fx.f->m);
	assert_int_equal(fx.f->rec.n, 2);
	msix_teardown(&fx);
}

static void test_msix_no_host(void **state)
{
	struct fake_msix fx;

	(void)state;
	msix_setup(&fx, 4);
	fx.f->m.host = NULL; /* "models must check" */
	msix_ctl(&fx, 1, 0);
	entry_mask(&fx, 0, 0);
	assert_true(model_msix_notify(&fx.f->m, 0) >= 0);
	fx.f->host.msi = NULL;
	fx.f->m.host = &fx.f->host;
	assert_true(model_msix_notify(&fx.f->m, 0) >= 0);
	assert_int_equal(fx.f->rec.n, 0);
	msix_teardown(&fx);
}

/* ------------------------------------------------------ params (model.c) */

static void set_params(struct upci_model_params *p, const char *const *kv)
{
	memset(p, 0, sizeof(*p));
	for (unsigned i = 0; kv[2 * i]; i++) {
		snprintf(p->u.p[i].key, sizeof(p->u.p[i].key), "%s", kv[2 * i]);
		snprintf(p->u.p[i].val, sizeof(p->u.p[i].val), "%s", kv[2 * i + 1]);
		p->u.n = i + 1;
	}
}

static int param_of(const char *val, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *kv[] = {"other", "1", "n", val, NULL};
	struct upci_model_params p;

	set_params(&p, kv);
	return upci_model_param_u64(&p, "n", 99, min, max, out);
}

static void test_param_u64(void **state)
{
	uint64_t v = 0;

	(void)state;
	assert_int_equal(param_of("64", 1, 256, &v), 0);
	assert_int_equal(v, 64);
	assert_int_equal(param_of("0x40", 1, 256, &v), 0);
	assert_int_equal(v, 64);
	assert_int_equal(param_of("0X100", 1, 256, &v), 0);
	assert_int_equal(v, 256);
	assert_int_equal(param_of("1", 1, 256, &v), 0); /* both bounds inclusive */
	assert_int_equal(v, 1);
	assert_int_equal(param_of("256", 1, 256, &v), 0);
	assert_int_equal(v, 256);
	assert_int_equal(param_of("18446744073709551615", 0, UINT64_MAX, &v), 0);
	assert_int_equal(v, UINT64_MAX);
	assert_int_equal(param_of("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);

	/* Out of range */
	assert_int_equal(param_of("0", 1, 256, &v), -EINVAL);
	assert_int_equal(param_of("257", 1, 256, &v), -EINVAL);
	assert_int_equal(param_of("0x101", 1, 256, &v), -EINVAL);
	assert_int_equal(param_of("18446744073709551616", 0, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(param_of("99999999999999999999999", 0, UINT64_MAX, &v), -EINVAL);
	/* Junk */
	assert_int_equal(param_of("", 0, 256, &v), -EINVAL);
	assert_int_equal(param_of("abc", 0, 256, &v), -EINVAL);
	assert_int_equal(param_of("12abc", 0, 256, &v), -EINVAL);
	assert_int_equal(param_of("12 ", 0, 256, &v), -EINVAL);
	assert_int_equal(param_of("0x", 0, 256, &v), -EINVAL);
	assert_int_equal(param_of("0xg", 0, 256, &v), -EINVAL);
	assert_int_equal(param_of("1.5", 0, 256, &v), -EINVAL);
	assert_int_equal(param_of("1e3", 0, 10000, &v), -EINVAL);
	/* Negative (strtoull would wrap it) */
	assert_int_equal(param_of("-1", 0, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(param_of("-0", 0, UINT64_MAX, &v), -EINVAL);
}

/* "not a number": leading white space is not part of a number. */
static void test_param_u64_whitespace(void **state)
{
	uint64_t v = 0;

	(void)state;
	assert_int_equal(param_of(" 12", 0, 256, &v), -EINVAL);
	assert_int_equal(param_of("\t12", 0, 256, &v), -EINVAL);
	assert_int_equal(param_of(" -1", 0, UINT64_MAX, &v), -EINVAL);
}

/* "Accepts decimal and 0x hex": a leading zero does not make it octal. */
static void test_param_u64_not_octal(void **state)
{
	uint64_t v = 0;
	int ret;

	(void)state;
	ret = param_of("010", 0, 256, &v);
	assert_true(ret == -EINVAL || (ret == 0 && v == 10));
	ret = param_of("0100", 0, 256, &v);
	assert_true(ret == -EINVAL || (ret == 0 && v == 100));
	ret = param_of("08", 0, 256, &v);
	assert_true(ret == -EINVAL || (ret == 0 && v == 8));
}

static void test_param_missing(void **state)
{
	const char *kv[] = {"a", "1", NULL};
	struct upci_model_params p;
	uint64_t v = 0;

	(void)state;
	set_params(&p, kv);
	assert_int_equal(upci_model_param_u64(&p, "vectors", 32, 1, 256, &v), 0);
	assert_int_equal(v, 32);
	assert_int_equal(upci_model_param_u64(NULL, "vectors", 16, 1, 256, &v), 0);
	assert_int_equal(v, 16);
	memset(&p, 0, sizeof(p));
	assert_int_equal(upci_model_param_u64(&p, "vectors", 7, 1, 256, &v), 0);
	assert_int_equal(v, 7);
	/* Key match is exact: "vector" is not "vectors". */
	{
		const char *kv2[] = {"vector", "3", "vectorsx", "4", NULL};

		set_params(&p, kv2);
		assert_int_equal(upci_model_param_u64(&p, "vectors", 5, 1, 256, &v), 0);
		assert_int_equal(v, 5);
	}
}

static void test_params_check(void **state)
{
	static const char *const known[] = {"vectors", "mem", NULL};
	static const char *const none[] = {NULL};
	const char *kv_ok[] = {"vectors", "1", "mem", "4096", NULL};
	const char *kv_bad[] = {"vectors", "1", "bogus", "2", "worse", "3", NULL};
	struct upci_model_params p;
	const char *bad = NULL;

	(void)state;
	set_params(&p, kv_ok);
	assert_int_equal(upci_model_params_check(&p, known, &bad), 0);
	assert_int_equal(upci_model_params_check(&p, known, NULL), 0);
	assert_int_equal(upci_model_params_check(&p, none, &bad), -EINVAL);
	assert_non_null(bad);
	assert_string_equal(bad, "vectors");

	bad = NULL;
	set_params(&p, kv_bad);
	assert_int_equal(upci_model_params_check(&p, known, &bad), -EINVAL);
	assert_non_null(bad);
	assert_string_equal(bad, "bogus");
	assert_int_equal(upci_model_params_check(&p, known, NULL), -EINVAL);

	memset(&p, 0, sizeof(p));
	assert_int_equal(upci_model_params_check(&p, none, &bad), 0);
	assert_int_equal(upci_model_params_check(&p, known, &bad), 0);
	assert_int_equal(upci_model_params_check(NULL, known, &bad), 0);
	{
		const char *kv_case[] = {"Vectors", "1", NULL};

		set_params(&p, kv_case);
		assert_int_equal(upci_model_params_check(&p, known, &bad), -EINVAL);
		assert_string_equal(bad, "Vectors");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_ids_read_only),
		cmocka_unit_test(test_command_mask),
		cmocka_unit_test(test_status_w1c),
		cmocka_unit_test(test_bar_mem32),
		cmocka_unit_test(test_bar_mem64),
		cmocka_unit_test(test_bar_io),
		cmocka_unit_test(test_add_cap_chain),
		cmocka_unit_test(test_add_ext_cap_chain),
		cmocka_unit_test(test_reset_image),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_width_checks),
		cmocka_unit_test(test_msi_disabled),
		cmocka_unit_test(test_msi_no_bus_master),
		cmocka_unit_test(test_msi_enabled),
		cmocka_unit_test(test_msi_beyond_enabled),
		cmocka_unit_test(test_msi_mask64),
		cmocka_unit_test(test_msi_mask32),
		cmocka_unit_test(test_msix_reset_defaults),
		cmocka_unit_test(test_msix_disabled),
		cmocka_unit_test(test_msix_deliver),
		cmocka_unit_test(test_msix_entry_mask),
		cmocka_unit_test(test_msix_function_mask),
		cmocka_unit_test(test_msix_no_host),
		cmocka_unit_test(test_param_u64),
		cmocka_unit_test(test_param_u64_whitespace),
		cmocka_unit_test(test_param_u64_not_octal),
		cmocka_unit_test(test_param_missing),
		cmocka_unit_test(test_params_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

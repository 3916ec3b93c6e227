/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/core through the sim backend (sim:edu, sim:testdev):
 * argument and state checks, claims, DMA mappings and buffers, interrupts,
 * reset, close, strerror. Expected values come from include/upci/upci.h,
 * src/model/edu_regs.h and src/model/testdev_regs.h.
 *
 * Threads other than the test thread never call cmocka asserts: they
 * record failures in atomics that the test thread checks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "edu_regs.h"
#include "pci_regs.h"
#include "testdev_regs.h"
#include "upci/upci.h"

#define EDU "sim:edu"
#define TD "sim:testdev"
#define TD64 "sim:testdev?vectors=64"
#define MiB (1ull << 20)

static const uint64_t ALL_ONES[UPCI_IRQ_WORDS] = {UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX};

/* ------------------------------------------------------------- helpers */

static uint64_t page_size(void)
{
	long ps = sysconf(_SC_PAGESIZE);

	return ps > 0 ? (uint64_t)ps : 4096;
}

/*
 * Every handle a test opens is tracked, so that a test that fails half-way
 * does not leave a claimed device behind for the next one (teardown closes
 * what is left).
 */
#define MAX_OPEN 16
static upci_dev *opened[MAX_OPEN];

static upci_dev *open_dev(const char *uri)
{
	upci_dev *d = NULL;
	int ret = upci_open(&d, uri);
	unsigned i;

	if (ret)
		print_error("upci_open(%s): %s\n", uri, upci_strerror(ret));
	assert_int_equal(ret, 0);
	assert_non_null(d);
	for (i = 0; i < MAX_OPEN && opened[i]; i++)
		;
	assert_true(i < MAX_OPEN);
	opened[i] = d;
	return d;
}

static void close_dev(upci_dev *d)
{
	for (unsigned i = 0; i < MAX_OPEN; i++)
		if (opened[i] == d)
			opened[i] = NULL;
	upci_close(d);
}

static int teardown(void **state)
{
	(void)state;
	for (unsigned i = 0; i < MAX_OPEN; i++)
		if (opened[i]) {
			upci_close(opened[i]);
			opened[i] = NULL;
		}
	return 0;
}

static upci_dev *open_claimed(const char *uri)
{
	upci_dev *d = open_dev(uri);

	assert_int_equal(upci_claim(d), 0);
	return d;
}

/* Page-aligned anonymous memory. */
static void *pages(size_t n)
{
	void *p = mmap(NULL, n * page_size(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	return p;
}

static void unpages(void *p, size_t n)
{
	munmap(p, n * page_size());
}

static int fd_readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void doorbell(upci_dev *d, unsigned vec)
{
	assert_int_equal(upci_mmio_write(d, TESTDEV_BAR_REGS, TESTDEV_REG_DOORBELL, 4, vec), 0);
}

static uint32_t td_reg(upci_dev *d, uint32_t off)
{
	uint64_t v = 0;

	assert_int_equal(upci_mmio_read(d, TESTDEV_BAR_REGS, off, 4, &v), 0);
	return (uint32_t)v;
}

static void expect_only(const uint64_t w[UPCI_IRQ_WORDS], unsigned v)
{
	for (unsigned i = 0; i < UPCI_IRQ_WORDS; i++)
		assert_int_equal(w[i], i == v / 64 ? (1ull << (v % 64)) : 0);
}

/* ------------------------------------------------------------ identity */

static void test_identity(void **state)
{
	upci_dev *e = open_dev(EDU), *t = open_dev(TD);
	struct upci_identity id;

	(void)state;
	assert_string_equal(upci_uri(e), EDU);
	assert_int_equal(upci_identity(e, &id), 0);
	assert_int_equal(id.vendor_id, EDU_VENDOR_ID);
	assert_int_equal(id.device_id, EDU_DEVICE_ID);
	assert_int_equal(id.revision, EDU_REVISION);
	assert_int_equal(id.class_code, EDU_CLASS_CODE);
	assert_int_equal(id.subsys_vendor_id, EDU_SUBSYS_VENDOR_ID);
	assert_int_equal(id.subsys_id, EDU_SUBSYS_ID);
	assert_int_equal(id.config_size, 256);
	assert_string_equal(id.backend, "sim");
	assert_string_equal(id.name, "edu");

	assert_int_equal(upci_identity(t, &id), 0);
	assert_int_equal(id.vendor_id, TESTDEV_VENDOR_ID);
	assert_int_equal(id.device_id, TESTDEV_DEVICE_ID);
	assert_int_equal(id.revision, TESTDEV_REVISION);
	assert_int_equal(id.class_code, TESTDEV_CLASS_CODE);
	assert_int_equal(id.config_size, 4096);
	assert_string_equal(id.backend, "sim");
	assert_string_equal(id.name, "testdev");
	close_dev(e);
	close_dev(t);
}

/* -------------------------------------------------------- config space */

static void check_config_args(const char *uri, uint32_t size)
{
	upci_dev *d = open_claimed(uri);
	static const unsigned bad_widths[] = {0, 3, 5, 6, 7, 8, 16, UINT_MAX};
	uint32_t v = 0xdeadbeef, cmd;

	for (size_t i = 0; i < sizeof(bad_widths) / sizeof(bad_widths[0]); i++) {
		assert_int_equal(upci_config_read(d, 0, bad_widths[i], &v), -EINVAL);
		assert_int_equal(upci_config_write(d, 0x3c, bad_widths[i], 0), -EINVAL);
	}
	/* Misaligned */
	assert_int_equal(upci_config_read(d, 1, 2, &v), -EFAULT);
	assert_int_equal(upci_config_read(d, 2, 4, &v), -EFAULT);
	assert_int_equal(upci_config_read(d, 3, 4, &v), -EFAULT);
	assert_int_equal(upci_config_write(d, 5, 2, 0), -EFAULT);
	assert_int_equal(upci_config_write(d, 6, 4, 0), -EFAULT);
	/* Range */
	assert_int_equal(upci_config_read(d, size - 4, 4, &v), 0);
	assert_int_equal(upci_config_read(d, size - 2, 2, &v), 0);
	assert_int_equal(upci_config_read(d, size - 1, 1, &v), 0);
	assert_int_equal(upci_config_read(d, size, 1, &v), -ERANGE);
	assert_int_equal(upci_config_read(d, size, 4, &v), -ERANGE);
	assert_int_equal(upci_config_read(d, size + 4, 4, &v), -ERANGE);
	assert_int_equal(upci_config_read(d, 0xfffffffc, 4, &v), -ERANGE);
	assert_int_equal(upci_config_read(d, UINT32_MAX, 1, &v), -ERANGE);
	assert_int_equal(upci_config_write(d, size, 1, 0), -ERANGE);
	assert_int_equal(upci_config_write(d, size, 4, 0), -ERANGE);
	assert_int_equal(upci_config_write(d, 0xfffffffc, 4, 0), -ERANGE);
	/* Value wider than the access */
	assert_int_equal(upci_config_read(d, PCI_COMMAND, 2, &cmd), 0);
	assert_int_equal(upci_config_write(d, PCI_COMMAND, 2, 0x10000 | PCI_COMMAND_MEMORY), -EINVAL);
	assert_int_equal(upci_config_write(d, PCI_COMMAND, 1, 0x100 | PCI_COMMAND_MEMORY), -EINVAL);
	assert_int_equal(upci_config_write(d, PCI_INTERRUPT_LINE, 1, 0xffffff00u | 5), -EINVAL);
	assert_int_equal(upci_config_read(d, PCI_COMMAND, 2, &v), 0);
	assert_int_equal(v, cmd);
	/* A good write reaches the emulated config space with its masks. */
	assert_int_equal(upci_config_write(d, PCI_COMMAND, 2, 0xffff), 0);
	assert_int_equal(upci_config_read(d, PCI_COMMAND, 2, &v), 0);
	assert_int_equal(v & PCI_COMMAND_MEMORY, PCI_COMMAND_MEMORY);
	assert_int_equal(v & PCI_COMMAND_MASTER, PCI_COMMAND_MASTER);
	assert_int_equal(v & 0x0008, 0); /* special cycles: not writable */
	assert_int_equal(upci_config_write(d, PCI_COMMAND, 2, 0), 0);
	assert_int_equal(upci_config_write(d, PCI_VENDOR_ID, 4, 0), 0);
	assert_int_equal(upci_config_read(d, PCI_VENDOR_ID, 2, &v), 0);
	assert_int_not_equal(v, 0);
	assert_int_equal(upci_config_write(d, PCI_INTERRUPT_LINE, 1, 0x0b), 0);
	assert_int_equal(upci_config_read(d, PCI_INTERRUPT_LINE, 1, &v), 0);
	assert_int_equal(v, 0x0b);
	close_dev(d);
}

static void test_config_args_edu(void **state)
{
	(void)state;
	check_config_args(EDU, 256);
}

static void test_config_args_testdev(void **state)
{
	(void)state;
	check_config_args(TD, 4096);
}

static void test_config_read_values(void **state)
{
	upci_dev *e = open_dev(EDU), *t = open_dev(TD);
	uint32_t v;

	(void)state;
	assert_int_equal(upci_config_read(e, PCI_VENDOR_ID, 2, &v), 0);
	assert_int_equal(v, EDU_VENDOR_ID);
	assert_int_equal(upci_config_read(e, PCI_VENDOR_ID, 4, &v), 0);
	assert_int_equal(v, (EDU_DEVICE_ID << 16) | EDU_VENDOR_ID);
	assert_int_equal(upci_config_read(e, PCI_DEVICE_ID + 1, 1, &v), 0);
	assert_int_equal(v, EDU_DEVICE_ID >> 8);
	assert_int_equal(upci_config_read(e, PCI_INTERRUPT_PIN, 1, &v), 0);
	assert_int_equal(v, EDU_INTX_PIN);
	assert_int_equal(upci_config_read(t, PCI_VENDOR_ID, 4, &v), 0);
	assert_int_equal(v, (TESTDEV_DEVICE_ID << 16) | TESTDEV_VENDOR_ID);
	/* Extended space: DSN capability header at 0x100 */
	assert_int_equal(upci_config_read(t, TESTDEV_ECAP_DSN, 4, &v), 0);
	assert_int_equal(PCI_EXT_CAP_ID(v), PCI_EXT_CAP_ID_DSN);
	close_dev(e);
	close_dev(t);
}

static void test_config_read_block(void **state)
{
	upci_dev *e = open_dev(EDU), *t = open_dev(TD);
	uint8_t buf[4097], ref[4096];
	uint32_t v;

	(void)state;
	/* Reference image, a byte at a time (works unclaimed). */
	for (uint32_t i = 0; i < 256; i++) {
		assert_int_equal(upci_config_read(e, i, 1, &v), 0);
		ref[i] = (uint8_t)v;
	}
	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(upci_config_read_block(e, 0, buf, 0), 0);
	assert_int_equal(buf[0], 0x5a);
	assert_int_equal(upci_config_read_block(e, 0, buf, 256), 0);
	assert_memory_equal(buf, ref, 256);
	assert_int_equal(buf[256], 0x5a);
	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(upci_config_read_block(e, 1, buf, 7), 0); /* unaligned */
	assert_memory_equal(buf, ref + 1, 7);
	assert_int_equal(buf[7], 0x5a);
	assert_int_equal(upci_config_read_block(e, 255, buf, 1), 0);
	assert_int_equal(buf[0], ref[255]);
	assert_int_equal(upci_config_read_block(e, 128, buf, 128), 0);
	assert_memory_equal(buf, ref + 128, 128);
	/* One past the end */
	assert_int_equal(upci_config_read_block(e, 0, buf, 257), -ERANGE);
	assert_int_equal(upci_config_read_block(e, 255, buf, 2), -ERANGE);
	assert_int_equal(upci_config_read_block(e, 256, buf, 1), -ERANGE);
	assert_int_equal(upci_config_read_block(e, 257, buf, 0), -ERANGE);
	assert_int_equal(upci_config_read_block(e, 1, buf, SIZE_MAX), -ERANGE);
	assert_int_equal(upci_config_read_block(e, UINT32_MAX, buf, 2), -ERANGE);
	assert_int_equal(upci_config_read_block(e, 0, NULL, 4), -EINVAL);

	for (uint32_t i = 0; i < 4096; i += 4) {
		assert_int_equal(upci_config_read(t, i, 4, &v), 0);
		memcpy(ref + i, &v, 4); /* little-endian host */
	}
	assert_int_equal(upci_config_read_block(t, 0, buf, 4096), 0);
	assert_memory_equal(buf, ref, 4096);
	assert_int_equal(upci_config_read_block(t, 4095, buf, 1), 0);
	assert_int_equal(upci_config_read_block(t, 0, buf, 4097), -ERANGE);
	assert_int_equal(upci_config_read_block(t, 4096, buf, 1), -ERANGE);
	assert_int_equal(upci_config_read_block(t, 256, buf, 3841), -ERANGE);
	close_dev(e);
	close_dev(t);
}

/* ---------------------------------------------------------------- BARs */

static void test_bar_info(void **state)
{
	upci_dev *e = open_dev(EDU), *t = open_dev(TD);
	struct upci_bar_info bi;

	(void)state;
	assert_int_equal(upci_bar_info(e, 0, &bi), 0);
	assert_int_equal(bi.size, EDU_BAR_SIZE);
	assert_true(bi.flags & UPCI_BAR_PRESENT);
	assert_false(bi.flags & (UPCI_BAR_IO | UPCI_BAR_MEM64 | UPCI_BAR_PREFETCH));
	for (unsigned b = 1; b < UPCI_NUM_BARS; b++) {
		memset(&bi, 0xff, sizeof(bi));
		assert_int_equal(upci_bar_info(e, b, &bi), 0);
		assert_int_equal(bi.size, 0);
		assert_int_equal(bi.flags, 0);
	}
	assert_int_equal(upci_bar_info(t, TESTDEV_BAR_REGS, &bi), 0);
	assert_int_equal(bi.size, TESTDEV_BAR_REGS_SIZE);
	assert_int_equal(bi.flags & (UPCI_BAR_PRESENT | UPCI_BAR_MEM64 | UPCI_BAR_PREFETCH | UPCI_BAR_IO),
			 UPCI_BAR_PRESENT | UPCI_BAR_MEM64);
	assert_int_equal(upci_bar_info(t, TESTDEV_BAR_MEM, &bi), 0);
	assert_int_equal(bi.size, TESTDEV_MEM_DEFAULT);
	assert_int_equal(bi.flags & (UPCI_BAR_PRESENT | UPCI_BAR_MEM64 | UPCI_BAR_PREFETCH | UPCI_BAR_MAPPABLE),
			 UPCI_BAR_PRESENT | UPCI_BAR_MEM64 | UPCI_BAR_PREFETCH | UPCI_BAR_MAPPABLE);
	/* The upper halves of the 64-bit BARs and 4, 5 are not BARs. */
	for (unsigned b = 1; b < UPCI_NUM_BARS; b += (b == 1 ? 2 : 1)) {
		assert_int_equal(upci_bar_info(t, b, &bi), 0);
		assert_int_equal(bi.size, 0);
		assert_int_equal(bi.flags, 0);
	}
	assert_int_equal(upci_bar_info(e, UPCI_NUM_BARS, &bi), -EINVAL);
	assert_int_equal(upci_bar_info(e, UINT_MAX, &bi), -EINVAL);
	close_dev(e);
	close_dev(t);
}

static void test_bar_map(void **state)
{
	upci_dev *t = open_claimed(TD), *e = open_claimed(EDU);
	void *a = NULL, *a2 = NULL;
	uint64_t len = 0, v = 0;
	struct upci_bar_info bi;

	(void)state;
	assert_int_equal(upci_bar_map(t, TESTDEV_BAR_MEM, &a, &len), 0);
	assert_non_null(a);
	assert_int_equal(len, TESTDEV_MEM_DEFAULT);
	/* Through the mapping and through MMIO: the same RAM. */
	((volatile uint32_t *)a)[4] = 0xfeedf00d;
	assert_int_equal(upci_mmio_read(t, TESTDEV_BAR_MEM, 16, 4, &v), 0);
	assert_int_equal(v, 0xfeedf00d);
	assert_int_equal(upci_mmio_write(t, TESTDEV_BAR_MEM, len - 8, 8, 0x0123456789abcdefull), 0);
	assert_int_equal(((volatile uint64_t *)a)[len / 8 - 1], 0x0123456789abcdefull);
	/* Mapping twice returns the same mapping, counted: one unmap leaves
	 * it to the other user. */
	assert_int_equal(upci_bar_map(t, TESTDEV_BAR_MEM, &a2, NULL), 0);
	assert_ptr_equal(a, a2);
	assert_int_equal(upci_bar_unmap(t, TESTDEV_BAR_MEM), 0);
	assert_int_equal(((volatile uint32_t *)a)[4], 0xfeedf00d); /* SIGSEGV if unmapped */
	assert_int_equal(upci_bar_map(t, TESTDEV_BAR_MEM, &a2, NULL), 0);
	assert_ptr_equal(a, a2);
	assert_int_equal(upci_bar_unmap(t, TESTDEV_BAR_MEM), 0);
	/* Trapped, absent and invalid BARs */
	assert_int_equal(upci_bar_map(t, TESTDEV_BAR_REGS, &a2, &len), -ENOTSUP);
	assert_int_equal(upci_bar_map(t, 1, &a2, &len), -EINVAL);
	assert_int_equal(upci_bar_map(t, 4, &a2, &len), -EINVAL);
	assert_int_equal(upci_bar_map(t, UPCI_NUM_BARS, &a2, &len), -EINVAL);
	assert_int_equal(upci_bar_unmap(t, UPCI_NUM_BARS), -EINVAL);
	assert_int_equal(upci_bar_unmap(t, TESTDEV_BAR_REGS), -ENOENT);
	assert_int_equal(upci_bar_unmap(t, TESTDEV_BAR_MEM), 0);
	assert_int_equal(upci_bar_unmap(t, TESTDEV_BAR_MEM), -ENOENT);
	/* The RAM outlives the mapping. */
	assert_int_equal(upci_mmio_read(t, TESTDEV_BAR_MEM, 16, 4, &v), 0);
	assert_int_equal(v, 0xfeedf00d);

	/* edu: a read-only mirror of the registers */
	assert_int_equal(upci_bar_info(e, 0, &bi), 0);
	assert_true(bi.flags & UPCI_BAR_MAPPABLE);
	assert_true(bi.flags & UPCI_BAR_MAP_RDONLY);
	assert_int_equal(upci_bar_map(e, 0, &a, &len), 0);
	assert_int_equal(len, EDU_BAR_SIZE);
	assert_int_equal(((volatile uint32_t *)a)[EDU_REG_ID / 4], EDU_ID_VALUE);
	assert_int_equal(upci_mmio_write(e, 0, EDU_REG_FACTORIAL, 4, 5), 0);
	assert_int_equal(((volatile uint32_t *)a)[EDU_REG_FACTORIAL / 4], 120);
	close_dev(t); /* closes with no mapping left */
	close_dev(e); /* closes with the edu mapping alive */
}

static void check_mmio_args(upci_dev *d, unsigned bar, uint64_t size, unsigned absent)
{
	uint64_t v;

	/* BAR index */
	assert_int_equal(upci_mmio_read(d, UPCI_NUM_BARS, 0, 4, &v), -EINVAL);
	assert_int_equal(upci_mmio_write(d, UPCI_NUM_BARS, 0, 4, 0), -EINVAL);
	assert_int_equal(upci_mmio_read(d, UINT_MAX, 0, 4, &v), -EINVAL);
	assert_int_equal(upci_mmio_read(d, absent, 0, 4, &v), -EINVAL);
	assert_int_equal(upci_mmio_write(d, absent, 0, 4, 0), -EINVAL);
	/* Width */
	assert_int_equal(upci_mmio_read(d, bar, 0, 0, &v), -EINVAL);
	assert_int_equal(upci_mmio_read(d, bar, 0, 3, &v), -EINVAL);
	assert_int_equal(upci_mmio_read(d, bar, 0, 16, &v), -EINVAL);
	assert_int_equal(upci_mmio_write(d, bar, 0, 0, 0), -EINVAL);
	assert_int_equal(upci_mmio_write(d, bar, 0, 6, 0), -EINVAL);
	assert_int_equal(upci_mmio_write(d, bar, 0, 16, 0), -EINVAL);
	/* Alignment */
	assert_int_equal(upci_mmio_read(d, bar, 2, 4, &v), -EFAULT);
	assert_int_equal(upci_mmio_read(d, bar, 4, 8, &v), -EFAULT);
	assert_int_equal(upci_mmio_read(d, bar, 1, 2, &v), -EFAULT);
	assert_int_equal(upci_mmio_write(d, bar, 2, 4, 0), -EFAULT);
	/* Range */
	assert_int_equal(upci_mmio_read(d, bar, size, 4, &v), -ERANGE);
	assert_int_equal(upci_mmio_read(d, bar, size, 1, &v), -ERANGE);
	assert_int_equal(upci_mmio_read(d, bar, size + 8, 8, &v), -ERANGE);
	assert_int_equal(upci_mmio_read(d, bar, UINT64_MAX - 7, 8, &v), -ERANGE);
	assert_int_equal(upci_mmio_read(d, bar, UINT64_MAX, 1, &v), -ERANGE);
	assert_int_equal(upci_mmio_write(d, bar, size, 4, 0), -ERANGE);
	assert_int_equal(upci_mmio_write(d, bar, UINT64_MAX - 3, 4, 0), -ERANGE);
	/* Value wider than the access */
	assert_int_equal(upci_mmio_write(d, bar, 0, 1, 0x100), -EINVAL);
	assert_int_equal(upci_mmio_write(d, bar, 0, 2, 0x10000), -EINVAL);
	assert_int_equal(upci_mmio_write(d, bar, 0, 4, 1ull << 32), -EINVAL);
	/* The last naturally aligned 8 bytes are inside. */
	assert_int_equal(upci_mmio_read(d, bar, size - 8, 8, &v), 0);
}

static void test_mmio_args(void **state)
{
	upci_dev *e = open_claimed(EDU), *t = open_claimed(TD);
	uint64_t v = 0;

	(void)state;
	check_mmio_args(e, 0, EDU_BAR_SIZE, 1);
	check_mmio_args(t, TESTDEV_BAR_REGS, TESTDEV_BAR_REGS_SIZE, 1);
	check_mmio_args(t, TESTDEV_BAR_MEM, TESTDEV_MEM_DEFAULT, 4);
	assert_int_equal(upci_mmio_read(e, 0, EDU_REG_ID, 4, &v), 0);
	assert_int_equal(v, EDU_ID_VALUE);
	assert_int_equal(upci_mmio_read(t, TESTDEV_BAR_REGS, TESTDEV_REG_ID, 4, &v), 0);
	assert_int_equal(v, TESTDEV_ID_VALUE);
	assert_int_equal(upci_mmio_read(t, TESTDEV_BAR_REGS, TESTDEV_REG_NVEC, 4, &v), 0);
	assert_int_equal(v, TESTDEV_VECTORS_DEFAULT);
	assert_int_equal(upci_mmio_read(t, TESTDEV_BAR_REGS, TESTDEV_REG_MEM_SIZE, 8, &v), 0);
	assert_int_equal(v, TESTDEV_MEM_DEFAULT);
	assert_int_equal(upci_mmio_write(t, TESTDEV_BAR_REGS, TESTDEV_REG_SCRATCH, 4, 0xffffffffu), 0);
	assert_int_equal(td_reg(t, TESTDEV_REG_SCRATCH), 0xffffffffu);
	close_dev(e);
	close_dev(t);
}

/* -------------------------------------------------------------- claims */

static void check_unclaimed(upci_dev *d, int has_mappable_bar, unsigned mbar)
{
	struct upci_dma_buf buf;
	uint64_t v = 0, bus = 0;
	uint32_t c = 0;
	void *p = pages(1), *a = NULL;
	struct upci_identity id;
	struct upci_bar_info bi;

	/* Allowed unclaimed */
	assert_int_equal(upci_identity(d, &id), 0);
	assert_int_equal(upci_config_read(d, PCI_VENDOR_ID, 2, &c), 0);
	assert_int_equal(upci_bar_info(d, 0, &bi), 0);
	assert_int_equal(upci_config_read_block(d, 0, &c, 4), 0);
	/* Not allowed */
	assert_int_equal(upci_config_write(d, PCI_COMMAND, 2, 0), -EPERM);
	assert_int_equal(upci_mmio_read(d, 0, 0, 4, &v), -EPERM);
	assert_int_equal(upci_mmio_write(d, 0, 0, 4, 0), -EPERM);
	assert_int_equal(upci_dma_map(d, 0x100000, p, page_size(), UPCI_DMA_RW, &bus), -EPERM);
	assert_int_equal(upci_dma_unmap(d, 0x100000), -EPERM);
	assert_int_equal(upci_dma_alloc(d, UPCI_IOVA_ANY, page_size(), &buf), -EPERM);
	assert_int_equal(upci_dma_alloc(d, 0x200000, page_size(), &buf), -EPERM);
	assert_int_equal(upci_irq_enable(d, UPCI_IRQ_AUTO, 0), -EPERM);
	assert_int_equal(upci_irq_enable(d, UPCI_IRQ_AUTO, 1), -EPERM);
	assert_int_equal(upci_reset(d), -EPERM);
	if (has_mappable_bar)
		assert_int_equal(upci_bar_map(d, mbar, &a, NULL), -EPERM);
	assert_int_equal(upci_release(d), -EPERM);
	unpages(p, 1);
}

static void test_claim_required(void **state)
{
	upci_dev *t = open_dev(TD), *e = open_dev(EDU);

	(void)state;
	check_unclaimed(t, 1, TESTDEV_BAR_MEM);
	check_unclaimed(e, 1, 0);
	/* And again after a claim was given back. */
	assert_int_equal(upci_claim(t), 0);
	assert_int_equal(upci_release(t), 0);
	check_unclaimed(t, 1, TESTDEV_BAR_MEM);
	close_dev(t);
	close_dev(e);
}

static void test_claim_exclusive(void **state)
{
	upci_dev *a = open_dev(TD), *b = open_dev(TD);
	uint64_t v;

	(void)state;
	assert_int_equal(upci_claim(a), 0);
	assert_int_equal(upci_claim(a), 0); /* again: still 0 */
	assert_int_equal(upci_claim(b), -EBUSY);
	assert_int_equal(upci_release(b), -EPERM);
	assert_int_equal(upci_mmio_read(b, 0, 0, 4, &v), -EPERM);
	assert_int_equal(upci_reset(b), -EPERM);
	assert_int_equal(upci_release(a), 0);
	assert_int_equal(upci_release(a), -EPERM);
	assert_int_equal(upci_claim(b), 0);
	assert_int_equal(upci_claim(a), -EBUSY);
	assert_int_equal(upci_mmio_read(b, 0, 0, 4, &v), 0);
	/* Closing the holder gives the claim back. */
	close_dev(b);
	assert_int_equal(upci_claim(a), 0);
	close_dev(a);
}

static void test_same_uri_same_instance(void **state)
{
	upci_dev *a = open_claimed(TD), *b = open_dev(TD);
	uint32_t v;

	(void)state;
	assert_int_equal(upci_mmio_write(a, 0, TESTDEV_REG_SCRATCH, 4, 0x5ca1ab1e), 0);
	assert_int_equal(upci_config_write(a, PCI_INTERRUPT_LINE, 1, 0x0e), 0);
	/* b sees a's config write without a claim */
	assert_int_equal(upci_config_read(b, PCI_INTERRUPT_LINE, 1, &v), 0);
	assert_int_equal(v, 0x0e);
	assert_int_equal(upci_release(a), 0);
	assert_int_equal(upci_claim(b), 0);
	assert_int_equal(td_reg(b, TESTDEV_REG_SCRATCH), 0x5ca1ab1e);
	close_dev(a);
	close_dev(b);
}

static void test_different_uris(void **state)
{
	upci_dev *a = open_claimed(TD), *b = open_claimed(TD64), *c = open_claimed("sim:testdev?vectors=32");

	(void)state;
	assert_int_equal(td_reg(a, TESTDEV_REG_NVEC), 32);
	assert_int_equal(td_reg(b, TESTDEV_REG_NVEC), 64);
	assert_int_equal(td_reg(c, TESTDEV_REG_NVEC), 32);
	assert_int_equal(upci_mmio_write(a, 0, TESTDEV_REG_SCRATCH, 4, 1), 0);
	assert_int_equal(upci_mmio_write(b, 0, TESTDEV_REG_SCRATCH, 4, 2), 0);
	assert_int_equal(upci_mmio_write(c, 0, TESTDEV_REG_SCRATCH, 4, 3), 0);
	assert_int_equal(td_reg(a, TESTDEV_REG_SCRATCH), 1);
	assert_int_equal(td_reg(b, TESTDEV_REG_SCRATCH), 2);
	assert_int_equal(td_reg(c, TESTDEV_REG_SCRATCH), 3);
	close_dev(a);
	close_dev(b);
	close_dev(c);
}

static void test_release_drops_state(void **state)
{
	upci_dev *d = open_claimed(TD);
	struct upci_dma_buf buf;
	enum upci_irq_type type;
	unsigned nvec;
	uint64_t bus, v;
	void *p = pages(1), *a;
	uint64_t mask[UPCI_IRQ_WORDS] = {0};

	(void)state;
	assert_int_equal(upci_dma_map(d, 0x40000000, p, page_size(), 0, &bus), 0);
	assert_int_equal(upci_dma_alloc(d, UPCI_IOVA_ANY, page_size(), &buf), 0);
	assert_int_equal(upci_bar_map(d, TESTDEV_BAR_MEM, &a, NULL), 0);
	assert_int_equal(upci_irq_enable(d, UPCI_IRQ_MSIX, 4), 4);
	assert_int_equal(upci_irq_set_mask(d, mask), 0);
	/* Memory the caller holds pointers and an fd to: refused, untouched. */
	assert_int_equal(upci_release(d), -EBUSY);
	assert_int_equal(fcntl(buf.fd, F_GETFD) >= 0, 1);
	memset(buf.vaddr, 0x5a, page_size());
	((volatile uint8_t *)a)[0] = 1;
	assert_int_equal(upci_bar_unmap(d, TESTDEV_BAR_MEM), 0);
	assert_int_equal(upci_release(d), -EBUSY); /* the buffer still */
	assert_int_equal(upci_dma_free(d, &buf), 0);
	assert_int_equal(upci_release(d), 0);
	assert_int_equal(upci_irq_info(d, &type, &nvec), 0);
	assert_int_equal(type, UPCI_IRQ_NONE);
	assert_int_equal(nvec, 0);
	assert_int_equal(upci_claim(d), 0);
	assert_int_equal(upci_dma_unmap(d, 0x40000000), -ENOENT);
	assert_int_equal(upci_bar_unmap(d, TESTDEV_BAR_MEM), -ENOENT);
	/* The device no longer signals: MSI-X is off. */
	doorbell(d, 0);
	assert_int_equal(upci_irq_peek_pending(d, mask), 0);
	/* The same IOVA can be mapped again. */
	assert_int_equal(upci_dma_map(d, 0x40000000, p, page_size(), 0, &bus), 0);
	assert_int_equal(upci_mmio_read(d, 0, TESTDEV_REG_ID, 4, &v), 0);
	close_dev(d);
	unpages(p, 1);
}

/* ----------------------------------------------------------------- DMA */

static void test_dma_map_args(void **state)
{
	upci_dev *d = open_claimed(TD);
	uint64_t ps = page_size(), bus = 0;
	uint8_t *p = pages(16);
	const uint64_t A = 0x10000000;

	(void)state;
	assert_int_equal(upci_dma_map(d, A + 1, p, ps, 0, &bus), -EINVAL);
	assert_int_equal(upci_dma_map(d, A + ps / 2, p, ps, 0, &bus), -EINVAL);
	assert_int_equal(upci_dma_map(d, A, p + 1, ps, 0, &bus), -EINVAL);
	assert_int_equal(upci_dma_map(d, A, p + ps / 2, ps, 0, &bus), -EINVAL);
	assert_int_equal(upci_dma_map(d, A, p, ps + 1, 0, &bus), -EINVAL);
	assert_int_equal(upci_dma_map(d, A, p, ps - 1, 0, &bus), -EINVAL);
	assert_int_equal(upci_dma_map(d, A, p, 0, 0, &bus), -EINVAL);
	assert_int_equal(upci_dma_map(d, A, p, ps, 4, &bus), -EINVAL);
	assert_int_equal(upci_dma_map(d, A, p, ps, 0x80000000u, &bus), -EINVAL);
	/* Wrapping ranges */
	assert_int_equal(upci_dma_map(d, 0 - ps, p, 2 * ps, 0, &bus), -EOVERFLOW);
	assert_int_equal(upci_dma_map(d, 0 - 4 * ps, p, 16 * ps, 0, &bus), -EOVERFLOW);
	/* Nothing was left behind by the failures. */
	assert_int_equal(upci_dma_unmap(d, A), -ENOENT);
	assert_int_equal(upci_dma_unmap(d, 0 - ps), -ENOENT);

	/* Each flag alone works, and 0 means both. */
	assert_int_equal(upci_dma_map(d, A, p, ps, UPCI_DMA_READ, &bus), 0);
	assert_int_equal(bus, A); /* identity on the plain sim IOMMU */
	assert_int_equal(upci_dma_map(d, A + ps, p, ps, UPCI_DMA_WRITE, &bus), 0);
	assert_int_equal(upci_dma_map(d, A + 2 * ps, p, ps, 0, &bus), 0);
	assert_int_equal(bus, A + 2 * ps);
	assert_int_equal(upci_dma_unmap(d, A), 0);
	assert_int_equal(upci_dma_unmap(d, A + ps), 0);
	assert_int_equal(upci_dma_unmap(d, A + 2 * ps), 0);
	close_dev(d);
	unpages(p, 16);
}

static void test_dma_overlap(void **state)
{
	upci_dev *d = open_claimed(TD);
	uint64_t ps = page_size(), bus = 0;
	uint8_t *p = pages(16);
	const uint64_t A = 0x20000000; /* mapping [A, A + 4 pages) */

	(void)state;
	assert_int_equal(upci_dma_map(d, A, p, 4 * ps, 0, &bus), 0);
	assert_int_equal(bus, A);
	/* Same start */
	assert_int_equal(upci_dma_map(d, A, p, ps, 0, &bus), -EEXIST);
	assert_int_equal(upci_dma_map(d, A, p, 4 * ps, 0, &bus), -EEXIST);
	/* Starts inside */
	assert_int_equal(upci_dma_map(d, A + ps, p, ps, 0, &bus), -EEXIST);
	assert_int_equal(upci_dma_map(d, A + 3 * ps, p, 2 * ps, 0, &bus), -EEXIST);
	/* Ends inside */
	assert_int_equal(upci_dma_map(d, A - ps, p, 2 * ps, 0, &bus), -EEXIST);
	/* Contains it */
	assert_int_equal(upci_dma_map(d, A - ps, p, 6 * ps, 0, &bus), -EEXIST);
	assert_int_equal(upci_dma_map(d, A - 8 * ps, p, 16 * ps, 0, &bus), -EEXIST);
	/* Adjacent on both sides is fine */
	assert_int_equal(upci_dma_map(d, A - ps, p, ps, 0, &bus), 0);
	assert_int_equal(upci_dma_map(d, A + 4 * ps, p + ps, 2 * ps, 0, &bus), 0);
	assert_int_equal(bus, A + 4 * ps);
	/* A buffer may not overlap either. */
	{
		struct upci_dma_buf b;

		assert_int_equal(upci_dma_alloc(d, A + 2 * ps, ps, &b), -EEXIST);
		assert_int_equal(upci_dma_alloc(d, A + 6 * ps, ps, &b), 0);
		assert_int_equal(b.iova, A + 6 * ps);
		assert_int_equal(upci_dma_map(d, A + 6 * ps, p, ps, 0, &bus), -EEXIST);
		assert_int_equal(upci_dma_free(d, &b), 0);
	}
	/* Unmap only by exact start */
	assert_int_equal(upci_dma_unmap(d, A + ps), -ENOENT);
	assert_int_equal(upci_dma_unmap(d, 0x90000000), -ENOENT);
	assert_int_equal(upci_dma_unmap(d, A), 0);
	assert_int_equal(upci_dma_unmap(d, A), -ENOENT);
	/* The hole is free again */
	assert_int_equal(upci_dma_map(d, A, p, 4 * ps, 0, &bus), 0);
	assert_int_equal(upci_dma_unmap(d, A), 0);
	assert_int_equal(upci_dma_unmap(d, A - ps), 0);
	assert_int_equal(upci_dma_unmap(d, A + 4 * ps), 0);
	close_dev(d);
	unpages(p, 16);
}

static void test_dma_alloc(void **state)
{
	upci_dev *d = open_claimed(TD);
	uint64_t ps = page_size(), bus;
	struct upci_dma_buf a, b, c, copy, x;
	uint8_t *p = pages(1);

	(void)state;
	assert_int_equal(upci_dma_alloc(d, UPCI_IOVA_ANY, 1, &a), 0);
	assert_int_equal(a.size, ps);
	assert_non_null(a.vaddr);
	assert_int_equal(a.iova, MiB); /* lowest free page-aligned range >= 1 MiB */
	assert_int_equal(a.bus_addr, a.iova);
	assert_true(a.fd >= 0); /* memfd on Linux */
#ifdef __linux__
	/* whoever the fd is shared with cannot resize it */
	assert_int_equal(ftruncate(a.fd, 0), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(ftruncate(a.fd, (off_t)(2 * ps)), -1);
	assert_int_equal(errno, EPERM);
#endif
	for (uint64_t i = 0; i < a.size; i++)
		assert_int_equal(((uint8_t *)a.vaddr)[i], 0);
	memset(a.vaddr, 0xab, a.size);

	assert_int_equal(upci_dma_alloc(d, UPCI_IOVA_ANY, 3 * ps + 1, &b), 0);
	assert_int_equal(b.size, 4 * ps);
	assert_int_equal(b.iova % ps, 0);
	assert_true(b.iova >= MiB);
	assert_true(b.iova >= a.iova + a.size || b.iova + b.size <= a.iova);
	assert_int_equal(b.iova, a.iova + a.size); /* lowest free */
	assert_ptr_not_equal(a.vaddr, b.vaddr);
	for (uint64_t i = 0; i < b.size; i++)
		assert_int_equal(((uint8_t *)b.vaddr)[i], 0);

	/* A mapping in the way is skipped. */
	assert_int_equal(upci_dma_map(d, b.iova + b.size, p, ps, 0, &bus), 0);
	assert_int_equal(upci_dma_alloc(d, UPCI_IOVA_ANY, ps, &c), 0);
	assert_int_equal(c.iova, b.iova + b.size + ps);

	/* Buffers are not upci_dma_unmap()'s. */
	assert_int_equal(upci_dma_unmap(d, a.iova), -EINVAL);
	assert_int_equal(upci_dma_unmap(d, b.iova), -EINVAL);
	/* A mapping is not a buffer. */
	memset(&x, 0, sizeof(x));
	x.iova = b.iova + b.size;
	x.vaddr = p;
	x.size = ps;
	assert_int_equal(upci_dma_free(d, &x), -ENOENT);

	/* Bad arguments */
	assert_int_equal(upci_dma_alloc(d, UPCI_IOVA_ANY, 0, &x), -EINVAL);
	assert_int_equal(upci_dma_alloc(d, 0x70000001, ps, &x), -EINVAL);
	assert_int_equal(upci_dma_alloc(d, a.iova, ps, &x), -EEXIST);

	/* Free, then free again */
	copy = a;
	assert_int_equal(upci_dma_free(d, &a), 0);
	assert_null(a.vaddr);
	assert_int_equal(a.size, 0);
	assert_int_equal(upci_dma_free(d, &copy), -ENOENT);
	assert_int_equal(upci_dma_free(d, &a), -ENOENT);
	/* The freed range is the lowest free one again. */
	assert_int_equal(upci_dma_alloc(d, UPCI_IOVA_ANY, ps, &a), 0);
	assert_int_equal(a.iova, MiB);
	assert_int_equal(((uint8_t *)a.vaddr)[0], 0); /* fresh, zeroed memory */

	/* Explicit IOVA below 1 MiB is allowed. */
	assert_int_equal(upci_dma_alloc(d, 0, ps, &x), 0);
	assert_int_equal(x.iova, 0);
	assert_int_equal(x.bus_addr, 0);
	assert_int_equal(upci_dma_free(d, &x), 0);

	assert_int_equal(upci_dma_free(d, &b), 0);
	assert_int_equal(upci_dma_free(d, &a), 0);
	/* c and the plain mapping are left for close to clean up. */
	close_dev(d);
	unpages(p, 1);
}

/* The device really reaches the memory: testdev copies BAR2 -> a buffer. */
static void test_dma_device_access(void **state)
{
	upci_dev *d = open_claimed(TD);
	struct upci_dma_buf desc, dst;
	struct testdev_desc *ds;
	uint64_t ps = page_size();

	(void)state;
	assert_int_equal(upci_dma_alloc(d, UPCI_IOVA_ANY, ps, &desc), 0);
	assert_int_equal(upci_dma_alloc(d, UPCI_IOVA_ANY, ps, &dst), 0);
	assert_int_equal(upci_mmio_write(d, TESTDEV_BAR_MEM, 0, 8, 0x1122334455667788ull), 0);
	ds = desc.vaddr;
	ds->src = 0;
	ds->dst = dst.bus_addr;
	ds->len = 8;
	ds->flags = TESTDEV_DESC_F_SRC_BAR2;
	assert_int_equal(upci_config_write(d, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER), 0);
	assert_int_equal(upci_mmio_write(d, 0, TESTDEV_REG_DESC_ADDR, 8, desc.bus_addr), 0);
	assert_int_equal(upci_mmio_write(d, 0, TESTDEV_REG_DESC_COUNT, 4, 1), 0);
	assert_int_equal(upci_mmio_write(d, 0, TESTDEV_REG_CTRL, 4, TESTDEV_CTRL_START), 0);
	assert_int_equal(td_reg(d, TESTDEV_REG_STATUS), TESTDEV_STATUS_DONE);
	assert_int_equal(*(uint64_t *)dst.vaddr, 0x1122334455667788ull);
	/* After the buffer is freed the device faults instead of writing. */
	assert_int_equal(upci_dma_free(d, &dst), 0);
	assert_int_equal(upci_mmio_write(d, 0, TESTDEV_REG_CTRL, 4, TESTDEV_CTRL_START), 0);
	assert_int_equal(td_reg(d, TESTDEV_REG_STATUS), TESTDEV_STATUS_DONE | TESTDEV_STATUS_ERROR);
	close_dev(d);
}

static void test_dma_many(void **state)
{
	upci_dev *d = open_claimed(TD);
	uint64_t ps = page_size(), bus = 0;
	const unsigned N = 65536;
	uint8_t *p = pages(1);
	int bad = 0;

	(void)state;
	for (unsigned i = 0; i < N && !bad; i++) {
		uint64_t iova = (uint64_t)(i + 1) * 2 * ps; /* distinct, not adjacent */

		if (upci_dma_map(d, iova, p, ps, 0, &bus) != 0 || bus != iova)
			bad = (int)i + 1;
	}
	assert_int_equal(bad, 0);
	/* Unmap every other one, then close with the rest alive. */
	for (unsigned i = 0; i < N && !bad; i += 2)
		if (upci_dma_unmap(d, (uint64_t)(i + 1) * 2 * ps) != 0)
			bad = (int)i + 1;
	assert_int_equal(bad, 0);
	for (unsigned i = 0; i < N && !bad; i += 2)
		if (upci_dma_unmap(d, (uint64_t)(i + 1) * 2 * ps) != -ENOENT)
			bad = (int)i + 1;
	assert_int_equal(bad, 0);
	for (unsigned i = 1; i < N && !bad; i += 2)
		if (upci_dma_unmap(d, (uint64_t)(i + 1) * 2 * ps) != 0)
			bad = (int)i + 1;
	assert_int_equal(bad, 0);
	/* Map them all again and let close drop them. */
	for (unsigned i = 0; i < N && !bad; i++)
		if (upci_dma_map(d, (uint64_t)i * ps, p, ps, 0, &bus) != 0)
			bad = (int)i + 1;
	assert_int_equal(bad, 0);
	close_dev(d);
	unpages(p, 1);
}

/* ---------------------------------------------------------- interrupts */

static void test_irq_enable_args(void **state)
{
	upci_dev *t = open_claimed(TD), *e = open_claimed(EDU), *big = open_claimed("sim:testdev?vectors=256");
	enum upci_irq_type type = UPCI_IRQ_AUTO;
	unsigned nvec = 99;

	(void)state;
	assert_int_equal(upci_irq_info(t, &type, &nvec), 0);
	assert_int_equal(type, UPCI_IRQ_NONE);
	assert_int_equal(nvec, 0);

	assert_int_equal(upci_irq_enable(t, UPCI_IRQ_MSIX, 257), -EINVAL);
	assert_int_equal(upci_irq_enable(t, UPCI_IRQ_AUTO, 257), -EINVAL);
	assert_int_equal(upci_irq_enable(t, UPCI_IRQ_MSIX, UINT_MAX), -EINVAL);
	assert_int_equal(upci_irq_enable(t, UPCI_IRQ_NONE, 1), -EINVAL);
	assert_int_equal(upci_irq_enable(t, (enum upci_irq_type)5, 1), -EINVAL);
	assert_int_equal(upci_irq_enable(t, (enum upci_irq_type)-1, 1), -EINVAL);
	assert_int_equal(upci_irq_enable(t, UPCI_IRQ_MSIX, 33), -ERANGE);
	assert_int_equal(upci_irq_enable(t, UPCI_IRQ_MSI, 1), -ENOTSUP);
	assert_int_equal(upci_irq_enable(t, UPCI_IRQ_INTX, 0), -ENOTSUP);
	assert_int_equal(upci_irq_info(t, &type, &nvec), 0);
	assert_int_equal(type, UPCI_IRQ_NONE);

	assert_int_equal(upci_irq_enable(t, UPCI_IRQ_MSIX, 0), 32);
	assert_int_equal(upci_irq_info(t, &type, &nvec), 0);
	assert_int_equal(type, UPCI_IRQ_MSIX);
	assert_int_equal(nvec, 32);
	assert_int_equal(upci_irq_enable(t, UPCI_IRQ_AUTO, 4), 4);
	assert_int_equal(upci_irq_info(t, &type, &nvec), 0);
	assert_int_equal(type, UPCI_IRQ_MSIX);
	assert_int_equal(nvec, 4);
	assert_int_equal(upci_irq_info(t, NULL, &nvec), 0);
	assert_int_equal(upci_irq_info(t, &type, NULL), 0);
	assert_int_equal(upci_irq_info(t, NULL, NULL), 0);
	assert_int_equal(upci_irq_enable(t, UPCI_IRQ_MSIX, 32), 32);
	assert_int_equal(upci_irq_disable(t), 0);
	assert_int_equal(upci_irq_info(t, &type, &nvec), 0);
	assert_int_equal(type, UPCI_IRQ_NONE);
	assert_int_equal(nvec, 0);
	assert_int_equal(upci_irq_disable(t), 0);

	/* edu: MSI (one vector) and INTx, no MSI-X */
	assert_int_equal(upci_irq_enable(e, UPCI_IRQ_MSIX, 0), -ENOTSUP);
	assert_int_equal(upci_irq_enable(e, UPCI_IRQ_MSIX, 1), -ENOTSUP);
	assert_int_equal(upci_irq_enable(e, UPCI_IRQ_MSI, 2), -ERANGE);
	assert_int_equal(upci_irq_enable(e, UPCI_IRQ_AUTO, 2), -ERANGE);
	assert_int_equal(upci_irq_enable(e, UPCI_IRQ_INTX, 2), -ERANGE);
	assert_int_equal(upci_irq_enable(e, UPCI_IRQ_AUTO, 0), 1);
	assert_int_equal(upci_irq_info(e, &type, &nvec), 0);
	assert_int_equal(type, UPCI_IRQ_MSI);
	assert_int_equal(nvec, 1);
	assert_int_equal(upci_irq_enable(e, UPCI_IRQ_INTX, 0), 1);
	assert_int_equal(upci_irq_info(e, &type, &nvec), 0);
	assert_int_equal(type, UPCI_IRQ_INTX);
	assert_int_equal(nvec, 1);
	assert_int_equal(upci_irq_enable(e, UPCI_IRQ_MSI, 1), 1);
	assert_int_equal(upci_irq_info(e, &type, &nvec), 0);
	assert_int_equal(type, UPCI_IRQ_MSI);

	/* 256 vectors */
	assert_int_equal(upci_irq_enable(big, UPCI_IRQ_AUTO, 0), 256);
	assert_int_equal(upci_irq_enable(big, UPCI_IRQ_MSIX, 256), 256);
	assert_int_equal(upci_irq_enable(big, UPCI_IRQ_MSIX, 257), -EINVAL);
	close_dev(t);
	close_dev(e);
	close_dev(big);
}

static void test_irq_doorbell(void **state)
{
	upci_dev *d = open_claimed(TD64);
	uint64_t pend[UPCI_IRQ_WORDS], mask[UPCI_IRQ_WORDS];
	uint32_t fired;
	int fd;

	(void)state;
	fd = upci_irq_fd(d);
	assert_true(fd >= 0);
	/* Before enabling: nothing is delivered. */
	doorbell(d, 0);
	assert_int_equal(upci_irq_peek_pending(d, pend), 0);

	assert_int_equal(upci_irq_enable(d, UPCI_IRQ_MSIX, 0), 64);
	assert_int_equal(upci_irq_get_mask(d, mask), 0);
	assert_memory_equal(mask, ALL_ONES, sizeof(mask));
	assert_int_equal(upci_irq_take_pending(d, pend), 0);
	assert_false(fd_readable(fd));
	assert_int_equal(upci_irq_wait(d, 0, pend), -ETIMEDOUT);

	fired = td_reg(d, TESTDEV_REG_IRQ_COUNT);
	doorbell(d, 0);
	doorbell(d, 63);
	assert_true(fd_readable(fd));
	assert_int_equal(upci_irq_peek_pending(d, pend), 2);
	assert_int_equal(upci_irq_take_pending(d, pend), 2);
	assert_int_equal(pend[0], 1ull | (1ull << 63));
	assert_int_equal(pend[1], 0);
	assert_int_equal(pend[2], 0);
	assert_int_equal(pend[3], 0);
	assert_false(fd_readable(fd));
	assert_int_equal(upci_irq_take_pending(d, pend), 0);
	assert_int_equal(td_reg(d, TESTDEV_REG_IRQ_COUNT), fired + 2);

	/* upci_irq_wait takes what is there */
	doorbell(d, 17);
	assert_int_equal(upci_irq_wait(d, 1000, pend), 1);
	expect_only(pend, 17);
	assert_int_equal(upci_irq_wait(d, 10, pend), -ETIMEDOUT);

	/* Mask vector 5: latched, not taken, not signalled */
	memcpy(mask, ALL_ONES, sizeof(mask));
	mask[0] &= ~(1ull << 5);
	assert_int_equal(upci_irq_set_mask(d, mask), 0);
	{
		uint64_t got[UPCI_IRQ_WORDS];

		assert_int_equal(upci_irq_get_mask(d, got), 0);
		assert_memory_equal(got, mask, sizeof(mask));
	}
	doorbell(d, 5);
	assert_false(fd_readable(fd));
	assert_int_equal(upci_irq_take_pending(d, pend), 0);
	assert_int_equal(upci_irq_wait(d, 0, pend), -ETIMEDOUT);
	assert_int_equal(upci_irq_peek_pending(d, pend), 1);
	expect_only(pend, 5);
	/* Others still go through */
	doorbell(d, 6);
	assert_int_equal(upci_irq_take_pending(d, pend), 1);
	expect_only(pend, 6);
	/* Unmask: signalled and taken once */
	assert_int_equal(upci_irq_set_mask(d, ALL_ONES), 0);
	assert_true(fd_readable(fd));
	assert_int_equal(upci_irq_wait(d, 0, pend), 1);
	expect_only(pend, 5);
	assert_int_equal(upci_irq_peek_pending(d, pend), 0);

	/* A vector the device lacks: a device fault, no interrupt */
	doorbell(d, 64);
	assert_int_equal(upci_irq_peek_pending(d, pend), 0);
	assert_int_equal(td_reg(d, TESTDEV_REG_FAULT_COUNT), 1);

	/* Enabling again: mask back to all ones, nothing pending */
	assert_int_equal(upci_irq_set_mask(d, (const uint64_t[UPCI_IRQ_WORDS]){0, 0, 0, 0}), 0);
	doorbell(d, 9);
	assert_int_equal(upci_irq_peek_pending(d, pend), 1);
	assert_int_equal(upci_irq_enable(d, UPCI_IRQ_MSIX, 8), 8);
	assert_int_equal(upci_irq_get_mask(d, mask), 0);
	assert_memory_equal(mask, ALL_ONES, sizeof(mask));
	assert_int_equal(upci_irq_peek_pending(d, pend), 0);
	assert_false(fd_readable(fd));
	/* Only the 8 enabled vectors are delivered */
	doorbell(d, 7);
	doorbell(d, 8);
	doorbell(d, 40);
	assert_int_equal(upci_irq_take_pending(d, pend), 1);
	expect_only(pend, 7);

	/* Disabled: nothing */
	assert_int_equal(upci_irq_disable(d), 0);
	doorbell(d, 1);
	assert_int_equal(upci_irq_peek_pending(d, pend), 0);
	assert_int_equal(upci_irq_fd(d), fd); /* the fd stays the handle's */
	close_dev(d);
}

static void test_irq_edu(void **state)
{
	upci_dev *d = open_claimed(EDU);
	uint64_t pend[UPCI_IRQ_WORDS];

	(void)state;
	assert_int_equal(upci_irq_enable(d, UPCI_IRQ_MSI, 1), 1);
	assert_int_equal(upci_mmio_write(d, 0, EDU_REG_IRQ_RAISE, 4, EDU_IRQ_FACT), 0);
	assert_int_equal(upci_irq_wait(d, 1000, pend), 1);
	expect_only(pend, 0);
	assert_int_equal(upci_mmio_write(d, 0, EDU_REG_IRQ_ACK, 4, EDU_IRQ_FACT), 0);

	assert_int_equal(upci_irq_enable(d, UPCI_IRQ_INTX, 1), 1);
	assert_int_equal(upci_mmio_write(d, 0, EDU_REG_IRQ_RAISE, 4, EDU_IRQ_FACT), 0);
	assert_int_equal(upci_irq_wait(d, 1000, pend), 1);
	expect_only(pend, 0);
	assert_int_equal(upci_mmio_write(d, 0, EDU_REG_IRQ_ACK, 4, EDU_IRQ_FACT), 0);
	assert_int_equal(upci_irq_take_pending(d, pend), 0);
	assert_int_equal(upci_mmio_write(d, 0, EDU_REG_IRQ_RAISE, 4, EDU_IRQ_DMA), 0);
	assert_int_equal(upci_irq_take_pending(d, pend), 1);
	expect_only(pend, 0);
	close_dev(d);
}

/* --------------------------------------------------------------- reset */

static void test_reset_testdev(void **state)
{
	upci_dev *d = open_claimed(TD);
	uint64_t pend[UPCI_IRQ_WORDS], mask[UPCI_IRQ_WORDS], got[UPCI_IRQ_WORDS], bus;
	enum upci_irq_type type;
	unsigned nvec;
	uint32_t cmd;
	void *p = pages(1);

	(void)state;
	assert_int_equal(upci_config_write(d, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER), 0);
	assert_int_equal(upci_mmio_write(d, 0, TESTDEV_REG_SCRATCH, 4, 0x1234), 0);
	assert_int_equal(upci_dma_map(d, 0x300000, p, page_size(), 0, &bus), 0);
	assert_int_equal(upci_irq_enable(d, UPCI_IRQ_MSIX, 8), 8);
	memcpy(mask, ALL_ONES, sizeof(mask));
	mask[0] &= ~(1ull << 2);
	mask[3] = 0x8000000000000001ull;
	assert_int_equal(upci_irq_set_mask(d, mask), 0);

	assert_int_equal(upci_reset(d), 0);

	/* Registers back to defaults; bus mastering back on only because the
	 * library re-enabled MSI-X (upci_irq_enable turns it on). */
	assert_int_equal(td_reg(d, TESTDEV_REG_SCRATCH), 0);
	assert_int_equal(upci_config_read(d, PCI_COMMAND, 2, &cmd), 0);
	assert_int_equal(cmd & PCI_COMMAND_MASTER, PCI_COMMAND_MASTER);
	assert_int_equal(cmd & PCI_COMMAND_MEMORY, 0);
	/* Interrupt set-up and mask kept */
	assert_int_equal(upci_irq_info(d, &type, &nvec), 0);
	assert_int_equal(type, UPCI_IRQ_MSIX);
	assert_int_equal(nvec, 8);
	assert_int_equal(upci_irq_get_mask(d, got), 0);
	assert_memory_equal(got, mask, sizeof(mask));
	/* ...and live: a doorbell is still delivered */
	doorbell(d, 1);
	assert_int_equal(upci_irq_wait(d, 1000, pend), 1);
	expect_only(pend, 1);
	doorbell(d, 7);
	assert_int_equal(upci_irq_take_pending(d, pend), 1);
	expect_only(pend, 7);
	doorbell(d, 2);
	assert_int_equal(upci_irq_take_pending(d, pend), 0);
	assert_int_equal(upci_irq_peek_pending(d, pend), 1);
	expect_only(pend, 2);
	/* DMA mappings stay */
	assert_int_equal(upci_dma_unmap(d, 0x300000), 0);

	/* Reset twice in a row, then without interrupts */
	assert_int_equal(upci_reset(d), 0);
	assert_int_equal(upci_reset(d), 0);
	doorbell(d, 3);
	assert_int_equal(upci_irq_take_pending(d, pend), 1);
	expect_only(pend, 3);
	assert_int_equal(upci_irq_disable(d), 0);
	assert_int_equal(upci_reset(d), 0);
	assert_int_equal(upci_irq_info(d, &type, &nvec), 0);
	assert_int_equal(type, UPCI_IRQ_NONE);
	doorbell(d, 3);
	assert_int_equal(upci_irq_peek_pending(d, pend), 0);
	close_dev(d);
	unpages(p, 1);
}

static void test_reset_edu(void **state)
{
	upci_dev *d = open_claimed(EDU);
	uint64_t pend[UPCI_IRQ_WORDS], v;
	enum upci_irq_type type;
	unsigned nvec;

	(void)state;
	assert_int_equal(upci_mmio_write(d, 0, EDU_REG_LIVENESS, 4, 0x0f0f0f0f), 0);
	assert_int_equal(upci_irq_enable(d, UPCI_IRQ_MSI, 1), 1);
	assert_int_equal(upci_reset(d), 0);
	assert_int_equal(upci_mmio_read(d, 0, EDU_REG_LIVENESS, 4, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(upci_irq_info(d, &type, &nvec), 0);
	assert_int_equal(type, UPCI_IRQ_MSI);
	assert_int_equal(nvec, 1);
	assert_int_equal(upci_mmio_write(d, 0, EDU_REG_IRQ_RAISE, 4, EDU_IRQ_FACT), 0);
	assert_int_equal(upci_irq_wait(d, 1000, pend), 1);
	expect_only(pend, 0);
	close_dev(d);
}

/* --------------------------------------------------------------- close */

static void test_close_with_everything(void **state)
{
	upci_dev *d = open_claimed(TD), *other = open_dev(TD);
	struct upci_dma_buf b1, b2;
	uint64_t bus;
	void *p = pages(4), *a;

	(void)state;
	assert_int_equal(upci_bar_map(d, TESTDEV_BAR_MEM, &a, NULL), 0);
	assert_int_equal(upci_dma_map(d, 0x400000, p, 4 * page_size(), 0, &bus), 0);
	assert_int_equal(upci_dma_alloc(d, UPCI_IOVA_ANY, 3 * page_size(), &b1), 0);
	assert_int_equal(upci_dma_alloc(d, UPCI_IOVA_ANY, 1, &b2), 0);
	assert_int_equal(upci_irq_enable(d, UPCI_IRQ_MSIX, 0), 32);
	doorbell(d, 3); /* pending at close */
	close_dev(d);
	/* The claim went with it. */
	assert_int_equal(upci_claim(other), 0);
	close_dev(other);
	unpages(p, 4);

	/* edu with its read-only mapping and INTx */
	d = open_claimed(EDU);
	assert_int_equal(upci_bar_map(d, 0, &a, NULL), 0);
	assert_int_equal(upci_irq_enable(d, UPCI_IRQ_INTX, 1), 1);
	assert_int_equal(upci_mmio_write(d, 0, EDU_REG_IRQ_RAISE, 4, 1), 0);
	assert_int_equal(upci_dma_alloc(d, UPCI_IOVA_ANY, 4096, &b1), 0);
	close_dev(d);
	upci_close(NULL);
}


/* Closing a handle that does not hold the claim leaves the holder alone. */
static void test_close_non_claimer(void **state)
{
	upci_dev *a = open_claimed(TD), *b = open_dev(TD);
	uint64_t pend[UPCI_IRQ_WORDS], bus;
	void *p = pages(1), *m;

	(void)state;
	assert_int_equal(upci_irq_enable(a, UPCI_IRQ_MSIX, 4), 4);
	assert_int_equal(upci_dma_map(a, 0x500000, p, page_size(), 0, &bus), 0);
	assert_int_equal(upci_bar_map(a, TESTDEV_BAR_MEM, &m, NULL), 0);
	assert_int_equal(upci_irq_disable(b), 0); /* b has none: no effect on a */
	close_dev(b);
	doorbell(a, 2);
	assert_int_equal(upci_irq_take_pending(a, pend), 1);
	expect_only(pend, 2);
	((volatile uint32_t *)m)[0] = 77;
	assert_int_equal(upci_dma_unmap(a, 0x500000), 0);
	b = open_dev(TD);
	assert_int_equal(upci_claim(b), -EBUSY);
	close_dev(b);
	close_dev(a);
	unpages(p, 1);
}

/* The instance lives while any handle of its URI is open, and no longer. */
static void test_instance_lifetime(void **state)
{
	upci_dev *a = open_claimed(TD), *b = open_dev(TD), *c = open_dev(TD);

	(void)state;
	assert_int_equal(upci_mmio_write(a, 0, TESTDEV_REG_SCRATCH, 4, 0xabc), 0);
	close_dev(a);
	close_dev(b);
	assert_int_equal(upci_claim(c), 0);
	assert_int_equal(td_reg(c, TESTDEV_REG_SCRATCH), 0xabc);
	close_dev(c);
	/* All closed: a new open gets a fresh device. */
	a = open_claimed(TD);
	assert_int_equal(td_reg(a, TESTDEV_REG_SCRATCH), 0);
	close_dev(a);
}

/* A BAR mapping stays valid across reset and shows the reset contents. */
static void test_reset_bar_mapping(void **state)
{
	upci_dev *d = open_claimed(TD);
	volatile uint32_t *m;
	void *a = NULL, *a2 = NULL;
	uint64_t v;

	(void)state;
	assert_int_equal(upci_bar_map(d, TESTDEV_BAR_MEM, &a, NULL), 0);
	m = a;
	m[10] = 0x12345678;
	assert_int_equal(upci_reset(d), 0);
	assert_int_equal(m[10], 0); /* docs/models/testdev.md: BAR2 RAM zeroed */
	m[10] = 0x9abc;
	assert_int_equal(upci_mmio_read(d, TESTDEV_BAR_MEM, 40, 4, &v), 0);
	assert_int_equal(v, 0x9abc);
	assert_int_equal(upci_bar_map(d, TESTDEV_BAR_MEM, &a2, NULL), 0);
	assert_ptr_equal(a, a2);
	close_dev(d);
}

/* "safe to call any function from several threads at once" */
#define MT_THREADS 4
#define MT_ITERS 2000

struct mt_arg {
	upci_dev *dev;
	unsigned id;
	void *mem;
	atomic_int *bad;
};

static void *mt_worker(void *p)
{
	struct mt_arg *a = p;
	uint64_t ps = page_size();
	uint64_t base = 0x100000000ull * (a->id + 1);

	for (unsigned i = 0; i < MT_ITERS && !atomic_load(a->bad); i++) {
		uint64_t iova = base + (uint64_t)(i % 64) * ps, bus = 0, v = 0;
		struct upci_dma_buf b;

		if (upci_dma_map(a->dev, iova, a->mem, ps, 0, &bus) != 0 || bus != iova)
			atomic_store(a->bad, 1000 + (int)a->id);
		else if (upci_mmio_write(a->dev, 0, TESTDEV_REG_SCRATCH, 4, i) != 0 ||
			 upci_mmio_read(a->dev, 0, TESTDEV_REG_ID, 4, &v) != 0 || v != TESTDEV_ID_VALUE)
			atomic_store(a->bad, 2000 + (int)a->id);
		else if (upci_dma_unmap(a->dev, iova) != 0)
			atomic_store(a->bad, 3000 + (int)a->id);
		else if (i % 16 == 0) {
			if (upci_dma_alloc(a->dev, UPCI_IOVA_ANY, ps, &b) != 0)
				atomic_store(a->bad, 4000 + (int)a->id);
			else if (upci_dma_free(a->dev, &b) != 0)
				atomic_store(a->bad, 5000 + (int)a->id);
		}
	}
	return NULL;
}

static void test_threads_one_handle(void **state)
{
	upci_dev *d = open_claimed(TD);
	pthread_t th[MT_THREADS];
	struct mt_arg args[MT_THREADS];
	atomic_int bad;
	void *mem = pages(1);

	(void)state;
	atomic_init(&bad, 0);
	for (unsigned i = 0; i < MT_THREADS; i++) {
		args[i] = (struct mt_arg){.dev = d, .id = i, .mem = mem, .bad = &bad};
		assert_int_equal(pthread_create(&th[i], NULL, mt_worker, &args[i]), 0);
	}
	for (unsigned i = 0; i < MT_THREADS; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(atomic_load(&bad), 0);
	close_dev(d);
	unpages(mem, 1);
}

/* ----------------------------------------------------------- strerror */

static void test_strerror(void **state)
{
	static const int codes[] = {
		0, EPERM, EBUSY, ENOTSUP, EOPNOTSUPP, EINVAL, EFAULT, ERANGE, EEXIST, ENOENT, ENOSPC,
		EOVERFLOW, ETIMEDOUT, ENODEV, EIO, ENOMEM, EINTR, EBADF, EAGAIN, EPROTO, ECONNRESET, EPIPE,
		ENOTCONN, EMSGSIZE, E2BIG, 4095, 100000, INT_MAX,
	};

	(void)state;
	/* Each result is checked before the next call (see test_strerror_static). */
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		const char *s = upci_strerror(-codes[i]);

		assert_non_null(s);
		assert_true(strlen(s) > 0);
		s = upci_strerror(codes[i]);
		assert_non_null(s);
		assert_true(strlen(s) > 0);
	}
	/* Negative and positive name the same thing. */
	assert_string_equal(upci_strerror(-EBUSY), upci_strerror(EBUSY));
	assert_string_equal(upci_strerror(-ETIMEDOUT), upci_strerror(ETIMEDOUT));
	assert_string_not_equal(upci_strerror(-EPERM), upci_strerror(-EBUSY));
	assert_string_not_equal(upci_strerror(-EINVAL), upci_strerror(-ERANGE));
}

/*
 * Standard codes keep their standard meaning for every caller: a stale
 * vfio-user socket is "connection refused", a missing socket directory
 * "no such file or directory", not upci's reading of the code for one call.
 */
static void test_strerror_standard(void **state)
{
	static const struct {
		int code;
		const char *words;
	} std[] = {
		{ECONNREFUSED, "connection refused"}, {ENAMETOOLONG, "file name too long"},
		{ENOENT, "no such file or directory"}, {EFAULT, "bad address"},
		{EPERM, "operation not permitted"}, {EBUSY, "device or resource busy"},
		{ECONNRESET, "connection reset by peer"}, {EACCES, "permission denied"},
		{ECANCELED, "operation canceled"}, {ENOTSOCK, "not a socket"},
	};
	/* What opening, serving and driving a device can meet. */
	static const int seen[] = {
		EPERM, ENOENT, EINTR, EIO, ENXIO, EBADF, EAGAIN, ENOMEM, EACCES, EFAULT, EBUSY, EEXIST, ENODEV,
		ENOTDIR, EISDIR, EINVAL, ENFILE, EMFILE, ENOTTY, EFBIG, ENOSPC, ESPIPE, EROFS, EPIPE, ERANGE,
		ENAMETOOLONG, ENOSYS, ELOOP, ENOTSUP, EPROTO, EBADMSG, EOVERFLOW, ENOTSOCK, EMSGSIZE, EPROTOTYPE,
		EAFNOSUPPORT, EADDRINUSE, ECONNABORTED, ECONNRESET, ENOBUFS, EISCONN, ENOTCONN, ETIMEDOUT,
		ECONNREFUSED, EHOSTUNREACH, EALREADY, EINPROGRESS, ECANCELED, EDEADLK, E2BIG,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(std) / sizeof(std[0]); i++)
		assert_string_equal(upci_strerror(-std[i].code), std[i].words);
	for (size_t i = 0; i < sizeof(seen) / sizeof(seen[0]); i++)
		if (strcmp(upci_strerror(-seen[i]), "unknown error") == 0)
			fail_msg("errno %d reads \"unknown error\"", seen[i]);
}

/*
 * "Return: a static string": it must stay valid after later calls, for
 * codes upci has no words of its own for too. Run last: when the string
 * is not static, ASan stops the program here.
 */
static void test_strerror_static(void **state)
{
	const char *a, *b;
	char copy[128];

	(void)state;
	a = upci_strerror(-100000);
	assert_non_null(a);
	snprintf(copy, sizeof(copy), "%s", a);
	b = upci_strerror(-100001);
	assert_non_null(b);
	assert_string_equal(a, copy);
	/* A known code's string is one fixed object. */
	assert_ptr_equal(upci_strerror(-EPERM), upci_strerror(-EPERM));
}

/* "never NULL" for any int, INT_MIN included (no signed overflow). */
static void test_strerror_int_min(void **state)
{
	const char *s = upci_strerror(INT_MIN);

	(void)state;
	assert_non_null(s);
	assert_true(strlen(s) > 0);
}

static void test_backend_available(void **state)
{
	(void)state;
	assert_int_equal(upci_backend_available("sim"), 1);
	assert_int_equal(upci_backend_available("nope"), -EINVAL);
	assert_int_equal(upci_backend_available(NULL), -EINVAL);
}

/* ---------------------------------------------------------------- NULL */

static void test_null_args(void **state)
{
	upci_dev *d = open_claimed(TD);
	uint64_t v64, w[UPCI_IRQ_WORDS], bus;
	uint32_t v32;
	struct upci_identity id;
	struct upci_bar_info bi;
	struct upci_dma_buf buf;
	enum upci_irq_type type;
	unsigned nvec;
	void *a, *p = pages(1);
	char c[4];

	(void)state;
	assert_int_equal(upci_open(NULL, TD), -EINVAL);
	assert_int_equal(upci_claim(NULL), -EINVAL);
	assert_int_equal(upci_release(NULL), -EINVAL);
	assert_int_equal(upci_identity(NULL, &id), -EINVAL);
	assert_int_equal(upci_identity(d, NULL), -EINVAL);
	assert_int_equal(upci_config_read(NULL, 0, 4, &v32), -EINVAL);
	assert_int_equal(upci_config_read(d, 0, 4, NULL), -EINVAL);
	assert_int_equal(upci_config_write(NULL, 0x3c, 1, 0), -EINVAL);
	assert_int_equal(upci_config_read_block(NULL, 0, c, 4), -EINVAL);
	assert_int_equal(upci_config_read_block(d, 0, NULL, 4), -EINVAL);
	assert_int_equal(upci_bar_info(NULL, 0, &bi), -EINVAL);
	assert_int_equal(upci_bar_info(d, 0, NULL), -EINVAL);
	assert_int_equal(upci_bar_map(NULL, TESTDEV_BAR_MEM, &a, NULL), -EINVAL);
	assert_int_equal(upci_bar_map(d, TESTDEV_BAR_MEM, NULL, NULL), -EINVAL);
	assert_int_equal(upci_bar_unmap(NULL, TESTDEV_BAR_MEM), -EINVAL);
	assert_int_equal(upci_mmio_read(NULL, 0, 0, 4, &v64), -EINVAL);
	assert_int_equal(upci_mmio_read(d, 0, 0, 4, NULL), -EINVAL);
	assert_int_equal(upci_mmio_write(NULL, 0, TESTDEV_REG_SCRATCH, 4, 0), -EINVAL);
	assert_int_equal(upci_dma_map(NULL, 0x100000, p, page_size(), 0, &bus), -EINVAL);
	assert_int_equal(upci_dma_map(d, 0x100000, NULL, page_size(), 0, &bus), -EINVAL);
	assert_int_equal(upci_dma_unmap(NULL, 0x100000), -EINVAL);
	assert_int_equal(upci_dma_alloc(NULL, UPCI_IOVA_ANY, 4096, &buf), -EINVAL);
	assert_int_equal(upci_dma_alloc(d, UPCI_IOVA_ANY, 4096, NULL), -EINVAL);
	assert_int_equal(upci_dma_free(NULL, &buf), -EINVAL);
	assert_int_equal(upci_dma_free(d, NULL), -EINVAL);
	assert_int_equal(upci_irq_enable(NULL, UPCI_IRQ_AUTO, 0), -EINVAL);
	assert_int_equal(upci_irq_disable(NULL), -EINVAL);
	assert_int_equal(upci_irq_info(NULL, &type, &nvec), -EINVAL);
	assert_int_equal(upci_irq_set_mask(NULL, ALL_ONES), -EINVAL);
	assert_int_equal(upci_irq_set_mask(d, NULL), -EINVAL);
	assert_int_equal(upci_irq_get_mask(NULL, w), -EINVAL);
	assert_int_equal(upci_irq_get_mask(d, NULL), -EINVAL);
	assert_int_equal(upci_irq_take_pending(NULL, w), -EINVAL);
	assert_int_equal(upci_irq_take_pending(d, NULL), -EINVAL);
	assert_int_equal(upci_irq_peek_pending(NULL, w), -EINVAL);
	assert_int_equal(upci_irq_peek_pending(d, NULL), -EINVAL);
	assert_int_equal(upci_irq_fd(NULL), -EINVAL);
	assert_int_equal(upci_irq_wait(NULL, 0, w), -EINVAL);
	assert_int_equal(upci_irq_wait(d, 0, NULL), -EINVAL);
	assert_int_equal(upci_reset(NULL), -EINVAL);
	assert_int_equal(upci_uri_check(NULL, NULL, 0), -EINVAL);
	upci_close(NULL);
	/* The handle is still fine and still claimed. */
	assert_int_equal(upci_mmio_read(d, 0, TESTDEV_REG_ID, 4, &v64), 0);
	close_dev(d);
	unpages(p, 1);
}

/* --------------------------------------------------------- concurrency */

#define CONC_N 10000u
#define CONC_NVEC 64u

struct conc {
	upci_dev *dev;
	sem_t got;
	atomic_uint received;
	atomic_int fail_iter; /* 1-based iteration of the first failure */
	atomic_int fail_ret;
	atomic_uint_fast64_t fail_bits;
};

static void *conc_waiter(void *arg)
{
	struct conc *c = arg;

	for (unsigned i = 0; i < CONC_N; i++) {
		uint64_t p[UPCI_IRQ_WORDS];
		unsigned want = i % CONC_NVEC;
		int r = upci_irq_wait(c->dev, 5000, p);
		int ok = r == 1;

		for (unsigned w = 0; ok && w < UPCI_IRQ_WORDS; w++)
			ok = p[w] == (w == want / 64 ? (1ull << (want % 64)) : 0);
		if (!ok) {
			atomic_store(&c->fail_ret, r);
			atomic_store(&c->fail_bits, r > 0 ? p[0] : 0);
			atomic_store(&c->fail_iter, (int)i + 1);
			sem_post(&c->got);
			return NULL;
		}
		atomic_fetch_add(&c->received, 1);
		sem_post(&c->got);
	}
	return NULL;
}

static int sem_wait_ms(sem_t *s, int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	while (sem_timedwait(s, &ts) != 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

static void test_concurrent_wait(void **state)
{
	struct conc *c = calloc(1, sizeof(*c));
	pthread_t th;
	unsigned sent = 0;
	int mmio_err = 0, sem_err = 0;

	(void)state;
	assert_non_null(c);
	c->dev = open_claimed(TD64);
	assert_int_equal(upci_irq_enable(c->dev, UPCI_IRQ_MSIX, CONC_NVEC), (int)CONC_NVEC);
	assert_int_equal(sem_init(&c->got, 0, 0), 0);
	atomic_init(&c->received, 0);
	atomic_init(&c->fail_iter, 0);
	atomic_init(&c->fail_ret, 0);
	atomic_init(&c->fail_bits, 0);
	assert_int_equal(pthread_create(&th, NULL, conc_waiter, c), 0);
	for (unsigned i = 0; i < CONC_N; i++) {
		mmio_err = upci_mmio_write(c->dev, TESTDEV_BAR_REGS, TESTDEV_REG_DOORBELL, 4, i % CONC_NVEC);
		if (mmio_err)
			break;
		sent++;
		sem_err = sem_wait_ms(&c->got, 10000);
		if (sem_err || atomic_load(&c->fail_iter))
			break;
	}
	pthread_join(th, NULL);
	if (atomic_load(&c->fail_iter))
		print_error("waiter failed at iteration %d: ret %d, word0 %#llx\n", atomic_load(&c->fail_iter),
			    atomic_load(&c->fail_ret), (unsigned long long)atomic_load(&c->fail_bits));
	assert_int_equal(mmio_err, 0);
	assert_int_equal(sem_err, 0);
	assert_int_equal(atomic_load(&c->fail_iter), 0);
	assert_int_equal(sent, CONC_N);
	assert_int_equal(atomic_load(&c->received), CONC_N);
	assert_int_equal(td_reg(c->dev, TESTDEV_REG_IRQ_COUNT), CONC_N);
	{
		uint64_t p[UPCI_IRQ_WORDS];

		assert_int_equal(upci_irq_peek_pending(c->dev, p), 0);
	}
	sem_destroy(&c->got);
	close_dev(c->dev);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_identity, teardown),
		cmocka_unit_test_teardown(test_config_args_edu, teardown),
		cmocka_unit_test_teardown(test_config_args_testdev, teardown),
		cmocka_unit_test_teardown(test_config_read_values, teardown),
		cmocka_unit_test_teardown(test_config_read_block, teardown),
		cmocka_unit_test_teardown(test_bar_info, teardown),
		cmocka_unit_test_teardown(test_bar_map, teardown),
		cmocka_unit_test_teardown(test_mmio_args, teardown),
		cmocka_unit_test_teardown(test_claim_required, teardown),
		cmocka_unit_test_teardown(test_claim_exclusive, teardown),
		cmocka_unit_test_teardown(test_same_uri_same_instance, teardown),
		cmocka_unit_test_teardown(test_different_uris, teardown),
		cmocka_unit_test_teardown(test_release_drops_state, teardown),
		cmocka_unit_test_teardown(test_dma_map_args, teardown),
		cmocka_unit_test_teardown(test_dma_overlap, teardown),
		cmocka_unit_test_teardown(test_dma_alloc, teardown),
		cmocka_unit_test_teardown(test_dma_device_access, teardown),
		cmocka_unit_test_teardown(test_dma_many, teardown),
		cmocka_unit_test_teardown(test_irq_enable_args, teardown),
		cmocka_unit_test_teardown(test_irq_doorbell, teardown),
		cmocka_unit_test_teardown(test_irq_edu, teardown),
		cmocka_unit_test_teardown(test_reset_testdev, teardown),
		cmocka_unit_test_teardown(test_reset_edu, teardown),
		cmocka_unit_test_teardown(test_close_with_everything, teardown),
		cmocka_unit_test_teardown(test_close_non_claimer, teardown),
		cmocka_unit_test_teardown(test_instance_lifetime, teardown),
		cmocka_unit_test_teardown(test_reset_bar_mapping, teardown),
		cmocka_unit_test_teardown(test_threads_one_handle, teardown),
		cmocka_unit_test_teardown(test_strerror, teardown),
		cmocka_unit_test_teardown(test_strerror_standard, teardown),
		cmocka_unit_test_teardown(test_backend_available, teardown),
		cmocka_unit_test_teardown(test_null_args, teardown),
		cmocka_unit_test_teardown(test_concurrent_wait, teardown),
		/* Last: library bugs here abort the program under ASan/UBSan. */
		cmocka_unit_test_teardown(test_strerror_int_min, teardown),
		cmocka_unit_test_teardown(test_strerror_static, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

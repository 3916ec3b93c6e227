/* SPDX-License-Identifier: MIT */
/* Helpers of the DMA unit tests (see test_dma_util.h). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "edu_regs.h"
#include "pci_regs.h"
#include "test_dma_util.h"

#define MAX_OPEN 16
#define MAX_MAPS 32

static upci_dev *opened[MAX_OPEN];
static struct {
	void *p;
	size_t len;
} maps[MAX_MAPS];

uint64_t tu_page(void)
{
	long ps = sysconf(_SC_PAGESIZE);

	return ps > 0 ? (uint64_t)ps : 4096;
}

upci_dev *tu_open(const char *uri)
{
	upci_dev *d = NULL;
	int ret = upci_open(&d, uri);
	unsigned i;

	if (ret)
		print_error("upci_open(%s): %s\n", uri, upci_strerror(ret));
	assert_int_equal(ret, 0);
	for (i = 0; i < MAX_OPEN && opened[i]; i++)
		;
	assert_true(i < MAX_OPEN);
	opened[i] = d;
	return d;
}

upci_dev *tu_open_claimed(const char *uri)
{
	upci_dev *d = tu_open(uri);

	assert_int_equal(upci_claim(d), 0);
	return d;
}

void tu_close(upci_dev *d)
{
	for (unsigned i = 0; i < MAX_OPEN; i++)
		if (opened[i] == d)
			opened[i] = NULL;
	upci_close(d);
}

int tu_teardown(void **state)
{
	(void)state;
	for (unsigned i = 0; i < MAX_OPEN; i++)
		if (opened[i]) {
			upci_close(opened[i]);
			opened[i] = NULL;
		}
	for (unsigned i = 0; i < MAX_MAPS; i++)
		if (maps[i].p) {
			munmap(maps[i].p, maps[i].len);
			maps[i].p = NULL;
		}
	return 0;
}

void *tu_pages(size_t n)
{
	void *p = mmap(NULL, n * tu_page(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned i;

	assert_true(p != MAP_FAILED);
	for (i = 0; i < MAX_MAPS && maps[i].p; i++)
		;
	assert_true(i < MAX_MAPS);
	maps[i].p = p;
	maps[i].len = n * tu_page();
	return p;
}

void tu_bus_master(upci_dev *d)
{
	uint32_t cmd;

	assert_int_equal(upci_config_read(d, PCI_COMMAND, 2, &cmd), 0);
	assert_int_equal(upci_config_write(d, PCI_COMMAND, 2, cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER), 0);
}

static uint64_t rd(upci_dev *d, unsigned off, unsigned w)
{
	uint64_t v = 0;

	assert_int_equal(upci_mmio_read(d, EDU_BAR, off, w, &v), 0);
	return v;
}

static void transfer(upci_dev *d, uint64_t src, uint64_t dst, uint32_t len, uint64_t cmd)
{
	assert_int_equal(upci_mmio_write(d, EDU_BAR, EDU_REG_DMA_SRC, 8, src), 0);
	assert_int_equal(upci_mmio_write(d, EDU_BAR, EDU_REG_DMA_DST, 8, dst), 0);
	assert_int_equal(upci_mmio_write(d, EDU_BAR, EDU_REG_DMA_COUNT, 8, len), 0);
	assert_int_equal(upci_mmio_write(d, EDU_BAR, EDU_REG_DMA_CMD, 8, cmd | EDU_DMA_CMD_START), 0);
	/* The model finishes a transfer inside the write (model.h). */
	assert_int_equal(rd(d, EDU_REG_DMA_CMD, 8) & EDU_DMA_CMD_START, 0);
}

unsigned tu_edu_copy(upci_dev *d, uint64_t src, uint64_t dst, uint32_t len)
{
	uint64_t f0 = rd(d, EDU_REG_DMA_FAULTS, 4);

	transfer(d, src, EDU_DMA_START, len, 0);
	transfer(d, EDU_DMA_START, dst, len, EDU_DMA_CMD_TO_RAM);
	return (unsigned)(rd(d, EDU_REG_DMA_FAULTS, 4) - f0);
}

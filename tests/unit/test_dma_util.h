/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the DMA unit tests (test_dma_api.c, test_dma_space.c): handles
 * that teardown closes, anonymous pages, and the sim edu's DMA engine used
 * as a probe of what a device reaches. Public API only.
 */
#ifndef UPCI_TEST_DMA_UTIL_H
#define UPCI_TEST_DMA_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "upci/upci.h"

#define MiB (1ull << 20)

uint64_t tu_page(void);
/* Open (and claim): a failure fails the test. Teardown closes what is left. */
upci_dev *tu_open(const char *uri);
upci_dev *tu_open_claimed(const char *uri);
void tu_close(upci_dev *d);
int tu_teardown(void **state);
/* Page-aligned anonymous memory of @n pages (unmapped by teardown). */
void *tu_pages(size_t n);
/* COMMAND: memory decode and bus mastering on. */
void tu_bus_master(upci_dev *d);
/*
 * The edu copies @len (< 4096) bytes from bus address @src to @dst through
 * its buffer. Returns how many of its two transfers the device refused
 * (its fault counter; 0 when both went through).
 */
unsigned tu_edu_copy(upci_dev *d, uint64_t src, uint64_t dst, uint32_t len);

#endif

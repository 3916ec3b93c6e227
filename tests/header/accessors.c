/* SPDX-License-Identifier: MIT */
/*
 * Every mapped-BAR accessor of upci.h in a function of its own, so that
 * check-header.sh can compile this file for other targets (arm64 macOS,
 * big-endian arm64, x86-64) and for C++ (accessors.cpp includes it), and
 * look at the instructions the barriers and byte swaps become.
 */
#include <upci/upci.h>

#ifdef __cplusplus
#define EXTERN_C extern "C"
#else
#define EXTERN_C
#endif

EXTERN_C uint8_t acc_read8(const void *b);
EXTERN_C uint16_t acc_read16(const void *b);
EXTERN_C uint32_t acc_read32(const void *b);
EXTERN_C uint64_t acc_read64(const void *b);
EXTERN_C void acc_write8(void *b, uint8_t v);
EXTERN_C void acc_write16(void *b, uint16_t v);
EXTERN_C void acc_write32(void *b, uint32_t v);
EXTERN_C void acc_write64(void *b, uint64_t v);
EXTERN_C void acc_doorbell_after_wc(void *wc, void *uc, uint32_t v);

uint8_t acc_read8(const void *b)
{
	return upci_read8(b, 1);
}

uint16_t acc_read16(const void *b)
{
	return upci_read16(b, 2);
}

uint32_t acc_read32(const void *b)
{
	return upci_read32(b, 4);
}

uint64_t acc_read64(const void *b)
{
	return upci_read64(b, 8);
}

void acc_write8(void *b, uint8_t v)
{
	upci_write8(b, 1, v);
}

void acc_write16(void *b, uint16_t v)
{
	upci_write16(b, 2, v);
}

void acc_write32(void *b, uint32_t v)
{
	upci_write32(b, 4, v);
}

void acc_write64(void *b, uint64_t v)
{
	upci_write64(b, 8, v);
}

/* The documented pattern: copy into a write-combined BAR, flush, ring. */
void acc_doorbell_after_wc(void *wc, void *uc, uint32_t v)
{
	upci_write64(wc, 0, v);
	upci_wc_flush();
	upci_write32(uc, 0, v);
}

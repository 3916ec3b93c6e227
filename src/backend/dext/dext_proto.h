/* SPDX-License-Identifier: MIT */
/*
 * The VFIOUserPCIDriver user-client protocol, as plain C (no Apple
 * headers): selector numbers, the slot of every scalar input and output,
 * memory types for IOConnectMapMemory64, the interrupt state page and the
 * platform limits. Facts from the project's reference/dext-protocol.md.
 *
 * Both sides include this file: the backend, and the Linux test shim's
 * model of the driver. The unit tests check these numbers against the
 * protocol's literal values, so one mistake here cannot hide on both sides.
 */
#ifndef UPCI_DEXT_PROTO_H
#define UPCI_DEXT_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define DEXT_SERVICE_CLASS "IOUserService"     /* what IOServiceMatching names */
#define DEXT_USER_CLASS    "VFIOUserPCIDriver" /* its IOUserClass property */
#define DEXT_USER_CLASS_KEY "IOUserClass"
#define DEXT_CLIENT_TYPE   0u                  /* IOServiceOpen type */

/*
 * The properties IOPCIFamily gives the instance's provider, an IOPCIDevice,
 * when it enumerates the function (IOPCIConfigurator.cpp
 * constructProperties, constructAddressingProperties; IOPCIBridge.cpp
 * checkProperties): readable with nothing open. The IDs are OSData
 * holding a native (little-endian) uint32_t; the subsystem ones are
 * absent when the function's subsystem register is 0.
 */
#define DEXT_PCI_CLASS          "IOPCIDevice"
#define DEXT_PROP_VENDOR        "vendor-id"
#define DEXT_PROP_DEVICE        "device-id"
#define DEXT_PROP_REVISION      "revision-id"
#define DEXT_PROP_CLASS         "class-code"
#define DEXT_PROP_SUBSYS_VENDOR "subsystem-vendor-id"
#define DEXT_PROP_SUBSYS        "subsystem-id"
#define DEXT_PROP_PCIE          "IOPCIExpressCapabilities" /* PCI Express functions only */
/* "reg": IOPCIPhysicalAddress records; the first one's physHi (a native
 * uint32_t) names the function. */
#define DEXT_PROP_REG           "reg"
#define DEXT_REG_BUS_SHIFT      16u
#define DEXT_REG_BUS_MASK       0xffu
#define DEXT_REG_DEV_SHIFT      11u
#define DEXT_REG_DEV_MASK       0x1fu
#define DEXT_REG_FN_SHIFT       8u
#define DEXT_REG_FN_MASK        0x7u

enum dext_selector {
	DEXT_SEL_GET_IDENTITY = 0,
	DEXT_SEL_CLAIM = 1,
	DEXT_SEL_TERMINATE = 2,
	DEXT_SEL_ALLOC_DMA_BUFFER = 3,
	DEXT_SEL_FREE_DMA_BUFFER = 4,
	DEXT_SEL_REGISTER_DMA = 5,
	DEXT_SEL_UNREGISTER_DMA = 6,
	DEXT_SEL_PROBE_DMA = 7,
	DEXT_SEL_CONFIG_READ = 8,
	DEXT_SEL_CONFIG_WRITE = 9,
	DEXT_SEL_BAR_INFO = 10,
	DEXT_SEL_MMIO_READ = 11,
	DEXT_SEL_MMIO_WRITE = 12,
	DEXT_SEL_SETUP_INTERRUPTS = 13,
	DEXT_SEL_CHECK_INTERRUPT = 14,
	DEXT_SEL_WAIT_INTERRUPT = 15,
	DEXT_SEL_SET_IRQ_MASK = 16,
	DEXT_SEL_RESET_DEVICE = 17,
	DEXT_SEL_COUNT = 18,
};

/*
 * Scalar slots. *_IN_x indexes a selector's input array and *_OUT_x its
 * output array; *_NIN and *_NOUT are the counts the driver expects and
 * returns. Selectors without a list take or return nothing.
 */
enum { DEXT_IDENT_OUT_BUS, DEXT_IDENT_OUT_DEV, DEXT_IDENT_OUT_FN, DEXT_IDENT_OUT_VENDOR, DEXT_IDENT_OUT_DEVICE,
       DEXT_IDENT_OUT_CLASS, DEXT_IDENT_NOUT };
enum { DEXT_ALLOC_IN_SIZE, DEXT_ALLOC_IN_ALIGN, DEXT_ALLOC_NIN };
enum { DEXT_ALLOC_OUT_SIZE, DEXT_ALLOC_OUT_FLAGS, DEXT_ALLOC_OUT_NSEG, DEXT_ALLOC_OUT_SEG0_ADDR,
       DEXT_ALLOC_OUT_SEG0_LEN, DEXT_ALLOC_OUT_CLASS, DEXT_ALLOC_NOUT };
enum { DEXT_REG_IN_IOVA, DEXT_REG_IN_VA, DEXT_REG_IN_SIZE, DEXT_REG_NIN };
enum { DEXT_REG_OUT_NSEG, DEXT_REG_OUT_BUS, DEXT_REG_OUT_BUS_LEN, DEXT_REG_NOUT };
enum { DEXT_UNREG_IN_IOVA, DEXT_UNREG_NIN };
enum { DEXT_PROBE_IN_IOVA, DEXT_PROBE_IN_OFFSET, DEXT_PROBE_NIN };
enum { DEXT_PROBE_OUT_WORD, DEXT_PROBE_NOUT };
enum { DEXT_CFGRD_IN_OFFSET, DEXT_CFGRD_IN_WIDTH, DEXT_CFGRD_NIN };
enum { DEXT_CFGRD_OUT_VALUE, DEXT_CFGRD_NOUT };
enum { DEXT_CFGWR_IN_OFFSET, DEXT_CFGWR_IN_WIDTH, DEXT_CFGWR_IN_VALUE, DEXT_CFGWR_NIN };
enum { DEXT_BARINFO_IN_BAR, DEXT_BARINFO_NIN };
enum { DEXT_BARINFO_OUT_MEMIDX, DEXT_BARINFO_OUT_SIZE, DEXT_BARINFO_OUT_TYPE, DEXT_BARINFO_NOUT };
enum { DEXT_MMIORD_IN_MEMIDX, DEXT_MMIORD_IN_OFFSET, DEXT_MMIORD_IN_WIDTH, DEXT_MMIORD_NIN };
enum { DEXT_MMIORD_OUT_VALUE, DEXT_MMIORD_NOUT };
enum { DEXT_MMIOWR_IN_MEMIDX, DEXT_MMIOWR_IN_OFFSET, DEXT_MMIOWR_IN_WIDTH, DEXT_MMIOWR_IN_VALUE,
       DEXT_MMIOWR_NIN };
enum { DEXT_SETUPIRQ_OUT_NVEC, DEXT_SETUPIRQ_NOUT };
/* CheckInterrupt's outputs and SetIRQMask's inputs: word w holds vectors
 * 64w..64w+63, bit v%64 for vector v. */
#define DEXT_IRQ_WORDS 4u
#define DEXT_MAX_VECTORS (64u * DEXT_IRQ_WORDS)

/* Memory types for IOConnectMapMemory64. A BAR's type is 1 + its BAR
 * index, not the PCIDriverKit memory index GetBARInfo returns. */
#define DEXT_MEM_DMA_BUFFER 0u
#define DEXT_MEM_BAR(bar)   (1u + (unsigned)(bar))
#define DEXT_MEM_IRQ_STATE  7u

/* GetBARInfo's type: the low bits of a PCI BAR register. */
#define DEXT_BAR_TYPE_IO       0x1u
#define DEXT_BAR_TYPE_MEM_MASK 0x6u
#define DEXT_BAR_TYPE_MEM64    0x4u
#define DEXT_BAR_TYPE_PREFETCH 0x8u

/* The interrupt state page (memory type 7), created by SetupInterrupts:
 * the driver ORs pending bits in, the client may exchange them to zero;
 * enabled starts all ones and is what SetIRQMask writes. */
struct dext_irq_page {
	uint64_t pending[DEXT_IRQ_WORDS];
	uint64_t enabled[DEXT_IRQ_WORDS];
};
#define DEXT_IRQ_PAGE_PENDING 0x00u
#define DEXT_IRQ_PAGE_ENABLED 0x20u
#define DEXT_IRQ_PAGE_SIZE    16384u /* what the driver allocates and maps */
_Static_assert(offsetof(struct dext_irq_page, pending) == DEXT_IRQ_PAGE_PENDING, "pending words at 0x00");
_Static_assert(offsetof(struct dext_irq_page, enabled) == DEXT_IRQ_PAGE_ENABLED, "enabled words at 0x20");
_Static_assert(sizeof(struct dext_irq_page) == 0x40, "interrupt page: 64 bytes used");
_Static_assert(sizeof(struct dext_irq_page) <= DEXT_IRQ_PAGE_SIZE, "layout fits the mapping");

/* Driver and platform limits (Apple Silicon DART through PCIDriverKit). */
#define DEXT_DMA_CHUNK        (1536ull << 20) /* RegisterDMARegion splits here; AllocateDMABuffer max */
#define DEXT_DMA_MAX_CHUNKS   128u            /* per registered region */
#define DEXT_DMA_SLOTS        65536u          /* registered regions per client */
#define DEXT_DMA_ALIGN_DEFAULT 4096u          /* AllocateDMABuffer alignment 0 means this */
#define DEXT_DART_SPACE       (1536ull << 20) /* bus address space the DART hands out */
#define DEXT_DART_MAX_MAPPINGS 65536u         /* live DART mappings */
#define DEXT_DART_GRANULE     16384u          /* DART page */
#define DEXT_DART_MAX_SEGMENTS 32u            /* segments one prepare may return */

#endif /* UPCI_DEXT_PROTO_H */

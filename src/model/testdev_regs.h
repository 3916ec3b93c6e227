/* SPDX-License-Identifier: MIT */
/*
 * testdev: upci's own multi-vector test device (sim:testdev). Register map,
 * config-space layout and DMA descriptor format. Offsets here are stable:
 * the CLI demo, the conformance suite and the benchmarks program against
 * them. Prose description: docs/models/testdev.md.
 *
 * All registers and descriptors are little-endian.
 */
#ifndef UPCI_MODEL_TESTDEV_REGS_H
#define UPCI_MODEL_TESTDEV_REGS_H

#include <stddef.h>
#include <stdint.h>

/*
 * IDs. QEMU's docs/specs/pci-ids.rst: "1af4:10f0 to 1a4f:10ff  Available for
 * experimental usage without registration" (the second "1a4f" is a typo in
 * that file for 1af4). Class ff0000: "device does not fit any defined class".
 */
#define TESTDEV_VENDOR_ID        0x1af4u
#define TESTDEV_DEVICE_ID        0x10f0u
#define TESTDEV_SUBSYS_VENDOR_ID 0x1af4u
#define TESTDEV_SUBSYS_ID        0x10f0u
#define TESTDEV_REVISION         0x01u
#define TESTDEV_CLASS_CODE       0xff0000u

/* URI parameters: sim:testdev?vectors=N,mem=BYTES */
#define TESTDEV_VECTORS_MIN      1u
#define TESTDEV_VECTORS_MAX      256u
#define TESTDEV_VECTORS_DEFAULT  32u
#define TESTDEV_MEM_MIN          4096ull               /* power of two */
#define TESTDEV_MEM_MAX          (256ull << 20)
#define TESTDEV_MEM_DEFAULT      (1ull << 20)

/* ---- Config space (4096 bytes, PCIe) ---- */
#define TESTDEV_CFG_SIZE         4096u
#define TESTDEV_CAP_PM           0x40u   /* PM, version 3, D0 and D3hot only */
#define TESTDEV_CAP_MSIX         0x50u   /* MSI-X, table size = vectors */
#define TESTDEV_CAP_EXP          0x60u   /* PCIe v2 endpoint, FLR capable */
#define TESTDEV_ECAP_DSN         0x100u  /* Device Serial Number */
#define TESTDEV_ECAP_VSEC        0x110u  /* Vendor-specific extended cap */
#define TESTDEV_ECAP_VSEC_SIZE   12u
#define TESTDEV_DSN              0x7570636900000001ull /* "upci" + 1 */
/* VSEC header (offset 4 in the cap): ID 16 bits, rev 4 bits, length 12 bits */
#define TESTDEV_VSEC_ID          0x5444u  /* "TD" */
#define TESTDEV_VSEC_REV         1u
#define TESTDEV_VSEC_DATA        0x08u    /* dword at cap+8 = TESTDEV_ID_VALUE */
/* No INTx: interrupt pin 0; testdev only signals through MSI-X. */

/* ---- BARs ---- */
#define TESTDEV_BAR_REGS         0u      /* 64-bit, non-prefetchable, trapped */
#define TESTDEV_BAR_REGS_SIZE    0x4000u /* 16 KiB */
#define TESTDEV_BAR_MEM          2u      /* 64-bit prefetchable RAM, mappable */

/* ---- BAR0 registers (4-byte access; 8-byte also on the 64-bit ones) ---- */
#define TESTDEV_REG_ID           0x000u  /* RO  TESTDEV_ID_VALUE */
#define  TESTDEV_ID_VALUE        0x54444556u /* "TDEV" in ASCII, as hex */
#define TESTDEV_REG_VERSION      0x004u  /* RO  major << 16 | minor */
#define  TESTDEV_VERSION_VALUE   0x00010000u
#define TESTDEV_REG_NVEC         0x008u  /* RO  number of MSI-X vectors */
#define TESTDEV_REG_SCRATCH      0x00cu  /* RW  default 0 */
#define TESTDEV_REG_MEM_SIZE     0x010u  /* RO  64-bit: BAR2 size in bytes */
#define TESTDEV_REG_DOORBELL     0x018u  /* WO  write v: fire vector v; reads 0 */
#define TESTDEV_REG_IRQ_COUNT    0x01cu  /* RO  vectors fired (doorbell + DMA) */
#define TESTDEV_REG_DESC_ADDR    0x020u  /* RW  64-bit bus address of descriptor list */
#define TESTDEV_REG_DESC_ADDR_HI 0x024u
#define TESTDEV_REG_DESC_COUNT   0x028u  /* RW  descriptors to run, 1..TESTDEV_MAX_DESC */
#define TESTDEV_REG_CTRL         0x02cu  /* RW  see TESTDEV_CTRL_* */
#define  TESTDEV_CTRL_START      0x00000001u /* write 1: run the list; reads 0 */
#define  TESTDEV_CTRL_IRQ_EN     0x00000002u /* raise COMPL_VEC when a run ends */
#define  TESTDEV_CTRL_MASK       0x00000002u /* bits that stick */
#define TESTDEV_REG_STATUS       0x030u  /* RW1C see TESTDEV_STATUS_*; each run replaces it */
#define  TESTDEV_STATUS_DONE     0x00000001u /* the last run ended (ok or not) */
#define  TESTDEV_STATUS_ERROR    0x00000002u /* the last run stopped on a fault */
#define  TESTDEV_STATUS_MASK     0x00000003u
#define TESTDEV_REG_COMPL_VEC    0x034u  /* RW  vector raised at end of a run with IRQ_EN (low 16 bits kept) */
#define TESTDEV_REG_DONE_COUNT   0x038u  /* RO  descriptors completed by the last run */
/* 0x03c: unimplemented (reads all ones) */
#define TESTDEV_REG_BYTES        0x040u  /* RO  64-bit: bytes copied since reset */
#define TESTDEV_REG_BYTES_HI     0x044u
#define TESTDEV_REG_FAULT_COUNT  0x048u  /* RO  faults since reset; a write clears it and LAST_FAULT */
#define TESTDEV_REG_LAST_FAULT   0x04cu  /* RO  TESTDEV_FAULT_* of the latest fault */
#define TESTDEV_REG_FAULT_DESC   0x050u  /* RO  index of the descriptor that faulted (~0 if none) */
#define TESTDEV_REG_FIRE_NS      0x058u  /* RO  64-bit: CLOCK_MONOTONIC ns when the last
                                          * vector was fired (0 after reset): lets a
                                          * benchmark in another process time
                                          * device-fired -> wake-up on its own */
#define TESTDEV_REG_FIRE_NS_HI   0x05cu
#define TESTDEV_REGS_END         0x060u  /* first offset past the registers (0x054 is a gap) */

#define TESTDEV_MSIX_TABLE       0x1000u /* 16 bytes per vector, 4/8-byte access */
#define TESTDEV_MSIX_PBA         0x2000u /* 64 bits per 64 vectors, RO, 4/8-byte reads */

/* Fault codes (LAST_FAULT, descriptor status bits 15:8) */
#define TESTDEV_FAULT_NONE       0u
#define TESTDEV_FAULT_DOORBELL   1u  /* doorbell vector >= NVEC */
#define TESTDEV_FAULT_DESC_COUNT 2u  /* DESC_COUNT 0 or > TESTDEV_MAX_DESC */
#define TESTDEV_FAULT_DESC_ADDR  3u  /* descriptor list unreadable or wraps */
#define TESTDEV_FAULT_SRC        4u  /* source not readable by the device, or wraps */
#define TESTDEV_FAULT_DST        5u  /* destination not writable, or wraps */
#define TESTDEV_FAULT_LEN        6u  /* len 0 or > TESTDEV_MAX_LEN */
#define TESTDEV_FAULT_BAR2       7u  /* BAR2 offset + len outside BAR2 */
#define TESTDEV_FAULT_NO_MASTER  8u  /* START with COMMAND.MASTER clear */
#define TESTDEV_FAULT_FLAGS      9u  /* reserved descriptor flag bits set */
#define TESTDEV_FAULT_VECTOR     10u /* descriptor or completion vector >= NVEC */
#define TESTDEV_FAULT_WRITEBACK  11u /* descriptor status could not be written */
#define TESTDEV_FAULT_BUDGET     12u /* the run would move more than TESTDEV_MAX_RUN_BYTES */

/* ---- DMA descriptor (in client memory, at DESC_ADDR + 32 * i) ---- */
struct testdev_desc {
	uint64_t src;      /* bus address, or BAR2 offset with F_SRC_BAR2 */
	uint64_t dst;      /* bus address, or BAR2 offset with F_DST_BAR2 */
	uint32_t len;      /* 1..TESTDEV_MAX_LEN bytes */
	uint32_t flags;    /* TESTDEV_DESC_F_* */
	uint32_t status;   /* written by the device: TESTDEV_DESC_ST_* */
	uint32_t reserved; /* ignored */
};
_Static_assert(sizeof(struct testdev_desc) == 32, "testdev descriptor is 32 bytes");

#define TESTDEV_DESC_SIZE        32u
#define TESTDEV_DESC_SRC         0x00u
#define TESTDEV_DESC_DST         0x08u
#define TESTDEV_DESC_LEN         0x10u
#define TESTDEV_DESC_FLAGS       0x14u
#define TESTDEV_DESC_STATUS      0x18u
_Static_assert(offsetof(struct testdev_desc, status) == TESTDEV_DESC_STATUS, "status offset");
_Static_assert(offsetof(struct testdev_desc, flags) == TESTDEV_DESC_FLAGS, "flags offset");

#define TESTDEV_DESC_F_SRC_BAR2  0x00000001u /* src is an offset into BAR2 */
#define TESTDEV_DESC_F_DST_BAR2  0x00000002u /* dst is an offset into BAR2 */
#define TESTDEV_DESC_F_IRQ       0x00000004u /* fire the vector below when done */
#define TESTDEV_DESC_F_VEC_SHIFT 8u
#define TESTDEV_DESC_F_VEC_MASK  0x0000ff00u
#define TESTDEV_DESC_F_RESERVED  0xffff00f8u /* must be 0 */

#define TESTDEV_DESC_ST_DONE        0x00000001u
#define TESTDEV_DESC_ST_ERROR       0x00000002u
#define TESTDEV_DESC_ST_FAULT_SHIFT 8u
#define TESTDEV_DESC_ST_FAULT_MASK  0x0000ff00u

/*
 * Bounds on the work one START buys (a register write must not cost the
 * host unbounded time): descriptors per START, bytes per descriptor, and
 * bytes per START in all. The descriptor that would pass the last faults
 * BUDGET before moving anything; DONE_COUNT tells the driver where to
 * resume with the next START.
 */
#define TESTDEV_MAX_DESC         4096u          /* per START */
#define TESTDEV_MAX_LEN          (16u << 20)    /* bytes per descriptor */
#define TESTDEV_MAX_RUN_BYTES    (16ull << 20)  /* bytes per START */

#endif /* UPCI_MODEL_TESTDEV_REGS_H */

/* SPDX-License-Identifier: MIT */
/*
 * Register map of the "edu" model: register-compatible with QEMU's edu
 * device (docs/specs/edu.rst), plus two read-only upci extensions that
 * report rejected DMA requests (EDU_REG_DMA_FAULTS, EDU_REG_DMA_ERROR).
 *
 * All registers live in BAR0 (32-bit memory, 1 MiB). Offsets below
 * EDU_REG_DMA_SRC accept 4-byte accesses only; from EDU_REG_DMA_SRC up,
 * 4- or 8-byte accesses. Reads of unimplemented offsets return all ones.
 */
#ifndef UPCI_MODEL_EDU_REGS_H
#define UPCI_MODEL_EDU_REGS_H

/* PCI identity (as QEMU) */
#define EDU_VENDOR_ID           0x1234u
#define EDU_DEVICE_ID           0x11e8u
#define EDU_REVISION            0x10u
#define EDU_CLASS_CODE          0x00ff00u   /* class 0x00, subclass 0xff */
#define EDU_SUBSYS_VENDOR_ID    0x1af4u     /* QEMU's default for every device */
#define EDU_SUBSYS_ID           0x1100u
#define EDU_BAR                 0u
#define EDU_BAR_SIZE            0x100000u   /* 1 MiB */
#define EDU_INTX_PIN            1u          /* INTA# */
#define EDU_MSI_CAP             0x40u       /* config offset of the MSI capability */
#define EDU_MSI_VECTORS         1u          /* 64-bit address, no per-vector mask */

/* Registers (offsets into BAR0) */
#define EDU_REG_ID              0x00u  /* RO */
#define  EDU_ID_VALUE           0x010000edu  /* major 1, minor 0, 0xed */
#define EDU_REG_LIVENESS        0x04u  /* reads ~(last value written) */
#define EDU_REG_FACTORIAL       0x08u  /* write n, read n! (mod 2^32) */
#define EDU_REG_STATUS          0x20u
#define  EDU_STATUS_COMPUTING   0x00000001u  /* RO; never seen set (sync) */
#define  EDU_STATUS_IRQFACT     0x00000080u  /* RW: irq when factorial done */
#define EDU_REG_IRQ_STATUS      0x24u  /* RO */
#define EDU_REG_IRQ_RAISE       0x60u  /* WO: OR value into irq status */
#define EDU_REG_IRQ_ACK         0x64u  /* WO: clear bits in irq status */
#define  EDU_IRQ_FACT           0x00000001u  /* factorial done */
#define  EDU_IRQ_DMA            0x00000100u  /* DMA done */

#define EDU_REG_DMA_SRC         0x80u  /* 64-bit */
#define EDU_REG_DMA_DST         0x88u  /* 64-bit */
#define EDU_REG_DMA_COUNT       0x90u  /* 64-bit */
#define EDU_REG_DMA_CMD         0x98u  /* 64-bit */
#define  EDU_DMA_CMD_START      0x1u   /* clears when the transfer ends */
#define  EDU_DMA_CMD_TO_RAM     0x2u   /* 1: EDU buffer -> RAM, 0: RAM -> EDU */
#define  EDU_DMA_CMD_IRQ        0x4u   /* raise EDU_IRQ_DMA when done */

/* upci extensions (QEMU's edu leaves these offsets unimplemented) */
#define EDU_REG_DMA_FAULTS      0xa0u  /* RO: rejected DMA requests (wraps) */
#define EDU_REG_DMA_ERROR       0xa4u  /* RO: EDU_DMA_ERR_* of last reject */
#define  EDU_DMA_ERR_NONE       0u
#define  EDU_DMA_ERR_COUNT      1u     /* count 0 or > EDU_DMA_SIZE */
#define  EDU_DMA_ERR_BUFFER     2u     /* range not inside the DMA buffer */
#define  EDU_DMA_ERR_ADDR       3u     /* RAM range beyond EDU_DMA_MASK/wraps */
#define  EDU_DMA_ERR_UNMAPPED   4u     /* RAM range not mapped (IOMMU fault) */
#define  EDU_DMA_ERR_MASTER     5u     /* PCI_COMMAND_MASTER clear */
#define  EDU_DMA_ERR_BUS        6u     /* RAM vanished during the copy (its
                                        * file shrank: a bus error) */

/* Access widths */
#define EDU_REG_WIDE_START      EDU_REG_DMA_SRC  /* 4 or 8 bytes from here */
#define EDU_REG_SPACE_END       0x100u /* registers mirrored in BAR0 map */

/* DMA engine: 4 KiB buffer at device address EDU_DMA_START */
#define EDU_DMA_START           0x40000u
#define EDU_DMA_SIZE            4096u
#define EDU_DMA_MASK_BITS       28u
#define EDU_DMA_MASK            ((1ull << EDU_DMA_MASK_BITS) - 1u)

#endif /* UPCI_MODEL_EDU_REGS_H */

/* SPDX-License-Identifier: MIT */
/*
 * PCI config-space register offsets, shifts and masks (PCI Local Bus 3.0,
 * PCIe Base 4.0). Named here once so that no file uses bare numbers and no
 * file needs <linux/pci_regs.h> (which macOS lacks).
 */
#ifndef UPCI_CORE_PCI_REGS_H
#define UPCI_CORE_PCI_REGS_H

#define PCI_CFG_SIZE            256u
#define PCIE_CFG_SIZE           4096u

/* Type 0 header */
#define PCI_VENDOR_ID           0x00u
#define PCI_DEVICE_ID           0x02u
#define PCI_COMMAND             0x04u
#define  PCI_COMMAND_IO         0x0001u
#define  PCI_COMMAND_MEMORY     0x0002u
#define  PCI_COMMAND_MASTER     0x0004u
#define  PCI_COMMAND_PARITY     0x0040u
#define  PCI_COMMAND_SERR       0x0100u
#define  PCI_COMMAND_INTX_DISABLE 0x0400u
#define PCI_STATUS              0x06u
#define  PCI_STATUS_INTERRUPT   0x0008u
#define  PCI_STATUS_CAP_LIST    0x0010u
#define  PCI_STATUS_66MHZ       0x0020u
#define  PCI_STATUS_FAST_BACK   0x0080u
#define  PCI_STATUS_MASTER_ABORT_RCVD 0x2000u
#define  PCI_STATUS_W1C_MASK    0xf900u
#define PCI_REVISION_ID         0x08u
#define PCI_CLASS_PROG          0x09u
#define PCI_CLASS_DEVICE        0x0au
#define PCI_CACHE_LINE_SIZE     0x0cu
#define PCI_LATENCY_TIMER       0x0du
#define PCI_HEADER_TYPE         0x0eu
#define  PCI_HEADER_TYPE_MASK   0x7fu
#define  PCI_HEADER_TYPE_MULTI  0x80u
#define PCI_BIST                0x0fu
#define PCI_BASE_ADDRESS_0      0x10u
#define PCI_BASE_ADDRESS_5      0x24u
#define  PCI_BAR_SPACE_IO       0x01u
#define  PCI_BAR_MEM_TYPE_MASK  0x06u
#define  PCI_BAR_MEM_TYPE_32    0x00u
#define  PCI_BAR_MEM_TYPE_64    0x04u
#define  PCI_BAR_MEM_PREFETCH   0x08u
#define  PCI_BAR_MEM_ADDR_MASK  (~0xfu)
#define  PCI_BAR_IO_ADDR_MASK   (~0x3u)
#define PCI_CARDBUS_CIS         0x28u
#define PCI_SUBSYSTEM_VENDOR_ID 0x2cu
#define PCI_SUBSYSTEM_ID        0x2eu
#define PCI_ROM_ADDRESS         0x30u
#define  PCI_ROM_ADDRESS_ENABLE 0x01u
#define PCI_CAPABILITY_LIST     0x34u
#define PCI_INTERRUPT_LINE      0x3cu
#define PCI_INTERRUPT_PIN       0x3du
#define PCI_MIN_GNT             0x3eu
#define PCI_MAX_LAT             0x3fu
#define PCI_STD_HEADER_SIZE     0x40u

#define PCI_BAR_OFFSET(n)       (PCI_BASE_ADDRESS_0 + 4u * (unsigned)(n))

/* Capability list */
#define PCI_CAP_LIST_ID         0x00u
#define PCI_CAP_LIST_NEXT       0x01u
#define PCI_CAP_ID_PM           0x01u
#define PCI_CAP_ID_MSI          0x05u
#define PCI_CAP_ID_VNDR         0x09u
#define PCI_CAP_ID_EXP          0x10u
#define PCI_CAP_ID_MSIX         0x11u
#define PCI_CAP_ID_MAX          0x15u
#define PCI_CAP_NEXT_MASK       0xfcu

/* Power management */
#define PCI_PM_PMC              0x02u
#define  PCI_PM_PMC_VERSION_MASK 0x0007u
#define  PCI_PM_PMC_D1          0x0200u
#define  PCI_PM_PMC_D2          0x0400u
#define  PCI_PM_PMC_PME_SHIFT   11u
#define PCI_PM_CTRL             0x04u
#define  PCI_PM_CTRL_STATE_MASK 0x0003u
#define  PCI_PM_CTRL_NO_SOFT_RESET 0x0008u
#define PCI_PM_SIZEOF           8u

/* MSI */
#define PCI_MSI_FLAGS           0x02u
#define  PCI_MSI_FLAGS_ENABLE   0x0001u
#define  PCI_MSI_FLAGS_QMASK    0x000eu  /* multiple message capable */
#define  PCI_MSI_FLAGS_QMASK_SHIFT 1u
#define  PCI_MSI_FLAGS_QSIZE    0x0070u  /* multiple message enable */
#define  PCI_MSI_FLAGS_QSIZE_SHIFT 4u
#define  PCI_MSI_FLAGS_64BIT    0x0080u
#define  PCI_MSI_FLAGS_MASKBIT  0x0100u
#define PCI_MSI_ADDRESS_LO      0x04u
#define  PCI_MSI_ADDRESS_LO_MASK 0xfffffffcu
#define  PCI_MSI_DATA_MASK       0xffffu
#define PCI_MSI_ADDRESS_HI      0x08u   /* 64-bit only */
#define PCI_MSI_DATA_32         0x08u
#define PCI_MSI_DATA_64         0x0cu
#define PCI_MSI_MASK_32         0x0cu
#define PCI_MSI_MASK_64         0x10u
#define PCI_MSI_PENDING_32      0x10u
#define PCI_MSI_PENDING_64      0x14u

/* MSI-X */
#define PCI_MSIX_FLAGS          0x02u
#define  PCI_MSIX_FLAGS_QSIZE   0x07ffu  /* table size - 1 */
#define  PCI_MSIX_FLAGS_MASKALL 0x4000u
#define  PCI_MSIX_FLAGS_ENABLE  0x8000u
#define PCI_MSIX_TABLE          0x04u
#define PCI_MSIX_PBA            0x08u
#define  PCI_MSIX_BIR_MASK      0x00000007u
#define  PCI_MSIX_OFFSET_MASK   0xfffffff8u
#define PCI_MSIX_SIZEOF         12u
#define PCI_MSIX_ENTRY_SIZE     16u
#define PCI_MSIX_ENTRY_ADDR_LO  0x0u
#define PCI_MSIX_ENTRY_ADDR_HI  0x4u
#define PCI_MSIX_ENTRY_DATA     0x8u
#define PCI_MSIX_ENTRY_CTRL     0xcu
#define  PCI_MSIX_ENTRY_CTRL_MASKBIT 0x1u

/* PCI Express capability */
#define PCI_EXP_FLAGS           0x02u
#define  PCI_EXP_FLAGS_VERS     0x000fu
#define  PCI_EXP_FLAGS_TYPE     0x00f0u
#define  PCI_EXP_FLAGS_TYPE_SHIFT 4u
#define  PCI_EXP_TYPE_ENDPOINT  0x0u
#define  PCI_EXP_TYPE_RC_END    0x9u
#define PCI_EXP_DEVCAP          0x04u
#define  PCI_EXP_DEVCAP_PAYLOAD 0x00000007u
#define  PCI_EXP_DEVCAP_FLR     0x10000000u
#define PCI_EXP_DEVCTL          0x08u
#define  PCI_EXP_DEVCTL_PAYLOAD 0x00e0u
#define  PCI_EXP_DEVCTL_PAYLOAD_SHIFT 5u
#define  PCI_EXP_DEVCTL_READRQ  0x7000u
#define  PCI_EXP_DEVCTL_READRQ_SHIFT 12u
#define  PCI_EXP_DEVCTL_BCR_FLR 0x8000u
#define PCI_EXP_DEVSTA          0x0au
#define  PCI_EXP_DEVSTA_TRPND   0x0020u
#define PCI_EXP_LNKCAP          0x0cu
#define  PCI_EXP_LNKCAP_SLS     0x0000000fu
#define  PCI_EXP_LNKCAP_MLW     0x000003f0u
#define  PCI_EXP_LNKCAP_MLW_SHIFT 4u
#define PCI_EXP_LNKCTL          0x10u
#define PCI_EXP_LNKSTA          0x12u
#define  PCI_EXP_LNKSTA_CLS     0x000fu
#define  PCI_EXP_LNKSTA_NLW     0x03f0u
#define  PCI_EXP_LNKSTA_NLW_SHIFT 4u
#define PCI_EXP_DEVCAP2         0x24u
#define PCI_EXP_DEVCTL2         0x28u
#define PCI_EXP_ENDPOINT_SIZEOF_V2 0x3cu

/* Extended capabilities (offset 0x100 and up) */
#define PCI_EXT_CAP_START       0x100u
#define PCI_EXT_CAP_ID(hdr)     ((hdr) & 0xffffu)
#define PCI_EXT_CAP_VER(hdr)    (((hdr) >> 16) & 0xfu)
#define PCI_EXT_CAP_NEXT(hdr)   (((hdr) >> 20) & 0xffcu)
#define PCI_EXT_CAP_ID_ERR      0x0001u
#define PCI_EXT_CAP_ID_DSN      0x0003u
#define PCI_EXT_CAP_ID_VNDR     0x000bu

/* Further PCIe, DSN, vendor-specific and PM fields (used by the testdev model) */
#define PCI_EXP_DEVCTL_CERE     0x0001u  /* correctable error reporting */
#define PCI_EXP_DEVCTL_NFERE    0x0002u  /* non-fatal error reporting */
#define PCI_EXP_DEVCTL_FERE     0x0004u  /* fatal error reporting */
#define PCI_EXP_DEVCTL_URRE     0x0008u  /* unsupported request reporting */
#define PCI_EXP_DEVCTL_RELAX_EN 0x0010u  /* relaxed ordering */
#define PCI_EXP_DEVCTL_NOSNOOP_EN 0x0800u
#define PCI_EXP_DEVSTA_ERR_MASK 0x000fu  /* CED, NFED, FED, URD: RW1C */
#define PCI_EXP_FLAGS_VERS_2    0x0002u
#define PCI_EXP_LNKCAP_MLW_X1   (1u << PCI_EXP_LNKCAP_MLW_SHIFT)
#define PCI_EXP_LNKSTA_NLW_X1   (1u << PCI_EXP_LNKSTA_NLW_SHIFT)
#define PCI_EXP_LNK_SPEED_2_5GT 0x1u
#define PCI_DSN_LO              0x04u
#define PCI_DSN_HI              0x08u
#define PCI_VNDR_HEADER         0x04u
#define  PCI_VNDR_HEADER_REV_SHIFT 16u
#define  PCI_VNDR_HEADER_LEN_SHIFT 20u
#define PCI_PM_PMC_VERSION_1_2  0x0003u
#define PCI_PM_STATE_D0         0x0u
#define PCI_PM_STATE_D3HOT      0x3u

#endif /* UPCI_CORE_PCI_REGS_H */

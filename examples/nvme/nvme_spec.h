/* SPDX-License-Identifier: MIT */
/*
 * The parts of the NVM Express Base Specification 1.4 this driver uses:
 * controller registers (3.1), queue entries (4.2, 4.6), admin commands
 * (5.3 Create I/O CQ, 5.4 Create I/O SQ, 5.15 Identify, 5.21 Set
 * Features / Number of Queues) and NVM commands (6.9 Read, 6.15 Write).
 * Named offsets, shifts and masks; entries as byte layouts with their
 * sizes checked.
 */
#ifndef UPCI_EXAMPLE_NVME_SPEC_H
#define UPCI_EXAMPLE_NVME_SPEC_H

#include <stdint.h>

/* ---- controller registers (BAR0) ---- */
#define NVME_REG_CAP   0x00u /* 64-bit */
#define NVME_REG_VS    0x08u
#define NVME_REG_CC    0x14u
#define NVME_REG_CSTS  0x1cu
#define NVME_REG_AQA   0x24u
#define NVME_REG_ASQ   0x28u /* 64-bit */
#define NVME_REG_ACQ   0x30u /* 64-bit */
#define NVME_REG_DBS   0x1000u

#define NVME_CAP_MQES(c)   ((unsigned)((c) & 0xffffu))
#define NVME_CAP_TO(c)     ((unsigned)(((c) >> 24) & 0xffu)) /* 500 ms units */
#define NVME_CAP_DSTRD(c)  ((unsigned)(((c) >> 32) & 0xfu))
#define NVME_CAP_CSS_NVM   (UINT64_C(1) << 37)
#define NVME_CAP_MPSMIN(c) ((unsigned)(((c) >> 48) & 0xfu)) /* 2^(12+n) bytes */

#define NVME_CC_EN           (1u << 0)
#define NVME_CC_CSS_NVM      (0u << 4)
#define NVME_CC_MPS_SHIFT    7
#define NVME_CC_SHN_NORMAL   (1u << 14)
#define NVME_CC_SHN_MASK     (3u << 14)
#define NVME_CC_IOSQES_SHIFT 16
#define NVME_CC_IOCQES_SHIFT 20

#define NVME_CSTS_RDY        (1u << 0)
#define NVME_CSTS_CFS        (1u << 1)
#define NVME_CSTS_SHST_MASK  (3u << 2)
#define NVME_CSTS_SHST_DONE  (2u << 2)

#define NVME_AQA_ACQS_SHIFT  16

/* ---- submission queue entry: 64 bytes ---- */
#define NVME_SQE_SIZE   64u
#define NVME_SQES_LOG2  6u
struct nvme_sqe {
	uint32_t cdw0; /* opcode [7:0], PSDT [15:14] = 0 (PRPs), command id [31:16] */
	uint32_t nsid;
	uint32_t cdw2, cdw3;
	uint64_t mptr;
	uint64_t prp1;
	uint64_t prp2;
	uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};
_Static_assert(sizeof(struct nvme_sqe) == NVME_SQE_SIZE, "NVMe SQE is 64 bytes");
#define NVME_SQE_CID_SHIFT 16

/* ---- completion queue entry: 16 bytes ---- */
#define NVME_CQE_SIZE   16u
#define NVME_CQES_LOG2  4u
struct nvme_cqe {
	uint32_t dw0;  /* command specific */
	uint32_t dw1;
	uint32_t dw2;  /* SQ head [15:0], SQ id [31:16] */
	uint32_t dw3;  /* command id [15:0], phase [16], status [31:17] */
};
_Static_assert(sizeof(struct nvme_cqe) == NVME_CQE_SIZE, "NVMe CQE is 16 bytes");
#define NVME_CQE_CID(dw3)    ((uint16_t)((dw3) & 0xffffu))
#define NVME_CQE_PHASE(dw3)  (((dw3) >> 16) & 1u)
#define NVME_CQE_STATUS(dw3) ((dw3) >> 17) /* SC [7:0], SCT [10:8], M, DNR */
#define NVME_CQE_SQHD(dw2)   ((uint16_t)((dw2) & 0xffffu))

/* ---- admin commands ---- */
#define NVME_ADM_DELETE_SQ    0x00u
#define NVME_ADM_CREATE_SQ    0x01u
#define NVME_ADM_DELETE_CQ    0x04u
#define NVME_ADM_CREATE_CQ    0x05u
#define NVME_ADM_IDENTIFY     0x06u
#define NVME_ADM_SET_FEATURES 0x09u

#define NVME_QSIZE_SHIFT      16     /* cdw10 of Create I/O CQ/SQ: size - 1 */
#define NVME_CQ_PC            (1u << 0)
#define NVME_CQ_IEN           (1u << 1)
#define NVME_CQ_IV_SHIFT      16
#define NVME_SQ_PC            (1u << 0)
#define NVME_SQ_CQID_SHIFT    16

#define NVME_CNS_NS           0x00u
#define NVME_CNS_CTRL         0x01u
#define NVME_FID_NUM_QUEUES   0x07u
#define NVME_NUMQ_NCQR_SHIFT  16

/* Identify Controller data (4096 bytes): what we read of it. */
#define NVME_IDC_VID   0
#define NVME_IDC_SN    4   /* 20 ASCII bytes */
#define NVME_IDC_MN    24  /* 40 ASCII bytes */
#define NVME_IDC_FR    64  /* 8 ASCII bytes */
#define NVME_IDC_MDTS  77  /* 2^n minimum pages per command, 0 = no limit */
#define NVME_IDC_NN    516 /* number of namespaces */
/* Identify Namespace data. */
#define NVME_IDN_NSZE  0   /* 64-bit, in logical blocks */
#define NVME_IDN_NLBAF 25
#define NVME_IDN_FLBAS 26  /* [3:0]: the LBA format in use */
#define NVME_IDN_LBAF  128 /* 4 bytes each: LBADS [23:16] = log2(block size) */
#define NVME_IDENTIFY_SIZE 4096u

/* ---- NVM commands ---- */
#define NVME_CMD_FLUSH 0x00u
#define NVME_CMD_WRITE 0x01u
#define NVME_CMD_READ  0x02u

/* Status codes worth naming (generic command status, SCT 0). */
#define NVME_SC_SUCCESS        0x00u
#define NVME_SC_INVALID_FIELD  0x02u
#define NVME_SC_LBA_RANGE      0x80u

#endif /* UPCI_EXAMPLE_NVME_SPEC_H */

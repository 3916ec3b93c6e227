/* SPDX-License-Identifier: MIT */
/*
 * upci-conformance: one program that runs the seed feature list against any
 * URI. Shared pieces: the run context, the case table type, check macros
 * and the few PCI config-space names the cases need (the core's pci_regs.h
 * is private to the library, and the suite must only use the public API).
 *
 * A case is a function that takes the context. Checks record the first
 * failure (expected vs seen) and jump to the case's "out:" label, where it
 * releases what it took; so every case has exactly one "out:" label.
 */
#ifndef UPCI_CONFORMANCE_H
#define UPCI_CONFORMANCE_H

#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>

#include "upci/upci.h"

/* Every wait in the suite ends: a broken backend fails, it never hangs. */
#define CONF_TIMEOUT_MS  5000
/* For "nothing must arrive" checks: long enough for a sim or a VM to act. */
#define CONF_QUIET_MS    50

/* ---- PCI config space (PCI Local Bus 3.0, PCIe Base 4.0) ---- */
#define CFG_VENDOR_ID        0x00u
#define CFG_DEVICE_ID        0x02u
#define CFG_COMMAND          0x04u
#define  CFG_CMD_MEMORY      0x0002u
#define  CFG_CMD_MASTER      0x0004u
#define CFG_STATUS           0x06u
#define  CFG_STS_CAP_LIST    0x0010u
#define CFG_REVISION         0x08u
#define CFG_CLASS_PROG       0x09u
#define CFG_BAR0             0x10u
#define  CFG_BAR_IO          0x1u
#define  CFG_BAR_TYPE_MASK   0x6u
#define  CFG_BAR_TYPE_64     0x4u
#define  CFG_BAR_PREFETCH    0x8u
#define CFG_SUBSYS_VENDOR_ID 0x2cu
#define CFG_SUBSYS_ID        0x2eu
#define CFG_CAP_PTR          0x34u
#define CFG_INTERRUPT_LINE   0x3cu
#define CFG_INTERRUPT_PIN    0x3du
#define CFG_STD_HEADER_END   0x40u
#define CFG_EXT_START        0x100u

#define CAP_ID_PM            0x01u
#define CAP_ID_MSI           0x05u
#define CAP_ID_EXP           0x10u
#define CAP_ID_MSIX          0x11u

#define MSI_FLAGS            0x02u   /* offsets inside the MSI capability */
#define  MSI_FLAGS_QMASK     0x000eu
#define  MSI_FLAGS_QMASK_SHIFT 1u
#define MSIX_FLAGS           0x02u   /* offsets inside the MSI-X capability */
#define  MSIX_FLAGS_QSIZE    0x07ffu
#define  MSIX_FLAGS_MASKALL  0x4000u
#define  MSIX_FLAGS_ENABLE   0x8000u
#define MSIX_TABLE           0x04u
#define MSIX_PBA             0x08u
#define  MSIX_BIR_MASK       0x7u
#define MSIX_ENTRY_SIZE      16u
#define MSIX_ENTRY_CTRL      12u
#define  MSIX_ENTRY_MASKBIT  0x1u

#define EXP_DEVCAP           0x04u   /* offsets inside the PCIe capability */
#define  EXP_DEVCAP_FLR      (1u << 28)
#define EXP_DEVCTL           0x08u
#define  EXP_DEVCTL_BCR_FLR  0x8000u

#define ECAP_ID(h)           ((h) & 0xffffu)
#define ECAP_VER(h)          (((h) >> 16) & 0xfu)
#define ECAP_NEXT(h)         ((h) >> 20)
#define ECAP_ID_DSN          0x0003u
#define ECAP_ID_VNDR         0x000bu

/* ---- the run ---- */

enum conf_kind { CONF_DEV_OTHER, CONF_DEV_EDU, CONF_DEV_TESTDEV };

/* What a case needs before it can run; the runner skips it otherwise. */
enum conf_need {
	CONF_NEED_NOTHING, /* runs even when the URI does not open */
	CONF_NEED_DEV,     /* the URI opened */
	CONF_NEED_EDU,     /* the device is an edu (1234:11e8) */
	CONF_NEED_TESTDEV, /* the device is a testdev (1af4:10f0) */
};

struct conf {
	/* Set once by main(). */
	const char *uri;
	int verbose;
	int edu_dma_4096;          /* --edu-dma-4096: QEMU 7.2's edu aborts on it */
	int via_qemu;              /* --via-qemu-vfio-user: see conf_expected() */
	const char *peer;          /* --peer URI: a second device for DMA spaces */
	int open_rc;               /* upci_open() of the URI at start */
	struct upci_identity id;   /* valid when open_rc == 0 */
	enum conf_kind kind;
	int is_sim;                /* backend "sim": model-only registers exist */
	int cfg_needs_claim;       /* config reads refused (-EPERM) until a claim: dext, upci.h */
	long uri_vectors;          /* "vectors=" of a sim: URI, -1 when absent */
	uint64_t uri_mem;          /* "mem=" of a sim: URI, 0 when absent */
	uint64_t page;             /* host page size */
	/* Reset by the runner before each case. */
	int failed;
	int skipped;
	char msg[512];
	char expected[512];        /* the differences conf_expected() named */
};

struct conf_case {
	const char *name;
	enum conf_need need;
	void (*run)(struct conf *c);
};

extern const struct conf_case conf_generic_cases[];
extern const size_t conf_generic_count;
extern const struct conf_case conf_edu_cases[];
extern const size_t conf_edu_count;
extern const struct conf_case conf_testdev_cases[];
extern const size_t conf_testdev_count;
extern const struct conf_case conf_dma_cases[];
extern const size_t conf_dma_count;
extern const struct conf_case conf_enum_cases[];
extern const size_t conf_enum_count;
extern const struct conf_case conf_eventfd_cases[];
extern const size_t conf_eventfd_count;

/* ---- reporting (conformance.c) ---- */

/* Record the first failure of the case; later ones are dropped. */
void conf_fail(struct conf *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void conf_skip(struct conf *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * A difference from the model's own behaviour that the path to the device
 * explains, named where it shows (the case still passes, and its line
 * says why). Only with --via-qemu-vfio-user: the device is a upci-served
 * model reached through QEMU's vfio-user-pci and a guest's kernel VFIO.
 */
void conf_expected(struct conf *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A "# ..." line, printed only with -v. */
void conf_note(const struct conf *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "0", "5" or "-EBUSY": a return code as a word. Rotating static buffers,
 * good for a handful of uses in one message. */
const char *conf_rc(int rc);
/* "{0,3,17} (3 set)": a vector bitmap for messages. Same buffer rule. */
const char *conf_bits(const uint64_t bits[UPCI_IRQ_WORDS]);

/* ---- helpers (conformance.c) ---- */

int64_t conf_now_ms(void);
void conf_sleep_ms(int ms);
/* Poll an MMIO register until (value & mask) == want: 0, -ETIMEDOUT, or
 * the read's error. *last gets the last value read. */
int conf_poll_mmio(upci_dev *d, unsigned bar, uint64_t off, unsigned width, uint64_t mask, uint64_t want,
		   int timeout_ms, uint64_t *last);
/* Set or clear COMMAND.MASTER (and set MEMORY so the BARs decode). */
int conf_bus_master(upci_dev *d, int on);
/* A reproducible byte pattern, different for each seed. */
void conf_fill(void *buf, size_t len, uint32_t seed);
/* Offset of the first byte where a and b differ, or -1. */
long conf_diff(const void *a, const void *b, size_t len);
/* Offset of the first byte != val in buf, or -1. */
long conf_find_not(const void *buf, size_t len, uint8_t val);
/* Number of vectors set in a bitmap. */
int conf_popcount(const uint64_t bits[UPCI_IRQ_WORDS]);
static inline void conf_bit_set(uint64_t bits[UPCI_IRQ_WORDS], unsigned v)
{
	bits[v / 64] |= UINT64_C(1) << (v % 64);
}
static inline int conf_bit_test(const uint64_t bits[UPCI_IRQ_WORDS], unsigned v)
{
	return !!(bits[v / 64] & (UINT64_C(1) << (v % 64)));
}
/* Config offset of the first standard capability with @id, or 0. */
unsigned conf_find_cap(upci_dev *d, unsigned id);

/* ---- checks: on failure record the message and goto out ---- */

#define CHECK(c, cond, ...)                                                                      \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			conf_fail((c), __VA_ARGS__);                                             \
			goto out;                                                                \
		}                                                                                \
	} while (0)

#define CHECK_RC(c, expr, want)                                                                  \
	do {                                                                                     \
		int rc_ = (expr);                                                                \
		if (rc_ != (want)) {                                                             \
			conf_fail((c), "%s: expected %s, got %s", #expr, conf_rc(want), conf_rc(rc_)); \
			goto out;                                                                \
		}                                                                                \
	} while (0)

#define CHECK_EQ(c, what, got, want)                                                             \
	do {                                                                                     \
		uint64_t g_ = (uint64_t)(got), w_ = (uint64_t)(want);                            \
		if (g_ != w_) {                                                                  \
			conf_fail((c), "%s: expected 0x%" PRIx64 ", got 0x%" PRIx64, (what), w_, g_); \
			goto out;                                                                \
		}                                                                                \
	} while (0)

#define SKIP(c, ...)                                                                             \
	do {                                                                                     \
		conf_skip((c), __VA_ARGS__);                                                     \
		goto out;                                                                        \
	} while (0)

/* Register access that must succeed; the value lands in @var. The
 * messages name the access by its values, not by its source text. */
#define MMIO_RD(c, d, bar, off, w, var)                                                          \
	do {                                                                                     \
		uint64_t v_ = 0;                                                                 \
		int rc_ = upci_mmio_read((d), (bar), (off), (w), &v_);                           \
		if (rc_) {                                                                       \
			conf_fail((c), "upci_mmio_read(BAR%u, 0x%" PRIx64 ", %u): %s", (unsigned)(bar), \
				  (uint64_t)(off), (unsigned)(w), conf_rc(rc_));                 \
			goto out;                                                                \
		}                                                                                \
		(var) = v_;                                                                      \
	} while (0)
#define MMIO_WR(c, d, bar, off, w, val)                                                          \
	do {                                                                                     \
		int rc_ = upci_mmio_write((d), (bar), (off), (w), (val));                        \
		if (rc_) {                                                                       \
			conf_fail((c), "upci_mmio_write(BAR%u, 0x%" PRIx64 ", %u, 0x%" PRIx64 "): %s", \
				  (unsigned)(bar), (uint64_t)(off), (unsigned)(w), (uint64_t)(val), conf_rc(rc_)); \
			goto out;                                                                \
		}                                                                                \
	} while (0)
#define CFG_RD(c, d, off, w, var)                                                                \
	do {                                                                                     \
		uint32_t v_ = 0;                                                                 \
		int rc_ = upci_config_read((d), (off), (w), &v_);                                \
		if (rc_) {                                                                       \
			conf_fail((c), "upci_config_read(0x%x, %u): %s", (unsigned)(off), (unsigned)(w), \
				  conf_rc(rc_));                                                 \
			goto out;                                                                \
		}                                                                                \
		(var) = v_;                                                                      \
	} while (0)
#define CFG_WR(c, d, off, w, val)                                                                \
	do {                                                                                     \
		int rc_ = upci_config_write((d), (off), (w), (val));                             \
		if (rc_) {                                                                       \
			conf_fail((c), "upci_config_write(0x%x, %u, 0x%x): %s", (unsigned)(off),  \
				  (unsigned)(w), (unsigned)(val), conf_rc(rc_));                 \
			goto out;                                                                \
		}                                                                                \
	} while (0)

/* Open the URI (and claim it): any error fails the case. */
#define OPEN(c, dp)                                                                              \
	do {                                                                                     \
		int rc_ = upci_open((dp), (c)->uri);                                             \
		if (rc_) {                                                                       \
			conf_fail((c), "upci_open(\"%s\"): expected 0, got %s", (c)->uri, conf_rc(rc_)); \
			goto out;                                                                \
		}                                                                                \
	} while (0)
#define OPEN_CLAIMED(c, dp)                                                                      \
	do {                                                                                     \
		OPEN(c, dp);                                                                     \
		CHECK_RC(c, upci_claim(*(dp)), 0);                                               \
	} while (0)
/* Open for reading config space: claimed only where the backend reads
 * it only then (cfg_needs_claim). */
#define OPEN_CFG(c, dp)                                                                          \
	do {                                                                                     \
		OPEN(c, dp);                                                                     \
		if ((c)->cfg_needs_claim)                                                        \
			CHECK_RC(c, upci_claim(*(dp)), 0);                                       \
	} while (0)

#endif /* UPCI_CONFORMANCE_H */

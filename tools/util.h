/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers of the upci CLI: strict number parsing, the one-line error
 * convention, opening a device by URI, clocks, and the sub-command table.
 *
 * Error convention: every failure prints exactly one line on stderr,
 * "upci: <URI>: <operation>: <reason>" (or "upci: <command>: <reason>" for
 * a usage error without a device), and the command exits with one rule:
 *   EXIT_USAGE    the command line is wrong, whatever device it names: an
 *                 unknown command/option, a missing/extra argument, a bad
 *                 number, a misaligned offset, a value too wide, a
 *                 malformed URI or bad sim: parameters, an unknown register;
 *   EXIT_NOTFOUND the URI is well formed but names no device here: no such
 *                 model, host function or socket, or its backend is not
 *                 built in;
 *   EXIT_FAIL     the device exists and an operation on it failed.
 */
#ifndef UPCI_TOOLS_UTIL_H
#define UPCI_TOOLS_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "upci/upci.h"

#define EXIT_OK    0
#define EXIT_FAIL  1
#define EXIT_USAGE 2
#define EXIT_NOTFOUND 3

/* Sub-commands: each takes argv with argv[0] = its own name. */
int cmd_demo(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_read(int argc, char **argv);
int cmd_write(int argc, char **argv);
int cmd_reset(int argc, char **argv);
int cmd_irq(int argc, char **argv);

/*
 * Strict unsigned parse: decimal, or hex with a 0x/0X prefix. No sign, no
 * blanks, no trailing junk, no overflow, value <= max. 0 or -EINVAL.
 */
int parse_u64(const char *s, uint64_t max, uint64_t *out);
int parse_uint(const char *s, unsigned max, unsigned *out);

/*
 * setpci's rule for register offsets and values: hex, with or without a
 * 0x/0X prefix, 1..16 digits, nothing else; value <= max. 0 or -EINVAL.
 */
int parse_hex(const char *s, uint64_t max, uint64_t *out);

/* "upci: <cmd>: <message>" on stderr; returns EXIT_USAGE. */
int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* @text as one error line ("upci: TEXT"); returns @code. */
int line_error(int code, const char *text);

/* "upci: <uri>: <op>: <upci_strerror(err)>" on stderr; returns EXIT_FAIL. */
int op_error(const char *uri, const char *op, int err);

/* "upci: <uri>: <op>: <message>" on stderr; returns @code. */
int op_errorf(int code, const char *uri, const char *op, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Open @uri (and claim it when @claim), reporting any failure in the
 * one-line form with the exit code of the rule above. Returns EXIT_OK
 * with *out set, or the exit code.
 */
int open_device(const char *uri, int claim, upci_dev **out);

/*
 * Open @uri to read it (info, config reads): like open_device() without a
 * claim, but a bare BDF that VFIO cannot open is read through sysfs
 * ("sysfs:BDF"), as lspci reads it. Returns EXIT_OK or the exit code.
 */
int open_for_reading(const char *uri, upci_dev **out);

/* Report a failed upci_claim() of @dev (a sysfs: device says how to get
 * one that can be claimed). Returns EXIT_FAIL. */
int claim_error(upci_dev *dev, const char *uri, int err);

/* The exit code for a failed upci_open() of @uri with @err. */
int open_exit_code(const char *uri, int err);

/*
 * Report getopt_long()'s '?' (unknown option) or ':' (missing value) as a
 * usage error naming the option. Call right after getopt_long() returned @c.
 */
int option_error(const char *cmd, char **argv, int c);

/*
 * Parse a command that takes no option besides -h/--help (help goes to
 * stdout). Returns -1 to go on (positionals start at optind), else the
 * exit code the command must return.
 */
int plain_options(int argc, char **argv, const char *help);

/*
 * Check the number of positional arguments args[0..nargs). names[] names
 * each position for "missing URI"-style messages. Returns -1 when fine,
 * else EXIT_USAGE after printing the error.
 */
int check_args(const char *cmd, char **args, int nargs, int min, int max, const char *const names[]);

/* Parse a BAR number 0..5 / an access width 1,2,4,8, with usage errors. */
int parse_bar_arg(const char *cmd, const char *s, unsigned *bar);
int parse_width_arg(const char *cmd, const char *s, unsigned max, unsigned *width);

/*
 * Words for a upci_open() failure of @uri: for a host function, what sysfs
 * shows in the way (driver, IOMMU group). *code: the exit code of the rule
 * (open_exit_code()). Returns buf.
 */
const char *open_failure(const char *uri, int err, char *buf, size_t len, int *code);

/* Monotonic clock in nanoseconds. */
uint64_t now_ns(void);

/* Human size: "4 KiB", "1 MiB", "512 B". Writes into buf; returns buf. */
const char *fmt_size(uint64_t bytes, char *buf, unsigned len);

/* The device kinds the CLI knows by identity. */
enum dev_kind { DEV_OTHER, DEV_EDU, DEV_TESTDEV };
enum dev_kind dev_kind_of(const struct upci_identity *id);

/* "MSI-X", "MSI", "INTx", "none", "auto". */
const char *irq_type_name(enum upci_irq_type t);

/* COMMAND's flags, and STATUS's before and after lspci's DEVSEL field, in
 * lspci's order and words (decode.c; 'info' and 'demo' print them). */
struct pci_flag {
	uint16_t bit;
	const char *name;
};
#define PCI_COMMAND_NFLAGS 11
#define PCI_STATUS_NFLAGS_LO 5
#define PCI_STATUS_NFLAGS_HI 6
extern const struct pci_flag pci_command_flags[PCI_COMMAND_NFLAGS];
extern const struct pci_flag pci_status_flags_lo[PCI_STATUS_NFLAGS_LO];
extern const struct pci_flag pci_status_flags_hi[PCI_STATUS_NFLAGS_HI];

/*
 * Config-space decoding for 'demo' (decode.c).
 * All write into buf (always NUL-terminated) and return it.
 */
struct cfg_snapshot;
/* COMMAND / STATUS flags: all=1 lists every flag lspci-style ("Mem+ BusMaster-"),
 * all=0 only the set ones ("Mem BusMaster"). */
const char *fmt_command(uint16_t cmd, int all, char *buf, size_t len);
const char *fmt_status(uint16_t sts, int all, char *buf, size_t len);
/* "normal", "PCI bridge", "CardBus bridge" (+ ", multi-function"). */
const char *fmt_header_type(uint8_t ht, char *buf, size_t len);
/* "MSI@40 PCIe@60 ...; ext DSN@100" or "none". */
const char *fmt_caps_list(const struct cfg_snapshot *c, char *buf, size_t len);
/* "1 MiB mem32 prefetch mappable(ro)" for one BAR. */
const char *fmt_bar(const struct upci_bar_info *bi, char *buf, size_t len);
/* Interrupt vectors the device offers per type, from its capabilities. */
void irq_offer(const struct cfg_snapshot *c, unsigned *msix, unsigned *msi, unsigned *intx);

#endif /* UPCI_TOOLS_UTIL_H */

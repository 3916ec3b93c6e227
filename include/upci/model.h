/* SPDX-License-Identifier: MIT */
/*
 * model.h - write a PCI device in C once: drive it in-process behind the
 * driver API (upci_open("sim:NAME")), fuzz it, serve it to a VMM over
 * vfio-user (upci_server_*() below, or `upci serve sim:NAME`).
 *
 * The device-author API of libupci. It includes upci.h (the driver API);
 * link with libupci as any user does (pkg-config --cflags --libs upci).
 * docs/writing-a-device.md is the tutorial.
 *
 * What the author writes (struct upci_model_ops):
 *   - create(): the device's shape, once per instance: identity, BARs,
 *     capabilities, through the upci_model_*() calls marked "create only";
 *     its own state lives in upci_model_priv() (ops->priv_size bytes,
 *     zeroed).
 *   - BAR register callbacks (upci_model_bar_regs()): what a read returns,
 *     what a write does.
 *   - reset(): its own registers back to power-on values.
 *   - optionally config_written(), to react to a config write after upci
 *     stored it, and destroy(), to free what create() allocated itself.
 *
 * What upci does and checks for the author (hostile input never reaches
 * the callbacks unchecked):
 *   - Config space: every access from the bus is bounded and masked: a
 *     write changes only the bits the capability helpers (or
 *     upci_model_config_wmask()) made writable; write-1-to-clear bits
 *     clear; IDs, class, capability pointers and BAR type bits never
 *     change. BAR sizing (write all ones, read the size mask) just works.
 *   - Register callbacks see only accesses of width 1, 2, 4 or 8, aligned
 *     to the width and inside the BAR. Values are still the guest's: the
 *     callback decides what they mean (and bounds any work they start).
 *   - MSI-X table and PBA accesses never reach the callbacks: upci keeps
 *     them, masks reserved bits, and delivers or latches each vector by
 *     the enable, function-mask, vector-mask and bus-master rules; a
 *     vector unmasked later goes out then. MSI likewise (enable, multiple
 *     message enable, per-vector mask and pending bits). INTx is a level
 *     upci derives from upci_model_intx(), COMMAND.INTX_DISABLE and
 *     whether MSI/MSI-X is on, and shows in STATUS.INTERRUPT.
 *   - DMA reaches only memory the driver (or the VMM) mapped for the
 *     device, with the direction it allowed, and only while COMMAND bus
 *     mastering is on; a range that wraps, leaves the mapped memory or
 *     whose memory vanishes during the copy (another process truncated the
 *     file behind it) is -EFAULT for the device, never a crash. Bytes move
 *     only by copies (upci_model_dma_read/write/copy()).
 *   - Reset (upci_reset(), a vfio-user DEVICE_RESET, an FLR through the
 *     PCIe capability, a D3hot->D0 transition without No_Soft_Reset): upci
 *     restores config space, the MSI-X table and PBA, lowers INTx, zeroes
 *     RAM BARs, then calls ops->reset().
 *
 * Threading: upci serializes every call into one instance (callbacks never
 * overlap, whatever threads drive the device), and the upci_model_*()
 * calls on an instance are made from its callbacks, on that thread. A
 * model creates no threads: work a register write starts completes before
 * the write returns. Different instances run in parallel.
 *
 * Errors: functions return 0 (or a documented non-negative value) or a
 * negative errno, never print, exit or abort, as in upci.h.
 */
#ifndef UPCI_MODEL_H
#define UPCI_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include <upci/upci.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * UPCI_MODEL_API_VERSION - the device-author API this header describes.
 * Set struct upci_model_ops.api_version to it; a library that does not
 * implement that version refuses the model (upci_model_register() gives
 * -ENOTSUP) instead of misreading the table. Raised when the table or the
 * meaning of a call changes incompatibly; new calls do not raise it.
 */
#define UPCI_MODEL_API_VERSION 1

/** Opaque: one instance of a device model (one PCI function). */
typedef struct upci_model upci_model;
/** Opaque: the parameters of a "sim:NAME?key=value,..." URI. */
typedef struct upci_model_params upci_model_params;

/** Longest model name, including the NUL. */
#define UPCI_MODEL_NAME_MAX 32

/*
 * Register callbacks of a BAR (upci_model_bar_regs()). @priv is
 * upci_model_priv(@m), handed over because these run on every register
 * access. @width is 1, 2, 4 or 8, @off is aligned to it and @off + @width
 * lies inside the BAR; a written @val has no bits above @width (upci
 * checked). Return 0, or -EINVAL for an access the device refuses (the
 * driver's upci_mmio_read/write() gets -EINVAL; a read should then still
 * store all ones, what the bus returns for a master abort).
 */
typedef int (*upci_model_read_fn)(upci_model *m, void *priv, unsigned bar, uint64_t off, unsigned width,
				  uint64_t *val);
typedef int (*upci_model_write_fn)(upci_model *m, void *priv, unsigned bar, uint64_t off, unsigned width,
				   uint64_t val);

/** What a device author writes: one table per model, static and const. */
struct upci_model_ops {
	unsigned api_version;  /* UPCI_MODEL_API_VERSION */
	const char *name;      /* sim:NAME: 1..31 of A-Z a-z 0-9 - _ */
	const char *summary;   /* one line, for lists and errors */
	const char *params;    /* accepted parameters for error messages ("" or NULL: none) */
	size_t priv_size;      /* bytes of zeroed state per instance (upci_model_priv()) */
	/* Build the device (calls marked "create only"). 0, or a negative
	 * errno: -EINVAL for bad parameters. On failure upci frees what it
	 * allocated and calls destroy(). */
	int (*create)(upci_model *m, const upci_model_params *params);
	/* Optional: free what create() allocated on its own. */
	void (*destroy)(upci_model *m);
	/* Optional: the device's registers back to power-on values. upci has
	 * already restored config space, the MSI-X state and INTx, and
	 * zeroed the RAM BARs. */
	void (*reset)(upci_model *m);
	/* Optional: a config write from the bus was stored (masks applied);
	 * @val is what the bus wrote. upci handled its own rules first (MSI,
	 * MSI-X, PM, FLR, INTx). Read the stored bytes with
	 * upci_model_config_get(). */
	void (*config_written)(upci_model *m, uint32_t off, unsigned width, uint32_t val);
};

/* upci_model_bar_regs() flags, beyond UPCI_BAR_IO, _MEM64 and _PREFETCH:
 * upci keeps a read-only mappable copy of the BAR (upci_model_bar_mem())
 * that the model keeps current, so a driver may read registers through a
 * mapping; writes still go to the callback. */
#define UPCI_MODEL_BAR_MIRROR (1u << 16)

/* upci_model_add_pm() flags */
#define UPCI_MODEL_PM_D1            (1u << 0) /* D1 supported */
#define UPCI_MODEL_PM_D2            (1u << 1) /* D2 supported */
#define UPCI_MODEL_PM_NO_SOFT_RESET (1u << 2) /* D3hot -> D0 keeps the state */

/* upci_model_add_msi() flags */
#define UPCI_MODEL_MSI_64BIT    (1u << 0) /* 64-bit message address */
#define UPCI_MODEL_MSI_MASKABLE (1u << 1) /* per-vector mask and pending bits */

/* upci_model_add_pcie() types (PCIe Device/Port Type) and flags */
#define UPCI_MODEL_PCIE_ENDPOINT      0u
#define UPCI_MODEL_PCIE_LEGACY        1u
#define UPCI_MODEL_PCIE_RC_INTEGRATED 9u
#define UPCI_MODEL_PCIE_FLR (1u << 0) /* function-level reset capable */

/* ---- registering ---- */

/**
 * upci_model_register() - make a model reachable as "sim:NAME"
 * @ops: the model's table; must stay valid (and unchanged) until
 *       upci_model_unregister() or the end of the process
 *
 * From then on upci_open("sim:NAME?params") creates an instance (one per
 * distinct URI, shared by every handle opened with that URI, as for the
 * built-in models), upci_uri_check() validates its parameters, and
 * upci_server_*() or `upci serve` can serve it.
 *
 * Return: 0, -EINVAL (NULL @ops, no create(), a name that is empty, too
 * long or has other characters than letters, digits, '-' and '_', or
 * priv_size above 1 GiB), -ENOTSUP when @ops->api_version is not
 * UPCI_MODEL_API_VERSION, -EEXIST when a model of that name exists (the
 * built-in "edu" and "testdev" included), -ENOMEM.
 */
UPCI_API int upci_model_register(const struct upci_model_ops *ops);

/**
 * upci_model_unregister() - remove a registered model
 * @name: its name
 *
 * Return: 0, -ENOENT when no registered model has @name, -EPERM for a
 * built-in model, -EBUSY while an instance exists (a handle or a
 * server still uses it).
 */
UPCI_API int upci_model_unregister(const char *name);

/**
 * upci_model_list() - the names of every model, built-in first
 * @names: receives up to @max pointers to the names (valid while the
 *         model stays registered); may be NULL when @max is 0
 * @max: room in @names
 *
 * Return: the number of models (which may exceed @max: call again with
 * more room), -EINVAL for a NULL @names with @max > 0.
 */
UPCI_API int upci_model_list(const char **names, unsigned max);

/* ---- parameters (in create()) ---- */

/**
 * upci_model_param_u64() - a numeric parameter from the URI
 * @params: the parameters create() got (may be NULL: none given)
 * @key: parameter name
 * @def: value when the URI does not name @key
 * @min: smallest accepted value
 * @max: largest accepted value
 * @out: receives the value
 *
 * Accepts decimal and 0x-prefixed hex; no sign, no spaces, no octal.
 *
 * Return: 0 (also when absent: *@out = @def), -EINVAL when the value is
 * not a number in [@min, @max].
 */
UPCI_API int upci_model_param_u64(const upci_model_params *params, const char *key, uint64_t def, uint64_t min,
				  uint64_t max, uint64_t *out);

/**
 * upci_model_param_str() - a parameter's text
 * @params: the parameters create() got (may be NULL)
 * @key: parameter name
 * @out: receives the value (valid during create()), or NULL when absent
 *
 * Return: 0 when present, -ENOENT when absent.
 */
UPCI_API int upci_model_param_str(const upci_model_params *params, const char *key, const char **out);

/**
 * upci_model_params_check() - refuse parameters the model does not know
 * @params: the parameters create() got (may be NULL)
 * @known: NULL-terminated list of accepted names
 * @bad: receives the first unknown name; may be NULL
 *
 * Return: 0, -EINVAL when a parameter is not in @known.
 */
UPCI_API int upci_model_params_check(const upci_model_params *params, const char *const *known, const char **bad);

/* ---- the instance ---- */

/**
 * upci_model_priv() - the model's own state
 * @m: instance
 *
 * Return: ops->priv_size zeroed bytes allocated with the instance (NULL
 * when priv_size is 0), freed after destroy().
 */
UPCI_API void *upci_model_priv(const upci_model *m);

/**
 * upci_model_set_ids() - identity in the config header (create only)
 * @m: instance
 * @vendor: vendor ID (not 0xffff, which reads as "no device")
 * @device: device ID
 * @subvendor: subsystem vendor ID
 * @subdevice: subsystem ID
 * @revision: revision ID
 * @class_code: 24 bits: base class, subclass, programming interface
 *
 * Return: 0, -EINVAL (vendor 0xffff, class_code above 24 bits), -EBUSY
 * outside create().
 */
UPCI_API int upci_model_set_ids(upci_model *m, uint16_t vendor, uint16_t device, uint16_t subvendor,
				uint16_t subdevice, uint8_t revision, uint32_t class_code);

/**
 * upci_model_set_intx() - the legacy interrupt pin (create only)
 * @m: instance
 * @pin: 1..4 for INTA#..INTD#, 0 for none (the default)
 *
 * Return: 0, -EINVAL for @pin > 4, -EBUSY outside create().
 */
UPCI_API int upci_model_set_intx(upci_model *m, unsigned pin);

/* ---- BARs (create only) ---- */

/**
 * upci_model_bar_regs() - a BAR of registers served by callbacks
 * @m: instance
 * @bar: 0..5 (0..4 with UPCI_BAR_MEM64, which also takes @bar + 1)
 * @size: a power of two: 16 bytes to 1 GiB for memory (4 bytes to 256 for
 *        UPCI_BAR_IO); 4 KiB to 1 GiB with UPCI_MODEL_BAR_MIRROR
 * @flags: UPCI_BAR_IO, or UPCI_BAR_MEM64 and/or UPCI_BAR_PREFETCH; plus
 *         UPCI_MODEL_BAR_MIRROR
 * @rd: read callback (NULL: reads return all ones)
 * @wr: write callback (NULL: writes are dropped)
 *
 * Return: 0, -EINVAL (bad @bar, @size or @flags), -EEXIST when the slot
 * is taken (also the upper half of a 64-bit BAR), -ENOMEM, -EBUSY outside
 * create().
 */
UPCI_API int upci_model_bar_regs(upci_model *m, unsigned bar, uint64_t size, unsigned flags, upci_model_read_fn rd,
				 upci_model_write_fn wr);

/**
 * upci_model_bar_ram() - a BAR of plain memory the driver can map
 * @m: instance
 * @bar: 0..5 (0..4 with UPCI_BAR_MEM64)
 * @size: a power of two, 4 KiB to 1 GiB
 * @flags: UPCI_BAR_MEM64 and/or UPCI_BAR_PREFETCH
 *
 * upci serves reads and writes from the memory, lets upci_bar_map() map
 * it read-write, and hands it to a vfio-user client by fd (sealed: the
 * client can neither shrink nor grow it). The model reaches it through
 * upci_model_bar_mem(). Zeroed at creation and at every reset.
 *
 * Return: 0, -EINVAL, -EEXIST, -ENOMEM, -EBUSY as upci_model_bar_regs().
 */
UPCI_API int upci_model_bar_ram(upci_model *m, unsigned bar, uint64_t size, unsigned flags);

/**
 * upci_model_bar_mem() - the memory behind a RAM or mirrored BAR
 * @m: instance
 * @bar: 0..5
 *
 * The model's own mapping, valid for the instance's life: the memory of a
 * RAM BAR (which the driver may change at any time through its mapping),
 * or the read-only copy of a UPCI_MODEL_BAR_MIRROR BAR, which only the
 * model writes.
 *
 * Return: the address, or NULL when @bar has no memory.
 */
UPCI_API void *upci_model_bar_mem(const upci_model *m, unsigned bar);

/* ---- config space and capabilities (adding: create only) ---- */

/**
 * upci_model_add_cap() - a standard capability of any kind
 * @m: instance
 * @id: capability ID
 * @off: config offset 0x40..0xfc, dword aligned; 0: after the last one
 * @len: bytes, 2 or more (ID and next pointer included)
 *
 * Chains it, sets STATUS.CAP_LIST; its bytes are zero and read-only
 * until the model sets them with upci_model_config_set() and makes some
 * writable with upci_model_config_wmask().
 *
 * Return: the capability's offset (> 0), -EINVAL (bad @off or @len, or
 * overlapping another capability or the header), -ENOSPC (no room left
 * for @off 0), -EBUSY outside create().
 */
UPCI_API int upci_model_add_cap(upci_model *m, uint8_t id, unsigned off, unsigned len);

/**
 * upci_model_add_ext_cap() - a PCIe extended capability
 * @m: instance (with a PCIe capability: extended config space)
 * @id: extended capability ID
 * @version: capability version, 0..15
 * @off: config offset 0x100..0xffc, dword aligned; 0: after the last one.
 *       The first one must sit at 0x100.
 * @len: bytes, 4 or more (header included)
 *
 * Return: the offset (>= 0x100), -EINVAL (no PCIe capability, bad @off,
 * @len or @version, overlap), -ENOSPC, -EBUSY outside create().
 */
UPCI_API int upci_model_add_ext_cap(upci_model *m, uint16_t id, unsigned version, unsigned off, unsigned len);

/**
 * upci_model_add_pm() - a Power Management capability (version 1.2)
 * @m: instance
 * @off: as upci_model_add_cap()
 * @flags: UPCI_MODEL_PM_D1, _D2, _NO_SOFT_RESET
 *
 * upci keeps PMCSR: a write of an unsupported power state leaves the state
 * as it was; D3hot to D0 without UPCI_MODEL_PM_NO_SOFT_RESET resets the
 * function (as upci_reset()).
 *
 * Return: the offset, or as upci_model_add_cap(); -EEXIST when the model
 * has one already.
 */
UPCI_API int upci_model_add_pm(upci_model *m, unsigned off, unsigned flags);

/**
 * upci_model_add_msi() - an MSI capability
 * @m: instance
 * @off: as upci_model_add_cap()
 * @nvec: vectors the device asks for: 1, 2, 4, 8, 16 or 32
 * @flags: UPCI_MODEL_MSI_64BIT, UPCI_MODEL_MSI_MASKABLE
 *
 * upci_model_irq() then sends vector v < the enabled count as a message
 * while MSI is enabled and bus mastering is on; a masked vector sets its
 * pending bit and goes out when unmasked.
 *
 * Return: the offset, or as upci_model_add_cap(); -EINVAL for a bad
 * @nvec or @flags; -EEXIST when the model has one already.
 */
UPCI_API int upci_model_add_msi(upci_model *m, unsigned off, unsigned nvec, unsigned flags);

/**
 * upci_model_add_msix() - an MSI-X capability, its table and PBA in BARs
 * @m: instance (the BARs declared first, with upci_model_bar_regs())
 * @off: as upci_model_add_cap()
 * @nvec: table size, 1..256
 * @table_bar: BAR holding the table (a register BAR)
 * @table_off: offset of the table in it, 8-byte aligned
 * @pba_bar: BAR holding the PBA (a register BAR)
 * @pba_off: offset of the PBA in it, 8-byte aligned
 *
 * upci serves the table (16 bytes a vector, 4- and 8-byte accesses; every
 * vector masked after reset) and the read-only PBA (a bit a vector, 4- and
 * 8-byte reads); those ranges never reach the BAR's callbacks.
 *
 * Return: the offset, or as upci_model_add_cap(); -EINVAL for a bad
 * @nvec, a table or PBA outside its BAR, misaligned, overlapping each
 * other or in a BAR that is not a register BAR; -EEXIST when the model
 * has one already.
 */
UPCI_API int upci_model_add_msix(upci_model *m, unsigned off, unsigned nvec, unsigned table_bar,
				 uint64_t table_off, unsigned pba_bar, uint64_t pba_off);

/**
 * upci_model_add_pcie() - a PCI Express capability (version 2)
 * @m: instance
 * @off: as upci_model_add_cap()
 * @type: UPCI_MODEL_PCIE_ENDPOINT, _LEGACY or _RC_INTEGRATED
 * @flags: UPCI_MODEL_PCIE_FLR
 *
 * Makes config space 4096 bytes (extended capabilities can follow).
 * Device Control has its error-reporting, relaxed-ordering, payload,
 * no-snoop and read-request fields writable (power-on values as the PCIe
 * spec says), Device Status its error bits write-1-to-clear; the link
 * reads 2.5 GT/s x1. With UPCI_MODEL_PCIE_FLR, writing Initiate FLR resets
 * the function (as upci_reset()) and upci_reset() uses FLR.
 *
 * Return: the offset, or as upci_model_add_cap(); -EINVAL for a bad
 * @type or @flags; -EEXIST when the model has one already.
 */
UPCI_API int upci_model_add_pcie(upci_model *m, unsigned off, unsigned type, unsigned flags);

/**
 * upci_model_config_get() - read config space as stored
 * @m: instance
 * @off: byte offset
 * @width: 1, 2 or 4
 *
 * Return: the little-endian value; 0 for an access outside config space.
 */
UPCI_API uint32_t upci_model_config_get(const upci_model *m, unsigned off, unsigned width);

/**
 * upci_model_config_set() - store config bytes, ignoring the write masks
 * @m: instance
 * @off: byte offset
 * @width: 1, 2 or 4
 * @val: value
 *
 * For the model itself (its capability registers, status bits). The
 * header's IDs, BAR registers and capability pointers are upci's: use
 * the calls above for them. In create() the value becomes part of the
 * power-on image reset restores.
 *
 * Return: 0, -EINVAL for a bad width, an access outside config space, or
 * one that touches the header before 0x40 other than COMMAND, STATUS,
 * cache line, latency timer, BIST, interrupt line or the capability
 * pointer's neighbours (0x3e..0x3f).
 */
UPCI_API int upci_model_config_set(upci_model *m, unsigned off, unsigned width, uint32_t val);

/**
 * upci_model_config_wmask() - which config bits the bus may write (create only)
 * @m: instance
 * @off: byte offset, in a capability (0x40 and up)
 * @width: 1, 2 or 4
 * @mask: 1 = writable
 *
 * Return: 0, -EINVAL (bad width, below 0x40, outside config space),
 * -EBUSY outside create().
 */
UPCI_API int upci_model_config_wmask(upci_model *m, unsigned off, unsigned width, uint32_t mask);

/**
 * upci_model_config_w1c() - which config bits a 1 clears (create only)
 * @m: instance
 * @off: byte offset, in a capability (0x40 and up)
 * @width: 1, 2 or 4
 * @mask: 1 = write 1 to clear
 *
 * Return: as upci_model_config_wmask().
 */
UPCI_API int upci_model_config_w1c(upci_model *m, unsigned off, unsigned width, uint32_t mask);

/**
 * upci_model_bus_master() - may the device master the bus
 * @m: instance
 *
 * Return: 1 when COMMAND bus mastering is on (DMA and MSI/MSI-X can
 * happen), 0 when off.
 */
UPCI_API int upci_model_bus_master(const upci_model *m);

/* ---- interrupts ---- */

/**
 * upci_model_irq() - signal an interrupt vector
 * @m: instance
 * @vec: vector
 *
 * Through whatever the driver enabled: MSI-X when enabled (delivered, or
 * latched in the PBA while the vector or the function is masked), else
 * MSI when enabled (delivered, or latched in the pending bits while
 * masked; vectors beyond the enabled count are dropped), else INTx when
 * the function has a pin: the pin is asserted (@vec is ignored) and stays
 * so until upci_model_intx(m, 0). No message leaves while bus mastering
 * is off.
 *
 * Return: 1 delivered, 0 latched or dropped by the rules above, -EINVAL
 * for a vector beyond the MSI-X table (MSI-X on) or the MSI capability
 * (MSI on).
 */
UPCI_API int upci_model_irq(upci_model *m, unsigned vec);

/**
 * upci_model_intx() - the device's level-triggered interrupt condition
 * @m: instance
 * @level: 1 asserted, 0 deasserted
 *
 * The pin follows @level while MSI and MSI-X are off and
 * COMMAND.INTX_DISABLE is clear; STATUS.INTERRUPT shows @level while MSI
 * and MSI-X are off. upci re-evaluates the pin when the driver changes
 * any of those.
 *
 * Return: 0, -ENOTSUP when the function has no pin.
 */
UPCI_API int upci_model_intx(upci_model *m, int level);

/* ---- DMA ---- */

/**
 * upci_model_dma_read() - device reads @len bytes of host memory
 * @m: instance
 * @bus: bus address the driver gave the device
 * @buf: destination
 * @len: bytes, > 0
 *
 * The range may span adjacent mappings; each must allow device reads.
 *
 * Return: 0, -EPERM when bus mastering is off, -EFAULT when the range
 * wraps, is not all mapped for reading, or its memory vanished during
 * the copy (part of @buf may then be written).
 */
UPCI_API int upci_model_dma_read(upci_model *m, uint64_t bus, void *buf, uint64_t len);

/**
 * upci_model_dma_write() - device writes @len bytes to host memory
 * @m: instance
 * @bus: bus address
 * @buf: source
 * @len: bytes, > 0
 *
 * Return: 0, -EPERM when bus mastering is off, -EFAULT when the range is
 * not all mapped for writing or faulted (a prefix may then be written).
 */
UPCI_API int upci_model_dma_write(upci_model *m, uint64_t bus, const void *buf, uint64_t len);

/**
 * upci_model_dma_translate() - where a DMA range lives in this process
 * @m: instance
 * @bus: bus address
 * @len: bytes, > 0
 * @dir: UPCI_DMA_READ (the device reads it), UPCI_DMA_WRITE, or both
 *
 * For zero-copy engines. The pointer is only for upci_model_dma_copy():
 * the memory may belong to another process that can pull it away at any
 * moment, so a plain load, store or memcpy() could crash this process.
 * It is valid until the callback returns.
 *
 * Return: the address of @bus when [@bus, @bus + @len) lies in ONE mapping
 * that allows @dir in this process, NULL otherwise (not mapped, spans
 * mappings, memory of a remote client reachable only by copies, bus
 * mastering off).
 */
UPCI_API void *upci_model_dma_translate(upci_model *m, uint64_t bus, uint64_t len, unsigned dir);

/**
 * upci_model_dma_copy() - the one way to touch translated memory
 * @dst: destination (translated, or the model's own memory)
 * @src: source (translated, or the model's own memory)
 * @len: bytes
 * @fault: receives the faulting address on -EFAULT; may be NULL
 *
 * memmove() semantics. Survives memory that vanishes under it.
 *
 * Return: 0, -EFAULT when either range faulted (part of @dst may be
 * written).
 */
UPCI_API int upci_model_dma_copy(void *dst, const void *src, uint64_t len, const void **fault);

/* ---- serving over vfio-user ---- */

/** Opaque: a vfio-user server exporting one or more devices. */
typedef struct upci_server upci_server;

/* upci_server_set() options; "per export" ones apply to the export
 * @idx names, or with @idx -1 to every export added afterwards. */
enum upci_server_opt {
	UPCI_SERVER_FD = 1,            /* per export: inherited fd, listening or connected */
	UPCI_SERVER_SOCKET_MODE = 2,   /* per export: socket file mode, 0..0777 (default 0600,
					* 0660 with a group) */
	UPCI_SERVER_SOCKET_GROUP = 3,  /* per export: the socket file's group id */
	UPCI_SERVER_ALLOW_UID = 4,     /* per export: add a user id allowed to connect (up to 16;
					* none: whoever can open the socket) */
	UPCI_SERVER_DMA_TIMEOUT_MS = 5, /* per export: wait for in-band DMA replies (default 5000) */
	UPCI_SERVER_MAX_DMA_MAPS = 6,  /* per export: DMA mappings offered to a client (1..65535) */
	UPCI_SERVER_MAX_DATA_XFER = 7, /* per export: bytes in one message (4096..1 GiB;
					* default 1 MiB) */
	UPCI_SERVER_MAX_MSG_FDS = 8,   /* per export: fds in one message (1..64; default 16,
					* QEMU refuses more) */
	UPCI_SERVER_SIGNALS = 9,       /* server: 1 (default) stop on SIGINT, SIGTERM, SIGHUP,
					* SIGQUIT; 0: the caller stops it */
	UPCI_SERVER_STATUS_FD = 10,    /* server: SIGUSR1/SIGUSR2 write a status line per
					* export to this fd (default -1: nothing) */
};

/**
 * upci_server_new() - an empty server
 * @out: receives it
 *
 * Return: 0, -EINVAL, -ENOMEM.
 */
UPCI_API int upci_server_new(upci_server **out);

/**
 * upci_server_free() - stop and free a server
 * @srv: server (NULL is ignored)
 *
 * Stops it if it runs (as upci_server_stop(), waiting for the exports to
 * end), removes the socket files it created, closes the handles it opened
 * (upci_server_add_uri()) and restores the signal handlers it replaced.
 *
 * Return: nothing.
 */
UPCI_API void upci_server_free(upci_server *srv);

/**
 * upci_server_add() - export a device the caller opened
 * @srv: server, not started
 * @dev: the device; the caller keeps it and closes it after
 *       upci_server_free(). The server claims it if this handle does
 *       not hold the claim.
 *
 * The export takes the options set with @idx -1 so far.
 *
 * Return: the export's index (>= 0), -EINVAL, -EBUSY once started or
 * when @dev is exported already, -ENOSPC beyond 64 exports, -EPERM when another handle holds the claim,
 * -ENOTSUP for a device that cannot be claimed ("sysfs:"), -ENOMEM.
 */
UPCI_API int upci_server_add(upci_server *srv, upci_dev *dev);

/**
 * upci_server_add_uri() - open a device and export it
 * @srv: server, not started
 * @uri: any upci URI, e.g. "sim:NAME?params" of a registered model
 *
 * Return: the export's index, an error of upci_open() or
 * upci_server_add().
 */
UPCI_API int upci_server_add_uri(upci_server *srv, const char *uri);

/**
 * upci_server_socket() - where an export listens
 * @srv: server, not started
 * @idx: export, or -1 for the next export added
 * @path: a UNIX socket to create. It appears only once it accepts
 *        connections, never replaces a file (a stale socket nobody listens
 *        on is replaced), is its user's alone unless widened
 *        (UPCI_SERVER_SOCKET_MODE, _GROUP), and is removed when the server
 *        ends if it is still the same file.
 *
 * Return: 0, -EINVAL (bad @idx, empty or too long @path), -EBUSY once
 * started, -ENOMEM.
 */
UPCI_API int upci_server_socket(upci_server *srv, int idx, const char *path);

/**
 * upci_server_set() - set an option
 * @srv: server, not started
 * @idx: export (per-export options), or -1 (see enum upci_server_opt)
 * @opt: the option
 * @value: its value
 *
 * Return: 0, -EINVAL (bad @idx, @opt or @value), -ENOSPC (more than 16
 * allowed users), -EBUSY once started.
 */
UPCI_API int upci_server_set(upci_server *srv, int idx, enum upci_server_opt opt, int64_t value);

/**
 * upci_server_args() - take `upci serve`'s options from a command line
 * @srv: server, not started
 * @idx: export, or -1 for the next export added
 * @argc: argument count
 * @argv: arguments, argv[0] the program; rearranged: what is not a
 *        server option moves to argv[1..return value], in order
 * @why: receives one sentence on -EINVAL; may be NULL
 * @whylen: size of @why
 *
 * The options of upci-serve(1): --socket PATH (-s), --fd N (-f),
 * --dma-timeout MS (-T), --socket-mode MODE (-m, octal), --socket-group
 * GROUP (-g, name or number), --allow-uid USER (-u, name or number,
 * repeatable), as "--opt VALUE", "--opt=VALUE", "-o VALUE" or "-oVALUE";
 * "--" ends them. Exactly one of --socket and --fd is needed; the socket
 * mode and group need --socket. Other arguments (a URI, --help, a
 * program's own options) are left to the caller.
 *
 * Return: the number of arguments left (>= 0), -EINVAL with @why, -EBUSY
 * once started, -ENOMEM. On error nothing of @argv was applied.
 */
UPCI_API int upci_server_args(upci_server *srv, int idx, int argc, char **argv, char *why, size_t whylen);

/**
 * upci_server_start() - listen and serve in the background
 * @srv: server with at least one export
 *
 * Creates the sockets (or takes the fds), then serves each export on a
 * thread of its own: one client at a time per export (a second one gets
 * EBUSY), each export with its own limits; a client that leaves or breaks
 * the stream drops its DMA mappings and interrupt fds, the device keeps
 * its state and the next client is served. With UPCI_SERVER_SIGNALS (the
 * default) SIGINT, SIGTERM, SIGHUP and SIGQUIT stop the server (handlers
 * installed now, the previous ones restored when it ends), SIGPIPE is
 * ignored meanwhile; only one server at a time can own the signals.
 *
 * Return: 0, -EINVAL (no export, an export with neither or both of a
 * socket and an fd, a socket mode or group without a socket, an fd that
 * is not a stream socket), -EBUSY (started already; another server owns
 * the signals), -EADDRINUSE (a socket path holds a file that is not a
 * stale socket), the socket calls' errors; upci_server_error() says which
 * export and why. Nothing is left running on failure.
 */
UPCI_API int upci_server_start(upci_server *srv);

/**
 * upci_server_wait() - wait until a started server ends
 * @srv: server
 *
 * It ends at a stop signal, at upci_server_stop(), when an export fails
 * for good (the others are then stopped), or when every export ends by
 * itself (an inherited connected socket is served once). Every client is
 * hung up on, the sockets removed, the signal handlers restored.
 *
 * Return: 0, -EINVAL when not started, or the first failing export's
 * error (upci_server_error() names it).
 */
UPCI_API int upci_server_wait(upci_server *srv);

/**
 * upci_server_run() - upci_server_start() then upci_server_wait()
 * @srv: server
 *
 * Return: as those.
 */
UPCI_API int upci_server_run(upci_server *srv);

/**
 * upci_server_stop() - ask a started server to end
 * @srv: server
 *
 * Any thread; returns at once (upci_server_wait() returns once every
 * export has ended, promptly even with clients connected).
 *
 * Return: 0, -EINVAL when not started.
 */
UPCI_API int upci_server_stop(upci_server *srv);

/**
 * upci_server_signal() - the stop signal that ended the server
 * @srv: server
 *
 * Return: the signal number, or 0 when no signal stopped it.
 */
UPCI_API int upci_server_signal(const upci_server *srv);

/**
 * upci_server_status() - what the server serves, as SIGUSR1 reports it
 * @srv: server
 * @buf: receives a line per export, "upci: serving URI on PATH
 *       (vfio-user), pid N" (or "on fd N"), joined by newlines, no final
 *       newline; cut to @len
 * @len: size of @buf
 *
 * Return: 0, -EINVAL for a NULL argument.
 */
UPCI_API int upci_server_status(const upci_server *srv, char *buf, size_t len);

/**
 * upci_server_error() - why the last call on the server failed
 * @srv: server
 * @buf: receives one sentence naming the export (its URI) and the
 *       operation, or "" when nothing failed
 * @len: size of @buf
 *
 * Return: 0, -EINVAL for a NULL argument.
 */
UPCI_API int upci_server_error(const upci_server *srv, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* UPCI_MODEL_H */

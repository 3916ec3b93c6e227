/* SPDX-License-Identifier: MIT */
/*
 * upci.h - drive a PCI device from user space through one API, whatever
 * stands between the process and the device: Linux VFIO, a vfio-user
 * socket, the macOS VFIOUserPCIDriver dext, or an in-process device model.
 *
 * This is the driver API of libupci; upci/model.h (which includes it) is
 * the device-author API: write a device model, serve it over vfio-user.
 *
 * Conventions
 *   - Every function that can fail returns 0 (or a documented non-negative
 *     count) on success and a negative errno value on failure. Nothing
 *     sets errno, prints, exits or aborts. upci_strerror() names a code.
 *   - A NULL handle, or NULL where the call stores a result or reads its
 *     input, gives -EINVAL (listed below only where it is not obvious).
 *   - The same mistake gives the same code on every backend: the codes
 *     listed for a call are what every backend returns for those mistakes.
 *     Other codes come from the backend (the OS, the server) and keep
 *     their standard meaning.
 *   - Objects are created by functions that return int and hand the object
 *     out through a pointer argument.
 *
 * Threading
 *   - All calls on one device handle are serialized by the library (the
 *     handle lock): it is safe to call any function from several threads
 *     at once.
 *   - upci_irq_fd(), upci_irq_take_pending(), upci_irq_peek_pending(),
 *     upci_irq_wait(), upci_irq_set_mask() and upci_irq_get_mask() never
 *     wait for the handle lock (they share a short internal one, never held
 *     across a wait), so one thread may block in upci_irq_wait() while
 *     another drives the device (MMIO, DMA, config) and makes it raise
 *     interrupts. (One exception: upci_irq_set_mask() changing the bit of
 *     a vector that the device signals to an eventfd itself, see
 *     upci_irq_set_eventfd().)
 *   - A thread blocked in upci_irq_wait() is woken with -ECANCELED by
 *     upci_irq_disable(), by an upci_irq_enable() that replaces the set-up,
 *     by upci_release() and by upci_close() from another thread; those
 *     return only once every woken waiter has left the library. A wait
 *     that starts afterwards is an ordinary wait.
 *   - upci_close() may run while other threads are blocked in
 *     upci_irq_wait() on the handle (see above); no other call may be in
 *     progress or start on the handle once upci_close() has begun.
 *
 * Lifetimes: nothing the library hands out dies before the caller's own
 * call that ends it.
 *   - A pointer from upci_bar_map() is valid until the matching
 *     upci_bar_unmap() (maps are counted) or upci_close().
 *   - A buffer from upci_dma_alloc() (its memory and its fd) is valid until
 *     upci_dma_free() or upci_close(); upci_release() refuses (-EBUSY)
 *     while any buffer or BAR mapping of the handle is live. A buffer
 *     allocated through a member of a DMA space belongs to the space: valid
 *     until upci_dma_free() (through any member) or
 *     upci_dma_space_destroy().
 *   - The fd from upci_irq_fd() and the string from upci_uri() are valid
 *     until upci_close().
 *   - All of it may be used from any thread.
 *
 * Signals
 *   - A sim: device reaches DMA memory through guarded copies: memory that
 *     vanishes under its mapping (a file another process truncated) is a
 *     DMA error for the device, not a SIGBUS that kills the process. For
 *     that the library installs a SIGBUS handler when a sim: device maps
 *     DMA memory, again at each map if it was replaced since, and passes
 *     every other SIGBUS to the disposition it found. A program that
 *     installs its own SIGBUS handler afterwards must chain to the one it
 *     replaces, as the library does.
 */
#ifndef UPCI_UPCI_H
#define UPCI_UPCI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define UPCI_API __attribute__((visibility("default")))
#else
#define UPCI_API
#endif

#define UPCI_VERSION_MAJOR 0
#define UPCI_VERSION_MINOR 1

/** Number of BARs of a PCI type 0 function. */
#define UPCI_NUM_BARS 6
/** Largest number of interrupt vectors upci handles on any device. */
#define UPCI_MAX_VECTORS 256
/** Words of a vector bitmap (pending bits, enable mask). */
#define UPCI_IRQ_WORDS (UPCI_MAX_VECTORS / 64)
/** Pass as @iova to upci_dma_alloc() to let the library choose one. */
#define UPCI_IOVA_ANY UINT64_MAX

/** Opaque handle of one open device. */
typedef struct upci_dev upci_dev;

/** Who the device is: filled by upci_identity(). */
struct upci_identity {
	uint32_t domain;
	uint8_t bus;
	uint8_t device;
	uint8_t function;
	uint8_t revision;
	uint16_t vendor_id;
	uint16_t device_id;
	uint16_t subsys_vendor_id;
	uint16_t subsys_id;
	uint32_t class_code;   /* 24 bits: base class, subclass, prog-if */
	uint32_t config_size;  /* 256 (conventional) or 4096 (extended) */
	char backend[16];      /* "sim", "vfio", "vfio-user", "dext", "sysfs" */
	char name[64];         /* backend's name for it, e.g. "edu" */
};

/* upci_bar_info.flags */
#define UPCI_BAR_PRESENT     (1u << 0) /* the BAR is implemented */
#define UPCI_BAR_IO          (1u << 1) /* I/O space (else memory) */
#define UPCI_BAR_MEM64       (1u << 2) /* 64-bit memory BAR (uses the next slot) */
#define UPCI_BAR_PREFETCH    (1u << 3) /* prefetchable: mapped write-combining */
#define UPCI_BAR_MAPPABLE    (1u << 4) /* upci_bar_map() works */
#define UPCI_BAR_MAP_RDONLY  (1u << 5) /* the mapping is read-only: write with upci_mmio_write() */

/** What a BAR is: filled by upci_bar_info(). */
struct upci_bar_info {
	uint64_t size;  /* bytes; 0 when not present */
	uint32_t flags; /* UPCI_BAR_* */
};

/* upci_dma_map() flags */
#define UPCI_DMA_READ  (1u << 0) /* the device may read the memory */
#define UPCI_DMA_WRITE (1u << 1) /* the device may write the memory */
#define UPCI_DMA_RW    (UPCI_DMA_READ | UPCI_DMA_WRITE)

/** A DMA buffer allocated by upci_dma_alloc(). */
struct upci_dma_buf {
	void *vaddr;       /* process address */
	uint64_t size;     /* bytes (rounded up to the page size) */
	uint64_t iova;     /* key the mapping is known by */
	uint64_t bus_addr; /* what the device must be given */
	int fd;            /* backing memory's fd (memfd), or -1 */
};

/** Interrupt mechanisms for upci_irq_enable(). */
enum upci_irq_type {
	UPCI_IRQ_NONE = 0,
	UPCI_IRQ_INTX = 1,
	UPCI_IRQ_MSI = 2,
	UPCI_IRQ_MSIX = 3,
	UPCI_IRQ_AUTO = 4, /* MSI-X if present, else MSI, else INTx */
};

/**
 * upci_open() - open a device by URI
 * @out: receives the handle
 * @uri: "sim:MODEL[?k=v,...]" (a built-in model, or one a program
 *       registered with upci_model_register(), upci/model.h),
 *       "vfio:DDDD:BB:DD.F" (or a bare BDF),
 *       "vfio-user:/path/to.sock", "dext:BB:DD.F", "sysfs:DDDD:BB:DD.F"
 *       (Linux: a host function read through sysfs, as lspci reads it,
 *       without VFIO: identity, config reads and BAR layout only; it
 *       cannot be claimed)
 *
 * Opening does not claim: upci_identity(), upci_config_read*() and
 * upci_bar_info() work on an unclaimed device; everything else needs
 * upci_claim(). Two opens of the same "sim:" URI in one process reach the
 * same device model instance (so that claiming is meaningful). On "dext:"
 * config space can be read only once some process has claimed the device
 * (macOS opens it on the first claim; see upci_config_read()).
 *
 * A device that goes away (dext: unplugged, or its driver stopped) makes
 * every later call that needs it return -ENODEV; upci_close() still frees
 * everything.
 *
 * "vfio-user:": no call waits for the server longer than the timeout in
 * the environment variable UPCI_VFU_TIMEOUT_MS when the device is opened
 * (milliseconds; default 5000), in all, however the server answers. A
 * call that runs out returns -ETIMEDOUT and closes the connection; every
 * later call returns -ENODEV. The handle has a thread of its own (all
 * signals blocked) that answers the server's DMA requests between calls.
 *
 * Return: 0, -EINVAL for a malformed URI, -ENOTSUP when the URI's backend
 * is not built into this library, -ENOENT when no such device exists,
 * -EBUSY when the device is held exclusively already (a VFIO device open
 * elsewhere, a vfio-user server busy with another client), -ENXIO when a
 * "dext:" BDF names two devices (under different PCIe roots), -ENOMEM, or
 * the backend's error (e.g. -ECONNREFUSED: nobody listens on the socket).
 */
UPCI_API int upci_open(upci_dev **out, const char *uri);

/**
 * upci_close() - release everything and free the handle
 * @dev: handle (NULL is ignored)
 *
 * Unmaps BARs (whatever their map counts), disables interrupts (waking
 * threads blocked in upci_irq_wait() with -ECANCELED and waiting until they
 * have left), frees DMA buffers, removes DMA mappings and releases the
 * claim. Every pointer and fd the handle gave out is invalid afterwards.
 *
 * Return: nothing; closing cannot fail.
 */
UPCI_API void upci_close(upci_dev *dev);

/**
 * upci_uri() - the URI a handle was opened with
 * @dev: handle
 *
 * Return: a string owned by the handle.
 */
UPCI_API const char *upci_uri(const upci_dev *dev);

/**
 * upci_claim() - take exclusive ownership of the device
 * @dev: handle
 *
 * Return: 0 (also when this handle already holds the claim), -EBUSY when
 * another handle or process holds it, -ENOTSUP on a read-only backend
 * ("sysfs:").
 */
UPCI_API int upci_claim(upci_dev *dev);

/**
 * upci_release() - give up the claim
 * @dev: handle
 *
 * Refused while this handle has a BAR mapped or a DMA buffer allocated
 * (memory the caller holds pointers and fds to): upci_bar_unmap() and
 * upci_dma_free() them first. Otherwise drops this handle's interrupts
 * (waking upci_irq_wait() as upci_irq_disable() does) and DMA mappings
 * (the device no longer reaches the caller's memory), then the claim.
 *
 * Return: 0, -EPERM when this handle does not hold the claim, -EBUSY when
 * a BAR mapping or a DMA buffer is live (nothing is changed).
 */
UPCI_API int upci_release(upci_dev *dev);

/**
 * upci_identity() - who the device is
 * @dev: handle
 * @id: filled in
 *
 * Return: 0 or a negative errno.
 */
UPCI_API int upci_identity(upci_dev *dev, struct upci_identity *id);

/**
 * upci_config_read() - read 1, 2 or 4 bytes of config space
 * @dev: handle
 * @offset: byte offset, aligned to @width, inside the config space
 * @width: 1, 2 or 4
 * @val: the value read (little-endian register value)
 *
 * Return: 0, -EINVAL for a bad width, -EFAULT for a misaligned offset,
 * -ERANGE past the end of config space; on "dext:" -EPERM while no process
 * has claimed the device (macOS reads it all ones), -EIO when another
 * process that opened it closed it under this handle's claim.
 */
UPCI_API int upci_config_read(upci_dev *dev, uint32_t offset, unsigned width, uint32_t *val);

/**
 * upci_config_write() - write 1, 2 or 4 bytes of config space
 * @dev: handle (claimed)
 * @offset: byte offset, aligned to @width
 * @width: 1, 2 or 4
 * @val: value; bits above @width must be zero
 *
 * Return: 0, -EPERM when not claimed, -EINVAL, -EFAULT, -ERANGE as for
 * upci_config_read().
 */
UPCI_API int upci_config_write(upci_dev *dev, uint32_t offset, unsigned width, uint32_t val);

/**
 * upci_config_read_block() - read a range of config space in one call
 * @dev: handle
 * @offset: first byte
 * @buf: destination of @len bytes
 * @len: bytes; @offset + @len must lie inside config space
 *
 * One backend request where the backend can (a single pread, one
 * vfio-user message), never a dword loop in the library.
 *
 * Return: 0, -ERANGE, -EINVAL for a NULL @buf, -EPERM and -EIO as
 * upci_config_read().
 */
UPCI_API int upci_config_read_block(upci_dev *dev, uint32_t offset, void *buf, size_t len);

/**
 * upci_bar_info() - size and kind of a BAR
 * @dev: handle
 * @bar: 0..5
 * @info: filled in; a BAR that is not implemented has flags 0 and size 0
 *
 * UPCI_BAR_MAPPABLE can go away when the handle claims the device: on
 * "dext:" whether a BAR maps is known only once the device is open.
 *
 * Return: 0, -EINVAL for @bar > 5.
 */
UPCI_API int upci_bar_info(upci_dev *dev, unsigned bar, struct upci_bar_info *info);

/**
 * upci_bar_map() - map a BAR into the process
 * @dev: handle (claimed)
 * @bar: 0..5
 * @addr: receives the address of offset 0
 * @len: receives the mapped length (the BAR size); may be NULL
 *
 * Prefetchable BARs are mapped write-combining where the platform can.
 * Mapping again returns the same address and counts: each upci_bar_map()
 * needs its own upci_bar_unmap(), and the mapping stays until the last one
 * (or upci_close()), so one user's unmap never pulls it from another. A
 * UPCI_BAR_MAP_RDONLY mapping must only be read.
 *
 * Return: 0, -EPERM when not claimed, -EINVAL for a bad @bar or a BAR
 * that is not present, -ENOTSUP when the BAR cannot be mapped (use
 * upci_mmio_read/write), -EOVERFLOW when the map count is at UINT_MAX.
 */
UPCI_API int upci_bar_map(upci_dev *dev, unsigned bar, void **addr, uint64_t *len);

/**
 * upci_bar_unmap() - undo one upci_bar_map()
 * @dev: handle
 * @bar: 0..5
 *
 * The mapping goes away with the unmap that matches the first map.
 *
 * Return: 0, -EINVAL for a bad @bar, -ENOENT when the BAR is not mapped
 * (more unmaps than maps).
 */
UPCI_API int upci_bar_unmap(upci_dev *dev, unsigned bar);

/* ---- mapped BAR access ----
 *
 * Register loads and stores through a pointer from upci_bar_map(), as
 * inline functions: one access of the given width each (never split,
 * merged or left out by the compiler; on a 32-bit host a 64-bit access is
 * two 32-bit ones, low address first), in the device's little-endian
 * order on any host. @off must be aligned to the width and inside the
 * mapped length: nothing is checked (upci_mmio_read() and
 * upci_mmio_write() check everything and work on every BAR). GCC and
 * Clang, C and C++.
 *
 * What the accessors order (per thread; other threads synchronize as
 * usual, with locks or atomics):
 *   - upci_write8/16/32/64() first makes every earlier store of the
 *     thread visible to the device: to memory (queue entries and
 *     descriptors in a DMA buffer) and to uncached BARs. So "fill the
 *     entry, then write the doorbell" needs no barrier of its own. (x86
 *     keeps stores in order already: a compiler barrier; arm64: "dmb
 *     oshst" before the store.)
 *   - upci_read8/16/32/64() completes before any later load of memory by
 *     the thread, so data the device wrote by DMA before a register said
 *     so is seen after reading the register. (arm64: "dmb oshld" after the
 *     load.)
 *   - Accesses to one device through its uncached mappings reach it in
 *     program order.
 * What they do not order:
 *   - Stores through a write-combined mapping. A prefetchable BAR
 *     (UPCI_BAR_PREFETCH) is mapped write-combining where the platform can
 *     (x86 WC, arm64 Normal non-cacheable): its stores may be merged,
 *     reordered among themselves and held back past later stores. After
 *     copying into such a BAR (a command or packet written straight into
 *     device memory), call upci_wc_flush() before the doorbell that makes
 *     the device read it; the doorbell itself belongs in an uncached BAR.
 *   - Loads of memory the device writes (a completion entry): that is
 *     ordinary memory ordering. Load its valid or phase flag with acquire
 *     semantics (__atomic_load_n(p, __ATOMIC_ACQUIRE)), then the rest.
 */
#if defined(__GNUC__) || defined(__clang__)

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define UPCI__LE16(x) __builtin_bswap16(x)
#define UPCI__LE32(x) __builtin_bswap32(x)
#define UPCI__LE64(x) __builtin_bswap64(x)
#else
#define UPCI__LE16(x) (x)
#define UPCI__LE32(x) (x)
#define UPCI__LE64(x) (x)
#endif

#if defined(__x86_64__) || defined(__i386__)
#define UPCI__IOWMB() __asm__ __volatile__("" ::: "memory")
#define UPCI__IORMB() __asm__ __volatile__("" ::: "memory")
#define UPCI__WCFLUSH() __asm__ __volatile__("sfence" ::: "memory")
#elif defined(__aarch64__) || defined(__arm__)
#define UPCI__IOWMB() __asm__ __volatile__("dmb oshst" ::: "memory")
#define UPCI__IORMB() __asm__ __volatile__("dmb oshld" ::: "memory")
#define UPCI__WCFLUSH() __asm__ __volatile__("dsb st" ::: "memory")
#else
#define UPCI__IOWMB() __sync_synchronize()
#define UPCI__IORMB() __sync_synchronize()
#define UPCI__WCFLUSH() __sync_synchronize()
#endif

#define UPCI__REG(type, bar, off) ((type)(volatile void *)((volatile uint8_t *)(bar) + (uintptr_t)(off)))
#define UPCI__CREG(type, bar, off) \
	((type)(const volatile void *)((const volatile uint8_t *)(bar) + (uintptr_t)(off)))

/**
 * upci_read8() - read an 8-bit register through a BAR mapping
 * @bar: the address upci_bar_map() returned
 * @off: byte offset inside the mapping
 *
 * Completes before any later load of memory by the thread (see "mapped
 * BAR access" above upci_read8() in upci.h).
 *
 * Return: the register's value.
 */
static inline uint8_t upci_read8(const volatile void *bar, uint64_t off)
{
	uint8_t v = *UPCI__CREG(const volatile uint8_t *, bar, off);

	UPCI__IORMB();
	return v;
}

/**
 * upci_read16() - read a little-endian 16-bit register through a BAR mapping
 * @bar: the address upci_bar_map() returned
 * @off: byte offset inside the mapping, 2-byte aligned
 *
 * Completes before any later load of memory by the thread (see "mapped
 * BAR access" above upci_read8() in upci.h).
 *
 * Return: the register's value in host order.
 */
static inline uint16_t upci_read16(const volatile void *bar, uint64_t off)
{
	uint16_t v = *UPCI__CREG(const volatile uint16_t *, bar, off);

	UPCI__IORMB();
	return (uint16_t)UPCI__LE16(v);
}

/**
 * upci_read32() - read a little-endian 32-bit register through a BAR mapping
 * @bar: the address upci_bar_map() returned
 * @off: byte offset inside the mapping, 4-byte aligned
 *
 * Completes before any later load of memory by the thread, so data the
 * device wrote by DMA before this register said so is seen afterwards
 * (see "mapped BAR access" above upci_read8() in upci.h).
 *
 * Return: the register's value in host order.
 */
static inline uint32_t upci_read32(const volatile void *bar, uint64_t off)
{
	uint32_t v = *UPCI__CREG(const volatile uint32_t *, bar, off);

	UPCI__IORMB();
	return UPCI__LE32(v);
}

/**
 * upci_read64() - read a little-endian 64-bit register through a BAR mapping
 * @bar: the address upci_bar_map() returned
 * @off: byte offset inside the mapping, 8-byte aligned
 *
 * One 64-bit load on a 64-bit host; two 32-bit loads, low address first,
 * on a 32-bit one. Completes before any later load of memory by the
 * thread (see "mapped BAR access" above upci_read8() in upci.h).
 *
 * Return: the register's value in host order.
 */
static inline uint64_t upci_read64(const volatile void *bar, uint64_t off)
{
#if UINTPTR_MAX > 0xffffffffu
	uint64_t v = UPCI__LE64(*UPCI__CREG(const volatile uint64_t *, bar, off));
#else
	uint64_t lo = UPCI__LE32(*UPCI__CREG(const volatile uint32_t *, bar, off));
	uint64_t v = lo | (uint64_t)UPCI__LE32(*UPCI__CREG(const volatile uint32_t *, bar, off + 4)) << 32;
#endif

	UPCI__IORMB();
	return v;
}

/**
 * upci_write8() - write an 8-bit register through a BAR mapping
 * @bar: the address upci_bar_map() returned
 * @off: byte offset inside the mapping
 * @val: the value
 *
 * Every earlier store of the thread (to memory and to uncached BARs, not
 * to write-combined ones: upci_wc_flush()) is visible to the device
 * first (see "mapped BAR access" above upci_read8() in upci.h).
 *
 * Return: nothing.
 */
static inline void upci_write8(volatile void *bar, uint64_t off, uint8_t val)
{
	UPCI__IOWMB();
	*UPCI__REG(volatile uint8_t *, bar, off) = val;
}

/**
 * upci_write16() - write a little-endian 16-bit register through a BAR mapping
 * @bar: the address upci_bar_map() returned
 * @off: byte offset inside the mapping, 2-byte aligned
 * @val: the value in host order
 *
 * Every earlier store of the thread (to memory and to uncached BARs, not
 * to write-combined ones: upci_wc_flush()) is visible to the device
 * first (see "mapped BAR access" above upci_read8() in upci.h).
 *
 * Return: nothing.
 */
static inline void upci_write16(volatile void *bar, uint64_t off, uint16_t val)
{
	UPCI__IOWMB();
	*UPCI__REG(volatile uint16_t *, bar, off) = (uint16_t)UPCI__LE16(val);
}

/**
 * upci_write32() - write a little-endian 32-bit register through a BAR mapping
 * @bar: the address upci_bar_map() returned
 * @off: byte offset inside the mapping, 4-byte aligned
 * @val: the value in host order
 *
 * Every earlier store of the thread (to memory, e.g. the queue entries a
 * doorbell announces, and to uncached BARs; not to write-combined ones:
 * upci_wc_flush()) is visible to the device first (see "mapped BAR
 * access" above upci_read8() in upci.h).
 *
 * Return: nothing.
 */
static inline void upci_write32(volatile void *bar, uint64_t off, uint32_t val)
{
	UPCI__IOWMB();
	*UPCI__REG(volatile uint32_t *, bar, off) = UPCI__LE32(val);
}

/**
 * upci_write64() - write a little-endian 64-bit register through a BAR mapping
 * @bar: the address upci_bar_map() returned
 * @off: byte offset inside the mapping, 8-byte aligned
 * @val: the value in host order
 *
 * One 64-bit store on a 64-bit host; two 32-bit stores, low address
 * first, on a 32-bit one. Every earlier store of the thread (to memory
 * and to uncached BARs; not to write-combined ones: upci_wc_flush()) is
 * visible to the device first (see "mapped BAR access" above
 * upci_read8() in upci.h).
 *
 * Return: nothing.
 */
static inline void upci_write64(volatile void *bar, uint64_t off, uint64_t val)
{
	UPCI__IOWMB();
#if UINTPTR_MAX > 0xffffffffu
	*UPCI__REG(volatile uint64_t *, bar, off) = UPCI__LE64(val);
#else
	*UPCI__REG(volatile uint32_t *, bar, off) = UPCI__LE32((uint32_t)val);
	*UPCI__REG(volatile uint32_t *, bar, off + 4) = UPCI__LE32((uint32_t)(val >> 32));
#endif
}

/**
 * upci_wc_flush() - order write-combined BAR stores before later stores
 *
 * Stores through a write-combined mapping (a prefetchable BAR) may be
 * merged and held back past later stores. After this call they reach the
 * device before any store the thread makes afterwards, e.g. the doorbell
 * (upci_write32()) that tells the device to read what was copied. x86:
 * "sfence"; arm64: "dsb st". Not needed for uncached BARs or for memory.
 *
 * Return: nothing.
 */
static inline void upci_wc_flush(void)
{
	UPCI__WCFLUSH();
}

#endif /* __GNUC__ || __clang__: mapped BAR access */

/**
 * upci_mmio_read() - read a BAR register through the library
 * @dev: handle (claimed)
 * @bar: 0..5
 * @offset: byte offset, aligned to @width, inside the BAR
 * @width: 1, 2, 4 or 8
 * @val: value read
 *
 * Return: 0, -EPERM, -EINVAL (bad BAR or width, or a width the device
 * itself refuses: a device model says so, in-process or behind a vfio-user
 * server; hardware behind VFIO or the dext cannot refuse and reads what the
 * bus returns), -EFAULT (misaligned), -ERANGE (outside the BAR), or the
 * backend's error.
 */
UPCI_API int upci_mmio_read(upci_dev *dev, unsigned bar, uint64_t offset, unsigned width, uint64_t *val);

/**
 * upci_mmio_write() - write a BAR register through the library
 * @dev: handle (claimed)
 * @bar: 0..5
 * @offset: byte offset, aligned to @width, inside the BAR
 * @width: 1, 2, 4 or 8
 * @val: value; bits above @width must be zero
 *
 * Return: as upci_mmio_read().
 */
UPCI_API int upci_mmio_write(upci_dev *dev, unsigned bar, uint64_t offset, unsigned width, uint64_t val);

/**
 * upci_dma_map() - let the device reach process memory
 * @dev: handle (claimed)
 * @iova: the address the mapping is known by; page aligned
 * @vaddr: process memory, page aligned, valid for @len bytes until unmapped
 * @len: bytes, a multiple of the page size, non-zero
 * @flags: UPCI_DMA_READ and/or UPCI_DMA_WRITE (0 means both)
 * @bus_addr: receives the address the device must use. It equals @iova
 *            on Linux VFIO and the simulated IOMMU, but not on macOS
 *            (the DART chooses it): always program @bus_addr.
 *
 * Return: 0, -EPERM, -EINVAL (alignment, zero length, bad flags, NULL
 * @vaddr or @bus_addr), -EOVERFLOW (@iova + @len wraps), -EEXIST (overlaps
 * a mapping or a buffer), -ENOSPC (IOMMU limits reached: mapping count or
 * size), -ERANGE (the IOMMU cannot map this range: outside the IOVA ranges
 * the Linux kernel reports usable, or no single bus segment from the macOS
 * DART), -ENOTSUP when memory without an fd cannot be reached (a
 * vfio-user server whose device sits behind a real IOMMU; use
 * upci_dma_alloc()) or when @flags allows one direction and the backend
 * cannot keep the device to it ("dext:": the driver maps every region
 * read-write), or the backend's error.
 */
UPCI_API int upci_dma_map(upci_dev *dev, uint64_t iova, void *vaddr, uint64_t len, unsigned flags,
			  uint64_t *bus_addr);

/**
 * upci_dma_unmap() - remove a mapping made by upci_dma_map()
 * @dev: handle (claimed)
 * @iova: the @iova it was mapped with
 *
 * When this returns the device can no longer reach the memory.
 *
 * Return: 0, -EPERM, -ENOENT when no mapping starts at @iova, -EINVAL
 * when it is a buffer from upci_dma_alloc() (use upci_dma_free()).
 */
UPCI_API int upci_dma_unmap(upci_dev *dev, uint64_t iova);

/**
 * upci_dma_alloc() - allocate memory and map it for the device
 * @dev: handle (claimed)
 * @iova: where to map it, or UPCI_IOVA_ANY for the lowest free page
 *        aligned range at or above 1 MiB inside the usable IOVA ranges
 *        (upci_dma_iova_ranges())
 * @size: bytes, rounded up to the page size
 * @buf: filled in; the memory is zeroed and backed by a memfd where the
 *       platform has one (so it can be shared with another process; its
 *       size is sealed, so that process cannot shrink or grow it)
 *
 * Return: 0, -EPERM, -EINVAL, -ENOMEM, -ENOSPC, -EEXIST, -EOVERFLOW,
 * -ERANGE as upci_dma_map().
 */
UPCI_API int upci_dma_alloc(upci_dev *dev, uint64_t iova, uint64_t size, struct upci_dma_buf *buf);

/**
 * upci_dma_free() - unmap and free a buffer from upci_dma_alloc()
 * @dev: handle
 * @buf: the buffer; zeroed on return, with fd set to -1
 *
 * The device no longer reaches the memory, and the memory and its fd are
 * gone (a dup() of the fd keeps the memory file alive for its holder).
 *
 * Return: 0, -ENOENT when @buf is not a live buffer of @dev.
 */
UPCI_API int upci_dma_free(upci_dev *dev, struct upci_dma_buf *buf);

/* ------------------------------------------------------------------------
 * DMA address spaces and IOVA allocation
 *
 * upci_dma_map() takes the caller's IOVA; the calls below choose one from
 * the ranges the IOMMU accepts (lowest free first), map a scatter list
 * into one contiguous IOVA range, translate both ways, and back buffers
 * with huge pages. A DMA space is one IOVA space shared by several
 * devices: a VFIO container or iommufd IOAS, one simulated IOMMU, or the
 * same mappings made on each device where a backend has no shared IOMMU
 * (vfio-user connections, the dext's per-device DART). Devices of
 * different backends may share a space.
 *
 * A device that joined a space keeps its single-device calls: its DMA
 * calls (map, unmap, alloc, free, the any-IOVA and scatter-list maps) act
 * on the space, so a mapping made through one member reaches every
 * member; translation answers with the device's own bus addresses (the
 * dext's DART gives each device its own). Mappings and buffers made in a
 * space belong to the space: they outlive the member they were made
 * through and go with upci_dma_space_destroy().
 *
 * Threading: calls on a space are serialized by its lock, DMA calls on a
 * member take the space's lock before the device's; any call may come
 * from any thread. upci_dma_space_destroy() must be the last call on a
 * space.
 * ---------------------------------------------------------------------- */

/** A range of IOVAs the IOMMU accepts, both ends included. */
struct upci_iova_range {
	uint64_t start;
	uint64_t last;
};

/** One piece of process memory for upci_dma_map_sg(). */
struct upci_dma_seg {
	void *vaddr;  /* page aligned */
	uint64_t len; /* a multiple of the page size, non-zero */
};

/** Most segments upci_dma_map_sg() takes in one call. */
#define UPCI_DMA_SEG_MAX 1024u
/** The huge page size UPCI_DMA_ALLOC_HUGE asks for (2 MiB). */
#define UPCI_HUGE_PAGE_SIZE (2ull << 20)

/* upci_dma_alloc_flags() flags */
#define UPCI_DMA_ALLOC_HUGE (1u << 0) /* back the buffer with 2 MiB huge pages */

/** Opaque DMA address space that several devices share. */
typedef struct upci_dma_space upci_dma_space;

/**
 * upci_dma_iova_ranges() - the IOVAs a mapping of this device can use
 * @dev: handle
 * @ranges: receives up to @max ranges, sorted and disjoint; may be NULL
 *          when @max is 0 (to learn the count)
 * @max: room in @ranges
 *
 * What the backend accepts: Linux VFIO reports the ranges of its IOMMU
 * (VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, or the iommufd IOAS's; on x86
 * the interrupt window 0xfee00000-0xfeefffff is a hole). The simulated
 * IOMMU accepts all of it unless its URI asks otherwise ("sim:edu?iommu=
 * x86": 48 bits with that hole). A vfio-user server announces nothing:
 * upci assumes every IOVA, and a server that refuses one answers the map
 * with an error. The dext takes any IOVA as the key of a mapping (the
 * DART picks the bus address from its own 1.5 GiB window). In a DMA space
 * the answer is the space's: what every member accepts.
 *
 * Return: the number of ranges (which may exceed @max: only @max are
 * stored), -EINVAL (NULL @ranges with @max > 0).
 */
UPCI_API int upci_dma_iova_ranges(upci_dev *dev, struct upci_iova_range *ranges, unsigned max);

/**
 * upci_dma_map_any() - map process memory at an IOVA the library chooses
 * @dev: handle (claimed)
 * @vaddr: process memory, page aligned, valid for @len bytes until unmapped
 * @len: bytes, a multiple of the page size, non-zero
 * @flags: UPCI_DMA_READ and/or UPCI_DMA_WRITE (0 means both)
 * @iova: receives the IOVA chosen: the lowest free one at or above 1 MiB
 *        inside the usable ranges (upci_dma_iova_ranges()), page aligned,
 *        and 2 MiB aligned when @vaddr and @len are multiples of 2 MiB
 *        (so the IOMMU can use its large pages)
 * @bus_addr: receives the address the device must use (see upci_dma_map())
 *
 * Unmapped with upci_dma_unmap(*@iova).
 *
 * Return: 0, -EPERM, -EINVAL, -ENOSPC (no free range large enough, or
 * the IOMMU's limits), -ENOTSUP, or the backend's error, as upci_dma_map().
 */
UPCI_API int upci_dma_map_any(upci_dev *dev, void *vaddr, uint64_t len, unsigned flags, uint64_t *iova,
			      uint64_t *bus_addr);

/**
 * upci_dma_map_sg() - map a scatter list into one contiguous IOVA range
 * @dev: handle (claimed)
 * @sg: @nseg pieces of process memory, each page aligned and a multiple of
 *      the page size; piece i follows piece i-1 in IOVA space
 * @nseg: 1..UPCI_DMA_SEG_MAX
 * @flags: UPCI_DMA_READ and/or UPCI_DMA_WRITE (0 means both)
 * @iova: in: where to map it, page aligned, or UPCI_IOVA_ANY to let the
 *        library choose as upci_dma_map_any() does; out: the IOVA of the
 *        first byte
 * @bus_addr: receives the bus address of the first byte; the whole list is
 *            contiguous at the bus too
 *
 * The list is one mapping: upci_dma_unmap(*@iova) removes all of it, and
 * the IOVA of a later piece is not a mapping of its own (-ENOENT). All or
 * nothing: on failure nothing stays mapped.
 *
 * Return: 0, -EPERM, -EINVAL (alignment, a zero-length piece, @nseg 0 or
 * above UPCI_DMA_SEG_MAX, bad flags), -EOVERFLOW (the total wraps), -EEXIST
 * (overlaps a mapping), -ENOSPC, -ERANGE (outside the usable ranges, or an
 * IOMMU that picks bus addresses - the dext's DART, a vfio-user server
 * behind one - did not make the pieces contiguous at the bus), -ENOTSUP,
 * or the backend's error.
 */
UPCI_API int upci_dma_map_sg(upci_dev *dev, const struct upci_dma_seg *sg, unsigned nseg, unsigned flags,
			     uint64_t *iova, uint64_t *bus_addr);

/**
 * upci_dma_vaddr_to_bus() - where the device reaches process memory
 * @dev: handle
 * @vaddr: first byte of the process memory (any alignment)
 * @len: bytes, non-zero; [@vaddr, @vaddr + @len) must lie in one mapping
 * @iova: receives the IOVA of @vaddr; may be NULL
 * @bus_addr: receives the bus address of @vaddr for this device; may be NULL
 *
 * Looks at this handle's mappings and buffers (the space's, for a member).
 * Memory mapped at more than one IOVA answers with one of them.
 *
 * Return: 0, -EINVAL (NULL @vaddr, zero @len, or the range wraps), -ENOENT
 * when @vaddr is not mapped, -ERANGE when the range runs past the end of
 * the mapping @vaddr is in.
 */
UPCI_API int upci_dma_vaddr_to_bus(upci_dev *dev, const void *vaddr, uint64_t len, uint64_t *iova,
				   uint64_t *bus_addr);

/**
 * upci_dma_bus_to_vaddr() - the process memory behind a bus address
 * @dev: handle
 * @bus_addr: an address the device was given (e.g. read back from a
 *            descriptor or a completion)
 * @len: bytes, non-zero; [@bus_addr, @bus_addr + @len) must lie in one
 *       mapping
 * @vaddr: receives the process address
 *
 * Return: 0, -EINVAL (NULL @vaddr, zero @len, or the range wraps), -ENOENT
 * when @bus_addr is not mapped for this device, -ERANGE when the range
 * runs past the end of its mapping.
 */
UPCI_API int upci_dma_bus_to_vaddr(upci_dev *dev, uint64_t bus_addr, uint64_t len, void **vaddr);

/**
 * upci_dma_alloc_flags() - upci_dma_alloc() with options
 * @dev: handle (claimed)
 * @iova: where to map it (page aligned), or UPCI_IOVA_ANY, which picks a
 *        2 MiB aligned IOVA for a huge buffer
 * @size: bytes, rounded up to the page size (to 2 MiB for a huge buffer)
 * @flags: 0, or UPCI_DMA_ALLOC_HUGE: back the buffer with 2 MiB huge pages
 *         (fewer IOMMU entries and TLB misses; SPDK and DPDK do the same)
 * @buf: filled in as by upci_dma_alloc(); @buf->fd is a hugetlbfs memfd
 *       for a huge buffer (it can be shared like any other)
 *
 * Huge pages come from the pool the administrator reserved
 * (/proc/sys/vm/nr_hugepages, or hugepages= on the kernel command line);
 * upci never reserves any itself.
 *
 * Return: 0, -EINVAL (unknown flag, or as upci_dma_alloc()), -ENOMEM (for
 * a huge buffer: the system has too few free 2 MiB pages reserved, e.g.
 * none), -ENOTSUP (huge pages asked for on a system without 2 MiB
 * hugetlbfs pages: not Linux, or a kernel without hugetlbfs), or as
 * upci_dma_alloc().
 */
UPCI_API int upci_dma_alloc_flags(upci_dev *dev, uint64_t iova, uint64_t size, unsigned flags,
				  struct upci_dma_buf *buf);

/**
 * upci_dma_space_create() - a new, empty DMA address space
 * @out: receives the space
 *
 * Return: 0, -EINVAL, -ENOMEM.
 */
UPCI_API int upci_dma_space_create(upci_dma_space **out);

/**
 * upci_dma_space_destroy() - free a space and everything mapped in it
 * @sp: the space (NULL is ignored)
 *
 * Refused while a device is joined (upci_dma_space_leave() or
 * upci_close() it first). Frees the space's buffers and forgets its
 * mappings: pointers and fds of its buffers are invalid afterwards.
 *
 * Return: 0, -EBUSY when a device is still joined (nothing is changed).
 */
UPCI_API int upci_dma_space_destroy(upci_dma_space *sp);

/**
 * upci_dma_space_join() - make a device's DMA go to a space
 * @sp: the space
 * @dev: handle (claimed), with no DMA mapping or buffer of its own, no BAR
 *       mapped and interrupts disabled
 *
 * Every mapping of the space is made for the device; from now on its DMA
 * calls act on the space (see above) and upci_release() refuses. Devices
 * share the backend's IOMMU context where they can (VFIO: one type1
 * container or one iommufd IOAS for all vfio devices of the space that
 * were opened the same way; sim: one simulated IOMMU for sim devices of
 * the same IOMMU kind); elsewhere each mapping is made on each device. On
 * VFIO's type1 path the device is reopened in the space's container,
 * which may reset it (the kernel resets a VFIO device that has a reset
 * method when its last fd closes): join before setting the device up.
 *
 * Return: 0, -EINVAL, -EPERM (not claimed), -EBUSY (already in a space,
 * or it has mappings, buffers, a BAR mapped or interrupts enabled),
 * -ERANGE / -ENOSPC / -ENOTSUP when the device cannot map what the space
 * holds (outside its IOMMU's ranges, its limits, memory it cannot reach),
 * or the backend's error; on failure nothing is changed.
 */
UPCI_API int upci_dma_space_join(upci_dma_space *sp, upci_dev *dev);

/**
 * upci_dma_space_leave() - take a device out of its space
 * @sp: the space
 * @dev: a member, with no BAR mapped and interrupts disabled
 *
 * The device no longer reaches the space's memory (its mappings there are
 * removed from it; the space keeps them) and is back to a DMA context of
 * its own, empty. On VFIO's type1 path that reopens the device, which may
 * reset it. upci_close() of a member leaves its space by itself.
 *
 * Return: 0, -EINVAL, -ENOENT (@dev is not a member of @sp), -EBUSY (a BAR
 * is mapped or interrupts are enabled; nothing is changed), or the
 * backend's error when the device's own context could not be made again
 * (it has left the space all the same; close it).
 */
UPCI_API int upci_dma_space_leave(upci_dma_space *sp, upci_dev *dev);

/**
 * upci_dma_space_map() - map process memory into a space
 * @sp: the space (it may have no member yet: joining devices get it)
 * @iova: page aligned
 * @vaddr: process memory, page aligned, valid for @len bytes until unmapped
 * @len: bytes, a multiple of the page size, non-zero
 * @flags: UPCI_DMA_READ and/or UPCI_DMA_WRITE (0 means both)
 *
 * Made on every member (all or nothing); each member's bus address comes
 * from upci_dma_vaddr_to_bus(). What a VMM does with guest RAM.
 *
 * Return: 0, -EINVAL, -EOVERFLOW, -EEXIST, -ENOSPC, -ERANGE, -ENOTSUP as
 * upci_dma_map() for any member.
 */
UPCI_API int upci_dma_space_map(upci_dma_space *sp, uint64_t iova, void *vaddr, uint64_t len, unsigned flags);

/**
 * upci_dma_space_unmap() - remove a mapping from a space
 * @sp: the space
 * @iova: the IOVA a mapping (or scatter list) of the space starts at
 *
 * When this returns no member reaches the memory any more.
 *
 * Return: 0, -EINVAL, -ENOENT (no mapping starts at @iova), -EINVAL when it
 * is a buffer (upci_dma_free() it through a member).
 */
UPCI_API int upci_dma_space_unmap(upci_dma_space *sp, uint64_t iova);

/**
 * upci_dma_space_iova_ranges() - the IOVAs every member accepts
 * @sp: the space
 * @ranges: receives up to @max ranges; may be NULL when @max is 0
 * @max: room in @ranges
 *
 * The intersection of the members' ranges (upci_dma_iova_ranges()); the
 * whole 64-bit space while the space has no member.
 *
 * Return: the number of ranges (may exceed @max), -EINVAL.
 */
UPCI_API int upci_dma_space_iova_ranges(upci_dma_space *sp, struct upci_iova_range *ranges, unsigned max);

/**
 * upci_irq_enable() - set up interrupts
 * @dev: handle (claimed)
 * @type: UPCI_IRQ_AUTO, _MSIX, _MSI or _INTX
 * @nvec: vectors wanted, 1..256; 0 for as many as the device offers
 *        (INTx always has one)
 *
 * All vectors start unmasked (enable mask all ones) with nothing pending in
 * the library. A device may still hold an interrupt it latched itself (an
 * MSI-X PBA bit of a vector that was not enabled): it is delivered as soon
 * as its vector is enabled, as on real hardware. Enabling again replaces
 * the previous set-up, waking threads blocked in upci_irq_wait() as
 * upci_irq_disable() does. For MSI and MSI-X, bus mastering (COMMAND bit 2) is
 * turned on: a device sends no message without it. Clearing it later
 * silences MSI/MSI-X, as on real hardware.
 *
 * Return: the number of vectors enabled (>= 1), -EPERM, -EINVAL (bad
 * type, @nvec > 256), -ENOTSUP when the device lacks @type, -ERANGE when
 * it offers fewer than @nvec vectors, -ENOSPC when the host cannot allocate
 * that many (VFIO: the kernel's interrupt vectors, e.g. 256 MSI-X vectors
 * in a one-CPU guest).
 */
UPCI_API int upci_irq_enable(upci_dev *dev, enum upci_irq_type type, unsigned nvec);

/**
 * upci_irq_count() - how many vectors the device offers for a mechanism
 * @dev: handle (claimed or not)
 * @type: UPCI_IRQ_MSIX, _MSI or _INTX
 *
 * On "dext:" the count is known once the device has been claimed (it is
 * read from the capabilities); before that it is 0.
 *
 * Return: the count, capped at 256 (0 when the device lacks @type),
 * -EINVAL for another @type.
 */
UPCI_API int upci_irq_count(upci_dev *dev, enum upci_irq_type type);

/**
 * upci_irq_disable() - tear interrupts down
 * @dev: handle
 *
 * Threads blocked in upci_irq_wait() on this handle return -ECANCELED;
 * this call returns once they have left the library. Pending bits are
 * cleared and the mask is back to all ones.
 *
 * Return: 0 (also when none were enabled).
 */
UPCI_API int upci_irq_disable(upci_dev *dev);

/**
 * upci_irq_info() - the current interrupt set-up
 * @dev: handle
 * @type: receives the mechanism (UPCI_IRQ_NONE when disabled); may be NULL
 * @nvec: receives the vector count; may be NULL
 *
 * Return: 0.
 */
UPCI_API int upci_irq_info(upci_dev *dev, enum upci_irq_type *type, unsigned *nvec);

/**
 * upci_irq_set_mask() - choose which vectors are delivered
 * @dev: handle
 * @mask: UPCI_IRQ_WORDS words, bit v of word v/64 set = vector v ENABLED
 *
 * NOTE: this is an enable mask, the opposite of PCI's mask bits: a SET
 * bit lets the vector through, a CLEAR bit holds it back; all ones (the
 * state after upci_irq_enable()) delivers everything.
 *
 * A vector that fires while its bit is clear is latched, not lost: it is
 * not returned by upci_irq_take_pending() nor signalled on the fd until
 * it is enabled again, and then it is. upci_irq_peek_pending() sees it.
 * The same holds for vectors routed to an eventfd (upci_irq_set_eventfd()).
 * Concurrent calls apply one after the other, each whole.
 *
 * Return: 0, -EINVAL for a NULL @mask, or the backend's error when
 * pointing the device of a routed vector back or forth failed (VFIO,
 * vfio-user; the mask is set all the same).
 */
UPCI_API int upci_irq_set_mask(upci_dev *dev, const uint64_t mask[UPCI_IRQ_WORDS]);

/**
 * upci_irq_get_mask() - the current enable mask
 * @dev: handle
 * @mask: receives UPCI_IRQ_WORDS words
 *
 * Return: 0, -EINVAL for a NULL @mask.
 */
UPCI_API int upci_irq_get_mask(upci_dev *dev, uint64_t mask[UPCI_IRQ_WORDS]);

/**
 * upci_irq_take_pending() - read and clear the enabled pending vectors
 * @dev: handle
 * @pending: receives UPCI_IRQ_WORDS words of vectors that fired since the
 *           last take; their bits are cleared atomically (a vector firing
 *           concurrently is either in this result or the next). Vectors
 *           routed with upci_irq_set_eventfd() are never taken.
 *
 * Return: the number of vectors returned (0 when none), -EINVAL, -ENODEV
 * when the device has gone away and nothing is pending.
 */
UPCI_API int upci_irq_take_pending(upci_dev *dev, uint64_t pending[UPCI_IRQ_WORDS]);

/**
 * upci_irq_peek_pending() - look at all latched vectors without clearing
 * @dev: handle
 * @pending: receives UPCI_IRQ_WORDS words, masked vectors included
 *
 * Return: the number of bits set, -EINVAL.
 */
UPCI_API int upci_irq_peek_pending(upci_dev *dev, uint64_t pending[UPCI_IRQ_WORDS]);

/**
 * upci_irq_fd() - a file descriptor for event loops
 * @dev: handle
 *
 * The fd becomes readable when an enabled vector is pending (vectors
 * routed with upci_irq_set_eventfd() signal their own fd instead). Do not
 * read it: call upci_irq_take_pending(), which also re-arms it. A wake-up may
 * occasionally find nothing pending. Once the device has gone away the fd
 * stays readable and upci_irq_take_pending() says -ENODEV. The fd belongs
 * to the handle and is valid until upci_close() (which closes it: stop
 * polling it first).
 *
 * Return: the fd (>= 0) or a negative errno.
 */
UPCI_API int upci_irq_fd(upci_dev *dev);

/**
 * upci_irq_wait() - wait for enabled vectors to fire and take them
 * @dev: handle
 * @timeout_ms: milliseconds to wait; -1 waits for ever, 0 polls
 * @pending: receives what upci_irq_take_pending() would
 *
 * Several threads may wait at once; each vector is taken by one of them.
 *
 * Return: the number of vectors taken (>= 1), -ETIMEDOUT, -EINTR,
 * -ECANCELED when upci_irq_disable(), a replacing upci_irq_enable(),
 * upci_release() or upci_close() ran in another thread during the wait
 * (nothing is taken), -EINVAL (NULL @pending, @timeout_ms < -1), -EBADF or
 * -EIO when the notifier fd is broken, -ENODEV at once (a waiter wakes)
 * when the device has gone away.
 */
UPCI_API int upci_irq_wait(upci_dev *dev, int timeout_ms, uint64_t pending[UPCI_IRQ_WORDS]);

/* ---- per-vector eventfds ---- */

/**
 * upci_irq_set_eventfd() - deliver one vector to an eventfd of the caller
 * @dev: handle (claimed, with MSI or MSI-X enabled)
 * @vec: the vector, below the count upci_irq_enable() returned
 * @fd: a non-blocking eventfd (EFD_NONBLOCK; where there is no eventfd,
 *      the non-blocking write end of a pipe), or -1 to give @vec back
 *
 * From now on each time @vec fires, @fd is signalled (its counter goes up
 * by 1; a pipe gets one byte), and @vec no longer shows in
 * upci_irq_take_pending(), upci_irq_wait() or upci_irq_fd(). The other
 * vectors keep the bitmap, the mask and the pollable fd as before. Where
 * the device can signal the eventfd itself it does, and the interrupt never
 * passes through this process, so @fd can be KVM's irqfd or another
 * process's (VFIO: VFIO_DEVICE_SET_IRQS on that vector; vfio-user: the
 * server gets the fd); elsewhere (sim, dext) the library signals it from
 * the thread that receives the interrupt.
 *
 * The enable mask still applies: a routed vector that fires while its bit
 * is clear is latched (upci_irq_peek_pending() shows it) and @fd is
 * signalled once when the bit is set again. (VFIO and vfio-user have no
 * mask for MSI/MSI-X: the library points the device back at itself while
 * the bit is clear, so upci_irq_set_mask() changing such a vector's bit
 * takes the handle lock and makes one request.) A vector latched in the
 * library when it is routed goes to @fd at once if enabled, on unmask if
 * not. Giving a vector back (-1) moves nothing back from @fd: later
 * firings go to the bitmap.
 *
 * The caller keeps @fd: the library holds a duplicate of it (dup), so the
 * caller may close its own at any time. The route ends with another
 * upci_irq_set_eventfd() of @vec, upci_irq_disable(), a replacing
 * upci_irq_enable(), upci_release() or upci_close(); once that call
 * returns, neither the library nor the device signals @fd any more and
 * the duplicate is closed. upci_reset() keeps routes. MSI and MSI-X only:
 * an INTx line must be acknowledged and re-armed after each interrupt,
 * which an eventfd reader such as KVM cannot do.
 *
 * Return: 0, -EPERM when not claimed, -EINVAL (interrupts not enabled,
 * @vec not below their count, @fd < -1, @fd not an eventfd or pipe, or
 * blocking), -EBADF (@fd not open), -ENOTSUP when INTx is enabled,
 * -EMFILE (no fd left for the duplicate), or the backend's error (the
 * route is then as before).
 */
UPCI_API int upci_irq_set_eventfd(upci_dev *dev, unsigned vec, int fd);

/**
 * upci_reset() - reset the function
 * @dev: handle (claimed)
 *
 * Function-level reset, else whatever the backend has (hot reset, PM
 * reset, a model's reset, a vfio-user server's DEVICE_RESET). Registers
 * return to their defaults as far as that reset reaches them (a vfio-user
 * server's reset may leave config space alone). On every backend bus
 * mastering is off afterwards: the library clears COMMAND bit 2 when the
 * reset left it set. DMA mappings, BAR mappings and buffers stay; the
 * interrupt set-up is re-established by the library with the same type,
 * vectors and mask (which for MSI/MSI-X turns bus mastering back on, see
 * upci_irq_enable()), and waiters are not woken.
 *
 * Return: 0, -EPERM, -ENOTSUP when the device has no way to reset.
 */
UPCI_API int upci_reset(upci_dev *dev);

/**
 * upci_strerror() - words for an error code
 * @err: a negative errno returned by upci (a positive one works too)
 *
 * The code's standard meaning ("connection refused", "bad address"), the
 * same for every call; what a code means for one call is that call's
 * Return: section. Codes it has no words for read "unknown error".
 *
 * Return: a static string; never NULL.
 */
UPCI_API const char *upci_strerror(int err);

/**
 * upci_backend_available() - is a URI scheme's backend built in
 * @scheme: "sim", "vfio", "vfio-user", "dext" or "sysfs"
 *
 * Return: 1 when built in, 0 when not, -EINVAL for an unknown scheme.
 */
UPCI_API int upci_backend_available(const char *scheme);

/**
 * upci_uri_check() - validate a URI and say what is wrong with it
 * @uri: the URI
 * @why: receives one sentence when the URI is not usable; may be NULL
 * @whylen: size of @why
 *
 * Checks syntax and whether the scheme's backend is built in; for "sim:"
 * also the model name and its parameters. It does not look for hardware.
 *
 * Return: 0, -EINVAL (malformed, or bad model parameters), -ENOTSUP
 * (backend not built in), -ENOENT (no such sim model).
 */
UPCI_API int upci_uri_check(const char *uri, char *why, size_t whylen);

/* ---- enumeration ---- */

/* upci_found.flags */
#define UPCI_FOUND_READY (1u << 0) /* nothing known stands in the way of upci_open(uri) */
#define UPCI_FOUND_IDS   (1u << 1) /* id's IDs, class and revision are known */

/** A device a backend can reach: filled by upci_enumerate(). */
struct upci_found {
	char uri[64];             /* what to pass to upci_open() */
	struct upci_identity id;  /* what is known without opening it */
	uint32_t flags;           /* UPCI_FOUND_* */
	int32_t iommu_group;      /* vfio: its IOMMU group, -1 when none; -1 elsewhere */
	char driver[64];          /* vfio: the host driver bound to it, "" when none */
	char why[160];            /* when not READY: what stands in the way, and what to do */
};

/**
 * upci_enumerate() - list what a backend can reach, opening nothing
 * @scheme: "sim", "vfio" or "dext"; NULL for every built-in backend
 * @list: receives an array of @count entries, to be freed with
 *        upci_enumerate_free(); NULL when there are none
 * @count: receives the number of entries
 *
 * Nothing is opened, claimed or changed, and no handle is needed: the
 * call reads the built-in model table (sim), sysfs (vfio) and the IOKit
 * registry (dext). Entries come in backend order (sim, vfio, dext), each
 * backend's in its own (vfio: by address). @id is what upci_identity()
 * reports once the device is open, as far as it is known beforehand.
 *   - sim: one entry per model with its default parameters ("sim:edu",
 *     "sim:testdev"), identity from its power-on config space, no bus
 *     address (all zero); always ready.
 *   - vfio: every PCI function sysfs lists, "vfio:DDDD:BB:DD.F", IDs from
 *     sysfs (config_size 0 when unknown, name ""); ready when bound to
 *     vfio-pci, in an IOMMU group whose other members allow VFIO, with
 *     device nodes this process may open. Otherwise @why says what to do
 *     (bind it to vfio-pci, turn the IOMMU on, ...). A ready device may
 *     still be held by another process: only upci_open() can tell.
 *   - vfio-user: -ENOTSUP. A server is reached through the socket path its
 *     operator chose; nothing lists them.
 *   - dext: -ENOTSUP for now. The function each driver instance serves
 *     must be read from the registry without opening the instance, and
 *     that lookup is not in this library yet.
 * Safe from any thread.
 *
 * Return: 0, -EINVAL (unknown @scheme, NULL @list or @count), -ENOTSUP
 * (the backend is not built in, or cannot list: see above), -ENOMEM, or
 * the backend's error (vfio: sysfs unreadable). With @scheme NULL, a
 * backend that cannot list or fails is left out.
 */
UPCI_API int upci_enumerate(const char *scheme, struct upci_found **list, size_t *count);

/**
 * upci_enumerate_free() - free a list from upci_enumerate()
 * @list: the list (NULL is ignored)
 *
 * Return: nothing.
 */
UPCI_API void upci_enumerate_free(struct upci_found *list);

#ifdef __cplusplus
}
#endif

#endif /* UPCI_UPCI_H */

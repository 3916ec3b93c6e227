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
 *     interrupts.
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
 *     while any buffer or BAR mapping of the handle is live.
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
 *        aligned range at or above 1 MiB
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
 * Concurrent calls apply one after the other, each whole.
 *
 * Return: 0, -EINVAL for a NULL @mask.
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
 *           concurrently is either in this result or the next)
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
 * The fd becomes readable when an enabled vector is pending. Do not read
 * it: call upci_irq_take_pending(), which also re-arms it. A wake-up may
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

#ifdef __cplusplus
}
#endif

#endif /* UPCI_UPCI_H */

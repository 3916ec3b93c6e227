/* SPDX-License-Identifier: MIT */
/*
 * The IOKit shim behaves as macOS does, where macOS is less kind than a
 * simulation would be. Each case names the Apple source it follows; each
 * failed against the shim before issue 13. Raw IOKit calls, no upci
 * handle: this is about the platform, not the backend.
 */
#include <pthread.h>
#include <stdio.h>
#include <sys/mman.h>

#include <IOKit/IOMessage.h>

#include "edu_regs.h"
#include "pci_regs.h"
#include "testdev_regs.h"
#include "test_dext_util.h"

#define EDU 0, 1, 0
#define TD 0, 2, 0
#define G DEXT_DART_GRANULE

static uint32_t sim_cfg(uint8_t bus, uint8_t dev, uint8_t fn, uint32_t off, unsigned width)
{
	uint32_t v = 0;

	assert_int_equal(upci_config_read(iokit_shim_simdev(bus, dev, fn), off, width, &v), 0);
	return v;
}

/*
 * PCIDriverKit's IOPCIDevice reaches the device through the client that
 * opened it (PCIDriverKit/IOPCIDevice.cpp: ivars->deviceClient, set by
 * Open); IOPCIFamily's _MemoryAccess (IOPCIDevice.cpp) is kIOReturnNotOpen
 * for anyone else, and ConfigurationRead* then hand back all ones, writes
 * go nowhere, MemoryRead* with no mappings gives all ones. The dext's
 * GetIdentity and ConfigRead check no claim (VFIOUserPCIDriver.cpp
 * vfio_user_read_identity, vfio_user_config_read).
 */
static void test_unopened_device_reads_all_ones(void **state)
{
	io_connect_t a = raw_open(EDU), b = raw_open(EDU);
	struct dext_identity id;
	uint32_t v = 0, line = sim_cfg(EDU, PCI_INTERRUPT_LINE, 1);
	uint64_t m = 0;

	(void)state;
	assert_int_equal(dext_get_identity(a, &id), 0);
	assert_true(id.bus == 0 && id.dev == 1 && id.fn == 0); /* GetBusDeviceFunction needs no open */
	assert_int_equal(id.vendor, 0xffff);
	assert_int_equal(id.device, 0xffff);
	assert_int_equal(id.class_code, 0xffffff);
	assert_int_equal(dext_config_read(a, PCI_VENDOR_ID, 4, &v), 0);
	assert_int_equal(v, 0xffffffff);
	assert_int_equal(dext_config_read(a, PCI_BASE_ADDRESS_0, 4, &v), 0);
	assert_int_equal(v, 0); /* synthesized from GetBARInfo, which needs no open */
	assert_int_equal(dext_mmio_read(a, 0, EDU_REG_ID, 4, &m), 0);
	assert_int_equal(m, 0xffffffff);
	assert_int_equal(dext_config_write(a, PCI_INTERRUPT_LINE, 1, line ^ 0x5a), 0);
	assert_int_equal(sim_cfg(EDU, PCI_INTERRUPT_LINE, 1), line); /* dropped */
	/* Once a client opened the device, every client reads it. */
	assert_int_equal(dext_claim(a), 0);
	assert_int_equal(dext_get_identity(b, &id), 0);
	assert_int_equal(id.vendor, 0x1234);
	assert_int_equal(id.class_code, EDU_CLASS_CODE);
	assert_int_equal(dext_mmio_read(b, 0, EDU_REG_ID, 4, &m), 0);
	assert_int_equal(m, EDU_ID_VALUE);
	/* The opener's close closes the device under a second claimant. */
	assert_int_equal(dext_claim(b), 0);
	IOServiceClose(a);
	assert_int_equal(dext_config_read(b, PCI_VENDOR_ID, 2, &v), 0);
	assert_int_equal(v, 0xffff);
	IOServiceClose(b);
}

/*
 * A BAR is memory the dext copies from the IOPCIDevice as the opener
 * (VFIOUserPCIDriver.cpp CopyClientMemoryForType ->
 * _CopyDeviceMemoryWithIndex, kIOReturnNotOpen for an unopened device in
 * IOPCIFamily IOPCIDevice.cpp); an unclaimed client gets the descriptor a
 * claimed one was given before (g_barDescCache), even after the opener
 * is gone.
 */
static void test_bar_map_needs_an_open_device(void **state)
{
	io_connect_t a = raw_open(TD), b = raw_open(TD);
	struct upci_bar_info bi;
	void *addr = NULL;
	uint64_t size = 0;

	(void)state;
	assert_int_equal(dext_map(a, DEXT_MEM_BAR(TESTDEV_BAR_MEM), kIOMapAnywhere, &addr, &size), -EINVAL);
	assert_int_equal(dext_claim(a), 0);
	assert_int_equal(dext_map(a, DEXT_MEM_BAR(TESTDEV_BAR_MEM), kIOMapAnywhere, &addr, &size), 0);
	assert_int_equal(dext_unmap(a, DEXT_MEM_BAR(TESTDEV_BAR_MEM), addr), 0);
	IOServiceClose(a); /* the device is closed again */
	assert_int_equal(dext_map(b, DEXT_MEM_BAR(TESTDEV_BAR_MEM), kIOMapAnywhere, &addr, &size), 0);
	assert_int_equal(upci_bar_info(iokit_shim_simdev(TD), TESTDEV_BAR_MEM, &bi), 0);
	assert_int_equal(size, bi.size);
	IOServiceClose(b);
}

/*
 * xnu IOUserClient.cpp is_io_connect_map_memory_into_task: whatever went
 * wrong, a mapping that could not be made is kIOReturnBadArgument.
 */
static void test_failed_map_is_bad_argument(void **state)
{
	io_connect_t c = raw_open(TD);
	struct iokit_shim_map m;
	void *addr = NULL;
	uint64_t size = 0;

	(void)state;
	assert_int_equal(dext_claim(c), 0);
	assert_int_equal(dext_map(c, DEXT_MEM_DMA_BUFFER, kIOMapAnywhere, &addr, &size), -EINVAL); /* none yet */
	iokit_shim_last_map(&m);
	assert_int_equal(m.kr, kIOReturnBadArgument);
	assert_int_equal(dext_map(c, DEXT_MEM_IRQ_STATE, kIOMapAnywhere, &addr, &size), -EINVAL); /* no set-up */
	assert_int_equal(dext_map(c, 8, kIOMapAnywhere, &addr, &size), -EINVAL);                  /* no such type */
	assert_int_equal(dext_map(c, DEXT_MEM_BAR(4), kIOMapAnywhere, &addr, &size), -EINVAL);    /* no BAR4 */
	IOServiceClose(c);
}

/* Is [addr, addr + 1) writable in this process's mappings? */
static int writable(const void *addr)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512], perm[8];
	unsigned long lo, hi;
	int w = -1;

	assert_non_null(f);
	while (w < 0 && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perm) == 3 && (uintptr_t)addr >= lo && (uintptr_t)addr < hi)
			w = perm[1] == 'w';
	fclose(f);
	assert_true(w >= 0);
	return w;
}

/*
 * Only the driver makes a mapping read-only (xnu IOUserServer.cpp
 * IOUserUserClient::clientMemoryForType, kIOUserClientMemoryReadOnly);
 * the client's kIOMapReadOnly is outside kIOMapUserOptionsMask and
 * dropped (xnu IOUserClient.cpp IOUserClient::mapClientMemory64).
 */
static void test_client_read_only_is_dropped(void **state)
{
	io_connect_t c = raw_open(TD);
	struct iokit_shim_map m;
	void *addr = NULL;
	uint64_t size = 0;

	(void)state;
	assert_int_equal(dext_claim(c), 0);
	assert_int_equal(dext_map(c, DEXT_MEM_BAR(TESTDEV_BAR_MEM), kIOMapAnywhere | kIOMapReadOnly, &addr, &size), 0);
	iokit_shim_last_map(&m);
	assert_true(m.options & kIOMapReadOnly); /* asked for... */
	assert_true(writable(addr));             /* ...and not given */
	assert_int_equal(dext_unmap(c, DEXT_MEM_BAR(TESTDEV_BAR_MEM), addr), 0);
	IOServiceClose(c);
}

/*
 * Interrupts belong to the client that set them up: the dext registers a
 * dispatch source per vector per client (VFIOUserPCIDriver.cpp
 * vfio_user_setup_interrupts), and a message-signalled vector takes one
 * handler (IOPCIFamily IOPCIMessagedInterruptController.cpp
 * registerInterrupt: kIOReturnNoResources), so a second client registers
 * no vector and gets kIOReturnNotFound until the first one closes.
 */
static void test_interrupts_are_per_client(void **state)
{
	io_connect_t a = raw_open(TD), b = raw_open(TD);
	uint64_t pend[DEXT_IRQ_WORDS];
	unsigned n = 0;

	(void)state;
	assert_int_equal(dext_claim(a), 0);
	assert_int_equal(dext_setup_interrupts(a, &n), 0);
	assert_int_equal(n, 256);
	assert_int_equal(dext_setup_interrupts(b, &n), -ENOENT);
	assert_int_equal(iokit_shim_fire(TD, 7), 0);
	assert_int_equal(dext_check_interrupt(a, pend), 0);
	assert_true(pend[0] == UINT64_C(1) << 7);
	assert_int_equal(dext_check_interrupt(b, pend), -EAGAIN); /* never set up */
	IOServiceClose(a);
	assert_int_equal(dext_setup_interrupts(b, &n), -EPERM); /* the device closed with a */
	assert_int_equal(dext_claim(b), 0);
	assert_int_equal(dext_setup_interrupts(b, &n), 0);
	assert_int_equal(n, 256);
	IOServiceClose(b);
}

/*
 * The dext's session ends in IOPCIDevice::Close, and IOPCIFamily's
 * handleClose (IOPCIDevice.cpp) then turns off memory decoding and bus
 * mastering (getCloseCommandMask) so the device stops DMA.
 */
static void test_close_turns_off_bus_mastering(void **state)
{
	io_connect_t c = raw_open(EDU);
	const uint32_t both = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;

	(void)state;
	assert_int_equal(dext_claim(c), 0);
	assert_int_equal(sim_cfg(EDU, PCI_COMMAND, 2) & both, both); /* the dext's Claim turned them on */
	IOServiceClose(c);
	assert_int_equal(sim_cfg(EDU, PCI_COMMAND, 2) & both, 0);
}

/*
 * RegisterDMARegion maps every region kIOMemoryDirectionOutIn
 * (VFIOUserPCIDriver.cpp CreateMemoryDescriptorFromClient) and reads only
 * three inputs: a fourth one changes nothing.
 */
static void test_register_ignores_a_fourth_input(void **state)
{
	io_connect_t c = raw_open(EDU);
	uint64_t in[4], out[DEXT_REG_NOUT], v = EDU_DMA_CMD_START, f0 = 0, f1 = 0;
	uint32_t nout = DEXT_REG_NOUT;
	void *base;
	uint8_t *m;
	int tries = 1000;

	(void)state;
	base = mmap(NULL, 2 * G, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(base != MAP_FAILED);
	m = (uint8_t *)(((uintptr_t)base + G - 1) & ~(uintptr_t)(G - 1));
	assert_int_equal(dext_claim(c), 0);
	in[DEXT_REG_IN_IOVA] = 0x100000;
	in[DEXT_REG_IN_VA] = (uint64_t)(uintptr_t)m;
	in[DEXT_REG_IN_SIZE] = G;
	in[3] = 2; /* kIOMemoryDirectionOut: the device may only read */
	assert_int_equal(IOConnectCallScalarMethod(c, DEXT_SEL_REGISTER_DMA, in, 4, out, &nout), kIOReturnSuccess);
	/* The edu writes 256 bytes into it: no IOMMU fault. */
	assert_int_equal(dext_mmio_read(c, 0, EDU_REG_DMA_FAULTS, 4, &f0), 0);
	assert_int_equal(dext_mmio_write(c, 0, EDU_REG_DMA_SRC, 8, EDU_DMA_START), 0);
	assert_int_equal(dext_mmio_write(c, 0, EDU_REG_DMA_DST, 8, out[DEXT_REG_OUT_BUS]), 0);
	assert_int_equal(dext_mmio_write(c, 0, EDU_REG_DMA_COUNT, 8, 256), 0);
	assert_int_equal(dext_mmio_write(c, 0, EDU_REG_DMA_CMD, 8, EDU_DMA_CMD_START | EDU_DMA_CMD_TO_RAM), 0);
	while (tries-- && (v & EDU_DMA_CMD_START))
		assert_int_equal(dext_mmio_read(c, 0, EDU_REG_DMA_CMD, 8, &v), 0);
	assert_int_equal(dext_mmio_read(c, 0, EDU_REG_DMA_FAULTS, 4, &f1), 0);
	assert_int_equal(f1, f0);
	IOServiceClose(c);
	munmap(base, 2 * G);
}

/* The IOUserService of BB:DD.F, found by its provider's "reg". */
static io_service_t service_of(uint8_t bus, uint8_t dev, uint8_t fn)
{
	io_iterator_t it = IO_OBJECT_NULL;
	io_service_t s, found = IO_OBJECT_NULL;

	assert_int_equal(IOServiceGetMatchingServices(kIOMainPortDefault, IOServiceMatching(DEXT_SERVICE_CLASS), &it),
			 kIOReturnSuccess);
	while (!found && (s = IOIteratorNext(it)) != IO_OBJECT_NULL) {
		struct dext_regid id;

		if (dext_reg_identity(s, &id) == 0 && id.bus == bus && id.dev == dev && id.fn == fn)
			found = s;
		else
			IOObjectRelease(s);
	}
	IOObjectRelease(it);
	assert_int_not_equal(found, IO_OBJECT_NULL);
	return found;
}

/* The first native uint32_t of an OSData property. */
static uint32_t data_u32(io_registry_entry_t e, CFStringRef key)
{
	CFTypeRef v = IORegistryEntryCreateCFProperty(e, key, kCFAllocatorDefault, 0);
	uint32_t x;

	assert_non_null(v);
	assert_true(CFGetTypeID(v) == CFDataGetTypeID() && CFDataGetLength(v) >= 4);
	memcpy(&x, CFDataGetBytePtr(v), 4);
	CFRelease(v);
	return x;
}

/*
 * The registry as IOPCIFamily builds it: the dext's provider is an
 * IOPCIDevice carrying what enumeration read (IOPCIConfigurator.cpp
 * constructProperties: OSData IDs, subsystem ones only when not 0;
 * constructAddressingProperties: "reg", "pcidebug"; IOPCIBridge.cpp
 * checkProperties: IOPCIExpressCapabilities on PCIe functions), below a
 * bridge, a root port and the host bridge.
 */
static void test_registry(void **state)
{
	io_service_t s = service_of(TD), edu = service_of(EDU), e = IO_OBJECT_NULL, p;
	io_registry_entry_t edu_pci = IO_OBJECT_NULL;
	unsigned pci = 0, depth = 0;
	uint64_t id = 0;
	uint32_t reg;
	CFTypeRef v;

	(void)state;
	assert_int_equal(IORegistryEntryGetParentEntry(s, kIOServicePlane, &e), kIOReturnSuccess);
	assert_true(IOObjectConformsTo(e, "IOPCIDevice"));
	assert_int_equal(data_u32(e, CFSTR("vendor-id")), TESTDEV_VENDOR_ID);
	assert_int_equal(data_u32(e, CFSTR("device-id")), TESTDEV_DEVICE_ID);
	assert_int_equal(data_u32(e, CFSTR("class-code")), TESTDEV_CLASS_CODE);
	assert_int_equal(data_u32(e, CFSTR("subsystem-id")), TESTDEV_SUBSYS_ID);
	reg = data_u32(e, CFSTR("reg")); /* physHi: bus 23:16, device 15:11, function 10:8 */
	assert_int_equal(reg, 2u << 11);
	v = IORegistryEntryCreateCFProperty(e, CFSTR("IOPCIExpressCapabilities"), kCFAllocatorDefault, 0);
	assert_non_null(v);
	CFRelease(v);
	/* edu: conventional PCI; its subsystem register is not 0: present. */
	assert_int_equal(IORegistryEntryGetParentEntry(edu, kIOServicePlane, &edu_pci), kIOReturnSuccess);
	assert_null(IORegistryEntryCreateCFProperty(edu_pci, CFSTR("IOPCIExpressCapabilities"), kCFAllocatorDefault, 0));
	assert_int_equal(data_u32(edu_pci, CFSTR("subsystem-vendor-id")), EDU_SUBSYS_VENDOR_ID);
	IOObjectRelease(edu_pci);
	IOObjectRelease(edu);
	/* Up the service plane: bridge, root port, host bridge, then the top. */
	while (IORegistryEntryGetParentEntry(e, kIOServicePlane, &p) == kIOReturnSuccess) {
		pci += IOObjectConformsTo(p, "IOPCIDevice");
		IOObjectRelease(e);
		e = p;
		depth++;
	}
	assert_int_equal(depth, 3);
	assert_int_equal(pci, 1); /* the root port */
	assert_true(IOObjectConformsTo(e, "IOPCIBridge"));
	assert_int_equal(IORegistryEntryGetRegistryEntryID(e, &id), kIOReturnSuccess);
	IOObjectRelease(e);
	IOObjectRelease(s);
}

static pthread_mutex_t msg_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t msg_cond = PTHREAD_COND_INITIALIZER;
static uint32_t msg_got;

static void interest_cb(void *refcon, io_service_t service, uint32_t type, void *arg)
{
	(void)refcon;
	(void)service;
	(void)arg;
	pthread_mutex_lock(&msg_lock);
	msg_got = type;
	pthread_cond_broadcast(&msg_cond);
	pthread_mutex_unlock(&msg_lock);
}

static void wait_cb(void *refcon, IOReturn result, void **args, uint32_t n)
{
	(void)result;
	(void)args;
	(void)n;
	__atomic_store_n((int *)refcon, 1, __ATOMIC_SEQ_CST);
}

/*
 * Termination (xnu IOUserServer.cpp: the user clients' Stop runs, calls
 * into an inactive service answer kIOReturnOffline; IOKitLib.c
 * IOServiceAddInterestNotification delivers kIOMessageServiceIsTerminated);
 * the dext's Stop releases its DMA and drops the armed WaitInterrupt
 * without completing it (VFIOUserPCIDriver.cpp).
 */
static void test_termination(void **state)
{
	static uint8_t page[2 * 16384] __attribute__((aligned(16384)));
	IONotificationPortRef port = IONotificationPortCreate(kIOMainPortDefault);
	dispatch_queue_t q = dispatch_queue_create("test", DISPATCH_QUEUE_SERIAL);
	io_service_t s = service_of(TD);
	io_connect_t c = IO_OBJECT_NULL, again = IO_OBJECT_NULL;
	io_object_t note = IO_OBJECT_NULL;
	struct iokit_shim_dart di;
	uint64_t in[1] = {0}, out[1], bus, len, size = 0;
	uint32_t nout = 1;
	unsigned n;
	int completed = 0;
	void *addr = NULL;

	(void)state;
	IONotificationPortSetDispatchQueue(port, q);
	assert_int_equal(IOServiceOpen(s, mach_task_self(), DEXT_CLIENT_TYPE, &c), kIOReturnSuccess);
	assert_int_equal(IOServiceAddInterestNotification(port, s, kIOGeneralInterest, interest_cb, NULL, &note),
			 kIOReturnSuccess);
	assert_int_equal(dext_claim(c), 0);
	assert_int_equal(dext_register_dma(c, 0x1000, (uint64_t)(uintptr_t)page, 16384, &bus, &len), 0);
	assert_int_equal(dext_setup_interrupts(c, &n), 0);
	assert_int_equal(dext_map(c, DEXT_MEM_BAR(TESTDEV_BAR_MEM), kIOMapAnywhere, &addr, &size), 0);
	assert_int_equal(dext_wait_interrupt(c, IONotificationPortGetMachPort(port), wait_cb, &completed), 0);
	assert_int_equal(iokit_shim_unplug(TD, kIOReturnOffline), 0);
	pthread_mutex_lock(&msg_lock);
	while (msg_got != kIOMessageServiceIsTerminated)
		pthread_cond_wait(&msg_cond, &msg_lock);
	pthread_mutex_unlock(&msg_lock);
	assert_int_equal(IOConnectCallScalarMethod(c, DEXT_SEL_CONFIG_READ, in, 1, out, &nout), kIOReturnOffline);
	assert_int_equal(dext_map(c, DEXT_MEM_BAR(TESTDEV_BAR_MEM), kIOMapAnywhere, &addr, &size), -EINVAL);
	assert_int_equal(IOConnectUnmapMemory64(c, DEXT_MEM_BAR(TESTDEV_BAR_MEM), mach_task_self(),
						(mach_vm_address_t)(uintptr_t)addr),
			 kIOReturnOffline); /* stays mapped until the connection closes */
	assert_int_equal(iokit_shim_dart_info(TD, &di), 0);
	assert_true(di.mapped == 0 && di.mappings == 0);
	assert_int_equal(IOServiceOpen(s, mach_task_self(), DEXT_CLIENT_TYPE, &again), kIOReturnNotAttached);
	assert_int_equal(iokit_shim_opens(TD), 1);
	IOServiceClose(c);
	IOObjectRelease(note);
	IONotificationPortDestroy(port);
	dispatch_release(q);
	assert_int_equal(__atomic_load_n(&completed, __ATOMIC_SEQ_CST), 0);
	IOObjectRelease(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unopened_device_reads_all_ones, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_bar_map_needs_an_open_device, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_failed_map_is_bad_argument, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_client_read_only_is_dropped, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_interrupts_are_per_client, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_close_turns_off_bus_mastering, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_register_ignores_a_fourth_input, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_registry, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_termination, shim_setup, shim_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * The IOKit shim behaves as macOS does, where macOS is less kind than a
 * simulation would be. Each case names the Apple source it follows; each
 * failed against the shim before issue 13. Raw IOKit calls, no upci
 * handle: this is about the platform, not the backend.
 */
#include <stdio.h>
#include <sys/mman.h>

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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

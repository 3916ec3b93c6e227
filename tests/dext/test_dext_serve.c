/* SPDX-License-Identifier: MIT */
/*
 * `upci serve dext:...` under the IOKit shim: the vfio-user server, driven
 * with raw messages over the in-memory transport, on the shim's dext
 * devices (00:01.0 edu with MSI, 00:02.0 testdev with PCIe and MSI-X).
 *
 * Every config write goes through the server (VERSION first, then
 * REGION_WRITE/REGION_READ on region 7); what reached the device is read
 * from the driver model's PCI device itself (iokit_shim_simdev), not
 * through the dext. The macOS QEMU series' filter, as dext_serve.c
 * documents it:
 *   - BAR registers, the MSI capability, PCIe DevCtl/DevCtl2: not
 *     forwarded; the write succeeds and the client reads back its value
 *     (emulated); DevCtl's Initiate FLR resets the function instead;
 *   - STATUS alone: not forwarded, the write succeeds, reads show the
 *     device's value (dropped);
 *   - COMMAND: forwarded (bus master appears on the device).
 * The server picks that policy by itself for a dext device (no policy in
 * vfu_server_opts), as `upci serve` relies on.
 *
 * DMA_MAP: the DART picks bus addresses that are not the IOVAs. A client
 * that negotiated x-upci-dma-bus-addr gets the map registered and the bus
 * address in the reply; any other client is refused with ENOTSUP and
 * nothing stays registered in the driver model (see docs/macos.md,
 * "Serving a Mac's device to a VMM").
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <poll.h>
#include <sys/eventfd.h>

#include "pci_regs.h"
#include "proto.h"
#include "srv_priv.h"
#include "test_dext_util.h"
#include "test_vfu_srv_util.h"

#define EDU 0, 1, 0
#define TD 0, 2, 0
#define CFG VFU_PCI_CONFIG_REGION_INDEX

static uint32_t raw_rd(upci_dev *sim, uint32_t off, unsigned width)
{
	uint32_t v = 0;

	assert_int_equal(upci_config_read(sim, off, width, &v), 0);
	return v;
}

/* What the client reads through the server. */
static uint32_t srv_rd(struct srv_fx *fx, uint32_t off, unsigned width)
{
	uint8_t b[4] = {0};
	uint32_t v = 0;

	assert_int_equal(fx_region_read(fx, CFG, off, b, width), 0);
	for (unsigned i = 0; i < width; i++)
		v |= (uint32_t)b[i] << (8 * i);
	return v;
}

static int srv_wr(struct srv_fx *fx, uint32_t off, unsigned width, uint32_t val)
{
	uint8_t b[4];

	for (unsigned i = 0; i < width; i++)
		b[i] = (uint8_t)(val >> (8 * i));
	return fx_region_write(fx, CFG, off, b, width);
}

/* A host-owned register the server emulates: the write succeeds, the
 * device keeps its value, the client reads back what it wrote. */
static void check_emulated(struct srv_fx *fx, upci_dev *sim, uint32_t off, unsigned width, uint32_t val)
{
	uint32_t before = raw_rd(sim, off, width);

	assert_int_not_equal(val, before); /* else the check proves nothing */
	assert_int_equal(srv_wr(fx, off, width, val), 0);
	assert_int_equal(raw_rd(sim, off, width), before);
	assert_int_equal(srv_rd(fx, off, width), val);
}

static void open_served(struct srv_fx *fx, const char *uri)
{
	fx_open(fx, uri, NULL); /* no policy: the server chooses */
	fx_negotiate(fx);
}

static void test_bars_emulated(void **state)
{
	struct srv_fx fx;
	const char *uris[] = {EDU_URI, TD_URI};
	upci_dev *sims[] = {iokit_shim_simdev(EDU), iokit_shim_simdev(TD)};

	(void)state;
	for (unsigned d = 0; d < 2; d++) {
		open_served(&fx, uris[d]);
		for (uint32_t off = PCI_BASE_ADDRESS_0; off <= PCI_BASE_ADDRESS_5; off += 4)
			check_emulated(&fx, sims[d], off, 4, 0xfedcb000u | off);
		/* A byte inside a BAR register too. */
		check_emulated(&fx, sims[d], PCI_BASE_ADDRESS_0 + 3, 1, 0xa5);
		fx_close(&fx);
	}
}

static void test_status_dropped(void **state)
{
	struct srv_fx fx;
	upci_dev *sim = iokit_shim_simdev(TD);
	uint32_t before;

	(void)state;
	open_served(&fx, TD_URI);
	before = raw_rd(sim, PCI_STATUS, 2);
	assert_int_equal(srv_wr(&fx, PCI_STATUS, 2, 0xffff), 0);
	assert_int_equal(raw_rd(sim, PCI_STATUS, 2), before);
	assert_int_equal(srv_rd(&fx, PCI_STATUS, 2), before); /* not shadowed */
	assert_int_equal(srv_wr(&fx, PCI_STATUS + 1, 1, 0xff), 0);
	assert_int_equal(raw_rd(sim, PCI_STATUS, 2), before);
	assert_int_equal(srv_rd(&fx, PCI_STATUS, 2), before);
	fx_close(&fx);
}

static void test_command_forwarded(void **state)
{
	struct srv_fx fx;
	upci_dev *sim = iokit_shim_simdev(TD);
	uint32_t status, cmd;

	(void)state;
	open_served(&fx, TD_URI);
	/* The platform's claim leaves bus master on: clear it, then set it. */
	cmd = raw_rd(sim, PCI_COMMAND, 2);
	assert_int_equal(srv_wr(&fx, PCI_COMMAND, 2, cmd & ~(uint32_t)PCI_COMMAND_MASTER), 0);
	assert_int_equal(raw_rd(sim, PCI_COMMAND, 2) & PCI_COMMAND_MASTER, 0);
	assert_int_equal(srv_rd(&fx, PCI_COMMAND, 2) & PCI_COMMAND_MASTER, 0);
	assert_int_equal(srv_wr(&fx, PCI_COMMAND, 2, cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER), 0);
	assert_int_equal(raw_rd(sim, PCI_COMMAND, 2) & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER),
			 PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	assert_int_equal(srv_rd(&fx, PCI_COMMAND, 2), raw_rd(sim, PCI_COMMAND, 2));
	/* COMMAND and STATUS as one dword: COMMAND reaches the device, the
	 * backend keeps STATUS from it. */
	status = raw_rd(sim, PCI_STATUS, 2);
	assert_int_equal(srv_wr(&fx, PCI_COMMAND, 4, 0xffff0000u | PCI_COMMAND_MEMORY), 0);
	assert_int_equal(raw_rd(sim, PCI_COMMAND, 2) & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER), PCI_COMMAND_MEMORY);
	assert_int_equal(raw_rd(sim, PCI_STATUS, 2), status);
	fx_close(&fx);
}

/* edu: 64-bit MSI without per-vector masking. */
static void test_msi_emulated(void **state)
{
	struct srv_fx fx;
	upci_dev *sim = iokit_shim_simdev(EDU);
	uint32_t msi, flags;
	struct dext_policy p;

	(void)state;
	open_served(&fx, EDU_URI);
	assert_int_equal(dext_policy_of(fx.dev, &p), 1);
	msi = p.msi;
	assert_int_not_equal(msi, 0);
	assert_int_equal(raw_rd(sim, msi, 1), PCI_CAP_ID_MSI);
	flags = raw_rd(sim, msi + PCI_MSI_FLAGS, 2);
	assert_true(flags & PCI_MSI_FLAGS_64BIT);
	check_emulated(&fx, sim, msi + PCI_MSI_FLAGS, 2, flags ^ PCI_MSI_FLAGS_ENABLE);
	check_emulated(&fx, sim, msi + PCI_MSI_ADDRESS_LO, 4, 0xfee01000u);
	check_emulated(&fx, sim, msi + PCI_MSI_ADDRESS_HI, 4, 0x12345678u);
	check_emulated(&fx, sim, msi + PCI_MSI_DATA_64, 2, 0x4321);
	fx_close(&fx);
}

static void test_devctl_emulated(void **state)
{
	struct srv_fx fx;
	upci_dev *sim = iokit_shim_simdev(TD);
	uint32_t exp, devctl, devctl2;
	struct dext_policy p;

	(void)state;
	open_served(&fx, TD_URI);
	assert_int_equal(dext_policy_of(fx.dev, &p), 1);
	exp = p.exp;
	assert_int_not_equal(exp, 0);
	assert_int_equal(raw_rd(sim, exp, 1), PCI_CAP_ID_EXP);
	devctl = raw_rd(sim, exp + PCI_EXP_DEVCTL, 2);
	devctl2 = raw_rd(sim, exp + PCI_EXP_DEVCTL2, 2);
	/* MPS/MRRS changes under live DMA mappings: never reach the device. */
	check_emulated(&fx, sim, exp + PCI_EXP_DEVCTL, 2, devctl ^ (PCI_EXP_DEVCTL_PAYLOAD | PCI_EXP_DEVCTL_READRQ));
	check_emulated(&fx, sim, exp + PCI_EXP_DEVCTL2, 2, devctl2 ^ 0x001f);
	/* DevCtl with DevSta as one dword: DevSta forwarded, DevCtl not. */
	assert_int_equal(srv_wr(&fx, exp + PCI_EXP_DEVCTL, 4, 0x00000000u), 0);
	assert_int_equal(raw_rd(sim, exp + PCI_EXP_DEVCTL, 2), devctl);
	/* Initiate FLR: ResetDevice, and the rest of the value is emulated. */
	assert_int_equal(srv_wr(&fx, exp + PCI_EXP_DEVCTL, 2, PCI_EXP_DEVCTL_BCR_FLR | PCI_EXP_DEVCTL_RELAX_EN), 0);
	assert_non_null(iokit_shim_last_reset(TD));
	assert_string_equal(iokit_shim_last_reset(TD), "flr");
	assert_int_equal(srv_rd(&fx, exp + PCI_EXP_DEVCTL, 2), PCI_EXP_DEVCTL_RELAX_EN);
	assert_int_equal(raw_rd(sim, exp + PCI_EXP_DEVCTL, 2), devctl);
	fx_close(&fx);
}

/* The selection is the server's: an explicit forward policy on the same
 * device shows the difference (the backend still protects the device,
 * but nothing is emulated), and a sim device served in this build is
 * not touched by the dext policy. */
static void test_policy_selection(void **state)
{
	struct vfu_server_opts o;
	struct srv_fx fx;
	upci_dev *sim = iokit_shim_simdev(TD);
	uint32_t bar0 = raw_rd(sim, PCI_BASE_ADDRESS_0, 4);

	(void)state;
	vfu_server_opts_default(&o);
	o.policy = &vfu_cfg_policy_forward;
	fx_open(&fx, TD_URI, &o);
	fx_negotiate(&fx);
	assert_int_equal(srv_wr(&fx, PCI_BASE_ADDRESS_0, 4, 0xfedcb000u), 0);
	assert_int_equal(raw_rd(sim, PCI_BASE_ADDRESS_0, 4), bar0);
	assert_int_not_equal(srv_rd(&fx, PCI_BASE_ADDRESS_0, 4), 0xfedcb000u);
	fx_close(&fx);

	/* A sim: device: the default still forwards everything (STATUS is
	 * write-1-to-clear there, the BAR takes the sizing pattern). */
	fx_open(&fx, "sim:testdev", NULL);
	fx_negotiate(&fx);
	assert_int_equal(srv_wr(&fx, PCI_BASE_ADDRESS_0, 4, 0xffffffffu), 0);
	assert_int_not_equal(srv_rd(&fx, PCI_BASE_ADDRESS_0, 4), 0xffffffffu);
	assert_int_equal(raw_rd(fx.dev, PCI_BASE_ADDRESS_0, 4), srv_rd(&fx, PCI_BASE_ADDRESS_0, 4));
	fx_close(&fx);
}

/* Mappings of test_memfd()'s memory in this process. */
static int memfd_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "memfd:vfu-srv-test"))
			n++;
	fclose(f);
	return n;
}

static void expect_nothing_registered(uint8_t bus, uint8_t dev, uint8_t fn)
{
	struct iokit_shim_dart dart;

	assert_int_equal(iokit_shim_dma_regions(bus, dev, fn), 0);
	assert_int_equal(iokit_shim_dart_info(bus, dev, fn, &dart), 0);
	assert_int_equal(dart.mappings, 0);
	assert_int_equal(dart.mapped, 0);
}

/*
 * DMA_MAP: the DART picks the bus address, the guest programs the IOVA
 * (its physical address). The server refuses the map (ENOTSUP) and leaves
 * nothing in the DART, in the driver's region table or in its own table.
 */
static void test_dma_map_refused(void **state)
{
	const uint64_t iova = 0x100000, size = 0x10000;
	const uint32_t rw = VFU_DMA_MAP_F_READ | VFU_DMA_MAP_F_WRITE;
	struct srv_fx fx;
	uint64_t bus = 0;
	void *va;
	int fd;

	(void)state;
	fd = test_memfd(size);
	open_served(&fx, TD_URI);
	expect_nothing_registered(TD);

	/* Why: the backend's bus address for this IOVA is somewhere else. */
	va = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(va != MAP_FAILED);
	assert_int_equal(upci_dma_map(fx.dev, iova, va, size, UPCI_DMA_RW, &bus), 0);
	assert_int_not_equal(bus, iova);
	assert_int_equal(iokit_shim_dma_regions(TD), 1);
	assert_int_equal(upci_dma_unmap(fx.dev, iova), 0);
	assert_int_equal(munmap(va, size), 0);
	expect_nothing_registered(TD);

	assert_int_equal(memfd_maps(), 0);
	assert_int_equal(fx_dma_map(&fx, iova, size, 0, rw, fd), -ENOTSUP);
	expect_nothing_registered(TD);
	assert_int_equal(memfd_maps(), 0); /* the server's mmap is gone */
	/* Nothing kept by the server either: the same IOVA is refused the same
	 * way (not EEXIST), and unmapping it has nothing to do (an unmap of
	 * a range with no mapping inside succeeds, as VFIO type1's). */
	assert_int_equal(fx_dma_map(&fx, iova, size, 0, rw, fd), -ENOTSUP);
	assert_int_equal(fx_dma_unmap(&fx, iova, size, 0), 0);
	expect_nothing_registered(TD);
	/* Without an fd (in-band DMA): the dext backend has no such path. */
	assert_int_equal(fx_dma_map(&fx, iova, size, 0, rw, -1), -ENOTSUP);
	expect_nothing_registered(TD);
	/* The session goes on. */
	assert_int_equal(srv_rd(&fx, PCI_VENDOR_ID, 2), raw_rd(iokit_shim_simdev(TD), PCI_VENDOR_ID, 2));
	fx_close(&fx);
	expect_nothing_registered(TD);
	close(fd);
}

/*
 * DMA_MAP with x-upci-dma-bus-addr: the client's memory is registered with
 * the driver (one region, one DART mapping), the reply carries the bus
 * address the DART chose (not the IOVA), and the device reaches the
 * client's memory there. DMA_UNMAP and a disconnect release it all.
 */
static void test_dma_map_bus_addr(void **state)
{
	const uint64_t iova = 0x100000, size = 0x10000;
	const uint32_t rw = VFU_DMA_MAP_F_READ | VFU_DMA_MAP_F_WRITE;
	struct vfu_dma_map m = {.argsz = sizeof(m), .flags = rw, .offset = 0, .addr = iova, .size = size};
	struct vfu_dma_map_bus b;
	struct iokit_shim_dart dart;
	struct srv_fx fx;
	struct vfu_msg rep;
	uint8_t *va;
	uint32_t got = 0;
	int fd;

	(void)state;
	fd = test_memfd(size);
	va = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(va != MAP_FAILED);
	fx_open(&fx, EDU_URI, NULL);
	assert_int_equal(fx_version(&fx, "{\"capabilities\":{\"max_msg_fds\":8,\"x-upci-dma-bus-addr\":true}}",
				    &rep), 0);
	assert_non_null(strstr((const char *)rep.payload + sizeof(struct vfu_version), "\"x-upci-dma-bus-addr\":true"));
	vfu_msg_release(&rep);

	assert_int_equal(fx_call(&fx, VFU_CMD_DMA_MAP, &m, sizeof(m), &fd, 1, &rep), 0);
	assert_int_equal(rep.len, sizeof(b));
	memcpy(&b, rep.payload, sizeof(b));
	vfu_msg_release(&rep);
	assert_int_not_equal(b.bus_addr, iova);
	assert_int_equal(iokit_shim_dma_regions(EDU), 1);
	assert_int_equal(iokit_shim_dart_info(EDU, &dart), 0);
	assert_true(dart.mapped >= size);

	/* edu copies 4 bytes from the bus address into its buffer and back
	 * to another place: both DMAs reach the client's memory. */
	assert_int_equal(srv_wr(&fx, PCI_COMMAND, 2, srv_rd(&fx, PCI_COMMAND, 2) | PCI_COMMAND_MASTER), 0);
	memcpy(va + 0x40, "\x11\x22\x33\x44", 4);
	fx_wr64(&fx, 0, 0x80, b.bus_addr + 0x40); /* src */
	fx_wr64(&fx, 0, 0x88, 0x40000);           /* dst: edu's buffer */
	fx_wr64(&fx, 0, 0x90, 4);                 /* count */
	fx_wr64(&fx, 0, 0x98, 1);                 /* start, RAM -> device */
	fx_wr64(&fx, 0, 0x80, 0x40000);
	fx_wr64(&fx, 0, 0x88, b.bus_addr + 0x80);
	fx_wr64(&fx, 0, 0x98, 3);                 /* start, device -> RAM */
	assert_int_equal(fx_region_read(&fx, 0, 0xa4, &got, 4), 0);
	assert_int_equal(got, 0); /* no DMA error */
	assert_memory_equal(va + 0x80, "\x11\x22\x33\x44", 4);

	/* The IOVA itself is not mapped for the device. */
	assert_int_equal(fx_dma_unmap(&fx, iova, size, 0), 0);
	expect_nothing_registered(EDU);
	srv_dma_sweep(fx.ss, true); /* the file's mmap outlives its last map a while */
	assert_int_equal(memfd_maps(), 1); /* ours only */

	/* A disconnect drops a live mapping. */
	assert_int_equal(fx_call(&fx, VFU_CMD_DMA_MAP, &m, sizeof(m), &fd, 1, NULL), 0);
	assert_int_equal(iokit_shim_dma_regions(EDU), 1);
	fx_close(&fx);
	expect_nothing_registered(EDU);
	assert_int_equal(munmap(va, size), 0);
	assert_int_equal(memfd_maps(), 0);
	close(fd);
}

/*
 * The device goes away (Thunderbolt unplug) while a client has interrupts
 * set up: the irq fd stays readable for good, so the watcher must stop
 * polling it after one relay finds the device gone, not spin on it.
 */
static void test_unplug_stops_irq_polling(void **state)
{
	struct srv_fx fx;
	struct pollfd p;
	bool has_fds;
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), fd;

	(void)state;
	assert_true(efd >= 0);
	open_served(&fx, TD_URI);
	assert_int_equal(fx_set_irqs(&fx, VFU_IRQ_SET_DATA_EVENTFD | VFU_IRQ_SET_ACTION_TRIGGER,
				     VFU_PCI_MSIX_IRQ_INDEX, 0, 1, NULL, 0, &efd, 1), 0);
	assert_true(srv_irq_pollfd(fx.ss, &has_fds) >= 0);
	assert_int_equal(iokit_shim_unplug(TD, kIOReturnOffline), 0);
	fd = srv_irq_pollfd(fx.ss, &has_fds);
	assert_true(fd >= 0);
	p = (struct pollfd){.fd = fd, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 1000), 1); /* readable: the device is gone */
	srv_irq_relay(fx.ss);
	assert_int_equal(srv_irq_pollfd(fx.ss, &has_fds), -1); /* not polled again */
	fx_close(&fx);
	close(efd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bars_emulated, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_status_dropped, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_command_forwarded, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_msi_emulated, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_devctl_emulated, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_policy_selection, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_dma_map_refused, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_dma_map_bus_addr, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_unplug_stops_irq_polling, shim_setup, shim_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

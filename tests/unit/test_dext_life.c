/* SPDX-License-Identifier: MIT */
/*
 * A dext device's life as macOS gives it: found in the registry without
 * opening other instances; identity before the claim; what only the claim
 * reveals; another client of the driver (another process: QEMU, a second
 * upci) before or after us; removal in the middle of a wait, announced or
 * learnt from a call; and close freeing everything afterwards (the
 * teardown fails on any IOKit object left).
 */
#include <poll.h>
#include <pthread.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <mach/mig_errors.h>

#include "edu_regs.h"
#include "pci_regs.h"
#include "testdev_regs.h"
#include "test_dext_util.h"

#define EDU 0, 1, 0
#define TD 0, 2, 0

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Identity and BARs from the registry; only the instance asked for is
 * opened (each user client costs the dext ~323 MiB); config space, the
 * vector counts and mappability come with the claim. */
static void test_open_reads_the_registry(void **state)
{
	struct upci_identity id;
	struct upci_bar_info bi;
	upci_dev *d = NULL;
	uint32_t v = 0;

	(void)state;
	assert_int_equal(upci_open(&d, TD_URI), 0);
	assert_int_equal(iokit_shim_opens(EDU), 0); /* listed first, never opened */
	assert_int_equal(iokit_shim_opens(TD), 1);
	assert_int_equal(upci_identity(d, &id), 0);
	assert_true(id.vendor_id == TESTDEV_VENDOR_ID && id.device_id == TESTDEV_DEVICE_ID);
	assert_true(id.subsys_vendor_id == TESTDEV_SUBSYS_VENDOR_ID && id.subsys_id == TESTDEV_SUBSYS_ID);
	assert_true(id.revision == TESTDEV_REVISION && id.class_code == TESTDEV_CLASS_CODE);
	assert_int_equal(id.config_size, 4096); /* IOPCIExpressCapabilities */
	assert_true(id.bus == 0 && id.device == 2 && id.function == 0);
	assert_int_equal(upci_bar_info(d, TESTDEV_BAR_MEM, &bi), 0);
	assert_true(bi.flags & UPCI_BAR_MAPPABLE);
	assert_int_equal(upci_config_read(d, PCI_VENDOR_ID, 2, &v), -EPERM); /* nobody opened it */
	assert_int_equal(upci_config_read_block(d, 0, &v, 4), -EPERM);
	assert_int_equal(upci_irq_count(d, UPCI_IRQ_MSIX), 0); /* not known yet */
	assert_int_equal(upci_claim(d), 0);
	assert_int_equal(upci_config_read(d, PCI_VENDOR_ID, 2, &v), 0);
	assert_int_equal(v, TESTDEV_VENDOR_ID);
	assert_int_equal(upci_irq_count(d, UPCI_IRQ_MSIX), 256);
	upci_close(d);
	assert_int_equal(iokit_shim_opens(TD), 1);
}

/* Two functions at 00:01.0 under different PCIe roots: the URI cannot say
 * which, so neither is opened. */
static void test_same_bdf_under_two_roots(void **state)
{
	upci_dev *d = NULL;

	(void)state;
	assert_int_equal(iokit_shim_configure("0/00:01.0=sim:testdev?vectors=8;1/00:01.0=sim:testdev?vectors=16;"
					       "1/00:02.0=sim:edu"),
			 0);
	assert_int_equal(upci_open(&d, EDU_URI), -ENXIO);
	assert_int_equal(iokit_shim_opens(EDU), 0);
	assert_int_equal(upci_open(&d, TD_URI), 0); /* unique: fine */
	upci_close(d);
}

struct waiter {
	upci_dev *d;
	int rc;
	int64_t ms;
};

/* A thread asleep in upci_irq_wait. */
static void *wait_main(void *arg)
{
	struct waiter *w = arg;
	uint64_t p[UPCI_IRQ_WORDS];
	int64_t t0 = now_ms();

	w->rc = upci_irq_wait(w->d, 10000, p);
	w->ms = now_ms() - t0;
	return NULL;
}

/* An event loop asleep on the fd: woken, then told by take. */
static void *poll_main(void *arg)
{
	struct waiter *w = arg;
	struct pollfd pfd = {.fd = upci_irq_fd(w->d), .events = POLLIN};
	uint64_t p[UPCI_IRQ_WORDS];
	int64_t t0 = now_ms();

	w->rc = poll(&pfd, 1, 10000);
	w->ms = now_ms() - t0;
	if (w->rc == 1)
		w->rc = upci_irq_take_pending(w->d, p);
	return NULL;
}

/* Everything set up, a thread asleep in upci_irq_wait, and the device goes
 * away (@kr: what calls get from then on). */
static void removal(const char *uri, uint8_t dev, unsigned faults, kern_return_t kr)
{
	struct iokit_shim_dart di;
	struct upci_dma_buf buf;
	struct waiter w = {0}, l = {0};
	uint64_t p[UPCI_IRQ_WORDS], v = 0, bus = 0, len = 0;
	pthread_t t, tl;
	upci_dev *d = NULL, *again = NULL;
	void *addr = NULL, *mem;
	uint32_t cfg = 0;

	iokit_shim_set_faults(faults);
	mem = mmap(NULL, 16384, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(mem != MAP_FAILED);
	assert_int_equal(upci_open(&d, uri), 0);
	assert_int_equal(upci_claim(d), 0);
	assert_true(upci_irq_enable(d, UPCI_IRQ_AUTO, 0) >= 1);
	assert_int_equal(upci_dma_alloc(d, UPCI_IOVA_ANY, 4096, &buf), 0);
	if (dev == 2)
		assert_int_equal(upci_bar_map(d, TESTDEV_BAR_MEM, &addr, &len), 0);
	w.d = l.d = d;
	assert_int_equal(pthread_create(&t, NULL, wait_main, &w), 0);
	assert_int_equal(pthread_create(&tl, NULL, poll_main, &l), 0);
	usleep(50000); /* both asleep by now, most likely */
	assert_int_equal(iokit_shim_unplug(0, dev, 0, kr), 0);
	if (faults & IOKIT_SHIM_QUIET_TERMINATION) /* nobody says so: the next call learns it */
		assert_int_equal(upci_mmio_read(d, 0, 0, 4, &v), -ENODEV);
	pthread_join(t, NULL);
	pthread_join(tl, NULL);
	assert_int_equal(w.rc, -ENODEV);
	assert_true(w.ms < 5000);
	assert_int_equal(l.rc, -ENODEV);
	assert_true(l.ms < 5000);
	/* The driver's Stop released its DMA: nothing stays in the DART. */
	assert_int_equal(iokit_shim_dart_info(0, dev, 0, &di), 0);
	assert_true(di.mapped == 0 && di.mappings == 0);
	/* Every later call says so, at once. */
	assert_int_equal(upci_irq_wait(d, 5000, p), -ENODEV);
	assert_int_equal(upci_irq_take_pending(d, p), -ENODEV);
	assert_int_equal(upci_config_read(d, PCI_VENDOR_ID, 2, &cfg), -ENODEV);
	assert_int_equal(upci_config_write(d, PCI_INTERRUPT_LINE, 1, 0), -ENODEV);
	assert_int_equal(upci_mmio_read(d, 0, 0, 4, &v), -ENODEV);
	assert_int_equal(upci_mmio_write(d, 0, 0, 4, 0), -ENODEV);
	assert_int_equal(upci_dma_map(d, 0x8000000, mem, 16384, UPCI_DMA_RW, &bus), -ENODEV);
	assert_int_equal(upci_irq_enable(d, UPCI_IRQ_AUTO, 0), -ENODEV);
	assert_int_equal(upci_reset(d), -ENODEV);
	/* Gone from the registry; its handle still closes cleanly, and with
	 * it the connection, mappings included (shim_teardown checks). */
	assert_int_equal(upci_open(&again, uri), -ENOENT);
	assert_int_equal(upci_dma_free(d, &buf), 0);
	upci_close(d);
	assert_int_equal(iokit_shim_connections(), 0);
	munmap(mem, 16384);
}

static void test_unplug_mid_wait_edu(void **state)
{
	(void)state;
	removal(EDU_URI, 1, 0, kIOReturnOffline);
}

static void test_unplug_mid_wait_testdev(void **state)
{
	(void)state;
	removal(TD_URI, 2, 0, kIOReturnOffline);
}

/* The dext crashed: calls say MIG_SERVER_DIED, and no notice came first. */
static void test_dext_died_learnt_from_a_call(void **state)
{
	(void)state;
	removal(TD_URI, 2, IOKIT_SHIM_QUIET_TERMINATION, MIG_SERVER_DIED);
}

/* Unplugged with nothing set up, then opened again by a second handle of
 * the same process before the first closes: both fail cleanly. */
static void test_unplug_idle_handle(void **state)
{
	upci_dev *a = NULL, *b = NULL;
	struct upci_identity id;
	uint64_t p[UPCI_IRQ_WORDS];

	(void)state;
	assert_int_equal(upci_open(&a, EDU_URI), 0);
	assert_int_equal(iokit_shim_unplug(EDU, kIOReturnOffline), 0);
	assert_int_equal(upci_irq_wait(a, 5000, p), -ENODEV); /* woken by the notice */
	assert_int_equal(upci_claim(a), -ENODEV);
	assert_int_equal(upci_identity(a, &id), 0); /* what it was stays known */
	assert_int_equal(upci_open(&b, EDU_URI), -ENOENT);
	upci_close(a);
}

/* Another client of the driver (another process) claimed first and holds
 * the interrupts: upci reads the open device before its own claim, claims
 * as a second claimant, cannot have the interrupts, and loses config
 * access when the opener closes the device under it. */
static void test_other_client_first(void **state)
{
	io_connect_t other = raw_open(TD);
	upci_dev *d = NULL;
	unsigned n = 0;
	uint32_t v = 0;
	uint64_t m = 0;

	(void)state;
	assert_int_equal(dext_claim(other), 0);
	assert_int_equal(dext_setup_interrupts(other, &n), 0);
	assert_int_equal(upci_open(&d, TD_URI), 0);
	assert_int_equal(upci_config_read(d, PCI_VENDOR_ID, 2, &v), 0); /* open: readable */
	assert_int_equal(v, TESTDEV_VENDOR_ID);
	assert_int_equal(upci_irq_count(d, UPCI_IRQ_MSIX), 256);
	assert_int_equal(upci_claim(d), 0);
	assert_int_equal(upci_irq_enable(d, UPCI_IRQ_MSIX, 0), -EBUSY);
	assert_int_equal(upci_mmio_read(d, 0, TESTDEV_REG_ID, 4, &m), 0);
	assert_int_equal(m, TESTDEV_ID_VALUE);
	IOServiceClose(other); /* the opener: the device closes */
	assert_int_equal(upci_config_read(d, PCI_VENDOR_ID, 2, &v), -EIO);
	upci_close(d);
}

/* upci claimed first and holds the interrupts; another client comes: it
 * cannot have them, and upci's keep arriving. */
static void test_other_client_later(void **state)
{
	uint64_t p[UPCI_IRQ_WORDS];
	io_connect_t other;
	upci_dev *d = NULL;
	struct dext_identity id;
	unsigned n = 0;

	(void)state;
	assert_int_equal(upci_open(&d, TD_URI), 0);
	assert_int_equal(upci_claim(d), 0);
	assert_int_equal(upci_irq_enable(d, UPCI_IRQ_MSIX, 0), 256);
	other = raw_open(TD);
	assert_int_equal(dext_get_identity(other, &id), 0);
	assert_int_equal(id.vendor, TESTDEV_VENDOR_ID); /* upci opened the device for it */
	assert_int_equal(dext_setup_interrupts(other, &n), -ENOENT);
	assert_int_equal(iokit_shim_fire(TD, 200), 0);
	assert_int_equal(upci_irq_wait(d, 2000, p), 1);
	assert_true(p[3] == UINT64_C(1) << (200 - 192));
	IOServiceClose(other);
	upci_close(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_reads_the_registry, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_same_bdf_under_two_roots, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_unplug_mid_wait_edu, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_unplug_mid_wait_testdev, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_dext_died_learnt_from_a_call, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_unplug_idle_handle, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_other_client_first, shim_setup, shim_teardown),
		cmocka_unit_test_setup_teardown(test_other_client_later, shim_setup, shim_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

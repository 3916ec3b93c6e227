/* SPDX-License-Identifier: MIT */
/*
 * vfio_api vfio:BDF: what the conformance suite cannot check because it is
 * specific to the Linux VFIO backend, run in a guest on QEMU's edu:
 *   - a second open of the device fails with -EBUSY (VFIO's exclusivity);
 *   - UPCI_VFIO_PATH: a bad value is -EINVAL; "iommufd" works where the
 *     kernel has /dev/iommu and VFIO cdevs, else -ENOTSUP; "group" works;
 *     where both work, a device held through one path cannot be opened
 *     through the other (-EBUSY: the kernel blocks the group while a cdev
 *     is open, and the cdev while the group is);
 *   - DMA respects the IOVA ranges the kernel reports: the x86 MSI window
 *     (0xfee00000) and addresses beyond the IOMMU's width are refused with
 *     -ERANGE before the kernel is asked; elsewhere bus address == IOVA;
 *   - INTx through an event loop (poll the fd, take, ack; never
 *     upci_irq_wait): the line is re-armed by the take, three times over.
 * Expected values: docs/linux-vfio.md and include/upci/upci.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "edu_regs.h"
#include "upci/upci.h"

static int failed;

#define EXPECT(cond, ...)                                                                                \
	do {                                                                                             \
		if (cond) {                                                                              \
			printf("ok - ");                                                                 \
		} else {                                                                                 \
			printf("FAIL - ");                                                               \
			failed = 1;                                                                      \
		}                                                                                        \
		printf(__VA_ARGS__);                                                                     \
		printf("\n");                                                                            \
	} while (0)

static void test_exclusive(const char *uri)
{
	upci_dev *a = NULL, *b = NULL;
	int rc = upci_open(&a, uri);

	EXPECT(rc == 0, "open %s: %s", uri, upci_strerror(rc));
	rc = upci_open(&b, uri);
	EXPECT(rc == -EBUSY, "second open while the first is held: %s (want -EBUSY)", upci_strerror(rc));
	upci_close(b);
	upci_close(a);
	rc = upci_open(&a, uri);
	EXPECT(rc == 0, "open again after close: %s", upci_strerror(rc));
	upci_close(a);
}

static void test_path_env(const char *uri)
{
	upci_dev *d = NULL;
	int rc, want;

	setenv("UPCI_VFIO_PATH", "bogus", 1);
	rc = upci_open(&d, uri);
	EXPECT(rc == -EINVAL, "UPCI_VFIO_PATH=bogus: %s (want -EINVAL)", upci_strerror(rc));
	upci_close(d);
	d = NULL;
	setenv("UPCI_VFIO_PATH", "group", 1);
	rc = upci_open(&d, uri);
	EXPECT(rc == 0, "UPCI_VFIO_PATH=group: %s", upci_strerror(rc));
	upci_close(d);
	d = NULL;
	setenv("UPCI_VFIO_PATH", "iommufd", 1);
	want = access("/dev/iommu", F_OK) == 0 ? 0 : -ENOTSUP;
	rc = upci_open(&d, uri);
	EXPECT(rc == want, "UPCI_VFIO_PATH=iommufd (%s /dev/iommu): %s (want %s)", want ? "no" : "with",
	       upci_strerror(rc), upci_strerror(want));
	upci_close(d);
	unsetenv("UPCI_VFIO_PATH");
}

/* Open through @first, then try @second while the first handle is held. */
static void cross_open(const char *uri, const char *first, const char *second)
{
	upci_dev *a = NULL, *b = NULL;
	int rc;

	setenv("UPCI_VFIO_PATH", first, 1);
	rc = upci_open(&a, uri);
	EXPECT(rc == 0, "open through %s: %s", first, upci_strerror(rc));
	setenv("UPCI_VFIO_PATH", second, 1);
	rc = upci_open(&b, uri);
	EXPECT(rc == -EBUSY, "open through %s while held through %s: %s (want -EBUSY)", second, first,
	       upci_strerror(rc));
	upci_close(b);
	upci_close(a);
	rc = upci_open(&b, uri);
	EXPECT(rc == 0, "open through %s once the %s handle is closed: %s", second, first, upci_strerror(rc));
	upci_close(b);
	unsetenv("UPCI_VFIO_PATH");
}

static void test_cross_path(const char *uri)
{
	if (access("/dev/iommu", F_OK) != 0) {
		printf("skip - group vs iommufd exclusivity: no /dev/iommu\n");
		return;
	}
	cross_open(uri, "iommufd", "group");
	cross_open(uri, "group", "iommufd");
}

static void test_iova_ranges(const char *uri)
{
	static const struct {
		uint64_t iova;
		int want;
		const char *what;
	} cases[] = {
		{0x100000, 0, "1 MiB"},
		{0xfee00000, -ERANGE, "the MSI window 0xfee00000"},
		{0xfeeff000, -ERANGE, "the last page of the MSI window"},
		{UINT64_C(1) << 56, -ERANGE, "2^56, beyond the IOMMU's address width"},
		{0xfef00000, 0, "just above the MSI window"},
	};
	long ps = sysconf(_SC_PAGESIZE);
	upci_dev *d = NULL;
	void *mem = mmap(NULL, (size_t)ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int rc = upci_open(&d, uri);

	EXPECT(rc == 0 && mem != MAP_FAILED, "open for DMA: %s", upci_strerror(rc));
	if (rc || mem == MAP_FAILED)
		goto out;
	rc = upci_claim(d);
	EXPECT(rc == 0, "claim: %s", upci_strerror(rc));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t bus = 0;

		rc = upci_dma_map(d, cases[i].iova, mem, (uint64_t)ps, UPCI_DMA_RW, &bus);
		EXPECT(rc == cases[i].want, "DMA map at %s: %s (want %s)", cases[i].what, upci_strerror(rc),
		       upci_strerror(cases[i].want));
		if (rc == 0) {
			EXPECT(bus == cases[i].iova, "bus address 0x%" PRIx64 " equals the IOVA 0x%" PRIx64, bus,
			       cases[i].iova);
			rc = upci_dma_unmap(d, cases[i].iova);
			EXPECT(rc == 0, "DMA unmap at %s: %s", cases[i].what, upci_strerror(rc));
		}
	}
out:
	upci_close(d);
	if (mem != MAP_FAILED)
		munmap(mem, (size_t)ps);
}

/* The event-loop pattern: poll the fd, take, ack, as a program with its
 * own loop does; INTx must keep coming without upci_irq_wait. */
static void test_intx_event_loop(const char *uri)
{
	uint64_t pend[UPCI_IRQ_WORDS], v;
	upci_dev *d = NULL;
	struct pollfd pfd;
	int rc = upci_open(&d, uri);

	if (rc == 0)
		rc = upci_claim(d);
	if (rc == 0)
		rc = upci_irq_enable(d, UPCI_IRQ_INTX, 1);
	EXPECT(rc == 1, "INTx enabled: %s", rc < 0 ? upci_strerror(rc) : "1 vector");
	if (rc != 1)
		goto out;
	/* Earlier users may have left bits raised (a level stays up). */
	upci_mmio_write(d, 0, EDU_REG_IRQ_ACK, 4, UINT32_MAX);
	(void)upci_irq_take_pending(d, pend);
	for (int round = 1; round <= 3; round++) {
		uint32_t bit = 0x100u << round;
		int n = 0, got = 0, extra = 0;

		rc = upci_mmio_write(d, 0, EDU_REG_IRQ_RAISE, 4, bit);
		pfd.fd = upci_irq_fd(d);
		pfd.events = POLLIN;
		/* Spurious wake-ups are allowed: poll until the vector is taken. */
		for (int tries = 0; tries < 10 && !got; tries++) {
			pfd.revents = 0;
			n = poll(&pfd, 1, 2000);
			if (n != 1)
				break;
			got = upci_irq_take_pending(d, pend) == 1 && pend[0] == 1;
		}
		EXPECT(rc == 0 && got, "INTx round %d: fd readable and vector 0 taken (poll %d)", round, n);
		rc = upci_mmio_read(d, 0, EDU_REG_IRQ_STATUS, 4, &v);
		EXPECT(rc == 0 && v == bit, "INTx round %d: IRQ_STATUS 0x%" PRIx64 " (want 0x%x)", round, v, bit);
		upci_mmio_write(d, 0, EDU_REG_IRQ_ACK, 4, bit);
		if (!got)
			break;
		/* Acked: the line is down. The take re-armed it while it was
		 * still up, so one echo may follow (docs/linux-vfio.md); after
		 * that the fd must stay quiet: no storm, no stuck level. */
		for (int tries = 0; tries < 3; tries++) {
			pfd.revents = 0;
			if (poll(&pfd, 1, 100) != 1)
				break;
			extra += upci_irq_take_pending(d, pend);
		}
		pfd.revents = 0;
		n = poll(&pfd, 1, 100);
		EXPECT(extra <= 1 && n == 0, "INTx round %d: after the ack %d echo(es), then quiet (poll %d)", round,
		       extra, n);
	}
out:
	upci_close(d);
}

int main(int argc, char **argv)
{
	if (argc != 2 || strncmp(argv[1], "vfio:", 5) != 0) {
		fprintf(stderr, "usage: vfio_api vfio:BDF (QEMU's edu bound to vfio-pci)\n");
		return 2;
	}
	test_exclusive(argv[1]);
	test_path_env(argv[1]);
	test_cross_path(argv[1]);
	test_iova_ranges(argv[1]);
	test_intx_event_loop(argv[1]);
	printf("vfio_api: %s\n", failed ? "FAILED" : "ok");
	return failed;
}

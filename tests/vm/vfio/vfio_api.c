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
 *   - upci_dma_iova_ranges() answers the kernel's ranges (the MSI window
 *     is a hole), and UPCI_IOVA_ANY never lands in it.
 * vfio_api vfio:BDF --space vfio:BDF2: two edus in one DMA space (one
 * iommufd IOAS, or one type1 container with UPCI_VFIO_PATH=group):
 *   - each edu DMAs into a buffer made through the other, also after 20
 *     leave/join rounds, with no fd left behind by them;
 *   - after leaving, a device DMAs through a context of its own again,
 *     and no longer reaches the space (the IOMMU blocks it).
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

static void test_ranges_query(const char *uri)
{
	struct upci_iova_range r[64];
	struct upci_dma_buf b[4];
	upci_dev *d = NULL;
	int rc = upci_open(&d, uri), n, hole = 1, mib = 0;

	if (rc == 0)
		rc = upci_claim(d);
	EXPECT(rc == 0, "open for the ranges: %s", upci_strerror(rc));
	if (rc)
		goto out;
	n = upci_dma_iova_ranges(d, r, 64);
	EXPECT(n >= 2 && n <= 64, "upci_dma_iova_ranges: %d ranges (x86: at least the two around the MSI window)", n);
	for (int i = 0; i < n && i < 64; i++) {
		printf("# range 0x%" PRIx64 "..0x%" PRIx64 "\n", r[i].start, r[i].last);
		if (r[i].start <= 0xfee00000 && r[i].last >= 0xfee00000)
			hole = 0;
		if (r[i].start <= 0x100000 && r[i].last >= 0x100fff)
			mib = 1;
	}
	EXPECT(hole && mib, "0xfee00000 is outside every range, 1 MiB inside one");
	/* Buffers from UPCI_IOVA_ANY stay in the ranges. */
	for (int i = 0; i < 4; i++) {
		rc = upci_dma_alloc(d, UPCI_IOVA_ANY, 1u << 20, &b[i]);
		EXPECT(rc == 0 && (b[i].iova + b[i].size <= 0xfee00000 || b[i].iova > 0xfeefffff),
		       "UPCI_IOVA_ANY buffer %d at 0x%" PRIx64 ": %s", i, rc ? 0 : b[i].iova, upci_strerror(rc));
	}
out:
	upci_close(d);
}

/* The edu copies @len bytes between two bus addresses through its buffer;
 * 0 or -1. */
static int edu_copy(upci_dev *d, uint64_t src, uint64_t dst, uint32_t len)
{
	const uint64_t from[2] = {src, EDU_DMA_START}, to[2] = {EDU_DMA_START, dst};
	uint32_t cmd;

	if (upci_config_read(d, 0x04, 2, &cmd) || upci_config_write(d, 0x04, 2, cmd | 0x6))
		return -1; /* memory decode and bus mastering */
	for (int i = 0; i < 2; i++) {
		uint64_t v = EDU_DMA_CMD_START;

		upci_mmio_write(d, 0, EDU_REG_DMA_SRC, 8, from[i]);
		upci_mmio_write(d, 0, EDU_REG_DMA_DST, 8, to[i]);
		upci_mmio_write(d, 0, EDU_REG_DMA_COUNT, 8, len);
		upci_mmio_write(d, 0, EDU_REG_DMA_CMD, 8, EDU_DMA_CMD_START | (i ? EDU_DMA_CMD_TO_RAM : 0));
		for (int t = 0; t < 5000 && (v & EDU_DMA_CMD_START); t++) {
			if (upci_mmio_read(d, 0, EDU_REG_DMA_CMD, 8, &v))
				return -1;
			if (v & EDU_DMA_CMD_START)
				usleep(1000);
		}
		if (v & EDU_DMA_CMD_START)
			return -1;
	}
	return 0;
}

static int count_fds(void)
{
	char path[64];
	int n = 0;

	for (int fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n += access(path, F_OK) == 0;
	}
	return n;
}

/* @from's edu copies @src (a buffer) into @dst; 1 when the bytes arrived. */
static int copied(upci_dev *from, struct upci_dma_buf *src, struct upci_dma_buf *dst)
{
	uint64_t s, t;

	memset(dst->vaddr, 0, 3000);
	for (int i = 0; i < 3000; i++)
		((uint8_t *)src->vaddr)[i] = (uint8_t)(i * 7 + 3);
	if (upci_dma_vaddr_to_bus(from, src->vaddr, 3000, NULL, &s) || upci_dma_vaddr_to_bus(from, dst->vaddr, 3000, NULL, &t))
		return 0;
	return edu_copy(from, s, t, 3000) == 0 && memcmp(dst->vaddr, src->vaddr, 3000) == 0;
}

static void test_space(const char *uri, const char *peer)
{
	struct upci_dma_buf a = {0}, b = {0}, own = {0}, own2 = {0}, far = {0};
	upci_dma_space *sp = NULL;
	upci_dev *d = NULL, *p = NULL;
	int rc, fds, ok = 1;
	uint64_t id = 0;

	rc = upci_dma_space_create(&sp);
	if (rc == 0)
		rc = upci_open(&d, uri);
	if (rc == 0)
		rc = upci_open(&p, peer);
	if (rc == 0)
		rc = upci_claim(d) ? -1 : upci_claim(p);
	EXPECT(rc == 0, "open and claim %s and %s: %s", uri, peer, upci_strerror(rc));
	if (rc)
		goto out;
	rc = upci_dma_space_join(sp, d);
	EXPECT(rc == 0, "join %s: %s", uri, upci_strerror(rc));
	rc = upci_dma_space_join(sp, p);
	EXPECT(rc == 0, "join %s: %s", peer, upci_strerror(rc));
	/* The device still answers after the join (the type1 path reopened it). */
	rc = upci_mmio_read(d, 0, EDU_REG_ID, 4, &id);
	EXPECT(rc == 0 && id == EDU_ID_VALUE, "edu ID after the join: 0x%" PRIx64 " (%s)", id, upci_strerror(rc));
	rc = upci_dma_alloc(d, UPCI_IOVA_ANY, 4096, &a);
	EXPECT(rc == 0, "buffer through %s: %s", uri, upci_strerror(rc));
	rc = rc ? rc : upci_dma_alloc(p, UPCI_IOVA_ANY, 4096, &b);
	EXPECT(rc == 0, "buffer through %s: %s", peer, upci_strerror(rc));
	if (rc)
		goto out;
	EXPECT(copied(p, &a, &b), "%s's edu copies a buffer made through %s", peer, uri);
	EXPECT(copied(d, &b, &a), "%s's edu copies a buffer made through %s", uri, peer);
	/* Leave and join again, 20 times over: no fd is left behind. */
	fds = count_fds();
	for (int i = 0; i < 20 && ok; i++) {
		rc = upci_dma_space_leave(sp, p);
		if (rc == 0)
			rc = upci_dma_space_join(sp, p);
		ok = rc == 0;
	}
	EXPECT(ok, "20 leave/join rounds of %s: %s", peer, upci_strerror(rc));
	EXPECT(count_fds() == fds, "fds after the rounds: %d, before: %d", count_fds(), fds);
	EXPECT(copied(p, &a, &b), "after the rounds, %s's edu still reaches the space", peer);
	/* Out of the space: a context of its own that works, and the space's
	 * memory out of its reach (at an IOVA its own buffers do not use). */
	rc = upci_dma_alloc(d, 0x8000000, 4096, &far);
	EXPECT(rc == 0, "a space buffer at 128 MiB: %s", upci_strerror(rc));
	rc = rc ? rc : upci_dma_space_leave(sp, p);
	EXPECT(rc == 0, "leave %s: %s", peer, upci_strerror(rc));
	rc = rc ? rc : upci_dma_alloc(p, UPCI_IOVA_ANY, 4096, &own);
	rc = rc ? rc : upci_dma_alloc(p, UPCI_IOVA_ANY, 4096, &own2);
	EXPECT(rc == 0, "%s alone: buffers of its own: %s", peer, upci_strerror(rc));
	if (rc == 0) {
		EXPECT(copied(p, &own, &own2), "%s alone: its edu copies between buffers of its own", peer);
		memset(far.vaddr, 0x5a, 3000);
		memset(own.vaddr, 0, 3000);
		(void)edu_copy(p, far.iova, own.bus_addr, 3000); /* not mapped for it now */
		EXPECT(memcmp(own.vaddr, far.vaddr, 3000) != 0,
		       "%s no longer reaches the space's buffer at 0x%" PRIx64 " (the IOMMU blocked it)", peer, far.iova);
	}
	upci_dma_free(p, &own);
	upci_dma_free(p, &own2);
	upci_dma_free(d, &far);
	upci_dma_free(d, &a);
	upci_dma_free(d, &b);
out:
	upci_close(d);
	upci_close(p);
	rc = upci_dma_space_destroy(sp);
	EXPECT(rc == 0, "destroy the space: %s", upci_strerror(rc));
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[2], "--space") == 0 && strncmp(argv[3], "vfio:", 5) == 0) {
		test_space(argv[1], argv[3]);
		printf("vfio_api: %s\n", failed ? "FAILED" : "ok");
		return failed;
	}
	if (argc != 2 || strncmp(argv[1], "vfio:", 5) != 0) {
		fprintf(stderr, "usage: vfio_api vfio:BDF [--space vfio:BDF2] (QEMU's edu bound to vfio-pci)\n");
		return 2;
	}
	test_exclusive(argv[1]);
	test_path_env(argv[1]);
	test_cross_path(argv[1]);
	test_iova_ranges(argv[1]);
	test_ranges_query(argv[1]);
	test_intx_event_loop(argv[1]);
	printf("vfio_api: %s\n", failed ? "FAILED" : "ok");
	return failed;
}

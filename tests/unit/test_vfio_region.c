/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the vfio backend's region code (src/backend/vfio/
 * vfio_region.c, vfio_mmap_areas in vfio_caps.c) without a kernel VFIO: the
 * "device fd" is a memfd laid out as vfio-pci lays out its regions (each
 * region at an offset of the fd), so mmap, pread and pwrite behave as they
 * do on the real fd. vfio-pci itself no longer sends sparse-mmap
 * capabilities (the MSI-X BAR is mappable whole since Linux 4.16), so this
 * is where BARs with holes are tested: the holes must fault, and MMIO there
 * must go through pread/pwrite.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "vfio.h"

#define PAGE 4096u
#define BAR_SIZE (4 * PAGE)
#define CFG_OFF (8 * PAGE)
#define FD_SIZE (16 * PAGE)

static struct upci_dev dev;
static struct vfio_dev vd;

static uint32_t pattern(uint64_t off)
{
	return (uint32_t)(off * 2654435761u) ^ 0x5a5a0000u;
}

/* BAR0 at fd offset 0 with mmap-able areas @areas; config at CFG_OFF. */
static void make_dev(const struct vfio_area *areas, unsigned n)
{
	int fd;

	memset(&dev, 0, sizeof(dev));
	memset(&vd, 0, sizeof(vd));
	fd = memfd_create("fake-vfio", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, FD_SIZE), 0);
	for (uint64_t off = 0; off < FD_SIZE; off += 4) {
		uint32_t v = pattern(off);

		assert_int_equal(pwrite(fd, &v, 4, (off_t)off), 4);
	}
	vd.device = fd;
	vd.group_fd = vd.own.container = vd.own.iommufd = -1;
	vd.ctx = &vd.own;
	vd.irq_index = -1;
	vd.unmask_fd = -1;
	vd.mem_decode = 1;
	strcpy(vd.bdf, "0000:00:02.0");
	vd.regions[0].size = BAR_SIZE;
	vd.regions[0].offset = 0;
	vd.regions[0].flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE | VFIO_REGION_INFO_FLAG_MMAP;
	memcpy(vd.regions[0].areas, areas, n * sizeof(*areas));
	vd.regions[0].nareas = n;
	vd.regions[VFIO_PCI_CONFIG_REGION_INDEX].size = 256;
	vd.regions[VFIO_PCI_CONFIG_REGION_INDEX].offset = CFG_OFF;
	vd.regions[VFIO_PCI_CONFIG_REGION_INDEX].flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	dev.priv = &vd;
	dev.page_size = PAGE;
	dev.ident.config_size = 256;
	dev.bars[0].size = BAR_SIZE;
	dev.bars[0].flags = UPCI_BAR_PRESENT | (n ? UPCI_BAR_MAPPABLE : 0);
}

static void drop_dev(void)
{
	vfio_regions_unmap(&vd);
	close(vd.device);
}

static sigjmp_buf jb;

static void on_fault(int sig)
{
	siglongjmp(jb, sig);
}

/* 1 when reading *p faults (SIGSEGV or SIGBUS), 0 when it reads. */
static int faults(volatile const uint32_t *p)
{
	struct sigaction sa = {.sa_handler = on_fault}, old_segv, old_bus;
	volatile int hit = 0;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
	if (sigsetjmp(jb, 1) == 0)
		(void)*p;
	else
		hit = 1;
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
	return hit;
}

static void test_sparse_map(void **state)
{
	static const struct vfio_area areas[] = {{0, PAGE}, {2 * PAGE, PAGE}};
	volatile uint32_t *m;
	void *addr = NULL;
	uint32_t w = 0;
	uint64_t off;
	int fd;

	(void)state;
	make_dev(areas, 2);
	assert_int_equal(vfio_bar_map(&dev, 0, &addr), 0);
	m = addr;
	assert_int_equal(m[0x10 / 4], pattern(0x10));
	assert_int_equal(m[(2 * PAGE + 0x20) / 4], pattern(2 * PAGE + 0x20));
	/* Holes (e.g. an MSI-X table) fault instead of reaching anything. */
	assert_true(faults(&m[PAGE / 4]));
	assert_true(faults(&m[(3 * PAGE + 8) / 4]));
	/* Writes through the mapping reach the region. */
	m[0x40 / 4] = 0xdeadbeef;
	assert_int_equal(pread(vd.device, &w, 4, 0x40), 4);
	assert_int_equal(w, 0xdeadbeef);
	/* No fd for another process: it could not know about the holes. */
	assert_int_equal(vfio_bar_fd(&dev, 0, &fd, &off), -ENOTSUP);
	vfio_bar_unmap(&dev, 0, addr);
	drop_dev();
}

static void test_mmio_paths(void **state)
{
	static const struct vfio_area areas[] = {{0, PAGE}};
	uint64_t v = 0;

	(void)state;
	make_dev(areas, 1);
	/* In the mapped area: through our own mapping, 8 bytes in one go. */
	assert_int_equal(vfio_mmio_read(&dev, 0, 0x100, 8, &v), 0);
	assert_int_equal(v, (uint64_t)pattern(0x104) << 32 | pattern(0x100));
	assert_non_null(vd.regions[0].mmio);
	/* In a hole: pread/pwrite at the region offset. */
	assert_int_equal(vfio_mmio_read(&dev, 0, PAGE + 0x10, 4, &v), 0);
	assert_int_equal(v, pattern(PAGE + 0x10));
	assert_int_equal(vfio_mmio_write(&dev, 0, PAGE + 0x12, 2, 0xbeef), 0);
	assert_int_equal(vfio_mmio_read(&dev, 0, PAGE + 0x10, 4, &v), 0);
	assert_int_equal(v, (pattern(PAGE + 0x10) & 0xffff) | 0xbeef0000u);
	assert_int_equal(vfio_mmio_write(&dev, 0, 0x8, 1, 0x7f), 0);
	assert_int_equal(vfio_mmio_read(&dev, 0, 0x8, 1, &v), 0);
	assert_int_equal(v, 0x7f);
	drop_dev();

	/* Memory decode off: a mapping would SIGBUS on VFIO, so pread. */
	make_dev(areas, 1);
	vd.mem_decode = 0;
	assert_int_equal(vfio_mmio_read(&dev, 0, 0x100, 4, &v), 0);
	assert_int_equal(v, pattern(0x100));
	assert_null(vd.regions[0].mmio);
	drop_dev();
}

static void test_bar_fd_whole(void **state)
{
	static const struct vfio_area areas[] = {{0, BAR_SIZE}};
	uint64_t off = 1;
	int fd = -1;

	(void)state;
	make_dev(areas, 1);
	assert_int_equal(vfio_bar_fd(&dev, 0, &fd, &off), 0);
	assert_int_equal(fd, vd.device);
	assert_int_equal(off, 0);
	dev.bars[0].flags |= UPCI_BAR_MAP_RDONLY;
	assert_int_equal(vfio_bar_fd(&dev, 0, &fd, &off), -ENOTSUP);
	drop_dev();
}

static void test_config(void **state)
{
	static const struct vfio_area areas[] = {{0, PAGE}};
	uint8_t block[256];
	uint32_t v;

	(void)state;
	make_dev(areas, 1);
	assert_int_equal(vfio_cfg_read(&dev, 0x10, 4, &v), 0);
	assert_int_equal(v, pattern(CFG_OFF + 0x10));
	assert_int_equal(vfio_cfg_read(&dev, 0x12, 2, &v), 0);
	assert_int_equal(v, pattern(CFG_OFF + 0x10) >> 16);
	assert_int_equal(vfio_cfg_write(&dev, 0x3c, 1, 0xab), 0);
	assert_int_equal(vfio_cfg_read(&dev, 0x3c, 1, &v), 0);
	assert_int_equal(v, 0xab);
	assert_int_equal(vfio_cfg_read_block(&dev, 0, block, sizeof(block)), 0);
	for (unsigned i = 0; i < 0x3c; i += 4) {
		uint32_t w;

		memcpy(&w, block + i, 4);
		assert_int_equal(w, pattern(CFG_OFF + i));
	}
	/* COMMAND written without Memory Space: MMIO stops using the mapping. */
	assert_int_equal(vfio_cfg_write(&dev, 0x04, 2, 0x0004), 0);
	assert_int_equal(vd.mem_decode, 0);
	assert_int_equal(vfio_cfg_write(&dev, 0x04, 2, 0x0006), 0);
	assert_int_equal(vd.mem_decode, 1);
	drop_dev();
}

/* A region info reply with a sparse-mmap capability of @n areas. */
static size_t sparse_reply(uint8_t *buf, size_t cap, const struct vfio_region_sparse_mmap_area *a, uint32_t n,
			   uint32_t claimed)
{
	struct vfio_region_info ri = {.flags = VFIO_REGION_INFO_FLAG_CAPS, .cap_offset = sizeof(ri)};
	struct vfio_region_info_cap_sparse_mmap sm = {
		.header = {.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP, .version = 1, .next = 0}, .nr_areas = claimed};
	size_t len = sizeof(ri) + sizeof(sm) + n * sizeof(*a);

	assert_true(len <= cap);
	memset(buf, 0, cap);
	ri.argsz = (uint32_t)len;
	memcpy(buf, &ri, sizeof(ri));
	memcpy(buf + sizeof(ri), &sm, sizeof(sm));
	memcpy(buf + sizeof(ri) + sizeof(sm), a, n * sizeof(*a));
	return len;
}

static void test_mmap_areas(void **state)
{
	const struct vfio_region_sparse_mmap_area a[] = {
		{0, 0x1000},      /* ok */
		{0x1800, 0x800},  /* not page aligned: dropped */
		{0x3000, 0x2000}, /* beyond the 16 KiB region: dropped */
		{0x2000, 0},      /* empty: dropped */
		{0x3000, 0x1000}, /* ok */
	};
	struct vfio_area out[4];
	uint8_t buf[512];
	unsigned n = 99;
	size_t len;

	(void)state;
	len = sparse_reply(buf, sizeof(buf), a, 5, 5);
	assert_int_equal(vfio_mmap_areas(buf, len, sizeof(struct vfio_region_info), BAR_SIZE, PAGE, out, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(out[0].off, 0);
	assert_int_equal(out[0].len, 0x1000);
	assert_int_equal(out[1].off, 0x3000);
	/* More areas than kept: the first @max. */
	assert_int_equal(vfio_mmap_areas(buf, len, sizeof(struct vfio_region_info), BAR_SIZE, PAGE, out, 1, &n), 0);
	assert_int_equal(n, 1);
	/* A count the reply cannot hold. */
	len = sparse_reply(buf, sizeof(buf), a, 2, 3);
	assert_int_equal(vfio_mmap_areas(buf, len, sizeof(struct vfio_region_info), BAR_SIZE, PAGE, out, 4, &n),
			 -EPROTO);
	len = sparse_reply(buf, sizeof(buf), a, 1, UINT32_MAX);
	assert_int_equal(vfio_mmap_areas(buf, len, sizeof(struct vfio_region_info), BAR_SIZE, PAGE, out, 4, &n),
			 -EPROTO);
	/* No capability: the whole region, rounded up to a page. */
	assert_int_equal(vfio_mmap_areas(buf, len, 0, 0x10, PAGE, out, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].len, PAGE);
	/* Sparse capability with no area: nothing may be mapped. */
	len = sparse_reply(buf, sizeof(buf), a, 0, 0);
	assert_int_equal(vfio_mmap_areas(buf, len, sizeof(struct vfio_region_info), BAR_SIZE, PAGE, out, 4, &n), 0);
	assert_int_equal(n, 0);
	/* A region size next to 2^64 cannot be rounded: malformed. */
	assert_int_equal(vfio_mmap_areas(buf, len, 0, UINT64_MAX - 5, PAGE, out, 4, &n), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sparse_map),
		cmocka_unit_test(test_mmio_paths),
		cmocka_unit_test(test_bar_fd_whole),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_mmap_areas),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

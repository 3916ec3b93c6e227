/* SPDX-License-Identifier: MIT */
/*
 * bench-vfio [--quick] vfio:BDF: the Linux VFIO backend on QEMU's edu
 * (run in a guest by tests/vm/vfio/run.sh bench). Each figure is printed
 * next to its floor, measured in the same run on the same device fd with
 * the raw system call the backend wraps, so the ratio shows what the
 * library adds. Under TCG every device access is emulated, so absolute
 * numbers are slow; the ratios are what to read.
 *
 *   config read       upci_config_read / _read_block vs one raw pread
 *   BAR read          a load through upci_bar_map vs upci_mmio_read vs pread
 *   DMA map+unmap     upci_dma_map+unmap pairs/s vs the raw ioctl pair
 *   MSI -> wake-up    edu IRQ_RAISE -> upci_irq_wait returning, vs poll+read
 *                     on the vector's own eventfd
 *
 * Reaches into the backend (vfio.h) only to find the floors' fds.
 * Exit 1 only on an operational failure, never because of a figure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench_util.h"
#include "edu_regs.h"
#include "upci/upci.h"
#include "vfio.h"

#define DMA_IOVA 0x200000u

struct ctx {
	upci_dev *dev;
	struct vfio_dev *v;
	volatile uint32_t *bar;
	void *page;
	uint64_t cfg_off, bar_off;
	uint8_t buf[256];
};

static int cfg_raw(void *p, uint64_t n)
{
	struct ctx *c = p;
	uint32_t val;

	for (uint64_t i = 0; i < n; i++)
		if (pread(c->v->device, &val, 4, (off_t)c->cfg_off) != 4)
			return -errno;
	return 0;
}

static int cfg_lib(void *p, uint64_t n)
{
	struct ctx *c = p;
	uint32_t val;

	for (uint64_t i = 0; i < n; i++) {
		int rc = upci_config_read(c->dev, 0, 4, &val);

		if (rc)
			return rc;
	}
	return 0;
}

static int cfg_raw256(void *p, uint64_t n)
{
	struct ctx *c = p;

	for (uint64_t i = 0; i < n; i++)
		if (pread(c->v->device, c->buf, 256, (off_t)c->cfg_off) != 256)
			return -errno;
	return 0;
}

static int cfg_block(void *p, uint64_t n)
{
	struct ctx *c = p;

	for (uint64_t i = 0; i < n; i++) {
		int rc = upci_config_read_block(c->dev, 0, c->buf, 256);

		if (rc)
			return rc;
	}
	return 0;
}

static int bar_load(void *p, uint64_t n)
{
	struct ctx *c = p;
	uint32_t v = 0;

	for (uint64_t i = 0; i < n; i++)
		v += c->bar[EDU_REG_ID / 4];
	return v == 0 && n ? -EIO : 0;
}

static int bar_lib(void *p, uint64_t n)
{
	struct ctx *c = p;
	uint64_t v;

	for (uint64_t i = 0; i < n; i++) {
		int rc = upci_mmio_read(c->dev, 0, EDU_REG_ID, 4, &v);

		if (rc)
			return rc;
	}
	return 0;
}

static int bar_pread(void *p, uint64_t n)
{
	struct ctx *c = p;
	uint32_t v;

	for (uint64_t i = 0; i < n; i++)
		if (pread(c->v->device, &v, 4, (off_t)(c->bar_off + EDU_REG_ID)) != 4)
			return -errno;
	return 0;
}

/* The kernel calls the library makes for one pair, made directly. */
static int dma_raw(void *p, uint64_t n)
{
	struct ctx *c = p;
	struct vfio_dev *v = c->v;
	long ps = sysconf(_SC_PAGESIZE);

	for (uint64_t i = 0; i < n; i++) {
		if (v->path == VFIO_PATH_IOMMUFD) {
			struct iommu_ioas_map m = {.size = sizeof(m), .ioas_id = v->ctx->ioas, .user_va = (uintptr_t)c->page,
						   .length = (uint64_t)ps, .iova = DMA_IOVA,
						   .flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
							    IOMMU_IOAS_MAP_WRITEABLE};
			struct iommu_ioas_unmap u = {.size = sizeof(u), .ioas_id = v->ctx->ioas, .iova = DMA_IOVA,
						     .length = (uint64_t)ps};

			if (ioctl(v->ctx->iommufd, IOMMU_IOAS_MAP, &m) || ioctl(v->ctx->iommufd, IOMMU_IOAS_UNMAP, &u))
				return -errno;
		} else {
			struct vfio_iommu_type1_dma_map m = {.argsz = sizeof(m), .vaddr = (uintptr_t)c->page,
							     .iova = DMA_IOVA, .size = (uint64_t)ps,
							     .flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE};
			struct vfio_iommu_type1_dma_unmap u = {.argsz = sizeof(u), .iova = DMA_IOVA, .size = (uint64_t)ps};

			if (ioctl(v->ctx->container, VFIO_IOMMU_MAP_DMA, &m) || ioctl(v->ctx->container, VFIO_IOMMU_UNMAP_DMA, &u))
				return -errno;
		}
	}
	return 0;
}

static int dma_lib(void *p, uint64_t n)
{
	struct ctx *c = p;
	long ps = sysconf(_SC_PAGESIZE);

	for (uint64_t i = 0; i < n; i++) {
		uint64_t bus;
		int rc = upci_dma_map(c->dev, DMA_IOVA, c->page, (uint64_t)ps, UPCI_DMA_RW, &bus);

		if (rc == 0)
			rc = upci_dma_unmap(c->dev, DMA_IOVA);
		if (rc)
			return rc;
	}
	return 0;
}

static void table(const char *title, const char *note, struct bench_op *ops, unsigned n, int quick, int per_sec)
{
	bench_run_ops(ops, n, quick ? 3 : 9, quick ? 20000000 : 200000000);
	bench_title(title, note);
	printf("%-40s %14s %10s\n", "", per_sec ? "per second" : "ns/op (med)", "vs floor");
	for (unsigned i = 0; i < n; i++) {
		if (per_sec)
			printf("%-40s %14.0f %9.2fx\n", ops[i].what, 1e9 / ops[i].ns_med, ops[i].ns_med / ops[0].ns_med);
		else
			printf("%-40s %14.0f %9.2fx\n", ops[i].what, ops[i].ns_med, ops[i].ns_med / ops[0].ns_med);
	}
}

/* One MSI round trip: raise through the mapping, wait, ack. @raw waits on
 * the vector's own eventfd (the floor) instead of upci_irq_wait. */
static int64_t msi_once(struct ctx *c, int raw)
{
	uint64_t pend[UPCI_IRQ_WORDS], cnt;
	int64_t t0, t1;
	int rc;

	t0 = bench_now_ns();
	c->bar[EDU_REG_IRQ_RAISE / 4] = 1;
	if (raw) {
		struct pollfd pfd = {.fd = c->v->irq_fd[0], .events = POLLIN};

		rc = poll(&pfd, 1, 5000) == 1 && read(c->v->irq_fd[0], &cnt, 8) == 8 ? 1 : -ETIMEDOUT;
	} else {
		rc = upci_irq_wait(c->dev, 5000, pend);
	}
	t1 = bench_now_ns();
	c->bar[EDU_REG_IRQ_ACK / 4] = 1;
	if (rc != 1)
		bench_die(raw ? "floor" : "upci", "MSI wake-up", rc < 0 ? rc : -EIO);
	return t1 - t0;
}

static void fig_msi(struct ctx *c, int quick)
{
	unsigned n = quick ? 50 : 500;
	int64_t *s = calloc(n, sizeof(*s));
	struct bench_pct raw, lib;

	if (!s)
		bench_die("bench", "allocating samples", -ENOMEM);
	bench_ok(upci_irq_enable(c->dev, UPCI_IRQ_MSI, 1), "upci", "upci_irq_enable(MSI)");
	for (unsigned i = 0; i < 5; i++) /* warm-up */
		msi_once(c, 0);
	for (unsigned i = 0; i < n; i++)
		s[i] = msi_once(c, 1);
	bench_percentiles(s, n, &raw);
	for (unsigned i = 0; i < n; i++)
		s[i] = msi_once(c, 0);
	bench_percentiles(s, n, &lib);
	free(s);
	bench_title("MSI -> wake-up (edu IRQ_RAISE written through the mapping)",
		    "floor: poll+read on the vector's eventfd; upci: upci_irq_wait (epoll set, latch, bitmap)");
	printf("%-40s %10s %10s %10s %10s\n", "", "p50 ns", "p99 ns", "max ns", "p50 vs floor");
	printf("%-40s %10.0f %10.0f %10.0f %9.2fx\n", "floor: eventfd poll+read", raw.p50, raw.p99, raw.max, 1.0);
	printf("%-40s %10.0f %10.0f %10.0f %9.2fx\n", "upci_irq_wait", lib.p50, lib.p99, lib.max, lib.p50 / raw.p50);
	upci_irq_disable(c->dev);
}

int main(int argc, char **argv)
{
	struct ctx c;
	struct upci_identity id;
	const char *uri = NULL;
	int quick = 0;
	uint64_t len;
	void *map;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			quick = 1;
		else if (argv[i][0] != '-' && !uri)
			uri = argv[i];
		else {
			fprintf(stderr, "usage: bench-vfio [--quick] vfio:BDF (QEMU's edu bound to vfio-pci)\n");
			return 2;
		}
	}
	if (!uri || strncmp(uri, "vfio:", 5) != 0) {
		fprintf(stderr, "usage: bench-vfio [--quick] vfio:BDF (QEMU's edu bound to vfio-pci)\n");
		return 2;
	}
	memset(&c, 0, sizeof(c));
	bench_ok(upci_open(&c.dev, uri), uri, "upci_open");
	bench_ok(upci_claim(c.dev), uri, "upci_claim");
	bench_ok(upci_identity(c.dev, &id), uri, "upci_identity");
	if (id.vendor_id != EDU_VENDOR_ID || id.device_id != EDU_DEVICE_ID)
		bench_die(uri, "identity", -ENODEV);
	c.v = ((struct upci_dev *)c.dev)->priv;
	c.cfg_off = c.v->regions[VFIO_PCI_CONFIG_REGION_INDEX].offset;
	c.bar_off = c.v->regions[0].offset;
	bench_ok(upci_bar_map(c.dev, 0, &map, &len), uri, "upci_bar_map");
	c.bar = map;
	c.page = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (c.page == MAP_FAILED)
		bench_die("bench", "mmap", -errno);
	printf("bench-vfio: %s (%04x:%04x) through %s, %s run\n", uri, id.vendor_id, id.device_id,
	       c.v->path == VFIO_PATH_IOMMUFD ? "iommufd" : "the type1 container", quick ? "quick" : "full");

	struct bench_op cfg[] = {
		{.where = "floor", .what = "floor: pread 4 bytes of config", .loop = cfg_raw, .ctx = &c},
		{.where = "upci", .what = "upci_config_read (4 bytes)", .loop = cfg_lib, .ctx = &c},
		{.where = "floor", .what = "pread 256 bytes of config", .loop = cfg_raw256, .ctx = &c},
		{.where = "upci", .what = "upci_config_read_block (256 bytes)", .loop = cfg_block, .ctx = &c},
	};
	table("config read", "floor: one pread on the device fd at the config region's offset", cfg, 4, quick, 0);

	struct bench_op bar[] = {
		{.where = "floor", .what = "floor: load through upci_bar_map", .loop = bar_load, .ctx = &c},
		{.where = "upci", .what = "upci_mmio_read (4 bytes)", .loop = bar_lib, .ctx = &c},
		{.where = "floor", .what = "pread on the BAR region", .loop = bar_pread, .ctx = &c},
	};
	table("BAR read (edu ID register)", "floor: a 4-byte load from the mapped BAR", bar, 3, quick, 0);

	struct bench_op dma[] = {
		{.where = "floor", .what = "floor: raw map+unmap ioctls (4 KiB)", .loop = dma_raw, .ctx = &c},
		{.where = "upci", .what = "upci_dma_map+upci_dma_unmap (4 KiB)", .loop = dma_lib, .ctx = &c},
	};
	table("DMA map+unmap pairs", "floor: the same two ioctls on the same container/IOAS", dma, 2, quick, 1);

	fig_msi(&c, quick);
	munmap(c.page, (size_t)sysconf(_SC_PAGESIZE));
	upci_close(c.dev);
	return 0;
}

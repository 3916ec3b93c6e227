/* SPDX-License-Identifier: MIT */
/*
 * vfio-user server against a client that attacks through memory, with raw
 * messages over the in-memory transport: a DMA_MAP'd file truncated under
 * the device's DMA (edu's engine, testdev's descriptors, the chunked copy
 * across regions), fds that are not memory, a BAR fd the client tries to
 * resize, a START that asks
 * for minutes of copying, and more DMA maps than the process can mmap. In
 * each case the device reports an error, the server answers and keeps
 * serving this client and the next.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <unistd.h>

#include <cmocka.h>

#include "caps_json.h"
#include "edu_regs.h"
#include "pci_regs.h"
#include "test_vfu_srv_util.h"
#include "testdev_regs.h"

#define TESTDEV "sim:testdev?vectors=64"
#define EDU "sim:edu"
#define CFG VFU_PCI_CONFIG_REGION_INDEX
#define RW (VFU_DMA_MAP_F_READ | VFU_DMA_MAP_F_WRITE)
#define PAGE 4096u

static void assert_alive(struct srv_fx *fx)
{
	uint32_t id = fx_rd32(fx, CFG, PCI_VENDOR_ID);

	assert_true(id != 0 && id != 0xffffffffu);
}

static void enable_master(struct srv_fx *fx)
{
	uint16_t w = (uint16_t)((fx_rd32(fx, CFG, PCI_COMMAND) & 0xffffu) | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);

	assert_int_equal(fx_region_write(fx, CFG, PCI_COMMAND, &w, 2), 0);
}

/* A negotiated session on @uri whose device may master the bus. */
static void open_master(struct srv_fx *fx, const char *uri)
{
	fx_open(fx, uri, NULL);
	fx_negotiate(fx);
	enable_master(fx);
}

static uint8_t *map_fd(int fd, size_t size)
{
	uint8_t *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	assert_true(p != MAP_FAILED);
	return p;
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

/* ---- 1. a DMA_MAP'd file shrinks under the device's DMA ---- */

#define EDU_GOOD 0x100000u
#define EDU_BAD  0x200000u

static void edu_dma(struct srv_fx *fx, uint64_t src, uint64_t dst, uint64_t cnt, uint64_t cmd)
{
	fx_wr64(fx, 0, EDU_REG_DMA_SRC, src);
	fx_wr64(fx, 0, EDU_REG_DMA_DST, dst);
	fx_wr64(fx, 0, EDU_REG_DMA_COUNT, cnt);
	fx_wr64(fx, 0, EDU_REG_DMA_CMD, cmd | EDU_DMA_CMD_START);
}

static void test_shrunk_edu(void **state)
{
	const size_t size = 4 * PAGE;
	int good = test_memfd(size), bad = test_memfd(size);
	uint8_t *g = map_fd(good, size);
	struct srv_fx fx;

	(void)state;
	fill(g, PAGE, 1);
	open_master(&fx, EDU);
	assert_int_equal(fx_dma_map(&fx, EDU_GOOD, size, 0, RW, good), 0);
	assert_int_equal(fx_dma_map(&fx, EDU_BAD, size, 0, RW, bad), 0);
	/* the device buffer gets the good page */
	edu_dma(&fx, EDU_GOOD, EDU_DMA_START, PAGE, 0);
	assert_int_equal(fx_rd32(&fx, 0, EDU_REG_DMA_FAULTS), 0);
	/* the client cuts the other file down to one page, after the map */
	assert_int_equal(ftruncate(bad, PAGE), 0);
	/* RAM -> EDU across the new end: a bus error */
	edu_dma(&fx, EDU_BAD + PAGE / 2, EDU_DMA_START + PAGE / 2 - 64, PAGE / 2 + 64, 0);
	assert_int_equal(fx_rd32(&fx, 0, EDU_REG_DMA_FAULTS), 1);
	assert_int_equal(fx_rd32(&fx, 0, EDU_REG_DMA_ERROR), EDU_DMA_ERR_BUS);
	/* EDU -> RAM past the end, with the interrupt a driver waits for */
	edu_dma(&fx, EDU_DMA_START, EDU_BAD + 2 * PAGE, 64, EDU_DMA_CMD_TO_RAM | EDU_DMA_CMD_IRQ);
	assert_int_equal(fx_rd32(&fx, 0, EDU_REG_DMA_FAULTS), 2);
	assert_int_equal(fx_rd32(&fx, 0, EDU_REG_DMA_ERROR), EDU_DMA_ERR_BUS);
	assert_true(fx_rd32(&fx, 0, EDU_REG_IRQ_STATUS) & EDU_IRQ_DMA);
	assert_int_equal(fx_rd32(&fx, 0, EDU_REG_DMA_CMD) & EDU_DMA_CMD_START, 0);
	/* the buffer's first half, which no failed request covered, still
	 * holds the good page's */
	edu_dma(&fx, EDU_DMA_START, EDU_GOOD + PAGE, PAGE / 4, EDU_DMA_CMD_TO_RAM);
	assert_int_equal(fx_rd32(&fx, 0, EDU_REG_DMA_FAULTS), 2);
	assert_memory_equal(g + PAGE, g, PAGE / 4);
	/* the page that is left still works */
	edu_dma(&fx, EDU_DMA_START, EDU_BAD, 64, EDU_DMA_CMD_TO_RAM);
	assert_int_equal(fx_rd32(&fx, 0, EDU_REG_DMA_FAULTS), 2);
	assert_alive(&fx);

	/* the next client is served, with the same device */
	fx_reconnect(&fx);
	fx_negotiate(&fx);
	assert_int_equal(fx_dma_map(&fx, EDU_BAD, PAGE, 0, RW, bad), 0);
	edu_dma(&fx, EDU_BAD, EDU_DMA_START, 64, 0);
	edu_dma(&fx, EDU_DMA_START, EDU_BAD + 64, 64, EDU_DMA_CMD_TO_RAM);
	assert_int_equal(fx_rd32(&fx, 0, EDU_REG_DMA_FAULTS), 2);
	{
		uint8_t *b = map_fd(bad, PAGE);

		assert_memory_equal(b + 64, g, 64);
		munmap(b, PAGE);
	}
	munmap(g, size);
	close(good);
	close(bad);
	fx_close(&fx);
}

#define TD_LIST 0x100000u
#define TD_DATA 0x200000u
#define TD_DATA_PAGES 4u
#define TD_NEXT (TD_DATA + TD_DATA_PAGES * PAGE) /* adjacent to TD_DATA */

static void td_start(struct srv_fx *fx, uint64_t list, uint32_t count)
{
	fx_wr64(fx, 0, TESTDEV_REG_DESC_ADDR, list);
	fx_wr32(fx, 0, TESTDEV_REG_DESC_COUNT, count);
	fx_wr32(fx, 0, TESTDEV_REG_CTRL, TESTDEV_CTRL_START);
}

static void td_expect(struct srv_fx *fx, uint32_t fault, uint32_t desc, uint32_t done)
{
	assert_int_equal(fx_rd32(fx, 0, TESTDEV_REG_STATUS),
			 TESTDEV_STATUS_DONE | (fault ? TESTDEV_STATUS_ERROR : 0));
	assert_int_equal(fx_rd32(fx, 0, TESTDEV_REG_DONE_COUNT), done);
	if (fault) {
		assert_int_equal(fx_rd32(fx, 0, TESTDEV_REG_LAST_FAULT), fault);
		assert_int_equal(fx_rd32(fx, 0, TESTDEV_REG_FAULT_DESC), desc);
	}
}

static void put_desc(uint8_t *list, unsigned i, uint64_t src, uint64_t dst, uint32_t len, uint32_t flags)
{
	struct testdev_desc d = {.src = src, .dst = dst, .len = len, .flags = flags};

	memcpy(list + i * TESTDEV_DESC_SIZE, &d, sizeof(d));
}

static uint32_t desc_status(const uint8_t *list, unsigned i)
{
	uint32_t st;

	memcpy(&st, list + i * TESTDEV_DESC_SIZE + TESTDEV_DESC_STATUS, sizeof(st));
	return st;
}

static void test_shrunk_testdev(void **state)
{
	int lfd = test_memfd(PAGE), dfd = test_memfd(TD_DATA_PAGES * PAGE), nfd = test_memfd(2 * PAGE);
	uint8_t *list = map_fd(lfd, PAGE), *data = map_fd(dfd, PAGE), bar[64];
	struct srv_fx fx;

	(void)state;
	fill(data, PAGE, 3);
	open_master(&fx, TESTDEV);
	assert_int_equal(fx_dma_map(&fx, TD_LIST, PAGE, 0, RW, lfd), 0);
	assert_int_equal(fx_dma_map(&fx, TD_DATA, TD_DATA_PAGES * PAGE, 0, RW, dfd), 0);
	assert_int_equal(fx_dma_map(&fx, TD_NEXT, 2 * PAGE, 0, RW, nfd), 0);
	assert_int_equal(ftruncate(dfd, PAGE), 0); /* pages 1..3 of TD_DATA are gone */

	/* source gone, in one region: the descriptor faults SRC */
	put_desc(list, 0, TD_DATA, 0, PAGE, TESTDEV_DESC_F_DST_BAR2);
	put_desc(list, 1, TD_DATA + 2 * PAGE, PAGE, PAGE, TESTDEV_DESC_F_DST_BAR2);
	td_start(&fx, TD_LIST, 2);
	td_expect(&fx, TESTDEV_FAULT_SRC, 1, 1);
	assert_int_equal(desc_status(list, 0), TESTDEV_DESC_ST_DONE);
	assert_int_equal(desc_status(list, 1), TESTDEV_DESC_ST_ERROR | (TESTDEV_FAULT_SRC << TESTDEV_DESC_ST_FAULT_SHIFT));
	assert_int_equal(fx_region_read(&fx, 2, 0, bar, sizeof(bar)), 0);
	assert_memory_equal(bar, data, sizeof(bar));
	/* destination gone */
	put_desc(list, 0, 0, TD_DATA + 3 * PAGE, 64, TESTDEV_DESC_F_SRC_BAR2);
	td_start(&fx, TD_LIST, 1);
	td_expect(&fx, TESTDEV_FAULT_DST, 0, 0);
	/* a copy spanning two regions goes through the host's chunked copy */
	put_desc(list, 0, TD_NEXT - PAGE / 2, 0, PAGE, TESTDEV_DESC_F_DST_BAR2);
	put_desc(list, 1, 0, TD_NEXT - PAGE / 2, PAGE, TESTDEV_DESC_F_SRC_BAR2);
	td_start(&fx, TD_LIST, 1);
	td_expect(&fx, TESTDEV_FAULT_SRC, 0, 0);
	td_start(&fx, TD_LIST + TESTDEV_DESC_SIZE, 1);
	td_expect(&fx, TESTDEV_FAULT_DST, 0, 0);
	/* the descriptor list itself gone */
	munmap(list, PAGE);
	assert_int_equal(ftruncate(lfd, 0), 0);
	td_start(&fx, TD_LIST, 1);
	td_expect(&fx, TESTDEV_FAULT_DESC_ADDR, 0, 0);
	assert_int_equal(fx_rd32(&fx, 0, TESTDEV_REG_FAULT_COUNT), 5);
	assert_alive(&fx);

	/* the next client is served */
	fx_reconnect(&fx);
	fx_negotiate(&fx);
	assert_int_equal(ftruncate(lfd, PAGE), 0);
	list = map_fd(lfd, PAGE);
	assert_int_equal(fx_dma_map(&fx, TD_LIST, PAGE, 0, RW, lfd), 0);
	assert_int_equal(fx_dma_map(&fx, TD_DATA, PAGE, 0, RW, dfd), 0);
	put_desc(list, 0, 0, TD_DATA + 64, 64, TESTDEV_DESC_F_SRC_BAR2);
	td_start(&fx, TD_LIST, 1);
	td_expect(&fx, 0, 0, 1);
	assert_memory_equal(data + 64, data, 64);
	munmap(list, PAGE);
	munmap(data, PAGE);
	close(lfd);
	close(dfd);
	close(nfd);
	fx_close(&fx);
}

/* ---- DMA_MAP takes memory only, not files a page fault could wait on ---- */

/* A one-page file in @dir (unlinked at once), or -1 if @dir has none. */
static int file_in(const char *dir)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/upci-srv-mem-XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	unlink(path);
	assert_int_equal(ftruncate(fd, PAGE), 0);
	return fd;
}

static void test_map_fd_kinds(void **state)
{
	struct srv_fx fx;
	struct statfs fs;
	int disk = file_in("."), shm = file_in("/dev/shm"), pfd[2], dir = open(".", O_RDONLY | O_DIRECTORY);

	(void)state;
	assert_true(disk >= 0 && dir >= 0);
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(fstatfs(disk, &fs), 0);
	fx_open(&fx, TESTDEV, NULL);
	fx_negotiate(&fx);
	/* the build directory is on a disk file system here (skip if not) */
	if (fs.f_type != TMPFS_MAGIC && fs.f_type != HUGETLBFS_MAGIC && fs.f_type != RAMFS_MAGIC)
		assert_int_equal(fx_dma_map(&fx, TD_DATA, PAGE, 0, RW, disk), -EINVAL);
	else
		print_message("note: . is on a memory file system: the disk-file case is not exercised\n");
	/* not files at all */
	assert_int_equal(fx_dma_map(&fx, TD_DATA, PAGE, 0, RW, pfd[0]), -ENODEV);
	assert_int_equal(fx_dma_map(&fx, TD_DATA, PAGE, 0, RW, dir), -ENODEV);
	/* tmpfs (what memory-backend-file on /dev/shm passes) and memfds are fine */
	if (shm >= 0)
		assert_int_equal(fx_dma_map(&fx, TD_DATA, PAGE, 0, RW, shm), 0);
	assert_alive(&fx);
	if (shm >= 0)
		close(shm);
	close(disk);
	close(dir);
	close(pfd[0]);
	close(pfd[1]);
	fx_close(&fx);
}

/* ---- 2. the BAR fd the server hands out cannot be resized ---- */

static int bar_fd(struct srv_fx *fx, unsigned bar)
{
	/* argsz large enough for the sparse-mmap capability, so the fd comes */
	struct vfu_region_info in = {.argsz = 256, .index = bar};
	struct vfu_msg rep;
	int fd;

	assert_int_equal(fx_call(fx, VFU_CMD_DEVICE_GET_REGION_INFO, &in, sizeof(in), NULL, 0, &rep), 0);
	assert_int_equal(rep.nr_fds, 1);
	fd = vfu_msg_take_fd(&rep, 0);
	vfu_msg_release(&rep);
	return fd;
}

static void test_bar_fd_sealed(void **state)
{
	const uint64_t size = TESTDEV_MEM_DEFAULT;
	struct srv_fx fx;
	struct stat st;
	uint32_t v = 0x5a5aa5a5;
	uint8_t *map;
	int fd;

	(void)state;
	fx_open(&fx, TESTDEV, NULL);
	fx_negotiate(&fx);
	fd = bar_fd(&fx, TESTDEV_BAR_MEM);
	/* neither down (SIGBUS for the server's next access) nor up */
	assert_int_equal(ftruncate(fd, 0), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(ftruncate(fd, (off_t)size / 2), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(ftruncate(fd, (off_t)1 << 40), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(fallocate(fd, 0, 0, (off_t)size * 2), -1);
	assert_int_equal(errno, EPERM);
	/* and no seal the server did not choose (a write seal would break
	 * its own mappings of the BAR) */
	assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, size);
	/* the BAR is served, to its last byte, and shared through the fd */
	assert_int_equal(fx_region_write(&fx, TESTDEV_BAR_MEM, size - 4, &v, 4), 0);
	assert_int_equal(fx_rd32(&fx, TESTDEV_BAR_MEM, size - 4), v);
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(map != MAP_FAILED);
	assert_memory_equal(map + size - 4, &v, 4);
	munmap(map, size);
	close(fd);
	assert_alive(&fx);
	fx_close(&fx);
}

/* ---- 4. the work one START buys is bounded ---- */

static void test_start_bounded(void **state)
{
	const uint32_t len = 1u << 20, per_run = (uint32_t)(TESTDEV_MAX_RUN_BYTES / len);
	const size_t lsize = TESTDEV_MAX_DESC * TESTDEV_DESC_SIZE;
	int lfd = test_memfd(lsize), dfd = test_memfd(2u * len);
	uint8_t *list = map_fd(lfd, lsize);
	struct srv_fx fx;

	(void)state;
	assert_true(per_run > 1 && per_run < TESTDEV_MAX_DESC);
	open_master(&fx, TESTDEV);
	assert_int_equal(fx_dma_map(&fx, TD_LIST, lsize, 0, RW, lfd), 0);
	assert_int_equal(fx_dma_map(&fx, TD_DATA, 2u * len, 0, RW, dfd), 0);
	/* 4096 descriptors of 1 MiB: 4 GiB of copying asked by one write */
	for (unsigned i = 0; i < TESTDEV_MAX_DESC; i++)
		put_desc(list, i, TD_DATA, TD_DATA + len, len, 0);
	td_start(&fx, TD_LIST, TESTDEV_MAX_DESC);
	/* the run stops where the next descriptor would pass the budget,
	 * before moving it; the rest is untouched */
	td_expect(&fx, TESTDEV_FAULT_BUDGET, per_run, per_run);
	assert_int_equal(fx_rd32(&fx, 0, TESTDEV_REG_BYTES), TESTDEV_MAX_RUN_BYTES);
	assert_int_equal(desc_status(list, per_run - 1), TESTDEV_DESC_ST_DONE);
	assert_int_equal(desc_status(list, per_run),
			 TESTDEV_DESC_ST_ERROR | (TESTDEV_FAULT_BUDGET << TESTDEV_DESC_ST_FAULT_SHIFT));
	assert_int_equal(desc_status(list, per_run + 1), 0);
	/* the driver resumes at DONE_COUNT with the next START */
	td_start(&fx, TD_LIST + (uint64_t)per_run * TESTDEV_DESC_SIZE, per_run);
	td_expect(&fx, 0, 0, per_run);
	assert_int_equal(desc_status(list, per_run), TESTDEV_DESC_ST_DONE);
	/* one descriptor longer than any run may be: LEN, as before */
	put_desc(list, 0, TD_DATA, TD_DATA + len, TESTDEV_MAX_LEN + 1, 0);
	td_start(&fx, TD_LIST, 1);
	td_expect(&fx, TESTDEV_FAULT_LEN, 0, 0);
	assert_alive(&fx);
	munmap(list, lsize);
	close(lfd);
	close(dfd);
	fx_close(&fx);
}

/* ---- 5. no more DMA maps than the process can mmap ---- */

static uint64_t max_map_count(void)
{
	unsigned long long v = 0;
	FILE *f = fopen("/proc/sys/vm/max_map_count", "r");

	assert_non_null(f);
	assert_int_equal(fscanf(f, "%llu", &v), 1);
	fclose(f);
	return v;
}

static void test_map_limit(void **state)
{
	struct srv_fx fx;
	struct vfu_msg rep;
	struct vfu_caps c;
	uint16_t major, minor;
	uint64_t limit = max_map_count();
	int fd = test_memfd(PAGE), maps_before, fds_before;
	uint32_t i;
	void *p;

	(void)state;
	fx_open(&fx, TESTDEV, NULL); /* the default: 65,535, over the kernel's default 65,530 */
	assert_int_equal(fx_version(&fx, "{\"capabilities\":{\"max_msg_fds\":8}}", &rep), 0);
	assert_int_equal(vfu_version_parse(rep.payload, rep.len, &major, &minor, &c), 0);
	vfu_msg_release(&rep);
	maps_before = count_maps();
	fds_before = count_fds();
	/* what VERSION offers fits in what the kernel lets us map, with room */
	assert_true(c.max_dma_maps >= 1);
	assert_true((uint64_t)c.max_dma_maps + (uint64_t)maps_before < limit);
	print_message("max_map_count %llu, mappings in use %d, DMA maps offered %u\n", (unsigned long long)limit,
		      maps_before, c.max_dma_maps);
	/* every map up to it works (each one an mmap of the client's fd) */
	for (i = 0; i < c.max_dma_maps; i++)
		if (fx_dma_map(&fx, TD_DATA + (uint64_t)i * PAGE, PAGE, 0, RW, fd) != 0)
			break;
	assert_int_equal(i, c.max_dma_maps);
	/* the next one is refused, fd or not, and the process can still map */
	assert_int_equal(fx_dma_map(&fx, TD_DATA + (uint64_t)i * PAGE, PAGE, 0, RW, fd), -ENOSPC);
	assert_int_equal(fx_dma_map(&fx, TD_DATA + (uint64_t)i * PAGE, PAGE, 0, RW, -1), -ENOSPC);
	p = mmap(NULL, 64 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(p != MAP_FAILED);
	munmap(p, 64 * PAGE);
	assert_alive(&fx);
	/* all of it goes with one unmap (the allocator may have grown by a
	 * few mappings for the tables) */
	assert_int_equal(fx_dma_unmap(&fx, 0, 0, VFU_DMA_UNMAP_F_ALL), 0);
	assert_true(count_maps() < maps_before + 64);
	assert_int_equal(count_fds(), fds_before);
	assert_int_equal(fx_dma_map(&fx, TD_DATA, PAGE, 0, RW, fd), 0);
	close(fd);
	fx_close(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shrunk_edu),
		cmocka_unit_test(test_shrunk_testdev),
		cmocka_unit_test(test_map_fd_kinds),
		cmocka_unit_test(test_bar_fd_sealed),
		cmocka_unit_test(test_start_bounded),
		cmocka_unit_test(test_map_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the VFIO capability-chain walker (src/backend/vfio/
 * vfio_caps.c) on hand-built replies: the layout real kernels produce
 * (Linux 6.1 type1 info: capabilities at 4-byte offsets) and hostile ones
 * (loops, offsets outside the reply or inside its fixed part, capabilities
 * cut short), plus the error path of vfio_info_get.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "vfio.h"

static void put_cap(uint8_t *buf, size_t at, uint16_t id, uint32_t next)
{
	struct vfio_info_cap_header h = {.id = id, .version = 1, .next = next};

	memcpy(buf + at, &h, sizeof(h));
}

/* The type1 info reply seen on QEMU 7.2 / Linux 6.1: migration (32 bytes)
 * at 24, DMA_AVAIL (12 bytes) at 56, IOVA ranges at 68 (not 8-aligned). */
static void test_kernel_layout(void **state)
{
	uint8_t buf[116] = {0};
	size_t off = 0;

	(void)state;
	put_cap(buf, 24, VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION, 56);
	put_cap(buf, 56, VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, 68);
	put_cap(buf, 68, VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, 0);
	assert_int_equal(vfio_cap_find(buf, sizeof(buf), 24, 24, VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, 48, &off), 0);
	assert_int_equal(off, 68);
	assert_int_equal(vfio_cap_find(buf, sizeof(buf), 24, 24, VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, 12, &off), 0);
	assert_int_equal(off, 56);
	assert_int_equal(vfio_cap_find(buf, sizeof(buf), 24, 24, 77, 8, &off), -ENOENT);
	assert_int_equal(vfio_cap_find(buf, sizeof(buf), 24, 0, 1, 8, &off), -ENOENT); /* no chain */
}

static void test_hostile(void **state)
{
	uint8_t buf[128] = {0};
	size_t off;

	(void)state;
	/* A two-element loop and a self-loop. */
	put_cap(buf, 24, 5, 40);
	put_cap(buf, 40, 6, 24);
	assert_int_equal(vfio_cap_find(buf, sizeof(buf), 24, 24, 9, 8, &off), -ELOOP);
	put_cap(buf, 24, 5, 24);
	assert_int_equal(vfio_cap_find(buf, sizeof(buf), 24, 24, 9, 8, &off), -ELOOP);
	/* Next beyond the reply, or with no room for a header. */
	put_cap(buf, 24, 5, 4096);
	assert_int_equal(vfio_cap_find(buf, sizeof(buf), 24, 24, 9, 8, &off), -EPROTO);
	put_cap(buf, 24, 5, sizeof(buf) - 4);
	assert_int_equal(vfio_cap_find(buf, sizeof(buf), 24, 24, 9, 8, &off), -EPROTO);
	put_cap(buf, 24, 5, UINT32_MAX);
	assert_int_equal(vfio_cap_find(buf, sizeof(buf), 24, 24, 9, 8, &off), -EPROTO);
	/* Pointing into the fixed part of the reply. */
	put_cap(buf, 24, 5, 8);
	assert_int_equal(vfio_cap_find(buf, sizeof(buf), 24, 24, 9, 8, &off), -EPROTO);
	assert_int_equal(vfio_cap_find(buf, sizeof(buf), 24, 4, 9, 8, &off), -EPROTO);
	/* Found, but shorter than the caller needs. */
	put_cap(buf, 112, 9, 0);
	put_cap(buf, 24, 5, 112);
	assert_int_equal(vfio_cap_find(buf, sizeof(buf), 24, 24, 9, 16, &off), 0);
	assert_int_equal(off, 112);
	assert_int_equal(vfio_cap_find(buf, sizeof(buf), 24, 24, 9, 17, &off), -EPROTO);
	/* Bad arguments. */
	assert_int_equal(vfio_cap_find(NULL, sizeof(buf), 24, 24, 9, 8, &off), -EINVAL);
	assert_int_equal(vfio_cap_find(buf, sizeof(buf), 24, 24, 9, 4, &off), -EINVAL);
	assert_int_equal(vfio_cap_find(buf, 16, 24, 24, 9, 8, &off), -EINVAL);
}

/* A long chain that is not a loop is walked to its end. */
static void test_long_chain(void **state)
{
	uint8_t buf[8 * 64] = {0};
	size_t off;

	(void)state;
	for (size_t at = 8; at < sizeof(buf); at += 8)
		put_cap(buf, at, (uint16_t)at, at + 8 < sizeof(buf) ? (uint32_t)(at + 8) : 0);
	assert_int_equal(vfio_cap_find(buf, sizeof(buf), 8, 8, (uint16_t)(sizeof(buf) - 8), 8, &off), 0);
	assert_int_equal(off, sizeof(buf) - 8);
}

/* vfio_info_get reports the ioctl's errno (here: not a VFIO fd). */
static void test_info_get_error(void **state)
{
	struct vfio_region_info ri = {.index = 0};
	void *out = (void *)1;
	size_t sz = 1;
	int fd = open("/dev/null", O_RDWR);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(vfio_info_get(fd, VFIO_DEVICE_GET_REGION_INFO, "VFIO_DEVICE_GET_REGION_INFO", &ri,
				       sizeof(ri), &out, &sz),
			 -ENOTTY);
	assert_null(out);
	assert_int_equal(sz, 0);
	assert_int_equal(vfio_info_get(fd, VFIO_DEVICE_GET_REGION_INFO, "x", &ri, 2, &out, &sz), -EINVAL);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_layout),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_long_chain),
		cmocka_unit_test(test_info_get_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

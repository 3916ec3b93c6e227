/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the read-only sysfs backend (src/backend/sysfs) against a
 * fake sysfs tree: identity and BARs of a well-formed function, every
 * driving call refused, an unprivileged reader's 64-byte config file, and
 * hostile resource tables and config files.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "host_pci.h"
#include "upci/upci.h"

static char root[256];

static void put(const char *bdf, const char *attr, const void *val, size_t len)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s", root, bdf);
	{
		char cmd[1100];

		snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", path);
		assert_int_equal(system(cmd), 0);
	}
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/%s", root, bdf, attr);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(val, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static const char res_ok[] =
	"0x00000000fe000000 0x00000000fe0fffff 0x0000000000040200\n" /* BAR0 1 MiB mem32 */
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x0000004000000000 0x0000004000003fff 0x000000000014220c\n" /* BAR2 16 KiB mem64 prefetch */
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x000000000000c000 0x000000000000c007 0x0000000000040101\n" /* BAR4 8 ports */
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n";

/* A type-0 header: 1234:11e8 rev 10, class 00ff00, subsystem 1af4:1100. */
static void header(uint8_t *cfg)
{
	memset(cfg, 0, 256);
	cfg[0x00] = 0x34; cfg[0x01] = 0x12; cfg[0x02] = 0xe8; cfg[0x03] = 0x11;
	cfg[0x06] = 0x10; cfg[0x08] = 0x10; cfg[0x0a] = 0xff;
	cfg[0x2c] = 0xf4; cfg[0x2d] = 0x1a; cfg[0x2e] = 0x00; cfg[0x2f] = 0x11;
	cfg[0x34] = 0x40; cfg[0x40] = 0x05; cfg[0x41] = 0x00;
}

static int setup(void **state)
{
	uint8_t cfg[256];

	(void)state;
	snprintf(root, sizeof(root), "%s/upci-sysfs-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(root));
	upci__sysfs_root = root;
	header(cfg);
	put("0000:00:03.0", "config", cfg, sizeof(cfg));
	put("0000:00:03.0", "resource", res_ok, strlen(res_ok));
	/* An unprivileged reader: the kernel gives only 64 bytes. */
	put("0000:00:04.0", "config", cfg, 64);
	put("0000:00:04.0", "resource", res_ok, strlen(res_ok));
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	upci__sysfs_root = NULL;
	return 0;
}

static void test_identity_and_bars(void **state)
{
	struct upci_identity id;
	struct upci_bar_info bi;
	upci_dev *dev;

	(void)state;
	assert_int_equal(upci_open(&dev, "sysfs:00:03.0"), 0);
	assert_int_equal(upci_identity(dev, &id), 0);
	assert_string_equal(id.backend, "sysfs");
	assert_int_equal(id.vendor_id, 0x1234);
	assert_int_equal(id.device_id, 0x11e8);
	assert_int_equal(id.revision, 0x10);
	assert_int_equal(id.class_code, 0x00ff00);
	assert_int_equal(id.subsys_vendor_id, 0x1af4);
	assert_int_equal(id.subsys_id, 0x1100);
	assert_int_equal(id.config_size, 256);
	assert_int_equal(id.function, 0);
	assert_int_equal(id.device, 3);
	assert_int_equal(upci_bar_info(dev, 0, &bi), 0);
	assert_int_equal(bi.size, 0x100000);
	assert_int_equal(bi.flags, UPCI_BAR_PRESENT);
	assert_int_equal(upci_bar_info(dev, 1, &bi), 0);
	assert_int_equal(bi.flags, 0);
	assert_int_equal(upci_bar_info(dev, 2, &bi), 0);
	assert_int_equal(bi.size, 0x4000);
	assert_int_equal(bi.flags, UPCI_BAR_PRESENT | UPCI_BAR_MEM64 | UPCI_BAR_PREFETCH);
	assert_int_equal(upci_bar_info(dev, 4, &bi), 0);
	assert_int_equal(bi.size, 8);
	assert_int_equal(bi.flags, UPCI_BAR_PRESENT | UPCI_BAR_IO);
	upci_close(dev);
}

static void test_config_reads(void **state)
{
	uint8_t buf[256], want[256];
	uint32_t v;
	upci_dev *dev;

	(void)state;
	header(want);
	assert_int_equal(upci_open(&dev, "sysfs:0000:00:03.0"), 0);
	assert_int_equal(upci_config_read(dev, 0x00, 4, &v), 0);
	assert_int_equal(v, 0x11e81234);
	assert_int_equal(upci_config_read(dev, 0x40, 1, &v), 0);
	assert_int_equal(v, 0x05);
	assert_int_equal(upci_config_read_block(dev, 0, buf, sizeof(buf)), 0);
	assert_memory_equal(buf, want, sizeof(buf));
	assert_int_equal(upci_config_read(dev, 0x100, 4, &v), -ERANGE);
	upci_close(dev);
}

/* Everything that drives the device is refused, each with its own errno. */
static void test_read_only(void **state)
{
	upci_dev *dev;
	uint64_t v;
	void *addr;
	size_t len;

	(void)state;
	assert_int_equal(upci_open(&dev, "sysfs:00:03.0"), 0);
	assert_int_equal(upci_claim(dev), -ENOTSUP);
	assert_int_equal(upci_config_write(dev, 0x04, 2, 0x6), -EPERM);
	assert_int_equal(upci_mmio_read(dev, 0, 0, 4, &v), -EPERM);
	assert_int_equal(upci_bar_map(dev, 0, &addr, &len), -EPERM);
	assert_int_equal(upci_irq_enable(dev, UPCI_IRQ_AUTO, 1), -EPERM);
	assert_int_equal(upci_reset(dev), -EPERM);
	upci_close(dev);
}

/* A non-root reader sees 64 bytes: the header works, the rest is -EACCES. */
static void test_unprivileged(void **state)
{
	uint8_t buf[256];
	uint32_t v;
	upci_dev *dev;

	(void)state;
	assert_int_equal(upci_open(&dev, "sysfs:00:04.0"), 0);
	assert_int_equal(upci_config_read(dev, 0x3c, 4, &v), 0);
	assert_int_equal(upci_config_read(dev, 0x40, 4, &v), -EACCES);
	assert_int_equal(upci_config_read_block(dev, 0, buf, sizeof(buf)), -EACCES);
	assert_int_equal(upci_config_read_block(dev, 0, buf, 64), 0);
	upci_close(dev);
}

static void test_absent_and_hostile(void **state)
{
	static const char *const bad_res[] = {
		"junk\n",
		"0x0 0x0\n",
		"0x00000000fe000000 0x00000000fe0fffff 0x0000000000040200", /* no newline, one line */
		"0x00000000000000000 0x0 0x0\n", /* 17 digits */
	};
	uint8_t cfg[256];
	upci_dev *dev;

	(void)state;
	assert_int_equal(upci_open(&dev, "sysfs:00:1f.0"), -ENOENT);
	assert_int_equal(upci_open(&dev, "sysfs:00:20.0"), -EINVAL);
	assert_int_equal(upci_open(&dev, "sysfs:"), -EINVAL);
	header(cfg);
	for (size_t i = 0; i < sizeof(bad_res) / sizeof(bad_res[0]); i++) {
		put("0000:00:05.0", "config", cfg, sizeof(cfg));
		put("0000:00:05.0", "resource", bad_res[i], strlen(bad_res[i]));
		assert_int_not_equal(upci_open(&dev, "sysfs:00:05.0"), 0);
	}
	/* A config file shorter than a header is not a config file. */
	put("0000:00:05.0", "config", cfg, 16);
	put("0000:00:05.0", "resource", res_ok, strlen(res_ok));
	assert_int_equal(upci_open(&dev, "sysfs:00:05.0"), -EIO);
	/* A BAR size that is not a power of two is not offered. */
	{
		static const char odd[] = "0x0000000000001000 0x0000000000001fff 0x0000000000040200\n"
					  "0x0000000000002000 0x0000000000002ffe 0x0000000000040200\n";
		char res[1024];
		struct upci_bar_info bi;

		snprintf(res, sizeof(res), "%s%s", odd, strchr(strchr(strchr(res_ok, '\n') + 1, '\n') + 1, '\n') + 1);
		put("0000:00:05.0", "config", cfg, sizeof(cfg));
		put("0000:00:05.0", "resource", res, strlen(res));
		assert_int_equal(upci_open(&dev, "sysfs:00:05.0"), 0);
		assert_int_equal(upci_bar_info(dev, 0, &bi), 0);
		assert_int_equal(bi.size, 0x1000);
		assert_int_equal(upci_bar_info(dev, 1, &bi), 0);
		assert_int_equal(bi.flags, 0);
		upci_close(dev);
	}
}

static void test_attr_long(void **state)
{
	long v;

	(void)state;
	put("0000:00:03.0", "irq", "11\n", 3);
	put("0000:00:03.0", "numa_node", "-1\n", 3);
	put("0000:00:04.0", "irq", "1x\n", 3);
	assert_int_equal(hostpci_attr_long(root, "0000:00:03.0", "irq", &v), 0);
	assert_int_equal(v, 11);
	assert_int_equal(hostpci_attr_long(root, "0000:00:03.0", "numa_node", &v), 0);
	assert_int_equal(v, -1);
	assert_int_equal(hostpci_attr_long(root, "0000:00:04.0", "irq", &v), -EINVAL);
	assert_int_equal(hostpci_attr_long(root, "0000:00:04.0", "numa_node", &v), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity_and_bars),
		cmocka_unit_test(test_config_reads),
		cmocka_unit_test(test_read_only),
		cmocka_unit_test(test_unprivileged),
		cmocka_unit_test(test_absent_and_hostile),
		cmocka_unit_test(test_attr_long),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

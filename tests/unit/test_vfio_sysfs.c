/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/backend/vfio/sysfs.c against a fake sysfs tree built
 * in a temporary directory: well-formed devices as Linux lays them out
 * (Documentation/ABI/testing/sysfs-bus-pci, sysfs-kernel-iommu_groups) and
 * hostile ones (junk names, over-long or malformed attributes, odd links).
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend.h"
#include "sysfs.h"
#include "vfio.h"

static char root[256];

static void mkdirs(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void mkdirs(const char *fmt, ...)
{
	char path[1024], cmd[1100];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", path);
	assert_int_equal(system(cmd), 0);
}

static void put(const char *dev, const char *attr, const char *val)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/%s", root, dev, attr);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(val, f);
	assert_int_equal(fclose(f), 0);
}

static void link_to(const char *target, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void link_to(const char *target, const char *fmt, ...)
{
	char path[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	assert_int_equal(symlink(target, path), 0);
}

/* A function as the kernel shows it; @drv/@group may be NULL/-1. */
static void add_dev(const char *bdf, const char *ids[6], const char *drv, int group)
{
	static const char *const names[] = {"vendor", "device", "subsystem_vendor", "subsystem_device", "class",
					    "revision"};
	char target[256];

	mkdirs("%s/bus/pci/devices/%s", root, bdf);
	for (int i = 0; i < 6; i++)
		if (ids[i])
			put(bdf, names[i], ids[i]);
	put(bdf, "driver_override", "(null)\n");
	if (drv) {
		snprintf(target, sizeof(target), "../../../../bus/pci/drivers/%s", drv);
		link_to(target, "%s/bus/pci/devices/%s/driver", root, bdf);
	}
	if (group >= 0) {
		snprintf(target, sizeof(target), "../../../../kernel/iommu_groups/%d", group);
		link_to(target, "%s/bus/pci/devices/%s/iommu_group", root, bdf);
		mkdirs("%s/kernel/iommu_groups/%d/devices", root, group);
		snprintf(target, sizeof(target), "../../../../bus/pci/devices/%s", bdf);
		link_to(target, "%s/kernel/iommu_groups/%d/devices/%s", root, group, bdf);
	}
}

static int setup(void **state)
{
	static const char *edu[6] = {"0x1234\n", "0x11e8\n", "0x1af4\n", "0x1100\n", "0x00ff00\n", "0x10\n"};
	static const char *serial[6] = {"0x1b36\n", "0x0002\n", "0x1af4\n", "0x1100\n", "0x070002\n", "0x01\n"};
	static const char *bridge[6] = {"0x1b36\n", "0x000e\n", "0x0000\n", "0x0000\n", "0x060400\n", "0x00\n"};
	static const char *junk[6] = {"0x12345\n", "1234\n", "0x1af4 \n", "0x\n", "0x00ff00\nmore\n", "0x10\n"};
	unsigned char cfg[64] = {0};
	char big[5000];
	FILE *f;

	(void)state;
	snprintf(root, sizeof(root), "%s/upci-sysfs-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(root));
	mkdirs("%s/bus/pci/drivers/vfio-pci", root);
	mkdirs("%s/bus/pci/drivers/serial", root);
	add_dev("0000:00:02.0", edu, "vfio-pci", 2);
	mkdirs("%s/bus/pci/devices/0000:00:02.0/vfio-dev/vfio7", root);
	put("0000:00:02.0", "vfio-dev/vfio7/dev", "511:7\n");
	add_dev("0000:00:03.0", serial, "serial", 3);
	put("0000:00:03.0", "driver_override", "vfio-pci\n");
	add_dev("0000:00:04.0", bridge, "shpchp", 3);
	cfg[0x0e] = 0x01; /* header type 1 */
	{
		char path[1024];

		snprintf(path, sizeof(path), "%s/bus/pci/devices/0000:00:04.0/config", root);
		f = fopen(path, "w");
		assert_non_null(f);
		assert_int_equal(fwrite(cfg, 1, sizeof(cfg), f), sizeof(cfg));
		fclose(f);
	}
	add_dev("0000:00:05.0", edu, NULL, -1);
	/* Hostile: malformed IDs, a group link that is not a number, a driver
	 * link with a blank in its name, an enormous revision file. */
	add_dev("0000:00:06.0", junk, NULL, -1);
	link_to("../../../kernel/iommu_groups/abc", "%s/bus/pci/devices/0000:00:06.0/iommu_group", root);
	link_to("../../drivers/bad name", "%s/bus/pci/devices/0000:00:06.0/driver", root);
	add_dev("0001:10:1f.7", edu, "vfio-pci", 12);
	/* Linux 6.1..6.5 list vfio-dev/vfioN with no character device. */
	mkdirs("%s/bus/pci/devices/0001:10:1f.7/vfio-dev/vfio3", root);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	put("0001:10:1f.7", "revision", big);
	/* Names that are not canonical BDFs are skipped by a walk. */
	mkdirs("%s/bus/pci/devices/foo", root);
	mkdirs("%s/bus/pci/devices/0000:00:20.0", root);
	mkdirs("%s/bus/pci/devices/0000:0:1.0", root);
	mkdirs("%s/bus/pci/devices/0000:00:01.8", root);
	mkdirs("%s/kernel/iommu_groups/3/devices/junk", root);
	return 0;
}

static int teardown(void **state)
{
	char cmd[600];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_bdf_canon(void **state)
{
	char out[SYSFS_BDF_LEN];

	(void)state;
	assert_int_equal(sysfs_bdf_canon("0000:00:02.0", out), 0);
	assert_string_equal(out, "0000:00:02.0");
	assert_int_equal(sysfs_bdf_canon("3:0.7", out), 0);
	assert_string_equal(out, "0000:03:00.7");
	assert_int_equal(sysfs_bdf_canon("ABCD:Ef:1F.1", out), 0);
	assert_string_equal(out, "abcd:ef:1f.1");
	assert_int_equal(sysfs_bdf_canon("10000:00:00.0", out), 0); /* VMD-style domain */
	assert_string_equal(out, "10000:00:00.0");
	static const char *const bad[] = {
		"", "00:02", "0000:00:02", "00:20.0", "00:1f.8", "000000000:00:00.0", "0000:100:00.0",
		"0000:00:00.0 ", " 0000:00:00.0", "0000:00:00.00", "0000::00.0", "g0:00.0", "0000:00:00:00.0",
		"-1:00.0", "0x00:00.0",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sysfs_bdf_canon(bad[i], out) != -EINVAL)
			print_error("accepted \"%s\"\n", bad[i]);
		assert_int_equal(sysfs_bdf_canon(bad[i], out), -EINVAL);
	}
	assert_int_equal(sysfs_bdf_canon(NULL, out), -EINVAL);
}

static void test_get(void **state)
{
	struct sysfs_pci_dev d;

	(void)state;
	assert_int_equal(sysfs_pci_get(root, "00:02.0", &d), 0);
	assert_string_equal(d.bdf, "0000:00:02.0");
	assert_true(d.ids_ok);
	assert_int_equal(d.vendor, 0x1234);
	assert_int_equal(d.device, 0x11e8);
	assert_int_equal(d.subsys_vendor, 0x1af4);
	assert_int_equal(d.subsys_device, 0x1100);
	assert_int_equal(d.class_code, 0x00ff00);
	assert_int_equal(d.revision, 0x10);
	assert_string_equal(d.driver, "vfio-pci");
	assert_string_equal(d.driver_override, "");
	assert_int_equal(d.iommu_group, 2);
	assert_int_equal(d.vfio_cdev, 7);
	assert_false(d.is_bridge);

	assert_int_equal(sysfs_pci_get(root, "0000:00:03.0", &d), 0);
	assert_string_equal(d.driver, "serial");
	assert_string_equal(d.driver_override, "vfio-pci");
	assert_int_equal(d.iommu_group, 3);
	assert_int_equal(d.vfio_cdev, -1);

	assert_int_equal(sysfs_pci_get(root, "0000:00:04.0", &d), 0);
	assert_true(d.is_bridge);

	assert_int_equal(sysfs_pci_get(root, "0000:00:05.0", &d), 0);
	assert_string_equal(d.driver, "");
	assert_int_equal(d.iommu_group, -1);

	/* Hostile attributes read as unknown, never as a guess. */
	assert_int_equal(sysfs_pci_get(root, "0000:00:06.0", &d), 0);
	assert_false(d.ids_ok);
	assert_int_equal(d.iommu_group, -1);
	assert_string_equal(d.driver, "?");
	assert_int_equal(sysfs_pci_get(root, "0001:10:1f.7", &d), 0);
	assert_false(d.ids_ok); /* revision file far too long */
	assert_int_equal(d.iommu_group, 12);
	assert_int_equal(d.vfio_cdev, -1);

	assert_int_equal(sysfs_pci_get(root, "0000:00:07.0", &d), -ENOENT);
	assert_int_equal(sysfs_pci_get(root, "junk", &d), -EINVAL);
	assert_int_equal(sysfs_pci_get(root, "0000:00:02.0", NULL), -EINVAL);
	assert_int_equal(sysfs_pci_get("/nonexistent-upci-root", "0000:00:02.0", &d), -ENOENT);
}

static void test_list(void **state)
{
	static const char *const want[] = {"0000:00:02.0", "0000:00:03.0", "0000:00:04.0",
					   "0000:00:05.0", "0000:00:06.0", "0001:10:1f.7"};
	struct sysfs_pci_dev *v;
	size_t n;

	(void)state;
	assert_int_equal(sysfs_pci_list(root, &v, &n), 0);
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < n; i++)
		assert_string_equal(v[i].bdf, want[i]);
	free(v);
	assert_int_equal(sysfs_pci_list("/nonexistent-upci-root", &v, &n), -ENOENT);
	assert_int_equal(sysfs_pci_list(root, NULL, &n), -EINVAL);
}

static void test_group(void **state)
{
	char (*m)[SYSFS_BDF_LEN];
	size_t n;

	(void)state;
	assert_int_equal(sysfs_group_members(root, 3, &m, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(m[0], "0000:00:03.0");
	assert_string_equal(m[1], "0000:00:04.0");
	free(m);
	assert_int_equal(sysfs_group_members(root, 2, &m, &n), 0);
	assert_int_equal(n, 1);
	free(m);
	assert_int_equal(sysfs_group_members(root, 99, &m, &n), -ENOENT);
	assert_int_equal(sysfs_group_members(root, -1, &m, &n), -EINVAL);
}

static void test_driver_ok(void **state)
{
	struct sysfs_pci_dev d;

	(void)state;
	memset(&d, 0, sizeof(d));
	assert_true(sysfs_driver_vfio_ok(&d)); /* no driver */
	strcpy(d.driver, "vfio-pci");
	assert_true(sysfs_driver_vfio_ok(&d));
	strcpy(d.driver, "mlx5_vfio_pci");
	assert_true(sysfs_driver_vfio_ok(&d));
	strcpy(d.driver, "pci-stub");
	assert_true(sysfs_driver_vfio_ok(&d));
	strcpy(d.driver, "pcieport");
	assert_true(sysfs_driver_vfio_ok(&d));
	strcpy(d.driver, "serial");
	assert_false(sysfs_driver_vfio_ok(&d));
	strcpy(d.driver, "nvme");
	assert_false(sysfs_driver_vfio_ok(&d));
	d.is_bridge = 1;
	assert_true(sysfs_driver_vfio_ok(&d));
}

static void test_write(void **state)
{
	char path[1024], buf[64] = "";
	FILE *f;

	(void)state;
	assert_int_equal(sysfs_write(root, "0000:00:03.0", "driver_override", "serial\n"), 0);
	snprintf(path, sizeof(path), "%s/bus/pci/devices/0000:00:03.0/driver_override", root);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "serial\n");
	assert_int_equal(sysfs_write(root, "0000:00:03.0", "../../../etc", "x"), -EINVAL);
	assert_int_equal(sysfs_write(root, "0000:00:03.0", "driver_override", ""), -EINVAL);
	assert_int_equal(sysfs_write(root, "bad", "driver_override", "x"), -EINVAL);
	assert_int_equal(sysfs_write(root, "0000:00:09.0", "driver_override", "x"), -ENOENT);
	assert_int_equal(sysfs_write(root, NULL, "no_such_attr", "x"), -ENOENT);
	assert_true(sysfs_driver_present(root, "vfio-pci"));
	assert_false(sysfs_driver_present(root, "nvme"));
	assert_false(sysfs_driver_present(root, "../pci"));
}

/* A file of @size zero bytes at @root/@rel (directories made). */
static void touch(const char *base, const char *rel, size_t size)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", base, rel);
	mkdirs("%.*s", (int)(strrchr(path, '/') - path), path);
	f = fopen(path, "w");
	assert_non_null(f);
	for (size_t i = 0; i < size; i++)
		fputc(0, f);
	assert_int_equal(fclose(f), 0);
}

static const struct upci_found *entry(const struct upci_enum_sink *s, const char *uri)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].uri, uri) == 0)
			return &s->v[i];
	fail_msg("%s not listed", uri);
	return NULL;
}

/*
 * upci_enumerate("vfio") on a tree of its own (the shared one stays as
 * the other tests expect it): identity from sysfs, and each reason a
 * function is not ready, in the order vfio_dev_open() meets them.
 */
static void test_enum(void **state)
{
	static const char *edu[6] = {"0x1234\n", "0x11e8\n", "0x1af4\n", "0x1100\n", "0x00ff00\n", "0x10\n"};
	static const char *nic[6] = {"0x8086\n", "0x10d3\n", "0x8086\n", "0x0000\n", "0x020000\n", "0x00\n"};
	char saved[sizeof(root)], dev[300], cmd[700];
	struct upci_enum_sink s = {.scheme = "vfio"};
	const struct upci_found *f;

	(void)state;
	memcpy(saved, root, sizeof(root));
	snprintf(root, sizeof(root), "%s/upci-enum-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(root));
	snprintf(dev, sizeof(dev), "%s/dev", root);
	mkdirs("%s/bus/pci/drivers/vfio-pci", root);
	add_dev("0000:00:02.0", edu, "vfio-pci", 2);    /* cdev 7: ready */
	mkdirs("%s/bus/pci/devices/0000:00:02.0/vfio-dev/vfio7", root);
	put("0000:00:02.0", "vfio-dev/vfio7/dev", "511:7\n");
	touch(root, "bus/pci/devices/0000:00:02.0/config", 4096);
	add_dev("0000:00:03.0", edu, "vfio-pci", 3);    /* shares group 3 with a bound NIC */
	add_dev("0000:00:04.0", nic, "e1000e", 3);
	add_dev("0000:00:05.0", edu, "vfio-pci", 5);    /* group node only, not accessible */
	add_dev("0000:00:06.0", edu, "vfio-pci", 6);    /* group node and container: ready */
	add_dev("0000:00:07.0", nic, NULL, 7);          /* no driver */
	touch(dev, "vfio/devices/vfio7", 0);
	touch(dev, "iommu", 0);
	touch(dev, "vfio/vfio", 0);
	touch(dev, "vfio/6", 0);
	touch(dev, "vfio/3", 0);

	assert_int_equal(vfio_enum_at(root, dev, &s), 0);
	assert_int_equal(s.n, 6);
	f = entry(&s, "vfio:0000:00:02.0");
	assert_int_equal(f->flags, UPCI_FOUND_READY | UPCI_FOUND_IDS);
	assert_string_equal(f->why, "");
	assert_int_equal(f->id.vendor_id, 0x1234);
	assert_int_equal(f->id.device_id, 0x11e8);
	assert_int_equal(f->id.subsys_vendor_id, 0x1af4);
	assert_int_equal(f->id.subsys_id, 0x1100);
	assert_int_equal(f->id.class_code, 0x00ff00);
	assert_int_equal(f->id.revision, 0x10);
	assert_int_equal(f->id.config_size, 4096);
	assert_int_equal(f->id.device, 2);
	assert_string_equal(f->id.backend, "vfio");
	assert_string_equal(f->driver, "vfio-pci");
	assert_int_equal(f->iommu_group, 2);
	f = entry(&s, "vfio:0000:00:03.0");
	assert_false(f->flags & UPCI_FOUND_READY);
	assert_string_equal(f->why, "IOMMU group 3 also holds 0000:00:04.0, bound to e1000e: bind it to vfio-pci too");
	assert_int_equal(f->id.config_size, 0); /* no config file */
	f = entry(&s, "vfio:0000:00:04.0");
	assert_string_equal(f->why, "bound to e1000e, not vfio-pci: run 'upci bind 0000:00:04.0'");
	f = entry(&s, "vfio:0000:00:05.0");
	assert_false(f->flags & UPCI_FOUND_READY);
	assert_non_null(strstr(f->why, "no read-write access to "));
	assert_non_null(strstr(f->why, "/dev/vfio/5"));
	f = entry(&s, "vfio:0000:00:06.0");
	assert_true(f->flags & UPCI_FOUND_READY);
	f = entry(&s, "vfio:0000:00:07.0");
	assert_string_equal(f->why, "no driver: run 'upci bind 0000:00:07.0'");
	assert_string_equal(f->driver, "");
	free(s.v);

	/* The shared tree: bridges, no group, unreadable IDs. */
	memset(&s, 0, sizeof(s));
	s.scheme = "vfio";
	assert_int_equal(vfio_enum_at(saved, dev, &s), 0);
	assert_int_equal(s.n, 6);
	f = entry(&s, "vfio:0000:00:04.0");
	assert_string_equal(f->why, "a bridge: VFIO gives endpoints to user space, not bridges");
	f = entry(&s, "vfio:0000:00:05.0");
	assert_string_equal(f->why, "no IOMMU group: VFIO needs the IOMMU on (intel_iommu=on or amd_iommu=on)");
	f = entry(&s, "vfio:0000:00:06.0");
	assert_false(f->flags & UPCI_FOUND_IDS);
	assert_int_equal(f->id.vendor_id, 0);
	f = entry(&s, "vfio:0001:10:1f.7");
	assert_int_equal(f->id.domain, 1);
	assert_int_equal(f->id.bus, 0x10);
	assert_int_equal(f->id.device, 0x1f);
	assert_int_equal(f->id.function, 7);
	free(s.v);

	/* No PCI bus at all: nothing to list, not an error. */
	memset(&s, 0, sizeof(s));
	s.scheme = "vfio";
	assert_int_equal(vfio_enum_at("/nonexistent-upci-root", dev, &s), 0);
	assert_int_equal(s.n, 0);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	memcpy(root, saved, sizeof(root));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bdf_canon),
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_group),
		cmocka_unit_test(test_driver_ok),
		cmocka_unit_test(test_write),
		cmocka_unit_test(test_enum),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

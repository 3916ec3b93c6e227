/* SPDX-License-Identifier: MIT */
/*
 * 'upci bind BDF' / 'upci unbind BDF': move a PCI function to vfio-pci and
 * back to the driver it had. The move uses driver_override (so no other
 * device with the same IDs is affected); the driver it had is recorded in
 * $UPCI_RUN_DIR/<BDF>.driver (default /run/upci) so that unbind can give it
 * back, also from another shell or after a reboot of the program.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd_host.h"
#include "util.h"

static const char bind_help[] =
	"Usage: upci bind BDF\n"
	"\n"
	"Give the PCI function BDF ([DDDD:]BB:DD.F, or vfio:BDF) to vfio-pci so that\n"
	"upci can open it as vfio:BDF. The driver it has now is recorded in\n"
	"$UPCI_RUN_DIR/<BDF>.driver (default /run/upci) for 'upci unbind'.\n"
	"Refused when the function has no IOMMU group (IOMMU off), is a bridge,\n"
	"or shares its IOMMU group with functions still bound to other drivers\n"
	"(VFIO can only hand out whole groups). Needs root and the vfio-pci module.\n"
	"\n"
	"Example:\n"
	"  upci bind 0000:03:00.0 && upci info vfio:0000:03:00.0\n";

static const char unbind_help[] =
	"Usage: upci unbind BDF\n"
	"\n"
	"Take the PCI function BDF away from vfio-pci and give it back to the driver\n"
	"it had before 'upci bind' (recorded in $UPCI_RUN_DIR/<BDF>.driver, default\n"
	"/run/upci); without a record the kernel picks the driver. Refused while a\n"
	"process has the device open through VFIO.\n"
	"\n"
	"Example:\n"
	"  upci unbind 0000:03:00.0\n";

#ifdef __linux__
#include "sysfs.h"

#define RUN_DIR_DEFAULT "/run/upci"
#define VFIO_DRIVER "vfio-pci"

static int is_vfio_driver(const char *drv)
{
	return strstr(drv, "vfio") != NULL;
}

static const char *run_dir(void)
{
	const char *d = getenv("UPCI_RUN_DIR");

	return d && *d ? d : RUN_DIR_DEFAULT;
}

/* mkdir -p for the record directory. */
static int make_dirs(const char *path)
{
	char buf[512];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int record_path(const char *bdf, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s.driver", run_dir(), bdf);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Write the driver @bdf has now ("" for none) atomically. */
static int record_write(const char *bdf, const char *driver)
{
	char path[600], tmp[640];
	FILE *f;
	int ret = make_dirs(run_dir());

	if (ret == 0)
		ret = record_path(bdf, path, sizeof(path));
	if (ret)
		return ret;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "%s\n", driver);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		ret = -errno;
		unlink(tmp);
		return ret;
	}
	return 0;
}

/* The recorded driver: 1 found (@out may be "" = had none), 0 no record. A
 * record that is not one plausible driver name counts as no record. */
static int record_read(const char *bdf, char *out, size_t len)
{
	char path[600], line[SYSFS_NAME_MAX + 2];
	FILE *f;
	size_t n;

	if (record_path(bdf, path, sizeof(path)))
		return 0;
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return 0;
	}
	fclose(f);
	n = strcspn(line, "\n");
	line[n] = '\0';
	if (n >= len || strchr(line, '/') || strchr(line, ' '))
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)line[i] <= 0x20 || (unsigned char)line[i] >= 0x7f)
			return 0;
	memcpy(out, line, n + 1);
	return 1;
}

/* The BDF argument: "[DDDD:]BB:DD.F" or "vfio:..." */
static int parse_bdf_arg(const char *cmd, int argc, char **argv, char bdf[SYSFS_BDF_LEN], const char *help)
{
	const char *a;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(help, stdout);
		return EXIT_OK;
	}
	if (argc < 2)
		return usage_error(cmd, "missing BDF");
	if (argc > 2)
		return usage_error(cmd, "unexpected argument \"%s\"", argv[2]);
	a = argv[1];
	if (strncmp(a, "vfio:", 5) == 0)
		a += 5;
	if (a[0] == '-')
		return usage_error(cmd, "unknown option \"%s\"", a);
	if (sysfs_bdf_canon(a, bdf) != 0)
		return usage_error(cmd, "\"%s\" is not a PCI address (expected DDDD:BB:DD.F or BB:DD.F)", argv[1]);
	return -1;
}

static int get_dev(const char *bdf, const char *op, struct sysfs_pci_dev *d)
{
	int ret = sysfs_pci_get(NULL, bdf, d);

	if (ret == -ENOENT)
		return op_errorf(EXIT_NOTFOUND, bdf, op, "no such PCI function (see 'upci list')");
	if (ret)
		return op_errorf(EXIT_FAIL, bdf, op, "reading sysfs: %s", upci_strerror(ret));
	return -1;
}

/* Other members of @d's group still bound to a kernel driver, as text. */
static size_t group_blockers(const struct sysfs_pci_dev *d, char *buf, size_t len)
{
	char (*members)[SYSFS_BDF_LEN] = NULL;
	size_t n = 0, bad = 0;

	buf[0] = '\0';
	if (sysfs_group_members(NULL, d->iommu_group, &members, &n) != 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		struct sysfs_pci_dev m;
		size_t used = strlen(buf);

		if (strcmp(members[i], d->bdf) == 0 || sysfs_pci_get(NULL, members[i], &m) != 0 ||
		    sysfs_driver_vfio_ok(&m))
			continue;
		bad++;
		if (used < len)
			snprintf(buf + used, len - used, "%s%s (%s)", used ? ", " : "", m.bdf, m.driver);
	}
	free(members);
	return bad;
}

static void wait_driver_settle(const char *bdf, struct sysfs_pci_dev *d)
{
	/* Binding is synchronous in the write; re-read once more after a
	 * short pause in case an asynchronous probe is still running. */
	if (sysfs_pci_get(NULL, bdf, d) == 0 && d->driver[0])
		return;
	usleep(100 * 1000);
	(void)sysfs_pci_get(NULL, bdf, d);
}

int cmd_bind(int argc, char **argv)
{
	char bdf[SYSFS_BDF_LEN], blockers[512];
	struct sysfs_pci_dev d, now;
	size_t nb;
	int ret = parse_bdf_arg("bind", argc, argv, bdf, bind_help);

	if (ret >= 0)
		return ret;
	ret = get_dev(bdf, "bind", &d);
	if (ret >= 0)
		return ret;
	if (is_vfio_driver(d.driver)) {
		printf("%s: already bound to %s (IOMMU group %d): open it as vfio:%s\n", bdf, d.driver, d.iommu_group,
		       bdf);
		return EXIT_OK;
	}
	if (d.iommu_group < 0)
		return op_errorf(EXIT_FAIL, bdf, "bind",
				 "no IOMMU group: turn the IOMMU on (intel_iommu=on or amd_iommu=on on the kernel command line)");
	if (d.is_bridge)
		return op_errorf(EXIT_FAIL, bdf, "bind", "is a bridge: the devices behind it would lose their bus");
	nb = group_blockers(&d, blockers, sizeof(blockers));
	if (nb)
		return op_errorf(EXIT_FAIL, bdf, "bind",
				 "IOMMU group %d also holds %s, still bound to %s: VFIO hands out whole groups; "
				 "bind or unbind %s first", d.iommu_group, blockers, nb > 1 ? "other drivers" : "another driver",
				 nb > 1 ? "them" : "it");
	if (!sysfs_driver_present(NULL, VFIO_DRIVER))
		return op_errorf(EXIT_FAIL, bdf, "bind", "the vfio-pci driver is not loaded (modprobe vfio-pci)");
	ret = record_write(bdf, d.driver);
	if (ret)
		return op_errorf(EXIT_FAIL, bdf, "bind", "cannot record the current driver in %s: %s", run_dir(),
				 upci_strerror(ret));
	ret = sysfs_write(NULL, bdf, "driver_override", VFIO_DRIVER);
	if (ret)
		return op_errorf(EXIT_FAIL, bdf, "bind", "writing driver_override: %s", upci_strerror(ret));
	if (d.driver[0]) {
		ret = sysfs_write(NULL, bdf, "driver/unbind", bdf);
		if (ret) {
			(void)sysfs_write(NULL, bdf, "driver_override", "\n");
			return op_errorf(EXIT_FAIL, bdf, "bind", "unbinding from %s: %s", d.driver, upci_strerror(ret));
		}
	}
	ret = sysfs_write(NULL, NULL, "drivers_probe", bdf);
	wait_driver_settle(bdf, &now);
	if (!is_vfio_driver(now.driver)) {
		/* Put things back as they were. */
		(void)sysfs_write(NULL, bdf, "driver_override", "\n");
		if (d.driver[0] && !now.driver[0])
			(void)sysfs_write(NULL, NULL, "drivers_probe", bdf);
		return op_errorf(EXIT_FAIL, bdf, "bind", "vfio-pci did not take the device (%s; see dmesg)",
				 ret ? upci_strerror(ret) : "no error from drivers_probe");
	}
	printf("%s: bound to %s (was %s; IOMMU group %d): open it as vfio:%s\n", bdf, now.driver,
	       d.driver[0] ? d.driver : "no driver", now.iommu_group, bdf);
	return EXIT_OK;
}

/* Is the group open through the legacy interface (a process is using it)? */
static int group_in_use(int group)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	fd = open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return errno == EBUSY;
}

int cmd_unbind(int argc, char **argv)
{
	char bdf[SYSFS_BDF_LEN], orig[SYSFS_NAME_MAX] = "", path[600];
	struct sysfs_pci_dev d, now;
	int ret = parse_bdf_arg("unbind", argc, argv, bdf, unbind_help);
	int have;

	if (ret >= 0)
		return ret;
	ret = get_dev(bdf, "unbind", &d);
	if (ret >= 0)
		return ret;
	if (!is_vfio_driver(d.driver) && !(d.driver[0] == '\0' && strcmp(d.driver_override, VFIO_DRIVER) == 0))
		return op_errorf(EXIT_FAIL, bdf, "unbind", "not bound to vfio-pci (driver: %s)",
				 d.driver[0] ? d.driver : "none");
	if (d.iommu_group >= 0 && group_in_use(d.iommu_group))
		return op_errorf(EXIT_FAIL, bdf, "unbind", "in use: a process has IOMMU group %d open", d.iommu_group);
	have = record_read(bdf, orig, sizeof(orig));
	/* The override names the driver we want back (or none at all). */
	ret = sysfs_write(NULL, bdf, "driver_override", have && orig[0] ? orig : "\n");
	if (ret)
		return op_errorf(EXIT_FAIL, bdf, "unbind", "writing driver_override: %s", upci_strerror(ret));
	if (d.driver[0]) {
		ret = sysfs_write(NULL, bdf, "driver/unbind", bdf);
		if (ret)
			return op_errorf(EXIT_FAIL, bdf, "unbind", "unbinding from %s: %s", d.driver, upci_strerror(ret));
	}
	if (!have || orig[0])
		(void)sysfs_write(NULL, NULL, "drivers_probe", bdf);
	(void)sysfs_write(NULL, bdf, "driver_override", "\n");
	if (have && orig[0])
		wait_driver_settle(bdf, &now);
	else if (sysfs_pci_get(NULL, bdf, &now) != 0)
		now.driver[0] = '\0';
	if (have && strcmp(now.driver, orig) != 0)
		return op_errorf(EXIT_FAIL, bdf, "unbind", "%s did not take the device back (driver now: %s)",
				 orig[0] ? orig : "no driver", now.driver[0] ? now.driver : "none");
	if (have && record_path(bdf, path, sizeof(path)) == 0)
		unlink(path);
	if (!have)
		printf("%s: unbound from vfio-pci; no record of an earlier driver, the kernel chose: %s\n", bdf,
		       now.driver[0] ? now.driver : "none");
	else
		printf("%s: unbound from vfio-pci, back to %s\n", bdf, orig[0] ? orig : "no driver (it had none)");
	return EXIT_OK;
}
#else
static int not_linux(const char *cmd, int argc, char **argv, const char *help)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(help, stdout);
		return EXIT_OK;
	}
	return op_errorf(EXIT_FAIL, argc > 1 ? argv[1] : cmd, cmd, "needs Linux (sysfs and vfio-pci)");
}

int cmd_bind(int argc, char **argv)
{
	return not_linux("bind", argc, argv, bind_help);
}

int cmd_unbind(int argc, char **argv)
{
	return not_linux("unbind", argc, argv, unbind_help);
}
#endif

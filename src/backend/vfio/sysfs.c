/* SPDX-License-Identifier: MIT */
/* PCI functions from sysfs, parsed as hostile input (see sysfs.h). */
#define _GNU_SOURCE
#include "sysfs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ROOT_DEFAULT "/sys"
#define ATTR_MAX 128 /* longer attribute contents are not what we expect */

static const char *root_of(const char *root)
{
	return root ? root : ROOT_DEFAULT;
}

/* snprintf that reports truncation as -ENAMETOOLONG. */
static int path_fmt(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int path_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Parse exactly @min..@max hex digits ending at @end (no sign, no blanks). */
static const char *hex_digits(const char *s, unsigned min, unsigned max, uint32_t *out)
{
	uint32_t v = 0;
	unsigned n = 0;

	while (isxdigit((unsigned char)s[n]) && n < max) {
		int c = tolower((unsigned char)s[n]);

		v = (v << 4) | (uint32_t)(isdigit(c) ? c - '0' : c - 'a' + 10);
		n++;
	}
	if (n < min || isxdigit((unsigned char)s[n]))
		return NULL;
	*out = v;
	return s + n;
}

int sysfs_bdf_canon(const char *in, char out[SYSFS_BDF_LEN])
{
	uint32_t dom = 0, bus, dev, fn;
	const char *s = in, *p;
	int colons = 0;

	if (!in || !out)
		return -EINVAL;
	for (p = in; *p; p++)
		colons += *p == ':';
	if (colons == 2) {
		s = hex_digits(s, 1, 8, &dom);
		if (!s || *s != ':')
			return -EINVAL;
		s++;
	} else if (colons != 1) {
		return -EINVAL;
	}
	s = hex_digits(s, 1, 2, &bus);
	if (!s || *s != ':')
		return -EINVAL;
	s = hex_digits(s + 1, 1, 2, &dev);
	if (!s || *s != '.' || dev > 0x1f)
		return -EINVAL;
	s = hex_digits(s + 1, 1, 1, &fn);
	if (!s || *s != '\0' || fn > 7)
		return -EINVAL;
	snprintf(out, SYSFS_BDF_LEN, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
	return 0;
}

/*
 * Read a small attribute into buf (NUL-terminated, one trailing newline
 * removed). Contents that do not fit, or that contain a NUL, are refused:
 * a sysfs value we expect is short text.
 */
static int read_attr(const char *path, char *buf, size_t len)
{
	ssize_t n, total = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	for (;;) {
		n = read(fd, buf + total, len - 1 - (size_t)total);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		total += n;
		if ((size_t)total == len - 1) {
			char extra;

			n = read(fd, &extra, 1);
			if (n > 0) {
				close(fd);
				return -EOVERFLOW;
			}
			break;
		}
	}
	close(fd);
	if (n < 0)
		return -EIO;
	buf[total] = '\0';
	if ((size_t)total != strlen(buf))
		return -EINVAL;
	if (total > 0 && buf[total - 1] == '\n')
		buf[total - 1] = '\0';
	return 0;
}

/* "0x" and 1..@digits hex digits, nothing else. */
static int parse_hex_attr(const char *dir, const char *name, unsigned digits, uint32_t *out)
{
	char path[PATH_MAX], buf[ATTR_MAX];
	const char *end;
	int ret = path_fmt(path, sizeof(path), "%s/%s", dir, name);

	if (ret == 0)
		ret = read_attr(path, buf, sizeof(buf));
	if (ret)
		return ret;
	if (buf[0] != '0' || (buf[1] != 'x' && buf[1] != 'X'))
		return -EINVAL;
	end = hex_digits(buf + 2, 1, digits, out);
	return end && *end == '\0' ? 0 : -EINVAL;
}

/* Driver names: printable, no '/', no blanks, shorter than SYSFS_NAME_MAX. */
static int name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= SYSFS_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isgraph((unsigned char)s[i]) || s[i] == '/')
			return 0;
	return 1;
}

/* The last component of a symlink's target; -ENOENT when there is no link. */
static int link_base(const char *path, char *out, size_t len)
{
	char target[PATH_MAX];
	const char *base;
	ssize_t n = readlink(path, target, sizeof(target) - 1);

	if (n < 0)
		return -errno;
	if ((size_t)n >= sizeof(target) - 1)
		return -ENAMETOOLONG;
	target[n] = '\0';
	while (n > 1 && target[n - 1] == '/')
		target[--n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= len)
		return -ENAMETOOLONG;
	strcpy(out, base);
	return 0;
}

/* Decimal 0..INT_MAX/10-ish, digits only. */
static int parse_dec(const char *s, int *out)
{
	long v = 0;

	if (!*s || strlen(s) > 9)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		v = v * 10 + (*p - '0');
	}
	*out = (int)v;
	return 0;
}

/* N of the "vfioN" entry in <dev>/vfio-dev that is a character device (it
 * has a "dev" attribute: Linux 6.6+ with VFIO_DEVICE_CDEV; 6.1..6.5 list
 * the entry without one), -1 when there is none. */
static int find_cdev(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *e;
	unsigned seen = 0;
	int n = -1;
	DIR *d;

	if (path_fmt(path, sizeof(path), "%s/vfio-dev", dir))
		return -1;
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL && ++seen < 64) {
		char devattr[PATH_MAX];
		struct stat st;
		int v;

		if (strncmp(e->d_name, "vfio", 4) != 0 || parse_dec(e->d_name + 4, &v) != 0)
			continue;
		if (path_fmt(devattr, sizeof(devattr), "%s/%s/dev", path, e->d_name) == 0 && stat(devattr, &st) == 0) {
			n = v;
			break;
		}
	}
	closedir(d);
	return n;
}

/* Header type from the first 64 bytes of config space (readable by anyone);
 * the class code when that fails. */
static int bridge_of(const char *dir, const struct sysfs_pci_dev *d)
{
	char path[PATH_MAX];
	unsigned char cfg[64];
	ssize_t n = -1;
	int fd;

	if (path_fmt(path, sizeof(path), "%s/config", dir) == 0) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			n = pread(fd, cfg, sizeof(cfg), 0);
			close(fd);
		}
	}
	if (n == (ssize_t)sizeof(cfg))
		return (cfg[0x0e] & 0x7f) != 0;
	return d->ids_ok && ((d->class_code >> 8) == 0x0604 || (d->class_code >> 8) == 0x0607 ||
			     (d->class_code >> 8) == 0x0609);
}

int sysfs_pci_get(const char *root, const char *bdf, struct sysfs_pci_dev *out)
{
	char dir[PATH_MAX], path[PATH_MAX], buf[ATTR_MAX];
	uint32_t v[6];
	struct stat st;
	int ret;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->iommu_group = -1;
	out->vfio_cdev = -1;
	if (sysfs_bdf_canon(bdf, out->bdf))
		return -EINVAL;
	ret = path_fmt(dir, sizeof(dir), "%s/bus/pci/devices/%s", root_of(root), out->bdf);
	if (ret)
		return ret;
	if (stat(dir, &st) != 0)
		return errno == ENOENT || errno == ENOTDIR ? -ENOENT : -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOENT;
	if (parse_hex_attr(dir, "vendor", 4, &v[0]) == 0 && parse_hex_attr(dir, "device", 4, &v[1]) == 0 &&
	    parse_hex_attr(dir, "subsystem_vendor", 4, &v[2]) == 0 &&
	    parse_hex_attr(dir, "subsystem_device", 4, &v[3]) == 0 && parse_hex_attr(dir, "class", 6, &v[4]) == 0 &&
	    parse_hex_attr(dir, "revision", 2, &v[5]) == 0) {
		out->ids_ok = 1;
		out->vendor = (uint16_t)v[0];
		out->device = (uint16_t)v[1];
		out->subsys_vendor = (uint16_t)v[2];
		out->subsys_device = (uint16_t)v[3];
		out->class_code = v[4];
		out->revision = (uint8_t)v[5];
	}
	if (path_fmt(path, sizeof(path), "%s/driver", dir) == 0 &&
	    link_base(path, out->driver, sizeof(out->driver)) == 0 && !name_ok(out->driver))
		snprintf(out->driver, sizeof(out->driver), "?");
	if (path_fmt(path, sizeof(path), "%s/driver_override", dir) == 0 &&
	    read_attr(path, buf, sizeof(buf)) == 0 && strcmp(buf, "(null)") != 0 && name_ok(buf))
		memcpy(out->driver_override, buf, strlen(buf) + 1); /* name_ok: it fits */
	if (path_fmt(path, sizeof(path), "%s/iommu_group", dir) == 0 && link_base(path, buf, sizeof(buf)) == 0) {
		int g;

		if (parse_dec(buf, &g) == 0)
			out->iommu_group = g;
	}
	out->vfio_cdev = find_cdev(dir);
	out->is_bridge = bridge_of(dir, out);
	return 0;
}

static int cmp_dev(const void *a, const void *b)
{
	return strcmp(((const struct sysfs_pci_dev *)a)->bdf, ((const struct sysfs_pci_dev *)b)->bdf);
}

static int cmp_bdf(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* Names in @dir that are canonical BDFs, sorted. */
static int list_bdfs(const char *dir, char (**out)[SYSFS_BDF_LEN], size_t *n)
{
	char (*v)[SYSFS_BDF_LEN] = NULL;
	size_t cnt = 0, cap = 0;
	struct dirent *e;
	DIR *d = opendir(dir);

	*out = NULL;
	*n = 0;
	if (!d)
		return -errno;
	while ((e = readdir(d)) != NULL) {
		char canon[SYSFS_BDF_LEN];

		if (sysfs_bdf_canon(e->d_name, canon) || strcmp(canon, e->d_name) != 0)
			continue;
		if (cnt == SYSFS_MAX_DEVICES)
			break;
		if (cnt == cap) {
			size_t ncap = cap ? 2 * cap : 32;
			void *nv = realloc(v, ncap * sizeof(*v));

			if (!nv) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
			cap = ncap;
		}
		memcpy(v[cnt++], canon, SYSFS_BDF_LEN);
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_bdf);
	*out = v;
	*n = cnt;
	return 0;
}

int sysfs_pci_list(const char *root, struct sysfs_pci_dev **out, size_t *n)
{
	char dir[PATH_MAX];
	char (*bdfs)[SYSFS_BDF_LEN];
	struct sysfs_pci_dev *v;
	size_t cnt, k = 0;
	int ret;

	if (!out || !n)
		return -EINVAL;
	*out = NULL;
	*n = 0;
	ret = path_fmt(dir, sizeof(dir), "%s/bus/pci/devices", root_of(root));
	if (ret == 0)
		ret = list_bdfs(dir, &bdfs, &cnt);
	if (ret)
		return ret;
	v = calloc(cnt ? cnt : 1, sizeof(*v));
	if (!v) {
		free(bdfs);
		return -ENOMEM;
	}
	for (size_t i = 0; i < cnt; i++)
		if (sysfs_pci_get(root, bdfs[i], &v[k]) == 0)
			k++; /* a device that vanished meanwhile is skipped */
	free(bdfs);
	qsort(v, k, sizeof(*v), cmp_dev);
	*out = v;
	*n = k;
	return 0;
}

int sysfs_group_members(const char *root, int group, char (**out)[SYSFS_BDF_LEN], size_t *n)
{
	char dir[PATH_MAX];
	int ret;

	if (!out || !n || group < 0)
		return -EINVAL;
	ret = path_fmt(dir, sizeof(dir), "%s/kernel/iommu_groups/%d/devices", root_of(root), group);
	if (ret)
		return ret;
	return list_bdfs(dir, out, n);
}

int sysfs_driver_vfio_ok(const struct sysfs_pci_dev *d)
{
	if (!d->driver[0])
		return 1;
	if (strncmp(d->driver, "vfio", 4) == 0 || strstr(d->driver, "-vfio") || strstr(d->driver, "_vfio"))
		return 1;
	if (strcmp(d->driver, "pci-stub") == 0 || strcmp(d->driver, "pcieport") == 0)
		return 1;
	return d->is_bridge;
}

int sysfs_write(const char *root, const char *bdf, const char *attr, const char *val)
{
	char path[PATH_MAX], canon[SYSFS_BDF_LEN];
	size_t len, done = 0;
	int fd, ret;

	if (!attr || !val || !val[0] || strstr(attr, ".."))
		return -EINVAL;
	if (bdf) {
		if (sysfs_bdf_canon(bdf, canon))
			return -EINVAL;
		ret = path_fmt(path, sizeof(path), "%s/bus/pci/devices/%s/%s", root_of(root), canon, attr);
	} else {
		ret = path_fmt(path, sizeof(path), "%s/bus/pci/%s", root_of(root), attr);
	}
	if (ret)
		return ret;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = strlen(val);
	/* sysfs takes a store in one write(); a short write is an error. */
	while (done < len) {
		ssize_t n = write(fd, val + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			close(fd);
			return ret;
		}
		done += (size_t)n;
	}
	if (close(fd) != 0)
		return -errno;
	return 0;
}

int sysfs_driver_present(const char *root, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	if (!name_ok(name) || path_fmt(path, sizeof(path), "%s/bus/pci/drivers/%s", root_of(root), name))
		return 0;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* SPDX-License-Identifier: MIT */
/* Host PCI resources and numeric attributes from sysfs (see host_pci.h). */
#define _GNU_SOURCE
#include "host_pci.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A resource file has 13 lines of 3 x 18 characters on 64-bit kernels;
 * twice that is more than any honest kernel writes. */
#define RES_FILE_MAX 2048
#define ATTR_MAX 64

/* Read a whole small file, NUL-terminated; larger than @len-1 is -EOVERFLOW. */
static int read_small(const char *root, const char *bdf, const char *attr, char *buf, size_t len)
{
	char path[PATH_MAX];
	size_t total = 0;
	int fd, n = snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/%s", root ? root : "/sys", bdf, attr);

	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t r = read(fd, buf + total, len - 1 - total);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = -errno;

			close(fd);
			return e;
		}
		if (r == 0)
			break;
		total += (size_t)r;
		if (total == len - 1) {
			close(fd);
			return -EOVERFLOW;
		}
	}
	close(fd);
	buf[total] = '\0';
	return strlen(buf) == total ? 0 : -EINVAL; /* no NUL inside */
}

/* "0x" + 1..16 hex digits. Returns the end or NULL. */
static const char *hex64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	unsigned n = 0;

	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return NULL;
	s += 2;
	while (isxdigit((unsigned char)*s)) {
		int c = tolower((unsigned char)*s);

		if (++n > 16)
			return NULL;
		v = (v << 4) | (uint64_t)(isdigit(c) ? c - '0' : c - 'a' + 10);
		s++;
	}
	if (n == 0)
		return NULL;
	*out = v;
	return s;
}

int hostpci_resources(const char *root, const char *bdf, struct hostpci_res res[HOSTPCI_NUM_RES])
{
	char buf[RES_FILE_MAX];
	const char *p = buf;
	int ret;

	if (!bdf || !res)
		return -EINVAL;
	memset(res, 0, sizeof(*res) * HOSTPCI_NUM_RES);
	ret = read_small(root, bdf, "resource", buf, sizeof(buf));
	if (ret)
		return ret;
	for (unsigned i = 0; i < HOSTPCI_NUM_RES; i++) {
		uint64_t v[3];

		for (unsigned k = 0; k < 3; k++) {
			p = hex64(p, &v[k]);
			if (!p || *p != (k < 2 ? ' ' : '\n'))
				return -EINVAL;
			p++;
		}
		res[i].start = v[0];
		res[i].end = v[1];
		res[i].flags = v[2];
	}
	return 0;
}

uint64_t hostpci_res_size(const struct hostpci_res *r)
{
	if ((!r->start && !r->end) || r->end < r->start)
		return 0;
	return r->end - r->start + 1;
}

int hostpci_attr_long(const char *root, const char *bdf, const char *attr, long *out)
{
	char buf[ATTR_MAX], *end;
	long v;
	int ret;

	if (!bdf || !attr || !out)
		return -EINVAL;
	ret = read_small(root, bdf, attr, buf, sizeof(buf));
	if (ret)
		return ret;
	if (buf[0] != '-' && !isdigit((unsigned char)buf[0]))
		return -EINVAL;
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno || end == buf || (*end != '\0' && strcmp(end, "\n") != 0))
		return -EINVAL;
	*out = v;
	return 0;
}

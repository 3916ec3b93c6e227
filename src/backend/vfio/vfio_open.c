/* SPDX-License-Identifier: MIT */
/*
 * Opening a VFIO device: sysfs says where it is and whether its IOMMU group
 * can be given to user space; then either
 *   - iommufd + the device's cdev (/dev/iommu, /dev/vfio/devices/vfioN:
 *     Linux 6.6+ built with VFIO_DEVICE_CDEV), or
 *   - the type1 container/group (/dev/vfio/vfio, /dev/vfio/N), everywhere.
 * The first when the kernel has it (and we may open its nodes, or may not
 * open the group's either); UPCI_VFIO_PATH=iommufd|group forces one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "log.h"
#include "vfio.h"

#define DEV_IOMMU "/dev/iommu"
#define DEV_CONTAINER "/dev/vfio/vfio"

static int open_dev(const char *path, const char *bdf)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		int e = errno;

		if (e == EBUSY)
			LOG_ERR("%s: %s is busy: another process (or handle) has the device", bdf, path);
		else
			LOG_ERR("%s: open %s: %s", bdf, path, strerror(e));
		return -e;
	}
	return fd;
}

static int rw_ok(const char *path)
{
	return access(path, R_OK | W_OK) == 0;
}

static int get_path(enum vfio_path *out)
{
	const char *e = getenv("UPCI_VFIO_PATH");

	*out = VFIO_PATH_AUTO;
	if (!e || !*e)
		return 0;
	if (strcmp(e, "iommufd") == 0)
		*out = VFIO_PATH_IOMMUFD;
	else if (strcmp(e, "group") == 0)
		*out = VFIO_PATH_GROUP;
	else {
		LOG_ERR("UPCI_VFIO_PATH=%s: expected \"iommufd\" or \"group\"", e);
		return -EINVAL;
	}
	return 0;
}

/*
 * The group can be given to user space when every other member is unbound
 * or bound to a driver that does not use the kernel's DMA (see
 * sysfs_driver_vfio_ok). Names the members that are in the way; @strict
 * names every member bound to a driver other than vfio (used when the
 * kernel said "not viable" and the usual rule found nobody).
 */
static int check_group(const struct sysfs_pci_dev *self, int strict)
{
	char (*members)[SYSFS_BDF_LEN] = NULL;
	char bad[256] = "";
	size_t n = 0, nbad = 0;
	int ret = sysfs_group_members(NULL, self->iommu_group, &members, &n);

	if (ret) {
		LOG_ERR("%s: cannot list IOMMU group %d: %s", self->bdf, self->iommu_group, strerror(-ret));
		return ret;
	}
	for (size_t i = 0; i < n; i++) {
		struct sysfs_pci_dev m;
		size_t used = strlen(bad);

		if (strcmp(members[i], self->bdf) == 0 || sysfs_pci_get(NULL, members[i], &m) != 0)
			continue;
		if (strict ? (m.driver[0] && strncmp(m.driver, "vfio", 4) != 0) : !sysfs_driver_vfio_ok(&m)) {
			nbad++;
			if (used < sizeof(bad) - 1)
				snprintf(bad + used, sizeof(bad) - used, "%s%s (%s)", used ? ", " : "", m.bdf,
					 m.driver);
		}
	}
	free(members);
	if (nbad == 0)
		return 0;
	LOG_ERR("%s: IOMMU group %d is not viable: %s %s bound to another driver (bind %s to vfio-pci or unbind %s)",
		self->bdf, self->iommu_group, bad, nbad > 1 ? "are" : "is", nbad > 1 ? "them" : "it",
		nbad > 1 ? "them" : "it");
	return -EBUSY;
}

/* One /dev/iommu for the process: devices bound to it can be attached to
 * any IOAS in it, which is what lets a DMA space share one. */
static pthread_mutex_t iommufd_lock = PTHREAD_MUTEX_INITIALIZER;
static int iommufd_fd = -1;
static unsigned iommufd_refs;

int vfio_iommufd_get(const char *bdf)
{
	int fd;

	pthread_mutex_lock(&iommufd_lock);
	if (iommufd_fd < 0)
		iommufd_fd = open_dev(DEV_IOMMU, bdf);
	fd = iommufd_fd;
	if (fd >= 0)
		iommufd_refs++;
	else
		iommufd_fd = -1;
	pthread_mutex_unlock(&iommufd_lock);
	return fd;
}

void vfio_iommufd_put(void)
{
	pthread_mutex_lock(&iommufd_lock);
	if (iommufd_refs && --iommufd_refs == 0) {
		close(iommufd_fd);
		iommufd_fd = -1;
	}
	pthread_mutex_unlock(&iommufd_lock);
}

static int open_iommufd(struct vfio_dev *v, const char *path)
{
	struct vfio_device_bind_iommufd bind;
	struct vfio_device_attach_iommufd_pt attach;
	struct iommu_ioas_alloc alloc;
	int fd;

	v->device = open_dev(path, v->bdf);
	if (v->device < 0)
		return v->device;
	/* The cdev may be opened many times; only one may bind. A lock makes a
	 * second opener fail with EBUSY as the group path does. */
	if (flock(v->device, LOCK_EX | LOCK_NB) != 0) {
		LOG_ERR("%s: %s is in use by another handle or process", v->bdf, path);
		return -EBUSY;
	}
	fd = vfio_iommufd_get(v->bdf);
	if (fd < 0)
		return fd;
	v->own.iommufd = fd;
	v->own.path = VFIO_PATH_IOMMUFD;
	memset(&bind, 0, sizeof(bind));
	bind.argsz = UPCI_VFIO_BIND_ARGSZ;
	bind.iommufd = fd;
	if (ioctl(v->device, VFIO_DEVICE_BIND_IOMMUFD, &bind) != 0) {
		int e = errno;

		LOG_ERR("%s: VFIO_DEVICE_BIND_IOMMUFD: %s%s", v->bdf, strerror(e),
			e == EBUSY ? " (IOMMU group not viable: another member is bound to a kernel driver)" : "");
		return -e;
	}
	v->devid = bind.out_devid;
	memset(&alloc, 0, sizeof(alloc));
	alloc.size = sizeof(alloc);
	if (ioctl(fd, IOMMU_IOAS_ALLOC, &alloc) != 0) {
		int e = errno;

		LOG_ERR("%s: IOMMU_IOAS_ALLOC: %s", v->bdf, strerror(e));
		return -e;
	}
	v->own.ioas = alloc.out_ioas_id;
	v->own.has_ioas = 1;
	memset(&attach, 0, sizeof(attach));
	attach.argsz = UPCI_VFIO_ATTACH_ARGSZ;
	attach.pt_id = v->own.ioas;
	if (ioctl(v->device, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach) != 0) {
		int e = errno;

		LOG_ERR("%s: VFIO_DEVICE_ATTACH_IOMMUFD_PT: %s", v->bdf, strerror(e));
		return -e;
	}
	v->own.users = 1;
	v->path = VFIO_PATH_IOMMUFD;
	return 0;
}

int vfio_container_open(const char *bdf, int *type)
{
	int fd = open_dev(DEV_CONTAINER, bdf), ret;

	if (fd < 0)
		return fd;
	ret = ioctl(fd, VFIO_GET_API_VERSION);
	if (ret != VFIO_API_VERSION) {
		ret = ret < 0 ? -errno : -EPROTO;
		LOG_ERR("%s: VFIO_GET_API_VERSION: %s", bdf, ret == -EPROTO ? "unknown version" : strerror(-ret));
		close(fd);
		return ret;
	}
	if (ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) == 1)
		*type = VFIO_TYPE1v2_IOMMU;
	else if (ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU) == 1)
		*type = VFIO_TYPE1_IOMMU;
	else {
		LOG_ERR("%s: VFIO_CHECK_EXTENSION: the kernel offers no type1 IOMMU (vfio_iommu_type1 not loaded?)", bdf);
		close(fd);
		return -ENOTSUP;
	}
	return fd;
}

static int open_group(struct vfio_dev *v, const struct sysfs_pci_dev *self)
{
	struct vfio_group_status st = {.argsz = sizeof(st)};
	char path[64];
	int ret, type = 0;

	v->own.container = vfio_container_open(v->bdf, &type);
	if (v->own.container < 0)
		return v->own.container;
	v->own.iommu_type = type;
	v->own.path = VFIO_PATH_GROUP;
	snprintf(path, sizeof(path), "/dev/vfio/%d", v->group);
	v->group_fd = open_dev(path, v->bdf);
	if (v->group_fd < 0)
		return v->group_fd;
	if (ioctl(v->group_fd, VFIO_GROUP_GET_STATUS, &st) != 0) {
		ret = -errno;
		LOG_ERR("%s: VFIO_GROUP_GET_STATUS: %s", v->bdf, strerror(-ret));
		return ret;
	}
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		/* The kernel is the judge; sysfs names the culprits. */
		if (check_group(self, 1) == 0)
			LOG_ERR("%s: VFIO_GROUP_GET_STATUS: IOMMU group %d is not viable", v->bdf, v->group);
		return -EBUSY;
	}
	if (ioctl(v->group_fd, VFIO_GROUP_SET_CONTAINER, &v->own.container) != 0) {
		ret = -errno;
		LOG_ERR("%s: VFIO_GROUP_SET_CONTAINER: %s", v->bdf, strerror(-ret));
		return ret;
	}
	if (ioctl(v->own.container, VFIO_SET_IOMMU, type) != 0) {
		ret = -errno;
		LOG_ERR("%s: VFIO_SET_IOMMU(%s): %s", v->bdf, type == VFIO_TYPE1v2_IOMMU ? "TYPE1v2" : "TYPE1",
			strerror(-ret));
		return ret;
	}
	v->device = ioctl(v->group_fd, VFIO_GROUP_GET_DEVICE_FD, v->bdf);
	if (v->device < 0) {
		ret = -errno;
		LOG_ERR("%s: VFIO_GROUP_GET_DEVICE_FD: %s", v->bdf, strerror(-ret));
		v->device = -1;
		return ret;
	}
	v->own.users = 1;
	v->path = VFIO_PATH_GROUP;
	return 0;
}

static int device_info(struct vfio_dev *v)
{
	struct vfio_device_info info = {.argsz = sizeof(info)};

	if (ioctl(v->device, VFIO_DEVICE_GET_INFO, &info) != 0) {
		int e = errno;

		LOG_ERR("%s: VFIO_DEVICE_GET_INFO: %s", v->bdf, strerror(e));
		return -e;
	}
	if (!(info.flags & VFIO_DEVICE_FLAGS_PCI)) {
		LOG_ERR("%s: VFIO_DEVICE_GET_INFO: not a PCI device (flags 0x%x)", v->bdf, info.flags);
		return -ENODEV;
	}
	if (info.num_regions <= VFIO_PCI_CONFIG_REGION_INDEX) {
		LOG_ERR("%s: VFIO_DEVICE_GET_INFO: %u regions, no config space", v->bdf, info.num_regions);
		return -EPROTO;
	}
	v->dev_flags = info.flags;
	v->num_regions = info.num_regions;
	v->num_irqs = info.num_irqs;
	return 0;
}

int vfio_dev_open(struct vfio_dev *v, const char *bdf)
{
	struct sysfs_pci_dev self;
	enum vfio_path want;
	char cdev[64] = "";
	int ret, have_cdev, use_iommufd;

	v->group_fd = v->device = -1;
	v->own.container = v->own.iommufd = -1;
	v->ctx = &v->own;
	ret = get_path(&want);
	if (ret)
		return ret;
	ret = sysfs_pci_get(NULL, bdf, &self);
	if (ret) {
		LOG_ERR("%s: %s", bdf, ret == -ENOENT ? "no such PCI device" : strerror(-ret));
		return ret;
	}
	snprintf(v->bdf, sizeof(v->bdf), "%s", self.bdf);
	/* Not a VFIO device (yet): "no such device" for VFIO, -ENOENT. */
	if (self.iommu_group < 0) {
		LOG_ERR("%s: no IOMMU group: VFIO needs the IOMMU on (intel_iommu=on or amd_iommu=on)", v->bdf);
		return -ENOENT;
	}
	v->group = self.iommu_group;
	if (strncmp(self.driver, "vfio", 4) != 0 && !strstr(self.driver, "vfio")) {
		LOG_ERR("%s: bound to %s, not vfio-pci (upci bind %s)", v->bdf, self.driver[0] ? self.driver : "no driver",
			v->bdf);
		return -ENOENT;
	}
	ret = check_group(&self, 0);
	if (ret)
		return ret;
	if (self.vfio_cdev >= 0)
		snprintf(cdev, sizeof(cdev), "/dev/vfio/devices/vfio%d", self.vfio_cdev);
	have_cdev = self.vfio_cdev >= 0 && access(cdev, F_OK) == 0 && access(DEV_IOMMU, F_OK) == 0;
	if (want == VFIO_PATH_IOMMUFD && !have_cdev) {
		LOG_ERR("%s: UPCI_VFIO_PATH=iommufd, but there is no %s (needs Linux 6.6+ with VFIO_DEVICE_CDEV "
			"and iommufd)", v->bdf, self.vfio_cdev < 0 ? "VFIO cdev for the device" : DEV_IOMMU " or cdev node");
		return -ENOTSUP;
	}
	use_iommufd = want == VFIO_PATH_IOMMUFD || (want == VFIO_PATH_AUTO && have_cdev);
	/* A user given only the group's node (the usual set-up before cdevs)
	 * must keep working on a kernel that also has the cdev. */
	if (want == VFIO_PATH_AUTO && have_cdev && !(rw_ok(cdev) && rw_ok(DEV_IOMMU))) {
		char group[32];

		snprintf(group, sizeof(group), "/dev/vfio/%d", v->group);
		if (rw_ok(DEV_CONTAINER) && rw_ok(group)) {
			LOG_DBG("%s: no access to %s or %s, but to %s: using the group", v->bdf, cdev, DEV_IOMMU, group);
			use_iommufd = 0;
		}
	}
	if (use_iommufd)
		ret = open_iommufd(v, cdev);
	else
		ret = open_group(v, &self);
	if (ret == 0)
		ret = device_info(v);
	LOG_DBG("%s: opened through %s (IOMMU group %d): %s", v->bdf, use_iommufd ? "iommufd" : "group", v->group,
		ret ? strerror(-ret) : "ok");
	return ret;
}

void vfio_dev_close(struct vfio_dev *v)
{
	/* Device first: closing it detaches it from the IOAS / container. */
	if (v->device >= 0)
		close(v->device);
	if (v->own.has_ioas) {
		struct iommu_destroy d = {.size = sizeof(d), .id = v->own.ioas};

		/* The iommufd is the process's: free our IOAS (and its mappings). */
		if (ioctl(v->own.iommufd, IOMMU_DESTROY, &d) != 0)
			LOG_WARN("%s: IOMMU_DESTROY of IOAS %u: %s", v->bdf, v->own.ioas, strerror(errno));
		v->own.has_ioas = 0;
	}
	if (v->own.iommufd >= 0)
		vfio_iommufd_put();
	if (v->group_fd >= 0)
		close(v->group_fd);
	if (v->own.container >= 0)
		close(v->own.container);
	v->device = v->group_fd = v->own.iommufd = v->own.container = -1;
}

/* SPDX-License-Identifier: MIT */
/*
 * The kernel ABI the vfio backend uses. <linux/vfio.h> comes from the system;
 * the iommufd and VFIO device-cdev parts are newer (Linux 6.2 and 6.6) than
 * the headers of some distributions (Debian 12 ships 6.1), so what is missing
 * is declared here, field for field as in the kernel's uapi headers, with
 * size checks. The kernel tells at run time whether it has them (ENOTTY,
 * missing /dev/iommu): the group/type1 path works everywhere.
 */
#ifndef UPCI_VFIO_UAPI_H
#define UPCI_VFIO_UAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>
#include <linux/vfio.h>

#if defined(__has_include)
#if __has_include(<linux/iommufd.h>)
#include <linux/iommufd.h>
#endif
#endif

/* ---- iommufd (include/uapi/linux/iommufd.h, Linux 6.2) ---- */
#ifndef IOMMUFD_TYPE
#define IOMMUFD_TYPE (';')

struct iommu_destroy {
	__u32 size;
	__u32 id;
};
#define IOMMU_DESTROY _IO(IOMMUFD_TYPE, 0x80)

struct iommu_ioas_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_ioas_id;
};
#define IOMMU_IOAS_ALLOC _IO(IOMMUFD_TYPE, 0x81)

struct iommu_iova_range {
	__aligned_u64 start;
	__aligned_u64 last; /* inclusive */
};

struct iommu_ioas_iova_ranges {
	__u32 size;
	__u32 ioas_id;
	__u32 num_iovas;
	__u32 __reserved;
	__aligned_u64 allowed_iovas;
	__aligned_u64 out_iova_alignment;
};
#define IOMMU_IOAS_IOVA_RANGES _IO(IOMMUFD_TYPE, 0x84)

#define IOMMU_IOAS_MAP_FIXED_IOVA (1 << 0)
#define IOMMU_IOAS_MAP_WRITEABLE  (1 << 1)
#define IOMMU_IOAS_MAP_READABLE   (1 << 2)

struct iommu_ioas_map {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__u32 __reserved;
	__aligned_u64 user_va;
	__aligned_u64 length;
	__aligned_u64 iova;
};
#define IOMMU_IOAS_MAP _IO(IOMMUFD_TYPE, 0x85)

struct iommu_ioas_unmap {
	__u32 size;
	__u32 ioas_id;
	__aligned_u64 iova;
	__aligned_u64 length;
};
#define IOMMU_IOAS_UNMAP _IO(IOMMUFD_TYPE, 0x86)
#endif /* IOMMUFD_TYPE */

_Static_assert(sizeof(struct iommu_destroy) == 8, "iommu_destroy ABI");
_Static_assert(sizeof(struct iommu_ioas_alloc) == 12, "iommu_ioas_alloc ABI");
_Static_assert(sizeof(struct iommu_iova_range) == 16, "iommu_iova_range ABI");
_Static_assert(sizeof(struct iommu_ioas_iova_ranges) == 32, "iommu_ioas_iova_ranges ABI");
_Static_assert(sizeof(struct iommu_ioas_map) == 40, "iommu_ioas_map ABI");
_Static_assert(sizeof(struct iommu_ioas_unmap) == 24, "iommu_ioas_unmap ABI");

/* ---- VFIO device cdev (include/uapi/linux/vfio.h, Linux 6.6) ---- */
#ifndef VFIO_DEVICE_BIND_IOMMUFD
struct vfio_device_bind_iommufd {
	__u32 argsz;
	__u32 flags;
	__s32 iommufd;
	__u32 out_devid;
};
#define VFIO_DEVICE_BIND_IOMMUFD _IO(VFIO_TYPE, VFIO_BASE + 18)

struct vfio_device_attach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
	__u32 pt_id;
};
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 19)
#endif

/* The first version of each struct is what we send (argsz says so), so a
 * newer header with more fields changes nothing on the wire. */
#define UPCI_VFIO_BIND_ARGSZ   16u
#define UPCI_VFIO_ATTACH_ARGSZ 12u
_Static_assert(sizeof(struct vfio_device_bind_iommufd) >= UPCI_VFIO_BIND_ARGSZ, "bind_iommufd ABI");
_Static_assert(sizeof(struct vfio_device_attach_iommufd_pt) >= UPCI_VFIO_ATTACH_ARGSZ, "attach_iommufd_pt ABI");

#endif /* UPCI_VFIO_UAPI_H */

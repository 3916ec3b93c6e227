/* SPDX-License-Identifier: MIT */
/*
 * vfio-user server: the device and its regions. DEVICE_GET_INFO,
 * GET_REGION_INFO (sparse mmap of shareable BARs), GET_REGION_IO_FDS,
 * REGION_READ/WRITE, REGION_WRITE_MULTI and DEVICE_RESET.
 *
 * Regions follow vfio-pci: 0-5 the BARs, 6 the ROM, 7 config space, 8
 * VGA. We expose no ROM and no VGA: they exist with size 0.
 */
#include <errno.h>
#include <string.h>

#include "caps.h"
#include "device.h"
#include "log.h"
#include "pci_regs.h"
#include "srv_priv.h"

#define PAGE 4096u
#define MAX_SPARSE (SRV_MAX_HOLES + 1)

/* ---- DEVICE_GET_INFO ---- */

int srv_get_info(struct vfu_session *ss, struct vfu_msg *m, struct srv_reply *r)
{
	struct vfu_device_info in, out;

	memcpy(&in, m->payload, sizeof(in));
	if (in.argsz < sizeof(out))
		return -EINVAL;
	out.argsz = sizeof(out);
	out.flags = VFU_DEVICE_F_PCI | (ss->srv->can_reset ? VFU_DEVICE_F_RESET : 0);
	out.num_regions = VFU_PCI_NUM_REGIONS;
	out.num_irqs = VFU_PCI_NUM_IRQS;
	SRV_REPLY_FIXED(ss, r, out);
	return 0;
}

/* ---- regions ---- */

/* Size of region @idx, 0 for one we do not have. */
static uint64_t region_size(const struct vfu_server *s, uint32_t idx)
{
	if (idx <= VFU_PCI_BAR5_REGION_INDEX)
		return (s->bars[idx].flags & UPCI_BAR_PRESENT) ? s->bars[idx].size : 0;
	if (idx == VFU_PCI_CONFIG_REGION_INDEX)
		return s->ident.config_size;
	return 0;
}

/* The MSI-X table and PBA ranges that lie in @bar (they stay trapped). */
static size_t msix_holes(upci_dev *dev, unsigned bar, struct srv_span *h)
{
	uint8_t cfg[PCI_CFG_SIZE];
	struct cfg_snapshot c = {cfg, sizeof(cfg)};
	struct msix_decode x;
	size_t n = 0;

	if (upci_config_read_block(dev, 0, cfg, sizeof(cfg)) != 0 || msix_decode(&c, &x) != 0)
		return 0;
	if (x.table_bar == bar) {
		h[n].start = x.table_offset;
		h[n].end = (uint64_t)x.table_offset + (uint64_t)x.table_size * PCI_MSIX_ENTRY_SIZE;
		n++;
	}
	if (x.pba_bar == bar) {
		h[n].start = x.pba_offset;
		h[n].end = (uint64_t)x.pba_offset + ((uint64_t)x.table_size + 63) / 64 * 8;
		n++;
	}
	return n;
}

size_t srv_sparse_areas(uint64_t size, const struct srv_span *holes, size_t nholes,
			struct vfu_sparse_mmap_area *areas)
{
	struct srv_span h[SRV_MAX_HOLES];
	uint64_t at = 0;
	size_t n = 0;

	if (nholes > SRV_MAX_HOLES)
		return 0;
	/* whole pages around each hole, clipped to the BAR, in order */
	for (size_t i = 0; i < nholes; i++) {
		h[i].start = holes[i].start & ~(uint64_t)(PAGE - 1);
		h[i].end = holes[i].end > size - (PAGE - 1) ? size : (holes[i].end + PAGE - 1) & ~(uint64_t)(PAGE - 1);
		for (size_t j = i; j > 0 && h[j].start < h[j - 1].start; j--) {
			struct srv_span t = h[j];

			h[j] = h[j - 1];
			h[j - 1] = t;
		}
	}
	for (size_t i = 0; i <= nholes; i++) {
		uint64_t end = i < nholes ? h[i].start : size;

		if (end > size)
			end = size;
		if (end > at) {
			areas[n].offset = at;
			areas[n].size = end - at;
			n++;
		}
		if (i < nholes && h[i].end > at)
			at = h[i].end;
	}
	return n;
}

int srv_region_info(struct vfu_session *ss, struct vfu_msg *m, struct srv_reply *r)
{
	struct vfu_server *s = ss->srv;
	struct vfu_region_info in, out;
	struct vfu_region_cap_sparse_mmap cap;
	struct vfu_sparse_mmap_area areas[MAX_SPARSE];
	size_t nareas = 0, need;
	uint64_t size, fd_off = 0;
	int fd = -1;

	memcpy(&in, m->payload, sizeof(in));
	if (in.argsz < sizeof(out) || in.index >= VFU_PCI_NUM_REGIONS)
		return -EINVAL;
	size = region_size(s, in.index);
	memset(&out, 0, sizeof(out));
	out.index = in.index;
	out.size = size;
	if (size)
		out.flags = VFU_REGION_INFO_F_READ | VFU_REGION_INFO_F_WRITE;
	/* A BAR whose memory can be shared is offered by fd, if the client
	 * accepts fds at all; mmap works in whole pages only. */
	if (size && !(size & (PAGE - 1)) && in.index <= VFU_PCI_BAR5_REGION_INDEX && ss->tran->max_send_fds > 0 &&
	    upci__bar_fd(s->dev, in.index, &fd, &fd_off) == 0 && fd >= 0 && (fd_off & (PAGE - 1)) == 0) {
		struct srv_span holes[SRV_MAX_HOLES];

		nareas = srv_sparse_areas(size, holes, msix_holes(s->dev, in.index, holes), areas);
		if (nareas == 0)
			fd = -1;
	} else {
		fd = -1;
	}
	need = sizeof(out);
	if (fd >= 0) {
		out.flags |= VFU_REGION_INFO_F_MMAP;
		out.offset = fd_off;
		need += sizeof(cap) + nareas * sizeof(areas[0]);
	}
	out.argsz = (uint32_t)need;
	if (in.argsz < need) {
		/* Too small for the capabilities: say how much is needed, and
		 * keep the fd for the full reply the client asks for next.
		 * CAPS says capabilities are in this reply (QEMU refuses CAPS
		 * with a cap_offset inside the fixed struct), so it stays off;
		 * MMAP tells the client why argsz grew. */
		SRV_REPLY_FIXED(ss, r, out);
		return 0;
	}
	if (fd >= 0) {
		out.flags |= VFU_REGION_INFO_F_CAPS;
		out.cap_offset = sizeof(out);
		cap.hdr.id = VFU_REGION_INFO_CAP_SPARSE_MMAP;
		cap.hdr.version = VFU_REGION_INFO_CAP_SPARSE_MMAP_VERSION;
		cap.hdr.next = 0;
		cap.nr_areas = (uint32_t)nareas;
		cap.reserved = 0;
		memcpy(ss->small + sizeof(out), &cap, sizeof(cap));
		memcpy(ss->small + sizeof(out) + sizeof(cap), areas, nareas * sizeof(areas[0]));
		r->fd = fd;
	}
	memcpy(ss->small, &out, sizeof(out));
	r->iov[0].iov_base = ss->small;
	r->iov[0].iov_len = need;
	r->niov = 1;
	return 0;
}
_Static_assert(sizeof(struct vfu_region_info) + sizeof(struct vfu_region_cap_sparse_mmap) +
		       MAX_SPARSE * sizeof(struct vfu_sparse_mmap_area) <= sizeof(((struct vfu_session *)0)->small),
	       "region info reply fits the scratch");

int srv_region_io_fds(struct vfu_session *ss, struct vfu_msg *m, struct srv_reply *r)
{
	struct vfu_region_io_fds in, out;

	memcpy(&in, m->payload, sizeof(in));
	if (in.flags != 0 || in.count != 0 || in.index >= VFU_PCI_NUM_REGIONS || in.argsz < sizeof(out))
		return -EINVAL;
	/* No ioeventfds: every access comes as a message or through mmap. */
	memset(&out, 0, sizeof(out));
	out.argsz = sizeof(out);
	out.index = in.index;
	SRV_REPLY_FIXED(ss, r, out);
	return 0;
}

/* ---- access ---- */

/* The widest naturally aligned access (8, 4, 2, 1) at @off that fits @left. */
static unsigned access_width(uint64_t off, uint64_t left, unsigned max)
{
	unsigned w = max;

	while (w > 1 && ((off & (w - 1)) || left < w))
		w /= 2;
	return w;
}

static int check_range(struct vfu_session *ss, uint32_t region, uint64_t off, uint64_t count)
{
	uint64_t size;

	if (region >= VFU_PCI_NUM_REGIONS)
		return -EINVAL;
	if (count > ss->srv->opts.max_data_xfer_size)
		return -EINVAL;
	size = region_size(ss->srv, region);
	if (off > size || count > size - off)
		return -ERANGE;
	return 0;
}

static int bar_read(upci_dev *dev, unsigned bar, uint64_t off, uint8_t *buf, uint64_t count)
{
	while (count) {
		unsigned w = access_width(off, count, 8);
		uint64_t v = 0;
		int ret = upci_mmio_read(dev, bar, off, w, &v);

		if (ret)
			return ret;
		for (unsigned i = 0; i < w; i++)
			buf[i] = (uint8_t)(v >> (8 * i));
		buf += w;
		off += w;
		count -= w;
	}
	return 0;
}

static int bar_write(upci_dev *dev, unsigned bar, uint64_t off, const uint8_t *buf, uint64_t count)
{
	while (count) {
		unsigned w = access_width(off, count, 8);
		uint64_t v = 0;
		int ret;

		for (unsigned i = 0; i < w; i++)
			v |= (uint64_t)buf[i] << (8 * i);
		ret = upci_mmio_write(dev, bar, off, w, v);
		if (ret)
			return ret;
		buf += w;
		off += w;
		count -= w;
	}
	return 0;
}

static int config_write(struct vfu_server *s, uint32_t off, const uint8_t *buf, uint64_t count)
{
	while (count) {
		unsigned w = access_width(off, count, 4);
		uint32_t v = 0;
		int ret;

		for (unsigned i = 0; i < w; i++)
			v |= (uint32_t)buf[i] << (8 * i);
		ret = vfu_cfg_policy_apply(&s->policy, &s->shadow, s->dev, off, w, v);
		if (ret)
			return ret;
		buf += w;
		off += w;
		count -= w;
	}
	return 0;
}

static int region_read(struct vfu_server *s, uint32_t region, uint64_t off, uint8_t *buf, uint64_t count)
{
	int ret;

	if (count == 0)
		return 0;
	if (region == VFU_PCI_CONFIG_REGION_INDEX) {
		ret = upci_config_read_block(s->dev, (uint32_t)off, buf, count);
		if (ret == 0)
			vfu_cfg_shadow_overlay(&s->shadow, (uint32_t)off, buf, count);
		return ret;
	}
	return bar_read(s->dev, region, off, buf, count);
}

static int region_write(struct vfu_server *s, uint32_t region, uint64_t off, const uint8_t *buf, uint64_t count)
{
	if (count == 0)
		return 0;
	if (region == VFU_PCI_CONFIG_REGION_INDEX)
		return config_write(s, (uint32_t)off, buf, count);
	return bar_write(s->dev, region, off, buf, count);
}

int srv_region_read(struct vfu_session *ss, struct vfu_msg *m, struct srv_reply *r)
{
	struct vfu_region_access a;
	uint8_t *data;
	int ret;

	memcpy(&a, m->payload, sizeof(a));
	ret = check_range(ss, a.region, a.offset, a.count);
	if (ret)
		return ret;
	data = srv_scratch(ss, a.count ? a.count : 1);
	if (!data)
		return -ENOMEM;
	ret = region_read(ss->srv, a.region, a.offset, data, a.count);
	if (ret)
		return ret;
	SRV_REPLY_FIXED(ss, r, a); /* the echoed access, then its data */
	r->iov[1] = (struct iovec){.iov_base = data, .iov_len = a.count};
	r->niov = 2;
	return 0;
}

int srv_region_write(struct vfu_session *ss, struct vfu_msg *m, struct srv_reply *r)
{
	struct vfu_region_access a;
	int ret;

	memcpy(&a, m->payload, sizeof(a));
	ret = check_range(ss, a.region, a.offset, a.count);
	if (ret)
		return ret;
	/* the size table and check_request proved count bytes follow */
	ret = region_write(ss->srv, a.region, a.offset, m->payload + sizeof(a), a.count);
	if (ret)
		return ret;
	SRV_REPLY_FIXED(ss, r, a);
	return 0;
}

int srv_region_write_multi(struct vfu_session *ss, struct vfu_msg *m, struct srv_reply *r)
{
	struct vfu_region_write_multi_reply out;
	uint64_t n;
	int ret;

	if (!ss->peer.write_multiple)
		return -ENOTSUP; /* not negotiated */
	memcpy(&n, m->payload, sizeof(n));
	/* Applied in order; the first failure stops the batch and is the
	 * error reply (the entries before it took effect). */
	for (uint64_t i = 0; i < n; i++) {
		struct vfu_write_one w;

		if (ss->stop && atomic_load(ss->stop))
			return -ECANCELED; /* the server stops: no more device work */
		memcpy(&w, m->payload + sizeof(struct vfu_region_write_multi) + i * sizeof(w), sizeof(w));
		ret = check_range(ss, w.region, w.offset, w.count);
		if (ret == 0)
			ret = region_write(ss->srv, w.region, w.offset, w.data, w.count);
		if (ret)
			return ret;
	}
	out.wr_cnt = n;
	SRV_REPLY_FIXED(ss, r, out);
	return 0;
}

int srv_reset(struct vfu_session *ss, struct vfu_msg *m, struct srv_reply *r)
{
	int ret;

	(void)m;
	(void)r;
	ret = upci_reset(ss->srv->dev);
	if (ret)
		return ret;
	/* Emulated registers return to the device's values, as after a
	 * reset of the real thing. */
	vfu_cfg_shadow_clear(&ss->srv->shadow);
	/* The client's eventfds stay routed: upci_reset() keeps them. */
	return 0;
}

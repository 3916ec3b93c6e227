/* SPDX-License-Identifier: MIT */
/*
 * vfio-user server, driven with raw messages over the in-memory transport
 * against sim:testdev?vectors=64 and sim:edu: negotiation, device and
 * region info, region access, DMA mapping (memfd and the exact-match unmap
 * rules, an in-band DMA timing out in virtual time), interrupts through eventfds, reset, the config-write policy,
 * every kind of bad input (each answered with an errno, and the next good
 * request still works), and cleanup when the client goes away.
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
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "caps_json.h"
#include "edu_regs.h"
#include "pci_regs.h"
#include "srv_priv.h"
#include "test_vfu_srv_util.h"
#include "testdev_regs.h"

#define TESTDEV "sim:testdev?vectors=64"
#define EDU "sim:edu"
#define CFG VFU_PCI_CONFIG_REGION_INDEX
#define RW (VFU_DMA_MAP_F_READ | VFU_DMA_MAP_F_WRITE)

/* The next request after a bad one must still work. */
static void assert_alive(struct srv_fx *fx)
{
	uint32_t id = fx_rd32(fx, CFG, PCI_VENDOR_ID);

	assert_true(id != 0 && id != 0xffffffffu);
}

static void enable_master(struct srv_fx *fx)
{
	uint32_t cmd = fx_rd32(fx, CFG, PCI_COMMAND) & 0xffffu;
	uint16_t w = (uint16_t)(cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);

	assert_int_equal(fx_region_write(fx, CFG, PCI_COMMAND, &w, 2), 0);
}

/* ---- VERSION ---- */

static void test_version_good(void **state)
{
	struct srv_fx fx;
	struct vfu_msg rep;
	struct vfu_caps c;
	uint16_t major, minor;

	(void)state;
	fx_open(&fx, TESTDEV, NULL);
	assert_int_equal(fx_version(&fx, "{\"capabilities\":{\"max_msg_fds\":8,\"max_data_xfer_size\":65536,"
					 "\"write_multiple\":true,\"twin_socket\":{\"supported\":true},"
					 "\"unknown\":[1,2]}}", &rep), 0);
	assert_int_equal(vfu_version_parse(rep.payload, rep.len, &major, &minor, &c), 0);
	assert_int_equal(major, 0);
	assert_int_equal(minor, 0);
	assert_int_equal(c.max_msg_fds, VFU_SRV_MAX_MSG_FDS);
	assert_int_equal(c.max_data_xfer_size, VFU_SRV_MAX_DATA_XFER);
	/* 65535, or what this process can still mmap (test_vfu_srv_mem) */
	assert_int_equal(c.max_dma_maps, srv_dma_max_maps(fx.ss));
	assert_true(c.max_dma_maps >= 1 && c.max_dma_maps <= VFU_SRV_MAX_DMA_MAPS);
	assert_int_equal(c.pgsizes, 4096);
	assert_true(c.write_multiple);
	assert_false(c.twin_socket); /* never, even when proposed */
	vfu_msg_release(&rep);
	/* our fd limit is in force, the client's (8) bounds what we send */
	assert_int_equal(fx.t->max_recv_fds, VFU_SRV_MAX_MSG_FDS);
	assert_int_equal(fx.t->max_send_fds, 8);
	/* no renegotiation */
	assert_int_equal(fx_version(&fx, NULL, NULL), -EINVAL);
	assert_alive(&fx);

	/* A client without capabilities gets no write_multiple. */
	fx_reconnect(&fx);
	assert_int_equal(fx_version(&fx, NULL, &rep), 0);
	assert_int_equal(vfu_version_parse(rep.payload, rep.len, &major, &minor, &c), 0);
	assert_false(c.write_multiple);
	vfu_msg_release(&rep);
	assert_int_equal(fx.t->max_send_fds, 1);
	fx_close(&fx);
}

static void test_version_bad(void **state)
{
	struct srv_fx fx;
	struct vfu_version v = {.major = 0, .minor = 0};
	uint8_t p[64];
	struct vfu_device_info di = {.argsz = sizeof(di)};

	(void)state;
	fx_open(&fx, TESTDEV, NULL);
	/* anything before VERSION */
	assert_int_equal(fx_call(&fx, VFU_CMD_DEVICE_GET_INFO, &di, sizeof(di), NULL, 0, NULL), -EINVAL);
	/* bad JSON */
	assert_int_equal(fx_version(&fx, "{\"capabilities\":", NULL), -EINVAL);
	assert_int_equal(fx_version(&fx, "{\"capabilities\":{\"max_msg_fds\":\"8\"}}", NULL), -EINVAL);
	assert_int_equal(fx_version(&fx, "{\"capabilities\":{\"max_msg_fds\":100000}}", NULL), -ERANGE);
	/* JSON without its NUL inside the message */
	memcpy(p, &v, sizeof(v));
	memcpy(p + sizeof(v), "{}", 2);
	assert_int_equal(fx_call(&fx, VFU_CMD_VERSION, p, sizeof(v) + 2, NULL, 0, NULL), -EINVAL);
	/* short payload */
	assert_int_equal(fx_call(&fx, VFU_CMD_VERSION, p, 2, NULL, 0, NULL), -EINVAL);
	/* a major we do not speak */
	v.major = 1;
	assert_int_equal(fx_call(&fx, VFU_CMD_VERSION, &v, sizeof(v), NULL, 0, NULL), -ENOTSUP);
	/* still not negotiated, then a good one works */
	assert_int_equal(fx_call(&fx, VFU_CMD_DEVICE_GET_INFO, &di, sizeof(di), NULL, 0, NULL), -EINVAL);
	fx_negotiate(&fx);
	assert_int_equal(fx_call(&fx, VFU_CMD_DEVICE_GET_INFO, &di, sizeof(di), NULL, 0, NULL), 0);
	fx_close(&fx);
}

/* ---- device and region info ---- */

static void test_get_info(void **state)
{
	struct srv_fx fx;
	struct vfu_device_info di = {.argsz = sizeof(di)}, out;
	struct vfu_msg rep;

	(void)state;
	fx_open(&fx, EDU, NULL);
	fx_negotiate(&fx);
	assert_int_equal(fx_call(&fx, VFU_CMD_DEVICE_GET_INFO, &di, sizeof(di), NULL, 0, &rep), 0);
	assert_int_equal(rep.len, sizeof(out));
	memcpy(&out, rep.payload, sizeof(out));
	vfu_msg_release(&rep);
	assert_int_equal(out.argsz, sizeof(out));
	assert_int_equal(out.flags, VFU_DEVICE_F_RESET | VFU_DEVICE_F_PCI);
	assert_int_equal(out.num_regions, 9);
	assert_int_equal(out.num_irqs, 5);
	di.argsz = 8;
	assert_int_equal(fx_call(&fx, VFU_CMD_DEVICE_GET_INFO, &di, sizeof(di), NULL, 0, NULL), -EINVAL);
	assert_alive(&fx);
	fx_close(&fx);
}

/* A region info reply, taken apart. */
struct rinfo {
	struct vfu_region_info ri;
	struct vfu_cap_hdr cap;   /* the sparse-mmap capability, when present */
	uint32_t nr_areas;
	struct vfu_sparse_mmap_area areas[4];
	size_t len;
	int fd;
};

static int region_info(struct srv_fx *fx, uint32_t index, uint32_t argsz, struct rinfo *out)
{
	struct vfu_region_info in = {.argsz = argsz, .index = index};
	struct vfu_msg rep;
	int ret = fx_call(fx, VFU_CMD_DEVICE_GET_REGION_INFO, &in, sizeof(in), NULL, 0, &rep);

	memset(out, 0, sizeof(*out));
	out->fd = -1;
	if (ret)
		return ret;
	assert_true(rep.len >= sizeof(out->ri) &&
		    rep.len <= sizeof(out->ri) + sizeof(struct vfu_region_cap_sparse_mmap) + sizeof(out->areas));
	memcpy(&out->ri, rep.payload, sizeof(out->ri));
	if (rep.len > sizeof(out->ri)) {
		const uint8_t *c = rep.payload + sizeof(out->ri);
		size_t n = rep.len - sizeof(out->ri) - sizeof(struct vfu_region_cap_sparse_mmap);

		memcpy(&out->cap, c, sizeof(out->cap));
		memcpy(&out->nr_areas, c + offsetof(struct vfu_region_cap_sparse_mmap, nr_areas), 4);
		memcpy(out->areas, c + sizeof(struct vfu_region_cap_sparse_mmap), n);
	}
	out->len = rep.len;
	assert_true(rep.nr_fds <= 1);
	if (rep.nr_fds)
		out->fd = vfu_msg_take_fd(&rep, 0);
	vfu_msg_release(&rep);
	return 0;
}

static void test_region_info_testdev(void **state)
{
	struct srv_fx fx;
	struct rinfo r;
	uint32_t rw = VFU_REGION_INFO_F_READ | VFU_REGION_INFO_F_WRITE;
	uint8_t *map;
	uint32_t v = 0;

	(void)state;
	fx_open(&fx, TESTDEV, NULL);
	fx_negotiate(&fx);
	/* BAR0: registers, MSI-X table and PBA, trapped */
	assert_int_equal(region_info(&fx, 0, 256, &r), 0);
	assert_int_equal(r.ri.index, 0);
	assert_int_equal(r.ri.size, TESTDEV_BAR_REGS_SIZE);
	assert_int_equal(r.ri.flags, rw);
	assert_int_equal(r.ri.cap_offset, 0);
	assert_int_equal(r.ri.argsz, sizeof(r.ri));
	assert_int_equal(r.fd, -1);
	/* BAR1 is BAR0's upper half, BAR3 BAR2's: absent */
	for (uint32_t i = 1; i < 9; i += 2) {
		assert_int_equal(region_info(&fx, i, 256, &r), 0);
		assert_int_equal(r.ri.size, i == 7 ? TESTDEV_CFG_SIZE : 0);
		assert_int_equal(r.ri.flags, i == 7 ? rw : 0);
		assert_int_equal(r.fd, -1);
	}
	for (uint32_t i = 4; i <= 6; i++) {
		assert_int_equal(region_info(&fx, i, 256, &r), 0);
		assert_int_equal(r.ri.size, 0);
		assert_int_equal(r.ri.flags, 0);
	}
	/* BAR2: RAM, offered by fd with one sparse area covering it */
	assert_int_equal(region_info(&fx, 2, sizeof(struct vfu_region_info), &r), 0);
	assert_int_equal(r.ri.argsz, sizeof(r.ri) + sizeof(struct vfu_region_cap_sparse_mmap) + sizeof(r.areas[0]));
	assert_int_equal(r.len, sizeof(r.ri)); /* too small: no caps, no fd */
	assert_int_equal(r.fd, -1);
	/* CAPS means "capabilities in this reply": QEMU 11.1 refuses a reply
	 * with CAPS whose cap_offset lies inside the fixed struct */
	assert_int_equal(r.ri.flags, rw | VFU_REGION_INFO_F_MMAP);
	assert_int_equal(r.ri.cap_offset, 0);
	assert_int_equal(region_info(&fx, 2, 256, &r), 0);
	assert_int_equal(r.ri.flags, rw | VFU_REGION_INFO_F_MMAP | VFU_REGION_INFO_F_CAPS);
	assert_int_equal(r.ri.size, TESTDEV_MEM_DEFAULT);
	assert_int_equal(r.ri.cap_offset, sizeof(r.ri));
	assert_int_equal(r.len, r.ri.argsz);
	assert_int_equal(r.cap.id, VFU_REGION_INFO_CAP_SPARSE_MMAP);
	assert_int_equal(r.cap.version, 1);
	assert_int_equal(r.cap.next, 0);
	assert_int_equal(r.nr_areas, 1);
	assert_int_equal(r.areas[0].offset, 0);
	assert_int_equal(r.areas[0].size, TESTDEV_MEM_DEFAULT);
	assert_true(r.fd >= 0);
	/* the fd is the BAR: a store through it is what REGION_READ sees */
	map = mmap(NULL, TESTDEV_MEM_DEFAULT, PROT_READ | PROT_WRITE, MAP_SHARED, r.fd, (off_t)r.ri.offset);
	assert_true(map != MAP_FAILED);
	memcpy(map + 0x1230, "\x78\x56\x34\x12", 4);
	assert_int_equal(fx_rd32(&fx, 2, 0x1230), 0x12345678);
	v = 0xa5a5a5a5;
	assert_int_equal(fx_region_write(&fx, 2, 0x40, &v, 4), 0);
	assert_memory_equal(map + 0x40, &v, 4);
	munmap(map, TESTDEV_MEM_DEFAULT);
	close(r.fd);
	/* bad requests */
	assert_int_equal(region_info(&fx, 9, 256, &r), -EINVAL);
	assert_int_equal(region_info(&fx, 0xffffffffu, 256, &r), -EINVAL);
	assert_int_equal(region_info(&fx, 0, 16, &r), -EINVAL);
	assert_alive(&fx);
	fx_close(&fx);
}

/* GET_REGION_INFO as QEMU 11.1 asks it: argsz 32 first, then a request
 * whose payload is the whole argsz-byte buffer (zeros after the fixed
 * part); libvfio-user's client sends 64 bytes with argsz 64. The spec's
 * rule: a larger buffer is fine, the reply says the size it needs. */
static void test_region_info_qemu_argsz(void **state)
{
	struct srv_fx fx;
	uint8_t q[256] = {0};
	struct vfu_region_info ri = {.argsz = sizeof(ri), .index = 2}, got;
	struct vfu_msg rep;
	uint32_t need;

	(void)state;
	fx_open(&fx, TESTDEV, NULL);
	fx_negotiate(&fx);
	assert_int_equal(fx_call(&fx, VFU_CMD_DEVICE_GET_REGION_INFO, &ri, sizeof(ri), NULL, 0, &rep), 0);
	memcpy(&got, rep.payload, sizeof(got));
	vfu_msg_release(&rep);
	/* what QEMU checks: CAPS only with cap_offset in [32, argsz] */
	assert_false((got.flags & VFU_REGION_INFO_F_CAPS) && (got.cap_offset < sizeof(got) || got.cap_offset > got.argsz));
	need = got.argsz;
	assert_true(need > sizeof(ri) && need <= sizeof(q));
	/* QEMU's retry: argsz bytes of payload */
	ri.argsz = need;
	memcpy(q, &ri, sizeof(ri));
	assert_int_equal(fx_call(&fx, VFU_CMD_DEVICE_GET_REGION_INFO, q, need, NULL, 0, &rep), 0);
	assert_int_equal(rep.len, need);
	assert_int_equal(rep.nr_fds, 1);
	memcpy(&got, rep.payload, sizeof(got));
	vfu_msg_release(&rep);
	assert_true(got.flags & VFU_REGION_INFO_F_CAPS);
	assert_true(got.cap_offset >= sizeof(got) && got.cap_offset <= got.argsz);
	/* libvfio-user's client: 64 bytes, argsz 64; and a buffer larger
	 * than needed gets exactly what is needed */
	for (uint32_t len = 64; len <= sizeof(q); len += sizeof(q) - 64) {
		memset(q, 0, sizeof(q));
		ri.argsz = len;
		memcpy(q, &ri, sizeof(ri));
		assert_int_equal(fx_call(&fx, VFU_CMD_DEVICE_GET_REGION_INFO, q, len, NULL, 0, &rep), 0);
		memcpy(&got, rep.payload, sizeof(got));
		assert_int_equal(got.argsz, need);
		assert_int_equal(rep.len, len >= need ? need : sizeof(got));
		vfu_msg_release(&rep);
	}
	/* the same rule for the other queries that carry argsz */
	{
		struct vfu_device_info di = {.argsz = 64};
		struct vfu_irq_info ii = {.argsz = 64, .index = VFU_PCI_MSIX_IRQ_INDEX};
		struct vfu_irq_info iout;

		memset(q, 0, sizeof(q));
		memcpy(q, &di, sizeof(di));
		assert_int_equal(fx_call(&fx, VFU_CMD_DEVICE_GET_INFO, q, 64, NULL, 0, NULL), 0);
		memcpy(q, &ii, sizeof(ii));
		assert_int_equal(fx_call(&fx, VFU_CMD_DEVICE_GET_IRQ_INFO, q, 64, NULL, 0, &rep), 0);
		memcpy(&iout, rep.payload, sizeof(iout));
		assert_int_equal(iout.argsz, sizeof(iout));
		assert_int_equal(iout.count, 64);
		vfu_msg_release(&rep);
	}
	assert_alive(&fx);
	fx_close(&fx);
}

/* Sparse areas around MSI-X structures in a mappable BAR (no model has
 * one, so the computation is checked directly). */
static void test_sparse_areas(void **state)
{
	struct vfu_sparse_mmap_area a[SRV_MAX_HOLES + 1];
	const uint64_t mib = 1 << 20;
	struct srv_span two[2] = {{0x2000, 0x2008}, {0x1000, 0x1100}}; /* PBA first */
	struct srv_span same[2] = {{0x0, 0x800}, {0x800, 0x808}};
	struct srv_span end[1] = {{mib - 0x100, mib}};
	struct srv_span all[2] = {{0, mib / 2}, {mib / 2 - 1, mib}};
	struct srv_span out[1] = {{2 * mib, 2 * mib + 16}};
	struct srv_span wrap[1] = {{UINT64_MAX - 8, UINT64_MAX}};

	(void)state;
	assert_int_equal(srv_sparse_areas(mib, NULL, 0, a), 1);
	assert_int_equal(a[0].offset, 0);
	assert_int_equal(a[0].size, mib);
	assert_int_equal(srv_sparse_areas(mib, two, 2, a), 2);
	assert_int_equal(a[0].offset, 0);
	assert_int_equal(a[0].size, 0x1000);
	assert_int_equal(a[1].offset, 0x3000);
	assert_int_equal(a[1].size, mib - 0x3000);
	assert_int_equal(srv_sparse_areas(mib, same, 2, a), 1);
	assert_int_equal(a[0].offset, 0x1000);
	assert_int_equal(a[0].size, mib - 0x1000);
	assert_int_equal(srv_sparse_areas(mib, end, 1, a), 1);
	assert_int_equal(a[0].size, mib - 0x1000);
	assert_int_equal(srv_sparse_areas(mib, all, 2, a), 0);
	assert_int_equal(srv_sparse_areas(mib, out, 1, a), 1);
	assert_int_equal(a[0].size, mib);
	assert_int_equal(srv_sparse_areas(mib, wrap, 1, a), 1);
	assert_int_equal(a[0].size, mib);
	assert_int_equal(srv_sparse_areas(mib, two, 3, a), 0); /* more holes than we know */
}

static void test_region_info_no_fds(void **state)
{
	struct srv_fx fx;
	struct rinfo r;

	(void)state;
	fx_open(&fx, TESTDEV, NULL);
	/* a client that takes no fds gets no mmap offer */
	assert_int_equal(fx_version(&fx, "{\"capabilities\":{\"max_msg_fds\":0}}", NULL), 0);
	assert_int_equal(region_info(&fx, 2, 256, &r), 0);
	assert_int_equal(r.ri.flags, VFU_REGION_INFO_F_READ | VFU_REGION_INFO_F_WRITE);
	assert_int_equal(r.fd, -1);
	fx_close(&fx);
}

static void test_region_info_edu(void **state)
{
	struct srv_fx fx;
	struct rinfo r;

	(void)state;
	fx_open(&fx, EDU, NULL);
	fx_negotiate(&fx);
	/* BAR0 is a read-only mirror: never shared, always trapped */
	assert_int_equal(region_info(&fx, 0, 256, &r), 0);
	assert_int_equal(r.ri.size, EDU_BAR_SIZE);
	assert_int_equal(r.ri.flags, VFU_REGION_INFO_F_READ | VFU_REGION_INFO_F_WRITE);
	assert_int_equal(r.fd, -1);
	assert_int_equal(region_info(&fx, CFG, 256, &r), 0);
	assert_int_equal(r.ri.size, 256);
	fx_close(&fx);
}

static void test_region_io_fds(void **state)
{
	struct srv_fx fx;
	struct vfu_region_io_fds in = {.argsz = 256, .index = 0}, out;
	struct vfu_msg rep;

	(void)state;
	fx_open(&fx, TESTDEV, NULL);
	fx_negotiate(&fx);
	assert_int_equal(fx_call(&fx, VFU_CMD_DEVICE_GET_REGION_IO_FDS, &in, sizeof(in), NULL, 0, &rep), 0);
	assert_int_equal(rep.len, sizeof(out));
	assert_int_equal(rep.nr_fds, 0);
	memcpy(&out, rep.payload, sizeof(out));
	assert_int_equal(out.count, 0);
	assert_int_equal(out.index, 0);
	vfu_msg_release(&rep);
	in.flags = 1;
	assert_int_equal(fx_call(&fx, VFU_CMD_DEVICE_GET_REGION_IO_FDS, &in, sizeof(in), NULL, 0, NULL), -EINVAL);
	in.flags = 0;
	in.index = 9;
	assert_int_equal(fx_call(&fx, VFU_CMD_DEVICE_GET_REGION_IO_FDS, &in, sizeof(in), NULL, 0, NULL), -EINVAL);
	assert_alive(&fx);
	fx_close(&fx);
}

/* ---- region access ---- */

static void test_region_access_edu(void **state)
{
	struct srv_fx fx;
	uint8_t cfg[256];
	uint16_t w;
	uint64_t q = 0;

	(void)state;
	fx_open(&fx, EDU, NULL);
	fx_negotiate(&fx);
	assert_int_equal(fx_rd32(&fx, 0, EDU_REG_ID), EDU_ID_VALUE);
	fx_wr32(&fx, 0, EDU_REG_LIVENESS, 0x12345678);
	assert_int_equal(fx_rd32(&fx, 0, EDU_REG_LIVENESS), ~0x12345678u);
	fx_wr32(&fx, 0, EDU_REG_FACTORIAL, 5);
	assert_int_equal(fx_rd32(&fx, 0, EDU_REG_FACTORIAL), 120);
	/* 8-byte registers, one 8-byte access */
	fx_wr64(&fx, 0, EDU_REG_DMA_SRC, 0x1122334455667788ull);
	assert_int_equal(fx_region_read(&fx, 0, EDU_REG_DMA_SRC, &q, 8), 0);
	assert_int_equal(q, 0x1122334455667788ull);
	/* config space in one read, as the device has it */
	assert_int_equal(fx_region_read(&fx, CFG, 0, cfg, sizeof(cfg)), 0);
	assert_int_equal(cfg[0] | cfg[1] << 8, EDU_VENDOR_ID);
	assert_int_equal(cfg[2] | cfg[3] << 8, EDU_DEVICE_ID);
	assert_int_equal(fx_rd32(&fx, CFG, 0), EDU_DEVICE_ID << 16 | EDU_VENDOR_ID);
	/* config writes reach the device */
	w = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	assert_int_equal(fx_region_write(&fx, CFG, PCI_COMMAND, &w, 2), 0);
	assert_int_equal(fx_rd32(&fx, CFG, PCI_COMMAND) & 0xffff, w);
	{
		uint32_t v = 0;

		assert_int_equal(upci_config_read(fx.dev, PCI_COMMAND, 2, &v), 0);
		assert_int_equal(v, w);
	}
	/* unaligned multi-byte config write: split into aligned pieces */
	{
		uint8_t b[3] = {0x11, 0x22, 0x33};

		assert_int_equal(fx_region_write(&fx, CFG, PCI_INTERRUPT_LINE, b, 1), 0);
		assert_int_equal(fx_rd32(&fx, CFG, PCI_INTERRUPT_LINE) & 0xff, 0x11);
	}
	/* a width the device rejects comes back as its error */
	assert_int_not_equal(fx_region_read(&fx, 0, EDU_REG_ID, &q, 8), 0);
	assert_alive(&fx);
	fx_close(&fx);
}

static void test_region_access_bad(void **state)
{
	struct srv_fx fx;
	uint8_t buf[64] = {0};
	struct vfu_region_access a = {.offset = 0, .region = 0, .count = 4};
	uint8_t p[sizeof(a) + 8];

	(void)state;
	fx_open(&fx, TESTDEV, NULL);
	fx_negotiate(&fx);
	/* region index out of range */
	assert_int_equal(fx_region_read(&fx, 9, 0, buf, 4), -EINVAL);
	assert_int_equal(fx_region_write(&fx, 0xffffffffu, 0, buf, 4), -EINVAL);
	/* outside the region */
	assert_int_equal(fx_region_read(&fx, 0, TESTDEV_BAR_REGS_SIZE - 2, buf, 4), -ERANGE);
	assert_int_equal(fx_region_read(&fx, 0, UINT64_MAX - 1, buf, 4), -ERANGE);
	assert_int_equal(fx_region_write(&fx, CFG, TESTDEV_CFG_SIZE, buf, 1), -ERANGE);
	assert_int_equal(fx_region_read(&fx, 1, 0, buf, 4), -ERANGE);  /* absent BAR */
	assert_int_equal(fx_region_read(&fx, 6, 0, buf, 4), -ERANGE);  /* no ROM */
	assert_int_equal(fx_region_read(&fx, 8, 0, buf, 1), -ERANGE);  /* no VGA */
	/* count above max_data_xfer_size */
	a.region = 2;
	a.count = VFU_SRV_MAX_DATA_XFER + 1;
	assert_int_equal(fx_call(&fx, VFU_CMD_REGION_READ, &a, sizeof(a), NULL, 0, NULL), -EINVAL);
	/* REGION_WRITE whose data disagrees with count */
	a.region = 0;
	a.offset = TESTDEV_REG_SCRATCH;
	a.count = 4;
	memcpy(p, &a, sizeof(a));
	memset(p + sizeof(a), 0, 8);
	assert_int_equal(fx_call(&fx, VFU_CMD_REGION_WRITE, p, sizeof(a) + 8, NULL, 0, NULL), -EINVAL);
	assert_int_equal(fx_call(&fx, VFU_CMD_REGION_WRITE, p, sizeof(a) + 2, NULL, 0, NULL), -EINVAL);
	/* REGION_READ with trailing bytes */
	assert_int_equal(fx_call(&fx, VFU_CMD_REGION_READ, p, sizeof(a) + 4, NULL, 0, NULL), -EINVAL);
	/* count 0 is a harmless no-op */
	assert_int_equal(fx_region_read(&fx, 0, 0, buf, 0), 0);
	/* a big read of the RAM BAR in one message */
	{
		uint8_t *big = malloc(VFU_SRV_MAX_DATA_XFER);

		assert_non_null(big);
		assert_int_equal(fx_region_read(&fx, 2, 0, big, VFU_SRV_MAX_DATA_XFER), 0);
		free(big);
	}
	/* unaligned pieces become naturally aligned accesses */
	{
		uint8_t pat[13] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};

		assert_int_equal(fx_region_write(&fx, 2, 0x101, pat, sizeof(pat)), 0);
		assert_int_equal(fx_region_read(&fx, 2, 0x101, buf, sizeof(pat)), 0);
		assert_memory_equal(buf, pat, sizeof(pat));
	}
	fx_wr32(&fx, 0, TESTDEV_REG_SCRATCH, 0xfeedf00d);
	assert_int_equal(fx_rd32(&fx, 0, TESTDEV_REG_SCRATCH), 0xfeedf00d);
	fx_close(&fx);
}

static void test_write_multi(void **state)
{
	struct srv_fx fx;
	uint8_t p[sizeof(struct vfu_region_write_multi) + 3 * sizeof(struct vfu_write_one)];
	struct vfu_write_one w[3];
	uint64_t n = 3;
	struct vfu_msg rep;
	struct vfu_region_write_multi_reply out;

	(void)state;
	fx_open(&fx, TESTDEV, NULL);
	memset(w, 0, sizeof(w));
	w[0] = (struct vfu_write_one){.offset = TESTDEV_REG_SCRATCH, .region = 0, .count = 4};
	memcpy(w[0].data, "\x01\x00\x00\x00", 4);
	w[1] = (struct vfu_write_one){.offset = 0x10, .region = 2, .count = 8};
	memcpy(w[1].data, "ABCDEFGH", 8);
	/* in order: the later write to SCRATCH wins */
	w[2] = (struct vfu_write_one){.offset = TESTDEV_REG_SCRATCH, .region = 0, .count = 4};
	memcpy(w[2].data, "\x02\x00\x00\x00", 4);
	memcpy(p, &n, sizeof(n));
	memcpy(p + sizeof(n), w, sizeof(w));
	/* not negotiated */
	assert_int_equal(fx_version(&fx, NULL, NULL), 0);
	assert_int_equal(fx_call(&fx, VFU_CMD_REGION_WRITE_MULTI, p, sizeof(p), NULL, 0, NULL), -ENOTSUP);
	fx_reconnect(&fx);
	fx_negotiate(&fx);
	assert_int_equal(fx_call(&fx, VFU_CMD_REGION_WRITE_MULTI, p, sizeof(p), NULL, 0, &rep), 0);
	assert_int_equal(rep.len, sizeof(out));
	memcpy(&out, rep.payload, sizeof(out));
	vfu_msg_release(&rep);
	assert_int_equal(out.wr_cnt, 3);
	assert_int_equal(fx_rd32(&fx, 0, TESTDEV_REG_SCRATCH), 2);
	assert_int_equal(fx_rd32(&fx, 2, 0x14), 0x48474645);
	/* an entry outside its region fails the batch */
	w[1].offset = TESTDEV_MEM_DEFAULT - 4;
	memcpy(p + sizeof(n), w, sizeof(w));
	assert_int_equal(fx_call(&fx, VFU_CMD_REGION_WRITE_MULTI, p, sizeof(p), NULL, 0, NULL), -ERANGE);
	/* wr_cnt disagreeing with the size */
	n = 2;
	memcpy(p, &n, sizeof(n));
	assert_int_equal(fx_call(&fx, VFU_CMD_REGION_WRITE_MULTI, p, sizeof(p), NULL, 0, NULL), -EINVAL);
	assert_alive(&fx);
	fx_close(&fx);
}

/* ---- framing and header abuse ---- */

static void expect_error_reply(struct srv_fx *fx, uint16_t id, int err)
{
	struct vfu_msg m;

	fx_recv(fx, &m);
	assert_int_equal(m.hdr.msg_id, id);
	assert_true(m.hdr.flags & VFU_HDR_F_ERROR);
	assert_int_equal(m.hdr.flags & VFU_HDR_F_TYPE_MASK, VFU_HDR_F_TYPE_REPLY);
	assert_int_equal(-(int)m.hdr.error, err);
	assert_int_equal(m.len, 0);
	vfu_msg_release(&m);
}

static void test_bad_headers(void **state)
{
	struct srv_fx fx;
	struct vfu_device_info di = {.argsz = sizeof(di)};
	struct vfu_hdr h;
	uint8_t raw[64];
	int fds[VFU_SRV_MAX_MSG_FDS + 1];
	int before;

	(void)state;
	fx_open(&fx, TESTDEV, NULL);
	fx_negotiate(&fx);
	before = count_fds();

	/* unknown command */
	assert_int_equal(fx_call(&fx, 99, NULL, 0, NULL, 0, NULL), -ENOSYS);
	assert_int_equal(fx_call(&fx, 14, NULL, 0, NULL, 0, NULL), -ENOSYS); /* DIRTY_PAGES: gone */
	/* server-to-client commands sent to us */
	assert_int_equal(fx_call(&fx, VFU_CMD_DMA_READ, raw, 16, NULL, 0, NULL), -ENOSYS);
	/* payload shorter / longer than the command's struct */
	assert_int_equal(fx_call(&fx, VFU_CMD_DEVICE_GET_INFO, &di, 8, NULL, 0, NULL), -EINVAL);
	memset(raw, 0, sizeof(raw));
	assert_int_equal(fx_call(&fx, VFU_CMD_DEVICE_GET_INFO, raw, 20, NULL, 0, NULL), -EINVAL);
	assert_int_equal(fx_call(&fx, VFU_CMD_DEVICE_RESET, raw, 4, NULL, 0, NULL), -EINVAL);
	/* a reply where a command belongs */
	vfu_hdr_reply(&h, &(struct vfu_hdr){.msg_id = 7, .cmd = VFU_CMD_DEVICE_GET_INFO}, 0);
	h.msg_size = VFU_HDR_SIZE + sizeof(di);
	memcpy(raw, &h, sizeof(h));
	memcpy(raw + sizeof(h), &di, sizeof(di));
	fx_feed(&fx, raw, h.msg_size, NULL, 0);
	assert_int_equal(fx_step(&fx), 0);
	expect_error_reply(&fx, 7, -EINVAL);
	/* unknown flag bits, ERROR on a command */
	vfu_hdr_request(&h, 8, VFU_CMD_DEVICE_GET_INFO, 0);
	h.msg_size = VFU_HDR_SIZE + sizeof(di);
	h.flags |= 0x100;
	memcpy(raw, &h, sizeof(h));
	fx_feed(&fx, raw, h.msg_size, NULL, 0);
	assert_int_equal(fx_step(&fx), 0);
	expect_error_reply(&fx, 8, -EINVAL);
	h.flags = VFU_HDR_F_ERROR;
	h.msg_id = 9;
	memcpy(raw, &h, sizeof(h));
	fx_feed(&fx, raw, h.msg_size, NULL, 0);
	assert_int_equal(fx_step(&fx), 0);
	expect_error_reply(&fx, 9, -EINVAL);
	/* too many fds: dropped, closed, answered */
	for (size_t i = 0; i < VFU_SRV_MAX_MSG_FDS + 1; i++)
		fds[i] = test_eventfd();
	assert_int_equal(fx_call(&fx, VFU_CMD_DEVICE_GET_INFO, &di, sizeof(di), fds, VFU_SRV_MAX_MSG_FDS + 1, NULL),
			 -EINVAL);
	/* fds where none belong */
	assert_int_equal(fx_call(&fx, VFU_CMD_DEVICE_GET_INFO, &di, sizeof(di), fds, 1, NULL), -EINVAL);
	assert_int_equal(fx_call(&fx, VFU_CMD_REGION_READ, &(struct vfu_region_access){.count = 4},
				 sizeof(struct vfu_region_access), fds, 2, NULL),
			 -EINVAL);
	for (size_t i = 0; i < VFU_SRV_MAX_MSG_FDS + 1; i++)
		close(fds[i]);
	assert_int_equal(count_fds(), before); /* the server closed its copies */
	/* a late reply to a DMA_READ we never sent (or gave up on): ignored */
	vfu_hdr_reply(&h, &(struct vfu_hdr){.msg_id = 3, .cmd = VFU_CMD_DMA_READ}, 0);
	h.msg_size = VFU_HDR_SIZE;
	fx_feed(&fx, &h, sizeof(h), NULL, 0);
	assert_int_equal(fx_step(&fx), 0);
	assert_int_equal(fx_pending_output(&fx), 0);
	/* DEVICE_FEATURE and migration: not supported */
	memset(raw, 0, sizeof(raw));
	assert_int_equal(fx_call(&fx, VFU_CMD_DEVICE_FEATURE, raw, 8, NULL, 0, NULL), -ENOTSUP);
	assert_int_equal(fx_call(&fx, VFU_CMD_MIG_DATA_READ, raw, 8, NULL, 0, NULL), -ENOTSUP);
	assert_alive(&fx);
	fx_close(&fx);
}

static void test_no_reply_and_pipelining(void **state)
{
	struct srv_fx fx;
	struct vfu_region_access a = {.offset = TESTDEV_REG_SCRATCH, .region = 0, .count = 4};
	uint8_t p[sizeof(a) + 4];
	uint32_t v = 0x55;
	struct vfu_msg m;

	(void)state;
	fx_open(&fx, TESTDEV, NULL);
	fx_negotiate(&fx);
	memcpy(p, &a, sizeof(a));
	memcpy(p + sizeof(a), &v, 4);
	/* NO_REPLY: no reply on success... */
	fx_feed_cmd(&fx, 1, VFU_CMD_REGION_WRITE, VFU_HDR_F_NO_REPLY, p, sizeof(p), NULL, 0);
	assert_int_equal(fx_step(&fx), 0);
	assert_int_equal(fx_pending_output(&fx), 0);
	/* ...nor on error (the spec), and the session goes on */
	a.region = 42;
	memcpy(p, &a, sizeof(a));
	fx_feed_cmd(&fx, 2, VFU_CMD_REGION_WRITE, VFU_HDR_F_NO_REPLY, p, sizeof(p), NULL, 0);
	assert_int_equal(fx_step(&fx), 0);
	assert_int_equal(fx_pending_output(&fx), 0);
	assert_int_equal(fx_rd32(&fx, 0, TESTDEV_REG_SCRATCH), 0x55);

	/* three pipelined commands in one chunk, all with id 5: in order */
	{
		uint8_t chunk[3 * (VFU_HDR_SIZE + sizeof(a) + 4)];
		size_t at = 0;
		struct vfu_hdr h;

		a.region = 0;
		for (uint32_t i = 0; i < 3; i++) {
			uint16_t cmd = i == 1 ? VFU_CMD_REGION_WRITE : VFU_CMD_REGION_READ;
			size_t len = cmd == VFU_CMD_REGION_WRITE ? sizeof(a) + 4 : sizeof(a);

			v = 0x77;
			vfu_hdr_request(&h, 5, cmd, 0);
			h.msg_size = (uint32_t)(VFU_HDR_SIZE + len);
			memcpy(chunk + at, &h, sizeof(h));
			memcpy(chunk + at + sizeof(h), &a, sizeof(a));
			memcpy(chunk + at + sizeof(h) + sizeof(a), &v, 4);
			at += h.msg_size;
		}
		fx_feed(&fx, chunk, at, NULL, 0);
		for (int i = 0; i < 3; i++)
			assert_int_equal(fx_step(&fx), 0);
		for (uint32_t i = 0; i < 3; i++) {
			fx_recv(&fx, &m);
			assert_int_equal(m.hdr.msg_id, 5);
			assert_false(m.hdr.flags & VFU_HDR_F_ERROR);
			if (i == 1) {
				assert_int_equal(m.hdr.cmd, VFU_CMD_REGION_WRITE);
			} else {
				assert_int_equal(m.hdr.cmd, VFU_CMD_REGION_READ);
				memcpy(&v, m.payload + sizeof(a), 4);
				assert_int_equal(v, i == 0 ? 0x55 : 0x77);
			}
			vfu_msg_release(&m);
		}
	}
	fx_close(&fx);
}

/* Framing the stream cannot recover from ends the session, cleanly; the
 * next client is served. */
static void test_broken_stream(void **state)
{
	struct srv_fx fx;
	struct vfu_hdr h;
	uint8_t raw[32] = {0};
	int fd = test_memfd(1 << 16), before;

	(void)state;
	fx_open(&fx, TESTDEV, NULL);
	fx_negotiate(&fx);
	before = count_fds();
	/* a client that vanishes in the middle of a message (with an fd) */
	assert_int_equal(fx_dma_map(&fx, 0x10000, 1 << 16, 0, RW, fd), 0);
	vfu_hdr_request(&h, 1, VFU_CMD_DMA_MAP, 0);
	h.msg_size = VFU_HDR_SIZE + sizeof(struct vfu_dma_map);
	memcpy(raw, &h, sizeof(h));
	fx_feed(&fx, raw, 24, &fd, 1);
	assert_int_equal(fx_step(&fx), -ECONNRESET);
	assert_int_equal(fx_step(&fx), -ECONNRESET); /* stays dead */
	fx_reconnect(&fx);
	assert_int_equal(count_fds(), before); /* mapping and half-message fd gone */
	fx_negotiate(&fx);
	assert_alive(&fx);
	/* a message larger than our limit: skipped whole, answered, and the
	 * session goes on */
	{
		size_t big = VFU_SRV_MAX_DATA_XFER + VFU_MSG_OVERHEAD + 1;
		uint8_t *p = calloc(1, big);

		assert_non_null(p);
		vfu_hdr_request(&h, 2, VFU_CMD_REGION_WRITE, 0);
		h.msg_size = (uint32_t)big;
		memcpy(p, &h, sizeof(h));
		fx_feed(&fx, p, big, NULL, 0);
		free(p);
		assert_int_equal(fx_step(&fx), 0);
		expect_error_reply(&fx, 2, -EMSGSIZE);
		assert_alive(&fx);
	}
	/* ...but one that ends before its announced size breaks the stream */
	vfu_hdr_request(&h, 2, VFU_CMD_REGION_WRITE, 0);
	h.msg_size = VFU_SRV_MAX_DATA_XFER + VFU_MSG_OVERHEAD + 1;
	fx_feed(&fx, &h, sizeof(h), NULL, 0);
	assert_true(fx_step(&fx) < 0);
	fx_reconnect(&fx);
	fx_negotiate(&fx);
	/* a header shorter than a header: answered, then the session ends
	 * (no size to resynchronize by) */
	vfu_hdr_request(&h, 3, VFU_CMD_DEVICE_RESET, 0);
	h.msg_size = 8;
	fx_feed(&fx, &h, sizeof(h), NULL, 0);
	assert_int_equal(fx_step(&fx), -EPROTO);
	expect_error_reply(&fx, 3, -EPROTO);
	fx_reconnect(&fx);
	/* and a client that leaves between messages */
	fx_negotiate(&fx);
	assert_int_equal(fx_step(&fx), -ENOTCONN);
	fx_reconnect(&fx);
	fx_negotiate(&fx);
	assert_alive(&fx);
	close(fd);
	fx_close(&fx);
}

/* ---- DMA ---- */

static void test_dma_map_edu(void **state)
{
	struct srv_fx fx;
	const size_t size = 1 << 16;
	int fd = test_memfd(size);
	uint8_t *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	const uint64_t iova = 0x100000;

	(void)state;
	assert_true(mem != MAP_FAILED);
	for (unsigned i = 0; i < 64; i++)
		mem[0x1000 + i] = (uint8_t)(0xc0 + i);
	fx_open(&fx, EDU, NULL);
	fx_negotiate(&fx);
	enable_master(&fx);
	/* map the memfd from offset 0x1000: IOVA iova..iova+0xf000 */
	assert_int_equal(fx_dma_map(&fx, iova, size - 0x1000, 0x1000, RW, fd), 0);
	/* RAM -> EDU buffer, then EDU buffer -> RAM elsewhere */
	fx_wr64(&fx, 0, EDU_REG_DMA_SRC, iova);
	fx_wr64(&fx, 0, EDU_REG_DMA_DST, EDU_DMA_START);
	fx_wr64(&fx, 0, EDU_REG_DMA_COUNT, 64);
	fx_wr64(&fx, 0, EDU_REG_DMA_CMD, EDU_DMA_CMD_START);
	fx_wr64(&fx, 0, EDU_REG_DMA_SRC, EDU_DMA_START);
	fx_wr64(&fx, 0, EDU_REG_DMA_DST, iova + 0x800);
	fx_wr64(&fx, 0, EDU_REG_DMA_CMD, EDU_DMA_CMD_START | EDU_DMA_CMD_TO_RAM);
	assert_int_equal(fx_rd32(&fx, 0, EDU_REG_DMA_FAULTS), 0);
	/* the device wrote straight into the client's memfd */
	assert_memory_equal(mem + 0x1800, mem + 0x1000, 64);
	assert_int_equal(mem[0x1800], 0xc0);
	/* after the unmap the device faults instead */
	assert_int_equal(fx_dma_unmap(&fx, iova, size - 0x1000, 0), 0);
	fx_wr64(&fx, 0, EDU_REG_DMA_CMD, EDU_DMA_CMD_START | EDU_DMA_CMD_TO_RAM);
	assert_int_equal(fx_rd32(&fx, 0, EDU_REG_DMA_FAULTS), 1);
	munmap(mem, size);
	close(fd);
	fx_close(&fx);
}

/*
 * DMA maps of one file share one mmap of it (a window): two maps at other
 * offsets add no mapping, a map with other protection gets its own, the
 * device reaches each map's range only; 100 ms after the last map of a
 * file went, the next message unmaps the window.
 */
static void test_dma_map_windows(void **state)
{
	struct srv_fx fx;
	int fd = test_memfd(0x40000), before, fds;
	uint8_t *va = mmap(NULL, 0x40000, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	(void)state;
	assert_true(va != MAP_FAILED);
	fx_open(&fx, TESTDEV, NULL);
	fx_negotiate(&fx);
	before = count_memfd_maps();
	fds = count_fds();
	assert_int_equal(fx_dma_map(&fx, 0x100000, 0x1000, 0x0000, RW, fd), 0);
	assert_int_equal(count_memfd_maps(), before + 1);
	assert_int_equal(fx_dma_map(&fx, 0x200000, 0x2000, 0x10000, RW, fd), 0);
	assert_int_equal(count_memfd_maps(), before + 1); /* the same window */
	assert_int_equal(fx_dma_map(&fx, 0x300000, 0x1000, 0x20000, VFU_DMA_MAP_F_READ, fd), 0);
	assert_int_equal(count_memfd_maps(), before + 2); /* read-only: its own */
	assert_int_equal(count_fds(), fds);              /* the client's fds were closed */
	/* Each map reaches its own part of the file, and only that: testdev
	 * copies 4 bytes from the second map into BAR2 (the descriptor list
	 * is in the first); a copy from the window past the first map (file
	 * offset 0x1000: mapped by us, not for the device) faults. */
	{
		struct testdev_desc d = {.src = 0x200008, .dst = 0, .len = 4, .flags = TESTDEV_DESC_F_DST_BAR2};

		enable_master(&fx);
		memcpy(va, &d, sizeof(d));
		memcpy(va + 0x10008, "\x44\x33\x22\x11", 4);
		fx_wr32(&fx, 0, TESTDEV_REG_DESC_ADDR, 0x100000);
		fx_wr32(&fx, 0, TESTDEV_REG_DESC_ADDR_HI, 0);
		fx_wr32(&fx, 0, TESTDEV_REG_DESC_COUNT, 1);
		fx_wr32(&fx, 0, TESTDEV_REG_CTRL, TESTDEV_CTRL_START);
		assert_int_equal(fx_rd32(&fx, 0, TESTDEV_REG_STATUS), TESTDEV_STATUS_DONE);
		assert_int_equal(fx_rd32(&fx, 2, 0), 0x11223344);
		d.src = 0x101000;
		memcpy(va, &d, sizeof(d));
		fx_wr32(&fx, 0, TESTDEV_REG_STATUS, TESTDEV_STATUS_DONE | TESTDEV_STATUS_ERROR);
		fx_wr32(&fx, 0, TESTDEV_REG_CTRL, TESTDEV_CTRL_START);
		assert_int_equal(fx_rd32(&fx, 0, TESTDEV_REG_STATUS), TESTDEV_STATUS_DONE | TESTDEV_STATUS_ERROR);
	}
	/* All gone: the windows stay a while for the next map of the file... */
	assert_int_equal(fx_dma_unmap(&fx, 0x100000, 0x1000, 0), 0);
	assert_int_equal(fx_dma_unmap(&fx, 0x200000, 0x2000, 0), 0);
	assert_int_equal(fx_dma_unmap(&fx, 0x300000, 0x1000, 0), 0);
	assert_int_equal(count_memfd_maps(), before + 2);
	assert_int_equal(fx_dma_map(&fx, 0x100000, 0x1000, 0x30000, RW, fd), 0);
	assert_int_equal(count_memfd_maps(), before + 2); /* reused */
	assert_int_equal(fx_dma_unmap(&fx, 0x100000, 0x1000, 0), 0);
	/* ...then the next message after SRV_WINDOW_IDLE_MS unmaps them. */
	usleep((SRV_WINDOW_IDLE_MS + 20) * 1000);
	assert_int_equal(fx_rd32(&fx, 0, 0) != 0, 1);
	assert_int_equal(count_memfd_maps(), before);
	assert_alive(&fx);
	fx_close(&fx);
	munmap(va, 0x40000);
	close(fd);
}

/*
 * Memory lent without an fd, and a client silent for longer than the DMA
 * timeout (a pause of the memory transport: virtual time): the device's
 * descriptor fetch fails as a DMA error after the full default 5 s, the
 * late answer is dropped, the session goes on - and nothing slept.
 */
static void test_inband_dma_timeout_virtual(void **state)
{
	struct srv_fx fx;
	struct vfu_hdr req = {.msg_id = 0, .cmd = VFU_CMD_DMA_READ}, rep;
	struct vfu_dma_access late = {.addr = 0x100000, .count = 32};
	uint8_t buf[sizeof(rep) + sizeof(late) + 32] = {0};
	struct timespec t0, t1;
	struct vfu_msg m;
	int64_t v0 = vfu_tran_now_ms();
	uint32_t ctrl = TESTDEV_CTRL_START;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fx_open(&fx, TESTDEV, NULL);
	fx_negotiate(&fx);
	enable_master(&fx);
	assert_int_equal(fx_dma_map(&fx, 0x100000, 0x10000, 0, RW, -1), 0);
	fx_wr64(&fx, 0, TESTDEV_REG_DESC_ADDR, 0x100000);
	fx_wr32(&fx, 0, TESTDEV_REG_DESC_COUNT, 1);
	/* START, then nothing for 6 s, then the answer to the server's first DMA_READ */
	fx_feed_cmd(&fx, fx.id++, VFU_CMD_REGION_WRITE, 0,
		    &(struct {
			    struct vfu_region_access a;
			    uint32_t v;
		    } __attribute__((packed))){{.offset = TESTDEV_REG_CTRL, .region = 0, .count = 4}, ctrl},
		    sizeof(struct vfu_region_access) + 4, NULL, 0);
	assert_int_equal(vfu_tran_mem_feed_pause(fx.t, 6000, NULL, NULL), 0);
	vfu_hdr_reply(&rep, &req, 0);
	rep.msg_size = sizeof(buf);
	memcpy(buf, &rep, sizeof(rep));
	memcpy(buf + sizeof(rep), &late, sizeof(late));
	fx_feed(&fx, buf, sizeof(buf), NULL, 0);
	assert_int_equal(fx_step(&fx), 0); /* the START, its DMA_READ unanswered */
	assert_true(vfu_tran_now_ms() - v0 >= VFU_SRV_DMA_TIMEOUT_MS);
	fx_recv(&fx, &m);
	assert_int_equal(m.hdr.cmd, VFU_CMD_DMA_READ);
	vfu_msg_release(&m);
	fx_recv(&fx, &m);
	assert_int_equal(m.hdr.cmd, VFU_CMD_REGION_WRITE);
	assert_int_equal(m.hdr.flags & VFU_HDR_F_ERROR, 0);
	vfu_msg_release(&m);
	assert_int_equal(fx_step(&fx), -EAGAIN); /* 1 s of silence left */
	assert_int_equal(vfu_session_step(fx.ss, -1), 0); /* the late answer: dropped */
	assert_int_equal(fx_pending_output(&fx), 0);
	assert_int_equal(fx_rd32(&fx, 0, TESTDEV_REG_STATUS), TESTDEV_STATUS_DONE | TESTDEV_STATUS_ERROR);
	assert_int_equal(fx_rd32(&fx, 0, TESTDEV_REG_LAST_FAULT), TESTDEV_FAULT_DESC_ADDR);
	assert_alive(&fx);
	fx_close(&fx);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 2); /* virtual time: no 5 s wait */
}

/* Whether the device (what the server gave it) reaches @iova through a
 * mapping of the client's memory. */
static bool dev_mapped(struct srv_fx *fx, uint64_t iova)
{
	void *va;

	return upci_dma_bus_to_vaddr(fx->dev, iova, 1, &va) == 0;
}

static void test_dma_map_rules(void **state)
{
	struct srv_fx fx;
	struct vfu_server_opts o;
	int fd = test_memfd(1 << 20), ev = test_eventfd(), fds[2] = {fd, fd};
	int before, maps_before;

	(void)state;
	vfu_server_opts_default(&o);
	o.max_dma_maps = 4;
	fx_open(&fx, TESTDEV, &o);
	/* not before VERSION */
	assert_int_equal(fx_dma_map(&fx, 0x10000, 0x1000, 0, RW, fd), -EINVAL);
	fx_negotiate(&fx);
	before = count_fds();
	maps_before = count_maps();
	assert_int_equal(fx_dma_map(&fx, 0x10000, 0x10000, 0, RW, fd), 0);
	/* overlaps: inside, straddling either end, covering */
	assert_int_equal(fx_dma_map(&fx, 0x10000, 0x1000, 0, RW, fd), -EEXIST);
	assert_int_equal(fx_dma_map(&fx, 0x1f000, 0x2000, 0, RW, fd), -EEXIST);
	assert_int_equal(fx_dma_map(&fx, 0xf000, 0x2000, 0, RW, fd), -EEXIST);
	assert_int_equal(fx_dma_map(&fx, 0, 0x100000, 0, RW, -1), -EEXIST);
	/* adjacency is fine; remote (no fd) too */
	assert_int_equal(fx_dma_map(&fx, 0x20000, 0x1000, 0x10000, VFU_DMA_MAP_F_READ, fd), 0);
	assert_int_equal(fx_dma_map(&fx, 0xf000, 0x1000, 0, RW, -1), 0);
	/* malformed */
	assert_int_equal(fx_dma_map(&fx, 0x50000, 0, 0, RW, fd), -EINVAL);
	assert_int_equal(fx_dma_map(&fx, 0x50800, 0x1000, 0, RW, fd), -EINVAL);
	assert_int_equal(fx_dma_map(&fx, 0x50000, 0x1800, 0, RW, fd), -EINVAL);
	assert_int_equal(fx_dma_map(&fx, 0x50000, 0x1000, 0x800, RW, fd), -EINVAL);
	assert_int_equal(fx_dma_map(&fx, 0x50000, 0x1000, 0, 0, fd), -EINVAL);
	assert_int_equal(fx_dma_map(&fx, 0x50000, 0x1000, 0, 4, fd), -EINVAL);
	assert_int_equal(fx_dma_map(&fx, UINT64_MAX - 0xfff, 0x2000, 0, RW, fd), -EOVERFLOW);
	/* more memory than the fd holds */
	assert_int_equal(fx_dma_map(&fx, 0x50000, 0x1000, 1 << 20, RW, fd), -EINVAL);
	/* an fd that cannot be mapped */
	assert_int_equal(fx_dma_map(&fx, 0x50000, 0x1000, 0, RW, ev), -ENODEV);
	/* two fds */
	{
		struct vfu_dma_map m = {.argsz = sizeof(m), .flags = RW, .addr = 0x50000, .size = 0x1000};

		assert_int_equal(fx_call(&fx, VFU_CMD_DMA_MAP, &m, sizeof(m), fds, 2, NULL), -EINVAL);
		m.argsz = 16;
		assert_int_equal(fx_call(&fx, VFU_CMD_DMA_MAP, &m, sizeof(m), NULL, 0, NULL), -EINVAL);
	}
	/* the limit */
	assert_int_equal(fx_dma_map(&fx, 0x40000, 0x1000, 0, RW, fd), 0);
	assert_int_equal(fx_dma_map(&fx, 0x41000, 0x1000, 0, RW, fd), -ENOSPC);

	/* DMA_UNMAP: one mapping exactly, or a range of whole mappings (as
	 * VFIO type1; QEMU passes a vIOMMU's invalidations on so); never a
	 * split. Maps now: 0xf000, 0x10000 (64 KiB), 0x20000, 0x40000. */
	assert_int_equal(fx_dma_unmap(&fx, 0x10000, 0x1000, 0), -EINVAL);  /* its head */
	assert_int_equal(fx_dma_unmap(&fx, 0x11000, 0x1000, 0), -EINVAL);  /* its middle */
	assert_int_equal(fx_dma_unmap(&fx, 0x10000, 0x10800, 0), -EINVAL); /* and half of 0x20000 */
	assert_int_equal(fx_dma_unmap(&fx, 0xf800, 0x1000, 0), -EINVAL);   /* across two ends */
	assert_int_equal(fx_dma_unmap(&fx, 0, 0, 0), -EINVAL);             /* empty */
	assert_int_equal(fx_dma_unmap(&fx, UINT64_MAX, 2, 0), -EINVAL);    /* wraps */
	assert_int_equal(fx_dma_unmap(&fx, 0x10000, 0x10000, 1), -EINVAL); /* unknown flag */
	assert_int_equal(fx_dma_unmap(&fx, 0x30000, 0x1000, 0), 0);        /* nothing there: nothing to do */
	/* none of those took anything */
	assert_true(dev_mapped(&fx, 0x10000));
	assert_true(dev_mapped(&fx, 0x1f000));
	assert_true(dev_mapped(&fx, 0x20000));
	assert_int_equal(fx_dma_unmap(&fx, 0x10000, 0x10000, 0), 0);
	assert_int_equal(fx_dma_unmap(&fx, 0x10000, 0x10000, 0), 0);        /* gone already */
	assert_int_equal(upci_dma_unmap(fx.dev, 0x10000), -ENOENT); /* gone from the device too */
	/* the slot is free again */
	assert_int_equal(fx_dma_map(&fx, 0x10000, 0x10000, 0, RW, fd), 0);
	/* a range holding three whole mappings takes them, not the fourth */
	assert_int_equal(fx_dma_unmap(&fx, 0, 0x40000, 0), 0);
	assert_int_equal(upci_dma_unmap(fx.dev, 0xf000), -ENOENT);
	assert_int_equal(upci_dma_unmap(fx.dev, 0x10000), -ENOENT);
	assert_int_equal(upci_dma_unmap(fx.dev, 0x20000), -ENOENT);
	assert_true(dev_mapped(&fx, 0x40000));
	/* the top of the address space, as QEMU's last chunk: no wrap */
	assert_int_equal(fx_dma_map(&fx, UINT64_MAX - 0xfff, 0x1000, 0, RW, -1), 0);
	assert_int_equal(fx_dma_unmap(&fx, 1ull << 63, 1ull << 63, 0), 0);
	assert_int_equal(upci_dma_unmap(fx.dev, UINT64_MAX - 0xfff), -ENOENT);
	/* back as they were, for VFIO_DMA_UNMAP_FLAG_ALL below */
	assert_int_equal(fx_dma_map(&fx, 0x10000, 0x10000, 0, RW, fd), 0);
	assert_int_equal(fx_dma_map(&fx, 0x20000, 0x1000, 0x10000, VFU_DMA_MAP_F_READ, fd), 0);
	assert_int_equal(fx_dma_map(&fx, 0xf000, 0x1000, 0, RW, -1), 0);
	/* VFIO_DMA_UNMAP_FLAG_ALL (what QEMU sends): addr and size 0 */
	assert_int_equal(fx_dma_unmap(&fx, 0x10000, 0, 2), -EINVAL);
	assert_int_equal(fx_dma_unmap(&fx, 0, 0, 2), 0);
	assert_int_equal(upci_dma_unmap(fx.dev, 0x20000), -ENOENT);
	assert_int_equal(upci_dma_unmap(fx.dev, 0xf000), -ENOENT);
	assert_int_equal(count_fds(), before);
	/* The file's mmap outlives its last map by SRV_WINDOW_IDLE_MS. */
	srv_dma_sweep(fx.ss, true);
	assert_int_equal(count_maps(), maps_before);
	assert_alive(&fx);
	close(fd);
	close(ev);
	fx_close(&fx);
}

/* ---- interrupts ---- */

static int irq_info(struct srv_fx *fx, uint32_t index, struct vfu_irq_info *out)
{
	struct vfu_irq_info in = {.argsz = sizeof(in), .index = index};
	struct vfu_msg rep;
	int ret = fx_call(fx, VFU_CMD_DEVICE_GET_IRQ_INFO, &in, sizeof(in), NULL, 0, &rep);

	if (ret == 0) {
		assert_int_equal(rep.len, sizeof(*out));
		memcpy(out, rep.payload, sizeof(*out));
		vfu_msg_release(&rep);
	}
	return ret;
}

static void test_irq_info(void **state)
{
	struct srv_fx fx;
	struct vfu_irq_info ii;

	(void)state;
	fx_open(&fx, TESTDEV, NULL);
	fx_negotiate(&fx);
	assert_int_equal(irq_info(&fx, VFU_PCI_INTX_IRQ_INDEX, &ii), 0);
	assert_int_equal(ii.count, 0); /* testdev has no INTx pin */
	assert_int_equal(irq_info(&fx, VFU_PCI_MSI_IRQ_INDEX, &ii), 0);
	assert_int_equal(ii.count, 0);
	assert_int_equal(irq_info(&fx, VFU_PCI_MSIX_IRQ_INDEX, &ii), 0);
	assert_int_equal(ii.count, 64);
	assert_int_equal(ii.index, VFU_PCI_MSIX_IRQ_INDEX);
	assert_true(ii.flags & VFU_IRQ_INFO_F_EVENTFD);
	assert_false(ii.flags & VFU_IRQ_INFO_F_NORESIZE);
	assert_int_equal(irq_info(&fx, VFU_PCI_ERR_IRQ_INDEX, &ii), 0);
	assert_int_equal(ii.count, 1); /* PCIe */
	assert_int_equal(ii.flags, VFU_IRQ_INFO_F_EVENTFD);
	assert_int_equal(irq_info(&fx, VFU_PCI_REQ_IRQ_INDEX, &ii), 0);
	assert_int_equal(ii.count, 1);
	assert_int_equal(irq_info(&fx, 5, &ii), -EINVAL);
	fx_close(&fx);

	fx_open(&fx, EDU, NULL);
	fx_negotiate(&fx);
	assert_int_equal(irq_info(&fx, VFU_PCI_INTX_IRQ_INDEX, &ii), 0);
	assert_int_equal(ii.count, 1);
	assert_int_equal(ii.flags, VFU_IRQ_INFO_F_EVENTFD | VFU_IRQ_INFO_F_MASKABLE | VFU_IRQ_INFO_F_AUTOMASKED);
	assert_int_equal(irq_info(&fx, VFU_PCI_MSI_IRQ_INDEX, &ii), 0);
	assert_int_equal(ii.count, 1);
	assert_int_equal(irq_info(&fx, VFU_PCI_ERR_IRQ_INDEX, &ii), 0);
	assert_int_equal(ii.count, 0); /* conventional PCI */
	fx_close(&fx);
}

#define NVEC 64
#define TRIG_EVENTFD (VFU_IRQ_SET_DATA_EVENTFD | VFU_IRQ_SET_ACTION_TRIGGER)

static void doorbell(struct srv_fx *fx, uint32_t v)
{
	fx_wr32(fx, 0, TESTDEV_REG_DOORBELL, v);
}

/* Exactly vector @v (or none for -1) signalled since the last look. */
static void expect_only(const int *ev, int v)
{
	for (int i = 0; i < NVEC; i++)
		assert_int_equal(eventfd_take(ev[i]) != 0, i == v);
}

static void test_set_irqs_msix(void **state)
{
	struct srv_fx fx;
	int ev[NVEC], before;
	enum upci_irq_type type;
	unsigned nvec;
	uint8_t bools[4] = {1, 0, 1, 0};

	(void)state;
	fx_open(&fx, TESTDEV, NULL);
	fx_negotiate(&fx);
	enable_master(&fx);
	before = count_fds();
	for (int i = 0; i < NVEC; i++)
		ev[i] = test_eventfd();
	/* 64 eventfds in 8 messages of 8 (the client's chunking) */
	for (int c = 0; c < NVEC / 8; c++)
		assert_int_equal(fx_set_irqs(&fx, TRIG_EVENTFD, VFU_PCI_MSIX_IRQ_INDEX, (uint32_t)c * 8, 8, NULL, 0,
					     ev + c * 8, 8), 0);
	assert_int_equal(upci_irq_info(fx.dev, &type, &nvec), 0);
	assert_int_equal(type, UPCI_IRQ_MSIX);
	assert_int_equal(nvec, NVEC);
	/* each doorbell signals its own eventfd, and only that one */
	for (int v = 0; v < NVEC; v++) {
		doorbell(&fx, (uint32_t)v);
		expect_only(ev, v);
	}
	/* MASK: latched, delivered on UNMASK */
	assert_int_equal(fx_set_irqs(&fx, VFU_IRQ_SET_DATA_NONE | VFU_IRQ_SET_ACTION_MASK, VFU_PCI_MSIX_IRQ_INDEX, 5, 1,
				     NULL, 0, NULL, 0), 0);
	doorbell(&fx, 5);
	expect_only(ev, -1);
	assert_int_equal(fx_set_irqs(&fx, VFU_IRQ_SET_DATA_NONE | VFU_IRQ_SET_ACTION_UNMASK, VFU_PCI_MSIX_IRQ_INDEX, 5,
				     1, NULL, 0, NULL, 0), 0);
	expect_only(ev, 5);
	/* BOOL: only the selected vectors are masked */
	assert_int_equal(fx_set_irqs(&fx, VFU_IRQ_SET_DATA_BOOL | VFU_IRQ_SET_ACTION_MASK, VFU_PCI_MSIX_IRQ_INDEX, 0, 4,
				     bools, 4, NULL, 0), 0);
	doorbell(&fx, 0);
	expect_only(ev, -1);
	doorbell(&fx, 1);
	expect_only(ev, 1);
	assert_int_equal(fx_set_irqs(&fx, VFU_IRQ_SET_DATA_BOOL | VFU_IRQ_SET_ACTION_UNMASK, VFU_PCI_MSIX_IRQ_INDEX, 0,
				     4, bools, 4, NULL, 0), 0);
	expect_only(ev, 0);
	/* an UNMASK eventfd is signalled when the server unmasks the vector */
	{
		int un = test_eventfd();

		assert_int_equal(fx_set_irqs(&fx, VFU_IRQ_SET_DATA_EVENTFD | VFU_IRQ_SET_ACTION_UNMASK,
					     VFU_PCI_MSIX_IRQ_INDEX, 3, 1, NULL, 0, &un, 1), 0);
		assert_int_equal(fx_set_irqs(&fx, VFU_IRQ_SET_DATA_NONE | VFU_IRQ_SET_ACTION_UNMASK,
					     VFU_PCI_MSIX_IRQ_INDEX, 3, 1, NULL, 0, NULL, 0), 0);
		assert_int_equal(eventfd_take(un), 1);
		close(un);
	}
	/* TRIGGER from the client: loops back to the eventfd */
	assert_int_equal(fx_set_irqs(&fx, VFU_IRQ_SET_DATA_NONE | VFU_IRQ_SET_ACTION_TRIGGER, VFU_PCI_MSIX_IRQ_INDEX, 7,
				     1, NULL, 0, NULL, 0), 0);
	expect_only(ev, 7);
	/* de-assign one vector: EVENTFD with no fds */
	assert_int_equal(fx_set_irqs(&fx, TRIG_EVENTFD, VFU_PCI_MSIX_IRQ_INDEX, 10, 1, NULL, 0, NULL, 0), 0);
	doorbell(&fx, 10);
	expect_only(ev, -1);
	doorbell(&fx, 11);
	expect_only(ev, 11);
	/* replace one: the new fd fires, the old one not */
	{
		int nw = test_eventfd();

		assert_int_equal(fx_set_irqs(&fx, TRIG_EVENTFD, VFU_PCI_MSIX_IRQ_INDEX, 12, 1, NULL, 0, &nw, 1), 0);
		doorbell(&fx, 12);
		expect_only(ev, -1);
		assert_int_equal(eventfd_take(nw), 1);
		close(nw);
	}
	/* bad requests change nothing */
	assert_int_equal(fx_set_irqs(&fx, TRIG_EVENTFD, 5, 0, 1, NULL, 0, ev, 1), -EINVAL);
	assert_int_equal(fx_set_irqs(&fx, TRIG_EVENTFD, VFU_PCI_MSIX_IRQ_INDEX, 60, 8, NULL, 0, ev, 8), -EINVAL);
	assert_int_equal(fx_set_irqs(&fx, TRIG_EVENTFD, VFU_PCI_MSIX_IRQ_INDEX, 64, 1, NULL, 0, ev, 1), -EINVAL);
	assert_int_equal(fx_set_irqs(&fx, TRIG_EVENTFD, VFU_PCI_MSIX_IRQ_INDEX, 0xffffffffu, 2, NULL, 0, ev, 2),
			 -EINVAL);
	assert_int_equal(fx_set_irqs(&fx, TRIG_EVENTFD, VFU_PCI_MSIX_IRQ_INDEX, 0, 8, NULL, 0, ev, 3), -EINVAL);
	assert_int_equal(fx_set_irqs(&fx, TRIG_EVENTFD | VFU_IRQ_SET_DATA_BOOL, VFU_PCI_MSIX_IRQ_INDEX, 0, 1, bools, 1,
				     NULL, 0), -EINVAL);
	assert_int_equal(fx_set_irqs(&fx, VFU_IRQ_SET_DATA_NONE | VFU_IRQ_SET_ACTION_MASK | VFU_IRQ_SET_ACTION_UNMASK,
				     VFU_PCI_MSIX_IRQ_INDEX, 0, 1, NULL, 0, NULL, 0), -EINVAL);
	assert_int_equal(fx_set_irqs(&fx, VFU_IRQ_SET_DATA_NONE | VFU_IRQ_SET_ACTION_MASK, VFU_PCI_MSIX_IRQ_INDEX, 0,
				     0, NULL, 0, NULL, 0), -EINVAL);
	assert_int_equal(fx_set_irqs(&fx, TRIG_EVENTFD | 0x40, VFU_PCI_MSIX_IRQ_INDEX, 0, 1, NULL, 0, ev, 1), -EINVAL);
	assert_int_equal(fx_set_irqs(&fx, VFU_IRQ_SET_DATA_NONE | VFU_IRQ_SET_ACTION_TRIGGER, VFU_PCI_MSIX_IRQ_INDEX, 0,
				     1, NULL, 0, ev, 1), -EINVAL); /* fd with DATA_NONE */
	assert_int_equal(fx_set_irqs(&fx, VFU_IRQ_SET_DATA_BOOL | VFU_IRQ_SET_ACTION_TRIGGER, VFU_PCI_MSIX_IRQ_INDEX, 0,
				     4, bools, 2, NULL, 0), -EINVAL); /* bools missing */
	assert_int_equal(fx_set_irqs(&fx, VFU_IRQ_SET_DATA_NONE | VFU_IRQ_SET_ACTION_MASK, VFU_PCI_MSI_IRQ_INDEX, 0, 1,
				     NULL, 0, NULL, 0), -EINVAL); /* no MSI here */
	{
		int mfd = test_memfd(4096); /* not an eventfd */

		assert_int_equal(fx_set_irqs(&fx, TRIG_EVENTFD, VFU_PCI_MSIX_IRQ_INDEX, 0, 1, NULL, 0, &mfd, 1),
				 -EINVAL);
		close(mfd);
	}
	doorbell(&fx, 0);
	expect_only(ev, 0);
	/* disable the index: DATA_NONE, TRIGGER, count 0 */
	assert_int_equal(fx_set_irqs(&fx, VFU_IRQ_SET_DATA_NONE | VFU_IRQ_SET_ACTION_TRIGGER, VFU_PCI_MSIX_IRQ_INDEX, 0,
				     0, NULL, 0, NULL, 0), 0);
	assert_int_equal(upci_irq_info(fx.dev, &type, &nvec), 0);
	assert_int_equal(type, UPCI_IRQ_NONE);
	doorbell(&fx, 0);
	expect_only(ev, -1);
	for (int i = 0; i < NVEC; i++)
		close(ev[i]);
	assert_int_equal(count_fds(), before); /* the server holds none */
	assert_alive(&fx);
	fx_close(&fx);
}

/* INTx on edu: automasked level, re-fired on UNMASK while still asserted. */
static void test_set_irqs_intx(void **state)
{
	struct srv_fx fx;
	int ev = test_eventfd();

	(void)state;
	fx_open(&fx, EDU, NULL);
	fx_negotiate(&fx);
	assert_int_equal(fx_set_irqs(&fx, TRIG_EVENTFD, VFU_PCI_INTX_IRQ_INDEX, 0, 1, NULL, 0, &ev, 1), 0);
	fx_wr32(&fx, 0, EDU_REG_IRQ_RAISE, 1);
	assert_int_equal(eventfd_take(ev), 1);
	/* EOI without ack: the line is still up, so UNMASK fires again */
	assert_int_equal(fx_set_irqs(&fx, VFU_IRQ_SET_DATA_NONE | VFU_IRQ_SET_ACTION_UNMASK, VFU_PCI_INTX_IRQ_INDEX, 0,
				     1, NULL, 0, NULL, 0), 0);
	assert_int_equal(eventfd_take(ev), 1);
	fx_wr32(&fx, 0, EDU_REG_IRQ_ACK, 1);
	assert_int_equal(fx_set_irqs(&fx, VFU_IRQ_SET_DATA_NONE | VFU_IRQ_SET_ACTION_UNMASK, VFU_PCI_INTX_IRQ_INDEX, 0,
				     1, NULL, 0, NULL, 0), 0);
	assert_int_equal(eventfd_take(ev), 0);
	/* switching to MSI drops the INTx fd */
	{
		int msi = test_eventfd();
		enum upci_irq_type type;

		enable_master(&fx);
		assert_int_equal(fx_set_irqs(&fx, TRIG_EVENTFD, VFU_PCI_MSI_IRQ_INDEX, 0, 1, NULL, 0, &msi, 1), 0);
		assert_int_equal(upci_irq_info(fx.dev, &type, NULL), 0);
		assert_int_equal(type, UPCI_IRQ_MSI);
		fx_wr32(&fx, 0, EDU_REG_IRQ_RAISE, 1);
		assert_int_equal(eventfd_take(msi), 1);
		assert_int_equal(eventfd_take(ev), 0);
		close(msi);
	}
	close(ev);
	fx_close(&fx);
}

/* ERR and REQ take an eventfd (and de-assign) but never fire. */
static void test_set_irqs_err_req(void **state)
{
	struct srv_fx fx;
	int ev = test_eventfd();

	(void)state;
	fx_open(&fx, TESTDEV, NULL);
	fx_negotiate(&fx);
	assert_int_equal(fx_set_irqs(&fx, TRIG_EVENTFD, VFU_PCI_ERR_IRQ_INDEX, 0, 1, NULL, 0, &ev, 1), 0);
	assert_int_equal(fx_set_irqs(&fx, TRIG_EVENTFD, VFU_PCI_REQ_IRQ_INDEX, 0, 1, NULL, 0, &ev, 1), 0);
	assert_int_equal(fx_set_irqs(&fx, TRIG_EVENTFD, VFU_PCI_REQ_IRQ_INDEX, 1, 1, NULL, 0, &ev, 1), -EINVAL);
	assert_int_equal(fx_set_irqs(&fx, VFU_IRQ_SET_DATA_NONE | VFU_IRQ_SET_ACTION_MASK, VFU_PCI_ERR_IRQ_INDEX, 0, 1,
				     NULL, 0, NULL, 0), -EINVAL);
	assert_int_equal(fx_set_irqs(&fx, VFU_IRQ_SET_DATA_NONE | VFU_IRQ_SET_ACTION_TRIGGER, VFU_PCI_REQ_IRQ_INDEX, 0,
				     0, NULL, 0, NULL, 0), 0);
	assert_int_equal(eventfd_take(ev), 0);
	close(ev);
	fx_close(&fx);
}

/* ---- reset, policy, cleanup ---- */

static void test_reset(void **state)
{
	struct srv_fx fx;
	int ev = test_eventfd();

	(void)state;
	fx_open(&fx, TESTDEV, NULL);
	fx_negotiate(&fx);
	enable_master(&fx);
	assert_int_equal(fx_set_irqs(&fx, TRIG_EVENTFD, VFU_PCI_MSIX_IRQ_INDEX, 3, 1, NULL, 0, &ev, 1), 0);
	fx_wr32(&fx, 0, TESTDEV_REG_SCRATCH, 0x1234);
	assert_int_equal(fx_call(&fx, VFU_CMD_DEVICE_RESET, NULL, 0, NULL, 0, NULL), 0);
	assert_int_equal(fx_rd32(&fx, 0, TESTDEV_REG_SCRATCH), 0);
	/* the interrupt set-up survives, still delivered to the eventfd */
	doorbell(&fx, 3);
	assert_int_equal(eventfd_take(ev), 1);
	close(ev);
	fx_close(&fx);
}

static int policy_calls;

/* Drops COMMAND writes, emulates INTERRUPT_LINE, refuses BAR0 writes and
 * doubles CACHE_LINE_SIZE. */
static int test_policy(void *opaque, upci_dev *dev, uint32_t off, unsigned width, uint32_t *val)
{
	(void)dev;
	assert_ptr_equal(opaque, &policy_calls);
	policy_calls++;
	if (off == PCI_COMMAND)
		return VFU_CFG_DROP;
	if (off == PCI_INTERRUPT_LINE && width == 1)
		return VFU_CFG_EMULATE;
	if (off >= PCI_BASE_ADDRESS_0 && off < PCI_BASE_ADDRESS_0 + 4)
		return -EACCES;
	if (off == PCI_CACHE_LINE_SIZE && width == 1)
		*val *= 2;
	return VFU_CFG_FORWARD;
}

static void test_policy_hook(void **state)
{
	struct srv_fx fx;
	struct vfu_server_opts o;
	struct vfu_cfg_policy p = {.name = "test", .config_write = test_policy, .opaque = &policy_calls};
	uint32_t dev_val = 0, cmd_before;
	uint8_t b;
	uint16_t w = PCI_COMMAND_MASTER;

	(void)state;
	vfu_server_opts_default(&o);
	o.policy = &p;
	fx_open(&fx, EDU, &o);
	fx_negotiate(&fx);
	cmd_before = fx_rd32(&fx, CFG, PCI_COMMAND) & 0xffff;
	assert_int_equal(fx_region_write(&fx, CFG, PCI_COMMAND, &w, 2), 0);
	assert_int_equal(fx_rd32(&fx, CFG, PCI_COMMAND) & 0xffff, cmd_before); /* dropped */
	b = 0x5a;
	assert_int_equal(fx_region_write(&fx, CFG, PCI_INTERRUPT_LINE, &b, 1), 0);
	assert_int_equal(fx_rd32(&fx, CFG, PCI_INTERRUPT_LINE) & 0xff, 0x5a); /* the client sees its value */
	assert_int_equal(upci_config_read(fx.dev, PCI_INTERRUPT_LINE, 1, &dev_val), 0);
	assert_int_not_equal(dev_val, 0x5a); /* the device does not */
	b = 8;
	assert_int_equal(fx_region_write(&fx, CFG, PCI_CACHE_LINE_SIZE, &b, 1), 0);
	assert_int_equal(upci_config_read(fx.dev, PCI_CACHE_LINE_SIZE, 1, &dev_val), 0);
	assert_int_equal(dev_val, 16); /* rewritten */
	assert_int_equal(fx_region_write(&fx, CFG, PCI_BASE_ADDRESS_0, &dev_val, 4), -EACCES);
	assert_true(policy_calls >= 4);
	/* reset forgets the emulated byte */
	assert_int_equal(fx_call(&fx, VFU_CMD_DEVICE_RESET, NULL, 0, NULL, 0, NULL), 0);
	assert_int_not_equal(fx_rd32(&fx, CFG, PCI_INTERRUPT_LINE) & 0xff, 0x5a);
	fx_close(&fx);
}

/* A client that leaves drops every mapping and eventfd; the device state
 * stays and the next client is served. */
static void test_disconnect_cleanup(void **state)
{
	struct srv_fx fx;
	int before, maps_before, mem, ev[8];
	enum upci_irq_type type;

	(void)state;
	fx_open(&fx, TESTDEV, NULL);
	before = count_fds();
	maps_before = count_maps();
	mem = test_memfd(1 << 20);
	for (int i = 0; i < 8; i++)
		ev[i] = test_eventfd();
	fx_negotiate(&fx);
	enable_master(&fx);
	for (uint64_t i = 0; i < 16; i++)
		assert_int_equal(fx_dma_map(&fx, 0x100000 + i * 0x10000, 0x10000, i * 0x10000, RW, mem), 0);
	assert_int_equal(fx_dma_map(&fx, 0x10000000, 0x10000, 0, RW, -1), 0);
	assert_int_equal(fx_set_irqs(&fx, TRIG_EVENTFD, VFU_PCI_MSIX_IRQ_INDEX, 0, 8, NULL, 0, ev, 8), 0);
	fx_wr32(&fx, 0, TESTDEV_REG_SCRATCH, 0xabcd);
	close(mem);
	for (int i = 0; i < 8; i++)
		close(ev[i]);
	assert_true(count_fds() > before); /* the server holds eventfds */
	assert_true(count_maps() > maps_before);
	fx_reconnect(&fx);
	assert_int_equal(count_fds(), before);
	assert_int_equal(count_maps(), maps_before);
	assert_int_equal(upci_irq_info(fx.dev, &type, NULL), 0);
	assert_int_equal(type, UPCI_IRQ_NONE);
	assert_int_equal(upci_dma_unmap(fx.dev, 0x100000), -ENOENT);
	/* device state kept */
	fx_negotiate(&fx);
	assert_int_equal(fx_rd32(&fx, 0, TESTDEV_REG_SCRATCH), 0xabcd);
	fx_close(&fx);
}

static void test_server_args(void **state)
{
	upci_dev *dev;
	struct vfu_server *s, *s2;
	struct vfu_server_opts o;
	struct vfu_tran *t;
	struct vfu_session *ss, *ss2;

	(void)state;
	assert_int_equal(upci_open(&dev, EDU), 0);
	vfu_server_opts_default(&o);
	o.max_msg_fds = 0;
	assert_int_equal(vfu_server_new(dev, &o, &s), -EINVAL);
	vfu_server_opts_default(&o);
	o.n_allow_uids = VFU_SRV_MAX_ALLOW_UIDS + 1;
	assert_int_equal(vfu_server_new(dev, &o, &s), -EINVAL);
	/* the server claims for itself; another claimant keeps it from us */
	{
		upci_dev *other;

		assert_int_equal(upci_open(&other, EDU), 0);
		assert_int_equal(upci_claim(other), 0);
		assert_int_equal(vfu_server_new(dev, NULL, &s), -EPERM);
		upci_close(other);
	}
	assert_int_equal(vfu_server_new(dev, NULL, &s), 0);
	assert_int_equal(vfu_tran_mem_new(&t), 0);
	assert_int_equal(vfu_session_open(s, t, &ss), 0);
	assert_int_equal(vfu_session_open(s, t, &ss2), -EBUSY); /* one client at a time */
	assert_int_equal(vfu_server_new(dev, NULL, &s2), 0);
	vfu_server_free(s2);
	vfu_server_free(s);
	vfu_tran_close(t);
	upci_close(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version_good),
		cmocka_unit_test(test_version_bad),
		cmocka_unit_test(test_get_info),
		cmocka_unit_test(test_region_info_testdev),
		cmocka_unit_test(test_region_info_qemu_argsz),
		cmocka_unit_test(test_dma_map_windows),
		cmocka_unit_test(test_sparse_areas),
		cmocka_unit_test(test_region_info_no_fds),
		cmocka_unit_test(test_region_info_edu),
		cmocka_unit_test(test_region_io_fds),
		cmocka_unit_test(test_region_access_edu),
		cmocka_unit_test(test_region_access_bad),
		cmocka_unit_test(test_write_multi),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_no_reply_and_pipelining),
		cmocka_unit_test(test_broken_stream),
		cmocka_unit_test(test_dma_map_edu),
		cmocka_unit_test(test_inband_dma_timeout_virtual),
		cmocka_unit_test(test_dma_map_rules),
		cmocka_unit_test(test_irq_info),
		cmocka_unit_test(test_set_irqs_msix),
		cmocka_unit_test(test_set_irqs_intx),
		cmocka_unit_test(test_set_irqs_err_req),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_policy_hook),
		cmocka_unit_test(test_disconnect_cleanup),
		cmocka_unit_test(test_server_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

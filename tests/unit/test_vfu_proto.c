/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the vfio-user protocol layer: wire layouts against the
 * spec's tables, the VERSION capabilities JSON (good, defaults, hostile),
 * the per-command size table, header checks and reply headers.
 * Hostile inputs live in exactly-sized heap buffers so that ASan turns
 * any over-read into a failure.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "caps_json.h"
#include "msg.h"
#include "proto.h"

/* ---- wire layouts (offsets from the spec's tables) ---- */

static void test_layout_header(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct vfu_hdr), 16);
	assert_int_equal(offsetof(struct vfu_hdr, msg_id), 0);
	assert_int_equal(offsetof(struct vfu_hdr, cmd), 2);
	assert_int_equal(offsetof(struct vfu_hdr, msg_size), 4);
	assert_int_equal(offsetof(struct vfu_hdr, flags), 8);
	assert_int_equal(offsetof(struct vfu_hdr, error), 12);
	assert_int_equal(VFU_HDR_F_TYPE_REPLY, 1);
	assert_int_equal(VFU_HDR_F_NO_REPLY, 1 << 4);
	assert_int_equal(VFU_HDR_F_ERROR, 1 << 5);
}

static void test_layout_commands(void **state)
{
	(void)state;
	assert_int_equal(VFU_CMD_VERSION, 1);
	assert_int_equal(VFU_CMD_DMA_MAP, 2);
	assert_int_equal(VFU_CMD_DMA_UNMAP, 3);
	assert_int_equal(VFU_CMD_DEVICE_GET_INFO, 4);
	assert_int_equal(VFU_CMD_DEVICE_GET_REGION_INFO, 5);
	assert_int_equal(VFU_CMD_DEVICE_GET_REGION_IO_FDS, 6);
	assert_int_equal(VFU_CMD_DEVICE_GET_IRQ_INFO, 7);
	assert_int_equal(VFU_CMD_DEVICE_SET_IRQS, 8);
	assert_int_equal(VFU_CMD_REGION_READ, 9);
	assert_int_equal(VFU_CMD_REGION_WRITE, 10);
	assert_int_equal(VFU_CMD_DMA_READ, 11);
	assert_int_equal(VFU_CMD_DMA_WRITE, 12);
	assert_int_equal(VFU_CMD_DEVICE_RESET, 13);
	assert_int_equal(VFU_CMD_REGION_WRITE_MULTI, 15);
	assert_int_equal(VFU_CMD_DEVICE_FEATURE, 16);
	assert_int_equal(VFU_CMD_MIG_DATA_READ, 17);
	assert_int_equal(VFU_CMD_MIG_DATA_WRITE, 18);
}

static void test_layout_payloads(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct vfu_version), 4);
	assert_int_equal(offsetof(struct vfu_version, minor), 2);
	assert_int_equal(offsetof(struct vfu_version, data), 4);

	assert_int_equal(sizeof(struct vfu_dma_map), 32);
	assert_int_equal(offsetof(struct vfu_dma_map, flags), 4);
	assert_int_equal(offsetof(struct vfu_dma_map, offset), 8);
	assert_int_equal(offsetof(struct vfu_dma_map, addr), 16);
	assert_int_equal(offsetof(struct vfu_dma_map, size), 24);

	assert_int_equal(sizeof(struct vfu_dma_unmap), 24);
	assert_int_equal(offsetof(struct vfu_dma_unmap, addr), 8);
	assert_int_equal(offsetof(struct vfu_dma_unmap, size), 16);

	assert_int_equal(sizeof(struct vfu_device_info), 16);
	assert_int_equal(offsetof(struct vfu_device_info, num_regions), 8);
	assert_int_equal(offsetof(struct vfu_device_info, num_irqs), 12);

	assert_int_equal(sizeof(struct vfu_region_info), 32);
	assert_int_equal(offsetof(struct vfu_region_info, index), 8);
	assert_int_equal(offsetof(struct vfu_region_info, cap_offset), 12);
	assert_int_equal(offsetof(struct vfu_region_info, size), 16);
	assert_int_equal(offsetof(struct vfu_region_info, offset), 24);

	assert_int_equal(sizeof(struct vfu_cap_hdr), 8);
	assert_int_equal(offsetof(struct vfu_cap_hdr, version), 2);
	assert_int_equal(offsetof(struct vfu_cap_hdr, next), 4);
	assert_int_equal(sizeof(struct vfu_region_cap_sparse_mmap), 16);
	assert_int_equal(offsetof(struct vfu_region_cap_sparse_mmap, nr_areas), 8);
	assert_int_equal(offsetof(struct vfu_region_cap_sparse_mmap, areas), 16);
	assert_int_equal(sizeof(struct vfu_sparse_mmap_area), 16);
	assert_int_equal(sizeof(struct vfu_region_cap_type), 16);
	assert_int_equal(offsetof(struct vfu_region_cap_type, subtype), 12);

	assert_int_equal(sizeof(struct vfu_region_io_fds), 16);
	assert_int_equal(offsetof(struct vfu_region_io_fds, count), 12);
	assert_int_equal(sizeof(struct vfu_sub_region_io_fd), 40);
	assert_int_equal(offsetof(struct vfu_sub_region_io_fd, fd_index), 16);
	assert_int_equal(offsetof(struct vfu_sub_region_io_fd, type), 20);
	assert_int_equal(offsetof(struct vfu_sub_region_io_fd, flags), 24);
	assert_int_equal(offsetof(struct vfu_sub_region_io_fd, data), 32);

	assert_int_equal(sizeof(struct vfu_irq_info), 16);
	assert_int_equal(sizeof(struct vfu_irq_set), 20);
	assert_int_equal(offsetof(struct vfu_irq_set, start), 12);
	assert_int_equal(offsetof(struct vfu_irq_set, count), 16);
	assert_int_equal(offsetof(struct vfu_irq_set, data), 20);

	assert_int_equal(sizeof(struct vfu_region_access), 16);
	assert_int_equal(offsetof(struct vfu_region_access, region), 8);
	assert_int_equal(offsetof(struct vfu_region_access, count), 12);
	assert_int_equal(sizeof(struct vfu_dma_access), 16);
	assert_int_equal(offsetof(struct vfu_dma_access, count), 8);

	assert_int_equal(sizeof(struct vfu_region_write_multi), 8);
	assert_int_equal(sizeof(struct vfu_write_one), 24);
	assert_int_equal(offsetof(struct vfu_write_one, count), 12);
	assert_int_equal(offsetof(struct vfu_write_one, data), 16);

	assert_int_equal(sizeof(struct vfu_device_feature), 8);
	assert_int_equal(sizeof(struct vfu_feature_mig_state), 8);
	assert_int_equal(sizeof(struct vfu_feature_dma_logging_control), 16);
	assert_int_equal(offsetof(struct vfu_feature_dma_logging_control, num_ranges), 8);
	assert_int_equal(sizeof(struct vfu_feature_dma_logging_report), 24);
	assert_int_equal(offsetof(struct vfu_feature_dma_logging_report, bitmap), 24);
	assert_int_equal(sizeof(struct vfu_mig_data), 8);
	assert_int_equal(VFU_DEVICE_FEATURE_PROBE, 1 << 18);
	assert_int_equal(VFU_DEVICE_FEATURE_DMA_LOGGING_REPORT, 8);
}

/* ---- capabilities JSON ---- */

/* Parse a C string as a peer would send it: exact heap copy with its NUL. */
static int parse_str(const char *s, struct vfu_caps *c)
{
	size_t n = strlen(s) + 1;
	char *b = malloc(n);
	int rc;

	assert_non_null(b);
	memcpy(b, s, n);
	rc = vfu_caps_parse(b, n, c);
	free(b);
	return rc;
}

static void assert_defaults(const struct vfu_caps *c)
{
	assert_int_equal(c->max_msg_fds, 1);
	assert_int_equal(c->max_data_xfer_size, 1048576);
	assert_int_equal(c->max_dma_maps, 65535);
	assert_int_equal(c->pgsizes, 4096);
	assert_false(c->twin_socket);
	assert_int_equal(c->twin_socket_fd_index, -1);
	assert_false(c->write_multiple);
	assert_false(c->dma_bus_addr);
	assert_false(c->migration);
}

/* Field by field: struct padding is not part of the value. */
static void assert_caps_equal(const struct vfu_caps *a, const struct vfu_caps *b)
{
	assert_int_equal(a->max_msg_fds, b->max_msg_fds);
	assert_int_equal(a->max_data_xfer_size, b->max_data_xfer_size);
	assert_int_equal(a->max_dma_maps, b->max_dma_maps);
	assert_int_equal(a->pgsizes, b->pgsizes);
	assert_int_equal(a->twin_socket, b->twin_socket);
	assert_int_equal(a->twin_socket_fd_index, b->twin_socket_fd_index);
	assert_int_equal(a->write_multiple, b->write_multiple);
	assert_int_equal(a->dma_bus_addr, b->dma_bus_addr);
	assert_int_equal(a->migration, b->migration);
	assert_int_equal(a->mig_pgsize, b->mig_pgsize);
	assert_int_equal(a->mig_max_bitmap_size, b->mig_max_bitmap_size);
}

static void test_caps_qemu_client(void **state)
{
	/* what QEMU's vfio-user-pci proposes (hw/vfio-user/proxy.c caps_json) */
	static const char qemu[] =
		"{\"capabilities\": {\"migration\": {\"pgsize\": 4096, "
		"\"max_bitmap_size\": 268435456}, \"max_msg_fds\": 16, "
		"\"max_data_xfer_size\": 1048576, \"pgsizes\": 4096, "
		"\"max_dma_maps\": 65535, \"write_multiple\": true}}";
	struct vfu_caps c;

	(void)state;
	assert_int_equal(parse_str(qemu, &c), 0);
	assert_int_equal(c.max_msg_fds, 16);
	assert_int_equal(c.max_data_xfer_size, 1048576);
	assert_int_equal(c.max_dma_maps, 65535);
	assert_int_equal(c.pgsizes, 4096);
	assert_true(c.write_multiple);
	assert_true(c.migration);
	assert_int_equal(c.mig_pgsize, 4096);
	assert_int_equal(c.mig_max_bitmap_size, 268435456);
	assert_false(c.twin_socket);
}

static void test_caps_full(void **state)
{
	struct vfu_caps c;

	(void)state;
	assert_int_equal(parse_str("{\"capabilities\":{\"max_msg_fds\":0,"
				   "\"max_data_xfer_size\":65536,\"max_dma_maps\":10,"
				   "\"pgsizes\":2101248,\"twin_socket\":{\"supported\":true,"
				   "\"fd_index\":3},\"write_multiple\":false}}", &c), 0);
	assert_int_equal(c.max_msg_fds, 0);
	assert_int_equal(c.max_data_xfer_size, 65536);
	assert_int_equal(c.max_dma_maps, 10);
	assert_int_equal(c.pgsizes, 4096 | (2u << 20));
	assert_true(c.twin_socket);
	assert_int_equal(c.twin_socket_fd_index, 3);
	assert_false(c.write_multiple);
}

static void test_caps_defaults(void **state)
{
	static const char *const inputs[] = {
		"{}",
		"{\"capabilities\":{}}",
		"{\"other\":1}",
		"",
		"{\"capabilities\":{\"twin_socket\":{}}}",
	};
	struct vfu_caps c;

	(void)state;
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		memset(&c, 0xa5, sizeof(c));
		assert_int_equal(parse_str(inputs[i], &c), 0);
		assert_defaults(&c);
	}
	vfu_caps_default(&c);
	assert_defaults(&c);
	assert_int_equal(c.mig_pgsize, 4096);
	assert_int_equal(c.mig_max_bitmap_size, 256u << 20);
}

static void test_caps_unknown_keys_ignored(void **state)
{
	struct vfu_caps c;

	(void)state;
	assert_int_equal(parse_str("{\"capabilities\":{\"future\":{\"a\":[1,2,{\"b\":null}]},"
				   "\"max_msg_fds\":4,\"x\":\"y\"},\"z\":[]}", &c), 0);
	assert_int_equal(c.max_msg_fds, 4);
}

static void test_caps_wrong_types(void **state)
{
	static const char *const inputs[] = {
		"{\"capabilities\":{\"max_msg_fds\":\"4\"}}",
		"{\"capabilities\":{\"max_msg_fds\":4.0}}",
		"{\"capabilities\":{\"max_msg_fds\":null}}",
		"{\"capabilities\":{\"max_msg_fds\":true}}",
		"{\"capabilities\":{\"max_data_xfer_size\":[1]}}",
		"{\"capabilities\":{\"pgsizes\":{}}}",
		"{\"capabilities\":{\"write_multiple\":1}}",
		"{\"capabilities\":{\"write_multiple\":\"true\"}}",
		"{\"capabilities\":{\"x-upci-dma-bus-addr\":1}}",
		"{\"capabilities\":{\"twin_socket\":true}}",
		"{\"capabilities\":{\"twin_socket\":{\"supported\":1}}}",
		"{\"capabilities\":{\"migration\":4096}}",
		"{\"capabilities\":{\"migration\":{\"pgsize\":\"4096\"}}}",
		"{\"capabilities\":[]}",
		"{\"capabilities\":null}",
		"[{\"capabilities\":{}}]",
		"42",
		"\"capabilities\"",
	};
	struct vfu_caps c, before;

	(void)state;
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		memset(&c, 0x5a, sizeof(c));
		memset(&before, 0x5a, sizeof(before));
		assert_int_equal(parse_str(inputs[i], &c), -EINVAL);
		/* nothing written on failure */
		assert_memory_equal(&c, &before, sizeof(c));
	}
}

static void test_caps_out_of_range(void **state)
{
	static const char *const inputs[] = {
		"{\"capabilities\":{\"max_msg_fds\":-1}}",
		"{\"capabilities\":{\"max_msg_fds\":254}}",
		"{\"capabilities\":{\"max_msg_fds\":4294967297}}",
		"{\"capabilities\":{\"max_msg_fds\":99999999999999999999999}}",
		"{\"capabilities\":{\"max_data_xfer_size\":0}}",
		"{\"capabilities\":{\"max_data_xfer_size\":1073741825}}",
		"{\"capabilities\":{\"max_data_xfer_size\":18446744073709551615}}",
		"{\"capabilities\":{\"max_dma_maps\":-65535}}",
		"{\"capabilities\":{\"max_dma_maps\":16777217}}",
		"{\"capabilities\":{\"pgsizes\":0}}",
		"{\"capabilities\":{\"pgsizes\":512}}",
		"{\"capabilities\":{\"pgsizes\":4097}}",
		"{\"capabilities\":{\"pgsizes\":-4096}}",
		"{\"capabilities\":{\"twin_socket\":{\"fd_index\":253}}}",
		"{\"capabilities\":{\"twin_socket\":{\"fd_index\":-1}}}",
		"{\"capabilities\":{\"migration\":{\"pgsize\":6144}}}",
		"{\"capabilities\":{\"migration\":{\"pgsize\":2048}}}",
		"{\"capabilities\":{\"migration\":{\"max_bitmap_size\":0}}}",
		"{\"capabilities\":{\"migration\":{\"max_bitmap_size\":1099511627776}}}",
	};
	struct vfu_caps c;

	(void)state;
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++)
		assert_int_equal(parse_str(inputs[i], &c), -ERANGE);
}

static void test_caps_garbage(void **state)
{
	static const char *const inputs[] = {
		"{",
		"}",
		"{\"capabilities\":{\"max_msg_fds\":4}",
		"{\"capabilities\":{\"max_msg_fds\":4,}}",
		"{} {}",
		"{} x",
		"nonsense",
		"{\"a\":\"\xff\xfe\"}",              /* not UTF-8 */
		"{\"a\":1 /* c */}",
	};
	struct vfu_caps c;

	(void)state;
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++)
		assert_int_equal(parse_str(inputs[i], &c), -EINVAL);
}

static void test_caps_deep_nesting(void **state)
{
	char s[256];
	size_t n = 0;
	struct vfu_caps c;

	(void)state;
	/* unknown members are skipped, but nesting is bounded */
	n += (size_t)snprintf(s + n, sizeof(s) - n, "{\"x\":");
	for (int i = 0; i < 40; i++)
		s[n++] = '[';
	for (int i = 0; i < 40; i++)
		s[n++] = ']';
	s[n++] = '}';
	s[n] = '\0';
	assert_int_equal(parse_str(s, &c), -EINVAL);
}

static void test_caps_terminator(void **state)
{
	static const char good[] = "{\"capabilities\":{\"max_msg_fds\":4}}";
	size_t n = sizeof(good); /* with NUL */
	struct vfu_caps c;
	char *b;

	(void)state;
	/* no NUL inside the message: exact allocation so ASan sees any over-read */
	b = malloc(n - 1);
	assert_non_null(b);
	memcpy(b, good, n - 1);
	assert_int_equal(vfu_caps_parse(b, n - 1, &c), -EINVAL);
	free(b);

	/* an early NUL: bytes after it would be ignored by a C string parser */
	b = malloc(n + 4);
	assert_non_null(b);
	memcpy(b, good, n);
	memcpy(b + n, "abc", 4);
	assert_int_equal(vfu_caps_parse(b, n + 4, &c), -EINVAL);
	free(b);

	assert_int_equal(vfu_caps_parse(good, 0, &c), -EINVAL);
	assert_int_equal(vfu_caps_parse(NULL, 5, &c), -EINVAL);
	assert_int_equal(vfu_caps_parse(good, n, &c), 0);
	assert_int_equal(c.max_msg_fds, 4);
}

static void test_caps_emit_default(void **state)
{
	struct vfu_caps c;
	char *s = NULL;

	(void)state;
	vfu_caps_default(&c);
	assert_int_equal(vfu_caps_to_json(&c, &s), 0);
	assert_string_equal(s, "{\"capabilities\":{\"max_msg_fds\":1,"
			       "\"max_data_xfer_size\":1048576,\"max_dma_maps\":65535,"
			       "\"pgsizes\":4096}}");
	free(s);
}

static void test_caps_emit_roundtrip(void **state)
{
	struct vfu_caps c, back;
	char *s = NULL;

	(void)state;
	vfu_caps_default(&c);
	c.max_msg_fds = 64;
	c.max_data_xfer_size = 4u << 20;
	c.max_dma_maps = 1000;
	c.pgsizes = 4096 | (1u << 21) | (1ull << 30);
	c.twin_socket = true;
	c.twin_socket_fd_index = 0;
	c.write_multiple = true;
	c.dma_bus_addr = true;
	c.migration = true;
	c.mig_pgsize = 65536;
	c.mig_max_bitmap_size = 1u << 20;
	assert_int_equal(vfu_caps_to_json(&c, &s), 0);
	assert_int_equal(parse_str(s, &back), 0);
	free(s);
	assert_caps_equal(&c, &back);
}

static void test_caps_emit_invalid(void **state)
{
	struct vfu_caps c;
	char *s = NULL;

	(void)state;
	vfu_caps_default(&c);
	c.max_msg_fds = 1000;
	assert_int_equal(vfu_caps_to_json(&c, &s), -ERANGE);
	assert_null(s);
	vfu_caps_default(&c);
	c.pgsizes = 1;
	assert_int_equal(vfu_caps_check(&c), -ERANGE);
	vfu_caps_default(&c);
	c.migration = true;
	c.mig_pgsize = 12345;
	assert_int_equal(vfu_caps_check(&c), -ERANGE);
}

static void test_version_roundtrip(void **state)
{
	struct vfu_caps c, back;
	uint8_t *p = NULL;
	size_t len = 0;
	uint16_t major = 9, minor = 9;

	(void)state;
	vfu_caps_default(&c);
	c.max_msg_fds = 16;
	assert_int_equal(vfu_version_build(0, 0, &c, &p, &len), 0);
	assert_true(len > 4);
	assert_int_equal(p[len - 1], '\0');
	assert_int_equal(vfu_version_parse(p, len, &major, &minor, &back), 0);
	assert_int_equal(major, 0);
	assert_int_equal(minor, 0);
	assert_int_equal(back.max_msg_fds, 16);
	/* the same payload passes the request check */
	{
		struct vfu_hdr h;

		vfu_hdr_request(&h, 1, VFU_CMD_VERSION, 0);
		assert_int_equal(vfu_msg_check_request(&h, p, len), 0);
		/* chop the NUL: the request check and the parser both refuse */
		assert_int_equal(vfu_msg_check_request(&h, p, len - 1), -EINVAL);
		assert_int_equal(vfu_version_parse(p, len - 1, &major, &minor, &back), -EINVAL);
	}
	free(p);
}

static void test_version_bare(void **state)
{
	uint8_t *p = malloc(4);
	struct vfu_caps c;
	uint16_t major, minor;

	(void)state;
	assert_non_null(p);
	p[0] = 1;
	p[1] = 0;
	p[2] = 2;
	p[3] = 0;
	assert_int_equal(vfu_version_parse(p, 4, &major, &minor, &c), 0);
	assert_int_equal(major, 1);
	assert_int_equal(minor, 2);
	assert_defaults(&c);
	assert_int_equal(vfu_version_parse(p, 3, &major, &minor, &c), -EINVAL);
	free(p);
}

/* ---- size table ---- */

static void test_size_table(void **state)
{
	(void)state;
	assert_int_equal(vfu_msg_check_size(VFU_CMD_DMA_MAP, false, 32), 0);
	assert_int_equal(vfu_msg_check_size(VFU_CMD_DMA_MAP, false, 31), -EINVAL);
	assert_int_equal(vfu_msg_check_size(VFU_CMD_DMA_MAP, false, 33), -EINVAL);
	assert_int_equal(vfu_msg_check_size(VFU_CMD_DMA_MAP, true, 0), 0);
	assert_int_equal(vfu_msg_check_size(VFU_CMD_DMA_MAP, true, 1), -EINVAL);
	assert_int_equal(vfu_msg_check_size(VFU_CMD_DMA_MAP, true, 7), -EINVAL);
	assert_int_equal(vfu_msg_check_size(VFU_CMD_DMA_MAP, true, 8), 0); /* x-upci-dma-bus-addr */
	assert_int_equal(vfu_msg_check_size(VFU_CMD_DMA_MAP, true, 9), -EINVAL);
	assert_int_equal(vfu_msg_check_size(VFU_CMD_DMA_UNMAP, false, 24), 0);
	assert_int_equal(vfu_msg_check_size(VFU_CMD_DEVICE_GET_INFO, false, 16), 0);
	assert_int_equal(vfu_msg_check_size(VFU_CMD_DEVICE_GET_INFO, true, 15), -EINVAL);
	assert_int_equal(vfu_msg_check_size(VFU_CMD_DEVICE_GET_REGION_INFO, false, 32), 0);
	assert_int_equal(vfu_msg_check_size(VFU_CMD_DEVICE_GET_REGION_INFO, true, 32 + 16 + 32), 0);
	assert_int_equal(vfu_msg_check_size(VFU_CMD_DEVICE_SET_IRQS, false, 19), -EINVAL);
	assert_int_equal(vfu_msg_check_size(VFU_CMD_DEVICE_SET_IRQS, false, 20 + 256), 0);
	assert_int_equal(vfu_msg_check_size(VFU_CMD_REGION_READ, false, 16), 0);
	assert_int_equal(vfu_msg_check_size(VFU_CMD_REGION_READ, false, 20), -EINVAL);
	assert_int_equal(vfu_msg_check_size(VFU_CMD_REGION_WRITE, false, 16 + 8), 0);
	assert_int_equal(vfu_msg_check_size(VFU_CMD_DMA_WRITE, true, 12), 0);
	assert_int_equal(vfu_msg_check_size(VFU_CMD_DMA_WRITE, true, 16), 0);
	assert_int_equal(vfu_msg_check_size(VFU_CMD_DEVICE_RESET, false, 0), 0);
	assert_int_equal(vfu_msg_check_size(VFU_CMD_DEVICE_RESET, false, 1), -EINVAL);
	assert_int_equal(vfu_msg_check_size(VFU_CMD_REGION_WRITE_MULTI, false, 8 + 200 * 24), 0);
	assert_int_equal(vfu_msg_check_size(VFU_CMD_REGION_WRITE_MULTI, false, 8 + 201 * 24), -EINVAL);
	assert_int_equal(vfu_msg_check_size(VFU_CMD_DEVICE_FEATURE, false, 7), -EINVAL);
	assert_int_equal(vfu_msg_check_size(VFU_CMD_MIG_DATA_READ, false, 8), 0);
	assert_int_equal(vfu_msg_check_size(VFU_CMD_MIG_DATA_WRITE, false, 8 + 100), 0);
	assert_int_equal(vfu_msg_check_size(VFU_CMD_VERSION, false, 3), -EINVAL);

	/* holes and out of range */
	assert_int_equal(vfu_msg_check_size(0, false, 0), -ENOSYS);
	assert_int_equal(vfu_msg_check_size(14, false, 0), -ENOSYS);
	assert_int_equal(vfu_msg_check_size(19, false, 0), -ENOSYS);
	assert_int_equal(vfu_msg_check_size(0xffff, false, 0), -ENOSYS);
	assert_null(vfu_cmd_info(14));
	assert_non_null(vfu_cmd_info(VFU_CMD_MIG_DATA_WRITE));
	assert_int_equal(vfu_cmd_info(VFU_CMD_DMA_READ)->dir, VFU_DIR_SERVER_TO_CLIENT);
	assert_int_equal(vfu_cmd_info(VFU_CMD_DMA_MAP)->dir, VFU_DIR_CLIENT_TO_SERVER);
}

static void test_cmd_names(void **state)
{
	(void)state;
	assert_string_equal(vfu_cmd_name(VFU_CMD_VERSION), "VERSION");
	assert_string_equal(vfu_cmd_name(VFU_CMD_DEVICE_GET_REGION_INFO), "DEVICE_GET_REGION_INFO");
	assert_string_equal(vfu_cmd_name(VFU_CMD_REGION_WRITE_MULTI), "REGION_WRITE_MULTI");
	assert_string_equal(vfu_cmd_name(14), "UNKNOWN");
	assert_string_equal(vfu_cmd_name(0), "UNKNOWN");
	assert_string_equal(vfu_cmd_name(60000), "UNKNOWN");
	for (unsigned c = 0; c <= 0xffff; c++)
		assert_non_null(vfu_cmd_name((uint16_t)c));
}

/* ---- header checks and replies ---- */

static void test_hdr_check(void **state)
{
	struct vfu_hdr h;

	(void)state;
	vfu_hdr_request(&h, 7, VFU_CMD_DEVICE_RESET, 0);
	assert_int_equal(vfu_hdr_check(&h, 4096), 0);
	h.msg_size = 15;
	assert_int_equal(vfu_hdr_check(&h, 4096), -EPROTO);
	h.msg_size = 0;
	assert_int_equal(vfu_hdr_check(&h, 4096), -EPROTO);
	h.msg_size = 4097;
	assert_int_equal(vfu_hdr_check(&h, 4096), -EMSGSIZE);
	h.msg_size = UINT32_MAX;
	assert_int_equal(vfu_hdr_check(&h, 4096), -EMSGSIZE);
	h.msg_size = 16;

	h.flags = 2; /* no such type */
	assert_int_equal(vfu_hdr_check(&h, 4096), -EINVAL);
	h.flags = 0xf;
	assert_int_equal(vfu_hdr_check(&h, 4096), -EINVAL);
	h.flags = 1u << 6; /* unknown bit */
	assert_int_equal(vfu_hdr_check(&h, 4096), -EINVAL);
	h.flags = 1u << 31;
	assert_int_equal(vfu_hdr_check(&h, 4096), -EINVAL);
	h.flags = VFU_HDR_F_ERROR; /* error flag on a command */
	assert_int_equal(vfu_hdr_check(&h, 4096), -EINVAL);
	h.flags = VFU_HDR_F_TYPE_REPLY | VFU_HDR_F_NO_REPLY;
	assert_int_equal(vfu_hdr_check(&h, 4096), -EINVAL);
	h.flags = VFU_HDR_F_NO_REPLY;
	assert_int_equal(vfu_hdr_check(&h, 4096), 0);
	h.flags = VFU_HDR_F_TYPE_REPLY | VFU_HDR_F_ERROR;
	assert_int_equal(vfu_hdr_check(&h, 4096), 0);
}

static void test_hdr_request(void **state)
{
	struct vfu_hdr h;

	(void)state;
	memset(&h, 0xff, sizeof(h));
	vfu_hdr_request(&h, 0x1234, VFU_CMD_DMA_MAP, VFU_HDR_F_NO_REPLY | VFU_HDR_F_ERROR);
	assert_int_equal(h.msg_id, 0x1234);
	assert_int_equal(h.cmd, VFU_CMD_DMA_MAP);
	assert_int_equal(h.msg_size, 16);
	assert_int_equal(h.flags, VFU_HDR_F_NO_REPLY); /* ERROR is not a request flag */
	assert_int_equal(h.error, 0);
}

static void test_hdr_reply(void **state)
{
	struct vfu_hdr req, rep;

	(void)state;
	vfu_hdr_request(&req, 42, VFU_CMD_REGION_READ, VFU_HDR_F_NO_REPLY);
	req.msg_size = 32;
	memset(&rep, 0xff, sizeof(rep));
	vfu_hdr_reply(&rep, &req, 0);
	assert_int_equal(rep.msg_id, 42);
	assert_int_equal(rep.cmd, VFU_CMD_REGION_READ);
	assert_int_equal(rep.flags, VFU_HDR_F_TYPE_REPLY);
	assert_int_equal(rep.error, 0);
	assert_int_equal(rep.msg_size, 16);

	vfu_hdr_reply(&rep, &req, -EINVAL);
	assert_int_equal(rep.flags, VFU_HDR_F_TYPE_REPLY | VFU_HDR_F_ERROR);
	assert_int_equal(rep.error, EINVAL);
	vfu_hdr_reply(&rep, &req, ENOSPC);
	assert_int_equal(rep.error, ENOSPC);

	/* in place */
	vfu_hdr_reply(&req, &req, -EFAULT);
	assert_int_equal(req.msg_id, 42);
	assert_int_equal(req.error, EFAULT);
	assert_int_equal(vfu_hdr_check(&req, 4096), 0);
}

static void test_check_reply(void **state)
{
	struct vfu_hdr req, rep;
	struct vfu_region_access ra = { .offset = 0, .region = 0, .count = 4 };
	uint8_t buf[sizeof(ra) + 4];

	(void)state;
	vfu_hdr_request(&req, 5, VFU_CMD_REGION_READ, 0);
	vfu_hdr_reply(&rep, &req, 0);
	memcpy(buf, &ra, sizeof(ra));
	memset(buf + sizeof(ra), 0xab, 4);
	assert_int_equal(vfu_msg_check_reply(&rep, &req, buf, sizeof(buf)), 0);
	assert_int_equal(vfu_msg_check_reply(&rep, &req, buf, sizeof(buf) - 1), -EINVAL);
	assert_int_equal(vfu_msg_check_reply(&rep, &req, buf, 15), -EINVAL);

	rep.msg_id = 6;
	assert_int_equal(vfu_msg_check_reply(&rep, &req, buf, sizeof(buf)), -EBADMSG);
	rep.msg_id = 5;
	rep.cmd = VFU_CMD_REGION_WRITE;
	assert_int_equal(vfu_msg_check_reply(&rep, &req, buf, sizeof(buf)), -EBADMSG);
	assert_int_equal(vfu_msg_check_reply(&req, &req, NULL, 0), -EBADMSG); /* a command */

	vfu_hdr_reply(&rep, &req, -ENODEV);
	assert_int_equal(vfu_msg_check_reply(&rep, &req, NULL, 0), -ENODEV);
	rep.error = 0; /* spec: may be zero with the error bit set */
	assert_int_equal(vfu_msg_check_reply(&rep, &req, NULL, 0), -EIO);
	rep.error = 0x80000000u;
	assert_int_equal(vfu_msg_check_reply(&rep, &req, NULL, 0), -EIO);
}

/* ---- request consistency ---- */

static void put_u32(uint8_t *p, size_t off, uint32_t v)
{
	memcpy(p + off, &v, sizeof(v));
}

static void put_u64(uint8_t *p, size_t off, uint64_t v)
{
	memcpy(p + off, &v, sizeof(v));
}

static void test_check_request(void **state)
{
	struct vfu_hdr h;
	uint8_t *p;
	size_t n;

	(void)state;
	/* REGION_WRITE: data must be exactly count bytes */
	n = 16 + 4;
	p = calloc(1, n);
	assert_non_null(p);
	vfu_hdr_request(&h, 1, VFU_CMD_REGION_WRITE, 0);
	put_u32(p, 12, 4);
	assert_int_equal(vfu_msg_check_request(&h, p, n), 0);
	put_u32(p, 12, 5);
	assert_int_equal(vfu_msg_check_request(&h, p, n), -EINVAL);
	put_u32(p, 12, UINT32_MAX);
	assert_int_equal(vfu_msg_check_request(&h, p, n), -EINVAL);
	put_u32(p, 12, 3);
	assert_int_equal(vfu_msg_check_request(&h, p, n), -EINVAL);
	/* a reply is not a request */
	h.flags = VFU_HDR_F_TYPE_REPLY;
	put_u32(p, 12, 4);
	assert_int_equal(vfu_msg_check_request(&h, p, n), -EINVAL);
	free(p);

	/* DMA_WRITE: 64-bit count, huge values must not wrap */
	n = 16 + 8;
	p = calloc(1, n);
	assert_non_null(p);
	vfu_hdr_request(&h, 1, VFU_CMD_DMA_WRITE, 0);
	put_u64(p, 8, 8);
	assert_int_equal(vfu_msg_check_request(&h, p, n), 0);
	put_u64(p, 8, UINT64_MAX);
	assert_int_equal(vfu_msg_check_request(&h, p, n), -EINVAL);
	put_u64(p, 8, (1ull << 32) + 8);
	assert_int_equal(vfu_msg_check_request(&h, p, n), -EINVAL);
	free(p);

	/* REGION_WRITE_MULTI */
	n = 8 + 2 * 24;
	p = calloc(1, n);
	assert_non_null(p);
	vfu_hdr_request(&h, 1, VFU_CMD_REGION_WRITE_MULTI, VFU_HDR_F_NO_REPLY);
	put_u64(p, 0, 2);
	put_u32(p, 8 + 12, 4);
	put_u32(p, 8 + 24 + 12, 8);
	assert_int_equal(vfu_msg_check_request(&h, p, n), 0);
	put_u32(p, 8 + 24 + 12, 9); /* more than 8 data bytes */
	assert_int_equal(vfu_msg_check_request(&h, p, n), -EINVAL);
	put_u32(p, 8 + 24 + 12, 0);
	assert_int_equal(vfu_msg_check_request(&h, p, n), -EINVAL);
	put_u32(p, 8 + 24 + 12, 1);
	put_u64(p, 0, 3); /* claims more entries than present */
	assert_int_equal(vfu_msg_check_request(&h, p, n), -EINVAL);
	put_u64(p, 0, UINT64_MAX / 24 + 2); /* would wrap n * 24 */
	assert_int_equal(vfu_msg_check_request(&h, p, n), -EINVAL);
	put_u64(p, 0, (1ull << 61) + 2); /* n * 24 wraps to exactly 48 */
	assert_int_equal(vfu_msg_check_request(&h, p, n), -EINVAL);
	put_u64(p, 0, 1);
	assert_int_equal(vfu_msg_check_request(&h, p, n), -EINVAL);
	free(p);

	/* SET_IRQS with DATA_BOOL needs count bools */
	n = 20 + 3;
	p = calloc(1, n);
	assert_non_null(p);
	vfu_hdr_request(&h, 1, VFU_CMD_DEVICE_SET_IRQS, 0);
	put_u32(p, 4, VFU_IRQ_SET_DATA_BOOL | VFU_IRQ_SET_ACTION_TRIGGER);
	put_u32(p, 16, 3);
	assert_int_equal(vfu_msg_check_request(&h, p, n), 0);
	put_u32(p, 16, 4);
	assert_int_equal(vfu_msg_check_request(&h, p, n), -EINVAL);
	put_u32(p, 4, VFU_IRQ_SET_DATA_EVENTFD | VFU_IRQ_SET_ACTION_TRIGGER);
	put_u32(p, 16, 256); /* fds ride separately */
	assert_int_equal(vfu_msg_check_request(&h, p, 20), 0);
	free(p);

	/* MIG_DATA_WRITE size */
	n = 8 + 2;
	p = calloc(1, n);
	assert_non_null(p);
	vfu_hdr_request(&h, 1, VFU_CMD_MIG_DATA_WRITE, 0);
	put_u32(p, 4, 2);
	assert_int_equal(vfu_msg_check_request(&h, p, n), 0);
	put_u32(p, 4, 3);
	assert_int_equal(vfu_msg_check_request(&h, p, n), -EINVAL);
	free(p);

	/* fixed-size commands, unknown commands, NULL payload */
	vfu_hdr_request(&h, 1, VFU_CMD_DEVICE_RESET, 0);
	assert_int_equal(vfu_msg_check_request(&h, NULL, 0), 0);
	vfu_hdr_request(&h, 1, 14, 0);
	assert_int_equal(vfu_msg_check_request(&h, NULL, 0), -ENOSYS);
	vfu_hdr_request(&h, 1, VFU_CMD_DMA_MAP, 0);
	assert_int_equal(vfu_msg_check_request(&h, NULL, 32), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_header),
		cmocka_unit_test(test_layout_commands),
		cmocka_unit_test(test_layout_payloads),
		cmocka_unit_test(test_caps_qemu_client),
		cmocka_unit_test(test_caps_full),
		cmocka_unit_test(test_caps_defaults),
		cmocka_unit_test(test_caps_unknown_keys_ignored),
		cmocka_unit_test(test_caps_wrong_types),
		cmocka_unit_test(test_caps_out_of_range),
		cmocka_unit_test(test_caps_garbage),
		cmocka_unit_test(test_caps_deep_nesting),
		cmocka_unit_test(test_caps_terminator),
		cmocka_unit_test(test_caps_emit_default),
		cmocka_unit_test(test_caps_emit_roundtrip),
		cmocka_unit_test(test_caps_emit_invalid),
		cmocka_unit_test(test_version_roundtrip),
		cmocka_unit_test(test_version_bare),
		cmocka_unit_test(test_size_table),
		cmocka_unit_test(test_cmd_names),
		cmocka_unit_test(test_hdr_check),
		cmocka_unit_test(test_hdr_request),
		cmocka_unit_test(test_hdr_reply),
		cmocka_unit_test(test_check_reply),
		cmocka_unit_test(test_check_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

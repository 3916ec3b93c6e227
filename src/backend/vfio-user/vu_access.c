/* SPDX-License-Identifier: MIT */
/*
 * Config space and BAR access by REGION_READ/REGION_WRITE: one message per
 * access, longer reads in pieces of the negotiated transfer size. Replies
 * land straight in the caller's buffer (vu_call_into) and must echo what
 * was asked.
 */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "vu.h"

/* The reply must echo what was asked; its data length was checked. */
static int echo_ok(const struct vu_conn *c, const struct vfu_region_access *got, uint32_t region, uint64_t off,
		   uint32_t count)
{
	if (got->offset == off && got->region == region && got->count == count)
		return 0;
	LOG_ERR("vfio-user %s: region %u access at 0x%llx+%u answered for region %u at 0x%llx+%u", c->name, region,
		(unsigned long long)off, count, got->region, (unsigned long long)got->offset, got->count);
	return -EPROTO;
}

/* One message: @count <= c->xfer. The reply lands in @buf directly. */
static int read_one(struct vu_conn *c, uint32_t region, uint64_t off, void *buf, uint32_t count)
{
	struct vfu_region_access q = {.offset = off, .region = region, .count = count}, a;
	struct iovec iov = {.iov_base = &q, .iov_len = sizeof(q)};
	struct iovec into[2] = {{.iov_base = &a, .iov_len = sizeof(a)}, {.iov_base = buf, .iov_len = count}};
	int rc;

	rc = vu_call_into(c, VFU_CMD_REGION_READ, &iov, 1, into, 2);
	return rc ? rc : echo_ok(c, &a, region, off, count);
}

/*
 * @posted: sent with No_reply (see vu_mmio_write), and the call does not
 * wait; a write the server rejects then fails silently (its log says so).
 */
static int write_one(struct vu_conn *c, uint32_t region, uint64_t off, const void *buf, uint32_t count,
		     bool posted)
{
	struct vfu_region_access q = {.offset = off, .region = region, .count = count}, a;
	struct iovec iov[2] = {
		{.iov_base = &q, .iov_len = sizeof(q)},
		{.iov_base = (void *)buf, .iov_len = count},
	};
	struct iovec into = {.iov_base = &a, .iov_len = sizeof(a)};
	int rc;

	if (posted)
		return vu_post(c, VFU_CMD_REGION_WRITE, iov, 2);
	rc = vu_call_into(c, VFU_CMD_REGION_WRITE, iov, 2, &into, 1);
	return rc ? rc : echo_ok(c, &a, region, off, count);
}

/* Longer ranges in pieces of the negotiated transfer size. */
int vu_region_read(struct vu_conn *c, uint32_t region, uint64_t off, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		uint32_t n = len < c->xfer ? (uint32_t)len : c->xfer;
		int rc = read_one(c, region, off, p, n);

		if (rc)
			return rc;
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}

static uint64_t le_get(const uint8_t *b, unsigned width)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < width; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static void le_put(uint8_t *b, unsigned width, uint64_t v)
{
	for (unsigned i = 0; i < width; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

int vu_config_read(struct upci_dev *dev, uint32_t off, unsigned width, uint32_t *val)
{
	uint8_t b[4];
	int rc = read_one(&vu_of(dev)->c, VFU_PCI_CONFIG_REGION_INDEX, off, b, width);

	if (rc == 0)
		*val = (uint32_t)le_get(b, width);
	return rc;
}

int vu_config_write(struct upci_dev *dev, uint32_t off, unsigned width, uint32_t val)
{
	uint8_t b[4];

	le_put(b, width, val);
	return write_one(&vu_of(dev)->c, VFU_PCI_CONFIG_REGION_INDEX, off, b, width, false);
}

int vu_config_read_block(struct upci_dev *dev, uint32_t off, void *buf, size_t len)
{
	return vu_region_read(&vu_of(dev)->c, VFU_PCI_CONFIG_REGION_INDEX, off, buf, len);
}

int vu_mmio_read(struct upci_dev *dev, unsigned bar, uint64_t off, unsigned width, uint64_t *val)
{
	uint8_t b[8];
	int rc = read_one(&vu_of(dev)->c, bar, off, b, width);

	if (rc == 0)
		*val = le_get(b, width);
	return rc;
}

/*
 * A BAR write is posted (as PCIe posts memory writes, and QEMU's
 * vfio-user client does) when UPCI_VFU_POSTED_WRITES asks for it: later
 * requests on the socket are handled after it, so a read still sees it.
 * Not while the server may need an in-band DMA answer: a waited write
 * answers it at once, after a posted one it would wait for our next call
 * or the service thread's next look (vu_svc.c).
 */
int vu_mmio_write(struct upci_dev *dev, unsigned bar, uint64_t off, unsigned width, uint64_t val)
{
	struct vu_conn *c = &vu_of(dev)->c;
	uint8_t b[8];

	le_put(b, width, val);
	return write_one(c, bar, off, b, width, c->posted && c->ninband == 0);
}


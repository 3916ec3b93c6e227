/* SPDX-License-Identifier: MIT */
/*
 * vfio-user server core: server and session life cycle, VERSION, and the
 * dispatch of one message to its handler and of the reply back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "log.h"
#include "msg.h"
#include "pci_regs.h"
#include "srv_priv.h"
#ifdef UPCI_HAVE_DEXT
#include "../backend/dext/dext_serve.h"
#endif

void vfu_server_opts_default(struct vfu_server_opts *o)
{
	o->policy = NULL;
	o->max_msg_fds = VFU_SRV_MAX_MSG_FDS;
	o->max_data_xfer_size = VFU_SRV_MAX_DATA_XFER;
	o->max_dma_maps = VFU_SRV_MAX_DMA_MAPS;
	o->dma_timeout_ms = VFU_SRV_DMA_TIMEOUT_MS;
	o->n_allow_uids = 0;
}

static int opts_check(const struct vfu_server_opts *o)
{
	if (o->max_msg_fds < 1 || o->max_msg_fds > VFU_MSG_MAX_FDS)
		return -EINVAL;
	if (o->max_data_xfer_size < 4096 || o->max_data_xfer_size > VFU_CAPS_MAX_DATA_XFER_LIMIT)
		return -EINVAL;
	if (o->max_dma_maps < 1 || o->max_dma_maps > VFU_CAPS_MAX_DMA_MAPS_LIMIT)
		return -EINVAL;
	if (o->n_allow_uids > VFU_SRV_MAX_ALLOW_UIDS)
		return -EINVAL;
	return o->dma_timeout_ms > 0 ? 0 : -EINVAL;
}

/* ERR interrupts exist on PCIe functions only, as in the kernel's vfio-pci. */
static bool is_pcie(upci_dev *dev)
{
	uint8_t cfg[PCI_CFG_SIZE];
	struct cfg_snapshot c = {cfg, sizeof(cfg)};

	if (upci_config_read_block(dev, 0, cfg, sizeof(cfg)) != 0)
		return false;
	return caps_find(&c, PCI_CAP_ID_EXP) != 0;
}

static unsigned count_or_zero(upci_dev *dev, enum upci_irq_type t)
{
	int n = upci_irq_count(dev, t);

	return n > 0 ? (unsigned)n : 0;
}

int vfu_server_new(upci_dev *dev, const struct vfu_server_opts *opts, struct vfu_server **out)
{
	struct vfu_server *s;
	struct vfu_server_opts o;
	int ret;

	if (!dev || !out)
		return -EINVAL;
	if (opts)
		o = *opts;
	else
		vfu_server_opts_default(&o);
	ret = opts_check(&o);
	if (ret)
		return ret;
	/* claim() succeeds again for the holder and fails for anyone else */
	ret = upci_claim(dev);
	if (ret)
		return ret == -EBUSY ? -EPERM : ret;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->dev = dev;
	s->opts = o;
#ifdef UPCI_HAVE_DEXT
	/* A dext device gets the host-owned-register policy whatever the
	 * caller is (upci serve, a test); other backends forward everything. */
	if (!o.policy)
		o.policy = upci_dext_cfg_policy(dev);
#endif
	s->policy = o.policy ? *o.policy : vfu_cfg_policy_forward;
	ret = upci_identity(dev, &s->ident);
	for (unsigned b = 0; ret == 0 && b < UPCI_NUM_BARS; b++)
		ret = upci_bar_info(dev, b, &s->bars[b]);
	if (ret) {
		free(s);
		return ret;
	}
	s->irq_count[VFU_PCI_INTX_IRQ_INDEX] = count_or_zero(dev, UPCI_IRQ_INTX);
	s->irq_count[VFU_PCI_MSI_IRQ_INDEX] = count_or_zero(dev, UPCI_IRQ_MSI);
	s->irq_count[VFU_PCI_MSIX_IRQ_INDEX] = count_or_zero(dev, UPCI_IRQ_MSIX);
	s->irq_count[VFU_PCI_ERR_IRQ_INDEX] = is_pcie(dev) ? 1 : 0;
	s->irq_count[VFU_PCI_REQ_IRQ_INDEX] = 1;
	/* Every backend resets somehow; a failure is reported per request. */
	s->can_reset = true;
	vfu_cfg_shadow_clear(&s->shadow);
	*out = s;
	return 0;
}

void vfu_server_free(struct vfu_server *s)
{
	if (!s)
		return;
	vfu_session_close(s->sess);
	free(s);
}

/* ---- session ---- */

int vfu_session_open(struct vfu_server *s, struct vfu_tran *t, struct vfu_session **out)
{
	struct vfu_session *ss;
	int ret;

	if (!s || !t || !out)
		return -EINVAL;
	if (s->sess)
		return -EBUSY;
	/* Our receive limits hold from the first byte; the client's send
	 * limit is learnt in VERSION (until then: 1, the spec's default). */
	ret = vfu_tran_set_limits(t, s->opts.max_data_xfer_size + VFU_MSG_OVERHEAD, s->opts.max_msg_fds,
				  VFU_DEFAULT_MAX_MSG_FDS);
	if (ret)
		return ret;
	ss = calloc(1, sizeof(*ss));
	if (!ss)
		return -ENOMEM;
	ss->srv = s;
	ss->tran = t;
	vfu_caps_default(&ss->peer);
	ret = srv_dma_init(ss);
	if (ret) {
		free(ss);
		return ret;
	}
	srv_irq_init(ss);
	s->sess = ss;
	*out = ss;
	return 0;
}

void vfu_session_close(struct vfu_session *ss)
{
	if (!ss)
		return;
	/* Mappings first: no device DMA may reach the client after this. */
	srv_dma_fini(ss);
	srv_irq_fini(ss);
	while (ss->q_len) {
		vfu_msg_release(&ss->queue[ss->q_head].msg);
		ss->q_head = (ss->q_head + 1) % VFU_SRV_QUEUE_MAX;
		ss->q_len--;
	}
	free(ss->buf);
	ss->srv->sess = NULL;
	free(ss);
}

unsigned vfu_session_queued(const struct vfu_session *ss)
{
	return ss ? ss->q_len : 0;
}

bool srv_queue_full(const struct vfu_session *ss)
{
	return ss->q_len >= VFU_SRV_QUEUE_MAX;
}

void srv_queue_push(struct vfu_session *ss, struct vfu_msg *m, int rc)
{
	struct srv_queued *q;

	if (srv_queue_full(ss)) { /* callers check; never lose an fd anyway */
		vfu_msg_release(m);
		return;
	}
	q = &ss->queue[(ss->q_head + ss->q_len) % VFU_SRV_QUEUE_MAX];
	q->msg = *m;
	q->rc = rc;
	ss->q_len++;
	vfu_msg_init(m); /* ownership moved */
}

void srv_reply_fixed(struct vfu_session *ss, struct srv_reply *r, const void *p, size_t len)
{
	memcpy(ss->small, p, len);
	r->iov[0].iov_base = ss->small;
	r->iov[0].iov_len = len;
	r->niov = 1;
}

uint8_t *srv_scratch(struct vfu_session *ss, size_t len)
{
	uint8_t *p;

	if (len <= ss->buf_cap)
		return ss->buf;
	p = realloc(ss->buf, len);
	if (!p)
		return NULL;
	ss->buf = p;
	ss->buf_cap = len;
	return p;
}

/* ---- VERSION ---- */

static int srv_version(struct vfu_session *ss, struct vfu_msg *m, struct srv_reply *r)
{
	struct vfu_server *s = ss->srv;
	struct vfu_caps peer, ours;
	uint16_t major, minor;
	uint8_t *payload = NULL;
	size_t len = 0;
	int ret;

	(void)r;
	if (ss->negotiated)
		return -EINVAL; /* limits are in force: no renegotiation */
	ret = vfu_version_parse(m->payload, m->len, &major, &minor, &peer);
	if (ret)
		return ret;
	if (major != VFU_VERSION_MAJOR)
		return -ENOTSUP;
	vfu_caps_default(&ours);
	ours.max_msg_fds = s->opts.max_msg_fds;
	ours.max_data_xfer_size = s->opts.max_data_xfer_size;
	ours.max_dma_maps = srv_dma_max_maps(ss);
	ours.pgsizes = VFU_SRV_PGSIZE;
	/* The reply's capabilities must be a subset of the proposal: offer
	 * WRITE_MULTI only when asked, and never twin sockets. */
	ours.write_multiple = peer.write_multiple;
	ours.dma_bus_addr = peer.dma_bus_addr;
	ret = vfu_version_build(VFU_VERSION_MAJOR, VFU_VERSION_MINOR < minor ? VFU_VERSION_MINOR : minor, &ours,
				&payload, &len);
	if (ret)
		return ret;
	/* Sent here rather than by dispatch: the limits change right after. */
	ret = vfu_tran_reply(ss->tran, &m->hdr, 0, payload, len, NULL, 0);
	free(payload);
	if (ret)
		return ret;
	ss->peer = peer;
	ss->negotiated = true;
	ret = vfu_tran_set_limits(ss->tran, ss->tran->max_msg_size, ss->tran->max_recv_fds,
				  peer.max_msg_fds < VFU_MSG_MAX_FDS ? peer.max_msg_fds : VFU_MSG_MAX_FDS);
	return ret ? ret : 1; /* 1: reply already sent */
}

/* ---- dispatch ---- */

static int srv_device_feature(struct vfu_session *ss, struct vfu_msg *m, struct srv_reply *r)
{
	(void)ss;
	(void)m;
	(void)r;
	return -ENOTSUP; /* no migration, no dirty logging */
}

typedef int (*srv_handler)(struct vfu_session *ss, struct vfu_msg *m, struct srv_reply *r);

static const srv_handler handlers[VFU_CMD_MAX + 1] = {
	[VFU_CMD_VERSION] = srv_version,
	[VFU_CMD_DMA_MAP] = srv_dma_map,
	[VFU_CMD_DMA_UNMAP] = srv_dma_unmap,
	[VFU_CMD_DEVICE_GET_INFO] = srv_get_info,
	[VFU_CMD_DEVICE_GET_REGION_INFO] = srv_region_info,
	[VFU_CMD_DEVICE_GET_REGION_IO_FDS] = srv_region_io_fds,
	[VFU_CMD_DEVICE_GET_IRQ_INFO] = srv_irq_info,
	[VFU_CMD_DEVICE_SET_IRQS] = srv_set_irqs,
	[VFU_CMD_REGION_READ] = srv_region_read,
	[VFU_CMD_REGION_WRITE] = srv_region_write,
	[VFU_CMD_DEVICE_RESET] = srv_reset,
	[VFU_CMD_REGION_WRITE_MULTI] = srv_region_write_multi,
	[VFU_CMD_DEVICE_FEATURE] = srv_device_feature,
	[VFU_CMD_MIG_DATA_READ] = srv_device_feature,
	[VFU_CMD_MIG_DATA_WRITE] = srv_device_feature,
};

static bool is_reply(const struct vfu_hdr *h)
{
	return (h->flags & VFU_HDR_F_TYPE_MASK) == VFU_HDR_F_TYPE_REPLY;
}

/* Check what the transport could not: type, table sizes, direction,
 * order. Returns 0 or the errno for the error reply. */
static int check_request(struct vfu_session *ss, const struct vfu_msg *m)
{
	const struct vfu_cmd_info *ci;
	int ret = vfu_msg_check_request(&m->hdr, m->payload, m->len);

	if (ret)
		return ret;
	ci = vfu_cmd_info(m->hdr.cmd);
	if (!ci || ci->dir != VFU_DIR_CLIENT_TO_SERVER || !handlers[m->hdr.cmd])
		return -ENOSYS;
	if (!ss->negotiated && m->hdr.cmd != VFU_CMD_VERSION)
		return -EINVAL; /* VERSION comes first */
	/* fds belong to DMA_MAP and SET_IRQS only; the rest are closed with
	 * the message */
	if (m->nr_fds && m->hdr.cmd != VFU_CMD_DMA_MAP && m->hdr.cmd != VFU_CMD_DEVICE_SET_IRQS)
		return -EINVAL;
	return 0;
}

/*
 * @rc is how the message was received: 0, or -EINVAL when the transport
 * dropped it (bad flags, too many fds) and kept only its header.
 */
static int dispatch(struct vfu_session *ss, struct vfu_msg *m, int rc)
{
	struct srv_reply r = {.niov = 0, .fd = -1};
	bool hdr_ok = vfu_hdr_check(&m->hdr, UINT32_MAX) == 0;
	int err = rc, ret;

	if (err == 0 && is_reply(&m->hdr)) {
		/* A late answer to a DMA_READ/WRITE that timed out: drop it. */
		if (m->hdr.cmd == VFU_CMD_DMA_READ || m->hdr.cmd == VFU_CMD_DMA_WRITE) {
			LOG_DBG("vfio-user server: stale %s reply %u dropped", vfu_cmd_name(m->hdr.cmd),
				m->hdr.msg_id);
			vfu_msg_release(m);
			return 0;
		}
		err = -EINVAL; /* the client sends commands, not replies */
	}
	if (err == 0)
		err = check_request(ss, m);
	if (err == 0) {
		ss->in_handler = true;
		err = handlers[m->hdr.cmd](ss, m, &r);
		ss->in_handler = false;
	}
	if (err < 0)
		LOG_DBG("vfio-user server: %s (id %u): %s", vfu_cmd_name(m->hdr.cmd), m->hdr.msg_id,
			upci_strerror(err));
	ret = 0;
	if (ss->dead) {
		ret = ss->dead; /* the stream broke during a DMA wait */
	} else if (err == 1) {
		/* the handler replied itself */
	} else if (hdr_ok && !is_reply(&m->hdr) && (m->hdr.flags & VFU_HDR_F_NO_REPLY)) {
		/* The spec: no reply at all, even for an error; the log is the
		 * only trace of a posted write that failed. */
		if (err < 0)
			LOG_INFO("vfio-user server: %s (id %u, no reply wanted) failed: %s",
				 vfu_cmd_name(m->hdr.cmd), m->hdr.msg_id, upci_strerror(err));
	} else if (err < 0) {
		ret = vfu_tran_reply(ss->tran, &m->hdr, err, NULL, 0, NULL, 0);
	} else {
		struct vfu_hdr rep;

		vfu_hdr_reply(&rep, &m->hdr, 0);
		ret = vfu_tran_send(ss->tran, &rep, r.iov, r.niov, r.fd >= 0 ? &r.fd : NULL, r.fd >= 0 ? 1 : 0);
	}
	vfu_msg_release(m);
	if (ret && !ss->dead)
		ss->dead = ret;
	return ret;
}

int vfu_server_handle(struct vfu_server *s, struct vfu_session *ss, struct vfu_msg *m)
{
	if (!s || !ss || !m || ss->srv != s) {
		if (m)
			vfu_msg_release(m);
		return -EINVAL;
	}
	if (ss->dead) {
		vfu_msg_release(m);
		return ss->dead;
	}
	ss->thread = pthread_self();
	return dispatch(ss, m, 0);
}

int vfu_session_step(struct vfu_session *ss, int timeout_ms)
{
	struct vfu_msg m;
	int rc;

	if (!ss)
		return -EINVAL;
	if (ss->dead)
		return ss->dead;
	ss->thread = pthread_self();
	srv_dma_sweep(ss, false); /* mmaps of files no map uses any more */
	if (ss->q_len) {
		struct srv_queued *q = &ss->queue[ss->q_head];

		m = q->msg;
		rc = q->rc;
		vfu_msg_init(&q->msg);
		ss->q_head = (ss->q_head + 1) % VFU_SRV_QUEUE_MAX;
		ss->q_len--;
		return dispatch(ss, &m, rc);
	}
	rc = vfu_tran_recv(ss->tran, &m, timeout_ms);
	if (rc == 0 || rc == -EINVAL)
		return dispatch(ss, &m, rc);
	if (rc == -EAGAIN)
		return rc;
	if ((rc == -EMSGSIZE || rc == -EPROTO) && m.hdr.msg_size != 0) {
		/* Framing is lost, but say why before the session ends. */
		(void)vfu_tran_reply(ss->tran, &m.hdr, rc, NULL, 0, NULL, 0);
	}
	vfu_msg_release(&m);
	if (rc == -EMSGSIZE || rc == -EPROTO) {
		if (ss->tran->recv_err == 0)
			return 0; /* a transport that skipped it is still in sync */
	}
	ss->dead = rc;
	return rc;
}

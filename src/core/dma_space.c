/* SPDX-License-Identifier: MIT */
/*
 * DMA spaces: one IOVA space for several devices.
 *
 * The space's table (keyed by IOVA) is the record of its mappings and owns
 * its buffers' memory; each member's view mirrors it with the member's own
 * bus addresses. Members whose backend put them in one shared IOMMU
 * context (space_join returned 1: a VFIO container or IOAS, one simulated
 * IOMMU) get a mapping made once, through the first of them in member
 * order, and the others only record it; every other member gets each
 * mapping made on it (vfio-user connections, the dext). So devices of
 * different backends can share a space.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "core.h"
#include "dma_core.h"
#include "log.h"

#define SPACE_SLOTS 4 /* one shared context per backend */

struct space_slot {
	const struct upci_backend_ops *ops;
	void *ctx; /* the backend's, NULL until a join creates it */
};

struct upci_dma_space {
	pthread_mutex_t lock;
	unsigned refs;            /* under spaces_mu: the creator's and calls in flight */
	struct dma_table *map;    /* by IOVA; a buffer's first piece owns its memory */
	struct upci_dev *members; /* in join order, through space_next */
	struct space_slot slots[SPACE_SLOTS];
	uint64_t page;
};

/* Guards dev->space links and refs: the innermost lock. */
static pthread_mutex_t spaces_mu = PTHREAD_MUTEX_INITIALIZER;

UPCI_API int upci_dma_space_create(upci_dma_space **out)
{
	struct upci_dma_space *sp;
	long ps = sysconf(_SC_PAGESIZE);

	if (!out)
		return -EINVAL;
	*out = NULL;
	sp = calloc(1, sizeof(*sp));
	if (!sp)
		return -ENOMEM;
	if (dma_table_create(&sp->map) != 0) {
		free(sp);
		return -ENOMEM;
	}
	pthread_mutex_init(&sp->lock, NULL);
	sp->refs = 1;
	sp->page = ps > 0 ? (uint64_t)ps : 4096;
	*out = sp;
	return 0;
}

static void space_put(struct upci_dma_space *sp)
{
	unsigned left;

	pthread_mutex_lock(&spaces_mu);
	left = --sp->refs;
	pthread_mutex_unlock(&spaces_mu);
	if (left)
		return;
	pthread_mutex_destroy(&sp->lock);
	dma_table_destroy(sp->map);
	free(sp);
}

UPCI_API int upci_dma_space_destroy(upci_dma_space *sp)
{
	struct dma_region r;

	if (!sp)
		return 0;
	pthread_mutex_lock(&sp->lock);
	if (sp->members) {
		pthread_mutex_unlock(&sp->lock);
		return -EBUSY;
	}
	/* No member: nothing is mapped in any backend, only recorded. */
	while (dma_table_pop_first(sp->map, &r) == 0)
		dma_mem_free(r.owner);
	pthread_mutex_unlock(&sp->lock);
	space_put(sp);
	return 0;
}

struct upci_dma_space *core_space_enter(struct upci_dev *dev)
{
	struct upci_dma_space *sp;
	int same;

	pthread_mutex_lock(&spaces_mu);
	sp = dev->space;
	if (sp)
		sp->refs++; /* keeps it allocated while we wait for its lock */
	pthread_mutex_unlock(&spaces_mu);
	if (!sp)
		return NULL;
	pthread_mutex_lock(&sp->lock);
	pthread_mutex_lock(&spaces_mu);
	same = dev->space == sp; /* it may have left while we waited */
	pthread_mutex_unlock(&spaces_mu);
	if (same)
		return sp;
	pthread_mutex_unlock(&sp->lock);
	space_put(sp);
	return NULL;
}

void core_space_exit(struct upci_dma_space *sp)
{
	pthread_mutex_unlock(&sp->lock);
	space_put(sp);
}

/* The member before @m that shares its backend context: it made the
 * mappings @m only records. NULL when @m is the first (or has its own). */
static struct upci_dev *ctx_first(struct upci_dma_space *sp, struct upci_dev *m)
{
	for (struct upci_dev *e = sp->members; e && e != m; e = e->space_next)
		if (m->space_ctx && e->space_ctx == m->space_ctx)
			return e;
	return NULL;
}

/* Another member sharing @m's context, or NULL. */
static struct upci_dev *ctx_other(struct upci_dma_space *sp, struct upci_dev *m)
{
	for (struct upci_dev *e = sp->members; e; e = e->space_next)
		if (e != m && m->space_ctx && e->space_ctx == m->space_ctx)
			return e;
	return NULL;
}

static struct space_slot *slot_of(struct upci_dma_space *sp, const struct upci_backend_ops *ops)
{
	for (unsigned i = 0; i < SPACE_SLOTS; i++)
		if (sp->slots[i].ops == ops)
			return &sp->slots[i];
	for (unsigned i = 0; i < SPACE_SLOTS; i++)
		if (!sp->slots[i].ops) {
			sp->slots[i].ops = ops;
			return &sp->slots[i];
		}
	return NULL;
}

int core_space_ranges(struct upci_dma_space *sp, struct iova_list *out)
{
	iova_list_full(out);
	for (struct upci_dev *m = sp->members; m; m = m->space_next) {
		struct iova_list l;
		int ret;

		pthread_mutex_lock(&m->lock);
		ret = core_dev_ranges(m, &l);
		pthread_mutex_unlock(&m->lock);
		if (ret)
			return ret;
		iova_list_intersect(out, &l);
	}
	return 0;
}

/* Remove the mapping at @iova and its continuation from the space's
 * table; returns the first piece's owner. */
static void *table_remove_chain(struct dma_table *t, uint64_t iova)
{
	struct dma_region r;
	void *owner;

	if (dma_table_remove(t, iova, &r) != 0)
		return NULL;
	owner = r.owner;
	for (uint64_t next = r.start + r.len; next; next = r.start + r.len) { /* 0: ended at 2^64 */
		const struct dma_region *n = dma_table_find_exact(t, next);

		if (!n || !(n->flags & DMA_FLAG_SG_CONT) || dma_table_remove(t, next, &r) != 0)
			break;
	}
	return owner;
}

/* Make @p[0..n) on member @m (its lock held). */
static int member_map(struct upci_dma_space *sp, struct upci_dev *m, const struct dma_region *p, unsigned n, int fd)
{
	struct upci_dev *first = ctx_first(sp, m);
	uint64_t b;

	return first ? core_dev_mirror(m, p, n, &first->dma) : core_dev_map(m, p, n, fd, &b);
}

int core_space_map(struct upci_dma_space *sp, const struct dma_req *req, struct upci_dev *via, uint64_t *iova,
		   uint64_t *bus)
{
	struct upci_dev *m, *e;
	struct dma_region *p;
	uint64_t at = req->iova;
	unsigned i;
	int ret = 0;

	if (at == UPCI_IOVA_ANY) {
		struct iova_list rl;

		ret = core_space_ranges(sp, &rl);
		if (ret == 0)
			ret = iova_alloc(&rl, sp->map, DMA_ANY_MIN, req->total, req->align, &at);
		if (ret)
			return ret;
	}
	p = core_dma_pieces(req, at);
	if (!p)
		return -ENOMEM;
	for (i = 0; i < req->n && ret == 0; i++)
		ret = dma_table_insert(sp->map, &p[i]);
	if (ret) {
		while (--i > 0)
			dma_table_remove(sp->map, p[i - 1].start, NULL);
		free(p);
		return ret;
	}
	p[0].owner = NULL; /* the members' copies own nothing */
	for (m = sp->members; m; m = m->space_next) {
		pthread_mutex_lock(&m->lock);
		ret = member_map(sp, m, p, req->n, req->buf ? req->buf->fd : -1);
		pthread_mutex_unlock(&m->lock);
		if (ret)
			break;
	}
	if (ret) {
		for (e = sp->members; e != m; e = e->space_next) {
			pthread_mutex_lock(&e->lock);
			core_dev_unmap(e, at, !ctx_first(sp, e));
			pthread_mutex_unlock(&e->lock);
		}
		table_remove_chain(sp->map, at);
		free(p);
		return ret;
	}
	free(p);
	*iova = at;
	if (via && bus) {
		const struct dma_region *r = dma_table_find_exact(via->dma.iova, at);

		*bus = r ? r->other : at;
	}
	return 0;
}

int core_space_unmap(struct upci_dma_space *sp, uint64_t iova, int buf, const void *buf_vaddr)
{
	const struct dma_region *r = dma_table_find_exact(sp->map, iova);

	if (!r || (r->flags & DMA_FLAG_SG_CONT))
		return -ENOENT;
	if (buf && (!(r->flags & DMA_FLAG_ALLOC) || r->vaddr != buf_vaddr))
		return -ENOENT;
	if (!buf && (r->flags & DMA_FLAG_ALLOC))
		return -EINVAL; /* a buffer: upci_dma_free() owns its memory */
	for (struct upci_dev *m = sp->members; m; m = m->space_next) {
		pthread_mutex_lock(&m->lock);
		core_dev_unmap(m, iova, !ctx_first(sp, m));
		pthread_mutex_unlock(&m->lock);
	}
	dma_mem_free(table_remove_chain(sp->map, iova));
	return 0;
}

/* Take every mapping out of @dev's view, and out of its backend when
 * @backend (the device had nothing of its own before it joined). */
static void strip(struct upci_dev *dev, int backend)
{
	struct dma_region r;

	while (dma_view_pop_first(&dev->dma, &r) == 0)
		if (backend && dev->ops->dma_unmap)
			dev->ops->dma_unmap(dev, r.start, r.len, r.other);
}

static int collect(const struct dma_region *r, void *arg)
{
	struct dma_region **at = arg;

	*(*at)++ = *r;
	return 0;
}

/* Make every mapping of the space on @dev; @first: a member sharing its
 * backend context, which holds them already. All or nothing. */
static int replay(struct upci_dma_space *sp, struct upci_dev *dev, struct upci_dev *first)
{
	size_t n = dma_table_count(sp->map), i, j;
	struct dma_region *all, *at;
	int ret = 0;

	if (n == 0)
		return 0;
	all = calloc(n, sizeof(*all));
	if (!all)
		return -ENOMEM;
	at = all;
	dma_table_foreach(sp->map, collect, &at);
	for (i = 0; i < n && ret == 0; i = j) {
		struct dma_alloc *owner = all[i].owner;
		uint64_t b;

		for (j = i + 1; j < n && (all[j].flags & DMA_FLAG_SG_CONT); j++)
			;
		all[i].owner = NULL;
		if (first)
			ret = core_dev_mirror(dev, &all[i], (unsigned)(j - i), &first->dma);
		else
			ret = core_dev_map(dev, &all[i], (unsigned)(j - i), owner ? owner->fd : -1, &b);
	}
	if (ret)
		strip(dev, !first);
	free(all);
	return ret;
}

/* Interrupts and BAR mappings may depend on the device fd a backend
 * reopens to join or leave (VFIO's type1 path): the device must be quiet. */
static int quiet(const struct upci_dev *dev)
{
	for (unsigned b = 0; b < UPCI_NUM_BARS; b++)
		if (dev->bar_refs[b])
			return 0;
	return dev->irq_type == UPCI_IRQ_NONE;
}

static int join_locked(struct upci_dma_space *sp, struct upci_dev *dev)
{
	struct upci_dev *first = NULL, **pp;
	struct space_slot *slot;
	void *ctx = NULL;
	int joined, ret;

	if (!dev->claimed)
		return -EPERM;
	if (dev->space || dma_table_count(dev->dma.iova) || dev->nbufs || !quiet(dev))
		return -EBUSY;
	slot = slot_of(sp, dev->ops);
	if (!slot)
		return -ENOMEM; /* more backends than slots: cannot happen */
	joined = dev->ops->space_join ? dev->ops->space_join(dev, &slot->ctx) : 0;
	if (joined < 0) {
		LOG_ERR("%s: joining a DMA space: %s", dev->uri, upci_strerror(joined));
		return joined;
	}
	if (joined) {
		ctx = slot->ctx;
		for (struct upci_dev *m = sp->members; m && !first; m = m->space_next)
			if (m->space_ctx == ctx)
				first = m;
	}
	ret = replay(sp, dev, first);
	if (ret) {
		LOG_ERR("%s: joining a DMA space: making its mappings: %s", dev->uri, upci_strerror(ret));
		if (joined && dev->ops->space_leave)
			dev->ops->space_leave(dev, &slot->ctx, !first, 0);
		return ret;
	}
	for (pp = &sp->members; *pp; pp = &(*pp)->space_next)
		;
	pthread_mutex_lock(&spaces_mu);
	dev->space = sp;
	dev->space_ctx = ctx;
	dev->space_next = NULL;
	*pp = dev;
	pthread_mutex_unlock(&spaces_mu);
	return 0;
}

UPCI_API int upci_dma_space_join(upci_dma_space *sp, upci_dev *dev)
{
	int ret;

	if (!sp || !dev)
		return -EINVAL;
	pthread_mutex_lock(&sp->lock);
	pthread_mutex_lock(&dev->lock);
	ret = join_locked(sp, dev);
	pthread_mutex_unlock(&dev->lock);
	pthread_mutex_unlock(&sp->lock);
	return ret;
}

static int leave_locked(struct upci_dma_space *sp, struct upci_dev *dev, int closing)
{
	void *ctx = dev->space_ctx;
	struct upci_dev *other = ctx ? ctx_other(sp, dev) : NULL, **pp;
	int ret = 0;

	/* The mappings stay in a context other members still use. */
	strip(dev, !other);
	pthread_mutex_lock(&spaces_mu);
	for (pp = &sp->members; *pp && *pp != dev; pp = &(*pp)->space_next)
		;
	if (*pp)
		*pp = dev->space_next;
	dev->space = NULL;
	dev->space_ctx = NULL;
	dev->space_next = NULL;
	pthread_mutex_unlock(&spaces_mu);
	if (ctx && dev->ops->space_leave) {
		ret = dev->ops->space_leave(dev, &slot_of(sp, dev->ops)->ctx, !other, closing);
		if (ret)
			LOG_ERR("%s: leaving a DMA space: %s", dev->uri, upci_strerror(ret));
	}
	return ret;
}

UPCI_API int upci_dma_space_leave(upci_dma_space *sp, upci_dev *dev)
{
	int ret;

	if (!sp || !dev)
		return -EINVAL;
	pthread_mutex_lock(&sp->lock);
	pthread_mutex_lock(&dev->lock);
	if (dev->space != sp)
		ret = -ENOENT;
	else if (!quiet(dev))
		ret = -EBUSY;
	else
		ret = leave_locked(sp, dev, 0);
	pthread_mutex_unlock(&dev->lock);
	pthread_mutex_unlock(&sp->lock);
	return ret;
}

void core_space_leave_closing(struct upci_dev *dev)
{
	struct upci_dma_space *sp = core_space_enter(dev);

	if (!sp)
		return;
	pthread_mutex_lock(&dev->lock);
	leave_locked(sp, dev, 1);
	pthread_mutex_unlock(&dev->lock);
	core_space_exit(sp);
}

UPCI_API int upci_dma_space_map(upci_dma_space *sp, uint64_t iova, void *vaddr, uint64_t len, unsigned flags)
{
	struct upci_dma_seg seg = {vaddr, len};
	struct dma_req req = {.sg = &seg, .n = 1, .iova = iova, .total = len};
	uint64_t at;
	int ret;

	if (!sp || !vaddr)
		return -EINVAL;
	ret = core_dma_check(iova, (uintptr_t)vaddr, len, &flags, sp->page);
	if (ret)
		return ret;
	req.flags = flags;
	req.align = sp->page;
	pthread_mutex_lock(&sp->lock);
	ret = core_space_map(sp, &req, NULL, &at, NULL);
	pthread_mutex_unlock(&sp->lock);
	return ret;
}

UPCI_API int upci_dma_space_unmap(upci_dma_space *sp, uint64_t iova)
{
	int ret;

	if (!sp)
		return -EINVAL;
	pthread_mutex_lock(&sp->lock);
	ret = core_space_unmap(sp, iova, 0, NULL);
	pthread_mutex_unlock(&sp->lock);
	return ret;
}

UPCI_API int upci_dma_space_iova_ranges(upci_dma_space *sp, struct upci_iova_range *ranges, unsigned max)
{
	struct iova_list l;
	int ret;

	if (!sp || (!ranges && max))
		return -EINVAL;
	pthread_mutex_lock(&sp->lock);
	ret = core_space_ranges(sp, &l);
	pthread_mutex_unlock(&sp->lock);
	if (ret)
		return ret;
	if (ranges)
		memcpy(ranges, l.r, (max < l.n ? max : l.n) * sizeof(l.r[0]));
	return (int)l.n;
}

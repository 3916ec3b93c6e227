/* SPDX-License-Identifier: MIT */
/*
 * DMA region table as an AVL tree keyed by range start.
 *
 * Ranges never overlap, so ordering by start also orders them by end; that
 * is what lets find() be a floor search and insert() check overlap against
 * just the predecessor and the successor.
 *
 * A range is stored by its last byte (start + len - 1) rather than its end,
 * so one ending exactly at 2^64 - 1 is representable without overflow.
 *
 * Testing hook: when compiled with -DDMA_TABLE_TESTING this file also
 * exports dma_table_debug_height() and dma_table_debug_check() (declared
 * below, not in the header) so unit tests can verify balance and ordering.
 */
#include "dma_table.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

struct dma_node {
	struct dma_region r;
	struct dma_node *left;
	struct dma_node *right;
	int height;  /* leaf = 1 */
};

struct dma_table {
	struct dma_node *root;
	size_t count;
};

/*
 * An AVL tree of n nodes has height < 1.4405 * log2(n + 2). Nodes are far
 * larger than one byte, so n < 2^58 on any 64-bit machine and the height
 * stays below 84; the iterator stack is sized with margin and still guarded.
 */
#define DMA_STACK_MAX 128

static uint64_t region_last(const struct dma_region *r)
{
	return r->start + (r->len - 1);
}

static int node_height(const struct dma_node *n)
{
	return n ? n->height : 0;
}

static void node_update(struct dma_node *n)
{
	int hl = node_height(n->left);
	int hr = node_height(n->right);

	n->height = (hl > hr ? hl : hr) + 1;
}

static struct dma_node *rotate_right(struct dma_node *n)
{
	struct dma_node *l = n->left;

	n->left = l->right;
	l->right = n;
	node_update(n);
	node_update(l);
	return l;
}

static struct dma_node *rotate_left(struct dma_node *n)
{
	struct dma_node *r = n->right;

	n->right = r->left;
	r->left = n;
	node_update(n);
	node_update(r);
	return r;
}

/* Restore the AVL invariant at n after one of its subtrees changed height by 1. */
static struct dma_node *rebalance(struct dma_node *n)
{
	int bal;

	node_update(n);
	bal = node_height(n->left) - node_height(n->right);
	if (bal > 1) {
		if (node_height(n->left->left) < node_height(n->left->right))
			n->left = rotate_left(n->left);
		return rotate_right(n);
	}
	if (bal < -1) {
		if (node_height(n->right->right) < node_height(n->right->left))
			n->right = rotate_right(n->right);
		return rotate_left(n);
	}
	return n;
}

/* Recursion depth is bounded by the tree height (< 84, see above). */
static struct dma_node *avl_insert(struct dma_node *n, struct dma_node *nn)
{
	if (!n)
		return nn;
	if (nn->r.start < n->r.start)
		n->left = avl_insert(n->left, nn);
	else
		n->right = avl_insert(n->right, nn);
	return rebalance(n);
}

/* Detach the minimum node of subtree n into *min; returns the new subtree. */
static struct dma_node *avl_detach_min(struct dma_node *n, struct dma_node **min)
{
	if (!n->left) {
		*min = n;
		return n->right;
	}
	n->left = avl_detach_min(n->left, min);
	return rebalance(n);
}

/* Remove the node keyed @start; *gone receives it (unlinked) or stays NULL. */
static struct dma_node *avl_remove(struct dma_node *n, uint64_t start, struct dma_node **gone)
{
	struct dma_node *succ = NULL, *right;

	if (!n)
		return NULL;
	if (start < n->r.start) {
		n->left = avl_remove(n->left, start, gone);
	} else if (start > n->r.start) {
		n->right = avl_remove(n->right, start, gone);
	} else {
		*gone = n;
		if (!n->left)
			return n->right;
		if (!n->right)
			return n->left;
		/* Relink the successor node in n's place (rather than copying
		 * its payload) so the caller gets back exactly node n. */
		right = avl_detach_min(n->right, &succ);
		succ->left = n->left;
		succ->right = right;
		return rebalance(succ);
	}
	return *gone ? rebalance(n) : n;
}

/* Greatest node with start <= key, or NULL. */
static const struct dma_node *floor_node(const struct dma_table *t, uint64_t key)
{
	const struct dma_node *n = t->root;
	const struct dma_node *best = NULL;

	while (n) {
		if (n->r.start <= key) {
			best = n;
			n = n->right;
		} else {
			n = n->left;
		}
	}
	return best;
}

/* Smallest node with start > key, or NULL. */
static const struct dma_node *higher_node(const struct dma_table *t, uint64_t key)
{
	const struct dma_node *n = t->root;
	const struct dma_node *best = NULL;

	while (n) {
		if (n->r.start > key) {
			best = n;
			n = n->left;
		} else {
			n = n->right;
		}
	}
	return best;
}

/*
 * In-order iterator over nodes with start >= a key, using an explicit
 * stack so foreach/find_gap need no recursion and no parent pointers.
 */
struct dma_iter {
	const struct dma_node *stack[DMA_STACK_MAX];
	int depth;
	bool overflow;
};

static void iter_push(struct dma_iter *it, const struct dma_node *n)
{
	if (it->depth >= DMA_STACK_MAX) {
		it->overflow = true;  /* cannot happen for an AVL tree; stay in bounds */
		return;
	}
	it->stack[it->depth++] = n;
}

static void iter_init(struct dma_iter *it, const struct dma_table *t, uint64_t key)
{
	const struct dma_node *n = t->root;

	it->depth = 0;
	it->overflow = false;
	while (n) {
		if (n->r.start >= key) {
			iter_push(it, n);
			n = n->left;
		} else {
			n = n->right;
		}
	}
}

static const struct dma_node *iter_next(struct dma_iter *it)
{
	const struct dma_node *n, *m;

	if (it->overflow || it->depth == 0)
		return NULL;
	n = it->stack[--it->depth];
	for (m = n->right; m; m = m->left)
		iter_push(it, m);
	return n;
}

int dma_table_create(struct dma_table **out)
{
	struct dma_table *t;

	if (!out)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	*out = t;
	return 0;
}

void dma_table_destroy(struct dma_table *t)
{
	struct dma_node *n;

	if (!t)
		return;
	/* Rotate left children up until the root has none, then free it:
	 * O(n), no recursion and no extra memory. */
	n = t->root;
	while (n) {
		if (n->left) {
			struct dma_node *l = n->left;

			n->left = l->right;
			l->right = n;
			n = l;
		} else {
			struct dma_node *next = n->right;

			free(n);
			n = next;
		}
	}
	free(t);
}

static int region_check(const struct dma_region *r)
{
	if (r->len == 0)
		return -EINVAL;
	if (r->start > UINT64_MAX - (r->len - 1))
		return -EOVERFLOW;
	return 0;
}

int dma_table_insert(struct dma_table *t, const struct dma_region *r)
{
	const struct dma_node *pred, *succ;
	struct dma_node *nn;
	int rc;

	if (!t || !r)
		return -EINVAL;
	rc = region_check(r);
	if (rc)
		return rc;
	/* Ranges are disjoint and sorted, so only the neighbours can overlap. */
	pred = floor_node(t, r->start);
	if (pred && region_last(&pred->r) >= r->start)
		return -EEXIST;
	succ = higher_node(t, r->start);
	if (succ && succ->r.start <= region_last(r))
		return -EEXIST;

	nn = calloc(1, sizeof(*nn));
	if (!nn)
		return -ENOMEM;
	nn->r = *r;
	nn->height = 1;
	t->root = avl_insert(t->root, nn);
	t->count++;
	return 0;
}

int dma_table_remove(struct dma_table *t, uint64_t start, struct dma_region *out)
{
	struct dma_node *gone = NULL;

	if (!t)
		return -EINVAL;
	t->root = avl_remove(t->root, start, &gone);
	if (!gone)
		return -ENOENT;
	if (out)
		*out = gone->r;
	free(gone);
	t->count--;
	return 0;
}

const struct dma_region *dma_table_find(const struct dma_table *t, uint64_t addr)
{
	const struct dma_node *n;

	if (!t)
		return NULL;
	n = floor_node(t, addr);
	if (!n || region_last(&n->r) < addr)
		return NULL;
	return &n->r;
}

const struct dma_region *dma_table_find_exact(const struct dma_table *t, uint64_t start)
{
	const struct dma_node *n;

	if (!t)
		return NULL;
	n = floor_node(t, start);
	if (!n || n->r.start != start)
		return NULL;
	return &n->r;
}

const struct dma_region *dma_table_find_from(const struct dma_table *t, uint64_t addr)
{
	const struct dma_node *n;

	if (!t)
		return NULL;
	n = floor_node(t, addr);
	if (n && n->r.start == addr)
		return &n->r;
	n = higher_node(t, addr);
	return n ? &n->r : NULL;
}

int dma_table_set_other(struct dma_table *t, uint64_t start, uint64_t other)
{
	/* The table owns its nodes: the const is only find_exact's promise. */
	struct dma_region *r = (struct dma_region *)dma_table_find_exact(t, start);

	if (!r)
		return -ENOENT;
	r->other = other; /* not a key: the tree's order is unchanged */
	return 0;
}

void *dma_table_translate(const struct dma_table *t, uint64_t addr, uint64_t len, unsigned need)
{
	const struct dma_region *r;
	uint64_t last;

	if (!t || len == 0 || addr > UINT64_MAX - (len - 1))
		return NULL;
	last = addr + (len - 1);
	r = dma_table_find(t, addr);
	if (!r || last > region_last(r))
		return NULL;
	if ((r->flags & need) != need || r->rw)
		return NULL; /* a remote region has no address here */
	/* Integer arithmetic: the offset is in range by construction, and this
	 * avoids pointer arithmetic on a NULL vaddr (undefined behaviour). */
	return (void *)((uintptr_t)r->vaddr + (uintptr_t)(addr - r->start));
}

/* Round x up to a multiple of align (a power of two); false on overflow. */
static bool align_up(uint64_t x, uint64_t align, uint64_t *out)
{
	if (x > UINT64_MAX - (align - 1))
		return false;
	*out = (x + (align - 1)) & ~(align - 1);
	return true;
}

int dma_table_find_gap(const struct dma_table *t, uint64_t min, uint64_t len, uint64_t align, uint64_t *out)
{
	const struct dma_node *fl, *n;
	struct dma_iter it;
	uint64_t cand;

	if (!t || !out || len == 0 || align == 0 || (align & (align - 1)) != 0)
		return -EINVAL;
	if (!align_up(min, align, &cand))
		return -ENOSPC;
	/* Start at the range that may contain cand, then walk upwards, moving
	 * cand past each range it collides with. Every step visits a new
	 * range, so this is O(log n + ranges skipped). */
	fl = floor_node(t, cand);
	iter_init(&it, t, fl ? fl->r.start : cand);
	while ((n = iter_next(&it)) != NULL) {
		uint64_t nlast = region_last(&n->r);

		if (nlast < cand)
			continue;
		if (n->r.start > cand && n->r.start - cand >= len)
			break;
		if (nlast == UINT64_MAX || !align_up(nlast + 1, align, &cand))
			return -ENOSPC;
	}
	if (it.overflow)
		return -EFAULT;  /* impossible in a balanced tree; never guess */
	if (!n && cand > UINT64_MAX - (len - 1))
		return -ENOSPC;
	*out = cand;
	return 0;
}

size_t dma_table_count(const struct dma_table *t)
{
	return t ? t->count : 0;
}

int dma_table_foreach(const struct dma_table *t, int (*fn)(const struct dma_region *r, void *arg), void *arg)
{
	const struct dma_node *n;
	struct dma_iter it;
	int rc;

	if (!t || !fn)
		return -EINVAL;
	iter_init(&it, t, 0);
	while ((n = iter_next(&it)) != NULL) {
		rc = fn(&n->r, arg);
		if (rc)
			return rc;
	}
	return it.overflow ? -EFAULT : 0;
}

int dma_table_pop_first(struct dma_table *t, struct dma_region *out)
{
	const struct dma_node *n;

	if (!t)
		return -EINVAL;
	n = t->root;
	if (!n)
		return -ENOENT;
	while (n->left)
		n = n->left;
	return dma_table_remove(t, n->r.start, out);
}

#ifdef DMA_TABLE_TESTING
int dma_table_debug_height(const struct dma_table *t);
int dma_table_debug_check(const struct dma_table *t);

int dma_table_debug_height(const struct dma_table *t)
{
	return t ? node_height(t->root) : 0;
}

/* Recompute heights and check ordering, disjointness and AVL balance.
 * Returns the subtree height, or -1 on any violation. */
static int debug_check_node(const struct dma_node *n, const struct dma_node **prev, size_t *count)
{
	int hl, hr, h;

	if (!n)
		return 0;
	hl = debug_check_node(n->left, prev, count);
	if (hl < 0)
		return -1;
	if (region_check(&n->r))
		return -1;
	if (*prev && region_last(&(*prev)->r) >= n->r.start)
		return -1;
	*prev = n;
	(*count)++;
	hr = debug_check_node(n->right, prev, count);
	if (hr < 0)
		return -1;
	if (hl - hr > 1 || hr - hl > 1)
		return -1;
	h = (hl > hr ? hl : hr) + 1;
	return h == n->height ? h : -1;
}

/* 0 when every invariant holds, -1 otherwise. */
int dma_table_debug_check(const struct dma_table *t)
{
	const struct dma_node *prev = NULL;
	size_t count = 0;

	if (!t)
		return -1;
	if (debug_check_node(t->root, &prev, &count) < 0)
		return -1;
	return count == t->count ? 0 : -1;
}
#endif

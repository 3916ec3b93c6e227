/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of DMA spaces (upci.h) on the sim backend: several edu
 * instances in one IOVA space, sharing one simulated IOMMU (same IOMMU
 * kind) or each getting every mapping (different kinds: flat vs dart);
 * the join/leave rules, ranges of a space, buffers that outlive the member
 * they were made through, and membership changing under concurrent maps.
 * Each edu's DMA engine proves what that device really reaches.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "test_dma_util.h"

/* Distinct URIs are distinct instances: A and B share an IOMMU kind. */
#define A_URI "sim:edu"
#define B_URI "sim:edu?iommu=flat"
#define DART_URI "sim:edu?iommu=dart"
#define X86_URI "sim:edu?iommu=x86"
#define TD_URI "sim:testdev?vectors=4"
#define LEN 3000u /* under the edu's 4 KiB buffer */

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 31 + seed);
}

static upci_dma_space *space(void)
{
	upci_dma_space *sp = NULL;

	assert_int_equal(upci_dma_space_create(&sp), 0);
	assert_non_null(sp);
	return sp;
}

/* Bus address of @va for @d (must be mapped for it). */
static uint64_t bus_of(upci_dev *d, const void *va)
{
	uint64_t b = 0;

	assert_int_equal(upci_dma_vaddr_to_bus(d, va, 1, NULL, &b), 0);
	return b;
}

static void test_space_args(void **state)
{
	const uint64_t ps = tu_page();
	upci_dma_space *sp = space();
	upci_dev *d = tu_open_claimed(A_URI);
	uint8_t *p = tu_pages(1);
	struct upci_iova_range r[2];

	(void)state;
	assert_int_equal(upci_dma_space_create(NULL), -EINVAL);
	assert_int_equal(upci_dma_space_destroy(NULL), 0);
	assert_int_equal(upci_dma_space_join(NULL, d), -EINVAL);
	assert_int_equal(upci_dma_space_join(sp, NULL), -EINVAL);
	assert_int_equal(upci_dma_space_leave(NULL, d), -EINVAL);
	assert_int_equal(upci_dma_space_leave(sp, NULL), -EINVAL);
	assert_int_equal(upci_dma_space_map(NULL, MiB, p, ps, 0), -EINVAL);
	assert_int_equal(upci_dma_space_map(sp, MiB, NULL, ps, 0), -EINVAL);
	assert_int_equal(upci_dma_space_map(sp, MiB + 1, p, ps, 0), -EINVAL);
	assert_int_equal(upci_dma_space_map(sp, MiB, p + 1, ps, 0), -EINVAL);
	assert_int_equal(upci_dma_space_map(sp, MiB, p, 0, 0), -EINVAL);
	assert_int_equal(upci_dma_space_map(sp, MiB, p, ps, 0x10), -EINVAL);
	assert_int_equal(upci_dma_space_map(sp, UINT64_MAX - ps + 1, p, 2 * ps, 0), -EOVERFLOW);
	assert_int_equal(upci_dma_space_unmap(NULL, MiB), -EINVAL);
	assert_int_equal(upci_dma_space_unmap(sp, MiB), -ENOENT);
	assert_int_equal(upci_dma_space_iova_ranges(NULL, r, 2), -EINVAL);
	assert_int_equal(upci_dma_space_iova_ranges(sp, NULL, 2), -EINVAL);
	/* No member: every IOVA; mappings are recorded, overlap is refused. */
	assert_int_equal(upci_dma_space_iova_ranges(sp, r, 2), 1);
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].last, UINT64_MAX);
	assert_int_equal(upci_dma_space_map(sp, MiB, p, ps, 0), 0);
	assert_int_equal(upci_dma_space_map(sp, MiB, p, ps, 0), -EEXIST);
	assert_int_equal(upci_dma_space_unmap(sp, MiB), 0);
	assert_int_equal(upci_dma_space_unmap(sp, MiB), -ENOENT);
	/* Destroy forgets what is still mapped. */
	assert_int_equal(upci_dma_space_map(sp, MiB, p, ps, 0), 0);
	assert_int_equal(upci_dma_space_destroy(sp), 0);
}

static void test_space_join_rules(void **state)
{
	const uint64_t ps = tu_page();
	upci_dma_space *sp = space(), *other = space();
	upci_dev *d = tu_open(A_URI);
	uint8_t *p = tu_pages(1);
	struct upci_dma_buf buf;
	uint64_t bus;
	void *bar;

	(void)state;
	assert_int_equal(upci_dma_space_join(sp, d), -EPERM); /* not claimed */
	assert_int_equal(upci_claim(d), 0);
	/* Not quiet: a mapping, a buffer, a BAR mapping, interrupts. */
	assert_int_equal(upci_dma_map(d, MiB, p, ps, 0, &bus), 0);
	assert_int_equal(upci_dma_space_join(sp, d), -EBUSY);
	assert_int_equal(upci_dma_unmap(d, MiB), 0);
	assert_int_equal(upci_dma_alloc(d, UPCI_IOVA_ANY, ps, &buf), 0);
	assert_int_equal(upci_dma_space_join(sp, d), -EBUSY);
	assert_int_equal(upci_dma_free(d, &buf), 0);
	assert_int_equal(upci_bar_map(d, 0, &bar, NULL), 0);
	assert_int_equal(upci_dma_space_join(sp, d), -EBUSY);
	assert_int_equal(upci_bar_unmap(d, 0), 0);
	assert_true(upci_irq_enable(d, UPCI_IRQ_AUTO, 1) >= 1);
	assert_int_equal(upci_dma_space_join(sp, d), -EBUSY);
	assert_int_equal(upci_irq_disable(d), 0);
	/* Quiet: it joins, once, into one space. */
	assert_int_equal(upci_dma_space_leave(sp, d), -ENOENT);
	assert_int_equal(upci_dma_space_join(sp, d), 0);
	assert_int_equal(upci_dma_space_join(sp, d), -EBUSY);
	assert_int_equal(upci_dma_space_join(other, d), -EBUSY);
	assert_int_equal(upci_dma_space_leave(other, d), -ENOENT);
	/* A member may not be released; its space not destroyed. */
	assert_int_equal(upci_release(d), -EBUSY);
	assert_int_equal(upci_dma_space_destroy(sp), -EBUSY);
	/* Leaving needs it quiet too. */
	assert_true(upci_irq_enable(d, UPCI_IRQ_AUTO, 1) >= 1);
	assert_int_equal(upci_dma_space_leave(sp, d), -EBUSY);
	assert_int_equal(upci_irq_disable(d), 0);
	assert_int_equal(upci_dma_space_leave(sp, d), 0);
	assert_int_equal(upci_dma_space_leave(sp, d), -ENOENT);
	assert_int_equal(upci_release(d), 0);
	assert_int_equal(upci_dma_space_destroy(sp), 0);
	assert_int_equal(upci_dma_space_destroy(other), 0);
}

/* Same IOMMU kind: one simulated IOMMU. A mapping made through one member
 * (or the space) is reached by the other's device; a buffer outlives the
 * member it was allocated through. */
static void test_space_shared(void **state)
{
	const uint64_t ps = tu_page();
	upci_dma_space *sp = space();
	upci_dev *a = tu_open_claimed(A_URI), *b = tu_open_claimed(B_URI);
	uint8_t *src = tu_pages(1), *mid = tu_pages(1), *dst = tu_pages(1);
	struct upci_dma_buf buf;
	uint64_t bus, iova;

	(void)state;
	fill(src, LEN, 1);
	/* Mapped before anyone joins: the joiners get it. */
	assert_int_equal(upci_dma_space_map(sp, 0x200000, src, ps, UPCI_DMA_READ), 0);
	assert_int_equal(upci_dma_space_join(sp, a), 0);
	assert_int_equal(upci_dma_space_join(sp, b), 0);
	assert_int_equal(bus_of(a, src), 0x200000);
	assert_int_equal(bus_of(b, src), 0x200000);
	/* Through a member's own calls: in the space for both. */
	assert_int_equal(upci_dma_map(a, 0x300000, mid, ps, 0, &bus), 0);
	assert_int_equal(bus, 0x300000);
	assert_int_equal(upci_dma_map_any(b, dst, ps, 0, &iova, &bus), 0);
	assert_int_equal(iova, MiB);
	assert_int_equal(bus_of(a, dst), MiB);
	/* The same IOVA through the other member, or the space: taken. */
	assert_int_equal(upci_dma_map(b, 0x300000, dst, ps, 0, &bus), -EEXIST);
	assert_int_equal(upci_dma_space_map(sp, 0x300000, dst, ps, 0), -EEXIST);
	tu_bus_master(a);
	tu_bus_master(b);
	assert_int_equal(tu_edu_copy(a, 0x200000, 0x300000, LEN), 0);
	assert_int_equal(tu_edu_copy(b, 0x300000, MiB, LEN), 0);
	assert_memory_equal(dst, src, LEN);
	/* The space's READ-only mapping: neither may write it. */
	assert_int_equal(tu_edu_copy(b, MiB, 0x200000, 16), 1);
	/* A buffer allocated through A, written by B, kept when A closes. */
	assert_int_equal(upci_dma_alloc(a, UPCI_IOVA_ANY, ps, &buf), 0);
	assert_int_equal(buf.iova, MiB + ps);
	assert_int_equal(upci_dma_unmap(b, buf.iova), -EINVAL); /* a buffer */
	assert_int_equal(upci_dma_space_unmap(sp, buf.iova), -EINVAL);
	assert_int_equal(tu_edu_copy(b, 0x200000, buf.bus_addr, LEN), 0);
	assert_memory_equal(buf.vaddr, src, LEN);
	tu_close(a);
	memset(dst, 0, LEN);
	assert_int_equal(tu_edu_copy(b, buf.bus_addr, MiB, LEN), 0);
	assert_memory_equal(dst, src, LEN);
	assert_int_equal(upci_dma_free(b, &buf), 0);
	/* Unmapped in the space: B's device faults on it. */
	assert_int_equal(upci_dma_space_unmap(sp, 0x300000), 0);
	assert_int_equal(tu_edu_copy(b, 0x300000, MiB, 16), 1);
	assert_int_equal(upci_dma_unmap(b, MiB), 0);
	assert_int_equal(upci_dma_vaddr_to_bus(b, dst, 1, NULL, &bus), -ENOENT);
	assert_int_equal(upci_dma_space_leave(sp, b), 0);
	assert_int_equal(upci_dma_space_destroy(sp), 0);
}

/* Different IOMMU kinds: each member gets every mapping, at bus addresses
 * of its own (the DART picks them). */
static void test_space_fanout(void **state)
{
	const uint64_t ps = tu_page();
	upci_dma_space *sp = space();
	upci_dev *a = tu_open_claimed(A_URI), *c = tu_open_claimed(DART_URI);
	uint8_t *src = tu_pages(1), *dst = tu_pages(2);
	uint64_t iova, bus, ca, cb;
	struct upci_dma_seg sg[2] = {{dst, ps}, {dst + ps, ps}};

	(void)state;
	fill(src, LEN, 2);
	assert_int_equal(upci_dma_space_join(sp, a), 0);
	assert_int_equal(upci_dma_space_join(sp, c), 0);
	assert_int_equal(upci_dma_map_any(c, src, ps, 0, &iova, &bus), 0);
	assert_int_equal(iova, MiB);
	assert_true(bus >= 0x0a000000); /* C's bus address: the DART's */
	assert_int_equal(bus_of(c, src), bus);
	assert_int_equal(bus_of(a, src), MiB); /* A's: the IOVA */
	iova = UPCI_IOVA_ANY;
	assert_int_equal(upci_dma_map_sg(a, sg, 1, 0, &iova, &bus), 0);
	assert_int_equal(iova, MiB + ps);
	tu_bus_master(a);
	tu_bus_master(c);
	/* Each device with its own bus addresses. */
	ca = bus_of(c, src);
	cb = bus_of(c, dst);
	assert_true(cb != MiB + ps);
	assert_int_equal(tu_edu_copy(c, ca, cb, LEN), 0);
	assert_memory_equal(dst, src, LEN);
	memset(dst, 0, LEN);
	assert_int_equal(tu_edu_copy(a, MiB, MiB + ps, LEN), 0);
	assert_memory_equal(dst, src, LEN);
	/* A's bus address means nothing to C's DART. */
	assert_int_equal(tu_edu_copy(c, MiB, cb, 16), 1);
	/* A scatter list must be contiguous for every member: page pieces in
	 * the DART are not (4 KiB pages in 16 KiB granules). */
	if (ps < 16384) {
		iova = UPCI_IOVA_ANY;
		sg[0].vaddr = dst + ps;
		sg[1].vaddr = dst;
		assert_int_equal(upci_dma_unmap(a, MiB + ps), 0);
		assert_int_equal(upci_dma_map_sg(a, sg, 2, 0, &iova, &bus), -ERANGE);
		assert_int_equal(upci_dma_vaddr_to_bus(a, dst, 1, NULL, &bus), -ENOENT); /* all or nothing */
	}
	/* Unmapped through C: gone for A too. */
	assert_int_equal(upci_dma_unmap(c, MiB), 0);
	assert_int_equal(upci_dma_vaddr_to_bus(a, src, 1, NULL, &bus), -ENOENT);
	assert_int_equal(tu_edu_copy(a, MiB, MiB, 16), 2);
	assert_int_equal(upci_dma_space_leave(sp, a), 0);
	assert_int_equal(upci_dma_space_leave(sp, c), 0);
	assert_int_equal(upci_dma_space_destroy(sp), 0);
}

/* A space accepts what every member accepts. */
static void test_space_ranges(void **state)
{
	const uint64_t ps = tu_page();
	upci_dma_space *sp = space();
	upci_dev *a = tu_open_claimed(A_URI), *x = tu_open_claimed(X86_URI), *t = tu_open_claimed(TD_URI);
	struct upci_iova_range r[4];
	uint8_t *p = tu_pages(1);
	uint64_t bus;

	(void)state;
	assert_int_equal(upci_dma_space_join(sp, a), 0);
	assert_int_equal(upci_dma_space_join(sp, t), 0); /* another model, same kind */
	/* Only flat members: 0xfee00000 is fine. */
	assert_int_equal(upci_dma_space_map(sp, 0xfee00000, p, ps, 0), 0);
	/* The x86 member cannot take it: refused, nothing changed. */
	assert_int_equal(upci_dma_space_join(sp, x), -ERANGE);
	assert_int_equal(upci_dma_space_leave(sp, x), -ENOENT);
	assert_int_equal(bus_of(a, p), 0xfee00000);
	assert_int_equal(upci_dma_map(x, MiB, p, ps, 0, &bus), 0); /* X alone, as before */
	assert_int_equal(upci_dma_unmap(x, MiB), 0);
	assert_int_equal(upci_dma_space_unmap(sp, 0xfee00000), 0);
	assert_int_equal(upci_dma_space_join(sp, x), 0);
	/* Now the space is what x86 accepts, for every member. */
	assert_int_equal(upci_dma_space_iova_ranges(sp, r, 4), 2);
	assert_int_equal(r[0].last, 0xfedfffff);
	assert_int_equal(r[1].start, 0xfef00000);
	assert_int_equal(r[1].last, (1ull << 48) - 1);
	assert_int_equal(upci_dma_iova_ranges(a, r, 4), 2);
	assert_int_equal(r[1].start, 0xfef00000);
	assert_int_equal(upci_dma_space_map(sp, 0xfee00000, p, ps, 0), -ERANGE);
	assert_int_equal(upci_dma_map(a, 0xfee00000, p, ps, 0, &bus), -ERANGE);
	assert_int_equal(upci_dma_vaddr_to_bus(a, p, 1, NULL, &bus), -ENOENT);
	assert_int_equal(upci_dma_vaddr_to_bus(t, p, 1, NULL, &bus), -ENOENT);
	assert_int_equal(upci_dma_space_leave(sp, x), 0);
	assert_int_equal(upci_dma_space_iova_ranges(sp, r, 4), 1);
	assert_int_equal(r[0].last, UINT64_MAX);
	assert_int_equal(upci_dma_space_leave(sp, a), 0);
	assert_int_equal(upci_dma_space_leave(sp, t), 0);
	assert_int_equal(upci_dma_space_destroy(sp), 0);
}

/* Leaving takes the space's memory away from the device (the space keeps
 * it); joining again gives it all back: mappings, lists, buffers. */
static void test_space_leave_rejoin(void **state)
{
	const uint64_t ps = tu_page();
	upci_dma_space *sp = space();
	upci_dev *a = tu_open_claimed(A_URI), *b = tu_open_claimed(B_URI);
	uint8_t *src = tu_pages(3), *dst = tu_pages(1);
	struct upci_dma_seg sg[2] = {{src, ps}, {src + 2 * ps, ps}};
	struct upci_dma_buf buf;
	uint64_t iova = 0x800000, bus, ob;

	(void)state;
	fill(src, ps, 3);
	fill(src + 2 * ps, ps, 4);
	assert_int_equal(upci_dma_space_join(sp, a), 0);
	assert_int_equal(upci_dma_space_join(sp, b), 0);
	assert_int_equal(upci_dma_map_sg(a, sg, 2, UPCI_DMA_READ, &iova, &bus), 0);
	assert_int_equal(upci_dma_alloc(b, UPCI_IOVA_ANY, ps, &buf), 0);
	assert_int_equal(upci_dma_map(b, 0x900000, dst, ps, 0, &ob), 0);
	tu_bus_master(a);
	tu_bus_master(b);
	/* A leaves (B still shares the IOMMU): A's device no longer reaches it. */
	assert_int_equal(upci_dma_space_leave(sp, a), 0);
	assert_int_equal(upci_dma_vaddr_to_bus(a, src, 1, NULL, &bus), -ENOENT);
	assert_int_equal(tu_edu_copy(a, 0x800000, 0x900000, 16), 2);
	assert_int_equal(tu_edu_copy(b, 0x800000 + ps - 100, 0x900000, 200), 0); /* B still does */
	assert_memory_equal(dst, src + ps - 100, 100);
	assert_memory_equal(dst + 100, src + 2 * ps, 100);
	/* A works alone meanwhile, at the same IOVAs: its own IOMMU. */
	assert_int_equal(upci_dma_map(a, 0x800000, dst, ps, 0, &bus), 0);
	assert_int_equal(upci_dma_unmap(a, 0x800000), 0);
	/* B, the last, leaves; the space keeps everything. */
	assert_int_equal(upci_dma_space_leave(sp, b), 0);
	assert_int_equal(tu_edu_copy(b, 0x800000, 0x900000, 16), 2);
	/* Back: all of it is there again, through a fresh shared IOMMU. */
	assert_int_equal(upci_dma_space_join(sp, b), 0);
	assert_int_equal(upci_dma_space_join(sp, a), 0);
	memset(dst, 0, ps);
	assert_int_equal(tu_edu_copy(a, 0x800000 + ps - 100, 0x900000, 200), 0);
	assert_memory_equal(dst, src + ps - 100, 100);
	assert_memory_equal(dst + 100, src + 2 * ps, 100);
	assert_int_equal(tu_edu_copy(a, 0x800000, buf.bus_addr, LEN), 0);
	assert_memory_equal(buf.vaddr, src, LEN);
	/* The list is still one mapping, in the space and on each member. */
	assert_int_equal(upci_dma_unmap(b, 0x800000 + ps), -ENOENT);
	assert_int_equal(upci_dma_space_unmap(sp, 0x800000), 0);
	assert_int_equal(upci_dma_vaddr_to_bus(a, src + 2 * ps, 1, NULL, &bus), -ENOENT);
	assert_int_equal(upci_dma_free(a, &buf), 0);
	/* A member's close leaves; the space then goes. */
	tu_close(a);
	tu_close(b);
	assert_int_equal(upci_dma_space_destroy(sp), 0);
}

/* Membership changing while another thread maps through a member. */
struct churn {
	upci_dma_space *sp;
	upci_dev *a, *b;
	uint8_t *mem;
	atomic_int bad;
	atomic_int stop;
};

static void *mapper(void *arg)
{
	struct churn *ch = arg;
	uint64_t iova, bus;

	for (int i = 0; i < 300 && !atomic_load(&ch->stop); i++) {
		int rc = upci_dma_map_any(ch->a, ch->mem, tu_page(), 0, &iova, &bus);

		if (rc != 0 || bus != iova || upci_dma_unmap(ch->a, iova) != 0)
			atomic_fetch_add(&ch->bad, 1);
	}
	return NULL;
}

static void *joiner(void *arg)
{
	struct churn *ch = arg;

	for (int i = 0; i < 100; i++)
		if (upci_dma_space_join(ch->sp, ch->b) != 0 || upci_dma_space_leave(ch->sp, ch->b) != 0)
			atomic_fetch_add(&ch->bad, 1);
	return NULL;
}

static void test_space_threads(void **state)
{
	struct churn ch = {.sp = space()};
	pthread_t t1, t2;
	uint64_t bus;

	(void)state;
	ch.a = tu_open_claimed(A_URI);
	ch.b = tu_open_claimed(DART_URI);
	ch.mem = tu_pages(1);
	atomic_init(&ch.bad, 0);
	atomic_init(&ch.stop, 0);
	assert_int_equal(upci_dma_space_join(ch.sp, ch.a), 0);
	assert_int_equal(pthread_create(&t1, NULL, mapper, &ch), 0);
	assert_int_equal(pthread_create(&t2, NULL, joiner, &ch), 0);
	pthread_join(t2, NULL);
	atomic_store(&ch.stop, 1);
	pthread_join(t1, NULL);
	assert_int_equal(atomic_load(&ch.bad), 0);
	/* Nothing left behind in either device. */
	assert_int_equal(upci_dma_vaddr_to_bus(ch.a, ch.mem, 1, NULL, &bus), -ENOENT);
	assert_int_equal(upci_dma_vaddr_to_bus(ch.b, ch.mem, 1, NULL, &bus), -ENOENT);
	assert_int_equal(upci_dma_space_leave(ch.sp, ch.a), 0);
	assert_int_equal(upci_dma_space_destroy(ch.sp), 0);
}

/* One device's DMA while the other member maps and unmaps the memory in
 * the shared IOMMU: the device sees the mapping or a fault, never memory
 * the IOMMU no longer holds (ASan would catch the model using a freed
 * region). */
struct racer {
	upci_dev *b;
	atomic_int stop, bad, runs;
};

static void *dma_loop(void *arg)
{
	struct racer *r = arg;

	while (!atomic_load(&r->stop)) {
		/* RAM -> the edu's buffer, 64 bytes at 0x200000 (there or not). */
		if (upci_mmio_write(r->b, 0, 0x80, 8, 0x200000) || upci_mmio_write(r->b, 0, 0x88, 8, 0x40000) ||
		    upci_mmio_write(r->b, 0, 0x90, 8, 64) || upci_mmio_write(r->b, 0, 0x98, 8, 1))
			atomic_fetch_add(&r->bad, 1);
		atomic_fetch_add(&r->runs, 1);
	}
	return NULL;
}

static void test_space_unmap_race(void **state)
{
	const uint64_t ps = tu_page();
	upci_dma_space *sp = space();
	struct racer r;
	upci_dev *a = tu_open_claimed(A_URI);
	uint8_t *src = tu_pages(1);
	pthread_t t;
	uint64_t bus;

	(void)state;
	r.b = tu_open_claimed(B_URI);
	atomic_init(&r.stop, 0);
	atomic_init(&r.bad, 0);
	atomic_init(&r.runs, 0);
	assert_int_equal(upci_dma_space_join(sp, a), 0);
	assert_int_equal(upci_dma_space_join(sp, r.b), 0);
	tu_bus_master(r.b);
	assert_int_equal(pthread_create(&t, NULL, dma_loop, &r), 0);
	for (int i = 0; i < 3000; i++) {
		assert_int_equal(upci_dma_map(a, 0x200000, src, ps, 0, &bus), 0);
		assert_int_equal(upci_dma_unmap(a, 0x200000), 0);
	}
	atomic_store(&r.stop, 1);
	pthread_join(t, NULL);
	assert_int_equal(atomic_load(&r.bad), 0);
	assert_true(atomic_load(&r.runs) > 0);
	tu_close(a);
	tu_close(r.b);
	assert_int_equal(upci_dma_space_destroy(sp), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_space_args, tu_teardown),
		cmocka_unit_test_teardown(test_space_join_rules, tu_teardown),
		cmocka_unit_test_teardown(test_space_shared, tu_teardown),
		cmocka_unit_test_teardown(test_space_fanout, tu_teardown),
		cmocka_unit_test_teardown(test_space_ranges, tu_teardown),
		cmocka_unit_test_teardown(test_space_leave_rejoin, tu_teardown),
		cmocka_unit_test_teardown(test_space_threads, tu_teardown),
		cmocka_unit_test_teardown(test_space_unmap_race, tu_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

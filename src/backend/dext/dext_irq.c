/* SPDX-License-Identifier: MIT */
/*
 * The interrupt bridge of one connection: the driver's async notification
 * turned into upci__irq_raise() on the handle that enabled interrupts.
 *
 * WaitInterrupt is one-shot. Its completion runs irq_completed() on the
 * connection's serial dispatch queue, which drains the pending words (an atomic
 * exchange on the mapped interrupt page, or CheckInterrupt when the page
 * could not be mapped), raises each vector, then re-arms. Nothing is lost
 * in between: a vector that fires after the drain sets its pending bit, and
 * the driver completes a WaitInterrupt at once when a bit is pending.
 *
 * The driver's own mask (SetIRQMask) stays all ones: a vector whose bit is
 * clear there is dropped by the driver, not latched, while upci promises
 * that a masked vector stays pending until unmasked. Core's irq_state does
 * the masking and latching (upci_irq_set_mask never reaches the driver).
 *
 * dext_irq_poll() drains the page from the caller's thread as well (after a
 * register access that may have made the device interrupt); both drains
 * are atomic exchanges, so each pending bit is delivered once.
 *
 * The driver keeps interrupts set up until the connection closes, so
 * "disabled" here means detached: vectors arriving with no handle attached
 * are drained and dropped, as a disabled MSI would not have been sent.
 *
 * When the instance goes away the driver drops the armed WaitInterrupt
 * without completing it; the connection's termination notice wakes the
 * waiters (dext_conn.c). A re-arm that finds the instance gone says so.
 */
#include <errno.h>
#include <stdlib.h>

#include "dext.h"
#include "log.h"

struct dext_irq {
	io_connect_t conn;
	mach_port_t wake_port;      /* the connection's notification port */
	void (*lost)(void *arg);
	void *lost_arg;
	struct dext_irq_page *page; /* the mapped state page, or NULL */
	pthread_mutex_t lock;       /* held by irq_completed() throughout */
	struct upci_dev *target;    /* NULL: detached */
	unsigned nvec;
	int closing;
};

static void irq_completed(void *refcon, IOReturn result, void **args, uint32_t nargs);

/* Caller holds q->lock. */
static int arm(struct dext_irq *q)
{
	int ret = dext_wait_interrupt(q->conn, q->wake_port, irq_completed, q);

	if (ret)
		LOG_ERR("dext: re-arming WaitInterrupt failed: %s; no more interrupts will arrive",
			upci_strerror(ret));
	return ret;
}

static int drain(struct dext_irq *q, uint64_t bits[DEXT_IRQ_WORDS])
{
	if (!q->page)
		return dext_check_interrupt(q->conn, bits);
	/* The driver ORs bits in atomically; take each word whole. */
	for (unsigned w = 0; w < DEXT_IRQ_WORDS; w++)
		bits[w] = __atomic_exchange_n(&q->page->pending[w], 0, __ATOMIC_ACQ_REL);
	return 0;
}

static void deliver(struct dext_irq *q, const uint64_t bits[DEXT_IRQ_WORDS])
{
	for (unsigned w = 0; w < DEXT_IRQ_WORDS; w++) {
		uint64_t b = bits[w];

		while (b) {
			unsigned vec = 64 * w + (unsigned)__builtin_ctzll(b);

			b &= b - 1;
			if (q->target && vec < q->nvec)
				upci__irq_raise(q->target, vec);
		}
	}
}

void dext_irq_poll(struct dext_irq *q)
{
	uint64_t bits[DEXT_IRQ_WORDS];
	int any = 0;

	if (!q->page)
		return; /* CheckInterrupt would cost a round trip every time */
	for (unsigned w = 0; w < DEXT_IRQ_WORDS; w++)
		any |= __atomic_load_n(&q->page->pending[w], __ATOMIC_RELAXED) != 0;
	if (!any)
		return;
	pthread_mutex_lock(&q->lock);
	if (!q->closing && drain(q, bits) == 0)
		deliver(q, bits); /* the completion will find less, or nothing */
	pthread_mutex_unlock(&q->lock);
}

static void irq_completed(void *refcon, IOReturn result, void **args, uint32_t nargs)
{
	struct dext_irq *q = refcon;
	uint64_t bits[DEXT_IRQ_WORDS];
	int ret;

	(void)args;
	(void)nargs;
	pthread_mutex_lock(&q->lock);
	if (q->closing) {
		pthread_mutex_unlock(&q->lock);
		return;
	}
	if (result != kIOReturnSuccess)
		LOG_WARN("dext: WaitInterrupt completed with %s", dext_kr_name(result));
	ret = drain(q, bits);
	if (ret == 0)
		deliver(q, bits);
	else
		LOG_ERR("dext: CheckInterrupt failed; pending vectors may be late");
	if (ret != -ENODEV)
		ret = arm(q);
	pthread_mutex_unlock(&q->lock);
	if (ret == -ENODEV)
		q->lost(q->lost_arg);
}

int dext_irq_create(io_connect_t c, IONotificationPortRef port, void (*lost)(void *arg), void *arg,
		    struct dext_irq **out)
{
	static const uint64_t all[DEXT_IRQ_WORDS] = {UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX};
	struct dext_irq *q = calloc(1, sizeof(*q));
	uint64_t size = 0;
	void *page = NULL;
	int ret;

	if (!q)
		return -ENOMEM;
	q->conn = c;
	q->lost = lost;
	q->lost_arg = arg;
	q->wake_port = IONotificationPortGetMachPort(port);
	pthread_mutex_init(&q->lock, NULL);
	ret = dext_set_irq_mask(c, all);
	if (ret) {
		LOG_ERR("dext: SetIRQMask: %s", upci_strerror(ret));
		goto fail;
	}
	/* The page saves a Mach round trip per drain; CheckInterrupt is the
	 * same atomic exchange done by the driver. */
	if (dext_map(c, DEXT_MEM_IRQ_STATE, kIOMapDefaultCache, &page, &size) == 0) {
		if (size >= sizeof(struct dext_irq_page))
			q->page = page;
		else
			dext_unmap(c, DEXT_MEM_IRQ_STATE, page);
	}
	if (!q->page)
		LOG_INFO("dext: interrupt page not mappable; draining with CheckInterrupt");
	pthread_mutex_lock(&q->lock);
	ret = arm(q);
	pthread_mutex_unlock(&q->lock);
	if (ret)
		goto fail;
	*out = q;
	return 0;
fail:
	if (q->page)
		dext_unmap(c, DEXT_MEM_IRQ_STATE, q->page);
	pthread_mutex_destroy(&q->lock);
	free(q);
	return ret;
}

void dext_irq_attach(struct dext_irq *q, struct upci_dev *dev, unsigned nvec)
{
	pthread_mutex_lock(&q->lock);
	q->target = dev;
	q->nvec = nvec;
	pthread_mutex_unlock(&q->lock);
}

void dext_irq_detach(struct dext_irq *q)
{
	pthread_mutex_lock(&q->lock);
	q->target = NULL;
	q->nvec = 0;
	pthread_mutex_unlock(&q->lock);
}

void dext_irq_stop(struct dext_irq *q)
{
	pthread_mutex_lock(&q->lock);
	q->closing = 1;
	q->target = NULL;
	pthread_mutex_unlock(&q->lock);
}

void dext_irq_free(struct dext_irq *q, int gone)
{
	if (q->page && !gone)
		dext_unmap(q->conn, DEXT_MEM_IRQ_STATE, q->page);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

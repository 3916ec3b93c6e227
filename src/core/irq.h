/* SPDX-License-Identifier: MIT */
/*
 * IRQ state shared by every backend: 256 pending bits, a 256-bit enable
 * mask, and a notifier fd (eventfd on Linux, a non-blocking pipe
 * elsewhere) that is readable while an enabled vector is pending.
 *
 * Guarantees:
 *   - irq_state_raise() is async-signal-safe and lock-free: any thread
 *     (a backend's event thread, a model running in the caller's thread)
 *     may call it at any time, concurrently with take/peek/wait.
 *   - No interrupt is lost: a vector raised concurrently with a take is
 *     returned by that take or by the next one, and the fd is readable
 *     whenever an enabled vector is pending (spurious wake-ups possible).
 *   - A vector raised while masked stays latched until unmasked; unmasking
 *     a latched vector makes the fd readable.
 */
#ifndef UPCI_CORE_IRQ_H
#define UPCI_CORE_IRQ_H

#include <stdatomic.h>
#include <stdint.h>

#define IRQ_VECTORS 256u
#define IRQ_WORDS   (IRQ_VECTORS / 64u)

struct irq_state {
	_Atomic uint64_t pending[IRQ_WORDS];
	_Atomic uint64_t mask[IRQ_WORDS];  /* bit set = enabled */
	int rfd;  /* read end (the eventfd itself on Linux) */
	int wfd;  /* write end (== rfd for eventfd) */
};

/* Creates the notifier; pending clear, mask all ones. 0 or -errno. */
int irq_state_init(struct irq_state *s);
void irq_state_fini(struct irq_state *s);

/* Clear every pending bit and drain the notifier; mask back to all ones. */
void irq_state_clear(struct irq_state *s);

/* Latch vector @vec (< 256; larger values are ignored) and, if enabled,
 * signal the fd. */
void irq_state_raise(struct irq_state *s, unsigned vec);

/* Set the mask; signals the fd if a now-enabled vector is latched. */
void irq_state_set_mask(struct irq_state *s, const uint64_t mask[IRQ_WORDS]);
void irq_state_get_mask(struct irq_state *s, uint64_t mask[IRQ_WORDS]);

/* Read-and-clear the enabled pending bits into out; returns how many. */
int irq_state_take(struct irq_state *s, uint64_t out[IRQ_WORDS]);

/* Copy all pending bits (masked ones too); returns how many. */
int irq_state_peek(struct irq_state *s, uint64_t out[IRQ_WORDS]);

/* Wait up to timeout_ms (-1 forever) for an enabled vector, then take.
 * Returns count >= 1, -ETIMEDOUT, -EINTR or another -errno from poll. */
int irq_state_wait(struct irq_state *s, int timeout_ms, uint64_t out[IRQ_WORDS]);

#endif /* UPCI_CORE_IRQ_H */

/* SPDX-License-Identifier: MIT */
/* The shim's libdispatch: a serial queue is a thread running its work
 * items in order. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <dispatch/dispatch.h>

struct work {
	struct work *next;
	dispatch_function_t fn;
	void *ctx;
	int *done; /* dispatch_sync_f waits on it */
};

struct dispatch_queue_s {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct work *head, *tail;
	int exiting;
	pthread_t thread;
	char label[64];
};

static void *queue_main(void *arg)
{
	struct dispatch_queue_s *q = arg;
	int detached;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		struct work *w = q->head;

		if (!w) {
			if (q->exiting)
				break;
			pthread_cond_wait(&q->cond, &q->lock);
			continue;
		}
		q->head = w->next;
		if (!q->head)
			q->tail = NULL;
		pthread_mutex_unlock(&q->lock);
		w->fn(w->ctx);
		pthread_mutex_lock(&q->lock);
		if (w->done) {
			*w->done = 1;
			pthread_cond_broadcast(&q->cond);
		}
		free(w);
	}
	detached = q->exiting == 2;
	pthread_mutex_unlock(&q->lock);
	if (detached) { /* released from its own work item: nobody joins */
		pthread_cond_destroy(&q->cond);
		pthread_mutex_destroy(&q->lock);
		free(q);
	}
	return NULL;
}

dispatch_queue_t dispatch_queue_create(const char *label, dispatch_queue_attr_t attr)
{
	struct dispatch_queue_s *q = calloc(1, sizeof(*q));

	(void)attr; /* serial is the only kind here */
	if (!q)
		return NULL;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	if (label)
		strncpy(q->label, label, sizeof(q->label) - 1);
	if (pthread_create(&q->thread, NULL, queue_main, q) != 0) {
		pthread_cond_destroy(&q->cond);
		pthread_mutex_destroy(&q->lock);
		free(q);
		return NULL;
	}
	return q;
}

static void enqueue(struct dispatch_queue_s *q, struct work *w)
{
	pthread_mutex_lock(&q->lock);
	if (q->tail)
		q->tail->next = w;
	else
		q->head = w;
	q->tail = w;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

void dispatch_async_f(dispatch_queue_t q, void *ctx, dispatch_function_t fn)
{
	struct work *w = calloc(1, sizeof(*w));

	if (!w)
		return; /* libdispatch cannot fail here either */
	w->fn = fn;
	w->ctx = ctx;
	enqueue(q, w);
}

void dispatch_sync_f(dispatch_queue_t q, void *ctx, dispatch_function_t fn)
{
	struct work *w;
	int done = 0;

	if (pthread_equal(pthread_self(), q->thread)) {
		fn(ctx); /* libdispatch would deadlock; run it in place */
		return;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return;
	w->fn = fn;
	w->ctx = ctx;
	w->done = &done;
	enqueue(q, w);
	pthread_mutex_lock(&q->lock);
	while (!done)
		pthread_cond_wait(&q->cond, &q->lock);
	pthread_mutex_unlock(&q->lock);
}

/* The last (only) reference: the queue finishes its work, then goes. */
void dispatch_release(dispatch_object_t object)
{
	struct dispatch_queue_s *q = object._dq;
	int self = pthread_equal(pthread_self(), q->thread);

	pthread_mutex_lock(&q->lock);
	q->exiting = self ? 2 : 1;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
	if (self) {
		pthread_detach(q->thread);
		return;
	}
	pthread_join(q->thread, NULL);
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

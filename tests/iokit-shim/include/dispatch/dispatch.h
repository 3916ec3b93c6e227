/* SPDX-License-Identifier: MIT */
/*
 * Linux test shim for Apple's <dispatch/dispatch.h> (libdispatch, plain C
 * object model): only the declarations upci's dext backend uses. Serial
 * queues run their work items in order on one thread of their own.
 */
#ifndef UPCI_SHIM_DISPATCH_H
#define UPCI_SHIM_DISPATCH_H

#include <stddef.h>

typedef struct dispatch_queue_s *dispatch_queue_t;
typedef struct dispatch_queue_attr_s *dispatch_queue_attr_t;
typedef union {
	struct dispatch_object_s *_do;
	struct dispatch_queue_s *_dq;
} dispatch_object_t __attribute__((__transparent_union__));
typedef void (*dispatch_function_t)(void *);

#define DISPATCH_QUEUE_SERIAL NULL

dispatch_queue_t dispatch_queue_create(const char *label, dispatch_queue_attr_t attr);
void dispatch_async_f(dispatch_queue_t queue, void *context, dispatch_function_t work);
void dispatch_sync_f(dispatch_queue_t queue, void *context, dispatch_function_t work);
void dispatch_release(dispatch_object_t object);

#endif

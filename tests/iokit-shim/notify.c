/* SPDX-License-Identifier: MIT */
/*
 * Notification ports: where the driver model's async completions and
 * interest messages go. Each is queued on the port's dispatch queue and
 * calls the client's IOAsyncCallback or IOServiceInterestCallback there; a
 * port destroyed before it runs delivers nothing (as a cancelled dispatch
 * source does, IOKitLib.c IONotificationPortDestroy). Ports are counted by
 * the client's reference, one per interest notification and one per
 * message in flight.
 */
#include <stdlib.h>

#include "shim.h"

IONotificationPortRef IONotificationPortCreate(mach_port_t mainPort)
{
	struct IONotificationPort *p;

	if (mainPort != kIOMainPortDefault)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->refs = 1;
	pthread_mutex_lock(&shim_lock);
	p->name = shim_name_new(SHIM_PORT, p);
	pthread_mutex_unlock(&shim_lock);
	if (p->name == IO_OBJECT_NULL) {
		free(p);
		return NULL;
	}
	return p;
}

void shim_port_ref(struct IONotificationPort *p)
{
	p->refs++;
}

void shim_port_unref(struct IONotificationPort *p)
{
	if (--p->refs == 0)
		free(p);
}

void IONotificationPortDestroy(IONotificationPortRef p)
{
	if (!p)
		return;
	pthread_mutex_lock(&shim_lock);
	p->destroyed = 1;
	shim_name_free(p->name);
	shim_port_unref(p);
	pthread_mutex_unlock(&shim_lock);
}

mach_port_t IONotificationPortGetMachPort(IONotificationPortRef p)
{
	return p ? p->name : MACH_PORT_NULL;
}

void IONotificationPortSetDispatchQueue(IONotificationPortRef p, dispatch_queue_t queue)
{
	pthread_mutex_lock(&shim_lock);
	p->queue = queue;
	pthread_mutex_unlock(&shim_lock);
}

struct completion {
	struct IONotificationPort *port;
	uint64_t fn, refcon;
	int interest;         /* an interest message, not an async completion */
	io_service_t service;
	uint32_t msg;
};

/* On the port's queue: a port destroyed meanwhile delivers nothing. */
static void deliver(void *arg)
{
	struct completion *m = arg;
	int alive;

	pthread_mutex_lock(&shim_lock);
	alive = !m->port->destroyed;
	shim_port_unref(m->port);
	pthread_mutex_unlock(&shim_lock);
	if (alive && m->fn && m->interest)
		((IOServiceInterestCallback)(uintptr_t)m->fn)((void *)(uintptr_t)m->refcon, m->service, m->msg, NULL);
	else if (alive && m->fn)
		((IOAsyncCallback)(uintptr_t)m->fn)((void *)(uintptr_t)m->refcon, kIOReturnSuccess, NULL, 0);
	free(m);
}

static void post(struct IONotificationPort *p, struct completion *m)
{
	m->port = p;
	shim_port_ref(p);
	dispatch_async_f(p->queue, m, deliver);
}

void shim_port_complete(struct IONotificationPort *p, uint64_t fn, uint64_t refcon)
{
	struct completion *m;

	if (p->destroyed || !p->queue || !(m = calloc(1, sizeof(*m))))
		return;
	m->fn = fn;
	m->refcon = refcon;
	post(p, m);
}

void shim_port_message(struct IONotificationPort *p, uint64_t fn, uint64_t refcon, io_service_t service,
		       uint32_t msg)
{
	struct completion *m;

	if (p->destroyed || !p->queue || !(m = calloc(1, sizeof(*m))))
		return;
	m->fn = fn;
	m->refcon = refcon;
	m->interest = 1;
	m->service = service;
	m->msg = msg;
	post(p, m);
}

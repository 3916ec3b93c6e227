/* SPDX-License-Identifier: MIT */
/*
 * The shim's IOKit calls: object names, the registry walk, connections,
 * scalar and async methods, memory mapping and notification ports. The
 * driver-side behaviour is in drv*.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shim.h"

pthread_mutex_t shim_lock = PTHREAD_MUTEX_INITIALIZER;
unsigned shim_faults;
mach_port_t mach_task_self_ = 0x103;
const mach_port_t kIOMainPortDefault = MACH_PORT_NULL;

/* ---- object names: nonzero, and reused as late as possible so that a
 * stale name is caught rather than aliased ---- */

#define NAME_BASE 0x1000u
#define MAX_NAMES 8192u

static struct {
	enum shim_kind kind;
	void *obj;
} names[MAX_NAMES];
static unsigned name_cursor;

io_object_t shim_name_new(enum shim_kind kind, void *obj)
{
	for (unsigned i = 0; i < MAX_NAMES; i++) {
		unsigned n = (name_cursor + i) % MAX_NAMES;

		if (!names[n].kind) {
			names[n].kind = kind;
			names[n].obj = obj;
			name_cursor = n + 1;
			return NAME_BASE + n;
		}
	}
	return IO_OBJECT_NULL;
}

void *shim_name_get(io_object_t name, enum shim_kind kind)
{
	if (name < NAME_BASE || name - NAME_BASE >= MAX_NAMES || names[name - NAME_BASE].kind != kind)
		return NULL;
	return names[name - NAME_BASE].obj;
}

void shim_name_free(io_object_t name)
{
	if (name >= NAME_BASE && name - NAME_BASE < MAX_NAMES)
		names[name - NAME_BASE].kind = 0;
}

unsigned shim_names_live(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < MAX_NAMES; i++)
		n += names[i].kind != 0;
	return n;
}

void shim_names_drop(void)
{
	for (unsigned i = 0; i < MAX_NAMES; i++) {
		if (names[i].kind == SHIM_ITERATOR)
			free(names[i].obj);
		if (names[i].kind != SHIM_PORT)
			names[i].kind = 0;
	}
}

/* ---- the call log and scripted answers ---- */

static struct iokit_shim_call last_call;
static struct iokit_shim_map last_map;
static struct {
	int armed;
	kern_return_t kr;
	uint32_t n;
	uint64_t out[IOKIT_SHIM_MAX_SCALARS];
} script[DEXT_SEL_COUNT];
static iokit_shim_hook_fn wait_hook;
static void *wait_hook_arg;

void iokit_shim_last_call(struct iokit_shim_call *out)
{
	pthread_mutex_lock(&shim_lock);
	*out = last_call;
	pthread_mutex_unlock(&shim_lock);
}

void iokit_shim_last_map(struct iokit_shim_map *out)
{
	pthread_mutex_lock(&shim_lock);
	*out = last_map;
	pthread_mutex_unlock(&shim_lock);
}

void iokit_shim_script(uint32_t selector, kern_return_t kr, const uint64_t *out, uint32_t n)
{
	if (selector >= DEXT_SEL_COUNT || n > IOKIT_SHIM_MAX_SCALARS)
		return;
	pthread_mutex_lock(&shim_lock);
	script[selector].armed = 1;
	script[selector].kr = kr;
	script[selector].n = n;
	if (n)
		memcpy(script[selector].out, out, n * sizeof(*out));
	pthread_mutex_unlock(&shim_lock);
}

void iokit_shim_set_faults(unsigned faults)
{
	pthread_mutex_lock(&shim_lock);
	shim_faults = faults;
	pthread_mutex_unlock(&shim_lock);
}

void iokit_shim_set_wait_hook(iokit_shim_hook_fn fn, void *arg)
{
	pthread_mutex_lock(&shim_lock);
	wait_hook = fn;
	wait_hook_arg = arg;
	pthread_mutex_unlock(&shim_lock);
}

static void log_call(uint32_t sel, const uint64_t *in, uint32_t nin, const uint32_t *nout, int async, uint32_t nref)
{
	unsigned seq = last_call.seq + 1;

	memset(&last_call, 0, sizeof(last_call));
	last_call.selector = sel;
	last_call.nin = nin;
	for (uint32_t i = 0; i < nin && i < IOKIT_SHIM_MAX_SCALARS && in; i++)
		last_call.in[i] = in[i];
	last_call.out_cap = nout ? *nout : 0;
	last_call.async = async;
	last_call.ref_cnt = nref;
	last_call.seq = seq;
}

/* A scripted answer for @sel, if one is armed. Caller holds shim_lock. */
static int scripted(uint32_t sel, uint64_t *out, uint32_t *nout, kern_return_t *kr)
{
	if (sel >= DEXT_SEL_COUNT || !script[sel].armed)
		return 0;
	script[sel].armed = 0;
	*kr = script[sel].kr;
	if (nout) {
		uint32_t n = script[sel].n < *nout ? script[sel].n : *nout;

		if (out && n)
			memcpy(out, script[sel].out, n * sizeof(*out));
		*nout = script[sel].n;
	}
	return 1;
}

/* ---- registry ---- */

struct shim_iter {
	unsigned n, pos;
	struct drv_dev *dev[64];
};

CFMutableDictionaryRef IOServiceMatching(const char *name)
{
	return name ? shim_cfdict_new(name) : NULL;
}

kern_return_t IOServiceGetMatchingServices(mach_port_t mainPort, CFDictionaryRef matching, io_iterator_t *existing)
{
	const char *cls = shim_cfdict_class(matching);
	struct shim_iter *it;
	kern_return_t kr = kIOReturnSuccess;

	if (mainPort != kIOMainPortDefault || !cls || !existing) {
		CFRelease(matching);
		return kIOReturnBadArgument;
	}
	it = calloc(1, sizeof(*it));
	pthread_mutex_lock(&shim_lock);
	drv_ensure_init();
	if (!it) {
		kr = kIOReturnNoMemory;
	} else if (strcmp(cls, DEXT_SERVICE_CLASS) == 0) {
		/* Every driver instance the shim has is an IOUserService. */
		for (struct drv_dev *d = shim_devices; d && it->n < 64; d = d->next)
			if (!d->terminated)
				it->dev[it->n++] = d;
	}
	if (kr == kIOReturnSuccess) {
		*existing = shim_name_new(SHIM_ITERATOR, it);
		if (*existing == IO_OBJECT_NULL)
			kr = kIOReturnNoResources;
	}
	pthread_mutex_unlock(&shim_lock);
	if (kr != kIOReturnSuccess)
		free(it);
	CFRelease(matching); /* consumed, as IOKit does */
	return kr;
}

io_object_t IOIteratorNext(io_iterator_t iterator)
{
	struct shim_iter *it;
	io_object_t s = IO_OBJECT_NULL;

	pthread_mutex_lock(&shim_lock);
	it = shim_name_get(iterator, SHIM_ITERATOR);
	if (it && it->pos < it->n)
		s = shim_name_new(SHIM_SERVICE, it->dev[it->pos++]);
	pthread_mutex_unlock(&shim_lock);
	return s;
}

kern_return_t IOObjectRelease(io_object_t object)
{
	static const enum shim_kind entries[] = {SHIM_SERVICE, SHIM_PCIDEV, SHIM_BRIDGE, SHIM_ROOTPORT,
						 SHIM_HOSTBRIDGE};
	kern_return_t kr = KERN_INVALID_ARGUMENT;
	void *p;

	pthread_mutex_lock(&shim_lock);
	if ((p = shim_name_get(object, SHIM_ITERATOR)) != NULL) {
		free(p);
		shim_name_free(object);
		kr = kIOReturnSuccess;
	} else if (shim_interest_release(object)) {
		kr = kIOReturnSuccess;
	}
	for (size_t i = 0; kr != kIOReturnSuccess && i < sizeof(entries) / sizeof(entries[0]); i++)
		if (shim_name_get(object, entries[i])) {
			shim_name_free(object);
			kr = kIOReturnSuccess;
		}
	pthread_mutex_unlock(&shim_lock);
	return kr;
}

/* ---- connections ---- */

kern_return_t IOServiceOpen(io_service_t service, task_port_t owningTask, uint32_t type, io_connect_t *connect)
{
	struct drv_client *c = NULL;
	struct drv_dev *d;
	kern_return_t kr;

	pthread_mutex_lock(&shim_lock);
	d = shim_name_get(service, SHIM_SERVICE);
	if (!d || owningTask != mach_task_self() || !connect)
		kr = kIOReturnBadArgument;
	else if (strcmp(d->user_class, DEXT_USER_CLASS) != 0 || type != DEXT_CLIENT_TYPE)
		kr = kIOReturnUnsupported; /* a decoy, or another client type */
	else if (shim_faults & IOKIT_SHIM_DENY_OPEN)
		kr = kIOReturnNotPermitted;
	else if (d->terminated)
		kr = kIOReturnNotAttached;
	else
		kr = drv_open(d, &c);
	if (kr == kIOReturnSuccess)
		d->opens++;
	if (kr == kIOReturnSuccess) {
		c->name = shim_name_new(SHIM_CONNECT, c);
		*connect = c->name;
	}
	pthread_mutex_unlock(&shim_lock);
	return kr;
}

kern_return_t IOServiceClose(io_connect_t connect)
{
	struct drv_client *c;

	pthread_mutex_lock(&shim_lock);
	c = shim_name_get(connect, SHIM_CONNECT);
	if (c) {
		shim_name_free(connect);
		drv_close(c);
	}
	pthread_mutex_unlock(&shim_lock);
	return c ? kIOReturnSuccess : kIOReturnBadArgument;
}

/*
 * The client behind @name, or the Mach error a dead connection gives.
 * Once the instance is terminated the connection still exists (the
 * client holds its port until IOServiceClose) but every call into the
 * dext fails: kIOReturnOffline from IOUserServer::rpc or ::instantiate
 * for an inactive service, MIG_SERVER_DIED when the dext process died
 * (xnu IOUserServer.cpp).
 */
static kern_return_t client_of(mach_port_t name, struct drv_client **c)
{
	*c = shim_name_get(name, SHIM_CONNECT);
	if (!*c)
		return MACH_SEND_INVALID_DEST;
	if ((*c)->d->terminated)
		return (*c)->d->dead_kr;
	return kIOReturnSuccess;
}

kern_return_t IOConnectCallScalarMethod(mach_port_t connection, uint32_t selector, const uint64_t *input,
					uint32_t inputCnt, uint64_t *output, uint32_t *outputCnt)
{
	struct drv_client *c;
	kern_return_t kr;

	pthread_mutex_lock(&shim_lock);
	log_call(selector, input, inputCnt, outputCnt, 0, 0);
	kr = client_of(connection, &c);
	if (kr == kIOReturnSuccess && !scripted(selector, output, outputCnt, &kr)) {
		kr = drv_call(c, selector, input, inputCnt, output, outputCnt);
		drv_irq_poll_device(c->d);
	}
	last_call.kr = kr;
	pthread_mutex_unlock(&shim_lock);
	return kr;
}

kern_return_t IOConnectCallAsyncScalarMethod(mach_port_t connection, uint32_t selector, mach_port_t wake_port,
					     uint64_t *reference, uint32_t referenceCnt, const uint64_t *input,
					     uint32_t inputCnt, uint64_t *output, uint32_t *outputCnt)
{
	iokit_shim_hook_fn hook;
	void *hook_arg;
	struct IONotificationPort *p;
	struct drv_client *c;
	kern_return_t kr;

	(void)output;
	pthread_mutex_lock(&shim_lock);
	hook = wait_hook;
	hook_arg = wait_hook_arg;
	pthread_mutex_unlock(&shim_lock);
	if (hook && selector == DEXT_SEL_WAIT_INTERRUPT)
		hook(hook_arg); /* the window between the client's drain and this arm */
	pthread_mutex_lock(&shim_lock);
	log_call(selector, input, inputCnt, outputCnt, 1, referenceCnt);
	kr = client_of(connection, &c);
	p = shim_name_get(wake_port, SHIM_PORT);
	if (kr == kIOReturnSuccess && scripted(selector, output, outputCnt, &kr))
		; /* answered */
	else if (kr != kIOReturnSuccess)
		; /* dead connection */
	else if (!p)
		kr = kIOReturnBadArgument;
	else if (selector != DEXT_SEL_WAIT_INTERRUPT)
		kr = kIOReturnUnsupported; /* the driver's only async method */
	else
		kr = drv_irq_wait(c, p, reference, referenceCnt);
	last_call.kr = kr;
	pthread_mutex_unlock(&shim_lock);
	return kr;
}

kern_return_t IOConnectMapMemory64(io_connect_t connect, uint32_t memoryType, task_port_t intoTask,
				   mach_vm_address_t *atAddress, mach_vm_size_t *ofSize, IOOptionBits options)
{
	struct drv_client *c;
	kern_return_t kr;

	pthread_mutex_lock(&shim_lock);
	kr = client_of(connect, &c);
	if (kr == kIOReturnSuccess && (intoTask != mach_task_self() || !atAddress || !ofSize))
		kr = kIOReturnBadArgument;
	if (kr == kIOReturnSuccess)
		kr = drv_map(c, memoryType, options, atAddress, ofSize);
	/* xnu IOUserClient.cpp is_io_connect_map_memory_into_task: a mapping
	 * that could not be made is kIOReturnBadArgument, whatever the
	 * driver's CopyClientMemoryForType said. */
	if (kr != kIOReturnSuccess && kr != MACH_SEND_INVALID_DEST)
		kr = kIOReturnBadArgument;
	last_map.type = memoryType;
	last_map.options = options;
	last_map.kr = kr;
	last_map.seq++;
	pthread_mutex_unlock(&shim_lock);
	return kr;
}

kern_return_t IOConnectUnmapMemory64(io_connect_t connect, uint32_t memoryType, task_port_t fromTask,
				     mach_vm_address_t atAddress)
{
	struct drv_client *c;
	kern_return_t kr;

	pthread_mutex_lock(&shim_lock);
	kr = client_of(connect, &c);
	if (kr == kIOReturnSuccess && fromTask != mach_task_self())
		kr = kIOReturnBadArgument;
	/* Unmapping asks the driver for the memory again (xnu IOUserClient.cpp
	 * is_io_connect_unmap_memory_from_task): its error comes back as is. */
	if (kr == kIOReturnSuccess)
		kr = drv_unmap(c, memoryType, atAddress);
	pthread_mutex_unlock(&shim_lock);
	return kr;
}

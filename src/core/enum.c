/* SPDX-License-Identifier: MIT */
/* upci_enumerate(): what each backend can reach, collected into one array. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "core.h"
#include "log.h"

/* More than any host has PCI functions (sysfs walks stop at 4096). */
#define ENUM_MAX 65536u

int core_enum_add(struct upci_enum_sink *sink, const struct upci_found *e)
{
	struct upci_found *f;

	if (sink->n == sink->cap) {
		size_t cap = sink->cap ? sink->cap * 2 : 16;
		struct upci_found *v;

		if (cap > ENUM_MAX)
			return -ENOMEM;
		v = realloc(sink->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		sink->v = v;
		sink->cap = cap;
	}
	f = &sink->v[sink->n++];
	*f = *e;
	/* Every string ends inside its array, whatever the backend did. */
	f->uri[sizeof(f->uri) - 1] = '\0';
	f->driver[sizeof(f->driver) - 1] = '\0';
	f->why[sizeof(f->why) - 1] = '\0';
	f->id.name[sizeof(f->id.name) - 1] = '\0';
	snprintf(f->id.backend, sizeof(f->id.backend), "%s", sink->scheme);
	return 0;
}

/* One backend's entries; on failure what it added is taken back. */
static int list_one(const struct upci_backend_ops *ops, struct upci_enum_sink *sink)
{
	size_t before = sink->n;
	int ret;

	if (!ops->enumerate)
		return -ENOTSUP;
	sink->scheme = ops->scheme;
	ret = ops->enumerate(sink);
	if (ret) {
		sink->n = before;
		LOG_DBG("upci_enumerate(%s): %s", ops->scheme, upci_strerror(ret));
	}
	return ret;
}

UPCI_API int upci_enumerate(const char *scheme, struct upci_found **list, size_t *count)
{
	struct upci_enum_sink sink = {0};
	const struct upci_backend_ops *ops;
	int ret = 0;

	if (!list || !count)
		return -EINVAL;
	*list = NULL;
	*count = 0;
	if (scheme) {
		ret = core_backend_by_name(scheme, &ops);
		if (ret == 0)
			ret = ops ? list_one(ops, &sink) : -ENOTSUP;
	} else {
		for (unsigned i = 0; core_backend_at(i, &ops) == 0; i++)
			if (ops && list_one(ops, &sink) == -ENOMEM) {
				ret = -ENOMEM;
				break;
			}
	}
	if (ret || sink.n == 0) {
		free(sink.v);
		return ret;
	}
	*list = sink.v;
	*count = sink.n;
	return 0;
}

UPCI_API void upci_enumerate_free(struct upci_found *list)
{
	free(list);
}

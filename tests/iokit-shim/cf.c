/* SPDX-License-Identifier: MIT */
/* The shim's CoreFoundation: strings (constant ones interned) and the
 * matching dictionary IOServiceMatching returns. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "shim.h"

#define CF_STRING 0x43465354u /* "CFST" */
#define CF_DICT   0x43464443u /* "CFDC" */

struct __CFString {
	uint32_t kind;
	int refs; /* -1: constant, never freed */
	struct __CFString *next_const;
	char str[];
};

struct __CFDictionary {
	uint32_t kind;
	int refs;
	char class_name[64];
};

const CFAllocatorRef kCFAllocatorDefault = NULL;

static pthread_mutex_t const_lock = PTHREAD_MUTEX_INITIALIZER;
static struct __CFString *consts;

static struct __CFString *string_new(const char *s, int refs)
{
	size_t n = strlen(s) + 1;
	struct __CFString *p = malloc(sizeof(*p) + n);

	if (!p)
		return NULL;
	p->kind = CF_STRING;
	p->refs = refs;
	p->next_const = NULL;
	memcpy(p->str, s, n);
	return p;
}

CFStringRef __CFStringMakeConstantString(const char *cStr)
{
	struct __CFString *p;

	pthread_mutex_lock(&const_lock);
	for (p = consts; p; p = p->next_const)
		if (strcmp(p->str, cStr) == 0)
			break;
	if (!p) {
		p = string_new(cStr, -1);
		if (p) {
			p->next_const = consts;
			consts = p;
		}
	}
	pthread_mutex_unlock(&const_lock);
	return p;
}

CFStringRef shim_cfstring_new(const char *s)
{
	return string_new(s, 1);
}

CFMutableDictionaryRef shim_cfdict_new(const char *class_name)
{
	struct __CFDictionary *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->kind = CF_DICT;
	d->refs = 1;
	strncpy(d->class_name, class_name, sizeof(d->class_name) - 1);
	return d;
}

const char *shim_cfdict_class(CFDictionaryRef d)
{
	return d && d->kind == CF_DICT ? d->class_name : NULL;
}

Boolean CFEqual(CFTypeRef a, CFTypeRef b)
{
	const struct __CFString *x = a, *y = b;

	if (a == b)
		return 1;
	if (!a || !b || x->kind != CF_STRING || y->kind != CF_STRING)
		return 0;
	return strcmp(x->str, y->str) == 0;
}

void CFRelease(CFTypeRef cf)
{
	uint32_t kind;

	if (!cf)
		return; /* CoreFoundation crashes here; a shim has no reason to */
	memcpy(&kind, cf, sizeof(kind));
	if (kind == CF_STRING) {
		struct __CFString *s = (struct __CFString *)(uintptr_t)cf;

		if (s->refs > 0 && --s->refs == 0)
			free(s);
	} else if (kind == CF_DICT) {
		struct __CFDictionary *d = (struct __CFDictionary *)(uintptr_t)cf;

		if (--d->refs == 0)
			free(d);
	}
}

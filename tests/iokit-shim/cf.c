/* SPDX-License-Identifier: MIT */
/* The shim's CoreFoundation: strings (constant ones interned), data and
 * numbers (registry properties), and the matching dictionary
 * IOServiceMatching returns. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "shim.h"

#define CF_STRING 0x43465354u /* "CFST" */
#define CF_DICT   0x43464443u /* "CFDC" */
#define CF_DATA   0x43464441u /* "CFDA" */
#define CF_NUMBER 0x43464e55u /* "CFNU" */

/* What CFGetTypeID answers; any distinct values do. */
enum { TYPE_STRING = 7, TYPE_DICT, TYPE_DATA, TYPE_NUMBER };

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

struct __CFData {
	uint32_t kind;
	int refs;
	size_t len;
	uint64_t num; /* CF_NUMBER */
	UInt8 bytes[];
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

CFDataRef shim_cfdata_new(const void *bytes, size_t len)
{
	struct __CFData *d = calloc(1, sizeof(*d) + len);

	if (!d)
		return NULL;
	d->kind = CF_DATA;
	d->refs = 1;
	d->len = len;
	memcpy(d->bytes, bytes, len);
	return d;
}

CFTypeRef shim_cfnumber_new(uint64_t v)
{
	struct __CFData *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->kind = CF_NUMBER;
	d->refs = 1;
	d->num = v;
	return d;
}

static uint32_t kind_of(CFTypeRef cf)
{
	uint32_t kind = 0;

	if (cf)
		memcpy(&kind, cf, sizeof(kind));
	return kind;
}

const char *shim_cfstring_cstr(CFStringRef s)
{
	return kind_of(s) == CF_STRING ? s->str : NULL;
}

CFTypeID CFGetTypeID(CFTypeRef cf)
{
	switch (kind_of(cf)) {
	case CF_STRING:
		return TYPE_STRING;
	case CF_DICT:
		return TYPE_DICT;
	case CF_DATA:
		return TYPE_DATA;
	case CF_NUMBER:
		return TYPE_NUMBER;
	default:
		return 0;
	}
}

CFTypeID CFDataGetTypeID(void)
{
	return TYPE_DATA;
}

CFIndex CFDataGetLength(CFDataRef d)
{
	return kind_of(d) == CF_DATA ? (CFIndex)d->len : 0;
}

const UInt8 *CFDataGetBytePtr(CFDataRef d)
{
	return kind_of(d) == CF_DATA ? d->bytes : NULL;
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
	} else if (kind == CF_DATA || kind == CF_NUMBER) {
		struct __CFData *d = (struct __CFData *)(uintptr_t)cf;

		if (--d->refs == 0)
			free(d);
	}
}

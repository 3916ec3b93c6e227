/* SPDX-License-Identifier: MIT */
/* URI parsing; every malformed input gets a sentence saying what is wrong. */
#include "uri.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int uri_fail(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why && whylen) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

const char *uri_scheme_name(enum uri_scheme s)
{
	switch (s) {
	case URI_SIM:
		return "sim";
	case URI_VFIO:
		return "vfio";
	case URI_VFIO_USER:
		return "vfio-user";
	case URI_DEXT:
		return "dext";
	case URI_SYSFS:
		return "sysfs";
	}
	return "?";
}

/* Parse exactly @ndigits..maxdigits hex digits up to @stop; returns the end. */
static const char *hexfield(const char *s, unsigned maxdigits, char stop, uint32_t *out)
{
	uint32_t v = 0;
	unsigned n = 0;

	while (*s && *s != stop) {
		if (!isxdigit((unsigned char)*s) || n == maxdigits)
			return NULL;
		v = v * 16 + (uint32_t)(isdigit((unsigned char)*s) ? *s - '0' : (tolower((unsigned char)*s) - 'a' + 10));
		s++;
		n++;
	}
	if (n == 0 || *s != stop)
		return NULL;
	*out = v;
	return s;
}

int uri_parse_bdf(const char *s, uint32_t *domain, uint8_t *bus, uint8_t *dev, uint8_t *fn, int allow_domain)
{
	uint32_t d = 0, b, dv, f;
	const char *colon2 = NULL;
	int colons = 0;

	for (const char *p = s; *p; p++)
		if (*p == ':') {
			colons++;
			colon2 = p;
		}
	if (colons == 2) {
		if (!allow_domain)
			return -EINVAL;
		s = hexfield(s, 4, ':', &d);
		if (!s)
			return -EINVAL;
		s++;
	} else if (colons != 1) {
		return -EINVAL;
	}
	(void)colon2;
	s = hexfield(s, 2, ':', &b);
	if (!s)
		return -EINVAL;
	s = hexfield(s + 1, 2, '.', &dv);
	if (!s || dv > 0x1f)
		return -EINVAL;
	s = hexfield(s + 1, 1, '\0', &f);
	if (!s || f > 7)
		return -EINVAL;
	*domain = d;
	*bus = (uint8_t)b;
	*dev = (uint8_t)dv;
	*fn = (uint8_t)f;
	return 0;
}

static int parse_sim(const char *rest, struct upci_uri *u, char *why, size_t whylen)
{
	const char *q = strchr(rest, '?');
	size_t mlen = q ? (size_t)(q - rest) : strlen(rest);

	if (mlen == 0)
		return uri_fail(why, whylen, "no model after \"sim:\" (try sim:edu or sim:testdev)");
	if (mlen >= sizeof(u->model))
		return uri_fail(why, whylen, "model name too long");
	for (size_t i = 0; i < mlen; i++)
		if (!isalnum((unsigned char)rest[i]) && rest[i] != '-' && rest[i] != '_')
			return uri_fail(why, whylen, "bad character '%c' in model name", rest[i]);
	memcpy(u->model, rest, mlen);
	u->model[mlen] = '\0';
	if (!q)
		return 0;
	q++;
	if (*q == '\0')
		return uri_fail(why, whylen, "empty parameter list after '?'");
	while (*q) {
		const char *end = q + strcspn(q, ",&");
		const char *eq = memchr(q, '=', (size_t)(end - q));
		struct uri_param *p;
		size_t klen, vlen;

		if (u->params.n == URI_MAX_PARAMS)
			return uri_fail(why, whylen, "more than %d parameters", URI_MAX_PARAMS);
		if (!eq)
			return uri_fail(why, whylen, "parameter \"%.*s\" is not key=value", (int)(end - q), q);
		klen = (size_t)(eq - q);
		vlen = (size_t)(end - eq - 1);
		p = &u->params.p[u->params.n];
		if (klen == 0 || klen >= sizeof(p->key))
			return uri_fail(why, whylen, "bad parameter name in \"%.*s\"", (int)(end - q), q);
		if (vlen == 0 || vlen >= sizeof(p->val))
			return uri_fail(why, whylen, "bad value for parameter \"%.*s\"", (int)klen, q);
		memcpy(p->key, q, klen);
		p->key[klen] = '\0';
		memcpy(p->val, eq + 1, vlen);
		p->val[vlen] = '\0';
		for (unsigned i = 0; i < u->params.n; i++)
			if (strcmp(u->params.p[i].key, p->key) == 0)
				return uri_fail(why, whylen, "parameter \"%s\" given twice", p->key);
		u->params.n++;
		q = *end ? end + 1 : end;
		if (*end && *q == '\0')
			return uri_fail(why, whylen, "trailing separator in parameters");
	}
	return 0;
}

int uri_parse(const char *s, struct upci_uri *u, char *why, size_t whylen)
{
	const char *rest;

	if (why && whylen)
		why[0] = '\0';
	if (!s || !u)
		return uri_fail(why, whylen, "no URI given");
	memset(u, 0, sizeof(*u));
	if (*s == '\0')
		return uri_fail(why, whylen, "empty URI");
	if (strncmp(s, "sim:", 4) == 0) {
		u->scheme = URI_SIM;
		return parse_sim(s + 4, u, why, whylen);
	}
	if (strncmp(s, "vfio-user:", 10) == 0) {
		rest = s + 10;
		u->scheme = URI_VFIO_USER;
		if (*rest == '\0')
			return uri_fail(why, whylen, "no socket path after \"vfio-user:\"");
		if (strlen(rest) >= sizeof(u->path))
			return uri_fail(why, whylen, "socket path too long");
		strcpy(u->path, rest);
		return 0;
	}
	if (strncmp(s, "vfio:", 5) == 0 || strncmp(s, "dext:", 5) == 0 || strncmp(s, "sysfs:", 6) == 0) {
		int dext = s[0] == 'd';
		size_t skip = s[0] == 's' ? 6 : 5;

		u->scheme = dext ? URI_DEXT : s[0] == 's' ? URI_SYSFS : URI_VFIO;
		if (uri_parse_bdf(s + skip, &u->domain, &u->bus, &u->dev, &u->fn, !dext) != 0)
			return uri_fail(why, whylen, "\"%s\" is not a PCI address (%s)", s + skip,
				    dext ? "expected BB:DD.F" : "expected DDDD:BB:DD.F or BB:DD.F");
		return 0;
	}
	if (uri_parse_bdf(s, &u->domain, &u->bus, &u->dev, &u->fn, 1) == 0) {
		u->scheme = URI_VFIO;
		return 0;
	}
	if (strchr(s, ':'))
		return uri_fail(why, whylen, "unknown scheme in \"%s\" (known: sim:, vfio:, vfio-user:, dext:, sysfs:, or a bare BDF)", s);
	return uri_fail(why, whylen, "\"%s\" is neither a URI nor a PCI address", s);
}

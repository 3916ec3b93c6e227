/* SPDX-License-Identifier: MIT */
/* URI parameters for the models: sim:NAME?key=value,... */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

static const struct uri_param *find(const upci_model_params *p, const char *key)
{
	if (!p || !key)
		return NULL;
	for (unsigned i = 0; i < p->u.n && i < URI_MAX_PARAMS; i++)
		if (strcmp(p->u.p[i].key, key) == 0)
			return &p->u.p[i];
	return NULL;
}

int upci_model_param_u64(const upci_model_params *p, const char *key, uint64_t def, uint64_t min, uint64_t max,
			 uint64_t *out)
{
	const struct uri_param *q;
	const char *s;
	char *end = NULL;
	unsigned long long v;

	if (!out || !key)
		return -EINVAL;
	*out = def;
	q = find(p, key);
	if (!q)
		return 0;
	s = q->val;
	/* Decimal or 0x hex only: no octal surprise for "010", no
	 * whitespace or sign that strtoull would accept. */
	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		if (!isxdigit((unsigned char)s[2]))
			return -EINVAL;
		v = strtoull(s + 2, &end, 16);
	} else {
		v = strtoull(s, &end, 10);
	}
	if (errno || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int upci_model_param_str(const upci_model_params *p, const char *key, const char **out)
{
	const struct uri_param *q = find(p, key);

	if (!out)
		return -EINVAL;
	*out = q ? q->val : NULL;
	return q ? 0 : -ENOENT;
}

int upci_model_params_check(const upci_model_params *p, const char *const *known, const char **bad)
{
	if (!p)
		return 0;
	for (unsigned i = 0; i < p->u.n && i < URI_MAX_PARAMS; i++) {
		int ok = 0;

		for (const char *const *k = known; k && *k; k++)
			if (strcmp(*k, p->u.p[i].key) == 0)
				ok = 1;
		if (!ok) {
			if (bad)
				*bad = p->u.p[i].key;
			return -EINVAL;
		}
	}
	return 0;
}

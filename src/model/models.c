/* SPDX-License-Identifier: MIT */
/*
 * The model registry: the built-in models and those a program registers
 * (upci_model_register). Every live instance holds a reference on its
 * entry, so a model cannot be unregistered under an instance.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

struct model_entry {
	struct model_entry *next;
	const struct upci_model_ops *ops;
	unsigned instances;
	int builtin;
};

static struct model_entry builtin_testdev = {.ops = &model_testdev_ops, .builtin = 1};
static struct model_entry builtin_edu = {.next = &builtin_testdev, .ops = &model_edu_ops, .builtin = 1};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
/* Built-in first, registered ones appended in order. */
static struct model_entry *head = &builtin_edu;

static struct model_entry *find(const char *name)
{
	for (struct model_entry *e = head; e; e = e->next)
		if (strcmp(e->ops->name, name) == 0)
			return e;
	return NULL;
}

/* The URI grammar's rule for a model name (uri.c). */
static int name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n >= UPCI_MODEL_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '-' && name[i] != '_')
			return 0;
	return 1;
}

int upci_model_register(const struct upci_model_ops *ops)
{
	struct model_entry *e, **pp;
	int ret = 0;

	if (!ops)
		return -EINVAL;
	if (ops->api_version != UPCI_MODEL_API_VERSION)
		return -ENOTSUP;
	if (!ops->create || !name_ok(ops->name) || ops->priv_size > (1ull << 30))
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->ops = ops;
	pthread_mutex_lock(&reg_lock);
	if (find(ops->name)) {
		ret = -EEXIST;
	} else {
		for (pp = &head; *pp; pp = &(*pp)->next)
			;
		*pp = e;
	}
	pthread_mutex_unlock(&reg_lock);
	if (ret)
		free(e);
	return ret;
}

int upci_model_unregister(const char *name)
{
	struct model_entry **pp, *e = NULL;
	int ret = -ENOENT;

	if (!name)
		return -EINVAL;
	pthread_mutex_lock(&reg_lock);
	for (pp = &head; *pp; pp = &(*pp)->next) {
		if (strcmp((*pp)->ops->name, name) != 0)
			continue;
		if ((*pp)->builtin) {
			ret = -EPERM;
		} else if ((*pp)->instances) {
			ret = -EBUSY;
		} else {
			e = *pp;
			*pp = e->next;
			ret = 0;
		}
		break;
	}
	pthread_mutex_unlock(&reg_lock);
	free(e);
	return ret;
}

int upci_model_list(const char **names, unsigned max)
{
	unsigned n = 0;

	if (!names && max)
		return -EINVAL;
	pthread_mutex_lock(&reg_lock);
	for (struct model_entry *e = head; e; e = e->next, n++)
		if (n < max)
			names[n] = e->ops->name;
	pthread_mutex_unlock(&reg_lock);
	return (int)n;
}

const struct upci_model_ops *model_get(const char *name, struct model_entry **entry)
{
	struct model_entry *e;

	pthread_mutex_lock(&reg_lock);
	e = name ? find(name) : NULL;
	if (e)
		e->instances++;
	pthread_mutex_unlock(&reg_lock);
	*entry = e;
	return e ? e->ops : NULL;
}

void model_put(struct model_entry *entry)
{
	if (!entry)
		return;
	pthread_mutex_lock(&reg_lock);
	entry->instances--;
	pthread_mutex_unlock(&reg_lock);
}

void model_names(char *buf, size_t len)
{
	size_t at = 0;

	if (!len)
		return;
	buf[0] = '\0';
	pthread_mutex_lock(&reg_lock);
	for (struct model_entry *e = head; e && at < len; e = e->next) {
		int n = snprintf(buf + at, len - at, "%s%s", at ? ", " : "", e->ops->name);

		if (n < 0)
			break;
		at += (size_t)n;
	}
	pthread_mutex_unlock(&reg_lock);
}

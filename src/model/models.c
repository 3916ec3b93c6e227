/* SPDX-License-Identifier: MIT */
/* The table of built-in device models. */
#include <string.h>

#include "model.h"


static const struct model_ops *const models[] = {
	&model_edu_ops,
	&model_testdev_ops,
	NULL,
};

const struct model_ops *const *model_list(void)
{
	return models;
}

const struct model_ops *model_find(const char *name)
{
	for (const struct model_ops *const *m = models; *m; m++)
		if (strcmp((*m)->name, name) == 0)
			return *m;
	return NULL;
}

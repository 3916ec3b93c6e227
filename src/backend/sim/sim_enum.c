/* SPDX-License-Identifier: MIT */
/*
 * upci_enumerate("sim"): every registered model with its default parameters.
 * The identity comes from a scratch instance's power-on config space
 * (created and destroyed here, never registered, so no open handle and no
 * later open sees it): the model stays the one source of its IDs.
 */
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "sim.h"

int sim_enumerate(struct upci_enum_sink *sink)
{
	const char *names[64];
	int n = upci_model_list(names, sizeof(names) / sizeof(names[0]));

	if (n < 0)
		return n;
	for (int i = 0; i < n && i < (int)(sizeof(names) / sizeof(names[0])); i++) {
		struct model_entry *entry;
		const struct upci_model_ops *mo = model_get(names[i], &entry);
		struct uri_params none = {0};
		struct upci_found f;
		struct upci_model *m = NULL;
		int ret;

		if (!mo)
			continue; /* unregistered meanwhile */
		/* A scratch instance with no host does nothing. */
		ret = model_create(mo, NULL, NULL, (const struct upci_model_params *)&none, &m);
		if (ret == 0) {
			memset(&f, 0, sizeof(f));
			snprintf(f.uri, sizeof(f.uri), "sim:%s", mo->name);
			sim_identity(m, &f.id);
		}
		model_destroy(m);
		model_put(entry);
		if (ret)
			continue; /* a model that needs parameters: not listed with defaults */
		f.flags = UPCI_FOUND_READY | UPCI_FOUND_IDS;
		f.iommu_group = -1;
		ret = core_enum_add(sink, &f);
		if (ret)
			return ret;
	}
	return 0;
}

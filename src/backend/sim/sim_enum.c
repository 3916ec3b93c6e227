/* SPDX-License-Identifier: MIT */
/*
 * upci_enumerate("sim"): every built-in model with its default parameters.
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
	for (const struct model_ops *const *mo = model_list(); *mo; mo++) {
		static const struct model_host no_host; /* a scratch model does nothing */
		struct model_params none = {0};
		struct upci_found f;
		struct model *m;
		int ret = (*mo)->create(&no_host, &none, &m);

		if (ret)
			return ret;
		memset(&f, 0, sizeof(f));
		snprintf(f.uri, sizeof(f.uri), "sim:%s", (*mo)->name);
		sim_identity(m, &f.id);
		(*mo)->destroy(m);
		f.flags = UPCI_FOUND_READY | UPCI_FOUND_IDS;
		f.iommu_group = -1;
		ret = core_enum_add(sink, &f);
		if (ret)
			return ret;
	}
	return 0;
}

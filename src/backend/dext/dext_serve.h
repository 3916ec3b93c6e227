/* SPDX-License-Identifier: MIT */
/*
 * The vfio-user server's config-write policy for dext devices (the hook of
 * src/vfio-user/srv_policy.h). No Apple headers here: the server includes
 * this where UPCI_HAVE_DEXT is defined.
 */
#ifndef UPCI_BACKEND_DEXT_SERVE_H
#define UPCI_BACKEND_DEXT_SERVE_H

#include "upci/upci.h"

struct vfu_cfg_policy;

extern const struct vfu_cfg_policy upci_dext_serve_policy;

/* &upci_dext_serve_policy for a handle on the dext backend, else NULL.
 * vfu_server_new() asks it when the caller gave no policy. */
const struct vfu_cfg_policy *upci_dext_cfg_policy(upci_dev *dev);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * Where and how one export of upci_server_*() is served: its endpoint (a
 * socket to create or an inherited fd), the socket file's mode and group,
 * and the vfu_server limits; and the parser of `upci serve`'s options
 * into it (upci_server_args()), shared by the CLI and device programs.
 */
#ifndef UPCI_VFIO_USER_SRV_ARGS_H
#define UPCI_VFIO_USER_SRV_ARGS_H

#include <stddef.h>
#include <sys/types.h>

#include "server.h"
#include "upci/model.h"

struct srv_endpoint {
	char *socket_path;           /* NULL: none */
	int fd;                      /* -1: none */
	int mode;                    /* -1: the default (0600, 0660 with a group) */
	gid_t gid;                   /* (gid_t)-1: none */
	struct vfu_server_opts so;   /* limits, allow list */
};

void srv_endpoint_init(struct srv_endpoint *ep);
/* 0 or -ENOMEM. */
int srv_endpoint_copy(struct srv_endpoint *dst, const struct srv_endpoint *src);
void srv_endpoint_free(struct srv_endpoint *ep);
/* Forget the socket path and fd (they belong to one export only). */
void srv_endpoint_take_socket(struct srv_endpoint *ep);
/* 0, -EINVAL (empty or too long), -ENOMEM. */
int srv_endpoint_set_socket(struct srv_endpoint *ep, const char *path);
/* A per-export option of enum upci_server_opt: 0, -EINVAL, -ENOSPC. */
int srv_endpoint_set(struct srv_endpoint *ep, enum upci_server_opt opt, int64_t value);
/* Exactly one of a socket and an fd; mode and group only with a socket.
 * 0 or -EINVAL with a sentence in @why. */
int srv_endpoint_check(const struct srv_endpoint *ep, char *why, size_t whylen);
/* upci_server_args(): the number of arguments left, or -EINVAL with @why. */
int srv_args_parse(struct srv_endpoint *ep, int argc, char **argv, char *why, size_t whylen);
/* The options' help text, as `upci serve --help` prints it. */
extern const char srv_args_help[];

#endif

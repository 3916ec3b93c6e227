/* SPDX-License-Identifier: MIT */
/*
 * The server under test: `upci serve DEVICE --socket PATH` started from the
 * upci binary of the same build, on a socket in a fresh temporary
 * directory, and stopped with SIGTERM. Clean-up on every exit path is
 * bench_vfu_proc's.
 */
#ifndef UPCI_BENCH_VFU_SERVER_H
#define UPCI_BENCH_VFU_SERVER_H

#include <stddef.h>
#include <sys/types.h>

#include "bench_dev.h"

struct vfu_srv {
	pid_t pid;      /* 0 when we did not start one (--uri) */
	char dir[128];  /* the temporary directory */
	char sock[192]; /* the socket inside it */
	char uri[224];  /* "vfio-user:" + sock */
};

/*
 * The upci binary next to this benchmark in the build tree
 * (BENCHDIR/../tools/upci). Return: 0, or -ENOENT with @buf holding the
 * path that was tried.
 */
int vfu_find_upci(char *buf, size_t len);

/* Start the server for @device; dies (exit 1) when it cannot. */
void vfu_srv_start(struct vfu_srv *s, const char *upci, const char *device);

/*
 * Open, claim and identify @uri, waiting up to @timeout_ms for a server
 * that is still starting (socket not there yet, or not listening yet).
 * @server (0: none) is watched meanwhile: if it exits, say how and die.
 */
void vfu_dev_connect(struct bench_dev *d, const char *uri, pid_t server, int timeout_ms);

/* SIGTERM the server and reap it, remove the socket and the directory.
 * Return: 0 when it stopped cleanly, -EIO (after saying why) when not. */
int vfu_srv_stop(struct vfu_srv *s);

#endif /* UPCI_BENCH_VFU_SERVER_H */

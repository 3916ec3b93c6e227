/* SPDX-License-Identifier: MIT */
/*
 * The processes bench-vfio-user starts (the server, the floors' peers) and
 * the files it creates (the socket and its directory), cleaned up on every
 * way out: normal return, exit() from bench_die(), SIGINT/SIGTERM/SIGHUP.
 * A SIGKILL of the benchmark cannot be caught: each child asks the kernel
 * for SIGKILL when the benchmark dies (PR_SET_PDEATHSIG), so no process
 * outlives it even then.
 */
#ifndef UPCI_BENCH_VFU_PROC_H
#define UPCI_BENCH_VFU_PROC_H

#include <sys/types.h>

/* Install the exit and signal hooks; call once, first thing in main(). */
void vfu_proc_init(void);

/*
 * fork() a tracked child. In the child (return 0) the signal hooks are
 * gone and it dies with the benchmark; it must leave by _exit() or exec,
 * never exit() or return. In the parent: the pid, or a negative errno.
 */
pid_t vfu_proc_fork(void);

/*
 * In a child: close every fd but stdin/out/err and @keep[0..n-1], so that
 * the child holds no end of another pipe or socket (a peer would never see
 * EOF) and not the client's vfio-user connection.
 */
void vfu_proc_close_fds(const int *keep, unsigned n);

/*
 * SIGTERM @pid, wait for it (SIGKILL after a grace period) and untrack it.
 * Return: the wait status, or a negative errno.
 */
int vfu_proc_stop(pid_t pid);

/* The load of the figures "with two CPU hogs": that many processes
 * spinning until stopped (dies when one cannot be started). */
#define VFU_PROC_HOGS 2
void vfu_proc_hogs_start(pid_t pids[VFU_PROC_HOGS]);
void vfu_proc_hogs_stop(const pid_t pids[VFU_PROC_HOGS]);

/* Wait for @pid to end by itself and untrack it: its wait status, or a
 * negative errno. For children whose every wait has a timeout. */
int vfu_proc_wait(pid_t pid);

/* Reap @pid if it has ended (untracking it): 1 and *status, 0 if running. */
int vfu_proc_ended(pid_t pid, int *status);

/* Remove @sock and then the directory @dir at clean-up (either may be ""). */
void vfu_proc_own_paths(const char *sock, const char *dir);
/* Remove them now (and forget them). */
void vfu_proc_remove_paths(void);

#endif /* UPCI_BENCH_VFU_PROC_H */

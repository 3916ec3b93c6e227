/* SPDX-License-Identifier: MIT */
/* Child processes and temporary files of bench-vfio-user, and their clean-up. */
#define _GNU_SOURCE
#include "bench_vfu_proc.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

#ifdef __linux__
#include <sys/prctl.h>
#endif

#define MAX_CHILDREN 16 /* the server, six echo peers, two hogs, and room */
/* How long a child gets to honour SIGTERM before SIGKILL. */
#define GRACE_MS 3000

/* Read by the signal handler: plain stores of aligned ints and whole
 * strings written before they are published through the flag. */
static volatile pid_t children[MAX_CHILDREN];
static pid_t owner;
static char own_sock[256], own_dir[256];
static volatile sig_atomic_t have_paths;

static const int hooked[] = {SIGINT, SIGTERM, SIGHUP};
#define NHOOKED (sizeof(hooked) / sizeof(hooked[0]))

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Async-signal-safe: kill, waitpid and nanosleep only. */
static int stop_pid(pid_t pid)
{
	int status = 0;

	if (kill(pid, SIGTERM) < 0 && errno != ESRCH)
		return -errno;
	for (long waited = 0; waited < GRACE_MS; waited++) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -errno;
		sleep_ms(1);
	}
	(void)kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return status;
}

static void untrack(pid_t pid)
{
	for (unsigned i = 0; i < MAX_CHILDREN; i++)
		if (children[i] == pid)
			children[i] = 0;
}

static void cleanup(void)
{
	if (getpid() != owner)
		return; /* a forked child that went out the wrong way: not its job */
	for (unsigned i = 0; i < MAX_CHILDREN; i++) {
		pid_t pid = children[i];

		if (pid > 0) {
			children[i] = 0;
			(void)stop_pid(pid);
		}
	}
	if (have_paths) {
		have_paths = 0;
		if (own_sock[0])
			(void)unlink(own_sock);
		if (own_dir[0])
			(void)rmdir(own_dir);
	}
}

static void on_signal(int sig)
{
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig); /* die of the signal, as the caller expects */
}

void vfu_proc_init(void)
{
	struct sigaction sa;

	owner = getpid();
	if (atexit(cleanup) != 0) {
		fprintf(stderr, "bench: cannot register the clean-up\n");
		exit(1);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (unsigned i = 0; i < NHOOKED; i++)
		sigaddset(&sa.sa_mask, hooked[i]); /* one clean-up at a time */
	for (unsigned i = 0; i < NHOOKED; i++)
		sigaction(hooked[i], &sa, NULL);
	/* A peer that went away shows as an error from send, not a death. */
	signal(SIGPIPE, SIG_IGN);
}

static int track(pid_t pid)
{
	for (unsigned i = 0; i < MAX_CHILDREN; i++) {
		if (children[i] == 0) {
			children[i] = pid;
			return 0;
		}
	}
	return -ENOSPC;
}

pid_t vfu_proc_fork(void)
{
	pid_t pid;
	int rc;

	fflush(NULL); /* no buffered output printed twice */
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		for (unsigned i = 0; i < NHOOKED; i++)
			signal(hooked[i], SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
#ifdef __linux__
		/* Die with the benchmark even when it is SIGKILLed. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != owner)
			_exit(127);
#endif
		return 0;
	}
	rc = track(pid);
	if (rc) {
		(void)stop_pid(pid);
		return rc;
	}
	return pid;
}

static int kept(int fd, const int *keep, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (keep[i] == fd)
			return 1;
	return 0;
}

void vfu_proc_close_fds(const int *keep, unsigned n)
{
	int top = 2;

	for (unsigned i = 0; i < n; i++)
		top = keep[i] > top ? keep[i] : top;
	for (int fd = 3; fd <= top; fd++)
		if (!kept(fd, keep, n))
			close(fd);
#if defined(__linux__) && defined(CLOSE_RANGE_CLOEXEC)
	/* Everything above the highest kept fd in one call. */
	if (close_range((unsigned)top + 1, ~0u, 0) == 0)
		return;
#endif
	for (int fd = top + 1; fd < 1024; fd++)
		close(fd);
}

int vfu_proc_stop(pid_t pid)
{
	/* Untracked first: a signal meanwhile must not wait for it twice
	 * (PR_SET_PDEATHSIG still covers it). */
	untrack(pid);
	return stop_pid(pid);
}

int vfu_proc_wait(pid_t pid)
{
	int status;

	untrack(pid); /* as in vfu_proc_stop */
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return status;
}

int vfu_proc_ended(pid_t pid, int *status)
{
	pid_t r = waitpid(pid, status, WNOHANG);

	if (r == pid) {
		untrack(pid);
		return 1;
	}
	return 0;
}

void vfu_proc_own_paths(const char *sock, const char *dir)
{
	have_paths = 0;
	snprintf(own_sock, sizeof(own_sock), "%s", sock);
	snprintf(own_dir, sizeof(own_dir), "%s", dir);
	have_paths = 1;
}

void vfu_proc_remove_paths(void)
{
	if (!have_paths)
		return;
	have_paths = 0;
	if (own_sock[0])
		(void)unlink(own_sock);
	if (own_dir[0])
		(void)rmdir(own_dir);
}

void vfu_proc_hogs_start(pid_t pids[VFU_PROC_HOGS])
{
	for (int i = 0; i < VFU_PROC_HOGS; i++) {
		pids[i] = vfu_proc_fork();
		if (pids[i] < 0)
			bench_die("bench", "starting a CPU hog", (int)pids[i]);
		if (pids[i] == 0) {
			volatile unsigned long x = 0;

			vfu_proc_close_fds(NULL, 0);
			for (;;)
				x++;
		}
	}
}

void vfu_proc_hogs_stop(const pid_t pids[VFU_PROC_HOGS])
{
	for (int i = 0; i < VFU_PROC_HOGS; i++)
		(void)vfu_proc_stop(pids[i]);
}

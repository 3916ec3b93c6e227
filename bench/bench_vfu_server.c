/* SPDX-License-Identifier: MIT */
/* Starting, reaching and stopping `upci serve` for the benchmark. */
#define _GNU_SOURCE
#include "bench_vfu_server.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "bench_vfu_proc.h"
#include "edu_regs.h"
#include "testdev_regs.h"

/* Poll interval while the server starts. */
#define CONNECT_RETRY_MS 5

int vfu_find_upci(char *buf, size_t len)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0) {
		snprintf(buf, len, "BENCHDIR/../tools/upci");
		return -ENOENT;
	}
	self[n] = '\0';
	/* bench/bench-vfio-user -> tools/upci in the same build tree */
	snprintf(buf, len, "%s/../tools/upci", dirname(self));
	return access(buf, X_OK) == 0 ? 0 : -ENOENT;
}

static void describe_exit(char *buf, size_t len, int status)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "was killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "ended with wait status 0x%x", (unsigned)status);
}

/* In the child: stdout to /dev/null (our tables own it), stderr kept for
 * the server's error lines, then exec. Never returns. */
static void exec_server(const struct vfu_srv *s, const char *upci, const char *device)
{
	char *argv[] = {(char *)"upci", (char *)"serve", (char *)device, (char *)"--socket", (char *)s->sock, NULL};
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

	if (null >= 0)
		dup2(null, STDOUT_FILENO);
	execv(upci, argv);
	dprintf(STDERR_FILENO, "bench: exec %s: %s\n", upci, strerror(errno));
	_exit(127);
}

void vfu_srv_start(struct vfu_srv *s, const char *upci, const char *device)
{
	const char *tmp = getenv("TMPDIR");
	pid_t pid;

	memset(s, 0, sizeof(*s));
	if (!tmp || !*tmp || strlen(tmp) > 64)
		tmp = "/tmp";
	snprintf(s->dir, sizeof(s->dir), "%s/upci-bench-XXXXXX", tmp);
	if (!mkdtemp(s->dir))
		bench_die(s->dir, "creating the socket directory", -errno);
	snprintf(s->sock, sizeof(s->sock), "%s/dev.sock", s->dir);
	snprintf(s->uri, sizeof(s->uri), "vfio-user:%s", s->sock);
	vfu_proc_own_paths(s->sock, s->dir);

	pid = vfu_proc_fork();
	if (pid < 0)
		bench_die(upci, "starting upci serve", pid);
	if (pid == 0)
		exec_server(s, upci, device);
	s->pid = pid;
}

static int64_t ms_now(void)
{
	return bench_now_ns() / 1000000;
}

static void classify(struct bench_dev *d)
{
	if (d->id.vendor_id == EDU_VENDOR_ID && d->id.device_id == EDU_DEVICE_ID)
		d->kind = BENCH_EDU;
	else if (d->id.vendor_id == TESTDEV_VENDOR_ID && d->id.device_id == TESTDEV_DEVICE_ID)
		d->kind = BENCH_TESTDEV;
	else
		d->kind = BENCH_OTHER;
}

void vfu_dev_connect(struct bench_dev *d, const char *uri, pid_t server, int timeout_ms)
{
	int64_t deadline = ms_now() + timeout_ms;
	struct timespec pause = {.tv_sec = 0, .tv_nsec = CONNECT_RETRY_MS * 1000000L};
	int rc;

	d->uri = uri;
	d->dev = NULL;
	for (;;) {
		int status;

		rc = upci_open(&d->dev, uri);
		if (rc == 0)
			break;
		if (server && vfu_proc_ended(server, &status)) {
			char why[96];

			describe_exit(why, sizeof(why), status);
			fflush(stdout);
			fprintf(stderr, "bench: upci serve %s before it took a client\n", why);
			exit(1);
		}
		/* Not there yet, bound but not yet listening, or still closing
		 * our previous connection (a figure that reopens). */
		if ((rc != -ENOENT && rc != -ECONNREFUSED && rc != -EBUSY) || ms_now() > deadline)
			bench_die(uri, "open", rc);
		nanosleep(&pause, NULL);
	}
	bench_ok(upci_claim(d->dev), uri, "claim");
	bench_ok(upci_identity(d->dev, &d->id), uri, "identity");
	classify(d);
}

int vfu_srv_stop(struct vfu_srv *s)
{
	int st, clean = 1;

	if (s->pid > 0) {
		st = vfu_proc_stop(s->pid);
		s->pid = 0;
		if (st < 0) {
			fprintf(stderr, "bench: reaping upci serve: %s\n", strerror(-st));
			clean = 0;
		} else if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0) && !(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM)) {
			char why[96];

			describe_exit(why, sizeof(why), st);
			fprintf(stderr, "bench: upci serve %s on SIGTERM\n", why);
			clean = 0;
		}
	}
	vfu_proc_remove_paths();
	return clean ? 0 : -EIO;
}

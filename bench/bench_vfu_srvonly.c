/* SPDX-License-Identifier: MIT */
/*
 * Figure "server": `upci serve` alone, without upci's client. One raw
 * client (blocking send and recv, prebuilt messages, no polling) drives
 * the server and, interleaved in the same run, an echo server that answers
 * the same bytes with nothing else to do: what is left between the two is
 * the server's own cost. Server CPU per request is the server process's
 * run time (every thread, /proc/PID/task/TID/schedstat) over the batch.
 *
 *   REGION_READ 4 B        testdev BAR0 ID (trapped)     vs one echo round trip
 *   DMA_MAP+UNMAP in-band  4 KiB, no fd                 vs two echo round trips
 *   DMA_MAP+UNMAP memfd    4 KiB, the fd by SCM_RIGHTS  vs two echo round trips
 *
 * Goals (issue 12): 1.05x, 1.05x and 1.2x the echo server's time.
 *
 * Where the scheduler puts the two ends decides more than either does: a
 * ping-pong on one CPU hands over in a few us, across two it waits for a
 * wake-up IPI (tens of us on a VM), and which of the two a batch gets is
 * sticky for the batch and a toss-up between batches (select_idle_sibling
 * keeps or leaves the waker's CPU by how busy the LLC looks). Unpinned,
 * upci and echo rows then compare a toss with a toss. So the rows come
 * four times: client and server pinned to two CPUs, both pinned to one,
 * as the scheduler places them, and the same with two CPU hogs; the
 * goals are judged on the pinned rows, where both servers get the same
 * placement.
 */
#define _GNU_SOURCE /* sched_setaffinity */
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bench_util.h"
#include "bench_vfu.h"
#include "bench_vfu_proc.h"
#include "bench_vfu_raw.h"
#include "bench_vfu_server.h"
#include "msg.h"
#include "proto.h"
#include "testdev_regs.h"

#define MAP_IOVA 0x100000u
#define MAP_LEN 4096u

enum { ROW_READ, ROW_MAP, ROW_MAPFD, NROWS };
static const double goal[NROWS] = {1.05, 1.05, 1.2};
static const char *const row_name[NROWS] = {"REGION_READ 4 B", "DMA_MAP+UNMAP in-band", "DMA_MAP+UNMAP memfd"};

/* Call @fn for each thread of @pid; 0, -errno when the task list cannot
 * be read, or the first error @fn returned (the walk goes on). */
static int each_task(pid_t pid, int (*fn)(pid_t tid, void *arg), void *arg)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int ret = 0;

	snprintf(path, sizeof(path), "/proc/%ld/task", (long)pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.') {
			int rc = fn((pid_t)atol(e->d_name), arg);

			if (rc && !ret)
				ret = rc;
		}
	closedir(d);
	return ret;
}

struct run_time {
	pid_t pid;
	int64_t sum;
};

static int add_run_time(pid_t tid, void *arg)
{
	struct run_time *rt = arg;
	char f[96];
	long long ns;
	FILE *fp;

	snprintf(f, sizeof(f), "/proc/%ld/task/%ld/schedstat", (long)rt->pid, (long)tid);
	fp = fopen(f, "r");
	if (fp && fscanf(fp, "%lld", &ns) == 1)
		rt->sum += ns;
	if (fp)
		fclose(fp);
	return 0;
}

/* The run time of every thread of @pid so far, in ns (schedstat's first
 * field); -1 when it cannot be read. */
static int64_t proc_cpu_ns(pid_t pid)
{
	struct run_time rt = {.pid = pid, .sum = 0};

	return each_task(pid, add_run_time, &rt) ? -1 : rt.sum;
}

/* One request (with @pass as its fd, or -1) and its reply of @rep bytes,
 * which must not be an error. */
static int call(int fd, const void *req, size_t len, int pass, size_t rep)
{
	uint8_t buf[64];
	struct vfu_hdr h;

	if (raw_send(fd, req, len, pass) || rep > sizeof(buf) || raw_recv(fd, buf, rep))
		return -EIO;
	memcpy(&h, buf, sizeof(h));
	return (h.flags & VFU_HDR_F_ERROR) ? -(int)h.error : 0;
}

/* The requests, built once. */
struct msgs {
	uint8_t read[sizeof(struct vfu_hdr) + sizeof(struct vfu_region_access)];
	uint8_t map[sizeof(struct vfu_hdr) + sizeof(struct vfu_dma_map)];
	uint8_t unmap[sizeof(struct vfu_hdr) + sizeof(struct vfu_dma_unmap)];
	int memfd;
};
#define READ_REP (sizeof(struct vfu_hdr) + sizeof(struct vfu_region_access) + 4)
#define MAP_REP sizeof(struct vfu_hdr)
#define UNMAP_REP (sizeof(struct vfu_hdr) + sizeof(struct vfu_dma_unmap))

static void build(struct msgs *m)
{
	struct vfu_hdr h;
	struct vfu_region_access a = {.offset = TESTDEV_REG_ID, .region = TESTDEV_BAR_REGS, .count = 4};
	struct vfu_dma_map dm = {.argsz = sizeof(dm), .flags = VFU_DMA_MAP_F_READ | VFU_DMA_MAP_F_WRITE,
				 .addr = MAP_IOVA, .size = MAP_LEN};
	struct vfu_dma_unmap du = {.argsz = sizeof(du), .addr = MAP_IOVA, .size = MAP_LEN};

	vfu_hdr_request(&h, 1, VFU_CMD_REGION_READ, 0);
	h.msg_size = sizeof(m->read);
	memcpy(m->read, &h, sizeof(h));
	memcpy(m->read + sizeof(h), &a, sizeof(a));
	vfu_hdr_request(&h, 2, VFU_CMD_DMA_MAP, 0);
	h.msg_size = sizeof(m->map);
	memcpy(m->map, &h, sizeof(h));
	memcpy(m->map + sizeof(h), &dm, sizeof(dm));
	vfu_hdr_request(&h, 3, VFU_CMD_DMA_UNMAP, 0);
	h.msg_size = sizeof(m->unmap);
	memcpy(m->unmap, &h, sizeof(h));
	memcpy(m->unmap + sizeof(h), &du, sizeof(du));
	m->memfd = memfd_create("bench-srvonly", MFD_CLOEXEC);
	if (m->memfd < 0 || ftruncate(m->memfd, MAP_LEN) != 0)
		bench_die("bench", "memfd", -errno);
}

enum { PL_TWO, PL_ONE, PL_FREE, PL_HOGS, NPL };
/* The two echo servers: recv() (the floor) and recvmsg() with room
 * for fds, as any server that takes fds must read (RAW_FDS). */
enum { ECHO_PLAIN, ECHO_FDS, NECHO };
static const enum raw_mode echo_mode[NECHO] = {RAW_PLAIN, RAW_FDS};
static const char *const pl_name[NPL] = {"two CPUs (client on one, servers on another)", "one CPU (all on it)",
					  "as the scheduler places them",
					  "with two CPU hogs, as the scheduler places them"};

/* Where the figure may run: this process's CPUs, taken once. */
static cpu_set_t allowed;

/* Pin @tid to @cpu, or back to every allowed CPU with -1. 0 or -errno. */
static int pin(pid_t tid, int cpu)
{
	cpu_set_t set;

	if (cpu < 0) {
		set = allowed;
	} else {
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
	}
	return sched_setaffinity(tid, sizeof(set), &set) == 0 ? 0 : -errno;
}

static int pin_one(pid_t tid, void *arg)
{
	return pin(tid, *(const int *)arg);
}

/* Pin every thread of @pid (the server's session thread is there once
 * the client connected). 0 or the first -errno. */
static int pin_proc(pid_t pid, int cpu)
{
	return each_task(pid, pin_one, &cpu);
}

/* The client (this thread) and the servers where @pl says, on the first
 * two allowed CPUs @cpu. 0, or -errno when a thread could not be pinned
 * (the rows of that placement are then not measured). */
static int place(int pl, pid_t upci, struct raw_sock echo[][NROWS], const int cpu[2])
{
	bool free_ = pl == PL_FREE || pl == PL_HOGS;
	int cli = free_ ? -1 : cpu[0], srv = free_ ? -1 : (pl == PL_TWO ? cpu[1] : cpu[0]);
	int ret = pin(0, cli);

	if (!ret)
		ret = pin_proc(upci, srv);
	for (int k = 0; k < NECHO && !ret; k++)
		for (int row = 0; row < NROWS && !ret; row++)
			ret = pin_proc(echo[k][row].peer, srv);
	return ret;
}

/* One connection and VERSION: the fd, or -EBUSY (the server is still
 * closing the previous client's session: retry), or dies. */
static int upci_connect_once(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	static const char json[] = "{\"capabilities\":{\"max_msg_fds\":8}}";
	uint8_t v[sizeof(struct vfu_hdr) + sizeof(struct vfu_version) + sizeof(json)], rep[4096];
	struct vfu_version ver = {0, 0};
	struct vfu_hdr h;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		bench_die(path, "connecting the raw client", -errno);
	vfu_hdr_request(&h, 0, VFU_CMD_VERSION, 0);
	h.msg_size = sizeof(v);
	memcpy(v, &h, sizeof(h));
	memcpy(v + sizeof(h), &ver, sizeof(ver));
	memcpy(v + sizeof(h) + sizeof(ver), json, sizeof(json));
	if (raw_send(fd, v, sizeof(v), -1) || raw_recv(fd, &h, sizeof(h)))
		bench_die(path, "VERSION from the raw client", -EPROTO);
	if ((h.flags & VFU_HDR_F_ERROR) && h.error == EBUSY) {
		close(fd);
		return -EBUSY;
	}
	if ((h.flags & VFU_HDR_F_ERROR) || h.msg_size < sizeof(h) || h.msg_size - sizeof(h) > sizeof(rep) ||
	    raw_recv(fd, rep, h.msg_size - sizeof(h)))
		bench_die(path, "VERSION from the raw client", -EPROTO);
	return fd;
}

static int upci_connect(const char *path)
{
	for (int i = 0; i < 1000; i++) {
		int fd = upci_connect_once(path);

		if (fd >= 0)
			return fd;
		usleep(10000);
	}
	bench_die(path, "VERSION from the raw client: the server stayed busy", -EBUSY);
	return -1;
}

/* @n ops of @row against the server on @fd. */
static void run_upci(int fd, const struct msgs *m, int row, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		int rc = 0;

		if (row == ROW_READ)
			rc = call(fd, m->read, sizeof(m->read), -1, READ_REP);
		else if (call(fd, m->map, sizeof(m->map), row == ROW_MAPFD ? m->memfd : -1, MAP_REP) != 0 ||
			 call(fd, m->unmap, sizeof(m->unmap), -1, UNMAP_REP) != 0)
			rc = -EIO;
		if (rc)
			bench_die("upci serve", row_name[row], rc);
	}
}

int vfu_fig_server(const struct vfu_args *a)
{
	struct bench_dev *d = a->dev;
	unsigned rounds = a->quick ? 2 : 9, n = a->quick ? 300 : 3000;
	int cpu[2] = {-1, -1}, placed[NPL];
	pid_t hog[VFU_PROC_HOGS] = {0};
	static double t[NPL][1 + NECHO][NROWS][16], c[NPL][1 + NECHO][NROWS][16];
	struct raw_sock echo[NECHO][NROWS];
	struct msgs m;
	int fd;

	bench_title("upci bench-vfio-user: the server alone",
		    "one raw client (blocking send/recv, prebuilt messages) against `upci serve` and, interleaved,\n"
		    "against echo servers answering the same bytes: `echo` reads with recv() (the floor of the goals),\n"
		    "`fd-echo` with recvmsg() and room for fds, as a server that takes fds must; server CPU = its\n"
		    "threads' run time per op.");
	if (a->server <= 0 || d->kind != BENCH_TESTDEV || strncmp(d->uri, "vfio-user:", 10) != 0) {
		printf("note: needs a server this benchmark started, exporting testdev: no rows\n");
		return 0;
	}
	/* The first two CPUs this process may use; with one, no rows for
	 * two. */
	if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0)
		bench_die("bench", "sched_getaffinity", -errno);
	for (int i = 0, k = 0; i < CPU_SETSIZE && k < 2; i++)
		if (CPU_ISSET(i, &allowed))
			cpu[k++] = i;
	build(&m);
	for (int k = 0; k < NECHO; k++) {
		size_t rq = sizeof(m.read), rp = READ_REP;
		size_t mq[2] = {sizeof(m.map), sizeof(m.unmap)}, mp[2] = {MAP_REP, UNMAP_REP};

		bench_ok(raw_sock_start(&echo[k][ROW_READ], echo_mode[k], &rq, &rp, 1, -1), "floor", "echo server");
		bench_ok(raw_sock_start(&echo[k][ROW_MAP], echo_mode[k], mq, mp, 2, -1), "floor", "echo server");
		bench_ok(raw_sock_start(&echo[k][ROW_MAPFD], echo_mode[k], mq, mp, 2, -1), "floor", "echo server");
		echo[k][ROW_MAPFD].pass_fd[0] = m.memfd; /* the DMA_MAP carries it, as to upci */
	}
	bench_dev_close(d); /* the server serves one client at a time */
	fd = upci_connect(d->uri + 10);
	for (int pl = 0; pl < NPL; pl++) {
		placed[pl] = pl == PL_TWO && cpu[1] < 0 ? -ENODEV : place(pl, a->server, echo, cpu);
		if (placed[pl])
			continue;
		if (pl == PL_HOGS)
			vfu_proc_hogs_start(hog);
		for (unsigned r = 0; r < rounds; r++)
			for (int row = 0; row < NROWS; row++)
				for (int side = 0; side < 1 + NECHO; side++) {
					/* 0: upci, 1 + k: echo k; rotate which goes first */
					int s = (int)((r + (unsigned)side) % (1 + NECHO));
					struct raw_sock *e = s ? &echo[s - 1][row] : NULL;
					pid_t pid = e ? e->peer : a->server;
					int64_t t0, c0 = proc_cpu_ns(pid);

					t0 = bench_now_ns();
					if (!e)
						run_upci(fd, &m, row, n);
					else
						bench_ok(raw_sock_loop(e, n), "floor", "echo round trips");
					t[pl][s][row][r] = (double)(bench_now_ns() - t0) / n;
					c[pl][s][row][r] = (double)(proc_cpu_ns(pid) - c0) / n;
				}
		if (pl == PL_HOGS)
			vfu_proc_hogs_stop(hog);
	}
	(void)place(PL_FREE, a->server, echo, cpu);
	close(fd);
	close(m.memfd);
	for (int k = 0; k < NECHO; k++)
		for (int row = 0; row < NROWS; row++)
			bench_ok(raw_sock_stop(&echo[k][row]), "floor", "echo server");
	vfu_dev_connect(d, d->uri, a->server, 10000);

	printf("medians of %u interleaved batches of %u ops; time and server CPU in us per op\n", rounds, n);
	printf("%-24s %8s %8s %8s  %8s %8s %8s  %7s %9s\n", "op", "upci", "echo", "fd-echo", "upci CPU", "echo CPU",
	       "fd CPU", "x echo", "x fd-echo");
	for (int pl = 0; pl < NPL; pl++) {
		if (pl == PL_FREE || pl == PL_HOGS || placed[pl])
			printf("%s:\n", pl_name[pl]);
		else if (pl == PL_TWO)
			printf("%s, CPUs %d and %d:\n", pl_name[pl], cpu[0], cpu[1]);
		else
			printf("%s, CPU %d:\n", pl_name[pl], cpu[0]);
		if (placed[pl]) {
			printf("  not measured: %s\n", placed[pl] == -ENODEV ? "this process may use one CPU only"
									  : upci_strerror(placed[pl]));
			continue;
		}
		for (int row = 0; row < NROWS; row++) {
			double tm[1 + NECHO], cm[1 + NECHO];

			for (int k = 0; k < 1 + NECHO; k++) {
				tm[k] = bench_median(t[pl][k][row], rounds) / 1e3;
				cm[k] = bench_median(c[pl][k][row], rounds) / 1e3;
			}
			printf("  %-22s %8.2f %8.2f %8.2f  %8.2f %8.2f %8.2f  %7.2f %9.2f\n", row_name[row], tm[0], tm[1],
			       tm[2], cm[0], cm[1], cm[2], tm[0] / tm[1], tm[0] / tm[2]);
			if (pl == PL_TWO || pl == PL_ONE)
				printf("  goal: %s at most %.2fx the echo server's time, %s: %s (%.2fx)\n", row_name[row],
				       goal[row], pl == PL_TWO ? "two CPUs" : "one CPU",
				       bench_verdict(tm[0] <= goal[row] * tm[1]), tm[0] / tm[1]);
		}
	}
	return 0;
}

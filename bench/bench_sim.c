/* SPDX-License-Identifier: MIT */
/*
 * bench-sim: print upci's benchmark figures, each next to its floor.
 * By default on the in-process sim devices; --uri points every figure at
 * one device instead. See docs/bench.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_figs.h"

struct figure {
	const char *name;
	const char *what;
	int (*run)(const struct bench_args *a);
};

static const struct figure figures[] = {
	{"access", "per-op cost of config and MMIO reads: call path, mapped BAR, plain load", bench_fig_access},
	{"irq", "IRQ raise -> fd wake-up latency next to a raw eventfd ping-pong", bench_fig_irq},
	{"dma", "DMA engine throughput next to memcpy of the same size", bench_fig_dma},
};
#define NFIG (sizeof(figures) / sizeof(figures[0]))

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [--quick] [--uri URI] [--figure NAME]...\n"
		"  --quick        short run (CI smoke): fewer batches and rounds\n"
		"  --uri URI      measure this device instead of sim:edu and sim:testdev\n"
		"  --figure NAME  only this figure (repeatable); default: all\n"
		"figures:\n",
		prog);
	for (unsigned i = 0; i < NFIG; i++)
		fprintf(f, "  %-8s %s\n", figures[i].name, figures[i].what);
	fprintf(f, "Goals are reported, never asserted: exit status 1 means a device\n"
		   "operation failed, 2 a usage error; a missed goal exits 0.\n");
}

static int figure_index(const char *name)
{
	for (unsigned i = 0; i < NFIG; i++)
		if (strcmp(figures[i].name, name) == 0)
			return (int)i;
	return -1;
}

int main(int argc, char **argv)
{
	struct bench_args a = {0};
	unsigned want = 0;
	const char *v;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			a.quick = 1;
		} else if ((v = bench_opt_value(argc, argv, &i, "--uri"))) {
			a.uri = v;
		} else if ((v = bench_opt_value(argc, argv, &i, "--figure"))) {
			int f = figure_index(v);

			if (f < 0) {
				fprintf(stderr, "%s: no figure '%s'\n", argv[0], v);
				usage(stderr, argv[0]);
				return 2;
			}
			want |= 1u << f;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout, argv[0]);
			return 0;
		} else {
			fprintf(stderr, "%s: unknown or incomplete option '%s'\n", argv[0], argv[i]);
			usage(stderr, argv[0]);
			return 2;
		}
	}
	if (!want)
		want = (1u << NFIG) - 1;
	for (unsigned i = 0; i < NFIG; i++)
		if ((want & (1u << i)) && figures[i].run(&a) != 0)
			return 1;
	return 0;
}

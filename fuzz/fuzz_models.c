/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: a hostile driver. The input is a program of config
 * writes, MMIO writes and reads and DMA (un)mappings run through the public
 * API against sim:edu or sim:testdev. What must hold: no crash, no
 * sanitizer report, no hang, and no DMA outside the mapped window — the one
 * page the device may reach sits between two PROT_NONE guard pages, so a
 * stray device write faults at once.
 *
 * Input: byte 0 picks the device (0: edu, 1: testdev, then any other
 * registered model, modulo their number); the rest is the program (run()
 * below), at most 256 steps. A fuzz build can link more models in:
 * -DFUZZ_MODEL_REGISTER=fn names the function that registers them
 * (fuzz/meson.build: fuzz_models_gpio); each is then driven as "sim:NAME".
 *
 * Both devices are opened once and given back between inputs by what a
 * driver that leaves would do (unmap, interrupts off, reset), not closed:
 * opening costs a 1 MiB BAR memfd for edu, and its page faults and
 * teardown were most of the time per input. So that an input cannot leave
 * anything to the next one, the state after that reset is compared with
 * the state right after open (config space, the registers a driver reads,
 * BAR memory): a difference aborts, as a reset that does not restore
 * power-on state is a model bug.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "upci/model.h"
#include "upci/upci.h"

#define WINDOW_IOVA 0x100000u /* under edu's 28-bit DMA mask */
#define NR_DEVS 16 /* at most this many models */
#define CFG_BYTES 4096u
/* Registers compared after each reset: BAR0 below this, 4 bytes apart
 * (edu's register file, testdev's control registers). */
#define REGS_CHECKED 0x100u
/* Of a mappable BAR, the first bytes are compared (edu's mirror of its
 * registers, testdev's whole 4 KiB BAR2). */
#define BAR_CHECKED 4096u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	const uint8_t *p;
	size_t left;
};

/* What a device looks like right after open, to compare with after each reset. */
struct dev_state {
	uint8_t cfg[CFG_BYTES];
	uint32_t regs[REGS_CHECKED / 4];
	uint8_t bar[UPCI_NUM_BARS][BAR_CHECKED]; /* mappable BARs' memory */
};

#ifdef FUZZ_MODEL_REGISTER
int FUZZ_MODEL_REGISTER(void);
#endif

static const char *uris[NR_DEVS];
static unsigned nr_devs;
static upci_dev *devs[NR_DEVS];
static struct dev_state fresh[NR_DEVS];
/* Mappable BARs, mapped once (NULL: not mappable) and their checked length. */
static const uint8_t *bars[NR_DEVS][UPCI_NUM_BARS];
static size_t bar_len[NR_DEVS][UPCI_NUM_BARS];
static uint8_t *window; /* the page the device may reach */
static long page;

static uint64_t take(struct input *in, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes && in->left; i++, in->left--)
		v |= (uint64_t)*in->p++ << (8 * i);
	return v;
}

static const unsigned widths[4] = {1, 2, 4, 8};

static void run(upci_dev *dev, struct input *in, int *mapped)
{
	uint64_t pending[UPCI_IRQ_WORDS], bus, v;
	uint32_t cv;

	/* At most 256 steps: a long input must not turn into a slow one. */
	for (int step = 0; step < 256 && in->left; step++) {
		unsigned op = (unsigned)take(in, 1) % 8;
		unsigned w = widths[take(in, 1) % 4];

		switch (op) {
		case 0: /* config write anywhere: the model must contain it */
			cv = (uint32_t)take(in, 4);
			upci_config_write(dev, (uint32_t)take(in, 2) & 0xfff, w > 4 ? 4 : w,
					  w >= 4 ? cv : cv & ((1u << (8 * w)) - 1));
			break;
		case 1: /* config read */
			upci_config_read(dev, (uint32_t)take(in, 2) & 0xfff, w > 4 ? 4 : w, &cv);
			break;
		case 2: { /* MMIO write: registers, DMA engines, doorbells */
			unsigned bar = (unsigned)take(in, 1) % UPCI_NUM_BARS;
			uint64_t off = take(in, 3);

			v = take(in, 8);
			if (w < 8)
				v &= (UINT64_C(1) << (8 * w)) - 1;
			upci_mmio_write(dev, bar, off, w, v);
			break;
		}
		case 3: { /* MMIO read */
			unsigned bar = (unsigned)take(in, 1) % UPCI_NUM_BARS;

			upci_mmio_read(dev, bar, take(in, 3), w, &v);
			break;
		}
		case 4: /* map or unmap the one window */
			if (*mapped)
				*mapped = upci_dma_unmap(dev, WINDOW_IOVA) != 0;
			else
				*mapped = upci_dma_map(dev, WINDOW_IOVA, window, (uint64_t)page,
						       (unsigned)take(in, 1) % 4, &bus) == 0;
			break;
		case 5:
			upci_irq_enable(dev, UPCI_IRQ_AUTO, (unsigned)take(in, 1) % 8);
			break;
		case 6:
			upci_irq_take_pending(dev, pending);
			break;
		case 7:
			if (take(in, 1) == 0x5a) /* rare: resets are slow-ish */
				upci_reset(dev);
			break;
		}
	}
}

static void die(const char *what, unsigned dev)
{
	fprintf(stderr, "fuzz_models: %s: %s\n", uris[dev], what);
	abort();
}

static void snapshot(unsigned i, struct dev_state *st)
{
	upci_dev *dev = devs[i];
	uint64_t v;

	memset(st, 0, sizeof(*st));
	if (upci_config_read_block(dev, 0, st->cfg, sizeof(st->cfg)) != 0 &&
	    upci_config_read_block(dev, 0, st->cfg, 256) != 0)
		die("config space cannot be read", i);
	for (unsigned off = 0; off < REGS_CHECKED; off += 4)
		st->regs[off / 4] = upci_mmio_read(dev, 0, off, 4, &v) == 0 ? (uint32_t)v : UINT32_MAX;
	for (unsigned b = 0; b < UPCI_NUM_BARS; b++)
		if (bars[i][b])
			memcpy(st->bar[b], bars[i][b], bar_len[i][b]);
}

/* The built-in models first (the seed corpora pick them by index), then
 * every other registered one. */
static void model_uris(void)
{
	static char extra[NR_DEVS][UPCI_MODEL_NAME_MAX + 4];
	const char *names[NR_DEVS];
	int total;

#ifdef FUZZ_MODEL_REGISTER
	(void)FUZZ_MODEL_REGISTER();
#endif
	uris[nr_devs++] = "sim:edu";
	uris[nr_devs++] = "sim:testdev?vectors=8,mem=4096";
	total = upci_model_list(names, NR_DEVS);
	for (int i = 0; i < total && i < NR_DEVS && nr_devs < NR_DEVS; i++) {
		if (strcmp(names[i], "edu") == 0 || strcmp(names[i], "testdev") == 0)
			continue;
		snprintf(extra[nr_devs], sizeof(extra[nr_devs]), "sim:%s", names[i]);
		uris[nr_devs] = extra[nr_devs];
		nr_devs++;
	}
}

/* Map the mappable BARs for good: the checks read them after every input. */
static void map_bars(unsigned i)
{
	for (unsigned b = 0; b < UPCI_NUM_BARS; b++) {
		struct upci_bar_info bi;
		uint64_t len;
		void *p;

		if (upci_bar_info(devs[i], b, &bi) != 0 || !(bi.flags & UPCI_BAR_MAPPABLE))
			continue;
		if (upci_bar_map(devs[i], b, &p, &len) != 0)
			die("a mappable BAR does not map", i);
		bars[i][b] = p;
		bar_len[i][b] = len < BAR_CHECKED ? (size_t)len : BAR_CHECKED;
	}
}

static void setup_once(void)
{
	uint8_t *area;

	if (window)
		return;
	page = sysconf(_SC_PAGESIZE);
	area = mmap(NULL, (size_t)page * 3, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED || mprotect(area + page, (size_t)page, PROT_READ | PROT_WRITE) != 0)
		abort();
	model_uris();
	for (unsigned i = 0; i < nr_devs; i++) {
		if (upci_open(&devs[i], uris[i]) != 0 || upci_claim(devs[i]) != 0)
			die("cannot open", i);
		map_bars(i);
		snapshot(i, &fresh[i]);
	}
	window = area + page;
}

/* What a driver leaving does; then the device must be as when opened. */
static void give_back(unsigned i, int mapped)
{
	struct dev_state now;

	if (mapped && upci_dma_unmap(devs[i], WINDOW_IOVA) != 0)
		die("the window does not unmap", i);
	upci_irq_disable(devs[i]);
	if (upci_reset(devs[i]) != 0)
		die("reset failed", i);
	snapshot(i, &now);
	if (memcmp(now.cfg, fresh[i].cfg, sizeof(now.cfg)) != 0)
		die("config space after reset differs from power-on", i);
	if (memcmp(now.regs, fresh[i].regs, sizeof(now.regs)) != 0)
		die("registers after reset differ from power-on", i);
	if (memcmp(now.bar, fresh[i].bar, sizeof(now.bar)) != 0)
		die("BAR memory after reset differs from power-on", i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};
	unsigned dev;
	int mapped = 0;

	if (size < 1)
		return 0;
	setup_once();
	dev = (unsigned)take(&in, 1) % nr_devs;
	memset(window, 0, (size_t)page);
	run(devs[dev], &in, &mapped);
	give_back(dev, mapped);
	return 0;
}

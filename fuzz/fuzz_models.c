/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: a hostile driver. The input is a program of config
 * writes, MMIO writes and reads and DMA (un)mappings run through the public
 * API against sim:edu, sim:testdev or any other registered model. What
 * must hold: no crash, no sanitizer report, no hang, and no DMA outside the mapped window — the one
 * page the device may reach sits between two PROT_NONE guard pages, so a
 * stray device write faults at once.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "upci/model.h"

#define WINDOW_IOVA 0x100000u /* under edu's 28-bit DMA mask */
#define MAX_URIS 16

/* A fuzz build can link more models in: -DFUZZ_MODEL_REGISTER=fn names
 * the function that registers them (fuzz/meson.build: fuzz_models_gpio).
 * Every registered model is then driven, as "sim:NAME". */
#ifdef FUZZ_MODEL_REGISTER
int FUZZ_MODEL_REGISTER(void);
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	const uint8_t *p;
	size_t left;
};

static uint64_t take(struct input *in, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes && in->left; i++, in->left--)
		v |= (uint64_t)*in->p++ << (8 * i);
	return v;
}

static const unsigned widths[4] = {1, 2, 4, 8};

static void run(upci_dev *dev, struct input *in, uint8_t *window, long page)
{
	uint64_t pending[UPCI_IRQ_WORDS], bus, v;
	uint32_t cv;
	int mapped = 0;

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
			if (mapped)
				mapped = upci_dma_unmap(dev, WINDOW_IOVA) != 0;
			else
				mapped = upci_dma_map(dev, WINDOW_IOVA, window, (uint64_t)page,
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

/* The built-in models first (the seed corpora pick them by index), then
 * every other registered one. */
static unsigned model_uris(const char **uris)
{
	static char extra[MAX_URIS][UPCI_MODEL_NAME_MAX + 4];
	static unsigned n;
	const char *names[MAX_URIS];
	int total;

	if (n)
		return n;
#ifdef FUZZ_MODEL_REGISTER
	(void)FUZZ_MODEL_REGISTER();
#endif
	uris[n++] = "sim:edu";
	uris[n++] = "sim:testdev?vectors=8,mem=4096";
	total = upci_model_list(names, MAX_URIS);
	for (int i = 0; i < total && i < MAX_URIS && n < MAX_URIS; i++) {
		if (strcmp(names[i], "edu") == 0 || strcmp(names[i], "testdev") == 0)
			continue;
		snprintf(extra[n], sizeof(extra[n]), "sim:%s", names[i]);
		uris[n] = extra[n];
		n++;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *uris[MAX_URIS];
	unsigned nuris = model_uris(uris);
	struct input in = {data, size};
	long page = sysconf(_SC_PAGESIZE);
	uint8_t *area;
	upci_dev *dev;

	if (size < 1)
		return 0;
	area = mmap(NULL, (size_t)page * 3, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED)
		return 0;
	if (mprotect(area + page, (size_t)page, PROT_READ | PROT_WRITE) != 0)
		goto out;
	if (upci_open(&dev, uris[take(&in, 1) % nuris]) != 0)
		goto out;
	if (upci_claim(dev) == 0)
		run(dev, &in, area + page, page);
	upci_close(dev); /* drops the mapping before the window goes away */
out:
	munmap(area, (size_t)page * 3);
	return 0;
}

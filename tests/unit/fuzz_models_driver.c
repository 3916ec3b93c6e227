/* SPDX-License-Identifier: MIT */
/*
 * Runs fuzz/fuzz_models.c's harness without libFuzzer (any compiler):
 * pseudo-random inputs against every model the harness knows, with two
 * models registered through its FUZZ_MODEL_REGISTER hook - the GPIO
 * example and a probe that counts its instances - to show that the
 * harness drives any registered model. Exit 0 when every input ran and
 * the probe was driven.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "gpio.h"
#include "upci/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int fuzz_driver_register(void);

static unsigned probes;

static int probe_create(upci_model *m, const upci_model_params *p)
{
	(void)p;
	probes++;
	return upci_model_set_ids(m, 0x1af4, 0x10fd, 0, 0, 0, 0) ||
	       upci_model_bar_regs(m, 0, 4096, 0, NULL, NULL);
}

static const struct upci_model_ops probe_ops = {
	.api_version = UPCI_MODEL_API_VERSION, .name = "fuzzprobe", .create = probe_create,
};

int fuzz_driver_register(void)
{
	int ret = gpio_register();

	return ret ? ret : upci_model_register(&probe_ops);
}

int main(void)
{
	uint8_t buf[512];
	uint32_t x = 12345;
	const char *names[8];
	int n = upci_model_list(names, 8);

	/* The hook runs at the first input: the list grows then. */
	for (unsigned i = 0; i < 400; i++) {
		for (size_t j = 0; j < sizeof(buf); j++) {
			x = x * 1103515245u + 12345u;
			buf[j] = (uint8_t)(x >> 16);
		}
		buf[0] = (uint8_t)i; /* every model in turn */
		LLVMFuzzerTestOneInput(buf, 1 + (x >> 8) % (sizeof(buf) - 1));
	}
	n = upci_model_list(names, 8);
	printf("fuzz driver: %d models, probe created %u times\n", n, probes);
	/* The harness opens each device once and gives it back after every
	 * input (reset, compared with power-on): one instance each, kept, so
	 * a registered model cannot be taken away under it. */
	if (n != 4 || probes != 1)
		return 1;
	return upci_model_unregister("fuzzprobe") == -EBUSY ? 0 : 1;
}

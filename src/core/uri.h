/* SPDX-License-Identifier: MIT */
/*
 * URI parsing: "sim:MODEL[?k=v,...]", "vfio:BDF" or a bare BDF,
 * "vfio-user:PATH", "dext:BB:DD.F", "sysfs:BDF". Pure parsing: it does not know which
 * backends are built in (device.c decides that).
 */
#ifndef UPCI_CORE_URI_H
#define UPCI_CORE_URI_H

#include <stddef.h>
#include <stdint.h>


/* The parameters of a sim: URI (sim:testdev?vectors=64,mem=4096), as
 * parsed; what they mean is the model's business. */
#define URI_MAX_PARAMS 16
struct uri_param {
	char key[32];
	char val[64];
};
struct uri_params {
	unsigned n;
	struct uri_param p[URI_MAX_PARAMS];
};

enum uri_scheme {
	URI_SIM,
	URI_VFIO,
	URI_VFIO_USER,
	URI_DEXT,
	URI_SYSFS,
};

#define URI_PATH_MAX 4096

struct upci_uri {
	enum uri_scheme scheme;
	char model[32];              /* sim */
	struct uri_params params;    /* sim */
	char path[URI_PATH_MAX];     /* vfio-user */
	uint32_t domain;             /* vfio, dext, sysfs */
	uint8_t bus, dev, fn;
};

/*
 * Parse @s into *u. Returns 0 or -EINVAL; on -EINVAL, when @why is not NULL,
 * a sentence saying what is wrong is written to it (always NUL-terminated).
 */
int uri_parse(const char *s, struct upci_uri *u, char *why, size_t whylen);

/* "sim", "vfio", "vfio-user", "dext", "sysfs". */
const char *uri_scheme_name(enum uri_scheme s);

/* Write the sentence @fmt into @why (when given) and return -EINVAL: how
 * every parser of user text here says what is wrong. */
int uri_fail(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Parse "[DDDD:]BB:DD.F" strictly (hex, dev <= 0x1f, fn <= 7). 0 or -EINVAL. */
int uri_parse_bdf(const char *s, uint32_t *domain, uint8_t *bus, uint8_t *dev, uint8_t *fn, int allow_domain);

#endif /* UPCI_CORE_URI_H */

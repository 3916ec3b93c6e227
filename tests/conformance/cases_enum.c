/* SPDX-License-Identifier: MIT */
/*
 * Cases for upci_enumerate(): the device under test is listed by its
 * backend with the identity it reports once open, under a URI that opens
 * it, and listing disturbs no handle. Expected behaviour: the kernel-doc of
 * upci_enumerate() in upci.h; the models' IDs from edu_regs.h and
 * testdev_regs.h.
 */
#define _GNU_SOURCE
#include "conformance.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "edu_regs.h"
#include "testdev_regs.h"

/* The backends that document -ENOTSUP, and why. */
static const char *cannot_list(const char *backend)
{
	if (strcmp(backend, "vfio-user") == 0)
		return "a vfio-user server is reached by its socket path; nothing lists them";
	if (strcmp(backend, "dext") == 0)
		return "the dext backend cannot yet read an instance's function without opening it";
	return NULL;
}

/* The entry for the device under test: same model (sim) or address. */
static const struct upci_found *find_self(const struct conf *c, const struct upci_found *l, size_t n)
{
	char want[80];

	snprintf(want, sizeof(want), "sim:%s", c->id.name);
	for (size_t i = 0; i < n; i++) {
		const struct upci_identity *e = &l[i].id;

		if (strcmp(c->id.backend, "sim") == 0 ? strcmp(l[i].uri, want) == 0
						      : (e->domain == c->id.domain && e->bus == c->id.bus &&
							 e->device == c->id.device && e->function == c->id.function))
			return &l[i];
	}
	return NULL;
}

/* @e's identity agrees with @id wherever it claims to know. */
static int same_identity(struct conf *c, const struct upci_found *e, const struct upci_identity *id)
{
	CHECK(c, strcmp(e->id.backend, id->backend) == 0, "%s: backend \"%s\", the open device says \"%s\"", e->uri,
	      e->id.backend, id->backend);
	if (e->flags & UPCI_FOUND_IDS) {
		CHECK_EQ(c, "listed vendor ID", e->id.vendor_id, id->vendor_id);
		CHECK_EQ(c, "listed device ID", e->id.device_id, id->device_id);
		CHECK_EQ(c, "listed subsystem vendor ID", e->id.subsys_vendor_id, id->subsys_vendor_id);
		CHECK_EQ(c, "listed subsystem ID", e->id.subsys_id, id->subsys_id);
		CHECK_EQ(c, "listed class code", e->id.class_code, id->class_code);
		CHECK_EQ(c, "listed revision", e->id.revision, id->revision);
	}
	if (e->id.config_size)
		CHECK_EQ(c, "listed config space size", e->id.config_size, id->config_size);
	CHECK(c, strcmp(e->id.name, id->name) == 0, "%s: name \"%s\", the open device says \"%s\"", e->uri, e->id.name,
	      id->name);
	return 0;
out:
	return -1;
}

static void enum_self(struct conf *c)
{
	struct upci_found *l = NULL;
	const struct upci_found *e;
	struct upci_identity id;
	const char *why = cannot_list(c->id.backend);
	upci_dev *d = NULL, *d2 = NULL;
	size_t n = 0;
	uint32_t v;
	int rc;

	/* Listing while this process holds the device changes nothing. */
	OPEN_CLAIMED(c, &d);
	rc = upci_enumerate(c->id.backend, &l, &n);
	if (why) {
		CHECK_RC(c, rc, -ENOTSUP);
		CHECK(c, l == NULL && n == 0, "a refused listing handed out %zu entries", n);
		SKIP(c, "upci_enumerate(\"%s\"): -ENOTSUP as documented (%s)", c->id.backend, why);
	}
	CHECK_RC(c, rc, 0);
	CHECK_RC(c, upci_claim(d), 0);
	CFG_RD(c, d, CFG_VENDOR_ID, 2, v);
	CHECK_EQ(c, "vendor ID read after listing", v, c->id.vendor_id);
	e = find_self(c, l, n);
	CHECK(c, e != NULL, "the device under test (%s) is not among the %zu listed by \"%s\"", c->uri, n,
	      c->id.backend);
	conf_note(c, "listed as %s, flags 0x%x%s%s", e->uri, e->flags, e->why[0] ? ": " : "", e->why);
	CHECK(c, e->flags & UPCI_FOUND_READY, "%s is listed as not ready (\"%s\"), yet it opened", e->uri, e->why);
	CHECK(c, e->why[0] == '\0', "%s is ready but says why not: \"%s\"", e->uri, e->why);
	if (strcmp(c->id.backend, "sim") == 0)
		CHECK(c, !e->id.domain && !e->id.bus && !e->id.device && !e->id.function,
		      "a sim entry has bus address %x:%02x:%02x.%x, documented as all zero", e->id.domain, e->id.bus,
		      e->id.device, e->id.function);
	if (same_identity(c, e, &c->id))
		goto out;
	/* The listed URI opens the same kind of device (a sim: entry is the
	 * model's default instance, so let go of ours first on hardware). */
	if (strcmp(c->id.backend, "sim") != 0) {
		upci_close(d);
		d = NULL;
	}
	rc = upci_open(&d2, e->uri);
	CHECK(c, rc == 0, "upci_open(\"%s\") of the listed URI: %s", e->uri, conf_rc(rc));
	CHECK_RC(c, upci_identity(d2, &id), 0);
	if (same_identity(c, e, &id))
		goto out;
out:
	upci_enumerate_free(l);
	upci_close(d2);
	upci_close(d);
}

static void enum_errors(struct conf *c)
{
	struct upci_found *l = NULL;
	size_t n = 7;
	int edu = 0, td = 0;

	CHECK_RC(c, upci_enumerate("nosuchscheme", &l, &n), -EINVAL);
	CHECK(c, l == NULL && n == 0, "a refused listing left %p, %zu", (void *)l, n);
	CHECK_RC(c, upci_enumerate("sim", NULL, &n), -EINVAL);
	CHECK_RC(c, upci_enumerate("sim", &l, NULL), -EINVAL);
	CHECK_RC(c, upci_enumerate("vfio-user", &l, &n), -ENOTSUP);
	CHECK_RC(c, upci_enumerate("dext", &l, &n), -ENOTSUP);
	upci_enumerate_free(NULL);
	/* Everything: the sim models are always there, with their IDs. */
	CHECK_RC(c, upci_enumerate(NULL, &l, &n), 0);
	CHECK(c, n >= 2 && l != NULL, "upci_enumerate(NULL): %zu entries, expected at least the 2 sim models", n);
	for (size_t i = 0; i < n; i++) {
		CHECK(c, memchr(l[i].uri, '\0', sizeof(l[i].uri)) && l[i].uri[0], "entry %zu has no URI", i);
		CHECK(c, (l[i].flags & UPCI_FOUND_READY) ? !l[i].why[0] : l[i].why[0] != '\0',
		      "%s: READY %s, yet why is \"%s\"", l[i].uri, l[i].flags & UPCI_FOUND_READY ? "set" : "clear",
		      l[i].why);
		CHECK_RC(c, upci_uri_check(l[i].uri, NULL, 0), 0);
		if (strcmp(l[i].uri, "sim:edu") == 0) {
			edu++;
			CHECK(c, l[i].id.vendor_id == EDU_VENDOR_ID && l[i].id.device_id == EDU_DEVICE_ID,
			      "sim:edu listed as %04x:%04x", l[i].id.vendor_id, l[i].id.device_id);
		}
		if (strcmp(l[i].uri, "sim:testdev") == 0) {
			td++;
			CHECK(c, l[i].id.vendor_id == TESTDEV_VENDOR_ID && l[i].id.device_id == TESTDEV_DEVICE_ID,
			      "sim:testdev listed as %04x:%04x", l[i].id.vendor_id, l[i].id.device_id);
		}
	}
	CHECK(c, edu == 1 && td == 1, "sim:edu listed %d times, sim:testdev %d times (expected once each)", edu, td);
	CHECK(c, strcmp(l[0].id.backend, "sim") == 0, "the first entry is %s: sim comes first", l[0].uri);
out:
	upci_enumerate_free(l);
}

const struct conf_case conf_enum_cases[] = {
	{"enum.errors", CONF_NEED_NOTHING, enum_errors},
	{"enum.self", CONF_NEED_DEV, enum_self},
};
const size_t conf_enum_count = sizeof(conf_enum_cases) / sizeof(conf_enum_cases[0]);

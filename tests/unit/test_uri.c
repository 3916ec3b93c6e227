/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for URI parsing (src/core/uri.c), upci_uri_check(),
 * upci_backend_available() and the URI-related failures of upci_open().
 * Expected values come from src/core/uri.h and include/upci/upci.h.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testdev_regs.h"
#include "upci/upci.h"
#include "uri.h"

/* struct upci_uri holds a 4 KiB path: keep it off the stack. */
static struct upci_uri *new_uri(void)
{
	struct upci_uri *u = calloc(1, sizeof(*u));

	assert_non_null(u);
	return u;
}

/* Parse @s expecting success; returns the parsed URI (caller frees). */
static struct upci_uri *parse_ok(const char *s)
{
	struct upci_uri *u = new_uri();
	char why[256];
	int ret;

	memset(why, 'X', sizeof(why));
	ret = uri_parse(s, u, why, sizeof(why));
	if (ret != 0)
		print_error("uri_parse(\"%s\") failed: %s\n", s, why);
	assert_int_equal(ret, 0);
	return u;
}

/* Parse @s expecting -EINVAL with a non-empty, NUL-terminated sentence. */
static void parse_bad(const char *s)
{
	struct upci_uri *u = new_uri();
	char why[256];
	int ret;

	memset(why, 0, sizeof(why));
	ret = uri_parse(s, u, why, sizeof(why));
	if (ret != -EINVAL)
		print_error("uri_parse(\"%s\") returned %d, expected -EINVAL\n", s ? s : "(null)", ret);
	assert_int_equal(ret, -EINVAL);
	assert_true(strnlen(why, sizeof(why)) > 0);
	assert_true(strnlen(why, sizeof(why)) < sizeof(why));
	/* Also fine without a buffer. */
	assert_int_equal(uri_parse(s, u, NULL, 0), -EINVAL);
	free(u);
}

/* malloc that never returns NULL (so the compiler knows it, too). */
static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		abort();
	return p;
}

static char *repeat(char ch, size_t n)
{
	char *s = xmalloc(n + 1);

	memset(s, ch, n);
	s[n] = '\0';
	return s;
}

static void test_sim_edu(void **state)
{
	struct upci_uri *u = parse_ok("sim:edu");

	(void)state;
	assert_int_equal(u->scheme, URI_SIM);
	assert_string_equal(u->model, "edu");
	assert_int_equal(u->params.n, 0);
	free(u);
}

static void test_sim_one_param(void **state)
{
	struct upci_uri *u = parse_ok("sim:testdev?vectors=64");

	(void)state;
	assert_int_equal(u->scheme, URI_SIM);
	assert_string_equal(u->model, "testdev");
	assert_int_equal(u->params.n, 1);
	assert_string_equal(u->params.p[0].key, "vectors");
	assert_string_equal(u->params.p[0].val, "64");
	free(u);
}

static void test_sim_many_params(void **state)
{
	struct upci_uri *u = parse_ok("sim:testdev?vectors=64,mem=0x100000&x_y=z-1");

	(void)state;
	assert_string_equal(u->model, "testdev");
	assert_int_equal(u->params.n, 3);
	assert_string_equal(u->params.p[0].key, "vectors");
	assert_string_equal(u->params.p[0].val, "64");
	assert_string_equal(u->params.p[1].key, "mem");
	assert_string_equal(u->params.p[1].val, "0x100000");
	assert_string_equal(u->params.p[2].key, "x_y");
	assert_string_equal(u->params.p[2].val, "z-1");
	free(u);
	/* '&' and ',' separate parameters only after '?'. */
	parse_bad("sim:edu&x=1");
	parse_bad("sim:edu,x=1");
}

static void test_sim_model_chars(void **state)
{
	struct upci_uri *u = parse_ok("sim:my-model_2");

	(void)state;
	assert_string_equal(u->model, "my-model_2");
	free(u);
	parse_bad("sim:");
	parse_bad("sim:?vectors=1");
	parse_bad("sim:ed u");
	parse_bad("sim:edu!");
	parse_bad("sim:e/du");
	parse_bad("sim:e.du");
	parse_bad("sim:edu:1");
	parse_bad("sim:edu#x");
}

static void test_sim_bad_params(void **state)
{
	(void)state;
	parse_bad("sim:edu?");              /* empty list */
	parse_bad("sim:testdev?vectors");   /* no '=' */
	parse_bad("sim:testdev?a=1,b");     /* second without '=' */
	parse_bad("sim:testdev?=5");        /* empty key */
	parse_bad("sim:testdev?vectors=");  /* empty value */
	parse_bad("sim:testdev?a=1,a=2");   /* duplicate */
	parse_bad("sim:testdev?a=1&b=2,a=3");
	parse_bad("sim:testdev?a=1,");      /* trailing separator */
	parse_bad("sim:testdev?a=1&");
	parse_bad("sim:testdev?a=1,,b=2");  /* empty parameter */
	parse_bad("sim:testdev?,a=1");      /* leading separator */
}

static void test_sim_param_count(void **state)
{
	char s[512];
	size_t n;
	struct upci_uri *u;

	(void)state;
	/* Exactly URI_MAX_PARAMS is fine. */
	n = (size_t)snprintf(s, sizeof(s), "sim:testdev?");
	for (int i = 0; i < URI_MAX_PARAMS; i++)
		n += (size_t)snprintf(s + n, sizeof(s) - n, "%sk%d=%d", i ? "," : "", i, i);
	u = parse_ok(s);
	assert_int_equal(u->params.n, URI_MAX_PARAMS);
	assert_string_equal(u->params.p[URI_MAX_PARAMS - 1].key, "k15");
	assert_string_equal(u->params.p[URI_MAX_PARAMS - 1].val, "15");
	free(u);
	/* One more is too many. */
	snprintf(s + n, sizeof(s) - n, ",k%d=1", URI_MAX_PARAMS);
	parse_bad(s);
}

static void test_sim_lengths(void **state)
{
	struct upci_uri *u;
	size_t klen = sizeof(((struct uri_param *)0)->key);
	size_t vlen = sizeof(((struct uri_param *)0)->val);
	size_t mlen = sizeof(u->model);
	char *name, *s;

	(void)state;
	/* Longest model name that fits: sizeof - 1. */
	name = repeat('m', mlen - 1);
	s = xmalloc(mlen + 16);
	sprintf(s, "sim:%s", name);
	u = parse_ok(s);
	assert_string_equal(u->model, name);
	free(u);
	free(name);
	name = repeat('m', mlen);
	sprintf(s, "sim:%s", name);
	parse_bad(s);
	free(name);
	free(s);

	/* Keys */
	s = xmalloc(klen + vlen + 64);
	name = repeat('k', klen - 1);
	sprintf(s, "sim:testdev?%s=1", name);
	u = parse_ok(s);
	assert_string_equal(u->params.p[0].key, name);
	free(u);
	free(name);
	name = repeat('k', klen);
	sprintf(s, "sim:testdev?%s=1", name);
	parse_bad(s);
	free(name);

	/* Values */
	name = repeat('7', vlen - 1);
	sprintf(s, "sim:testdev?v=%s", name);
	u = parse_ok(s);
	assert_string_equal(u->params.p[0].val, name);
	free(u);
	free(name);
	name = repeat('7', vlen);
	sprintf(s, "sim:testdev?v=%s", name);
	parse_bad(s);
	free(name);
	free(s);
}

static void expect_bdf(const char *s, enum uri_scheme scheme, uint32_t dom, uint8_t bus, uint8_t dev, uint8_t fn)
{
	struct upci_uri *u = parse_ok(s);

	assert_int_equal(u->scheme, scheme);
	assert_int_equal(u->domain, dom);
	assert_int_equal(u->bus, bus);
	assert_int_equal(u->dev, dev);
	assert_int_equal(u->fn, fn);
	free(u);
}

static void test_vfio_good(void **state)
{
	(void)state;
	expect_bdf("vfio:0000:03:00.0", URI_VFIO, 0, 3, 0, 0);
	expect_bdf("vfio:03:00.0", URI_VFIO, 0, 3, 0, 0);
	expect_bdf("0000:03:00.0", URI_VFIO, 0, 3, 0, 0);
	expect_bdf("03:00.0", URI_VFIO, 0, 3, 0, 0);
	expect_bdf("vfio:ffff:ff:1f.7", URI_VFIO, 0xffff, 0xff, 0x1f, 7);
	expect_bdf("vfio:00AB:0a:1F.6", URI_VFIO, 0xab, 0x0a, 0x1f, 6);
	expect_bdf("0001:80:02.1", URI_VFIO, 1, 0x80, 2, 1);
}

static void test_vfio_bad(void **state)
{
	static const char *const bad[] = {
		"vfio:03:20.0",       /* device > 0x1f */
		"vfio:03:ff.0",
		"vfio:03:00.8",       /* function > 7 */
		"vfio:03:00.f",
		"vfio:0g:00.0",       /* non-hex */
		"vfio:03:0z.0",
		"vfio:zzzz:03:00.0",
		"vfio:03:00.x",
		"vfio:003:00.0",      /* too many digits */
		"vfio:03:000.0",
		"vfio:03:00.00",
		"vfio:00000:03:00.0",
		"vfio:",              /* missing parts */
		"vfio:03",
		"vfio:03:00",
		"vfio:03.0",
		"vfio::00.0",
		"vfio:03:.0",
		"vfio:03:00.",
		"vfio::03:00.0",
		"vfio:0000::00.0",
		"vfio:03:00.0x",      /* extra junk */
		"vfio:03:00.0 ",
		"vfio: 03:00.0",
		"vfio:03:00.0/",
		"vfio:0000:03:00.0:1",
		"vfio:0:0000:03:00.0",
		"vfio:03:00.0.0",
		"vfio:-3:00.0",
		"03:20.0",            /* the same, bare */
		"03:00.8",
		"0000:03:00",
		"0g:00.0",
		"03:00.0junk",
		"00000:03:00.0",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		parse_bad(bad[i]);
}

static void test_vfio_user(void **state)
{
	struct upci_uri *u = parse_ok("vfio-user:/run/dev.sock");
	char *path, *s;

	(void)state;
	assert_int_equal(u->scheme, URI_VFIO_USER);
	assert_string_equal(u->path, "/run/dev.sock");
	free(u);
	u = parse_ok("vfio-user:relative.sock");
	assert_string_equal(u->path, "relative.sock");
	free(u);
	parse_bad("vfio-user:");

	/* Longest path that fits: URI_PATH_MAX - 1 bytes. */
	path = repeat('p', URI_PATH_MAX - 1);
	path[0] = '/';
	s = xmalloc(URI_PATH_MAX + 16);
	sprintf(s, "vfio-user:%s", path);
	u = parse_ok(s);
	assert_int_equal(strlen(u->path), URI_PATH_MAX - 1);
	assert_string_equal(u->path, path);
	free(u);
	free(path);
	path = repeat('p', URI_PATH_MAX);
	sprintf(s, "vfio-user:%s", path);
	parse_bad(s);
	free(path);
	free(s);
}

static void test_dext(void **state)
{
	(void)state;
	expect_bdf("dext:03:00.0", URI_DEXT, 0, 3, 0, 0);
	expect_bdf("dext:ff:1f.7", URI_DEXT, 0, 0xff, 0x1f, 7);
	parse_bad("dext:0000:03:00.0"); /* no domain on macOS */
	parse_bad("dext:");
	parse_bad("dext:03:20.0");
	parse_bad("dext:03:00.8");
	parse_bad("dext:/path");
}

static void test_misc_bad(void **state)
{
	struct upci_uri *u = new_uri();
	char why[128];

	(void)state;
	parse_bad("nope:thing");
	parse_bad("http://example.com");
	parse_bad("edu");
	parse_bad("");
	parse_bad(":");
	parse_bad("sim");
	parse_bad("vfio");
	/* NULL input */
	why[0] = '\0';
	assert_int_equal(uri_parse(NULL, u, why, sizeof(why)), -EINVAL);
	assert_true(strlen(why) > 0);
	/* A one-byte buffer still gets a terminated (empty) sentence. */
	why[0] = 'X';
	why[1] = 'Y';
	assert_int_equal(uri_parse("nope:thing", u, why, 1), -EINVAL);
	assert_int_equal(why[0], '\0');
	assert_int_equal(why[1], 'Y');
	/* A short buffer is never overrun and is terminated. */
	memset(why, 'Z', sizeof(why));
	assert_int_equal(uri_parse("vfio:03:20.0", u, why, 8), -EINVAL);
	assert_int_equal(strlen(why), 7);
	assert_int_equal(why[8], 'Z');
	free(u);
}

static void test_scheme_name(void **state)
{
	(void)state;
	assert_string_equal(uri_scheme_name(URI_SIM), "sim");
	assert_string_equal(uri_scheme_name(URI_VFIO), "vfio");
	assert_string_equal(uri_scheme_name(URI_VFIO_USER), "vfio-user");
	assert_string_equal(uri_scheme_name(URI_DEXT), "dext");
}

static void test_backend_available(void **state)
{
	(void)state;
	assert_int_equal(upci_backend_available("sim"), 1);
	assert_in_range(upci_backend_available("vfio"), 0, 1);
	assert_in_range(upci_backend_available("vfio-user"), 0, 1);
	assert_in_range(upci_backend_available("dext"), 0, 1);
	assert_int_equal(upci_backend_available("nope"), -EINVAL);
	assert_int_equal(upci_backend_available(""), -EINVAL);
	assert_int_equal(upci_backend_available("SIM"), -EINVAL);
	assert_int_equal(upci_backend_available("sim:"), -EINVAL);
	assert_int_equal(upci_backend_available(NULL), -EINVAL);
}

/* upci_uri_check on a well-formed URI of @scheme. */
static void check_scheme(const char *scheme, const char *uri)
{
	char why[256];
	int avail = upci_backend_available(scheme);
	int ret;

	assert_in_range(avail, 0, 1);
	memset(why, 0, sizeof(why));
	ret = upci_uri_check(uri, why, sizeof(why));
	if (avail) {
		assert_int_equal(ret, 0);
	} else {
		assert_int_equal(ret, -ENOTSUP);
		assert_true(strlen(why) > 0);
		/* NULL @why is allowed. */
		assert_int_equal(upci_uri_check(uri, NULL, 0), -ENOTSUP);
	}
}

static void test_uri_check(void **state)
{
	static const char *const malformed[] = {
		"", "sim:", "sim:edu?", "sim:edu?a", "vfio:03:20.0", "vfio-user:", "dext:0000:03:00.0",
		"nope:x", "03:00.8", "sim:testdev?a=1,a=2",
	};
	char why[256];

	(void)state;
	assert_int_equal(upci_uri_check("sim:edu", why, sizeof(why)), 0);
	assert_int_equal(upci_uri_check("sim:testdev?vectors=64", NULL, 0), 0);
	/* sim: URIs are checked for the model and its parameters too. */
	memset(why, 0, sizeof(why));
	assert_int_equal(upci_uri_check("sim:nosuchmodel", why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "edu"));
	memset(why, 0, sizeof(why));
	assert_int_equal(upci_uri_check("sim:testdev?vectors=257", why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "vectors"));
	assert_int_equal(upci_uri_check("sim:edu?x=1", NULL, 0), -EINVAL);
	check_scheme("vfio", "vfio:0000:03:00.0");
	check_scheme("vfio", "03:00.0");
	check_scheme("vfio-user", "vfio-user:/run/dev.sock");
	check_scheme("dext", "dext:03:00.0");
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		memset(why, 0, sizeof(why));
		assert_int_equal(upci_uri_check(malformed[i], why, sizeof(why)), -EINVAL);
		assert_true(strlen(why) > 0);
		assert_int_equal(upci_uri_check(malformed[i], NULL, 0), -EINVAL);
	}
	memset(why, 0, sizeof(why));
	assert_int_equal(upci_uri_check(NULL, why, sizeof(why)), -EINVAL);
	assert_true(strlen(why) > 0);
}

static void expect_open(const char *uri, int want)
{
	upci_dev *d = (upci_dev *)(uintptr_t)1;
	int ret = upci_open(&d, uri);

	if (ret != want)
		print_error("upci_open(\"%s\") = %d, expected %d\n", uri, ret, want);
	assert_int_equal(ret, want);
	if (ret == 0)
		upci_close(d);
}

static void test_open_errors(void **state)
{
	upci_dev *d = NULL;

	(void)state;
	expect_open("sim:nosuchmodel", -ENOENT);
	expect_open("sim:testdev?vectors=0", -EINVAL);
	expect_open("sim:testdev?vectors=257", -EINVAL);
	expect_open("sim:testdev?vectors=abc", -EINVAL);
	expect_open("sim:testdev?bogus=1", -EINVAL);
	expect_open("sim:edu?bogus=1", -EINVAL);
	expect_open("sim:", -EINVAL);
	expect_open("", -EINVAL);
	expect_open("nope:x", -EINVAL);
	expect_open("vfio:03:20.0", -EINVAL);
	if (upci_backend_available("vfio") == 0)
		expect_open("vfio:0000:03:00.0", -ENOTSUP);
	if (upci_backend_available("vfio-user") == 0)
		expect_open("vfio-user:/nonexistent.sock", -ENOTSUP);
	if (upci_backend_available("dext") == 0)
		expect_open("dext:03:00.0", -ENOTSUP);
	expect_open("sim:edu", 0);
	expect_open("sim:testdev?vectors=1", 0);
	expect_open("sim:testdev?vectors=256", 0);
	assert_int_equal(upci_open(NULL, "sim:edu"), -EINVAL);
	assert_int_equal(upci_open(&d, NULL), -EINVAL);
}

/* Vectors a testdev opened by @uri reports, or the upci_open() error. */
static int testdev_nvec(const char *uri)
{
	upci_dev *d = NULL;
	uint64_t v = 0;
	int ret = upci_open(&d, uri);

	if (ret)
		return ret;
	assert_int_equal(upci_claim(d), 0);
	assert_int_equal(upci_mmio_read(d, TESTDEV_BAR_REGS, TESTDEV_REG_NVEC, 4, &v), 0);
	upci_close(d);
	return (int)v;
}

/* model.h: parameters are "decimal and 0x hex" numbers. */
static void test_open_param_numbers(void **state)
{
	(void)state;
	assert_int_equal(testdev_nvec("sim:testdev"), TESTDEV_VECTORS_DEFAULT);
	assert_int_equal(testdev_nvec("sim:testdev?vectors=64"), 64);
	assert_int_equal(testdev_nvec("sim:testdev?vectors=0x40"), 64);
	assert_int_equal(testdev_nvec("sim:testdev?vectors=256"), 256);
	assert_int_equal(testdev_nvec("sim:testdev?vectors=-1"), -EINVAL);
	assert_int_equal(testdev_nvec("sim:testdev?vectors=1k"), -EINVAL);
}

/* Not a number: leading white space. */
static void test_open_param_whitespace(void **state)
{
	(void)state;
	assert_int_equal(testdev_nvec("sim:testdev?vectors= 64"), -EINVAL);
}

/* Not octal: 010 is ten (or refused), never eight. */
static void test_open_param_octal(void **state)
{
	int n = testdev_nvec("sim:testdev?vectors=010");

	(void)state;
	assert_true(n == 10 || n == -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sim_edu),
		cmocka_unit_test(test_sim_one_param),
		cmocka_unit_test(test_sim_many_params),
		cmocka_unit_test(test_sim_model_chars),
		cmocka_unit_test(test_sim_bad_params),
		cmocka_unit_test(test_sim_param_count),
		cmocka_unit_test(test_sim_lengths),
		cmocka_unit_test(test_vfio_good),
		cmocka_unit_test(test_vfio_bad),
		cmocka_unit_test(test_vfio_user),
		cmocka_unit_test(test_dext),
		cmocka_unit_test(test_misc_bad),
		cmocka_unit_test(test_scheme_name),
		cmocka_unit_test(test_backend_available),
		cmocka_unit_test(test_uri_check),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_open_param_numbers),
		cmocka_unit_test(test_open_param_whitespace),
		cmocka_unit_test(test_open_param_octal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

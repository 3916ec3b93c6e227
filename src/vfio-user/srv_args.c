/* SPDX-License-Identifier: MIT */
/* Export endpoints and `upci serve`'s options (srv_args.h). */
#include "srv_args.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "caps_json.h"
#include "tran.h"
#include "uri.h"

const char srv_args_help[] =
	"  -s, --socket PATH     listen on a new UNIX socket at PATH. It appears only\n"
	"                        once it accepts connections, never replaces a file\n"
	"                        (but a stale socket, nobody listening, is replaced),\n"
	"                        and is removed on exit if it is still the same file\n"
	"  -f, --fd N            use inherited fd N: a listening UNIX socket (clients are\n"
	"                        accepted one after another) or a connected one (served\n"
	"                        once, then it exits)\n"
	"  -T, --dma-timeout MS  how long device DMA to memory the client shared\n"
	"                        without an fd waits for its answer (default 5000)\n"
	"  -m, --socket-mode MODE  permission bits of the --socket file, octal, at most\n"
	"                        777 (default 600: only this user can connect; the\n"
	"                        umask plays no part)\n"
	"  -g, --socket-group GROUP  group of the --socket file, a name or a number;\n"
	"                        the mode then defaults to 660 (the group can connect)\n"
	"  -u, --allow-uid USER  serve only clients running as USER (a name or a\n"
	"                        number) or as this user, whoever can open the socket;\n"
	"                        repeat for more users (up to 16). Others get EACCES.\n"
	"                        Also for --fd\n";

void srv_endpoint_init(struct srv_endpoint *ep)
{
	memset(ep, 0, sizeof(*ep));
	ep->socket_path = NULL;
	ep->fd = -1;
	ep->mode = -1;
	ep->gid = (gid_t)-1;
	vfu_server_opts_default(&ep->so);
}

int srv_endpoint_copy(struct srv_endpoint *dst, const struct srv_endpoint *src)
{
	*dst = *src;
	if (src->socket_path) {
		dst->socket_path = strdup(src->socket_path);
		if (!dst->socket_path)
			return -ENOMEM;
	}
	return 0;
}

void srv_endpoint_free(struct srv_endpoint *ep)
{
	free(ep->socket_path);
	ep->socket_path = NULL;
}

void srv_endpoint_take_socket(struct srv_endpoint *ep)
{
	free(ep->socket_path);
	ep->socket_path = NULL;
	ep->fd = -1;
}

int srv_endpoint_set_socket(struct srv_endpoint *ep, const char *path)
{
	char *p;

	if (!path || !path[0] || strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return -EINVAL;
	p = strdup(path);
	if (!p)
		return -ENOMEM;
	free(ep->socket_path);
	ep->socket_path = p;
	return 0;
}

int srv_endpoint_set(struct srv_endpoint *ep, enum upci_server_opt opt, int64_t v)
{
	switch (opt) {
	case UPCI_SERVER_FD:
		if (v < 0 || v > INT_MAX)
			return -EINVAL;
		ep->fd = (int)v;
		return 0;
	case UPCI_SERVER_SOCKET_MODE:
		if (v < 0 || v > 0777)
			return -EINVAL;
		ep->mode = (int)v;
		return 0;
	case UPCI_SERVER_SOCKET_GROUP:
		if (v < 0 || v >= (int64_t)UINT32_MAX) /* (gid_t)-1 means "none" */
			return -EINVAL;
		ep->gid = (gid_t)v;
		return 0;
	case UPCI_SERVER_ALLOW_UID:
		if (v < 0 || v >= (int64_t)UINT32_MAX)
			return -EINVAL;
		if (ep->so.n_allow_uids == VFU_SRV_MAX_ALLOW_UIDS)
			return -ENOSPC;
		ep->so.allow_uids[ep->so.n_allow_uids++] = (uid_t)v;
		return 0;
	case UPCI_SERVER_DMA_TIMEOUT_MS:
		if (v < 1 || v > INT_MAX)
			return -EINVAL;
		ep->so.dma_timeout_ms = (int)v;
		return 0;
	case UPCI_SERVER_MAX_DMA_MAPS:
		if (v < 1 || v > VFU_SRV_MAX_DMA_MAPS)
			return -EINVAL;
		ep->so.max_dma_maps = (uint32_t)v;
		return 0;
	case UPCI_SERVER_MAX_DATA_XFER:
		if (v < 4096 || v > VFU_CAPS_MAX_DATA_XFER_LIMIT)
			return -EINVAL;
		ep->so.max_data_xfer_size = (uint64_t)v;
		return 0;
	case UPCI_SERVER_MAX_MSG_FDS:
		if (v < 1 || v > VFU_MSG_MAX_FDS)
			return -EINVAL;
		ep->so.max_msg_fds = (uint32_t)v;
		return 0;
	default:
		return -EINVAL;
	}
}

int srv_endpoint_check(const struct srv_endpoint *ep, char *why, size_t whylen)
{
	if (!ep->socket_path == (ep->fd < 0))
		return uri_fail(why, whylen, "give exactly one of --socket PATH and --fd N");
	if (!ep->socket_path && (ep->mode >= 0 || ep->gid != (gid_t)-1))
		return uri_fail(why, whylen, "--socket-mode and --socket-group need --socket (an inherited fd's file is "
				       "not ours to change)");
	return 0;
}

/* ---- parsing ---- */

/* Decimal only: no sign, no spaces, nothing after the digits. */
static int parse_dec(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Octal permission bits: 1 to 4 digits, at most 0777. */
static int parse_mode(const char *s, int *out)
{
	unsigned v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 4)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '7')
			return -EINVAL;
		v = v * 8 + (unsigned)(*s - '0');
	}
	if (v > 0777)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

/* A number, or a group (@group) or user name. */
static int parse_id(const char *s, int group, uint64_t *out, char *why, size_t whylen)
{
	const char *opt = group ? "--socket-group" : "--allow-uid", *what = group ? "group" : "user";

	if (s[0] >= '0' && s[0] <= '9') {
		if (parse_dec(s, UINT32_MAX - 1, out)) /* (uid_t)-1 means "none" */
			return uri_fail(why, whylen, "bad %s \"%s\" (expected a %s name or number)", opt, s, what);
	} else if (group) {
		struct group *g = getgrnam(s);

		if (!g)
			return uri_fail(why, whylen, "bad %s \"%s\" (no such %s)", opt, s, what);
		*out = g->gr_gid;
	} else {
		struct passwd *pw = getpwnam(s);

		if (!pw)
			return uri_fail(why, whylen, "bad %s \"%s\" (no such %s)", opt, s, what);
		*out = pw->pw_uid;
	}
	return 0;
}

struct opt_def {
	char short_name;
	const char *long_name;
};

static const struct opt_def opt_defs[] = {
	{'s', "socket"}, {'f', "fd"}, {'T', "dma-timeout"}, {'m', "socket-mode"}, {'g', "socket-group"},
	{'u', "allow-uid"},
};
#define NOPTS (sizeof(opt_defs) / sizeof(opt_defs[0]))

/* Which option argv[*i] is (index into opt_defs, -1: not ours) and its
 * value (the next argument when not attached). */
static int match(int argc, char **argv, int *i, const char **val, char *why, size_t whylen, int *err)
{
	const char *a = argv[*i];

	*err = 0;
	for (size_t k = 0; k < NOPTS; k++) {
		size_t n = strlen(opt_defs[k].long_name);
		int is_long = a[1] == '-' && strncmp(a + 2, opt_defs[k].long_name, n) == 0 &&
			      (a[2 + n] == '\0' || a[2 + n] == '=');
		int is_short = a[1] == opt_defs[k].short_name;

		if (!is_long && !is_short)
			continue;
		if (is_long && a[2 + n] == '=') {
			*val = a + 3 + n;
		} else if (is_short && a[2] != '\0') {
			*val = a + 2;
		} else if (*i + 1 < argc) {
			*val = argv[++*i];
		} else {
			*err = is_long ? uri_fail(why, whylen, "option \"%s\" needs a value", a)
				       : uri_fail(why, whylen, "option -%c needs a value", opt_defs[k].short_name);
			return -1;
		}
		return (int)k;
	}
	return -1;
}

static int apply(struct srv_endpoint *ep, char opt, const char *v, char *why, size_t whylen)
{
	uint64_t n = 0;
	int ret;

	switch (opt) {
	case 's':
		if (!v[0])
			return uri_fail(why, whylen, "empty --socket path");
		ret = srv_endpoint_set_socket(ep, v);
		if (ret == -EINVAL)
			return uri_fail(why, whylen, "--socket path too long (at most %zu bytes)",
				    sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		return ret;
	case 'f':
		if (parse_dec(v, INT_MAX, &n))
			return uri_fail(why, whylen, "bad --fd \"%s\" (expected a file descriptor number)", v);
		ep->fd = (int)n;
		return 0;
	case 'T':
		if (parse_dec(v, INT_MAX, &n) || n == 0)
			return uri_fail(why, whylen, "bad --dma-timeout \"%s\" (expected 1..%d milliseconds)", v, INT_MAX);
		ep->so.dma_timeout_ms = (int)n;
		return 0;
	case 'm':
		if (parse_mode(v, &ep->mode))
			return uri_fail(why, whylen, "bad --socket-mode \"%s\" (expected octal permission bits, 0..777)", v);
		return 0;
	case 'g':
		ret = parse_id(v, 1, &n, why, whylen);
		if (ret == 0)
			ep->gid = (gid_t)n;
		return ret;
	default: /* 'u' */
		ret = parse_id(v, 0, &n, why, whylen);
		if (ret)
			return ret;
		if (ep->so.n_allow_uids == VFU_SRV_MAX_ALLOW_UIDS)
			return uri_fail(why, whylen, "more than %u --allow-uid", VFU_SRV_MAX_ALLOW_UIDS);
		ep->so.allow_uids[ep->so.n_allow_uids++] = (uid_t)n;
		return 0;
	}
}

int srv_args_parse(struct srv_endpoint *ep, int argc, char **argv, char *why, size_t whylen)
{
	char **left = calloc((size_t)argc, sizeof(*left));
	int nleft = 0, ret = 0, i;

	if (!left)
		return -ENOMEM;
	for (i = 1; i < argc && ret == 0; i++) {
		const char *a = argv[i], *val = NULL;
		int k, err;

		if (strcmp(a, "--") == 0) {
			for (i++; i < argc; i++)
				left[nleft++] = argv[i];
			break;
		}
		if (a[0] != '-' || a[1] == '\0') {
			left[nleft++] = argv[i];
			continue;
		}
		k = match(argc, argv, &i, &val, why, whylen, &err);
		if (err)
			ret = err;
		else if (k < 0)
			left[nleft++] = argv[i]; /* not ours: the caller's */
		else
			ret = apply(ep, opt_defs[k].short_name, val, why, whylen);
	}
	if (ret == 0)
		ret = srv_endpoint_check(ep, why, whylen);
	if (ret == 0) {
		memcpy(argv + 1, left, (size_t)nleft * sizeof(*left));
		ret = nleft;
	}
	free(left);
	return ret;
}

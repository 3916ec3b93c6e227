/* SPDX-License-Identifier: MIT */
/*
 * VERSION capabilities with json-c. The JSON comes from the peer: it is
 * length-checked and terminator-checked before json-c sees it, parsed in
 * strict mode with UTF-8 validation and a depth limit, and every known
 * member is type- and range-checked. Nothing is written to the caller's
 * struct until the whole object passed.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "caps_json.h"

#define K_CAPS "capabilities"
#define K_MAX_FDS "max_msg_fds"
#define K_MAX_XFER "max_data_xfer_size"
#define K_MAX_DMA "max_dma_maps"
#define K_PGSIZES "pgsizes"
#define K_TWIN "twin_socket"
#define K_TWIN_SUPPORTED "supported"
#define K_TWIN_FD_INDEX "fd_index"
#define K_MULTI "write_multiple"
#define K_BUS "x-upci-dma-bus-addr" /* our extension: see proto.h */
#define K_MIGR "migration"
#define K_MIGR_PGSIZE "pgsize"
#define K_MIGR_BITMAP "max_bitmap_size"

void vfu_caps_default(struct vfu_caps *c)
{
	c->max_msg_fds = VFU_DEFAULT_MAX_MSG_FDS;
	c->max_data_xfer_size = VFU_DEFAULT_MAX_DATA_XFER_SIZE;
	c->max_dma_maps = VFU_DEFAULT_MAX_DMA_MAPS;
	c->pgsizes = VFU_DEFAULT_PGSIZES;
	c->twin_socket = false;
	c->twin_socket_fd_index = -1;
	c->write_multiple = false;
	c->dma_bus_addr = false;
	c->migration = false;
	c->mig_pgsize = VFU_DEFAULT_MIG_PGSIZE;
	c->mig_max_bitmap_size = VFU_DEFAULT_MIG_MAX_BITMAP_SIZE;
}

static bool pgsizes_ok(uint64_t v)
{
	return v != 0 && (v & (VFU_CAPS_MIN_PGSIZE - 1)) == 0;
}

static bool mig_pgsize_ok(uint64_t v)
{
	return v >= VFU_CAPS_MIN_PGSIZE && v <= VFU_CAPS_MAX_MIG_PGSIZE && (v & (v - 1)) == 0;
}

int vfu_caps_check(const struct vfu_caps *c)
{
	if (c->max_msg_fds > VFU_CAPS_MAX_MSG_FDS_LIMIT ||
	    c->max_data_xfer_size == 0 || c->max_data_xfer_size > VFU_CAPS_MAX_DATA_XFER_LIMIT ||
	    c->max_dma_maps > VFU_CAPS_MAX_DMA_MAPS_LIMIT ||
	    !pgsizes_ok(c->pgsizes) ||
	    c->twin_socket_fd_index < -1 ||
	    c->twin_socket_fd_index >= (int32_t)VFU_CAPS_MAX_MSG_FDS_LIMIT)
		return -ERANGE;
	if (c->migration &&
	    (!mig_pgsize_ok(c->mig_pgsize) || c->mig_max_bitmap_size == 0 ||
	     c->mig_max_bitmap_size > VFU_CAPS_MAX_BITMAP_LIMIT))
		return -ERANGE;
	return 0;
}

/* ---- parsing ---- */

/*
 * Member @key of @obj as an unsigned integer in [lo, hi]; absent leaves
 * *out alone. A present member must be a JSON integer (json-c keeps
 * integers and doubles apart; huge integers saturate, and so fail hi).
 */
static int get_uint(struct json_object *obj, const char *key, uint64_t lo,
		    uint64_t hi, uint64_t *out)
{
	struct json_object *v;
	uint64_t u;

	if (!json_object_object_get_ex(obj, key, &v))
		return 0;
	if (v == NULL || !json_object_is_type(v, json_type_int))
		return -EINVAL;
	if (json_object_get_int64(v) < 0)
		return -ERANGE;
	u = json_object_get_uint64(v);
	if (u < lo || u > hi)
		return -ERANGE;
	*out = u;
	return 0;
}

static int get_bool(struct json_object *obj, const char *key, bool *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v))
		return 0;
	if (v == NULL || !json_object_is_type(v, json_type_boolean))
		return -EINVAL;
	*out = json_object_get_boolean(v) != 0;
	return 0;
}

/* Member @key as an object; absent gives NULL and 0. */
static int get_obj(struct json_object *obj, const char *key, struct json_object **out)
{
	struct json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(obj, key, &v))
		return 0;
	if (v == NULL || !json_object_is_type(v, json_type_object))
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_twin(struct json_object *caps, struct vfu_caps *c)
{
	struct json_object *o;
	uint64_t idx = UINT64_MAX;
	int rc;

	rc = get_obj(caps, K_TWIN, &o);
	if (rc || o == NULL)
		return rc;
	rc = get_bool(o, K_TWIN_SUPPORTED, &c->twin_socket);
	if (!rc)
		rc = get_uint(o, K_TWIN_FD_INDEX, 0, VFU_CAPS_MAX_MSG_FDS_LIMIT - 1, &idx);
	if (!rc && idx != UINT64_MAX)
		c->twin_socket_fd_index = (int32_t)idx;
	return rc;
}

static int parse_migration(struct json_object *caps, struct vfu_caps *c)
{
	struct json_object *o;
	int rc;

	rc = get_obj(caps, K_MIGR, &o);
	if (rc || o == NULL)
		return rc;
	c->migration = true;
	rc = get_uint(o, K_MIGR_PGSIZE, VFU_CAPS_MIN_PGSIZE, VFU_CAPS_MAX_MIG_PGSIZE,
		      &c->mig_pgsize);
	if (!rc && !mig_pgsize_ok(c->mig_pgsize))
		rc = -ERANGE;
	if (!rc)
		rc = get_uint(o, K_MIGR_BITMAP, 1, VFU_CAPS_MAX_BITMAP_LIMIT,
			      &c->mig_max_bitmap_size);
	return rc;
}

static int parse_caps_object(struct json_object *caps, struct vfu_caps *c)
{
	uint64_t fds = c->max_msg_fds, dma = c->max_dma_maps;
	int rc;

	rc = get_uint(caps, K_MAX_FDS, 0, VFU_CAPS_MAX_MSG_FDS_LIMIT, &fds);
	if (!rc)
		rc = get_uint(caps, K_MAX_XFER, 1, VFU_CAPS_MAX_DATA_XFER_LIMIT,
			      &c->max_data_xfer_size);
	if (!rc)
		rc = get_uint(caps, K_MAX_DMA, 0, VFU_CAPS_MAX_DMA_MAPS_LIMIT, &dma);
	if (!rc)
		rc = get_uint(caps, K_PGSIZES, 1, UINT64_MAX, &c->pgsizes);
	if (!rc && !pgsizes_ok(c->pgsizes))
		rc = -ERANGE;
	if (!rc)
		rc = get_bool(caps, K_MULTI, &c->write_multiple);
	if (!rc)
		rc = get_bool(caps, K_BUS, &c->dma_bus_addr);
	if (!rc)
		rc = parse_twin(caps, c);
	if (!rc)
		rc = parse_migration(caps, c);
	c->max_msg_fds = (uint32_t)fds;
	c->max_dma_maps = (uint32_t)dma;
	return rc;
}

int vfu_caps_parse(const char *json, size_t len, struct vfu_caps *out)
{
	struct json_tokener *tok;
	struct json_object *top, *caps;
	struct vfu_caps c;
	size_t slen;
	int rc;

	vfu_caps_default(&c);
	if (json == NULL || len == 0 || json[len - 1] != '\0')
		return -EINVAL; /* the string must end inside the message */
	slen = len - 1;
	if (memchr(json, '\0', slen) != NULL)
		return -EINVAL; /* bytes after an early NUL would be smuggled */
	if (slen == 0) {
		*out = c;
		return 0;
	}
	if (slen >= INT_MAX)
		return -EINVAL;

	tok = json_tokener_new_ex(VFU_CAPS_JSON_MAX_DEPTH);
	if (tok == NULL)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	/* the length includes the NUL, so a bare number can end */
	top = json_tokener_parse_ex(tok, json, (int)len);
	if (top == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != slen) {
		rc = -EINVAL;
		goto out;
	}
	if (!json_object_is_type(top, json_type_object)) {
		rc = -EINVAL;
		goto out;
	}
	rc = get_obj(top, K_CAPS, &caps);
	if (!rc && caps != NULL)
		rc = parse_caps_object(caps, &c);
	if (!rc)
		*out = c;
out:
	json_object_put(top);
	json_tokener_free(tok);
	return rc;
}

int vfu_version_parse(const void *payload, size_t len, uint16_t *major,
		      uint16_t *minor, struct vfu_caps *caps)
{
	const uint8_t *p = payload;
	struct vfu_caps c;
	int rc;

	if (p == NULL || len < sizeof(struct vfu_version))
		return -EINVAL;
	vfu_caps_default(&c);
	if (len > sizeof(struct vfu_version)) {
		rc = vfu_caps_parse((const char *)p + sizeof(struct vfu_version),
				    len - sizeof(struct vfu_version), &c);
		if (rc)
			return rc;
	}
	memcpy(major, p + offsetof(struct vfu_version, major), sizeof(*major));
	memcpy(minor, p + offsetof(struct vfu_version, minor), sizeof(*minor));
	*caps = c;
	return 0;
}

/* ---- emitting ---- */

/* Add @val under constant @key; @val is released if the add fails. */
static int add(struct json_object *obj, const char *key, struct json_object *val)
{
	if (val == NULL)
		return -ENOMEM;
	if (json_object_object_add_ex(obj, key, val,
				      JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_KEY_IS_CONSTANT)) {
		json_object_put(val);
		return -ENOMEM;
	}
	return 0;
}

static int add_uint(struct json_object *obj, const char *key, uint64_t v)
{
	return add(obj, key, json_object_new_uint64(v));
}

static int add_bool(struct json_object *obj, const char *key, bool v)
{
	return add(obj, key, json_object_new_boolean(v));
}

static int build_twin(struct json_object *caps, const struct vfu_caps *c)
{
	struct json_object *o = json_object_new_object();
	int rc;

	if (o == NULL)
		return -ENOMEM;
	rc = add_bool(o, K_TWIN_SUPPORTED, true);
	if (!rc && c->twin_socket_fd_index >= 0)
		rc = add_uint(o, K_TWIN_FD_INDEX, (uint64_t)c->twin_socket_fd_index);
	if (rc) {
		json_object_put(o);
		return rc;
	}
	return add(caps, K_TWIN, o);
}

static int build_migration(struct json_object *caps, const struct vfu_caps *c)
{
	struct json_object *o = json_object_new_object();
	int rc;

	if (o == NULL)
		return -ENOMEM;
	rc = add_uint(o, K_MIGR_PGSIZE, c->mig_pgsize);
	if (!rc)
		rc = add_uint(o, K_MIGR_BITMAP, c->mig_max_bitmap_size);
	if (rc) {
		json_object_put(o);
		return rc;
	}
	return add(caps, K_MIGR, o);
}

static int build_caps(struct json_object *caps, const struct vfu_caps *c)
{
	int rc;

	rc = add_uint(caps, K_MAX_FDS, c->max_msg_fds);
	if (!rc)
		rc = add_uint(caps, K_MAX_XFER, c->max_data_xfer_size);
	if (!rc)
		rc = add_uint(caps, K_MAX_DMA, c->max_dma_maps);
	if (!rc)
		rc = add_uint(caps, K_PGSIZES, c->pgsizes);
	if (!rc && c->write_multiple)
		rc = add_bool(caps, K_MULTI, true);
	if (!rc && c->dma_bus_addr)
		rc = add_bool(caps, K_BUS, true);
	if (!rc && c->twin_socket)
		rc = build_twin(caps, c);
	if (!rc && c->migration)
		rc = build_migration(caps, c);
	return rc;
}

int vfu_caps_to_json(const struct vfu_caps *c, char **out)
{
	struct json_object *top, *caps;
	const char *s;
	int rc;

	rc = vfu_caps_check(c);
	if (rc)
		return rc;
	top = json_object_new_object();
	caps = json_object_new_object();
	if (top == NULL || caps == NULL) {
		json_object_put(caps);
		json_object_put(top);
		return -ENOMEM;
	}
	rc = build_caps(caps, c);
	if (rc) {
		json_object_put(caps);
		json_object_put(top);
		return rc;
	}
	rc = add(top, K_CAPS, caps);
	if (!rc) {
		s = json_object_to_json_string_ext(top, JSON_C_TO_STRING_PLAIN);
		*out = s ? strdup(s) : NULL;
		if (*out == NULL)
			rc = -ENOMEM;
	}
	json_object_put(top);
	return rc;
}

int vfu_version_build(uint16_t major, uint16_t minor, const struct vfu_caps *c,
		      uint8_t **payload, size_t *len)
{
	struct vfu_version v = { .major = major, .minor = minor };
	char *json;
	size_t jlen;
	uint8_t *p;
	int rc;

	rc = vfu_caps_to_json(c, &json);
	if (rc)
		return rc;
	jlen = strlen(json) + 1; /* the NUL travels too */
	p = malloc(sizeof(v) + jlen);
	if (p == NULL) {
		free(json);
		return -ENOMEM;
	}
	memcpy(p, &v, sizeof(v));
	memcpy(p + sizeof(v), json, jlen);
	free(json);
	*payload = p;
	*len = sizeof(v) + jlen;
	return 0;
}

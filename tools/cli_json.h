/* SPDX-License-Identifier: MIT */
/*
 * --json output of info, list, config and irq (schema: docs/cli-json.md,
 * docs/cli-json.schema.json). One JSON document per invocation, except
 * irq, which prints one object per event, one per line (JSON Lines).
 */
#ifndef UPCI_TOOLS_CLI_JSON_H
#define UPCI_TOOLS_CLI_JSON_H

#include <json-c/json.h>

#include "lspci.h"
#include "upci/upci.h"

/* Print @o (one line when @one_line, else indented), free it. EXIT_OK, or
 * EXIT_FAIL when it could not be written (also reported). */
int json_emit(struct json_object *o, int one_line);

/* Shorthands that tolerate allocation failures (json-c ignores NULL). */
void json_set_int(struct json_object *o, const char *k, int64_t v);
void json_set_str(struct json_object *o, const char *k, const char *v); /* NULL: null */
/* A number written with @decimals digits after the point (not %.17g). */
struct json_object *json_double(double v, int decimals);

/* The info object for @d (opened as @dev). Returns the exit code. */
int info_json(upci_dev *dev, const struct ls_dev *d);

#endif

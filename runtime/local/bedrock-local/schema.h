/* schema.h - the JSON-schema-style checks every model family's body rules are
 * made of, and the messages Bedrock answers a body that breaks them with:
 *
 *   "Malformed input request: #/textToImageParams/text: expected maxLength: 512, actual: 536,
 *    please reformat your input and try again."
 *
 * Each check returns IG_OK, or IG_ERR_INVALID_ARG after writing the whole message (prefix,
 * "path: detail", suffix) into the bl_msg. String lengths count characters (Unicode code
 * points), as JSON Schema counts them; paths are JSON pointers ("#", "#/seed").
 */
#ifndef BEDROCK_LOCAL_SCHEMA_H
#define BEDROCK_LOCAL_SCHEMA_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define BL_ECHO_MAX 64 /* longest piece of a rejected value echoed back */

/* Where a violation's message goes. */
typedef struct {
    char *out;
    size_t size;
} bl_msg;

/* Writes "Malformed input request: <detail>, please reformat ..." and returns
 * IG_ERR_INVALID_ARG. */
ig_err bl_violation(bl_msg *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The type names JSON-schema validators print ("expected type: Integer, found: String"). */
const char *bl_type_name(const json_t *v);

/* Characters in a UTF-8 string jansson has already checked. */
size_t bl_utf8_chars(const char *s, size_t len);

/* 1 when s is one of the NULL-terminated list. */
int bl_in_list(const char *const *list, const char *s);

ig_err bl_check_object(bl_msg *m, const json_t *v, const char *path);
/* "path: extraneous key [k] is not permitted" for the first key not in allowed. */
ig_err bl_check_keys(bl_msg *m, const json_t *obj, const char *path, const char *const *allowed);
/* A string member; *out is NULL when it is absent and not required. */
ig_err bl_get_string(bl_msg *m, const json_t *obj, const char *path, const char *key, int required,
                     const json_t **out);
ig_err bl_check_length(bl_msg *m, const json_t *s, const char *path, const char *key, size_t min,
                       size_t max);
ig_err bl_check_enum(bl_msg *m, const json_t *s, const char *path, const char *key,
                     const char *const *values);
/* An integer member in [lo, hi]; *out keeps its value when the member is absent. */
ig_err bl_get_int(bl_msg *m, const json_t *obj, const char *path, const char *key, int64_t lo,
                  int64_t hi, int64_t *out);
/* A number member (integer or real) in [lo, hi]; *out keeps its value when absent. */
ig_err bl_get_number(bl_msg *m, const json_t *obj, const char *path, const char *key, double lo,
                     double hi, double *out);

#endif

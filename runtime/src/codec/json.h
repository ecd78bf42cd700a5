/* json.h - small helpers over jansson that several modules need alike. */
#ifndef IG_JSON_H
#define IG_JSON_H

#include <jansson.h>

/* The value of obj's string member `name`, or NULL when it is absent or not a string (obj may
 * be anything, NULL included). Valid while obj holds the member. */
const char *ig_json_str(const json_t *obj, const char *name);

/* The same, with "" in place of NULL (for log lines and messages). */
const char *ig_json_str_or_empty(const json_t *obj, const char *name);

#endif

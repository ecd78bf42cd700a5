/* json.c - string members of JSON objects. */
#include "codec/json.h"

const char *ig_json_str(const json_t *obj, const char *name)
{
    json_t *v = json_object_get(obj, name);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

const char *ig_json_str_or_empty(const json_t *obj, const char *name)
{
    const char *s = ig_json_str(obj, name);
    return s ? s : "";
}

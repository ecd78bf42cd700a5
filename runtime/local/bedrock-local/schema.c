/* schema.c - JSON-schema-style checks with Bedrock's ValidationException wording.
 * The first violation found is the one reported. */
#include "schema.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MALFORMED_PREFIX "Malformed input request: "
#define MALFORMED_SUFFIX ", please reformat your input and try again."

ig_err bl_violation(bl_msg *m, const char *fmt, ...)
{
    char detail[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    snprintf(m->out, m->size, MALFORMED_PREFIX "%s" MALFORMED_SUFFIX, detail);
    return IG_ERR_INVALID_ARG;
}

const char *bl_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "JSONObject";
    case JSON_ARRAY: return "JSONArray";
    case JSON_STRING: return "String";
    case JSON_INTEGER: return "Integer";
    case JSON_REAL: return "BigDecimal";
    case JSON_TRUE:
    case JSON_FALSE: return "Boolean";
    default: return "Null";
    }
}

size_t bl_utf8_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xc0) != 0x80; /* count lead bytes only */
    return n;
}

int bl_in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return 1;
    return 0;
}

ig_err bl_check_object(bl_msg *m, const json_t *v, const char *path)
{
    if (!json_is_object(v))
        return bl_violation(m, "%s: expected type: JSONObject, found: %s", path, bl_type_name(v));
    return IG_OK;
}

ig_err bl_check_keys(bl_msg *m, const json_t *obj, const char *path, const char *const *allowed)
{
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        (void)v;
        if (!bl_in_list(allowed, key))
            return bl_violation(m, "%s: extraneous key [%.*s] is not permitted", path, BL_ECHO_MAX,
                                key);
    }
    return IG_OK;
}

ig_err bl_get_string(bl_msg *m, const json_t *obj, const char *path, const char *key, int required,
                     const json_t **out)
{
    const json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v) {
        if (required)
            return bl_violation(m, "%s: required key [%s] not found", path, key);
        return IG_OK;
    }
    if (!json_is_string(v))
        return bl_violation(m, "%s/%s: expected type: String, found: %s", path, key,
                            bl_type_name(v));
    *out = v;
    return IG_OK;
}

ig_err bl_check_length(bl_msg *m, const json_t *s, const char *path, const char *key, size_t min,
                       size_t max)
{
    size_t n = bl_utf8_chars(json_string_value(s), json_string_length(s));
    if (n < min)
        return bl_violation(m, "%s/%s: expected minLength: %zu, actual: %zu", path, key, min, n);
    if (n > max)
        return bl_violation(m, "%s/%s: expected maxLength: %zu, actual: %zu", path, key, max, n);
    return IG_OK;
}

ig_err bl_check_enum(bl_msg *m, const json_t *s, const char *path, const char *key,
                     const char *const *values)
{
    if (!bl_in_list(values, json_string_value(s)))
        return bl_violation(m, "%s/%s: %.*s is not a valid enum value", path, key, BL_ECHO_MAX,
                            json_string_value(s));
    return IG_OK;
}

ig_err bl_get_int(bl_msg *m, const json_t *obj, const char *path, const char *key, int64_t lo,
                  int64_t hi, int64_t *out)
{
    const json_t *v = json_object_get(obj, key);
    if (!v)
        return IG_OK;
    if (!json_is_integer(v))
        return bl_violation(m, "%s/%s: expected type: Integer, found: %s", path, key,
                            bl_type_name(v));
    json_int_t n = json_integer_value(v);
    if (n < lo)
        return bl_violation(m, "%s/%s: %lld is not greater or equal to %lld", path, key,
                            (long long)n, (long long)lo);
    if (n > hi)
        return bl_violation(m, "%s/%s: %lld is not less or equal to %lld", path, key,
                            (long long)n, (long long)hi);
    *out = n;
    return IG_OK;
}

ig_err bl_get_number(bl_msg *m, const json_t *obj, const char *path, const char *key, double lo,
                     double hi, double *out)
{
    const json_t *v = json_object_get(obj, key);
    if (!v)
        return IG_OK;
    if (!json_is_number(v))
        return bl_violation(m, "%s/%s: expected type: Number, found: %s", path, key,
                            bl_type_name(v));
    double d = json_number_value(v);
    if (d < lo)
        return bl_violation(m, "%s/%s: %g is not greater or equal to %g", path, key, d, lo);
    if (d > hi)
        return bl_violation(m, "%s/%s: %g is not less or equal to %g", path, key, d, hi);
    *out = d;
    return IG_OK;
}

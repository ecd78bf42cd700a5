/* members.c - walks a member table with schema.c's checks. */
#include "members.h"

#include <string.h>

/* The allowed keys of a table, as bl_check_keys wants them. */
static void key_list(const bl_member *members, const char **keys)
{
    size_t n = 0;
    for (; members[n].name && n < BL_MEMBERS_MAX; n++)
        keys[n] = members[n].name;
    keys[n] = NULL;
}

/* An array of lo..hi strings (everit's wording for item counts). */
static ig_err check_images(bl_msg *m, const json_t *v, const char *path, const bl_member *d)
{
    if (!json_is_array(v))
        return bl_violation(m, "%s/%s: expected type: JSONArray, found: %s", path, d->name,
                            bl_type_name(v));
    size_t n = json_array_size(v);
    if (n < (size_t)d->lo)
        return bl_violation(m, "%s/%s: expected minimum item count: %zu, found: %zu", path,
                            d->name, (size_t)d->lo, n);
    if (n > (size_t)d->hi)
        return bl_violation(m, "%s/%s: expected maximum item count: %zu, found: %zu", path,
                            d->name, (size_t)d->hi, n);
    for (size_t i = 0; i < n; i++)
        if (!json_is_string(json_array_get(v, i)))
            return bl_violation(m, "%s/%s/%zu: expected type: String, found: %s", path, d->name,
                                i, bl_type_name(json_array_get(v, i)));
    return IG_OK;
}

static ig_err check_one(bl_msg *m, const json_t *body, const char *path, const bl_member *d,
                        const json_t **value, double *number)
{
    const json_t *v = json_object_get(body, d->name);
    ig_err e = IG_OK;
    *value = v;
    *number = d->def;
    if (!v)
        return d->required ? bl_violation(m, "%s: required key [%s] not found", path, d->name)
                           : IG_OK;
    switch (d->kind) {
    case BL_MEMBER_TEXT:
        e = bl_get_string(m, body, path, d->name, 0, value);
        return e ? e : bl_check_length(m, v, path, d->name, (size_t)d->lo, (size_t)d->hi);
    case BL_MEMBER_ENUM:
        e = bl_get_string(m, body, path, d->name, 0, value);
        return e ? e : bl_check_enum(m, v, path, d->name, d->values);
    case BL_MEMBER_IMAGE:
        return bl_get_string(m, body, path, d->name, 0, value);
    case BL_MEMBER_IMAGES:
        return check_images(m, v, path, d);
    case BL_MEMBER_BOOL:
        if (!json_is_boolean(v))
            return bl_violation(m, "%s/%s: expected type: Boolean, found: %s", path, d->name,
                                bl_type_name(v));
        return IG_OK;
    case BL_MEMBER_INT: {
        int64_t n = (int64_t)d->def;
        e = bl_get_int(m, body, path, d->name, (int64_t)d->lo, (int64_t)d->hi, &n);
        *number = (double)n;
        return e;
    }
    case BL_MEMBER_NUMBER:
        return bl_get_number(m, body, path, d->name, d->lo, d->hi, number);
    }
    return IG_OK;
}

ig_err bl_check_members(bl_msg *m, const json_t *body, const char *path, const bl_member *members,
                        bl_values *out)
{
    const char *keys[BL_MEMBERS_MAX + 1];
    memset(out, 0, sizeof *out);
    out->members = members;
    key_list(members, keys);
    ig_err e = bl_check_object(m, body, path);
    if (!e)
        e = bl_check_keys(m, body, path, keys);
    for (size_t i = 0; !e && members[i].name && i < BL_MEMBERS_MAX; i++)
        e = check_one(m, body, path, &members[i], &out->value[i], &out->number[i]);
    return e;
}

static int index_of(const bl_values *v, const char *name)
{
    for (int i = 0; i < BL_MEMBERS_MAX && v->members[i].name; i++)
        if (strcmp(v->members[i].name, name) == 0)
            return i;
    return -1;
}

const json_t *bl_value(const bl_values *v, const char *name)
{
    int i = index_of(v, name);
    return i < 0 ? NULL : v->value[i];
}

const char *bl_value_text(const bl_values *v, const char *name, size_t *len)
{
    const json_t *s = bl_value(v, name);
    *len = s ? json_string_length(s) : 0;
    return s ? json_string_value(s) : "";
}

double bl_value_number(const bl_values *v, const char *name)
{
    int i = index_of(v, name);
    return i < 0 ? 0.0 : v->number[i];
}

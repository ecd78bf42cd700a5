/* extract.c - image extraction from model answers. */
#include "handler/extract.h"

#include <string.h>

#define IG_PATH_MAX_SEGMENTS 8
#define IG_SEGMENT_MAX 64

typedef struct {
    char name[IG_SEGMENT_MAX];
    int each; /* "name[]" */
} ig_segment;

static ig_err ig_path_parse(const char *path, ig_segment *segs, size_t *n, ig_error *err)
{
    *n = 0;
    if (!path || !*path)
        return ig_error_set(err, IG_ERR_INVALID_ARG, "the image path is empty");
    const char *p = path;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (*n == IG_PATH_MAX_SEGMENTS || len == 0 || len >= IG_SEGMENT_MAX)
            return ig_error_set(err, IG_ERR_INVALID_ARG, "the image path \"%.80s\" is malformed",
                                path);
        ig_segment *s = &segs[(*n)++];
        s->each = len > 2 && p[len - 2] == '[' && p[len - 1] == ']';
        size_t nl = s->each ? len - 2 : len;
        memcpy(s->name, p, nl);
        s->name[nl] = '\0';
        if (strpbrk(s->name, "[]"))
            return ig_error_set(err, IG_ERR_INVALID_ARG, "the image path \"%.80s\" is malformed",
                                path);
        p += len;
        if (*p == '.') {
            p++;
            if (!*p)
                return ig_error_set(err, IG_ERR_INVALID_ARG,
                                    "the image path \"%.80s\" is malformed", path);
        }
    }
    return IG_OK;
}

static ig_err ig_add(ig_extracted *x, json_t *v, ig_error *err)
{
    if (!json_is_string(v))
        return ig_error_set(err, IG_ERR_PARSE, "the model's answer holds a non-string image");
    if (x->count == IG_EXTRACT_MAX_IMAGES)
        return ig_error_set(err, IG_ERR_PARSE, "the model's answer holds more than %d images",
                            IG_EXTRACT_MAX_IMAGES);
    x->b64[x->count] = json_string_value(v);
    x->b64_len[x->count] = json_string_length(v);
    x->count++;
    return IG_OK;
}

static ig_err ig_collect(ig_extracted *x, json_t *node, const ig_segment *segs, size_t n,
                         size_t idx, ig_error *err)
{
    if (idx == n) {
        if (json_is_array(node)) {
            size_t i;
            json_t *v;
            json_array_foreach(node, i, v)
            {
                ig_err e = ig_add(x, v, err);
                if (e)
                    return e;
            }
            return IG_OK;
        }
        return ig_add(x, node, err);
    }
    if (!json_is_object(node))
        return ig_error_set(err, IG_ERR_PARSE, "the model's answer has no \"%s\" object member",
                            segs[idx].name);
    json_t *child = json_object_get(node, segs[idx].name);
    if (!child || json_is_null(child))
        return IG_OK; /* absent: no images here */
    if (!segs[idx].each)
        return ig_collect(x, child, segs, n, idx + 1, err);
    if (!json_is_array(child))
        return ig_error_set(err, IG_ERR_PARSE, "the model's answer member \"%s\" is not an array",
                            segs[idx].name);
    size_t i;
    json_t *v;
    json_array_foreach(child, i, v)
    {
        ig_err e = ig_collect(x, v, segs, n, idx + 1, err);
        if (e)
            return e;
    }
    return IG_OK;
}

ig_err ig_extract_images(const char *body, size_t len, const char *path, const char *error_field,
                         ig_extracted *out, ig_error *err)
{
    memset(out, 0, sizeof *out);
    ig_segment segs[IG_PATH_MAX_SEGMENTS];
    size_t n;
    ig_err e = ig_path_parse(path, segs, &n, err);
    if (e)
        return e;
    json_error_t jerr;
    out->doc = json_loadb(body, len, 0, &jerr);
    if (!out->doc)
        return ig_error_set(err, IG_ERR_PARSE,
                            "the model's answer is not valid JSON (line %d, column %d: %s)",
                            jerr.line, jerr.column, jerr.text);
    if (!json_is_object(out->doc)) {
        ig_extracted_free(out);
        return ig_error_set(err, IG_ERR_PARSE, "the model's answer is not a JSON object");
    }
    e = ig_collect(out, out->doc, segs, n, 0, err);
    if (e) {
        ig_extracted_free(out);
        return e;
    }
    if (error_field && *error_field) {
        json_t *ev = json_object_get(out->doc, error_field);
        if (json_is_string(ev) && json_string_length(ev) > 0)
            out->error = json_string_value(ev);
    }
    return IG_OK;
}

void ig_extracted_free(ig_extracted *x)
{
    json_decref(x->doc);
    memset(x, 0, sizeof *x);
}

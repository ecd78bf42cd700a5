/* extract.c - image extraction from model answers. */
#include "codec/extract.h"

#include <stdio.h>
#include <string.h>

#define IG_PATH_MAX_SEGMENTS 8
#define IG_SEGMENT_MAX 64

typedef struct {
    char name[IG_SEGMENT_MAX];
    int each; /* "name[]" */
} ig_segment;

static ig_err path_parse(const char *path, ig_segment *segs, size_t *n, ig_error *err)
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

/* ---- the in-place walk -------------------------------------------------------------------- */

#define IG_SCAN_MAX_DEPTH 64

/* What a walk step reports besides success: a malformed answer, or an escaped string where a
 * pointer into the body cannot serve (the caller then parses a tree). */
typedef enum { IG_SCAN_OK = 0, IG_SCAN_BAD, IG_SCAN_ESCAPED, IG_SCAN_IMAGE_ERROR } ig_scan_status;

typedef struct {
    const char *p;
    const char *end;
    const char *start;
    int depth;
    ig_extracted *x;
    ig_error *err;
} ig_scan;

static void ws(ig_scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

/* A string at s->p ('"'): its raw contents, and whether they hold an escape. */
static int scan_string(ig_scan *s, const char **text, size_t *len, int *escaped)
{
    const char *q = s->p + 1;
    const char *quote = NULL;
    *escaped = 0;
    /* One pass: the next quote is searched again only when an escape consumed it, so a string
     * full of escapes costs its length, not its length times the number of escapes. */
    for (;;) {
        if (!quote || quote < q)
            quote = q < s->end ? memchr(q, '"', (size_t)(s->end - q)) : NULL;
        if (!quote)
            return 0;
        const char *bs = memchr(q, '\\', (size_t)(quote - q));
        if (!bs) {
            *text = s->p + 1;
            *len = (size_t)(quote - *text);
            s->p = quote + 1;
            return 1;
        }
        *escaped = 1;
        q = bs + 2; /* the escaped character, '"' and '\\' included, is not a delimiter */
        if (q > s->end)
            return 0;
    }
}

static int scan_literal(ig_scan *s)
{
    static const char *const words[] = {"true", "false", "null"};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(words[i]);
        if ((size_t)(s->end - s->p) >= n && memcmp(s->p, words[i], n) == 0) {
            s->p += n;
            return 1;
        }
    }
    const char *st = s->p;
    if (s->p < s->end && *s->p == '-')
        s->p++;
    if (s->p >= s->end || *s->p < '0' || *s->p > '9')
        return 0;
    while (s->p < s->end && ((*s->p >= '0' && *s->p <= '9') || *s->p == '.' || *s->p == 'e' ||
                             *s->p == 'E' || *s->p == '+' || *s->p == '-'))
        s->p++;
    return s->p > st;
}

static ig_scan_status skip_value(ig_scan *s);

/* Walks an object or array at s->p, calling member() for each member (objects; key given) or
 * element (arrays; key NULL). */
typedef ig_scan_status (*ig_member_fn)(ig_scan *s, const char *key, size_t key_len, int key_escaped,
                                       void *arg);

static ig_scan_status walk(ig_scan *s, ig_member_fn member, void *arg)
{
    char open = *s->p, close = open == '{' ? '}' : ']';
    if (++s->depth > IG_SCAN_MAX_DEPTH)
        return IG_SCAN_BAD;
    s->p++;
    ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        s->depth--;
        return IG_SCAN_OK;
    }
    for (;;) {
        const char *key = NULL;
        size_t key_len = 0;
        int key_escaped = 0;
        if (open == '{') {
            ws(s);
            if (s->p >= s->end || *s->p != '"' || !scan_string(s, &key, &key_len, &key_escaped))
                return IG_SCAN_BAD;
            ws(s);
            if (s->p >= s->end || *s->p != ':')
                return IG_SCAN_BAD;
            s->p++;
        }
        ws(s);
        if (s->p >= s->end)
            return IG_SCAN_BAD;
        ig_scan_status st = member ? member(s, key, key_len, key_escaped, arg) : skip_value(s);
        if (st)
            return st;
        ws(s);
        if (s->p >= s->end)
            return IG_SCAN_BAD;
        if (*s->p == ',') {
            s->p++;
            continue;
        }
        if (*s->p != close)
            return IG_SCAN_BAD;
        s->p++;
        s->depth--;
        return IG_SCAN_OK;
    }
}

static ig_scan_status skip_value(ig_scan *s)
{
    ws(s);
    if (s->p >= s->end)
        return IG_SCAN_BAD;
    if (*s->p == '"') {
        const char *t;
        size_t n;
        int e;
        return scan_string(s, &t, &n, &e) ? IG_SCAN_OK : IG_SCAN_BAD;
    }
    if (*s->p == '{' || *s->p == '[')
        return walk(s, NULL, NULL);
    return scan_literal(s) ? IG_SCAN_OK : IG_SCAN_BAD;
}

static ig_scan_status scan_image(ig_scan *s)
{
    if (*s->p != '"') {
        ig_error_set(s->err, IG_ERR_PARSE, "the model's answer holds a non-string image");
        return IG_SCAN_IMAGE_ERROR;
    }
    const char *t;
    size_t n;
    int escaped;
    if (!scan_string(s, &t, &n, &escaped))
        return IG_SCAN_BAD;
    if (escaped)
        return IG_SCAN_ESCAPED;
    if (s->x->count == IG_EXTRACT_MAX_IMAGES) {
        ig_error_set(s->err, IG_ERR_PARSE, "the model's answer holds more than %d images",
                     IG_EXTRACT_MAX_IMAGES);
        return IG_SCAN_IMAGE_ERROR;
    }
    s->x->b64[s->x->count] = t;
    s->x->b64_len[s->x->count] = n;
    s->x->count++;
    return IG_SCAN_OK;
}

typedef struct {
    const ig_segment *segs;
    size_t n;
    size_t idx;
} ig_path_pos;

static ig_scan_status scan_path(ig_scan *s, const ig_segment *segs, size_t n, size_t idx);

static ig_scan_status image_element(ig_scan *s, const char *key, size_t key_len, int key_escaped,
                                       void *arg)
{
    (void)key, (void)key_len, (void)key_escaped, (void)arg;
    return scan_image(s);
}

static ig_scan_status path_element(ig_scan *s, const char *key, size_t key_len, int key_escaped,
                                      void *arg)
{
    (void)key, (void)key_len, (void)key_escaped;
    const ig_path_pos *pos = arg;
    return scan_path(s, pos->segs, pos->n, pos->idx);
}

static ig_scan_status path_member(ig_scan *s, const char *key, size_t key_len, int key_escaped,
                                     void *arg)
{
    const ig_path_pos *pos = arg;
    const ig_segment *seg = &pos->segs[pos->idx];
    if (key_escaped || key_len != strlen(seg->name) || memcmp(key, seg->name, key_len) != 0)
        return skip_value(s);
    if (s->end - s->p >= 4 && memcmp(s->p, "null", 4) == 0)
        return skip_value(s); /* absent: no images here */
    if (!seg->each)
        return scan_path(s, pos->segs, pos->n, pos->idx + 1);
    if (*s->p != '[') {
        ig_error_set(s->err, IG_ERR_PARSE, "the model's answer member \"%s\" is not an array", seg->name);
        return IG_SCAN_IMAGE_ERROR;
    }
    ig_path_pos next = {pos->segs, pos->n, pos->idx + 1};
    return walk(s, path_element, &next);
}

/* The value at s->p, with path segments idx.. still to follow. */
static ig_scan_status scan_path(ig_scan *s, const ig_segment *segs, size_t n, size_t idx)
{
    ws(s);
    if (s->p >= s->end)
        return IG_SCAN_BAD;
    if (idx == n)
        return *s->p == '[' ? walk(s, image_element, NULL) : scan_image(s);
    if (*s->p != '{') {
        ig_error_set(s->err, IG_ERR_PARSE, "the model's answer has no \"%s\" object member", segs[idx].name);
        return IG_SCAN_IMAGE_ERROR;
    }
    ig_path_pos pos = {segs, n, idx};
    return walk(s, path_member, &pos);
}

typedef struct {
    const char *name;
    ig_extracted *x;
} ig_error_field;

/* Keeps a reason (or the whole-answer error) as a short NUL-terminated copy. */
static const char *keep_text(char *buf, size_t cap, const char *t, size_t n)
{
    size_t c = n < cap ? n : cap - 1;
    memcpy(buf, t, c);
    buf[c] = '\0';
    return buf;
}

static void add_reason(ig_extracted *x, const char *t, size_t n)
{
    size_t i = x->n_reasons++;
    x->reasons[i] = t ? keep_text(x->reason_buf[i], sizeof x->reason_buf[i], t, n) : NULL;
    if (t && !x->error)
        x->error = x->reasons[i];
}

/* One element of an array error field: a string is that image's reason, null means none. */
static ig_scan_status reason_element(ig_scan *s, const char *key, size_t key_len, int key_escaped, void *arg)
{
    (void)key, (void)key_len, (void)key_escaped, (void)arg;
    if (s->x->n_reasons == IG_EXTRACT_MAX_IMAGES) {
        ig_error_set(s->err, IG_ERR_PARSE, "the model's answer holds more than %d reasons", IG_EXTRACT_MAX_IMAGES);
        return IG_SCAN_IMAGE_ERROR;
    }
    if (*s->p != '"') {
        ig_scan_status st = skip_value(s);
        if (st == IG_SCAN_OK)
            add_reason(s->x, NULL, 0);
        return st;
    }
    const char *t;
    size_t n;
    int escaped;
    if (!scan_string(s, &t, &n, &escaped))
        return IG_SCAN_BAD;
    if (escaped)
        return IG_SCAN_ESCAPED;
    add_reason(s->x, n ? t : NULL, n);
    return IG_SCAN_OK;
}

static ig_scan_status error_member(ig_scan *s, const char *key, size_t key_len, int key_escaped,
                                      void *arg)
{
    const ig_error_field *f = arg;
    if (key_escaped || key_len != strlen(f->name) || memcmp(key, f->name, key_len) != 0)
        return skip_value(s);
    if (*s->p == '[')
        return walk(s, reason_element, NULL);
    if (*s->p != '"')
        return skip_value(s);
    const char *t;
    size_t n;
    int escaped;
    if (!scan_string(s, &t, &n, &escaped))
        return IG_SCAN_BAD;
    if (escaped)
        return IG_SCAN_ESCAPED;
    if (n > 0)
        f->x->error = keep_text(f->x->error_buf, sizeof f->x->error_buf, t, n);
    return IG_SCAN_OK;
}

static ig_scan_status scan_answer(const char *body, size_t len, const ig_segment *segs, size_t n,
                                     const char *error_field, ig_extracted *out, ig_error *err)
{
    ig_scan s = {body, body + len, body, 0, out, err};
    ws(&s);
    if (s.p >= s.end || *s.p != '{')
        return IG_SCAN_BAD;
    ig_scan_status st = scan_path(&s, segs, n, 0);
    ws(&s);
    if (st == IG_SCAN_OK && s.p != s.end)
        st = IG_SCAN_BAD; /* something after the answer */
    if (st == IG_SCAN_OK && error_field && *error_field) {
        ig_scan e = {body, body + len, body, 0, out, err};
        ws(&e);
        ig_error_field f = {error_field, out};
        st = walk(&e, error_member, &f);
    }
    return st;
}

/* ---- the tree, for answers with escaped strings ------------------------------------------ */

static ig_err add(ig_extracted *x, json_t *v, ig_error *err)
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

static ig_err collect(ig_extracted *x, json_t *node, const ig_segment *segs, size_t n,
                         size_t idx, ig_error *err)
{
    if (idx == n) {
        if (json_is_array(node)) {
            size_t i;
            json_t *v;
            json_array_foreach(node, i, v)
            {
                ig_err e = add(x, v, err);
                if (e)
                    return e;
            }
            return IG_OK;
        }
        return add(x, node, err);
    }
    if (!json_is_object(node))
        return ig_error_set(err, IG_ERR_PARSE, "the model's answer has no \"%s\" object member",
                            segs[idx].name);
    json_t *child = json_object_get(node, segs[idx].name);
    if (!child || json_is_null(child))
        return IG_OK; /* absent: no images here */
    if (!segs[idx].each)
        return collect(x, child, segs, n, idx + 1, err);
    if (!json_is_array(child))
        return ig_error_set(err, IG_ERR_PARSE, "the model's answer member \"%s\" is not an array",
                            segs[idx].name);
    size_t i;
    json_t *v;
    json_array_foreach(child, i, v)
    {
        ig_err e = collect(x, v, segs, n, idx + 1, err);
        if (e)
            return e;
    }
    return IG_OK;
}

static ig_err extract_tree(const char *body, size_t len, const ig_segment *segs, size_t n,
                              const char *error_field, ig_extracted *out, ig_error *err)
{
    json_error_t jerr;
    out->doc = json_loadb(body, len, 0, &jerr);
    if (!out->doc)
        return ig_error_set(err, IG_ERR_PARSE,
                            "the model's answer is not valid JSON (line %d, column %d: %s)",
                            jerr.line, jerr.column, jerr.text);
    if (!json_is_object(out->doc))
        return ig_error_set(err, IG_ERR_PARSE, "the model's answer is not a JSON object");
    ig_err e = collect(out, out->doc, segs, n, 0, err);
    if (e)
        return e;
    if (!error_field || !*error_field)
        return IG_OK;
    json_t *ev = json_object_get(out->doc, error_field);
    if (json_is_string(ev) && json_string_length(ev) > 0) {
        out->error = keep_text(out->error_buf, sizeof out->error_buf, json_string_value(ev), json_string_length(ev));
    } else if (json_is_array(ev)) {
        if (json_array_size(ev) > IG_EXTRACT_MAX_IMAGES)
            return ig_error_set(err, IG_ERR_PARSE, "the model's answer holds more than %d reasons",
                                IG_EXTRACT_MAX_IMAGES);
        size_t i;
        json_t *v;
        json_array_foreach(ev, i, v)
        {
            int text = json_is_string(v) && json_string_length(v) > 0;
            add_reason(out, text ? json_string_value(v) : NULL, text ? json_string_length(v) : 0);
        }
    }
    return IG_OK;
}

ig_err ig_extract_images(const char *body, size_t len, const char *path, const char *error_field,
                         ig_extracted *out, ig_error *err)
{
    memset(out, 0, sizeof *out);
    ig_segment segs[IG_PATH_MAX_SEGMENTS];
    size_t n;
    ig_err e = path_parse(path, segs, &n, err);
    if (e)
        return e;
    ig_scan_status st = scan_answer(body, len, segs, n, error_field, out, err);
    if (st == IG_SCAN_OK)
        return IG_OK;
    if (st == IG_SCAN_IMAGE_ERROR) {
        ig_extracted_free(out);
        return err ? err->code : IG_ERR_PARSE;
    }
    /* Malformed (let the parser say where) or escaped (let it unescape): a tree. */
    ig_extracted_free(out);
    e = extract_tree(body, len, segs, n, error_field, out, err);
    if (e)
        ig_extracted_free(out);
    return e;
}

void ig_extracted_free(ig_extracted *x)
{
    json_decref(x->doc);
    memset(x, 0, sizeof *x);
}

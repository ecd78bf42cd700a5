/* inputs.c - input images out of the request and into Bedrock bodies (see inputs.h). */
#include "handler/inputs.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codec/base64.h"
#include "codec/image.h"
#include "codec/json.h"
#include "codec/multipart.h"
#include "codec/png_data.h"
#include "aws/bedrock.h"
#include "core/random.h"

#define TOKEN_PREFIX "igin:"

struct ig_input {
    ig_buf data;             /* the decoded bytes */
    ig_image_info info;      /* what their header says */
    char *b64[3];            /* the base64 of each kind, made when a body first names it */
    char *key;               /* the S3 key it was fetched from; NULL when the request carried it */
};

enum { KIND_RAW = 0, KIND_MASK, KIND_MASK_INVERTED };
static const char *const kind_names[] = {"ref", "mask_ref", "mask_ref_inverted"};

ig_err ig_inputs_init(ig_inputs *in)
{
    memset(in, 0, sizeof *in);
    unsigned char r[16];
    if (ig_random_bytes(r, sizeof r) != IG_OK)
        return IG_ERR_NOMEM;
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(in->nonce + 2 * i, 3, "%02x", r[i]);
    return IG_OK;
}

void ig_inputs_free(ig_inputs *in)
{
    for (size_t i = 0; i < in->n; i++) {
        if (!in->items[i])
            continue; /* a job's input its plan does not name */
        ig_buf_free(&in->items[i]->data);
        for (int k = 0; k < 3; k++)
            free(in->items[i]->b64[k]);
        free(in->items[i]->key);
        free(in->items[i]);
        in->items[i] = NULL;
    }
    in->n = 0;
}

/* ---- facts ----------------------------------------------------------------------------- */

static void token(const ig_inputs *in, size_t n, int kind, char *out, size_t out_len)
{
    snprintf(out, out_len, TOKEN_PREFIX "%s:%zu:%d", in->nonce, n, kind);
}

/* Keeps the bytes (when usable) and returns the facts table the policy sees. problem/message
 * describe a failure found before inspection (bad base64); NULL otherwise. */
static json_t *add_input(ig_inputs *in, const char *field, size_t index, const char *source, ig_buf *bytes,
                         const char *problem, const char *message, ig_error *err)
{
    if (in->n >= IG_INPUTS_MAX) {
        ig_error_set(err, IG_ERR_INVALID_ARG, "the request carries more than %d images", IG_INPUTS_MAX);
        return NULL;
    }
    json_t *f = json_pack("{s:s, s:I, s:s}", "field", field, "index", (json_int_t)(index ? index : 1), "source", source);
    if (!f) {
        ig_error_set(err, IG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (problem) {
        json_object_set_new(f, "error", json_string(problem));
        json_object_set_new(f, "message", json_string(message));
        return f;
    }
    json_object_set_new(f, "bytes", json_integer((json_int_t)bytes->len));
    ig_image_info info;
    ig_image_inspect(bytes->data, bytes->len, &info);
    if (info.verdict == IG_IMAGE_OK && info.type == IG_IMAGE_PNG)
        ig_png_check_data(bytes->data, bytes->len, IG_PNG_DATA_MAX_RAW, &info); /* rows its header promises */
    if (info.type != IG_IMAGE_UNKNOWN) {
        json_object_set_new(f, "format", json_string(ig_image_format_name(info.type)));
        if (info.width && info.height) {
            json_object_set_new(f, "width", json_integer(info.width));
            json_object_set_new(f, "height", json_integer(info.height));
        }
        json_object_set_new(f, "alpha", json_boolean(info.has_alpha));
    }
    if (info.verdict != IG_IMAGE_OK) {
        json_object_set_new(f, "error", json_string(ig_image_verdict_word(info.verdict)));
        json_object_set_new(f, "message", json_string(info.message));
        return f;
    }
    ig_input *item = calloc(1, sizeof *item);
    if (!item) {
        json_decref(f);
        ig_error_set(err, IG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    item->data = *bytes; /* taken */
    memset(bytes, 0, sizeof *bytes);
    item->info = info;
    size_t n = in->n;
    in->items[in->n++] = item;
    char t[64];
    token(in, n, KIND_RAW, t, sizeof t);
    json_object_set_new(f, kind_names[KIND_RAW], json_string(t));
    if (info.type == IG_IMAGE_PNG && info.has_alpha) {
        /* Whether the alpha channel marks anything: an opaque RGBA image as a mask (or as an
         * image to inpaint by its transparency) would be a billed call that edits nothing. */
        uint64_t transparent = 0;
        ig_error merr;
        if (ig_image_transparent_pixels(item->data.data, item->data.len, IG_IMAGE_MASK_MAX_PIXELS, &transparent,
                                        &merr) == IG_OK) {
            json_object_set_new(f, "transparent_pixels", json_integer((json_int_t)transparent));
            for (int k = KIND_MASK; k <= KIND_MASK_INVERTED; k++) {
                token(in, n, k, t, sizeof t);
                json_object_set_new(f, kind_names[k], json_string(t));
            }
        }
    }
    return f;
}

/* ---- values no client may send --------------------------------------------------------- */

/* Tokens are the runtime's own names for image bytes. A string a client sends that begins like
 * one (guessed, or copied from another request, where it would name nothing) is refused before
 * the policy or a model sees it, wherever it stands: in a prompt, a parameter, a list, a form's
 * text field or file name. (A member that holds images is read as one: such a string there is
 * not base64, and an object there not an upload reference.) */
static bool reserved(const char *s, size_t len)
{
    return len >= sizeof TOKEN_PREFIX - 1 && memcmp(s, TOKEN_PREFIX, sizeof TOKEN_PREFIX - 1) == 0;
}

static ig_err refuse_token(const char *where, ig_error *err)
{
    return ig_error_set(err, IG_ERR_INVALID_ARG,
                        "%s begins with \"" TOKEN_PREFIX "\", which marks the runtime's own image tokens; no value "
                        "sent may begin with it", where);
}

/* Every string value inside v (member names aside); where[0..len) names v ("prompt", "a.b[2]"). */
static ig_err check_strings(json_t *v, char *where, size_t len, size_t cap, ig_error *err)
{
    if (json_is_string(v))
        return reserved(json_string_value(v), json_string_length(v)) ? refuse_token(where, err) : IG_OK;
    size_t i;
    const char *k;
    json_t *item;
    ig_err e = IG_OK;
    if (json_is_array(v)) {
        json_array_foreach(v, i, item)
        {
            snprintf(where + len, cap - len, "[%zu]", i + 1);
            if ((e = check_strings(item, where, strlen(where), cap, err)) != IG_OK)
                return e;
        }
    } else if (json_is_object(v)) {
        json_object_foreach(v, k, item)
        {
            snprintf(where + len, cap - len, len ? ".%.64s" : "%.64s", k);
            if ((e = check_strings(item, where, strlen(where), cap, err)) != IG_OK)
                return e;
        }
    }
    where[len] = '\0';
    return IG_OK;
}

/* The members of a JSON body but those the policy's image_fields names: those hold images or
 * {"upload": key}, and are read (and refused, as facts) as such. */
static ig_err check_members(json_t *body, const json_t *fields, ig_error *err)
{
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v)
    {
        size_t i;
        json_t *f;
        bool image = false;
        json_array_foreach(fields, i, f)
        {
            const char *name = json_string_value(f);
            image = image || (name && strcmp(name, k) == 0);
        }
        char where[200];
        snprintf(where, sizeof where, "%.64s", k);
        if (!image && check_strings(v, where, strlen(where), sizeof where, err) != IG_OK)
            return err->code;
    }
    return IG_OK;
}

/* ---- JSON bodies ----------------------------------------------------------------------- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Decodes a base64 string or a data URL into out; on failure a sentence in message. */
static bool decode_text(const char *s, size_t len, const char *field, ig_buf *out, char *message, size_t mlen)
{
    if (len >= 5 && strncasecmp(s, "data:", 5) == 0) {
        const char *comma = memchr(s, ',', len);
        if (!comma || (size_t)(comma - s) < 12 || strncasecmp(comma - 7, ";base64", 7) != 0) {
            snprintf(message, mlen, "%.64s is a data URL that is not base64 (expected data:image/png;base64,...)", field);
            return false;
        }
        len -= (size_t)(comma + 1 - s);
        s = comma + 1;
        if (len >= 5 && strncasecmp(s, "data:", 5) == 0) {
            snprintf(message, mlen, "%.64s is a data URL inside a data URL; send the image's base64 once", field);
            return false;
        }
    }
    /* Line-wrapped base64 (MIME style) is common: white space is dropped first. */
    ig_buf compact;
    ig_buf_init(&compact, 0);
    bool spaced = false;
    for (size_t i = 0; i < len && !spaced; i++)
        spaced = is_space(s[i]);
    if (spaced) {
        for (size_t i = 0; i < len; i++)
            if (!is_space(s[i]) && ig_buf_append_char(&compact, s[i]) != IG_OK)
                break;
        s = ig_buf_cstr(&compact);
        len = compact.len;
    }
    ig_error derr;
    ig_error_clear(&derr);
    bool ok = len > 0 && ig_base64_decode_buf(s, len, out, &derr) == IG_OK;
    if (!ok)
        snprintf(message, mlen, "%.64s is not valid base64%s%.200s", field, derr.message[0] ? ": " : "", derr.message);
    ig_buf_free(&compact);
    return ok;
}

static json_t *inline_facts(ig_inputs *in, const char *field, size_t index, json_t *v, ig_error *err)
{
    ig_buf bytes;
    ig_buf_init(&bytes, 0);
    char message[300];
    json_t *f;
    if (decode_text(json_string_value(v), json_string_length(v), field, &bytes, message, sizeof message))
        f = add_input(in, field, index, "inline", &bytes, NULL, NULL, err);
    else
        f = add_input(in, field, index, "inline", &bytes, "bad_base64", message, err);
    ig_buf_free(&bytes);
    return f;
}

/* A member the policy names holds image data, or names an upload: {"upload": "<key>"}. Any
 * other object is refused here, as facts, so that a client cannot hand the policy a table
 * shaped like the facts of an image the runtime never saw. */
static bool upload_reference(json_t *v)
{
    return json_object_size(v) == 1 && json_is_string(json_object_get(v, "upload"));
}

static json_t *member_facts(ig_inputs *in, const char *field, size_t index, json_t *v, ig_error *err)
{
    if (json_is_string(v))
        return inline_facts(in, field, index, v, err);
    if (json_is_object(v) && !upload_reference(v)) {
        char message[200];
        snprintf(message, sizeof message,
                 "%.64s must be base64 image data, a data URL, or {\"upload\": key} for an uploaded image", field);
        ig_buf none;
        ig_buf_init(&none, 0);
        return add_input(in, field, index, "inline", &none, "not_image", message, err);
    }
    return json_incref(v); /* an upload reference, or a type the policy refuses */
}

static ig_err json_inputs(ig_inputs *in, json_t *req, const json_t *fields, ig_error *err)
{
    json_t *body = json_object_get(req, "body");
    if (!json_is_object(body))
        return IG_OK;
    if (check_members(body, fields, err) != IG_OK)
        return err->code;
    bool taken = false;
    size_t i;
    json_t *name;
    json_array_foreach(fields, i, name)
    {
        const char *field = json_string_value(name);
        json_t *v = json_object_get(body, field);
        if (json_is_string(v) || json_is_object(v)) {
            json_t *f = member_facts(in, field, 0, v, err);
            if (!f)
                return err->code;
            taken = taken || json_is_string(v);
            json_object_set_new(body, field, f);
        } else if (json_is_array(v)) {
            size_t k;
            json_t *item;
            json_array_foreach(v, k, item)
            {
                if (!json_is_string(item) && !json_is_object(item))
                    continue;
                json_t *f = member_facts(in, field, k + 1, item, err);
                if (!f)
                    return err->code;
                taken = taken || json_is_string(item);
                json_array_set_new(v, k, f);
            }
        }
    }
    if (taken)
        json_object_del(req, "raw_body"); /* it holds the images' base64 */
    return IG_OK;
}

/* ---- multipart bodies ------------------------------------------------------------------ */

/* Puts value at body[name]: a name ending in "[]" is a list; a name seen twice becomes one. */
static ig_err form_set(json_t *body, const char *name, size_t name_len, json_t *value, size_t *index,
                       ig_error *err)
{
    bool list = name_len >= 2 && name[name_len - 2] == '[' && name[name_len - 1] == ']';
    char key[128];
    size_t klen = list ? name_len - 2 : name_len;
    if (klen == 0 || klen >= sizeof key) {
        json_decref(value);
        return ig_error_set(err, IG_ERR_INVALID_ARG, "a form field's name is empty or longer than %zu bytes",
                            sizeof key - 1);
    }
    memcpy(key, name, klen);
    key[klen] = '\0';
    json_t *old = json_object_get(body, key);
    if (!old && !list) {
        *index = 0;
        return json_object_set_new(body, key, value) == 0 ? IG_OK : ig_error_set(err, IG_ERR_INVALID_ARG, "the form field name \"%s\" is not valid UTF-8", key);
    }
    if (!json_is_array(old)) {
        json_t *arr = json_array();
        if (old)
            json_array_append(arr, old);
        if (json_object_set_new(body, key, arr) != 0) {
            json_decref(value);
            return ig_error_set(err, IG_ERR_INVALID_ARG, "the form field name \"%s\" is not valid UTF-8", key);
        }
        old = arr;
    }
    json_array_append_new(old, value);
    *index = json_array_size(old);
    return IG_OK;
}

static ig_err file_part(ig_inputs *in, json_t *body, const ig_multipart_part *part, ig_error *err)
{
    ig_buf bytes;
    ig_buf_init(&bytes, 0);
    if (ig_buf_append(&bytes, part->data, part->len) != IG_OK)
        return ig_error_set(err, IG_ERR_NOMEM, "out of memory");
    char field[128];
    snprintf(field, sizeof field, "%.*s", (int)part->name_len, part->name);
    size_t flen = strlen(field);
    if (flen >= 2 && strcmp(field + flen - 2, "[]") == 0)
        field[flen - 2] = '\0';
    json_t *f = add_input(in, field, 0, "multipart", &bytes, NULL, NULL, err);
    ig_buf_free(&bytes);
    if (!f)
        return err->code;
    if (part->content_type)
        json_object_set_new(f, "content_type", json_stringn(part->content_type, part->content_type_len));
    if (part->filename) {
        json_t *fn = json_stringn(part->filename, part->filename_len);
        json_object_set_new(f, "filename", fn ? fn : json_string("(not UTF-8)"));
    }
    size_t index = 0;
    json_t *idx = json_object_get(f, "index");
    ig_err e = form_set(body, part->name, part->name_len, json_incref(f), &index, err);
    if (e == IG_OK && index)
        json_integer_set(idx, (json_int_t)index);
    json_decref(f);
    return e;
}

/* A member the policy's image_fields names (a "[]" suffix aside). */
static bool image_field(const json_t *fields, const char *name, size_t len)
{
    if (len >= 2 && name[len - 2] == '[' && name[len - 1] == ']')
        len -= 2;
    size_t i;
    json_t *f;
    json_array_foreach(fields, i, f)
    {
        if (json_string_length(f) == len && memcmp(json_string_value(f), name, len) == 0)
            return true;
    }
    return false;
}

/* A form's files become facts: a part with a filename, a Content-Type other than text, or a
 * name the policy's image_fields lists (curl -F 'image=<x.png' sends neither of the first two). */
static ig_err form_inputs(ig_inputs *in, json_t *req, const ig_buf *body, const json_t *fields, ig_error *err)
{
    const char *ct = ig_json_str(json_object_get(req, "headers"), "content-type");
    ig_multipart_part parts[IG_INPUTS_MAX_FORM_PARTS];
    size_t n = 0;
    ig_multipart_limits lim = {.max_parts = IG_INPUTS_MAX_FORM_PARTS,
                               .max_part_bytes = body ? body->len : 0,
                               .max_header_bytes = 4096};
    ig_err e = ig_multipart_parse(ct, body ? body->data : "", body ? body->len : 0, &lim, parts,
                                  IG_INPUTS_MAX_FORM_PARTS, &n, err);
    if (e != IG_OK)
        return e == IG_ERR_TOO_LARGE ? e : IG_ERR_INVALID_ARG;
    json_t *form = json_object();
    json_object_set_new(req, "body", form);
    for (size_t i = 0; i < n; i++) {
        const ig_multipart_part *p = &parts[i];
        char where[120];
        int nlen = (int)(p->name_len > 64 ? 64 : p->name_len);
        if ((p->filename && reserved(p->filename, p->filename_len)) || (!p->filename && reserved(p->data, p->len))) {
            snprintf(where, sizeof where,
                     p->filename ? "the filename of the form field \"%.*s\"" : "the form field \"%.*s\"", nlen,
                     p->name);
            return refuse_token(where, err);
        }
        if (p->filename || (p->content_type && strncasecmp(p->content_type, "text/plain", 10) != 0) ||
            image_field(fields, p->name, p->name_len)) {
            if ((e = file_part(in, form, p, err)) != IG_OK)
                return e;
            continue;
        }
        if (p->len > IG_INPUTS_MAX_FORM_TEXT)
            return ig_error_set(err, IG_ERR_TOO_LARGE, "the form field \"%.*s\" is larger than %d bytes",
                                (int)(p->name_len > 64 ? 64 : p->name_len), p->name, IG_INPUTS_MAX_FORM_TEXT);
        json_t *text = json_stringn(p->data, p->len);
        if (!text)
            return ig_error_set(err, IG_ERR_INVALID_ARG, "the form field \"%.*s\" is not valid UTF-8 text",
                                (int)(p->name_len > 64 ? 64 : p->name_len), p->name);
        size_t index;
        if ((e = form_set(form, p->name, p->name_len, text, &index, err)) != IG_OK)
            return e;
    }
    return IG_OK;
}

ig_err ig_inputs_from_request(ig_inputs *in, json_t *req, const ig_buf *body, const json_t *fields,
                              ig_error *err)
{
    const char *format = ig_json_str(req, "body_format");
    if (format && strcmp(format, "multipart") == 0)
        return form_inputs(in, req, body, fields, err);
    return json_inputs(in, req, fields, err);
}

ig_err ig_inputs_add_upload(ig_inputs *in, json_t *req, const char *field, size_t index, const char *key,
                            const void *data, size_t len, const char *content_type, const char *problem,
                            const char *message, ig_error *err)
{
    json_t *body = json_object_get(req, "body");
    json_t *list = json_object_get(body, field);
    if (!json_is_object(body) || (index && (!json_is_array(list) || index > json_array_size(list))))
        return ig_error_set(err, IG_ERR_POLICY, "fetch: the request body has no member %s[%zu]", field, index);
    ig_buf bytes;
    ig_buf_init(&bytes, 0);
    if (data && ig_buf_append(&bytes, data, len) != IG_OK)
        return ig_error_set(err, IG_ERR_NOMEM, "out of memory");
    size_t before = in->n;
    json_t *f = add_input(in, field, index, "upload", &bytes, data ? NULL : problem, message, err);
    ig_buf_free(&bytes);
    if (!f)
        return err->code;
    if (in->n > before && !(in->items[before]->key = strdup(key))) {
        json_decref(f);
        return ig_error_set(err, IG_ERR_NOMEM, "out of memory");
    }
    json_object_set_new(f, "key", json_string(key));
    if (content_type && *content_type)
        json_object_set_new(f, "content_type", json_string(content_type));
    if (index)
        json_array_set_new(list, index - 1, f);
    else
        json_object_set_new(body, field, f);
    return IG_OK;
}

/* ---- tokens into bodies ---------------------------------------------------------------- */

static const char *encoded(ig_input *item, int kind, ig_error *err)
{
    if (item->b64[kind])
        return item->b64[kind];
    ig_buf png, b64;
    ig_buf_init(&png, 0);
    ig_buf_init(&b64, 0);
    const ig_buf *src = &item->data;
    if (kind != KIND_RAW) {
        if (ig_image_alpha_mask(item->data.data, item->data.len, kind == KIND_MASK_INVERTED, &png, err) != IG_OK) {
            ig_buf_free(&png);
            return NULL;
        }
        src = &png;
    }
    if (ig_base64_encode_buf(src->data, src->len, &b64) != IG_OK) {
        ig_buf_free(&png);
        ig_buf_free(&b64);
        ig_error_set(err, IG_ERR_NOMEM, "out of memory encoding an input image");
        return NULL;
    }
    ig_buf_free(&png);
    item->b64[kind] = ig_buf_steal(&b64, NULL);
    return item->b64[kind];
}

/* At text[0..len), a quoted token of this request: its input and kind. */
static bool read_token(const ig_inputs *in, const char *text, size_t len, size_t *n, int *kind, size_t *used)
{
    size_t plen = strlen(TOKEN_PREFIX), nlen = strlen(in->nonce);
    if (len < 2 + plen + nlen + 4 || text[0] != '"' || memcmp(text + 1, TOKEN_PREFIX, plen) != 0 ||
        memcmp(text + 1 + plen, in->nonce, nlen) != 0 || text[1 + plen + nlen] != ':')
        return false;
    const char *p = text + 2 + plen + nlen, *end = text + len;
    size_t v = 0;
    if (p >= end || *p < '0' || *p > '9')
        return false;
    while (p < end && *p >= '0' && *p <= '9' && v < IG_INPUTS_MAX)
        v = v * 10 + (size_t)(*p++ - '0');
    if (p + 3 > end || p[0] != ':' || p[1] < '0' || p[1] > '2' || p[2] != '"' || v >= in->n || !in->items[v])
        return false;
    *n = v;
    *kind = p[1] - '0';
    *used = (size_t)(p + 3 - text);
    return true;
}

ig_err ig_inputs_substitute(ig_inputs *in, char **body, size_t *len, ig_error *err)
{
    if (in->n == 0)
        return IG_OK;
    const char *text = *body;
    ig_buf out;
    ig_buf_init(&out, 0);
    size_t i = 0, copied = 0;
    bool any = false;
    while (i < *len) {
        const char *q = memchr(text + i, '"', *len - i);
        if (!q)
            break;
        size_t at = (size_t)(q - text), n, used;
        int kind;
        if (!read_token(in, q, *len - at, &n, &kind, &used)) {
            i = at + 1;
            continue;
        }
        const char *b64 = encoded(in->items[n], kind, err);
        if (!b64 || ig_buf_append(&out, text + copied, at + 1 - copied) != IG_OK ||
            ig_buf_append_str(&out, b64) != IG_OK || ig_buf_append_char(&out, '"') != IG_OK) {
            ig_buf_free(&out);
            return b64 ? ig_error_set(err, IG_ERR_NOMEM, "out of memory") : err->code;
        }
        any = true;
        i = copied = at + used;
    }
    if (!any)
        return IG_OK;
    if (ig_buf_append(&out, text + copied, *len - copied) != IG_OK) {
        ig_buf_free(&out);
        return ig_error_set(err, IG_ERR_NOMEM, "out of memory");
    }
    free(*body);
    *body = ig_buf_steal(&out, len);
    return IG_OK;
}

ig_err ig_inputs_fill_plan(ig_inputs *in, ig_plan *p, ig_error *err)
{
    for (size_t a = 0; a < p->n_attempts; a++)
        for (size_t c = 0; c < p->attempts[a].n_calls; c++) {
            ig_plan_call *call = &p->attempts[a].calls[c];
            if (ig_inputs_substitute(in, &call->body, &call->body_len, err) != IG_OK)
                return err->code ? err->code : IG_ERR_NOMEM;
            if (call->body_len > IG_BEDROCK_MAX_BODY)
                return ig_error_set(err, IG_ERR_TOO_LARGE, "The images make the model request larger than Bedrock's 25 MB.");
        }
    return IG_OK;
}

/* ---- a job's inputs -------------------------------------------------------------------- */

uint32_t ig_inputs_named(const ig_inputs *in, const char *text, size_t len)
{
    uint32_t named = 0;
    for (size_t i = 0; i < len;) {
        const char *q = memchr(text + i, '"', len - i);
        if (!q)
            break;
        size_t at = (size_t)(q - text), n, used;
        int kind;
        if (read_token(in, q, len - at, &n, &kind, &used)) {
            named |= (uint32_t)1 << n;
            i = at + used;
        } else {
            i = at + 1;
        }
    }
    return named;
}

const ig_buf *ig_inputs_data(const ig_inputs *in, size_t n, const char **content_type, const char **extension)
{
    const ig_input *item = n < in->n ? in->items[n] : NULL;
    if (!item)
        return NULL;
    *content_type = ig_image_content_type(item->info.type);
    *extension = ig_image_extension(item->info.type);
    return &item->data;
}

const char *ig_inputs_key(const ig_inputs *in, size_t n)
{
    return n < in->n && in->items[n] ? in->items[n]->key : NULL;
}

static bool hex32(const char *s)
{
    size_t i = 0;
    for (; s[i]; i++)
        if (i >= 32 || !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return i == 32;
}

ig_err ig_inputs_restore(ig_inputs *in, const char *nonce, size_t n, ig_buf *bytes, ig_error *err)
{
    if (!nonce || !hex32(nonce) || (in->n && strcmp(in->nonce, nonce) != 0))
        return ig_error_set(err, IG_ERR_INVALID_ARG, "a job's inputs name no usable request nonce");
    if (n >= IG_INPUTS_MAX || (n < in->n && in->items[n]))
        return ig_error_set(err, IG_ERR_INVALID_ARG, "a job's input %zu is out of range or given twice", n);
    ig_image_info info;
    ig_image_inspect(bytes->data, bytes->len, &info);
    if (info.verdict != IG_IMAGE_OK)
        return ig_error_set(err, IG_ERR_INVALID_ARG, "a job's input %zu is no longer a usable image: %s", n,
                            info.message);
    ig_input *item = calloc(1, sizeof *item);
    if (!item)
        return ig_error_set(err, IG_ERR_NOMEM, "out of memory");
    item->data = *bytes; /* taken */
    memset(bytes, 0, sizeof *bytes);
    item->info = info;
    memcpy(in->nonce, nonce, 33);
    in->items[n] = item;
    if (n >= in->n)
        in->n = n + 1;
    return IG_OK;
}

/* image_record.c - an image record without the network: its id, the item, what the policy sees
 * of it, and the listing's cursor. images.h describes the item and the cursor. */
#include "handler/images.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/dynamodb.h"
#include "codec/base64.h"
#include "codec/hash.h"
#include "codec/json.h"
#include "core/clock.h"

#define CURSOR_TAG_BYTES 16

/* ---- ids ------------------------------------------------------------------------------- */

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

int ig_image_id_valid(const char *id)
{
    if (!id || strlen(id) != IG_IMAGE_ID_LEN)
        return 0;
    for (int i = 0; i < IG_IMAGE_ID_LEN; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? id[i] != '-' : !is_hex(id[i]))
            return 0;
    }
    return 1;
}

void ig_image_id_for(const char *owner, const char *key, int cached, char out[IG_IMAGE_ID_LEN + 1])
{
    const char *slash = strrchr(key, '/'), *name = slash ? slash + 1 : key;
    if (!cached && strlen(name) > IG_IMAGE_ID_LEN && name[IG_IMAGE_ID_LEN] == '.') {
        memcpy(out, name, IG_IMAGE_ID_LEN);
        out[IG_IMAGE_ID_LEN] = '\0';
        if (ig_image_id_valid(out))
            return;
    }
    /* owner and key, separated by a byte neither holds */
    size_t no = strlen(owner), nk = strlen(key);
    char *buf = malloc(no + nk + 1);
    char hex[65] = "";
    if (buf) {
        memcpy(buf, owner, no);
        buf[no] = '\n';
        memcpy(buf + no + 1, key, nk);
        ig_sha256_hex(buf, no + nk + 1, hex);
        free(buf);
    } else {
        memset(hex, '0', 64);
        hex[64] = '\0';
    }
    snprintf(out, IG_IMAGE_ID_LEN + 1, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

/* ---- the item -------------------------------------------------------------------------- */

static void set_s(json_t *item, const char *name, const char *v)
{
    if (v && *v)
        json_object_set_new(item, name, ig_dynamodb_attr_s(v));
}

static void set_n(json_t *item, const char *name, const json_t *v)
{
    if (json_is_integer(v))
        json_object_set_new(item, name, ig_dynamodb_attr_n(json_integer_value(v)));
}

json_t *ig_image_item(const json_t *record, const json_t *entry, const char *model, int cached, const char *seed,
                      int64_t now_ms)
{
    const char *owner = ig_json_str(record, "owner"), *key = ig_json_str(entry, "key");
    json_t *retention = json_object_get(record, "retention_s");
    if (!owner || !*owner || !key || !*key || !json_is_integer(retention) || json_integer_value(retention) < 60)
        return NULL;
    char id[IG_IMAGE_ID_LEN + 1], created[40];
    ig_image_id_for(owner, key, cached, id);
    ig_format_rfc3339_ms(now_ms, created, sizeof created);
    size_t n = strlen(owner) + strlen(created) + 64;
    char *pk = malloc(n), *gpk = malloc(n), *gsk = malloc(n);
    json_t *item = NULL;
    if (pk && gpk && gsk) {
        snprintf(pk, n, "img#%s", id);
        snprintf(gpk, n, "owner#%s", owner);
        snprintf(gsk, n, "%s#%s", created, id);
        item = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "pk", ig_dynamodb_attr_s(pk), "sk",
                         ig_dynamodb_attr_s("img"), "gsi1pk", ig_dynamodb_attr_s(gpk), "gsi1sk",
                         ig_dynamodb_attr_s(gsk), "key", ig_dynamodb_attr_s(key), "owner", ig_dynamodb_attr_s(owner),
                         "created_at", ig_dynamodb_attr_n(now_ms), "expires_at",
                         ig_dynamodb_attr_n(now_ms / 1000 + json_integer_value(retention)), "cached",
                         ig_dynamodb_attr_bool(cached));
    }
    free(pk);
    free(gpk);
    free(gsk);
    if (!item)
        return NULL;
    set_s(item, "model", model);
    set_s(item, "task", ig_json_str(record, "task"));
    set_s(item, "seed", seed);
    set_s(item, "format", ig_json_str(entry, "format"));
    set_s(item, "content_type", ig_json_str(entry, "content_type"));
    set_n(item, "width", json_object_get(entry, "width"));
    set_n(item, "height", json_object_get(entry, "height"));
    set_n(item, "bytes", json_object_get(entry, "bytes"));
    set_s(item, "prompt_sha256", ig_json_str(record, "prompt_sha256"));
    set_s(item, "prompt", ig_json_str(record, "prompt"));
    json_t *params = json_object_get(record, "parameters");
    if (json_is_object(params) && json_object_size(params) > 0) {
        char *text = json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS);
        set_s(item, "parameters", text);
        free(text);
    }
    return item;
}

static void view_s(json_t *v, const json_t *item, const char *name)
{
    const char *s = ig_dynamodb_item_s(item, name);
    if (s)
        json_object_set_new(v, name, json_string(s));
}

static void view_n(json_t *v, const json_t *item, const char *name)
{
    int64_t n;
    if (ig_dynamodb_item_n(item, name, &n))
        json_object_set_new(v, name, json_integer((json_int_t)n));
}

json_t *ig_image_view(const json_t *item)
{
    const char *pk = ig_dynamodb_item_s(item, "pk"), *key = ig_dynamodb_item_s(item, "key");
    int64_t created;
    if (!pk || strncmp(pk, "img#", 4) != 0 || !ig_image_id_valid(pk + 4) || !key ||
        !ig_dynamodb_item_n(item, "created_at", &created))
        return NULL;
    json_t *v = json_pack("{s:s, s:s, s:I}", "id", pk + 4, "key", key, "created_at", (json_int_t)created);
    static const char *const strings[] = {"model", "task", "seed", "format", "content_type", "prompt_sha256",
                                          "prompt"};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        view_s(v, item, strings[i]);
    static const char *const numbers[] = {"width", "height", "bytes", "expires_at"};
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++)
        view_n(v, item, numbers[i]);
    int cached = 0;
    json_object_set_new(v, "cached", json_boolean(ig_dynamodb_item_bool(item, "cached", &cached) && cached));
    const char *params = ig_dynamodb_item_s(item, "parameters");
    json_t *p = params ? json_loads(params, 0, NULL) : NULL;
    if (json_is_object(p))
        json_object_set_new(v, "parameters", p);
    else
        json_decref(p);
    return v;
}

/* ---- the cursor ------------------------------------------------------------------------ */

/* base64url without padding (RFC 4648 section 5), over standard base64. */
static char *b64url_encode(const void *data, size_t len)
{
    ig_buf b;
    ig_buf_init(&b, 0);
    if (ig_base64_encode_buf(data, len, &b) != IG_OK) {
        ig_buf_free(&b);
        return NULL;
    }
    char *out = strdup(ig_buf_cstr(&b));
    ig_buf_free(&b);
    if (!out)
        return NULL;
    size_t n = strlen(out);
    while (n > 0 && out[n - 1] == '=')
        out[--n] = '\0';
    for (char *c = out; *c; c++)
        *c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
    return out;
}

/* Decodes base64url (no padding) into out; 0 when it is not. */
static int b64url_decode(const char *in, size_t len, ig_buf *out)
{
    if (len == 0 || len % 4 == 1 || len > IG_IMAGE_CURSOR_MAX)
        return 0;
    char std[IG_IMAGE_CURSOR_MAX + 4];
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '+' || c == '/' || c == '=')
            return 0;
        std[i] = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    size_t n = len;
    while (n % 4)
        std[n++] = '=';
    ig_error err;
    return ig_base64_decode_buf(std, n, out, &err) == IG_OK;
}

static void cursor_tag(const char *owner, const char *payload, size_t len, unsigned char tag[32])
{
    ig_hmac_sha256(owner, strlen(owner), payload, len, tag);
}

char *ig_image_cursor_encode(const char *owner, const json_t *last_key)
{
    const char *pk = ig_dynamodb_item_s(last_key, "pk"), *gpk = ig_dynamodb_item_s(last_key, "gsi1pk"),
               *gsk = ig_dynamodb_item_s(last_key, "gsi1sk");
    if (!owner || !pk || !gpk || !gsk || strncmp(pk, "img#", 4) != 0 || !ig_image_id_valid(pk + 4) ||
        strncmp(gpk, "owner#", 6) != 0 || strcmp(gpk + 6, owner) != 0)
        return NULL;
    json_t *doc = json_pack("{s:s, s:s}", "t", gsk, "i", pk + 4);
    char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(doc);
    if (!text)
        return NULL;
    unsigned char tag[32];
    cursor_tag(owner, text, strlen(text), tag);
    char *a = b64url_encode(text, strlen(text)), *b = b64url_encode(tag, CURSOR_TAG_BYTES);
    free(text);
    char *out = NULL;
    if (a && b && (out = malloc(strlen(a) + strlen(b) + 2)))
        sprintf(out, "%s.%s", a, b);
    free(a);
    free(b);
    if (out && strlen(out) > IG_IMAGE_CURSOR_MAX) {
        free(out);
        out = NULL;
    }
    return out;
}

json_t *ig_image_cursor_decode(const char *owner, const char *cursor)
{
    if (!owner || !*owner || !cursor || strlen(cursor) > IG_IMAGE_CURSOR_MAX)
        return NULL;
    const char *dot = strchr(cursor, '.');
    if (!dot || strchr(dot + 1, '.'))
        return NULL;
    ig_buf payload, tag;
    ig_buf_init(&payload, 0);
    ig_buf_init(&tag, 0);
    json_t *key = NULL, *doc = NULL;
    unsigned char want[32];
    if (!b64url_decode(cursor, (size_t)(dot - cursor), &payload) || !b64url_decode(dot + 1, strlen(dot + 1), &tag) ||
        tag.len != CURSOR_TAG_BYTES)
        goto done;
    cursor_tag(owner, (const char *)payload.data, payload.len, want);
    if (!ig_ct_equal(want, tag.data, CURSOR_TAG_BYTES))
        goto done;
    doc = json_loadb((const char *)payload.data, payload.len, JSON_REJECT_DUPLICATES, NULL);
    const char *t = ig_json_str(doc, "t"), *id = ig_json_str(doc, "i");
    size_t tl = t ? strlen(t) : 0;
    /* "<time>#<id>": the id after the last '#' is the record's */
    if (json_object_size(doc) != 2 || !ig_image_id_valid(id) || tl <= IG_IMAGE_ID_LEN + 1 ||
        t[tl - IG_IMAGE_ID_LEN - 1] != '#' || strcmp(t + tl - IG_IMAGE_ID_LEN, id) != 0)
        goto done;
    size_t n = strlen(owner) + 8;
    char *gpk = malloc(n), pk[8 + IG_IMAGE_ID_LEN];
    if (!gpk)
        goto done;
    snprintf(gpk, n, "owner#%s", owner);
    snprintf(pk, sizeof pk, "img#%s", id);
    key = json_pack("{s:o, s:o, s:o, s:o}", "pk", ig_dynamodb_attr_s(pk), "sk", ig_dynamodb_attr_s("img"), "gsi1pk",
                    ig_dynamodb_attr_s(gpk), "gsi1sk", ig_dynamodb_attr_s(t));
    free(gpk);
done:
    json_decref(doc);
    ig_buf_free(&payload);
    ig_buf_free(&tag);
    return key;
}

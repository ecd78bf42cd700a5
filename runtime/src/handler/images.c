/* images.c - image records in DynamoDB: written after images are stored, read by GET
 * /images/{id}, listed by GET /images (images.h tells the item and the cursor). It decides no
 * shape: every answer is a result for the policy's respond(). */
#include "handler/images.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/dynamodb.h"
#include "codec/json.h"
#include "core/clock.h"
#include "core/log.h"

struct ig_images {
    ig_dynamodb *db;
    char table[256];
};

ig_images *ig_images_new(ig_aws_context *aws, const ig_handler_config *cfg, ig_error *err)
{
    ig_images *im = calloc(1, sizeof *im);
    if (!im) {
        ig_error_set(err, IG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    snprintf(im->table, sizeof im->table, "%s", cfg->table);
    im->db = ig_dynamodb_new(aws, err);
    if (!im->db) {
        free(im);
        return NULL;
    }
    return im;
}

void ig_images_free(ig_images *im)
{
    if (!im)
        return;
    ig_dynamodb_free(im->db);
    free(im);
}

static json_t *failure(const char *route, int status, const char *code, const char *message)
{
    return json_pack("{s:b, s:i, s:s, s:s, s:s}", "ok", 0, "status", status, "code", code, "message", message,
                     "records", route);
}

static void log_db_failure(const char *what, const char *id, const ig_aws_call_result *r)
{
    ig_log(IG_LOG_ERROR, what,
           json_pack("{s:s, s:s, s:s, s:i, s:s, s:i}", "imageId", id, "error", ig_strerror(r->err), "errorType",
                     r->error_type, "status", (int)r->status, "message", r->message, "attempts", r->attempts));
}

/* ---- writing --------------------------------------------------------------------------- */

int ig_images_record(ig_images *im, const json_t *record, json_t *result, const char *const *seeds,
                     size_t n_seeds, int64_t deadline_ms)
{
    int failed = 0, cached = json_is_true(json_object_get(result, "cached"));
    const char *model = ig_json_str(result, "model");
    int64_t now = ig_now_ms();
    size_t i;
    json_t *entry;
    json_array_foreach(json_object_get(result, "images"), i, entry)
    {
        json_t *call = json_object_get(entry, "call");
        json_int_t c = json_is_integer(call) ? json_integer_value(call) : 0;
        const char *seed = c >= 1 && (size_t)c <= n_seeds ? seeds[c - 1] : NULL;
        json_t *item = ig_image_item(record, entry, model, cached, seed, now);
        const char *key = ig_json_str(entry, "key");
        if (!item) {
            ig_log(IG_LOG_ERROR, "an image record could not be made",
                   json_pack("{s:s, s:s}", "key", key ? key : "", "error",
                             "record must be {owner, retention_s >= 60, ...} and the image stored"));
            failed++;
            continue;
        }
        ig_dynamodb_put p = {.table = im->table, .item = item};
        ig_dynamodb_result r;
        ig_dynamodb_result_init(&r);
        if (ig_dynamodb_put_item(im->db, &p, deadline_ms, &r) != IG_OK) {
            log_db_failure("an image record could not be written; the image is served without one",
                           ig_dynamodb_item_s(item, "pk") + 4, &r.call);
            failed++;
        } else {
            json_object_set_new(entry, "id", json_string(ig_dynamodb_item_s(item, "pk") + 4));
        }
        ig_dynamodb_result_free(&r);
        json_decref(item);
    }
    return failed;
}

/* ---- reading --------------------------------------------------------------------------- */

/* Adds url, download_url (the same object, saved by a browser under the key's last segment)
 * and url_expires_at to a view. 0 when presigning failed. */
static int presign_view(ig_s3 *s3, json_t *view, int64_t ttl)
{
    int64_t now_s = ig_now_ms() / 1000;
    ig_buf url, download;
    ig_buf_init(&url, 0);
    ig_buf_init(&download, 0);
    ig_error perr;
    const char *key = ig_json_str(view, "key");
    const char *name = key ? strrchr(key, '/') : NULL;
    name = name ? name + 1 : key;
    int ok = ig_s3_presign_get(s3, key, ttl, now_s, &url, &perr) == IG_OK &&
             ig_s3_presign_download(s3, key, name, ttl, now_s, &download, &perr) == IG_OK;
    if (ok) {
        json_object_set_new(view, "url", json_string(ig_buf_cstr(&url)));
        json_object_set_new(view, "download_url", json_string(ig_buf_cstr(&download)));
        json_object_set_new(view, "url_expires_at", json_integer(now_s + ttl));
    } else {
        ig_log(IG_LOG_ERROR, "presigning an image record's URL failed", json_pack("{s:s}", "error", perr.message));
    }
    ig_buf_free(&url);
    ig_buf_free(&download);
    return ok;
}

static int ttl_of(const json_t *spec, int64_t *ttl)
{
    json_t *t = json_object_get(spec, "url_ttl");
    *ttl = json_is_integer(t) ? json_integer_value(t) : 0;
    return *ttl >= 1 && *ttl <= 604800;
}

static json_t *policy_failure(const char *route, const char *what)
{
    ig_log(IG_LOG_ERROR, "the policy's images answer is unusable", json_pack("{s:s}", "error", what));
    return failure(route, 500, "policy_error", "The request policy failed; see the function's log.");
}

json_t *ig_images_get(ig_images *im, ig_s3 *s3, json_t *spec, int64_t deadline_ms)
{
    const char *id = ig_json_str(spec, "id"), *owner = ig_json_str(spec, "owner");
    int64_t ttl;
    if (!owner || !*owner || !ttl_of(spec, &ttl))
        return policy_failure("get", "image must be {id, owner, url_ttl 1..604800}");
    if (!ig_image_id_valid(id))
        return failure("get", 404, "not_found", "No image has this id.");
    char pk[8 + IG_IMAGE_ID_LEN];
    snprintf(pk, sizeof pk, "img#%s", id);
    json_t *key = json_pack("{s:o, s:o}", "pk", ig_dynamodb_attr_s(pk), "sk", ig_dynamodb_attr_s("img"));
    /* read consistently: a client asks for an image right after the answer that named it */
    ig_dynamodb_get g = {.table = im->table, .key = key, .consistent_read = 1};
    ig_dynamodb_result r;
    ig_dynamodb_result_init(&r);
    ig_err e = ig_dynamodb_get_item(im->db, &g, deadline_ms, &r);
    json_t *item = e == IG_OK ? ig_dynamodb_output(&r, "Item") : NULL;
    const char *was = ig_dynamodb_item_s(item, "owner");
    json_t *view = was && !strcmp(was, owner) ? ig_image_view(item) : NULL;
    if (e != IG_OK)
        log_db_failure("an image record could not be read", id, &r.call);
    ig_dynamodb_result_free(&r);
    json_decref(key);
    if (e != IG_OK)
        return failure("get", 503, "images_unavailable", "The image record could not be read; try again.");
    if (!view)
        return failure("get", 404, "not_found", "No image has this id.");
    if (!presign_view(s3, view, ttl)) {
        json_decref(view);
        return failure("get", 502, "storage_error", "The image could not be shared; try again.");
    }
    return json_pack("{s:b, s:i, s:s, s:o}", "ok", 1, "status", 200, "records", "get", "image", view);
}

/* One page of owner's records, newest first. */
static ig_err query_page(ig_images *im, const char *owner, int limit, json_t *start, int64_t deadline_ms,
                         ig_dynamodb_result *r)
{
    size_t n = strlen(owner) + 8;
    char *gpk = malloc(n);
    if (!gpk)
        return IG_ERR_NOMEM;
    snprintf(gpk, n, "owner#%s", owner);
    json_t *names = json_pack("{s:s}", "#o", "gsi1pk");
    json_t *values = json_pack("{s:o}", ":o", ig_dynamodb_attr_s(gpk));
    ig_dynamodb_query q = {.table = im->table, .index = "gsi1", .key_condition = "#o = :o", .names = names,
                           .values = values, .descending = 1, .limit = limit, .exclusive_start_key = start};
    ig_err e = ig_dynamodb_query_page(im->db, &q, deadline_ms, r);
    json_decref(names);
    json_decref(values);
    free(gpk);
    return e;
}

json_t *ig_images_list(ig_images *im, ig_s3 *s3, json_t *spec, int64_t deadline_ms)
{
    const char *owner = ig_json_str(spec, "owner"), *cursor = ig_json_str(spec, "cursor");
    json_t *lim = json_object_get(spec, "limit");
    int64_t ttl;
    if (!owner || !*owner || !ttl_of(spec, &ttl) || !json_is_integer(lim) || json_integer_value(lim) < 1 ||
        json_integer_value(lim) > IG_IMAGE_LIST_MAX || (json_object_get(spec, "cursor") && !cursor))
        return policy_failure("list", "images must be {owner, limit 1..100, cursor?, url_ttl 1..604800}");
    json_t *start = NULL;
    if (cursor && !(start = ig_image_cursor_decode(owner, cursor)))
        return failure("list", 400, "invalid_cursor", "next is not a cursor this API gave you; start again without it.");
    ig_dynamodb_result r;
    ig_dynamodb_result_init(&r);
    ig_err e = query_page(im, owner, (int)json_integer_value(lim), start, deadline_ms, &r);
    json_decref(start);
    if (e != IG_OK) {
        log_db_failure("image records could not be listed", "", &r.call);
        ig_dynamodb_result_free(&r);
        return failure("list", 503, "images_unavailable", "The image records could not be read; try again.");
    }
    json_t *list = json_array();
    size_t i;
    json_t *item;
    int shared = 1;
    json_array_foreach(ig_dynamodb_output(&r, "Items"), i, item)
    {
        json_t *view = ig_image_view(item);
        if (view && shared)
            shared = presign_view(s3, view, ttl);
        if (view)
            json_array_append_new(list, view);
    }
    json_t *last = ig_dynamodb_output(&r, "LastEvaluatedKey");
    char *next = last ? ig_image_cursor_encode(owner, last) : NULL;
    ig_dynamodb_result_free(&r);
    if (!shared || (last && !next)) {
        if (last && !next)
            ig_log(IG_LOG_ERROR, "a page's last key is not a record of its owner", NULL);
        free(next);
        json_decref(list);
        return failure("list", 502, "storage_error", "The images could not be shared; try again.");
    }
    json_t *out = json_pack("{s:b, s:i, s:s, s:o}", "ok", 1, "status", 200, "records", "list", "list", list);
    if (next)
        json_object_set_new(out, "next", json_string(next));
    free(next);
    return out;
}

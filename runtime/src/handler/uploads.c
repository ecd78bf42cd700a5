/* uploads.c - presigned POST forms and uploads fetched for the policy (see uploads.h). */
#include "handler/uploads.h"

#include <stdio.h>
#include <string.h>

#include "codec/json.h"
#include "core/buf.h"
#include "core/log.h"

json_t *ig_uploads_presign(ig_s3 *s3, json_t *spec, int64_t now_s, ig_error *err)
{
    json_t *mb = json_object_get(spec, "max_bytes"), *ex = json_object_get(spec, "expires");
    ig_s3_post_request pr = {.key = ig_json_str(spec, "key"),
                             .content_type = ig_json_str(spec, "content_type"),
                             .max_bytes = json_is_integer(mb) ? (uint64_t)json_integer_value(mb) : 0,
                             .expires_s = json_is_integer(ex) ? json_integer_value(ex) : 0};
    if (!pr.key || !pr.content_type || !json_is_integer(mb) || json_integer_value(mb) < 1 || !json_is_integer(ex)) {
        ig_error_set(err, IG_ERR_POLICY, "admit(): presign_post must be {key, content_type, max_bytes, expires}");
        return NULL;
    }
    json_t *form = NULL;
    ig_error serr;
    ig_error_clear(&serr);
    if (ig_s3_presign_post(s3, &pr, now_s, &form, &serr) != IG_OK) {
        ig_error_set(err, IG_ERR_POLICY, "admit(): presign_post: %s", serr.message);
        return NULL;
    }
    json_t *r = json_pack("{s:b, s:i, s:o}", "ok", 1, "status", 200, "upload", form);
    json_t *context = json_object_get(spec, "context");
    if (json_is_object(context))
        json_object_set(r, "context", context); /* for respond(), as a plan's */
    return r;
}

/* One fetch entry checked: its field, key, cap and list position (0: not a list). */
static ig_err fetch_entry(json_t *f, size_t i, const char **field, const char **key, size_t *max_bytes,
                          size_t *index, ig_error *err)
{
    *field = ig_json_str(f, "field");
    *key = ig_json_str(f, "key");
    json_t *mb = json_object_get(f, "max_bytes"), *ix = json_object_get(f, "index");
    ig_error kerr;
    if (!*field || !*key || !ig_s3_key_valid(*key, &kerr) || !json_is_integer(mb) || json_integer_value(mb) < 1 ||
        json_integer_value(mb) > IG_INPUTS_FETCH_MAX || (ix && (!json_is_integer(ix) || json_integer_value(ix) < 1)))
        return ig_error_set(err, IG_ERR_POLICY,
                            "admit(): fetch[%zu] must be {field = name, key = S3 key, max_bytes = 1..%d, index = n?}",
                            i + 1, IG_INPUTS_FETCH_MAX);
    *max_bytes = (size_t)json_integer_value(mb);
    *index = ix ? (size_t)json_integer_value(ix) : 0;
    return IG_OK;
}

ig_err ig_uploads_fetch(ig_s3 *s3, ig_inputs *inputs, json_t *req, json_t *list, int64_t deadline_ms,
                        ig_error *err)
{
    size_t n = json_array_size(list);
    if (!json_is_array(list) || n == 0 || n > IG_INPUTS_MAX)
        return ig_error_set(err, IG_ERR_POLICY, "admit(): fetch must be a list of 1 to %d uploads", IG_INPUTS_MAX);
    for (size_t i = 0; i < n; i++) {
        const char *field = NULL, *key = NULL;
        size_t max_bytes = 0, index = 0;
        ig_err g = fetch_entry(json_array_get(list, i), i, &field, &key, &max_bytes, &index, err);
        if (g != IG_OK)
            return g;
        ig_s3_get_result r;
        ig_buf data;
        ig_buf_init(&data, 0);
        g = ig_s3_get_object(s3, key, max_bytes, deadline_ms, &r, &data);
        const char *problem = NULL;
        char message[300] = "";
        if (g == IG_ERR_AWS && (r.status == 404 || r.status == 403)) {
            problem = "not_found";
            snprintf(message, sizeof message, "no upload has this key (uploads expire after a day)");
        } else if (g == IG_ERR_TOO_LARGE) {
            problem = "too_large";
            snprintf(message, sizeof message, "the upload is larger than %zu bytes", max_bytes);
        } else if (g != IG_OK) {
            ig_log(IG_LOG_ERROR, "an upload could not be read from S3",
                   json_pack("{s:s, s:s, s:i, s:s}", "error", ig_strerror(g), "code", r.code, "status", (int)r.status,
                             "message", r.message));
            ig_buf_free(&data);
            return ig_error_set(err, IG_ERR_AWS, "the upload could not be read");
        }
        g = ig_inputs_add_upload(inputs, req, field, index, key, problem ? NULL : data.data, data.len, r.content_type,
                                 problem, message, err);
        ig_buf_free(&data);
        if (g != IG_OK)
            return g == IG_ERR_NOMEM ? g : IG_ERR_POLICY;
    }
    return IG_OK;
}

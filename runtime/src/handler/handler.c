/* handler.c - the pipeline of one invocation. It decides nothing a policy should decide: routes,
 * limits, model bodies and response shapes come from Lua; this file moves bytes between the
 * policy, Bedrock and S3, enforces the deadline, and reports honestly what happened. */
#include "handler/handler.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "aws/bedrock.h"
#include "aws/s3.h"
#include "codec/base64.h"
#include "codec/image.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/random.h"
#include "handler/config.h"
#include "handler/event.h"
#include "handler/extract.h"
#include "handler/metrics.h"
#include "handler/response.h"
#include "lua/policy.h"

#define IG_MAX_IMAGES 10
#define IG_KEY_MAX 1024

struct ig_handler {
    ig_handler_config cfg;
    ig_policy *policy;
    ig_aws_context aws;
    int aws_ready;
    ig_s3 *s3;
    ig_bedrock *bedrock;
};

/* What admit asked for. Strings point into the admit answer, which outlives the plan. */
typedef struct {
    const char *model;
    char *body;              /* the InvokeModel body (owned) */
    size_t body_len;
    const char *images_path;
    const char *error_field;
    int expected;
    const char *key_prefix;
    int64_t url_ttl;
    const char *cache_control;
    const char *cache_key;
    json_t *metadata;        /* borrowed */
    json_t *context;         /* borrowed */
} ig_plan;

/* The per-invocation state. */
typedef struct {
    ig_handler *h;
    const ig_invoke_ctx *ctx;
    int64_t deadline_ms;     /* effective: the earlier of Lambda's deadline and the budget */
    json_t *req;
    ig_metrics metrics;
    const char *outcome;     /* for the EMF dimension and the summary line */
    int status;
} ig_invocation_state;

/* ---- init ------------------------------------------------------------------------------ */

ig_handler *ig_handler_new(ig_error *err)
{
    ig_handler *h = calloc(1, sizeof *h);
    if (!h) {
        ig_error_set(err, IG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (ig_handler_config_from_env(&h->cfg, err) != IG_OK)
        goto fail;
    ig_policy_options po;
    if (ig_policy_options_from_env(&po, err) != IG_OK)
        goto fail;
    h->policy = ig_policy_load(&po, err);
    if (!h->policy)
        goto fail;
    if (ig_aws_context_init(&h->aws, err) != IG_OK)
        goto fail;
    h->aws_ready = 1;
    h->s3 = ig_s3_new(&h->aws, h->cfg.bucket, err);
    if (!h->s3)
        goto fail;
    h->bedrock = ig_bedrock_new(&h->aws, err);
    if (!h->bedrock)
        goto fail;
    return h;
fail:
    ig_handler_free(h);
    return NULL;
}

void ig_handler_free(ig_handler *h)
{
    if (!h)
        return;
    ig_bedrock_free(h->bedrock);
    ig_s3_free(h->s3);
    if (h->aws_ready)
        ig_aws_context_free(&h->aws);
    ig_policy_free(h->policy);
    free(h);
}

/* ---- helpers --------------------------------------------------------------------------- */

static json_t *ig_jstr(const char *s)
{
    json_t *v = s ? json_string(s) : NULL;
    return v ? v : json_string("");
}

static const char *ig_member_str(json_t *obj, const char *name)
{
    json_t *v = json_object_get(obj, name);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static json_t *ig_ctx_json(const ig_invocation_state *st)
{
    json_t *c = json_object();
    json_object_set_new(c, "request_id", ig_jstr(st->ctx->request_id));
    json_object_set_new(c, "deadline_ms", json_integer(st->deadline_ms));
    json_object_set_new(c, "remaining_ms", json_integer(ig_remaining_ms(st->deadline_ms)));
    json_object_set_new(c, "function_arn", ig_jstr(st->ctx->function_arn));
    json_object_set_new(c, "now", json_real((double)ig_now_ms() / 1000.0));
    return c;
}

/* The policy's respond() shapes every answer after admit, failures included, so errors carry
 * the same JSON shape and CORS headers as successes. When the policy itself is broken, the
 * runtime answers on its own. */
static ig_err ig_respond(ig_invocation_state *st, json_t *result, ig_buf *out)
{
    json_t *answer = NULL;
    ig_error perr;
    ig_error_clear(&perr);
    json_t *req = st->req ? st->req : json_object();
    ig_err e = ig_policy_respond(st->h->policy, result, req, &answer, &perr);
    if (!st->req)
        json_decref(req);
    if (e == IG_OK)
        e = ig_response_from_answer(answer, out, &perr);
    json_decref(answer);
    if (e == IG_OK) {
        json_t *status = json_object_get(result, "status");
        if (json_is_integer(status))
            st->status = (int)json_integer_value(status);
        if (json_is_true(json_object_get(result, "ok")))
            st->status = 200;
        return IG_OK;
    }
    ig_log(IG_LOG_ERROR, "policy respond() failed",
           json_pack("{s:s, s:s}", "error", perr.message, "code", "policy_error"));
    st->outcome = "policy_error";
    st->status = 500;
    return ig_response_fallback(500, "policy_error", "The request policy failed; see the function's log.",
                                st->ctx->request_id, out);
}

static ig_err ig_respond_failure(ig_invocation_state *st, int status, const char *code,
                                 const char *message, int64_t retry_after_s, json_t *context,
                                 const char *model, ig_buf *out)
{
    json_t *r = json_object();
    json_object_set_new(r, "ok", json_false());
    json_object_set_new(r, "status", json_integer(status));
    json_object_set_new(r, "code", ig_jstr(code));
    json_object_set_new(r, "message", ig_jstr(message));
    json_object_set_new(r, "request_id", ig_jstr(st->ctx->request_id));
    if (retry_after_s > 0)
        json_object_set_new(r, "retry_after", json_integer(retry_after_s));
    if (model)
        json_object_set_new(r, "model", ig_jstr(model));
    if (context)
        json_object_set(r, "context", context);
    st->outcome = code;
    ig_err e = ig_respond(st, r, out);
    json_decref(r);
    return e;
}

/* ---- plan ------------------------------------------------------------------------------ */

static int ig_metadata_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
            return 0;
    return 1;
}

static int ig_cache_key_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 128)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_'))
            return 0;
    return 1;
}

static ig_err ig_plan_parse(json_t *g, ig_plan *p, ig_error *err)
{
    memset(p, 0, sizeof *p);
    if (!json_is_object(g))
        return ig_error_set(err, IG_ERR_POLICY, "admit(): generate must be a table");
    p->model = ig_member_str(g, "model");
    if (!p->model || !*p->model || strlen(p->model) > 2048)
        return ig_error_set(err, IG_ERR_POLICY, "admit(): generate.model must be a model id");
    json_t *body = json_object_get(g, "body");
    if (json_is_string(body)) {
        p->body = strdup(json_string_value(body));
    } else if (json_is_object(body)) {
        p->body = json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(15));
    } else {
        return ig_error_set(err, IG_ERR_POLICY, "admit(): generate.body must be a table or a string");
    }
    if (!p->body)
        return ig_error_set(err, IG_ERR_NOMEM, "admit(): generate.body could not be encoded");
    p->body_len = strlen(p->body);
    if (p->body_len > IG_BEDROCK_MAX_BODY)
        return ig_error_set(err, IG_ERR_POLICY, "admit(): generate.body is larger than 25 MB");
    p->images_path = ig_member_str(g, "images");
    if (!p->images_path)
        p->images_path = "images";
    p->error_field = ig_member_str(g, "error_field");
    json_t *n = json_object_get(g, "expected_images");
    p->expected = json_is_integer(n) ? (int)json_integer_value(n) : 1;
    if (!json_is_integer(n) && n)
        return ig_error_set(err, IG_ERR_POLICY, "admit(): generate.expected_images must be an integer");
    if (p->expected < 1 || p->expected > IG_MAX_IMAGES)
        return ig_error_set(err, IG_ERR_POLICY, "admit(): generate.expected_images must be 1 to %d",
                            IG_MAX_IMAGES);
    p->key_prefix = ig_member_str(g, "key_prefix");
    if (!p->key_prefix)
        p->key_prefix = "images/";
    if (strlen(p->key_prefix) > 800 || p->key_prefix[0] == '/')
        return ig_error_set(err, IG_ERR_POLICY,
                            "admit(): generate.key_prefix must be a relative key prefix of at most 800 bytes");
    if (p->key_prefix[0]) {
        ig_error kerr;
        if (!ig_s3_key_valid(p->key_prefix, &kerr))
            return ig_error_set(err, IG_ERR_POLICY, "admit(): generate.key_prefix: %s", kerr.message);
    }
    json_t *ttl = json_object_get(g, "url_ttl");
    p->url_ttl = json_is_integer(ttl) ? json_integer_value(ttl) : 3600;
    if ((ttl && !json_is_integer(ttl)) || p->url_ttl < 1 || p->url_ttl > 604800)
        return ig_error_set(err, IG_ERR_POLICY,
                            "admit(): generate.url_ttl must be a whole number of seconds from 1 to 604800");
    p->cache_control = ig_member_str(g, "cache_control");
    p->cache_key = ig_member_str(g, "cache_key");
    if (p->cache_key && !ig_cache_key_ok(p->cache_key))
        return ig_error_set(err, IG_ERR_POLICY,
                            "admit(): generate.cache_key must be 1 to 128 letters, digits, '-' or '_'");
    p->metadata = json_object_get(g, "metadata");
    const char *k;
    json_t *v;
    json_object_foreach(p->metadata, k, v)
    {
        if (!ig_metadata_name_ok(k) || !json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
            return ig_error_set(err, IG_ERR_POLICY,
                                "admit(): generate.metadata[\"%.40s\"] needs a name of a-z, 0-9, '-' and a string value without NUL bytes",
                                k);
    }
    p->context = json_object_get(g, "context");
    return IG_OK;
}

static void ig_plan_free(ig_plan *p)
{
    free(p->body);
    p->body = NULL;
}

/* ---- Bedrock failures ------------------------------------------------------------------ */

typedef struct {
    int status;
    const char *code;        /* static text */
    const char *message;     /* static text, or msgbuf */
    int64_t retry_after_s;
    char msgbuf[1024];       /* a message quoted from the service */
} ig_failure;

static ig_failure ig_fail(int status, const char *code, const char *message, int64_t retry_after_s)
{
    ig_failure f;
    memset(&f, 0, sizeof f);
    f.status = status;
    f.code = code;
    f.message = message;
    f.retry_after_s = retry_after_s;
    return f;
}

static int ig_type_is(const char *t, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(t, *list) == 0)
            return 1;
    return 0;
}

/* Maps what Bedrock said (after retries) to what the client is told. The operator's half of the
 * story goes to the log. */
static ig_failure ig_bedrock_failure(const ig_bedrock_result *r, const char *model)
{
    static const char *const unavailable[] = {
        "AccessDeniedException", "ResourceNotFoundException", "UnrecognizedClientException",
        "InvalidSignatureException", "IncompleteSignatureException",
        "MissingAuthenticationTokenException", "ExpiredTokenException", NULL};
    static const char *const throttled[] = {"ThrottlingException", "TooManyRequestsException",
                                            "ServiceQuotaExceededException", NULL};
    static const char *const unready[] = {"ModelNotReadyException", "ServiceUnavailableException",
                                          NULL};
    ig_failure f = ig_fail(502, "upstream_error", "The image model failed to answer; try again later.", 0);
    int64_t hint_s = r->retry_after_ms > 0 ? (r->retry_after_ms + 999) / 1000 : 0;
    if (r->err == IG_ERR_DEADLINE || r->err == IG_ERR_TIMEOUT) {
        f = ig_fail(504, "timeout", "The image model did not answer in time.", 0);
    } else if (r->err != IG_ERR_AWS) {
        f.message = "The image model could not be reached; try again later.";
    } else if (strcmp(r->error_type, "ValidationException") == 0 && strstr(r->message, "content filter")) {
        f = ig_fail(400, "content_filtered",
                         "The request was blocked by the model's content filters; change the prompt.", 0);
    } else if (strcmp(r->error_type, "ValidationException") == 0 && r->status == 400) {
        f = ig_fail(400, "invalid_request", "The model rejected the request.", 0);
        if (r->message[0]) {
            snprintf(f.msgbuf, sizeof f.msgbuf, "%s", r->message);
            f.message = NULL; /* set by the caller: msgbuf moves with the struct */
        }
    } else if (ig_type_is(r->error_type, unavailable)) {
        f = ig_fail(502, "model_unavailable", "The image model is not available right now.", 0);
        const char *hint = strstr(r->error_type, "Signature") || strstr(r->error_type, "Token") ||
                                   strcmp(r->error_type, "UnrecognizedClientException") == 0
                               ? "Bedrock rejected the function's credentials: check the execution role and AWS_* variables"
                               : "enable model access in the Bedrock console for this model and region, and check the IAM policy allows bedrock:InvokeModel on it";
        ig_log(IG_LOG_ERROR, "the model is not available to this function",
               json_pack("{s:s, s:s, s:s, s:i, s:s}", "model", model, "errorType", r->error_type,
                         "bedrockMessage", r->message, "status", (int)r->status, "hint", hint));
    } else if (ig_type_is(r->error_type, throttled) || r->status == 429) {
        if (strcmp(r->error_type, "ModelNotReadyException") == 0)
            f = ig_fail(503, "throttled", "The image model is warming up; retry shortly.", hint_s ? hint_s : 5);
        else
            f = ig_fail(429, "throttled", "The image model is busy; retry later.", hint_s ? hint_s : 5);
    } else if (ig_type_is(r->error_type, unready) || r->status == 503) {
        f = ig_fail(503, "throttled", "The image model is temporarily unavailable; retry shortly.",
                         hint_s ? hint_s : 5);
    } else if (strcmp(r->error_type, "ModelTimeoutException") == 0 || r->status == 408) {
        f = ig_fail(504, "timeout", "The image model did not answer in time.", 0);
    }
    return f;
}

/* ---- generation ------------------------------------------------------------------------ */

typedef struct {
    ig_buf bytes[IG_MAX_IMAGES];
    char keys[IG_MAX_IMAGES][IG_KEY_MAX + 1];
    unsigned width[IG_MAX_IMAGES], height[IG_MAX_IMAGES];
    ig_image_type type[IG_MAX_IMAGES];
    uint64_t stored_bytes[IG_MAX_IMAGES];
    size_t count;
} ig_images;

static void ig_images_free(ig_images *im)
{
    for (size_t i = 0; i < IG_MAX_IMAGES; i++)
        ig_buf_free(&im->bytes[i]);
}

static int ig_cache_key_for(const ig_plan *p, size_t i, char *out)
{
    int n = snprintf(out, IG_KEY_MAX + 1, "%s%s-%zu.png", p->key_prefix, p->cache_key, i + 1);
    return n > 0 && n <= IG_KEY_MAX;
}

/* Looks the cached objects up; all must exist. */
static int ig_cache_lookup(ig_invocation_state *st, const ig_plan *p, ig_images *im)
{
    for (int i = 0; i < p->expected; i++) {
        if (!ig_cache_key_for(p, (size_t)i, im->keys[i]))
            return 0;
        ig_s3_head_result hr;
        ig_s3_head_result_init(&hr);
        ig_err e = ig_s3_head_object(st->h->s3, im->keys[i], st->deadline_ms - st->h->cfg.margin_ms, &hr);
        if (e == IG_OK) {
            const char *w = ig_header_list_get(&hr.metadata, "width");
            const char *hh = ig_header_list_get(&hr.metadata, "height");
            im->width[i] = w ? (unsigned)strtoul(w, NULL, 10) : 0;
            im->height[i] = hh ? (unsigned)strtoul(hh, NULL, 10) : 0;
            im->type[i] = strstr(hr.content_type, "jpeg") ? IG_IMAGE_JPEG : IG_IMAGE_PNG;
            im->stored_bytes[i] = hr.content_length;
            im->count = (size_t)i + 1;
        } else if (hr.status != 404 && hr.status != 403) { /* 403: no s3:ListBucket, a miss */
            ig_log(IG_LOG_WARN, "cache lookup failed; generating instead",
                   json_pack("{s:s, s:s, s:i}", "key", im->keys[i], "error", hr.message, "status", (int)hr.status));
        }
        ig_s3_head_result_free(&hr);
        if (e != IG_OK)
            return 0;
    }
    return 1;
}

static json_t *ig_success_result(ig_invocation_state *st, const ig_plan *p, const ig_images *im,
                                 int cached, double model_ms, double upload_ms, ig_failure *fail)
{
    int64_t now_s = ig_now_ms() / 1000;
    json_t *images = json_array();
    for (size_t i = 0; i < im->count; i++) {
        ig_buf url;
        ig_buf_init(&url, 0);
        ig_error perr;
        if (ig_s3_presign_get(st->h->s3, im->keys[i], p->url_ttl, now_s, &url, &perr) != IG_OK) {
            ig_log(IG_LOG_ERROR, "presigning failed", json_pack("{s:s}", "error", perr.message));
            ig_buf_free(&url);
            json_decref(images);
            *fail = ig_fail(502, "storage_error", "The image could not be shared; try again.", 0);
            return NULL;
        }
        uint64_t bytes = cached ? im->stored_bytes[i] : im->bytes[i].len;
        json_array_append_new(images, json_pack("{s:s, s:s, s:i, s:i, s:I, s:s}", "url", ig_buf_cstr(&url),
                                                "key", im->keys[i], "width", (int)im->width[i], "height",
                                                (int)im->height[i], "bytes", (json_int_t)bytes,
                                                "content_type", ig_image_content_type(im->type[i]) ? ig_image_content_type(im->type[i]) : "image/png"));
        ig_buf_free(&url);
    }
    char expires[40];
    ig_format_rfc3339_ms((now_s + p->url_ttl) * 1000, expires, sizeof expires);
    /* "2026-11-29T15:20:55.000Z" -> "2026-11-29T15:20:55Z" */
    char *dot = strchr(expires, '.');
    if (dot)
        memcpy(dot, "Z", 2);
    json_t *r = json_object();
    json_object_set_new(r, "ok", json_true());
    json_object_set_new(r, "model", ig_jstr(p->model));
    json_object_set_new(r, "request_id", ig_jstr(st->ctx->request_id));
    json_object_set_new(r, "cached", json_boolean(cached));
    json_object_set_new(r, "images", images);
    json_object_set_new(r, "expires_at", ig_jstr(expires));
    json_object_set_new(r, "expires_at_epoch", json_integer(now_s + p->url_ttl));
    json_object_set_new(r, "timings", json_pack("{s:I, s:I}", "model_ms", (json_int_t)model_ms,
                                                "upload_ms", (json_int_t)upload_ms));
    if (p->context)
        json_object_set(r, "context", p->context);
    return r;
}

/* Decodes and checks every image; fills im. */
static int ig_decode_images(const ig_extracted *x, ig_images *im, ig_failure *fail)
{
    for (size_t i = 0; i < x->count && i < IG_MAX_IMAGES; i++) {
        ig_buf_init(&im->bytes[i], IG_BEDROCK_MAX_BODY);
        ig_error derr;
        if (ig_base64_decode_buf(x->b64[i], x->b64_len[i], &im->bytes[i], &derr) != IG_OK) {
            ig_log(IG_LOG_ERROR, "the model's image is not valid base64",
                   json_pack("{s:i, s:s}", "index", (int)i, "error", derr.message));
            *fail = ig_fail(502, "upstream_error", "The image model returned an unreadable image.", 0);
            return 0;
        }
        im->type[i] = ig_image_sniff(im->bytes[i].data, im->bytes[i].len, &im->width[i], &im->height[i]);
        if (im->type[i] == IG_IMAGE_UNKNOWN) {
            ig_log(IG_LOG_ERROR, "the model's answer is not a PNG or JPEG image",
                   json_pack("{s:i, s:I}", "index", (int)i, "bytes", (json_int_t)im->bytes[i].len));
            *fail = ig_fail(502, "upstream_error", "The image model returned something that is not an image.", 0);
            return 0;
        }
        im->count = i + 1;
    }
    return 1;
}

static int ig_upload_images(ig_invocation_state *st, const ig_plan *p, ig_images *im, ig_failure *fail)
{
    ig_s3_put_request puts[IG_MAX_IMAGES];
    ig_s3_result results[IG_MAX_IMAGES];
    size_t nmeta = json_object_size(p->metadata);
    ig_header meta[IG_MAX_IMAGES][24];
    char dims[IG_MAX_IMAGES][2][16];
    if (nmeta > 20)
        nmeta = 20;
    for (size_t i = 0; i < im->count; i++) {
        if (!p->cache_key) {
            char uuid[37];
            ig_uuid4(uuid);
            snprintf(im->keys[i], IG_KEY_MAX + 1, "%s%s.%s", p->key_prefix, uuid, ig_image_extension(im->type[i]));
        } else if (!ig_cache_key_for(p, i, im->keys[i])) {
            *fail = ig_fail(500, "policy_error", "The storage key is too long.", 0);
            return 0;
        }
        size_t m = 0;
        const char *k;
        json_t *v;
        json_object_foreach(p->metadata, k, v)
        {
            if (m == nmeta)
                break;
            meta[i][m++] = (ig_header){k, json_string_value(v)};
        }
        snprintf(dims[i][0], sizeof dims[i][0], "%u", im->width[i]);
        snprintf(dims[i][1], sizeof dims[i][1], "%u", im->height[i]);
        meta[i][m++] = (ig_header){"width", dims[i][0]};
        meta[i][m++] = (ig_header){"height", dims[i][1]};
        puts[i] = (ig_s3_put_request){
            .key = im->keys[i], .data = im->bytes[i].data, .len = im->bytes[i].len,
            .content_type = ig_image_content_type(im->type[i]), .cache_control = p->cache_control,
            .sse = st->h->cfg.sse[0] ? st->h->cfg.sse : NULL,
            .sse_kms_key_id = st->h->cfg.kms_key_id[0] ? st->h->cfg.kms_key_id : NULL,
            .metadata = meta[i], .n_metadata = m};
    }
    memset(results, 0, sizeof results);
    ig_err e = ig_s3_put_objects(st->h->s3, puts, im->count, st->deadline_ms - st->h->cfg.margin_ms, results);
    if (e == IG_OK)
        return 1;
    for (size_t i = 0; i < im->count; i++) {
        if (results[i].err != IG_OK)
            ig_log(IG_LOG_ERROR, "storing the image failed",
                   json_pack("{s:s, s:s, s:i, s:s, s:s, s:i}", "key", im->keys[i], "bucket", st->h->cfg.bucket,
                             "status", (int)results[i].status, "code", results[i].code, "error",
                             results[i].message[0] ? results[i].message : ig_strerror(results[i].err),
                             "attempts", results[i].attempts));
    }
    if (e == IG_ERR_DEADLINE || e == IG_ERR_TIMEOUT)
        *fail = ig_fail(504, "timeout", "Storing the image took too long.", 0);
    else
        *fail = ig_fail(502, "storage_error", "The image could not be stored; try again.", 0);
    return 0;
}

static ig_err ig_generate(ig_invocation_state *st, json_t *g, ig_buf *out)
{
    ig_plan p;
    ig_error perr;
    ig_error_clear(&perr);
    if (ig_plan_parse(g, &p, &perr) != IG_OK) {
        ig_log(IG_LOG_ERROR, "the policy's plan is unusable", json_pack("{s:s}", "error", perr.message));
        ig_plan_free(&p);
        return ig_respond_failure(st, 500, "policy_error", "The request policy failed; see the function's log.", 0,
                                  NULL, NULL, out);
    }
    ig_images im;
    memset(&im, 0, sizeof im);
    ig_failure fail = ig_fail(0, NULL, NULL, 0);
    json_t *result = NULL;
    double model_ms = 0, upload_ms = 0;
    int cached = 0;

    if (p.cache_key && ig_cache_lookup(st, &p, &im)) {
        cached = 1;
    } else {
        ig_images_free(&im);
        memset(&im, 0, sizeof im);
        ig_bedrock_result br;
        ig_bedrock_result_init(&br);
        double t = ig_mono_s();
        int64_t model_deadline = st->deadline_ms - st->h->cfg.margin_ms - st->h->cfg.upload_reserve_ms;
        ig_err e = ig_bedrock_invoke(st->h->bedrock, p.model, p.body, p.body_len, model_deadline, &br);
        model_ms = (ig_mono_s() - t) * 1000.0;
        st->metrics.model_ms = model_ms;
        st->metrics.model_attempts = br.attempts;
        if (e != IG_OK) {
            fail = ig_bedrock_failure(&br, p.model);
            ig_log(fail.status >= 500 ? IG_LOG_ERROR : IG_LOG_WARN, "the model call failed",
                   json_pack("{s:s, s:s, s:s, s:i, s:s, s:i, s:s}", "model", p.model, "error", ig_err_name(br.err),
                             "errorType", br.error_type, "status", (int)br.status, "bedrockMessage", br.message,
                             "attempts", br.attempts, "bedrockRequestId", br.request_id));
        } else {
            ig_extracted x;
            ig_error xerr;
            if (ig_extract_images(br.body.data, br.body.len, p.images_path, p.error_field, &x, &xerr) != IG_OK) {
                ig_log(IG_LOG_ERROR, "the model's answer is unreadable", json_pack("{s:s}", "error", xerr.message));
                fail = ig_fail(502, "upstream_error", "The image model returned an unreadable answer.", 0);
            } else if (x.error) {
                ig_log(IG_LOG_WARN, "the model filtered its output",
                       json_pack("{s:s, s:i}", "modelError", x.error, "images", (int)x.count));
                fail = ig_fail(400, "content_filtered",
                                    "The generated image was blocked by the model's content filters; change the prompt.", 0);
            } else if (x.count == 0) {
                fail = ig_fail(502, "upstream_error", "The image model returned no image.", 0);
            } else if (x.count > (size_t)IG_MAX_IMAGES) {
                fail = ig_fail(502, "upstream_error", "The image model returned too many images.", 0);
            } else if (ig_decode_images(&x, &im, &fail)) {
                if (x.count != (size_t)p.expected)
                    ig_log(IG_LOG_WARN, "the model returned a different number of images",
                           json_pack("{s:i, s:i}", "expected", p.expected, "returned", (int)x.count));
            }
            ig_extracted_free(&x);
        }
        ig_bedrock_result_free(&br);
        if (!fail.code) {
            double u = ig_mono_s();
            ig_upload_images(st, &p, &im, &fail);
            upload_ms = (ig_mono_s() - u) * 1000.0;
            st->metrics.upload_ms = upload_ms;
        }
    }
    if (!fail.code)
        result = ig_success_result(st, &p, &im, cached, model_ms, upload_ms, &fail);
    ig_err e;
    if (result) {
        st->outcome = cached ? "cached" : "success";
        st->metrics.images = (int)im.count;
        e = ig_respond(st, result, out);
        json_decref(result);
    } else {
        e = ig_respond_failure(st, fail.status, fail.code, fail.message ? fail.message : fail.msgbuf,
                               fail.retry_after_s, p.context, p.model, out);
    }
    ig_images_free(&im);
    ig_plan_free(&p);
    return e;
}

/* ---- one invocation -------------------------------------------------------------------- */

ig_err ig_handler_invoke(ig_handler *h, const char *event, size_t len, const ig_invoke_ctx *ctx,
                         ig_buf *response, ig_error *err)
{
    ig_invocation_state st;
    memset(&st, 0, sizeof st);
    st.h = h;
    st.ctx = ctx;
    st.outcome = "answered";
    double t0 = ig_mono_s();
    int64_t budget = ig_now_ms() + h->cfg.budget_ms;
    st.deadline_ms = ctx->deadline_ms > 0 && ctx->deadline_ms < budget ? ctx->deadline_ms : budget;
    ig_metrics_init(&st.metrics);

    ig_error perr;
    ig_error_clear(&perr);
    ig_err e;
    if (ig_event_to_request(event, len, &st.req, &perr) != IG_OK) {
        ig_log(IG_LOG_WARN, "the event is not a usable API Gateway proxy event",
               json_pack("{s:s}", "error", perr.message));
        e = ig_respond_failure(&st, 400, "invalid_request", perr.message, 0, NULL, NULL, response);
    } else {
        json_t *ctxj = ig_ctx_json(&st);
        json_t *answer = NULL;
        e = ig_policy_admit(h->policy, st.req, ctxj, &answer, &perr);
        json_decref(ctxj);
        if (e == IG_ERR_INVALID_ARG || e == IG_ERR_TOO_LARGE) {
            /* The client's request itself cannot be handed to the policy. respond() cannot take
             * its body either: it gets the request without it (route and CORS still apply), or a
             * client could turn its own 400 into a 500. */
            ig_log(IG_LOG_WARN, "the request cannot be handed to the policy", json_pack("{s:s}", "error", perr.message));
            json_object_del(st.req, "body");
            json_object_del(st.req, "raw_body");
            e = ig_respond_failure(&st, e == IG_ERR_TOO_LARGE ? 413 : 400,
                                   e == IG_ERR_TOO_LARGE ? "payload_too_large" : "invalid_request",
                                   e == IG_ERR_TOO_LARGE ? "The request is too large."
                                                         : "The request body is nested too deeply.",
                                   0, NULL, NULL, response);
        } else if (e != IG_OK) {
            ig_log(IG_LOG_ERROR, "policy admit() failed", json_pack("{s:s}", "error", perr.message));
            e = ig_respond_failure(&st, 500, "policy_error", "The request policy failed; see the function's log.", 0,
                                   NULL, NULL, response);
        } else if (json_object_get(answer, "generate")) {
            e = ig_generate(&st, json_object_get(answer, "generate"), response);
        } else if (ig_response_from_answer(answer, response, &perr) == IG_OK) {
            json_t *s = json_object_get(answer, "status");
            st.status = (int)json_integer_value(s);
            st.outcome = st.status >= 400 ? "rejected" : "answered";
            e = IG_OK;
        } else {
            ig_log(IG_LOG_ERROR, "policy admit() returned an unusable answer", json_pack("{s:s}", "error", perr.message));
            e = ig_respond_failure(&st, 500, "policy_error", "The request policy failed; see the function's log.", 0,
                                   NULL, NULL, response);
        }
        json_decref(answer);
    }
    st.metrics.total_ms = (ig_mono_s() - t0) * 1000.0;
    json_t *policy_metrics = ig_policy_take_metrics(h->policy);
    ig_metrics_emit(&st.metrics, h->cfg.metrics_namespace, st.outcome, policy_metrics, ctx->request_id);
    json_decref(policy_metrics);
    ig_log(IG_LOG_INFO, "request complete",
           json_pack("{s:s, s:s, s:s, s:i, s:s, s:i, s:f}", "method", ig_member_str(st.req, "method") ? ig_member_str(st.req, "method") : "",
                     "path", ig_member_str(st.req, "path") ? ig_member_str(st.req, "path") : "",
                     "apiRequestId", ig_member_str(st.req, "request_id") ? ig_member_str(st.req, "request_id") : "",
                     "status", st.status, "outcome", st.outcome, "images", st.metrics.images,
                     "durationMs", st.metrics.total_ms));
    json_decref(st.req);
    if (e != IG_OK)
        return ig_error_set(err, e, "no response could be built: %s", ig_strerror(e));
    return IG_OK;
}

/* generate.c - carries out a generation plan: cache, model attempts with fallback, decoding,
 * storage and presigning. It decides nothing a policy decides; it reports honestly what each
 * call gave: the images, and for every image that did not come, why. */
#include "handler/generate.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/base64.h"
#include "codec/extract.h"
#include "codec/image.h"
#include "codec/json.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/random.h"

#define KEY_MAX 1024

typedef struct {
    ig_buf bytes;
    char key[KEY_MAX + 1];
    unsigned width, height;
    ig_image_type type;
    uint64_t bytes_stored;  /* for cached images, from HEAD */
    size_t call, index;     /* 0-based: the call of the attempt, the image in its answer */
} image;

typedef struct {
    image items[IG_PLAN_MAX_IMAGES];
    size_t count;
    json_t *missing;        /* [{call, index, reason}] */
} image_set;

/* A failure as the client will be told: status, code and a sentence. */
typedef struct {
    int status;
    const char *code;
    char message[512];
    int64_t retry_after_s;
    bool fallback_ok;       /* another model might do better (retired, unavailable, throttled) */
} failure;

/* What one call of an attempt gave. */
typedef struct {
    ig_bedrock_outcome outcome;
    int images;             /* images delivered */
    int filtered;           /* images the content filter removed */
    int broken;             /* images missing for another reason (inference error, unreadable) */
    char detail[256];       /* the service's message, for a ValidationException */
} call_report;

static void set_failure(failure *f, int status, const char *code, const char *message, int64_t retry_after_s)
{
    f->status = status;
    f->code = code;
    ig_aws_copy_str(f->message, sizeof f->message, message);
    f->retry_after_s = retry_after_s;
    f->fallback_ok = false;
}

static void image_set_free(image_set *s)
{
    for (size_t i = 0; i < IG_PLAN_MAX_IMAGES; i++)
        ig_buf_free(&s->items[i].bytes);
    json_decref(s->missing);
    memset(s, 0, sizeof *s);
}

static void add_missing(image_set *s, size_t call, size_t index, const char *reason)
{
    if (!s->missing)
        s->missing = json_array();
    json_array_append_new(s->missing, json_pack("{s:I, s:I, s:s}", "call", (json_int_t)call + 1, "index",
                                                (json_int_t)index + 1, "reason", reason));
}

static bool is_filter_reason(const char *reason)
{
    return strncmp(reason, "Filter reason", 13) == 0 || strstr(reason, "content filter") != NULL;
}

/* ---- reading one answer ---------------------------------------------------------------- */

static bool decode_image(image_set *s, const char *b64, size_t len, size_t call, size_t index)
{
    if (s->count == IG_PLAN_MAX_IMAGES) {
        ig_log(IG_LOG_WARN, "the model returned more images than a request may hold; the rest are dropped",
               json_pack("{s:I}", "call", (json_int_t)call + 1));
        return true;
    }
    image *im = &s->items[s->count];
    ig_buf_reset(&im->bytes);
    ig_error derr;
    if (ig_base64_decode_buf(b64, len, &im->bytes, &derr) != IG_OK) {
        ig_log(IG_LOG_ERROR, "the model's image is not valid base64",
               json_pack("{s:I, s:I, s:s}", "call", (json_int_t)call + 1, "index", (json_int_t)index + 1, "error",
                         derr.message));
        return false;
    }
    im->type = ig_image_sniff(im->bytes.data, im->bytes.len, &im->width, &im->height);
    if (im->type == IG_IMAGE_UNKNOWN) {
        ig_log(IG_LOG_ERROR, "the model's answer is not a PNG, JPEG or WebP image",
               json_pack("{s:I, s:I, s:I}", "call", (json_int_t)call + 1, "index", (json_int_t)index + 1, "bytes",
                         (json_int_t)im->bytes.len));
        return false;
    }
    im->call = call;
    im->index = index;
    s->count++;
    return true;
}

/* Takes the images of one successful answer; an image whose reason is set is missing. */
static void read_answer(const ig_plan_attempt *a, size_t call, const ig_buf *body, int expected, image_set *s,
                        call_report *rep)
{
    ig_extracted x;
    ig_error xerr;
    if (ig_extract_images(body->data, body->len, a->images_path, a->error_field, &x, &xerr) != IG_OK) {
        ig_log(IG_LOG_ERROR, "the model's answer is unreadable",
               json_pack("{s:s, s:I, s:s}", "model", a->model, "call", (json_int_t)call + 1, "error", xerr.message));
        add_missing(s, call, 0, "unreadable answer");
        rep->broken++;
        return;
    }
    size_t slots = x.count > x.n_reasons ? x.count : x.n_reasons;
    for (size_t j = 0; j < slots; j++) {
        const char *reason = j < x.n_reasons ? x.reasons[j] : NULL;
        if (reason) {
            add_missing(s, call, j, reason);
            *(is_filter_reason(reason) ? &rep->filtered : &rep->broken) += 1;
        } else if (j < x.count && decode_image(s, x.b64[j], x.b64_len[j], call, j)) {
            rep->images++;
        } else {
            add_missing(s, call, j, j < x.count ? "unreadable image" : "no image");
            rep->broken++;
        }
    }
    /* A whole-answer error (Titan, Nova Canvas): the images it withheld are missing. */
    int withheld = x.n_reasons == 0 && x.error ? expected - rep->images : 0;
    if (x.error && x.n_reasons == 0)
        ig_log(IG_LOG_WARN, "the model filtered its output",
               json_pack("{s:s, s:s, s:i}", "model", a->model, "modelError", x.error, "images", rep->images));
    for (int k = 0; k < withheld; k++) {
        add_missing(s, call, (size_t)rep->images + (size_t)k, x.error);
        rep->filtered++;
    }
    if (rep->images + rep->filtered + rep->broken == 0) {
        add_missing(s, call, 0, "no image");
        rep->broken++;
    }
    ig_extracted_free(&x);
}

/* ---- what a failed call means ---------------------------------------------------------- */

static void log_call_failure(const ig_plan_attempt *a, size_t call, const ig_bedrock_result *r, ig_bedrock_outcome o)
{
    int client_side = o == IG_BEDROCK_INVALID || o == IG_BEDROCK_FILTERED;
    ig_log(client_side ? IG_LOG_WARN : IG_LOG_ERROR, "the model call failed",
           json_pack("{s:s, s:I, s:s, s:s, s:s, s:i, s:s, s:i, s:s, s:s}", "model", a->model, "call",
                     (json_int_t)call + 1, "outcome", ig_bedrock_outcome_name(o), "error", ig_err_name(r->err),
                     "errorType", r->error_type, "status", (int)r->status, "bedrockMessage", r->message,
                     "attempts", r->attempts, "bedrockRequestId", r->request_id, "stopReason",
                     r->stop_reason ? r->stop_reason : ""));
    if (o == IG_BEDROCK_UNAVAILABLE || o == IG_BEDROCK_BAD_CREDENTIALS || o == IG_BEDROCK_RETIRED) {
        const char *hint =
            o == IG_BEDROCK_BAD_CREDENTIALS
                ? "Bedrock rejected the function's credentials: check the execution role and AWS_* variables"
            : o == IG_BEDROCK_RETIRED
                ? "this model has reached its end of life at Bedrock: allow an active model (GET /models shows each model's status)"
                : "enable model access in the Bedrock console for this model and region, and check the IAM policy allows bedrock:InvokeModel on it";
        ig_log(IG_LOG_ERROR, "the model is not available to this function",
               json_pack("{s:s, s:s, s:s, s:i, s:s}", "model", a->model, "errorType", r->error_type, "bedrockMessage",
                         r->message, "status", (int)r->status, "hint", hint));
    }
}

static const char *outcome_reason(ig_bedrock_outcome o)
{
    switch (o) {
    case IG_BEDROCK_THROTTLED:
    case IG_BEDROCK_NOT_READY:
        return "throttled";
    case IG_BEDROCK_TIMED_OUT:
        return "timeout";
    case IG_BEDROCK_FILTERED:
        return "content_filtered";
    case IG_BEDROCK_INVALID:
        return "invalid_request";
    default:
        return "upstream_error";
    }
}

/* The client's failure for one failed call. */
static void call_failure(const ig_bedrock_result *r, ig_bedrock_outcome o, failure *f)
{
    int64_t hint_s = r->retry_after_ms > 0 ? (r->retry_after_ms + 999) / 1000 : 0;
    switch (o) {
    case IG_BEDROCK_INVALID:
        set_failure(f, 400, "invalid_request", r->message[0] ? r->message : "The model rejected the request.", 0);
        return;
    case IG_BEDROCK_FILTERED:
        set_failure(f, 400, "content_filtered",
                    "The request was blocked by the model's content filters; change the prompt.", 0);
        return;
    case IG_BEDROCK_RETIRED:
        set_failure(f, 502, "model_retired", "The image model has reached its end of life.", 0);
        f->fallback_ok = true;
        return;
    case IG_BEDROCK_UNAVAILABLE:
        set_failure(f, 502, "model_unavailable", "The image model is not available right now.", 0);
        f->fallback_ok = true;
        return;
    case IG_BEDROCK_BAD_CREDENTIALS:
        set_failure(f, 502, "model_unavailable", "The image model is not available right now.", 0);
        return;
    case IG_BEDROCK_THROTTLED:
        set_failure(f, 429, "throttled", "The image model is busy; retry later.", hint_s ? hint_s : 5);
        f->fallback_ok = true;
        return;
    case IG_BEDROCK_NOT_READY:
        set_failure(f, 503, "throttled",
                    strcmp(r->error_type, "ModelNotReadyException") == 0
                        ? "The image model is warming up; retry shortly."
                        : "The image model is temporarily unavailable; retry shortly.",
                    hint_s ? hint_s : 5);
        f->fallback_ok = true;
        return;
    case IG_BEDROCK_TIMED_OUT:
        set_failure(f, 504, "timeout", "The image model did not answer in time.", 0);
        return;
    case IG_BEDROCK_UNREACHABLE:
        set_failure(f, 502, "upstream_error", "The image model could not be reached; try again later.", 0);
        return;
    default:
        set_failure(f, 502, "upstream_error", "The image model failed to answer; try again later.", 0);
        return;
    }
}

/* No image at all from an attempt: the one failure the client hears. A refusal of the request
 * itself wins; then "everything was filtered"; then the first failed call's reason. */
static void attempt_failure(const call_report *rep, const ig_bedrock_result *res, size_t n, failure *f)
{
    int filtered = 0, first = -1;
    for (size_t k = 0; k < n; k++) {
        if (rep[k].outcome == IG_BEDROCK_INVALID) {
            call_failure(&res[k], rep[k].outcome, f);
            return;
        }
        if (rep[k].outcome == IG_BEDROCK_FILTERED || (rep[k].outcome == IG_BEDROCK_SUCCEEDED && rep[k].broken == 0))
            filtered++;
        else if (first < 0)
            first = (int)k;
    }
    if (filtered == (int)n) {
        set_failure(f, 400, "content_filtered",
                    "The prompt or the generated image was blocked by the model's content filters; change the prompt.", 0);
        return;
    }
    if (rep[first].outcome != IG_BEDROCK_SUCCEEDED) {
        call_failure(&res[first], rep[first].outcome, f);
        return;
    }
    set_failure(f, 502, "upstream_error", "The image model failed to produce an image; try again.", 0);
}

/* ---- one attempt ----------------------------------------------------------------------- */

/* Runs every call of the attempt at once. True when at least one image came back (s holds the
 * images and what is missing); else false and f says why. */
static bool run_attempt(const ig_generate_env *env, const ig_plan *p, const ig_plan_attempt *a, image_set *s,
                       failure *f)
{
    ig_bedrock_call calls[IG_PLAN_MAX_IMAGES];
    ig_bedrock_result res[IG_PLAN_MAX_IMAGES];
    call_report rep[IG_PLAN_MAX_IMAGES];
    memset(rep, 0, sizeof rep);
    for (size_t k = 0; k < a->n_calls; k++) {
        calls[k] = (ig_bedrock_call){a->calls[k].body, a->calls[k].body_len};
        ig_bedrock_result_init(&res[k]);
    }
    int64_t model_deadline = env->deadline_ms - env->cfg->margin_ms - env->cfg->upload_reserve_ms;
    ig_bedrock_batch batch = {.model_id = a->model, .calls = calls, .n_calls = a->n_calls, .deadline_ms = model_deadline};
    double t = ig_mono_s();
    ig_bedrock_invoke_many(env->bedrock, &batch, res);
    env->metrics->model_ms += (ig_mono_s() - t) * 1000.0;
    int per_call = p->expected / (int)a->n_calls > 0 ? p->expected / (int)a->n_calls : 1;
    size_t images = 0;
    for (size_t k = 0; k < a->n_calls; k++) {
        env->metrics->model_attempts += res[k].attempts;
        rep[k].outcome = ig_bedrock_classify(&res[k]);
        /* Reading answers of many megabytes takes time too: none is read past the deadline. */
        if (rep[k].outcome == IG_BEDROCK_SUCCEEDED && ig_remaining_ms(model_deadline + env->cfg->upload_reserve_ms) <= 0) {
            ig_log(IG_LOG_WARN, "no time left to read the model's answer",
                   json_pack("{s:s, s:I, s:I}", "model", a->model, "call", (json_int_t)k + 1, "bytes",
                             (json_int_t)res[k].body.len));
            rep[k].outcome = IG_BEDROCK_TIMED_OUT;
            add_missing(s, k, 0, outcome_reason(rep[k].outcome));
        } else if (rep[k].outcome == IG_BEDROCK_SUCCEEDED) {
            read_answer(a, k, &res[k].body, per_call, s, &rep[k]);
            images += (size_t)rep[k].images;
        } else {
            log_call_failure(a, k, &res[k], rep[k].outcome);
            add_missing(s, k, 0, outcome_reason(rep[k].outcome));
        }
    }
    if (images == 0)
        attempt_failure(rep, res, a->n_calls, f);
    for (size_t k = 0; k < a->n_calls; k++)
        ig_bedrock_result_free(&res[k]);
    return images > 0;
}

/* ---- storage --------------------------------------------------------------------------- */

static bool cache_key_for(const ig_plan *p, size_t i, char *out)
{
    int n = snprintf(out, KEY_MAX + 1, "%s%s-%zu", p->key_prefix, p->cache_key, i + 1);
    return n > 0 && n <= KEY_MAX;
}

/* Looks the cached objects up; all must exist. */
static bool cache_lookup(const ig_generate_env *env, const ig_plan *p, image_set *s)
{
    for (int i = 0; i < p->expected; i++) {
        image *im = &s->items[i];
        if (!cache_key_for(p, (size_t)i, im->key))
            return false;
        ig_s3_head_result hr;
        ig_s3_head_result_init(&hr);
        ig_err e = ig_s3_head_object(env->s3, im->key, env->deadline_ms - env->cfg->margin_ms, &hr);
        if (e == IG_OK) {
            const char *w = ig_header_list_get(&hr.metadata, "width");
            const char *h = ig_header_list_get(&hr.metadata, "height");
            im->width = w ? (unsigned)strtoul(w, NULL, 10) : 0;
            im->height = h ? (unsigned)strtoul(h, NULL, 10) : 0;
            im->type = ig_image_type_from_content_type(hr.content_type);
            if (im->type == IG_IMAGE_UNKNOWN)
                im->type = IG_IMAGE_PNG;
            im->bytes_stored = hr.content_length;
            /* As generated: one image per call, or all from the one call. */
            int per_call = p->attempts[0].n_calls > 1;
            im->call = per_call ? (size_t)i : 0;
            im->index = per_call ? 0 : (size_t)i;
            s->count = (size_t)i + 1;
        } else if (hr.status != 404 && hr.status != 403) { /* 403: no s3:ListBucket, a miss */
            ig_log(IG_LOG_WARN, "cache lookup failed; generating instead",
                   json_pack("{s:s, s:s, s:i}", "key", im->key, "error", hr.message, "status", (int)hr.status));
        }
        ig_s3_head_result_free(&hr);
        if (e != IG_OK)
            return false;
    }
    return true;
}

/* The plan's metadata, then the call's (which wins), then the measured size. */
static size_t image_metadata(const ig_plan *p, const ig_plan_attempt *a, const image *im, ig_header *out,
                             char dims[2][16])
{
    size_t m = 0;
    json_t *call_md = a ? a->calls[im->call].metadata : NULL;
    const char *k;
    json_t *v;
    json_object_foreach(p->metadata, k, v)
    {
        if (!json_object_get(call_md, k) && strcmp(k, "width") != 0 && strcmp(k, "height") != 0)
            out[m++] = (ig_header){k, json_string_value(v)};
    }
    json_object_foreach(call_md, k, v)
    {
        if (strcmp(k, "width") != 0 && strcmp(k, "height") != 0)
            out[m++] = (ig_header){k, json_string_value(v)};
    }
    snprintf(dims[0], sizeof dims[0], "%u", im->width);
    snprintf(dims[1], sizeof dims[1], "%u", im->height);
    out[m++] = (ig_header){"width", dims[0]};
    out[m++] = (ig_header){"height", dims[1]};
    return m;
}

static bool upload_images(const ig_generate_env *env, const ig_plan *p, const ig_plan_attempt *a, image_set *s,
                         failure *f)
{
    ig_s3_put_request puts[IG_PLAN_MAX_IMAGES];
    ig_s3_result results[IG_PLAN_MAX_IMAGES];
    ig_header meta[IG_PLAN_MAX_IMAGES][2 * IG_PLAN_MAX_METADATA + 2];
    char dims[IG_PLAN_MAX_IMAGES][2][16];
    for (size_t i = 0; i < s->count; i++) {
        image *im = &s->items[i];
        if (!p->cache_key) {
            char uuid[37];
            ig_uuid4(uuid);
            snprintf(im->key, sizeof im->key, "%s%s.%s", p->key_prefix, uuid, ig_image_extension(im->type));
        } else if (!cache_key_for(p, i, im->key)) {
            set_failure(f, 500, "policy_error", "The storage key is too long.", 0);
            return false;
        }
        size_t m = image_metadata(p, a, im, meta[i], dims[i]);
        puts[i] = (ig_s3_put_request){.key = im->key, .data = im->bytes.data, .len = im->bytes.len,
                                      .content_type = ig_image_content_type(im->type),
                                      .cache_control = p->cache_control,
                                      .sse = env->cfg->sse[0] ? env->cfg->sse : NULL,
                                      .sse_kms_key_id = env->cfg->kms_key_id[0] ? env->cfg->kms_key_id : NULL,
                                      .metadata = meta[i], .n_metadata = m};
    }
    memset(results, 0, sizeof results);
    double t = ig_mono_s();
    ig_err e = ig_s3_put_objects(env->s3, puts, s->count, env->deadline_ms - env->cfg->margin_ms, results);
    env->metrics->upload_ms = (ig_mono_s() - t) * 1000.0;
    if (e == IG_OK)
        return true;
    for (size_t i = 0; i < s->count; i++)
        if (results[i].err != IG_OK)
            ig_log(IG_LOG_ERROR, "storing the image failed",
                   json_pack("{s:s, s:i, s:s, s:s, s:i}", "key", s->items[i].key, "status", (int)results[i].status,
                             "code", results[i].code, "error",
                             results[i].message[0] ? results[i].message : ig_strerror(results[i].err), "attempts",
                             results[i].attempts));
    if (e == IG_ERR_DEADLINE || e == IG_ERR_TIMEOUT)
        set_failure(f, 504, "timeout", "Storing the image took too long.", 0);
    else
        set_failure(f, 502, "storage_error", "The image could not be stored; try again.", 0);
    return false;
}

/* ---- the result ------------------------------------------------------------------------ */

/* The inline images of an answer: ref -> base64, kept in C; the result carries only the refs. */
#define INLINE_REF_PREFIX "imagegen-inline-image:"

static bool inline_images(const image_set *s, json_t *images, json_t *payloads, failure *f)
{
    size_t total = 0;
    for (size_t i = 0; i < s->count; i++)
        total += ig_base64_encoded_len(s->items[i].bytes.len);
    if (total > IG_GENERATE_INLINE_MAX) {
        ig_log(IG_LOG_WARN, "the images do not fit in an inline answer",
               json_pack("{s:I, s:I}", "base64Bytes", (json_int_t)total, "limit", (json_int_t)IG_GENERATE_INLINE_MAX));
        set_failure(f, 400, "response_too_large",
                    "The images are too large to return inline; ask for URLs or fewer images.", 0);
        return false;
    }
    for (size_t i = 0; i < s->count; i++) {
        ig_buf b64;
        ig_buf_init(&b64, 0);
        char ref[64];
        snprintf(ref, sizeof ref, INLINE_REF_PREFIX "%zu", i + 1);
        json_t *text = ig_base64_encode_buf(s->items[i].bytes.data, s->items[i].bytes.len, &b64) == IG_OK
                           ? json_stringn(ig_buf_cstr(&b64), b64.len)
                           : NULL;
        ig_buf_free(&b64);
        if (!text) {
            set_failure(f, 502, "upstream_error", "The images could not be returned; try again.", 0);
            return false;
        }
        json_object_set_new(payloads, ref, text);
        json_object_set_new(json_array_get(images, i), "b64_ref", json_string(ref));
    }
    return true;
}

static json_t *success_result(const ig_generate_env *env, const ig_plan *p, const image_set *s, bool cached,
                              json_t *payloads, failure *f)
{
    int64_t now_s = ig_now_ms() / 1000;
    bool stored = p->deliver != IG_DELIVER_INLINE;
    json_t *images = json_array();
    for (size_t i = 0; i < s->count; i++) {
        const image *im = &s->items[i];
        uint64_t bytes = cached ? im->bytes_stored : im->bytes.len;
        json_t *entry = json_pack("{s:i, s:i, s:I, s:s, s:s, s:I, s:I}", "width", (int)im->width, "height",
                                  (int)im->height, "bytes", (json_int_t)bytes, "content_type",
                                  ig_image_content_type(im->type), "format", ig_image_format_name(im->type), "call",
                                  (json_int_t)im->call + 1, "index", (json_int_t)im->index + 1);
        json_array_append_new(images, entry);
        if (!stored)
            continue;
        ig_buf url;
        ig_buf_init(&url, 0);
        ig_error perr;
        if (ig_s3_presign_get(env->s3, im->key, p->url_ttl, now_s, &url, &perr) != IG_OK) {
            ig_log(IG_LOG_ERROR, "presigning failed", json_pack("{s:s}", "error", perr.message));
            ig_buf_free(&url);
            json_decref(images);
            set_failure(f, 502, "storage_error", "The image could not be shared; try again.", 0);
            return NULL;
        }
        json_object_set_new(entry, "url", json_string(ig_buf_cstr(&url)));
        json_object_set_new(entry, "key", json_string(im->key));
        ig_buf_free(&url);
    }
    if (p->deliver != IG_DELIVER_URL && !inline_images(s, images, payloads, f)) {
        json_decref(images);
        return NULL;
    }
    json_t *r = json_object();
    json_object_set_new(r, "ok", json_true());
    json_object_set_new(r, "cached", json_boolean(cached));
    json_object_set_new(r, "images", images);
    if (stored) {
        char expires[40];
        ig_format_rfc3339_ms((now_s + p->url_ttl) * 1000, expires, sizeof expires);
        char *dot = strchr(expires, '.'); /* "2026-11-29T15:20:55.000Z" -> "2026-11-29T15:20:55Z" */
        if (dot)
            memcpy(dot, "Z", 2);
        json_object_set_new(r, "expires_at", json_string(expires));
        json_object_set_new(r, "expires_at_epoch", json_integer(now_s + p->url_ttl));
    }
    json_object_set_new(r, "timings", json_pack("{s:I, s:I}", "model_ms", (json_int_t)env->metrics->model_ms,
                                                "upload_ms", (json_int_t)env->metrics->upload_ms));
    if (s->missing)
        json_object_set(r, "missing", s->missing);
    return r;
}

static json_t *failure_result(const failure *f)
{
    json_t *r = json_pack("{s:b, s:i, s:s, s:s}", "ok", 0, "status", f->status, "code", f->code, "message", f->message);
    if (f->retry_after_s > 0)
        json_object_set_new(r, "retry_after", json_integer(f->retry_after_s));
    return r;
}

static void note_fallback(json_t *from, const ig_plan_attempt *a, const failure *f, const ig_plan_attempt *next)
{
    json_array_append_new(from, json_pack("{s:s, s:s, s:s}", "model", a->model, "code", f->code, "message", f->message));
    ig_log(IG_LOG_WARN, "falling back to the next model",
           json_pack("{s:s, s:s, s:s}", "model", a->model, "code", f->code, "next", next->model));
}

/* The records of the images just stored (images.h), each with its call's seed. A failure is
 * logged and counted, never the request's. */
static void record_images(const ig_generate_env *env, const ig_plan *p, const ig_plan_attempt *a, json_t *r)
{
    const char *seeds[IG_PLAN_MAX_IMAGES];
    const char *plan_seed = ig_json_str(p->metadata, "seed");
    for (size_t k = 0; k < a->n_calls; k++) {
        const char *s = ig_json_str(a->calls[k].metadata, "seed");
        seeds[k] = s ? s : plan_seed;
    }
    env->metrics->records_failed +=
        ig_images_record(env->images, p->record, r, seeds, a->n_calls, env->deadline_ms - env->cfg->margin_ms);
}

json_t *ig_generate(const ig_generate_env *env, const ig_plan *p, json_t *payloads, const char **outcome)
{
    image_set s;
    memset(&s, 0, sizeof s);
    failure f;
    memset(&f, 0, sizeof f);
    json_t *from = json_array();
    const ig_plan_attempt *served = &p->attempts[0];
    bool cached = p->cache_key && p->deliver == IG_DELIVER_URL && cache_lookup(env, p, &s);
    bool ok = cached;
    if (!cached) {
        image_set_free(&s);
        for (size_t i = 0; i < p->n_attempts && !ok; i++) {
            served = &p->attempts[i];
            ok = run_attempt(env, p, served, &s, &f);
            if (!ok && f.fallback_ok && i + 1 < p->n_attempts) {
                note_fallback(from, served, &f, &p->attempts[i + 1]);
                image_set_free(&s);
            } else if (!ok) {
                break;
            }
        }
        if (ok && p->deliver != IG_DELIVER_INLINE)
            ok = upload_images(env, p, served, &s, &f);
    }
    json_t *r = ok ? success_result(env, p, &s, cached, payloads, &f) : NULL;
    if (r) {
        *outcome = cached ? "cached" : "success";
        env->metrics->images = (int)s.count;
        json_object_set_new(r, "model", json_string(served->model));
        if (env->images && p->record && p->deliver != IG_DELIVER_INLINE)
            record_images(env, p, served, r);
    } else {
        r = failure_result(&f);
        *outcome = f.code;
        if (s.missing)
            json_object_set(r, "missing", s.missing);
    }
    json_object_set_new(r, "model", json_string(served->model));
    json_object_set_new(r, "attempt", json_integer((json_int_t)(served - p->attempts) + 1));
    if (json_array_size(from))
        json_object_set(r, "fallback_from", from);
    json_t *context = served->context ? served->context : p->context;
    if (context)
        json_object_set(r, "context", context);
    json_decref(from);
    image_set_free(&s);
    return r;
}

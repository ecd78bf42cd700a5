/* handler.c - the pipeline of one invocation. It decides nothing a policy should decide: routes,
 * limits, model bodies and response shapes come from Lua; this file moves bytes between the
 * policy, Bedrock and S3, enforces the deadline, and reports honestly what happened. */
#include "handler/handler.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apigw/event.h"
#include "apigw/response.h"
#include "aws/aws.h"
#include "aws/bedrock.h"
#include "aws/s3.h"
#include "codec/hash.h"
#include "codec/json.h"
#include "core/clock.h"
#include "core/log.h"
#include "handler/config.h"
#include "handler/generate.h"
#include "handler/images.h"
#include "handler/inputs.h"
#include "handler/jobs.h"
#include "handler/metrics.h"
#include "handler/plan.h"
#include "handler/uploads.h"
#include "handler/ratelimit.h"
#include "handler/static.h"
#include "handler/worker.h"
#include "lua/host.h"

struct ig_handler {
    ig_handler_config cfg;
    ig_policy *policy;
    ig_aws_context aws;
    int aws_ready;
    ig_s3 *s3;
    ig_bedrock *bedrock;
    ig_jobs *jobs;           /* NULL without IMAGEGEN_TABLE */
    ig_images *images;       /* image records; NULL without IMAGEGEN_TABLE */
    ig_ratelimit *ratelimit; /* the shared rate limit's counter; NULL without IMAGEGEN_TABLE */
    ig_static *web;          /* the web page's files (GET /); none when not shipped */
};

/* The per-invocation state. */
typedef struct {
    ig_handler *h;
    const ig_invoke_ctx *ctx;
    int64_t deadline_ms;     /* effective: the earlier of Lambda's deadline and the budget */
    json_t *req;
    ig_inputs inputs;        /* the request's input images (edits) */
    ig_metrics metrics;
    const char *outcome;     /* for the EMF dimension and the summary line */
    json_t *limit;           /* the shared rate limit's count, for respond() as result.limit */
    int status;
    char fingerprint[65];    /* with an Idempotency-Key: SHA-256 of method, path and body; else "" */
    bool counted;            /* the shared rate limit counted this request (limit_spec, limit_window) */
    ig_ratelimit_spec limit_spec;
    int64_t limit_window;
} ig_invocation_state;

/* ---- init ------------------------------------------------------------------------------ */

/* The web page's files, with the bucket's origin for their Content-Security-Policy. */
static ig_static *web_load(const ig_s3 *s3, ig_error *err)
{
    char dir[4096];
    if (ig_static_dir_from_env(dir, sizeof dir, err) != IG_OK)
        return NULL;
    ig_buf origin;
    ig_buf_init(&origin, 4096);
    if (ig_s3_origin(s3, &origin) != IG_OK) {
        ig_buf_free(&origin);
        ig_error_set(err, IG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    ig_static *web = ig_static_load(dir, ig_buf_cstr(&origin), err);
    ig_buf_free(&origin);
    return web;
}

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
    h->bedrock = ig_bedrock_new_in(&h->aws, h->cfg.bedrock_region, err);
    if (!h->bedrock)
        goto fail;
    if (h->cfg.table[0] && !(h->jobs = ig_jobs_new(&h->aws, &h->cfg, err)))
        goto fail;
    if (h->cfg.table[0] && !(h->images = ig_images_new(&h->aws, &h->cfg, err)))
        goto fail;
    if (h->cfg.table[0] && !(h->ratelimit = ig_ratelimit_new(&h->aws, h->cfg.table, err)))
        goto fail;
    if (!(h->web = web_load(h->s3, err)))
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
    ig_jobs_free(h->jobs);
    ig_images_free(h->images);
    ig_ratelimit_free(h->ratelimit);
    ig_static_free(h->web);
    ig_bedrock_free(h->bedrock);
    ig_s3_free(h->s3);
    if (h->aws_ready)
        ig_aws_context_free(&h->aws);
    ig_policy_free(h->policy);
    free(h);
}

/* ---- helpers --------------------------------------------------------------------------- */

static json_t *jstr(const char *s)
{
    json_t *v = s ? json_string(s) : NULL;
    return v ? v : json_string("");
}

static json_t *ctx_json(const ig_invocation_state *st)
{
    json_t *c = json_object();
    json_object_set_new(c, "request_id", jstr(st->ctx->request_id));
    json_object_set_new(c, "deadline_ms", json_integer(st->deadline_ms));
    json_object_set_new(c, "remaining_ms", json_integer(ig_remaining_ms(st->deadline_ms)));
    json_object_set_new(c, "function_arn", jstr(st->ctx->function_arn));
    json_object_set_new(c, "now", json_real((double)ig_now_ms() / 1000.0));
    json_object_set_new(c, "jobs", json_boolean(st->h->jobs != NULL));
    json_object_set_new(c, "images", json_boolean(st->h->images != NULL));
    return c;
}

/* The policy's respond() shapes every answer after admit, failures included, so errors carry
 * the same JSON shape and CORS headers as successes. When the policy itself is broken, the
 * runtime answers on its own. */
static ig_err respond(ig_invocation_state *st, json_t *result, json_t *payloads, ig_buf *out)
{
    json_t *answer = NULL;
    ig_error perr;
    ig_error_clear(&perr);
    json_t *req = st->req ? st->req : json_object();
    if (st->limit && !json_object_get(result, "limit"))
        json_object_set(result, "limit", st->limit);
    ig_err e = ig_policy_respond(st->h->policy, result, req, &answer, &perr);
    if (!st->req)
        json_decref(req);
    if (e == IG_OK && st->counted && json_is_true(json_object_get(answer, "give_back"))) {
        /* the policy gives this request's count back (a failure on the service side, a repeat) */
        st->counted = false;
        ig_ratelimit_give_back(st->h->ratelimit, &st->limit_spec, st->limit_window, st->deadline_ms);
    }
    if (e == IG_OK) {
        ig_response_fill(answer, payloads);
        e = ig_response_from_answer(answer, out, &perr);
    }
    json_decref(answer);
    if (e == IG_OK) {
        json_t *status = json_object_get(result, "status");
        if (json_is_integer(status))
            st->status = (int)json_integer_value(status);
        if (json_is_true(json_object_get(result, "ok")) && !json_is_integer(status))
            st->status = 200;
        return IG_OK;
    }
    ig_log(IG_LOG_ERROR, "policy respond() failed",
           json_pack("{s:s, s:s}", "error", perr.message, "code", "policy_error"));
    st->outcome = "policy_error";
    st->status = 500;
    const char *origin = ig_json_str(json_object_get(st->req, "headers"), "origin");
    return ig_response_fallback(500, "policy_error", "The request policy failed; see the function's log.",
                                st->ctx->request_id, ig_policy_origin_allowed(st->h->policy, origin) ? origin : NULL,
                                out);
}

static ig_err respond_failure(ig_invocation_state *st, int status, const char *code, const char *message,
                              int64_t retry_after_s, ig_buf *out)
{
    json_t *r = json_pack("{s:b, s:i, s:s, s:s, s:o}", "ok", 0, "status", status, "code", code, "message", message,
                          "request_id", jstr(st->ctx->request_id));
    if (retry_after_s > 0)
        json_object_set_new(r, "retry_after", json_integer(retry_after_s));
    st->outcome = code;
    ig_err e = respond(st, r, NULL, out);
    json_decref(r);
    return e;
}

/* ---- generation ------------------------------------------------------------------------ */

static ig_err run_plan(ig_invocation_state *st, json_t *g, ig_buf *out)
{
    ig_plan p;
    ig_error perr;
    ig_error_clear(&perr);
    if (ig_plan_parse(g, &p, &perr) != IG_OK) {
        ig_log(IG_LOG_ERROR, "the policy's plan is unusable", json_pack("{s:s}", "error", perr.message));
        ig_plan_free(&p);
        return respond_failure(st, 500, "policy_error", "The request policy failed; see the function's log.", 0, out);
    }
    ig_err filled = ig_inputs_fill_plan(&st->inputs, &p, &perr);
    if (filled != IG_OK) {
        ig_plan_free(&p);
        if (filled == IG_ERR_TOO_LARGE)
            return respond_failure(st, 413, "payload_too_large", perr.message, 0, out);
        ig_log(IG_LOG_ERROR, "the input images could not be put in the model request",
               json_pack("{s:s}", "error", perr.message));
        return respond_failure(st, 500, "internal_error", "The input images could not be prepared.", 0, out);
    }
    ig_generate_env env = {.bedrock = st->h->bedrock, .s3 = st->h->s3, .cfg = &st->h->cfg,
                           .deadline_ms = st->deadline_ms, .metrics = &st->metrics, .images = st->h->images};
    json_t *payloads = json_object();
    json_t *result = ig_generate(&env, &p, payloads, &st->outcome);
    ig_err e;
    if (!result) {
        e = respond_failure(st, 502, "upstream_error", "The request could not be completed; try again.", 0, out);
    } else {
        json_object_set_new(result, "request_id", jstr(st->ctx->request_id));
        e = respond(st, result, payloads, out);
        json_decref(result);
    }
    json_decref(payloads);
    ig_plan_free(&p);
    return e;
}

/* ---- uploads: a presigned POST form (uploads.h) ---------------------------------------- */

static ig_err run_presign_post(ig_invocation_state *st, json_t *spec, ig_buf *out)
{
    ig_error perr;
    ig_error_clear(&perr);
    json_t *r = ig_uploads_presign(st->h->s3, spec, ig_now_ms() / 1000, &perr);
    if (!r) {
        ig_log(IG_LOG_ERROR, "the policy's presign_post is unusable", json_pack("{s:s}", "error", perr.message));
        return respond_failure(st, 500, "policy_error", "The request policy failed; see the function's log.", 0, out);
    }
    json_object_set_new(r, "request_id", jstr(st->ctx->request_id));
    st->outcome = "answered";
    ig_err e = respond(st, r, NULL, out);
    json_decref(r);
    return e;
}

/* ---- jobs: POST /jobs (enqueue) and GET /jobs/{id} (job) -------------------------------- */

static ig_err run_jobs(ig_invocation_state *st, json_t *answer, ig_buf *out)
{
    if (!st->h->jobs)
        return respond_failure(st, 503, "jobs_unavailable",
                               "Jobs are not configured: the function has no IMAGEGEN_TABLE.", 0, out);
    json_t *enqueue = json_object_get(answer, "enqueue");
    json_t *r = enqueue ? ig_jobs_create(st->h->jobs, st->h->s3, &st->inputs,
                                         st->fingerprint[0] ? st->fingerprint : NULL, enqueue, st->deadline_ms)
                        : ig_jobs_status(st->h->jobs, st->h->s3, json_object_get(answer, "job"), st->deadline_ms);
    json_object_set_new(r, "request_id", jstr(st->ctx->request_id));
    const char *code = ig_json_str(r, "code");
    st->outcome = code ? (enqueue ? "job_refused" : "job_unreadable") : enqueue ? "job_queued" : "job_status";
    if (code && !strcmp(code, "not_found"))
        st->outcome = "not_found";
    ig_err e = respond(st, r, NULL, out);
    json_decref(r);
    return e;
}

/* ---- image records: GET /images/{id} (image) and GET /images (images) ----------------------- */

static ig_err run_images(ig_invocation_state *st, json_t *answer, ig_buf *out)
{
    if (!st->h->images)
        return respond_failure(st, 503, "images_unavailable",
                               "Image records are not configured: the function has no IMAGEGEN_TABLE.", 0, out);
    json_t *one = json_object_get(answer, "image");
    json_t *r = one ? ig_images_get(st->h->images, st->h->s3, one, st->deadline_ms)
                    : ig_images_list(st->h->images, st->h->s3, json_object_get(answer, "images"), st->deadline_ms);
    json_object_set_new(r, "request_id", jstr(st->ctx->request_id));
    const char *code = ig_json_str(r, "code");
    st->outcome = !code ? (one ? "image_record" : "image_list")
                  : !strcmp(code, "not_found") ? "not_found"
                  : !strcmp(code, "invalid_cursor") ? "invalid_cursor" : "images_unreadable";
    ig_err e = respond(st, r, NULL, out);
    json_decref(r);
    return e;
}

/* ---- the web page: GET / and its files (static.h) -------------------------------------- */

/* admit()'s page = {file, not_found}: the file, or the policy's own 404 answer when this
 * function does not ship it. */
static ig_err run_page(ig_invocation_state *st, json_t *page, ig_buf *out)
{
    ig_error perr;
    ig_error_clear(&perr);
    const char *file = ig_json_str(page, "file");
    const char *inm = ig_json_str(json_object_get(st->req, "headers"), "if-none-match");
    int r = file ? ig_static_answer(st->h->web, file, inm, out, &st->status, &perr) : 0;
    if (r == 1) {
        st->outcome = "page";
        return IG_OK;
    }
    json_t *missing = json_object_get(page, "not_found");
    if (r == 0 && file && missing && ig_response_from_answer(missing, out, &perr) == IG_OK) {
        st->status = (int)json_integer_value(json_object_get(missing, "status"));
        st->outcome = "not_found";
        return IG_OK;
    }
    ig_log(IG_LOG_ERROR, "the page could not be answered",
           json_pack("{s:s}", "error", perr.message[0] ? perr.message : "admit(): page must be {file, not_found}"));
    return respond_failure(st, 500, "policy_error", "The request policy failed; see the function's log.", 0, out);
}

/* With an Idempotency-Key, what a repeat must match (jobs.h): the SHA-256 of the method, the
 * path and the body as the client sent it, taken before the images leave the request. */
static void fingerprint(ig_invocation_state *st, const ig_buf *form)
{
    st->fingerprint[0] = '\0';
    if (!ig_json_str(json_object_get(st->req, "headers"), "idempotency-key"))
        return;
    const char *raw = ig_json_str(st->req, "raw_body");
    ig_buf text;
    ig_buf_init(&text, 0);
    const char *method = ig_json_str(st->req, "method"), *path = ig_json_str(st->req, "path");
    if (ig_buf_append_str(&text, method ? method : "") == IG_OK && ig_buf_append_char(&text, '\n') == IG_OK &&
        ig_buf_append_str(&text, path ? path : "") == IG_OK && ig_buf_append_char(&text, '\n') == IG_OK &&
        (raw ? ig_buf_append_str(&text, raw) : ig_buf_append(&text, form->data, form->len)) == IG_OK)
        ig_sha256_hex(text.data, text.len, st->fingerprint);
    ig_buf_free(&text);
}

/* The request's fingerprint, then its images out of it (inputs.h). */
static ig_err take_inputs(ig_invocation_state *st, const ig_buf *body, ig_error *err)
{
    fingerprint(st, body);
    return ig_inputs_from_request(&st->inputs, st->req, body, ig_policy_image_fields(st->h->policy), err);
}

/* The asynchronous event of a job (worker.h): no API Gateway event, no client waiting. */
static ig_err serve_job_event(ig_invocation_state *st, const char *id, ig_buf *response, ig_error *err)
{
    if (!st->h->jobs) {
        ig_log(IG_LOG_ERROR, "a job event came but jobs are not configured (IMAGEGEN_TABLE)",
               json_pack("{s:s}", "jobId", id));
        st->outcome = "jobs_unavailable";
        ig_buf_reset(response);
        static const char note[] = "{\"status\":\"jobs are not configured\"}";
        ig_buf_append(response, note, sizeof note - 1);
        return IG_OK;
    }
    int64_t lambda_deadline = st->ctx->deadline_ms > 0 ? st->ctx->deadline_ms : ig_now_ms() + st->h->cfg.budget_ms;
    ig_generate_env env = {.bedrock = st->h->bedrock, .s3 = st->h->s3, .cfg = &st->h->cfg,
                           .deadline_ms = lambda_deadline - st->h->cfg.margin_ms, .metrics = &st->metrics,
                           .images = st->h->images};
    return ig_worker_run(st->h->jobs, &env, id, st->ctx->request_id ? st->ctx->request_id : "", response,
                         &st->outcome, err);
}

/* ---- the shared rate limit ------------------------------------------------------------- */

/* admit()'s limit (rate_limit.backend "dynamodb"), counted before any work. 1 when the request
 * is answered here: 429 rate_limited (Retry-After: the window's end), 503 rate_limit_unavailable
 * (the table unreachable and on_error "closed"), or 500 policy_error (a limit that breaks the
 * contract). 0: go on (counted, or the table unreachable and on_error "open"). */
static int limit_refused(ig_invocation_state *st, json_t *limit, ig_buf *out, ig_err *e)
{
    if (!limit)
        return 0;
    ig_ratelimit_spec spec;
    ig_error perr;
    ig_error_clear(&perr);
    if (!st->h->ratelimit)
        ig_error_set(&perr, IG_ERR_POLICY, "admit() answered a limit, but the function has no IMAGEGEN_TABLE");
    if (perr.message[0] || ig_ratelimit_spec_parse(limit, &spec, &perr) != IG_OK) {
        ig_log(IG_LOG_ERROR, "the policy's limit is unusable", json_pack("{s:s}", "error", perr.message));
        *e = respond_failure(st, 500, "policy_error", "The request policy failed; see the function's log.", 0, out);
        return 1;
    }
    ig_ratelimit_outcome o;
    int64_t now = ig_now_ms();
    ig_ratelimit_verdict v = ig_ratelimit_take(st->h->ratelimit, &spec, now, st->deadline_ms, &o);
    st->limit = ig_ratelimit_outcome_json(&spec, &o);
    if (v == IG_RATELIMIT_ALLOWED) {
        st->counted = true;
        st->limit_spec = spec;
        st->limit_window = ig_ratelimit_window_start(now, spec.window_s);
    }
    if (v == IG_RATELIMIT_REFUSED)
        *e = respond_failure(st, 429, "rate_limited", "Rate limit reached.", o.reset_s, out);
    else if (v == IG_RATELIMIT_UNAVAILABLE && spec.fail_closed)
        *e = respond_failure(st, 503, "rate_limit_unavailable", "The rate limit cannot be checked; try again.", 0, out);
    else
        return 0;
    return 1;
}

/* ---- admit ----------------------------------------------------------------------------- */

static ig_err admit(ig_invocation_state *st, bool fetched, json_t **answer, ig_error *perr)
{
    json_t *ctxj = ctx_json(st);
    if (fetched)
        json_object_set_new(ctxj, "fetched", json_true());
    ig_err e = ig_policy_admit(st->h->policy, st->req, ctxj, answer, perr);
    json_decref(ctxj);
    return e;
}

/* admit(), a second admit() after the uploads it asked for are fetched, then the plan, the
 * presigned form or the policy's own answer. */
static ig_err serve(ig_invocation_state *st, ig_buf *response)
{
    ig_error perr;
    ig_error_clear(&perr);
    json_t *answer = NULL;
    ig_err e = admit(st, false, &answer, &perr);
    if (e == IG_OK && json_object_get(answer, "fetch")) {
        e = ig_uploads_fetch(st->h->s3, &st->inputs, st->req, json_object_get(answer, "fetch"), st->deadline_ms, &perr);
        json_decref(answer);
        answer = NULL;
        if (e == IG_ERR_AWS) {
            st->outcome = "storage_error";
            return respond_failure(st, 502, "storage_error", "The upload could not be read; try again.", 0, response);
        }
        if (e == IG_OK)
            e = admit(st, true, &answer, &perr);
        if (e == IG_OK && json_object_get(answer, "fetch")) {
            e = ig_error_set(&perr, IG_ERR_POLICY, "admit() asked to fetch again after its uploads were fetched");
            json_decref(answer);
            answer = NULL;
        }
    }
    if (e == IG_ERR_INVALID_ARG || e == IG_ERR_TOO_LARGE) {
        /* The client's request itself cannot be handed to the policy. respond() cannot take
         * its body either: it gets the request without it (route and CORS still apply), or a
         * client could turn its own 400 into a 500. */
        ig_log(IG_LOG_WARN, "the request cannot be handed to the policy", json_pack("{s:s}", "error", perr.message));
        json_object_del(st->req, "body");
        json_object_del(st->req, "raw_body");
        e = respond_failure(st, e == IG_ERR_TOO_LARGE ? 413 : 400,
                            e == IG_ERR_TOO_LARGE ? "payload_too_large" : "invalid_request",
                            e == IG_ERR_TOO_LARGE ? "The request is too large." : "The request body is nested too deeply.",
                            0, response);
    } else if (e != IG_OK) {
        ig_log(IG_LOG_ERROR, "policy admit() failed", json_pack("{s:s}", "error", perr.message));
        e = respond_failure(st, 500, "policy_error", "The request policy failed; see the function's log.", 0, response);
    } else if (limit_refused(st, json_object_get(answer, "limit"), response, &e)) {
        /* answered: refused by the shared rate limit */
    } else if (json_object_get(answer, "generate")) {
        e = run_plan(st, json_object_get(answer, "generate"), response);
    } else if (json_object_get(answer, "enqueue") || json_object_get(answer, "job")) {
        e = run_jobs(st, answer, response);
    } else if (json_object_get(answer, "image") || json_object_get(answer, "images")) {
        e = run_images(st, answer, response);
    } else if (json_object_get(answer, "page")) {
        e = run_page(st, json_object_get(answer, "page"), response);
    } else if (json_object_get(answer, "presign_post")) {
        e = run_presign_post(st, json_object_get(answer, "presign_post"), response);
    } else if (ig_response_from_answer(answer, response, &perr) == IG_OK) {
        json_t *s = json_object_get(answer, "status");
        st->status = (int)json_integer_value(s);
        st->outcome = st->status >= 400 ? "rejected" : "answered";
        e = IG_OK;
    } else {
        ig_log(IG_LOG_ERROR, "policy admit() returned an unusable answer", json_pack("{s:s}", "error", perr.message));
        e = respond_failure(st, 500, "policy_error", "The request policy failed; see the function's log.", 0, response);
    }
    json_decref(answer);
    json_decref(st->limit);
    st->limit = NULL;
    return e;
}

/* ---- one invocation -------------------------------------------------------------------- */

/* Metrics, the summary line, and the invocation's error when it has one. */
static ig_err finish(ig_invocation_state *st, double t0, ig_err e, const ig_error *perr, ig_error *err)
{
    ig_handler *h = st->h;
    ig_policy_set_deadline(h->policy, 0);
    st->metrics.total_ms = (ig_mono_s() - t0) * 1000.0;
    json_t *policy_metrics = ig_policy_take_metrics(h->policy);
    ig_metrics_emit(&st->metrics, h->cfg.metrics_namespace, st->outcome, policy_metrics, st->ctx->request_id);
    json_decref(policy_metrics);
    /* heapKb and luaKb: what malloc holds for the process and, of it, the policy's Lua state,
     * for the memory trend of a warm environment (the resident set keeps fragmentation) */
    ig_log(IG_LOG_INFO, st->req ? "request complete" : "job invocation complete",
           json_pack("{s:s, s:s, s:s, s:i, s:s, s:i, s:f, s:I, s:I}", "method", ig_json_str_or_empty(st->req, "method"),
                     "path", ig_json_str_or_empty(st->req, "path"), "apiRequestId",
                     ig_json_str_or_empty(st->req, "request_id"), "status", st->status, "outcome", st->outcome,
                     "images", st->metrics.images, "durationMs", st->metrics.total_ms, "heapKb",
                     (json_int_t)ig_metrics_heap_kb(), "luaKb", (json_int_t)(ig_policy_memory_in_use(h->policy) / 1024)));
    json_decref(st->req);
    if (e == IG_ERR_AWS && perr->message[0])
        return ig_error_set(err, e, "%s", perr->message);
    if (e != IG_OK)
        return ig_error_set(err, e, "no response could be built: %s", ig_strerror(e));
    return IG_OK;
}

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
    ig_policy_set_deadline(h->policy, st.deadline_ms - h->cfg.margin_ms);

    ig_error perr;
    ig_error_clear(&perr);
    ig_err e;
    char job_id[IG_JOB_ID_LEN + 1];
    if (ig_worker_event(event, len, job_id)) {
        e = serve_job_event(&st, job_id, response, &perr);
        return finish(&st, t0, e, &perr, err);
    }
    ig_buf body;
    ig_buf_init(&body, IG_EVENT_BODY_MAX);
    if (ig_inputs_init(&st.inputs) != IG_OK) {
        ig_buf_free(&body);
        return ig_error_set(err, IG_ERR_NOMEM, "no randomness for the request's input tokens");
    }
    if (ig_event_to_request(event, len, &st.req, &body, &perr) != IG_OK) {
        ig_log(IG_LOG_WARN, "the event is not a usable API Gateway proxy event",
               json_pack("{s:s}", "error", perr.message));
        e = respond_failure(&st, 400, "invalid_request", perr.message, 0, response);
    } else if (ig_json_str(st.req, "too_large")) {
        ig_log(IG_LOG_WARN, "the request is too large for the policy",
               json_pack("{s:s}", "error", ig_json_str(st.req, "too_large")));
        e = respond_failure(&st, 413, "payload_too_large", ig_json_str(st.req, "too_large"), 0, response);
    } else if ((e = take_inputs(&st, &body, &perr)) != IG_OK) {
        ig_log(IG_LOG_WARN, "the request's images cannot be read", json_pack("{s:s}", "error", perr.message));
        json_object_del(st.req, "body");
        json_object_del(st.req, "raw_body");
        e = e == IG_ERR_TOO_LARGE || e == IG_ERR_INVALID_ARG
                ? respond_failure(&st, e == IG_ERR_TOO_LARGE ? 413 : 400,
                                  e == IG_ERR_TOO_LARGE ? "payload_too_large" : "invalid_body", perr.message, 0,
                                  response)
                : respond_failure(&st, 500, "internal_error", "The request could not be read.", 0, response);
    } else {
        e = serve(&st, response);
    }
    ig_buf_free(&body);
    ig_inputs_free(&st.inputs);
    return finish(&st, t0, e, &perr, err);
}

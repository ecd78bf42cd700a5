/* jobs.c - jobs in DynamoDB and their start through Lambda's asynchronous invocation: what
 * POST /jobs, GET /jobs/{id} and the worker ask of the table (jobs.h tells the life of a job).
 * It decides no shape: every answer is a result for the policy's respond(). */
#include "handler/jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/dynamodb.h"
#include "aws/lambda_invoke.h"
#include "codec/json.h"
#include "core/clock.h"
#include "core/log.h"

struct ig_jobs {
    ig_dynamodb *db;
    ig_lambda *lambda;
    char table[256];
    char function[256];
    int64_t timeout_ms;
    char sse[16];          /* a job's input images are stored as the images are */
    char kms_key_id[256];
};

ig_jobs *ig_jobs_new(ig_aws_context *aws, const ig_handler_config *cfg, ig_error *err)
{
    if (!cfg->function_name[0] || !ig_lambda_function_name_valid(cfg->function_name)) {
        ig_error_set(err, IG_ERR_CONFIG, "IMAGEGEN_TABLE is set but AWS_LAMBDA_FUNCTION_NAME (%s) is not a function "
                     "name: jobs run in the function itself", cfg->function_name[0] ? "given" : "unset");
        return NULL;
    }
    ig_jobs *j = calloc(1, sizeof *j);
    if (!j) {
        ig_error_set(err, IG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    snprintf(j->table, sizeof j->table, "%s", cfg->table);
    snprintf(j->function, sizeof j->function, "%s", cfg->function_name);
    j->timeout_ms = cfg->job_timeout_s * 1000;
    snprintf(j->sse, sizeof j->sse, "%s", cfg->sse);
    snprintf(j->kms_key_id, sizeof j->kms_key_id, "%s", cfg->kms_key_id);
    j->db = ig_dynamodb_new(aws, err);
    j->lambda = j->db ? ig_lambda_new(aws, err) : NULL;
    if (!j->lambda) {
        ig_jobs_free(j);
        return NULL;
    }
    return j;
}

void ig_jobs_free(ig_jobs *j)
{
    if (!j)
        return;
    ig_lambda_free(j->lambda);
    ig_dynamodb_free(j->db);
    free(j);
}

/* ---- helpers --------------------------------------------------------------------------- */

static json_t *job_key(const char *id)
{
    char pk[8 + IG_JOB_ID_LEN];
    snprintf(pk, sizeof pk, "job#%s", id);
    return json_pack("{s:o, s:o}", "pk", ig_dynamodb_attr_s(pk), "sk", ig_dynamodb_attr_s("job"));
}

static json_t *failure(const char *route, int status, const char *code, const char *message)
{
    return json_pack("{s:b, s:i, s:s, s:s, s:s}", "ok", 0, "status", status, "code", code, "message", message, "jobs",
                     route);
}

static void log_db_failure(const char *what, const char *id, const ig_aws_call_result *r)
{
    ig_log(IG_LOG_ERROR, what,
           json_pack("{s:s, s:s, s:s, s:i, s:s, s:i}", "jobId", id, "error", ig_strerror(r->err), "errorType",
                     r->error_type, "status", (int)r->status, "message", r->message, "attempts", r->attempts));
}

/* The item, read consistently. IG_OK with *item NULL: no such job. */
static ig_err get_job(ig_jobs *j, const char *id, int64_t deadline_ms, json_t **item)
{
    *item = NULL;
    json_t *key = job_key(id);
    ig_dynamodb_get g = {.table = j->table, .key = key, .consistent_read = 1};
    ig_dynamodb_result r;
    ig_dynamodb_result_init(&r);
    ig_err e = ig_dynamodb_get_item(j->db, &g, deadline_ms, &r);
    if (e == IG_OK) {
        *item = ig_dynamodb_output(&r, "Item");
        json_incref(*item);
    } else {
        log_db_failure("a job could not be read", id, &r.call);
    }
    ig_dynamodb_result_free(&r);
    json_decref(key);
    return e;
}

/* Sets status and result of a job, under condition (with its names and values merged in). */
static ig_err set_outcome(ig_jobs *j, const char *id, const char *status, const json_t *result, const char *condition,
                          json_t *values, ig_dynamodb_result *r)
{
    char *text = json_dumps(result, JSON_COMPACT);
    json_t *key = job_key(id);
    json_t *names = json_pack("{s:s, s:s, s:s}", "#s", "status", "#r", "result", "#u", "updated_at");
    if (condition && strstr(condition, "#w"))
        json_object_set_new(names, "#w", json_string("worker"));
    json_t *more = json_pack("{s:o, s:o, s:o}", ":st", ig_dynamodb_attr_s(status), ":res",
                             ig_dynamodb_attr_s(text ? text : "{}"), ":now", ig_dynamodb_attr_n(ig_now_ms()));
    json_object_update(values, more);
    json_decref(more);
    ig_dynamodb_update u = {.table = j->table, .key = key, .update = "SET #s = :st, #r = :res, #u = :now",
                            .condition = condition, .names = names, .values = values};
    ig_err e = ig_dynamodb_update_item(j->db, &u, 0, r);
    free(text);
    json_decref(key);
    json_decref(names);
    return e;
}

/* ---- POST /jobs ------------------------------------------------------------------------ */

static json_t *created(json_t *view, json_t *enqueue, int repeated)
{
    json_t *r = json_pack("{s:b, s:i, s:s, s:o, s:b}", "ok", 1, "status", 202, "jobs", "create", "job", view,
                          "repeated", repeated);
    json_t *context = json_object_get(json_object_get(enqueue, "generate"), "context");
    if (context)
        json_object_set(r, "context", context);
    return r;
}

/* An idempotent repeat: the first job, when it is the same owner's and the same request (its
 * method, path and body, as fingerprinted). */
static json_t *repeat(ig_jobs *j, const char *id, const char *owner, const char *fingerprint, json_t *enqueue,
                      int64_t deadline_ms)
{
    json_t *item = NULL;
    if (get_job(j, id, deadline_ms, &item) != IG_OK)
        return failure("create", 503, "jobs_unavailable", "The job could not be recorded; try again.");
    const char *was = ig_dynamodb_item_s(item, "owner"), *first = ig_dynamodb_item_s(item, "request");
    int mine = was && !strcmp(was, owner), same = fingerprint && first && !strcmp(first, fingerprint);
    json_t *view = mine && same ? ig_job_view(item, ig_now_ms()) : NULL;
    json_decref(item);
    if (!view && mine)
        return failure("create", 422, "idempotency_key_reused",
                       "This Idempotency-Key was first sent with another request; a repeat must send the same body "
                       "(or use a new key for a new job).");
    if (!view)
        return failure("create", 409, "idempotency_conflict", "This Idempotency-Key names another job.");
    return created(view, enqueue, 1);
}

/* ---- a job's input images (edits) ---------------------------------------------------- */

/* The images a job's plan names, kept for its worker (the tokens of this request mean nothing
 * in another invocation): an upload by the key it was fetched from, an image the request
 * carried stored under the policy's inputs_prefix as <prefix><job id>-<nonce>-<n>.<ext>, beside
 * the uploads and expired with them. Returns the item's `inputs` text, {"nonce", "images": [{n,
 * key}]}, or NULL with *fail (a result) set; NULL without it when the plan names no image. */
static char *keep_inputs(ig_jobs *j, ig_s3 *s3, const ig_inputs *in, const char *plan, const char *prefix,
                         const char *id, int64_t deadline_ms, json_t **fail)
{
    *fail = NULL;
    uint32_t named = in ? ig_inputs_named(in, plan, strlen(plan)) : 0;
    if (!named)
        return NULL;
    if (!s3 || !prefix || !*prefix || prefix[strlen(prefix) - 1] != '/' || strlen(prefix) > 512) {
        ig_log(IG_LOG_ERROR, "the policy's enqueue is unusable",
               json_pack("{s:s}", "error", "a plan naming input images needs enqueue.inputs_prefix ending in /"));
        *fail = failure("create", 500, "policy_error", "The request policy failed; see the function's log.");
        return NULL;
    }
    ig_s3_put_request puts[IG_INPUTS_MAX];
    ig_s3_result results[IG_INPUTS_MAX];
    char keys[IG_INPUTS_MAX][600];
    size_t n_puts = 0;
    json_t *images = json_array();
    for (size_t n = 0; n < IG_INPUTS_MAX; n++) {
        if (!(named & ((uint32_t)1 << n)))
            continue;
        const char *ct = NULL, *ext = NULL, *key = ig_inputs_key(in, n);
        const ig_buf *data = ig_inputs_data(in, n, &ct, &ext);
        if (!key && data && ct && ext) {
            snprintf(keys[n_puts], sizeof keys[n_puts], "%s%s-%.8s-%zu.%s", prefix, id, in->nonce, n, ext);
            puts[n_puts] = (ig_s3_put_request){.key = keys[n_puts], .data = data->data, .len = data->len,
                                               .content_type = ct, .sse = j->sse[0] ? j->sse : NULL,
                                               .sse_kms_key_id = j->kms_key_id[0] ? j->kms_key_id : NULL};
            key = keys[n_puts++];
        }
        json_array_append_new(images, json_pack("{s:I, s:s?}", "n", (json_int_t)n, "key", key));
    }
    memset(results, 0, sizeof results);
    if (n_puts && ig_s3_put_objects(s3, puts, n_puts, deadline_ms, results) != IG_OK) {
        for (size_t i = 0; i < n_puts; i++)
            if (results[i].err != IG_OK)
                ig_log(IG_LOG_ERROR, "a job's input image could not be stored",
                       json_pack("{s:s, s:s, s:i, s:s, s:s}", "jobId", id, "error", ig_strerror(results[i].err),
                                 "status", (int)results[i].status, "code", results[i].code, "message",
                                 results[i].message));
        json_decref(images);
        *fail = failure("create", 502, "storage_error", "The input images could not be stored for the job; try again.");
        return NULL;
    }
    json_t *doc = json_pack("{s:s, s:o}", "nonce", in->nonce, "images", images);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!text)
        *fail = failure("create", 500, "internal_error", "The job could not be prepared.");
    return text;
}

static ig_err start(ig_jobs *j, const char *id, int64_t deadline_ms)
{
    char payload[96];
    int n = snprintf(payload, sizeof payload, "{\"imagegen\":\"job\",\"id\":\"%s\"}", id);
    ig_aws_call_result r;
    ig_aws_call_result_init(&r);
    ig_err e = ig_lambda_invoke_event(j->lambda, j->function, payload, (size_t)n, deadline_ms, &r);
    if (e != IG_OK)
        log_db_failure("a job could not be started (Lambda Invoke)", id, &r);
    ig_aws_call_result_free(&r);
    return e;
}

json_t *ig_jobs_create(ig_jobs *j, ig_s3 *s3, const ig_inputs *inputs, const char *fingerprint, json_t *enqueue,
                       int64_t deadline_ms)
{
    const char *owner = ig_json_str(enqueue, "owner"), *idem = ig_json_str(enqueue, "idempotency_key");
    json_t *generate = json_object_get(enqueue, "generate"), *retention = json_object_get(enqueue, "retention_s");
    char id[IG_JOB_ID_LEN + 1];
    if (!owner || !*owner || !json_is_object(generate) || !json_is_integer(retention) ||
        json_integer_value(retention) < 60 || ig_job_id(owner, idem, id) != IG_OK) {
        ig_log(IG_LOG_ERROR, "the policy's enqueue is unusable",
               json_pack("{s:s}", "error", "enqueue must be {generate, owner, idempotency_key?, retention_s >= 60}"));
        return failure("create", 500, "policy_error", "The request policy failed; see the function's log.");
    }
    char *plan = json_dumps(generate, JSON_COMPACT);
    if (!plan || strlen(plan) > IG_JOB_PLAN_MAX) {
        free(plan);
        return failure("create", 413, "payload_too_large", "The request is too large to keep as a job.");
    }
    json_t *kept_failure = NULL;
    char *kept = keep_inputs(j, s3, inputs, plan, ig_json_str(enqueue, "inputs_prefix"), id, deadline_ms,
                             &kept_failure);
    if (kept_failure) {
        free(plan);
        return kept_failure;
    }
    int64_t now = ig_now_ms();
    json_t *item = ig_job_item(id, owner, plan, now, now + j->timeout_ms,
                               now / 1000 + json_integer_value(retention));
    free(plan);
    if (kept)
        json_object_set_new(item, "inputs", ig_dynamodb_attr_s(kept));
    free(kept);
    if (fingerprint)
        json_object_set_new(item, "request", ig_dynamodb_attr_s(fingerprint));
    ig_dynamodb_put p = {.table = j->table, .item = item, .condition = "attribute_not_exists(pk)"};
    ig_dynamodb_result r;
    ig_dynamodb_result_init(&r);
    ig_err e = ig_dynamodb_put_item(j->db, &p, deadline_ms, &r);
    int exists = e != IG_OK && ig_dynamodb_condition_failed(&r);
    if (e != IG_OK && !exists)
        log_db_failure("a job could not be recorded", id, &r.call);
    ig_dynamodb_result_free(&r);
    if (exists) {
        json_decref(item);
        return repeat(j, id, owner, fingerprint, enqueue, deadline_ms);
    }
    if (e != IG_OK) {
        json_decref(item);
        return failure("create", 503, "jobs_unavailable", "The job could not be recorded; try again.");
    }
    if (start(j, id, deadline_ms) != IG_OK) {
        json_t *res = failure("create", 503, "jobs_unavailable", "The job could not be started; try again.");
        json_object_del(res, "jobs");
        json_t *values = json_object();
        ig_dynamodb_result_init(&r);
        set_outcome(j, id, "failed", res, NULL, values, &r); /* best effort: it would read as timeout */
        ig_dynamodb_result_free(&r);
        json_decref(values);
        json_decref(res);
        json_decref(item);
        return failure("create", 503, "jobs_unavailable", "The job could not be started; try again.");
    }
    ig_log(IG_LOG_INFO, "job queued", json_pack("{s:s, s:b}", "jobId", id, "idempotent", idem != NULL));
    json_t *view = ig_job_view(item, now);
    json_decref(item);
    return created(view, enqueue, 0);
}

/* ---- GET /jobs/{id} -------------------------------------------------------------------- */

/* Fresh URLs for a succeeded job's images. 0 when presigning failed. */
static int presign_result(ig_s3 *s3, json_t *result, int64_t ttl)
{
    int64_t now_s = ig_now_ms() / 1000;
    size_t i;
    json_t *im;
    json_array_foreach(json_object_get(result, "images"), i, im)
    {
        const char *key = ig_json_str(im, "key");
        ig_buf url;
        ig_buf_init(&url, 0);
        ig_error perr;
        if (!key || ig_s3_presign_get(s3, key, ttl, now_s, &url, &perr) != IG_OK) {
            ig_log(IG_LOG_ERROR, "presigning a job's image failed", json_pack("{s:s}", "error", key ? perr.message : "no key"));
            ig_buf_free(&url);
            return 0;
        }
        json_object_set_new(im, "url", json_string(ig_buf_cstr(&url)));
        ig_buf_free(&url);
    }
    char expires[40];
    ig_format_rfc3339_ms((now_s + ttl) * 1000, expires, sizeof expires);
    char *dot = strchr(expires, '.');
    if (dot)
        memcpy(dot, "Z", 2);
    json_object_set_new(result, "expires_at", json_string(expires));
    json_object_set_new(result, "expires_at_epoch", json_integer(now_s + ttl));
    return 1;
}

json_t *ig_jobs_status(ig_jobs *j, ig_s3 *s3, json_t *spec, int64_t deadline_ms)
{
    const char *id = ig_json_str(spec, "id"), *owner = ig_json_str(spec, "owner");
    json_t *ttl = json_object_get(spec, "url_ttl");
    if (!owner || !json_is_integer(ttl) || json_integer_value(ttl) < 1) {
        ig_log(IG_LOG_ERROR, "the policy's job is unusable",
               json_pack("{s:s}", "error", "job must be {id, owner, url_ttl >= 1}"));
        return failure("status", 500, "policy_error", "The request policy failed; see the function's log.");
    }
    if (!ig_job_id_valid(id))
        return failure("status", 404, "not_found", "No job has this id.");
    json_t *item = NULL;
    if (get_job(j, id, deadline_ms, &item) != IG_OK)
        return failure("status", 503, "jobs_unavailable", "The job could not be read; try again.");
    const char *was = ig_dynamodb_item_s(item, "owner");
    json_t *view = item && was && !strcmp(was, owner) ? ig_job_view(item, ig_now_ms()) : NULL;
    json_decref(item);
    if (!view)
        return failure("status", 404, "not_found", "No job has this id.");
    json_t *result = json_object_get(view, "result");
    if (json_is_true(json_object_get(result, "ok")) && !presign_result(s3, result, json_integer_value(ttl))) {
        json_decref(view);
        return failure("status", 502, "storage_error", "The images could not be shared; try again.");
    }
    return json_pack("{s:b, s:i, s:s, s:o}", "ok", 1, "status", 200, "jobs", "status", "job", view);
}

/* ---- the worker ------------------------------------------------------------------------ */

/* Why a claim failed, from the item as it is now; records a timeout that nobody else will. */
static const char *claim_refused(ig_jobs *j, const char *id, json_t **plan)
{
    json_t *item = NULL;
    *plan = NULL;
    if (get_job(j, id, 0, &item) != IG_OK)
        return "unreadable";
    if (!item)
        return "unknown job";
    json_t *view = ig_job_view(item, ig_now_ms());
    const char *stored = ig_dynamodb_item_s(item, "status");
    const char *why = !view ? "not a job"
                      : !strcmp(stored, "succeeded") || !strcmp(stored, "failed") ? "already finished"
                      : !strcmp(ig_json_str(view, "status"), "failed") ? "timed out"
                                                                      : "held by another worker";
    if (view && !strcmp(why, "timed out")) {
        ig_dynamodb_result r;
        ig_dynamodb_result_init(&r);
        json_t *values = json_pack("{s:o}", ":was", ig_dynamodb_attr_s(stored));
        set_outcome(j, id, "failed", json_object_get(view, "result"), "#s = :was", values, &r);
        json_decref(values);
        ig_dynamodb_result_free(&r);
    }
    json_decref(view);
    json_decref(item);
    return why;
}

ig_err ig_jobs_claim(ig_jobs *j, const char *id, const char *worker, int64_t worker_deadline_ms, json_t **plan,
                     json_t **inputs, const char **why, ig_error *err)
{
    *plan = NULL;
    *inputs = NULL;
    *why = NULL;
    if (!ig_job_id_valid(id)) {
        *why = "not a job id";
        return IG_OK;
    }
    int64_t now = ig_now_ms();
    json_t *key = job_key(id);
    json_t *names = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "#s", "status", "#w", "worker", "#d", "deadline", "#u",
                              "updated_at", "#a", "attempts", "#k", "pk");
    json_t *values = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", ":queued", ig_dynamodb_attr_s("queued"), ":running",
                               ig_dynamodb_attr_s("running"), ":me", ig_dynamodb_attr_s(worker), ":now",
                               ig_dynamodb_attr_n(now), ":dl", ig_dynamodb_attr_n(worker_deadline_ms), ":one",
                               ig_dynamodb_attr_n(1));
    ig_dynamodb_update u = {
        .table = j->table, .key = key, .names = names, .values = values, .return_values = "ALL_NEW",
        .update = "SET #s = :running, #w = :me, #d = :dl, #u = :now ADD #a :one",
        .condition = "attribute_exists(#k) AND ((#s = :queued AND #d >= :now) OR "
                     "(#s = :running AND (#w = :me OR #d < :now)))"};
    ig_dynamodb_result r;
    ig_dynamodb_result_init(&r);
    ig_err e = ig_dynamodb_update_item(j->db, &u, 0, &r);
    if (e == IG_OK) {
        json_t *attrs = ig_dynamodb_output(&r, "Attributes");
        const char *text = ig_dynamodb_item_s(attrs, "plan"), *kept = ig_dynamodb_item_s(attrs, "inputs");
        *plan = text ? json_loads(text, 0, NULL) : NULL;
        *inputs = kept ? json_loads(kept, 0, NULL) : NULL;
        if (!json_is_object(*plan) || (kept && !json_is_object(*inputs))) {
            json_decref(*plan);
            json_decref(*inputs);
            *plan = *inputs = NULL;
            *why = "its plan is unreadable";
        }
    } else if (ig_dynamodb_condition_failed(&r)) {
        e = IG_OK;
        *why = claim_refused(j, id, plan);
    } else {
        log_db_failure("a job could not be taken", id, &r.call);
        ig_error_set(err, IG_ERR_AWS, "DynamoDB could not be asked for job %s: %s", id, r.call.message);
    }
    ig_dynamodb_result_free(&r);
    json_decref(key);
    json_decref(names);
    json_decref(values);
    return e == IG_OK ? IG_OK : IG_ERR_AWS;
}

ig_err ig_jobs_finish(ig_jobs *j, const char *id, const char *worker, const json_t *result, ig_error *err)
{
    json_t *stored = ig_job_stored_result(result);
    const char *status = json_is_true(json_object_get(result, "ok")) ? "succeeded" : "failed";
    json_t *values = json_pack("{s:o, s:o}", ":running", ig_dynamodb_attr_s("running"), ":me",
                               ig_dynamodb_attr_s(worker));
    ig_dynamodb_result r;
    ig_dynamodb_result_init(&r);
    ig_err e = set_outcome(j, id, status, stored, "#s = :running AND #w = :me", values, &r);
    if (e != IG_OK && ig_dynamodb_condition_failed(&r)) {
        ig_log(IG_LOG_WARN, "a job's result was not recorded: another worker holds it",
               json_pack("{s:s, s:s}", "jobId", id, "status", status));
        e = IG_OK;
    } else if (e != IG_OK) {
        log_db_failure("a job's result could not be recorded", id, &r.call);
        ig_error_set(err, IG_ERR_AWS, "the result of job %s could not be recorded: %s", id, r.call.message);
    }
    ig_dynamodb_result_free(&r);
    json_decref(values);
    json_decref(stored);
    return e;
}

/* bedrock.c - InvokeModel with standard-mode retries inside the caller's deadline, and error
 * answers decoded the way botocore decodes rest-json errors. */
#include "aws/bedrock.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/call.h"
#include "codec/hash.h"
#include "codec/percent.h"
#include "core/clock.h"
#include "core/log.h"

/* Room above the 25 MB body limit for whatever a proxy or the service adds. */
#define IG_BEDROCK_RESPONSE_SLACK (1024 * 1024)

struct ig_bedrock {
    ig_aws_context *ctx;
    ig_endpoint ep;
    char region[IG_REGION_MAX];
    ig_aws_service svc;        /* signing name "bedrock", in the Bedrock region */
};

ig_bedrock *ig_bedrock_new(ig_aws_context *ctx, ig_error *err)
{
    return ig_bedrock_new_in(ctx, NULL, err);
}

ig_bedrock *ig_bedrock_new_in(ig_aws_context *ctx, const char *region, ig_error *err)
{
    if (!ctx || !ctx->http || !ctx->signer) {
        ig_error_set(err, IG_ERR_INVALID_ARG, "the AWS context is not initialized");
        return NULL;
    }
    if (!region || !*region)
        region = ctx->region;
    if (!ig_region_valid(region)) {
        ig_error_set(err, IG_ERR_CONFIG, "the Bedrock region \"%.40s\" is not a region name", region);
        return NULL;
    }
    ig_bedrock *b = calloc(1, sizeof *b);
    if (!b) {
        ig_error_set(err, IG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    b->ctx = ctx;
    ig_aws_copy_str(b->region, sizeof b->region, region);
    b->svc = (ig_aws_service){.signing_name = "bedrock", .region = b->region};
    if (ig_endpoint_bedrock(b->region, &b->ep, err) != IG_OK) {
        free(b);
        return NULL;
    }
    return b;
}

const char *ig_bedrock_region(const ig_bedrock *b)
{
    return b ? b->region : NULL;
}

void ig_bedrock_free(ig_bedrock *b)
{
    if (!b)
        return;
    ig_endpoint_free(&b->ep);
    free(b);
}

void ig_bedrock_result_init(ig_bedrock_result *r)
{
    memset(r, 0, sizeof *r);
    ig_buf_init(&r->body, 0);
}

void ig_bedrock_result_free(ig_bedrock_result *r)
{
    ig_buf_free(&r->body);
}

static void result_reset(ig_bedrock_result *r)
{
    ig_buf body = r->body;
    memset(r, 0, sizeof *r);
    r->body = body;
    ig_buf_reset(&r->body);
}

/* ---- error decoding -------------------------------------------------------------------- */

void ig_bedrock_parse_error(long status, const char *error_type_header, const char *body, size_t len,
                            char *type, size_t type_len, char *message, size_t message_len)
{
    ig_aws_parse_json_error(status, error_type_header, body, len, type, type_len, message, message_len);
}

/* ---- invoke ---------------------------------------------------------------------------- */

static ig_err refuse(ig_bedrock_result *out, ig_err code, const char *why)
{
    out->err = code;
    ig_aws_copy_str(out->message, sizeof out->message, why);
    out->stop_reason = "not retryable";
    return code;
}

static ig_err check_input(const char *model_id, const void *body, size_t len, ig_bedrock_result *out)
{
    if (!model_id || !*model_id)
        return refuse(out, IG_ERR_INVALID_ARG, "the model id is empty");
    if (strlen(model_id) > IG_BEDROCK_MAX_MODEL_ID)
        return refuse(out, IG_ERR_INVALID_ARG, "the model id is longer than 2048 bytes");
    if (!body || !len)
        return refuse(out, IG_ERR_EMPTY, "the request body is empty");
    if (len > IG_BEDROCK_MAX_BODY)
        return refuse(out, IG_ERR_TOO_LARGE, "the request body is larger than 25,000,000 bytes");
    return IG_OK;
}

static ig_err build_target(const ig_bedrock *b, const char *model_id, ig_buf *path, ig_buf *url)
{
    ig_err e = ig_buf_appendf(path, "%s/model/", b->ep.base_path);
    if (!e)
        e = ig_percent_encode(path, model_id, strlen(model_id), 0);
    if (!e)
        e = ig_buf_append_str(path, "/invoke");
    if (!e)
        e = ig_buf_appendf(url, "%s://%s%s", b->ep.scheme, b->ep.host, ig_buf_cstr(path));
    return e;
}

static void log_retry(const char *model_id, size_t call, int attempt, const ig_bedrock_result *r,
                         ig_retry_class cls, int64_t delay_ms)
{
    json_t *f = json_pack("{s:s, s:s, s:I, s:i, s:I, s:s, s:s, s:I}", "service", "bedrock", "model", model_id,
                          "call", (json_int_t)call + 1, "attempt", attempt, "status", (json_int_t)r->status, "error",
                          r->err == IG_ERR_AWS ? r->error_type : ig_err_name(r->err), "retryClass",
                          ig_retry_class_name(cls), "delayMs", (json_int_t)delay_ms);
    ig_log(IG_LOG_WARN, "retrying Bedrock InvokeModel", f);
}

/* Records one attempt's outcome in out and says how it may be retried. */
static ig_retry_class take_attempt(ig_http_response *resp, ig_bedrock_result *out)
{
    out->status = resp->status;
    out->error_type[0] = '\0';
    out->message[0] = '\0';
    out->retry_after_ms = 0;
    if (resp->err != IG_OK) {
        out->err = resp->err;
        ig_aws_copy_text(out->message, sizeof out->message, resp->errmsg, strlen(resp->errmsg));
        return ig_retry_classify(resp->err, 0, NULL);
    }
    const char *rid = ig_header_list_get(&resp->headers, "x-amzn-requestid");
    ig_aws_copy_text(out->request_id, sizeof out->request_id, rid ? rid : "", rid ? strlen(rid) : 0);
    /* The body moves into the result: the HTTP response reuses the result's old buffer. */
    ig_buf tmp = out->body;
    out->body = resp->body;
    resp->body = tmp;
    if (resp->status >= 200 && resp->status < 300) {
        out->err = IG_OK;
        return IG_RETRY_NONE;
    }
    out->err = IG_ERR_AWS;
    ig_bedrock_parse_error(resp->status, ig_header_list_get(&resp->headers, "x-amzn-errortype"),
                           out->body.data, out->body.len, out->error_type, sizeof out->error_type,
                           out->message, sizeof out->message);
    out->retry_after_ms = ig_retry_hint_ms(ig_header_list_get(&resp->headers, "x-amz-retry-after"),
                                           ig_header_list_get(&resp->headers, "retry-after"));
    return ig_retry_classify(IG_OK, resp->status, out->error_type);
}

/* One InvokeModel call of a batch, across its attempts. */
typedef struct {
    const ig_bedrock_call *call;
    ig_bedrock_result *res;
    char body_hash[65];
    ig_aws_signed signed_req;
    ig_retry_class last_retry;
    int64_t not_before_ms;     /* monotonic ms: the backoff of the next attempt */
    int done;
} ig_invoke_job;

/* Signs the job for a new attempt (a fresh date each time) and describes it for the HTTP client. */
static ig_err job_request(ig_bedrock *b, ig_invoke_job *j, const char *path, const char *url,
                             int64_t deadline_ms, ig_http_request *req)
{
    const ig_header base[] = {{"Host", b->ep.host},
                              {"Content-Type", "application/json"},
                              {"Accept", "application/json"}};
    ig_error serr;
    ig_error_clear(&serr);
    if (ig_aws_sign(b->ctx, &b->svc, "POST", path, base, 3, j->call->body, j->call->len, j->body_hash,
                    &j->signed_req, &serr) != IG_OK) {
        refuse(j->res, serr.code, serr.message);
        j->done = 1;
        return serr.code;
    }
    *req = (ig_http_request){.method = "POST",
                             .url = url,
                             .headers = j->signed_req.headers,
                             .n_headers = j->signed_req.n_headers,
                             .body = j->call->body,
                             .body_len = j->call->len,
                             .deadline_ms = deadline_ms,
                             .max_response_bytes = IG_BEDROCK_MAX_BODY + IG_BEDROCK_RESPONSE_SLACK};
    return IG_OK;
}

static void job_outcome(ig_bedrock *b, const char *model_id, size_t index, ig_invoke_job *j,
                           ig_http_response *resp, int64_t deadline_ms)
{
    ig_retry_policy *policy = &b->ctx->retry;
    ig_retry_class cls = take_attempt(resp, j->res);
    if (j->res->err == IG_OK) {
        ig_retry_success(policy, j->last_retry);
        j->done = 1;
        return;
    }
    int64_t delay = 0;
    ig_retry_verdict v = ig_retry_next(policy, cls, j->res->attempts, j->res->retry_after_ms, deadline_ms, &delay);
    if (v != IG_RETRY_GO) {
        j->res->stop_reason = ig_retry_verdict_name(v);
        /* A timeout that the deadline forbids retrying is the deadline's doing. */
        if (j->res->err == IG_ERR_TIMEOUT && v == IG_RETRY_STOP_DEADLINE)
            j->res->err = IG_ERR_DEADLINE;
        j->done = 1;
        return;
    }
    log_retry(model_id, index, j->res->attempts, j->res, cls, delay);
    j->last_retry = cls;
    j->not_before_ms = ig_mono_ms() + delay;
}

/* Runs every pending call whose backoff has elapsed, in parallel. */
static void invoke_round(ig_bedrock *b, const char *model_id, ig_invoke_job *jobs, size_t n, const char *path,
                            const char *url, int64_t deadline_ms, ig_http_request *reqs, ig_http_response *resps,
                            size_t *idx)
{
    size_t m = 0;
    int64_t now = ig_mono_ms();
    for (size_t i = 0; i < n; i++) {
        if (jobs[i].done || jobs[i].not_before_ms > now)
            continue;
        if (job_request(b, &jobs[i], path, url, deadline_ms, &reqs[m]) != IG_OK)
            continue;
        jobs[i].res->attempts++;
        idx[m++] = i;
    }
    if (!m)
        return;
    ig_http_perform_many(b->ctx->http, reqs, resps, m);
    for (size_t k = 0; k < m; k++)
        job_outcome(b, model_id, idx[k], &jobs[idx[k]], &resps[k], deadline_ms);
}

static int64_t next_wake(const ig_invoke_job *jobs, size_t n)
{
    int64_t wake = INT64_MAX;
    for (size_t i = 0; i < n; i++)
        if (!jobs[i].done && jobs[i].not_before_ms < wake)
            wake = jobs[i].not_before_ms;
    return wake;
}

static ig_err invoke_jobs(ig_bedrock *b, const char *model_id, ig_invoke_job *jobs, size_t n,
                             int64_t deadline_ms)
{
    ig_buf path, url;
    ig_buf_init(&path, 0);
    ig_buf_init(&url, 0);
    ig_http_request *reqs = calloc(n, sizeof *reqs);
    ig_http_response *resps = calloc(n, sizeof *resps);
    size_t *idx = calloc(n, sizeof *idx);
    ig_err e = reqs && resps && idx ? build_target(b, model_id, &path, &url) : IG_ERR_NOMEM;
    if (e != IG_OK) {
        for (size_t i = 0; i < n; i++)
            if (!jobs[i].done)
                refuse(jobs[i].res, IG_ERR_NOMEM, "out of memory");
    } else {
        for (size_t i = 0; i < n; i++)
            ig_http_response_init(&resps[i]);
        for (;;) {
            int64_t wake = next_wake(jobs, n);
            if (wake == INT64_MAX)
                break;
            int64_t now = ig_mono_ms();
            if (wake > now)
                ig_sleep_ms(wake - now);
            invoke_round(b, model_id, jobs, n, ig_buf_cstr(&path), ig_buf_cstr(&url), deadline_ms, reqs, resps,
                            idx);
        }
        for (size_t i = 0; i < n; i++)
            ig_http_response_free(&resps[i]);
    }
    free(reqs), free(resps), free(idx);
    ig_buf_free(&path);
    ig_buf_free(&url);
    return e;
}

ig_err ig_bedrock_invoke_many(ig_bedrock *b, const ig_bedrock_batch *batch, ig_bedrock_result *out)
{
    size_t n = batch ? batch->n_calls : 0;
    for (size_t i = 0; i < n; i++)
        result_reset(&out[i]);
    if (!b || !batch || !n || n > IG_BEDROCK_MAX_CALLS) {
        for (size_t i = 0; i < n && out; i++)
            refuse(&out[i], IG_ERR_INVALID_ARG, b ? "the batch holds no call or too many" : "no Bedrock client");
        return IG_ERR_INVALID_ARG;
    }
    double t0 = ig_mono_s();
    ig_invoke_job jobs[IG_BEDROCK_MAX_CALLS];
    memset(jobs, 0, sizeof jobs);
    for (size_t i = 0; i < n; i++) {
        jobs[i].call = &batch->calls[i];
        jobs[i].res = &out[i];
        ig_aws_signed_init(&jobs[i].signed_req);
        if (check_input(batch->model_id, batch->calls[i].body, batch->calls[i].len, &out[i]) != IG_OK)
            jobs[i].done = 1;
        else
            ig_sha256_hex(batch->calls[i].body, batch->calls[i].len, jobs[i].body_hash); /* once per call */
    }
    size_t pending = 0;
    for (size_t i = 0; i < n; i++)
        pending += !jobs[i].done;
    if (pending)
        invoke_jobs(b, batch->model_id, jobs, n, batch->deadline_ms);
    double took = ig_mono_s() - t0;
    ig_err first = IG_OK;
    for (size_t i = 0; i < n; i++) {
        out[i].seconds = took;
        ig_aws_signed_free(&jobs[i].signed_req);
        if (first == IG_OK && out[i].err != IG_OK)
            first = out[i].err;
    }
    return first;
}

ig_err ig_bedrock_invoke(ig_bedrock *b, const char *model_id, const void *body, size_t len,
                         int64_t deadline_ms, ig_bedrock_result *out)
{
    ig_bedrock_call call = {body, len};
    ig_bedrock_batch batch = {.model_id = model_id, .calls = &call, .n_calls = 1, .deadline_ms = deadline_ms};
    ig_bedrock_invoke_many(b, &batch, out);
    return out->err;
}

/* ---- what a failure means -------------------------------------------------------------- */

/* Throttling and transient failures are recognised by the retry rules (aws/retry.c), the same
 * ones that decided to retry them; only what retrying cannot mend is named here. */
ig_bedrock_outcome ig_bedrock_classify(const ig_bedrock_result *r)
{
    if (r->err == IG_OK)
        return IG_BEDROCK_SUCCEEDED;
    if (r->err == IG_ERR_DEADLINE || r->err == IG_ERR_TIMEOUT)
        return IG_BEDROCK_TIMED_OUT;
    if (r->err != IG_ERR_AWS)
        return IG_BEDROCK_UNREACHABLE;
    const char *t = r->error_type;
    if (strcmp(t, "ResourceNotFoundException") == 0)
        return strstr(r->message, "end of its life") ? IG_BEDROCK_RETIRED : IG_BEDROCK_UNAVAILABLE;
    if (strcmp(t, "AccessDeniedException") == 0)
        return IG_BEDROCK_UNAVAILABLE;
    if (strcmp(t, "ValidationException") == 0 && r->status == 400)
        return strstr(r->message, "content filter") ? IG_BEDROCK_FILTERED : IG_BEDROCK_INVALID;
    if (ig_aws_credentials_refused(t))
        return IG_BEDROCK_BAD_CREDENTIALS;
    if (strcmp(t, "ModelNotReadyException") == 0 || strcmp(t, "ServiceUnavailableException") == 0 ||
        r->status == 503)
        return IG_BEDROCK_NOT_READY;
    if (strcmp(t, "ServiceQuotaExceededException") == 0 ||
        ig_retry_classify(IG_OK, r->status, t) == IG_RETRY_THROTTLE)
        return IG_BEDROCK_THROTTLED;
    if (strcmp(t, "ModelTimeoutException") == 0 || r->status == 408)
        return IG_BEDROCK_TIMED_OUT;
    return IG_BEDROCK_FAILED;
}

const char *ig_bedrock_outcome_name(ig_bedrock_outcome o)
{
    static const char *const names[] = {"succeeded", "invalid", "filtered", "retired", "unavailable",
                                        "bad_credentials", "throttled", "not_ready", "timed_out",
                                        "unreachable", "failed"};
    return (size_t)o < sizeof names / sizeof names[0] ? names[o] : "failed";
}

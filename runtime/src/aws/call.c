/* call.c - the attempt loop shared by the DynamoDB and Lambda clients: sign, send on the shared
 * HTTP client, judge the answer, and retry in standard mode while the retry rules, the quota
 * and the deadline allow; plus the decoding of JSON-protocol error answers. */
#include "aws/call.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "codec/hash.h"
#include "codec/json.h"
#include "core/clock.h"
#include "core/log.h"

/* Error bodies are small; never hand a huge one to the JSON parser. */
#define IG_AWS_ERROR_PARSE_MAX (1024 * 1024)

void ig_aws_call_result_init(ig_aws_call_result *r)
{
    memset(r, 0, sizeof *r);
    ig_buf_init(&r->body, 0);
}

void ig_aws_call_result_free(ig_aws_call_result *r)
{
    ig_buf_free(&r->body);
}

void ig_aws_call_result_reset(ig_aws_call_result *r)
{
    ig_buf body = r->body;
    memset(r, 0, sizeof *r);
    r->body = body;
    ig_buf_reset(&r->body);
}

ig_err ig_aws_call_refuse(ig_aws_call_result *r, ig_err code, const char *why)
{
    r->err = code;
    ig_aws_copy_str(r->message, sizeof r->message, why);
    r->stop_reason = "not retryable";
    return code;
}

/* ---- error decoding -------------------------------------------------------------------- */

void ig_aws_copy_text(char *dst, size_t dst_len, const char *src, size_t n)
{
    if (!dst_len)
        return;
    size_t i = 0;
    for (; i < n && i + 1 < dst_len; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    dst[i] = '\0';
}

/* An error code as botocore keeps it: up to the first ':', after the last '#'. */
static void copy_code(char *dst, size_t dst_len, const char *code)
{
    size_t n = strcspn(code, ":");
    const char *hash = NULL;
    for (const char *p = code; p < code + n; p++)
        if (*p == '#')
            hash = p;
    if (hash) {
        n -= (size_t)(hash + 1 - code);
        code = hash + 1;
    }
    while (n && (*code == ' ' || *code == '\t'))
        code++, n--;
    while (n && (code[n - 1] == ' ' || code[n - 1] == '\t'))
        n--;
    ig_aws_copy_text(dst, dst_len, code, n);
}

void ig_aws_parse_json_error(long status, const char *error_type_header, const char *body, size_t len,
                             char *type, size_t type_len, char *message, size_t message_len)
{
    if (type_len)
        type[0] = '\0';
    if (message_len)
        message[0] = '\0';
    json_t *doc = NULL;
    if (body && len && len <= IG_AWS_ERROR_PARSE_MAX)
        doc = json_loadb(body, len, 0, NULL);
    if (doc && !json_is_object(doc)) {
        json_decref(doc);
        doc = NULL;
    }
    if (error_type_header && *error_type_header)
        copy_code(type, type_len, error_type_header);
    if (type_len && !type[0] && doc) {
        const char *c = ig_json_str(doc, "__type");
        if (!c)
            c = ig_json_str(doc, "code");
        if (!c)
            c = ig_json_str(doc, "Code");
        if (c)
            copy_code(type, type_len, c);
    }
    if (type_len && !type[0])
        snprintf(type, type_len, "%ld", status);
    if (doc) {
        const char *m = ig_json_str(doc, "message");
        if (!m)
            m = ig_json_str(doc, "Message");
        if (m)
            ig_aws_copy_text(message, message_len, m, strlen(m));
        json_decref(doc);
    }
}

/* ---- the attempt loop ------------------------------------------------------------------ */

/* Records one attempt's outcome in out and says how it may be retried. */
static ig_retry_class take_attempt(const ig_aws_call_request *req, ig_http_response *resp,
                                   ig_aws_call_result *out)
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
    if (resp->status >= 200 && resp->status < 300) {
        if (req->damaged && req->damaged(resp, out->message, sizeof out->message)) {
            out->err = IG_ERR_HTTP;
            return IG_RETRY_TRANSIENT;
        }
        out->err = IG_OK;
    } else {
        out->err = IG_ERR_AWS;
        ig_aws_parse_json_error(resp->status, ig_header_list_get(&resp->headers, "x-amzn-errortype"),
                                resp->body.data, resp->body.len, out->error_type, sizeof out->error_type,
                                out->message, sizeof out->message);
        out->retry_after_ms = ig_retry_hint_ms(ig_header_list_get(&resp->headers, "x-amz-retry-after"),
                                               ig_header_list_get(&resp->headers, "retry-after"));
    }
    /* The body moves into the result: the HTTP response reuses the result's old buffer. */
    ig_buf tmp = out->body;
    out->body = resp->body;
    resp->body = tmp;
    if (out->err == IG_OK)
        return IG_RETRY_NONE;
    return ig_retry_classify(IG_OK, resp->status, out->error_type);
}

static void log_retry(const ig_aws_call_request *req, const ig_aws_call_result *r, ig_retry_class cls,
                      int64_t delay_ms)
{
    const char *what = r->err == IG_ERR_AWS ? r->error_type : ig_err_name(r->err);
    json_t *f = json_pack("{s:s, s:s, s:i, s:I, s:s, s:s, s:I}", "service", req->svc->signing_name, "operation",
                          req->operation ? req->operation : "", "attempt", r->attempts, "status",
                          (json_int_t)r->status, "error", what, "retryClass", ig_retry_class_name(cls), "delayMs",
                          (json_int_t)delay_ms);
    ig_log(IG_LOG_WARN, "retrying AWS request", f);
}

/* Signs for this attempt (a fresh date every time) and sends. IG_OK when something was sent. */
static ig_err attempt(ig_aws_context *ctx, const ig_aws_call_request *req, const char *body_hash,
                      ig_aws_signed *signed_req, ig_http_response *resp, ig_aws_call_result *out)
{
    ig_error serr;
    ig_error_clear(&serr);
    if (ig_aws_sign(ctx, req->svc, req->method, req->path, req->headers, req->n_headers, req->body, req->body_len,
                    body_hash, signed_req, &serr) != IG_OK)
        return ig_aws_call_refuse(out, serr.code, serr.message);
    ig_http_request hr = {.method = req->method,
                          .url = req->url,
                          .headers = signed_req->headers,
                          .n_headers = signed_req->n_headers,
                          .body = req->body,
                          .body_len = req->body_len,
                          .deadline_ms = req->deadline_ms,
                          .max_response_bytes = req->max_response_bytes};
    out->attempts++;
    ig_http_perform(ctx->http, &hr, resp);
    return IG_OK;
}

ig_err ig_aws_call(ig_aws_context *ctx, const ig_aws_call_request *req, ig_aws_call_result *out)
{
    ig_aws_call_result_reset(out);
    if (!ctx || !ctx->http || !ctx->signer || !req || !req->svc || !req->method || !req->path || !req->url)
        return ig_aws_call_refuse(out, IG_ERR_INVALID_ARG, "the AWS call is not fully described");
    double t0 = ig_mono_s();
    char body_hash[65];
    ig_sha256_hex(req->body ? req->body : "", req->body ? req->body_len : 0, body_hash); /* once per call */
    ig_aws_signed signed_req;
    ig_aws_signed_init(&signed_req);
    ig_http_response resp;
    ig_http_response_init(&resp);
    ig_retry_class last_retry = IG_RETRY_NONE;
    while (attempt(ctx, req, body_hash, &signed_req, &resp, out) == IG_OK) {
        ig_retry_class cls = take_attempt(req, &resp, out);
        if (out->err == IG_OK) {
            ig_retry_success(&ctx->retry, last_retry);
            break;
        }
        int64_t delay = 0;
        ig_retry_verdict v = ig_retry_next(&ctx->retry, cls, out->attempts, out->retry_after_ms, req->deadline_ms,
                                           &delay);
        if (v != IG_RETRY_GO) {
            out->stop_reason = ig_retry_verdict_name(v);
            /* A timeout that the deadline forbids retrying is the deadline's doing. */
            if (out->err == IG_ERR_TIMEOUT && v == IG_RETRY_STOP_DEADLINE)
                out->err = IG_ERR_DEADLINE;
            break;
        }
        log_retry(req, out, cls, delay);
        last_retry = cls;
        ig_sleep_ms(delay);
    }
    ig_http_response_free(&resp);
    ig_aws_signed_free(&signed_req);
    out->seconds = ig_mono_s() - t0;
    return out->err;
}

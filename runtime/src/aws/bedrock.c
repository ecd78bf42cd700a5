/* bedrock.c - InvokeModel with standard-mode retries inside the caller's deadline, and error
 * answers decoded the way botocore decodes rest-json errors. */
#include "aws/bedrock.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/hash.h"
#include "codec/percent.h"
#include "core/clock.h"
#include "core/log.h"

/* Room above the 25 MB body limit for whatever a proxy or the service adds. */
#define IG_BEDROCK_RESPONSE_SLACK (1024 * 1024)
/* Error bodies are small; never hand a huge one to the JSON parser. */
#define IG_BEDROCK_ERROR_PARSE_MAX (1024 * 1024)

static const ig_aws_service ig_bedrock_service = {"bedrock", 0, 0};

struct ig_bedrock {
    ig_aws_context *ctx;
    ig_endpoint ep;
};

ig_bedrock *ig_bedrock_new(ig_aws_context *ctx, ig_error *err)
{
    if (!ctx || !ctx->http || !ctx->signer) {
        ig_error_set(err, IG_ERR_INVALID_ARG, "the AWS context is not initialized");
        return NULL;
    }
    ig_bedrock *b = calloc(1, sizeof *b);
    if (!b) {
        ig_error_set(err, IG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    b->ctx = ctx;
    if (ig_endpoint_bedrock(ctx->region, &b->ep, err) != IG_OK) {
        free(b);
        return NULL;
    }
    return b;
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

static void ig_result_reset(ig_bedrock_result *r)
{
    ig_buf body = r->body;
    memset(r, 0, sizeof *r);
    r->body = body;
    ig_buf_reset(&r->body);
}

/* ---- error decoding -------------------------------------------------------------------- */

/* Copies n bytes of server text: control characters become spaces, the copy is truncated. */
static void ig_copy_text(char *dst, size_t dst_len, const char *src, size_t n)
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
static void ig_copy_code(char *dst, size_t dst_len, const char *code)
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
    ig_copy_text(dst, dst_len, code, n);
}

static const char *ig_json_str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

void ig_bedrock_parse_error(long status, const char *error_type_header, const char *body, size_t len,
                            char *type, size_t type_len, char *message, size_t message_len)
{
    if (type_len)
        type[0] = '\0';
    if (message_len)
        message[0] = '\0';
    json_t *doc = NULL;
    if (body && len && len <= IG_BEDROCK_ERROR_PARSE_MAX)
        doc = json_loadb(body, len, 0, NULL);
    if (doc && !json_is_object(doc)) {
        json_decref(doc);
        doc = NULL;
    }
    if (error_type_header && *error_type_header)
        ig_copy_code(type, type_len, error_type_header);
    if (type_len && !type[0] && doc) {
        const char *c = ig_json_str(doc, "__type");
        if (!c)
            c = ig_json_str(doc, "code");
        if (!c)
            c = ig_json_str(doc, "Code");
        if (c)
            ig_copy_code(type, type_len, c);
    }
    if (type_len && !type[0])
        snprintf(type, type_len, "%ld", status);
    if (doc) {
        const char *m = ig_json_str(doc, "message");
        if (!m)
            m = ig_json_str(doc, "Message");
        if (m)
            ig_copy_text(message, message_len, m, strlen(m));
        json_decref(doc);
    }
}

/* ---- invoke ---------------------------------------------------------------------------- */

static ig_err ig_refuse(ig_bedrock_result *out, ig_err code, const char *why)
{
    out->err = code;
    ig_aws_copy_str(out->message, sizeof out->message, why);
    out->stop_reason = "not retryable";
    return code;
}

static ig_err ig_check_input(const char *model_id, const void *body, size_t len, ig_bedrock_result *out)
{
    if (!model_id || !*model_id)
        return ig_refuse(out, IG_ERR_INVALID_ARG, "the model id is empty");
    if (strlen(model_id) > IG_BEDROCK_MAX_MODEL_ID)
        return ig_refuse(out, IG_ERR_INVALID_ARG, "the model id is longer than 2048 bytes");
    if (!body || !len)
        return ig_refuse(out, IG_ERR_EMPTY, "the request body is empty");
    if (len > IG_BEDROCK_MAX_BODY)
        return ig_refuse(out, IG_ERR_TOO_LARGE, "the request body is larger than 25,000,000 bytes");
    return IG_OK;
}

static ig_err ig_build_target(const ig_bedrock *b, const char *model_id, ig_buf *path, ig_buf *url)
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

static void ig_log_retry(const char *model_id, int attempt, const ig_bedrock_result *r, ig_retry_class cls,
                         int64_t delay_ms)
{
    json_t *f = json_pack("{s:s, s:s, s:i, s:I, s:s, s:s, s:I}", "service", "bedrock", "model", model_id,
                          "attempt", attempt, "status", (json_int_t)r->status, "error",
                          r->err == IG_ERR_AWS ? r->error_type : ig_err_name(r->err), "retryClass",
                          ig_retry_class_name(cls), "delayMs", (json_int_t)delay_ms);
    ig_log(IG_LOG_WARN, "retrying Bedrock InvokeModel", f);
}

/* Records one attempt's outcome in out and says how it may be retried. */
static ig_retry_class ig_take_attempt(ig_http_response *resp, ig_bedrock_result *out)
{
    out->status = resp->status;
    out->error_type[0] = '\0';
    out->message[0] = '\0';
    out->retry_after_ms = 0;
    if (resp->err != IG_OK) {
        out->err = resp->err;
        ig_copy_text(out->message, sizeof out->message, resp->errmsg, strlen(resp->errmsg));
        return ig_retry_classify(resp->err, 0, NULL);
    }
    const char *rid = ig_header_list_get(&resp->headers, "x-amzn-requestid");
    ig_copy_text(out->request_id, sizeof out->request_id, rid ? rid : "", rid ? strlen(rid) : 0);
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

ig_err ig_bedrock_invoke(ig_bedrock *b, const char *model_id, const void *body, size_t len,
                         int64_t deadline_ms, ig_bedrock_result *out)
{
    ig_result_reset(out);
    if (!b)
        return ig_refuse(out, IG_ERR_INVALID_ARG, "no Bedrock client");
    if (ig_check_input(model_id, body, len, out) != IG_OK)
        return out->err;
    double t0 = ig_mono_s();
    ig_buf path, url;
    ig_buf_init(&path, 0);
    ig_buf_init(&url, 0);
    char body_hash[65];
    ig_sha256_hex(body, len, body_hash); /* once: every attempt signs the same body */
    ig_http_response resp;
    ig_http_response_init(&resp);
    ig_aws_signed signed_req;
    ig_aws_signed_init(&signed_req);
    if (ig_build_target(b, model_id, &path, &url) != IG_OK) {
        ig_refuse(out, IG_ERR_NOMEM, "out of memory");
        goto done;
    }
    const ig_header base[] = {{"Host", b->ep.host},
                              {"Content-Type", "application/json"},
                              {"Accept", "application/json"}};
    ig_retry_policy *policy = &b->ctx->retry;
    ig_retry_class last_retry = IG_RETRY_NONE;
    for (;;) {
        ig_error serr;
        ig_error_clear(&serr);
        if (ig_aws_sign(b->ctx, &ig_bedrock_service, "POST", ig_buf_cstr(&path), base, 3, body, len, body_hash,
                        &signed_req, &serr) != IG_OK) {
            ig_refuse(out, serr.code, serr.message);
            break;
        }
        ig_http_request req = {.method = "POST",
                               .url = ig_buf_cstr(&url),
                               .headers = signed_req.headers,
                               .n_headers = signed_req.n_headers,
                               .body = body,
                               .body_len = len,
                               .deadline_ms = deadline_ms,
                               .max_response_bytes = IG_BEDROCK_MAX_BODY + IG_BEDROCK_RESPONSE_SLACK};
        out->attempts++;
        ig_http_perform(b->ctx->http, &req, &resp);
        ig_retry_class cls = ig_take_attempt(&resp, out);
        if (out->err == IG_OK) {
            ig_retry_success(policy, last_retry);
            break;
        }
        int64_t delay = 0;
        ig_retry_verdict v = ig_retry_next(policy, cls, out->attempts, out->retry_after_ms, deadline_ms, &delay);
        if (v != IG_RETRY_GO) {
            out->stop_reason = ig_retry_verdict_name(v);
            /* A timeout that the deadline forbids retrying is the deadline's doing. */
            if (out->err == IG_ERR_TIMEOUT && v == IG_RETRY_STOP_DEADLINE)
                out->err = IG_ERR_DEADLINE;
            break;
        }
        ig_log_retry(model_id, out->attempts, out, cls, delay);
        last_retry = cls;
        ig_sleep_ms(delay);
    }
done:
    out->seconds = ig_mono_s() - t0;
    ig_aws_signed_free(&signed_req);
    ig_http_response_free(&resp);
    ig_buf_free(&path);
    ig_buf_free(&url);
    return out->err;
}

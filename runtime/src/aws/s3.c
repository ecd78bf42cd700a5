/* s3.c - PutObject (many at once, each retried on its own), HeadObject, GetObject under a size
 * cap and presigned GET URLs for one bucket. Every request is described once (path, headers), signed afresh for
 * each attempt, and sent through the shared HTTP client so uploads reuse warm connections. */
#include "aws/s3.h"
#include "aws/s3_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/hash.h"
#include "codec/percent.h"
#include "core/clock.h"
#include "core/log.h"

/* Error documents are small; a successful PUT or HEAD has no body worth keeping. */
#define IG_S3_RESPONSE_MAX (256 * 1024)
/* A GET reads at most max(its cap, this): room for an error document when the cap is tiny. */
#define IG_S3_GET_MIN_READ (16 * 1024)

static const ig_aws_service ig_s3_service = {.signing_name = "s3", .s3_uri_rules = 1, .sign_content_sha256 = 1};

ig_s3 *ig_s3_new(ig_aws_context *ctx, const char *bucket, ig_error *err)
{
    if (!ctx || !ctx->http || !ctx->signer) {
        ig_error_set(err, IG_ERR_INVALID_ARG, "the AWS context is not initialized");
        return NULL;
    }
    ig_s3 *s3 = calloc(1, sizeof *s3);
    if (!s3) {
        ig_error_set(err, IG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    s3->ctx = ctx;
    if (ig_endpoint_s3(ctx->region, bucket, &s3->ep, &s3->path_style, err) != IG_OK) {
        free(s3);
        return NULL;
    }
    if (!(s3->bucket = strdup(bucket))) {
        ig_s3_free(s3);
        ig_error_set(err, IG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    return s3;
}

void ig_s3_free(ig_s3 *s3)
{
    if (!s3)
        return;
    ig_endpoint_free(&s3->ep);
    free(s3->bucket);
    free(s3);
}

/* ---- shared pieces --------------------------------------------------------------------- */

/* "/base/bucket/encoded/key" (path style) or "/base/encoded/key", and the full URL. */
static ig_err s3_target(const ig_s3 *s3, const char *key, ig_buf *path, ig_buf *url)
{
    ig_err e = ig_buf_append_str(path, s3->ep.base_path);
    if (!e && s3->path_style)
        e = ig_buf_appendf(path, "/%s", s3->bucket);
    if (!e)
        e = ig_buf_append_char(path, '/');
    if (!e)
        e = ig_percent_encode(path, key, strlen(key), 1);
    if (!e && url)
        e = ig_buf_appendf(url, "%s://%s%s", s3->ep.scheme, s3->ep.host, ig_buf_cstr(path));
    return e;
}

static void copy_hdr(const ig_header_list *h, const char *name, char *dst, size_t dst_len)
{
    const char *v = ig_header_list_get(h, name);
    size_t i = 0;
    for (; v && v[i] && i + 1 < dst_len; i++)
        dst[i] = ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) ? ' ' : v[i];
    if (dst_len)
        dst[i] = '\0';
}

/* An S3 error code for answers without a body (HEAD). */
static const char *s3_status_code(long status)
{
    switch (status) {
    case 301: return "PermanentRedirect";
    case 400: return "BadRequest";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 412: return "PreconditionFailed";
    case 500: return "InternalError";
    case 503: return "ServiceUnavailable";
    default: return NULL;
    }
}

/* One attempt's outcome, common to PUT and HEAD. */
typedef struct {
    ig_err err;
    long status;
    char code[64];
    char message[256];
    char request_id[64];
    int64_t hint_ms;
} ig_s3_outcome;

static ig_retry_class s3_judge(const ig_http_response *r, ig_s3_outcome *o)
{
    memset(o, 0, sizeof *o);
    o->status = r->status;
    if (r->err != IG_OK) {
        o->err = r->err;
        ig_aws_copy_str(o->message, sizeof o->message, r->errmsg);
        return ig_retry_classify(r->err, 0, NULL);
    }
    copy_hdr(&r->headers, "x-amz-request-id", o->request_id, sizeof o->request_id);
    if (r->status >= 200 && r->status < 300)
        return IG_RETRY_NONE;
    o->err = IG_ERR_AWS;
    ig_s3_parse_error(r->body.data, r->body.len, o->code, sizeof o->code, o->message, sizeof o->message);
    if (!o->code[0]) {
        const char *c = s3_status_code(r->status);
        if (c)
            ig_aws_copy_str(o->code, sizeof o->code, c);
        else
            snprintf(o->code, sizeof o->code, "%ld", r->status);
    }
    o->hint_ms = ig_retry_hint_ms(ig_header_list_get(&r->headers, "x-amz-retry-after"),
                                  ig_header_list_get(&r->headers, "retry-after"));
    return ig_retry_classify(IG_OK, r->status, o->code);
}

/* A timeout that the deadline forbids retrying is the deadline's doing. */
static ig_err final_err(ig_err e, ig_retry_verdict v)
{
    return e == IG_ERR_TIMEOUT && v == IG_RETRY_STOP_DEADLINE ? IG_ERR_DEADLINE : e;
}

static void s3_log_retry(const char *op, const char *key, int attempt, const ig_s3_outcome *o,
                            ig_retry_class cls, int64_t delay)
{
    json_t *f = json_pack("{s:s, s:s, s:s, s:i, s:I, s:s, s:s, s:I}", "service", "s3", "operation", op, "key",
                          key, "attempt", attempt, "status", (json_int_t)o->status, "error",
                          o->err == IG_ERR_AWS ? o->code : ig_err_name(o->err), "retryClass",
                          ig_retry_class_name(cls), "delayMs", (json_int_t)delay);
    ig_log(IG_LOG_WARN, "retrying S3 request", f);
}

/* ---- PutObject ------------------------------------------------------------------------- */

typedef struct {
    const ig_s3_put_request *put;
    ig_s3_result *res;
    ig_buf path, url;
    char sha256[65];
    ig_header *headers;       /* Host, Content-Type, ... x-amz-meta-* */
    size_t n_headers;
    char **owned;             /* strings behind the metadata headers */
    size_t n_owned;
    ig_aws_signed signed_req;
    ig_retry_class last_retry;
    int64_t not_before_ms;
    double started;
    int done;
} ig_put_job;

static int header_text_ok(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return 0;
    return 1;
}

static ig_err job_fail(ig_put_job *j, ig_err code, const char *msg)
{
    j->res->err = code;
    ig_aws_copy_str(j->res->message, sizeof j->res->message, msg);
    j->res->stop_reason = "not retryable";
    j->done = 1;
    return code;
}

int ig_s3_metadata_name_valid(const char *n)
{
    if (!n || !*n || strlen(n) > IG_S3_META_NAME_MAX)
        return 0;
    for (; *n; n++)
        if (!((*n >= 'a' && *n <= 'z') || (*n >= '0' && *n <= '9') || *n == '-'))
            return 0;
    return 1;
}

static ig_err job_own(ig_put_job *j, char *s)
{
    if (!s)
        return IG_ERR_NOMEM;
    j->owned[j->n_owned++] = s;
    return IG_OK;
}

static ig_err job_metadata(ig_put_job *j)
{
    const ig_s3_put_request *p = j->put;
    size_t total = 0;
    char msg[256];
    for (size_t i = 0; i < p->n_metadata; i++) {
        const ig_header *m = &p->metadata[i];
        if (!ig_s3_metadata_name_valid(m->name)) {
            snprintf(msg, sizeof msg, "metadata name %zu is empty, longer than 64 bytes, or has a character outside a-z, 0-9 and '-'", i);
            return job_fail(j, IG_ERR_BAD_KEY, msg);
        }
        for (size_t k = 0; k < i; k++)
            if (strcmp(p->metadata[k].name, m->name) == 0) {
                snprintf(msg, sizeof msg, "metadata name \"%.64s\" appears twice", m->name);
                return job_fail(j, IG_ERR_BAD_KEY, msg);
            }
        ig_buf v;
        ig_buf_init(&v, 0);
        ig_error err;
        ig_error_clear(&err);
        if (ig_s3_meta_encode(m->value, &v, &err) != IG_OK) {
            ig_buf_free(&v);
            snprintf(msg, sizeof msg, "metadata \"%.64s\": %.160s", m->name, err.message);
            return job_fail(j, err.code, msg);
        }
        total += strlen(m->name) + strlen(m->value);
        char *name = malloc(strlen(m->name) + 12);
        if (name)
            sprintf(name, "x-amz-meta-%s", m->name);
        if (job_own(j, name) != IG_OK || job_own(j, ig_buf_steal(&v, NULL)) != IG_OK) {
            ig_buf_free(&v);
            return job_fail(j, IG_ERR_NOMEM, "out of memory");
        }
        j->headers[j->n_headers].name = j->owned[j->n_owned - 2];
        j->headers[j->n_headers++].value = j->owned[j->n_owned - 1];
    }
    if (total > IG_S3_META_MAX) {
        snprintf(msg, sizeof msg, "user metadata is %zu bytes; S3 allows %d", total, IG_S3_META_MAX);
        return job_fail(j, IG_ERR_TOO_LARGE, msg);
    }
    return IG_OK;
}

static ig_err job_check(ig_put_job *j)
{
    const ig_s3_put_request *p = j->put;
    ig_error err;
    ig_error_clear(&err);
    if (!ig_s3_key_valid(p->key, &err))
        return job_fail(j, IG_ERR_BAD_KEY, err.message);
    if (!p->data || !p->len)
        return job_fail(j, IG_ERR_EMPTY, "the object body is empty");
    if (p->len > IG_S3_PUT_MAX)
        return job_fail(j, IG_ERR_TOO_LARGE, "the object is larger than 5 GiB, S3's limit for one PUT");
    if (!p->content_type || !*p->content_type || !header_text_ok(p->content_type))
        return job_fail(j, IG_ERR_INVALID_ARG, "the content type is missing or not printable ASCII");
    if (p->cache_control && !header_text_ok(p->cache_control))
        return job_fail(j, IG_ERR_INVALID_ARG, "Cache-Control is not printable ASCII");
    if (p->sse && strcmp(p->sse, "AES256") != 0 && strcmp(p->sse, "aws:kms") != 0)
        return job_fail(j, IG_ERR_INVALID_ARG, "server-side encryption must be \"AES256\" or \"aws:kms\"");
    if (p->sse_kms_key_id && (!p->sse || strcmp(p->sse, "aws:kms") != 0))
        return job_fail(j, IG_ERR_INVALID_ARG, "a KMS key id needs server-side encryption \"aws:kms\"");
    if (p->sse_kms_key_id && (!*p->sse_kms_key_id || !header_text_ok(p->sse_kms_key_id)))
        return job_fail(j, IG_ERR_INVALID_ARG, "the KMS key id is empty or not printable ASCII");
    return IG_OK;
}

static ig_err job_prepare(ig_s3 *s3, ig_put_job *j)
{
    const ig_s3_put_request *p = j->put;
    if (job_check(j) != IG_OK)
        return j->res->err;
    size_t cap = 5 + p->n_metadata;
    j->headers = calloc(cap, sizeof *j->headers);
    j->owned = calloc(2 * p->n_metadata + 1, sizeof *j->owned);
    if (!j->headers || !j->owned)
        return job_fail(j, IG_ERR_NOMEM, "out of memory");
    if (s3_target(s3, p->key, &j->path, &j->url) != IG_OK)
        return job_fail(j, IG_ERR_NOMEM, "out of memory");
    ig_header *h = j->headers;
    h[j->n_headers++] = (ig_header){"Host", s3->ep.host};
    h[j->n_headers++] = (ig_header){"Content-Type", p->content_type};
    if (p->cache_control)
        h[j->n_headers++] = (ig_header){"Cache-Control", p->cache_control};
    if (p->sse)
        h[j->n_headers++] = (ig_header){"x-amz-server-side-encryption", p->sse};
    if (p->sse_kms_key_id)
        h[j->n_headers++] = (ig_header){"x-amz-server-side-encryption-aws-kms-key-id", p->sse_kms_key_id};
    if (job_metadata(j) != IG_OK)
        return j->res->err;
    ig_sha256_hex(p->data, p->len, j->sha256);
    return IG_OK;
}

static void job_free(ig_put_job *j)
{
    ig_buf_free(&j->path);
    ig_buf_free(&j->url);
    for (size_t i = 0; i < j->n_owned; i++)
        free(j->owned[i]);
    free(j->owned);
    free(j->headers);
    ig_aws_signed_free(&j->signed_req);
}

/* Signs the job for a new attempt and describes it for the HTTP client. */
static ig_err job_request(ig_s3 *s3, ig_put_job *j, int64_t deadline_ms, ig_http_request *req)
{
    ig_error err;
    ig_error_clear(&err);
    if (ig_aws_sign(s3->ctx, &ig_s3_service, "PUT", ig_buf_cstr(&j->path), j->headers, j->n_headers, j->put->data,
                    j->put->len, j->sha256, &j->signed_req, &err) != IG_OK)
        return job_fail(j, err.code, err.message);
    *req = (ig_http_request){.method = "PUT",
                             .url = ig_buf_cstr(&j->url),
                             .headers = j->signed_req.headers,
                             .n_headers = j->signed_req.n_headers,
                             .body = j->put->data,
                             .body_len = j->put->len,
                             .deadline_ms = deadline_ms,
                             .max_response_bytes = IG_S3_RESPONSE_MAX};
    return IG_OK;
}

static void job_outcome(ig_s3 *s3, ig_put_job *j, const ig_http_response *r, int64_t deadline_ms)
{
    ig_s3_result *res = j->res;
    ig_s3_outcome o;
    ig_retry_class cls = s3_judge(r, &o);
    res->err = o.err;
    res->status = o.status;
    ig_aws_copy_str(res->code, sizeof res->code, o.code);
    ig_aws_copy_str(res->message, sizeof res->message, o.message);
    ig_aws_copy_str(res->request_id, sizeof res->request_id, o.request_id);
    if (o.err == IG_OK) {
        copy_hdr(&r->headers, "etag", res->etag, sizeof res->etag);
        ig_retry_success(&s3->ctx->retry, j->last_retry);
        j->done = 1;
        return;
    }
    int64_t delay = 0;
    ig_retry_verdict v = ig_retry_next(&s3->ctx->retry, cls, res->attempts, o.hint_ms, deadline_ms, &delay);
    if (v != IG_RETRY_GO) {
        res->err = final_err(res->err, v);
        res->stop_reason = ig_retry_verdict_name(v);
        j->done = 1;
        return;
    }
    s3_log_retry("PutObject", j->put->key, res->attempts, &o, cls, delay);
    j->last_retry = cls;
    j->not_before_ms = ig_mono_ms() + delay;
}

/* Runs one round: every pending job whose backoff has elapsed, in parallel. */
static ig_err put_round(ig_s3 *s3, ig_put_job *jobs, size_t n, int64_t deadline_ms, ig_http_request *reqs,
                           ig_http_response *resps, size_t *idx)
{
    size_t m = 0;
    int64_t now = ig_mono_ms();
    for (size_t i = 0; i < n; i++) {
        if (jobs[i].done || jobs[i].not_before_ms > now)
            continue;
        if (job_request(s3, &jobs[i], deadline_ms, &reqs[m]) != IG_OK)
            continue;
        jobs[i].res->attempts++;
        idx[m++] = i;
    }
    if (!m)
        return IG_OK;
    ig_http_perform_many(s3->ctx->http, reqs, resps, m);
    for (size_t k = 0; k < m; k++)
        job_outcome(s3, &jobs[idx[k]], &resps[k], deadline_ms);
    return IG_OK;
}

static int64_t next_wake(const ig_put_job *jobs, size_t n)
{
    int64_t wake = INT64_MAX;
    for (size_t i = 0; i < n; i++)
        if (!jobs[i].done && jobs[i].not_before_ms < wake)
            wake = jobs[i].not_before_ms;
    return wake;
}

ig_err ig_s3_put_objects(ig_s3 *s3, const ig_s3_put_request *puts, size_t n, int64_t deadline_ms,
                         ig_s3_result *results)
{
    if (!s3 || (n && (!puts || !results)))
        return IG_ERR_INVALID_ARG;
    if (!n)
        return IG_OK;
    ig_put_job *jobs = calloc(n, sizeof *jobs);
    ig_http_request *reqs = calloc(n, sizeof *reqs);
    ig_http_response *resps = calloc(n, sizeof *resps);
    size_t *idx = calloc(n, sizeof *idx);
    if (!jobs || !reqs || !resps || !idx) {
        free(jobs), free(reqs), free(resps), free(idx);
        for (size_t i = 0; i < n; i++) {
            memset(&results[i], 0, sizeof results[i]);
            results[i].err = IG_ERR_NOMEM;
        }
        return IG_ERR_NOMEM;
    }
    double t0 = ig_mono_s();
    for (size_t i = 0; i < n; i++) {
        memset(&results[i], 0, sizeof results[i]);
        jobs[i].put = &puts[i];
        jobs[i].res = &results[i];
        ig_aws_signed_init(&jobs[i].signed_req);
        ig_http_response_init(&resps[i]);
        job_prepare(s3, &jobs[i]);
    }
    for (;;) {
        int64_t wake = next_wake(jobs, n);
        if (wake == INT64_MAX)
            break;
        int64_t now = ig_mono_ms();
        if (wake > now)
            ig_sleep_ms(wake - now);
        put_round(s3, jobs, n, deadline_ms, reqs, resps, idx);
    }
    double took = ig_mono_s() - t0;
    ig_err first = IG_OK;
    for (size_t i = 0; i < n; i++) {
        results[i].seconds = took;
        if (first == IG_OK && results[i].err != IG_OK)
            first = results[i].err;
        job_free(&jobs[i]);
        ig_http_response_free(&resps[i]);
    }
    free(jobs), free(reqs), free(resps), free(idx);
    return first;
}

/* ---- HeadObject ------------------------------------------------------------------------ */

void ig_s3_head_result_init(ig_s3_head_result *r)
{
    memset(r, 0, sizeof *r);
    ig_header_list_init(&r->metadata);
}

void ig_s3_head_result_free(ig_s3_head_result *r)
{
    ig_header_list_free(&r->metadata);
}

static ig_err head_fill(const ig_http_response *r, ig_s3_head_result *out)
{
    const char *cl = ig_header_list_get(&r->headers, "content-length");
    out->content_length = cl ? strtoull(cl, NULL, 10) : 0;
    copy_hdr(&r->headers, "content-type", out->content_type, sizeof out->content_type);
    copy_hdr(&r->headers, "etag", out->etag, sizeof out->etag);
    for (size_t i = 0; i < r->headers.len; i++) {
        const ig_header *h = &r->headers.items[i];
        if (strncmp(h->name, "x-amz-meta-", 11) != 0 || !h->name[11])
            continue;
        ig_buf v;
        ig_buf_init(&v, 0);
        ig_err e = ig_s3_meta_decode(h->value, &v);
        if (!e)
            e = ig_header_list_add(&out->metadata, h->name + 11, strlen(h->name + 11), ig_buf_cstr(&v), v.len);
        ig_buf_free(&v);
        if (e)
            return e;
    }
    return IG_OK;
}

ig_err ig_s3_head_object(ig_s3 *s3, const char *key, int64_t deadline_ms, ig_s3_head_result *out)
{
    ig_header_list_clear(&out->metadata);
    ig_header_list md = out->metadata;
    memset(out, 0, sizeof *out);
    out->metadata = md;
    ig_error err;
    ig_error_clear(&err);
    if (!s3 || !ig_s3_key_valid(key, &err)) {
        out->err = s3 ? IG_ERR_BAD_KEY : IG_ERR_INVALID_ARG;
        ig_aws_copy_str(out->message, sizeof out->message, s3 ? err.message : "no S3 client");
        return out->err;
    }
    ig_buf path, url;
    ig_buf_init(&path, 0);
    ig_buf_init(&url, 0);
    ig_http_response resp;
    ig_http_response_init(&resp);
    ig_aws_signed sreq;
    ig_aws_signed_init(&sreq);
    const ig_header base[] = {{"Host", s3->ep.host}};
    ig_retry_class last_retry = IG_RETRY_NONE;
    if (s3_target(s3, key, &path, &url) != IG_OK) {
        out->err = IG_ERR_NOMEM;
        goto done;
    }
    for (;;) {
        ig_error_clear(&err);
        if (ig_aws_sign(s3->ctx, &ig_s3_service, "HEAD", ig_buf_cstr(&path), base, 1, NULL, 0, NULL, &sreq, &err) !=
            IG_OK) {
            out->err = err.code;
            ig_aws_copy_str(out->message, sizeof out->message, err.message);
            break;
        }
        ig_http_request req = {.method = "HEAD",
                               .url = ig_buf_cstr(&url),
                               .headers = sreq.headers,
                               .n_headers = sreq.n_headers,
                               .deadline_ms = deadline_ms,
                               .max_response_bytes = IG_S3_RESPONSE_MAX};
        out->attempts++;
        ig_http_perform(s3->ctx->http, &req, &resp);
        ig_s3_outcome o;
        ig_retry_class cls = s3_judge(&resp, &o);
        out->err = o.err;
        out->status = o.status;
        ig_aws_copy_str(out->code, sizeof out->code, o.code);
        ig_aws_copy_str(out->message, sizeof out->message, o.message);
        ig_aws_copy_str(out->request_id, sizeof out->request_id, o.request_id);
        if (o.err == IG_OK) {
            ig_retry_success(&s3->ctx->retry, last_retry);
            out->err = head_fill(&resp, out);
            break;
        }
        int64_t delay = 0;
        ig_retry_verdict v = ig_retry_next(&s3->ctx->retry, cls, out->attempts, o.hint_ms, deadline_ms, &delay);
        if (v != IG_RETRY_GO) {
            out->err = final_err(out->err, v);
            out->stop_reason = ig_retry_verdict_name(v);
            break;
        }
        s3_log_retry("HeadObject", key, out->attempts, &o, cls, delay);
        last_retry = cls;
        ig_sleep_ms(delay);
    }
done:
    ig_aws_signed_free(&sreq);
    ig_http_response_free(&resp);
    ig_buf_free(&path);
    ig_buf_free(&url);
    return out->err;
}

/* ---- GetObject ------------------------------------------------------------------------- */

/* Hands src's bytes to dst (whose cap stays), leaving src empty. */
static void buf_take(ig_buf *dst, ig_buf *src)
{
    size_t max = dst->max;
    ig_buf_free(dst);
    *dst = *src;
    dst->max = max;
    src->data = NULL;
    src->len = src->cap = 0;
}

static ig_err get_refuse_size(ig_s3_get_result *out, const char *key, size_t max_bytes, const char *length)
{
    out->err = IG_ERR_TOO_LARGE;
    out->stop_reason = "not retryable";
    if (length && *length)
        snprintf(out->message, sizeof out->message, "the object \"%.80s\" is %.20s bytes, over the limit of %zu bytes",
                 key, length, max_bytes);
    else
        snprintf(out->message, sizeof out->message, "the object \"%.80s\" is over the limit of %zu bytes", key,
                 max_bytes);
    return out->err;
}

/* A 2xx answer: the object, unless its size is over the cap. */
static ig_err get_fill(ig_http_response *r, const char *key, size_t max_bytes, ig_s3_get_result *out, ig_buf *body)
{
    const char *length = ig_header_list_get(&r->headers, "content-length");
    if (r->body.len > max_bytes || (length && strtoull(length, NULL, 10) > max_bytes)) {
        char got[24];
        snprintf(got, sizeof got, "%zu", r->body.len);
        return get_refuse_size(out, key, max_bytes, length ? length : got);
    }
    out->content_length = r->body.len;
    copy_hdr(&r->headers, "content-type", out->content_type, sizeof out->content_type);
    copy_hdr(&r->headers, "etag", out->etag, sizeof out->etag);
    buf_take(body, &r->body);
    return IG_OK;
}

static ig_err get_check(ig_s3 *s3, const char *key, size_t max_bytes, ig_s3_get_result *out, ig_buf *body)
{
    ig_error err;
    ig_error_clear(&err);
    if (!s3 || !body || !max_bytes) {
        out->err = IG_ERR_INVALID_ARG;
        ig_aws_copy_str(out->message, sizeof out->message,
                        !s3     ? "no S3 client"
                        : !body ? "no buffer for the object"
                                : "the size cap must be at least 1 byte");
    } else if (!ig_s3_key_valid(key, &err)) {
        out->err = IG_ERR_BAD_KEY;
        ig_aws_copy_str(out->message, sizeof out->message, err.message);
    }
    if (out->err)
        out->stop_reason = "not retryable";
    return out->err;
}

ig_err ig_s3_get_object(ig_s3 *s3, const char *key, size_t max_bytes, int64_t deadline_ms, ig_s3_get_result *out,
                        ig_buf *body)
{
    memset(out, 0, sizeof *out);
    if (body)
        ig_buf_reset(body);
    if (get_check(s3, key, max_bytes, out, body) != IG_OK)
        return out->err;
    ig_buf path, url;
    ig_buf_init(&path, 0);
    ig_buf_init(&url, 0);
    ig_http_response resp;
    ig_http_response_init(&resp);
    ig_aws_signed sreq;
    ig_aws_signed_init(&sreq);
    const ig_header base[] = {{"Host", s3->ep.host}};
    ig_retry_class last_retry = IG_RETRY_NONE;
    ig_error err;
    if (s3_target(s3, key, &path, &url) != IG_OK) {
        out->err = IG_ERR_NOMEM;
        goto done;
    }
    for (;;) {
        ig_error_clear(&err);
        if (ig_aws_sign(s3->ctx, &ig_s3_service, "GET", ig_buf_cstr(&path), base, 1, NULL, 0, NULL, &sreq, &err) !=
            IG_OK) {
            out->err = err.code;
            ig_aws_copy_str(out->message, sizeof out->message, err.message);
            break;
        }
        ig_http_request req = {.method = "GET",
                               .url = ig_buf_cstr(&url),
                               .headers = sreq.headers,
                               .n_headers = sreq.n_headers,
                               .deadline_ms = deadline_ms,
                               .max_response_bytes = max_bytes > IG_S3_GET_MIN_READ ? max_bytes : IG_S3_GET_MIN_READ};
        out->attempts++;
        ig_http_perform(s3->ctx->http, &req, &resp);
        if (resp.err == IG_ERR_TOO_LARGE) { /* the announced length, or the bytes read, passed the cap */
            get_refuse_size(out, key, max_bytes, ig_header_list_get(&resp.headers, "content-length"));
            break;
        }
        ig_s3_outcome o;
        ig_retry_class cls = s3_judge(&resp, &o);
        out->err = o.err;
        out->status = o.status;
        ig_aws_copy_str(out->code, sizeof out->code, o.code);
        ig_aws_copy_str(out->message, sizeof out->message, o.message);
        ig_aws_copy_str(out->request_id, sizeof out->request_id, o.request_id);
        if (o.err == IG_OK) {
            ig_retry_success(&s3->ctx->retry, last_retry);
            get_fill(&resp, key, max_bytes, out, body);
            break;
        }
        int64_t delay = 0;
        ig_retry_verdict v = ig_retry_next(&s3->ctx->retry, cls, out->attempts, o.hint_ms, deadline_ms, &delay);
        if (v != IG_RETRY_GO) {
            out->err = final_err(out->err, v);
            out->stop_reason = ig_retry_verdict_name(v);
            break;
        }
        s3_log_retry("GetObject", key, out->attempts, &o, cls, delay);
        last_retry = cls;
        ig_sleep_ms(delay);
    }
done:
    ig_aws_signed_free(&sreq);
    ig_http_response_free(&resp);
    ig_buf_free(&path);
    ig_buf_free(&url);
    return out->err;
}

/* ---- presigned GET --------------------------------------------------------------------- */

/* A download's name: 1 to 128 of [A-Za-z0-9._-], not starting with a dot. */
static int attachment_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n < 1 || n > 128 || name[0] == '.')
        return 0;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '.' ||
              *c == '_' || *c == '-'))
            return 0;
    return 1;
}

ig_err ig_s3_presign_get(ig_s3 *s3, const char *key, int64_t expires_s, int64_t now_s, ig_buf *url_out,
                         ig_error *err)
{
    return ig_s3_presign_download(s3, key, NULL, expires_s, now_s, url_out, err);
}

ig_err ig_s3_presign_download(ig_s3 *s3, const char *key, const char *attachment, int64_t expires_s, int64_t now_s,
                              ig_buf *url_out, ig_error *err)
{
    if (!s3 || !url_out)
        return ig_error_set(err, IG_ERR_INVALID_ARG, "no S3 client or output buffer");
    if (attachment && !attachment_name_valid(attachment))
        return ig_error_set(err, IG_ERR_INVALID_ARG, "a download's file name is 1 to 128 of A-Z a-z 0-9 . _ -");
    if (!ig_s3_key_valid(key, err))
        return IG_ERR_BAD_KEY;
    if (expires_s < 1 || expires_s > IG_S3_MAX_PRESIGN_S)
        return ig_error_set(err, IG_ERR_INVALID_ARG,
                            "a presigned URL lives 1 to 604800 seconds (7 days); %lld was asked",
                            (long long)expires_s);
    if (now_s <= 0)
        now_s = ig_now_ms() / 1000;
    ig_buf path;
    ig_buf_init(&path, 0);
    ig_sigv4_result sig;
    ig_sigv4_result_init(&sig);
    ig_err e = s3_target(s3, key, &path, NULL);
    if (e) {
        ig_buf_free(&path);
        return ig_error_set(err, e, "out of memory");
    }
    /* S3 answers the object with this Content-Disposition (GetObject's response-* overrides,
     * signed with the rest of the query), so a browser saves it under the name */
    ig_buf query;
    ig_buf_init(&query, 0);
    if (attachment) {
        char value[200];
        snprintf(value, sizeof value, "attachment; filename=\"%s\"", attachment);
        if (ig_buf_append_str(&query, "response-content-disposition=") != IG_OK ||
            ig_percent_encode(&query, value, strlen(value), 0) != IG_OK) {
            ig_buf_free(&query);
            ig_buf_free(&path);
            return ig_error_set(err, IG_ERR_NOMEM, "out of memory");
        }
    }
    const ig_header headers[] = {{"Host", s3->ep.host}};
    ig_sigv4_credentials creds = ig_credentials_view(&s3->ctx->creds);
    ig_sigv4_params p = {.region = s3->ctx->region, .service = "s3", .time = now_s, .s3_uri_rules = 1,
                         .expires = expires_s};
    ig_sigv4_request req = {.method = "GET", .path = ig_buf_cstr(&path), .query = attachment ? ig_buf_cstr(&query) : NULL,
                            .headers = headers, .n_headers = 1, .payload_hash = "UNSIGNED-PAYLOAD"};
    e = ig_sigv4_presign(s3->ctx->signer, &creds, &p, &req, &sig, err);
    ig_buf_free(&query);
    if (!e && ig_buf_appendf(url_out, "%s://%s%s?%s", s3->ep.scheme, s3->ep.host, ig_buf_cstr(&path),
                             ig_buf_cstr(&sig.presigned_query)) != IG_OK)
        e = ig_error_set(err, IG_ERR_NOMEM, "out of memory");
    ig_sigv4_result_free(&sig);
    ig_buf_free(&path);
    return e;
}

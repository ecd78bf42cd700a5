/* s3_post.c - presigned POST: the signed policy and form fields with which a browser (or curl -F)
 * uploads one object straight to the bucket, without credentials of its own.
 *
 * The policy pins everything the upload may choose: the bucket, the exact key, the exact
 * Content-Type, the size (1 .. max bytes) and the signing fields themselves; S3 refuses a form
 * that breaks any of them. It is written as botocore's generate_presigned_post writes it (same
 * conditions, same order, same JSON spacing), so that botocore can serve as the oracle, except
 * that the expiration carries milliseconds as in AWS's own examples. The signature is the SigV4
 * signing key's HMAC of the base64 policy (aws/sigv4.h, ig_sigv4_sign_policy).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/s3.h"
#include "aws/s3_internal.h"
#include "codec/base64.h"
#include "core/clock.h"

#define IG_S3_POST_TYPE_MAX 255
#define IG_S3_POST_ALGORITHM "AWS4-HMAC-SHA256"

/* "2025-11-29T15:03:20.000Z"; -1 outside the years 1970..9999. */
static int iso8601_ms(int64_t epoch_s, char out[32])
{
    char d[17]; /* "20251129T150320Z" */
    if (ig_sigv4_format_date(epoch_s, d) != 0)
        return -1;
    snprintf(out, 32, "%.4s-%.2s-%.2sT%.2s:%.2s:%.2s.000Z", d, d + 4, d + 6, d + 9, d + 11, d + 13);
    return 0;
}

static ig_err post_check(const ig_s3 *s3, const ig_s3_post_request *req, json_t **out, ig_error *err)
{
    if (!s3 || !req || !out)
        return ig_error_set(err, IG_ERR_INVALID_ARG, "no S3 client, request or output");
    if (!ig_s3_key_valid(req->key, err))
        return IG_ERR_BAD_KEY;
    const char *t = req->content_type;
    size_t n = t ? strlen(t) : 0;
    if (!n || n > IG_S3_POST_TYPE_MAX)
        return ig_error_set(err, IG_ERR_INVALID_ARG, "the content type must be 1 to %d bytes; it is %zu",
                            IG_S3_POST_TYPE_MAX, n);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)t[i] < 0x20 || (unsigned char)t[i] > 0x7e)
            return ig_error_set(err, IG_ERR_INVALID_ARG,
                                "the content type has a byte outside printable ASCII (0x%02x) at byte %zu",
                                (unsigned char)t[i], i);
    if (req->max_bytes < 1 || req->max_bytes > IG_S3_PUT_MAX)
        return ig_error_set(err, IG_ERR_TOO_LARGE,
                            "an upload may be 1 byte to 5 GiB (S3's limit for one POST); %" PRIu64 " bytes was asked",
                            req->max_bytes);
    if (req->expires_s < 1 || req->expires_s > IG_S3_MAX_PRESIGN_S)
        return ig_error_set(err, IG_ERR_INVALID_ARG,
                            "an upload policy lives 1 to 604800 seconds (7 days); %lld was asked",
                            (long long)req->expires_s);
    return IG_OK;
}

/* {"name": "value"} */
static json_t *exact(const char *name, const char *value)
{
    return json_pack("{s:s}", name, value);
}

/* The policy's conditions, in botocore's order: the caller's (Content-Type, size), then bucket
 * and key, then the signing fields. */
static json_t *post_conditions(const ig_s3 *s3, const ig_s3_post_request *req, const char *credential,
                               const char *amz_date, const char *token)
{
    json_t *c = json_array();
    json_t *range = json_pack("[s, I, I]", "content-length-range", (json_int_t)1, (json_int_t)req->max_bytes);
    int bad = !c || json_array_append_new(c, exact("Content-Type", req->content_type)) ||
              json_array_append_new(c, range) || json_array_append_new(c, exact("bucket", s3->bucket)) ||
              json_array_append_new(c, exact("key", req->key)) ||
              json_array_append_new(c, exact("x-amz-algorithm", IG_S3_POST_ALGORITHM)) ||
              json_array_append_new(c, exact("x-amz-credential", credential)) ||
              json_array_append_new(c, exact("x-amz-date", amz_date)) ||
              (token && json_array_append_new(c, exact("x-amz-security-token", token)));
    if (bad) {
        json_decref(c);
        return NULL;
    }
    return c;
}

/* The URL a form posts to: the bucket itself. */
static ig_err post_url(const ig_s3 *s3, ig_buf *url)
{
    if (s3->path_style)
        return ig_buf_appendf(url, "%s://%s%s/%s", s3->ep.scheme, s3->ep.host, s3->ep.base_path, s3->bucket);
    return ig_buf_appendf(url, "%s://%s%s/", s3->ep.scheme, s3->ep.host, s3->ep.base_path);
}

ig_err ig_s3_origin(const ig_s3 *s3, ig_buf *out)
{
    return ig_buf_appendf(out, "%s://%s", s3->ep.scheme, s3->ep.host);
}

/* Lower-cases the hex digits of jansson's \\uXXXX escapes, which Python's json.dumps writes in
 * lower case: the same policy then has the same bytes as botocore's. */
static void lower_escapes(char *json)
{
    for (char *c = json; *c; c++) {
        if (*c != '\\')
            continue;
        if (c[1] == 'u')
            for (int i = 2; i < 6 && c[i]; i++)
                c[i] = (char)(c[i] >= 'A' && c[i] <= 'F' ? c[i] - 'A' + 'a' : c[i]);
        if (c[1])
            c++; /* the escaped character is not the start of another escape */
    }
}

/* The form's fields, in the order a form sends them (every one before the file). */
static json_t *post_fields(const ig_s3_post_request *req, const char *credential, const char *amz_date,
                           const char *token, const char *policy_b64, const char *signature)
{
    json_t *f = json_pack("{s:s, s:s, s:s, s:s, s:s}", "key", req->key, "Content-Type", req->content_type,
                          "x-amz-algorithm", IG_S3_POST_ALGORITHM, "x-amz-credential", credential, "x-amz-date",
                          amz_date);
    if (f && ((token && json_object_set_new(f, "x-amz-security-token", json_string(token))) ||
              json_object_set_new(f, "policy", json_string(policy_b64)) ||
              json_object_set_new(f, "x-amz-signature", json_string(signature)))) {
        json_decref(f);
        return NULL;
    }
    return f;
}

/* Everything after the checks: policy, signature, answer. */
static ig_err post_sign(ig_s3 *s3, const ig_s3_post_request *req, int64_t now_s, json_t **out, ig_error *err)
{
    ig_sigv4_credentials creds = ig_credentials_view(&s3->ctx->creds);
    const char *token = creds.session_token && *creds.session_token ? creds.session_token : NULL;
    char amz_date[17], expiration[32], signature[65];
    if (ig_sigv4_format_date(now_s, amz_date) != 0 || iso8601_ms(now_s + req->expires_s, expiration) != 0)
        return ig_error_set(err, IG_ERR_INVALID_ARG, "the signing time %lld is outside 1970..9999",
                            (long long)now_s);
    ig_buf credential, b64, url;
    ig_buf_init(&credential, 0);
    ig_buf_init(&b64, 0);
    ig_buf_init(&url, 0);
    char *text = NULL;
    json_t *policy = NULL, *fields = NULL;
    ig_err e = ig_buf_appendf(&credential, "%s/%.8s/%s/s3/aws4_request",
                              creds.access_key_id ? creds.access_key_id : "", amz_date, s3->ctx->region);
    json_t *conditions = e ? NULL : post_conditions(s3, req, ig_buf_cstr(&credential), amz_date, token);
    if (conditions)
        policy = json_pack("{s:s, s:o}", "expiration", expiration, "conditions", conditions);
    if (policy)
        text = json_dumps(policy, JSON_ENSURE_ASCII); /* ", " and ": " as Python's json.dumps */
    if (text)
        lower_escapes(text);
    if (!text || ig_base64_encode_buf(text, strlen(text), &b64) != IG_OK || post_url(s3, &url) != IG_OK) {
        e = ig_error_set(err, IG_ERR_NOMEM, "out of memory");
        goto done;
    }
    e = ig_sigv4_sign_policy(s3->ctx->signer, &creds, s3->ctx->region, "s3", now_s, b64.data, b64.len, signature,
                             err);
    if (e)
        goto done;
    fields = post_fields(req, ig_buf_cstr(&credential), amz_date, token, b64.data, signature);
    *out = fields ? json_pack("{s:s, s:o, s:s, s:s}", "url", ig_buf_cstr(&url), "fields", fields, "key", req->key,
                              "expires_at", expiration)
                  : NULL;
    if (!*out)
        e = ig_error_set(err, IG_ERR_NOMEM, "out of memory");
done:
    free(text);
    json_decref(policy);
    ig_buf_free(&credential);
    ig_buf_free(&b64);
    ig_buf_free(&url);
    return e;
}

ig_err ig_s3_presign_post(ig_s3 *s3, const ig_s3_post_request *req, int64_t now_s, json_t **out, ig_error *err)
{
    if (out)
        *out = NULL;
    ig_err e = post_check(s3, req, out, err);
    if (e)
        return e;
    return post_sign(s3, req, now_s > 0 ? now_s : ig_now_ms() / 1000, out, err);
}

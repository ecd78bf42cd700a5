/* auth.h - who may reach the local S3: the signature checks Amazon S3 makes, before s3rver.
 *
 * s3rver checks no presigned URL (a zeroed signature, another key, another expiry all pass), so
 * the local stack could not show what a URL allows. Every request is checked here first:
 *
 *   - an Authorization header: ig_sigv4_verify (service "s3", S3's canonical URI), the verifier
 *     that bedrock-local uses and integration.test_sigv4_botocore holds to botocore;
 *   - X-Amz-* query parameters (a presigned URL): its parameters, its scope and its lifetime,
 *     then its signature, computed again with the runtime's presigner (ig_sigv4_presign, held to
 *     botocore by the same test) over the request as received and compared in constant time;
 *   - neither: an anonymous request, refused (the bucket is private);
 *   - a browser upload (POST of a form to the bucket): its policy and signature, in post.h.
 *
 * A refusal is S3's: its status, its error code and message ("SignatureDoesNotMatch", "AccessDenied"
 * / "Request has expired", ...) and the extra elements its XML carries.
 */
#ifndef S3V_AUTH_H
#define S3V_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "aws/sigv4.h"
#include "core/headers.h"

/* A request as received: path and query still percent-encoded, every header. */
typedef struct {
    const char *method;
    const char *path;
    const char *query; /* without '?'; "" for none */
    const ig_header *headers;
    size_t n_headers;
    const char *body;
    size_t body_len;
} s3v_request;

typedef enum { S3V_AUTH_NONE, S3V_AUTH_HEADER, S3V_AUTH_QUERY, S3V_AUTH_POST } s3v_auth_kind;

#define S3V_EXTRA_MAX 4

/* The outcome of the checks: status 0 lets the request through. */
typedef struct {
    s3v_auth_kind kind;
    int status;
    const char *code; /* S3's error code, static */
    char message[512];
    struct {
        const char *name; /* an element of S3's error XML, static */
        char value[192];
    } extra[S3V_EXTRA_MAX];
    size_t n_extra;
} s3v_verdict;

/* What the checks know: the one key pair, the bucket's region, the clock skew S3 allows. */
typedef struct {
    ig_sigv4_credentials known;
    const char *region;
    int64_t max_skew_s;
} s3v_auth;

/* Checks req at the time now (epoch seconds) and fills out. */
void s3v_check(const s3v_auth *a, const s3v_request *req, int64_t now, s3v_verdict *out);

/* "header", "query", "post" or "none", for logs. */
const char *s3v_auth_kind_name(s3v_auth_kind kind);

/* The pieces post.c shares. */
/* Fills v with a refusal: status, S3's code (static) and message. */
void s3v_refuse(s3v_verdict *v, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Adds an element to the refusal's XML (at most S3V_EXTRA_MAX). */
void s3v_add_extra(s3v_verdict *v, const char *name, const char *value);
/* A credential "<key id>/<yyyymmdd>/<region>/s3/aws4_request" for this key pair and region, its date
 * amz_date's: 1, else 0 and v refused with S3's sentence (status 400 and code, or 403
 * InvalidAccessKeyId). */
int s3v_check_scope(const s3v_auth *a, const char *credential, const char *amz_date, const char *code, s3v_verdict *v);
/* The token sent (NULL: none) is the key pair's (NULL or "": none), in constant time. */
int s3v_token_matches(const char *known, const char *sent);

#endif

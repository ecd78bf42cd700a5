/* auth.c - S3's authentication of a request: header signatures, presigned URLs, anonymous. */
#include "auth.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codec/hash.h"
#include "codec/percent.h"
#include "core/buf.h"

#define S3V_MAX_EXPIRES 604800 /* a week, S3's limit for X-Amz-Expires */
#define S3V_MISMATCH                                                                                   \
    "The request signature we calculated does not match the signature you provided. Check your key " \
    "and signing method."
#define S3V_QUERY_PARAMS_MISSING                                                                        \
    "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "         \
    "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."

const char *s3v_auth_kind_name(s3v_auth_kind kind)
{
    return kind == S3V_AUTH_HEADER  ? "header"
           : kind == S3V_AUTH_QUERY ? "query"
           : kind == S3V_AUTH_POST  ? "post"
                                    : "none";
}

void s3v_refuse(s3v_verdict *v, int status, const char *code, const char *fmt, ...)
{
    v->status = status;
    v->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->message, sizeof v->message, fmt, ap);
    va_end(ap);
}

void s3v_add_extra(s3v_verdict *v, const char *name, const char *value)
{
    if (v->n_extra == S3V_EXTRA_MAX)
        return;
    v->extra[v->n_extra].name = name;
    snprintf(v->extra[v->n_extra].value, sizeof v->extra[v->n_extra].value, "%s", value);
    v->n_extra++;
}

/* ---- presigned URLs ---- */

/* The authentication parameters of a presigned URL, decoded, and the request's own. */
typedef struct {
    char *algorithm, *credential, *date, *expires, *signed_headers, *signature, *token;
    int repeated;  /* an authentication parameter was given twice */
    ig_buf own;    /* every other parameter, as sent, joined by '&' */
} presigned;

static const struct {
    const char *name;
    size_t offset;
} presigned_params[] = {
    {"X-Amz-Algorithm", offsetof(presigned, algorithm)},
    {"X-Amz-Credential", offsetof(presigned, credential)},
    {"X-Amz-Date", offsetof(presigned, date)},
    {"X-Amz-Expires", offsetof(presigned, expires)},
    {"X-Amz-SignedHeaders", offsetof(presigned, signed_headers)},
    {"X-Amz-Signature", offsetof(presigned, signature)},
    {"X-Amz-Security-Token", offsetof(presigned, token)},
};

#define N_PRESIGNED_PARAMS (sizeof presigned_params / sizeof presigned_params[0])

/* A decoded copy of s[0..len) (caller frees); NULL when out of memory or not decodable. */
static char *decoded(const char *s, size_t len)
{
    ig_buf b;
    ig_buf_init(&b, 0);
    if (ig_percent_decode(&b, s, len) != IG_OK || ig_buf_append_char(&b, '\0') != IG_OK) {
        ig_buf_free(&b);
        return NULL;
    }
    return ig_buf_steal(&b, NULL);
}

/* One "name[=value]" of the query: an authentication parameter, or one of the request's own. */
static void presigned_take(presigned *p, const char *item, size_t len)
{
    const char *eq = memchr(item, '=', len);
    size_t name_len = eq ? (size_t)(eq - item) : len;
    char *name = decoded(item, name_len);
    for (size_t i = 0; name && i < N_PRESIGNED_PARAMS; i++) {
        if (strcmp(name, presigned_params[i].name) != 0)
            continue;
        char **field = (char **)((char *)p + presigned_params[i].offset);
        if (*field)
            p->repeated = 1;
        else
            *field = eq ? decoded(eq + 1, len - name_len - 1) : strdup("");
        free(name);
        return;
    }
    free(name);
    if (p->own.len)
        ig_buf_append_char(&p->own, '&');
    ig_buf_append(&p->own, item, len);
}

static void presigned_parse(presigned *p, const char *query)
{
    memset(p, 0, sizeof *p);
    ig_buf_init(&p->own, 0);
    for (const char *q = query; q && *q;) {
        size_t len = strcspn(q, "&");
        if (len)
            presigned_take(p, q, len);
        q += len + (q[len] == '&');
    }
}

static void presigned_free(presigned *p)
{
    for (size_t i = 0; i < N_PRESIGNED_PARAMS; i++)
        free(*(char **)((char *)p + presigned_params[i].offset));
    ig_buf_free(&p->own);
}

static int presigned_present(const presigned *p)
{
    return p->algorithm || p->credential || p->signature || p->date || p->expires || p->signed_headers;
}

/* The parameters' own form: all there, the algorithm, the date, the lifetime. 1 when fine. */
static int presigned_form(const presigned *p, int64_t *signed_at, int64_t *expires, s3v_verdict *v)
{
    if (p->repeated || !p->algorithm || !p->credential || !p->signature || !p->date || !p->expires ||
        !p->signed_headers) {
        s3v_refuse(v, 400, "AuthorizationQueryParametersError", S3V_QUERY_PARAMS_MISSING);
        return 0;
    }
    if (strcmp(p->algorithm, "AWS4-HMAC-SHA256") != 0) {
        s3v_refuse(v, 400, "AuthorizationQueryParametersError", "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"");
        return 0;
    }
    if (ig_sigv4_parse_date(p->date, signed_at) != 0) {
        s3v_refuse(v, 400, "AuthorizationQueryParametersError",
                   "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
        return 0;
    }
    char *end = NULL;
    long long n = p->expires[0] >= '0' && p->expires[0] <= '9' ? strtoll(p->expires, &end, 10) : -1;
    if (n < 0 || !end || *end) {
        s3v_refuse(v, 400, "AuthorizationQueryParametersError", "X-Amz-Expires should be a number");
        return 0;
    }
    if (n > S3V_MAX_EXPIRES) {
        s3v_refuse(v, 400, "AuthorizationQueryParametersError",
                   "X-Amz-Expires must be less than a week (in seconds) that is, the given X-Amz-Expires must be "
                   "less than 604800 seconds");
        return 0;
    }
    *expires = n;
    return 1;
}

/* X-Amz-Credential: <key id>/<date>/<region>/s3/aws4_request, for this key, region and date. */
static int credential_parts(const char *credential, char scope[5][128])
{
    size_t n = 0;
    for (const char *c = credential;; n++) {
        size_t len = strcspn(c, "/");
        if (n == 5 || len == 0 || len >= 128)
            return 0;
        memcpy(scope[n], c, len);
        scope[n][len] = '\0';
        if (!c[len])
            return n == 4;
        c += len + 1;
    }
}

int s3v_check_scope(const s3v_auth *a, const char *credential, const char *amz_date, const char *code, s3v_verdict *v)
{
    char scope[5][128];
    if (!credential_parts(credential, scope)) {
        s3v_refuse(v, 400, code,
                   "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting "
                   "\"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".");
        return 0;
    }
    if (strcmp(scope[2], a->region) != 0) {
        s3v_refuse(v, 400, code,
                   "Error parsing the X-Amz-Credential parameter; the region '%s' is wrong; expecting '%s'", scope[2],
                   a->region);
        s3v_add_extra(v, "Region", a->region);
        return 0;
    }
    if (strcmp(scope[3], "s3") != 0) {
        s3v_refuse(v, 400, code,
                   "Error parsing the X-Amz-Credential parameter; incorrect service \"%s\". This endpoint belongs to "
                   "\"s3\".",
                   scope[3]);
        return 0;
    }
    if (strcmp(scope[4], "aws4_request") != 0) {
        s3v_refuse(v, 400, code,
                   "Error parsing the X-Amz-Credential parameter; incorrect terminal \"%s\". This endpoint uses "
                   "\"aws4_request\".",
                   scope[4]);
        return 0;
    }
    if (strlen(scope[1]) != 8 || strncmp(scope[1], amz_date, 8) != 0) {
        s3v_refuse(v, 400, code,
                   "Error parsing the X-Amz-Credential parameter; incorrect date \"%s\". This date in the credential "
                   "must be in the format \"yyyyMMdd\" and match X-Amz-Date.",
                   scope[1]);
        return 0;
    }
    const char *id = a->known.access_key_id;
    if (strlen(scope[0]) != strlen(id) || !ig_ct_equal(scope[0], id, strlen(id))) {
        s3v_refuse(v, 403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");
        s3v_add_extra(v, "AWSAccessKeyId", scope[0]);
        return 0;
    }
    return 1;
}

/* A session token is part of the URL exactly when the key pair has one, and it is that one. */
int s3v_token_matches(const char *known, const char *sent)
{
    int has_known = known && *known;
    if (!has_known || !sent)
        return !has_known && !sent;
    return strlen(known) == strlen(sent) && ig_ct_equal(known, sent, strlen(sent));
}

/* The URL's lifetime: from X-Amz-Date (less the clock skew S3 allows) to X-Amz-Date + X-Amz-Expires. */
static int presigned_time(const s3v_auth *a, const presigned *p, int64_t signed_at, int64_t expires, int64_t now,
                          s3v_verdict *v)
{
    char server_time[32], until[32];
    int64_t end = signed_at + expires;
    if (now <= end && signed_at - now <= a->max_skew_s)
        return 1;
    char stamp[17];
    ig_sigv4_format_date(now, stamp);
    snprintf(server_time, sizeof server_time, "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", stamp, stamp + 4, stamp + 6,
             stamp + 9, stamp + 11, stamp + 13);
    if (now > end) {
        ig_sigv4_format_date(end, stamp);
        snprintf(until, sizeof until, "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", stamp, stamp + 4, stamp + 6, stamp + 9,
                 stamp + 11, stamp + 13);
        s3v_refuse(v, 403, "AccessDenied", "Request has expired");
        s3v_add_extra(v, "X-Amz-Expires", p->expires);
        s3v_add_extra(v, "Expires", until);
    } else {
        s3v_refuse(v, 403, "AccessDenied", "Request is not valid yet");
        s3v_add_extra(v, "X-Amz-Date", p->date);
    }
    s3v_add_extra(v, "ServerTime", server_time);
    return 0;
}

/* The headers the URL names in X-Amz-SignedHeaders, as received; host must be one. 0 when one
 * is missing. */
static size_t signed_headers(const s3v_request *req, const char *list, ig_header *out, size_t max, int *ok)
{
    size_t n = 0;
    int host = 0;
    *ok = 1;
    for (const char *c = list; *c && *ok;) {
        size_t len = strcspn(c, ";");
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(len < 127 ? len : 127), c);
        host |= strcmp(name, "host") == 0;
        int found = 0;
        for (size_t i = 0; i < req->n_headers && n < max; i++)
            if (strcasecmp(req->headers[i].name, name) == 0) {
                out[n++] = req->headers[i];
                found = 1;
            }
        *ok = found && len < 127;
        c += len + (c[len] == ';');
    }
    *ok = *ok && host;
    return n;
}

/* Signs the request again as the URL says it was signed, and compares. */
static void presigned_signature(const s3v_auth *a, const s3v_request *req, const presigned *p, int64_t signed_at,
                                int64_t expires, s3v_verdict *v)
{
    ig_header headers[32];
    int ok = 0;
    size_t n = signed_headers(req, p->signed_headers, headers, 32, &ok);
    ig_sigv4_result r;
    ig_sigv4_result_init(&r);
    if (ok) {
        ig_sigv4_params params = {a->region, "s3", signed_at, 1, 0, 0, expires};
        ig_sigv4_request again = {req->method, req->path, ig_buf_cstr(&p->own), headers, n, NULL, 0,
                                  "UNSIGNED-PAYLOAD"};
        ig_error err;
        ok = ig_sigv4_presign(NULL, &a->known, &params, &again, &r, &err) == IG_OK &&
             strlen(p->signature) == 64 && ig_ct_equal(r.signature, p->signature, 64);
    }
    ig_sigv4_result_free(&r);
    if (ok)
        return;
    s3v_refuse(v, 403, "SignatureDoesNotMatch", S3V_MISMATCH);
    s3v_add_extra(v, "AWSAccessKeyId", a->known.access_key_id);
    s3v_add_extra(v, "SignatureProvided", p->signature);
}

static void check_presigned(const s3v_auth *a, const s3v_request *req, presigned *p, int64_t now, s3v_verdict *v)
{
    int64_t signed_at = 0, expires = 0;
    if (!presigned_form(p, &signed_at, &expires, v) ||
        !s3v_check_scope(a, p->credential, p->date, "AuthorizationQueryParametersError", v))
        return;
    if (!s3v_token_matches(a->known.session_token, p->token)) {
        s3v_refuse(v, 400, "InvalidToken", "The provided token is malformed or otherwise invalid.");
        return;
    }
    if (!presigned_time(a, p, signed_at, expires, now, v))
        return;
    presigned_signature(a, req, p, signed_at, expires, v);
}

/* ---- the Authorization header ---- */

/* The parts of "AWS4-HMAC-SHA256 Credential=<id>/<date>/<region>/<service>/aws4_request, ...";
 * "" where the header has none. */
static void header_scope(const char *auth, char scope[5][128])
{
    memset(scope, 0, 5 * sizeof scope[0]);
    const char *c = strstr(auth, "Credential=");
    if (!c)
        return;
    c += strlen("Credential=");
    for (int i = 0; i < 5; i++) {
        size_t n = strcspn(c, "/, ");
        snprintf(scope[i], sizeof scope[i], "%.*s", (int)(n < 127 ? n : 127), c);
        if (c[n] != '/')
            return;
        c += n + 1;
    }
}

static void check_header(const s3v_auth *a, const s3v_request *req, const char *auth, int64_t now, s3v_verdict *v)
{
    ig_sigv4_request r = {req->method, req->path, req->query, req->headers, req->n_headers,
                          req->body, req->body_len, NULL};
    ig_error err;
    ig_error_clear(&err);
    ig_err e = ig_sigv4_verify(&a->known, a->region, "s3", 1, &r, now, a->max_skew_s, &err);
    char scope[5][128];
    header_scope(auth, scope);
    if (e == IG_OK)
        return;
    if (e == IG_ERR_CREDENTIALS && strcmp(scope[0], a->known.access_key_id) != 0) {
        s3v_refuse(v, 403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");
        s3v_add_extra(v, "AWSAccessKeyId", scope[0]);
    } else if (e == IG_ERR_CREDENTIALS) {
        s3v_refuse(v, 400, "InvalidToken", "The provided token is malformed or otherwise invalid.");
    } else if (e != IG_ERR_SIGNATURE) {
        s3v_refuse(v, 500, "InternalError", "The signature could not be checked: %s", err.message);
    } else if (strncmp(err.message, "Signature expired", 17) == 0 || strncmp(err.message, "Signature not yet", 17) == 0) {
        s3v_refuse(v, 403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.");
    } else if (strncmp(err.message, "Credential should be scoped to a valid region", 45) == 0) {
        /* As S3 words it, naming the bucket's region so that a client can sign again for it. */
        s3v_refuse(v, 400, "AuthorizationHeaderMalformed",
                   "The authorization header is malformed; the region '%s' is wrong; expecting '%s'", scope[2], a->region);
        s3v_add_extra(v, "Region", a->region);
    } else if (strstr(err.message, "calculated does not match")) {
        s3v_refuse(v, 403, "SignatureDoesNotMatch", S3V_MISMATCH);
        s3v_add_extra(v, "AWSAccessKeyId", a->known.access_key_id);
    } else {
        s3v_refuse(v, 400, "AuthorizationHeaderMalformed", "The authorization header is malformed; %s", err.message);
    }
}

/* ---- the request ---- */

void s3v_check(const s3v_auth *a, const s3v_request *req, int64_t now, s3v_verdict *out)
{
    memset(out, 0, sizeof *out);
    const char *auth = ig_headers_find(req->headers, req->n_headers, "authorization");
    presigned p;
    presigned_parse(&p, req->query);
    if (auth && presigned_present(&p)) {
        out->kind = S3V_AUTH_HEADER;
        s3v_refuse(out, 400, "InvalidArgument",
                   "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query "
                   "string parameter or the Authorization header should be specified");
    } else if (auth) {
        out->kind = S3V_AUTH_HEADER;
        check_header(a, req, auth, now, out);
    } else if (presigned_present(&p)) {
        out->kind = S3V_AUTH_QUERY;
        check_presigned(a, req, &p, now, out);
    } else {
        out->kind = S3V_AUTH_NONE;
        s3v_refuse(out, 403, "AccessDenied", "Access Denied");
    }
    presigned_free(&p);
}

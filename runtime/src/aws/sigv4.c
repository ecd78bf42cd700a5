/* sigv4.c - AWS Signature Version 4: the canonical request, the string to sign, the signing
 * key, and the three ways of using them (Authorization header, presigned query, verification).
 *
 * One set of canonicalization functions serves signing and verification, so the local
 * Bedrock stand-in checks requests by exactly the rules the runtime signs them with; the
 * rules themselves are pinned by AWS's signing test suite and cross-checked against botocore.
 */
#include "aws/sigv4.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "codec/hash.h"
#include "codec/percent.h"

#define IG_SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define IG_SIGV4_TERMINATOR "aws4_request"
#define IG_SIGV4_MISMATCH                                                                          \
    "The request signature we calculated does not match the signature you provided. Check your "  \
    "AWS Secret Access Key and signing method. Consult the service documentation for details."
#define IG_SIGV4_BAD_TOKEN "The security token included in the request is invalid."
#define IG_SIGV4_CACHE_SLOTS 8

/* ---------------------------------------------------------------------------------------- */
/* Signing-key cache                                                                         */
/* ---------------------------------------------------------------------------------------- */

/* A slot is found by a digest of (secret, date, region, service), so the cache never holds
 * the secret itself, only keys that are valid for one day, region and service. */
typedef struct {
    unsigned char id[32];
    unsigned char key[32];
    uint64_t last_used;
    int used;
} ig_sigv4_slot;

struct ig_sigv4_signer {
    pthread_mutex_t lock;
    ig_sigv4_slot slots[IG_SIGV4_CACHE_SLOTS];
    uint64_t tick;
    uint64_t hits;
    uint64_t misses;
};

ig_sigv4_signer *ig_sigv4_signer_new(void)
{
    ig_sigv4_signer *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (pthread_mutex_init(&s->lock, NULL) != 0) {
        free(s);
        return NULL;
    }
    return s;
}

void ig_sigv4_signer_free(ig_sigv4_signer *s)
{
    if (!s)
        return;
    OPENSSL_cleanse(s->slots, sizeof s->slots);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

void ig_sigv4_signer_stats(ig_sigv4_signer *s, uint64_t *hits, uint64_t *misses)
{
    uint64_t h = 0, m = 0;
    if (s) {
        pthread_mutex_lock(&s->lock);
        h = s->hits;
        m = s->misses;
        pthread_mutex_unlock(&s->lock);
    }
    if (hits)
        *hits = h;
    if (misses)
        *misses = m;
}

static void ig_sigv4_derive_key(const char *secret, const char *date, const char *region,
                                const char *service, unsigned char out[32])
{
    size_t slen = strlen(secret);
    unsigned char *k = malloc(slen + 5);
    unsigned char k_date[32], k_region[32], k_service[32];
    if (!k) {
        /* Without memory for "AWS4" + secret the signature cannot be right; a zero key
         * makes that visible as a mismatch instead of a crash. */
        memset(out, 0, 32);
        return;
    }
    memcpy(k, "AWS4", 4);
    memcpy(k + 4, secret, slen);
    ig_hmac_sha256(k, slen + 4, date, strlen(date), k_date);
    ig_hmac_sha256(k_date, 32, region, strlen(region), k_region);
    ig_hmac_sha256(k_region, 32, service, strlen(service), k_service);
    ig_hmac_sha256(k_service, 32, IG_SIGV4_TERMINATOR, strlen(IG_SIGV4_TERMINATOR), out);
    OPENSSL_cleanse(k, slen + 4);
    free(k);
    OPENSSL_cleanse(k_date, sizeof k_date);
    OPENSSL_cleanse(k_region, sizeof k_region);
    OPENSSL_cleanse(k_service, sizeof k_service);
}

/* The cache id: SHA-256 over length-prefixed fields, so ("ab","c") and ("a","bc") differ. */
static void ig_sigv4_cache_id(const char *secret, const char *date, const char *region,
                              const char *service, unsigned char id[32])
{
    ig_buf b;
    ig_buf_init(&b, 0);
    const char *parts[4] = {secret, date, region, service};
    int ok = 1;
    for (int i = 0; i < 4 && ok; i++)
        ok = ig_buf_appendf(&b, "%zu:", strlen(parts[i])) == IG_OK &&
             ig_buf_append_str(&b, parts[i]) == IG_OK;
    if (ok)
        ig_sha256(b.data, b.len, id);
    else
        memset(id, 0, 32);
    if (b.data)
        OPENSSL_cleanse(b.data, b.cap);
    ig_buf_free(&b);
}

static void ig_sigv4_signing_key(ig_sigv4_signer *s, const char *secret, const char *date,
                                 const char *region, const char *service, unsigned char out[32])
{
    if (!s) {
        ig_sigv4_derive_key(secret, date, region, service, out);
        return;
    }
    unsigned char id[32];
    ig_sigv4_cache_id(secret, date, region, service, id);
    pthread_mutex_lock(&s->lock);
    s->tick++;
    ig_sigv4_slot *victim = &s->slots[0];
    for (size_t i = 0; i < IG_SIGV4_CACHE_SLOTS; i++) {
        ig_sigv4_slot *slot = &s->slots[i];
        if (slot->used && ig_ct_equal(slot->id, id, 32)) {
            slot->last_used = s->tick;
            memcpy(out, slot->key, 32);
            s->hits++;
            pthread_mutex_unlock(&s->lock);
            return;
        }
        if (!slot->used || (victim->used && slot->last_used < victim->last_used))
            victim = slot;
    }
    s->misses++;
    pthread_mutex_unlock(&s->lock);

    /* Derive outside the lock: four HMACs need no shared state. */
    unsigned char key[32];
    ig_sigv4_derive_key(secret, date, region, service, key);
    memcpy(out, key, 32);

    pthread_mutex_lock(&s->lock);
    OPENSSL_cleanse(victim->key, sizeof victim->key);
    memcpy(victim->id, id, 32);
    memcpy(victim->key, key, 32);
    victim->used = 1;
    victim->last_used = s->tick;
    pthread_mutex_unlock(&s->lock);
    OPENSSL_cleanse(key, sizeof key);
}

/* ---------------------------------------------------------------------------------------- */
/* Results                                                                                   */
/* ---------------------------------------------------------------------------------------- */

void ig_sigv4_result_init(ig_sigv4_result *r)
{
    memset(r, 0, sizeof *r);
    ig_buf_init(&r->canonical_request, 0);
    ig_buf_init(&r->string_to_sign, 0);
    ig_buf_init(&r->authorization, 0);
    ig_buf_init(&r->presigned_query, 0);
    ig_buf_init(&r->storage, 0);
}

/* The canonical request, the presigned query and the storage can hold the session token. */
static void ig_buf_wipe_free(ig_buf *b)
{
    if (b->data)
        OPENSSL_cleanse(b->data, b->cap);
    ig_buf_free(b);
}

void ig_sigv4_result_free(ig_sigv4_result *r)
{
    if (!r)
        return;
    ig_buf_wipe_free(&r->canonical_request);
    ig_buf_wipe_free(&r->string_to_sign);
    ig_buf_wipe_free(&r->authorization);
    ig_buf_wipe_free(&r->presigned_query);
    ig_buf_wipe_free(&r->storage);
    r->signature[0] = '\0';
    r->amz_date[0] = '\0';
    r->n_added = 0;
}

static void ig_sigv4_result_reset(ig_sigv4_result *r)
{
    ig_buf_reset(&r->canonical_request);
    ig_buf_reset(&r->string_to_sign);
    ig_buf_reset(&r->authorization);
    ig_buf_reset(&r->presigned_query);
    ig_buf_reset(&r->storage);
    r->signature[0] = '\0';
    r->amz_date[0] = '\0';
    r->n_added = 0;
    memset(r->added, 0, sizeof r->added);
}

/* ---------------------------------------------------------------------------------------- */
/* Input validation                                                                          */
/* ---------------------------------------------------------------------------------------- */

/* Quotes untrusted text for an error sentence: printable ASCII as is, the rest as \xHH,
 * at most 48 input bytes. */
static const char *ig_sigv4_quote(const char *s, size_t len, char out[200])
{
    size_t o = 0;
    size_t n = len > 48 ? 48 : len;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"')
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, 5, "\\x%02x", c);
    }
    if (n < len) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}

static int ig_is_tchar(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static ig_err ig_sigv4_check_region(const char *region, ig_error *err)
{
    if (!region || !*region)
        return ig_error_set(err, IG_ERR_REGION, "the signing region is missing");
    size_t n = strlen(region);
    char q[200];
    if (n > 64)
        return ig_error_set(err, IG_ERR_REGION, "signing region \"%s\" is longer than 64 bytes",
                            ig_sigv4_quote(region, n, q));
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)region[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return ig_error_set(err, IG_ERR_REGION,
                                "signing region \"%s\" may only contain a-z, 0-9 and '-'",
                                ig_sigv4_quote(region, n, q));
    }
    return IG_OK;
}

static ig_err ig_sigv4_check_service(const char *service, ig_error *err)
{
    if (!service || !*service)
        return ig_error_set(err, IG_ERR_INVALID_ARG, "the signing service name is missing");
    size_t n = strlen(service);
    char q[200];
    if (n > 64)
        return ig_error_set(err, IG_ERR_INVALID_ARG,
                            "signing service name \"%s\" is longer than 64 bytes",
                            ig_sigv4_quote(service, n, q));
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)service[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return ig_error_set(err, IG_ERR_INVALID_ARG,
                                "signing service name \"%s\" may only contain letters, digits, "
                                "'-', '_' and '.'",
                                ig_sigv4_quote(service, n, q));
    }
    return IG_OK;
}

static ig_err ig_sigv4_check_credentials(const ig_sigv4_credentials *c, ig_error *err)
{
    if (!c || !c->access_key_id || !*c->access_key_id)
        return ig_error_set(err, IG_ERR_CREDENTIALS, "the access key id is missing");
    if (!c->secret_access_key || !*c->secret_access_key)
        return ig_error_set(err, IG_ERR_CREDENTIALS, "the secret access key is missing");
    for (const char *p = c->access_key_id; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_' || ch == '.'))
            return ig_error_set(err, IG_ERR_CREDENTIALS,
                                "the access key id may only contain letters, digits, '-', '_' "
                                "and '.' (byte %zu is not one)",
                                (size_t)(p - c->access_key_id));
    }
    if (c->session_token) {
        for (const char *p = c->session_token; *p; p++) {
            unsigned char ch = (unsigned char)*p;
            if (ch <= 0x20 || ch >= 0x7f)
                return ig_error_set(err, IG_ERR_CREDENTIALS,
                                    "the session token contains a byte that cannot travel in an "
                                    "HTTP header (0x%02x at byte %zu)",
                                    ch, (size_t)(p - c->session_token));
        }
    }
    return IG_OK;
}

static int ig_has_token(const ig_sigv4_credentials *c)
{
    return c->session_token && *c->session_token;
}

/* Header values may hold visible ASCII, obs-text (0x80-0xff), space and tab; CR, LF and the
 * other control bytes would let a value end the header or start a new one. */
static ig_err ig_sigv4_check_header(const ig_header *h, size_t index, ig_error *err)
{
    char q[200];
    if (!h->name || !*h->name)
        return ig_error_set(err, IG_ERR_INVALID_ARG, "header #%zu has an empty name", index + 1);
    size_t nlen = strlen(h->name);
    for (size_t i = 0; i < nlen; i++)
        if (!ig_is_tchar((unsigned char)h->name[i]))
            return ig_error_set(err, IG_ERR_INVALID_ARG,
                                "header name \"%s\" contains a character not allowed in an HTTP "
                                "header name (byte %zu)",
                                ig_sigv4_quote(h->name, nlen, q), i);
    if (!h->value)
        return ig_error_set(err, IG_ERR_INVALID_ARG, "header \"%s\" has no value (NULL)",
                            ig_sigv4_quote(h->name, nlen, q));
    for (const char *p = h->value; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return ig_error_set(err, IG_ERR_INVALID_ARG,
                                "header \"%s\" has a control character in its value (0x%02x at "
                                "byte %zu)",
                                ig_sigv4_quote(h->name, nlen, q), c, (size_t)(p - h->value));
    }
    return IG_OK;
}

static ig_err ig_sigv4_check_text(const char *what, const char *s, ig_error *err)
{
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c == 0x7f)
            return ig_error_set(err, IG_ERR_INVALID_ARG,
                                "the %s contains a control character (0x%02x at byte %zu)", what, c,
                                (size_t)(p - s));
    }
    return IG_OK;
}

static ig_err ig_sigv4_check_request(const ig_sigv4_request *req, ig_error *err)
{
    if (!req)
        return ig_error_set(err, IG_ERR_INVALID_ARG, "no request to sign");
    if (!req->method || !*req->method)
        return ig_error_set(err, IG_ERR_INVALID_ARG, "the HTTP method is missing");
    for (const char *p = req->method; *p; p++)
        if (!ig_is_tchar((unsigned char)*p)) {
            char q[200];
            return ig_error_set(err, IG_ERR_INVALID_ARG, "HTTP method \"%s\" is not a token",
                                ig_sigv4_quote(req->method, strlen(req->method), q));
        }
    const char *path = req->path ? req->path : "";
    if (*path && *path != '/')
        return ig_error_set(err, IG_ERR_INVALID_ARG, "the request path must start with '/'");
    if (strchr(path, '?') || strchr(path, '#'))
        return ig_error_set(err, IG_ERR_INVALID_ARG,
                            "the request path contains '?' or '#'; pass the query separately");
    ig_err e = ig_sigv4_check_text("request path", path, err);
    if (e)
        return e;
    if (req->query) {
        if (strchr(req->query, '#'))
            return ig_error_set(err, IG_ERR_INVALID_ARG, "the query string contains '#'");
        if ((e = ig_sigv4_check_text("query string", req->query, err)))
            return e;
    }
    if (req->n_headers && !req->headers)
        return ig_error_set(err, IG_ERR_INVALID_ARG, "n_headers is %zu but headers is NULL",
                            req->n_headers);
    if (req->body_len && !req->body)
        return ig_error_set(err, IG_ERR_INVALID_ARG, "body_len is %zu but body is NULL",
                            req->body_len);
    size_t hosts = 0;
    for (size_t i = 0; i < req->n_headers; i++) {
        if ((e = ig_sigv4_check_header(&req->headers[i], i, err)))
            return e;
        if (strcasecmp(req->headers[i].name, "host") == 0)
            hosts++;
    }
    if (hosts == 0)
        return ig_error_set(err, IG_ERR_INVALID_ARG,
                            "the request has no Host header; SigV4 always signs it");
    if (hosts > 1)
        return ig_error_set(err, IG_ERR_INVALID_ARG, "the request has %zu Host headers", hosts);
    if (req->payload_hash) {
        const char *p = req->payload_hash;
        if (!*p)
            return ig_error_set(err, IG_ERR_INVALID_ARG, "payload_hash is empty");
        for (; *p; p++) {
            unsigned char c = (unsigned char)*p;
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-'))
                return ig_error_set(err, IG_ERR_INVALID_ARG,
                                    "payload_hash must be a hex digest or a name such as "
                                    "UNSIGNED-PAYLOAD");
        }
    }
    return IG_OK;
}

static ig_err ig_sigv4_check_common(const ig_sigv4_credentials *creds, const ig_sigv4_params *p,
                                    const ig_sigv4_request *req, ig_sigv4_result *out,
                                    ig_error *err)
{
    if (!p)
        return ig_error_set(err, IG_ERR_INVALID_ARG, "no signing parameters");
    if (!out)
        return ig_error_set(err, IG_ERR_INVALID_ARG, "no result to fill");
    ig_err e;
    if ((e = ig_sigv4_check_credentials(creds, err)) || (e = ig_sigv4_check_region(p->region, err)) ||
        (e = ig_sigv4_check_service(p->service, err)) || (e = ig_sigv4_check_request(req, err)))
        return e;
    /* 253402300799 is 9999-12-31T23:59:59Z, the last second with a 4-digit year. */
    if (p->time < 0 || p->time > INT64_C(253402300799))
        return ig_error_set(err, IG_ERR_INVALID_ARG,
                            "signing time %" PRId64 " is outside 1970..9999", p->time);
    return IG_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Dates                                                                                     */
/* ---------------------------------------------------------------------------------------- */

int ig_sigv4_format_date(int64_t epoch_s, char out[17])
{
    struct tm tm;
    time_t t = (time_t)epoch_s;
    if (epoch_s < 0 || epoch_s > INT64_C(253402300799) || !gmtime_r(&t, &tm)) {
        out[0] = '\0';
        return -1;
    }
    const int fields[6] = {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                           tm.tm_hour,        tm.tm_min,     tm.tm_sec};
    const int widths[6] = {4, 2, 2, 2, 2, 2};
    size_t o = 0;
    for (int f = 0; f < 6; f++) {
        if (f == 3)
            out[o++] = 'T';
        for (int d = widths[f] - 1, v = fields[f]; d >= 0; d--, v /= 10)
            out[o + (size_t)d] = (char)('0' + v % 10);
        o += (size_t)widths[f];
    }
    out[o++] = 'Z';
    out[o] = '\0';
    return 0;
}

static int ig_digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int ig_sigv4_parse_date(const char *s, int64_t *epoch_s)
{
    int y, mo, d, h, mi, se;
    if (!s || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z' || ig_digits(s, 4, &y) ||
        ig_digits(s + 4, 2, &mo) || ig_digits(s + 6, 2, &d) || ig_digits(s + 9, 2, &h) ||
        ig_digits(s + 11, 2, &mi) || ig_digits(s + 13, 2, &se))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return -1;
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    /* timegm normalizes Feb 31 into March; a round trip rejects such dates. */
    char back[17];
    if (ig_sigv4_format_date((int64_t)t, back) != 0 || (se != 60 && strcmp(back, s) != 0))
        return -1;
    *epoch_s = (int64_t)t;
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Canonical URI                                                                             */
/* ---------------------------------------------------------------------------------------- */

static int ig_is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
}

/* S3: the path as sent. Bytes that may travel raw in a URI path (unreserved, sub-delims,
 * ':', '@', '/', and valid %XX escapes) are kept; anything else (space, non-ASCII...) is
 * encoded once, which is how it must have travelled. */
static ig_err ig_canonical_uri_s3(ig_buf *out, const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    if (!*path)
        return ig_buf_append_char(out, '/');
    ig_err e = IG_OK;
    for (const char *p = path; *p && !e; p++) {
        unsigned char c = (unsigned char)*p;
        int keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   strchr("-._~!$&'()*+,;=:@/", c) != NULL;
        if (c == '%' && ig_is_hex((unsigned char)p[1]) && ig_is_hex((unsigned char)p[2]))
            keep = 1;
        if (keep) {
            e = ig_buf_append_char(out, (char)c);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            e = ig_buf_append(out, esc, 3);
        }
    }
    return e;
}

/* Everything else: RFC 3986 remove_dot_segments plus collapsed slashes on the path as sent,
 * keeping a trailing slash, then percent-encoded again ('/' kept), so "%3A" becomes "%253A". */
static ig_err ig_canonical_uri_normalized(ig_buf *out, const char *path)
{
    size_t len = strlen(path);
    if (len == 0)
        return ig_buf_append_char(out, '/');
    /* Segment starts and lengths, at most one per '/' plus one. */
    size_t max_segments = 1;
    for (size_t i = 0; i < len; i++)
        max_segments += path[i] == '/';
    size_t *starts = malloc(max_segments * sizeof *starts);
    size_t *lens = malloc(max_segments * sizeof *lens);
    if (!starts || !lens) {
        free(starts);
        free(lens);
        return IG_ERR_NOMEM;
    }
    size_t n = 0;
    for (size_t i = 0; i <= len;) {
        size_t j = i;
        while (j < len && path[j] != '/')
            j++;
        size_t seg = j - i;
        if (seg == 2 && path[i] == '.' && path[i + 1] == '.') {
            if (n)
                n--;
        } else if (seg && !(seg == 1 && path[i] == '.')) {
            starts[n] = i;
            lens[n] = seg;
            n++;
        }
        i = j + 1;
    }
    ig_buf plain;
    ig_buf_init(&plain, 0);
    ig_err e = IG_OK;
    if (path[0] == '/')
        e = ig_buf_append_char(&plain, '/');
    for (size_t k = 0; k < n && !e; k++) {
        if (k)
            e = ig_buf_append_char(&plain, '/');
        if (!e)
            e = ig_buf_append(&plain, path + starts[k], lens[k]);
    }
    if (!e && path[len - 1] == '/' && n)
        e = ig_buf_append_char(&plain, '/');
    if (!e && plain.len == 0)
        e = ig_buf_append_char(&plain, '/');
    if (!e)
        e = ig_percent_encode(out, plain.data, plain.len, 1);
    ig_buf_free(&plain);
    free(starts);
    free(lens);
    return e;
}

static ig_err ig_canonical_uri(ig_buf *out, const char *path, int s3_uri_rules)
{
    return s3_uri_rules ? ig_canonical_uri_s3(out, path ? path : "")
                        : ig_canonical_uri_normalized(out, path ? path : "");
}

/* ---------------------------------------------------------------------------------------- */
/* Canonical query                                                                           */
/* ---------------------------------------------------------------------------------------- */

/* One parameter, name and value both in canonical (re-encoded) form. */
typedef struct {
    char *name;
    char *value;
} ig_qparam;

typedef struct {
    ig_qparam *items;
    size_t len;
    size_t cap;
} ig_qlist;

static void ig_qlist_free(ig_qlist *l)
{
    for (size_t i = 0; i < l->len; i++) {
        free(l->items[i].name);
        if (l->items[i].value) {
            OPENSSL_cleanse(l->items[i].value, strlen(l->items[i].value));
            free(l->items[i].value);
        }
    }
    free(l->items);
    l->items = NULL;
    l->len = l->cap = 0;
}

static ig_err ig_qlist_push(ig_qlist *l, ig_buf *name, ig_buf *value)
{
    if (l->len == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        ig_qparam *p = realloc(l->items, cap * sizeof *p);
        if (!p)
            return IG_ERR_NOMEM;
        l->items = p;
        l->cap = cap;
    }
    char *n = ig_buf_steal(name, NULL);
    char *v = n ? ig_buf_steal(value, NULL) : NULL;
    if (!n || !v) {
        free(n);
        return IG_ERR_NOMEM;
    }
    l->items[l->len].name = n;
    l->items[l->len].value = v;
    l->len++;
    return IG_OK;
}

/* Adds a parameter given in plain (decoded) form. */
static ig_err ig_qlist_add_plain(ig_qlist *l, const char *name, const char *value)
{
    ig_buf n, v;
    ig_buf_init(&n, 0);
    ig_buf_init(&v, 0);
    ig_err e = ig_percent_encode(&n, name, strlen(name), 0);
    if (!e)
        e = ig_percent_encode(&v, value, strlen(value), 0);
    if (!e && !v.data)
        e = ig_buf_reserve(&v, 0);
    if (!e)
        e = ig_qlist_push(l, &n, &v);
    ig_buf_free(&n);
    ig_buf_wipe_free(&v);
    return e;
}

/* Decodes one name or value as sent and encodes it again with the unreserved set. */
static ig_err ig_requery(ig_buf *out, const char *s, size_t len, const char *what, ig_error *err)
{
    ig_buf plain;
    ig_buf_init(&plain, 0);
    ig_err e = ig_percent_decode(&plain, s, len);
    if (e == IG_ERR_INVALID_ARG) {
        char q[200];
        ig_buf_free(&plain);
        return ig_error_set(err, IG_ERR_INVALID_ARG,
                            "query %s \"%s\" has a malformed percent escape", what,
                            ig_sigv4_quote(s, len, q));
    }
    if (!e)
        e = ig_percent_encode(out, plain.data ? plain.data : "", plain.len, 0);
    if (!e && !out->data)
        e = ig_buf_reserve(out, 0);
    ig_buf_wipe_free(&plain);
    return e;
}

/* Splits a query as sent into parameters: '&' separates, the first '=' splits name from
 * value, "a" and "a=" both mean an empty value, empty pieces ("&&") carry nothing. */
static ig_err ig_qlist_parse(ig_qlist *l, const char *query, ig_error *err)
{
    if (!query)
        return IG_OK;
    const char *p = query;
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t plen = amp ? (size_t)(amp - p) : strlen(p);
        if (plen) {
            const char *eq = memchr(p, '=', plen);
            size_t nlen = eq ? (size_t)(eq - p) : plen;
            const char *v = eq ? eq + 1 : p + plen;
            size_t vlen = eq ? plen - nlen - 1 : 0;
            ig_buf n, val;
            ig_buf_init(&n, 0);
            ig_buf_init(&val, 0);
            ig_err e = ig_requery(&n, p, nlen, "parameter name", err);
            if (!e)
                e = ig_requery(&val, v, vlen, "parameter value", err);
            if (!e)
                e = ig_qlist_push(l, &n, &val);
            ig_buf_free(&n);
            ig_buf_wipe_free(&val);
            if (e)
                return e == IG_ERR_NOMEM ? ig_error_set(err, e, "out of memory parsing the query")
                                         : e;
        }
        p += plen;
        if (*p == '&')
            p++;
    }
    return IG_OK;
}

static int ig_qparam_cmp(const void *a, const void *b)
{
    const ig_qparam *x = *(const ig_qparam *const *)a;
    const ig_qparam *y = *(const ig_qparam *const *)b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

static ig_err ig_qlist_append(ig_buf *out, const ig_qparam *const *items, size_t n)
{
    ig_err e = IG_OK;
    for (size_t i = 0; i < n && !e; i++) {
        if (i)
            e = ig_buf_append_char(out, '&');
        if (!e)
            e = ig_buf_append_str(out, items[i]->name);
        if (!e)
            e = ig_buf_append_char(out, '=');
        if (!e)
            e = ig_buf_append_str(out, items[i]->value);
    }
    return e;
}

/* The canonical query: parameters sorted by encoded name, then encoded value (byte order). */
static ig_err ig_canonical_query(ig_buf *out, const ig_qlist *l)
{
    if (!l->len)
        return IG_OK;
    const ig_qparam **sorted = malloc(l->len * sizeof *sorted);
    if (!sorted)
        return IG_ERR_NOMEM;
    for (size_t i = 0; i < l->len; i++)
        sorted[i] = &l->items[i];
    qsort(sorted, l->len, sizeof *sorted, ig_qparam_cmp);
    ig_err e = ig_qlist_append(out, sorted, l->len);
    free(sorted);
    return e;
}

/* ---------------------------------------------------------------------------------------- */
/* Canonical headers                                                                         */
/* ---------------------------------------------------------------------------------------- */

/* A header to sign: lower-cased name and canonical value (trimmed, inner runs of white space
 * collapsed to one space), with its position so equal names keep their order. */
typedef struct {
    char *name;
    char *value;
    size_t seq;
} ig_chdr;

typedef struct {
    ig_chdr *items;
    size_t len;
    size_t cap;
} ig_chdr_list;

static void ig_chdr_list_free(ig_chdr_list *l)
{
    for (size_t i = 0; i < l->len; i++) {
        free(l->items[i].name);
        if (l->items[i].value) {
            OPENSSL_cleanse(l->items[i].value, strlen(l->items[i].value));
            free(l->items[i].value);
        }
    }
    free(l->items);
    l->items = NULL;
    l->len = l->cap = 0;
}

static ig_err ig_chdr_add(ig_chdr_list *l, const char *name, const char *value)
{
    if (l->len == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        ig_chdr *p = realloc(l->items, cap * sizeof *p);
        if (!p)
            return IG_ERR_NOMEM;
        l->items = p;
        l->cap = cap;
    }
    size_t nlen = strlen(name);
    char *n = malloc(nlen + 1);
    char *v = malloc(strlen(value) + 1);
    if (!n || !v) {
        free(n);
        free(v);
        return IG_ERR_NOMEM;
    }
    for (size_t i = 0; i <= nlen; i++)
        n[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i]);
    /* Trimall: white space (space, tab) at either end dropped, inner runs become one space. */
    size_t o = 0;
    int pending_space = 0;
    for (const char *p = value; *p; p++) {
        if (*p == ' ' || *p == '\t') {
            pending_space = o > 0;
            continue;
        }
        if (pending_space)
            v[o++] = ' ';
        pending_space = 0;
        v[o++] = *p;
    }
    v[o] = '\0';
    l->items[l->len].name = n;
    l->items[l->len].value = v;
    l->items[l->len].seq = l->len;
    l->len++;
    return IG_OK;
}

static int ig_chdr_cmp(const void *a, const void *b)
{
    const ig_chdr *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sorts the list and writes "name:value\n" per distinct name (repeated names joined with
 * ',') into block, and "a;b;c" into signed_list. */
static ig_err ig_canonical_headers(ig_chdr_list *l, ig_buf *block, ig_buf *signed_list)
{
    qsort(l->items, l->len, sizeof *l->items, ig_chdr_cmp);
    ig_err e = IG_OK;
    for (size_t i = 0; i < l->len && !e; i++) {
        int same = i > 0 && strcmp(l->items[i].name, l->items[i - 1].name) == 0;
        if (same) {
            e = ig_buf_append_char(block, ',');
        } else {
            if (i)
                e = ig_buf_append_char(block, '\n');
            if (!e && signed_list->len)
                e = ig_buf_append_char(signed_list, ';');
            if (!e)
                e = ig_buf_append_str(signed_list, l->items[i].name);
            if (!e)
                e = ig_buf_append_str(block, l->items[i].name);
            if (!e)
                e = ig_buf_append_char(block, ':');
        }
        if (!e)
            e = ig_buf_append_str(block, l->items[i].value);
    }
    if (!e && l->len)
        e = ig_buf_append_char(block, '\n');
    return e;
}

/* Headers that hops may add, drop or rewrite; signing them would break the signature. */
static int ig_sigv4_unsigned_header(const char *name)
{
    static const char *const skip[] = {"connection", "expect", "transfer-encoding", "user-agent",
                                       "x-amzn-trace-id"};
    for (size_t i = 0; i < sizeof skip / sizeof *skip; i++)
        if (strcasecmp(name, skip[i]) == 0)
            return 1;
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* The canonical request and the signature                                                   */
/* ---------------------------------------------------------------------------------------- */

static ig_err ig_sigv4_payload_hash(const ig_sigv4_request *req, char out[65], const char **hash)
{
    if (req->payload_hash) {
        *hash = req->payload_hash;
        return IG_OK;
    }
    ig_sha256_hex(req->body ? req->body : "", req->body_len, out);
    *hash = out;
    return IG_OK;
}

static ig_err ig_sigv4_assemble(ig_buf *cr, const char *method, const ig_buf *uri,
                                const ig_buf *query, const ig_buf *headers,
                                const ig_buf *signed_list, const char *payload_hash)
{
    ig_buf_reset(cr);
    return ig_buf_appendf(cr, "%s\n%s\n%s\n%s\n%s\n%s", method, ig_buf_cstr(uri),
                          ig_buf_cstr(query), ig_buf_cstr(headers), ig_buf_cstr(signed_list),
                          payload_hash);
}

/* From the canonical request: the string to sign and the hex signature. */
static ig_err ig_sigv4_finish(ig_sigv4_signer *s, const char *secret, const char *amz_date,
                              const char *region, const char *service, const ig_buf *cr,
                              ig_buf *sts, char signature[65])
{
    char cr_hash[65];
    char date[9];
    memcpy(date, amz_date, 8);
    date[8] = '\0';
    ig_sha256_hex(cr->data ? cr->data : "", cr->len, cr_hash);
    ig_buf_reset(sts);
    ig_err e = ig_buf_appendf(sts, IG_SIGV4_ALGORITHM "\n%s\n%s/%s/%s/" IG_SIGV4_TERMINATOR "\n%s",
                              amz_date, date, region, service, cr_hash);
    if (e)
        return e;
    unsigned char key[32], sig[32];
    ig_sigv4_signing_key(s, secret, date, region, service, key);
    ig_hmac_sha256(key, 32, sts->data, sts->len, sig);
    OPENSSL_cleanse(key, sizeof key);
    ig_hex_encode(sig, 32, signature);
    return IG_OK;
}

/* Everything both signing modes compute from the request: canonical URI, the query list as
 * sent, the canonical header block and signed-header list. */
typedef struct {
    ig_buf uri;
    ig_qlist query;
    ig_chdr_list headers;
    ig_buf header_block;
    ig_buf signed_list;
    ig_buf canonical_query;
} ig_sigv4_parts;

static void ig_sigv4_parts_init(ig_sigv4_parts *pp)
{
    memset(pp, 0, sizeof *pp);
    ig_buf_init(&pp->uri, 0);
    ig_buf_init(&pp->header_block, 0);
    ig_buf_init(&pp->signed_list, 0);
    ig_buf_init(&pp->canonical_query, 0);
}

static void ig_sigv4_parts_free(ig_sigv4_parts *pp)
{
    ig_buf_free(&pp->uri);
    ig_qlist_free(&pp->query);
    ig_chdr_list_free(&pp->headers);
    ig_buf_wipe_free(&pp->header_block);
    ig_buf_free(&pp->signed_list);
    ig_buf_wipe_free(&pp->canonical_query);
}

static ig_err ig_nomem(ig_err e, ig_error *err)
{
    if (e == IG_ERR_NOMEM || e == IG_ERR_TOO_LARGE)
        return ig_error_set(err, e, "out of memory building the canonical request");
    return e;
}

/* Rejects request headers that the signer itself adds, so a request never carries two. */
static ig_err ig_sigv4_reject_header(const ig_sigv4_request *req, const char *name, ig_error *err)
{
    if (ig_headers_find(req->headers, req->n_headers, name))
        return ig_error_set(err, IG_ERR_INVALID_ARG,
                            "header \"%s\" is added by the signer; leave it out of the request",
                            name);
    return IG_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Authorization-header signing                                                              */
/* ---------------------------------------------------------------------------------------- */

/* Copies a string into result storage and returns its offset. */
static ig_err ig_store(ig_buf *storage, const char *s, size_t *offset)
{
    *offset = storage->len;
    ig_err e = ig_buf_append_str(storage, s);
    if (!e)
        e = ig_buf_append_char(storage, '\0');
    return e;
}

ig_err ig_sigv4_sign_headers(ig_sigv4_signer *s, const ig_sigv4_credentials *creds,
                             const ig_sigv4_params *p, const ig_sigv4_request *req,
                             ig_sigv4_result *out, ig_error *err)
{
    ig_err e = ig_sigv4_check_common(creds, p, req, out, err);
    if (e)
        return e;
    ig_sigv4_result_reset(out);
    const int token = ig_has_token(creds);
    if ((e = ig_sigv4_reject_header(req, "authorization", err)) ||
        (e = ig_sigv4_reject_header(req, "x-amz-date", err)) ||
        (token && (e = ig_sigv4_reject_header(req, "x-amz-security-token", err))) ||
        (p->sign_content_sha256 && (e = ig_sigv4_reject_header(req, "x-amz-content-sha256", err))))
        return e;

    ig_sigv4_format_date(p->time, out->amz_date);
    char body_hash[65];
    const char *payload_hash;
    ig_sigv4_payload_hash(req, body_hash, &payload_hash);

    ig_sigv4_parts pp;
    ig_sigv4_parts_init(&pp);
    e = ig_canonical_uri(&pp.uri, req->path, p->s3_uri_rules);
    if (!e)
        e = ig_qlist_parse(&pp.query, req->query, err);
    if (!e)
        e = ig_canonical_query(&pp.canonical_query, &pp.query);
    for (size_t i = 0; i < req->n_headers && !e; i++)
        if (!ig_sigv4_unsigned_header(req->headers[i].name))
            e = ig_chdr_add(&pp.headers, req->headers[i].name, req->headers[i].value);
    if (!e)
        e = ig_chdr_add(&pp.headers, "x-amz-date", out->amz_date);
    if (!e && token && !p->omit_session_token)
        e = ig_chdr_add(&pp.headers, "x-amz-security-token", creds->session_token);
    if (!e && p->sign_content_sha256)
        e = ig_chdr_add(&pp.headers, "x-amz-content-sha256", payload_hash);
    if (!e)
        e = ig_canonical_headers(&pp.headers, &pp.header_block, &pp.signed_list);
    if (!e)
        e = ig_sigv4_assemble(&out->canonical_request, req->method, &pp.uri, &pp.canonical_query,
                              &pp.header_block, &pp.signed_list, payload_hash);
    if (!e)
        e = ig_sigv4_finish(s, creds->secret_access_key, out->amz_date, p->region, p->service,
                            &out->canonical_request, &out->string_to_sign, out->signature);
    if (!e)
        e = ig_buf_appendf(&out->authorization,
                           IG_SIGV4_ALGORITHM " Credential=%s/%.8s/%s/%s/" IG_SIGV4_TERMINATOR
                                              ", SignedHeaders=%s, Signature=%s",
                           creds->access_key_id, out->amz_date, p->region, p->service,
                           ig_buf_cstr(&pp.signed_list), out->signature);
    /* The added headers, in their documented order; values live in out->storage (or in
     * out itself), which is only read once every append is done. */
    size_t off_date = 0, off_token = 0, off_sha = 0;
    if (!e)
        e = ig_store(&out->storage, out->amz_date, &off_date);
    if (!e && token)
        e = ig_store(&out->storage, creds->session_token, &off_token);
    if (!e && p->sign_content_sha256)
        e = ig_store(&out->storage, payload_hash, &off_sha);
    if (!e) {
        size_t n = 0;
        out->added[n].name = "X-Amz-Date";
        out->added[n++].value = out->storage.data + off_date;
        if (token) {
            out->added[n].name = "X-Amz-Security-Token";
            out->added[n++].value = out->storage.data + off_token;
        }
        if (p->sign_content_sha256) {
            out->added[n].name = "X-Amz-Content-SHA256";
            out->added[n++].value = out->storage.data + off_sha;
        }
        out->added[n].name = "Authorization";
        out->added[n++].value = out->authorization.data;
        out->n_added = n;
    }
    ig_sigv4_parts_free(&pp);
    if (e)
        ig_sigv4_result_reset(out);
    return ig_nomem(e, err);
}

/* ---------------------------------------------------------------------------------------- */
/* Query-string presigning                                                                   */
/* ---------------------------------------------------------------------------------------- */

static const char *const ig_sigv4_query_auth_names[] = {
    "X-Amz-Algorithm",     "X-Amz-Credential",     "X-Amz-Date",     "X-Amz-Expires",
    "X-Amz-SignedHeaders", "X-Amz-Security-Token", "X-Amz-Signature",
};

ig_err ig_sigv4_presign(ig_sigv4_signer *s, const ig_sigv4_credentials *creds,
                        const ig_sigv4_params *p, const ig_sigv4_request *req,
                        ig_sigv4_result *out, ig_error *err)
{
    ig_err e = ig_sigv4_check_common(creds, p, req, out, err);
    if (e)
        return e;
    if (p->expires < 1 || p->expires > 604800)
        return ig_error_set(err, IG_ERR_INVALID_ARG,
                            "X-Amz-Expires must be between 1 and 604800 seconds (7 days); got "
                            "%" PRId64,
                            p->expires);
    if ((e = ig_sigv4_reject_header(req, "authorization", err)))
        return e;
    ig_sigv4_result_reset(out);
    const int token = ig_has_token(creds);
    ig_sigv4_format_date(p->time, out->amz_date);
    char body_hash[65];
    const char *payload_hash;
    ig_sigv4_payload_hash(req, body_hash, &payload_hash);

    ig_sigv4_parts pp;
    ig_sigv4_parts_init(&pp);
    ig_buf value;
    ig_buf_init(&value, 0);
    e = ig_canonical_uri(&pp.uri, req->path, p->s3_uri_rules);
    if (!e)
        e = ig_qlist_parse(&pp.query, req->query, err);
    for (size_t i = 0; i < pp.query.len && !e; i++)
        for (size_t k = 0; k < sizeof ig_sigv4_query_auth_names / sizeof *ig_sigv4_query_auth_names;
             k++)
            if (strcmp(pp.query.items[i].name, ig_sigv4_query_auth_names[k]) == 0)
                e = ig_error_set(err, IG_ERR_INVALID_ARG,
                                 "the query already carries %s; presign a request without "
                                 "signing parameters",
                                 ig_sigv4_query_auth_names[k]);
    for (size_t i = 0; i < req->n_headers && !e; i++)
        if (!ig_sigv4_unsigned_header(req->headers[i].name))
            e = ig_chdr_add(&pp.headers, req->headers[i].name, req->headers[i].value);
    if (!e)
        e = ig_canonical_headers(&pp.headers, &pp.header_block, &pp.signed_list);

    /* The wire query: the request's own parameters re-encoded in their order, then the
     * signing parameters in botocore's order. */
    if (!e)
        e = ig_qlist_add_plain(&pp.query, "X-Amz-Algorithm", IG_SIGV4_ALGORITHM);
    if (!e)
        e = ig_buf_appendf(&value, "%s/%.8s/%s/%s/" IG_SIGV4_TERMINATOR, creds->access_key_id,
                           out->amz_date, p->region, p->service);
    if (!e)
        e = ig_qlist_add_plain(&pp.query, "X-Amz-Credential", value.data);
    if (!e)
        e = ig_qlist_add_plain(&pp.query, "X-Amz-Date", out->amz_date);
    ig_buf_reset(&value);
    if (!e)
        e = ig_buf_appendf(&value, "%" PRId64, p->expires);
    if (!e)
        e = ig_qlist_add_plain(&pp.query, "X-Amz-Expires", value.data);
    if (!e)
        e = ig_qlist_add_plain(&pp.query, "X-Amz-SignedHeaders", ig_buf_cstr(&pp.signed_list));
    if (!e && token && !p->omit_session_token)
        e = ig_qlist_add_plain(&pp.query, "X-Amz-Security-Token", creds->session_token);
    if (!e)
        e = ig_canonical_query(&pp.canonical_query, &pp.query);
    if (!e)
        e = ig_sigv4_assemble(&out->canonical_request, req->method, &pp.uri, &pp.canonical_query,
                              &pp.header_block, &pp.signed_list, payload_hash);
    if (!e)
        e = ig_sigv4_finish(s, creds->secret_access_key, out->amz_date, p->region, p->service,
                            &out->canonical_request, &out->string_to_sign, out->signature);
    /* A token left out of the signature still travels, just before the signature. */
    if (!e && token && p->omit_session_token)
        e = ig_qlist_add_plain(&pp.query, "X-Amz-Security-Token", creds->session_token);
    if (!e && pp.query.len) {
        const ig_qparam **all = malloc(pp.query.len * sizeof *all);
        if (!all) {
            e = IG_ERR_NOMEM;
        } else {
            for (size_t i = 0; i < pp.query.len; i++)
                all[i] = &pp.query.items[i];
            e = ig_qlist_append(&out->presigned_query, all, pp.query.len);
            free(all);
        }
    }
    if (!e)
        e = ig_buf_appendf(&out->presigned_query, "&X-Amz-Signature=%s", out->signature);
    ig_buf_wipe_free(&value);
    ig_sigv4_parts_free(&pp);
    if (e)
        ig_sigv4_result_reset(out);
    return ig_nomem(e, err);
}

/* ---------------------------------------------------------------------------------------- */
/* Verification                                                                              */
/* ---------------------------------------------------------------------------------------- */

/* The three parts of an Authorization header, pointing into a private copy. */
typedef struct {
    char *copy;
    char *credential;
    char *signed_headers;
    char *signature;
    char *scope[5]; /* access key id, date, region, service, terminator */
} ig_sigv4_auth;

static char *ig_trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

static ig_err ig_sigv4_parse_auth(const char *value, ig_sigv4_auth *a, ig_error *err)
{
    memset(a, 0, sizeof *a);
    while (*value == ' ' || *value == '\t')
        value++;
    size_t alg_len = strcspn(value, " \t");
    if (alg_len != strlen(IG_SIGV4_ALGORITHM) ||
        strncmp(value, IG_SIGV4_ALGORITHM, alg_len) != 0) {
        char q[200];
        return ig_error_set(err, IG_ERR_SIGNATURE,
                            "Unsupported Authorization Type: \"%s\"; expected " IG_SIGV4_ALGORITHM,
                            ig_sigv4_quote(value, alg_len, q));
    }
    a->copy = strdup(value + alg_len);
    if (!a->copy)
        return ig_error_set(err, IG_ERR_NOMEM, "out of memory parsing the Authorization header");
    char *save = NULL;
    for (char *tok = strtok_r(a->copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        tok = ig_trim(tok);
        char *eq = strchr(tok, '=');
        if (!eq)
            continue;
        *eq = '\0';
        char *k = ig_trim(tok), *v = ig_trim(eq + 1);
        if (strcmp(k, "Credential") == 0)
            a->credential = v;
        else if (strcmp(k, "SignedHeaders") == 0)
            a->signed_headers = v;
        else if (strcmp(k, "Signature") == 0)
            a->signature = v;
    }
    const char *missing[3];
    size_t n_missing = 0;
    if (!a->credential)
        missing[n_missing++] = "Credential";
    if (!a->signed_headers)
        missing[n_missing++] = "SignedHeaders";
    if (!a->signature)
        missing[n_missing++] = "Signature";
    if (n_missing) {
        char msg[IG_ERROR_MESSAGE_MAX] = "";
        for (size_t i = 0; i < n_missing; i++) {
            size_t used = strlen(msg);
            snprintf(msg + used, sizeof msg - used, "%sAuthorization header requires '%s' parameter.",
                     i ? " " : "", missing[i]);
        }
        return ig_error_set(err, IG_ERR_SIGNATURE, "%s", msg);
    }
    char *c = a->credential;
    for (int i = 0; i < 5; i++) {
        a->scope[i] = c;
        char *slash = strchr(c, '/');
        if (i < 4) {
            if (!slash) {
                char q[200];
                return ig_error_set(err, IG_ERR_SIGNATURE,
                                    "Credential should be scoped to a valid region, not \"%s\". "
                                    "The Credential must be "
                                    "<access key>/<date>/<region>/<service>/aws4_request.",
                                    ig_sigv4_quote(a->credential, strlen(a->credential), q));
            }
            *slash = '\0';
            c = slash + 1;
        } else if (slash) {
            *slash = '\0';
        }
    }
    return IG_OK;
}

/* Splits "host;x-amz-date" into a NULL-terminated array pointing into a copy. */
static char **ig_split_signed(const char *list, char **copy_out)
{
    char *copy = strdup(list);
    if (!copy)
        return NULL;
    size_t n = 1;
    for (const char *p = list; *p; p++)
        n += *p == ';';
    char **names = calloc(n + 1, sizeof *names);
    if (!names) {
        free(copy);
        return NULL;
    }
    size_t k = 0;
    char *save = NULL;
    for (char *t = strtok_r(copy, ";", &save); t; t = strtok_r(NULL, ";", &save))
        names[k++] = t;
    *copy_out = copy;
    return names;
}

static int ig_in_list(char **names, const char *name)
{
    for (size_t i = 0; names[i]; i++)
        if (strcmp(names[i], name) == 0)
            return 1;
    return 0;
}

static void ig_format_skew(char *out, size_t len, int64_t seconds)
{
    if (seconds % 60 == 0)
        snprintf(out, len, "%" PRId64 " min.", seconds / 60);
    else
        snprintf(out, len, "%" PRId64 " s", seconds);
}

static ig_err ig_sigv4_check_skew(const char *amz_date, int64_t signed_at, int64_t now,
                                  int64_t max_skew_s, ig_error *err)
{
    char now_s[17], bound[17], skew[32];
    ig_format_skew(skew, sizeof skew, max_skew_s);
    ig_sigv4_format_date(now, now_s);
    if (signed_at < now - max_skew_s) {
        ig_sigv4_format_date(now - max_skew_s, bound);
        return ig_error_set(err, IG_ERR_SIGNATURE,
                            "Signature expired: %s is now earlier than %s (%s - %s)", amz_date,
                            bound, now_s, skew);
    }
    if (signed_at > now + max_skew_s) {
        ig_sigv4_format_date(now + max_skew_s, bound);
        return ig_error_set(err, IG_ERR_SIGNATURE,
                            "Signature not yet current: %s is still later than %s (%s + %s)",
                            amz_date, bound, now_s, skew);
    }
    return IG_OK;
}

/* The checks before any hashing: what is signed, by whom, for which scope and when. */
static ig_err ig_sigv4_verify_scope(const ig_sigv4_credentials *known, const char *region,
                                    const char *service, const ig_sigv4_request *req,
                                    const ig_sigv4_auth *a, char **signed_names, int64_t now,
                                    int64_t max_skew_s, ig_error *err)
{
    char q[200];
    if (strlen(a->scope[0]) != strlen(known->access_key_id) ||
        !ig_ct_equal(a->scope[0], known->access_key_id, strlen(known->access_key_id)))
        return ig_error_set(err, IG_ERR_CREDENTIALS, IG_SIGV4_BAD_TOKEN);
    const char *token = ig_headers_find(req->headers, req->n_headers, "x-amz-security-token");
    if (ig_has_token(known)) {
        if (!token || strlen(token) != strlen(known->session_token) ||
            !ig_ct_equal(token, known->session_token, strlen(token)))
            return ig_error_set(err, IG_ERR_CREDENTIALS, IG_SIGV4_BAD_TOKEN);
    } else if (token) {
        return ig_error_set(err, IG_ERR_CREDENTIALS, IG_SIGV4_BAD_TOKEN);
    }
    if (!ig_in_list(signed_names, "host"))
        return ig_error_set(err, IG_ERR_SIGNATURE,
                            "'Host' or ':authority' must be a 'SignedHeader' in the AWS "
                            "Authorization.");
    if (!ig_in_list(signed_names, "x-amz-date"))
        return ig_error_set(err, IG_ERR_SIGNATURE,
                            "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
    const char *amz_date = ig_headers_find(req->headers, req->n_headers, "x-amz-date");
    if (!amz_date)
        return ig_error_set(err, IG_ERR_SIGNATURE,
                            "Authorization header requires existence of a 'X-Amz-Date' header.");
    int64_t signed_at;
    if (ig_sigv4_parse_date(amz_date, &signed_at) != 0)
        return ig_error_set(err, IG_ERR_SIGNATURE,
                            "X-Amz-Date \"%s\" must be in the ISO8601 Long Format "
                            "\"yyyyMMdd'T'HHmmss'Z'\"",
                            ig_sigv4_quote(amz_date, strlen(amz_date), q));
    if (strlen(a->scope[1]) != 8 || strncmp(a->scope[1], amz_date, 8) != 0)
        return ig_error_set(err, IG_ERR_SIGNATURE,
                            "Date in Credential scope does not match YYYYMMDD from ISO-8601 "
                            "version of date from HTTP: '%s' != '%.8s', from 'X-Amz-Date'.",
                            ig_sigv4_quote(a->scope[1], strlen(a->scope[1]), q), amz_date);
    if (strcmp(a->scope[2], region) != 0)
        return ig_error_set(err, IG_ERR_SIGNATURE,
                            "Credential should be scoped to a valid region, not '%s'.",
                            ig_sigv4_quote(a->scope[2], strlen(a->scope[2]), q));
    if (strcmp(a->scope[3], service) != 0)
        return ig_error_set(err, IG_ERR_SIGNATURE,
                            "Credential should be scoped to correct service: '%s'.", service);
    if (strcmp(a->scope[4], IG_SIGV4_TERMINATOR) != 0)
        return ig_error_set(err, IG_ERR_SIGNATURE,
                            "Credential should be scoped with a valid terminator: "
                            "'" IG_SIGV4_TERMINATOR "', not '%s'.",
                            ig_sigv4_quote(a->scope[4], strlen(a->scope[4]), q));
    return ig_sigv4_check_skew(amz_date, signed_at, now, max_skew_s, err);
}

/* The payload hash the client signed: x-amz-content-sha256 when sent (and then it must match
 * the body unless the payload is unsigned), else the SHA-256 of the body. */
static ig_err ig_sigv4_verify_payload(const ig_sigv4_request *req, char body_hash[65],
                                      const char **hash, ig_error *err)
{
    ig_sha256_hex(req->body ? req->body : "", req->body_len, body_hash);
    const char *claimed = ig_headers_find(req->headers, req->n_headers, "x-amz-content-sha256");
    *hash = body_hash;
    if (!claimed)
        return IG_OK;
    if (strcmp(claimed, "UNSIGNED-PAYLOAD") == 0) {
        *hash = claimed;
        return IG_OK;
    }
    if (strlen(claimed) != 64 || strcmp(claimed, body_hash) != 0)
        return ig_error_set(err, IG_ERR_SIGNATURE,
                            "The provided 'x-amz-content-sha256' header does not match what was "
                            "computed.");
    return IG_OK;
}

/* In a received request, a malformed part is the sender's signature failure. */
static ig_err ig_sigv4_as_signature_error(ig_err e, ig_error *err)
{
    if (e != IG_ERR_INVALID_ARG)
        return e;
    if (err)
        err->code = IG_ERR_SIGNATURE;
    return IG_ERR_SIGNATURE;
}

static int ig_is_lower_hex64(const char *s)
{
    if (strlen(s) != 64)
        return 0;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return 0;
    return 1;
}

ig_err ig_sigv4_verify(const ig_sigv4_credentials *known, const char *region, const char *service,
                       int s3_uri_rules, const ig_sigv4_request *req, int64_t now,
                       int64_t max_skew_s, ig_error *err)
{
    ig_err e;
    if ((e = ig_sigv4_check_credentials(known, err)) || (e = ig_sigv4_check_region(region, err)) ||
        (e = ig_sigv4_check_service(service, err)))
        return e;
    if (max_skew_s < 0)
        return ig_error_set(err, IG_ERR_INVALID_ARG, "max_skew_s must not be negative");
    /* A received request is untrusted: malformed parts are a signature failure, not a
     * programming error, except that it must be describable at all. */
    if ((e = ig_sigv4_check_request(req, err)))
        return ig_sigv4_as_signature_error(e, err);
    const char *auth = ig_headers_find(req->headers, req->n_headers, "authorization");
    if (!auth)
        return ig_error_set(err, IG_ERR_SIGNATURE, "Missing Authentication Token");

    ig_sigv4_auth a;
    char *names_copy = NULL;
    char **names = NULL;
    ig_sigv4_parts pp;
    ig_sigv4_parts_init(&pp);
    ig_buf cr, sts;
    ig_buf_init(&cr, 0);
    ig_buf_init(&sts, 0);
    e = ig_sigv4_parse_auth(auth, &a, err);
    if (!e && !(names = ig_split_signed(a.signed_headers, &names_copy)))
        e = ig_error_set(err, IG_ERR_NOMEM, "out of memory parsing SignedHeaders");
    if (!e)
        e = ig_sigv4_verify_scope(known, region, service, req, &a, names, now, max_skew_s, err);
    char body_hash[65];
    const char *payload_hash = NULL;
    if (!e)
        e = ig_sigv4_verify_payload(req, body_hash, &payload_hash, err);

    /* Recompute over exactly the headers the client says it signed; one that is listed but
     * absent cannot have been signed as received. */
    for (size_t k = 0; !e && names[k]; k++) {
        int found = 0;
        for (size_t i = 0; i < req->n_headers && !e; i++)
            if (strcasecmp(req->headers[i].name, names[k]) == 0) {
                found = 1;
                e = ig_nomem(ig_chdr_add(&pp.headers, req->headers[i].name, req->headers[i].value),
                             err);
            }
        if (!found && !e)
            e = ig_error_set(err, IG_ERR_SIGNATURE, IG_SIGV4_MISMATCH);
    }
    if (!e)
        e = ig_nomem(ig_canonical_uri(&pp.uri, req->path, s3_uri_rules), err);
    if (!e)
        e = ig_qlist_parse(&pp.query, req->query, err);
    e = ig_sigv4_as_signature_error(e, err);
    if (!e)
        e = ig_nomem(ig_canonical_query(&pp.canonical_query, &pp.query), err);
    if (!e)
        e = ig_nomem(ig_canonical_headers(&pp.headers, &pp.header_block, &pp.signed_list), err);
    if (!e)
        e = ig_nomem(ig_sigv4_assemble(&cr, req->method, &pp.uri, &pp.canonical_query,
                                       &pp.header_block, &pp.signed_list, payload_hash),
                     err);
    char expected[65];
    if (!e) {
        const char *amz_date = ig_headers_find(req->headers, req->n_headers, "x-amz-date");
        e = ig_nomem(ig_sigv4_finish(NULL, known->secret_access_key, amz_date, region, service,
                                     &cr, &sts, expected),
                     err);
    }
    if (!e && (!ig_is_lower_hex64(a.signature) || !ig_ct_equal(a.signature, expected, 64)))
        e = ig_error_set(err, IG_ERR_SIGNATURE, IG_SIGV4_MISMATCH);
    free(names);
    free(names_copy);
    free(a.copy);
    ig_sigv4_parts_free(&pp);
    ig_buf_wipe_free(&cr);
    ig_buf_free(&sts);
    return e;
}

/* sigv4_canonical.c - the SigV4 canonical request, piece by piece: input checks, the
 * canonical URI (S3's as-sent rule and the normalizing rule), the canonical query, the
 * canonical headers, and the request-date format.
 *
 * Both the signer and the verifier build canonical requests only through these functions,
 * so what the runtime signs and what the local Bedrock stand-in checks cannot drift apart.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "aws/sigv4_internal.h"
#include "codec/hash.h"
#include "codec/percent.h"
#include "core/grow.h"

/* The canonical request, the presigned query and the storage can hold the session token. */
void ig_sigv4_wipe_free(ig_buf *b)
{
    if (b->data)
        OPENSSL_cleanse(b->data, b->cap);
    ig_buf_free(b);
}

/* ---------------------------------------------------------------------------------------- */
/* Input validation                                                                          */
/* ---------------------------------------------------------------------------------------- */

/* Quotes untrusted text for an error sentence: printable ASCII as is, the rest as \xHH,
 * at most 48 input bytes. */
const char *ig_sigv4_quote(const char *s, size_t len, char out[200])
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

static int is_tchar(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

ig_err ig_sigv4_check_region(const char *region, ig_error *err)
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

ig_err ig_sigv4_check_service(const char *service, ig_error *err)
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

ig_err ig_sigv4_check_credentials(const ig_sigv4_credentials *c, ig_error *err)
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

int ig_sigv4_has_token(const ig_sigv4_credentials *c)
{
    return c->session_token && *c->session_token;
}

/* Header values may hold visible ASCII, obs-text (0x80-0xff), space and tab; CR, LF and the
 * other control bytes would let a value end the header or start a new one. */
static ig_err sigv4_check_header(const ig_header *h, size_t index, ig_error *err)
{
    char q[200];
    if (!h->name || !*h->name)
        return ig_error_set(err, IG_ERR_INVALID_ARG, "header #%zu has an empty name", index + 1);
    size_t nlen = strlen(h->name);
    for (size_t i = 0; i < nlen; i++)
        if (!is_tchar((unsigned char)h->name[i]))
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

static ig_err sigv4_check_text(const char *what, const char *s, ig_error *err)
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

ig_err ig_sigv4_check_request(const ig_sigv4_request *req, ig_error *err)
{
    if (!req)
        return ig_error_set(err, IG_ERR_INVALID_ARG, "no request to sign");
    if (!req->method || !*req->method)
        return ig_error_set(err, IG_ERR_INVALID_ARG, "the HTTP method is missing");
    for (const char *p = req->method; *p; p++)
        if (!is_tchar((unsigned char)*p)) {
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
    ig_err e = sigv4_check_text("request path", path, err);
    if (e)
        return e;
    if (req->query) {
        if (strchr(req->query, '#'))
            return ig_error_set(err, IG_ERR_INVALID_ARG, "the query string contains '#'");
        if ((e = sigv4_check_text("query string", req->query, err)))
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
        if ((e = sigv4_check_header(&req->headers[i], i, err)))
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

static int parse_digits(const char *s, size_t n, int *out)
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
    if (!s || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z' || parse_digits(s, 4, &y) ||
        parse_digits(s + 4, 2, &mo) || parse_digits(s + 6, 2, &d) || parse_digits(s + 9, 2, &h) ||
        parse_digits(s + 11, 2, &mi) || parse_digits(s + 13, 2, &se))
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

static int is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
}

/* S3: the path as sent. Bytes that may travel raw in a URI path (unreserved, sub-delims,
 * ':', '@', '/', and valid %XX escapes) are kept; anything else (space, non-ASCII...) is
 * encoded once, which is how it must have travelled. */
static ig_err canonical_uri_s3(ig_buf *out, const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    if (!*path)
        return ig_buf_append_char(out, '/');
    ig_err e = IG_OK;
    for (const char *p = path; *p && !e; p++) {
        unsigned char c = (unsigned char)*p;
        int keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   strchr("-._~!$&'()*+,;=:@/", c) != NULL;
        if (c == '%' && is_hex((unsigned char)p[1]) && is_hex((unsigned char)p[2]))
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
static ig_err canonical_uri_normalized(ig_buf *out, const char *path)
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

ig_err ig_sigv4_canonical_uri(ig_buf *out, const char *path, int s3_uri_rules)
{
    return s3_uri_rules ? canonical_uri_s3(out, path ? path : "")
                        : canonical_uri_normalized(out, path ? path : "");
}

/* ---------------------------------------------------------------------------------------- */
/* Canonical query                                                                           */
/* ---------------------------------------------------------------------------------------- */

void ig_sigv4_pairs_free(ig_sigv4_pairs *l)
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

/* Appends a pair, taking ownership of name and value (freed here when the list cannot grow). */
static ig_err pairs_push(ig_sigv4_pairs *l, char *name, char *value)
{
    if (!name || !value || ig_grow(&l->items, &l->cap, l->len, sizeof *l->items) != IG_OK) {
        free(name);
        if (value)
            OPENSSL_cleanse(value, strlen(value));
        free(value);
        return IG_ERR_NOMEM;
    }
    l->items[l->len++] = (ig_sigv4_pair){name, value};
    return IG_OK;
}

static ig_err sigv4_qlist_push(ig_sigv4_qlist *l, ig_buf *name, ig_buf *value)
{
    char *n = ig_buf_steal(name, NULL);
    char *v = n ? ig_buf_steal(value, NULL) : NULL;
    return pairs_push(l, n, v);
}

/* Adds a parameter given in plain (decoded) form. */
ig_err ig_sigv4_qlist_add_plain(ig_sigv4_qlist *l, const char *name, const char *value)
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
        e = sigv4_qlist_push(l, &n, &v);
    ig_buf_free(&n);
    ig_sigv4_wipe_free(&v);
    return e;
}

/* Decodes one name or value as sent and encodes it again with the unreserved set. */
static ig_err requery(ig_buf *out, const char *s, size_t len, const char *what, ig_error *err)
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
    ig_sigv4_wipe_free(&plain);
    return e;
}

/* Splits a query as sent into parameters: '&' separates, the first '=' splits name from
 * value, "a" and "a=" both mean an empty value, empty pieces ("&&") carry nothing. */
ig_err ig_sigv4_qlist_parse(ig_sigv4_qlist *l, const char *query, ig_error *err)
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
            ig_err e = requery(&n, p, nlen, "parameter name", err);
            if (!e)
                e = requery(&val, v, vlen, "parameter value", err);
            if (!e)
                e = sigv4_qlist_push(l, &n, &val);
            ig_buf_free(&n);
            ig_sigv4_wipe_free(&val);
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

static int sigv4_qparam_cmp(const void *a, const void *b)
{
    const ig_sigv4_qparam *x = *(const ig_sigv4_qparam *const *)a;
    const ig_sigv4_qparam *y = *(const ig_sigv4_qparam *const *)b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

ig_err ig_sigv4_qlist_append(ig_buf *out, const ig_sigv4_qparam *const *items, size_t n)
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
ig_err ig_sigv4_canonical_query(ig_buf *out, const ig_sigv4_qlist *l)
{
    if (!l->len)
        return IG_OK;
    const ig_sigv4_qparam **sorted = malloc(l->len * sizeof *sorted);
    if (!sorted)
        return IG_ERR_NOMEM;
    for (size_t i = 0; i < l->len; i++)
        sorted[i] = &l->items[i];
    qsort(sorted, l->len, sizeof *sorted, sigv4_qparam_cmp);
    ig_err e = ig_sigv4_qlist_append(out, sorted, l->len);
    free(sorted);
    return e;
}

/* ---------------------------------------------------------------------------------------- */
/* Canonical headers                                                                         */
/* ---------------------------------------------------------------------------------------- */

ig_err ig_sigv4_hdr_add(ig_sigv4_hdr_list *l, const char *name, const char *value)
{
    size_t nlen = strlen(name);
    char *n = malloc(nlen + 1);
    char *v = malloc(strlen(value) + 1);
    if (!n || !v) {
        free(n);
        free(v); /* nothing written into it yet */
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
    return pairs_push(l, n, v);
}

/* By name; equal names keep the order they were added in (the pointers are in that order). */
static int sigv4_hdr_cmp(const void *a, const void *b)
{
    const ig_sigv4_pair *x = *(const ig_sigv4_pair *const *)a, *y = *(const ig_sigv4_pair *const *)b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return x < y ? -1 : x > y;
}

/* Sorts the list and writes "name:value\n" per distinct name (repeated names joined with
 * ',') into block, and "a;b;c" into signed_list. */
ig_err ig_sigv4_canonical_headers(ig_sigv4_hdr_list *l, ig_buf *block, ig_buf *signed_list)
{
    const ig_sigv4_pair **sorted = malloc((l->len ? l->len : 1) * sizeof *sorted);
    if (!sorted)
        return IG_ERR_NOMEM;
    for (size_t i = 0; i < l->len; i++)
        sorted[i] = &l->items[i];
    qsort(sorted, l->len, sizeof *sorted, sigv4_hdr_cmp);
    ig_err e = IG_OK;
    for (size_t i = 0; i < l->len && !e; i++) {
        const ig_sigv4_pair *h = sorted[i];
        int same = i > 0 && strcmp(h->name, sorted[i - 1]->name) == 0;
        if (same) {
            e = ig_buf_append_char(block, ',');
        } else {
            if (i)
                e = ig_buf_append_char(block, '\n');
            if (!e && signed_list->len)
                e = ig_buf_append_char(signed_list, ';');
            if (!e)
                e = ig_buf_append_str(signed_list, h->name);
            if (!e)
                e = ig_buf_append_str(block, h->name);
            if (!e)
                e = ig_buf_append_char(block, ':');
        }
        if (!e)
            e = ig_buf_append_str(block, h->value);
    }
    if (!e && l->len)
        e = ig_buf_append_char(block, '\n');
    free(sorted);
    return e;
}

/* Headers that hops may add, drop or rewrite; signing them would break the signature. */
int ig_sigv4_unsigned_header(const char *name)
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

ig_err ig_sigv4_payload_hash(const ig_sigv4_request *req, char out[65], const char **hash)
{
    if (req->payload_hash) {
        *hash = req->payload_hash;
        return IG_OK;
    }
    ig_sha256_hex(req->body ? req->body : "", req->body_len, out);
    *hash = out;
    return IG_OK;
}

ig_err ig_sigv4_assemble(ig_buf *cr, const char *method, const ig_buf *uri, const ig_buf *query,
                         const ig_buf *headers, const ig_buf *signed_list, const char *payload_hash)
{
    ig_buf_reset(cr);
    return ig_buf_appendf(cr, "%s\n%s\n%s\n%s\n%s\n%s", method, ig_buf_cstr(uri),
                          ig_buf_cstr(query), ig_buf_cstr(headers), ig_buf_cstr(signed_list),
                          payload_hash);
}

void ig_sigv4_parts_init(ig_sigv4_parts *pp)
{
    memset(pp, 0, sizeof *pp);
    ig_buf_init(&pp->uri, 0);
    ig_buf_init(&pp->header_block, 0);
    ig_buf_init(&pp->signed_list, 0);
    ig_buf_init(&pp->canonical_query, 0);
}

void ig_sigv4_parts_free(ig_sigv4_parts *pp)
{
    ig_buf_free(&pp->uri);
    ig_sigv4_pairs_free(&pp->query);
    ig_sigv4_pairs_free(&pp->headers);
    ig_sigv4_wipe_free(&pp->header_block);
    ig_buf_free(&pp->signed_list);
    ig_sigv4_wipe_free(&pp->canonical_query);
}

ig_err ig_sigv4_nomem(ig_err e, ig_error *err)
{
    if (e == IG_ERR_NOMEM || e == IG_ERR_TOO_LARGE)
        return ig_error_set(err, e, "out of memory building the canonical request");
    return e;
}

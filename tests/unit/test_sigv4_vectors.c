/* test_sigv4_vectors.c - AWS's Signature Version 4 test suite, every case in both forms.
 *
 * Each folder under $IMAGEGEN_SHARED_DIR/vectors/aws-signing-test-suite/v4 describes a raw
 * HTTP request and the expected canonical request, string to sign and signature for
 * Authorization-header signing and for presigning. The folders are discovered at run time,
 * so a new case is tested without touching this file. "normalize": false selects S3's
 * canonical-URI rule.
 */
#include <dirent.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "aws/sigv4.h"
#include "codec/percent.h"
#include "testlib.h"

#define IG_VECTOR_FORMS_EXPECTED 76

typedef struct {
    char *method;
    char *path;
    char *query;
    ig_header *headers;
    size_t n_headers;
    char *body;
    size_t body_len;
} ig_raw_request;

static void ig_raw_request_free(ig_raw_request *r)
{
    free(r->method);
    free(r->path);
    free(r->query);
    for (size_t i = 0; i < r->n_headers; i++) {
        free((char *)r->headers[i].name);
        free((char *)r->headers[i].value);
    }
    free(r->headers);
    free(r->body);
    memset(r, 0, sizeof *r);
}

static char *ig_dup(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* Parses request.txt: "METHOD target HTTP/1.1", then "Name:value" lines where a line starting
 * with white space continues the previous value (obs-fold, replaced by one space as RFC 7230
 * says), an empty line, then the body. The target may contain spaces ("/example space/"). */
static int ig_parse_raw_request(const char *text, size_t len, ig_raw_request *r)
{
    memset(r, 0, sizeof *r);
    const char *end = text + len;
    const char *eol = memchr(text, '\n', len);
    const char *line_end = eol ? eol : end;
    if (line_end > text && line_end[-1] == '\r')
        line_end--;
    const char *sp = memchr(text, ' ', (size_t)(line_end - text));
    if (!sp)
        return -1;
    const char *proto = NULL;
    for (const char *p = line_end - 1; p > sp; p--)
        if (*p == ' ') {
            proto = p;
            break;
        }
    if (!proto)
        return -1;
    r->method = ig_dup(text, (size_t)(sp - text));
    const char *target = sp + 1;
    const char *q = memchr(target, '?', (size_t)(proto - target));
    if (q) {
        r->path = ig_dup(target, (size_t)(q - target));
        r->query = ig_dup(q + 1, (size_t)(proto - q - 1));
    } else {
        r->path = ig_dup(target, (size_t)(proto - target));
    }
    size_t cap = 8;
    r->headers = calloc(cap, sizeof *r->headers);
    const char *p = eol ? eol + 1 : end;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *content_end = le > p && le[-1] == '\r' ? le - 1 : le;
        const char *next = nl ? nl + 1 : end;
        if (content_end == p) { /* the empty line: the body follows */
            r->body_len = (size_t)(end - next);
            r->body = ig_dup(next, r->body_len);
            return 0;
        }
        if ((*p == ' ' || *p == '\t') && r->n_headers) {
            ig_header *h = &r->headers[r->n_headers - 1];
            size_t old = strlen(h->value);
            size_t add = (size_t)(content_end - p);
            char *v = malloc(old + 1 + add + 1);
            memcpy(v, h->value, old);
            v[old] = ' ';
            memcpy(v + old + 1, p, add);
            v[old + 1 + add] = '\0';
            free((char *)h->value);
            h->value = v;
        } else {
            const char *colon = memchr(p, ':', (size_t)(content_end - p));
            if (!colon)
                return -1;
            if (r->n_headers == cap) {
                cap *= 2;
                r->headers = realloc(r->headers, cap * sizeof *r->headers);
            }
            r->headers[r->n_headers].name = ig_dup(p, (size_t)(colon - p));
            r->headers[r->n_headers].value = ig_dup(colon + 1, (size_t)(content_end - colon - 1));
            r->n_headers++;
        }
        p = next;
    }
    return 0;
}

typedef struct {
    char *dir;
    json_t *context;
    ig_sigv4_credentials creds;
    ig_sigv4_params params;
    ig_raw_request req;
} ig_vector_case;

static char *ig_case_file(const ig_vector_case *c, const char *name, size_t *len)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", c->dir, name);
    char *text = ig_test_read_file(path, len);
    if (!text)
        ig_test_fail(__FILE__, __LINE__, "cannot read %s", path);
    return text;
}

static int64_t ig_parse_timestamp(const char *s)
{
    struct tm tm = {0};
    if (!s || sscanf(s, "%d-%d-%dT%d:%d:%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                     &tm.tm_min, &tm.tm_sec) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm);
}

static int ig_case_load(ig_vector_case *c, const char *dir)
{
    memset(c, 0, sizeof *c);
    c->dir = strdup(dir);
    char path[8192];
    snprintf(path, sizeof path, "%s/context.json", dir);
    json_error_t jerr;
    c->context = json_load_file(path, 0, &jerr);
    if (!c->context) {
        printf("  %s: %s\n", path, jerr.text);
        return -1;
    }
    json_t *cr = json_object_get(c->context, "credentials");
    c->creds.access_key_id = json_string_value(json_object_get(cr, "access_key_id"));
    c->creds.secret_access_key = json_string_value(json_object_get(cr, "secret_access_key"));
    c->creds.session_token = json_string_value(json_object_get(cr, "token"));
    c->params.region = json_string_value(json_object_get(c->context, "region"));
    c->params.service = json_string_value(json_object_get(c->context, "service"));
    c->params.time =
        ig_parse_timestamp(json_string_value(json_object_get(c->context, "timestamp")));
    c->params.s3_uri_rules = !json_is_true(json_object_get(c->context, "normalize"));
    c->params.sign_content_sha256 = json_is_true(json_object_get(c->context, "sign_body"));
    c->params.omit_session_token = json_is_true(json_object_get(c->context, "omit_session_token"));
    c->params.expires = json_integer_value(json_object_get(c->context, "expiration_in_seconds"));
    size_t len;
    char *text = ig_case_file(c, "request.txt", &len);
    if (!text)
        return -1;
    int rc = ig_parse_raw_request(text, len, &c->req);
    free(text);
    if (rc)
        printf("  %s/request.txt: cannot parse\n", dir);
    return rc;
}

static void ig_case_free(ig_vector_case *c)
{
    json_decref(c->context);
    ig_raw_request_free(&c->req);
    free(c->dir);
}

static ig_sigv4_request ig_case_request(const ig_vector_case *c)
{
    ig_sigv4_request r = {0};
    r.method = c->req.method;
    r.path = c->req.path;
    r.query = c->req.query;
    r.headers = c->req.headers;
    r.n_headers = c->req.n_headers;
    r.body = c->req.body;
    r.body_len = c->req.body_len;
    return r;
}

static void ig_check_file(const ig_vector_case *c, const char *name, const char *got)
{
    size_t len;
    char *want = ig_case_file(c, name, &len);
    if (!want)
        return;
    if (strcmp(got, want) != 0)
        ig_test_fail(__FILE__, __LINE__, "%s/%s:\n  got:\n%s\n  expected:\n%s", c->dir, name, got,
                     want);
    free(want);
}

/* The value of "Name:" in a signed-request file's header lines. */
static char *ig_signed_request_header(const char *text, const char *name)
{
    size_t nlen = strlen(name);
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t ll = nl ? (size_t)(nl - p) : strlen(p);
        if (ll > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':')
            return ig_dup(p + nlen + 1, ll - nlen - 1);
        p = nl ? nl + 1 : NULL;
    }
    return NULL;
}

static void ig_run_header_form(const ig_vector_case *c, ig_sigv4_signer *signer)
{
    ig_sigv4_request req = ig_case_request(c);
    ig_sigv4_result res;
    ig_sigv4_result_init(&res);
    ig_error err = {0};
    ig_err e = ig_sigv4_sign_headers(signer, &c->creds, &c->params, &req, &res, &err);
    IG_CHECK_EQ_INT(e, IG_OK);
    if (e) {
        printf("  %s: %s\n", c->dir, err.message);
        ig_sigv4_result_free(&res);
        return;
    }
    ig_check_file(c, "header-canonical-request.txt", ig_buf_cstr(&res.canonical_request));
    ig_check_file(c, "header-string-to-sign.txt", ig_buf_cstr(&res.string_to_sign));
    ig_check_file(c, "header-signature.txt", res.signature);
    size_t len;
    char *signed_req = ig_case_file(c, "header-signed-request.txt", &len);
    if (signed_req) {
        char *auth = ig_signed_request_header(signed_req, "Authorization");
        IG_CHECK_EQ_STR(ig_buf_cstr(&res.authorization), auth);
        /* Every header the signer added travels with the value the suite expects. */
        for (size_t i = 0; i < res.n_added; i++) {
            char *want = ig_signed_request_header(signed_req, res.added[i].name);
            if (want || strcmp(res.added[i].name, "X-Amz-Content-SHA256") != 0)
                IG_CHECK_EQ_STR(res.added[i].value, want);
            free(want);
        }
        free(auth);
        free(signed_req);
    }
    ig_sigv4_result_free(&res);
}

/* Splits a query into decoded "name=value" strings, sorted, so that two queries carrying the
 * same parameters in another order or encoding compare equal. */
static size_t ig_query_decoded_sorted(const char *query, char ***out)
{
    size_t n = 0, cap = 16;
    char **items = malloc(cap * sizeof *items);
    char *copy = strdup(query ? query : "");
    char *save = NULL;
    for (char *t = strtok_r(copy, "&", &save); t; t = strtok_r(NULL, "&", &save)) {
        ig_buf b;
        ig_buf_init(&b, 0);
        char *eq = strchr(t, '=');
        size_t nlen = eq ? (size_t)(eq - t) : strlen(t);
        ig_percent_decode(&b, t, nlen);
        ig_buf_append_char(&b, '=');
        if (eq)
            ig_percent_decode(&b, eq + 1, strlen(eq + 1));
        if (n == cap)
            items = realloc(items, (cap *= 2) * sizeof *items);
        items[n++] = ig_buf_steal(&b, NULL);
    }
    free(copy);
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(items[j - 1], items[j]) > 0; j--) {
            char *tmp = items[j];
            items[j] = items[j - 1];
            items[j - 1] = tmp;
        }
    *out = items;
    return n;
}

static void ig_check_presigned_query(const ig_vector_case *c, const char *got)
{
    size_t len;
    char *signed_req = ig_case_file(c, "query-signed-request.txt", &len);
    if (!signed_req)
        return;
    ig_raw_request want_req;
    if (ig_parse_raw_request(signed_req, len, &want_req) != 0) {
        ig_test_fail(__FILE__, __LINE__, "%s/query-signed-request.txt: cannot parse", c->dir);
        free(signed_req);
        return;
    }
    char **want, **have;
    size_t nw = ig_query_decoded_sorted(want_req.query, &want);
    size_t nh = ig_query_decoded_sorted(got, &have);
    IG_CHECK_EQ_INT(nh, nw);
    for (size_t i = 0; i < nw && i < nh; i++)
        IG_CHECK_EQ_STR(have[i], want[i]);
    for (size_t i = 0; i < nw; i++)
        free(want[i]);
    for (size_t i = 0; i < nh; i++)
        free(have[i]);
    free(want);
    free(have);
    ig_raw_request_free(&want_req);
    free(signed_req);
}

static void ig_run_query_form(const ig_vector_case *c, ig_sigv4_signer *signer)
{
    ig_sigv4_request req = ig_case_request(c);
    ig_sigv4_result res;
    ig_sigv4_result_init(&res);
    ig_error err = {0};
    ig_err e = ig_sigv4_presign(signer, &c->creds, &c->params, &req, &res, &err);
    IG_CHECK_EQ_INT(e, IG_OK);
    if (e) {
        printf("  %s: %s\n", c->dir, err.message);
        ig_sigv4_result_free(&res);
        return;
    }
    ig_check_file(c, "query-canonical-request.txt", ig_buf_cstr(&res.canonical_request));
    ig_check_file(c, "query-string-to-sign.txt", ig_buf_cstr(&res.string_to_sign));
    ig_check_file(c, "query-signature.txt", res.signature);
    ig_check_presigned_query(c, ig_buf_cstr(&res.presigned_query));
    /* The signature is the last parameter, where every presigned URL carries it. */
    const char *sig = strstr(ig_buf_cstr(&res.presigned_query), "&X-Amz-Signature=");
    IG_CHECK(sig != NULL && strcmp(sig + strlen("&X-Amz-Signature="), res.signature) == 0);
    ig_sigv4_result_free(&res);
}

static int ig_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    char root[4096];
    snprintf(root, sizeof root, "%s/vectors/aws-signing-test-suite/v4", ig_test_shared_dir());
    DIR *d = opendir(root);
    if (!d) {
        printf("cannot open %s\n", root);
        printf("sigv4 vectors: 0 passed, 0 failed\n");
        return 1;
    }
    size_t n = 0, cap = 64;
    char **names = malloc(cap * sizeof *names);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char probe[4096 + 300];
        snprintf(probe, sizeof probe, "%s/%s/context.json", root, de->d_name);
        FILE *f = fopen(probe, "r");
        if (!f)
            continue;
        fclose(f);
        if (n == cap)
            names = realloc(names, (cap *= 2) * sizeof *names);
        names[n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, ig_name_cmp);

    /* One signer for the whole run: later cases hit the signing-key cache, which must not
     * change any result. */
    ig_sigv4_signer *signer = ig_sigv4_signer_new();
    for (size_t i = 0; i < n; i++) {
        char dir[4096 + 300], label[600];
        snprintf(dir, sizeof dir, "%s/%s", root, names[i]);
        ig_vector_case c;
        int loaded = ig_case_load(&c, dir) == 0;
        snprintf(label, sizeof label, "header %s", names[i]);
        ig_test_begin(label);
        if (loaded)
            ig_run_header_form(&c, signer);
        else
            ig_test_fail(__FILE__, __LINE__, "cannot load %s", dir);
        ig_test_end(label);
        snprintf(label, sizeof label, "query  %s", names[i]);
        ig_test_begin(label);
        if (loaded)
            ig_run_query_form(&c, signer);
        else
            ig_test_fail(__FILE__, __LINE__, "cannot load %s", dir);
        ig_test_end(label);
        ig_case_free(&c);
        free(names[i]);
    }
    free(names);
    uint64_t hits, misses;
    ig_sigv4_signer_stats(signer, &hits, &misses);
    printf("signing-key cache: %llu hits, %llu misses\n", (unsigned long long)hits,
           (unsigned long long)misses);
    ig_sigv4_signer_free(signer);
    int rc = ig_test_finish("sigv4 vectors");
    int ran = ig_test_passed + ig_test_failed;
    if (ran < IG_VECTOR_FORMS_EXPECTED) {
        printf("only %d of the %d expected forms ran: is %s complete?\n", ran,
               IG_VECTOR_FORMS_EXPECTED, root);
        rc = 1;
    }
    return rc;
}

/* http.c - HTTP transfers over libcurl, kept alive across calls.
 *
 * Every transfer runs on the client's one curl multi handle, even a single request: the multi
 * handle owns the connection cache, so a connection opened by one call is reused by the next
 * one to the same host, and parallel uploads share the same pool. A curl share adds the DNS
 * cache and TLS session tickets on top. Easy handles are pooled and reset between uses.
 *
 * The CA bundle is parsed once per process. OpenSSL 3 takes about 17 ms to parse a system
 * bundle of some 140 certificates, and curl keeps a parsed bundle per multi handle at best:
 * it parsed the file again for every connection opened side by side, so a cold request with
 * three parallel Bedrock calls and three uploads paid for six parses. Instead one store is
 * parsed at the first TLS connection (never at init: plain-HTTP endpoints never pay for it)
 * and handed to every TLS context, when curl's TLS library is OpenSSL; otherwise curl is
 * given the bundle's path as before.
 */
#include "http/http.h"

#include <curl/curl.h>
#include <limits.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/headers.h"
#include <strings.h>
#include <unistd.h>

#include "core/clock.h"

#define IG_HTTP_POOL_MAX 16
#define IG_HTTP_DEFAULT_CONNECT_MS 3000L
#define IG_HTTP_DEFAULT_MAX_BODY ((size_t)64 * 1024 * 1024)
#define IG_HTTP_MAX_CONNECTS 32L

struct ig_http_client {
    CURLM *multi;
    CURLSH *share;
    CURL *idle[IG_HTTP_POOL_MAX];
    size_t n_idle;
    char *ca_file;
    int shared_ca;           /* 1: ca_file is given to TLS as the process-wide parsed store */
    int use_proxy;
    long connect_timeout_ms;
    int64_t default_timeout_ms;
};

/* One request in flight: the easy handle and what its callbacks write into. */
typedef struct {
    CURL *easy;
    struct curl_slist *headers;
    ig_http_response *resp;
    int is_head;
    int too_large;
    char errbuf[CURL_ERROR_SIZE];
} ig_transfer;

static const char *const ig_ca_candidates[] = {
    "/etc/pki/tls/certs/ca-bundle.crt",   /* Amazon Linux (the Lambda images), Fedora, RHEL */
    "/etc/ssl/certs/ca-certificates.crt", /* Debian, Ubuntu */
};

/* ---- process-wide ---------------------------------------------------------------------- */

ig_err ig_http_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? IG_OK : IG_ERR_HTTP;
}

/* The parsed CA bundle, shared by every client's TLS contexts (which hold references). */
static pthread_mutex_t ca_lock = PTHREAD_MUTEX_INITIALIZER;
static X509_STORE *ca_store;
static char *ca_store_path;

static void ca_store_drop(void)
{
    X509_STORE_free(ca_store);
    free(ca_store_path);
    ca_store = NULL;
    ca_store_path = NULL;
}

void ig_http_global_cleanup(void)
{
    pthread_mutex_lock(&ca_lock);
    ca_store_drop();
    pthread_mutex_unlock(&ca_lock);
    curl_global_cleanup();
}

/* The store parsed from path (parsed now if it is not the one kept), with the verification
 * flags curl sets on a store it loads itself; NULL when the file holds no usable certificate. */
static X509_STORE *ca_store_for(const char *path)
{
    if (ca_store && strcmp(ca_store_path, path) == 0)
        return ca_store;
    X509_STORE *s = X509_STORE_new();
    char *p = strdup(path);
    if (!s || !p || X509_STORE_load_file(s, path) != 1) {
        X509_STORE_free(s);
        free(p);
        return NULL;
    }
    X509_STORE_set_flags(s, X509_V_FLAG_TRUSTED_FIRST | X509_V_FLAG_PARTIAL_CHAIN);
    ca_store_drop(); /* contexts made with the old one keep their own references */
    ca_store = s;
    ca_store_path = p;
    return s;
}

/* curl's CURLOPT_SSL_CTX_FUNCTION: every new TLS context trusts the shared store. */
static CURLcode on_ssl_ctx(CURL *easy, void *ssl_ctx, void *userdata)
{
    (void)easy;
    const ig_http_client *c = userdata;
    pthread_mutex_lock(&ca_lock);
    X509_STORE *s = ca_store_for(c->ca_file);
    if (s)
        SSL_CTX_set1_cert_store(ssl_ctx, s);
    pthread_mutex_unlock(&ca_lock);
    return s ? CURLE_OK : CURLE_SSL_CACERT_BADFILE;
}

/* 1 when curl's TLS library is OpenSSL, so its contexts are SSL_CTX (curl reports the backend
 * as "OpenSSL/3.0.19"; a multi-backend build lists the others after it). */
static int curl_tls_is_openssl(void)
{
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    return v && v->ssl_version && strncmp(v->ssl_version, "OpenSSL/", 8) == 0;
}

static int readable(const char *path)
{
    return path && *path && access(path, R_OK) == 0;
}

const char *ig_http_find_ca_bundle(void)
{
    const char *env = getenv("SSL_CERT_FILE");
    if (env && *env)
        return readable(env) ? env : NULL;
    for (size_t i = 0; i < sizeof ig_ca_candidates / sizeof ig_ca_candidates[0]; i++)
        if (readable(ig_ca_candidates[i]))
            return ig_ca_candidates[i];
    return NULL;
}

/* ---- client ---------------------------------------------------------------------------- */

static ig_err http_pick_ca(const ig_http_options *o, char **out, ig_error *err)
{
    const char *path = o->ca_file;
    const char *env = getenv("SSL_CERT_FILE");
    if (path) {
        if (!readable(path))
            return ig_error_set(err, IG_ERR_CONFIG, "the CA bundle %s cannot be read", path);
    } else if (env && *env) {
        /* An explicit setting that points nowhere is an error, not a reason to trust another file. */
        if (!readable(env))
            return ig_error_set(err, IG_ERR_CONFIG, "SSL_CERT_FILE names %s, which cannot be read", env);
        path = env;
    } else {
        path = ig_http_find_ca_bundle(); /* NULL: curl's built-in default */
    }
    *out = NULL;
    if (path && !(*out = strdup(path)))
        return ig_error_set(err, IG_ERR_NOMEM, "out of memory");
    return IG_OK;
}

ig_http_client *ig_http_client_new(const ig_http_options *opts, ig_error *err)
{
    ig_http_options defaults = {0};
    const ig_http_options *o = opts ? opts : &defaults;
    ig_http_client *c = calloc(1, sizeof *c);
    if (!c) {
        ig_error_set(err, IG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    c->use_proxy = o->use_proxy;
    c->connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : IG_HTTP_DEFAULT_CONNECT_MS;
    c->default_timeout_ms = o->default_timeout_ms > 0 ? o->default_timeout_ms : 0;
    if (http_pick_ca(o, &c->ca_file, err) != IG_OK) {
        free(c);
        return NULL;
    }
    c->shared_ca = c->ca_file && curl_tls_is_openssl();
    c->multi = curl_multi_init();
    c->share = curl_share_init();
    if (!c->multi || !c->share) {
        ig_error_set(err, IG_ERR_HTTP, "curl could not create its handles (was ig_http_global_init called?)");
        ig_http_client_free(c);
        return NULL;
    }
    curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, IG_HTTP_MAX_CONNECTS);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    return c;
}

void ig_http_client_free(ig_http_client *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_idle; i++)
        curl_easy_cleanup(c->idle[i]);
    if (c->multi)
        curl_multi_cleanup(c->multi); /* closes the cached connections */
    if (c->share)
        curl_share_cleanup(c->share);
    free(c->ca_file);
    free(c);
}

static CURL *http_acquire(ig_http_client *c)
{
    if (c->n_idle) {
        CURL *e = c->idle[--c->n_idle];
        curl_easy_reset(e);
        return e;
    }
    return curl_easy_init();
}

static void http_release(ig_http_client *c, CURL *e)
{
    if (!e)
        return;
    if (c->n_idle < IG_HTTP_POOL_MAX)
        c->idle[c->n_idle++] = e;
    else
        curl_easy_cleanup(e);
}

/* ---- responses ------------------------------------------------------------------------- */

void ig_http_response_init(ig_http_response *r)
{
    memset(r, 0, sizeof *r);
    ig_header_list_init(&r->headers);
    ig_buf_init(&r->body, 0);
}

void ig_http_response_reset(ig_http_response *r)
{
    r->status = 0;
    ig_header_list_clear(&r->headers);
    ig_buf_reset(&r->body);
    r->err = IG_OK;
    r->errmsg[0] = '\0';
    r->total_s = 0;
}

void ig_http_response_free(ig_http_response *r)
{
    ig_header_list_free(&r->headers);
    ig_buf_free(&r->body);
}

static void resp_fail(ig_http_response *r, ig_err code, const char *msg)
{
    r->err = code;
    snprintf(r->errmsg, sizeof r->errmsg, "%s", msg);
}

/* ---- callbacks ------------------------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    ig_transfer *t = userdata;
    size_t n = size * nmemb;
    if (ig_buf_append(&t->resp->body, data, n) != IG_OK) {
        t->too_large = 1;
        return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
    }
    return n;
}

static void trim_crlf(const char **s, size_t *n)
{
    while (*n && ((*s)[*n - 1] == '\r' || (*s)[*n - 1] == '\n'))
        (*n)--;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
    ig_transfer *t = userdata;
    size_t n = size * nmemb;
    const char *line = data;
    size_t len = n;
    trim_crlf(&line, &len);
    if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        /* A new status line: an interim answer (100 Continue) came before; keep the last only. */
        ig_header_list_clear(&t->resp->headers);
        return n;
    }
    const char *colon = memchr(line, ':', len);
    if (!colon || colon == line)
        return n; /* the blank line ending the block, or a malformed line */
    size_t name_len = (size_t)(colon - line);
    const char *value = colon + 1;
    size_t value_len = len - name_len - 1;
    if (ig_header_list_add(&t->resp->headers, line, name_len, value, value_len) != IG_OK)
        return 0;
    if (!t->is_head && name_len == 14 && strncasecmp(line, "content-length", 14) == 0) {
        /* Reserve the announced size once instead of growing through many reallocations. */
        char tmp[32];
        size_t vl = value_len < sizeof tmp - 1 ? value_len : sizeof tmp - 1;
        memcpy(tmp, value, vl);
        tmp[vl] = '\0';
        char *end;
        unsigned long long cl = strtoull(tmp, &end, 10);
        ig_buf *b = &t->resp->body;
        if (end != tmp && (!b->max || cl <= b->max) && cl < (unsigned long long)SIZE_MAX / 2)
            (void)ig_buf_reserve(b, (size_t)cl);
    }
    return n;
}

/* ---- request setup --------------------------------------------------------------------- */

static ig_err add_header_line(ig_transfer *t, const char *name, const char *value)
{
    ig_buf line;
    ig_buf_init(&line, 0);
    ig_err e = *value ? ig_buf_appendf(&line, "%s: %s", name, value)
                      : ig_buf_appendf(&line, "%s;", name); /* curl's syntax for an empty value */
    if (e == IG_OK) {
        struct curl_slist *l = curl_slist_append(t->headers, line.data);
        if (l)
            t->headers = l;
        else
            e = IG_ERR_NOMEM;
    }
    ig_buf_free(&line);
    return e;
}

static int method_has_body(const char *m)
{
    return strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0;
}

static ig_err setup_headers(ig_transfer *t, const ig_http_request *req)
{
    int has_body = method_has_body(req->method);
    for (size_t i = 0; i < req->n_headers; i++) {
        const ig_header *h = &req->headers[i];
        if (!ig_header_name_valid(h->name)) {
            snprintf(t->resp->errmsg, sizeof t->resp->errmsg, "header %zu has an invalid name", i);
            return IG_ERR_INVALID_ARG;
        }
        if (!h->value || !ig_header_value_valid(h->value)) {
            snprintf(t->resp->errmsg, sizeof t->resp->errmsg,
                     "the value of header %.64s contains a control character", h->name);
            return IG_ERR_INVALID_ARG;
        }
        if (add_header_line(t, h->name, h->value) != IG_OK)
            return IG_ERR_NOMEM;
    }
    if (has_body) {
        /* No "Expect: 100-continue" round trip, and no form content type made up by curl. */
        struct curl_slist *l = curl_slist_append(t->headers, "Expect:");
        if (!l)
            return IG_ERR_NOMEM;
        t->headers = l;
        if (!ig_headers_find(req->headers, req->n_headers, "content-type")) {
            if (!(l = curl_slist_append(t->headers, "Content-Type:")))
                return IG_ERR_NOMEM;
            t->headers = l;
        }
    }
    return IG_OK;
}

static int method_ok(const char *m)
{
    if (!m || !*m || strlen(m) > 16)
        return 0;
    for (; *m; m++)
        if (*m < 'A' || *m > 'Z')
            return 0;
    return 1;
}

static void setup_method(CURL *e, const ig_http_request *req)
{
    const char *m = req->method;
    if (strcmp(m, "GET") == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(m, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L); /* never waits for a body */
    } else {
        /* Every body goes out as a fixed-length POST body; PUT and others rename the method. */
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
        if (strcmp(m, "POST") != 0)
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
    }
}

/* Sets the timeouts; IG_ERR_DEADLINE when the deadline has already passed. */
static ig_err setup_timeouts(ig_http_client *c, CURL *e, int64_t deadline_ms)
{
    int64_t total = c->default_timeout_ms;
    if (deadline_ms > 0) {
        total = deadline_ms - ig_now_ms();
        if (total <= 0)
            return IG_ERR_DEADLINE;
    }
    long connect = c->connect_timeout_ms;
    if (total > 0 && total < connect)
        connect = (long)total;
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, total > 0 ? (long)(total < LONG_MAX ? total : LONG_MAX) : 0L);
    return IG_OK;
}

static ig_err transfer_setup(ig_http_client *c, ig_transfer *t, const ig_http_request *req)
{
    ig_http_response *r = t->resp;
    ig_http_response_reset(r);
    r->body.max = req->max_response_bytes ? req->max_response_bytes : IG_HTTP_DEFAULT_MAX_BODY;
    if (!req->url || !method_ok(req->method)) {
        resp_fail(r, IG_ERR_INVALID_ARG, req->url ? "invalid HTTP method" : "no URL");
        return r->err;
    }
    t->is_head = strcmp(req->method, "HEAD") == 0;
    if (!(t->easy = http_acquire(c))) {
        resp_fail(r, IG_ERR_NOMEM, "curl could not create a handle");
        return r->err;
    }
    CURL *e = t->easy;
    if (setup_timeouts(c, e, req->deadline_ms) != IG_OK) {
        resp_fail(r, IG_ERR_DEADLINE, "the deadline passed before the request was sent");
        return r->err;
    }
    ig_err he = setup_headers(t, req);
    if (he != IG_OK) {
        r->err = he;
        if (he == IG_ERR_NOMEM)
            snprintf(r->errmsg, sizeof r->errmsg, "out of memory");
        return he;
    }
    t->errbuf[0] = '\0';
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_SHARE, c->share);
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L); /* the path is signed as sent: no dot squashing */
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    if (!c->use_proxy)
        curl_easy_setopt(e, CURLOPT_PROXY, "");
    if (c->shared_ca && curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx) == CURLE_OK) {
        /* curl loads nothing itself: no file, no directory; on_ssl_ctx supplies the store */
        curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, c);
        curl_easy_setopt(e, CURLOPT_CAINFO, NULL);
        curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
    } else if (c->ca_file) {
        curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
    if (!t->is_head) /* a HEAD answer announces the object's size, not a body to read */
        curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)r->body.max);
    setup_method(e, req);
    return IG_OK;
}

/* ---- completion ------------------------------------------------------------------------ */

static ig_err map_curl(CURLcode rc, int too_large)
{
    switch (rc) {
    case CURLE_OK:
        return IG_OK;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
        return IG_ERR_CONNECT;
    case CURLE_OPERATION_TIMEDOUT:
        return IG_ERR_TIMEOUT;
    case CURLE_FILESIZE_EXCEEDED:
        return IG_ERR_TOO_LARGE;
    case CURLE_WRITE_ERROR:
        return too_large ? IG_ERR_TOO_LARGE : IG_ERR_HTTP;
    default:
        return IG_ERR_HTTP;
    }
}

static void transfer_finish(ig_transfer *t, CURLcode rc)
{
    ig_http_response *r = t->resp;
    long status = 0;
    double total = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(t->easy, CURLINFO_TOTAL_TIME, &total);
    r->total_s = total;
    r->err = map_curl(rc, t->too_large);
    if (r->err == IG_OK) {
        r->status = status;
        return;
    }
    r->status = 0; /* a partial answer is no answer */
    if (r->err == IG_ERR_TOO_LARGE)
        snprintf(r->errmsg, sizeof r->errmsg, "the response body exceeds the limit of %zu bytes",
                 r->body.max);
    else
        snprintf(r->errmsg, sizeof r->errmsg, "%s", t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc));
}

static void transfer_release(ig_http_client *c, ig_transfer *t)
{
    if (t->easy) {
        /* The slist dies here: the pooled handle must not keep a pointer to it. */
        curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, NULL);
        http_release(c, t->easy);
        t->easy = NULL;
    }
    curl_slist_free_all(t->headers);
    t->headers = NULL;
}

static void drain_messages(CURLM *multi)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        ig_transfer *t = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        CURLcode rc = msg->data.result;
        curl_multi_remove_handle(multi, msg->easy_handle);
        if (t)
            transfer_finish(t, rc);
    }
}

static ig_err run_multi(CURLM *multi)
{
    int running = 1;
    while (running) {
        CURLMcode mc = curl_multi_perform(multi, &running);
        if (mc != CURLM_OK)
            return IG_ERR_HTTP;
        drain_messages(multi);
        if (!running)
            break;
        if (curl_multi_poll(multi, NULL, 0, 1000, NULL) != CURLM_OK)
            return IG_ERR_HTTP;
    }
    drain_messages(multi);
    return IG_OK;
}

ig_err ig_http_perform_many(ig_http_client *c, const ig_http_request *reqs, ig_http_response *resps,
                            size_t n)
{
    if (!c || (n && (!reqs || !resps)))
        return IG_ERR_INVALID_ARG;
    if (n == 0)
        return IG_OK;
    ig_transfer *ts = calloc(n, sizeof *ts);
    if (!ts) {
        for (size_t i = 0; i < n; i++)
            resp_fail(&resps[i], IG_ERR_NOMEM, "out of memory");
        return IG_ERR_NOMEM;
    }
    size_t added = 0;
    for (size_t i = 0; i < n; i++) {
        ts[i].resp = &resps[i];
        if (transfer_setup(c, &ts[i], &reqs[i]) != IG_OK)
            continue;
        if (curl_multi_add_handle(c->multi, ts[i].easy) != CURLM_OK) {
            resp_fail(&resps[i], IG_ERR_HTTP, "curl could not start the transfer");
            continue;
        }
        resps[i].err = IG_ERR_HTTP; /* until the transfer reports its result */
        snprintf(resps[i].errmsg, sizeof resps[i].errmsg, "the transfer did not complete");
        added++;
    }
    ig_err run = added ? run_multi(c->multi) : IG_OK;
    if (run != IG_OK) {
        /* The multi handle failed as a whole: detach whatever is still attached. */
        for (size_t i = 0; i < n; i++)
            if (ts[i].easy)
                curl_multi_remove_handle(c->multi, ts[i].easy);
    }
    ig_err first = IG_OK;
    for (size_t i = 0; i < n; i++) {
        transfer_release(c, &ts[i]);
        if (first == IG_OK && resps[i].err != IG_OK)
            first = resps[i].err;
    }
    free(ts);
    return first;
}

ig_err ig_http_perform(ig_http_client *c, const ig_http_request *req, ig_http_response *resp)
{
    if (!c || !req || !resp)
        return IG_ERR_INVALID_ARG;
    ig_http_perform_many(c, req, resp, 1);
    return resp->err;
}

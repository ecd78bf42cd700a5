/* http.h - the only module that includes curl.
 *
 * An ig_http_client keeps its connections alive across calls (TCP and TLS are paid once per
 * host per container), finds the CA bundle where the platform keeps it (SSL_CERT_FILE wins;
 * then /etc/pki/tls/certs/ca-bundle.crt on Amazon Linux, /etc/ssl/certs/ca-certificates.crt
 * on Debian), ignores proxy variables unless asked to use them, caps response bodies, and
 * turns an absolute deadline into connect and total timeouts. Several requests can run in
 * parallel (curl multi) with ig_http_perform_many.
 *
 * Not thread-safe: one client per thread.
 */
#ifndef IG_HTTP_H
#define IG_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/headers.h"

typedef struct ig_http_client ig_http_client;

typedef struct {
    const char *ca_file;         /* NULL: discover (SSL_CERT_FILE, Amazon Linux, Debian paths) */
    int use_proxy;               /* 0: proxies off even when HTTP(S)_PROXY is set */
    long connect_timeout_ms;     /* 0: default 3000 */
    int64_t default_timeout_ms;  /* used when a request has no deadline; 0 = none (long poll) */
} ig_http_options;

typedef struct {
    const char *method;          /* "GET", "PUT", "POST", "HEAD" */
    const char *url;             /* absolute, already encoded */
    const ig_header *headers;
    size_t n_headers;
    const void *body;
    size_t body_len;
    int64_t deadline_ms;         /* absolute epoch ms; 0 = the client's default timeout */
    size_t max_response_bytes;   /* 0: 64 MiB */
} ig_http_request;

typedef struct {
    long status;                 /* 0 when no response arrived */
    ig_header_list headers;      /* lower-cased names */
    ig_buf body;
    ig_err err;                  /* IG_OK, or the transport failure: CONNECT, TIMEOUT, DEADLINE, TOO_LARGE, HTTP */
    char errmsg[256];            /* curl's sentence for err */
    double total_s;              /* transfer time */
} ig_http_response;

ig_err ig_http_global_init(void);    /* once per process, before any client */
void ig_http_global_cleanup(void);

/* Finds the CA bundle path as described above; NULL when none exists. */
const char *ig_http_find_ca_bundle(void);

ig_http_client *ig_http_client_new(const ig_http_options *opts, ig_error *err);
void ig_http_client_free(ig_http_client *c);

void ig_http_response_init(ig_http_response *r);
void ig_http_response_reset(ig_http_response *r); /* reuse: clears body and headers */
void ig_http_response_free(ig_http_response *r);

/* Performs one request. Returns resp->err (IG_OK when a response arrived, whatever its
 * status). A deadline already passed gives IG_ERR_DEADLINE without sending anything. */
ig_err ig_http_perform(ig_http_client *c, const ig_http_request *req, ig_http_response *resp);
/* Performs n requests in parallel; each response carries its own err. Returns IG_OK when
 * every transfer produced a response, else the first transport error. */
ig_err ig_http_perform_many(ig_http_client *c, const ig_http_request *reqs,
                            ig_http_response *resps, size_t n);

#endif

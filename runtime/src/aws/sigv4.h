/* sigv4.h - AWS Signature Version 4 (AWS4-HMAC-SHA256): header signing, query presigning, and
 * verification (for the local Bedrock stand-in).
 *
 * The caller describes the request exactly as it will travel: the path and query already
 * percent-encoded as sent, every header that will be sent (Host included). Two canonical-URI
 * rules exist:
 *   - s3_uri_rules = 1: the path is signed as sent (encoded once), never normalized;
 *   - s3_uri_rules = 0 (every other service, Bedrock included): the path is normalized
 *     (".", "..", duplicate slashes) and percent-encoded again, so "%3A" is signed as "%253A".
 * Signing keys are cached per (secret, date, region, service) inside an ig_sigv4_signer.
 * Nothing here logs; secrets never leave this module except as derived signatures.
 */
#ifndef IG_SIGV4_H
#define IG_SIGV4_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/headers.h"

/* A non-owning view of credentials; aws/credentials owns and wipes the storage. */
typedef struct {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token; /* NULL or "" when there is none */
} ig_sigv4_credentials;

typedef struct {
    const char *method;        /* "GET", "PUT", "POST", "HEAD" */
    const char *path;          /* as sent: "/model/amazon.titan-image-generator-v1%3A0/invoke" */
    const char *query;         /* as sent, without '?'; NULL or "" for none */
    const ig_header *headers;  /* every header that will be sent, Host included */
    size_t n_headers;
    const void *body;
    size_t body_len;
    const char *payload_hash;  /* NULL: SHA-256 of body; else a hex digest or "UNSIGNED-PAYLOAD" */
} ig_sigv4_request;

typedef struct {
    const char *region;
    const char *service;        /* the signing name: "bedrock", "s3", ... */
    int64_t time;               /* epoch seconds of the signature */
    int s3_uri_rules;           /* 1: S3 canonical URI (as sent); 0: normalize + encode again */
    int sign_content_sha256;    /* header signing: add and sign x-amz-content-sha256 (S3) */
    int omit_session_token;     /* send the token but leave it out of the signature (test suite) */
    int64_t expires;            /* presigning: X-Amz-Expires in seconds (1 .. 604800) */
} ig_sigv4_params;

#define IG_SIGV4_MAX_ADDED_HEADERS 4

typedef struct {
    ig_buf canonical_request;
    ig_buf string_to_sign;
    char signature[65];
    char amz_date[17];          /* "20150830T123600Z" */
    /* Header signing: headers the caller must add to the request, in this order:
     * x-amz-date, [x-amz-security-token], [x-amz-content-sha256], authorization.
     * Names and values point into storage owned by this result. */
    ig_header added[IG_SIGV4_MAX_ADDED_HEADERS];
    size_t n_added;
    ig_buf authorization;       /* header signing: the Authorization value */
    ig_buf presigned_query;     /* presigning: the whole query to send, X-Amz-Signature last */
    ig_buf storage;             /* internal */
} ig_sigv4_result;

typedef struct ig_sigv4_signer ig_sigv4_signer;

ig_sigv4_signer *ig_sigv4_signer_new(void);
void ig_sigv4_signer_free(ig_sigv4_signer *s); /* wipes cached keys */
/* Signing-key cache hits and misses so far (for tests and metrics). The signer may be shared
 * between threads; passing NULL as the signer to the functions below derives the key every
 * time. */
void ig_sigv4_signer_stats(ig_sigv4_signer *s, uint64_t *hits, uint64_t *misses);

/* "20150830T123600Z" for epoch seconds 0 .. 253402300799; -1 (and "") outside. */
int ig_sigv4_format_date(int64_t epoch_s, char out[17]);
/* The inverse; -1 unless s is exactly that format and a real date. */
int ig_sigv4_parse_date(const char *s, int64_t *epoch_s);

void ig_sigv4_result_init(ig_sigv4_result *r);
void ig_sigv4_result_free(ig_sigv4_result *r);

/* Authorization-header signing. */
ig_err ig_sigv4_sign_headers(ig_sigv4_signer *s, const ig_sigv4_credentials *creds,
                             const ig_sigv4_params *p, const ig_sigv4_request *req,
                             ig_sigv4_result *out, ig_error *err);
/* Query-string presigning. With a session token, X-Amz-Security-Token is part of the query
 * before signing (unless omit_session_token). The presigned query keeps req->query's own
 * parameters. */
ig_err ig_sigv4_presign(ig_sigv4_signer *s, const ig_sigv4_credentials *creds,
                        const ig_sigv4_params *p, const ig_sigv4_request *req,
                        ig_sigv4_result *out, ig_error *err);

/* Verifies the Authorization header of a received request against the one key pair the
 * verifier knows. Checks the algorithm, the access key id, the credential scope (date,
 * region, service), that host and x-amz-date are signed, the clock skew (|now - x-amz-date|
 * <= max_skew_s), and the signature with a constant-time compare. Returns IG_OK, or
 * IG_ERR_SIGNATURE / IG_ERR_CREDENTIALS / IG_ERR_INVALID_ARG with a sentence in err worded
 * the way AWS words it ("The request signature we calculated does not match ...",
 * "Signature expired: ...", "The security token included in the request is invalid."). */
ig_err ig_sigv4_verify(const ig_sigv4_credentials *known, const char *region, const char *service,
                       int s3_uri_rules, const ig_sigv4_request *req, int64_t now,
                       int64_t max_skew_s, ig_error *err);

#endif

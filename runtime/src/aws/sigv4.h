/* sigv4.h - AWS Signature Version 4 (AWS4-HMAC-SHA256): header signing, query presigning, and
 * verification (for the local Bedrock stand-in).
 *
 * The caller describes the request exactly as it will travel: the path and query already
 * percent-encoded as sent, every header that will be sent (Host included, with ":port" when
 * the port is not the scheme's default, as curl sends it). Two canonical-URI rules exist:
 *   - s3_uri_rules = 1: the path is signed as sent (encoded once), never normalized; a byte
 *     that cannot travel raw (space, non-ASCII) is encoded once, "%XX" escapes are kept;
 *   - s3_uri_rules = 0 (every other service, Bedrock included): the path is normalized
 *     (".", "..", duplicate slashes; a trailing slash kept) and percent-encoded again, so
 *     "%3A" is signed as "%253A".
 * The query is decoded and encoded again with the unreserved set, then sorted by name and
 * value; "a" and "a=" are the same, repeated names are kept, '+' is a literal plus (send a
 * space as %20). Every header passed is signed except Connection, Expect, Transfer-Encoding,
 * User-Agent and X-Amzn-Trace-Id, which hops rewrite. Values are trimmed and inner runs of
 * spaces and tabs collapsed; a name given twice is signed as "v1,v2" in order.
 *
 * Signing keys are cached per (secret, date, region, service) inside an ig_sigv4_signer; a
 * signer may be shared between threads. Nothing here logs; secrets never leave this module
 * except as derived signatures. Bad input is refused with IG_ERR_INVALID_ARG (naming the
 * header, parameter or field), IG_ERR_REGION (missing or malformed region) or
 * IG_ERR_CREDENTIALS (missing or malformed key id, secret or token), never signed.
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
     * X-Amz-Date, [X-Amz-Security-Token], [X-Amz-Content-SHA256], Authorization.
     * Values point into storage owned by this result (names are constants). The request
     * must not carry these itself (IG_ERR_INVALID_ARG). */
    ig_header added[IG_SIGV4_MAX_ADDED_HEADERS];
    size_t n_added;
    ig_buf authorization;       /* header signing: the Authorization value */
    /* Presigning: the whole query to send, botocore's layout: the request's own parameters
     * (re-encoded, in their order), then X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
     * X-Amz-Expires, X-Amz-SignedHeaders, [X-Amz-Security-Token], X-Amz-Signature. */
    ig_buf presigned_query;
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

/* Authorization-header signing. out is reset first and may be reused; on failure it is
 * left empty. */
ig_err ig_sigv4_sign_headers(ig_sigv4_signer *s, const ig_sigv4_credentials *creds,
                             const ig_sigv4_params *p, const ig_sigv4_request *req,
                             ig_sigv4_result *out, ig_error *err);
/* Query-string presigning. With a session token, X-Amz-Security-Token is part of the query
 * before signing (unless omit_session_token: then it is sent but not signed). The presigned
 * query keeps req->query's own parameters; it must not already hold X-Amz-* signing
 * parameters. p->expires must be 1 .. 604800. For S3 set payload_hash "UNSIGNED-PAYLOAD";
 * NULL hashes the body, as other services expect. No header is added. */
ig_err ig_sigv4_presign(ig_sigv4_signer *s, const ig_sigv4_credentials *creds,
                        const ig_sigv4_params *p, const ig_sigv4_request *req,
                        ig_sigv4_result *out, ig_error *err);

/* Browser-based uploads (S3 POST with a policy): the hex HMAC-SHA256 of policy_b64 (the
 * base64 policy exactly as the form carries it) under the signing key of (the secret, the UTC
 * day of time, region, service), derived and cached as for the other modes. The verifier of
 * such a form calls it too, with the day of the form's x-amz-credential. */
ig_err ig_sigv4_sign_policy(ig_sigv4_signer *s, const ig_sigv4_credentials *creds, const char *region,
                            const char *service, int64_t time, const char *policy_b64, size_t policy_len,
                            char signature[65], ig_error *err);

/* Verifies the Authorization header of a received request against the one key pair the
 * verifier knows. Checks the algorithm, the access key id, the credential scope (date,
 * region, service), that host and x-amz-date are signed, the clock skew (|now - x-amz-date|
 * <= max_skew_s), and the signature with a constant-time compare. Returns IG_OK, or
 * IG_ERR_SIGNATURE / IG_ERR_CREDENTIALS / IG_ERR_INVALID_ARG with a sentence in err worded
 * the way AWS words it ("The request signature we calculated does not match ...",
 * "Signature expired: ...", "The security token included in the request is invalid.").
 * req is the request as received: path and query still percent-encoded, every header
 * (Authorization included). The payload hash is X-Amz-Content-SHA256 when present (it must
 * match the body unless "UNSIGNED-PAYLOAD"), else the SHA-256 of the body; req->payload_hash
 * is ignored. A known session token must arrive in X-Amz-Security-Token; a request with a
 * token the verifier does not hold is refused. IG_ERR_CREDENTIALS: another access key id or
 * token (or no usable known credentials); IG_ERR_SIGNATURE: anything else wrong with the
 * request, malformed input included; IG_ERR_INVALID_ARG / IG_ERR_REGION: the verifier's own
 * arguments are unusable. Presigned (query-string) requests are not verified here. */
ig_err ig_sigv4_verify(const ig_sigv4_credentials *known, const char *region, const char *service,
                       int s3_uri_rules, const ig_sigv4_request *req, int64_t now,
                       int64_t max_skew_s, ig_error *err);

#endif

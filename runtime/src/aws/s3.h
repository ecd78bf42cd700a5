/* s3.h - the S3 operations imagegen needs: PutObject (in parallel), HeadObject, GetObject under a
 * size cap, presigned GET, and presigned POST (browser-based uploads under a signed policy).
 *
 * Requests are signed with SigV4 (service "s3", S3's canonical-URI rule, x-amz-content-sha256
 * with the real SHA-256 of the body) and retried in standard mode. Keys are percent-encoded
 * per segment ('/' kept). User-defined metadata values are sent as ASCII: a value with any
 * byte outside printable ASCII (CR, LF, NUL, non-ASCII UTF-8...) is sent RFC 2047-encoded
 * (=?UTF-8?B?...?=), so user text can never break or add a header. S3's XML errors are
 * decoded to code and message.
 */
#ifndef IG_S3_H
#define IG_S3_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "aws/aws.h"

typedef struct ig_s3 ig_s3;

/* The client for one bucket; the endpoint comes from endpoints.h rules. */
ig_s3 *ig_s3_new(ig_aws_context *ctx, const char *bucket, ig_error *err);
void ig_s3_free(ig_s3 *s3);

/* The origin of the bucket's URLs (presigned GETs and the upload form's): "scheme://host[:port]",
 * appended to out: what a web page's Content-Security-Policy must allow. */
ig_err ig_s3_origin(const ig_s3 *s3, ig_buf *out);

/* Keys: 1 to 1024 bytes of valid UTF-8 with no control characters (C0, DEL, C1). 1 when valid;
 * else 0 and IG_ERR_BAD_KEY with the byte offset in err. */
int ig_s3_key_valid(const char *key, ig_error *err);

/* User metadata values as sent: unchanged when every byte is printable ASCII (0x20-0x7E), else
 * (and when the value contains "=?" or starts or ends with a space, which would not survive
 * the trip) one RFC 2047 encoded word "=?UTF-8?B?<base64>?=". A value that is not valid UTF-8
 * is IG_ERR_BAD_KEY. Appends to out. */
ig_err ig_s3_meta_encode(const char *value, ig_buf *out, ig_error *err);
/* The inverse, for values as S3 returns them: a value made only of encoded words (B or Q,
 * charset UTF-8 or US-ASCII, separated by white space) is decoded; anything else is appended
 * unchanged. */
ig_err ig_s3_meta_decode(const char *value, ig_buf *out);
/* S3's limit on user metadata: names plus values, in bytes. */
#define IG_S3_META_MAX 2048
#define IG_S3_META_NAME_MAX 64
/* A user metadata name as this client sends it: 1 to 64 of a-z, 0-9 and '-' (lower case, so
 * that S3's case folding cannot merge two names). */
int ig_s3_metadata_name_valid(const char *name);

typedef struct {
    const char *key;
    const void *data;
    size_t len;
    const char *content_type;      /* required */
    const char *cache_control;     /* NULL: not sent */
    const char *sse;               /* NULL, "AES256" or "aws:kms" */
    const char *sse_kms_key_id;    /* with "aws:kms"; NULL: the bucket's default key */
    const ig_header *metadata;     /* names without "x-amz-meta-"; [a-z0-9-] only */
    size_t n_metadata;
} ig_s3_put_request;

/* Why an operation stopped retrying: see ig_retry_verdict_name (NULL on success). */

typedef struct {
    ig_err err;                    /* IG_OK: the object is stored */
    long status;
    char code[64];                 /* S3 error code, e.g. "NoSuchBucket" */
    char message[256];
    char etag[80];
    char request_id[64];           /* x-amz-request-id */
    int attempts;
    double seconds;
    const char *stop_reason;
} ig_s3_result;

/* Uploads n objects in parallel, each retried on its own. Returns IG_OK only when every
 * object was stored, else the first failed object's err; results[i] says what happened to
 * each: IG_OK; IG_ERR_AWS (status, code, message); IG_ERR_BAD_KEY / IG_ERR_INVALID_ARG /
 * IG_ERR_EMPTY / IG_ERR_TOO_LARGE (refused before sending, message says why);
 * IG_ERR_DEADLINE; or the transport error of the last attempt. */
ig_err ig_s3_put_objects(ig_s3 *s3, const ig_s3_put_request *puts, size_t n, int64_t deadline_ms,
                         ig_s3_result *results);

typedef struct {
    ig_err err;                    /* IG_OK: found; IG_ERR_AWS with status 404 when absent */
    long status;
    char code[64];
    char message[256];
    uint64_t content_length;
    char content_type[128];
    char etag[80];
    ig_header_list metadata;       /* x-amz-meta-* headers with the prefix stripped, values decoded */
    char request_id[64];
    int attempts;
    const char *stop_reason;
} ig_s3_head_result;

void ig_s3_head_result_init(ig_s3_head_result *r);
void ig_s3_head_result_free(ig_s3_head_result *r);
ig_err ig_s3_head_object(ig_s3 *s3, const char *key, int64_t deadline_ms, ig_s3_head_result *out);

/* A presigned GET URL valid for expires_s seconds (1 .. 604800) from now_s (epoch seconds). */
ig_err ig_s3_presign_get(ig_s3 *s3, const char *key, int64_t expires_s, int64_t now_s,
                         ig_buf *url_out, ig_error *err);
/* The same, with attachment (NULL: none; else 1 to 128 of [A-Za-z0-9._-], no leading dot) as
 * response-content-disposition "attachment; filename=\"<attachment>\"": a browser that opens
 * the URL saves the object under that name (a cross-origin link's download attribute is
 * ignored). */
ig_err ig_s3_presign_download(ig_s3 *s3, const char *key, const char *attachment, int64_t expires_s, int64_t now_s,
                              ig_buf *url_out, ig_error *err);

typedef struct {
    ig_err err;                    /* IG_OK: the object is in body; IG_ERR_AWS with status 404 (code
                                    * "NoSuchKey") when absent; IG_ERR_TOO_LARGE when over the cap */
    long status;
    char code[64];
    char message[256];             /* S3's message, or why it was refused */
    uint64_t content_length;       /* bytes in body */
    char content_type[128];
    char etag[80];
    char request_id[64];
    int attempts;
    const char *stop_reason;
} ig_s3_get_result;

/* GetObject of key, refused past max_bytes (>= 1): an object whose Content-Length is larger is
 * refused (IG_ERR_TOO_LARGE, with a sentence naming both sizes) before its body is read; without
 * a Content-Length the transfer is cut once past the cap. Never reads more than
 * max(max_bytes, 16 KiB), room for an error document. Signed like the others and retried in
 * standard mode; a refusal by size is not retried. body is emptied first and, on IG_OK, holds
 * the object (its cap field is kept); out says what happened. */
ig_err ig_s3_get_object(ig_s3 *s3, const char *key, size_t max_bytes, int64_t deadline_ms, ig_s3_get_result *out,
                        ig_buf *body);

/* A browser-based upload (HTML form POST, "presigned POST") of exactly one object. */
typedef struct {
    const char *key;               /* exact; checked as every key (ig_s3_key_valid) */
    const char *content_type;      /* exact; 1 to 255 bytes of printable ASCII */
    uint64_t max_bytes;            /* the file may be 1 .. max_bytes bytes; at most 5 GiB */
    int64_t expires_s;             /* the policy expires this long after now_s: 1 .. 604800 */
} ig_s3_post_request;

/* Signs a POST policy (AWS SigV4, "Authenticating Requests in Browser-Based Uploads Using
 * POST") at now_s (epoch seconds; <= 0: now). The policy, as botocore's generate_presigned_post
 * writes it for the same inputs but with milliseconds in its expiration (as AWS's documentation
 * writes it):
 *   {"expiration": "2025-11-29T15:03:20.000Z", "conditions": [{"Content-Type": T},
 *    ["content-length-range", 1, N], {"bucket": B}, {"key": K}, {"x-amz-algorithm": "AWS4-HMAC-SHA256"},
 *    {"x-amz-credential": "<id>/<yyyymmdd>/<region>/s3/aws4_request"}, {"x-amz-date": D}
 *    [, {"x-amz-security-token": S}]]}
 * *out (the caller's to json_decref) is
 *   {"url": the bucket's endpoint (path style: ".../<bucket>", virtual-hosted: "https://<bucket>.s3...../"),
 *    "fields": {"key", "Content-Type", "x-amz-algorithm", "x-amz-credential", "x-amz-date",
 *               ["x-amz-security-token",] "policy" (base64), "x-amz-signature" (hex)},
 *    "key": K, "expires_at": the policy's expiration}
 * A form posts every field, in this order, then the file as the last part, named "file".
 * IG_ERR_BAD_KEY / IG_ERR_INVALID_ARG / IG_ERR_TOO_LARGE (max_bytes) with a sentence when an input
 * is refused; nothing is sent anywhere. */
ig_err ig_s3_presign_post(ig_s3 *s3, const ig_s3_post_request *req, int64_t now_s, json_t **out, ig_error *err);

/* Decodes an S3 XML error body (<Error><Code>..</Code><Message>..</Message></Error>). Missing
 * parts give "" ; entities (&amp; &lt; ...) are decoded. */
void ig_s3_parse_error(const char *body, size_t len, char *code, size_t code_len, char *message,
                       size_t message_len);

#endif

/* s3.h - the S3 operations imagegen needs: PutObject (in parallel), HeadObject, presigned GET.
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

#include "aws/aws.h"

typedef struct ig_s3 ig_s3;

/* The client for one bucket; the endpoint comes from endpoints.h rules. */
ig_s3 *ig_s3_new(ig_aws_context *ctx, const char *bucket, ig_error *err);
void ig_s3_free(ig_s3 *s3);

/* Keys: 1 to 1024 bytes of valid UTF-8 with no control characters (C0, DEL). */
int ig_s3_key_valid(const char *key, ig_error *err);

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

typedef struct {
    ig_err err;                    /* IG_OK: the object is stored */
    long status;
    char code[64];                 /* S3 error code, e.g. "NoSuchBucket" */
    char message[256];
    char etag[80];
    int attempts;
    double seconds;
} ig_s3_result;

/* Uploads n objects in parallel, each retried on its own. Returns IG_OK only when every
 * object was stored; results[i] says what happened to each. */
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
} ig_s3_head_result;

void ig_s3_head_result_init(ig_s3_head_result *r);
void ig_s3_head_result_free(ig_s3_head_result *r);
ig_err ig_s3_head_object(ig_s3 *s3, const char *key, int64_t deadline_ms, ig_s3_head_result *out);

/* A presigned GET URL valid for expires_s seconds (1 .. 604800) from now_s (epoch seconds). */
ig_err ig_s3_presign_get(ig_s3 *s3, const char *key, int64_t expires_s, int64_t now_s,
                         ig_buf *url_out, ig_error *err);

/* Decodes an S3 XML error body (<Error><Code>..</Code><Message>..</Message></Error>). Missing
 * parts give "" ; entities (&amp; &lt; ...) are decoded. */
void ig_s3_parse_error(const char *body, size_t len, char *code, size_t code_len, char *message,
                       size_t message_len);

#endif

/* post.h - browser-based uploads (S3's POST Object with a SigV4 policy): the checks Amazon S3
 * makes of the form before it stores anything, so that the local stack refuses what S3 refuses.
 *
 * s3rver stores any POST form it is sent and reads no policy. s3-verify reads the form first
 * (codec/multipart.h), in S3's order, and answers S3's error for the first check that fails:
 *
 *   - a body that is not a multipart/form-data form: 400 MalformedPOSTRequest; more than 20 KB of
 *     form before the file: 400 MaxPostPreDataLengthExceeded;
 *   - no "file" part, no "key" field: 400 InvalidArgument; fields after the file are ignored, as
 *     S3 ignores them; a field given twice before the file is refused (s3rver would store the
 *     last value where the policy was checked against the first);
 *   - no signing fields at all: 403 AccessDenied (the bucket is private); some of them missing:
 *     400 InvalidArgument; another algorithm, a malformed credential or date, another region or
 *     service: 400 InvalidArgument; another key id: 403 InvalidAccessKeyId; a session token that
 *     is not the key pair's: 400 InvalidToken;
 *   - x-amz-signature is not the HMAC of the policy field under the signing key of the
 *     credential's day (ig_sigv4_sign_policy, the runtime's own signer): 403 SignatureDoesNotMatch;
 *   - a policy that is not base64 JSON with an expiration and conditions, or a condition S3
 *     cannot read: 400 InvalidPolicyDocument;
 *   - past its expiration: 403 AccessDenied "Invalid according to Policy: Policy expired.";
 *   - a condition that does not hold (eq, starts-with; {"name": "value"} is eq; field names are
 *     matched without regard to case, "bucket" is the bucket of the URL): 403 AccessDenied
 *     "Invalid according to Policy: Policy Condition failed: ["eq", "$key", "uploads/a.png"]";
 *   - a form field no condition names (but policy, x-amz-signature, file and x-ignore-*): 403
 *     AccessDenied "Invalid according to Policy: Extra input fields: <name>";
 *   - a file outside content-length-range: 400 EntityTooLarge (ProposedSize, MaxSizeAllowed) or
 *     EntityTooSmall (ProposedSize, MinSizeAllowed).
 * A form that passes goes to s3rver as received; s3rver stores the file under the key with the
 * form's Content-Type and answers 204 (or success_action_status). "${filename}" in a key is not
 * expanded (the runtime never signs one).
 */
#ifndef S3V_POST_H
#define S3V_POST_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"

/* S3's limit on the form before the file part. */
#define S3V_POST_MAX_PREDATA 20480

/* 1 when req is a browser upload: POST of multipart/form-data to a bucket ("/<bucket>" or
 * "/<bucket>/"), without a query or an Authorization header; the bucket is copied to bucket
 * (NUL-terminated; 0 when it does not fit). */
int s3v_post_target(const s3v_request *req, char *bucket, size_t bucket_len);

/* The checks above, at now (epoch seconds); v->status 0 lets the form through. */
void s3v_check_post(const s3v_auth *a, const s3v_request *req, const char *bucket, int64_t now, s3v_verdict *v);

#endif

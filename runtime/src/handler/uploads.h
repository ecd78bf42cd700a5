/* uploads.h - the two answers of admit() about uploaded images (runtime/policy/README.md,
 * "Input images, two ways in"):
 * - presign_post {key, content_type, max_bytes, expires}: a browser-form POST the client sends
 *   straight to S3, signed here (aws/s3_post.c);
 * - fetch [{field, key, max_bytes, index?}]: objects read from S3 under a size cap, each handed
 *   to the request's inputs (inputs.h) as the facts of an upload, before a second admit().
 * Owner scoping is the policy's: it names only keys the caller may use.
 */
#ifndef IG_HANDLER_UPLOADS_H
#define IG_HANDLER_UPLOADS_H

#include <jansson.h>
#include <stdint.h>

#include "aws/s3.h"
#include "core/error.h"
#include "handler/inputs.h"

/* The result respond() receives: {ok, status 200, upload = {url, fields, key, expires_at}}; NULL
 * with IG_ERR_POLICY (and a sentence) when spec breaks the contract or S3 refuses its values. */
json_t *ig_uploads_presign(ig_s3 *s3, json_t *spec, int64_t now_s, ig_error *err);

/* Reads every object of the list into the inputs (facts at req.body[field]). An absent object
 * (404, or 403 without ListBucket) or one over its cap is not an error: its facts say so.
 * IG_ERR_POLICY for a list that breaks the contract; IG_ERR_AWS when S3 failed. */
ig_err ig_uploads_fetch(ig_s3 *s3, ig_inputs *inputs, json_t *req, json_t *list, int64_t deadline_ms,
                        ig_error *err);

#endif

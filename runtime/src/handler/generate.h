/* generate.h - steps 3 to 6 of an invocation: carries out a plan and says what happened.
 *
 * Cache lookup, then the plan's attempts in order (the model, then its fallbacks) until one
 * delivers an image or fails in a way another model cannot mend: every call of an attempt runs
 * in parallel under the request's one deadline and the process's one retry quota. The images
 * are decoded, checked, stored in parallel and presigned. The outcome is the `result` table
 * the policy's respond() receives (README of the policy: the result contract).
 */
#ifndef IG_HANDLER_GENERATE_H
#define IG_HANDLER_GENERATE_H

#include <jansson.h>
#include <stdint.h>

#include "aws/bedrock.h"
#include "aws/s3.h"
#include "handler/config.h"
#include "handler/images.h"
#include "handler/metrics.h"
#include "handler/plan.h"

typedef struct {
    ig_bedrock *bedrock;
    ig_s3 *s3;
    const ig_handler_config *cfg;
    int64_t deadline_ms;        /* the request's effective deadline (epoch ms) */
    ig_metrics *metrics;        /* model and upload figures are added here */
    ig_images *images;          /* image records (images.h) when the plan asks; may be NULL */
} ig_generate_env;

/* Base64 bytes an inline answer may hold in all (Lambda's response limit is 6 MB). */
#define IG_GENERATE_INLINE_MAX 5500000u

/* Runs the plan. Returns the result for respond() (ok true or false; the caller adds the
 * request id) and sets *outcome to a static word for logs and metrics ("success", "cached" or
 * the failure code). Never NULL unless memory ran out.
 *
 * With deliver "inline" or "both", each result image carries b64_ref, a token; payloads (an
 * object the caller owns) maps each token to the image's base64. The policy's respond() puts
 * the token where the image belongs, and the runtime swaps the base64 in after it, so image
 * bytes never enter Lua. An inline answer over IG_GENERATE_INLINE_MAX is a failure,
 * response_too_large (400). */
json_t *ig_generate(const ig_generate_env *env, const ig_plan *p, json_t *payloads, const char **outcome);

#endif

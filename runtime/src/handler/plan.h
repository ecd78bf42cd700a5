/* plan.h - the generation plan the policy's admit() returns, read and checked once.
 *
 * A plan names where the images go (key prefix, URL lifetime, metadata, cache key) and the
 * model attempts in order: the chosen model first, then the fallbacks the policy allows. An
 * attempt is one model and one or more InvokeModel bodies ("calls"), run in parallel; models
 * that make one image per call get one call per image. The older single-body form (model,
 * body, images, error_field at the top) is read as one attempt with one call.
 *
 * Strings and JSON values point into the admit answer, which must outlive the plan; request
 * bodies are encoded here and owned by the plan.
 */
#ifndef IG_HANDLER_PLAN_H
#define IG_HANDLER_PLAN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define IG_PLAN_MAX_IMAGES 10     /* images of one request, over all calls */
#define IG_PLAN_MAX_ATTEMPTS 4    /* the model and up to three fallbacks */
#define IG_PLAN_MAX_METADATA 20   /* object metadata entries set by the policy */

typedef struct {
    char *body;                   /* the InvokeModel body (owned) */
    size_t body_len;
    json_t *metadata;             /* merged over the plan's for this call's images; may be NULL */
} ig_plan_call;

typedef struct {
    const char *model;
    const char *images_path;      /* where each answer keeps its base64 images */
    const char *error_field;      /* a string (whole answer) or an array (per image) member; may be NULL */
    ig_plan_call calls[IG_PLAN_MAX_IMAGES];
    size_t n_calls;
    json_t *context;              /* replaces the plan's context when this attempt serves; may be NULL */
} ig_plan_attempt;

/* How the images reach the client: stored in S3 and presigned (url), inline in the answer
 * (inline: nothing stored), or both. */
typedef enum { IG_DELIVER_URL = 0, IG_DELIVER_INLINE, IG_DELIVER_BOTH } ig_deliver;

typedef struct {
    ig_plan_attempt attempts[IG_PLAN_MAX_ATTEMPTS];
    size_t n_attempts;
    int expected;                 /* images wanted, over all calls */
    ig_deliver deliver;           /* "deliver": "url" (default), "inline" or "both" */
    const char *key_prefix;
    int64_t url_ttl;
    const char *cache_control;    /* may be NULL */
    const char *cache_key;        /* may be NULL */
    json_t *metadata;             /* may be NULL */
    json_t *context;              /* may be NULL */
    json_t *record;               /* image records (images.h): {owner, retention_s, ...}; may be NULL */
} ig_plan;

/* Reads admit's `generate` table. IG_ERR_POLICY with a sentence naming the member at fault. */
ig_err ig_plan_parse(json_t *generate, ig_plan *p, ig_error *err);
void ig_plan_free(ig_plan *p);


#endif

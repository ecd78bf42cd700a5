/* faults.h - the misbehaviour tests ask bedrock-local for: slow answers,
 * throttling, server errors, model timeouts, a model that is not ready, cut or non-JSON
 * bodies, reset connections, withheld (filtered) pictures, inference errors, a content filter,
 * models the caller may not use, retired models and Legacy models the caller lost access to.
 *
 * The configuration is one JSON document (the same from the command line and from
 * POST /_control/faults):
 *
 *   {"latency_ms": 0,
 *    "throttle": {"every": 0, "rate": 0.0, "next": 0},   one trigger per fault kind, below
 *    "server_error": {"every": 0, "rate": 0.0, "next": 0, "status": 500},
 *    "model_timeout": {...}, "model_not_ready": {...},
 *    "truncate": {...}, "non_json": {...}, "reset": {...},
 *    "inference_error": {...}, "filter_output": {...},
 *    "block_words": ["word", ...], "deny_models": ["model id", ...],
 *    "retired_models": ["model id", ...], "legacy_denied_models": ["model id", ...],
 *    "seed": 1}
 *
 * A trigger fires on every Nth call it sees ("every"), on each of the next K calls ("next"),
 * or at random with probability "rate" (from a generator seeded by "seed"). Calls are counted
 * per trigger from the moment it was set. When several fire on one call, the first in this
 * order wins: reset, truncate, non_json, model_timeout, model_not_ready, server_error,
 * throttle, inference_error, filter_output; the others do not spend their "next" budget on it.
 * A call to a model in retired_models or legacy_denied_models gets that answer and is not
 * shown to the triggers. latency_ms delays every call that reaches the fault stage, whatever
 * its answer. Model lists match the foundation-model id or the id as called (a profile id).
 */
#ifndef BEDROCK_LOCAL_FAULTS_H
#define BEDROCK_LOCAL_FAULTS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef enum {
    BL_FAULT_RESET,
    BL_FAULT_TRUNCATE,
    BL_FAULT_NON_JSON,
    BL_FAULT_MODEL_TIMEOUT,
    BL_FAULT_MODEL_NOT_READY,
    BL_FAULT_SERVER_ERROR,
    BL_FAULT_THROTTLE,
    BL_FAULT_INFERENCE_ERROR,
    BL_FAULT_FILTER_OUTPUT,
    BL_TRIGGER_COUNT,                      /* the kinds above have a trigger */
    BL_FAULT_RETIRED = BL_TRIGGER_COUNT,   /* the model is in retired_models */
    BL_FAULT_LEGACY_DENIED,                /* the model is in legacy_denied_models */
    BL_FAULT_COUNT,
    BL_FAULT_NONE = BL_FAULT_COUNT
} bl_fault_kind;

/* "throttle", "server_error", ..., "retired_model", "legacy_denied_model"; "none" for
 * BL_FAULT_NONE. */
const char *bl_fault_name(bl_fault_kind kind);

typedef struct bl_faults bl_faults;

bl_faults *bl_faults_new(void);
void bl_faults_free(bl_faults *f);

/* Applies a configuration document. Each top-level member replaces that setting (null or {}
 * turns it off); members left out keep their value, unless replace_all, which first turns
 * everything off. The document is checked whole before anything changes. */
ig_err bl_faults_configure(bl_faults *f, const json_t *doc, int replace_all, ig_error *err);

/* The current configuration, in the same shape ("next" shows what is left). */
json_t *bl_faults_describe(bl_faults *f);

typedef struct {
    bl_fault_kind kind;
    int64_t latency_ms;
    int status; /* for BL_FAULT_SERVER_ERROR: 500 or 503 */
} bl_fault_plan;

/* Counts one call at the fault stage and says what to do with it. model_id is the
 * foundation-model id, called_id the id as called (the same, or a profile id). */
void bl_faults_decide(bl_faults *f, const char *model_id, const char *called_id,
                      bl_fault_plan *plan);

/* 1 when text contains a blocked word: ASCII case-insensitive, at word boundaries. */
int bl_faults_blocks_text(bl_faults *f, const char *text, size_t len);

/* 1 when the model (by its foundation-model id or the id as called) is denied to the caller. */
int bl_faults_denies_model(bl_faults *f, const char *model_id, const char *called_id);

#endif

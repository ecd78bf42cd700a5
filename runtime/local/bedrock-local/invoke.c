/* invoke.c - the InvokeModel pipeline.
 *
 * A request passes, in order: the body cap, SigV4 (signing name "bedrock", double-encoded
 * canonical URI), the model id (served in this region?), the caller's access to the model,
 * JSON parsing, the model's body rules, and the content filter. Only a request that passed all
 * of them "reaches the model": the stats count and time it, the fault injector may turn it
 * into a retired or Legacy model's refusal, a throttle, a server error, a timeout, a cut or
 * non-JSON body, a reset, an inference error or withheld pictures, and otherwise it gets its
 * pictures.
 */
#include "invoke.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/sigv4.h"
#include "answer.h"
#include "models.h"
#include "codec/percent.h"
#include "core/clock.h"
#include "core/log.h"

#define MODEL_ID_MAX 2048

/* ---- authentication ---- */

static int authenticate(bl_server *s, const bl_request *req, bl_reply *reply)
{
    if (!s->cfg.verify)
        return 1;
    if (!ig_headers_find(req->headers, req->n_headers, "authorization")) {
        bl_reply_error(reply, 403, "MissingAuthenticationTokenException", NULL,
                       "Missing Authentication Token");
        return 0;
    }
    ig_sigv4_credentials known = {s->cfg.creds.access_key_id, s->cfg.creds.secret_access_key,
                                  s->cfg.creds.session_token};
    ig_sigv4_request r = {req->method, req->path, req->query, req->headers, req->n_headers,
                          req->body, req->body_len, NULL};
    ig_error err;
    ig_err e = ig_sigv4_verify(&known, s->cfg.region, "bedrock", 0, &r, ig_now_ms() / 1000,
                               s->cfg.max_skew_s, &err);
    if (e == IG_OK)
        return 1;
    if (e == IG_ERR_CREDENTIALS)
        bl_reply_error(reply, 403, "UnrecognizedClientException", BL_NS_CORAL, "%s", err.message);
    else if (e == IG_ERR_SIGNATURE)
        bl_reply_error(reply, 403, "InvalidSignatureException", BL_NS_CORAL, "%s", err.message);
    else
        bl_reply_error(reply, 500, "InternalServerException", BL_NS_BEDROCK,
                       "The signature could not be checked: %s", err.message);
    return 0;
}

/* ---- model id and access ---- */

/* 1 with *t set when the id names a model this region serves and the caller may use. */
static int resolve_model(bl_server *s, const char *encoded, bl_target *t, bl_reply *reply)
{
    ig_buf id;
    ig_buf_init(&id, 0);
    int found = 0;
    if (ig_percent_decode(&id, encoded, strlen(encoded)) != IG_OK || memchr(id.data, 0, id.len)) {
        bl_reply_error(reply, 404, "ResourceNotFoundException", BL_NS_BEDROCK,
                       "The provided model identifier is invalid.");
    } else if (id.len > MODEL_ID_MAX) {
        bl_reply_validation(reply, "1 validation error detected: Value at 'modelId' failed to "
                                   "satisfy constraint: Member must have length less than or equal "
                                   "to 2048");
    } else if (!bl_model_find(ig_buf_cstr(&id), s->cfg.region, t)) {
        bl_reply_error(reply, 404, "ResourceNotFoundException", BL_NS_BEDROCK,
                       "The provided model identifier is invalid.");
    } else if (bl_target_needs_profile(t)) {
        bl_reply_error(reply, 400, "ValidationException", BL_NS_BEDROCK, BL_ON_DEMAND_FMT,
                       ig_buf_cstr(&id));
    } else if (bl_faults_denies_model(s->faults, t->model->id, t->id)) {
        bl_reply_error(reply, 403, "AccessDeniedException", BL_NS_BEDROCK,
                       "You don't have access to the model with the specified model ID.");
    } else {
        found = 1;
    }
    ig_buf_free(&id);
    return found;
}

/* ---- faults ---- */

/* Answers an injected fault; 1 when it did (no pictures are made), 0 when the call goes on to
 * the model (no fault, or one that needs the model's answer: a truncation, withheld pictures,
 * Stability's inference error). */
static int answer_fault(const bl_fault_plan *plan, const bl_target *t, bl_reply *reply)
{
    switch (plan->kind) {
    case BL_FAULT_RESET:
        reply->status = 0;
        reply->delivery = BL_DELIVER_RESET;
        return 1;
    case BL_FAULT_NON_JSON:
        reply->status = 200;
        reply->error_code = NULL;
        reply->content_type = "text/html";
        ig_buf_reset(&reply->body);
        ig_buf_append_str(&reply->body, "<html><body><h1>502 Bad Gateway</h1></body></html>\n");
        return 1;
    case BL_FAULT_MODEL_TIMEOUT:
        bl_reply_error(reply, 408, "ModelTimeoutException", BL_NS_BEDROCK,
                       "The request took too long to process. Processing time exceeded the model "
                       "timeout length.");
        return 1;
    case BL_FAULT_MODEL_NOT_READY:
        bl_reply_error(reply, 429, "ModelNotReadyException", BL_NS_BEDROCK,
                       "The model specified in the request is not ready to serve inference "
                       "requests.");
        return 1;
    case BL_FAULT_SERVER_ERROR:
        if (plan->status == 503)
            bl_reply_error(reply, 503, "ServiceUnavailableException", BL_NS_BEDROCK,
                           "Bedrock is unable to process your request.");
        else
            bl_reply_error(reply, 500, "InternalServerException", BL_NS_BEDROCK,
                           "The server encountered an internal error while processing the "
                           "request.");
        return 1;
    case BL_FAULT_THROTTLE:
        bl_reply_error(reply, 429, "ThrottlingException", BL_NS_BEDROCK,
                       "Too many requests, please wait before trying again.");
        return 1;
    case BL_FAULT_INFERENCE_ERROR:
        if (bl_model_is_stability(t->model))
            return 0; /* a 200 with finish_reasons ["Inference error"] */
        bl_reply_error(reply, 424, "ModelErrorException", BL_NS_BEDROCK,
                       "The request failed due to an error while processing the model.");
        return 1;
    case BL_FAULT_RETIRED:
        bl_reply_error(reply, 404, "ResourceNotFoundException", BL_NS_BEDROCK,
                       "This model version has reached the end of its life. Please refer to the "
                       "AWS documentation for more details.");
        return 1;
    case BL_FAULT_LEGACY_DENIED:
        bl_reply_error(reply, 403, "AccessDeniedException", BL_NS_BEDROCK,
                       "Access denied. This Model is marked by provider as Legacy and you have "
                       "not been actively using the model in the last 30 days. Please upgrade to "
                       "an active model on Amazon Bedrock");
        return 1;
    default:
        return 0;
    }
}

/* ---- the pipeline ---- */

/* Parses and validates the body; NULL (with the reply set) when it fails. */
static json_t *checked_body(bl_server *s, const bl_request *req, const bl_model *m, bl_job *job,
                            bl_reply *reply, bl_trace *trace)
{
    char message[1024];
    json_error_t jerr;
    json_t *doc = json_loadb(req->body ? req->body : "", req->body_len, 0, &jerr);
    if (!doc) {
        bl_model_malformed_json(&jerr, message, sizeof message);
        bl_reply_validation(reply, message);
        return NULL;
    }
    if (bl_model_validate(m, doc, job, message, sizeof message) != IG_OK) {
        bl_reply_validation(reply, message);
        json_decref(doc);
        return NULL;
    }
    const char *p = job->text;
    for (size_t i = 0; i < job->text_len; i++)
        trace->prompt_chars += ((unsigned char)p[i] & 0xc0) != 0x80;
    if (s->cfg.log_prompts)
        trace->prompt = strndup(job->text, job->text_len);
    return doc;
}

/* The content filter's answer: Titan and Nova refuse with a 400; Stability answers 200 with
 * the finish reason "Filter reason: prompt". */
static void answer_blocked_prompt(const bl_target *t, bl_reply *reply)
{
    if (!bl_model_is_stability(t->model)) {
        bl_reply_validation(reply, bl_model_blocked_message(t->model));
        return;
    }
    bl_reply_json(reply, 200, NULL);
    ig_buf_reset(&reply->body);
    if (bl_answer_stability_prompt_filtered(&reply->body) != IG_OK)
        bl_reply_error(reply, 500, "InternalServerException", BL_NS_BEDROCK, "Out of memory.");
}

/* The model's answer, as the fault plan shapes it. */
static void answer_model(bl_server *s, const bl_target *t, const bl_job *job,
                         const bl_fault_plan *plan, bl_reply *reply, bl_trace *trace)
{
    ig_error err;
    ig_err e;
    ig_buf_reset(&reply->body);
    if (bl_model_is_stability(t->model)) {
        const char *reason = plan->kind == BL_FAULT_FILTER_OUTPUT    ? BL_REASON_OUTPUT
                             : plan->kind == BL_FAULT_INFERENCE_ERROR ? BL_REASON_INFERENCE
                                                                      : NULL;
        e = bl_answer_stability(s, t, job, reason, &reply->body, trace, &err);
    } else {
        unsigned withheld = plan->kind == BL_FAULT_FILTER_OUTPUT ? 1 : 0;
        e = bl_answer_amazon(s, t, job, withheld, &reply->body, trace, &err);
    }
    if (e != IG_OK) {
        bl_reply_error(reply, 500, "InternalServerException", BL_NS_BEDROCK,
                       "The server encountered an internal error while processing the request.");
        ig_log(IG_LOG_ERROR, "pictures failed",
               json_pack("{s:s}", "error", err.message));
        return;
    }
    reply->status = 200;
    reply->error_code = NULL;
    reply->content_type = "application/json";
    reply->delivery = plan->kind == BL_FAULT_TRUNCATE ? BL_DELIVER_TRUNCATED : BL_DELIVER_WHOLE;
    if (plan->kind == BL_FAULT_NONE)
        bl_stats_add(s->stats, BL_STAT_SUCCEEDED, 1);
}

/* A call that reached the model: faults, latency, then the answer. */
static void call_model(bl_server *s, const bl_target *t, const bl_job *job, bl_reply *reply,
                       bl_trace *trace)
{
    bl_fault_plan plan;
    bl_faults_decide(s->faults, t->model->id, t->id, &plan);
    trace->fault = plan.kind;
    bl_stats_fault(s->stats, plan.kind);
    if (plan.latency_ms > 0)
        ig_sleep_ms(plan.latency_ms);
    if (!answer_fault(&plan, t, reply))
        answer_model(s, t, job, &plan, reply, trace);
}

void bl_invoke(bl_server *s, const bl_request *req, const char *encoded_model_id, bl_reply *reply,
               bl_trace *trace)
{
    bl_stats_add(s->stats, BL_STAT_INVOKE_REQUESTS, 1);
    if (req->body_too_large) {
        /* The body was not kept, so its signature cannot be checked either. */
        bl_reply_validation(reply, "1 validation error detected: Value at 'body' failed to satisfy "
                                   "constraint: Member must have length less than or equal to "
                                   "25000000");
        return;
    }
    if (!authenticate(s, req, reply))
        return;
    bl_stats_add(s->stats, BL_STAT_AUTHENTICATED, 1);
    bl_target t;
    if (!resolve_model(s, encoded_model_id, &t, reply))
        return;
    trace->model_id = t.id;

    bl_job job;
    json_t *doc = checked_body(s, req, t.model, &job, reply, trace);
    if (!doc)
        return;
    if (bl_faults_blocks_text(s->faults, job.text, job.text_len)) {
        bl_stats_add(s->stats, BL_STAT_CONTENT_BLOCKED, 1);
        answer_blocked_prompt(&t, reply);
    } else {
        bl_stats_add(s->stats, BL_STAT_REACHED_MODEL, 1);
        int64_t started = bl_stats_call_begin(s->stats);
        call_model(s, &t, &job, reply, trace);
        bl_stats_call_end(s->stats, t.id, started, reply->status, trace->images, trace->fault);
    }
    bl_job_release(&job);
    json_decref(doc);
}

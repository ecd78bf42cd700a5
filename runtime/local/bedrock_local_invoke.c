/* bedrock_local_invoke.c - the InvokeModel pipeline.
 *
 * A request passes, in order: the body cap, SigV4 (signing name "bedrock", double-encoded
 * canonical URI), the model id, the caller's access to the model, JSON parsing, the model's
 * body rules, and the content filter. Only a request that passed all of them "reaches the
 * model": the stats count it, the fault injector may turn it into a throttle, a server error,
 * a timeout, a cut or non-JSON body or a reset, and otherwise it gets its pictures.
 */
#include "bedrock_local_invoke.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/sigv4.h"
#include "bedrock_local_models.h"
#include "codec/base64.h"
#include "codec/hash.h"
#include "codec/percent.h"
#include "core/clock.h"
#include "procpng.h"

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
    ig_sigv4_credentials known = {s->cfg.access_key_id, s->cfg.secret_access_key,
                                  s->cfg.session_token};
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

static const bl_model *resolve_model(bl_server *s, const char *encoded, bl_reply *reply)
{
    ig_buf id;
    ig_buf_init(&id, 0);
    const bl_model *m = NULL;
    if (ig_percent_decode(&id, encoded, strlen(encoded)) != IG_OK || memchr(id.data, 0, id.len)) {
        bl_reply_error(reply, 404, "ResourceNotFoundException", BL_NS_BEDROCK,
                       "The provided model identifier is invalid.");
    } else if (id.len > MODEL_ID_MAX) {
        bl_reply_validation(reply, "1 validation error detected: Value at 'modelId' failed to "
                                   "satisfy constraint: Member must have length less than or equal "
                                   "to 2048");
    } else if (!(m = bl_model_find(ig_buf_cstr(&id), s->cfg.region))) {
        bl_reply_error(reply, 404, "ResourceNotFoundException", BL_NS_BEDROCK,
                       "The provided model identifier is invalid.");
    } else if (bl_faults_denies_model(s->faults, m->id)) {
        bl_reply_error(reply, 403, "AccessDeniedException", BL_NS_BEDROCK,
                       "You don't have access to the model with the specified model ID.");
        m = NULL;
    }
    ig_buf_free(&id);
    return m;
}

/* ---- pictures ---- */

/* The cache key: everything that defines one picture, unambiguously serialized. */
static void picture_key(const bl_model *m, const bl_job *job, unsigned index, unsigned char key[32])
{
    ig_buf b;
    ig_buf_init(&b, 0);
    ig_buf_appendf(&b, "%s|%llu|%u|%u|%u|%zu|", m->id, (unsigned long long)job->seed, job->width,
                   job->height, index, job->text_len);
    ig_buf_append(&b, job->text, job->text_len);
    ig_sha256(b.data ? b.data : "", b.len, key);
    ig_buf_free(&b);
}

/* Appends the base64 text of picture index to body, from the cache or freshly drawn. */
static ig_err append_picture(bl_server *s, const bl_model *m, const bl_job *job, unsigned index,
                             ig_buf *body, bl_trace *trace, ig_error *err)
{
    unsigned char key[32];
    picture_key(m, job, index, key);
    if (bl_cache_get(s->cache, key, body)) {
        trace->cache_hits++;
        return IG_OK;
    }
    procpng_spec spec = {job->text, job->text_len, job->seed, job->width, job->height, index};
    ig_buf png, b64;
    ig_buf_init(&png, 0);
    ig_buf_init(&b64, 0);
    ig_err e = procpng_render_png(&spec, &png, err);
    if (!e && (e = ig_base64_encode_buf(png.data, png.len, &b64)))
        ig_error_set(err, e, "could not encode a picture: %s", ig_strerror(e));
    if (!e && (e = ig_buf_append(body, b64.data, b64.len)))
        ig_error_set(err, e, "could not grow the answer: %s", ig_strerror(e));
    if (!e)
        bl_cache_put(s->cache, key, b64.data, b64.len);
    ig_buf_free(&png);
    ig_buf_free(&b64);
    return e;
}

/* {"images": ["<base64>", ...]}: Titan's and Nova's success shape ("error" absent). */
static ig_err make_pictures(bl_server *s, const bl_model *m, const bl_job *job, ig_buf *body,
                            bl_trace *trace, ig_error *err)
{
    double t0 = ig_mono_s();
    ig_err e = ig_buf_append_str(body, "{\"images\":[");
    for (unsigned i = 0; !e && i < job->count; i++) {
        e = ig_buf_append_str(body, i ? ",\"" : "\"");
        if (!e)
            e = append_picture(s, m, job, i, body, trace, err);
        if (!e)
            e = ig_buf_append_char(body, '"');
        if (!e)
            trace->images++;
    }
    if (!e)
        e = ig_buf_append_str(body, "]}");
    trace->render_ms = (ig_mono_s() - t0) * 1000.0;
    bl_stats_add(s->stats, BL_STAT_IMAGES, trace->images);
    bl_stats_add(s->stats, BL_STAT_CACHE_HITS, trace->cache_hits);
    if (e && err->code != e)
        ig_error_set(err, e, "could not build the answer: %s", ig_strerror(e));
    return e;
}

/* ---- faults ---- */

/* Answers an injected fault; 1 when it did (the pictures are not made), 0 when the call goes on
 * to the model (no fault, or a truncation, which needs the real answer to cut). */
static int answer_fault(const bl_fault_plan *plan, bl_reply *reply)
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
    const bl_model *m = resolve_model(s, encoded_model_id, reply);
    if (!m)
        return;
    trace->model_id = m->id;

    bl_job job;
    json_t *doc = checked_body(s, req, m, &job, reply, trace);
    if (!doc)
        return;
    if (bl_faults_blocks_text(s->faults, job.text, job.text_len)) {
        bl_stats_add(s->stats, BL_STAT_CONTENT_BLOCKED, 1);
        bl_reply_validation(reply, bl_model_blocked_message(m));
        json_decref(doc);
        return;
    }

    bl_stats_add(s->stats, BL_STAT_REACHED_MODEL, 1);
    bl_fault_plan plan;
    bl_faults_decide(s->faults, &plan);
    trace->fault = plan.kind;
    bl_stats_fault(s->stats, plan.kind);
    if (plan.latency_ms > 0)
        ig_sleep_ms(plan.latency_ms);
    if (answer_fault(&plan, reply)) {
        json_decref(doc);
        return;
    }

    ig_error err;
    ig_buf_reset(&reply->body);
    if (make_pictures(s, m, &job, &reply->body, trace, &err) != IG_OK) {
        bl_reply_error(reply, 500, "InternalServerException", BL_NS_BEDROCK,
                       "The server encountered an internal error while processing the request.");
        bl_server_log(s, IG_LOG_ERROR, "pictures failed",
                      json_pack("{s:s}", "error", err.message));
    } else {
        reply->status = 200;
        reply->error_code = NULL;
        reply->content_type = "application/json";
        reply->delivery = plan.kind == BL_FAULT_TRUNCATE ? BL_DELIVER_TRUNCATED : BL_DELIVER_WHOLE;
        if (plan.kind == BL_FAULT_NONE)
            bl_stats_add(s->stats, BL_STAT_SUCCEEDED, 1);
    }
    json_decref(doc);
}

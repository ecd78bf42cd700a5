/* worker.c - one job, run by the function's asynchronous invocation of itself: take the job,
 * run its stored plan through the same generate path as a request, record what happened. */
#include "handler/worker.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/json.h"
#include "core/clock.h"
#include "core/log.h"
#include "handler/inputs.h"
#include "handler/plan.h"

int ig_worker_event(const char *event, size_t len, char id[IG_JOB_ID_LEN + 1])
{
    id[0] = '\0';
    /* API Gateway's events are large objects that never start with this member; decode only
     * what can be a job event. */
    if (len > 512 || !memchr(event, '{', len))
        return 0;
    json_t *doc = json_loadb(event, len, 0, NULL);
    const char *kind = ig_json_str(doc, "imagegen"), *jid = ig_json_str(doc, "id");
    int is_job = kind && !strcmp(kind, "job");
    if (is_job && jid && strlen(jid) <= IG_JOB_ID_LEN)
        snprintf(id, IG_JOB_ID_LEN + 1, "%s", jid);
    json_decref(doc);
    return is_job;
}

static void note(ig_buf *response, const char *id, const char *status)
{
    json_t *n = json_pack("{s:s, s:s}", "jobId", id, "status", status);
    char *text = json_dumps(n, JSON_COMPACT);
    ig_buf_reset(response);
    if (text)
        ig_buf_append(response, text, strlen(text));
    free(text);
    json_decref(n);
}

static json_t *failure(int status, const char *code, const char *message)
{
    return json_pack("{s:b, s:i, s:s, s:s}", "ok", 0, "status", status, "code", code, "message", message);
}

/* An edit job's input images, read back from S3 under the nonce and numbers its plan's tokens
 * carry (jobs.c keeps them). NULL when they are all in; otherwise the job's failure. */
static json_t *restore_inputs(const ig_generate_env *env, const json_t *kept, ig_inputs *in, const char **outcome)
{
    const char *nonce = ig_json_str(kept, "nonce");
    size_t i;
    json_t *im;
    json_array_foreach(json_object_get(kept, "images"), i, im)
    {
        const char *key = ig_json_str(im, "key");
        json_t *n = json_object_get(im, "n");
        ig_error perr;
        ig_error_clear(&perr);
        ig_s3_get_result r;
        ig_buf data;
        ig_buf_init(&data, 0);
        ig_err e = key && json_is_integer(n) ? ig_s3_get_object(env->s3, key, IG_INPUTS_FETCH_MAX, env->deadline_ms,
                                                                &r, &data)
                                             : IG_ERR_INVALID_ARG;
        if (e == IG_OK)
            e = ig_inputs_restore(in, nonce, (size_t)json_integer_value(n), &data, &perr);
        ig_buf_free(&data);
        if (e == IG_OK)
            continue;
        if (e == IG_ERR_AWS && (r.status == 404 || r.status == 403)) {
            ig_log(IG_LOG_WARN, "a job's input image is gone", json_pack("{s:s}", "key", key));
            *outcome = "input_missing";
            return failure(410, "input_missing", "An input image of this job is no longer stored; send the edit again.");
        }
        ig_log(IG_LOG_ERROR, "a job's input image could not be read",
               json_pack("{s:s, s:s, s:s}", "key", key ? key : "", "error", ig_strerror(e), "message",
                         perr.message[0] ? perr.message : (e == IG_ERR_AWS ? r.message : "")));
        *outcome = e == IG_ERR_AWS || e == IG_ERR_DEADLINE ? "storage_error" : "policy_error";
        return e == IG_ERR_AWS || e == IG_ERR_DEADLINE
                   ? failure(502, "storage_error", "The job's input images could not be read; try again.")
                   : failure(500, "policy_error", "The job's input images are unusable; see the function's log.");
    }
    return NULL;
}

/* The plan, run as a request would be; a plan that cannot run is the policy's failure. */
static json_t *run(const ig_generate_env *env, json_t *plan_doc, const json_t *kept, const char **outcome)
{
    ig_plan p;
    ig_error perr;
    ig_error_clear(&perr);
    ig_inputs in;
    memset(&in, 0, sizeof in);
    json_t *result = NULL;
    ig_err parsed = ig_plan_parse(plan_doc, &p, &perr);
    if (parsed != IG_OK || p.deliver != IG_DELIVER_URL) {
        ig_log(IG_LOG_ERROR, "a job's plan is unusable",
               json_pack("{s:s}", "error", perr.message[0] ? perr.message : "a job's images must be stored (deliver url)"));
        *outcome = "policy_error";
        result = failure(500, "policy_error", "The request policy failed; see the function's log.");
    } else if (kept && (result = restore_inputs(env, kept, &in, outcome)) != NULL) {
        /* failed: an input image could not be read back */
    } else if (kept && ig_inputs_fill_plan(&in, &p, &perr) != IG_OK) {
        ig_log(IG_LOG_ERROR, "a job's input images could not be put in the model request",
               json_pack("{s:s}", "error", perr.message));
        *outcome = "internal_error";
        result = failure(perr.code == IG_ERR_TOO_LARGE ? 413 : 500,
                         perr.code == IG_ERR_TOO_LARGE ? "payload_too_large" : "internal_error",
                         perr.code == IG_ERR_TOO_LARGE ? perr.message : "The input images could not be prepared.");
    } else {
        json_t *payloads = json_object();
        result = ig_generate(env, &p, payloads, outcome);
        json_decref(payloads);
        if (!result) {
            *outcome = "upstream_error";
            result = failure(502, "upstream_error", "The request could not be completed; try again.");
        }
    }
    ig_plan_free(&p);
    ig_inputs_free(&in);
    return result;
}

ig_err ig_worker_run(ig_jobs *jobs, const ig_generate_env *env, const char *id, const char *worker,
                     ig_buf *response, const char **outcome, ig_error *err)
{
    json_t *plan_doc = NULL, *kept = NULL;
    const char *why = NULL;
    ig_err e = ig_jobs_claim(jobs, id, worker, env->deadline_ms, &plan_doc, &kept, &why, err);
    if (e != IG_OK) {
        *outcome = "jobs_unavailable";
        return e;
    }
    if (!plan_doc) {
        ig_log(IG_LOG_WARN, "job not run", json_pack("{s:s, s:s}", "jobId", id, "reason", why ? why : "unknown"));
        *outcome = "job_skipped";
        note(response, id, why ? why : "skipped");
        return IG_OK;
    }
    ig_log(IG_LOG_INFO, "job running",
           json_pack("{s:s, s:I}", "jobId", id, "remainingMs", (json_int_t)ig_remaining_ms(env->deadline_ms)));
    ig_generate_env g = *env;
    g.deadline_ms = env->deadline_ms - IG_JOB_RECORD_RESERVE_MS;
    json_t *result = run(&g, plan_doc, kept, outcome);
    e = ig_jobs_finish(jobs, id, worker, result, err);
    const char *status = json_is_true(json_object_get(result, "ok")) ? "succeeded" : "failed";
    ig_log(IG_LOG_INFO, "job finished",
           json_pack("{s:s, s:s, s:s, s:b}", "jobId", id, "status", status, "outcome", *outcome, "recorded",
                     e == IG_OK));
    if (e == IG_OK)
        note(response, id, status);
    json_decref(result);
    json_decref(plan_doc);
    json_decref(kept);
    return e;
}

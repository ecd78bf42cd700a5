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

/* The plan, run as a request would be; a plan that cannot run is the policy's failure. */
static json_t *run(const ig_generate_env *env, json_t *plan_doc, const char **outcome)
{
    ig_plan p;
    ig_error perr;
    ig_error_clear(&perr);
    json_t *result;
    if (ig_plan_parse(plan_doc, &p, &perr) != IG_OK || p.deliver != IG_DELIVER_URL) {
        ig_log(IG_LOG_ERROR, "a job's plan is unusable",
               json_pack("{s:s}", "error", perr.message[0] ? perr.message : "a job's images must be stored (deliver url)"));
        *outcome = "policy_error";
        result = failure(500, "policy_error", "The request policy failed; see the function's log.");
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
    return result;
}

ig_err ig_worker_run(ig_jobs *jobs, const ig_generate_env *env, const char *id, const char *worker,
                     ig_buf *response, const char **outcome, ig_error *err)
{
    json_t *plan_doc = NULL;
    const char *why = NULL;
    ig_err e = ig_jobs_claim(jobs, id, worker, env->deadline_ms, &plan_doc, &why, err);
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
    json_t *result = run(&g, plan_doc, outcome);
    e = ig_jobs_finish(jobs, id, worker, result, err);
    const char *status = json_is_true(json_object_get(result, "ok")) ? "succeeded" : "failed";
    ig_log(IG_LOG_INFO, "job finished",
           json_pack("{s:s, s:s, s:s, s:b}", "jobId", id, "status", status, "outcome", *outcome, "recorded",
                     e == IG_OK));
    if (e == IG_OK)
        note(response, id, status);
    json_decref(result);
    json_decref(plan_doc);
    return e;
}

/* worker.h - the invocation that runs a job: the event {"imagegen": "job", "id": "<id>"} that
 * POST /jobs sends through Lambda's asynchronous Invoke. It is no API Gateway event, and no
 * client waits for it: the job's plan runs under the function's own deadline (less
 * IG_JOB_RECORD_RESERVE_MS to record the result), not under IMAGEGEN_REQUEST_BUDGET_MS.
 */
#ifndef IG_HANDLER_WORKER_H
#define IG_HANDLER_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "handler/generate.h"
#include "handler/jobs.h"

/* 1 when event is a job event; its id (a string of at most IG_JOB_ID_LEN characters, else "")
 * goes to id. */
int ig_worker_event(const char *event, size_t len, char id[IG_JOB_ID_LEN + 1]);

/* Takes the job, runs its plan with env (deadline_ms: the worker's Lambda deadline) and records
 * the outcome. IG_OK with a small JSON note in response ({"jobId", "status"}) whenever the job
 * needs no retry (done, or nothing to do); IG_ERR_AWS when DynamoDB could not be reached, so
 * that the invocation fails and Lambda retries it. *outcome: a static word for logs and metrics. */
ig_err ig_worker_run(ig_jobs *jobs, const ig_generate_env *env, const char *id, const char *worker,
                     ig_buf *response, const char **outcome, ig_error *err);

#endif

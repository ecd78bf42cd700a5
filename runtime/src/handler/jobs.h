/* jobs.h - jobs: a generation that outlives API Gateway's 29 seconds, kept as one DynamoDB item
 * and run by the function's asynchronous invocation of itself (Lambda's own queue and retries).
 *
 * The item (table IMAGEGEN_TABLE): pk "job#<id>", sk "job", status (queued, running, succeeded,
 * failed), owner (the policy's name for the caller), created_at and updated_at (epoch ms),
 * deadline (epoch ms: a queued or running job past it reads as failed with code timeout),
 * expires_at (epoch s, the table's time to live), plan (admit's generate table as JSON text),
 * attempts (workers that took it), worker (the Lambda request id of the last one), inputs (an
 * edit's input images as S3 keys, JSON text), request (the SHA-256 of the request, with an
 * Idempotency-Key) and, once done, result (the runtime's result without URLs, as JSON text).
 *
 * Life of a job: POST /jobs puts the item (queued, deadline = accepted + IMAGEGEN_JOB_TIMEOUT_S)
 * and invokes the function with InvocationType Event and {"imagegen": "job", "id": ...}. The
 * worker takes the job with a conditional update (queued, or running under its own request id:
 * Lambda retries an event with the same id after the attempt before it failed, or running past
 * its deadline), sets the deadline to its own Lambda deadline, runs the plan and records the
 * result under the condition that it still holds the job. GET /jobs/{id} reads the item, and
 * for a succeeded job presigns fresh URLs.
 *
 * The network-free pieces (ids, the item, its view, the stored result) are exposed for tests.
 */
#ifndef IG_HANDLER_JOBS_H
#define IG_HANDLER_JOBS_H

#include <jansson.h>
#include <stdint.h>

#include "aws/aws.h"
#include "aws/s3.h"
#include "core/error.h"
#include "handler/config.h"
#include "handler/inputs.h"

#define IG_JOB_ID_LEN 32               /* lower-case hex */
#define IG_JOB_PLAN_MAX (300 * 1024)   /* a plan larger than this does not fit a 400 KB item */
#define IG_JOB_RECORD_RESERVE_MS 2000  /* a worker stops generating this long before its deadline */

typedef struct ig_jobs ig_jobs;

/* The clients for cfg's table and function; NULL with err when they cannot be made. */
ig_jobs *ig_jobs_new(ig_aws_context *aws, const ig_handler_config *cfg, ig_error *err);
void ig_jobs_free(ig_jobs *j);

/* POST /jobs: admit's enqueue = {generate, owner, idempotency_key?, retention_s,
 * inputs_prefix?}. Returns the result for respond(): {ok, status 202, jobs "create", job = view,
 * repeated, context} or a failure {ok false, status, code, message, jobs "create"}. Never NULL.
 * An edit's input images (the request's inputs its plan names) are kept for the worker: uploads
 * by their key, the others stored in s3 under inputs_prefix. fingerprint (NULL: none) names the
 * request: a repeat of an Idempotency-Key with another fingerprint is 422
 * idempotency_key_reused. */
json_t *ig_jobs_create(ig_jobs *j, ig_s3 *s3, const ig_inputs *inputs, const char *fingerprint, json_t *enqueue,
                       int64_t deadline_ms);

/* GET /jobs/{id}: admit's job = {id, owner, url_ttl}. {ok, status 200, jobs "status", job = view}
 * with fresh URLs in a succeeded job's result; 404 not_found for an unknown id or another
 * owner's job. Never NULL. */
json_t *ig_jobs_status(ig_jobs *j, ig_s3 *s3, json_t *spec, int64_t deadline_ms);

/* The worker's side. ig_jobs_claim: IG_OK and *plan (the stored generate table, the caller's)
 * and *inputs (its kept input images, {nonce, images: [{n, key}]}, or NULL) when this
 * invocation now holds the job; IG_OK and *plan NULL when there is nothing to do
 * (unknown, finished, held by a live worker, or timed out: recorded so), *why saying which;
 * IG_ERR_AWS when DynamoDB could not be asked (the invocation should fail, for Lambda to retry). */
ig_err ig_jobs_claim(ig_jobs *j, const char *id, const char *worker, int64_t worker_deadline_ms, json_t **plan,
                     json_t **inputs, const char **why, ig_error *err);
/* Records the result (ok or not) of the job this worker holds. IG_ERR_AWS when it could not. */
ig_err ig_jobs_finish(ig_jobs *j, const char *id, const char *worker, const json_t *result, ig_error *err);

/* ---- network-free pieces --------------------------------------------------------------- */

/* The id of a new job: with an idempotency key, derived from owner and key (a repeat names the
 * same item); otherwise random. out: IG_JOB_ID_LEN hex digits and a NUL. */
ig_err ig_job_id(const char *owner, const char *idempotency_key, char out[IG_JOB_ID_LEN + 1]);
int ig_job_id_valid(const char *id);

/* The new item, queued. */
json_t *ig_job_item(const char *id, const char *owner, const char *plan_json, int64_t now_ms, int64_t deadline_ms,
                    int64_t expires_at_s);

/* What the policy sees of an item at now_ms: {id, status, created_at, updated_at, attempts,
 * result?}; a queued or running item past its deadline reads as failed, result {ok false,
 * status 504, code "timeout"}. NULL when the item is not a job. */
json_t *ig_job_view(const json_t *item, int64_t now_ms);

/* The part of a result worth keeping: no URLs (they expire), no request id. New reference. */
json_t *ig_job_stored_result(const json_t *result);

#endif

/* async.h - Lambda's asynchronous invocation, locally: the event queue, its retries and the
 * maximum event age.
 *
 * The Invoke API (invoke.h) hands over each accepted Event invocation. Runner threads, as many
 * as execution environments, take each event when it is due and run it through the pool that
 * serves the API's requests (gw_pool_run_event), the payload as given: no API Gateway shape.
 * As Lambda does:
 *   - an attempt that fails (a function error, the function timeout, a crash of the process, an
 *     environment that cannot start) is retried up to cfg->async_retries times, the first after
 *     cfg->async_retry_delay_s, each next one after twice the wait before (Lambda: about one
 *     minute, then two); every attempt keeps the event's request id;
 *   - an attempt refused by a full queue (throttled) does not count: it is tried again after 1 s,
 *     doubling up to 5 minutes, Lambda's backoff for throttled events;
 *   - an event older than cfg->async_max_age_s (counted from its acceptance) is dropped as soon
 *     as it is, also while it waits for a retry.
 * Every outcome is one JSON log line, message "async invocation", with requestId, attempt and
 * outcome: "success", "error" (errorType; retryInS when another attempt follows), "throttled"
 * (retryInS), or "dropped" with reason "RetriesExhausted", "EventAgeExceeded" or "Shutdown".
 *
 * The queue lives in memory, as the gateway does: what it holds when the gateway stops is
 * dropped, each event logged. It holds at most GW_ASYNC_MAX_EVENTS events and
 * GW_ASYNC_MAX_BYTES of payloads; beyond, the Invoke API answers 429.
 */
#ifndef GW_ASYNC_H
#define GW_ASYNC_H

#include <stddef.h>

#include "core/error.h"
#include "config.h"
#include "pool.h"

#define GW_ASYNC_MAX_EVENTS 10000
#define GW_ASYNC_MAX_BYTES ((size_t)256 * 1024 * 1024)

typedef struct gw_async gw_async;

typedef enum {
    GW_ASYNC_QUEUED,   /* accepted: it will run */
    GW_ASYNC_FULL,     /* the queue holds its maximum */
    GW_ASYNC_STOPPING, /* the gateway is stopping */
} gw_async_admission;

/* Starts the runners; events go to pool, which must outlive the queue. */
gw_async *gw_async_start(const gw_config *cfg, gw_pool *pool, ig_error *err);

/* Queues payload (malloc'd, len bytes, taken over: freed whatever the answer) as request_id. */
gw_async_admission gw_async_enqueue(gw_async *a, char *payload, size_t len, const char *request_id);

/* Accepts nothing more and starts no attempt; attempts in flight end with the pool's shutdown. */
void gw_async_quiesce(gw_async *a);

/* Quiesces, waits for the runners, drops (and logs) what is left, frees. */
void gw_async_stop(gw_async *a);

#endif

/* async.c - the asynchronous event queue: a list ordered by the time each event next needs
 * attention (its next attempt, or its maximum age), runner threads that wait for the first,
 * and the rules that decide what follows an attempt.
 *
 * One mutex guards the list and the counters; a runner holds no lock while its attempt runs.
 */
#include "async.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec/hash.h"
#include "core/clock.h"
#include "core/random.h"
#include "out.h"

#define GW_ASYNC_THROTTLE_FIRST_S 1.0   /* Lambda's backoff for throttled events: 1 s ... */
#define GW_ASYNC_THROTTLE_MAX_S 300.0   /* ... doubling up to 5 minutes */

typedef struct gw_event {
    char id[37];
    char trace_root[48];    /* "Root=1-xxxxxxxx-<24 hex>", the same for every attempt */
    char *payload;
    size_t len;
    int attempts;           /* attempts made, throttled ones not counted */
    int throttles;          /* throttled attempts in a row */
    int64_t accepted_us;
    int64_t expires_us;     /* accepted + the maximum age */
    int64_t due_us;         /* the next attempt */
    struct gw_event *next;
} gw_event;

struct gw_async {
    const gw_config *cfg;
    gw_pool *pool;
    pthread_mutex_t mu;
    pthread_cond_t wake;    /* the list changed, or the queue is quiescing */
    gw_event *head;         /* ordered by gw_event_wake_us */
    size_t held;            /* events queued or running */
    size_t bytes;           /* their payloads */
    int quiescing;
    pthread_t *runners;
    int n_runners;
};

/* What an attempt came to, for the rules below and the log line. */
typedef enum { GW_ATTEMPT_SUCCESS, GW_ATTEMPT_ERROR, GW_ATTEMPT_THROTTLED, GW_ATTEMPT_SHUTDOWN } gw_attempt_kind;

static int64_t gw_async_us(void)
{
    return (int64_t)(ig_mono_s() * 1e6);
}

static int64_t gw_seconds_us(double s)
{
    return (int64_t)llround(s * 1e6);
}

/* When the event needs a runner: its next attempt, or earlier its maximum age. */
static int64_t gw_event_wake_us(const gw_event *ev)
{
    return ev->due_us < ev->expires_us ? ev->due_us : ev->expires_us;
}

/* ---- the list ---- */

static void gw_insert_locked(gw_async *a, gw_event *ev)
{
    gw_event **at = &a->head;
    while (*at && gw_event_wake_us(*at) <= gw_event_wake_us(ev))
        at = &(*at)->next;
    ev->next = *at;
    *at = ev;
    pthread_cond_broadcast(&a->wake);
}

static void gw_release_locked(gw_async *a, gw_event *ev)
{
    a->held--;
    a->bytes -= ev->len;
    free(ev->payload);
    free(ev);
}

/* Blocks until the first event needs attention (taken off the list) or the queue quiesces (NULL). */
static gw_event *gw_take_locked(gw_async *a)
{
    while (!a->quiescing) {
        if (!a->head) {
            pthread_cond_wait(&a->wake, &a->mu);
            continue;
        }
        int64_t wake = gw_event_wake_us(a->head), now = gw_async_us();
        if (wake <= now) {
            gw_event *ev = a->head;
            a->head = ev->next;
            ev->next = NULL;
            return ev;
        }
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        int64_t ns = (wake - now) * 1000 + until.tv_nsec;
        until.tv_sec += (time_t)(ns / 1000000000);
        until.tv_nsec = (long)(ns % 1000000000);
        pthread_cond_timedwait(&a->wake, &a->mu, &until);
    }
    return NULL;
}

/* ---- log lines ---- */

static void gw_log_outcome(const gw_event *ev, int attempt, const char *outcome, json_t *extra)
{
    json_t *f = json_pack("{s:s, s:i, s:s, s:I}", "requestId", ev->id, "attempt", attempt, "outcome", outcome, "ageMs",
                          (json_int_t)((gw_async_us() - ev->accepted_us) / 1000));
    if (f && extra)
        json_object_update(f, extra);
    json_decref(extra);
    ig_log_level level = strcmp(outcome, "success") == 0 ? IG_LOG_INFO
                         : strcmp(outcome, "dropped") == 0 ? IG_LOG_ERROR
                                                           : IG_LOG_WARN;
    gw_log(level, "async invocation", f);
}

static void gw_log_dropped(const gw_event *ev, const char *reason)
{
    gw_log_outcome(ev, ev->attempts, "dropped", json_pack("{s:s}", "reason", reason));
}

/* ---- one attempt ---- */

static gw_attempt_kind gw_classify(const gw_result *r)
{
    switch (r->kind) {
    case GW_RESULT_RESPONSE:
        return GW_ATTEMPT_SUCCESS;
    case GW_RESULT_THROTTLED:
        return GW_ATTEMPT_THROTTLED;
    case GW_RESULT_UNAVAILABLE:
        /* No environment can start (init failures) is the function's failure; a stopping
         * gateway is not. */
        return strcmp(r->error_type, "Runtime.Shutdown") == 0 ? GW_ATTEMPT_SHUTDOWN : GW_ATTEMPT_ERROR;
    case GW_RESULT_FUNCTION_ERROR:
    case GW_RESULT_TIMEOUT: /* the function timeout: Sandbox.Timedout */
    default:
        return GW_ATTEMPT_ERROR;
    }
}

/* Runs one attempt of ev (the queue's lock not held); fills r. */
static void gw_attempt(gw_async *a, const gw_event *ev, gw_result *r, double *ms)
{
    char *copy = malloc(ev->len + 1);
    if (!copy) {
        memset(r, 0, sizeof *r);
        r->kind = GW_RESULT_UNAVAILABLE;
        snprintf(r->error_type, sizeof r->error_type, "Runtime.OutOfMemory");
        *ms = 0;
        return;
    }
    memcpy(copy, ev->payload, ev->len);
    copy[ev->len] = '\0';
    double start = ig_mono_s();
    gw_pool_run_event(a->pool, copy, ev->len, ev->id, ev->trace_root, r);
    *ms = round((ig_mono_s() - start) * 100000.0) / 100.0; /* ms with two decimals, as REPORT */
}

/* The wait before the retry that follows attempt n (1-based): the delay, doubled each time. */
static double gw_retry_wait_s(const gw_config *cfg, int n)
{
    return cfg->async_retry_delay_s * ldexp(1.0, n - 1);
}

static double gw_throttle_wait_s(int throttles)
{
    double s = GW_ASYNC_THROTTLE_FIRST_S * ldexp(1.0, throttles - 1);
    return s < GW_ASYNC_THROTTLE_MAX_S ? s : GW_ASYNC_THROTTLE_MAX_S;
}

static void gw_requeue_locked(gw_async *a, gw_event *ev, double wait_s)
{
    ev->due_us = gw_async_us() + gw_seconds_us(wait_s);
    gw_insert_locked(a, ev);
}

/* After a failed attempt: the next one, or the end of the event. */
static void gw_after_error_locked(gw_async *a, gw_event *ev, const gw_result *r, double ms)
{
    json_t *extra = json_pack("{s:s, s:s, s:f}", "errorType", r->error_type[0] ? r->error_type : "Runtime.Unknown",
                              "env", r->env, "durationMs", ms);
    if (a->quiescing) {
        gw_log_outcome(ev, ev->attempts, "error", extra);
        gw_log_dropped(ev, "Shutdown");
        gw_release_locked(a, ev);
    } else if (ev->attempts <= a->cfg->async_retries) {
        double wait = gw_retry_wait_s(a->cfg, ev->attempts);
        json_object_set_new(extra, "retryInS", json_real(wait));
        gw_log_outcome(ev, ev->attempts, "error", extra);
        gw_requeue_locked(a, ev, wait);
    } else {
        gw_log_outcome(ev, ev->attempts, "error", extra);
        gw_log_dropped(ev, "RetriesExhausted");
        gw_release_locked(a, ev);
    }
}

/* Applies the rules to ev after an attempt that came to r. */
static void gw_settle_locked(gw_async *a, gw_event *ev, const gw_result *r, double ms)
{
    switch (gw_classify(r)) {
    case GW_ATTEMPT_SUCCESS:
        ev->attempts++;
        gw_log_outcome(ev, ev->attempts, "success", json_pack("{s:s, s:f}", "env", r->env, "durationMs", ms));
        gw_release_locked(a, ev);
        return;
    case GW_ATTEMPT_THROTTLED:
        if (a->quiescing) {
            gw_log_dropped(ev, "Shutdown");
            gw_release_locked(a, ev);
            return;
        }
        ev->throttles++;
        gw_log_outcome(ev, ev->attempts + 1, "throttled",
                       json_pack("{s:f}", "retryInS", gw_throttle_wait_s(ev->throttles)));
        gw_requeue_locked(a, ev, gw_throttle_wait_s(ev->throttles));
        return;
    case GW_ATTEMPT_SHUTDOWN:
        gw_log_dropped(ev, "Shutdown");
        gw_release_locked(a, ev);
        return;
    case GW_ATTEMPT_ERROR:
    default:
        ev->attempts++;
        ev->throttles = 0;
        gw_after_error_locked(a, ev, r, ms);
        return;
    }
}

static void *gw_runner(void *arg)
{
    gw_async *a = arg;
    pthread_mutex_lock(&a->mu);
    gw_event *ev;
    while ((ev = gw_take_locked(a)) != NULL) {
        if (gw_async_us() >= ev->expires_us) {
            gw_log_dropped(ev, "EventAgeExceeded");
            gw_release_locked(a, ev);
            continue;
        }
        pthread_mutex_unlock(&a->mu);
        gw_result r;
        double ms = 0;
        gw_attempt(a, ev, &r, &ms);
        free(r.payload); /* an asynchronous invocation's answer goes nowhere */
        pthread_mutex_lock(&a->mu);
        gw_settle_locked(a, ev, &r, ms);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

/* ---- the queue ---- */

gw_async *gw_async_start(const gw_config *cfg, gw_pool *pool, ig_error *err)
{
    gw_async *a = calloc(1, sizeof *a);
    if (a)
        a->runners = calloc((size_t)cfg->concurrency, sizeof *a->runners);
    if (!a || !a->runners) {
        free(a);
        ig_error_set(err, IG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    a->cfg = cfg;
    a->pool = pool;
    pthread_mutex_init(&a->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&a->wake, &attr);
    pthread_condattr_destroy(&attr);
    for (int i = 0; i < cfg->concurrency; i++) {
        if (pthread_create(&a->runners[i], NULL, gw_runner, a) != 0) {
            ig_error_set(err, IG_ERR_NOMEM, "cannot start the asynchronous queue's runners: %s", strerror(errno));
            gw_async_stop(a);
            return NULL;
        }
        a->n_runners++;
    }
    return a;
}

/* A new X-Ray root for an event: "Root=1-<epoch hex>-<96 random bits>". */
static void gw_new_trace_root(char *out, size_t len)
{
    unsigned char r[12];
    char hex[25];
    ig_random_bytes(r, sizeof r);
    ig_hex_encode(r, sizeof r, hex);
    snprintf(out, len, "Root=1-%08llx-%s", (unsigned long long)(ig_now_ms() / 1000), hex);
}

gw_async_admission gw_async_enqueue(gw_async *a, char *payload, size_t len, const char *request_id)
{
    gw_event *ev = calloc(1, sizeof *ev);
    if (!ev) {
        free(payload);
        return GW_ASYNC_FULL;
    }
    snprintf(ev->id, sizeof ev->id, "%s", request_id);
    gw_new_trace_root(ev->trace_root, sizeof ev->trace_root);
    ev->payload = payload;
    ev->len = len;
    ev->accepted_us = ev->due_us = gw_async_us();
    ev->expires_us = ev->accepted_us + gw_seconds_us(a->cfg->async_max_age_s);

    pthread_mutex_lock(&a->mu);
    gw_async_admission admission = a->quiescing                                                        ? GW_ASYNC_STOPPING
                                   : a->held >= GW_ASYNC_MAX_EVENTS || a->bytes + len > GW_ASYNC_MAX_BYTES ? GW_ASYNC_FULL
                                                                                                     : GW_ASYNC_QUEUED;
    if (admission == GW_ASYNC_QUEUED) {
        a->held++;
        a->bytes += len;
        gw_insert_locked(a, ev);
    }
    pthread_mutex_unlock(&a->mu);
    if (admission != GW_ASYNC_QUEUED) {
        free(ev->payload);
        free(ev);
    }
    return admission;
}

void gw_async_quiesce(gw_async *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    a->quiescing = 1;
    pthread_cond_broadcast(&a->wake);
    pthread_mutex_unlock(&a->mu);
}

void gw_async_stop(gw_async *a)
{
    if (!a)
        return;
    gw_async_quiesce(a);
    for (int i = 0; i < a->n_runners; i++)
        pthread_join(a->runners[i], NULL);
    pthread_mutex_lock(&a->mu);
    while (a->head) {
        gw_event *ev = a->head;
        a->head = ev->next;
        gw_log_dropped(ev, "Shutdown");
        gw_release_locked(a, ev);
    }
    pthread_mutex_unlock(&a->mu);
    pthread_cond_destroy(&a->wake);
    pthread_mutex_destroy(&a->mu);
    free(a->runners);
    free(a);
}

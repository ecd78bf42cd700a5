/* pool.c - execution environments, the invocation queue and their state machine.
 *
 * One mutex guards the whole state. An environment moves STARTING -> IDLE (blocked in GET
 * /next) -> BUSY (an invocation assigned) -> POSTED (result in, next not asked yet) -> IDLE ...
 * It leaves through FAILED (its init failed; it exits or is killed) or DYING (killed at its
 * timeout). Its exit, reaped by the main thread, frees the slot; the slot is refilled at once,
 * or after a backoff when the environment never finished its init.
 *
 * Platform lines (START, END, REPORT, ...) are written after the mutex is released, each time
 * after the environment's pending output has been relayed, so a function's lines sit between
 * its START and its END.
 *
 * Recycling (a new policy): every environment leaves its slot for the retiring list and a new
 * one starts in the slot at once; new invocations go only to slots. A retiring environment
 * that holds an invocation runs it to its end (its timeout still applies), then gets SIGTERM,
 * as does every other retiring one at once; SIGKILL follows after the stop grace period.
 */
#include "pool.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "codec/hash.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/random.h"
#include "env.h"
#include "out.h"
#include "rapi.h"
#include "relay.h"
#include "spawn.h"

#define GW_BACKOFF_FIRST_MS 100
#define GW_BACKOFF_MAX_MS 5000
#define GW_INIT_ERROR_GRACE_MS 1000 /* a runtime that reported its init error has this long to exit */
#define GW_STOP_GRACE_MS 2000       /* SIGTERM, then SIGKILL, as Lambda's shutdown phase */

typedef enum { GW_INV_QUEUED, GW_INV_RUNNING, GW_INV_DONE } gw_inv_state;

typedef struct gw_invocation {
    char id[37];
    char *event;
    size_t event_len;
    char trace_id[128];
    int refs;
    gw_inv_state state;
    gw_result_kind kind;
    char error_type[64];
    char env_name[16];
    char *payload;
    size_t payload_len;
    pthread_cond_t done;
    struct gw_invocation *next;
} gw_invocation;

typedef enum { GW_ENV_STARTING, GW_ENV_IDLE, GW_ENV_BUSY, GW_ENV_POSTED, GW_ENV_FAILED, GW_ENV_DYING } gw_env_state;

struct gw_env {
    gw_pool *pool;
    int slot;
    char name[16];          /* "env-3" */
    char prefix[24];        /* "[env-3] " */
    char log_stream[96];
    char runtime_api[32];
    gw_process proc;
    gw_relay *relay;
    gw_rapi *rapi;
    gw_env_state state;
    int64_t spawn_us;
    int64_t init_deadline_us;
    int64_t kill_at_us;
    int killed;             /* SIGKILL sent */
    double init_ms;
    int cold;               /* the next REPORT carries Init Duration */
    int waiting;            /* a GET /next is blocked */
    int stopping;           /* the process is gone: release every waiter */
    gw_invocation *inv;     /* assigned, no result yet */
    int delivered;          /* inv was handed to GET /next */
    char current_id[37];    /* the last invocation handed out, until the next GET /next */
    int posted;             /* current_id has its result */
    int64_t inv_start_us;
    int64_t inv_deadline_us;
    int64_t deadline_ms;
    int hwm_mb;
    char exit_how[64];
    ig_buf pending;         /* platform lines for the main thread to write */
    pthread_cond_t cond;
    int retired;            /* on the retiring list: no slot, no new invocation */
    int term_sent;          /* retiring: SIGTERM sent at term_at_us */
    int64_t term_at_us;
    struct gw_env *next_retiring;
    struct gw_env *next_dead;
};

typedef struct {
    gw_env *env;            /* NULL while waiting to (re)spawn */
    int failures;           /* init failures in a row */
    int64_t respawn_at_us;
    int first_done;         /* its first environment reached next or failed init */
} gw_slot;

struct gw_pool {
    const gw_config *cfg;
    pthread_mutex_t mu;
    gw_slot *slots;
    int n_slots;
    gw_invocation *head;
    gw_invocation *tail;
    int queued;
    unsigned serial;
    int shutting_down;
    int ready;
    gw_env *dead;
    gw_env *retiring;       /* environments of an older generation, until they exit */
    char arn[256];
    char last_init_error[64];
};

static int64_t gw_us(void)
{
    return (int64_t)(ig_mono_s() * 1e6);
}

static void gw_cond_init_monotonic(pthread_cond_t *c)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(c, &a);
    pthread_condattr_destroy(&a);
}

/* "Runtime.Reason" or "Function.Reason" as the Runtime Interface Emulator accepts them; any
 * other value becomes Runtime.Unknown (Function.Unknown when it starts with "Function."). */
static void gw_error_type_normalise(const char *in, char *out, size_t outlen)
{
    const char *reason = NULL;
    if (in && strncmp(in, "Runtime.", 8) == 0)
        reason = in + 8;
    else if (in && strncmp(in, "Function.", 9) == 0)
        reason = in + 9;
    int ok = reason && reason[0] >= 'A' && reason[0] <= 'Z' && reason[1] && strlen(in) < outlen;
    for (const char *p = reason; ok && *p; p++)
        ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z');
    if (ok)
        snprintf(out, outlen, "%s", in);
    else
        snprintf(out, outlen, "%s", in && strncmp(in, "Function.", 9) == 0 ? "Function.Unknown" : "Runtime.Unknown");
}

/* ---- invocations ---- */

static void gw_inv_unref_locked(gw_invocation *inv)
{
    if (!inv || --inv->refs > 0)
        return;
    free(inv->event);
    free(inv->payload);
    pthread_cond_destroy(&inv->done);
    free(inv);
}

static void gw_inv_complete_locked(gw_invocation *inv, gw_result_kind kind, const char *error_type,
                                   char *payload, size_t len)
{
    if (inv->state == GW_INV_DONE) { /* the client has already given up on it */
        free(payload);
        return;
    }
    inv->state = GW_INV_DONE;
    inv->kind = kind;
    snprintf(inv->error_type, sizeof inv->error_type, "%s", error_type ? error_type : "");
    inv->payload = payload;
    inv->payload_len = len;
    pthread_cond_broadcast(&inv->done);
}

static void gw_queue_push_locked(gw_pool *p, gw_invocation *inv)
{
    inv->next = NULL;
    if (p->tail)
        p->tail->next = inv;
    else
        p->head = inv;
    p->tail = inv;
    p->queued++;
}

static gw_invocation *gw_queue_pop_locked(gw_pool *p)
{
    gw_invocation *inv = p->head;
    if (!inv)
        return NULL;
    p->head = inv->next;
    if (!p->head)
        p->tail = NULL;
    inv->next = NULL;
    p->queued--;
    return inv;
}

static void gw_queue_remove_locked(gw_pool *p, gw_invocation *inv)
{
    gw_invocation *prev = NULL;
    for (gw_invocation *it = p->head; it; prev = it, it = it->next) {
        if (it != inv)
            continue;
        if (prev)
            prev->next = it->next;
        else
            p->head = it->next;
        if (p->tail == it)
            p->tail = prev;
        it->next = NULL;
        p->queued--;
        return;
    }
}

/* ---- environments ---- */

static int gw_slot_usable(const gw_slot *s)
{
    return s->env ? s->env->state != GW_ENV_FAILED : s->failures == 0;
}

static int gw_any_usable_locked(const gw_pool *p)
{
    for (int i = 0; i < p->n_slots; i++)
        if (gw_slot_usable(&p->slots[i]))
            return 1;
    return 0;
}

static gw_env *gw_idle_env_locked(const gw_pool *p)
{
    for (int i = 0; i < p->n_slots; i++) {
        gw_env *e = p->slots[i].env;
        if (e && e->state == GW_ENV_IDLE && e->waiting && !e->inv && !e->stopping)
            return e;
    }
    return NULL;
}

static void gw_assign_locked(gw_pool *p, gw_env *e, gw_invocation *inv)
{
    int64_t timeout_ms = (int64_t)llround(p->cfg->function_timeout_s * 1000.0);
    e->inv = inv;
    inv->refs++;
    inv->state = GW_INV_RUNNING;
    snprintf(inv->env_name, sizeof inv->env_name, "%s", e->name);
    e->state = GW_ENV_BUSY;
    e->delivered = 0;
    e->posted = 0;
    snprintf(e->current_id, sizeof e->current_id, "%s", inv->id);
    e->inv_deadline_us = gw_us() + timeout_ms * 1000;
    e->deadline_ms = ig_now_ms() + timeout_ms;
    pthread_cond_broadcast(&e->cond);
}

static void gw_dispatch_locked(gw_pool *p)
{
    while (p->head) {
        gw_env *e = gw_idle_env_locked(p);
        if (!e)
            return;
        gw_assign_locked(p, e, gw_queue_pop_locked(p));
    }
}

/* VmHWM of pid in MB (rounded up), or 0 when it cannot be read. */
static int gw_read_hwm_mb(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[256];
    long kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb > 0 ? (int)((kb + 1023) / 1024) : 0;
}

/* END and REPORT for the invocation env has just finished. */
static void gw_report_locked(gw_pool *p, gw_env *e, ig_buf *out, const char *id, double duration_ms,
                             const char *status, const char *error_type)
{
    int mem = gw_read_hwm_mb(e->proc.pid);
    if (mem > 0)
        e->hwm_mb = mem;
    double billed = ceil(duration_ms + (e->cold ? e->init_ms : 0.0));
    if (billed < 1)
        billed = 1;
    ig_buf_appendf(out, "END RequestId: %s\n", id);
    ig_buf_appendf(out, "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %.0f ms\tMemory Size: %d MB\tMax Memory Used: %d MB",
                   id, duration_ms, billed, p->cfg->memory_mb, e->hwm_mb);
    if (e->cold)
        ig_buf_appendf(out, "\tInit Duration: %.2f ms", e->init_ms);
    e->cold = 0;
    if (status)
        ig_buf_appendf(out, "\tStatus: %s", status);
    if (error_type)
        ig_buf_appendf(out, "\tError Type: %s", error_type);
    ig_buf_append_char(out, '\n');
}

/* Writes text (lines ending in '\n') with env's prefix, after what the function wrote so far. */
static void gw_print_env_lines(gw_env *e, const char *text)
{
    gw_relay_drain(e->relay);
    while (text && *text) {
        const char *nl = strchr(text, '\n');
        size_t len = nl ? (size_t)(nl - text) : strlen(text);
        gw_out_line(e->prefix, text, len);
        text += len + (nl ? 1 : 0);
    }
}

static void gw_fail_queue_locked(gw_pool *p, int all, const char *error_type)
{
    gw_invocation *inv;
    while ((inv = gw_queue_pop_locked(p)) != NULL) {
        inv->state = GW_INV_RUNNING; /* off the queue: the client must not unlink it again */
        gw_inv_complete_locked(inv, GW_RESULT_UNAVAILABLE, error_type, NULL, 0);
        if (!all)
            break;
    }
}

/* The init phase of e failed: Lambda serves the error to the invocation waiting for it. */
static void gw_init_failed_locked(gw_pool *p, gw_env *e, const char *error_type, const char *status)
{
    double ms = (double)(gw_us() - e->spawn_us) / 1000.0;
    e->state = GW_ENV_FAILED;
    e->kill_at_us = gw_us() + (int64_t)GW_INIT_ERROR_GRACE_MS * 1000;
    p->slots[e->slot].first_done = 1;
    snprintf(p->last_init_error, sizeof p->last_init_error, "%s", error_type);
    ig_buf_appendf(&e->pending, "INIT_REPORT Init Duration: %.2f ms\tPhase: init\tStatus: %s\tError Type: %s\n",
                   ms, status, error_type);
    gw_fail_queue_locked(p, 0, error_type);
    if (!gw_any_usable_locked(p))
        gw_fail_queue_locked(p, 1, error_type);
}

static const char *gw_signal_word(int sig, char *buf, size_t len)
{
    switch (sig) {
    case SIGKILL: return "killed";
    case SIGTERM: return "terminated";
    case SIGSEGV: return "segmentation fault";
    case SIGABRT: return "aborted";
    case SIGBUS: return "bus error";
    case SIGINT: return "interrupt";
    default: snprintf(buf, len, "%d", sig); return buf;
    }
}

static void gw_bury_locked(gw_pool *p, gw_env *e)
{
    e->proc.pid = -1;
    e->stopping = 1;
    pthread_cond_broadcast(&e->cond);
    e->next_dead = p->dead;
    p->dead = e;
}

/* A retiring environment exited: it fails only the invocation it still held (a crash). */
static void gw_handle_retired_exit_locked(gw_pool *p, gw_env *e)
{
    if (e->inv) {
        gw_invocation *inv = e->inv;
        ig_buf_appendf(&e->pending, "RequestId: %s Error: Runtime exited with error: %s\nRuntime.ExitError\n",
                       inv->id, e->exit_how);
        double ms = e->delivered ? (double)(gw_us() - e->inv_start_us) / 1000.0 : 0.0;
        gw_report_locked(p, e, &e->pending, inv->id, ms, "error", "Runtime.ExitError");
        gw_inv_complete_locked(inv, GW_RESULT_FUNCTION_ERROR, "Runtime.ExitError", NULL, 0);
        e->inv = NULL;
        gw_inv_unref_locked(inv);
    }
    for (gw_env **it = &p->retiring; *it; it = &(*it)->next_retiring) {
        if (*it == e) {
            *it = e->next_retiring;
            break;
        }
    }
    gw_bury_locked(p, e);
}

static void gw_handle_exit_locked(gw_pool *p, gw_env *e, int wstatus)
{
    char sigbuf[16];
    if (WIFSIGNALED(wstatus))
        snprintf(e->exit_how, sizeof e->exit_how, "signal: %s", gw_signal_word(WTERMSIG(wstatus), sigbuf, sizeof sigbuf));
    else
        snprintf(e->exit_how, sizeof e->exit_how, "exit status %d", WEXITSTATUS(wstatus));
    int init_failure = 0;
    if (e->retired) {
        gw_handle_retired_exit_locked(p, e);
        return;
    }
    if (e->state == GW_ENV_BUSY && e->inv) {
        gw_invocation *inv = e->inv;
        ig_buf_appendf(&e->pending, "RequestId: %s Error: Runtime exited with error: %s\nRuntime.ExitError\n",
                       inv->id, e->exit_how);
        double ms = e->delivered ? (double)(gw_us() - e->inv_start_us) / 1000.0 : 0.0;
        gw_report_locked(p, e, &e->pending, inv->id, ms, "error", "Runtime.ExitError");
        gw_inv_complete_locked(inv, GW_RESULT_FUNCTION_ERROR, "Runtime.ExitError", NULL, 0);
        e->inv = NULL;
        gw_inv_unref_locked(inv);
    } else if (e->state == GW_ENV_STARTING && !p->shutting_down) {
        gw_init_failed_locked(p, e, "Runtime.ExitError", "error");
        init_failure = 1;
    } else if (e->state == GW_ENV_FAILED) {
        init_failure = 1;
    }
    gw_slot *s = &p->slots[e->slot];
    s->env = NULL;
    if (init_failure) {
        s->failures++;
        int64_t backoff = GW_BACKOFF_FIRST_MS;
        for (int i = 1; i < s->failures && backoff < GW_BACKOFF_MAX_MS; i++)
            backoff *= 2;
        if (backoff > GW_BACKOFF_MAX_MS)
            backoff = GW_BACKOFF_MAX_MS;
        s->respawn_at_us = gw_us() + backoff * 1000;
    } else {
        s->respawn_at_us = gw_us();
    }
    gw_bury_locked(p, e);
}

static void gw_timeout_locked(gw_pool *p, gw_env *e)
{
    gw_invocation *inv = e->inv;
    /* The function's own timeout: a function error (502) when it is shorter than the
     * integration's, the integration timeout (504) otherwise. */
    gw_result_kind kind = p->cfg->function_timeout_s < p->cfg->timeout_s ? GW_RESULT_FUNCTION_ERROR : GW_RESULT_TIMEOUT;
    char ts[40];
    ig_format_rfc3339_ms(ig_now_ms(), ts, sizeof ts);
    ig_buf_appendf(&e->pending, "%s %s Task timed out after %.2f seconds\n", ts, inv->id, p->cfg->function_timeout_s);
    gw_report_locked(p, e, &e->pending, inv->id, p->cfg->function_timeout_s * 1000.0, "timeout", NULL);
    gw_inv_complete_locked(inv, kind, "Sandbox.Timedout", NULL, 0);
    e->inv = NULL;
    gw_inv_unref_locked(inv);
    e->posted = 1;
    e->state = GW_ENV_DYING;
    gw_process_signal(&e->proc, SIGKILL);
    e->killed = 1;
}

static void gw_env_destroy(gw_env *e)
{
    gw_rapi_stop(e->rapi);
    gw_relay_stop(e->relay);
    ig_buf_free(&e->pending);
    pthread_cond_destroy(&e->cond);
    free(e);
}

static void gw_spawn_failed_locked(gw_pool *p, gw_slot *s, const char *why)
{
    s->failures++;
    s->first_done = 1;
    s->respawn_at_us = gw_us() + (int64_t)GW_BACKOFF_MAX_MS * 1000;
    snprintf(p->last_init_error, sizeof p->last_init_error, "Runtime.InvalidEntrypoint");
    gw_log(IG_LOG_ERROR, "cannot start an execution environment", json_pack("{s:s}", "error", why));
    if (!gw_any_usable_locked(p))
        gw_fail_queue_locked(p, 1, "Runtime.InvalidEntrypoint");
}

/* Starts a new environment in slot i: its Runtime API server, then the process. */
static void gw_spawn_locked(gw_pool *p, int i)
{
    gw_slot *s = &p->slots[i];
    gw_env *e = calloc(1, sizeof *e);
    if (!e) {
        gw_spawn_failed_locked(p, s, "out of memory");
        return;
    }
    e->pool = p;
    e->slot = i;
    unsigned serial = ++p->serial;
    snprintf(e->name, sizeof e->name, "env-%u", serial);
    snprintf(e->prefix, sizeof e->prefix, "[env-%u] ", serial);
    unsigned char rnd[16];
    char hex[33];
    ig_random_bytes(rnd, sizeof rnd);
    ig_hex_encode(rnd, sizeof rnd, hex);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    snprintf(e->log_stream, sizeof e->log_stream, "%04d/%02d/%02d/[$LATEST]%s", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, hex);
    ig_buf_init(&e->pending, 0);
    pthread_cond_init(&e->cond, NULL);
    e->proc.pid = -1;

    ig_error err;
    ig_error_clear(&err);
    int port = 0;
    e->rapi = gw_rapi_start(e, &port, &err);
    if (!e->rapi) {
        gw_env_destroy(e);
        gw_spawn_failed_locked(p, s, err.message);
        return;
    }
    snprintf(e->runtime_api, sizeof e->runtime_api, "127.0.0.1:%d", port);
    char **envp = gw_spawn_environment(p->cfg, e->runtime_api, e->log_stream);
    ig_err rc = gw_spawn(p->cfg, envp, &e->proc, &err);
    gw_strv_free(envp);
    if (rc != IG_OK) {
        e->proc.pid = -1;
        gw_env_destroy(e);
        gw_spawn_failed_locked(p, s, err.message);
        return;
    }
    e->relay = gw_relay_start(e->proc.out_fd, e->prefix);
    e->state = GW_ENV_STARTING;
    e->spawn_us = gw_us();
    e->init_deadline_us = e->spawn_us + (int64_t)llround(p->cfg->init_timeout_s * 1e6);
    s->env = e;
    gw_log(IG_LOG_INFO, "execution environment started",
           json_pack("{s:s, s:i, s:s, s:s}", "env", e->name, "pid", (int)e->proc.pid, "runtimeApi",
                     e->runtime_api, "logStream", e->log_stream));
}

/* ---- the pool ---- */

gw_pool *gw_pool_new(const gw_config *cfg, ig_error *err)
{
    gw_pool *p = calloc(1, sizeof *p);
    if (!p || !(p->slots = calloc((size_t)cfg->concurrency, sizeof *p->slots))) {
        free(p);
        ig_error_set(err, IG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    p->cfg = cfg;
    p->n_slots = cfg->concurrency;
    pthread_mutex_init(&p->mu, NULL);
    snprintf(p->arn, sizeof p->arn, "arn:aws:lambda:%s:123456789012:function:%s", cfg->region, cfg->function_name);
    snprintf(p->last_init_error, sizeof p->last_init_error, "Runtime.Unknown");
    pthread_mutex_lock(&p->mu);
    for (int i = 0; i < p->n_slots; i++)
        gw_spawn_locked(p, i);
    pthread_mutex_unlock(&p->mu);
    return p;
}

/* Writes the last lines of environments whose process has ended, and destroys them. */
static void gw_flush_and_bury(gw_env *dead)
{
    for (gw_env *e = dead; e;) {
        gw_env *next = e->next_dead;
        gw_rapi_stop(e->rapi); /* no Runtime API call can add to it any more */
        e->rapi = NULL;
        gw_relay_drain(e->relay);
        gw_print_env_lines(e, ig_buf_cstr(&e->pending));
        gw_log(IG_LOG_INFO, "execution environment ended",
               json_pack("{s:s, s:s}", "env", e->name, "exit", e->exit_how));
        gw_env_destroy(e);
        e = next;
    }
}

static gw_env *gw_env_of_pid_locked(gw_pool *p, pid_t pid)
{
    for (int i = 0; i < p->n_slots; i++)
        if (p->slots[i].env && p->slots[i].env->proc.pid == pid)
            return p->slots[i].env;
    for (gw_env *e = p->retiring; e; e = e->next_retiring)
        if (e->proc.pid == pid)
            return e;
    return NULL;
}

/* Retiring environments: the one still running an invocation keeps its timeout; the others
 * get SIGTERM, then SIGKILL after the stop grace period. */
static void gw_retiring_tick_locked(gw_pool *p, int64_t now)
{
    for (gw_env *e = p->retiring; e; e = e->next_retiring) {
        if (e->state == GW_ENV_BUSY && e->inv) {
            if (now >= e->inv_deadline_us)
                gw_timeout_locked(p, e);
            continue;
        }
        if (!e->term_sent) {
            gw_process_signal(&e->proc, SIGTERM);
            e->term_sent = 1;
            e->term_at_us = now;
        } else if (!e->killed && now >= e->term_at_us + (int64_t)GW_STOP_GRACE_MS * 1000) {
            gw_process_signal(&e->proc, SIGKILL);
            e->killed = 1;
        }
    }
}

/* Takes the pending lines of up to max environments (slots, then retiring ones). */
static int gw_collect_pending_locked(gw_pool *p, gw_env **envs, char **texts, int max)
{
    int n = 0;
    for (int i = 0; i < p->n_slots && n < max; i++) {
        gw_env *e = p->slots[i].env;
        if (e && e->pending.len) {
            envs[n] = e;
            texts[n++] = ig_buf_steal(&e->pending, NULL);
        }
    }
    for (gw_env *e = p->retiring; e && n < max; e = e->next_retiring) {
        if (e->pending.len) {
            envs[n] = e;
            texts[n++] = ig_buf_steal(&e->pending, NULL);
        }
    }
    return n;
}

int gw_pool_tick(gw_pool *p)
{
    int became_ready = 0;
    gw_env *live[128];
    char *texts[128];
    int n_live = 0;

    pthread_mutex_lock(&p->mu);
    int wstatus;
    pid_t pid;
    while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0) {
        gw_env *e = gw_env_of_pid_locked(p, pid);
        if (e)
            gw_handle_exit_locked(p, e, wstatus);
    }
    int64_t now = gw_us();
    gw_retiring_tick_locked(p, now);
    for (int i = 0; i < p->n_slots; i++) {
        gw_slot *s = &p->slots[i];
        gw_env *e = s->env;
        if (!e) {
            if (!p->shutting_down && now >= s->respawn_at_us)
                gw_spawn_locked(p, i);
            continue;
        }
        if (e->state == GW_ENV_BUSY && e->inv && now >= e->inv_deadline_us) {
            gw_timeout_locked(p, e);
        } else if (e->state == GW_ENV_STARTING && now >= e->init_deadline_us) {
            gw_process_signal(&e->proc, SIGKILL);
            e->killed = 1;
            gw_init_failed_locked(p, e, "Sandbox.Timedout", "timeout");
        } else if (e->state == GW_ENV_FAILED && !e->killed && now >= e->kill_at_us) {
            gw_process_signal(&e->proc, SIGKILL);
            e->killed = 1;
        }
    }
    if (!p->ready) {
        int all = 1;
        for (int i = 0; i < p->n_slots; i++)
            all = all && p->slots[i].first_done;
        if (all)
            p->ready = became_ready = 1;
    }
    n_live = gw_collect_pending_locked(p, live, texts, 128);
    gw_env *dead = p->dead;
    p->dead = NULL;
    pthread_mutex_unlock(&p->mu);

    for (int i = 0; i < n_live; i++) {
        gw_print_env_lines(live[i], texts[i]);
        free(texts[i]);
    }
    gw_flush_and_bury(dead);
    return became_ready;
}

int gw_pool_recycle(gw_pool *p)
{
    pthread_mutex_lock(&p->mu);
    int started = 0;
    for (int i = 0; i < p->n_slots && !p->shutting_down; i++) {
        gw_slot *s = &p->slots[i];
        gw_env *e = s->env;
        if (e) {
            e->retired = 1;
            e->next_retiring = p->retiring;
            p->retiring = e;
            s->env = NULL;
        }
        s->failures = 0;
        s->respawn_at_us = gw_us();
        gw_spawn_locked(p, i);
        started += s->env != NULL;
    }
    pthread_mutex_unlock(&p->mu);
    return started;
}

void gw_pool_shutdown(gw_pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->shutting_down = 1;
    gw_fail_queue_locked(p, 1, "Runtime.Shutdown");
    for (int i = 0; i < p->n_slots; i++)
        if (p->slots[i].env)
            gw_process_signal(&p->slots[i].env->proc, SIGTERM);
    for (gw_env *e = p->retiring; e; e = e->next_retiring)
        gw_process_signal(&e->proc, SIGTERM);
    pthread_mutex_unlock(&p->mu);

    int64_t kill_at = gw_us() + (int64_t)GW_STOP_GRACE_MS * 1000;
    int killed = 0;
    for (;;) {
        gw_pool_tick(p);
        pthread_mutex_lock(&p->mu);
        int alive = 0;
        for (int i = 0; i < p->n_slots; i++)
            alive += p->slots[i].env != NULL;
        alive += p->retiring != NULL;
        if (alive && !killed && gw_us() >= kill_at) {
            for (int i = 0; i < p->n_slots; i++)
                if (p->slots[i].env)
                    gw_process_signal(&p->slots[i].env->proc, SIGKILL);
            for (gw_env *e = p->retiring; e; e = e->next_retiring)
                gw_process_signal(&e->proc, SIGKILL);
            killed = 1;
        }
        pthread_mutex_unlock(&p->mu);
        if (!alive)
            break;
        ig_sleep_ms(10);
    }
}

void gw_pool_free(gw_pool *p)
{
    if (!p)
        return;
    pthread_mutex_destroy(&p->mu);
    free(p->slots);
    free(p);
}

/* A new invocation of event (taken over) with request id id (NULL: a new one) and a trace
 * header under trace_root; NULL when out of memory (event freed). */
static gw_invocation *gw_inv_new(char *event, size_t len, const char *id, const char *trace_root)
{
    gw_invocation *inv = calloc(1, sizeof *inv);
    if (!inv) {
        free(event);
        return NULL;
    }
    if (id)
        snprintf(inv->id, sizeof inv->id, "%s", id);
    else
        ig_uuid4(inv->id);
    inv->event = event;
    inv->event_len = len;
    inv->refs = 1;
    gw_cond_init_monotonic(&inv->done);
    unsigned char parent[8];
    char parent_hex[17];
    ig_random_bytes(parent, sizeof parent);
    ig_hex_encode(parent, sizeof parent, parent_hex);
    snprintf(inv->trace_id, sizeof inv->trace_id, "%s;Parent=%s;Sampled=0", trace_root, parent_hex);
    return inv;
}

/* Waits for inv's result, at most wait_s seconds (<= 0: until there is one; the pool completes
 * every invocation: a result, the function timeout, a crash, an init failure or the shutdown). */
static void gw_wait_locked(gw_pool *p, gw_invocation *inv, double wait_s)
{
    if (wait_s <= 0) {
        while (inv->state != GW_INV_DONE)
            pthread_cond_wait(&inv->done, &p->mu);
        return;
    }
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    int64_t ns = (int64_t)llround(wait_s * 1e9) + until.tv_nsec;
    until.tv_sec += (time_t)(ns / 1000000000);
    until.tv_nsec = (long)(ns % 1000000000);
    while (inv->state != GW_INV_DONE)
        if (pthread_cond_timedwait(&inv->done, &p->mu, &until) == ETIMEDOUT)
            break;
    if (inv->state != GW_INV_DONE) {
        if (inv->state == GW_INV_QUEUED)
            gw_queue_remove_locked(p, inv);
        gw_inv_complete_locked(inv, GW_RESULT_TIMEOUT, NULL, NULL, 0);
    }
}

/* Queues inv (or refuses it), waits for its result and fills out; releases the caller's reference. */
static void gw_submit(gw_pool *p, gw_invocation *inv, double wait_s, gw_result *out)
{
    snprintf(out->request_id, sizeof out->request_id, "%s", inv->id);
    pthread_mutex_lock(&p->mu);
    if (p->shutting_down) {
        out->kind = GW_RESULT_UNAVAILABLE;
        snprintf(out->error_type, sizeof out->error_type, "Runtime.Shutdown");
    } else if (!gw_any_usable_locked(p)) {
        out->kind = GW_RESULT_UNAVAILABLE;
        snprintf(out->error_type, sizeof out->error_type, "%s", p->last_init_error);
    } else if (p->queued >= p->cfg->queue_size && !gw_idle_env_locked(p)) {
        out->kind = GW_RESULT_THROTTLED;
    } else {
        gw_queue_push_locked(p, inv);
        gw_dispatch_locked(p);
        gw_wait_locked(p, inv, wait_s);
        out->kind = inv->kind;
        snprintf(out->error_type, sizeof out->error_type, "%s", inv->error_type);
        snprintf(out->env, sizeof out->env, "%s", inv->env_name);
        out->payload = inv->payload;
        out->payload_len = inv->payload_len;
        inv->payload = NULL;
    }
    gw_inv_unref_locked(inv);
    pthread_mutex_unlock(&p->mu);
}

static void gw_out_of_memory(gw_result *out)
{
    out->kind = GW_RESULT_UNAVAILABLE;
    snprintf(out->error_type, sizeof out->error_type, "Runtime.OutOfMemory");
}

void gw_pool_invoke(gw_pool *p, char *event, size_t len, const char *trace_root, gw_result *out)
{
    memset(out, 0, sizeof *out);
    gw_invocation *inv = gw_inv_new(event, len, NULL, trace_root);
    if (!inv)
        gw_out_of_memory(out);
    else
        gw_submit(p, inv, p->cfg->timeout_s, out);
}

void gw_pool_run_event(gw_pool *p, char *event, size_t len, const char *request_id, const char *trace_root,
                       gw_result *out)
{
    memset(out, 0, sizeof *out);
    gw_invocation *inv = gw_inv_new(event, len, request_id, trace_root);
    if (!inv)
        gw_out_of_memory(out);
    else
        gw_submit(p, inv, 0, out);
}

/* ---- the Runtime API side ---- */

int gw_env_next(gw_env *e, gw_next *out, int *status)
{
    gw_pool *p = e->pool;
    memset(out, 0, sizeof *out);
    *status = 500;
    pthread_mutex_lock(&p->mu);
    if (e->stopping || e->state == GW_ENV_FAILED || e->state == GW_ENV_DYING) {
        pthread_mutex_unlock(&p->mu);
        return -1;
    }
    if (e->waiting || (e->inv && e->delivered)) {
        pthread_mutex_unlock(&p->mu);
        *status = 403;
        return -1;
    }
    if (e->state == GW_ENV_STARTING) {
        e->init_ms = (double)(gw_us() - e->spawn_us) / 1000.0;
        e->cold = 1;
        if (!e->retired) {
            p->slots[e->slot].failures = 0;
            p->slots[e->slot].first_done = 1;
        }
    }
    e->state = GW_ENV_IDLE;
    e->waiting = 1;
    e->current_id[0] = '\0';
    e->posted = 0;
    gw_dispatch_locked(p);
    while (!(e->inv && !e->delivered) && !e->stopping)
        pthread_cond_wait(&e->cond, &p->mu);
    e->waiting = 0;
    if (e->stopping) {
        pthread_mutex_unlock(&p->mu);
        return -1;
    }
    gw_invocation *inv = e->inv;
    e->delivered = 1;
    inv->refs++;
    e->inv_start_us = gw_us();
    int mem = gw_read_hwm_mb(e->proc.pid);
    if (mem > 0)
        e->hwm_mb = mem;
    snprintf(out->request_id, sizeof out->request_id, "%s", inv->id);
    out->deadline_ms = e->deadline_ms;
    snprintf(out->function_arn, sizeof out->function_arn, "%s", p->arn);
    snprintf(out->trace_id, sizeof out->trace_id, "%s", inv->trace_id);
    out->event = inv->event;
    out->event_len = inv->event_len;
    out->hold = inv;
    pthread_mutex_unlock(&p->mu);

    gw_relay_drain(e->relay);
    gw_out_printf(e->prefix, "START RequestId: %s Version: $LATEST", out->request_id);
    return 0;
}

void gw_env_next_release(gw_env *e, gw_next *n)
{
    if (!n->hold)
        return;
    pthread_mutex_lock(&e->pool->mu);
    gw_inv_unref_locked(n->hold);
    pthread_mutex_unlock(&e->pool->mu);
    n->hold = NULL;
}

/* 400 for an id that is not the current invocation, 403 for a second result. */
static int gw_check_post_locked(gw_env *e, const char *id, gw_post_outcome *o)
{
    if (!e->current_id[0] || strcmp(id, e->current_id) != 0) {
        *o = (gw_post_outcome){400, "InvalidRequestID", "Invalid request ID"};
        return 0;
    }
    if (e->posted || !e->inv) {
        *o = (gw_post_outcome){403, "InvalidStateTransition", "State transition is not allowed: the invocation already has a result"};
        return 0;
    }
    return 1;
}

/* Takes env's invocation off it once its result is in; the caller writes the returned lines. */
static gw_invocation *gw_finish_locked(gw_env *e, ig_buf *lines)
{
    gw_invocation *inv = e->inv;
    e->inv = NULL;
    e->posted = 1;
    e->state = GW_ENV_POSTED;
    double ms = (double)(gw_us() - e->inv_start_us) / 1000.0;
    gw_report_locked(e->pool, e, lines, inv->id, ms, NULL, NULL);
    return inv;
}

gw_post_outcome gw_env_post_response(gw_env *e, const char *id, char *body, size_t len, int too_large)
{
    gw_post_outcome o = {202, NULL, NULL};
    ig_buf lines;
    ig_buf_init(&lines, 0);
    pthread_mutex_lock(&e->pool->mu);
    if (!gw_check_post_locked(e, id, &o)) {
        pthread_mutex_unlock(&e->pool->mu);
        free(body);
        return o;
    }
    gw_invocation *inv = gw_finish_locked(e, &lines);
    if (too_large) {
        free(body);
        gw_inv_complete_locked(inv, GW_RESULT_FUNCTION_ERROR, "Function.ResponseSizeTooLarge", NULL, 0);
        o = (gw_post_outcome){413, "RequestEntityTooLarge", "Exceeded maximum allowed payload size (6291556 bytes)."};
    } else {
        gw_inv_complete_locked(inv, GW_RESULT_RESPONSE, NULL, body ? body : strdup(""), len);
    }
    gw_inv_unref_locked(inv);
    pthread_mutex_unlock(&e->pool->mu);
    if (too_large)
        gw_log(IG_LOG_ERROR, "function response too large",
               json_pack("{s:s, s:s, s:s}", "env", e->name, "requestId", id, "errorType", "Function.ResponseSizeTooLarge"));
    gw_print_env_lines(e, ig_buf_cstr(&lines));
    ig_buf_free(&lines);
    return o;
}

/* The errorMessage of an error report, or "" (the body is the function's text: logged encoded). */
static json_t *gw_error_message(const char *body, size_t len)
{
    json_t *doc = json_loadb(body, len, 0, NULL);
    json_t *msg = json_object_get(doc, "errorMessage");
    json_t *out = json_is_string(msg) ? json_string(json_string_value(msg)) : json_string("");
    json_decref(doc);
    return out ? out : json_string("");
}

gw_post_outcome gw_env_post_error(gw_env *e, const char *id, const char *error_type, const char *body, size_t len)
{
    gw_post_outcome o = {202, NULL, NULL};
    char type[64];
    gw_error_type_normalise(error_type, type, sizeof type);
    ig_buf lines;
    ig_buf_init(&lines, 0);
    pthread_mutex_lock(&e->pool->mu);
    if (!gw_check_post_locked(e, id, &o)) {
        pthread_mutex_unlock(&e->pool->mu);
        return o;
    }
    gw_invocation *inv = gw_finish_locked(e, &lines);
    gw_inv_complete_locked(inv, GW_RESULT_FUNCTION_ERROR, type, NULL, 0);
    gw_inv_unref_locked(inv);
    pthread_mutex_unlock(&e->pool->mu);
    gw_log(IG_LOG_ERROR, "function error",
           json_pack("{s:s, s:s, s:s, s:o}", "env", e->name, "requestId", id, "errorType", type,
                     "errorMessage", gw_error_message(body, len)));
    gw_print_env_lines(e, ig_buf_cstr(&lines));
    ig_buf_free(&lines);
    return o;
}

gw_post_outcome gw_env_post_init_error(gw_env *e, const char *error_type, const char *body, size_t len)
{
    char type[64];
    gw_error_type_normalise(error_type, type, sizeof type);
    pthread_mutex_lock(&e->pool->mu);
    if (e->state != GW_ENV_STARTING) {
        pthread_mutex_unlock(&e->pool->mu);
        return (gw_post_outcome){403, "InvalidStateTransition", "State transition is not allowed: init has already finished"};
    }
    if (e->retired) { /* already being stopped: its failure fails nothing */
        pthread_mutex_unlock(&e->pool->mu);
        return (gw_post_outcome){202, NULL, NULL};
    }
    gw_init_failed_locked(e->pool, e, type, "error");
    pthread_mutex_unlock(&e->pool->mu);
    gw_log(IG_LOG_ERROR, "function init failed",
           json_pack("{s:s, s:s, s:o}", "env", e->name, "errorType", type, "errorMessage", gw_error_message(body, len)));
    return (gw_post_outcome){202, NULL, NULL};
}
